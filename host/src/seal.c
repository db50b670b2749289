/* seal.c - AES-256-GCM for values at rest (see seal.h), with libcrypto. */
#include "seal.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "util.h"

#define PREFIX "luong-sealed:1:"
#define NONCE_LEN 12
#define TAG_LEN 16

void seal_key_derive(const char *secret, unsigned char key[SEAL_KEY_LEN])
{
	SHA256((const unsigned char *)secret, strlen(secret), key);
}

/* The row a value belongs to, as additional authenticated data: both
 * names with their NUL, which neither can contain. */
static int add_row(EVP_CIPHER_CTX *c, const char *conn, const char *key)
{
	int n;

	return EVP_CipherUpdate(c, NULL, &n, (const void *)conn,
				(int)strlen(conn) + 1) == 1 &&
	       EVP_CipherUpdate(c, NULL, &n, (const void *)key,
				(int)strlen(key) + 1) == 1;
}

char *seal_value(const unsigned char k[SEAL_KEY_LEN], const char *conn,
		 const char *key, const char *plain)
{
	size_t len = strlen(plain), raw_len = NONCE_LEN + len + TAG_LEN;
	unsigned char *raw = xmalloc(raw_len);
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	char *out = NULL;
	int n, fin;

	if (!c || RAND_bytes(raw, NONCE_LEN) != 1 ||
	    EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, k, raw) != 1 ||
	    !add_row(c, conn, key) ||
	    EVP_EncryptUpdate(c, raw + NONCE_LEN, &n, (const void *)plain,
			      (int)len) != 1 ||
	    EVP_EncryptFinal_ex(c, raw + NONCE_LEN + n, &fin) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN,
				raw + NONCE_LEN + len) != 1)
		goto out;
	/* base64 of raw_len bytes: 4 per 3, and a NUL */
	out = xmalloc(sizeof(PREFIX) + 4 * ((raw_len + 2) / 3));
	memcpy(out, PREFIX, sizeof(PREFIX) - 1);
	EVP_EncodeBlock((unsigned char *)out + sizeof(PREFIX) - 1, raw,
			(int)raw_len);
out:
	EVP_CIPHER_CTX_free(c);
	free(raw);
	return out;
}

/* Decodes base64 text into *raw (owned); its length, or -1. */
static long unbase64(const char *text, unsigned char **raw)
{
	size_t len = strlen(text);
	long n;

	if (len % 4)
		return -1;
	*raw = xmalloc(len / 4 * 3 + 1);
	n = EVP_DecodeBlock(*raw, (const unsigned char *)text, (int)len);
	/* EVP_DecodeBlock counts the padding as zero bytes */
	if (n >= 0 && len && text[len - 1] == '=')
		n -= len > 1 && text[len - 2] == '=' ? 2 : 1;
	return n;
}

int seal_open(const unsigned char k[SEAL_KEY_LEN], const char *conn,
	      const char *key, const char *stored, char **plain)
{
	unsigned char *raw = NULL;
	EVP_CIPHER_CTX *c;
	long len;
	int n, fin, rc = -1;

	*plain = NULL;
	if (strncmp(stored, PREFIX, sizeof(PREFIX) - 1)) {
		*plain = xstrdup(stored);
		return 1;
	}
	len = unbase64(stored + sizeof(PREFIX) - 1, &raw);
	if (len < NONCE_LEN + TAG_LEN) {
		free(raw);
		return -1;
	}
	len -= NONCE_LEN + TAG_LEN;
	*plain = xmalloc((size_t)len + 1);
	c = EVP_CIPHER_CTX_new();
	if (c && EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, k, raw) == 1 &&
	    add_row(c, conn, key) &&
	    EVP_DecryptUpdate(c, (unsigned char *)*plain, &n, raw + NONCE_LEN,
			      (int)len) == 1 &&
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN,
				raw + NONCE_LEN + len) == 1 &&
	    EVP_DecryptFinal_ex(c, (unsigned char *)*plain + n, &fin) == 1) {
		(*plain)[len] = '\0';
		rc = 0;
	}
	EVP_CIPHER_CTX_free(c);
	free(raw);
	if (rc) {
		free(*plain);
		*plain = NULL;
	}
	return rc;
}

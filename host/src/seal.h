/*
 * seal.h - plugin state sealed at rest: AES-256-GCM under the host's key.
 *
 * A sealed value is text, so it fits the store's TEXT column:
 * "luong-sealed:1:" + base64(nonce[12] | ciphertext | tag[16]). The
 * connection and key it belongs to are authenticated with it, so a value
 * copied to another row does not open. Anything without the prefix is
 * plain text written by a release before 0.2 and is read as it is.
 */
#ifndef LUONG_SEAL_H
#define LUONG_SEAL_H

#define SEAL_KEY_LEN 32

/* The key for a secret text given in the settings (its SHA-256). */
void seal_key_derive(const char *secret, unsigned char key[SEAL_KEY_LEN]);

/* Seals `plain` for (conn, key). Owned; NULL if the crypto library
 * fails (no randomness). */
char *seal_value(const unsigned char k[SEAL_KEY_LEN], const char *conn,
		 const char *key, const char *plain);

/*
 * Opens a stored value of (conn, key). Returns 0 with *plain (owned) for
 * a sealed value, 1 with *plain a copy for plain text from an older
 * release, -1 (*plain NULL) when it does not open under this key: another
 * key sealed it, or it was altered.
 */
int seal_open(const unsigned char k[SEAL_KEY_LEN], const char *conn,
	      const char *key, const char *stored, char **plain);

#endif

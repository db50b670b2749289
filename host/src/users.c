/*
 * users.c - see users.h. Sessions live in memory only: a restart signs
 * everyone out, which is the safe side for a loopback console.
 */
#define _GNU_SOURCE /* vasprintf, strndup, open_memstream */
#include "users.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "util.h"

enum {
	PBKDF2_ITERATIONS = 600000, /* OWASP's figure for PBKDF2-SHA256 */
	SALT_LEN = 16,
	HASH_LEN = 32,
	SESSIONS_MAX = 1024,
};
#define SESSION_IDLE_MS ((int64_t)8 * 3600 * 1000)

static const char *const role_names[] = { "none", "viewer", "operator",
					  "admin" };

const char *role_name(enum role r)
{
	return (unsigned)r < ARRAY_SIZE(role_names) ? role_names[r] : "none";
}

enum role role_parse(const char *name)
{
	for (size_t i = ROLE_VIEWER; name && i < ARRAY_SIZE(role_names); i++)
		if (!strcmp(name, role_names[i]))
			return (enum role)i;
	return ROLE_NONE;
}

static void to_hex(const unsigned char *b, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static int random_hex(char *out, size_t bytes)
{
	unsigned char b[64];

	if (bytes > sizeof(b) || RAND_bytes(b, (int)bytes) != 1)
		return -1;
	to_hex(b, bytes, out);
	return 0;
}

static int derive(const char *password, const char *salt, int iterations,
		  char out[2 * HASH_LEN + 1])
{
	unsigned char h[HASH_LEN];

	if (PKCS5_PBKDF2_HMAC(password, (int)strlen(password),
			      (const unsigned char *)salt, (int)strlen(salt),
			      iterations, EVP_sha256(), HASH_LEN, h) != 1)
		return -1;
	to_hex(h, HASH_LEN, out);
	OPENSSL_cleanse(h, sizeof(h));
	return 0;
}

int users_hash(const char *password, int iterations, struct user_row *u)
{
	char salt[2 * SALT_LEN + 1], hash[2 * HASH_LEN + 1];

	if (iterations <= 0)
		iterations = PBKDF2_ITERATIONS;
	if (random_hex(salt, SALT_LEN) ||
	    derive(password, salt, iterations, hash))
		return -1;
	free(u->salt);
	free(u->hash);
	u->salt = xstrdup(salt);
	u->hash = xstrdup(hash);
	u->iterations = iterations;
	return 0;
}

bool users_verify(const struct user_row *u, const char *password)
{
	char hash[2 * HASH_LEN + 1];

	if (!u->hash || strlen(u->hash) != 2 * HASH_LEN || u->iterations < 1 ||
	    derive(password, u->salt, u->iterations, hash))
		return false;
	return CRYPTO_memcmp(hash, u->hash, 2 * HASH_LEN) == 0;
}

bool users_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n < 1 || n > 64)
		return false;
	return strspn(name, "abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-@") == n;
}

/* ---- sessions ------------------------------------------------------- */

struct session {
	struct session_info info;
	int64_t last_ms;
	struct session *next;
};

struct users {
	struct store *store;
	pthread_mutex_t kdf_mu; /* one hash at a time: a flood of sign-ins
				 * takes one core, not the pool's threads */
	pthread_mutex_t mu;
	struct session *list;
	size_t n;
};

struct users *users_new(struct store *s)
{
	struct users *u = xcalloc(1, sizeof(*u));

	u->store = s;
	pthread_mutex_init(&u->kdf_mu, NULL);
	pthread_mutex_init(&u->mu, NULL);
	return u;
}

static void session_free(struct session *s)
{
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}

void users_free(struct users *u)
{
	struct session *s, *next;

	if (!u)
		return;
	for (s = u->list; s; s = next) {
		next = s->next;
		session_free(s);
	}
	pthread_mutex_destroy(&u->mu);
	pthread_mutex_destroy(&u->kdf_mu);
	free(u);
}

/* Removes the sessions `drop` says (holds mu). */
static void sessions_drop(struct users *u,
			  bool (*drop)(const struct session *, const void *),
			  const void *arg)
{
	struct session **pp = &u->list;

	while (*pp) {
		struct session *s = *pp;

		if (drop(s, arg)) {
			*pp = s->next;
			session_free(s);
			u->n--;
		} else {
			pp = &s->next;
		}
	}
}

static bool is_idle(const struct session *s, const void *now)
{
	return *(const int64_t *)now - s->last_ms > SESSION_IDLE_MS;
}

static bool is_session(const struct session *s, const void *other)
{
	return s == other;
}

static bool has_token(const struct session *s, const void *token)
{
	return strlen(token) == 64 &&
	       CRYPTO_memcmp(s->info.token, token, 64) == 0;
}

static bool of_user(const struct session *s, const void *name)
{
	return !strcmp(s->info.name, name);
}

/* Makes room for one more session (holds mu). */
static void sessions_prune(struct users *u, int64_t now)
{
	struct session *oldest = NULL;

	sessions_drop(u, is_idle, &now);
	for (struct session *s = u->list; s; s = s->next)
		if (!oldest || s->last_ms < oldest->last_ms)
			oldest = s;
	if (u->n >= SESSIONS_MAX && oldest)
		sessions_drop(u, is_session, oldest);
}

int users_sign_in(struct users *u, const char *name, const char *password,
		  struct session_info *out)
{
	struct user_row row;
	struct session *s;
	int rc = store_user_get(u->store, name, &row);
	char dummy[2 * HASH_LEN + 1];
	bool ok;

	if (rc < 0)
		return rc;
	pthread_mutex_lock(&u->kdf_mu);
	if (rc) /* as slow as a known name: names cannot be told by time */
		derive(password, "0123456789abcdef", PBKDF2_ITERATIONS, dummy);
	ok = !rc && users_verify(&row, password) && role_parse(row.role);
	pthread_mutex_unlock(&u->kdf_mu);
	if (!ok) {
		user_row_free(&row);
		return 1;
	}
	s = xcalloc(1, sizeof(*s));
	if (random_hex(s->info.token, 32) || random_hex(s->info.csrf, 32)) {
		user_row_free(&row);
		session_free(s);
		return -1;
	}
	util_strlcpy(s->info.name, row.name, sizeof(s->info.name));
	s->info.role = role_parse(row.role);
	user_row_free(&row);
	s->last_ms = util_mono_ms();
	pthread_mutex_lock(&u->mu);
	sessions_prune(u, s->last_ms);
	s->next = u->list;
	u->list = s;
	u->n++;
	*out = s->info;
	pthread_mutex_unlock(&u->mu);
	return 0;
}

/* The session's user as the store has it now: a user removed or given
 * another role by `luong users` (straight to the store) counts at once. */
static int recheck(struct users *u, const char *token, struct session_info *out)
{
	struct user_row row;
	int rc = store_user_get(u->store, out->name, &row);

	if (rc == 0)
		out->role = role_parse(row.role);
	user_row_free(&row);
	if (rc == 1 || (rc == 0 && out->role == ROLE_NONE)) {
		users_sign_out(u, token);
		return -1;
	}
	return rc;
}

int users_session(struct users *u, const char *token, struct session_info *out)
{
	int64_t now = util_mono_ms();
	int rc = -1;

	if (!token || strlen(token) != 64)
		return -1;
	pthread_mutex_lock(&u->mu);
	sessions_drop(u, is_idle, &now);
	for (struct session *s = u->list; s; s = s->next)
		if (has_token(s, token)) {
			s->last_ms = now;
			*out = s->info;
			rc = 0;
			break;
		}
	pthread_mutex_unlock(&u->mu);
	return rc ? rc : recheck(u, token, out);
}

void users_sign_out(struct users *u, const char *token)
{
	if (!token)
		return;
	pthread_mutex_lock(&u->mu);
	sessions_drop(u, has_token, token);
	pthread_mutex_unlock(&u->mu);
}

void users_forget(struct users *u, const char *name)
{
	pthread_mutex_lock(&u->mu);
	sessions_drop(u, of_user, name);
	pthread_mutex_unlock(&u->mu);
}

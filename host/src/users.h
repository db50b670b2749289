/*
 * users.h - the console's people: password hashes (PBKDF2-HMAC-SHA256),
 * signed-in sessions (random tokens kept in memory, ended by sign-out,
 * idleness or a restart), the CSRF token of each session, and roles.
 */
#ifndef LUONG_USERS_H
#define LUONG_USERS_H

#include <stdbool.h>
#include <stddef.h>

#include "store_console.h"

enum role {
	ROLE_NONE,
	ROLE_VIEWER,   /* reads */
	ROLE_OPERATOR, /* push, retry, replay, switch modes */
	ROLE_ADMIN,    /* mapping tables, users, reload */
};
const char *role_name(enum role r);
/* ROLE_NONE for an unknown name. */
enum role role_parse(const char *name);

/* A new hash of password into u->salt, u->hash, u->iterations, with
 * that many iterations (0: the default, OWASP's 600,000). */
int users_hash(const char *password, int iterations, struct user_row *u);
/* Whether password is the one u was hashed from. */
bool users_verify(const struct user_row *u, const char *password);
/* A user name the console takes: 1-64 letters, digits, . _ - @ */
bool users_name_ok(const char *name);

struct users;
struct session_info {
	char token[65]; /* the cookie's value */
	char csrf[65];	/* sent back in X-CSRF-Token with every change */
	char name[72];
	enum role role;
};

struct users *users_new(struct store *s);
void users_free(struct users *u);
/* 0 and a new session; 1 wrong name or password; -1 store error. */
int users_sign_in(struct users *u, const char *name, const char *password,
		  struct session_info *out);
/* 0 and the live session of token (its idle time restarts) with the
 * user's role as stored now; else -1 (a removed user's session ends). */
int users_session(struct users *u, const char *token, struct session_info *out);
void users_sign_out(struct users *u, const char *token);
/* Ends every session of a user (removed, or given another role). */
void users_forget(struct users *u, const char *name);

#endif

/*
 * server_int.h - what server.c shares with the admin API's and the
 * console's files (admin_api.c, console.c, console_api.c); not for other
 * modules.
 */
#ifndef LUONG_SERVER_INT_H
#define LUONG_SERVER_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>
#include <microhttpd.h>

#include "users.h"

struct runtime;

struct server {
	struct runtime *rt;
	struct MHD_Daemon *d;
	struct server_pool *pool;
	unsigned port;
	struct users *users;	      /* the console's sign-in sessions */
	struct MHD_Daemon *console_d; /* console_listen's, or NULL */
};

enum { ANSWER_HEADERS_MAX = 8 };

/* An answer, made on a pool thread and queued on libmicrohttpd's. */
struct answer {
	unsigned status;
	char type[64];
	const char *allow; /* the Allow header of a 405 */
	char *body;
	size_t len;
	/* more headers: static names, owned values */
	const char *hname[ANSWER_HEADERS_MAX];
	char *hvalue[ANSWER_HEADERS_MAX];
	int n_headers;
};

/* One request: received, then served on a pool thread, then answered. */
struct req {
	struct server *s;
	struct MHD_Connection *conn;
	const char *method, *url;
	char *body;
	size_t len, cap;
	bool started, too_large, nul_in_uri, answered;
	struct answer ans;
	/* who asks the admin API: a signed-in user or the admin token */
	char who[72];
	enum role role;
	bool by_session;
};

/* The body (owned) becomes the answer's. */
void send_text(struct answer *a, unsigned status, const char *type, char *body,
	       size_t len);
/* Sends and frees a JSON value. */
void send_json(struct answer *a, unsigned status, cJSON *v);
void send_error(struct answer *a, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The answer of an engine call: its result, or its error (404 for an
 * unknown flow, else 500). */
void send_engine_result(struct answer *a, int rc, cJSON *res, const char *err);
/* One more header (value copied). */
void answer_header(struct answer *a, const char *name, const char *value);
/* The request's body as JSON ({} if none); NULL: answered 400. */
cJSON *req_json(struct req *rq);
/* A query argument, or NULL. */
const char *req_arg(const struct req *rq, const char *name);

/* admin_api.c: who asks the admin API (false: answered 401 or 403),
 * and its routes; `path` starts after "/api". */
bool admin_identify(struct server *s, struct req *rq, struct answer *a);
void admin_api(struct server *s, struct req *rq, const char *path);

/* console_api.c: the console's API routes (sign-in, pages, failed
 * documents, mapping tables, users, audit). True when path is one of
 * them: then answered. */
bool console_api(struct server *s, struct req *rq, const char *path);
/* Whether an unsigned request may reach path (signing in). */
bool console_api_open(const char *method, const char *path);
/* The role a route of the admin API needs. */
enum role api_role(const char *method, const char *path);
/* Records a change made through the API in the audit log. */
void console_audit(struct server *s, struct req *rq, const char *path,
		   const cJSON *body);

/* console.c: the console's files. True when url is one of them. */
bool console_file(const char *url);
void console_serve(struct req *rq);

#endif

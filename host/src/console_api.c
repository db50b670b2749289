/*
 * console_api.c - the admin API routes the console added: sign-in and
 * sessions, ledger pages, counts by the hour, failed documents grouped
 * by reason, mapping tables, users and the audit log. Who may call
 * what: api_role(); every change is written to the audit log.
 */
#define _GNU_SOURCE /* vasprintf, strndup, open_memstream */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "flow.h"
#include "i18n.h"
#include "log.h"
#include "mappings.h"
#include "runtime.h"
#include "server_int.h"
#include "store_console.h"
#include "util.h"

#define COOKIE "luong_session"

/* The last part of a per-flow path /flows/<id>/<what>, with the id. */
static bool per_flow(const char *path, char *flow, char *what)
{
	int n = 0;

	flow[0] = what[0] = '\0';
	return sscanf(path, "/flows/%255[^/]/%63[a-z_]%n", flow, what, &n) ==
		       2 &&
	       !path[n];
}

enum role api_role(const char *method, const char *path)
{
	char flow[256], what[64];
	static const char *const operator_acts[] = { "push", "retry", "replay",
						     "mode", "try" };

	if (!strcmp(path, "/session"))
		return strcmp(method, "POST") ? ROLE_VIEWER : ROLE_NONE;
	if (!strncmp(path, "/users", 6))
		return ROLE_ADMIN;
	if (!strcmp(method, "GET") || !strcmp(method, "HEAD"))
		return ROLE_VIEWER;
	if (!strcmp(path, "/failed/retry"))
		return ROLE_OPERATOR;
	if (per_flow(path, flow, what))
		for (size_t i = 0; i < ARRAY_SIZE(operator_acts); i++)
			if (!strcmp(what, operator_acts[i]))
				return ROLE_OPERATOR;
	return ROLE_ADMIN; /* reload, mapping tables, what comes later */
}

bool console_api_open(const char *method, const char *path)
{
	return !strcmp(method, "POST") && !strcmp(path, "/session");
}

void console_audit(struct server *s, struct req *rq, const char *path,
		   const cJSON *body)
{
	char flow[256], what[64], *detail = NULL;
	cJSON *copy;

	if (!strcmp(rq->method, "GET") || !strcmp(rq->method, "HEAD") ||
	    rq->ans.status >= 300 || !strcmp(path, "/session"))
		return;
	if (body && cJSON_GetArraySize(body)) {
		copy = cJSON_Duplicate(body, true);
		cJSON_DeleteItemFromObjectCaseSensitive(copy, "password");
		detail = cJSON_PrintUnformatted(copy);
		cJSON_Delete(copy);
	}
	per_flow(path, flow, what);
	if (store_audit_add(s->rt->store, rq->who[0] ? rq->who : "-",
			    flow[0] ? what : path, flow[0] ? flow : NULL,
			    detail))
		log_warn("audit: cannot record %s %s by %s", rq->method, path,
			 rq->who);
	free(detail);
}

/* ---- sessions ------------------------------------------------------- */

static cJSON *session_json(const char *name, enum role role, const char *csrf)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "name", name);
	cJSON_AddStringToObject(o, "role", role_name(role));
	if (csrf)
		cJSON_AddStringToObject(o, "csrf", csrf);
	else
		cJSON_AddNullToObject(o, "csrf");
	return o;
}

static void set_cookie(struct answer *a, const char *token, int max_age)
{
	char *c = xasprintf(COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict; "
				   "Max-Age=%d",
			    token, max_age);

	answer_header(a, "Set-Cookie", c);
	free(c);
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void sign_in(struct server *s, struct req *rq, const cJSON *body)
{
	const char *name = jstr(body, "name"), *pw = jstr(body, "password");
	struct session_info si;
	int rc;

	if (!name || !pw) {
		send_error(&rq->ans, 400,
			   _("$.name and $.password: expected "
			     "strings"));
		return;
	}
	rc = users_sign_in(s->users, name, pw, &si);
	if (rc < 0) {
		send_error(&rq->ans, 500, _("cannot read the users"));
	} else if (rc) {
		/* the log escapes what it is given */
		log_warn("console: sign-in refused for \"%.64s\"", name);
		send_error(&rq->ans, 401, _("wrong user name or password"));
	} else {
		set_cookie(&rq->ans, si.token, 8 * 3600);
		send_json(&rq->ans, 200,
			  session_json(si.name, si.role, si.csrf));
		store_audit_add(s->rt->store, si.name, "sign-in", NULL, NULL);
	}
}

static void session_api(struct server *s, struct req *rq, const cJSON *body)
{
	struct session_info si;
	const char *cookie =
		MHD_lookup_connection_value(rq->conn, MHD_COOKIE_KIND, COOKIE);

	if (!strcmp(rq->method, "POST")) {
		sign_in(s, rq, body);
	} else if (!strcmp(rq->method, "DELETE")) {
		users_sign_out(s->users, cookie);
		set_cookie(&rq->ans, "", 0);
		send_json(&rq->ans, 200, cJSON_CreateObject());
	} else if (!strcmp(rq->method, "GET")) {
		bool live =
			rq->by_session && !users_session(s->users, cookie, &si);

		send_json(&rq->ans, 200,
			  session_json(rq->who, rq->role,
				       live ? si.csrf : NULL));
	} else {
		send_error(&rq->ans, 405,
			   _("%s /api/session: use GET, POST "
			     "or DELETE"),
			   rq->method);
		rq->ans.allow = "GET, POST, DELETE";
	}
}

/* ---- ledger pages and hours -------------------------------------------- */

/* A day or time bound of ?from= / ?to=; a bare day ends at its end. */
static int day_bound(const char *v, bool end, int64_t *ms)
{
	*ms = 0;
	if (!v || !*v)
		return 0;
	if (util_parse_time(v, ms))
		return -1;
	if (end && strlen(v) == 10)
		*ms += 24 * 3600 * 1000;
	return 0;
}

static void page_api(struct server *s, struct req *rq, const char *flow)
{
	struct page_query q = { .flow = flow };
	const char *bt = req_arg(rq, "before_t"), *bs = req_arg(rq, "before");
	const char *lim = req_arg(rq, "limit");
	enum doc_status ds;
	cJSON *page;

	q.status = req_arg(rq, "status");
	q.prefix = req_arg(rq, "q");
	if (q.status && !*q.status)
		q.status = NULL;
	if (q.prefix && !*q.prefix)
		q.prefix = NULL;
	if (!engine_has_flow(s->rt->engine, flow)) {
		send_error(&rq->ans, 404, _("unknown flow \"%s\""), flow);
		return;
	}
	if (q.status && doc_status_parse(q.status, &ds)) {
		send_error(&rq->ans, 400,
			   _("?status=%s: expected pending, "
			     "syncing, synced, failed or skipped"),
			   q.status);
		return;
	}
	if (day_bound(req_arg(rq, "from"), false, &q.from_ms) ||
	    day_bound(req_arg(rq, "to"), true, &q.to_ms)) {
		send_error(&rq->ans, 400,
			   _("?from= or ?to=: expected a day "
			     "such as 2026-11-30"));
		return;
	}
	q.before_t = bt ? strtoll(bt, NULL, 10) : 0;
	q.before_seq = bs ? strtoll(bs, NULL, 10) : 0;
	q.limit = lim ? atoi(lim) : 50;
	page = store_docs_page(s->rt->store, &q);
	if (!page) {
		send_error(&rq->ans, 500, _("cannot read the ledger"));
		return;
	}
	cJSON_AddStringToObject(page, "flow", flow);
	send_json(&rq->ans, 200, page);
}

static void hourly_api(struct server *s, struct req *rq, const char *flow)
{
	cJSON *h = store_hourly(s->rt->store, flow, util_wall_ms());

	if (!h)
		send_error(&rq->ans, 500, _("cannot read the ledger"));
	else
		send_json(&rq->ans, 200, h);
}

/* ---- failed documents ---------------------------------------------------- */

static void failed_retry(struct server *s, struct req *rq, const cJSON *body)
{
	const char *flow = jstr(body, "flow");
	const cJSON *reason = cJSON_GetObjectItemCaseSensitive(body, "reason");
	char **ids, err[512];
	size_t n = 0;
	cJSON *res = NULL;
	int rc;

	if (!flow || !(cJSON_IsString(reason) || cJSON_IsNull(reason))) {
		send_error(&rq->ans, 400,
			   _("$.flow and $.reason: expected the "
			     "flow and the reason of a group (GET "
			     "/api/failed)"));
		return;
	}
	ids = store_failed_ids(
		s->rt->store, flow,
		cJSON_IsString(reason) ? reason->valuestring : NULL, -1, &n);
	if (!n) {
		send_error(&rq->ans, 404,
			   _("flow \"%s\" has no failed document "
			     "with that reason"),
			   flow);
		free(ids);
		return;
	}
	rc = engine_retry(s->rt->engine, flow, (const char *const *)ids, n,
			  false, &res, err, sizeof(err));
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	send_engine_result(&rq->ans, rc, res, err);
}

/* ---- mapping tables ------------------------------------------------------ */

static void mappings_api(struct server *s, struct req *rq, const char *name,
			 const cJSON *body)
{
	char err[512];
	cJSON *t, *errs, *o;

	if (!strcmp(rq->method, "GET")) {
		t = mappings_read(s->rt, err, sizeof(err));
		if (!t) {
			send_error(&rq->ans, 500, "%s", err);
			return;
		}
		o = cJSON_CreateObject();
		cJSON_AddItemToObject(o, "tables", t);
		send_json(&rq->ans, 200, o);
		return;
	}
	if (strcmp(rq->method, "PUT") || !name) {
		send_error(&rq->ans, 405,
			   _("%s /api/mappings: use GET, or PUT "
			     "/api/mappings/<table>"),
			   rq->method);
		rq->ans.allow = name ? "PUT" : "GET";
		return;
	}
	if (mappings_save(s->rt, name,
			  cJSON_GetObjectItemCaseSensitive(body, "entries"),
			  &errs)) {
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "error",
					"mapping table not saved; "
					"the one in use is unchanged");
		cJSON_AddItemToObject(o, "errors", errs);
		send_json(&rq->ans, 422, o);
		return;
	}
	cJSON_Delete(errs);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "table", name);
	cJSON_AddBoolToObject(o, "saved", true);
	send_json(&rq->ans, 200, o);
}

/* ---- users --------------------------------------------------------------- */

static void user_add(struct server *s, struct req *rq, const cJSON *body)
{
	const char *name = jstr(body, "name"), *role = jstr(body, "role");
	const char *pw = jstr(body, "password");
	struct user_row u = { 0 };
	cJSON *o;

	if (!users_name_ok(name)) {
		send_error(&rq->ans, 400,
			   _("$.name: 1 to 64 letters, digits, "
			     "or . _ - @"));
		return;
	}
	if (!role_parse(role)) {
		send_error(&rq->ans, 400,
			   _("$.role: expected viewer, operator "
			     "or admin"));
		return;
	}
	if (!pw || strlen(pw) < 8) {
		send_error(&rq->ans, 400,
			   _("$.password: at least 8 characters"));
		return;
	}
	u.name = xstrdup(name);
	u.role = xstrdup(role);
	if (users_hash(pw, 0, &u) || store_user_put(s->rt->store, &u)) {
		send_error(&rq->ans, 500, _("cannot store the user"));
	} else {
		users_forget(s->users, name); /* a new password or role */
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", name);
		cJSON_AddStringToObject(o, "role", role);
		send_json(&rq->ans, 200, o);
	}
	user_row_free(&u);
}

static void users_api(struct server *s, struct req *rq, const char *name,
		      const cJSON *body)
{
	cJSON *o;

	if (!strcmp(rq->method, "GET") && !name) {
		o = store_users(s->rt->store);
		if (o)
			send_json(&rq->ans, 200, o);
		else
			send_error(&rq->ans, 500, _("cannot read the users"));
	} else if (!strcmp(rq->method, "POST") && !name) {
		user_add(s, rq, body);
	} else if (!strcmp(rq->method, "DELETE") && name) {
		if (store_user_del(s->rt->store, name)) {
			send_error(&rq->ans, 500, _("cannot remove the user"));
			return;
		}
		users_forget(s->users, name);
		send_json(&rq->ans, 200, cJSON_CreateObject());
	} else {
		send_error(&rq->ans, 405,
			   _("%s /api/users: use GET or POST "
			     "/api/users, or DELETE /api/users/<name>"),
			   rq->method);
		rq->ans.allow = name ? "DELETE" : "GET, POST";
	}
}

static void audit_api(struct server *s, struct req *rq)
{
	const char *before = req_arg(rq, "before"), *lim = req_arg(rq, "limit");
	cJSON *a = store_audit(s->rt->store,
			       before ? strtoll(before, NULL, 10) : 0,
			       lim ? atoi(lim) : 100);

	if (a)
		send_json(&rq->ans, 200, a);
	else
		send_error(&rq->ans, 500, _("cannot read the audit log"));
}

static void failed_api(struct server *s, struct req *rq)
{
	cJSON *g = store_failed_groups(s->rt->store, 1000);

	if (g)
		send_json(&rq->ans, 200, g);
	else
		send_error(&rq->ans, 500, _("cannot read the ledger"));
}

/* ---- dispatch ------------------------------------------------------------ */

/* The part after prefix + "/", or NULL when path is prefix itself. */
static bool under(const char *path, const char *prefix, const char **rest)
{
	size_t n = strlen(prefix);

	if (strncmp(path, prefix, n) || (path[n] && path[n] != '/'))
		return false;
	*rest = path[n] && path[n + 1] ? path + n + 1 : NULL;
	return true;
}

static bool only_get(struct req *rq)
{
	if (!strcmp(rq->method, "GET"))
		return true;
	send_error(&rq->ans, 405, _("%s %s: method not allowed (use GET)"),
		   rq->method, rq->url);
	rq->ans.allow = "GET";
	return false;
}

static bool route(struct server *s, struct req *rq, const char *path,
		  const cJSON *body)
{
	char flow[256], what[64];
	const char *rest;

	if (!strcmp(path, "/session"))
		session_api(s, rq, body);
	else if (!strcmp(path, "/audit") && only_get(rq))
		audit_api(s, rq);
	else if (!strcmp(path, "/failed") && only_get(rq))
		failed_api(s, rq);
	else if (!strcmp(path, "/failed/retry"))
		failed_retry(s, rq, body);
	else if (under(path, "/mappings", &rest))
		mappings_api(s, rq, rest, body);
	else if (under(path, "/users", &rest))
		users_api(s, rq, rest, body);
	else if (per_flow(path, flow, what) && !strcmp(what, "page") &&
		 only_get(rq))
		page_api(s, rq, flow);
	else if (per_flow(path, flow, what) && !strcmp(what, "hourly") &&
		 only_get(rq))
		hourly_api(s, rq, flow);
	else
		return !!rq->ans.status; /* a refused method, or not ours */
	return true;
}

bool console_api(struct server *s, struct req *rq, const char *path)
{
	cJSON *body = req_json(rq);
	bool ours;

	if (!body)
		return true;
	ours = route(s, rq, path, body);
	if (ours)
		console_audit(s, rq, path, body);
	cJSON_Delete(body);
	return ours;
}

/* server.c - webhooks, admin API and metrics over libmicrohttpd. */
#define _GNU_SOURCE /* vasprintf, strndup, open_memstream */
#include <stddef.h>

#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/crypto.h>

#include "connect.h"
#include "engine.h"
#include "helpers.h"
#include "i18n.h"
#include "log.h"
#include "runtime.h"
#include "server_int.h"
#include "server_pool.h"
#include "store.h"
#include "util.h"

/*
 * The door's limits. They are constants until the settings file has keys
 * for them: a connection cap (also bounded by the descriptors the process
 * may open), a cap per client address, and idle connections closed.
 */
enum {
	SERVER_CONNECTIONS_MAX = 16384,
	SERVER_FD_RESERVE = 512, /* the store, plugins' HTTP, plugin files */
	SERVER_PER_CLIENT_MAX = 256, /* loopback clients share 127.0.0.1 */
	SERVER_IDLE_TIMEOUT_S = 30,
	SERVER_WORKERS_MAX = 256, /* requests served at once */
	SERVER_RETRY_AFTER_S = 5, /* told with every 503 */
};
#define SERVER_WORKER_STACK ((size_t)512 * 1024)

/* ---- answers ------------------------------------------------------------- */

void send_text(struct answer *a, unsigned status, const char *type, char *body,
	       size_t len)
{
	free(a->body);
	a->status = status;
	util_strlcpy(a->type, type, sizeof(a->type));
	a->body = body;
	a->len = len;
}

void send_json(struct answer *a, unsigned status, cJSON *v)
{
	char *text = cJSON_PrintUnformatted(v);

	cJSON_Delete(v);
	send_text(a, status, "application/json; charset=utf-8", text,
		  strlen(text));
}

void send_error(struct answer *a, unsigned status, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	cJSON *o = cJSON_CreateObject();

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* what is echoed was checked; a cut may have split a character */
	msg[util_utf8_invalid_at(msg, strlen(msg))] = '\0';
	cJSON_AddStringToObject(o, "error", msg);
	send_json(a, status, o);
}

void answer_header(struct answer *a, const char *name, const char *value)
{
	if (a->n_headers < ANSWER_HEADERS_MAX) {
		a->hname[a->n_headers] = name;
		a->hvalue[a->n_headers++] = xstrdup(value);
	}
}

const char *req_arg(const struct req *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND,
					   name);
}

static enum MHD_Result queue_answer(struct MHD_Connection *c, struct answer *a)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		a->len, a->body, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;
	char retry[16];

	a->body = NULL;
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, a->type);
	if (a->allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, a->allow);
	if (a->status == 503) {
		snprintf(retry, sizeof(retry), "%d", SERVER_RETRY_AFTER_S);
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, retry);
	}
	for (int i = 0; i < a->n_headers; i++) {
		MHD_add_response_header(r, a->hname[i], a->hvalue[i]);
		free(a->hvalue[i]);
	}
	a->n_headers = 0;
	ret = MHD_queue_response(c, a->status, r);
	MHD_destroy_response(r);
	return ret;
}

void send_engine_result(struct answer *a, int rc, cJSON *res, const char *err)
{
	if (rc)
		send_error(a, strstr(err, "unknown flow") ? 404 : 500, "%s",
			   err);
	else
		send_json(a, 200, res);
}

/* ---- webhooks ------------------------------------------------------------ */

struct hook_req {
	struct luong_webhook_request pub;
	struct MHD_Connection *conn;
};

static const char *hook_header(const struct luong_webhook_request *r,
			       const char *name)
{
	const struct hook_req *h = (const struct hook_req *)r;

	return MHD_lookup_connection_value(h->conn, MHD_HEADER_KIND, name);
}

static const char *hook_query(const struct luong_webhook_request *r,
			      const char *name)
{
	const struct hook_req *h = (const struct hook_req *)r;

	return MHD_lookup_connection_value(h->conn, MHD_GET_ARGUMENT_KIND,
					   name);
}

static unsigned status_for(enum luong_status st)
{
	switch (st) {
	case LUONG_E_INVAL: return 400;
	case LUONG_E_AUTH: return 401;
	case LUONG_E_NOTFOUND: return 404;
	case LUONG_E_TRANSIENT:
	case LUONG_E_TIMEOUT: return 503;
	default: return 500;
	}
}

/* A failed webhook's sender reads why: the plugin's log->fail reason, else
 * the status in words; the reason is logged with the connection. */
static void hook_default_body(struct luong_ctx *ctx, enum luong_status st,
			      struct luong_webhook_response *resp)
{
	const char *why = helpers_fail_reason();
	cJSON *o = cJSON_CreateObject();

	cJSON_AddBoolToObject(o, "ok", st == LUONG_OK);
	if (st != LUONG_OK) {
		if (!why)
			why = luong_status_text(st);
		cJSON_AddStringToObject(o, "error", why);
		log_msg(LUONG_LOG_WARN, ctx->where, "webhook refused: %s", why);
	}
	resp->body = cJSON_PrintUnformatted(o);
	resp->body_len = strlen(resp->body);
	cJSON_Delete(o);
}

/* `rest` is the path after "/hooks/": <connection>[/<plugin's path>]. */
static void handle_hook(struct server *s, struct req *rq, const char *rest)
{
	const char *slash = strchr(rest, '/');
	char *name =
		slash ? strndup(rest, (size_t)(slash - rest)) : xstrdup(rest);
	struct luong_ctx *ctx = loader_connection(s->rt, name);
	struct hook_req h = { 0 };
	struct luong_webhook_response resp = { 0 };
	struct emit_batch b;
	enum luong_status st;
	unsigned status;
	int rc;

	if (!ctx || !ctx->plugin->desc->webhook) {
		send_error(&rq->ans, 404,
			   _("no connection \"%s\" takes "
			     "webhooks here"),
			   name);
		free(name);
		return;
	}
	if (!ctx->ready) {
		char why[400];

		/* its init() is retried: the sender keeps the event */
		loader_conn_error(ctx, why, sizeof(why));
		send_error(&rq->ans, 503,
			   _("connection \"%s\" is not started "
			     "(%s); send it again later"),
			   name, *why ? why : "starting");
		free(name);
		return;
	}
	free(name);
	h.pub.struct_size = sizeof(h.pub);
	h.pub.method = rq->method;
	h.pub.path = slash ? slash : "/";
	h.pub.body = rq->body ? rq->body : "";
	h.pub.body_len = rq->len;
	h.pub.header = hook_header;
	h.pub.query = hook_query;
	h.conn = rq->conn;
	resp.struct_size = sizeof(resp);
	resp.status = 200;
	util_strlcpy(resp.content_type, "application/json",
		     sizeof(resp.content_type));
	engine_emit_begin(&b, ctx);
	conn_enter(ctx);
	helpers_fail_clear();
	st = ctx->plugin->desc->webhook(ctx, ctx->state, &h.pub, &resp);
	conn_leave(ctx);
	/* what was emitted is kept even if the plugin then failed */
	rc = engine_emit_commit(s->rt->engine, &b, NULL);
	engine_emit_end(&b);
	if (rc) {
		/* never 2xx: the sender must keep the event and send it again */
		free(resp.body);
		send_error(&rq->ans, 503,
			   _("cannot store the event now; send "
			     "it again later"));
		return;
	}
	if (st == LUONG_OK)
		status = resp.status;
	else
		status = resp.status >= 400 ? resp.status : status_for(st);
	if (!resp.body)
		hook_default_body(ctx, st, &resp);
	send_text(&rq->ans, status, resp.content_type, resp.body,
		  resp.body_len);
}

/* ---- admin API ----------------------------------------------------------- */

static bool authorized(struct server *s, struct MHD_Connection *c)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						    "Authorization");
	const char *tok = s->rt->conf.admin_token;
	size_t n = strlen(tok);

	if (!h || strncmp(h, "Bearer ", 7) || strlen(h + 7) != n)
		return false;
	return CRYPTO_memcmp(h + 7, tok, n) == 0;
}

/*
 * Who asks: the admin token (an admin), or a signed-in session of the
 * console, whose changes must carry its CSRF token. False: answered.
 */
static bool identify(struct server *s, struct req *rq, struct answer *a)
{
	struct session_info si;
	const char *cookie = MHD_lookup_connection_value(
		rq->conn, MHD_COOKIE_KIND, "luong_session");
	const char *csrf = MHD_lookup_connection_value(
		rq->conn, MHD_HEADER_KIND, "X-CSRF-Token");
	bool change = strcmp(rq->method, "GET") && strcmp(rq->method, "HEAD");

	if (authorized(s, rq->conn)) {
		util_strlcpy(rq->who, "admin-token", sizeof(rq->who));
		rq->role = ROLE_ADMIN;
		return true;
	}
	if (console_api_open(rq->method, rq->url + 4))
		return true; /* signing in */
	if (users_session(s->users, cookie, &si)) {
		send_error(a, 401,
			   _("missing or wrong admin token "
			     "(Authorization: Bearer ...), or not signed in"));
		return false;
	}
	if (change && (!csrf || strlen(csrf) != strlen(si.csrf) ||
		       CRYPTO_memcmp(csrf, si.csrf, strlen(si.csrf)))) {
		send_error(a, 403,
			   _("missing or wrong CSRF token (header "
			     "X-CSRF-Token, from GET /api/session)"));
		return false;
	}
	util_strlcpy(rq->who, si.name, sizeof(rq->who));
	rq->role = si.role;
	rq->by_session = true;
	return true;
}

/* The "documents" of a push or retry body: NULL ids means all. */
static int doc_list(const cJSON *body, const char ***ids, size_t *n, char *err,
		    size_t errlen)
{
	const cJSON *docs = cJSON_GetObjectItemCaseSensitive(body, "documents");
	const cJSON *all = cJSON_GetObjectItemCaseSensitive(body, "all");
	const cJSON *it;
	size_t i = 0;

	*ids = NULL;
	*n = 0;
	if (cJSON_IsTrue(all) && !docs)
		return 0;
	if (!cJSON_IsArray(docs) || !cJSON_GetArraySize(docs)) {
		snprintf(err, errlen,
			 _("$.documents: expected a non-empty array "
			   "of document ids, or {\"all\": true}"));
		return -1;
	}
	*ids = xcalloc((size_t)cJSON_GetArraySize(docs), sizeof(char *));
	cJSON_ArrayForEach (it, docs) {
		if (!cJSON_IsString(it)) {
			snprintf(err, errlen,
				 _("$.documents[%zu]: expected a "
				   "string"),
				 i);
			free(*ids);
			*ids = NULL;
			return -1;
		}
		(*ids)[i++] = it->valuestring;
	}
	*n = i;
	return 0;
}

static void api_requeue(struct server *s, struct req *rq, const char *flow,
			const cJSON *body, bool retry)
{
	const char **ids;
	size_t n;
	char err[512];
	cJSON *res = NULL;
	int rc;

	if (doc_list(body, &ids, &n, err, sizeof(err))) {
		send_error(&rq->ans, 400, "%s", err);
		return;
	}
	if (retry)
		rc = engine_retry(s->rt->engine, flow, ids, n,
				  cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
					  body, "ignore_warnings")),
				  &res, err, sizeof(err));
	else
		rc = engine_push(s->rt->engine, flow, ids, n, &res, err,
				 sizeof(err));
	free(ids);
	send_engine_result(&rq->ans, rc, res, err);
}

static void api_push(struct server *s, struct req *rq, const char *flow,
		     const cJSON *body)
{
	api_requeue(s, rq, flow, body, false);
}

static void api_retry(struct server *s, struct req *rq, const char *flow,
		      const cJSON *body)
{
	api_requeue(s, rq, flow, body, true);
}

/* A time bound of a replay: Unix ms, or a date and time (Vietnam time
 * unless an offset is given). */
static int time_bound(const cJSON *body, const char *name, int64_t def,
		      int64_t *ms, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, name);

	if (!v) {
		*ms = def;
		return 0;
	}
	if (cJSON_IsNumber(v) && v->valuedouble >= 0) {
		*ms = (int64_t)v->valuedouble;
		return 0;
	}
	if (cJSON_IsString(v) && !util_parse_time(v->valuestring, ms))
		return 0;
	snprintf(err, errlen,
		 _("$.%s: expected a time such as \"2026-11-30 "
		   "08:00\" (Vietnam time), \"2026-11-30T08:00:00+07:00\" or "
		   "Unix milliseconds"),
		 name);
	return -1;
}

static void api_replay(struct server *s, struct req *rq, const char *flow,
		       const cJSON *body)
{
	int64_t from, to;
	char err[512];
	cJSON *res = NULL;

	if (!cJSON_GetObjectItemCaseSensitive(body, "from")) {
		send_error(&rq->ans, 400,
			   _("$.from: missing: the start of the "
			     "time range whose events to give the flow again"));
		return;
	}
	if (time_bound(body, "from", 0, &from, err, sizeof(err)) ||
	    time_bound(body, "to", util_wall_ms(), &to, err, sizeof(err))) {
		send_error(&rq->ans, 400, "%s", err);
		return;
	}
	if (to < from) {
		send_error(&rq->ans, 400, _("$.to: before $.from"));
		return;
	}
	if (engine_replay(s->rt->engine, flow, from, to, &res, err,
			  sizeof(err)))
		send_error(&rq->ans,
			   strstr(err, "unknown flow") ? 404
			   : strstr(err, "disabled")   ? 409
						       : 500,
			   "%s", err);
	else
		send_json(&rq->ans, 200, res);
}

static void api_try(struct server *s, struct req *rq, const char *flow,
		    const cJSON *body)
{
	char err[512];
	cJSON *res = NULL;
	int rc = engine_try(s->rt->engine, flow, body, &res, err, sizeof(err));

	if (!rc)
		send_json(&rq->ans, 200, res);
	else
		send_error(&rq->ans,
			   rc == TRY_E_REQUEST	   ? 400
			   : rc == TRY_E_NOT_FOUND ? 404
			   : rc == TRY_E_CONFLICT  ? 409
						   : 500,
			   "%s", err);
}

static void api_codes(struct server *s, struct req *rq, const char *flow,
		      const cJSON *body)
{
	char err[1024];
	cJSON *res = NULL;

	(void)flow;
	if (engine_codes(s->rt->engine, body, &res, err, sizeof(err)))
		send_error(&rq->ans, 400, "%s", err);
	else
		send_json(&rq->ans, 200, res);
}

static void api_documents(struct server *s, struct req *rq, const char *flow,
			  const cJSON *body)
{
	struct MHD_Connection *c = rq->conn;
	const char *status =
		MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "status");
	const char *after =
		MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "after");
	const char *limit =
		MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit");
	enum doc_status ds;
	cJSON *arr, *o;

	if (!engine_has_flow(s->rt->engine, flow)) {
		send_error(&rq->ans, 404, _("unknown flow \"%s\""), flow);
		return;
	}
	if (status && doc_status_parse(status, &ds)) {
		send_error(&rq->ans, 400,
			   _("unknown status \"%s\" (expected "
			     "pending, syncing, synced, failed, skipped or "
			     "post_failed)"),
			   status);
		return;
	}
	arr = store_list_docs(s->rt->store, flow, status,
			      after ? strtoll(after, NULL, 10) : 0,
			      limit ? atoi(limit) : 100);
	if (!arr) {
		send_error(&rq->ans, 500, _("cannot read the ledger"));
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "flow", flow);
	cJSON_AddItemToObject(o, "documents", arr);
	send_json(&rq->ans, 200, o);
}

static cJSON *doc_json(struct server *s, const char *flow, const char *id,
		       struct doc_row *r)
{
	cJSON *o = cJSON_CreateObject(), *v;

	cJSON_AddStringToObject(o, "flow", r->flow_id);
	cJSON_AddStringToObject(o, "document", r->doc_id);
	cJSON_AddStringToObject(o, "connection", r->connection);
	cJSON_AddStringToObject(o, "event", r->event);
	cJSON_AddStringToObject(o, "status", doc_status_name(r->status));
	cJSON_AddNumberToObject(o, "attempts", r->attempts);
	cJSON_AddNumberToObject(o, "next_step", r->step);
	cJSON_AddNumberToObject(o, "version", r->version);
	cJSON_AddBoolToObject(o, "changed_after_sync", r->changed_after_sync);
	cJSON_AddBoolToObject(o, "waiting_for_callback", r->wait_key != NULL);
	if (r->renumber) { /* its number was taken: the suffix sent */
		char sfx[16];

		snprintf(sfx, sizeof(sfx), "-%u", r->renumber);
		cJSON_AddStringToObject(o, "number_suffix", sfx);
	}
	if (r->reason)
		cJSON_AddStringToObject(o, "reason", r->reason);
	v = r->target ? cJSON_Parse(r->target) : NULL;
	cJSON_AddItemToObject(o, "target", v ? v : cJSON_CreateNull());
	v = r->outputs ? cJSON_Parse(r->outputs) : NULL;
	cJSON_AddItemToObject(o, "outputs", v ? v : cJSON_CreateObject());
	v = cJSON_Parse(r->payload);
	cJSON_AddItemToObject(o, "payload", v ? v : cJSON_CreateNull());
	v = store_history(s->rt->store, flow, id);
	cJSON_AddItemToObject(o, "history", v ? v : cJSON_CreateArray());
	v = engine_step_inputs(s->rt->engine, flow, r);
	cJSON_AddItemToObject(o, "inputs", v ? v : cJSON_CreateObject());
	return o;
}

static void api_document(struct server *s, struct req *rq, const char *flow,
			 const cJSON *body)
{
	const char *id = MHD_lookup_connection_value(
		rq->conn, MHD_GET_ARGUMENT_KIND, "id");
	struct doc_row r;
	int rc;

	if (!id) {
		send_error(&rq->ans, 400, _("missing ?id=<document id>"));
		return;
	}
	rc = store_get_doc(s->rt->store, flow, id, &r);
	if (rc == 1) {
		send_error(&rq->ans, 404,
			   _("flow \"%s\" has no document "
			     "\"%s\""),
			   flow, id);
	} else if (rc) {
		send_error(&rq->ans, 500, _("cannot read the ledger"));
	} else {
		send_json(&rq->ans, 200, doc_json(s, flow, id, &r));
		doc_row_free(&r);
	}
}

/* How far a push or retry of many documents is. */
static void api_operation(struct server *s, struct req *rq, const char *flow,
			  const cJSON *body)
{
	const char *id = MHD_lookup_connection_value(
		rq->conn, MHD_GET_ARGUMENT_KIND, "id");
	cJSON *j;

	(void)body;
	if (!id) {
		send_error(&rq->ans, 400, _("missing ?id=<operation id>"));
		return;
	}
	j = engine_operation(s->rt->engine, id);
	if (!j || strcmp(cJSON_GetObjectItem(j, "flow")->valuestring, flow)) {
		cJSON_Delete(j);
		send_error(&rq->ans, 404,
			   _("flow \"%s\" has no operation \"%s\" "
			     "(operations are kept in memory, the last 32)"),
			   flow, id);
		return;
	}
	send_json(&rq->ans, 200, j);
}

static void api_mode(struct server *s, struct req *rq, const char *flow,
		     const cJSON *body)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(body, "mode");
	char err[256];
	cJSON *o;

	if (!cJSON_IsString(m)) {
		send_error(&rq->ans, 400,
			   _("$.mode: expected \"automatic\", "
			     "\"manual\" or \"disabled\""));
	} else if (engine_set_mode(s->rt->engine, flow, m->valuestring, err,
				   sizeof(err))) {
		send_error(&rq->ans, strstr(err, "unknown flow") ? 404 : 400,
			   "%s", err);
	} else {
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "flow", flow);
		cJSON_AddStringToObject(o, "mode", m->valuestring);
		send_json(&rq->ans, 200, o);
	}
}

static void api_flows(struct server *s, struct req *rq, const char *flow,
		      const cJSON *body)
{
	send_json(&rq->ans, 200, engine_flows_json(s->rt->engine));
}

static void api_reload(struct server *s, struct req *rq, const char *flow,
		       const cJSON *body)
{
	struct flow_errors errs = { 0 };
	cJSON *o = cJSON_CreateObject(), *arr;

	if (engine_reload(s->rt->engine, &errs)) {
		arr = cJSON_AddArrayToObject(o, "errors");
		for (size_t i = 0; i < errs.n; i++)
			cJSON_AddItemToArray(arr,
					     cJSON_CreateString(errs.msgs[i]));
		flow_errors_clear(&errs);
		cJSON_AddStringToObject(o, "error",
					"flows not reloaded; the "
					"running flows are unchanged");
		send_json(&rq->ans, 422, o);
		return;
	}
	cJSON_AddBoolToObject(o, "reloaded", true);
	cJSON_AddItemToObject(o, "flows", engine_flows_json(s->rt->engine));
	send_json(&rq->ans, 200, o);
}

static void api_plugins(struct server *s, struct req *rq, const char *flow,
			const cJSON *body)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *pl = cJSON_AddArrayToObject(o, "plugins");
	cJSON *cn = cJSON_AddArrayToObject(o, "connections");

	for (struct plugin *p = s->rt->plugins; p; p = p->next)
		cJSON_AddItemToArray(pl, plugin_describe(p));
	for (size_t i = 0; i < s->rt->n_conns; i++) {
		struct luong_ctx *ctx = s->rt->conns[i];
		cJSON *x = cJSON_CreateObject();

		cJSON_AddStringToObject(x, "name", ctx->name);
		cJSON_AddStringToObject(x, "plugin", ctx->plugin->desc->name);
		char why[400];

		loader_conn_error(ctx, why, sizeof(why));
		cJSON_AddBoolToObject(x, "ready", ctx->ready);
		if (*why)
			cJSON_AddStringToObject(x, "error", why);
		health_json(ctx, x);
		cJSON_AddItemToArray(cn, x);
	}
	send_json(&rq->ans, 200, o);
}

/* GET /links?connection=&kind=&id=&flow=&after=&limit=: record links,
 * by seq; `id` matches either side's id or code. */
static void api_links(struct server *s, struct req *rq, const char *flow,
		      const cJSON *body)
{
	struct MHD_Connection *c = rq->conn;
	struct link_query q = {
		.connection = MHD_lookup_connection_value(
			c, MHD_GET_ARGUMENT_KIND, "connection"),
		.kind = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
						    "kind"),
		.id = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
						  "id"),
		.flow = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
						    "flow"),
	};
	const char *after =
		MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "after");
	const char *limit =
		MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit");
	cJSON *arr, *o;

	q.after = after ? strtoll(after, NULL, 10) : 0;
	q.limit = limit ? atoi(limit) : 100;
	if (q.limit <= 0 || q.limit > 10000) {
		send_error(&rq->ans, 400,
			   _("limit: expected 1 to 10000, got "
			     "\"%s\""),
			   limit);
		return;
	}
	arr = store_links_list(s->rt->store, &q);
	if (!arr) {
		send_error(&rq->ans, 500, _("cannot read the record links"));
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "links", arr);
	send_json(&rq->ans, 200, o);
}

/*
 * The admin routes: `path` is the part after /api, or for per-flow routes
 * the part after /api/flows/<flow>/. One method per path.
 */
static const struct api_route {
	const char *method, *path;
	bool per_flow;
	void (*fn)(struct server *s, struct req *rq, const char *flow,
		   const cJSON *body);
} api_routes[] = {
	{ "GET", "/flows", false, api_flows },
	{ "POST", "/flows/reload", false, api_reload },
	{ "GET", "/plugins", false, api_plugins },
	{ "GET", "/links", false, api_links },
	{ "GET", "/connect", false, api_connect_state },
	{ "POST", "/connect/run", false, api_connect_run },
	{ "GET", "documents", true, api_documents },
	{ "GET", "document", true, api_document },
	{ "GET", "operation", true, api_operation },
	{ "POST", "push", true, api_push },
	{ "POST", "retry", true, api_retry },
	{ "POST", "replay", true, api_replay },
	{ "POST", "try", true, api_try },
	{ "PUT", "mode", true, api_mode },
	{ "POST", "/codes", false, api_codes },
};

cJSON *req_json(struct req *rq)
{
	cJSON *body;

	if (!rq->len)
		return cJSON_CreateObject();
	/* one JSON value and nothing after it */
	body = cJSON_ParseWithLengthOpts(rq->body, rq->len + 1, NULL, true);
	if (!body)
		send_error(&rq->ans, 400,
			   _("request body is not one JSON value "
			     "(or is nested too deep)"));
	return body;
}

/* The route for path (per-flow or not); flow[256] gets the flow's id. */
static const struct api_route *api_find(const char *path, char *flow)
{
	char what[64];
	int n = 0;
	bool per_flow;

	what[0] = flow[0] = '\0';
	per_flow = sscanf(path, "/flows/%255[^/]/%63[a-z]%n", flow, what, &n) ==
			   2 &&
		   !path[n];
	for (size_t i = 0; i < ARRAY_SIZE(api_routes); i++) {
		const struct api_route *r = &api_routes[i];

		if (r->per_flow ? per_flow && !strcmp(r->path, what)
				: !strcmp(r->path, path))
			return r;
	}
	return NULL;
}

/* Routes /api/...; `path` starts after "/api". Authorized already. */
static void handle_api(struct server *s, struct req *rq, const char *path)
{
	char flow[256];
	const struct api_route *r;
	cJSON *body = NULL;
	enum role need = api_role(rq->method, path);

	if (need > rq->role) {
		send_error(&rq->ans, 403,
			   _("%s (%s) may not %s %s: it needs "
			     "the role %s"),
			   rq->who[0] ? rq->who : "nobody", role_name(rq->role),
			   rq->method, path, role_name(need));
		return;
	}
	if (console_api(s, rq, path))
		return;
	r = api_find(path, flow);
	if (!r) {
		send_error(&rq->ans, 404, _("no such API path %s %s"),
			   rq->method, path);
		return;
	}
	if (strcmp(r->method, rq->method)) {
		send_error(&rq->ans, 405,
			   _("%s %s: method not allowed (use %s)"), rq->method,
			   path, r->method);
		rq->ans.allow = r->method;
		return;
	}
	body = req_json(rq);
	if (!body)
		return;
	r->fn(s, rq, flow, body);
	console_audit(s, rq, path, body);
	cJSON_Delete(body);
}

/* ---- dispatch ------------------------------------------------------------ */

/* On a pool thread: the answer, then the connection goes on. */
static void serve(void *arg)
{
	struct req *rq = arg;
	struct server *s = rq->s;

	if (!strncmp(rq->url, "/hooks/", 7)) {
		handle_hook(s, rq, rq->url + 7);
	} else if (!strncmp(rq->url, "/api/", 5)) {
		handle_api(s, rq, rq->url + 4);
	} else if (console_file(rq->url)) {
		console_serve(rq);
	} else {
		char *m = engine_metrics(s->rt->engine);

		send_text(&rq->ans, 200, "text/plain; version=0.0.4", m,
			  strlen(m));
	}
	rq->answered = true;
	MHD_resume_connection(rq->conn);
}

struct arg_scan {
	size_t n; /* arguments seen, counting from 1 */
	bool bad; /* the n-th is not UTF-8 (its name or value) */
};

static enum MHD_Result arg_utf8(void *cls, enum MHD_ValueKind kind,
				const char *key, const char *value)
{
	struct arg_scan *sc = cls;

	sc->n++;
	sc->bad = !util_utf8_valid(key, strlen(key)) ||
		  (value && !util_utf8_valid(value, strlen(value)));
	return sc->bad ? MHD_NO : MHD_YES;
}

/*
 * Refuses at the door what must never reach a plugin, the ledger, the log
 * or an answer: a path or query that hides a NUL or is not UTF-8.
 */
static bool uri_ok(struct req *rq, struct answer *a)
{
	struct arg_scan sc = { 0 };
	size_t at;

	if (rq->nul_in_uri) {
		send_error(a, 400,
			   _("the path or query holds an encoded NUL "
			     "(%%00)"));
		return false;
	}
	at = util_utf8_invalid_at(rq->url, strlen(rq->url));
	if (rq->url[at]) {
		send_error(a, 400,
			   _("the path is not valid UTF-8 (byte %zu of "
			     "the decoded path)"),
			   at);
		return false;
	}
	MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, arg_utf8,
				  &sc);
	if (sc.bad) {
		send_error(a, 400, _("query argument %zu is not valid UTF-8"),
			   sc.n);
		return false;
	}
	return true;
}

static bool body_ok(struct req *rq, struct answer *a)
{
	size_t at = util_utf8_invalid_at(rq->body ? rq->body : "", rq->len);

	if (at < rq->len) {
		send_error(a, 400,
			   _("the request body is not valid UTF-8 (byte "
			     "%zu)"),
			   at);
		return false;
	}
	return true;
}

/* What is answered at once on libmicrohttpd's thread; false: to serve. */
static bool answer_at_door(struct server *s, struct req *rq, struct answer *a)
{
	bool hook = !strncmp(rq->url, "/hooks/", 7);
	bool api = !strncmp(rq->url, "/api/", 5);
	bool health = !strcmp(rq->url, "/healthz");
	bool plain = health || !strcmp(rq->url, "/metrics");
	bool page = console_file(rq->url);
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(rq->conn, MHD_CONNECTION_INFO_DAEMON);

	/* with a console listener of its own, it serves the pages and the
	 * API they call, and the main one no longer serves the pages */
	if (s->console_d) {
		bool console = ci && ci->daemon == s->console_d;

		hook = hook && !console;
		plain = plain && !console;
		health = health && !console;
		page = page && console;
	}

	if (rq->too_large) {
		send_error(a, 413, _("request body over %zu bytes"),
			   s->rt->conf.webhook_body_limit);
	} else if (!uri_ok(rq, a)) {
		/* answered */
	} else if (!hook && !api && !plain && !page) {
		send_error(a, 404, _("nothing at %s"), rq->url);
	} else if ((plain || page) && strcmp(rq->method, "GET") &&
		   strcmp(rq->method, "HEAD")) {
		send_error(a, 405, _("%s %s: method not allowed (use GET)"),
			   rq->method, rq->url);
		a->allow = "GET, HEAD";
	} else if (api && !identify(s, rq, a)) {
		/* answered */
	} else if (!plain && !body_ok(rq, a)) {
		/* answered */
	} else if (health) {
		send_json(a, 200, cJSON_CreateString("ok"));
	} else {
		return false;
	}
	return true;
}

/* A request starts: its record, made while the raw URI can be seen. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct req *rq = xcalloc(1, sizeof(*rq));

	rq->s = cls;
	rq->conn = c;
	/* the decoded path would end at the NUL and hide the rest */
	rq->nul_in_uri = strstr(uri, "%00") != NULL;
	return rq;
}

static void receive(struct server *s, struct req *rq, const char *data,
		    size_t n)
{
	if (rq->too_large || rq->len + n > s->rt->conf.webhook_body_limit) {
		rq->too_large = true; /* read on and drop, then answer 413 */
		return;
	}
	if (rq->len + n + 1 > rq->cap) {
		rq->cap = (rq->len + n + 1) * 2;
		rq->body = xrealloc(rq->body, rq->cap);
	}
	memcpy(rq->body + rq->len, data, n);
	rq->len += n;
	rq->body[rq->len] = '\0';
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct server *s = cls;
	struct req *rq = *con_cls;
	struct answer a = { 0 };

	if (!rq->started) {
		rq->started = true;
		return MHD_YES;
	}
	if (*upload_size) {
		receive(s, rq, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (rq->answered)
		return queue_answer(c, &rq->ans);
	rq->method = method;
	rq->url = url;
	if (answer_at_door(s, rq, &a))
		return queue_answer(c, &a);
	/* the rest may wait on plugins or commits: off this thread */
	MHD_suspend_connection(c);
	if (!server_pool_run(s->pool, serve, rq)) {
		send_error(&rq->ans, 503, _("the host is stopping"));
		rq->answered = true;
		MHD_resume_connection(c);
	}
	return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct req *rq = *con_cls;

	if (rq) {
		for (int i = 0; i < rq->ans.n_headers; i++)
			free(rq->ans.hvalue[i]);
		free(rq->body);
		free(rq->ans.body);
		free(rq);
	}
	*con_cls = NULL;
}

/* libmicrohttpd's own complaints, as one escaped log line each. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	log_msg(LUONG_LOG_WARN, "http", "%s", msg);
}

static int write_port_file(const char *dir, unsigned port)
{
	char *path = util_path_join(dir, "port"), *tmp, buf[16];
	int fd, n, rc = -1;

	tmp = xasprintf("%s.tmp", path);
	n = snprintf(buf, sizeof(buf), "%u\n", port);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd >= 0 && write(fd, buf, (size_t)n) == n && !fsync(fd) &&
	    !close(fd))
		rc = rename(tmp, path);
	else if (fd >= 0)
		close(fd);
	free(tmp);
	free(path);
	return rc;
}

/* Connections allowed at once: the cap, within the descriptors we have. */
static unsigned connection_limit(void)
{
	long fds = util_raise_nofile();
	long n = fds - SERVER_FD_RESERVE;

	if (n > SERVER_CONNECTIONS_MAX)
		n = SERVER_CONNECTIONS_MAX;
	if (n < 64) {
		log_warn("http: only %ld file descriptors may be open; at most "
			 "64 connections are taken",
			 fds);
		n = 64;
	}
	return (unsigned)n;
}

static struct MHD_Daemon *start_daemon(struct server *s,
				       const struct sockaddr_in *addr)
{
	/* epoll: no limit on descriptor numbers, unlike select's 1,024;
	 * one event thread, requests served by the pool */
	return MHD_start_daemon(
		MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME |
			MHD_USE_ERROR_LOG,
		0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, addr,
		MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
		MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
		MHD_OPTION_CONNECTION_LIMIT, connection_limit(),
		MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		(unsigned)SERVER_PER_CLIENT_MAX, MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned)SERVER_IDLE_TIMEOUT_S,
		MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
		MHD_OPTION_END);
}

/* The console's own listener (console_listen). */
static int start_console(struct server *s, char *err, size_t errlen)
{
	const struct conf *c = &s->rt->conf;
	struct sockaddr_in addr = { 0 };

	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)c->console_port);
	if (inet_pton(AF_INET, c->console_host, &addr.sin_addr) != 1) {
		snprintf(err, errlen,
			 _("%s: $.console_listen: \"%s\" is not an "
			   "IPv4 address"),
			 c->file, c->console_host);
		return -1;
	}
	s->console_d = start_daemon(s, &addr);
	if (!s->console_d) {
		snprintf(err, errlen,
			 _("cannot listen on %s:%u for the console: "
			   "%s"),
			 c->console_host, c->console_port, strerror(errno));
		return -1;
	}
	return 0;
}

struct server *server_start(struct runtime *rt, char *err, size_t errlen)
{
	struct server *s = xcalloc(1, sizeof(*s));
	struct sockaddr_in addr = { 0 };
	const union MHD_DaemonInfo *info;

	s->rt = rt;
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)rt->conf.listen_port);
	if (inet_pton(AF_INET, rt->conf.listen_host, &addr.sin_addr) != 1) {
		snprintf(err, errlen,
			 _("%s: $.listen: \"%s\" is not an IPv4 "
			   "address"),
			 rt->conf.file, rt->conf.listen_host);
		free(s);
		return NULL;
	}
	s->pool = server_pool_new(SERVER_WORKERS_MAX, SERVER_WORKER_STACK);
	s->users = users_new(rt->store);
	s->d = start_daemon(s, &addr);
	if (!s->d) {
		snprintf(err, errlen, _("cannot listen on %s:%u: %s"),
			 rt->conf.listen_host, rt->conf.listen_port,
			 strerror(errno));
		users_free(s->users);
		server_pool_free(s->pool);
		free(s);
		return NULL;
	}
	if (rt->conf.console_host && start_console(s, err, errlen)) {
		server_stop(s);
		return NULL;
	}
	info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : rt->conf.listen_port;
	if (write_port_file(rt->conf.data_dir, s->port))
		log_warn("cannot write %s/port: %s", rt->conf.data_dir,
			 strerror(errno));
	return s;
}

unsigned server_port(const struct server *s)
{
	return s->port;
}

void server_stop(struct server *s)
{
	MHD_socket fd;

	if (!s)
		return;
	/* no new connections; requests being served end and resume their
	 * connections, which libmicrohttpd must not hold suspended at stop */
	fd = MHD_quiesce_daemon(s->d);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	if (s->console_d) {
		fd = MHD_quiesce_daemon(s->console_d);
		if (fd != MHD_INVALID_SOCKET)
			close(fd);
	}
	server_pool_drain(s->pool);
	MHD_stop_daemon(s->d);
	if (s->console_d)
		MHD_stop_daemon(s->console_d);
	server_pool_free(s->pool);
	users_free(s->users);
	free(s);
}

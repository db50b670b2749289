/*
 * admin_api.c - the admin API (/api/...): who asks (the admin token, or a
 * console session with its CSRF token), the role each route needs, and
 * the routes on flows, documents, links and plugins; the console's own
 * routes are console_api.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>
#include <openssl/crypto.h>

#include "connect.h"
#include "engine.h"
#include "i18n.h"
#include "runtime.h"
#include "server_int.h"
#include "store.h"
#include "util.h"

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
bool admin_identify(struct server *s, struct req *rq, struct answer *a)
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
void admin_api(struct server *s, struct req *rq, const char *path)
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

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

#include "engine.h"
#include "log.h"
#include "runtime.h"
#include "store.h"
#include "util.h"

struct server {
	struct runtime *rt;
	struct MHD_Daemon *d;
	unsigned port;
};

/* One request being received. */
struct req {
	char *body;
	size_t len, cap;
	bool too_large;
};

/* ---- responses ---------------------------------------------------------- */

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status,
				 const char *type, char *body, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		len, body, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* Sends and frees a JSON value. */
static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status,
				 cJSON *v)
{
	char *text = cJSON_PrintUnformatted(v);

	cJSON_Delete(v);
	return send_text(c, status, "application/json; charset=utf-8", text,
			 strlen(text));
}

static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status,
				  const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status,
				  const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	cJSON *o = cJSON_CreateObject();

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cJSON_AddStringToObject(o, "error", msg);
	return send_json(c, status, o);
}

/* ---- webhooks -------------------------------------------------------------- */

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
	case LUONG_E_INVAL:
		return 400;
	case LUONG_E_AUTH:
		return 401;
	case LUONG_E_NOTFOUND:
		return 404;
	case LUONG_E_TRANSIENT:
	case LUONG_E_TIMEOUT:
		return 503;
	default:
		return 500;
	}
}

static enum MHD_Result handle_hook(struct server *s, struct MHD_Connection *c,
				   const char *method, const char *rest,
				   struct req *rq)
{
	const char *slash = strchr(rest, '/');
	char *name = slash ? strndup(rest, (size_t)(slash - rest))
			   : xstrdup(rest);
	struct luong_ctx *ctx = loader_connection(s->rt, name);
	struct hook_req h = { 0 };
	struct luong_webhook_response resp = { 0 };
	struct emit_batch b;
	enum luong_status st;
	unsigned status;
	int rc;

	if (!ctx || !ctx->ready || !ctx->plugin->desc->webhook) {
		enum MHD_Result r = send_error(c, 404, "no connection \"%s\" "
					       "takes webhooks here", name);

		free(name);
		return r;
	}
	free(name);
	h.pub.struct_size = sizeof(h.pub);
	h.pub.method = method;
	h.pub.path = slash ? slash : "/";
	h.pub.body = rq->body ? rq->body : "";
	h.pub.body_len = rq->len;
	h.pub.header = hook_header;
	h.pub.query = hook_query;
	h.conn = c;
	resp.struct_size = sizeof(resp);
	resp.status = 200;
	util_strlcpy(resp.content_type, "application/json",
		     sizeof(resp.content_type));
	engine_emit_begin(&b, ctx);
	conn_enter(ctx);
	st = ctx->plugin->desc->webhook(ctx, ctx->state, &h.pub, &resp);
	conn_leave(ctx);
	/* what was emitted is kept even if the plugin then failed */
	rc = engine_emit_commit(s->rt->engine, &b, NULL);
	engine_emit_end(&b);
	if (rc) {
		free(resp.body);
		return send_error(c, 503, "cannot store the event; send it "
				  "again");
	}
	if (st == LUONG_OK)
		status = resp.status;
	else
		status = resp.status >= 400 ? resp.status : status_for(st);
	if (!resp.body) {
		resp.body = xstrdup(st == LUONG_OK ? "{\"ok\":true}"
				    : "{\"ok\":false}");
		resp.body_len = strlen(resp.body);
	}
	return send_text(c, status, resp.content_type, resp.body,
			 resp.body_len);
}

/* ---- admin API ---------------------------------------------------------------- */

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

/* The "documents" of a push or retry body: NULL ids means all. */
static int doc_list(const cJSON *body, const char ***ids, size_t *n,
		    char *err, size_t errlen)
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
		snprintf(err, errlen, "$.documents: expected a non-empty array "
			 "of document ids, or {\"all\": true}");
		return -1;
	}
	*ids = xcalloc((size_t)cJSON_GetArraySize(docs), sizeof(char *));
	cJSON_ArrayForEach(it, docs) {
		if (!cJSON_IsString(it)) {
			snprintf(err, errlen, "$.documents[%zu]: expected a "
				 "string", i);
			free(*ids);
			*ids = NULL;
			return -1;
		}
		(*ids)[i++] = it->valuestring;
	}
	*n = i;
	return 0;
}

static enum MHD_Result api_requeue(struct server *s, struct MHD_Connection *c,
				   const char *flow, const cJSON *body,
				   bool retry)
{
	const char **ids;
	size_t n;
	char err[512];
	cJSON *res = NULL;
	int rc;

	if (doc_list(body, &ids, &n, err, sizeof(err)))
		return send_error(c, 400, "%s", err);
	if (retry)
		rc = engine_retry(s->rt->engine, flow, ids, n,
				  cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
					  body, "ignore_warnings")),
				  &res, err, sizeof(err));
	else
		rc = engine_push(s->rt->engine, flow, ids, n, &res, err,
				 sizeof(err));
	free(ids);
	if (rc)
		return send_error(c, strstr(err, "unknown flow") ? 404 : 500,
				  "%s", err);
	return send_json(c, 200, res);
}

static enum MHD_Result api_documents(struct server *s,
				     struct MHD_Connection *c, const char *flow)
{
	const char *status = MHD_lookup_connection_value(
		c, MHD_GET_ARGUMENT_KIND, "status");
	const char *after = MHD_lookup_connection_value(
		c, MHD_GET_ARGUMENT_KIND, "after");
	const char *limit = MHD_lookup_connection_value(
		c, MHD_GET_ARGUMENT_KIND, "limit");
	enum doc_status ds;
	cJSON *arr, *o;

	if (!engine_has_flow(s->rt->engine, flow))
		return send_error(c, 404, "unknown flow \"%s\"", flow);
	if (status && doc_status_parse(status, &ds))
		return send_error(c, 400, "unknown status \"%s\" (expected "
				  "pending, syncing, synced, failed or "
				  "skipped)", status);
	arr = store_list_docs(s->rt->store, flow, status,
			      after ? strtoll(after, NULL, 10) : 0,
			      limit ? atoi(limit) : 100);
	if (!arr)
		return send_error(c, 500, "cannot read the ledger");
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "flow", flow);
	cJSON_AddItemToObject(o, "documents", arr);
	return send_json(c, 200, o);
}

static enum MHD_Result api_document(struct server *s, struct MHD_Connection *c,
				    const char *flow)
{
	const char *id = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
						     "id");
	struct doc_row r;
	cJSON *o, *v;
	int rc;

	if (!id)
		return send_error(c, 400, "missing ?id=<document id>");
	rc = store_get_doc(s->rt->store, flow, id, &r);
	if (rc)
		return rc == 1 ? send_error(c, 404, "flow \"%s\" has no "
					    "document \"%s\"", flow, id)
			       : send_error(c, 500, "cannot read the ledger");
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "flow", r.flow_id);
	cJSON_AddStringToObject(o, "document", r.doc_id);
	cJSON_AddStringToObject(o, "connection", r.connection);
	cJSON_AddStringToObject(o, "event", r.event);
	cJSON_AddStringToObject(o, "status", doc_status_name(r.status));
	cJSON_AddNumberToObject(o, "attempts", r.attempts);
	cJSON_AddNumberToObject(o, "next_step", r.step);
	cJSON_AddBoolToObject(o, "changed_after_sync", r.changed_after_sync);
	cJSON_AddBoolToObject(o, "waiting_for_callback", r.wait_key != NULL);
	if (r.reason)
		cJSON_AddStringToObject(o, "reason", r.reason);
	v = r.target ? cJSON_Parse(r.target) : NULL;
	cJSON_AddItemToObject(o, "target", v ? v : cJSON_CreateNull());
	v = r.outputs ? cJSON_Parse(r.outputs) : NULL;
	cJSON_AddItemToObject(o, "outputs", v ? v : cJSON_CreateObject());
	v = cJSON_Parse(r.payload);
	cJSON_AddItemToObject(o, "payload", v ? v : cJSON_CreateNull());
	v = store_history(s->rt->store, flow, id);
	cJSON_AddItemToObject(o, "history", v ? v : cJSON_CreateArray());
	doc_row_free(&r);
	return send_json(c, 200, o);
}

static enum MHD_Result api_reload(struct server *s, struct MHD_Connection *c)
{
	struct flow_errors errs = { 0 };
	cJSON *o = cJSON_CreateObject(), *arr;

	if (engine_reload(s->rt->engine, &errs)) {
		arr = cJSON_AddArrayToObject(o, "errors");
		for (size_t i = 0; i < errs.n; i++)
			cJSON_AddItemToArray(arr,
					     cJSON_CreateString(errs.msgs[i]));
		flow_errors_clear(&errs);
		cJSON_AddStringToObject(o, "error", "flows not reloaded; the "
					"running flows are unchanged");
		return send_json(c, 422, o);
	}
	cJSON_AddBoolToObject(o, "reloaded", true);
	cJSON_AddItemToObject(o, "flows", engine_flows_json(s->rt->engine));
	return send_json(c, 200, o);
}

static enum MHD_Result api_plugins(struct server *s, struct MHD_Connection *c)
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
		cJSON_AddBoolToObject(x, "ready", ctx->ready);
		if (ctx->error)
			cJSON_AddStringToObject(x, "error", ctx->error);
		cJSON_AddItemToArray(cn, x);
	}
	return send_json(c, 200, o);
}

/* Routes /api/...; `path` starts after "/api". */
static enum MHD_Result handle_api(struct server *s, struct MHD_Connection *c,
				  const char *method, const char *path,
				  struct req *rq)
{
	char flow[256], what[64];
	cJSON *body = NULL;
	enum MHD_Result r;
	int n = 0;

	if (!authorized(s, c))
		return send_error(c, 401, "missing or wrong admin token "
				  "(Authorization: Bearer ...)");
	if (!strcmp(path, "/flows") && !strcmp(method, "GET"))
		return send_json(c, 200, engine_flows_json(s->rt->engine));
	if (!strcmp(path, "/flows/reload") && !strcmp(method, "POST"))
		return api_reload(s, c);
	if (!strcmp(path, "/plugins") && !strcmp(method, "GET"))
		return api_plugins(s, c);
	flow[0] = what[0] = '\0';
	if (sscanf(path, "/flows/%255[^/]/%63[a-z]%n", flow, what, &n) != 2 ||
	    path[n])
		return send_error(c, 404, "no such API path %s %s", method,
				  path);
	if (rq->len) {
		body = cJSON_ParseWithLength(rq->body, rq->len);
		if (!body)
			return send_error(c, 400, "request body is not JSON");
	} else {
		body = cJSON_CreateObject();
	}
	if (!strcmp(what, "documents") && !strcmp(method, "GET")) {
		r = api_documents(s, c, flow);
	} else if (!strcmp(what, "document") && !strcmp(method, "GET")) {
		r = api_document(s, c, flow);
	} else if (!strcmp(what, "push") && !strcmp(method, "POST")) {
		r = api_requeue(s, c, flow, body, false);
	} else if (!strcmp(what, "retry") && !strcmp(method, "POST")) {
		r = api_requeue(s, c, flow, body, true);
	} else if (!strcmp(what, "mode") && !strcmp(method, "PUT")) {
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(body, "mode");
		char err[256];

		if (!cJSON_IsString(m))
			r = send_error(c, 400, "$.mode: expected \"automatic\","
				       " \"manual\" or \"disabled\"");
		else if (engine_set_mode(s->rt->engine, flow, m->valuestring,
					 err, sizeof(err)))
			r = send_error(c, strstr(err, "unknown flow") ? 404
				       : 400, "%s", err);
		else {
			cJSON *o = cJSON_CreateObject();

			cJSON_AddStringToObject(o, "flow", flow);
			cJSON_AddStringToObject(o, "mode", m->valuestring);
			r = send_json(c, 200, o);
		}
	} else {
		r = send_error(c, 404, "no such API path %s %s", method, path);
	}
	cJSON_Delete(body);
	return r;
}

/* ---- dispatch --------------------------------------------------------------------- */

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct server *s = cls;
	struct req *rq = *con_cls;

	if (!rq) {
		*con_cls = xcalloc(1, sizeof(struct req));
		return MHD_YES;
	}
	if (*upload_size) {
		size_t n = *upload_size;

		*upload_size = 0;
		if (rq->too_large || rq->len + n > s->rt->conf.webhook_body_limit) {
			rq->too_large = true;
			return MHD_YES;
		}
		if (rq->len + n + 1 > rq->cap) {
			rq->cap = (rq->len + n + 1) * 2;
			rq->body = xrealloc(rq->body, rq->cap);
		}
		memcpy(rq->body + rq->len, upload, n);
		rq->len += n;
		rq->body[rq->len] = '\0';
		return MHD_YES;
	}
	if (rq->too_large)
		return send_error(c, 413, "request body over %zu bytes",
				  s->rt->conf.webhook_body_limit);
	if (!strncmp(url, "/hooks/", 7))
		return handle_hook(s, c, method, url + 7, rq);
	if (!strncmp(url, "/api/", 5))
		return handle_api(s, c, method, url + 4, rq);
	if (!strcmp(url, "/metrics")) {
		char *m = engine_metrics(s->rt->engine);

		return send_text(c, 200, "text/plain; version=0.0.4", m,
				 strlen(m));
	}
	if (!strcmp(url, "/healthz"))
		return send_json(c, 200, cJSON_CreateString("ok"));
	return send_error(c, 404, "nothing at %s", url);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct req *rq = *con_cls;

	if (rq) {
		free(rq->body);
		free(rq);
	}
	*con_cls = NULL;
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

struct server *server_start(struct runtime *rt, char *err, size_t errlen)
{
	struct server *s = xcalloc(1, sizeof(*s));
	struct sockaddr_in addr = { 0 };
	const union MHD_DaemonInfo *info;

	s->rt = rt;
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)rt->conf.listen_port);
	if (inet_pton(AF_INET, rt->conf.listen_host, &addr.sin_addr) != 1) {
		snprintf(err, errlen, "%s: $.listen: \"%s\" is not an IPv4 "
			 "address", rt->conf.file, rt->conf.listen_host);
		free(s);
		return NULL;
	}
	s->d = MHD_start_daemon(
		MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
			MHD_USE_ERROR_LOG,
		0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, &addr,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)1024,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
		MHD_OPTION_THREAD_STACK_SIZE, (size_t)(256 * 1024),
		MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
		MHD_OPTION_END);
	if (!s->d) {
		snprintf(err, errlen, "cannot listen on %s:%u: %s",
			 rt->conf.listen_host, rt->conf.listen_port,
			 strerror(errno));
		free(s);
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
	if (!s)
		return;
	MHD_stop_daemon(s->d);
	free(s);
}

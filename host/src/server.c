/* server.c - the HTTP door over libmicrohttpd: its limits, answers,
 * webhooks, metrics and health; the admin API's routes are admin_api.c. */
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

/* ---- dispatch ------------------------------------------------------------ */

/* On a pool thread: the answer, then the connection goes on. */
static void serve(void *arg)
{
	struct req *rq = arg;
	struct server *s = rq->s;

	if (!strncmp(rq->url, "/hooks/", 7)) {
		handle_hook(s, rq, rq->url + 7);
	} else if (!strncmp(rq->url, "/api/", 5)) {
		admin_api(s, rq, rq->url + 4);
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
	} else if (api && !admin_identify(s, rq, a)) {
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

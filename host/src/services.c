/*
 * services.c - the tables of struct luong_host: what plugins may call.
 *
 * HTTP: each thread that calls a plugin gets its own curl easy handle,
 * and all handles share one connection cache (CURLSH), so keep-alive
 * connections are reused across workers while no socket is ever handed
 * to a plugin.
 */
#define _GNU_SOURCE /* vasprintf, strndup, open_memstream */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "engine.h"
#include "helpers.h"
#include "i18n.h"
#include "log.h"
#include "ratelimit.h"
#include "runtime.h"
#include "seal.h"
#include "store.h"
#include "util.h"

/* ---- memory ------------------------------------------------------------ */

static void *mem_alloc(size_t n)
{
	return malloc(n ? n : 1);
}

static char *mem_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

static const struct luong_mem_api mem_api = {
	.struct_size = sizeof(struct luong_mem_api),
	.alloc = mem_alloc,
	.free = free,
	.strdup = mem_strdup,
};

/* ---- log ------------------------------------------------------------------ */

static void plugin_log(struct luong_ctx *ctx, int level, const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	log_vmsg(level, ctx ? ctx->where : "[plugin]", fmt, ap);
	va_end(ap);
}

static bool plugin_log_enabled(struct luong_ctx *ctx, int level)
{
	return log_enabled(level);
}

static const struct luong_log_api log_api = {
	.struct_size = sizeof(struct luong_log_api),
	.log = plugin_log,
	.enabled = plugin_log_enabled,
	.fail = helpers_fail,
};

/* ---- config ------------------------------------------------------------------ */

static const char *cfg_get(struct luong_ctx *ctx, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(ctx->values, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int64_t cfg_get_int(struct luong_ctx *ctx, const char *key)
{
	const char *v = cfg_get(ctx, key);

	return v ? strtoll(v, NULL, 10) : 0;
}

static bool cfg_get_bool(struct luong_ctx *ctx, const char *key)
{
	const char *v = cfg_get(ctx, key);

	return v && !strcmp(v, "true");
}

static const char *cfg_connection(struct luong_ctx *ctx)
{
	return ctx->name;
}

static const struct luong_config_api config_api = {
	.struct_size = sizeof(struct luong_config_api),
	.get = cfg_get,
	.get_int = cfg_get_int,
	.get_bool = cfg_get_bool,
	.connection = cfg_connection,
};

/* ---- HTTP ------------------------------------------------------------------ */

static CURLSH *share;
static pthread_mutex_t share_mu[CURL_LOCK_DATA_LAST];
static pthread_key_t easy_key;
static pthread_once_t http_once = PTHREAD_ONCE_INIT;

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access a,
		       void *ud)
{
	pthread_mutex_lock(&share_mu[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *ud)
{
	pthread_mutex_unlock(&share_mu[data]);
}

static void easy_free(void *h)
{
	curl_easy_cleanup(h);
}

static void http_setup(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&share_mu[i], NULL);
	share = curl_share_init();
	curl_share_setopt(share, CURLSHOPT_LOCKFUNC, share_lock);
	curl_share_setopt(share, CURLSHOPT_UNLOCKFUNC, share_unlock);
	curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
	curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	pthread_key_create(&easy_key, easy_free);
}

static CURL *thread_easy(void)
{
	CURL *h;

	pthread_once(&http_once, http_setup);
	h = pthread_getspecific(easy_key);
	if (!h) {
		h = curl_easy_init();
		if (!h)
			return NULL;
		curl_easy_setopt(h, CURLOPT_SHARE, share);
		pthread_setspecific(easy_key, h);
	}
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_SHARE, share);
	return h;
}

struct body_buf {
	char *data;
	size_t len, cap;
};

static size_t on_body(char *ptr, size_t size, size_t n, void *ud)
{
	struct body_buf *b = ud;
	size_t add = size * n;

	if (b->len + add + 1 > b->cap) {
		b->cap = (b->len + add + 1) * 2;
		b->data = xrealloc(b->data, b->cap);
	}
	memcpy(b->data + b->len, ptr, add);
	b->len += add;
	b->data[b->len] = '\0';
	return add;
}

struct header_list {
	struct luong_http_header *h;
	size_t n, cap;
};

static size_t on_header(char *ptr, size_t size, size_t n, void *ud)
{
	struct header_list *hl = ud;
	size_t len = size * n;
	char *colon = memchr(ptr, ':', len);
	size_t nl, vs, ve;

	if (len > 5 && !strncmp(ptr, "HTTP/", 5)) {
		/* a new response (after a redirect or 100): start over */
		for (size_t i = 0; i < hl->n; i++) {
			free((char *)hl->h[i].name);
			free((char *)hl->h[i].value);
		}
		hl->n = 0;
		return len;
	}
	if (!colon)
		return len;
	nl = (size_t)(colon - ptr);
	vs = nl + 1;
	while (vs < len && isspace((unsigned char)ptr[vs]))
		vs++;
	ve = len;
	while (ve > vs && isspace((unsigned char)ptr[ve - 1]))
		ve--;
	if (hl->n == hl->cap) {
		hl->cap = hl->cap ? hl->cap * 2 : 16;
		hl->h = xrealloc(hl->h, hl->cap * sizeof(*hl->h));
	}
	hl->h[hl->n].name = strndup(ptr, nl);
	hl->h[hl->n].value = strndup(ptr + vs, ve - vs);
	hl->n++;
	return len;
}

/* ---- HTTP: the connection's rate limit ---------------------------------- */

static const char *http_response_header(const struct luong_http_response *r,
					const char *name);

/* Waits until the connection's limit lets one more request go (a short
 * wait: the scheduler hands out documents only while there is room).
 * False, without waiting, while the target's 429 holds the connection or
 * when the room is further away than the request would wait for an
 * answer: the call is then retried later, as if the target had refused
 * it, and the worker goes on with other documents. */
static bool http_pace(struct luong_ctx *ctx, uint32_t timeout_ms,
		      struct luong_http_response *resp)
{
	uintptr_t me = rl_self();
	int64_t now, at, held;

	if (!ctx || !ctx->rl)
		return true;
	while ((at = rl_take(ctx->rl, now = util_wall_ms(), me)) > 0) {
		struct timespec ts;

		held = rl_paused_until(ctx->rl, now);
		if (held || at - now > (int64_t)timeout_ms) {
			snprintf(resp->error, sizeof(resp->error),
				 "connection %s waits %lld ms before its next "
				 "call%s",
				 ctx->name,
				 (long long)((held ? held : at) - now),
				 held ? ": its target refused a call for load "
					"(HTTP 429)"
				      : " (rate limit)");
			return false;
		}
		ts.tv_sec = (time_t)((at - now) / 1000);
		ts.tv_nsec = (long)((at - now) % 1000) * 1000000;
		nanosleep(&ts, NULL);
	}
	return true;
}

/* What the answer says of the target's load: its reported use, and a
 * 429, which holds every call of the connection until Retry-After. */
static void http_learn(struct luong_ctx *ctx,
		       const struct luong_http_response *resp)
{
	int64_t now = util_wall_ms(), wait;
	const char *v;

	if (!ctx || !ctx->rl)
		return;
	if (ctx->usage_header &&
	    (v = http_response_header(resp, ctx->usage_header)))
		rl_report(ctx->rl, now, v);
	if (resp->status != 429)
		return;
	wait = rl_retry_after_ms(http_response_header(resp, "Retry-After"),
				 now);
	if (wait < 0)
		wait = 1000; /* none given: a second */
	rl_pause(ctx->rl, now, now + wait);
	log_msg(LUONG_LOG_WARN, ctx->where,
		"the target refused a call for "
		"load (HTTP 429); every call of connection %s waits %lld ms",
		ctx->name, (long long)wait);
}

static enum luong_status http_request(struct luong_ctx *ctx,
				      const struct luong_http_request *req,
				      struct luong_http_response *resp)
{
	struct body_buf body = { 0 };
	struct header_list hl = { 0 };
	struct curl_slist *hdrs = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	CURL *h = thread_easy();
	CURLcode rc;
	uint32_t size = resp->struct_size;
	uint32_t timeout_ms = req->timeout_ms ? req->timeout_ms : 30000;

	memset(resp, 0, size < sizeof(*resp) ? size : sizeof(*resp));
	resp->struct_size = size;
	if (!http_pace(ctx, timeout_ms, resp)) {
		resp->body = xstrdup("");
		return LUONG_E_TRANSIENT;
	}
	if (!h) {
		util_strlcpy(resp->error, "cannot make an HTTP handle",
			     sizeof(resp->error));
		return LUONG_E_NOMEM;
	}
	for (size_t i = 0; i < req->n_headers; i++) {
		char *line = xasprintf("%s: %s", req->headers[i].name,
				       req->headers[i].value);

		hdrs = curl_slist_append(hdrs, line);
		free(line);
	}
	/* no "Expect: 100-continue" round trip for larger bodies */
	hdrs = curl_slist_append(hdrs, "Expect:");
	curl_easy_setopt(h, CURLOPT_URL, req->url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
	if (req->body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)req->body_len);
	} else if (!strcmp(req->method, "GET")) {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &hl);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "luong/" LUONG_VERSION);
	rc = curl_easy_perform(h);
	curl_slist_free_all(hdrs);
	resp->headers = hl.h;
	resp->n_headers = hl.n;
	resp->body = body.data ? body.data : xstrdup("");
	resp->body_len = body.len;
	if (rc != CURLE_OK) {
		snprintf(resp->error, sizeof(resp->error), "%s %s: %s",
			 req->method, req->url,
			 *errbuf ? errbuf : curl_easy_strerror(rc));
		return rc == CURLE_OPERATION_TIMEDOUT ? LUONG_E_TIMEOUT
						      : LUONG_E_TRANSIENT;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
	http_learn(ctx, resp);
	return LUONG_OK;
}

static void http_response_free(struct luong_http_response *resp)
{
	for (size_t i = 0; i < resp->n_headers; i++) {
		free((char *)resp->headers[i].name);
		free((char *)resp->headers[i].value);
	}
	free(resp->headers);
	free(resp->body);
	resp->headers = NULL;
	resp->body = NULL;
	resp->n_headers = 0;
	resp->body_len = 0;
}

static const char *http_response_header(const struct luong_http_response *r,
					const char *name)
{
	for (size_t i = 0; i < r->n_headers; i++)
		if (!strcasecmp(r->headers[i].name, name))
			return r->headers[i].value;
	return NULL;
}

static const struct luong_http_api http_api = {
	.struct_size = sizeof(struct luong_http_api),
	.request = http_request,
	.response_free = http_response_free,
	.response_header = http_response_header,
};

/* ---- kv: plugin state, sealed at rest (seal.h) ---------------------------- */

/* A row sealed with the host's key, so that a changed key is found at
 * start and not at the first token read. No connection has an empty name. */
#define KEY_CHECK_CONN ""
#define KEY_CHECK_KEY "secret_key_check"

int services_check_key(struct runtime *rt, char *err, size_t errlen)
{
	const unsigned char *k = rt->conf.secret_key;
	char *stored = NULL, *plain = NULL;
	int rc =
		store_kv_get(rt->store, KEY_CHECK_CONN, KEY_CHECK_KEY, &stored);

	if (rc == 1) { /* a new store, or one from before 0.2: record it */
		stored = seal_value(k, KEY_CHECK_CONN, KEY_CHECK_KEY, "luong");
		rc = stored ? store_kv_put(rt->store, KEY_CHECK_CONN,
					   KEY_CHECK_KEY, stored)
			    : -1;
	} else if (!rc && seal_open(k, KEY_CHECK_CONN, KEY_CHECK_KEY, stored,
				    &plain)) {
		snprintf(err, errlen,
			 _("plugin state in %s does not open with "
			   "the key from %s: another key sealed it; give that "
			   "key again"),
			 rt->conf.data_dir, rt->conf.secret_key_from);
		rc = -2;
	}
	if (rc == -1)
		snprintf(err, errlen,
			 _("cannot read or record the key check of "
			   "plugin state in %s"),
			 rt->conf.data_dir);
	free(stored);
	free(plain);
	return rc ? -1 : 0;
}

static enum luong_status kv_get(struct luong_ctx *ctx, const char *key,
				char **value)
{
	char *stored = NULL;
	int rc = store_kv_get(ctx->rt->store, ctx->name, key, &stored);

	*value = NULL;
	if (rc)
		return rc == 1 ? LUONG_E_NOTFOUND : LUONG_E_INTERNAL;
	/* plain text from an older release is read as it is, and sealed
	 * at its next write */
	rc = seal_open(ctx->rt->conf.secret_key, ctx->name, key, stored, value);
	free(stored);
	if (rc < 0) {
		log_msg(LUONG_LOG_ERROR, ctx->where,
			"plugin state \"%s\" does "
			"not open with the key from %s: another key sealed it",
			key, ctx->rt->conf.secret_key_from);
		return LUONG_E_INTERNAL;
	}
	return LUONG_OK;
}

static enum luong_status kv_put(struct luong_ctx *ctx, const char *key,
				const char *value)
{
	char *sealed;
	int rc;

	if (!key || !value)
		return LUONG_E_INVAL;
	sealed = seal_value(ctx->rt->conf.secret_key, ctx->name, key, value);
	if (!sealed)
		return LUONG_E_INTERNAL;
	rc = store_kv_put(ctx->rt->store, ctx->name, key, sealed);
	free(sealed);
	return rc ? LUONG_E_INTERNAL : LUONG_OK;
}

static enum luong_status kv_del(struct luong_ctx *ctx, const char *key)
{
	return store_kv_del(ctx->rt->store, ctx->name, key) ? LUONG_E_INTERNAL
							    : LUONG_OK;
}

static const struct luong_kv_api kv_api = {
	.struct_size = sizeof(struct luong_kv_api),
	.get = kv_get,
	.put = kv_put,
	.del = kv_del,
};

/* ---- clock and JSON ----------------------------------------------------------------- */

static const struct luong_clock_api clock_api = {
	.struct_size = sizeof(struct luong_clock_api),
	.now_ms = util_mono_ms,
	.wall_ms = util_wall_ms,
};

static cJSON *json_parse(const char *text, size_t len)
{
	return cJSON_ParseWithLength(text, len);
}

static char *json_print(const cJSON *item)
{
	return cJSON_PrintUnformatted(item);
}

static cJSON *json_dup(const cJSON *item)
{
	return cJSON_Duplicate(item, 1);
}

static const struct luong_json_api json_api = {
	.struct_size = sizeof(struct luong_json_api),
	.parse = json_parse,
	.print = json_print,
	.dup = json_dup,
	.del = cJSON_Delete,
};

/* ---- events --------------------------------------------------------------------------- */

static enum luong_status ev_complete(struct luong_ctx *ctx, const char *key,
				     enum luong_status result, cJSON *output,
				     const char *reason)
{
	return engine_complete(ctx->rt->engine, ctx, key, result, output,
			       reason);
}

static enum luong_status ev_request(struct luong_ctx *ctx, const char *flow,
				    const char *document_id, uint32_t what)
{
	if (!ctx || !ctx->rt->engine)
		return LUONG_E_INVAL; /* not in init() */
	return engine_request(ctx->rt->engine, ctx->name, flow, document_id,
			      what);
}

static const struct luong_events_api events_api = {
	.struct_size = sizeof(struct luong_events_api),
	.emit = engine_emit,
	.complete = ev_complete,
	.emit_sync = engine_emit_sync,
	.request = ev_request,
};

/* ---- the running call ------------------------------------------------------------------- */

static struct luong_ctx *call_ctx(const struct luong_call *c)
{
	return c->ctx;
}

static const char *call_key(const struct luong_call *c)
{
	return c->key;
}

static const char *call_doc(const struct luong_call *c)
{
	return c->doc_id;
}

static uint32_t call_attempt(const struct luong_call *c)
{
	return c->attempt;
}

static uint32_t call_flags(const struct luong_call *c)
{
	return c->flags;
}

static void call_set_error(struct luong_call *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->error, sizeof(c->error), fmt, ap);
	va_end(ap);
}

static void call_retry_after(struct luong_call *c, uint32_t ms)
{
	c->retry_after_ms = ms;
}

static uint32_t call_version(const struct luong_call *c)
{
	return c->version ? c->version : 1;
}

static const cJSON *call_previous_output(const struct luong_call *c)
{
	return c->previous_output;
}

static const char *call_number_suffix(const struct luong_call *c)
{
	return c->suffix;
}

static void glue_set_error(struct luong_call *c, const char *text)
{
	util_strlcpy(c->error, text, sizeof(c->error));
}

static void glue_warn(struct luong_ctx *ctx, const char *text)
{
	log_msg(LUONG_LOG_WARN, ctx ? ctx->where : "[plugin]", "%s", text);
}

const struct helpers_glue helpers_glue = {
	.set_error = glue_set_error,
	.retry_after = call_retry_after,
	.warn = glue_warn,
};

static const struct luong_call_api call_api = {
	.struct_size = sizeof(struct luong_call_api),
	.ctx = call_ctx,
	.idempotency_key = call_key,
	.document_id = call_doc,
	.attempt = call_attempt,
	.flags = call_flags,
	.set_error = call_set_error,
	.retry_after = call_retry_after,
	.version = call_version,
	.previous_output = call_previous_output,
	.number_suffix = call_number_suffix,
};

/* ---- record links ------------------------------------------------------ */

static enum luong_status links_find(struct luong_ctx *ctx, const char *kind,
				    const char *id, const char *other_conn,
				    const char *other_kind, cJSON **link)
{
	struct link_end rec = { ctx ? ctx->name : NULL, kind, id };
	struct link l;
	int rc;

	if (!link)
		return LUONG_E_INVAL;
	*link = NULL;
	if (!ctx || !id || !other_conn)
		return LUONG_E_INVAL;
	rc = store_link_find(ctx->rt->store, &rec, other_conn, other_kind, &l);
	if (rc)
		return rc == 1 ? LUONG_E_NOTFOUND : LUONG_E_INTERNAL;
	*link = link_seen_from(&l, rec.connection, rec.id);
	link_free(&l);
	return LUONG_OK;
}

static const struct luong_links_api links_api = {
	.struct_size = sizeof(struct luong_links_api),
	.find = links_find,
};

void services_init(struct runtime *rt)
{
	/* HTTP (curl and its TLS library) is set up on first use: an idle
	 * host does not carry it; every service finds the runtime through
	 * the plugin's connection (ctx->rt), not a global */
	rt->host = (struct luong_host){
		.struct_size = sizeof(struct luong_host),
		.abi_major = LUONG_ABI_MAJOR,
		.abi_minor = LUONG_ABI_MINOR,
		.host_version = LUONG_VERSION,
		.mem = &mem_api,
		.log = &log_api,
		.config = &config_api,
		.http = &http_api,
		.kv = &kv_api,
		.clock = &clock_api,
		.json = &json_api,
		.events = &events_api,
		.call = &call_api,
		.links = &links_api,
		.helpers = &helpers_api,
	};
}

void services_fini(void)
{
	/* the calling thread's handle; workers' went with their threads */
	CURL *h;

	pthread_once(&http_once, http_setup);
	h = pthread_getspecific(easy_key);
	if (h) {
		curl_easy_cleanup(h);
		pthread_setspecific(easy_key, NULL);
	}
	if (share) {
		curl_share_cleanup(share);
		share = NULL;
	}
}

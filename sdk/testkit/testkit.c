/*
 * testkit.c - see luong/testkit.h: a fake host for one plugin connection.
 * Every service table is filled; HTTP answers come from a queue; what the
 * plugin emits, logs and asks for is kept for the test to read.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <luong/testkit.h>

#include "helpers.h"

struct luong_ctx {
	struct lt_kit *kit;
};

struct luong_call {
	struct lt_kit *kit;
	char key[64];
};

struct answer {
	long status;
	char *headers, *body;
};

struct lt_kit {
	const struct luong_plugin *p;
	struct luong_ctx ctx;
	struct luong_call call;
	struct luong_host host;
	void *state;
	int inited;
	cJSON *config, *kv, *emitted, *last_req;
	struct answer *answers;
	size_t n_answers, next_answer, n_requests;
	char reason[1024], *cursor, *output, *answer;
	uint32_t retry_after_ms, attempt;
};

/* the kit's tables find it through the ctx or call; only the helpers'
 * glue and log->fail need a way back, and they get ctx or call too */

static void *mem_alloc(size_t n)
{
	return malloc(n ? n : 1);
}

static char *mem_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

static const struct luong_mem_api mem_api = {
	sizeof(mem_api),
	mem_alloc,
	free,
	mem_strdup,
};

static void log_log(struct luong_ctx *ctx, int level, const char *fmt, ...)
{
	va_list ap;

	if (!getenv("LT_VERBOSE"))
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static bool log_enabled(struct luong_ctx *ctx, int level)
{
	return getenv("LT_VERBOSE") != NULL;
}

static void log_fail(struct luong_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx->kit->reason, sizeof(ctx->kit->reason), fmt, ap);
	va_end(ap);
}

static const struct luong_log_api log_api = {
	.struct_size = sizeof(log_api),
	.log = log_log,
	.enabled = log_enabled,
	.fail = log_fail,
};

static const char *cfg_get(struct luong_ctx *ctx, const char *key)
{
	const cJSON *v =
		cJSON_GetObjectItemCaseSensitive(ctx->kit->config, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int64_t cfg_int(struct luong_ctx *ctx, const char *key)
{
	const char *v = cfg_get(ctx, key);

	return v ? strtoll(v, NULL, 10) : 0;
}

static bool cfg_bool(struct luong_ctx *ctx, const char *key)
{
	const char *v = cfg_get(ctx, key);

	return v && !strcmp(v, "true");
}

static const char *cfg_conn(struct luong_ctx *ctx)
{
	return "test";
}

static const struct luong_config_api config_api = {
	sizeof(config_api), cfg_get, cfg_int, cfg_bool, cfg_conn,
};

/* ---- HTTP: canned answers ------------------------------------------------ */

static void parse_headers(const char *text, struct luong_http_response *r)
{
	char *copy = strdup(text ? text : ""), *line, *save = NULL;

	for (line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(line, ':'), *v;

		if (!colon)
			continue;
		*colon = '\0';
		for (v = colon + 1; *v == ' '; v++)
			;
		r->headers = realloc(r->headers,
				     (r->n_headers + 1) * sizeof(*r->headers));
		r->headers[r->n_headers].name = strdup(line);
		r->headers[r->n_headers].value = strdup(v);
		r->n_headers++;
	}
	free(copy);
}

static void record_request(struct lt_kit *k,
			   const struct luong_http_request *rq)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "method", rq->method);
	cJSON_AddStringToObject(o, "url", rq->url);
	if (rq->body) {
		char *b = strndup(rq->body, rq->body_len);

		cJSON_AddStringToObject(o, "body", b);
		free(b);
	}
	for (size_t i = 0; i < rq->n_headers; i++)
		if (rq->headers[i].name && rq->headers[i].value)
			cJSON_AddStringToObject(o, rq->headers[i].name,
						rq->headers[i].value);
	cJSON_Delete(k->last_req);
	k->last_req = o;
	k->n_requests++;
}

static enum luong_status http_request(struct luong_ctx *ctx,
				      const struct luong_http_request *rq,
				      struct luong_http_response *r)
{
	struct lt_kit *k = ctx->kit;
	struct answer *a = k->next_answer < k->n_answers
				   ? &k->answers[k->next_answer++]
				   : NULL;
	uint32_t size = r->struct_size;

	memset(r, 0, sizeof(*r));
	r->struct_size = size;
	record_request(k, rq);
	if (!a || !a->status) {
		snprintf(r->error, sizeof(r->error),
			 "%s %s: no answer "
			 "(test kit)",
			 rq->method, rq->url);
		r->body = strdup("");
		return LUONG_E_TRANSIENT;
	}
	r->status = a->status;
	r->body = strdup(a->body ? a->body : "");
	r->body_len = strlen(r->body);
	parse_headers(a->headers, r);
	return LUONG_OK;
}

static void http_free(struct luong_http_response *r)
{
	for (size_t i = 0; i < r->n_headers; i++) {
		free((char *)r->headers[i].name);
		free((char *)r->headers[i].value);
	}
	free(r->headers);
	free(r->body);
	r->headers = NULL;
	r->body = NULL;
	r->n_headers = 0;
}

static const char *http_header(const struct luong_http_response *r,
			       const char *name)
{
	for (size_t i = 0; i < r->n_headers; i++)
		if (!strcasecmp(r->headers[i].name, name))
			return r->headers[i].value;
	return NULL;
}

static const struct luong_http_api http_api = {
	sizeof(http_api),
	http_request,
	http_free,
	http_header,
};

/* ---- kv, clock, JSON ------------------------------------------------------- */

static enum luong_status kv_get(struct luong_ctx *ctx, const char *key,
				char **value)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(ctx->kit->kv, key);

	*value = cJSON_IsString(v) ? strdup(v->valuestring) : NULL;
	return *value ? LUONG_OK : LUONG_E_NOTFOUND;
}

static enum luong_status kv_put(struct luong_ctx *ctx, const char *key,
				const char *value)
{
	cJSON_DeleteItemFromObjectCaseSensitive(ctx->kit->kv, key);
	cJSON_AddStringToObject(ctx->kit->kv, key, value);
	return LUONG_OK;
}

static enum luong_status kv_del(struct luong_ctx *ctx, const char *key)
{
	cJSON_DeleteItemFromObjectCaseSensitive(ctx->kit->kv, key);
	return LUONG_OK;
}

static const struct luong_kv_api kv_api = {
	sizeof(kv_api),
	kv_get,
	kv_put,
	kv_del,
};

static int64_t clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t now_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

static int64_t wall_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}

static const struct luong_clock_api clock_api = {
	sizeof(clock_api),
	now_ms,
	wall_ms,
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
	sizeof(json_api), json_parse, json_print, json_dup, cJSON_Delete,
};

/* ---- events and the call --------------------------------------------------- */

static enum luong_status ev_emit(struct luong_ctx *ctx, const char *event,
				 const char *id, cJSON *payload)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "event", event ? event : "");
	cJSON_AddStringToObject(o, "id", id ? id : "");
	cJSON_AddItemToObject(o, "payload",
			      payload ? payload : cJSON_CreateObject());
	cJSON_AddItemToArray(ctx->kit->emitted, o);
	return event && id && *id ? LUONG_OK : LUONG_E_INVAL;
}

static enum luong_status ev_complete(struct luong_ctx *ctx, const char *key,
				     enum luong_status result, cJSON *output,
				     const char *reason)
{
	cJSON_Delete(output);
	return LUONG_E_NOTFOUND;
}

static enum luong_status ev_emit_sync(struct luong_ctx *ctx, const char *event,
				      const char *id, cJSON *payload,
				      cJSON **output, char **reason)
{
	*output = NULL;
	*reason = NULL;
	ev_emit(ctx, event, id, payload);
	return LUONG_E_NOTFOUND; /* no flow guards it in a test */
}

/* A person's push or retry: there is no ledger in a test. */
static enum luong_status ev_request(struct luong_ctx *ctx, const char *flow,
				    const char *doc, uint32_t what)
{
	(void)ctx;
	(void)flow;
	(void)doc;
	(void)what;
	return LUONG_E_NOTFOUND;
}

static const struct luong_events_api events_api = {
	sizeof(events_api), ev_emit, ev_complete, ev_emit_sync, ev_request,
};

static struct luong_ctx *call_ctx(const struct luong_call *c)
{
	return &c->kit->ctx;
}

static const char *call_key(const struct luong_call *c)
{
	return c->key;
}

static const char *call_doc(const struct luong_call *c)
{
	return "doc";
}

static uint32_t call_attempt(const struct luong_call *c)
{
	return c->kit->attempt;
}

static uint32_t call_flags(const struct luong_call *c)
{
	return 0;
}

static void call_set_error(struct luong_call *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->kit->reason, sizeof(c->kit->reason), fmt, ap);
	va_end(ap);
}

static void call_retry_after(struct luong_call *c, uint32_t ms)
{
	c->kit->retry_after_ms = ms;
}

static uint32_t call_version(const struct luong_call *c)
{
	return 1;
}

static const cJSON *call_previous(const struct luong_call *c)
{
	return NULL;
}

static const char *call_number_suffix(const struct luong_call *c)
{
	(void)c;
	return ""; /* the number as it is */
}

static const struct luong_call_api call_api = {
	sizeof(call_api), call_ctx,	 call_key,	     call_doc,
	call_attempt,	  call_flags,	 call_set_error,     call_retry_after,
	call_version,	  call_previous, call_number_suffix,
};

static enum luong_status links_find(struct luong_ctx *ctx, const char *kind,
				    const char *id, const char *other_conn,
				    const char *other_kind, cJSON **link)
{
	*link = NULL;
	return LUONG_E_NOTFOUND;
}

static const struct luong_links_api links_api = {
	sizeof(links_api),
	links_find,
};

/* the helpers are the host's own (helpers.c); this is their glue here */
static void glue_set_error(struct luong_call *c, const char *text)
{
	snprintf(c->kit->reason, sizeof(c->kit->reason), "%s", text);
}

static void glue_warn(struct luong_ctx *ctx, const char *text)
{
	snprintf(ctx->kit->reason, sizeof(ctx->kit->reason), "%s", text);
}

const struct helpers_glue helpers_glue = {
	.set_error = glue_set_error,
	.retry_after = call_retry_after,
	.warn = glue_warn,
};

/* ---- the kit ------------------------------------------------------------------ */

struct lt_kit *lt_new(const struct luong_plugin *plugin)
{
	struct lt_kit *k = calloc(1, sizeof(*k));

	k->p = plugin;
	k->ctx.kit = k;
	k->call.kit = k;
	k->attempt = 1;
	snprintf(k->call.key, sizeof(k->call.key), "flow:step:doc");
	k->config = cJSON_CreateObject();
	k->kv = cJSON_CreateObject();
	k->emitted = cJSON_CreateArray();
	k->host = (struct luong_host){
		.struct_size = sizeof(struct luong_host),
		.abi_major = LUONG_ABI_MAJOR,
		.abi_minor = LUONG_ABI_MINOR,
		.host_version = "testkit",
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
	/* the declared defaults, as the host fills them */
	for (const struct luong_config_field *f = plugin->config; f && f->name;
	     f++)
		if (f->default_value)
			lt_config(k, f->name, f->default_value);
	return k;
}

void lt_free(struct lt_kit *k)
{
	if (!k)
		return;
	if (k->inited)
		k->p->fini(&k->ctx, k->state);
	for (size_t i = 0; i < k->n_answers; i++) {
		free(k->answers[i].headers);
		free(k->answers[i].body);
	}
	free(k->answers);
	cJSON_Delete(k->config);
	cJSON_Delete(k->kv);
	cJSON_Delete(k->emitted);
	cJSON_Delete(k->last_req);
	free(k->cursor);
	free(k->output);
	free(k->answer);
	free(k);
}

void lt_config(struct lt_kit *k, const char *key, const char *value)
{
	cJSON_DeleteItemFromObjectCaseSensitive(k->config, key);
	cJSON_AddStringToObject(k->config, key, value);
}

static void before_call(struct lt_kit *k)
{
	k->reason[0] = '\0';
	k->retry_after_ms = 0;
}

enum luong_status lt_init(struct lt_kit *k)
{
	enum luong_status st;

	before_call(k);
	k->state = NULL;
	st = k->p->init(&k->ctx, &k->host, &k->state);
	if (st != LUONG_OK) {
		k->p->fini(&k->ctx, k->state); /* as the host does */
		k->state = NULL;
		return st;
	}
	k->inited = 1;
	return LUONG_OK;
}

void lt_http_answer(struct lt_kit *k, long status, const char *headers,
		    const char *body)
{
	struct answer *a;

	k->answers =
		realloc(k->answers, (k->n_answers + 1) * sizeof(*k->answers));
	a = &k->answers[k->n_answers++];
	a->status = status;
	a->headers = headers ? strdup(headers) : NULL;
	a->body = body ? strdup(body) : NULL;
}

size_t lt_http_count(const struct lt_kit *k)
{
	return k->n_requests;
}

const char *lt_http_last(const struct lt_kit *k, const char *what)
{
	const cJSON *v = cJSON_GetObjectItem(k->last_req, what);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

struct lt_req {
	struct luong_webhook_request pub;
	cJSON *headers;
};

static const char *req_header(const struct luong_webhook_request *r,
			      const char *name)
{
	const cJSON *v =
		cJSON_GetObjectItem(((const struct lt_req *)r)->headers, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const char *req_query(const struct luong_webhook_request *r,
			     const char *name)
{
	return NULL;
}

/* The status the host answers for a webhook's result (server.c). */
static unsigned hook_status(enum luong_status st, unsigned preset)
{
	if (st == LUONG_OK)
		return preset;
	if (preset >= 400)
		return preset;
	switch (st) {
	case LUONG_E_INVAL: return 400;
	case LUONG_E_AUTH: return 401;
	case LUONG_E_NOTFOUND: return 404;
	case LUONG_E_TRANSIENT:
	case LUONG_E_TIMEOUT: return 503;
	default: return 500;
	}
}

enum luong_status lt_webhook(struct lt_kit *k, const char *path,
			     const char *headers, const char *body,
			     unsigned *status)
{
	struct luong_http_response tmp = { 0 };
	struct lt_req r = { .headers = cJSON_CreateObject() };
	struct luong_webhook_response resp = { .struct_size = sizeof(resp),
					       .status = 200 };
	enum luong_status st;

	before_call(k);
	parse_headers(headers, &tmp);
	for (size_t i = 0; i < tmp.n_headers; i++)
		cJSON_AddStringToObject(r.headers, tmp.headers[i].name,
					tmp.headers[i].value);
	http_free(&tmp);
	r.pub = (struct luong_webhook_request){
		.struct_size = sizeof(r.pub),
		.method = "POST",
		.path = path ? path : "/",
		.body = body ? body : "",
		.body_len = body ? strlen(body) : 0,
		.header = req_header,
		.query = req_query,
	};
	st = k->p->webhook(&k->ctx, k->state, &r.pub, &resp);
	if (status)
		*status = hook_status(st, resp.status);
	free(k->answer);
	k->answer = resp.body;
	cJSON_Delete(r.headers);
	return st;
}

const char *lt_webhook_answer(const struct lt_kit *k)
{
	return k->answer ? k->answer : "";
}

enum luong_status lt_poll(struct lt_kit *k, const char *event,
			  const char *cursor)
{
	char *next = NULL;
	enum luong_status st;

	before_call(k);
	for (const struct luong_event_def *e = k->p->events; e && e->name;
	     e++) {
		if (strcmp(e->name, event) || !e->poll)
			continue;
		st = e->poll(&k->ctx, k->state, cursor, &next);
		if (next) {
			free(k->cursor);
			k->cursor = next;
		}
		return st;
	}
	return LUONG_E_NOTFOUND;
}

const char *lt_cursor(const struct lt_kit *k)
{
	return k->cursor;
}

void lt_attempt(struct lt_kit *k, uint32_t attempt)
{
	k->attempt = attempt;
}

enum luong_status lt_action(struct lt_kit *k, const char *action,
			    const char *input, const char **output)
{
	const struct luong_action_def *a;
	cJSON *in = cJSON_Parse(input ? input : "{}"), *out = NULL;
	enum luong_status st = LUONG_E_NOTFOUND;

	before_call(k);
	free(k->output);
	k->output = NULL;
	for (a = k->p->actions; a && a->name; a++) {
		if (strcmp(a->name, action))
			continue;
		if (a->perform) {
			struct luong_action_args args = {
				.struct_size = sizeof(args),
				.ctx = &k->ctx,
				.host = &k->host,
				.call = &k->call,
				.state = k->state,
				.input = in,
			};

			st = a->perform(&args);
			out = args.output;
		} else {
			st = a->run(&k->call, k->state, in, &out);
		}
		break;
	}
	if (out)
		k->output = cJSON_PrintUnformatted(out);
	cJSON_Delete(out);
	cJSON_Delete(in);
	if (output)
		*output = k->output;
	return st;
}

void lt_sign(const char *secret, const char *body, uint32_t encoding,
	     char out[65])
{
	helpers_api.hmac_sign(secret, strlen(secret), body, strlen(body),
			      encoding, out);
}

const char *lt_reason(const struct lt_kit *k)
{
	return k->reason;
}

uint32_t lt_retry_after(const struct lt_kit *k)
{
	return k->retry_after_ms;
}

size_t lt_emitted(const struct lt_kit *k)
{
	return (size_t)cJSON_GetArraySize(k->emitted);
}

const char *lt_emitted_get(const struct lt_kit *k, size_t i, const char *what)
{
	static __thread char *printed;
	const cJSON *e = cJSON_GetArrayItem(k->emitted, (int)i);
	const cJSON *v = cJSON_GetObjectItem(e, what);

	if (cJSON_IsString(v))
		return v->valuestring;
	if (!v)
		return NULL;
	free(printed);
	printed = cJSON_PrintUnformatted(v);
	return printed;
}

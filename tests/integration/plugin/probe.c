/*
 * probe.c - the test plugin: built against the public SDK only, like any
 * third-party plugin, and used by the integration tests and the bench.
 *
 *   webhook  POST /          {"id": ..., ...} or {"items": [{...}, ...]}
 *                            emits thing.saved per item (document id = .id)
 *            POST /callback  {"key": ..., "ok": bool, "reason": ..., "output": {...}}
 *                            completes a call that returned PENDING
 *   poll     thing.polled    GET <target>/feed?after=<cursor> -> {"items": [...], "next": "..."}
 *   action   deliver         POST <target>/deliver with Idempotency-Key
 *                            2xx -> ok (the reply is the output), 202 -> pending,
 *                            429/5xx/no answer -> retry (Retry-After honoured),
 *                            other 4xx -> failed with the reply's "error"
 *                            an update (SDK 1.2, on_change: resend) names
 *                            what it replaces: X-Update-Of: <previous id>
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <luong/luong.h>

struct probe {
	const struct luong_host *host;
	struct luong_ctx *ctx;
	const char *target;
	const char *token;
};

/* For an update, the id the previous version got from the target. */
static const char *previous_id(const struct luong_host *h,
			       const struct luong_call *call)
{
	const cJSON *prev, *id;

	if (!LUONG_HAS(h->call, previous_output) ||
	    !(h->call->flags(call) & LUONG_CALL_UPDATE))
		return NULL;
	prev = h->call->previous_output(call);
	id = cJSON_GetObjectItemCaseSensitive(prev, "id");
	return cJSON_IsString(id) ? id->valuestring : "";
}

static enum luong_status probe_deliver(struct luong_call *call, void *state,
				       const cJSON *input, cJSON **output)
{
	struct probe *p = state;
	const struct luong_host *h = p->host;
	char url[512], *body = h->json->print(input);
	struct luong_http_header hdrs[] = {
		{ "Content-Type", "application/json" },
		{ "Idempotency-Key", h->call->idempotency_key(call) },
		{ "X-Update-Of", previous_id(h, call) },
	};
	struct luong_http_request req = {
		.struct_size = sizeof(req),
		.method = "POST",
		.url = url,
		.headers = hdrs,
		.n_headers = hdrs[2].value ? 3 : 2,
		.body = body,
		.body_len = strlen(body),
		.timeout_ms = 10000,
	};
	struct luong_http_response resp = { .struct_size = sizeof(resp) };
	enum luong_status st;
	const char *ra;
	cJSON *reply;

	snprintf(url, sizeof(url), "%s/deliver", p->target);
	st = h->http->request(p->ctx, &req, &resp);
	h->mem->free(body);
	if (st != LUONG_OK) {
		h->call->set_error(call, "%s", resp.error);
		h->http->response_free(&resp);
		return st;
	}
	reply = h->json->parse(resp.body, resp.body_len);
	if (resp.status == 202) {
		st = LUONG_PENDING;
	} else if (resp.status >= 200 && resp.status < 300) {
		*output = reply;
		reply = NULL;
		st = LUONG_OK;
	} else if (resp.status == 429 || resp.status >= 500) {
		ra = h->http->response_header(&resp, "Retry-After");
		if (ra)
			h->call->retry_after(call, (uint32_t)(atof(ra) * 1000));
		h->call->set_error(call, "target answered HTTP %ld",
				   resp.status);
		st = LUONG_E_TRANSIENT;
	} else {
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(reply, "erro"
									 "r");

		h->call->set_error(
			call, "target refused (HTTP %ld): %s", resp.status,
			cJSON_IsString(e) ? e->valuestring : resp.body);
		st = LUONG_E_REMOTE;
	}
	h->json->del(reply);
	h->http->response_free(&resp);
	return st;
}

/* The id passed points into the payload emit() consumes, as the SDK
 * allows (1.2): under ASan a host that read it afterwards would fail. */
static enum luong_status emit_item(struct probe *p, const cJSON *item)
{
	cJSON *payload = p->host->json->dup(item);
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(payload, "id");
	char buf[64];
	const char *doc = buf;

	if (cJSON_IsString(id)) {
		doc = id->valuestring;
	} else if (cJSON_IsNumber(id)) {
		snprintf(buf, sizeof(buf), "%.0f", id->valuedouble);
	} else {
		p->host->json->del(payload);
		return LUONG_E_INVAL;
	}
	return p->host->events->emit(p->ctx, "thing.saved", doc, payload);
}

static enum luong_status probe_callback(struct probe *p, const cJSON *body)
{
	const cJSON *key = cJSON_GetObjectItemCaseSensitive(body, "key");
	const cJSON *reason = cJSON_GetObjectItemCaseSensitive(body, "reason");
	const cJSON *out = cJSON_GetObjectItemCaseSensitive(body, "output");
	bool ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(body, "ok"));

	if (!cJSON_IsString(key))
		return LUONG_E_INVAL;
	return p->host->events->complete(
		p->ctx, key->valuestring, ok ? LUONG_OK : LUONG_E_REMOTE,
		out ? p->host->json->dup(out) : NULL,
		cJSON_IsString(reason) ? reason->valuestring : NULL);
}

/* POST /guard {"id": ...}: answers whether the guarded flow allowed it. */
static enum luong_status probe_guard(struct probe *p, const cJSON *body,
				     struct luong_webhook_response *resp)
{
	const struct luong_host *h = p->host;
	cJSON *payload = h->json->dup(body);
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(payload, "id");
	cJSON *out = NULL, *answer;
	char *reason = NULL, *text;
	enum luong_status st;

	if (!cJSON_IsString(id) || !LUONG_HAS(h->events, emit_sync)) {
		h->json->del(payload);
		return LUONG_E_INVAL;
	}
	/* the id points into the payload emit_sync consumes (allowed) */
	st = h->events->emit_sync(p->ctx, "thing.guard", id->valuestring,
				  payload, &out, &reason);
	answer = cJSON_CreateObject();
	cJSON_AddBoolToObject(answer, "allowed", st == LUONG_OK);
	if (reason)
		cJSON_AddStringToObject(answer, "reason", reason);
	if (out)
		cJSON_AddItemToObject(answer, "output", out);
	text = h->json->print(answer);
	cJSON_Delete(answer);
	h->mem->free(reason);
	resp->body = h->mem->strdup(text);
	resp->body_len = strlen(text);
	h->mem->free(text);
	return LUONG_OK;
}

/* POST /link {"kind", "id", "other_connection", "other_kind"}: answers
 * the record link the host gives this connection's record (ABI 1.2). */
static enum luong_status probe_link(struct probe *p, const cJSON *body,
				    struct luong_webhook_response *resp)
{
	const struct luong_host *h = p->host;
	const char *k[4] = { 0 };
	static const char *const names[4] = { "kind", "id", "other_connection",
					      "other_kind" };
	cJSON *link = NULL;
	char *text;

	if (!LUONG_HAS(h, links) || !LUONG_HAS(h->links, find))
		return LUONG_E_UNSUPPORTED;
	for (int i = 0; i < 4; i++) {
		const cJSON *v =
			cJSON_GetObjectItemCaseSensitive(body, names[i]);

		k[i] = cJSON_IsString(v) ? v->valuestring : NULL;
	}
	if (h->links->find(p->ctx, k[0], k[1], k[2], k[3], &link) != LUONG_OK)
		link = cJSON_CreateNull();
	text = h->json->print(link);
	h->json->del(link);
	resp->body = h->mem->strdup(text);
	resp->body_len = strlen(text);
	h->mem->free(text);
	return LUONG_OK;
}

/* POST /request {"flow": F or absent, "id": DOC}: a person's push or
 * retry from the source system (ABI 1.2); answers {"status": code}. */
static enum luong_status probe_request(struct probe *p, const cJSON *body,
				       struct luong_webhook_response *resp)
{
	const struct luong_host *h = p->host;
	const cJSON *flow = cJSON_GetObjectItemCaseSensitive(body, "flow");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(body, "id");
	enum luong_status st;
	char text[64];

	if (!cJSON_IsString(id) || !LUONG_HAS(h->events, request))
		return LUONG_E_INVAL;
	st = h->events->request(p->ctx,
				cJSON_IsString(flow) ? flow->valuestring : NULL,
				id->valuestring,
				LUONG_REQUEST_PUSH | LUONG_REQUEST_RETRY);
	snprintf(text, sizeof(text), "{\"status\": %d}", (int)st);
	resp->body = h->mem->strdup(text);
	resp->body_len = strlen(text);
	return LUONG_OK;
}

static enum luong_status probe_webhook(struct luong_ctx *ctx, void *state,
				       const struct luong_webhook_request *req,
				       struct luong_webhook_response *resp)
{
	struct probe *p = state;
	const char *tok = req->header(req, "X-Token");
	enum luong_status st = LUONG_OK;
	const cJSON *items, *it;
	cJSON *body;

	if (p->token && (!tok || strcmp(tok, p->token))) {
		resp->status = 401;
		p->host->log->fail(ctx, "X-Token is %s",
				   tok ? "wrong" : "missing");
		return LUONG_E_AUTH;
	}
	body = p->host->json->parse(req->body, req->body_len);
	if (!body)
		return LUONG_E_INVAL;
	if (!strcmp(req->path, "/callback")) {
		st = probe_callback(p, body);
	} else if (!strcmp(req->path, "/guard")) {
		st = probe_guard(p, body, resp);
	} else if (!strcmp(req->path, "/link")) {
		st = probe_link(p, body, resp);
	} else if (!strcmp(req->path, "/request")) {
		st = probe_request(p, body, resp);
	} else if ((items = cJSON_GetObjectItemCaseSensitive(body, "items"))) {
		cJSON_ArrayForEach (it, items)
			if (st == LUONG_OK)
				st = emit_item(p, it);
	} else {
		st = emit_item(p, body);
	}
	p->host->json->del(body);
	return st;
}

static enum luong_status probe_poll(struct luong_ctx *ctx, void *state,
				    const char *cursor, char **next)
{
	struct probe *p = state;
	const struct luong_host *h = p->host;
	char url[512];
	struct luong_http_request req = {
		.struct_size = sizeof(req),
		.method = "GET",
		.url = url,
	};
	struct luong_http_response resp = { .struct_size = sizeof(resp) };
	enum luong_status st;
	const cJSON *it, *nx;
	cJSON *reply;

	snprintf(url, sizeof(url), "%s/feed?after=%s", p->target,
		 cursor ? cursor : "");
	st = h->http->request(ctx, &req, &resp);
	if (st != LUONG_OK || resp.status != 200) {
		h->http->response_free(&resp);
		return LUONG_E_TRANSIENT;
	}
	reply = h->json->parse(resp.body, resp.body_len);
	h->http->response_free(&resp);
	cJSON_ArrayForEach (it, cJSON_GetObjectItemCaseSensitive(reply, "item"
									"s")) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "id");

		if (cJSON_IsString(id))
			h->events->emit(ctx, "thing.polled", id->valuestring,
					h->json->dup(it));
	}
	nx = cJSON_GetObjectItemCaseSensitive(reply, "next");
	if (cJSON_IsString(nx))
		*next = h->mem->strdup(nx->valuestring);
	h->json->del(reply);
	return LUONG_OK;
}

#ifndef PROBE_ROWS_1_1
/* fetch() of thing.saved (SDK 1.2): the thing as the feed lists it now */
static enum luong_status probe_fetch(struct luong_ctx *ctx, void *state,
				     const char *doc_id, cJSON **payload)
{
	struct probe *p = state;
	const struct luong_host *h = p->host;
	char url[512];
	struct luong_http_request req = {
		.struct_size = sizeof(req),
		.method = "GET",
		.url = url,
	};
	struct luong_http_response resp = { .struct_size = sizeof(resp) };
	enum luong_status st;
	const cJSON *it;
	cJSON *reply;

	snprintf(url, sizeof(url), "%s/feed?after=", p->target);
	st = h->http->request(ctx, &req, &resp);
	if (st != LUONG_OK || resp.status != 200) {
		h->http->response_free(&resp);
		h->log->fail(ctx, "the feed does not answer");
		return LUONG_E_TRANSIENT;
	}
	reply = h->json->parse(resp.body, resp.body_len);
	h->http->response_free(&resp);
	st = LUONG_E_NOTFOUND;
	cJSON_ArrayForEach (it, cJSON_GetObjectItemCaseSensitive(reply, "item"
									"s")) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "id");

		if (cJSON_IsString(id) && !strcmp(id->valuestring, doc_id)) {
			*payload = h->json->dup(it);
			st = LUONG_OK;
			break;
		}
	}
	if (st != LUONG_OK)
		h->log->fail(ctx, "the feed lists no thing %s", doc_id);
	h->json->del(reply);
	return st;
}
#endif

static enum luong_status probe_init(struct luong_ctx *ctx,
				    const struct luong_host *host, void **state)
{
	struct probe *p;
	const char *down;

	if (host->abi_major != LUONG_ABI_MAJOR ||
	    !LUONG_HAS(host->events, complete) || !LUONG_HAS(host->log, fail))
		return LUONG_E_ABI;
	p = host->mem->alloc(sizeof(*p));
	if (!p)
		return LUONG_E_NOMEM;
	memset(p, 0, sizeof(*p));
	*state = p;
	p->host = host;
	p->ctx = ctx;
	p->target = host->config->get(ctx, "target");
	p->token = host->config->get(ctx, "token");
	down = host->config->get(ctx, "fail_init_while");
	if (down && access(down, F_OK) == 0) {
		host->log->fail(ctx, "the target is down (%s exists)", down);
		return LUONG_E_TRANSIENT;
	}
	if (host->config->get_bool(ctx, "fail_init")) {
		host->log->fail(ctx, "fail_init is set in its config");
		return LUONG_E_CONFIG;
	}
	return LUONG_OK;
}

static void probe_fini(struct luong_ctx *ctx, void *state)
{
	struct probe *p = state;

	if (p)
		p->host->mem->free(p);
}

static const struct luong_config_field probe_config[] = {
	{ "target", LUONG_CFG_URL, LUONG_CFG_REQUIRED, NULL,
	  "base URL of the sink" },
	{ "token", LUONG_CFG_SECRET, 0, NULL,
	  "if set, webhooks must carry it in X-Token" },
	{ "fail_init", LUONG_CFG_BOOL, 0, "false",
	  "make init() fail (for tests)" },
	{ "fail_init_while", LUONG_CFG_STRING, 0, NULL,
	  "init() fails while this file exists (a target down at start)" },
	{ 0 }
};

#ifndef PROBE_ROWS_1_1
static const struct luong_event_def probe_events[] = {
	{ .name = "thing.saved",
	  .kind = LUONG_EVENT_WEBHOOK,
	  .description = "a thing was saved",
	  .fetch = probe_fetch },
	{ .name = "thing.guard",
	  .kind = LUONG_EVENT_WEBHOOK,
	  .description = "asks before acting" },
	{ .name = "thing.polled",
	  .kind = LUONG_EVENT_POLL,
	  .description = "things listed by the feed",
	  .poll = probe_poll,
	  .default_interval_s = 1 },
	{ 0 }
};

/* SDK 1.2: declared inputs, and perform() with the connection and host */
static const struct luong_field_def typed_inputs[] = {
	{ "doc", LUONG_FIELD_ANY, LUONG_FIELD_REQUIRED, "the thing's id" },
	{ "n", LUONG_FIELD_INTEGER, 0, "a count" },
	{ 0 }
};

static enum luong_status probe_deliver_typed(struct luong_action_args *a)
{
	if (!a->ctx || !a->host || a->host->call->ctx(a->call) != a->ctx)
		return LUONG_E_INTERNAL;
	return probe_deliver(a->call, a->state, a->input, &a->output);
}

static const struct luong_action_def probe_actions[] = {
	{ "deliver", "POST the input to <target>/deliver", probe_deliver, NULL,
	  NULL, NULL, NULL },
	{ "deliver_typed", "deliver, with declared inputs, by perform()", NULL,
	  NULL, typed_inputs, NULL, probe_deliver_typed },
	{ 0 }
};
#else
/* Event rows as SDK 1.1 lays them out (no fields, no sample). */
struct probe_event_1_1 {
	const char *name;
	uint32_t kind;
	const char *description;
	luong_poll_fn poll;
	uint32_t default_interval_s;
};
static const struct probe_event_1_1 probe_events_1_1[] = {
	{ "thing.saved", LUONG_EVENT_WEBHOOK, "a thing was saved", NULL, 0 },
	{ "thing.guard", LUONG_EVENT_WEBHOOK, "asks before acting", NULL, 0 },
	{ "thing.polled", LUONG_EVENT_POLL, "things listed by the feed",
	  probe_poll, 1 },
	{ 0 }
};
#define probe_events ((const struct luong_event_def *)probe_events_1_1)

/* Action rows as a plugin built against SDK 1.1 lays them out (no
 * check), two of them so that a host stepping at the 1.2 size would
 * miss the second. */
struct probe_row_1_1 {
	const char *name, *description;
	luong_action_fn run;
};
static const struct probe_row_1_1 probe_rows_1_1[] = {
	{ "deliver", "POST the input to <target>/deliver", probe_deliver },
	{ "deliver_again", "the same, under another name", probe_deliver },
	{ 0 }
};
#define probe_actions ((const struct luong_action_def *)probe_rows_1_1)
#endif

#ifndef PROBE_NAME
#define PROBE_NAME "probe"
#endif
#ifndef PROBE_ABI_MAJOR
#define PROBE_ABI_MAJOR LUONG_ABI_MAJOR
#endif
#ifndef PROBE_ABI_MINOR
#define PROBE_ABI_MINOR LUONG_ABI_MINOR
#endif

static const struct luong_plugin probe_plugin = {
	/* the ABI numbers are macros so the tests can build wrong ones */
	.abi_major = PROBE_ABI_MAJOR,
	.abi_minor = PROBE_ABI_MINOR,
	.struct_size = sizeof(struct luong_plugin),
	.name = PROBE_NAME,
	.version = "1.0.0",
	.description = "test plugin: webhooks, a poll and a delivering action",
#ifdef PROBE_SERIAL
	.flags = LUONG_PLUGIN_SERIAL,
#endif
	.config = probe_config,
	.events = probe_events,
	.actions = probe_actions,
	.init = probe_init,
	.fini = probe_fini,
	.webhook = probe_webhook,
};

#ifndef PROBE_NO_ENTRY
LUONG_EXPORT const struct luong_plugin *luong_plugin_entry(void)
{
	return &probe_plugin;
}
#else
LUONG_EXPORT const struct luong_plugin *not_the_entry(void);
LUONG_EXPORT const struct luong_plugin *not_the_entry(void)
{
	return &probe_plugin;
}
#endif

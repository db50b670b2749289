/*
 * notes.c - an example Luồng connector for a made-up "Notes" service, to
 * copy from. It shows the three things most connectors do:
 *
 *   webhook  POST /hooks/<connection>/   a note was saved: the body is
 *            signed (X-Notes-Signature: hex HMAC-SHA256 of the body with
 *            the connection's webhook_secret); emits note.saved
 *   poll     note.listed: GET <server>/notes?after=<cursor>, one event per
 *            note, the answer's "next" becomes the cursor
 *   action   save_note: POST <server>/notes, the answer mapped onto the
 *            result contract by host->helpers->http_result
 *
 * It links nothing but the SDK: signatures and HTTP go through the host.
 * Build: see CMakeLists.txt here, or
 *   cc -shared -fPIC $(pkg-config --cflags luong-sdk) notes.c -o notes.so \
 *      $(pkg-config --libs luong-sdk) -Wl,--no-undefined
 */
#include <stdio.h>
#include <string.h>

#include <luong/luong.h>

#ifndef NOTES_NAME
#define NOTES_NAME "notes"
#endif

struct notes {
	const struct luong_host *h;
	struct luong_ctx *ctx;
	const char *server, *secret, *token;
};

static enum luong_status notes_init(struct luong_ctx *ctx,
				    const struct luong_host *host, void **state)
{
	struct notes *n;

	/* a host older than 1.2 has no helpers: refuse in words */
	if (host->abi_major != LUONG_ABI_MAJOR || !LUONG_HAS(host, helpers))
		return LUONG_E_ABI;
	n = host->mem->alloc(sizeof(*n));
	if (!n)
		return LUONG_E_NOMEM;
	memset(n, 0, sizeof(*n));
	*state = n;
	n->h = host;
	n->ctx = ctx;
	n->server = host->config->get(ctx, "server");
	n->secret = host->config->get(ctx, "webhook_secret");
	n->token = host->config->get(ctx, "token");
	if (!n->secret || strlen(n->secret) < 16) {
		host->log->fail(ctx, "webhook_secret must have 16 characters "
				     "or more");
		return LUONG_E_CONFIG;
	}
	return LUONG_OK;
}

static void notes_fini(struct luong_ctx *ctx, void *state)
{
	struct notes *n = state;

	if (n)
		n->h->mem->free(n);
}

/* ---- webhook: check the signature, then emit --------------------------- */

static enum luong_status notes_webhook(struct luong_ctx *ctx, void *state,
				       const struct luong_webhook_request *req,
				       struct luong_webhook_response *resp)
{
	struct notes *n = state;
	const char *sig = req->header(req, "X-Notes-Signature");
	const cJSON *id;
	cJSON *note;

	if (!n->h->helpers->hmac_verify(n->secret, strlen(n->secret), req->body,
					req->body_len, sig, LUONG_SIG_HEX)) {
		n->h->log->fail(ctx, "X-Notes-Signature is %s",
				sig ? "wrong" : "missing");
		return LUONG_E_AUTH; /* 401, {"ok":false,"error":...} */
	}
	note = n->h->json->parse(req->body, req->body_len);
	id = cJSON_GetObjectItemCaseSensitive(note, "id");
	if (!cJSON_IsString(id)) {
		n->h->json->del(note);
		n->h->log->fail(ctx, "$.id: expected a string");
		return LUONG_E_INVAL; /* 400 */
	}
	/* the id may point into the payload emit() consumes */
	return n->h->events->emit(ctx, "note.saved", id->valuestring, note);
}

/* ---- poll with a cursor ---------------------------------------------------- */

static enum luong_status notes_poll(struct luong_ctx *ctx, void *state,
				    const char *cursor, char **next_cursor)
{
	struct notes *n = state;
	const struct luong_host *h = n->h;
	char url[512];
	struct luong_http_request rq = {
		.struct_size = sizeof(rq),
		.method = "GET",
		.url = url,
	};
	struct luong_http_response resp = { .struct_size = sizeof(resp) };
	const struct luong_http_result_opts how = {
		.struct_size = sizeof(how),
		.system = "Notes",
		.message_path = "error.message",
	};
	enum luong_status st;
	const cJSON *it, *next;
	cJSON *page;

	snprintf(url, sizeof(url), "%s/notes?after=%s", n->server,
		 cursor ? cursor : "");
	st = h->http->request(ctx, &rq, &resp);
	/* no call here: the reason goes to the log */
	st = h->helpers->http_result(ctx, NULL, st, &resp, &how);
	page = st == LUONG_OK ? h->json->parse(resp.body, resp.body_len) : NULL;
	h->http->response_free(&resp);
	if (st != LUONG_OK)
		return st; /* the same cursor is tried again later */
	cJSON_ArrayForEach (it, cJSON_GetObjectItemCaseSensitive(page, "note"
								       "s")) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "id");

		if (cJSON_IsString(id))
			h->events->emit(ctx, "note.listed", id->valuestring,
					h->json->dup(it));
	}
	next = cJSON_GetObjectItemCaseSensitive(page, "next");
	if (cJSON_IsString(next))
		*next_cursor = h->mem->strdup(next->valuestring);
	h->json->del(page);
	return LUONG_OK;
}

/* ---- an action through the HTTP helper ------------------------------------ */

static enum luong_status notes_save(struct luong_action_args *a)
{
	struct notes *n = a->state;
	const struct luong_host *h = a->host;
	char url[512], auth[300], *body = h->json->print(a->input);
	struct luong_http_header hdrs[] = {
		{ "Content-Type", "application/json" },
		/* the target's duplicate guard: the same on every retry */
		{ "Idempotency-Key", h->call->idempotency_key(a->call) },
		{ "Authorization", auth },
	};
	struct luong_http_request rq = {
		.struct_size = sizeof(rq),
		.method = "POST",
		.url = url,
		.headers = hdrs,
		.n_headers = n->token ? 3 : 2,
		.body = body,
		.body_len = body ? strlen(body) : 0,
	};
	struct luong_http_response resp = { .struct_size = sizeof(resp) };
	const struct luong_http_result_opts how = {
		.struct_size = sizeof(how),
		.system = "Notes",
		.message_path = "error.message",
	};
	enum luong_status st;

	snprintf(url, sizeof(url), "%s/notes", n->server);
	snprintf(auth, sizeof(auth), "Bearer %s", n->token ? n->token : "");
	st = h->http->request(a->ctx, &rq, &resp);
	h->mem->free(body);
	/* 2xx OK; 429/5xx retried (Retry-After); 4xx fails with the
	 * target's error.message; no answer retried */
	st = h->helpers->http_result(a->ctx, a->call, st, &resp, &how);
	if (st == LUONG_OK)
		a->output = h->json->parse(resp.body, resp.body_len);
	h->http->response_free(&resp);
	return st;
}

/* ---- what it declares ------------------------------------------------------- */

static const struct luong_config_field notes_config[] = {
	{ .name = "server",
	  .type = LUONG_CFG_URL,
	  .flags = LUONG_CFG_REQUIRED,
	  .description = "the Notes API, e.g. https://notes.example/api" },
	{ .name = "webhook_secret",
	  .type = LUONG_CFG_SECRET,
	  .flags = LUONG_CFG_REQUIRED,
	  .description = "key of X-Notes-Signature" },
	{ .name = "token",
	  .type = LUONG_CFG_SECRET,
	  .description = "API token, if the server asks for one" },
	{ 0 }
};

static const struct luong_field_def note_fields[] = {
	{ .name = "id", .type = LUONG_FIELD_STRING, .description = "its id" },
	{ .name = "title", .type = LUONG_FIELD_STRING },
	{ .name = "text", .type = LUONG_FIELD_STRING },
	{ .name = "tags", .type = LUONG_FIELD_ARRAY },
	{ 0 }
};

static const struct luong_event_def notes_events[] = {
	{ .name = "note.saved",
	  .kind = LUONG_EVENT_WEBHOOK,
	  .description = "a note was saved (signed webhook); id = note id",
	  .fields = note_fields,
	  .sample = "{\"id\":\"n1\",\"title\":\"Kho\",\"text\":\"xin chào\","
		    "\"tags\":[\"kho\"]}" },
	{ .name = "note.listed",
	  .kind = LUONG_EVENT_POLL,
	  .description = "notes added or changed since the last poll",
	  .poll = notes_poll,
	  .default_interval_s = 300,
	  .fields = note_fields },
	{ 0 }
};

static const struct luong_field_def save_inputs[] = {
	{ .name = "title",
	  .type = LUONG_FIELD_STRING,
	  .flags = LUONG_FIELD_REQUIRED,
	  .description = "the note's title" },
	{ .name = "text", .type = LUONG_FIELD_STRING },
	{ .name = "tags", .type = LUONG_FIELD_ARRAY },
	{ 0 }
};

static const struct luong_field_def save_outputs[] = {
	{ .name = "id",
	  .type = LUONG_FIELD_STRING,
	  .description = "the note made" },
	{ 0 }
};

static const struct luong_action_def notes_actions[] = {
	{ .name = "save_note",
	  .description = "make a note (once per key)",
	  .perform = notes_save,
	  .inputs = save_inputs,
	  .outputs = save_outputs },
	{ 0 }
};

static const struct luong_plugin notes_plugin = {
	LUONG_PLUGIN_HEADER,
	.name = NOTES_NAME,
	.version = "1.0.0",
	.description = "example: a signed webhook, a poll, an HTTP action",
	.config = notes_config,
	.events = notes_events,
	.actions = notes_actions,
	.init = notes_init,
	.fini = notes_fini,
	.webhook = notes_webhook,
};

LUONG_EXPORT const struct luong_plugin *luong_plugin_entry(void)
{
	return &notes_plugin;
}

/*
 * haravan_bench.c - the smallest Haravan connector, for the rate limit
 * benchmark and its integration test; built against the public SDK only.
 * It declares Haravan's limit (apis.md §4: a leaky bucket of 80 calls
 * draining 4 per second, X-Haravan-Api-Call-Limit) and leaves the pacing
 * to the host.
 *
 *   webhook  POST /items  {"items": [{"id": ..., "title": ...}, ...]}
 *                         emits item.new per item (document id = .id)
 *   action   create_product  POST <server>/com/products.json
 *                         2xx -> ok ({"id": product id}),
 *                         429/5xx/no answer -> retry (Retry-After honoured),
 *                         other -> failed with Haravan's errors
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <luong/luong.h>

struct hb {
	const struct luong_host *host;
	struct luong_ctx *ctx;
	const char *server;
	char *auth; /* "Bearer <token>" */
};

static cJSON *product_body(const cJSON *input)
{
	const cJSON *title = cJSON_GetObjectItemCaseSensitive(input, "title");
	const cJSON *sku = cJSON_GetObjectItemCaseSensitive(input, "sku");
	cJSON *root = cJSON_CreateObject();
	cJSON *p = cJSON_AddObjectToObject(root, "product");
	cJSON *v = cJSON_CreateObject();

	cJSON_AddStringToObject(
		p, "title", cJSON_IsString(title) ? title->valuestring : "");
	if (cJSON_IsString(sku))
		cJSON_AddStringToObject(v, "sku", sku->valuestring);
	cJSON_AddItemToArray(cJSON_AddArrayToObject(p, "variants"), v);
	return root;
}

static enum luong_status answer(struct luong_call *call, struct hb *b,
				const struct luong_http_response *resp,
				cJSON **output)
{
	const struct luong_host *h = b->host;
	cJSON *reply = h->json->parse(resp->body, resp->body_len);
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(reply, "product");
	const char *ra;
	enum luong_status st = LUONG_OK;

	if (resp->status >= 200 && resp->status < 300) {
		*output = cJSON_CreateObject();
		cJSON_AddItemToObject(
			*output, "id",
			cJSON_Duplicate(
				cJSON_GetObjectItemCaseSensitive(p, "id"), 1));
	} else if (resp->status == 429 || resp->status >= 500) {
		ra = h->http->response_header(resp, "Retry-After");
		if (ra)
			h->call->retry_after(call, (uint32_t)(atof(ra) * 1000));
		h->call->set_error(call, "Haravan answered HTTP %ld",
				   resp->status);
		st = LUONG_E_TRANSIENT;
	} else {
		h->call->set_error(call, "Haravan refused (HTTP %ld): %s",
				   resp->status, resp->body);
		st = LUONG_E_REMOTE;
	}
	h->json->del(reply);
	return st;
}

static enum luong_status create_product(struct luong_call *call, void *state,
					const cJSON *input, cJSON **output)
{
	struct hb *b = state;
	const struct luong_host *h = b->host;
	cJSON *body = product_body(input);
	char url[512], *text = h->json->print(body);
	struct luong_http_header hdrs[] = {
		{ "Content-Type", "application/json" },
		{ "Authorization", b->auth },
	};
	struct luong_http_request req = {
		.struct_size = sizeof(req),
		.method = "POST",
		.url = url,
		.headers = hdrs,
		.n_headers = 2,
		.body = text,
		.body_len = strlen(text),
		.timeout_ms = 10000,
	};
	struct luong_http_response resp = { .struct_size = sizeof(resp) };
	enum luong_status st;

	h->json->del(body);
	snprintf(url, sizeof(url), "%s/com/products.json", b->server);
	st = h->http->request(b->ctx, &req, &resp);
	h->mem->free(text);
	if (st != LUONG_OK)
		h->call->set_error(call, "%s", resp.error);
	else
		st = answer(call, b, &resp, output);
	h->http->response_free(&resp);
	return st;
}

static enum luong_status hb_webhook(struct luong_ctx *ctx, void *state,
				    const struct luong_webhook_request *req,
				    struct luong_webhook_response *resp)
{
	struct hb *b = state;
	const struct luong_host *h = b->host;
	cJSON *body = h->json->parse(req->body, req->body_len);
	const cJSON *items, *it;
	enum luong_status st = LUONG_OK;

	if (!body)
		return LUONG_E_INVAL;
	items = cJSON_GetObjectItemCaseSensitive(body, "items");
	cJSON_ArrayForEach (it, items) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "id");

		if (st == LUONG_OK)
			st = cJSON_IsString(id)
				     ? h->events->emit(ctx, "item.new",
						       id->valuestring,
						       h->json->dup(it))
				     : LUONG_E_INVAL;
	}
	h->json->del(body);
	return st;
}

static enum luong_status hb_init(struct luong_ctx *ctx,
				 const struct luong_host *host, void **state)
{
	struct hb *b = host->mem->alloc(sizeof(*b));
	const char *token = host->config->get(ctx, "token");
	size_t n;

	if (!b)
		return LUONG_E_NOMEM;
	memset(b, 0, sizeof(*b));
	*state = b;
	b->host = host;
	b->ctx = ctx;
	b->server = host->config->get(ctx, "server");
	n = strlen(token) + 8;
	b->auth = host->mem->alloc(n);
	if (!b->auth)
		return LUONG_E_NOMEM;
	snprintf(b->auth, n, "Bearer %s", token);
	return LUONG_OK;
}

static void hb_fini(struct luong_ctx *ctx, void *state)
{
	struct hb *b = state;

	if (b) {
		b->host->mem->free(b->auth);
		b->host->mem->free(b);
	}
}

static const struct luong_config_field hb_config[] = {
	{ "server", LUONG_CFG_URL, LUONG_CFG_REQUIRED, NULL,
	  "Haravan API base URL" },
	{ "token", LUONG_CFG_SECRET, LUONG_CFG_REQUIRED, NULL,
	  "private app access token" },
	{ 0 }
};

static const struct luong_event_def hb_events[] = {
	{ .name = "item.new",
	  .kind = LUONG_EVENT_WEBHOOK,
	  .description = "an item to create" },
	{ 0 }
};

static const struct luong_action_def hb_actions[] = { { .name = "create_"
								"product",
							.description = "creates"
								       " a "
								       "product"
								       " in "
								       "Harava"
								       "n",
							.run = create_product },
						      { 0 } };

/* apis.md §4: 80 calls, draining 4 per second, per shop token */
static const struct luong_rate_limit hb_limit = {
	.struct_size = sizeof(struct luong_rate_limit),
	.burst = 80,
	.per_second = 4,
	.usage_header = "X-Haravan-Api-Call-Limit",
};

static const struct luong_plugin hb_plugin = {
	LUONG_PLUGIN_HEADER,
	.name = "haravan-bench",
	.version = "0.1.0",
	.description = "benchmark plugin: creates Haravan products",
	.config = hb_config,
	.events = hb_events,
	.actions = hb_actions,
	.init = hb_init,
	.fini = hb_fini,
	.webhook = hb_webhook,
	.rate_limit = &hb_limit,
};

LUONG_EXPORT const struct luong_plugin *luong_plugin_entry(void)
{
	return &hb_plugin;
}

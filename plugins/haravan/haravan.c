/*
 * haravan.c - the Haravan connector (apis.md §4): the shop's signed
 * webhooks become events, MISA's products and stock are written to the
 * shop, all within Haravan's call limit, which the plugin declares and
 * the host keeps for every flow on the shop.
 *
 *   webhook  POST /   (any path) a Haravan webhook: the signature
 *                     (X-Haravan-Hmacsha256, base64 HMAC-SHA256 of the
 *                     raw body) is checked before anything else: a
 *                     forgery is answered 401 and nothing is stored
 *            GET  ?hub.mode=subscribe&hub.verify_token=&hub.challenge=
 *                     Haravan's subscription check: the challenge echoed
 *   events   order.created, order.paid, order.fulfilled, order.cancelled,
 *            order.returned (a refund on an order not cancelled),
 *            customer.created, customer.updated; stock.schedule (a poll:
 *            one tick per interval, for the stock push H4)
 *   actions  save_product (H3), set_stock (H4), mark_order (the MISA
 *            document's number on the order): haravan_api.c
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "haravan.h"

/* Haravan's topics and the events they become ("" = acknowledged, not
 * stored: orders/updated follows every specific topic). */
static const struct {
	const char *topic, *event;
} topics[] = {
	{ "orders/create", "order.created" },
	{ "orders/paid", "order.paid" },
	{ "orders/fulfilled", "order.fulfilled" },
	{ "orders/cancelled", "order.cancelled" },
	{ "orders/updated", "" }, /* order.returned when it carries a refund */
	{ "customers/create", "customer.created" },
	{ "customers/update", "customer.updated" },
};

static const char *event_of(const char *topic, const cJSON *body)
{
	const cJSON *refunds;

	for (size_t i = 0; i < sizeof(topics) / sizeof(topics[0]); i++) {
		if (strcmp(topics[i].topic, topic))
			continue;
		if (strcmp(topic, "orders/updated"))
			return topics[i].event;
		/* goods sent back on an order that stands: a return */
		refunds = cJSON_GetObjectItemCaseSensitive(body, "refunds");
		if (cJSON_GetArraySize(refunds) > 0 &&
		    !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(body,
								     "cancelled"
								     "_"
								     "at"))) {
			const char *c = hrv_str(body, "cancelled_status");

			if (!c || strcmp(c, "cancelled"))
				return "order.returned";
		}
		return "";
	}
	return NULL;
}

static enum luong_status answer_text(const struct luong_host *h,
				     struct luong_webhook_response *resp,
				     unsigned status, const char *text)
{
	resp->status = status;
	snprintf(resp->content_type, sizeof(resp->content_type), "text/plain");
	resp->body = h->mem->strdup(text);
	resp->body_len = resp->body ? strlen(resp->body) : 0;
	return status < 400 ? LUONG_OK : LUONG_E_AUTH;
}

/* Haravan's subscription check: echo hub.challenge when the verify
 * token is ours (apis.md §4.3), else 401. */
static enum luong_status challenge(struct hrv *b,
				   const struct luong_webhook_request *req,
				   struct luong_webhook_response *resp)
{
	const char *mode = req->query(req, "hub.mode");
	const char *tok = req->query(req, "hub.verify_token");
	const char *ch = req->query(req, "hub.challenge");

	if (!mode || strcmp(mode, "subscribe") || !ch) {
		b->h->log->fail(b->ctx, "chỉ nhận webhook POST / only "
					"webhooks (POST) and hub.challenge");
		return LUONG_E_INVAL;
	}
	if (!b->verify_token || !tok || strcmp(tok, b->verify_token)) {
		b->h->log->fail(b->ctx, "hub.verify_token không đúng / "
					"wrong hub.verify_token");
		return LUONG_E_AUTH;
	}
	return answer_text(b->h, resp, 200, ch);
}

static enum luong_status hrv_webhook(struct luong_ctx *ctx, void *state,
				     const struct luong_webhook_request *req,
				     struct luong_webhook_response *resp)
{
	struct hrv *b = state;
	const struct luong_host *h = b->h;
	const char *sig = req->header(req, "X-Haravan-Hmacsha256");
	const char *topic, *org, *event, *id;
	char idbuf[32];
	cJSON *body;

	if (req->method && !strcmp(req->method, "GET"))
		return challenge(b, req, resp);
	/* before anything else: a forgery stores nothing */
	if (!sig ||
	    !h->helpers->hmac_verify(b->secret, strlen(b->secret), req->body,
				     req->body_len, sig, LUONG_SIG_BASE64)) {
		h->log->fail(ctx, "chữ ký Haravan không hợp lệ / bad or "
				  "missing X-Haravan-Hmacsha256 signature");
		return LUONG_E_AUTH;
	}
	org = req->header(req, "X-Haravan-Org-Id");
	if (org && strcmp(org, b->shop)) {
		h->log->fail(ctx,
			     "webhook của cửa hàng khác / webhook of "
			     "shop %.40s, this connection is shop %s",
			     org, b->shop);
		return LUONG_E_AUTH;
	}
	topic = req->header(req, "X-Haravan-Topic");
	body = h->json->parse(req->body, req->body_len);
	if (!topic || !cJSON_IsObject(body)) {
		h->log->fail(ctx, "thiếu X-Haravan-Topic hoặc nội dung không "
				  "phải JSON / no topic or no JSON object");
		h->json->del(body);
		return LUONG_E_INVAL;
	}
	event = event_of(topic, body);
	if (!event || !*event) {
		/* a topic no flow takes: acknowledged, so Haravan stops */
		h->log->log(ctx, LUONG_LOG_DEBUG, "topic %s not stored", topic);
		h->json->del(body);
		return LUONG_OK;
	}
	id = hrv_id(body, "id", idbuf, sizeof(idbuf));
	if (!id) {
		h->log->fail(ctx, "%s without an id", topic);
		h->json->del(body);
		return LUONG_E_INVAL;
	}
	/* id may point into body: emit copies it before consuming body */
	return h->events->emit(ctx, event, id, body);
}

/* H4's schedule: one tick per interval, a new document each time. */
static enum luong_status poll_stock(struct luong_ctx *ctx, void *state,
				    const char *cursor, char **next)
{
	struct hrv *b = state;
	const struct luong_host *h = b->h;
	long long now = (long long)h->clock->wall_ms();
	cJSON *tick = cJSON_CreateObject();
	char id[48];

	(void)cursor;
	cJSON_AddNumberToObject(tick, "at_ms", (double)now);
	cJSON_AddStringToObject(tick, "shop", b->shop);
	snprintf(id, sizeof(id), "ton-kho-%lld", now);
	*next = h->mem->strdup(id);
	return h->events->emit(ctx, "stock.schedule", id, tick);
}

static enum luong_status hrv_init(struct luong_ctx *ctx,
				  const struct luong_host *host, void **state)
{
	struct hrv *b = host->mem->alloc(sizeof(*b));
	const char *token = host->config->get(ctx, "access_token");
	size_t n;

	if (!b)
		return LUONG_E_NOMEM;
	memset(b, 0, sizeof(*b));
	*state = b;
	b->h = host;
	b->ctx = ctx;
	b->server = host->config->get(ctx, "server");
	b->shop = host->config->get(ctx, "shop");
	b->secret = host->config->get(ctx, "webhook_secret");
	b->verify_token = host->config->get(ctx, "verify_token");
	if (!token || !*token || !b->secret || !*b->secret || !b->shop) {
		host->log->fail(ctx, "shop, access_token and webhook_secret "
				     "are required");
		return LUONG_E_CONFIG;
	}
	n = strlen(token) + 8;
	b->auth = host->mem->alloc(n);
	if (!b->auth)
		return LUONG_E_NOMEM;
	snprintf(b->auth, n, "Bearer %s", token);
	return LUONG_OK;
}

static void hrv_fini(struct luong_ctx *ctx, void *state)
{
	struct hrv *b = state;

	(void)ctx;
	if (b) {
		b->h->mem->free(b->auth);
		b->h->mem->free(b);
	}
}

/* ---- tables ------------------------------------------------------------ */

static const struct luong_config_field hrv_config[] = {
	{ .name = "server",
	  .type = LUONG_CFG_URL,
	  .default_value = "https://apis.haravan.com",
	  .description = "Haravan API base URL (paths /com/*.json)" },
	{ .name = "shop",
	  .type = LUONG_CFG_STRING,
	  .flags = LUONG_CFG_REQUIRED,
	  .description = "the shop's org id (X-Haravan-Org-Id)" },
	{ .name = "access_token",
	  .type = LUONG_CFG_SECRET,
	  .flags = LUONG_CFG_REQUIRED,
	  .description = "private app access token (Bearer)" },
	{ .name = "webhook_secret",
	  .type = LUONG_CFG_SECRET,
	  .flags = LUONG_CFG_REQUIRED,
	  .description = "key of the webhooks' HMAC-SHA256 signature" },
	{ .name = "verify_token",
	  .type = LUONG_CFG_SECRET,
	  .description = "hub.verify_token of the subscription check" },
	{ 0 }
};

#define S LUONG_FIELD_STRING
#define N LUONG_FIELD_NUMBER
#define A LUONG_FIELD_ARRAY
#define O LUONG_FIELD_OBJECT
#define ANY LUONG_FIELD_ANY

static const struct luong_field_def order_fields[] = {
	{ .name = "id", .type = N, .description = "the order id (document)" },
	{ .name = "name", .type = S, .description = "\"#1003\"" },
	{ .name = "order_number", .type = N },
	{ .name = "created_at", .type = S },
	{ .name = "cancelled_at", .type = ANY },
	{ .name = "cancel_reason", .type = ANY },
	{ .name = "financial_status",
	  .type = S,
	  .description = "pending, paid, refunded, voided, ..." },
	{ .name = "fulfillment_status",
	  .type = ANY,
	  .description = "null, partial, fulfilled, restocked" },
	{ .name = "cancelled_status", .type = S },
	{ .name = "location_id", .type = ANY },
	{ .name = "gateway", .type = S },
	{ .name = "user_id", .type = ANY, .description = "staff who made it" },
	{ .name = "total_line_items_price", .type = N },
	{ .name = "total_discounts",
	  .type = N,
	  .description = "line and order-level discounts" },
	{ .name = "subtotal_price", .type = N },
	{ .name = "total_price", .type = N },
	{ .name = "line_items",
	  .type = A,
	  .description = "sku, title, quantity, price, total_discount" },
	{ .name = "discount_codes", .type = A },
	{ .name = "shipping_lines", .type = A },
	{ .name = "transactions", .type = A },
	{ .name = "refunds", .type = A },
	{ .name = "fulfillments", .type = A },
	{ .name = "customer", .type = O },
	{ .name = "shipping_address", .type = ANY },
	{ .name = "billing_address", .type = ANY },
	{ .name = "note", .type = ANY },
	{ .name = "note_attributes", .type = A },
	{ .name = "updated_at", .type = S },
	{ .name = "email", .type = ANY },
	{ 0 }
};

static const char order_sample[] =
	"{\"id\":1100000101,\"name\":\"#1003\",\"order_number\":1003,"
	"\"created_at\":\"2025-06-10T02:30:00.123Z\","
	"\"financial_status\":\"paid\",\"fulfillment_status\":\"fulfilled\","
	"\"cancelled_status\":\"uncancelled\",\"location_id\":1000001,"
	"\"total_line_items_price\":384000,\"total_discounts\":50000,"
	"\"subtotal_price\":334000,\"total_price\":359000,"
	"\"line_items\":[{\"id\":1100000102,\"sku\":\"SP002\",\"title\":"
	"\"Dầu ăn Neptune 1L\",\"quantity\":2,\"price\":192000,"
	"\"total_discount\":30000}],\"discount_codes\":[{\"code\":"
	"\"GIAM20K\",\"amount\":20000,\"type\":\"fixed_amount\"}],"
	"\"customer\":{\"id\":1100000001,\"first_name\":\"Thị Mai\","
	"\"last_name\":\"Nguyễn\"}}";

static const struct luong_field_def customer_fields[] = {
	{ .name = "id", .type = N, .description = "the customer id" },
	{ .name = "first_name", .type = ANY },
	{ .name = "last_name", .type = ANY },
	{ .name = "email", .type = ANY },
	{ .name = "phone", .type = ANY },
	{ .name = "default_address", .type = ANY },
	{ .name = "addresses", .type = A },
	{ .name = "tags", .type = ANY },
	{ .name = "group_name",
	  .type = ANY,
	  .description = "informative: MISA takes no group by API" },
	{ 0 }
};

static const char customer_sample[] =
	"{\"id\":1100000123,\"first_name\":\"Văn Hùng\",\"last_name\":"
	"\"Phạm\",\"email\":\"hung.pham@example.vn\",\"phone\":"
	"\"0904 555 666\",\"default_address\":{\"address1\":"
	"\"12 Lý Thường Kiệt\",\"province\":\"Hà Nội\"}}";

static const struct luong_field_def tick_fields[] = {
	{ .name = "at_ms", .type = N, .description = "when (Unix ms)" },
	{ .name = "shop", .type = S },
	{ 0 }
};

/* fetch(): one record read now by its id, as its webhook carries it (the
 * go-live check: `luong flows try FLOW <id>` before Haravan has sent it). */
static enum luong_status fetch_one(struct hrv *b, struct luong_ctx *ctx,
				   const char *what, const char *id,
				   cJSON **payload)
{
	const struct luong_host *h = b->h;
	char path[160];
	cJSON *reply = NULL, *rec;
	enum luong_status st;

	for (const char *c = id; *c; c++)
		if (*c < '0' || *c > '9' || c - id > 20)
			return LUONG_E_NOTFOUND; /* Haravan's ids are numbers */
	snprintf(path, sizeof(path), "%ss/%s.json", what, id);
	st = hrv_call(b, NULL, "GET", path, NULL, &reply);
	rec = cJSON_DetachItemFromObjectCaseSensitive(reply, what);
	if (st == LUONG_OK && cJSON_IsObject(rec)) {
		*payload = rec;
		rec = NULL;
	} else if (st == LUONG_OK || st == LUONG_E_REMOTE) {
		h->log->fail(ctx, "Haravan không có %s %s / has no %s %s", what,
			     id, what, id);
		st = LUONG_E_NOTFOUND;
	} else {
		h->log->fail(ctx,
			     "không đọc được %s %s từ Haravan / cannot "
			     "read %s %s: %s",
			     what, id, what, id, luong_status_text(st));
	}
	h->json->del(rec);
	h->json->del(reply);
	return st;
}

static enum luong_status fetch_order(struct luong_ctx *ctx, void *state,
				     const char *id, cJSON **payload)
{
	return fetch_one(state, ctx, "order", id, payload);
}

static enum luong_status fetch_customer(struct luong_ctx *ctx, void *state,
					const char *id, cJSON **payload)
{
	return fetch_one(state, ctx, "customer", id, payload);
}

static const struct luong_event_def hrv_events[] = {
	{ .name = "order.created",
	  .kind = LUONG_EVENT_WEBHOOK,
	  .description = "orders/create; id = order id",
	  .fields = order_fields,
	  .sample = order_sample,
	  .fetch = fetch_order },
	{ .name = "order.paid",
	  .kind = LUONG_EVENT_WEBHOOK,
	  .description = "orders/paid; id = order id",
	  .fields = order_fields,
	  .sample = order_sample,
	  .fetch = fetch_order },
	{ .name = "order.fulfilled",
	  .kind = LUONG_EVENT_WEBHOOK,
	  .description = "orders/fulfilled (delivered); id = order id",
	  .fields = order_fields,
	  .sample = order_sample,
	  .fetch = fetch_order },
	{ .name = "order.cancelled",
	  .kind = LUONG_EVENT_WEBHOOK,
	  .description = "orders/cancelled; id = order id",
	  .fields = order_fields,
	  .sample = order_sample,
	  .fetch = fetch_order },
	{ .name = "order.returned",
	  .kind = LUONG_EVENT_WEBHOOK,
	  .description = "orders/updated carrying a refund, order not "
			 "cancelled; id = order id",
	  .fields = order_fields,
	  .sample = order_sample,
	  .fetch = fetch_order },
	{ .name = "customer.created",
	  .kind = LUONG_EVENT_WEBHOOK,
	  .description = "customers/create; id = customer id",
	  .fields = customer_fields,
	  .sample = customer_sample,
	  .fetch = fetch_customer },
	{ .name = "customer.updated",
	  .kind = LUONG_EVENT_WEBHOOK,
	  .description = "customers/update; id = customer id",
	  .fields = customer_fields,
	  .sample = customer_sample,
	  .fetch = fetch_customer },
	{ .name = "stock.schedule",
	  .kind = LUONG_EVENT_POLL,
	  .description = "a tick per interval (stock push); id = "
			 "ton-kho-<ms>",
	  .poll = poll_stock,
	  .default_interval_s = 900,
	  .fields = tick_fields,
	  .sample = "{\"at_ms\":1749522600000,\"shop\":\"200000388812\"}" },
	{ 0 }
};

static const struct luong_field_def product_inputs[] = {
	{ .name = "sku",
	  .type = S,
	  .flags = LUONG_FIELD_REQUIRED,
	  .description = "the variant's SKU (MISA's item code)" },
	{ .name = "title", .type = S, .flags = LUONG_FIELD_REQUIRED },
	{ .name = "description", .type = ANY, .description = "body_html" },
	{ .name = "unit",
	  .type = ANY,
	  .description = "unit, as the variant's option1" },
	{ .name = "price", .type = ANY, .description = "sale price (VND)" },
	{ 0 }
};

static const struct luong_field_def product_outputs[] = {
	{ .name = "product_id", .type = S },
	{ .name = "variant_id", .type = S },
	{ .name = "sku", .type = S },
	{ .name = "created", .type = LUONG_FIELD_BOOL },
	{ 0 }
};

static const struct luong_field_def stock_inputs[] = {
	{ .name = "levels",
	  .type = A,
	  .flags = LUONG_FIELD_REQUIRED,
	  .description = "[{sku, location_id, quantity}]" },
	{ 0 }
};

static const struct luong_field_def stock_outputs[] = {
	{ .name = "written", .type = LUONG_FIELD_INTEGER },
	{ .name = "unchanged", .type = LUONG_FIELD_INTEGER },
	{ .name = "adjustments", .type = A },
	{ .name = "not_in_haravan", .type = A },
	{ 0 }
};

static const struct luong_field_def mark_inputs[] = {
	{ .name = "order_id", .type = ANY, .flags = LUONG_FIELD_REQUIRED },
	{ .name = "name",
	  .type = S,
	  .flags = LUONG_FIELD_REQUIRED,
	  .description = "the note attribute's name" },
	{ .name = "value", .type = S, .flags = LUONG_FIELD_REQUIRED },
	{ .name = "note_attributes",
	  .type = ANY,
	  .description = "the order's own, kept" },
	{ 0 }
};

static const struct luong_field_def mark_outputs[] = {
	{ .name = "order_id", .type = S }, { .name = "value", .type = S }, { 0 }
};

static const struct luong_action_def hrv_actions[] = {
	{ .name = "save_product",
	  .description = "create or update a product (found by SKU) with "
			 "its one variant",
	  .run = hrv_save_product,
	  .inputs = product_inputs,
	  .outputs = product_outputs },
	{ .name = "set_stock",
	  .description = "set on-hand per location, writing only levels "
			 "that differ (adjustorset, type set)",
	  .run = hrv_set_stock,
	  .inputs = stock_inputs,
	  .outputs = stock_outputs },
	{ .name = "mark_order",
	  .description = "set a note attribute of an order (e.g. the MISA "
			 "document made of it)",
	  .run = hrv_mark_order,
	  .inputs = mark_inputs,
	  .outputs = mark_outputs },
	{ 0 }
};

/* apis.md §4.1: a leaky bucket of 80 calls draining 4 a second per
 * shop; the host paces every call of the connection and reads the
 * bucket's level from each answer */
static const struct luong_rate_limit hrv_limit = {
	.struct_size = sizeof(struct luong_rate_limit),
	.burst = 80,
	.per_second = 4,
	.usage_header = "X-Haravan-Api-Call-Limit",
};

static const struct luong_plugin hrv_plugin = {
	LUONG_PLUGIN_HEADER,
	.name = "haravan",
	.version = "1.0.0",
	.description = "Haravan (e-commerce): signed webhooks of orders and "
		       "customers; products and stock written to the shop",
	.config = hrv_config,
	.events = hrv_events,
	.actions = hrv_actions,
	.init = hrv_init,
	.fini = hrv_fini,
	.webhook = hrv_webhook,
	.rate_limit = &hrv_limit,
};

LUONG_EXPORT const struct luong_plugin *luong_plugin_entry(void)
{
	return &hrv_plugin;
}

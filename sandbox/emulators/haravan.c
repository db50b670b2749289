/*
 * haravan.c - emulator of the Haravan Omni API (apis.md §4).
 *
 * Faithful: Bearer private-app tokens with scopes, /com/<resource>.json endpoints
 * (customers, products and variants, locations, inventory_locations,
 * inventories/adjustorset, orders with transactions and refunds), paging,
 * 422 {"errors": {...}} bodies, the per-token leaky bucket with
 * X-Haravan-Api-Call-Limit and 429 + Retry-After, and webhooks signed with
 * base64 HMAC-SHA256 of the raw body. See sandbox/docs/haravan.md.
 *
 * State is kept as cJSON trees (what the API returns is what is stored);
 * line items carry a few "_"-prefixed counters that are stripped on output.
 *
 * This file: helpers, errors, auth and the leaky bucket, paging, webhooks,
 * the life cycle and registration. The resources live in haravan_customers.c,
 * haravan_catalog.c, haravan_orders.c and haravan_orders_api.c, the acts in
 * haravan_acts.c; haravan_int.h is what they share.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../core/sbx.h"
#include "haravan_int.h"

/* Rounds up; the sandbox links no libm. */
static double up(double v)
{
	double t = (double)(long long)v;
	return t < v ? t + 1 : t;
}

/* ---- ids and times ---- */

cJSON *hrv_find_id(const cJSON *arr, double id)
{
	const cJSON *it;
	cJSON_ArrayForEach (it, arr) {
		if (jid(it) == id)
			return (cJSON *)it;
	}
	return NULL;
}

double hrv_parse_id(const char *s)
{
	char *end = NULL;
	if (!s || !*s)
		return -1;
	double v = strtod(s, &end);
	if (*end || v < 0 || !whole(v))
		return -1;
	return v;
}

/* Haravan answers times in UTC with milliseconds: 2021-05-13T07:29:20.808Z. */
static void now_utc(char *buf, size_t n)
{
	int64_t ms = sbx_now_ms();
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	char base[32];
	strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, n, "%s.%03dZ", base, (int)(ms % 1000));
}

void hrv_stamp(cJSON *o, const char *k)
{
	char t[40];
	now_utc(t, sizeof t);
	sbx_jset_str(o, k, t);
}

/* ---- errors ---- */

void hrv_reply_422(struct sbx_req *req, const char *field, const char *msg)
{
	cJSON *errs = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(errs, field);
	cJSON_AddItemToArray(arr, cJSON_CreateString(msg));
	sbx_reply_json(req, 422, wrap("errors", errs));
}

void hrv_reply_404(struct sbx_req *req)
{
	sbx_reply_json(req, 404,
		       wrap("errors", cJSON_CreateString("Not Found")));
}

/* The body's root object ("order", "customer", ...) or a 400 reply. */
const cJSON *hrv_body_root(struct sbx_req *req, const char *key)
{
	const cJSON *o = req->json ? jget(req->json, key) : NULL;
	if (cJSON_IsObject(o))
		return o;
	cJSON *errs = cJSON_CreateObject();
	cJSON_AddStringToObject(errs, key,
				"Required parameter missing or invalid");
	sbx_reply_json(req, 400, wrap("errors", errs));
	return NULL;
}

/* ---- auth, scopes and the leaky bucket ---- */

static struct hrv_token *find_token(struct hrv *st, struct sbx_req *req)
{
	const char *h = sbx_header(req, "Authorization");
	const char *tok = NULL;
	if (h && strncasecmp(h, "Bearer ", 7) == 0)
		tok = h + 7;
	else
		tok = sbx_header(req,
				 "haravan-access-token"); /* legacy clients */
	if (!tok)
		return NULL;
	while (*tok == ' ')
		tok++;
	for (int i = 0; i < st->ntokens; i++) {
		if (strcmp(st->tokens[i].token, tok) == 0)
			return &st->tokens[i];
	}
	return NULL;
}

static bool has_scope(const struct hrv_token *t, const char *scope)
{
	/* scope is "read_orders" or "write_orders"; write implies read */
	char want[64];
	char write[64];
	snprintf(want, sizeof want, "com.%s", scope);
	snprintf(write, sizeof write, "com.write_%s",
		 strncmp(scope, "read_", 5) == 0 ? scope + 5 : scope + 6);
	const cJSON *s;
	cJSON_ArrayForEach (s, t->scopes) {
		if (cJSON_IsString(s) && (strcmp(s->valuestring, want) == 0 ||
					  strcmp(s->valuestring, write) == 0))
			return true;
	}
	return false;
}

/* Authenticates, charges the bucket and checks the scope; on failure the
 * reply is already made and NULL is returned. */
struct hrv_token *hrv_auth(struct sbx_emu *emu, struct sbx_req *req,
			   const char *scope)
{
	struct hrv *st = emu->data;
	struct hrv_token *t = find_token(st, req);
	char hdr[64];

	if (!t) {
		sbx_reply_json(req, 401,
			       wrap("errors", cJSON_CreateString("[API] "
								 "Invalid API "
								 "key or "
								 "access token "
								 "(unrecognized"
								 " login or "
								 "wrong "
								 "password)")));
		return NULL;
	}
	int64_t now = sbx_now_ms();
	if (t->last_ms) {
		t->level -= st->leak * (double)(now - t->last_ms) / 1000.0;
		if (t->level < 0)
			t->level = 0;
	}
	t->last_ms = now;
	if (t->level + 1 > st->capacity) {
		/* time until one call drains, rounded up to a tenth of a second */
		double wait = (t->level + 1 - st->capacity) /
			      (st->leak > 0 ? st->leak : 1);
		wait = up(wait * 10) / 10;
		snprintf(hdr, sizeof hdr, "%.0f/%.0f", st->capacity,
			 st->capacity);
		sbx_reply_header(req, "X-Haravan-Api-Call-Limit", hdr);
		snprintf(hdr, sizeof hdr, "%.1f", wait);
		sbx_reply_header(req, "Retry-After", hdr);
		char msg[160];
		snprintf(msg, sizeof msg,
			 "Exceeded %.0f calls per second for api client. "
			 "Reduce request rates to resume uninterrupted "
			 "service.",
			 st->capacity);
		sbx_reply_json(req, 429,
			       wrap("errors", cJSON_CreateString(msg)));
		return NULL;
	}
	t->level += 1;
	snprintf(hdr, sizeof hdr, "%.0f/%.0f", up(t->level), st->capacity);
	sbx_reply_header(req, "X-Haravan-Api-Call-Limit", hdr);
	if (scope && !has_scope(t, scope)) {
		sbx_reply_json(req, 403, cJSON_CreateObject());
		return NULL;
	}
	return t;
}

/* ---- paging and filters ---- */

static long qlong(struct sbx_req *req, const char *k, long dflt)
{
	const char *s = sbx_query(req, k);
	char *end = NULL;
	if (!s || !*s)
		return dflt;
	long v = strtol(s, &end, 10);
	return *end ? dflt : v;
}

bool hrv_in_id_list(const char *list, double id)
{
	char buf[32];
	snprintf(buf, sizeof buf, "%.0f", id);
	size_t n = strlen(buf);
	for (const char *p = list; p && *p;) {
		while (*p == ' ')
			p++;
		if (strncmp(p, buf, n) == 0 &&
		    (p[n] == ',' || p[n] == '\0' || p[n] == ' '))
			return true;
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return false;
}

static bool time_ok(const cJSON *it, const char *field, struct sbx_req *req,
		    const char *qmin, const char *qmax)
{
	const char *smin = sbx_query(req, qmin);
	const char *smax = sbx_query(req, qmax);
	if (!smin && !smax)
		return true;
	const char *v = sbx_jstr(it, field);
	int64_t t = v ? sbx_parse_time(v) : -1;
	if (t < 0)
		return false;
	if (smin && t < sbx_parse_time(smin))
		return false;
	if (smax && t > sbx_parse_time(smax))
		return false;
	return true;
}

/* Filters common to every list: ids, since_id, created/updated ranges. */
static bool common_ok(const cJSON *it, struct sbx_req *req)
{
	const char *ids = sbx_query(req, "ids");
	double since = hrv_parse_id(sbx_query(req, "since_id"));
	if (ids && !hrv_in_id_list(ids, jid(it)))
		return false;
	if (since >= 0 && jid(it) <= since)
		return false;
	return time_ok(it, "created_at", req, "created_at_min",
		       "created_at_max") &&
	       time_ok(it, "updated_at", req, "updated_at_min",
		       "updated_at_max");
}

static int cmp_updated(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a;
	const cJSON *y = *(const cJSON *const *)b;
	int c = strcmp(
		sbx_jstr(x, "updated_at") ? sbx_jstr(x, "updated_at") : "",
		sbx_jstr(y, "updated_at") ? sbx_jstr(y, "updated_at") : "");
	if (c)
		return c;
	return jid(x) < jid(y) ? -1 : jid(x) > jid(y);
}

/* Collects matching items in id order (or order=updated_at), pages them
 * with page/limit and returns copies; *total gets the match count. */
cJSON *hrv_list_page(struct sbx_req *req, struct hrv *st, const cJSON *arr,
		     hrv_keep_fn keep, const struct hrv_list_opts *o,
		     int *total)
{
	int n = cJSON_GetArraySize(arr);
	const cJSON **hits = calloc((size_t)n + 1, sizeof(*hits));
	int nh = 0;
	const cJSON *it;
	cJSON *out = cJSON_CreateArray();

	if (!hits)
		return out;
	cJSON_ArrayForEach (it, arr) {
		if (common_ok(it, req) && (!keep || keep(it, req, st)))
			hits[nh++] = it;
	}
	const char *order = sbx_query(req, "order");
	const char *dir = sbx_query(req, "direction");
	bool desc = (order && strstr(order, "desc")) ||
		    (dir && strcasecmp(dir, "desc") == 0);
	if (order && strncmp(order, "updated_at", 10) == 0)
		qsort(hits, (size_t)nh, sizeof(*hits), cmp_updated);
	if (desc) {
		for (int i = 0; i < nh / 2; i++) {
			const cJSON *tmp = hits[i];
			hits[i] = hits[nh - 1 - i];
			hits[nh - 1 - i] = tmp;
		}
	}
	long limit = qlong(req, "limit", o->dflt_limit);
	if (limit < 1)
		limit = o->dflt_limit;
	if (limit > o->max_limit)
		limit = o->max_limit; /* silently capped, as the service does */
	long page = qlong(req, "page", 1);
	if (page < 1)
		page = 1;
	for (long i = (page - 1) * limit; i < nh && i < page * limit; i++)
		cJSON_AddItemToArray(out, sbx_out_copy(hits[i]));
	if (total)
		*total = nh;
	free(hits);
	return out;
}

static void reply_count(struct sbx_req *req, struct hrv *st, const cJSON *arr,
			hrv_keep_fn keep)
{
	static const struct hrv_list_opts all = { 1 << 30, 1 << 30 };
	int total = 0;
	cJSON_Delete(hrv_list_page(req, st, arr, keep, &all, &total));
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "count", total);
	sbx_reply_json(req, 200, o);
}

/* Lists' page sizes: {largest, default}. */
const struct hrv_list_opts hrv_opts_default = { 250, 50 };
const struct hrv_list_opts hrv_opts_orders = { 50, 50 };
const struct hrv_list_opts hrv_opts_inventory = { 250, 250 };

/* The record of arr named by the "{id}" of the path, for a caller with
 * scope; NULL after replying 401/403 or 404. */
cJSON *hrv_auth_find(struct sbx_emu *emu, struct sbx_req *req,
		     const char *scope, const cJSON *arr)
{
	if (!hrv_auth(emu, req, scope))
		return NULL;
	cJSON *it = hrv_find_id(arr, hrv_parse_id(sbx_param(req, "id")));
	if (!it)
		hrv_reply_404(req);
	return it;
}

static const cJSON *coll_rows(const struct hrv *st, const struct hrv_coll *c)
{
	return *(cJSON *const *)(const void *)((const char *)st + c->off);
}

void hrv_coll_list(struct sbx_emu *emu, struct sbx_req *req,
		   const struct hrv_coll *c)
{
	struct hrv *st = emu->data;
	if (!hrv_auth(emu, req, c->scope))
		return;
	cJSON *arr = hrv_list_page(req, st, coll_rows(st, c), c->keep, c->opts,
				   NULL);
	sbx_reply_json(req, 200, wrap(c->plural, arr));
}

void hrv_coll_count(struct sbx_emu *emu, struct sbx_req *req,
		    const struct hrv_coll *c)
{
	struct hrv *st = emu->data;
	if (!hrv_auth(emu, req, c->scope))
		return;
	reply_count(req, st, coll_rows(st, c), c->keep);
}

void hrv_coll_get(struct sbx_emu *emu, struct sbx_req *req,
		  const struct hrv_coll *c)
{
	struct hrv *st = emu->data;
	cJSON *it = hrv_auth_find(emu, req, c->scope, coll_rows(st, c));
	if (!it)
		return;
	sbx_reply_json(req, 200, wrap(c->single, sbx_out_copy(it)));
}

/* ---- webhooks ---- */

void hrv_emit(struct sbx_emu *emu, const char *topic, const cJSON *resource)
{
	struct hrv *st = emu->data;
	cJSON *body = sbx_out_copy(resource);
	char *raw = cJSON_PrintUnformatted(body);
	char h_topic[96];
	char h_org[64];
	char h_sig[128];
	char h_order[64];

	cJSON_Delete(body);
	if (!raw)
		return;
	char *sig = sbx_webhook_sign_b64(
		emu, sbx_jstr(st->shop, "webhook_secret"), raw);
	snprintf(h_topic, sizeof h_topic, "X-Haravan-Topic: %s", topic);
	snprintf(h_org, sizeof h_org, "X-Haravan-Org-Id: %.0f",
		 jnum(st->shop, "org_id"));
	snprintf(h_sig, sizeof h_sig, "X-Haravan-Hmacsha256: %s",
		 sig ? sig : "");
	const char *headers[6] = { "Content-Type: application/json",
				   h_topic,
				   h_org,
				   h_sig,
				   NULL,
				   NULL };
	if (strncmp(topic, "orders/", 7) == 0) {
		snprintf(h_order, sizeof h_order, "X-Haravan-Order-Id: %.0f",
			 jid(resource));
		headers[4] = h_order;
	}
	struct sbx_hook hook = {
		.topic = topic,
		.body = raw,
		.body_len = strlen(raw),
		.headers = headers,
	};
	long id = sbx_webhook_post(emu, &hook);
	if (st->out_hooks) {
		cJSON *d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, "topic", topic);
		cJSON_AddNumberToObject(d, "delivery_id", (double)id);
		cJSON_AddItemToArray(st->out_hooks, d);
	}
	free(sig);
	free(raw);
}

/* A specific order topic, then orders/updated when the shop sends both. */
void hrv_emit_order(struct sbx_emu *emu, const char *topic, const cJSON *order)
{
	struct hrv *st = emu->data;
	hrv_emit(emu, topic, order);
	if (strcmp(topic, "orders/updated") != 0 &&
	    strcmp(topic, "orders/create") != 0 && st->also_updated)
		hrv_emit(emu, "orders/updated", order);
}

/* ---- life cycle ---- */

static cJSON *seed_array(const cJSON *seed, const char *key)
{
	const cJSON *a = jget(seed, key);
	return cJSON_IsArray(a) ? cJSON_Duplicate(a, true)
				: cJSON_CreateArray();
}

static void hrv_free(struct sbx_emu *emu)
{
	struct hrv *st = emu->data;
	if (!st)
		return;
	for (int i = 0; i < st->ntokens; i++)
		cJSON_Delete(st->tokens[i].scopes);
	cJSON_Delete(st->shop);
	cJSON_Delete(st->locations);
	cJSON_Delete(st->groups);
	cJSON_Delete(st->customers);
	cJSON_Delete(st->products);
	cJSON_Delete(st->inventory);
	cJSON_Delete(st->orders);
	cJSON_Delete(st->adjustments);
	cJSON_Delete(st->out_hooks);
	free(st);
	emu->data = NULL;
}

static void seed_tokens(struct hrv *st, const cJSON *seed)
{
	const cJSON *t;
	cJSON_ArrayForEach (t, jget(seed, "tokens")) {
		const char *tok = sbx_jstr(t, "token");
		if (!tok || st->ntokens >= HRV_MAX_TOKENS ||
		    strlen(tok) >= HRV_TOKEN_LEN)
			continue;
		struct hrv_token *ht = &st->tokens[st->ntokens++];
		snprintf(ht->token, sizeof ht->token, "%s", tok);
		const cJSON *sc = jget(t, "scopes");
		ht->scopes = cJSON_IsArray(sc) ? cJSON_Duplicate(sc, true)
					       : cJSON_CreateArray();
	}
}

/* Seed products are stored through the same code as API ones; stock is
 * given per sku and location. */
static void seed_catalogue(struct hrv *st, const cJSON *seed)
{
	const cJSON *p;
	cJSON_ArrayForEach (p, jget(seed, "products"))
		hrv_product_create(st, p);
	const cJSON *s;
	cJSON_ArrayForEach (s, jget(seed, "stock")) {
		cJSON *prod = NULL;
		cJSON *v = hrv_find_variant_sku(st, sbx_jstr(s, "sku"), &prod);
		const cJSON *q;
		if (!v)
			continue;
		cJSON_ArrayForEach (q, jget(s, "qty")) {
			/* "qty": {"<location id>": onhand} */
			hrv_inv_set(st, hrv_parse_id(q->string), v, prod,
				    q->valuedouble);
		}
	}
}

static int seed_orders(struct sbx_emu *emu, const cJSON *seed)
{
	struct hrv *st = emu->data;
	const cJSON *o;
	cJSON_ArrayForEach (o, jget(seed, "orders")) {
		double before = cJSON_GetArraySize(st->orders);
		cJSON *in = cJSON_Duplicate(o, true);
		cJSON *cust = NULL;
		if (sbx_jstr(o, "customer_email"))
			cust = hrv_find_customer_by(
				st, "email", sbx_jstr(o, "customer_email"), -1);
		if (cust)
			cJSON_AddNumberToObject(in, "customer_id", jid(cust));
		double loc =
			sbx_jnum(in, "location_id", hrv_primary_location(st));
		const cJSON *l;
		cJSON_ArrayForEach (l, jget(in, "line_items")) {
			if (!hrv_line_variant(st, l, NULL) ||
			    sbx_jnum(l, "quantity", 0) < 1) {
				cJSON_Delete(in);
				return -1;
			}
		}
		cJSON *ord = hrv_order_build(emu, in, loc);
		if (sbx_jstr(o, "financial_status") &&
		    strcmp(sbx_jstr(o, "financial_status"), "paid") == 0)
			hrv_tx_new(st, ord, "sale", jnum(ord, "total_price"),
				   NULL);
		hrv_recompute_financial(ord);
		if (sbx_jstr(o, "fulfillment_status"))
			hrv_fulfil(st, ord, NULL, NULL);
		cJSON_Delete(in);
		if (cJSON_GetArraySize(st->orders) != before + 1)
			return -1;
	}
	return 0;
}

static int hrv_init(struct sbx_emu *emu, const cJSON *seed)
{
	struct hrv *st = calloc(1, sizeof(*st));
	if (!st)
		return -1;
	emu->data = st;
	const cJSON *shop = jget(seed, "shop");
	st->shop = cJSON_IsObject(shop) ? cJSON_Duplicate(shop, true)
					: cJSON_CreateObject();
	if (!jget(st->shop, "org_id"))
		cJSON_AddNumberToObject(st->shop, "org_id", 200000000001.0);
	const cJSON *rl = jget(seed, "rate_limit");
	st->capacity = sbx_jnum(rl, "capacity", 80);
	st->leak = sbx_jnum(rl, "leak_per_sec", 4);
	st->also_updated =
		sbx_jbool(seed, "send_orders_updated_with_topic", true);
	st->next_id = sbx_jnum(seed, "first_id", 1100000000);
	st->next_order_number = sbx_jnum(seed, "first_order_number", 1001);
	st->next_adjust_number = 100001;
	seed_tokens(st, seed);
	st->locations = seed_array(seed, "locations");
	st->groups = seed_array(seed, "customer_groups");
	st->customers = cJSON_CreateArray();
	st->products = cJSON_CreateArray();
	st->inventory = cJSON_CreateArray();
	st->orders = cJSON_CreateArray();
	st->adjustments = cJSON_CreateArray();
	const cJSON *c;
	cJSON_ArrayForEach (c, jget(seed, "customers")) {
		cJSON *cust = hrv_customer_new(st);
		for (int i = 0; hrv_customer_fields[i]; i++)
			jcopy(cust, c, hrv_customer_fields[i]);
		const cJSON *a;
		cJSON *addrs = cJSON_CreateArray();
		cJSON_ArrayForEach (a, jget(c, "addresses"))
			cJSON_AddItemToArray(addrs,
					     hrv_make_address(st, a, cust));
		if (addrs->child) {
			sbx_jset(addrs->child, "default", cJSON_CreateTrue());
			sbx_jset(cust, "default_address",
				 cJSON_Duplicate(addrs->child, true));
		}
		sbx_jset(cust, "addresses", addrs);
		cJSON_AddItemToArray(st->customers, cust);
	}
	seed_catalogue(st, seed);
	if (seed_orders(emu, seed) < 0)
		return -1;
	return 0;
}

static cJSON *hrv_dump(struct sbx_emu *emu)
{
	struct hrv *st = emu->data;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "shop", cJSON_Duplicate(st->shop, true));
	cJSON *toks = cJSON_AddArrayToObject(o, "tokens");
	for (int i = 0; i < st->ntokens; i++) {
		cJSON *t = cJSON_CreateObject();
		cJSON_AddStringToObject(t, "token", st->tokens[i].token);
		cJSON_AddItemToObject(t, "scopes",
				      cJSON_Duplicate(st->tokens[i].scopes,
						      true));
		cJSON_AddNumberToObject(t, "bucket_level", st->tokens[i].level);
		cJSON_AddItemToArray(toks, t);
	}
	cJSON *rl = cJSON_AddObjectToObject(o, "rate_limit");
	cJSON_AddNumberToObject(rl, "capacity", st->capacity);
	cJSON_AddNumberToObject(rl, "leak_per_sec", st->leak);
	cJSON_AddItemToObject(o, "locations",
			      cJSON_Duplicate(st->locations, true));
	cJSON_AddItemToObject(o, "customer_groups",
			      cJSON_Duplicate(st->groups, true));
	cJSON_AddItemToObject(o, "customers", sbx_out_copy(st->customers));
	cJSON_AddItemToObject(o, "products", sbx_out_copy(st->products));
	cJSON_AddItemToObject(o, "inventory_locations",
			      sbx_out_copy(st->inventory));
	cJSON_AddItemToObject(o, "adjustments", sbx_out_copy(st->adjustments));
	/* orders keep their internal counters here: tests may assert on them */
	cJSON_AddItemToObject(o, "orders", cJSON_Duplicate(st->orders, true));
	return o;
}

static const struct sbx_route hrv_routes[] = {
	{ "GET", "/com/shop.json", hrv_h_shop },
	{ "GET", "/com/customers.json", hrv_h_customers_list },
	{ "POST", "/com/customers.json", hrv_h_customer_create },
	{ "GET", "/com/customers/search.json", hrv_h_customers_list },
	{ "GET", "/com/customers/count.json", hrv_h_customers_count },
	{ "GET", "/com/customers/groups.json", hrv_h_customer_groups },
	{ "GET", "/com/customers/{id}.json", hrv_h_customer_get },
	{ "PUT", "/com/customers/{id}.json", hrv_h_customer_update },
	{ "DELETE", "/com/customers/{id}.json", hrv_h_customer_delete },
	{ "GET", "/com/products.json", hrv_h_products_list },
	{ "POST", "/com/products.json", hrv_h_product_create },
	{ "GET", "/com/products/count.json", hrv_h_products_count },
	{ "GET", "/com/products/{id}.json", hrv_h_product_get },
	{ "PUT", "/com/products/{id}.json", hrv_h_product_update },
	{ "DELETE", "/com/products/{id}.json", hrv_h_product_delete },
	{ "GET", "/com/products/{id}/variants.json", hrv_h_variants_list },
	{ "POST", "/com/products/{id}/variants.json", hrv_h_variant_create },
	{ "GET", "/com/variants/{id}.json", hrv_h_variant_get },
	{ "PUT", "/com/variants/{id}.json", hrv_h_variant_update },
	{ "GET", "/com/locations.json", hrv_h_locations },
	{ "GET", "/com/locations/{id}.json", hrv_h_location_get },
	{ "GET", "/com/inventory_locations.json", hrv_h_inventory_locations },
	{ "POST", "/com/inventories/adjustorset.json", hrv_h_adjustorset },
	{ "GET", "/com/inventories/adjustments.json", hrv_h_adjustments },
	{ "GET", "/com/inventories/adjustments/count.json",
	  hrv_h_adjustments_count },
	{ "GET", "/com/inventories/adjustments/{id}.json",
	  hrv_h_adjustment_get },
	{ "GET", "/com/orders.json", hrv_h_orders_list },
	{ "POST", "/com/orders.json", hrv_h_order_create },
	{ "GET", "/com/orders/count.json", hrv_h_orders_count },
	{ "GET", "/com/orders/{id}.json", hrv_h_order_get },
	{ "PUT", "/com/orders/{id}.json", hrv_h_order_update },
	{ "POST", "/com/orders/{id}/confirm.json", hrv_h_order_confirm },
	{ "POST", "/com/orders/{id}/close.json", hrv_h_order_close },
	{ "POST", "/com/orders/{id}/open.json", hrv_h_order_open },
	{ "POST", "/com/orders/{id}/cancel.json", hrv_h_order_cancel },
	{ "POST", "/com/orders/{id}/fulfillments.json",
	  hrv_h_fulfillment_create },
	{ "GET", "/com/orders/{id}/transactions.json",
	  hrv_h_transactions_list },
	{ "POST", "/com/orders/{id}/transactions.json",
	  hrv_h_transaction_create },
	{ "GET", "/com/orders/{id}/refunds.json", hrv_h_refunds_list },
	{ "POST", "/com/orders/{id}/refunds.json", hrv_h_refund_create },
	{ NULL, NULL, NULL }
};

static const struct sbx_act hrv_acts[] = {
	{ "create_order", hrv_act_create_order },
	{ "pay_order", hrv_act_pay_order },
	{ "fulfil_order", hrv_act_fulfil_order },
	{ "cancel_order", hrv_act_cancel_order },
	{ "refund_order", hrv_act_refund_order },
	{ "create_customer", hrv_act_create_customer },
	{ "edit_product", hrv_act_edit_product },
	{ "set_rate_limit", hrv_act_set_rate_limit },
	{ NULL, NULL }
};

static const struct sbx_emulator haravan_emu = {
	.name = "haravan",
	.init = hrv_init,
	.free = hrv_free,
	.dump = hrv_dump,
	.routes = hrv_routes,
	.acts = hrv_acts,
};

SBX_REGISTER(haravan_emu);

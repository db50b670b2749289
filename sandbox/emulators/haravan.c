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
 */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../core/sbx.h"

#define HRV_MAX_TOKENS 16
#define HRV_TOKEN_LEN 128

struct hrv_token {
	char token[HRV_TOKEN_LEN];
	cJSON *scopes;	 /* array of strings, owned */
	double level;	 /* bucket fill */
	int64_t last_ms; /* last drain */
};

struct hrv {
	cJSON *shop;
	struct hrv_token tokens[HRV_MAX_TOKENS];
	int ntokens;
	double capacity;
	double leak;	   /* calls drained per second */
	bool also_updated; /* send orders/updated after the specific topic */
	cJSON *locations;
	cJSON *groups;
	cJSON *customers;
	cJSON *products;
	cJSON *inventory;
	cJSON *orders;
	cJSON *adjustments;
	double next_id;
	double next_order_number;
	double next_adjust_number;
	cJSON *out_hooks; /* delivery ids queued by the current act */
};

/* The sandbox links no libm: the little rounding it needs is here. */
static bool whole(double v)
{
	return v > -9e15 && v < 9e15 && v == (double)(long long)v;
}

static double up(double v)
{
	double t = (double)(long long)v;
	return t < v ? t + 1 : t;
}

/* ---- small JSON helpers ---- */

static cJSON *jget(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

static double jnum(const cJSON *o, const char *k)
{
	return sbx_jnum(o, k, 0);
}

static double jid(const cJSON *o)
{
	return sbx_jnum(o, "id", -1);
}

/* Copies key from src to dst when present (used for whitelisted fields). */
static void jcopy(cJSON *dst, const cJSON *src, const char *k)
{
	const cJSON *v = jget(src, k);
	if (v)
		sbx_jset(dst, k, cJSON_Duplicate(v, true));
}

static cJSON *find_id(const cJSON *arr, double id)
{
	const cJSON *it;
	cJSON_ArrayForEach (it, arr) {
		if (jid(it) == id)
			return (cJSON *)it;
	}
	return NULL;
}

static double parse_id(const char *s)
{
	char *end = NULL;
	if (!s || !*s)
		return -1;
	double v = strtod(s, &end);
	if (*end || v < 0 || !whole(v))
		return -1;
	return v;
}

static double new_id(struct hrv *st)
{
	return st->next_id++;
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

static void stamp(cJSON *o, const char *k)
{
	char t[40];
	now_utc(t, sizeof t);
	sbx_jset_str(o, k, t);
}

static cJSON *wrap(const char *key, cJSON *v)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, key, v);
	return o;
}

/* ---- errors ---- */

static void reply_422(struct sbx_req *req, const char *field, const char *msg)
{
	cJSON *errs = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(errs, field);
	cJSON_AddItemToArray(arr, cJSON_CreateString(msg));
	sbx_reply_json(req, 422, wrap("errors", errs));
}

static void reply_404(struct sbx_req *req)
{
	sbx_reply_json(req, 404,
		       wrap("errors", cJSON_CreateString("Not Found")));
}

/* The body's root object ("order", "customer", ...) or a 400 reply. */
static const cJSON *body_root(struct sbx_req *req, const char *key)
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
static struct hrv_token *auth(struct sbx_emu *emu, struct sbx_req *req,
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

struct list_opts {
	long max_limit;
	long dflt_limit;
};

static long qlong(struct sbx_req *req, const char *k, long dflt)
{
	const char *s = sbx_query(req, k);
	char *end = NULL;
	if (!s || !*s)
		return dflt;
	long v = strtol(s, &end, 10);
	return *end ? dflt : v;
}

static bool in_id_list(const char *list, double id)
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
	double since = parse_id(sbx_query(req, "since_id"));
	if (ids && !in_id_list(ids, jid(it)))
		return false;
	if (since >= 0 && jid(it) <= since)
		return false;
	return time_ok(it, "created_at", req, "created_at_min",
		       "created_at_max") &&
	       time_ok(it, "updated_at", req, "updated_at_min",
		       "updated_at_max");
}

typedef bool (*keep_fn)(const cJSON *it, struct sbx_req *req, struct hrv *st);

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
static cJSON *list_page(struct sbx_req *req, struct hrv *st, const cJSON *arr,
			keep_fn keep, const struct list_opts *o, int *total)
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
			keep_fn keep)
{
	static const struct list_opts all = { 1 << 30, 1 << 30 };
	int total = 0;
	cJSON_Delete(list_page(req, st, arr, keep, &all, &total));
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "count", total);
	sbx_reply_json(req, 200, o);
}

static const struct list_opts opts_default = { 250, 50 };
static const struct list_opts opts_orders = { 50, 50 };
static const struct list_opts opts_inventory = { 250, 250 };

/* The record of arr named by the "{id}" of the path, for a caller with
 * scope; NULL after replying 401/403 or 404. */
static cJSON *auth_find(struct sbx_emu *emu, struct sbx_req *req,
			const char *scope, const cJSON *arr)
{
	if (!auth(emu, req, scope))
		return NULL;
	cJSON *it = find_id(arr, parse_id(sbx_param(req, "id")));
	if (!it)
		reply_404(req);
	return it;
}

/* A plain collection of the shop: list, count and get by id read it alike. */
struct hrv_coll {
	const char *scope; /* read scope */
	size_t off;	   /* offsetof(struct hrv, <array>) */
	keep_fn keep;
	const struct list_opts *opts;
	const char *plural; /* list envelope key */
	const char *single; /* get envelope key */
};

static const cJSON *coll_rows(const struct hrv *st, const struct hrv_coll *c)
{
	return *(cJSON *const *)(const void *)((const char *)st + c->off);
}

static void coll_list(struct sbx_emu *emu, struct sbx_req *req,
		      const struct hrv_coll *c)
{
	struct hrv *st = emu->data;
	if (!auth(emu, req, c->scope))
		return;
	cJSON *arr =
		list_page(req, st, coll_rows(st, c), c->keep, c->opts, NULL);
	sbx_reply_json(req, 200, wrap(c->plural, arr));
}

static void coll_count(struct sbx_emu *emu, struct sbx_req *req,
		       const struct hrv_coll *c)
{
	struct hrv *st = emu->data;
	if (!auth(emu, req, c->scope))
		return;
	reply_count(req, st, coll_rows(st, c), c->keep);
}

static void coll_get(struct sbx_emu *emu, struct sbx_req *req,
		     const struct hrv_coll *c)
{
	struct hrv *st = emu->data;
	cJSON *it = auth_find(emu, req, c->scope, coll_rows(st, c));
	if (!it)
		return;
	sbx_reply_json(req, 200, wrap(c->single, sbx_out_copy(it)));
}

/* Route handlers (list, count, get) of one collection. */
#define HRV_COLL_HANDLERS(coll, list_fn, count_fn, get_fn)                     \
	static void list_fn(struct sbx_emu *emu, struct sbx_req *req)          \
	{                                                                      \
		coll_list(emu, req, &(coll));                                  \
	}                                                                      \
	static void count_fn(struct sbx_emu *emu, struct sbx_req *req)         \
	{                                                                      \
		coll_count(emu, req, &(coll));                                 \
	}                                                                      \
	static void get_fn(struct sbx_emu *emu, struct sbx_req *req)           \
	{                                                                      \
		coll_get(emu, req, &(coll));                                   \
	}

/* ---- webhooks ---- */

static void emit(struct sbx_emu *emu, const char *topic, const cJSON *resource)
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
static void emit_order(struct sbx_emu *emu, const char *topic,
		       const cJSON *order)
{
	struct hrv *st = emu->data;
	emit(emu, topic, order);
	if (strcmp(topic, "orders/updated") != 0 &&
	    strcmp(topic, "orders/create") != 0 && st->also_updated)
		emit(emu, "orders/updated", order);
}

/* ---- inventory ---- */

static cJSON *find_variant(struct hrv *st, double vid, cJSON **product)
{
	cJSON *p;
	cJSON_ArrayForEach (p, st->products) {
		cJSON *v = find_id(jget(p, "variants"), vid);
		if (v) {
			if (product)
				*product = p;
			return v;
		}
	}
	return NULL;
}

static cJSON *find_variant_sku(struct hrv *st, const char *sku, cJSON **product)
{
	cJSON *p;
	cJSON *v;
	cJSON_ArrayForEach (p, st->products) {
		cJSON_ArrayForEach (v, jget(p, "variants")) {
			const char *s = sbx_jstr(v, "sku");
			if (s && sku && strcmp(s, sku) == 0) {
				if (product)
					*product = p;
				return v;
			}
		}
	}
	return NULL;
}

static cJSON *inv_row(struct hrv *st, double loc, const cJSON *variant,
		      const cJSON *product)
{
	cJSON *r;
	cJSON_ArrayForEach (r, st->inventory) {
		if (jnum(r, "loc_id") == loc &&
		    jnum(r, "variant_id") == jid(variant))
			return r;
	}
	r = cJSON_CreateObject();
	cJSON_AddNumberToObject(r, "id", new_id(st));
	cJSON_AddNumberToObject(r, "loc_id", loc);
	cJSON_AddNumberToObject(r, "product_id", jid(product));
	cJSON_AddNumberToObject(r, "variant_id", jid(variant));
	cJSON_AddNumberToObject(r, "qty_onhand", 0);
	cJSON_AddNumberToObject(r, "qty_commited", 0);
	cJSON_AddNumberToObject(r, "qty_incoming", 0);
	cJSON_AddNumberToObject(r, "qty_available", 0);
	stamp(r, "updated_at");
	cJSON_AddItemToArray(st->inventory, r);
	return r;
}

/* variant.inventory_quantity follows the sum of qty_available. */
static void sync_variant_qty(struct hrv *st, cJSON *variant)
{
	double sum = 0;
	const cJSON *r;
	cJSON_ArrayForEach (r, st->inventory) {
		if (jnum(r, "variant_id") == jid(variant))
			sum += jnum(r, "qty_available");
	}
	sbx_jset_num(variant, "inventory_quantity", sum);
}

static void inv_move(struct hrv *st, double loc, double vid, double d_onhand,
		     double d_commit)
{
	cJSON *product = NULL;
	cJSON *variant = find_variant(st, vid, &product);
	if (!variant || (d_onhand == 0 && d_commit == 0))
		return;
	cJSON *r = inv_row(st, loc, variant, product);
	double onhand = jnum(r, "qty_onhand") + d_onhand;
	double commit = jnum(r, "qty_commited") + d_commit;
	sbx_jset_num(r, "qty_onhand", onhand);
	sbx_jset_num(r, "qty_commited", commit);
	sbx_jset_num(r, "qty_available", onhand - commit);
	stamp(r, "updated_at");
	sync_variant_qty(st, variant);
}

static void inv_set(struct hrv *st, double loc, cJSON *variant, cJSON *product,
		    double onhand)
{
	cJSON *r = inv_row(st, loc, variant, product);
	sbx_jset_num(r, "qty_onhand", onhand);
	sbx_jset_num(r, "qty_available", onhand - jnum(r, "qty_commited"));
	stamp(r, "updated_at");
	sync_variant_qty(st, variant);
}

static double primary_location(struct hrv *st)
{
	const cJSON *l;
	cJSON_ArrayForEach (l, st->locations) {
		if (sbx_jbool(l, "is_primary", false))
			return jid(l);
	}
	return st->locations && st->locations->child ? jid(st->locations->child)
						     : 0;
}

/* ---- customers ---- */

static bool customer_keep(const cJSON *c, struct sbx_req *req, struct hrv *st)
{
	const char *q = sbx_query(req, "query");
	if (!q || !*q)
		return true;
	const char *field = NULL;
	const char *colon = strchr(q, ':');
	char key[32] = "";
	if (colon && (size_t)(colon - q) < sizeof key) {
		memcpy(key, q, (size_t)(colon - q));
		key[colon - q] = '\0';
		field = key;
		q = colon + 1;
	}
	static const char *const fields[] = { "email", "phone", "first_name",
					      "last_name", NULL };
	for (int i = 0; fields[i]; i++) {
		if (field && strcmp(field, fields[i]) != 0)
			continue;
		const char *v = sbx_jstr(c, fields[i]);
		if (v && strcasestr(v, q))
			return true;
	}
	return false;
}

static cJSON *find_customer_by(struct hrv *st, const char *key, const char *val,
			       double skip)
{
	cJSON *c;
	if (!val || !*val)
		return NULL;
	cJSON_ArrayForEach (c, st->customers) {
		const char *v = sbx_jstr(c, key);
		if (v && strcasecmp(v, val) == 0 && jid(c) != skip)
			return c;
	}
	return NULL;
}

static cJSON *make_address(struct hrv *st, const cJSON *in, const cJSON *cust)
{
	cJSON *a = cJSON_CreateObject();
	static const char *const keys[] = {
		"address1",   "address2",      "city",	   "company",
		"province",   "province_code", "district", "district_code",
		"ward",	      "ward_code",     "phone",	   "zip",
		"first_name", "last_name",     NULL
	};
	cJSON_AddNumberToObject(a, "id", new_id(st));
	for (int i = 0; keys[i]; i++) {
		if (jget(in, keys[i]))
			jcopy(a, in, keys[i]);
		else
			cJSON_AddNullToObject(a, keys[i]);
	}
	cJSON_AddStringToObject(a, "country", "Vietnam");
	cJSON_AddStringToObject(a, "country_code", "VN");
	char name[256];
	snprintf(name, sizeof name, "%s %s",
		 sbx_jstr(cust, "last_name") ? sbx_jstr(cust, "last_name") : "",
		 sbx_jstr(cust, "first_name") ? sbx_jstr(cust, "first_name")
					      : "");
	cJSON_AddStringToObject(a, "name", name);
	return a;
}

static const char *const customer_fields[] = {
	"first_name", "last_name", "email",
	"phone",      "gender",	   "birthday",
	"note",	      "tags",	   "accepts_marketing",
	"group_name", NULL
};

/* Validates and applies customer fields; returns false after a 422. */
static bool customer_apply(struct hrv *st, struct sbx_req *req, cJSON *c,
			   const cJSON *in)
{
	const char *email = sbx_jstr(in, "email");
	const char *phone = sbx_jstr(in, "phone");
	if (email && (!strchr(email, '@') || strchr(email, ' '))) {
		reply_422(req, "email", "is invalid");
		return false;
	}
	if (find_customer_by(st, "email", email, jid(c))) {
		reply_422(req, "email", "has already been taken");
		return false;
	}
	if (find_customer_by(st, "phone", phone, jid(c))) {
		reply_422(req, "phone", "has already been taken");
		return false;
	}
	for (int i = 0; customer_fields[i]; i++)
		jcopy(c, in, customer_fields[i]);
	const cJSON *addrs = jget(in, "addresses");
	if (cJSON_IsArray(addrs)) {
		cJSON *arr = cJSON_CreateArray();
		const cJSON *a;
		cJSON_ArrayForEach (a, addrs)
			cJSON_AddItemToArray(arr, make_address(st, a, c));
		sbx_jset(c, "addresses", arr);
		cJSON *first = arr->child;
		if (first) {
			sbx_jset(first, "default", cJSON_CreateTrue());
			sbx_jset(c, "default_address",
				 cJSON_Duplicate(first, true));
		} else {
			sbx_jset(c, "default_address", cJSON_CreateNull());
		}
	}
	return true;
}

static cJSON *customer_new(struct hrv *st)
{
	cJSON *c = cJSON_CreateObject();
	cJSON_AddNumberToObject(c, "id", new_id(st));
	for (int i = 0; customer_fields[i]; i++)
		cJSON_AddNullToObject(c, customer_fields[i]);
	cJSON_AddArrayToObject(c, "addresses");
	cJSON_AddNullToObject(c, "default_address");
	cJSON_AddNumberToObject(c, "orders_count", 0);
	cJSON_AddNumberToObject(c, "total_spent", 0);
	cJSON_AddNullToObject(c, "last_order_id");
	cJSON_AddNullToObject(c, "last_order_name");
	cJSON_AddStringToObject(c, "state", "enabled");
	stamp(c, "created_at");
	stamp(c, "updated_at");
	return c;
}

/* Creates a customer from in; returns it (already stored) or NULL after a
 * 422 reply. */
static cJSON *customer_create(struct hrv *st, struct sbx_req *req,
			      const cJSON *in)
{
	if (!sbx_jstr(in, "email") && !sbx_jstr(in, "phone") &&
	    !sbx_jstr(in, "first_name") && !sbx_jstr(in, "last_name")) {
		reply_422(req, "customer",
			  "email, phone or name can't be blank");
		return NULL;
	}
	cJSON *c = customer_new(st);
	if (!customer_apply(st, req, c, in)) {
		cJSON_Delete(c);
		return NULL;
	}
	cJSON_AddItemToArray(st->customers, c);
	return c;
}

static const struct hrv_coll coll_customers = {
	"read_customers", offsetof(struct hrv, customers),
	customer_keep,	  &opts_default,
	"customers",	  "customer",
};
HRV_COLL_HANDLERS(coll_customers, h_customers_list, h_customers_count,
		  h_customer_get)

static void h_customer_groups(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	if (!auth(emu, req, "read_customers"))
		return;
	sbx_reply_json(req, 200,
		       wrap("customer_groups",
			    cJSON_Duplicate(st->groups, true)));
}

static void h_customer_create(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	if (!auth(emu, req, "write_customers"))
		return;
	const cJSON *in = body_root(req, "customer");
	if (!in)
		return;
	cJSON *c = customer_create(st, req, in);
	if (!c)
		return;
	emit(emu, "customers/create", c);
	sbx_reply_json(req, 201, wrap("customer", sbx_out_copy(c)));
}

static void h_customer_update(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	cJSON *c = auth_find(emu, req, "write_customers", st->customers);
	if (!c)
		return;
	const cJSON *in = body_root(req, "customer");
	if (!in)
		return;
	/* apply to a copy so a 422 leaves the record untouched */
	cJSON *tmp = cJSON_Duplicate(c, true);
	if (!customer_apply(st, req, tmp, in)) {
		cJSON_Delete(tmp);
		return;
	}
	stamp(tmp, "updated_at");
	cJSON_ReplaceItemViaPointer(st->customers, c, tmp);
	emit(emu, "customers/update", tmp);
	sbx_reply_json(req, 200, wrap("customer", sbx_out_copy(tmp)));
}

static void h_customer_delete(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	cJSON *c = auth_find(emu, req, "write_customers", st->customers);
	if (!c)
		return;
	if (jnum(c, "orders_count") > 0) {
		reply_422(req, "base",
			  "customer has orders and cannot be deleted");
		return;
	}
	cJSON *gone = cJSON_DetachItemViaPointer(st->customers, c);
	emit(emu, "customers/delete", gone);
	cJSON_Delete(gone);
	sbx_reply_json(req, 200, cJSON_CreateObject());
}

/* ---- products and variants ---- */

static const char *const variant_fields[] = { "sku",
					      "barcode",
					      "title",
					      "price",
					      "compare_at_price",
					      "option1",
					      "option2",
					      "option3",
					      "inventory_management",
					      "inventory_policy",
					      "requires_shipping",
					      "taxable",
					      "grams",
					      "weight",
					      NULL };

static bool variant_check(struct sbx_req *req, const cJSON *in)
{
	const cJSON *price = jget(in, "price");
	if (price && !cJSON_IsNull(price) && sbx_jnum(in, "price", -1) < 0) {
		reply_422(req, "price", "must be greater than or equal to 0");
		return false;
	}
	return true;
}

static cJSON *variant_new(struct hrv *st, const cJSON *product, const cJSON *in)
{
	cJSON *v = cJSON_CreateObject();
	cJSON_AddNumberToObject(v, "id", new_id(st));
	cJSON_AddNumberToObject(v, "product_id", jid(product));
	cJSON_AddStringToObject(v, "title", "Default Title");
	cJSON_AddNumberToObject(v, "price", 0);
	cJSON_AddNullToObject(v, "compare_at_price");
	cJSON_AddNullToObject(v, "sku");
	cJSON_AddNullToObject(v, "barcode");
	cJSON_AddStringToObject(v, "option1", "Default Title");
	cJSON_AddNullToObject(v, "option2");
	cJSON_AddNullToObject(v, "option3");
	cJSON_AddStringToObject(v, "inventory_management", "haravan");
	cJSON_AddStringToObject(v, "inventory_policy", "continue");
	cJSON_AddNumberToObject(v, "inventory_quantity", 0);
	cJSON_AddTrueToObject(v, "requires_shipping");
	cJSON_AddTrueToObject(v, "taxable");
	cJSON_AddNumberToObject(v, "grams", 0);
	stamp(v, "created_at");
	stamp(v, "updated_at");
	for (int i = 0; variant_fields[i]; i++)
		jcopy(v, in, variant_fields[i]);
	if (jget(in, "price"))
		sbx_jset_num(v, "price", sbx_jnum(in, "price", 0));
	return v;
}

/* New variants get a zero row at every stocking location, as in the admin. */
static void variant_rows(struct hrv *st, cJSON *product, cJSON *variant)
{
	const cJSON *l;
	cJSON_ArrayForEach (l, st->locations) {
		const char *type = sbx_jstr(l, "location_type");
		if (!type || strcmp(type, "ontheroad") != 0)
			inv_row(st, jid(l), variant, product);
	}
}

static const char *const product_fields[] = {
	"title", "body_html", "vendor",		 "product_type",
	"tags",	 "handle",    "published_scope", "only_hide_from_list",
	NULL
};

static bool product_check(struct sbx_req *req, const cJSON *in, bool create)
{
	const char *title = sbx_jstr(in, "title");
	const cJSON *t = jget(in, "title");
	if ((create || t) && (!title || !*title)) {
		reply_422(req, "title", "can't be blank");
		return false;
	}
	const cJSON *vs = jget(in, "variants");
	const cJSON *v;
	if (cJSON_GetArraySize(vs) > 100) {
		reply_422(req, "variants", "too many variants (maximum 100)");
		return false;
	}
	cJSON_ArrayForEach (v, vs) {
		if (!variant_check(req, v))
			return false;
	}
	return true;
}

static cJSON *product_create(struct hrv *st, const cJSON *in)
{
	cJSON *p = cJSON_CreateObject();
	double id = new_id(st);
	char handle[64];
	cJSON_AddNumberToObject(p, "id", id);
	for (int i = 0; product_fields[i]; i++)
		cJSON_AddNullToObject(p, product_fields[i]);
	snprintf(handle, sizeof handle, "san-pham-%.0f", id);
	sbx_jset_str(p, "handle", handle);
	for (int i = 0; product_fields[i]; i++)
		jcopy(p, in, product_fields[i]);
	cJSON_AddItemToObject(p, "options",
			      cJSON_Parse("[{\"name\":\"Title\",\"position\":1}"
					  "]"));
	cJSON_AddArrayToObject(p, "images");
	stamp(p, "created_at");
	stamp(p, "updated_at");
	stamp(p, "published_at");
	cJSON *vs = cJSON_AddArrayToObject(p, "variants");
	const cJSON *vin;
	cJSON_ArrayForEach (vin, jget(in, "variants"))
		cJSON_AddItemToArray(vs, variant_new(st, p, vin));
	if (!vs->child) {
		cJSON *empty = cJSON_CreateObject();
		cJSON_AddItemToArray(vs, variant_new(st, p, empty));
		cJSON_Delete(empty);
	}
	cJSON_AddItemToArray(st->products, p);
	cJSON *v;
	cJSON_ArrayForEach (v, vs)
		variant_rows(st, p, v);
	return p;
}

static void variant_update(cJSON *v, const cJSON *in)
{
	for (int i = 0; variant_fields[i]; i++)
		jcopy(v, in, variant_fields[i]);
	if (jget(in, "price"))
		sbx_jset_num(v, "price", sbx_jnum(in, "price", 0));
	stamp(v, "updated_at");
}

/* Updates p from in; returns false after a 422 (nothing changed). */
static bool product_update(struct hrv *st, struct sbx_req *req, cJSON *p,
			   const cJSON *in)
{
	const cJSON *vin;
	cJSON_ArrayForEach (vin, jget(in, "variants")) {
		double vid = sbx_jnum(vin, "id", -1);
		if (vid >= 0 && !find_id(jget(p, "variants"), vid)) {
			reply_422(req, "variants",
				  "variant does not belong to this product");
			return false;
		}
	}
	for (int i = 0; product_fields[i]; i++)
		jcopy(p, in, product_fields[i]);
	cJSON_ArrayForEach (vin, jget(in, "variants")) {
		double vid = sbx_jnum(vin, "id", -1);
		if (vid >= 0) {
			variant_update(find_id(jget(p, "variants"), vid), vin);
		} else {
			cJSON *v = variant_new(st, p, vin);
			cJSON_AddItemToArray(jget(p, "variants"), v);
			variant_rows(st, p, v);
		}
	}
	stamp(p, "updated_at");
	return true;
}

static bool product_keep(const cJSON *p, struct sbx_req *req, struct hrv *st)
{
	static const char *const keys[] = { "product_type", "vendor", "handle",
					    "title", NULL };
	for (int i = 0; keys[i]; i++) {
		const char *q = sbx_query(req, keys[i]);
		const char *v = sbx_jstr(p, keys[i]);
		if (q && (!v || strcmp(q, v) != 0))
			return false;
	}
	return true;
}

static const struct hrv_coll coll_products = {
	"read_products", offsetof(struct hrv, products),
	product_keep,	 &opts_default,
	"products",	 "product",
};
HRV_COLL_HANDLERS(coll_products, h_products_list, h_products_count,
		  h_product_get)

static void h_product_create(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	if (!auth(emu, req, "write_products"))
		return;
	const cJSON *in = body_root(req, "product");
	if (!in || !product_check(req, in, true))
		return;
	cJSON *p = product_create(st, in);
	emit(emu, "products/create", p);
	sbx_reply_json(req, 201, wrap("product", sbx_out_copy(p)));
}

static void h_product_update(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	cJSON *p = auth_find(emu, req, "write_products", st->products);
	if (!p)
		return;
	const cJSON *in = body_root(req, "product");
	if (!in || !product_check(req, in, false) ||
	    !product_update(st, req, p, in))
		return;
	emit(emu, "products/update", p);
	sbx_reply_json(req, 200, wrap("product", sbx_out_copy(p)));
}

static void h_product_delete(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	cJSON *p = auth_find(emu, req, "write_products", st->products);
	if (!p)
		return;
	double pid = jid(p);
	cJSON *r = st->inventory->child;
	while (r) {
		cJSON *next = r->next;
		if (jnum(r, "product_id") == pid)
			cJSON_Delete(
				cJSON_DetachItemViaPointer(st->inventory, r));
		r = next;
	}
	cJSON *gone = cJSON_DetachItemViaPointer(st->products, p);
	emit(emu, "products/delete", gone);
	cJSON_Delete(gone);
	sbx_reply_json(req, 200, cJSON_CreateObject());
}

static void h_variants_list(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	cJSON *p = auth_find(emu, req, "read_products", st->products);
	if (!p)
		return;
	cJSON *arr = list_page(req, st, jget(p, "variants"), NULL,
			       &opts_default, NULL);
	sbx_reply_json(req, 200, wrap("variants", arr));
}

static void h_variant_create(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	cJSON *p = auth_find(emu, req, "write_products", st->products);
	if (!p)
		return;
	const cJSON *in = body_root(req, "variant");
	if (!in || !variant_check(req, in))
		return;
	if (cJSON_GetArraySize(jget(p, "variants")) >= 100) {
		reply_422(req, "variants", "too many variants (maximum 100)");
		return;
	}
	cJSON *v = variant_new(st, p, in);
	cJSON_AddItemToArray(jget(p, "variants"), v);
	variant_rows(st, p, v);
	stamp(p, "updated_at");
	emit(emu, "products/update", p);
	sbx_reply_json(req, 201, wrap("variant", sbx_out_copy(v)));
}

static void h_variant_get(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	if (!auth(emu, req, "read_products"))
		return;
	cJSON *v = find_variant(st, parse_id(sbx_param(req, "id")), NULL);
	if (!v) {
		reply_404(req);
		return;
	}
	sbx_reply_json(req, 200, wrap("variant", sbx_out_copy(v)));
}

static void h_variant_update(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	cJSON *p = NULL;
	if (!auth(emu, req, "write_products"))
		return;
	cJSON *v = find_variant(st, parse_id(sbx_param(req, "id")), &p);
	if (!v) {
		reply_404(req);
		return;
	}
	const cJSON *in = body_root(req, "variant");
	if (!in || !variant_check(req, in))
		return;
	variant_update(v, in);
	stamp(p, "updated_at");
	emit(emu, "products/update", p);
	sbx_reply_json(req, 200, wrap("variant", sbx_out_copy(v)));
}

/* ---- locations and inventory ---- */

static void h_locations(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	if (!auth(emu, req, "read_shop"))
		return;
	sbx_reply_json(req, 200,
		       wrap("locations", sbx_out_copy(st->locations)));
}

static void h_location_get(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	cJSON *l = auth_find(emu, req, "read_shop", st->locations);
	if (!l)
		return;
	sbx_reply_json(req, 200, wrap("location", sbx_out_copy(l)));
}

static void h_shop(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	if (!auth(emu, req, "read_shop"))
		return;
	cJSON *s = sbx_out_copy(st->shop);
	cJSON_DeleteItemFromObjectCaseSensitive(s, "webhook_secret");
	cJSON_DeleteItemFromObjectCaseSensitive(s, "verify_token");
	sbx_jset_num(s, "id", jnum(st->shop, "org_id"));
	sbx_reply_json(req, 200, wrap("shop", s));
}

static int count_ids(const char *list)
{
	int n = 0;
	for (const char *p = list; p && *p; p++)
		n += *p == ',';
	return list && *list ? n + 1 : 0;
}

static bool inventory_keep(const cJSON *r, struct sbx_req *req, struct hrv *st)
{
	const char *locs = sbx_query(req, "location_ids");
	const char *vars = sbx_query(req, "variant_ids");
	if (locs && *locs && !in_id_list(locs, jnum(r, "loc_id")))
		return false;
	if (vars && *vars && !in_id_list(vars, jnum(r, "variant_id")))
		return false;
	return true;
}

static void h_inventory_locations(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	if (!auth(emu, req, "read_inventories"))
		return;
	if (count_ids(sbx_query(req, "location_ids")) > 50) {
		reply_422(req, "location_ids", "maximum 50 ids");
		return;
	}
	if (count_ids(sbx_query(req, "variant_ids")) > 50) {
		reply_422(req, "variant_ids", "maximum 50 ids");
		return;
	}
	cJSON *arr = list_page(req, st, st->inventory, inventory_keep,
			       &opts_inventory, NULL);
	sbx_reply_json(req, 200, wrap("inventory_locations", arr));
}

static bool valid_reason(const char *r)
{
	static const char *const reasons[] = { "newproduct",	    "returned",
					       "productionofgoods", "damaged",
					       "shrinkage",	    "promotion",
					       "transfer",	    NULL };
	for (int i = 0; reasons[i]; i++) {
		if (strcmp(r, reasons[i]) == 0)
			return true;
	}
	return false;
}

/* Checks every line before touching stock: all or nothing. */
static bool adjust_check(struct hrv *st, struct sbx_req *req, const cJSON *in)
{
	const char *type = sbx_jstr(in, "type");
	const char *reason = sbx_jstr(in, "reason");
	const cJSON *lines = jget(in, "line_items");
	const cJSON *l;
	if (!find_id(st->locations, sbx_jnum(in, "location_id", -1))) {
		reply_422(req, "location_id", "location not found");
		return false;
	}
	if (type && strcmp(type, "adjust") != 0 && strcmp(type, "set") != 0) {
		reply_422(req, "type", "is not included in the list");
		return false;
	}
	if (reason && !valid_reason(reason)) {
		reply_422(req, "reason", "is not included in the list");
		return false;
	}
	if (!cJSON_IsArray(lines) || !lines->child) {
		reply_422(req, "line_items", "can't be blank");
		return false;
	}
	cJSON_ArrayForEach (l, lines) {
		cJSON *p = NULL;
		cJSON *v = find_variant(
			st, sbx_jnum(l, "product_variant_id", -1), &p);
		if (!v) {
			reply_422(req, "line_items",
				  "product_variant_id not found");
			return false;
		}
		if (jget(l, "product_id") &&
		    sbx_jnum(l, "product_id", -1) != jid(p)) {
			reply_422(req, "line_items",
				  "product_id does not match the variant");
			return false;
		}
		const cJSON *q = jget(l, "quantity");
		if (!cJSON_IsNumber(q) || !whole(q->valuedouble)) {
			reply_422(req, "line_items",
				  "quantity must be an integer");
			return false;
		}
		if (type && strcmp(type, "set") == 0 && q->valuedouble < 0) {
			reply_422(req, "line_items",
				  "quantity must be greater than or equal to "
				  "0");
			return false;
		}
	}
	return true;
}

static void h_adjustorset(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	char num[32];
	if (!auth(emu, req, "write_inventories"))
		return;
	const cJSON *in = body_root(req, "inventory");
	if (!in || !adjust_check(st, req, in))
		return;
	const char *type =
		sbx_jstr(in, "type") ? sbx_jstr(in, "type") : "adjust";
	double loc = jnum(in, "location_id");
	cJSON *adj = cJSON_CreateObject();
	cJSON_AddNumberToObject(adj, "id", new_id(st));
	stamp(adj, "created_at");
	stamp(adj, "updated_at");
	snprintf(num, sizeof num, "IA%.0f", st->next_adjust_number++);
	cJSON_AddStringToObject(adj, "adjust_number", num);
	stamp(adj, "tran_date");
	cJSON_AddNumberToObject(adj, "location_id", loc);
	cJSON_AddStringToObject(adj, "type", type);
	cJSON_AddStringToObject(adj, "reason",
				sbx_jstr(in, "reason") ? sbx_jstr(in, "reason")
						       : "newproduct");
	sbx_jset_str(adj, "note", sbx_jstr(in, "note"));
	cJSON *lines = cJSON_AddArrayToObject(adj, "line_items");
	double total = 0;
	const cJSON *l;
	cJSON_ArrayForEach (l, jget(in, "line_items")) {
		cJSON *p = NULL;
		cJSON *v = find_variant(st, jnum(l, "product_variant_id"), &p);
		double q = jnum(l, "quantity");
		double delta = q;
		if (strcmp(type, "set") == 0) {
			delta = q - jnum(inv_row(st, loc, v, p), "qty_onhand");
			inv_set(st, loc, v, p, q);
		} else {
			inv_move(st, loc, jid(v), q, 0);
		}
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "id", new_id(st));
		cJSON_AddNumberToObject(o, "product_id", jid(p));
		cJSON_AddNumberToObject(o, "product_variant_id", jid(v));
		cJSON_AddNumberToObject(o, "quantity", delta);
		jcopy(o, v, "sku");
		jcopy(o, v, "barcode");
		cJSON_AddItemToArray(lines, o);
		total += delta;
	}
	cJSON_AddNumberToObject(adj, "total_quantity", total);
	cJSON_AddItemToArray(st->adjustments, adj);
	sbx_reply_json(req, 201, wrap("adjustment", sbx_out_copy(adj)));
}

static bool adjustment_keep(const cJSON *a, struct sbx_req *req, struct hrv *st)
{
	double loc = parse_id(sbx_query(req, "location_id"));
	return loc < 0 || jnum(a, "location_id") == loc;
}

static const struct hrv_coll coll_adjustments = {
	"read_inventories", offsetof(struct hrv, adjustments),
	adjustment_keep,    &opts_default,
	"adjustments",	    "adjustment",
};
HRV_COLL_HANDLERS(coll_adjustments, h_adjustments, h_adjustments_count,
		  h_adjustment_get)

/* ---- orders: money ---- */

static double sum_tx(const cJSON *order, const char *kind)
{
	double s = 0;
	const cJSON *t;
	cJSON_ArrayForEach (t, jget(order, "transactions")) {
		const char *k = sbx_jstr(t, "kind");
		if (k && strcasecmp(k, kind) == 0)
			s += jnum(t, "amount");
	}
	return s;
}

static double paid_amount(const cJSON *order)
{
	return sum_tx(order, "sale") + sum_tx(order, "capture");
}

static void recompute_financial(cJSON *order)
{
	double total = jnum(order, "total_price");
	double paid = paid_amount(order);
	double refunded = sum_tx(order, "refund");
	const char *fs;
	if (sum_tx(order, "void") > 0 || sbx_jbool(order, "_voided", false))
		fs = "voided";
	else if (refunded > 0)
		fs = refunded >= paid ? "refunded" : "partially_refunded";
	else if (paid > 0)
		fs = paid >= total ? "paid" : "partially_paid";
	else if (sum_tx(order, "authorization") > 0)
		fs = "authorized";
	else
		fs = "pending";
	sbx_jset_str(order, "financial_status", fs);
}

static bool financial_is(const cJSON *order, const char *fs)
{
	const char *v = sbx_jstr(order, "financial_status");
	return v && strcmp(v, fs) == 0;
}

static cJSON *tx_new(struct hrv *st, const cJSON *order, const char *kind,
		     double amount, const char *gateway)
{
	cJSON *t = cJSON_CreateObject();
	cJSON_AddNumberToObject(t, "id", new_id(st));
	cJSON_AddNumberToObject(t, "order_id", jid(order));
	cJSON_AddStringToObject(t, "kind", kind);
	cJSON_AddNumberToObject(t, "amount", amount);
	cJSON_AddStringToObject(t, "currency", "VND");
	sbx_jset_str(t, "gateway",
		     gateway ? gateway : sbx_jstr(order, "gateway"));
	cJSON_AddStringToObject(t, "status", "success");
	cJSON_AddNumberToObject(t, "location_id", jnum(order, "location_id"));
	cJSON_AddNullToObject(t, "parent_id");
	cJSON_AddNullToObject(t, "user_id");
	stamp(t, "created_at");
	cJSON_AddItemToArray(jget((cJSON *)order, "transactions"), t);
	return t;
}

/* ---- orders: creation ---- */

static bool cancelled(const cJSON *order)
{
	return sbx_jstr(order, "cancelled_at") != NULL;
}

static bool closed(const cJSON *order)
{
	return sbx_jstr(order, "closed_at") != NULL;
}

/* Resolves an input line to its variant (variant_id, or sku as a shortcut
 * the acts accept). */
static cJSON *line_variant(struct hrv *st, const cJSON *in, cJSON **product)
{
	if (jget(in, "variant_id"))
		return find_variant(st, sbx_jnum(in, "variant_id", -1),
				    product);
	return find_variant_sku(st, sbx_jstr(in, "sku"), product);
}

static bool order_check(struct hrv *st, struct sbx_req *req, const cJSON *in,
			double loc)
{
	const cJSON *lines = jget(in, "line_items");
	const cJSON *l;
	char msg[160];
	if (!cJSON_IsArray(lines) || !lines->child) {
		reply_422(req, "line_items", "can't be blank");
		return false;
	}
	if (!find_id(st->locations, loc)) {
		reply_422(req, "location_id", "location not found");
		return false;
	}
	cJSON_ArrayForEach (l, lines) {
		cJSON *p = NULL;
		cJSON *v = line_variant(st, l, &p);
		double q = sbx_jnum(l, "quantity", 0);
		if (!v) {
			snprintf(msg, sizeof msg, "variant %.0f not found",
				 sbx_jnum(l, "variant_id", -1));
			reply_422(req, "line_items", msg);
			return false;
		}
		if (q < 1 || !whole(q)) {
			reply_422(req, "quantity", "must be greater than 0");
			return false;
		}
		if (sbx_jnum(l, "total_discount", 0) < 0 ||
		    sbx_jnum(l, "price", 0) < 0) {
			reply_422(req, "line_items",
				  "price and total_discount must not be "
				  "negative");
			return false;
		}
		const char *pol = sbx_jstr(v, "inventory_policy");
		if (pol && strcmp(pol, "deny") == 0 &&
		    jnum(inv_row(st, loc, v, p), "qty_available") < q) {
			snprintf(msg, sizeof msg, "%s: not enough inventory",
				 sbx_jstr(v, "sku") ? sbx_jstr(v, "sku")
						    : "variant");
			reply_422(req, "line_items", msg);
			return false;
		}
	}
	const cJSON *cust = jget(in, "customer");
	if (cJSON_IsObject(cust) && jget(cust, "id") &&
	    !find_id(st->customers, sbx_jnum(cust, "id", -1))) {
		reply_422(req, "customer", "customer not found");
		return false;
	}
	if (jget(in, "customer_id") &&
	    !find_id(st->customers, sbx_jnum(in, "customer_id", -1))) {
		reply_422(req, "customer", "customer not found");
		return false;
	}
	return true;
}

static cJSON *line_new(struct hrv *st, const cJSON *in, double *sum,
		       double *disc)
{
	cJSON *p = NULL;
	cJSON *v = line_variant(st, in, &p);
	double q = jnum(in, "quantity");
	double price = jget(in, "price") ? jnum(in, "price") : jnum(v, "price");
	double d = sbx_vnd(jnum(in, "total_discount"));
	char name[512];
	cJSON *l = cJSON_CreateObject();
	cJSON_AddNumberToObject(l, "id", new_id(st));
	cJSON_AddNumberToObject(l, "variant_id", jid(v));
	cJSON_AddNumberToObject(l, "product_id", jid(p));
	jcopy(l, v, "sku");
	jcopy(l, v, "barcode");
	jcopy(l, p, "title");
	jcopy(l, p, "vendor");
	sbx_jset(l, "type", cJSON_Duplicate(jget(p, "product_type"), true));
	sbx_jset(l, "variant_title", cJSON_Duplicate(jget(v, "title"), true));
	snprintf(name, sizeof name, "%s - %s",
		 sbx_jstr(p, "title") ? sbx_jstr(p, "title") : "",
		 sbx_jstr(v, "title") ? sbx_jstr(v, "title") : "");
	cJSON_AddStringToObject(l, "name", name);
	cJSON_AddNumberToObject(l, "quantity", q);
	cJSON_AddNumberToObject(l, "price", price);
	cJSON_AddNumberToObject(l, "price_original", jnum(v, "price"));
	cJSON_AddNumberToObject(l, "total_discount", d);
	cJSON_AddNumberToObject(l, "fulfillable_quantity", q);
	cJSON_AddStringToObject(l, "fulfillment_status", "notfulfilled");
	cJSON_AddNumberToObject(l, "grams", jnum(v, "grams"));
	cJSON_AddTrueToObject(l, "requires_shipping");
	cJSON_AddTrueToObject(l, "taxable");
	cJSON_AddFalseToObject(l, "gift_card");
	cJSON_AddTrueToObject(l, "product_exists");
	cJSON_AddNullToObject(l, "properties");
	cJSON_AddArrayToObject(l, "applied_discounts");
	cJSON_AddNumberToObject(l, "_fulfilled", 0);
	cJSON_AddNumberToObject(l, "_refunded", 0);
	*sum += price * q;
	*disc += d;
	return l;
}

/* Order-level discounts: discount_codes amounts (percentage of the
 * discounted line total for type "percentage"). */
static double order_discount(cJSON *order, const cJSON *in, double base)
{
	double total = 0;
	cJSON *codes = cJSON_CreateArray();
	const cJSON *c;
	cJSON_ArrayForEach (c, jget(in, "discount_codes")) {
		const char *type = sbx_jstr(c, "type") ? sbx_jstr(c, "type")
						       : "fixed_amount";
		double amount = jnum(c, "amount");
		if (strcmp(type, "percentage") == 0)
			amount = sbx_vnd(base * amount / 100.0);
		cJSON *o = cJSON_CreateObject();
		sbx_jset_str(o, "code",
			     sbx_jstr(c, "code") ? sbx_jstr(c, "code") : "");
		cJSON_AddNumberToObject(o, "amount", amount);
		cJSON_AddStringToObject(o, "type", type);
		cJSON_AddItemToArray(codes, o);
		total += amount;
	}
	sbx_jset(order, "discount_codes", codes);
	return total;
}

static cJSON *order_customer(struct hrv *st, struct sbx_emu *emu,
			     const cJSON *in)
{
	const cJSON *cin = jget(in, "customer");
	cJSON *c = NULL;
	if (jget(in, "customer_id"))
		return find_id(st->customers, sbx_jnum(in, "customer_id", -1));
	if (!cJSON_IsObject(cin))
		return find_customer_by(st, "email", sbx_jstr(in, "email"), -1);
	if (jget(cin, "id"))
		return find_id(st->customers, sbx_jnum(cin, "id", -1));
	c = find_customer_by(st, "email", sbx_jstr(cin, "email"), -1);
	if (!c)
		c = find_customer_by(st, "phone", sbx_jstr(cin, "phone"), -1);
	if (c)
		return c;
	/* a new buyer becomes a customer, as at checkout */
	c = customer_new(st);
	for (int i = 0; customer_fields[i]; i++)
		jcopy(c, cin, customer_fields[i]);
	cJSON_AddItemToArray(st->customers, c);
	emit(emu, "customers/create", c);
	return c;
}

static void commit_lines(struct hrv *st, cJSON *order, double sign)
{
	const cJSON *l;
	cJSON_ArrayForEach (l, jget(order, "line_items"))
		inv_move(st, jnum(order, "location_id"), jnum(l, "variant_id"),
			 0, sign * jnum(l, "fulfillable_quantity"));
}

static cJSON *order_build(struct sbx_emu *emu, const cJSON *in, double loc)
{
	struct hrv *st = emu->data;
	cJSON *o = cJSON_CreateObject();
	double sum = 0;
	double line_disc = 0;
	char name[32];
	double number = st->next_order_number++;
	const cJSON *l;

	cJSON_AddNumberToObject(o, "id", new_id(st));
	snprintf(name, sizeof name, "#%.0f", number);
	cJSON_AddStringToObject(o, "name", name);
	cJSON_AddNumberToObject(o, "order_number", number);
	cJSON_AddNumberToObject(o, "number", number - 1000);
	stamp(o, "created_at");
	stamp(o, "updated_at");
	cJSON_AddNullToObject(o, "confirmed_at");
	cJSON_AddNullToObject(o, "closed_at");
	cJSON_AddNullToObject(o, "cancelled_at");
	cJSON_AddNullToObject(o, "cancel_reason");
	cJSON_AddStringToObject(o, "confirmed_status", "unconfirmed");
	cJSON_AddStringToObject(o, "closed_status", "unclosed");
	cJSON_AddStringToObject(o, "cancelled_status", "uncancelled");
	cJSON_AddStringToObject(o, "financial_status", "pending");
	cJSON_AddNullToObject(o, "fulfillment_status");
	cJSON_AddStringToObject(o, "currency", "VND");
	sbx_jset_str(o, "gateway",
		     sbx_jstr(in, "gateway") ? sbx_jstr(in, "gateway")
					     : "Thanh toán khi giao hàng "
					       "(COD)");
	sbx_jset_str(o, "gateway_code",
		     sbx_jstr(in, "gateway_code") ? sbx_jstr(in, "gateway_code")
						  : "COD");
	sbx_jset_str(o, "source_name",
		     sbx_jstr(in, "source_name") ? sbx_jstr(in, "source_name")
						 : "web");
	cJSON_AddNumberToObject(o, "location_id", loc);
	static const char *const copy[] = { "email",
					    "phone",
					    "note",
					    "note_attributes",
					    "tags",
					    "billing_address",
					    "shipping_address",
					    "user_id",
					    "assigned_location_id",
					    NULL };
	for (int i = 0; copy[i]; i++) {
		if (jget(in, copy[i]))
			jcopy(o, in, copy[i]);
		else
			cJSON_AddNullToObject(o, copy[i]);
	}
	cJSON *lines = cJSON_AddArrayToObject(o, "line_items");
	cJSON_ArrayForEach (l, jget(in, "line_items"))
		cJSON_AddItemToArray(lines, line_new(st, l, &sum, &line_disc));
	double ord_disc = order_discount(o, in, sum - line_disc);
	double shipping = 0;
	cJSON *ships = cJSON_AddArrayToObject(o, "shipping_lines");
	cJSON_ArrayForEach (l, jget(in, "shipping_lines")) {
		cJSON *s = cJSON_CreateObject();
		sbx_jset_str(s, "title",
			     sbx_jstr(l, "title") ? sbx_jstr(l, "title")
						  : "Giao hàng");
		cJSON_AddNumberToObject(s, "price", jnum(l, "price"));
		cJSON_AddItemToArray(ships, s);
		shipping += jnum(l, "price");
	}
	cJSON_AddNumberToObject(o, "total_line_items_price", sum);
	cJSON_AddNumberToObject(o, "total_discounts", line_disc + ord_disc);
	cJSON_AddNumberToObject(o, "subtotal_price",
				sum - line_disc - ord_disc);
	cJSON_AddNumberToObject(o, "total_tax", 0);
	cJSON_AddTrueToObject(o, "taxes_included");
	cJSON_AddNumberToObject(o, "total_price",
				sum - line_disc - ord_disc + shipping);
	cJSON_AddNumberToObject(o, "total_weight", 0);
	cJSON_AddArrayToObject(o, "transactions");
	cJSON_AddArrayToObject(o, "refunds");
	cJSON_AddArrayToObject(o, "fulfillments");

	cJSON *cust = order_customer(st, emu, in);
	if (cust) {
		cJSON *c = sbx_out_copy(cust);
		sbx_jset(o, "customer", c);
		if (cJSON_IsNull(jget(o, "email")))
			jcopy(o, cust, "email");
		sbx_jset_num(cust, "orders_count",
			     jnum(cust, "orders_count") + 1);
		sbx_jset_num(cust, "total_spent",
			     jnum(cust, "total_spent") + jnum(o, "total_"
								 "price"));
		sbx_jset_num(cust, "last_order_id", jid(o));
		sbx_jset_str(cust, "last_order_name", name);
		stamp(cust, "updated_at");
	} else {
		cJSON_AddNullToObject(o, "customer");
	}
	cJSON_AddItemToArray(st->orders, o);
	commit_lines(st, o, +1);
	return o;
}

static bool fulfil(struct hrv *st, cJSON *order, const cJSON *only,
		   const char *tracking);

/* Creates an order from in (API body or act); replies 422 and returns NULL
 * when invalid. Sends orders/create (+ paid/fulfilled when created so). */
static cJSON *order_create(struct sbx_emu *emu, struct sbx_req *req,
			   const cJSON *in)
{
	struct hrv *st = emu->data;
	double loc = sbx_jnum(in, "location_id", primary_location(st));
	const char *fs = sbx_jstr(in, "financial_status");
	const char *ff = sbx_jstr(in, "fulfillment_status");
	if (fs && strcmp(fs, "pending") != 0 && strcmp(fs, "paid") != 0 &&
	    strcmp(fs, "authorized") != 0) {
		reply_422(req, "financial_status",
			  "is not included in the list");
		return NULL;
	}
	if (ff && strcmp(ff, "fulfilled") != 0) {
		reply_422(req, "fulfillment_status",
			  "is not included in the list");
		return NULL;
	}
	if (!order_check(st, req, in, loc))
		return NULL;
	cJSON *o = order_build(emu, in, loc);
	const cJSON *t;
	cJSON_ArrayForEach (t, jget(in, "transactions")) {
		const char *kind =
			sbx_jstr(t, "kind") ? sbx_jstr(t, "kind") : "sale";
		tx_new(st, o, kind,
		       sbx_jnum(t, "amount", jnum(o, "total_price")),
		       sbx_jstr(t, "gateway"));
	}
	if (fs && strcmp(fs, "paid") == 0 && paid_amount(o) == 0)
		tx_new(st, o, "sale", jnum(o, "total_price"), NULL);
	if (fs && strcmp(fs, "authorized") == 0)
		tx_new(st, o, "authorization", jnum(o, "total_price"), NULL);
	recompute_financial(o);
	if (ff)
		fulfil(st, o, NULL, NULL);
	emit(emu, "orders/create", o);
	if (financial_is(o, "paid"))
		emit(emu, "orders/paid", o);
	if (ff)
		emit(emu, "orders/fulfilled", o);
	return o;
}

/* ---- orders: fulfilment, cancel, refunds ---- */

static void line_status(cJSON *l)
{
	double ful = jnum(l, "_fulfilled");
	double left = jnum(l, "fulfillable_quantity");
	sbx_jset_str(l, "fulfillment_status",
		     ful > 0 ? (left > 0 ? "partial" : "fulfilled")
			     : "notfulfilled");
}

static void order_fulfillment_status(cJSON *order)
{
	bool any = false;
	bool all = true;
	const cJSON *l;
	cJSON_ArrayForEach (l, jget(order, "line_items")) {
		if (jnum(l, "_fulfilled") > 0)
			any = true;
		if (jnum(l, "fulfillable_quantity") > 0)
			all = false;
	}
	sbx_jset_str(order, "fulfillment_status",
		     any ? (all ? "fulfilled" : "partial") : NULL);
}

/* Ships fulfillable quantities (all, or only's [{id, quantity}]): stock
 * leaves on hand and the reservation. Returns false when nothing to ship. */
static bool fulfil(struct hrv *st, cJSON *order, const cJSON *only,
		   const char *tracking)
{
	cJSON *f = cJSON_CreateObject();
	cJSON *fl = cJSON_CreateArray();
	cJSON *l;
	cJSON_ArrayForEach (l, jget(order, "line_items")) {
		double q = jnum(l, "fulfillable_quantity");
		if (only) {
			const cJSON *o;
			double want = 0;
			cJSON_ArrayForEach (o, only) {
				if (sbx_jnum(o, "id", -1) == jid(l))
					want = sbx_jnum(o, "quantity", q);
			}
			q = want < q ? want : q;
		}
		if (q <= 0)
			continue;
		inv_move(st, jnum(order, "location_id"), jnum(l, "variant_id"),
			 -q, -q);
		sbx_jset_num(l, "fulfillable_quantity",
			     jnum(l, "fulfillable_quantity") - q);
		sbx_jset_num(l, "_fulfilled", jnum(l, "_fulfilled") + q);
		line_status(l);
		cJSON *x = cJSON_CreateObject();
		cJSON_AddNumberToObject(x, "id", jid(l));
		cJSON_AddNumberToObject(x, "quantity", q);
		cJSON_AddItemToArray(fl, x);
	}
	if (!fl->child) {
		cJSON_Delete(fl);
		cJSON_Delete(f);
		return false;
	}
	cJSON_AddNumberToObject(f, "id", new_id(st));
	cJSON_AddNumberToObject(f, "order_id", jid(order));
	cJSON_AddStringToObject(f, "status", "success");
	sbx_jset_str(f, "tracking_number", tracking);
	stamp(f, "created_at");
	cJSON_AddItemToObject(f, "line_items", fl);
	cJSON_AddItemToArray(jget(order, "fulfillments"), f);
	order_fulfillment_status(order);
	stamp(order, "updated_at");
	return true;
}

static bool valid_cancel_reason(const char *r)
{
	static const char *const reasons[] = { "customer", "fraud", "inventory",
					       "declined", "other", NULL };
	for (int i = 0; reasons[i]; i++) {
		if (strcmp(r, reasons[i]) == 0)
			return true;
	}
	return false;
}

/* Cancels: releases reservations, restocks shipped goods when asked,
 * refunds (paid) or voids (unpaid). Replies 422 and returns false when
 * refused. */
static bool order_cancel(struct hrv *st, struct sbx_req *req, cJSON *order,
			 const cJSON *in)
{
	const char *reason = sbx_jstr(in, "reason");
	if (cancelled(order)) {
		reply_422(req, "base", "order has already been cancelled");
		return false;
	}
	if (!reason || !*reason) {
		reply_422(req, "reason", "can't be blank");
		return false;
	}
	if (!valid_cancel_reason(reason)) {
		reply_422(req, "reason", "is not included in the list");
		return false;
	}
	double paid = paid_amount(order) - sum_tx(order, "refund");
	double amount = sbx_jnum(in, "amount", paid);
	bool refund = sbx_jbool(in, "refund", jget(in, "amount") != NULL);
	if (refund && amount > paid) {
		reply_422(req, "amount", "exceeds the amount paid");
		return false;
	}
	bool restock = sbx_jbool(in, "restock", false);
	double loc = jnum(order, "location_id");
	cJSON *l;
	cJSON_ArrayForEach (l, jget(order, "line_items")) {
		inv_move(st, loc, jnum(l, "variant_id"), 0,
			 -jnum(l, "fulfillable_quantity"));
		sbx_jset_num(l, "fulfillable_quantity", 0);
		if (restock && jnum(l, "_fulfilled") > 0) {
			inv_move(st, loc, jnum(l, "variant_id"),
				 jnum(l, "_fulfilled"), 0);
			sbx_jset_num(l, "_fulfilled", 0);
		}
	}
	if (refund && amount > 0)
		tx_new(st, order, "refund", amount, NULL);
	else if (paid <= 0 && !financial_is(order, "refunded"))
		sbx_jset(order, "_voided", cJSON_CreateTrue());
	recompute_financial(order);
	if (restock)
		sbx_jset_str(order, "fulfillment_status", "restocked");
	stamp(order, "cancelled_at");
	sbx_jset_str(order, "cancel_reason", reason);
	sbx_jset_str(order, "cancelled_status", "cancelled");
	if (sbx_jstr(in, "note"))
		sbx_jset_str(order, "note", sbx_jstr(in, "note"));
	stamp(order, "updated_at");
	return true;
}

static double refundable_amount(const cJSON *order)
{
	return paid_amount(order) - sum_tx(order, "refund");
}

/* Value of q units of line l after its own discount share. */
static double line_value(const cJSON *l, double q)
{
	double qty = jnum(l, "quantity");
	return sbx_vnd(jnum(l, "price") * q -
		       (qty > 0 ? jnum(l, "total_discount") * q / qty : 0));
}

/* Creates a refund (return): checks every line, then restocks and records
 * money. Returns the refund or NULL after a 422. */
static cJSON *refund_create(struct hrv *st, struct sbx_req *req, cJSON *order,
			    const cJSON *in)
{
	const cJSON *rl = jget(in, "refund_line_items");
	const cJSON *x;
	char msg[160];
	cJSON_ArrayForEach (x, rl) {
		cJSON *l = find_id(jget(order, "line_items"),
				   sbx_jnum(x, "line_item_id", -1));
		double q = sbx_jnum(x, "quantity", 0);
		if (!l) {
			reply_422(req, "refund_line_items",
				  "line_item_id not found in this order");
			return NULL;
		}
		if (q < 1 || q > jnum(l, "quantity") - jnum(l, "_refunded")) {
			snprintf(msg, sizeof msg,
				 "quantity %.0f exceeds refundable quantity "
				 "%.0f",
				 q, jnum(l, "quantity") - jnum(l, "_refunded"));
			reply_422(req, "refund_line_items", msg);
			return NULL;
		}
	}
	double money = 0;
	cJSON_ArrayForEach (x, jget(in, "transactions"))
		money += jnum(x, "amount");
	if (money > refundable_amount(order)) {
		reply_422(req, "transactions",
			  "amount exceeds the refundable amount");
		return NULL;
	}
	if (!rl && money <= 0) {
		reply_422(req, "refund_line_items", "can't be blank");
		return NULL;
	}
	bool restock = sbx_jbool(in, "restock", false);
	double loc = jnum(order, "location_id");
	cJSON *r = cJSON_CreateObject();
	cJSON_AddNumberToObject(r, "id", new_id(st));
	cJSON_AddNumberToObject(r, "order_id", jid(order));
	stamp(r, "created_at");
	sbx_jset_str(r, "note", sbx_jstr(in, "note"));
	sbx_jset(r, "restock", cJSON_CreateBool(restock));
	cJSON_AddNullToObject(r, "user_id");
	cJSON *out_lines = cJSON_AddArrayToObject(r, "refund_line_items");
	cJSON_ArrayForEach (x, rl) {
		cJSON *l = find_id(jget(order, "line_items"), jnum(x, "line_"
								      "item_"
								      "id"));
		double q = jnum(x, "quantity");
		/* a return takes shipped units first, then unshipped ones */
		double from_ful =
			q < jnum(l, "_fulfilled") ? q : jnum(l, "_fulfilled");
		double from_unf = q - from_ful;
		if (from_unf > jnum(l, "fulfillable_quantity"))
			from_unf = jnum(l, "fulfillable_quantity");
		if (restock)
			inv_move(st, loc, jnum(l, "variant_id"), from_ful, 0);
		inv_move(st, loc, jnum(l, "variant_id"), 0, -from_unf);
		sbx_jset_num(l, "_fulfilled", jnum(l, "_fulfilled") - from_ful);
		sbx_jset_num(l, "fulfillable_quantity",
			     jnum(l, "fulfillable_quantity") - from_unf);
		sbx_jset_num(l, "_refunded", jnum(l, "_refunded") + q);
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "id", new_id(st));
		cJSON_AddNumberToObject(o, "line_item_id", jid(l));
		cJSON_AddNumberToObject(o, "quantity", q);
		cJSON_AddNumberToObject(o, "subtotal", line_value(l, q));
		cJSON_AddItemToObject(o, "line_item", sbx_out_copy(l));
		cJSON_AddItemToArray(out_lines, o);
	}
	cJSON *txs = cJSON_AddArrayToObject(r, "transactions");
	cJSON_ArrayForEach (x, jget(in, "transactions")) {
		if (jnum(x, "amount") > 0)
			cJSON_AddItemToArray(
				txs, cJSON_Duplicate(tx_new(st, order, "refund",
							    jnum(x, "amount"),
							    sbx_jstr(x, "gatewa"
									"y")),
						     true));
	}
	cJSON_AddItemToArray(jget(order, "refunds"), r);
	recompute_financial(order);
	bool all_back = restock;
	cJSON *l;
	cJSON_ArrayForEach (l, jget(order, "line_items")) {
		if (jnum(l, "_refunded") < jnum(l, "quantity"))
			all_back = false;
	}
	if (all_back)
		sbx_jset_str(order, "fulfillment_status", "restocked");
	stamp(order, "updated_at");
	return r;
}

/* ---- orders: handlers ---- */

static bool order_keep(const cJSON *o, struct sbx_req *req, struct hrv *st)
{
	const char *status = sbx_query(req, "status");
	const char *fs = sbx_query(req, "financial_status");
	const char *ff = sbx_query(req, "fulfillment_status");
	const char *ofs = sbx_jstr(o, "financial_status");
	const char *off = sbx_jstr(o, "fulfillment_status");

	if (!status)
		status = "open"; /* the service lists open orders by default */
	if (strcmp(status, "open") == 0 && (closed(o) || cancelled(o)))
		return false;
	if (strcmp(status, "closed") == 0 && !closed(o))
		return false;
	if (strcmp(status, "cancelled") == 0 && !cancelled(o))
		return false;
	if (fs && strcmp(fs, "any") != 0) {
		if (strcmp(fs, "unpaid") == 0) {
			if (strcmp(ofs, "pending") != 0 &&
			    strcmp(ofs, "authorized") != 0 &&
			    strcmp(ofs, "partially_paid") != 0)
				return false;
		} else if (strcmp(fs, ofs) != 0) {
			return false;
		}
	}
	if (ff && strcmp(ff, "any") != 0) {
		if (strcmp(ff, "shipped") == 0 ||
		    strcmp(ff, "fulfilled") == 0) {
			if (!off || strcmp(off, "fulfilled") != 0)
				return false;
		} else if (strcmp(ff, "partial") == 0) {
			if (!off || strcmp(off, "partial") != 0)
				return false;
		} else if (strcmp(ff, "unshipped") == 0) {
			if (off)
				return false;
		} else if (strcmp(ff, "unfulfilled") == 0) {
			if (off && strcmp(off, "partial") != 0)
				return false;
		} else if (!off || strcmp(ff, off) != 0) {
			return false;
		}
	}
	return true;
}

static cJSON *order_param(struct hrv *st, struct sbx_req *req)
{
	cJSON *o = find_id(st->orders, parse_id(sbx_param(req, "id")));
	if (!o)
		reply_404(req);
	return o;
}

static const struct hrv_coll coll_orders = {
	"read_orders", offsetof(struct hrv, orders),
	order_keep,    &opts_orders,
	"orders",      "order",
};
HRV_COLL_HANDLERS(coll_orders, h_orders_list, h_orders_count, h_order_get)

static void h_order_create(struct sbx_emu *emu, struct sbx_req *req)
{
	if (!auth(emu, req, "write_orders"))
		return;
	const cJSON *in = body_root(req, "order");
	if (!in)
		return;
	cJSON *o = order_create(emu, req, in);
	if (o)
		sbx_reply_json(req, 201, wrap("order", sbx_out_copy(o)));
}

static void h_order_update(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	cJSON *o = auth_find(emu, req, "write_orders", st->orders);
	if (!o)
		return;
	const cJSON *in = body_root(req, "order");
	if (!in)
		return;
	if (jget(in, "line_items")) {
		reply_422(req, "line_items",
			  "cannot be changed after the order is created");
		return;
	}
	static const char *const fields[] = { "note",
					      "note_attributes",
					      "tags",
					      "email",
					      "phone",
					      "shipping_address",
					      "billing_address",
					      "buyer_accepts_marketing",
					      NULL };
	for (int i = 0; fields[i]; i++)
		jcopy(o, in, fields[i]);
	stamp(o, "updated_at");
	emit(emu, "orders/updated", o);
	sbx_reply_json(req, 200, wrap("order", sbx_out_copy(o)));
}

/* confirm / close / open share the shape: check, change, orders/updated. */
static void order_state_change(struct sbx_emu *emu, struct sbx_req *req,
			       const char *what)
{
	struct hrv *st = emu->data;
	cJSON *o = auth_find(emu, req, "write_orders", st->orders);
	if (!o)
		return;
	if (strcmp(what, "confirm") == 0) {
		if (cancelled(o)) {
			reply_422(req, "base",
				  "cancelled order cannot be confirmed");
			return;
		}
		if (strcmp(sbx_jstr(o, "confirmed_status"), "confirmed") == 0) {
			reply_422(req, "base", "order is already confirmed");
			return;
		}
		stamp(o, "confirmed_at");
		sbx_jset_str(o, "confirmed_status", "confirmed");
	} else if (strcmp(what, "close") == 0) {
		if (closed(o)) {
			reply_422(req, "base", "order is already closed");
			return;
		}
		stamp(o, "closed_at");
		sbx_jset_str(o, "closed_status", "closed");
	} else {
		if (!closed(o)) {
			reply_422(req, "base", "order is not closed");
			return;
		}
		sbx_jset_str(o, "closed_at", NULL);
		sbx_jset_str(o, "closed_status", "unclosed");
	}
	stamp(o, "updated_at");
	emit(emu, "orders/updated", o);
	sbx_reply_json(req, 200, wrap("order", sbx_out_copy(o)));
}

static void h_order_confirm(struct sbx_emu *emu, struct sbx_req *req)
{
	order_state_change(emu, req, "confirm");
}

static void h_order_close(struct sbx_emu *emu, struct sbx_req *req)
{
	order_state_change(emu, req, "close");
}

static void h_order_open(struct sbx_emu *emu, struct sbx_req *req)
{
	order_state_change(emu, req, "open");
}

static void h_order_cancel(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	cJSON *o = auth_find(emu, req, "write_orders", st->orders);
	if (!o)
		return;
	cJSON *empty = cJSON_CreateObject();
	const cJSON *in = req->json ? req->json : empty;
	if (order_cancel(st, req, o, in)) {
		emit_order(emu, "orders/cancelled", o);
		sbx_reply_json(req, 200, wrap("order", sbx_out_copy(o)));
	}
	cJSON_Delete(empty);
}

static void h_fulfillment_create(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	cJSON *o = auth_find(emu, req, "write_orders", st->orders);
	if (!o)
		return;
	const cJSON *in = body_root(req, "fulfillment");
	if (!in)
		return;
	if (cancelled(o)) {
		reply_422(req, "base", "order is cancelled");
		return;
	}
	const cJSON *only = jget(in, "line_items");
	if (!fulfil(st, o, cJSON_IsArray(only) ? only : NULL,
		    sbx_jstr(in, "tracking_number"))) {
		reply_422(req, "line_items", "nothing left to fulfill");
		return;
	}
	emit_order(emu,
		   strcmp(sbx_jstr(o, "fulfillment_status"), "fulfilled") == 0
			   ? "orders/fulfilled"
			   : "orders/updated",
		   o);
	cJSON *f = cJSON_GetArrayItem(jget(o, "fulfillments"),
				      cJSON_GetArraySize(jget(o, "fulfillment"
								 "s")) -
					      1);
	sbx_reply_json(req, 201, wrap("fulfillment", sbx_out_copy(f)));
}

static void h_transactions_list(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	if (!auth(emu, req, "read_orders"))
		return;
	cJSON *o = order_param(st, req);
	if (o)
		sbx_reply_json(req, 200,
			       wrap("transactions",
				    sbx_out_copy(jget(o, "transactions"))));
}

static bool valid_kind(const char *k)
{
	static const char *const kinds[] = { "pending", "authorization",
					     "capture", "sale",
					     "void",	"refund",
					     NULL };
	for (int i = 0; kinds[i]; i++) {
		if (strcasecmp(k, kinds[i]) == 0)
			return true;
	}
	return false;
}

/* Adds a transaction; NULL after a 422. Sends orders/paid on the
 * transition to paid. */
static cJSON *transaction_add(struct sbx_emu *emu, struct sbx_req *req,
			      cJSON *o, const cJSON *in)
{
	struct hrv *st = emu->data;
	const char *kind = sbx_jstr(in, "kind");
	if (!kind || !valid_kind(kind)) {
		reply_422(req, "kind", "is not included in the list");
		return NULL;
	}
	double due = jnum(o, "total_price") - paid_amount(o);
	double amount = sbx_jnum(
		in, "amount",
		strcasecmp(kind, "refund") == 0 ? refundable_amount(o) : due);
	if (amount <= 0) {
		reply_422(req, "amount", "must be greater than 0");
		return NULL;
	}
	if (cancelled(o) && strcasecmp(kind, "refund") != 0) {
		reply_422(req, "base", "order is cancelled");
		return NULL;
	}
	if ((strcasecmp(kind, "sale") == 0 ||
	     strcasecmp(kind, "capture") == 0) &&
	    amount > due) {
		reply_422(req, "amount", "exceeds the outstanding balance");
		return NULL;
	}
	if (strcasecmp(kind, "refund") == 0 && amount > refundable_amount(o)) {
		reply_422(req, "amount", "exceeds the refundable amount");
		return NULL;
	}
	bool was_paid = financial_is(o, "paid");
	char lk[16];
	snprintf(lk, sizeof lk, "%s", kind);
	for (char *p = lk; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	cJSON *t = tx_new(st, o, lk, amount, sbx_jstr(in, "gateway"));
	recompute_financial(o);
	stamp(o, "updated_at");
	emit_order(emu,
		   !was_paid && financial_is(o, "paid") ? "orders/paid"
							: "orders/updated",
		   o);
	return t;
}

static void h_transaction_create(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	cJSON *o = auth_find(emu, req, "write_orders", st->orders);
	if (!o)
		return;
	const cJSON *in = body_root(req, "transaction");
	if (!in)
		return;
	cJSON *t = transaction_add(emu, req, o, in);
	if (t)
		sbx_reply_json(req, 201, wrap("transaction", sbx_out_copy(t)));
}

static void h_refunds_list(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	if (!auth(emu, req, "read_orders"))
		return;
	cJSON *o = order_param(st, req);
	if (o)
		sbx_reply_json(req, 200,
			       wrap("refunds", sbx_out_copy(jget(o, "refund"
								    "s"))));
}

static void h_refund_create(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	cJSON *o = auth_find(emu, req, "write_orders", st->orders);
	if (!o)
		return;
	const cJSON *in = body_root(req, "refund");
	if (!in)
		return;
	cJSON *r = refund_create(st, req, o, in);
	if (!r)
		return;
	emit(emu, "orders/updated", o);
	sbx_reply_json(req, 201, wrap("refund", sbx_out_copy(r)));
}

/* ---- acts: what shop staff and buyers do ---- */

static cJSON *act_order(struct hrv *st, struct sbx_req *req)
{
	const cJSON *in = req->json;
	cJSON *o = NULL;
	if (jget(in, "id") || jget(in, "order_id"))
		o = find_id(st->orders,
			    sbx_jnum(in, jget(in, "id") ? "id" : "order_id",
				     -1));
	else if (jget(in, "order_number")) {
		cJSON *it;
		cJSON_ArrayForEach (it, st->orders) {
			if (jnum(it, "order_number") ==
			    sbx_jnum(in, "order_number", -1))
				o = it;
		}
	}
	if (!o)
		sbx_reply_json(req, 404,
			       wrap("error", cJSON_CreateString("order not "
								"found")));
	return o;
}

/* Acts answer {<key>: resource, "webhooks": [{topic, delivery_id}]}. */
static void act_reply(struct hrv *st, struct sbx_req *req, int status,
		      const char *key, const cJSON *res)
{
	cJSON *o = wrap(key, sbx_out_copy(res));
	cJSON_AddItemToObject(o, "webhooks", st->out_hooks);
	st->out_hooks = NULL;
	sbx_reply_json(req, status, o);
}

static bool act_begin(struct hrv *st, struct sbx_req *req)
{
	cJSON_Delete(st->out_hooks);
	st->out_hooks = cJSON_CreateArray();
	if (!cJSON_IsObject(req->json)) {
		sbx_reply_json(req, 400,
			       wrap("error", cJSON_CreateString("body must be "
								"a json "
								"object")));
		return false;
	}
	return true;
}

static void act_end(struct hrv *st)
{
	cJSON_Delete(st->out_hooks);
	st->out_hooks = NULL;
}

static void act_create_order(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	if (act_begin(st, req)) {
		cJSON *o = order_create(emu, req, req->json);
		if (o)
			act_reply(st, req, 201, "order", o);
	}
	act_end(st);
}

static void act_pay_order(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	cJSON *o;
	if (act_begin(st, req) && (o = act_order(st, req))) {
		cJSON *in = cJSON_CreateObject();
		cJSON_AddStringToObject(in, "kind", "capture");
		if (jget(req->json, "amount"))
			cJSON_AddNumberToObject(in, "amount",
						jnum(req->json, "amount"));
		if (sbx_jstr(req->json, "gateway"))
			cJSON_AddStringToObject(in, "gateway",
						sbx_jstr(req->json, "gateway"));
		if (transaction_add(emu, req, o, in))
			act_reply(st, req, 200, "order", o);
		cJSON_Delete(in);
	}
	act_end(st);
}

static void act_fulfil_order(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	cJSON *o;
	if (act_begin(st, req) && (o = act_order(st, req))) {
		const cJSON *only = jget(req->json, "line_items");
		if (cancelled(o)) {
			reply_422(req, "base", "order is cancelled");
		} else if (!fulfil(st, o, cJSON_IsArray(only) ? only : NULL,
				   sbx_jstr(req->json, "tracking_number"))) {
			reply_422(req, "line_items", "nothing left to fulfill");
		} else {
			emit_order(emu,
				   strcmp(sbx_jstr(o, "fulfillment_status"),
					  "fulfilled") == 0
					   ? "orders/fulfilled"
					   : "orders/updated",
				   o);
			act_reply(st, req, 200, "order", o);
		}
	}
	act_end(st);
}

static void act_cancel_order(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	cJSON *o;
	if (act_begin(st, req) && (o = act_order(st, req))) {
		/* staff defaults: reason customer, restock, refund what was paid */
		cJSON *in = cJSON_Duplicate(req->json, true);
		if (!jget(in, "reason"))
			cJSON_AddStringToObject(in, "reason", "customer");
		if (!jget(in, "restock"))
			cJSON_AddTrueToObject(in, "restock");
		if (!jget(in, "refund"))
			sbx_jset(in, "refund",
				 cJSON_CreateBool(refundable_amount(o) > 0));
		if (order_cancel(st, req, o, in)) {
			emit_order(emu, "orders/cancelled", o);
			act_reply(st, req, 200, "order", o);
		}
		cJSON_Delete(in);
	}
	act_end(st);
}

/* Return with restock: lines default to everything not yet returned, money
 * to the lines' value (capped by what was paid). */
static void act_refund_order(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	cJSON *o;
	if (!act_begin(st, req) || !(o = act_order(st, req)))
		goto out;
	cJSON *in = cJSON_CreateObject();
	cJSON *rl = cJSON_AddArrayToObject(in, "refund_line_items");
	double value = 0;
	const cJSON *given = jget(req->json, "line_items");
	cJSON *l;
	cJSON_ArrayForEach (l, jget(o, "line_items")) {
		double q = jnum(l, "quantity") - jnum(l, "_refunded");
		if (cJSON_IsArray(given)) {
			const cJSON *g;
			double want = 0;
			cJSON_ArrayForEach (g, given) {
				const char *sku = sbx_jstr(g, "sku");
				if (sbx_jnum(g, "line_item_id", -1) == jid(l) ||
				    (sku && sbx_jstr(l, "sku") &&
				     strcmp(sku, sbx_jstr(l, "sku")) == 0))
					want = sbx_jnum(g, "quantity", q);
			}
			q = want;
		}
		if (q <= 0)
			continue;
		cJSON *x = cJSON_CreateObject();
		cJSON_AddNumberToObject(x, "line_item_id", jid(l));
		cJSON_AddNumberToObject(x, "quantity", q);
		cJSON_AddItemToArray(rl, x);
		value += line_value(l, q);
	}
	if (!rl->child) {
		cJSON_DeleteItemFromObject(in, "refund_line_items");
		cJSON_AddItemToObject(in, "refund_line_items",
				      cJSON_CreateArray());
	}
	sbx_jset(in, "restock",
		 cJSON_CreateBool(sbx_jbool(req->json, "restock", true)));
	if (sbx_jstr(req->json, "note"))
		cJSON_AddStringToObject(in, "note",
					sbx_jstr(req->json, "note"));
	double amount = sbx_jnum(req->json, "amount", value);
	if (amount > refundable_amount(o) && !jget(req->json, "amount"))
		amount = refundable_amount(o);
	if (amount > 0) {
		cJSON *txs = cJSON_AddArrayToObject(in, "transactions");
		cJSON *t = cJSON_CreateObject();
		cJSON_AddNumberToObject(t, "amount", amount);
		cJSON_AddStringToObject(t, "kind", "refund");
		cJSON_AddItemToArray(txs, t);
	}
	if (refund_create(st, req, o, in)) {
		emit(emu, "orders/updated", o);
		act_reply(st, req, 200, "order", o);
	}
	cJSON_Delete(in);
out:
	act_end(st);
}

static void act_create_customer(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	if (act_begin(st, req)) {
		cJSON *c = customer_create(st, req, req->json);
		if (c) {
			emit(emu, "customers/create", c);
			act_reply(st, req, 201, "customer", c);
		}
	}
	act_end(st);
}

/* Edits a product (by id or by a variant sku) as in the admin; "price"
 * at top level applies to the sku's variant (or the first one). */
static void act_edit_product(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	cJSON *p = NULL;
	cJSON *v = NULL;
	if (!act_begin(st, req))
		goto out;
	if (jget(req->json, "id"))
		p = find_id(st->products, sbx_jnum(req->json, "id", -1));
	else
		v = find_variant_sku(st, sbx_jstr(req->json, "sku"), &p);
	if (!p) {
		sbx_reply_json(req, 404,
			       wrap("error", cJSON_CreateString("product not "
								"found")));
		goto out;
	}
	if (!product_check(req, req->json, false) ||
	    !product_update(st, req, p, req->json))
		goto out;
	if (!v)
		v = cJSON_GetArrayItem(jget(p, "variants"), 0);
	if (v && jget(req->json, "price")) {
		cJSON *vin = cJSON_CreateObject();
		cJSON_AddNumberToObject(vin, "price", jnum(req->json, "price"));
		variant_update(v, vin);
		cJSON_Delete(vin);
	}
	emit(emu, "products/update", p);
	act_reply(st, req, 200, "product", p);
out:
	act_end(st);
}

/* Test knob: bucket capacity and leak rate (defaults 80 and 4/s). */
static void act_set_rate_limit(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	if (!act_begin(st, req))
		goto out;
	st->capacity = sbx_jnum(req->json, "capacity", st->capacity);
	st->leak = sbx_jnum(req->json, "leak_per_sec", st->leak);
	if (st->capacity < 1)
		st->capacity = 1;
	if (sbx_jbool(req->json, "reset", true)) {
		for (int i = 0; i < st->ntokens; i++) {
			st->tokens[i].level = 0;
			st->tokens[i].last_ms = 0;
		}
	}
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "capacity", st->capacity);
	cJSON_AddNumberToObject(o, "leak_per_sec", st->leak);
	sbx_reply_json(req, 200, o);
out:
	act_end(st);
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
		product_create(st, p);
	const cJSON *s;
	cJSON_ArrayForEach (s, jget(seed, "stock")) {
		cJSON *prod = NULL;
		cJSON *v = find_variant_sku(st, sbx_jstr(s, "sku"), &prod);
		const cJSON *q;
		if (!v)
			continue;
		cJSON_ArrayForEach (q, jget(s, "qty")) {
			/* "qty": {"<location id>": onhand} */
			inv_set(st, parse_id(q->string), v, prod,
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
			cust = find_customer_by(
				st, "email", sbx_jstr(o, "customer_email"), -1);
		if (cust)
			cJSON_AddNumberToObject(in, "customer_id", jid(cust));
		double loc = sbx_jnum(in, "location_id", primary_location(st));
		const cJSON *l;
		cJSON_ArrayForEach (l, jget(in, "line_items")) {
			if (!line_variant(st, l, NULL) ||
			    sbx_jnum(l, "quantity", 0) < 1) {
				cJSON_Delete(in);
				return -1;
			}
		}
		cJSON *ord = order_build(emu, in, loc);
		if (sbx_jstr(o, "financial_status") &&
		    strcmp(sbx_jstr(o, "financial_status"), "paid") == 0)
			tx_new(st, ord, "sale", jnum(ord, "total_price"), NULL);
		recompute_financial(ord);
		if (sbx_jstr(o, "fulfillment_status"))
			fulfil(st, ord, NULL, NULL);
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
		cJSON *cust = customer_new(st);
		for (int i = 0; customer_fields[i]; i++)
			jcopy(cust, c, customer_fields[i]);
		const cJSON *a;
		cJSON *addrs = cJSON_CreateArray();
		cJSON_ArrayForEach (a, jget(c, "addresses"))
			cJSON_AddItemToArray(addrs, make_address(st, a, cust));
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
	{ "GET", "/com/shop.json", h_shop },
	{ "GET", "/com/customers.json", h_customers_list },
	{ "POST", "/com/customers.json", h_customer_create },
	{ "GET", "/com/customers/search.json", h_customers_list },
	{ "GET", "/com/customers/count.json", h_customers_count },
	{ "GET", "/com/customers/groups.json", h_customer_groups },
	{ "GET", "/com/customers/{id}.json", h_customer_get },
	{ "PUT", "/com/customers/{id}.json", h_customer_update },
	{ "DELETE", "/com/customers/{id}.json", h_customer_delete },
	{ "GET", "/com/products.json", h_products_list },
	{ "POST", "/com/products.json", h_product_create },
	{ "GET", "/com/products/count.json", h_products_count },
	{ "GET", "/com/products/{id}.json", h_product_get },
	{ "PUT", "/com/products/{id}.json", h_product_update },
	{ "DELETE", "/com/products/{id}.json", h_product_delete },
	{ "GET", "/com/products/{id}/variants.json", h_variants_list },
	{ "POST", "/com/products/{id}/variants.json", h_variant_create },
	{ "GET", "/com/variants/{id}.json", h_variant_get },
	{ "PUT", "/com/variants/{id}.json", h_variant_update },
	{ "GET", "/com/locations.json", h_locations },
	{ "GET", "/com/locations/{id}.json", h_location_get },
	{ "GET", "/com/inventory_locations.json", h_inventory_locations },
	{ "POST", "/com/inventories/adjustorset.json", h_adjustorset },
	{ "GET", "/com/inventories/adjustments.json", h_adjustments },
	{ "GET", "/com/inventories/adjustments/count.json",
	  h_adjustments_count },
	{ "GET", "/com/inventories/adjustments/{id}.json", h_adjustment_get },
	{ "GET", "/com/orders.json", h_orders_list },
	{ "POST", "/com/orders.json", h_order_create },
	{ "GET", "/com/orders/count.json", h_orders_count },
	{ "GET", "/com/orders/{id}.json", h_order_get },
	{ "PUT", "/com/orders/{id}.json", h_order_update },
	{ "POST", "/com/orders/{id}/confirm.json", h_order_confirm },
	{ "POST", "/com/orders/{id}/close.json", h_order_close },
	{ "POST", "/com/orders/{id}/open.json", h_order_open },
	{ "POST", "/com/orders/{id}/cancel.json", h_order_cancel },
	{ "POST", "/com/orders/{id}/fulfillments.json", h_fulfillment_create },
	{ "GET", "/com/orders/{id}/transactions.json", h_transactions_list },
	{ "POST", "/com/orders/{id}/transactions.json", h_transaction_create },
	{ "GET", "/com/orders/{id}/refunds.json", h_refunds_list },
	{ "POST", "/com/orders/{id}/refunds.json", h_refund_create },
	{ NULL, NULL, NULL }
};

static const struct sbx_act hrv_acts[] = {
	{ "create_order", act_create_order },
	{ "pay_order", act_pay_order },
	{ "fulfil_order", act_fulfil_order },
	{ "cancel_order", act_cancel_order },
	{ "refund_order", act_refund_order },
	{ "create_customer", act_create_customer },
	{ "edit_product", act_edit_product },
	{ "set_rate_limit", act_set_rate_limit },
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

/*
 * crm.c - AMIS CRM (AMIS Bán hàng) public API v2 emulator.
 *
 * Faithful to apis.md §2 for auth, envelope, errors, paging, lookups, the
 * Product / Customers / Contacts / SaleOrders / Stocks resources and
 * Stocks/product_ledger. Revenue requests, invoice requests, quotes, price
 * policies, the write-back fields of W2/C3 and the webhook events are
 * designed (sandbox/docs/crm.md says which is which).
 *
 * This file: the stock ledger endpoints, the life cycle and registration;
 * crm_checks.c holds the record checks and resource table, crm_acts.c the
 * acts, crm_int.h what they share. The platform layer is crm_platform.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crm_int.h"

#define CRM_BASE "/crm/gc/api/public/api/v2"

static unsigned crm_generation;

/* ---------------------------------------------------------------- stocks */

static cJSON *ledger_find(struct crm *c, const char *product, const char *stock)
{
	cJSON *e;
	cJSON_ArrayForEach (e, c->ledger) {
		const char *p = sbx_jstr(e, "product_code"),
			   *s = sbx_jstr(e, "stock_code");
		if (p && s && strcmp(p, product) == 0 && strcmp(s, stock) == 0)
			return e;
	}
	return NULL;
}

static void ledger_get(void *ctx, struct sbx_emu *emu, struct sbx_req *req)
{
	struct crm *c = ctx;
	const char *sid = sbx_query(req, "stockID");
	const cJSON *stock = NULL;
	if (sid && *sid) {
		/* stockID takes the stock's id; a stock code is accepted too */
		stock = amis_find_id(tab(c, T_STOCKS), atol(sid));
		if (!stock)
			stock = amis_find_code(tab(c, T_STOCKS), sid);
		if (!stock) {
			amis_err(req, 404, "NotFound", "no stock with id '%s'",
				 sid);
			return;
		}
	}
	long page = atol(sbx_query(req, "page") ? sbx_query(req, "page") : "1");
	long size = atol(sbx_query(req, "pageSize") ? sbx_query(req, "pageSize")
						    : "10");
	if (page < 1 || size < 1) {
		amis_err(req, 400, "InvalidParam",
			 "page and pageSize must be positive integers");
		return;
	}
	if (size > 100)
		size = 100;
	cJSON *data = cJSON_CreateArray();
	long idx = 0, total = 0;
	const cJSON *e;
	cJSON_ArrayForEach (e, c->ledger) {
		const char *sc = sbx_jstr(e, "stock_code");
		if (stock && strcmp(sc, sbx_jstr(stock, "stock_code")) != 0)
			continue;
		total++;
		if (idx++ < (page - 1) * size ||
		    cJSON_GetArraySize(data) >= size)
			continue;
		const cJSON *st = amis_find_code(tab(c, T_STOCKS), sc);
		const cJSON *pr =
			amis_find_code(tab(c, T_PRODUCT), sbx_jstr(e, "product_"
								      "code"));
		cJSON *row = cJSON_Duplicate(e, true);
		amis_set_num(row, "stock_id", (double)amis_id(st));
		amis_set_str(row, "stock_name", sbx_jstr(st, "stock_name"));
		amis_set_str(row, "product_name", sbx_jstr(pr, "product_name"));
		amis_set_str(row, "unit", sbx_jstr(pr, "usage_unit"));
		cJSON_AddItemToArray(data, row);
	}
	cJSON *b = cJSON_CreateObject();
	cJSON_AddBoolToObject(b, "success", true);
	cJSON_AddStringToObject(b, "code", "");
	cJSON_AddItemToObject(b, "data", data);
	cJSON_AddNumberToObject(b, "total", (double)total);
	sbx_reply_json(req, 200, b);
}

/* Validates one ledger row; returns 0 or -1 with err. */
static int ledger_check(struct crm *c, const cJSON *e, char *err, size_t n)
{
	const char *p = sbx_jstr(e, "product_code"), *s = sbx_jstr(e, "stock_"
								      "code");
	if (!amis_find_code(tab(c, T_PRODUCT), p)) {
		snprintf(err, n, "product_code '%s' is not a product",
			 p ? p : "");
		return -1;
	}
	if (!amis_find_code(tab(c, T_STOCKS), s)) {
		snprintf(err, n, "stock_code '%s' is not a stock", s ? s : "");
		return -1;
	}
	if (!cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(e, "quantity"))) {
		snprintf(err, n, "quantity must be a number");
		return -1;
	}
	return 0;
}

static void ledger_set(struct crm *c, const cJSON *e)
{
	const char *p = sbx_jstr(e, "product_code"), *s = sbx_jstr(e, "stock_"
								      "code");
	cJSON *row = ledger_find(c, p, s);
	char ts[40];
	amis_now_iso(ts, sizeof ts);
	if (!row) {
		row = cJSON_CreateObject();
		cJSON_AddStringToObject(row, "product_code", p);
		cJSON_AddStringToObject(row, "stock_code", s);
		cJSON_AddItemToArray(c->ledger, row);
	}
	amis_set_num(row, "quantity", sbx_jnum(e, "quantity", 0));
	amis_set_str(row, "modified_date", ts);
}

static void ledger_post(void *ctx, struct sbx_emu *emu, struct sbx_req *req)
{
	struct crm *c = ctx;
	char err[AMIS_ERR_MAX];
	if (!cJSON_IsArray(req->json) || cJSON_GetArraySize(req->json) == 0) {
		amis_err(req, 400, "InvalidParam",
			 "body must be a non-empty json array");
		return;
	}
	int i = 0;
	const cJSON *e;
	cJSON_ArrayForEach (e, req->json) {
		if (ledger_check(c, e, err, sizeof err) < 0) {
			amis_err(req, 400, "InvalidParam", "item %d: %s", i,
				 err);
			return;
		}
		i++;
	}
	cJSON_ArrayForEach (e, req->json)
		ledger_set(c, e);
	amis_ok(req, 200, cJSON_Duplicate(req->json, true));
}

/* Faithful warehouse lookups: /Stocks/Asyncid?id= and /Stocks/Code?stockCode=. */
static void stock_asyncid(void *ctx, struct sbx_emu *emu, struct sbx_req *req)
{
	struct crm *c = ctx;
	const char *id = sbx_query(req, "id");
	const cJSON *st = id ? amis_find_id(tab(c, T_STOCKS), atol(id)) : NULL;
	if (!st) {
		amis_err(req, 404, "NotFound", "no stock with id '%s'",
			 id ? id : "");
		return;
	}
	amis_ok(req, 200, cJSON_Duplicate(st, true));
}

static void stock_code(void *ctx, struct sbx_emu *emu, struct sbx_req *req)
{
	struct crm *c = ctx;
	const char *code = sbx_query(req, "stockCode");
	if (!code)
		code = sbx_query(req, "code");
	const cJSON *st = amis_find_code(tab(c, T_STOCKS), code);
	if (!st) {
		amis_err(req, 404, "NotFound", "no stock with code '%s'",
			 code ? code : "");
		return;
	}
	amis_ok(req, 200, cJSON_Duplicate(st, true));
}

static const struct amis_custom crm_custom[] = {
	{ "GET", "Stocks/product_ledger", ledger_get },
	{ "POST", "Stocks/product_ledger", ledger_post },
	{ "GET", "Stocks/Asyncid", stock_asyncid },
	{ "GET", "Stocks/Code", stock_code },
	{ NULL, NULL, NULL },
};

/* ---------------------------------------------------------------- life cycle */

static const char *const seed_tables[T_COUNT] = {
	[T_CUSTOMERS] = "Customers",	   [T_CONTACTS] = "Contacts",
	[T_PRODUCT] = "Product",	   [T_STOCKS] = "Stocks",
	[T_SALEORDERS] = "SaleOrders",	   [T_REVENUE] = "RevenueRequests",
	[T_INVREQ] = "InvoiceRequests",	   [T_QUOTES] = "Quotes",
	[T_PRICEPOL] = "PricePolicies",	   [T_EMPLOYEES] = "Employees",
	[T_CUSTGROUPS] = "CustomerGroups", [T_PRODGROUPS] = "ProductGroups",
};

static void crm_free(struct sbx_emu *emu)
{
	struct crm *c = emu->data;
	if (!c)
		return;
	amis_plat_free(&c->plat);
	cJSON_Delete(c->ledger);
	free(c);
	emu->data = NULL;
}

static int crm_init(struct sbx_emu *emu, const cJSON *seed)
{
	struct crm *c = calloc(1, sizeof *c);
	if (!c)
		return -1;
	emu->data = c;
	c->gen = ++crm_generation;
	for (int i = 0; i < T_COUNT; i++)
		c->tables[i].res = &crm_res[i];
	c->plat.name = "crm";
	c->plat.base = CRM_BASE;
	c->plat.tables = c->tables;
	c->plat.ntables = T_COUNT;
	c->plat.custom = crm_custom;
	c->plat.ctx = c;
	c->ledger = cJSON_CreateArray();
	if (amis_plat_init(&c->plat, seed, "luong-crm", "crm-secret") < 0)
		goto out_free;
	/* Order matters: references must exist before the rows naming them. */
	static const int order[] = { T_CUSTGROUPS, T_PRODGROUPS, T_STOCKS,
				     T_EMPLOYEES,  T_PRODUCT,	 T_CUSTOMERS,
				     T_CONTACTS,   T_SALEORDERS, T_REVENUE,
				     T_INVREQ,	   T_QUOTES,	 T_PRICEPOL };
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
		const cJSON *rows = cJSON_GetObjectItemCaseSensitive(
			seed, seed_tables[order[i]]);
		if (rows &&
		    amis_table_seed(&c->plat, tab(c, order[i]), rows) < 0)
			goto out_free;
	}
	const cJSON *led = cJSON_GetObjectItemCaseSensitive(seed, "product_"
								  "ledger");
	const cJSON *e;
	char err[AMIS_ERR_MAX];
	cJSON_ArrayForEach (e, led) {
		if (ledger_check(c, e, err, sizeof err) < 0) {
			fprintf(stderr,
				"sandbox crm: bad product_ledger seed row: "
				"%s\n",
				err);
			goto out_free;
		}
		ledger_set(c, e);
	}
	return 0;
out_free:
	crm_free(emu);
	return -1;
}

static cJSON *crm_dump(struct sbx_emu *emu)
{
	struct crm *c = emu->data;
	cJSON *d = amis_plat_dump(&c->plat);
	cJSON_AddItemToObject(d, "product_ledger",
			      cJSON_Duplicate(c->ledger, true));
	return d;
}

static void crm_expire(struct sbx_emu *emu)
{
	struct crm *c = emu->data;
	amis_plat_expire(&c->plat);
}

static void crm_api(struct sbx_emu *emu, struct sbx_req *req)
{
	struct crm *c = emu->data;
	amis_handle(&c->plat, emu, req);
}

static const struct sbx_route crm_routes[] = {
	{ "*", CRM_BASE "/*", crm_api },
	{ NULL, NULL, NULL },
};

static const struct sbx_act crm_acts[] = {
	{ "create_order", crm_act_create_order },
	{ "save_revenue_request", crm_act_save_revenue_request },
	{ "recall_revenue_request", crm_act_recall_revenue_request },
	{ "create_customer", crm_act_create_customer },
	{ "edit_customer", crm_act_edit_customer },
	{ "create_product", crm_act_create_product },
	{ "edit_product", crm_act_edit_product },
	{ "create_invoice_request", crm_act_create_invoice_request },
	{ "create_quote", crm_act_create_quote },
	{ "create_customer_group", crm_act_create_customer_group },
	{ "edit_customer_group", crm_act_edit_customer_group },
	{ "create_product_group", crm_act_create_product_group },
	{ "edit_product_group", crm_act_edit_product_group },
	{ "resend_event", crm_act_resend_event },
	{ NULL, NULL },
};

static const struct sbx_emulator crm_emu = {
	.name = "crm",
	.init = crm_init,
	.free = crm_free,
	.dump = crm_dump,
	.expire_tokens = crm_expire,
	.routes = crm_routes,
	.acts = crm_acts,
};
SBX_REGISTER(crm_emu);

/* misa.c - MISA AMIS Ke toan (ACT open API) emulator: connect, catalogues,
 * balances, the asynchronous voucher queue with its signed callback, and
 * posting (ghi so) into stock and debt ledgers. See sandbox/README.md.
 * This file holds the envelope, the ledger rows, the life cycle, auth and
 * the routes; misa_catalog.c the reads and catalogue writes,
 * misa_vouchers.c the vouchers, misa_acts.c the acts. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/sbx.h"
#include "misa_int.h"

#define DATA_PREFIX "/apir/sync/actopen/"

/* ---------------- small helpers ---------------- */

static cJSON *arr_from_seed(const cJSON *seed, const char *key)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(seed, key);
	return cJSON_IsArray(a) ? cJSON_Duplicate(a, true)
				: cJSON_CreateArray();
}

cJSON *misa_find_by(const cJSON *arr, const char *key, const char *val)
{
	if (!val)
		return NULL;
	cJSON *e;
	cJSON_ArrayForEach (e, arr) {
		const char *s = sbx_jstr(e, key);
		if (s && !strcmp(s, val))
			return e;
	}
	return NULL;
}

/* Finds a record by code or by id, whichever the caller gave. */
cJSON *misa_find_code_or_id(const cJSON *arr, const char *code_key,
			    const char *code, const char *id_key,
			    const char *id)
{
	cJSON *r = misa_find_by(arr, code_key, code);
	return r ? r : misa_find_by(arr, id_key, id);
}

/* ---------------- envelope ---------------- */

void misa_reply_env(struct sbx_req *req, bool ok, const char *code,
		    const char *msg, cJSON *data, cJSON *custom)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "Success", ok);
	cJSON_AddStringToObject(o, "ErrorCode", code ? code : "");
	cJSON_AddStringToObject(o, "ErrorMessage", msg ? msg : "");
	if (data) {
		/* Data travels as a JSON string: clients parse it a second time */
		char *s = cJSON_PrintUnformatted(data);
		cJSON_AddStringToObject(o, "Data", s ? s : "");
		free(s);
		cJSON_Delete(data);
	} else {
		cJSON_AddNullToObject(o, "Data");
	}
	if (custom)
		cJSON_AddItemToObject(o, "CustomData", custom);
	else
		cJSON_AddNullToObject(o, "CustomData");
	sbx_reply_json(req, 200, o);
}

void misa_reply_err(struct sbx_req *req, const char *code, const char *msg)
{
	misa_reply_env(req, false, code, msg, NULL, NULL);
}

/* ---------------- init / free / dump ---------------- */

void misa_add_balance(struct misa *m, const cJSON *item, const cJSON *stock,
		      double qty, double price)
{
	cJSON *row = cJSON_CreateObject();
	cJSON_AddStringToObject(row, "inventory_item_id",
				sbx_jstr(item, "inventory_item_id"));
	cJSON_AddStringToObject(row, "inventory_item_code",
				sbx_jstr(item, "inventory_item_code"));
	cJSON_AddStringToObject(row, "inventory_item_name",
				sbx_jstr(item, "inventory_item_name"));
	cJSON_AddStringToObject(
		row, "unit_name",
		sbx_jstr(item, "unit_name") ? sbx_jstr(item, "unit_name") : "");
	cJSON_AddStringToObject(row, "stock_id", sbx_jstr(stock, "stock_id"));
	cJSON_AddStringToObject(row, "stock_code",
				sbx_jstr(stock, "stock_code"));
	cJSON_AddStringToObject(row, "stock_name",
				sbx_jstr(stock, "stock_name"));
	const char *br = sbx_jstr(stock, "branch_id");
	if (br)
		cJSON_AddStringToObject(row, "branch_id", br);
	else
		cJSON_AddNullToObject(row, "branch_id");
	cJSON_AddNumberToObject(row, "quantity_balance", qty);
	cJSON_AddNumberToObject(row, "unit_price", price);
	cJSON_AddNumberToObject(row, "amount_balance", round(qty * price));
	touch(row);
	cJSON_AddItemToArray(m->balances, row);
}

cJSON *misa_balance_row(struct misa *m, const char *item_code,
			const char *stock_code)
{
	cJSON *e;
	cJSON_ArrayForEach (e, m->balances) {
		const char *i = sbx_jstr(e, "inventory_item_code"),
			   *s = sbx_jstr(e, "stock_code");
		if (i && s && !strcmp(i, item_code) && !strcmp(s, stock_code))
			return e;
	}
	return NULL;
}

cJSON *misa_debt_row(struct misa *m, const cJSON *obj, bool create)
{
	const char *code = sbx_jstr(obj, "account_object_code");
	cJSON *row = misa_find_by(m->debts, "account_object_code", code);
	if (row || !create)
		return row;
	row = cJSON_CreateObject();
	cJSON_AddStringToObject(row, "account_object_id",
				sbx_jstr(obj, "account_object_id"));
	cJSON_AddStringToObject(row, "account_object_code", code);
	cJSON_AddStringToObject(row, "account_object_name",
				sbx_jstr(obj, "account_object_name"));
	cJSON_AddNumberToObject(row, "debt_amount", 0);
	cJSON_AddNumberToObject(row, "invoice_debt_amount", 0);
	cJSON_AddBoolToObject(row, "is_vendor",
			      sbx_jbool(obj, "is_vendor", false) &&
				      !sbx_jbool(obj, "is_customer", false));
	const cJSON *ou = misa_find_by(m->org_units, "organization_unit_id",
				       sbx_jstr(obj, "branch_id"));
	if (!ou)
		ou = m->org_units->child;
	cJSON_AddStringToObject(row, "organization_unit_id",
				ou ? sbx_jstr(ou, "organization_unit_id") : "");
	cJSON_AddStringToObject(row, "organization_unit_code",
				ou ? sbx_jstr(ou, "organization_unit_code")
				   : "");
	cJSON_AddStringToObject(row, "organization_unit_name",
				ou ? sbx_jstr(ou, "organization_unit_name")
				   : "");
	touch(row);
	cJSON_AddItemToArray(m->debts, row);
	return row;
}

static void stamp_all(cJSON *arr)
{
	cJSON *e;
	cJSON_ArrayForEach (e, arr) {
		if (!sbx_jstr(e, "modified_date"))
			touch(e);
	}
}

static void misa_free(struct sbx_emu *emu);

static int misa_init(struct sbx_emu *emu, const cJSON *seed)
{
	struct misa *m = calloc(1, sizeof *m);
	if (!m)
		return -1;
	emu->data = m;
	const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(seed, "config");
	m->config = cJSON_IsObject(cfg) ? cJSON_Duplicate(cfg, true)
					: cJSON_CreateObject();
	const cJSON *co = cJSON_GetObjectItemCaseSensitive(seed, "company");
	m->company = cJSON_IsObject(co) ? cJSON_Duplicate(co, true)
					: cJSON_CreateObject();
	m->apps = arr_from_seed(seed, "apps");
	m->org_units = arr_from_seed(seed, "organization_units");
	m->groups = arr_from_seed(seed, "account_object_groups");
	m->objects = arr_from_seed(seed, "account_objects");
	m->units = arr_from_seed(seed, "units");
	m->categories = arr_from_seed(seed, "item_categories");
	m->items = arr_from_seed(seed, "items");
	m->stocks = arr_from_seed(seed, "stocks");
	m->accounts = arr_from_seed(seed, "accounts");
	m->price_policies = arr_from_seed(seed, "price_policies");
	stamp_all(m->price_policies);
	cJSON *lists[] = { m->org_units,  m->groups, m->objects, m->units,
			   m->categories, m->items,  m->stocks,	 m->accounts };
	for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
		stamp_all(lists[i]);
	m->balances = cJSON_CreateArray();
	m->debts = cJSON_CreateArray();
	m->tomb_dict = cJSON_CreateArray();
	m->tomb_debt = cJSON_CreateArray();
	m->tomb_balance = cJSON_CreateArray();
	m->tokens = cJSON_CreateArray();
	m->vouchers = cJSON_CreateArray();
	m->journal = cJSON_CreateArray();
	m->callback_errors = cJSON_CreateArray();
	const cJSON *e;
	cJSON_ArrayForEach (e, cJSON_GetObjectItemCaseSensitive(seed, "opening_"
								      "stoc"
								      "k")) {
		const cJSON *item =
			misa_find_by(m->items, "inventory_item_code",
				     sbx_jstr(e, "inventory_item_code"));
		const cJSON *stock = misa_find_by(m->stocks, "stock_code",
						  sbx_jstr(e, "stock_code"));
		if (!item || !stock) {
			fprintf(stderr, "misa: opening_stock names an unknown "
					"item or stock\n");
			goto out_free;
		}
		misa_add_balance(m, item, stock, sbx_jnum(e, "quantity", 0),
				 sbx_jnum(e, "unit_price",
					  sbx_jnum(item, "unit_price", 0)));
	}
	cJSON_ArrayForEach (e, cJSON_GetObjectItemCaseSensitive(seed, "opening_"
								      "debt")) {
		const cJSON *obj =
			misa_find_by(m->objects, "account_object_code",
				     sbx_jstr(e, "account_object_code"));
		if (!obj) {
			fprintf(stderr, "misa: opening_debt names an unknown "
					"account object\n");
			goto out_free;
		}
		cJSON *row = misa_debt_row(m, obj, true);
		set_num(row, "debt_amount", sbx_jnum(e, "debt_amount", 0));
		set_num(row, "invoice_debt_amount",
			sbx_jnum(e, "invoice_debt_amount", 0));
	}
	return 0;
out_free:
	misa_free(emu);
	emu->data = NULL;
	return -1;
}

static void misa_free(struct sbx_emu *emu)
{
	struct misa *m = emu->data;
	cJSON *all[] = { m->config,	  m->apps,	     m->company,
			 m->org_units,	  m->groups,	     m->objects,
			 m->units,	  m->categories,     m->items,
			 m->stocks,	  m->accounts,	     m->balances,
			 m->debts,	  m->tomb_dict,	     m->tomb_debt,
			 m->tomb_balance, m->tokens,	     m->vouchers,
			 m->journal,	  m->callback_errors };
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		cJSON_Delete(all[i]);
	cJSON_Delete(m->price_policies);
	free(m);
}

static cJSON *misa_dump(struct sbx_emu *emu)
{
	struct misa *m = emu->data;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "config", cJSON_Duplicate(m->config, true));
	cJSON_AddItemToObject(o, "apps", cJSON_Duplicate(m->apps, true));
	cJSON_AddItemToObject(o, "company", cJSON_Duplicate(m->company, true));
	cJSON_AddItemToObject(o, "organization_units",
			      cJSON_Duplicate(m->org_units, true));
	cJSON_AddItemToObject(o, "account_object_groups",
			      cJSON_Duplicate(m->groups, true));
	cJSON_AddItemToObject(o, "account_objects",
			      cJSON_Duplicate(m->objects, true));
	cJSON_AddItemToObject(o, "units", cJSON_Duplicate(m->units, true));
	cJSON_AddItemToObject(o, "item_categories",
			      cJSON_Duplicate(m->categories, true));
	cJSON_AddItemToObject(o, "items", cJSON_Duplicate(m->items, true));
	cJSON_AddItemToObject(o, "price_policies",
			      cJSON_Duplicate(m->price_policies, true));
	cJSON_AddItemToObject(o, "stocks", cJSON_Duplicate(m->stocks, true));
	cJSON_AddItemToObject(o, "accounts",
			      cJSON_Duplicate(m->accounts, true));
	cJSON_AddItemToObject(o, "inventory_balance",
			      cJSON_Duplicate(m->balances, true));
	cJSON_AddItemToObject(o, "debts", cJSON_Duplicate(m->debts, true));
	cJSON_AddNumberToObject(o, "revenue", m->revenue);
	cJSON *t = cJSON_AddObjectToObject(o, "tombstones");
	cJSON_AddItemToObject(t, "dictionary",
			      cJSON_Duplicate(m->tomb_dict, true));
	cJSON_AddItemToObject(t, "acc_obj_debt",
			      cJSON_Duplicate(m->tomb_debt, true));
	cJSON_AddItemToObject(t, "inventory_balance",
			      cJSON_Duplicate(m->tomb_balance, true));
	cJSON *toks = cJSON_AddArrayToObject(o, "tokens");
	const cJSON *e;
	cJSON_ArrayForEach (e, m->tokens) {
		cJSON *x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "access_token",
					sbx_jstr(e, "access_token"));
		cJSON_AddStringToObject(x, "app_id", sbx_jstr(e, "app_id"));
		char ts[40];
		sbx_time_vn((int64_t)sbx_jnum(e, "expires_ms", 0), SBX_TIME_ISO,
			    ts, sizeof ts);
		cJSON_AddStringToObject(x, "expired_time", ts);
		cJSON_AddBoolToObject(x, "expired",
				      sbx_jnum(e, "expires_ms", 0) <=
					      (double)sbx_now_ms());
		cJSON_AddItemToArray(toks, x);
	}
	cJSON_AddItemToObject(o, "vouchers",
			      cJSON_Duplicate(m->vouchers, true));
	cJSON_AddItemToObject(o, "journal", cJSON_Duplicate(m->journal, true));
	cJSON_AddItemToObject(o, "callback_errors",
			      cJSON_Duplicate(m->callback_errors, true));
	return o;
}

static void misa_expire(struct sbx_emu *emu)
{
	struct misa *m = emu->data;
	cJSON *e;
	cJSON_ArrayForEach (e, m->tokens)
		set_num(e, "expires_ms", (double)(sbx_now_ms() - 1));
}

/* ---------------- auth ---------------- */

static void h_connect(struct sbx_emu *emu, struct sbx_req *req)
{
	struct misa *m = emu->data;
	const char *app_id = sbx_jstr(req->json, "app_id");
	const char *code = sbx_jstr(req->json, "access_code");
	const char *org = sbx_jstr(req->json, "org_company_code");
	if (!app_id || !*app_id || !code || !*code || !org || !*org) {
		misa_reply_err(req, "InvalidParam",
			       "Thiếu app_id, access_code hoặc "
			       "org_company_code");
		return;
	}
	cJSON *app = misa_find_by(m->apps, "app_id", app_id);
	if (!app) {
		misa_reply_err(req, "InvalidAppID", "AppID không hợp lệ");
		return;
	}
	const char *want_code = sbx_jstr(app, "access_code"),
		   *want_org = sbx_jstr(app, "org_company_code");
	if (!want_code || strcmp(want_code, code) || !want_org ||
	    strcmp(want_org, org)) {
		misa_reply_err(req, "InvalidParam",
			       "Mã kết nối hoặc mã công ty không đúng");
		return;
	}
	if (!sbx_jbool(app, "connected", true)) {
		misa_reply_err(req, "AppIDDisconnect",
			       "Ứng dụng đã bị ngắt kết nối trên AMIS Kế toán");
		return;
	}
	char tok[97];
	sbx_random_hex(tok, 48);
	int64_t exp = sbx_now_ms() +
		      (int64_t)cfg_long(m, "token_ttl_s", 43200) * 1000;
	cJSON *t = cJSON_CreateObject();
	cJSON_AddStringToObject(t, "access_token", tok);
	cJSON_AddStringToObject(t, "app_id", app_id);
	cJSON_AddStringToObject(t, "org_company_code", org);
	cJSON_AddNumberToObject(t, "expires_ms", (double)exp);
	cJSON_AddItemToArray(m->tokens, t);
	while (cJSON_GetArraySize(m->tokens) > 1000) /* old tokens fall out */
		cJSON_DeleteItemFromArray(m->tokens, 0);
	char ts[40];
	sbx_time_vn(exp, SBX_TIME_ISO, ts, sizeof ts);
	cJSON *d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "access_token", tok);
	cJSON_AddStringToObject(d, "expired_time", ts);
	cJSON_AddStringToObject(d, "tenant_code",
				sbx_jstr(app, "tenant_code")
					? sbx_jstr(app, "tenant_code")
					: org);
	cJSON_AddStringToObject(d, "app_name",
				sbx_jstr(app, "app_name") ? sbx_jstr(app, "app_"
									  "nam"
									  "e")
							  : "");
	misa_reply_env(req, true, "", "", d, NULL);
}

/* Checks the token and the body; replies and returns NULL when refused. */
const cJSON *misa_authorize(struct misa *m, struct sbx_req *req)
{
	const char *tok = sbx_header(req, "X-MISA-AccessToken");
	const cJSON *t =
		tok ? misa_find_by(m->tokens, "access_token", tok) : NULL;
	if (!t) {
		misa_reply_err(req, "InvalidToken", "Token không hợp lệ");
		return NULL;
	}
	if (sbx_jnum(t, "expires_ms", 0) <= (double)sbx_now_ms()) {
		misa_reply_err(req, "ExpiredToken", "Token đã hết hạn");
		return NULL;
	}
	if (req->body_len && !cJSON_IsObject(req->json)) {
		misa_reply_err(req, "InvalidParam",
			       "Dữ liệu gửi lên không phải JSON hợp lệ");
		return NULL;
	}
	const char *app = sbx_jstr(req->json, "app_id");
	if (app && *app && strcmp(app, sbx_jstr(t, "app_id"))) {
		misa_reply_err(req, "InvalidAppID",
			       "app_id không khớp với token");
		return NULL;
	}
	const char *org = sbx_jstr(req->json, "org_company_code");
	if (org && *org && strcmp(org, sbx_jstr(t, "org_company_code"))) {
		misa_reply_err(req, "InvalidParam",
			       "org_company_code không khớp với token");
		return NULL;
	}
	const cJSON *app_rec =
		misa_find_by(m->apps, "app_id", sbx_jstr(t, "app_id"));
	if (app_rec && !sbx_jbool(app_rec, "connected", true)) {
		misa_reply_err(req, "AppIDDisconnect",
			       "Ứng dụng đã bị ngắt kết nối trên AMIS Kế toán");
		return NULL;
	}
	return t;
}

static const struct sbx_route routes[] = {
	{ "POST", "/api/oauth/actopen/connect", h_connect },
	{ "POST", DATA_PREFIX "get_dictionary", misa_h_get_dictionary },
	{ "POST", DATA_PREFIX "get_dictionary_delete",
	  misa_h_dictionary_delete },
	{ "POST", DATA_PREFIX "save_dictionary", misa_h_save_dictionary },
	{ "POST", DATA_PREFIX "get_list_inventory_balance",
	  misa_h_inventory_balance },
	{ "POST", DATA_PREFIX "get_list_inventory_balance_delete",
	  misa_h_tomb_balance },
	{ "POST", DATA_PREFIX "get_list_acc_obj_debt", misa_h_acc_obj_debt },
	{ "POST", DATA_PREFIX "get_list_acc_obj_debt_delete",
	  misa_h_tomb_debt },
	{ "POST", DATA_PREFIX "get_company_info", misa_h_company_info },
	{ "POST", DATA_PREFIX "save", misa_h_save },
	{ "POST", DATA_PREFIX "delete", misa_h_delete },
	{ "POST", DATA_PREFIX "get_call_back_detail_error",
	  misa_h_callback_errors },
	{ NULL, NULL, NULL },
};

static const struct sbx_act acts[] = {
	{ "edit_product", misa_act_edit_product },
	{ "edit_customer", misa_act_edit_customer },
	{ "edit_customer_group", misa_act_edit_customer_group },
	{ "order_progress", misa_act_order_progress },
	{ "edit_price_policy", misa_act_edit_price_policy },
	{ "decide_invoice_request", misa_act_decide_invoice_request },
	{ "edit_product_group", misa_act_edit_product_group },
	{ "set_stock", misa_act_set_stock },
	{ "enter_voucher", misa_act_enter_voucher },
	{ "delete_item", misa_act_delete_item },
	{ "config", misa_act_config },
	{ "connect_app", misa_act_disconnect_app },
	{ NULL, NULL },
};

static const struct sbx_emulator misa_emu = {
	.name = "misa",
	.init = misa_init,
	.free = misa_free,
	.dump = misa_dump,
	.expire_tokens = misa_expire,
	.routes = routes,
	.acts = acts,
};
SBX_REGISTER(misa_emu);

/* misa.c - MISA AMIS Ke toan (ACT open API) emulator: connect, catalogues,
 * balances, the asynchronous voucher queue with its signed callback, and
 * posting (ghi so) into stock and debt ledgers. See sandbox/README.md. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbx.h"

#define TAKE_MAX 100
#define DATA_PREFIX "/apir/sync/actopen/"

struct misa {
	cJSON *config; /* token_ttl_s, generate_delay_ms, stock_data_types, posting_rules... */
	cJSON *apps;
	cJSON *company;
	cJSON *org_units, *groups, *objects, *units, *categories, *items,
		*stocks, *accounts;
	cJSON *balances; /* item x stock rows */
	cJSON *debts;	 /* per account object */
	cJSON *tomb_dict, *tomb_debt, *tomb_balance;
	cJSON *tokens; /* [{access_token, app_id, org_company_code, expires_ms}] */
	cJSON *vouchers; /* voucher requests with status */
	cJSON *journal;	 /* posting entries */
	cJSON *callback_errors;
	double revenue; /* net revenue posted (5111/5113 less returns) */
	long refno_seq;
	cJSON *price_policies; /* C8, designed: get_dictionary data_type 15 */
};

/* ---------------- small helpers ---------------- */

static void now_iso(char *buf, size_t n)
{
	sbx_time_vn(sbx_now_ms(), SBX_TIME_ISO, buf, n);
}

static cJSON *arr_from_seed(const cJSON *seed, const char *key)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(seed, key);
	return cJSON_IsArray(a) ? cJSON_Duplicate(a, true)
				: cJSON_CreateArray();
}

static cJSON *find_by(const cJSON *arr, const char *key, const char *val)
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
static cJSON *find_code_or_id(const cJSON *arr, const char *code_key,
			      const char *code, const char *id_key,
			      const char *id)
{
	cJSON *r = find_by(arr, code_key, code);
	return r ? r : find_by(arr, id_key, id);
}

static void set_str(cJSON *obj, const char *key, const char *val)
{
	cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
	cJSON_AddStringToObject(obj, key, val ? val : "");
}

static void set_num(cJSON *obj, const char *key, double val)
{
	cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
	cJSON_AddNumberToObject(obj, key, val);
}

static void touch(cJSON *rec)
{
	char ts[40];
	now_iso(ts, sizeof ts);
	set_str(rec, "modified_date", ts);
}

static bool num_in(const cJSON *arr, double v)
{
	const cJSON *e;
	cJSON_ArrayForEach (e, arr) {
		if (cJSON_IsNumber(e) && e->valuedouble == v)
			return true;
	}
	return false;
}

static long cfg_long(const struct misa *m, const char *key, long dflt)
{
	return (long)sbx_jnum(m->config, key, (double)dflt);
}

/* ---------------- envelope ---------------- */

static void reply_env(struct sbx_req *req, bool ok, const char *code,
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

static void reply_err(struct sbx_req *req, const char *code, const char *msg)
{
	reply_env(req, false, code, msg, NULL, NULL);
}

/* ---------------- init / free / dump ---------------- */

static void add_balance(struct misa *m, const cJSON *item, const cJSON *stock,
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

static cJSON *balance_row(struct misa *m, const char *item_code,
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

static cJSON *debt_row(struct misa *m, const cJSON *obj, bool create)
{
	const char *code = sbx_jstr(obj, "account_object_code");
	cJSON *row = find_by(m->debts, "account_object_code", code);
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
	const cJSON *ou = find_by(m->org_units, "organization_unit_id",
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
		const cJSON *item = find_by(m->items, "inventory_item_code",
					    sbx_jstr(e, "inventory_item_code"));
		const cJSON *stock = find_by(m->stocks, "stock_code",
					     sbx_jstr(e, "stock_code"));
		if (!item || !stock) {
			fprintf(stderr, "misa: opening_stock names an unknown "
					"item or stock\n");
			goto out_free;
		}
		add_balance(m, item, stock, sbx_jnum(e, "quantity", 0),
			    sbx_jnum(e, "unit_price",
				     sbx_jnum(item, "unit_price", 0)));
	}
	cJSON_ArrayForEach (e, cJSON_GetObjectItemCaseSensitive(seed, "opening_"
								      "debt")) {
		const cJSON *obj = find_by(m->objects, "account_object_code",
					   sbx_jstr(e, "account_object_code"));
		if (!obj) {
			fprintf(stderr, "misa: opening_debt names an unknown "
					"account object\n");
			goto out_free;
		}
		cJSON *row = debt_row(m, obj, true);
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
		reply_err(req, "InvalidParam",
			  "Thiếu app_id, access_code hoặc org_company_code");
		return;
	}
	cJSON *app = find_by(m->apps, "app_id", app_id);
	if (!app) {
		reply_err(req, "InvalidAppID", "AppID không hợp lệ");
		return;
	}
	const char *want_code = sbx_jstr(app, "access_code"),
		   *want_org = sbx_jstr(app, "org_company_code");
	if (!want_code || strcmp(want_code, code) || !want_org ||
	    strcmp(want_org, org)) {
		reply_err(req, "InvalidParam",
			  "Mã kết nối hoặc mã công ty không đúng");
		return;
	}
	if (!sbx_jbool(app, "connected", true)) {
		reply_err(req, "AppIDDisconnect",
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
	reply_env(req, true, "", "", d, NULL);
}

/* Checks the token and the body; replies and returns NULL when refused. */
static const cJSON *authorize(struct misa *m, struct sbx_req *req)
{
	const char *tok = sbx_header(req, "X-MISA-AccessToken");
	const cJSON *t = tok ? find_by(m->tokens, "access_token", tok) : NULL;
	if (!t) {
		reply_err(req, "InvalidToken", "Token không hợp lệ");
		return NULL;
	}
	if (sbx_jnum(t, "expires_ms", 0) <= (double)sbx_now_ms()) {
		reply_err(req, "ExpiredToken", "Token đã hết hạn");
		return NULL;
	}
	if (req->body_len && !cJSON_IsObject(req->json)) {
		reply_err(req, "InvalidParam",
			  "Dữ liệu gửi lên không phải JSON hợp lệ");
		return NULL;
	}
	const char *app = sbx_jstr(req->json, "app_id");
	if (app && *app && strcmp(app, sbx_jstr(t, "app_id"))) {
		reply_err(req, "InvalidAppID", "app_id không khớp với token");
		return NULL;
	}
	const char *org = sbx_jstr(req->json, "org_company_code");
	if (org && *org && strcmp(org, sbx_jstr(t, "org_company_code"))) {
		reply_err(req, "InvalidParam",
			  "org_company_code không khớp với token");
		return NULL;
	}
	const cJSON *app_rec =
		find_by(m->apps, "app_id", sbx_jstr(t, "app_id"));
	if (app_rec && !sbx_jbool(app_rec, "connected", true)) {
		reply_err(req, "AppIDDisconnect",
			  "Ứng dụng đã bị ngắt kết nối trên AMIS Kế toán");
		return NULL;
	}
	return t;
}

/* ---------------- paged reads ---------------- */

struct page {
	long skip, take;
	int64_t since; /* -1 = full */
};

static bool parse_page(struct sbx_req *req, struct page *pg)
{
	pg->skip = (long)sbx_jnum(req->json, "skip", 0);
	pg->take = (long)sbx_jnum(req->json, "take", TAKE_MAX);
	if (pg->take <= 0 || pg->take > TAKE_MAX)
		pg->take = TAKE_MAX; /* the service caps take at 100 */
	pg->since = -1;
	const char *lst = sbx_jstr(req->json, "last_sync_time");
	if (pg->skip < 0) {
		reply_err(req, "InvalidParam", "skip không hợp lệ");
		return false;
	}
	if (lst && *lst) {
		pg->since = sbx_parse_time(lst);
		if (pg->since < 0) {
			reply_err(req, "InvalidParam",
				  "last_sync_time phải có dạng yyyy-MM-dd "
				  "HH:mm:ss");
			return false;
		}
	}
	return true;
}

static cJSON *last_sync_custom(void)
{
	char ts[32];
	sbx_time_vn(sbx_now_ms(), SBX_TIME_SQL, ts, sizeof ts);
	cJSON *c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "LastSyncTime", ts);
	return c;
}

/* Rows of arr changed at or after pg->since (by time_key), optionally in
 * branch, then the skip/take window. */
static void reply_page(struct sbx_req *req, const cJSON *arr,
		       const struct page *pg, const char *time_key,
		       const char *branch)
{
	cJSON *out = cJSON_CreateArray();
	long idx = 0;
	const cJSON *e;
	cJSON_ArrayForEach (e, arr) {
		if (pg->since >= 0 && time_key) {
			int64_t t = sbx_parse_time(sbx_jstr(e, time_key));
			/* one-second watermarks: keep the boundary second (at-least-once) */
			if (t >= 0 && t / 1000 < pg->since / 1000)
				continue;
		}
		if (branch) {
			const char *b = sbx_jstr(e, "branch_id");
			if (b && strcmp(b, branch))
				continue;
		}
		if (idx++ < pg->skip)
			continue;
		if (cJSON_GetArraySize(out) >= pg->take)
			break;
		cJSON_AddItemToArray(out, cJSON_Duplicate(e, true));
	}
	reply_env(req, true, "", "", out, last_sync_custom());
}

static const char *branch_of(struct sbx_req *req)
{
	const char *b = sbx_jstr(req->json, "branch_id");
	return b && *b ? b : NULL;
}

/* Account objects (and price policies) carry their group's name beside
 * its code (designed), so a customer can take its group along (C1). */
static void name_groups(struct misa *m, cJSON *list)
{
	cJSON *o;
	cJSON_ArrayForEach (o, list) {
		const cJSON *g = find_by(m->groups, "account_object_group_code",
					 sbx_jstr(o, "account_object_group_"
						     "code"));
		const char *name = sbx_jstr(g, "account_object_group_name");
		const char *have = sbx_jstr(o, "account_object_group_name");
		if (name && (!have || strcmp(have, name)))
			set_str(o, "account_object_group_name", name);
	}
}

static void h_get_dictionary(struct sbx_emu *emu, struct sbx_req *req)
{
	struct misa *m = emu->data;
	struct page pg;
	if (!authorize(m, req) || !parse_page(req, &pg))
		return;
	int type = (int)sbx_jnum(req->json, "data_type", -1);
	const cJSON *stock_types =
		cJSON_GetObjectItemCaseSensitive(m->config, "stock_data_types");
	const cJSON *arr;
	bool branch_filter = true;
	if (num_in(stock_types, type))
		arr = m->stocks;
	else if (type == 1)
		arr = m->objects;
	else if (type == 2)
		arr = m->items, branch_filter = false;
	else if (type == 4)
		arr = m->units, branch_filter = false;
	else if (type == 5)
		arr = m->accounts, branch_filter = false;
	else if (type == 6)
		arr = m->org_units, branch_filter = false;
	else if (type == 13) /* designed: account object groups (C1) */
		arr = m->groups, branch_filter = false;
	else if (type == 14) /* designed: item categories (C1) */
		arr = m->categories, branch_filter = false;
	else if (type == 15) /* designed: price policies (C8) */
		arr = m->price_policies, branch_filter = false;
	else {
		reply_err(req, "InvalidParam", "data_type không được hỗ trợ");
		return;
	}
	if (type == 1 || type == 15)
		name_groups(m, type == 1 ? m->objects : m->price_policies);
	reply_page(req, arr, &pg, "modified_date",
		   branch_filter ? branch_of(req) : NULL);
}

static void h_dictionary_delete(struct sbx_emu *emu, struct sbx_req *req)
{
	struct misa *m = emu->data;
	struct page pg;
	if (!authorize(m, req) || !parse_page(req, &pg))
		return;
	int type = (int)sbx_jnum(req->json, "data_type", -1);
	cJSON *sel = cJSON_CreateArray();
	const cJSON *e;
	cJSON_ArrayForEach (e, m->tomb_dict) {
		if (type < 0 || sbx_jnum(e, "data_type", -2) == type)
			cJSON_AddItemToArray(sel, cJSON_Duplicate(e, true));
	}
	reply_page(req, sel, &pg, "deleted_date", NULL);
	cJSON_Delete(sel);
}

static void h_inventory_balance(struct sbx_emu *emu, struct sbx_req *req)
{
	struct misa *m = emu->data;
	struct page pg;
	if (!authorize(m, req) || !parse_page(req, &pg))
		return;
	pg.since = -1; /* balances are always a full list */
	const char *stock = sbx_jstr(req->json, "stock_id");
	cJSON *sel = cJSON_CreateArray();
	const cJSON *e;
	cJSON_ArrayForEach (e, m->balances) {
		const char *s = sbx_jstr(e, "stock_id");
		if (!stock || !*stock || (s && !strcmp(s, stock)))
			cJSON_AddItemToArray(sel, cJSON_Duplicate(e, true));
	}
	reply_page(req, sel, &pg, NULL, branch_of(req));
	cJSON_Delete(sel);
}

static void h_tomb_balance(struct sbx_emu *emu, struct sbx_req *req)
{
	struct misa *m = emu->data;
	struct page pg;
	if (authorize(m, req) && parse_page(req, &pg))
		reply_page(req, m->tomb_balance, &pg, "deleted_date", NULL);
}

static void h_acc_obj_debt(struct sbx_emu *emu, struct sbx_req *req)
{
	struct misa *m = emu->data;
	struct page pg;
	if (!authorize(m, req) || !parse_page(req, &pg))
		return;
	int type = (int)sbx_jnum(req->json, "data_type", 0);
	if (type != 0 && type != 1) {
		reply_err(req, "InvalidParam",
			  "data_type phải là 0 (phải thu) hoặc 1 (phải trả)");
		return;
	}
	cJSON *sel = cJSON_CreateArray();
	const cJSON *e;
	cJSON_ArrayForEach (e, m->debts) {
		if (sbx_jbool(e, "is_vendor", false) == (type == 1))
			cJSON_AddItemToArray(sel, cJSON_Duplicate(e, true));
	}
	reply_page(req, sel, &pg, "modified_date", NULL);
	cJSON_Delete(sel);
}

static void h_tomb_debt(struct sbx_emu *emu, struct sbx_req *req)
{
	struct misa *m = emu->data;
	struct page pg;
	if (authorize(m, req) && parse_page(req, &pg))
		reply_page(req, m->tomb_debt, &pg, "deleted_date", NULL);
}

static void h_company_info(struct sbx_emu *emu, struct sbx_req *req)
{
	struct misa *m = emu->data;
	if (!authorize(m, req))
		return;
	cJSON *d = cJSON_Duplicate(m->company, true);
	cJSON *br = cJSON_AddArrayToObject(d, "branches");
	const cJSON *e;
	cJSON_ArrayForEach (e, m->org_units) {
		if (sbx_jnum(e, "organization_unit_type_id", 0) <= 2) {
			cJSON *b = cJSON_CreateObject();
			cJSON_AddStringToObject(b, "branch_id",
						sbx_jstr(e, "organization_unit_"
							    "id"));
			cJSON_AddStringToObject(b, "branch_code",
						sbx_jstr(e, "organization_unit_"
							    "code"));
			cJSON_AddStringToObject(b, "branch_name",
						sbx_jstr(e, "organization_unit_"
							    "name"));
			cJSON_AddBoolToObject(b, "is_main",
					      sbx_jnum(e,
						       "organization_unit_type_"
						       "id",
						       0) == 1);
			cJSON_AddItemToArray(br, b);
		}
	}
	reply_env(req, true, "", "", d, NULL);
}

/* ---------------- catalogue writes ---------------- */

struct dict_kind {
	int type;      /* save_dictionary numbering */
	int read_type; /* get_dictionary numbering, for tombstones */
	size_t list_off;
	const char *code_key, *id_key, *name_key;
};

static const struct dict_kind dict_kinds[] = {
	{ 1, 1, offsetof(struct misa, objects), "account_object_code",
	  "account_object_id", "account_object_name" },
	{ 2, -1, offsetof(struct misa, groups), "account_object_group_code",
	  "account_object_group_id", "account_object_group_name" },
	{ 3, 2, offsetof(struct misa, items), "inventory_item_code",
	  "inventory_item_id", "inventory_item_name" },
	{ 4, -1, offsetof(struct misa, categories),
	  "inventory_item_category_code", "inventory_item_category_id",
	  "inventory_item_category_name" },
	{ 5, 3, offsetof(struct misa, stocks), "stock_code", "stock_id",
	  "stock_name" },
	{ 6, 4, offsetof(struct misa, units), "unit_name", "unit_id",
	  "unit_name" },
};

static const struct dict_kind *dict_kind(int type)
{
	for (size_t i = 0; i < sizeof dict_kinds / sizeof dict_kinds[0]; i++)
		if (dict_kinds[i].type == type)
			return &dict_kinds[i];
	return NULL;
}

static cJSON **dict_list(struct misa *m, const struct dict_kind *k)
{
	return (cJSON **)((char *)m + k->list_off);
}

/* Upserts rec by code; returns the stored record or NULL with *err set. */
static cJSON *dict_upsert(struct misa *m, const struct dict_kind *k,
			  const cJSON *rec, const char **err)
{
	const char *code = sbx_jstr(rec, k->code_key);
	if (!code || !*code) {
		*err = "Thiếu mã (code is required)";
		return NULL;
	}
	cJSON *list = *dict_list(m, k);
	cJSON *cur = find_by(list, k->code_key, code);
	if (!cur) {
		if (!sbx_jstr(rec, k->name_key) ||
		    !*sbx_jstr(rec, k->name_key)) {
			*err = "Thiếu tên (name is required)";
			return NULL;
		}
		cur = cJSON_CreateObject();
		cJSON_AddItemToArray(list, cur);
	}
	for (const cJSON *f = rec->child; f; f = f->next) {
		if (!strcmp(f->string, "dictionary_type") ||
		    !strcmp(f->string, "modified_date"))
			continue;
		cJSON_DeleteItemFromObjectCaseSensitive(cur, f->string);
		cJSON_AddItemToObject(cur, f->string, cJSON_Duplicate(f, true));
	}
	if (!sbx_jstr(cur, k->id_key) || !*sbx_jstr(cur, k->id_key)) {
		char id[37];
		sbx_uuid(id);
		set_str(cur, k->id_key, id);
	}
	touch(cur);
	return cur;
}

static void h_save_dictionary(struct sbx_emu *emu, struct sbx_req *req)
{
	struct misa *m = emu->data;
	if (!authorize(m, req))
		return;
	const cJSON *dict = cJSON_GetObjectItemCaseSensitive(req->json, "dictio"
									"nary");
	if (!cJSON_IsArray(dict) || !cJSON_GetArraySize(dict)) {
		reply_err(req, "InvalidParam", "Thiếu danh sách dictionary");
		return;
	}
	cJSON *results = cJSON_CreateArray();
	bool all_ok = true;
	const cJSON *e;
	cJSON_ArrayForEach (e, dict) {
		int type = (int)sbx_jnum(e, "dictionary_type", -1);
		const struct dict_kind *k = dict_kind(type);
		const char *err = NULL;
		cJSON *stored = k ? dict_upsert(m, k, e, &err) : NULL;
		if (!k)
			err = "dictionary_type không được hỗ trợ (unsupported "
			      "dictionary_type)";
		cJSON *r = cJSON_CreateObject();
		cJSON_AddNumberToObject(r, "dictionary_type", type);
		cJSON_AddStringToObject(r, "code",
					k && sbx_jstr(e, k->code_key)
						? sbx_jstr(e, k->code_key)
						: "");
		cJSON_AddStringToObject(
			r, "id", stored ? sbx_jstr(stored, k->id_key) : "");
		cJSON_AddBoolToObject(r, "success", stored != NULL);
		cJSON_AddStringToObject(r, "error_code",
					stored ? "" : "InvalidParam");
		cJSON_AddStringToObject(r, "error_message", stored ? "" : err);
		cJSON_AddItemToArray(results, r);
		all_ok = all_ok && stored;
	}
	reply_env(req, all_ok, all_ok ? "" : "InvalidParam",
		  all_ok ? "" : "Một số bản ghi không lưu được", results, NULL);
}

/* ---------------- vouchers ---------------- */

enum kind {
	K_NONE,
	K_SALE,
	K_INVOICE,
	K_ORDER,
	K_RECEIPT,
	K_PAYMENT,
	K_PURCHASE,
	K_RETURN,
	K_ISSUE
};

static enum kind voucher_kind(const struct misa *m, int type)
{
	char key[16];
	snprintf(key, sizeof key, "%d", type);
	const char *k =
		sbx_jstr(cJSON_GetObjectItemCaseSensitive(m->config, "posting_"
								     "rules"),
			 key);
	static const struct {
		const char *name;
		enum kind k;
	} names[] = {
		{ "sale", K_SALE },	      { "invoice", K_INVOICE },
		{ "order", K_ORDER },	      { "receipt", K_RECEIPT },
		{ "payment", K_PAYMENT },     { "purchase", K_PURCHASE },
		{ "sales_return", K_RETURN }, { "issue", K_ISSUE },
	};
	for (size_t i = 0; k && i < sizeof names / sizeof names[0]; i++)
		if (!strcmp(names[i].name, k))
			return names[i].k;
	return K_NONE;
}

static const char *kind_prefix(enum kind k)
{
	switch (k) {
	case K_SALE: return "BH";
	case K_INVOICE: return "HD";
	case K_ORDER: return "DDH";
	case K_RECEIPT: return "PT";
	case K_PAYMENT: return "PC";
	case K_PURCHASE: return "MH";
	case K_RETURN: return "TL";
	case K_ISSUE: return "XK";
	default: return "CT";
	}
}

static double line_qty(const cJSON *l)
{
	return sbx_jnum(l, "main_quantity", sbx_jnum(l, "quantity", 0));
}

/* Totals from the header when given, else from the lines (B10 rules). */
static void voucher_totals(const cJSON *v, double *net, double *total)
{
	double sale = 0, disc = 0, vat = 0;
	const cJSON *l;
	cJSON_ArrayForEach (l, cJSON_GetObjectItemCaseSensitive(v, "detail")) {
		double amt = sbx_jnum(l, "amount",
				      sbx_jnum(l, "quantity", 0) *
					      sbx_jnum(l, "unit_price", 0));
		double d = sbx_jnum(
			l, "discount_amount",
			round(amt * sbx_jnum(l, "discount_rate", 0) / 100));
		double rate = sbx_jnum(l, "vat_rate", 0);
		if (rate < 0)
			rate = sbx_jnum(l, "other_vat_rate", 0);
		sale += amt;
		disc += d;
		vat += sbx_jnum(l, "vat_amount", round((amt - d) * rate / 100));
	}
	sale = sbx_jnum(v, "total_sale_amount", sale);
	disc = sbx_jnum(v, "total_discount_amount", disc);
	vat = sbx_jnum(v, "total_vat_amount", vat);
	*net = sale - disc;
	*total = sbx_jnum(v, "total_amount", sale - disc + vat);
}

static bool kind_moves_stock(enum kind k, const cJSON *v)
{
	return (k == K_SALE && sbx_jbool(v, "is_sale_with_outward", false)) ||
	       k == K_RETURN || k == K_PURCHASE || k == K_ISSUE;
}

static bool kind_needs_object(enum kind k)
{
	return k != K_ISSUE && k != K_NONE;
}

/* Validates codes; returns a malloc'd readable reason or NULL when valid. */
static char *validate(struct misa *m, const cJSON *v, enum kind k)
{
	char msg[512];
	if (k == K_NONE) {
		snprintf(msg, sizeof msg,
			 "Loại chứng từ %d không được hỗ trợ (unsupported "
			 "voucher_type)",
			 (int)sbx_jnum(v, "voucher_type", 0));
		return strdup(msg);
	}
	const char *oc = sbx_jstr(v, "account_object_code"),
		   *oid = sbx_jstr(v, "account_object_id");
	if (kind_needs_object(k)) {
		if ((!oc || !*oc) && (!oid || !*oid))
			return strdup("Thiếu mã đối tượng (account_object_code "
				      "is required)");
		if (!find_code_or_id(m->objects, "account_object_code", oc,
				     "account_object_id", oid)) {
			snprintf(msg, sizeof msg,
				 "Mã khách hàng/đối tượng \"%s\" không tồn tại "
				 "(unknown account object code %s)",
				 oc ? oc : oid, oc ? oc : oid);
			return strdup(msg);
		}
	}
	const cJSON *detail = cJSON_GetObjectItemCaseSensitive(v, "detail");
	if (k != K_RECEIPT && k != K_PAYMENT &&
	    (!cJSON_IsArray(detail) || !cJSON_GetArraySize(detail)))
		return strdup("Chứng từ không có dòng chi tiết (detail is "
			      "empty)");
	if (cJSON_GetArraySize(detail) > 500)
		return strdup("Chứng từ vượt quá 500 dòng chi tiết (more than "
			      "500 detail lines)");
	bool moves = kind_moves_stock(k, v);
	const cJSON *l;
	cJSON_ArrayForEach (l, detail) {
		if (k == K_RECEIPT || k == K_PAYMENT)
			break;
		const char *ic = sbx_jstr(l, "inventory_item_code"),
			   *iid = sbx_jstr(l, "inventory_item_id");
		if (!find_code_or_id(m->items, "inventory_item_code", ic,
				     "inventory_item_id", iid)) {
			snprintf(msg, sizeof msg,
				 "Mã hàng \"%s\" không tồn tại trong danh mục "
				 "vật tư hàng hóa (unknown inventory item code "
				 "%s)",
				 ic    ? ic
				 : iid ? iid
				       : "",
				 ic    ? ic
				 : iid ? iid
				       : "");
			return strdup(msg);
		}
		const char *sc = sbx_jstr(l, "stock_code"),
			   *sid = sbx_jstr(l, "stock_id");
		if (!sc && !sid)
			sc = sbx_jstr(v, "stock_code"), sid = sbx_jstr(v, "stoc"
									  "k_"
									  "id");
		if ((sc && *sc) || (sid && *sid)) {
			if (!find_code_or_id(m->stocks, "stock_code", sc,
					     "stock_id", sid)) {
				snprintf(msg, sizeof msg,
					 "Mã kho \"%s\" không tồn tại (unknown "
					 "stock code %s)",
					 sc ? sc : sid, sc ? sc : sid);
				return strdup(msg);
			}
		} else if (moves) {
			snprintf(msg, sizeof msg,
				 "Dòng hàng \"%s\" thiếu mã kho (stock_code is "
				 "required)",
				 ic ? ic : iid);
			return strdup(msg);
		}
		if (line_qty(l) < 0)
			return strdup("Số lượng không được âm (quantity must "
				      "not be negative)");
	}
	return NULL;
}

struct move {
	cJSON *item, *stock;
	double delta;
	double price;
};

/* Collects stock moves of a voucher, merged per item x stock. */
static int collect_moves(struct misa *m, const cJSON *v, enum kind k,
			 struct move *mv, int cap)
{
	if (!kind_moves_stock(k, v))
		return 0;
	double sign = (k == K_RETURN || k == K_PURCHASE) ? 1 : -1;
	int n = 0;
	const cJSON *l;
	cJSON_ArrayForEach (l, cJSON_GetObjectItemCaseSensitive(v, "detail")) {
		cJSON *item = find_code_or_id(m->items, "inventory_item_code",
					      sbx_jstr(l, "inventory_item_"
							  "code"),
					      "inventory_item_id",
					      sbx_jstr(l, "inventory_item_id"));
		if (sbx_jnum(item, "inventory_item_type", 0) == 2)
			continue; /* services hold no stock */
		const char *sc = sbx_jstr(l, "stock_code"),
			   *sid = sbx_jstr(l, "stock_id");
		if (!sc && !sid)
			sc = sbx_jstr(v, "stock_code"), sid = sbx_jstr(v, "stoc"
									  "k_"
									  "id");
		cJSON *stock = find_code_or_id(m->stocks, "stock_code", sc,
					       "stock_id", sid);
		int i;
		for (i = 0; i < n; i++)
			if (mv[i].item == item && mv[i].stock == stock)
				break;
		if (i == n) {
			if (n == cap)
				continue;
			mv[n++] = (struct move){
				item, stock, 0,
				sbx_jnum(l, "unit_price",
					 sbx_jnum(item, "unit_price", 0))
			};
		}
		mv[i].delta += sign * line_qty(l);
	}
	return n;
}

static void journal_add(struct misa *m, const cJSON *vrec, const char *what,
			const char *code, double amount)
{
	cJSON *j = cJSON_CreateObject();
	char ts[40];
	now_iso(ts, sizeof ts);
	cJSON_AddStringToObject(j, "time", ts);
	cJSON_AddStringToObject(j, "org_refid", sbx_jstr(vrec, "org_refid"));
	cJSON_AddStringToObject(j, "refno", sbx_jstr(vrec, "refno"));
	cJSON_AddStringToObject(j, "entry", what);
	cJSON_AddStringToObject(j, "code", code ? code : "");
	cJSON_AddNumberToObject(j, "amount", amount);
	cJSON_AddItemToArray(m->journal, j);
}

static void debt_add(struct misa *m, const cJSON *vrec, const cJSON *obj,
		     double delta, bool invoiced)
{
	cJSON *row = debt_row(m, obj, true);
	set_num(row, "debt_amount", sbx_jnum(row, "debt_amount", 0) + delta);
	if (invoiced)
		set_num(row, "invoice_debt_amount",
			sbx_jnum(row, "invoice_debt_amount", 0) + delta);
	touch(row);
	journal_add(m, vrec, "debt", sbx_jstr(obj, "account_object_code"),
		    delta);
}

/* Posts (ghi so) a generated voucher. Returns NULL when posted, else the
 * reason it was not (a malloc'd string); nothing changes then. */
static char *post_voucher(struct misa *m, cJSON *vrec, const cJSON *v,
			  enum kind k)
{
	struct move mv[512];
	int n = collect_moves(m, v, k, mv, 512);
	bool ignore = sbx_jbool(v, "ignore_warning", false);
	for (int i = 0; i < n && !ignore; i++) {
		cJSON *row = balance_row(m,
					 sbx_jstr(mv[i].item, "inventory_item_"
							      "code"),
					 sbx_jstr(mv[i].stock, "stock_code"));
		double have = row ? sbx_jnum(row, "quantity_balance", 0) : 0;
		if (have + mv[i].delta < 0) {
			char msg[512];
			snprintf(msg, sizeof msg,
				 "Xuất quá số lượng tồn: mặt hàng %s tại kho "
				 "%s còn %g, cần xuất %g "
				 "(stock would become negative)",
				 sbx_jstr(mv[i].item, "inventory_item_code"),
				 sbx_jstr(mv[i].stock, "stock_code"), have,
				 -mv[i].delta);
			return strdup(msg);
		}
	}
	for (int i = 0; i < n; i++) {
		const char *ic = sbx_jstr(mv[i].item, "inventory_item_code");
		const char *sc = sbx_jstr(mv[i].stock, "stock_code");
		cJSON *row = balance_row(m, ic, sc);
		if (!row) {
			add_balance(m, mv[i].item, mv[i].stock, 0, mv[i].price);
			row = balance_row(m, ic, sc);
		}
		double q = sbx_jnum(row, "quantity_balance", 0) + mv[i].delta;
		set_num(row, "quantity_balance", q);
		set_num(row, "amount_balance",
			round(q * sbx_jnum(row, "unit_price", 0)));
		touch(row);
		char code[256];
		snprintf(code, sizeof code, "%s@%s", ic, sc);
		journal_add(m, vrec, "stock", code, mv[i].delta);
	}
	double net, total;
	voucher_totals(v, &net, &total);
	const cJSON *obj = find_code_or_id(m->objects, "account_object_code",
					   sbx_jstr(v, "account_object_code"),
					   "account_object_id",
					   sbx_jstr(v, "account_object_id"));
	double reftype = sbx_jnum(v, "reftype", 0);
	bool paid_now =
		num_in(cJSON_GetObjectItemCaseSensitive(m->config, "cash_sale_"
								   "reftypes"),
		       reftype);
	bool invoiced = sbx_jbool(v, "include_invoice", false);
	switch (k) {
	case K_SALE:
		m->revenue += net;
		journal_add(m, vrec, "revenue", NULL, net);
		if (!paid_now)
			debt_add(m, vrec, obj, total, invoiced);
		break;
	case K_RETURN:
		m->revenue -= net;
		journal_add(m, vrec, "revenue", NULL, -net);
		debt_add(m, vrec, obj, -total, invoiced);
		break;
	case K_RECEIPT: debt_add(m, vrec, obj, -total, true); break;
	case K_PAYMENT: debt_add(m, vrec, obj, total, true); break;
	case K_PURCHASE:
		debt_add(m, vrec, obj, -total,
			 true); /* payables are negative */
		break;
	default: break;
	}
	return NULL;
}

static cJSON *find_voucher(struct misa *m, const char *org_refid, int type)
{
	cJSON *e;
	cJSON_ArrayForEach (e, m->vouchers) {
		const char *r = sbx_jstr(e, "org_refid");
		if (r && !strcmp(r, org_refid) &&
		    (type < 0 || sbx_jnum(e, "voucher_type", -1) == type) &&
		    strcmp(sbx_jstr(e, "status"), "deleted"))
			return e;
	}
	return NULL;
}

struct cb_ctx {
	int data_type;
	char *data;
};

static void callback_done(struct sbx_emu *emu, void *arg, bool delivered,
			  long status, const char *answer)
{
	struct cb_ctx *c = arg;
	struct misa *m = emu->data;
	if (!m) {
		free(c->data);
		free(c);
		return;
	}
	cJSON *rows = cJSON_Parse(c->data);
	cJSON *e;
	char ts[40];
	now_iso(ts, sizeof ts);
	cJSON_ArrayForEach (e, rows) {
		cJSON *v = find_voucher(m, sbx_jstr(e, "org_refid"), -1);
		if (v)
			set_str(v, "callback",
				delivered ? "delivered" : "failed");
		if (!delivered) {
			cJSON *x = cJSON_Duplicate(e, true);
			cJSON_AddNumberToObject(x, "data_type", c->data_type);
			cJSON_AddStringToObject(x, "created_date", ts);
			cJSON_AddNumberToObject(x, "http_status",
						(double)status);
			cJSON_AddItemToArray(m->callback_errors, x);
		}
	}
	cJSON_Delete(rows);
	free(c->data);
	free(c);
}

/* Posts the signed callback {success, app_id, ..., data:"[...]"}. */
static void send_callback(struct sbx_emu *emu, const char *app_id,
			  const char *org, int data_type, cJSON *rows)
{
	char *data = cJSON_PrintUnformatted(rows);
	bool all_ok = true;
	const cJSON *e;
	cJSON_ArrayForEach (e, rows)
		all_ok = all_ok && sbx_jbool(e, "success", false);
	cJSON_Delete(rows);
	if (!data)
		return;
	char *sig =
		sbx_hmac_sha256_hex(app_id, strlen(app_id), data, strlen(data));
	cJSON *o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "success", all_ok);
	cJSON_AddStringToObject(o, "app_id", app_id);
	cJSON_AddStringToObject(o, "error_code", "");
	cJSON_AddStringToObject(o, "error_message", "");
	cJSON_AddStringToObject(o, "signature", sig ? sig : "");
	cJSON_AddNumberToObject(o, "data_type", data_type);
	cJSON_AddStringToObject(o, "org_company_code", org);
	cJSON_AddStringToObject(o, "data", data);
	char *body = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	free(sig);
	struct cb_ctx *c = calloc(1, sizeof *c);
	if (!body || !c) {
		free(body);
		free(c);
		free(data);
		return;
	}
	c->data_type = data_type;
	c->data = data;
	static const char *const headers[] = { "Content-Type: "
					       "application/json; "
					       "charset=utf-8",
					       NULL };
	struct sbx_hook h = { .topic = data_type == 1	? "save_voucher"
				       : data_type == 2 ? "delete_voucher"
							: "voucher_status",
			      .body = body,
			      .body_len = strlen(body),
			      .headers = headers,
			      .done = callback_done,
			      .arg = c };
	sbx_webhook_post(emu, &h);
	free(body);
}

static cJSON *result_row(const cJSON *vrec, bool ok, const char *code,
			 const char *msg)
{
	cJSON *r = cJSON_CreateObject();
	cJSON_AddStringToObject(
		r, "org_refid",
		sbx_jstr(vrec, "org_refid") ? sbx_jstr(vrec, "org_refid") : "");
	cJSON_AddBoolToObject(r, "success", ok);
	cJSON_AddStringToObject(r, "error_code", code ? code : "");
	cJSON_AddStringToObject(r, "error_message", msg ? msg : "");
	cJSON_AddStringToObject(r, "session_id",
				sbx_jstr(vrec, "session_id")
					? sbx_jstr(vrec, "session_id")
					: "");
	cJSON_AddNumberToObject(r, "voucher_type",
				sbx_jnum(vrec, "voucher_type", 0));
	return r;
}

/* A voucher number is unique among live vouchers (SPEC B6): the number a
 * request asks for (org_refno) held by another voucher is refused, with
 * a malloc'd reason; NULL when free. */
static char *number_taken(struct misa *m, const cJSON *vrec, const cJSON *v)
{
	const char *no = sbx_jstr(v, "org_refno"), *mine = sbx_jstr(vrec, "org_"
									  "refi"
									  "d");
	const cJSON *e;
	char msg[512];
	if (!no || !*no)
		return NULL;
	cJSON_ArrayForEach (e, m->vouchers) {
		const char *r = sbx_jstr(e, "refno"), *id = sbx_jstr(e, "org_"
									"refi"
									"d");
		if (e == vrec || !r || strcmp(r, no) ||
		    strcmp(sbx_jstr(e, "status"), "generated") ||
		    (id && mine && !strcmp(id, mine)))
			continue;
		snprintf(msg, sizeof msg,
			 "Số chứng từ %s đã tồn tại (document number %s "
			 "already used)",
			 no, no);
		return strdup(msg);
	}
	return NULL;
}

/* Timer: the accounting side turns a pending request into a voucher. */
static void generate(struct sbx_emu *emu, void *arg, bool cancelled)
{
	char *refid = arg;
	struct misa *m = emu->data;
	cJSON *vrec = cancelled ? NULL : find_voucher(m, refid, -1);
	free(refid);
	if (!vrec || strcmp(sbx_jstr(vrec, "status"), "pending"))
		return; /* deleted meanwhile, or reset */
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(vrec, "voucher");
	enum kind k = voucher_kind(m, (int)sbx_jnum(vrec, "voucher_type", 0));
	char ts[40];
	now_iso(ts, sizeof ts);
	set_str(vrec, "updated_date", ts);
	char *bad = validate(m, v, k);
	cJSON *row;
	if (bad) {
		set_str(vrec, "status", "rejected");
		set_str(vrec, "error_code", "InvalidParam");
		set_str(vrec, "error_message", bad);
		row = result_row(vrec, false, "InvalidParam", bad);
		free(bad);
	} else if ((bad = number_taken(m, vrec, v)) != NULL) {
		set_str(vrec, "status", "rejected");
		set_str(vrec, "error_code", "DuplicateRefNo");
		set_str(vrec, "error_message", bad);
		row = result_row(vrec, false, "DuplicateRefNo", bad);
		free(bad);
	} else {
		char refid_gen[37], refno[64];
		const char *own = sbx_jstr(v, "org_refno");
		sbx_uuid(refid_gen);
		if (own && *own) /* the partner's number is the voucher's */
			snprintf(refno, sizeof refno, "%s", own);
		else
			snprintf(refno, sizeof refno, "%s%05ld", kind_prefix(k),
				 ++m->refno_seq);
		set_str(vrec, "status", "generated");
		set_str(vrec, "refid", refid_gen);
		set_str(vrec, "refno", refno);
		row = result_row(vrec, true, "", "");
		cJSON_AddStringToObject(row, "refid", refid_gen);
		cJSON_AddStringToObject(row, "refno", refno);
		if (k == K_ORDER || k == K_INVOICE) {
			set_str(vrec, "posting_status",
				"none"); /* not a bookkeeping document */
			cJSON_AddNullToObject(row, "is_posted");
		} else {
			char *why = post_voucher(m, vrec, v, k);
			set_str(vrec, "posting_status",
				why ? "post_failed" : "posted");
			cJSON_AddBoolToObject(row, "is_posted", why == NULL);
			if (why) {
				set_str(vrec, "posting_error_code",
					"NegativeStock");
				set_str(vrec, "posting_error_message", why);
				cJSON_AddStringToObject(row,
							"posting_error_code",
							"NegativeStock");
				cJSON_AddStringToObject(
					row, "posting_error_message", why);
			}
			free(why);
		}
	}
	cJSON *rows = cJSON_CreateArray();
	cJSON_AddItemToArray(rows, row);
	send_callback(emu, sbx_jstr(vrec, "app_id"),
		      sbx_jstr(vrec, "org_company_code"), 1, rows);
}

/* Posts a voucher made earlier whose posting failed; the result row. */
static cJSON *repost(struct misa *m, cJSON *vrec, const cJSON *req_v)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(vrec, "voucher");
	enum kind k = voucher_kind(m, (int)sbx_jnum(vrec, "voucher_type", 0));
	cJSON *row;
	char *why;
	cJSON_DeleteItemFromObjectCaseSensitive(v, "ignore_warning");
	cJSON_AddBoolToObject(v, "ignore_warning",
			      sbx_jbool(req_v, "ignore_warning", false));
	why = post_voucher(m, vrec, v, k);
	row = result_row(vrec, true, "", "");
	cJSON_AddStringToObject(row, "refid", sbx_jstr(vrec, "refid"));
	cJSON_AddStringToObject(row, "refno", sbx_jstr(vrec, "refno"));
	cJSON_AddBoolToObject(row, "is_posted", why == NULL);
	set_str(vrec, "posting_status", why ? "post_failed" : "posted");
	if (why) {
		set_str(vrec, "posting_error_message", why);
		cJSON_AddStringToObject(row, "posting_error_code",
					"NegativeStock");
		cJSON_AddStringToObject(row, "posting_error_message", why);
	} else {
		cJSON_DeleteItemFromObjectCaseSensitive(vrec, "posting_error_"
							      "code");
		cJSON_DeleteItemFromObjectCaseSensitive(vrec, "posting_error_"
							      "message");
	}
	free(why);
	return row;
}

static void h_save(struct sbx_emu *emu, struct sbx_req *req)
{
	struct misa *m = emu->data;
	const cJSON *tok = authorize(m, req);
	if (!tok)
		return;
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(req->json, "vouche"
									"r");
	if (!cJSON_IsArray(list) || !cJSON_GetArraySize(list)) {
		reply_err(req, "InvalidParam", "Thiếu danh sách voucher");
		return;
	}
	const char *app_id = sbx_jstr(tok, "app_id"),
		   *org = sbx_jstr(tok, "org_company_code");
	cJSON *immediate = cJSON_CreateArray();
	char ts[40];
	now_iso(ts, sizeof ts);
	long delay = cfg_long(m, "generate_delay_ms", 300);
	const cJSON *v;
	cJSON_ArrayForEach (v, list) {
		const char *refid = sbx_jstr(v, "org_refid");
		int type = (int)sbx_jnum(v, "voucher_type", -1);
		if (!refid || !*refid || type < 0) {
			cJSON_AddItemToArray(
				immediate, result_row(v, false, "InvalidParam",
						      "Thiếu org_refid hoặc "
						      "voucher_type"));
			continue;
		}
		cJSON *cur = find_voucher(m, refid, -1);
		const char *st = cur ? sbx_jstr(cur, "status") : NULL;
		if (cur && !strcmp(st, "generated") &&
		    !strcmp(sbx_jstr(cur, "posting_status"), "post_failed")) {
			/* made but not posted: posted again (Ghi sổ), past warnings
             * when the request says ignore_warning */
			cJSON_AddItemToArray(immediate, repost(m, cur, v));
			continue;
		}
		if (cur && !strcmp(st, "generated")) {
			cJSON_AddItemToArray(immediate,
					     result_row(cur, false,
							"IsCreatedVoucher",
							"Đề nghị đã sinh chứng "
							"từ kế toán, không thể "
							"cập nhật (voucher "
							"already created)"));
			continue;
		}
		if (cur && !strcmp(st, "pending")) {
			/* an update while pending replaces the request; its timer stands */
			cJSON_ReplaceItemInObjectCaseSensitive(
				cur, "voucher", cJSON_Duplicate(v, true));
			set_num(cur, "voucher_type", type);
			set_num(cur, "update_count",
				sbx_jnum(cur, "update_count", 0) + 1);
			set_str(cur, "updated_date", ts);
			continue;
		}
		if (cur) /* a rejected request may be sent again */
			set_str(cur, "status", "deleted");
		cJSON *rec = cJSON_CreateObject();
		cJSON_AddStringToObject(rec, "org_refid", refid);
		cJSON_AddNumberToObject(rec, "voucher_type", type);
		cJSON_AddStringToObject(rec, "status", "pending");
		cJSON_AddStringToObject(rec, "posting_status", "not_posted");
		cJSON_AddStringToObject(rec, "app_id", app_id);
		cJSON_AddStringToObject(rec, "org_company_code", org);
		char session[33];
		sbx_random_hex(session, 16);
		cJSON_AddStringToObject(rec, "session_id", session);
		cJSON_AddStringToObject(rec, "created_date", ts);
		cJSON_AddStringToObject(rec, "updated_date", ts);
		cJSON_AddNumberToObject(rec, "update_count", 0);
		cJSON_AddItemToObject(rec, "voucher", cJSON_Duplicate(v, true));
		cJSON_AddItemToArray(m->vouchers, rec);
		sbx_after(emu, delay, generate, strdup(refid));
	}
	if (cJSON_GetArraySize(immediate))
		send_callback(emu, app_id, org, 1, immediate);
	else
		cJSON_Delete(immediate);
	reply_env(req, true, "", "", NULL, NULL);
}

static void h_delete(struct sbx_emu *emu, struct sbx_req *req)
{
	struct misa *m = emu->data;
	const cJSON *tok = authorize(m, req);
	if (!tok)
		return;
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(req->json, "vouche"
									"r");
	if (!cJSON_IsArray(list) || !cJSON_GetArraySize(list)) {
		reply_err(req, "InvalidParam", "Thiếu danh sách voucher");
		return;
	}
	cJSON *rows = cJSON_CreateArray();
	const char *first_err = NULL;
	const cJSON *v;
	cJSON_ArrayForEach (v, list) {
		const char *refid = sbx_jstr(v, "org_refid");
		int type = (int)sbx_jnum(v, "voucher_type", -1);
		cJSON *cur = refid ? find_voucher(m, refid, type) : NULL;
		cJSON *row;
		if (!cur) {
			row = result_row(v, false, "VoucherNotFound",
					 "Không tìm thấy đề nghị (voucher not "
					 "found)");
			first_err = first_err ? first_err : "VoucherNotFound";
		} else if (!strcmp(sbx_jstr(cur, "status"), "generated")) {
			row = result_row(cur, false, "IsCreatedVoucher",
					 "Đã sinh chứng từ kế toán, không thể "
					 "xóa (voucher already created)");
			first_err = first_err ? first_err : "IsCreatedVoucher";
		} else {
			set_str(cur, "status", "deleted");
			row = result_row(cur, true, "", "");
		}
		cJSON_AddItemToArray(rows, row);
	}
	send_callback(emu, sbx_jstr(tok, "app_id"),
		      sbx_jstr(tok, "org_company_code"), 2,
		      cJSON_Duplicate(rows, true));
	reply_env(req, first_err == NULL, first_err ? first_err : "", "", rows,
		  NULL);
}

static void h_callback_errors(struct sbx_emu *emu, struct sbx_req *req)
{
	struct misa *m = emu->data;
	struct page pg;
	if (!authorize(m, req) || !parse_page(req, &pg))
		return;
	const char *from = sbx_jstr(req->json, "from_date"),
		   *to = sbx_jstr(req->json, "to_date");
	int64_t f = from && *from ? sbx_parse_time(from) : 0;
	int64_t t = to && *to ? sbx_parse_time(to) : INT64_MAX;
	if (f < 0 || t < 0) {
		reply_err(req, "InvalidParam",
			  "from_date/to_date không hợp lệ");
		return;
	}
	if (to && strlen(to) == 10)
		t += 86400 * 1000LL - 1; /* a date means the whole day */
	cJSON *sel = cJSON_CreateArray();
	const cJSON *e;
	cJSON_ArrayForEach (e, m->callback_errors) {
		int64_t c = sbx_parse_time(sbx_jstr(e, "created_date"));
		if (c >= f && c <= t)
			cJSON_AddItemToArray(sel, cJSON_Duplicate(e, true));
	}
	pg.since = -1;
	reply_page(req, sel, &pg, NULL, NULL);
	cJSON_Delete(sel);
}

/* ---------------- acts (what accountants do in the UI) ---------------- */

static void act_reply(struct sbx_req *req, cJSON *rec, const char *err)
{
	if (!rec) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "error", err ? err : "bad request");
		sbx_reply_json(req, 400, o);
		return;
	}
	sbx_reply_json(req, 200, cJSON_Duplicate(rec, true));
}

/* An accountant enters a voucher by hand: {voucher_type, refno}. It takes
 * its number, so a partner's request for the same number clashes. */
static void act_enter_voucher(struct sbx_emu *emu, struct sbx_req *req)
{
	struct misa *m = emu->data;
	const char *no = sbx_jstr(req->json, "refno");
	cJSON *rec;
	char refid[37], key[64], ts[40];
	if (!no || !*no) {
		act_reply(req, NULL, "refno is required");
		return;
	}
	sbx_uuid(refid);
	snprintf(key, sizeof key, "manual-%s", refid);
	now_iso(ts, sizeof ts);
	rec = cJSON_CreateObject();
	cJSON_AddStringToObject(rec, "org_refid", key);
	cJSON_AddNumberToObject(rec, "voucher_type",
				sbx_jnum(req->json, "voucher_type", 51));
	cJSON_AddStringToObject(rec, "status", "generated");
	cJSON_AddStringToObject(rec, "posting_status", "none");
	cJSON_AddStringToObject(rec, "refid", refid);
	cJSON_AddStringToObject(rec, "refno", no);
	cJSON_AddStringToObject(rec, "created_date", ts);
	cJSON_AddStringToObject(rec, "updated_date", ts);
	cJSON_AddItemToObject(rec, "voucher", cJSON_CreateObject());
	cJSON_AddItemToArray(m->vouchers, rec);
	act_reply(req, rec, NULL);
}

static void act_edit_product(struct sbx_emu *emu, struct sbx_req *req)
{
	const char *err = "body must be a json object";
	cJSON *rec =
		cJSON_IsObject(req->json)
			? dict_upsert(emu->data, dict_kind(3), req->json, &err)
			: NULL;
	act_reply(req, rec, err);
}

static void act_edit_customer(struct sbx_emu *emu, struct sbx_req *req)
{
	const char *err = "body must be a json object";
	cJSON *rec =
		cJSON_IsObject(req->json)
			? dict_upsert(emu->data, dict_kind(1), req->json, &err)
			: NULL;
	act_reply(req, rec, err);
}

/* ---------------- C3/C4: what accountants do with CRM's documents ---------------- */

/* A made voucher named by the act's refno or org_refno (the source's
 * number, e.g. CRM's DH00007). */
static cJSON *made_voucher(struct misa *m, const cJSON *body)
{
	const char *refno = sbx_jstr(body, "refno");
	const char *org_refno = sbx_jstr(body, "org_refno");
	cJSON *v;
	cJSON_ArrayForEach (v, m->vouchers) {
		const char *st = sbx_jstr(v, "status");
		const cJSON *req = cJSON_GetObjectItemCaseSensitive(v, "vouche"
								       "r");
		if (!st || strcmp(st, "generated"))
			continue;
		if ((refno && sbx_jstr(v, "refno") &&
		     !strcmp(refno, sbx_jstr(v, "refno"))) ||
		    (org_refno && sbx_jstr(req, "org_refno") &&
		     !strcmp(org_refno, sbx_jstr(req, "org_refno"))))
			return v;
	}
	return NULL;
}

/* The head of a status row (designed callback data_types 3 and 4). */
static cJSON *status_row(const cJSON *v)
{
	const cJSON *req = cJSON_GetObjectItemCaseSensitive(v, "voucher");
	cJSON *r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "org_refid", sbx_jstr(v, "org_refid"));
	cJSON_AddStringToObject(
		r, "org_refno",
		sbx_jstr(req, "org_refno") ? sbx_jstr(req, "org_refno") : "");
	cJSON_AddStringToObject(
		r, "refid", sbx_jstr(v, "refid") ? sbx_jstr(v, "refid") : "");
	cJSON_AddStringToObject(
		r, "refno", sbx_jstr(v, "refno") ? sbx_jstr(v, "refno") : "");
	cJSON_AddNumberToObject(r, "voucher_type",
				sbx_jnum(v, "voucher_type", 0));
	return r;
}

static const char *level(double done, double all)
{
	return done <= 0 ? "none" : done + 0.0001 < all ? "partial" : "full";
}

/*
 * C3: an accountant delivers part of a sales order, collects money or
 * invoices it: {refno | org_refno, delivered: [{inventory_item_code,
 * quantity}], receipt: {refno, refdate, amount}, invoiced_amount}. The
 * order's state goes out by callback, data_type 3 (designed; MISA's
 * request_data pushes voucher states the same way).
 */
static void act_order_progress(struct sbx_emu *emu, struct sbx_req *req)
{
	struct misa *m = emu->data;
	cJSON *v = made_voucher(m, req->json);
	if (!v) {
		act_reply(req, NULL, "no such sales order (refno, org_refno)");
		return;
	}
	cJSON *pr = cJSON_GetObjectItemCaseSensitive(v, "progress");
	if (!pr) {
		pr = cJSON_AddObjectToObject(v, "progress");
		cJSON_AddObjectToObject(pr, "delivered");
		cJSON_AddArrayToObject(pr, "receipts");
		cJSON_AddNumberToObject(pr, "invoiced_amount", 0);
	}
	cJSON *dl = cJSON_GetObjectItemCaseSensitive(pr, "delivered");
	const cJSON *e;
	cJSON_ArrayForEach (e, cJSON_GetObjectItemCaseSensitive(req->json,
								"delivered")) {
		const char *code = sbx_jstr(e, "inventory_item_code");
		if (code)
			set_num(dl, code,
				sbx_jnum(dl, code, 0) +
					sbx_jnum(e, "quantity", 0));
	}
	const cJSON *rc = cJSON_GetObjectItemCaseSensitive(req->json, "receip"
								      "t");
	if (cJSON_IsObject(rc))
		cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(pr, "rece"
									  "ipt"
									  "s"),
				     cJSON_Duplicate(rc, true));
	if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(req->json, "invoice"
								       "d_"
								       "amoun"
								       "t")))
		set_num(pr, "invoiced_amount",
			sbx_jnum(req->json, "invoiced_amount", 0));

	const cJSON *vreq = cJSON_GetObjectItemCaseSensitive(v, "voucher");
	double net, total, qty = 0, done = 0, got = 0;
	voucher_totals(vreq, &net, &total);
	cJSON *row = status_row(v), *lines = cJSON_AddArrayToObject(row, "deta"
									 "il");
	cJSON_ArrayForEach (e, cJSON_GetObjectItemCaseSensitive(vreq, "detai"
								      "l")) {
		const char *code = sbx_jstr(e, "inventory_item_code");
		double q = line_qty(e), d = code ? sbx_jnum(dl, code, 0) : 0;
		cJSON *l = cJSON_CreateObject();
		if (d >
		    q) /* two lines of one item: the first takes its share */
			d = q;
		if (code)
			set_num(dl, code, sbx_jnum(dl, code, 0) - d);
		cJSON_AddStringToObject(l, "inventory_item_code",
					code ? code : "");
		cJSON_AddNumberToObject(l, "quantity", q);
		cJSON_AddNumberToObject(l, "delivered_quantity", d);
		cJSON_AddItemToArray(lines, l);
		qty += q;
		done += d;
	}
	/* the per-item pool was spent on the lines: put it back */
	cJSON_ArrayForEach (e, lines) {
		const char *code = sbx_jstr(e, "inventory_item_code");
		if (*code)
			set_num(dl, code,
				sbx_jnum(dl, code, 0) +
					sbx_jnum(e, "delivered_quantity", 0));
	}
	cJSON *rcs = cJSON_GetObjectItemCaseSensitive(pr, "receipts");
	cJSON_ArrayForEach (e, rcs)
		got += sbx_jnum(e, "amount", 0);
	double inv = sbx_jnum(pr, "invoiced_amount", 0);
	cJSON_AddStringToObject(row, "delivery_status", level(done, qty));
	cJSON_AddStringToObject(row, "invoice_status", level(inv, total));
	cJSON_AddStringToObject(row, "payment_status", level(got, total));
	cJSON_AddStringToObject(row, "revenue_status",
				inv > 0 ? "recorded" : "requested");
	cJSON_AddStringToObject(row, "status",
				done + 0.0001 >= qty && got + 0.5 >= total ? "d"
									     "o"
									     "n"
									     "e"
				: done > 0 || got > 0 || inv > 0 ? "in_progress"
								 : "not_"
								   "started");
	cJSON_AddNumberToObject(row, "total_amount", total);
	cJSON_AddNumberToObject(row, "invoiced_amount", inv);
	cJSON_AddNumberToObject(row, "received_amount", got);
	cJSON_AddNumberToObject(row, "remaining_receivable", total - got);
	cJSON_AddItemToObject(row, "receipts", cJSON_Duplicate(rcs, true));
	cJSON *reply = cJSON_Duplicate(row, true);
	cJSON *rows = cJSON_CreateArray();
	cJSON_AddItemToArray(rows, row);
	send_callback(emu, sbx_jstr(v, "app_id"),
		      sbx_jstr(v, "org_company_code"), 3, rows);
	sbx_reply_json(req, 200, reply);
}

/* C4: an accountant approves or refuses an invoice request: {refno |
 * org_refno, approve, reason}; the answer goes out by callback,
 * data_type 4 (designed). */
static void act_decide_invoice_request(struct sbx_emu *emu, struct sbx_req *req)
{
	struct misa *m = emu->data;
	cJSON *v = made_voucher(m, req->json);
	bool ok = sbx_jbool(req->json, "approve", false);
	const char *why = sbx_jstr(req->json, "reason");
	if (!v) {
		act_reply(req, NULL,
			  "no such invoice request (refno, "
			  "org_refno)");
		return;
	}
	if (!ok && (!why || !*why)) {
		act_reply(req, NULL, "a refusal needs a reason");
		return;
	}
	cJSON *row = status_row(v);
	cJSON_AddBoolToObject(row, "approved", ok);
	cJSON_AddStringToObject(row, "reason", ok || !why ? "" : why);
	set_str(v, "decision", ok ? "approved" : "refused");
	cJSON *reply = cJSON_Duplicate(row, true);
	cJSON *rows = cJSON_CreateArray();
	cJSON_AddItemToArray(rows, row);
	send_callback(emu, sbx_jstr(v, "app_id"),
		      sbx_jstr(v, "org_company_code"), 4, rows);
	sbx_reply_json(req, 200, reply);
}

/* C8: an accountant adds or edits a price policy (designed): {price_policy_code,
 * price_policy_name, from_date, to_date, account_object_group_code,
 * items: [{inventory_item_code, unit_name, unit_price}]}, fields given
 * replace the stored ones. */
static void act_edit_price_policy(struct sbx_emu *emu, struct sbx_req *req)
{
	struct misa *m = emu->data;
	const char *code = sbx_jstr(req->json, "price_policy_code");
	cJSON *cur;
	if (!code || !*code) {
		act_reply(req, NULL, "price_policy_code is required");
		return;
	}
	cur = find_by(m->price_policies, "price_policy_code", code);
	if (!cur) {
		cur = cJSON_CreateObject();
		cJSON_AddItemToArray(m->price_policies, cur);
	}
	for (const cJSON *f = req->json->child; f; f = f->next) {
		cJSON_DeleteItemFromObjectCaseSensitive(cur, f->string);
		cJSON_AddItemToObject(cur, f->string, cJSON_Duplicate(f, true));
	}
	touch(cur);
	act_reply(req, cur, NULL);
}

/* C1: an accountant adds or edits a customer group or an item category. */
static void act_edit_customer_group(struct sbx_emu *emu, struct sbx_req *req)
{
	const char *err = "body must be a json object";
	cJSON *rec =
		cJSON_IsObject(req->json)
			? dict_upsert(emu->data, dict_kind(2), req->json, &err)
			: NULL;
	act_reply(req, rec, err);
}

static void act_edit_product_group(struct sbx_emu *emu, struct sbx_req *req)
{
	const char *err = "body must be a json object";
	cJSON *rec =
		cJSON_IsObject(req->json)
			? dict_upsert(emu->data, dict_kind(4), req->json, &err)
			: NULL;
	act_reply(req, rec, err);
}

static void act_set_stock(struct sbx_emu *emu, struct sbx_req *req)
{
	struct misa *m = emu->data;
	const cJSON *item = find_by(m->items, "inventory_item_code",
				    sbx_jstr(req->json, "inventory_item_code"));
	const cJSON *stock = find_by(m->stocks, "stock_code",
				     sbx_jstr(req->json, "stock_code"));
	double q = sbx_jnum(req->json, "quantity", NAN);
	if (!item || !stock || isnan(q)) {
		act_reply(req, NULL,
			  "need a known inventory_item_code, stock_code and a "
			  "quantity");
		return;
	}
	cJSON *row = balance_row(m, sbx_jstr(item, "inventory_item_code"),
				 sbx_jstr(stock, "stock_code"));
	if (!row) {
		add_balance(m, item, stock, q,
			    sbx_jnum(req->json, "unit_price",
				     sbx_jnum(item, "unit_price", 0)));
		row = balance_row(m, sbx_jstr(item, "inventory_item_code"),
				  sbx_jstr(stock, "stock_code"));
	}
	set_num(row, "quantity_balance", q);
	if (cJSON_GetObjectItemCaseSensitive(req->json, "unit_price"))
		set_num(row, "unit_price",
			sbx_jnum(req->json, "unit_price", 0));
	set_num(row, "amount_balance",
		round(q * sbx_jnum(row, "unit_price", 0)));
	touch(row);
	act_reply(req, row, NULL);
}

static void act_delete_item(struct sbx_emu *emu, struct sbx_req *req)
{
	struct misa *m = emu->data;
	const char *code = sbx_jstr(req->json, "inventory_item_code");
	cJSON *e;
	int idx = 0;
	cJSON_ArrayForEach (e, m->items) {
		const char *c = sbx_jstr(e, "inventory_item_code");
		if (c && code && !strcmp(c, code))
			break;
		idx++;
	}
	if (!e) {
		act_reply(req, NULL, "unknown inventory_item_code");
		return;
	}
	cJSON *t = cJSON_CreateObject();
	char ts[40];
	now_iso(ts, sizeof ts);
	cJSON_AddNumberToObject(t, "data_type", 2);
	cJSON_AddStringToObject(t, "id", sbx_jstr(e, "inventory_item_id"));
	cJSON_AddStringToObject(t, "code", code);
	cJSON_AddStringToObject(t, "deleted_date", ts);
	cJSON_AddItemToArray(m->tomb_dict, t);
	cJSON_DeleteItemFromArray(m->items, idx);
	act_reply(req, t, NULL);
}

/* Changes emulator settings: token_ttl_s, generate_delay_ms, posting_rules... */
static void act_config(struct sbx_emu *emu, struct sbx_req *req)
{
	struct misa *m = emu->data;
	if (!cJSON_IsObject(req->json)) {
		act_reply(req, NULL, "body must be a json object");
		return;
	}
	for (const cJSON *f = req->json->child; f; f = f->next) {
		cJSON_DeleteItemFromObjectCaseSensitive(m->config, f->string);
		cJSON_AddItemToObject(m->config, f->string,
				      cJSON_Duplicate(f, true));
	}
	act_reply(req, m->config, NULL);
}

static void act_disconnect_app(struct sbx_emu *emu, struct sbx_req *req)
{
	struct misa *m = emu->data;
	cJSON *app = find_by(m->apps, "app_id", sbx_jstr(req->json, "app_id"));
	if (!app) {
		act_reply(req, NULL, "unknown app_id");
		return;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(app, "connected");
	cJSON_AddBoolToObject(app, "connected",
			      sbx_jbool(req->json, "connected", false));
	act_reply(req, app, NULL);
}

static const struct sbx_route routes[] = {
	{ "POST", "/api/oauth/actopen/connect", h_connect },
	{ "POST", DATA_PREFIX "get_dictionary", h_get_dictionary },
	{ "POST", DATA_PREFIX "get_dictionary_delete", h_dictionary_delete },
	{ "POST", DATA_PREFIX "save_dictionary", h_save_dictionary },
	{ "POST", DATA_PREFIX "get_list_inventory_balance",
	  h_inventory_balance },
	{ "POST", DATA_PREFIX "get_list_inventory_balance_delete",
	  h_tomb_balance },
	{ "POST", DATA_PREFIX "get_list_acc_obj_debt", h_acc_obj_debt },
	{ "POST", DATA_PREFIX "get_list_acc_obj_debt_delete", h_tomb_debt },
	{ "POST", DATA_PREFIX "get_company_info", h_company_info },
	{ "POST", DATA_PREFIX "save", h_save },
	{ "POST", DATA_PREFIX "delete", h_delete },
	{ "POST", DATA_PREFIX "get_call_back_detail_error", h_callback_errors },
	{ NULL, NULL, NULL },
};

static const struct sbx_act acts[] = {
	{ "edit_product", act_edit_product },
	{ "edit_customer", act_edit_customer },
	{ "edit_customer_group", act_edit_customer_group },
	{ "order_progress", act_order_progress },
	{ "edit_price_policy", act_edit_price_policy },
	{ "decide_invoice_request", act_decide_invoice_request },
	{ "edit_product_group", act_edit_product_group },
	{ "set_stock", act_set_stock },
	{ "enter_voucher", act_enter_voucher },
	{ "delete_item", act_delete_item },
	{ "config", act_config },
	{ "connect_app", act_disconnect_app },
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

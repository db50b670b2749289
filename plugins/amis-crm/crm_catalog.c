/*
 * crm_catalog.c - AMIS CRM catalogues (C1) and the write-backs from
 * accounting (C3 order, C4 invoice request, C5 stock): every write is an
 * upsert by the record's code (GET /<Res>/Code, then PUT with its id or
 * POST), so a resent version or a repeated call changes nothing twice.
 */
#include "crm_catalog.h"

/* ---- the crossed mark (C1) ------------------------------------------------- */

static void crossed_key(const char *code, char *key, size_t len)
{
	snprintf(key, len, "crossed:%s", code);
}

bool crm_crossed(struct amis_client *c, const char *code)
{
	char key[300], *v = NULL;
	bool yes;

	if (!code)
		return false;
	crossed_key(code, key, sizeof(key));
	yes = c->k.h->kv->get(c->k.ctx, key, &v) == LUONG_OK;
	c->k.h->mem->free(v);
	return yes;
}

void crm_mark_crossed(struct amis_client *c, const char *code)
{
	char key[300];

	if (!code || crm_crossed(c, code))
		return;
	crossed_key(code, key, sizeof(key));
	c->k.h->kv->put(c->k.ctx, key, "1");
}

/* ---- upserts by code --------------------------------------------------------- */

/* A code as a query value (percent-encoded). */
static void query_value(const char *s, char *out, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *s && o + 4 < len; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || strchr("-_.~", ch)) {
			out[o++] = (char)ch;
		} else {
			out[o++] = '%';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		}
	}
	out[o] = '\0';
}

/* The record of res with that code (owned), NULL when CRM has none. */
static enum luong_status find_code(struct amis_client *c,
				   struct luong_call *call, const char *res,
				   const char *code, cJSON **rec)
{
	struct amis_reply r = { 0 };
	char path[512], q[300];
	enum luong_status st;
	const cJSON *d;

	*rec = NULL;
	query_value(code, q, sizeof(q));
	snprintf(path, sizeof(path), "/%s/Code?code=%s", res, q);
	st = amis_call(c, call, "GET", path, NULL, &r);
	if (st == LUONG_E_NOTFOUND) {
		amis_reply_free(c, &r);
		return LUONG_OK;
	}
	if (st == LUONG_OK) {
		d = cJSON_IsArray(r.data) ? cJSON_GetArrayItem(r.data, 0)
					  : r.data;
		if (cJSON_IsObject(d))
			*rec = cJSON_Duplicate(d, 1);
	}
	amis_reply_free(c, &r);
	return st;
}

/*
 * Writes rec (owned) into res: PUT on the record with rec's code, else
 * POST. *stored (owned, may be NULL) is what CRM answered.
 */
static enum luong_status save(struct amis_client *c, struct luong_call *call,
			      const char *res, const char *code_field,
			      cJSON *rec, cJSON **stored)
{
	char path[64];
	const char *code = ac_str(rec, code_field);
	enum luong_status st;
	cJSON *old = NULL, *list;
	struct amis_reply r = { 0 };

	if (stored)
		*stored = NULL;
	if (!code || !*code) {
		c->k.h->call->set_error(call, "%s is required", code_field);
		cJSON_Delete(rec);
		return LUONG_E_INVAL;
	}
	st = find_code(c, call, res, code, &old);
	if (st != LUONG_OK) {
		cJSON_Delete(rec);
		return st;
	}
	ac_drop_nulls(rec);
	cJSON_DeleteItemFromObjectCaseSensitive(rec, "id");
	if (old)
		cJSON_AddNumberToObject(rec, "id", ac_num(old, "id", 0));
	list = cJSON_CreateArray();
	cJSON_AddItemToArray(list, rec);
	snprintf(path, sizeof(path), "/%s", res);
	st = amis_call(c, call, old ? "PUT" : "POST", path, list, &r);
	cJSON_Delete(list);
	cJSON_Delete(old);
	if (st == LUONG_OK && stored)
		*stored = cJSON_Duplicate(cJSON_GetArrayItem(r.data, 0), 1);
	amis_reply_free(c, &r);
	return st;
}

/* POST of one record (owned) CRM is known not to have. */
static enum luong_status post_new(struct amis_client *c,
				  struct luong_call *call, const char *res,
				  cJSON *rec)
{
	struct amis_reply r = { 0 };
	cJSON *list = cJSON_CreateArray();
	enum luong_status st;
	char path[64];

	cJSON_AddItemToArray(list, rec);
	snprintf(path, sizeof(path), "/%s", res);
	st = amis_call(c, call, "POST", path, list, &r);
	cJSON_Delete(list);
	amis_reply_free(c, &r);
	return st;
}

/*
 * A group the record names: made when CRM has none (C1: a group travels
 * with its first customer or product); an existing one is left as it
 * is, since a group's own edits travel by its own flow, if any.
 */
static enum luong_status ensure_group(struct amis_client *c,
				      struct luong_call *call, const char *res,
				      const char *code_field,
				      const char *name_field,
				      const cJSON *group, bool *made)
{
	const char *code = ac_str(group, "code");
	const char *name = ac_str(group, "name");
	enum luong_status st;
	cJSON *old = NULL, *rec;

	*made = false;
	if (!code || !*code)
		return LUONG_OK;
	st = find_code(c, call, res, code, &old);
	if (st != LUONG_OK || old) {
		cJSON_Delete(old);
		return st;
	}
	rec = cJSON_CreateObject();
	cJSON_AddStringToObject(rec, code_field, code);
	cJSON_AddStringToObject(rec, name_field, name && *name ? name : code);
	*made = true;
	return post_new(c, call, res, rec);
}

/* {id, <code>, group_made} of a saved record. */
static cJSON *saved_output(const cJSON *stored, const char *code_field,
			   bool group_made)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "id", ac_num(stored, "id", 0));
	cJSON_AddStringToObject(
		o, "code",
		ac_str(stored, code_field) ? ac_str(stored, code_field) : "");
	cJSON_AddBoolToObject(o, "group_made", group_made);
	return o;
}

/* A customer or a product with its group: the shape of both actions. */
struct member_kind {
	const char *what; /* input key: customer, product */
	const char *res, *code_field;
	const char *group_res, *group_code, *group_name;
	const char *member_group_field;
};

static enum luong_status save_member(const struct member_kind *mk,
				     struct luong_call *call,
				     struct amis_client *c, const cJSON *input,
				     cJSON **output)
{
	const cJSON *rec = cJSON_GetObjectItemCaseSensitive(input, mk->what);
	const cJSON *group = cJSON_GetObjectItemCaseSensitive(input, "group");
	enum luong_status st;
	cJSON *copy, *stored = NULL;
	bool made = false;

	if (!cJSON_IsObject(rec)) {
		c->k.h->call->set_error(
			call, "input.%s (an object) is required", mk->what);
		return LUONG_E_INVAL;
	}
	st = ensure_group(c, call, mk->group_res, mk->group_code,
			  mk->group_name, group, &made);
	if (st != LUONG_OK)
		return st;
	copy = cJSON_Duplicate(rec, 1);
	if (ac_str(group, "code") && *ac_str(group, "code")) {
		cJSON_DeleteItemFromObjectCaseSensitive(copy,
							mk->member_group_field);
		cJSON_AddStringToObject(copy, mk->member_group_field,
					ac_str(group, "code"));
	}
	st = save(c, call, mk->res, mk->code_field, copy, &stored);
	if (st == LUONG_OK) {
		*output = saved_output(stored, mk->code_field, made);
		if (!strcmp(mk->what, "customer"))
			crm_mark_crossed(c, ac_str(stored, mk->code_field));
	}
	cJSON_Delete(stored);
	return st;
}

static const struct member_kind customer_kind = {
	"customer",	      "Customers",	     "account_number",
	"CustomerGroups",     "customer_group_code", "customer_group_name",
	"customer_group_code"
};

static const struct member_kind product_kind = { "product",
						 "Product",
						 "product_code",
						 "ProductGroups",
						 "product_group_code",
						 "product_group_name",
						 "product_group_code" };

enum luong_status crm_save_customer(struct luong_call *call, void *state,
				    const cJSON *input, cJSON **output)
{
	return save_member(&customer_kind, call, state, input, output);
}

enum luong_status crm_save_product(struct luong_call *call, void *state,
				   const cJSON *input, cJSON **output)
{
	return save_member(&product_kind, call, state, input, output);
}

static enum luong_status save_group(struct luong_call *call,
				    struct amis_client *c, const char *res,
				    const char *code_field,
				    const char *name_field, const cJSON *input,
				    cJSON **output)
{
	const char *code = ac_str(input, "code"), *name = ac_str(input, "name");
	cJSON *rec, *stored = NULL;
	enum luong_status st;

	if (!code || !*code || !name || !*name) {
		c->k.h->call->set_error(call, "input.code and input.name are "
					      "required");
		return LUONG_E_INVAL;
	}
	rec = cJSON_CreateObject();
	cJSON_AddStringToObject(rec, code_field, code);
	cJSON_AddStringToObject(rec, name_field, name);
	st = save(c, call, res, code_field, rec, &stored);
	if (st == LUONG_OK)
		*output = saved_output(stored, code_field, false);
	cJSON_Delete(stored);
	return st;
}

enum luong_status crm_save_customer_group(struct luong_call *call, void *state,
					  const cJSON *input, cJSON **output)
{
	return save_group(call, state, "CustomerGroups", "customer_group_code",
			  "customer_group_name", input, output);
}

enum luong_status crm_save_product_group(struct luong_call *call, void *state,
					 const cJSON *input, cJSON **output)
{
	return save_group(call, state, "ProductGroups", "product_group_code",
			  "product_group_name", input, output);
}

/* ---- C3: accounting's view of an order ------------------------------------- */

/* Fields of the order accounting writes as they are given (null: kept). */
static const char *const order_fields[] = {
	"status",	  "revenue_status",  "delivery_status", "pay_status",
	"invoice_status", "invoiced_amount", "receipts",	NULL
};

enum luong_status crm_update_order_accounting(struct luong_call *call,
					      void *state, const cJSON *input,
					      cJSON **output)
{
	struct amis_client *c = state;
	const char *no = ac_str(input, "order_no");
	cJSON *order = NULL, *patch, *lines, *list, *used;
	const cJSON *in, *crm_lines, *v;
	struct amis_reply r = { 0 };
	enum luong_status st;

	if (!no) {
		c->k.h->call->set_error(call, "input.order_no is required");
		return LUONG_E_INVAL;
	}
	st = find_code(c, call, "SaleOrders", no, &order);
	if (st != LUONG_OK)
		return st;
	if (!order) {
		c->k.h->call->set_error(call, "CRM has no order %s", no);
		return LUONG_E_NOTFOUND;
	}
	patch = cJSON_CreateObject();
	cJSON_AddNumberToObject(patch, "id", ac_num(order, "id", 0));
	for (const char *const *f = order_fields; *f; f++)
		if ((v = cJSON_GetObjectItemCaseSensitive(input, *f)) &&
		    !cJSON_IsNull(v))
			cJSON_AddItemToObject(patch, *f, cJSON_Duplicate(v, 1));
	crm_lines = cJSON_GetObjectItemCaseSensitive(order, "sale_order_"
							    "product_mappings");
	lines = cJSON_CreateArray();
	used = cJSON_CreateArray();
	cJSON_ArrayForEach (in, cJSON_GetObjectItemCaseSensitive(input, "line"
									"s")) {
		const char *code = ac_str(in, "product_code");
		const cJSON *l;
		int i = 0;

		cJSON_ArrayForEach (l, crm_lines) {
			char mark[32];
			bool taken = false;
			const cJSON *u;

			snprintf(mark, sizeof(mark), "%d", i++);
			cJSON_ArrayForEach (u, used)
				taken |= !strcmp(u->valuestring, mark);
			if (taken || !code || !ac_str(l, "product_code") ||
			    strcmp(code, ac_str(l, "product_code")))
				continue;
			cJSON_AddItemToArray(used, cJSON_CreateString(mark));
			cJSON *pl = cJSON_CreateObject();

			cJSON_AddNumberToObject(pl, "id", ac_num(l, "id", 0));
			cJSON_AddNumberToObject(pl, "delivered_amount",
						ac_num(in, "delivered", 0));
			cJSON_AddItemToArray(lines, pl);
			break;
		}
	}
	cJSON_Delete(used);
	if (cJSON_GetArraySize(lines))
		cJSON_AddItemToObject(patch, "sale_order_product_mappings",
				      lines);
	else
		cJSON_Delete(lines);
	cJSON_Delete(order);
	list = cJSON_CreateArray();
	cJSON_AddItemToArray(list, patch);
	st = amis_call(c, call, "PUT", "/SaleOrders", list, &r);
	cJSON_Delete(list);
	if (st == LUONG_OK) {
		const cJSON *o = cJSON_GetArrayItem(r.data, 0);

		*output = cJSON_CreateObject();
		cJSON_AddNumberToObject(*output, "id", ac_num(o, "id", 0));
		cJSON_AddStringToObject(*output, "sale_order_no", no);
		cJSON_AddNumberToObject(*output, "balance_receipt_amount",
					ac_num(o, "balance_receipt_amount", 0));
	}
	amis_reply_free(c, &r);
	return st;
}

/* ---- C4: accounting's answer to an invoice request ------------------------- */

enum luong_status crm_answer_invoice_request(struct luong_call *call,
					     void *state, const cJSON *input,
					     cJSON **output)
{
	struct amis_client *c = state;
	const char *no = ac_str(input, "invoice_request_no");
	const char *status = ac_str(input, "status");
	const char *why = ac_str(input, "refuse_reason");
	cJSON *req = NULL, *patch, *list;
	struct amis_reply r = { 0 };
	enum luong_status st;

	if (!no || !status) {
		c->k.h->call->set_error(call, "input.invoice_request_no and "
					      "input.status are required");
		return LUONG_E_INVAL;
	}
	st = find_code(c, call, "InvoiceRequests", no, &req);
	if (st != LUONG_OK)
		return st;
	if (!req) {
		c->k.h->call->set_error(call, "CRM has no invoice request %s",
					no);
		return LUONG_E_NOTFOUND;
	}
	patch = cJSON_CreateObject();
	cJSON_AddNumberToObject(patch, "id", ac_num(req, "id", 0));
	cJSON_AddStringToObject(patch, "status", status);
	if (why && *why)
		cJSON_AddStringToObject(patch, "refuse_reason", why);
	cJSON_Delete(req);
	list = cJSON_CreateArray();
	cJSON_AddItemToArray(list, patch);
	st = amis_call(c, call, "PUT", "/InvoiceRequests", list, &r);
	cJSON_Delete(list);
	if (st == LUONG_OK) {
		*output = cJSON_CreateObject();
		cJSON_AddStringToObject(*output, "invoice_request_no", no);
		cJSON_AddStringToObject(*output, "status", status);
	}
	amis_reply_free(c, &r);
	return st;
}

/* ---- C5: stock per warehouse -------------------------------------------------- */

enum luong_status crm_set_stock(struct luong_call *call, void *state,
				const cJSON *input, cJSON **output)
{
	struct amis_client *c = state;
	const cJSON *rows = cJSON_GetObjectItemCaseSensitive(input, "rows");
	const cJSON *row;
	enum luong_status st = LUONG_OK;
	cJSON *batch = cJSON_CreateArray();
	int n = 0, sent = 0;

	if (!cJSON_IsArray(rows)) {
		cJSON_Delete(batch);
		c->k.h->call->set_error(call, "input.rows (a list) is "
					      "required");
		return LUONG_E_INVAL;
	}
	/* 100 rows a call, as every list of the API */
	cJSON_ArrayForEach (row, rows) {
		cJSON_AddItemToArray(batch, cJSON_Duplicate(row, 1));
		if (++n == 100 || !row->next) {
			struct amis_reply r = { 0 };

			st = amis_call(c, call, "POST",
				       "/Stocks/product_ledger", batch, &r);
			amis_reply_free(c, &r);
			cJSON_Delete(batch);
			batch = cJSON_CreateArray();
			if (st != LUONG_OK)
				break;
			sent += n;
			n = 0;
		}
	}
	cJSON_Delete(batch);
	if (st == LUONG_OK) {
		*output = cJSON_CreateObject();
		cJSON_AddNumberToObject(*output, "rows", sent);
	}
	return st;
}

/* ---- declarations (SDK 1.2) --------------------------------------------------- */

const struct luong_field_def crm_customer_inputs[] = {
	{ "customer", LUONG_FIELD_OBJECT, LUONG_FIELD_REQUIRED,
	  "CRM's fields: account_number (the code), account_name, tax_code, "
	  "billing_address, office_tel, office_email, ..." },
	{ "group", LUONG_FIELD_ANY, 0,
	  "{code, name} of its customer group, made in CRM when missing "
	  "(C1), or null" },
	{ 0 }
};

const struct luong_field_def crm_product_inputs[] = {
	{ "product", LUONG_FIELD_OBJECT, LUONG_FIELD_REQUIRED,
	  "CRM's fields: product_code (the code), product_name, usage_unit, "
	  "unit_price, purchased_price, tax, ..." },
	{ "group", LUONG_FIELD_ANY, 0,
	  "{code, name} of its product group, made in CRM when missing, or "
	  "null" },
	{ 0 }
};

const struct luong_field_def crm_group_inputs[] = {
	{ "code", LUONG_FIELD_STRING, LUONG_FIELD_REQUIRED,
	  "the group's code" },
	{ "name", LUONG_FIELD_STRING, LUONG_FIELD_REQUIRED, "its name" },
	{ 0 }
};

const struct luong_field_def crm_saved_outputs[] = {
	{ "id", LUONG_FIELD_ANY, 0, "CRM's id" },
	{ "code", LUONG_FIELD_STRING, 0, "the record's code" },
	{ "group_made", LUONG_FIELD_BOOL, 0,
	  "the record's group was made with it" },
	{ 0 }
};

const struct luong_field_def crm_order_accounting_inputs[] = {
	{ "order_no", LUONG_FIELD_STRING, LUONG_FIELD_REQUIRED,
	  "the CRM order" },
	{ "status", LUONG_FIELD_ANY, 0, "Tình trạng đơn hàng" },
	{ "revenue_status", LUONG_FIELD_ANY, 0, "Tình trạng ghi doanh số" },
	{ "delivery_status", LUONG_FIELD_ANY, 0, "Tình trạng giao hàng" },
	{ "pay_status", LUONG_FIELD_ANY, 0, "Tình trạng thanh toán" },
	{ "invoice_status", LUONG_FIELD_ANY, 0, "Trạng thái xuất hóa đơn" },
	{ "invoiced_amount", LUONG_FIELD_ANY, 0, "Giá trị đã xuất hóa đơn" },
	{ "receipts", LUONG_FIELD_ANY, 0,
	  "Thực thu: [{voucher_no, voucher_date, amount}]; CRM computes the "
	  "remaining receivable from them" },
	{ "lines", LUONG_FIELD_ANY, 0,
	  "[{product_code, delivered}]: Số lượng giao per line" },
	{ 0 }
};

const struct luong_field_def crm_invoice_answer_inputs[] = {
	{ "invoice_request_no", LUONG_FIELD_STRING, LUONG_FIELD_REQUIRED, "" },
	{ "status", LUONG_FIELD_STRING, LUONG_FIELD_REQUIRED,
	  "Đã duyệt or Từ chối" },
	{ "refuse_reason", LUONG_FIELD_ANY, 0, "required with Từ chối" },
	{ 0 }
};

const struct luong_field_def crm_stock_inputs[] = { { "rows", LUONG_FIELD_ARRAY,
						      LUONG_FIELD_REQUIRED,
						      "[{product_code, "
						      "stock_code, quantity}] "
						      "in the main unit" },
						    { 0 } };

/* ---- the connect sequence: whole lists, and what matched ------------------- */

/* A record named by code in res, from the cache object or CRM (owned). */
static cJSON *cached(struct amis_client *c, struct luong_call *call,
		     cJSON *cache, const char *res, const char *code)
{
	cJSON *rec = NULL;
	const cJSON *hit;
	char key[300];

	if (!code || !*code)
		return cJSON_CreateNull();
	snprintf(key, sizeof(key), "%s/%s", res, code);
	if ((hit = cJSON_GetObjectItemCaseSensitive(cache, key)))
		return cJSON_Duplicate(hit, 1);
	if (find_code(c, call, res, code, &rec) != LUONG_OK || !rec)
		rec = cJSON_CreateNull();
	cJSON_AddItemToObject(cache, key, cJSON_Duplicate(rec, 1));
	return rec;
}

enum luong_status crm_list_records(struct luong_call *call, void *state,
				   const cJSON *input, cJSON **output)
{
	struct amis_client *c = state;
	const char *res = ac_str(input, "resource"), *as = ac_str(input, "as");
	cJSON *rows = cJSON_CreateArray(), *cache = cJSON_CreateObject();
	enum luong_status st = LUONG_OK;
	char path[256];

	if (!res || !*res || strchr(res, '/') || strchr(res, '?')) {
		cJSON_Delete(rows);
		cJSON_Delete(cache);
		c->k.h->call->set_error(call, "input.resource (e.g. Customers) "
					      "is required");
		return LUONG_E_INVAL;
	}
	for (int page = 1; page < 100000; page++) {
		struct amis_reply r = { 0 };
		int n;

		/* oldest first, by id: pages stay put while CRM is edited */
		snprintf(path, sizeof(path),
			 "/%s?page=%d&pageSize=100&orderBy=id&isDescending="
			 "false",
			 res, page);
		st = amis_call(c, call, "GET", path, NULL, &r);
		if (st != LUONG_OK) {
			amis_reply_free(c, &r);
			break;
		}
		n = cJSON_GetArraySize(r.data);
		while (r.data && r.data->child) {
			cJSON *row = cJSON_DetachItemViaPointer((cJSON *)r.data,
								r.data->child);

			if (as) {
				cJSON *w = cJSON_CreateObject();

				cJSON_AddItemToObject(
					w, "customer",
					cached(c, call, cache, "Customers",
					       ac_str(row, "account_number")));
				if (ac_str(row, "sale_order_no"))
					cJSON_AddItemToObject(
						w, "sale_order",
						cached(c, call, cache,
						       "SaleOrders",
						       ac_str(row, "sale_order_"
								   "no")));
				cJSON_AddItemToObject(w, as, row);
				row = w;
			}
			cJSON_AddItemToArray(rows, row);
		}
		amis_reply_free(c, &r);
		if (n < 100)
			break;
	}
	cJSON_Delete(cache);
	if (st != LUONG_OK) {
		cJSON_Delete(rows);
		return st;
	}
	*output = cJSON_CreateObject();
	cJSON_AddNumberToObject(*output, "count", cJSON_GetArraySize(rows));
	cJSON_AddItemToObject(*output, "rows", rows);
	return LUONG_OK;
}

enum luong_status crm_mark_crossed_action(struct luong_call *call, void *state,
					  const cJSON *input, cJSON **output)
{
	struct amis_client *c = state;
	const cJSON *code;
	int n = 0;

	(void)call;
	cJSON_ArrayForEach (code, cJSON_GetObjectItemCaseSensitive(input, "cod"
									  "es"))
		if (cJSON_IsString(code)) {
			crm_mark_crossed(c, code->valuestring);
			n++;
		}
	*output = cJSON_CreateObject();
	cJSON_AddNumberToObject(*output, "marked", n);
	return LUONG_OK;
}

const struct luong_field_def crm_list_inputs[] = {
	{ "resource", LUONG_FIELD_STRING, LUONG_FIELD_REQUIRED,
	  "Customers, Product, ProductGroups, CustomerGroups, Employees, "
	  "RevenueRequests, InvoiceRequests, Quotes, ..." },
	{ "as", LUONG_FIELD_STRING, 0,
	  "rows become {<as>: row, customer, sale_order}, the shape of the "
	  "document events (revenue_request, invoice_request, quote)" },
	{ 0 }
};

const struct luong_field_def crm_list_outputs[] = {
	{ "rows", LUONG_FIELD_ARRAY, 0, "every record, oldest first" },
	{ "count", LUONG_FIELD_INTEGER, 0, "" },
	{ 0 }
};

const struct luong_field_def crm_codes_inputs[] = {
	{ "codes", LUONG_FIELD_ARRAY, LUONG_FIELD_REQUIRED,
	  "customer codes already the same in accounting" },
	{ 0 }
};

/* ---- C6: customer debt per branch -------------------------------------------- */

/*
 * CRM keeps one receivable per branch on the customer (designed field
 * debt_by_branch: [{branch_code, branch_name, amount}]) and their sum in
 * its own `debt`.
 */
enum luong_status crm_set_customer_debt(struct luong_call *call, void *state,
					const cJSON *input, cJSON **output)
{
	struct amis_client *c = state;
	const char *code = ac_str(input, "account_number");
	const char *branch = ac_str(input, "branch_code");
	cJSON *cust = NULL, *patch, *list, *by, *e;
	struct amis_reply r = { 0 };
	enum luong_status st;
	double sum = 0;

	if (!code || !branch) {
		c->k.h->call->set_error(call, "input.account_number and "
					      "input.branch_code are required");
		return LUONG_E_INVAL;
	}
	st = find_code(c, call, "Customers", code, &cust);
	if (st != LUONG_OK)
		return st;
	if (!cust) {
		c->k.h->call->set_error(call, "CRM has no customer %s", code);
		return LUONG_E_NOTFOUND;
	}
	by = cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(cust, "debt_by_"
								  "branch"))
		     ? cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(cust,
									"debt_"
									"by_"
									"branc"
									"h"),
				       1)
		     : cJSON_CreateArray();
	for (int i = cJSON_GetArraySize(by) - 1; i >= 0; i--) {
		const char *b = ac_str(cJSON_GetArrayItem(by, i), "branch_"
								  "code");

		if (b && !strcmp(b, branch))
			cJSON_DeleteItemFromArray(by, i);
	}
	e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "branch_code", branch);
	cJSON_AddStringToObject(e, "branch_name",
				ac_str(input, "branch_name")
					? ac_str(input, "branch_name")
					: branch);
	cJSON_AddNumberToObject(e, "amount", ac_num(input, "amount", 0));
	cJSON_AddItemToArray(by, e);
	cJSON_ArrayForEach (e, by)
		sum += ac_num(e, "amount", 0);
	patch = cJSON_CreateObject();
	cJSON_AddNumberToObject(patch, "id", ac_num(cust, "id", 0));
	cJSON_AddItemToObject(patch, "debt_by_branch", by);
	cJSON_AddNumberToObject(patch, "debt", sum);
	cJSON_Delete(cust);
	list = cJSON_CreateArray();
	cJSON_AddItemToArray(list, patch);
	st = amis_call(c, call, "PUT", "/Customers", list, &r);
	cJSON_Delete(list);
	amis_reply_free(c, &r);
	if (st == LUONG_OK) {
		*output = cJSON_CreateObject();
		cJSON_AddStringToObject(*output, "account_number", code);
		cJSON_AddNumberToObject(*output, "debt", sum);
	}
	return st;
}

const struct luong_field_def crm_debt_inputs[] = {
	{ "account_number", LUONG_FIELD_STRING, LUONG_FIELD_REQUIRED,
	  "the customer" },
	{ "branch_code", LUONG_FIELD_STRING, LUONG_FIELD_REQUIRED,
	  "the branch (chi nhánh)" },
	{ "branch_name", LUONG_FIELD_ANY, 0, "" },
	{ "amount", LUONG_FIELD_NUMBER, 0, "receivable at that branch" },
	{ 0 }
};

/* ---- C8: price policies ---------------------------------------------------- */

enum luong_status crm_save_price_policy(struct luong_call *call, void *state,
					const cJSON *input, cJSON **output)
{
	struct amis_client *c = state;
	const cJSON *pol = cJSON_GetObjectItemCaseSensitive(input, "policy");
	cJSON *stored = NULL;
	enum luong_status st;

	if (!cJSON_IsObject(pol)) {
		c->k.h->call->set_error(call, "input.policy (an object) is "
					      "required");
		return LUONG_E_INVAL;
	}
	st = save(c, call, "PricePolicies", "price_policy_code",
		  cJSON_Duplicate(pol, 1), &stored);
	if (st == LUONG_OK)
		*output = saved_output(stored, "price_policy_code", false);
	cJSON_Delete(stored);
	return st;
}

const struct luong_field_def crm_policy_inputs[] = {
	{ "policy", LUONG_FIELD_OBJECT, LUONG_FIELD_REQUIRED,
	  "CRM's fields: price_policy_code, price_policy_name, from_date, "
	  "to_date, customer_group, items[{product_code, unit, price}]" },
	{ 0 }
};

/*
 * crm_checks.c - the AMIS CRM emulator's record checks: what POST, PUT, a
 * seed row and an act's record must hold (references, display-value
 * statuses, dates, document lines and their B10 totals), the merge of a
 * document's lines on PUT, and the resource table naming them. See
 * sandbox/docs/crm.md.
 */
#include <stdio.h>
#include <string.h>

#include "crm_int.h"

/* ---------------------------------------------------------------- checks */

static const char *const order_status[] = { "Chưa thực hiện",  "Đang thực hiện",
					    "Đã thực hiện",    "Đã hủy bỏ",
					    "Đã giao đủ hàng", NULL };
static const char *const delivery_status[] = { "Chưa giao hàng",
					       "Đang giao hàng", "Đã giao hàng",
					       NULL };
static const char *const pay_status[] = { "Chưa thanh toán", "Đã thanh toán",
					  "Đã thanh toán một phần", NULL };
/* designed */
static const char *const revenue_status[] = { "Chưa ghi doanh số",
					      "Đã đề nghị ghi doanh số",
					      "Đã ghi doanh số", NULL };
static const char *const invoice_status[] = { "Chưa xuất hóa đơn",
					      "Đã xuất hóa đơn một phần",
					      "Đã xuất hóa đơn", NULL };
static const char *const invreq_status[] = { "Chờ duyệt", "Đã duyệt", "Từ chối",
					     NULL };

static int opt_bool(const cJSON *rec, const char *key, char *err, size_t n)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, key);
	if (v && !cJSON_IsNull(v) && !cJSON_IsBool(v)) {
		snprintf(err, n, "%s must be true or false", key);
		return -1;
	}
	return 0;
}

static int opt_status(cJSON *rec, const char *key, const char *const *list,
		      char *err, size_t n)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, key);
	if (!v || cJSON_IsNull(v)) {
		amis_set_str(rec, key, list[0]);
		return 0;
	}
	if (!amis_in_list(cJSON_IsString(v) ? v->valuestring : NULL, list)) {
		snprintf(err, n,
			 "%s must be one of the display values (e.g. '%s')",
			 key, list[0]);
		return -1;
	}
	return 0;
}

static bool valid_tax_code(const char *s)
{
	/* 10 digits, or 10 digits "-" 3 digits for a dependent unit */
	size_t len = strlen(s);
	if (len != 10 && len != 14)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (i == 10) {
			if (s[i] != '-')
				return false;
		} else if (s[i] < '0' || s[i] > '9') {
			return false;
		}
	}
	return true;
}

/* C1 (designed): a customer's or product's group must exist; its name
 * is filled in from the group. */
static int group_ref(void *ctx, int table, cJSON *rec, const char *key,
		     char *err, size_t n)
{
	struct crm *c = ctx;
	const char *code = sbx_jstr(rec, key);
	const char *name_key = table == T_CUSTGROUPS ? "customer_group_name"
						     : "product_group_name";
	const cJSON *g;

	if (!code || !*code)
		return 0;
	g = amis_find_code(tab(c, table), code);
	if (!g) {
		snprintf(err, n, "%s '%s' is not a group", key, code);
		return -1;
	}
	amis_set_str(rec, name_key, sbx_jstr(g, name_key));
	return 0;
}

static int check_group(void *ctx, struct amis_table *t, cJSON *rec,
		       const cJSON *old, char *err, size_t n)
{
	return amis_need_str(rec,
			     !strcmp(t->res->name, "CustomerGroups") ? "custome"
								       "r_"
								       "group_"
								       "name"
								     : "product"
								       "_group_"
								       "name",
			     err, n);
}

static int check_customer(void *ctx, struct amis_table *t, cJSON *rec,
			  const cJSON *old, char *err, size_t n)
{
	if (amis_need_str(rec, "account_name", err, n) < 0)
		return -1;
	const char *tax = sbx_jstr(rec, "tax_code");
	if (tax && *tax && !valid_tax_code(tax)) {
		snprintf(err, n,
			 "tax_code '%s' must be 10 digits or 10-3 digits", tax);
		return -1;
	}
	const char *mail = sbx_jstr(rec, "office_email");
	if (mail && *mail && !strchr(mail, '@')) {
		snprintf(err, n, "office_email '%s' is not an email address",
			 mail);
		return -1;
	}
	if (group_ref(ctx, T_CUSTGROUPS, rec, "customer_group_code", err, n) <
	    0)
		return -1;
	if (amis_opt_num(rec, "debt", -1e15, err, n) < 0 ||
	    amis_opt_num(rec, "debt_limit", 0, err, n) < 0 ||
	    amis_opt_num(rec, "number_of_days_owed", 0, err, n) < 0 ||
	    opt_bool(rec, "is_personal", err, n) < 0 ||
	    opt_bool(rec, "is_distributor", err, n) < 0 ||
	    opt_bool(rec, "inactive", err, n) < 0)
		return -1;
	return 0;
}

static int check_contact(void *ctx, struct amis_table *t, cJSON *rec,
			 const cJSON *old, char *err, size_t n)
{
	struct crm *c = ctx;
	if (amis_need_str(rec, "contact_name", err, n) < 0)
		return -1;
	const char *acc = sbx_jstr(rec, "account_number");
	if (acc && *acc && !amis_find_code(tab(c, T_CUSTOMERS), acc)) {
		snprintf(err, n, "account_number '%s' is not a customer", acc);
		return -1;
	}
	return 0;
}

static int check_product(void *ctx, struct amis_table *t, cJSON *rec,
			 const cJSON *old, char *err, size_t n)
{
	struct crm *c = ctx;
	if (amis_need_str(rec, "product_name", err, n) < 0 ||
	    amis_need_str(rec, "usage_unit", err, n) < 0)
		return -1;
	if (group_ref(c, T_PRODGROUPS, rec, "product_group_code", err, n) < 0)
		return -1;
	if (amis_opt_num(rec, "unit_price", 0, err, n) < 0 ||
	    amis_opt_num(rec, "purchased_price", 0, err, n) < 0 ||
	    opt_bool(rec, "inactive", err, n) < 0)
		return -1;
	const cJSON *tax = cJSON_GetObjectItemCaseSensitive(rec, "tax");
	if (tax && !cJSON_IsNull(tax) &&
	    (!cJSON_IsNumber(tax) || !amis_valid_vat(tax->valuedouble))) {
		snprintf(err, n,
			 "tax must be a vat rate in percent: 0, 5, 8 or 10");
		return -1;
	}
	const char *stock = sbx_jstr(rec, "default_stock");
	if (stock && *stock && !amis_find_code(tab(c, T_STOCKS), stock)) {
		snprintf(err, n, "default_stock '%s' is not a stock code",
			 stock);
		return -1;
	}
	double price = sbx_jnum(rec, "unit_price", 0),
	       rate = sbx_jnum(rec, "tax", 0);
	amis_set_num(rec, "price_after_tax",
		     amis_round(price * (100 + rate) / 100));
	return 0;
}

static int check_stock(void *ctx, struct amis_table *t, cJSON *rec,
		       const cJSON *old, char *err, size_t n)
{
	return amis_need_str(rec, "stock_name", err, n);
}

static int check_employee(void *ctx, struct amis_table *t, cJSON *rec,
			  const cJSON *old, char *err, size_t n)
{
	return amis_need_str(rec, "employee_name", err, n);
}

/* Lines of orders, quotes and invoice requests: checks references and
 * computes per line total = amount × price, discount, tax (B10). */
static int check_lines(struct crm *c, cJSON *rec, const char *key,
		       bool allow_empty, double *sum_total, double *sum_disc,
		       double *sum_tax, char *err, size_t n)
{
	cJSON *lines = cJSON_GetObjectItemCaseSensitive(rec, key);
	*sum_total = *sum_disc = *sum_tax = 0;
	if (!lines || cJSON_IsNull(lines)) {
		amis_set(rec, key, cJSON_CreateArray());
		lines = cJSON_GetObjectItemCaseSensitive(rec, key);
	}
	if (!cJSON_IsArray(lines)) {
		snprintf(err, n, "%s must be an array", key);
		return -1;
	}
	if (cJSON_GetArraySize(lines) == 0 && !allow_empty) {
		snprintf(err, n, "%s must have at least one line", key);
		return -1;
	}
	int i = 0;
	cJSON *l;
	cJSON_ArrayForEach (l, lines) {
		char sub[AMIS_ERR_MAX / 2];
		if (!cJSON_IsObject(l)) {
			snprintf(err, n, "%s[%d] must be an object", key, i);
			return -1;
		}
		const char *code = sbx_jstr(l, "product_code");
		const cJSON *prod = amis_find_code(tab(c, T_PRODUCT), code);
		if (!prod) {
			snprintf(err, n,
				 "%s[%d]: product_code '%s' is not a product",
				 key, i, code ? code : "");
			return -1;
		}
		const cJSON *qty = cJSON_GetObjectItemCaseSensitive(l, "amoun"
								       "t");
		if (!cJSON_IsNumber(qty) || qty->valuedouble <= 0) {
			snprintf(err, n,
				 "%s[%d]: amount (quantity) must be a number > "
				 "0",
				 key, i);
			return -1;
		}
		if (amis_opt_num(l, "price", 0, sub, sizeof sub) < 0 ||
		    amis_opt_num(l, "discount_percent", 0, sub, sizeof sub) <
			    0 ||
		    amis_opt_num(l, "discount", 0, sub, sizeof sub) < 0 ||
		    amis_opt_num(l, "delivered_amount", 0, sub, sizeof sub) <
			    0 ||
		    opt_bool(l, "is_promotion", sub, sizeof sub) < 0) {
			snprintf(err, n, "%s[%d]: %s", key, i, sub);
			return -1;
		}
		if (!sbx_jstr(l, "product_name"))
			amis_set_str(l, "product_name",
				     sbx_jstr(prod, "product_name"));
		if (!sbx_jstr(l, "unit"))
			amis_set_str(l, "unit", sbx_jstr(prod, "usage_unit"));
		if (!cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(l, "pric"
									"e")))
			amis_set_num(l, "price",
				     sbx_jnum(prod, "unit_price", 0));
		const cJSON *tp = cJSON_GetObjectItemCaseSensitive(l, "tax_"
								      "percen"
								      "t");
		if (!tp || cJSON_IsNull(tp))
			amis_set_num(l, "tax_percent",
				     sbx_jnum(prod, "tax", 0));
		else if (!cJSON_IsNumber(tp) ||
			 !amis_valid_vat(tp->valuedouble)) {
			snprintf(err, n,
				 "%s[%d]: tax_percent must be 0, 5, 8 or 10",
				 key, i);
			return -1;
		}
		double pct = sbx_jnum(l, "discount_percent", 0);
		if (pct > 100) {
			snprintf(err, n,
				 "%s[%d]: discount_percent must be <= 100", key,
				 i);
			return -1;
		}
		const char *stock = sbx_jstr(l, "stock_code");
		if (stock && *stock) {
			const cJSON *st =
				amis_find_code(tab(c, T_STOCKS), stock);
			if (!st) {
				snprintf(err, n,
					 "%s[%d]: stock_code '%s' is not a "
					 "stock",
					 key, i, stock);
				return -1;
			}
			amis_set_str(l, "stock_name",
				     sbx_jstr(st, "stock_name"));
		}
		double q = qty->valuedouble, price = sbx_jnum(l, "price", 0);
		double delivered = sbx_jnum(l, "delivered_amount", 0);
		if (delivered > q) {
			snprintf(err, n,
				 "%s[%d]: delivered_amount %g exceeds amount "
				 "%g",
				 key, i, delivered, q);
			return -1;
		}
		double total = amis_round(q * price);
		double disc = pct > 0 ? amis_round(total * pct / 100)
				      : sbx_jnum(l, "discount", 0);
		if (disc > total) {
			snprintf(err, n,
				 "%s[%d]: discount exceeds the line amount",
				 key, i);
			return -1;
		}
		double tax = amis_round((total - disc) *
					sbx_jnum(l, "tax_percent", 0) / 100);
		amis_set_num(l, "total", total);
		amis_set_num(l, "discount", disc);
		amis_set_num(l, "tax", tax);
		if (!cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(l, "id")))
			amis_set_num(l, "id", (double)++c->plat.line_seq);
		else if (amis_id(l) >
			 c->plat.line_seq) /* seeded ids stay unique */
			c->plat.line_seq = amis_id(l);
		*sum_total += total;
		*sum_disc += disc;
		*sum_tax += tax;
		i++;
	}
	return 0;
}

static int check_customer_ref(struct crm *c, cJSON *rec, char *err, size_t n)
{
	const char *acc = sbx_jstr(rec, "account_number");
	const cJSON *cust = amis_find_code(tab(c, T_CUSTOMERS), acc);
	if (!cust) {
		snprintf(err, n, "account_number '%s' is not a customer",
			 acc ? acc : "");
		return -1;
	}
	amis_set_str(rec, "account_name", sbx_jstr(cust, "account_name"));
	return 0;
}

/* Thực xuất entries and receipts written back by the host (designed). */
static int check_entries(cJSON *rec, const char *key, const char *const *need,
			 char *err, size_t n)
{
	cJSON *arr = cJSON_GetObjectItemCaseSensitive(rec, key);
	if (!arr || cJSON_IsNull(arr)) {
		amis_set(rec, key, cJSON_CreateArray());
		return 0;
	}
	if (!cJSON_IsArray(arr)) {
		snprintf(err, n, "%s must be an array", key);
		return -1;
	}
	int i = 0;
	const cJSON *e;
	cJSON_ArrayForEach (e, arr) {
		for (const char *const *k = need; *k; k++) {
			const cJSON *v =
				cJSON_GetObjectItemCaseSensitive(e, *k);
			if (!v || cJSON_IsNull(v) ||
			    (cJSON_IsString(v) && !*v->valuestring)) {
				snprintf(err, n, "%s[%d]: %s is required", key,
					 i, *k);
				return -1;
			}
		}
		i++;
	}
	return 0;
}

static int check_order(void *ctx, struct amis_table *t, cJSON *rec,
		       const cJSON *old, char *err, size_t n)
{
	struct crm *c = ctx;
	if (check_customer_ref(c, rec, err, n) < 0 ||
	    amis_check_date(rec, "sale_order_date", true, err, n) < 0 ||
	    amis_check_date(rec, "due_date", false, err, n) < 0)
		return -1;
	if (opt_status(rec, "status", order_status, err, n) < 0 ||
	    opt_status(rec, "delivery_status", delivery_status, err, n) < 0 ||
	    opt_status(rec, "pay_status", pay_status, err, n) < 0 ||
	    opt_status(rec, "revenue_status", revenue_status, err, n) < 0 ||
	    opt_status(rec, "invoice_status", invoice_status, err, n) < 0)
		return -1;
	if (opt_bool(rec, "is_parent", err, n) < 0 ||
	    amis_opt_num(rec, "invoiced_amount", 0, err, n) < 0 ||
	    amis_opt_num(rec, "total_receipted_amount", 0, err, n) < 0)
		return -1;
	if (!cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(rec, "is_parent")))
		amis_set(rec, "is_parent", cJSON_CreateFalse());
	const char *parent = sbx_jstr(rec, "parent_sale_order_no");
	if (parent && *parent) {
		const cJSON *p = amis_find_code(t, parent);
		if (!p || !sbx_jbool(p, "is_parent", false)) {
			snprintf(err, n,
				 "parent_sale_order_no '%s' is not a parent "
				 "order",
				 parent);
			return -1;
		}
		if (sbx_jbool(rec, "is_parent", false)) {
			snprintf(err, n,
				 "a parent order cannot itself have a parent");
			return -1;
		}
	}
	if (!sbx_jstr(rec, "currency_type"))
		amis_set_str(rec, "currency_type", "VND");
	double total, disc, tax;
	if (check_lines(c, rec, "sale_order_product_mappings",
			sbx_jbool(rec, "is_parent", false), &total, &disc, &tax,
			err, n) < 0)
		return -1;
	static const char *const issue_need[] = { "issue_note_no",
						  "product_code", "quantity",
						  NULL };
	static const char *const receipt_need[] = { "voucher_no", "amount",
						    NULL };
	if (check_entries(rec, "actual_issues", issue_need, err, n) < 0 ||
	    check_entries(rec, "receipts", receipt_need, err, n) < 0)
		return -1;
	double amount = total - disc + tax;
	amis_set_num(rec, "total_summary", total);
	amis_set_num(rec, "discount_summary", disc);
	amis_set_num(rec, "tax_summary", tax);
	amis_set_num(rec, "sale_order_amount", amount);
	/* Receipts written back decide the collected amount when present. */
	const cJSON *rc = cJSON_GetObjectItemCaseSensitive(rec, "receipts");
	double got = sbx_jnum(rec, "total_receipted_amount", 0);
	if (cJSON_GetArraySize(rc) > 0) {
		got = 0;
		const cJSON *e;
		cJSON_ArrayForEach (e, rc)
			got += sbx_jnum(e, "amount", 0);
	}
	amis_set_num(rec, "total_receipted_amount", got);
	amis_set_num(rec, "balance_receipt_amount", amount - got);
	if (!cJSON_GetObjectItemCaseSensitive(rec, "revenue_request_id"))
		amis_set(rec, "revenue_request_id", cJSON_CreateNull());
	if (!cJSON_GetObjectItemCaseSensitive(rec, "recall_refused_reason"))
		amis_set(rec, "recall_refused_reason", cJSON_CreateNull());
	return 0;
}

/* Non-empty lines under key and the four totals of a document without
 * receipts (invoice request, quote). */
static int check_lines_totals(struct crm *c, cJSON *rec, const char *key,
			      char *err, size_t n)
{
	double total, disc, tax;
	if (check_lines(c, rec, key, false, &total, &disc, &tax, err, n) < 0)
		return -1;
	amis_set_num(rec, "total_summary", total);
	amis_set_num(rec, "discount_summary", disc);
	amis_set_num(rec, "tax_summary", tax);
	amis_set_num(rec, "total_amount", total - disc + tax);
	return 0;
}

static int check_invreq(void *ctx, struct amis_table *t, cJSON *rec,
			const cJSON *old, char *err, size_t n)
{
	struct crm *c = ctx;
	if (check_customer_ref(c, rec, err, n) < 0 ||
	    amis_check_date(rec, "request_date", true, err, n) < 0 ||
	    opt_status(rec, "status", invreq_status, err, n) < 0)
		return -1;
	const char *so = sbx_jstr(rec, "sale_order_no");
	if (so && *so && !amis_find_code(tab(c, T_SALEORDERS), so)) {
		snprintf(err, n, "sale_order_no '%s' is not a sale order", so);
		return -1;
	}
	if (strcmp(sbx_jstr(rec, "status"), "Từ chối") == 0 &&
	    amis_need_str(rec, "refuse_reason", err, n) < 0)
		return -1;
	return check_lines_totals(c, rec, "invoice_request_product_mappings",
				  err, n);
}

static int check_quote(void *ctx, struct amis_table *t, cJSON *rec,
		       const cJSON *old, char *err, size_t n)
{
	struct crm *c = ctx;
	if (check_customer_ref(c, rec, err, n) < 0 ||
	    amis_check_date(rec, "quote_date", true, err, n) < 0 ||
	    amis_check_date(rec, "expired_date", false, err, n) < 0)
		return -1;
	return check_lines_totals(c, rec, "quote_product_mappings", err, n);
}

static int check_pricepol(void *ctx, struct amis_table *t, cJSON *rec,
			  const cJSON *old, char *err, size_t n)
{
	struct crm *c = ctx;
	if (amis_need_str(rec, "price_policy_name", err, n) < 0 ||
	    amis_check_date(rec, "from_date", false, err, n) < 0 ||
	    amis_check_date(rec, "to_date", false, err, n) < 0)
		return -1;
	const cJSON *items = cJSON_GetObjectItemCaseSensitive(rec, "items");
	if (!cJSON_IsArray(items)) {
		snprintf(err, n, "items must be an array");
		return -1;
	}
	int i = 0;
	const cJSON *it;
	cJSON_ArrayForEach (it, items) {
		const char *code = sbx_jstr(it, "product_code");
		if (!amis_find_code(tab(c, T_PRODUCT), code)) {
			snprintf(err, n,
				 "items[%d]: product_code '%s' is not a "
				 "product",
				 i, code ? code : "");
			return -1;
		}
		if (!cJSON_IsNumber(
			    cJSON_GetObjectItemCaseSensitive(it, "price")) ||
		    sbx_jnum(it, "price", -1) < 0) {
			snprintf(err, n,
				 "items[%d]: price must be a number >= 0", i);
			return -1;
		}
		i++;
	}
	return 0;
}

/* PUT on a document's lines: a line with an id is patched, one without is
 * added, lines not mentioned stay. */
static int merge_lines(void *ctx, struct amis_table *t, cJSON *rec,
		       const char *key, const cJSON *val, char *err, size_t n)
{
	if (strcmp(key, "sale_order_product_mappings") != 0 &&
	    strcmp(key, "invoice_request_product_mappings") != 0 &&
	    strcmp(key, "quote_product_mappings") != 0)
		return 1;
	if (!cJSON_IsArray(val)) {
		snprintf(err, n, "%s must be an array", key);
		return -1;
	}
	cJSON *lines = cJSON_GetObjectItemCaseSensitive(rec, key);
	if (!cJSON_IsArray(lines)) {
		amis_set(rec, key, cJSON_CreateArray());
		lines = cJSON_GetObjectItemCaseSensitive(rec, key);
	}
	const cJSON *pl;
	cJSON_ArrayForEach (pl, val) {
		if (!cJSON_IsObject(pl)) {
			snprintf(err, n, "%s lines must be objects", key);
			return -1;
		}
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(pl, "id");
		if (!id) {
			cJSON_AddItemToArray(lines, cJSON_Duplicate(pl, true));
			continue;
		}
		cJSON *line = NULL, *l;
		cJSON_ArrayForEach (l, lines)
			if (cJSON_IsNumber(id) &&
			    amis_id(l) == (long)id->valuedouble)
				line = l;
		if (!line) {
			snprintf(err, n, "%s: no line with id %ld", key,
				 cJSON_IsNumber(id) ? (long)id->valuedouble
						    : 0L);
			return -1;
		}
		const cJSON *kv;
		cJSON_ArrayForEach (kv, pl)
			if (strcmp(kv->string, "id") != 0)
				amis_set(line, kv->string,
					 cJSON_Duplicate(kv, true));
	}
	return 0;
}

const char *const crm_order_readonly[] = {
	"revenue_request_id", "recall_refused_reason",	"recall_refused_at",
	"sale_order_amount",  "balance_receipt_amount", NULL
};
static const char *const doc_filters[] = { "accountNumber", "account_number",
					   NULL };
static const char *const order_filters[] = { "accountNumber", "account_number",
					     "revenueStatus", "revenue_status",
					     NULL };
static const char *const rr_filters[] = { "saleOrderID", "sale_order_id",
					  NULL };

const struct amis_res crm_res[T_COUNT] = {
	[T_CUSTOMERS] = { .name = "Customers",
			  .code_field = "account_number",
			  .check = check_customer,
			  .event_key = "customer" },
	[T_CONTACTS] = { .name = "Contacts",
			 .code_field = "contact_code",
			 .code_prefix = "LH",
			 .check = check_contact,
			 .filters = doc_filters },
	[T_PRODUCT] = { .name = "Product",
			.code_field = "product_code",
			.check = check_product,
			.event_key = "product" },
	[T_STOCKS] = { .name = "Stocks",
		       .code_field = "stock_code",
		       .check = check_stock },
	[T_SALEORDERS] = { .name = "SaleOrders",
			   .code_field = "sale_order_no",
			   .code_prefix = "DH",
			   .check = check_order,
			   .merge = merge_lines,
			   .readonly = crm_order_readonly,
			   .filters = order_filters },
	[T_REVENUE] = { .name = "RevenueRequests",
			.code_field = "revenue_request_no",
			.code_prefix = "DNGDS",
			.flags = AMIS_RES_READONLY,
			.filters = rr_filters },
	[T_INVREQ] = { .name = "InvoiceRequests",
		       .code_field = "invoice_request_no",
		       .code_prefix = "DNXHD",
		       .check = check_invreq,
		       .merge = merge_lines,
		       .filters = doc_filters },
	[T_QUOTES] = { .name = "Quotes",
		       .code_field = "quote_no",
		       .code_prefix = "BG",
		       .check = check_quote,
		       .merge = merge_lines,
		       .filters = doc_filters },
	[T_PRICEPOL] = { .name = "PricePolicies",
			 .code_field = "price_policy_code",
			 .check = check_pricepol },
	[T_EMPLOYEES] = { .name = "Employees",
			  .code_field = "employee_code",
			  .flags = AMIS_RES_READONLY,
			  .check = check_employee },
	[T_CUSTGROUPS] = { .name = "CustomerGroups",
			   .code_field = "customer_group_code",
			   .check = check_group,
			   .event_key = "customer_group" },
	[T_PRODGROUPS] = { .name = "ProductGroups",
			   .code_field = "product_group_code",
			   .check = check_group,
			   .event_key = "product_group" },
};

/*
 * crm.c - AMIS CRM (AMIS Bán hàng) public API v2 emulator.
 *
 * Faithful to apis.md §2 for auth, envelope, errors, paging, lookups, the
 * Product / Customers / Contacts / SaleOrders / Stocks resources and
 * Stocks/product_ledger. Revenue requests, invoice requests, quotes, price
 * policies, the write-back fields of W2/C3 and the webhook events are
 * designed (sandbox/docs/crm.md says which is which).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crm_platform.h"

#define CRM_BASE "/crm/gc/api/public/api/v2"

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

enum {
	T_CUSTOMERS,
	T_CONTACTS,
	T_PRODUCT,
	T_STOCKS,
	T_SALEORDERS,
	T_REVENUE,
	T_INVREQ,
	T_QUOTES,
	T_PRICEPOL,
	T_EMPLOYEES,
	T_CUSTGROUPS,
	T_PRODGROUPS,
	T_COUNT
};

struct crm {
	struct amis_plat plat;
	struct amis_table tables[T_COUNT];
	cJSON *ledger; /* [{product_code, stock_code, quantity}] */
	unsigned gen;  /* identifies this state across an unlocked ask */
};

static unsigned crm_generation;

static struct amis_table *tab(struct crm *c, int i)
{
	return &c->tables[i];
}

/* ---------------------------------------------------------------- checks */

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

static const char *const order_readonly[] = {
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

static const struct amis_res crm_res[T_COUNT] = {
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
			   .readonly = order_readonly,
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

/* ---------------------------------------------------------------- acts */

static cJSON *customer_of(struct crm *c, const cJSON *doc)
{
	const cJSON *cust =
		amis_find_code(tab(c, T_CUSTOMERS), sbx_jstr(doc, "account_"
								  "number"));
	return cust ? cJSON_Duplicate(cust, true) : cJSON_CreateNull();
}

/* Creates through the same checks as POST; the body is one record. */
static cJSON *act_create(struct crm *c, struct sbx_req *req, int table,
			 const char *const *deny)
{
	char err[AMIS_ERR_MAX];
	if (!cJSON_IsObject(req->json)) {
		amis_act_err(req, 400, "body must be a json object");
		return NULL;
	}
	cJSON *rec = cJSON_Duplicate(req->json, true);
	for (const char *const *k = deny; k && *k; k++)
		cJSON_DeleteItemFromObjectCaseSensitive(rec, *k);
	cJSON_DeleteItemFromObjectCaseSensitive(rec, "id");
	cJSON *stored =
		amis_create(&c->plat, tab(c, table), rec, err, sizeof err);
	if (!stored)
		amis_act_err(req, 400, "%s", err);
	return stored;
}

static void act_reply_event(struct sbx_req *req, const char *key,
			    const cJSON *rec, const char *event_id)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, key, cJSON_Duplicate(rec, true));
	if (event_id)
		cJSON_AddStringToObject(o, "event_id", event_id);
	amis_act_ok(req, o);
}

/* create_* acts: the record as POST makes it, then "<key>.created" with
 * the record (and its customer when with_customer). */
static void act_create_emit(struct sbx_emu *emu, struct sbx_req *req, int table,
			    const char *const *deny, const char *key,
			    bool with_customer)
{
	struct crm *c = emu->data;
	char event[64];
	cJSON *o = act_create(c, req, table, deny);
	if (!o)
		return;
	cJSON *data = cJSON_CreateObject();
	cJSON_AddItemToObject(data, key, cJSON_Duplicate(o, true));
	if (with_customer)
		cJSON_AddItemToObject(data, "customer", customer_of(c, o));
	snprintf(event, sizeof event, "%s.created", key);
	act_reply_event(req, key, o, amis_emit(&c->plat, emu, event, data));
}

static void act_create_order(struct sbx_emu *emu, struct sbx_req *req)
{
	act_create_emit(emu, req, T_SALEORDERS, order_readonly, "sale_order",
			true);
}

static void act_create_customer(struct sbx_emu *emu, struct sbx_req *req)
{
	act_create_emit(emu, req, T_CUSTOMERS, NULL, "customer", false);
}

/* edit_* acts: {id | <code field>, ...changes}. */
static void act_edit(struct sbx_emu *emu, struct sbx_req *req, int table,
		     const char *key, const char *event)
{
	struct crm *c = emu->data;
	struct amis_table *t = tab(c, table);
	char err[AMIS_ERR_MAX];
	cJSON *rec = amis_act_target(t, req->json, "id", t->res->code_field);
	if (!rec) {
		amis_act_err(req, 404, "no such %s", key);
		return;
	}
	cJSON *patch = cJSON_Duplicate(req->json, true);
	cJSON_DeleteItemFromObjectCaseSensitive(patch, "id");
	cJSON_DeleteItemFromObjectCaseSensitive(patch, t->res->code_field);
	cJSON *changed = cJSON_CreateArray();
	const cJSON *kv;
	cJSON_ArrayForEach (kv, patch)
		cJSON_AddItemToArray(changed, cJSON_CreateString(kv->string));
	cJSON *upd =
		amis_update(&c->plat, t, amis_id(rec), patch, err, sizeof err);
	cJSON_Delete(patch);
	if (!upd) {
		cJSON_Delete(changed);
		amis_act_err(req, 400, "%s", err);
		return;
	}
	cJSON *data = cJSON_CreateObject();
	cJSON_AddItemToObject(data, key, cJSON_Duplicate(upd, true));
	cJSON_AddItemToObject(data, "changed_fields", changed);
	act_reply_event(req, key, upd, amis_emit(&c->plat, emu, event, data));
}

static void act_edit_customer(struct sbx_emu *emu, struct sbx_req *req)
{
	act_edit(emu, req, T_CUSTOMERS, "customer", "customer.updated");
}

static void act_create_product(struct sbx_emu *emu, struct sbx_req *req)
{
	act_create_emit(emu, req, T_PRODUCT, NULL, "product", false);
}

static void act_edit_product(struct sbx_emu *emu, struct sbx_req *req)
{
	act_edit(emu, req, T_PRODUCT, "product", "product.updated");
}

static void act_create_customer_group(struct sbx_emu *emu, struct sbx_req *req)
{
	act_create_emit(emu, req, T_CUSTGROUPS, NULL, "customer_group", false);
}

static void act_edit_customer_group(struct sbx_emu *emu, struct sbx_req *req)
{
	act_edit(emu, req, T_CUSTGROUPS, "customer_group",
		 "customer_group.updated");
}

static void act_create_product_group(struct sbx_emu *emu, struct sbx_req *req)
{
	act_create_emit(emu, req, T_PRODGROUPS, NULL, "product_group", false);
}

static void act_edit_product_group(struct sbx_emu *emu, struct sbx_req *req)
{
	act_edit(emu, req, T_PRODGROUPS, "product_group",
		 "product_group.updated");
}

static void act_create_quote(struct sbx_emu *emu, struct sbx_req *req)
{
	act_create_emit(emu, req, T_QUOTES, NULL, "quote", true);
}

/* An invoice request made from an order takes its lines when none are given. */
static void act_create_invoice_request(struct sbx_emu *emu, struct sbx_req *req)
{
	struct crm *c = emu->data;
	if (!cJSON_IsObject(req->json)) {
		amis_act_err(req, 400, "body must be a json object");
		return;
	}
	const char *so_no = sbx_jstr(req->json, "sale_order_no");
	const cJSON *so =
		so_no ? amis_find_code(tab(c, T_SALEORDERS), so_no) : NULL;
	if (so && !cJSON_GetObjectItemCaseSensitive(req->json, "invoice_"
							       "request_"
							       "product_"
							       "mappings")) {
		cJSON *lines = cJSON_CreateArray();
		const cJSON *l;
		cJSON_ArrayForEach (
			l, cJSON_GetObjectItemCaseSensitive(so, "sale_order_"
								"product_"
								"mappings")) {
			cJSON *x = cJSON_CreateObject();
			static const char *const keep[] = { "product_code",
							    "amount",
							    "unit",
							    "price",
							    "discount_percent",
							    "discount",
							    "tax_percent",
							    NULL };
			for (const char *const *k = keep; *k; k++) {
				const cJSON *v =
					cJSON_GetObjectItemCaseSensitive(l, *k);
				if (v)
					cJSON_AddItemToObject(
						x, *k,
						cJSON_Duplicate(v, true));
			}
			cJSON_AddItemToArray(lines, x);
		}
		cJSON_AddItemToObject(
			req->json, "invoice_request_product_mappings", lines);
		if (!sbx_jstr(req->json, "account_number"))
			cJSON_AddStringToObject(req->json, "account_number",
						sbx_jstr(so, "account_number"));
	}
	static const char *const deny[] = { "status", "refuse_reason", NULL };
	cJSON *o = act_create(c, req, T_INVREQ, deny);
	if (!o)
		return;
	cJSON *data = cJSON_CreateObject();
	cJSON_AddItemToObject(data, "invoice_request",
			      cJSON_Duplicate(o, true));
	cJSON_AddItemToObject(data, "customer", customer_of(c, o));
	act_reply_event(req, "invoice_request", o,
			amis_emit(&c->plat, emu, "invoice_request.created",
				  data));
}

static cJSON *order_target(struct crm *c, const cJSON *body)
{
	return amis_act_target(tab(c, T_SALEORDERS), body, "sale_order_id",
			       "sale_order_no");
}

static void act_save_revenue_request(struct sbx_emu *emu, struct sbx_req *req)
{
	struct crm *c = emu->data;
	char err[AMIS_ERR_MAX];
	cJSON *so = order_target(c, req->json);
	if (!so) {
		amis_act_err(req, 404,
			     "no such sale order (give sale_order_id or "
			     "sale_order_no)");
		return;
	}
	if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(so, "revenue_"
								"request_"
								"id"))) {
		amis_act_err(req, 400, "đơn hàng %s đã có đề nghị ghi doanh số",
			     sbx_jstr(so, "sale_order_no"));
		return;
	}
	if (strcmp(sbx_jstr(so, "status"), "Đã hủy bỏ") == 0) {
		amis_act_err(req, 400, "đơn hàng %s đã hủy bỏ",
			     sbx_jstr(so, "sale_order_no"));
		return;
	}
	char today[16];
	amis_today(today, sizeof today);
	const char *date = sbx_jstr(req->json, "request_date");
	cJSON *rr = cJSON_CreateObject();
	cJSON_AddNumberToObject(rr, "sale_order_id", (double)amis_id(so));
	cJSON_AddStringToObject(rr, "sale_order_no",
				sbx_jstr(so, "sale_order_no"));
	cJSON_AddStringToObject(rr, "account_number",
				sbx_jstr(so, "account_number"));
	cJSON_AddStringToObject(rr, "account_name",
				sbx_jstr(so, "account_name"));
	cJSON_AddBoolToObject(rr, "is_parent",
			      sbx_jbool(so, "is_parent", false));
	cJSON_AddNumberToObject(rr, "amount",
				sbx_jnum(so, "sale_order_amount", 0));
	cJSON_AddStringToObject(rr, "request_date", date ? date : today);
	cJSON_AddStringToObject(rr, "status", "Đã đề nghị ghi doanh số");
	const char *who = sbx_jstr(req->json, "requested_by");
	cJSON_AddStringToObject(rr, "requested_by", who ? who : "");
	const char *note = sbx_jstr(req->json, "note");
	cJSON_AddStringToObject(rr, "note", note ? note : "");
	cJSON *stored =
		amis_create(&c->plat, tab(c, T_REVENUE), rr, err, sizeof err);
	if (!stored) {
		amis_act_err(req, 400, "%s", err);
		return;
	}
	amis_set_num(so, "revenue_request_id", (double)amis_id(stored));
	amis_set_str(so, "revenue_status", "Đã đề nghị ghi doanh số");
	amis_set(so, "recall_refused_reason", cJSON_CreateNull());
	amis_touch(so, false);
	cJSON *data = cJSON_CreateObject();
	cJSON_AddItemToObject(data, "revenue_request",
			      cJSON_Duplicate(stored, true));
	cJSON_AddItemToObject(data, "sale_order", cJSON_Duplicate(so, true));
	cJSON_AddItemToObject(data, "customer", customer_of(c, so));
	const char *eid =
		amis_emit(&c->plat, emu, "revenue_request.saved", data);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "revenue_request",
			      cJSON_Duplicate(stored, true));
	cJSON_AddItemToObject(o, "sale_order", cJSON_Duplicate(so, true));
	if (eid)
		cJSON_AddStringToObject(o, "event_id", eid);
	amis_act_ok(req, o);
}

/* Reads the guard's answer: allowed, or a refusal reason in reason. */
static bool ask_allows(int rc, long status, const char *answer, char *reason,
		       size_t n)
{
	if (rc < 0) {
		snprintf(reason, n,
			 "không liên lạc được với hệ thống tích hợp, chưa thể "
			 "thu hồi "
			 "(host unreachable)");
		return false;
	}
	cJSON *j = answer && *answer ? cJSON_Parse(answer) : NULL;
	const char *why = sbx_jstr(j, "reason");
	bool allow = false;
	if (status < 200 || status > 299) {
		snprintf(reason, n, "%s",
			 why && *why ? why
				     : "hệ thống tích hợp từ chối thu hồi");
		if (!why || !*why)
			snprintf(reason, n,
				 "hệ thống tích hợp trả lời HTTP %ld, chưa thể "
				 "thu hồi",
				 status);
	} else if (!answer || !*answer) {
		allow = true; /* a bare 2xx is an ok */
	} else if (!cJSON_IsObject(j)) {
		snprintf(reason, n,
			 "câu trả lời của hệ thống tích hợp không hợp lệ, chưa "
			 "thể thu hồi");
	} else {
		const char *d = sbx_jstr(j, "decision");
		const cJSON *al = cJSON_GetObjectItemCaseSensitive(j, "allow");
		const cJSON *ok = cJSON_GetObjectItemCaseSensitive(j, "ok");
		if (d)
			allow = strcmp(d, "allow") == 0 || strcmp(d, "ok") == 0;
		else if (cJSON_IsBool(al))
			allow = cJSON_IsTrue(al);
		else if (cJSON_IsBool(ok))
			allow = cJSON_IsTrue(ok);
		else
			allow = !why; /* {} is an ok, {reason} alone a refusal */
		if (!allow)
			snprintf(reason, n, "%s",
				 why && *why ? why
					     : "hệ thống tích hợp từ chối thu "
					       "hồi");
	}
	cJSON_Delete(j);
	return allow;
}

static void act_recall_revenue_request(struct sbx_emu *emu, struct sbx_req *req)
{
	struct crm *c = emu->data;
	cJSON *so = order_target(c, req->json);
	if (!so) {
		amis_act_err(req, 404,
			     "no such sale order (give sale_order_id or "
			     "sale_order_no)");
		return;
	}
	const cJSON *rrid = cJSON_GetObjectItemCaseSensitive(so, "revenue_"
								 "request_id");
	cJSON *rr = cJSON_IsNumber(rrid) ? amis_find_id(tab(c, T_REVENUE),
							(long)rrid->valuedouble)
					 : NULL;
	if (!rr) {
		amis_act_err(req, 400,
			     "đơn hàng %s chưa có đề nghị ghi doanh số",
			     sbx_jstr(so, "sale_order_no"));
		return;
	}
	if (sbx_jbool(so, "recall_pending", false)) {
		amis_act_err(req, 409, "đơn hàng %s đang được thu hồi",
			     sbx_jstr(so, "sale_order_no"));
		return;
	}
	long so_id = amis_id(so), rr_id = amis_id(rr);
	unsigned gen = c->gen;
	long timeout = (long)sbx_jnum(req->json, "timeout_ms", 5000);
	cJSON *data = cJSON_CreateObject();
	cJSON_AddItemToObject(data, "revenue_request",
			      cJSON_Duplicate(rr, true));
	cJSON_AddItemToObject(data, "sale_order", cJSON_Duplicate(so, true));
	const char *why_recall = sbx_jstr(req->json, "reason");
	cJSON_AddStringToObject(data, "reason", why_recall ? why_recall : "");
	char *body, *headers[6], eid[48];
	if (amis_event_build(&c->plat, emu, "revenue_request.recalling", data,
			     &body, headers, eid) < 0) {
		amis_act_err(req, 500, "cannot build the ask");
		return;
	}
	const char *url = sbx_webhook_url(emu);
	char *url_copy = url ? strdup(url) : NULL;
	amis_set(so, "recall_pending", cJSON_CreateTrue());

	/* Ask the host's guard with the lock released: it may call back. */
	long status = 0;
	char *answer = NULL;
	int rc = -1;
	sbx_emu_unlock(emu);
	if (url_copy)
		rc = sbx_ask(url_copy, (const char *const *)headers, body,
			     strlen(body), timeout, &status, &answer);
	sbx_emu_lock(emu);
	amis_event_free(body, headers);
	bool have_url = url_copy != NULL;
	free(url_copy);

	c = emu->data;
	if (!c || c->gen != gen ||
	    !(so = amis_find_id(tab(c, T_SALEORDERS), so_id))) {
		free(answer);
		amis_act_err(req, 409,
			     "the sandbox was reset during the recall");
		return;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(so, "recall_pending");
	char reason[AMIS_ERR_MAX];
	bool allow = have_url &&
		     ask_allows(rc, status, answer, reason, sizeof reason);
	if (!have_url)
		snprintf(reason, sizeof reason,
			 "chưa cấu hình hệ thống tích hợp (no webhook url), "
			 "chưa thể thu hồi");
	free(answer);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "ask_event_id", eid);
	cJSON_AddNumberToObject(o, "ask_status", (double)status);
	if (!allow) {
		/* The order stays as it was; only the refusal is recorded on it. */
		char ts[40];
		amis_now_iso(ts, sizeof ts);
		amis_set_str(so, "recall_refused_reason", reason);
		amis_set_str(so, "recall_refused_at", ts);
		cJSON_AddBoolToObject(o, "recalled", false);
		cJSON_AddStringToObject(o, "reason", reason);
		cJSON_AddItemToObject(o, "sale_order",
				      cJSON_Duplicate(so, true));
		amis_act_ok(req, o);
		return;
	}
	cJSON *gone = amis_find_id(tab(c, T_REVENUE), rr_id);
	cJSON *gone_copy =
		gone ? cJSON_Duplicate(gone, true) : cJSON_CreateNull();
	amis_remove(tab(c, T_REVENUE), rr_id);
	amis_set(so, "revenue_request_id", cJSON_CreateNull());
	amis_set_str(so, "revenue_status", "Chưa ghi doanh số");
	amis_set(so, "recall_refused_reason", cJSON_CreateNull());
	cJSON_DeleteItemFromObjectCaseSensitive(so, "recall_refused_at");
	amis_touch(so, false);
	cJSON *ev = cJSON_CreateObject();
	cJSON_AddItemToObject(ev, "revenue_request", gone_copy);
	cJSON_AddItemToObject(ev, "sale_order", cJSON_Duplicate(so, true));
	const char *done_id =
		amis_emit(&c->plat, emu, "revenue_request.recalled", ev);
	cJSON_AddBoolToObject(o, "recalled", true);
	cJSON_AddItemToObject(o, "sale_order", cJSON_Duplicate(so, true));
	if (done_id)
		cJSON_AddStringToObject(o, "event_id", done_id);
	amis_act_ok(req, o);
}

static void act_resend_event(struct sbx_emu *emu, struct sbx_req *req)
{
	struct crm *c = emu->data;
	amis_act_resend(&c->plat, emu, req);
}

static const struct sbx_route crm_routes[] = {
	{ "*", CRM_BASE "/*", crm_api },
	{ NULL, NULL, NULL },
};

static const struct sbx_act crm_acts[] = {
	{ "create_order", act_create_order },
	{ "save_revenue_request", act_save_revenue_request },
	{ "recall_revenue_request", act_recall_revenue_request },
	{ "create_customer", act_create_customer },
	{ "edit_customer", act_edit_customer },
	{ "create_product", act_create_product },
	{ "edit_product", act_edit_product },
	{ "create_invoice_request", act_create_invoice_request },
	{ "create_quote", act_create_quote },
	{ "create_customer_group", act_create_customer_group },
	{ "edit_customer_group", act_edit_customer_group },
	{ "create_product_group", act_create_product_group },
	{ "edit_product_group", act_edit_product_group },
	{ "resend_event", act_resend_event },
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

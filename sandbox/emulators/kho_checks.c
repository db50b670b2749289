/*
 * kho_checks.c - the AMIS Kho emulator's documents as the API sees them:
 * the status lists, the checks of stocks, items, sales orders, issue
 * orders and issue notes (lines and totals), what the API may change or
 * delete, and the resource table. See sandbox/docs/kho.md.
 */
#include <stdio.h>
#include <string.h>

#include "kho_int.h"

const char *const kho_exec_status[] = { "Chưa thực hiện", "Đang thực hiện",
					"Đã thực hiện",	  "Tạm dừng",
					"Đã hủy bỏ",	  NULL };
static const char *const io_status[] = { "Chưa xuất kho", "Đang xuất kho",
					 "Đã xuất kho", NULL };

/* Issue note types: code, display name. */
const char *const kho_note_types[][2] = {
	{ "sales_issue", "Xuất kho bán hàng" },
	{ "other_issue", "Xuất khác" },
	{ "transfer", "Xuất kho điều chuyển" },
	{ "production", "Xuất kho sản xuất" },
	{ "purchase_return", "Xuất trả lại hàng mua" },
	{ NULL, NULL },
};

/* Accounting sync status of a note: code, display name. */
static const char *const acc_status[][2] = {
	{ "not_synced", "Chưa đồng bộ" },
	{ "synced", "Đã đồng bộ" },
	{ "failed", "Đồng bộ lỗi" },
	/* MISA made the voucher but could not post it (SPEC B5) */
	{ "post_failed", "Ghi sổ không thành công" },
	{ NULL, NULL },
};

/* ---------------------------------------------------------------- checks */

static int check_stock_ref(struct kho *k, cJSON *rec, const char *key,
			   bool required, char *err, size_t n)
{
	const char *s = sbx_jstr(rec, key);
	if (!s || !*s) {
		if (required) {
			snprintf(err, n, "%s is required", key);
			return -1;
		}
		return 0;
	}
	if (!amis_find_code(tab(k, T_STOCKS), s)) {
		snprintf(err, n, "%s '%s' is not a warehouse", key, s);
		return -1;
	}
	return 0;
}

static int check_stock(void *ctx, struct amis_table *t, cJSON *rec,
		       const cJSON *old, char *err, size_t n)
{
	return amis_need_str(rec, "stock_name", err, n);
}

static int check_item(void *ctx, struct amis_table *t, cJSON *rec,
		      const cJSON *old, char *err, size_t n)
{
	if (amis_need_str(rec, "item_name", err, n) < 0 ||
	    amis_need_str(rec, "unit", err, n) < 0 ||
	    amis_opt_num(rec, "unit_price", 0, err, n) < 0)
		return -1;
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, "vat_percent");
	if (v && !cJSON_IsNull(v) &&
	    (!cJSON_IsNumber(v) || !amis_valid_vat(v->valuedouble))) {
		snprintf(err, n, "vat_percent must be 0, 5, 8 or 10");
		return -1;
	}
	return 0;
}

static bool has_downstream_notes(struct kho *k, const char *field, long id)
{
	const cJSON *r;
	cJSON_ArrayForEach (r, tab(k, T_ISSUENOTES)->rows)
		if ((long)sbx_jnum(r, field, 0) == id)
			return true;
	return false;
}

static int check_order(void *ctx, struct amis_table *t, cJSON *rec,
		       const cJSON *old, char *err, size_t n)
{
	struct kho *k = ctx;
	if (amis_need_str(rec, "account_number", err, n) < 0 ||
	    amis_need_str(rec, "account_name", err, n) < 0 ||
	    amis_check_date(rec, "sale_order_date", true, err, n) < 0 ||
	    amis_check_date(rec, "delivery_date", false, err, n) < 0 ||
	    check_stock_ref(k, rec, "stock_code", false, err, n) < 0)
		return -1;
	const cJSON *es = cJSON_GetObjectItemCaseSensitive(rec, "execution_"
								"status");
	if (!es || cJSON_IsNull(es))
		amis_set_str(rec, "execution_status", kho_exec_status[0]);
	else if (!amis_in_list(cJSON_IsString(es) ? es->valuestring : NULL,
			       kho_exec_status)) {
		snprintf(err, n,
			 "execution_status must be a display value such as "
			 "'Chưa thực hiện'");
		return -1;
	}
	cJSON *lines = cJSON_GetObjectItemCaseSensitive(rec, "details");
	if (!cJSON_IsArray(lines) || cJSON_GetArraySize(lines) == 0) {
		snprintf(err, n, "details must be a non-empty array");
		return -1;
	}
	if (old && has_downstream_notes(k, "sale_order_id", amis_id(old)) &&
	    !cJSON_Compare(lines,
			   cJSON_GetObjectItemCaseSensitive(old, "details"),
			   true)) {
		snprintf(err, n,
			 "details cannot change once issue notes exist");
		return -1;
	}
	const char *def_stock = sbx_jstr(rec, "stock_code");
	double sum = 0, sdisc = 0, svat = 0;
	int i = 0;
	cJSON *l;
	cJSON_ArrayForEach (l, lines) {
		char sub[AMIS_ERR_MAX / 2];
		if (!cJSON_IsObject(l)) {
			snprintf(err, n, "details[%d] must be an object", i);
			return -1;
		}
		const char *code = sbx_jstr(l, "item_code");
		const cJSON *item = amis_find_code(tab(k, T_ITEMS), code);
		if (!item) {
			snprintf(err, n,
				 "details[%d]: item_code '%s' is not an item",
				 i, code ? code : "");
			return -1;
		}
		const cJSON *q = cJSON_GetObjectItemCaseSensitive(l, "quantit"
								     "y");
		if (!cJSON_IsNumber(q) || q->valuedouble <= 0) {
			snprintf(err, n,
				 "details[%d]: quantity must be a number > 0",
				 i);
			return -1;
		}
		if (amis_opt_num(l, "unit_price", 0, sub, sizeof sub) < 0 ||
		    amis_opt_num(l, "discount_percent", 0, sub, sizeof sub) <
			    0 ||
		    amis_opt_num(l, "discount_amount", 0, sub, sizeof sub) <
			    0) {
			snprintf(err, n, "details[%d]: %s", i, sub);
			return -1;
		}
		if (!sbx_jstr(l, "item_name"))
			amis_set_str(l, "item_name",
				     sbx_jstr(item, "item_name"));
		if (!sbx_jstr(l, "unit"))
			amis_set_str(l, "unit", sbx_jstr(item, "unit"));
		if (!cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(l, "unit_"
									"pric"
									"e")))
			amis_set_num(l, "unit_price",
				     sbx_jnum(item, "unit_price", 0));
		const cJSON *vp = cJSON_GetObjectItemCaseSensitive(l, "vat_"
								      "percen"
								      "t");
		if (!vp || cJSON_IsNull(vp))
			amis_set_num(l, "vat_percent",
				     sbx_jnum(item, "vat_percent", 0));
		else if (!cJSON_IsNumber(vp) ||
			 !amis_valid_vat(vp->valuedouble)) {
			snprintf(err, n,
				 "details[%d]: vat_percent must be 0, 5, 8 or "
				 "10",
				 i);
			return -1;
		}
		const char *ls = sbx_jstr(l, "stock_code");
		if (!ls || !*ls) {
			if (!def_stock || !*def_stock) {
				snprintf(err, n,
					 "details[%d]: stock_code is required "
					 "(or give one on the order)",
					 i);
				return -1;
			}
			amis_set_str(l, "stock_code", def_stock);
		} else if (!amis_find_code(tab(k, T_STOCKS), ls)) {
			snprintf(err, n,
				 "details[%d]: stock_code '%s' is not a "
				 "warehouse",
				 i, ls);
			return -1;
		}
		double qty = q->valuedouble,
		       price = sbx_jnum(l, "unit_price", 0);
		double pct = sbx_jnum(l, "discount_percent", 0);
		if (pct > 100) {
			snprintf(err, n,
				 "details[%d]: discount_percent must be <= 100",
				 i);
			return -1;
		}
		double amount = amis_round(qty * price);
		double disc = pct > 0 ? amis_round(amount * pct / 100)
				      : sbx_jnum(l, "discount_amount", 0);
		if (disc > amount) {
			snprintf(err, n,
				 "details[%d]: discount exceeds the line "
				 "amount",
				 i);
			return -1;
		}
		double vat = amis_round((amount - disc) *
					sbx_jnum(l, "vat_percent", 0) / 100);
		amis_set_num(l, "amount", amount);
		amis_set_num(l, "discount_amount", disc);
		amis_set_num(l, "vat_amount", vat);
		if (!cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(l, "issued"
									"_quant"
									"ity")))
			amis_set_num(l, "issued_quantity", 0);
		if (!cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(l, "id")))
			amis_set_num(l, "id", (double)++k->plat.line_seq);
		else if (amis_id(l) >
			 k->plat.line_seq) /* seeded ids stay unique */
			k->plat.line_seq = amis_id(l);
		sum += amount;
		sdisc += disc;
		svat += vat;
		i++;
	}
	amis_set_num(rec, "total_amount", sum);
	amis_set_num(rec, "total_discount_amount", sdisc);
	amis_set_num(rec, "total_vat_amount", svat);
	amis_set_num(rec, "total_payment_amount", sum - sdisc + svat);
	return 0;
}

/* [{sale_order_detail_id, quantity}] of what is still to issue on an order's
 * details (lines fully issued left out). */
cJSON *kho_remaining_lines(const cJSON *details)
{
	cJSON *out = cJSON_CreateArray();
	const cJSON *l;
	cJSON_ArrayForEach (l, details) {
		double left = sbx_jnum(l, "quantity", 0) -
			      sbx_jnum(l, "issued_quantity", 0);
		if (left <= 0)
			continue;
		cJSON *x = cJSON_CreateObject();
		cJSON_AddNumberToObject(x, "sale_order_detail_id",
					(double)amis_id(l));
		cJSON_AddNumberToObject(x, "quantity", left);
		cJSON_AddItemToArray(out, x);
	}
	return out;
}

static int check_issue_order(void *ctx, struct amis_table *t, cJSON *rec,
			     const cJSON *old, char *err, size_t n)
{
	struct kho *k = ctx;
	const cJSON *sid = cJSON_GetObjectItemCaseSensitive(rec, "sale_order_"
								 "id");
	const cJSON *so = cJSON_IsNumber(sid)
				  ? amis_find_id(tab(k, T_SALEORDERS),
						 (long)sid->valuedouble)
				  : NULL;
	if (!so) {
		snprintf(err, n,
			 "sale_order_id must name a warehouse sales order");
		return -1;
	}
	amis_set_str(rec, "sale_order_no", sbx_jstr(so, "sale_order_no"));
	amis_set_str(rec, "account_number", sbx_jstr(so, "account_number"));
	amis_set_str(rec, "account_name", sbx_jstr(so, "account_name"));
	if (!sbx_jstr(rec, "stock_code") && sbx_jstr(so, "stock_code"))
		amis_set_str(rec, "stock_code", sbx_jstr(so, "stock_code"));
	if (check_stock_ref(k, rec, "stock_code", false, err, n) < 0 ||
	    amis_check_date(rec, "issue_order_date", true, err, n) < 0)
		return -1;
	cJSON *lines = cJSON_GetObjectItemCaseSensitive(rec, "details");
	if (!lines || cJSON_IsNull(lines)) {
		/* By default the order's remaining quantities. */
		lines = kho_remaining_lines(
			cJSON_GetObjectItemCaseSensitive(so, "details"));
		amis_set(rec, "details", lines);
	}
	if (!cJSON_IsArray(lines) || cJSON_GetArraySize(lines) == 0) {
		snprintf(err, n,
			 "details must be a non-empty array (nothing left to "
			 "issue?)");
		return -1;
	}
	int i = 0;
	cJSON *l;
	cJSON_ArrayForEach (l, lines) {
		const cJSON *did = cJSON_GetObjectItemCaseSensitive(l, "sale_"
								       "order_"
								       "detail_"
								       "id");
		const cJSON *src = NULL, *x;
		cJSON_ArrayForEach (x,
				    cJSON_GetObjectItemCaseSensitive(so, "detai"
									 "ls"))
			if (cJSON_IsNumber(did) &&
			    amis_id(x) == (long)did->valuedouble)
				src = x;
		if (!src) {
			snprintf(err, n,
				 "details[%d]: sale_order_detail_id is not a "
				 "line of the order",
				 i);
			return -1;
		}
		double q = sbx_jnum(l, "quantity", -1);
		if (q <= 0 || q > sbx_jnum(src, "quantity", 0)) {
			snprintf(err, n,
				 "details[%d]: quantity must be > 0 and <= the "
				 "order line's",
				 i);
			return -1;
		}
		amis_set_str(l, "item_code", sbx_jstr(src, "item_code"));
		amis_set_str(l, "item_name", sbx_jstr(src, "item_name"));
		amis_set_str(l, "unit", sbx_jstr(src, "unit"));
		if (!cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(l, "issued"
									"_quant"
									"ity")))
			amis_set_num(l, "issued_quantity", 0);
		if (!cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(l, "id")))
			amis_set_num(l, "id", (double)++k->plat.line_seq);
		else if (amis_id(l) >
			 k->plat.line_seq) /* seeded ids stay unique */
			k->plat.line_seq = amis_id(l);
		i++;
	}
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(rec, "status");
	if (!st || cJSON_IsNull(st))
		amis_set_str(rec, "status", io_status[0]);
	else if (!amis_in_list(cJSON_IsString(st) ? st->valuestring : NULL,
			       io_status)) {
		snprintf(err, n,
			 "status must be a display value such as 'Chưa xuất "
			 "kho'");
		return -1;
	}
	return 0;
}

/* Notes are written by the warehouse (acts); the API may only set the
 * accounting sync fields, whose code and display name are kept in step. */
static int check_note(void *ctx, struct amis_table *t, cJSON *rec,
		      const cJSON *old, char *err, size_t n)
{
	struct kho *k = ctx;
	const char *type = pair_code(kho_note_types, sbx_jstr(rec, "issue_note_"
								   "type"));
	if (!type) {
		snprintf(err, n,
			 "issue_note_type must be one of sales_issue, "
			 "other_issue, transfer, "
			 "production, purchase_return");
		return -1;
	}
	amis_set_str(rec, "issue_note_type", type);
	amis_set_str(rec, "issue_note_type_name",
		     pair_name(kho_note_types, type));
	if (check_stock_ref(k, rec, "stock_code", true, err, n) < 0 ||
	    amis_check_date(rec, "issue_date", true, err, n) < 0)
		return -1;
	if (strcmp(type, "transfer") == 0) {
		if (check_stock_ref(k, rec, "to_stock_code", true, err, n) < 0)
			return -1;
		if (strcmp(sbx_jstr(rec, "to_stock_code"),
			   sbx_jstr(rec, "stock_code")) == 0) {
			snprintf(err, n,
				 "to_stock_code must differ from stock_code");
			return -1;
		}
	}
	const char *as = sbx_jstr(rec, "accounting_status");
	const char *code = as ? pair_code(acc_status, as) : "not_synced";
	if (!code) {
		snprintf(err, n,
			 "accounting_status must be one of not_synced, synced, "
			 "failed, "
			 "post_failed (or 'Chưa đồng bộ', 'Đã đồng bộ', 'Đồng "
			 "bộ lỗi', "
			 "'Ghi sổ không thành công')");
		return -1;
	}
	amis_set_str(rec, "accounting_status", pair_name(acc_status, code));
	amis_set_str(rec, "accounting_status_code", code);
	const char *aerr = sbx_jstr(rec, "accounting_error");
	bool has_error = !strcmp(code, "failed") || !strcmp(code, "post_"
								  "failed");
	if (has_error && (!aerr || !*aerr)) {
		snprintf(err, n,
			 "accounting_error is required when accounting_status "
			 "is %s",
			 code);
		return -1;
	}
	if (!has_error && old)
		amis_set(rec, "accounting_error", cJSON_CreateNull());
	if (!cJSON_GetObjectItemCaseSensitive(rec, "accounting_voucher_ref"))
		amis_set(rec, "accounting_voucher_ref", cJSON_CreateNull());
	if (!cJSON_GetObjectItemCaseSensitive(rec, "accounting_error"))
		amis_set(rec, "accounting_error", cJSON_CreateNull());
	const char *prev = old ? sbx_jstr(old, "accounting_status_code") : NULL;
	if (strcmp(code, "synced") == 0 &&
	    (!prev || strcmp(prev, "synced") != 0)) {
		char ts[40];
		amis_now_iso(ts, sizeof ts);
		amis_set_str(rec, "accounting_synced_at", ts);
	} else if (!cJSON_GetObjectItemCaseSensitive(rec, "accounting_synced_"
							  "at")) {
		amis_set(rec, "accounting_synced_at", cJSON_CreateNull());
	}
	return 0;
}

/* PUT /IssueNotes accepts only the accounting fields. */
static int merge_note(void *ctx, struct amis_table *t, cJSON *rec,
		      const char *key, const cJSON *val, char *err, size_t n)
{
	static const char *const ok[] = { "accounting_status",
					  "accounting_voucher_ref",
					  "accounting_error", NULL };
	if (!amis_in_list(key, ok)) {
		snprintf(err, n,
			 "%s cannot be changed through the api (only "
			 "accounting_status, "
			 "accounting_voucher_ref, accounting_error)",
			 key);
		return -1;
	}
	return 1;
}

static int can_delete_order(void *ctx, struct amis_table *t, const cJSON *rec,
			    char *err, size_t n)
{
	struct kho *k = ctx;
	long id = amis_id(rec);
	const cJSON *r;
	cJSON_ArrayForEach (r, tab(k, T_ISSUENOTES)->rows) {
		if ((long)sbx_jnum(r, "sale_order_id", 0) == id) {
			snprintf(err, n,
				 "Không thể xóa đơn đặt hàng %s vì đã có phiếu "
				 "xuất kho %s",
				 sbx_jstr(rec, "sale_order_no"),
				 sbx_jstr(r, "issue_note_no"));
			return -1;
		}
	}
	cJSON_ArrayForEach (r, tab(k, T_ISSUEORDERS)->rows) {
		if ((long)sbx_jnum(r, "sale_order_id", 0) == id) {
			snprintf(err, n,
				 "Không thể xóa đơn đặt hàng %s vì đã có lệnh "
				 "xuất kho %s; "
				 "hãy xóa lệnh xuất kho trước",
				 sbx_jstr(rec, "sale_order_no"),
				 sbx_jstr(r, "issue_order_no"));
			return -1;
		}
	}
	return 0;
}

static int can_delete_issue_order(void *ctx, struct amis_table *t,
				  const cJSON *rec, char *err, size_t n)
{
	struct kho *k = ctx;
	const cJSON *r;
	cJSON_ArrayForEach (r, tab(k, T_ISSUENOTES)->rows) {
		if ((long)sbx_jnum(r, "issue_order_id", 0) == amis_id(rec)) {
			snprintf(err, n,
				 "Không thể xóa lệnh xuất kho %s vì đã có "
				 "phiếu xuất kho %s",
				 sbx_jstr(rec, "issue_order_no"),
				 sbx_jstr(r, "issue_note_no"));
			return -1;
		}
	}
	return 0;
}

static const char *const order_readonly[] = { "total_amount",
					      "total_discount_amount",
					      "total_vat_amount",
					      "total_payment_amount", NULL };
static const char *const io_readonly[] = { "sale_order_no", "account_number",
					   "account_name", NULL };
static const char *const order_filters[] = { "sourceID", "source_id",
					     "executionStatus",
					     "execution_status", NULL };
static const char *const io_filters[] = { "saleOrderID", "sale_order_id",
					  NULL };
static const char *const note_filters[] = { "saleOrderID",
					    "sale_order_id",
					    "issueOrderID",
					    "issue_order_id",
					    "type",
					    "issue_note_type",
					    "accountingStatus",
					    "accounting_status_code",
					    NULL };

const struct amis_res kho_res[T_COUNT] = {
	[T_STOCKS] = { .name = "Stocks",
		       .code_field = "stock_code",
		       .flags = AMIS_RES_READONLY,
		       .check = check_stock },
	[T_ITEMS] = { .name = "Items",
		      .code_field = "item_code",
		      .flags = AMIS_RES_NO_DELETE,
		      .check = check_item },
	[T_SALEORDERS] = { .name = "SaleOrders",
			   .code_field = "sale_order_no",
			   .code_prefix = "DDH",
			   .check = check_order,
			   .can_delete = can_delete_order,
			   .readonly = order_readonly,
			   .filters = order_filters },
	[T_ISSUEORDERS] = { .name = "IssueOrders",
			    .code_field = "issue_order_no",
			    .code_prefix = "LXK",
			    .check = check_issue_order,
			    .can_delete = can_delete_issue_order,
			    .readonly = io_readonly,
			    .filters = io_filters },
	[T_ISSUENOTES] = { .name = "IssueNotes",
			   .code_field = "issue_note_no",
			   .code_prefix = "XK",
			   .flags = AMIS_RES_NO_CREATE | AMIS_RES_NO_DELETE,
			   .check = check_note,
			   .merge = merge_note,
			   .filters = note_filters },
};

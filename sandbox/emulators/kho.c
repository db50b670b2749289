/*
 * kho.c - AMIS Kho hàng (warehouse) emulator. AMIS Kho has no public API
 * (apis.md §3): this is a DESIGNED contract in the style of AMIS CRM v2 (same
 * /Account token, Bearer + Clientid, envelope, errors, paging and lookups),
 * documented in sandbox/docs/kho.md. Warehouse sales orders come from the
 * host (W1), issue orders and issue notes from the warehouse staff (acts),
 * accounting sync status of notes from the host (W3).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crm_platform.h"

#define KHO_BASE "/kho/api/public/api/v2"

static const char *const exec_status[] = { "Chưa thực hiện", "Đang thực hiện",
					   "Đã thực hiện",   "Tạm dừng",
					   "Đã hủy bỏ",	     NULL };
static const char *const io_status[] = { "Chưa xuất kho", "Đang xuất kho",
					 "Đã xuất kho", NULL };

/* Issue note types: code, display name. */
static const char *const note_types[][2] = {
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

enum { T_STOCKS, T_ITEMS, T_SALEORDERS, T_ISSUEORDERS, T_ISSUENOTES, T_COUNT };

struct kho {
	struct amis_plat plat;
	struct amis_table tables[T_COUNT];
};

static struct amis_table *tab(struct kho *k, int i)
{
	return &k->tables[i];
}

static const char *pair_name(const char *const (*pairs)[2], const char *code)
{
	for (; pairs[0][0]; pairs++)
		if (code && strcmp(pairs[0][0], code) == 0)
			return pairs[0][1];
	return NULL;
}

/* Accepts a code or a display name; returns the code or NULL. */
static const char *pair_code(const char *const (*pairs)[2], const char *s)
{
	for (; pairs[0][0]; pairs++)
		if (s && (strcmp(pairs[0][0], s) == 0 ||
			  strcmp(pairs[0][1], s) == 0))
			return pairs[0][0];
	return NULL;
}

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
		amis_set_str(rec, "execution_status", exec_status[0]);
	else if (!amis_in_list(cJSON_IsString(es) ? es->valuestring : NULL,
			       exec_status)) {
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
static cJSON *remaining_lines(const cJSON *details)
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
		lines = remaining_lines(
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
	const char *type = pair_code(note_types, sbx_jstr(rec, "issue_note_"
							       "type"));
	if (!type) {
		snprintf(err, n,
			 "issue_note_type must be one of sales_issue, "
			 "other_issue, transfer, "
			 "production, purchase_return");
		return -1;
	}
	amis_set_str(rec, "issue_note_type", type);
	amis_set_str(rec, "issue_note_type_name", pair_name(note_types, type));
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

static const struct amis_res kho_res[T_COUNT] = {
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

/* ---------------------------------------------------------------- views */

static cJSON *notes_of_order(struct kho *k, long so_id)
{
	cJSON *arr = cJSON_CreateArray();
	const cJSON *r;
	cJSON_ArrayForEach (r, tab(k, T_ISSUENOTES)->rows)
		if ((long)sbx_jnum(r, "sale_order_id", 0) == so_id)
			cJSON_AddItemToArray(arr, cJSON_Duplicate(r, true));
	return arr;
}

/* GET /SaleOrders/issue_notes?id= : the notes of one order. */
static void order_notes(void *ctx, struct sbx_emu *emu, struct sbx_req *req)
{
	struct kho *k = ctx;
	const char *id = sbx_query(req, "id");
	const cJSON *so =
		id ? amis_find_id(tab(k, T_SALEORDERS), atol(id)) : NULL;
	if (!so) {
		amis_err(req, 404, "NotFound", "no sales order with id '%s'",
			 id ? id : "");
		return;
	}
	amis_ok(req, 200, notes_of_order(k, amis_id(so)));
}

static const struct amis_custom kho_custom[] = {
	{ "GET", "SaleOrders/issue_notes", order_notes },
	{ NULL, NULL, NULL },
};

/* ---------------------------------------------------------------- life cycle */

static const char *const seed_tables[T_COUNT] = {
	[T_STOCKS] = "Stocks",	       [T_ITEMS] = "Items",
	[T_SALEORDERS] = "SaleOrders", [T_ISSUEORDERS] = "IssueOrders",
	[T_ISSUENOTES] = "IssueNotes",
};

static void kho_free(struct sbx_emu *emu)
{
	struct kho *k = emu->data;
	if (!k)
		return;
	amis_plat_free(&k->plat);
	free(k);
	emu->data = NULL;
}

static int kho_init(struct sbx_emu *emu, const cJSON *seed)
{
	struct kho *k = calloc(1, sizeof *k);
	if (!k)
		return -1;
	emu->data = k;
	for (int i = 0; i < T_COUNT; i++)
		k->tables[i].res = &kho_res[i];
	k->plat.name = "kho";
	k->plat.base = KHO_BASE;
	k->plat.tables = k->tables;
	k->plat.ntables = T_COUNT;
	k->plat.custom = kho_custom;
	k->plat.ctx = k;
	if (amis_plat_init(&k->plat, seed, "luong-kho", "kho-secret") < 0)
		goto out_free;
	for (int i = 0; i < T_COUNT; i++) {
		const cJSON *rows =
			cJSON_GetObjectItemCaseSensitive(seed, seed_tables[i]);
		if (rows && amis_table_seed(&k->plat, tab(k, i), rows) < 0)
			goto out_free;
	}
	return 0;
out_free:
	kho_free(emu);
	return -1;
}

static cJSON *kho_dump(struct sbx_emu *emu)
{
	struct kho *k = emu->data;
	return amis_plat_dump(&k->plat);
}

static void kho_expire(struct sbx_emu *emu)
{
	struct kho *k = emu->data;
	amis_plat_expire(&k->plat);
}

static void kho_api(struct sbx_emu *emu, struct sbx_req *req)
{
	struct kho *k = emu->data;
	amis_handle(&k->plat, emu, req);
}

/* ---------------------------------------------------------------- acts */

static cJSON *order_target(struct kho *k, const cJSON *body)
{
	return amis_act_target(tab(k, T_SALEORDERS), body, "sale_order_id",
			       "sale_order_no");
}

static const char *emit_order_changed(struct kho *k, struct sbx_emu *emu,
				      const cJSON *so, const char *change)
{
	cJSON *data = cJSON_CreateObject();
	cJSON_AddStringToObject(data, "change", change);
	cJSON_AddItemToObject(data, "sale_order", cJSON_Duplicate(so, true));
	cJSON_AddItemToObject(data, "issue_notes",
			      notes_of_order(k, amis_id(so)));
	return amis_emit(&k->plat, emu, "sales_order.changed", data);
}

static void act_create_issue_order(struct sbx_emu *emu, struct sbx_req *req)
{
	struct kho *k = emu->data;
	char err[AMIS_ERR_MAX];
	cJSON *so = order_target(k, req->json);
	if (!so) {
		amis_act_err(req, 404,
			     "no such sales order (give sale_order_id or "
			     "sale_order_no)");
		return;
	}
	if (strcmp(sbx_jstr(so, "execution_status"), "Đã hủy bỏ") == 0) {
		amis_act_err(req, 400, "đơn đặt hàng %s đã hủy bỏ",
			     sbx_jstr(so, "sale_order_no"));
		return;
	}
	cJSON *rec = cJSON_CreateObject();
	cJSON_AddNumberToObject(rec, "sale_order_id", (double)amis_id(so));
	static const char *const copy[] = { "stock_code", "issue_order_date",
					    "details", "note", NULL };
	for (const char *const *c = copy; *c; c++) {
		const cJSON *v =
			cJSON_GetObjectItemCaseSensitive(req->json, *c);
		if (v)
			cJSON_AddItemToObject(rec, *c,
					      cJSON_Duplicate(v, true));
	}
	cJSON *io = amis_create(&k->plat, tab(k, T_ISSUEORDERS), rec, err,
				sizeof err);
	if (!io) {
		amis_act_err(req, 400, "%s", err);
		return;
	}
	cJSON *data = cJSON_CreateObject();
	cJSON_AddItemToObject(data, "issue_order", cJSON_Duplicate(io, true));
	const char *eid = amis_emit(&k->plat, emu, "issue_order.created", data);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "issue_order", cJSON_Duplicate(io, true));
	if (eid)
		cJSON_AddStringToObject(o, "event_id", eid);
	amis_act_ok(req, o);
}

static cJSON *line_by_id(cJSON *lines, long id)
{
	cJSON *l;
	cJSON_ArrayForEach (l, lines)
		if (amis_id(l) == id)
			return l;
	return NULL;
}

/* Picks the order line a note line issues from: by id, else the first line
 * of that item with something left. */
static cJSON *pick_line(cJSON *so, const cJSON *nl)
{
	cJSON *lines = cJSON_GetObjectItemCaseSensitive(so, "details");
	const cJSON *did = cJSON_GetObjectItemCaseSensitive(nl, "sale_order_"
								"detail_id");
	if (cJSON_IsNumber(did))
		return line_by_id(lines, (long)did->valuedouble);
	const char *item = sbx_jstr(nl, "item_code");
	cJSON *l;
	cJSON_ArrayForEach (l, lines) {
		const char *ic = sbx_jstr(l, "item_code");
		if (item && ic && strcmp(item, ic) == 0 &&
		    sbx_jnum(l, "quantity", 0) >
			    sbx_jnum(l, "issued_quantity", 0))
			return l;
	}
	return NULL;
}

/* How far the details of a document are issued: 0 nothing, 1 partly, 2 all
 * (every line's issued_quantity reaches its quantity). */
static int issue_progress(const cJSON *doc)
{
	bool all = true, any = false;
	const cJSON *l;
	cJSON_ArrayForEach (l, cJSON_GetObjectItemCaseSensitive(doc, "detail"
								     "s")) {
		double q = sbx_jnum(l, "quantity", 0),
		       done = sbx_jnum(l, "issued_quantity", 0);
		if (done > 0)
			any = true;
		if (done < q)
			all = false;
	}
	return all ? 2 : any ? 1 : 0;
}

static void refresh_execution(cJSON *so)
{
	const char *cur = sbx_jstr(so, "execution_status");
	if (cur &&
	    (strcmp(cur, "Đã hủy bỏ") == 0 || strcmp(cur, "Tạm dừng") == 0))
		return;
	static const char *const text[] = { "Chưa thực hiện", "Đang thực hiện",
					    "Đã thực hiện" };
	amis_set_str(so, "execution_status", text[issue_progress(so)]);
}

static void refresh_issue_order(cJSON *io)
{
	static const char *const text[] = { "Chưa xuất kho", "Đang xuất kho",
					    "Đã xuất kho" };
	amis_set_str(io, "status", text[issue_progress(io)]);
}

/* Builds the note's lines against the order (partial quantities allowed)
 * and records what each would issue in "issue" of the copy; 0 or -1. */
static int note_lines_for_order(struct kho *k, cJSON *so_copy,
				const cJSON *req_lines, cJSON *out, char *err,
				size_t n)
{
	cJSON *lines = cJSON_GetObjectItemCaseSensitive(so_copy, "details");
	cJSON *owned = NULL;
	if (!cJSON_IsArray(req_lines) || cJSON_GetArraySize(req_lines) == 0) {
		/* no lines given: everything still to issue */
		owned = remaining_lines(lines);
		req_lines = owned;
		if (cJSON_GetArraySize(owned) == 0) {
			snprintf(err, n, "đơn đặt hàng %s đã xuất đủ",
				 sbx_jstr(so_copy, "sale_order_no"));
			goto out_fail;
		}
	}
	int i = 0;
	const cJSON *nl;
	cJSON_ArrayForEach (nl, req_lines) {
		cJSON *src = pick_line(so_copy, nl);
		if (!src) {
			snprintf(err, n,
				 "lines[%d]: not a line of order %s with "
				 "quantity left",
				 i, sbx_jstr(so_copy, "sale_order_no"));
			goto out_fail;
		}
		double q = sbx_jnum(nl, "quantity", -1);
		double left = sbx_jnum(src, "quantity", 0) -
			      sbx_jnum(src, "issued_quantity", 0);
		if (q <= 0) {
			snprintf(err, n, "lines[%d]: quantity must be > 0", i);
			goto out_fail;
		}
		if (q > left) {
			snprintf(err, n,
				 "lines[%d]: số lượng xuất %g vượt quá số "
				 "lượng còn phải xuất %g của "
				 "mặt hàng %s",
				 i, q, left, sbx_jstr(src, "item_code"));
			goto out_fail;
		}
		amis_set_num(src, "issued_quantity",
			     sbx_jnum(src, "issued_quantity", 0) + q);
		double price = sbx_jnum(src, "unit_price", 0);
		cJSON *x = cJSON_CreateObject();
		cJSON_AddNumberToObject(x, "id", (double)++k->plat.line_seq);
		cJSON_AddNumberToObject(x, "sale_order_detail_id",
					(double)amis_id(src));
		cJSON_AddStringToObject(x, "item_code",
					sbx_jstr(src, "item_code"));
		cJSON_AddStringToObject(x, "item_name",
					sbx_jstr(src, "item_name"));
		cJSON_AddStringToObject(x, "unit", sbx_jstr(src, "unit"));
		cJSON_AddStringToObject(x, "stock_code",
					sbx_jstr(src, "stock_code"));
		cJSON_AddNumberToObject(x, "quantity", q);
		cJSON_AddNumberToObject(x, "unit_price", price);
		cJSON_AddNumberToObject(x, "amount", amis_round(q * price));
		cJSON_AddItemToArray(out, x);
		i++;
	}
	cJSON_Delete(owned);
	return 0;
out_fail:
	cJSON_Delete(owned);
	return -1;
}

/* Lines of a note without an order (other issue, transfer, production). */
static int note_lines_free(struct kho *k, const cJSON *req_lines, cJSON *out,
			   char *err, size_t n)
{
	if (!cJSON_IsArray(req_lines) || cJSON_GetArraySize(req_lines) == 0) {
		snprintf(err, n,
			 "lines are required for a note without a sales order");
		return -1;
	}
	int i = 0;
	const cJSON *nl;
	cJSON_ArrayForEach (nl, req_lines) {
		const char *code = sbx_jstr(nl, "item_code");
		const cJSON *item = amis_find_code(tab(k, T_ITEMS), code);
		double q = sbx_jnum(nl, "quantity", -1);
		if (!item) {
			snprintf(err, n,
				 "lines[%d]: item_code '%s' is not an item", i,
				 code ? code : "");
			return -1;
		}
		if (q <= 0) {
			snprintf(err, n, "lines[%d]: quantity must be > 0", i);
			return -1;
		}
		double price = sbx_jnum(nl, "unit_price",
					sbx_jnum(item, "unit_price", 0));
		cJSON *x = cJSON_CreateObject();
		cJSON_AddNumberToObject(x, "id", (double)++k->plat.line_seq);
		cJSON_AddStringToObject(x, "item_code", code);
		cJSON_AddStringToObject(x, "item_name",
					sbx_jstr(item, "item_name"));
		cJSON_AddStringToObject(x, "unit", sbx_jstr(item, "unit"));
		cJSON_AddNumberToObject(x, "quantity", q);
		cJSON_AddNumberToObject(x, "unit_price", price);
		cJSON_AddNumberToObject(x, "amount", amis_round(q * price));
		cJSON_AddItemToArray(out, x);
		i++;
	}
	return 0;
}

static void act_save_issue_note(struct sbx_emu *emu, struct sbx_req *req)
{
	struct kho *k = emu->data;
	char err[AMIS_ERR_MAX];
	const cJSON *b = req->json;
	if (!cJSON_IsObject(b)) {
		amis_act_err(req, 400, "body must be a json object");
		return;
	}
	const char *type = pair_code(note_types, sbx_jstr(b, "type"));
	if (!sbx_jstr(b, "type"))
		type = "sales_issue";
	if (!type) {
		amis_act_err(req, 400, "unknown issue note type '%s'",
			     sbx_jstr(b, "type"));
		return;
	}
	cJSON *io = NULL, *so = NULL;
	const cJSON *ioid = cJSON_GetObjectItemCaseSensitive(b, "issue_order_"
								"id");
	if (cJSON_IsNumber(ioid) || sbx_jstr(b, "issue_order_no")) {
		io = amis_act_target(tab(k, T_ISSUEORDERS), b, "issue_order_id",
				     "issue_order_no");
		if (!io) {
			amis_act_err(req, 404, "no such issue order");
			return;
		}
		so = amis_find_id(tab(k, T_SALEORDERS),
				  (long)sbx_jnum(io, "sale_order_id", 0));
	} else if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(b, "sale_"
								      "order_"
								      "id")) ||
		   sbx_jstr(b, "sale_order_no")) {
		so = order_target(k, b);
		if (!so) {
			amis_act_err(req, 404, "no such sales order");
			return;
		}
	}
	if (strcmp(type, "sales_issue") == 0 && !so) {
		amis_act_err(req, 400,
			     "a sales issue note needs sale_order_id, "
			     "sale_order_no or "
			     "issue_order_id");
		return;
	}
	if (so && strcmp(sbx_jstr(so, "execution_status"), "Đã hủy bỏ") == 0) {
		amis_act_err(req, 400, "đơn đặt hàng %s đã hủy bỏ",
			     sbx_jstr(so, "sale_order_no"));
		return;
	}
	/* Work on copies so that a refused note changes nothing. */
	cJSON *so_copy = so ? cJSON_Duplicate(so, true) : NULL;
	cJSON *lines = cJSON_CreateArray();
	const cJSON *req_lines = cJSON_GetObjectItemCaseSensitive(b, "lines");
	int rc =
		so_copy ? note_lines_for_order(k, so_copy, req_lines, lines,
					       err, sizeof err)
			: note_lines_free(k, req_lines, lines, err, sizeof err);
	if (rc < 0)
		goto out_refuse;
	cJSON *note = cJSON_CreateObject();
	cJSON_AddStringToObject(note, "issue_note_type", type);
	const char *no = sbx_jstr(b, "issue_note_no");
	if (no)
		cJSON_AddStringToObject(note, "issue_note_no", no);
	const char *stock = sbx_jstr(b, "stock_code");
	if (!stock && so_copy) {
		const cJSON *first = cJSON_GetArrayItem(lines, 0);
		stock = sbx_jstr(first, "stock_code");
	}
	if (stock)
		cJSON_AddStringToObject(note, "stock_code", stock);
	static const char *const copy[] = { "to_stock_code", "issue_date",
					    "description",   "receiver",
					    "employee_code", NULL };
	for (const char *const *c = copy; *c; c++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(b, *c);
		if (v)
			cJSON_AddItemToObject(note, *c,
					      cJSON_Duplicate(v, true));
	}
	if (so_copy) {
		cJSON_AddNumberToObject(note, "sale_order_id",
					(double)amis_id(so_copy));
		cJSON_AddStringToObject(note, "sale_order_no",
					sbx_jstr(so_copy, "sale_order_no"));
		cJSON_AddStringToObject(note, "account_number",
					sbx_jstr(so_copy, "account_number"));
		cJSON_AddStringToObject(note, "account_name",
					sbx_jstr(so_copy, "account_name"));
	} else {
		cJSON_AddNullToObject(note, "sale_order_id");
	}
	if (io) {
		cJSON_AddNumberToObject(note, "issue_order_id",
					(double)amis_id(io));
		cJSON_AddStringToObject(note, "issue_order_no",
					sbx_jstr(io, "issue_order_no"));
	} else {
		cJSON_AddNullToObject(note, "issue_order_id");
	}
	double total = 0;
	const cJSON *l;
	cJSON_ArrayForEach (l, lines)
		total += sbx_jnum(l, "amount", 0);
	cJSON_AddItemToObject(note, "lines", lines);
	lines = NULL;
	cJSON_AddNumberToObject(note, "total_amount", total);
	cJSON *stored = amis_create(&k->plat, tab(k, T_ISSUENOTES), note, err,
				    sizeof err);
	if (!stored)
		goto out_refuse;
	/* Commit the order and issue order quantities. */
	if (so_copy) {
		refresh_execution(so_copy);
		amis_touch(so_copy, false);
		cJSON_ReplaceItemViaPointer(tab(k, T_SALEORDERS)->rows, so,
					    so_copy);
		so = so_copy;
		so_copy = NULL;
	}
	if (io) {
		const cJSON *nl2;
		cJSON_ArrayForEach (
			nl2, cJSON_GetObjectItemCaseSensitive(stored, "line"
								      "s")) {
			long did =
				(long)sbx_jnum(nl2, "sale_order_detail_id", 0);
			cJSON *il;
			cJSON_ArrayForEach (
				il, cJSON_GetObjectItemCaseSensitive(io, "detai"
									 "ls"))
				if ((long)sbx_jnum(il, "sale_order_detail_id",
						   0) == did)
					amis_set_num(il, "issued_quantity",
						     sbx_jnum(il,
							      "issued_quantity",
							      0) +
							     sbx_jnum(nl2,
								      "quantit"
								      "y",
								      0));
		}
		refresh_issue_order(io);
		amis_touch(io, false);
	}
	cJSON *data = cJSON_CreateObject();
	cJSON_AddItemToObject(data, "issue_note",
			      cJSON_Duplicate(stored, true));
	cJSON *o = cJSON_CreateObject();
	const char *e1 = amis_emit(&k->plat, emu, "issue_note.saved", data);
	cJSON_AddItemToObject(o, "issue_note", cJSON_Duplicate(stored, true));
	cJSON *ids = cJSON_AddArrayToObject(o, "event_ids");
	if (e1)
		cJSON_AddItemToArray(ids, cJSON_CreateString(e1));
	if (so) {
		const char *e2 =
			emit_order_changed(k, emu, so, "issue_note_saved");
		if (e2)
			cJSON_AddItemToArray(ids, cJSON_CreateString(e2));
		cJSON_AddItemToObject(o, "sale_order",
				      cJSON_Duplicate(so, true));
	}
	amis_act_ok(req, o);
	return;
out_refuse:
	cJSON_Delete(lines);
	cJSON_Delete(so_copy);
	amis_act_err(req, 400, "%s", err);
}

static void act_change_execution(struct sbx_emu *emu, struct sbx_req *req)
{
	struct kho *k = emu->data;
	cJSON *so = order_target(k, req->json);
	if (!so) {
		amis_act_err(req, 404,
			     "no such sales order (give sale_order_id or "
			     "sale_order_no)");
		return;
	}
	const char *st = sbx_jstr(req->json, "execution_status");
	if (!amis_in_list(st, exec_status)) {
		amis_act_err(req, 400,
			     "execution_status must be one of Chưa thực hiện, "
			     "Đang thực hiện, "
			     "Đã thực hiện, Tạm dừng, Đã hủy bỏ");
		return;
	}
	amis_set_str(so, "execution_status", st);
	amis_touch(so, false);
	cJSON *o = cJSON_CreateObject();
	const char *eid = emit_order_changed(k, emu, so, "execution_status");
	cJSON_AddItemToObject(o, "sale_order", cJSON_Duplicate(so, true));
	if (eid)
		cJSON_AddStringToObject(o, "event_id", eid);
	amis_act_ok(req, o);
}

/* "Đẩy sang kế toán" on a note's screen (W3 in manual mode): the user asks
 * for it to be sent to accounting now; an event tells the integration. */
static void act_push_to_accounting(struct sbx_emu *emu, struct sbx_req *req)
{
	struct kho *k = emu->data;
	cJSON *note = amis_act_target(tab(k, T_ISSUENOTES), req->json,
				      "issue_note_id", "issue_note_no");
	if (!note) {
		amis_act_err(req, 404,
			     "no such issue note (give issue_note_id or "
			     "issue_note_no)");
		return;
	}
	cJSON *data = cJSON_CreateObject();
	cJSON_AddItemToObject(data, "issue_note", cJSON_Duplicate(note, true));
	const char *eid =
		amis_emit(&k->plat, emu, "issue_note.push_requested", data);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "issue_note", cJSON_Duplicate(note, true));
	if (eid)
		cJSON_AddStringToObject(o, "event_id", eid);
	amis_act_ok(req, o);
}

static void act_resend_event(struct sbx_emu *emu, struct sbx_req *req)
{
	struct kho *k = emu->data;
	amis_act_resend(&k->plat, emu, req);
}

static const struct sbx_route kho_routes[] = {
	{ "*", KHO_BASE "/*", kho_api },
	{ NULL, NULL, NULL },
};

static const struct sbx_act kho_acts[] = {
	{ "create_issue_order", act_create_issue_order },
	{ "save_issue_note", act_save_issue_note },
	{ "change_execution", act_change_execution },
	{ "push_to_accounting", act_push_to_accounting },
	{ "resend_event", act_resend_event },
	{ NULL, NULL },
};

static const struct sbx_emulator kho_emu = {
	.name = "kho",
	.init = kho_init,
	.free = kho_free,
	.dump = kho_dump,
	.expire_tokens = kho_expire,
	.routes = kho_routes,
	.acts = kho_acts,
};
SBX_REGISTER(kho_emu);

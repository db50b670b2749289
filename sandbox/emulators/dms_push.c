/*
 * dms_push.c - the DMS emulator's push endpoints (DESIGNED: accounting ->
 * DMS, products, stock, debts, order status): every item is validated
 * first and any failure rejects the whole batch. See sandbox/docs/dms.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/sbx.h"
#include "dms_int.h"

/* ---- push endpoints (designed): validate everything, then write ---- */

/* The body as an array of items: a JSON array, or {"data": [...]}. */
static const cJSON *body_items(struct sbx_req *req)
{
	const cJSON *b = req->json;
	if (cJSON_IsObject(b) && cJSON_IsArray(jget(b, "data")))
		b = jget(b, "data");
	if (!cJSON_IsArray(b) || !b->child) {
		dms_reply_err(req, 400, "dữ liệu phải là một mảng không rỗng");
		return NULL;
	}
	if (cJSON_GetArraySize(b) > DMS_PAGE_MAX) {
		dms_reply_err(req, 400, "tối đa 1000 bản ghi mỗi lần gửi");
		return NULL;
	}
	return b;
}

static cJSON *item_error(const char *key, const char *code, const char *msg)
{
	cJSON *e = cJSON_CreateObject();
	sbx_jset_str(e, key, code);
	cJSON_AddStringToObject(e, "ket_qua", "loi");
	cJSON_AddStringToObject(e, "loi", msg);
	return e;
}

/* 400 with the per-item results when any item failed; nothing written. */
static bool reply_item_errors(struct sbx_req *req, cJSON *errors)
{
	if (!errors->child) {
		cJSON_Delete(errors);
		return false;
	}
	cJSON *o = cJSON_CreateObject();
	cJSON_AddFalseToObject(o, "status");
	cJSON_AddStringToObject(o, "message",
				"dữ liệu không hợp lệ, không có bản ghi nào "
				"được lưu");
	cJSON_AddItemToObject(o, "data", errors);
	sbx_reply_json(req, 400, o);
	return true;
}

static bool has_num(const cJSON *o, const char *k)
{
	const cJSON *v = jget(o, k);
	return cJSON_IsNumber(v) ||
	       (cJSON_IsString(v) && sbx_jnum(o, k, -1e300) > -1e300);
}

/* An item naming something that does not exist: "không có <what> '<val>'". */
static cJSON *item_unknown(const char *key, const char *code, const char *what,
			   const char *val)
{
	char msg[160];
	snprintf(msg, sizeof msg, "không có %s '%s'", what, val ? val : "");
	return item_error(key, code, msg);
}

/* A push (master data written by the host): every item is checked first
 * and any error rejects the whole batch; then every item is applied. */
typedef cJSON *(*push_check_fn)(struct dms *st,
				const cJSON *it); /* item_error or NULL */
typedef cJSON *(*push_apply_fn)(struct dms *st,
				const cJSON *it); /* the item's result */

static void push_run(struct sbx_emu *emu, struct sbx_req *req,
		     push_check_fn check, push_apply_fn apply)
{
	struct dms *st = emu->data;
	const cJSON *items;
	const cJSON *it;
	if (!dms_authed(emu, req) || !(items = body_items(req)))
		return;
	cJSON *errors = cJSON_CreateArray();
	cJSON_ArrayForEach (it, items) {
		cJSON *e = check(st, it);
		if (e)
			cJSON_AddItemToArray(errors, e);
	}
	if (reply_item_errors(req, errors))
		return;
	cJSON *results = cJSON_CreateArray();
	cJSON_ArrayForEach (it, items)
		cJSON_AddItemToArray(results, apply(st, it));
	dms_reply_ok(req, 200, results, (double)cJSON_GetArraySize(results));
}

/* {ma_<key>: code, ket_qua: "cap_nhat"} */
static cJSON *push_updated(const char *key, const char *code)
{
	cJSON *res = cJSON_CreateObject();
	cJSON_AddStringToObject(res, key, code);
	cJSON_AddStringToObject(res, "ket_qua", "cap_nhat");
	return res;
}

static cJSON *product_check(struct dms *st, const cJSON *it)
{
	const char *code = jstr(it, "ma_sp");
	cJSON *old = dms_find_by(st->products, "ma_sp", code);
	if (!code || !*code)
		return item_error("ma_sp", code, "thiếu ma_sp");
	if (!old &&
	    (!jstr(it, "ten_sp") || (!jstr(it, "dvt_le") && !jstr(it, "dvt_"
								      "chan"))))
		return item_error("ma_sp", code,
				  "sản phẩm mới cần ten_sp và đơn vị tính "
				  "(dvt_chan hoặc dvt_le)");
	if (jget(it, "hsqd") && (!has_num(it, "hsqd") || jnum(it, "hsqd") < 1))
		return item_error("ma_sp", code, "hsqd phải lớn hơn 0");
	if (jget(it, "gia_ban") &&
	    (!has_num(it, "gia_ban") || jnum(it, "gia_ban") < 0))
		return item_error("ma_sp", code, "gia_ban không hợp lệ");
	return NULL;
}

static cJSON *product_apply(struct dms *st, const cJSON *it)
{
	const char *code = jstr(it, "ma_sp");
	cJSON *p = dms_find_by(st->products, "ma_sp", code);
	cJSON *r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "ma_sp", code);
	cJSON_AddStringToObject(r, "ket_qua", p ? "cap_nhat" : "tao_moi");
	if (!p) {
		p = cJSON_CreateObject();
		cJSON_AddStringToObject(p, "ma_sp", code);
		cJSON_AddNumberToObject(p, "thue_vat", 10);
		cJSON_AddNumberToObject(p, "hsqd", 1);
		cJSON_AddNumberToObject(p, "trang_thai", 1);
		cJSON_AddItemToArray(st->products, p);
	}
	static const char *const strs[] = {
		"ten_sp",      "dvt_chan", "dvt_le", "nhan_hieu", "nhom_sp",
		"ten_nhom_sp", "ma_vach",  "mo_ta",  NULL
	};
	for (int i = 0; strs[i]; i++) {
		if (jget(it, strs[i]))
			sbx_jset(p, strs[i],
				 cJSON_Duplicate(jget(it, strs[i]), true));
	}
	static const char *const nums[] = { "gia_ban", "thue_vat", "hsqd",
					    "trang_thai", NULL };
	for (int i = 0; nums[i]; i++) {
		if (jget(it, nums[i]))
			sbx_jset_num(p, nums[i], jnum(it, nums[i]));
	}
	/* one unit given for a new product: it is both, 1 for 1 */
	if (!jstr(p, "dvt_le"))
		sbx_jset_str(p, "dvt_le", jstr(p, "dvt_chan"));
	dms_stamp(p, "ngay_cap_nhat");
	return r;
}

void dms_h_product_push(struct sbx_emu *emu, struct sbx_req *req)
{
	push_run(emu, req, product_check, product_apply);
}

/* The unit orders and stock count in: the large one when there is one. */
const char *dms_unit_of(const cJSON *p)
{
	const char *u = jstr(p, "dvt_chan");
	return u && *u ? u : jstr(p, "dvt_le");
}

/* Stock push: rows {ma_kho, ma_sp, so_luong} set the balance (the figure
 * accounting closed on), as of ngay_chot. */
static cJSON *inventory_check(struct dms *st, const cJSON *it)
{
	const char *kho = jstr(it, "ma_kho");
	const char *sp = jstr(it, "ma_sp");
	if (!dms_find_by(st->warehouses, "ma_kho", kho))
		return item_unknown("ma_sp", sp, "kho", kho);
	if (!dms_find_by(st->products, "ma_sp", sp))
		return item_unknown("ma_sp", sp, "sản phẩm", sp);
	if (!has_num(it, "so_luong"))
		return item_error("ma_sp", sp, "so_luong không hợp lệ");
	return NULL;
}

/* Stock rows by (warehouse, product): an open-addressing table, so a
 * distributor's 15,000 rows are not scanned on every write. Rows are only
 * ever added (here), so the table is built once and kept in step. */
struct dms_stock_idx {
	size_t cap, n;
	char **keys;
	cJSON **rows;
};

static unsigned long idx_hash(const char *k)
{
	unsigned long h = 5381;
	while (*k)
		h = h * 33 + (unsigned char)*k++;
	return h;
}

static void idx_key(const char *kho, const char *sp, char *out, size_t n)
{
	snprintf(out, n, "%s\x1f%s", kho ? kho : "", sp ? sp : "");
}

static void idx_put(struct dms_stock_idx *x, char *key, cJSON *row);

static void idx_grow(struct dms_stock_idx *x)
{
	struct dms_stock_idx old = *x;
	x->cap = old.cap ? old.cap * 2 : 1024;
	x->n = 0;
	x->keys = calloc(x->cap, sizeof(*x->keys));
	x->rows = calloc(x->cap, sizeof(*x->rows));
	for (size_t i = 0; i < old.cap; i++) {
		if (old.keys[i])
			idx_put(x, old.keys[i], old.rows[i]);
	}
	free(old.keys);
	free(old.rows);
}

/* Takes key (malloc'd). */
static void idx_put(struct dms_stock_idx *x, char *key, cJSON *row)
{
	if ((x->n + 1) * 2 > x->cap)
		idx_grow(x);
	size_t i = idx_hash(key) & (x->cap - 1);
	while (x->keys[i])
		i = (i + 1) & (x->cap - 1);
	x->keys[i] = key;
	x->rows[i] = row;
	x->n++;
}

static cJSON *idx_get(const struct dms_stock_idx *x, const char *key)
{
	if (!x->cap)
		return NULL;
	for (size_t i = idx_hash(key) & (x->cap - 1); x->keys[i];
	     i = (i + 1) & (x->cap - 1)) {
		if (!strcmp(x->keys[i], key))
			return x->rows[i];
	}
	return NULL;
}

void dms_stock_idx_free(struct dms_stock_idx *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->cap; i++)
		free(x->keys[i]);
	free(x->keys);
	free(x->rows);
	free(x);
}

static struct dms_stock_idx *stock_idx(struct dms *st)
{
	char key[256];
	cJSON *r;
	if (st->stock_idx)
		return st->stock_idx;
	st->stock_idx = calloc(1, sizeof(*st->stock_idx));
	cJSON_ArrayForEach (r, st->stock) {
		idx_key(jstr(r, "ma_kho"), jstr(r, "ma_sp"), key, sizeof key);
		idx_put(st->stock_idx, strdup(key), r);
	}
	return st->stock_idx;
}

static cJSON *inventory_apply(struct dms *st, const cJSON *it)
{
	const char *kho = jstr(it, "ma_kho");
	const char *sp = jstr(it, "ma_sp");
	char key[256];
	idx_key(kho, sp, key, sizeof key);
	cJSON *row = idx_get(stock_idx(st), key);
	if (!row) {
		const cJSON *w = dms_find_by(st->warehouses, "ma_kho", kho);
		const cJSON *p = dms_find_by(st->products, "ma_sp", sp);
		row = cJSON_CreateObject();
		cJSON_AddStringToObject(row, "ma_kho", kho);
		sbx_jset_str(row, "ten_kho", jstr(w, "ten_kho"));
		cJSON_AddStringToObject(row, "ma_sp", sp);
		sbx_jset_str(row, "ten_sp", jstr(p, "ten_sp"));
		sbx_jset_str(row, "don_vi", dms_unit_of(p));
		cJSON_AddItemToArray(st->stock, row);
		idx_put(stock_idx(st), strdup(key), row);
	}
	sbx_jset_num(row, "so_luong", jnum(it, "so_luong"));
	sbx_jset_str(row, "ngay_chot", jstr(it, "ngay_chot"));
	dms_stamp(row, "ngay_cap_nhat");
	cJSON *res = cJSON_CreateObject();
	cJSON_AddStringToObject(res, "ma_kho", kho);
	cJSON_AddStringToObject(res, "ma_sp", sp);
	cJSON_AddStringToObject(res, "ket_qua", "cap_nhat");
	return res;
}

void dms_h_inventory_push(struct sbx_emu *emu, struct sbx_req *req)
{
	push_run(emu, req, inventory_check, inventory_apply);
}

/* Debt push: {ma_kh, du_no_cuoi_ky, ngay_chot}; shown to staff on visits. */
static cJSON *debt_check(struct dms *st, const cJSON *it)
{
	const char *kh = jstr(it, "ma_kh");
	if (!dms_find_by(st->outlets, "ma_kh", kh))
		return item_unknown("ma_kh", kh, "khách hàng", kh);
	if (!has_num(it, "du_no_cuoi_ky"))
		return item_error("ma_kh", kh, "du_no_cuoi_ky không hợp lệ");
	return NULL;
}

static cJSON *debt_apply(struct dms *st, const cJSON *it)
{
	const char *kh = jstr(it, "ma_kh");
	cJSON *d = dms_find_by(st->debts, "ma_kh", kh);
	if (!d) {
		d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, "ma_kh", kh);
		cJSON_AddItemToArray(st->debts, d);
	}
	sbx_jset_num(d, "du_no_cuoi_ky", jnum(it, "du_no_cuoi_ky"));
	sbx_jset_str(d, "ngay_chot", jstr(it, "ngay_chot"));
	dms_stamp(d, "ngay_cap_nhat");
	cJSON *o = dms_find_by(st->outlets, "ma_kh", kh);
	sbx_jset_num(o, "du_no", jnum(it, "du_no_cuoi_ky"));
	return push_updated("ma_kh", kh);
}

void dms_h_debt_push(struct sbx_emu *emu, struct sbx_req *req)
{
	push_run(emu, req, debt_check, debt_apply);
}

/* Order status push (AMIS -> DMS, D7): {ma_don, trang_thai_ke_toan,
 * so_chung_tu, ghi_chu}. Does not touch the approval status. */
static cJSON *bill_status_check(struct dms *st, const cJSON *it)
{
	const char *no = jstr(it, "ma_phieu");
	if (!dms_find_by(st->orders, "ma_phieu", no))
		return item_unknown("ma_phieu", no, "đơn hàng", no);
	if (!jstr(it, "trang_thai_ke_toan") || !*jstr(it, "trang_thai_ke_toan"))
		return item_error("ma_phieu", no, "thiếu trang_thai_ke_toan");
	return NULL;
}

static cJSON *bill_status_apply(struct dms *st, const cJSON *it)
{
	cJSON *o = dms_find_by(st->orders, "ma_phieu", jstr(it, "ma_phieu"));
	sbx_jset_str(o, "trang_thai_ke_toan", jstr(it, "trang_thai_ke_toan"));
	if (jstr(it, "so_chung_tu"))
		sbx_jset_str(o, "so_chung_tu_ke_toan", jstr(it, "so_chung_tu"));
	if (jstr(it, "ghi_chu"))
		sbx_jset_str(o, "ghi_chu_ke_toan", jstr(it, "ghi_chu"));
	dms_stamp(o, "ngay_cap_nhat_ke_toan");
	return push_updated("ma_phieu", jstr(it, "ma_phieu"));
}

void dms_h_bill_status_push(struct sbx_emu *emu, struct sbx_req *req)
{
	push_run(emu, req, bill_status_check, bill_status_apply);
}

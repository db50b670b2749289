/*
 * dms_acts.c - the DMS emulator's documents and acts (DESIGNED): order and
 * return lines with their money (SPEC B10), and what DMS users do (add or
 * correct an outlet, enter, approve and edit orders and returns), each
 * sending its signed webhook. See sandbox/docs/dms.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/sbx.h"
#include "dms_int.h"

/* ---- documents: lines and totals (B10 rules) ---- */

static const char *const status_text[][2] = {
	{ "cho_duyet", "Chờ duyệt" },
	{ "da_duyet", "Đã duyệt" },
	{ "tu_choi", "Từ chối" },
	{ NULL, NULL },
};

/* s is matched against the table first: it may point into doc itself. */
void dms_set_status(cJSON *doc, const char *s)
{
	for (int i = 0; status_text[i][0]; i++) {
		if (streq(status_text[i][0], s)) {
			sbx_jset_str(doc, "trang_thai", status_text[i][0]);
			sbx_jset_str(doc, "ten_trang_thai", status_text[i][1]);
			return;
		}
	}
}

/* Builds lines and totals from in's chi_tiet; NULL with msg on error. */
cJSON *dms_build_lines(struct dms *st, cJSON *doc, const cJSON *in, char *msg,
		       size_t n)
{
	const cJSON *l;
	const cJSON *lines = jget(in, "chi_tiet");
	double sum = 0;
	double disc = 0;
	double tax = 0;
	if (!cJSON_IsArray(lines) || !lines->child) {
		snprintf(msg, n, "chi_tiet không được để trống");
		return NULL;
	}
	cJSON *out = cJSON_CreateArray();
	int no = 0;
	cJSON_ArrayForEach (l, lines) {
		const char *code = jstr(l, "ma_sp");
		const cJSON *p = dms_find_by(st->products, "ma_sp", code);
		double q = jnum(l, "so_luong");
		if (!p) {
			snprintf(msg, n, "không có sản phẩm '%s'",
				 code ? code : "");
			goto out_free;
		}
		if (q <= 0) {
			snprintf(msg, n, "so_luong của '%s' phải lớn hơn 0",
				 code);
			goto out_free;
		}
		bool km = sbx_jbool(l, "khuyen_mai", false) ||
			  sbx_jbool(l, "is_km", false);
		/* a gift (hàng khuyến mãi) costs nothing unless priced */
		double price = jget(l, "don_gia") ? jnum(l, "don_gia")
			       : km		  ? 0
						  : jnum(p, "gia_ban");
		double rate = jget(l, "thue_suat") ? jnum(l, "thue_suat")
						   : jnum(p, "thue_vat");
		double amount = sbx_vnd(q * price);
		double d = jget(l, "chiet_khau_tien")
				   ? sbx_vnd(jnum(l, "chiet_khau_tien"))
				   : sbx_vnd(amount *
					     jnum(l, "ty_le_chiet_khau") / 100);
		double t = sbx_vnd((amount - d) * rate / 100);
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "stt", ++no);
		cJSON_AddStringToObject(o, "ma_sp", code);
		sbx_jset_str(o, "ten_sp", jstr(p, "ten_sp"));
		sbx_jset_str(o, "ma_dvt", dms_unit_of(p));
		sbx_jset_str(o, "ten_dvt", dms_unit_of(p));
		cJSON_AddNumberToObject(o, "so_luong", q);
		cJSON_AddNumberToObject(o, "don_gia", price);
		cJSON_AddNumberToObject(o, "thanh_tien", amount);
		cJSON_AddNumberToObject(o, "ty_le_chiet_khau",
					jnum(l, "ty_le_chiet_khau"));
		cJSON_AddNumberToObject(o, "chiet_khau_tien", d);
		cJSON_AddNumberToObject(o, "thue_suat", rate);
		cJSON_AddNumberToObject(o, "tien_thue", t);
		cJSON_AddNumberToObject(o, "tong_cong", amount - d + t);
		cJSON_AddBoolToObject(o, "is_km", km);
		sbx_jset_str(o, "loai_hang", km ? "Khuyến mãi" : "Hàng bán");
		sbx_jset_str(o, "ctkm", km ? jstr(l, "ctkm") : NULL);
		cJSON *promo = cJSON_AddArrayToObject(o, "promotion");
		if (km && jstr(l, "ctkm")) {
			cJSON *pr = cJSON_CreateObject();
			cJSON_AddStringToObject(pr, "id", jstr(l, "ctkm"));
			sbx_jset_str(pr, "ten_khuyen_mai",
				     jstr(l, "ten_khuyen_mai"));
			cJSON_AddItemToArray(promo, pr);
		}
		cJSON_AddItemToArray(out, o);
		sum += amount;
		disc += d;
		tax += t;
	}
	sbx_jset(doc, "chi_tiet", out);
	sbx_jset_num(doc, "tong_tien_hang", sum);
	sbx_jset_num(doc, "tong_chiet_khau", disc);
	sbx_jset_num(doc, "tong_tien_thue", tax);
	sbx_jset_num(doc, "tong_thanh_toan", sum - disc + tax);
	return out;
out_free:
	cJSON_Delete(out);
	return NULL;
}

/* Checks the party codes common to orders and returns. */
bool dms_check_parties(struct dms *st, const cJSON *in, char *msg, size_t n)
{
	const char *kh = jstr(in, "ma_kh");
	const char *nv = jstr(in, "ma_nv");
	const char *kho = jstr(in, "ma_kho");
	if (!dms_find_by(st->outlets, "ma_kh", kh)) {
		snprintf(msg, n, "không có khách hàng '%s'", kh ? kh : "");
		return false;
	}
	if (!dms_find_by(st->staff, "ma", nv)) {
		snprintf(msg, n, "không có nhân viên '%s'", nv ? nv : "");
		return false;
	}
	if (!dms_find_by(st->warehouses, "ma_kho", kho)) {
		snprintf(msg, n, "không có kho '%s'", kho ? kho : "");
		return false;
	}
	return true;
}

void dms_copy_parties(struct dms *st, cJSON *doc, const cJSON *in)
{
	const cJSON *kh = dms_find_by(st->outlets, "ma_kh", jstr(in, "ma_kh"));
	const cJSON *nv = dms_find_by(st->staff, "ma", jstr(in, "ma_nv"));
	sbx_jset_str(doc, "ma_kh", jstr(kh, "ma_kh"));
	sbx_jset_str(doc, "ten_kh", jstr(kh, "tenkh"));
	sbx_jset_str(doc, "dia_chi_kh", jstr(kh, "dia_chi"));
	sbx_jset_str(doc, "ma_so_thue_kh", jstr(kh, "ma_so_thue"));
	sbx_jset_str(doc, "ma_nv", jstr(nv, "ma"));
	sbx_jset_str(doc, "ten_nv", jstr(nv, "ten"));
	sbx_jset_str(doc, "ma_kho", jstr(in, "ma_kho"));
}

/* ---- acts (what DMS users do) ---- */

static bool act_begin(struct dms *st, struct sbx_req *req)
{
	cJSON_Delete(st->out_hooks);
	st->out_hooks = cJSON_CreateArray();
	if (!cJSON_IsObject(req->json)) {
		dms_reply_err(req, 400, "body must be a json object");
		return false;
	}
	return true;
}

static void act_end(struct dms *st)
{
	cJSON_Delete(st->out_hooks);
	st->out_hooks = NULL;
}

static void act_reply(struct dms *st, struct sbx_req *req, int status,
		      const cJSON *doc)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddTrueToObject(o, "status");
	cJSON_AddItemToObject(o, "data", sbx_out_copy(doc));
	cJSON_AddItemToObject(o, "webhooks", st->out_hooks);
	st->out_hooks = NULL;
	sbx_reply_json(req, status, o);
}

/* A salesman adds an outlet (điểm bán) in the app. */
void dms_act_create_outlet(struct sbx_emu *emu, struct sbx_req *req)
{
	struct dms *st = emu->data;
	const cJSON *in = req->json;
	char code[32];
	char msg[160];
	if (!act_begin(st, req))
		goto out;
	const char *name = jstr(in, "tenkh");
	const char *nv = jstr(in, "ma_nv");
	if (!name || !*name) {
		dms_reply_err(req, 422, "tenkh không được để trống");
		goto out;
	}
	if (!dms_find_by(st->staff, "ma", nv)) {
		snprintf(msg, sizeof msg, "không có nhân viên '%s'",
			 nv ? nv : "");
		dms_reply_err(req, 422, msg);
		goto out;
	}
	if (jstr(in, "ma_kh"))
		snprintf(code, sizeof code, "%s", jstr(in, "ma_kh"));
	else
		snprintf(code, sizeof code, "KH%04.0f", st->next_outlet_no++);
	if (dms_find_by(st->outlets, "ma_kh", code)) {
		snprintf(msg, sizeof msg, "mã khách hàng '%s' đã tồn tại",
			 code);
		dms_reply_err(req, 409, msg);
		goto out;
	}
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "id", st->next_id++);
	cJSON_AddStringToObject(o, "ma_kh", code);
	cJSON_AddStringToObject(o, "tenkh", name);
	static const char *const keys[] = { "dia_chi",	     "tinh_thanh_moi",
					    "sdt",	     "loai_kh",
					    "nhom_kh",	     "code_router",
					    "ma_so_thue",    "email",
					    "nguoi_lien_he", NULL };
	for (int i = 0; keys[i]; i++)
		sbx_jset_str(o, keys[i], jstr(in, keys[i]));
	cJSON_AddStringToObject(o, "ma_nv_tao", nv);
	cJSON_AddNumberToObject(o, "trang_thai", 1);
	cJSON_AddNumberToObject(o, "du_no", 0);
	dms_stamp(o, "ngay_tao");
	dms_stamp(o, "ngay_cap_nhat");
	cJSON_AddItemToArray(st->outlets, o);
	dms_emit(emu, "outlet.created", o);
	act_reply(st, req, 201, o);
out:
	act_end(st);
}

/* Office staff correct an outlet (name, address, tax code, phone...). */
void dms_act_edit_outlet(struct sbx_emu *emu, struct sbx_req *req)
{
	struct dms *st = emu->data;
	const cJSON *in = req->json;
	if (!act_begin(st, req))
		goto out;
	cJSON *o = dms_find_by(st->outlets, "ma_kh", jstr(in, "ma_kh"));
	if (!o) {
		dms_reply_err(req, 404, "không tìm thấy khách hàng");
		goto out;
	}
	static const char *const keys[] = {
		"tenkh",	 "dia_chi",    "tinh_thanh_moi",
		"sdt",		 "loai_kh",    "nhom_kh",
		"code_router",	 "ma_so_thue", "email",
		"nguoi_lien_he", NULL
	};
	for (int i = 0; keys[i]; i++) {
		if (jget(in, keys[i]))
			sbx_jset(o, keys[i],
				 cJSON_Duplicate(jget(in, keys[i]), true));
	}
	dms_stamp(o, "ngay_cap_nhat");
	dms_emit(emu, "outlet.updated", o);
	act_reply(st, req, 200, o);
out:
	act_end(st);
}

/* A new order or return from the act body: lines and totals, the next id
 * and number (<prefix>000001), the document date and the parties. NULL
 * after replying 422 when the lines are wrong. */
static cJSON *doc_start(struct dms *st, struct sbx_req *req, const char *prefix,
			double *seq, const char *nokey, const char *datekey)
{
	const cJSON *in = req->json;
	char msg[160];
	char no[32];
	cJSON *doc = cJSON_CreateObject();
	if (!dms_build_lines(st, doc, in, msg, sizeof msg)) {
		cJSON_Delete(doc);
		dms_reply_err(req, 422, msg);
		return NULL;
	}
	cJSON_AddNumberToObject(doc, "id", st->next_id++);
	snprintf(no, sizeof no, "%s%06.0f", prefix, (*seq)++);
	cJSON_AddStringToObject(doc, nokey, no);
	dms_stamp(doc, datekey);
	dms_copy_parties(st, doc, in);
	return doc;
}

void dms_act_create_order(struct sbx_emu *emu, struct sbx_req *req)
{
	struct dms *st = emu->data;
	const cJSON *in = req->json;
	char msg[160];
	if (!act_begin(st, req))
		goto out;
	if (!dms_check_parties(st, in, msg, sizeof msg)) {
		dms_reply_err(req, 422, msg);
		goto out;
	}
	const char *pay = jstr(in, "hinh_thuc_thanh_toan")
				  ? jstr(in, "hinh_thuc_thanh_toan")
				  : "Tiền mặt";
	if (!dms_find_by(st->payment_methods, "ten", pay)) {
		snprintf(msg, sizeof msg, "hình thức thanh toán '%s' không có",
			 pay);
		dms_reply_err(req, 422, msg);
		goto out;
	}
	cJSON *o = doc_start(st, req, "DH", &st->next_order_no, "ma_phieu",
			     "ngay_dat");
	if (!o)
		goto out;
	cJSON_AddStringToObject(o, "hinh_thuc_thanh_toan", pay);
	sbx_jset_str(o, "ghi_chu", jstr(in, "ghi_chu"));
	dms_set_status(o, "cho_duyet");
	cJSON_AddNullToObject(o, "nguoi_duyet");
	cJSON_AddNullToObject(o, "ngay_duyet");
	cJSON_AddNumberToObject(o, "phien_ban", 1);
	cJSON_AddFalseToObject(o, "sua_sau_duyet");
	cJSON_AddNullToObject(o, "trang_thai_ke_toan");
	cJSON_AddNullToObject(o, "so_chung_tu_ke_toan");
	dms_stamp(o, "ngay_cap_nhat");
	cJSON_AddItemToArray(st->orders, o);
	dms_emit_doc(emu, "order.created", o);
	if (sbx_jbool(in, "duyet", false)) {
		dms_set_status(o, "da_duyet");
		sbx_jset_str(o, "nguoi_duyet",
			     jstr(in, "nguoi_duyet") ? jstr(in, "nguoi_duyet")
						     : "admin");
		dms_stamp(o, "ngay_duyet");
		dms_emit_doc(emu, "order.approved", o);
	}
	act_reply(st, req, 201, o);
out:
	act_end(st);
}

/* Approval by a sales admin: only a pending document can be approved. */
static void approve(struct sbx_emu *emu, struct sbx_req *req, cJSON *arr,
		    const char *nokey, const char *event, const char *what)
{
	struct dms *st = emu->data;
	char msg[160];
	const cJSON *in = req->json;
	const char *ref = jstr(in, nokey);
	char idbuf[32];
	if (!ref && jget(in, "id")) {
		snprintf(idbuf, sizeof idbuf, "%.0f", jnum(in, "id"));
		ref = idbuf;
	}
	cJSON *doc = dms_find_doc(arr, nokey, ref);
	if (!doc) {
		snprintf(msg, sizeof msg, "không tìm thấy %s", what);
		dms_reply_err(req, 404, msg);
		return;
	}
	if (!streq(jstr(doc, "trang_thai"), "cho_duyet")) {
		snprintf(msg, sizeof msg,
			 "%s %s đang ở trạng thái '%s', không thể duyệt", what,
			 jstr(doc, nokey), jstr(doc, "ten_trang_thai"));
		dms_reply_err(req, 409, msg);
		return;
	}
	dms_set_status(doc, "da_duyet");
	sbx_jset_str(doc, "nguoi_duyet",
		     jstr(in, "nguoi_duyet") ? jstr(in, "nguoi_duyet")
					     : "admin");
	dms_stamp(doc, "ngay_duyet");
	dms_stamp(doc, "ngay_cap_nhat");
	dms_emit_doc(emu, event, doc);
	act_reply(st, req, 200, doc);
}

void dms_act_approve_order(struct sbx_emu *emu, struct sbx_req *req)
{
	struct dms *st = emu->data;
	if (act_begin(st, req))
		approve(emu, req, st->orders, "ma_phieu", "order.approved",
			"đơn hàng");
	act_end(st);
}

void dms_act_approve_return(struct sbx_emu *emu, struct sbx_req *req)
{
	struct dms *st = emu->data;
	if (act_begin(st, req))
		approve(emu, req, st->returns, "ma_phieu", "return.approved",
			"phiếu trả hàng");
	act_end(st);
}

/* Editing keeps the number; after approval it bumps phien_ban and marks
 * sua_sau_duyet so the host can flag "changed after sync". */
void dms_act_edit_order(struct sbx_emu *emu, struct sbx_req *req)
{
	struct dms *st = emu->data;
	const cJSON *in = req->json;
	char msg[160];
	char idbuf[32];
	if (!act_begin(st, req))
		goto out;
	const char *ref = jstr(in, "ma_phieu");
	if (!ref && jget(in, "id")) {
		snprintf(idbuf, sizeof idbuf, "%.0f", jnum(in, "id"));
		ref = idbuf;
	}
	cJSON *o = dms_find_doc(st->orders, "ma_phieu", ref);
	if (!o) {
		dms_reply_err(req, 404, "không tìm thấy đơn hàng");
		goto out;
	}
	if (jget(in, "chi_tiet")) {
		cJSON *tmp = cJSON_CreateObject();
		if (!dms_build_lines(st, tmp, in, msg, sizeof msg)) {
			cJSON_Delete(tmp);
			dms_reply_err(req, 422, msg);
			goto out;
		}
		static const char *const keys[] = {
			"chi_tiet",	  "tong_tien_hang",  "tong_chiet_khau",
			"tong_tien_thue", "tong_thanh_toan", NULL
		};
		for (int i = 0; keys[i]; i++)
			sbx_jset(o, keys[i],
				 cJSON_DetachItemFromObjectCaseSensitive(
					 tmp, keys[i]));
		cJSON_Delete(tmp);
	}
	if (jstr(in, "ghi_chu"))
		sbx_jset_str(o, "ghi_chu", jstr(in, "ghi_chu"));
	if (jstr(in, "hinh_thuc_thanh_toan"))
		sbx_jset_str(o, "hinh_thuc_thanh_toan",
			     jstr(in, "hinh_thuc_thanh_toan"));
	sbx_jset_num(o, "phien_ban", jnum(o, "phien_ban") + 1);
	if (streq(jstr(o, "trang_thai"), "da_duyet"))
		sbx_jset(o, "sua_sau_duyet", cJSON_CreateTrue());
	dms_stamp(o, "ngay_cap_nhat");
	dms_emit_doc(emu, "order.updated", o);
	act_reply(st, req, 200, o);
out:
	act_end(st);
}

void dms_act_create_return(struct sbx_emu *emu, struct sbx_req *req)
{
	struct dms *st = emu->data;
	const cJSON *in = req->json;
	char msg[160];
	if (!act_begin(st, req))
		goto out;
	if (!dms_check_parties(st, in, msg, sizeof msg)) {
		dms_reply_err(req, 422, msg);
		goto out;
	}
	const char *kind = jstr(in, "hinh_thuc_xu_ly") ? jstr(in, "hinh_thuc_"
								  "xu_ly")
						       : "nhap_kho";
	if (!streq(kind, "nhap_kho") && !streq(kind, "giam_tru_cong_no")) {
		dms_reply_err(req, 422,
			      "hinh_thuc_xu_ly phải là nhap_kho hoặc "
			      "giam_tru_cong_no");
		goto out;
	}
	const char *orig = jstr(in, "ma_don_goc");
	if (orig && !dms_find_by(st->orders, "ma_phieu", orig)) {
		snprintf(msg, sizeof msg, "không có đơn hàng gốc '%s'", orig);
		dms_reply_err(req, 422, msg);
		goto out;
	}
	cJSON *r = doc_start(st, req, "TH", &st->next_return_no, "ma_phieu",
			     "ngay_tra");
	if (!r)
		goto out;
	sbx_jset_str(r, "ma_don_goc", orig);
	sbx_jset_str(r, "ly_do",
		     jstr(in, "ly_do") ? jstr(in, "ly_do") : "Hàng cận date");
	cJSON_AddStringToObject(r, "hinh_thuc_xu_ly", kind);
	dms_set_status(r, "cho_duyet");
	cJSON_AddNullToObject(r, "nguoi_duyet");
	cJSON_AddNullToObject(r, "ngay_duyet");
	dms_stamp(r, "ngay_cap_nhat");
	cJSON_AddItemToArray(st->returns, r);
	dms_emit_doc(emu, "return.created", r);
	act_reply(st, req, 201, r);
out:
	act_end(st);
}

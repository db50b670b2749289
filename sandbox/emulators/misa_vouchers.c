/*
 * misa_vouchers.c - the MISA emulator's vouchers: the asynchronous request
 * queue (save, delete), checks, generation and posting (ghi so) into the
 * stock and debt ledgers, and the signed callbacks with their error list.
 * See sandbox/README.md.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/sbx.h"
#include "misa_int.h"

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

double misa_line_qty(const cJSON *l)
{
	return sbx_jnum(l, "main_quantity", sbx_jnum(l, "quantity", 0));
}

/* Totals from the header when given, else from the lines (B10 rules). */
void misa_voucher_totals(const cJSON *v, double *net, double *total)
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
		if (!misa_find_code_or_id(m->objects, "account_object_code", oc,
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
		if (!misa_find_code_or_id(m->items, "inventory_item_code", ic,
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
			if (!misa_find_code_or_id(m->stocks, "stock_code", sc,
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
		if (misa_line_qty(l) < 0)
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
		cJSON *item =
			misa_find_code_or_id(m->items, "inventory_item_code",
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
		cJSON *stock = misa_find_code_or_id(m->stocks, "stock_code", sc,
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
		mv[i].delta += sign * misa_line_qty(l);
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
	cJSON *row = misa_debt_row(m, obj, true);
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
		cJSON *row = misa_balance_row(m,
					      sbx_jstr(mv[i].item, "inventory_"
								   "item_"
								   "code"),
					      sbx_jstr(mv[i].stock, "stock_"
								    "code"));
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
		cJSON *row = misa_balance_row(m, ic, sc);
		if (!row) {
			misa_add_balance(m, mv[i].item, mv[i].stock, 0,
					 mv[i].price);
			row = misa_balance_row(m, ic, sc);
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
	misa_voucher_totals(v, &net, &total);
	const cJSON *obj =
		misa_find_code_or_id(m->objects, "account_object_code",
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
void misa_send_callback(struct sbx_emu *emu, const char *app_id,
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
	misa_send_callback(emu, sbx_jstr(vrec, "app_id"),
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

void misa_h_save(struct sbx_emu *emu, struct sbx_req *req)
{
	struct misa *m = emu->data;
	const cJSON *tok = misa_authorize(m, req);
	if (!tok)
		return;
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(req->json, "vouche"
									"r");
	if (!cJSON_IsArray(list) || !cJSON_GetArraySize(list)) {
		misa_reply_err(req, "InvalidParam", "Thiếu danh sách voucher");
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
		misa_send_callback(emu, app_id, org, 1, immediate);
	else
		cJSON_Delete(immediate);
	misa_reply_env(req, true, "", "", NULL, NULL);
}

void misa_h_delete(struct sbx_emu *emu, struct sbx_req *req)
{
	struct misa *m = emu->data;
	const cJSON *tok = misa_authorize(m, req);
	if (!tok)
		return;
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(req->json, "vouche"
									"r");
	if (!cJSON_IsArray(list) || !cJSON_GetArraySize(list)) {
		misa_reply_err(req, "InvalidParam", "Thiếu danh sách voucher");
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
	misa_send_callback(emu, sbx_jstr(tok, "app_id"),
			   sbx_jstr(tok, "org_company_code"), 2,
			   cJSON_Duplicate(rows, true));
	misa_reply_env(req, first_err == NULL, first_err ? first_err : "", "",
		       rows, NULL);
}

void misa_h_callback_errors(struct sbx_emu *emu, struct sbx_req *req)
{
	struct misa *m = emu->data;
	struct page pg;
	if (!misa_authorize(m, req) || !misa_parse_page(req, &pg))
		return;
	const char *from = sbx_jstr(req->json, "from_date"),
		   *to = sbx_jstr(req->json, "to_date");
	int64_t f = from && *from ? sbx_parse_time(from) : 0;
	int64_t t = to && *to ? sbx_parse_time(to) : INT64_MAX;
	if (f < 0 || t < 0) {
		misa_reply_err(req, "InvalidParam",
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
	misa_reply_page(req, sel, &pg, NULL, NULL);
	cJSON_Delete(sel);
}

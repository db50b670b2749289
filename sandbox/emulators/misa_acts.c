/*
 * misa_acts.c - the MISA emulator's acts: what accountants do in the UI
 * (edit catalogues, price policies and stock, enter vouchers, settings)
 * and with CRM's documents (C3 order progress, C4 invoice decisions),
 * the latter sent by callback. See sandbox/README.md.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/sbx.h"
#include "misa_int.h"

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
void misa_act_enter_voucher(struct sbx_emu *emu, struct sbx_req *req)
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

void misa_act_edit_product(struct sbx_emu *emu, struct sbx_req *req)
{
	const char *err = "body must be a json object";
	cJSON *rec = cJSON_IsObject(req->json)
			     ? misa_dict_upsert(emu->data, misa_dict_kind(3),
						req->json, &err)
			     : NULL;
	act_reply(req, rec, err);
}

void misa_act_edit_customer(struct sbx_emu *emu, struct sbx_req *req)
{
	const char *err = "body must be a json object";
	cJSON *rec = cJSON_IsObject(req->json)
			     ? misa_dict_upsert(emu->data, misa_dict_kind(1),
						req->json, &err)
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
void misa_act_order_progress(struct sbx_emu *emu, struct sbx_req *req)
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
	misa_voucher_totals(vreq, &net, &total);
	cJSON *row = status_row(v), *lines = cJSON_AddArrayToObject(row, "deta"
									 "il");
	cJSON_ArrayForEach (e, cJSON_GetObjectItemCaseSensitive(vreq, "detai"
								      "l")) {
		const char *code = sbx_jstr(e, "inventory_item_code");
		double q = misa_line_qty(e),
		       d = code ? sbx_jnum(dl, code, 0) : 0;
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
	misa_send_callback(emu, sbx_jstr(v, "app_id"),
			   sbx_jstr(v, "org_company_code"), 3, rows);
	sbx_reply_json(req, 200, reply);
}

/* C4: an accountant approves or refuses an invoice request: {refno |
 * org_refno, approve, reason}; the answer goes out by callback,
 * data_type 4 (designed). */
void misa_act_decide_invoice_request(struct sbx_emu *emu, struct sbx_req *req)
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
	misa_send_callback(emu, sbx_jstr(v, "app_id"),
			   sbx_jstr(v, "org_company_code"), 4, rows);
	sbx_reply_json(req, 200, reply);
}

/* C8: an accountant adds or edits a price policy (designed): {price_policy_code,
 * price_policy_name, from_date, to_date, account_object_group_code,
 * items: [{inventory_item_code, unit_name, unit_price}]}, fields given
 * replace the stored ones. */
void misa_act_edit_price_policy(struct sbx_emu *emu, struct sbx_req *req)
{
	struct misa *m = emu->data;
	const char *code = sbx_jstr(req->json, "price_policy_code");
	cJSON *cur;
	if (!code || !*code) {
		act_reply(req, NULL, "price_policy_code is required");
		return;
	}
	cur = misa_find_by(m->price_policies, "price_policy_code", code);
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
void misa_act_edit_customer_group(struct sbx_emu *emu, struct sbx_req *req)
{
	const char *err = "body must be a json object";
	cJSON *rec = cJSON_IsObject(req->json)
			     ? misa_dict_upsert(emu->data, misa_dict_kind(2),
						req->json, &err)
			     : NULL;
	act_reply(req, rec, err);
}

void misa_act_edit_product_group(struct sbx_emu *emu, struct sbx_req *req)
{
	const char *err = "body must be a json object";
	cJSON *rec = cJSON_IsObject(req->json)
			     ? misa_dict_upsert(emu->data, misa_dict_kind(4),
						req->json, &err)
			     : NULL;
	act_reply(req, rec, err);
}

void misa_act_set_stock(struct sbx_emu *emu, struct sbx_req *req)
{
	struct misa *m = emu->data;
	const cJSON *item = misa_find_by(m->items, "inventory_item_code",
					 sbx_jstr(req->json, "inventory_item_"
							     "code"));
	const cJSON *stock = misa_find_by(m->stocks, "stock_code",
					  sbx_jstr(req->json, "stock_code"));
	double q = sbx_jnum(req->json, "quantity", NAN);
	if (!item || !stock || isnan(q)) {
		act_reply(req, NULL,
			  "need a known inventory_item_code, stock_code and a "
			  "quantity");
		return;
	}
	cJSON *row = misa_balance_row(m, sbx_jstr(item, "inventory_item_code"),
				      sbx_jstr(stock, "stock_code"));
	if (!row) {
		misa_add_balance(m, item, stock, q,
				 sbx_jnum(req->json, "unit_price",
					  sbx_jnum(item, "unit_price", 0)));
		row = misa_balance_row(m, sbx_jstr(item, "inventory_item_code"),
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

void misa_act_delete_item(struct sbx_emu *emu, struct sbx_req *req)
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
void misa_act_config(struct sbx_emu *emu, struct sbx_req *req)
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

void misa_act_disconnect_app(struct sbx_emu *emu, struct sbx_req *req)
{
	struct misa *m = emu->data;
	cJSON *app =
		misa_find_by(m->apps, "app_id", sbx_jstr(req->json, "app_id"));
	if (!app) {
		act_reply(req, NULL, "unknown app_id");
		return;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(app, "connected");
	cJSON_AddBoolToObject(app, "connected",
			      sbx_jbool(req->json, "connected", false));
	act_reply(req, app, NULL);
}

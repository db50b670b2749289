/*
 * kho_acts.c - the AMIS Kho emulator's acts: what the warehouse staff do
 * (make issue orders, save issue notes against orders or without one,
 * change an order's execution status, push a note to accounting, resend
 * an event), each sending its signed event. See sandbox/docs/kho.md.
 */
#include <stdio.h>
#include <string.h>

#include "kho_int.h"

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
			      kho_notes_of_order(k, amis_id(so)));
	return amis_emit(&k->plat, emu, "sales_order.changed", data);
}

void kho_act_create_issue_order(struct sbx_emu *emu, struct sbx_req *req)
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
		owned = kho_remaining_lines(lines);
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

void kho_act_save_issue_note(struct sbx_emu *emu, struct sbx_req *req)
{
	struct kho *k = emu->data;
	char err[AMIS_ERR_MAX];
	const cJSON *b = req->json;
	if (!cJSON_IsObject(b)) {
		amis_act_err(req, 400, "body must be a json object");
		return;
	}
	const char *type = pair_code(kho_note_types, sbx_jstr(b, "type"));
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

void kho_act_change_execution(struct sbx_emu *emu, struct sbx_req *req)
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
	if (!amis_in_list(st, kho_exec_status)) {
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
void kho_act_push_to_accounting(struct sbx_emu *emu, struct sbx_req *req)
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

void kho_act_resend_event(struct sbx_emu *emu, struct sbx_req *req)
{
	struct kho *k = emu->data;
	amis_act_resend(&k->plat, emu, req);
}

/*
 * crm_acts.c - the AMIS CRM emulator's acts (designed): what CRM users do
 * (create and edit customers, products, groups, orders, quotes and invoice
 * requests; save a revenue request, and recall it after asking the host's
 * guard with the lock released), each sending its signed webhook event.
 * See sandbox/docs/crm.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crm_int.h"

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

void crm_act_create_order(struct sbx_emu *emu, struct sbx_req *req)
{
	act_create_emit(emu, req, T_SALEORDERS, crm_order_readonly,
			"sale_order", true);
}

void crm_act_create_customer(struct sbx_emu *emu, struct sbx_req *req)
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

void crm_act_edit_customer(struct sbx_emu *emu, struct sbx_req *req)
{
	act_edit(emu, req, T_CUSTOMERS, "customer", "customer.updated");
}

void crm_act_create_product(struct sbx_emu *emu, struct sbx_req *req)
{
	act_create_emit(emu, req, T_PRODUCT, NULL, "product", false);
}

void crm_act_edit_product(struct sbx_emu *emu, struct sbx_req *req)
{
	act_edit(emu, req, T_PRODUCT, "product", "product.updated");
}

void crm_act_create_customer_group(struct sbx_emu *emu, struct sbx_req *req)
{
	act_create_emit(emu, req, T_CUSTGROUPS, NULL, "customer_group", false);
}

void crm_act_edit_customer_group(struct sbx_emu *emu, struct sbx_req *req)
{
	act_edit(emu, req, T_CUSTGROUPS, "customer_group",
		 "customer_group.updated");
}

void crm_act_create_product_group(struct sbx_emu *emu, struct sbx_req *req)
{
	act_create_emit(emu, req, T_PRODGROUPS, NULL, "product_group", false);
}

void crm_act_edit_product_group(struct sbx_emu *emu, struct sbx_req *req)
{
	act_edit(emu, req, T_PRODGROUPS, "product_group",
		 "product_group.updated");
}

void crm_act_create_quote(struct sbx_emu *emu, struct sbx_req *req)
{
	act_create_emit(emu, req, T_QUOTES, NULL, "quote", true);
}

/* An invoice request made from an order takes its lines when none are given. */
void crm_act_create_invoice_request(struct sbx_emu *emu, struct sbx_req *req)
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

void crm_act_save_revenue_request(struct sbx_emu *emu, struct sbx_req *req)
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

void crm_act_recall_revenue_request(struct sbx_emu *emu, struct sbx_req *req)
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

void crm_act_resend_event(struct sbx_emu *emu, struct sbx_req *req)
{
	struct crm *c = emu->data;
	amis_act_resend(&c->plat, emu, req);
}

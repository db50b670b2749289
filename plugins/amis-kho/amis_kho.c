/*
 * amis_kho.c - the AMIS Kho (warehouse) connector.
 *
 * No public AMIS Kho API is known (apis.md §3); this speaks the contract
 * designed in the style of the AMIS platform API v2 (sandbox/docs/kho.md):
 * same /Account token, Bearer + Clientid, signed events.
 *
 *   events   issue_note.saved     a warehouse issue note was saved (W3);
 *                                 document id = the note number
 *            sales_order.changed  execution status, issued quantities or
 *                                 notes of an order changed (W2); document
 *                                 id = "<order no>@<event id>", one per change
 *            issue_order.created  an issue order was made
 *            issue_note.push_requested  "Đẩy sang kế toán": not emitted,
 *                                 it pushes or retries the note (request())
 *   actions  create_sales_order   W1, idempotent by the source order id
 *            delete_order_chain   W1r, refused with Kho's own reason
 *            set_accounting_status  W3 write-back
 */
#include "amis_platform.h"

#define SYSTEM "AMIS Kho"

/* ---- W1: create the warehouse sales order ---------------------------------- */

/* The summary of an order kept as the step's output and the ledger link. */
static cJSON *order_summary(const cJSON *o, bool existed)
{
	cJSON *s = cJSON_CreateObject();
	static const char *const keys[] = {
		"id",
		"sale_order_no",
		"source_id",
		"total_amount",
		"total_discount_amount",
		"total_vat_amount",
		"total_payment_amount",
		"execution_status",
		NULL,
	};

	for (int i = 0; keys[i]; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, keys[i]);

		if (v)
			cJSON_AddItemToObject(s, keys[i],
					      cJSON_Duplicate(v, 1));
	}
	cJSON_AddNumberToObject(
		s, "lines",
		cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "detail"
								       "s")));
	cJSON_AddBoolToObject(s, "existed", existed);
	return s;
}

struct totals {
	double amount, discount, vat, total;
	int lines;
};

/* SPEC B10 on the lines: false when a line lacks its price (Kho then
 * takes the item's, and there is nothing to compare). */
static bool line_totals(const cJSON *details, struct totals *t)
{
	const cJSON *l;

	memset(t, 0, sizeof(*t));
	cJSON_ArrayForEach (l, details) {
		double q = ac_num(l, "quantity", -1),
		       p = ac_num(l, "unit_price", -1);
		double pct = ac_num(l, "discount_percent", 0), amount, disc,
		       vat;

		if (q < 0 || p < 0)
			return false;
		amount = ac_round_dong(q * p);
		disc = pct > 0 ? ac_round_dong(amount * pct / 100)
			       : ac_num(l, "discount_amount", 0);
		vat = ac_round_dong((amount - disc) *
				    ac_num(l, "vat_percent", 0) / 100);
		t->amount += amount;
		t->discount += disc;
		t->vat += vat;
		t->lines++;
	}
	t->total = t->amount - t->discount + t->vat;
	return true;
}

/* A source total that differs from the lines' by more than per-line
 * rounding can explain fails the document with both figures. */
static bool totals_agree(struct luong_call *call, const struct luong_host *h,
			 const cJSON *src, const struct totals *t)
{
	static const char *const names[] = { "amount", "discount", "vat",
					     "total" };
	const double mine[] = { t->amount, t->discount, t->vat, t->total };

	for (int i = 0; i < 4; i++) {
		double theirs;

		if (!ac_numlike(src, names[i], &theirs))
			continue;
		if (fabs(theirs - mine[i]) > t->lines) {
			h->call->set_error(call,
					   "the source order's %s is %.0f "
					   "VND but its lines add up to %.0f "
					   "VND; "
					   "not sent, please check the order",
					   names[i], theirs, mine[i]);
			return false;
		}
	}
	return true;
}

/* The Kho order made from this source order, if any (reply kept in r). */
static enum luong_status
find_by_source(struct amis_client *k, struct luong_call *call,
	       const char *source_id, struct amis_reply *r, const cJSON **found)
{
	char path[256];
	enum luong_status st;
	const cJSON *o;

	*found = NULL;
	snprintf(path, sizeof(path), "/SaleOrders?sourceID=%s&pageSize=100",
		 source_id);
	st = amis_call(k, call, "GET", path, NULL, r);
	if (st != LUONG_OK)
		return st;
	cJSON_ArrayForEach (o, r->data) {
		char buf[32];
		const char *sid = ac_idtext(o, "source_id", buf, sizeof(buf));

		if (sid && !strcmp(sid, source_id)) {
			*found = o;
			break;
		}
	}
	return LUONG_OK;
}

static enum luong_status kho_create_sales_order(struct luong_call *call,
						void *state, const cJSON *input,
						cJSON **output)
{
	struct amis_client *k = state;
	const struct luong_host *h = k->k.h;
	struct amis_reply r = { 0 };
	enum luong_status st;
	const cJSON *found, *src;
	cJSON *order, *list, *l;
	struct totals t;
	char buf[32];
	const char *source_id = ac_idtext(input, "source_id", buf, sizeof(buf));

	if (!source_id) {
		h->call->set_error(call, "input.source_id (the CRM order id) "
					 "is "
					 "required: it keeps the order from "
					 "being "
					 "created twice");
		return LUONG_E_INVAL;
	}
	order = cJSON_Duplicate(input, 1);
	src = cJSON_GetObjectItemCaseSensitive(input, "source_totals");
	cJSON_DeleteItemFromObjectCaseSensitive(order, "source_totals");
	ac_drop_nulls(order);
	cJSON_ArrayForEach (l, cJSON_GetObjectItemCaseSensitive(order, "detail"
								       "s"))
		ac_drop_nulls(l);
	if (src &&
	    line_totals(cJSON_GetObjectItemCaseSensitive(order, "details"),
			&t) &&
	    !totals_agree(call, h, src, &t)) {
		st = LUONG_E_INVAL;
		goto out_free_order;
	}
	st = find_by_source(k, call, source_id, &r, &found);
	if (st != LUONG_OK)
		goto out_free_reply;
	if (found) { /* made by an earlier attempt: one effect only */
		*output = order_summary(found, true);
		goto out_free_reply;
	}
	amis_reply_free(k, &r);
	list = cJSON_CreateArray();
	cJSON_AddItemToArray(list, order);
	order = NULL;
	st = amis_call(k, call, "POST", "/SaleOrders", list, &r);
	cJSON_Delete(list);
	if (st == LUONG_OK)
		*output = order_summary(cJSON_GetArrayItem(r.data, 0), false);
out_free_reply:
	amis_reply_free(k, &r);
out_free_order:
	cJSON_Delete(order);
	return st;
}

/* ---- W1r: delete what W1 made, unless downstream documents exist ---------- */

/* Kho's own words for a refusal, which a CRM user will read. */
static enum luong_status refused(struct amis_client *k, struct luong_call *call,
				 const struct amis_reply *r)
{
	const char *user = ac_str(r->json, "UserMsg");
	const char *dev = ac_str(r->json, "DevMsg");

	k->k.h->call->set_error(call, "AMIS Kho: %s",
				user  ? user
				: dev ? dev
				      : "refused to delete");
	return LUONG_E_REMOTE;
}

static enum luong_status delete_ids(struct amis_client *k,
				    struct luong_call *call, const char *res,
				    cJSON *ids)
{
	struct amis_reply r;
	enum luong_status st;
	char path[64];

	snprintf(path, sizeof(path), "/%s", res);
	st = amis_call(k, call, "DELETE", path, ids, &r);
	if (st == LUONG_E_REMOTE)
		st = refused(k, call, &r);
	amis_reply_free(k, &r);
	return st;
}

static enum luong_status kho_delete_order_chain(struct luong_call *call,
						void *state, const cJSON *input,
						cJSON **output)
{
	struct amis_client *k = state;
	const struct luong_host *h = k->k.h;
	struct amis_reply r = { 0 }, sub = { 0 };
	enum luong_status st;
	const cJSON *order, *it;
	cJSON *ids = NULL, *out = NULL, *nos;
	char buf[32], path[256];
	const char *source_id = ac_idtext(input, "source_id", buf, sizeof(buf));
	double order_id;

	if (!source_id) {
		h->call->set_error(call, "input.source_id (the CRM order id) "
					 "is required");
		return LUONG_E_INVAL;
	}
	st = find_by_source(k, call, source_id, &r, &order);
	if (st != LUONG_OK)
		goto out;
	out = cJSON_CreateObject();
	if (!order) {
		cJSON_AddBoolToObject(out, "deleted", false);
		cJSON_AddStringToObject(out, "note",
					"AMIS Kho holds no sales "
					"order made from this order");
		goto out;
	}
	order_id = ac_num(order, "id", 0);
	cJSON_AddStringToObject(out, "sale_order_no",
				ac_str(order, "sale_order_no"));
	/* issue notes block everything: let Kho say so in its own words */
	snprintf(path, sizeof(path), "/IssueNotes?saleOrderID=%.0f&pageSize=1",
		 order_id);
	st = amis_call(k, call, "GET", path, NULL, &sub);
	if (st != LUONG_OK)
		goto out;
	if (cJSON_GetArraySize(sub.data) > 0) {
		ids = cJSON_CreateArray();
		cJSON_AddItemToArray(ids, cJSON_CreateNumber(order_id));
		st = delete_ids(k, call, "SaleOrders", ids);
		if (st == LUONG_OK) /* Kho allowed it after all */
			cJSON_AddBoolToObject(out, "deleted", true);
		goto out;
	}
	amis_reply_free(k, &sub);
	snprintf(path, sizeof(path),
		 "/IssueOrders?saleOrderID=%.0f"
		 "&pageSize=100",
		 order_id);
	st = amis_call(k, call, "GET", path, NULL, &sub);
	if (st != LUONG_OK)
		goto out;
	ids = cJSON_CreateArray();
	nos = cJSON_AddArrayToObject(out, "issue_orders");
	cJSON_ArrayForEach (it, sub.data) {
		cJSON_AddItemToArray(ids,
				     cJSON_CreateNumber(ac_num(it, "id", 0)));
		if (ac_str(it, "issue_order_no"))
			cJSON_AddItemToArray(
				nos, cJSON_CreateString(ac_str(it, "issue_"
								   "order_"
								   "no")));
	}
	if (cJSON_GetArraySize(ids) > 0) {
		st = delete_ids(k, call, "IssueOrders", ids);
		if (st != LUONG_OK)
			goto out;
	}
	cJSON_Delete(ids);
	ids = cJSON_CreateArray();
	cJSON_AddItemToArray(ids, cJSON_CreateNumber(order_id));
	st = delete_ids(k, call, "SaleOrders", ids);
	if (st == LUONG_OK)
		cJSON_AddBoolToObject(out, "deleted", true);
out:
	if (st == LUONG_OK) {
		*output = out;
		out = NULL;
	}
	cJSON_Delete(out);
	cJSON_Delete(ids);
	amis_reply_free(k, &sub);
	amis_reply_free(k, &r);
	return st;
}

/* ---- W3: the note's accounting sync status --------------------------------- */

static const char *const acc_codes[] = { "synced", "not_synced", "failed",
					 "post_failed", NULL };

static enum luong_status kho_set_accounting_status(struct luong_call *call,
						   void *state,
						   const cJSON *input,
						   cJSON **output)
{
	struct amis_client *k = state;
	const struct luong_host *h = k->k.h;
	const char *status = ac_str(input, "status");
	const char *no = ac_str(input, "note_no"), *ref, *err;
	struct amis_reply r = { 0 };
	enum luong_status st;
	cJSON *rec, *list;
	double id = ac_num(input, "note_id", -1);
	char path[256];
	int i;

	for (i = 0; status && acc_codes[i] && strcmp(status, acc_codes[i]); i++)
		;
	if (!status || !acc_codes[i]) {
		h->call->set_error(call, "input.status must be synced, "
					 "not_synced, failed or post_failed");
		return LUONG_E_INVAL;
	}
	if (id < 0 && !no) {
		h->call->set_error(call, "input.note_id or input.note_no is "
					 "required");
		return LUONG_E_INVAL;
	}
	if (id < 0) {
		snprintf(path, sizeof(path), "/IssueNotes/Code?code=%s", no);
		st = amis_call(k, call, "GET", path, NULL, &r);
		if (st != LUONG_OK)
			goto out;
		id = ac_num(r.data, "id", -1);
		amis_reply_free(k, &r);
	}
	rec = cJSON_CreateObject();
	cJSON_AddNumberToObject(rec, "id", id);
	cJSON_AddStringToObject(rec, "accounting_status", status);
	if ((ref = ac_str(input, "voucher_ref")) && *ref)
		cJSON_AddStringToObject(rec, "accounting_voucher_ref", ref);
	err = ac_str(input, "error");
	if (!strcmp(status, "failed") || !strcmp(status, "post_failed"))
		cJSON_AddStringToObject(rec, "accounting_error",
					err && *err ? err : status);
	list = cJSON_CreateArray();
	cJSON_AddItemToArray(list, rec);
	st = amis_call(k, call, "PUT", "/IssueNotes", list, &r);
	cJSON_Delete(list);
	if (st == LUONG_OK) {
		const cJSON *n = cJSON_GetArrayItem(r.data, 0);

		*output = cJSON_CreateObject();
		cJSON_AddNumberToObject(*output, "id", id);
		cJSON_AddStringToObject(*output, "issue_note_no",
					ac_str(n, "issue_note_no")
						? ac_str(n, "issue_note_no")
						: "");
		cJSON_AddStringToObject(*output, "accounting_status", status);
	}
out:
	amis_reply_free(k, &r);
	return st;
}

/* ---- events ------------------------------------------------------------------ */

/* "Đẩy sang kế toán" on a note (W3, manual): the note is sent now by the
 * flows this connection triggers, pushed if it waits and sent again if
 * it failed or was not posted (SDK 1.2 request()). Not a document of its
 * own: nothing is emitted. */
static enum luong_status
push_requested(struct amis_client *k, struct luong_ctx *ctx, const cJSON *data)
{
	const struct luong_host *h = k->k.h;
	const cJSON *note = cJSON_GetObjectItemCaseSensitive(data, "issue_"
								   "note");
	const char *no = ac_str(note, "issue_note_no");
	enum luong_status st;

	if (!no)
		return LUONG_E_INVAL;
	if (!LUONG_HAS(h->events, request)) {
		h->log->log(ctx, LUONG_LOG_WARN,
			    "push of %s asked, but the "
			    "Luồng host is too old to take it (SDK 1.2)",
			    no);
		return LUONG_OK;
	}
	st = h->events->request(ctx, NULL, no,
				LUONG_REQUEST_PUSH | LUONG_REQUEST_RETRY);
	h->log->log(ctx, LUONG_LOG_INFO, "push of %s asked in %s: %s", no,
		    SYSTEM,
		    st == LUONG_OK ? "sent" : "nothing waits or failed for it");
	return LUONG_OK; /* the ask was heard, whatever it found */
}

/* fetch() of issue_note.saved: the note as its event carries it, read
 * now by its number (the go-live check, before Kho has sent it). */
static enum luong_status fetch_note(struct luong_ctx *ctx, void *state,
				    const char *no, cJSON **payload)
{
	struct amis_client *k = state;
	const struct luong_host *h = k->k.h;
	struct amis_reply r;
	char path[600], code[512], msg[1024];
	enum luong_status st;

	if (!ac_query_value(no, code, sizeof(code)))
		return LUONG_E_INVAL;
	snprintf(path, sizeof(path), "/IssueNotes/Code?code=%s", code);
	st = amis_call(k, NULL, "GET", path, NULL, &r);
	if (st == LUONG_OK && cJSON_IsObject(r.data)) {
		*payload = h->json->dup(r.data);
	} else if (st == LUONG_OK || st == LUONG_E_NOTFOUND) {
		h->log->fail(ctx, "%s has no issue note %s", SYSTEM, no);
		st = LUONG_E_NOTFOUND;
	} else {
		h->log->fail(ctx, "%s: %s", SYSTEM,
			     r.json ? amis_error_text(&r, msg, sizeof(msg))
				    : luong_status_text(st));
	}
	amis_reply_free(k, &r);
	return st;
}

static enum luong_status kho_webhook(struct luong_ctx *ctx, void *state,
				     const struct luong_webhook_request *req,
				     struct luong_webhook_response *resp)
{
	struct amis_client *k = state;
	const struct luong_host *h = k->k.h;
	struct amis_event ev;
	const char *event, *no;
	const cJSON *obj;
	enum luong_status st = amis_event_open(k, ctx, req, resp, &ev);
	cJSON *payload;
	char doc[256];

	event = ev.event;
	if (st != LUONG_OK)
		goto out;
	if (!strcmp(event, "issue_note.saved")) {
		obj = cJSON_GetObjectItemCaseSensitive(ev.data, "issue_note");
		no = ac_str(obj, "issue_note_no");
		if (!no) {
			st = LUONG_E_INVAL;
			goto out;
		}
		st = h->events->emit(ctx, event, no, h->json->dup(obj));
	} else if (!strcmp(event, "sales_order.changed")) {
		obj = cJSON_GetObjectItemCaseSensitive(ev.data, "sale_order");
		no = ac_str(obj, "sale_order_no");
		if (!no) {
			st = LUONG_E_INVAL;
			goto out;
		}
		/* every change is its own document: all must reach CRM */
		snprintf(doc, sizeof(doc), "%s@%s", no, ev.id);
		payload = h->json->dup(ev.data);
		cJSON_AddStringToObject(payload, "event_id", ev.id);
		st = h->events->emit(ctx, event, doc, payload);
	} else if (!strcmp(event, "issue_note.push_requested")) {
		st = push_requested(k, ctx, ev.data);
	} else if (!strcmp(event, "issue_order.created")) {
		obj = cJSON_GetObjectItemCaseSensitive(ev.data, "issue_order");
		no = ac_str(obj, "issue_order_no");
		if (no)
			st = h->events->emit(ctx, event, no, h->json->dup(obj));
	} else {
		h->log->log(ctx, LUONG_LOG_DEBUG, "event %s ignored", event);
	}
out:
	return amis_event_close(k, &ev, st, resp);
}

/* ---- lifecycle ----------------------------------------------------------------- */

static enum luong_status kho_init(struct luong_ctx *ctx,
				  const struct luong_host *host, void **state)
{
	return amis_plugin_init(ctx, host, state, SYSTEM);
}

static const struct luong_config_field kho_config[] = { AMIS_CONFIG(
	"API base URL, e.g. https://<tenant>/kho/api/public/api/v2", "AppID "
								     "(client_"
								     "id) set "
								     "by the "
								     "tenant "
								     "admin") };

/* ---- what the events carry and the actions take (SDK 1.2) ---------------- */

#define S LUONG_FIELD_STRING
#define N LUONG_FIELD_NUMBER
#define O LUONG_FIELD_OBJECT
#define A LUONG_FIELD_ARRAY
#define ANY LUONG_FIELD_ANY
#define REQ LUONG_FIELD_REQUIRED

static const struct luong_field_def note_fields[] = {
	{ "id", ANY, 0, "Kho's id of the note" },
	{ "issue_note_no", S, 0, "its number, e.g. XK00004" },
	{ "issue_note_type", S, 0, "sales_issue, other_issue, ..." },
	{ "issue_date", S, 0, "YYYY-MM-DD" },
	{ "account_number", S, 0, "the customer's code" },
	{ "account_name", S, 0, "the customer's name" },
	{ "description", S, 0, "" },
	{ "stock_code", S, 0, "the warehouse" },
	{ "lines", A, 0, "item_code, unit, quantity, price, amount, ..." },
	{ "total_amount", N, 0, "" },
	{ "accounting_status", S, 0, "synced / not_synced / failed" },
	{ "accounting_voucher_ref", S, 0, "the voucher it synced to" },
	{ "issue_order_id", ANY, 0, "" },
	{ "issue_order_no", S, 0, "" },
	{ "sale_order_id", ANY, 0, "" },
	{ "sale_order_no", S, 0, "" },
	{ "created_date", S, 0, "" },
	{ "modified_date", S, 0, "" },
	{ 0 }
};

/* what a note looks like (sandbox seed, one line) */
static const char note_sample[] =
	"{\"id\":1,\"issue_note_no\":\"XK00001\","
	"\"issue_note_type\":\"sales_issue\","
	"\"issue_date\":\"2025-11-07\",\"stock_code\":\"KHO_HN\","
	"\"sale_order_id\":1,\"sale_order_no\":\"DH00004\","
	"\"account_number\":\"KH0004\","
	"\"account_name\":\"Shop Mẹ và Bé Ánh Dương\","
	"\"description\":\"Xuất kho bán hàng theo đơn DH00004\","
	"\"lines\":[{\"item_code\":\"SP005\","
	"\"item_name\":\"Nước mắm Nam Ngư 750ml\","
	"\"unit\":\"Chai\",\"stock_code\":\"KHO_HN\","
	"\"quantity\":12,\"unit_price\":39500,"
	"\"amount\":474000}],\"total_amount\":474000,"
	"\"accounting_status\":\"not_synced\"}";

static const struct luong_field_def order_change_fields[] = {
	{ "change", S, 0, "what changed" },
	{ "sale_order", O, 0, "the order, with details[] and source_id" },
	{ "issue_notes", A, 0, "the order's issue notes with their lines" },
	{ "event_id", S, 0, "Kho's event id" },
	{ 0 }
};

static const struct luong_field_def issue_order_fields[] = {
	{ "id", ANY, 0, "" },
	{ "issue_order_no", S, 0, "" },
	{ "issue_order_date", S, 0, "" },
	{ "sale_order_id", ANY, 0, "" },
	{ "stock_code", S, 0, "" },
	{ "status", S, 0, "" },
	{ "details", A, 0, "" },
	{ "created_date", S, 0, "" },
	{ "modified_date", S, 0, "" },
	{ 0 }
};

static const struct luong_field_def create_order_inputs[] = {
	{ "source_id", ANY, REQ, "the source order's id: one Kho order each" },
	{ "sale_order_no", S, 0, "Kho's number (else Kho gives one)" },
	{ "source_no", S, 0, "the source order's number" },
	{ "account_number", S, 0, "customer code" },
	{ "account_name", S, 0, "customer name" },
	{ "address", S, 0, "" },
	{ "tax_code", S, 0, "" },
	{ "employee_code", S, 0, "" },
	{ "stock_code", S, 0, "the warehouse" },
	{ "sale_order_date", S, 0, "YYYY-MM-DD" },
	{ "delivery_date", S, 0, "YYYY-MM-DD" },
	{ "note", S, 0, "" },
	{ "details", A, REQ,
	  "item_code, unit, quantity, price, discount, "
	  "vat_rate, stock_code, source_line_id" },
	{ "source_totals", O, 0,
	  "{amount, discount, vat, total} to check "
	  "against (B10)" },
	{ 0 }
};

static const struct luong_field_def order_outputs[] = {
	{ "id", ANY, 0, "Kho's id of the order" },
	{ "sale_order_no", S, 0, "" },
	{ 0 }
};

static const struct luong_field_def delete_chain_inputs[] = {
	{ "source_id", ANY, REQ, "the source order the chain was made from" },
	{ 0 }
};

static const struct luong_field_def status_inputs[] = {
	{ "note_id", ANY, 0, "the note's id (or note_no)" },
	{ "note_no", S, 0, "the note's number (or note_id)" },
	{ "status", S, REQ, "synced / not_synced / failed" },
	{ "voucher_ref", S, 0, "the accounting voucher's number" },
	{ "error", S, 0, "why it failed" },
	{ 0 }
};

static const char order_change_sample[] =
	"{\"change\":\"issue_note_saved\",\"sale_order\":{\"id\":1,"
	"\"sale_order_no\":\"DH00001\",\"source_id\":\"1\","
	"\"execution_status\":\"Đang thực hiện\",\"details\":["
	"{\"item_code\":\"SP001\",\"quantity\":20,\"issued_quantity\":8,"
	"\"source_line_id\":\"1\"}]},\"issue_notes\":[{\"issue_note_no\":"
	"\"XK00005\",\"issue_date\":\"2026-11-30\",\"stock_code\":"
	"\"KHO_HN\",\"lines\":[{\"item_code\":\"SP001\",\"quantity\":8,"
	"\"unit\":\"Thùng\"}]}],\"event_id\":\"kho-evt-000002\"}";

static const char issue_order_sample[] =
	"{\"id\":1,\"issue_order_no\":\"LX00001\",\"issue_order_date\":"
	"\"2026-11-30\",\"sale_order_id\":1,\"stock_code\":\"KHO_HN\","
	"\"status\":\"Chưa thực hiện\",\"details\":[{\"item_code\":"
	"\"SP001\",\"quantity\":20}],\"created_date\":"
	"\"2026-11-30T08:00:00.000+07:00\",\"modified_date\":"
	"\"2026-11-30T08:00:00.000+07:00\"}";

static const struct luong_event_def kho_events[] = {
	{ .name = "issue_note.saved",
	  .kind = LUONG_EVENT_WEBHOOK,
	  .description = "an issue note (phiếu xuất kho) was saved; id = note "
			 "number",
	  .fields = note_fields,
	  .sample = note_sample,
	  .fetch = fetch_note },
	{ .name = "sales_order.changed",
	  .kind = LUONG_EVENT_WEBHOOK,
	  .description = "a sales order's execution, issued quantities or "
			 "notes changed; id = <order no>@<event id>",
	  .fields = order_change_fields,
	  .sample = order_change_sample },
	{ .name = "issue_order.created",
	  .kind = LUONG_EVENT_WEBHOOK,
	  .description = "an issue order (lệnh xuất kho) was made; id = its "
			 "number",
	  .fields = issue_order_fields,
	  .sample = issue_order_sample },
	{ 0 }
};

static const struct luong_action_def kho_actions[] = {
	{ "create_sales_order",
	  "create a sales order (đơn đặt hàng) once per "
	  "source_id; checks the source totals (B10)",
	  kho_create_sales_order, NULL, create_order_inputs, order_outputs,
	  NULL },
	{ "delete_order_chain",
	  "delete the issue orders and the sales order "
	  "made from source_id, unless Kho refuses",
	  kho_delete_order_chain, NULL, delete_chain_inputs, NULL, NULL },
	{ "set_accounting_status",
	  "set an issue note's accounting sync status "
	  "(synced / not_synced / failed)",
	  kho_set_accounting_status, NULL, status_inputs, NULL, NULL },
	{ 0 }
};

AC_PLUGIN("amis-kho", "1.0.0",
	  "AMIS Kho hàng (warehouse): orders, issue notes, accounting status",
	  kho_config, kho_events, kho_actions, kho_init, ac_plugin_fini,
	  kho_webhook)

/*
 * amis_crm.c - the AMIS CRM (AMIS Bán hàng) connector, public API v2.
 *
 *   events   revenue_request.saved      a revenue request (đề nghị ghi doanh
 *                                       số) was saved on an order (W1); id =
 *                                       the request number; parent orders
 *                                       are emitted too, flows filter them
 *            revenue_request.recalling  CRM asks before a recall (W1r): a
 *                                       guard, answered in the webhook reply
 *                                       {allow, reason}; id = "<request
 *                                       no>@<event id>", one per ask
 *            revenue_request.recalled   a recall took effect
 *            sale_order.created         an order was created
 *   actions  update_order_delivery      W2: delivery status, delivered
 *                                       quantity per line, actual issues
 */
#include "crm_catalog.h"

#define SYSTEM "AMIS CRM"

/* ---- W2: delivery write-back -------------------------------------------------- */

/* The CRM line an input line names: its id, or the first line of that
 * product not yet used. */
static const cJSON *match_line(const cJSON *crm_lines, const cJSON *in,
			       cJSON *used)
{
	const char *code = ac_str(in, "product_code");
	double want = ac_num(in, "line_id", -1);
	const cJSON *l;
	int i = 0;

	cJSON_ArrayForEach (l, crm_lines) {
		bool taken = cJSON_IsTrue(cJSON_GetArrayItem(used, i));

		if ((want >= 0 && ac_num(l, "id", -2) == want) ||
		    (want < 0 && !taken && code && ac_str(l, "product_code") &&
		     !strcmp(code, ac_str(l, "product_code")))) {
			cJSON_ReplaceItemInArray(used, i, cJSON_CreateTrue());
			return l;
		}
		i++;
	}
	return NULL;
}

static enum luong_status crm_update_order_delivery(struct luong_call *call,
						   void *state,
						   const cJSON *input,
						   cJSON **output)
{
	struct amis_client *c = state;
	const struct luong_host *h = c->k.h;
	struct amis_reply r = { 0 };
	enum luong_status st;
	const cJSON *order, *crm_lines, *in, *v;
	cJSON *rec = NULL, *lines, *used, *list;
	char buf[32], path[256];
	const char *id = ac_idtext(input, "order_id", buf, sizeof(buf));
	const char *no = ac_str(input, "order_no");

	if (id)
		snprintf(path, sizeof(path), "/SaleOrders/ID?id=%s", id);
	else if (no)
		snprintf(path, sizeof(path), "/SaleOrders/Code?code=%s", no);
	else {
		h->call->set_error(call, "input.order_id or input.order_no "
					 "(the "
					 "CRM order) is required");
		return LUONG_E_INVAL;
	}
	st = amis_call(c, call, "GET", path, NULL, &r);
	if (st != LUONG_OK)
		goto out;
	order = cJSON_IsArray(r.data) ? cJSON_GetArrayItem(r.data, 0) : r.data;
	crm_lines = cJSON_GetObjectItemCaseSensitive(order, "sale_order_"
							    "product_mappings");
	rec = cJSON_CreateObject();
	cJSON_AddNumberToObject(rec, "id", ac_num(order, "id", 0));
	if ((v = cJSON_GetObjectItemCaseSensitive(input, "delivery_status")) &&
	    cJSON_IsString(v))
		cJSON_AddStringToObject(rec, "delivery_status", v->valuestring);
	lines = cJSON_AddArrayToObject(rec, "sale_order_product_mappings");
	used = cJSON_CreateArray();
	for (int i = 0; i < cJSON_GetArraySize(crm_lines); i++)
		cJSON_AddItemToArray(used, cJSON_CreateFalse());
	cJSON_ArrayForEach (in, cJSON_GetObjectItemCaseSensitive(input, "line"
									"s")) {
		const cJSON *l = match_line(crm_lines, in, used);
		cJSON *pl;

		if (!l) {
			h->call->set_error(call,
					   "CRM order %s has no line for "
					   "product %s",
					   ac_str(order, "sale_order_no"),
					   ac_str(in, "product_code")
						   ? ac_str(in, "product_code")
						   : "?");
			cJSON_Delete(used);
			st = LUONG_E_INVAL;
			goto out;
		}
		pl = cJSON_CreateObject();
		cJSON_AddNumberToObject(pl, "id", ac_num(l, "id", 0));
		cJSON_AddNumberToObject(pl, "delivered_amount",
					ac_num(in, "delivered", 0));
		cJSON_AddItemToArray(lines, pl);
	}
	cJSON_Delete(used);
	if ((v = cJSON_GetObjectItemCaseSensitive(input, "actual_issues")) &&
	    cJSON_IsArray(v))
		cJSON_AddItemToObject(rec, "actual_issues",
				      cJSON_Duplicate(v, 1));
	amis_reply_free(c, &r);
	list = cJSON_CreateArray();
	cJSON_AddItemToArray(list, rec);
	rec = NULL;
	st = amis_call(c, call, "PUT", "/SaleOrders", list, &r);
	cJSON_Delete(list);
	if (st == LUONG_OK) {
		const cJSON *o = cJSON_GetArrayItem(r.data, 0);

		*output = cJSON_CreateObject();
		cJSON_AddNumberToObject(*output, "id", ac_num(o, "id", 0));
		cJSON_AddStringToObject(*output, "sale_order_no",
					ac_str(o, "sale_order_no")
						? ac_str(o, "sale_order_no")
						: "");
		cJSON_AddStringToObject(*output, "delivery_status",
					ac_str(o, "delivery_status")
						? ac_str(o, "delivery_status")
						: "");
	}
out:
	cJSON_Delete(rec);
	amis_reply_free(c, &r);
	return st;
}

/* ---- events -------------------------------------------------------------------- */

/* The ledger's reason reads "step <id> (<conn>.<action>): <why>"; CRM
 * users only need the why. */
static const char *plain_reason(const char *reason)
{
	const char *p;

	if (reason && !strncmp(reason, "step ", 5) &&
	    (p = strstr(reason, "): ")))
		return p + 3;
	return reason;
}

/* W1r: the flows decide now, and CRM obeys the answer. */
static enum luong_status crm_recalling(struct amis_client *c,
				       struct luong_ctx *ctx, const char *event,
				       const char *eid, const cJSON *data,
				       struct luong_webhook_response *resp)
{
	const struct luong_host *h = c->k.h;
	const cJSON *rr = cJSON_GetObjectItemCaseSensitive(data, "revenue_"
								 "request");
	const char *no = ac_str(rr, "revenue_request_no");
	cJSON *payload, *out = NULL, *answer;
	char *reason = NULL, doc[256];
	enum luong_status st;

	if (!no)
		return LUONG_E_INVAL;
	answer = cJSON_CreateObject();
	if (!LUONG_HAS(h->events, emit_sync)) {
		cJSON_AddBoolToObject(answer, "allow", false);
		cJSON_AddStringToObject(answer, "reason",
					"the Luồng host is too "
					"old to answer recalls");
		ac_reply(h, resp, 200, answer);
		return LUONG_OK;
	}
	/* one document per ask: a refused recall may be asked again later */
	snprintf(doc, sizeof(doc), "%s@%s", no, eid);
	payload = h->json->dup(data);
	cJSON_AddStringToObject(payload, "event_id", eid);
	st = h->events->emit_sync(ctx, event, doc, payload, &out, &reason);
	if (st == LUONG_OK || st == LUONG_E_NOTFOUND) {
		/* allowed, or no flow guards recalls of this order */
		cJSON_AddBoolToObject(answer, "allow", true);
		if (out)
			cJSON_AddItemToObject(answer, "result", out);
		out = NULL;
	} else {
		cJSON_AddBoolToObject(answer, "allow", false);
		cJSON_AddStringToObject(answer, "reason",
					reason ? plain_reason(reason)
					       : luong_status_text(st));
	}
	h->log->log(ctx, LUONG_LOG_INFO, "recall of %s %s%s%s", no,
		    st == LUONG_OK || st == LUONG_E_NOTFOUND ? "allowed"
							     : "refused",
		    reason ? ": " : "", reason ? reason : "");
	h->json->del(out);
	h->mem->free(reason);
	ac_reply(h, resp, 200, answer);
	return LUONG_OK;
}

/* The catalogue events: "<key>.created|updated" from CRM become
 * "<key>.changed" with the record at the top, as MISA's polls give
 * theirs; a customer says whether it has crossed to accounting (C1). */
static const struct {
	const char *key, *code;
} catalogues[] = {
	{ "customer", "account_number" },
	{ "product", "product_code" },
	{ "customer_group", "customer_group_code" },
	{ "product_group", "product_group_code" },
};

static bool catalogue_event(struct amis_client *c, struct luong_ctx *ctx,
			    const struct amis_event *ev, enum luong_status *st)
{
	const struct luong_host *h = c->k.h;
	char name[64];

	for (size_t i = 0; i < sizeof(catalogues) / sizeof(catalogues[0]);
	     i++) {
		size_t kl = strlen(catalogues[i].key);
		const cJSON *rec;
		const char *code;
		cJSON *payload;

		if (strncmp(ev->event, catalogues[i].key, kl) ||
		    (strcmp(ev->event + kl, ".created") &&
		     strcmp(ev->event + kl, ".updated")))
			continue;
		rec = cJSON_GetObjectItemCaseSensitive(ev->data,
						       catalogues[i].key);
		code = ac_str(rec, catalogues[i].code);
		if (!cJSON_IsObject(rec) || !code) {
			*st = LUONG_E_INVAL;
			return true;
		}
		payload = h->json->dup(rec);
		if (i == 0)
			cJSON_AddBoolToObject(payload, "crossed",
					      crm_crossed(c, code));
		cJSON_AddStringToObject(payload, "event_id", ev->id);
		snprintf(name, sizeof(name), "%s.changed", catalogues[i].key);
		*st = h->events->emit(ctx, name, code, payload);
		return true;
	}
	return false;
}

/* A document's customer travels with it (C1): from now on its edits
 * cross at once. */
static void document_crossing(struct amis_client *c, const cJSON *data)
{
	const char *code = ac_str(cJSON_GetObjectItemCaseSensitive(data, "cust"
									 "ome"
									 "r"),
				  "account_number");

	crm_mark_crossed(c, code);
}

static enum luong_status crm_webhook(struct luong_ctx *ctx, void *state,
				     const struct luong_webhook_request *req,
				     struct luong_webhook_response *resp)
{
	struct amis_client *c = state;
	const struct luong_host *h = c->k.h;
	struct amis_event ev;
	const char *event, *no = NULL;
	enum luong_status st = amis_event_open(c, ctx, req, resp, &ev);

	event = ev.event;
	if (st != LUONG_OK)
		return amis_event_close(c, &ev, st, NULL);
	if (!strcmp(event, "revenue_request.recalling")) {
		st = crm_recalling(c, ctx, event, ev.id, ev.data, resp);
		return amis_event_close(c, &ev, st, NULL);
	}
	if (catalogue_event(c, ctx, &ev, &st))
		return amis_event_close(c, &ev, st, resp);
	if (!strcmp(event, "revenue_request.saved") ||
	    !strcmp(event, "quote.created") ||
	    !strcmp(event, "invoice_request.created"))
		document_crossing(c, ev.data);
	if (!strcmp(event, "quote.created"))
		no = ac_str(cJSON_GetObjectItemCaseSensitive(ev.data, "quote"),
			    "quote_no");
	else if (!strcmp(event, "invoice_request.created"))
		no = ac_str(cJSON_GetObjectItemCaseSensitive(ev.data, "invoice_"
								      "reques"
								      "t"),
			    "invoice_request_no");
	else if (!strcmp(event, "revenue_request.saved") ||
		 !strcmp(event, "revenue_request.recalled"))
		no = ac_str(cJSON_GetObjectItemCaseSensitive(ev.data, "revenue_"
								      "reques"
								      "t"),
			    "revenue_request_no");
	else if (!strcmp(event, "sale_order.created"))
		no = ac_str(cJSON_GetObjectItemCaseSensitive(ev.data, "sale_"
								      "order"),
			    "sale_order_no");
	else
		h->log->log(ctx, LUONG_LOG_DEBUG, "event %s ignored", event);
	if (no) {
		cJSON *payload = h->json->dup(ev.data);

		cJSON_AddStringToObject(payload, "event_id", ev.id);
		st = h->events->emit(ctx, event, no, payload);
	}
	return amis_event_close(c, &ev, st, resp);
}

/* ---- lifecycle ------------------------------------------------------------------- */

static enum luong_status crm_init(struct luong_ctx *ctx,
				  const struct luong_host *host, void **state)
{
	return amis_plugin_init(ctx, host, state, SYSTEM);
}

static const struct luong_config_field crm_config[] = { AMIS_CONFIG(
	"API base URL, e.g. "
	"https://amisapp.misa.vn/crm/gc/api/public/api/v2",
	"AppID (client_id) from Settings > Developer > API") };

/* ---- what the events carry and the action takes (SDK 1.2) ---------------- */

static const struct luong_field_def request_fields[] = {
	{ "revenue_request", LUONG_FIELD_OBJECT, 0,
	  "the request: revenue_request_no, ..." },
	{ "sale_order", LUONG_FIELD_OBJECT, 0,
	  "its order: id, sale_order_no, is_parent, "
	  "sale_order_product_mappings[], ..." },
	{ "customer", LUONG_FIELD_OBJECT, 0, "the order's customer" },
	{ "event_id", LUONG_FIELD_STRING, 0, "CRM's event id" },
	{ 0 }
};

static const struct luong_field_def order_fields[] = {
	{ "sale_order", LUONG_FIELD_OBJECT, 0,
	  "the order: id, sale_order_no, account_number, sale_order_date, "
	  "sale_order_product_mappings[], ..." },
	{ "event_id", LUONG_FIELD_STRING, 0, "CRM's event id" },
	{ 0 }
};

static const char order_sample[] =
	"{\"sale_order\":{\"id\":1,\"sale_order_no\":\"DH00001\","
	"\"account_number\":\"KH0001\",\"sale_order_date\":\"2025-11-03\","
	"\"owner_name\":\"Lê Minh Tuấn\",\"employee_code\":\"NV001\","
	"\"sale_order_product_mappings\":[{\"product_code\":\"SP001\","
	"\"amount\":20,\"stock_code\":\"KHO_HN\"}]},"
	"\"event_id\":\"crm-evt-000001\"}";

static const struct luong_field_def delivery_inputs[] = {
	{ "order_id", LUONG_FIELD_ANY, 0, "CRM's order id (or order_no)" },
	{ "order_no", LUONG_FIELD_STRING, 0,
	  "the order's number (or "
	  "order_id)" },
	{ "delivery_status", LUONG_FIELD_ANY, 0, "CRM's delivery status" },
	{ "lines", LUONG_FIELD_ARRAY, 0,
	  "[{line_id?, product_code, "
	  "delivered}]" },
	{ "actual_issues", LUONG_FIELD_ARRAY, 0,
	  "[{issue_note_no, "
	  "issue_date, stock_code, product_code, quantity, unit}]" },
	{ 0 }
};

static const struct luong_field_def delivery_outputs[] = {
	{ "id", LUONG_FIELD_ANY, 0, "CRM's order id" },
	{ "sale_order_no", LUONG_FIELD_STRING, 0, "" },
	{ "delivery_status", LUONG_FIELD_ANY, 0, "" },
	{ 0 }
};

static const char request_sample[] =
	"{\"revenue_request\":{\"id\":1,\"revenue_request_no\":"
	"\"DNGDS00001\",\"sale_order_no\":\"DH00004\",\"amount\":1967800,"
	"\"request_date\":\"2025-11-06\",\"status\":"
	"\"Đã đề nghị ghi doanh số\"},\"sale_order\":{\"id\":4,"
	"\"sale_order_no\":\"DH00004\",\"is_parent\":false,"
	"\"account_number\":\"KH0004\",\"sale_order_product_mappings\":"
	"[{\"product_code\":\"SP005\",\"amount\":12,"
	"\"stock_code\":\"KHO_HN\"}]},\"customer\":{\"account_number\":"
	"\"KH0004\",\"account_name\":\"Shop Mẹ và Bé Ánh Dương\"},"
	"\"event_id\":\"crm-evt-000001\"}";

static const struct luong_field_def customer_fields[] = {
	{ "account_number", LUONG_FIELD_STRING, 0,
	  "the code (the document id)" },
	{ "account_name", LUONG_FIELD_STRING, 0, "" },
	{ "tax_code", LUONG_FIELD_STRING, 0, "" },
	{ "billing_address", LUONG_FIELD_STRING, 0, "" },
	{ "office_tel", LUONG_FIELD_STRING, 0, "" },
	{ "office_email", LUONG_FIELD_STRING, 0, "" },
	{ "customer_group_code", LUONG_FIELD_STRING, 0, "" },
	{ "customer_group_name", LUONG_FIELD_STRING, 0, "" },
	{ "crossed", LUONG_FIELD_BOOL, 0,
	  "it has crossed to accounting: a quote, order or invoice request "
	  "of it was heard, or accounting sent it (C1)" },
	{ "changed_by", LUONG_FIELD_STRING, 0, "api: written through the API" },
	{ "event_id", LUONG_FIELD_STRING, 0, "CRM's event id" },
	{ 0 }
};

static const char customer_sample[] =
	"{\"id\":6,\"account_number\":\"KH0005\",\"account_name\":"
	"\"Công ty CP Xây dựng Minh Phát\",\"tax_code\":\"0107654321\","
	"\"customer_group_code\":\"DN\",\"customer_group_name\":"
	"\"Khách hàng doanh nghiệp\",\"crossed\":false,"
	"\"event_id\":\"crm-evt-000001\"}";

static const struct luong_field_def product_fields[] = {
	{ "product_code", LUONG_FIELD_STRING, 0, "the code (the document id)" },
	{ "product_name", LUONG_FIELD_STRING, 0, "" },
	{ "usage_unit", LUONG_FIELD_STRING, 0, "main unit" },
	{ "unit_price", LUONG_FIELD_ANY, 0, "sale price" },
	{ "purchased_price", LUONG_FIELD_ANY, 0, "" },
	{ "tax", LUONG_FIELD_ANY, 0, "VAT percent" },
	{ "product_group_code", LUONG_FIELD_STRING, 0, "" },
	{ "product_group_name", LUONG_FIELD_STRING, 0, "" },
	{ "changed_by", LUONG_FIELD_STRING, 0, "api: written through the API" },
	{ "event_id", LUONG_FIELD_STRING, 0, "CRM's event id" },
	{ 0 }
};

static const char product_sample[] =
	"{\"id\":1,\"product_code\":\"SP001\",\"product_name\":"
	"\"Nước khoáng La Vie 500ml (thùng 24 chai)\",\"usage_unit\":"
	"\"Thùng\",\"unit_price\":96000,\"purchased_price\":82000,"
	"\"tax\":10,\"product_group_code\":\"DOUONG\","
	"\"event_id\":\"crm-evt-000002\"}";

static const struct luong_field_def group_fields[] = {
	{ "customer_group_code", LUONG_FIELD_STRING, 0,
	  "a customer group's code" },
	{ "customer_group_name", LUONG_FIELD_STRING, 0, "" },
	{ "product_group_code", LUONG_FIELD_STRING, 0,
	  "a product group's code" },
	{ "product_group_name", LUONG_FIELD_STRING, 0, "" },
	{ "event_id", LUONG_FIELD_STRING, 0, "CRM's event id" },
	{ 0 }
};

static const char group_sample[] = "{\"id\":1,\"product_group_code\":"
				   "\"DOUONG\","
				   "\"product_group_name\":\"Đồ "
				   "uống\",\"event_id\":"
				   "\"crm-evt-000003\"}";

static const struct luong_field_def employee_fields[] = {
	{ "employee_code", LUONG_FIELD_STRING, 0,
	  "the code (the document id)" },
	{ "employee_name", LUONG_FIELD_STRING, 0, "" },
	{ "email", LUONG_FIELD_STRING, 0, "" },
	{ "mobile", LUONG_FIELD_STRING, 0, "" },
	{ "organization_unit", LUONG_FIELD_STRING, 0, "" },
	{ 0 }
};

static const char employee_sample[] =
	"{\"id\":1,\"employee_code\":\"NV001\",\"employee_name\":"
	"\"Lê Minh Tuấn\",\"mobile\":\"0912 345 678\",\"organization_"
	"unit\":\"Phòng Kinh doanh\",\"email\":\"tuan.lm@anphat.vn\"}";

static const struct luong_field_def document_fields[] = {
	{ "quote", LUONG_FIELD_OBJECT, 0,
	  "quote.created: quote_no, account_number, quote_date, "
	  "quote_product_mappings[], totals" },
	{ "invoice_request", LUONG_FIELD_OBJECT, 0,
	  "invoice_request.created: invoice_request_no, sale_order_no, "
	  "account_number, request_date, invoice_request_product_mappings[], "
	  "totals" },
	{ "customer", LUONG_FIELD_OBJECT, 0,
	  "the document's customer, which travels with it (C1)" },
	{ "event_id", LUONG_FIELD_STRING, 0, "CRM's event id" },
	{ 0 }
};

static const char document_sample[] =
	"{\"invoice_request\":{\"id\":1,\"invoice_request_no\":"
	"\"DNXHD00001\",\"sale_order_no\":\"DH00001\","
	"\"account_number\":\"KH0001\",\"request_date\":\"2025-11-12\","
	"\"status\":\"Chờ duyệt\",\"invoice_request_product_mappings\":"
	"[{\"product_code\":\"SP001\",\"amount\":20,\"price\":96000,"
	"\"tax_percent\":10}],\"total_amount\":2112000},"
	"\"customer\":{\"account_number\":\"KH0001\",\"account_name\":"
	"\"Công ty TNHH Phân phối Hưng Thịnh\"},\"event_id\":"
	"\"crm-evt-000004\"}";

static const struct luong_event_def crm_events[] = {
	{ .name = "revenue_request.saved",
	  .kind = LUONG_EVENT_WEBHOOK,
	  .description = "a revenue request was saved on an order (parent "
			 "orders too); "
			 "id = request number",
	  .fields = request_fields,
	  .sample = request_sample },
	{ .name = "revenue_request.recalling",
	  .kind = LUONG_EVENT_GUARD,
	  .description = "guard: CRM asks before recalling a revenue request; "
			 "id = "
			 "<request no>@<event id>",
	  .fields = request_fields,
	  .sample = request_sample },
	{ .name = "revenue_request.recalled",
	  .kind = LUONG_EVENT_WEBHOOK,
	  .description = "a recall took effect; id = request number",
	  .fields = request_fields,
	  .sample = request_sample },
	{ .name = "sale_order.created",
	  .kind = LUONG_EVENT_WEBHOOK,
	  .description = "an order was created; id = order number",
	  .fields = order_fields,
	  .sample = order_sample },
	{ .name = "customer.changed",
	  .kind = LUONG_EVENT_WEBHOOK,
	  .description = "a customer was added or edited (in CRM or through "
			 "the API); id = "
			 "its code; `crossed` says whether it is in accounting "
			 "yet (C1)",
	  .fields = customer_fields,
	  .sample = customer_sample },
	{ .name = "product.changed",
	  .kind = LUONG_EVENT_WEBHOOK,
	  .description = "a product was added or edited; id = its code",
	  .fields = product_fields,
	  .sample = product_sample },
	{ .name = "product_group.changed",
	  .kind = LUONG_EVENT_WEBHOOK,
	  .description = "a product group was added or edited; id = its code",
	  .fields = group_fields,
	  .sample = group_sample },
	{ .name = "customer_group.changed",
	  .kind = LUONG_EVENT_WEBHOOK,
	  .description = "a customer group was added or edited; id = its code "
			 "(C1: it "
			 "goes to accounting with its first customer, not by "
			 "itself)",
	  .fields = group_fields,
	  .sample = group_sample },
	{ .name = "employee.changed",
	  .kind = LUONG_EVENT_WEBHOOK,
	  .description = "an employee of the AMIS system (CRM does not send "
			 "it: the connect "
			 "sequence and its sync now give them); id = employee "
			 "code",
	  .fields = employee_fields,
	  .sample = employee_sample },
	{ .name = "quote.created",
	  .kind = LUONG_EVENT_WEBHOOK,
	  .description = "a quote was made (C7); id = quote number",
	  .fields = document_fields,
	  .sample = document_sample },
	{ .name = "invoice_request.created",
	  .kind = LUONG_EVENT_WEBHOOK,
	  .description = "an invoice request was sent to accounting (C4); id = "
			 "its number",
	  .fields = document_fields,
	  .sample = document_sample },
	{ 0 }
};

static const struct luong_action_def crm_actions[] = {
	{ "update_order_delivery",
	  "write an order's delivery status, "
	  "delivered quantity per line and actual issues",
	  crm_update_order_delivery, NULL, delivery_inputs, delivery_outputs,
	  NULL },
	{ "save_customer",
	  "add or update a customer by its code, with its group made when "
	  "CRM has none (C1)",
	  crm_save_customer, NULL, crm_customer_inputs, crm_saved_outputs,
	  NULL },
	{ "save_product",
	  "add or update a product by its code, with its group made when "
	  "CRM has none (C1)",
	  crm_save_product, NULL, crm_product_inputs, crm_saved_outputs, NULL },
	{ "save_customer_group", "add or update a customer group by its code",
	  crm_save_customer_group, NULL, crm_group_inputs, crm_saved_outputs,
	  NULL },
	{ "save_product_group", "add or update a product group by its code",
	  crm_save_product_group, NULL, crm_group_inputs, crm_saved_outputs,
	  NULL },
	{ "update_order_accounting",
	  "C3: what accounting knows of an order (statuses, delivered "
	  "quantity, receipts, invoiced value)",
	  crm_update_order_accounting, NULL, crm_order_accounting_inputs, NULL,
	  NULL },
	{ "answer_invoice_request",
	  "C4: accounting approved or refused an invoice request",
	  crm_answer_invoice_request, NULL, crm_invoice_answer_inputs, NULL,
	  NULL },
	{ "set_stock", "C5: stock per product and warehouse, main unit",
	  crm_set_stock, NULL, crm_stock_inputs, NULL, NULL },
	{ "set_customer_debt",
	  "C6: a customer's receivable at one branch (and the sum)",
	  crm_set_customer_debt, NULL, crm_debt_inputs, NULL, NULL },
	{ "save_price_policy",
	  "C8: add or update a price policy by its code (items replaced)",
	  crm_save_price_policy, NULL, crm_policy_inputs, crm_saved_outputs,
	  NULL },
	{ "list_records",
	  "every record of a resource, all pages (the connect sequence)",
	  crm_list_records, NULL, crm_list_inputs, crm_list_outputs, NULL },
	{ "mark_crossed",
	  "customers already the same in accounting: from now on their "
	  "edits cross at once (the connect sequence)",
	  crm_mark_crossed_action, NULL, crm_codes_inputs, NULL, NULL },
	{ 0 }
};

AC_PLUGIN("amis-crm", "1.0.0",
	  "AMIS CRM (AMIS Bán hàng): revenue requests, recalls, delivery "
	  "write-back",
	  crm_config, crm_events, crm_actions, crm_init, ac_plugin_fini,
	  crm_webhook)

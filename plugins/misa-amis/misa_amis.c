/*
 * misa_amis.c - the MISA AMIS Kế toán connector (ACT open API, apis.md §1).
 *
 *   actions  save_voucher       queue a voucher request (async): org_refid =
 *                               the call's idempotency key; the result comes
 *                               by MISA's signed callback -> LUONG_PENDING;
 *                               its check() (go-live) confirms the customer,
 *                               item and stock codes exist in MISA
 *            save_dictionary    create or update catalogue items
 *            get_dictionary, get_inventory_balance, get_debt_balance
 *                               reads with skip/take paging
 *   events   voucher.failed     MISA refused a voucher request (from the
 *                               callback); carries the save's `reference`
 *            inventory_item.changed, account_object.changed
 *                               polls of the catalogues by last_sync_time
 *   webhook  POST /callback     MISA's result callback, signature checked
 */
#include "misa_amis_int.h"

void misa_reply_free(struct misa *m, struct misa_reply *r)
{
	m->k.h->json->del(r->env);
	m->k.h->json->del(r->data);
	memset(r, 0, sizeof(*r));
}

/* Data and CustomData may come as JSON text or as JSON. */
cJSON *misa_second_parse(struct misa *m, const cJSON *v)
{
	if (cJSON_IsString(v))
		return m->k.h->json->parse(v->valuestring,
					   strlen(v->valuestring));
	return v && !cJSON_IsNull(v) ? cJSON_Duplicate(v, 1) : NULL;
}

/* POST one JSON body; fills r with the envelope. */
static enum luong_status post(struct misa *m, struct luong_call *call,
			      const char *path, const cJSON *body,
			      const char *token, struct misa_reply *r)
{
	const struct luong_host *h = m->k.h;
	char url[1024], *text = h->json->print(body);
	struct luong_http_header hdrs[] = {
		{ "Content-Type", "application/json" },
		{ "X-MISA-AccessToken", token ? token : "" },
	};
	enum luong_status st;
	long status = 0;

	memset(r, 0, sizeof(*r));
	snprintf(url, sizeof(url), "%s%s", m->server, path);
	st = ac_http(&m->k, call, "POST", url, hdrs, token ? 2 : 1, text,
		     &status, &r->env);
	h->mem->free(text);
	if (st != LUONG_OK)
		return st;
	if (!cJSON_IsObject(r->env)) {
		if (call)
			h->call->set_error(call,
					   "%s answered HTTP %ld without "
					   "a JSON envelope",
					   SYSTEM, status);
		return LUONG_E_REMOTE;
	}
	r->code = ac_str(r->env, "ErrorCode");
	r->message = ac_str(r->env, "ErrorMessage");
	r->data = misa_second_parse(m, cJSON_GetObjectItemCaseSensitive(r->env,
									"Dat"
									"a"));
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r->env, "Success"))
		       ? LUONG_OK
		       : LUONG_E_REMOTE;
}

/* Codes that say the connection itself is refused. */
static bool auth_code(const char *code)
{
	return code && (!strcmp(code, "InvalidAppID") ||
			!strcmp(code, "AppIDDisconnect") ||
			!strcmp(code, "InvalidAccessToken") ||
			!strcmp(code, "DBAmisNotConnectDBACT"));
}

/* POST /api/oauth/actopen/connect; the token goes to memory and kv. */
static enum luong_status misa_connect(struct ac_conn *k,
				      struct luong_call *call)
{
	struct misa *m = (struct misa *)k;
	const struct luong_host *h = k->h;
	cJSON *body = cJSON_CreateObject();
	struct misa_reply r;
	enum luong_status st;
	const char *tok;

	cJSON_AddStringToObject(body, "app_id", m->app_id);
	cJSON_AddStringToObject(body, "access_code", m->access_code);
	cJSON_AddStringToObject(body, "org_company_code", m->org);
	st = post(m, call, "/api/oauth/actopen/connect", body, NULL, &r);
	cJSON_Delete(body);
	if (st == LUONG_OK && !(tok = ac_str(r.data, "access_token")))
		st = LUONG_E_REMOTE;
	if (st == LUONG_OK) {
		ac_token_store(k, tok);
	} else if (st == LUONG_E_REMOTE) {
		if (call)
			h->call->set_error(call,
					   "%s refused the connection "
					   "(app_id, access_code, "
					   "org_company_code): %s [%s]",
					   SYSTEM,
					   r.message ? r.message : "no reason",
					   r.code ? r.code : "?");
		st = LUONG_E_AUTH;
	}
	misa_reply_free(m, &r);
	return st;
}

/*
 * A data call POST /apir/sync/actopen/<fn>. Adds app_id and
 * org_company_code to `body` (borrowed, modified). On ExpiredToken it
 * connects again and retries once. LUONG_OK: Success; LUONG_E_REMOTE:
 * Success false with r->code/message set (the caller words the error);
 * LUONG_E_AUTH: the app is refused; otherwise transport faults.
 */
enum luong_status misa_call(struct misa *m, struct luong_call *call,
			    const char *fn, cJSON *body, struct misa_reply *r)
{
	char path[128], token[512];
	enum luong_status st;

	memset(r, 0, sizeof(*r));
	cJSON_DeleteItemFromObjectCaseSensitive(body, "app_id");
	cJSON_DeleteItemFromObjectCaseSensitive(body, "org_company_code");
	cJSON_AddStringToObject(body, "app_id", m->app_id);
	cJSON_AddStringToObject(body, "org_company_code", m->org);
	snprintf(path, sizeof(path), "/apir/sync/actopen/%s", fn);
	st = ac_token(&m->k, call, false, NULL, token, sizeof(token));
	for (int round = 0; st == LUONG_OK; round++) {
		st = post(m, call, path, body, token, r);
		if (st != LUONG_E_REMOTE || round > 0 ||
		    !ac_token_expired(r->code))
			break;
		st = ac_token_renew(&m->k, call, r->code, "connecting again",
				    token, sizeof(token));
		misa_reply_free(m, r);
	}
	if (st == LUONG_E_REMOTE && auth_code(r->code)) {
		if (call)
			m->k.h->call->set_error(
				call, "%s refused the app: %s [%s]", SYSTEM,
				r->message ? r->message : "no reason", r->code);
		st = LUONG_E_AUTH;
	}
	return st;
}

void misa_remote_error(struct misa *m, struct luong_call *call,
		       const char *what, const struct misa_reply *r)
{
	m->k.h->call->set_error(
		call, "%s refused %s: %s [%s]", SYSTEM, what,
		r->message && *r->message ? r->message : "no reason given",
		r->code && *r->code ? r->code : "no error code");
}

/* ---- lifecycle ------------------------------------------------------------------- */

static enum luong_status misa_init(struct luong_ctx *ctx,
				   const struct luong_host *host, void **state)
{
	struct misa *m;
	enum luong_status st = ac_state_new(host, sizeof(*m), state);

	if (st != LUONG_OK)
		return st;
	m = *state;
	ac_conn_init(&m->k, ctx, host, SYSTEM, 20000, misa_connect);
	m->server = host->config->get(ctx, "server");
	m->app_id = host->config->get(ctx, "app_id");
	m->access_code = host->config->get(ctx, "access_code");
	m->org = host->config->get(ctx, "org_company_code");
	if (!m->server || !m->app_id || !m->access_code || !m->org)
		return LUONG_E_CONFIG;
	return LUONG_OK;
}

static const struct luong_config_field misa_config[] = {
	{ "server", LUONG_CFG_URL, LUONG_CFG_REQUIRED, NULL,
	  "ACT open API base URL, e.g. https://actapp.misa.vn" },
	{ "app_id", LUONG_CFG_STRING, LUONG_CFG_REQUIRED, NULL,
	  "app id issued by MISA; also the key of the callback signature" },
	{ "access_code", LUONG_CFG_SECRET, LUONG_CFG_REQUIRED, NULL,
	  "access code (mã kết nối) generated by the tenant admin" },
	{ "org_company_code", LUONG_CFG_STRING, LUONG_CFG_REQUIRED, NULL,
	  "the company's code (tenant domain code)" },
	{ "timeout_ms", LUONG_CFG_INT, 0, "20000",
	  "time-out of one API request" },
	{ 0 }
};

/* ---- what the events carry and the actions take (SDK 1.2) ---------------- */

#define S LUONG_FIELD_STRING
#define I LUONG_FIELD_INTEGER
#define B LUONG_FIELD_BOOL
#define ANY LUONG_FIELD_ANY
#define REQ LUONG_FIELD_REQUIRED

static const struct luong_field_def failed_fields[] = {
	{ "org_refid", S, 0, "the call's idempotency key" },
	{ "document_id", S, 0, "the source document" },
	{ "error_code", S, 0, "MISA's code, e.g. InvalidParam" },
	{ "error_message", S, 0, "MISA's message" },
	{ "reason", S, 0, "the failure in words" },
	{ "reference", ANY, 0, "what save_voucher's input carried as it" },
	{ 0 }
};

/* A catalogue row as get_dictionary gives it (data_type 2: items). */
static const struct luong_field_def item_fields[] = {
	{ "inventory_item_id", S, 0, "MISA's id" },
	{ "inventory_item_code", S, 0, "the item's code (the document id)" },
	{ "inventory_item_name", S, 0, "" },
	{ "inventory_item_type", ANY, 0, "0 goods, 2 service" },
	{ "unit_name", S, 0, "" },
	{ "unit_price", ANY, 0, "purchase price" },
	{ "sale_price1", ANY, 0, "sale price" },
	{ "vat_rate", ANY, 0, "percent" },
	{ "inventory_item_category_code", S, 0, "" },
	{ "inactive", B, 0, "" },
	{ 0 }
};

static const char item_sample[] =
	"{\"inventory_item_id\":\"f6000000-0000-4000-8000-000000000001\","
	"\"inventory_item_code\":\"SP001\",\"inventory_item_name\":"
	"\"Nước khoáng La Vie 500ml (thùng 24 chai)\","
	"\"inventory_item_type\":0,\"unit_name\":\"Thùng\","
	"\"unit_price\":82000,\"sale_price1\":96000,\"vat_rate\":10,"
	"\"inventory_item_category_code\":\"DOUONG\",\"inactive\":false}";

/* A catalogue row as get_dictionary gives it (data_type 1: customers,
 * vendors, employees). */
static const struct luong_field_def object_fields[] = {
	{ "account_object_id", S, 0, "MISA's id" },
	{ "account_object_code", S, 0, "the code (the document id)" },
	{ "account_object_name", S, 0, "" },
	{ "account_object_type", ANY, 0, "0 organisation, 1 person" },
	{ "is_customer", B, 0, "" },
	{ "is_vendor", B, 0, "" },
	{ "is_employee", B, 0, "" },
	{ "address", S, 0, "" },
	{ "company_tax_code", S, 0, "" },
	{ "tel", S, 0, "" },
	{ "email", S, 0, "" },
	{ "account_object_group_code", S, 0, "" },
	{ "account_object_group_name", S, 0,
	  "the group's name (designed: the sandbox sends it)" },
	{ "inactive", B, 0, "" },
	{ 0 }
};

static const char object_sample[] =
	"{\"account_object_id\":\"c3000000-0000-4000-8000-000000000001\","
	"\"account_object_code\":\"KH0001\",\"account_object_name\":"
	"\"Công ty TNHH Phân phối Hưng Thịnh\",\"account_object_type\":0,"
	"\"is_customer\":true,\"is_vendor\":false,\"is_employee\":false,"
	"\"address\":\"Số 25 Lê Văn Lương, Quận Thanh Xuân, Hà Nội\","
	"\"company_tax_code\":\"0105987342\",\"tel\":\"024 3556 2211\","
	"\"email\":\"muahang@hungthinh.com.vn\","
	"\"account_object_group_code\":\"NPP\",\"inactive\":false}";

/* voucher_type and reftype are numbers; a mapping table's text "13" is
 * read as one, so they take any value here */
static const struct luong_field_def category_fields[] = {
	{ "inventory_item_category_id", S, 0, "MISA's id" },
	{ "inventory_item_category_code", S, 0, "the code (the document id)" },
	{ "inventory_item_category_name", S, 0, "" },
	{ 0 }
};

static const char category_sample[] =
	"{\"inventory_item_category_id\":\"e5000000-0000-4000-8000-"
	"000000000001\",\"inventory_item_category_code\":\"DOUONG\","
	"\"inventory_item_category_name\":\"Đồ uống\"}";

static const struct luong_field_def policy_fields[] = {
	{ "price_policy_code", S, 0, "the code (the document id)" },
	{ "price_policy_name", S, 0, "" },
	{ "from_date", S, 0, "" },
	{ "to_date", S, 0, "" },
	{ "account_object_group_code", S, 0, "the customer group it is for" },
	{ "items", LUONG_FIELD_ARRAY, 0,
	  "[{inventory_item_code, unit_name, unit_price}]" },
	{ 0 }
};

static const char policy_sample[] =
	"{\"price_policy_code\":\"CSG_DAILY_2026\",\"price_policy_name\":"
	"\"Giá đại lý 2026\",\"from_date\":\"2026-01-01\",\"to_date\":"
	"\"2026-12-31\",\"account_object_group_code\":\"DAILY\","
	"\"items\":[{\"inventory_item_code\":\"SP001\",\"unit_name\":"
	"\"Thùng\",\"unit_price\":93000}]}";

static const struct luong_field_def balance_fields[] = {
	{ "inventory_item_code", S, 0, "" },
	{ "inventory_item_name", S, 0, "" },
	{ "unit_name", S, 0, "the main unit" },
	{ "stock_code", S, 0, "" },
	{ "stock_name", S, 0, "" },
	{ "branch_id", S, 0, "" },
	{ "quantity_balance", ANY, 0, "in the main unit" },
	{ "amount_balance", ANY, 0, "" },
	{ 0 }
};

static const char balance_sample[] =
	"{\"inventory_item_code\":\"SP001\",\"inventory_item_name\":"
	"\"Nước khoáng La Vie 500ml (thùng 24 chai)\",\"unit_name\":"
	"\"Thùng\",\"stock_code\":\"KHO_HN\",\"stock_name\":\"Kho Hà "
	"Nội\",\"quantity_balance\":120,\"amount_balance\":9840000}";

static const struct luong_field_def debt_fields[] = {
	{ "account_object_code", S, 0, "" },
	{ "account_object_name", S, 0, "" },
	{ "debt_amount", ANY, 0, "receivable" },
	{ "invoice_debt_amount", ANY, 0, "" },
	{ "organization_unit_code", S, 0, "the branch" },
	{ "organization_unit_name", S, 0, "" },
	{ "is_vendor", B, 0, "" },
	{ 0 }
};

static const char debt_sample[] =
	"{\"account_object_code\":\"KH0001\",\"account_object_name\":"
	"\"Công ty TNHH Phân phối Hưng Thịnh\",\"debt_amount\":45600000,"
	"\"invoice_debt_amount\":45600000,\"organization_unit_code\":"
	"\"ANPHAT\",\"organization_unit_name\":\"Công ty Cổ phần Thương "
	"mại An Phát\",\"is_vendor\":false}";

static const struct luong_field_def order_state_fields[] = {
	{ "org_refno", S, 0, "the source's number (the document id)" },
	{ "org_refid", S, 0, "the idempotency key it was saved with" },
	{ "refno", S, 0, "MISA's number" },
	{ "status", S, 0, "not_started, in_progress, done" },
	{ "delivery_status", S, 0, "none, partial, full" },
	{ "invoice_status", S, 0, "none, partial, full" },
	{ "payment_status", S, 0, "none, partial, full" },
	{ "revenue_status", S, 0, "requested, recorded" },
	{ "total_amount", ANY, 0, "" },
	{ "invoiced_amount", ANY, 0, "" },
	{ "received_amount", ANY, 0, "" },
	{ "remaining_receivable", ANY, 0, "" },
	{ "receipts", LUONG_FIELD_ARRAY, 0, "[{refno, refdate, amount}]" },
	{ "detail", LUONG_FIELD_ARRAY, 0,
	  "[{inventory_item_code, quantity, delivered_quantity}]" },
	{ 0 }
};

static const char order_state_sample[] =
	"{\"org_refid\":\"c2-don-hang-crm-sang-ke-toan:order:DNGDS00002\","
	"\"org_refno\":\"DH00001\",\"refno\":\"DH00001\","
	"\"voucher_type\":20,\"status\":\"in_progress\","
	"\"delivery_status\":\"partial\",\"invoice_status\":\"none\","
	"\"payment_status\":\"partial\",\"revenue_status\":"
	"\"requested\",\"total_amount\":2112000,\"invoiced_amount\":0,"
	"\"received_amount\":1000000,\"remaining_receivable\":1112000,"
	"\"receipts\":[{\"refno\":\"PT00001\",\"refdate\":"
	"\"2025-11-12\",\"amount\":1000000}],\"detail\":"
	"[{\"inventory_item_code\":\"SP001\",\"quantity\":20,"
	"\"delivered_quantity\":5}]}";

static const struct luong_field_def decided_fields[] = {
	{ "org_refno", S, 0, "the request's number in the source" },
	{ "refno", S, 0, "MISA's number" },
	{ "approved", B, 0, "" },
	{ "reason", S, 0, "why it was refused" },
	{ 0 }
};

static const char decided_sample[] =
	"{\"org_refid\":\"c4:request:DNXHD00001\",\"org_refno\":"
	"\"DNXHD00001\",\"refno\":\"DNXHD00001\",\"voucher_type\":23,"
	"\"approved\":false,\"reason\":\"Sai mã số thuế\"}";

static const struct luong_field_def voucher_inputs[] = {
	{ "voucher_type", ANY, REQ, "MISA's voucher type (apis.md 1.7)" },
	{ "reftype", ANY, 0,
	  "MISA's reftype (null: MISA's default for "
	  "the voucher type)" },
	{ "detail", LUONG_FIELD_ARRAY, REQ, "the lines" },
	{ "refdate", S, 0, "YYYY-MM-DD" },
	{ "posted_date", S, 0, "YYYY-MM-DD" },
	{ "org_refno", S, 0, "the source's number" },
	{ "account_object_code", S, 0, "customer or vendor code" },
	{ "account_object_name", S, 0, "" },
	{ "account_object_address", S, 0, "" },
	{ "employee_code", S, 0, "" },
	{ "journal_memo", S, 0, "" },
	{ "description", S, 0, "" },
	{ "stock_code", S, 0, "warehouse, for lines without one" },
	{ "branch_id", S, 0, "" },
	{ "currency_id", S, 0, "VND unless given" },
	{ "exchange_rate", LUONG_FIELD_NUMBER, 0, "" },
	{ "due_date", S, 0, "" },
	{ "refno_finance", S, 0, "" },
	{ "in_outward", LUONG_FIELD_OBJECT, 0, "the issue part of a sale" },
	{ "sa_invoice", LUONG_FIELD_OBJECT, 0, "the invoice part" },
	{ "is_sale_with_outward", B, 0, "" },
	{ "include_invoice", ANY, 0, "" },
	{ "bank_account_id", S, 0, "" },
	{ "custom_field1", S, 0,
	  "free field; the Haravan flows put the source order id in it "
	  "(Số CT gốc)" },
	{ "reference", ANY, 0,
	  "kept by the plugin, echoed in "
	  "voucher.failed" },
	{ 0 }
};

static const struct luong_field_def voucher_outputs[] = {
	{ "org_refid", S, 0, "" },
	{ "refid", S, 0, "MISA's id of the voucher" },
	{ "refno", S, 0, "MISA's number" },
	{ "is_posted", B, 0, "" },
	{ "already_created", B, 0, "a resend found it made" },
	{ 0 }
};

/* save_dictionary takes one item's own members too: not declared */

static const struct luong_field_def page_inputs[] = {
	{ "data_type", ANY, 0,
	  "catalogue (get_dictionary), 0 receivable / "
	  "1 payable (get_debt_balance)" },
	{ "last_sync_time", S, 0, "" },
	{ "branch_id", S, 0, "" },
	{ "stock_id", S, 0, "" },
	{ "skip", I, 0, "" },
	{ "take", I, 0, "at most 100" },
	{ "all", B, 0, "every page (default true)" },
	{ 0 }
};

static const struct luong_field_def page_outputs[] = {
	{ "rows", LUONG_FIELD_ARRAY, 0, "" },
	{ "count", I, 0, "" },
	{ "last_sync_time", S, 0, "" },
	{ 0 }
};

static const struct luong_event_def misa_events[] = {
	{ .name = "voucher.failed",
	  .kind = LUONG_EVENT_WEBHOOK,
	  .description = "MISA refused a voucher request; id = "
			 "<org_refid>#<session>",
	  .fields = failed_fields,
	  .sample = "{\"org_refid\":\"issue-note-to-accounting:voucher:"
		    "XK00004\","
		    "\"document_id\":\"XK00004\",\"error_code\":"
		    "\"InvalidParam\","
		    "\"error_message\":\"Mã hàng \\\"SP999\\\" không tồn tại\","
		    "\"reason\":\"MISA AMIS refused the voucher\","
		    "\"reference\":{\"kind\":\"issue_note\",\"note_no\":"
		    "\"XK00004\"}}" },
	{ .name = "inventory_item.changed",
	  .kind = LUONG_EVENT_POLL,
	  .description = "items added or edited since the last poll; id = item "
			 "code",
	  .poll = misa_poll_items,
	  .default_interval_s = 900,
	  .fields = item_fields,
	  .sample = item_sample,
	  .fetch = misa_fetch_item },
	{ .name = "account_object.changed",
	  .kind = LUONG_EVENT_POLL,
	  .description = "customers, vendors, employees added or edited; id = "
			 "code",
	  .poll = misa_poll_objects,
	  .default_interval_s = 900,
	  .fields = object_fields,
	  .sample = object_sample,
	  .fetch = misa_fetch_object },
	{ .name = "inventory_item_category.changed",
	  .kind = LUONG_EVENT_POLL,
	  .description = "item categories (product groups) added or edited; id "
			 "= code "
			 "(get_dictionary data_type 14, designed)",
	  .poll = misa_poll_categories,
	  .default_interval_s = 900,
	  .fields = category_fields,
	  .sample = category_sample },
	{ .name = "inventory_balance.changed",
	  .kind = LUONG_EVENT_POLL,
	  .description = "stock per item and warehouse, all branches, in the "
			 "main unit "
			 "(C5); id = <item code>@<stock code>",
	  .poll = misa_poll_balances,
	  .default_interval_s = 900,
	  .fields = balance_fields,
	  .sample = balance_sample },
	{ .name = "account_object_debt.changed",
	  .kind = LUONG_EVENT_POLL,
	  .description = "receivable per customer and branch (C6); id = "
			 "<code>@<branch "
			 "code>",
	  .poll = misa_poll_debts,
	  .default_interval_s = 900,
	  .fields = debt_fields,
	  .sample = debt_sample },
	{ .name = "price_policy.changed",
	  .kind = LUONG_EVENT_POLL,
	  .description = "price policies added or edited (C8; get_dictionary "
			 "data_type 15, "
			 "designed); id = code",
	  .poll = misa_poll_price_policies,
	  .default_interval_s = 900,
	  .fields = policy_fields,
	  .sample = policy_sample },
	{ .name = "order.changed",
	  .kind = LUONG_EVENT_WEBHOOK,
	  .description = "a sales order or contract made from a source "
			 "document was "
			 "delivered, invoiced or paid (designed callback "
			 "data_type 3); id = "
			 "the source's number (org_refno)",
	  .fields = order_state_fields,
	  .sample = order_state_sample },
	{ .name = "invoice_request.decided",
	  .kind = LUONG_EVENT_WEBHOOK,
	  .description = "an accountant approved or refused an invoice request "
			 "(designed "
			 "callback data_type 4); id = the source's number",
	  .fields = decided_fields,
	  .sample = decided_sample },
	{ 0 }
};

static const struct luong_action_def misa_actions[] = {
	{ "save_voucher",
	  "queue a voucher request (org_refid = idempotency "
	  "key); done when MISA's callback arrives",
	  misa_save_voucher, misa_check_voucher, voucher_inputs,
	  voucher_outputs, NULL },
	{ "save_dictionary", "create or update catalogue items",
	  misa_save_dictionary, NULL, NULL, NULL, NULL },
	{ "get_dictionary", "read a catalogue by data_type, all pages",
	  misa_get_dictionary, NULL, page_inputs, page_outputs, NULL },
	{ "get_inventory_balance", "read stock per item and warehouse",
	  misa_get_inventory_balance, NULL, page_inputs, page_outputs, NULL },
	{ "get_debt_balance", "read receivables (data_type 0) or payables (1)",
	  misa_get_debt_balance, NULL, page_inputs, page_outputs, NULL },
	{ 0 }
};

/* apis.md §1: MISA documents no limit (clients go one call at a time,
 * ~120 ms apart), so none is declared: the host paces nothing unless a
 * connection sets "rate_limit", and a 429 still holds the connection
 * for its Retry-After. */
static const struct luong_rate_limit misa_rate_limit = {
	.struct_size = sizeof(struct luong_rate_limit),
	.burst = 1,
	.per_second = 0,
	.usage_header = NULL,
};

AC_PLUGIN_LIMITED("misa-amis", "1.0.0",
		  "MISA AMIS Kế toán (ACT open API): vouchers, catalogues, "
		  "stock and debt",
		  misa_config, misa_events, misa_actions, misa_init,
		  ac_plugin_fini, misa_webhook, &misa_rate_limit)

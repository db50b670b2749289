/* test_kho.c - contract tests of the AMIS Kho emulator (a designed contract,
 * sandbox/docs/kho.md) through real HTTP against a luong-sandbox child. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sbx_client.h"

#define BASE "/kho/api/public/api/v2"
#define CLIENT_ID "9b1f7d24-3c6e-4a58-8e0d-6f2a4c9b1e37"
#define CLIENT_SECRET "a2hvLXNhbmRib3gtY2xpZW50LXNlY3JldC1hbnBoYXQ="
#define HOOK_SECRET "bi-mat-webhook-kho"

static struct sbxc sbx;
static struct sbxc_recv *recv_;
static char token[128];

static void get_token(void)
{
	cJSON *r = sbxc_post_json(sbxc_url(&sbx, "kho", BASE "/Account"), NULL,
				  "{\"client_id\":\"" CLIENT_ID
				  "\",\"client_secret\":\"" CLIENT_SECRET "\""
				  "}");
	ck_assert_ptr_nonnull(r);
	const cJSON *d = cJSON_GetObjectItem(r, "data");
	ck_assert(cJSON_IsString(d));
	snprintf(token, sizeof token, "%s", d->valuestring);
	cJSON_Delete(r);
}

static void api(const char *method, const char *path, const char *body,
		struct sbxc_resp *r)
{
	char auth[200], full[512];
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
	snprintf(full, sizeof full, BASE "%s", path);
	const char *h[] = { auth, "Clientid: " CLIENT_ID,
			    "Content-Type: application/json", NULL };
	sbxc_http(method, sbxc_url(&sbx, "kho", full), h, body, 5000, r);
}

static cJSON *act(const char *name, const char *body, long *status)
{
	return sbxc_act_status(&sbx, "kho", name, body, 5000, status);
}

static void control(const char *path, const char *body)
{
	sbxc_control(&sbx, "kho", path, body);
}

static const char *str_at(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItem(o, k);
	ck_assert_msg(cJSON_IsString(v), "%s is not a string", k);
	return v->valuestring;
}

static double num_at(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItem(o, k);
	ck_assert_msg(cJSON_IsNumber(v), "%s is not a number", k);
	return v->valuedouble;
}

static cJSON *data_of(const struct sbxc_resp *r)
{
	return cJSON_GetObjectItem(r->json, "data");
}

static void expect_error(const struct sbxc_resp *r, long status,
			 const char *code)
{
	ck_assert_int_eq(r->status, status);
	ck_assert_ptr_nonnull(r->json);
	ck_assert_str_eq(str_at(r->json, "ErrorCode"), code);
	ck_assert(cJSON_IsString(cJSON_GetObjectItem(r->json, "DevMsg")));
	ck_assert(cJSON_IsString(cJSON_GetObjectItem(r->json, "UserMsg")));
	ck_assert(cJSON_IsString(cJSON_GetObjectItem(r->json, "TraceId")));
}

/* Verifies the signature with libcrypto and returns the parsed event. */
static cJSON *verified_event(int i)
{
	struct sbxc_hit *h = sbxc_recv_hit(recv_, i);
	ck_assert_ptr_nonnull(h);
	const cJSON *sig = cJSON_GetObjectItem(h->headers, "x-amis-signature");
	ck_assert(cJSON_IsString(sig));
	unsigned char mac[EVP_MAX_MD_SIZE], b64[128];
	unsigned int len = 0;
	HMAC(EVP_sha256(), HOOK_SECRET, (int)strlen(HOOK_SECRET),
	     (const unsigned char *)h->body, strlen(h->body), mac, &len);
	EVP_EncodeBlock(b64, mac, (int)len);
	ck_assert_str_eq((const char *)b64, sig->valuestring);
	cJSON *ev = cJSON_Parse(h->body);
	ck_assert_ptr_nonnull(ev);
	ck_assert_str_eq(
		str_at(ev, "event"),
		cJSON_GetObjectItem(h->headers, "x-amis-event")->valuestring);
	ck_assert_str_eq(
		str_at(ev, "id"),
		cJSON_GetObjectItem(h->headers, "x-amis-event-id")->valuestring);
	ck_assert_str_eq(str_at(ev, "source"), "amis-kho");
	sbxc_hit_free(h);
	return ev;
}

static void setup(void)
{
	ck_assert_int_eq(sbxc_start(&sbx, "kho"), 0);
	recv_ = sbxc_recv_start();
	ck_assert_ptr_nonnull(recv_);
	char body[256];
	snprintf(body, sizeof body,
		 "{\"url\":\"http://127.0.0.1:%d/luong/hooks/"
		 "kho\",\"secret\":\"" HOOK_SECRET "\"}",
		 sbxc_recv_port(recv_));
	control("/_sandbox/webhooks", body);
	get_token();
}

static void teardown(void)
{
	sbxc_recv_stop(recv_);
	ck_assert_int_eq(sbxc_stop(&sbx), 0);
}

/* A warehouse sales order as the host creates it from a CRM order (W1). */
static cJSON *create_order(const char *no)
{
	char body[1024];
	snprintf(body, sizeof body,
		 "[{\"sale_order_no\":\"%s\",\"source_id\":1,\"source_no\":\"%"
		 "s\","
		 "\"account_number\":\"KH0001\",\"account_name\":\"Công ty "
		 "TNHH Phân phối Hưng "
		 "Thịnh\",\"address\":\"Số 25 Lê Văn Lương, Thanh Xuân, Hà "
		 "Nội\",\"stock_code\":"
		 "\"KHO_HN\",\"details\":["
		 "{\"item_code\":\"SP001\",\"unit\":\"Thùng\",\"quantity\":10,"
		 "\"unit_price\":96000,"
		 "\"vat_percent\":10},"
		 "{\"item_code\":\"SP003\",\"quantity\":4,\"unit_price\":"
		 "112000,\"discount_percent\":5,"
		 "\"vat_percent\":5}]}]",
		 no, no);
	struct sbxc_resp r;
	api("POST", "/SaleOrders", body, &r);
	ck_assert_int_eq(r.status, 201);
	cJSON *o = cJSON_Duplicate(cJSON_GetArrayItem(data_of(&r), 0), true);
	sbxc_resp_free(&r);
	return o;
}

static cJSON *order_by_id(int id)
{
	char path[64];
	snprintf(path, sizeof path, "/SaleOrders/ID?id=%d", id);
	struct sbxc_resp r;
	api("GET", path, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	cJSON *o = cJSON_Duplicate(data_of(&r), true);
	sbxc_resp_free(&r);
	return o;
}

static cJSON *line(const cJSON *so, int i)
{
	return cJSON_GetArrayItem(cJSON_GetObjectItem(so, "details"), i);
}

START_TEST(test_auth_and_lookup)
{
	struct sbxc_resp r;
	sbxc_http("GET", sbxc_url(&sbx, "kho", BASE "/SaleOrders"), NULL, NULL,
		  5000, &r);
	expect_error(&r, 401, "InvalidToken");
	sbxc_resp_free(&r);
	api("GET", "/Stocks?orderBy=stock_code&isDescending=false", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(cJSON_GetArraySize(data_of(&r)), 3);
	ck_assert_str_eq(str_at(cJSON_GetArrayItem(data_of(&r), 0), "stock_"
								    "code"),
			 "KHO_DN");
	sbxc_resp_free(&r);
	api("GET", "/SaleOrders/Code?code=DH00004", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(str_at(data_of(&r), "execution_status"), "Đang thực "
								  "hiện");
	sbxc_resp_free(&r);
	api("GET", "/IssueNotes/Code?code=XK00002", NULL, &r);
	ck_assert_str_eq(str_at(data_of(&r), "issue_note_type_name"), "Xuất "
								      "khác");
	ck_assert_str_eq(str_at(data_of(&r), "accounting_status"), "Chưa đồng "
								   "bộ");
	sbxc_resp_free(&r);
	api("GET", "/Stocks", NULL, &r);
	sbxc_resp_free(&r);

	control("/_sandbox/faults", "{\"expire_tokens\":true}");
	api("GET", "/Stocks", NULL, &r);
	expect_error(&r, 401, "ExpiredToken");
	sbxc_resp_free(&r);
	get_token();
	api("GET", "/Stocks", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	sbxc_resp_free(&r);
}
END_TEST

START_TEST(test_sales_order_create_and_validate)
{
	cJSON *o = create_order("DH00101");
	ck_assert_str_eq(str_at(o, "execution_status"), "Chưa thực hiện");
	/* 960 000 + VAT 96 000; 448 000 − 22 400 + VAT 21 280 */
	ck_assert_int_eq((int)num_at(o, "total_amount"), 1408000);
	ck_assert_int_eq((int)num_at(o, "total_discount_amount"), 22400);
	ck_assert_int_eq((int)num_at(o, "total_vat_amount"), 117280);
	ck_assert_int_eq((int)num_at(o, "total_payment_amount"), 1502880);
	ck_assert_int_eq((int)num_at(line(o, 0), "issued_quantity"), 0);
	ck_assert_str_eq(str_at(line(o, 1), "item_name"), "Mì Hảo Hảo tôm chua "
							  "cay (thùng 30 gói)");
	ck_assert_str_eq(str_at(line(o, 1), "stock_code"), "KHO_HN");
	cJSON_Delete(o);

	static const struct {
		const char *body, *needle;
	} bad[] = {
		{ "[{\"sale_order_no\":\"DH00101\",\"account_number\":"
		  "\"KH0001\",\"account_name\":\"A\","
		  "\"stock_code\":\"KHO_HN\",\"details\":[{\"item_code\":"
		  "\"SP001\",\"quantity\":1}]}]",
		  "already exists" },
		{ "[{\"account_number\":\"KH0001\",\"account_name\":\"A\","
		  "\"stock_code\":\"KHO_HN\","
		  "\"details\":[{\"item_code\":\"SP999\",\"quantity\":1}]}]",
		  "is not an item" },
		{ "[{\"account_number\":\"KH0001\",\"account_name\":\"A\","
		  "\"details\":[{\"item_code\":\"SP001\",\"quantity\":1}]}]",
		  "stock_code is required" },
		{ "[{\"account_number\":\"KH0001\",\"account_name\":\"A\","
		  "\"stock_code\":\"KHO_HP\","
		  "\"details\":[{\"item_code\":\"SP001\",\"quantity\":1}]}]",
		  "not a warehouse" },
		{ "[{\"account_number\":\"KH0001\",\"account_name\":\"A\","
		  "\"stock_code\":\"KHO_HN\","
		  "\"details\":[{\"item_code\":\"SP001\",\"quantity\":1,\"vat_"
		  "percent\":12}]}]",
		  "vat_percent" },
		{ "[{\"account_number\":\"KH0001\",\"account_name\":\"A\","
		  "\"stock_code\":\"KHO_HN\","
		  "\"execution_status\":\"Done\",\"details\":[{\"item_code\":"
		  "\"SP001\",\"quantity\":1}]}]",
		  "execution_status" },
		{ "[{\"account_number\":\"KH0001\",\"account_name\":\"A\","
		  "\"stock_code\":\"KHO_HN\","
		  "\"details\":[]}]",
		  "details" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct sbxc_resp r;
		api("POST", "/SaleOrders", bad[i].body, &r);
		expect_error(&r, 400, "InvalidParam");
		ck_assert_msg(strstr(str_at(r.json, "DevMsg"), bad[i].needle),
			      "case %zu: %s", i, str_at(r.json, "DevMsg"));
		sbxc_resp_free(&r);
	}
	struct sbxc_resp r;
	api("GET", "/SaleOrders?sourceID=1", NULL, &r);
	ck_assert_int_eq(cJSON_GetArraySize(data_of(&r)), 1);
	sbxc_resp_free(&r);
}
END_TEST

START_TEST(test_delete_refused_with_downstream)
{
	struct sbxc_resp r;
	/* seeded DH00004 has an issue note: neither it nor its issue order go */
	api("DELETE", "/SaleOrders", "[1]", &r);
	expect_error(&r, 400, "HasRelatedDocuments");
	ck_assert_ptr_nonnull(strstr(str_at(r.json, "UserMsg"), "XK00001"));
	sbxc_resp_free(&r);
	api("DELETE", "/IssueOrders", "[1]", &r);
	expect_error(&r, 400, "HasRelatedDocuments");
	ck_assert_ptr_nonnull(strstr(str_at(r.json, "UserMsg"), "phiếu xuất "
								"kho"));
	sbxc_resp_free(&r);
	api("GET", "/SaleOrders/ID?id=1", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	sbxc_resp_free(&r);

	/* W1r when nothing was issued: issue order first, then the order */
	cJSON *o = create_order("DH00102");
	int so_id = (int)num_at(o, "id");
	cJSON_Delete(o);
	long st;
	char body[128];
	snprintf(body, sizeof body, "{\"sale_order_id\":%d}", so_id);
	cJSON *a = act("create_issue_order", body, &st);
	ck_assert_int_eq(st, 200);
	cJSON *io = cJSON_GetObjectItem(a, "issue_order");
	int io_id = (int)num_at(io, "id");
	ck_assert_str_eq(str_at(io, "status"), "Chưa xuất kho");
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(io, "details")),
			 2);
	cJSON_Delete(a);
	snprintf(body, sizeof body, "[%d]", so_id);
	api("DELETE", "/SaleOrders", body, &r);
	expect_error(&r, 400, "HasRelatedDocuments");
	ck_assert_ptr_nonnull(strstr(str_at(r.json, "UserMsg"), "lệnh xuất "
								"kho"));
	sbxc_resp_free(&r);
	snprintf(body, sizeof body, "[%d]", io_id);
	api("DELETE", "/IssueOrders", body, &r);
	ck_assert_int_eq(r.status, 200);
	sbxc_resp_free(&r);
	snprintf(body, sizeof body, "[%d]", so_id);
	api("DELETE", "/SaleOrders", body, &r);
	ck_assert_int_eq(r.status, 200);
	sbxc_resp_free(&r);
	snprintf(body, sizeof body, "/SaleOrders/ID?id=%d", so_id);
	api("GET", body, NULL, &r);
	expect_error(&r, 404, "NotFound");
	sbxc_resp_free(&r);
}
END_TEST

START_TEST(test_issue_note_partial_and_events)
{
	cJSON *o = create_order("DH00103");
	int so_id = (int)num_at(o, "id");
	int l0 = (int)num_at(line(o, 0), "id");
	cJSON_Delete(o);
	long st;
	char body[512];
	snprintf(body, sizeof body,
		 "{\"sale_order_id\":%d,\"issue_date\":\"2025-11-14\","
		 "\"lines\":"
		 "[{\"sale_order_detail_id\":%d,\"quantity\":4}]}",
		 so_id, l0);
	cJSON *a = act("save_issue_note", body, &st);
	ck_assert_int_eq(st, 200);
	cJSON *note = cJSON_GetObjectItem(a, "issue_note");
	ck_assert_str_eq(str_at(note, "issue_note_type"), "sales_issue");
	ck_assert_str_eq(str_at(note, "issue_note_type_name"), "Xuất kho bán "
							       "hàng");
	ck_assert_str_eq(str_at(note, "accounting_status"), "Chưa đồng bộ");
	ck_assert_int_eq((int)num_at(note, "total_amount"), 384000);
	char note_no[32];
	snprintf(note_no, sizeof note_no, "%s", str_at(note, "issue_note_no"));
	cJSON_Delete(a);

	o = order_by_id(so_id);
	ck_assert_int_eq((int)num_at(line(o, 0), "issued_quantity"), 4);
	ck_assert_int_eq((int)num_at(line(o, 1), "issued_quantity"), 0);
	ck_assert_str_eq(str_at(o, "execution_status"), "Đang thực hiện");
	cJSON_Delete(o);

	ck_assert_int_eq(sbxc_recv_wait(recv_, 2, 3000), 2);
	cJSON *e1 = verified_event(0), *e2 = verified_event(1);
	ck_assert_str_eq(str_at(e1, "event"), "issue_note.saved");
	ck_assert_str_eq(str_at(cJSON_GetObjectItem(
					cJSON_GetObjectItem(e1, "data"), "issue"
									 "_not"
									 "e"),
				"issue_note_no"),
			 note_no);
	ck_assert_str_eq(str_at(e2, "event"), "sales_order.changed");
	cJSON *d2 = cJSON_GetObjectItem(e2, "data");
	ck_assert_str_eq(str_at(cJSON_GetObjectItem(d2, "sale_order"), "executi"
								       "on_"
								       "statu"
								       "s"),
			 "Đang thực hiện");
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(d2, "issue_"
								    "notes")),
			 1);
	cJSON_Delete(e1);
	cJSON_Delete(e2);

	/* more than is left (6) is refused and changes nothing */
	snprintf(body, sizeof body,
		 "{\"sale_order_id\":%d,\"lines\":[{\"item_code\":\"SP001\","
		 "\"quantity\":7}]}",
		 so_id);
	a = act("save_issue_note", body, &st);
	ck_assert_int_eq(st, 400);
	ck_assert_ptr_nonnull(strstr(str_at(a, "error"), "vượt quá"));
	cJSON_Delete(a);
	o = order_by_id(so_id);
	ck_assert_int_eq((int)num_at(line(o, 0), "issued_quantity"), 4);
	cJSON_Delete(o);

	/* no lines: everything left goes, the order is done */
	snprintf(body, sizeof body, "{\"sale_order_no\":\"DH00103\"}");
	a = act("save_issue_note", body, &st);
	ck_assert_int_eq(st, 200);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(
				 cJSON_GetObjectItem(a, "issue_note"), "line"
								       "s")),
			 2);
	cJSON_Delete(a);
	o = order_by_id(so_id);
	ck_assert_int_eq((int)num_at(line(o, 0), "issued_quantity"), 10);
	ck_assert_int_eq((int)num_at(line(o, 1), "issued_quantity"), 4);
	ck_assert_str_eq(str_at(o, "execution_status"), "Đã thực hiện");
	cJSON_Delete(o);
	ck_assert_int_eq(sbxc_recv_wait(recv_, 4, 3000), 4);
	cJSON *e4 = verified_event(3);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(
				 cJSON_GetObjectItem(e4, "data"), "issue_"
								  "notes")),
			 2);
	cJSON_Delete(e4);
	a = act("save_issue_note", body, &st);
	ck_assert_int_eq(st, 400); /* nothing left */
	cJSON_Delete(a);

	struct sbxc_resp r;
	snprintf(body, sizeof body, "/SaleOrders/issue_notes?id=%d", so_id);
	api("GET", body, NULL, &r);
	ck_assert_int_eq(cJSON_GetArraySize(data_of(&r)), 2);
	sbxc_resp_free(&r);
}
END_TEST

START_TEST(test_issue_order_progress)
{
	long st;
	/* seeded LXK00001 of DH00004: 12 of 24 SP005 issued so far */
	cJSON *a = act("save_issue_note",
		       "{\"issue_order_no\":\"LXK00001\",\"lines\":"
		       "[{\"item_code\":\"SP005\",\"quantity\":12}]}",
		       &st);
	ck_assert_int_eq(st, 200);
	ck_assert_str_eq(str_at(cJSON_GetObjectItem(a, "issue_note"), "issue_"
								      "order_"
								      "no"),
			 "LXK00001");
	cJSON_Delete(a);
	struct sbxc_resp r;
	api("GET", "/IssueOrders/Code?code=LXK00001", NULL, &r);
	ck_assert_str_eq(str_at(data_of(&r), "status"),
			 "Đang xuất kho"); /* SP004 still left */
	sbxc_resp_free(&r);
	a = act("save_issue_note", "{\"issue_order_no\":\"LXK00001\"}", &st);
	ck_assert_int_eq(st, 200);
	cJSON_Delete(a);
	api("GET", "/IssueOrders/Code?code=LXK00001", NULL, &r);
	ck_assert_str_eq(str_at(data_of(&r), "status"), "Đã xuất kho");
	sbxc_resp_free(&r);
	cJSON *o = order_by_id(1);
	ck_assert_str_eq(str_at(o, "execution_status"), "Đã thực hiện");
	cJSON_Delete(o);
}
END_TEST

START_TEST(test_note_types)
{
	long st;
	cJSON *a = act("save_issue_note",
		       "{\"type\":\"other_issue\",\"stock_code\":\"KHO_HCM\","
		       "\"description\":\"Xuất "
		       "hủy hàng "
		       "hỏng\",\"lines\":[{\"item_code\":\"SP004\","
		       "\"quantity\":2}]}",
		       &st);
	ck_assert_int_eq(st, 200);
	cJSON *n = cJSON_GetObjectItem(a, "issue_note");
	ck_assert_str_eq(str_at(n, "issue_note_type_name"), "Xuất khác");
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(n, "sale_order_id")));
	cJSON_Delete(a);
	a = act("save_issue_note",
		"{\"type\":\"transfer\",\"stock_code\":\"KHO_HN\",\"lines\":"
		"[{\"item_code\":\"SP001\",\"quantity\":5}]}",
		&st);
	ck_assert_int_eq(st, 400); /* to_stock_code missing */
	cJSON_Delete(a);
	a = act("save_issue_note",
		"{\"type\":\"transfer\",\"stock_code\":\"KHO_HN\",\"to_stock_"
		"code\":"
		"\"KHO_DN\",\"lines\":[{\"item_code\":\"SP001\",\"quantity\":5}"
		"]}",
		&st);
	ck_assert_int_eq(st, 200);
	ck_assert_str_eq(str_at(cJSON_GetObjectItem(a, "issue_note"), "issue_"
								      "note_"
								      "type_"
								      "name"),
			 "Xuất kho điều chuyển");
	cJSON_Delete(a);
	a = act("save_issue_note",
		"{\"type\":\"Xuất kho sản xuất\",\"stock_code\":\"KHO_HN\","
		"\"lines\":[{\"item_code\":\"SP003\",\"quantity\":1}]}",
		&st);
	ck_assert_int_eq(st, 200);
	ck_assert_str_eq(str_at(cJSON_GetObjectItem(a, "issue_note"), "issue_"
								      "note_"
								      "type"),
			 "production");
	cJSON_Delete(a);
	a = act("save_issue_note",
		"{\"type\":\"gift\",\"stock_code\":\"KHO_HN\"}", &st);
	ck_assert_int_eq(st, 400);
	cJSON_Delete(a);
	a = act("save_issue_note",
		"{\"type\":\"sales_issue\",\"stock_code\":\"KHO_HN\",\"lines\":"
		"[{\"item_code\":\"SP003\",\"quantity\":1}]}",
		&st);
	ck_assert_int_eq(st, 400); /* a sales issue needs its order */
	cJSON_Delete(a);

	struct sbxc_resp r;
	api("GET", "/IssueNotes?type=other_issue&accountingStatus=not_synced",
	    NULL, &r);
	ck_assert_int_eq(cJSON_GetArraySize(data_of(&r)), 2);
	sbxc_resp_free(&r);
}
END_TEST

START_TEST(test_accounting_status)
{
	struct sbxc_resp r;
	api("PUT", "/IssueNotes",
	    "[{\"id\":2,\"accounting_status\":\"synced\",\"accounting_voucher_"
	    "ref\":\"XK0000131\"}]",
	    &r);
	ck_assert_int_eq(r.status, 200);
	cJSON *n = cJSON_GetArrayItem(data_of(&r), 0);
	ck_assert_str_eq(str_at(n, "accounting_status"), "Đã đồng bộ");
	ck_assert_str_eq(str_at(n, "accounting_status_code"), "synced");
	ck_assert_str_eq(str_at(n, "accounting_voucher_ref"), "XK0000131");
	ck_assert(cJSON_IsString(cJSON_GetObjectItem(n, "accounting_synced_"
							"at")));
	sbxc_resp_free(&r);

	api("PUT", "/IssueNotes",
	    "[{\"id\":3,\"accounting_status\":\"failed\"}]", &r);
	expect_error(&r, 400, "InvalidParam");
	sbxc_resp_free(&r);
	api("PUT", "/IssueNotes",
	    "[{\"id\":3,\"accounting_status\":\"Đồng bộ "
	    "lỗi\",\"accounting_error\":\"Mã kho "
	    "KHO_DN chưa được ánh xạ\"}]",
	    &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(str_at(cJSON_GetArrayItem(data_of(&r), 0), "accounting"
								    "_status_"
								    "code"),
			 "failed");
	sbxc_resp_free(&r);
	api("PUT", "/IssueNotes", "[{\"id\":3,\"accounting_status\":\"done\"}]",
	    &r);
	expect_error(&r, 400, "InvalidParam");
	sbxc_resp_free(&r);
	api("PUT", "/IssueNotes", "[{\"id\":3,\"lines\":[]}]", &r);
	expect_error(&r, 400, "InvalidParam");
	ck_assert_ptr_nonnull(strstr(str_at(r.json, "DevMsg"), "cannot be "
							       "changed"));
	sbxc_resp_free(&r);
	api("POST", "/IssueNotes", "[{\"issue_note_type\":\"other_issue\"}]",
	    &r);
	expect_error(&r, 405, "MethodNotAllowed");
	sbxc_resp_free(&r);
	api("DELETE", "/IssueNotes", "[2]", &r);
	expect_error(&r, 405, "MethodNotAllowed");
	sbxc_resp_free(&r);
	api("GET", "/IssueNotes?accountingStatus=synced", NULL, &r);
	ck_assert_int_eq(cJSON_GetArraySize(data_of(&r)), 2);
	sbxc_resp_free(&r);
}
END_TEST

START_TEST(test_change_execution_and_resend)
{
	long st;
	cJSON *a = act("change_execution",
		       "{\"sale_order_no\":\"DH00004\",\"execution_status\":"
		       "\"Tạm dừng\"}",
		       &st);
	ck_assert_int_eq(st, 200);
	char id[64];
	snprintf(id, sizeof id, "%s", str_at(a, "event_id"));
	cJSON_Delete(a);
	ck_assert_int_eq(sbxc_recv_wait(recv_, 1, 3000), 1);
	cJSON *e = verified_event(0);
	ck_assert_str_eq(str_at(e, "event"), "sales_order.changed");
	ck_assert_str_eq(str_at(e, "id"), id);
	cJSON *d = cJSON_GetObjectItem(e, "data");
	ck_assert_str_eq(str_at(d, "change"), "execution_status");
	ck_assert_str_eq(str_at(cJSON_GetObjectItem(d, "sale_order"), "executio"
								      "n_"
								      "status"),
			 "Tạm dừng");
	cJSON_Delete(e);
	a = act("change_execution",
		"{\"sale_order_no\":\"DH00004\",\"execution_status\":"
		"\"Paused\"}",
		&st);
	ck_assert_int_eq(st, 400);
	cJSON_Delete(a);

	char body[96];
	snprintf(body, sizeof body, "{\"id\":\"%s\"}", id);
	a = act("resend_event", body, &st);
	ck_assert_int_eq(st, 200);
	cJSON_Delete(a);
	ck_assert_int_eq(sbxc_recv_wait(recv_, 2, 3000), 2);
	e = verified_event(1);
	ck_assert_str_eq(str_at(e, "id"),
			 id); /* same id: the host must dedupe */
	cJSON_Delete(e);
	a = act("resend_event", "{\"id\":\"kho-evt-999999\"}", &st);
	ck_assert_int_eq(st, 404);
	cJSON_Delete(a);

	/* the framework's duplicate delivery */
	control("/_sandbox/webhooks", "{\"duplicate\":true}");
	a = act("change_execution",
		"{\"sale_order_no\":\"DH00004\",\"execution_status\":\"Đang "
		"thực hiện\"}",
		&st);
	cJSON_Delete(a);
	ck_assert_int_eq(sbxc_recv_wait(recv_, 4, 3000), 4);
}
END_TEST

START_TEST(test_faults_and_state)
{
	control("/_sandbox/faults", "{\"error_rate\":1,\"error_status\":500}");
	struct sbxc_resp r;
	api("GET", "/SaleOrders", NULL, &r);
	ck_assert_int_eq(r.status, 500);
	sbxc_resp_free(&r);
	sbxc_http("DELETE", sbxc_url(&sbx, "kho", "/_sandbox/faults"), NULL,
		  NULL, 5000, &r);
	sbxc_resp_free(&r);
	api("GET", "/SaleOrders", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	sbxc_resp_free(&r);
	cJSON *st = sbxc_get_json(sbxc_url(&sbx, "kho", "/_sandbox/state"));
	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(st, "IssueNote"
								    "s")),
			 3);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(st, "Items")),
			 6);
	cJSON_Delete(st);
	/* reset brings the seed back */
	long s;
	cJSON *a = act("change_execution",
		       "{\"sale_order_no\":\"DH00004\",\"execution_status\":"
		       "\"Đã hủy bỏ\"}",
		       &s);
	cJSON_Delete(a);
	control("/_sandbox/reset", "{}");
	get_token();
	cJSON *o = order_by_id(1);
	ck_assert_str_eq(str_at(o, "execution_status"), "Đang thực hiện");
	cJSON_Delete(o);
}
END_TEST

static Suite *kho_suite(void)
{
	Suite *s = suite_create("kho");
	TCase *tc = tcase_create("contract");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_auth_and_lookup);
	tcase_add_test(tc, test_sales_order_create_and_validate);
	tcase_add_test(tc, test_delete_refused_with_downstream);
	tcase_add_test(tc, test_issue_note_partial_and_events);
	tcase_add_test(tc, test_issue_order_progress);
	tcase_add_test(tc, test_note_types);
	tcase_add_test(tc, test_accounting_status);
	tcase_add_test(tc, test_change_execution_and_resend);
	tcase_add_test(tc, test_faults_and_state);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return sbxc_run_suite(kho_suite());
}

/*
 * test_crm_flows.c - AMIS CRM ↔ AMIS Kế toán (C1–C7) as their users meet
 * it: the real `luong` host with the shipped c*-*.json flows and the
 * sandbox mappings, the misa-amis and amis-crm plugins, and luong-sandbox's
 * MISA and CRM emulators as a real process. Each test acts like a
 * salesperson in CRM or an accountant in MISA (the sandbox's acts) and
 * checks what both emulators hold afterwards.
 */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "harness.h"

#define BUILD_DIR PLUGIN_DIR "/../.."
#define SRC_DIR FIXTURES "/../../.."

#define C1_CUST_OUT "c1-khach-hang-crm-sang-ke-toan"
#define C1_CUST_IN "c1-khach-hang-ke-toan-sang-crm"
#define C2 "c2-don-hang-crm-sang-ke-toan"
#define C3 "c3-tinh-trang-don-hang-ke-toan-sang-crm"
#define C4 "c4-de-nghi-xuat-hoa-don-crm-sang-ke-toan"
#define C4_BACK "c4-duyet-de-nghi-xuat-hoa-don-ke-toan-sang-crm"
#define C7 "c7-bao-gia-crm-sang-ke-toan"

#define CRM_SECRET "test-crm-webhook-secret"
#define CRM_API "/crm/gc/api/public/api/v2"

static struct deploy d;
static struct sandbox sb;

/* ---- HTTP to the sandbox ------------------------------------------------------- */

static cJSON *sbx(const char *emu, const char *method, const char *path,
		  const char *body)
{
	char url[512], *out = NULL;
	cJSON *j;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s",
		 h_sandbox_port(&sb, emu), path);
	h_http(method, url, body, NULL, &out);
	j = out ? cJSON_Parse(out) : NULL;
	free(out);
	return j;
}

/* A user's act; asserts it was accepted. */
static cJSON *act(const char *emu, const char *name, const char *body)
{
	char path[128];
	cJSON *j;

	snprintf(path, sizeof(path), "/_sandbox/act/%s", name);
	j = sbx(emu, "POST", path, body);
	ck_assert_msg(j && !cJSON_GetObjectItem(j, "error") &&
			      !cJSON_IsFalse(cJSON_GetObjectItem(j, "ok")),
		      "act %s on %s refused: %s", name, emu,
		      j ? cJSON_PrintUnformatted(j) : "(no answer)");
	return j;
}

static void act_free(const char *emu, const char *name, const char *body)
{
	cJSON_Delete(act(emu, name, body));
}

static cJSON *state(const char *emu)
{
	cJSON *j = sbx(emu, "GET", "/_sandbox/state", NULL);

	ck_assert_ptr_nonnull(j);
	return j;
}

static const char *jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItem(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double jnum(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItem(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* The first row of table whose key is value. */
static cJSON *find_row(cJSON *st, const char *table, const char *key,
		       const char *value)
{
	cJSON *r;

	cJSON_ArrayForEach (r, cJSON_GetObjectItem(st, table))
		if (jstr(r, key) && !strcmp(jstr(r, key), value))
			return r;
	return NULL;
}

/* A copy of one field of one row (owned), or NULL. */
static char *field_of(const char *emu, const char *table, const char *key,
		      const char *value, const char *field)
{
	cJSON *st = state(emu), *r = find_row(st, table, key, value);
	char *v = r && jstr(r, field) ? strdup(jstr(r, field)) : NULL;

	cJSON_Delete(st);
	return v;
}

/* Waits until that field reads want. */
static bool wait_field(const char *emu, const char *table, const char *key,
		       const char *value, const char *field, const char *want,
		       long ms)
{
	long long t0 = h_now_ms();

	while (h_now_ms() - t0 < ms) {
		char *v = field_of(emu, table, key, value, field);
		bool ok = v && !strcmp(v, want);

		free(v);
		if (ok)
			return true;
		usleep(50000);
	}
	return false;
}

/* Requests an emulator served with that method and path. */
static int served(const char *emu, const char *method, const char *path)
{
	cJSON *j = sbx(emu, "GET", "/_sandbox/requests?since=0", NULL), *r;
	int n = 0;

	cJSON_ArrayForEach (r, cJSON_GetObjectItem(j, "requests"))
		if (jstr(r, "path") && !strcmp(jstr(r, "path"), path) &&
		    !strcmp(jstr(r, "method"), method))
			n++;
	cJSON_Delete(j);
	return n;
}

static void forget_requests(void)
{
	cJSON_Delete(sbx("misa", "DELETE", "/_sandbox/requests", NULL));
	cJSON_Delete(sbx("crm", "DELETE", "/_sandbox/requests", NULL));
}

/* ---- the deployment ------------------------------------------------------------ */

/* A shipped flow, its polls every second (the files say 30s). */
static void copy_flow(const char *name)
{
	char src[512], *text, *p;

	snprintf(src, sizeof(src), SRC_DIR "/flows/%s", name);
	text = h_read_file(src, NULL);
	ck_assert_ptr_nonnull(text);
	while ((p = strstr(text, "\"every\": \"30s\"")))
		memcpy(p, "\"every\": \"1s\" ", 14);
	h_write(&d, strcat(strcpy(src, "flows/"), name), "%s", text);
	free(text);
}

static void point_webhooks(void);

static void setup(void)
{
	static const char *const plugins[] = { "misa-amis", "amis-crm" };
	static const char *const tables[] = { "crm_settings",
					      "crm_voucher_types",
					      "misa_status_to_crm" };
	char src[512], rel[256], dst[512];
	struct dirent *de;
	DIR *dir;

	ck_assert_int_eq(h_sandbox_start(&sb, "misa,crm"), 0);
	h_deploy(&d);
	for (size_t i = 0; i < 2; i++) {
		snprintf(src, sizeof(src), BUILD_DIR "/plugins/%s.so",
			 plugins[i]);
		snprintf(dst, sizeof(dst), "%s/plugins/%s.so", d.dir,
			 plugins[i]);
		ck_assert_int_eq(symlink(src, dst), 0);
	}
	/* the probe's relay flow is not part of this deployment */
	snprintf(dst, sizeof(dst), "%s/flows/relay.json", d.dir);
	unlink(dst);
	dir = opendir(SRC_DIR "/flows");
	ck_assert_ptr_nonnull(dir);
	while ((de = readdir(dir)))
		if (de->d_name[0] == 'c' && de->d_name[1] >= '0' &&
		    de->d_name[1] <= '8' && strstr(de->d_name, ".json"))
			copy_flow(de->d_name);
	closedir(dir);
	snprintf(src, sizeof(src), SRC_DIR "/flows/connect/crm-ke-toan.json");
	ck_assert_int_eq(h_copy_in(&d, src, "flows/connect/crm-ke-toan.json"),
			 0);
	for (size_t i = 0; i < 3; i++) {
		snprintf(src, sizeof(src),
			 SRC_DIR "/deploy/sandbox/mappings/%s.json", tables[i]);
		snprintf(rel, sizeof(rel), "mappings/%s.json", tables[i]);
		ck_assert_int_eq(h_copy_in(&d, src, rel), 0);
	}
	setenv("MISA_ACCESS_CODE",
	       "bHVvbmctc2FuZGJveC1tYS1rZXQtbm9pLWRlbW8t"
	       "MjAyNS1jb25nLXR5LWFuLXBoYXQ=",
	       1);
	setenv("AMIS_CRM_CLIENT_SECRET",
	       "Y3JtLXNhbmRib3gtY2xpZW50LXNlY3JldC1hbnBoYXQ=", 1);
	setenv("AMIS_CRM_WEBHOOK_SECRET", CRM_SECRET, 1);
	h_write(&d, "connections/misa.json",
		"{\"plugin\": \"misa-amis\", "
		"\"config\": {\"server\": \"http://127.0.0.1:%d\", "
		"\"app_id\": \"7c4b3a1e-5d2f-4b8a-9e61-2f0d8c3a9b57\", "
		"\"access_code\": {\"env\": \"MISA_ACCESS_CODE\"}, "
		"\"org_company_code\": \"congtyanphat\", "
		"\"timeout_ms\": 3000}}\n",
		h_sandbox_port(&sb, "misa"));
	h_write(&d, "connections/crm.json",
		"{\"plugin\": \"amis-crm\", "
		"\"config\": {\"server\": \"http://127.0.0.1:%d" CRM_API "\", "
		"\"client_id\": \"3e8a1c52-6b7d-4f09-a2c4-5d1e9b7f8a60\", "
		"\"client_secret\": {\"env\": \"AMIS_CRM_CLIENT_SECRET\"}, "
		"\"webhook_secret\": {\"env\": "
		"\"AMIS_CRM_WEBHOOK_SECRET\"}}}\n",
		h_sandbox_port(&sb, "crm"));
	ck_assert_int_eq(h_start(&d), 0);
	point_webhooks();
	/* the first polls bring accounting's catalogues to CRM (what is
	 * already there is only brought up to date); let them settle */
	ck_assert(h_wait_status(&d, C1_CUST_IN, "KH0004", "synced", 15000));
	ck_assert(h_wait_status(&d, "c1-hang-hoa-ke-toan-sang-crm", "DV001",
				"synced", 15000));
	ck_assert(h_wait_status(&d, "c1-nhom-hang-hoa-ke-toan-sang-crm",
				"DICHVU", "synced", 15000));
	ck_assert(h_wait_status(&d, "c5-ton-kho-ke-toan-sang-crm",
				"SP001@KHO_HN", "synced", 15000));
	ck_assert(h_wait_status(&d, "c6-cong-no-ke-toan-sang-crm",
				"KH0001@ANPHAT", "synced", 15000));
	sleep(2);
}

/* Where the emulators send their events (MISA its callbacks): the
 * host's port, which a restart may change. */
static void point_webhooks(void)
{
	char body[256];

	snprintf(body, sizeof(body),
		 "{\"url\": \"http://127.0.0.1:%u/hooks/misa/callback\", "
		 "\"retry_base_ms\": 100}",
		 d.port);
	cJSON_Delete(sbx("misa", "POST", "/_sandbox/webhooks", body));
	snprintf(body, sizeof(body),
		 "{\"url\": \"http://127.0.0.1:%u/hooks/crm/events\", "
		 "\"secret\": \"" CRM_SECRET "\", \"retry_base_ms\": 100}",
		 d.port);
	cJSON_Delete(sbx("crm", "POST", "/_sandbox/webhooks", body));
}

static void teardown(void)
{
	h_cleanup(&d);
	h_sandbox_stop(&sb);
}

/* ---- small steps ---------------------------------------------------------------- */

/* A CRM order for a customer, its revenue request saved; the request's
 * number (owned) in *rr and the order's (owned) returned. */
static char *order_with_revenue_request(const char *customer, char **rr)
{
	char body[512];
	cJSON *j;
	char *no;

	snprintf(body, sizeof(body),
		 "{\"account_number\": \"%s\", \"sale_order_date\": "
		 "\"2025-11-20\", \"employee_code\": \"NV001\", "
		 "\"sale_order_product_mappings\": [{\"product_code\": "
		 "\"SP001\", \"amount\": 4, \"stock_code\": \"KHO_HN\"}, "
		 "{\"product_code\": \"SP003\", \"amount\": 2, "
		 "\"stock_code\": \"KHO_HN\"}]}",
		 customer);
	j = act("crm", "create_order", body);
	no = strdup(jstr(cJSON_GetObjectItem(j, "sale_order"), "sale_order_"
							       "no"));
	cJSON_Delete(j);
	snprintf(body, sizeof(body), "{\"sale_order_no\": \"%s\"}", no);
	j = act("crm", "save_revenue_request", body);
	*rr = strdup(jstr(cJSON_GetObjectItem(j, "revenue_request"), "revenue"
								     "_reques"
								     "t_no"));
	cJSON_Delete(j);
	return no;
}

/* MISA's voucher request made from a source number, or NULL (owned). */
static cJSON *misa_voucher(const char *org_refno)
{
	cJSON *st = state("misa"), *v, *found = NULL;

	cJSON_ArrayForEach (v, cJSON_GetObjectItem(st, "vouchers")) {
		const char *no = jstr(cJSON_GetObjectItem(v, "voucher"), "org_"
									 "refn"
									 "o");

		if (no && !strcmp(no, org_refno) &&
		    strcmp(jstr(v, "status"), "deleted"))
			found = cJSON_Duplicate(v, 1);
	}
	cJSON_Delete(st);
	return found;
}

/* ---- C1: customers ---------------------------------------------------------------- */

START_TEST(
	c1_customer_added_in_crm_waits_for_its_first_order_and_travels_with_it_and_its_group)
{
	char *rr, *order;
	cJSON *st, *v;

	act_free("crm", "create_customer",
		 "{\"account_number\": \"KH0100\", \"account_name\": "
		 "\"Công ty TNHH Thiết bị Sao Mai\", \"tax_code\": "
		 "\"0101234567\", \"customer_group_code\": \"DN\"}");
	ck_assert_msg(h_wait_status(&d, C1_CUST_OUT, "KH0100", "skipped",
				    10000),
		      "a customer only added in CRM must wait (skipped)");
	sleep(1);
	st = state("misa");
	ck_assert_ptr_null(find_row(st, "account_objects",
				    "account_object_code", "KH0100"));
	ck_assert_ptr_null(find_row(st, "account_object_groups",
				    "account_object_group_code", "DN"));
	cJSON_Delete(st);

	order = order_with_revenue_request("KH0100", &rr);
	ck_assert_msg(h_wait_status(&d, C2, rr, "synced", 15000),
		      "C2 did not sync %s", rr);
	st = state("misa");
	v = find_row(st, "account_objects", "account_object_code", "KH0100");
	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(jstr(v, "account_object_name"), "Công ty TNHH Thiết "
							 "bị Sao Mai");
	ck_assert_str_eq(jstr(v, "account_object_group_code"), "DN");
	v = find_row(st, "account_object_groups", "account_object_group_code",
		     "DN");
	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(jstr(v, "account_object_group_name"), "Khách hàng "
							       "doanh nghiệp");
	cJSON_Delete(st);
	v = misa_voucher(order);
	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq((int)jnum(v, "voucher_type"), 20);
	ck_assert_str_eq(jstr(cJSON_GetObjectItem(v, "voucher"), "account_"
								 "object_"
								 "code"),
			 "KH0100");
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(
				 cJSON_GetObjectItem(v, "voucher"), "detail")),
			 2);
	cJSON_Delete(v);

	/* now it is in accounting: an edit in CRM crosses at once */
	act_free("crm", "edit_customer",
		 "{\"account_number\": \"KH0100\", \"office_tel\": "
		 "\"024 3999 1234\"}");
	ck_assert_msg(wait_field("misa", "account_objects",
				 "account_object_code", "KH0100", "tel",
				 "024 3999 1234", 10000),
		      "the edit of a crossed customer did not reach MISA");
	free(rr);
	free(order);
}
END_TEST

START_TEST(c1_customer_edit_in_accounting_crosses_once_and_does_not_come_back)
{
	forget_requests();
	act_free("misa", "edit_customer",
		 "{\"account_object_code\": \"KH0002\", "
		 "\"account_object_name\": \"Đại lý Minh Châu (đổi tên)\"}");
	ck_assert_msg(wait_field("crm", "Customers", "account_number", "KH0002",
				 "account_name", "Đại lý Minh Châu (đổi tên)",
				 10000),
		      "MISA's edit did not reach CRM");
	sleep(4); /* several polls and CRM's own event of the write */
	ck_assert_int_eq(served("crm", "PUT", CRM_API "/Customers"), 1);
	ck_assert_int_eq(served("misa", "POST",
				"/apir/sync/actopen/save_dictionary"),
			 0);

	/* it came from accounting, so its CRM edits cross at once */
	act_free("crm", "edit_customer",
		 "{\"account_number\": \"KH0002\", \"office_email\": "
		 "\"ketoan@minhchau.vn\"}");
	ck_assert_msg(wait_field("misa", "account_objects",
				 "account_object_code", "KH0002", "email",
				 "ketoan@minhchau.vn", 10000),
		      "CRM's edit did not reach MISA");
	sleep(4);
	ck_assert_int_eq(served("misa", "POST",
				"/apir/sync/actopen/save_dictionary"),
			 1);
	ck_assert_int_eq(served("crm", "PUT", CRM_API "/Customers"), 1);
}
END_TEST

/* ---- C1: products ------------------------------------------------------------------ */

START_TEST(c1_hundred_alternating_product_edits_make_hundred_writes_and_no_loop)
{
	char body[256], name[96];

	forget_requests();
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "Nước khoáng La Vie 500ml v%d", i);
		if (i % 2 == 0) {
			snprintf(body, sizeof(body),
				 "{\"product_code\": \"SP001\", "
				 "\"product_name\": \"%s\"}",
				 name);
			act_free("crm", "edit_product", body);
			ck_assert_msg(wait_field("misa", "items",
						 "inventory_item_code", "SP001",
						 "inventory_item_name", name,
						 10000),
				      "CRM edit %d did not reach MISA", i);
		} else {
			snprintf(body, sizeof(body),
				 "{\"inventory_item_code\": \"SP001\", "
				 "\"inventory_item_name\": \"%s\"}",
				 name);
			act_free("misa", "edit_product", body);
			ck_assert_msg(wait_field("crm", "Product",
						 "product_code", "SP001",
						 "product_name", name, 10000),
				      "MISA edit %d did not reach CRM", i);
		}
	}
	sleep(4); /* any echo would have looped by now */
	ck_assert_int_eq(served("misa", "POST",
				"/apir/sync/actopen/save_dictionary"),
			 50);
	ck_assert_int_eq(served("crm", "PUT", CRM_API "/Product"), 50);
	ck_assert_int_eq(served("crm", "POST", CRM_API "/Product"), 0);
}
END_TEST

START_TEST(c1_product_group_added_in_crm_crosses_at_once)
{
	forget_requests();
	act_free("crm", "create_product_group",
		 "{\"product_group_code\": \"BANH\", \"product_group_name\": "
		 "\"Bánh kẹo\"}");
	ck_assert(wait_field(
		"misa", "item_categories", "inventory_item_category_code",
		"BANH", "inventory_item_category_name", "Bánh kẹo", 10000));
	act_free("crm", "create_product",
		 "{\"product_code\": \"SP201\", \"product_name\": \"Bánh "
		 "quy bơ Danisa 454g\", \"usage_unit\": \"Hộp\", "
		 "\"unit_price\": 125000, \"tax\": 8, \"product_group_code\": "
		 "\"BANH\"}");
	ck_assert(wait_field("misa", "items", "inventory_item_code", "SP201",
			     "inventory_item_category_code", "BANH", 10000));
	sleep(3);
	/* nothing came back to CRM */
	ck_assert_int_eq(served("crm", "PUT", CRM_API "/Product"), 0);
	ck_assert_int_eq(served("crm", "PUT", CRM_API "/ProductGroups"), 0);
}
END_TEST

START_TEST(c2_the_setting_makes_the_order_a_contract)
{
	char *rr, *order, *out = NULL;
	cJSON *v;

	h_write(&d, "mappings/crm_settings.json",
		"{\"order_as\": \"contract\"}\n");
	ck_assert_int_eq(h_luong(&d, &out, "flows reload"), 0);
	free(out);
	order = order_with_revenue_request("KH0002", &rr);
	ck_assert_msg(h_wait_status(&d, C2, rr, "synced", 15000),
		      "C2 did not sync %s", rr);
	v = misa_voucher(order);
	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq((int)jnum(v, "voucher_type"), 22);
	ck_assert_ptr_nonnull(strstr(
		jstr(cJSON_GetObjectItem(v, "voucher"), "journal_memo"), "Hợp "
									 "đồng "
									 "bá"
									 "n"));
	cJSON_Delete(v);
	free(rr);
	free(order);
}
END_TEST

/* ---- C3: accounting's view of the order ------------------------------------------- */

START_TEST(c3_partial_delivery_and_partial_payment_reach_the_crm_order)
{
	char *rr, *order, body[512];
	cJSON *st, *o, *l, *answer;
	double remaining;

	order = order_with_revenue_request("KH0001", &rr);
	ck_assert(h_wait_status(&d, C2, rr, "synced", 15000));
	snprintf(body, sizeof(body),
		 "{\"org_refno\": \"%s\", \"delivered\": "
		 "[{\"inventory_item_code\": \"SP001\", \"quantity\": 1}], "
		 "\"receipt\": {\"refno\": \"PT00031\", \"refdate\": "
		 "\"2025-11-21\", \"amount\": 100000}}",
		 order);
	answer = act("misa", "order_progress", body);
	remaining = jnum(answer, "remaining_receivable");
	ck_assert(remaining > 0);
	cJSON_Delete(answer);
	ck_assert_msg(wait_field("crm", "SaleOrders", "sale_order_no", order,
				 "pay_status", "Đã thanh toán một phần", 10000),
		      "C3 did not reach the CRM order");
	st = state("crm");
	o = find_row(st, "SaleOrders", "sale_order_no", order);
	ck_assert_str_eq(jstr(o, "delivery_status"), "Đang giao hàng");
	ck_assert_str_eq(jstr(o, "status"), "Đang thực hiện");
	ck_assert_str_eq(jstr(o, "revenue_status"), "Đã đề nghị ghi doanh số");
	ck_assert_str_eq(jstr(o, "invoice_status"), "Chưa xuất hóa đơn");
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(o, "receipts")),
			 1);
	ck_assert_double_eq(jnum(o, "balance_receipt_amount"), remaining);
	l = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "sale_order_product_"
						      "mappings"),
			       0);
	ck_assert_str_eq(jstr(l, "product_code"), "SP001");
	ck_assert_double_eq(jnum(l, "delivered_amount"), 1);
	l = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "sale_order_product_"
						      "mappings"),
			       1);
	ck_assert(jnum(l, "delivered_amount") <= 0);
	cJSON_Delete(st);

	/* the rest delivered and invoiced: a second version */
	snprintf(body, sizeof(body),
		 "{\"org_refno\": \"%s\", \"delivered\": "
		 "[{\"inventory_item_code\": \"SP001\", \"quantity\": 3}, "
		 "{\"inventory_item_code\": \"SP003\", \"quantity\": 2}], "
		 "\"invoiced_amount\": 1000}",
		 order);
	act_free("misa", "order_progress", body);
	ck_assert(wait_field("crm", "SaleOrders", "sale_order_no", order,
			     "delivery_status", "Đã giao hàng", 10000));
	ck_assert(wait_field("crm", "SaleOrders", "sale_order_no", order,
			     "revenue_status", "Đã ghi doanh số", 10000));
	free(rr);
	free(order);
}
END_TEST

/* ---- C4: invoice requests -------------------------------------------------------- */

START_TEST(c4_refused_invoice_request_reaches_crm_with_the_reason)
{
	cJSON *j;
	char *no, body[256];

	j = act("crm", "create_invoice_request",
		"{\"sale_order_no\": \"DH00005\"}");
	no = strdup(jstr(cJSON_GetObjectItem(j, "invoice_request"), "invoice_"
								    "request_"
								    "no"));
	cJSON_Delete(j);
	ck_assert_msg(h_wait_status(&d, C4, no, "synced", 15000),
		      "C4 did not sync %s", no);
	j = misa_voucher(no);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq((int)jnum(j, "voucher_type"), 23);
	cJSON_Delete(j);
	snprintf(body, sizeof(body),
		 "{\"org_refno\": \"%s\", \"approve\": false, \"reason\": "
		 "\"Sai mã số thuế của khách hàng\"}",
		 no);
	act_free("misa", "decide_invoice_request", body);
	ck_assert_msg(wait_field("crm", "InvoiceRequests", "invoice_request_no",
				 no, "status", "Từ chối", 10000),
		      "the refusal did not reach CRM");
	ck_assert(wait_field("crm", "InvoiceRequests", "invoice_request_no", no,
			     "refuse_reason", "Sai mã số thuế của khách hàng",
			     1000));
	ck_assert(h_wait_status(&d, C4_BACK, no, "synced", 5000));
	free(no);
}
END_TEST

/* ---- C7: quotes ----------------------------------------------------------------- */

START_TEST(c7_quote_brings_its_crm_only_customer_to_accounting)
{
	cJSON *j, *st;
	char *no;

	j = act("crm", "create_quote",
		"{\"account_number\": \"KH0006\", \"quote_date\": "
		"\"2025-11-20\", \"quote_product_mappings\": "
		"[{\"product_code\": \"SP002\", \"amount\": 5}]}");
	no = strdup(jstr(cJSON_GetObjectItem(j, "quote"), "quote_no"));
	cJSON_Delete(j);
	ck_assert_msg(h_wait_status(&d, C7, no, "synced", 15000),
		      "C7 did not sync %s", no);
	st = state("misa");
	ck_assert_ptr_nonnull(find_row(st, "account_objects",
				       "account_object_code", "KH0006"));
	cJSON_Delete(st);
	j = misa_voucher(no);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq((int)jnum(j, "voucher_type"), 24);
	cJSON_Delete(j);
	free(no);
}
END_TEST

/* ---- C5, C6: stock and debt --------------------------------------------------- */

/* CRM's stock of an item in a warehouse, -1 if none. */
static double crm_stock(const char *item, const char *stock)
{
	cJSON *st = state("crm"), *r;
	double q = -1;

	cJSON_ArrayForEach (r, cJSON_GetObjectItem(st, "product_ledger"))
		if (!strcmp(jstr(r, "product_code"), item) &&
		    !strcmp(jstr(r, "stock_code"), stock))
			q = jnum(r, "quantity");
	cJSON_Delete(st);
	return q;
}

START_TEST(c5_stock_counted_in_accounting_reaches_crm_per_warehouse)
{
	long long t0 = h_now_ms();

	act_free("misa", "set_stock",
		 "{\"inventory_item_code\": \"SP002\", \"stock_code\": "
		 "\"KHO_HCM\", \"quantity\": 77}");
	while (crm_stock("SP002", "KHO_HCM") != 77 && h_now_ms() - t0 < 10000)
		usleep(100000);
	ck_assert_double_eq(crm_stock("SP002", "KHO_HCM"), 77);
	/* the other warehouses are as accounting has them */
	ck_assert_double_eq(crm_stock("SP001", "KHO_HN"), 120);
}
END_TEST

START_TEST(c6_debt_per_branch_reaches_the_crm_customer)
{
	cJSON *st, *c, *b;
	long long t0 = h_now_ms();
	bool seen = false;

	while (!seen && h_now_ms() - t0 < 10000) {
		st = state("crm");
		c = find_row(st, "Customers", "account_number", "KH0002");
		b = cJSON_GetArrayItem(cJSON_GetObjectItem(c, "debt_by_branch"),
				       0);
		seen = b && !strcmp(jstr(b, "branch_code"), "CN_HCM") &&
		       jnum(b, "amount") == 1250000 &&
		       jnum(c, "debt") == 1250000;
		cJSON_Delete(st);
		if (!seen)
			usleep(100000);
	}
	ck_assert_msg(seen, "KH0002's debt at CN_HCM did not reach CRM");
}
END_TEST

/* ---- C8: price policies ------------------------------------------------------ */

START_TEST(c8_price_policy_made_and_edited_in_accounting_reaches_crm)
{
	act_free("misa", "edit_price_policy",
		 "{\"price_policy_code\": \"CSG_DAILY_2026\", "
		 "\"price_policy_name\": \"Giá đại lý 2026\", \"from_date\": "
		 "\"2026-01-01\", \"to_date\": \"2026-12-31\", "
		 "\"account_object_group_code\": \"DAILY\", \"items\": "
		 "[{\"inventory_item_code\": \"SP001\", \"unit_name\": "
		 "\"Thùng\", \"unit_price\": 93000}]}");
	ck_assert_msg(wait_field("crm", "PricePolicies", "price_policy_code",
				 "CSG_DAILY_2026", "price_policy_name",
				 "Giá đại lý 2026", 10000),
		      "the price policy did not reach CRM");
	act_free("misa", "edit_price_policy",
		 "{\"price_policy_code\": \"CSG_DAILY_2026\", \"items\": "
		 "[{\"inventory_item_code\": \"SP001\", \"unit_name\": "
		 "\"Thùng\", \"unit_price\": 94500}, {\"inventory_item_code\": "
		 "\"SP002\", \"unit_name\": \"Thùng\", \"unit_price\": "
		 "185000}]}");
	for (long long t0 = h_now_ms(); h_now_ms() - t0 < 10000;) {
		cJSON *st = state("crm");
		cJSON *p = find_row(st, "PricePolicies", "price_policy_code",
				    "CSG_DAILY_2026");
		cJSON *items = cJSON_GetObjectItem(p, "items");
		bool ok =
			cJSON_GetArraySize(items) == 2 &&
			jnum(cJSON_GetArrayItem(items, 0), "price") == 94500 &&
			!strcmp(jstr(p, "customer_group"), "Đại lý bán lẻ");

		cJSON_Delete(st);
		if (ok)
			return;
		usleep(100000);
	}
	ck_abort_msg("the edited price policy did not reach CRM");
}
END_TEST

/* ---- connecting ------------------------------------------------------------------ */

static cJSON *connect_state(void)
{
	cJSON *j = NULL;
	long st = h_api(&d, "GET", "/connect?plan=crm-ke-toan", NULL, &j);

	if (st != 200) {
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

static cJSON *connect_step(cJSON *st, const char *id)
{
	cJSON *s;

	cJSON_ArrayForEach (s, cJSON_GetObjectItem(st, "steps"))
		if (!strcmp(jstr(s, "id"), id))
			return s;
	return NULL;
}

static bool connect_wait(const char *want, long ms)
{
	long long t0 = h_now_ms();

	while (h_now_ms() - t0 < ms) {
		cJSON *st = connect_state();
		bool ok = st && jstr(st, "state") &&
			  !strcmp(jstr(st, "state"), want);

		cJSON_Delete(st);
		if (ok)
			return true;
		usleep(100000);
	}
	return false;
}

/* Rows of a MISA table whose key is value. */
static int misa_count(const char *table, const char *key, const char *value)
{
	cJSON *st = state("misa"), *r;
	int n = 0;

	cJSON_ArrayForEach (r, cJSON_GetObjectItem(st, table))
		if (jstr(r, key) && !strcmp(jstr(r, key), value))
			n++;
	cJSON_Delete(st);
	return n;
}

/* MISA's voucher requests (not deleted) made from a source number. */
static int vouchers_of(const char *org_refno)
{
	cJSON *st = state("misa"), *v;
	int n = 0;

	cJSON_ArrayForEach (v, cJSON_GetObjectItem(st, "vouchers")) {
		const char *no = jstr(cJSON_GetObjectItem(v, "voucher"), "org_"
									 "refn"
									 "o");

		n += no && !strcmp(no, org_refno) &&
		     strcmp(jstr(v, "status"), "deleted");
	}
	cJSON_Delete(st);
	return n;
}

START_TEST(connect_killed_halfway_resumes_without_duplicates_and_lists_conflicts)
{
	char body[256], code[32], *orders[3], *rrs[3], *out = NULL;
	cJSON *st, *s, *c;
	bool conflict = false;

	/* what continuous sync missed: documents while c2 was off, and an
	 * accountant's edit while accounting's customers were not read */
	ck_assert_int_eq(h_luong(&d, &out, "flows mode " C2 " disabled"), 0);
	free(out);
	ck_assert_int_eq(
		h_luong(&d, &out, "flows mode " C1_CUST_IN " disabled"), 0);
	free(out);
	for (int i = 0; i < 3; i++)
		orders[i] = order_with_revenue_request("KH0001", &rrs[i]);
	act_free("misa", "edit_customer",
		 "{\"account_object_code\": \"KH0003\", "
		 "\"account_object_name\": \"Công ty Đà Nẵng Xanh (kế toán "
		 "sửa)\"}");
	for (int i = 0; i < 300; i++) {
		snprintf(body, sizeof(body),
			 "{\"account_number\": \"KH%04d\", \"account_name\": "
			 "\"Khách hàng CRM số %d\"}",
			 1000 + i, i);
		act_free("crm", "create_customer", body);
	}
	ck_assert_int_eq(h_luong(&d, &out, "flows mode " C2 " automatic"), 0);
	free(out);

	ck_assert_int_eq(h_luong(&d, &out, "connect crm-ke-toan --no-wait"), 0);
	free(out);
	/* killed as soon as the customers are on their way */
	for (long long t0 = h_now_ms(); h_now_ms() - t0 < 30000;) {
		st = connect_state();
		s = connect_step(st, "khach-hang");
		bool going = s && jnum(s, "given_a") > 0;

		cJSON_Delete(st);
		if (going)
			break;
		usleep(20000);
	}
	h_stop(&d, SIGKILL);
	ck_assert_int_eq(h_start(&d), 0);
	point_webhooks();
	ck_assert_msg(connect_wait("done", 60000), "the connect sequence did "
						   "not resume to its end");
	ck_assert(h_log_has(&d, "resumed where it stopped"));
	for (int i = 0; i < 300; i += 37) {
		snprintf(code, sizeof(code), "KH%04d", 1000 + i);
		ck_assert_msg(wait_field("misa", "account_objects",
					 "account_object_code", code,
					 "account_object_code", code, 30000),
			      "%s did not reach accounting", code);
	}
	ck_assert(wait_field("misa", "account_objects", "account_object_code",
			     "KH1299", "account_object_code", "KH1299", 30000));
	for (int i = 0; i < 300; i++) {
		snprintf(code, sizeof(code), "KH%04d", 1000 + i);
		ck_assert_int_eq(misa_count("account_objects",
					    "account_object_code", code),
				 1);
	}
	/* the documents continuous sync missed: one voucher each */
	for (int i = 0; i < 3; i++) {
		if (!h_wait_status(&d, C2, rrs[i], "synced", 20000)) {
			char *log = h_log(&d),
			     *dstat = h_doc_status(&d, C2, rrs[i]);
			cJSON *cs = connect_state();

			fprintf(stderr, "%s\n---\n%s\n%s\n", log,
				cJSON_Print(cs), dstat ? dstat : "(none)");
			ck_abort_msg("%s was not brought by the connect "
				     "sequence",
				     rrs[i]);
		}
		cJSON *v = misa_voucher(orders[i]);

		ck_assert_ptr_nonnull(v);
		cJSON_Delete(v);
		ck_assert_int_eq(vouchers_of(orders[i]), 1);
		free(orders[i]);
		free(rrs[i]);
	}
	/* the group only CRM had went with the catalogue step */
	ck_assert_int_eq(misa_count("account_object_groups",
				    "account_object_group_code", "DN"),
			 1);
	/* the employees of the system are in accounting, once */
	ck_assert(h_wait_status(&d, "c0-nhan-vien-he-thong-sang-ke-toan",
				"NV002", "synced", 10000));
	ck_assert_int_eq(misa_count("account_objects", "account_object_code",
				    "NV002"),
			 1);
	/* KH0003 differs: listed, and neither side overwritten */
	st = connect_state();
	cJSON_ArrayForEach (c, cJSON_GetObjectItem(connect_step(st, "khach-"
								    "hang"),
						   "conflicts"))
		conflict |= !strcmp(jstr(c, "id"), "KH0003");
	cJSON_Delete(st);
	ck_assert_msg(conflict, "KH0003 is not listed as a conflict");
	ck_assert(wait_field("misa", "account_objects", "account_object_code",
			     "KH0003", "account_object_name",
			     "Công ty Đà Nẵng Xanh (kế toán sửa)", 100));
	out = field_of("crm", "Customers", "account_number", "KH0003",
		       "account_name");
	ck_assert_ptr_nonnull(out);
	ck_assert_str_ne(out, "Công ty Đà Nẵng Xanh (kế toán sửa)");
	free(out);
}
END_TEST

START_TEST(connect_refused_with_the_reason_without_the_org_structure)
{
	char *out = NULL;
	cJSON *st;

	char *seed = h_read_file(SRC_DIR "/sandbox/seed/misa.json", NULL);
	cJSON *j = cJSON_Parse(seed);

	/* an accountant who never synced the organization structure */
	free(seed);
	cJSON_DeleteItemFromObject(j, "organization_units");
	seed = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	j = sbx("misa", "POST", "/_sandbox/seed?mode=replace", seed);
	ck_assert_ptr_nonnull(j);
	cJSON_Delete(j);
	free(seed);
	forget_requests();
	ck_assert_int_ne(h_luong(&d, &out, "connect crm-ke-toan"), 0);
	ck_assert_msg(strstr(out, "cơ cấu tổ chức") != NULL, "%s", out);
	free(out);
	st = connect_state();
	ck_assert_str_eq(jstr(st, "state"), "refused");
	ck_assert_str_eq(jstr(connect_step(st, "nhan-vien"), "state"), "refuse"
								       "d");
	ck_assert_str_eq(jstr(connect_step(st, "khach-hang"), "state"), "pendin"
									"g");
	cJSON_Delete(st);
	/* nothing was written anywhere */
	ck_assert_int_eq(served("misa", "POST",
				"/apir/sync/actopen/save_dictionary"),
			 0);
	ck_assert_int_eq(served("misa", "POST", "/apir/sync/actopen/save"), 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("crm_flows");
	TCase *tc = tcase_create("c");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 240);
	tcase_add_test(
		tc,
		c1_customer_added_in_crm_waits_for_its_first_order_and_travels_with_it_and_its_group);
	tcase_add_test(
		tc,
		c1_customer_edit_in_accounting_crosses_once_and_does_not_come_back);
	tcase_add_test(tc, c1_product_group_added_in_crm_crosses_at_once);
	tcase_add_test(tc, c2_the_setting_makes_the_order_a_contract);
	tcase_add_test(
		tc,
		c3_partial_delivery_and_partial_payment_reach_the_crm_order);
	tcase_add_test(tc,
		       c4_refused_invoice_request_reaches_crm_with_the_reason);
	tcase_add_test(tc, c7_quote_brings_its_crm_only_customer_to_accounting);
	tcase_add_test(
		tc, c5_stock_counted_in_accounting_reaches_crm_per_warehouse);
	tcase_add_test(tc, c6_debt_per_branch_reaches_the_crm_customer);
	tcase_add_test(
		tc, c8_price_policy_made_and_edited_in_accounting_reaches_crm);
	tcase_add_test(
		tc,
		connect_killed_halfway_resumes_without_duplicates_and_lists_conflicts);
	tcase_add_test(
		tc, connect_refused_with_the_reason_without_the_org_structure);
	tcase_add_test(
		tc,
		c1_hundred_alternating_product_edits_make_hundred_writes_and_no_loop);
	suite_add_tcase(s, tc);
	/* CK_RUN_CASE=connect runs these alone */
	tc = tcase_create("connect");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 240);
	tcase_add_test(
		tc,
		connect_killed_halfway_resumes_without_duplicates_and_lists_conflicts);
	tcase_add_test(
		tc, connect_refused_with_the_reason_without_the_org_structure);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	curl_global_cleanup();
	return failed ? 1 : 0;
}

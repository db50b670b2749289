/*
 * test_dms_flows.c - MobiWork DMS ↔ MISA AMIS as the distributor meets it:
 * the real `luong` host with the flows of flows/dms and the mapping tables
 * of deploy/dms, the mobiwork-dms and misa-amis plugins as shared objects,
 * and luong-sandbox's DMS and MISA emulators as a real process. Each test
 * acts like a salesman, a sales admin or the accountant (the sandbox's
 * acts) and checks what the emulators hold afterwards.
 */
#define _GNU_SOURCE
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "harness.h"

#define BUILD_DIR PLUGIN_DIR "/../.."
#define SRC_DIR FIXTURES "/../../.."

#define D1 "dms-d1-diem-ban-sang-misa"
#define D3 "dms-d3-don-duyet-sang-misa"
#define D4 "dms-d4-ton-kho-sang-dms"
#define D6 "dms-d6-tra-hang-sang-misa"
#define DMS_SECRET "test-dms-webhook-secret"

static struct deploy d;
static struct sandbox sb;
static int port_misa, port_dms;

/* ---- the emulators ------------------------------------------------------ */

static cJSON *sbx(const char *emu, const char *method, const char *path,
		  const char *body)
{
	return h_emu(strcmp(emu, "misa") ? port_dms : port_misa, method, path,
		     body);
}

/* A DMS or MISA user's act; asserts it was accepted. */
static cJSON *act(const char *emu, const char *name, const char *body)
{
	char path[128];
	cJSON *j;

	snprintf(path, sizeof(path), "/_sandbox/act/%s", name);
	j = sbx(emu, "POST", path, body);
	/* DMS answers {status: true, ...}, MISA the record or {error} */
	ck_assert_msg(j && !cJSON_IsFalse(cJSON_GetObjectItem(j, "status")) &&
			      !cJSON_GetObjectItem(j, "error"),
		      "act %s on %s refused", name, emu);
	return j;
}

static cJSON *state(const char *emu)
{
	cJSON *j = sbx(emu, "GET", "/_sandbox/state", NULL);

	ck_assert_ptr_nonnull(j);
	return j;
}

/* MISA's voucher requests made for one source document by a flow. */
static int vouchers_for(const char *flow, const char *doc)
{
	char refid[256];
	cJSON *st = state("misa"), *v;
	int n = 0;

	snprintf(refid, sizeof(refid), "%s:chung-tu:%s", flow, doc);
	cJSON_ArrayForEach (v, cJSON_GetObjectItem(st, "vouchers"))
		if (h_jstr(v, "org_refid") &&
		    !strcmp(h_jstr(v, "org_refid"), refid))
			n++;
	cJSON_Delete(st);
	return n;
}

/* The voucher MISA holds for a document (owned copy), or NULL. */
static cJSON *voucher_for(const char *flow, const char *doc)
{
	char refid[256];
	cJSON *st = state("misa"), *v, *out = NULL;

	snprintf(refid, sizeof(refid), "%s:chung-tu:%s", flow, doc);
	v = h_find_row(st, "vouchers", "org_refid", refid);
	if (v)
		out = cJSON_Duplicate(cJSON_GetObjectItem(v, "voucher"), 1);
	cJSON_Delete(st);
	return out;
}

/* Requests DMS served with this method to this path. */
static int dms_served(const char *method, const char *path)
{
	cJSON *j = sbx("dms", "GET", "/_sandbox/requests?since=0", NULL), *r;
	int n = 0;

	cJSON_ArrayForEach (r, cJSON_GetObjectItem(j, "requests"))
		if (h_jstr(r, "path") && !strcmp(h_jstr(r, "path"), path) &&
		    !strcmp(h_jstr(r, "method"), method))
			n++;
	cJSON_Delete(j);
	return n;
}

/* The DMS order as the emulator holds it (owned). */
static cJSON *dms_order(const char *no)
{
	cJSON *st = state("dms"),
	      *o = cJSON_Duplicate(h_find_row(st, "orders", "ma_phieu", no), 1);

	cJSON_Delete(st);
	ck_assert_ptr_nonnull(o);
	return o;
}

/* ---- the deployment ----------------------------------------------------- */

static void start_sandbox(void)
{
	ck_assert_int_eq(h_sandbox_start(&sb, "misa,dms"), 0);
	port_misa = h_sandbox_port(&sb, "misa");
	port_dms = h_sandbox_port(&sb, "dms");
	ck_assert(port_misa > 0 && port_dms > 0);
}

static void point_webhooks(bool duplicate)
{
	char body[512];

	snprintf(body, sizeof(body),
		 "{\"url\": \"http://127.0.0.1:%u/hooks/misa/callback\", "
		 "\"retry_base_ms\": 100}",
		 d.port);
	cJSON_Delete(sbx("misa", "POST", "/_sandbox/webhooks", body));
	snprintf(body, sizeof(body),
		 "{\"url\": \"http://127.0.0.1:%u/hooks/dms/\", \"secret\": "
		 "\"" DMS_SECRET "\", \"retry_base_ms\": 100, \"duplicate\": "
		 "%s}",
		 d.port, duplicate ? "true" : "false");
	cJSON_Delete(sbx("dms", "POST", "/_sandbox/webhooks", body));
}

/* Copies a shipped flow, its polls every second (a cycle per second). */
static void copy_flow(const char *file)
{
	char src[512], rel[256], *text, *p, *end;

	snprintf(src, sizeof(src), SRC_DIR "/flows/dms/%s", file);
	text = h_read_file(src, NULL);
	ck_assert_ptr_nonnull(text);
	snprintf(rel, sizeof(rel), "flows/%s", file);
	p = strstr(text, "\"every\": \"");
	if (p) {
		p += 10;
		end = strchr(p, '"');
		*p = '\0';
		h_write(&d, rel, "%s1s%s", text, end);
	} else {
		h_write(&d, rel, "%s", text);
	}
	free(text);
}

static void setup(void)
{
	static const char *const flows[] = {
		"d1-diem-ban-thanh-khach-hang.json",
		"d2-san-pham-sang-dms.json",
		"d3-don-duyet-thanh-chung-tu-ban.json",
		"d3b-don-sua-sau-dong-bo.json",
		"d4-ton-kho-sang-dms.json",
		"d5-cong-no-sang-dms.json",
		"d6-tra-hang-sang-misa.json",
		"d7-trang-thai-don-loi.json",
		"d7-trang-thai-hoa-don.json",
	};
	static const char *const tables[] = {
		"dms_kho",	  "dms_kho_misa",	 "dms_thue_suat",
		"dms_thanh_toan", "dms_nhan_vien",	 "dms_khach_hang",
		"dms_san_pham",	  "dms_khach_hang_misa", "dms_tra_hang",
	};
	static const char *const plugins[] = { "misa-amis", "mobiwork-dms" };
	char src[512], rel[256], dst[512];

	start_sandbox();
	h_deploy(&d);
	for (size_t i = 0; i < 2; i++) {
		snprintf(src, sizeof(src), BUILD_DIR "/plugins/%s.so",
			 plugins[i]);
		snprintf(dst, sizeof(dst), "%s/plugins/%s.so", d.dir,
			 plugins[i]);
		ck_assert_int_eq(symlink(src, dst), 0);
	}
	for (size_t i = 0; i < sizeof(flows) / sizeof(flows[0]); i++)
		copy_flow(flows[i]);
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		snprintf(src, sizeof(src),
			 SRC_DIR "/deploy/dms/mappings/%s.json", tables[i]);
		snprintf(rel, sizeof(rel), "mappings/%s.json", tables[i]);
		ck_assert_int_eq(h_copy_in(&d, src, rel), 0);
	}
	setenv("MISA_ACCESS_CODE",
	       "bHVvbmctc2FuZGJveC1tYS1rZXQtbm9pLWRlbW8t"
	       "MjAyNS1jb25nLXR5LWFuLXBoYXQ=",
	       1);
	setenv("DMS_TOKEN_KEY", "mw_tk_3f9a7c21d0b84e6a", 1);
	setenv("DMS_WEBHOOK_SECRET", DMS_SECRET, 1);
	h_write(&d, "connections/misa.json",
		"{\"plugin\": \"misa-amis\", \"config\": {\"server\": "
		"\"http://127.0.0.1:%d\", \"app_id\": "
		"\"7c4b3a1e-5d2f-4b8a-9e61-2f0d8c3a9b57\", \"access_code\": "
		"{\"env\": \"MISA_ACCESS_CODE\"}, \"org_company_code\": "
		"\"congtyanphat\", \"timeout_ms\": 3000}}\n",
		port_misa);
	h_write(&d, "connections/dms.json",
		"{\"plugin\": \"mobiwork-dms\", \"config\": {\"server\": "
		"\"http://127.0.0.1:%d\", \"user_id\": \"anphat_api\", "
		"\"token_key\": {\"env\": \"DMS_TOKEN_KEY\"}, "
		"\"webhook_secret\": {\"env\": \"DMS_WEBHOOK_SECRET\"}, "
		"\"timeout_ms\": 3000}}\n",
		port_dms);
	ck_assert_int_eq(h_start(&d), 0);
	point_webhooks(false);
}

static void teardown(void)
{
	h_cleanup(&d);
	h_sandbox_stop(&sb);
}

static cJSON *ledger_doc(const char *flow, const char *doc)
{
	char path[256];
	cJSON *j = NULL;

	snprintf(path, sizeof(path), "/flows/%s/document?id=%s", flow, doc);
	ck_assert_int_eq(h_api(&d, "GET", path, NULL, &j), 200);
	return j;
}

static void cli_ok(const char *args)
{
	char *out = NULL;
	int rc = h_luong(&d, &out, args);

	ck_assert_msg(rc == 0, "luong %s: %s", args, out);
	free(out);
}

/* A salesman's order entered (and approved at once when `approve`);
 * returns its number (owned). */
static char *order(const char *kho, const char *lines, bool approve)
{
	char body[1024];
	cJSON *j;
	char *no;

	snprintf(body, sizeof(body),
		 "{\"ma_kh\": \"KH0001\", \"ma_nv\": \"NVBH01\", \"ma_kho\": "
		 "\"%s\", \"hinh_thuc_thanh_toan\": \"Công nợ\", \"chi_tiet\": "
		 "%s, \"duyet\": %s}",
		 kho, lines, approve ? "true" : "false");
	j = act("dms", "create_order", body);
	no = strdup(h_jstr(cJSON_GetObjectItem(j, "data"), "ma_phieu"));
	cJSON_Delete(j);
	return no;
}

#define THREE_LINES                                                            \
	"[{\"ma_sp\": \"SP001\", \"so_luong\": 10}, {\"ma_sp\": \"SP003\", "   \
	"\"so_luong\": 5, \"ty_le_chiet_khau\": 5}, {\"ma_sp\": \"SP002\", "   \
	"\"so_luong\": 2}]"

/* ---- D3: approved orders ------------------------------------------------ */

START_TEST(
	an_approved_order_of_three_lines_becomes_one_voucher_with_equal_lines_and_totals)
{
	char *no = order("Hà Nội", THREE_LINES, true);
	cJSON *v, *o, *l, *ol;
	double sum = 0;
	int i = 0;

	ck_assert_msg(h_wait_status(&d, D3, no, "synced", 15000), "%s: %s", no,
		      h_doc_status(&d, D3, no));
	ck_assert_int_eq(vouchers_for(D3, no), 1);
	v = voucher_for(D3, no);
	o = dms_order(no);
	ck_assert_int_eq((int)h_jnum(v, "voucher_type"), 13);
	ck_assert_int_eq((int)h_jnum(v, "reftype"), 3530); /* Công nợ */
	ck_assert_str_eq(h_jstr(v, "org_refno"), no);
	ck_assert_str_eq(h_jstr(v, "account_object_code"), "KH0001");
	ck_assert_str_eq(h_jstr(v, "employee_code"), "NV001");
	ck_assert_str_eq(h_jstr(v, "stock_code"), "KHO_HN");
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(v, "detail")),
			 3);
	cJSON_ArrayForEach (l, cJSON_GetObjectItem(v, "detail")) {
		ol = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "chi_tiet"),
					i++);
		ck_assert_str_eq(h_jstr(l, "inventory_item_code"),
				 h_jstr(ol, "ma_"
					    "s"
					    "p"));
		ck_assert_double_eq(h_jnum(l, "quantity"), h_jnum(ol, "so_"
								      "luong"));
		ck_assert_double_eq(h_jnum(l, "unit_price"), h_jnum(ol, "don_"
									"gia"));
		ck_assert_double_eq(h_jnum(l, "discount_amount"),
				    h_jnum(ol, "chiet"
					       "_khau"
					       "_tie"
					       "n"));
		ck_assert_double_eq(h_jnum(l, "vat_amount"), h_jnum(ol, "tien_"
									"thu"
									"e"));
		ck_assert_str_eq(h_jstr(l, "stock_code"), "KHO_HN");
		sum += h_jnum(l, "amount") - h_jnum(l, "discount_amount") +
		       h_jnum(l, "vat_amount");
	}
	ck_assert_double_eq(sum, h_jnum(o, "tong_thanh_toan"));
	ck_assert_double_eq(h_jnum(v, "total_amount"), h_jnum(o, "tong_thanh_"
								 "toan"));
	/* D7: the order shows what accounting did */
	ck_assert_str_eq(h_jstr(o, "trang_thai_ke_toan"), "Đã ghi sổ");
	ck_assert_str_eq(h_jstr(o, "trang_thai"), "da_duyet");
	cJSON_Delete(v);
	cJSON_Delete(o);
	free(no);
}
END_TEST

/* D7: the accountant invoices the order's voucher and collects part of
 * it in MISA; the DMS order shows it, with the figures. */
START_TEST(an_invoice_in_misa_shows_on_the_dms_order)
{
	char *no = order("Hà Nội", THREE_LINES, true), body[256];
	cJSON *o, *v;
	double total;

	ck_assert(h_wait_status(&d, D3, no, "synced", 15000));
	v = voucher_for(D3, no);
	total = h_jnum(v, "total_amount");
	cJSON_Delete(v);
	snprintf(body, sizeof(body),
		 "{\"org_refno\": \"%s\", \"invoiced_amount\": %.0f, "
		 "\"receipt\": {\"refno\": \"PT00001\", \"refdate\": "
		 "\"2026-11-30\", \"amount\": 1000000}}",
		 no, total);
	cJSON_Delete(act("misa", "order_progress", body));
	ck_assert(h_wait_status(&d, "dms-d7-trang-thai-hoa-don", no, "synced",
				15000));
	o = dms_order(no);
	ck_assert_str_eq(h_jstr(o, "trang_thai_ke_toan"), "Đã xuất hóa đơn");
	ck_assert_ptr_nonnull(h_jstr(o, "ghi_chu_ke_toan"));
	ck_assert_msg(strstr(h_jstr(o, "ghi_chu_ke_toan"), "đã thu 1000000 đ"),
		      "%s", h_jstr(o, "ghi_chu_ke_toan"));
	cJSON_Delete(o);
	free(no);
}
END_TEST

START_TEST(an_order_not_yet_approved_sends_nothing)
{
	char *no = order("Hà Nội", THREE_LINES, false), *st;

	usleep(1500000);
	st = h_doc_status(&d, D3, no);
	ck_assert_ptr_null(st);
	ck_assert_int_eq(vouchers_for(D3, no), 0);
	free(no);
}
END_TEST

START_TEST(the_same_approval_delivered_twice_makes_one_voucher)
{
	char *no;
	cJSON *dl;
	const cJSON *x;
	int copies = 0;

	point_webhooks(true);
	no = order("Hà Nội", THREE_LINES, true);
	ck_assert(h_wait_status(&d, D3, no, "synced", 15000));
	usleep(1000000);
	dl = sbx("dms", "GET", "/_sandbox/deliveries", NULL);
	cJSON_ArrayForEach (x, cJSON_GetObjectItem(dl, "deliveries"))
		if (h_jstr(x, "topic") &&
		    !strcmp(h_jstr(x, "topic"), "order.approved") &&
		    h_jnum(x, "status") == 200)
			copies++;
	cJSON_Delete(dl);
	ck_assert_int_ge(copies, 2); /* delivered twice, both accepted */
	ck_assert_int_eq(vouchers_for(D3, no), 1);
	free(no);
}
END_TEST

START_TEST(
	a_missing_warehouse_mapping_fails_naming_it_then_fixed_and_retried_syncs)
{
	char *no, args[256];
	cJSON *doc, *o, *v;

	h_write(&d, "mappings/dms_kho.json",
		"{\"Hà Nội\": \"KHO_HN\", \"Hồ Chí Minh\": \"KHO_HCM\"}\n");
	cli_ok("flows reload");
	no = order("Đà Nẵng", "[{\"ma_sp\": \"SP005\", \"so_luong\": 3}]",
		   true);
	ck_assert(h_wait_status(&d, D3, no, "failed", 15000));
	doc = ledger_doc(D3, no);
	ck_assert_msg(strstr(h_jstr(doc, "reason"), "dms_kho") &&
			      strstr(h_jstr(doc, "reason"), "Đà Nẵng"),
		      "reason: %s", h_jstr(doc, "reason"));
	cJSON_Delete(doc);
	ck_assert_int_eq(vouchers_for(D3, no), 0); /* nothing half-written */
	/* D7: the salesman sees why in DMS */
	usleep(500000);
	o = dms_order(no);
	ck_assert_str_eq(h_jstr(o, "trang_thai_ke_toan"), "Lỗi đồng bộ");
	ck_assert_ptr_nonnull(strstr(h_jstr(o, "ghi_chu_ke_toan"), "Đà Nẵng"));
	cJSON_Delete(o);
	/* the accountant adds the warehouse, then retries */
	h_write(&d, "mappings/dms_kho.json",
		"{\"Hà Nội\": \"KHO_HN\", \"Hồ Chí Minh\": \"KHO_HCM\", "
		"\"Đà Nẵng\": \"KHO_DN\"}\n");
	cli_ok("flows reload");
	snprintf(args, sizeof(args), "retry " D3 " %s --wait", no);
	cli_ok(args);
	ck_assert(h_wait_status(&d, D3, no, "synced", 15000));
	v = voucher_for(D3, no);
	ck_assert_str_eq(h_jstr(v, "stock_code"), "KHO_DN");
	cJSON_Delete(v);
	o = dms_order(no);
	ck_assert_str_eq(h_jstr(o, "trang_thai_ke_toan"), "Đã ghi sổ");
	cJSON_Delete(o);
	free(no);
}
END_TEST

START_TEST(an_edit_after_sync_is_flagged_with_what_changed_and_no_second_voucher)
{
	char *no = order("Hà Nội", THREE_LINES, true), body[256];
	cJSON *doc, *o;
	long long t0;

	ck_assert(h_wait_status(&d, D3, no, "synced", 15000));
	snprintf(body, sizeof(body),
		 "{\"ma_phieu\": \"%s\", \"chi_tiet\": [{\"ma_sp\": \"SP001\", "
		 "\"so_luong\": 8}, {\"ma_sp\": \"SP003\", \"so_luong\": 5, "
		 "\"ty_le_chiet_khau\": 5}, {\"ma_sp\": \"SP002\", "
		 "\"so_luong\": 2}]}",
		 no);
	cJSON_Delete(act("dms", "edit_order", body));
	t0 = h_now_ms();
	for (;;) {
		doc = ledger_doc(D3, no);
		if (cJSON_IsTrue(cJSON_GetObjectItem(doc, "changed_after_"
							  "sync")) ||
		    h_now_ms() - t0 > 10000)
			break;
		cJSON_Delete(doc);
		usleep(100000);
	}
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(doc, "changed_after_sync")));
	ck_assert_str_eq(h_jstr(doc, "status"), "synced");
	cJSON_Delete(doc);
	/* D3': what changed is written on the order, for a person */
	t0 = h_now_ms();
	do {
		usleep(100000);
		o = dms_order(no);
		if (h_jstr(o, "ghi_chu_ke_toan") &&
		    strstr(h_jstr(o, "ghi_chu_ke_toan"), "số lượng"))
			break;
		cJSON_Delete(o);
		o = NULL;
	} while (h_now_ms() - t0 < 10000);
	ck_assert_ptr_nonnull(o);
	ck_assert_msg(strstr(h_jstr(o, "ghi_chu_ke_toan"), "SP001: số lượng 10 "
							   "→ "
							   "8"),
		      "%s", h_jstr(o, "ghi_chu_ke_toan"));
	ck_assert_str_eq(h_jstr(o, "trang_thai_ke_toan"), "Sửa sau đồng bộ - "
							  "cần "
							  "kiểm tra");
	cJSON_Delete(o);
	usleep(500000);
	ck_assert_int_eq(vouchers_for(D3, no), 1);
	free(no);
}
END_TEST

/* A DMS that sends no webhooks: D3 on the order poll (by update day,
 * with a day cursor) brings the approved order all the same, once. */
START_TEST(without_webhooks_the_order_poll_brings_approved_orders_once)
{
	char src[512], *text, *p, *no, *pending;

	cJSON_Delete(sbx("dms", "POST", "/_sandbox/webhooks",
			 "{\"url\": \"http://127.0.0.1:9/none\"}"));
	snprintf(src, sizeof(src),
		 "%s/flows/d3-don-duyet-thanh-chung-tu-ban.json", d.dir);
	text = h_read_file(src, NULL);
	ck_assert_ptr_nonnull(text);
	p = strstr(text, "\"event\": \"order.approved\"");
	ck_assert_ptr_nonnull(p);
	p += strlen("\"event\": \"order.approved\"") -
	     1; /* its closing quote */
	*p = '\0';
	h_write(&d, "flows/d3-don-duyet-thanh-chung-tu-ban.json",
		"%s.poll\", \"every\": \"1s\"%s", text, p + 1);
	free(text);
	cli_ok("flows reload");
	pending = order("Hà Nội", THREE_LINES, false);
	no = order("Hà Nội", THREE_LINES, true);
	ck_assert_msg(h_wait_status(&d, D3, no, "synced", 20000), "%s",
		      h_doc_status(&d, D3, no));
	usleep(2500000); /* more polls: nothing sent again */
	ck_assert_int_eq(vouchers_for(D3, no), 1);
	ck_assert_ptr_null(h_doc_status(&d, D3, pending));
	free(no);
	free(pending);
}
END_TEST

/* ---- D6, D1 ---------------------------------------------------------------- */

START_TEST(an_approved_return_becomes_a_sales_return_voucher)
{
	cJSON *j, *v;
	char no[32], body[128];

	j = act("dms", "create_return",
		"{\"ma_kh\": \"KH0001\", \"ma_nv\": \"NVBH01\", \"ma_kho\": "
		"\"Hà Nội\", \"ma_don_goc\": \"DH000901\", \"ly_do\": \"Hàng "
		"cận date\", \"hinh_thuc_xu_ly\": \"nhap_kho\", \"chi_tiet\": "
		"[{\"ma_sp\": \"SP003\", \"so_luong\": 2}]}");
	snprintf(no, sizeof(no), "%s",
		 h_jstr(cJSON_GetObjectItem(j, "data"), "ma_phieu"));
	cJSON_Delete(j);
	usleep(500000);
	ck_assert_ptr_null(h_doc_status(&d, D6, no)); /* not approved yet */
	snprintf(body, sizeof(body), "{\"ma_phieu\": \"%s\"}", no);
	cJSON_Delete(act("dms", "approve_return", body));
	ck_assert_msg(h_wait_status(&d, D6, no, "synced", 15000), "%s",
		      h_doc_status(&d, D6, no));
	v = voucher_for(D6, no);
	ck_assert_int_eq((int)h_jnum(v, "voucher_type"), 50);
	ck_assert_str_eq(h_jstr(v, "stock_code"), "KHO_HN");
	ck_assert_str_eq(
		h_jstr(cJSON_GetArrayItem(cJSON_GetObjectItem(v, "detail"), 0),
		       "inventory_item_code"),
		"SP003");
	ck_assert_double_eq(
		h_jnum(cJSON_GetArrayItem(cJSON_GetObjectItem(v, "detail"), 0),
		       "quantity"),
		2);
	cJSON_Delete(v);
	/* the other setting of dms_tra_hang: a debt reduction */
	j = act("dms", "create_return",
		"{\"ma_kh\": \"KH0001\", \"ma_nv\": \"NVBH01\", \"ma_kho\": "
		"\"Hà Nội\", \"ly_do\": \"Hàng móp\", \"hinh_thuc_xu_ly\": "
		"\"giam_tru_cong_no\", \"chi_tiet\": [{\"ma_sp\": \"SP001\", "
		"\"so_luong\": 1}]}");
	snprintf(no, sizeof(no), "%s",
		 h_jstr(cJSON_GetObjectItem(j, "data"), "ma_phieu"));
	cJSON_Delete(j);
	snprintf(body, sizeof(body), "{\"ma_phieu\": \"%s\"}", no);
	cJSON_Delete(act("dms", "approve_return", body));
	ck_assert(h_wait_status(&d, D6, no, "synced", 15000));
	v = voucher_for(D6, no);
	ck_assert_int_eq((int)h_jnum(v, "voucher_type"), 1);
	ck_assert_ptr_nonnull(strstr(h_jstr(v, "journal_memo"), "Giảm trừ công "
								"nợ"));
	cJSON_Delete(v);
}
END_TEST

START_TEST(a_new_outlet_becomes_a_misa_customer_and_its_edit_follows)
{
	cJSON *j, *m, *c;
	char code[32], body[128];
	char *st;

	j = act("dms", "create_outlet",
		"{\"tenkh\": \"Cửa hàng Tiện lợi Minh Châu\", \"ma_nv\": "
		"\"NVBH01\", \"dia_chi\": \"Số 3 Phố Huế, Hà Nội\", "
		"\"ma_so_thue\": \"0109876543\", \"sdt\": \"0904 111 222\"}");
	snprintf(code, sizeof(code), "%s",
		 h_jstr(cJSON_GetObjectItem(j, "data"), "ma_kh"));
	cJSON_Delete(j);
	ck_assert(h_wait_status(&d, D1, code, "synced", 15000));
	m = state("misa");
	c = h_find_row(m, "account_objects", "account_object_code", code);
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(h_jstr(c, "account_object_name"), "Cửa hàng Tiện lợi "
							   "Minh Châu");
	ck_assert_str_eq(h_jstr(c, "company_tax_code"), "0109876543");
	ck_assert_str_eq(h_jstr(c, "tel"), "0904 111 222");
	cJSON_Delete(m);
	/* corrected in the office: the MISA customer follows */
	snprintf(body, sizeof(body),
		 "{\"ma_kh\": \"%s\", \"sdt\": \"0904 999 000\"}", code);
	cJSON_Delete(act("dms", "edit_outlet", body));
	for (long long t0 = h_now_ms(); h_now_ms() - t0 < 10000;) {
		m = state("misa");
		c = h_find_row(m, "account_objects", "account_object_code",
			       code);
		if (c && !strcmp(h_jstr(c, "tel"), "0904 999 000"))
			break;
		cJSON_Delete(m);
		m = NULL;
		usleep(100000);
	}
	ck_assert_ptr_nonnull(m);
	cJSON_Delete(m);
	st = h_doc_status(&d, D1, code);
	ck_assert_str_eq(st, "synced");
	free(st);
}
END_TEST

/* ---- D4, D5: periodic, only what changed ------------------------------------ */

/* Waits until DMS's count of a push stops moving for 2.5 s (cycles run
 * every second); returns it. */
static int settled(const char *path)
{
	int last = -1, n;

	for (long long t0 = h_now_ms(); h_now_ms() - t0 < 20000;) {
		usleep(2500000);
		n = dms_served("POST", path);
		if (n == last)
			return n;
		last = n;
	}
	ck_abort_msg("%s kept changing", path);
	return -1;
}

/* DMS's stock of an item; -1 while DMS is down (no control API either). */
static double dms_stock(const char *kho, const char *sp)
{
	cJSON *st = sbx("dms", "GET", "/_sandbox/state", NULL), *r;
	double q = -1;

	cJSON_ArrayForEach (r, cJSON_GetObjectItem(st, "stock"))
		if (!strcmp(h_jstr(r, "ma_kho"), kho) &&
		    !strcmp(h_jstr(r, "ma_sp"), sp))
			q = h_jnum(r, "so_luong");
	cJSON_Delete(st);
	return q;
}

START_TEST(stock_and_debt_cycles_write_only_what_changed)
{
	int stock0 = settled("/OpenAPI/V1/Inventory"), debt0 = settled("/OpenAP"
								       "I/V1/"
								       "Custome"
								       "rDebt");

	cJSON *m, *st;
	char *no;

	/* the first cycle wrote every balance; later ones nothing */
	ck_assert_int_ge(stock0, 10);
	ck_assert_int_ge(debt0, 4);
	ck_assert_double_eq(dms_stock("Hồ Chí Minh", "SP001"), 200);
	cJSON_Delete(act("misa", "set_stock",
			 "{\"inventory_item_code\": \"SP001\", \"stock_code\": "
			 "\"KHO_HCM\", \"quantity\": 180}"));
	ck_assert_int_eq(settled("/OpenAPI/V1/Inventory"), stock0 + 1);
	ck_assert_double_eq(dms_stock("Hồ Chí Minh", "SP001"), 180);
	ck_assert_int_eq(settled("/OpenAPI/V1/CustomerDebt"), debt0);
	/* a credit sale (D3) raises KH0001's debt in MISA and issues stock:
	 * the next cycles write that one balance and that one stock */
	no = order("Hà Nội", "[{\"ma_sp\": \"SP001\", \"so_luong\": 2}]", true);
	ck_assert(h_wait_status(&d, D3, no, "synced", 15000));
	ck_assert_int_eq(settled("/OpenAPI/V1/CustomerDebt"), debt0 + 1);
	ck_assert_int_eq(settled("/OpenAPI/V1/Inventory"), stock0 + 2);
	m = state("misa");
	st = state("dms");
	ck_assert_double_eq(
		h_jnum(h_find_row(st, "debts", "ma_kh", "KH0001"), "du_no_cuoi_"
								   "ky"),
		h_jnum(h_find_row(m, "debts", "account_object_code", "KH0001"),
		       "debt_amount"));
	cJSON_Delete(m);
	cJSON_Delete(st);
	free(no);
}
END_TEST

START_TEST(dms_down_during_a_stock_cycle_resumes_and_delivers_the_change)
{
	int stock0 = settled("/OpenAPI/V1/Inventory");
	double q = -1;
	cJSON *doc;

	cJSON_Delete(sbx("dms", "POST", "/_sandbox/faults",
			 "{\"down_for_ms\": 4000}"));
	usleep(300000); /* its daemon stops a moment later */
	cJSON_Delete(act("misa", "set_stock",
			 "{\"inventory_item_code\": \"SP003\", \"stock_code\": "
			 "\"KHO_HN\", \"quantity\": 275}"));
	for (long long t0 = h_now_ms(); h_now_ms() - t0 < 20000;) {
		q = dms_stock("Hà Nội", "SP003");
		if (q == 275)
			break;
		usleep(200000);
	}
	ck_assert_double_eq(q, 275);
	/* it was tried while DMS was down, and again once it was back */
	doc = ledger_doc(D4, "SP003@KHO_HN");
	ck_assert_msg(h_jnum(doc, "attempts") >= 2, "attempts %.0f",
		      h_jnum(doc, "attempts"));
	ck_assert_str_eq(h_jstr(doc, "status"), "synced");
	cJSON_Delete(doc);
	/* the rest was not written again after the outage */
	ck_assert_int_eq(settled("/OpenAPI/V1/Inventory"), stock0 + 1);
}
END_TEST

/* ---- go-live, forged webhooks -------------------------------------------------- */

START_TEST(the_go_live_check_shows_the_fields_and_writes_nothing)
{
	char *no, *out = NULL, args[256];
	cJSON *j = NULL, *st, *in;
	char path[256];

	cli_ok("flows mode " D3 " manual");
	no = order("Hà Nội", THREE_LINES, true);
	ck_assert(h_wait_status(&d, D3, no, "pending", 10000));
	snprintf(args, sizeof(args), "flows try " D3 " %s", no);
	ck_assert_int_eq(h_luong(&d, &out, args), 0);
	ck_assert_msg(strstr(out, "dry run: nothing was written") &&
			      strstr(out, "misa.save_voucher (check: "
					  "passed)") &&
			      strstr(out, "KHO_HN") && strstr(out, "NV001"),
		      "%s", out);
	free(out);
	snprintf(path, sizeof(path), "/flows/" D3 "/try");
	snprintf(args, sizeof(args), "{\"id\": \"%s\"}", no);
	ck_assert_int_eq(h_api(&d, "POST", path, args, &j), 200);
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(j, "written")));
	st = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "steps"), 0);
	in = cJSON_GetObjectItem(st, "input");
	ck_assert_str_eq(h_jstr(in, "stock_code"), "KHO_HN");
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(in, "detail")),
			 3);
	cJSON_Delete(j);
	ck_assert_int_eq(vouchers_for(D3, no), 0);
	/* then for real: the voucher is in MISA */
	snprintf(args, sizeof(args), "flows try " D3 " %s --send", no);
	cli_ok(args);
	ck_assert(h_wait_status(&d, D3, no, "synced", 15000));
	ck_assert_int_eq(vouchers_for(D3, no), 1);
	free(no);
}
END_TEST

/* An order whose totals its lines do not explain (SPEC B10), signed as
 * DMS signs: failed with both figures, nothing written in MISA. */
START_TEST(totals_that_do_not_follow_the_lines_fail_the_order_with_both_figures)
{
	const char *body =
		"{\"event\":\"order.approved\",\"id\":\"evt_b10\",\"data\":"
		"[{\"ma_phieu\":\"DH777001\",\"stt\":1,\"ma_kh\":\"KH0001\","
		"\"ten_kh\":\"Hưng Thịnh\",\"ma_nv_dat\":\"NVBH01\","
		"\"ma_kho_xuat\":\"Hà Nội\",\"hinh_thuc_thanh_toan\":\"Công "
		"nợ\",\"ngay_ban_hang\":\"20/06/2025\",\"trang_thai\":"
		"\"da_duyet\",\"phien_ban\":1,\"ma_sp\":\"SP001\","
		"\"so_luong\":10,\"don_gia\":96000,\"thanh_tien\":960000,"
		"\"chiet_khau_tien\":0,\"thue_suat\":10,\"tien_thue\":96000,"
		"\"is_km\":false,\"tong_tien_hang\":960000,"
		"\"tong_chiet_khau\":0,\"tong_tien_thue\":96000,"
		"\"tong_thanh_toan\":1100000}]}";
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	char sig[80], hdr[128], url[256], *out = NULL;
	cJSON *doc;

	HMAC(EVP_sha256(), DMS_SECRET, (int)strlen(DMS_SECRET),
	     (const unsigned char *)body, strlen(body), mac, &n);
	EVP_EncodeBlock((unsigned char *)sig, mac, (int)n);
	snprintf(hdr, sizeof(hdr), "X-Mobiwork-Signature: %s", sig);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/hooks/dms/", d.port);
	ck_assert_int_eq(h_http("POST", url, body, hdr, &out), 200);
	free(out);
	ck_assert(h_wait_status(&d, D3, "DH777001", "failed", 10000));
	doc = ledger_doc(D3, "DH777001");
	ck_assert_msg(strstr(h_jstr(doc, "reason"), "1100000") &&
			      strstr(h_jstr(doc, "reason"), "1056000"),
		      "reason: %s", h_jstr(doc, "reason"));
	cJSON_Delete(doc);
	ck_assert_int_eq(vouchers_for(D3, "DH777001"), 0);
}
END_TEST

/* Mapping the catalogues before go-live: which codes have no match. */
START_TEST(the_codes_command_lists_codes_with_no_match_both_ways)
{
	char *out = NULL;

	/* KH0101 is an outlet MISA lacks; KH0004 and KHLE customers DMS
	 * lacks (the seeds) */
	ck_assert_int_eq(h_luong(&d, &out,
				 "codes @" SRC_DIR "/deploy/dms/codes/"
				 "khach-hang.json"),
			 1);
	ck_assert_msg(strstr(out, "dms: 4 codes, 1 with no match in misa") &&
			      strstr(out, "KH0101") &&
			      strstr(out, "misa: 5 codes, 2 with no match") &&
			      strstr(out, "KH0004, KHLE") &&
			      strstr(out, "matched: 3"),
		      "%s", out);
	free(out);
	/* warehouses through dms_kho: all matched */
	ck_assert_int_eq(h_luong(&d, &out,
				 "codes @" SRC_DIR "/deploy/dms/codes/"
				 "kho.json"),
			 0);
	ck_assert_msg(strstr(out, "through mapping table dms_kho") &&
			      strstr(out, "matched: 3"),
		      "%s", out);
	free(out);
	/* one warehouse left out of the table: named */
	h_write(&d, "mappings/dms_kho.json",
		"{\"Hà Nội\": \"KHO_HN\", \"Hồ Chí Minh\": \"KHO_HCM\"}\n");
	ck_assert_int_eq(h_luong(&d, &out,
				 "codes @" SRC_DIR "/deploy/dms/codes/"
				 "kho.json"),
			 1);
	ck_assert_msg(strstr(out, "1 with no match in misa") &&
			      strstr(out, "Đà Nẵng") && strstr(out, "KHO_DN"),
		      "%s", out);
	free(out);
}
END_TEST

START_TEST(a_forged_dms_webhook_is_refused_and_nothing_stored)
{
	const char *body =
		"{\"event\":\"order.approved\",\"id\":\"evt_forged\",\"data\":"
		"[{\"ma_phieu\":\"DH999999\",\"stt\":1,\"ma_kh\":\"KH0001\","
		"\"ma_kho_xuat\":\"Hà Nội\",\"trang_thai\":\"da_duyet\","
		"\"ma_sp\":\"SP001\",\"so_luong\":1000,\"don_gia\":1}]}";
	char url[256], *out = NULL;
	long status;

	snprintf(url, sizeof(url), "http://127.0.0.1:%u/hooks/dms/", d.port);
	status = h_http("POST", url, body,
			"X-Mobiwork-Signature: c2lnbmVkIGJ5IG5vYm9keQ==", &out);
	ck_assert_int_eq(status, 401);
	free(out);
	ck_assert_int_eq(h_hook(&d, "dms", "/", body), 401);
	usleep(300000);
	ck_assert_ptr_null(h_doc_status(&d, D3, "DH999999"));
	ck_assert_int_eq(vouchers_for(D3, "DH999999"), 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("dms_flows");
	TCase *tc = tcase_create("stories");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(
		tc,
		an_approved_order_of_three_lines_becomes_one_voucher_with_equal_lines_and_totals);
	tcase_add_test(tc, an_order_not_yet_approved_sends_nothing);
	tcase_add_test(tc, an_invoice_in_misa_shows_on_the_dms_order);
	tcase_add_test(tc, the_same_approval_delivered_twice_makes_one_voucher);
	tcase_add_test(
		tc,
		a_missing_warehouse_mapping_fails_naming_it_then_fixed_and_retried_syncs);
	tcase_add_test(
		tc,
		an_edit_after_sync_is_flagged_with_what_changed_and_no_second_voucher);
	tcase_add_test(
		tc,
		without_webhooks_the_order_poll_brings_approved_orders_once);
	tcase_add_test(tc, an_approved_return_becomes_a_sales_return_voucher);
	tcase_add_test(
		tc, a_new_outlet_becomes_a_misa_customer_and_its_edit_follows);
	tcase_add_test(tc, stock_and_debt_cycles_write_only_what_changed);
	tcase_add_test(
		tc,
		dms_down_during_a_stock_cycle_resumes_and_delivers_the_change);
	tcase_add_test(tc,
		       the_go_live_check_shows_the_fields_and_writes_nothing);
	tcase_add_test(
		tc,
		totals_that_do_not_follow_the_lines_fail_the_order_with_both_figures);
	tcase_add_test(tc,
		       the_codes_command_lists_codes_with_no_match_both_ways);
	tcase_add_test(tc, a_forged_dms_webhook_is_refused_and_nothing_stored);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

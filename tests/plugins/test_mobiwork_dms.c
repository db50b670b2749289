/*
 * test_mobiwork_dms.c - the mobiwork-dms connector alone, with the SDK's
 * test kit (a fake host with canned HTTP answers): Basic auth, signed
 * events made into orders, totals checked, pages whose total moves, and
 * how DMS's answers become results. No host, no sandbox.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <luong/testkit.h>

#define SECRET "dms-test-webhook-secret"

/* Two lines of order DH001001, as GET Bill rows carry them. */
#define ROW1                                                                     \
	"{\"ma_phieu\":\"DH001001\",\"stt\":1,\"ma_kh\":\"KH0001\","             \
	"\"ten_kh\":\"Hưng Thịnh\",\"ma_nv_dat\":\"NVBH01\",\"ma_kho_xuat\":" \
	"\"Hà Nội\",\"ngay_ban_hang\":\"20/06/2025\",\"trang_thai\":"         \
	"\"da_duyet\",\"phien_ban\":1,\"ma_sp\":\"SP001\",\"so_luong\":10,"      \
	"\"don_gia\":96000,\"thanh_tien\":960000,\"chiet_khau_tien\":0,"         \
	"\"thue_suat\":10,\"tien_thue\":96000,\"is_km\":false,"                  \
	"\"tong_tien_hang\":1520000,\"tong_chiet_khau\":28000,"                  \
	"\"tong_tien_thue\":138560,\"tong_thanh_toan\":%s}"
#define ROW2                                                                   \
	"{\"ma_phieu\":\"DH001001\",\"stt\":%d,\"ma_kh\":\"KH0001\","          \
	"\"ma_kho_xuat\":\"Hà Nội\",\"trang_thai\":\"da_duyet\","           \
	"\"phien_ban\":1,\"ma_sp\":\"SP003\",\"so_luong\":%d,\"don_gia\":"     \
	"112000,\"ty_le_chiet_khau\":5,\"thue_suat\":8,\"is_km\":false}"

static struct lt_kit *k;

static void setup(void)
{
	k = lt_new(luong_plugin_entry());
	lt_config(k, "server", "http://dms.test");
	lt_config(k, "user_id", "anphat_api");
	lt_config(k, "token_key", "mw_tk_3f9a7c21d0b84e6a");
	lt_config(k, "webhook_secret", SECRET);
	lt_config(k, "page_size", "2");
	lt_config(k, "timeout_ms", "5000");
	ck_assert_int_eq(lt_init(k), LUONG_OK);
}

static void teardown(void)
{
	lt_free(k);
}

/* Sends body as a signed DMS webhook; returns the plugin's result. */
static enum luong_status hook(const char *body, unsigned *status)
{
	char sig[65], hdr[120];

	lt_sign(SECRET, body, LUONG_SIG_BASE64, sig);
	snprintf(hdr, sizeof(hdr), "X-Mobiwork-Signature: %s", sig);
	return lt_webhook(k, "/", hdr, body, status);
}

static char *order_event(const char *event, const char *total, int stt2,
			 int qty2)
{
	static char body[4096];
	char r1[2048], r2[1024];

	snprintf(r1, sizeof(r1), ROW1, total);
	snprintf(r2, sizeof(r2), ROW2, stt2, qty2);
	/* the second line first: rows are grouped and sorted by stt */
	snprintf(body, sizeof(body),
		 "{\"event\":\"%s\",\"id\":\"evt_1\",\"data\":[%s,%s]}", event,
		 r2, r1);
	return body;
}

START_TEST(settings_are_checked_and_auth_is_basic)
{
	struct lt_kit *bad = lt_new(luong_plugin_entry());

	lt_config(bad, "server", "http://dms.test/");
	lt_config(bad, "user_id", "u");
	lt_config(bad, "token_key", "t");
	ck_assert_int_eq(lt_init(bad), LUONG_E_CONFIG);
	ck_assert_ptr_nonnull(strstr(lt_reason(bad), "must not end with"));
	lt_free(bad);
	lt_http_answer(k, 200, NULL,
		       "{\"status\":true,\"total\":1,\"data\":[{\"ma\":"
		       "\"NVBH01\"}]}");
	ck_assert_int_eq(lt_action(k, "read_catalogue",
				   "{\"resource\":\"Sale\",\"filters\":"
				   "{\"status\":1}}",
				   NULL),
			 LUONG_OK);
	/* base64("anphat_api:mw_tk_3f9a7c21d0b84e6a") */
	ck_assert_str_eq(lt_http_last(k, "Authorization"), "Basic "
							   "YW5waGF0X2FwaTptd19"
							   "0a18zZjlhN2MyMWQwYj"
							   "g0ZTZh");
	ck_assert_str_eq(lt_http_last(k, "url"), "http://dms.test/OpenAPI/V1/"
						 "Sale?status=1&page_size=2&"
						 "page_number=1");
}
END_TEST

START_TEST(a_forged_webhook_is_refused_and_nothing_emitted)
{
	unsigned status = 0;
	const char *body = order_event("order.approved", "1630560", 2, 5);

	ck_assert_int_eq(lt_webhook(k, "/", "X-Mobiwork-Signature: AAAA", body,
				    &status),
			 LUONG_E_AUTH);
	ck_assert_uint_eq(status, 401);
	ck_assert_str_eq(lt_reason(k), "X-Mobiwork-Signature is wrong");
	ck_assert_int_eq(lt_webhook(k, "/", NULL, body, &status), LUONG_E_AUTH);
	ck_assert_uint_eq(lt_emitted(k), 0);
}
END_TEST

START_TEST(approved_order_lines_become_one_order)
{
	unsigned status = 0;
	cJSON *p;

	ck_assert_int_eq(hook(order_event("order.approved", "1630560", 2, 5),
			      &status),
			 LUONG_OK);
	ck_assert_uint_eq(status, 200);
	ck_assert_uint_eq(lt_emitted(k), 1);
	ck_assert_str_eq(lt_emitted_get(k, 0, "event"), "order.approved");
	ck_assert_str_eq(lt_emitted_get(k, 0, "id"), "DH001001");
	p = cJSON_Parse(lt_emitted_get(k, 0, "payload"));
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(p, "lines")),
			 2);
	ck_assert_int_eq(
		cJSON_GetObjectItem(
			cJSON_GetArrayItem(cJSON_GetObjectItem(p, "lines"), 0),
			"stt")
			->valueint,
		1);
	ck_assert_str_eq(
		cJSON_GetObjectItem(p, "ngay_ban_hang_iso")->valuestring, "2025"
									  "-06-"
									  "20");
	ck_assert_str_eq(cJSON_GetObjectItem(p, "ma_nv_dat")->valuestring, "NVB"
									   "H0"
									   "1");
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(p, "kiem_tra_tong")));
	cJSON_Delete(p);
	/* merely entered: not an event */
	ck_assert_int_eq(hook(order_event("order.created", "1630560", 2, 5),
			      &status),
			 LUONG_OK);
	ck_assert_uint_eq(lt_emitted(k), 1);
}
END_TEST

START_TEST(totals_that_do_not_follow_the_lines_are_named)
{
	cJSON *p;

	ck_assert_int_eq(hook(order_event("order.approved", "1700000", 2, 5),
			      NULL),
			 LUONG_OK);
	p = cJSON_Parse(lt_emitted_get(k, 0, "payload"));
	ck_assert(cJSON_IsString(cJSON_GetObjectItem(p, "kiem_tra_tong")));
	ck_assert_ptr_nonnull(
		strstr(cJSON_GetObjectItem(p, "kiem_tra_tong")->valuestring,
		       "1700000 VND but its lines add up to 1630560 VND"));
	cJSON_Delete(p);
}
END_TEST

START_TEST(a_repeated_line_number_is_refused)
{
	unsigned status = 0;

	ck_assert_int_eq(hook(order_event("order.approved", "1630560", 1, 5),
			      &status),
			 LUONG_E_INVAL);
	ck_assert_uint_eq(status, 400);
	ck_assert_ptr_nonnull(strstr(lt_reason(k), "stt 1"));
	ck_assert_uint_eq(lt_emitted(k), 0);
}
END_TEST

START_TEST(an_edit_after_approval_comes_again_with_what_changed)
{
	char *edit;
	cJSON *p;

	ck_assert_int_eq(hook(order_event("order.approved", "1630560", 2, 5),
			      NULL),
			 LUONG_OK);
	edit = strdup(order_event("order.updated", "1630560", 2, 3));
	ck_assert_int_eq(hook(edit, NULL), LUONG_OK);
	free(edit);
	ck_assert_uint_eq(lt_emitted(k), 3);
	/* the order again under its id (the host flags a synced one) */
	ck_assert_str_eq(lt_emitted_get(k, 1, "event"), "order.approved");
	ck_assert_str_eq(lt_emitted_get(k, 1, "id"), "DH001001");
	ck_assert_str_eq(lt_emitted_get(k, 2, "event"), "order.edited");
	ck_assert_str_eq(lt_emitted_get(k, 2, "id"), "DH001001@1");
	p = cJSON_Parse(lt_emitted_get(k, 2, "payload"));
	ck_assert_ptr_nonnull(strstr(
		cJSON_GetObjectItem(p, "thay_doi_text")->valuestring, "dòng 2 "
								      "SP003: "
								      "số "
								      "lượng 5 "
								      "→ 3"));
	cJSON_Delete(p);
}
END_TEST

START_TEST(a_window_whose_total_moved_is_read_again)
{
	const char *out;
	cJSON *o;

	lt_http_answer(k, 200, NULL,
		       "{\"status\":true,\"total\":3,\"data\":[{\"ma_kh\":"
		       "\"A\"},"
		       "{\"ma_kh\":\"B\"}]}");
	/* an outlet created meanwhile: total 4, B slid onto page 2 */
	lt_http_answer(k, 200, NULL,
		       "{\"status\":true,\"total\":4,\"data\":[{\"ma_kh\":"
		       "\"B\"},"
		       "{\"ma_kh\":\"C\"}]}");
	lt_http_answer(k, 200, NULL,
		       "{\"status\":true,\"total\":4,\"data\":[{\"ma_kh\":"
		       "\"N\"},"
		       "{\"ma_kh\":\"A\"}]}");
	lt_http_answer(k, 200, NULL,
		       "{\"status\":true,\"total\":4,\"data\":[{\"ma_kh\":"
		       "\"B\"},"
		       "{\"ma_kh\":\"C\"}]}");
	ck_assert_int_eq(lt_action(k, "read_catalogue",
				   "{\"resource\":\"Customer\"}", &out),
			 LUONG_OK);
	ck_assert_uint_eq(lt_http_count(k), 4);
	o = cJSON_Parse(out);
	ck_assert_int_eq(cJSON_GetObjectItem(o, "count")->valueint, 4);
	cJSON_Delete(o);
}
END_TEST

START_TEST(dms_refusals_keep_its_vietnamese_message)
{
	lt_http_answer(k, 400, NULL,
		       "{\"status\":false,\"message\":\"dữ liệu không hợp lệ, "
		       "không có bản ghi nào được lưu\",\"data\":[{\"ma_sp\":"
		       "\"SP009\",\"ket_qua\":\"loi\",\"loi\":\"không có sản "
		       "phẩm 'SP009'\"}]}");
	ck_assert_int_eq(lt_action(k, "set_stock",
				   "{\"ma_kho\":\"Hà Nội\",\"ma_sp\":\"SP009\","
				   "\"so_luong\":4}",
				   NULL),
			 LUONG_E_REMOTE);
	ck_assert_str_eq(lt_reason(k), "MobiWork DMS refused 400: dữ liệu "
				       "không hợp lệ, không "
				       "có bản ghi nào được lưu; SP009: không "
				       "có sản phẩm "
				       "'SP009'");
	/* the closing day is today's, in Vietnam time */
	ck_assert_ptr_nonnull(strstr(lt_http_last(k, "body"), "\"ngay_chot\""));
	/* busy: retried after DMS's Retry-After */
	lt_http_answer(k, 429, "Retry-After: 2",
		       "{\"status\":false,\"message\":\"quá nhiều yêu cầu\"}");
	ck_assert_int_eq(lt_action(k, "set_debt",
				   "{\"ma_kh\":\"KH0001\",\"du_no_cuoi_ky\":1}",
				   NULL),
			 LUONG_E_TRANSIENT);
	ck_assert_uint_eq(lt_retry_after(k), 2000);
	/* a required input missing: named, nothing sent */
	ck_assert_int_eq(lt_action(k, "set_order_status",
				   "{\"ma_phieu\":\"X\"}", NULL),
			 LUONG_E_INVAL);
	ck_assert_ptr_nonnull(strstr(lt_reason(k), "trang_thai_ke_toan"));
}
END_TEST

START_TEST(the_order_poll_reads_days_and_keeps_a_day_cursor)
{
	char r1[2048], body[4096];

	snprintf(r1, sizeof(r1), ROW1, "1056000");
	/* only line 1: its totals are the order's */
	snprintf(body, sizeof(body),
		 "{\"status\":true,\"total\":1,\"data\":[%s]}", r1);
	lt_http_answer(k, 200, NULL,
		       "{\"status\":true,\"total\":0,\"data\":[]}");
	lt_http_answer(k, 200, NULL, body);
	ck_assert_int_eq(lt_poll(k, "order.approved.poll", "19/06/2025"),
			 LUONG_OK);
	ck_assert_uint_eq(lt_http_count(k), 2);
	ck_assert_ptr_nonnull(strstr(lt_http_last(k, "url"), "kieu_ngay=3"));
	ck_assert_ptr_nonnull(strstr(lt_http_last(k, "url"), "tu_ngay="));
	ck_assert_uint_eq(lt_emitted(k), 1);
	ck_assert_str_eq(lt_emitted_get(k, 0, "id"), "DH001001");
	/* the cursor is today, dd/mm/yyyy */
	ck_assert_int_eq((int)strlen(lt_cursor(k)), 10);
	ck_assert_int_eq(lt_cursor(k)[2], '/');
	/* DMS down: the cursor stays */
	ck_assert_int_eq(lt_poll(k, "order.approved.poll", "19/06/2025"),
			 LUONG_E_TRANSIENT);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("mobiwork-dms");
	TCase *tc = tcase_create("plugin");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, settings_are_checked_and_auth_is_basic);
	tcase_add_test(tc, a_forged_webhook_is_refused_and_nothing_emitted);
	tcase_add_test(tc, approved_order_lines_become_one_order);
	tcase_add_test(tc, totals_that_do_not_follow_the_lines_are_named);
	tcase_add_test(tc, a_repeated_line_number_is_refused);
	tcase_add_test(tc,
		       an_edit_after_approval_comes_again_with_what_changed);
	tcase_add_test(tc, a_window_whose_total_moved_is_read_again);
	tcase_add_test(tc, dms_refusals_keep_its_vietnamese_message);
	tcase_add_test(tc, the_order_poll_reads_days_and_keeps_a_day_cursor);
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

/*
 * test_misa_amis.c - the misa-amis connector alone, with the SDK's test
 * kit: the signed callback (hex HMAC of `data` with app_id) and input
 * checks made before anything is sent. No host, no sandbox.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <luong/testkit.h>

#define APP "misa-app-id"
#define DATA "[]"

static struct lt_kit *k;

static void setup(void)
{
	k = lt_new(luong_plugin_entry());
	lt_config(k, "server", "http://misa.test");
	lt_config(k, "app_id", APP);
	lt_config(k, "access_code", "code");
	lt_config(k, "org_company_code", "cty");
	ck_assert_int_eq(lt_init(k), LUONG_OK);
}

static void teardown(void)
{
	lt_free(k);
}

static unsigned callback(const char *sig)
{
	char body[300];
	unsigned status = 0;

	snprintf(body, sizeof(body),
		 "{\"app_id\":\"%s\",\"data_type\":1,"
		 "\"data\":\"%s\",\"signature\":\"%s\"}",
		 APP, DATA, sig);
	lt_webhook(k, "/callback", NULL, body, &status);
	return status;
}

START_TEST(a_forged_callback_is_refused_in_misas_words)
{
	ck_assert_uint_eq(callback("00"), 401);
	ck_assert_ptr_nonnull(strstr(lt_webhook_answer(k), "\"ErrorCode\":"
							   "\"InvalidParam\""));
}
END_TEST

START_TEST(a_signed_callback_is_accepted)
{
	char sig[65];

	lt_sign(APP, DATA, LUONG_SIG_HEX, sig);
	ck_assert_uint_eq(callback(sig), 200);
	ck_assert_ptr_nonnull(strstr(lt_webhook_answer(k), "\"Success\":true"));
}
END_TEST

START_TEST(other_paths_are_not_found)
{
	unsigned status = 0;

	ck_assert_int_eq(lt_webhook(k, "/other", NULL, "{}", &status),
			 LUONG_E_NOTFOUND);
	ck_assert_uint_eq(status, 404);
}
END_TEST

START_TEST(a_catalogue_read_needs_its_data_type)
{
	ck_assert_int_eq(lt_action(k, "get_dictionary", "{}", NULL),
			 LUONG_E_INVAL);
	ck_assert_ptr_nonnull(strstr(lt_reason(k), "input.data_type"));
	ck_assert_uint_eq(lt_http_count(k), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("misa-amis");
	TCase *tc = tcase_create("kit");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, a_forged_callback_is_refused_in_misas_words);
	tcase_add_test(tc, a_signed_callback_is_accepted);
	tcase_add_test(tc, other_paths_are_not_found);
	tcase_add_test(tc, a_catalogue_read_needs_its_data_type);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

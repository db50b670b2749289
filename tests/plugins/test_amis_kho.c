/*
 * test_amis_kho.c - the amis-kho connector alone, with the SDK's test kit
 * (a fake host with canned HTTP answers): signed events, the token, and
 * how Kho's answers become results. No host, no sandbox.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <luong/testkit.h>

#define SECRET "kho-webhook-secret"
#define NOTE                                                                   \
	"{\"event\":\"issue_note.saved\",\"id\":\"E1\",\"data\":"              \
	"{\"issue_note\":{\"id\":4,\"issue_note_no\":\"XK00004\"}}}"

static struct lt_kit *k;

static void setup(void)
{
	k = lt_new(luong_plugin_entry());
	lt_config(k, "server", "http://kho.test/api");
	lt_config(k, "client_id", "app");
	lt_config(k, "client_secret", "s3cret");
	lt_config(k, "webhook_secret", SECRET);
	ck_assert_int_eq(lt_init(k), LUONG_OK);
}

static void teardown(void)
{
	lt_free(k);
}

START_TEST(a_forged_event_is_refused_with_a_reason)
{
	unsigned status = 0;

	ck_assert_int_eq(lt_webhook(k, "/", "X-Amis-Signature: AAAA", NOTE,
				    &status),
			 LUONG_E_AUTH);
	ck_assert_uint_eq(status, 401);
	ck_assert_str_eq(lt_reason(k), "X-Amis-Signature is wrong");
	ck_assert_uint_eq(lt_emitted(k), 0);
	ck_assert_int_eq(lt_webhook(k, "/", NULL, NOTE, &status), LUONG_E_AUTH);
	ck_assert_str_eq(lt_reason(k), "X-Amis-Signature is missing");
}
END_TEST

START_TEST(a_signed_issue_note_is_emitted_by_its_number)
{
	char sig[65], hdr[100];
	unsigned status = 0;

	lt_sign(SECRET, NOTE, LUONG_SIG_BASE64, sig);
	snprintf(hdr, sizeof(hdr), "X-Amis-Signature: %s", sig);
	ck_assert_int_eq(lt_webhook(k, "/", hdr, NOTE, &status), LUONG_OK);
	ck_assert_uint_eq(status, 200);
	ck_assert_uint_eq(lt_emitted(k), 1);
	ck_assert_str_eq(lt_emitted_get(k, 0, "event"), "issue_note.saved");
	ck_assert_str_eq(lt_emitted_get(k, 0, "id"), "XK00004");
}
END_TEST

START_TEST(kho_busy_is_retried_after_what_it_asks)
{
	lt_http_answer(k, 200, NULL, "{\"success\":true,\"data\":\"tok\"}");
	lt_http_answer(k, 503, "Retry-After: 4", "busy");
	ck_assert_int_eq(lt_action(k, "set_accounting_status",
				   "{\"note_id\": 4, \"status\": \"synced\"}",
				   NULL),
			 LUONG_E_TRANSIENT);
	ck_assert_uint_eq(lt_retry_after(k), 4000);
	ck_assert_uint_eq(lt_http_count(k), 2); /* login, then the call */
	ck_assert_str_eq(lt_http_last(k, "Authorization"), "Bearer tok");
}
END_TEST

START_TEST(kho_down_is_transient_and_says_so)
{
	/* no answer queued: nothing answers */
	ck_assert_int_eq(lt_action(k, "set_accounting_status",
				   "{\"note_id\": 4, \"status\": \"synced\"}",
				   NULL),
			 LUONG_E_TRANSIENT);
	ck_assert_ptr_nonnull(strstr(lt_reason(k), "cannot be reached"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("amis-kho");
	TCase *tc = tcase_create("kit");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, a_forged_event_is_refused_with_a_reason);
	tcase_add_test(tc, a_signed_issue_note_is_emitted_by_its_number);
	tcase_add_test(tc, kho_busy_is_retried_after_what_it_asks);
	tcase_add_test(tc, kho_down_is_transient_and_says_so);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/*
 * test_amis_crm.c - the amis-crm connector alone, with the SDK's test kit:
 * signed events, the recall guard's answer, and how CRM's answers become
 * results. No host, no sandbox.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <luong/testkit.h>

#define SECRET "crm-webhook-secret"
#define RECALL                                                                 \
	"{\"event\":\"revenue_request.recalling\",\"id\":\"E7\","              \
	"\"data\":{\"revenue_request\":{\"revenue_request_no\":"               \
	"\"DNGDS00002\"},\"sale_order\":{\"id\":12}}}"

static struct lt_kit *k;

static void setup(void)
{
	k = lt_new(luong_plugin_entry());
	lt_config(k, "server", "http://crm.test/api");
	lt_config(k, "client_id", "app");
	lt_config(k, "client_secret", "s3cret");
	lt_config(k, "webhook_secret", SECRET);
	ck_assert_int_eq(lt_init(k), LUONG_OK);
}

static void teardown(void)
{
	lt_free(k);
}

START_TEST(a_forged_recall_is_refused_with_a_reason)
{
	unsigned status = 0;

	ck_assert_int_eq(lt_webhook(k, "/", "X-Amis-Signature: AAAA", RECALL,
				    &status),
			 LUONG_E_AUTH);
	ck_assert_uint_eq(status, 401);
	ck_assert_str_eq(lt_reason(k), "X-Amis-Signature is wrong");
	ck_assert_uint_eq(lt_emitted(k), 0);
}
END_TEST

START_TEST(a_recall_no_flow_guards_is_allowed_once_per_ask)
{
	char sig[65], hdr[100];
	unsigned status = 0;

	lt_sign(SECRET, RECALL, LUONG_SIG_BASE64, sig);
	snprintf(hdr, sizeof(hdr), "X-Amis-Signature: %s", sig);
	ck_assert_int_eq(lt_webhook(k, "/", hdr, RECALL, &status), LUONG_OK);
	ck_assert_uint_eq(status, 200);
	ck_assert_str_eq(lt_webhook_answer(k), "{\"allow\":true}");
	ck_assert_uint_eq(lt_emitted(k), 1);
	ck_assert_str_eq(lt_emitted_get(k, 0, "id"), "DNGDS00002@E7");
}
END_TEST

START_TEST(an_order_is_required_before_anything_is_sent)
{
	ck_assert_int_eq(lt_action(k, "update_order_delivery",
				   "{\"delivery_status\": 2}", NULL),
			 LUONG_E_INVAL);
	ck_assert_ptr_nonnull(strstr(lt_reason(k), "order_id"));
	ck_assert_uint_eq(lt_http_count(k), 0);
}
END_TEST

START_TEST(crm_throttling_is_retried_after_what_it_asks)
{
	lt_http_answer(k, 200, NULL, "{\"success\":true,\"data\":\"tok\"}");
	lt_http_answer(k, 429, "Retry-After: 2", "{}");
	ck_assert_int_eq(lt_action(k, "update_order_delivery",
				   "{\"order_id\": 12}", NULL),
			 LUONG_E_TRANSIENT);
	ck_assert_uint_eq(lt_retry_after(k), 2000);
	ck_assert_ptr_nonnull(strstr(lt_reason(k), "HTTP 429"));
}
END_TEST

/* A signed CRM event through the webhook; asserts it was taken. */
static void event(const char *body)
{
	char sig[65], hdr[100];
	unsigned status = 0;

	lt_sign(SECRET, body, LUONG_SIG_BASE64, sig);
	snprintf(hdr, sizeof(hdr), "X-Amis-Signature: %s", sig);
	ck_assert_int_eq(lt_webhook(k, "/", hdr, body, &status), LUONG_OK);
	ck_assert_uint_eq(status, 200);
}

START_TEST(a_customer_crosses_once_a_document_of_it_was_heard)
{
	event("{\"event\":\"customer.created\",\"id\":\"E1\",\"data\":"
	      "{\"customer\":{\"id\":9,\"account_number\":\"KH0100\","
	      "\"account_name\":\"Sao Mai\"}}}");
	ck_assert_uint_eq(lt_emitted(k), 1);
	ck_assert_str_eq(lt_emitted_get(k, 0, "event"), "customer.changed");
	ck_assert_str_eq(lt_emitted_get(k, 0, "id"), "KH0100");
	ck_assert_ptr_nonnull(strstr(lt_emitted_get(k, 0, "payload"), "\"crosse"
								      "d\":"
								      "false"));
	event("{\"event\":\"quote.created\",\"id\":\"E2\",\"data\":"
	      "{\"quote\":{\"quote_no\":\"BG00009\"},\"customer\":"
	      "{\"account_number\":\"KH0100\"}}}");
	ck_assert_str_eq(lt_emitted_get(k, 1, "event"), "quote.created");
	ck_assert_str_eq(lt_emitted_get(k, 1, "id"), "BG00009");
	event("{\"event\":\"customer.updated\",\"id\":\"E3\",\"data\":"
	      "{\"customer\":{\"id\":9,\"account_number\":\"KH0100\","
	      "\"account_name\":\"Sao Mai (mới)\"}}}");
	ck_assert_ptr_nonnull(strstr(lt_emitted_get(k, 2, "payload"), "\"crosse"
								      "d\":"
								      "true"));
}
END_TEST

START_TEST(a_customer_from_accounting_is_made_with_its_missing_group)
{
	const char *out = NULL;
	enum luong_status st;

	lt_http_answer(k, 200, NULL, "{\"success\":true,\"data\":\"tok\"}");
	/* the group: absent, made */
	lt_http_answer(k, 404, NULL, "{\"ErrorCode\":\"NotFound\"}");
	lt_http_answer(k, 201, NULL,
		       "{\"success\":true,\"data\":[{\"id\":5}]}");
	/* the customer: present, updated by its id */
	lt_http_answer(k, 200, NULL,
		       "{\"success\":true,\"data\":{\"id\":3,"
		       "\"account_number\":\"KH0002\"}}");
	lt_http_answer(k, 200, NULL,
		       "{\"success\":true,\"data\":[{\"id\":3,"
		       "\"account_number\":\"KH0002\"}]}");
	st = lt_action(k, "save_customer",
		       "{\"customer\": {\"account_number\": "
		       "\"KH0002\", "
		       "\"account_name\": \"Minh Châu\", "
		       "\"tax_code\": "
		       "null}, \"group\": {\"code\": \"DAILY\", "
		       "\"name\": \"Đại lý bán lẻ\"}}",
		       &out);
	ck_assert_msg(st == LUONG_OK, "%d %s after %zu requests", st,
		      lt_reason(k), lt_http_count(k));
	ck_assert_uint_eq(lt_http_count(k), 5);
	ck_assert_str_eq(lt_http_last(k, "method"), "PUT");
	ck_assert_ptr_nonnull(strstr(lt_http_last(k, "body"), "\"id\":3"));
	ck_assert_ptr_nonnull(strstr(lt_http_last(k, "body"), "\"customer_"
							      "group_code\":"
							      "\"DAILY\""));
	/* a null is not written over what CRM has */
	ck_assert_ptr_null(strstr(lt_http_last(k, "body"), "tax_code"));
	ck_assert_ptr_nonnull(strstr(out, "\"group_made\":true"));
	/* it came from accounting: it has crossed */
	event("{\"event\":\"customer.updated\",\"id\":\"E4\",\"data\":"
	      "{\"customer\":{\"id\":3,\"account_number\":\"KH0002\"}}}");
	ck_assert_ptr_nonnull(strstr(lt_emitted_get(k, 0, "payload"), "\"crosse"
								      "d\":"
								      "true"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("amis-crm");
	TCase *tc = tcase_create("kit");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, a_forged_recall_is_refused_with_a_reason);
	tcase_add_test(tc, a_recall_no_flow_guards_is_allowed_once_per_ask);
	tcase_add_test(tc, an_order_is_required_before_anything_is_sent);
	tcase_add_test(tc, crm_throttling_is_retried_after_what_it_asks);
	tcase_add_test(tc, a_customer_crosses_once_a_document_of_it_was_heard);
	tcase_add_test(
		tc, a_customer_from_accounting_is_made_with_its_missing_group);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

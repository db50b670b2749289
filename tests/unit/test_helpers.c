/* test_helpers.c - the SDK 1.2 helpers a connector calls through
 * luong_host.helpers: signatures and HTTP answers mapped to results. */
#define _GNU_SOURCE
#include <check.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "helpers.h"
#include "util.h"

/* RFC 4231, test case 2 */
#define KEY "Jefe"
#define MSG "what do ya want for nothing?"
#define HEX "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
#define B64 "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM="

static const struct luong_helpers_api *H = &helpers_api;

START_TEST(a_haravan_signature_in_base64_is_genuine)
{
	char out[65];

	ck_assert(H->hmac_verify(KEY, 4, MSG, strlen(MSG), B64,
				 LUONG_SIG_BASE64));
	ck_assert_int_eq(H->hmac_sign(KEY, 4, MSG, strlen(MSG),
				      LUONG_SIG_BASE64, out),
			 LUONG_OK);
	ck_assert_str_eq(out, B64);
}
END_TEST

START_TEST(a_misa_signature_in_hex_is_genuine_in_either_case)
{
	char upper[65];

	ck_assert(H->hmac_verify(KEY, 4, MSG, strlen(MSG), HEX, LUONG_SIG_HEX));
	for (int i = 0; i < 65; i++)
		upper[i] = (char)toupper((unsigned char)HEX[i]);
	ck_assert(
		H->hmac_verify(KEY, 4, MSG, strlen(MSG), upper, LUONG_SIG_HEX));
}
END_TEST

START_TEST(a_forged_or_missing_signature_is_refused)
{
	char bad[] = HEX;

	bad[10] = bad[10] == '0' ? '1' : '0';
	ck_assert(
		!H->hmac_verify(KEY, 4, MSG, strlen(MSG), bad, LUONG_SIG_HEX));
	ck_assert(!H->hmac_verify(KEY, 4, MSG, strlen(MSG) - 1, HEX,
				  LUONG_SIG_HEX));
	ck_assert(!H->hmac_verify(KEY, 4, MSG, strlen(MSG), HEX,
				  LUONG_SIG_BASE64));
	ck_assert(!H->hmac_verify(KEY, 4, MSG, strlen(MSG), "", LUONG_SIG_HEX));
	ck_assert(
		!H->hmac_verify(KEY, 4, MSG, strlen(MSG), NULL, LUONG_SIG_HEX));
	ck_assert(!H->hmac_verify("", 0, MSG, strlen(MSG), HEX, LUONG_SIG_HEX));
	ck_assert(!H->hmac_verify(KEY, 4, MSG, strlen(MSG), HEX, 7));
}
END_TEST

/* ---- HTTP answers ---- */

static struct luong_http_header hdr_ra[1];

static struct luong_http_response answer(long status, const char *body,
					 const char *retry_after)
{
	struct luong_http_response r = { .struct_size = sizeof(r) };

	r.status = status;
	r.body = (char *)body;
	r.body_len = body ? strlen(body) : 0;
	if (retry_after) {
		hdr_ra[0].name = "retry-after";
		hdr_ra[0].value = retry_after;
		r.headers = hdr_ra;
		r.n_headers = 1;
	}
	return r;
}

static const struct luong_http_result_opts misa = {
	.struct_size = sizeof(misa),
	.system = "MISA AMIS",
	.message_path = "$.errors[0].message",
};

START_TEST(a_2xx_answer_is_done)
{
	struct luong_call call = { 0 };
	struct luong_http_response r = answer(201, "{}", NULL);

	ck_assert_int_eq(H->http_result(NULL, &call, LUONG_OK, &r, &misa),
			 LUONG_OK);
	ck_assert_str_eq(call.error, "");
}
END_TEST

START_TEST(a_4xx_fails_with_the_targets_own_message)
{
	struct luong_call call = { 0 };
	struct luong_http_response r = answer(422,
					      "{\"errors\":[{\"message\":\"Mã "
					      "hàng X không có\"}]}",
					      NULL);

	ck_assert_int_eq(H->http_result(NULL, &call, LUONG_OK, &r, &misa),
			 LUONG_E_REMOTE);
	ck_assert_str_eq(call.error, "MISA AMIS refused: HTTP 422: Mã hàng X "
				     "không có");
}
END_TEST

START_TEST(a_4xx_without_the_path_shows_the_body)
{
	struct luong_call call = { 0 };
	struct luong_http_response r = answer(404, "no such thing", NULL);

	ck_assert_int_eq(H->http_result(NULL, &call, LUONG_OK, &r, &misa),
			 LUONG_E_REMOTE);
	ck_assert_str_eq(call.error, "MISA AMIS refused: HTTP 404: no such "
				     "thing");
}
END_TEST

START_TEST(a_429_retries_no_sooner_than_retry_after_seconds)
{
	struct luong_call call = { 0 };
	struct luong_http_response r = answer(429, "", "7");

	ck_assert_int_eq(H->http_result(NULL, &call, LUONG_OK, &r, &misa),
			 LUONG_E_TRANSIENT);
	ck_assert_uint_eq(call.retry_after_ms, 7000);
	ck_assert_ptr_nonnull(strstr(call.error, "HTTP 429"));
}
END_TEST

START_TEST(a_503_retries_no_sooner_than_retry_after_date)
{
	struct luong_call call = { 0 };
	struct luong_http_response r =
		answer(503, "", "Wed, 21 Oct 2015 07:28:00 GMT");
	uint32_t ms = H->retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT",
					1445412470000LL); /* 10 s before */

	ck_assert_uint_eq(ms, 10000);
	/* a date long past: no delay asked */
	ck_assert_int_eq(H->http_result(NULL, &call, LUONG_OK, &r, &misa),
			 LUONG_E_TRANSIENT);
	ck_assert_uint_eq(call.retry_after_ms, 0);
	ck_assert_uint_eq(H->retry_after_ms("soon", 0), 0);
	ck_assert_uint_eq(H->retry_after_ms(NULL, 0), 0);
}
END_TEST

static int reauths;

static enum luong_status forget_token(void *ud, long status)
{
	reauths++;
	return *(enum luong_status *)ud;
}

START_TEST(a_401_signs_in_again_through_the_hook)
{
	enum luong_status hook = LUONG_OK;
	struct luong_http_result_opts o = misa;
	struct luong_call call = { 0 };
	struct luong_http_response r = answer(401, "{}", NULL);

	ck_assert_int_eq(H->http_result(NULL, &call, LUONG_OK, &r, &o),
			 LUONG_E_AUTH);
	o.reauth = forget_token;
	o.reauth_ud = &hook;
	reauths = 0;
	ck_assert_int_eq(H->http_result(NULL, &call, LUONG_OK, &r, &o),
			 LUONG_E_TRANSIENT);
	ck_assert_int_eq(reauths, 1);
	hook = LUONG_E_AUTH;
	r.status = 403;
	ck_assert_int_eq(H->http_result(NULL, &call, LUONG_OK, &r, &o),
			 LUONG_E_AUTH);
	ck_assert_ptr_nonnull(strstr(call.error, "HTTP 403"));
}
END_TEST

START_TEST(no_answer_is_transient_and_says_why)
{
	struct luong_call call = { 0 };
	struct luong_http_response r = answer(0, NULL, NULL);

	snprintf(r.error, sizeof(r.error), "connection refused");
	ck_assert_int_eq(H->http_result(NULL, &call, LUONG_E_TIMEOUT, &r,
					&misa),
			 LUONG_E_TIMEOUT);
	ck_assert_int_eq(H->http_result(NULL, &call, LUONG_E_TRANSIENT, &r,
					&misa),
			 LUONG_E_TRANSIENT);
	ck_assert_str_eq(call.error, "MISA AMIS cannot be reached: "
				     "connection refused");
}
END_TEST

START_TEST(json_at_walks_members_and_indexes)
{
	cJSON *j = cJSON_Parse("{\"a\":{\"b\":[1,{\"c\":\"x\"}]}}");

	ck_assert_str_eq(H->json_at(j, "a.b[1].c")->valuestring, "x");
	ck_assert_str_eq(H->json_at(j, "$.a.b[1].c")->valuestring, "x");
	ck_assert_ptr_null(H->json_at(j, "a.b[2].c"));
	ck_assert_ptr_null(H->json_at(j, "a.z"));
	ck_assert_ptr_null(H->json_at(j, "a.b[x]"));
	cJSON_Delete(j);
}
END_TEST

START_TEST(the_fail_reason_is_per_thread_and_cleared)
{
	helpers_fail_clear();
	ck_assert_ptr_null(helpers_fail_reason());
	helpers_fail(NULL, "secret %s is wrong", "app_id");
	ck_assert_str_eq(helpers_fail_reason(), "secret app_id is wrong");
	helpers_fail_clear();
	ck_assert_ptr_null(helpers_fail_reason());
}
END_TEST

int main(void)
{
	Suite *s = suite_create("helpers");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, a_haravan_signature_in_base64_is_genuine);
	tcase_add_test(tc, a_misa_signature_in_hex_is_genuine_in_either_case);
	tcase_add_test(tc, a_forged_or_missing_signature_is_refused);
	tcase_add_test(tc, a_2xx_answer_is_done);
	tcase_add_test(tc, a_4xx_fails_with_the_targets_own_message);
	tcase_add_test(tc, a_4xx_without_the_path_shows_the_body);
	tcase_add_test(tc, a_429_retries_no_sooner_than_retry_after_seconds);
	tcase_add_test(tc, a_503_retries_no_sooner_than_retry_after_date);
	tcase_add_test(tc, a_401_signs_in_again_through_the_hook);
	tcase_add_test(tc, no_answer_is_transient_and_says_why);
	tcase_add_test(tc, json_at_walks_members_and_indexes);
	tcase_add_test(tc, the_fail_reason_is_per_thread_and_cleared);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

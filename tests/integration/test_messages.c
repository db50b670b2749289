/*
 * test_messages.c - what the host says to a person, in the language the
 * setting names: Vietnamese unless "language" says "en", LUONG_LANG over
 * both for one command; targets' own messages pass through unchanged.
 * Each story starts the real `luong` with the probe plugin and a sink.
 */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "sink.h"

static struct deploy d;
static struct sink *sk;

static void setup(void)
{
	/* ctest runs every test in English; these stories choose */
	unsetenv("LUONG_LANG");
	sk = sink_start(0);
	ck_assert_ptr_nonnull(sk);
	h_deploy(&d);
}

static void teardown(void)
{
	h_cleanup(&d);
	sink_stop(sk);
}

static void settings(const char *language)
{
	h_write(&d, "luong.json",
		"{\"listen\": \"127.0.0.1:0\", \"workers\": 2,"
		" \"admin_token\": {\"file\": \"admin.token\"}%s%s%s}\n",
		language ? ", \"language\": \"" : "", language ? language : "",
		language ? "\"" : "");
}

static void start(const char *language)
{
	settings(language);
	h_probe_setup(&d, sink_port(sk), "automatic");
	ck_assert_int_eq(h_start(&d), 0);
}

static long post_thing(const char *id, int n)
{
	char body[128];

	snprintf(body, sizeof(body), "{\"id\":\"%s\",\"n\":%d}", id, n);
	return h_hook(&d, "probe", "/", body);
}

/* The answer to a webhook for a connection that does not exist. */
static char *unknown_connection_answer(void)
{
	char url[128], *out = NULL;

	snprintf(url, sizeof(url), "http://127.0.0.1:%u/hooks/nowhere/",
		 d.port);
	ck_assert_int_eq(h_http("POST", url, "{}", NULL, &out), 404);
	return out;
}

/* The detail of the document's last history entry with `outcome`. */
static char *history_detail(const char *doc, const char *outcome)
{
	char path[128], *out = NULL;
	cJSON *j = NULL;
	const cJSON *h;

	snprintf(path, sizeof(path), "/flows/relay/document?id=%s", doc);
	ck_assert_int_eq(h_api(&d, "GET", path, NULL, &j), 200);
	cJSON_ArrayForEach (h, cJSON_GetObjectItem(j, "history")) {
		const cJSON *o = cJSON_GetObjectItem(h, "outcome");
		const cJSON *t = cJSON_GetObjectItem(h, "detail");

		if (cJSON_IsString(o) && !strcmp(o->valuestring, outcome) &&
		    cJSON_IsString(t)) {
			free(out);
			out = strdup(t->valuestring);
		}
	}
	cJSON_Delete(j);
	ck_assert_ptr_nonnull(out);
	return out;
}

/* A synced document edited at its source: the ledger's reason. */
static char *changed_after_sync_detail(void)
{
	ck_assert_int_eq(post_thing("E1", 1), 200);
	ck_assert(h_wait_status(&d, "relay", "E1", "synced", 5000));
	ck_assert_int_eq(post_thing("E1", 2), 200);
	for (int i = 0; i < 50; i++) {
		char path[64];
		cJSON *j = NULL;
		bool flagged;

		snprintf(path, sizeof(path), "/flows/relay/document?id=E1");
		ck_assert_int_eq(h_api(&d, "GET", path, NULL, &j), 200);
		flagged = cJSON_IsTrue(cJSON_GetObjectItem(j, "changed_after_"
							      "sync"));
		cJSON_Delete(j);
		if (flagged)
			break;
		usleep(100000);
	}
	return history_detail("E1", "changed-after-sync");
}

START_TEST(messages_vietnamese_without_a_setting)
{
	char *out = NULL;

	start(NULL);
	out = unknown_connection_answer();
	ck_assert_msg(strstr(out, "không có kết nối \\\"nowhere\\\""), "%s",
		      out);
	free(out);
	out = changed_after_sync_detail();
	ck_assert_str_eq(out, "chứng từ nguồn đã thay đổi sau khi được gửi; "
			      "không gửi lại");
	free(out);
	ck_assert_int_ne(h_luong(&d, &out, "docs relay --bogus"), 0);
	ck_assert_msg(strstr(out, "tùy chọn sai \"--bogus\""), "%s", out);
	free(out);
}
END_TEST

START_TEST(messages_english_by_setting)
{
	char *out = NULL;

	start("en");
	out = unknown_connection_answer();
	ck_assert_msg(strstr(out, "no connection \\\"nowhere\\\""), "%s", out);
	free(out);
	out = changed_after_sync_detail();
	ck_assert_str_eq(out, "the source document changed after it was "
			      "sent; not sent again");
	free(out);
	ck_assert_int_ne(h_luong(&d, &out, "docs relay --bogus"), 0);
	ck_assert_msg(strstr(out, "bad option \"--bogus\""), "%s", out);
	free(out);
}
END_TEST

/* LUONG_LANG for one command, over the setting; a wrong setting is
 * named in the language the file asks for. */
START_TEST(messages_environment_over_setting)
{
	char *out = NULL;

	settings("vi");
	setenv("LUONG_LANG", "en", 1);
	ck_assert_int_ne(h_luong(&d, &out, "docs relay --bogus"), 0);
	unsetenv("LUONG_LANG");
	ck_assert_msg(strstr(out, "bad option"), "%s", out);
	free(out);
	h_write(&d, "luong.json",
		"{\"language\": \"en\", \"workers\": \"eight\"}\n");
	ck_assert_int_ne(h_luong(&d, &out, "flows check"), 0);
	ck_assert_msg(strstr(out, "$.workers: expected a whole number"), "%s",
		      out);
	free(out);
	h_write(&d, "luong.json", "{\"language\": \"fr\"}\n");
	ck_assert_int_ne(h_luong(&d, &out, "flows check"), 0);
	ck_assert_msg(strstr(out, "$.language: cần \"vi\" hoặc \"en\""), "%s",
		      out);
	free(out);
}
END_TEST

/* The target's own words reach the ledger as the target said them. */
START_TEST(messages_of_targets_pass_through)
{
	cJSON *j = NULL;
	const char *reason;

	start("vi");
	sink_set_mode(sk, SINK_REFUSE, 1, 0);
	ck_assert_int_eq(post_thing("P1", 1), 200);
	ck_assert(h_wait_status(&d, "relay", "P1", "failed", 5000));
	ck_assert_int_eq(
		h_api(&d, "GET", "/flows/relay/document?id=P1", NULL, &j), 200);
	reason = cJSON_GetStringValue(cJSON_GetObjectItem(j, "reason"));
	ck_assert_ptr_nonnull(reason);
	ck_assert_msg(strstr(reason, "unknown item code"), "%s", reason);
	cJSON_Delete(j);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("messages");
	TCase *tc = tcase_create("language");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, messages_vietnamese_without_a_setting);
	tcase_add_test(tc, messages_english_by_setting);
	tcase_add_test(tc, messages_environment_over_setting);
	tcase_add_test(tc, messages_of_targets_pass_through);
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
	return failed ? 1 : 0;
}

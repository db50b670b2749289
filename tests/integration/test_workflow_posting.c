/*
 * test_workflow_posting.c - the AMIS Workflow stories where MISA does not
 * simply answer "made": a voucher made but not posted (B5), a voucher
 * number already taken (B6), and stalls and late answers (a mode switch
 * while waiting, a callback that never comes, a late refusal, the failure
 * event written on the Kho note). The deployment is workflow_fixture.c's,
 * as in test_workflow.c.
 */
#define _GNU_SOURCE
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "workflow_fixture.h"

/* ---- B5: posting is not syncing -------------------------------------------------- */

/* A note issuing more than accounting holds: MISA makes the voucher but
 * cannot post it; waited for until the ledger says post_failed. */
static char *w3_post_failed_note(void)
{
	char *note;

	cli_ok("flows mode " W3 " automatic");
	note = other_issue("SP001", 5000); /* MISA holds 120 at KHO_HN */
	ck_assert_msg(h_wait_status(&d, W3, note, "post_failed", 10000),
		      "%s did not become post_failed", note);
	return note;
}

/* Issue: a voucher MISA accepted but could not post showed synced. */
START_TEST(w3_negative_stock_is_post_failed_not_synced)
{
	char *note, *err = NULL, *st, *out = NULL;
	cJSON *doc;

	note = w3_post_failed_note();
	doc = ledger_doc(W3, note);
	ck_assert_str_eq(h_jstr(doc, "status"), "post_failed");
	ck_assert_msg(strstr(h_jstr(doc, "reason"), "ghi sổ không thành "
						    "công") &&
			      strstr(h_jstr(doc, "reason"), "NegativeStock"),
		      "reason: %s", h_jstr(doc, "reason"));
	cJSON_Delete(doc);
	/* Kho's column says the voucher was not posted, with MISA's words */
	ck_assert(wait_note_status(note, "post_failed", 5000));
	st = note_status(note, &err, NULL);
	ck_assert_ptr_nonnull(strstr(err, "Xuất quá số lượng tồn"));
	/* the posting failures sit beside the failed list */
	ck_assert_int_eq(h_luong(&d, &out, "docs " W3 " --status post_failed"),
			 0);
	ck_assert_msg(strstr(out, note), "%s", out);
	free(out);
	ck_assert_int_eq(h_luong(&d, &out, "docs " W3 " --status failed"), 0);
	ck_assert_msg(!strstr(out, note), "%s", out);
	free(out);
	ck_assert_int_eq(synced_count(W3), 0);
	free(st);
	free(err);
	free(note);
}
END_TEST

START_TEST(w3_post_failed_retried_ignoring_warnings_posts)
{
	char *note, *key, *st, *ref = NULL, args[160];
	cJSON *misa, *v;

	note = w3_post_failed_note();
	key = refid_of(note);
	snprintf(args, sizeof(args), "retry " W3 " %s --ignore-warnings", note);
	cli_ok(args);
	ck_assert(h_wait_status(&d, W3, note, "synced", 10000));
	ck_assert(wait_note_status(note, "synced", 5000));
	st = note_status(note, NULL, &ref);
	misa = state("misa");
	v = h_find_row(misa, "vouchers", "org_refid", key);
	ck_assert_str_eq(h_jstr(v, "posting_status"), "posted");
	ck_assert_str_eq(ref, h_jstr(v, "refno"));
	/* one voucher, posted past the warning, not a second one */
	ck_assert_int_eq(misa_requests_for(key, "generated"), 1);
	cJSON_Delete(misa);
	free(st);
	free(ref);
	free(key);
	free(note);
}
END_TEST

/* ---- B6: number clashes ----------------------------------------------------------- */

/* A manual W3 note whose number the accountant already gave a voucher
 * typed by hand in MISA; pushed. Returns the note's number (owned). */
static char *w3_clashing_note(void)
{
	char *note = other_issue("SP002", 1), body[160], args[128];
	cJSON *j;

	ck_assert(h_wait_status(&d, W3, note, "pending", 3000));
	snprintf(body, sizeof(body),
		 "{\"refno\": \"%s\", \"voucher_type\": "
		 "51}",
		 note);
	j = sbx("misa", "POST", "/_sandbox/act/enter_voucher", body);
	ck_assert_str_eq(h_jstr(j, "refno"), note);
	cJSON_Delete(j);
	snprintf(args, sizeof(args), "push " W3 " %s", note);
	cli_ok(args);
	return note;
}

START_TEST(w3_number_clash_fails_for_a_person)
{
	char *note = w3_clashing_note(), *err = NULL, *st;
	cJSON *doc;

	ck_assert(h_wait_status(&d, W3, note, "failed", 10000));
	doc = ledger_doc(W3, note);
	ck_assert_msg(strstr(h_jstr(doc, "reason"), "DuplicateRefNo") &&
			      strstr(h_jstr(doc, "reason"), "đã tồn tại"),
		      "reason: %s", h_jstr(doc, "reason"));
	ck_assert_ptr_null(cJSON_GetObjectItem(doc, "number_suffix"));
	cJSON_Delete(doc);
	ck_assert_int_eq(history_count(W3, note, "renumbered"), 0);
	ck_assert(wait_note_status(note, "failed", 5000));
	st = note_status(note, &err, NULL);
	ck_assert_ptr_nonnull(strstr(err, note));
	free(st);
	free(err);
	free(note);
}
END_TEST

START_TEST(w3_number_clash_renumbered_with_suffix)
{
	char *text = h_read_file(SRC_DIR "/flows/" W3 ".json", NULL), *p;
	char *note, *ref = NULL, *st, *lt, want[64], q[96];
	cJSON *doc, *misa, *links;

	/* the flow's policy: renumber */
	ck_assert_ptr_nonnull(text);
	p = strstr(text, "\"mode\"");
	ck_assert_ptr_nonnull(p);
	h_write(&d, "flows/" W3 ".json",
		"%.*s\"on_number_clash\": "
		"\"renumber\", %s",
		(int)(p - text), text, p);
	free(text);
	cli_ok("flows reload");
	note = w3_clashing_note();
	ck_assert(h_wait_status(&d, W3, note, "synced", 10000));
	snprintf(want, sizeof(want), "%s-1", note);
	/* MISA holds both numbers: the hand-made one and the suffixed one */
	misa = state("misa");
	ck_assert_ptr_nonnull(h_find_row(misa, "vouchers", "refno", note));
	ck_assert_ptr_nonnull(h_find_row(misa, "vouchers", "refno", want));
	cJSON_Delete(misa);
	/* the suffix is in the ledger, its history, the link and Kho */
	doc = ledger_doc(W3, note);
	ck_assert_str_eq(h_jstr(doc, "number_suffix"), "-1");
	cJSON_Delete(doc);
	ck_assert_int_eq(history_count(W3, note, "renumbered"), 1);
	snprintf(q, sizeof(q), "connection=kho&id=%s", note);
	links = links_of(q);
	ck_assert_int_eq(cJSON_GetArraySize(links), 1);
	lt = cJSON_PrintUnformatted(links);
	ck_assert_msg(strstr(lt, want), "links: %s", lt);
	free(lt);
	cJSON_Delete(links);
	ck_assert(wait_note_status(note, "synced", 5000));
	st = note_status(note, NULL, &ref);
	ck_assert_str_eq(ref, want);
	free(st);
	free(ref);
	free(note);
}
END_TEST

/* ---- stalls and late answers (reliability) ----------------------------------------- */

static void misa_config(const char *body)
{
	cJSON *j = sbx("misa", "POST", "/_sandbox/act/config", body);

	ck_assert_msg(j && !cJSON_GetObjectItem(j, "error"),
		      "MISA config %s refused", body);
	cJSON_Delete(j);
}

/* Issue: a mode switch while a note waited for MISA's callback stopped
 * the whole flow until wait_timeout_s ran out (30 s here). */
START_TEST(stall_mode_switch_while_waiting_for_a_callback)
{
	char *a, *b;
	long long t0;

	misa_config("{\"generate_delay_ms\": 1500}");
	cli_ok("flows mode " W3 " automatic");
	a = other_issue("SP001", 1);
	t0 = h_now_ms();
	ck_assert(h_wait_status(&d, W3, a, "syncing", 5000));
	while (history_count(W3, a, "waiting") < 1 && h_now_ms() - t0 < 5000)
		usleep(20000);
	ck_assert_int_eq(history_count(W3, a, "waiting"), 1);
	cli_ok("flows mode " W3 " automatic"); /* a no-op switch */
	b = other_issue("SP002", 1);
	ck_assert_msg(h_wait_status(&d, W3, a, "synced", 5000), "the waiting "
								"note did not "
								"sync after a "
								"mode switch");
	ck_assert_msg(h_wait_status(&d, W3, b, "synced", 5000), "a later note "
								"waited behind "
								"the waiting "
								"one");
	ck_assert_int_le(h_now_ms() - t0, 10000);
	free(a);
	free(b);
}
END_TEST

/* Restarts the host with a short wait for callbacks. */
static void restart_with_wait_timeout(int seconds)
{
	ck_assert_int_eq(h_stop(&d, SIGTERM), 0);
	h_write(&d, "luong.json",
		"{\"listen\": \"127.0.0.1:0\", "
		"\"workers\": 4, \"admin_token\": {\"file\": "
		"\"admin.token\"}, \"log_level\": \"debug\", "
		"\"wait_timeout_s\": %d}\n",
		seconds);
	ck_assert_int_eq(h_start(&d), 0);
	point_webhooks(NULL);
}

/* Issue: with MISA restarted (it forgot what it had accepted), notes
 * sat "syncing" until the host was restarted. Now a note is sent again
 * when its wait runs out, and MISA's own duplicate guard (org_refid)
 * keeps it to one voucher. */
START_TEST(stall_callback_that_never_comes_is_sent_again)
{
	char *a, *key;

	restart_with_wait_timeout(2);
	misa_config("{\"generate_delay_ms\": 1000}");
	cli_ok("flows mode " W3 " automatic");
	a = other_issue("SP001", 2);
	ck_assert(h_wait_status(&d, W3, a, "syncing", 5000));
	key = refid_of(a);
	while (misa_requests_for(key, "pending") < 1)
		usleep(20000);
	/* MISA restarts before it made the voucher: no callback ever */
	cJSON_Delete(sbx("misa", "POST", "/_sandbox/reset", NULL));
	point_webhooks(NULL);
	ck_assert_int_eq(misa_requests_for(key, NULL), 0);
	ck_assert_msg(h_wait_status(&d, W3, a, "synced", 8000), "not sent "
								"again after "
								"its wait ran "
								"out");
	ck_assert_int_ge(history_count(W3, a, "timed-out"), 1);
	ck_assert_int_eq(misa_requests_for(key, NULL), 1);
	ck_assert_int_eq(misa_requests_for(key, "generated"), 1);
	free(key);
	free(a);
}
END_TEST

/* A MISA callback, signed as MISA signs it (HMAC-SHA256 of `data` keyed
 * by the app id), refusing org_refid `key`. */
static long misa_refusal_callback(const char *key, const char *session)
{
	static const char app_id[] = "7c4b3a1e-5d2f-4b8a-9e61-2f0d8c3a9b57";
	unsigned char mac[32];
	unsigned int maclen = 0;
	char data[512], hex[65], url[128], *body, *out = NULL;
	cJSON *o = cJSON_CreateObject();
	long code;

	snprintf(data, sizeof(data),
		 "[{\"org_refid\": \"%s\", \"success\": "
		 "false, \"error_code\": \"InvalidParam\", \"error_message\":"
		 " \"late refusal\", \"session_id\": \"%s\", "
		 "\"voucher_type\": 51}]",
		 key, session);
	HMAC(EVP_sha256(), app_id, (int)strlen(app_id),
	     (const unsigned char *)data, strlen(data), mac, &maclen);
	for (unsigned int i = 0; i < maclen; i++)
		sprintf(hex + 2 * i, "%02x", mac[i]);
	cJSON_AddBoolToObject(o, "success", true);
	cJSON_AddStringToObject(o, "app_id", app_id);
	cJSON_AddStringToObject(o, "signature", hex);
	cJSON_AddNumberToObject(o, "data_type", 1);
	cJSON_AddStringToObject(o, "org_company_code", "congtyanphat");
	cJSON_AddStringToObject(o, "data", data);
	body = cJSON_PrintUnformatted(o);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/hooks/misa/callback",
		 d.port);
	code = h_http("POST", url, body, NULL, &out);
	free(out);
	free(body);
	cJSON_Delete(o);
	return code;
}

/* Issue: a failure callback for a note already synced turned the Kho
 * note to "failed". An answer applies only to a document waiting for
 * it. */
START_TEST(callback_refusal_for_a_synced_note_is_ignored)
{
	char *a, *key, *st;
	cJSON *j;

	cli_ok("flows mode " W3 " automatic");
	a = other_issue("SP001", 1);
	ck_assert(h_wait_status(&d, W3, a, "synced", 10000));
	ck_assert(wait_note_status(a, "synced", 5000));
	key = refid_of(a);
	/* genuine-looking, signed: late, and repeated */
	ck_assert_int_eq(misa_refusal_callback(key, "late-1"), 200);
	ck_assert_int_eq(misa_refusal_callback(key, "late-1"), 200);
	usleep(1000000);
	ck_assert(h_wait_status(&d, W3, a, "synced", 100));
	st = note_status(a, NULL, NULL);
	ck_assert_str_eq(st, "synced");
	/* nothing was told to Kho through the failure flow */
	ck_assert_int_eq(h_api(&d, "GET", "/flows/" W3F "/documents", NULL, &j),
			 200);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "document"
								   "s")),
			 0);
	cJSON_Delete(j);
	ck_assert(h_log_has(&d, "no document waits for it; ignored"));
	free(st);
	free(key);
	free(a);
}
END_TEST

/* The host's document.failed event (not a MISA event) carries a W3
 * failure to issue-note-sync-failed, which writes it on the note. */
START_TEST(failure_event_writes_the_reason_on_the_kho_note)
{
	char *note, *err = NULL, *st, prefix[128];
	const cJSON *row;
	cJSON *j;

	j = sbx("kho", "POST", "/_sandbox/seed",
		"{\"Items\": [{\"id\": 98, "
		"\"item_code\": \"SP998\", \"item_name\": \"Hàng lạ\", "
		"\"unit\": \"Cái\", \"unit_price\": 1000, \"vat_percent\": "
		"10}]}");
	cJSON_Delete(j);
	point_webhooks(NULL);
	cli_ok("flows mode " W3 " automatic");
	note = other_issue("SP998", 2);
	ck_assert(h_wait_status(&d, W3, note, "failed", 10000));
	ck_assert(wait_note_status(note, "failed", 5000));
	st = note_status(note, &err, NULL);
	ck_assert_str_eq(st, "failed");
	ck_assert_ptr_nonnull(strstr(err, "SP998"));
	ck_assert_ptr_nonnull(strstr(err, "không tồn tại"));
	/* the failure flow's document is the host's event about W3's */
	ck_assert_int_eq(h_api(&d, "GET", "/flows/" W3F "/documents", NULL, &j),
			 200);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "document"
								   "s")),
			 1);
	row = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "documents"), 0);
	snprintf(prefix, sizeof(prefix), W3 ":%s@", note);
	ck_assert_ptr_nonnull(strstr(h_jstr(row, "document"), prefix));
	ck_assert_str_eq(h_jstr(row, "event"), "document.failed");
	ck_assert_str_eq(h_jstr(row, "status"), "synced");
	cJSON_Delete(j);
	free(st);
	free(err);
	free(note);
}
END_TEST

static Suite *workflow_suite(void)
{
	Suite *s = suite_create("workflow");
	TCase *tc;

	tc = tcase_create("amis");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, stall_mode_switch_while_waiting_for_a_callback);
	tcase_add_test(tc, stall_callback_that_never_comes_is_sent_again);
	tcase_add_test(tc, callback_refusal_for_a_synced_note_is_ignored);
	tcase_add_test(tc, failure_event_writes_the_reason_on_the_kho_note);
	suite_add_tcase(s, tc);
	/* issue 9: posting, numbers */
	tc = tcase_create("awf");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, w3_negative_stock_is_post_failed_not_synced);
	tcase_add_test(tc, w3_post_failed_retried_ignoring_warnings_posts);
	tcase_add_test(tc, w3_number_clash_fails_for_a_person);
	tcase_add_test(tc, w3_number_clash_renumbered_with_suffix);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(workflow_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}

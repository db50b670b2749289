/*
 * test_fault_storm.c - W3 while MISA and Kho misbehave (the sandbox's
 * fault injection): 5xx answers, dropped connections, bursts of 429 with
 * Retry-After, every token expired now and then, then answers that come
 * after the host gave up waiting and connections held until they close.
 * Every transient fault must end in a synced note with exactly one
 * voucher; a note MISA refuses (an item it does not know) is sent once,
 * fails with MISA's reason and is not tried again.
 *
 *   TORTURE_DOCS (80)   good notes
 *   TORTURE_BAD (5)     notes MISA refuses
 *   TORTURE_SEED        repeat a run (the seed is printed)
 */
#define _GNU_SOURCE
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "torture.h"

static struct tort t;

static void setup(void)
{
	tort_setup(&t, NULL);
	tort_seed_bad_item(&t);
}

static void teardown(void)
{
	tort_teardown(&t);
}

/* The steady storm on both systems; the status of the 5xx changes. */
static void storm(int round)
{
	static const int statuses[] = { 500, 502, 503, 504 };
	char body[160];

	snprintf(body, sizeof(body),
		 "{\"error_rate\": 0.1, \"error_status\":"
		 " %d, \"drop_rate\": 0.03}",
		 statuses[round % 4]);
	tort_faults(&t, "misa", body);
	snprintf(body, sizeof(body),
		 "{\"error_rate\": 0.05, \"error_status\":"
		 " %d, \"drop_rate\": 0.02}",
		 statuses[(round + 1) % 4]);
	tort_faults(&t, "kho", body);
}

/* Now and then: a burst of 429s, or every token expired. */
static void gust(int i)
{
	char body[96];

	if (i % 20 == 7) {
		snprintf(body, sizeof(body),
			 "{\"burst_429\": %u, "
			 "\"retry_after\": 1}",
			 3 + tort_rand(&t, 6));
		tort_faults(&t, tort_rand(&t, 4) ? "misa" : "kho", body);
	}
	if (i % 25 == 12) {
		tort_faults(&t, "misa", "{\"expire_tokens\": true}");
		tort_faults(&t, "kho", "{\"expire_tokens\": true}");
	}
	if (i % 10 == 0)
		storm(i / 10);
}

/* MISA took the note's voucher request once (a record of its own, never
 * replaced nor sent again after the refusal: a resend would make a
 * second record), the ledger shows it sent and failed once, and Kho
 * shows MISA's reason. An ExpiredToken answer is repeated by the plugin,
 * so MISA's request log may show two saves for one voucher request. */
static void assert_refused_once(const char *note)
{
	char key[128];
	cJSON *doc = tort_doc(&t, W3, note), *st, *r, *one = NULL;
	int k = 0;

	snprintf(key, sizeof(key), W3 ":voucher:%s", note);
	st = tort_state(&t, "misa");
	cJSON_ArrayForEach (r, cJSON_GetObjectItem(st, "vouchers"))
		if (!strcmp(tort_jstr(r, "org_refid"), key)) {
			one = r;
			k++;
		}
	ck_assert_msg(k == 1, "%s: MISA took %d voucher requests", note, k);
	ck_assert_msg(!strcmp(tort_jstr(one, "status"), "rejected") &&
			      tort_jnum(one, "update_count") == 0,
		      "%s: its request is %s, replaced %g times", note,
		      tort_jstr(one, "status"), tort_jnum(one, "update_count"));
	cJSON_Delete(st);
	ck_assert_ptr_nonnull(doc);
	ck_assert_str_eq(tort_jstr(doc, "status"), "failed");
	ck_assert_msg(strstr(tort_jstr(doc, "reason"), "SP999"),
		      "%s failed for: %s", note, tort_jstr(doc, "reason"));
	ck_assert_int_eq(tort_history_count(doc, "failed"), 1);
	ck_assert_msg(tort_history_count(doc, "waiting") == 1,
		      "%s: sent and accepted %d times", note,
		      tort_history_count(doc, "waiting"));
	cJSON_Delete(doc);
	st = tort_state(&t, "kho");
	cJSON_ArrayForEach (r, cJSON_GetObjectItem(st, "IssueNotes"))
		if (!strcmp(tort_jstr(r, "issue_note_no"), note))
			break;
	ck_assert_ptr_nonnull(r);
	ck_assert_msg(!strcmp(tort_jstr(r, "accounting_status_code"), "faile"
								      "d") &&
			      strstr(tort_jstr(r, "accounting_error"), "SP999"),
		      "%s in Kho: %s", note,
		      tort_jstr(r, "accounting_status_code"));
	cJSON_Delete(st);
}

/* Answers after the host's 3 s time-out (handled all the same), then
 * connections held and closed without an answer, a few notes in each. */
static void slow_windows(char **notes, int *n)
{
	tort_faults(&t, "misa", NULL);
	tort_faults(&t, "misa", "{\"latency_ms\": 3500}");
	for (int i = 0; i < 4; i++)
		notes[(*n)++] = tort_note(&t, false);
	sleep(4);
	tort_faults(&t, "misa", "{\"latency_ms\": 0, \"timeout_ms\": 800}");
	tort_faults(&t, "kho", "{\"timeout_ms\": 800}");
	for (int i = 0; i < 4; i++)
		notes[(*n)++] = tort_note(&t, false);
	sleep(2);
	tort_faults(&t, "misa", NULL);
	tort_faults(&t, "kho", NULL);
}

START_TEST(fault_storm_transient_faults_end_synced_refusals_tried_once)
{
	int docs = (int)tort_env("TORTURE_DOCS", 80);
	int nbad = (int)tort_env("TORTURE_BAD", 5), n = 0, b = 0;
	char **notes = calloc((size_t)docs + 8, sizeof(*notes));
	char **bad = calloc((size_t)nbad + 1, sizeof(*bad));
	long long t0 = h_now_ms();

	tort_seed(&t, "torture_fault_storm");
	for (int i = 0; i < docs; i++) {
		gust(i);
		if (b < nbad && (int)tort_rand(&t, (unsigned)docs) < nbad)
			bad[b++] = tort_note(&t, true);
		notes[n++] = tort_note(&t, false);
		usleep(tort_rand(&t, 30) * 1000);
	}
	while (b < nbad)
		bad[b++] = tort_note(&t, true);
	/* refusals are over before the slow windows, which resend */
	ck_assert_msg(tort_wait_all(&t, bad, b, "failed", 60000), "a refused "
								  "note did "
								  "not fail");
	slow_windows(notes, &n);
	tort_say("torture_fault_storm: %d notes, %d refused, storm over after "
		 "%.1f s",
		 n, b, (h_now_ms() - t0) / 1000.0);
	ck_assert_msg(tort_wait_all(&t, notes, n, "synced", 120000),
		      "not every note synced after the storm");
	usleep(1500000); /* time for a wrong retry to show */
	for (int i = 0; i < b; i++)
		assert_refused_once(bad[i]);
	tort_assert_one_voucher_each(&t, notes, n, b);
	tort_say("torture_fault_storm: all synced, refusals once, %.1f s",
		 (h_now_ms() - t0) / 1000.0);
	ck_assert_int_eq(h_stop(&t.d, SIGTERM), 0);
	for (int i = 0; i < n; i++)
		free(notes[i]);
	for (int i = 0; i < b; i++)
		free(bad[i]);
	free(notes);
	free(bad);
}
END_TEST

int main(void)
{
	const TTest *const tests[] = {
		fault_storm_transient_faults_end_synced_refusals_tried_once,
	};

	return tort_run("torture_fault_storm", setup, teardown, tests, 1);
}

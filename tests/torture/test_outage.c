/*
 * test_outage.c - MISA is away while notes keep coming: once with its
 * listening socket really closed (connections refused), once answering
 * every request with 429 and a Retry-After. Some notes are edited twice
 * while they wait (a newer version of the same document, signed as Kho
 * signs its events). When MISA is back, the whole backlog is synced
 * within 10 s, one voucher per note, and an edited note reaches MISA with
 * its last content: documents of one key keep their order.
 *
 *   TORTURE_SECONDS (6)  length of the outage
 *   TORTURE_DOCS (40)    notes saved during it
 *   TORTURE_SEED         repeat a run (the seed is printed)
 */
#define _GNU_SOURCE
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "torture.h"

#define EDITED 3
#define EDIT_STEP 20 /* each edit adds this to every line's quantity */

static struct tort t;

static void setup(void)
{
	tort_setup(&t, NULL);
}

static void teardown(void)
{
	tort_teardown(&t);
}

static bool misa_answers(void)
{
	cJSON *j = tort_sbx(&t, "misa", "GET", "/_sandbox/faults", NULL);

	cJSON_Delete(j);
	return j != NULL;
}

/* The note as the ledger holds it, every line's quantity raised by
 * EDIT_STEP, sent to the host as a new issue_note.saved event. */
static void edit_note(const char *note, int k)
{
	cJSON *doc = tort_doc(&t, W3, note), *payload, *l;
	char id[64];
	bool ra;
	long st;

	ck_assert_ptr_nonnull(doc);
	payload = cJSON_GetObjectItem(doc, "payload");
	cJSON_ArrayForEach (l, cJSON_GetObjectItem(payload, "lines"))
		cJSON_SetNumberValue(cJSON_GetObjectItem(l, "quantity"),
				     tort_jnum(l, "quantity") + EDIT_STEP);
	cJSON_ReplaceItemInObject(payload, "description",
				  cJSON_CreateString("Xuất hàng mẫu (đã sửa)"));
	snprintf(id, sizeof(id), "torture-edit-%s-%d", note, k);
	st = tort_kho_event(&t, payload, id, &ra);
	ck_assert_msg(st == 200, "the edit of %s was answered %ld", note, st);
	cJSON_Delete(doc);
}

/* Waits until the note is pending (waiting for its first try or between
 * two), so an edit is unlikely to meet an attempt in flight. */
static void wait_between_tries(const char *note)
{
	long long t0 = h_now_ms();

	for (;;) {
		cJSON *doc = tort_doc(&t, W3, note);
		/* pending: not yet tried, or backing off between tries
		 * (a failing target is probed one document at a time) */
		bool ok = doc && !strcmp(tort_jstr(doc, "status"), "pending");

		cJSON_Delete(doc);
		if (ok)
			return;
		ck_assert_msg(h_now_ms() - t0 < 10000,
			      "%s never waited "
			      "while MISA was away",
			      note);
		usleep(20000);
	}
}

/* An edited note: one voucher, with the last version's quantities; the
 * two edits were taken as newer versions of a note not yet sent. */
static void assert_last_content(const char *note, cJSON *misa, cJSON *kho)
{
	char key[128];
	cJSON *v, *one = NULL, *n = NULL, *l, *doc = tort_doc(&t, W3, note);
	int k = 0, i = 0;

	snprintf(key, sizeof(key), W3 ":voucher:%s", note);
	cJSON_ArrayForEach (v, cJSON_GetObjectItem(misa, "vouchers"))
		if (!strcmp(tort_jstr(v, "org_refid"), key)) {
			one = v;
			k++;
		}
	cJSON_ArrayForEach (n, cJSON_GetObjectItem(kho, "IssueNotes"))
		if (!strcmp(tort_jstr(n, "issue_note_no"), note))
			break;
	ck_assert_msg(k == 1, "%s (edited): %d vouchers", note, k);
	ck_assert_msg(tort_history_count(doc, "updated") == 2,
		      "%s: %d edits taken as newer versions, %d as changed "
		      "after sync",
		      note, tort_history_count(doc, "updated"),
		      tort_history_count(doc, "changed-after-sync"));
	ck_assert_str_eq(tort_jstr(doc, "status"), "synced");
	v = cJSON_GetObjectItem(cJSON_GetObjectItem(one, "voucher"), "detail");
	ck_assert_int_eq(cJSON_GetArraySize(v),
			 cJSON_GetArraySize(cJSON_GetObjectItem(n, "lines")));
	cJSON_ArrayForEach (l, cJSON_GetObjectItem(n, "lines")) {
		const cJSON *got = cJSON_GetArrayItem(v, i++);
		double want = tort_jnum(l, "quantity") + 2 * EDIT_STEP;

		ck_assert_msg(tort_jnum(got, "quantity") == want,
			      "%s line %d reached MISA as %g, last edit %g",
			      note, i, tort_jnum(got, "quantity"), want);
	}
	cJSON_Delete(doc);
}

/* Notes (EDITED of them edited twice) while MISA is away; MISA back when
 * `back` says so; the backlog synced within 10 s of that. */
static void outage(const char *away, const char *clear)
{
	int docs = (int)tort_env("TORTURE_DOCS", 40), n = 0;
	long ms = tort_env("TORTURE_SECONDS", 6) * 1000;
	char **notes = calloc((size_t)docs, sizeof(*notes));
	char *edited[EDITED];
	long long t0, t_back;
	cJSON *misa, *kho;

	ck_assert_int_ge(docs, EDITED);
	tort_faults(&t, "misa", away);
	t0 = h_now_ms();
	while (!clear && h_now_ms() - t0 < 2000 && misa_answers())
		usleep(20000);
	for (n = 0; n < docs; n++) {
		notes[n] = tort_note(&t, false);
		usleep((useconds_t)(ms / 2 / docs) * 1000);
	}
	/* the edited ones come from the start, the middle and the end */
	for (int i = 0; i < EDITED; i++) {
		edited[i] = notes[i * (docs - 1) / (EDITED - 1)];
		wait_between_tries(edited[i]);
		edit_note(edited[i], 1);
		edit_note(edited[i], 2);
	}
	ck_assert_msg(h_now_ms() - t0 < ms, "the outage was over before the "
					    "notes and edits were in; raise "
					    "TORTURE_SECONDS");
	if (!clear) {
		while (!misa_answers() && h_now_ms() - t0 < ms + 10000)
			usleep(20000);
	} else {
		usleep((useconds_t)(ms - (h_now_ms() - t0)) * 1000);
		tort_faults(&t, "misa", clear);
	}
	t_back = h_now_ms();
	ck_assert_msg(tort_wait_all(&t, notes, n, "synced", 10000),
		      "the backlog was not synced within 10 s of MISA's "
		      "return");
	tort_say("torture_outage: %d notes synced %.1f s after MISA's return",
		 n, (h_now_ms() - t_back) / 1000.0);
	usleep(500000); /* the last marks in Kho */
	misa = tort_state(&t, "misa");
	kho = tort_state(&t, "kho");
	for (int i = 0; i < EDITED; i++) {
		assert_last_content(edited[i], misa, kho);
		/* the rest are compared with Kho's unedited notes */
		for (int k = 0; k < n; k++)
			if (notes[k] == edited[i]) {
				notes[k] = notes[--n];
				notes[n] = edited[i];
			}
	}
	tort_assert_one_voucher_each(&t, notes, n, EDITED);
	cJSON_Delete(misa);
	cJSON_Delete(kho);
	ck_assert_int_eq(h_stop(&t.d, SIGTERM), 0);
	for (int i = 0; i < docs; i++)
		free(notes[i]);
	free(notes);
}

START_TEST(outage_misa_down_backlog_synced_within_10s_in_key_order)
{
	char body[64];

	tort_seed(&t, "torture_outage (down)");
	snprintf(body, sizeof(body), "{\"down_for_ms\": %ld}",
		 tort_env("TORTURE_SECONDS", 6) * 1000);
	outage(body, NULL);
}
END_TEST

START_TEST(outage_misa_refusing_all_backlog_synced_within_10s_in_key_order)
{
	tort_seed(&t, "torture_outage (429)");
	outage("{\"burst_429\": 1000000, \"retry_after\": 2}", "{\"burst_429\":"
							       " 0}");
}
END_TEST

int main(void)
{
	const TTest *const tests[] = {
		outage_misa_down_backlog_synced_within_10s_in_key_order,
		outage_misa_refusing_all_backlog_synced_within_10s_in_key_order,
	};

	return tort_run("torture_outage", setup, teardown, tests, 2);
}

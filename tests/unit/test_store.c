/*
 * test_store.c - the SQLite store: the ledger's rules (pending, skipped,
 * duplicate, changed after sync), push and retry, restart, key/value,
 * cursors committed with their events, group commit under concurrent
 * writers, and a crashing writer killed at random moments.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store.h"
#include "util.h"

static char dir[64];
static char dbpath[128];
static struct store *st;

static struct store *open_store(bool sync_full)
{
	struct store_opts o = { .path = dbpath, .sync_full = sync_full };
	struct store *s = NULL;
	char err[256];

	ck_assert_msg(store_open(&o, &s, err, sizeof(err)) == 0, "%s", err);
	return s;
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/luong-ut-store-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(dbpath, sizeof(dbpath), "%s/luong.db", dir);
	st = open_store(false);
}

static void teardown(void)
{
	char cmd[128];

	store_close(st);
	st = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Ingests one event of doc for one flow; returns the flow's view. */
static struct ingest_flow ingest1(const char *flow, const char *doc,
				  const char *payload, bool selected,
				  bool automatic)
{
	struct ingest_flow f = { .flow_id = flow,
				 .selected = selected,
				 .automatic = automatic,
				 .skip_reason = "filter did not match" };
	struct ingest_event ev = { .connection = "probe",
				   .event = "thing.saved",
				   .doc_id = doc,
				   .payload = payload,
				   .flows = &f,
				   .n_flows = 1 };

	ck_assert_int_eq(store_ingest(st, &ev, 1, NULL), 0);
	return f;
}

static enum doc_status status_of(const char *flow, const char *doc)
{
	struct doc_row r;
	enum doc_status s;

	ck_assert_int_eq(store_get_doc(st, flow, doc, &r), 0);
	s = r.status;
	doc_row_free(&r);
	return s;
}

/* The outcome of the last history line of a document. Owned. */
static char *last_outcome(const char *flow, const char *doc)
{
	cJSON *h = store_history(st, flow, doc);
	int n = cJSON_GetArraySize(h);
	char *out;

	ck_assert_int_gt(n, 0);
	out = xstrdup(cJSON_GetObjectItem(cJSON_GetArrayItem(h, n - 1), "outcom"
									"e")
			      ->valuestring);
	cJSON_Delete(h);
	return out;
}

static void assert_last_outcome(const char *flow, const char *doc,
				const char *want)
{
	char *got = last_outcome(flow, doc);

	ck_assert_str_eq(got, want);
	free(got);
}

static void set_status(const char *flow, const char *doc, enum doc_status s,
		       uint32_t attempts, const char *reason)
{
	struct doc_update u = { .flow_id = flow,
				.doc_id = doc,
				.status = s,
				.attempts = attempts,
				.reason = reason,
				.target = s == DOC_SYNCED ? "{\"id\":\"T1\"}"
							  : NULL,
				.h_outcome = doc_status_name(s) };

	ck_assert_int_eq(store_update(st, &u), 0);
}

START_TEST(golive_try_reads_a_documents_last_event)
{
	struct stored_event ev;

	ingest1("f", "A", "{\"v\":1}", true, false);
	ingest1("f", "B", "{\"v\":9}", true, false);
	ingest1("f", "A", "{\"v\":2}", true, false);
	ck_assert_int_eq(store_last_event(st, "probe", "thing.saved", "A", &ev),
			 0);
	ck_assert_str_eq(ev.doc_id, "A");
	ck_assert_str_eq(ev.payload, "{\"v\":2}");
	ck_assert_int_gt(ev.seq, 0);
	free(ev.doc_id);
	free(ev.payload);
	/* another trigger, or a document never received: none */
	ck_assert_int_eq(store_last_event(st, "probe", "thing.gone", "A", &ev),
			 1);
	ck_assert_int_eq(store_last_event(st, "probe", "thing.saved", "C", &ev),
			 1);
}
END_TEST

START_TEST(ingest_makes_pending_and_skipped)
{
	struct ingest_flow f[2] = {
		{ .flow_id = "a", .selected = true, .automatic = true },
		{ .flow_id = "b",
		  .selected = false,
		  .automatic = true,
		  .skip_reason = "filter did not match" },
	};
	struct ingest_event ev = { .connection = "probe",
				   .event = "thing.saved",
				   .doc_id = "D1",
				   .payload = "{\"id\":\"D1\"}",
				   .flows = f,
				   .n_flows = 2 };
	struct doc_row r;

	ck_assert_int_eq(store_ingest(st, &ev, 1, NULL), 0);
	ck_assert(f[0].runnable);
	ck_assert(!f[1].runnable);
	ck_assert_int_eq(f[0].seq, f[1].seq);
	ck_assert_int_eq(store_get_doc(st, "a", "D1", &r), 0);
	ck_assert_int_eq(r.status, DOC_PENDING);
	ck_assert_str_eq(r.connection, "probe");
	ck_assert_str_eq(r.event, "thing.saved");
	ck_assert_str_eq(r.payload, "{\"id\":\"D1\"}");
	ck_assert_ptr_null(r.reason);
	ck_assert_int_eq(r.seq, f[0].seq);
	doc_row_free(&r);
	ck_assert_int_eq(store_get_doc(st, "b", "D1", &r), 0);
	ck_assert_int_eq(r.status, DOC_SKIPPED);
	ck_assert_str_eq(r.reason, "filter did not match");
	doc_row_free(&r);
	assert_last_outcome("a", "D1", "received");
	assert_last_outcome("b", "D1", "skipped");
	ck_assert_int_eq(store_get_doc(st, "a", "nope", &r), 1);
}
END_TEST

START_TEST(manual_is_pending_not_runnable)
{
	struct ingest_flow f = ingest1("m", "D1", "{}", true, false);
	struct doc_ref *refs;
	size_t n;

	ck_assert(!f.runnable);
	ck_assert_int_eq(status_of("m", "D1"), DOC_PENDING);
	ck_assert_int_eq(store_runnable(st, "m", false, &refs, &n), 0);
	ck_assert_uint_eq(n, 0);
	doc_refs_free(refs, n);
	/* switched to automatic, it is due */
	ck_assert_int_eq(store_runnable(st, "m", true, &refs, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(refs[0].doc_id, "D1");
	doc_refs_free(refs, n);
}
END_TEST

START_TEST(duplicate_same_payload)
{
	struct ingest_flow f;
	cJSON *h;

	ck_assert(ingest1("a", "D1", "{\"n\":1}", true, true).runnable);
	f = ingest1("a", "D1", "{\"n\":1}", true, true);
	ck_assert(!f.runnable);
	ck_assert_int_eq(status_of("a", "D1"), DOC_PENDING);
	assert_last_outcome("a", "D1", "duplicate");
	/* also once synced: never run again */
	set_status("a", "D1", DOC_SYNCED, 1, NULL);
	f = ingest1("a", "D1", "{\"n\":1}", true, true);
	ck_assert(!f.runnable);
	ck_assert_int_eq(status_of("a", "D1"), DOC_SYNCED);
	assert_last_outcome("a", "D1", "duplicate");
	h = store_history(st, "a", "D1");
	ck_assert_int_eq(cJSON_GetArraySize(h), 4);
	cJSON_Delete(h);
}
END_TEST

START_TEST(changed_after_sync_is_flagged)
{
	struct ingest_flow f;
	struct doc_row r;

	ingest1("a", "D1", "{\"n\":1}", true, true);
	set_status("a", "D1", DOC_SYNCED, 1, NULL);
	f = ingest1("a", "D1", "{\"n\":2}", true, true);
	ck_assert(!f.runnable);
	ck_assert_int_eq(store_get_doc(st, "a", "D1", &r), 0);
	ck_assert_int_eq(r.status, DOC_SYNCED);
	ck_assert(r.changed_after_sync);
	ck_assert_str_eq(r.target, "{\"id\":\"T1\"}");
	doc_row_free(&r);
	assert_last_outcome("a", "D1", "changed-after-sync");
}
END_TEST

START_TEST(newer_version_before_send_replaces_payload)
{
	struct ingest_flow f;
	struct doc_row r;

	ingest1("a", "D1", "{\"n\":1}", true, true);
	f = ingest1("a", "D1", "{\"n\":2}", true, true);
	ck_assert(!f.runnable); /* already queued */
	ck_assert_int_eq(store_get_doc(st, "a", "D1", &r), 0);
	ck_assert_int_eq(r.status, DOC_PENDING);
	ck_assert_str_eq(r.payload, "{\"n\":2}");
	ck_assert(!r.changed_after_sync);
	doc_row_free(&r);
	assert_last_outcome("a", "D1", "updated");
}
END_TEST

/* One event of doc for one flow with on_change and polled chosen. */
static struct ingest_event ingest_as(struct ingest_flow *f, const char *doc,
				     const char *payload, bool polled)
{
	struct ingest_event ev = { .connection = "probe",
				   .event = "thing.saved",
				   .doc_id = doc,
				   .payload = payload,
				   .flows = f,
				   .n_flows = 1,
				   .polled = polled };

	ck_assert_int_eq(store_ingest(st, &ev, 1, NULL), 0);
	return ev;
}

static int count_rows(const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *q;
	int n = -1;

	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
	if (sqlite3_step(q) == SQLITE_ROW)
		n = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return n;
}

START_TEST(onchange_resend_makes_the_edit_the_next_version)
{
	struct ingest_flow f = { .flow_id = "cat",
				 .selected = true,
				 .automatic = true,
				 .resend = true };
	struct doc_update u = { .flow_id = "cat",
				.doc_id = "P1",
				.status = DOC_SYNCED,
				.attempts = 1,
				.outputs = "{\"put\":{\"id\":\"T1\"}}",
				.target = "{\"id\":\"T1\"}",
				.h_outcome = "synced" };
	struct doc_row r;

	ingest_as(&f, "P1", "{\"price\":1}", false);
	ck_assert(f.runnable && !f.resent);
	ck_assert_int_eq(store_update(st, &u), 0);
	ingest_as(&f, "P1", "{\"price\":2}", false);
	ck_assert(f.runnable);
	ck_assert(f.resent);
	ck_assert_int_eq(store_get_doc(st, "cat", "P1", &r), 0);
	ck_assert_int_eq(r.status, DOC_PENDING);
	ck_assert_uint_eq(r.version, 2);
	ck_assert_uint_eq(r.step, 0);
	ck_assert_uint_eq(r.attempts, 0);
	ck_assert_str_eq(r.payload, "{\"price\":2}");
	ck_assert_str_eq(r.prev_outputs, "{\"put\":{\"id\":\"T1\"}}");
	ck_assert_ptr_null(r.outputs);
	ck_assert(!r.changed_after_sync);
	ck_assert_int_eq(r.seq, f.seq);
	doc_row_free(&r);
	assert_last_outcome("cat", "P1", "changed-resend");
	/* the same edit again is a duplicate, not a third version */
	ingest_as(&f, "P1", "{\"price\":2}", false);
	ck_assert(!f.runnable);
	ck_assert_int_eq(store_get_doc(st, "cat", "P1", &r), 0);
	ck_assert_uint_eq(r.version, 2);
	doc_row_free(&r);
}
END_TEST

START_TEST(onchange_flag_keeps_the_synced_version)
{
	struct ingest_flow f = { .flow_id = "v",
				 .selected = true,
				 .automatic = true };
	struct doc_row r;

	ingest_as(&f, "D1", "{\"n\":1}", false);
	set_status("v", "D1", DOC_SYNCED, 1, NULL);
	ingest_as(&f, "D1", "{\"n\":2}", false);
	ck_assert(!f.runnable && !f.resent);
	ck_assert_int_eq(store_get_doc(st, "v", "D1", &r), 0);
	ck_assert_int_eq(r.status, DOC_SYNCED);
	ck_assert_uint_eq(r.version, 1);
	ck_assert_str_eq(r.payload, "{\"n\":1}");
	ck_assert(r.changed_after_sync);
	doc_row_free(&r);
	/* polled again with that edit: nothing more to write */
	ck_assert(ingest_as(&f, "D1", "{\"n\":2}", true).unchanged);
}
END_TEST

START_TEST(polled_unchanged_records_write_nothing)
{
	struct ingest_flow f = { .flow_id = "stock",
				 .selected = true,
				 .automatic = true };
	char doc[16], body[32];
	int events, history;

	for (int i = 0; i < 50; i++) {
		snprintf(doc, sizeof(doc), "I%d", i);
		snprintf(body, sizeof(body), "{\"qty\":%d}", i);
		ck_assert(!ingest_as(&f, doc, body, true).unchanged);
	}
	events = count_rows("SELECT count(*) FROM events");
	history = count_rows("SELECT count(*) FROM history");
	for (int i = 0; i < 50; i++) {
		struct ingest_event ev;

		snprintf(doc, sizeof(doc), "I%d", i);
		snprintf(body, sizeof(body), "{\"qty\":%d}", i + (i == 7));
		ev = ingest_as(&f, doc, body, true);
		ck_assert_int_eq(ev.unchanged, i != 7);
	}
	/* the one change is stored; the 49 others left no trace */
	ck_assert_int_eq(count_rows("SELECT count(*) FROM events"), events + 1);
	ck_assert_int_eq(count_rows("SELECT count(*) FROM history"),
			 history + 1);
	/* a webhook repeating a document is still told as a duplicate */
	ck_assert(!ingest_as(&f, "I3", "{\"qty\":3}", false).unchanged);
	assert_last_outcome("stock", "I3", "duplicate");
}
END_TEST

/* The writer remembers content hashes of polled records (seen.c); what
 * a rolled-back batch wrote must not be remembered as held. */
START_TEST(polled_edit_of_a_failed_batch_is_not_taken_as_held)
{
	struct ingest_flow f = { .flow_id = "stock",
				 .selected = true,
				 .automatic = true };
	struct ingest_flow g = f;
	struct ingest_event ev[2] = {
		{ .connection = "probe",
		  .event = "thing.saved",
		  .doc_id = "I1",
		  .payload = "{\"qty\":2}",
		  .flows = &f,
		  .n_flows = 1,
		  .polled = true },
		{ .connection = "probe",
		  .event = "thing.saved",
		  .doc_id = "I2",
		  .payload = NULL, /* refused: the batch fails */
		  .flows = &g,
		  .n_flows = 1,
		  .polled = true },
	};
	struct doc_row r;

	ck_assert(!ingest_as(&f, "I1", "{\"qty\":1}", true).unchanged);
	ck_assert(ingest_as(&f, "I1", "{\"qty\":1}", true).unchanged);
	ck_assert_int_eq(store_ingest(st, ev, 2, NULL), -1);
	ck_assert_int_eq(store_get_doc(st, "stock", "I1", &r), 0);
	ck_assert_str_eq(r.payload, "{\"qty\":1}");
	doc_row_free(&r);
	/* the edit is news still: stored now */
	ck_assert(!ingest_as(&f, "I1", "{\"qty\":2}", true).unchanged);
	ck_assert_int_eq(store_get_doc(st, "stock", "I1", &r), 0);
	ck_assert_str_eq(r.payload, "{\"qty\":2}");
	doc_row_free(&r);
	ck_assert(ingest_as(&f, "I1", "{\"qty\":2}", true).unchanged);
}
END_TEST

/* A replay that puts an older content back: the next poll of the newer
 * content is a change again, not taken from memory as held. */
START_TEST(polled_after_a_replay_compares_with_the_ledger)
{
	struct ingest_flow f = { .flow_id = "cat",
				 .selected = true,
				 .automatic = true,
				 .resend = true };
	struct ingest_event old = { .connection = "probe",
				    .event = "thing.saved",
				    .doc_id = "P1",
				    .payload = "{\"v\":0}",
				    .flows = &f,
				    .n_flows = 1,
				    .replay_seq = 1000000 };
	struct doc_row r;

	ck_assert(!ingest_as(&f, "P1", "{\"v\":1}", true).unchanged);
	set_status("cat", "P1", DOC_SYNCED, 1, NULL);
	ck_assert(ingest_as(&f, "P1", "{\"v\":1}", true).unchanged);
	ck_assert_int_eq(store_ingest(st, &old, 1, NULL), 0);
	ck_assert_int_eq(store_get_doc(st, "cat", "P1", &r), 0);
	ck_assert_str_eq(r.payload, "{\"v\":0}");
	doc_row_free(&r);
	set_status("cat", "P1", DOC_SYNCED, 1, NULL);
	ck_assert(!ingest_as(&f, "P1", "{\"v\":1}", true).unchanged);
	ck_assert(f.resent);
	/* a replay the ledger ignores (P1 is being sent) leaves v:1 held:
	 * a poll of v:0 is a change */
	ck_assert_int_eq(store_ingest(st, &old, 1, NULL), 0);
	ck_assert_int_eq(store_get_doc(st, "cat", "P1", &r), 0);
	ck_assert_str_eq(r.payload, "{\"v\":1}");
	doc_row_free(&r);
	ck_assert(!ingest_as(&f, "P1", "{\"v\":0}", true).unchanged);
}
END_TEST

START_TEST(replayed_old_event_is_not_resent)
{
	struct ingest_flow f = { .flow_id = "cat",
				 .selected = true,
				 .automatic = true,
				 .resend = true };
	struct ingest_event ev = { .connection = "probe",
				   .event = "thing.saved",
				   .doc_id = "P1",
				   .payload = "{\"v\":0}",
				   .flows = &f,
				   .n_flows = 1,
				   .replay_seq = 1 };
	struct doc_row r;

	ingest_as(&f, "P1", "{\"v\":1}", false);
	set_status("cat", "P1", DOC_SYNCED, 1, NULL);
	ck_assert_int_eq(store_ingest(st, &ev, 1, NULL), 0);
	ck_assert(!f.runnable);
	ck_assert_int_eq(store_get_doc(st, "cat", "P1", &r), 0);
	ck_assert_uint_eq(r.version, 1);
	ck_assert_str_eq(r.payload, "{\"v\":1}");
	doc_row_free(&r);
}
END_TEST

START_TEST(skipped_then_selected_becomes_pending)
{
	struct ingest_flow f;
	struct doc_row r;

	ingest1("a", "D1", "{\"type\":\"x\"}", false, true);
	ck_assert_int_eq(status_of("a", "D1"), DOC_SKIPPED);
	f = ingest1("a", "D1", "{\"type\":\"sale\"}", true, true);
	ck_assert(f.runnable);
	ck_assert_int_eq(store_get_doc(st, "a", "D1", &r), 0);
	ck_assert_int_eq(r.status, DOC_PENDING);
	/* the skip reason no longer applies */
	ck_assert_ptr_null(r.reason);
	doc_row_free(&r);
	/* and back: pending, no longer selected, is skipped with why */
	ingest1("a", "D1", "{\"type\":\"y\"}", false, true);
	ck_assert_int_eq(store_get_doc(st, "a", "D1", &r), 0);
	ck_assert_int_eq(r.status, DOC_SKIPPED);
	ck_assert_str_eq(r.reason, "filter did not match");
	doc_row_free(&r);
}
END_TEST

static int missing_count(cJSON *missing, const char *id)
{
	const cJSON *it;
	int n = 0;

	cJSON_ArrayForEach (it, missing)
		n += !strcmp(it->valuestring, id);
	return n;
}

START_TEST(push_moves_pending_and_reports_unknown)
{
	const char *ids[] = { "D2", "nope" };
	struct doc_ref *refs;
	cJSON *missing = NULL;
	struct doc_row r;
	size_t n;

	ingest1("m", "D1", "{\"n\":1}", true, false);
	ingest1("m", "D2", "{\"n\":2}", true, false);
	ingest1("m", "D3", "{\"n\":3}", true, false);
	ck_assert_int_eq(store_push(st, "m", ids, 2, &refs, &n, &missing), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(refs[0].flow_id, "m");
	ck_assert_str_eq(refs[0].doc_id, "D2");
	ck_assert_int_eq(cJSON_GetArraySize(missing), 1);
	ck_assert_int_eq(missing_count(missing, "nope"), 1);
	doc_refs_free(refs, n);
	cJSON_Delete(missing);
	ck_assert_int_eq(store_get_doc(st, "m", "D2", &r), 0);
	ck_assert(r.pushed);
	ck_assert_int_eq(r.status, DOC_PENDING);
	doc_row_free(&r);
	assert_last_outcome("m", "D2", "pushed");
	/* pushed documents run after a restart even in manual mode */
	ck_assert_int_eq(store_runnable(st, "m", false, &refs, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(refs[0].doc_id, "D2");
	doc_refs_free(refs, n);
	/* all: in arrival order */
	ck_assert_int_eq(store_push(st, "m", NULL, 0, &refs, &n, NULL), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(refs[0].doc_id, "D1");
	ck_assert_str_eq(refs[1].doc_id, "D2");
	ck_assert_str_eq(refs[2].doc_id, "D3");
	ck_assert(refs[0].seq < refs[1].seq && refs[1].seq < refs[2].seq);
	doc_refs_free(refs, n);
}
END_TEST

START_TEST(push_names_a_document_once)
{
	const char *ids[] = { "D1", "D1", "nope", "nope" };
	struct doc_ref *refs;
	cJSON *missing = NULL, *h;
	size_t n;

	ingest1("m", "D1", "{}", true, false);
	ck_assert_int_eq(store_push(st, "m", ids, 4, &refs, &n, &missing), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(cJSON_GetArraySize(missing), 1);
	doc_refs_free(refs, n);
	cJSON_Delete(missing);
	h = store_history(st, "m", "D1");
	ck_assert_int_eq(cJSON_GetArraySize(h), 2); /* received, pushed */
	cJSON_Delete(h);
}
END_TEST

START_TEST(retry_moves_failed_and_reports_unknown)
{
	const char *ids[] = { "D1", "D2", "nope" };
	struct doc_ref *refs;
	cJSON *missing = NULL;
	struct doc_row r;
	size_t n;

	ingest1("a", "D1", "{\"n\":1}", true, true);
	ingest1("a", "D2", "{\"n\":2}", true, true);
	set_status("a", "D1", DOC_FAILED, 5, "target refused");
	ck_assert_int_eq(
		store_retry(st, "a", ids, 3, true, &refs, &n, &missing), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(refs[0].doc_id, "D1");
	/* D2 is not failed: nothing to retry */
	ck_assert_int_eq(cJSON_GetArraySize(missing), 2);
	ck_assert_int_eq(missing_count(missing, "D2"), 1);
	ck_assert_int_eq(missing_count(missing, "nope"), 1);
	doc_refs_free(refs, n);
	cJSON_Delete(missing);
	ck_assert_int_eq(store_get_doc(st, "a", "D1", &r), 0);
	ck_assert_int_eq(r.status, DOC_PENDING);
	ck_assert_uint_eq(r.attempts, 0);
	ck_assert(r.pushed);
	ck_assert(r.ignore_warnings);
	doc_row_free(&r);
	assert_last_outcome("a", "D1", "retry-requested");
	/* nothing failed any more */
	ck_assert_int_eq(store_retry(st, "a", NULL, 0, false, &refs, &n, NULL),
			 0);
	ck_assert_uint_eq(n, 0);
	doc_refs_free(refs, n);
}
END_TEST

/* B5: a voucher made but not posted is its own status, listed and
 * counted apart from failed, and a retry (--ignore-warnings) takes it. */
START_TEST(post_failed_is_its_own_status_and_retried)
{
	struct doc_ref *refs;
	struct doc_row r;
	enum doc_status ds;
	cJSON *counts;
	size_t n;

	ck_assert_int_eq(doc_status_parse("post_failed", &ds), 0);
	ck_assert_int_eq(ds, DOC_POST_FAILED);
	ck_assert_str_eq(doc_status_name(DOC_POST_FAILED), "post_failed");
	ingest1("a", "D1", "{\"n\":1}", true, true);
	ingest1("a", "D2", "{\"n\":2}", true, true);
	set_status("a", "D1", DOC_POST_FAILED, 1, "not posted: stock");
	set_status("a", "D2", DOC_FAILED, 1, "refused");
	counts = store_counts(st);
	ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(counts, "a"),
					     "post_failed")
				 ->valueint,
			 1);
	ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(counts, "a"),
					     "failed")
				 ->valueint,
			 1);
	cJSON_Delete(counts);
	ck_assert_int_eq(store_retry(st, "a", NULL, 0, true, &refs, &n, NULL),
			 0);
	ck_assert_uint_eq(n, 2);
	doc_refs_free(refs, n);
	ck_assert_int_eq(store_get_doc(st, "a", "D1", &r), 0);
	ck_assert_int_eq(r.status, DOC_PENDING);
	ck_assert(r.ignore_warnings);
	doc_row_free(&r);
}
END_TEST

START_TEST(runnable_after_restart)
{
	struct doc_ref *refs;
	size_t n;

	ingest1("a", "D1", "{\"n\":1}", true, true);
	ingest1("a", "D2", "{\"n\":2}", true, true);
	ingest1("a", "D3", "{\"n\":3}", true, true);
	ingest1("a", "D4", "{\"n\":4}", true, true);
	ingest1("a", "D5", "{}", false, true);
	set_status("a", "D1", DOC_SYNCED, 1, NULL);
	set_status("a", "D2", DOC_SYNCING, 1, NULL); /* interrupted */
	set_status("a", "D4", DOC_FAILED, 1, "no");
	store_close(st);
	st = open_store(false);
	ck_assert_int_eq(store_runnable(st, "a", true, &refs, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(refs[0].doc_id, "D2");
	ck_assert_str_eq(refs[1].doc_id, "D3");
	doc_refs_free(refs, n);
	/* manual mode: only the interrupted one resumes */
	ck_assert_int_eq(store_runnable(st, "a", false, &refs, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(refs[0].doc_id, "D2");
	doc_refs_free(refs, n);
}
END_TEST

START_TEST(kv_get_put_del)
{
	char *v = NULL;

	ck_assert_int_eq(store_kv_get(st, "c1", "token", &v), 1);
	ck_assert_int_eq(store_kv_put(st, "c1", "token", "abc"), 0);
	ck_assert_int_eq(store_kv_get(st, "c1", "token", &v), 0);
	ck_assert_str_eq(v, "abc");
	free(v);
	ck_assert_int_eq(store_kv_put(st, "c1", "token", "def"), 0);
	ck_assert_int_eq(store_kv_get(st, "c1", "token", &v), 0);
	ck_assert_str_eq(v, "def");
	free(v);
	/* per connection */
	ck_assert_int_eq(store_kv_get(st, "c2", "token", &v), 1);
	ck_assert_int_eq(store_kv_del(st, "c1", "token"), 0);
	ck_assert_int_eq(store_kv_get(st, "c1", "token", &v), 1);
	/* deleting nothing is fine */
	ck_assert_int_eq(store_kv_del(st, "c1", "token"), 0);
	/* durable */
	ck_assert_int_eq(store_kv_put(st, "c1", "k", "kept"), 0);
	store_close(st);
	st = open_store(false);
	ck_assert_int_eq(store_kv_get(st, "c1", "k", &v), 0);
	ck_assert_str_eq(v, "kept");
	free(v);
}
END_TEST

START_TEST(modes_are_kept)
{
	char *m = NULL;

	ck_assert_int_eq(store_get_mode(st, "a", &m), 1);
	ck_assert_int_eq(store_set_mode(st, "a", "manual"), 0);
	ck_assert_int_eq(store_set_mode(st, "a", "disabled"), 0);
	store_close(st);
	st = open_store(false);
	ck_assert_int_eq(store_get_mode(st, "a", &m), 0);
	ck_assert_str_eq(m, "disabled");
	free(m);
}
END_TEST

START_TEST(cursor_commits_with_its_events)
{
	struct ingest_flow f = { .flow_id = "p",
				 .selected = true,
				 .automatic = true };
	struct ingest_event ev[2] = {
		{ .connection = "probe",
		  .event = "thing.polled",
		  .doc_id = "D1",
		  .payload = "{}",
		  .flows = &f,
		  .n_flows = 1 },
		{ .connection = "probe",
		  .event = "thing.polled",
		  .doc_id = "D2",
		  .payload = "{}",
		  .flows = &f,
		  .n_flows = 1 },
	};
	struct ingest_cursor cur = { "probe", "thing.polled", "c1" };
	struct doc_row r;
	char *c = NULL;

	ck_assert_int_eq(store_cursor_get(st, "probe", "thing.polled", &c), 1);
	ck_assert_int_eq(store_ingest(st, ev, 1, &cur), 0);
	ck_assert_int_eq(store_cursor_get(st, "probe", "thing.polled", &c), 0);
	ck_assert_str_eq(c, "c1");
	free(c);
	/* one event of the poll cannot be stored: neither its sibling nor
	 * the cursor may be, or a crash would skip D2 for good */
	ev[0].doc_id = "D2";
	ev[1].doc_id = "D3";
	ev[1].payload = NULL;
	cur.cursor = "c2";
	ck_assert_int_eq(store_ingest(st, ev, 2, &cur), -1);
	ck_assert_int_eq(store_cursor_get(st, "probe", "thing.polled", &c), 0);
	ck_assert_str_eq(c, "c1");
	free(c);
	ck_assert_int_eq(store_get_doc(st, "p", "D2", &r), 1);
	/* the store still works after the failed operation */
	ev[1].payload = "{}";
	ck_assert_int_eq(store_ingest(st, ev, 2, &cur), 0);
	ck_assert_int_eq(store_cursor_get(st, "probe", "thing.polled", &c), 0);
	ck_assert_str_eq(c, "c2");
	free(c);
	ck_assert_int_eq(status_of("p", "D3"), DOC_PENDING);
}
END_TEST

static void count_done(void *ud, int rc)
{
	int *n = ud;

	if (rc == 0)
		__atomic_add_fetch(n, 1, __ATOMIC_SEQ_CST);
}

START_TEST(async_updates_then_flush)
{
	struct doc_update u = { .flow_id = "a",
				.doc_id = "D1",
				.status = DOC_SYNCED,
				.attempts = 1,
				.outputs = "{\"send\":{}}",
				.target = "{\"id\":\"T9\"}",
				.h_step = "send",
				.h_outcome = "synced" };
	struct doc_row r;
	cJSON *counts, *list;
	int done = 0;

	ingest1("a", "D1", "{}", true, true);
	ingest1("a", "D2", "{}", true, true);
	store_update_async(st, &u, count_done, &done);
	ck_assert_int_eq(store_flush(st), 0);
	ck_assert_int_eq(__atomic_load_n(&done, __ATOMIC_SEQ_CST), 1);
	ck_assert_int_eq(store_get_doc(st, "a", "D1", &r), 0);
	ck_assert_int_eq(r.status, DOC_SYNCED);
	ck_assert_str_eq(r.target, "{\"id\":\"T9\"}");
	ck_assert_str_eq(r.outputs, "{\"send\":{}}");
	doc_row_free(&r);
	counts = store_counts(st);
	ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(counts, "a"),
					     "synced")
				 ->valueint,
			 1);
	ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(counts, "a"),
					     "pending")
				 ->valueint,
			 1);
	cJSON_Delete(counts);
	list = store_list_docs(st, "a", "synced", 0, 10);
	ck_assert_int_eq(cJSON_GetArraySize(list), 1);
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(list, 0), "docu"
									  "men"
									  "t")
				 ->valuestring,
			 "D1");
	cJSON_Delete(list);
	ck_assert_ptr_null(store_list_docs(st, "a", "bogus", 0, 10));
}
END_TEST

/* ---- group commit under concurrent writers ------------------------------ */

#define WRITERS 8
#define PER_WRITER 250 /* 2000 in all */

struct writer {
	int id;
	int failures;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;

	for (int i = 0; i < PER_WRITER; i++) {
		char doc[32], payload[64];
		struct ingest_flow f = { .flow_id = "a",
					 .selected = true,
					 .automatic = true };
		struct ingest_event ev = { .connection = "probe",
					   .event = "thing.saved",
					   .doc_id = doc,
					   .payload = payload,
					   .flows = &f,
					   .n_flows = 1 };

		snprintf(doc, sizeof(doc), "W%d-%d", w->id, i);
		snprintf(payload, sizeof(payload), "{\"w\":%d,\"i\":%d}", w->id,
			 i);
		if (store_ingest(st, &ev, 1, NULL) || !f.runnable)
			w->failures++;
	}
	return NULL;
}

static long long query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *q;
	long long v = -1;

	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
	if (sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return v;
}

START_TEST(group_commit_many_writers)
{
	pthread_t th[WRITERS];
	struct writer w[WRITERS];
	sqlite3 *db;

	store_close(st);
	st = open_store(true); /* the real thing: fsync per commit */
	for (int i = 0; i < WRITERS; i++) {
		w[i] = (struct writer){ .id = i };
		ck_assert_int_eq(
			pthread_create(&th[i], NULL, writer_main, &w[i]), 0);
	}
	for (int i = 0; i < WRITERS; i++) {
		pthread_join(th[i], NULL);
		ck_assert_int_eq(w[i].failures, 0);
	}
	/* every acknowledged ingest is visible to a reader at once */
	for (int i = 0; i < WRITERS; i++)
		for (int j = 0; j < PER_WRITER; j += 7) {
			char doc[32];

			snprintf(doc, sizeof(doc), "W%d-%d", i, j);
			ck_assert_int_eq(status_of("a", doc), DOC_PENDING);
		}
	store_close(st);
	st = NULL;
	ck_assert_int_eq(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY,
					 NULL),
			 SQLITE_OK);
	ck_assert_int_eq(query_int(db, "SELECT count(*) FROM events"), 2000);
	ck_assert_int_eq(query_int(db, "SELECT count(DISTINCT doc_id) "
				       "FROM events"),
			 2000);
	ck_assert_int_eq(query_int(db, "SELECT count(*) FROM docs"), 2000);
	ck_assert_int_eq(query_int(db, "SELECT count(*) FROM history"), 2000);
	ck_assert_int_eq(query_int(db, "SELECT count(DISTINCT seq) FROM docs"),
			 2000);
	sqlite3_close(db);
	st = open_store(false);
}
END_TEST

/* ---- a writer killed at random moments ----------------------------------- */

/* The child: ingest forever, reporting each id once it is committed. */
static void crash_child(int fd, int round)
{
	struct store_opts o = { .path = dbpath, .sync_full = true };
	struct store *s;
	char err[256];

	if (store_open(&o, &s, err, sizeof(err)))
		_exit(3);
	for (int i = 0;; i++) {
		char doc[32], payload[64];
		struct ingest_flow f = { .flow_id = "c",
					 .selected = true,
					 .automatic = true };
		struct ingest_event ev = { .connection = "probe",
					   .event = "thing.saved",
					   .doc_id = doc,
					   .payload = payload,
					   .flows = &f,
					   .n_flows = 1 };
		struct ingest_cursor cur = { "probe", "thing.saved", doc };
		int id = round * 1000000 + i;

		snprintf(doc, sizeof(doc), "%d", id);
		snprintf(payload, sizeof(payload), "{\"id\":%d}", id);
		if (store_ingest(s, &ev, 1, &cur))
			_exit(4);
		if (write(fd, &id, sizeof(id)) != sizeof(id))
			_exit(5);
	}
}

START_TEST(killed_writer_loses_nothing_committed)
{
	unsigned seed = 20261122;

	store_close(st);
	st = NULL;
	for (int round = 0; round < 4; round++) {
		int fds[2], id, *ids = NULL, status;
		size_t n = 0, cap = 0;
		long long t0 = util_mono_ms();
		int delay_ms = 60 + (int)(rand_r(&seed) % 240);
		struct pollfd pfd;
		sqlite3 *db;
		pid_t pid;

		ck_assert_int_eq(pipe(fds), 0);
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			close(fds[0]);
			crash_child(fds[1], round);
		}
		close(fds[1]);
		pfd = (struct pollfd){ .fd = fds[0], .events = POLLIN };
		/* read while it runs, then kill it mid-stride: the delay
		 * counts from its first commit, however slow the start */
		while ((n == 0 && util_mono_ms() - t0 < 20000) ||
		       (n > 0 && util_mono_ms() - t0 < delay_ms)) {
			if (poll(&pfd, 1, 5) > 0 &&
			    read(fds[0], &id, sizeof(id)) == sizeof(id)) {
				if (n == cap)
					ids = xrealloc(ids,
						       (cap = cap ? cap * 2
								  : 256) *
							       sizeof(*ids));
				if (n == 0)
					t0 = util_mono_ms();
				ids[n++] = id;
			}
		}
		kill(pid, SIGKILL);
		while (read(fds[0], &id, sizeof(id)) == sizeof(id)) {
			if (n == cap)
				ids = xrealloc(ids,
					       (cap = cap ? cap * 2 : 256) *
						       sizeof(*ids));
			ids[n++] = id;
		}
		close(fds[0]);
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert_msg(WIFSIGNALED(status) &&
				      WTERMSIG(status) == SIGKILL,
			      "child ended on its own (status %d)", status);
		ck_assert_msg(n > 0, "round %d: nothing committed", round);

		ck_assert_int_eq(sqlite3_open_v2(dbpath, &db,
						 SQLITE_OPEN_READWRITE, NULL),
				 SQLITE_OK);
		{
			sqlite3_stmt *q;

			ck_assert_int_eq(sqlite3_prepare_v2(db,
							    "PRAGMA "
							    "integrity_check",
							    -1, &q, NULL),
					 SQLITE_OK);
			ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
			ck_assert_str_eq(
				(const char *)sqlite3_column_text(q, 0), "ok");
			sqlite3_finalize(q);
		}
		sqlite3_close(db);
		st = open_store(false);
		for (size_t i = 0; i < n; i++) {
			char doc[32];
			struct doc_row r;

			snprintf(doc, sizeof(doc), "%d", ids[i]);
			ck_assert_msg(store_get_doc(st, "c", doc, &r) == 0,
				      "round %d: committed %s is lost", round,
				      doc);
			doc_row_free(&r);
		}
		/* the cursor went with the last event, never beyond it */
		{
			char *c = NULL;
			int last;

			ck_assert_int_eq(store_cursor_get(st, "probe",
							  "thing.saved", &c),
					 0);
			last = atoi(c);
			free(c);
			ck_assert_int_ge(last, ids[n - 1]);
			ck_assert_int_le(last, ids[n - 1] + 1);
		}
		store_close(st);
		st = NULL;
		free(ids);
	}
	st = open_store(false);
}
END_TEST

static Suite *store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("ledger");
	TCase *tl = tcase_create("load");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, ingest_makes_pending_and_skipped);
	tcase_add_test(tc, golive_try_reads_a_documents_last_event);
	tcase_add_test(tc, post_failed_is_its_own_status_and_retried);
	tcase_add_test(tc, manual_is_pending_not_runnable);
	tcase_add_test(tc, duplicate_same_payload);
	tcase_add_test(tc, changed_after_sync_is_flagged);
	tcase_add_test(tc, newer_version_before_send_replaces_payload);
	tcase_add_test(tc, skipped_then_selected_becomes_pending);
	tcase_add_test(tc, onchange_resend_makes_the_edit_the_next_version);
	tcase_add_test(tc, onchange_flag_keeps_the_synced_version);
	tcase_add_test(tc, polled_unchanged_records_write_nothing);
	tcase_add_test(tc, replayed_old_event_is_not_resent);
	tcase_add_test(tc, polled_edit_of_a_failed_batch_is_not_taken_as_held);
	tcase_add_test(tc, polled_after_a_replay_compares_with_the_ledger);
	tcase_add_test(tc, push_moves_pending_and_reports_unknown);
	tcase_add_test(tc, push_names_a_document_once);
	tcase_add_test(tc, retry_moves_failed_and_reports_unknown);
	tcase_add_test(tc, runnable_after_restart);
	tcase_add_test(tc, kv_get_put_del);
	tcase_add_test(tc, modes_are_kept);
	tcase_add_test(tc, cursor_commits_with_its_events);
	tcase_add_test(tc, async_updates_then_flush);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(tl, setup, teardown);
	tcase_set_timeout(tl, 60);
	tcase_add_test(tl, group_commit_many_writers);
	tcase_add_test(tl, killed_writer_loses_nothing_committed);
	suite_add_tcase(s, tl);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(store_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/*
 * test_store_console.c - what the console reads from the store: ledger
 * pages newest first that go on where the last ended (by status, day and
 * document number), failed documents grouped by reason, the audit log
 * newest first, and synced and failed counted by the hour.
 */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_console.h"
#include "util.h"

static char dir[64];
static struct store *st;

static void setup(void)
{
	struct store_opts o = { 0 };
	char path[128], err[256];

	snprintf(dir, sizeof(dir), "/tmp/luong-ut-stcon-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/luong.db", dir);
	o.path = path;
	ck_assert_msg(store_open(&o, &st, err, sizeof(err)) == 0, "%s", err);
}

static void teardown(void)
{
	char cmd[128];

	store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static void ingest(const char *flow, const char *doc)
{
	struct ingest_flow f = { .flow_id = flow, .selected = true };
	struct ingest_event ev = { .connection = "kho",
				   .event = "issue_note.saved",
				   .doc_id = doc,
				   .payload = "{\"total_amount\": 384000}",
				   .flows = &f,
				   .n_flows = 1 };

	ck_assert_int_eq(store_ingest(st, &ev, 1, NULL), 0);
}

static void set_status(const char *flow, const char *doc, enum doc_status s,
		       const char *reason)
{
	struct doc_update u = { .flow_id = flow,
				.doc_id = doc,
				.status = s,
				.reason = reason,
				.h_outcome = "test" };

	ck_assert_int_eq(store_update(st, &u), 0);
}

/* XK00001 .. XK000nn in W3; every third failed, with one of two reasons */
static void fill(int n)
{
	char id[16];

	for (int i = 1; i <= n; i++) {
		snprintf(id, sizeof(id), "XK%05d", i);
		ingest("w3", id);
		if (i % 3 == 0)
			set_status("w3", id, DOC_FAILED,
				   i % 2 ? "mapping warehouses has no entry "
					   "for HCM"
					 : "MISA: Số chứng từ đã tồn tại");
	}
	ingest("w1", "DH00001");
}

static const char *doc_at(cJSON *page, int i)
{
	cJSON *d =
		cJSON_GetArrayItem(cJSON_GetObjectItem(page, "documents"), i);

	return d ? cJSON_GetObjectItem(d, "document")->valuestring : NULL;
}

static int count(cJSON *page)
{
	return cJSON_GetArraySize(cJSON_GetObjectItem(page, "documents"));
}

START_TEST(pages_go_on_where_the_last_ended_newest_first)
{
	struct page_query q = { .flow = "w3", .limit = 4 };
	cJSON *p, *next;
	int seen = 0;
	char last[16] = "XK99999";

	fill(10);
	for (int n = 0; n < 5; n++) {
		p = store_docs_page(st, &q);
		ck_assert_ptr_nonnull(p);
		for (int i = 0; i < count(p); i++) {
			ck_assert_str_lt(doc_at(p, i), last); /* newest first */
			util_strlcpy(last, doc_at(p, i), sizeof(last));
			seen++;
		}
		next = cJSON_GetObjectItem(p, "next");
		if (cJSON_IsNull(next)) {
			cJSON_Delete(p);
			break;
		}
		q.before_t = (int64_t)cJSON_GetNumberValue(
			cJSON_GetObjectItem(next, "t"));
		q.before_seq = (int64_t)cJSON_GetNumberValue(
			cJSON_GetObjectItem(next, "seq"));
		cJSON_Delete(p);
	}
	ck_assert_int_eq(seen, 10); /* each once, none of the other flow */
}
END_TEST

START_TEST(pages_filter_by_status_day_and_document_number)
{
	struct page_query q = { .flow = "w3", .limit = 50, .status = "failed" };
	int64_t now = util_wall_ms();
	cJSON *p;

	fill(12);
	p = store_docs_page(st, &q);
	ck_assert_int_eq(count(p), 4);
	ck_assert_str_eq(doc_at(p, 0), "XK00012");
	ck_assert_str_eq(cJSON_GetObjectItem(
				 cJSON_GetArrayItem(cJSON_GetObjectItem(p, "doc"
									   "ume"
									   "nt"
									   "s"),
						    0),
				 "status")
				 ->valuestring,
			 "failed");
	cJSON_Delete(p);
	q.status = NULL;
	q.prefix = "XK0001";
	p = store_docs_page(st, &q);
	ck_assert_int_eq(count(p), 3); /* XK00010..12, not XK00001 */
	cJSON_Delete(p);
	q.prefix = NULL;
	q.from_ms = now - 3600 * 1000;
	q.to_ms = now + 3600 * 1000;
	p = store_docs_page(st, &q);
	ck_assert_int_eq(count(p), 12);
	cJSON_Delete(p);
	q.to_ms = now - 1800 * 1000; /* received before: none */
	p = store_docs_page(st, &q);
	ck_assert_int_eq(count(p), 0);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(p, "next")));
	cJSON_Delete(p);
}
END_TEST

START_TEST(failed_documents_grouped_by_reason_largest_first)
{
	cJSON *g, *first;
	char **ids;
	size_t n;

	fill(12); /* failed: 3, 9 (HCM); 6, 12 (tồn tại) */
	set_status("w3", "XK00001", DOC_FAILED,
		   "mapping warehouses has no entry for HCM");
	g = store_failed_groups(st, 2);
	ck_assert_int_eq(cJSON_GetArraySize(g), 2);
	first = cJSON_GetArrayItem(g, 0);
	ck_assert_str_eq(cJSON_GetObjectItem(first, "reason")->valuestring,
			 "mapping warehouses has no entry for HCM");
	ck_assert_int_eq(cJSON_GetObjectItem(first, "count")->valueint, 3);
	/* at most 2 ids listed; the retry of the group takes all */
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(first, "documen"
								       "ts")),
			 2);
	ids = store_failed_ids(st, "w3",
			       "mapping warehouses has no entry "
			       "for HCM",
			       -1, &n);
	ck_assert_int_eq((int)n, 3);
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	cJSON_Delete(g);
}
END_TEST

START_TEST(audit_log_newest_first_pages_back)
{
	cJSON *a;

	ck_assert_int_eq(store_audit_add(st, "an", "mode", "w3",
					 "{\"mode\":\"manual\"}"),
			 0);
	ck_assert_int_eq(store_audit_add(st, "binh", "push", "w3", NULL), 0);
	ck_assert_int_eq(store_audit_add(st, "an", "/mappings/kho", NULL, NULL),
			 0);
	a = store_audit(st, 0, 2);
	ck_assert_int_eq(cJSON_GetArraySize(a), 2);
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(a, 0), "action")
				 ->valuestring,
			 "/mappings/kho");
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(a, 1), "user")
				 ->valuestring,
			 "binh");
	int before =
		cJSON_GetObjectItem(cJSON_GetArrayItem(a, 1), "id")->valueint;
	cJSON_Delete(a);
	a = store_audit(st, before, 10);
	ck_assert_int_eq(cJSON_GetArraySize(a), 1);
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(a, 0), "action")
				 ->valuestring,
			 "mode");
	cJSON_Delete(a);
}
END_TEST

START_TEST(synced_and_failed_counted_by_the_hour)
{
	cJSON *h, *last;

	fill(6); /* 3, 6 failed */
	set_status("w3", "XK00001", DOC_SYNCED, NULL);
	h = store_hourly(st, "w3", util_wall_ms());
	ck_assert_int_eq(cJSON_GetArraySize(h), 24);
	last = cJSON_GetArrayItem(h, 23);
	ck_assert_int_eq(cJSON_GetObjectItem(last, "synced")->valueint, 1);
	ck_assert_int_eq(cJSON_GetObjectItem(last, "failed")->valueint, 2);
	ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(h, 0), "failed")
				 ->valueint,
			 0);
	cJSON_Delete(h);
}
END_TEST

static int count_of(cJSON *counts, const char *flow, const char *status)
{
	cJSON *f = cJSON_GetObjectItem(counts, flow);
	cJSON *v = cJSON_GetObjectItem(f, status);

	return v ? v->valueint : 0;
}

START_TEST(counts_follow_every_change_of_status)
{
	cJSON *c;

	fill(9); /* 3, 6, 9 failed */
	set_status("w3", "XK00001", DOC_SYNCED, NULL);
	set_status("w3", "XK00003", DOC_SYNCED, NULL);
	ingest("w3", "XK00002"); /* the same document again: no new row */
	c = store_counts(st);
	ck_assert_int_eq(count_of(c, "w3", "pending"), 5);
	ck_assert_int_eq(count_of(c, "w3", "failed"), 2);
	ck_assert_int_eq(count_of(c, "w3", "synced"), 2);
	ck_assert_int_eq(count_of(c, "w1", "pending"), 1);
	ck_assert(!cJSON_HasObjectItem(cJSON_GetObjectItem(c, "w1"), "failed"));
	cJSON_Delete(c);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("store_console");
	TCase *tc = tcase_create("store_console");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, pages_go_on_where_the_last_ended_newest_first);
	tcase_add_test(tc, pages_filter_by_status_day_and_document_number);
	tcase_add_test(tc, failed_documents_grouped_by_reason_largest_first);
	tcase_add_test(tc, audit_log_newest_first_pages_back);
	tcase_add_test(tc, synced_and_failed_counted_by_the_hour);
	tcase_add_test(tc, counts_follow_every_change_of_status);
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

/*
 * test_store_links.c - record links in the store: the first claim stays
 * and never replaces a made link, a made link is found from either side
 * (by id or by code) and kept across a restart, a failed document gives
 * its claim back, and the listing filters and pages.
 */
#define _GNU_SOURCE
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"

static char dir[64];
static char dbpath[128];
static struct store *st;

static struct store *open_store(void)
{
	struct store_opts o = { .path = dbpath };
	struct store *s = NULL;
	char err[256];

	ck_assert_msg(store_open(&o, &s, err, sizeof(err)) == 0, "%s", err);
	return s;
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/luong-ut-links-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(dbpath, sizeof(dbpath), "%s/luong.db", dir);
	st = open_store();
}

static void teardown(void)
{
	char cmd[128];

	store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Kho issue note `note` -> a MISA voucher, by `flow`. */
static struct link note_link(const char *note, const char *flow)
{
	return (struct link){
		.a_conn = "kho",
		.a_kind = "issue_note",
		.a_id = (char *)note,
		.b_conn = "misa",
		.b_kind = "issue_voucher",
		.flow = (char *)flow,
		.doc_id = (char *)note,
		.step = "voucher",
	};
}

static void make(const char *note, const char *flow, const char *refid,
		 const char *refno)
{
	struct link l = note_link(note, flow);

	l.b_id = (char *)refid;
	l.b_code = (char *)refno;
	l.output = "{\"refno\": \"XK1\"}";
	ck_assert_int_eq(store_link_put(st, &l), 0);
}

static void claim(const char *note, const char *flow)
{
	struct link want = note_link(note, flow);

	store_link_claim_async(st, &want, NULL, NULL);
	ck_assert_int_eq(store_flush(st), 0);
}

/* The row of note's voucher: who holds it (owned in *l). */
static int row_of(const char *note, struct link *l)
{
	struct link want = note_link(note, "any");

	return store_link_get(st, &want, l);
}

START_TEST(a_claim_stays_until_made_and_never_replaces_a_link)
{
	struct link held;

	ck_assert_int_eq(row_of("XK00001", &held), 1);
	claim("XK00001", "w3");
	claim("XK00001", "w3-copy"); /* the first claim stays */
	ck_assert_int_eq(row_of("XK00001", &held), 0);
	ck_assert_str_eq(held.flow, "w3");
	ck_assert_str_eq(held.step, "voucher");
	ck_assert(!held.made);
	link_free(&held);
	make("XK00001", "w3", "R1", "XK1");
	claim("XK00001", "w3-copy");
	ck_assert_int_eq(row_of("XK00001", &held), 0);
	ck_assert(held.made);
	ck_assert_str_eq(held.flow, "w3");
	ck_assert_str_eq(held.b_id, "R1");
	ck_assert_str_eq(held.output, "{\"refno\": \"XK1\"}");
	link_free(&held);
}
END_TEST

START_TEST(a_failed_document_gives_its_claim_back)
{
	struct link held;

	claim("XK00002", "w3");
	ck_assert_int_eq(store_link_release(st, "w3", "XK00002"), 0);
	ck_assert_int_eq(row_of("XK00002", &held), 1);
	claim("XK00002", "w3-copy");
	ck_assert_int_eq(row_of("XK00002", &held), 0);
	ck_assert_str_eq(held.flow, "w3-copy");
	link_free(&held);
	/* a made link is never released */
	make("XK00003", "w3", "R3", NULL);
	ck_assert_int_eq(store_link_release(st, "w3", "XK00003"), 0);
	ck_assert_int_eq(row_of("XK00003", &held), 0);
	ck_assert(held.made);
	link_free(&held);
}
END_TEST

static void *race(void *arg)
{
	struct link want = note_link("XK00009", arg);

	store_link_claim_async(st, &want, NULL, NULL);
	return NULL;
}

START_TEST(of_many_claims_queued_at_once_one_row_stays)
{
	static const char *const flows[] = { "a", "b", "c", "d", "e", "f" };
	struct link_query q = { .id = "XK00009" };
	pthread_t t[6];
	cJSON *rows;

	for (int i = 0; i < 6; i++)
		pthread_create(&t[i], NULL, race, (void *)flows[i]);
	for (int i = 0; i < 6; i++)
		pthread_join(t[i], NULL);
	ck_assert_int_eq(store_flush(st), 0);
	rows = store_links_list(st, &q);
	ck_assert_int_eq(cJSON_GetArraySize(rows), 1);
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(rows, 0), "stat"
									  "e")
				 ->valuestring,
			 "making");
	cJSON_Delete(rows);
}
END_TEST

START_TEST(a_link_is_found_from_either_side_after_a_restart)
{
	struct link_end note = { "kho", "issue_note", "XK00004" };
	struct link_end by_id = { "misa", NULL, "R4" };
	struct link_end by_code = { "misa", "issue_voucher", "XK4" };
	struct link l;

	make("XK00004", "w3", "R4", "XK4");
	store_close(st);
	st = open_store();
	ck_assert_int_eq(
		store_link_find(st, &note, "misa", "issue_voucher", &l), 0);
	ck_assert_str_eq(l.b_id, "R4");
	ck_assert_str_eq(l.b_code, "XK4");
	ck_assert_str_eq(l.flow, "w3");
	link_free(&l);
	ck_assert_int_eq(store_link_find(st, &by_id, "kho", "issue_note", &l),
			 0);
	ck_assert_str_eq(l.a_id, "XK00004");
	link_free(&l);
	ck_assert_int_eq(store_link_find(st, &by_code, "kho", NULL, &l), 0);
	ck_assert_str_eq(l.a_id, "XK00004");
	link_free(&l);
	/* another kind, another system, or only a claim: no link */
	ck_assert_int_eq(
		store_link_find(st, &note, "misa", "sales_voucher", &l), 1);
	ck_assert_int_eq(store_link_find(st, &note, "crm", NULL, &l), 1);
	{
		struct link_end n5 = { "kho", "issue_note", "XK00005" };

		claim("XK00005", "w3");
		ck_assert_int_eq(store_link_find(st, &n5, "misa", NULL, &l), 1);
	}
}
END_TEST

START_TEST(the_listing_filters_and_pages)
{
	struct link_query q = { .connection = "kho", .limit = 2 };
	cJSON *a, *b;
	char id[16];

	for (int i = 0; i < 3; i++) {
		snprintf(id, sizeof(id), "XK1%d", i);
		make(id, i ? "w3" : "w3-copy", NULL, id);
	}
	a = store_links_list(st, &q);
	ck_assert_int_eq(cJSON_GetArraySize(a), 2);
	q.after = (int64_t)cJSON_GetObjectItem(cJSON_GetArrayItem(a, 1), "seq")
			  ->valuedouble;
	b = store_links_list(st, &q);
	ck_assert_int_eq(cJSON_GetArraySize(b), 1);
	ck_assert_str_eq(
		cJSON_GetObjectItem(
			cJSON_GetObjectItem(cJSON_GetArrayItem(b, 0), "target"),
			"code")
			->valuestring,
		"XK12");
	cJSON_Delete(a);
	cJSON_Delete(b);
	q = (struct link_query){ .flow = "w3-copy" };
	a = store_links_list(st, &q);
	ck_assert_int_eq(cJSON_GetArraySize(a), 1);
	cJSON_Delete(a);
	q = (struct link_query){ .id = "XK11" };
	a = store_links_list(st, &q);
	ck_assert_int_eq(cJSON_GetArraySize(a), 1);
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(a, 0), "state")
				 ->valuestring,
			 "made");
	cJSON_Delete(a);
	q = (struct link_query){ .connection = "haravan" };
	a = store_links_list(st, &q);
	ck_assert_int_eq(cJSON_GetArraySize(a), 0);
	cJSON_Delete(a);
}
END_TEST

static Suite *store_links_suite(void)
{
	Suite *s = suite_create("store_links");
	TCase *tc = tcase_create("links");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, a_claim_stays_until_made_and_never_replaces_a_link);
	tcase_add_test(tc, a_failed_document_gives_its_claim_back);
	tcase_add_test(tc, of_many_claims_queued_at_once_one_row_stays);
	tcase_add_test(tc, a_link_is_found_from_either_side_after_a_restart);
	tcase_add_test(tc, the_listing_filters_and_pages);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(store_links_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/*
 * test_seen.c - the writer's memory of each document's content hash: a
 * hit only for the same flow, document and content; forgetting on a
 * replay and on clear; a bound on what it keeps.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seen.h"
#include "util.h"

static void hash_of(const char *text, char *hex)
{
	util_sha256_hex(text, strlen(text), hex);
}

START_TEST(seen_knows_the_content_per_flow_and_document)
{
	struct seen *c = seen_new(100);
	char h1[65], h2[65];

	hash_of("{\"qty\":1}", h1);
	hash_of("{\"qty\":2}", h2);
	ck_assert(!seen_same(c, "stock", "I1", h1));
	seen_put(c, "stock", "I1", h1);
	ck_assert(seen_same(c, "stock", "I1", h1));
	ck_assert(!seen_same(c, "stock", "I1", h2));  /* changed */
	ck_assert(!seen_same(c, "prices", "I1", h1)); /* other flow */
	ck_assert(!seen_same(c, "stock", "I2", h1));  /* other document */
	seen_put(c, "stock", "I1", h2);
	ck_assert(seen_same(c, "stock", "I1", h2));
	ck_assert(!seen_same(c, "stock", "I1", h1));
	ck_assert_uint_eq(seen_count(c), 1);
	/* unknown (a replay): forgotten, asked of the ledger next time */
	seen_put(c, "stock", "I1", NULL);
	ck_assert(!seen_same(c, "stock", "I1", h2));
	ck_assert_uint_eq(seen_count(c), 0);
	/* not a hash: nothing kept, nothing matched */
	seen_put(c, "stock", "I3", "not-a-hash");
	ck_assert_uint_eq(seen_count(c), 0);
	ck_assert(!seen_same(c, "stock", "I3", "not-a-hash"));
	seen_free(c);
}
END_TEST

START_TEST(seen_grows_clears_and_keeps_its_bound)
{
	struct seen *c = seen_new(5000);
	char h[65], doc[32];

	for (int i = 0; i < 6000; i++) {
		snprintf(doc, sizeof(doc), "SKU%06d", i);
		hash_of(doc, h);
		seen_put(c, i % 2 ? "a" : "b", doc, h);
	}
	ck_assert_uint_eq(seen_count(c), 5000); /* the rest: not kept */
	for (int i = 0; i < 5000; i++) {
		snprintf(doc, sizeof(doc), "SKU%06d", i);
		hash_of(doc, h);
		ck_assert(seen_same(c, i % 2 ? "a" : "b", doc, h));
		ck_assert(!seen_same(c, i % 2 ? "b" : "a", doc, h));
	}
	snprintf(doc, sizeof(doc), "SKU%06d", 5500);
	hash_of(doc, h);
	ck_assert(!seen_same(c, "b", doc, h));
	seen_clear(c);
	ck_assert_uint_eq(seen_count(c), 0);
	ck_assert(!seen_same(c, "a", "SKU000001", h));
	seen_put(c, "a", "SKU000001", h); /* usable after a clear */
	ck_assert(seen_same(c, "a", "SKU000001", h));
	seen_free(c);
}
END_TEST

static Suite *suite(void)
{
	Suite *su = suite_create("seen");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, seen_knows_the_content_per_flow_and_document);
	tcase_add_test(tc, seen_grows_clears_and_keeps_its_bound);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

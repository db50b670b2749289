/*
 * test_progress.c - long operations report how far they are: done over
 * total, failures by reason, a rate and time left, and an end.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "progress.h"

static double num(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItem(o, key)->valuedouble;
}

START_TEST(progress_counts_documents_until_the_end)
{
	struct progress *p = progress_new();
	const char *docs[] = { "a", "b", "c", "d" };
	const char *id = progress_start(p, "f", "push", docs, 4, 1000);
	cJSON *j;

	progress_note(p, "f", "a", true, NULL, 2000);
	progress_note(p, "f", "b", false,
		      "mapping warehouses has no entry "
		      "for HCM",
		      2000);
	progress_note(p, "f", "a", true, NULL, 2500);	  /* counted once */
	progress_note(p, "other", "c", true, NULL, 2500); /* not ours */
	j = progress_json(p, id, 3000);
	ck_assert_double_eq(num(j, "total"), 4);
	ck_assert_double_eq(num(j, "done"), 2);
	ck_assert_double_eq(num(j, "synced"), 1);
	ck_assert_double_eq(num(j, "failed"), 1);
	ck_assert_double_eq(num(j, "rate_per_s"), 1); /* 2 in 2 s */
	ck_assert_double_eq(num(j, "eta_s"), 2);
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(j, "finished")));
	cJSON_Delete(j);
	progress_note(p, "f", "c", false,
		      "mapping warehouses has no entry "
		      "for HCM",
		      3500);
	progress_note(p, "f", "d", true, NULL, 4000);
	j = progress_json(p, id, 9000);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(j, "finished")));
	ck_assert_double_eq(num(j, "elapsed_s"), 3);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(j, "eta_s")));
	ck_assert_double_eq(num(cJSON_GetObjectItem(j, "failed_by_reason"),
				"mapping warehouses has no entry for HCM"),
			    2);
	cJSON_Delete(j);
	ck_assert_ptr_null(progress_json(p, "op-404", 9000));
	progress_free(p);
}
END_TEST

START_TEST(progress_keeps_the_last_operations_only)
{
	struct progress *p = progress_new();
	const char *docs[] = { "x" };
	char first[24];
	cJSON *j;

	strcpy(first, progress_start(p, "f", "push", docs, 1, 0));
	progress_note(p, "f", "x", true, NULL, 1);
	for (int i = 0; i < 40; i++)
		progress_start(p, "f", "retry", docs, 1, 2);
	ck_assert_ptr_null(progress_json(p, first, 3));
	/* a document in several operations counts for each */
	j = progress_json(p, "op-41", 3);
	ck_assert_ptr_nonnull(j);
	cJSON_Delete(j);
	progress_note(p, "f", "x", true, NULL, 4);
	j = progress_json(p, "op-41", 5);
	ck_assert_double_eq(num(j, "done"), 1);
	cJSON_Delete(j);
	progress_free(p);
}
END_TEST

static Suite *suite(void)
{
	Suite *su = suite_create("progress");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, progress_counts_documents_until_the_end);
	tcase_add_test(tc, progress_keeps_the_last_operations_only);
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

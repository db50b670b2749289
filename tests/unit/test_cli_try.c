/*
 * test_cli_try.c - how `luong flows try` shows the go-live check's answer:
 * a table per step, what the plugin fills in, fields a dry run cannot
 * know, problems by JSON path, and the exit code.
 */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Prints res; returns the output (owned), *rc the exit code. */
static char *printed(const char *res, int *rc)
{
	cJSON *j = cJSON_Parse(res);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(j);
	*rc = cli_try_print(f, j);
	fclose(f);
	cJSON_Delete(j);
	return buf;
}

static void has(const char *out, const char *line)
{
	ck_assert_msg(strstr(out, line) != NULL, "no \"%s\" in:\n%s", line,
		      out);
}

/* A table row: its mark ("    ", "  + ", "  ~ "), the field, spaces that
 * line up the column, the value, the end of the line. */
static void has_row(const char *out, const char *mark, const char *field,
		    const char *value)
{
	const char *l;

	for (l = out; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		const char *p = l;

		if (strncmp(p, mark, strlen(mark)))
			continue;
		p += strlen(mark);
		if (strncmp(p, field, strlen(field)) || p[strlen(field)] != ' ')
			continue;
		p += strlen(field);
		while (*p == ' ')
			p++;
		if (!strncmp(p, value, strlen(value)) &&
		    p[strlen(value)] == '\n')
			return;
	}
	ck_abort_msg("no row %s%s = %s in:\n%s", mark, field, value, out);
}

START_TEST(golive_dry_run_shows_fields_filled_in_and_not_known)
{
	int rc;
	char *out = printed(
		"{\"flow\": \"w3\", \"document_id\": \"XK1\", \"source\": "
		"{\"from\": \"stored event\", \"seq\": 7}, \"dry_run\": true, "
		"\"selected\": true, \"ok\": true, \"problems\": 0, \"steps\": "
		"["
		"{\"id\": \"voucher\", \"connection\": \"misa\", \"action\": "
		"\"save_voucher\", \"check\": \"passed\", \"input\": "
		"{\"voucher_type\": \"51\", \"detail\": [{\"quantity\": 2}], "
		"\"odd key\": 1}, \"preview\": {\"voucher_type\": 51, "
		"\"detail\": [{\"quantity\": 2, \"amount\": 10}], \"odd key\": "
		"1}, \"not_known\": [], \"problems\": []},"
		"{\"id\": \"mark\", \"connection\": \"kho\", \"action\": "
		"\"set\", \"check\": \"none\", \"input\": {\"ref\": null}, "
		"\"not_known\": [{\"path\": \"$.ref\", \"needs\": "
		"[\"voucher\"]}], \"problems\": []}]}",
		&rc);

	ck_assert_int_eq(rc, 0);
	has(out, "flow w3, document XK1 (its last event received, #7)");
	has(out, "step 1 voucher: misa.save_voucher (check: passed)");
	has_row(out, "    ", "voucher_type", "\"51\"");
	has_row(out, "    ", "detail[0].quantity", "2");
	has_row(out, "  ~ ", "voucher_type", "51");
	has_row(out, "  + ", "detail[0].amount", "10");
	has_row(out, "    ", "[\"odd key\"]", "1");
	has_row(out, "    ", "ref",
		"(not known in a dry run: needs the "
		"result of step voucher)");
	has(out, "ready: no problems found");
	free(out);
}
END_TEST

START_TEST(golive_dry_run_lists_problems_and_fails)
{
	int rc;
	char *out = printed("{\"flow\": \"w3\", \"document_id\": \"try\", "
			    "\"source\": "
			    "{\"from\": \"given\"}, \"dry_run\": true, "
			    "\"selected\": true, "
			    "\"ok\": false, \"problems\": 2, \"steps\": "
			    "[{\"id\": \"v\", "
			    "\"connection\": \"misa\", \"action\": "
			    "\"save_voucher\", "
			    "\"check\": \"skipped\", \"input\": null, "
			    "\"problems\": ["
			    "{\"path\": \"$.stock_code\", \"message\": "
			    "\"mapping \\\""
			    "warehouses\\\" has no entry for \\\"HP\\\"\"}, "
			    "{\"path\": "
			    "\"$.refdate\", \"message\": \"expression produced "
			    "no "
			    "value\"}]}]}",
			    &rc);

	ck_assert_int_eq(rc, 1);
	has(out, "(given)");
	has(out, "  ! $.stock_code: mapping \"warehouses\" has no entry for "
		 "\"HP\"\n");
	has(out, "  ! $.refdate: expression produced no value\n");
	has(out, "not ready: 2 problems");
	ck_assert_ptr_null(strstr(out, "FIELD"));
	free(out);
}
END_TEST

START_TEST(golive_not_selected_says_why)
{
	int rc;
	char *out = printed("{\"flow\": \"w3\", \"document_id\": \"X\", "
			    "\"dry_run\": true, \"selected\": false, "
			    "\"filter\": \"not selected by the flow's filter "
			    "(when)\", \"steps\": []}",
			    &rc);

	ck_assert_int_eq(rc, 1);
	has(out, "not sent: not selected by the flow's filter (when)");
	free(out);
}
END_TEST

START_TEST(golive_send_shows_outputs_and_link)
{
	int rc;
	char *out = printed("{\"flow\": \"w3\", \"document_id\": \"X\", "
			    "\"dry_run\": false, \"status\": \"synced\", "
			    "\"finished\": true, \"outputs\": {\"voucher\": "
			    "{\"refno\": \"XK9\"}}, \"target\": {\"id\": 4}}",
			    &rc);

	ck_assert_int_eq(rc, 0);
	has(out, "sent for real: synced\n");
	has(out, "step voucher made:\n");
	has_row(out, "    ", "refno", "\"XK9\"");
	has(out, "link (what the target holds):\n");
	free(out);
	out = printed("{\"dry_run\": false, \"status\": \"syncing\", "
		      "\"finished\": false, \"outputs\": {}, \"target\": null}",
		      &rc);
	ck_assert_int_eq(rc, 1);
	has(out, "sent for real: syncing (not finished yet");
	free(out);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cli_try");
	TCase *tc = tcase_create("print");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, golive_dry_run_shows_fields_filled_in_and_not_known);
	tcase_add_test(tc, golive_dry_run_lists_problems_and_fails);
	tcase_add_test(tc, golive_not_selected_says_why);
	tcase_add_test(tc, golive_send_shows_outputs_and_link);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}

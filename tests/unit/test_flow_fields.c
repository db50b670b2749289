/* test_flow_fields.c - `luong flows check` against what plugins declare
 * (SDK 1.2): inputs an action takes, fields an event's payload has. */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "flow_fields.h"

static const struct luong_field_def voucher[] = {
	{ "voucher_type", LUONG_FIELD_INTEGER, LUONG_FIELD_REQUIRED, "type" },
	{ "detail", LUONG_FIELD_ARRAY, LUONG_FIELD_REQUIRED, "the lines" },
	{ "journal_memo", LUONG_FIELD_STRING, 0, "" },
	{ "rate", LUONG_FIELD_NUMBER, 0, "" },
	{ "reference", LUONG_FIELD_ANY, 0, "" },
	{ 0 }
};

static const struct luong_field_def note[] = {
	{ "id", LUONG_FIELD_ANY, 0, "" },
	{ "issue_note_type", LUONG_FIELD_STRING, 0, "" },
	{ "lines", LUONG_FIELD_ARRAY, 0, "" },
	{ 0 }
};

static struct flow_errors errs;

static size_t check_inputs(const char *json)
{
	cJSON *in = cJSON_Parse(json);

	ck_assert_ptr_nonnull(in);
	flow_errors_clear(&errs);
	flow_check_inputs("f.json", "$.steps[0].input",
			  "action misa.save_voucher", in, voucher, &errs);
	cJSON_Delete(in);
	return errs.n;
}

static size_t check_reads(const char *expr)
{
	flow_errors_clear(&errs);
	flow_check_reads("f.json", "$.trigger.when",
			 "event kho.issue_note.saved", expr, note, &errs);
	return errs.n;
}

START_TEST(a_misspelt_input_is_refused_with_file_and_path)
{
	ck_assert_uint_eq(check_inputs("{\"voucher_type\": 1, \"detail\": "
				       "\".lines\", \"jounral_memo\": "
				       "\".x\"}"),
			  1);
	ck_assert_str_eq(errs.msgs[0], "f.json: $.steps[0].input.jounral_memo: "
				       "action "
				       "misa.save_voucher takes no input "
				       "\"jounral_memo\" "
				       "(it takes: voucher_type, detail, "
				       "journal_memo, rate,"
				       " reference)");
}
END_TEST

START_TEST(a_required_input_not_mapped_is_refused)
{
	ck_assert_uint_eq(check_inputs("{\"voucher_type\": 1}"), 1);
	ck_assert_str_eq(errs.msgs[0], "f.json: $.steps[0].input: action "
				       "misa.save_voucher "
				       "requires input \"detail\" (an array: "
				       "the lines), "
				       "which is not mapped");
}
END_TEST

START_TEST(a_required_input_mapped_to_null_is_refused)
{
	ck_assert_uint_eq(check_inputs("{\"voucher_type\": 1, \"detail\": "
				       "null}"),
			  1);
	ck_assert_ptr_nonnull(strstr(errs.msgs[0], "input.detail: action "
						   "misa.save_voucher requires "
						   "\"detail\""));
	/* an optional one may be null: it reaches the action as null */
	ck_assert_uint_eq(check_inputs("{\"voucher_type\": 1, \"detail\": "
				       "[], \"journal_memo\": null}"),
			  0);
}
END_TEST

START_TEST(a_constant_of_the_wrong_type_is_refused)
{
	ck_assert_uint_eq(check_inputs("{\"voucher_type\": \"\\\"13\\\"\", "
				       "\"detail\": {}}"),
			  2);
	ck_assert_str_eq(errs.msgs[0], "f.json: $.steps[0].input.voucher_type: "
				       "action "
				       "misa.save_voucher takes a whole number "
				       "here, the "
				       "constant is not");
	ck_assert_uint_eq(check_inputs("{\"voucher_type\": 1.5, "
				       "\"detail\": []}"),
			  1);
	/* expressions are known only when they run; numbers fit numbers */
	ck_assert_uint_eq(check_inputs("{\"voucher_type\": \".t\", "
				       "\"detail\": \".l\", \"rate\": 2, "
				       "\"journal_memo\": \"\\\"a\\\" + .b\", "
				       "\"reference\": true}"),
			  0);
}
END_TEST

START_TEST(undeclared_inputs_accept_anything)
{
	cJSON *in = cJSON_Parse("{\"whatever\": 1}");

	flow_errors_clear(&errs);
	flow_check_inputs("f.json", "$", "a", in, NULL, &errs);
	ck_assert_uint_eq(errs.n, 0);
	cJSON_Delete(in);
}
END_TEST

START_TEST(a_when_reading_a_field_the_event_never_has_warns)
{
	ck_assert_uint_eq(check_reads(".type == \"sales_issue\""), 1);
	ck_assert_str_eq(errs.msgs[0], "f.json: $.trigger.when: warning: reads "
				       ".type, which "
				       "event kho.issue_note.saved never has "
				       "(it has: id, "
				       "issue_note_type, lines)");
	ck_assert_uint_eq(check_reads(".issue_note_type == \"a\" and "
				      ".kind"),
			  1);
	ck_assert_uint_eq(check_reads("select(.nope)"), 1);
}
END_TEST

START_TEST(reads_past_a_pipe_or_of_members_do_not_warn)
{
	ck_assert_uint_eq(check_reads(".issue_note_type == \"a\""), 0);
	ck_assert_uint_eq(check_reads(".lines[0].item_code"), 0);
	ck_assert_uint_eq(check_reads("[.lines[] | {c: .item_code}]"), 0);
	ck_assert_uint_eq(check_reads(".lines | map(.qty) | add"), 0);
	ck_assert_uint_eq(check_reads("$vendor.x or \".type\""), 0);
	ck_assert_uint_eq(check_reads("(.lines | length) > 0 and .id"), 0);
}
END_TEST

START_TEST(plugins_print_as_tables_not_json)
{
	cJSON *res = cJSON_Parse(
		"{\"plugins\":[{\"name\":\"misa-amis\",\"version\":\"1.0.0\","
		"\"file\":\"misa-amis.so\",\"description\":\"MISA\","
		"\"config\":[{\"name\":\"server\",\"type\":\"url\","
		"\"required\":true,\"description\":\"API base\"}],"
		"\"events\":[{\"name\":\"voucher.failed\",\"kind\":\"webhook\","
		"\"description\":\"refused\",\"fields\":[{\"name\":\"reason\","
		"\"type\":\"string\",\"required\":false,\"description\":"
		"\"why\"}],\"sample\":{\"reason\":\"x\"}}],"
		"\"actions\":[{\"name\":\"save_voucher\",\"description\":"
		"\"queue\",\"check\":true,\"inputs\":[{\"name\":\"detail\","
		"\"type\":\"array\",\"required\":true,\"description\":"
		"\"lines\"}]}]}],\"connections\":[{\"name\":\"misa\","
		"\"plugin\":\"misa-amis\",\"ready\":false,\"error\":\"init "
		"failed: wrong app_id\"}]}");
	char *text = NULL;
	size_t n = 0;
	FILE *out = open_memstream(&text, &n);

	ck_assert_int_eq(cli_plugins_print(out, res), 0);
	fclose(out);
	ck_assert_msg(strstr(text, "misa-amis 1.0.0 (misa-amis.so)\n"), "%s",
		      text);
	ck_assert_msg(strstr(text, "    voucher.failed               webhook "
				   " refused\n      payload:\n        reason  "
				   "string"
				   "             why\n      sample: "
				   "{\"reason\":"
				   "\"x\"}\n"),
		      "%s", text);
	ck_assert_msg(strstr(text, "        detail  array    required  "
				   "lines\n"),
		      "%s", text);
	ck_assert_msg(strstr(text, "  misa                 misa-amis    not "
				   "ready: init failed: wrong app_id\n"),
		      "%s", text);
	ck_assert_ptr_null(strstr(text, "{\"plugins\""));
	free(text);
	cJSON_Delete(res);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("flow_fields");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, a_misspelt_input_is_refused_with_file_and_path);
	tcase_add_test(tc, a_required_input_not_mapped_is_refused);
	tcase_add_test(tc, a_required_input_mapped_to_null_is_refused);
	tcase_add_test(tc, a_constant_of_the_wrong_type_is_refused);
	tcase_add_test(tc, undeclared_inputs_accept_anything);
	tcase_add_test(tc, a_when_reading_a_field_the_event_never_has_warns);
	tcase_add_test(tc, reads_past_a_pipe_or_of_members_do_not_warn);
	tcase_add_test(tc, plugins_print_as_tables_not_json);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	flow_errors_clear(&errs);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

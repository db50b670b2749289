/* test_flow.c - flow files: good set, one test per malformed file, retries.
 *
 * fixtures/flows/bad/NN-name.json (or the directory NN-name/) holds one
 * mistake; NN-name.expect holds the exact message, with file paths relative
 * to fixtures/flows/bad/, so an end-to-end test can run the same files. */
#define _GNU_SOURCE /* asprintf */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow.h"

#define FLOWS FIXTURES_DIR "/flows"
#define MAPPINGS FIXTURES_DIR "/mappings"

/* A fake host catalog: connection -> plugin, events (poll or not), actions */
struct fake_conn {
	const char *name, *plugin;
	const char *events[4];
	int poll[4];
	const char *actions[4];
};

static const struct fake_conn conns[] = {
	{ "crm",
	  "amis-crm",
	  { "revenue_request.saved" },
	  { 0 },
	  { "update_order" } },
	{ "dms",
	  "mobiwork-dms",
	  { "order.approved" },
	  { 0 },
	  { "update_stock" } },
	{ "kho",
	  "amis-kho",
	  { "issue_note.saved", "order.changed" },
	  { 0, 0 },
	  { "set_accounting_status" } },
	{ "misa",
	  "misa-amis",
	  { "stock.changed", "voucher.saved" },
	  { 1, 0 },
	  { "save_voucher", "save_dictionary" } },
};

static const struct fake_conn *find_conn(const char *name, char *msg,
					 size_t len)
{
	for (size_t i = 0; i < sizeof(conns) / sizeof(conns[0]); i++)
		if (!strcmp(conns[i].name, name))
			return &conns[i];
	snprintf(msg, len,
		 "unknown connection \"%s\" (known: crm, dms, kho, "
		 "misa)",
		 name);
	return NULL;
}

static void join_list(const char *const *items, char *buf, size_t len)
{
	buf[0] = '\0';
	for (int i = 0; i < 4 && items[i]; i++) {
		size_t n = strlen(buf);
		snprintf(buf + n, len - n, "%s%s", i ? ", " : "", items[i]);
	}
}

static int check_event(void *ud, const char *connection, const char *event,
		       int *is_poll, char *msg, size_t len)
{
	const struct fake_conn *c = find_conn(connection, msg, len);
	if (!c)
		return -1;
	for (int i = 0; i < 4 && c->events[i]; i++) {
		if (!strcmp(c->events[i], event)) {
			*is_poll = c->poll[i];
			return 0;
		}
	}
	char list[256];
	join_list(c->events, list, sizeof(list));
	snprintf(msg, len,
		 "connection \"%s\" (plugin %s) has no event \"%s\" "
		 "(it offers: %s)",
		 connection, c->plugin, event, list);
	return -1;
}

static int check_action(void *ud, const char *connection, const char *action,
			char *msg, size_t len)
{
	const struct fake_conn *c = find_conn(connection, msg, len);
	if (!c)
		return -1;
	for (int i = 0; i < 4 && c->actions[i]; i++)
		if (!strcmp(c->actions[i], action))
			return 0;
	char list[256];
	join_list(c->actions, list, sizeof(list));
	snprintf(msg, len,
		 "connection \"%s\" (plugin %s) has no action \"%s\" "
		 "(it offers: %s)",
		 connection, c->plugin, action, list);
	return -1;
}

static const struct flow_catalog catalog = { .ud = NULL,
					     .check_event = check_event,
					     .check_action = check_action };

static cJSON *J(const char *text)
{
	cJSON *j = cJSON_Parse(text);
	ck_assert_ptr_nonnull(j);
	return j;
}

START_TEST(good_set_loads)
{
	struct flow_set *set = NULL;
	struct flow_errors errs = { 0 };
	int rc = flow_set_load(FLOWS "/good", MAPPINGS, &catalog, &set, &errs);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "unexpected: %s\n", errs.msgs[i]);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(errs.n, 0);
	ck_assert_int_eq(set->n, 3); /* schema/ is not read */
	ck_assert_int_eq(cJSON_GetArraySize(set->tables), 3);

	/* sorted by file name */
	ck_assert_str_eq(set->flows[0]->id, "dms-order-to-sales-voucher");
	ck_assert_str_eq(set->flows[1]->id, "stock-to-dms");
	ck_assert_str_eq(set->flows[2]->id, "issue-note-to-accounting");
	ck_assert_str_eq(set->flows[2]->file, FLOWS "/good/"
						    "w3-issue-note-to-"
						    "accounting.json");

	const struct flow *w3 = flow_set_find(set, "issue-note-to-accounting");
	ck_assert_ptr_eq(w3, set->flows[2]);
	ck_assert_str_eq(w3->name, "Phiếu xuất kho → Kế toán");
	ck_assert_int_eq(w3->mode, FLOW_MANUAL);
	ck_assert_str_eq(w3->trigger_connection, "kho");
	ck_assert_str_eq(w3->trigger_event, "issue_note.saved");
	ck_assert_ptr_nonnull(w3->when);
	ck_assert_int_eq(w3->n_steps, 2);
	ck_assert_str_eq(w3->steps[1].id, "mark");
	ck_assert_str_eq(w3->steps[1].connection, "kho");
	ck_assert_str_eq(w3->steps[1].action, "set_accounting_status");
	ck_assert_int_eq(w3->retry.max_attempts, 0);
	ck_assert_int_eq(w3->retry.initial_ms, 500);
	ck_assert_int_eq(w3->retry.max_ms, 8000);

	const struct flow *d3 = flow_set_find(set, "dms-order-to-sales-"
						   "voucher");
	ck_assert_int_eq(d3->mode, FLOW_AUTOMATIC); /* the default */
	ck_assert_ptr_null(d3->when);
	const struct flow *d4 = flow_set_find(set, "stock-to-dms");
	ck_assert_int_eq(d4->every_s, 900);
	ck_assert_int_eq(d4->retry.max_attempts, 5);
	ck_assert_int_eq(d4->on_change, FLOW_ON_CHANGE_RESEND);
	ck_assert_int_eq(w3->on_change, FLOW_ON_CHANGE_FLAG); /* the default */
	ck_assert_ptr_null(flow_set_find(set, "nope"));

	/* run W3 on an issue note, as the engine will */
	char err[512];
	cJSON *note = J("{\"id\": \"PXK-0001\", \"type\": \"sales_issue\","
			" \"no\": \"XK00001\", \"date\": \"2026-03-01\","
			" \"warehouse\": \"Hà Nội\", \"lines\": [{\"sku\": "
			"\"SP01\","
			" \"qty\": 10}]}");
	cJSON *vars = J("{\"document_id\": \"PXK-0001\", \"steps\": {}}");
	ck_assert_int_eq(expr_test(w3->when, note, vars, err, sizeof(err)), 1);
	cJSON *in = NULL;
	ck_assert_int_eq(expr_eval(w3->steps[0].input, note, vars, &in, err,
				   sizeof(err)),
			 0);
	char *s = cJSON_PrintUnformatted(in);
	ck_assert_str_eq(s, "{\"voucher_type\":\"XK_BAN_HANG\",\"refno\":"
			    "\"XK00001\",\"refdate\":\"2026-03-01\","
			    "\"stock_code\":\"KHO_HN\",\"org_refid\":\"PXK-"
			    "0001\","
			    "\"detail\":[{\"inventory_item_code\":\"SP01\","
			    "\"quantity\":10}]}");
	free(s);
	cJSON_Delete(in);
	cJSON_Delete(vars);
	vars = J("{\"steps\": {\"voucher\": {\"refid\": \"R-77\"}}}");
	ck_assert_int_eq(expr_eval(w3->steps[1].input, note, vars, &in, err,
				   sizeof(err)),
			 0);
	s = cJSON_PrintUnformatted(in);
	ck_assert_str_eq(s, "{\"note_id\":\"PXK-0001\",\"status\":\"synced\","
			    "\"voucher\":\"R-77\"}");
	free(s);
	cJSON_Delete(in);

	/* a warehouse with no mapping fails the document, naming the code */
	cJSON_ReplaceItemInObject(note, "warehouse",
				  cJSON_CreateString("Hải Phòng"));
	ck_assert_int_eq(expr_eval(w3->steps[0].input, note, vars, &in, err,
				   sizeof(err)),
			 -1);
	ck_assert_str_eq(err, "mapping \"warehouses\" has no entry for "
			      "\"Hải Phòng\"");
	cJSON_Delete(vars);
	cJSON_Delete(note);
	flow_set_free(set);
}
END_TEST

/* Reads the one expected line of a fixture (paths relative to bad/). */
static char *read_expect(const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), FLOWS "/bad/%s.expect", name);
	FILE *f = fopen(path, "r");
	ck_assert_msg(f != NULL, "no %s", path);
	char line[1024];
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
	fclose(f);
	line[strcspn(line, "\n")] = '\0';
	char *out = NULL;
	ck_assert_int_ge(asprintf(&out, FLOWS "/bad/%s", line), 0);
	return out;
}

static const char *const bad_files[] = {
	"01-invalid-json",	    "02-missing-id",
	"03-bad-id-chars",	    "04-unknown-mode",
	"05-unknown-connection",    "06-unknown-event",
	"07-unknown-action",	    "08-missing-steps",
	"09-empty-steps",	    "10-steps-not-array",
	"11-bad-jq-when",	    "12-bad-jq-input",
	"13-unknown-mapping-table", "14-duplicate-step-id",
	"15-every-on-webhook",	    "16-steps-names-later-step",
	"18-bad-duration",	    "19-unknown-field",
	"20-backoff-not-object",    "21-unknown-step",
	"22-missing-action",	    "23-unknown-on-change",
	"24-link-without-id",	    "25-link-in-when",
	"26-bad-jq-refuse-if",	    "27-unknown-on-number-clash",
};

/* One malformed file = exactly one precise message. */
START_TEST(bad_file)
{
	const char *name = bad_files[_i];
	char path[512];
	snprintf(path, sizeof(path), FLOWS "/bad/%s.json", name);
	cJSON *tables = NULL;
	struct flow_errors errs = { 0 };
	ck_assert_int_eq(flow_tables_load(MAPPINGS, &tables, &errs), 0);
	struct flow *f = flow_load_file(path, tables, &catalog, &errs);
	ck_assert_ptr_null(f);
	char *want = read_expect(name);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "%s: got %s\n", name, errs.msgs[i]);
	ck_assert_int_eq(errs.n, 1);
	ck_assert_str_eq(errs.msgs[0], want);
	free(want);
	flow_errors_clear(&errs);
	cJSON_Delete(tables);
}
END_TEST

START_TEST(duplicate_flow_id_across_files)
{
	struct flow_set *set = (void *)1;
	struct flow_errors errs = { 0 };
	ck_assert_int_eq(flow_set_load(FLOWS "/bad/17-duplicate-flow-id",
				       MAPPINGS, &catalog, &set, &errs),
			 -1);
	ck_assert_ptr_null(set);
	char *want = read_expect("17-duplicate-flow-id");
	ck_assert_int_eq(errs.n, 1);
	/* both files are named: b.json and, in the text, a.json */
	char *also = strstr(want, "(also in ");
	ck_assert_ptr_nonnull(also);
	char with_dir[1024];
	snprintf(with_dir, sizeof(with_dir), "%.*s(also in " FLOWS "/bad/%s",
		 (int)(also - want), want, also + strlen("(also in "));
	ck_assert_str_eq(errs.msgs[0], with_dir);
	free(want);
	flow_errors_clear(&errs);
}
END_TEST

START_TEST(every_error_of_a_file_is_reported)
{
	struct flow_set *set = NULL;
	struct flow_errors errs = { 0 };
	ck_assert_int_eq(flow_set_load(FLOWS "/multi", MAPPINGS, &catalog, &set,
				       &errs),
			 -1);
	const char *f = FLOWS "/multi/many-errors.json";
	const char *want[] = {
		"$.id: invalid flow id \"Bad Id\" (use a-z, 0-9 and -)",
		"$.mode: unknown mode \"sometimes\" (use automatic, manual or "
		"disabled)",
		"$.trigger.event: connection \"kho\" (plugin amis-kho) has no "
		"event "
		"\"issue_note.deleted\" (it offers: issue_note.saved, "
		"order.changed)",
		"$.steps[0].action: connection \"misa\" (plugin misa-amis) has "
		"no "
		"action \"save_vocher\" (it offers: save_voucher, "
		"save_dictionary)",
		"$.steps[0].input.refdate: syntax error, unexpected $end (Unix "
		"shell "
		"quoting issues?) at <top-level>, line 1",
		"$.steps[1].id: duplicate step id \"voucher\" (also "
		"$.steps[0].id)",
		"$.on_error.backoff.jitter: 3 is out of range (0 to 1)",
	};
	size_t n = sizeof(want) / sizeof(want[0]);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "multi: %s\n", errs.msgs[i]);
	ck_assert_int_eq(errs.n, n);
	for (size_t i = 0; i < n; i++) {
		char line[1024];
		snprintf(line, sizeof(line), "%s: %s", f, want[i]);
		ck_assert_str_eq(errs.msgs[i], line);
	}
	flow_errors_clear(&errs);
}
END_TEST

START_TEST(missing_dirs)
{
	struct flow_set *set = NULL;
	struct flow_errors errs = { 0 };
	ck_assert_int_eq(
		flow_set_load(FLOWS "/nope", NULL, &catalog, &set, &errs), -1);
	ck_assert_int_eq(errs.n, 1);
	ck_assert_str_eq(errs.msgs[0], FLOWS "/nope: cannot read flows "
					     "directory: No such file or "
					     "directory");
	flow_errors_clear(&errs);
	/* no mappings directory = no tables; the good set needs some */
	ck_assert_int_eq(flow_set_load(FLOWS "/good", FLOWS "/no-mappings",
				       &catalog, &set, &errs),
			 -1);
	ck_assert_int_ge(errs.n, 1);
	ck_assert_ptr_nonnull(strstr(errs.msgs[0], "(no mapping tables are "
						   "loaded)"));
	flow_errors_clear(&errs);
}
END_TEST

START_TEST(modes_and_durations)
{
	enum flow_mode m;
	ck_assert_int_eq(flow_mode_parse("manual", &m), 0);
	ck_assert_int_eq(m, FLOW_MANUAL);
	ck_assert_int_eq(flow_mode_parse("Manual", &m), -1);
	ck_assert_str_eq(flow_mode_name(FLOW_DISABLED), "disabled");
	ck_assert_str_eq(flow_mode_name(FLOW_AUTOMATIC), "automatic");
	uint64_t ms;
	ck_assert_int_eq(flow_duration_parse("500ms", &ms), 0);
	ck_assert_uint_eq(ms, 500);
	ck_assert_int_eq(flow_duration_parse("1h30m", &ms), 0);
	ck_assert_uint_eq(ms, 5400000);
	ck_assert_int_eq(flow_duration_parse("15", &ms), -1);
	ck_assert_int_eq(flow_duration_parse("", &ms), -1);
	ck_assert_int_eq(flow_duration_parse("2d", &ms), -1);
	ck_assert_int_eq(flow_duration_parse("-1s", &ms), -1);
}
END_TEST

START_TEST(retry_delays)
{
	struct flow_retry r = FLOW_RETRY_DEFAULT;
	/* rnd 0.5 = no spread: 0, 500, 1000, 2000, 4000, 8000, then capped */
	const uint32_t want[] = { 0, 500, 1000, 2000, 4000, 8000, 8000, 8000 };
	for (uint32_t n = 0; n < 8; n++)
		ck_assert_uint_eq(flow_retry_delay_ms(&r, n, 0.5), want[n]);
	ck_assert_uint_eq(flow_retry_delay_ms(&r, 1000000, 0.5), 8000);
	/* jitter 0.2: 2000 spreads over [1600, 2400) */
	ck_assert_uint_eq(flow_retry_delay_ms(&r, 3, 0.0), 1600);
	ck_assert_uint_eq(flow_retry_delay_ms(&r, 3, 0.999999), 2400);
	/* at the cap the spread is below it only */
	ck_assert_uint_eq(flow_retry_delay_ms(&r, 9, 0.0), 6400);
	ck_assert_uint_eq(flow_retry_delay_ms(&r, 9, 0.99), 8000);
	r = (struct flow_retry){ 3, 100, 60000, 3.0, 0.0 };
	ck_assert_uint_eq(flow_retry_delay_ms(&r, 3, 0.7), 900);
}
END_TEST

/* Writes a flow making an issue voucher in misa from kho notes. */
static void write_linking_flow(const char *dir, const char *id,
			       const char *event, const char *kind)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s.json", dir, id);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f,
		"{\"id\": \"%s\", \"trigger\": {\"connection\": \"kho\", "
		"\"event\": \"%s\"}, \"steps\": [{\"id\": \"voucher\", "
		"\"connection\": \"misa\", \"action\": \"save_voucher\", "
		"\"link\": {\"kind\": \"%s\", \"id\": \".refid\", "
		"\"code\": \".refno\"}}]}\n",
		id, event, kind);
	fclose(f);
}

START_TEST(two_flows_making_one_kind_on_one_trigger_warn)
{
	char dir[] = "/tmp/luong-ut-flowwarn-XXXXXX", cmd[64];
	struct flow_set *set = NULL;
	struct flow_errors errs = { 0 }, warns = { 0 };
	ck_assert_ptr_nonnull(mkdtemp(dir));
	write_linking_flow(dir, "a-w3", "issue_note.saved", "issue_voucher");
	write_linking_flow(dir, "b-w3-copy", "issue_note.saved",
			   "issue_voucher");
	write_linking_flow(dir, "c-other-kind", "issue_note.saved",
			   "sales_voucher");
	ck_assert_int_eq(flow_set_load(dir, MAPPINGS, &catalog, &set, &errs),
			 0);
	ck_assert_str_eq(set->flows[0]->trigger_kind, "issue_note");
	ck_assert_str_eq(set->flows[0]->steps[0].link->kind, "issue_voucher");
	flow_set_warnings(set, &warns);
	for (size_t i = 0; i < warns.n; i++)
		fprintf(stderr, "warning: %s\n", warns.msgs[i]);
	ck_assert_int_eq(warns.n, 1);
	ck_assert_ptr_nonnull(strstr(warns.msgs[0], "b-w3-copy.json: "
						    "$.steps[0].link: warning: "
						    "flow "
						    "\"a-w3\""));
	ck_assert_ptr_nonnull(strstr(warns.msgs[0], "also makes issue_voucher "
						    "in \"misa\" on kho "
						    "issue_note.saved"));
	flow_errors_clear(&warns);
	flow_set_free(set);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static Suite *flow_suite(void)
{
	Suite *s = suite_create("flow");
	TCase *tc = tcase_create("load");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, good_set_loads);
	tcase_add_test(tc, two_flows_making_one_kind_on_one_trigger_warn);
	tcase_add_loop_test(tc, bad_file, 0,
			    sizeof(bad_files) / sizeof(bad_files[0]));
	tcase_add_test(tc, duplicate_flow_id_across_files);
	tcase_add_test(tc, every_error_of_a_file_is_reported);
	tcase_add_test(tc, missing_dirs);
	suite_add_tcase(s, tc);
	TCase *pure = tcase_create("pure");
	tcase_add_test(pure, modes_and_durations);
	tcase_add_test(pure, retry_delays);
	suite_add_tcase(s, pure);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(flow_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/*
 * test_workflow_golive.c - the AMIS Workflow deployment seen from around
 * the stories: record links between what the flows made (SPEC B11),
 * forged events and callbacks refused (signatures), and the go-live check
 * (`luong flows try`). The deployment is workflow_fixture.c's, as in
 * test_workflow.c.
 */
#define _GNU_SOURCE
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "workflow_fixture.h"

/* ---- record links (SPEC B11) ----------------------------------------------------- */

#define W3C "issue-note-to-accounting-copy"

static const char *end_str(const cJSON *link, const char *end, const char *key)
{
	return h_jstr(cJSON_GetObjectItem(link, end), key);
}

/* W3 on one other-issue note, waited for; the note's number (owned). */
static char *w3_synced_note(const char *item)
{
	char *note;

	cli_ok("flows mode " W3 " automatic");
	note = other_issue(item, 1);
	ck_assert_msg(h_wait_status(&d, W3, note, "synced", 10000),
		      "W3 did not sync %s", note);
	return note;
}

START_TEST(links_w3_voucher_linked_to_its_note)
{
	char *note = w3_synced_note("SP001"), *key = refid_of(note), q[128];
	cJSON *misa = state("misa"), *v, *links;

	v = h_find_row(misa, "vouchers", "org_refid", key);
	ck_assert_ptr_nonnull(v);
	snprintf(q, sizeof(q), "connection=kho&kind=issue_note&id=%s", note);
	/* kept across a restart */
	ck_assert_int_eq(h_stop(&d, SIGTERM), 0);
	ck_assert_int_eq(h_start(&d), 0);
	links = links_of(q);
	ck_assert_int_eq(cJSON_GetArraySize(links), 1);
	v = cJSON_GetArrayItem(links, 0);
	ck_assert_str_eq(end_str(v, "source", "connection"), "kho");
	ck_assert_str_eq(end_str(v, "source", "kind"), "issue_note");
	ck_assert_str_eq(end_str(v, "source", "id"), note);
	ck_assert_str_eq(end_str(v, "target", "connection"), "misa");
	ck_assert_str_eq(end_str(v, "target", "kind"), "issue_voucher");
	ck_assert_str_eq(end_str(v, "target", "code"),
			 h_jstr(h_find_row(misa, "vouchers", "org_refid", key),
				"refno"));
	ck_assert_str_eq(h_jstr(v, "state"), "made");
	ck_assert_str_eq(h_jstr(v, "flow"), W3);
	cJSON_Delete(links);
	cJSON_Delete(misa);
	free(key);
	free(note);
}
END_TEST

/* A second flow on the same notes, as a user would copy W3. */
static void add_w3_copy(void)
{
	char *text = h_read_file(SRC_DIR "/flows/" W3 ".json", NULL), *p;

	ck_assert_ptr_nonnull(text);
	p = strstr(text, "\"id\": \"" W3 "\"");
	ck_assert_ptr_nonnull(p);
	h_write(&d, "flows/" W3C ".json", "%.*s\"id\": \"" W3C "\"%s",
		(int)(p - text), text, p + strlen("\"id\": \"" W3 "\""));
	free(text);
}

START_TEST(links_two_flows_one_voucher)
{
	char *note, *out = NULL, *w3_hist, *copy_hist;
	const char *maker;
	cJSON *links;
	int linked;

	add_w3_copy();
	ck_assert_int_eq(h_luong(&d, &out, "flows check"), 0);
	ck_assert_msg(strstr(out, ".json: $.steps[0].link: warning: flow ") &&
			      strstr(out, W3C) &&
			      strstr(out, "also makes "
					  "issue_voucher in \"misa\" on kho "
					  "issue_note.saved") &&
			      strstr(out, "1 warning"),
		      "no warning: %s", out);
	free(out);
	cli_ok("flows reload");
	cli_ok("flows mode " W3C " automatic");
	cli_ok("flows mode " W3 " automatic");
	note = other_issue("SP002", 3);
	ck_assert(h_wait_status(&d, W3, note, "synced", 15000));
	ck_assert(h_wait_status(&d, W3C, note, "synced", 15000));
	/* one voucher in MISA, whichever flow sent it */
	ck_assert_int_eq(served("misa", "/apir/sync/actopen/save"), 1);
	links = links_of("connection=misa&kind=issue_voucher");
	ck_assert_int_eq(cJSON_GetArraySize(links), 1);
	maker = h_jstr(cJSON_GetArrayItem(links, 0), "flow");
	/* the other flow's ledger names the flow that made it */
	linked = history_count(W3, note, "linked") +
		 history_count(W3C, note, "linked");
	ck_assert_int_eq(linked, 1);
	{
		cJSON *doc = ledger_doc(strcmp(maker, W3) ? W3 : W3C, note), *h;
		bool named = false;

		cJSON_ArrayForEach (h, cJSON_GetObjectItem(doc, "history"))
			if (h_jstr(h, "outcome") &&
			    !strcmp(h_jstr(h, "outcome"), "linked"))
				named = strstr(h_jstr(h, "detail"), maker) !=
					NULL;
		ck_assert_msg(named, "the ledger does not name %s", maker);
		cJSON_Delete(doc);
	}
	w3_hist = h_doc_status(&d, W3, note);
	copy_hist = h_doc_status(&d, W3C, note);
	ck_assert_str_eq(w3_hist, "synced");
	ck_assert_str_eq(copy_hist, "synced");
	free(w3_hist);
	free(copy_hist);
	cJSON_Delete(links);
	free(note);
}
END_TEST

START_TEST(links_listed_by_cli_and_api)
{
	char *note = w3_synced_note("SP003"), *out = NULL, *key, q[64];
	cJSON *misa = state("misa"), *links;
	const char *refno;

	key = refid_of(note);
	refno = h_jstr(h_find_row(misa, "vouchers", "org_refid", key), "refno");
	ck_assert_ptr_nonnull(refno);
	/* W1 links its Kho order to the revenue request it came from */
	order_to_kho("DH00001");
	ck_assert_int_eq(h_luong(&d, &out, "links --connection kho"), 0);
	ck_assert_msg(strstr(out, "kho/issue_note/") && strstr(out, note) &&
			      strstr(out, refno) &&
			      strstr(out, "misa/issue_voucher/") &&
			      strstr(out, "kho/sales_order/") &&
			      strstr(out, "crm/revenue_request/"),
		      "%s", out);
	free(out);
	ck_assert_int_eq(h_luong(&d, &out, "links --flow " W1), 0);
	ck_assert_msg(!strstr(out, note) && strstr(out, "-- 1 link"), "%s",
		      out);
	free(out);
	ck_assert_int_ne(h_luong(&d, &out, "links --colour red"), 0);
	ck_assert_ptr_nonnull(strstr(out, "bad option \"--colour\""));
	free(out);
	/* found by the voucher's number too */
	snprintf(q, sizeof(q), "id=%s", refno);
	links = links_of(q);
	ck_assert_int_eq(cJSON_GetArraySize(links), 1);
	ck_assert_str_eq(end_str(cJSON_GetArrayItem(links, 0), "source", "id"),
			 note);
	cJSON_Delete(links);
	ck_assert_int_eq(h_api(&d, "GET", "/links?limit=0", NULL, NULL), 400);
	cJSON_Delete(misa);
	free(key);
	free(note);
}
END_TEST

START_TEST(links_jq_function_reads_the_link)
{
	char *note, *ref = NULL, *st, *want, *key;
	cJSON *misa;

	/* a flow that writes back what W3 made, read through link() */
	h_write(&d, "flows/voucher-ref.json",
		"{\"id\": \"voucher-ref\", "
		"\"mode\": \"manual\", \"trigger\": {\"connection\": \"kho\", "
		"\"event\": \"issue_note.saved\"}, \"steps\": [{\"id\": "
		"\"mark\","
		" \"connection\": \"kho\", \"action\": "
		"\"set_accounting_status\","
		" \"input\": {\"note_id\": \".id\", \"status\": "
		"\"\\\"synced\\\"\","
		" \"voucher_ref\": \"\\\"link:\\\" + link(\\\"misa\\\"; "
		"\\\"issue_voucher\\\").code + \\\":\\\" + (link(\\\"misa\\\"; "
		"\\\"issue_voucher\\\"; .issue_note_no).code // \\\"none\\\") "
		"+ "
		"\\\":\\\" + (link(\\\"misa\\\"; \\\"sales_voucher\\\").code "
		"// "
		"\\\"none\\\")\"}}]}\n");
	cli_ok("flows reload");
	note = w3_synced_note("SP005");
	key = refid_of(note);
	misa = state("misa");
	{
		char args[128];

		snprintf(args, sizeof(args), "push voucher-ref %s", note);
		cli_ok(args);
	}
	ck_assert(h_wait_status(&d, "voucher-ref", note, "synced", 10000));
	st = note_status(note, NULL, &ref);
	{
		const char *refno =
			h_jstr(h_find_row(misa, "vouchers", "org_refid", key),
			       "ref"
			       "n"
			       "o");

		ck_assert_int_ge(
			asprintf(&want, "link:%s:%s:none", refno, refno), 0);
	}
	ck_assert_str_eq(ref, want);
	cJSON_Delete(misa);
	free(want);
	free(st);
	free(ref);
	free(key);
	free(note);
}
END_TEST

/* ---- signatures ---------------------------------------------------------------- */

START_TEST(forged_events_and_callbacks_are_refused)
{
	char url[256], *out = NULL;
	cJSON *misa;

	snprintf(url, sizeof(url), "http://127.0.0.1:%u/hooks/kho/events",
		 d.port);
	ck_assert_int_eq(h_http("POST", url,
				"{\"event\": \"issue_note.saved\", "
				"\"id\": \"x\", \"data\": {\"issue_note\": "
				"{\"issue_note_no\": \"XK09999\"}}}",
				"X-Amis-Signature: bm90IGEgc2lnbmF0dXJl", &out),
			 401);
	free(out);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/hooks/crm/events",
		 d.port);
	ck_assert_int_eq(h_http("POST", url,
				"{\"event\": "
				"\"revenue_request.saved\"}",
				NULL, &out),
			 401);
	free(out);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/hooks/misa/callback",
		 d.port);
	ck_assert_int_eq(h_http("POST", url,
				"{\"success\": true, \"app_id\": "
				"\"7c4b3a1e-5d2f-4b8a-9e61-2f0d8c3a9b57\", "
				"\"signature\": \"00\", \"data_type\": 1, "
				"\"data\": \"[]\"}",
				NULL, &out),
			 401);
	free(out);
	ck_assert_ptr_null(h_doc_status(&d, W3, "XK09999"));
	misa = state("misa");
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(misa, "voucher"
								      "s")),
			 0);
	cJSON_Delete(misa);
}
END_TEST

/* ---- go-live check (luong flows try) -------------------------------------------- */

/* `luong flows try W3 <args>`: its exit code, *out its output (owned). */
static int try_w3(const char *args, char **out)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "flows try " W3 " %s", args);
	return h_luong(&d, out, cmd);
}

static bool has(const char *text, const char *needle)
{
	return strstr(text, needle) != NULL;
}

START_TEST(golive_try_shows_the_voucher_field_by_field)
{
	char *note = save_note("{\"sale_order_no\": \"DH00004\", \"lines\": "
			       "[{\"item_code\": \"SP005\", \"quantity\": "
			       "6}]}");
	char *out = NULL, body[128];
	cJSON *j = NULL, *st, *in;

	ck_assert(h_wait_status(&d, W3, note, "pending", 5000));
	ck_assert_msg(try_w3(note, &out) == 0, "%s", out);
	ck_assert_msg(has(out, "dry run: nothing was written") &&
			      has(out, "step 1 voucher: misa.save_voucher "
				       "(check: "
				       "passed)") &&
			      has(out, "detail[0].inventory_item_code") &&
			      has(out, "\"SP005\"") &&
			      has(out, "voucher_type") &&
			      has(out, "ready: no problems found"),
		      "%s", out);
	/* what MISA's plugin fills in: the line's amount, the totals */
	ck_assert_msg(has(out, "+ detail[0].amount") && has(out, "237000") &&
			      has(out, "+ total_amount"),
		      "%s", out);
	/* a step after the voucher needs its refno: not known, not failed */
	ck_assert_msg(has(out, "step 2 mark: kho.set_accounting_status") &&
			      has(out, "(not known in a dry run: needs the "
				       "result of "
				       "step voucher)"),
		      "%s", out);
	free(out);
	/* the API gives the same as JSON */
	snprintf(body, sizeof(body), "{\"id\": \"%s\"}", note);
	ck_assert_int_eq(h_api(&d, "POST", "/flows/" W3 "/try", body, &j), 200);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(j, "ok")));
	st = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "steps"), 0);
	in = cJSON_GetObjectItem(st, "input");
	ck_assert_double_eq(
		h_jnum(cJSON_GetArrayItem(cJSON_GetObjectItem(in, "detail"), 0),
		       "quantity"),
		6);
	ck_assert_str_eq(h_jstr(in, "stock_code"), "KHO_HN");
	cJSON_Delete(j);
	free(note);
}
END_TEST

/* The go-live check of a note Kho has not sent: read from Kho by its
 * number (the event's fetch()); a number Kho does not have is named. */
START_TEST(golive_try_reads_a_note_kho_has_not_sent)
{
	char *note, *out = NULL, args[128];

	/* Kho's events reach nobody now */
	cJSON_Delete(sbx("kho", "POST", "/_sandbox/webhooks",
			 "{\"url\": \"http://127.0.0.1:1/\"}"));
	note = save_note("{\"sale_order_no\": \"DH00004\", \"lines\": "
			 "[{\"item_code\": \"SP005\", \"quantity\": "
			 "4}]}");
	usleep(300000);
	ck_assert_ptr_null(h_doc_status(&d, W3, note));
	ck_assert_msg(try_w3(note, &out) == 0, "%s", out);
	ck_assert_msg(has(out, "(read from kho now)") &&
			      has(out, "dry run: nothing was written") &&
			      has(out, "\"SP005\"") &&
			      has(out, "ready: no problems found"),
		      "%s", out);
	free(out);
	/* --fetch reads it from Kho even once received */
	snprintf(args, sizeof(args), "%s --fetch --json", note);
	ck_assert_msg(try_w3(args, &out) == 0, "%s", out);
	ck_assert_msg(has(out, "\"from\":\t\"fetched\"") ||
			      has(out, "\"from\": \"fetched\"") ||
			      has(out, "\"from\":\"fetched\""),
		      "%s", out);
	free(out);
	ck_assert_int_ne(try_w3("XK99999 --fetch", &out), 0);
	ck_assert_msg(has(out, "kho has no document \"XK99999\"") &&
			      has(out, "XK99999"),
		      "%s", out);
	free(out);
	ck_assert_ptr_null(h_doc_status(&d, W3, note));
	ck_assert_int_eq(served("misa", "/apir/sync/actopen/save"), 0);
	free(note);
}
END_TEST

START_TEST(golive_try_names_an_unknown_item_code)
{
	char *note, *out = NULL;
	cJSON *j = sbx("kho", "POST", "/_sandbox/seed",
		       "{\"Items\": [{\"id\": "
		       "99, \"item_code\": \"SP999\", \"item_name\": \"Hàng "
		       "mới\", \"unit\": \"Cái\", \"unit_price\": 1000, "
		       "\"vat_percent\": 10}]}");

	cJSON_Delete(j);
	point_webhooks(NULL);
	note = save_note("{\"type\": \"other_issue\", \"stock_code\": "
			 "\"KHO_HN\", \"lines\": [{\"item_code\": \"SP001\", "
			 "\"quantity\": 1}, {\"item_code\": \"SP999\", "
			 "\"quantity\": 2}]}");
	ck_assert(h_wait_status(&d, W3, note, "pending", 5000));
	ck_assert_int_eq(try_w3(note, &out), 1);
	ck_assert_msg(has(out, "(check: problems)") &&
			      has(out, "! $.detail[1].inventory_item_code: "
				       "inventory "
				       "item \"SP999\" does not exist in MISA "
				       "AMIS") &&
			      has(out, "not ready: 1 problem"),
		      "%s", out);
	/* the known item on the first line is not reported */
	ck_assert_msg(!has(out, "$.detail[0].inventory_item_code:"), "%s", out);
	free(out);
	free(note);
}
END_TEST

START_TEST(golive_try_writes_nothing)
{
	char *note = other_issue("SP002", 2), *key = refid_of(note), *out;
	char *st, body[512];
	int history;
	cJSON *j = NULL;

	ck_assert(h_wait_status(&d, W3, note, "pending", 5000));
	j = ledger_doc(W3, note);
	history = cJSON_GetArraySize(cJSON_GetObjectItem(j, "history"));
	cJSON_Delete(j);
	j = NULL;
	ck_assert_msg(try_w3(note, &out) == 0, "%s", out);
	free(out);
	/* a document given as JSON, which the host never received */
	snprintf(body, sizeof(body),
		 "{\"id\": \"XK-TRY-1\", \"document\": "
		 "{\"id\": 9001, \"issue_note_no\": \"XK-TRY-1\", "
		 "\"issue_note_type\": \"other_issue\", \"issue_date\": "
		 "\"2026-12-01\", \"stock_code\": \"KHO_HN\", \"lines\": "
		 "[{\"item_code\": \"SP003\", \"quantity\": 1, \"unit_price\": "
		 "1000, \"stock_code\": \"KHO_HN\"}]}}");
	ck_assert_int_eq(h_api(&d, "POST", "/flows/" W3 "/try", body, &j), 200);
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(j, "written")));
	cJSON_Delete(j);
	usleep(500000);
	/* no voucher asked of MISA, no status written in Kho, no ledger row */
	ck_assert_int_eq(served("misa", "/apir/sync/actopen/save"), 0);
	ck_assert_int_eq(misa_requests_for(key, NULL), 0);
	st = note_status(note, NULL, NULL);
	ck_assert_str_eq(st, "not_synced");
	ck_assert(h_wait_status(&d, W3, note, "pending", 100));
	j = ledger_doc(W3, note);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "history")),
			 history);
	cJSON_Delete(j);
	ck_assert_ptr_null(h_doc_status(&d, W3, "XK-TRY-1"));
	free(st);
	free(key);
	free(note);
}
END_TEST

START_TEST(golive_try_send_makes_the_voucher)
{
	char *note = other_issue("SP002", 3), *key = refid_of(note), *out;
	char args[128];
	cJSON *misa, *v;

	ck_assert(h_wait_status(&d, W3, note, "pending", 5000));
	snprintf(args, sizeof(args), "%s --send", note);
	ck_assert_msg(try_w3(args, &out) == 0, "%s", out);
	misa = state("misa");
	v = h_find_row(misa, "vouchers", "org_refid", key);
	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(h_jstr(v, "status"), "generated");
	/* what the target holds: the step outputs and the link */
	ck_assert_msg(has(out, "sent for real: synced") &&
			      has(out, "step voucher made:") &&
			      has(out, "link (what the target holds):") &&
			      has(out, h_jstr(v, "refno")),
		      "%s", out);
	free(out);
	ck_assert(h_wait_status(&d, W3, note, "synced", 100));
	ck_assert(wait_note_status(note, "synced", 5000));
	/* sent again: one effect, still one voucher */
	ck_assert_msg(try_w3(args, &out) == 0, "%s", out);
	ck_assert_int_eq(misa_requests_for(key, NULL), 1);
	cJSON_Delete(misa);
	free(out);
	free(key);
	free(note);
}
END_TEST

static Suite *workflow_suite(void)
{
	Suite *s = suite_create("workflow");
	TCase *tc;

	/* signatures: case "amis", with the stories, for CK_RUN_CASE */
	tc = tcase_create("amis");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, forged_events_and_callbacks_are_refused);
	suite_add_tcase(s, tc);
	tc = tcase_create("golive");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, golive_try_shows_the_voucher_field_by_field);
	tcase_add_test(tc, golive_try_names_an_unknown_item_code);
	tcase_add_test(tc, golive_try_reads_a_note_kho_has_not_sent);
	tcase_add_test(tc, golive_try_writes_nothing);
	tcase_add_test(tc, golive_try_send_makes_the_voucher);
	suite_add_tcase(s, tc);
	/* record links (issue 8): CK_RUN_CASE=links runs these alone */
	tc = tcase_create("links");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, links_w3_voucher_linked_to_its_note);
	tcase_add_test(tc, links_two_flows_one_voucher);
	tcase_add_test(tc, links_listed_by_cli_and_api);
	tcase_add_test(tc, links_jq_function_reads_the_link);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(workflow_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}

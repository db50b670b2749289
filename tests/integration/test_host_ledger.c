/*
 * test_host_ledger.c - webhooks in and what the ledger makes of them: one
 * delivery each, duplicates and edits after a sync, the change policies,
 * polls that keep their cursor and skip what did not change, two-way edits
 * that never loop, secrets kept out of logs and ledger, oversized bodies
 * refused. The deployment is host_fixture.c's.
 */
#define _GNU_SOURCE
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host_fixture.h"

/* ---- webhooks in: once, duplicates, edits after a sync ------------------- */

START_TEST(webhook_reaches_sink_once)
{
	start_relay("automatic");
	ck_assert_int_eq(post_thing("A1", 1), 200);
	ck_assert_int_eq(sink_wait_effects(sk, 1, 5000), 1);
	ck_assert(h_wait_status(&d, "relay", "A1", "synced", 5000));
	usleep(300000);
	ck_assert_int_eq(sink_total(sk), 1);
	ck_assert_int_eq(sink_key_count(sk, "relay:send:A1"), 1);
}
END_TEST

START_TEST(duplicate_webhook_sends_nothing_more)
{
	start_relay("automatic");
	ck_assert_int_eq(post_thing("D1", 1), 200);
	ck_assert_int_eq(post_thing("D1", 1), 200);
	ck_assert(h_wait_status(&d, "relay", "D1", "synced", 5000));
	ck_assert_int_eq(post_thing("D1", 1), 200);
	usleep(500000);
	ck_assert_int_eq(sink_total(sk), 1);
	ck_assert_int_eq(history_count("D1", "duplicate"), 2);
}
END_TEST

START_TEST(changed_after_sync_is_flagged_not_resent)
{
	char path[128];
	cJSON *j = NULL;

	start_relay("automatic");
	ck_assert_int_eq(post_thing("E1", 1), 200);
	ck_assert(h_wait_status(&d, "relay", "E1", "synced", 5000));
	ck_assert_int_eq(post_thing("E1", 2), 200); /* edited at the source */
	usleep(500000);
	ck_assert_int_eq(sink_total(sk), 1);
	snprintf(path, sizeof(path), "/flows/relay/document?id=E1");
	ck_assert_int_eq(h_api(&d, "GET", path, NULL, &j), 200);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(j, "changed_after_sync")));
	cJSON_Delete(j);
}
END_TEST

/* ---- two-way flows: echoes (issue 8, B13) -------------------------------- */

/* Two-way flows A -> B and B -> A over two probe connections that
 * write to the sink; the test plays each system reporting its records. */
static void two_way_flows(void)
{
	static const char flow[] =
		"{\"id\": \"%s\", \"mode\": \"automatic\", \"on_change\":"
		" \"resend\", \"trigger\": {\"connection\": \"%s\", "
		"\"event\": \"thing.saved\", \"echo\": \"{name: .name}\"}, "
		"\"steps\": [{\"id\": \"send\", \"connection\": \"%s\", "
		"\"action\": \"deliver\", \"input\": {\"doc\": \".id\", "
		"\"name\": \".name\", \"target_id\": "
		"\"link(\\\"%s\\\"; \\\"thing\\\").id\"}, \"link\": "
		"{\"kind\": \"thing\", \"id\": \".id\", \"echo\": "
		"\"{name: .name}\"}}]}\n";

	h_write(&d, "connections/pa.json",
		"{\"plugin\": \"probe\", "
		"\"config\": {\"target\": \"http://127.0.0.1:%u\"}}\n",
		sink_port(sk));
	h_write(&d, "connections/pb.json",
		"{\"plugin\": \"probe\", "
		"\"config\": {\"target\": \"http://127.0.0.1:%u\"}}\n",
		sink_port(sk));
	h_write(&d, "flows/a-to-b.json", flow, "a-to-b", "pa", "pb", "pb");
	h_write(&d, "flows/b-to-a.json", flow, "b-to-a", "pb", "pa", "pa");
	ck_assert_int_eq(h_start(&d), 0);
}

static long report(const char *conn, const char *id, const char *name)
{
	char body[128];

	snprintf(body, sizeof(body), "{\"id\":\"%s\",\"name\":\"%s\"}", id,
		 name);
	return h_hook(&d, conn, "/", body);
}

/* The id B gave the record a-to-b made from A's R1. */
static char *b_id_of_r1(void)
{
	cJSON *j = NULL;
	char *id;

	ck_assert_int_eq(h_api(&d, "GET", "/flows/a-to-b/document?id=R1", NULL,
			       &j),
			 200);
	id = strdup(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "target"), "id")
			    ->valuestring);
	cJSON_Delete(j);
	return id;
}

/* Issue 8 (B13): an edit on either side crosses exactly once; the
 * other side reporting what the host wrote is not sent back. */
START_TEST(echo_two_way_edits_cross_once_and_never_loop)
{
	char *bid, name[16];
	int writes = 1;

	two_way_flows();
	ck_assert_int_eq(report("pa", "R1", "n0"), 200);
	ck_assert(h_wait_status(&d, "a-to-b", "R1", "synced", 5000));
	bid = b_id_of_r1();
	for (int i = 1; i <= 100; i++) {
		/* the side that was written reports the write: an echo */
		if (i % 2) {
			snprintf(name, sizeof(name), "n%d", i - 1);
			ck_assert_int_eq(report("pb", bid, name), 200);
		} else {
			snprintf(name, sizeof(name), "n%d", i - 1);
			ck_assert_int_eq(report("pa", "R1", name), 200);
		}
		/* then a person edits that side: it crosses */
		snprintf(name, sizeof(name), "n%d", i);
		ck_assert_int_eq(report(i % 2 ? "pb" : "pa", i % 2 ? bid : "R1",
					name),
				 200);
		writes++;
		ck_assert_msg(sink_wait_effects(sk, writes, 5000) == writes,
			      "edit %d did not cross (%d writes)", i,
			      sink_total(sk));
		/* its flow has recorded it before the next edit comes */
		ck_assert(h_wait_status(&d, i % 2 ? "b-to-a" : "a-to-b",
					i % 2 ? bid : "R1", "synced", 5000));
	}
	usleep(500000);
	/* 101 edits, 101 writes: no echo went back, no loop */
	ck_assert_int_eq(sink_total(sk), 101);
	ck_assert_int_ge(history_count_in("b-to-a", bid, "echo") +
				 history_count_in("b-to-a", bid, "skipped"),
			 1);
	free(bid);
}
END_TEST

/* ---- polls keep their cursor --------------------------------------------- */

START_TEST(poll_keeps_its_cursor)
{
	start_relay("automatic");
	h_stop(&d, SIGTERM);
	h_write(&d, "flows/feed.json",
		"{\"id\": \"feed\", \"trigger\": {\"connection\": \"probe\", "
		"\"event\": \"thing.polled\", \"every\": \"1s\"}, "
		"\"steps\": [{\"id\": \"send\", \"connection\": \"probe\", "
		"\"action\": \"deliver\", \"input\": {\"doc\": \".id\"}}]}\n");
	sink_feed_add(sk, "P-1", NULL);
	sink_feed_add(sk, "P-2", NULL);
	ck_assert_int_eq(h_start(&d), 0);
	ck_assert_int_eq(sink_wait_effects(sk, 2, 5000), 2);
	h_stop(&d, SIGKILL);
	sink_feed_add(sk, "P-3", NULL);
	ck_assert_int_eq(h_start(&d), 0);
	ck_assert_int_eq(sink_wait_effects(sk, 3, 5000), 3);
	sleep(2);
	ck_assert_int_eq(sink_effects(sk), 3);
	ck_assert(h_wait_status(&d, "feed", "P-3", "synced", 3000));
}
END_TEST

/* ---- change policies and unchanged pulls (issue 8) ----------------------- */

/* A one-step flow from probe's thing.saved to the sink, with a policy. */
static void write_catalog_flow(const char *id, const char *on_change)
{
	h_write(&d, "flows/relay.json",
		"{\"id\": \"%s\", \"on_change\": \"%s\", "
		"\"trigger\": {\"connection\": \"probe\", \"event\": "
		"\"thing.saved\"}, \"steps\": [{\"id\": \"send\", "
		"\"connection\": \"probe\", \"action\": \"deliver\", "
		"\"input\": {\"doc\": \".id\", \"n\": \".n\", "
		"\"replaces\": \"$previous.send.id\"}}]}\n",
		id, on_change);
}

static cJSON *ledger_doc(const char *flow, const char *doc)
{
	char path[256];
	cJSON *j = NULL;

	snprintf(path, sizeof(path), "/flows/%s/document?id=%s", flow, doc);
	ck_assert_int_eq(h_api(&d, "GET", path, NULL, &j), 200);
	return j;
}

START_TEST(onchange_resend_sends_the_edit_as_an_update)
{
	cJSON *reqs, *second, *doc;

	h_probe_setup(&d, sink_port(sk), "automatic");
	write_catalog_flow("relay", "resend");
	ck_assert_int_eq(h_start(&d), 0);
	ck_assert_int_eq(post_thing("C1", 1), 200);
	ck_assert(h_wait_status(&d, "relay", "C1", "synced", 5000));
	/* a price edited at the source crosses at once, as an update */
	ck_assert_int_eq(post_thing("C1", 2), 200);
	ck_assert_int_eq(sink_wait_effects(sk, 2, 5000), 2);
	ck_assert(h_wait_status(&d, "relay", "C1", "synced", 5000));
	ck_assert_int_eq(sink_key_count(sk, "relay:send:C1"), 1);
	ck_assert_int_eq(sink_key_count(sk, "relay:send:C1@2"), 1);
	reqs = sink_requests(sk);
	second = cJSON_GetArrayItem(reqs, 1);
	ck_assert_str_eq(cJSON_GetObjectItem(second, "update_of")->valuestring,
			 "T1");
	ck_assert_ptr_nonnull(
		strstr(cJSON_GetObjectItem(second, "body")->valuestring, "\"n\""
									 ":2"));
	ck_assert_ptr_nonnull(
		strstr(cJSON_GetObjectItem(second, "body")->valuestring, "\"rep"
									 "laces"
									 "\":"
									 "\"T1"
									 "\""));
	ck_assert_ptr_null(
		cJSON_GetObjectItem(cJSON_GetArrayItem(reqs, 0), "update_of"));
	cJSON_Delete(reqs);
	/* the same edit again, and a restart: one effect per version */
	ck_assert_int_eq(post_thing("C1", 2), 200);
	h_stop(&d, SIGKILL);
	ck_assert_int_eq(h_start(&d), 0);
	usleep(500000);
	ck_assert_int_eq(sink_total(sk), 2);
	doc = ledger_doc("relay", "C1");
	ck_assert(!cJSON_IsTrue(cJSON_GetObjectItem(doc, "changed_after_"
							 "sync")));
	cJSON_Delete(doc);
	ck_assert_int_eq(history_count("C1", "changed-resend"), 1);
	/* a second edit is version 3 */
	ck_assert_int_eq(post_thing("C1", 3), 200);
	ck_assert_int_eq(sink_wait_effects(sk, 3, 5000), 3);
	ck_assert_int_eq(sink_key_count(sk, "relay:send:C1@3"), 1);
}
END_TEST

/* An edit that comes while the last version is still being sent is not
 * lost nor flagged: it is the next version, sent once that one ends. */
START_TEST(onchange_resend_edit_while_sending_is_sent_after)
{
	cJSON *reqs, *doc;

	h_probe_setup(&d, sink_port(sk), "automatic");
	write_catalog_flow("relay", "resend");
	ck_assert_int_eq(h_start(&d), 0);
	sink_set_delay(sk, 1500); /* the target is slow to answer */
	ck_assert_int_eq(post_thing("S1", 1), 200);
	ck_assert(h_wait_status(&d, "relay", "S1", "syncing", 3000));
	usleep(300000);
	ck_assert_int_eq(post_thing("S1", 2), 200); /* edited meanwhile */
	ck_assert_int_eq(post_thing("S1", 2), 200); /* the same edit again */
	ck_assert_int_eq(sink_wait_effects(sk, 2, 10000), 2);
	sink_set_delay(sk, 0);
	ck_assert(h_wait_status(&d, "relay", "S1", "synced", 5000));
	usleep(500000);
	ck_assert_int_eq(sink_total(sk), 2);
	ck_assert_int_eq(sink_key_count(sk, "relay:send:S1"), 1);
	ck_assert_int_eq(sink_key_count(sk, "relay:send:S1@2"), 1);
	reqs = sink_requests(sk);
	ck_assert_ptr_nonnull(
		strstr(cJSON_GetObjectItem(cJSON_GetArrayItem(reqs, 1), "body")
			       ->valuestring,
		       "\"n\":2"));
	cJSON_Delete(reqs);
	doc = ledger_doc("relay", "S1");
	ck_assert(!cJSON_IsTrue(cJSON_GetObjectItem(doc, "changed_after_"
							 "sync")));
	ck_assert_int_eq(
		(int)cJSON_GetNumberValue(cJSON_GetObjectItem(doc, "version")),
		2);
	cJSON_Delete(doc);
	ck_assert_int_eq(history_count("S1", "changed-while-sending"), 1);
	ck_assert_int_eq(history_count("S1", "changed-resend"), 1);
	ck_assert_int_eq(history_count("S1", "changed-after-sync"), 0);
}
END_TEST

START_TEST(onchange_flag_keeps_todays_behaviour)
{
	cJSON *doc;

	h_probe_setup(&d, sink_port(sk), "automatic");
	write_catalog_flow("relay", "flag");
	ck_assert_int_eq(h_start(&d), 0);
	ck_assert_int_eq(post_thing("V1", 1), 200);
	ck_assert(h_wait_status(&d, "relay", "V1", "synced", 5000));
	ck_assert_int_eq(post_thing("V1", 2), 200); /* edited at the source */
	usleep(800000);
	ck_assert_int_eq(sink_total(sk), 1);
	ck_assert_int_eq(sink_key_count(sk, "relay:send:V1"), 1);
	doc = ledger_doc("relay", "V1");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(doc, "changed_after_sync")));
	ck_assert_str_eq(cJSON_GetObjectItem(doc, "status")->valuestring, "sync"
									  "ed");
	cJSON_Delete(doc);
	ck_assert_int_eq(history_count("V1", "changed-after-sync"), 1);
	ck_assert_int_eq(history_count("V1", "changed-resend"), 0);
}
END_TEST

START_TEST(pull_unchanged_records_are_not_sent_again)
{
	char id[16], extra[32];
	cJSON *doc;
	int lines;

	h_probe_setup(&d, sink_port(sk), "disabled");
	h_write(&d, "flows/stock.json",
		"{\"id\": \"stock\", \"on_change\": \"resend\", \"trigger\": "
		"{\"connection\": \"probe\", \"event\": \"thing.polled\", "
		"\"every\": \"1s\"}, \"steps\": [{\"id\": \"send\", "
		"\"connection\": \"probe\", \"action\": \"deliver\", "
		"\"input\": {\"sku\": \".id\", \"qty\": \".qty\"}}]}\n");
	sink_feed_full(sk, true); /* each poll lists every item */
	for (int i = 0; i < 20; i++) {
		snprintf(id, sizeof(id), "SKU-%d", i);
		sink_feed_put(sk, id, "\"qty\":10");
	}
	ck_assert_int_eq(h_start(&d), 0);
	ck_assert_int_eq(sink_wait_effects(sk, 20, 8000), 20);
	ck_assert(h_wait_status(&d, "stock", "SKU-0", "synced", 3000));
	doc = ledger_doc("stock", "SKU-0");
	lines = cJSON_GetArraySize(cJSON_GetObjectItem(doc, "history"));
	cJSON_Delete(doc);
	sleep(3); /* three more polls of the same twenty */
	ck_assert_int_eq(sink_total(sk), 20);
	/* two stock levels change: only they are sent */
	for (int i = 3; i < 5; i++) {
		snprintf(id, sizeof(id), "SKU-%d", i);
		snprintf(extra, sizeof(extra), "\"qty\":%d", i);
		sink_feed_put(sk, id, extra);
	}
	ck_assert_int_eq(sink_wait_effects(sk, 22, 8000), 22);
	sleep(2);
	ck_assert_int_eq(sink_total(sk), 22);
	ck_assert_int_eq(sink_key_count(sk, "stock:send:SKU-3@2"), 1);
	ck_assert_int_eq(sink_key_count(sk, "stock:send:SKU-4@2"), 1);
	/* the unchanged ones left no trace in their history */
	doc = ledger_doc("stock", "SKU-0");
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "histor"
								     "y")),
			 lines);
	cJSON_Delete(doc);
}
END_TEST

/* ---- secrets and limits -------------------------------------------------- */

/* True if the file holds the bytes anywhere (databases hold NULs). */
static bool file_has(const char *path, const char *needle)
{
	size_t n = 0;
	char *buf = h_read_file(path, &n);
	bool has = buf && memmem(buf, n, needle, strlen(needle)) != NULL;

	free(buf);
	return has;
}

START_TEST(secrets_stay_out_of_logs_and_ledger)
{
	const char *secret = "s3cr3t-token-9f2c7a";
	char cmd[512], path[512], *answer = NULL;
	int rc;

	setenv("PROBE_TOKEN", secret, 1);
	h_probe_setup(&d, sink_port(sk), "automatic");
	h_write(&d, "connections/probe.json",
		"{\"plugin\": \"probe\", \"config\": {\"target\": "
		"\"http://127.0.0.1:%u\", \"token\": {\"env\": "
		"\"PROBE_TOKEN\"}}}\n",
		sink_port(sk));
	ck_assert_int_eq(h_start(&d), 0);
	/* without the token the webhook is refused, and the sender and
	 * the log read why (the plugin's log->fail) */
	ck_assert_int_eq(post_thing("S0", 0), 401);
	snprintf(cmd, sizeof(cmd), "http://127.0.0.1:%u/hooks/probe/", d.port);
	ck_assert_int_eq(h_http("POST", cmd, "{\"id\":\"S0\"}", NULL, &answer),
			 401);
	ck_assert_str_eq(answer, "{\"ok\":false,\"error\":\"X-Token is "
				 "missing\"}");
	free(answer);
	ck_assert(h_log_has(&d, "webhook refused: X-Token is missing"));
	snprintf(cmd, sizeof(cmd),
		 "curl -s -o /dev/null -w '%%{http_code}' "
		 "-H 'X-Token: %s' -d '{\"id\":\"S1\",\"note\":\"ok\"}' "
		 "http://127.0.0.1:%u/hooks/probe/ | grep -q 200",
		 secret, d.port);
	rc = system(cmd);
	ck_assert_int_eq(rc, 0);
	ck_assert(h_wait_status(&d, "relay", "S1", "synced", 5000));
	ck_assert_int_eq(h_stop(&d, SIGTERM), 0);
	snprintf(path, sizeof(path), "%s/host.log", d.dir);
	ck_assert(!file_has(path, secret));
	snprintf(path, sizeof(path), "%s/var/luong.db", d.dir);
	ck_assert(file_has(path, "S1")); /* the ledger is readable here */
	ck_assert(!file_has(path, secret));
	snprintf(path, sizeof(path), "%s/var/luong.db-wal", d.dir);
	ck_assert(!file_has(path, secret));
	unsetenv("PROBE_TOKEN");
}
END_TEST

START_TEST(oversized_webhook_refused)
{
	size_t n = 1536 * 1024;
	char *big = malloc(n + 64);

	start_relay("automatic");
	/* a valid document padded past the 1 MiB default limit */
	strcpy(big, "{\"id\":\"BIG\",\"pad\":\"");
	memset(big + strlen(big), 'x', n);
	strcpy(big + 19 + n, "\"}");
	ck_assert_int_eq(strlen(big), 19 + n + 2);
	ck_assert_int_eq(h_hook(&d, "probe", "/", big), 413);
	free(big);
	ck_assert_int_eq(post_thing("SMALL", 1), 200);
	ck_assert(h_wait_status(&d, "relay", "SMALL", "synced", 5000));
	ck_assert_ptr_null(h_doc_status(&d, "relay", "BIG"));
}
END_TEST

static Suite *host_suite(void)
{
	Suite *s = suite_create("host");
	TCase *tc = tcase_create("flows");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, webhook_reaches_sink_once);
	tcase_add_test(tc, duplicate_webhook_sends_nothing_more);
	tcase_add_test(tc, changed_after_sync_is_flagged_not_resent);
	tcase_add_test(tc, echo_two_way_edits_cross_once_and_never_loop);
	tcase_add_test(tc, poll_keeps_its_cursor);
	tcase_add_test(tc, onchange_resend_sends_the_edit_as_an_update);
	tcase_add_test(tc, onchange_resend_edit_while_sending_is_sent_after);
	tcase_add_test(tc, onchange_flag_keeps_todays_behaviour);
	tcase_add_test(tc, pull_unchanged_records_are_not_sent_again);
	tcase_add_test(tc, secrets_stay_out_of_logs_and_ledger);
	tcase_add_test(tc, oversized_webhook_refused);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(host_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}

/*
 * test_host.c - the host as a user meets it: webhooks in, deliveries out,
 * modes, crashes, retries, callbacks, reloads. Each test starts the real
 * `luong` process in a fresh folder against an in-process sink.
 */
#define _GNU_SOURCE
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "sink.h"

static struct deploy d;
static struct sink *sk;

static void setup(void)
{
	sk = sink_start(0);
	ck_assert_ptr_nonnull(sk);
	h_deploy(&d);
}

static void teardown(void)
{
	h_cleanup(&d);
	sink_stop(sk);
}

static void start_relay(const char *mode)
{
	h_probe_setup(&d, sink_port(sk), mode);
	ck_assert_int_eq(h_start(&d), 0);
}

static long post_thing(const char *id, int n)
{
	char body[128];

	snprintf(body, sizeof(body), "{\"id\":\"%s\",\"n\":%d}", id, n);
	return h_hook(&d, "probe", "/", body);
}

static int history_count_in(const char *flow, const char *doc,
			    const char *outcome)
{
	char path[256];
	cJSON *j = NULL;
	const cJSON *h;
	int n = 0;

	snprintf(path, sizeof(path), "/flows/%s/document?id=%s", flow, doc);
	ck_assert_int_eq(h_api(&d, "GET", path, NULL, &j), 200);
	cJSON_ArrayForEach (h, cJSON_GetObjectItem(j, "history"))
		n += !strcmp(cJSON_GetObjectItem(h, "outcome")->valuestring,
			     outcome);
	cJSON_Delete(j);
	return n;
}

static int history_count(const char *doc, const char *outcome)
{
	return history_count_in("relay", doc, outcome);
}

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

START_TEST(manual_waits_until_pushed)
{
	char *out = NULL;

	start_relay("manual");
	ck_assert_int_eq(post_thing("M1", 1), 200);
	ck_assert_int_eq(post_thing("M2", 2), 200);
	ck_assert_int_eq(post_thing("M3", 3), 200);
	usleep(800000);
	ck_assert_int_eq(sink_total(sk), 0);
	ck_assert(h_wait_status(&d, "relay", "M1", "pending", 1000));
	ck_assert_int_eq(h_luong(&d, &out, "push relay M2"), 0);
	free(out);
	ck_assert_int_eq(sink_wait_effects(sk, 1, 5000), 1);
	ck_assert_int_eq(sink_key_count(sk, "relay:send:M2"), 1);
	ck_assert(h_wait_status(&d, "relay", "M1", "pending", 1000));
	ck_assert_int_eq(h_luong(&d, &out, "push relay --all"), 0);
	free(out);
	ck_assert_int_eq(sink_wait_effects(sk, 3, 5000), 3);
	ck_assert_int_eq(sink_total(sk), 3);
}
END_TEST

START_TEST(mode_switch_survives_restart)
{
	char *out = NULL;

	start_relay("automatic");
	ck_assert_int_eq(h_luong(&d, &out, "flows mode relay manual"), 0);
	free(out);
	ck_assert_int_eq(post_thing("R1", 1), 200);
	usleep(500000);
	ck_assert_int_eq(sink_total(sk), 0);
	ck_assert_int_eq(h_stop(&d, SIGTERM), 0);
	ck_assert_int_eq(h_start(&d), 0);
	ck_assert_int_eq(h_luong(&d, &out, "flows list"), 0);
	ck_assert_ptr_nonnull(strstr(out, "manual"));
	free(out);
	ck_assert_int_eq(post_thing("R2", 2), 200);
	usleep(500000);
	ck_assert_int_eq(sink_total(sk), 0);
	/* and back to automatic at run time: the waiting ones go */
	ck_assert_int_eq(h_luong(&d, &out, "flows mode relay automatic"), 0);
	free(out);
	ck_assert_int_eq(sink_wait_effects(sk, 2, 5000), 2);
}
END_TEST

START_TEST(disabled_ignores_triggers)
{
	char *out = NULL;

	start_relay("disabled");
	ck_assert_int_eq(post_thing("X1", 1), 200);
	usleep(500000);
	ck_assert_int_eq(sink_total(sk), 0);
	ck_assert_ptr_null(h_doc_status(&d, "relay", "X1"));
	ck_assert_int_eq(h_luong(&d, &out, "flows mode relay automatic"), 0);
	free(out);
	ck_assert_int_eq(post_thing("X2", 2), 200);
	ck_assert_int_eq(sink_wait_effects(sk, 1, 5000), 1);
}
END_TEST

/* Sends n events, then kills the host with SIGKILL at once. */
static void send_then_kill(int n, const char *prefix)
{
	char id[32];

	for (int i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "%s%d", prefix, i);
		ck_assert_int_eq(post_thing(id, i), 200);
	}
	h_stop(&d, SIGKILL);
}

START_TEST(kill9_after_accept_loses_nothing)
{
	int n = 300;

	start_relay("automatic");
	send_then_kill(n, "K");
	ck_assert_int_eq(h_start(&d), 0);
	ck_assert_int_eq(sink_wait_effects(sk, n, 30000), n);
	usleep(300000);
	ck_assert_int_eq(sink_effects(sk), n);
	for (int i = 0; i < n; i++) {
		char key[64];

		snprintf(key, sizeof(key), "relay:send:K%d", i);
		ck_assert_int_ge(sink_key_count(sk, key), 1);
	}
	ck_assert(h_wait_status(&d, "relay", "K299", "synced", 5000));
}
END_TEST

START_TEST(kill9_mid_action_duplicates_nothing)
{
	int n = 8;
	long long t0;

	start_relay("automatic");
	sink_set_delay(sk, 1500); /* actions in flight when the host dies */
	for (int i = 0; i < n; i++) {
		char id[16];

		snprintf(id, sizeof(id), "F%d", i);
		ck_assert_int_eq(post_thing(id, i), 200);
	}
	t0 = h_now_ms();
	while (sink_total(sk) < 2 && h_now_ms() - t0 < 5000)
		usleep(10000);
	h_stop(&d, SIGKILL);
	sink_set_delay(sk, 0);
	ck_assert_int_eq(h_start(&d), 0);
	ck_assert_int_eq(sink_wait_effects(sk, n, 20000), n);
	usleep(500000);
	/* resent calls carry the same key: the target made one effect each */
	ck_assert_int_eq(sink_effects(sk), n);
	for (int i = 0; i < n; i++) {
		char id[16];

		snprintf(id, sizeof(id), "F%d", i);
		ck_assert(h_wait_status(&d, "relay", id, "synced", 5000));
	}
}
END_TEST

START_TEST(transient_faults_retry_with_backoff)
{
	cJSON *reqs;
	double t1, t2, t3;

	start_relay("automatic");
	sink_set_mode(sk, SINK_UNAVAILABLE, 2, 0);
	ck_assert_int_eq(post_thing("T1", 1), 200);
	ck_assert(h_wait_status(&d, "relay", "T1", "synced", 10000));
	ck_assert_int_eq(sink_total(sk), 3);
	ck_assert_int_eq(history_count("T1", "retry"), 2);
	reqs = sink_requests(sk);
	t1 = cJSON_GetObjectItem(cJSON_GetArrayItem(reqs, 0), "at_ms")
		     ->valuedouble;
	t2 = cJSON_GetObjectItem(cJSON_GetArrayItem(reqs, 1), "at_ms")
		     ->valuedouble;
	t3 = cJSON_GetObjectItem(cJSON_GetArrayItem(reqs, 2), "at_ms")
		     ->valuedouble;
	/* back-off 200 ms then 400 ms, each within the 20% jitter */
	ck_assert_double_ge(t2 - t1, 150);
	ck_assert_double_ge(t3 - t2, 300);
	cJSON_Delete(reqs);
}
END_TEST

START_TEST(retry_after_is_honoured)
{
	cJSON *reqs;
	double t1, t2;

	start_relay("automatic");
	sink_set_mode(sk, SINK_THROTTLE, 1, 2);
	ck_assert_int_eq(post_thing("RA1", 1), 200);
	ck_assert(h_wait_status(&d, "relay", "RA1", "synced", 10000));
	reqs = sink_requests(sk);
	ck_assert_int_eq(cJSON_GetArraySize(reqs), 2);
	t1 = cJSON_GetObjectItem(cJSON_GetArrayItem(reqs, 0), "at_ms")
		     ->valuedouble;
	t2 = cJSON_GetObjectItem(cJSON_GetArrayItem(reqs, 1), "at_ms")
		     ->valuedouble;
	ck_assert_double_ge(t2 - t1, 1950);
	cJSON_Delete(reqs);
}
END_TEST

START_TEST(permanent_fault_fails_without_retry)
{
	char *out = NULL;
	cJSON *j = NULL;

	start_relay("automatic");
	sink_set_mode(sk, SINK_REFUSE, 1, 0);
	ck_assert_int_eq(post_thing("P1", 1), 200);
	ck_assert(h_wait_status(&d, "relay", "P1", "failed", 5000));
	usleep(1500000);
	ck_assert_int_eq(sink_total(sk), 1);
	ck_assert_int_eq(
		h_api(&d, "GET", "/flows/relay/document?id=P1", NULL, &j), 200);
	ck_assert_ptr_nonnull(
		strstr(cJSON_GetObjectItem(j, "reason")->valuestring, "unknown "
								      "item "
								      "code"));
	cJSON_Delete(j);
	ck_assert_int_eq(h_luong(&d, &out, "docs relay --status failed"), 0);
	ck_assert_ptr_nonnull(strstr(out, "P1"));
	free(out);
	/* a person fixed it at the target: sync again */
	ck_assert_int_eq(h_luong(&d, &out, "retry relay P1"), 0);
	free(out);
	ck_assert(h_wait_status(&d, "relay", "P1", "synced", 5000));
	ck_assert_int_eq(sink_effects(sk), 1);
}
END_TEST

/* SDK 1.2: an action with declared inputs and perform(): a required input
 * whose mapping gives null fails the document, naming it, and nothing is
 * sent; a full one goes through perform() with the connection and host. */
START_TEST(required_input_mapped_to_null_fails_unsent)
{
	cJSON *j = NULL;

	h_probe_setup(&d, sink_port(sk), "automatic");
	h_write(&d, "flows/relay.json",
		"{\"id\": \"relay\", \"name\": \"Typed\", \"mode\": "
		"\"automatic\", \"trigger\": {\"connection\": \"probe\", "
		"\"event\": \"thing.saved\"}, \"steps\": [{\"id\": \"send\", "
		"\"connection\": \"probe\", \"action\": \"deliver_typed\", "
		"\"input\": {\"doc\": \".ref\", \"n\": \".n\"}}]}\n");
	ck_assert_int_eq(h_start(&d), 0);
	ck_assert_int_eq(h_hook(&d, "probe", "/", "{\"id\":\"T1\",\"n\":1}"),
			 200);
	ck_assert(h_wait_status(&d, "relay", "T1", "failed", 5000));
	ck_assert_int_eq(
		h_api(&d, "GET", "/flows/relay/document?id=T1", NULL, &j), 200);
	ck_assert_str_eq(cJSON_GetObjectItem(j, "reason")->valuestring,
			 "step send: input $.doc is required by "
			 "probe.deliver_typed but the mapping gave null");
	cJSON_Delete(j);
	ck_assert_int_eq(h_hook(&d, "probe", "/",
				"{\"id\":\"T2\",\"n\":2,"
				"\"ref\":\"R2\"}"),
			 200);
	ck_assert(h_wait_status(&d, "relay", "T2", "synced", 5000));
	ck_assert_int_eq(sink_total(sk), 1);
}
END_TEST

START_TEST(pending_result_arrives_by_callback)
{
	char url[128];
	cJSON *j = NULL;

	start_relay("automatic");
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/hooks/probe/callback",
		 d.port);
	sink_set_callback(sk, url, 300);
	sink_set_mode(sk, SINK_ASYNC, 1, 0);
	ck_assert_int_eq(post_thing("C1", 1), 200);
	ck_assert(h_wait_status(&d, "relay", "C1", "syncing", 3000));
	ck_assert(h_wait_status(&d, "relay", "C1", "synced", 5000));
	ck_assert_int_eq(
		h_api(&d, "GET", "/flows/relay/document?id=C1", NULL, &j), 200);
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "target"),
					     "id")
				 ->valuestring,
			 "A-relay:send:C1");
	cJSON_Delete(j);
	ck_assert_int_eq(sink_total(sk), 1);
}
END_TEST

/* With an order_by that puts every document under one key, the flow
 * keeps its whole backlog in source order (SPEC B4). */
START_TEST(offline_target_gets_everything_in_order)
{
	unsigned port = sink_port(sk);
	cJSON *reqs;
	long long t_back;
	int last = -1, got;

	h_probe_setup(&d, sink_port(sk), "automatic");
	h_write(&d, "flows/relay.json",
		"{\"id\": \"relay\", \"mode\": \"automatic\","
		" \"trigger\": {\"connection\": \"probe\", \"event\": "
		"\"thing.saved\", \"order_by\": \"\\\"all\\\"\"},"
		" \"steps\": [{\"id\": \"send\", \"connection\": \"probe\","
		" \"action\": \"deliver\", \"input\": {\"doc\": \".id\", "
		"\"n\": \".n\"}}],"
		" \"on_error\": {\"backoff\": {\"initial\": \"200ms\", "
		"\"max\": \"1s\"}}}\n");
	ck_assert_int_eq(h_start(&d), 0);
	sink_stop(sk); /* the target goes away */
	for (int i = 0; i < 6; i++) {
		char id[16];

		snprintf(id, sizeof(id), "O%d", i);
		ck_assert_int_eq(post_thing(id, i), 200);
	}
	sleep(3);
	sk = sink_start(port);
	ck_assert_ptr_nonnull(sk);
	t_back = h_now_ms();
	got = sink_wait_effects(sk, 6, 15000);
	ck_assert_int_eq(got, 6);
	ck_assert_int_le(h_now_ms() - t_back, 10000);
	reqs = sink_requests(sk);
	for (int i = 0; i < cJSON_GetArraySize(reqs); i++) {
		const char *key =
			cJSON_GetObjectItem(cJSON_GetArrayItem(reqs, i), "key")
				->valuestring;
		int n = atoi(strrchr(key, 'O') + 1);

		ck_assert_int_gt(n, last); /* first arrivals in source order */
		last = n;
	}
	cJSON_Delete(reqs);
}
END_TEST

/* Issue: events that arrived while a flow was disabled were stored but
 * got no ledger row, so nothing could bring them back. */
START_TEST(replay_gives_back_events_of_a_disabled_time)
{
	char *out = NULL, args[160], vn[40];

	start_relay("disabled");
	for (int i = 0; i < 3; i++) {
		char id[16];

		snprintf(id, sizeof(id), "R%d", i);
		ck_assert_int_eq(post_thing(id, i), 200);
	}
	ck_assert_ptr_null(h_doc_status(&d, "relay", "R0"));
	/* a disabled flow takes no replay */
	{
		time_t t = (time_t)(h_now_ms() / 1000 - 60 + 7 * 3600);
		struct tm tm;

		gmtime_r(&t, &tm); /* a minute ago, in Vietnam time */
		strftime(vn, sizeof(vn), "%Y-%m-%dT%H:%M:%S", &tm);
	}
	snprintf(args, sizeof(args), "replay relay --from %s", vn);
	ck_assert_int_ne(h_luong(&d, &out, args), 0);
	ck_assert_msg(strstr(out, "disabled"), "%s", out);
	free(out);
	ck_assert_int_eq(h_luong(&d, &out, "flows mode relay automatic"), 0);
	free(out);
	ck_assert_int_eq(h_luong(&d, &out, args), 0);
	ck_assert_msg(strstr(out, "\"events\": 3") || strstr(out, "\"events\":"
								  "\t3"),
		      "%s", out);
	free(out);
	for (int i = 0; i < 3; i++) {
		char id[16];

		snprintf(id, sizeof(id), "R%d", i);
		ck_assert(h_wait_status(&d, "relay", id, "synced", 5000));
	}
	/* the same rule as ingest: a second replay sends nothing again */
	ck_assert_int_eq(h_luong(&d, &out, args), 0);
	free(out);
	usleep(500000);
	ck_assert_int_eq(sink_total(sk), 3);
	/* a bad time names the field */
	ck_assert_int_ne(h_luong(&d, &out, "replay relay --from yesterday"), 0);
	ck_assert_msg(strstr(out, "$.from"), "%s", out);
	free(out);
}
END_TEST

/* Issue 8: a push over many documents shows progress and a summary. */
START_TEST(push_all_reports_progress_and_a_summary)
{
	char *out = NULL;

	start_relay("manual");
	for (int i = 0; i < 200; i++) {
		char id[16];

		snprintf(id, sizeof(id), "P%d", i);
		ck_assert_int_eq(post_thing(id, i), 200);
	}
	ck_assert_int_eq(h_luong(&d, &out, "push relay --all --wait"), 0);
	ck_assert_msg(strstr(out, "200 queued"), "%s", out);
	ck_assert_msg(strstr(out, "200/200 (100%)"), "%s", out);
	ck_assert_msg(strstr(out, ": 200 synced, 0 failed of 200"), "%s", out);
	free(out);
	ck_assert_int_eq(sink_total(sk), 200);
}
END_TEST

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

START_TEST(flows_reload_without_restart)
{
	char *out = NULL;

	start_relay("automatic");
	h_write(&d, "flows/relay2.json",
		"{\"id\": \"relay2\", \"mode\": \"manual\", \"trigger\": "
		"{\"connection\": \"probe\", \"event\": \"thing.saved\"}, "
		"\"steps\": [{\"id\": \"send\", \"connection\": \"probe\", "
		"\"action\": \"deliver\", \"input\": {\"doc\": \".id\"}}]}\n");
	ck_assert_int_eq(h_luong(&d, &out, "flows reload"), 0);
	free(out);
	ck_assert_int_eq(h_luong(&d, &out, "flows list"), 0);
	ck_assert_ptr_nonnull(strstr(out, "relay2"));
	free(out);
	ck_assert_int_eq(post_thing("L1", 1), 200);
	ck_assert(h_wait_status(&d, "relay2", "L1", "pending", 3000));
	ck_assert(h_wait_status(&d, "relay", "L1", "synced", 3000));
	/* a broken file is refused and the running flows go on */
	h_write(&d, "flows/broken.json", "{\"id\": \"broken\"}\n");
	ck_assert_int_eq(h_luong(&d, &out, "flows reload"), 1);
	ck_assert_ptr_nonnull(strstr(out, "broken.json: $.trigger: missing"));
	free(out);
	ck_assert_int_eq(post_thing("L2", 2), 200);
	ck_assert(h_wait_status(&d, "relay", "L2", "synced", 3000));
}
END_TEST

START_TEST(metrics_count_per_flow)
{
	char url[128], *out = NULL;
	FILE *p;
	size_t n;

	start_relay("automatic");
	ck_assert_int_eq(post_thing("Q1", 1), 200);
	ck_assert(h_wait_status(&d, "relay", "Q1", "synced", 5000));
	snprintf(url, sizeof(url), "curl -s http://127.0.0.1:%u/metrics",
		 d.port);
	p = popen(url, "r");
	out = calloc(1, 65536);
	n = fread(out, 1, 65535, p);
	pclose(p);
	ck_assert_int_gt(n, 0);
	ck_assert_ptr_nonnull(strstr(out, "luong_documents_synced_total{flow="
					  "\"relay\"} 1"));
	ck_assert_ptr_nonnull(strstr(out, "luong_documents{flow=\"relay\","
					  "status=\"synced\"} 1"));
	ck_assert_ptr_nonnull(strstr(out, "luong_sync_latency_seconds_count"
					  "{flow=\"relay\"} 1"));
	free(out);
}
END_TEST

START_TEST(admin_api_needs_token)
{
	char *save = d.token;
	cJSON *j = NULL;

	start_relay("automatic");
	d.token = (char *)"wrong";
	ck_assert_int_eq(h_api(&d, "GET", "/flows", NULL, &j), 401);
	cJSON_Delete(j);
	d.token = save;
	ck_assert_int_eq(h_api(&d, "GET", "/flows", NULL, NULL), 200);
}
END_TEST

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

/* ---- change policies, unchanged pulls, failures (issue 8) ---------------- */

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

START_TEST(failure_event_reaches_a_flow_of_its_own)
{
	cJSON *reqs, *alert;
	const char *body;

	h_probe_setup(&d, sink_port(sk), "automatic");
	h_write(&d, "flows/alerts.json",
		"{\"id\": \"alerts\", \"trigger\": {\"connection\": \"luong\", "
		"\"event\": \"document.failed\", \"when\": "
		"\".flow == \\\"relay\\\"\"}, \"steps\": [{\"id\": \"tell\", "
		"\"connection\": \"probe\", \"action\": \"deliver\", "
		"\"input\": {\"flow\": \".flow\", \"doc\": \".document\", "
		"\"step\": \".step\", \"reason\": \".reason\", "
		"\"was\": \".source.n\"}}]}\n");
	ck_assert_int_eq(h_start(&d), 0);
	sink_set_mode(sk, SINK_REFUSE, 1, 0);
	ck_assert_int_eq(post_thing("F1", 7), 200);
	ck_assert(h_wait_status(&d, "relay", "F1", "failed", 5000));
	ck_assert_int_eq(sink_wait_effects(sk, 1, 5000), 1);
	usleep(300000);
	reqs = sink_requests(sk);
	ck_assert_int_eq(cJSON_GetArraySize(reqs), 2);
	alert = cJSON_GetArrayItem(reqs, 1);
	ck_assert_ptr_nonnull(
		strstr(cJSON_GetObjectItem(alert, "key")->valuestring, "alerts:"
								       "tell:"
								       "relay:"
								       "F1@"));
	body = cJSON_GetObjectItem(alert, "body")->valuestring;
	ck_assert_ptr_nonnull(strstr(body, "\"doc\":\"F1\""));
	ck_assert_ptr_nonnull(strstr(body, "\"step\":\"send\""));
	ck_assert_ptr_nonnull(strstr(body, "unknown item code"));
	ck_assert_ptr_nonnull(strstr(body, "\"was\":7"));
	cJSON_Delete(reqs);
}
END_TEST

START_TEST(failure_flow_failing_does_not_loop)
{
	h_probe_setup(&d, sink_port(sk), "automatic");
	h_write(&d, "flows/alerts.json",
		"{\"id\": \"alerts\", \"trigger\": {\"connection\": \"luong\", "
		"\"event\": \"document.failed\"}, \"steps\": [{\"id\": "
		"\"tell\", \"connection\": \"probe\", \"action\": \"deliver\","
		" \"input\": {\"doc\": \".document\"}}]}\n");
	ck_assert_int_eq(h_start(&d), 0);
	sink_set_mode(sk, SINK_REFUSE, 0, 0); /* refuses everything */
	ck_assert_int_eq(post_thing("L1", 1), 200);
	ck_assert(h_wait_status(&d, "relay", "L1", "failed", 5000));
	sleep(1);
	/* the relay's request, the alert's: nothing about the alert */
	ck_assert_int_eq(sink_total(sk), 2);
}
END_TEST

/* A connection whose init() fails at start (its target down) does not stop
 * the host: the rest runs, it is shown not started with the reason, its
 * webhooks answer 503, its flows' documents wait pending, and once its
 * init() succeeds on a later try they go. */
START_TEST(connection_down_at_start_comes_up_later)
{
	char down[512], url[160], *out = NULL;
	cJSON *j = NULL;
	FILE *f;

	snprintf(down, sizeof(down), "%s/target-down", d.dir);
	f = fopen(down, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	h_probe_setup(&d, sink_port(sk), "automatic");
	h_write(&d, "connections/flaky.json",
		"{\"plugin\": \"probe\", "
		"\"config\": {\"target\": \"http://127.0.0.1:%u\", "
		"\"fail_init_while\": \"%s\"}}\n",
		sink_port(sk), down);
	h_write(&d, "flows/relay.json",
		"{\"id\": \"relay\", \"trigger\": {\"connection\": \"probe\", "
		"\"event\": \"thing.saved\"}, \"steps\": [{\"id\": \"send\", "
		"\"connection\": \"flaky\", \"action\": \"deliver\", "
		"\"input\": {\"doc\": \".id\"}}]}\n");
	ck_assert_int_eq(h_start(&d), 0);
	ck_assert_int_eq(h_luong(&d, &out, "plugins"), 0);
	ck_assert_msg(strstr(out, "not ready: init failed: the target is down"),
		      "%s", out);
	free(out);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/hooks/flaky/", d.port);
	ck_assert_int_eq(h_http("POST", url, "{\"id\":\"F0\"}", NULL, &out),
			 503);
	free(out);
	ck_assert_int_eq(post_thing("F1", 1), 200);
	usleep(1500000);
	out = h_doc_status(&d, "relay", "F1");
	ck_assert_str_eq(out, "pending");
	free(out);
	ck_assert_int_eq(sink_total(sk), 0);
	ck_assert_int_eq(h_api(&d, "GET", "/flows", NULL, &j), 200);
	ck_assert_ptr_nonnull(
		strstr(cJSON_GetObjectItem(cJSON_GetArrayItem(j, 0), "unavailab"
								     "le")
			       ->valuestring,
		       "connection flaky is not "
		       "started: init failed: the target is down ("));
	cJSON_Delete(j);
	unlink(down);
	ck_assert(h_wait_status(&d, "relay", "F1", "synced", 15000));
	ck_assert(h_log_has(&d, "connection flaky: ready"));
	ck_assert_int_eq(h_stop(&d, SIGTERM), 0);
}
END_TEST

/* A LUONG_PLUGIN_SERIAL plugin whose webhook runs a guard with a step on
 * the same connection: answered, and SIGTERM still stops the host. */
START_TEST(serial_plugin_guard_calling_itself_answers)
{
	char from[512], to[512], url[160], *out = NULL;

	snprintf(from, sizeof(from), "%s/probe_serial.so", PLUGIN_DIR);
	snprintf(to, sizeof(to), "%s/plugins/probe_serial.so", d.dir);
	h_probe_setup(&d, sink_port(sk), "automatic");
	ck_assert_int_eq(symlink(from, to), 0);
	h_write(&d, "connections/serial.json",
		"{\"plugin\": \"probe-serial\", "
		"\"config\": {\"target\": \"http://127.0.0.1:%u\"}}\n",
		sink_port(sk));
	h_write(&d, "flows/guard.json",
		"{\"id\": \"guard\", \"trigger\": {\"connection\": \"serial\", "
		"\"event\": \"thing.guard\"}, \"steps\": [{\"id\": \"check\", "
		"\"connection\": \"serial\", \"action\": \"deliver\", "
		"\"input\": {\"doc\": \".id\"}}]}\n");
	ck_assert_int_eq(h_start(&d), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/hooks/serial/guard",
		 d.port);
	ck_assert_int_eq(h_http("POST", url, "{\"id\":\"S1\"}", NULL, &out),
			 200);
	ck_assert_msg(strstr(out, "\"allowed\":true"), "%s", out);
	free(out);
	ck_assert_int_eq(sink_effects(sk), 1);
	ck_assert_int_eq(h_stop(&d, SIGTERM), 0);
}
END_TEST

START_TEST(guard_answers_synchronously)
{
	char url[128], *out = NULL;
	cJSON *j;
	FILE *p;
	size_t n;

	h_probe_setup(&d, sink_port(sk), "automatic");
	h_write(&d, "flows/guard.json",
		"{\"id\": \"guard\", \"trigger\": {\"connection\": \"probe\", "
		"\"event\": \"thing.guard\"}, \"steps\": [{\"id\": \"check\", "
		"\"connection\": \"probe\", \"action\": \"deliver\", "
		"\"input\": {\"doc\": \".id\"}}]}\n");
	ck_assert_int_eq(h_start(&d), 0);
	out = calloc(1, 4096);
	for (int round = 0; round < 3; round++) {
		if (round == 1)
			sink_set_mode(sk, SINK_REFUSE, 1, 0);
		if (round == 2)
			sink_set_mode(sk, SINK_UNAVAILABLE, 5, 0);
		snprintf(url, sizeof(url),
			 "curl -s -X POST -d "
			 "'{\"id\":\"G%d\"}' "
			 "http://127.0.0.1:%u/hooks/probe/guard",
			 round, d.port);
		p = popen(url, "r");
		n = fread(out, 1, 4095, p);
		out[n] = '\0';
		pclose(p);
		j = cJSON_Parse(out);
		ck_assert_ptr_nonnull(j);
		ck_assert_int_eq(cJSON_IsTrue(cJSON_GetObjectItem(j, "allowe"
								     "d")),
				 round == 0);
		if (round == 1)
			ck_assert_ptr_nonnull(strstr(
				cJSON_GetObjectItem(j, "reason")->valuestring,
				"unknown item code"));
		if (round == 2)
			ck_assert_ptr_nonnull(strstr(
				cJSON_GetObjectItem(j, "reason")->valuestring,
				"could not check now"));
		cJSON_Delete(j);
	}
	free(out);
	ck_assert(h_wait_status(&d, "guard", "G0", "synced", 1000));
	ck_assert(h_wait_status(&d, "guard", "G1", "failed", 1000));
}
END_TEST

/* POST to the probe's /link: what host->links->find gave it (owned). */
/* POSTs body to a probe connection's webhook path; its JSON answer. */
static cJSON *probe_post(const char *conn, const char *path, const char *body)
{
	char url[128], *out = NULL;
	cJSON *j;

	snprintf(url, sizeof(url), "http://127.0.0.1:%u/hooks/%s%s", d.port,
		 conn, path);
	ck_assert_int_eq(h_http("POST", url, body, NULL, &out), 200);
	j = cJSON_Parse(out);
	ck_assert_msg(j != NULL, "not JSON: %s", out);
	free(out);
	return j;
}

static cJSON *probe_link(const char *kind, const char *id,
			 const char *other_kind)
{
	char body[256];

	snprintf(body, sizeof(body),
		 "{\"kind\": \"%s\", \"id\": \"%s\", "
		 "\"other_connection\": \"probe\", \"other_kind\": \"%s\"}",
		 kind, id, other_kind);
	return probe_post("probe", "/link", body);
}

/* A plugin asks the host what a record became, and back (ABI 1.2). */
START_TEST(links_plugin_reads_the_link_through_the_sdk)
{
	cJSON *j;

	h_write(&d, "connections/probe.json",
		"{\"plugin\": \"probe\", "
		"\"config\": {\"target\": \"http://127.0.0.1:%u\"}}\n",
		sink_port(sk));
	h_write(&d, "flows/relay.json",
		"{\"id\": \"relay\", \"trigger\": "
		"{\"connection\": \"probe\", \"event\": \"thing.saved\"}, "
		"\"steps\": [{\"id\": \"send\", \"connection\": \"probe\", "
		"\"action\": \"deliver\", \"input\": {\"doc\": \".id\"}, "
		"\"link\": {\"kind\": \"delivery\", \"id\": \".id\"}}]}\n");
	ck_assert_int_eq(h_start(&d), 0);
	ck_assert_int_eq(post_thing("t1", 1), 200);
	ck_assert(h_wait_status(&d, "relay", "t1", "synced", 5000));
	j = probe_link("thing", "t1", "delivery");
	ck_assert_str_eq(cJSON_GetObjectItem(j, "kind")->valuestring, "deliver"
								      "y");
	ck_assert_str_eq(cJSON_GetObjectItem(j, "id")->valuestring, "T1");
	ck_assert_str_eq(cJSON_GetObjectItem(j, "flow")->valuestring, "relay");
	cJSON_Delete(j);
	j = probe_link("delivery", "T1", "thing");
	ck_assert_str_eq(cJSON_GetObjectItem(j, "id")->valuestring, "t1");
	cJSON_Delete(j);
	j = probe_link("thing", "t2", "delivery");
	ck_assert(cJSON_IsNull(j));
	cJSON_Delete(j);
}
END_TEST

/* luong/status.h's codes the probe answers with (the SDK headers are not
 * on this test's path; they never change, tests/sdk/abi_asserts.c) */
#define ST_OK 0
#define ST_INVAL (-1)
#define ST_NOTFOUND (-11)

/* A plugin's request() (ABI 1.2) from connection `conn`; its status. */
static int probe_request(const char *conn, const char *flow, const char *id)
{
	char body[256];
	cJSON *j;
	int st;

	snprintf(body, sizeof(body),
		 flow ? "{\"flow\": \"%s\", \"id\": "
			"\"%s\"}"
		      : "{%s\"id\": \"%s\"}",
		 flow ? flow : "", id);
	j = probe_post(conn, "/request", body);
	st = cJSON_GetObjectItem(j, "status")->valueint;
	cJSON_Delete(j);
	return st;
}

/* A person's push from the source system reaches only the flows its
 * own connection triggers: another connection's documents stay. */
START_TEST(plugin_request_pushes_only_its_own_connections_documents)
{
	char body[64];

	h_probe_setup(&d, sink_port(sk), "manual");
	h_write(&d, "connections/other.json",
		"{\"plugin\": \"probe\", "
		"\"config\": {\"target\": \"http://127.0.0.1:%u\"}}\n",
		sink_port(sk));
	h_write(&d, "flows/other.json",
		"{\"id\": \"other\", \"mode\": "
		"\"manual\", \"trigger\": {\"connection\": \"other\", "
		"\"event\": \"thing.saved\"}, \"steps\": [{\"id\": \"send\", "
		"\"connection\": \"other\", \"action\": \"deliver\", "
		"\"input\": {\"doc\": \".id\"}}]}\n");
	ck_assert_int_eq(h_start(&d), 0);
	snprintf(body, sizeof(body), "{\"id\":\"X1\",\"n\":1}");
	ck_assert_int_eq(h_hook(&d, "probe", "/", body), 200);
	ck_assert_int_eq(h_hook(&d, "other", "/", body), 200);
	ck_assert(h_wait_status(&d, "relay", "X1", "pending", 2000));
	ck_assert(h_wait_status(&d, "other", "X1", "pending", 2000));
	/* "other" names probe's flow: refused, nothing sent */
	ck_assert_int_eq(probe_request("other", "relay", "X1"), ST_INVAL);
	/* "other" asks for its own: only its flow sends it */
	ck_assert_int_eq(probe_request("other", NULL, "X1"), ST_OK);
	ck_assert(h_wait_status(&d, "other", "X1", "synced", 5000));
	usleep(300000);
	ck_assert(h_wait_status(&d, "relay", "X1", "pending", 100));
	ck_assert_int_eq(sink_key_count(sk, "relay:send:X1"), 0);
	/* nothing waits any more for "other" */
	ck_assert_int_eq(probe_request("other", NULL, "X1"), ST_NOTFOUND);
	/* probe's own ask sends probe's */
	ck_assert_int_eq(probe_request("probe", "relay", "X1"), ST_OK);
	ck_assert(h_wait_status(&d, "relay", "X1", "synced", 5000));
	ck_assert_int_eq(sink_key_count(sk, "relay:send:X1"), 1);
}
END_TEST

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
	tcase_add_test(tc, manual_waits_until_pushed);
	tcase_add_test(tc, mode_switch_survives_restart);
	tcase_add_test(tc, disabled_ignores_triggers);
	tcase_add_test(tc, kill9_after_accept_loses_nothing);
	tcase_add_test(tc, kill9_mid_action_duplicates_nothing);
	tcase_add_test(tc, transient_faults_retry_with_backoff);
	tcase_add_test(tc, retry_after_is_honoured);
	tcase_add_test(tc, permanent_fault_fails_without_retry);
	tcase_add_test(tc, pending_result_arrives_by_callback);
	tcase_add_test(tc, offline_target_gets_everything_in_order);
	tcase_add_test(tc, flows_reload_without_restart);
	tcase_add_test(tc, echo_two_way_edits_cross_once_and_never_loop);
	tcase_add_test(tc, push_all_reports_progress_and_a_summary);
	tcase_add_test(tc, replay_gives_back_events_of_a_disabled_time);
	tcase_add_test(tc, metrics_count_per_flow);
	tcase_add_test(tc, admin_api_needs_token);
	tcase_add_test(tc, poll_keeps_its_cursor);
	tcase_add_test(tc, onchange_resend_sends_the_edit_as_an_update);
	tcase_add_test(tc, onchange_resend_edit_while_sending_is_sent_after);
	tcase_add_test(tc, onchange_flag_keeps_todays_behaviour);
	tcase_add_test(tc, pull_unchanged_records_are_not_sent_again);
	tcase_add_test(tc, failure_event_reaches_a_flow_of_its_own);
	tcase_add_test(tc, failure_flow_failing_does_not_loop);
	tcase_add_test(tc, guard_answers_synchronously);
	tcase_add_test(tc, links_plugin_reads_the_link_through_the_sdk);
	tcase_add_test(tc, secrets_stay_out_of_logs_and_ledger);
	tcase_add_test(tc, oversized_webhook_refused);
	tcase_add_test(tc, required_input_mapped_to_null_fails_unsent);
	tcase_add_test(tc, serial_plugin_guard_calling_itself_answers);
	tcase_add_test(tc, connection_down_at_start_comes_up_later);
	suite_add_tcase(s, tc);
	/* SDK 1.2 request(): CK_RUN_CASE=request runs it alone */
	tc = tcase_create("request");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(
		tc, plugin_request_pushes_only_its_own_connections_documents);
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

/*
 * test_host_reliability.c - the host when things go wrong: killed with
 * SIGKILL after accepting or mid-action, targets that fail for a while,
 * throttle, refuse, answer later by callback or are away, failures that
 * reach a flow of their own, and a connection down when the host starts.
 * The deployment is host_fixture.c's.
 */
#define _GNU_SOURCE
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host_fixture.h"

/* ---- crashes: kill -9 ---------------------------------------------------- */

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

/* ---- faults and retries -------------------------------------------------- */

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

/* ---- answers later, targets away ----------------------------------------- */

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

/* ---- failure events (issue 8) -------------------------------------------- */

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

/* ---- a connection down at start ------------------------------------------ */

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

static Suite *host_suite(void)
{
	Suite *s = suite_create("host");
	TCase *tc = tcase_create("flows");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, kill9_after_accept_loses_nothing);
	tcase_add_test(tc, kill9_mid_action_duplicates_nothing);
	tcase_add_test(tc, transient_faults_retry_with_backoff);
	tcase_add_test(tc, retry_after_is_honoured);
	tcase_add_test(tc, permanent_fault_fails_without_retry);
	tcase_add_test(tc, pending_result_arrives_by_callback);
	tcase_add_test(tc, offline_target_gets_everything_in_order);
	tcase_add_test(tc, failure_event_reaches_a_flow_of_its_own);
	tcase_add_test(tc, failure_flow_failing_does_not_loop);
	tcase_add_test(tc, connection_down_at_start_comes_up_later);
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

/*
 * test_host_control.c - what a person and a plugin do to the host: the
 * modes (manual, automatic, disabled) and the CLI's push, replay and
 * reload, the admin API and /metrics, and the plugin SDK's calls into the
 * host: typed inputs, guards, links and request(). The deployment is
 * host_fixture.c's.
 */
#define _GNU_SOURCE
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "host_fixture.h"

/* ---- modes and the CLI --------------------------------------------------- */

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

/* ---- the admin API and /metrics ------------------------------------------ */

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

/* ---- plugins calling the host (SDK 1.2) ---------------------------------- */

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

/* POST to the probe's /link: what host->links->find gave it (owned). */
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

static Suite *host_suite(void)
{
	Suite *s = suite_create("host");
	TCase *tc = tcase_create("flows");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, manual_waits_until_pushed);
	tcase_add_test(tc, mode_switch_survives_restart);
	tcase_add_test(tc, disabled_ignores_triggers);
	tcase_add_test(tc, flows_reload_without_restart);
	tcase_add_test(tc, push_all_reports_progress_and_a_summary);
	tcase_add_test(tc, replay_gives_back_events_of_a_disabled_time);
	tcase_add_test(tc, metrics_count_per_flow);
	tcase_add_test(tc, admin_api_needs_token);
	tcase_add_test(tc, guard_answers_synchronously);
	tcase_add_test(tc, links_plugin_reads_the_link_through_the_sdk);
	tcase_add_test(tc, required_input_mapped_to_null_fails_unsent);
	tcase_add_test(tc, serial_plugin_guard_calling_itself_answers);
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

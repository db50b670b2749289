/*
 * test_runner.c - running one document's steps, without a process,
 * threads or HTTP: a real store and flow set, and an in-process plugin
 * whose action answers what each test scripts. Checks what the ledger
 * and the job say after each kind of answer, and complete().
 */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine_int.h"
#include "runtime.h"
#include "store.h"
#include "util.h"

/* ---- an in-process plugin ---------------------------------------------- */

static struct {
	enum luong_status answer;
	uint32_t retry_after_ms;
	int calls;
	uint32_t last_attempt;
	char last_key[256];
	char *last_input;
} act;

static enum luong_status fake_send(struct luong_call *call, void *state,
				   const cJSON *input, cJSON **output)
{
	(void)state;
	act.calls++;
	act.last_attempt = call->attempt;
	util_strlcpy(act.last_key, call->key, sizeof(act.last_key));
	free(act.last_input);
	act.last_input = cJSON_PrintUnformatted(input);
	if (act.answer == LUONG_OK || act.answer == LUONG_PENDING) {
		*output = cJSON_CreateObject();
		cJSON_AddStringToObject(*output, "id", "T-1");
	} else {
		snprintf(call->error, sizeof(call->error), "scripted %s",
			 luong_status_text(act.answer));
		call->retry_after_ms = act.retry_after_ms;
	}
	return act.answer;
}

static const struct luong_event_def events[] = {
	{ .name = "thing.saved", .kind = LUONG_EVENT_WEBHOOK },
	{ 0 },
};
static const struct luong_action_def actions[] = {
	{ .name = "send", .description = "scripted answers", .run = fake_send },
	{ 0 },
};
static const struct luong_plugin desc = {
	LUONG_PLUGIN_HEADER, .name = "fake",	 .version = "1",
	.events = events,    .actions = actions,
};

/* ---- a runtime around it ---------------------------------------------- */

static char dir[64];
static struct runtime rt;
static struct plugin plug = { .desc = &desc };
static struct luong_ctx ctx = { .name = "t", .plugin = &plug, .ready = true };
static struct luong_ctx *conns[] = { &ctx };
static struct engine *e;

static void write_file(const char *rel, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void setup(void)
{
	struct store_opts so = { 0 };
	struct flow_catalog cat;
	struct flow_errors errs = { 0 };
	struct flow_set *set = NULL;
	char path[128], flows[128], err[256];

	memset(&act, 0, sizeof(act));
	snprintf(dir, sizeof(dir), "/tmp/luong-ut-runner-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(flows, sizeof(flows), "%s/flows", dir);
	ck_assert_int_eq(mkdir(flows, 0700), 0);
	write_file("flows/relay.json",
		   "{\"id\": \"relay\", \"mode\": \"automatic\", \"trigger\":"
		   " {\"connection\": \"t\", \"event\": \"thing.saved\"},"
		   " \"steps\": [{\"id\": \"send\", \"connection\": \"t\","
		   " \"action\": \"send\", \"input\": {\"doc\": \".id\","
		   " \"twice\": \".n * 2\"}}],"
		   " \"on_error\": {\"backoff\": {\"initial\": \"100ms\","
		   " \"max\": \"1s\"}}}\n");
	memset(&rt, 0, sizeof(rt));
	rt.conf.wait_timeout_s = 60;
	rt.conns = conns;
	rt.n_conns = 1;
	ctx.rt = &rt;
	pthread_mutex_init(&ctx.serial, NULL);
	snprintf(path, sizeof(path), "%s/luong.db", dir);
	so.path = path;
	ck_assert_msg(store_open(&so, &rt.store, err, sizeof(err)) == 0, "%s",
		      err);
	engine_catalog(&rt, &cat);
	ck_assert_int_eq(flow_set_load(flows, NULL, &cat, &set, &errs), 0);
	e = engine_new(&rt, set);
	rt.engine = e;
}

static void teardown(void)
{
	char cmd[128];

	engine_free(e);
	store_close(rt.store);
	pthread_mutex_destroy(&ctx.serial);
	free(act.last_input);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* A stored pending document "D1" of the relay flow. */
static void ingest(const char *payload)
{
	struct ingest_flow f = { .flow_id = "relay", .selected = true };
	struct ingest_event ev = { .connection = "t",
				   .event = "thing.saved",
				   .doc_id = "D1",
				   .payload = payload,
				   .flows = &f,
				   .n_flows = 1 };

	ck_assert_int_eq(store_ingest(rt.store, &ev, 1, NULL), 0);
}

/* Runs the document as a worker would; the job's outcome. */
static enum job_outcome run(enum job_kind kind, int64_t *retry_at)
{
	struct job *j = job_new(kind, "relay", "D1", NULL, 1, 0);
	enum job_outcome o;

	run_doc(e, j, false);
	store_flush(rt.store);
	o = j->outcome;
	if (retry_at)
		*retry_at = j->retry_at;
	job_free(j);
	return o;
}

static struct doc_row row(void)
{
	struct doc_row r;

	ck_assert_int_eq(store_get_doc(rt.store, "relay", "D1", &r), 0);
	return r;
}

static int history_count(const char *outcome)
{
	cJSON *h = store_history(rt.store, "relay", "D1"), *it;
	int n = 0;

	cJSON_ArrayForEach (it, h) {
		const cJSON *o = cJSON_GetObjectItem(it, "outcome");

		n += cJSON_IsString(o) && !strcmp(o->valuestring, outcome);
	}
	cJSON_Delete(h);
	return n;
}

/* ---- the tests ------------------------------------------------------------ */

START_TEST(runner_ok_maps_the_input_and_links_the_target)
{
	struct doc_row r;

	ingest("{\"id\": \"D1\", \"n\": 21}");
	act.answer = LUONG_OK;
	ck_assert_int_eq(run(JOB_DOC, NULL), OUT_SYNCED);
	ck_assert_str_eq(act.last_input, "{\"doc\":\"D1\",\"twice\":42}");
	ck_assert_str_eq(act.last_key, "relay:send:D1");
	ck_assert_uint_eq(act.last_attempt, 1);
	r = row();
	ck_assert_int_eq(r.status, DOC_SYNCED);
	ck_assert_str_eq(r.target, "{\"id\":\"T-1\"}");
	doc_row_free(&r);
	/* a synced document is not run again */
	ck_assert_int_eq(run(JOB_DOC, NULL), OUT_NOOP);
	ck_assert_int_eq(act.calls, 1);
}
END_TEST

START_TEST(runner_transient_fault_backs_off_honouring_retry_after)
{
	int64_t before = util_wall_ms(), at = 0;
	struct doc_row r;

	ingest("{\"id\": \"D1\", \"n\": 1}");
	act.answer = LUONG_E_TRANSIENT;
	act.retry_after_ms = 3000;
	ck_assert_int_eq(run(JOB_DOC, &at), OUT_RETRY);
	ck_assert_int_ge(at, before + 3000);
	r = row();
	ck_assert_int_eq(r.status, DOC_PENDING);
	ck_assert_ptr_nonnull(strstr(r.reason, "scripted"));
	ck_assert_int_eq(r.next_at, at);
	doc_row_free(&r);
	/* the next try is attempt 2, with the same idempotency key */
	act.answer = LUONG_OK;
	ck_assert_int_eq(run(JOB_DOC, NULL), OUT_SYNCED);
	ck_assert_uint_eq(act.last_attempt, 2);
	ck_assert_str_eq(act.last_key, "relay:send:D1");
}
END_TEST

START_TEST(runner_permanent_fault_fails_with_the_reason)
{
	struct doc_row r;

	ingest("{\"id\": \"D1\", \"n\": 1}");
	act.answer = LUONG_E_REMOTE;
	ck_assert_int_eq(run(JOB_DOC, NULL), OUT_FAILED);
	r = row();
	ck_assert_int_eq(r.status, DOC_FAILED);
	ck_assert_ptr_nonnull(strstr(r.reason, "step send (t.send): scripted"));
	doc_row_free(&r);
	ck_assert_int_eq(run(JOB_DOC, NULL), OUT_NOOP);
	ck_assert_int_eq(act.calls, 1);
}
END_TEST

START_TEST(runner_bad_input_fails_before_any_call)
{
	struct doc_row r;

	ingest("{\"id\": \"D1\", \"n\": {}}");
	act.answer = LUONG_OK;
	ck_assert_int_eq(run(JOB_DOC, NULL), OUT_FAILED);
	ck_assert_int_eq(act.calls, 0);
	r = row();
	ck_assert_ptr_nonnull(strstr(r.reason, "step send: input"));
	doc_row_free(&r);
}
END_TEST

START_TEST(runner_later_answer_completes_the_waiting_document)
{
	struct doc_row r;
	cJSON *out = cJSON_CreateObject();

	ingest("{\"id\": \"D1\", \"n\": 1}");
	act.answer = LUONG_PENDING;
	ck_assert_int_eq(run(JOB_DOC, NULL), OUT_WAITING);
	r = row();
	ck_assert_int_eq(r.status, DOC_SYNCING);
	ck_assert_str_eq(r.wait_key, "relay:send:D1");
	doc_row_free(&r);
	/* a job that finds it waiting leaves it waiting */
	ck_assert_int_eq(run(JOB_DOC, NULL), OUT_WAITING);
	ck_assert_int_eq(act.calls, 1);
	cJSON_AddStringToObject(out, "voucher", "V-9");
	ck_assert_int_eq(engine_complete(e, &ctx, "relay:send:D1", LUONG_OK,
					 out, NULL),
			 LUONG_OK);
	store_flush(rt.store);
	r = row();
	ck_assert_int_eq(r.status, DOC_SYNCED);
	ck_assert_str_eq(r.target, "{\"voucher\":\"V-9\"}");
	doc_row_free(&r);
	/* a second, late answer finds nobody waiting */
	ck_assert_int_eq(engine_complete(e, &ctx, "relay:send:D1",
					 LUONG_E_REMOTE, NULL, "late"),
			 LUONG_E_NOTFOUND);
	r = row();
	ck_assert_int_eq(r.status, DOC_SYNCED);
	doc_row_free(&r);
}
END_TEST

START_TEST(runner_wait_that_runs_out_sends_again)
{
	struct doc_row r;

	ingest("{\"id\": \"D1\", \"n\": 1}");
	act.answer = LUONG_PENDING;
	ck_assert_int_eq(run(JOB_DOC, NULL), OUT_WAITING);
	/* the scheduler brings it back when the wait has run out */
	act.answer = LUONG_OK;
	ck_assert_int_eq(run(JOB_WAIT, NULL), OUT_SYNCED);
	ck_assert_int_eq(act.calls, 2);
	ck_assert_uint_eq(act.last_attempt, 2);
	ck_assert_str_eq(act.last_key, "relay:send:D1");
	ck_assert_int_eq(history_count("timed-out"), 1);
	r = row();
	ck_assert_int_eq(r.status, DOC_SYNCED);
	ck_assert_ptr_null(r.wait_key);
	doc_row_free(&r);
}
END_TEST

static Suite *suite(void)
{
	Suite *su = suite_create("runner");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, runner_ok_maps_the_input_and_links_the_target);
	tcase_add_test(tc,
		       runner_transient_fault_backs_off_honouring_retry_after);
	tcase_add_test(tc, runner_permanent_fault_fails_with_the_reason);
	tcase_add_test(tc, runner_bad_input_fails_before_any_call);
	tcase_add_test(tc, runner_later_answer_completes_the_waiting_document);
	tcase_add_test(tc, runner_wait_that_runs_out_sends_again);
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

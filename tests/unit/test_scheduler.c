/*
 * test_scheduler.c - which document runs next, without threads or a
 * store: source order, order keys, a document backing off that others
 * pass, probing a failing target, waits that hold their key and time
 * out, answers that arrive while a document runs, pausing and dropping.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"
#include "scheduler.h"
#include "store.h"

static struct sched *s;
/* Jobs a test picked and has not ended: they are the test's to free. */
static struct job *held[64];
static size_t n_held;

static void setup(void)
{
	s = sched_new();
	sched_flow(s, "f");
}

static void teardown(void)
{
	while (n_held)
		job_free(held[--n_held]);
	sched_free(s);
	s = NULL;
}

static void add(const char *doc, const char *key, int64_t seq, int64_t due)
{
	ck_assert(sched_add(s, job_new(JOB_DOC, "f", doc, key, seq, due)));
}

/* Picks at `now`; the document id or NULL. The job stays running. */
static struct job *hold(struct job *j)
{
	if (j && j->kind != JOB_POLL)
		held[n_held++] = j;
	return j;
}

static struct job *pick(int64_t now)
{
	int64_t next;

	return hold(sched_pick(s, now, &next));
}

static void end(struct job *j, enum job_outcome o, int64_t retry_at,
		int64_t now)
{
	for (size_t i = 0; i < n_held; i++)
		if (held[i] == j)
			held[i] = held[--n_held];
	j->outcome = o;
	j->retry_at = retry_at;
	sched_done(s, j, now);
}

static void expect(struct job *j, const char *doc)
{
	ck_assert_msg(j != NULL, "expected %s, got nothing", doc);
	ck_assert_str_eq(j->doc_id, doc);
}

START_TEST(source_order_within_a_flow)
{
	add("b", NULL, 2, 0);
	add("a", NULL, 1, 0);
	add("c", NULL, 3, 0);
	expect(pick(10), "a");
	expect(pick(10), "b");
	expect(pick(10), "c");
	ck_assert_ptr_null(pick(10));
}
END_TEST

START_TEST(same_document_never_twice)
{
	struct job *j;

	add("a", NULL, 1, 0);
	ck_assert(!sched_add(s, job_new(JOB_DOC, "f", "a", NULL, 1, 0)));
	j = pick(10);
	expect(j, "a");
	end(j, OUT_SYNCED, 0, 10);
	ck_assert(sched_add(s, job_new(JOB_DOC, "f", "a", NULL, 1, 0)));
	ck_assert(!sched_add(s, job_new(JOB_DOC, "f", "a", NULL, 1, 0)));
}
END_TEST

/* Issue: one document being retried held its whole flow. */
START_TEST(stall_retrying_document_does_not_hold_others)
{
	struct job *j;

	add("a", NULL, 1, 0);
	add("b", NULL, 2, 0);
	add("c", NULL, 3, 0);
	j = pick(0);
	expect(j, "a");
	end(j, OUT_RETRY, 5000, 0);
	/* a backs off; b and c pass it */
	j = pick(1);
	expect(j, "b");
	end(j, OUT_SYNCED, 0, 1);
	j = pick(2);
	expect(j, "c");
	end(j, OUT_SYNCED, 0, 2);
	ck_assert_ptr_null(pick(3));
	expect(pick(5000), "a");
}
END_TEST

START_TEST(same_key_waits_behind_a_retry)
{
	struct job *j;

	add("o1-created", "order-1", 1, 0);
	add("o1-edited", "order-1", 2, 0);
	add("o2-created", "order-2", 3, 0);
	j = pick(0);
	expect(j, "o1-created");
	/* while it runs, the next event of order 1 waits; order 2 goes */
	expect(pick(0), "o2-created");
	end(j, OUT_RETRY, 1000, 0);
	ck_assert_ptr_null(pick(500));
	j = pick(1000);
	expect(j, "o1-created");
	end(j, OUT_SYNCED, 0, 1000);
	expect(pick(1000), "o1-edited");
}
END_TEST

START_TEST(repeated_faults_probe_one_at_a_time)
{
	struct job *j, *k;

	for (int i = 0; i < 5; i++) {
		char doc[8];

		snprintf(doc, sizeof(doc), "d%d", i);
		add(doc, NULL, i + 1, 0);
	}
	j = pick(0);
	k = pick(0);
	expect(j, "d0");
	expect(k, "d1");
	end(j, OUT_RETRY, 1000, 0);
	end(k, OUT_RETRY, 2000, 0);
	ck_assert(sched_probing(s, "f"));
	/* the target is in trouble: nothing before the back-off */
	ck_assert_ptr_null(pick(1500));
	/* then one probe at a time, never-tried documents first */
	j = pick(2000);
	expect(j, "d2");
	ck_assert_ptr_null(pick(2000));
	end(j, OUT_SYNCED, 0, 2000);
	ck_assert(!sched_probing(s, "f"));
	/* the target is back: the rest run at once, side by side */
	expect(pick(2001), "d0");
	expect(pick(2001), "d1");
	expect(pick(2001), "d3");
	expect(pick(2001), "d4");
}
END_TEST

START_TEST(probes_rotate_through_the_backlog)
{
	struct job *j;
	int tried[4] = { 0 };
	int64_t now = 0;

	for (int i = 0; i < 4; i++) {
		char doc[8];

		snprintf(doc, sizeof(doc), "d%d", i);
		add(doc, NULL, i + 1, 0);
	}
	/* a target down for good: 40 probes, each one fails */
	for (int n = 0; n < 40; n++) {
		int64_t next = 0;

		/* nothing due: look again when the scheduler says */
		while (!(j = hold(sched_pick(s, now, &next))) && now < 100000)
			now = next;
		ck_assert_ptr_nonnull(j);
		tried[j->doc_id[1] - '0']++;
		end(j, OUT_RETRY, now + 100 * (1 + tried[j->doc_id[1] - '0']),
		    now);
	}
	/* no document took all the attempts */
	for (int i = 0; i < 4; i++)
		ck_assert_int_ge(tried[i], 5);
}
END_TEST

/* Issue: a document whose callback never comes was not sent again while
 * the host ran; and one waiting held the flow. */
START_TEST(stall_waiting_document_times_out_and_holds_only_its_key)
{
	struct job *j;

	add("a", "k1", 1, 0);
	add("b", "k1", 2, 0);
	add("c", "k2", 3, 0);
	j = pick(0);
	expect(j, "a");
	end(j, OUT_WAITING, 60000, 0);
	/* a waits for its answer: b (same key) waits, c goes */
	j = pick(10);
	expect(j, "c");
	end(j, OUT_SYNCED, 0, 10);
	ck_assert_ptr_null(pick(59999));
	/* the wait ran out: a comes back to be sent again */
	j = pick(60000);
	expect(j, "a");
	ck_assert_int_eq(j->kind, JOB_WAIT);
	end(j, OUT_SYNCED, 0, 60000);
	expect(pick(60000), "b");
}
END_TEST

START_TEST(answer_ends_the_wait_and_frees_the_key)
{
	struct job *j, *cont;

	add("a", "k1", 1, 0);
	add("b", "k1", 2, 0);
	j = pick(0);
	end(j, OUT_WAITING, 60000, 0);
	ck_assert_ptr_null(pick(10));
	/* a one-step flow: the answer ends it */
	sched_complete(s, "f", "a", NULL);
	expect(pick(10), "b");
	ck_assert_uint_eq(sched_queued(s, "f"), 0);
	/* a flow with more steps goes on with a continuation */
	add("c", NULL, 3, 0);
	j = pick(20);
	expect(j, "c");
	end(j, OUT_WAITING, 60000, 20);
	cont = job_new(JOB_DOC, "f", "c", NULL, 3, 0);
	cont->continuation = true;
	sched_complete(s, "f", "c", cont);
	j = pick(30);
	expect(j, "c");
	ck_assert(j->continuation);
}
END_TEST

START_TEST(answer_while_running_is_not_lost)
{
	struct job *j, *cont;

	add("a", NULL, 1, 0);
	j = pick(0);
	/* the callback arrives before the worker has ended the job */
	cont = job_new(JOB_DOC, "f", "a", NULL, 1, 0);
	cont->continuation = true;
	sched_complete(s, "f", "a", cont);
	end(j, OUT_WAITING, 60000, 0);
	j = pick(1);
	expect(j, "a");
	ck_assert(j->continuation);
	ck_assert_int_eq(j->kind, JOB_DOC);
	end(j, OUT_SYNCED, 0, 1);
	/* a one-step answer while running: not queued as waiting */
	add("b", NULL, 2, 0);
	j = pick(2);
	sched_complete(s, "f", "b", NULL);
	end(j, OUT_WAITING, 60000, 2);
	ck_assert_uint_eq(sched_queued(s, "f"), 0);
}
END_TEST

/* Issue: a mode switch while a document waited stopped the flow. */
START_TEST(stall_requeue_of_a_waiting_document_is_ignored)
{
	struct job *j;

	add("a", NULL, 1, 0);
	add("b", NULL, 2, 0);
	j = pick(0);
	end(j, OUT_WAITING, 60000, 0);
	/* a mode switch queues what the store says must run: a again */
	ck_assert(!sched_add(s, job_new(JOB_DOC, "f", "a", NULL, 1, 0)));
	expect(pick(1), "b");
}
END_TEST

static bool keep_b(void *ud, const struct job *j)
{
	(void)ud;
	return !strcmp(j->doc_id, "b");
}

START_TEST(paused_flow_keeps_its_queue_and_drop_spares_waits)
{
	struct job *j;

	add("w", NULL, 1, 0);
	j = pick(0);
	end(j, OUT_WAITING, 60000, 0);
	add("a", NULL, 2, 0);
	add("b", NULL, 3, 0);
	sched_set_paused(s, "f", true);
	ck_assert_ptr_null(pick(1));
	sched_set_paused(s, "f", false);
	sched_drop(s, "f", keep_b, NULL);
	ck_assert_uint_eq(sched_queued(s, "f"), 2); /* w (waiting) and b */
	expect(pick(1), "b");
}
END_TEST

START_TEST(polls_first_and_unknown_flows_refused)
{
	struct job *p = job_new(JOB_POLL, NULL, NULL, NULL, 0, 0);

	add("a", NULL, 1, 0);
	sched_add_poll(s, p);
	ck_assert_ptr_eq(pick(0), p);
	sched_done(s, p, 0);
	ck_assert(!sched_add(s, job_new(JOB_DOC, "nope", "a", NULL, 1, 0)));
	expect(pick(0), "a");
}
END_TEST

START_TEST(refresh_drops_what_a_queued_job_carried)
{
	struct job *j = job_new(JOB_DOC, "f", "a", NULL, 1, 0);

	j->row = calloc(1, sizeof(*j->row));
	strcpy(j->payload_hash, "old");
	ck_assert(sched_add(s, j));
	sched_refresh(s, "f", "a");
	j = pick(0);
	expect(j, "a");
	ck_assert_ptr_null(j->row);
	ck_assert_str_eq(j->payload_hash, "");
}
END_TEST

START_TEST(runnable_again_while_running_runs_once_more)
{
	struct job *j;

	add("a", NULL, 1, 0);
	j = pick(0);
	/* a newer version to send arrives while it runs */
	ck_assert(!sched_add(s, job_new(JOB_DOC, "f", "a", NULL, 1, 0)));
	ck_assert(!sched_add(s, job_new(JOB_DOC, "f", "a", NULL, 1, 0)));
	end(j, OUT_SYNCED, 0, 1);
	j = pick(2);
	expect(j, "a");
	ck_assert_ptr_null(j->row);
	end(j, OUT_SYNCED, 0, 3);
	ck_assert_ptr_null(pick(4));
}
END_TEST

/* A target taking 1 call a second, one at a time: documents wait in the
 * queue, not in workers, and another flow's documents pass them. */
START_TEST(ratelimit_flow_without_room_is_skipped_until_its_target_has_some)
{
	struct ratelimit *rl = rl_new(1, 1, false);
	int64_t next = 0;
	struct job *j;

	sched_flow(s, "g");
	sched_set_limits(s, "f", &rl, 1);
	add("a", NULL, 1, 0);
	add("b", NULL, 2, 0);
	j = pick(10000);
	expect(j, "a");
	/* a's worker sends its call with the unit it holds */
	ck_assert_int_eq(rl_take(rl, 10000, rl_self()), 0);
	end(j, OUT_SYNCED, 0, 10000);
	ck_assert(sched_add(s, job_new(JOB_DOC, "g", "x", NULL, 3, 0)));
	/* no room for b: g's document goes, and f is looked at again
	 * when the target has room */
	j = hold(sched_pick(s, 10100, &next));
	expect(j, "x");
	ck_assert_ptr_null(sched_pick(s, 10100, &next));
	ck_assert_int_eq(next, 11000);
	expect(pick(11000), "b");
	rl_free(rl);
}
END_TEST

START_TEST(ratelimit_unit_a_document_did_not_use_goes_back)
{
	struct ratelimit *rl = rl_new(1, 1, false);
	struct job *j;

	sched_set_limits(s, "f", &rl, 1);
	add("a", NULL, 1, 0);
	add("b", NULL, 2, 0);
	j = pick(10000);
	expect(j, "a");
	ck_assert_ptr_null(pick(10000)); /* a's worker holds the room */
	/* a failed before it called the target: the room is b's */
	end(j, OUT_FAILED, 0, 10000);
	ck_assert(rl_level(rl, 10000) == 0.0);
	expect(pick(10000), "b");
	rl_free(rl);
}
END_TEST

static Suite *suite(void)
{
	Suite *su = suite_create("scheduler");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, source_order_within_a_flow);
	tcase_add_test(tc, same_document_never_twice);
	tcase_add_test(tc, stall_retrying_document_does_not_hold_others);
	tcase_add_test(tc, same_key_waits_behind_a_retry);
	tcase_add_test(tc, repeated_faults_probe_one_at_a_time);
	tcase_add_test(tc, probes_rotate_through_the_backlog);
	tcase_add_test(tc,
		       stall_waiting_document_times_out_and_holds_only_its_key);
	tcase_add_test(tc, answer_ends_the_wait_and_frees_the_key);
	tcase_add_test(tc, answer_while_running_is_not_lost);
	tcase_add_test(tc, stall_requeue_of_a_waiting_document_is_ignored);
	tcase_add_test(tc, paused_flow_keeps_its_queue_and_drop_spares_waits);
	tcase_add_test(tc, polls_first_and_unknown_flows_refused);
	tcase_add_test(tc, refresh_drops_what_a_queued_job_carried);
	tcase_add_test(tc, runnable_again_while_running_runs_once_more);
	tcase_add_test(
		tc,
		ratelimit_flow_without_room_is_skipped_until_its_target_has_some);
	tcase_add_test(tc, ratelimit_unit_a_document_did_not_use_goes_back);
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

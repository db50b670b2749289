/*
 * test_ratelimit.c - the per-connection bucket with a clock the test
 * sets: a burst then the steady rate, never above the target's own
 * bucket, units held for workers, the target's reports and its 429.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "ratelimit.h"

#define T0 1000000 /* any start; the bucket has no clock of its own */
#define ME 1
#define OTHER 2

/* Sends every call as soon as the bucket lets it, for `ms`; counts. */
static int send_for(struct ratelimit *rl, int64_t from, int64_t ms)
{
	int n = 0;

	for (int64_t t = from; t < from + ms; t++)
		while (rl_take(rl, t, ME) == 0)
			n++;
	return n;
}

START_TEST(ratelimit_burst_then_the_steady_rate)
{
	struct ratelimit *rl = rl_new(4, 80, true);

	/* one unit of headroom below the target's 80 */
	ck_assert_int_eq(send_for(rl, T0, 1), 79);
	ck_assert_int_gt(rl_take(rl, T0, ME), T0);
	/* then 4 a second: 40 in the next ten seconds */
	ck_assert_int_eq(send_for(rl, T0 + 1, 10000), 40);
	rl_free(rl);
}
END_TEST

/* The target's own bucket, as the Haravan emulator keeps it. */
struct target {
	double level, cap, leak;
	int64_t last;
};

static bool target_takes(struct target *t, int64_t now)
{
	t->level -= t->leak * (double)(now - t->last) / 1000.0;
	if (t->level < 0)
		t->level = 0;
	t->last = now;
	if (t->level + 1 > t->cap)
		return false;
	t->level += 1;
	return true;
}

static int by_time(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

START_TEST(ratelimit_backlog_never_overfills_the_target_bucket)
{
	struct ratelimit *rl = rl_new(4, 80, true);
	struct target tg = { .cap = 80, .leak = 4, .last = T0 };
	static int64_t arrive[1000];
	size_t sent = 0;

	/* calls reach the target 0 to 400 ms after they leave, some
	 * overtaking others: the target never counts more than the host */
	for (int64_t t = T0; t < T0 + 60000; t++)
		while (rl_take(rl, t, ME) == 0) {
			ck_assert_uint_lt(sent, 1000);
			arrive[sent] = t + (sent * 7919) % 401;
			sent++;
		}
	qsort(arrive, sent, sizeof(*arrive), by_time);
	for (size_t i = 0; i < sent; i++)
		ck_assert_msg(target_takes(&tg, arrive[i]), "429 at +%lld ms",
			      (long long)(arrive[i] - T0));
	/* and the allowed rate is used: 79 + 4/s for 60 s */
	ck_assert_uint_ge(sent, 79 + 4 * 60 - 2);
	rl_free(rl);
}
END_TEST

START_TEST(ratelimit_a_fixed_rate_spaces_calls_evenly)
{
	struct ratelimit *rl = rl_new(2, 1, false);

	ck_assert_int_eq(rl_take(rl, T0, ME), 0);
	ck_assert_int_eq(rl_take(rl, T0 + 100, ME), T0 + 500);
	ck_assert_int_eq(rl_take(rl, T0 + 500, ME), 0);
	ck_assert_int_eq(rl_ready_at(rl, T0 + 500), T0 + 1000);
	rl_free(rl);
}
END_TEST

START_TEST(ratelimit_no_rate_paces_nothing)
{
	struct ratelimit *rl = rl_new(0, 0, false);

	for (int i = 0; i < 10000; i++)
		ck_assert_int_eq(rl_take(rl, T0, ME), 0);
	ck_assert_int_eq(rl_ready_at(rl, T0), T0);
	rl_free(rl);
}
END_TEST

START_TEST(ratelimit_a_held_unit_is_used_by_its_worker_or_given_back)
{
	struct ratelimit *rl = rl_new(1, 3, false);

	/* room for 2 (3 less the headroom) */
	ck_assert(rl_hold(rl, T0, ME));
	ck_assert(rl_hold(rl, T0, OTHER));
	ck_assert(!rl_hold(rl, T0, 3));
	/* the worker's request uses its unit: no wait, nothing added */
	ck_assert_int_eq(rl_take(rl, T0, ME), 0);
	ck_assert(rl_level(rl, T0) == 2.0);
	/* its next request counts anew and must wait */
	ck_assert_int_eq(rl_take(rl, T0, ME), T0 + 1000);
	/* the other worker sent nothing: its unit comes back */
	rl_release(rl, OTHER);
	ck_assert(rl_level(rl, T0) == 1.0);
	rl_release(rl, ME); /* nothing held any more: no change */
	ck_assert(rl_level(rl, T0) == 1.0);
	ck_assert_int_eq(rl_take(rl, T0, 3), 0);
	rl_free(rl);
}
END_TEST

START_TEST(ratelimit_learns_the_target_use_from_its_header)
{
	struct ratelimit *rl = rl_new(4, 80, true);

	ck_assert_int_eq(rl_take(rl, T0, ME), 0);
	/* another client of the shop used most of the bucket */
	ck_assert_int_eq(rl_report(rl, T0, "78/80"), 0);
	ck_assert(rl_level(rl, T0) == 78.0);
	ck_assert_int_eq(rl_take(rl, T0, ME), 0);
	ck_assert_int_eq(rl_take(rl, T0, ME), T0 + 250);
	/* a lower report does not lower ours: calls may be on their way */
	ck_assert_int_eq(rl_report(rl, T0, "3/80"), 0);
	ck_assert(rl_level(rl, T0) == 79.0);
	/* a bigger bucket is learnt ... */
	ck_assert_int_eq(rl_report(rl, T0, "79/160"), 0);
	ck_assert(rl_capacity(rl) == 160.0);
	ck_assert_int_eq(rl_take(rl, T0, ME), 0);
	ck_assert_int_eq(rl_report(rl, T0, "32 of 80"), -1);
	ck_assert_int_eq(rl_report(rl, T0, "32/80x"), -1);
	rl_free(rl);
	/* ... unless a person set the burst */
	rl = rl_new(4, 40, false);
	ck_assert_int_eq(rl_report(rl, T0, "0/80"), 0);
	ck_assert(rl_capacity(rl) == 40.0);
	rl_free(rl);
}
END_TEST

START_TEST(ratelimit_retry_after_pauses_every_call)
{
	struct ratelimit *rl = rl_new(0, 0, false);

	ck_assert(rl_hold(rl, T0, OTHER));
	rl_pause(rl, T0, T0 + 2000);
	ck_assert_int_eq(rl_paused_until(rl, T0 + 10), T0 + 2000);
	ck_assert_int_eq(rl_ready_at(rl, T0 + 10), T0 + 2000);
	ck_assert_int_eq(rl_take(rl, T0 + 10, ME), T0 + 2000);
	/* a held unit waits too, and is not lost */
	ck_assert_int_eq(rl_take(rl, T0 + 10, OTHER), T0 + 2000);
	ck_assert(!rl_hold(rl, T0 + 1999, ME));
	ck_assert_int_eq(rl_paused_until(rl, T0 + 2000), 0);
	ck_assert_int_eq(rl_take(rl, T0 + 2000, OTHER), 0);
	ck_assert_int_eq(rl_take(rl, T0 + 2000, ME), 0);
	rl_free(rl);
}
END_TEST

START_TEST(ratelimit_429_fills_the_bucket)
{
	struct ratelimit *rl = rl_new(4, 80, true);

	rl_pause(rl, T0, T0 + 300);
	/* full: 80 less the headroom needs 2 units drained, 500 ms */
	ck_assert_int_eq(rl_ready_at(rl, T0 + 300), T0 + 500);
	rl_free(rl);
}
END_TEST

START_TEST(ratelimit_reads_retry_after_as_seconds_or_a_date)
{
	ck_assert_int_eq(rl_retry_after_ms("2", 0), 2000);
	ck_assert_int_eq(rl_retry_after_ms("0.3", 0), 300);
	ck_assert_int_eq(rl_retry_after_ms("2.0 ", 0), 2000);
	/* Wed, 21 Oct 2015 07:28:00 GMT is 1445412480 */
	ck_assert_int_eq(rl_retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT",
					   1445412480000LL - 5000),
			 5000);
	ck_assert_int_eq(rl_retry_after_ms("soon", 0), -1);
	ck_assert_int_eq(rl_retry_after_ms(NULL, 0), -1);
}
END_TEST

static Suite *ratelimit_suite(void)
{
	Suite *s = suite_create("ratelimit");
	TCase *tc = tcase_create("bucket");

	tcase_add_test(tc, ratelimit_burst_then_the_steady_rate);
	tcase_add_test(tc, ratelimit_backlog_never_overfills_the_target_bucket);
	tcase_add_test(tc, ratelimit_a_fixed_rate_spaces_calls_evenly);
	tcase_add_test(tc, ratelimit_no_rate_paces_nothing);
	tcase_add_test(
		tc, ratelimit_a_held_unit_is_used_by_its_worker_or_given_back);
	tcase_add_test(tc, ratelimit_learns_the_target_use_from_its_header);
	tcase_add_test(tc, ratelimit_retry_after_pauses_every_call);
	tcase_add_test(tc, ratelimit_429_fills_the_bucket);
	tcase_add_test(tc, ratelimit_reads_retry_after_as_seconds_or_a_date);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ratelimit_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

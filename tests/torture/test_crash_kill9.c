/*
 * test_crash_kill9.c - W3 through the real emulators while the host is
 * killed with SIGKILL at random moments (seeded) and started again each
 * time: while it takes webhooks, while it waits for MISA's callbacks,
 * while it marks notes in Kho, and while it is down notes keep coming.
 * In the end every note has exactly one voucher in MISA and the ledger
 * names it.
 *
 *   TORTURE_DOCS (200)  notes saved
 *   TORTURE_KILLS (20)  SIGKILLs of the host
 *   TORTURE_SEED        repeat a run (the seed is printed)
 */
#define _GNU_SOURCE
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "torture.h"

static struct tort t;

static void setup(void)
{
	tort_setup(&t, NULL);
}

static void teardown(void)
{
	tort_teardown(&t);
}

/* Kills the host a random while from now, saves a few notes while it is
 * down, and starts it again. Returns how many notes it saved. */
static int crash_once(char **notes, int have, int room)
{
	int down = (int)tort_rand(&t, 4);

	usleep(tort_rand(&t, 400) * 1000);
	ck_assert_int_eq(h_stop(&t.d, SIGKILL), 128 + SIGKILL);
	if (down > room)
		down = room;
	for (int i = 0; i < down; i++)
		notes[have + i] = tort_note(&t, false);
	tort_restart(&t);
	return down;
}

START_TEST(crash_kill9_every_note_has_exactly_one_voucher)
{
	int docs = (int)tort_env("TORTURE_DOCS", 200);
	int kills = (int)tort_env("TORTURE_KILLS", 20);
	/* kill points over the saving and the draining after it */
	int span = docs + docs / 4, n = 0, k = 0, *at;
	char **notes = calloc((size_t)docs, sizeof(*notes));
	long long t0 = h_now_ms();

	tort_seed(&t, "torture_crash_kill9");
	at = calloc((size_t)kills, sizeof(*at));
	for (int i = 0; i < kills; i++)
		at[i] = (int)tort_rand(&t, (unsigned)span);
	for (int pos = 0; pos < span; pos++) {
		if (pos < docs && n < docs)
			notes[n++] = tort_note(&t, false);
		for (int i = 0; i < kills; i++)
			if (at[i] == pos) {
				n += crash_once(notes, n, docs - n);
				k++;
			}
		if (pos >= docs)
			usleep(20000); /* draining: kills land in the backlog */
	}
	ck_assert_int_eq(n, docs);
	ck_assert_int_eq(k, kills);
	tort_say("torture_crash_kill9: %d notes, %d kills in %.1f s", n, k,
		 (h_now_ms() - t0) / 1000.0);
	ck_assert_msg(tort_wait_all(&t, notes, n, "synced", 60000 + n * 100L),
		      "not every note synced after the crashes");
	/* the last mark in Kho may still be on its way */
	usleep(500000);
	tort_assert_one_voucher_each(&t, notes, n, 0);
	tort_say("torture_crash_kill9: all synced, one voucher each, %.1f s",
		 (h_now_ms() - t0) / 1000.0);
	/* the last host ends cleanly (and the sanitizers find nothing) */
	ck_assert_int_eq(h_stop(&t.d, SIGTERM), 0);
	for (int i = 0; i < n; i++)
		free(notes[i]);
	free(notes);
	free(at);
}
END_TEST

int main(void)
{
	const TTest *const tests[] = {
		crash_kill9_every_note_has_exactly_one_voucher,
	};

	return tort_run("torture_crash_kill9", setup, teardown, tests, 1);
}

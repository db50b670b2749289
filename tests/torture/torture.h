/*
 * torture.h - shared parts of the torture tests: W3 (issue notes in AMIS
 * Kho become inventory issue vouchers in MISA) deployed with the real
 * `luong` host, the in-tree plugins and luong-sandbox (MISA and Kho) as
 * separate processes; notes saved as a Kho user would; what MISA, Kho and
 * the ledger hold compared at the end.
 */
#ifndef LUONG_TORTURE_H
#define LUONG_TORTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <check.h>
#include <cjson/cJSON.h>

#include "harness.h"

#define W3 "issue-note-to-accounting"
#define W3F "issue-note-sync-failed"
#define KHO_SECRET "torture-kho-webhook-secret"

struct tort {
	struct deploy d;
	pid_t sbx_pid;
	char sbx_dir[64];
	int port_misa, port_kho;
	uint64_t rng;
};

/* A knob for longer manual runs: the environment's value, else dflt. */
long tort_env(const char *name, long dflt);
/* A line on stdout, printf-style, flushed at once. */
void tort_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Seeds t's generator from TORTURE_SEED or the clock, and prints it. */
void tort_seed(struct tort *t, const char *test);
/* A pseudo-random number in [0, n). */
unsigned tort_rand(struct tort *t, unsigned n);

/* The sandbox, a deployment with W3 (automatic) and its failure half on
 * a fixed free port, the host started and the emulators' webhooks and
 * MISA's callback pointed at it. data_dir: where the store lives (var/
 * links to it), NULL for the default. */
void tort_setup(struct tort *t, const char *data_dir);
/* Stops every process tort_setup started and removes its folders. */
void tort_teardown(struct tort *t);
/* The host once more after a stop or crash; fails the test otherwise. */
void tort_restart(struct tort *t);

/* method + path on an emulator ("misa" or "kho"); the reply or NULL. */
cJSON *tort_sbx(struct tort *t, const char *emu, const char *method,
		const char *path, const char *body);
/* POST /_sandbox/faults (or DELETE with body NULL); asserts it took. */
void tort_faults(struct tort *t, const char *emu, const char *body);
/* GET /_sandbox/state; asserts an answer. */
cJSON *tort_state(struct tort *t, const char *emu);

/* A Kho user saves an other-issue note of 1-3 random lines; its number,
 * owned. bad: one line names an item MISA does not know (SP999). */
char *tort_note(struct tort *t, bool bad);
/* Teaches Kho the item SP999 that MISA refuses (for tort_note bad). */
void tort_seed_bad_item(struct tort *t);

/* An issue_note.saved event for this note (an object as Kho holds it)
 * signed as Kho signs, sent to the host; the HTTP status (0: no answer)
 * and whether the answer had a Retry-After. */
long tort_kho_event(struct tort *t, const cJSON *issue_note,
		    const char *event_id, bool *retry_after);
/* The note as Kho holds it now, owned. */
cJSON *tort_kho_note(struct tort *t, const char *note);

/* Waits until every note has a ledger row in `status`; false if some
 * have not within ms (the first few laggards printed). */
bool tort_wait_all(struct tort *t, char **notes, int n, const char *status,
		   long ms);
/* The ledger row of one W3 document with its history, owned. */
cJSON *tort_doc(struct tort *t, const char *flow, const char *doc);
/* History entries of a document with this outcome. */
int tort_history_count(const cJSON *doc, const char *outcome);

/* Asserts exactly one generated MISA voucher per note and none for
 * anything else, each with the note's lines; the ledger row synced and
 * naming MISA's refid and refno; the Kho note synced with that refno.
 * others: notes of this run MISA refused (one voucher request each). */
void tort_assert_one_voucher_each(struct tort *t, char **notes, int n,
				  int others);

/* Runs the tests in one case with the fixture (setup may be NULL) and
 * the TORTURE_TIMEOUT (default 540 s); the exit status for main. */
int tort_run(const char *name, void (*setup)(void), void (*teardown)(void),
	     const TTest *const *tests, int n);

const char *tort_jstr(const cJSON *o, const char *key);
double tort_jnum(const cJSON *o, const char *key);

#endif

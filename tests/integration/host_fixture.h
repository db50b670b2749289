/*
 * host_fixture.h - what the test_host*.c stories share: the real `luong`
 * process in a fresh folder (d) against an in-process sink (sk), made and
 * removed per test (setup, teardown), the probe's relay flow, webhooks sent
 * to it, and a document's history read back from the ledger. One
 * deployment per process, as Check forks each test.
 */
#ifndef LUONG_TEST_HOST_FIXTURE_H
#define LUONG_TEST_HOST_FIXTURE_H

#include "harness.h"
#include "sink.h"

/* The host under test and the target it delivers to, made by setup(). */
extern struct deploy d;
extern struct sink *sk;

/* Check fixture: a fresh sink and deployment folder; the host not started. */
void setup(void);
void teardown(void);

/* The probe connection and the one-step relay flow in `mode`, started. */
void start_relay(const char *mode);
/* A thing.saved webhook {id, n} to the probe; the HTTP status. */
long post_thing(const char *id, int n);
/* History lines of a document with this outcome, by the admin API. */
int history_count_in(const char *flow, const char *doc, const char *outcome);
/* The same for the relay flow. */
int history_count(const char *doc, const char *outcome);

#endif

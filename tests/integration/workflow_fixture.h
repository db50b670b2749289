/*
 * workflow_fixture.h - the AMIS Workflow deployment shared by the
 * test_workflow*.c stories: a fresh sandbox and host per test (setup,
 * teardown), HTTP to the emulators, and the small steps of the stories.
 * One deployment per process, in `d`, as Check forks each test.
 */
#ifndef LUONG_TEST_WORKFLOW_FIXTURE_H
#define LUONG_TEST_WORKFLOW_FIXTURE_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "harness.h"

#define SRC_DIR FIXTURES "/../../.."

#define W1 "order-to-warehouse"
#define W1R "revenue-recall-guard"
#define W2 "warehouse-status-to-crm"
#define W3 "issue-note-to-accounting"
#define W3F "issue-note-sync-failed"

/* The host under test, started by setup(). */
extern struct deploy d;

/* ---- HTTP to the sandbox ---- */

/* method + path on an emulator; the parsed reply (owned) or NULL. */
cJSON *sbx(const char *emu, const char *method, const char *path,
	   const char *body);
/* A user's act in CRM or Kho; asserts it was accepted. */
cJSON *act(const char *emu, const char *name, const char *body);
/* An emulator's /_sandbox/state (owned). */
cJSON *state(const char *emu);
/* MISA voucher requests for one org_refid (any status if NULL). */
int misa_requests_for(const char *refid, const char *status);
/* Requests the emulator served to a path (from its request log). */
int served(const char *emu, const char *path);

/* ---- the deployment ---- */

/* Where each emulator sends its events (and MISA its callbacks). */
void point_webhooks(const char *kho_extra);
/* Check fixture: sandbox, host, plugins, flows, mappings, connections. */
void setup(void);
void teardown(void);

/* ---- small steps of the stories ---- */

void cli_ok(const char *args);
/* Saves a revenue request on a CRM order; returns its number (owned). */
char *save_revenue_request(const char *order_no);
/* W1 for one order, waited for. */
void order_to_kho(const char *order_no);
/* A Kho user saves an issue note; returns its number (owned). */
char *save_note(const char *body);
/* An other-issue note of qty of item at KHO_HN; its number (owned). */
char *other_issue(const char *item, int qty);
/* W3's org_refid for a note (owned). */
char *refid_of(const char *note);
/* The note's accounting status code in Kho (owned). */
char *note_status(const char *note, char **error, char **ref);
bool wait_note_status(const char *note, const char *want, long ms);
/* A flow's ledger row for a document (owned). */
cJSON *ledger_doc(const char *flow, const char *doc);
int history_count(const char *flow, const char *doc, const char *outcome);
/* Documents of a flow the ledger holds as synced. */
int synced_count(const char *flow);
/* The links of a record, by the admin API (owned array). */
cJSON *links_of(const char *query);

#endif

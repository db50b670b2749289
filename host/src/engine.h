/*
 * engine.h - runs flows: turns stored events into ledger documents, runs
 * their steps on worker threads, retries with back-off, honours modes.
 *
 * Threads: workers take documents from the scheduler and run plugin
 * calls (which may block); webhook threads ingest events and queue what
 * became runnable; the libev loop (the caller of engine_run) keeps the
 * poll timers and the stop signal. The parts: see engine_int.h.
 */
#ifndef LUONG_ENGINE_H
#define LUONG_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <luong/luong.h>

#include "flow.h"
#include "store.h"

struct runtime;
struct engine;

/* One running action call: what the SDK calls struct luong_call. */
struct luong_call {
	struct luong_ctx *ctx;
	const char *key;
	const char *doc_id;
	uint32_t attempt;
	uint32_t flags;
	uint32_t retry_after_ms;
	uint32_t version;	      /* 1, or the edit resent */
	const cJSON *previous_output; /* this step's, for the last version */
	char suffix[16];	      /* number_suffix: "" or "-N" */
	char error[1024];
};

/* Takes ownership of `flows`. */
struct engine *engine_new(struct runtime *rt, struct flow_set *flows);
/* Queues the work left from the last run and starts workers and polls. */
int engine_start(struct engine *e);
/* Runs the loop until engine_stop(). */
void engine_run(struct engine *e);
/* Safe from any thread and from a signal handler. */
void engine_stop(struct engine *e);
/* Waits for workers; stops after engine_run returned. */
void engine_free(struct engine *e);

/* A flow triggered by a guard event (answered once, never re-run). */
bool engine_flow_is_guard(struct runtime *rt, const struct flow *f);
/* The host's own connection: flows may trigger on its events. */
#define HOST_CONNECTION "luong"
/* A document of any flow failed for good (see failure.c). */
#define HOST_EVENT_FAILED "document.failed"

/* The catalog flow validation uses: the runtime's connections, and the
 * host's own. */
void engine_catalog(struct runtime *rt, struct flow_catalog *cat);

/* ---- events from webhooks and polls ----------------------------------- */
struct emit_batch {
	struct luong_ctx *ctx;
	struct emit_item *items;
	size_t n, cap;
	bool sync;   /* emit_sync()'s: guard events allowed */
	bool polled; /* from poll(): unchanged records are passed over */
};
/* Between begin and end, the plugin's emit() on this thread goes into
 * `b`; commit stores everything durably (one group commit) and queues
 * what became runnable. */
void engine_emit_begin(struct emit_batch *b, struct luong_ctx *ctx);
enum luong_status engine_emit(struct luong_ctx *ctx, const char *event,
			      const char *doc_id, cJSON *payload);
int engine_emit_commit(struct engine *e, struct emit_batch *b,
		       const struct ingest_cursor *cursor);
void engine_emit_end(struct emit_batch *b);
/* The SDK's emit_sync: runs the triggered flows now (see luong/host.h). */
enum luong_status engine_emit_sync(struct luong_ctx *ctx, const char *event,
				   const char *doc_id, cJSON *payload,
				   cJSON **output, char **reason);

enum luong_status engine_complete(struct engine *e, struct luong_ctx *ctx,
				  const char *key, enum luong_status result,
				  cJSON *output, const char *reason);

/* A plugin's request (SDK events->request): push and/or retry (what:
 * LUONG_REQUEST_*) document `doc` in `flow`, or (NULL) every flow that
 * `connection` triggers; a flow of another trigger connection is
 * refused. LUONG_OK (queued somewhere), LUONG_E_NOTFOUND or
 * LUONG_E_INVAL. */
enum luong_status engine_request(struct engine *e, const char *connection,
				 const char *flow, const char *doc,
				 uint32_t what);

/* ---- control (admin API) ------------------------------------------------- */
cJSON *engine_flows_json(struct engine *e);
/* 0 ok, -1 with err (unknown flow / bad mode / store failure). */
int engine_set_mode(struct engine *e, const char *flow, const char *mode,
		    char *err, size_t errlen);
/* ids NULL = all. *result: {queued: [...], not_found: [...]} */
int engine_push(struct engine *e, const char *flow, const char *const *ids,
		size_t n, cJSON **result, char *err, size_t errlen);
int engine_retry(struct engine *e, const char *flow, const char *const *ids,
		 size_t n, bool ignore_warnings, cJSON **result, char *err,
		 size_t errlen);
/* How far a push or retry of many documents is (see progress.h), by the
 * "operation" id their answer gave; NULL if unknown. Owned. */
cJSON *engine_operation(struct engine *e, const char *id);
/* Gives the stored events of a flow's trigger received in [from_ms,
 * to_ms] to that flow again, e.g. events that came while it was
 * disabled. A document already in the flow's ledger is not changed (a
 * synced one whose content differs is flagged "changed after sync").
 * *result: {events, given_to_flow, queued}. */
int engine_replay(struct engine *e, const char *flow, int64_t from_ms,
		  int64_t to_ms, cJSON **result, char *err, size_t errlen);
/*
 * The go-live check (try.c). req: {"document": {...}} (the document as
 * JSON; "id" optional) or {"id": "..."} (the last stored event of that
 * document for the flow's trigger); "send": true runs it for real and
 * waits up to "wait_s" (default 30) for its outcome. A dry run writes
 * nothing. *result (owned): see docs/flows.md, "Trying a flow".
 * 0, or one of these with err:
 */
enum {
	TRY_E_REQUEST = -1,   /* the request is wrong (400) */
	TRY_E_NOT_FOUND = -2, /* no such flow or document (404) */
	TRY_E_CONFLICT = -3,  /* the flow is disabled (409) */
	TRY_E_INTERNAL = -4,  /* the store failed (500) */
};
int engine_try(struct engine *e, const char *flow, const cJSON *req,
	       cJSON **result, char *err, size_t errlen);

/* Codes of one connection's catalogue with no match in another's, and
 * back (codes.c; the request and answer are described there). 0 with
 * *result (owned), or -1 with err. Runs two read actions; writes nothing. */
int engine_codes(struct engine *e, const cJSON *req, cJSON **result, char *err,
		 size_t errlen);
/* Reloads flow files; on error keeps the running set and fills errs. */
int engine_reload(struct engine *e, struct flow_errors *errs);
bool engine_has_flow(struct engine *e, const char *flow);
/* Each step's input as the flow maps it now from a document's payload
 * and the step outputs it has: {step: input}, or {step: {"error": why}}
 * for one that cannot be mapped (yet). NULL for an unknown flow. */
cJSON *engine_step_inputs(struct engine *e, const char *flow,
			  const struct doc_row *row);
/* Prometheus text; owned. */
char *engine_metrics(struct engine *e);

#endif

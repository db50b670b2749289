/*
 * progress.h - long operations over many documents (push --all, retry of
 * a group) report how far they are: done / total, rate, time left, and a
 * summary at the end (synced, failed by reason).
 *
 * An operation is made when the documents are queued; each document's
 * end (synced or failed for good, seen where the runner records it)
 * counts towards the operations that hold it. Kept in memory: after a
 * restart the ledger still says where every document stands.
 */
#ifndef LUONG_PROGRESS_H
#define LUONG_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct progress;

struct progress *progress_new(void);
void progress_free(struct progress *p);

/* A new operation of `kind` ("push", "retry") over `n` documents of a
 * flow; returns its id (owned by the registry; valid while listed). */
const char *progress_start(struct progress *p, const char *flow,
			   const char *kind, const char *const *docs, size_t n,
			   int64_t now_ms);
/* A document ended: synced (reason NULL) or failed for good. */
void progress_note(struct progress *p, const char *flow, const char *doc,
		   bool synced, const char *reason, int64_t now_ms);
/* {id, flow, kind, total, done, synced, failed, failed_by_reason,
 * started_at, elapsed_s, rate_per_s, eta_s, finished}, or NULL. */
cJSON *progress_json(struct progress *p, const char *id, int64_t now_ms);

#endif

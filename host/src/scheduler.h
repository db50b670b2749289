/*
 * scheduler.h - which document runs next.
 *
 * Every flow has a queue of documents in source order (seq). What must
 * stay in order is a document's order key (the flow's `order_by`, by
 * default the document itself): a document waits while an earlier one
 * of the same key is queued, running, backing off or waiting for the
 * target's callback; documents of other keys pass it (SPEC B4).
 *
 * A flow whose target keeps failing (two transient faults in a row
 * with no success between) is probed one document at a time, no
 * sooner than the last fault's back-off, earliest due first, so a
 * target that is down or throttling sees one call at a time; the first
 * success lifts that. A document that alone keeps failing backs off by
 * itself and holds only its own key.
 *
 * The scheduler knows nothing of plugins or the store: the engine adds
 * jobs and tells it how each ended. All functions lock internally.
 */
#ifndef LUONG_SCHEDULER_H
#define LUONG_SCHEDULER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct doc_row;
struct ratelimit;

enum job_outcome {
	OUT_NONE, /* still running its steps */
	OUT_SYNCED,
	OUT_FAILED,
	OUT_RETRY,   /* transient: due again at retry_at */
	OUT_WAITING, /* sent; the target answers later (until retry_at) */
	OUT_NOOP,    /* nothing to do (already done) */
	OUT_GONE,    /* the flow or document no longer exists */
};

enum job_kind {
	JOB_DOC,  /* run the document's steps */
	JOB_WAIT, /* a document waiting for complete(): when due, its
			* wait timed out and it is sent again */
	JOB_POLL, /* run a poll trigger (`poll` is the engine's) */
};

struct job {
	enum job_kind kind;
	char *flow_id;
	char *doc_id;
	char *order_key; /* owned; never NULL for documents */
	int64_t seq;
	int64_t due;	   /* wall ms; 0 = now */
	void *poll;	   /* JOB_POLL: the engine's poll source */
	bool continuation; /* next steps after complete(): same attempt */
	/* read the ledger only after the writes queued before it are
	 * committed: the end of its last run may still be on its way */
	bool read_fresh;
	/* set by the engine when the job ends */
	enum job_outcome outcome;
	int64_t retry_at; /* OUT_RETRY / OUT_WAITING: when due again */
	/* engine data carried with the job */
	struct doc_row *row;   /* known at ingest: saves a read (owned) */
	char payload_hash[65]; /* of row->payload, to catch a newer one */
	/* rate limits with a unit held for the worker (scheduler's own) */
	struct ratelimit **held;
	size_t n_held;
	uintptr_t holder;
	struct job *next, *prev; /* scheduler's own */
};

/* order_key NULL = the document id. */
struct job *job_new(enum job_kind kind, const char *flow, const char *doc,
		    const char *order_key, int64_t seq, int64_t due);
void job_free(struct job *j);

struct sched;

struct sched *sched_new(void);
/* Frees queued jobs; running ones belong to their workers. */
void sched_free(struct sched *s);

/* Declares a flow (idempotent). A paused flow keeps its queue but
 * dispatches nothing (disabled, or not in the current flow set). */
void sched_flow(struct sched *s, const char *flow);
void sched_set_paused(struct sched *s, const char *flow, bool paused);

/* The rate limits of the connections a flow's steps call (ratelimit.h;
 * borrowed, they outlive the scheduler). A document of the flow is
 * handed to a worker only while each has room, and the worker then
 * holds one unit of each for its first request, so workers do not wait
 * on a limit holding documents that others could run; when there is no
 * room, the scheduler looks again when there will be. Replaces the
 * flow's list; n = 0 clears it. */
void sched_set_limits(struct sched *s, const char *flow,
		      struct ratelimit *const *rls, size_t n);

/* Queues a document unless it is queued or running already (then the
 * job is freed and false returned; a running one runs once more when it
 * ends, reading the ledger anew). Unknown flows: freed, false. */
bool sched_add(struct sched *s, struct job *j);
/* Poll jobs run before documents. */
void sched_add_poll(struct sched *s, struct job *j);

/* The next job due at `now`, or NULL with *next = when to look again.
 * For tests and for sched_take. Units of rate limits are held for the
 * calling thread, which must be the one that runs the job. */
struct job *sched_pick(struct sched *s, int64_t now, int64_t *next);
/* Blocks until a job is due or sched_stop(); NULL when stopping. */
struct job *sched_take(struct sched *s);
/* A worker finished `j` (j->outcome set): frees it or queues it again
 * (retry: at retry_at; waiting: as JOB_WAIT until retry_at). */
void sched_done(struct sched *s, struct job *j, int64_t now);
/* Wakes every sched_take() to return NULL. */
void sched_stop(struct sched *s);

/* Drops a flow's queued documents for which keep() is false (a switch
 * to manual or disabled); running and waiting ones stay. */
void sched_drop(struct sched *s, const char *flow,
		bool (*keep)(void *ud, const struct job *j), void *ud);

/* A waiting document got its answer: its JOB_WAIT entry is removed, or,
 * if it is running right now, it is not queued again when it ends.
 * `cont` (owned, may be NULL) is the job that goes on with the next
 * step: queued now, or when the running one ends. */
void sched_complete(struct sched *s, const char *flow, const char *doc,
		    struct job *cont);

/* The document changed in the ledger (a newer version arrived before
 * it was sent): a queued job drops what it carried of the old one and
 * reads the ledger when it runs. */
void sched_refresh(struct sched *s, const char *flow, const char *doc);

/* For tests and metrics: jobs queued (all kinds but polls) in a flow,
 * and whether the flow is being probed after repeated faults. */
size_t sched_queued(struct sched *s, const char *flow);
bool sched_probing(struct sched *s, const char *flow);

#endif

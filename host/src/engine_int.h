/*
 * engine_int.h - what the engine's parts share; not for other modules.
 *
 * The parts: engine.c (life cycle, flow set, modes, push/retry/reload),
 * scheduler.c (which document next), runner.c (running a document's
 * steps, complete()), ingest.c (events from webhooks and polls, guards,
 * replay), poll.c (poll timers), metrics.c (metrics and flow listings),
 * try.c (the go-live check: one document tried, or sent for real).
 */
#ifndef LUONG_ENGINE_INT_H
#define LUONG_ENGINE_INT_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <ev.h>

#include "engine.h"
#include "progress.h"
#include "scheduler.h"

#define LATENCY_BUCKETS 12

/* Run-time state of one flow id; kept across reloads. */
struct flow_rt {
	char *id;
	_Atomic int mode; /* enum flow_mode */
	_Atomic uint64_t received, synced, failed, retried, skipped;
	_Atomic uint64_t lat_count, lat_sum_ms, lat_bucket[LATENCY_BUCKETS];
	struct flow_rt *next;
};

struct poll_src {
	char *connection, *event;
	uint32_t every_s;
	atomic_bool running; /* a poll job is queued or running */
	ev_timer timer;
	struct engine *e;
	struct poll_src *next;
};

/* The current flow set, counted so in-flight work keeps its own. */
struct flows_ref {
	struct flow_set *set;
	int refs;
};

struct running_key {
	char *key;
	struct running_key *next;
};

struct engine {
	struct runtime *rt;
	struct ev_loop *loop;
	ev_async wake;	    /* stop, or rebuild the poll timers */
	pthread_mutex_t mu; /* flows ref, flow_rt list */
	struct flows_ref *flows;
	struct flow_rt *rts;
	struct sched *sched;
	struct poll_src *polls; /* loop thread only */
	atomic_bool polls_dirty;
	volatile sig_atomic_t stop_requested; /* the loop ends */
	pthread_t *threads;
	unsigned n_threads;
	/* calls in progress, so complete() can wait for their record */
	pthread_mutex_t run_mu;
	pthread_cond_t run_cv;
	struct running_key *running;
	/* links claimed whose claim is not committed yet (links.c) */
	pthread_mutex_t links_mu;
	struct link_claim *claims;
	uint64_t claims_gen;
	struct progress *progress; /* push --all and the like, how far */
	/* writes expected back as echoes, newest first (echo.c) */
	pthread_mutex_t echo_mu;
	struct echo_mark *echoes;
};

/* engine.c */
struct flows_ref *flows_acquire(struct engine *e);
void flows_release(struct engine *e, struct flows_ref *r);
struct flow_rt *rt_get(struct engine *e, const char *id);
/* A document job from a ledger reference. */
struct job *job_from_ref(const char *flow, const struct doc_ref *ref);

/* runner.c */
void run_doc(struct engine *e, struct job *j, bool sync);
void running_wait(struct engine *e, const char *key);
/* An action's idempotency key, <flow>:<step>:<document>, and for a
 * version after the first (on_change: resend) <...>@<version>. Owned. */
char *call_key_for(const char *flow, const char *step, const char *doc,
		   uint32_t version);
/* The variables a flow's expressions see for a document of the trigger
 * (connection, event), with `outputs` (borrowed) as $steps and the last
 * version's outputs as $previous (NULL: null). Owned. */
cJSON *runner_vars(const struct flow *f, const char *doc_id, const char *event,
		   const char *connection, const cJSON *outputs,
		   const cJSON *previous);
/* Evaluates `tmpl` (the step's input, or the go-live check's copy of it)
 * on the document: 0 with *input (owned), or -1 with *reason (owned),
 * "step <id>: input: <why>". */
int runner_step_input(const struct flow_step *step, struct expr *tmpl,
		      const cJSON *doc, const cJSON *vars, cJSON **input,
		      char **reason);

/* ingest.c */
/* Gives one document to flow f alone, as an event of its trigger: the
 * stored event `seq` again, or (seq 0) a new one. The one-effect rules
 * of ingest hold. *queued: it was queued to run. 0 or -1. */
int ingest_for_flow(struct engine *e, const struct flow_set *set,
		    const struct flow *f, const char *doc_id,
		    const char *payload, int64_t seq, bool *queued);

/* ingest.c: an event of the host's own connection, stored and given
 * to the flows it triggers. Consumes payload. */
int engine_emit_host(struct engine *e, const char *event, const char *doc_id,
		     cJSON *payload);

/* failure.c: tells the flows triggered by document.failed; `kind` is
 * "failed" or "post_failed" (made but not posted). */
void failure_emit(struct engine *e, const struct flow *flow,
		  const struct doc_row *row, const char *kind,
		  const char *step_id, const char *reason,
		  const cJSON *outputs);

/* poll.c */
void poll_sources_rebuild(struct engine *e);
void poll_sources_free(struct engine *e);
void run_poll(struct engine *e, struct poll_src *p);
/* Poll timers belong to the loop thread: ask it to rebuild them. */
void request_polls_rebuild(struct engine *e);

/* metrics.c */
void latency_observe(struct flow_rt *f, int64_t ms);

/* links.c: record links around a step that makes a linked record */
struct link_claim;
/* After the workers stopped: the store's queued claims are committed. */
void links_fini(struct engine *e);
enum link_check {
	LINK_MAKE, /* claimed: the step makes it */
	LINK_MADE, /* made already (*held): the step is not called */
	LINK_BUSY, /* another document is making it (*held) */
	LINK_ERROR,
};
enum link_check link_before_step(struct engine *e, const struct flow *f,
				 const struct flow_step *st,
				 const struct doc_row *row, struct link *held);
/* Records what the step made, from its output. */
void link_after_step(struct engine *e, const struct flow *f,
		     const struct flow_step *st, const struct doc_row *row,
		     const cJSON *output, const cJSON *vars);
/* A document that failed gives back the links it was making. */
void link_release(struct engine *e, const struct flow *f, const char *doc_id);
/* For a step not called: the output that made the link (owned), and
 * the history lines saying who made it or is making it (owned). */
cJSON *link_step_output(const struct link *held);
char *link_made_note(const struct link *held);
char *link_busy_note(const struct link *held);
/* echo.c: echo suppression (SPEC B13) */
/* Hash of x's value on doc (object members sorted), or NULL. Owned. */
char *echo_hash(struct expr *x, const cJSON *doc, const cJSON *vars);
/* A linked write with content `hash` is about to be made to connection
 * by flow: its report is an echo even before the link says so. */
void echo_expect(struct engine *e, const char *connection, const char *flow,
		 const char *hash);
void echo_fini(struct engine *e);
/* Why the event of doc_id with content `hash` is an echo of the host's
 * own write into the flow's trigger connection (owned), or NULL. */
char *echo_of(struct engine *e, const struct flow *f, const char *doc_id,
	      const char *hash);
/* expr_eval with link() answered from the store (vars gets "links"). */
int link_eval(struct engine *e, const struct flow *f, const struct doc_row *row,
	      struct expr *x, const cJSON *doc, cJSON *vars, cJSON **out,
	      char *err, size_t errlen);

#endif

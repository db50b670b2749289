/*
 * engine.c - the flow engine.
 *
 * A document's journey: an event is stored with its ledger row before
 * the webhook is answered (store_ingest); runnable documents are queued
 * per flow in source order; a worker picks the next one and runs the
 * flow's steps, each action getting an idempotency key that is the same
 * on every retry and after a crash; the outcome goes to the ledger. The
 * queues live under one lock the workers take to pick their next
 * document, so a document costs no thread hand-off; the libev loop keeps
 * the poll timers and the stop signal.
 *
 * Ordering (SPEC B4): within a flow, documents are dispatched in the
 * order they arrived. When one meets a transient fault, later ones wait
 * behind it until it is due again, and the flow then sends its backlog
 * one document at a time until the backlog is gone, so a target that
 * comes back receives them in order; then it runs concurrently again.
 */
#define _GNU_SOURCE /* vasprintf, strndup, open_memstream */
#include "engine.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include "log.h"
#include "runtime.h"
#include "util.h"

enum outcome { OUT_NONE, OUT_SYNCED, OUT_FAILED, OUT_RETRY, OUT_WAITING,
	       OUT_NOOP, OUT_GONE };

struct poll_src;

struct job {
	char *flow_id;
	char *doc_id;
	int64_t seq;
	int64_t due;            /* wall ms; 0 = now */
	struct poll_src *poll;  /* a poll job instead of a document */
	enum outcome outcome;
	int64_t retry_at;
	struct doc_row *row;    /* known at ingest: saves a read (owned) */
	bool continuation;      /* next steps after complete(): same attempt */
	char payload_hash[65];  /* of row->payload, to catch a newer one */
	struct job *next, *prev; /* in its flow's queue */
};

/* Run-time state of one flow id; kept across reloads. */
struct flow_rt {
	char *id;
	_Atomic int mode;       /* enum flow_mode */
	bool present;           /* in the current flow set */
	struct job *head;       /* queued documents, by seq */
	struct job *tail;       /* new documents append here in O(1) */
	int64_t blocked_until;  /* a transient fault holds later documents */
	bool recovering;        /* after a fault: one at a time, in order */
	int running;
	_Atomic uint64_t received, synced, failed, retried, skipped;
	_Atomic uint64_t lat_count, lat_sum_ms, lat_bucket[12];
	struct flow_rt *next;
};

static const double lat_bounds_s[12] = { 0.001, 0.0025, 0.005, 0.01, 0.025,
					 0.05,	0.1,	0.25,  0.5,  1,	    5,
					 30 };

struct poll_src {
	char *connection, *event;
	uint32_t every_s;
	bool running;
	ev_timer timer;
	struct engine *e;
	struct poll_src *next;
};

struct flows_ref {
	struct flow_set *set;
	int refs;
};

/* Documents queued or running, so none is dispatched twice. */
#define TRACK_BUCKETS 4096
struct track {
	char *key;
	struct track *next;
};

struct running_key {
	char *key;
	struct running_key *next;
};

struct engine {
	struct runtime *rt;
	struct ev_loop *loop;
	ev_async wake;           /* stop, or rebuild the poll timers */
	pthread_mutex_t mu;      /* flows ref, flow_rt list */
	struct flows_ref *flows;
	struct flow_rt *rts;
	struct poll_src *polls;  /* loop thread only */
	/* the scheduler: every flow's queue, shared by the workers */
	pthread_mutex_t sched_mu;
	pthread_cond_t sched_cv; /* workers wait for due work */
	struct track *tracked[TRACK_BUCKETS];
	struct job *poll_jobs;   /* polls due: taken before documents */
	struct flow_rt *rr;      /* where the next pick starts (fairness) */
	bool polls_dirty;
	bool stopping;           /* workers end */
	volatile sig_atomic_t stop_requested; /* the loop ends */
	pthread_t *threads;
	unsigned n_threads;
	/* calls in progress, so complete() can wait for their record */
	pthread_mutex_t run_mu;
	pthread_cond_t run_cv;
	struct running_key *running;
};

static __thread struct emit_batch *current_batch;

struct emit_item {
	char *event;
	char *doc_id;
	char *payload;
};

/* ---- small helpers --------------------------------------------------- */

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static char *track_key(const char *flow, const char *doc)
{
	return xasprintf("%s\x1f%s", flow, doc);
}

/* Adds flow/doc to the tracked set; false if already there. */
static bool track_add(struct engine *e, const char *flow, const char *doc)
{
	char *key = track_key(flow, doc);
	struct track **b = &e->tracked[hash_str(key) % TRACK_BUCKETS], *t;

	for (t = *b; t; t = t->next)
		if (!strcmp(t->key, key)) {
			free(key);
			return false;
		}
	t = xmalloc(sizeof(*t));
	t->key = key;
	t->next = *b;
	*b = t;
	return true;
}

static void track_del(struct engine *e, const char *flow, const char *doc)
{
	char *key = track_key(flow, doc);
	struct track **p = &e->tracked[hash_str(key) % TRACK_BUCKETS], *t;

	for (; (t = *p); p = &t->next)
		if (!strcmp(t->key, key)) {
			*p = t->next;
			free(t->key);
			free(t);
			break;
		}
	free(key);
}

static struct job *job_new(const char *flow, const char *doc, int64_t seq,
			   int64_t due)
{
	struct job *j = xcalloc(1, sizeof(*j));

	j->flow_id = xstrdup(flow);
	j->doc_id = xstrdup(doc);
	j->seq = seq;
	j->due = due;
	return j;
}

static void job_free(struct job *j)
{
	if (j->row) {
		doc_row_free(j->row);
		free(j->row);
	}
	free(j->flow_id);
	free(j->doc_id);
	free(j);
}

static struct flows_ref *flows_acquire(struct engine *e)
{
	struct flows_ref *r;

	pthread_mutex_lock(&e->mu);
	r = e->flows;
	r->refs++;
	pthread_mutex_unlock(&e->mu);
	return r;
}

static void flows_release(struct engine *e, struct flows_ref *r)
{
	bool last;

	pthread_mutex_lock(&e->mu);
	last = --r->refs == 0;
	pthread_mutex_unlock(&e->mu);
	if (last) {
		flow_set_free(r->set);
		free(r);
	}
}

/* Caller holds e->mu. */
static struct flow_rt *rt_find(struct engine *e, const char *id)
{
	for (struct flow_rt *f = e->rts; f; f = f->next)
		if (!strcmp(f->id, id))
			return f;
	return NULL;
}

static struct flow_rt *rt_get(struct engine *e, const char *id)
{
	struct flow_rt *f;

	pthread_mutex_lock(&e->mu);
	f = rt_find(e, id);
	pthread_mutex_unlock(&e->mu);
	return f;
}

/* ---- the catalog flows are validated against --------------------------- */

static void list_names(char *buf, size_t len, const char *first,
		       size_t stride, size_t count)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < count && n < len; i++) {
		const char *name = *(const char *const *)(first + i * stride);

		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? ", " : "",
				      name);
	}
	if (!count)
		util_strlcpy(buf, "none", len);
}

static struct luong_ctx *catalog_conn(struct runtime *rt, const char *name,
				      char *msg, size_t len)
{
	struct luong_ctx *ctx = loader_connection(rt, name);
	char known[400];

	if (ctx && !ctx->ready) {
		snprintf(msg, len, "unknown connection \"%s\": it failed to "
			 "start (%s)", name, ctx->error);
		return NULL;
	}
	if (ctx)
		return ctx;
	{
		const char *names[64];
		size_t n = 0;

		for (size_t i = 0; i < rt->n_conns && n < 64; i++)
			names[n++] = rt->conns[i]->name;
		list_names(known, sizeof(known), (const char *)names,
			   sizeof(names[0]), n);
	}
	snprintf(msg, len, "unknown connection \"%s\" (known: %s)", name,
		 known);
	return NULL;
}

static int cat_event(void *ud, const char *conn, const char *event,
		     int *is_poll, char *msg, size_t len)
{
	struct luong_ctx *ctx = catalog_conn(ud, conn, msg, len);
	const struct luong_event_def *ev;
	char known[400];
	size_t n = 0;

	if (!ctx)
		return -1;
	ev = plugin_event(ctx->plugin, event);
	if (ev) {
		*is_poll = ev->kind == LUONG_EVENT_POLL;
		return 0;
	}
	for (const struct luong_event_def *d = ctx->plugin->desc->events;
	     d && d->name; d++)
		n++;
	list_names(known, sizeof(known),
		   (const char *)&ctx->plugin->desc->events[0].name,
		   sizeof(struct luong_event_def), n);
	snprintf(msg, len, "connection \"%s\" (plugin %s) has no event \"%s\" "
		 "(it offers: %s)", conn, ctx->plugin->desc->name, event,
		 known);
	return -1;
}

static int cat_action(void *ud, const char *conn, const char *action,
		      char *msg, size_t len)
{
	struct luong_ctx *ctx = catalog_conn(ud, conn, msg, len);
	char known[400];
	size_t n = 0;

	if (!ctx)
		return -1;
	if (plugin_action(ctx->plugin, action))
		return 0;
	for (const struct luong_action_def *d = ctx->plugin->desc->actions;
	     d && d->name; d++)
		n++;
	list_names(known, sizeof(known),
		   (const char *)&ctx->plugin->desc->actions[0].name,
		   sizeof(struct luong_action_def), n);
	snprintf(msg, len, "connection \"%s\" (plugin %s) has no action "
		 "\"%s\" (it offers: %s)", conn, ctx->plugin->desc->name,
		 action, known);
	return -1;
}

void engine_catalog(struct runtime *rt, struct flow_catalog *cat)
{
	cat->ud = rt;
	cat->check_event = cat_event;
	cat->check_action = cat_action;
}

/* ---- flow run-time states and modes ---------------------------------------- */

static enum flow_mode stored_mode(struct engine *e, const struct flow *f)
{
	char *m = NULL;
	enum flow_mode mode = f->mode;

	if (store_get_mode(e->rt->store, f->id, &m) == 0) {
		if (flow_mode_parse(m, &mode))
			mode = f->mode;
		free(m);
	}
	return mode;
}

/* Makes sure every flow of the set has a run-time state. Called before
 * the workers start, or with sched_mu held. */
static void sync_rts(struct engine *e, struct flow_set *set,
		     struct flow_rt ***added, size_t *n_added)
{
	*n_added = 0;
	*added = xcalloc(set->n + 1, sizeof(**added));
	pthread_mutex_lock(&e->mu);
	for (struct flow_rt *f = e->rts; f; f = f->next)
		f->present = false;
	pthread_mutex_unlock(&e->mu);
	for (size_t i = 0; i < set->n; i++) {
		const struct flow *fl = set->flows[i];
		struct flow_rt *f = rt_get(e, fl->id);

		if (!f) {
			f = xcalloc(1, sizeof(*f));
			f->id = xstrdup(fl->id);
			atomic_store(&f->mode, (int)stored_mode(e, fl));
			pthread_mutex_lock(&e->mu);
			f->next = e->rts;
			e->rts = f;
			pthread_mutex_unlock(&e->mu);
			(*added)[(*n_added)++] = f;
		} else {
			atomic_store(&f->mode, (int)stored_mode(e, fl));
		}
		f->present = true;
	}
}

/* ---- the scheduler (callers hold sched_mu unless said) ---------------- */

static void queue_insert(struct flow_rt *f, struct job *j)
{
	struct job *after = f->tail;

	/* from the tail back: documents arrive nearly in seq order (webhook
	 * threads finish their commits in any order, but close together) */
	while (after && after->seq > j->seq)
		after = after->prev;
	j->prev = after;
	j->next = after ? after->next : f->head;
	if (j->next)
		j->next->prev = j;
	else
		f->tail = j;
	if (after)
		after->next = j;
	else
		f->head = j;
}

static struct job *queue_pop(struct flow_rt *f)
{
	struct job *j = f->head;

	f->head = j->next;
	if (f->head)
		f->head->prev = NULL;
	else
		f->tail = NULL;
	j->next = j->prev = NULL;
	return j;
}

/* Queues a document unless it is queued or running already. */
static void sched_add_locked(struct engine *e, struct job *j)
{
	struct flow_rt *f = rt_get(e, j->flow_id);

	if (!f || !track_add(e, j->flow_id, j->doc_id)) {
		job_free(j); /* unknown flow, or already queued/running */
		return;
	}
	queue_insert(f, j);
	pthread_cond_signal(&e->sched_cv);
}

/* Takes sched_mu. */
static void sched_add(struct engine *e, struct job *j)
{
	pthread_mutex_lock(&e->sched_mu);
	sched_add_locked(e, j);
	pthread_mutex_unlock(&e->sched_mu);
}

/* Queues what the store says must run for one flow. Takes sched_mu. */
static void queue_runnable(struct engine *e, struct flow_rt *f)
{
	struct doc_ref *refs = NULL;
	size_t n = 0;
	int mode = atomic_load(&f->mode);

	if (mode == FLOW_DISABLED)
		return;
	if (store_runnable(e->rt->store, f->id, mode == FLOW_AUTOMATIC, &refs,
			   &n)) {
		log_error("flow %s: cannot read its queued documents", f->id);
		return;
	}
	pthread_mutex_lock(&e->sched_mu);
	for (size_t i = 0; i < n; i++) {
		if (refs[i].next_at)
			f->recovering = true; /* it was retrying before */
		sched_add_locked(e, job_new(f->id, refs[i].doc_id, refs[i].seq,
					    refs[i].next_at));
	}
	pthread_mutex_unlock(&e->sched_mu);
	doc_refs_free(refs, n);
}

/* Drops queued (not running) documents, e.g. after a switch to manual;
 * they stay pending in the store. `keep_pushed` keeps pushed ones. */
static void queue_drop(struct engine *e, struct flow_rt *f, bool keep_pushed)
{
	struct job *j = f->head, *next;

	for (; j; j = next) {
		struct doc_row row;
		bool keep = false;

		next = j->next;
		if (keep_pushed &&
		    store_get_doc(e->rt->store, f->id, j->doc_id, &row) == 0) {
			keep = row.pushed || row.status == DOC_SYNCING;
			doc_row_free(&row);
		}
		if (keep)
			continue;
		if (j->prev)
			j->prev->next = j->next;
		else
			f->head = j->next;
		if (j->next)
			j->next->prev = j->prev;
		else
			f->tail = j->prev;
		track_del(e, j->flow_id, j->doc_id);
		job_free(j);
	}
}

/* The next job a worker may run, or NULL with *next = when to look
 * again. Flows take turns; within a flow documents go in order. */
static struct job *sched_pick(struct engine *e, int64_t now, int64_t *next)
{
	struct flow_rt *start, *f;
	struct job *j;

	if ((j = e->poll_jobs)) {
		e->poll_jobs = j->next;
		return j;
	}
	*next = now + 1000;
	pthread_mutex_lock(&e->mu);
	start = e->rr ? e->rr : e->rts;
	pthread_mutex_unlock(&e->mu);
	for (f = start; f;) {
		j = f->head;
		if (j && atomic_load(&f->mode) != FLOW_DISABLED && f->present &&
		    !(f->recovering && f->running > 0)) {
			int64_t t = f->blocked_until > j->due ? f->blocked_until
							       : j->due;

			if (t <= now) {
				queue_pop(f);
				f->running++;
				e->rr = f->next;
				return j;
			}
			if (t < *next)
				*next = t;
		}
		pthread_mutex_lock(&e->mu);
		f = f->next ? f->next : e->rts;
		pthread_mutex_unlock(&e->mu);
		if (f == start)
			break;
	}
	return NULL;
}

static void poll_due(struct ev_loop *loop, ev_timer *w, int revents);

static void poll_sources_rebuild(struct engine *e)
{
	struct flows_ref *r = flows_acquire(e);
	struct poll_src *p, *next;

	for (p = e->polls; p; p = p->next)
		ev_timer_stop(e->loop, &p->timer);
	for (size_t i = 0; i < r->set->n; i++) {
		const struct flow *f = r->set->flows[i];
		struct luong_ctx *ctx = loader_connection(e->rt,
							  f->trigger_connection);
		const struct luong_event_def *ev;
		struct flow_rt *frt = rt_get(e, f->id);
		uint32_t every;

		if (!ctx || !frt || atomic_load(&frt->mode) == FLOW_DISABLED)
			continue;
		ev = plugin_event(ctx->plugin, f->trigger_event);
		if (!ev || ev->kind != LUONG_EVENT_POLL || !ev->poll)
			continue;
		every = f->every_s ? f->every_s : ev->default_interval_s;
		if (!every)
			every = 60;
		for (p = e->polls; p; p = p->next)
			if (!strcmp(p->connection, f->trigger_connection) &&
			    !strcmp(p->event, f->trigger_event))
				break;
		if (!p) {
			p = xcalloc(1, sizeof(*p));
			p->connection = xstrdup(f->trigger_connection);
			p->event = xstrdup(f->trigger_event);
			p->e = e;
			p->every_s = every;
			ev_timer_init(&p->timer, poll_due, 0., 0.);
			p->timer.data = p;
			p->next = e->polls;
			e->polls = p;
		} else if (p->every_s == 0 || every < p->every_s) {
			p->every_s = every;
		}
		p->timer.repeat = -1; /* mark active in this set */
	}
	flows_release(e, r);
	for (p = e->polls; p; p = next) {
		next = p->next;
		if (p->timer.repeat == -1) {
			/* first run soon after start, then every interval */
			ev_timer_set(&p->timer, 0.05, (double)p->every_s);
			ev_timer_start(e->loop, &p->timer);
		} else {
			p->every_s = 0; /* no flow uses it now: stays idle */
		}
	}
}

static void poll_due(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct poll_src *p = w->data;
	struct engine *e = p->e;
	struct job *j;

	pthread_mutex_lock(&e->sched_mu);
	if (!p->running && p->every_s) {
		p->running = true;
		j = xcalloc(1, sizeof(*j));
		j->poll = p;
		j->next = e->poll_jobs;
		e->poll_jobs = j;
		pthread_cond_signal(&e->sched_cv);
	}
	pthread_mutex_unlock(&e->sched_mu);
}

/* ---- finishing jobs, asking the loop ------------------------------------ */

static void latency_observe(struct flow_rt *f, int64_t ms)
{
	atomic_fetch_add(&f->lat_count, 1);
	atomic_fetch_add(&f->lat_sum_ms, (uint64_t)(ms < 0 ? 0 : ms));
	for (size_t i = 0; i < ARRAY_SIZE(lat_bounds_s); i++)
		if ((double)ms / 1000.0 <= lat_bounds_s[i])
			atomic_fetch_add(&f->lat_bucket[i], 1);
}

/* A worker finished a job (sched_mu held). */
static void sched_done(struct engine *e, struct job *j)
{
	struct flow_rt *f;

	if (j->poll) {
		j->poll->running = false;
		free(j);
		return;
	}
	f = rt_get(e, j->flow_id);
	if (f) {
		f->running--;
		if (j->outcome != OUT_RETRY && !f->head && !f->running)
			f->recovering = false; /* backlog drained */
	}
	track_del(e, j->flow_id, j->doc_id);
	if (f && j->outcome == OUT_RETRY) {
		/* back in its place; later documents wait behind it */
		j->due = j->retry_at;
		f->blocked_until = j->retry_at;
		f->recovering = true;
		if (j->row) { /* the ledger has moved on from the prefill */
			doc_row_free(j->row);
			free(j->row);
			j->row = NULL;
		}
		if (track_add(e, j->flow_id, j->doc_id)) {
			queue_insert(f, j);
			pthread_cond_signal(&e->sched_cv);
			return;
		}
	}
	if (f && f->head)
		pthread_cond_signal(&e->sched_cv);
	job_free(j);
}

/* Poll timers belong to the loop thread: ask it to rebuild them. */
static void request_polls_rebuild(struct engine *e)
{
	pthread_mutex_lock(&e->sched_mu);
	e->polls_dirty = true;
	pthread_mutex_unlock(&e->sched_mu);
	ev_async_send(e->loop, &e->wake);
}

static void on_wake(struct ev_loop *loop, ev_async *w, int revents)
{
	struct engine *e = w->data;
	bool stop, dirty;

	pthread_mutex_lock(&e->sched_mu);
	stop = e->stop_requested;
	dirty = e->polls_dirty;
	e->polls_dirty = false;
	pthread_mutex_unlock(&e->sched_mu);
	if (stop)
		ev_break(loop, EVBREAK_ALL);
	else if (dirty)
		poll_sources_rebuild(e);
}

/* ---- running a document (worker threads) ---------------------------------------- */

static void running_add(struct engine *e, const char *key)
{
	struct running_key *r = xmalloc(sizeof(*r));

	r->key = xstrdup(key);
	pthread_mutex_lock(&e->run_mu);
	r->next = e->running;
	e->running = r;
	pthread_mutex_unlock(&e->run_mu);
}

static void running_del(struct engine *e, const char *key)
{
	struct running_key **p, *r;

	pthread_mutex_lock(&e->run_mu);
	for (p = &e->running; (r = *p); p = &r->next)
		if (!strcmp(r->key, key)) {
			*p = r->next;
			free(r->key);
			free(r);
			break;
		}
	pthread_cond_broadcast(&e->run_cv);
	pthread_mutex_unlock(&e->run_mu);
}

static void running_wait(struct engine *e, const char *key)
{
	pthread_mutex_lock(&e->run_mu);
	for (;;) {
		struct running_key *r;

		for (r = e->running; r; r = r->next)
			if (!strcmp(r->key, key))
				break;
		if (!r)
			break;
		pthread_cond_wait(&e->run_cv, &e->run_mu);
	}
	pthread_mutex_unlock(&e->run_mu);
}

static char *call_key_for(const char *flow, const char *step,
			  const char *doc)
{
	return xasprintf("%s:%s:%s", flow, step, doc);
}

static cJSON *vars_for(const struct flow *f, const struct doc_row *row,
		       const cJSON *outputs)
{
	cJSON *v = cJSON_CreateObject();

	cJSON_AddItemToObject(v, "steps", cJSON_Duplicate(outputs, 1));
	cJSON_AddStringToObject(v, "document_id", row->doc_id);
	cJSON_AddStringToObject(v, "event", row->event);
	cJSON_AddStringToObject(v, "connection", row->connection);
	cJSON_AddStringToObject(v, "flow", f->id);
	return v;
}

static double rnd01(void)
{
	static __thread unsigned seed;

	if (!seed)
		seed = (unsigned)util_mono_ms() ^ (unsigned)pthread_self();
	return (double)rand_r(&seed) / ((double)RAND_MAX + 1.0);
}

struct run_state {
	struct engine *e;
	const struct flow *flow;
	struct doc_row *row;
	uint32_t attempt;
	cJSON *outputs;
	char *outputs_text;
	struct flow_rt *frt;
	bool sync;              /* a guard: no waiting, no retry later */
};

static const char *outputs_text(struct run_state *rs)
{
	free(rs->outputs_text);
	rs->outputs_text = cJSON_PrintUnformatted(rs->outputs);
	return rs->outputs_text;
}

/* A permanent failure of the document. */
static enum outcome fail_doc(struct run_state *rs, uint32_t step,
			     const char *step_id, const char *reason)
{
	struct doc_update u = {
		.flow_id = rs->flow->id, .doc_id = rs->row->doc_id,
		.status = DOC_FAILED, .attempts = rs->attempt,
		.reason = reason, .step = step, .outputs = outputs_text(rs),
		.h_step = step_id, .h_outcome = "failed", .h_detail = reason,
	};

	store_update_async(rs->e->rt->store, &u, NULL, NULL);
	if (rs->frt)
		atomic_fetch_add(&rs->frt->failed, 1);
	log_msg(LUONG_LOG_WARN, NULL, "flow=%s doc=%s outcome=failed "
		"attempt=%u reason=\"%s\"", rs->flow->id, rs->row->doc_id,
		rs->attempt, reason);
	return OUT_FAILED;
}

/* A transient fault: try again later, unless attempts are used up. */
static enum outcome retry_doc(struct run_state *rs, uint32_t step,
			      const char *step_id, const char *reason,
			      uint32_t min_delay_ms, int64_t *retry_at)
{
	const struct flow_retry *r = &rs->flow->retry;
	uint32_t delay = flow_retry_delay_ms(r, rs->attempt, rnd01());
	struct doc_update u = {
		.flow_id = rs->flow->id, .doc_id = rs->row->doc_id,
		.status = DOC_PENDING, .attempts = rs->attempt,
		.reason = reason, .step = step, .outputs = outputs_text(rs),
		.h_step = step_id, .h_outcome = "retry", .h_detail = reason,
	};

	if (rs->sync || (r->max_attempts && rs->attempt >= r->max_attempts)) {
		char *why = rs->sync
			? xasprintf("could not check now: %s", reason)
			: xasprintf("gave up after %u attempts: %s",
				    rs->attempt, reason);
		enum outcome o = fail_doc(rs, step, step_id, why);

		free(why);
		return o;
	}
	if (delay < min_delay_ms)
		delay = min_delay_ms; /* the target's Retry-After wins */
	*retry_at = util_wall_ms() + delay;
	u.next_at = *retry_at;
	store_update_async(rs->e->rt->store, &u, NULL, NULL);
	if (rs->frt)
		atomic_fetch_add(&rs->frt->retried, 1);
	log_msg(LUONG_LOG_INFO, NULL, "flow=%s doc=%s outcome=retry attempt=%u "
		"in_ms=%u reason=\"%s\"", rs->flow->id, rs->row->doc_id,
		rs->attempt, delay, reason);
	return OUT_RETRY;
}

static enum outcome synced_doc(struct run_state *rs, const cJSON *target)
{
	char *t = target ? cJSON_PrintUnformatted(target) : NULL;
	struct doc_update u = {
		.flow_id = rs->flow->id, .doc_id = rs->row->doc_id,
		.status = DOC_SYNCED, .attempts = rs->attempt,
		.step = (uint32_t)rs->flow->n_steps,
		.outputs = outputs_text(rs), .target = t,
		.h_outcome = "synced", .h_detail = t,
	};

	store_update_async(rs->e->rt->store, &u, NULL, NULL);
	if (rs->frt) {
		atomic_fetch_add(&rs->frt->synced, 1);
		latency_observe(rs->frt, util_wall_ms() - rs->row->created_at);
	}
	log_msg(LUONG_LOG_INFO, NULL, "flow=%s doc=%s outcome=synced attempt=%u",
		rs->flow->id, rs->row->doc_id, rs->attempt);
	free(t);
	return OUT_SYNCED;
}

static bool retryable(enum luong_status st)
{
	return st == LUONG_E_TRANSIENT || st == LUONG_E_TIMEOUT;
}

/* Runs one step; returns OUT_NONE to go on with the next one. */
static enum outcome run_step(struct run_state *rs, uint32_t i,
			     int64_t *retry_at)
{
	const struct flow_step *step = &rs->flow->steps[i];
	struct engine *e = rs->e;
	struct luong_ctx *ctx = loader_connection(e->rt, step->connection);
	const struct luong_action_def *act;
	struct luong_call call = { 0 };
	cJSON *vars, *input = NULL, *out = NULL, *payload;
	char err[1024], *key, *reason;
	enum luong_status st;
	enum outcome o = OUT_NONE;

	payload = cJSON_Parse(rs->row->payload);
	vars = vars_for(rs->flow, rs->row, rs->outputs);
	if (expr_eval(step->input, payload, vars, &input, err, sizeof(err))) {
		reason = xasprintf("step %s: input: %s", step->id, err);
		o = fail_doc(rs, i, step->id, reason);
		free(reason);
		goto out;
	}
	if (!ctx || !ctx->ready ||
	    !(act = plugin_action(ctx->plugin, step->action))) {
		reason = xasprintf("step %s: connection %s is not ready%s%s",
				   step->id, step->connection,
				   ctx && ctx->error ? ": " : "",
				   ctx && ctx->error ? ctx->error : "");
		o = fail_doc(rs, i, step->id, reason);
		free(reason);
		goto out;
	}
	key = call_key_for(rs->flow->id, step->id, rs->row->doc_id);
	call.ctx = ctx;
	call.key = key;
	call.doc_id = rs->row->doc_id;
	call.attempt = rs->attempt;
	call.flags = rs->row->ignore_warnings ? LUONG_CALL_IGNORE_WARNINGS : 0;
	running_add(e, key);
	conn_enter(ctx);
	st = act->run(&call, ctx->state, input, &out);
	conn_leave(ctx);
	if (st == LUONG_OK) {
		cJSON_AddItemToObject(rs->outputs, step->id,
				      out ? out : cJSON_CreateNull());
		out = NULL;
		if (i + 1 < rs->flow->n_steps) {
			struct doc_update u = {
				.flow_id = rs->flow->id,
				.doc_id = rs->row->doc_id,
				.status = DOC_SYNCING, .attempts = rs->attempt,
				.step = i + 1, .outputs = outputs_text(rs),
				.h_step = step->id, .h_outcome = "step-done",
			};

			store_update_async(e->rt->store, &u, NULL, NULL);
		}
	} else if (st == LUONG_PENDING && rs->sync) {
		reason = xasprintf("step %s (%s.%s): a guard cannot wait for a "
				   "later answer", step->id, step->connection,
				   step->action);
		o = fail_doc(rs, i, step->id, reason);
		free(reason);
	} else if (st == LUONG_PENDING) {
		char *prov = out ? cJSON_PrintUnformatted(out) : NULL;
		struct doc_update u = {
			.flow_id = rs->flow->id, .doc_id = rs->row->doc_id,
			.status = DOC_SYNCING, .attempts = rs->attempt,
			.step = i, .outputs = outputs_text(rs),
			.target = prov, .wait_key = key,
			.next_at = util_wall_ms() +
				   (int64_t)e->rt->conf.wait_timeout_s * 1000,
			.h_step = step->id, .h_outcome = "waiting",
			.h_detail = "accepted; waiting for the target's result",
		};

		/* recorded before complete() may look for it */
		store_update(e->rt->store, &u);
		free(prov);
		o = OUT_WAITING;
	} else {
		const char *msg = call.error[0] ? call.error
						: luong_status_text(st);

		reason = xasprintf("step %s (%s.%s): %s", step->id,
				   step->connection, step->action, msg);
		if (retryable(st))
			o = retry_doc(rs, i, step->id, reason,
				      call.retry_after_ms, retry_at);
		else
			o = fail_doc(rs, i, step->id, reason);
		free(reason);
	}
	running_del(e, key);
	free(key);
out:
	cJSON_Delete(out);
	cJSON_Delete(input);
	cJSON_Delete(vars);
	cJSON_Delete(payload);
	return o;
}

static void run_doc(struct engine *e, struct job *j, bool sync)
{
	struct flows_ref *r = flows_acquire(e);
	const struct flow *flow = flow_set_find(r->set, j->flow_id);
	struct doc_row row;
	struct run_state rs = { .e = e, .flow = flow, .row = &row,
				.sync = sync };
	enum outcome o = OUT_NONE;
	uint32_t i;

	j->outcome = OUT_GONE;
	if (j->row && flow) {
		row = *j->row; /* taken over; freed with row below */
		free(j->row);
		j->row = NULL;
	} else if (!flow ||
		   store_get_doc(e->rt->store, j->flow_id, j->doc_id, &row)) {
		goto out_release;
	}
	if (row.status != DOC_PENDING && row.status != DOC_SYNCING) {
		j->outcome = OUT_NOOP;
		goto out_row;
	}
	rs.frt = rt_get(e, flow->id);
	rs.attempt = row.attempts + (j->continuation ? 0 : 1);
	rs.outputs = row.outputs ? cJSON_Parse(row.outputs) : NULL;
	if (!cJSON_IsObject(rs.outputs)) {
		cJSON_Delete(rs.outputs);
		rs.outputs = cJSON_CreateObject();
	}
	{
		struct doc_update u = {
			.flow_id = flow->id, .doc_id = row.doc_id,
			.status = DOC_SYNCING, .attempts = rs.attempt,
			.step = row.step, .reason = row.reason,
			.expect_hash = j->payload_hash[0] ? j->payload_hash
							  : NULL,
		};

		store_update_async(e->rt->store, &u, NULL, NULL);
	}
	for (i = row.step; o == OUT_NONE && i < flow->n_steps; i++)
		o = run_step(&rs, i, &j->retry_at);
	if (o == OUT_NONE) {
		const cJSON *last = flow->n_steps
			? cJSON_GetObjectItemCaseSensitive(
				  rs.outputs, flow->steps[flow->n_steps - 1].id)
			: NULL;

		o = synced_doc(&rs, last);
	}
	j->outcome = o;
	cJSON_Delete(rs.outputs);
	free(rs.outputs_text);
out_row:
	doc_row_free(&row);
out_release:
	flows_release(e, r);
}

static void run_poll(struct engine *e, struct poll_src *p)
{
	struct luong_ctx *ctx = loader_connection(e->rt, p->connection);
	const struct luong_event_def *ev;
	struct emit_batch b;
	char *cursor = NULL, *next = NULL;
	enum luong_status st;

	if (!ctx || !ctx->ready)
		return;
	ev = plugin_event(ctx->plugin, p->event);
	if (!ev || !ev->poll)
		return;
	store_cursor_get(e->rt->store, p->connection, p->event, &cursor);
	engine_emit_begin(&b, ctx);
	conn_enter(ctx);
	st = ev->poll(ctx, ctx->state, cursor, &next);
	conn_leave(ctx);
	if (st == LUONG_OK) {
		struct ingest_cursor cur = { p->connection, p->event,
					     next ? next : cursor };

		if (engine_emit_commit(e, &b, cur.cursor ? &cur : NULL))
			log_error("poll %s.%s: cannot store what it found",
				  p->connection, p->event);
	} else {
		/* nothing is kept: the same cursor is polled again */
		log_warn("poll %s.%s: %s; will poll again", p->connection,
			 p->event, luong_status_text(st));
	}
	engine_emit_end(&b);
	free(next);
	free(cursor);
}

static void *worker_main(void *arg)
{
	struct engine *e = arg;

	pthread_mutex_lock(&e->sched_mu);
	while (!e->stopping) {
		int64_t next;
		struct job *j = sched_pick(e, util_wall_ms(), &next);
		struct timespec ts;

		if (!j) {
			ts.tv_sec = (time_t)(next / 1000);
			ts.tv_nsec = (long)(next % 1000) * 1000000;
			pthread_cond_timedwait(&e->sched_cv, &e->sched_mu, &ts);
			continue;
		}
		pthread_mutex_unlock(&e->sched_mu);
		if (j->poll)
			run_poll(e, j->poll);
		else
			run_doc(e, j, false);
		pthread_mutex_lock(&e->sched_mu);
		sched_done(e, j);
	}
	pthread_mutex_unlock(&e->sched_mu);
	return NULL;
}

/* ---- emitting events --------------------------------------------------------------- */

void engine_emit_begin(struct emit_batch *b, struct luong_ctx *ctx)
{
	memset(b, 0, sizeof(*b));
	b->ctx = ctx;
	current_batch = b;
}

enum luong_status engine_emit(struct luong_ctx *ctx, const char *event,
			      const char *doc_id, cJSON *payload)
{
	struct emit_batch *b = current_batch;
	struct emit_item *it;
	enum luong_status st = LUONG_OK;

	if (!b || b->ctx != ctx) {
		log_msg(LUONG_LOG_ERROR, ctx ? ctx->where : NULL,
			"emit() outside webhook() or poll(); event dropped");
		st = LUONG_E_INVAL;
	} else if (!event || !doc_id || !*doc_id ||
		   !plugin_event(ctx->plugin, event)) {
		log_msg(LUONG_LOG_ERROR, ctx->where, "emit(): %s",
			!event || !plugin_event(ctx->plugin, event)
				? "undeclared event" : "empty document id");
		st = LUONG_E_INVAL;
	}
	if (st != LUONG_OK) {
		cJSON_Delete(payload);
		return st;
	}
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 4;
		b->items = xrealloc(b->items, b->cap * sizeof(*b->items));
	}
	it = &b->items[b->n++];
	it->event = xstrdup(event);
	it->doc_id = xstrdup(doc_id);
	it->payload = payload ? cJSON_PrintUnformatted(payload)
			      : xstrdup("{}");
	cJSON_Delete(payload);
	return LUONG_OK;
}

static void fill_flows(struct engine *e, const struct flow_set *set,
		       struct luong_ctx *ctx, struct emit_item *it,
		       struct ingest_event *ev, char **reasons, bool sync)
{
	cJSON *doc = NULL;

	ev->connection = ctx->name;
	ev->event = it->event;
	ev->doc_id = it->doc_id;
	ev->payload = it->payload;
	ev->flows = xcalloc(set->n + 1, sizeof(*ev->flows));
	ev->n_flows = 0;
	for (size_t i = 0; i < set->n; i++) {
		const struct flow *f = set->flows[i];
		struct flow_rt *frt;
		struct ingest_flow *inf;
		int mode, sel = 1;
		char err[512];

		if (strcmp(f->trigger_connection, ctx->name) ||
		    strcmp(f->trigger_event, it->event))
			continue;
		frt = rt_get(e, f->id);
		mode = frt ? atomic_load(&frt->mode) : (int)f->mode;
		if (mode == FLOW_DISABLED)
			continue; /* disabled: triggers are ignored */
		inf = &ev->flows[ev->n_flows++];
		inf->flow_id = f->id;
		/* a guard's documents run on the caller's thread, not queued */
		inf->automatic = mode == FLOW_AUTOMATIC && !sync;
		if (f->when) {
			cJSON *vars = cJSON_CreateObject();

			if (!doc)
				doc = cJSON_Parse(it->payload);
			cJSON_AddStringToObject(vars, "document_id", it->doc_id);
			cJSON_AddStringToObject(vars, "event", it->event);
			cJSON_AddStringToObject(vars, "connection", ctx->name);
			cJSON_AddStringToObject(vars, "flow", f->id);
			sel = expr_test(f->when, doc, vars, err, sizeof(err));
			cJSON_Delete(vars);
			if (sel < 0) {
				reasons[i] = xasprintf("the filter failed: %s",
						       err);
				sel = 0;
			} else if (!sel) {
				reasons[i] = xstrdup("not selected by the "
						     "flow's filter (when)");
			}
		}
		inf->selected = sel;
		inf->skip_reason = reasons[i];
	}
	cJSON_Delete(doc);
}

/* A job for a document ingest just made pending: the ledger row is known,
 * so the worker need not read it back. */
static struct job *job_from_ingest(const struct ingest_event *ev,
				   const struct ingest_flow *f)
{
	struct job *j = job_new(f->flow_id, ev->doc_id, f->seq, 0);
	struct doc_row *r = xcalloc(1, sizeof(*r));

	r->flow_id = xstrdup(f->flow_id);
	r->doc_id = xstrdup(ev->doc_id);
	r->connection = xstrdup(ev->connection);
	r->event = xstrdup(ev->event);
	r->status = DOC_PENDING;
	r->seq = f->seq;
	r->created_at = r->updated_at = util_wall_ms();
	r->payload = xstrdup(ev->payload);
	memcpy(j->payload_hash, ev->payload_hash, sizeof(j->payload_hash));
	j->row = r;
	return j;
}

int engine_emit_commit(struct engine *e, struct emit_batch *b,
		       const struct ingest_cursor *cursor)
{
	struct flows_ref *r;
	struct ingest_event *evs;
	char ***reasons;
	int rc;

	if (!b->n && !cursor)
		return 0;
	r = flows_acquire(e);
	evs = xcalloc(b->n + 1, sizeof(*evs));
	reasons = xcalloc(b->n + 1, sizeof(*reasons));
	for (size_t i = 0; i < b->n; i++) {
		reasons[i] = xcalloc(r->set->n + 1, sizeof(char *));
		fill_flows(e, r->set, b->ctx, &b->items[i], &evs[i], reasons[i],
			   false);
	}
	rc = store_ingest(e->rt->store, evs, b->n, cursor);
	for (size_t i = 0; i < b->n; i++) {
		for (size_t k = 0; !rc && k < evs[i].n_flows; k++) {
			struct ingest_flow *f = &evs[i].flows[k];
			struct flow_rt *frt = rt_get(e, f->flow_id);

			if (frt && f->selected)
				atomic_fetch_add(&frt->received, 1);
			else if (frt)
				atomic_fetch_add(&frt->skipped, 1);
			if (f->runnable)
				sched_add(e, job_from_ingest(&evs[i], f));
		}
		for (size_t k = 0; k < r->set->n; k++)
			free(reasons[i][k]);
		free(reasons[i]);
		free(evs[i].flows);
	}
	free(reasons);
	free(evs);
	flows_release(e, r);
	return rc;
}

void engine_emit_end(struct emit_batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		free(b->items[i].event);
		free(b->items[i].doc_id);
		free(b->items[i].payload);
	}
	free(b->items);
	memset(b, 0, sizeof(*b));
	current_batch = NULL;
}

/* Outcome of a guard's document, read back from the ledger. */
static enum luong_status guard_outcome(struct engine *e, const char *flow,
				       const char *doc, cJSON **output,
				       char **reason)
{
	struct doc_row row;
	enum luong_status st;

	if (store_get_doc(e->rt->store, flow, doc, &row)) {
		*reason = xstrdup("the guard's result was not recorded");
		return LUONG_E_INTERNAL;
	}
	if (row.status == DOC_SYNCED) {
		*output = row.target ? cJSON_Parse(row.target) : NULL;
		st = LUONG_OK;
	} else {
		*reason = xstrdup(row.reason ? row.reason
				  : "the guard did not finish");
		st = LUONG_E_REMOTE;
	}
	doc_row_free(&row);
	return st;
}

enum luong_status engine_emit_sync(struct luong_ctx *ctx, const char *event,
				   const char *doc_id, cJSON *payload,
				   cJSON **output, char **reason)
{
	struct engine *e = ctx->rt->engine;
	struct emit_batch *outer = current_batch, b;
	enum luong_status st = LUONG_E_NOTFOUND;
	struct ingest_event ev = { 0 };
	struct flows_ref *r;
	char **reasons;

	*output = NULL;
	*reason = NULL;
	if (!outer || outer->ctx != ctx) {
		cJSON_Delete(payload);
		*reason = xstrdup("emit_sync() outside webhook()");
		return LUONG_E_INVAL;
	}
	engine_emit_begin(&b, ctx);
	if (engine_emit(ctx, event, doc_id, payload) != LUONG_OK) {
		engine_emit_end(&b);
		current_batch = outer;
		*reason = xstrdup("undeclared event or empty document id");
		return LUONG_E_INVAL;
	}
	r = flows_acquire(e);
	reasons = xcalloc(r->set->n + 1, sizeof(char *));
	fill_flows(e, r->set, ctx, &b.items[0], &ev, reasons, true);
	if (store_ingest(e->rt->store, &ev, 1, NULL)) {
		st = LUONG_E_INTERNAL;
		*reason = xstrdup("cannot store the event");
	}
	for (size_t k = 0; !*reason && k < ev.n_flows; k++) {
		struct job j = { .flow_id = (char *)ev.flows[k].flow_id,
				 .doc_id = (char *)doc_id };

		struct doc_ref *refs = NULL;
		size_t nr = 0;
		const char *ids[1] = { doc_id };

		if (!ev.flows[k].selected)
			continue;
		/* a guard is asked anew: an earlier refusal is not the answer */
		if (!store_retry(e->rt->store, j.flow_id, ids, 1, false, &refs,
				 &nr, NULL))
			doc_refs_free(refs, nr);
		run_doc(e, &j, true);
		store_flush(e->rt->store); /* its outcome is written async */
		cJSON_Delete(*output);
		*output = NULL;
		st = guard_outcome(e, j.flow_id, doc_id, output, reason);
	}
	for (size_t k = 0; k < r->set->n; k++)
		free(reasons[k]);
	free(reasons);
	free(ev.flows);
	flows_release(e, r);
	engine_emit_end(&b);
	current_batch = outer;
	return st;
}

/* ---- completing a pending call ----------------------------------------------------------- */

enum luong_status engine_complete(struct engine *e, struct luong_ctx *ctx,
				  const char *key, enum luong_status result,
				  cJSON *output, const char *reason)
{
	struct flows_ref *r;
	const struct flow *flow;
	struct doc_row row;
	struct run_state rs = { .e = e, .row = &row };
	int64_t retry_at = 0;
	int rc;

	if (!key) {
		cJSON_Delete(output);
		return LUONG_E_INVAL;
	}
	running_wait(e, key); /* its PENDING record comes first */
	rc = store_find_wait(e->rt->store, key, &row);
	if (rc) {
		cJSON_Delete(output);
		return rc == 1 ? LUONG_E_NOTFOUND : LUONG_E_INTERNAL;
	}
	r = flows_acquire(e);
	flow = flow_set_find(r->set, row.flow_id);
	if (!flow || row.step >= flow->n_steps) {
		cJSON_Delete(output);
		doc_row_free(&row);
		flows_release(e, r);
		return LUONG_E_NOTFOUND;
	}
	rs.flow = flow;
	rs.frt = rt_get(e, flow->id);
	rs.attempt = row.attempts;
	rs.outputs = row.outputs ? cJSON_Parse(row.outputs) : NULL;
	if (!cJSON_IsObject(rs.outputs)) {
		cJSON_Delete(rs.outputs);
		rs.outputs = cJSON_CreateObject();
	}
	if (result == LUONG_OK) {
		const char *sid = flow->steps[row.step].id;

		cJSON_DeleteItemFromObjectCaseSensitive(rs.outputs, sid);
		cJSON_AddItemToObject(rs.outputs, sid,
				      output ? output : cJSON_CreateNull());
		output = NULL;
		if (row.step + 1 < flow->n_steps) {
			/* more steps: a worker goes on from the next one */
			struct doc_update u = {
				.flow_id = flow->id, .doc_id = row.doc_id,
				.status = DOC_SYNCING, .attempts = row.attempts,
				.step = row.step + 1, .outputs = outputs_text(&rs),
				.h_step = sid, .h_outcome = "step-done",
			};

			if (store_update(e->rt->store, &u) == 0) {
				struct job *j = job_new(flow->id, row.doc_id,
							row.seq, 0);

				j->continuation = true;
				sched_add(e, j);
			}
		} else {
			synced_doc(&rs, cJSON_GetObjectItemCaseSensitive(
						    rs.outputs, sid));
		}
	} else {
		char *why = xasprintf("step %s: %s", flow->steps[row.step].id,
				      reason ? reason : luong_status_text(result));

		if (retryable(result)) {
			if (retry_doc(&rs, row.step, flow->steps[row.step].id,
				      why, 0, &retry_at) == OUT_RETRY)
				sched_add(e, job_new(flow->id, row.doc_id,
						     row.seq, retry_at));
		} else {
			fail_doc(&rs, row.step, flow->steps[row.step].id, why);
		}
		free(why);
	}
	cJSON_Delete(output);
	cJSON_Delete(rs.outputs);
	free(rs.outputs_text);
	doc_row_free(&row);
	flows_release(e, r);
	return LUONG_OK;
}

/* ---- control -------------------------------------------------------------------------- */

bool engine_has_flow(struct engine *e, const char *flow)
{
	struct flows_ref *r = flows_acquire(e);
	bool has = flow_set_find(r->set, flow) != NULL;

	flows_release(e, r);
	return has;
}

cJSON *engine_flows_json(struct engine *e)
{
	struct flows_ref *r = flows_acquire(e);
	cJSON *counts = store_counts(e->rt->store), *arr = cJSON_CreateArray();

	for (size_t i = 0; i < r->set->n; i++) {
		const struct flow *f = r->set->flows[i];
		struct flow_rt *frt = rt_get(e, f->id);
		cJSON *o = cJSON_CreateObject(), *t, *steps, *c;

		cJSON_AddStringToObject(o, "id", f->id);
		cJSON_AddStringToObject(o, "name", f->name ? f->name : f->id);
		cJSON_AddStringToObject(o, "file", f->file);
		cJSON_AddStringToObject(o, "mode", flow_mode_name(
			frt ? (enum flow_mode)atomic_load(&frt->mode) : f->mode));
		t = cJSON_AddObjectToObject(o, "trigger");
		cJSON_AddStringToObject(t, "connection", f->trigger_connection);
		cJSON_AddStringToObject(t, "event", f->trigger_event);
		steps = cJSON_AddArrayToObject(o, "steps");
		for (size_t k = 0; k < f->n_steps; k++) {
			cJSON *s = cJSON_CreateObject();

			cJSON_AddStringToObject(s, "id", f->steps[k].id);
			cJSON_AddStringToObject(s, "connection",
						f->steps[k].connection);
			cJSON_AddStringToObject(s, "action", f->steps[k].action);
			cJSON_AddItemToArray(steps, s);
		}
		c = cJSON_GetObjectItemCaseSensitive(counts, f->id);
		cJSON_AddItemToObject(o, "documents",
				      c ? cJSON_Duplicate(c, 1)
					: cJSON_CreateObject());
		cJSON_AddItemToArray(arr, o);
	}
	cJSON_Delete(counts);
	flows_release(e, r);
	return arr;
}

int engine_set_mode(struct engine *e, const char *flow, const char *mode,
		    char *err, size_t errlen)
{
	enum flow_mode m;
	struct flow_rt *f;

	if (flow_mode_parse(mode, &m)) {
		snprintf(err, errlen, "unknown mode \"%s\" (expected automatic,"
			 " manual or disabled)", mode);
		return -1;
	}
	f = rt_get(e, flow);
	if (!f || !engine_has_flow(e, flow)) {
		snprintf(err, errlen, "unknown flow \"%s\"", flow);
		return -1;
	}
	/* kept first, so a restart never forgets a switch it answered */
	if (store_set_mode(e->rt->store, flow, flow_mode_name(m))) {
		snprintf(err, errlen, "cannot store the mode");
		return -1;
	}
	atomic_store(&f->mode, (int)m);
	log_info("flow=%s mode=%s", flow, flow_mode_name(m));
	if (m == FLOW_AUTOMATIC) {
		queue_runnable(e, f);
	} else {
		pthread_mutex_lock(&e->sched_mu);
		queue_drop(e, f, m == FLOW_MANUAL);
		pthread_mutex_unlock(&e->sched_mu);
	}
	request_polls_rebuild(e);
	return 0;
}

static int requeue(struct engine *e, const char *flow, const char *const *ids,
		   size_t n, bool retry, bool ignore_warnings, cJSON **result,
		   char *err, size_t errlen)
{
	struct doc_ref *refs = NULL;
	size_t nr = 0;
	cJSON *missing = NULL, *queued;
	int rc;

	if (!engine_has_flow(e, flow)) {
		snprintf(err, errlen, "unknown flow \"%s\"", flow);
		return -1;
	}
	rc = retry ? store_retry(e->rt->store, flow, ids, n, ignore_warnings,
				 &refs, &nr, &missing)
		   : store_push(e->rt->store, flow, ids, n, &refs, &nr,
				&missing);
	if (rc) {
		snprintf(err, errlen, "cannot update the ledger");
		return -1;
	}
	*result = cJSON_CreateObject();
	queued = cJSON_AddArrayToObject(*result, "queued");
	pthread_mutex_lock(&e->sched_mu);
	for (size_t i = 0; i < nr; i++) {
		cJSON_AddItemToArray(queued, cJSON_CreateString(refs[i].doc_id));
		sched_add_locked(e, job_new(flow, refs[i].doc_id, refs[i].seq,
					    0));
	}
	pthread_mutex_unlock(&e->sched_mu);
	cJSON_AddItemToObject(*result, retry ? "not_failed" : "not_pending",
			      missing ? missing : cJSON_CreateArray());
	doc_refs_free(refs, nr);
	return 0;
}

int engine_push(struct engine *e, const char *flow, const char *const *ids,
		size_t n, cJSON **result, char *err, size_t errlen)
{
	return requeue(e, flow, ids, n, false, false, result, err, errlen);
}

int engine_retry(struct engine *e, const char *flow, const char *const *ids,
		 size_t n, bool ignore_warnings, cJSON **result, char *err,
		 size_t errlen)
{
	return requeue(e, flow, ids, n, true, ignore_warnings, result, err,
		       errlen);
}

int engine_reload(struct engine *e, struct flow_errors *errs)
{
	struct flow_catalog cat;
	struct flow_set *set = NULL;
	struct flows_ref *r, *old;
	struct flow_rt **added;
	size_t n_added;
	bool last;

	engine_catalog(e->rt, &cat);
	if (flow_set_load(e->rt->conf.flows_dir, e->rt->conf.mappings_dir,
			  &cat, &set, errs))
		return -1;
	r = xcalloc(1, sizeof(*r));
	r->set = set;
	r->refs = 1;
	pthread_mutex_lock(&e->mu);
	old = e->flows;
	e->flows = r;
	last = --old->refs == 0;
	pthread_mutex_unlock(&e->mu);
	if (last) {
		flow_set_free(old->set);
		free(old);
	}
	/* in-flight work keeps the old set until it finishes */
	log_info("flows reloaded: %zu flows", set->n);
	r = flows_acquire(e);
	pthread_mutex_lock(&e->sched_mu);
	sync_rts(e, r->set, &added, &n_added);
	pthread_mutex_unlock(&e->sched_mu);
	for (size_t i = 0; i < n_added; i++)
		queue_runnable(e, added[i]);
	free(added);
	flows_release(e, r);
	request_polls_rebuild(e);
	return 0;
}

static void metric_family(FILE *f, const char *name, const char *type,
			  const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

char *engine_metrics(struct engine *e)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	cJSON *counts = store_counts(e->rt->store);
	struct {
		const char *name, *help;
		size_t off;
	} counters[] = {
		{ "luong_documents_received_total", "documents a flow accepted",
		  offsetof(struct flow_rt, received) },
		{ "luong_documents_synced_total", "documents synced",
		  offsetof(struct flow_rt, synced) },
		{ "luong_documents_failed_total", "documents failed for good",
		  offsetof(struct flow_rt, failed) },
		{ "luong_documents_retried_total", "transient faults retried",
		  offsetof(struct flow_rt, retried) },
		{ "luong_documents_skipped_total", "events the filter skipped",
		  offsetof(struct flow_rt, skipped) },
	};
	struct flow_rt *fr;

	pthread_mutex_lock(&e->mu);
	for (size_t c = 0; c < ARRAY_SIZE(counters); c++) {
		metric_family(f, counters[c].name, "counter",
			      counters[c].help);
		for (fr = e->rts; fr; fr = fr->next)
			fprintf(f, "%s{flow=\"%s\"} %llu\n", counters[c].name,
				fr->id,
				(unsigned long long)atomic_load(
					(_Atomic uint64_t *)((char *)fr +
							     counters[c].off)));
	}
	metric_family(f, "luong_documents", "gauge",
		      "documents in the ledger by status");
	for (fr = e->rts; fr; fr = fr->next) {
		cJSON *c = cJSON_GetObjectItemCaseSensitive(counts, fr->id);

		for (int s = 0; s < DOC__COUNT; s++) {
			cJSON *v = cJSON_GetObjectItemCaseSensitive(
				c, doc_status_name((enum doc_status)s));

			fprintf(f, "luong_documents{flow=\"%s\",status=\"%s\"} "
				"%.0f\n", fr->id,
				doc_status_name((enum doc_status)s),
				cJSON_IsNumber(v) ? v->valuedouble : 0.0);
		}
	}
	metric_family(f, "luong_sync_latency_seconds", "histogram",
		      "time from receipt to synced");
	for (fr = e->rts; fr; fr = fr->next) {
		for (size_t i = 0; i < ARRAY_SIZE(lat_bounds_s); i++)
			fprintf(f, "luong_sync_latency_seconds_bucket{flow=\"%s"
				"\",le=\"%g\"} %llu\n", fr->id, lat_bounds_s[i],
				(unsigned long long)atomic_load(
					&fr->lat_bucket[i]));
		fprintf(f, "luong_sync_latency_seconds_bucket{flow=\"%s\","
			"le=\"+Inf\"} %llu\n", fr->id,
			(unsigned long long)atomic_load(&fr->lat_count));
		fprintf(f, "luong_sync_latency_seconds_sum{flow=\"%s\"} %.3f\n",
			fr->id, (double)atomic_load(&fr->lat_sum_ms) / 1000.0);
		fprintf(f, "luong_sync_latency_seconds_count{flow=\"%s\"} "
			"%llu\n", fr->id,
			(unsigned long long)atomic_load(&fr->lat_count));
	}
	pthread_mutex_unlock(&e->mu);
	fclose(f);
	cJSON_Delete(counts);
	return buf;
}

/* ---- life cycle -------------------------------------------------------------------------- */

struct engine *engine_new(struct runtime *rt, struct flow_set *flows)
{
	struct engine *e = xcalloc(1, sizeof(*e));

	e->rt = rt;
	e->loop = ev_loop_new(EVFLAG_AUTO);
	pthread_mutex_init(&e->mu, NULL);
	pthread_mutex_init(&e->sched_mu, NULL);
	pthread_cond_init(&e->sched_cv, NULL);
	pthread_mutex_init(&e->run_mu, NULL);
	pthread_cond_init(&e->run_cv, NULL);
	e->flows = xcalloc(1, sizeof(*e->flows));
	e->flows->set = flows;
	e->flows->refs = 1;
	ev_async_init(&e->wake, on_wake);
	e->wake.data = e;
	ev_async_start(e->loop, &e->wake);
	return e;
}

int engine_start(struct engine *e)
{
	struct flow_rt **added;
	size_t n;

	sync_rts(e, e->flows->set, &added, &n);
	for (size_t i = 0; i < n; i++)
		queue_runnable(e, added[i]);
	free(added);
	e->n_threads = e->rt->conf.workers ? e->rt->conf.workers : 8;
	e->threads = xcalloc(e->n_threads, sizeof(*e->threads));
	for (unsigned i = 0; i < e->n_threads; i++)
		if (pthread_create(&e->threads[i], NULL, worker_main, e)) {
			log_error("cannot start worker: %s", strerror(errno));
			e->n_threads = i;
			return -1;
		}
	poll_sources_rebuild(e);
	return 0;
}

void engine_run(struct engine *e)
{
	ev_run(e->loop, 0);
}

void engine_stop(struct engine *e)
{
	/* may run in a signal handler: only the async-signal-safe send */
	e->stop_requested = 1;
	ev_async_send(e->loop, &e->wake);
}

void engine_free(struct engine *e)
{
	struct flow_rt *f, *fn;
	struct poll_src *p, *pn;
	struct job *j;

	if (!e)
		return;
	pthread_mutex_lock(&e->sched_mu);
	e->stopping = true;
	pthread_cond_broadcast(&e->sched_cv);
	pthread_mutex_unlock(&e->sched_mu);
	/* running jobs finish; queued ones stay pending in the store */
	for (unsigned i = 0; i < e->n_threads; i++)
		pthread_join(e->threads[i], NULL);
	free(e->threads);
	while ((j = e->poll_jobs)) {
		e->poll_jobs = j->next;
		free(j);
	}
	for (f = e->rts; f; f = fn) {
		fn = f->next;
		while (f->head)
			job_free(queue_pop(f));
		free(f->id);
		free(f);
	}
	for (p = e->polls; p; p = pn) {
		pn = p->next;
		ev_timer_stop(e->loop, &p->timer);
		free(p->connection);
		free(p->event);
		free(p);
	}
	for (size_t i = 0; i < TRACK_BUCKETS; i++)
		while (e->tracked[i]) {
			struct track *t = e->tracked[i];

			e->tracked[i] = t->next;
			free(t->key);
			free(t);
		}
	flow_set_free(e->flows->set);
	free(e->flows);
	ev_loop_destroy(e->loop);
	pthread_mutex_destroy(&e->mu);
	pthread_mutex_destroy(&e->sched_mu);
	pthread_cond_destroy(&e->sched_cv);
	pthread_mutex_destroy(&e->run_mu);
	pthread_cond_destroy(&e->run_cv);
	free(e);
}

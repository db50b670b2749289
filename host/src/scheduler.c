/*
 * scheduler.c - see scheduler.h for the rules; this file keeps them.
 *
 * A flow's queue is a list by seq. Picking walks it from the head,
 * marking each order key it passes: the first job of a key that no
 * running job holds is a candidate; later jobs of a key already seen in
 * this walk wait behind it. Normally the first due candidate wins
 * (source order); while a flow is probed, the candidate due earliest.
 */
#define _GNU_SOURCE
#include "scheduler.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ratelimit.h"
#include "store.h"
#include "strmap.h"
#include "util.h"

/* Two transient faults in a row: the target itself is in trouble. */
#define PROBE_STREAK 2

/* Per order key of a flow: jobs of it running now, and the walk that
 * last saw it queued. Freed when no job of the key is left. */
struct key_state {
	int running;
	int jobs;      /* queued + running */
	uint64_t seen; /* walk number */
};

struct sflow {
	char *id;
	bool paused;
	struct job *head, *tail;
	size_t queued;
	int running;
	unsigned streak;	   /* transient faults since the last success */
	int64_t blocked_until;	   /* probing: no call before this */
	struct strmap keys;	   /* order key -> struct key_state */
	struct ratelimit **limits; /* of the connections its steps call */
	size_t n_limits;
	struct sflow *next;
};

/* (flow, document) queued or running, so none is dispatched twice. */
struct tracked {
	struct job *job;
	bool running;
	bool completed;	  /* complete() came while it ran */
	bool again;	  /* it became runnable again while it ran */
	struct job *cont; /* ... and the flow goes on with this */
};

struct sched {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct sflow *flows;
	struct sflow *rr; /* where the next walk starts (fairness) */
	struct job *polls, *polls_tail;
	struct strmap tracked; /* "flow\x1fdoc" -> struct tracked */
	uint64_t walk;
	bool stopping;
};

/* ---- jobs ------------------------------------------------------------- */

struct job *job_new(enum job_kind kind, const char *flow, const char *doc,
		    const char *order_key, int64_t seq, int64_t due)
{
	struct job *j = xcalloc(1, sizeof(*j));

	j->kind = kind;
	j->flow_id = flow ? xstrdup(flow) : NULL;
	j->doc_id = doc ? xstrdup(doc) : NULL;
	j->order_key = xstrdup(order_key ? order_key : doc ? doc : "");
	j->seq = seq;
	j->due = due;
	return j;
}

static void job_drop_row(struct job *j)
{
	if (j->row) {
		doc_row_free(j->row);
		free(j->row);
		j->row = NULL;
	}
}

void job_free(struct job *j)
{
	if (!j)
		return;
	job_drop_row(j);
	free(j->held);
	free(j->flow_id);
	free(j->doc_id);
	free(j->order_key);
	free(j);
}

/* ---- flows and keys (callers hold mu) ------------------------------- */

static struct sflow *flow_find(struct sched *s, const char *id)
{
	for (struct sflow *f = s->flows; f; f = f->next)
		if (!strcmp(f->id, id))
			return f;
	return NULL;
}

static struct key_state *key_ref(struct sflow *f, const char *key)
{
	struct key_state *k = strmap_get(&f->keys, key);

	if (!k) {
		k = xcalloc(1, sizeof(*k));
		strmap_put(&f->keys, key, k);
	}
	k->jobs++;
	return k;
}

static void key_unref(struct sflow *f, const char *key)
{
	struct key_state *k = strmap_get(&f->keys, key);

	if (k && --k->jobs <= 0)
		free(strmap_del(&f->keys, key));
}

static char *track_key(const struct job *j)
{
	return xasprintf("%s\x1f%s", j->flow_id, j->doc_id);
}

static struct tracked *tracked_get(struct sched *s, const char *flow,
				   const char *doc)
{
	char *k = xasprintf("%s\x1f%s", flow, doc);
	struct tracked *t = strmap_get(&s->tracked, k);

	free(k);
	return t;
}

static void untrack(struct sched *s, const struct job *j)
{
	char *k = track_key(j);

	free(strmap_del(&s->tracked, k));
	free(k);
}

/* ---- the queue ------------------------------------------------------------- */

static void queue_insert(struct sflow *f, struct job *j)
{
	struct job *after = f->tail;

	/* from the tail back: documents arrive nearly in seq order */
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
	f->queued++;
}

static void queue_unlink(struct sflow *f, struct job *j)
{
	if (j->prev)
		j->prev->next = j->next;
	else
		f->head = j->next;
	if (j->next)
		j->next->prev = j->prev;
	else
		f->tail = j->prev;
	j->next = j->prev = NULL;
	f->queued--;
}

/* Queues j as tracked; caller checked it is not tracked yet. */
static void enqueue(struct sched *s, struct sflow *f, struct job *j)
{
	struct tracked *t = xcalloc(1, sizeof(*t));
	char *k = track_key(j);

	t->job = j;
	strmap_put(&s->tracked, k, t);
	free(k);
	key_ref(f, j->order_key);
	queue_insert(f, j);
	pthread_cond_signal(&s->cv);
}

/* ---- public: set-up ------------------------------------------------------ */

struct sched *sched_new(void)
{
	struct sched *s = xcalloc(1, sizeof(*s));

	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	strmap_init(&s->tracked);
	return s;
}

static void free_value(void *ud, const char *key, void *value)
{
	(void)ud;
	(void)key;
	free(value);
}

void sched_free(struct sched *s)
{
	struct sflow *f, *fn;
	struct job *j;

	if (!s)
		return;
	for (f = s->flows; f; f = fn) {
		fn = f->next;
		while ((j = f->head)) {
			queue_unlink(f, j);
			job_free(j);
		}
		strmap_each(&f->keys, free_value, NULL);
		strmap_clear(&f->keys);
		free(f->limits);
		free(f->id);
		free(f);
	}
	while ((j = s->polls)) {
		s->polls = j->next;
		job_free(j);
	}
	strmap_each(&s->tracked, free_value, NULL);
	strmap_clear(&s->tracked);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
}

void sched_flow(struct sched *s, const char *flow)
{
	pthread_mutex_lock(&s->mu);
	if (!flow_find(s, flow)) {
		struct sflow *f = xcalloc(1, sizeof(*f));

		f->id = xstrdup(flow);
		strmap_init(&f->keys);
		f->next = s->flows;
		s->flows = f;
	}
	pthread_mutex_unlock(&s->mu);
}

void sched_set_paused(struct sched *s, const char *flow, bool paused)
{
	struct sflow *f;

	pthread_mutex_lock(&s->mu);
	f = flow_find(s, flow);
	if (f && f->paused != paused) {
		f->paused = paused;
		pthread_cond_broadcast(&s->cv);
	}
	pthread_mutex_unlock(&s->mu);
}

void sched_set_limits(struct sched *s, const char *flow,
		      struct ratelimit *const *rls, size_t n)
{
	struct sflow *f;

	pthread_mutex_lock(&s->mu);
	f = flow_find(s, flow);
	if (f) {
		free(f->limits);
		f->limits = n ? xmalloc(n * sizeof(*rls)) : NULL;
		if (n)
			memcpy(f->limits, rls, n * sizeof(*rls));
		f->n_limits = n;
		pthread_cond_broadcast(&s->cv);
	}
	pthread_mutex_unlock(&s->mu);
}

/* ---- adding ------------------------------------------------------------------ */

bool sched_add(struct sched *s, struct job *j)
{
	struct sflow *f;
	struct tracked *t;
	bool added = false;

	pthread_mutex_lock(&s->mu);
	f = flow_find(s, j->flow_id);
	t = f ? tracked_get(s, j->flow_id, j->doc_id) : NULL;
	if (f && !t) {
		enqueue(s, f, j);
		added = true;
	} else if (t && t->running) {
		/* e.g. an edit to resend came while the last version was
		 * being sent: it runs once that one has ended */
		t->again = true;
	}
	pthread_mutex_unlock(&s->mu);
	if (!added)
		job_free(j); /* unknown flow, or already queued/running */
	return added;
}

void sched_add_poll(struct sched *s, struct job *j)
{
	pthread_mutex_lock(&s->mu);
	j->next = NULL;
	if (s->polls_tail)
		s->polls_tail->next = j;
	else
		s->polls = j;
	s->polls_tail = j;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

/* ---- picking ------------------------------------------------------------------ */

static bool probing(const struct sflow *f)
{
	return f->streak >= PROBE_STREAK;
}

/* ---- rate limits: a unit of each held for the picking worker ------- */

static void limits_release(struct ratelimit **rls, size_t n, uintptr_t owner)
{
	for (size_t i = 0; i < n; i++)
		rl_release(rls[i], owner);
}

/* Holds a unit of each of f's limits, or none (then lowers *next to
 * when the one without room has it). */
static bool limits_hold(struct sflow *f, int64_t now, uintptr_t owner,
			int64_t *next)
{
	for (size_t i = 0; i < f->n_limits; i++) {
		int64_t at;

		if (rl_hold(f->limits[i], now, owner))
			continue;
		limits_release(f->limits, i, owner);
		at = rl_ready_at(f->limits[i], now);
		if (at < *next)
			*next = at > now ? at : now + 1;
		return false;
	}
	return true;
}

/* The job that will run: it carries the units held for its worker. */
static void job_hold(struct job *j, const struct sflow *f, uintptr_t owner)
{
	j->n_held = f->n_limits;
	j->holder = owner;
	j->held = f->n_limits ? xmalloc(f->n_limits * sizeof(*j->held)) : NULL;
	if (f->n_limits)
		memcpy(j->held, f->limits, f->n_limits * sizeof(*j->held));
}

static void job_unhold(struct job *j)
{
	limits_release(j->held, j->n_held, j->holder);
	free(j->held);
	j->held = NULL;
	j->n_held = 0;
}

/* ---- picking, within a flow ------------------------------------------- */

/* The job flow f may run now, or NULL; lowers *next to when it may. */
static struct job *flow_walk(struct sched *s, struct sflow *f, int64_t now,
			     int64_t *next)
{
	bool probe = probing(f);
	struct job *best = NULL;
	uint64_t walk = ++s->walk;

	for (struct job *j = f->head; j; j = j->next) {
		struct key_state *k = strmap_get(&f->keys, j->order_key);
		int64_t at;

		if (k->running > 0 || k->seen == walk)
			continue; /* an earlier job of its key comes first */
		k->seen = walk;
		at = j->due;
		if (probe && f->blocked_until > at)
			at = f->blocked_until;
		if (at > now) {
			if (at < *next)
				*next = at;
			continue;
		}
		if (!probe)
			return j; /* source order */
		if (!best || j->due < best->due)
			best = j; /* earliest due: probes rotate */
	}
	return best;
}

/* flow_walk, when the flow may run and its targets have room. */
static struct job *flow_pick(struct sched *s, struct sflow *f, int64_t now,
			     int64_t *next, uintptr_t owner)
{
	struct job *j;

	if (f->paused || !f->head)
		return NULL;
	if (probing(f) && f->running > 0)
		return NULL; /* one call at a time; its end wakes us */
	if (!limits_hold(f, now, owner, next))
		return NULL;
	j = flow_walk(s, f, now, next);
	if (j)
		job_hold(j, f, owner);
	else
		limits_release(f->limits, f->n_limits, owner);
	return j;
}

static struct job *pick_locked(struct sched *s, int64_t now, int64_t *next,
			       uintptr_t owner)
{
	struct sflow *start, *f;
	struct job *j;

	if ((j = s->polls)) {
		s->polls = j->next;
		if (!s->polls)
			s->polls_tail = NULL;
		j->next = NULL;
		return j;
	}
	*next = now + 1000;
	start = s->rr ? s->rr : s->flows;
	for (f = start; f;) {
		j = flow_pick(s, f, now, next, owner);
		if (j) {
			struct tracked *t =
				tracked_get(s, j->flow_id, j->doc_id);

			queue_unlink(f, j);
			t->running = true;
			((struct key_state *)strmap_get(&f->keys, j->order_key))
				->running++;
			f->running++;
			s->rr = f->next;
			return j;
		}
		f = f->next ? f->next : s->flows;
		if (f == start)
			break;
	}
	return NULL;
}

struct job *sched_pick(struct sched *s, int64_t now, int64_t *next)
{
	struct job *j;

	pthread_mutex_lock(&s->mu);
	j = pick_locked(s, now, next, rl_self());
	pthread_mutex_unlock(&s->mu);
	return j;
}

struct job *sched_take(struct sched *s)
{
	struct job *j = NULL;

	pthread_mutex_lock(&s->mu);
	while (!s->stopping) {
		int64_t next;
		struct timespec ts;

		j = pick_locked(s, util_wall_ms(), &next, rl_self());
		if (j)
			break;
		ts.tv_sec = (time_t)(next / 1000);
		ts.tv_nsec = (long)(next % 1000) * 1000000;
		pthread_cond_timedwait(&s->cv, &s->mu, &ts);
	}
	pthread_mutex_unlock(&s->mu);
	return j;
}

void sched_stop(struct sched *s)
{
	pthread_mutex_lock(&s->mu);
	s->stopping = true;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

/* ---- ending ------------------------------------------------------------------ */

/* What the flow learnt of its target from how a job ended. */
static void note_outcome(struct sflow *f, const struct job *j, int64_t now)
{
	switch (j->outcome) {
	case OUT_RETRY:
		f->streak++;
		if (probing(f) && j->retry_at > f->blocked_until)
			f->blocked_until = j->retry_at;
		break;
	case OUT_SYNCED:
	case OUT_FAILED: /* a refusal: the target answered */
	case OUT_WAITING:
		f->streak = 0;
		f->blocked_until = 0;
		break;
	default: break;
	}
	(void)now;
}

void sched_done(struct sched *s, struct job *j, int64_t now)
{
	struct sflow *f;
	struct tracked *t;
	struct job *cont = NULL;
	struct key_state *k;
	bool completed = false, again = false;

	if (j->kind == JOB_POLL) {
		job_free(j);
		return;
	}
	job_unhold(j); /* what its worker held and did not use */
	pthread_mutex_lock(&s->mu);
	f = flow_find(s, j->flow_id);
	t = tracked_get(s, j->flow_id, j->doc_id);
	if (t) {
		cont = t->cont;
		completed = t->completed;
		again = t->again;
		untrack(s, j);
	}
	if (!f) {
		pthread_mutex_unlock(&s->mu);
		job_free(j);
		job_free(cont);
		return;
	}
	f->running--;
	k = strmap_get(&f->keys, j->order_key);
	if (k)
		k->running--;
	key_unref(f, j->order_key);
	note_outcome(f, j, now);
	if (completed) {
		/* its answer came while it ran: that answer stands */
		job_free(j);
		if (cont)
			enqueue(s, f, cont);
	} else if (j->outcome == OUT_RETRY || j->outcome == OUT_WAITING) {
		j->kind = j->outcome == OUT_WAITING ? JOB_WAIT : JOB_DOC;
		j->due = j->retry_at;
		j->continuation = false;
		j->outcome = OUT_NONE;
		job_drop_row(j); /* the ledger has moved on from the prefill */
		enqueue(s, f, j);
	} else if (again) {
		j->kind = JOB_DOC;
		j->due = 0;
		j->continuation = false;
		j->read_fresh = true;
		j->outcome = OUT_NONE;
		job_drop_row(j);
		j->payload_hash[0] = '\0';
		enqueue(s, f, j);
	} else {
		job_free(j);
	}
	if (f->head || probing(f))
		pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

void sched_drop(struct sched *s, const char *flow,
		bool (*keep)(void *ud, const struct job *j), void *ud)
{
	struct sflow *f;
	struct job *j, *next;

	pthread_mutex_lock(&s->mu);
	f = flow_find(s, flow);
	for (j = f ? f->head : NULL; j; j = next) {
		next = j->next;
		if (j->kind == JOB_WAIT || (keep && keep(ud, j)))
			continue;
		queue_unlink(f, j);
		untrack(s, j);
		key_unref(f, j->order_key);
		job_free(j);
	}
	pthread_mutex_unlock(&s->mu);
}

void sched_complete(struct sched *s, const char *flow, const char *doc,
		    struct job *cont)
{
	struct sflow *f;
	struct tracked *t;

	pthread_mutex_lock(&s->mu);
	f = flow_find(s, flow);
	t = tracked_get(s, flow, doc);
	if (t && t->running) {
		/* queued when the running job ends (sched_done) */
		job_free(t->cont);
		t->completed = true;
		t->cont = cont;
		pthread_mutex_unlock(&s->mu);
		return;
	}
	if (t && f) { /* waiting (or queued): the answer ends that */
		struct job *j = t->job;

		queue_unlink(f, j);
		untrack(s, j);
		key_unref(f, j->order_key);
		job_free(j);
	}
	if (cont && f)
		enqueue(s, f, cont);
	else
		job_free(cont);
	pthread_mutex_unlock(&s->mu);
}

void sched_refresh(struct sched *s, const char *flow, const char *doc)
{
	struct tracked *t;

	pthread_mutex_lock(&s->mu);
	t = tracked_get(s, flow, doc);
	if (t && !t->running) {
		job_drop_row(t->job);
		t->job->payload_hash[0] = '\0';
	}
	pthread_mutex_unlock(&s->mu);
}

/* ---- for tests and metrics ------------------------------------------------------ */

size_t sched_queued(struct sched *s, const char *flow)
{
	struct sflow *f;
	size_t n;

	pthread_mutex_lock(&s->mu);
	f = flow_find(s, flow);
	n = f ? f->queued : 0;
	pthread_mutex_unlock(&s->mu);
	return n;
}

bool sched_probing(struct sched *s, const char *flow)
{
	struct sflow *f;
	bool p;

	pthread_mutex_lock(&s->mu);
	f = flow_find(s, flow);
	p = f && probing(f);
	pthread_mutex_unlock(&s->mu);
	return p;
}

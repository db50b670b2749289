/*
 * engine.c - the flow engine's life cycle and controls: the current flow
 * set (swapped whole on reload), each flow's mode, push, retry and the
 * worker threads.
 *
 * A document's journey: an event is stored with its ledger row before
 * the webhook is answered (ingest.c); runnable documents are queued per
 * flow (scheduler.c, which decides what runs next and keeps what must
 * stay in order); a worker takes the next one and runs the flow's steps
 * (runner.c); the outcome goes to the ledger and back to the scheduler.
 */
#include "engine_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "log.h"
#include "runtime.h"
#include "util.h"

/* ---- the flow set ---------------------------------------------------------- */

struct flows_ref *flows_acquire(struct engine *e)
{
	struct flows_ref *r;

	pthread_mutex_lock(&e->mu);
	r = e->flows;
	r->refs++;
	pthread_mutex_unlock(&e->mu);
	return r;
}

void flows_release(struct engine *e, struct flows_ref *r)
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

struct flow_rt *rt_get(struct engine *e, const char *id)
{
	struct flow_rt *f;

	pthread_mutex_lock(&e->mu);
	for (f = e->rts; f; f = f->next)
		if (!strcmp(f->id, id))
			break;
	pthread_mutex_unlock(&e->mu);
	return f;
}

bool engine_has_flow(struct engine *e, const char *flow)
{
	struct flows_ref *r = flows_acquire(e);
	bool has = flow_set_find(r->set, flow) != NULL;

	flows_release(e, r);
	return has;
}

struct job *job_from_ref(const char *flow, const struct doc_ref *ref)
{
	/* a document sent before and waiting for its answer comes back
	 * when its wait runs out, not before */
	return job_new(ref->waiting ? JOB_WAIT : JOB_DOC, flow, ref->doc_id,
		       ref->order_key, ref->seq, ref->next_at);
}

/* ---- modes --------------------------------------------------------------------- */

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

/* The scheduler dispatches a flow only while it is enabled and in the
 * current set. */
static void sched_sync_flow(struct engine *e, struct flow_rt *f, bool present)
{
	sched_flow(e->sched, f->id);
	sched_set_paused(e->sched, f->id,
			 !present || atomic_load(&f->mode) == FLOW_DISABLED);
}

/* The scheduler paces a flow by the rate limits of the connections its
 * steps call (each once). */
static void sched_limit_flow(struct engine *e, const struct flow *fl)
{
	struct ratelimit **rls = xcalloc(fl->n_steps + 1, sizeof(*rls));
	size_t n = 0;

	for (size_t i = 0; i < fl->n_steps; i++) {
		const char *name = fl->steps[i].connection;
		struct luong_ctx *c = loader_connection(e->rt, name);
		size_t k = 0;

		while (k < n && c && rls[k] != c->rl)
			k++;
		if (c && c->rl && k == n)
			rls[n++] = c->rl;
	}
	sched_set_limits(e->sched, fl->id, rls, n);
	free(rls);
}

/* Makes sure every flow of the set has a run-time state; returns the new
 * ones (to queue their work). */
static struct flow_rt **sync_rts(struct engine *e, struct flow_set *set,
				 size_t *n_added)
{
	struct flow_rt **added = xcalloc(set->n + 1, sizeof(*added));

	*n_added = 0;
	pthread_mutex_lock(&e->mu);
	for (struct flow_rt *f = e->rts; f; f = f->next)
		if (!flow_set_find(set, f->id))
			sched_sync_flow(e, f, false);
	pthread_mutex_unlock(&e->mu);
	for (size_t i = 0; i < set->n; i++) {
		const struct flow *fl = set->flows[i];
		struct flow_rt *f = rt_get(e, fl->id);

		if (!f) {
			f = xcalloc(1, sizeof(*f));
			f->id = xstrdup(fl->id);
			pthread_mutex_lock(&e->mu);
			f->next = e->rts;
			e->rts = f;
			pthread_mutex_unlock(&e->mu);
			added[(*n_added)++] = f;
		}
		atomic_store(&f->mode, (int)stored_mode(e, fl));
		sched_sync_flow(e, f, true);
		sched_limit_flow(e, fl);
	}
	return added;
}

/* Whether flow `id` of the current set is a guard. */
static bool is_guard(struct engine *e, const char *id)
{
	struct flows_ref *r = flows_acquire(e);
	const struct flow *f = flow_set_find(r->set, id);
	bool guard = f && engine_flow_is_guard(e->rt, f);

	flows_release(e, r);
	return guard;
}

/* Queues what the store says must run for one flow. */
static void queue_runnable(struct engine *e, struct flow_rt *f)
{
	struct doc_ref *refs = NULL;
	size_t n = 0;
	int mode = atomic_load(&f->mode);

	/* a guard answered while its source waited, or it did not: a run
	 * cut short is never finished later, when nobody waits for it */
	if (mode == FLOW_DISABLED || is_guard(e, f->id))
		return;
	if (store_runnable(e->rt->store, f->id, mode == FLOW_AUTOMATIC, &refs,
			   &n)) {
		log_error("flow %s: cannot read its queued documents", f->id);
		return;
	}
	/* what is queued or waiting already is not queued twice */
	for (size_t i = 0; i < n; i++)
		sched_add(e->sched, job_from_ref(f->id, &refs[i]));
	doc_refs_free(refs, n);
}

struct drop_ctx {
	struct engine *e;
	bool keep_pushed;
};

/* After a switch to manual, pushed documents still go. */
static bool keep_queued(void *ud, const struct job *j)
{
	struct drop_ctx *d = ud;
	struct doc_row row;
	bool keep = false;

	if (!d->keep_pushed)
		return false;
	if (store_get_doc(d->e->rt->store, j->flow_id, j->doc_id, &row) == 0) {
		keep = row.pushed || row.status == DOC_SYNCING;
		doc_row_free(&row);
	}
	return keep;
}

int engine_set_mode(struct engine *e, const char *flow, const char *mode,
		    char *err, size_t errlen)
{
	struct drop_ctx d = { .e = e };
	enum flow_mode m;
	struct flow_rt *f;

	if (flow_mode_parse(mode, &m)) {
		snprintf(err, errlen,
			 _("unknown mode \"%s\" (expected automatic,"
			   " manual or disabled)"),
			 mode);
		return -1;
	}
	f = rt_get(e, flow);
	if (!f || !engine_has_flow(e, flow)) {
		snprintf(err, errlen, _("unknown flow \"%s\""), flow);
		return -1;
	}
	/* kept first, so a restart never forgets a switch it answered */
	if (store_set_mode(e->rt->store, flow, flow_mode_name(m))) {
		snprintf(err, errlen, _("cannot store the mode"));
		return -1;
	}
	atomic_store(&f->mode, (int)m);
	sched_sync_flow(e, f, true);
	log_info("flow=%s mode=%s", flow, flow_mode_name(m));
	if (m == FLOW_AUTOMATIC) {
		queue_runnable(e, f);
	} else {
		d.keep_pushed = m == FLOW_MANUAL;
		sched_drop(e->sched, flow, keep_queued, &d);
	}
	request_polls_rebuild(e);
	return 0;
}

/* ---- push and retry ------------------------------------------------------------ */

static int requeue(struct engine *e, const char *flow, const char *const *ids,
		   size_t n, bool retry, bool ignore_warnings, cJSON **result,
		   char *err, size_t errlen)
{
	struct doc_ref *refs = NULL;
	size_t nr = 0;
	cJSON *missing = NULL, *queued;
	int rc;

	if (!engine_has_flow(e, flow)) {
		snprintf(err, errlen, _("unknown flow \"%s\""), flow);
		return -1;
	}
	if (is_guard(e, flow)) {
		snprintf(err, errlen,
			 _("flow \"%s\" is a guard: it answered its "
			   "source once, while it waited, and is never run "
			   "again; ask again from the source system"),
			 flow);
		return -1;
	}
	rc = retry ? store_retry(e->rt->store, flow, ids, n, ignore_warnings,
				 &refs, &nr, &missing)
		   : store_push(e->rt->store, flow, ids, n, &refs, &nr,
				&missing);
	if (rc) {
		snprintf(err, errlen, _("cannot update the ledger"));
		return -1;
	}
	*result = cJSON_CreateObject();
	queued = cJSON_AddArrayToObject(*result, "queued");
	{
		/* before the documents run, so none ends uncounted */
		const char **ids_q = xcalloc(nr + 1, sizeof(*ids_q));

		for (size_t i = 0; i < nr; i++)
			ids_q[i] = refs[i].doc_id;
		cJSON_AddStringToObject(*result, "operation",
					progress_start(e->progress, flow,
						       retry ? "retry" : "push",
						       ids_q, nr,
						       util_wall_ms()));
		free(ids_q);
	}
	for (size_t i = 0; i < nr; i++) {
		cJSON_AddItemToArray(queued,
				     cJSON_CreateString(refs[i].doc_id));
		refs[i].next_at = 0; /* a person asked: now */
		sched_add(e->sched, job_from_ref(flow, &refs[i]));
	}
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

cJSON *engine_operation(struct engine *e, const char *id)
{
	return progress_json(e->progress, id, util_wall_ms());
}

/* How many documents a push or retry queued (result owned, deleted). */
static size_t queued_count(cJSON *result)
{
	size_t n = (size_t)cJSON_GetArraySize(
		cJSON_GetObjectItemCaseSensitive(result, "queued"));

	cJSON_Delete(result);
	return n;
}

/* One flow's share of a plugin's request. */
static size_t request_flow(struct engine *e, const struct flow *f,
			   const char *doc, uint32_t what)
{
	const char *ids[1] = { doc };
	cJSON *res = NULL;
	char err[256];
	size_t n = 0;

	if (engine_flow_is_guard(e->rt, f))
		return 0;
	if ((what & LUONG_REQUEST_PUSH) &&
	    !requeue(e, f->id, ids, 1, false, false, &res, err, sizeof(err)))
		n += queued_count(res);
	res = NULL;
	if ((what & LUONG_REQUEST_RETRY) &&
	    !requeue(e, f->id, ids, 1, true,
		     (what & LUONG_REQUEST_IGNORE_WARNINGS) != 0, &res, err,
		     sizeof(err)))
		n += queued_count(res);
	return n;
}

enum luong_status engine_request(struct engine *e, const char *connection,
				 const char *flow, const char *doc,
				 uint32_t what)
{
	struct flows_ref *r;
	enum luong_status st = LUONG_E_NOTFOUND;
	size_t n = 0;

	if (!connection || !doc)
		return LUONG_E_INVAL;
	r = flows_acquire(e);
	for (size_t i = 0; i < r->set->n; i++) {
		const struct flow *f = r->set->flows[i];

		if (flow && strcmp(f->id, flow))
			continue;
		/* a plugin sends only what its own connection started */
		if (strcmp(f->trigger_connection, connection)) {
			if (flow)
				st = LUONG_E_INVAL;
			continue;
		}
		n += request_flow(e, f, doc, what);
	}
	flows_release(e, r);
	log_info("connection=%s doc=%s request=%s%s: %zu queued%s", connection,
		 doc, what & LUONG_REQUEST_PUSH ? "push" : "",
		 what & LUONG_REQUEST_RETRY ? "+retry" : "", n,
		 st == LUONG_E_INVAL ? " (refused: another connection's "
				       "flow)"
				     : "");
	if (st == LUONG_E_INVAL)
		return st;
	return n ? LUONG_OK : LUONG_E_NOTFOUND;
}

/* ---- reload -------------------------------------------------------------------- */

int engine_reload(struct engine *e, struct flow_errors *errs)
{
	struct flow_catalog cat;
	struct flow_set *set = NULL;
	struct flows_ref *r;
	struct flow_rt **added;
	size_t n_added;

	engine_catalog(e->rt, &cat);
	if (flow_set_load(e->rt->conf.flows_dir, e->rt->conf.mappings_dir, &cat,
			  &set, errs))
		return -1;
	r = xcalloc(1, sizeof(*r));
	r->set = set;
	r->refs = 1;
	pthread_mutex_lock(&e->mu);
	{
		struct flows_ref *old = e->flows;

		e->flows = r;
		pthread_mutex_unlock(&e->mu);
		/* in-flight work keeps the old set until it finishes */
		flows_release(e, old);
	}
	log_info("flows reloaded: %zu flows", set->n);
	r = flows_acquire(e);
	added = sync_rts(e, r->set, &n_added);
	for (size_t i = 0; i < n_added; i++)
		queue_runnable(e, added[i]);
	free(added);
	flows_release(e, r);
	request_polls_rebuild(e);
	return 0;
}

/* ---- workers and the loop ------------------------------------------------------ */

static void *worker_main(void *arg)
{
	struct engine *e = arg;
	struct job *j;

	while ((j = sched_take(e->sched))) {
		if (j->kind == JOB_POLL)
			run_poll(e, j->poll);
		else
			run_doc(e, j, false);
		sched_done(e->sched, j, util_wall_ms());
	}
	return NULL;
}

static void on_wake(struct ev_loop *loop, ev_async *w, int revents)
{
	struct engine *e = w->data;

	(void)revents;
	if (e->stop_requested)
		ev_break(loop, EVBREAK_ALL);
	else if (atomic_exchange(&e->polls_dirty, false))
		poll_sources_rebuild(e);
}

/* ---- life cycle -------------------------------------------------------------------------- */

struct engine *engine_new(struct runtime *rt, struct flow_set *flows)
{
	struct engine *e = xcalloc(1, sizeof(*e));

	e->rt = rt;
	e->loop = ev_loop_new(EVFLAG_AUTO);
	e->sched = sched_new();
	e->progress = progress_new();
	pthread_mutex_init(&e->echo_mu, NULL);
	pthread_mutex_init(&e->mu, NULL);
	pthread_mutex_init(&e->run_mu, NULL);
	pthread_cond_init(&e->run_cv, NULL);
	pthread_mutex_init(&e->links_mu, NULL);
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
	size_t n;
	struct flow_rt **added = sync_rts(e, e->flows->set, &n);

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

	if (!e)
		return;
	/* running jobs finish; queued ones stay pending in the store */
	sched_stop(e->sched);
	for (unsigned i = 0; i < e->n_threads; i++)
		pthread_join(e->threads[i], NULL);
	free(e->threads);
	links_fini(e);
	sched_free(e->sched);
	progress_free(e->progress);
	echo_fini(e);
	pthread_mutex_destroy(&e->echo_mu);
	for (f = e->rts; f; f = fn) {
		fn = f->next;
		free(f->id);
		free(f);
	}
	poll_sources_free(e);
	flow_set_free(e->flows->set);
	free(e->flows);
	ev_loop_destroy(e->loop);
	pthread_mutex_destroy(&e->mu);
	pthread_mutex_destroy(&e->run_mu);
	pthread_cond_destroy(&e->run_cv);
	free(e);
}

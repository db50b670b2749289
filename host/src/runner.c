/*
 * runner.c - runs one document's steps on a worker thread, and ends the
 * calls that answer later (complete()).
 *
 * Each action gets an idempotency key, <flow>:<step>:<document>, the
 * same on every retry and after a crash; a later version of the document
 * (a flow that resends edits) adds @<version>, so each version has one
 * effect and the ledgers of version 1 stay valid. The outcome goes to the ledger
 * and to the job, which the scheduler then frees or queues again.
 */
#define _GNU_SOURCE /* vasprintf */
#include "engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "log.h"
#include "runtime.h"
#include "util.h"

/* ---- calls in progress -------------------------------------------------- */

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

void running_wait(struct engine *e, const char *key)
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

/* ---- outcomes ------------------------------------------------------------- */

char *call_key_for(const char *flow, const char *step, const char *doc,
		   uint32_t version)
{
	/* version 1 keeps the key ledgers written before versions had */
	if (version > 1)
		return xasprintf("%s:%s:%s@%u", flow, step, doc, version);
	return xasprintf("%s:%s:%s", flow, step, doc);
}

cJSON *runner_vars(const struct flow *f, const char *doc_id, const char *event,
		   const char *connection, const cJSON *outputs,
		   const cJSON *previous)
{
	cJSON *v = cJSON_CreateObject();

	cJSON_AddItemToObject(v, "steps", cJSON_Duplicate(outputs, 1));
	cJSON_AddItemToObject(v, "previous",
			      previous ? cJSON_Duplicate(previous, 1)
				       : cJSON_CreateNull());
	cJSON_AddStringToObject(v, "document_id", doc_id);
	cJSON_AddStringToObject(v, "event", event);
	cJSON_AddStringToObject(v, "connection", connection);
	cJSON_AddStringToObject(v, "flow", f->id);
	return v;
}

int runner_step_input(const struct flow_step *step, struct expr *tmpl,
		      const cJSON *doc, const cJSON *vars, cJSON **input,
		      char **reason)
{
	char err[1024];

	if (!expr_eval(tmpl, doc, vars, input, err, sizeof(err)))
		return 0;
	*reason = xasprintf(_("step %s: input: %s"), step->id, err);
	return -1;
}

cJSON *engine_step_inputs(struct engine *e, const char *flow_id,
			  const struct doc_row *row)
{
	struct flows_ref *r = flows_acquire(e);
	const struct flow *f = flow_set_find(r->set, flow_id);
	cJSON *payload, *outputs, *res = NULL;

	if (!f)
		goto out;
	payload = cJSON_Parse(row->payload);
	outputs = row->outputs ? cJSON_Parse(row->outputs) : NULL;
	if (!outputs)
		outputs = cJSON_CreateObject();
	res = cJSON_CreateObject();
	for (size_t k = 0; k < f->n_steps; k++) {
		cJSON *vars = runner_vars(f, row->doc_id, row->event,
					  row->connection, outputs, NULL);
		cJSON *in = NULL;
		char err[512];

		if (expr_eval(f->steps[k].input, payload, vars, &in, err,
			      sizeof(err))) {
			in = cJSON_CreateObject();
			cJSON_AddStringToObject(in, "error", err);
		}
		cJSON_AddItemToObject(res, f->steps[k].id, in);
		cJSON_Delete(vars);
	}
	cJSON_Delete(outputs);
	cJSON_Delete(payload);
out:
	flows_release(e, r);
	return res;
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
	cJSON *previous; /* the last version's outputs, or NULL */
	struct flow_rt *frt;
	bool sync; /* a guard: no waiting, no retry later */
};

static const char *outputs_text(struct run_state *rs)
{
	free(rs->outputs_text);
	rs->outputs_text = cJSON_PrintUnformatted(rs->outputs);
	return rs->outputs_text;
}

static void outputs_load(struct run_state *rs)
{
	rs->outputs = rs->row->outputs ? cJSON_Parse(rs->row->outputs) : NULL;
	if (!cJSON_IsObject(rs->outputs)) {
		cJSON_Delete(rs->outputs);
		rs->outputs = cJSON_CreateObject();
	}
	rs->previous = rs->row->version > 1 && rs->row->prev_outputs
			       ? cJSON_Parse(rs->row->prev_outputs)
			       : NULL;
}

static void outputs_free(struct run_state *rs)
{
	cJSON_Delete(rs->outputs);
	cJSON_Delete(rs->previous);
	free(rs->outputs_text);
}

/* The document ends without being synced: failed for good, or made by
 * the target but not posted (SPEC B5: its own status, later steps not
 * run; the record is linked once posted, so the claim is given back and
 * a retry calls the step again with the same key). */
static enum job_outcome stop_doc(struct run_state *rs, uint32_t step,
				 const char *step_id, const char *reason,
				 enum doc_status status)
{
	const char *kind = doc_status_name(status);
	struct doc_update u = {
		.flow_id = rs->flow->id,
		.doc_id = rs->row->doc_id,
		.status = status,
		.attempts = rs->attempt,
		.reason = reason,
		.step = step,
		.outputs = outputs_text(rs),
		.h_step = step_id,
		.h_outcome = kind,
		.h_detail = reason,
	};

	store_update_async(rs->e->rt->store, &u, NULL, NULL);
	link_release(rs->e, rs->flow, rs->row->doc_id);
	progress_note(rs->e->progress, rs->flow->id, rs->row->doc_id, false,
		      reason, util_wall_ms());
	if (rs->frt)
		atomic_fetch_add(&rs->frt->failed, 1);
	rs->row->attempts = rs->attempt;
	if (!rs->sync) /* a guard's refusal is its answer, not news */
		failure_emit(rs->e, rs->flow, rs->row, kind, step_id, reason,
			     rs->outputs);
	log_msg(LUONG_LOG_WARN, NULL,
		"flow=%s doc=%s outcome=%s attempt=%u reason=\"%s\"",
		rs->flow->id, rs->row->doc_id, kind, rs->attempt, reason);
	return OUT_FAILED;
}

static enum job_outcome fail_doc(struct run_state *rs, uint32_t step,
				 const char *step_id, const char *reason)
{
	return stop_doc(rs, step, step_id, reason, DOC_FAILED);
}

static enum job_outcome post_failed_doc(struct run_state *rs, uint32_t step,
					const char *step_id, const char *reason)
{
	return stop_doc(rs, step, step_id, reason, DOC_POST_FAILED);
}

/* A transient fault: try again later, unless attempts are used up. */
static enum job_outcome retry_doc(struct run_state *rs, uint32_t step,
				  const char *step_id, const char *reason,
				  uint32_t min_delay_ms, int64_t *retry_at)
{
	const struct flow_retry *r = &rs->flow->retry;
	uint32_t delay = flow_retry_delay_ms(r, rs->attempt, rnd01());
	struct doc_update u = {
		.flow_id = rs->flow->id,
		.doc_id = rs->row->doc_id,
		.status = DOC_PENDING,
		.attempts = rs->attempt,
		.reason = reason,
		.step = step,
		.outputs = outputs_text(rs),
		.h_step = step_id,
		.h_outcome = "retry",
		.h_detail = reason,
	};

	if (rs->sync || (r->max_attempts && rs->attempt >= r->max_attempts)) {
		char *why = rs->sync ? xasprintf(_("could not check now: %s"),
						 reason)
				     : xasprintf(_("gave up after %u attempts: "
						   "%s"),
						 rs->attempt, reason);
		enum job_outcome o = fail_doc(rs, step, step_id, why);

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
	log_msg(LUONG_LOG_INFO, NULL,
		"flow=%s doc=%s outcome=retry attempt=%u "
		"in_ms=%u reason=\"%s\"",
		rs->flow->id, rs->row->doc_id, rs->attempt, delay, reason);
	return OUT_RETRY;
}

#define RENUMBER_MAX 99 /* suffixes tried before a person decides */

/* The target refused the document's number as used (SPEC B6): the flow
 * decides. "fail": for a person. "renumber": sent again at once with the
 * next suffix (-1, -2, ...), kept in the ledger for every later attempt. */
static enum job_outcome clash_doc(struct run_state *rs, uint32_t step,
				  const char *step_id, const char *reason,
				  int64_t *retry_at)
{
	uint32_t n = rs->row->renumber + 1;
	struct doc_update u = {
		.flow_id = rs->flow->id,
		.doc_id = rs->row->doc_id,
		.status = DOC_PENDING,
		.attempts = rs->attempt,
		.reason = reason,
		.step = step,
		.outputs = outputs_text(rs),
		.renumber = n,
		.h_step = step_id,
		.h_outcome = "renumbered",
	};
	char *detail;

	if (rs->sync || rs->flow->on_number_clash != FLOW_CLASH_RENUMBER ||
	    n > RENUMBER_MAX)
		return fail_doc(rs, step, step_id, reason);
	detail = xasprintf(_("%s; sent again with the suffix -%u"), reason, n);
	u.h_detail = detail;
	*retry_at = util_wall_ms();
	u.next_at = *retry_at;
	/* written before the job runs again at once: it reads the suffix
	 * (and, after a callback, no longer waits) from the ledger */
	store_update(rs->e->rt->store, &u);
	rs->row->renumber = n;
	log_msg(LUONG_LOG_INFO, NULL,
		"flow=%s doc=%s outcome=renumbered "
		"suffix=-%u reason=\"%s\"",
		rs->flow->id, rs->row->doc_id, n, reason);
	free(detail);
	return OUT_RETRY;
}

/* How often a document whose connection is not started looks again; the
 * connection's init() is retried meanwhile (reinit.c). */
#define CONN_WAIT_MS 2000

/* The step's connection is not started (its init() failed and is being
 * retried): the document stays pending, its attempts not counted, so it
 * goes once the connection is up. A guard cannot wait: it fails. */
static enum job_outcome wait_connection(struct run_state *rs, uint32_t step,
					const char *step_id, const char *reason,
					int64_t *retry_at)
{
	struct doc_update u = {
		.flow_id = rs->flow->id,
		.doc_id = rs->row->doc_id,
		.status = DOC_PENDING,
		.attempts = rs->attempt ? rs->attempt - 1 : 0,
		.reason = reason,
		.step = step,
		.outputs = outputs_text(rs),
		.h_step = step_id,
		.h_outcome = "retry",
		.h_detail = reason,
	};

	if (rs->sync)
		return retry_doc(rs, step, step_id, reason, 0, retry_at);
	*retry_at = util_wall_ms() + CONN_WAIT_MS;
	u.next_at = *retry_at;
	store_update_async(rs->e->rt->store, &u, NULL, NULL);
	return OUT_RETRY;
}

/* on_change: resend: an edit which came while this version was being
 * sent is the next version once this end is committed (the store makes
 * it so); then it is queued, and the scheduler runs it once this run has
 * ended. Async like every other end: group commit stays whole. */
struct next_version {
	bool next;	 /* set by the store when it made one */
	struct job *job; /* what runs it */
	struct sched *sched;
};

/* After the commit, on the store's writer thread. */
static void next_version_committed(void *ud, int rc)
{
	struct next_version *nv = ud;

	if (!rc && nv->next)
		sched_add(nv->sched, nv->job);
	else
		job_free(nv->job);
	free(nv);
}

static void synced_then_next_version(struct run_state *rs, struct doc_update *u)
{
	struct next_version *nv = xcalloc(1, sizeof(*nv));

	nv->job = job_new(JOB_DOC, rs->flow->id, rs->row->doc_id,
			  rs->row->order_key, rs->row->seq, 0);
	nv->job->read_fresh = true;
	nv->sched = rs->e->sched;
	u->next_version = &nv->next;
	store_update_async(rs->e->rt->store, u, next_version_committed, nv);
}

static enum job_outcome synced_doc(struct run_state *rs, const cJSON *target)
{
	char *t = target ? cJSON_PrintUnformatted(target) : NULL;
	struct doc_update u = {
		.flow_id = rs->flow->id,
		.doc_id = rs->row->doc_id,
		.status = DOC_SYNCED,
		.attempts = rs->attempt,
		.step = (uint32_t)rs->flow->n_steps,
		.outputs = outputs_text(rs),
		.target = t,
		.h_outcome = "synced",
		.h_detail = t,
	};

	if (rs->flow->on_change == FLOW_ON_CHANGE_RESEND)
		synced_then_next_version(rs, &u);
	else
		store_update_async(rs->e->rt->store, &u, NULL, NULL);
	progress_note(rs->e->progress, rs->flow->id, rs->row->doc_id, true,
		      NULL, util_wall_ms());
	if (rs->frt) {
		atomic_fetch_add(&rs->frt->synced, 1);
		latency_observe(rs->frt, util_wall_ms() - rs->row->created_at);
	}
	log_msg(LUONG_LOG_INFO, NULL,
		"flow=%s doc=%s outcome=synced attempt=%u", rs->flow->id,
		rs->row->doc_id, rs->attempt);
	free(t);
	return OUT_SYNCED;
}

static bool retryable(enum luong_status st)
{
	return st == LUONG_E_TRANSIENT || st == LUONG_E_TIMEOUT;
}

/* The step accepted the document and its result comes later: recorded
 * before complete() may look for it; when the wait runs out, the
 * scheduler brings the document back and it is sent again. */
static enum job_outcome wait_doc(struct run_state *rs, uint32_t i,
				 const char *key, const cJSON *provisional,
				 int64_t *retry_at)
{
	const struct flow_step *step = &rs->flow->steps[i];
	char *prov = provisional ? cJSON_PrintUnformatted(provisional) : NULL;
	struct doc_update u = {
		.flow_id = rs->flow->id,
		.doc_id = rs->row->doc_id,
		.status = DOC_SYNCING,
		.attempts = rs->attempt,
		.step = i,
		.outputs = outputs_text(rs),
		.target = prov,
		.wait_key = key,
		.h_step = step->id,
		.h_outcome = "waiting",
		.h_detail = _("accepted; waiting for the target's result"),
	};

	*retry_at =
		util_wall_ms() + (int64_t)rs->e->rt->conf.wait_timeout_s * 1000;
	u.next_at = *retry_at;
	store_update(rs->e->rt->store, &u);
	free(prov);
	return OUT_WAITING;
}

/* The ledger line of a step done, and the step after it. */
static void step_done(struct run_state *rs, uint32_t i, const char *outcome,
		      const char *detail)
{
	struct doc_update u = {
		.flow_id = rs->flow->id,
		.doc_id = rs->row->doc_id,
		.status = DOC_SYNCING,
		.attempts = rs->attempt,
		.step = i + 1,
		.outputs = outputs_text(rs),
		.h_step = rs->flow->steps[i].id,
		.h_outcome = outcome,
		.h_detail = detail,
	};

	store_update_async(rs->e->rt->store, &u, NULL, NULL);
}

/* A step that makes a linked record: made already (by this flow or
 * another), it is not called and its output is the one that made it;
 * another document making it now is waited for. OUT_NONE to call it. */
static enum job_outcome link_step(struct run_state *rs, uint32_t i,
				  int64_t *retry_at, bool *skip)
{
	const struct flow_step *step = &rs->flow->steps[i];
	enum job_outcome o = OUT_NONE;
	struct link held;
	char *note = NULL;

	switch (link_before_step(rs->e, rs->flow, step, rs->row, &held)) {
	case LINK_MAKE: return OUT_NONE;
	case LINK_ERROR:
		return retry_doc(rs, i, step->id,
				 "cannot read the record "
				 "links; trying again",
				 0, retry_at);
	case LINK_MADE:
		note = link_made_note(&held);
		cJSON_DeleteItemFromObjectCaseSensitive(rs->outputs, step->id);
		cJSON_AddItemToObject(rs->outputs, step->id,
				      link_step_output(&held));
		step_done(rs, i, "linked", note);
		log_msg(LUONG_LOG_INFO, NULL,
			"flow=%s doc=%s step=%s "
			"outcome=linked %s",
			rs->flow->id, rs->row->doc_id, step->id, note);
		*skip = true;
		break;
	case LINK_BUSY:
		note = link_busy_note(&held);
		o = retry_doc(rs, i, step->id, note, 0, retry_at);
		break;
	}
	free(note);
	link_free(&held);
	return o;
}

/* The step's refuse_if: a string (or true) fails the document with it
 * before anything is called; a guard's refusal is then its answer. */
static enum job_outcome refuse_step(struct run_state *rs, uint32_t i)
{
	const struct flow_step *step = &rs->flow->steps[i];
	cJSON *payload = cJSON_Parse(rs->row->payload), *got = NULL;
	cJSON *vars =
		runner_vars(rs->flow, rs->row->doc_id, rs->row->event,
			    rs->row->connection, rs->outputs, rs->previous);
	enum job_outcome o = OUT_NONE;
	char err[1024], *reason = NULL;

	if (link_eval(rs->e, rs->flow, rs->row, step->refuse_if, payload, vars,
		      &got, err, sizeof(err)))
		reason = xasprintf(_("step %s: refuse_if: %s"), step->id, err);
	else if (cJSON_IsString(got) && got->valuestring[0])
		reason = xasprintf(_("step %s (refuse_if): %s"), step->id,
				   got->valuestring);
	else if (got && !cJSON_IsNull(got) && !cJSON_IsFalse(got) &&
		 !cJSON_IsString(got))
		reason = xasprintf(_("step %s (refuse_if): refused"), step->id);
	if (reason)
		o = fail_doc(rs, i, step->id, reason);
	free(reason);
	cJSON_Delete(got);
	cJSON_Delete(vars);
	cJSON_Delete(payload);
	return o;
}

/* The action's perform() (1.2) with the connection and host table, else
 * its run(). */
static enum luong_status call_action(struct luong_ctx *ctx,
				     const struct luong_action_def *act,
				     struct luong_call *call,
				     const cJSON *input, cJSON **out)
{
	luong_perform_fn perform = plugin_action_perform(ctx->plugin, act);
	struct luong_action_args args = {
		.struct_size = sizeof(args),
		.ctx = ctx,
		.host = &ctx->rt->host,
		.call = call,
		.state = ctx->state,
		.input = input,
	};
	enum luong_status st;

	if (!perform)
		return act->run(call, ctx->state, input, out);
	st = perform(&args);
	*out = args.output;
	return st;
}

/* The first declared required input that is missing or null (SDK 1.2:
 * such a request is never sent half-filled), or NULL. */
static const char *required_missing(const struct plugin *p,
				    const struct luong_action_def *act,
				    const cJSON *input)
{
	const struct luong_field_def *f = plugin_action_inputs(p, act);
	const cJSON *v;

	for (; f && f->name; f++) {
		if (!(f->flags & LUONG_FIELD_REQUIRED))
			continue;
		v = cJSON_GetObjectItemCaseSensitive(input, f->name);
		if (!v || cJSON_IsNull(v))
			return f->name;
	}
	return NULL;
}

/* Runs one step; returns OUT_NONE to go on with the next one. */
static enum job_outcome run_step(struct run_state *rs, uint32_t i,
				 int64_t *retry_at)
{
	const struct flow_step *step = &rs->flow->steps[i];
	struct engine *e = rs->e;
	struct luong_ctx *ctx = loader_connection(e->rt, step->connection);
	const struct luong_action_def *act;
	struct luong_call call = { 0 };
	cJSON *vars, *input = NULL, *out = NULL, *payload;
	char *key, *reason, err[1024];
	const char *name;
	enum luong_status st;
	enum job_outcome o = OUT_NONE;
	bool skip = false;

	if (step->refuse_if && (o = refuse_step(rs, i)) != OUT_NONE)
		return o;
	/* a later version (on_change: resend) updates what version 1 made
	 * and linked: the link does not stand in for the call */
	if (step->link && rs->row->version <= 1 &&
	    ((o = link_step(rs, i, retry_at, &skip)) != OUT_NONE || skip))
		return o;
	payload = cJSON_Parse(rs->row->payload);
	vars = runner_vars(rs->flow, rs->row->doc_id, rs->row->event,
			   rs->row->connection, rs->outputs, rs->previous);
	/* link() in the input is resolved through the record links */
	if (link_eval(e, rs->flow, rs->row, step->input, payload, vars, &input,
		      err, sizeof(err))) {
		reason = xasprintf(_("step %s: input: %s"), step->id, err);
		o = fail_doc(rs, i, step->id, reason);
		free(reason);
		goto out;
	}
	if (ctx && !ctx->ready) {
		loader_conn_error(ctx, err, sizeof(err));
		reason = xasprintf(_("step %s: connection %s is not "
				     "started%s%s; "
				     "waiting for it"),
				   step->id, step->connection, *err ? ": " : "",
				   err);
		o = wait_connection(rs, i, step->id, reason, retry_at);
		free(reason);
		goto out;
	}
	if (!ctx || !(act = plugin_action(ctx->plugin, step->action))) {
		reason = xasprintf(_("step %s: connection %s has no action %s"),
				   step->id, step->connection, step->action);
		o = fail_doc(rs, i, step->id, reason);
		free(reason);
		goto out;
	}
	if ((name = required_missing(ctx->plugin, act, input))) {
		reason = xasprintf(_("step %s: input $.%s is required by %s.%s "
				     "but the mapping gave null"),
				   step->id, name, step->connection,
				   step->action);
		o = fail_doc(rs, i, step->id, reason);
		free(reason);
		goto out;
	}
	key = call_key_for(rs->flow->id, step->id, rs->row->doc_id,
			   rs->row->version);
	call.ctx = ctx;
	call.key = key;
	call.doc_id = rs->row->doc_id;
	call.attempt = rs->attempt;
	call.flags = rs->row->ignore_warnings ? LUONG_CALL_IGNORE_WARNINGS : 0;
	call.version = rs->row->version ? rs->row->version : 1;
	if (call.version > 1)
		call.flags |= LUONG_CALL_UPDATE;
	call.previous_output =
		cJSON_GetObjectItemCaseSensitive(rs->previous, step->id);
	if (step->link && step->link->echo) {
		/* the target may report it before its answer comes */
		char *h = echo_hash(step->link->echo, payload, vars);

		echo_expect(e, step->connection, rs->flow->id, h);
		free(h);
	}
	if (rs->row->renumber)
		snprintf(call.suffix, sizeof(call.suffix), "-%u",
			 rs->row->renumber);
	running_add(e, key);
	conn_enter(ctx);
	st = call_action(ctx, act, &call, input, &out);
	conn_leave(ctx);
	health_note(ctx, st == LUONG_OK || st == LUONG_PENDING,
		    call.error[0] ? call.error : luong_status_text(st));
	if (st == LUONG_OK) {
		if (step->link)
			link_after_step(e, rs->flow, step, rs->row, out, vars);
		cJSON_AddItemToObject(rs->outputs, step->id,
				      out ? out : cJSON_CreateNull());
		out = NULL;
		if (i + 1 < rs->flow->n_steps)
			step_done(rs, i, "step-done", NULL);
	} else if (st == LUONG_NOT_POSTED && !rs->sync) {
		reason = xasprintf(_("step %s (%s.%s): %s"), step->id,
				   step->connection, step->action,
				   call.error[0] ? call.error
						 : luong_status_text(st));
		cJSON_AddItemToObject(rs->outputs, step->id,
				      out ? out : cJSON_CreateNull());
		out = NULL;
		o = post_failed_doc(rs, i, step->id, reason);
		free(reason);
	} else if (st == LUONG_PENDING && rs->sync) {
		reason = xasprintf(_("step %s (%s.%s): a guard cannot wait for "
				     "a "
				     "later answer"),
				   step->id, step->connection, step->action);
		o = fail_doc(rs, i, step->id, reason);
		free(reason);
	} else if (st == LUONG_PENDING) {
		o = wait_doc(rs, i, key, out, retry_at);
	} else {
		const char *msg =
			call.error[0] ? call.error : luong_status_text(st);

		reason = xasprintf(_("step %s (%s.%s): %s"), step->id,
				   step->connection, step->action, msg);
		if (retryable(st))
			o = retry_doc(rs, i, step->id, reason,
				      call.retry_after_ms, retry_at);
		else if (st == LUONG_E_NUMBER_TAKEN)
			o = clash_doc(rs, i, step->id, reason, retry_at);
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

/* The ledger row the job runs: the one ingest handed over, or read. */
static int job_row(struct engine *e, struct job *j, struct doc_row *row)
{
	if (j->row) {
		*row = *j->row; /* taken over; the caller frees row */
		free(j->row);
		j->row = NULL;
		return 0;
	}
	if (j->read_fresh && store_flush(e->rt->store))
		return -1;
	return store_get_doc(e->rt->store, j->flow_id, j->doc_id, row);
}

void run_doc(struct engine *e, struct job *j, bool sync)
{
	struct flows_ref *r = flows_acquire(e);
	const struct flow *flow = flow_set_find(r->set, j->flow_id);
	struct doc_row row;
	struct run_state rs = {
		.e = e, .flow = flow, .row = &row, .sync = sync
	};
	enum job_outcome o = OUT_NONE;
	const char *note = NULL;

	j->outcome = OUT_GONE;
	if (!flow || job_row(e, j, &row))
		goto out_release;
	if (row.status != DOC_PENDING && row.status != DOC_SYNCING) {
		j->outcome = OUT_NOOP;
		goto out_row;
	}
	if (row.status == DOC_SYNCING && row.wait_key) {
		if (j->kind != JOB_WAIT && !j->continuation) {
			/* waiting, and its wait has not run out */
			j->outcome = OUT_WAITING;
			j->retry_at = row.next_at;
			goto out_row;
		}
		note = _("no answer from the target in time; sending again");
	}
	rs.frt = rt_get(e, flow->id);
	rs.attempt = row.attempts + (j->continuation ? 0 : 1);
	outputs_load(&rs);
	{
		struct doc_update u = {
			.flow_id = flow->id,
			.doc_id = row.doc_id,
			.status = DOC_SYNCING,
			.attempts = rs.attempt,
			.step = row.step,
			.reason = row.reason,
			.expect_hash =
				j->payload_hash[0] ? j->payload_hash : NULL,
			.h_outcome = note ? "timed-out" : NULL,
			.h_detail = note,
		};

		store_update_async(e->rt->store, &u, NULL, NULL);
	}
	for (uint32_t i = row.step; o == OUT_NONE && i < flow->n_steps; i++)
		o = run_step(&rs, i, &j->retry_at);
	if (o == OUT_NONE) {
		const cJSON *last =
			flow->n_steps
				? cJSON_GetObjectItemCaseSensitive(
					  rs.outputs,
					  flow->steps[flow->n_steps - 1].id)
				: NULL;

		o = synced_doc(&rs, last);
	}
	j->outcome = o;
	outputs_free(&rs);
out_row:
	doc_row_free(&row);
out_release:
	flows_release(e, r);
}

/* ---- completing a pending call ------------------------------------------ */

/* The waiting step ended well: the next step, or synced. */
static void complete_ok(struct run_state *rs, cJSON *output)
{
	const struct flow *flow = rs->flow;
	const struct doc_row *row = rs->row;
	const struct flow_step *step = &flow->steps[row->step];
	const char *sid = step->id;
	struct job *cont;

	if (step->link) {
		cJSON *vars =
			runner_vars(flow, row->doc_id, row->event,
				    row->connection, rs->outputs, rs->previous);

		link_after_step(rs->e, flow, step, row, output, vars);
		cJSON_Delete(vars);
	}
	cJSON_DeleteItemFromObjectCaseSensitive(rs->outputs, sid);
	cJSON_AddItemToObject(rs->outputs, sid,
			      output ? output : cJSON_CreateNull());
	if (row->step + 1 >= flow->n_steps) {
		synced_doc(rs,
			   cJSON_GetObjectItemCaseSensitive(rs->outputs, sid));
		sched_complete(rs->e->sched, flow->id, row->doc_id, NULL);
		return;
	}
	{
		/* more steps: a worker goes on from the next one */
		struct doc_update u = {
			.flow_id = flow->id,
			.doc_id = row->doc_id,
			.status = DOC_SYNCING,
			.attempts = row->attempts,
			.step = row->step + 1,
			.outputs = outputs_text(rs),
			.h_step = sid,
			.h_outcome = "step-done",
		};

		if (store_update(rs->e->rt->store, &u))
			return; /* stays waiting; its time-out sends it again */
	}
	cont = job_new(JOB_DOC, flow->id, row->doc_id, row->order_key, row->seq,
		       0);
	cont->continuation = true;
	sched_complete(rs->e->sched, flow->id, row->doc_id, cont);
}

static void complete_err(struct run_state *rs, enum luong_status result,
			 const char *reason)
{
	const struct flow *flow = rs->flow;
	const struct doc_row *row = rs->row;
	const char *sid = flow->steps[row->step].id;
	char *why = xasprintf(_("step %s: %s"), sid,
			      reason ? reason : luong_status_text(result));
	int64_t retry_at = 0;
	struct job *again = NULL;

	if (result == LUONG_E_NUMBER_TAKEN) {
		if (clash_doc(rs, row->step, sid, why, &retry_at) == OUT_RETRY)
			again = job_new(JOB_DOC, flow->id, row->doc_id,
					row->order_key, row->seq, retry_at);
	} else if (retryable(result) && retry_doc(rs, row->step, sid, why, 0,
						  &retry_at) == OUT_RETRY) {
		again = job_new(JOB_DOC, flow->id, row->doc_id, row->order_key,
				row->seq, retry_at);
	} else if (!retryable(result)) {
		fail_doc(rs, row->step, sid, why);
	}
	sched_complete(rs->e->sched, flow->id, row->doc_id, again);
	free(why);
}

/* Made but not posted: the step's output is kept, the document stops. */
static void complete_not_posted(struct run_state *rs, cJSON *output,
				const char *reason)
{
	const char *sid = rs->flow->steps[rs->row->step].id;
	char *why = xasprintf(_("step %s: %s"), sid,
			      reason ? reason
				     : luong_status_text(LUONG_NOT_POSTED));

	cJSON_DeleteItemFromObjectCaseSensitive(rs->outputs, sid);
	cJSON_AddItemToObject(rs->outputs, sid,
			      output ? output : cJSON_CreateNull());
	post_failed_doc(rs, rs->row->step, sid, why);
	sched_complete(rs->e->sched, rs->flow->id, rs->row->doc_id, NULL);
	free(why);
}

enum luong_status engine_complete(struct engine *e, struct luong_ctx *ctx,
				  const char *key, enum luong_status result,
				  cJSON *output, const char *reason)
{
	struct flows_ref *r;
	const struct flow *flow;
	struct doc_row row;
	struct run_state rs = { .e = e, .row = &row };
	int rc;

	if (!key) {
		cJSON_Delete(output);
		return LUONG_E_INVAL;
	}
	running_wait(e, key);	   /* its PENDING record comes first */
	store_flush(e->rt->store); /* and whatever it wrote after */
	rc = store_find_wait(e->rt->store, key, &row);
	if (rc) {
		/* only a document waiting on this key takes an answer */
		log_msg(LUONG_LOG_INFO, ctx ? ctx->where : NULL,
			"complete(%s): no document waits for it; ignored", key);
		cJSON_Delete(output);
		return rc == 1 ? LUONG_E_NOTFOUND : LUONG_E_INTERNAL;
	}
	r = flows_acquire(e);
	flow = flow_set_find(r->set, row.flow_id);
	if (!flow || row.status != DOC_SYNCING || row.step >= flow->n_steps) {
		log_msg(LUONG_LOG_INFO, ctx ? ctx->where : NULL,
			"complete(%s): document %s is not waiting; ignored",
			key, row.doc_id);
		cJSON_Delete(output);
		doc_row_free(&row);
		flows_release(e, r);
		return LUONG_E_NOTFOUND;
	}
	rs.flow = flow;
	rs.frt = rt_get(e, flow->id);
	rs.attempt = row.attempts;
	outputs_load(&rs);
	if (result == LUONG_OK) {
		complete_ok(&rs, output);
	} else if (result == LUONG_NOT_POSTED) {
		complete_not_posted(&rs, output, reason);
	} else {
		complete_err(&rs, result, reason);
		cJSON_Delete(output);
	}
	outputs_free(&rs);
	doc_row_free(&row);
	flows_release(e, r);
	return LUONG_OK;
}

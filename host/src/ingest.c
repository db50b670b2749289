/*
 * ingest.c - events into the ledger: what plugins emit from webhooks and
 * polls (stored in one group commit before the webhook is answered),
 * guards that run their flow at once (emit_sync), and replays of stored
 * events into a flow.
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

/* The batch emit() adds to: the SDK's emit(ctx, ...) names no batch,
 * and a webhook or poll runs on one thread from begin to end. */
static __thread struct emit_batch *current_batch;

struct emit_item {
	char *event;
	char *doc_id;
	char *payload;
};

void engine_emit_begin(struct emit_batch *b, struct luong_ctx *ctx)
{
	memset(b, 0, sizeof(*b));
	b->ctx = ctx;
	current_batch = b;
}

/* What the ledger, logs and API may hold: valid UTF-8, and a document
 * id on one line. NULL if fine, else why not. */
static const char *emit_refusal(const char *doc_id, const char *payload)
{
	size_t n = strlen(doc_id);

	if (!util_utf8_valid(doc_id, n))
		return "the document id is not valid UTF-8";
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)doc_id[i] < 0x20 || doc_id[i] == 0x7f)
			return "the document id holds a control character";
	if (!util_utf8_valid(payload, strlen(payload)))
		return "the document is not valid UTF-8";
	return NULL;
}

enum luong_status engine_emit(struct luong_ctx *ctx, const char *event,
			      const char *doc_id, cJSON *payload)
{
	struct emit_batch *b = current_batch;
	struct emit_item *it;
	const char *why = NULL;
	char *text, *id;

	if (!b || b->ctx != ctx)
		why = "emit() outside webhook() or poll()";
	else if (!event || !plugin_event(ctx->plugin, event))
		why = "undeclared event";
	else if (plugin_event(ctx->plugin, event)->kind == LUONG_EVENT_GUARD &&
		 !b->sync)
		why = "a guard event goes through emit_sync()";
	else if (!doc_id || !*doc_id)
		why = "empty document id";
	if (why) {
		log_msg(LUONG_LOG_ERROR, ctx ? ctx->where : NULL,
			"emit(): %s; event dropped", why);
		cJSON_Delete(payload);
		return LUONG_E_INVAL;
	}
	/* the id and event may point into the payload (SDK: allowed): use
	 * copies and the plugin's own event name from here on */
	id = xstrdup(doc_id);
	event = plugin_event(ctx->plugin, event)->name;
	text = payload ? cJSON_PrintUnformatted(payload) : xstrdup("{}");
	cJSON_Delete(payload);
	if ((why = emit_refusal(id, text))) {
		log_msg(LUONG_LOG_ERROR, ctx->where,
			"emit(%s): %s; event "
			"refused",
			event, why);
		free(text);
		free(id);
		return LUONG_E_INVAL;
	}
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 4;
		b->items = xrealloc(b->items, b->cap * sizeof(*b->items));
	}
	it = &b->items[b->n++];
	it->event = xstrdup(event);
	it->doc_id = id;
	it->payload = text;
	return LUONG_OK;
}

/* A flow's order key for a document: order_by's value as text (a
 * string as is, anything else as JSON), or NULL = the document. */
static char *order_key_of(const struct flow *f, cJSON *doc, cJSON *vars)
{
	cJSON *v = NULL;
	char err[256], *key = NULL;

	if (!f->order_by)
		return NULL;
	if (expr_eval(f->order_by, doc, vars, &v, err, sizeof(err)) == 0 && v &&
	    !cJSON_IsNull(v))
		key = cJSON_IsString(v) ? xstrdup(v->valuestring)
					: cJSON_PrintUnformatted(v);
	cJSON_Delete(v);
	return key; /* no value: the document stands alone */
}

/* Per event: the flows it triggers, with what each decided. Owns what
 * its ingest_flow entries point to. */
struct fill {
	char **reasons;
	char **keys;
	size_t n;
};

static void fill_free(struct fill *fl)
{
	for (size_t i = 0; i < fl->n; i++) {
		free(fl->reasons[i]);
		free(fl->keys[i]);
	}
	free(fl->reasons);
	free(fl->keys);
}

/* Fills ev->flows with the flows of `set` this event triggers (all
 * triggered ones, or only `only` when given). */
static void fill_flows(struct engine *e, const struct flow_set *set,
		       const char *connection, const char *event,
		       const char *doc_id, const char *payload,
		       struct ingest_event *ev, struct fill *fl, bool sync,
		       const char *only)
{
	cJSON *doc = NULL;

	ev->connection = connection;
	ev->event = event;
	ev->doc_id = doc_id;
	ev->payload = payload;
	ev->flows = xcalloc(set->n + 1, sizeof(*ev->flows));
	ev->n_flows = 0;
	fl->n = set->n;
	fl->reasons = xcalloc(set->n + 1, sizeof(char *));
	fl->keys = xcalloc(set->n + 1, sizeof(char *));
	for (size_t i = 0; i < set->n; i++) {
		const struct flow *f = set->flows[i];
		struct flow_rt *frt;
		struct ingest_flow *inf;
		cJSON *vars;
		int mode, sel = 1;
		char err[512];

		if (strcmp(f->trigger_connection, connection) ||
		    strcmp(f->trigger_event, event) ||
		    (only && strcmp(only, f->id)))
			continue;
		frt = rt_get(e, f->id);
		mode = frt ? atomic_load(&frt->mode) : (int)f->mode;
		if (mode == FLOW_DISABLED)
			continue; /* disabled: triggers are ignored */
		inf = &ev->flows[ev->n_flows++];
		inf->flow_id = f->id;
		/* a guard's documents run on the caller's thread, not queued */
		inf->automatic = mode == FLOW_AUTOMATIC && !sync;
		inf->resend = f->on_change == FLOW_ON_CHANGE_RESEND;
		if (!f->when && !f->order_by && !f->echo) {
			inf->selected = 1;
			continue;
		}
		if (!doc)
			doc = cJSON_Parse(payload);
		vars = cJSON_CreateObject();
		cJSON_AddStringToObject(vars, "document_id", doc_id);
		cJSON_AddStringToObject(vars, "event", event);
		cJSON_AddStringToObject(vars, "connection", connection);
		cJSON_AddStringToObject(vars, "flow", f->id);
		if (f->when) {
			sel = expr_test(f->when, doc, vars, err, sizeof(err));
			if (sel < 0) {
				fl->reasons[i] = xasprintf(_("the filter "
							     "failed:"
							     " %s"),
							   err);
				sel = 0;
			} else if (!sel) {
				fl->reasons[i] = xstrdup(_("not selected by "
							   "the "
							   "flow's filter "
							   "(when)"));
			}
		}
		if (sel > 0 && f->echo) {
			char *h = echo_hash(f->echo, doc, vars);

			fl->reasons[i] = echo_of(e, f, doc_id, h);
			sel = fl->reasons[i] == NULL;
			inf->echo = !sel;
			free(h);
		}
		fl->keys[i] = order_key_of(f, doc, vars);
		cJSON_Delete(vars);
		inf->selected = sel;
		inf->skip_reason = fl->reasons[i];
		inf->order_key = fl->keys[i];
	}
	cJSON_Delete(doc);
}

/* A job for a document ingest just made pending: the ledger row is known,
 * so the worker need not read it back. */
static struct job *job_from_ingest(const struct ingest_event *ev,
				   const struct ingest_flow *f)
{
	struct job *j = job_new(JOB_DOC, f->flow_id, ev->doc_id, f->order_key,
				f->seq, 0);
	struct doc_row *r = xcalloc(1, sizeof(*r));

	r->flow_id = xstrdup(f->flow_id);
	r->doc_id = xstrdup(ev->doc_id);
	r->connection = xstrdup(ev->connection);
	r->event = xstrdup(ev->event);
	r->status = DOC_PENDING;
	r->seq = f->seq;
	r->created_at = r->updated_at = util_wall_ms();
	r->payload = xstrdup(ev->payload);
	r->order_key = f->order_key ? xstrdup(f->order_key) : NULL;
	r->version = 1;
	memcpy(j->payload_hash, ev->payload_hash, sizeof(j->payload_hash));
	j->row = r;
	return j;
}

/* Counts what each flow made of the stored events, queues the runnable. */
static size_t after_ingest(struct engine *e, struct ingest_event *evs, size_t n)
{
	size_t queued = 0;

	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; !evs[i].unchanged && k < evs[i].n_flows;
		     k++) {
			struct ingest_flow *f = &evs[i].flows[k];
			struct flow_rt *frt = rt_get(e, f->flow_id);

			if (frt && f->selected)
				atomic_fetch_add(&frt->received, 1);
			else if (frt)
				atomic_fetch_add(&frt->skipped, 1);
			if (f->runnable && f->resent) {
				/* its row holds the last version's outputs;
				 * an edit while it was sent waits for that
				 * run's end to be committed */
				struct job *j =
					job_new(JOB_DOC, f->flow_id,
						evs[i].doc_id, f->order_key,
						f->seq, 0);

				j->read_fresh = f->after_run;
				sched_add(e->sched, j);
				queued++;
			} else if (f->runnable) {
				sched_add(e->sched,
					  job_from_ingest(&evs[i], f));
				queued++;
			} else if (f->updated) {
				sched_refresh(e->sched, f->flow_id,
					      evs[i].doc_id);
			}
		}
	return queued;
}

int engine_emit_commit(struct engine *e, struct emit_batch *b,
		       const struct ingest_cursor *cursor)
{
	struct flows_ref *r;
	struct ingest_event *evs;
	struct fill *fills;
	int rc;

	if (!b->n && !cursor)
		return 0;
	r = flows_acquire(e);
	evs = xcalloc(b->n + 1, sizeof(*evs));
	fills = xcalloc(b->n + 1, sizeof(*fills));
	for (size_t i = 0; i < b->n; i++) {
		fill_flows(e, r->set, b->ctx->name, b->items[i].event,
			   b->items[i].doc_id, b->items[i].payload, &evs[i],
			   &fills[i], false, NULL);
		evs[i].polled = b->polled;
	}
	rc = store_ingest(e->rt->store, evs, b->n, cursor);
	if (!rc)
		after_ingest(e, evs, b->n);
	for (size_t i = 0; i < b->n; i++) {
		fill_free(&fills[i]);
		free(evs[i].flows);
	}
	free(fills);
	free(evs);
	flows_release(e, r);
	return rc;
}

int engine_emit_host(struct engine *e, const char *event, const char *doc_id,
		     cJSON *payload)
{
	char *text = cJSON_PrintUnformatted(payload);
	struct ingest_event ev = { 0 };
	struct fill fl = { 0 };
	struct flows_ref *r;
	int rc;

	cJSON_Delete(payload);
	r = flows_acquire(e);
	fill_flows(e, r->set, HOST_CONNECTION, event, doc_id, text, &ev, &fl,
		   false, NULL);
	rc = store_ingest(e->rt->store, &ev, 1, NULL);
	if (!rc)
		after_ingest(e, &ev, 1);
	fill_free(&fl);
	free(ev.flows);
	flows_release(e, r);
	free(text);
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

/* ---- guards ---------------------------------------------------------------- */

/* Outcome of a guard's document, read back from the ledger. */
static enum luong_status guard_outcome(struct engine *e, const char *flow,
				       const char *doc, cJSON **output,
				       char **reason)
{
	struct doc_row row;
	enum luong_status st;

	if (store_get_doc(e->rt->store, flow, doc, &row)) {
		*reason = xstrdup(_("the guard's result was not recorded"));
		return LUONG_E_INTERNAL;
	}
	if (row.status == DOC_SYNCED) {
		*output = row.target ? cJSON_Parse(row.target) : NULL;
		st = LUONG_OK;
	} else {
		*reason = xstrdup(row.reason ? row.reason
					     : _("the guard did not finish"));
		st = LUONG_E_REMOTE;
	}
	doc_row_free(&row);
	return st;
}

/* A disabled flow that would guard this event, or NULL. */
static const char *disabled_guard(struct engine *e, const struct flow_set *set,
				  const char *connection, const char *event)
{
	for (size_t i = 0; i < set->n; i++) {
		const struct flow *f = set->flows[i];
		struct flow_rt *frt = rt_get(e, f->id);

		if (!strcmp(f->trigger_connection, connection) &&
		    !strcmp(f->trigger_event, event) && frt &&
		    atomic_load(&frt->mode) == FLOW_DISABLED)
			return f->id;
	}
	return NULL;
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
	struct fill fl = { 0 };
	const char *off;

	*output = NULL;
	*reason = NULL;
	if (!outer || outer->ctx != ctx) {
		cJSON_Delete(payload);
		*reason = xstrdup("emit_sync() outside webhook()");
		return LUONG_E_INVAL;
	}
	engine_emit_begin(&b, ctx);
	b.sync = true;
	if (engine_emit(ctx, event, doc_id, payload) != LUONG_OK) {
		engine_emit_end(&b);
		current_batch = outer;
		*reason = xstrdup("undeclared event, empty document id or "
				  "text that is not valid UTF-8");
		return LUONG_E_INVAL;
	}
	/* the payload, which these may point into, is gone: use the copies */
	doc_id = b.items[0].doc_id;
	event = b.items[0].event;
	r = flows_acquire(e);
	fill_flows(e, r->set, ctx->name, b.items[0].event, b.items[0].doc_id,
		   b.items[0].payload, &ev, &fl, true, NULL);
	if (!ev.n_flows &&
	    (off = disabled_guard(e, r->set, ctx->name, event))) {
		/* a guard that is off cannot decide: it refuses (fail safe) */
		st = LUONG_E_REMOTE;
		*reason = xasprintf(_("the guard flow \"%s\" is disabled, so "
				      "this "
				      "cannot be checked now; ask again when "
				      "it "
				      "is on"),
				    off);
	}
	if (store_ingest(e->rt->store, &ev, 1, NULL)) {
		st = LUONG_E_INTERNAL;
		*reason = xstrdup(_("cannot store the event"));
	}
	for (size_t k = 0; !*reason && k < ev.n_flows; k++) {
		struct job *j;
		struct doc_ref *refs = NULL;
		size_t nr = 0;
		const char *ids[1] = { doc_id };

		if (!ev.flows[k].selected)
			continue;
		/* a guard is asked anew: an earlier refusal is not the answer */
		if (!store_retry(e->rt->store, ev.flows[k].flow_id, ids, 1,
				 false, &refs, &nr, NULL))
			doc_refs_free(refs, nr);
		j = job_new(JOB_DOC, ev.flows[k].flow_id, doc_id, NULL, 0, 0);
		run_doc(e, j, true);
		job_free(j);
		store_flush(e->rt->store); /* its outcome is written async */
		cJSON_Delete(*output);
		*output = NULL;
		st = guard_outcome(e, ev.flows[k].flow_id, doc_id, output,
				   reason);
	}
	fill_free(&fl);
	free(ev.flows);
	flows_release(e, r);
	engine_emit_end(&b);
	current_batch = outer;
	return st;
}

/* ---- one document given to one flow (the go-live check's send) ---------- */

int ingest_for_flow(struct engine *e, const struct flow_set *set,
		    const struct flow *f, const char *doc_id,
		    const char *payload, int64_t seq, bool *queued)
{
	struct ingest_event ev = { 0 };
	struct fill fl = { 0 };
	int rc;

	fill_flows(e, set, f->trigger_connection, f->trigger_event, doc_id,
		   payload, &ev, &fl, false, f->id);
	ev.replay_seq = seq;
	rc = store_ingest(e->rt->store, &ev, 1, NULL);
	*queued = !rc && after_ingest(e, &ev, 1) > 0;
	fill_free(&fl);
	free(ev.flows);
	return rc;
}

/* ---- replay ------------------------------------------------------------------ */

#define REPLAY_PAGE 500

int engine_replay(struct engine *e, const char *flow_id, int64_t from_ms,
		  int64_t to_ms, cJSON **result, char *err, size_t errlen)
{
	struct flows_ref *r = flows_acquire(e);
	const struct flow *f = flow_set_find(r->set, flow_id);
	struct flow_rt *frt = rt_get(e, flow_id);
	size_t events = 0, queued = 0, added = 0;
	int64_t after = 0;
	int rc = 0;

	if (!f || !frt) {
		snprintf(err, errlen, _("unknown flow \"%s\""), flow_id);
		flows_release(e, r);
		return -1;
	}
	if (atomic_load(&frt->mode) == FLOW_DISABLED) {
		snprintf(err, errlen,
			 _("flow \"%s\" is disabled: switch it to "
			   "automatic or manual first"),
			 flow_id);
		flows_release(e, r);
		return -1;
	}
	for (;;) {
		struct stored_event *evs = NULL;
		struct ingest_event *ins;
		struct fill *fills;
		size_t n = 0;

		if (store_events(e->rt->store, f->trigger_connection,
				 f->trigger_event, from_ms, to_ms, after,
				 REPLAY_PAGE, &evs, &n)) {
			rc = -1;
			break;
		}
		if (!n) {
			free(evs);
			break;
		}
		ins = xcalloc(n, sizeof(*ins));
		fills = xcalloc(n, sizeof(*fills));
		for (size_t i = 0; i < n; i++) {
			fill_flows(e, r->set, f->trigger_connection,
				   f->trigger_event, evs[i].doc_id,
				   evs[i].payload, &ins[i], &fills[i], false,
				   flow_id);
			ins[i].replay_seq = evs[i].seq;
		}
		/* the one-effect rule of ingest holds: a document already
		 * synced is not sent again */
		rc = store_ingest(e->rt->store, ins, n, NULL);
		if (!rc) {
			queued += after_ingest(e, ins, n);
			for (size_t i = 0; i < n; i++)
				added += ins[i].n_flows;
		}
		for (size_t i = 0; i < n; i++) {
			fill_free(&fills[i]);
			free(ins[i].flows);
		}
		free(fills);
		free(ins);
		events += n;
		after = evs[n - 1].seq;
		stored_events_free(evs, n);
		if (rc)
			break;
	}
	flows_release(e, r);
	if (rc) {
		snprintf(err, errlen, _("cannot read or update the ledger"));
		return -1;
	}
	log_info("flow=%s replay events=%zu queued=%zu", flow_id, events,
		 queued);
	*result = cJSON_CreateObject();
	cJSON_AddNumberToObject(*result, "events", (double)events);
	cJSON_AddNumberToObject(*result, "given_to_flow", (double)added);
	cJSON_AddNumberToObject(*result, "queued", (double)queued);
	return 0;
}

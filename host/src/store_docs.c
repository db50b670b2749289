/*
 * store_docs.c - the SQLite store: documents in the ledger after ingest:
 * the runner's updates (and the edit that waited for a run to end), push
 * and retry, and the reads of documents, history and stored events.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "i18n.h"
#include "log.h"
#include "store_int.h"
#include "util.h"

/* ---- ledger updates -------------------------------------------------------------- */

/* The run of a document ended while an edit waited for it (next_seq):
 * synced, the edit becomes the next version, sent as an update; any other
 * end keeps its status with the edit's content as the one to send. */
static int take_next_version(struct store *s, const struct doc_update *u,
			     int64_t now)
{
	sqlite3_stmt *st = wprep(s, "SELECT e.payload, e.event, e.seq, "
				    "d.seen_hash FROM docs d JOIN events e "
				    "ON e.seq=d.next_seq WHERE d.flow=? AND "
				    "d.doc_id=?");
	char *payload, *event, *hash, detail[160];
	int64_t seq;
	int rc;
	bool synced = u->status == DOC_SYNCED;

	if (!st)
		return -1;
	bind_text(st, 1, u->flow_id);
	bind_text(st, 2, u->doc_id);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		wrelease(s, st);
		return rc == SQLITE_DONE ? 0 : -1;
	}
	payload = col_text(st, 0);
	event = col_text(st, 1);
	seq = sqlite3_column_int64(st, 2);
	hash = col_text(st, 3);
	wrelease(s, st);
	st = wprep(s, synced ? "UPDATE docs SET payload=?, payload_hash=?, "
			       "seen_hash=NULL, event=?, seq=?, next_seq=NULL,"
			       " status=0, version=version+1, "
			       "prev_outputs=outputs, outputs=NULL, step=0, "
			       "attempts=0, next_at=0, reason=NULL, "
			       "wait_key=NULL, changed_after_sync=0, "
			       "updated_at=? WHERE flow=? AND doc_id=? "
			       "RETURNING version"
			     : "UPDATE docs SET payload=?, payload_hash=?, "
			       "seen_hash=NULL, event=?, seq=?, next_seq=NULL,"
			       " updated_at=? WHERE flow=? AND doc_id=? "
			       "RETURNING version");
	rc = -1;
	if (st && payload && event && hash) {
		bind_text(st, 1, payload);
		bind_text(st, 2, hash);
		bind_text(st, 3, event);
		sqlite3_bind_int64(st, 4, seq);
		sqlite3_bind_int64(st, 5, now);
		bind_text(st, 6, u->flow_id);
		bind_text(st, 7, u->doc_id);
		if (sqlite3_step(st) == SQLITE_ROW) {
			snprintf(detail, sizeof(detail),
				 synced ? _("version %d, the edit that came "
					    "while the last one was being "
					    "sent, is sent as an update")
					: _("the edit that came while it was "
					    "being sent is the content to "
					    "send (version %d)"),
				 sqlite3_column_int(st, 0));
			rc = wstep(s, st) ? -1 : 0;
			if (!rc && synced && u->next_version)
				*u->next_version = true;
		} else {
			log_error("store: %s", sqlite3_errmsg(writer_db(s)));
			wrelease(s, st);
		}
	} else if (st) {
		wrelease(s, st);
	}
	free(payload);
	free(event);
	free(hash);
	if (rc)
		return -1;
	return add_history(s, u->flow_id, u->doc_id, now, NULL,
			   synced ? "changed-resend" : "updated", detail);
}

/* A deep copy, so async updates own their strings. */
void *pack_copy(const void *obj, size_t size, const size_t *offs, size_t n)
{
	size_t len = 0;
	char *copy, *p;

	for (size_t i = 0; i < n; i++) {
		const char *str =
			*(const char *const *)((const char *)obj + offs[i]);

		if (str)
			len += strlen(str) + 1;
	}
	copy = xmalloc(size + len);
	memcpy(copy, obj, size);
	p = copy + size;
	for (size_t i = 0; i < n; i++) {
		const char **dst = (const char **)(copy + offs[i]);

		if (!*dst)
			continue;
		strcpy(p, *dst);
		*dst = p;
		p += strlen(p) + 1;
	}
	return copy;
}

static struct doc_update *update_copy(const struct doc_update *u)
{
	static const size_t offs[] = {
		offsetof(struct doc_update, flow_id),
		offsetof(struct doc_update, doc_id),
		offsetof(struct doc_update, reason),
		offsetof(struct doc_update, outputs),
		offsetof(struct doc_update, target),
		offsetof(struct doc_update, wait_key),
		offsetof(struct doc_update, h_step),
		offsetof(struct doc_update, h_outcome),
		offsetof(struct doc_update, h_detail),
		offsetof(struct doc_update, expect_hash),
	};

	return pack_copy(u, sizeof(*u), offs, ARRAY_SIZE(offs));
}

static int update_fn(struct store *s, struct wop *op)
{
	const struct doc_update *u = wop_arg(op);
	int64_t now = util_wall_ms();
	bool waiting_edit = false;
	sqlite3_stmt *st;
	int rc;

	st = wprep(s, "UPDATE docs SET status=?, attempts=?, next_at=?, "
		      "reason=?, step=?, outputs=COALESCE(?, outputs), "
		      "target=COALESCE(?, target), wait_key=?, updated_at=?,"
		      " pushed=CASE WHEN ? IN (2,3,5) THEN 0 ELSE pushed END,"
		      " ignore_warnings=CASE WHEN ? IN (2,3,5) THEN 0 "
		      "ELSE ignore_warnings END,"
		      " renumber=MAX(renumber, ?),"
		      " changed_after_sync=CASE WHEN ? IS NOT NULL AND "
		      "payload_hash<>? THEN 1 ELSE changed_after_sync END "
		      "WHERE flow=? AND doc_id=? RETURNING next_seq");
	if (!st)
		return -1;
	sqlite3_bind_int(st, 1, u->status);
	sqlite3_bind_int(st, 2, (int)u->attempts);
	sqlite3_bind_int64(st, 3, u->next_at);
	bind_text(st, 4, u->reason);
	sqlite3_bind_int(st, 5, (int)u->step);
	bind_text(st, 6, u->outputs);
	bind_text(st, 7, u->target);
	bind_text(st, 8, u->wait_key);
	sqlite3_bind_int64(st, 9, now);
	sqlite3_bind_int(st, 10, u->status);
	sqlite3_bind_int(st, 11, u->status);
	sqlite3_bind_int(st, 12, (int)u->renumber);
	bind_text(st, 13, u->expect_hash);
	bind_text(st, 14, u->expect_hash);
	bind_text(st, 15, u->flow_id);
	bind_text(st, 16, u->doc_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		waiting_edit = sqlite3_column_type(st, 0) != SQLITE_NULL;
		if (wstep(s, st)) /* runs the statement to its end */
			return -1;
	} else {
		wrelease(s, st);
		if (rc != SQLITE_DONE) {
			log_error("store: %s", sqlite3_errmsg(writer_db(s)));
			return -1;
		}
	}
	if (u->h_outcome && add_history(s, u->flow_id, u->doc_id, now,
					u->h_step, u->h_outcome, u->h_detail))
		return -1;
	/* an edit waiting for the run that just ended (ingest_resend_later):
	 * read only then, not on every end of every document */
	if (!waiting_edit || u->status == DOC_SYNCING)
		return 0;
	return take_next_version(s, u, now);
}

void store_update_async(struct store *s, const struct doc_update *u,
			store_done_fn done, void *ud)
{
	run_async(s, update_fn, update_copy(u), done, ud);
}

int store_update(struct store *s, const struct doc_update *u)
{
	struct doc_update *a = update_copy(u);
	int rc = run_sync(s, update_fn, a);

	free(a);
	return rc;
}

static int noop_fn(struct store *s, struct wop *op)
{
	return 0;
}

int store_flush(struct store *s)
{
	/* the writer is FIFO: this commits after everything before it */
	return run_sync(s, noop_fn, NULL);
}

/* ---- push and retry ---------------------------------------------------------------- */

struct requeue_arg {
	const char *flow;
	const char *const *ids;
	size_t n_ids;
	enum doc_status from;
	bool ignore_warnings;
	struct doc_ref *out;
	size_t n, cap;
	cJSON *missing;
};

static void ref_add(struct requeue_arg *a, const char *doc, int64_t seq,
		    const char *order_key)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 16;
		a->out = xrealloc(a->out, a->cap * sizeof(*a->out));
	}
	a->out[a->n].flow_id = xstrdup(a->flow);
	a->out[a->n].doc_id = xstrdup(doc);
	a->out[a->n].order_key = order_key ? xstrdup(order_key) : NULL;
	a->out[a->n].seq = seq;
	a->out[a->n].next_at = 0;
	a->out[a->n].waiting = false;
	a->n++;
}

/* A retry takes failed documents and those made but not posted. */
static int also_from(const struct requeue_arg *a)
{
	return a->from == DOC_FAILED ? DOC_POST_FAILED : (int)a->from;
}

static int requeue_one(struct store *s, struct requeue_arg *a, const char *doc,
		       int64_t seq, const char *order_key, int64_t now)
{
	const char *outcome =
		a->from == DOC_FAILED ? "retry-requested" : "pushed";
	sqlite3_stmt *st;

	st = wprep(s, "UPDATE docs SET status=0, pushed=1, next_at=0, "
		      "attempts=CASE WHEN ?=3 THEN 0 ELSE attempts END, "
		      "ignore_warnings=?, updated_at=? "
		      "WHERE flow=? AND doc_id=?");
	if (!st)
		return -1;
	sqlite3_bind_int(st, 1, a->from);
	sqlite3_bind_int(st, 2, a->ignore_warnings);
	sqlite3_bind_int64(st, 3, now);
	bind_text(st, 4, a->flow);
	bind_text(st, 5, doc);
	if (wstep(s, st))
		return -1;
	ref_add(a, doc, seq, order_key);
	return add_history(s, a->flow, doc, now, NULL, outcome,
			   a->ignore_warnings ? "ignore warnings" : NULL);
}

static int requeue_fn(struct store *s, struct wop *op)
{
	struct requeue_arg *a = wop_arg(op);
	int64_t now = util_wall_ms();
	sqlite3_stmt *st;
	int rc = 0;

	if (!a->ids) {
		st = wprep(s, "SELECT doc_id, seq, order_key FROM docs "
			      "WHERE flow=? AND status IN (?, ?) "
			      "ORDER BY seq");
		if (!st)
			return -1;
		bind_text(st, 1, a->flow);
		sqlite3_bind_int(st, 2, a->from);
		sqlite3_bind_int(st, 3, also_from(a));
		while (!rc && sqlite3_step(st) == SQLITE_ROW)
			rc = requeue_one(
				s, a, (const char *)sqlite3_column_text(st, 0),
				sqlite3_column_int64(st, 1),
				(const char *)sqlite3_column_text(st, 2), now);
		wrelease(s, st);
		return rc;
	}
	for (size_t i = 0; !rc && i < a->n_ids; i++) {
		bool seen = false;

		/* an id named twice is queued (and recorded) once */
		for (size_t j = 0; j < i && !seen; j++)
			seen = !strcmp(a->ids[j], a->ids[i]);
		if (seen)
			continue;
		st = wprep(s, "SELECT seq, status, order_key FROM docs "
			      "WHERE flow=? AND doc_id=?");
		if (!st)
			return -1;
		bind_text(st, 1, a->flow);
		bind_text(st, 2, a->ids[i]);
		if (sqlite3_step(st) == SQLITE_ROW &&
		    (sqlite3_column_int(st, 1) == (int)a->from ||
		     sqlite3_column_int(st, 1) == also_from(a))) {
			int64_t seq = sqlite3_column_int64(st, 0);
			char *key = col_text(st, 2);

			wrelease(s, st);
			rc = requeue_one(s, a, a->ids[i], seq, key, now);
			free(key);
		} else {
			wrelease(s, st);
			cJSON_AddItemToArray(a->missing,
					     cJSON_CreateString(a->ids[i]));
		}
	}
	return rc;
}

static int requeue(struct store *s, struct requeue_arg *a, struct doc_ref **out,
		   size_t *n, cJSON **missing)
{
	int rc;

	a->missing = cJSON_CreateArray();
	rc = run_sync(s, requeue_fn, a);
	if (rc) {
		doc_refs_free(a->out, a->n);
		cJSON_Delete(a->missing);
		return -1;
	}
	*out = a->out;
	*n = a->n;
	if (missing)
		*missing = a->missing;
	else
		cJSON_Delete(a->missing);
	return 0;
}

int store_push(struct store *s, const char *flow_id, const char *const *ids,
	       size_t n_ids, struct doc_ref **out, size_t *n, cJSON **missing)
{
	struct requeue_arg a = {
		.flow = flow_id, .ids = ids, .n_ids = n_ids, .from = DOC_PENDING
	};

	return requeue(s, &a, out, n, missing);
}

int store_retry(struct store *s, const char *flow_id, const char *const *ids,
		size_t n_ids, bool ignore_warnings, struct doc_ref **out,
		size_t *n, cJSON **missing)
{
	struct requeue_arg a = { .flow = flow_id,
				 .ids = ids,
				 .n_ids = n_ids,
				 .from = DOC_FAILED,
				 .ignore_warnings = ignore_warnings };

	return requeue(s, &a, out, n, missing);
}

void doc_refs_free(struct doc_ref *refs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(refs[i].flow_id);
		free(refs[i].doc_id);
		free(refs[i].order_key);
	}
	free(refs);
}

/* ---- reads --------------------------------------------------------------------- */

int store_runnable(struct store *s, const char *flow_id, bool automatic,
		   struct doc_ref **out, size_t *n)
{
	sqlite3_stmt *st;
	struct requeue_arg a = { .flow = flow_id };

	st = read_prep(s, "SELECT doc_id, seq, next_at, order_key, "
			  "wait_key IS NOT NULL FROM docs WHERE flow=? AND"
			  " ((status=0 AND (pushed=1 OR ?=1)) OR status=1)"
			  " ORDER BY seq");
	if (!st)
		return -1;
	bind_text(st, 1, flow_id);
	sqlite3_bind_int(st, 2, automatic);
	while (sqlite3_step(st) == SQLITE_ROW) {
		ref_add(&a, (const char *)sqlite3_column_text(st, 0),
			sqlite3_column_int64(st, 1),
			(const char *)sqlite3_column_text(st, 3));
		a.out[a.n - 1].next_at = sqlite3_column_int64(st, 2);
		a.out[a.n - 1].waiting = sqlite3_column_int(st, 4);
	}
	read_done(s, st);
	*out = a.out;
	*n = a.n;
	return 0;
}

void doc_row_free(struct doc_row *r)
{
	free(r->flow_id);
	free(r->doc_id);
	free(r->connection);
	free(r->event);
	free(r->reason);
	free(r->payload);
	free(r->outputs);
	free(r->target);
	free(r->wait_key);
	free(r->order_key);
	free(r->prev_outputs);
	memset(r, 0, sizeof(*r));
}

#define DOC_COLUMNS                                                            \
	"flow, doc_id, connection, event, status, attempts, step, seq, "       \
	"next_at, created_at, updated_at, pushed, ignore_warnings, "           \
	"changed_after_sync, reason, payload, outputs, target, wait_key, "     \
	"order_key, version, prev_outputs, renumber "

static void read_doc(sqlite3_stmt *st, struct doc_row *r)
{
	r->flow_id = col_text(st, 0);
	r->doc_id = col_text(st, 1);
	r->connection = col_text(st, 2);
	r->event = col_text(st, 3);
	r->status = (enum doc_status)sqlite3_column_int(st, 4);
	r->attempts = (uint32_t)sqlite3_column_int(st, 5);
	r->step = (uint32_t)sqlite3_column_int(st, 6);
	r->seq = sqlite3_column_int64(st, 7);
	r->next_at = sqlite3_column_int64(st, 8);
	r->created_at = sqlite3_column_int64(st, 9);
	r->updated_at = sqlite3_column_int64(st, 10);
	r->pushed = sqlite3_column_int(st, 11);
	r->ignore_warnings = sqlite3_column_int(st, 12);
	r->changed_after_sync = sqlite3_column_int(st, 13);
	r->reason = col_text(st, 14);
	r->payload = col_text(st, 15);
	r->outputs = col_text(st, 16);
	r->target = col_text(st, 17);
	r->wait_key = col_text(st, 18);
	r->order_key = col_text(st, 19);
	r->version = (uint32_t)sqlite3_column_int(st, 20);
	r->prev_outputs = col_text(st, 21);
	r->renumber = (uint32_t)sqlite3_column_int(st, 22);
}

static void read_doc_row(sqlite3_stmt *st, void *out)
{
	read_doc(st, out);
}

static int get_doc_where(struct store *s, const char *sql, const char *a1,
			 const char *a2, struct doc_row *out)
{
	return query_row(s, sql, a1, a2, read_doc_row, out);
}

int store_get_doc(struct store *s, const char *flow_id, const char *doc_id,
		  struct doc_row *out)
{
	return get_doc_where(s,
			     "SELECT " DOC_COLUMNS "FROM docs WHERE flow=?"
			     " AND doc_id=?",
			     flow_id, doc_id, out);
}

int store_find_wait(struct store *s, const char *key, struct doc_row *out)
{
	return get_doc_where(s,
			     "SELECT " DOC_COLUMNS "FROM docs WHERE "
			     "wait_key=?",
			     key, NULL, out);
}

static void add_json_text(cJSON *obj, const char *name, const char *text)
{
	cJSON *v;

	if (!text) {
		cJSON_AddNullToObject(obj, name);
		return;
	}
	v = cJSON_Parse(text);
	if (v)
		cJSON_AddItemToObject(obj, name, v);
	else
		cJSON_AddStringToObject(obj, name, text);
}

void add_time(cJSON *obj, const char *name, int64_t ms)
{
	char ts[40];

	if (!ms) {
		cJSON_AddNullToObject(obj, name);
		return;
	}
	util_vn_time(ms, ts, sizeof(ts));
	cJSON_AddStringToObject(obj, name, ts);
}

cJSON *store_list_docs(struct store *s, const char *flow_id, const char *status,
		       int64_t after_seq, int limit)
{
	enum doc_status want = DOC_PENDING;
	sqlite3_stmt *st;
	cJSON *arr;

	if (status && doc_status_parse(status, &want))
		return NULL;
	st = read_prep(s, "SELECT " DOC_COLUMNS "FROM docs WHERE flow=? AND "
			  "(?=0 OR status=?) AND seq>? ORDER BY seq LIMIT ?");
	if (!st)
		return NULL;
	bind_text(st, 1, flow_id);
	sqlite3_bind_int(st, 2, status != NULL);
	sqlite3_bind_int(st, 3, want);
	sqlite3_bind_int64(st, 4, after_seq);
	sqlite3_bind_int(st, 5, limit > 0 ? limit : 100);
	arr = cJSON_CreateArray();
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct doc_row r;
		cJSON *o = cJSON_CreateObject();

		read_doc(st, &r);
		cJSON_AddStringToObject(o, "document", r.doc_id);
		cJSON_AddStringToObject(o, "status", doc_status_name(r.status));
		cJSON_AddNumberToObject(o, "seq", (double)r.seq);
		cJSON_AddStringToObject(o, "event", r.event);
		cJSON_AddNumberToObject(o, "attempts", r.attempts);
		if (r.reason)
			cJSON_AddStringToObject(o, "reason", r.reason);
		else
			cJSON_AddNullToObject(o, "reason");
		add_json_text(o, "target", r.target);
		cJSON_AddBoolToObject(o, "changed_after_sync",
				      r.changed_after_sync);
		cJSON_AddNumberToObject(o, "version", r.version);
		cJSON_AddBoolToObject(o, "waiting_for_callback",
				      r.wait_key != NULL);
		add_time(o, "next_attempt_at",
			 r.status == DOC_PENDING ? r.next_at : 0);
		add_time(o, "updated_at", r.updated_at);
		cJSON_AddItemToArray(arr, o);
		doc_row_free(&r);
	}
	read_done(s, st);
	return arr;
}

cJSON *store_history(struct store *s, const char *flow_id, const char *doc_id)
{
	sqlite3_stmt *st;
	cJSON *arr;

	st = read_prep(s, "SELECT at, step, outcome, detail FROM history "
			  "WHERE flow=? AND doc_id=? ORDER BY id");
	if (!st)
		return NULL;
	bind_text(st, 1, flow_id);
	bind_text(st, 2, doc_id);
	arr = cJSON_CreateArray();
	while (sqlite3_step(st) == SQLITE_ROW) {
		cJSON *o = cJSON_CreateObject();
		const char *step = (const char *)sqlite3_column_text(st, 1);
		const char *detail = (const char *)sqlite3_column_text(st, 3);

		add_time(o, "at", sqlite3_column_int64(st, 0));
		if (step)
			cJSON_AddStringToObject(o, "step", step);
		cJSON_AddStringToObject(
			o, "outcome", (const char *)sqlite3_column_text(st, 2));
		if (detail)
			cJSON_AddStringToObject(o, "detail", detail);
		cJSON_AddItemToArray(arr, o);
	}
	read_done(s, st);
	return arr;
}

int store_events(struct store *s, const char *connection, const char *event,
		 int64_t from_ms, int64_t to_ms, int64_t after, int limit,
		 struct stored_event **out, size_t *n)
{
	sqlite3_stmt *st;
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	st = read_prep(s, "SELECT seq, received_at, doc_id, payload FROM "
			  "events "
			  "WHERE connection=? AND event=? AND received_at>=? "
			  "AND "
			  "received_at<=? AND seq>? ORDER BY seq LIMIT ?");
	if (!st)
		return -1;
	bind_text(st, 1, connection);
	bind_text(st, 2, event);
	sqlite3_bind_int64(st, 3, from_ms);
	sqlite3_bind_int64(st, 4, to_ms);
	sqlite3_bind_int64(st, 5, after);
	sqlite3_bind_int(st, 6, limit);
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct stored_event *ev;

		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		ev = &(*out)[(*n)++];
		ev->seq = sqlite3_column_int64(st, 0);
		ev->received_at = sqlite3_column_int64(st, 1);
		ev->doc_id = col_text(st, 2);
		ev->payload = col_text(st, 3);
	}
	read_done(s, st);
	return 0;
}

int store_last_event(struct store *s, const char *connection, const char *event,
		     const char *doc_id, struct stored_event *out)
{
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof(*out));
	st = read_prep(s, "SELECT seq, received_at, doc_id, payload FROM "
			  "events "
			  "WHERE connection=? AND event=? AND doc_id=? "
			  "ORDER BY seq DESC LIMIT 1");
	if (!st)
		return -1;
	bind_text(st, 1, connection);
	bind_text(st, 2, event);
	bind_text(st, 3, doc_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->seq = sqlite3_column_int64(st, 0);
		out->received_at = sqlite3_column_int64(st, 1);
		out->doc_id = col_text(st, 2);
		out->payload = col_text(st, 3);
	}
	read_done(s, st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
}

void stored_events_free(struct stored_event *evs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(evs[i].doc_id);
		free(evs[i].payload);
	}
	free(evs);
}

cJSON *store_counts(struct store *s)
{
	sqlite3_stmt *st;
	cJSON *obj;

	st = read_prep(s, "SELECT flow, status, n FROM doc_counts WHERE n>0");
	if (!st)
		return NULL;
	obj = cJSON_CreateObject();
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *flow = (const char *)sqlite3_column_text(st, 0);
		cJSON *f = cJSON_GetObjectItemCaseSensitive(obj, flow);

		if (!f)
			f = cJSON_AddObjectToObject(obj, flow);
		cJSON_AddNumberToObject(
			f,
			doc_status_name(
				(enum doc_status)sqlite3_column_int(st, 1)),
			(double)sqlite3_column_int64(st, 2));
	}
	read_done(s, st);
	return obj;
}

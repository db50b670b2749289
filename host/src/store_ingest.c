/*
 * store_ingest.c - the SQLite store: events into the ledger. Each event
 * becomes, per flow it triggers, a new document, a duplicate, an edit
 * (flagged, or the next version to send), or nothing at all when a poll
 * lists a record whose content the ledger holds already.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "i18n.h"
#include "log.h"
#include "seen.h"
#include "store_int.h"
#include "util.h"

struct ingest_arg {
	struct ingest_event *evs;
	size_t n;
	const struct ingest_cursor *cursor;
};

/* A document the flow has not seen: pending, or skipped. */
static int ingest_new(struct store *s, const struct ingest_event *ev,
		      struct ingest_flow *f, int64_t seq, const char *hash,
		      int64_t now)
{
	sqlite3_stmt *st = wprep(s, "INSERT INTO docs(flow, doc_id, "
				    "connection, event, seq, status, payload, "
				    "payload_hash, reason, created_at, "
				    "updated_at, order_key) "
				    "VALUES(?,?,?,?,?,?,?,?,?,?,?,?)");

	if (!st)
		return -1;
	bind_text(st, 1, f->flow_id);
	bind_text(st, 2, ev->doc_id);
	bind_text(st, 3, ev->connection);
	bind_text(st, 4, ev->event);
	sqlite3_bind_int64(st, 5, seq);
	sqlite3_bind_int(st, 6, f->selected ? DOC_PENDING : DOC_SKIPPED);
	bind_text(st, 7, ev->payload);
	bind_text(st, 8, hash);
	bind_text(st, 9, f->selected ? NULL : f->skip_reason);
	sqlite3_bind_int64(st, 10, now);
	sqlite3_bind_int64(st, 11, now);
	bind_text(st, 12, f->order_key);
	if (wstep(s, st))
		return -1;
	f->runnable = f->selected && f->automatic;
	return add_history(s, f->flow_id, ev->doc_id, now, NULL,
			   f->selected ? "received" : "skipped",
			   f->selected ? ev->event : f->skip_reason);
}

/* A synced document seen again with `hash`: flagged changed after sync
 * (the target may not allow updates, as MISA: never a second document, a
 * person decides), or (echo) known as the host's own write coming back.
 * Either way the content is remembered, so its return to an older one is
 * news. */
static int ingest_seen(struct store *s, const struct ingest_event *ev,
		       const struct ingest_flow *f, const char *hash,
		       int64_t now, bool flag)
{
	sqlite3_stmt *st = wprep(s, "UPDATE docs SET changed_after_sync="
				    "changed_after_sync OR ?, seen_hash=?, "
				    "updated_at=? WHERE flow=? AND doc_id=?");

	if (!st)
		return -1;
	sqlite3_bind_int(st, 1, flag);
	bind_text(st, 2, hash);
	sqlite3_bind_int64(st, 3, now);
	bind_text(st, 4, f->flow_id);
	bind_text(st, 5, ev->doc_id);
	if (wstep(s, st))
		return -1;
	if (!flag)
		return add_history(s, f->flow_id, ev->doc_id, now, NULL, "echo",
				   f->skip_reason);
	return add_history(s, f->flow_id, ev->doc_id, now, NULL,
			   "changed-after-sync",
			   _("the source document changed "
			     "after it was sent; not sent again"));
}

/* on_change: resend: the newer version of a synced document is the
 * next version to send, as an update of what the last one made. */
static int ingest_resend(struct store *s, const struct ingest_event *ev,
			 struct ingest_flow *f, int64_t seq, const char *hash,
			 int64_t now)
{
	sqlite3_stmt *st = wprep(s, "UPDATE docs SET payload=?, "
				    "payload_hash=?, seen_hash=NULL, event=?, "
				    "seq=?, status=0, version=version+1, "
				    "prev_outputs=outputs, outputs=NULL, "
				    "step=0, attempts=0, next_at=0, "
				    "reason=NULL, wait_key=NULL, pushed=0, "
				    "ignore_warnings=0, changed_after_sync=0,"
				    " updated_at=?, order_key=? "
				    "WHERE flow=? AND doc_id=? "
				    "RETURNING version");
	char detail[96];
	int version;

	if (!st)
		return -1;
	bind_text(st, 1, ev->payload);
	bind_text(st, 2, hash);
	bind_text(st, 3, ev->event);
	sqlite3_bind_int64(st, 4, seq);
	sqlite3_bind_int64(st, 5, now);
	bind_text(st, 6, f->order_key);
	bind_text(st, 7, f->flow_id);
	bind_text(st, 8, ev->doc_id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		log_error("store: %s", sqlite3_errmsg(writer_db(s)));
		wrelease(s, st);
		return -1;
	}
	version = sqlite3_column_int(st, 0);
	if (wstep(s, st)) /* runs the statement to its end */
		return -1;
	f->runnable = f->automatic;
	f->resent = true;
	f->seq = seq;
	snprintf(detail, sizeof(detail),
		 _("the source document changed after "
		   "it was sent; version %d is sent as an update"),
		 version);
	return add_history(s, f->flow_id, ev->doc_id, now, NULL,
			   "changed-resend", detail);
}

/* on_change: resend, and the last version is being sent: this edit is
 * the next version, sent once that one has ended (update_fn takes it
 * from its event then). Its hash is known, so the same edit again is a
 * duplicate. */
static int ingest_resend_later(struct store *s, const struct ingest_event *ev,
			       struct ingest_flow *f, int64_t seq,
			       const char *hash, int64_t now)
{
	sqlite3_stmt *st = wprep(s, "UPDATE docs SET next_seq=?, seen_hash=?,"
				    " updated_at=? WHERE flow=? AND doc_id=?");

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, seq);
	bind_text(st, 2, hash);
	sqlite3_bind_int64(st, 3, now);
	bind_text(st, 4, f->flow_id);
	bind_text(st, 5, ev->doc_id);
	if (wstep(s, st))
		return -1;
	/* the scheduler runs it again once the running one has ended */
	f->runnable = f->automatic;
	f->resent = true;
	f->after_run = true;
	f->seq = seq;
	return add_history(s, f->flow_id, ev->doc_id, now, NULL,
			   "changed-while-sending",
			   _("the source document changed while it was being "
			     "sent; the new version is sent after this one"));
}

/* Not sent yet (pending, failed or skipped): the newest version is the
 * one to send. */
static int ingest_newer(struct store *s, const struct ingest_event *ev,
			struct ingest_flow *f, int status, const char *hash,
			int64_t now)
{
	int new_status = status;
	sqlite3_stmt *st;

	if (status == DOC_SKIPPED && f->selected)
		new_status = DOC_PENDING;
	if (status == DOC_PENDING && !f->selected)
		new_status = DOC_SKIPPED;
	/* a skip reason must not outlive the skip */
	st = wprep(s, "UPDATE docs SET payload=?, payload_hash=?, "
		      "seen_hash=NULL, status=?, event=?, "
		      "reason=CASE WHEN ?=4 THEN ? "
		      "WHEN status=4 THEN NULL ELSE reason END, "
		      "updated_at=?, order_key=? "
		      "WHERE flow=? AND doc_id=?");
	if (!st)
		return -1;
	bind_text(st, 1, ev->payload);
	bind_text(st, 2, hash);
	sqlite3_bind_int(st, 3, new_status);
	bind_text(st, 4, ev->event);
	sqlite3_bind_int(st, 5, new_status);
	bind_text(st, 6, f->skip_reason);
	sqlite3_bind_int64(st, 7, now);
	bind_text(st, 8, f->order_key);
	bind_text(st, 9, f->flow_id);
	bind_text(st, 10, ev->doc_id);
	if (wstep(s, st) ||
	    add_history(s, f->flow_id, ev->doc_id, now, NULL, "updated",
			_("a newer version arrived before it was sent")))
		return -1;
	f->runnable = new_status == DOC_PENDING && status == DOC_SKIPPED &&
		      f->automatic;
	f->updated = true;
	return 0;
}

static int ingest_one_flow(struct store *s, const struct ingest_event *ev,
			   struct ingest_flow *f, int64_t seq, const char *hash,
			   int64_t now)
{
	sqlite3_stmt *st;
	int rc, status;
	int64_t doc_seq;
	char *old_hash;

	f->runnable = false;
	f->updated = false;
	f->resent = false;
	f->after_run = false;
	f->seq = seq;
	st = wprep(s, "SELECT status, COALESCE(seen_hash, payload_hash), seq"
		      " FROM docs WHERE flow=? AND doc_id=?");
	if (!st)
		return -1;
	bind_text(st, 1, f->flow_id);
	bind_text(st, 2, ev->doc_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		wrelease(s, st);
		return ingest_new(s, ev, f, seq, hash, now);
	}
	if (rc != SQLITE_ROW) {
		wrelease(s, st);
		return -1;
	}
	status = sqlite3_column_int(st, 0);
	old_hash = col_text(st, 1);
	doc_seq = sqlite3_column_int64(st, 2);
	wrelease(s, st);
	if (old_hash && !strcmp(old_hash, hash)) {
		/* The same document again: a repeated webhook. */
		rc = add_history(s, f->flow_id, ev->doc_id, now, NULL,
				 "duplicate",
				 _("same document received again; "
				   "not run again"));
	} else if (ev->replay_seq && status != DOC_SYNCED &&
		   status != DOC_SYNCING) {
		/* a replayed event is older than what the ledger holds */
		rc = add_history(s, f->flow_id, ev->doc_id, now, NULL,
				 "replay-ignored",
				 _("a stored event given again;"
				   " the document is in the ledger already"));
	} else if (status == DOC_SYNCED && f->resend && f->selected &&
		   (!ev->replay_seq || ev->replay_seq > doc_seq)) {
		rc = ingest_resend(s, ev, f, seq, hash, now);
	} else if (status == DOC_SYNCING && f->resend && f->selected &&
		   !ev->replay_seq) {
		rc = ingest_resend_later(s, ev, f, seq, hash, now);
	} else if (status == DOC_SYNCED || status == DOC_SYNCING ||
		   status == DOC_POST_FAILED) {
		/* post_failed: the target holds it already */
		rc = ingest_seen(s, ev, f, hash, now, !f->echo);
	} else {
		rc = ingest_newer(s, ev, f, status, hash, now);
	}
	free(old_hash);
	return rc;
}

/* A polled record every flow holds already with this content: known
 * from memory, or read from the ledger (and remembered). */
static int polled_unchanged(struct store *s, const struct ingest_event *ev,
			    bool *same)
{
	*same = ev->polled && !ev->replay_seq && ev->n_flows;
	for (size_t j = 0; *same && j < ev->n_flows; j++) {
		sqlite3_stmt *st;
		int rc;

		if (seen_same(store_seen(s), ev->flows[j].flow_id, ev->doc_id,
			      ev->payload_hash))
			continue;
		st = wprep(s, "SELECT 1 FROM docs WHERE flow=? AND doc_id=? "
			      "AND COALESCE(seen_hash, payload_hash)=?");
		if (!st)
			return -1;
		bind_text(st, 1, ev->flows[j].flow_id);
		bind_text(st, 2, ev->doc_id);
		bind_text(st, 3, ev->payload_hash);
		rc = sqlite3_step(st);
		wrelease(s, st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return -1;
		*same = rc == SQLITE_ROW;
		if (*same)
			seen_put(store_seen(s), ev->flows[j].flow_id,
				 ev->doc_id, ev->payload_hash);
	}
	return 0;
}

static int insert_event(struct store *s, const struct ingest_event *ev,
			int64_t now, int64_t *seq)
{
	sqlite3_stmt *st = wprep(s, "INSERT INTO events(connection, event, "
				    "doc_id, payload, received_at) "
				    "VALUES(?,?,?,?,?)");

	if (!st)
		return -1;
	bind_text(st, 1, ev->connection);
	bind_text(st, 2, ev->event);
	bind_text(st, 3, ev->doc_id);
	bind_text(st, 4, ev->payload);
	sqlite3_bind_int64(st, 5, now);
	if (wstep(s, st))
		return -1;
	*seq = sqlite3_last_insert_rowid(writer_db(s));
	return 0;
}

static int ingest_fn(struct store *s, struct wop *op)
{
	struct ingest_arg *a = wop_arg(op);
	int64_t now = util_wall_ms();
	sqlite3_stmt *st;

	for (size_t i = 0; i < a->n; i++) {
		struct ingest_event *ev = &a->evs[i];
		int64_t seq = ev->replay_seq;

		if (polled_unchanged(s, ev, &ev->unchanged))
			return -1;
		if (ev->unchanged) {
			for (size_t j = 0; j < ev->n_flows; j++)
				ev->flows[j].runnable = ev->flows[j].updated =
					ev->flows[j].resent =
						ev->flows[j].after_run = false;
			continue;
		}
		if (!seq && insert_event(s, ev, now, &seq))
			return -1;
		for (size_t j = 0; j < ev->n_flows; j++) {
			if (ingest_one_flow(s, ev, &ev->flows[j], seq,
					    ev->payload_hash, now))
				return -1;
			/* what the ledger compares the next one with; a
			 * replay may have put an older content back */
			seen_put(store_seen(s), ev->flows[j].flow_id,
				 ev->doc_id,
				 ev->replay_seq ? NULL : ev->payload_hash);
		}
	}
	if (a->cursor) {
		st = wprep(s, "INSERT INTO cursors(connection, event, cursor)"
			      " VALUES(?,?,?) ON CONFLICT(connection, event)"
			      " DO UPDATE SET cursor=excluded.cursor");
		if (!st)
			return -1;
		bind_text(st, 1, a->cursor->connection);
		bind_text(st, 2, a->cursor->event);
		bind_text(st, 3, a->cursor->cursor);
		if (wstep(s, st))
			return -1;
	}
	return 0;
}

int store_ingest(struct store *s, struct ingest_event *evs, size_t n,
		 const struct ingest_cursor *cursor)
{
	struct ingest_arg a = { evs, n, cursor };

	/* hashed on the caller's thread, not the one writer thread */
	for (size_t i = 0; i < n; i++)
		if (evs[i].payload) /* else the insert refuses it */
			util_sha256_hex(evs[i].payload, strlen(evs[i].payload),
					evs[i].payload_hash);
	return run_sync(s, ingest_fn, &a);
}

/*
 * store_sqlite.c - the embedded store backend: SQLite in WAL mode.
 *
 * One writer thread owns the only write connection. Callers queue write
 * operations; the writer takes everything queued, runs each operation in
 * its own SAVEPOINT inside one transaction and commits once (group
 * commit), then answers every caller. Reads use a small pool of
 * read-only connections, which WAL lets run beside the writer.
 */
#define _GNU_SOURCE /* vasprintf, strndup, open_memstream */
#include "i18n.h"
#include "store.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "log.h"
#include "store_int.h"
#include "store_schema.h"
#include "util.h"

#define BATCH_MAX 1024

struct wop {
	wop_fn fn;
	void *arg;
	int rc;
	/* completion: either a waiter (woken alone) or a callback */
	bool done;
	bool waited;
	pthread_cond_t cv;
	store_done_fn cb;
	void *ud;
	struct wop *next;
};

struct rconn {
	sqlite3 *db;
	struct rconn *next;
};

struct store {
	char *path;
	sqlite3 *w; /* writer connection, writer thread only */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv_work; /* writer waits for work */
	struct wop *head, *tail;
	bool stopping;
	struct rconn *free_readers;
	pthread_mutex_t rmu;
	/* writer's prepared statements, keyed by their static SQL text */
	struct {
		const char *sql;
		sqlite3_stmt *st;
	} cache[32];
	int n_cache;
};

static const char *const status_names[DOC__COUNT] = {
	"pending", "syncing", "synced", "failed", "skipped", "post_failed"
};

const char *doc_status_name(enum doc_status s)
{
	return (unsigned)s < DOC__COUNT ? status_names[s] : "unknown";
}

int doc_status_parse(const char *str, enum doc_status *out)
{
	for (int i = 0; i < DOC__COUNT; i++)
		if (!strcmp(str, status_names[i])) {
			*out = (enum doc_status)i;
			return 0;
		}
	return -1;
}

/* ---- connections ------------------------------------------------------ */

static int open_conn(const char *path, bool readonly, bool sync_full,
		     sqlite3 **out, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	int flags = readonly ? SQLITE_OPEN_READONLY
			     : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	char *msg = NULL;
	char pragmas[300];

	if (sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL)) {
		snprintf(err, errlen, "cannot open store %s: %s", path,
			 db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return -1;
	}
	sqlite3_busy_timeout(db, 10000);
	snprintf(pragmas, sizeof(pragmas),
		 "%s PRAGMA synchronous=%s; PRAGMA foreign_keys=ON;",
		 /* the writer looks up every polled record: a page cache
		  * that holds a large ledger's indexes saves a read each */
		 readonly ? ""
			  : "PRAGMA journal_mode=WAL; PRAGMA "
			    "cache_size=-32768;",
		 sync_full ? "FULL" : "NORMAL");
	if (sqlite3_exec(db, pragmas, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "cannot set up store %s: %s", path, msg);
		sqlite3_free(msg);
		sqlite3_close(db);
		return -1;
	}
	*out = db;
	return 0;
}

sqlite3 *reader_get(struct store *s)
{
	struct rconn *rc;
	sqlite3 *db = NULL;
	char err[256];

	pthread_mutex_lock(&s->rmu);
	rc = s->free_readers;
	if (rc)
		s->free_readers = rc->next;
	pthread_mutex_unlock(&s->rmu);
	if (rc) {
		db = rc->db;
		free(rc);
		return db;
	}
	if (open_conn(s->path, true, false, &db, err, sizeof(err))) {
		log_error("%s", err);
		return NULL;
	}
	return db;
}

void reader_put(struct store *s, sqlite3 *db)
{
	struct rconn *rc = xmalloc(sizeof(*rc));

	rc->db = db;
	pthread_mutex_lock(&s->rmu);
	rc->next = s->free_readers;
	s->free_readers = rc;
	pthread_mutex_unlock(&s->rmu);
}

/* ---- the writer ---------------------------------------------------------- */

static int exec_sql(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		log_error("store: %s: %s", sql, msg);
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static void finish_batch(struct store *s, struct wop *batch, int commit_rc)
{
	struct wop *op, *next;

	pthread_mutex_lock(&s->mu);
	for (op = batch; op; op = next) {
		next = op->next;
		if (commit_rc)
			op->rc = -1;
		if (op->waited) {
			op->done = true;
			pthread_cond_signal(&op->cv);
		} else {
			/* async ops own themselves */
			pthread_mutex_unlock(&s->mu);
			if (op->cb)
				op->cb(op->ud, op->rc);
			free(op->arg);
			free(op);
			pthread_mutex_lock(&s->mu);
		}
	}
	pthread_mutex_unlock(&s->mu);
}

static void *writer_main(void *arg)
{
	struct store *s = arg;

	for (;;) {
		struct wop *batch, *op, *last = NULL;
		int n = 0, rc;

		pthread_mutex_lock(&s->mu);
		while (!s->head && !s->stopping)
			pthread_cond_wait(&s->cv_work, &s->mu);
		if (!s->head && s->stopping) {
			pthread_mutex_unlock(&s->mu);
			break;
		}
		batch = s->head;
		for (op = batch; op && n < BATCH_MAX; op = op->next, n++)
			last = op;
		s->head = last->next;
		if (!s->head)
			s->tail = NULL;
		last->next = NULL;
		pthread_mutex_unlock(&s->mu);

		rc = exec_sql(s->w, "BEGIN IMMEDIATE");
		for (op = batch; !rc && op; op = op->next) {
			exec_sql(s->w, "SAVEPOINT op");
			op->rc = op->fn(s, op);
			if (op->rc)
				exec_sql(s->w, "ROLLBACK TO op");
			exec_sql(s->w, "RELEASE op");
		}
		if (!rc && exec_sql(s->w, "COMMIT")) {
			exec_sql(s->w, "ROLLBACK");
			rc = -1;
		}
		finish_batch(s, batch, rc);
	}
	return NULL;
}

static void enqueue(struct store *s, struct wop *op)
{
	pthread_mutex_lock(&s->mu);
	if (s->tail)
		s->tail->next = op;
	else
		s->head = op;
	s->tail = op;
	pthread_cond_signal(&s->cv_work);
	pthread_mutex_unlock(&s->mu);
}

/* Runs fn in the next group commit and waits until it is committed. */
int run_sync(struct store *s, wop_fn fn, void *arg)
{
	struct wop op = { .fn = fn, .arg = arg, .waited = true };
	int rc;

	/* its own condition: a commit wakes its callers, not every waiter */
	pthread_cond_init(&op.cv, NULL);
	enqueue(s, &op);
	pthread_mutex_lock(&s->mu);
	while (!op.done)
		pthread_cond_wait(&op.cv, &s->mu);
	rc = op.rc;
	pthread_mutex_unlock(&s->mu);
	pthread_cond_destroy(&op.cv);
	return rc;
}

void run_async(struct store *s, wop_fn fn, void *arg, store_done_fn done,
	       void *ud)
{
	struct wop *op = xcalloc(1, sizeof(*op));

	op->fn = fn;
	op->arg = arg;
	op->cb = done;
	op->ud = ud;
	enqueue(s, op);
}

/* The store holds documents and plugin state: its files are the host
 * user's alone, whatever the umask. SQLite gives -wal and -shm the mode of
 * the database file, so making that one 0600 first is enough; files an
 * older release left readable by others are narrowed. */
static int make_private(const char *path, char *err, size_t errlen)
{
	static const char *const suffixes[] = { "", "-wal", "-shm" };
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	struct stat st;

	if (fd < 0) {
		snprintf(err, errlen, "cannot open store %s: %s", path,
			 strerror(errno));
		return -1;
	}
	close(fd);
	for (size_t i = 0; i < ARRAY_SIZE(suffixes); i++) {
		char *p = xasprintf("%s%s", path, suffixes[i]);

		if (!stat(p, &st) && (st.st_mode & 077) &&
		    chmod(p, st.st_mode & 0700))
			log_warn("store: cannot make %s private: %s", p,
				 strerror(errno));
		free(p);
	}
	return 0;
}

int store_open(const struct store_opts *opts, struct store **out, char *err,
	       size_t errlen)
{
	struct store *s = xcalloc(1, sizeof(*s));

	s->path = xstrdup(opts->path);
	if (make_private(s->path, err, errlen) ||
	    open_conn(s->path, false, opts->sync_full, &s->w, err, errlen))
		goto out_free;
	if (store_schema_migrate(s->w, s->path, err, errlen))
		goto out_close;
	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_init(&s->rmu, NULL);
	pthread_cond_init(&s->cv_work, NULL);
	if (pthread_create(&s->thread, NULL, writer_main, s)) {
		snprintf(err, errlen, "cannot start store writer: %s",
			 strerror(errno));
		goto out_close;
	}
	*out = s;
	return 0;

out_close:
	sqlite3_close(s->w);
out_free:
	free(s->path);
	free(s);
	return -1;
}

void store_close(struct store *s)
{
	struct rconn *rc;

	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	s->stopping = true;
	pthread_cond_signal(&s->cv_work);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	while ((rc = s->free_readers)) {
		s->free_readers = rc->next;
		sqlite3_close(rc->db);
		free(rc);
	}
	for (int i = 0; i < s->n_cache; i++)
		sqlite3_finalize(s->cache[i].st);
	sqlite3_close(s->w);
	pthread_mutex_destroy(&s->mu);
	pthread_mutex_destroy(&s->rmu);
	pthread_cond_destroy(&s->cv_work);
	free(s->path);
	free(s);
}

/* ---- statement helpers ------------------------------------------------------ */

sqlite3_stmt *prep(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		log_error("store: cannot prepare %s: %s", sql,
			  sqlite3_errmsg(db));
		return NULL;
	}
	return st;
}

void bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

char *col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? xstrdup((const char *)t) : NULL;
}

/* Writer-side statements are prepared once and reused. */
sqlite3_stmt *wprep(struct store *s, const char *sql)
{
	sqlite3_stmt *st;

	for (int i = 0; i < s->n_cache; i++)
		if (s->cache[i].sql == sql)
			return s->cache[i].st;
	st = prep(s->w, sql);
	if (st && s->n_cache < (int)ARRAY_SIZE(s->cache)) {
		s->cache[s->n_cache].sql = sql;
		s->cache[s->n_cache++].st = st;
	}
	return st;
}

/* Ends the use of a writer statement: reset if cached, else finalize. */
void wrelease(struct store *s, sqlite3_stmt *st)
{
	for (int i = 0; i < s->n_cache; i++)
		if (s->cache[i].st == st) {
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			return;
		}
	sqlite3_finalize(st);
}

int wstep(struct store *s, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		log_error("store: %s", sqlite3_errmsg(s->w));
		wrelease(s, st);
		return -1;
	}
	wrelease(s, st);
	return 0;
}

static int add_history(struct store *s, const char *flow, const char *doc,
		       int64_t at, const char *step, const char *outcome,
		       const char *detail)
{
	sqlite3_stmt *st = wprep(s, "INSERT INTO history(flow, doc_id, at, "
				    "step, outcome, detail) "
				    "VALUES(?,?,?,?,?,?)");

	if (!st)
		return -1;
	bind_text(st, 1, flow);
	bind_text(st, 2, doc);
	sqlite3_bind_int64(st, 3, at);
	bind_text(st, 4, step);
	bind_text(st, 5, outcome);
	bind_text(st, 6, detail);
	return wstep(s, st);
}

/* ---- ingest ------------------------------------------------------------------- */

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

/* Sent already, and the target may not allow updates (MISA): never
 * send a second document, let a person decide. */
/* A synced document seen again with `hash`: flagged changed after sync,
 * or (echo) known as the host's own write coming back. Either way the
 * content is remembered, so its return to an older one is news. */
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
		log_error("store: %s", sqlite3_errmsg(s->w));
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
			log_error("store: %s", sqlite3_errmsg(s->w));
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

/* A polled record every flow holds already with this content. */
static int polled_unchanged(struct store *s, const struct ingest_event *ev,
			    bool *same)
{
	*same = ev->polled && !ev->replay_seq && ev->n_flows;
	for (size_t j = 0; *same && j < ev->n_flows; j++) {
		sqlite3_stmt *st = wprep(s, "SELECT 1 FROM docs WHERE flow=? "
					    "AND doc_id=? AND COALESCE("
					    "seen_hash, payload_hash)=?");
		int rc;

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
	*seq = sqlite3_last_insert_rowid(s->w);
	return 0;
}

static int ingest_fn(struct store *s, struct wop *op)
{
	struct ingest_arg *a = op->arg;
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
		for (size_t j = 0; j < ev->n_flows; j++)
			if (ingest_one_flow(s, ev, &ev->flows[j], seq,
					    ev->payload_hash, now))
				return -1;
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

/* ---- ledger updates -------------------------------------------------------------- */

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
	const struct doc_update *u = op->arg;
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
			log_error("store: %s", sqlite3_errmsg(s->w));
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
	struct wop *op = xcalloc(1, sizeof(*op));

	op->fn = update_fn;
	op->arg = update_copy(u);
	op->cb = done;
	op->ud = ud;
	enqueue(s, op);
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
	struct requeue_arg *a = op->arg;
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
	sqlite3 *db = reader_get(s);
	sqlite3_stmt *st;
	struct requeue_arg a = { .flow = flow_id };

	if (!db)
		return -1;
	st = prep(db, "SELECT doc_id, seq, next_at, order_key, "
		      "wait_key IS NOT NULL FROM docs WHERE flow=? AND"
		      " ((status=0 AND (pushed=1 OR ?=1)) OR status=1)"
		      " ORDER BY seq");
	if (!st) {
		reader_put(s, db);
		return -1;
	}
	bind_text(st, 1, flow_id);
	sqlite3_bind_int(st, 2, automatic);
	while (sqlite3_step(st) == SQLITE_ROW) {
		ref_add(&a, (const char *)sqlite3_column_text(st, 0),
			sqlite3_column_int64(st, 1),
			(const char *)sqlite3_column_text(st, 3));
		a.out[a.n - 1].next_at = sqlite3_column_int64(st, 2);
		a.out[a.n - 1].waiting = sqlite3_column_int(st, 4);
	}
	sqlite3_finalize(st);
	reader_put(s, db);
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

int query_row(struct store *s, const char *sql, const char *a1, const char *a2,
	      row_fn read, void *out)
{
	sqlite3 *db = reader_get(s);
	sqlite3_stmt *st;
	int rc;

	if (!db)
		return -1;
	st = prep(db, sql);
	if (!st) {
		reader_put(s, db);
		return -1;
	}
	bind_text(st, 1, a1);
	if (a2)
		bind_text(st, 2, a2);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		read(st, out);
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? 1 : -1;
	}
	sqlite3_finalize(st);
	reader_put(s, db);
	return rc;
}

static void read_doc_row(sqlite3_stmt *st, void *out)
{
	read_doc(st, out);
}

static void read_text(sqlite3_stmt *st, void *out)
{
	*(char **)out = col_text(st, 0);
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
	sqlite3 *db = reader_get(s);
	enum doc_status want = DOC_PENDING;
	sqlite3_stmt *st;
	cJSON *arr;

	if (!db)
		return NULL;
	if (status && doc_status_parse(status, &want)) {
		reader_put(s, db);
		return NULL;
	}
	st = prep(db, "SELECT " DOC_COLUMNS "FROM docs WHERE flow=? AND "
		      "(?=0 OR status=?) AND seq>? ORDER BY seq LIMIT ?");
	if (!st) {
		reader_put(s, db);
		return NULL;
	}
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
	sqlite3_finalize(st);
	reader_put(s, db);
	return arr;
}

cJSON *store_history(struct store *s, const char *flow_id, const char *doc_id)
{
	sqlite3 *db = reader_get(s);
	sqlite3_stmt *st;
	cJSON *arr;

	if (!db)
		return NULL;
	st = prep(db, "SELECT at, step, outcome, detail FROM history "
		      "WHERE flow=? AND doc_id=? ORDER BY id");
	if (!st) {
		reader_put(s, db);
		return NULL;
	}
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
	sqlite3_finalize(st);
	reader_put(s, db);
	return arr;
}

int store_events(struct store *s, const char *connection, const char *event,
		 int64_t from_ms, int64_t to_ms, int64_t after, int limit,
		 struct stored_event **out, size_t *n)
{
	sqlite3 *db = reader_get(s);
	sqlite3_stmt *st;
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (!db)
		return -1;
	st = prep(db, "SELECT seq, received_at, doc_id, payload FROM events "
		      "WHERE connection=? AND event=? AND received_at>=? AND "
		      "received_at<=? AND seq>? ORDER BY seq LIMIT ?");
	if (!st) {
		reader_put(s, db);
		return -1;
	}
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
	sqlite3_finalize(st);
	reader_put(s, db);
	return 0;
}

int store_last_event(struct store *s, const char *connection, const char *event,
		     const char *doc_id, struct stored_event *out)
{
	sqlite3 *db = reader_get(s);
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!db)
		return -1;
	st = prep(db, "SELECT seq, received_at, doc_id, payload FROM events "
		      "WHERE connection=? AND event=? AND doc_id=? "
		      "ORDER BY seq DESC LIMIT 1");
	if (!st) {
		reader_put(s, db);
		return -1;
	}
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
	sqlite3_finalize(st);
	reader_put(s, db);
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
	sqlite3 *db = reader_get(s);
	sqlite3_stmt *st;
	cJSON *obj;

	if (!db)
		return NULL;
	st = prep(db, "SELECT flow, status, n FROM doc_counts WHERE n>0");
	if (!st) {
		reader_put(s, db);
		return NULL;
	}
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
	sqlite3_finalize(st);
	reader_put(s, db);
	return obj;
}

/* ---- small keyed values: modes, kv, cursors ------------------------------------------- */

static int get_value(struct store *s, const char *sql, const char *a1,
		     const char *a2, char **out)
{
	return query_row(s, sql, a1, a2, read_text, out);
}

struct kv_arg {
	const char *sql;
	const char *a[8];
	int n;
};

static int kv_fn(struct store *s, struct wop *op)
{
	struct kv_arg *a = op->arg;
	sqlite3_stmt *st = wprep(s, a->sql);

	if (!st)
		return -1;
	for (int i = 0; i < a->n; i++)
		bind_text(st, i + 1, a->a[i]);
	return wstep(s, st);
}

int store_write(struct store *s, const char *sql, const char *const *args,
		int n)
{
	struct kv_arg a = { .sql = sql, .n = n };

	if (n < 0 || n > (int)ARRAY_SIZE(a.a))
		return -1;
	memcpy(a.a, args, (size_t)n * sizeof(*args));
	return run_sync(s, kv_fn, &a);
}

int store_get_mode(struct store *s, const char *flow_id, char **mode)
{
	return get_value(s, "SELECT mode FROM flow_modes WHERE flow=?", flow_id,
			 NULL, mode);
}

int store_set_mode(struct store *s, const char *flow_id, const char *mode)
{
	char now[32];
	struct kv_arg a = { "INSERT INTO flow_modes(flow, mode, updated_at) "
			    "VALUES(?,?,?)"
			    " ON CONFLICT(flow) DO UPDATE SET "
			    "mode=excluded.mode,"
			    " updated_at=excluded.updated_at",
			    { flow_id, mode, now },
			    3 };

	snprintf(now, sizeof(now), "%lld", (long long)util_wall_ms());
	return run_sync(s, kv_fn, &a);
}

int store_kv_get(struct store *s, const char *conn, const char *key,
		 char **value)
{
	return get_value(s, "SELECT value FROM kv WHERE connection=? AND key=?",
			 conn, key, value);
}

int store_kv_put(struct store *s, const char *conn, const char *key,
		 const char *value)
{
	struct kv_arg a = { "INSERT INTO kv(connection, key, value) "
			    "VALUES(?,?,?) ON CONFLICT(connection, key) "
			    "DO UPDATE SET value=excluded.value",
			    { conn, key, value },
			    3 };

	return run_sync(s, kv_fn, &a);
}

int store_kv_del(struct store *s, const char *conn, const char *key)
{
	struct kv_arg a = { "DELETE FROM kv WHERE connection=? AND key=?",
			    { conn, key },
			    2 };

	return run_sync(s, kv_fn, &a);
}

int store_cursor_get(struct store *s, const char *conn, const char *event,
		     char **cursor)
{
	return get_value(s,
			 "SELECT cursor FROM cursors WHERE connection=? "
			 "AND event=?",
			 conn, event, cursor);
}

/* ---- for the sections in their own files (store_int.h) ----------------- */

void *wop_arg(struct wop *op)
{
	return op->arg;
}

sqlite3 *writer_db(struct store *s)
{
	return s->w;
}

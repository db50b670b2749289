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
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "log.h"
#include "seen.h"
#include "store_int.h"
#include "store_schema.h"
#include "util.h"

#define BATCH_MAX 1024
/* How long a commit of updates nobody waits for waits for more to join
 * it: a document's "sending" and "synced" updates then often share one
 * commit, and the pages they touch are written once. */
#define ASYNC_LINGER_NS (5 * 1000 * 1000L)

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
	size_t queued, queued_waited; /* ops in the queue; of them, waited */
	bool stopping;
	struct rconn *free_readers;
	pthread_mutex_t rmu;
	/* writer's prepared statements, keyed by their static SQL text */
	struct {
		const char *sql;
		sqlite3_stmt *st;
	} cache[64];
	int n_cache;
	/* content hashes of documents, writer thread only (see seen.h) */
	struct seen *seen;
};

/* Documents whose content hash the writer keeps in memory: about 60
 * bytes each, so at most ~60 MB; past that, polls ask the ledger. */
#define SEEN_MAX 1000000

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
		  * that holds a large ledger's indexes saves a read each;
		  * each operation's savepoint keeps the pages it changes in
		  * memory, not in a temporary file written page by page */
		 readonly ? ""
			  : "PRAGMA journal_mode=WAL; PRAGMA "
			    "cache_size=-32768; PRAGMA temp_store=MEMORY;",
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

static void reader_put(struct store *s, sqlite3 *db);

static sqlite3 *reader_get(struct store *s)
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

/* Statements a reader keeps prepared: the texts the host reads with
 * are a few dozen; past this many, a page query's own text is let go. */
#define READER_KEPT_MAX 48

sqlite3_stmt *read_prep(struct store *s, const char *sql)
{
	sqlite3 *db = reader_get(s);
	sqlite3_stmt *st = NULL;
	int kept = 0;

	if (!db)
		return NULL;
	/* the reader keeps what it prepared: look it up by its text */
	while ((st = sqlite3_next_stmt(db, st))) {
		kept++;
		if (!sqlite3_stmt_busy(st) && !strcmp(sqlite3_sql(st), sql))
			return st;
	}
	if (sqlite3_prepare_v3(
		    db, sql, -1,
		    kept < READER_KEPT_MAX ? SQLITE_PREPARE_PERSISTENT : 0, &st,
		    NULL) != SQLITE_OK) {
		log_error("store: cannot prepare %s: %s", sql,
			  sqlite3_errmsg(db));
		sqlite3_finalize(st);
		reader_put(s, db);
		return NULL;
	}
	return st;
}

void read_done(struct store *s, sqlite3_stmt *st)
{
	sqlite3 *db = sqlite3_db_handle(st);
	sqlite3_stmt *other = NULL;
	int kept = 0;

	while ((other = sqlite3_next_stmt(db, other)))
		kept++;
	if (kept > READER_KEPT_MAX) {
		sqlite3_finalize(st);
	} else {
		/* reset ends its read transaction: checkpoints go on */
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
	reader_put(s, db);
}

static void reader_put(struct store *s, sqlite3 *db)
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

/* A statement of static text on the writer, prepared once. */
static int wexec(struct store *s, const char *sql)
{
	sqlite3_stmt *st = wprep(s, sql);

	return st ? wstep(s, st) : -1;
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

/* With the queue's lock held: while only updates nobody waits for are
 * queued, waits a moment for more (a waiter ends the wait at once). */
static void linger(struct store *s)
{
	struct timespec until;

	if (s->queued_waited || s->stopping)
		return;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_nsec += ASYNC_LINGER_NS;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	while (!s->queued_waited && !s->stopping && s->queued < BATCH_MAX &&
	       pthread_cond_timedwait(&s->cv_work, &s->mu, &until) != ETIMEDOUT)
		;
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
		linger(s);
		batch = s->head;
		for (op = batch; op && n < BATCH_MAX; op = op->next, n++) {
			last = op;
			s->queued--;
			s->queued_waited -= op->waited;
		}
		s->head = last->next;
		if (!s->head)
			s->tail = NULL;
		last->next = NULL;
		pthread_mutex_unlock(&s->mu);

		/* the texts are static: wprep prepares each once */
		rc = wexec(s, "BEGIN IMMEDIATE");
		for (op = batch; !rc && op; op = op->next) {
			wexec(s, "SAVEPOINT op");
			op->rc = op->fn(s, op);
			if (op->rc) {
				wexec(s, "ROLLBACK TO op");
				/* it may have put what is now undone */
				seen_clear(s->seen);
			}
			wexec(s, "RELEASE op");
		}
		if (!rc && wexec(s, "COMMIT")) {
			exec_sql(s->w, "ROLLBACK");
			seen_clear(s->seen);
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
	s->queued++;
	s->queued_waited += op->waited;
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

/* The writer's timed wait (linger) must not follow the wall clock when
 * it is set back. */
static void cond_init_monotonic(pthread_cond_t *cv)
{
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(cv, &ca);
	pthread_condattr_destroy(&ca);
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
	cond_init_monotonic(&s->cv_work);
	s->seen = seen_new(SEEN_MAX);
	if (pthread_create(&s->thread, NULL, writer_main, s)) {
		snprintf(err, errlen, "cannot start store writer: %s",
			 strerror(errno));
		goto out_close;
	}
	*out = s;
	return 0;

out_close:
	sqlite3_close(s->w);
	seen_free(s->seen);
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
		sqlite3_stmt *st;

		s->free_readers = rc->next;
		while ((st = sqlite3_next_stmt(rc->db, NULL)))
			sqlite3_finalize(st);
		sqlite3_close(rc->db);
		free(rc);
	}
	for (int i = 0; i < s->n_cache; i++)
		sqlite3_finalize(s->cache[i].st);
	sqlite3_close(s->w);
	pthread_mutex_destroy(&s->mu);
	pthread_mutex_destroy(&s->rmu);
	pthread_cond_destroy(&s->cv_work);
	seen_free(s->seen);
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

int add_history(struct store *s, const char *flow, const char *doc, int64_t at,
		const char *step, const char *outcome, const char *detail)
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

/* ---- one-row reads ------------------------------------------------------ */

int query_row(struct store *s, const char *sql, const char *a1, const char *a2,
	      row_fn read, void *out)
{
	sqlite3_stmt *st;
	int rc;

	st = read_prep(s, sql);
	if (!st)
		return -1;
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
	read_done(s, st);
	return rc;
}

static void read_text(sqlite3_stmt *st, void *out)
{
	*(char **)out = col_text(st, 0);
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

struct seen *store_seen(struct store *s)
{
	return s->seen;
}

void *wop_arg(struct wop *op)
{
	return op->arg;
}

sqlite3 *writer_db(struct store *s)
{
	return s->w;
}

/*
 * store_schema.c - see store_schema.h.
 *
 * Version 1 is the schema of release 0.1.0, which set no user_version
 * (0 there means 1). Each later version is one migration, run in order
 * in one transaction with the version bump. Never edit a migration
 * that shipped: add the next one.
 */
#include "store_schema.h"

#include <stdio.h>

static const char schema_v1[] =
	"CREATE TABLE IF NOT EXISTS events("
	" seq INTEGER PRIMARY KEY, connection TEXT NOT NULL,"
	" event TEXT NOT NULL, doc_id TEXT NOT NULL, payload TEXT NOT NULL,"
	" received_at INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS docs("
	" flow TEXT NOT NULL, doc_id TEXT NOT NULL, connection TEXT NOT NULL,"
	" event TEXT NOT NULL, seq INTEGER NOT NULL, status INTEGER NOT NULL,"
	" payload TEXT NOT NULL, payload_hash TEXT NOT NULL,"
	" attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL "
	"DEFAULT 0,"
	" pushed INTEGER NOT NULL DEFAULT 0,"
	" ignore_warnings INTEGER NOT NULL DEFAULT 0,"
	" changed_after_sync INTEGER NOT NULL DEFAULT 0,"
	" step INTEGER NOT NULL DEFAULT 0, outputs TEXT, target TEXT,"
	" reason TEXT, wait_key TEXT,"
	" created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
	" PRIMARY KEY(flow, doc_id)) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS docs_by_status ON docs(flow, status, seq);"
	"CREATE UNIQUE INDEX IF NOT EXISTS docs_by_wait ON docs(wait_key)"
	" WHERE wait_key IS NOT NULL;"
	"CREATE TABLE IF NOT EXISTS history("
	" id INTEGER PRIMARY KEY, flow TEXT NOT NULL, doc_id TEXT NOT NULL,"
	" at INTEGER NOT NULL, step TEXT, outcome TEXT NOT NULL, detail TEXT);"
	"CREATE INDEX IF NOT EXISTS history_by_doc ON history(flow, doc_id, "
	"id);"
	"CREATE TABLE IF NOT EXISTS flow_modes(flow TEXT PRIMARY KEY,"
	" mode TEXT NOT NULL, updated_at INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS kv(connection TEXT NOT NULL,"
	" key TEXT NOT NULL, value TEXT NOT NULL,"
	" PRIMARY KEY(connection, key)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS cursors(connection TEXT NOT NULL,"
	" event TEXT NOT NULL, cursor TEXT NOT NULL,"
	" PRIMARY KEY(connection, event)) WITHOUT ROWID;";

/* migrations[i] takes version i+1 to i+2 */
static const char *const migrations[] = {
	/* 2: what must stay in order (a flow's order_by); replay reads
	 * events by trigger and time */
	"ALTER TABLE docs ADD COLUMN order_key TEXT;"
	"CREATE INDEX IF NOT EXISTS events_by_trigger"
	" ON events(connection, event, received_at, seq);",
	/* 3: the go-live check reads a document's last event by its id */
	"CREATE INDEX IF NOT EXISTS events_by_doc"
	" ON events(connection, event, doc_id, seq);",
	/* 4: a flow that resends edits (on_change: resend) numbers the
	 * versions it sent and keeps the last one's step outputs; the hash
	 * last received, so an unchanged record polled again costs a read */
	"ALTER TABLE docs ADD COLUMN version INTEGER NOT NULL DEFAULT 1;"
	"ALTER TABLE docs ADD COLUMN prev_outputs TEXT;"
	"ALTER TABLE docs ADD COLUMN seen_hash TEXT;",
	/* 5: record links (SPEC B11): what a source record became in
	 * another system, one per target connection and kind */
	"CREATE TABLE links(id INTEGER PRIMARY KEY,"
	" a_conn TEXT NOT NULL, a_kind TEXT NOT NULL, a_id TEXT NOT NULL,"
	" b_conn TEXT NOT NULL, b_kind TEXT NOT NULL, b_id TEXT, b_code TEXT,"
	" flow TEXT NOT NULL, doc_id TEXT NOT NULL, step TEXT NOT NULL,"
	" made INTEGER NOT NULL DEFAULT 0, output TEXT,"
	" created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
	"CREATE UNIQUE INDEX links_by_a"
	" ON links(a_conn, a_kind, a_id, b_conn, b_kind);"
	"CREATE INDEX links_by_a_id ON links(a_conn, a_id);"
	"CREATE INDEX links_by_b_id ON links(b_conn, b_id);"
	"CREATE INDEX links_by_b_code ON links(b_conn, b_code);"
	"CREATE INDEX links_by_doc ON links(flow, doc_id);",
	/* 6: echo suppression (SPEC B13): the content a linked write sent,
	 * as a hash, so the target's report of it is known as our own */
	"ALTER TABLE links ADD COLUMN echo TEXT;",
	/* 7: number clashes renumbered (SPEC B6): the suffix -N sent */
	"ALTER TABLE docs ADD COLUMN renumber INTEGER NOT NULL DEFAULT 0;",
	/* 8: the console: users, the audit log, and the ledger paged newest
	 * first by the day received (with or without a status), synced and
	 * failed counted by the hour, failed grouped by reason (3 = failed) */
	"CREATE TABLE IF NOT EXISTS users(name TEXT PRIMARY KEY,"
	" role TEXT NOT NULL, salt TEXT NOT NULL, hash TEXT NOT NULL,"
	" iterations INTEGER NOT NULL, created_at INTEGER NOT NULL,"
	" updated_at INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS audit(id INTEGER PRIMARY KEY,"
	" at INTEGER NOT NULL, user TEXT NOT NULL, action TEXT NOT NULL,"
	" flow TEXT, detail TEXT);"
	"CREATE INDEX IF NOT EXISTS docs_by_created"
	" ON docs(flow, created_at, seq);"
	"CREATE INDEX IF NOT EXISTS docs_by_status_created"
	" ON docs(flow, status, created_at, seq);"
	"CREATE INDEX IF NOT EXISTS docs_by_status_updated"
	" ON docs(flow, status, updated_at);"
	"CREATE INDEX IF NOT EXISTS docs_failed_by_reason"
	" ON docs(flow, reason, status, seq) WHERE status=3;"
	/* documents by flow and status, kept by triggers: counting a
	 * million rows took a quarter of a second on every overview */
	"CREATE TABLE IF NOT EXISTS doc_counts(flow TEXT NOT NULL,"
	" status INTEGER NOT NULL, n INTEGER NOT NULL,"
	" PRIMARY KEY(flow, status)) WITHOUT ROWID;"
	"INSERT INTO doc_counts SELECT flow, status, count(*) FROM docs"
	" GROUP BY flow, status;"
	"CREATE TRIGGER IF NOT EXISTS docs_counted_in AFTER INSERT ON docs"
	" BEGIN INSERT INTO doc_counts VALUES(new.flow, new.status, 1)"
	" ON CONFLICT(flow, status) DO UPDATE SET n=n+1; END;"
	"CREATE TRIGGER IF NOT EXISTS docs_counted_out AFTER DELETE ON docs"
	" BEGIN UPDATE doc_counts SET n=n-1 WHERE flow=old.flow"
	" AND status=old.status; END;"
	"CREATE TRIGGER IF NOT EXISTS docs_counted_move"
	" AFTER UPDATE OF status ON docs WHEN old.status IS NOT new.status"
	" BEGIN UPDATE doc_counts SET n=n-1 WHERE flow=old.flow"
	" AND status=old.status;"
	" INSERT INTO doc_counts VALUES(new.flow, new.status, 1)"
	" ON CONFLICT(flow, status) DO UPDATE SET n=n+1; END;",
	/* 9: on_change: resend: the event of an edit that came while the
	 * last version was being sent, sent once that one has ended */
	"ALTER TABLE docs ADD COLUMN next_seq INTEGER;",
};

#define LATEST (1 + (int)(sizeof(migrations) / sizeof(migrations[0])))

int store_schema_version(void)
{
	return LATEST;
}

static int user_version(sqlite3 *db, int *v)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL))
		return -1;
	rc = sqlite3_step(st);
	*v = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

static int exec(sqlite3 *db, const char *sql, const char *path,
		const char *what, char *err, size_t errlen)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	snprintf(err, errlen, "store %s: %s: %s", path, what,
		 msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	return -1;
}

int store_schema_migrate(sqlite3 *db, const char *path, char *err,
			 size_t errlen)
{
	char sql[64], what[64];
	int v;

	if (exec(db, "BEGIN IMMEDIATE", path, "cannot start", err, errlen))
		return -1;
	if (user_version(db, &v)) {
		snprintf(err, errlen, "store %s: cannot read its version: %s",
			 path, sqlite3_errmsg(db));
		goto fail;
	}
	if (v > LATEST) {
		snprintf(err, errlen,
			 "store %s was written by a newer release "
			 "(schema %d; this release knows up to %d): upgrade "
			 "luong, or restore a backup",
			 path, v, LATEST);
		goto fail;
	}
	if (v == 0) { /* new, or 0.1.0 (which set no version) */
		if (exec(db, schema_v1, path, "cannot create the schema", err,
			 errlen))
			goto fail;
		v = 1;
	}
	for (; v < LATEST; v++) {
		snprintf(what, sizeof(what), "migration to schema %d", v + 1);
		if (exec(db, migrations[v - 1], path, what, err, errlen))
			goto fail;
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", LATEST);
	if (exec(db, sql, path, "cannot set its version", err, errlen) ||
	    exec(db, "COMMIT", path, "cannot commit the schema", err, errlen))
		goto fail;
	return 0;
fail:
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

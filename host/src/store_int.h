/*
 * store_int.h - what the SQLite backend's files share: store_sqlite.c
 * (connections, the writer, small keyed values) and the parts in their
 * own files: store_ingest.c, store_docs.c, store_links.c,
 * store_console.c. Not for other modules, which use store.h.
 */
#ifndef LUONG_STORE_INT_H
#define LUONG_STORE_INT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "store.h"

struct wop;
typedef int (*wop_fn)(struct store *s, struct wop *op);

/* Reads: a statement on a read-only connection of the pool, which keeps
 * it prepared for the next read of the same text; read_done resets it
 * and gives the connection back. NULL if it cannot be prepared. */
sqlite3_stmt *read_prep(struct store *s, const char *sql);
void read_done(struct store *s, sqlite3_stmt *st);
sqlite3_stmt *prep(sqlite3 *db, const char *sql);

/* Writes: fn runs on the writer thread in the next group commit, in its
 * own savepoint, with the argument given; run_sync returns its result
 * once committed. The writer's statements are prepared once (wprep, on
 * the static SQL text) and ended by wstep (stepped once) or wrelease. */
int run_sync(struct store *s, wop_fn fn, void *arg);
/* Queued; `arg` (one malloc'd block) is freed after `done` (optional)
 * ran on the writer thread after the commit. */
void run_async(struct store *s, wop_fn fn, void *arg, store_done_fn done,
	       void *ud);
void *wop_arg(struct wop *op);
sqlite3 *writer_db(struct store *s);
/* The writer's memory of documents' content hashes (seen.h). */
struct seen *store_seen(struct store *s);
/* One line of a document's history, written by the writer. */
int add_history(struct store *s, const char *flow, const char *doc, int64_t at,
		const char *step, const char *outcome, const char *detail);
sqlite3_stmt *wprep(struct store *s, const char *sql);
void wrelease(struct store *s, sqlite3_stmt *st);
int wstep(struct store *s, sqlite3_stmt *st);

/* A copy of a struct of `size` bytes and of the strings its members at
 * `offs` (const char *, NULL allowed) point at, in one malloc'd block:
 * what a queued write keeps until the writer has run it. */
void *pack_copy(const void *obj, size_t size, const size_t *offs, size_t n);

void bind_text(sqlite3_stmt *st, int i, const char *v);
char *col_text(sqlite3_stmt *st, int i); /* owned, NULL for NULL */
/* obj.name = the time in Vietnam (+07:00), or null for 0. */
void add_time(cJSON *obj, const char *name, int64_t ms);
typedef void (*row_fn)(sqlite3_stmt *st, void *out);
/* Runs a one-row query with one or two text arguments (a2 may be NULL)
 * on a reader; 0 (row read by `read`), 1 (no row) or -1. */
int query_row(struct store *s, const char *sql, const char *a1, const char *a2,
	      row_fn read, void *out);
/* Runs one statement of static text `sql` with text arguments in the
 * next group commit (at most 8); returns once committed. */
int store_write(struct store *s, const char *sql, const char *const *args,
		int n);

#endif

/*
 * store_int.h - what store_sqlite.c lends the store's other files
 * (store_console.c); not for other modules.
 */
#ifndef LUONG_STORE_INT_H
#define LUONG_STORE_INT_H

#include <stdint.h>

#include <sqlite3.h>

#include "store.h"

/* A read-only connection of the pool, and its return. */
sqlite3 *reader_get(struct store *s);
void reader_put(struct store *s, sqlite3 *db);
/* Prepared or NULL (logged). */
sqlite3_stmt *prep(sqlite3 *db, const char *sql);
void bind_text(sqlite3_stmt *st, int i, const char *v);
char *col_text(sqlite3_stmt *st, int i); /* owned or NULL */
/* Vietnam time of ms into obj[name]; null for 0. */
void add_time(cJSON *obj, const char *name, int64_t ms);
typedef void (*row_fn)(sqlite3_stmt *st, void *out);
/* Runs a one-row query with one or two text arguments (a2 may be NULL)
 * on a reader; 0 (row read by `read`), 1 (no row) or -1. */
int query_row(struct store *s, const char *sql, const char *a1,
	      const char *a2, row_fn read, void *out);
/* Runs one statement of static text `sql` with text arguments in the
 * next group commit (at most 8); returns once committed. */
int store_write(struct store *s, const char *sql, const char *const *args,
		int n);

#endif

/*
 * store_schema.h - the SQLite store's schema, with a version and forward
 * migrations: a ledger written by one release opens in the next.
 */
#ifndef LUONG_STORE_SCHEMA_H
#define LUONG_STORE_SCHEMA_H

#include <stddef.h>

#include <sqlite3.h>

/* The schema version this release writes. */
int store_schema_version(void);
/* Creates the schema in an empty database, or brings an older one up to
 * this release's version (all or nothing). Refuses a newer one. */
int store_schema_migrate(sqlite3 *db, const char *path, char *err,
			 size_t errlen);

#endif

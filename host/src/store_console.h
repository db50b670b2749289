/*
 * store_console.h - what the console reads and writes in the store:
 * users, the audit log, ledger pages, failed documents grouped by reason
 * and counts by the hour. The backend is store_console.c (SQLite).
 */
#ifndef LUONG_STORE_CONSOLE_H
#define LUONG_STORE_CONSOLE_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "store.h"

struct user_row {
	char *name, *role, *salt, *hash; /* salt and hash in hex */
	int iterations;
};
void user_row_free(struct user_row *u);
/* Adds or replaces a user. */
int store_user_put(struct store *s, const struct user_row *u);
int store_user_get(struct store *s, const char *name,
		   struct user_row *out); /* 0, 1 not found, -1 */
int store_user_del(struct store *s, const char *name);
/* [{name, role, created_at}] */
cJSON *store_users(struct store *s);

int store_audit_add(struct store *s, const char *user, const char *action,
		    const char *flow, const char *detail);
/* Newest first, ids below `before` (0: from the newest), at most limit:
 * [{id, at, user, action, flow, detail}] */
cJSON *store_audit(struct store *s, int64_t before, int limit);

/* One page of a flow's ledger, newest received first. */
struct page_query {
	const char *flow;
	const char *status;	/* NULL: all */
	int64_t from_ms, to_ms; /* received in [from, to); 0: open */
	const char *prefix;	/* document numbers starting so; NULL: all */
	int64_t before_t, before_seq; /* keyset: after this row; 0: first */
	int limit;
};
/* {documents: [...], next: {t, seq} or null}; NULL on a store error. */
cJSON *store_docs_page(struct store *s, const struct page_query *q);

/* Failed documents of every flow grouped by (flow, reason), largest
 * first: [{flow, reason, count, documents: [first `ids` ids]}]. */
cJSON *store_failed_groups(struct store *s, int ids);
/* Ids of a flow's failed documents with that reason, oldest first, at
 * most limit (-1: all); owned, *n set. */
char **store_failed_ids(struct store *s, const char *flow, const char *reason,
			int limit, size_t *n);
/* Synced and failed documents last changed in the 24 hours before now,
 * by the hour: [{hour: "2026-11-30T08:00+07:00", synced, failed}]. */
cJSON *store_hourly(struct store *s, const char *flow, int64_t now_ms);

#endif

/*
 * store_console.c - the console's reads and writes (store_console.h) on
 * the SQLite backend of store_sqlite.c.
 */
#define _GNU_SOURCE /* vasprintf, strndup, open_memstream */
#include "store_console.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "util.h"

/* ---- users ---------------------------------------------------------- */

void user_row_free(struct user_row *u)
{
	free(u->name);
	free(u->role);
	free(u->salt);
	free(u->hash);
	memset(u, 0, sizeof(*u));
}

int store_user_put(struct store *s, const struct user_row *u)
{
	char iter[16], now[24];
	const char *a[] = { u->name, u->role, u->salt, u->hash, iter, now };

	snprintf(iter, sizeof(iter), "%d", u->iterations);
	snprintf(now, sizeof(now), "%lld", (long long)util_wall_ms());
	return store_write(s,
			   "INSERT INTO users(name, role, salt, hash, "
			   "iterations, created_at, updated_at) "
			   "VALUES(?1,?2,?3,?4,?5,?6,?6) ON CONFLICT(name) DO "
			   "UPDATE SET role=?2, salt=?3, hash=?4, "
			   "iterations=?5, updated_at=?6",
			   a, 6);
}

int store_user_del(struct store *s, const char *name)
{
	const char *a[] = { name };

	return store_write(s, "DELETE FROM users WHERE name=?", a, 1);
}

static void read_user(sqlite3_stmt *st, void *out)
{
	struct user_row *u = out;

	u->name = col_text(st, 0);
	u->role = col_text(st, 1);
	u->salt = col_text(st, 2);
	u->hash = col_text(st, 3);
	u->iterations = sqlite3_column_int(st, 4);
}

int store_user_get(struct store *s, const char *name, struct user_row *out)
{
	memset(out, 0, sizeof(*out));
	return query_row(s,
			 "SELECT name, role, salt, hash, iterations FROM "
			 "users WHERE name=?",
			 name, NULL, read_user, out);
}

/* Runs a read whose rows become the objects of an array. */
typedef void (*json_row_fn)(sqlite3_stmt *st, cJSON *o);

static cJSON *rows_json(struct store *s, const char *sql, const int64_t *ints,
			int n_ints, json_row_fn fn)
{
	sqlite3_stmt *st = read_prep(s, sql);
	cJSON *arr;

	if (!st)
		return NULL;
	for (int i = 0; i < n_ints; i++)
		sqlite3_bind_int64(st, i + 1, ints[i]);
	arr = cJSON_CreateArray();
	while (sqlite3_step(st) == SQLITE_ROW) {
		cJSON *o = cJSON_CreateObject();

		fn(st, o);
		cJSON_AddItemToArray(arr, o);
	}
	read_done(s, st);
	return arr;
}

static void add_col(cJSON *o, const char *name, sqlite3_stmt *st, int i)
{
	const char *t = (const char *)sqlite3_column_text(st, i);

	if (t)
		cJSON_AddStringToObject(o, name, t);
	else
		cJSON_AddNullToObject(o, name);
}

static void user_json(sqlite3_stmt *st, cJSON *o)
{
	add_col(o, "name", st, 0);
	add_col(o, "role", st, 1);
	add_time(o, "created_at", sqlite3_column_int64(st, 2));
}

cJSON *store_users(struct store *s)
{
	return rows_json(s,
			 "SELECT name, role, created_at FROM users "
			 "ORDER BY name",
			 NULL, 0, user_json);
}

/* ---- audit log ---------------------------------------------------------- */

int store_audit_add(struct store *s, const char *user, const char *action,
		    const char *flow, const char *detail)
{
	char now[24];
	const char *a[] = { now, user, action, flow, detail };

	snprintf(now, sizeof(now), "%lld", (long long)util_wall_ms());
	return store_write(s,
			   "INSERT INTO audit(at, user, action, flow, "
			   "detail) VALUES(?,?,?,?,?)",
			   a, 5);
}

static void audit_json(sqlite3_stmt *st, cJSON *o)
{
	cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(st, 0));
	add_time(o, "at", sqlite3_column_int64(st, 1));
	add_col(o, "user", st, 2);
	add_col(o, "action", st, 3);
	add_col(o, "flow", st, 4);
	add_col(o, "detail", st, 5);
}

cJSON *store_audit(struct store *s, int64_t before, int limit)
{
	int64_t a[] = { before > 0 ? before : INT64_MAX,
			limit > 0 && limit <= 500 ? limit : 100 };

	return rows_json(s,
			 "SELECT id, at, user, action, flow, detail FROM "
			 "audit WHERE id<? ORDER BY id DESC LIMIT ?",
			 a, 2, audit_json);
}

/* ---- ledger pages ------------------------------------------------------ */

/* The SQL of a page: only the conditions asked, so an index serves it. */
static char *page_sql(const struct page_query *q)
{
	char *sql = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&sql, &len);

	fputs("SELECT doc_id, status, seq, event, attempts, reason, target, "
	      "changed_after_sync, wait_key IS NOT NULL, created_at, "
	      "updated_at, payload, outputs FROM docs WHERE flow=:flow",
	      f);
	if (q->status)
		fputs(" AND status=:status", f);
	if (q->from_ms)
		fputs(" AND created_at>=:from", f);
	if (q->to_ms)
		fputs(" AND created_at<:to", f);
	if (q->prefix)
		fputs(" AND doc_id>=:lo AND doc_id<:hi", f);
	if (q->before_t)
		fputs(" AND (created_at, seq)<(:bt, :bs)", f);
	fputs(" ORDER BY created_at DESC, seq DESC LIMIT :limit", f);
	fclose(f);
	return sql;
}

static void bind_named_int(sqlite3_stmt *st, const char *name, int64_t v)
{
	int i = sqlite3_bind_parameter_index(st, name);

	if (i)
		sqlite3_bind_int64(st, i, v);
}

static void bind_page(sqlite3_stmt *st, const struct page_query *q, int lim)
{
	enum doc_status ds = DOC_PENDING;
	char *hi;

	sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":flow"),
			  q->flow, -1, SQLITE_TRANSIENT);
	if (q->status && !doc_status_parse(q->status, &ds))
		bind_named_int(st, ":status", ds);
	bind_named_int(st, ":from", q->from_ms);
	bind_named_int(st, ":to", q->to_ms);
	bind_named_int(st, ":bt", q->before_t);
	bind_named_int(st, ":bs", q->before_seq);
	bind_named_int(st, ":limit", lim);
	if (q->prefix) {
		/* every id with the prefix sorts below prefix + U+10FFFF */
		hi = xasprintf("%s\xf4\x8f\xbf\xbf", q->prefix);
		bind_text(st, sqlite3_bind_parameter_index(st, ":lo"),
			  q->prefix);
		bind_text(st, sqlite3_bind_parameter_index(st, ":hi"), hi);
		free(hi);
	}
}

static cJSON *page_row(sqlite3_stmt *st)
{
	cJSON *o = cJSON_CreateObject(), *v;
	const char *t;

	add_col(o, "document", st, 0);
	cJSON_AddStringToObject(
		o, "status",
		doc_status_name((enum doc_status)sqlite3_column_int(st, 1)));
	cJSON_AddNumberToObject(o, "seq", (double)sqlite3_column_int64(st, 2));
	add_col(o, "event", st, 3);
	cJSON_AddNumberToObject(o, "attempts", sqlite3_column_int(st, 4));
	add_col(o, "reason", st, 5);
	t = (const char *)sqlite3_column_text(st, 6);
	v = t ? cJSON_Parse(t) : NULL;
	cJSON_AddItemToObject(o, "target", v ? v : cJSON_CreateNull());
	cJSON_AddBoolToObject(o, "changed_after_sync",
			      sqlite3_column_int(st, 7));
	cJSON_AddBoolToObject(o, "waiting_for_callback",
			      sqlite3_column_int(st, 8));
	add_time(o, "received_at", sqlite3_column_int64(st, 9));
	cJSON_AddNumberToObject(o, "received_ms",
				(double)sqlite3_column_int64(st, 9));
	add_time(o, "updated_at", sqlite3_column_int64(st, 10));
	t = (const char *)sqlite3_column_text(st, 11);
	v = t ? cJSON_Parse(t) : NULL;
	cJSON_AddItemToObject(o, "payload", v ? v : cJSON_CreateNull());
	t = (const char *)sqlite3_column_text(st, 12);
	v = t ? cJSON_Parse(t) : NULL;
	cJSON_AddItemToObject(o, "outputs", v ? v : cJSON_CreateObject());
	return o;
}

cJSON *store_docs_page(struct store *s, const struct page_query *q)
{
	int lim = q->limit > 0 && q->limit <= 500 ? q->limit : 50;
	char *sql = page_sql(q);
	sqlite3_stmt *st = read_prep(s, sql);
	cJSON *o, *arr, *next;
	int n = 0;
	int64_t t = 0, seq = 0;

	free(sql);
	if (!st)
		return NULL;
	/* one row more than asked says whether a next page exists */
	bind_page(st, q, lim + 1);
	o = cJSON_CreateObject();
	arr = cJSON_AddArrayToObject(o, "documents");
	while (sqlite3_step(st) == SQLITE_ROW && ++n <= lim) {
		t = sqlite3_column_int64(st, 9);
		seq = sqlite3_column_int64(st, 2);
		cJSON_AddItemToArray(arr, page_row(st));
	}
	if (n > lim) {
		next = cJSON_AddObjectToObject(o, "next");
		cJSON_AddNumberToObject(next, "t", (double)t);
		cJSON_AddNumberToObject(next, "seq", (double)seq);
	} else {
		cJSON_AddNullToObject(o, "next");
	}
	read_done(s, st);
	return o;
}

/* ---- failed documents by reason ----------------------------------------- */

static void group_json(sqlite3_stmt *st, cJSON *o)
{
	add_col(o, "flow", st, 0);
	add_col(o, "reason", st, 1);
	cJSON_AddNumberToObject(o, "count",
				(double)sqlite3_column_int64(st, 2));
}

/* The literal status=3 lets SQLite use the partial index of failed
 * documents (docs_failed_by_reason); a bound value would not. The index
 * holds status too, so it covers these reads. */
_Static_assert(DOC_FAILED == 3, "docs_failed_by_reason is on status=3");

char **store_failed_ids(struct store *s, const char *flow, const char *reason,
			int limit, size_t *n)
{
	sqlite3_stmt *st = read_prep(s, "SELECT doc_id FROM docs WHERE "
					"status=3 AND flow=? AND reason IS ? "
					"ORDER BY seq LIMIT ?");
	char **ids = NULL;
	size_t cap = 0;

	*n = 0;
	if (!st)
		return NULL;
	bind_text(st, 1, flow);
	bind_text(st, 2, reason);
	sqlite3_bind_int(st, 3, limit);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			ids = xrealloc(ids, cap * sizeof(*ids));
		}
		ids[(*n)++] = col_text(st, 0);
	}
	read_done(s, st);
	return ids;
}

cJSON *store_failed_groups(struct store *s, int ids)
{
	cJSON *groups = rows_json(s,
				  "SELECT flow, reason, count(*) AS n "
				  "FROM docs WHERE status=3 GROUP BY flow, "
				  "reason ORDER BY n DESC, flow, reason",
				  NULL, 0, group_json);
	cJSON *g;

	cJSON_ArrayForEach (g, groups) {
		const cJSON *f = cJSON_GetObjectItem(g, "flow");
		const cJSON *r = cJSON_GetObjectItem(g, "reason");
		cJSON *arr = cJSON_AddArrayToObject(g, "documents");
		size_t n = 0;
		char **list = store_failed_ids(
			s, f->valuestring,
			cJSON_IsString(r) ? r->valuestring : NULL, ids, &n);

		for (size_t i = 0; i < n; i++) {
			cJSON_AddItemToArray(arr, cJSON_CreateString(list[i]));
			free(list[i]);
		}
		free(list);
	}
	return groups;
}

/* ---- by the hour ------------------------------------------------------ */

cJSON *store_hourly(struct store *s, const char *flow, int64_t now_ms)
{
	const int64_t hour = 3600 * 1000;
	int64_t first = (now_ms / hour - 23) * hour;
	int counts[24][2] = { { 0 } };
	sqlite3_stmt *st = read_prep(s, "SELECT status, updated_at/3600000, "
					"count(*) FROM docs WHERE flow=?1 AND "
					"status=?2 AND updated_at>=?3 GROUP BY "
					"2 "
					"UNION ALL SELECT status, "
					"updated_at/3600000, count(*) FROM "
					"docs "
					"WHERE flow=?1 AND status=?4 AND "
					"updated_at>=?3 GROUP BY 2");
	cJSON *arr;
	char ts[40];

	if (!st)
		return NULL;
	bind_text(st, 1, flow);
	sqlite3_bind_int(st, 2, DOC_SYNCED);
	sqlite3_bind_int64(st, 3, first);
	sqlite3_bind_int(st, 4, DOC_FAILED);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int64_t h = sqlite3_column_int64(st, 1) - first / hour;

		if (h >= 0 && h < 24)
			counts[h][sqlite3_column_int(st, 0) == DOC_FAILED] =
				sqlite3_column_int(st, 2);
	}
	read_done(s, st);
	arr = cJSON_CreateArray();
	for (int h = 0; h < 24; h++) {
		cJSON *o = cJSON_CreateObject();

		util_vn_time(first + h * hour, ts, sizeof(ts));
		cJSON_AddStringToObject(o, "hour", ts);
		cJSON_AddNumberToObject(o, "synced", counts[h][0]);
		cJSON_AddNumberToObject(o, "failed", counts[h][1]);
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

/*
 * store_links.c - record links in the SQLite store (see store.h,
 * "record links").
 *
 * A link row is (a: source connection, kind, id) -> (b: target
 * connection, kind, id, code), unique on a and b's connection and kind:
 * one source record makes at most one record of a kind in a target
 * (SPEC B11). A row is first a claim (made = 0: a step is making it),
 * then made. The engine decides who claims (links.c); the store keeps
 * the first claim of a row and never lets a claim replace a made link.
 */
#include "store.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "util.h"

#define LINK_COLUMNS                                                           \
	"id, a_conn, a_kind, a_id, b_conn, b_kind, b_id, "                     \
	"b_code, flow, doc_id, step, made, output, created_at, updated_at, "   \
	"echo "

void link_free(struct link *l)
{
	if (!l)
		return;
	free(l->a_conn);
	free(l->a_kind);
	free(l->a_id);
	free(l->b_conn);
	free(l->b_kind);
	free(l->b_id);
	free(l->b_code);
	free(l->flow);
	free(l->doc_id);
	free(l->step);
	free(l->output);
	free(l->echo);
	memset(l, 0, sizeof(*l));
}

static void read_link(sqlite3_stmt *st, struct link *l)
{
	l->row = sqlite3_column_int64(st, 0);
	l->a_conn = col_text(st, 1);
	l->a_kind = col_text(st, 2);
	l->a_id = col_text(st, 3);
	l->b_conn = col_text(st, 4);
	l->b_kind = col_text(st, 5);
	l->b_id = col_text(st, 6);
	l->b_code = col_text(st, 7);
	l->flow = col_text(st, 8);
	l->doc_id = col_text(st, 9);
	l->step = col_text(st, 10);
	l->made = sqlite3_column_int(st, 11) != 0;
	l->output = col_text(st, 12);
	l->created_at = sqlite3_column_int64(st, 13);
	l->updated_at = sqlite3_column_int64(st, 14);
	l->echo = col_text(st, 15);
}

static void bind_a_b(sqlite3_stmt *st, const struct link *l)
{
	bind_text(st, 1, l->a_conn);
	bind_text(st, 2, l->a_kind);
	bind_text(st, 3, l->a_id);
	bind_text(st, 4, l->b_conn);
	bind_text(st, 5, l->b_kind);
}

/* ---- writes ---------------------------------------------------------- */

/* A link copied into one block, for a write queued for later. */
static struct link *link_copy(const struct link *l)
{
	static const size_t offs[] = {
		offsetof(struct link, a_conn), offsetof(struct link, a_kind),
		offsetof(struct link, a_id),   offsetof(struct link, b_conn),
		offsetof(struct link, b_kind), offsetof(struct link, b_id),
		offsetof(struct link, b_code), offsetof(struct link, flow),
		offsetof(struct link, doc_id), offsetof(struct link, step),
		offsetof(struct link, output), offsetof(struct link, echo),
	};

	return pack_copy(l, sizeof(*l), offs, ARRAY_SIZE(offs));
}

/* A claim never replaces a row: the first one stays. */
static int claim_fn(struct store *s, struct wop *op)
{
	const struct link *w = wop_arg(op);
	int64_t now = util_wall_ms();
	sqlite3_stmt *st = wprep(s, "INSERT INTO links(a_conn, a_kind, a_id, "
				    "b_conn, b_kind, flow, doc_id, step, made, "
				    "created_at, updated_at) VALUES(?,?,?,?,?,"
				    "?,?,?,0,?,?) ON CONFLICT DO NOTHING");

	if (!st)
		return -1;
	bind_a_b(st, w);
	bind_text(st, 6, w->flow);
	bind_text(st, 7, w->doc_id);
	bind_text(st, 8, w->step);
	sqlite3_bind_int64(st, 9, now);
	sqlite3_bind_int64(st, 10, now);
	return wstep(s, st);
}

void store_link_claim_async(struct store *s, const struct link *want,
			    store_done_fn done, void *ud)
{
	run_async(s, claim_fn, link_copy(want), done, ud);
}

static const char sql_put[] =
	"INSERT INTO links(a_conn, a_kind, a_id, "
	"b_conn, b_kind, b_id, b_code, flow, doc_id, step, made, output, "
	"created_at, updated_at, echo) VALUES(?,?,?,?,?,?,?,?,?,?,1,?,?,?,?) "
	"ON CONFLICT(a_conn, a_kind, a_id, b_conn, b_kind) DO UPDATE SET "
	"b_id=excluded.b_id, b_code=excluded.b_code, flow=excluded.flow, "
	"doc_id=excluded.doc_id, step=excluded.step, made=1, "
	"output=excluded.output, updated_at=excluded.updated_at, "
	"echo=excluded.echo";

static int put_fn(struct store *s, struct wop *op)
{
	const struct link *l = wop_arg(op);
	int64_t now = util_wall_ms();
	sqlite3_stmt *st = wprep(s, sql_put);

	if (!st)
		return -1;
	bind_a_b(st, l);
	bind_text(st, 6, l->b_id);
	bind_text(st, 7, l->b_code);
	bind_text(st, 8, l->flow);
	bind_text(st, 9, l->doc_id);
	bind_text(st, 10, l->step);
	bind_text(st, 11, l->output);
	sqlite3_bind_int64(st, 12, now);
	sqlite3_bind_int64(st, 13, now);
	bind_text(st, 14, l->echo);
	return wstep(s, st);
}

void store_link_put_async(struct store *s, const struct link *l,
			  store_done_fn done, void *ud)
{
	run_async(s, put_fn, link_copy(l), done, ud);
}

int store_link_put(struct store *s, const struct link *l)
{
	struct link *a = link_copy(l);
	int rc = run_sync(s, put_fn, a);

	free(a);
	return rc;
}

struct release_arg {
	const char *flow, *doc_id;
};

static int release_fn(struct store *s, struct wop *op)
{
	struct release_arg *a = wop_arg(op);
	sqlite3_stmt *st = wprep(s, "DELETE FROM links WHERE flow=? AND "
				    "doc_id=? AND made=0");

	if (!st)
		return -1;
	bind_text(st, 1, a->flow);
	bind_text(st, 2, a->doc_id);
	return wstep(s, st);
}

int store_link_release(struct store *s, const char *flow, const char *doc_id)
{
	struct release_arg a = { flow, doc_id };

	return run_sync(s, release_fn, &a);
}

/* ---- reads ----------------------------------------------------------- */

/* Runs a query whose rows are links on a reader; calls each(row, ud)
 * until it returns non-zero. Returns the rows read, or -1. */
static int query_links(struct store *s, const char *sql,
		       const char *const *args, int n_args, int64_t after,
		       int limit, int (*each)(struct link *l, void *ud),
		       void *ud)
{
	sqlite3_stmt *st;
	int n = 0;

	st = read_prep(s, sql);
	if (!st)
		return -1;
	for (int i = 0; i < n_args; i++)
		bind_text(st, i + 1, args[i]);
	if (limit) {
		sqlite3_bind_int64(st, n_args + 1, after);
		sqlite3_bind_int(st, n_args + 2, limit);
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct link l;

		read_link(st, &l);
		n++;
		if (each(&l, ud))
			break;
	}
	read_done(s, st);
	return n;
}

static int take_first(struct link *l, void *ud)
{
	*(struct link *)ud = *l;
	return 1;
}

int store_link_get(struct store *s, const struct link *want, struct link *out)
{
	static const char sql[] = "SELECT " LINK_COLUMNS "FROM links WHERE "
				  "a_conn=? AND a_kind=? AND a_id=? AND "
				  "b_conn=? AND b_kind=?";
	const char *args[] = { want->a_conn, want->a_kind, want->a_id,
			       want->b_conn, want->b_kind };
	int n;

	memset(out, 0, sizeof(*out));
	n = query_links(s, sql, args, 5, 0, 0, take_first, out);
	return n < 0 ? -1 : n ? 0 : 1;
}

int store_link_find(struct store *s, const struct link_end *rec,
		    const char *other_conn, const char *other_kind,
		    struct link *out)
{
	/* as the source first: a record has one link per target kind */
	static const char as_a[] = "SELECT " LINK_COLUMNS "FROM links WHERE "
				   "made=1 AND a_conn=?1 AND a_id=?3 AND (?2 "
				   "IS NULL OR "
				   "a_kind=?2) AND b_conn=?4 AND (?5 IS NULL "
				   "OR b_kind=?5) "
				   "ORDER BY id LIMIT 1";
	static const char as_b[] = "SELECT " LINK_COLUMNS "FROM links WHERE "
				   "made=1 AND b_conn=?1 AND b_id=?3 AND (?2 "
				   "IS NULL OR "
				   "b_kind=?2) AND a_conn=?4 AND (?5 IS NULL "
				   "OR a_kind=?5) "
				   "ORDER BY id LIMIT 1";
	static const char as_b_code[] = "SELECT " LINK_COLUMNS "FROM links "
					"WHERE made=1 AND b_conn=?1 AND "
					"b_code=?3 AND (?2 IS NULL OR "
					"b_kind=?2) AND a_conn=?4 AND (?5 IS "
					"NULL OR a_kind=?5) "
					"ORDER BY id LIMIT 1";
	const char *args[] = { rec->connection, rec->kind, rec->id, other_conn,
			       other_kind };
	const char *const sqls[] = { as_a, as_b, as_b_code };
	int n;

	memset(out, 0, sizeof(*out));
	if (!rec->connection || !rec->id || !other_conn)
		return 1;
	for (size_t i = 0; i < ARRAY_SIZE(sqls); i++) {
		n = query_links(s, sqls[i], args, 5, 0, 0, take_first, out);
		if (n)
			return n < 0 ? -1 : 0;
	}
	return 1;
}

static void add_end(cJSON *o, const char *name, const char *conn,
		    const char *kind, const char *id, const char *code,
		    bool with_code)
{
	cJSON *e = cJSON_AddObjectToObject(o, name);

	cJSON_AddStringToObject(e, "connection", conn);
	cJSON_AddStringToObject(e, "kind", kind);
	if (id)
		cJSON_AddStringToObject(e, "id", id);
	else
		cJSON_AddNullToObject(e, "id");
	if (!with_code)
		return;
	if (code)
		cJSON_AddStringToObject(e, "code", code);
	else
		cJSON_AddNullToObject(e, "code");
}

cJSON *link_json(const struct link *l)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "seq", (double)l->row);
	add_end(o, "source", l->a_conn, l->a_kind, l->a_id, NULL, false);
	add_end(o, "target", l->b_conn, l->b_kind, l->b_id, l->b_code, true);
	cJSON_AddStringToObject(o, "state", l->made ? "made" : "making");
	cJSON_AddStringToObject(o, "flow", l->flow);
	cJSON_AddStringToObject(o, "document", l->doc_id);
	cJSON_AddStringToObject(o, "step", l->step);
	add_time(o, "created_at", l->created_at);
	add_time(o, "updated_at", l->updated_at);
	return o;
}

cJSON *link_seen_from(const struct link *l, const char *from_conn,
		      const char *from_id)
{
	bool from_a =
		!strcmp(l->a_conn, from_conn) && !strcmp(l->a_id, from_id);
	cJSON *v = cJSON_CreateObject();

	cJSON_AddStringToObject(v, "connection",
				from_a ? l->b_conn : l->a_conn);
	cJSON_AddStringToObject(v, "kind", from_a ? l->b_kind : l->a_kind);
	if (from_a) {
		cJSON_AddStringToObject(v, "id", l->b_id);
		cJSON_AddStringToObject(v, "code", l->b_code);
	} else {
		cJSON_AddStringToObject(v, "id", l->a_id);
		cJSON_AddNullToObject(v, "code");
	}
	cJSON_AddStringToObject(v, "flow", l->flow);
	cJSON_AddStringToObject(v, "document", l->doc_id);
	return v;
}

int store_link_echo(struct store *s, const struct link_end *rec,
		    const char *echo, struct link *out)
{
	/* the two look-ups apart: with "b_id=?3 OR b_code=?3" SQLite
	 * searched by b_conn alone, every link of the connection for every
	 * polled record (30,000 echoes read back cost minutes) */
	static const char sql[] = "SELECT " LINK_COLUMNS "FROM links WHERE "
				  "id IN (SELECT id FROM links WHERE "
				  "b_conn=?1 AND b_id=?3 UNION ALL SELECT id "
				  "FROM links WHERE b_conn=?1 AND b_code=?3) "
				  "AND made=1 AND (?2 IS "
				  "NULL OR b_kind=?2) AND echo=?4 ORDER BY id "
				  "LIMIT 1";
	const char *args[] = { rec->connection, rec->kind, rec->id, echo };
	int n;

	memset(out, 0, sizeof(*out));
	if (!rec->connection || !rec->id || !echo)
		return 1;
	n = query_links(s, sql, args, 4, 0, 0, take_first, out);
	return n < 0 ? -1 : n ? 0 : 1;
}

static int add_json(struct link *l, void *ud)
{
	cJSON_AddItemToArray(ud, link_json(l));
	link_free(l);
	return 0;
}

cJSON *store_links_list(struct store *s, const struct link_query *q)
{
	static const char sql[] = "SELECT " LINK_COLUMNS "FROM links WHERE "
				  "(?1 IS NULL OR a_conn=?1 OR b_conn=?1) AND "
				  "(?2 IS NULL OR a_kind=?2 OR b_kind=?2) AND "
				  "(?3 IS NULL OR a_id=?3 OR b_id=?3 OR "
				  "b_code=?3) AND "
				  "(?4 IS NULL OR flow=?4) AND id>?5 ORDER BY "
				  "id LIMIT ?6";
	const char *args[] = { q->connection, q->kind, q->id, q->flow };
	cJSON *arr = cJSON_CreateArray();

	if (query_links(s, sql, args, 4, q->after,
			q->limit > 0 ? q->limit : 100, add_json, arr) < 0) {
		cJSON_Delete(arr);
		return NULL;
	}
	return arr;
}

/*
 * connect.c - the connect sequence (connect.h). A plan is a list of steps
 * run in order, each one of:
 *
 *   pull   read a list from a connection (one action call, all pages)
 *          and give each row to the flows as that connection's event;
 *   match  read two lists, pair their rows by code: a row on one side
 *          only goes to the other through the flows (as its side's
 *          event), a pair that says the same (the `compare` words) is
 *          left as it is, and a pair that differs is a conflict, listed
 *          for a person and left alone. The codes of a's rows that are
 *          (or are being made) the same on both sides are reported to
 *          an action (`matched`), e.g. so that CRM's later edits of
 *          those customers cross at once.
 *
 * A step may `require` reads that must say yes before anything runs (the
 * org structure and employees must exist), or the sequence stops with
 * the plan's reason. Progress is a JSON file in the data folder, written
 * after every step; a host killed mid-way resumes the step it was in when
 * it starts again. Rows given twice change nothing: the flows' ledger
 * passes over a document whose content it has (as a poll's), and a synced
 * one is never sent a second time unless its content changed.
 */
#include "connect.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine.h"
#include "expr.h"
#include "i18n.h"
#include "loader.h"
#include "log.h"
#include "runtime.h"
#include "util.h"

#define EMIT_BATCH 200	   /* events per group commit */
#define CONFLICTS_KEPT 500 /* listed; all are counted */
#define MATCHED_BATCH 1000 /* codes per `matched` call */

struct connect_run {
	struct connects *cs;
	char *plan_id, *only;
	cJSON *plan;
	cJSON *state; /* guarded by cs->mu */
	pthread_t th;
	bool joined;
	struct connect_run *next;
};

struct connects {
	struct runtime *rt;
	pthread_mutex_t mu;
	struct connect_run *runs;
	atomic_bool stop;
};

/* ---- files ----------------------------------------------------------------- */

static bool valid_id(const char *id)
{
	if (!id || !*id || strlen(id) > 100)
		return false;
	for (const char *p = id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		      *p == '-' || *p == '_'))
			return false;
	return true;
}

static char *plan_path(struct runtime *rt, const char *id)
{
	char *dir = util_path_join(rt->conf.flows_dir, "connect"), *name, *p;

	name = xasprintf("%s.json", id);
	p = util_path_join(dir, name);
	free(dir);
	free(name);
	return p;
}

static char *state_path(struct runtime *rt, const char *id)
{
	char *name = xasprintf("connect-%s.json", id);
	char *p = util_path_join(rt->conf.data_dir, name);

	free(name);
	return p;
}

static cJSON *read_json(const char *path)
{
	char *text = util_read_file(path, NULL);
	cJSON *j = text ? cJSON_Parse(text) : NULL;

	free(text);
	return j;
}

/* Written whole or not at all: a crash leaves the last good one. */
static void save_state(struct connect_run *r)
{
	char *path = state_path(r->cs->rt, r->plan_id);
	char *tmp = xasprintf("%s.tmp", path), *text;
	int fd;

	pthread_mutex_lock(&r->cs->mu);
	text = cJSON_Print(r->state);
	pthread_mutex_unlock(&r->cs->mu);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) ||
	    fsync(fd) || close(fd) || rename(tmp, path)) {
		log_error("connect %s: cannot write %s: %s", r->plan_id, path,
			  strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	free(text);
	free(tmp);
	free(path);
}

/* ---- state ------------------------------------------------------------------ */

static cJSON *step_state(struct connect_run *r, const char *id)
{
	cJSON *s;

	cJSON_ArrayForEach (s, cJSON_GetObjectItem(r->state, "steps"))
		if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(s, "id")),
			    id))
			return s;
	return NULL;
}

static void set_str(struct connect_run *r, cJSON *o, const char *k,
		    const char *v)
{
	pthread_mutex_lock(&r->cs->mu);
	cJSON_DeleteItemFromObjectCaseSensitive(o, k);
	if (v)
		cJSON_AddStringToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
	pthread_mutex_unlock(&r->cs->mu);
}

static void set_num(struct connect_run *r, cJSON *o, const char *k, double v)
{
	pthread_mutex_lock(&r->cs->mu);
	cJSON_DeleteItemFromObjectCaseSensitive(o, k);
	cJSON_AddNumberToObject(o, k, v);
	pthread_mutex_unlock(&r->cs->mu);
}

static void add_num(struct connect_run *r, cJSON *o, const char *k, double d)
{
	double v = cJSON_GetNumberValue(cJSON_GetObjectItem(o, k));

	set_num(r, o, k, (v == v ? v : 0) + d);
}

/* A fresh state for the plan, keeping what was done before. */
static cJSON *state_for(const cJSON *plan, const cJSON *old)
{
	cJSON *st = cJSON_CreateObject(), *steps;
	const cJSON *ps;

	cJSON_AddStringToObject(st, "plan",
				cJSON_GetStringValue(cJSON_GetObjectItem(plan,
									 "i"
									 "d")));
	cJSON_AddStringToObject(
		st, "name",
		cJSON_GetStringValue(cJSON_GetObjectItem(plan, "name"))
			? cJSON_GetStringValue(cJSON_GetObjectItem(plan, "nam"
									 "e"))
			: "");
	steps = cJSON_AddArrayToObject(st, "steps");
	cJSON_ArrayForEach (ps, cJSON_GetObjectItem(plan, "steps")) {
		const char *id =
			cJSON_GetStringValue(cJSON_GetObjectItem(ps, "i"
								     "d"));
		const cJSON *o;
		cJSON *s = NULL;

		cJSON_ArrayForEach (o, cJSON_GetObjectItem(old, "steps"))
			if (id &&
			    cJSON_GetStringValue(cJSON_GetObjectItem(o, "i"
									"d")) &&
			    !strcmp(id, cJSON_GetStringValue(
						cJSON_GetObjectItem(o, "id"))))
				s = cJSON_Duplicate(o, 1);
		if (!s) {
			s = cJSON_CreateObject();
			cJSON_AddStringToObject(s, "id", id ? id : "");
			cJSON_AddStringToObject(s, "state", "pending");
		}
		cJSON_DeleteItemFromObjectCaseSensitive(s, "name");
		cJSON_AddItemToObject(
			s, "name",
			cJSON_Duplicate(cJSON_GetObjectItem(ps, "name"), 1));
		cJSON_AddItemToArray(steps, s);
	}
	return st;
}

/* ---- reading and giving ------------------------------------------------------- */

/* One action call (all its pages); *out owned. 0 or -1 with err. */
static int call_action(struct runtime *rt, const char *plan, const char *conn,
		       const char *action, const cJSON *input, cJSON **out,
		       char *err, size_t errlen)
{
	struct luong_ctx *ctx = loader_connection(rt, conn);
	const struct luong_action_def *act;
	struct luong_call call = { 0 };
	luong_perform_fn perform;
	enum luong_status st;
	char *key = xasprintf("connect:%s:%s", plan, action);

	*out = NULL;
	if (!ctx || !ctx->ready ||
	    !(act = plugin_action(ctx->plugin, action))) {
		snprintf(err, errlen,
			 _("connection %s is not ready or has no action %s"),
			 conn, action);
		free(key);
		return -1;
	}
	call.ctx = ctx;
	call.key = key;
	call.doc_id = plan;
	call.version = 1;
	perform = plugin_action_perform(ctx->plugin, act);
	conn_enter(ctx);
	if (perform) {
		struct luong_action_args args = {
			.struct_size = sizeof(args),
			.ctx = ctx,
			.host = &ctx->rt->host,
			.call = &call,
			.state = ctx->state,
			.input = input,
		};

		st = perform(&args);
		*out = args.output;
	} else {
		st = act->run(&call, ctx->state, input, out);
	}
	conn_leave(ctx);
	free(key);
	if (st != LUONG_OK) {
		snprintf(err, errlen, "%s.%s: %s", conn, action,
			 call.error[0] ? call.error : luong_status_text(st));
		cJSON_Delete(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

static struct expr *compile(const cJSON *o, const char *key, const char *dflt,
			    char *err, size_t errlen)
{
	const char *src = cJSON_GetStringValue(cJSON_GetObjectItem(o, key));
	struct expr *x;
	char jq[256];

	if (!src)
		src = dflt;
	if (!src)
		return NULL;
	x = expr_compile(src, NULL, jq, sizeof(jq));
	if (!x)
		snprintf(err, errlen, "%s: %s", key, jq);
	return x;
}

/* Text of the first value of x on doc, or NULL. Owned. */
static char *eval_text(struct expr *x, const cJSON *doc)
{
	cJSON *v = NULL;
	char err[256], *t = NULL;

	if (expr_eval(x, doc, NULL, &v, err, sizeof(err)) || !v ||
	    cJSON_IsNull(v)) {
		cJSON_Delete(v);
		return NULL;
	}
	t = cJSON_IsString(v) ? xstrdup(v->valuestring)
			      : cJSON_PrintUnformatted(v);
	cJSON_Delete(v);
	return t;
}

/* One side of a step: what to read and how its rows look. */
struct side {
	const char *conn, *event;
	const cJSON *spec;
	struct expr *rows, *filter, *id, *compare, *document;
	cJSON *out; /* the action's answer */
	cJSON *list;
};

static void side_free(struct side *s)
{
	expr_free(s->rows);
	expr_free(s->filter);
	expr_free(s->id);
	expr_free(s->compare);
	expr_free(s->document);
	cJSON_Delete(s->out);
	cJSON_Delete(s->list);
	memset(s, 0, sizeof(*s));
}

static int side_read(struct connect_run *r, struct side *s, const cJSON *spec,
		     char *err, size_t errlen)
{
	cJSON *rows = NULL;
	const cJSON *row;
	char e2[512] = "";

	memset(s, 0, sizeof(*s));
	s->spec = spec;
	s->conn = cJSON_GetStringValue(cJSON_GetObjectItem(spec, "connection"));
	s->event = cJSON_GetStringValue(cJSON_GetObjectItem(spec, "event"));
	if (!s->conn || !cJSON_GetStringValue(cJSON_GetObjectItem(spec, "act"
									"io"
									"n"))) {
		snprintf(err, errlen, _("a side needs connection and action"));
		return -1;
	}
	s->rows = compile(spec, "rows", ".rows", e2, sizeof(e2));
	s->filter = compile(spec, "filter", NULL, e2, sizeof(e2));
	s->id = compile(spec, "id", NULL, e2, sizeof(e2));
	s->compare = compile(spec, "compare", NULL, e2, sizeof(e2));
	s->document = compile(spec, "document", ".", e2, sizeof(e2));
	if (*e2 || !s->id) {
		snprintf(err, errlen, "%s", *e2 ? e2 : "a side needs id");
		return -1;
	}
	if (call_action(r->cs->rt, r->plan_id, s->conn,
			cJSON_GetStringValue(cJSON_GetObjectItem(spec, "actio"
								       "n")),
			cJSON_GetObjectItem(spec, "input"), &s->out, err,
			errlen))
		return -1;
	if (expr_eval(s->rows, s->out, NULL, &rows, e2, sizeof(e2)) ||
	    !cJSON_IsArray(rows)) {
		snprintf(err, errlen, _("%s.%s gave no list of rows%s%s"),
			 s->conn,
			 cJSON_GetStringValue(cJSON_GetObjectItem(spec, "actio"
									"n")),
			 *e2 ? ": " : "", e2);
		cJSON_Delete(rows);
		return -1;
	}
	s->list = cJSON_CreateArray();
	cJSON_ArrayForEach (row, rows)
		if (!s->filter ||
		    expr_test(s->filter, row, NULL, e2, sizeof(e2)) > 0)
			cJSON_AddItemToArray(s->list, cJSON_Duplicate(row, 1));
	cJSON_Delete(rows);
	return 0;
}

/* Events given to the flows, committed EMIT_BATCH at a time. */
struct giver {
	struct engine *e;
	struct luong_ctx *ctx;
	struct emit_batch b;
	size_t n, failed;
	bool open;
};

static void give_flush(struct giver *g)
{
	if (!g->open)
		return;
	if (engine_emit_commit(g->e, &g->b, NULL))
		g->failed += g->n;
	engine_emit_end(&g->b);
	g->open = false;
	g->n = 0;
}

static int give(struct giver *g, struct runtime *rt, const struct side *s,
		const cJSON *row)
{
	char *id = eval_text(s->id, row);
	cJSON *doc = NULL;
	char err[256];

	if (!id || !s->event ||
	    expr_eval(s->document, row, NULL, &doc, err, sizeof(err))) {
		free(id);
		return -1;
	}
	if (!g->open) {
		g->ctx = loader_connection(rt, s->conn);
		engine_emit_begin(&g->b, g->ctx);
		g->b.polled = true; /* given twice: passed over */
		g->open = true;
	}
	engine_emit(g->ctx, s->event, id, doc);
	free(id);
	if (++g->n >= EMIT_BATCH)
		give_flush(g);
	return 0;
}

/* ---- steps -------------------------------------------------------------------- */

/* The step's requirements; a refusal's reason in why. 0 met, 1 not met,
 * -1 could not be checked (err). */
static int requirements(struct connect_run *r, const cJSON *step, char *why,
			size_t whylen, char *err, size_t errlen)
{
	const cJSON *req;

	cJSON_ArrayForEach (req, cJSON_GetObjectItem(step, "require")) {
		struct expr *ok = compile(req, "ok", NULL, err, errlen);
		cJSON *out = NULL;
		int yes;

		if (!ok) {
			if (!*err)
				snprintf(err, errlen,
					 _("a requirement needs ok"));
			return -1;
		}
		if (call_action(
			    r->cs->rt, r->plan_id,
			    cJSON_GetStringValue(cJSON_GetObjectItem(req, "conn"
									  "ecti"
									  "o"
									  "n")),
			    cJSON_GetStringValue(cJSON_GetObjectItem(req, "acti"
									  "o"
									  "n")),
			    cJSON_GetObjectItem(req, "input"), &out, err,
			    errlen)) {
			expr_free(ok);
			return -1;
		}
		yes = expr_test(ok, out, NULL, err, errlen);
		expr_free(ok);
		cJSON_Delete(out);
		if (yes <= 0) {
			snprintf(why, whylen, "%s",
				 cJSON_GetStringValue(
					 cJSON_GetObjectItem(req, "reason"))
					 ? cJSON_GetStringValue(
						   cJSON_GetObjectItem(req,
								       "rea"
								       "so"
								       "n"))
					 : "a requirement of the step is not "
					   "met");
			return 1;
		}
	}
	return 0;
}

static int run_pull(struct connect_run *r, cJSON *ss, const cJSON *spec,
		    char *err, size_t errlen)
{
	struct giver g = { .e = r->cs->rt->engine };
	struct side s;
	const cJSON *row;
	int rc = -1;

	if (side_read(r, &s, spec, err, errlen))
		goto out;
	set_num(r, ss, "read", cJSON_GetArraySize(s.list));
	cJSON_ArrayForEach (row, s.list) {
		if (atomic_load(&r->cs->stop))
			break;
		if (!give(&g, r->cs->rt, &s, row))
			add_num(r, ss, "given", 1);
	}
	give_flush(&g);
	rc = atomic_load(&r->cs->stop) ? -2 : 0;
out:
	side_free(&s);
	return rc;
}

/* rows of a side by id: an object id -> index in s->list */
static cJSON *index_of(struct side *s)
{
	cJSON *idx = cJSON_CreateObject();
	const cJSON *row;
	int i = 0;

	cJSON_ArrayForEach (row, s->list) {
		char *id = eval_text(s->id, row);

		if (id && !cJSON_GetObjectItemCaseSensitive(idx, id))
			cJSON_AddNumberToObject(idx, id, i);
		free(id);
		i++;
	}
	return idx;
}

static void report_matched(struct connect_run *r, const cJSON *spec,
			   cJSON *codes, char *err, size_t errlen)
{
	struct expr *in;
	cJSON *input = NULL, *out = NULL;
	char e2[256];

	if (!spec || !cJSON_GetArraySize(codes))
		return;
	in = compile(spec, "input", "{codes: .}", e2, sizeof(e2));
	if (in && !expr_eval(in, codes, NULL, &input, e2, sizeof(e2)))
		call_action(
			r->cs->rt, r->plan_id,
			cJSON_GetStringValue(cJSON_GetObjectItem(spec, "connect"
								       "ion")),
			cJSON_GetStringValue(cJSON_GetObjectItem(spec, "actio"
								       "n")),
			input, &out, err, errlen);
	expr_free(in);
	cJSON_Delete(input);
	cJSON_Delete(out);
}

static int run_match(struct connect_run *r, cJSON *ss, const cJSON *spec,
		     char *err, size_t errlen)
{
	struct giver g = { .e = r->cs->rt->engine };
	struct side a, b;
	cJSON *ia = NULL, *ib = NULL, *conflicts, *codes;
	const cJSON *row;
	int rc = -1;

	memset(&b, 0, sizeof(b));
	if (side_read(r, &a, cJSON_GetObjectItem(spec, "a"), err, errlen) ||
	    side_read(r, &b, cJSON_GetObjectItem(spec, "b"), err, errlen))
		goto out;
	set_num(r, ss, "read_a", cJSON_GetArraySize(a.list));
	set_num(r, ss, "read_b", cJSON_GetArraySize(b.list));
	ia = index_of(&a);
	ib = index_of(&b);
	conflicts = cJSON_CreateArray();
	codes = cJSON_CreateArray();
	/* a's rows: alone -> to b; paired -> same or a conflict */
	cJSON_ArrayForEach (row, a.list) {
		char *id = eval_text(a.id, row);
		const cJSON *at =
			id ? cJSON_GetObjectItemCaseSensitive(ib, id) : NULL;

		if (atomic_load(&r->cs->stop)) {
			free(id);
			break;
		}
		if (!at) {
			/* on both sides once the flows have made it */
			if (!give(&g, r->cs->rt, &a, row)) {
				add_num(r, ss, "given_a", 1);
				cJSON_AddItemToArray(codes,
						     cJSON_CreateString(id));
			}
		} else {
			const cJSON *other = cJSON_GetArrayItem(
				b.list, (int)at->valuedouble);
			char *wa = a.compare ? eval_text(a.compare, row) : NULL;
			char *wb =
				b.compare ? eval_text(b.compare, other) : NULL;

			if (!wa || !wb || !strcmp(wa, wb)) {
				cJSON_AddItemToArray(codes,
						     cJSON_CreateString(id));
				add_num(r, ss, "matched", 1);
			} else {
				add_num(r, ss, "conflicts_count", 1);
				if (cJSON_GetArraySize(conflicts) <
				    CONFLICTS_KEPT) {
					cJSON *c = cJSON_CreateObject();

					cJSON_AddStringToObject(c, "id", id);
					cJSON_AddItemToObject(c, "a",
							      cJSON_Parse(wa));
					cJSON_AddItemToObject(c, "b",
							      cJSON_Parse(wb));
					cJSON_AddItemToArray(conflicts, c);
				}
			}
			free(wa);
			free(wb);
			if (cJSON_GetArraySize(codes) >= MATCHED_BATCH) {
				report_matched(r,
					       cJSON_GetObjectItem(spec, "ma"
									 "tch"
									 "e"
									 "d"),
					       codes, err, errlen);
				cJSON_Delete(codes);
				codes = cJSON_CreateArray();
			}
		}
		free(id);
	}
	give_flush(&g);
	report_matched(r, cJSON_GetObjectItem(spec, "matched"), codes, err,
		       errlen);
	cJSON_Delete(codes);
	/* b's rows alone -> to a */
	cJSON_ArrayForEach (row, b.list) {
		char *id = eval_text(b.id, row);

		if (atomic_load(&r->cs->stop)) {
			free(id);
			break;
		}
		if (id && !cJSON_GetObjectItemCaseSensitive(ia, id) &&
		    !give(&g, r->cs->rt, &b, row))
			add_num(r, ss, "given_b", 1);
		free(id);
	}
	give_flush(&g);
	pthread_mutex_lock(&r->cs->mu);
	cJSON_DeleteItemFromObjectCaseSensitive(ss, "conflicts");
	cJSON_AddItemToObject(ss, "conflicts", conflicts);
	pthread_mutex_unlock(&r->cs->mu);
	rc = atomic_load(&r->cs->stop) ? -2 : 0;
out:
	cJSON_Delete(ia);
	cJSON_Delete(ib);
	side_free(&a);
	side_free(&b);
	return rc;
}

/* Runs one step: 0 done, 1 refused (the sequence stops), -1 failed, -2
 * stopped with the host. */
static int run_step(struct connect_run *r, const cJSON *step, cJSON *ss)
{
	char err[1024] = "", why[1024] = "";
	int rc;

	set_str(r, ss, "state", "running");
	set_str(r, ss, "reason", NULL);
	pthread_mutex_lock(&r->cs->mu);
	for (const char *const *k =
		     (const char *const[]){ "read", "given", "read_a", "read_b",
					    "given_a", "given_b", "matched",
					    "conflicts_count", "conflicts",
					    NULL };
	     *k; k++)
		cJSON_DeleteItemFromObjectCaseSensitive(ss, *k);
	pthread_mutex_unlock(&r->cs->mu);
	set_num(r, ss, "started_at", (double)util_wall_ms());
	save_state(r);
	rc = requirements(r, step, why, sizeof(why), err, sizeof(err));
	if (rc == 0 && cJSON_GetObjectItem(step, "pull"))
		rc = run_pull(r, ss, cJSON_GetObjectItem(step, "pull"), err,
			      sizeof(err));
	else if (rc == 0 && cJSON_GetObjectItem(step, "match"))
		rc = run_match(r, ss, cJSON_GetObjectItem(step, "match"), err,
			       sizeof(err));
	set_str(r, ss, "state",
		rc == 0	   ? "done"
		: rc == 1  ? "refused"
		: rc == -2 ? "running"
			   : "failed");
	if (rc == 1 || rc == -1)
		set_str(r, ss, "reason", rc == 1 ? why : err);
	set_num(r, ss, "finished_at", (double)util_wall_ms());
	save_state(r);
	return rc;
}

static void *run_plan(void *ud)
{
	struct connect_run *r = ud;
	const cJSON *step;
	int rc = 0;

	log_info("connect %s: %s", r->plan_id,
		 r->only ? "sync now of one step" : "running");
	cJSON_ArrayForEach (step, cJSON_GetObjectItem(r->plan, "steps")) {
		const char *id =
			cJSON_GetStringValue(cJSON_GetObjectItem(step, "id"));
		cJSON *ss = step_state(r, id ? id : "");
		const char *done;

		if (!ss)
			continue;
		done = cJSON_GetStringValue(cJSON_GetObjectItem(ss, "state"));
		if (r->only ? strcmp(r->only, id)
			    : done && !strcmp(done, "done"))
			continue;
		rc = run_step(r, step, ss);
		if (rc)
			break;
	}
	set_str(r, r->state, "state",
		rc == 0	   ? "done"
		: rc == 1  ? "refused"
		: rc == -2 ? "running"
			   : "failed");
	set_num(r, r->state, "finished_at", (double)util_wall_ms());
	save_state(r);
	log_info("connect %s: %s", r->plan_id,
		 rc == 0    ? "done"
		 : rc == 1  ? "refused (see its progress)"
		 : rc == -2 ? "stopped; resumes when the host starts"
			    : "failed (see its progress)");
	return NULL;
}

/* ---- the set ------------------------------------------------------------------ */

static void run_free(struct connect_run *r)
{
	free(r->plan_id);
	free(r->only);
	cJSON_Delete(r->plan);
	cJSON_Delete(r->state);
	free(r);
}

static bool is_running(struct connect_run *r)
{
	const char *st =
		cJSON_GetStringValue(cJSON_GetObjectItem(r->state, "state"));

	return st && !strcmp(st, "running");
}

int connects_start(struct connects *cs, const char *plan, const char *step,
		   char *err, size_t errlen)
{
	struct connect_run *r, **pp;
	cJSON *p, *old;
	char *path;

	if (!valid_id(plan) || (step && !valid_id(step))) {
		snprintf(err, errlen,
			 _("a plan or step id is a-z, 0-9, - or _"));
		return CONNECT_E_REQUEST;
	}
	path = plan_path(cs->rt, plan);
	p = read_json(path);
	if (!p || !cJSON_IsArray(cJSON_GetObjectItem(p, "steps"))) {
		snprintf(err, errlen, _("no connect plan %s (%s)"), plan, path);
		free(path);
		cJSON_Delete(p);
		return CONNECT_E_NOT_FOUND;
	}
	free(path);
	pthread_mutex_lock(&cs->mu);
	for (pp = &cs->runs; *pp; pp = &(*pp)->next)
		if (!strcmp((*pp)->plan_id, plan))
			break;
	if (*pp && is_running(*pp) && !(*pp)->joined) {
		pthread_mutex_unlock(&cs->mu);
		cJSON_Delete(p);
		snprintf(err, errlen, _("connect %s is running already"), plan);
		return CONNECT_E_BUSY;
	}
	if (*pp) { /* finished: take its progress, join its thread */
		r = *pp;
		*pp = r->next;
		pthread_mutex_unlock(&cs->mu);
		if (!r->joined)
			pthread_join(r->th, NULL);
		pthread_mutex_lock(&cs->mu);
		run_free(r);
	}
	pthread_mutex_unlock(&cs->mu);
	path = state_path(cs->rt, plan);
	old = read_json(path);
	free(path);
	r = xcalloc(1, sizeof(*r));
	r->cs = cs;
	r->plan_id = xstrdup(plan);
	r->only = step ? xstrdup(step) : NULL;
	r->plan = p;
	r->state = state_for(p, old);
	cJSON_Delete(old);
	if (step && !step_state(r, step)) {
		snprintf(err, errlen, _("connect plan %s has no step %s"), plan,
			 step);
		run_free(r);
		return CONNECT_E_NOT_FOUND;
	}
	cJSON_AddStringToObject(r->state, "state", "running");
	if (step)
		cJSON_AddStringToObject(r->state, "only", step);
	cJSON_AddNumberToObject(r->state, "started_at", (double)util_wall_ms());
	save_state(r);
	pthread_mutex_lock(&cs->mu);
	r->next = cs->runs;
	cs->runs = r;
	if (pthread_create(&r->th, NULL, run_plan, r)) {
		r->joined = true;
		pthread_mutex_unlock(&cs->mu);
		snprintf(err, errlen, _("cannot start a thread"));
		return CONNECT_E_BUSY;
	}
	pthread_mutex_unlock(&cs->mu);
	return 0;
}

cJSON *connects_state(struct connects *cs, const char *plan)
{
	struct connect_run *r;
	cJSON *st = NULL;
	char *path;

	if (!valid_id(plan))
		return NULL;
	pthread_mutex_lock(&cs->mu);
	for (r = cs->runs; r; r = r->next)
		if (!strcmp(r->plan_id, plan)) {
			st = cJSON_Duplicate(r->state, 1);
			break;
		}
	pthread_mutex_unlock(&cs->mu);
	if (st)
		return st;
	path = state_path(cs->rt, plan);
	st = read_json(path);
	free(path);
	return st;
}

struct connects *connects_new(struct runtime *rt)
{
	struct connects *cs = xcalloc(1, sizeof(*cs));
	char *dir = util_path_join(rt->conf.flows_dir, "connect");
	DIR *d;
	struct dirent *de;

	cs->rt = rt;
	pthread_mutex_init(&cs->mu, NULL);
	/* a plan left running (the host stopped or was killed) resumes */
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		size_t n = strlen(de->d_name);
		char id[128], err[512], *path;
		cJSON *st;
		const char *s, *only;

		if (n < 6 || n - 5 >= sizeof(id) ||
		    strcmp(de->d_name + n - 5, ".json"))
			continue;
		memcpy(id, de->d_name, n - 5);
		id[n - 5] = '\0';
		if (!valid_id(id))
			continue;
		path = state_path(rt, id);
		st = read_json(path);
		free(path);
		s = cJSON_GetStringValue(cJSON_GetObjectItem(st, "state"));
		only = cJSON_GetStringValue(cJSON_GetObjectItem(st, "only"));
		if (s && !strcmp(s, "running") &&
		    connects_start(cs, id, only, err, sizeof(err)))
			log_error("connect %s: cannot resume: %s", id, err);
		else if (s && !strcmp(s, "running"))
			log_info("connect %s: resumed where it stopped", id);
		cJSON_Delete(st);
	}
	if (d)
		closedir(d);
	free(dir);
	return cs;
}

void connects_free(struct connects *cs)
{
	if (!cs)
		return;
	atomic_store(&cs->stop, true);
	while (cs->runs) {
		struct connect_run *r = cs->runs;

		cs->runs = r->next;
		if (!r->joined)
			pthread_join(r->th, NULL);
		run_free(r);
	}
	pthread_mutex_destroy(&cs->mu);
	free(cs);
}

/*
 * try.c - the go-live check (`luong flows try`, POST /api/flows/<id>/try).
 *
 * A dry run takes one document (given as JSON, or the last stored event
 * of that id for the flow's trigger) through the flow's filter, every
 * step's input (its mappings and lookups) and each action's own check(),
 * and says field by field what would be written. It writes nothing: no
 * event, no ledger row, no run(). A dry run knows no step's output, so a
 * field that needs one ($steps.x) is shown as not known instead of
 * failing the step.
 *
 * With "send", the document goes through the flow for real, as any
 * document does (ledger row, one effect per document), and the answer is
 * what the steps made: their outputs and the link.
 */
#define _GNU_SOURCE /* vasprintf */
#include "engine_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "i18n.h"
#include "loader.h"
#include "log.h"
#include "runtime.h"
#include "util.h"

#define TRY_WAIT_DEFAULT_S 30
#define TRY_WAIT_MAX_S 600
#define TRY_POLL_MS 100

/* The document tried. */
struct try_doc {
	char *id;
	cJSON *doc;
	int64_t seq; /* its stored event; 0 when given or fetched */
	int64_t received_at;
	bool fetched; /* read from the source by the event's fetch() */
	const char *connection; /* the source (the flow's trigger) */
};

static void try_doc_free(struct try_doc *td)
{
	free(td->id);
	cJSON_Delete(td->doc);
}

static int bad(int rc, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int bad(int rc, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

/* The trigger event's fetch(), or NULL with why in err. */
static luong_fetch_fn trigger_fetch(struct engine *e, const struct flow *f,
				    struct luong_ctx **ctx, char *err,
				    size_t errlen)
{
	const struct luong_event_def *ev;
	luong_fetch_fn fetch = NULL;

	*ctx = loader_connection(e->rt, f->trigger_connection);
	if (!*ctx || !(*ctx)->ready) {
		char why[400] = "";

		if (*ctx)
			loader_conn_error(*ctx, why, sizeof(why));
		snprintf(err, errlen,
			 _("connection %s is not ready, so the document cannot "
			   "be read from it%s%s"),
			 f->trigger_connection, *why ? ": " : "", why);
		return NULL;
	}
	ev = plugin_event((*ctx)->plugin, f->trigger_event);
	if (ev)
		fetch = plugin_event_fetch((*ctx)->plugin, ev);
	if (!fetch)
		snprintf(err, errlen,
			 _("%s cannot read a %s document by its id (its plugin "
			   "has no fetch for that event); give the document "
			   "as JSON instead"),
			 f->trigger_connection, f->trigger_event);
	return fetch;
}

/* The document read from the source system now, by the trigger event's
 * fetch(): what the source would send, before it has sent it. */
static int fetch_doc(struct engine *e, const struct flow *f, const char *id,
		     struct try_doc *td, char *err, size_t errlen)
{
	struct luong_ctx *ctx;
	luong_fetch_fn fetch = trigger_fetch(e, f, &ctx, err, errlen);
	cJSON *payload = NULL;
	enum luong_status st;
	const char *why;

	if (!fetch)
		return TRY_E_NOT_FOUND;
	helpers_fail_clear();
	conn_enter(ctx);
	st = fetch(ctx, ctx->state, id, &payload);
	conn_leave(ctx);
	why = helpers_fail_reason();
	if (st == LUONG_OK && cJSON_IsObject(payload)) {
		td->doc = payload;
		td->id = xstrdup(id);
		td->fetched = true;
		td->connection = f->trigger_connection;
		return 0;
	}
	cJSON_Delete(payload);
	if (st == LUONG_OK)
		return bad(TRY_E_INTERNAL, err, errlen,
			   _("%s gave no document for \"%s\""),
			   f->trigger_connection, id);
	if (st == LUONG_E_NOTFOUND)
		return bad(TRY_E_NOT_FOUND, err, errlen,
			   _("%s has no document \"%s\"%s%s"),
			   f->trigger_connection, id, why ? ": " : "",
			   why ? why : "");
	return bad(TRY_E_INTERNAL, err, errlen,
		   _("cannot read \"%s\" from %s: %s"), id,
		   f->trigger_connection, why ? why : luong_status_text(st));
}

/* The document of the request: $.document, $.id read from the source
 * ($.fetch), or $.id from the stored events of the flow's trigger, read
 * from the source when none was received. */
static int doc_of_request(struct engine *e, const struct flow *f,
			  const cJSON *req, struct try_doc *td, char *err,
			  size_t errlen)
{
	const cJSON *doc = cJSON_GetObjectItemCaseSensitive(req, "document");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(req, "id");
	const cJSON *fetch = cJSON_GetObjectItemCaseSensitive(req, "fetch");
	struct stored_event ev;
	int rc;

	if (id && (!cJSON_IsString(id) || !*id->valuestring))
		return bad(TRY_E_REQUEST, err, errlen,
			   _("$.id: expected a "
			     "document id (a non-empty string)"));
	if (doc && !cJSON_IsObject(doc))
		return bad(TRY_E_REQUEST, err, errlen,
			   _("$.document: expected "
			     "the document as a JSON object"));
	if (doc) {
		td->doc = cJSON_Duplicate(doc, 1);
		td->id = xstrdup(id ? id->valuestring : "try");
		return 0;
	}
	if (fetch && !cJSON_IsBool(fetch))
		return bad(TRY_E_REQUEST, err, errlen,
			   _("$.fetch: expected true or false"));
	if (!id)
		return bad(TRY_E_REQUEST, err, errlen,
			   _("give $.document (the "
			     "document as JSON) or $.id (a document the host "
			     "has received)"));
	if (cJSON_IsTrue(fetch))
		return fetch_doc(e, f, id->valuestring, td, err, errlen);
	rc = store_last_event(e->rt->store, f->trigger_connection,
			      f->trigger_event, id->valuestring, &ev);
	if (rc == 1) {
		char why[400];

		/* not received yet: the source may have it */
		if (fetch_doc(e, f, id->valuestring, td, why, sizeof(why)) == 0)
			return 0;
		return bad(TRY_E_NOT_FOUND, err, errlen,
			   _("no %s event of "
			     "document \"%s\" was received from %s (the "
			     "trigger "
			     "of flow %s), and it cannot be read from there: "
			     "%s"),
			   f->trigger_event, id->valuestring,
			   f->trigger_connection, f->id, why);
	}
	if (rc)
		return bad(TRY_E_INTERNAL, err, errlen,
			   _("cannot read the "
			     "stored events"));
	td->doc = cJSON_Parse(ev.payload);
	td->id = ev.doc_id;
	td->seq = ev.seq;
	td->received_at = ev.received_at;
	free(ev.payload);
	if (!td->doc)
		return bad(TRY_E_INTERNAL, err, errlen,
			   _("stored event %lld is "
			     "not JSON"),
			   (long long)ev.seq);
	return 0;
}

static void add_source(cJSON *o, const struct try_doc *td)
{
	cJSON *s = cJSON_AddObjectToObject(o, "source");

	if (td->fetched) {
		cJSON_AddStringToObject(s, "from", "fetched");
		cJSON_AddStringToObject(s, "connection", td->connection);
		return;
	}
	if (!td->seq) {
		cJSON_AddStringToObject(s, "from", "given");
		return;
	}
	cJSON_AddStringToObject(s, "from", "stored event");
	cJSON_AddNumberToObject(s, "seq", (double)td->seq);
	cJSON_AddNumberToObject(s, "received_at", (double)td->received_at);
}

/* ---- a step's input, without the outputs of earlier steps --------------- */

static void add_problem(cJSON *problems, const char *path, const char *msg)
{
	cJSON *p = cJSON_CreateObject();

	cJSON_AddStringToObject(p, "path", path);
	cJSON_AddStringToObject(p, "message", msg);
	cJSON_AddItemToArray(problems, p);
}

/*
 * A copy of the template in which every expression that names an earlier
 * step ($steps.x) is null; each such field is listed in `unknown` as
 * {path, needs: [step ids]}.
 */
static cJSON *without_step_refs(const cJSON *n, const char *path,
				cJSON *unknown)
{
	cJSON *copy, *u, *needs;
	const cJSON *c;
	char **names;
	int k, i = 0;

	if (cJSON_IsString(n)) {
		k = expr_step_refs(n->valuestring, &names);
		if (k <= 0)
			return cJSON_Duplicate(n, 0);
		u = cJSON_CreateObject();
		cJSON_AddStringToObject(u, "path", path);
		needs = cJSON_AddArrayToObject(u, "needs");
		for (int j = 0; j < k; j++)
			cJSON_AddItemToArray(needs,
					     cJSON_CreateString(names[j]));
		cJSON_AddItemToArray(unknown, u);
		expr_names_free(names, k);
		return cJSON_CreateNull();
	}
	if (!cJSON_IsObject(n) && !cJSON_IsArray(n))
		return cJSON_Duplicate(n, 0);
	copy = cJSON_IsObject(n) ? cJSON_CreateObject() : cJSON_CreateArray();
	cJSON_ArrayForEach (c, n) {
		char *p = cJSON_IsObject(n)
				  ? util_json_path_key(path, c->string)
				  : xasprintf("%s[%d]", path, i);

		if (cJSON_IsObject(n))
			cJSON_AddItemToObject(copy, c->string,
					      without_step_refs(c, p, unknown));
		else
			cJSON_AddItemToArray(copy,
					     without_step_refs(c, p, unknown));
		free(p);
		i++;
	}
	return copy;
}

/* The input failed as a whole: each expression alone, so that every
 * field whose mapping or lookup fails is named by its path. */
static int leaf_problems(const cJSON *n, const char *path, const cJSON *tables,
			 const cJSON *doc, const cJSON *vars, cJSON *problems)
{
	const cJSON *c;
	int found = 0, i = 0;

	if (cJSON_IsString(n)) {
		char msg[1024];
		struct expr *x =
			expr_compile(n->valuestring, tables, msg, sizeof(msg));
		cJSON *v = NULL;

		if (!x || expr_eval(x, doc, vars, &v, msg, sizeof(msg))) {
			add_problem(problems, path, msg);
			found = 1;
		}
		cJSON_Delete(v);
		expr_free(x);
		return found;
	}
	cJSON_ArrayForEach (c, n) {
		char *p = cJSON_IsObject(n)
				  ? util_json_path_key(path, c->string)
				  : xasprintf("%s[%d]", path, i);

		found += leaf_problems(c, p, tables, doc, vars, problems);
		free(p);
		i++;
	}
	return found;
}

/* Evaluates step i's input in a dry run into s.input (null on failure),
 * listing fields not known and problems. 0 when evaluated. */
static int dry_input(const struct flow_set *set, const struct flow *f,
		     const struct flow_step *step, const struct try_doc *td,
		     cJSON *s, cJSON *problems)
{
	cJSON *unknown = cJSON_AddArrayToObject(s, "not_known");
	cJSON *outputs = cJSON_CreateObject(), *vars, *input = NULL, *tmpl;
	struct expr *x = step->input, *own = NULL;
	char err[1024], *reason = NULL;
	int rc = 0;

	tmpl = without_step_refs(step->input_src, "$", unknown);
	if (cJSON_GetArraySize(unknown)) {
		own = expr_compile_template(tmpl, set->tables, "$", err,
					    sizeof(err));
		if (!own) {
			add_problem(problems, "$", err);
			rc = -1;
			goto out;
		}
		x = own;
	}
	vars = runner_vars(f, td->id, f->trigger_event, f->trigger_connection,
			   outputs, NULL);
	rc = runner_step_input(step, x, td->doc, vars, &input, &reason);
	if (rc &&
	    !leaf_problems(tmpl, "$", set->tables, td->doc, vars, problems))
		add_problem(problems, "$", reason);
	cJSON_Delete(vars);
	free(reason);
out:
	cJSON_AddItemToObject(s, "input", input ? input : cJSON_CreateNull());
	expr_free(own);
	cJSON_Delete(tmpl);
	cJSON_Delete(outputs);
	return rc;
}

/* ---- the action's own check ------------------------------------------- */

/* Copies a plugin's problems, keeping only well-formed text. */
static void take_problems(const cJSON *from, cJSON *problems)
{
	const cJSON *p;

	cJSON_ArrayForEach (p, from) {
		const cJSON *path = cJSON_GetObjectItemCaseSensitive(p, "path");
		const cJSON *msg = cJSON_GetObjectItemCaseSensitive(p, "messag"
								       "e");

		if (!cJSON_IsString(msg))
			continue;
		add_problem(problems,
			    cJSON_IsString(path) ? path->valuestring : "$",
			    msg->valuestring);
	}
}

/* Calls the action's check() on the input; s.check says how it went:
 * "passed", "problems", "none" (the action has no check) or "failed"
 * (the check could not be done; s.check_error says why). */
static void run_check(struct engine *e, const struct flow_step *step,
		      const char *doc_id, const cJSON *input, cJSON *s,
		      cJSON *problems)
{
	struct luong_ctx *ctx = loader_connection(e->rt, step->connection);
	const struct luong_action_def *act = NULL;
	struct luong_call call = { 0 };
	luong_check_fn chk;
	cJSON *out = NULL;
	enum luong_status st;
	int before = cJSON_GetArraySize(problems);

	if (ctx && ctx->ready)
		act = plugin_action(ctx->plugin, step->action);
	if (!act) {
		char why[400] = "";

		if (ctx)
			loader_conn_error(ctx, why, sizeof(why));
		cJSON_AddStringToObject(s, "check", "failed");
		cJSON_AddStringToObject(s, "check_error",
					*why ? why
					     : "the connection is not ready");
		return;
	}
	chk = plugin_action_check(ctx->plugin, act);
	if (!chk) {
		cJSON_AddStringToObject(s, "check", "none");
		return;
	}
	call.ctx = ctx;
	call.key = cJSON_GetStringValue(cJSON_GetObjectItem(s, "idempotency_"
							       "key"));
	call.doc_id = doc_id;
	conn_enter(ctx);
	st = chk(&call, ctx->state, input, &out);
	conn_leave(ctx);
	if (st != LUONG_OK) {
		cJSON_AddStringToObject(s, "check", "failed");
		cJSON_AddStringToObject(s, "check_error",
					call.error[0] ? call.error
						      : luong_status_text(st));
		cJSON_Delete(out);
		return;
	}
	take_problems(cJSON_GetObjectItemCaseSensitive(out, "problems"),
		      problems);
	if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(out, "preview")))
		cJSON_AddItemToObject(s, "preview",
				      cJSON_DetachItemFromObject(out, "previe"
								      "w"));
	cJSON_AddStringToObject(s, "check",
				cJSON_GetArraySize(problems) > before ? "proble"
									"ms"
								      : "passe"
									"d");
	cJSON_Delete(out);
}

/* ---- what an earlier step makes ----------------------------------------- */

/* The member at a problem's path ("$.detail[1].item_code") of `v`, and
 * the path's last member name in *key; NULL if the path does not lead
 * anywhere. */
static const cJSON *at_path(const cJSON *v, const char *path, char *key,
			    size_t keylen)
{
	const char *p = path;

	*key = '\0';
	if (*p++ != '$')
		return NULL;
	while (v && *p) {
		size_t n;

		if (*p == '.') {
			n = strcspn(++p, ".[");
			if (!n || n >= keylen)
				return NULL;
			memcpy(key, p, n);
			key[n] = '\0';
			v = cJSON_GetObjectItemCaseSensitive(v, key);
			p += n;
		} else if (*p == '[') {
			char *end;
			long i = strtol(p + 1, &end, 10);

			if (*end != ']' || i < 0)
				return NULL;
			v = cJSON_GetArrayItem(v, (int)i);
			p = end + 1;
		} else {
			return NULL;
		}
	}
	return *key ? v : NULL;
}

/* Whether `v` holds member `key` with the string `value`, at any depth. */
static bool holds(const cJSON *v, const char *key, const char *value)
{
	const cJSON *c;

	cJSON_ArrayForEach (c, v) {
		if (c->string && !strcmp(c->string, key) && cJSON_IsString(c) &&
		    !strcmp(c->valuestring, value))
			return true;
		if ((cJSON_IsObject(c) || cJSON_IsArray(c)) &&
		    holds(c, key, value))
			return true;
	}
	return false;
}

/*
 * A check runs against the target as it is: a code that an earlier step
 * of this document writes to the same connection (a new customer made
 * before its order) is not there yet in a dry run. Such a problem is a
 * note on the step ("made by step X first"), not a problem: sent for
 * real, the earlier step makes it.
 */
static void made_earlier(const cJSON *steps, const cJSON *s, cJSON *problems)
{
	const char *conn = cJSON_GetStringValue(cJSON_GetObjectItem(s, "connect"
								       "ion"));
	const cJSON *input = cJSON_GetObjectItem(s, "input");
	cJSON *notes = NULL;
	int k = 0;

	while (k < cJSON_GetArraySize(problems)) {
		cJSON *p = cJSON_GetArrayItem(problems, k);
		const char *path =
			cJSON_GetStringValue(cJSON_GetObjectItem(p, "path"));
		const cJSON *v, *prev, *by = NULL;
		char key[128];

		v = path ? at_path(input, path, key, sizeof(key)) : NULL;
		cJSON_ArrayForEach (prev, steps) {
			if (prev == s)
				break;
			if (cJSON_IsString(v) && conn &&
			    !strcmp(conn,
				    cJSON_GetStringValue(
					    cJSON_GetObjectItem(prev, "connecti"
								      "on"))) &&
			    holds(cJSON_GetObjectItem(prev, "input"), key,
				  v->valuestring))
				by = prev;
		}
		if (!by) {
			k++;
			continue;
		}
		if (!notes)
			notes = cJSON_AddArrayToObject((cJSON *)s, "made_"
								   "earlier");
		p = cJSON_DetachItemFromArray(problems, k);
		cJSON_AddStringToObject(
			p, "by_step",
			cJSON_GetStringValue(cJSON_GetObjectItem(by, "id")));
		cJSON_AddItemToArray(notes, p);
	}
}

/* ---- the dry run -------------------------------------------------------- */

static cJSON *dry_run(struct engine *e, const struct flow_set *set,
		      const struct flow *f, const struct try_doc *td)
{
	cJSON *o = cJSON_CreateObject(), *steps, *vars, *empty;
	char err[512];
	int sel = 1, n_problems = 0;
	bool checks_done = true;

	cJSON_AddStringToObject(o, "flow", f->id);
	cJSON_AddStringToObject(o, "document_id", td->id);
	add_source(o, td);
	cJSON_AddBoolToObject(o, "dry_run", true);
	if (f->when) {
		empty = cJSON_CreateObject();
		vars = runner_vars(f, td->id, f->trigger_event,
				   f->trigger_connection, empty, NULL);
		sel = expr_test(f->when, td->doc, vars, err, sizeof(err));
		cJSON_Delete(vars);
		cJSON_Delete(empty);
		if (sel < 0)
			cJSON_AddStringToObject(o, "filter", err);
		else if (!sel)
			cJSON_AddStringToObject(o, "filter",
						_("not selected by the flow's "
						  "filter (when)"));
	}
	cJSON_AddBoolToObject(o, "selected", sel > 0);
	steps = cJSON_AddArrayToObject(o, "steps");
	for (size_t i = 0; sel > 0 && i < f->n_steps; i++) {
		const struct flow_step *step = &f->steps[i];
		cJSON *s = cJSON_CreateObject(), *problems;
		char *key = call_key_for(f->id, step->id, td->id, 1);
		const char *chk;

		cJSON_AddItemToArray(steps, s);
		cJSON_AddStringToObject(s, "id", step->id);
		cJSON_AddStringToObject(s, "connection", step->connection);
		cJSON_AddStringToObject(s, "action", step->action);
		cJSON_AddStringToObject(s, "idempotency_key", key);
		free(key);
		problems = cJSON_CreateArray();
		if (dry_input(set, f, step, td, s, problems))
			cJSON_AddStringToObject(s, "check", "skipped");
		else
			run_check(e, step, td->id,
				  cJSON_GetObjectItem(s, "input"), s, problems);
		made_earlier(steps, s, problems);
		if (!cJSON_GetArraySize(problems) &&
		    !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(s, "chec"
									"k")),
			    "problems"))
			cJSON_ReplaceItemInObject(s, "check",
						  cJSON_CreateString("passed"));
		chk = cJSON_GetStringValue(cJSON_GetObjectItem(s, "check"));
		checks_done &= strcmp(chk, "failed") != 0;
		n_problems += cJSON_GetArraySize(problems);
		cJSON_AddItemToObject(s, "problems", problems);
	}
	cJSON_AddNumberToObject(o, "problems", n_problems);
	cJSON_AddBoolToObject(o, "ok", sel > 0 && !n_problems && checks_done);
	cJSON_AddBoolToObject(o, "written", false);
	return o;
}

/* ---- sending it for real ------------------------------------------------ */

/* A document that stays pending or failed after ingest is sent now: a
 * person asked for it. */
static void send_now(struct engine *e, const struct flow *f, const char *id)
{
	const char *ids[1] = { id };
	struct doc_row row;
	cJSON *res = NULL;
	char err[256];

	if (store_get_doc(e->rt->store, f->id, id, &row))
		return;
	if (row.status == DOC_PENDING)
		engine_push(e, f->id, ids, 1, &res, err, sizeof(err));
	else if (row.status == DOC_FAILED || row.status == DOC_POST_FAILED)
		engine_retry(e, f->id, ids, 1, false, &res, err, sizeof(err));
	cJSON_Delete(res);
	doc_row_free(&row);
}

/* Waits until the document is done, or the wait runs out. 0 / -1. */
static int wait_done(struct engine *e, const struct flow *f, const char *id,
		     int64_t deadline, struct doc_row *row)
{
	for (;;) {
		if (store_get_doc(e->rt->store, f->id, id, row))
			return -1;
		if ((row->status != DOC_PENDING &&
		     row->status != DOC_SYNCING) ||
		    util_mono_ms() >= deadline)
			return 0;
		doc_row_free(row);
		usleep(TRY_POLL_MS * 1000);
	}
}

static void add_parsed(cJSON *o, const char *key, const char *text, bool object)
{
	cJSON *v = text ? cJSON_Parse(text) : NULL;

	cJSON_AddItemToObject(o, key,
			      v	       ? v
			      : object ? cJSON_CreateObject()
				       : cJSON_CreateNull());
}

static int send_doc(struct engine *e, const struct flow_set *set,
		    const struct flow *f, const struct try_doc *td,
		    double wait_s, cJSON **result, char *err, size_t errlen)
{
	struct flow_rt *frt = rt_get(e, f->id);
	struct doc_row row;
	char *payload;
	bool queued;
	int rc;

	if (frt && atomic_load(&frt->mode) == FLOW_DISABLED)
		return bad(TRY_E_CONFLICT, err, errlen,
			   _("flow \"%s\" is "
			     "disabled: switch it to automatic or manual "
			     "first"),
			   f->id);
	payload = cJSON_PrintUnformatted(td->doc);
	rc = ingest_for_flow(e, set, f, td->id, payload, td->seq, &queued);
	free(payload);
	if (rc)
		return bad(TRY_E_INTERNAL, err, errlen,
			   _("cannot store the "
			     "document"));
	if (!queued)
		send_now(e, f, td->id);
	if (wait_done(e, f, td->id, util_mono_ms() + (int64_t)(wait_s * 1000),
		      &row))
		return bad(TRY_E_INTERNAL, err, errlen,
			   _("cannot read the "
			     "ledger"));
	*result = cJSON_CreateObject();
	cJSON_AddStringToObject(*result, "flow", f->id);
	cJSON_AddStringToObject(*result, "document_id", td->id);
	add_source(*result, td);
	cJSON_AddBoolToObject(*result, "dry_run", false);
	cJSON_AddStringToObject(*result, "status", doc_status_name(row.status));
	cJSON_AddBoolToObject(*result, "finished",
			      row.status != DOC_PENDING &&
				      row.status != DOC_SYNCING);
	cJSON_AddBoolToObject(*result, "changed_after_sync",
			      row.changed_after_sync);
	if (row.reason)
		cJSON_AddStringToObject(*result, "reason", row.reason);
	add_parsed(*result, "outputs", row.outputs, true);
	add_parsed(*result, "target", row.target, false);
	doc_row_free(&row);
	return 0;
}

/* ---- the entry --------------------------------------------------------------- */

static int wait_of(const cJSON *req, double *wait_s, char *err, size_t errlen)
{
	const cJSON *w = cJSON_GetObjectItemCaseSensitive(req, "wait_s");

	*wait_s = TRY_WAIT_DEFAULT_S;
	if (!w)
		return 0;
	if (!cJSON_IsNumber(w) || w->valuedouble < 0 ||
	    w->valuedouble > TRY_WAIT_MAX_S)
		return bad(TRY_E_REQUEST, err, errlen,
			   _("$.wait_s: expected "
			     "seconds from 0 to %d"),
			   TRY_WAIT_MAX_S);
	*wait_s = w->valuedouble;
	return 0;
}

int engine_try(struct engine *e, const char *flow, const cJSON *req,
	       cJSON **result, char *err, size_t errlen)
{
	struct flows_ref *r = flows_acquire(e);
	const struct flow *f = flow_set_find(r->set, flow);
	const cJSON *send = cJSON_GetObjectItemCaseSensitive(req, "send");
	struct try_doc td = { 0 };
	double wait_s;
	int rc;

	*result = NULL;
	if (!f) {
		rc = bad(TRY_E_NOT_FOUND, err, errlen, _("unknown flow \"%s\""),
			 flow);
		goto out;
	}
	if (send && !cJSON_IsBool(send)) {
		rc = bad(TRY_E_REQUEST, err, errlen,
			 _("$.send: expected true "
			   "or false"));
		goto out;
	}
	rc = wait_of(req, &wait_s, err, errlen);
	if (!rc)
		rc = doc_of_request(e, f, req, &td, err, errlen);
	if (rc)
		goto out;
	if (!cJSON_IsTrue(send)) {
		*result = dry_run(e, r->set, f, &td);
	} else if (!cJSON_GetObjectItemCaseSensitive(req, "id")) {
		rc = bad(TRY_E_REQUEST, err, errlen,
			 _("$.id: name the "
			   "document's id to send it"));
	} else {
		log_info("flow=%s doc=%s try: sent for real", f->id, td.id);
		rc = send_doc(e, r->set, f, &td, wait_s, result, err, errlen);
	}
out:
	try_doc_free(&td);
	flows_release(e, r);
	return rc;
}

/*
 * flow_load.c - one flow file (see flow.h): its fields, trigger, steps,
 * links and on_error, and the checks of what its expressions refer to
 * (mapping tables, earlier steps, declared event fields and inputs).
 */
#define _GNU_SOURCE /* strndup */
#include "flow.h"
#include "flow_fields.h"
#include "flow_int.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "util.h"

struct loader {
	const char *file;
	const cJSON *tables;
	const struct flow_catalog *cat;
	struct flow_errors *errs;
	struct flow *f;
	const cJSON *steps_json; /* for $steps checks */
	long step;		 /* step being checked; -1 in the trigger */
};

static void report_expr_error(void *ud, const char *path, const char *msg)
{
	struct loader *ld = ud;
	err_add(ld->errs, "%s: %s: %s", ld->file, path, msg);
}

static void table_list(const cJSON *tables, char *buf, size_t len)
{
	buf[0] = '\0';
	for (const cJSON *t = tables ? tables->child : NULL; t; t = t->next) {
		size_t n = strlen(buf);
		snprintf(buf + n, len - n, "%s%s", n ? ", " : "", t->string);
	}
}

/* Static checks of one expression: mapping tables it names and the steps
 * whose outputs it reads. */
static void check_expr_refs(struct loader *ld, const char *path,
			    const char *src)
{
	char **names;
	int n = expr_lookup_tables(src, &names);
	for (int i = 0; i < n; i++) {
		if (cJSON_GetObjectItemCaseSensitive(ld->tables, names[i]))
			continue;
		char known[512];
		table_list(ld->tables, known, sizeof(known));
		if (known[0])
			err_add(ld->errs,
				_("%s: %s: unknown mapping table \"%s\" "
				  "(known: "
				  "%s)"),
				ld->file, path, names[i], known);
		else
			err_add(ld->errs,
				_("%s: %s: unknown mapping table \"%s\" (no "
				  "mapping tables are loaded)"),
				ld->file, path, names[i]);
	}
	expr_names_free(names, n);

	n = expr_step_refs(src, &names);
	for (int i = 0; i < n; i++) {
		if (ld->step < 0) {
			err_add(ld->errs,
				_("%s: %s: $steps.%s: no step has run when the "
				  "trigger filter is evaluated"),
				ld->file, path, names[i]);
			continue;
		}
		long at = -1, k = 0;
		for (const cJSON *s = ld->steps_json->child; s;
		     s = s->next, k++) {
			const cJSON *id =
				cJSON_GetObjectItemCaseSensitive(s, "id");
			if (cJSON_IsString(id) &&
			    !strcmp(id->valuestring, names[i])) {
				at = k;
				break;
			}
		}
		if (at < 0)
			err_add(ld->errs,
				_("%s: %s: $steps.%s names no step of this "
				  "flow"),
				ld->file, path, names[i]);
		else if (at == ld->step)
			err_add(ld->errs,
				_("%s: %s: $steps.%s is this step's own "
				  "output, "
				  "which does not exist yet"),
				ld->file, path, names[i]);
		else if (at > ld->step)
			err_add(ld->errs,
				_("%s: %s: $steps.%s names a later step "
				  "($.steps[%ld]); a step sees only the "
				  "outputs "
				  "of the steps before it"),
				ld->file, path, names[i], at);
	}
	expr_names_free(names, n);
}

static void check_template_refs(struct loader *ld, const char *path,
				const cJSON *t)
{
	char p[FLOW_PATH_MAX];
	if (cJSON_IsString(t)) {
		check_expr_refs(ld, path, t->valuestring);
	} else if (cJSON_IsObject(t)) {
		for (const cJSON *c = t->child; c; c = c->next) {
			flow_path_key(p, sizeof(p), path, c->string);
			check_template_refs(ld, p, c);
		}
	} else if (cJSON_IsArray(t)) {
		int i = 0;
		for (const cJSON *c = t->child; c; c = c->next, i++) {
			snprintf(p, sizeof(p), "%s[%d]", path, i);
			check_template_refs(ld, p, c);
		}
	}
}

/* The trigger event's declared payload fields (SDK 1.2), or NULL. */
static const struct luong_field_def *event_fields(struct loader *ld, char *what,
						  size_t len)
{
	const struct flow *f = ld->f;
	if (!ld->cat || !ld->cat->event_fields || !f->trigger_connection ||
	    !f->trigger_event)
		return NULL;
	snprintf(what, len, _("event %s.%s"), f->trigger_connection,
		 f->trigger_event);
	return ld->cat->event_fields(ld->cat->ud, f->trigger_connection,
				     f->trigger_event);
}

/* Warns about reads of fields the trigger's event never has. */
static void check_event_reads(struct loader *ld, const char *path,
			      const cJSON *t)
{
	char what[200];
	const struct luong_field_def *fields =
		event_fields(ld, what, sizeof(what));
	if (!fields)
		return;
	if (!ld->f->notes)
		ld->f->notes = xcalloc(1, sizeof(*ld->f->notes));
	if (cJSON_IsString(t) && !strcmp(path, "$.trigger.when"))
		flow_check_reads(ld->file, path, what, t->valuestring, fields,
				 ld->f->notes);
	else
		flow_check_template_reads(ld->file, path, what, t, fields,
					  ld->f->notes);
}

/* Checks a step's input against the action's declared inputs. */
static void check_step_inputs(struct loader *ld, const char *path,
			      const char *conn, const char *act,
			      const cJSON *input)
{
	char what[200];
	if (!ld->cat || !ld->cat->action_inputs)
		return;
	snprintf(what, sizeof(what), "action %s.%s", conn, act);
	flow_check_inputs(ld->file, path, what, input,
			  ld->cat->action_inputs(ld->cat->ud, conn, act),
			  ld->errs);
}

/* Reports a catalog message at the connection field or at its own. */
static void report_catalog(struct loader *ld, const char *base,
			   const char *field, const char *msg)
{
	int conn = !strncmp(msg, "unknown connection", 18);
	err_add(ld->errs, "%s: %s.%s: %s", ld->file, base,
		conn ? "connection" : field, msg);
}

static const char *const top_fields[] = {
	"$schema", "id",    "name",	"description", "mode",
	"trigger", "steps", "on_error", "on_change",   "on_number_clash",
	NULL
};
static const char *const trigger_fields[] = { "connection", "event",	"when",
					      "every",	    "order_by", "kind",
					      "echo",	    NULL };
static const char *const step_fields[] = { "id",	 "description",
					   "connection", "action",
					   "input",	 "link",
					   "refuse_if",	 NULL };
static const char *const link_fields[] = { "kind", "id", "code", "echo", NULL };
static const char *const on_error_fields[] = { "max_attempts", "backoff",
					       NULL };
static const char *const backoff_fields[] = { "initial", "max", "multiplier",
					      "jitter", NULL };

/* Whether an expression calls link(): answered when a step runs, not
 * when the trigger's filter is read (a quoted "link(" counts too). */
static int calls_link(const char *src)
{
	for (const char *p = src; (p = strstr(p, "link")); p += 4) {
		const char *q = p + 4;
		if (p > src && (isalnum((unsigned char)p[-1]) || p[-1] == '_' ||
				p[-1] == '.' || p[-1] == '$'))
			continue;
		while (isspace((unsigned char)*q))
			q++;
		if (*q == '(')
			return 1;
	}
	return 0;
}

static void refuse_link(struct loader *ld, const char *path, const char *src)
{
	if (calls_link(src))
		err_add(ld->errs,
			_("%s: %s: link() is read when a step runs; use it "
			  "in steps[].input, not in the trigger"),
			ld->file, path);
}

/* A jq expression of the trigger (when, order_by, echo) on the event's
 * document, or NULL when absent or wrong (then reported at `path`). */
static struct expr *trigger_expr(struct loader *ld, const char *path,
				 const cJSON *src)
{
	struct expr *x;
	char msg[1024];

	if (!src)
		return NULL;
	ld->step = -1;
	check_expr_refs(ld, path, src->valuestring);
	refuse_link(ld, path, src->valuestring);
	x = expr_compile(src->valuestring, ld->tables, msg, sizeof(msg));
	if (!x)
		err_add(ld->errs, "%s: %s: %s", ld->file, path, msg);
	return x;
}

static void load_trigger(struct loader *ld, const cJSON *root)
{
	struct flow *f = ld->f;
	const char *file = ld->file;
	const cJSON *t = flow_get_field(file, "$", root, "trigger",
					cJSON_Object, 1, ld->errs);
	if (!t)
		return;
	flow_check_fields(file, "$.trigger", t, trigger_fields, ld->errs);
	const cJSON *conn = flow_get_field(file, "$.trigger", t, "connection",
					   cJSON_String, 1, ld->errs);
	const cJSON *ev = flow_get_field(file, "$.trigger", t, "event",
					 cJSON_String, 1, ld->errs);
	const cJSON *when = flow_get_field(file, "$.trigger", t, "when",
					   cJSON_String, 0, ld->errs);
	const cJSON *every = flow_get_field(file, "$.trigger", t, "every",
					    cJSON_String, 0, ld->errs);
	const cJSON *echo = flow_get_field(file, "$.trigger", t, "echo",
					   cJSON_String, 0, ld->errs);
	const cJSON *order_by = flow_get_field(file, "$.trigger", t, "order_by",
					       cJSON_String, 0, ld->errs);
	const cJSON *kind = flow_get_field(file, "$.trigger", t, "kind",
					   cJSON_String, 0, ld->errs);
	int is_poll = -1; /* unknown */
	if (conn)
		f->trigger_connection = flow_dupstr(conn->valuestring);
	if (ev)
		f->trigger_event = flow_dupstr(ev->valuestring);
	if (kind && !flow_valid_id(kind->valuestring, 1))
		err_add(ld->errs,
			_("%s: $.trigger.kind: invalid kind \"%s\" (use a-z, "
			  "0-9, _ and -)"),
			file, kind->valuestring);
	else if (kind)
		f->trigger_kind = flow_dupstr(kind->valuestring);
	else if (ev) {
		f->trigger_kind =
			strndup(ev->valuestring, strcspn(ev->valuestring, "."));
		if (!f->trigger_kind)
			abort();
	}
	if (conn && ev && ld->cat && ld->cat->check_event) {
		char msg[512] = "";
		int poll = 0;
		if (ld->cat->check_event(ld->cat->ud, conn->valuestring,
					 ev->valuestring, &poll, msg,
					 sizeof(msg)))
			report_catalog(ld, "$.trigger", "event", msg);
		else
			is_poll = poll;
	}
	if (every) {
		uint64_t ms;
		if (flow_duration_parse(every->valuestring, &ms))
			err_add(ld->errs,
				_("%s: $.trigger.every: invalid duration "
				  "\"%s\" "
				  "(use a number and ms, s, m or h, e.g. "
				  "\"15m\")"),
				file, every->valuestring);
		else if (ms < 1000 || ms % 1000 || ms / 1000 > UINT32_MAX)
			err_add(ld->errs,
				_("%s: $.trigger.every: \"%s\" must be a whole "
				  "number of seconds, at least 1s"),
				file, every->valuestring);
		else if (is_poll == 0)
			err_add(ld->errs,
				_("%s: $.trigger.every: event \"%s\" is not a "
				  "poll event; only poll events take "
				  "\"every\""),
				file, ev->valuestring);
		else
			f->every_s = (uint32_t)(ms / 1000);
	}
	if (when)
		check_event_reads(ld, "$.trigger.when", when);
	f->when = trigger_expr(ld, "$.trigger.when", when);
	f->order_by = trigger_expr(ld, "$.trigger.order_by", order_by);
	f->echo = trigger_expr(ld, "$.trigger.echo", echo);
}

/* steps[i].link: {"kind": name, "id": jq, "code": jq} on the output. */
static void load_link(struct loader *ld, struct flow_step *st, const cJSON *s,
		      const char *base)
{
	const char *file = ld->file;
	const cJSON *l = flow_get_field(file, base, s, "link", cJSON_Object, 0,
					ld->errs);
	char path[96];
	if (!l)
		return;
	snprintf(path, sizeof(path), "%s.link", base);
	flow_check_fields(file, path, l, link_fields, ld->errs);
	const cJSON *kind = flow_get_field(file, path, l, "kind", cJSON_String,
					   1, ld->errs);
	const cJSON *id =
		flow_get_field(file, path, l, "id", cJSON_String, 0, ld->errs);
	const cJSON *code = flow_get_field(file, path, l, "code", cJSON_String,
					   0, ld->errs);
	const cJSON *echo = flow_get_field(file, path, l, "echo", cJSON_String,
					   0, ld->errs);
	char echo_path[128];
	if (!cJSON_GetObjectItemCaseSensitive(l, "id") &&
	    !cJSON_GetObjectItemCaseSensitive(l, "code"))
		err_add(ld->errs,
			_("%s: %s: needs \"id\" or \"code\" (or both): jq "
			  "on the step's output naming the record it made, "
			  "e.g. \".refid\""),
			file, path);
	if (kind && !flow_valid_id(kind->valuestring, 1)) {
		err_add(ld->errs,
			_("%s: %s.kind: invalid kind \"%s\" (use a-z, 0-9, _ "
			  "and -)"),
			file, path, kind->valuestring);
		return;
	}
	if (!kind || (!id && !code))
		return;
	cJSON *tmpl = cJSON_CreateObject();
	cJSON_AddStringToObject(tmpl, "id", id ? id->valuestring : "null");
	cJSON_AddStringToObject(tmpl, "code",
				code ? code->valuestring : "null");
	check_template_refs(ld, path, tmpl);
	struct expr *ref = expr_compile_template_all(tmpl, ld->tables, path,
						     report_expr_error, ld);
	cJSON_Delete(tmpl);
	if (!ref)
		return;
	st->link = calloc(1, sizeof(*st->link));
	if (!st->link)
		abort();
	st->link->kind = flow_dupstr(kind->valuestring);
	st->link->ref = ref;
	snprintf(echo_path, sizeof(echo_path), "%s.echo", path);
	st->link->echo = trigger_expr(ld, echo_path, echo);
}

/* steps[i].refuse_if: jq on the document; a string refuses it. */
static void load_refuse_if(struct loader *ld, struct flow_step *st,
			   const cJSON *s, const char *base)
{
	const cJSON *r = flow_get_field(ld->file, base, s, "refuse_if",
					cJSON_String, 0, ld->errs);
	char path[96], msg[1024];
	if (!r)
		return;
	snprintf(path, sizeof(path), "%s.refuse_if", base);
	check_expr_refs(ld, path, r->valuestring);
	st->refuse_if =
		expr_compile(r->valuestring, ld->tables, msg, sizeof(msg));
	if (!st->refuse_if)
		err_add(ld->errs, "%s: %s: %s", ld->file, path, msg);
}

static void load_steps(struct loader *ld, const cJSON *root)
{
	struct flow *f = ld->f;
	const char *file = ld->file;
	const cJSON *steps = flow_get_field(file, "$", root, "steps",
					    cJSON_Array, 1, ld->errs);
	if (!steps)
		return;
	int n = cJSON_GetArraySize(steps);
	if (n == 0) {
		err_add(ld->errs,
			_("%s: $.steps: a flow needs at least one step"), file);
		return;
	}
	ld->steps_json = steps;
	f->steps = calloc((size_t)n, sizeof(*f->steps));
	if (!f->steps)
		abort();
	f->n_steps = (size_t)n;
	long i = 0;
	for (const cJSON *s = steps->child; s; s = s->next, i++) {
		struct flow_step *st = &f->steps[i];
		char base[64];
		snprintf(base, sizeof(base), "$.steps[%ld]", i);
		if (!cJSON_IsObject(s)) {
			err_add(ld->errs,
				_("%s: %s: expected an object, got %s"), file,
				base, flow_type_name(s));
			continue;
		}
		flow_check_fields(file, base, s, step_fields, ld->errs);
		const cJSON *id = flow_get_field(file, base, s, "id",
						 cJSON_String, 1, ld->errs);
		const cJSON *conn = flow_get_field(file, base, s, "connection",
						   cJSON_String, 1, ld->errs);
		const cJSON *act = flow_get_field(file, base, s, "action",
						  cJSON_String, 1, ld->errs);
		flow_get_field(file, base, s, "description", cJSON_String, 0,
			       ld->errs);
		if (id && !flow_valid_id(id->valuestring, 1)) {
			err_add(ld->errs,
				_("%s: %s.id: invalid step id \"%s\" (use a-z, "
				  "0-9, _ and -)"),
				file, base, id->valuestring);
		} else if (id) {
			st->id = flow_dupstr(id->valuestring);
			for (long k = 0; k < i; k++) {
				if (f->steps[k].id &&
				    !strcmp(f->steps[k].id, st->id)) {
					err_add(ld->errs,
						_("%s: %s.id: duplicate step "
						  "id "
						  "\"%s\" "
						  "(also $.steps[%ld].id)"),
						file, base, st->id, k);
					break;
				}
			}
		}
		if (conn)
			st->connection = flow_dupstr(conn->valuestring);
		if (act)
			st->action = flow_dupstr(act->valuestring);
		if (conn && act && ld->cat && ld->cat->check_action) {
			char msg[512] = "";
			if (ld->cat->check_action(
				    ld->cat->ud, conn->valuestring,
				    act->valuestring, msg, sizeof(msg)))
				report_catalog(ld, base, "action", msg);
		}
		/* no input means an empty object: actions that need no fields */
		const cJSON *input = cJSON_GetObjectItemCaseSensitive(s, "inpu"
									 "t");
		cJSON *empty = NULL;
		if (!input)
			input = empty = cJSON_CreateObject();
		char path[80];
		snprintf(path, sizeof(path), "%s.input", base);
		ld->step = i;
		check_template_refs(ld, path, input);
		if (conn && act)
			check_step_inputs(ld, path, conn->valuestring,
					  act->valuestring, input);
		check_event_reads(ld, path, input);
		st->input = expr_compile_template_all(input, ld->tables, path,
						      report_expr_error, ld);
		st->input_src = cJSON_Duplicate(input, 1);
		cJSON_Delete(empty);
		load_link(ld, st, s, base);
		load_refuse_if(ld, st, s, base);
	}
}

/* A duration field of on_error.backoff; returns the default when absent. */
static uint32_t load_backoff_ms(struct loader *ld, const cJSON *b,
				const char *key, uint32_t dflt)
{
	const cJSON *v = flow_get_field(ld->file, "$.on_error.backoff", b, key,
					cJSON_String, 0, ld->errs);
	uint64_t ms;
	if (!v)
		return dflt;
	if (flow_duration_parse(v->valuestring, &ms) || ms > UINT32_MAX) {
		err_add(ld->errs,
			_("%s: $.on_error.backoff.%s: invalid duration "
			  "\"%s\" (use a number and ms, s, m or h, e.g. "
			  "\"500ms\")"),
			ld->file, key, v->valuestring);
		return dflt;
	}
	return (uint32_t)ms;
}

static void load_on_error(struct loader *ld, const cJSON *root)
{
	struct flow_retry *r = &ld->f->retry;
	const char *file = ld->file;
	*r = FLOW_RETRY_DEFAULT;
	const cJSON *oe = flow_get_field(file, "$", root, "on_error",
					 cJSON_Object, 0, ld->errs);
	if (!oe)
		return;
	flow_check_fields(file, "$.on_error", oe, on_error_fields, ld->errs);
	const cJSON *ma = flow_get_field(file, "$.on_error", oe, "max_attempts",
					 cJSON_Number, 0, ld->errs);
	if (ma) {
		double d = ma->valuedouble;
		if (d < 0 || d > UINT32_MAX || d != floor(d))
			err_add(ld->errs,
				_("%s: $.on_error.max_attempts: expected a "
				  "whole "
				  "number >= 0 (0 = until it succeeds), got "
				  "%g"),
				file, d);
		else
			r->max_attempts = (uint32_t)d;
	}
	const cJSON *b = flow_get_field(file, "$.on_error", oe, "backoff",
					cJSON_Object, 0, ld->errs);
	if (!b)
		return;
	flow_check_fields(file, "$.on_error.backoff", b, backoff_fields,
			  ld->errs);
	r->initial_ms = load_backoff_ms(ld, b, "initial", r->initial_ms);
	r->max_ms = load_backoff_ms(ld, b, "max", r->max_ms);
	if (r->max_ms < r->initial_ms)
		err_add(ld->errs,
			_("%s: $.on_error.backoff.max: %ums is less than "
			  "initial (%ums)"),
			file, r->max_ms, r->initial_ms);
	const cJSON *m =
		flow_get_field(file, "$.on_error.backoff", b, "multiplier",
			       cJSON_Number, 0, ld->errs);
	if (m && !(m->valuedouble >= 1 && m->valuedouble <= 100))
		err_add(ld->errs,
			_("%s: $.on_error.backoff.multiplier: %g is out of "
			  "range (1 to 100)"),
			file, m->valuedouble);
	else if (m)
		r->multiplier = m->valuedouble;
	const cJSON *j = flow_get_field(file, "$.on_error.backoff", b, "jitter",
					cJSON_Number, 0, ld->errs);
	if (j && !(j->valuedouble >= 0 && j->valuedouble <= 1))
		err_add(ld->errs,
			_("%s: $.on_error.backoff.jitter: %g is out of "
			  "range (0 to 1)"),
			file, j->valuedouble);
	else if (j)
		r->jitter = j->valuedouble;
}

/* Loads one file; on errors returns NULL. *id_out gets the flow id when the
 * id itself is valid, even if the rest is not, for duplicate checks. */
struct flow *flow_load_one(const char *path, const cJSON *tables,
			   const struct flow_catalog *cat,
			   struct flow_errors *errs, char **id_out)
{
	size_t nerr = errs->n;
	size_t len;
	*id_out = NULL;
	char *text = util_read_file(path, &len);
	if (!text) {
		err_add(errs, _("%s: cannot read: %s"), path, strerror(errno));
		return NULL;
	}
	cJSON *root = flow_parse_json(path, text, len, errs);
	if (!root) {
		free(text);
		return NULL;
	}
	struct flow *f = calloc(1, sizeof(*f));
	if (!f)
		abort();
	f->file = flow_dupstr(path);
	free(text);
	f->retry = FLOW_RETRY_DEFAULT;
	if (!cJSON_IsObject(root)) {
		err_add(errs, _("%s: $: expected an object, got %s"), path,
			flow_type_name(root));
		goto out_fail;
	}
	struct loader ld = {
		.file = path, .tables = tables, .cat = cat, .errs = errs, .f = f
	};
	flow_check_fields(path, "$", root, top_fields, errs);

	const cJSON *id =
		flow_get_field(path, "$", root, "id", cJSON_String, 1, errs);
	if (id && !flow_valid_id(id->valuestring, 0))
		err_add(errs,
			_("%s: $.id: invalid flow id \"%s\" (use a-z, 0-9 and "
			  "-)"),
			path, id->valuestring);
	else if (id)
		f->id = flow_dupstr(id->valuestring);
	const cJSON *name =
		flow_get_field(path, "$", root, "name", cJSON_String, 0, errs);
	if (name)
		f->name = flow_dupstr(name->valuestring);
	else if (f->id)
		f->name = flow_dupstr(f->id);
	const cJSON *desc = flow_get_field(path, "$", root, "description",
					   cJSON_String, 0, errs);
	if (desc)
		f->description = flow_dupstr(desc->valuestring);
	const cJSON *mode =
		flow_get_field(path, "$", root, "mode", cJSON_String, 0, errs);
	if (mode && flow_mode_parse(mode->valuestring, &f->mode))
		err_add(errs,
			_("%s: $.mode: unknown mode \"%s\" (use automatic, "
			  "manual or disabled)"),
			path, mode->valuestring);
	const cJSON *oc = flow_get_field(path, "$", root, "on_change",
					 cJSON_String, 0, errs);
	if (oc && !strcmp(oc->valuestring, "resend"))
		f->on_change = FLOW_ON_CHANGE_RESEND;
	else if (oc && strcmp(oc->valuestring, "flag"))
		err_add(errs,
			_("%s: $.on_change: unknown policy \"%s\" (use flag or "
			  "resend)"),
			path, oc->valuestring);
	const cJSON *nc = flow_get_field(path, "$", root, "on_number_clash",
					 cJSON_String, 0, errs);
	if (nc && !strcmp(nc->valuestring, "renumber"))
		f->on_number_clash = FLOW_CLASH_RENUMBER;
	else if (nc && strcmp(nc->valuestring, "fail"))
		err_add(errs,
			_("%s: $.on_number_clash: unknown policy \"%s\" (use "
			  "fail or renumber)"),
			path, nc->valuestring);
	load_trigger(&ld, root);
	load_steps(&ld, root);
	load_on_error(&ld, root);
	if (f->id)
		*id_out = flow_dupstr(f->id);
	if (errs->n > nerr)
		goto out_fail;
	cJSON_Delete(root);
	return f;

out_fail:
	cJSON_Delete(root);
	flow_free(f);
	return NULL;
}

struct flow *flow_load_file(const char *path, const cJSON *tables,
			    const struct flow_catalog *cat,
			    struct flow_errors *errs)
{
	char *id;
	struct flow *f = flow_load_one(path, tables, cat, errs, &id);
	free(id);
	return f;
}

void flow_free(struct flow *f)
{
	if (!f)
		return;
	if (f->notes)
		flow_errors_clear(f->notes);
	free(f->notes);
	for (size_t i = 0; i < f->n_steps; i++) {
		free(f->steps[i].id);
		free(f->steps[i].connection);
		free(f->steps[i].action);
		expr_free(f->steps[i].input);
		expr_free(f->steps[i].refuse_if);
		cJSON_Delete(f->steps[i].input_src);
		if (f->steps[i].link) {
			free(f->steps[i].link->kind);
			expr_free(f->steps[i].link->ref);
			expr_free(f->steps[i].link->echo);
			free(f->steps[i].link);
		}
	}
	free(f->steps);
	expr_free(f->when);
	expr_free(f->order_by);
	expr_free(f->echo);
	free(f->id);
	free(f->name);
	free(f->file);
	free(f->description);
	free(f->trigger_connection);
	free(f->trigger_event);
	free(f->trigger_kind);
	free(f);
}

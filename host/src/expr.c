/*
 * expr.c - jq expressions for field mapping (see expr.h).
 *
 * Each expression becomes one jq program of this shape:
 *
 *   . as [$__doc, $__v] | null as $ENV | def env: error(...); ...
 *   $__v.steps as $steps | ... | def lookup(...): ...; $__doc | (
 *   <the user's expression, from line 2 on>
 *   )
 *
 * The input is the pair [document, variables], so per-event variables need
 * no recompilation (jq 1.6 binds named arguments as constants at compile
 * time); the mapping tables are such a constant, $__tables. The user's text
 * starts on line 2 so that jq's line numbers can be shifted back by one.
 */
#include "expr.h"
#include "expr_int.h"
#include "i18n.h"

#include <ctype.h>
#include <errno.h>
#include <jq.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct expr {
	pthread_mutex_t lock; /* a jq_state runs one program at a time */
	jq_state *jq;
};

/* Growable string; aborts on allocation failure like the rest of the host. */
struct sbuf {
	char *s;
	size_t len, cap;
};

static void sb_grow(struct sbuf *b, size_t add)
{
	if (b->len + add + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + add + 1)
		cap *= 2;
	char *p = realloc(b->s, cap);
	if (!p)
		abort();
	b->s = p;
	b->cap = cap;
}

static void sb_add(struct sbuf *b, const char *s)
{
	size_t n = strlen(s);
	sb_grow(b, n);
	memcpy(b->s + b->len, s, n + 1);
	b->len += n;
}

__attribute__((format(printf, 2, 3))) static void sb_addf(struct sbuf *b,
							  const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	sb_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* The wrapper is one line: the user's text begins on line 2. */
static const char prelude_head[] =
	". as [$__doc, $__v] | null as $ENV |"
	/* record links: a link the host has not given yet ($__v.links) is
     * asked for through debug, before its shadow, and the expression is
     * run again with it (see expr_eval_links) */
	" def link($c; $k; $from): [$c, $k, $from] as $q"
	" | ($q | tojson) as $key | ($__v.links // {}) as $l"
	" | if ($l | type) == \"object\" and ($l | has($key)) then $l[$key]"
	" else ($q | debug | null) end;"
	" def link($c; $k): link($c; $k; null);";
/* (here the shadows of refused builtins: see expr_guard_shadows) */
static const char prelude[] =
	" $__v.steps as $steps"
	" | $__v.document_id as $document_id | $__v.event as $event"
	" | $__v.connection as $connection | $__v.flow as $flow"
	" | $__v.previous as $previous"
	" | def lookup($t; k): k as $k"
	" | (if ($k | type) == \"string\" then $k else ($k | tojson) end) as "
	"$key"
	" | ($__tables[$t] // error(\"unknown mapping table \\($t | tojson)\"))"
	" as $m | if $m | has($key) then $m[$key]"
	" else error(\"mapping \\($t | tojson) has no entry for \\($k | "
	"tojson)\")"
	" end; $__doc | (\n";
static const char postlude[] = "\n)";

/* ---- cJSON <-> jv ---- */

static jv json_to_jv(const cJSON *j)
{
	if (!j)
		return jv_null();
	if (cJSON_IsFalse(j))
		return jv_false();
	if (cJSON_IsTrue(j))
		return jv_true();
	if (cJSON_IsNumber(j))
		return jv_number(j->valuedouble);
	if (cJSON_IsString(j))
		return jv_string(j->valuestring);
	if (cJSON_IsRaw(j))
		return jv_parse(j->valuestring);
	if (cJSON_IsArray(j)) {
		jv a = jv_array();
		for (const cJSON *c = j->child; c; c = c->next)
			a = jv_array_append(a, json_to_jv(c));
		return a;
	}
	if (cJSON_IsObject(j)) {
		jv o = jv_object();
		for (const cJSON *c = j->child; c; c = c->next)
			o = jv_object_set(o,
					  jv_string(c->string ? c->string : ""),
					  json_to_jv(c));
		return o;
	}
	return jv_null();
}

/* Consumes v. NULL only when out of memory. */
static cJSON *jv_to_json(jv v)
{
	cJSON *out = NULL;
	switch (jv_get_kind(v)) {
	case JV_KIND_TRUE: out = cJSON_CreateTrue(); break;
	case JV_KIND_FALSE: out = cJSON_CreateFalse(); break;
	case JV_KIND_NUMBER: {
		double d = jv_number_value(v);
		/* JSON has no NaN or infinity; jq prints them as null and max */
		if (isnan(d))
			out = cJSON_CreateNull();
		else
			out = cJSON_CreateNumber(
				isinf(d) ? (d > 0 ? 1.7976931348623157e308
						  : -1.7976931348623157e308)
					 : d);
		break;
	}
	case JV_KIND_STRING:
		out = cJSON_CreateString(jv_string_value(v));
		break;
	case JV_KIND_ARRAY:
		out = cJSON_CreateArray();
		jv_array_foreach(v, i, x)
		{
			cJSON *c = jv_to_json(x);
			if (!c || !out) {
				cJSON_Delete(c);
				continue;
			}
			cJSON_AddItemToArray(out, c);
		}
		break;
	case JV_KIND_OBJECT:
		out = cJSON_CreateObject();
		jv_object_foreach(v, k, x)
		{
			cJSON *c = jv_to_json(x);
			if (c && out)
				cJSON_AddItemToObject(out, jv_string_value(k),
						      c);
			else
				cJSON_Delete(c);
			jv_free(k);
		}
		break;
	default: out = cJSON_CreateNull(); break;
	}
	jv_free(v);
	return out;
}

/* ---- compile ---- */

struct compile_errs {
	struct sbuf text;
	int line_shift;
};

/* jq reports "jq: error: <what> at <top-level>, line N:\n<source line>" and
 * then "jq: K compile errors"; keep <what> and the shifted line number. */
static void on_jq_error(void *ud, jv msg)
{
	struct compile_errs *ce = ud;
	if (jv_get_kind(msg) != JV_KIND_STRING) {
		jv_free(msg);
		return;
	}
	const char *m = jv_string_value(msg);
	int k;
	char tail;
	if (sscanf(m, "jq: %d compile error%c", &k, &tail) >= 1) {
		jv_free(msg);
		return;
	}
	if (!strncmp(m, "jq: error: ", 11))
		m += 11;
	size_t n = strcspn(m, "\n");
	const char *at = NULL;
	for (const char *p = m;
	     (p = strstr(p, " at <top-level>, line ")) && p < m + n; p++)
		at = p;
	if (ce->text.len)
		sb_add(&ce->text, "; ");
	if (at) {
		int line = atoi(at + strlen(" at <top-level>, line "));
		line -= ce->line_shift;
		sb_addf(&ce->text, "%.*s at <top-level>, line %d",
			(int)(at - m), m, line < 1 ? 1 : line);
	} else {
		while (n && (m[n - 1] == ':' || m[n - 1] == ' '))
			n--;
		sb_addf(&ce->text, "%.*s", (int)n, m);
	}
	jv_free(msg);
}

static void put_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void put_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* After a failed compile: compile the body alone, with the same names
 * defined but no wrapper after it, so that an unfinished expression reads
 * "unexpected $end" rather than tripping on the wrapper's parenthesis. */
static void explain(const char *body, struct compile_errs *ce)
{
	struct compile_errs alone = { .line_shift = 1 };
	struct sbuf prog = { 0 };
	jq_state *jq = jq_init();
	if (!jq)
		abort();
	jq_set_error_cb(jq, on_jq_error, &alone);
	sb_add(&prog, "def lookup($t; k): null; def link($c; $k): null;"
		      " def link($c; $k; $f): null;\n");
	sb_add(&prog, body);
	jv args = jv_object();
	static const char *const names[] = { "steps", "document_id",
					     "event", "connection",
					     "flow",  "previous" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		args = jv_object_set(args, jv_string(names[i]), jv_null());
	if (!jq_compile_args(jq, prog.s, args) && alone.text.len) {
		free(ce->text.s);
		ce->text = alone.text;
		alone.text = (struct sbuf){ 0 };
	}
	jq_teardown(&jq);
	free(prog.s);
	free(alone.text.s);
}

/* Compiles prelude + body + postlude. */
static struct expr *compile_body(const char *body, const cJSON *tables,
				 char *err, size_t errlen)
{
	struct compile_errs ce = { .line_shift = 1 };
	struct sbuf prog = { 0 };
	struct expr *e = calloc(1, sizeof(*e));
	if (!e)
		abort();
	e->jq = jq_init();
	if (!e->jq)
		abort();
	jq_set_error_cb(e->jq, on_jq_error, &ce);
	sb_add(&prog, prelude_head);
	{
		char *shadows = expr_guard_shadows();

		sb_add(&prog, shadows);
		free(shadows);
	}
	sb_add(&prog, prelude);
	sb_add(&prog, body);
	sb_add(&prog, postlude);

	jv tabs = tables && cJSON_IsObject(tables) ? json_to_jv(tables)
						   : jv_object();
	jv args = jv_object_set(jv_object(), jv_string("__tables"), tabs);
	if (!jq_compile_args(e->jq, prog.s, args)) {
		explain(body, &ce);
		put_err(err, errlen, "%s",
			ce.text.len ? ce.text.s : "invalid expression");
		goto out_free_jq;
	}
	/* later messages (none expected at run time) must not touch `ce` */
	jq_set_error_cb(e->jq, NULL, NULL);
	if (pthread_mutex_init(&e->lock, NULL))
		abort();
	free(prog.s);
	free(ce.text.s);
	return e;

out_free_jq:
	jq_teardown(&e->jq);
	free(e);
	free(prog.s);
	free(ce.text.s);
	return NULL;
}

struct expr *expr_compile(const char *src, const cJSON *tables, char *err,
			  size_t errlen)
{
	if (!src) {
		put_err(err, errlen, _("no expression"));
		return NULL;
	}
	/* jq accepts an empty program as identity; for a mapping it is a slip */
	const char *p = src;
	while (isspace((unsigned char)*p))
		p++;
	if (!*p) {
		put_err(err, errlen,
			_("empty expression (write . for the whole "
			  "document)"));
		return NULL;
	}
	if (expr_guard_check(src, err, errlen))
		return NULL;
	return compile_body(src, tables, err, errlen);
}

static void jq_string_literal(struct sbuf *b, const char *s)
{
	cJSON *tmp = cJSON_CreateString(s);
	char *q = tmp ? cJSON_PrintUnformatted(tmp) : NULL;
	if (!q)
		abort();
	sb_add(b, q);
	free(q);
	cJSON_Delete(tmp);
}

/* Appends the path of a member key: .key, or ["key"] when not an ident. */
static void path_add_key(struct sbuf *b, const char *key)
{
	int ident = (isalpha((unsigned char)key[0]) || key[0] == '_');
	for (const char *p = key; *p && ident; p++)
		if (!isalnum((unsigned char)*p) && *p != '_')
			ident = 0;
	if (ident) {
		sb_addf(b, ".%s", key);
		return;
	}
	sb_add(b, "[");
	jq_string_literal(b, key);
	sb_add(b, "]");
}

struct tmpl_ctx {
	const cJSON *tables;
	expr_error_fn on_error;
	void *ud;
	int check; /* compile each leaf alone (slow: about 16 ms each) */
	int nerr;
};

/* Builds the jq text for a template node. With t->check, compiles each leaf
 * on its own so that a bad one is reported under its own path. */
static void tmpl_gen(struct tmpl_ctx *t, const cJSON *n, struct sbuf *path,
		     struct sbuf *out)
{
	size_t mark = path->len;
	if (cJSON_IsObject(n)) {
		sb_add(out, "{");
		for (const cJSON *c = n->child; c; c = c->next) {
			jq_string_literal(out, c->string ? c->string : "");
			sb_add(out, ": ");
			path_add_key(path, c->string ? c->string : "");
			tmpl_gen(t, c, path, out);
			path->len = mark;
			path->s[mark] = '\0';
			if (c->next)
				sb_add(out, ", ");
		}
		sb_add(out, "}");
	} else if (cJSON_IsArray(n)) {
		sb_add(out, "[");
		int i = 0;
		for (const cJSON *c = n->child; c; c = c->next, i++) {
			sb_addf(path, "[%d]", i);
			tmpl_gen(t, c, path, out);
			path->len = mark;
			path->s[mark] = '\0';
			if (c->next)
				sb_add(out, ", ");
		}
		sb_add(out, "]");
	} else if (cJSON_IsString(n)) {
		char msg[1024];
		struct expr *leaf = NULL;
		/* a refused name fails the template before any compile; else,
         * when checking, each leaf is compiled on its own */
		if (t->check)
			leaf = expr_compile(n->valuestring, t->tables, msg,
					    sizeof(msg));
		if ((t->check && !leaf) ||
		    (!t->check &&
		     expr_guard_check(n->valuestring, msg, sizeof(msg)))) {
			t->nerr++;
			if (t->on_error)
				t->on_error(t->ud, path->s, msg);
		}
		expr_free(leaf);
		/* exactly one value per leaf, or an error naming the leaf */
		sb_add(out, "(label $__one | ((\n");
		sb_add(out, n->valuestring);
		sb_add(out, "\n) | ., break $__one), error(");
		struct sbuf m = { 0 };
		sb_addf(&m, "%s: expression produced no value", path->s);
		jq_string_literal(out, m.s);
		free(m.s);
		sb_add(out, "))");
	} else {
		char *lit = cJSON_PrintUnformatted(n);
		if (!lit)
			abort();
		sb_add(out, lit);
		free(lit);
	}
}

struct expr *expr_compile_template_all(const cJSON *tmpl, const cJSON *tables,
				       const char *json_path,
				       expr_error_fn on_error, void *ud)
{
	struct tmpl_ctx t = { .tables = tables,
			      .on_error = on_error,
			      .ud = ud };
	struct sbuf path = { 0 };
	struct sbuf body = { 0 };
	struct expr *e = NULL;
	sb_add(&path, json_path ? json_path : "$");
	if (!tmpl) {
		if (on_error)
			on_error(ud, path.s, "no template");
		goto out_free;
	}
	/* a jq compile costs about 16 ms (jq 1.6 rebuilds its builtins each
     * time), so compile the whole at once and split it into leaves only to
     * find which ones are wrong */
	tmpl_gen(&t, tmpl, &path, &body);
	if (t.nerr)
		goto out_free; /* refused names, each reported */
	char msg[1024];
	e = compile_body(body.s, tables, msg, sizeof(msg));
	if (e)
		goto out_free;
	struct sbuf again = { 0 };
	t.check = 1;
	tmpl_gen(&t, tmpl, &path, &again);
	free(again.s);
	if (!t.nerr && on_error) /* only the whole fails: say so */
		on_error(ud, path.s, msg);

out_free:
	free(path.s);
	free(body.s);
	return e;
}

struct first_err {
	char *err;
	size_t errlen;
	int seen;
};

static void keep_first(void *ud, const char *path, const char *msg)
{
	struct first_err *f = ud;
	if (f->seen++)
		return;
	put_err(f->err, f->errlen, "%s: %s", path, msg);
}

struct expr *expr_compile_template(const cJSON *tmpl, const cJSON *tables,
				   const char *json_path, char *err,
				   size_t errlen)
{
	struct first_err f = { err, errlen, 0 };
	return expr_compile_template_all(tmpl, tables, json_path, keep_first,
					 &f);
}

/* ---- evaluate ---- */

static void error_text(jv msg, char *err, size_t errlen)
{
	if (jv_get_kind(msg) == JV_KIND_STRING) {
		put_err(err, errlen, "%s", jv_string_value(msg));
		jv_free(msg);
		return;
	}
	jv s = jv_dump_string(msg, 0);
	put_err(err, errlen, "%s", jv_string_value(s));
	jv_free(s);
}

/* Runs e on [doc, vars]. Returns 0 with *out (owned) or *truth set, 1 when
 * there is no output, -1 on error. The result shares refcounted parts with
 * the program's constants (jq's refcounts are not atomic), so it is
 * converted and freed before the lock is released. */
/* jq's debug callback while link() asks: the query, once per key. */
static void want_link(void *ud, jv q)
{
	cJSON **wants = ud;
	jv key = jv_dump_string(jv_copy(q), 0);
	const char *k = jv_string_value(key);
	const cJSON *w;
	if (!*wants)
		*wants = cJSON_CreateArray();
	cJSON_ArrayForEach (w, *wants) {
		if (!strcmp(cJSON_GetObjectItem(w, "key")->valuestring, k)) {
			jv_free(key);
			jv_free(q);
			return;
		}
	}
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "key", k);
	cJSON_AddItemToObject(o, "query", jv_to_json(q));
	cJSON_AddItemToArray(*wants, o);
	jv_free(key);
}

/* Outputs after the first one, run out and dropped: libjq 1.6 asserts
 * (and so aborts the host) when a state is started again in the middle
 * of a path expression, e.g. `paths` stopped after its first output. A
 * generator with no end is cut after DRAIN_MAX outputs. */
#define DRAIN_MAX 100000

static void drain(jq_state *jq)
{
	for (int i = 0; i < DRAIN_MAX && !jq_halted(jq); i++) {
		jv more = jq_next(jq);
		int end = !jv_is_valid(more) &&
			  !jv_invalid_has_msg(jv_copy(more));

		jv_free(more);
		if (end)
			break;
	}
}

static int run(struct expr *e, const cJSON *doc, const cJSON *vars, cJSON **out,
	       int *truth, cJSON **wants, char *err, size_t errlen)
{
	jv input = jv_array_append(jv_array_append(jv_array(), json_to_jv(doc)),
				   json_to_jv(vars));
	int rc = 0;
	pthread_mutex_lock(&e->lock);
	jq_set_debug_cb(e->jq, wants ? want_link : NULL, wants);
	jq_start(e->jq, input, 0);
	jv r = jq_next(e->jq);
	if (jq_halted(e->jq)) {
		jv_free(r);
		put_err(err, errlen, _("expression stopped with halt"));
		rc = -1;
	} else if (jv_is_valid(r)) {
		if (truth) {
			jv_kind k = jv_get_kind(r);
			*truth = k != JV_KIND_NULL && k != JV_KIND_FALSE;
			jv_free(r);
		} else if (!(*out = jv_to_json(r))) {
			abort();
		}
	} else if (jv_invalid_has_msg(jv_copy(r))) {
		error_text(jv_invalid_get_msg(r), err, errlen);
		rc = -1;
	} else {
		jv_free(r);
		rc = 1;
	}
	if (rc == 0) /* after a value; after an error jq has unwound */
		drain(e->jq);
	/* drop the state's references to this document now, not at next use */
	jq_start(e->jq, jv_null(), 0);
	jq_set_debug_cb(e->jq, NULL, NULL);
	pthread_mutex_unlock(&e->lock);
	return rc;
}

int expr_eval(struct expr *e, const cJSON *doc, const cJSON *vars, cJSON **out,
	      char *err, size_t errlen)
{
	return expr_eval_links(e, doc, vars, out, NULL, err, errlen);
}

int expr_eval_links(struct expr *e, const cJSON *doc, const cJSON *vars,
		    cJSON **out, cJSON **wants, char *err, size_t errlen)
{
	*out = NULL;
	if (wants)
		*wants = NULL;
	int rc = run(e, doc, vars, out, NULL, wants, err, errlen);
	if (rc > 0)
		put_err(err, errlen, _("expression produced no value"));
	return rc ? -1 : 0;
}

int expr_test(struct expr *e, const cJSON *doc, const cJSON *vars, char *err,
	      size_t errlen)
{
	int truth = 0;
	int rc = run(e, doc, vars, NULL, &truth, NULL, err, errlen);
	if (rc < 0)
		return -1;
	return rc > 0 ? 0 : truth;
}

void expr_free(struct expr *e)
{
	if (!e)
		return;
	jq_teardown(&e->jq);
	pthread_mutex_destroy(&e->lock);
	free(e);
}

/* ---- static scans ---- */

static void push_name(char ***names, int *n, const char *s, size_t len)
{
	char **p = realloc(*names, sizeof(**names) * (size_t)(*n + 1));
	if (!p)
		abort();
	*names = p;
	p[*n] = strndup(s, len);
	if (!p[*n])
		abort();
	(*n)++;
}

/* Reads a simple "..." literal at s (no escapes other than \" \\); returns
 * the end past the closing quote and its content span, or NULL. */
static const char *read_literal(const char *s, const char **start, size_t *len)
{
	if (*s != '"')
		return NULL;
	const char *p = s + 1;
	while (*p && *p != '"') {
		if (*p == '\\')
			return NULL; /* escapes or interpolation: not a plain name */
		p++;
	}
	if (*p != '"')
		return NULL;
	*start = s + 1;
	*len = (size_t)(p - s - 1);
	return p + 1;
}

int expr_lookup_tables(const char *src, char ***names)
{
	int n = 0;
	*names = NULL;
	for (const char *p = src; p && (p = strstr(p, "lookup")); p += 6) {
		if (p > src && (isalnum((unsigned char)p[-1]) || p[-1] == '_'))
			continue;
		const char *q = p + 6;
		while (isspace((unsigned char)*q))
			q++;
		if (*q != '(')
			continue;
		q++;
		while (isspace((unsigned char)*q))
			q++;
		const char *start;
		size_t len;
		const char *end = read_literal(q, &start, &len);
		if (!end)
			continue;
		while (isspace((unsigned char)*end))
			end++;
		if (*end == ';')
			push_name(names, &n, start, len);
	}
	return n;
}

int expr_step_refs(const char *src, char ***names)
{
	int n = 0;
	*names = NULL;
	for (const char *p = src; p && (p = strstr(p, "$steps")); p += 6) {
		const char *q = p + 6;
		if (isalnum((unsigned char)*q) || *q == '_')
			continue; /* $stepsfoo is another variable */
		if (*q == '.' &&
		    (isalpha((unsigned char)q[1]) || q[1] == '_')) {
			const char *s = q + 1;
			size_t len = 0;
			while (isalnum((unsigned char)s[len]) || s[len] == '_')
				len++;
			push_name(names, &n, s, len);
			continue;
		}
		const char *start;
		size_t len;
		if (*q == '.' && q[1] == '"' &&
		    read_literal(q + 1, &start, &len))
			push_name(names, &n, start, len);
		else if (*q == '[' && read_literal(q + 1, &start, &len))
			push_name(names, &n, start, len);
		else if (q[0] == '.' && q[1] == '[' &&
			 read_literal(q + 2, &start, &len))
			push_name(names, &n, start, len);
	}
	return n;
}

void expr_names_free(char **names, int n)
{
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

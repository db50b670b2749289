/*
 * flow.c - load and validate flow files and mapping tables (see flow.h).
 *
 * Validation goes on after the first problem so that a user fixing a file
 * sees every mistake in one run of `luong flows check`.
 */
#define _GNU_SOURCE /* asprintf */
#include "flow.h"
#include "flow_fields.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "i18n.h"
#include "util.h"

#define PATH_MAX_LEN 512

static char *dupstr(const char *s)
{
	char *p = strdup(s);
	if (!p)
		abort();
	return p;
}

void flow_errors_add(struct flow_errors *errs, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = NULL;
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	va_end(ap);
	char **p = realloc(errs->msgs, sizeof(*p) * (errs->n + 1));
	if (!p)
		abort();
	errs->msgs = p;
	p[errs->n++] = msg;
}

#define err_add flow_errors_add

void flow_errors_clear(struct flow_errors *errs)
{
	for (size_t i = 0; i < errs->n; i++)
		free(errs->msgs[i]);
	free(errs->msgs);
	errs->msgs = NULL;
	errs->n = 0;
}

/* ---- modes, durations, retries ---- */

static const char *const mode_names[] = { "automatic", "manual", "disabled" };

const char *flow_mode_name(enum flow_mode m)
{
	if ((unsigned)m >= sizeof(mode_names) / sizeof(mode_names[0]))
		return "unknown";
	return mode_names[m];
}

int flow_mode_parse(const char *s, enum flow_mode *out)
{
	for (size_t i = 0; s && i < sizeof(mode_names) / sizeof(mode_names[0]);
	     i++) {
		if (!strcmp(s, mode_names[i])) {
			*out = (enum flow_mode)i;
			return 0;
		}
	}
	return -1;
}

int flow_duration_parse(const char *s, uint64_t *ms)
{
	uint64_t total = 0;
	const char *p = s;
	if (!p || !*p)
		return -1;
	while (*p) {
		if (!isdigit((unsigned char)*p))
			return -1;
		uint64_t n = 0;
		while (isdigit((unsigned char)*p)) {
			n = n * 10 + (uint64_t)(*p++ - '0');
			if (n > 1000000000ULL)
				return -1;
		}
		uint64_t unit;
		if (!strncmp(p, "ms", 2)) {
			unit = 1;
			p += 2;
		} else if (*p == 's') {
			unit = 1000;
			p++;
		} else if (*p == 'm') {
			unit = 60000;
			p++;
		} else if (*p == 'h') {
			unit = 3600000;
			p++;
		} else {
			return -1;
		}
		total += n * unit;
	}
	*ms = total;
	return 0;
}

uint32_t flow_retry_delay_ms(const struct flow_retry *r,
			     uint32_t failed_attempts, double rnd)
{
	if (failed_attempts == 0)
		return 0;
	double d = r->initial_ms * pow(r->multiplier, failed_attempts - 1.0);
	if (!(d < r->max_ms)) /* also catches inf and nan */
		d = r->max_ms;
	/* jitter spreads retries of many documents so they do not arrive at a
     * recovering target all at once */
	d *= 1.0 + r->jitter * (2.0 * rnd - 1.0);
	if (d > r->max_ms)
		d = r->max_ms;
	if (!(d > 0))
		return 0;
	return (uint32_t)(d + 0.5);
}

/* ---- small JSON helpers ---- */

static const char *type_name(const cJSON *j)
{
	if (cJSON_IsObject(j))
		return "an object";
	if (cJSON_IsArray(j))
		return "an array";
	if (cJSON_IsString(j))
		return "a string";
	if (cJSON_IsNumber(j))
		return "a number";
	if (cJSON_IsBool(j))
		return "a boolean";
	return "null";
}

/* Appends ".key" or ["key"] to a JSON path. */
static void path_key(char *dst, size_t len, const char *base, const char *key)
{
	int ident = isalpha((unsigned char)key[0]) || key[0] == '_' ||
		    key[0] == '$';
	for (const char *p = key + 1; ident && *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_')
			ident = 0;
	if (ident || !*key) {
		snprintf(dst, len, "%s.%s", base, key);
		return;
	}
	cJSON *s = cJSON_CreateString(key);
	char *q = s ? cJSON_PrintUnformatted(s) : NULL;
	if (!q)
		abort();
	snprintf(dst, len, "%s[%s]", base, q);
	free(q);
	cJSON_Delete(s);
}

/* Reports members of obj that are not in known (NULL-terminated). */
static void check_fields(const char *file, const char *path, const cJSON *obj,
			 const char *const *known, struct flow_errors *errs)
{
	for (const cJSON *c = obj->child; c; c = c->next) {
		int ok = 0;
		for (const char *const *k = known; *k && !ok; k++)
			ok = !strcmp(c->string, *k);
		if (ok)
			continue;
		char list[256] = "";
		for (const char *const *k = known; *k; k++) {
			if (**k == '$')
				continue; /* $schema is for editors, not worth suggesting */
			size_t n = strlen(list);
			snprintf(list + n, sizeof(list) - n, "%s%s",
				 n ? ", " : "", *k);
		}
		char p[PATH_MAX_LEN];
		path_key(p, sizeof(p), path, c->string);
		err_add(errs, _("%s: %s: unknown field (expected one of: %s)"),
			file, p, list);
	}
}

/* Gets a member of the wanted type (cJSON type flag). Reports missing (when
 * required) and mistyped members; returns NULL for both. */
static const cJSON *get_field(const char *file, const char *path,
			      const cJSON *obj, const char *key, int type,
			      int required, struct flow_errors *errs)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	char p[PATH_MAX_LEN];
	path_key(p, sizeof(p), path, key);
	if (!v) {
		if (required)
			err_add(errs, _("%s: %s: missing required field"), file,
				p);
		return NULL;
	}
	if ((v->type & 0xff) & type)
		return v;
	const char *want = type == cJSON_Object	  ? "an object"
			   : type == cJSON_Array  ? "an array"
			   : type == cJSON_String ? "a string"
			   : type == cJSON_Number ? "a number"
						  : "a boolean";
	err_add(errs, _("%s: %s: expected %s, got %s"), file, p, want,
		type_name(v));
	return NULL;
}

static int valid_id(const char *s, int allow_underscore)
{
	if (!*s)
		return 0;
	for (const char *p = s; *p; p++) {
		if (!(islower((unsigned char)*p) ||
		      isdigit((unsigned char)*p) || *p == '-' ||
		      (allow_underscore && *p == '_')))
			return 0;
	}
	return 1;
}

/* ---- file reading and JSON errors ---- */

/* Parses text; on failure reports "<file>:<line>:<col>: invalid JSON: ...".
 * cJSON gives only the position, so the reason is what was found there. */
static cJSON *parse_json(const char *file, const char *text, size_t len,
			 struct flow_errors *errs)
{
	const char *end = NULL;
	/* len + 1: with require_null_terminated cJSON wants to see the NUL */
	cJSON *j = cJSON_ParseWithLengthOpts(text, len + 1, &end, 1);
	if (j)
		return j;
	if (!end || end < text || end > text + len)
		end = text + len;
	int line = 1, col = 1;
	for (const char *p = text; p < end; p++) {
		if (*p == '\n') {
			line++;
			col = 1;
		} else if (((unsigned char)*p & 0xc0) != 0x80) {
			col++; /* count characters, not UTF-8 bytes */
		}
	}
	const char *p = end;
	while (p < text + len && isspace((unsigned char)*p))
		p++;
	if (p >= text + len)
		err_add(errs,
			_("%s:%d:%d: invalid JSON: unexpected end of file"),
			file, line, col);
	else if (isprint((unsigned char)*end))
		err_add(errs, _("%s:%d:%d: invalid JSON: unexpected '%c'"),
			file, line, col, *end);
	else
		err_add(errs,
			_("%s:%d:%d: invalid JSON: unexpected byte 0x%02x"),
			file, line, col, (unsigned char)*end);
	return NULL;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* Joins dir and name as given, so messages show the caller's own path. */
static char *join(const char *dir, const char *name)
{
	size_t n = strlen(dir);
	char *p = NULL;
	if (asprintf(&p, "%s%s%s", dir, n && dir[n - 1] == '/' ? "" : "/",
		     name) < 0)
		abort();
	return p;
}

/* Sorted names of the *.json regular files of dir (dot files skipped). */
static int list_json(const char *dir, char ***names, size_t *n)
{
	DIR *d = opendir(dir);
	*names = NULL;
	*n = 0;
	if (!d)
		return -1;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len < 6 ||
		    strcmp(de->d_name + len - 5, ".json"))
			continue;
		char *full = join(dir, de->d_name);
		struct stat st;
		int skip = stat(full, &st) || !S_ISREG(st.st_mode);
		free(full);
		if (skip)
			continue;
		char **p = realloc(*names, sizeof(*p) * (*n + 1));
		if (!p)
			abort();
		*names = p;
		p[(*n)++] = dupstr(de->d_name);
	}
	closedir(d);
	if (*n)
		qsort(*names, *n, sizeof(**names), cmp_names);
	return 0;
}

/* ---- mapping tables ---- */

int flow_tables_load(const char *mappings_dir, cJSON **out,
		     struct flow_errors *errs)
{
	char **names = NULL;
	size_t n = 0;
	size_t nerr = errs->n;
	*out = cJSON_CreateObject();
	if (!*out)
		abort();
	if (!mappings_dir)
		return 0;
	if (list_json(mappings_dir, &names, &n)) {
		if (errno == ENOENT)
			return 0; /* no tables is a valid set-up */
		err_add(errs, _("%s: cannot read mappings directory: %s"),
			mappings_dir, strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		char *file = join(mappings_dir, names[i]);
		size_t len;
		char *text = util_read_file(file, &len);
		cJSON *t = NULL;
		if (!text)
			err_add(errs, _("%s: cannot read: %s"), file,
				strerror(errno));
		else
			t = parse_json(file, text, len, errs);
		free(text);
		if (t && !cJSON_IsObject(t)) {
			err_add(errs,
				_("%s: $: expected an object from source code "
				  "to "
				  "target code, got %s"),
				file, type_name(t));
		} else if (t) {
			names[i][strlen(names[i]) - 5] = '\0'; /* drop .json */
			cJSON_AddItemToObject(*out, names[i], t);
			t = NULL;
		}
		cJSON_Delete(t);
		free(file);
	}
	free_names(names, n);
	return errs->n > nerr ? -1 : 0;
}

/* ---- one flow file ---- */

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
	char p[PATH_MAX_LEN];
	if (cJSON_IsString(t)) {
		check_expr_refs(ld, path, t->valuestring);
	} else if (cJSON_IsObject(t)) {
		for (const cJSON *c = t->child; c; c = c->next) {
			path_key(p, sizeof(p), path, c->string);
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
	const cJSON *t = get_field(file, "$", root, "trigger", cJSON_Object, 1,
				   ld->errs);
	if (!t)
		return;
	check_fields(file, "$.trigger", t, trigger_fields, ld->errs);
	const cJSON *conn = get_field(file, "$.trigger", t, "connection",
				      cJSON_String, 1, ld->errs);
	const cJSON *ev = get_field(file, "$.trigger", t, "event", cJSON_String,
				    1, ld->errs);
	const cJSON *when = get_field(file, "$.trigger", t, "when",
				      cJSON_String, 0, ld->errs);
	const cJSON *every = get_field(file, "$.trigger", t, "every",
				       cJSON_String, 0, ld->errs);
	const cJSON *echo = get_field(file, "$.trigger", t, "echo",
				      cJSON_String, 0, ld->errs);
	const cJSON *order_by = get_field(file, "$.trigger", t, "order_by",
					  cJSON_String, 0, ld->errs);
	const cJSON *kind = get_field(file, "$.trigger", t, "kind",
				      cJSON_String, 0, ld->errs);
	int is_poll = -1; /* unknown */
	if (conn)
		f->trigger_connection = dupstr(conn->valuestring);
	if (ev)
		f->trigger_event = dupstr(ev->valuestring);
	if (kind && !valid_id(kind->valuestring, 1))
		err_add(ld->errs,
			_("%s: $.trigger.kind: invalid kind \"%s\" (use a-z, "
			  "0-9, _ and -)"),
			file, kind->valuestring);
	else if (kind)
		f->trigger_kind = dupstr(kind->valuestring);
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
	const cJSON *l =
		get_field(file, base, s, "link", cJSON_Object, 0, ld->errs);
	char path[96];
	if (!l)
		return;
	snprintf(path, sizeof(path), "%s.link", base);
	check_fields(file, path, l, link_fields, ld->errs);
	const cJSON *kind =
		get_field(file, path, l, "kind", cJSON_String, 1, ld->errs);
	const cJSON *id =
		get_field(file, path, l, "id", cJSON_String, 0, ld->errs);
	const cJSON *code =
		get_field(file, path, l, "code", cJSON_String, 0, ld->errs);
	const cJSON *echo =
		get_field(file, path, l, "echo", cJSON_String, 0, ld->errs);
	char echo_path[128];
	if (!cJSON_GetObjectItemCaseSensitive(l, "id") &&
	    !cJSON_GetObjectItemCaseSensitive(l, "code"))
		err_add(ld->errs,
			_("%s: %s: needs \"id\" or \"code\" (or both): jq "
			  "on the step's output naming the record it made, "
			  "e.g. \".refid\""),
			file, path);
	if (kind && !valid_id(kind->valuestring, 1)) {
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
	st->link->kind = dupstr(kind->valuestring);
	st->link->ref = ref;
	snprintf(echo_path, sizeof(echo_path), "%s.echo", path);
	st->link->echo = trigger_expr(ld, echo_path, echo);
}

/* steps[i].refuse_if: jq on the document; a string refuses it. */
static void load_refuse_if(struct loader *ld, struct flow_step *st,
			   const cJSON *s, const char *base)
{
	const cJSON *r = get_field(ld->file, base, s, "refuse_if", cJSON_String,
				   0, ld->errs);
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
	const cJSON *steps =
		get_field(file, "$", root, "steps", cJSON_Array, 1, ld->errs);
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
				base, type_name(s));
			continue;
		}
		check_fields(file, base, s, step_fields, ld->errs);
		const cJSON *id = get_field(file, base, s, "id", cJSON_String,
					    1, ld->errs);
		const cJSON *conn = get_field(file, base, s, "connection",
					      cJSON_String, 1, ld->errs);
		const cJSON *act = get_field(file, base, s, "action",
					     cJSON_String, 1, ld->errs);
		get_field(file, base, s, "description", cJSON_String, 0,
			  ld->errs);
		if (id && !valid_id(id->valuestring, 1)) {
			err_add(ld->errs,
				_("%s: %s.id: invalid step id \"%s\" (use a-z, "
				  "0-9, _ and -)"),
				file, base, id->valuestring);
		} else if (id) {
			st->id = dupstr(id->valuestring);
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
			st->connection = dupstr(conn->valuestring);
		if (act)
			st->action = dupstr(act->valuestring);
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
	const cJSON *v = get_field(ld->file, "$.on_error.backoff", b, key,
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
	const cJSON *oe = get_field(file, "$", root, "on_error", cJSON_Object,
				    0, ld->errs);
	if (!oe)
		return;
	check_fields(file, "$.on_error", oe, on_error_fields, ld->errs);
	const cJSON *ma = get_field(file, "$.on_error", oe, "max_attempts",
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
	const cJSON *b = get_field(file, "$.on_error", oe, "backoff",
				   cJSON_Object, 0, ld->errs);
	if (!b)
		return;
	check_fields(file, "$.on_error.backoff", b, backoff_fields, ld->errs);
	r->initial_ms = load_backoff_ms(ld, b, "initial", r->initial_ms);
	r->max_ms = load_backoff_ms(ld, b, "max", r->max_ms);
	if (r->max_ms < r->initial_ms)
		err_add(ld->errs,
			_("%s: $.on_error.backoff.max: %ums is less than "
			  "initial (%ums)"),
			file, r->max_ms, r->initial_ms);
	const cJSON *m = get_field(file, "$.on_error.backoff", b, "multiplier",
				   cJSON_Number, 0, ld->errs);
	if (m && !(m->valuedouble >= 1 && m->valuedouble <= 100))
		err_add(ld->errs,
			_("%s: $.on_error.backoff.multiplier: %g is out of "
			  "range (1 to 100)"),
			file, m->valuedouble);
	else if (m)
		r->multiplier = m->valuedouble;
	const cJSON *j = get_field(file, "$.on_error.backoff", b, "jitter",
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
static struct flow *load_one(const char *path, const cJSON *tables,
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
	cJSON *root = parse_json(path, text, len, errs);
	if (!root) {
		free(text);
		return NULL;
	}
	struct flow *f = calloc(1, sizeof(*f));
	if (!f)
		abort();
	f->file = dupstr(path);
	free(text);
	f->retry = FLOW_RETRY_DEFAULT;
	if (!cJSON_IsObject(root)) {
		err_add(errs, _("%s: $: expected an object, got %s"), path,
			type_name(root));
		goto out_fail;
	}
	struct loader ld = {
		.file = path, .tables = tables, .cat = cat, .errs = errs, .f = f
	};
	check_fields(path, "$", root, top_fields, errs);

	const cJSON *id =
		get_field(path, "$", root, "id", cJSON_String, 1, errs);
	if (id && !valid_id(id->valuestring, 0))
		err_add(errs,
			_("%s: $.id: invalid flow id \"%s\" (use a-z, 0-9 and "
			  "-)"),
			path, id->valuestring);
	else if (id)
		f->id = dupstr(id->valuestring);
	const cJSON *name =
		get_field(path, "$", root, "name", cJSON_String, 0, errs);
	if (name)
		f->name = dupstr(name->valuestring);
	else if (f->id)
		f->name = dupstr(f->id);
	const cJSON *desc = get_field(path, "$", root, "description",
				      cJSON_String, 0, errs);
	if (desc)
		f->description = dupstr(desc->valuestring);
	const cJSON *mode =
		get_field(path, "$", root, "mode", cJSON_String, 0, errs);
	if (mode && flow_mode_parse(mode->valuestring, &f->mode))
		err_add(errs,
			_("%s: $.mode: unknown mode \"%s\" (use automatic, "
			  "manual or disabled)"),
			path, mode->valuestring);
	const cJSON *oc =
		get_field(path, "$", root, "on_change", cJSON_String, 0, errs);
	if (oc && !strcmp(oc->valuestring, "resend"))
		f->on_change = FLOW_ON_CHANGE_RESEND;
	else if (oc && strcmp(oc->valuestring, "flag"))
		err_add(errs,
			_("%s: $.on_change: unknown policy \"%s\" (use flag or "
			  "resend)"),
			path, oc->valuestring);
	const cJSON *nc = get_field(path, "$", root, "on_number_clash",
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
		*id_out = dupstr(f->id);
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
	struct flow *f = load_one(path, tables, cat, errs, &id);
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

/* ---- flow sets ---- */

int flow_set_load(const char *flows_dir, const char *mappings_dir,
		  const struct flow_catalog *cat, struct flow_set **out,
		  struct flow_errors *errs)
{
	size_t nerr = errs->n;
	char **names = NULL;
	size_t n = 0;
	*out = NULL;
	struct flow_set *set = calloc(1, sizeof(*set));
	if (!set)
		abort();
	flow_tables_load(mappings_dir, &set->tables, errs);
	if (list_json(flows_dir, &names, &n)) {
		err_add(errs, _("%s: cannot read flows directory: %s"),
			flows_dir, strerror(errno));
		goto out_fail;
	}
	set->flows = calloc(n ? n : 1, sizeof(*set->flows));
	char **ids = calloc(n ? n : 1, sizeof(*ids));
	char **files = calloc(n ? n : 1, sizeof(*files));
	if (!set->flows || !ids || !files)
		abort();
	for (size_t i = 0; i < n; i++) {
		files[i] = join(flows_dir, names[i]);
		struct flow *f =
			load_one(files[i], set->tables, cat, errs, &ids[i]);
		if (f)
			set->flows[set->n++] = f;
		for (size_t k = 0; ids[i] && k < i; k++) {
			if (ids[k] && !strcmp(ids[k], ids[i])) {
				err_add(errs,
					_("%s: $.id: duplicate flow id \"%s\" "
					  "(also in "
					  "%s)"),
					files[i], ids[i], files[k]);
				break;
			}
		}
	}
	for (size_t i = 0; i < n; i++) {
		free(ids[i]);
		free(files[i]);
	}
	free(ids);
	free(files);
	free_names(names, n);
	if (errs->n > nerr)
		goto out_fail;
	*out = set;
	return 0;

out_fail:
	flow_set_free(set);
	return -1;
}

const struct flow *flow_set_find(const struct flow_set *set, const char *id)
{
	for (size_t i = 0; set && i < set->n; i++)
		if (!strcmp(set->flows[i]->id, id))
			return set->flows[i];
	return NULL;
}

void flow_set_free(struct flow_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->n; i++)
		flow_free(set->flows[i]);
	free(set->flows);
	cJSON_Delete(set->tables);
	free(set);
}

/* ---- warnings ---- */

static int same_trigger(const struct flow *a, const struct flow *b)
{
	return a->trigger_connection && b->trigger_connection &&
	       a->trigger_event && b->trigger_event &&
	       !strcmp(a->trigger_connection, b->trigger_connection) &&
	       !strcmp(a->trigger_event, b->trigger_event);
}

/* The first step of f making kind in conn, or -1. */
static long step_making(const struct flow *f, const char *conn,
			const char *kind)
{
	for (size_t i = 0; i < f->n_steps; i++) {
		const struct flow_step *st = &f->steps[i];
		if (st->link && !strcmp(st->connection, conn) &&
		    !strcmp(st->link->kind, kind))
			return (long)i;
	}
	return -1;
}

void flow_set_warnings(const struct flow_set *set, struct flow_errors *out)
{
	for (size_t b = 0; set && b < set->n; b++) {
		const struct flow *fb = set->flows[b];
		for (size_t k = 0; fb->notes && k < fb->notes->n; k++)
			err_add(out, "%s", fb->notes->msgs[k]);
		for (size_t i = 0; i < fb->n_steps; i++) {
			const struct flow_step *st = &fb->steps[i];
			if (!st->link || step_making(fb, st->connection,
						     st->link->kind) != (long)i)
				continue;
			for (size_t a = 0; a < b; a++) {
				const struct flow *fa = set->flows[a];
				long k = step_making(fa, st->connection,
						     st->link->kind);
				if (!same_trigger(fa, fb) || k < 0)
					continue;
				err_add(out,
					_("%s: $.steps[%zu].link: warning: "
					  "flow "
					  "\"%s\" "
					  "(%s, $.steps[%ld]) also makes %s in "
					  "\"%s\" "
					  "on %s %s; a document both select "
					  "makes one, "
					  "sent by the flow that runs it "
					  "first"),
					fb->file, i, fa->id, fa->file, k,
					st->link->kind, st->connection,
					fb->trigger_connection,
					fb->trigger_event);
				break;
			}
		}
	}
}

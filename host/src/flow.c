/*
 * flow.c - what loading flows shares (see flow.h): error lists, modes,
 * durations and retries, small JSON helpers, reading files and reporting
 * JSON errors, mapping tables, flow sets and their warnings. One flow
 * file, its fields and their checks, is in flow_load.c.
 *
 * Validation goes on after the first problem so that a user fixing a file
 * sees every mistake in one run of `luong flows check`.
 */
#define _GNU_SOURCE /* asprintf */
#include "flow.h"
#include "flow_int.h"

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

char *flow_dupstr(const char *s)
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

const char *flow_type_name(const cJSON *j)
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
void flow_path_key(char *dst, size_t len, const char *base, const char *key)
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
void flow_check_fields(const char *file, const char *path, const cJSON *obj,
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
		char p[FLOW_PATH_MAX];
		flow_path_key(p, sizeof(p), path, c->string);
		err_add(errs, _("%s: %s: unknown field (expected one of: %s)"),
			file, p, list);
	}
}

/* Gets a member of the wanted type (cJSON type flag). Reports missing (when
 * required) and mistyped members; returns NULL for both. */
const cJSON *flow_get_field(const char *file, const char *path,
			    const cJSON *obj, const char *key, int type,
			    int required, struct flow_errors *errs)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	char p[FLOW_PATH_MAX];
	flow_path_key(p, sizeof(p), path, key);
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
		flow_type_name(v));
	return NULL;
}

int flow_valid_id(const char *s, int allow_underscore)
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
cJSON *flow_parse_json(const char *file, const char *text, size_t len,
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
		p[(*n)++] = flow_dupstr(de->d_name);
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
			t = flow_parse_json(file, text, len, errs);
		free(text);
		if (t && !cJSON_IsObject(t)) {
			err_add(errs,
				_("%s: $: expected an object from source code "
				  "to "
				  "target code, got %s"),
				file, flow_type_name(t));
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
		struct flow *f = flow_load_one(files[i], set->tables, cat, errs,
					       &ids[i]);
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

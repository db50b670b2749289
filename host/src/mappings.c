/* mappings.c - see mappings.h. */
#define _GNU_SOURCE /* vasprintf, strndup, open_memstream */
#include "mappings.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "flow.h"
#include "i18n.h"
#include "runtime.h"
#include "util.h"

cJSON *mappings_read(struct runtime *rt, char *err, size_t errlen)
{
	struct flow_errors errs = { 0 };
	cJSON *t = NULL;

	if (flow_tables_load(rt->conf.mappings_dir, &t, &errs)) {
		snprintf(err, errlen, "%s",
			 errs.n ? errs.msgs[0]
				: "cannot "
				  "read the mapping tables");
		flow_errors_clear(&errs);
		cJSON_Delete(t);
		return NULL;
	}
	return t;
}

static bool name_ok(const char *n)
{
	size_t len = strlen(n);

	return len && len <= 64 && n[0] != '.' &&
	       strspn(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789_-.") == len;
}

static void add_err(cJSON *errs, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void add_err(cJSON *errs, const char *fmt, ...)
{
	va_list ap;
	char *m;

	va_start(ap, fmt);
	if (vasprintf(&m, fmt, ap) < 0)
		abort();
	va_end(ap);
	cJSON_AddItemToArray(errs, cJSON_CreateString(m));
	free(m);
}

/* An entry must have the shape the table's entries have now: a value of
 * the same JSON type, and for objects the same fields. */
static void check_entry(const cJSON *v, const cJSON *model, cJSON *errs)
{
	const cJSON *f;

	if (!model)
		return;
	if ((model->type & 0xff) != (v->type & 0xff) &&
	    !(cJSON_IsBool(model) && cJSON_IsBool(v))) {
		add_err(errs,
			_("$.entries[\"%s\"]: expected %s, like the "
			  "table's other entries"),
			v->string,
			cJSON_IsObject(model)	? "an object"
			: cJSON_IsString(model) ? "a string"
			: cJSON_IsNumber(model) ? "a number"
						: "the same type");
		return;
	}
	if (!cJSON_IsObject(model))
		return;
	cJSON_ArrayForEach (f, model)
		if (!cJSON_HasObjectItem(v, f->string))
			add_err(errs,
				_("$.entries[\"%s\"].%s: missing (every "
				  "entry has it)"),
				v->string, f->string);
	cJSON_ArrayForEach (f, v)
		if (!cJSON_HasObjectItem(model, f->string))
			add_err(errs,
				_("$.entries[\"%s\"].%s: not a field of "
				  "this table's entries"),
				v->string, f->string);
}

static cJSON *check(const cJSON *old, const cJSON *entries)
{
	cJSON *errs = cJSON_CreateArray();
	const cJSON *e, *model = old ? old->child : NULL;

	if (!cJSON_IsObject(entries)) {
		add_err(errs, _("$.entries: expected an object from source "
				"code "
				"to target value"));
		return errs;
	}
	cJSON_ArrayForEach (e, entries) {
		if (!*e->string || strlen(e->string) > 256)
			add_err(errs, _("$.entries: a source code is empty or "
					"longer than 256 bytes"));
		else if (cJSON_IsNull(e))
			add_err(errs,
				_("$.entries[\"%s\"]: null; remove the "
				  "entry instead"),
				e->string);
		else
			check_entry(e, model, errs);
	}
	return errs;
}

/* Writes text as the file at path: a new file renamed over the old. */
static int write_whole(const char *path, const char *text)
{
	char *tmp = xasprintf("%s.tmp", path);
	size_t n = strlen(text);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int rc = -1;

	if (fd >= 0 && write(fd, text, n) == (ssize_t)n && !fsync(fd) &&
	    !close(fd))
		rc = rename(tmp, path);
	else if (fd >= 0)
		close(fd);
	if (rc)
		unlink(tmp);
	free(tmp);
	return rc;
}

static void reload_errors(struct flow_errors *fe, cJSON *errs)
{
	for (size_t i = 0; i < fe->n; i++)
		cJSON_AddItemToArray(errs, cJSON_CreateString(fe->msgs[i]));
	flow_errors_clear(fe);
}

int mappings_save(struct runtime *rt, const char *name, const cJSON *entries,
		  cJSON **errors)
{
	struct flow_errors fe = { 0 };
	char err[512], *file, *path, *old_text, *text;
	cJSON *tables = NULL, *errs;
	const cJSON *old;

	*errors = errs = cJSON_CreateArray();
	if (!name_ok(name)) {
		add_err(errs, _("mapping table \"%s\": not a table name"),
			name);
		return -1;
	}
	tables = mappings_read(rt, err, sizeof(err));
	old = cJSON_GetObjectItemCaseSensitive(tables, name);
	if (!old) {
		add_err(errs,
			_("mapping table \"%s\": no such table in the "
			  "mappings folder"),
			name);
		cJSON_Delete(tables);
		return -1;
	}
	cJSON_Delete(errs);
	*errors = errs = check(old, entries);
	cJSON_Delete(tables);
	if (cJSON_GetArraySize(errs))
		return -1;
	file = xasprintf("%s.json", name);
	path = util_path_join(rt->conf.mappings_dir, file);
	free(file);
	old_text = util_read_file(path, NULL);
	text = cJSON_Print(entries);
	if (!old_text || write_whole(path, text)) {
		add_err(errs, _("mapping table \"%s\": cannot write it: %s"),
			name, strerror(errno));
	} else if (engine_reload(rt->engine, &fe)) {
		/* the flows refuse it: the old table stays in use */
		reload_errors(&fe, errs);
		if (write_whole(path, old_text))
			add_err(errs,
				_("mapping table \"%s\": cannot put the "
				  "old table back: %s"),
				name, strerror(errno));
	}
	free(text);
	free(old_text);
	free(path);
	return cJSON_GetArraySize(errs) ? -1 : 0;
}

/*
 * cli_try.c - how `luong flows try` shows the go-live check's answer to a
 * person: per step a table of field and value, the fields the target's
 * plugin fills in itself, what a dry run cannot know, and each problem
 * with the JSON path of its field.
 */
#define _GNU_SOURCE /* vasprintf */
#include "cli.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "util.h"

#define FIELD_WIDTH_MAX 44

/* One printed row: a field's path (without "$.") and its value. */
struct row {
	char *path, *value;
};

struct rows {
	struct row *r;
	size_t n, cap;
};

static void rows_add(struct rows *rs, char *path, char *value)
{
	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? rs->cap * 2 : 16;
		rs->r = xrealloc(rs->r, rs->cap * sizeof(*rs->r));
	}
	rs->r[rs->n].path = path;
	rs->r[rs->n++].value = value;
}

static void rows_free(struct rows *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		free(rs->r[i].path);
		free(rs->r[i].value);
	}
	free(rs->r);
	memset(rs, 0, sizeof(*rs));
}

static const char *rows_find(const struct rows *rs, const char *path)
{
	for (size_t i = 0; i < rs->n; i++)
		if (!strcmp(rs->r[i].path, path))
			return rs->r[i].value;
	return NULL;
}

/* The step whose output a not-known field needs, or NULL. */
static const cJSON *not_known(const cJSON *unknown, const char *path)
{
	const cJSON *u;

	cJSON_ArrayForEach (u, unknown) {
		const char *p =
			cJSON_GetStringValue(cJSON_GetObjectItem(u, "path"));

		if (p && !strcmp(p, path))
			return cJSON_GetObjectItem(u, "needs");
	}
	return NULL;
}

static char *needs_text(const cJSON *needs)
{
	char buf[256] = "";
	size_t n = 0;
	const cJSON *s;

	cJSON_ArrayForEach (s, needs)
		if (cJSON_IsString(s) && n < sizeof(buf))
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s",
					      n ? ", " : "", s->valuestring);
	return xasprintf(_("(not known in a dry run: needs the result of step "
			   "%s)"),
			 buf);
}

/* Flattens v into rows, one per scalar (or empty container), by path. */
static void flatten(const cJSON *v, const char *path, const cJSON *unknown,
		    struct rows *rs)
{
	const cJSON *needs = not_known(unknown, path), *c;
	int i = 0;

	if (needs) {
		rows_add(rs, xstrdup(path), needs_text(needs));
		return;
	}
	if ((cJSON_IsObject(v) || cJSON_IsArray(v)) && v->child) {
		cJSON_ArrayForEach (c, v) {
			char *p = cJSON_IsObject(v)
					  ? util_json_path_key(path, c->string)
					  : xasprintf("%s[%d]", path, i);

			flatten(c, p, unknown, rs);
			free(p);
			i++;
		}
		return;
	}
	rows_add(rs, xstrdup(path), cJSON_PrintUnformatted(v));
}

static int field_width(const struct rows *rs)
{
	int w = 5;

	for (size_t i = 0; i < rs->n; i++)
		if ((int)strlen(rs->r[i].path) - 2 > w)
			w = (int)strlen(rs->r[i].path) - 2;
	return w > FIELD_WIDTH_MAX ? FIELD_WIDTH_MAX : w;
}

/* "$.a.b" is shown as "a.b", "$["a b"]" as "["a b"]", the whole value
 * as "(all)". */
static const char *shown(const char *path)
{
	if (!strcmp(path, "$"))
		return "(all)";
	return path + (path[1] == '.' ? 2 : 1);
}

/* The table of one value: what is sent, then (when the plugin gave its
 * preview) what the plugin fills in or changes, marked + and ~. */
static void print_table(FILE *out, const cJSON *value, const cJSON *preview,
			const cJSON *unknown)
{
	struct rows in = { 0 }, pre = { 0 };
	int w;

	flatten(value, "$", unknown, &in);
	if (preview)
		flatten(preview, "$", NULL, &pre);
	w = field_width(&in);
	if (pre.n && field_width(&pre) > w)
		w = field_width(&pre);
	fprintf(out, "    %-*s  %s\n", util_pad_width(w + 2, _("FIELD")),
		_("FIELD"), _("VALUE"));
	for (size_t i = 0; i < in.n; i++)
		fprintf(out, "    %-*s  %s\n", w + 2, shown(in.r[i].path),
			in.r[i].value);
	for (size_t i = 0; i < pre.n; i++) {
		const char *was = rows_find(&in, pre.r[i].path);

		if (!was || strcmp(was, pre.r[i].value))
			fprintf(out, "  %c %-*s  %s\n", was ? '~' : '+', w + 2,
				shown(pre.r[i].path), pre.r[i].value);
	}
	if (pre.n)
		fprintf(out, _("    (+ filled in, ~ changed by the plugin "
			       "before "
			       "sending)\n"));
	rows_free(&in);
	rows_free(&pre);
}

static const char *str(const cJSON *o, const char *key)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(o, key));

	return s ? s : "";
}

static void print_source(FILE *out, const cJSON *res)
{
	const cJSON *src = cJSON_GetObjectItem(res, "source");
	const cJSON *seq = cJSON_GetObjectItem(src, "seq");

	fprintf(out, _("flow %s, document %s"), str(res, "flow"),
		str(res, "document_id"));
	if (cJSON_IsNumber(seq))
		fprintf(out, _(" (its last event received, #%.0f)"),
			seq->valuedouble);
	else if (!strcmp(str(src, "from"), "fetched"))
		fprintf(out, _(" (read from %s now)"), str(src, "connection"));
	else
		fprintf(out, _(" (given)"));
	fputc('\n', out);
}

static int print_dry_run(FILE *out, const cJSON *res)
{
	const cJSON *steps = cJSON_GetObjectItem(res, "steps"), *s;
	const cJSON *n = cJSON_GetObjectItem(res, "problems");
	int i = 0;

	fprintf(out, _("dry run: nothing was written\n"));
	if (!cJSON_IsTrue(cJSON_GetObjectItem(res, "selected"))) {
		fprintf(out, _("\nnot sent: %s\n"), str(res, "filter"));
		return 1;
	}
	cJSON_ArrayForEach (s, steps) {
		const cJSON *p, *input = cJSON_GetObjectItem(s, "input");

		fprintf(out, _("\nstep %d %s: %s.%s (check: %s)\n"), ++i,
			str(s, "id"), str(s, "connection"), str(s, "action"),
			str(s, "check"));
		if (*str(s, "check_error"))
			fprintf(out, _("    the check could not be done: %s\n"),
				str(s, "check_error"));
		if (!cJSON_IsNull(input) ||
		    !cJSON_GetArraySize(cJSON_GetObjectItem(s, "problems")))
			print_table(out, input,
				    cJSON_GetObjectItem(s, "preview"),
				    cJSON_GetObjectItem(s, "not_known"));
		cJSON_ArrayForEach (p, cJSON_GetObjectItem(s, "problems"))
			fprintf(out, "  ! %s: %s\n", str(p, "path"),
				str(p, "message"));
		cJSON_ArrayForEach (p, cJSON_GetObjectItem(s, "made_earlier"))
			fprintf(out, _("  = %s: made by step %s first (%s)\n"),
				str(p, "path"), str(p, "by_step"),
				str(p, "message"));
	}
	if (cJSON_IsTrue(cJSON_GetObjectItem(res, "ok"))) {
		fprintf(out, _("\nready: no problems found\n"));
		return 0;
	}
	if (cJSON_IsNumber(n) && n->valuedouble > 0)
		fprintf(out, _("\nnot ready: %.0f problem%s (! above)\n"),
			n->valuedouble, n->valuedouble == 1 ? "" : "s");
	else
		fprintf(out, _("\nnot ready: a check could not be done\n"));
	return 1;
}

static int print_sent(FILE *out, const cJSON *res)
{
	const cJSON *outputs = cJSON_GetObjectItem(res, "outputs"), *o;
	const cJSON *target = cJSON_GetObjectItem(res, "target");
	const char *status = str(res, "status");

	fprintf(out, _("sent for real: %s%s\n"), status,
		cJSON_IsTrue(cJSON_GetObjectItem(res, "finished")) ? ""
								   : " (not "
								     "finished "
								     "yet; see "
								     "`luong "
								     "doc`)");
	if (*str(res, "reason"))
		fprintf(out, _("reason: %s\n"), str(res, "reason"));
	if (cJSON_IsTrue(cJSON_GetObjectItem(res, "changed_after_sync")))
		fprintf(out, _("note: synced before, and this content differs "
			       "(changed after sync); not sent again\n"));
	cJSON_ArrayForEach (o, outputs) {
		fprintf(out, _("\nstep %s made:\n"), o->string);
		print_table(out, o, NULL, NULL);
	}
	if (target && !cJSON_IsNull(target)) {
		fprintf(out, _("\nlink (what the target holds):\n"));
		print_table(out, target, NULL, NULL);
	}
	return strcmp(status, "synced") ? 1 : 0;
}

int cli_try_print(FILE *out, const cJSON *res)
{
	print_source(out, res);
	if (cJSON_IsFalse(cJSON_GetObjectItem(res, "dry_run")))
		return print_sent(out, res);
	return print_dry_run(out, res);
}

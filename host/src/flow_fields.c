/*
 * flow_fields.c - a flow checked against what plugins declare (SDK 1.2):
 * mapped inputs against an action's inputs, reads of the trigger's
 * document against the event's payload fields.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "flow_fields.h"
#include "i18n.h"

static const struct luong_field_def *find_decl(const struct luong_field_def *f,
					       const char *name, size_t len)
{
	for (; f && f->name; f++)
		if (strlen(f->name) == len && !strncmp(f->name, name, len))
			return f;
	return NULL;
}

static void names(const struct luong_field_def *f, char *buf, size_t len)
{
	size_t n;

	buf[0] = '\0';
	for (; f && f->name; f++) {
		n = strlen(buf);
		snprintf(buf + n, len - n, "%s%s", n ? ", " : "", f->name);
	}
	if (!buf[0])
		snprintf(buf, len, "none");
}

/* Whether a template string is one jq string literal: a constant text. */
static bool string_literal(const char *s)
{
	size_t n = strlen(s);

	if (n < 2 || s[0] != '"' || s[n - 1] != '"')
		return false;
	for (size_t i = 1; i < n - 1; i++) {
		if (s[i] == '\\') {
			if (s[i + 1] == '(') /* interpolation: an expression */
				return false;
			i++;
		} else if (s[i] == '"') {
			return false;
		}
	}
	return true;
}

/* A constant's JSON type as a field type, or -1 for an expression. */
static int constant_type(const cJSON *v)
{
	if (cJSON_IsString(v))
		return string_literal(v->valuestring) ? LUONG_FIELD_STRING : -1;
	if (cJSON_IsBool(v))
		return LUONG_FIELD_BOOL;
	if (cJSON_IsNumber(v))
		return v->valuedouble == floor(v->valuedouble)
			       ? LUONG_FIELD_INTEGER
			       : LUONG_FIELD_NUMBER;
	if (cJSON_IsObject(v))
		return LUONG_FIELD_OBJECT;
	if (cJSON_IsArray(v))
		return LUONG_FIELD_ARRAY;
	return -1;
}

static bool type_fits(uint32_t want, int got)
{
	return got < 0 || want == LUONG_FIELD_ANY || (int)want == got ||
	       (want == LUONG_FIELD_NUMBER && got == LUONG_FIELD_INTEGER);
}

static const char *const type_words[] = { "any value",	   "a string",
					  "a number",	   "a whole number",
					  "true or false", "an object",
					  "an array" };

static const char *type_word(uint32_t t)
{
	return t <= LUONG_FIELD_ARRAY ? type_words[t] : "?";
}

void flow_check_inputs(const char *file, const char *path, const char *what,
		       const cJSON *input, const struct luong_field_def *decl,
		       struct flow_errors *errs)
{
	char known[400];
	const struct luong_field_def *f;

	/* a whole input computed by one expression is known at run time */
	if (!decl || !cJSON_IsObject(input))
		return;
	names(decl, known, sizeof(known));
	for (const cJSON *c = input->child; c; c = c->next) {
		f = find_decl(decl, c->string, strlen(c->string));
		if (!f) {
			flow_errors_add(errs,
					_("%s: %s.%s: %s takes no input "
					  "\"%s\" (it takes: %s)"),
					file, path, c->string, what, c->string,
					known);
		} else if (cJSON_IsNull(c) &&
			   (f->flags & LUONG_FIELD_REQUIRED)) {
			flow_errors_add(errs,
					_("%s: %s.%s: %s requires \"%s\" "
					  "(%s); null is no value"),
					file, path, c->string, what, f->name,
					type_word(f->type));
		} else if (!cJSON_IsNull(c) &&
			   !type_fits(f->type, constant_type(c))) {
			flow_errors_add(errs,
					_("%s: %s.%s: %s takes %s here, "
					  "the constant is not"),
					file, path, c->string, what,
					type_word(f->type));
		}
	}
	for (f = decl; f->name; f++)
		if ((f->flags & LUONG_FIELD_REQUIRED) &&
		    !cJSON_GetObjectItemCaseSensitive(input, f->name))
			flow_errors_add(errs,
					_("%s: %s: %s requires input "
					  "\"%s\" (%s%s%s), which is not "
					  "mapped"),
					file, path, what, f->name,
					type_word(f->type),
					f->description ? ": " : "",
					f->description ? f->description : "");
}

/* Whether p starts a path on the document itself: `.name` at the start of
 * the expression or after an operator, not `$x.name`, `.a.name` or
 * `f(.x).name`. */
static bool reads_document(const char *start, const char *p)
{
	const char *q = p, *w;

	while (q > start && q[-1] == ' ')
		q--;
	if (q == start)
		return true;
	if (strchr("(,{:=!<>+-*/[", q[-1]))
		return true;
	/* after a keyword (`and`, `or`, `not`, `if`, `then`, `else`,
	 * `elif`), not after a name such as $vendor */
	for (w = q; w > start && (isalnum((unsigned char)w[-1]) ||
				  w[-1] == '_' || w[-1] == '$');
	     w--)
		;
	if (q == p || *w == '$' || (w > start && w[-1] == '.'))
		return false;
	for (const char *const *k =
		     (const char *const[]){ "and", "or", "not", "if", "then",
					    "else", "elif", NULL };
	     *k; k++)
		if ((size_t)(q - w) == strlen(*k) && !strncmp(w, *k, q - w))
			return true;
	return false;
}

void flow_check_reads(const char *file, const char *path, const char *what,
		      const char *expr, const struct luong_field_def *fields,
		      struct flow_errors *warns)
{
	char known[400];
	bool in_str = false;
	int depth = 0, piped = -1; /* depth of the pipe that left the doc */

	if (!fields || !expr)
		return;
	names(fields, known, sizeof(known));
	for (const char *p = expr; *p; p++) {
		if (in_str) {
			if (*p == '\\' && p[1])
				p++;
			else if (*p == '"')
				in_str = false;
			continue;
		}
		if (*p == '"') {
			in_str = true;
		} else if (*p == '(' || *p == '[' || *p == '{') {
			depth++;
		} else if (*p == ')' || *p == ']' || *p == '}') {
			if (--depth < piped)
				piped = -1;
		} else if (*p == '|' && p[1] != '=' && piped < 0) {
			/* past a pipe, `.` is no longer the document until
			 * its group closes */
			piped = depth;
		} else if (*p == '.' && piped < 0 &&
			   (isalpha((unsigned char)p[1]) || p[1] == '_') &&
			   reads_document(expr, p)) {
			size_t n = 1;

			while (isalnum((unsigned char)p[n]) || p[n] == '_')
				n++;
			if (!find_decl(fields, p + 1, n - 1))
				flow_errors_add(warns,
						_("%s: %s: warning: reads "
						  ".%.*s, which %s never has "
						  "(it has: %s)"),
						file, path, (int)(n - 1), p + 1,
						what, known);
			p += n - 1;
		}
	}
}

void flow_check_template_reads(const char *file, const char *path,
			       const char *what, const cJSON *t,
			       const struct luong_field_def *fields,
			       struct flow_errors *warns)
{
	char p[256];
	int i = 0;

	if (!fields)
		return;
	if (cJSON_IsString(t) && !string_literal(t->valuestring)) {
		flow_check_reads(file, path, what, t->valuestring, fields,
				 warns);
		return;
	}
	for (const cJSON *c = t ? t->child : NULL; c; c = c->next, i++) {
		if (cJSON_IsObject(t))
			snprintf(p, sizeof(p), "%s.%s", path, c->string);
		else
			snprintf(p, sizeof(p), "%s[%d]", path, i);
		flow_check_template_reads(file, p, what, c, fields, warns);
	}
}

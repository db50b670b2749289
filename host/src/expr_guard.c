/*
 * expr_guard.c - what flow expressions may not use (see expr_int.h): the
 * refused jq builtins, the scan of an expression's text that finds them
 * with jq 1.6's lexical rules, and the failing definitions that shadow
 * them at run time.
 */
#define _GNU_SOURCE /* open_memstream */
#include "expr_int.h"
#include "i18n.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * A flow reads its document and its variables, nothing else: secrets reach
 * the host by environment reference, and a mapping that could read
 * `env.MISA_ACCESS_CODE` would send it to whoever receives the document.
 * These are jq 1.6's ways out of the document. They are refused at load
 * (expr_guard_check) and, should a way round the check ever be found, shadowed
 * at run time by definitions that fail (expr_guard_shadows) and a null $ENV.
 */
enum refused_kind { REF_FN, REF_FN01 /* also with one argument */, REF_KW };

static const struct refusal {
	const char *name;
	enum refused_kind kind;
	const char *why;
} refused[] = {
	{ "env", REF_FN, "it reads the host's environment" },
	{ "input", REF_FN, "it reads beyond the document" },
	{ "inputs", REF_FN, "it reads beyond the document" },
	{ "_input", REF_FN, "it reads beyond the document" },
	{ "input_filename", REF_FN, "it reads the host's input state" },
	{ "input_line_number", REF_FN, "it reads the host's input state" },
	{ "debug", REF_FN, "it writes to the host's log" },
	{ "stderr", REF_FN, "it writes to the host's log" },
	{ "halt", REF_FN, "it stops the expression without a result" },
	{ "halt_error", REF_FN01, "it stops the expression without a result" },
	{ "get_search_list", REF_FN, "it reads the host's module paths" },
	{ "get_prog_origin", REF_FN, "it reads the host's folders" },
	{ "get_jq_origin", REF_FN, "it reads the host's folders" },
	{ "modulemeta", REF_FN, "it reads module files" },
	/* valid only at the top of a program, which a flow's expression never
     * is; said plainly rather than as a syntax error */
	{ "import", REF_KW, "it loads files" },
	{ "include", REF_KW, "it loads files" },
	{ "module", REF_KW, "flow expressions are not modules" },
};

#define N_REFUSED (sizeof(refused) / sizeof(refused[0]))

char *expr_guard_shadows(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		abort();
	for (size_t i = 0; i < N_REFUSED; i++) {
		const struct refusal *r = &refused[i];
		if (r->kind == REF_KW)
			continue; /* keywords cannot be defined */
		fprintf(f,
			" def %s: error(\"%s is not available in flow "
			"expressions\");",
			r->name, r->name);
		if (r->kind == REF_FN01)
			fprintf(f,
				" def %s($_): error(\"%s is not available in "
				"flow expressions\");",
				r->name, r->name);
	}
	if (fclose(f))
		abort();
	return text;
}

/* A scan of the user's text with jq 1.6's lexical rules: comments, strings
 * and their \(...) interpolations, fields (.env is data), object keys
 * ({env: 1} is data), $ with blanks before the name (`$ ENV` is $ENV). */
struct scan {
	const char *p;
	int line;
	int depth; /* strings within interpolations */
	int refused;
	char *err;
	size_t errlen;
};

#define MAX_STRING_DEPTH 64

static int id_start(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int id_char(int c)
{
	return id_start(c) || (c >= '0' && c <= '9');
}

static int digit(int c)
{
	return c >= '0' && c <= '9';
}

static size_t word_len(const char *p)
{
	size_t n = 0;
	if (!id_start((unsigned char)p[0]))
		return 0;
	while (id_char((unsigned char)p[n]))
		n++;
	return n;
}

/* jq's IDENT: words joined by "::" (module members) */
static size_t ident_len(const char *p)
{
	size_t n = word_len(p);
	while (n && p[n] == ':' && p[n + 1] == ':' && word_len(p + n + 2))
		n += 2 + word_len(p + n + 2);
	return n;
}

static const char *number_end(const char *p)
{
	while (digit(*p))
		p++;
	if (*p == '.')
		for (p++; digit(*p); p++)
			;
	if ((*p == 'e' || *p == 'E') &&
	    (digit(p[1]) || ((p[1] == '+' || p[1] == '-') && digit(p[2]))))
		for (p += 2; digit(*p); p++)
			;
	return p;
}

static void skip_blank(struct scan *s)
{
	for (;;) {
		if (*s->p == '\n') {
			s->line++;
			s->p++;
		} else if (*s->p == ' ' || *s->p == '\t' || *s->p == '\r' ||
			   *s->p == '\f' || *s->p == '\v') {
			s->p++;
		} else if (*s->p == '#') {
			while (*s->p && *s->p != '\n')
				s->p++;
		} else {
			return;
		}
	}
}

__attribute__((format(printf, 2, 3))) static void refuse(struct scan *s,
							 const char *fmt, ...)
{
	if (s->refused++)
		return;
	char what[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (s->err && s->errlen)
		snprintf(s->err, s->errlen, _("%s at <top-level>, line %d"),
			 what, s->line);
}

static void check_name(struct scan *s, const char *name, size_t len, int var)
{
	const char *sigil = var ? "$" : "";
	if (memchr(name, ':', len)) { /* only in a::b */
		refuse(s,
		       "%s%.*s: modules are not available in flow expressions",
		       sigil, (int)len, name);
	} else if (var && len >= 2 && !memcmp(name, "__", 2)) {
		refuse(s, "$%.*s is reserved for the host", (int)len, name);
	} else if (var && len == 3 && !memcmp(name, "ENV", 3)) {
		refuse(s, "$ENV is not available in flow expressions (it reads "
			  "the host's environment)");
	} else if (!var) {
		for (size_t i = 0; i < N_REFUSED; i++)
			if (strlen(refused[i].name) == len &&
			    !memcmp(refused[i].name, name, len))
				refuse(s,
				       "%s is not available in flow "
				       "expressions (%s)",
				       refused[i].name, refused[i].why);
	}
}

/* Whether the next token ends an object key: {env: 1}, {env} or {env, ...} */
static int key_follows(const struct scan *s)
{
	struct scan peek = *s;
	skip_blank(&peek);
	return *peek.p == ':' || *peek.p == ',' || *peek.p == '}';
}

static void scan_code(struct scan *s, int interp);

/* At the character after the opening quote; stops past the closing one. */
static void scan_string(struct scan *s)
{
	if (++s->depth > MAX_STRING_DEPTH)
		refuse(s, "strings nested in interpolations more than %d deep",
		       MAX_STRING_DEPTH);
	while (!s->refused && *s->p) {
		char c = *s->p++;
		if (c == '"')
			break;
		if (c == '\n') {
			s->line++;
		} else if (c == '\\' && *s->p == '(') {
			s->p++;
			scan_code(s, 1);
		} else if (c == '\\' && *s->p) {
			if (*s->p == '\n')
				s->line++;
			s->p++;
		}
	}
	s->depth--;
}

/* Brackets opened in one stretch of code: ( [ { and if...end. Only whether
 * the innermost is a brace matters; past the array's size, depth is
 * counted and the innermost taken as no brace. */
struct brackets {
	char open[64];
	int n, deeper;
};

static void br_push(struct brackets *b, char c)
{
	if (b->deeper || b->n == (int)sizeof(b->open))
		b->deeper++;
	else
		b->open[b->n++] = c;
}

static void br_pop(struct brackets *b)
{
	if (b->deeper)
		b->deeper--;
	else if (b->n)
		b->n--;
}

static char br_top(const struct brackets *b)
{
	return b->deeper || !b->n ? 0 : b->open[b->n - 1];
}

static void scan_word(struct scan *s, struct brackets *b, int key_may_follow)
{
	const char *w = s->p;
	size_t len = ident_len(w);
	s->p += len;
	if (key_may_follow && br_top(b) == '{' && key_follows(s))
		return; /* an object key or field: data */
	check_name(s, w, len, 0);
	if (len == 2 && !memcmp(w, "if", 2))
		br_push(b, 'i');
	else if (len == 3 && !memcmp(w, "end", 3) && br_top(b) == 'i')
		br_pop(b);
}

/* Scans code up to the end of the text or, in an interpolation, past the
 * parenthesis that closes it. */
static void scan_code(struct scan *s, int interp)
{
	struct brackets b = { .n = 0 };
	int key_may_follow = 0; /* after { or , */
	while (!s->refused) {
		skip_blank(s);
		const char *t = s->p;
		int after_key_sep = 0;
		if (!*t)
			return;
		if (*t == '"') {
			s->p++;
			scan_string(s);
		} else if (*t == '$') {
			s->p++;
			skip_blank(s);
			size_t len = ident_len(s->p);
			check_name(s, s->p, len, 1);
			s->p += len;
		} else if (t[0] == '.' && t[1] == '.') {
			s->p += 2;
		} else if (t[0] == '.' && id_start((unsigned char)t[1])) {
			s->p += 1 + word_len(t + 1);
		} else if (digit(*t) || (t[0] == '.' && digit(t[1]))) {
			s->p = number_end(t);
		} else if (*t == '@') {
			for (s->p++; id_char((unsigned char)*s->p); s->p++)
				;
		} else if (id_start((unsigned char)*t)) {
			scan_word(s, &b, key_may_follow);
		} else if (*t == '(' || *t == '[' || *t == '{') {
			br_push(&b, *t);
			after_key_sep = *t == '{';
			s->p++;
		} else if (*t == ')' || *t == ']' || *t == '}') {
			s->p++;
			if (interp && *t == ')' && !b.n && !b.deeper)
				return;
			br_pop(&b);
		} else {
			after_key_sep = *t == ',';
			s->p++;
		}
		key_may_follow = after_key_sep;
	}
}

int expr_guard_check(const char *src, char *err, size_t errlen)
{
	struct scan s = { .p = src, .line = 1, .err = err, .errlen = errlen };
	scan_code(&s, 0);
	return s.refused ? -1 : 0;
}

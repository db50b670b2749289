/*
 * fuzz_expr.c - the jq mapping layer with a fuzzed program: the input is
 * compiled as a flow expression, or as a template when it is a JSON
 * object, with the sandbox's mapping tables, then evaluated on a fixed
 * issue note.
 *
 * jq is a full language: a program may run for ever or grow without
 * bound, which is the flow author's doing and no memory error. Programs
 * naming a generator, recursion, repetition or a regular expression are
 * therefore compiled but not run, so a bounded run stays meaningful.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

static cJSON *doc, *vars;

static const char note[] =
	"{\"id\": 1, \"issue_note_no\": \"XK00001\","
	" \"issue_note_type\": \"sales_issue\","
	" \"issue_note_type_name\": \"Xuất kho bán hàng\","
	" \"issue_date\": \"2025-11-07\", \"stock_code\": \"KHO_HN\","
	" \"to_stock_code\": null, \"sale_order_no\": \"DH00004\","
	" \"account_number\": \"KH0004\","
	" \"account_name\": \"Shop Mẹ và Bé Ánh Dương\","
	" \"warehouse\": \"Hà Nội\", \"code\": 8,"
	" \"lines\": [{\"id\": 701, \"item_code\": \"SP005\","
	"   \"item_name\": \"Nước mắm Nam Ngư 750ml\", \"unit\": \"Chai\","
	"   \"quantity\": 12, \"unit_price\": 39500, \"amount\": 474000},"
	"  {\"id\": 702, \"item_code\": \"SP006\", \"quantity\": 1.5,"
	"   \"unit_price\": 1e15, \"amount\": -0}],"
	" \"total_amount\": 474000, \"accounting_error\": null,"
	" \"flags\": [true, false]}";

static const char note_vars[] =
	"{\"steps\": {\"voucher\": {\"org_refid\": \"w3:voucher:XK00001\","
	" \"refno\": \"XK0000125\"}}, \"document_id\": \"XK00001\","
	" \"event\": \"issue_note.saved\", \"connection\": \"kho\","
	" \"flow\": \"issue-note-to-accounting\"}";

static const char *const unbounded[] = {
	"range", "repeat", "while",	   "until", "recurse", "def",
	"*",	 "limit",  "combinations", "test",  "match",   "capture",
	"scan",	 "split",  "sub",	   "input", NULL,
};

static bool may_run(const char *src)
{
	for (int i = 0; unbounded[i]; i++)
		if (strstr(src, unbounded[i]))
			return false;
	return true;
}

static void on_error(void *ud, const char *path, const char *msg)
{
	fuzz_sink += strlen(path) + strlen(msg);
}

static void run(struct expr *e)
{
	cJSON *out = NULL;
	char err[512];
	char *text;

	if (!expr_eval(e, doc, vars, &out, err, sizeof(err))) {
		text = cJSON_PrintUnformatted(out);
		fuzz_sink += text ? strlen(text) : 0;
		free(text);
	}
	cJSON_Delete(out);
	fuzz_sink += (size_t)expr_test(e, doc, vars, err, sizeof(err));
}

/* What flow_load.c asks of a source: the tables and steps it names. */
static void scan_names(const char *src)
{
	char **names;
	int n = expr_lookup_tables(src, &names);

	if (n >= 0)
		expr_names_free(names, n);
	n = expr_step_refs(src, &names);
	if (n >= 0)
		expr_names_free(names, n);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_dir();
	doc = cJSON_Parse(note);
	vars = cJSON_Parse(note_vars);
	return 0;
}

static struct expr *compile(const char *src, const cJSON *tmpl)
{
	char err[512];

	if (tmpl)
		return expr_compile_template_all(tmpl, fuzz_tables(),
						 "$.steps[0].input", on_error,
						 NULL);
	return expr_compile(src, fuzz_tables(), err, sizeof(err));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *src = fuzz_strndup(data, size);
	cJSON *tmpl = src[0] == '{' ? cJSON_Parse(src) : NULL;
	bool leaky = tmpl ? fuzz_jq_may_leak_all(tmpl) : fuzz_jq_may_leak(src);
	struct expr *e;

	fuzz_leaks_ignore(leaky);
	e = compile(src, tmpl);
	fuzz_leaks_ignore(false);
	if (leaky && e) {
		expr_free(e);
		e = compile(src, tmpl);
	}
	if (!tmpl)
		scan_names(src);
	if (e && may_run(src))
		run(e);
	expr_free(e);
	cJSON_Delete(tmpl);
	free(src);
	return 0;
}

/* test_expr.c - jq expressions: compile errors, templates, lookup, vars. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The module itself, not only its header: the run-time shadows are tested
 * through compile_body, without the load-time check in front of them. */
#include "../../host/src/expr.c"
#include "../../host/src/expr_guard.c"

static cJSON *J(const char *text)
{
	cJSON *j = cJSON_Parse(text);
	ck_assert_msg(j != NULL, "bad test JSON: %s", text);
	return j;
}

/* Evaluates src on doc text and returns the compact JSON of the result. */
static char *eval_str(const char *src, const char *doc_text,
		      const char *vars_text, const char *tables_text)
{
	char err[512] = "";
	cJSON *tables = tables_text ? J(tables_text) : NULL;
	struct expr *e = expr_compile(src, tables, err, sizeof(err));
	ck_assert_msg(e != NULL, "compile %s: %s", src, err);
	cJSON *doc = J(doc_text);
	cJSON *vars = vars_text ? J(vars_text) : NULL;
	cJSON *out = NULL;
	int rc = expr_eval(e, doc, vars, &out, err, sizeof(err));
	ck_assert_msg(rc == 0, "eval %s: %s", src, err);
	char *s = cJSON_PrintUnformatted(out);
	cJSON_Delete(out);
	cJSON_Delete(doc);
	cJSON_Delete(vars);
	cJSON_Delete(tables);
	expr_free(e);
	return s;
}

#define ck_eval(src, doc, vars, tables, want)                                  \
	do {                                                                   \
		char *got_ = eval_str(src, doc, vars, tables);                 \
		ck_assert_str_eq(got_, want);                                  \
		free(got_);                                                    \
	} while (0)

static const char tables_text[] = "{\"warehouses\": {\"Hà Nội\": \"KHO_HN\", "
				  "\"Hồ Chí Minh\": \"KHO_HCM\"},"
				  " \"vat_codes\": {\"8\": \"THUE_8\", \"10\": "
				  "\"THUE_10\"}}";

START_TEST(compile_error_has_jq_text)
{
	char err[512] = "";
	struct expr *e = expr_compile(".a |||", NULL, err, sizeof(err));
	ck_assert_ptr_null(e);
	ck_assert_str_eq(err, "syntax error, unexpected '|' (Unix shell "
			      "quoting "
			      "issues?) at <top-level>, line 1");

	e = expr_compile(".a | frobnicate(1)", NULL, err, sizeof(err));
	ck_assert_ptr_null(e);
	ck_assert_str_eq(err, "frobnicate/1 is not defined at <top-level>, "
			      "line 1");

	e = expr_compile(".a\n| $nope", NULL, err, sizeof(err));
	ck_assert_ptr_null(e);
	ck_assert_str_eq(err, "$nope is not defined at <top-level>, line 2");

	e = expr_compile("  ", NULL, err, sizeof(err));
	ck_assert_ptr_null(e);
	ck_assert_str_eq(err, "empty expression (write . for the whole "
			      "document)");
}
END_TEST

START_TEST(plain_values)
{
	ck_eval(".a", "{\"a\": [1, \"x\", null, true]}", NULL, NULL,
		"[1,\"x\",null,true]");
	ck_eval("{b: .a, a: 1}", "{\"a\": 2}", NULL, NULL, "{\"b\":2,\"a\":1}");
	/* a trailing comment must not swallow the wrapper */
	ck_eval(".a # the amount", "{\"a\": 5}", NULL, NULL, "5");
}
END_TEST

START_TEST(template_shapes)
{
	char err[512] = "";
	cJSON *tmpl = J("{\"refdate\": \".date\", \"n\": 7, \"flag\": true,"
			" \"none\": null,"
			" \"customer\": {\"code\": \".cust\", \"tags\": "
			"[\".t\","
			" \"\\\"fixed\\\"\", 3]},"
			" \"detail\": \"[.lines[] | {sku: .sku, q: .qty}]\","
			" \"first_of_many\": \".lines[].sku\"}");
	struct expr *e = expr_compile_template(tmpl, NULL, "$.steps[0].input",
					       err, sizeof(err));
	ck_assert_msg(e != NULL, "%s", err);
	cJSON *doc = J("{\"date\": \"2026-03-01\", \"cust\": \"KH01\", \"t\": "
		       "9,"
		       " \"lines\": [{\"sku\": \"A\", \"qty\": 2},"
		       " {\"sku\": \"B\", \"qty\": 3}]}");
	cJSON *out = NULL;
	ck_assert_int_eq(expr_eval(e, doc, NULL, &out, err, sizeof(err)), 0);
	char *s = cJSON_PrintUnformatted(out);
	ck_assert_str_eq(s, "{\"refdate\":\"2026-03-01\",\"n\":7,\"flag\":true,"
			    "\"none\":null,\"customer\":{\"code\":\"KH01\","
			    "\"tags\":[9,\"fixed\",3]},\"detail\":[{\"sku\":"
			    "\"A\","
			    "\"q\":2},{\"sku\":\"B\",\"q\":3}],"
			    "\"first_of_many\":\"A\"}");
	free(s);
	cJSON_Delete(out);

	/* a leaf with no value names itself */
	cJSON_Delete(doc);
	doc = J("{\"date\": 1, \"lines\": []}");
	ck_assert_int_eq(expr_eval(e, doc, NULL, &out, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "$.steps[0].input.first_of_many: expression "
			      "produced no value");
	cJSON_Delete(doc);
	cJSON_Delete(tmpl);
	expr_free(e);
}
END_TEST

static void collect(void *ud, const char *path, const char *msg)
{
	char *buf = ud;
	size_t n = strlen(buf);
	snprintf(buf + n, 1024 - n, "%s: %s\n", path, msg);
}

START_TEST(template_errors_name_the_leaf)
{
	char err[512] = "";
	cJSON *tmpl = J("{\"a\": \".x\", \"b\": {\"c\": [\".y\", \".z |\"]},"
			" \"odd key\": \"nope(\"}");
	struct expr *e = expr_compile_template(tmpl, NULL, "$.steps[2].input",
					       err, sizeof(err));
	ck_assert_ptr_null(e);
	ck_assert_str_eq(err, "$.steps[2].input.b.c[1]: syntax error, "
			      "unexpected "
			      "$end (Unix shell quoting issues?) at "
			      "<top-level>, "
			      "line 1");
	char all[1024] = "";
	e = expr_compile_template_all(tmpl, NULL, "$", collect, all);
	ck_assert_ptr_null(e);
	ck_assert_msg(strstr(all, "$.b.c[1]: ") != NULL, "%s", all);
	ck_assert_msg(strstr(all, "$[\"odd key\"]: ") != NULL, "%s", all);
	cJSON_Delete(tmpl);
}
END_TEST

START_TEST(template_scalar_root)
{
	char err[256];
	cJSON *tmpl = J("\".a + 1\"");
	struct expr *e =
		expr_compile_template(tmpl, NULL, "$", err, sizeof(err));
	ck_assert_ptr_nonnull(e);
	cJSON *doc = J("{\"a\": 41}"), *out = NULL;
	ck_assert_int_eq(expr_eval(e, doc, NULL, &out, err, sizeof(err)), 0);
	ck_assert_double_eq(out->valuedouble, 42);
	cJSON_Delete(out);
	cJSON_Delete(doc);
	cJSON_Delete(tmpl);
	expr_free(e);
}
END_TEST

START_TEST(lookup_hit_and_miss)
{
	ck_eval("lookup(\"warehouses\"; .warehouse)",
		"{\"warehouse\": \"Hà Nội\"}", NULL, tables_text, "\"KHO_HN\"");
	/* numbers are looked up by their JSON text: VAT 8 finds "8" */
	ck_eval("lookup(\"vat_codes\"; .vat)", "{\"vat\": 8}", NULL,
		tables_text, "\"THUE_8\"");

	char err[512] = "";
	cJSON *tables = J(tables_text);
	struct expr *e = expr_compile("{w: lookup(\"warehouses\"; .warehouse)}",
				      tables, err, sizeof(err));
	cJSON_Delete(tables); /* the expression keeps its own copy */
	ck_assert_ptr_nonnull(e);
	cJSON *doc = J("{\"warehouse\": \"Hải Phòng\"}"), *out = NULL;
	ck_assert_int_eq(expr_eval(e, doc, NULL, &out, err, sizeof(err)), -1);
	ck_assert_ptr_null(out);
	ck_assert_str_eq(err, "mapping \"warehouses\" has no entry for "
			      "\"Hải Phòng\"");
	cJSON_Delete(doc);
	expr_free(e);

	e = expr_compile("lookup(\"units\"; .u)", NULL, err, sizeof(err));
	ck_assert_ptr_nonnull(e);
	doc = J("{\"u\": \"cái\"}");
	ck_assert_int_eq(expr_eval(e, doc, NULL, &out, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "unknown mapping table \"units\"");
	cJSON_Delete(doc);
	expr_free(e);
}
END_TEST

START_TEST(variables)
{
	const char *vars = "{\"steps\": {\"voucher\": {\"refid\": \"R-1\"}},"
			   " \"document_id\": \"PXK-0001\", \"event\":"
			   " \"issue_note.saved\", \"connection\": \"kho\","
			   " \"flow\": \"w3\"}";
	ck_eval("$steps.voucher.refid", "{}", vars, NULL, "\"R-1\"");
	ck_eval("$steps[\"voucher\"].refid", "{}", vars, NULL, "\"R-1\"");
	ck_eval("[$document_id, $event, $connection, $flow]", "{}", vars, NULL,
		"[\"PXK-0001\",\"issue_note.saved\",\"kho\",\"w3\"]");
	/* without vars, they are null rather than undefined */
	ck_eval("[$steps, $document_id]", "{}", NULL, NULL, "[null,null]");
}
END_TEST

START_TEST(vietnamese_strings)
{
	ck_eval("{ten: .name, dc: (.addr + \", Việt Nam\")}",
		"{\"name\": \"Công ty TNHH Thương mại Đông Á\","
		" \"addr\": \"Số 1 Phố Huế, Hà Nội\"}",
		NULL, NULL,
		"{\"ten\":\"Công ty TNHH Thương mại Đông Á\","
		"\"dc\":\"Số 1 Phố Huế, Hà Nội, Việt Nam\"}");
	ck_eval(".name | ascii_downcase | length", "{\"name\": \"Đồng\"}", NULL,
		NULL, "4");
}
END_TEST

START_TEST(big_integers)
{
	/* VND totals: whole đồng, well past 2^31 */
	ck_eval(".amount", "{\"amount\": 1000000000000}", NULL, NULL,
		"1000000000000");
	ck_eval(".q * .p", "{\"q\": 120000, \"p\": 8500000}", NULL, NULL,
		"1020000000000");
	/* cJSON prints 15 significant digits exactly */
	ck_eval(".n - 1", "{\"n\": 999999999999999}", NULL, NULL,
		"999999999999998");
	/* 2^53 is the last exact integer in a double: exact in value */
	char err[128];
	struct expr *e = expr_compile(".n + 1", NULL, err, sizeof(err));
	cJSON *doc = J("{\"n\": 9007199254740991}"), *out = NULL;
	ck_assert_int_eq(expr_eval(e, doc, NULL, &out, err, sizeof(err)), 0);
	ck_assert(out->valuedouble == 9007199254740992.0);
	cJSON_Delete(out);
	cJSON_Delete(doc);
	expr_free(e);
}
END_TEST

START_TEST(when_truthiness)
{
	char err[256];
	struct expr *e = expr_compile(".type == \"sales_issue\" or .type == "
				      "\"other_issue\"",
				      NULL, err, sizeof(err));
	ck_assert_ptr_nonnull(e);
	cJSON *a = J("{\"type\": \"sales_issue\"}");
	cJSON *b = J("{\"type\": \"transfer\"}");
	ck_assert_int_eq(expr_test(e, a, NULL, err, sizeof(err)), 1);
	ck_assert_int_eq(expr_test(e, b, NULL, err, sizeof(err)), 0);
	expr_free(e);

	const char *cases[][2] = {
		{ ".x", "0" },	  { "null", "0" },  { "false", "0" },
		{ "empty", "0" }, { "0", "1" },	    { "\"\"", "1" },
		{ "[]", "1" },	  { ".type", "1" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		e = expr_compile(cases[i][0], NULL, err, sizeof(err));
		ck_assert_ptr_nonnull(e);
		ck_assert_int_eq(expr_test(e, a, NULL, err, sizeof(err)),
				 atoi(cases[i][1]));
		expr_free(e);
	}
	e = expr_compile(".type | error", NULL, err, sizeof(err));
	ck_assert_int_eq(expr_test(e, a, NULL, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "sales_issue");
	expr_free(e);
	cJSON_Delete(a);
	cJSON_Delete(b);
}
END_TEST

START_TEST(static_scans)
{
	char **names;
	int n = expr_lookup_tables("{a: lookup(\"warehouses\"; .w), b: lookup( "
				   "\"vat_codes\" ; .v), c: lookup($t; .x),"
				   " d: mylookup(\"no\"; 1)}",
				   &names);
	ck_assert_int_eq(n, 2);
	ck_assert_str_eq(names[0], "warehouses");
	ck_assert_str_eq(names[1], "vat_codes");
	expr_names_free(names, n);

	n = expr_step_refs("$steps.voucher.refid + $steps[\"mark-it\"] +"
			   " $steps.\"q\" + $stepsx",
			   &names);
	ck_assert_int_eq(n, 3);
	ck_assert_str_eq(names[0], "voucher");
	ck_assert_str_eq(names[1], "mark-it");
	ck_assert_str_eq(names[2], "q");
	expr_names_free(names, n);
}
END_TEST

/* Each way out of the document is refused at compile time, with its line,
 * however it is spelled. */
START_TEST(refuses_ways_out_of_the_document)
{
	static const char *const srcs[] = {
		"env",
		"env.MISA_ACCESS_CODE",
		"env | .X",
		"env[\"X\"]",
		"$ENV.X",
		"$ENV",
		"$ ENV.X",
		"$ # note\nENV | .X",
		"{$ENV}",
		". as {$ENV} | 1",
		"input",
		"inputs",
		"_input",
		"[limit(1; inputs)]",
		"input_filename",
		"input_line_number",
		"debug",
		".a | debug",
		"stderr",
		"halt",
		"halt_error",
		"halt_error(1)",
		"get_search_list",
		"get_prog_origin",
		"get_jq_origin",
		"\"m\" | modulemeta",
		"import \"x\" as $x; .",
		"include \"x\"; .",
		"module {}; .",
		"$__loc__",
		"$ __loc__",
		"$__prog_args",
		"$__tables",
		"m::f",
		"$m::d",
		"\"\\(env)\"",
		"\"a\\(\"b\\(env.X)\")\"",
		"@base64 \"\\(env)\"",
		"\"\\((1)|env)\"",
		".a | {b: env}",
		"{a: 1 | env}",
		"{(env | tostring): 1}",
		"[1, env]",
		"{a: 1, b: (1, env)}",
		"{a: [env]}",
		"def f: env; f",
		"def f(env): 1; f(2)",
		"# env\nenv",
		"1e5 | env",
		"..|env",
		".a as $x | env",
		"{env: 1, b: env}",
		"\"\\\\\" + (env|tostring)",
		"if . then env else 1 end",
		"reduce env as $x (0; .)",
		"(1, env)",
		"{a: (if . then {env} else env end)}",
	};
	for (size_t i = 0; i < sizeof(srcs) / sizeof(srcs[0]); i++) {
		char err[512] = "";
		struct expr *e = expr_compile(srcs[i], NULL, err, sizeof(err));
		ck_assert_msg(e == NULL, "compiled: %s", srcs[i]);
		ck_assert_msg(strstr(err, "not available in flow "
					  "expressions") ||
				      strstr(err, "is reserved for the host"),
			      "%s: %s", srcs[i], err);
	}
}
END_TEST

START_TEST(refusal_names_builtin_reason_and_line)
{
	char err[512] = "";
	ck_assert_ptr_null(expr_compile(".memo\n| env.MISA_ACCESS_CODE", NULL,
					err, sizeof(err)));
	ck_assert_str_eq(err, "env is not available in flow expressions (it "
			      "reads the host's environment) at <top-level>, "
			      "line 2");
	ck_assert_ptr_null(
		expr_compile("\"x\"\n+\n$ENV.X", NULL, err, sizeof(err)));
	ck_assert_str_eq(err, "$ENV is not available in flow expressions (it "
			      "reads the host's environment) at <top-level>, "
			      "line 3");
	ck_assert_ptr_null(expr_compile("$__loc__", NULL, err, sizeof(err)));
	ck_assert_str_eq(err, "$__loc__ is reserved for the host at "
			      "<top-level>, line 1");
	ck_assert_ptr_null(expr_compile("m::f", NULL, err, sizeof(err)));
	ck_assert_str_eq(err, "m::f: modules are not available in flow "
			      "expressions at <top-level>, line 1");
	ck_assert_ptr_null(expr_compile(".a | stderr", NULL, err, sizeof(err)));
	ck_assert_str_eq(err, "stderr is not available in flow expressions (it "
			      "writes to the host's log) at <top-level>, line "
			      "1");
}
END_TEST

/* Every refused builtin, by its own name. */
START_TEST(refuses_each_listed_builtin)
{
	for (size_t i = 0; i < N_REFUSED; i++) {
		char err[512] = "", want[256];
		ck_assert_ptr_null(
			expr_compile(refused[i].name, NULL, err, sizeof(err)));
		snprintf(want, sizeof(want),
			 "%s is not available in flow "
			 "expressions (%s) at <top-level>, line 1",
			 refused[i].name, refused[i].why);
		ck_assert_str_eq(err, want);
	}
}
END_TEST

/* The same words as data are fine: strings, fields, object keys. */
START_TEST(allows_the_words_as_data)
{
	const char *doc = "{\"env\": 1, \"input\": 2, \"$ENV\": 3, \"a\": 4}";
	ck_eval("\"env\"", doc, NULL, NULL, "\"env\"");
	ck_eval(".env", doc, NULL, NULL, "1");
	ck_eval(".\"env\" + .input", doc, NULL, NULL, "3");
	ck_eval(".[\"$ENV\"]", doc, NULL, NULL, "3");
	ck_eval("{env: .a, input, debug: 1, \"halt\": 2, module: 3}", doc, NULL,
		NULL,
		"{\"env\":4,\"input\":2,\"debug\":1,\"halt\":2,"
		"\"module\":3}");
	ck_eval("{a: 1, env}", doc, NULL, NULL, "{\"a\":1,\"env\":1}");
	ck_eval(".a # env and $ENV\n", doc, NULL, NULL, "4");
	ck_eval("\"\\\\(env) $ENV \\\" env\"", doc, NULL, NULL,
		"\"\\\\(env) $ENV \\\" env\"");
	ck_eval(". as {env: $e} | $e + .environment", doc, NULL, NULL, "1");
	ck_eval(".a as $env | $env", doc, NULL, NULL, "4");
	ck_eval("\"\\(.a) \\(\"env\")\"", doc, NULL, NULL, "\"4 env\"");
	ck_eval("def envelope: .a; envelope", doc, NULL, NULL, "4");
	ck_eval("{if: 1, end: 2} | .end", doc, NULL, NULL, "2");
}
END_TEST

/* Behind the check: were a name to slip through, it still fails. */
START_TEST(shadowed_at_run_time)
{
	cJSON *doc = J("{\"a\": 1}");
	for (size_t i = 0; i <= N_REFUSED; i++) {
		char src[64], err[512] = "", want[128];
		const char *name =
			i < N_REFUSED ? refused[i].name : "halt_error";
		if (i < N_REFUSED && refused[i].kind == REF_KW)
			continue;
		snprintf(src, sizeof(src), i < N_REFUSED ? "%s" : "%s(5)",
			 name);
		struct expr *e = compile_body(src, NULL, err, sizeof(err));
		ck_assert_msg(e != NULL, "%s: %s", src, err);
		cJSON *out = NULL;
		ck_assert_int_eq(
			expr_eval(e, doc, NULL, &out, err, sizeof(err)), -1);
		snprintf(want, sizeof(want),
			 "%s is not available in flow "
			 "expressions",
			 name);
		ck_assert_str_eq(err, want);
		expr_free(e);
	}
	struct expr *e = compile_body("[$ENV, $ENV.HOME]", NULL, NULL, 0);
	cJSON *out = NULL;
	char err[256];
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(expr_eval(e, doc, NULL, &out, err, sizeof(err)), 0);
	char *s = cJSON_PrintUnformatted(out);
	ck_assert_str_eq(s, "[null,null]");
	free(s);
	cJSON_Delete(out);
	expr_free(e);
	cJSON_Delete(doc);
}
END_TEST

/* A template leaf is refused under its own path, without a compile. */
START_TEST(template_refusal_names_the_leaf)
{
	cJSON *tmpl = J("{\"memo\": \"env.MISA_ACCESS_CODE\","
			" \"ok\": \"\\\"env\\\"\","
			" \"lines\": [\".a\", \"$ENV.X\"]}");
	char all[1024] = "";
	struct expr *e = expr_compile_template_all(
		tmpl, NULL, "$.steps[0].input", collect, all);
	ck_assert_ptr_null(e);
	ck_assert_str_eq(all, "$.steps[0].input.memo: env is not available in "
			      "flow expressions (it reads the host's "
			      "environment) at <top-level>, line 1\n"
			      "$.steps[0].input.lines[1]: $ENV is not "
			      "available "
			      "in flow expressions (it reads the host's "
			      "environment) at <top-level>, line 1\n");
	cJSON_Delete(tmpl);
}
END_TEST

struct thread_arg {
	struct expr *e;
	int id;
	int failures;
};

static void *hammer(void *p)
{
	struct thread_arg *a = p;
	char err[256], want[64], doc_text[128];
	for (int i = 0; i < 300; i++) {
		snprintf(doc_text, sizeof(doc_text),
			 "{\"n\": %d, \"w\": \"Hà Nội\", \"t\": %d}", i, a->id);
		snprintf(want, sizeof(want),
			 "{\"k\":\"KHO_HN\",\"v\":%d,\"t\":%d}", i * 2, a->id);
		cJSON *doc = cJSON_Parse(doc_text), *out = NULL;
		if (expr_eval(a->e, doc, NULL, &out, err, sizeof(err)) == 0) {
			char *s = cJSON_PrintUnformatted(out);
			if (strcmp(s, want))
				a->failures++;
			free(s);
		} else {
			a->failures++;
		}
		cJSON_Delete(out);
		cJSON_Delete(doc);
	}
	return NULL;
}

START_TEST(concurrent_eval)
{
	char err[256];
	cJSON *tables = J(tables_text);
	cJSON *tmpl = J("{\"k\": \"lookup(\\\"warehouses\\\"; .w)\","
			" \"v\": \".n * 2\", \"t\": \".t\"}");
	struct expr *shared =
		expr_compile_template(tmpl, tables, "$", err, sizeof(err));
	ck_assert_ptr_nonnull(shared);
	struct expr *own[2];
	for (int i = 0; i < 2; i++) {
		own[i] = expr_compile_template(tmpl, tables, "$", err,
					       sizeof(err));
		ck_assert_ptr_nonnull(own[i]);
	}
	/* four threads on one expr, and two more on their own exprs */
	struct thread_arg args[6];
	pthread_t th[6];
	for (int i = 0; i < 6; i++) {
		args[i] = (struct thread_arg){ i < 4 ? shared : own[i - 4], i,
					       0 };
		ck_assert_int_eq(pthread_create(&th[i], NULL, hammer, &args[i]),
				 0);
	}
	for (int i = 0; i < 6; i++) {
		pthread_join(th[i], NULL);
		ck_assert_int_eq(args[i].failures, 0);
	}
	expr_free(shared);
	expr_free(own[0]);
	expr_free(own[1]);
	cJSON_Delete(tmpl);
	cJSON_Delete(tables);
}
END_TEST

static double now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

/* Prints the cost; not an assertion, machines differ (and sanitizers). */
START_TEST(measure_eval_cost)
{
	char err[256];
	cJSON *tables = J(tables_text);
	cJSON *tmpl =
		J("{\"voucher_type\": \"\\\"issue\\\"\", \"refno\": \".no\","
		  " \"refdate\": \".date\", \"stock_code\": "
		  "\"lookup(\\\"warehouses\\\";"
		  " .warehouse)\", \"customer\": \".customer.code\","
		  " \"customer_name\": \".customer.name\", \"document_id\":"
		  " \"$document_id\", \"total\": \"[.lines[] | .qty * .price] "
		  "| add\","
		  " \"vat\": \"lookup(\\\"vat_codes\\\"; .vat)\", \"detail\":"
		  " \"[.lines[] | {inventory_item_code: .sku, quantity: .qty,"
		  " unit_price: .price}]\"}");
	cJSON *doc = J("{\"no\": \"PXK-0001\", \"date\": \"2026-03-01\","
		       " \"warehouse\": \"Hà Nội\", \"vat\": 8, \"customer\":"
		       " {\"code\": \"KH001\", \"name\": \"Cửa hàng Minh "
		       "Anh\"},"
		       " \"lines\": [{\"sku\": \"SP01\", \"qty\": 10, "
		       "\"price\":"
		       " 125000}, {\"sku\": \"SP02\", \"qty\": 3, \"price\":"
		       " 990000}, {\"sku\": \"SP03\", \"qty\": 1, \"price\":"
		       " 45000}]}");
	cJSON *vars = J("{\"document_id\": \"PXK-0001\", \"steps\": {}}");
	double t0 = now_us();
	struct expr *e =
		expr_compile_template(tmpl, tables, "$", err, sizeof(err));
	double t1 = now_us();
	ck_assert_msg(e != NULL, "%s", err);
	struct expr *plain = expr_compile(".no", tables, err, sizeof(err));
	double t2 = now_us();
	const int n = 2000;
	for (int i = 0; i < n; i++) {
		cJSON *out = NULL;
		ck_assert_int_eq(
			expr_eval(e, doc, vars, &out, err, sizeof(err)), 0);
		cJSON_Delete(out);
	}
	double t3 = now_us();
	printf("expr: compile 10-field template %.1f ms (one jq compile), one "
	       "expression %.1f ms; eval %.1f us per "
	       "10-field template (%d runs)\n",
	       (t1 - t0) / 1e3, (t2 - t1) / 1e3, (t3 - t2) / n, n);
	expr_free(e);
	expr_free(plain);
	cJSON_Delete(vars);
	cJSON_Delete(doc);
	cJSON_Delete(tmpl);
	cJSON_Delete(tables);
}
END_TEST

/* link(): a link the caller has not given is asked for (and is null
 * meanwhile, even behind //); given, it is read, by its query's text. */
START_TEST(link_asks_for_what_it_lacks_then_reads_it)
{
	char err[512] = "";
	struct expr *e = expr_compile("[link(\"misa\"; \"issue_voucher\").id "
				      "// \"none\","
				      " link(\"crm\"; \"order\"; .so)]",
				      NULL, err, sizeof(err));
	ck_assert_msg(e != NULL, "%s", err);
	cJSON *doc = J("{\"so\": \"DH1\"}"), *out = NULL, *wants = NULL;
	ck_assert_int_eq(expr_eval_links(e, doc, NULL, &out, &wants, err,
					 sizeof(err)),
			 0);
	char *got = cJSON_PrintUnformatted(out);
	ck_assert_str_eq(got, "[\"none\",null]");
	free(got);
	cJSON_Delete(out);
	ck_assert_int_eq(cJSON_GetArraySize(wants), 2);
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(wants, 0), "ke"
									   "y")
				 ->valuestring,
			 "[\"misa\",\"issue_voucher\",null]");
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(wants, 1), "ke"
									   "y")
				 ->valuestring,
			 "[\"crm\",\"order\",\"DH1\"]");
	cJSON_Delete(wants);
	cJSON *vars = J("{\"links\": "
			"{\"[\\\"misa\\\",\\\"issue_voucher\\\",null]\":"
			" {\"id\": \"R1\"}, "
			"\"[\\\"crm\\\",\\\"order\\\",\\\"DH1\\\"]\":"
			" null}}");
	ck_assert_int_eq(expr_eval_links(e, doc, vars, &out, &wants, err,
					 sizeof(err)),
			 0);
	ck_assert_ptr_null(wants);
	got = cJSON_PrintUnformatted(out);
	ck_assert_str_eq(got, "[\"R1\",null]");
	free(got);
	cJSON_Delete(out);
	cJSON_Delete(vars);
	cJSON_Delete(doc);
	expr_free(e);
}
END_TEST

/* Found by the fuzzer: libjq 1.6 aborts when a state is started again
 * in the middle of a path expression that gave more than one output. */
START_TEST(path_generator_evaluated_again_does_not_abort)
{
	char err[256];
	struct expr *e = expr_compile("paths", NULL, err, sizeof(err));
	cJSON *doc = cJSON_Parse("{\"a\":{\"b\":1},\"c\":[2,3]}");
	cJSON *out = NULL;

	ck_assert_msg(e != NULL, "%s", err);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(
			expr_eval(e, doc, NULL, &out, err, sizeof(err)), 0);
		ck_assert_str_eq(out->child->valuestring, "a");
		cJSON_Delete(out);
		out = NULL;
		ck_assert_int_eq(expr_test(e, doc, NULL, err, sizeof(err)), 1);
	}
	cJSON_Delete(doc);
	expr_free(e);
}
END_TEST

static Suite *expr_suite(void)
{
	Suite *s = suite_create("expr");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, compile_error_has_jq_text);
	tcase_add_test(tc, plain_values);
	tcase_add_test(tc, template_shapes);
	tcase_add_test(tc, template_errors_name_the_leaf);
	tcase_add_test(tc, template_scalar_root);
	tcase_add_test(tc, lookup_hit_and_miss);
	tcase_add_test(tc, variables);
	tcase_add_test(tc, vietnamese_strings);
	tcase_add_test(tc, big_integers);
	tcase_add_test(tc, when_truthiness);
	tcase_add_test(tc, static_scans);
	tcase_add_test(tc, refuses_ways_out_of_the_document);
	tcase_add_test(tc, refusal_names_builtin_reason_and_line);
	tcase_add_test(tc, refuses_each_listed_builtin);
	tcase_add_test(tc, allows_the_words_as_data);
	tcase_add_test(tc, shadowed_at_run_time);
	tcase_add_test(tc, template_refusal_names_the_leaf);
	tcase_add_test(tc, concurrent_eval);
	tcase_add_test(tc, link_asks_for_what_it_lacks_then_reads_it);
	tcase_add_test(tc, measure_eval_cost);
	tcase_add_test(tc, path_generator_evaluated_again_does_not_abort);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(expr_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

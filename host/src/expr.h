/*
 * expr: field mapping and trigger filters in jq (libjq 1.6).
 *
 * Every expression is compiled once, at flow load, into its own jq program
 * (a jq_state). Evaluation converts the cJSON document to jq values directly
 * (no text round trip), runs the program and converts the first output back.
 *
 * Numbers: jq holds every number as an IEEE double, so integers are exact
 * only up to 2^53 (9,007,199,254,740,992). VND amounts (whole đồng, up to
 * 10^12 and far beyond) are exact; identifiers longer than 15 digits must
 * travel as strings.
 *
 * Variables bound in every expression: $steps (object: outputs of earlier
 * steps, by step id), $document_id, $event, $connection, $flow. Missing ones
 * are null.
 *
 * Only the document and these variables can be read: jq's ways out of the
 * document (env, $ENV, input, inputs, input_filename, input_line_number,
 * debug, stderr, halt, halt_error, get_search_list, get_prog_origin,
 * get_jq_origin, modulemeta, import, include, module::names) and variables
 * named $__... are refused at compile time with the reason and the line.
 *
 * Mapping tables: lookup("table"; key) returns tables[table][key] (a
 * non-string key is looked up as its JSON text, so 8 finds "8"); a missing
 * key raises the error `mapping "table" has no entry for "key"`.
 *
 * Threading: compile and free from one thread; expr_eval and expr_test may
 * be called on the same expr from any number of threads (an internal mutex
 * serialises them per expr).
 */
#ifndef LUONG_EXPR_H
#define LUONG_EXPR_H

#include <stddef.h>
#include <cjson/cJSON.h>

struct expr;

/* Compile a jq expression. `tables` (borrowed, may be NULL) is an object of
 * mapping tables {"warehouses": {"Hà Nội": "KHO_HN"}, ...} (deep-copied).
 * On failure returns NULL and puts jq's own error text in err, one line,
 * e.g. "syntax error, unexpected INVALID_CHARACTER (Unix shell quoting
 * issues?) at <top-level>, line 1". */
struct expr *expr_compile(const char *src, const cJSON *tables, char *err,
			  size_t errlen);

/* Compile a template: a JSON value whose strings are jq expressions and
 * whose numbers, booleans and null are literals; objects and arrays nest.
 * Evaluating it gives the same shape with every string replaced by the first
 * value of its expression (an expression with no value is an error naming
 * its path). Compiled into one jq program. On failure err is
 * "<json_path>.<key>...: <jq error>" for the first bad expression. */
struct expr *expr_compile_template(const cJSON *tmpl, const cJSON *tables,
				   const char *json_path, char *err,
				   size_t errlen);

/* As expr_compile_template, but reports every bad expression: on_error is
 * called once per bad leaf with its full path and jq's message. */
typedef void (*expr_error_fn)(void *ud, const char *path, const char *msg);
struct expr *expr_compile_template_all(const cJSON *tmpl, const cJSON *tables,
				       const char *json_path,
				       expr_error_fn on_error, void *ud);

/* Evaluate on `doc` (borrowed) with `vars` (borrowed object or NULL; keys
 * steps, document_id, event, connection, flow). Returns 0 and *out (owned)
 * = the first output; -1 with err = the jq error, e.g.
 * `mapping "warehouses" has no entry for "Hải Phòng"`, or "expression
 * produced no value". Thread-safe. */
int expr_eval(struct expr *e, const cJSON *doc, const cJSON *vars, cJSON **out,
	      char *err, size_t errlen);

/* For `when` filters: 1 when the first output is truthy (not false/null),
 * 0 when it is false, null or there is no output, -1 on error. */
/* Record links: link("conn"; "kind") and link("conn"; "kind"; from)
 * read vars.links, an object keyed by the query's JSON text
 * (["conn","kind",from], compact, as jq's tojson prints it). A query
 * the object lacks gives null and is added to *wants (owned JSON array
 * of {key, query}, NULL when none): the caller looks them up, adds them
 * to vars.links (null for no link) and evaluates again. With wants NULL
 * it is expr_eval, and a missing link is null. */
int expr_eval_links(struct expr *e, const cJSON *doc, const cJSON *vars,
		    cJSON **out, cJSON **wants, char *err, size_t errlen);

int expr_test(struct expr *e, const cJSON *doc, const cJSON *vars, char *err,
	      size_t errlen);

void expr_free(struct expr *e);

/* The mapping tables an expression source names as lookup("name"; ...) with
 * a string literal, for load-time validation. Returns the count and sets
 * *names to a malloc'd array of malloc'd strings (free with
 * expr_names_free), or -1 on allocation failure. */
int expr_lookup_tables(const char *src, char ***names);

/* The step ids an expression source names as $steps.id or $steps["id"],
 * in order of appearance (same ownership as expr_lookup_tables). */
int expr_step_refs(const char *src, char ***names);

void expr_names_free(char **names, int n);

#endif

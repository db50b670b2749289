/*
 * fuzz_expr_doc.c - the jq mapping layer with a fuzzed document: every
 * expression of the shipped flows (the JSON files of flows/, with the
 * sandbox mapping tables) is evaluated on the input, as the engine does for an
 * event's payload. The input is the document when it is JSON, else a
 * string of its bytes (as invalid UTF-8 may arrive); it also stands in
 * for every earlier step's output ($steps).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

static struct flow_set *set;

static void take(cJSON *out)
{
	char *text = cJSON_PrintUnformatted(out);

	fuzz_sink += text ? strlen(text) : 0;
	free(text);
	cJSON_Delete(out);
}

static cJSON *flow_vars(const struct flow *f, const cJSON *doc)
{
	cJSON *vars = cJSON_CreateObject();
	cJSON *steps = cJSON_AddObjectToObject(vars, "steps");

	for (size_t i = 0; i < f->n_steps; i++)
		cJSON_AddItemToObject(steps, f->steps[i].id,
				      cJSON_Duplicate(doc, 1));
	cJSON_AddStringToObject(vars, "document_id", "XK00001");
	cJSON_AddStringToObject(vars, "event", f->trigger_event);
	cJSON_AddStringToObject(vars, "connection", f->trigger_connection);
	cJSON_AddStringToObject(vars, "flow", f->id);
	return vars;
}

static void run_flow(const struct flow *f, const cJSON *doc)
{
	cJSON *vars = flow_vars(f, doc), *out;
	char err[512];

	if (f->when)
		fuzz_sink +=
			(size_t)expr_test(f->when, doc, vars, err, sizeof(err));
	for (size_t i = 0; i < f->n_steps; i++) {
		out = NULL;
		if (expr_eval(f->steps[i].input, doc, vars, &out, err,
			      sizeof(err)))
			fuzz_sink += strlen(err);
		take(out);
	}
	cJSON_Delete(vars);
}

static void free_set(void)
{
	flow_set_free(set);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct flow_errors errs = { 0 };

	fuzz_dir();
	atexit(free_set);
	if (flow_set_load(FUZZ_FLOWS_DIR, FUZZ_MAPPINGS_DIR, NULL, &set,
			  &errs) ||
	    !set->n) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "fuzz: %s\n", errs.msgs[i]);
		abort();
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_strndup(data, size);
	cJSON *doc = cJSON_ParseWithLength(text, size);

	if (!doc)
		doc = cJSON_CreateString(text);
	for (size_t i = 0; i < set->n; i++)
		run_flow(set->flows[i], doc);
	cJSON_Delete(doc);
	free(text);
	return 0;
}

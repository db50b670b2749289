/*
 * cli_plugins.c - `luong plugins` for a person: each plugin's settings,
 * events (with their payload fields and a sample) and actions (with their
 * inputs and outputs) as aligned tables, then the connections. `--json`
 * prints the admin API's answer as it is.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "i18n.h"

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : "";
}

/* Rows of declared fields: name, type, required, description. */
static void print_fields(FILE *out, const char *title, const cJSON *arr)
{
	const cJSON *f;
	int w = 4;

	if (!cJSON_IsArray(arr) || !cJSON_GetArraySize(arr))
		return;
	cJSON_ArrayForEach (f, arr)
		if ((int)strlen(str(f, "name")) > w)
			w = (int)strlen(str(f, "name"));
	fprintf(out, "      %s:\n", title);
	cJSON_ArrayForEach (f, arr)
		fprintf(out, "        %-*s  %-8s %-9s %s\n", w, str(f, "name"),
			str(f, "type"),
			cJSON_IsTrue(cJSON_GetObjectItem(f, "required")) ? "req"
									   "uir"
									   "ed"
									 : "",
			str(f, "description"));
}

static void print_plugin(FILE *out, const cJSON *p)
{
	const cJSON *it, *sample;

	fprintf(out, "%s %s (%s)\n  %s\n", str(p, "name"), str(p, "version"),
		str(p, "file"), str(p, "description"));
	fprintf(out, "  settings:\n");
	cJSON_ArrayForEach (it, cJSON_GetObjectItem(p, "config"))
		fprintf(out, "    %-20s %-7s %-9s %s\n", str(it, "name"),
			str(it, "type"),
			cJSON_IsTrue(cJSON_GetObjectItem(it, "required")) ? "re"
									    "qu"
									    "ir"
									    "ed"
									  : "",
			str(it, "description"));
	fprintf(out, "  events:\n");
	cJSON_ArrayForEach (it, cJSON_GetObjectItem(p, "events")) {
		fprintf(out, "    %-28s %-8s %s%s\n", str(it, "name"),
			str(it, "kind"), str(it, "description"),
			cJSON_IsTrue(cJSON_GetObjectItem(it, "fetch")) ? " ["
									 "fetch"
									 "]"
								       : "");
		print_fields(out, "payload", cJSON_GetObjectItem(it, "fields"));
		sample = cJSON_GetObjectItem(it, "sample");
		if (sample) {
			char *text = cJSON_PrintUnformatted(sample);

			fprintf(out, _("      sample: %s\n"), text);
			cJSON_free(text);
		}
	}
	fprintf(out, "  actions:\n");
	cJSON_ArrayForEach (it, cJSON_GetObjectItem(p, "actions")) {
		fprintf(out, "    %-28s %s%s\n", str(it, "name"),
			str(it, "description"),
			cJSON_IsTrue(cJSON_GetObjectItem(it, "check")) ? " ["
									 "check"
									 "]"
								       : "");
		print_fields(out, "inputs", cJSON_GetObjectItem(it, "inputs"));
		print_fields(out, "outputs",
			     cJSON_GetObjectItem(it, "outputs"));
	}
}

int cli_plugins_print(FILE *out, const cJSON *res)
{
	const cJSON *it;

	cJSON_ArrayForEach (it, cJSON_GetObjectItem(res, "plugins")) {
		print_plugin(out, it);
		fputc('\n', out);
	}
	fprintf(out, "connections:\n");
	cJSON_ArrayForEach (it, cJSON_GetObjectItem(res, "connections"))
		fprintf(out, "  %-20s %-12s %s%s%s\n", str(it, "name"),
			str(it, "plugin"),
			cJSON_IsTrue(cJSON_GetObjectItem(it, "ready")) ? "ready"
								       : "not "
									 "read"
									 "y",
			*str(it, "error") ? ": " : "", str(it, "error"));
	return 0;
}

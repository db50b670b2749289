/*
 * cli_connect.c - `luong connect <plan> [--step S] [--no-wait|--status]`:
 * runs (or resumes) a connect sequence, or one of its steps ("sync
 * now"), and shows its progress step by step until it ends; conflicts
 * are listed for a person to settle.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "i18n.h"
#include "util.h"

static const char *str(const cJSON *o, const char *k)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(o, k));

	return s ? s : "";
}

static long num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItem(o, k);

	return cJSON_IsNumber(v) ? (long)v->valuedouble : -1;
}

/* One line per step; the conflicts of each under it. */
static void print_state(const cJSON *st, bool conflicts)
{
	const cJSON *s, *c;

	printf("%s (%s): %s\n", str(st, "plan"), str(st, "name"),
	       str(st, "state"));
	cJSON_ArrayForEach (s, cJSON_GetObjectItem(st, "steps")) {
		printf("  %-22s %-8s", str(s, "id"), str(s, "state"));
		if (num(s, "read") >= 0)
			printf(_(" read %ld, given %ld"), num(s, "read"),
			       num(s, "given") < 0 ? 0 : num(s, "given"));
		if (num(s, "read_a") >= 0)
			printf(_(" read %ld + %ld, matched %ld, given %ld + "
				 "%ld, conflicts %ld"),
			       num(s, "read_a"), num(s, "read_b"),
			       num(s, "matched") < 0 ? 0 : num(s, "matched"),
			       num(s, "given_a") < 0 ? 0 : num(s, "given_a"),
			       num(s, "given_b") < 0 ? 0 : num(s, "given_b"),
			       num(s, "conflicts_count") < 0 ? 0
							     : num(s, "conflict"
								      "s_"
								      "count"));
		printf("  %s\n", str(s, "name"));
		if (*str(s, "reason"))
			printf("      %s\n", str(s, "reason"));
		if (!conflicts)
			continue;
		cJSON_ArrayForEach (c, cJSON_GetObjectItem(s, "conflicts")) {
			char *a = cJSON_PrintUnformatted(
				cJSON_GetObjectItem(c, "a"));
			char *b = cJSON_PrintUnformatted(
				cJSON_GetObjectItem(c, "b"));

			printf(_("      conflict %s: %s ≠ %s\n"), str(c, "id"),
			       a ? a : "", b ? b : "");
			free(a);
			free(b);
		}
	}
}

int cli_connect(const struct conf *c, int argc, char **argv)
{
	const char *plan = argv[1], *step = NULL;
	bool wait = true, status_only = false;
	char *path, *last = NULL;
	cJSON *body, *st = NULL;
	long code;
	int rc = 1;

	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--step") && i + 1 < argc)
			step = argv[++i];
		else if (!strcmp(argv[i], "--no-wait"))
			wait = false;
		else if (!strcmp(argv[i], "--status"))
			status_only = true;
		else {
			fprintf(stderr, _("luong: connect <plan> [--step S] "
					  "[--no-wait | --status]\n"));
			return 2;
		}
	}
	path = xasprintf("/connect?plan=%s", plan);
	if (!status_only) {
		body = cJSON_CreateObject();
		cJSON_AddStringToObject(body, "plan", plan);
		if (step)
			cJSON_AddStringToObject(body, "step", step);
		if (cli_api(c, "POST", "/connect/run", body, &code, &st)) {
			cJSON_Delete(body);
			goto out;
		}
		cJSON_Delete(body);
		if (code != 202) {
			fprintf(stderr, _("luong: connect %s: %s\n"), plan,
				str(st, "error"));
			goto out;
		}
	}
	for (;;) {
		char *now;

		cJSON_Delete(st);
		st = NULL;
		if (cli_api(c, "GET", path, NULL, &code, &st))
			goto out;
		if (code != 200) {
			fprintf(stderr, _("luong: connect %s: %s\n"), plan,
				str(st, "error"));
			goto out;
		}
		now = cJSON_PrintUnformatted(cJSON_GetObjectItem(st, "steps"));
		if (!last || strcmp(now, last))
			print_state(st, false);
		free(last);
		last = now;
		if (status_only || !wait || strcmp(str(st, "state"), "running"))
			break;
		usleep(500000);
	}
	if (strcmp(str(st, "state"), "running"))
		print_state(st, true);
	rc = !strcmp(str(st, "state"), "done") ||
			     (!wait && !strcmp(str(st, "state"), "running")) ||
			     status_only
		     ? 0
		     : 1;
out:
	free(last);
	free(path);
	cJSON_Delete(st);
	return rc;
}

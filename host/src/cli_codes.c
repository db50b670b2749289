/* cli_codes.c - `luong codes`: the answer of POST /api/codes for a person:
 * each side's codes with no match on the other, a few per line. */
#include <stdio.h>

#include "cli.h"
#include "i18n.h"

static const char *text(const cJSON *o, const char *k)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(o, k));

	return s ? s : "?";
}

static int side(FILE *out, const cJSON *me, const cJSON *other)
{
	const cJSON *un = cJSON_GetObjectItem(me, "unmatched"), *c;
	int n = cJSON_GetArraySize(un), i = 0;

	fprintf(out, _("%s: %.0f codes, %d with no match in %s\n"),
		text(me, "connection"),
		cJSON_GetNumberValue(cJSON_GetObjectItem(me, "count")), n,
		text(other, "connection"));
	cJSON_ArrayForEach (c, un) {
		if (cJSON_IsString(c))
			fprintf(out, "%s%s", i % 8 ? ", " : "  ",
				c->valuestring);
		if (++i % 8 == 0 || i == n)
			fputc('\n', out);
	}
	return n;
}

int cli_codes_print(FILE *out, const cJSON *res)
{
	const cJSON *l = cJSON_GetObjectItem(res, "left"),
		    *r = cJSON_GetObjectItem(res, "right");
	int missing;

	if (cJSON_GetObjectItem(res, "mapping"))
		fprintf(out, _("through mapping table %s\n"),
			text(res, "mapping"));
	missing = side(out, l, r);
	missing += side(out, r, l);
	fprintf(out, _("matched: %.0f\n"),
		cJSON_GetNumberValue(cJSON_GetObjectItem(res, "matched")));
	return missing ? 1 : 0;
}

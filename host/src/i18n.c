/*
 * i18n.c - choosing the language of the host's messages (see i18n.h).
 *
 * gettext looks a message up only when LC_MESSAGES is not the plain "C"
 * locale, and picks the catalogue from LANGUAGE. C.UTF-8 is always there
 * on glibc, so the host sets it for messages alone (numbers and sorting
 * stay "C") and names the language in LANGUAGE.
 */
#include "i18n.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

const char *const i18n_languages[] = { "vi", "en", NULL };

/* chosen once at start, read by every thread after */
static const char *chosen = "en";

int i18n_known(const char *lang)
{
	for (size_t i = 0; i18n_languages[i]; i++)
		if (lang && !strcmp(lang, i18n_languages[i]))
			return 1;
	return 0;
}

int i18n_init(const char *lang, char *err, size_t errlen)
{
	const char *env = getenv("LUONG_LANG");
	char *dir;

	if (env && *env)
		lang = env;
	if (!lang)
		lang = i18n_languages[0];
	if (!i18n_known(lang)) {
		snprintf(err, errlen,
			 "%s: unknown language \"%s\" (vi or en) / "
			 "ngôn ngữ không hỗ trợ \"%s\" (vi hoặc en)",
			 env && *env ? "LUONG_LANG" : "$.language", lang, lang);
		return -1;
	}
	chosen = !strcmp(lang, "vi") ? "vi" : "en";
	setenv("LANGUAGE", chosen, 1);
	setlocale(LC_MESSAGES, "C.UTF-8");
	dir = util_beside_binary(LUONG_BIN_TO_LOCALEDIR);
	if (dir) {
		bindtextdomain(LUONG_TEXT_DOMAIN, dir);
		free(dir);
	}
	bind_textdomain_codeset(LUONG_TEXT_DOMAIN, "UTF-8");
	/* gettext keeps what it looked up; setting the (same) domain again
	 * is its documented way of saying the catalogues changed */
	textdomain(textdomain(NULL));
	return 0;
}

const char *i18n_lang(void)
{
	return chosen;
}

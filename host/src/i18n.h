/*
 * i18n.h - what the host says to a person, in Vietnamese or English.
 *
 * Messages are written in English in the source, marked with _() (or N_()
 * where a table holds them), and translated in po/vi.po with GNU gettext
 * (libc's own catalogue lookup; msgfmt builds the catalogue). The language
 * is the setting "language" ("vi", the default, or "en"); the environment
 * variable LUONG_LANG overrides it for one command. Logs stay in English
 * (they are key=value lines for tools), and targets' own messages pass
 * through unchanged.
 */
#ifndef LUONG_I18N_H
#define LUONG_I18N_H

#include <libintl.h>
#include <stddef.h>

#define LUONG_TEXT_DOMAIN "luong"
#define _(s) dgettext(LUONG_TEXT_DOMAIN, s)
#define N_(s) (s)

/* The languages a person can choose, first the default. */
extern const char *const i18n_languages[];

/* Whether `lang` is one of i18n_languages. */
int i18n_known(const char *lang);

/*
 * Chooses the language of every later _() of this process: LUONG_LANG if
 * set, else `lang` (NULL: the default). Called once, before threads start.
 * Returns -1 with err set for an unknown language; a missing catalogue is
 * not an error (English is shown).
 */
int i18n_init(const char *lang, char *err, size_t errlen);

/* The language chosen ("vi" or "en"). */
const char *i18n_lang(void);

#endif

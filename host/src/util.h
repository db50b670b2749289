/* util.h - small helpers shared by host modules. */
#ifndef LUONG_UTIL_H
#define LUONG_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Abort on allocation failure: the host cannot keep its promises
 * without memory, and a clean crash is recovered by the durable store. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int64_t util_wall_ms(void); /* Unix time in ms */
int64_t util_mono_ms(void); /* monotonic ms */
/* "2026-11-22T10:00:00.123+07:00" (Vietnam time, SPEC B10) into buf. */
void util_vn_time(int64_t wall_ms, char *buf, size_t len);
/* "2026-11-30", "2026-11-30 08:00", "2026-11-30T08:00:00.5+07:00", ...
 * into Unix ms; without an offset the time is Vietnam time. 0 or -1. */
int util_parse_time(const char *s, int64_t *ms);

/* Lower-case hex SHA-256 of data into out[65]. */
void util_sha256_hex(const void *data, size_t len, char out[65]);

/* Reads a whole file; NUL-terminated; NULL with errno on failure. */
char *util_read_file(const char *path, size_t *len);

/* The JSON path of a member of `base`: base.key, or base["key"] when the
 * key is not a name. Owned. */
char *util_json_path_key(const char *base, const char *key);

/* dir + "/" + name, unless name is absolute. Owned. */
char *util_path_join(const char *dir, const char *name);

/* `rel` taken from the running binary's directory (installed files such
 * as plugins and message catalogues sit at a fixed place relative to it),
 * or NULL. Owned. */
char *util_beside_binary(const char *rel);

/* The printf width that pads UTF-8 text `s` to `columns` on a terminal
 * (printf counts bytes; a Vietnamese letter is up to 3). */
int util_pad_width(int columns, const char *s);

/* Copies src into dst (always NUL-terminated, truncating). */
void util_strlcpy(char *dst, const char *src, size_t len);

/* Length (1-4) of the well-formed UTF-8 character at s, 0 if none starts
 * there: no overlongs, surrogates, values over U+10FFFF or cut sequences. */
size_t util_utf8_char(const char *s, size_t len);
/* Offset of the first byte that is not well-formed UTF-8; len if none. */
size_t util_utf8_invalid_at(const char *s, size_t len);
bool util_utf8_valid(const char *s, size_t len);

/* Raises the soft RLIMIT_NOFILE to the hard one; the soft limit now. */
long util_raise_nofile(void);

#endif

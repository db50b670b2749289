/* log.c - the host's log: single write() per line so threads never mix;
 * each line escaped so it is one event of valid UTF-8. */
#define _GNU_SOURCE /* vasprintf, strndup, open_memstream */
#include "log.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "util.h"

static int log_threshold = LUONG_LOG_INFO;

static const char *const level_names[] = { "", "error", "warn", "info",
					   "debug" };

void log_set_level(int level)
{
	log_threshold = level;
}

int log_level_parse(const char *s)
{
	for (size_t i = 1; i < ARRAY_SIZE(level_names); i++)
		if (!strcasecmp(s, level_names[i]))
			return (int)i;
	return -1;
}

bool log_enabled(int level)
{
	return level <= log_threshold;
}

/* The escaped form of the byte c: "\n", "\r", "\t" or "\xHH". */
static size_t escape_byte(unsigned char c, char out[5])
{
	static const char hex[] = "0123456789abcdef";

	out[0] = '\\';
	out[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : 'x';
	if (out[1] != 'x')
		return 2;
	out[2] = hex[c >> 4];
	out[3] = hex[c & 15];
	return 4;
}

/*
 * Appends s to out[*o..cap) so that one event stays one line of UTF-8
 * whatever a document id or a plugin's text holds: control characters
 * and bytes that are not UTF-8 are escaped. Stops at what does not fit.
 */
static void append_escaped(char *out, size_t cap, size_t *o, const char *s,
			   size_t len)
{
	char esc[5];
	const char *piece;
	size_t n, m;

	for (size_t i = 0; i < len; i += n) {
		unsigned char c = (unsigned char)s[i];

		n = util_utf8_char(s + i, len - i);
		if (n > 1 || (n == 1 && c >= 0x20 && c != 0x7f)) {
			piece = s + i;
			m = n;
		} else {
			n = 1;
			m = escape_byte(c, esc);
			piece = esc;
		}
		if (*o + m > cap)
			return;
		memcpy(out + *o, piece, m);
		*o += m;
	}
}

void log_vmsg(int level, const char *where, const char *fmt, va_list ap)
{
	char msg[2048], line[4096];
	size_t o;
	int m;

	if (!log_enabled(level))
		return;
	if (level < 1 || level > LUONG_LOG_DEBUG)
		level = LUONG_LOG_INFO;
	util_vn_time(util_wall_ms(), line, sizeof(line));
	o = strlen(line);
	o += (size_t)snprintf(line + o, sizeof(line) - o, " %-5s ",
			      level_names[level]);
	if (where) {
		append_escaped(line, sizeof(line) - 1, &o, where,
			       strlen(where));
		line[o++] = ' ';
	}
	m = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (m < 0)
		m = 0;
	append_escaped(line, sizeof(line) - 1, &o, msg,
		       (size_t)m < sizeof(msg) ? (size_t)m : sizeof(msg) - 1);
	line[o++] = '\n';
	if (write(STDERR_FILENO, line, o) < 0) {
		/* nothing sensible to do when stderr is gone */
	}
}

void log_msg(int level, const char *where, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, where, fmt, ap);
	va_end(ap);
}

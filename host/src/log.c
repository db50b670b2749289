/* log.c - the host's log: single write() per line so threads never mix. */
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

void log_vmsg(int level, const char *where, const char *fmt, va_list ap)
{
	char line[2048], ts[40];
	int n, m;

	if (!log_enabled(level))
		return;
	util_vn_time(util_wall_ms(), ts, sizeof(ts));
	if (level < 1 || level > LUONG_LOG_DEBUG)
		level = LUONG_LOG_INFO;
	n = snprintf(line, sizeof(line), "%s %-5s %s%s", ts, level_names[level],
		     where ? where : "", where ? " " : "");
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	if (m < 0)
		m = 0;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	/* One line per event: fold embedded newlines. */
	for (int i = 0; i < n; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0) {
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

/* log.h - one line per event on stderr: time, level, where, what. */
#ifndef LUONG_LOG_H
#define LUONG_LOG_H

#include <stdarg.h>
#include <stdbool.h>

#include <luong/host.h> /* enum luong_log_level */

void log_set_level(int level);
int log_level_parse(const char *s); /* -1 if unknown */
bool log_enabled(int level);
/* `where` is e.g. "flow=w3 doc=PXK001" or "plugin=misa-amis:misa-hn". */
void log_msg(int level, const char *where, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void log_vmsg(int level, const char *where, const char *fmt, va_list ap);

#define log_error(...) log_msg(LUONG_LOG_ERROR, NULL, __VA_ARGS__)
#define log_warn(...) log_msg(LUONG_LOG_WARN, NULL, __VA_ARGS__)
#define log_info(...) log_msg(LUONG_LOG_INFO, NULL, __VA_ARGS__)
#define log_debug(...) log_msg(LUONG_LOG_DEBUG, NULL, __VA_ARGS__)

#endif

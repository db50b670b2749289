/*
 * expr_int.h - what expr.c (compiling and running flow expressions)
 * shares with expr_guard.c (what they may not use). Not for other
 * modules, which use expr.h.
 */
#ifndef LUONG_EXPR_INT_H
#define LUONG_EXPR_INT_H

#include <stddef.h>

/* 0 when src uses none of the refused names; else -1 with err set. */
int expr_guard_check(const char *src, char *err, size_t errlen);
/* jq definitions that make each refused builtin fail, to put before the
 * user's text (malloc'd). */
char *expr_guard_shadows(void);

#endif

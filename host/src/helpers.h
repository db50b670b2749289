/*
 * helpers.h - the host's side of luong_host.helpers and log->fail (SDK 1.2).
 */
#ifndef LUONG_HELPERS_H
#define LUONG_HELPERS_H

#include <luong/luong.h>

extern const struct luong_helpers_api helpers_api;

/* What the helpers do to a call or a connection: defined once by the host
 * (services.c) and once by the test kit. */
struct helpers_glue {
	void (*set_error)(struct luong_call *call, const char *text);
	void (*retry_after)(struct luong_call *call, uint32_t ms);
	void (*warn)(struct luong_ctx *ctx, const char *text);
};
extern const struct helpers_glue helpers_glue;

/* log->fail: keeps the reason for the calling thread. */
void helpers_fail(struct luong_ctx *ctx, const char *fmt, ...)
	LUONG_PRINTF(2, 3);
/* Forgets the calling thread's reason: before init() or webhook(). */
void helpers_fail_clear(void);
/* The calling thread's reason since the last clear, or NULL. */
const char *helpers_fail_reason(void);

#endif

/*
 * helpers.h - the host's side of luong_host.helpers and log->fail (SDK 1.2).
 */
#ifndef LUONG_HELPERS_H
#define LUONG_HELPERS_H

#include <luong/luong.h>

extern const struct luong_helpers_api helpers_api;

/* log->fail: keeps the reason for the calling thread. */
void helpers_fail(struct luong_ctx *ctx, const char *fmt, ...)
	LUONG_PRINTF(2, 3);
/* Forgets the calling thread's reason: before init() or webhook(). */
void helpers_fail_clear(void);
/* The calling thread's reason since the last clear, or NULL. */
const char *helpers_fail_reason(void);

/* http->response_header (services.c). */
const char *http_response_header(const struct luong_http_response *r,
				 const char *name);

#endif

/* health.c - each connection's last success and last error (loader.h),
 * for the console's overview. */
#define _GNU_SOURCE /* vasprintf, strndup, open_memstream */
#include <stdlib.h>

#include "loader.h"
#include "util.h"

void health_note(struct luong_ctx *ctx, bool ok, const char *msg)
{
	int64_t now = util_wall_ms();

	pthread_mutex_lock(&ctx->health_mu);
	if (ok) {
		ctx->last_ok_ms = now;
	} else {
		ctx->last_err_ms = now;
		free(ctx->last_err);
		ctx->last_err = xstrdup(msg ? msg : "failed");
	}
	pthread_mutex_unlock(&ctx->health_mu);
}

static void add_ms(cJSON *obj, const char *name, int64_t ms)
{
	char ts[40];

	if (!ms) {
		cJSON_AddNullToObject(obj, name);
		return;
	}
	util_vn_time(ms, ts, sizeof(ts));
	cJSON_AddStringToObject(obj, name, ts);
}

void health_json(struct luong_ctx *ctx, cJSON *obj)
{
	pthread_mutex_lock(&ctx->health_mu);
	add_ms(obj, "last_success_at", ctx->last_ok_ms);
	add_ms(obj, "last_error_at", ctx->last_err_ms);
	if (ctx->last_err)
		cJSON_AddStringToObject(obj, "last_error", ctx->last_err);
	else
		cJSON_AddNullToObject(obj, "last_error");
	pthread_mutex_unlock(&ctx->health_mu);
}

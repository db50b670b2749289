/*
 * conn_limit.c - each connection's rate limit: the one its plugin
 * declares (SDK 1.2), or the connection file's "rate_limit" setting,
 * which overrides it. The pacing itself is ratelimit.c.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "loader.h"
#include "log.h"
#include "ratelimit.h"

const struct luong_rate_limit *plugin_rate_limit(const struct luong_plugin *d)
{
	const struct luong_rate_limit *r;

	if (d->struct_size <
	    offsetof(struct luong_plugin, rate_limit) + sizeof(d->rate_limit))
		return NULL; /* built before 1.2 */
	r = d->rate_limit;
	if (!r ||
	    r->struct_size < offsetof(struct luong_rate_limit, usage_header) +
				     sizeof(r->usage_header))
		return NULL;
	return r;
}

int plugin_check_rate_limit(const char *file, const struct luong_plugin *d,
			    char *err, size_t errlen)
{
	const struct luong_rate_limit *r = plugin_rate_limit(d);

	if (d->struct_size >= offsetof(struct luong_plugin, rate_limit) +
				      sizeof(d->rate_limit) &&
	    d->rate_limit && !r) {
		snprintf(err, errlen,
			 "plugin %s (%s): rate_limit is %u bytes, "
			 "ABI 1.2 needs %zu",
			 file, d->name, d->rate_limit->struct_size,
			 sizeof(struct luong_rate_limit));
		return -1;
	}
	if (r && (!isfinite(r->per_second) || r->per_second < 0)) {
		snprintf(err, errlen,
			 "plugin %s (%s): rate_limit.per_second "
			 "is %g; it must be 0 (no limit) or more",
			 file, d->name, r->per_second);
		return -1;
	}
	return 0;
}

/* One number of the setting; -1 with a line naming it if wrong. */
static int setting_number(const struct luong_ctx *ctx, const cJSON *o,
			  const char *key, double min, double *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!v)
		return 0;
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) ||
	    v->valuedouble < min || v->valuedouble > 1e6) {
		log_error("%s: $.rate_limit.%s: expected a number from %g to "
			  "1000000",
			  ctx->file, key, min);
		return -1;
	}
	*out = v->valuedouble;
	return 0;
}

/* {"per_second": 4, "burst": 80}; either may be left out. */
static int read_setting(const struct luong_ctx *ctx, const cJSON *s,
			double *per_second, double *burst)
{
	const cJSON *it;

	if (!cJSON_IsObject(s)) {
		log_error("%s: $.rate_limit: expected an object like "
			  "{\"per_second\": 4, \"burst\": 80}",
			  ctx->file);
		return -1;
	}
	cJSON_ArrayForEach (it, s)
		if (strcmp(it->string, "per_second") &&
		    strcmp(it->string, "burst")) {
			log_error("%s: $.rate_limit.%s: unknown field "
				  "(expected per_second, burst)",
				  ctx->file, it->string);
			return -1;
		}
	if (setting_number(ctx, s, "per_second", 0, per_second) ||
	    setting_number(ctx, s, "burst", 1, burst))
		return -1;
	if (*burst != floor(*burst)) {
		log_error("%s: $.rate_limit.burst: expected a whole number of "
			  "calls",
			  ctx->file);
		return -1;
	}
	return 0;
}

int conn_rate_limit(struct luong_ctx *ctx, const cJSON *setting)
{
	const struct luong_rate_limit *decl =
		plugin_rate_limit(ctx->plugin->desc);
	double per_second = decl ? decl->per_second : 0;
	double burst = decl ? decl->burst : 0;
	bool learn = true;

	if (setting) {
		double b = -1;

		if (read_setting(ctx, setting, &per_second, &b))
			return -1;
		if (b >= 0) {
			burst = b;
			learn = false; /* a person's burst stands */
		}
	}
	ctx->usage_header = decl ? decl->usage_header : NULL;
	ctx->rl = rl_new(per_second, (uint32_t)burst, learn);
	return 0;
}

cJSON *rate_limit_describe(const struct luong_rate_limit *r)
{
	cJSON *o;

	if (!r)
		return cJSON_CreateNull();
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "per_second", r->per_second);
	cJSON_AddNumberToObject(o, "burst", r->burst ? r->burst : 1);
	if (r->usage_header)
		cJSON_AddStringToObject(o, "usage_header", r->usage_header);
	return o;
}

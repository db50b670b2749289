/*
 * helpers.c - luong_host.helpers (SDK 1.2): what every connector needs and
 * should not write again: HMAC-SHA256 signatures checked in constant time,
 * and one HTTP answer mapped onto the action result contract. Plugins get
 * them through the table, so none links OpenSSL itself.
 *
 * This file knows nothing of the host's insides: what it does to a call or
 * a connection goes through struct helpers_glue, which the host
 * (services.c) and the test kit (sdk/testkit) each define, so both hand
 * plugins the very same helpers.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "helpers.h"
#include "i18n.h"

/* ---- signatures ---------------------------------------------------------- */

static enum luong_status hmac_sign(const void *secret, size_t secret_len,
				   const void *body, size_t body_len,
				   uint32_t encoding, char out[65])
{
	unsigned char mac[32];
	unsigned int n = 0;

	out[0] = '\0';
	if (encoding != LUONG_SIG_HEX && encoding != LUONG_SIG_BASE64)
		return LUONG_E_INVAL;
	if (!secret || !body ||
	    !HMAC(EVP_sha256(), secret, (int)secret_len, body, body_len, mac,
		  &n) ||
	    n != sizeof(mac))
		return LUONG_E_INVAL;
	if (encoding == LUONG_SIG_BASE64) {
		EVP_EncodeBlock((unsigned char *)out, mac, sizeof(mac));
		return LUONG_OK;
	}
	for (size_t i = 0; i < sizeof(mac); i++)
		snprintf(out + 2 * i, 3, "%02x", mac[i]);
	return LUONG_OK;
}

static bool hmac_verify(const void *secret, size_t secret_len, const void *body,
			size_t body_len, const char *sig, uint32_t encoding)
{
	char want[65], got[65];
	size_t n;

	if (!secret || !secret_len || !sig || !*sig ||
	    hmac_sign(secret, secret_len, body ? body : "", body ? body_len : 0,
		      encoding, want))
		return false;
	n = strlen(want);
	if (strlen(sig) != n)
		return false;
	/* hex may come in capitals; the comparison stays constant-time */
	for (size_t i = 0; i < n; i++)
		got[i] = encoding == LUONG_SIG_HEX
				 ? (char)tolower((unsigned char)sig[i])
				 : sig[i];
	return CRYPTO_memcmp(want, got, n) == 0;
}

/* ---- JSON paths: "a.b[0].c" ----------------------------------------------- */

static const cJSON *json_at(const cJSON *root, const char *path)
{
	const cJSON *cur = root;
	const char *p = path;
	char key[128];

	if (!root || !path)
		return NULL;
	if (p[0] == '$')
		p += p[1] == '.' ? 2 : 1;
	while (cur && *p) {
		size_t n = strcspn(p, ".[");

		if (n) {
			if (n >= sizeof(key) || !cJSON_IsObject(cur))
				return NULL;
			memcpy(key, p, n);
			key[n] = '\0';
			cur = cJSON_GetObjectItemCaseSensitive(cur, key);
			p += n;
		} else if (*p == '[') {
			char *end;
			long i = strtol(p + 1, &end, 10);

			if (*end != ']' || i < 0 || !cJSON_IsArray(cur))
				return NULL;
			cur = cJSON_GetArrayItem(cur, (int)i);
			p = end + 1;
		}
		if (*p == '.')
			p++;
	}
	return cur;
}

/* ---- HTTP answers ----------------------------------------------------------- */

/* "Wed, 21 Oct 2015 07:28:00 GMT" as Unix seconds, or -1. */
static time_t http_date(const char *v)
{
	struct tm tm = { 0 };
	const char *end = strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm);

	return end && !*end ? timegm(&tm) : (time_t)-1;
}

static uint32_t retry_after_ms(const char *v, int64_t wall_ms)
{
	char *end;
	double s;
	time_t when;

	if (!v || !*v)
		return 0;
	s = strtod(v, &end);
	if (end != v && !*end)
		return s > 0 && s < 86400.0 * 7 ? (uint32_t)(s * 1000) : 0;
	when = http_date(v); /* RFC 7231 HTTP date */
	if (when < 0 || (int64_t)when * 1000 <= wall_ms)
		return 0;
	s = ((double)when * 1000 - (double)wall_ms);
	return s < 86400000.0 * 7 ? (uint32_t)s : 0;
}

/* The target's own words: the member at path, else the body's start. */
static void target_message(const struct luong_http_response *resp,
			   const char *path, char *out, size_t len)
{
	cJSON *body =
		resp->body ? cJSON_ParseWithLength(resp->body, resp->body_len)
			   : NULL;
	const cJSON *m = path ? json_at(body, path) : NULL;

	if (cJSON_IsString(m))
		snprintf(out, len, "%s", m->valuestring);
	else if (m && !cJSON_IsNull(m))
		cJSON_PrintPreallocated((cJSON *)m, out, (int)len, 0);
	else if (resp->body && *resp->body)
		snprintf(out, len, "%.160s", resp->body);
	else
		out[0] = '\0';
	cJSON_Delete(body);
}

static void say(struct luong_ctx *ctx, struct luong_call *call, const char *fmt,
		...) LUONG_PRINTF(3, 4);

static void say(struct luong_ctx *ctx, struct luong_call *call, const char *fmt,
		...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (call)
		helpers_glue.set_error(call, text);
	else
		helpers_glue.warn(ctx, text);
}

static const char *header(const struct luong_http_response *r, const char *name)
{
	for (size_t i = 0; i < r->n_headers; i++)
		if (!strcasecmp(r->headers[i].name, name))
			return r->headers[i].value;
	return NULL;
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static enum luong_status http_result(struct luong_ctx *ctx,
				     struct luong_call *call,
				     enum luong_status transport,
				     const struct luong_http_response *resp,
				     const struct luong_http_result_opts *o)
{
	const char *sys = o && o->system ? o->system : _("the target");
	const char *path = o && o->message_path ? o->message_path : NULL;
	char msg[320];
	long st;

	if (transport != LUONG_OK || !resp) {
		say(ctx, call, _("%s cannot be reached: %s"), sys,
		    resp && *resp->error ? resp->error : _("no answer"));
		return transport == LUONG_E_TIMEOUT ? LUONG_E_TIMEOUT
						    : LUONG_E_TRANSIENT;
	}
	st = resp->status;
	if (st >= 200 && st < 300)
		return LUONG_OK;
	target_message(resp, path, msg, sizeof(msg));
	if (st == 401 || st == 403) {
		bool again = o && o->reauth &&
			     o->reauth(o->reauth_ud, st) == LUONG_OK;

		say(ctx, call, _("%s refused the credentials (HTTP %ld)%s%s%s"),
		    sys, st, *msg ? ": " : "", msg,
		    again ? _("; signing in again") : "");
		return again ? LUONG_E_TRANSIENT : LUONG_E_AUTH;
	}
	if (st == 429 || st >= 500) {
		const char *ra = header(resp, "Retry-After");
		uint32_t ms = retry_after_ms(ra, wall_ms());

		if (call && ms)
			helpers_glue.retry_after(call, ms);
		say(ctx, call, _("%s answered HTTP %ld (%s)%s%s"), sys, st,
		    st == 429 ? _("too many requests") : _("server error"),
		    *msg ? ": " : "", msg);
		return LUONG_E_TRANSIENT;
	}
	say(ctx, call, _("%s refused: HTTP %ld%s%s"), sys, st, *msg ? ": " : "",
	    msg);
	return LUONG_E_REMOTE;
}

const struct luong_helpers_api helpers_api = {
	.struct_size = sizeof(struct luong_helpers_api),
	.hmac_verify = hmac_verify,
	.hmac_sign = hmac_sign,
	.http_result = http_result,
	.retry_after_ms = retry_after_ms,
	.json_at = json_at,
};

/* ---- why init() or webhook() failed ------------------------------------------ */

static __thread char fail_text[512];

void helpers_fail(struct luong_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	(void)ctx;
	va_start(ap, fmt);
	vsnprintf(fail_text, sizeof(fail_text), fmt, ap);
	va_end(ap);
}

void helpers_fail_clear(void)
{
	fail_text[0] = '\0';
}

const char *helpers_fail_reason(void)
{
	return fail_text[0] ? fail_text : NULL;
}

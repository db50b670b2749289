/*
 * amis_common.h - helpers shared by the AMIS family of plugins (misa-amis,
 * amis-crm, amis-kho). Header-only with static functions so that each
 * plugin keeps every symbol but luong_plugin_entry private; it uses only
 * the public SDK and libcrypto.
 */
#ifndef LUONG_AMIS_COMMON_H
#define LUONG_AMIS_COMMON_H

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <luong/luong.h>

#define AC_UNUSED __attribute__((unused))

/* A string member or NULL. */
static AC_UNUSED const char *ac_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static AC_UNUSED double ac_num(const cJSON *o, const char *key, double dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

/* A number member, also accepting a numeric string (mapping tables hold
 * strings). */
static AC_UNUSED bool ac_numlike(const cJSON *o, const char *key, double *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	char *end;

	if (cJSON_IsNumber(v)) {
		*out = v->valuedouble;
		return true;
	}
	if (cJSON_IsString(v) && *v->valuestring) {
		*out = strtod(v->valuestring, &end);
		return *end == '\0';
	}
	return false;
}

/* An id given as a number or a string, as text in buf; NULL if absent. */
static AC_UNUSED const char *ac_idtext(const cJSON *o, const char *key,
				       char *buf, size_t len)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (cJSON_IsNumber(v)) {
		snprintf(buf, len, "%.0f", v->valuedouble);
		return buf;
	}
	if (cJSON_IsString(v) && *v->valuestring)
		return v->valuestring;
	return NULL;
}

/* VND has no minor unit: half away from zero, to whole đồng (SPEC B10). */
static AC_UNUSED double ac_round_dong(double v)
{
	return v < 0 ? -floor(-v + 0.5) : floor(v + 0.5);
}

/* Drops null members of an object (not recursive): the targets treat a
 * null as a value given, which the flows never mean. */
static AC_UNUSED void ac_drop_nulls(cJSON *o)
{
	cJSON *it = o ? o->child : NULL, *next;

	for (; it; it = next) {
		next = it->next;
		if (cJSON_IsNull(it))
			cJSON_Delete(cJSON_DetachItemViaPointer(o, it));
	}
}

/* ---- signatures ---------------------------------------------------------- */

static AC_UNUSED bool ac_hmac_sha256(const char *key, const void *msg,
				     size_t len, unsigned char out[32])
{
	unsigned int n = 0;

	return HMAC(EVP_sha256(), key, (int)strlen(key), msg, len, out, &n) &&
	       n == 32;
}

/* Lowercase hex HMAC-SHA256 (MISA callbacks). */
static AC_UNUSED bool ac_hmac_hex(const char *key, const void *msg,
				  size_t len, char out[65])
{
	unsigned char mac[32];

	if (!ac_hmac_sha256(key, msg, len, mac))
		return false;
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", mac[i]);
	return true;
}

/* Base64 HMAC-SHA256 (AMIS platform events). */
static AC_UNUSED bool ac_hmac_b64(const char *key, const void *msg,
				  size_t len, char out[48])
{
	unsigned char mac[32];

	if (!ac_hmac_sha256(key, msg, len, mac))
		return false;
	EVP_EncodeBlock((unsigned char *)out, mac, 32);
	return true;
}

/* Constant-time comparison of two signature texts. */
static AC_UNUSED bool ac_sig_equal(const char *a, const char *b)
{
	size_t la = a ? strlen(a) : 0, lb = b ? strlen(b) : 0;

	return la && la == lb && CRYPTO_memcmp(a, b, la) == 0;
}

/* ---- HTTP ------------------------------------------------------------------ */

/*
 * Maps an answer that is no success onto the SDK contract: no answer,
 * 5xx and 429 are transient (Retry-After honoured); the caller handles
 * the rest. Returns LUONG_OK when the caller should look at the answer.
 */
static AC_UNUSED enum luong_status
ac_transport(const struct luong_host *h, struct luong_call *call,
	     enum luong_status st, const struct luong_http_response *resp,
	     const char *system)
{
	const char *ra;

	if (st != LUONG_OK) {
		if (call)
			h->call->set_error(call, "%s cannot be reached: %s",
					   system, resp->error);
		return st == LUONG_E_TIMEOUT ? LUONG_E_TIMEOUT
					     : LUONG_E_TRANSIENT;
	}
	if (resp->status == 429 || resp->status >= 500) {
		ra = h->http->response_header(resp, "Retry-After");
		if (call && ra && atof(ra) > 0)
			h->call->retry_after(call, (uint32_t)(atof(ra) * 1000));
		if (call)
			h->call->set_error(call, "%s answered HTTP %ld%s", system,
					   resp->status,
					   resp->status == 429 ? " (too many "
					   "requests)" : " (server error)");
		return LUONG_E_TRANSIENT;
	}
	return LUONG_OK;
}

/* An owned copy of the reply text, for replies built with cJSON. */
static AC_UNUSED void ac_reply(const struct luong_host *h,
			       struct luong_webhook_response *resp,
			       uint32_t status, cJSON *body)
{
	char *text = h->json->print(body);

	resp->status = status;
	if (text) {
		resp->body = h->mem->strdup(text);
		resp->body_len = strlen(text);
		h->mem->free(text);
	}
	cJSON_Delete(body);
}

#endif

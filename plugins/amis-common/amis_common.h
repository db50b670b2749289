/*
 * amis_common.h - helpers shared by the AMIS family of plugins (misa-amis,
 * amis-crm, amis-kho). Header-only with static functions so that each
 * plugin keeps every symbol but luong_plugin_entry private; it uses only
 * the public SDK (signatures and HTTP answers through the host's helpers).
 */
#ifndef LUONG_AMIS_COMMON_H
#define LUONG_AMIS_COMMON_H

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <luong/luong.h>

#define AC_UNUSED __attribute__((unused))

/* A string member or NULL. */
static AC_UNUSED const char *ac_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* `s` as one query value (RFC 3986 unreserved kept, the rest %XX), into
 * buf; false when it does not fit. */
static AC_UNUSED bool ac_query_value(const char *s, char *buf, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (n + 4 > len)
			return false;
		if (isalnum(c) || c == '-' || c == '.' || c == '_' ||
		    c == '~') {
			buf[n++] = (char)c;
		} else {
			buf[n++] = '%';
			buf[n++] = hex[c >> 4];
			buf[n++] = hex[c & 15];
		}
	}
	buf[n] = '\0';
	return true;
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

/* ---- signatures and HTTP answers: the host's SDK helpers ---------------- */

enum ac_sig_form { AC_SIG_HEX = LUONG_SIG_HEX, AC_SIG_B64 = LUONG_SIG_BASE64 };

/*
 * A signed request is genuine when a key and a signature are there and
 * the HMAC-SHA256 of msg under key, as hex or base64, is the signature
 * (helpers->hmac_verify compares in constant time).
 */
static AC_UNUSED bool ac_sig_valid(const struct luong_host *h, const char *key,
				   const void *msg, size_t len, const char *sig,
				   enum ac_sig_form form)
{
	return key && h->helpers->hmac_verify(key, strlen(key), msg, len, sig,
					      (uint32_t)form);
}

/*
 * Maps an answer that is no success onto the SDK contract: no answer,
 * 5xx and 429 are transient (Retry-After honoured, helpers->http_result);
 * the caller handles the rest, whose AMIS error codes it knows. Returns
 * LUONG_OK when the caller should look at the answer.
 */
static AC_UNUSED enum luong_status
ac_transport(const struct luong_host *h, struct luong_ctx *ctx,
	     struct luong_call *call, enum luong_status st,
	     const struct luong_http_response *resp, const char *system)
{
	const struct luong_http_result_opts o = {
		.struct_size = sizeof(o),
		.system = system,
	};

	if (st == LUONG_OK && resp->status != 429 && resp->status < 500)
		return LUONG_OK;
	return h->helpers->http_result(ctx, call, st, resp, &o);
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

/* ---- the connection: lifecycle, token, one HTTP exchange ------------------- */

/*
 * What every AMIS-family connection holds: the host, its context, the
 * system's name for messages, the request time-out and the API token
 * (kept in memory and in the connection's kv under "token"). login
 * fetches a new token and hands it to ac_token_store. A plugin's state
 * begins with its struct ac_conn (login and ac_plugin_fini rely on it).
 */
struct ac_conn {
	const struct luong_host *h;
	struct luong_ctx *ctx;
	const char *system; /* "AMIS CRM", for messages */
	uint32_t timeout_ms;
	pthread_mutex_t mu; /* guards token */
	char *token;	    /* host->mem */
	enum luong_status (*login)(struct ac_conn *k, struct luong_call *call);
};

/* Checks the host's ABI and allocates a zeroed state of size bytes. */
static AC_UNUSED enum luong_status ac_state_new(const struct luong_host *host,
						size_t size, void **state)
{
	void *p;

	if (host->abi_major != LUONG_ABI_MAJOR ||
	    !LUONG_HAS(host->events, complete) || !LUONG_HAS(host, helpers))
		return LUONG_E_ABI;
	p = host->mem->alloc(size);
	if (!p)
		return LUONG_E_NOMEM;
	memset(p, 0, size);
	*state = p;
	return LUONG_OK;
}

static AC_UNUSED void
ac_conn_init(struct ac_conn *k, struct luong_ctx *ctx,
	     const struct luong_host *h, const char *system,
	     uint32_t dflt_timeout_ms,
	     enum luong_status (*login)(struct ac_conn *, struct luong_call *))
{
	int64_t t = h->config->get_int(ctx, "timeout_ms");

	k->h = h;
	k->ctx = ctx;
	k->system = system;
	k->timeout_ms = t > 0 ? (uint32_t)t : dflt_timeout_ms;
	k->login = login;
	pthread_mutex_init(&k->mu, NULL);
}

/* A plugin's fini, for a state that begins with its struct ac_conn. */
static AC_UNUSED void ac_plugin_fini(struct luong_ctx *ctx, void *state)
{
	struct ac_conn *k = state;

	(void)ctx;
	if (!k)
		return;
	k->h->mem->free(k->token);
	pthread_mutex_destroy(&k->mu);
	k->h->mem->free(k);
}

/* A new token from login: to memory and kv. */
static AC_UNUSED void ac_token_store(struct ac_conn *k, const char *tok)
{
	k->h->mem->free(k->token);
	k->token = k->h->mem->strdup(tok);
	k->h->kv->put(k->ctx, "token", tok);
}

/*
 * The current token (copied into buf): from memory, else from kv, else
 * by logging in. fresh asks for a new one because `stale` was refused;
 * none is fetched when another thread has renewed it meanwhile.
 */
static AC_UNUSED enum luong_status ac_token(struct ac_conn *k,
					    struct luong_call *call, bool fresh,
					    const char *stale, char *buf,
					    size_t len)
{
	enum luong_status st = LUONG_OK;
	char *kv = NULL;

	pthread_mutex_lock(&k->mu);
	if (!k->token && !fresh &&
	    k->h->kv->get(k->ctx, "token", &kv) == LUONG_OK)
		k->token = kv;
	/* another thread may have renewed it while we waited */
	if (fresh && k->token && stale && strcmp(k->token, stale))
		fresh = false;
	if (!k->token || fresh)
		st = k->login(k, call);
	if (st == LUONG_OK)
		snprintf(buf, len, "%s", k->token);
	pthread_mutex_unlock(&k->mu);
	return st;
}

/* The error codes that say the token ran out. */
static AC_UNUSED bool ac_token_expired(const char *code)
{
	return code && (!strcmp(code, "ExpiredToken") || !strcmp(code, "Invalid"
								       "Toke"
								       "n"));
}

/*
 * After the API refused token (code): logs it and fetches a new one into
 * token; `how` words it ("signing in again").
 */
static AC_UNUSED enum luong_status
ac_token_renew(struct ac_conn *k, struct luong_call *call, const char *code,
	       const char *how, char *token, size_t len)
{
	k->h->log->log(k->ctx, LUONG_LOG_INFO, "%s answered %s; %s", k->system,
		       code, how);
	return ac_token(k, call, true, token, token, len);
}

/*
 * One HTTP exchange; transport faults, 5xx and 429 are mapped onto the
 * SDK contract (ac_transport). On LUONG_OK *status is the HTTP status and
 * *json the parsed body (NULL if it is none; the caller frees it).
 */
static AC_UNUSED enum luong_status
ac_http(struct ac_conn *k, struct luong_call *call, const char *method,
	const char *url, const struct luong_http_header *hdrs, size_t n_hdrs,
	const char *body, long *status, cJSON **json)
{
	const struct luong_host *h = k->h;
	struct luong_http_request rq = {
		.struct_size = sizeof(rq),
		.method = method,
		.url = url,
		.headers = hdrs,
		.n_headers = n_hdrs,
		.body = body,
		.body_len = body ? strlen(body) : 0,
		.timeout_ms = k->timeout_ms,
	};
	struct luong_http_response resp = { .struct_size = sizeof(resp) };
	enum luong_status st;

	*json = NULL;
	st = h->http->request(k->ctx, &rq, &resp);
	st = ac_transport(h, k->ctx, call, st, &resp, k->system);
	if (st == LUONG_OK) {
		*status = resp.status;
		*json = h->json->parse(resp.body, resp.body_len);
	}
	h->http->response_free(&resp);
	return st;
}

/* ---- the plugin table ---------------------------------------------------- */

/* The plugin's description and its one exported symbol. */
#define AC_PLUGIN(NAME, VERSION, DESC, CONFIG, EVENTS, ACTIONS, INIT, FINI,    \
		  WEBHOOK)                                                     \
	AC_PLUGIN_LIMITED(NAME, VERSION, DESC, CONFIG, EVENTS, ACTIONS, INIT,  \
			  FINI, WEBHOOK, NULL)

/* ... with the target's limit on calls (SDK 1.2). */
#define AC_PLUGIN_LIMITED(NAME, VERSION, DESC, CONFIG, EVENTS, ACTIONS, INIT,  \
			  FINI, WEBHOOK, RATE_LIMIT)                           \
	static const struct luong_plugin ac_plugin = {                         \
		LUONG_PLUGIN_HEADER,                                           \
		.name = NAME,                                                  \
		.version = VERSION,                                            \
		.description = DESC,                                           \
		.config = CONFIG,                                              \
		.events = EVENTS,                                              \
		.actions = ACTIONS,                                            \
		.init = INIT,                                                  \
		.fini = FINI,                                                  \
		.webhook = WEBHOOK,                                            \
		.rate_limit = RATE_LIMIT,                                      \
	};                                                                     \
	LUONG_EXPORT const struct luong_plugin *luong_plugin_entry(void)       \
	{                                                                      \
		return &ac_plugin;                                             \
	}

#endif

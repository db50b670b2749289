/*
 * amis_platform.h - the client side of the AMIS platform public API v2
 * (AMIS CRM, and the AMIS Kho contract designed in its style): token from
 * POST /Account kept in the connection's kv, Bearer + Clientid headers,
 * {success, code, data} answers and {ErrorCode, DevMsg, UserMsg} errors,
 * and signed events (X-Amis-Signature, base64 HMAC-SHA256 of the body).
 * Shared by amis-crm and amis-kho; static functions only.
 */
#ifndef LUONG_AMIS_PLATFORM_H
#define LUONG_AMIS_PLATFORM_H

#include <pthread.h>

#include "amis_common.h"

struct amis_client {
	const struct luong_host *h;
	struct luong_ctx *ctx;
	const char *system; /* "AMIS CRM", for messages */
	const char *server; /* base URL, e.g. .../crm/gc/api/public/api/v2 */
	const char *client_id;
	const char *client_secret;
	const char *webhook_secret;
	uint32_t timeout_ms;
	pthread_mutex_t mu; /* guards token */
	char *token;        /* host->mem */
};

/* One answer of the API, parsed. */
struct amis_reply {
	long status;
	cJSON *json; /* the whole body, or NULL */
	const cJSON *data;
};

static AC_UNUSED void amis_reply_free(struct amis_client *c,
				      struct amis_reply *r)
{
	c->h->json->del(r->json);
	memset(r, 0, sizeof(*r));
}

static AC_UNUSED enum luong_status
amis_client_init(struct amis_client *c, struct luong_ctx *ctx,
		 const struct luong_host *h, const char *system)
{
	int64_t t;

	memset(c, 0, sizeof(*c));
	c->h = h;
	c->ctx = ctx;
	c->system = system;
	c->server = h->config->get(ctx, "server");
	c->client_id = h->config->get(ctx, "client_id");
	c->client_secret = h->config->get(ctx, "client_secret");
	c->webhook_secret = h->config->get(ctx, "webhook_secret");
	t = h->config->get_int(ctx, "timeout_ms");
	c->timeout_ms = t > 0 ? (uint32_t)t : 15000;
	pthread_mutex_init(&c->mu, NULL);
	if (!c->server || !c->client_id || !c->client_secret)
		return LUONG_E_CONFIG;
	return LUONG_OK;
}

static AC_UNUSED void amis_client_fini(struct amis_client *c)
{
	c->h->mem->free(c->token);
	c->token = NULL;
	pthread_mutex_destroy(&c->mu);
}

/* "<UserMsg> (<DevMsg>) [<ErrorCode>]" of an error answer, into buf. */
static AC_UNUSED const char *amis_error_text(const struct amis_reply *r,
					     char *buf, size_t len)
{
	const char *code = ac_str(r->json, "ErrorCode");
	const char *dev = ac_str(r->json, "DevMsg");
	const char *user = ac_str(r->json, "UserMsg");
	bool both = user && dev && strcmp(user, dev);

	if (!user && !dev) {
		snprintf(buf, len, "HTTP %ld%s%s", r->status,
			 code ? " " : "", code ? code : "");
		return buf;
	}
	snprintf(buf, len, "%s%s%s%s%s%s", user ? user : dev,
		 both ? " (" : "", both ? dev : "", both ? ")" : "",
		 code ? " " : "", code ? code : "");
	return buf;
}

/* POST /Account; the new token goes to memory and kv. */
static enum luong_status amis_login(struct amis_client *c,
				    struct luong_call *call)
{
	const struct luong_host *h = c->h;
	char url[1024], *body;
	cJSON *req = cJSON_CreateObject(), *reply = NULL;
	struct luong_http_header hdrs[] = {
		{ "Content-Type", "application/json" },
	};
	struct luong_http_response resp = { .struct_size = sizeof(resp) };
	struct luong_http_request rq = {
		.struct_size = sizeof(rq), .method = "POST", .url = url,
		.headers = hdrs, .n_headers = 1, .timeout_ms = c->timeout_ms,
	};
	enum luong_status st;
	const char *tok;

	cJSON_AddStringToObject(req, "client_id", c->client_id);
	cJSON_AddStringToObject(req, "client_secret", c->client_secret);
	body = h->json->print(req);
	cJSON_Delete(req);
	snprintf(url, sizeof(url), "%s/Account", c->server);
	rq.body = body;
	rq.body_len = strlen(body);
	st = h->http->request(c->ctx, &rq, &resp);
	h->mem->free(body);
	st = ac_transport(h, call, st, &resp, c->system);
	if (st != LUONG_OK)
		goto out_free_resp;
	reply = h->json->parse(resp.body, resp.body_len);
	tok = ac_str(reply, "data");
	if (resp.status / 100 != 2 || !tok) {
		struct amis_reply r = { .status = resp.status, .json = reply };
		char msg[512];

		if (call)
			h->call->set_error(call, "%s refused the connection's "
					   "credentials: %s", c->system,
					   amis_error_text(&r, msg,
							   sizeof(msg)));
		st = LUONG_E_AUTH;
		goto out_free_reply;
	}
	h->mem->free(c->token);
	c->token = h->mem->strdup(tok);
	h->kv->put(c->ctx, "token", tok);
out_free_reply:
	h->json->del(reply);
out_free_resp:
	h->http->response_free(&resp);
	return st;
}

/* The current token (copied into buf), logging in when none is known. */
static enum luong_status amis_token(struct amis_client *c,
				    struct luong_call *call, bool fresh,
				    const char *stale, char *buf, size_t len)
{
	enum luong_status st = LUONG_OK;
	char *kv = NULL;

	pthread_mutex_lock(&c->mu);
	if (!c->token && !fresh &&
	    c->h->kv->get(c->ctx, "token", &kv) == LUONG_OK) {
		c->token = kv;
	}
	/* another thread may have renewed it while we waited */
	if (fresh && c->token && stale && strcmp(c->token, stale))
		fresh = false;
	if (!c->token || fresh)
		st = amis_login(c, call);
	if (st == LUONG_OK)
		snprintf(buf, len, "%s", c->token);
	pthread_mutex_unlock(&c->mu);
	return st;
}

/*
 * One API call. path is below the server URL; body may be NULL (GET).
 * Re-authenticates once on 401 ExpiredToken / InvalidToken. Returns
 * LUONG_OK with r filled for any 2xx; otherwise the SDK contract's code
 * with the call's error set (4xx validation: LUONG_E_REMOTE; 404:
 * LUONG_E_NOTFOUND, with r filled so callers can treat it as "absent").
 */
static AC_UNUSED enum luong_status
amis_call(struct amis_client *c, struct luong_call *call, const char *method,
	  const char *path, const cJSON *body, struct amis_reply *r)
{
	const struct luong_host *h = c->h;
	char url[2048], token[512], bearer[600], msg[1024];
	char *text = body ? h->json->print(body) : NULL;
	enum luong_status st;

	memset(r, 0, sizeof(*r));
	snprintf(url, sizeof(url), "%s%s", c->server, path);
	st = amis_token(c, call, false, NULL, token, sizeof(token));
	for (int round = 0; st == LUONG_OK; round++) {
		struct luong_http_header hdrs[] = {
			{ "Content-Type", "application/json" },
			{ "Authorization", bearer },
			{ "Clientid", c->client_id },
		};
		struct luong_http_request rq = {
			.struct_size = sizeof(rq), .method = method,
			.url = url, .headers = hdrs, .n_headers = 3,
			.body = text, .body_len = text ? strlen(text) : 0,
			.timeout_ms = c->timeout_ms,
		};
		struct luong_http_response resp = { .struct_size = sizeof(resp) };
		const char *code;

		snprintf(bearer, sizeof(bearer), "Bearer %s", token);
		st = h->http->request(c->ctx, &rq, &resp);
		st = ac_transport(h, call, st, &resp, c->system);
		if (st != LUONG_OK) {
			h->http->response_free(&resp);
			break;
		}
		r->status = resp.status;
		r->json = h->json->parse(resp.body, resp.body_len);
		h->http->response_free(&resp);
		code = ac_str(r->json, "ErrorCode");
		if (r->status == 401 && round == 0 && code &&
		    (!strcmp(code, "ExpiredToken") ||
		     !strcmp(code, "InvalidToken"))) {
			/* the token ran out: log in again, once */
			h->log->log(c->ctx, LUONG_LOG_INFO,
				    "%s answered %s; signing in again",
				    c->system, code);
			amis_reply_free(c, r);
			st = amis_token(c, call, true, token, token,
					sizeof(token));
			continue;
		}
		if (r->status / 100 == 2) {
			r->data = cJSON_GetObjectItemCaseSensitive(r->json,
								   "data");
			break;
		}
		amis_error_text(r, msg, sizeof(msg));
		if (call)
			h->call->set_error(call, "%s refused %s %s: %s",
					   c->system, method, path, msg);
		st = r->status == 401 || r->status == 403 ? LUONG_E_AUTH
		     : r->status == 404 ? LUONG_E_NOTFOUND : LUONG_E_REMOTE;
		break;
	}
	h->mem->free(text);
	if (st != LUONG_OK && st != LUONG_E_NOTFOUND && st != LUONG_E_REMOTE)
		amis_reply_free(c, r);
	return st;
}

/*
 * Verifies an event's X-Amis-Signature against the raw body. Answers 401
 * itself for a forgery.
 */
static AC_UNUSED bool amis_verify(struct amis_client *c,
				  const struct luong_webhook_request *req,
				  struct luong_webhook_response *resp)
{
	const char *sig = req->header(req, "X-Amis-Signature");
	char want[48];

	if (c->webhook_secret && sig &&
	    ac_hmac_b64(c->webhook_secret, req->body, req->body_len, want) &&
	    ac_sig_equal(want, sig))
		return true;
	c->h->log->log(c->ctx, LUONG_LOG_WARN, "refused an event with %s "
		       "signature", sig ? "a wrong" : "no");
	resp->status = 401;
	return false;
}

#endif

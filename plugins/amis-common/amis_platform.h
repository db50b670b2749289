/*
 * amis_platform.h - the client side of the AMIS platform public API v2
 * (AMIS CRM, and the AMIS Kho contract designed in its style): token from
 * POST /Account kept in the connection's kv, Bearer + Clientid headers,
 * {success, code, data} answers and {ErrorCode, DevMsg, UserMsg} errors,
 * and signed events (X-Amis-Signature, base64 HMAC-SHA256 of the body).
 * Shared by amis-crm and amis-kho; static functions only. A plugin's
 * state is the struct amis_client itself (amis_plugin_init, and
 * ac_plugin_fini).
 */
#ifndef LUONG_AMIS_PLATFORM_H
#define LUONG_AMIS_PLATFORM_H

#include "amis_common.h"

struct amis_client {
	struct ac_conn k;   /* host, ctx, system, time-out, token */
	const char *server; /* base URL, e.g. .../crm/gc/api/public/api/v2 */
	const char *client_id;
	const char *client_secret;
	const char *webhook_secret;
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
	c->k.h->json->del(r->json);
	memset(r, 0, sizeof(*r));
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
		snprintf(buf, len, "HTTP %ld%s%s", r->status, code ? " " : "",
			 code ? code : "");
		return buf;
	}
	snprintf(buf, len, "%s%s%s%s%s%s", user ? user : dev, both ? " (" : "",
		 both ? dev : "", both ? ")" : "", code ? " " : "",
		 code ? code : "");
	return buf;
}

/* POST /Account; the new token goes to memory and kv. */
static enum luong_status amis_login(struct ac_conn *k, struct luong_call *call)
{
	struct amis_client *c = (struct amis_client *)k;
	const struct luong_host *h = k->h;
	char url[1024], *body;
	cJSON *req = cJSON_CreateObject();
	struct luong_http_header hdrs[] = {
		{ "Content-Type", "application/json" },
	};
	struct amis_reply r = { 0 };
	enum luong_status st;
	const char *tok;

	cJSON_AddStringToObject(req, "client_id", c->client_id);
	cJSON_AddStringToObject(req, "client_secret", c->client_secret);
	body = h->json->print(req);
	cJSON_Delete(req);
	snprintf(url, sizeof(url), "%s/Account", c->server);
	st = ac_http(k, call, "POST", url, hdrs, 1, body, &r.status, &r.json);
	h->mem->free(body);
	if (st != LUONG_OK)
		return st;
	tok = ac_str(r.json, "data");
	if (r.status / 100 != 2 || !tok) {
		char msg[512];

		if (call)
			h->call->set_error(call,
					   "%s refused the connection's "
					   "credentials: %s",
					   k->system,
					   amis_error_text(&r, msg,
							   sizeof(msg)));
		st = LUONG_E_AUTH;
	} else {
		ac_token_store(k, tok);
	}
	amis_reply_free(c, &r);
	return st;
}

static AC_UNUSED enum luong_status amis_client_init(struct amis_client *c,
						    struct luong_ctx *ctx,
						    const struct luong_host *h,
						    const char *system)
{
	memset(c, 0, sizeof(*c));
	c->server = h->config->get(ctx, "server");
	c->client_id = h->config->get(ctx, "client_id");
	c->client_secret = h->config->get(ctx, "client_secret");
	c->webhook_secret = h->config->get(ctx, "webhook_secret");
	ac_conn_init(&c->k, ctx, h, system, 15000, amis_login);
	if (!c->server || !c->client_id || !c->client_secret)
		return LUONG_E_CONFIG;
	return LUONG_OK;
}

/* A plugin's init: its state is one struct amis_client. */
static AC_UNUSED enum luong_status
amis_plugin_init(struct luong_ctx *ctx, const struct luong_host *host,
		 void **state, const char *system)
{
	enum luong_status st =
		ac_state_new(host, sizeof(struct amis_client), state);

	if (st != LUONG_OK)
		return st;
	return amis_client_init(*state, ctx, host, system);
}

/* The configuration every AMIS platform connector takes. */
#define AMIS_CONFIG(SERVER_HELP, CLIENT_ID_HELP)                               \
	{ "server", LUONG_CFG_URL, LUONG_CFG_REQUIRED, NULL, SERVER_HELP },    \
		{ "client_id", LUONG_CFG_STRING, LUONG_CFG_REQUIRED, NULL,     \
		  CLIENT_ID_HELP },                                            \
		{ "client_secret", LUONG_CFG_SECRET, LUONG_CFG_REQUIRED, NULL, \
		  "client_secret generated with the AppID" },                  \
		{ "webhook_secret", LUONG_CFG_SECRET, LUONG_CFG_REQUIRED,      \
		  NULL, "key of the events' X-Amis-Signature" },               \
		{ "timeout_ms", LUONG_CFG_INT, 0, "15000",                     \
		  "time-out of one API request" },                             \
	{                                                                      \
		0                                                              \
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
	const struct luong_host *h = c->k.h;
	char url[2048], token[512], bearer[600], msg[1024];
	char *text = body ? h->json->print(body) : NULL;
	enum luong_status st;

	memset(r, 0, sizeof(*r));
	snprintf(url, sizeof(url), "%s%s", c->server, path);
	st = ac_token(&c->k, call, false, NULL, token, sizeof(token));
	for (int round = 0; st == LUONG_OK; round++) {
		struct luong_http_header hdrs[] = {
			{ "Content-Type", "application/json" },
			{ "Authorization", bearer },
			{ "Clientid", c->client_id },
		};
		const char *code;

		snprintf(bearer, sizeof(bearer), "Bearer %s", token);
		st = ac_http(&c->k, call, method, url, hdrs, 3, text,
			     &r->status, &r->json);
		if (st != LUONG_OK)
			break;
		code = ac_str(r->json, "ErrorCode");
		if (r->status == 401 && round == 0 && ac_token_expired(code)) {
			/* the token ran out: log in again, once */
			st = ac_token_renew(&c->k, call, code,
					    "signing in "
					    "again",
					    token, sizeof(token));
			amis_reply_free(c, r);
			continue;
		}
		if (r->status / 100 == 2) {
			r->data =
				cJSON_GetObjectItemCaseSensitive(r->json, "dat"
									  "a");
			break;
		}
		amis_error_text(r, msg, sizeof(msg));
		if (call)
			h->call->set_error(call, "%s refused %s %s: %s",
					   c->k.system, method, path, msg);
		st = r->status == 401 || r->status == 403 ? LUONG_E_AUTH
		     : r->status == 404			  ? LUONG_E_NOTFOUND
							  : LUONG_E_REMOTE;
		break;
	}
	h->mem->free(text);
	if (st != LUONG_OK && st != LUONG_E_NOTFOUND && st != LUONG_E_REMOTE)
		amis_reply_free(c, r);
	return st;
}

/* ---- events ---------------------------------------------------------------- */

/* A signed event's envelope {event, id, data}; body is owned. */
struct amis_event {
	cJSON *body;
	const char *event, *id;
	const cJSON *data;
};

/*
 * Verifies an event's X-Amis-Signature against the raw body (answering
 * 401 itself for a forgery: LUONG_E_AUTH) and parses its envelope
 * (LUONG_E_INVAL when event, id or data is missing). ev->body is to be
 * freed whatever the answer.
 */
static AC_UNUSED enum luong_status
amis_event_open(struct amis_client *c, struct luong_ctx *ctx,
		const struct luong_webhook_request *req,
		struct luong_webhook_response *resp, struct amis_event *ev)
{
	const struct luong_host *h = c->k.h;
	const char *sig = req->header(req, "X-Amis-Signature");

	memset(ev, 0, sizeof(*ev));
	if (!ac_sig_valid(h, c->webhook_secret, req->body, req->body_len, sig,
			  AC_SIG_B64)) {
		/* the sender reads it in the 401's body; the host logs it */
		h->log->fail(c->k.ctx, "X-Amis-Signature is %s",
			     sig ? "wrong" : "missing");
		resp->status = 401;
		return LUONG_E_AUTH;
	}
	ev->body = h->json->parse(req->body, req->body_len);
	ev->event = ac_str(ev->body, "event");
	ev->id = ac_str(ev->body, "id");
	ev->data = cJSON_GetObjectItemCaseSensitive(ev->body, "data");
	if (!ev->event || !ev->id || !cJSON_IsObject(ev->data)) {
		h->log->log(ctx, LUONG_LOG_WARN,
			    "an event without event, id "
			    "or data was refused");
		return LUONG_E_INVAL;
	}
	return LUONG_OK;
}

/*
 * Ends an event: acknowledged with {} when st is LUONG_OK and resp is
 * given (NULL: the reply is already made), the envelope freed.
 */
static AC_UNUSED enum luong_status
amis_event_close(struct amis_client *c, struct amis_event *ev,
		 enum luong_status st, struct luong_webhook_response *resp)
{
	if (resp && st == LUONG_OK)
		ac_reply(c->k.h, resp, 200, cJSON_CreateObject());
	c->k.h->json->del(ev->body);
	return st;
}

#endif

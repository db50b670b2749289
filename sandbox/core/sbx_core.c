/* sbx_core.c - the HTTP side: one libmicrohttpd daemon per emulator,
 * routing, replies, the /_sandbox/ control API and fault injection. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sbx_int.h"

#define MAX_BODY (16u << 20)

int sbx_verbose;

/* ---------------- small helpers ---------------- */

const char *sbx_emu_name(const struct sbx_emu *emu)
{
	return emu->def->name;
}
int sbx_emu_port(const struct sbx_emu *emu)
{
	return emu->priv->port;
}
void sbx_emu_lock(struct sbx_emu *emu)
{
	pthread_mutex_lock(&emu->priv->lock);
}
void sbx_emu_unlock(struct sbx_emu *emu)
{
	pthread_mutex_unlock(&emu->priv->lock);
}

void sbx_log(const struct sbx_emu *emu, const char *fmt, ...)
{
	if (!sbx_verbose)
		return;
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	char ts[40];
	sbx_time_vn(sbx_now_ms(), SBX_TIME_ISO, ts, sizeof ts);
	fprintf(stderr, "%s [%s] %s\n", ts, emu ? emu->def->name : "sandbox",
		line);
}

double sbx_rand01(struct sbx_emu *emu)
{
	uint64_t x = emu->priv->rng; /* xorshift64 */
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	emu->priv->rng = x;
	return (double)(x >> 11) / (double)(1ULL << 53);
}

/* ---------------- requests and replies ---------------- */

const char *sbx_query(const struct sbx_req *req, const char *key)
{
	return MHD_lookup_connection_value(req->priv->conn,
					   MHD_GET_ARGUMENT_KIND, key);
}

const char *sbx_header(const struct sbx_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->priv->conn, MHD_HEADER_KIND,
					   name);
}

const char *sbx_param(const struct sbx_req *req, const char *name)
{
	for (int i = 0; i < req->priv->nparams; i++)
		if (!strcmp(req->priv->pnames[i], name))
			return req->priv->pvals[i];
	return NULL;
}

static void reply_set(struct sbx_req *req, int status, const char *ctype,
		      char *body, size_t len)
{
	struct sbx_req_priv *p = req->priv;
	free(p->rbody);
	free(p->ctype);
	p->status = status;
	p->ctype = strdup(ctype);
	p->rbody = body;
	p->rlen = len;
	p->drop = false;
}

void sbx_reply_json(struct sbx_req *req, int status, cJSON *body)
{
	char *s = body ? cJSON_PrintUnformatted(body) : strdup("null");
	cJSON_Delete(body);
	if (!s) {
		reply_set(req, 500, "text/plain", strdup("out of memory"), 13);
		return;
	}
	reply_set(req, status, "application/json; charset=utf-8", s, strlen(s));
}

void sbx_reply_raw(struct sbx_req *req, int status, const char *content_type,
		   const char *body, size_t len)
{
	char *copy = malloc(len + 1);
	if (copy) {
		memcpy(copy, body, len);
		copy[len] = '\0';
	}
	reply_set(req, copy ? status : 500, content_type, copy, copy ? len : 0);
}

void sbx_reply_header(struct sbx_req *req, const char *name, const char *value)
{
	struct sbx_req_priv *p = req->priv;
	if (!p->rheaders)
		p->rheaders = cJSON_CreateObject();
	cJSON_DeleteItemFromObjectCaseSensitive(p->rheaders, name);
	cJSON_AddStringToObject(p->rheaders, name, value);
}

void sbx_reply_drop(struct sbx_req *req)
{
	req->priv->drop = true;
	req->priv->status = -1;
}

static void reply_error(struct sbx_req *req, int status, const char *msg)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "error", msg);
	sbx_reply_json(req, status, o);
}

/* ---------------- routing ---------------- */

/* Matches path against pattern, filling params. */
static bool route_match(const char *pattern, const char *path,
			struct sbx_req_priv *p)
{
	p->nparams = 0;
	const char *pp = pattern, *sp = path;
	while (*pp) {
		if (*pp != '/' || *sp != '/')
			return false;
		pp++;
		sp++;
		const char *pe = strchrnul(pp, '/');
		const char *se = strchrnul(sp, '/');
		size_t plen = (size_t)(pe - pp), slen = (size_t)(se - sp);
		if (plen == 1 && *pp == '*' && !*pe) {
			if (p->nparams < SBX_MAX_PARAMS) {
				p->pnames[p->nparams] = "*";
				p->pvals[p->nparams++] = strdup(sp);
			}
			return true;
		}
		if (*pp == '{') {
			const char *close = memchr(pp, '}', plen);
			if (!close)
				return false;
			size_t suffix = (size_t)(pe - close - 1);
			if (slen <= suffix ||
			    memcmp(se - suffix, close + 1, suffix))
				return false;
			if (p->nparams < SBX_MAX_PARAMS) {
				static __thread char names[SBX_MAX_PARAMS][64];
				size_t nl = (size_t)(close - pp - 1);
				if (nl >= sizeof names[0])
					nl = sizeof names[0] - 1;
				memcpy(names[p->nparams], pp + 1, nl);
				names[p->nparams][nl] = '\0';
				p->pnames[p->nparams] = names[p->nparams];
				p->pvals[p->nparams++] =
					strndup(sp, slen - suffix);
			}
		} else if (plen != slen || memcmp(pp, sp, plen)) {
			return false;
		}
		pp = pe;
		sp = se;
	}
	return *sp == '\0' || (sp[0] == '/' && sp[1] == '\0');
}

static void params_clear(struct sbx_req_priv *p)
{
	for (int i = 0; i < p->nparams; i++)
		free(p->pvals[i]);
	p->nparams = 0;
}

static void dispatch(struct sbx_emu *emu, struct sbx_req *req)
{
	bool path_seen = false;
	for (const struct sbx_route *r = emu->def->routes; r && r->pattern;
	     r++) {
		if (!route_match(r->pattern, req->path, req->priv)) {
			params_clear(req->priv);
			continue;
		}
		if (strcmp(r->method, "*") &&
		    strcasecmp(r->method, req->method)) {
			path_seen = true;
			params_clear(req->priv);
			continue;
		}
		r->fn(emu, req);
		params_clear(req->priv);
		if (!req->priv->status)
			reply_error(req, 500, "handler gave no reply");
		return;
	}
	reply_error(req, path_seen ? 405 : 404,
		    path_seen ? "method not allowed" : "no route");
}

/* ---------------- request log ---------------- */

struct hdr_walk {
	cJSON *obj;
};

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind,
				      const char *key, const char *value)
{
	struct hdr_walk *w = cls;
	if (!strncasecmp(key, "x-", 2) || !strcasecmp(key, "authorization") ||
	    !strcasecmp(key, "content-type") || !strcasecmp(key, "clientid"))
		cJSON_AddStringToObject(w->obj, key, value ? value : "");
	return MHD_YES;
}

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind,
				   const char *key, const char *value)
{
	cJSON_AddStringToObject(cls, key, value ? value : "");
	return MHD_YES;
}

/* Lock held. */
static void log_request(struct sbx_emu *emu, struct sbx_req *req, int status)
{
	struct sbx_emu_priv *p = emu->priv;
	char ts[40];
	sbx_time_vn(sbx_now_ms(), SBX_TIME_ISO, ts, sizeof ts);
	cJSON *e = cJSON_CreateObject();
	cJSON_AddNumberToObject(e, "seq", (double)(p->reqlog_seq + 1));
	cJSON_AddStringToObject(e, "time", ts);
	cJSON_AddStringToObject(e, "method", req->method);
	cJSON_AddStringToObject(e, "path", req->path);
	cJSON *q = cJSON_AddObjectToObject(e, "query");
	MHD_get_connection_values(req->priv->conn, MHD_GET_ARGUMENT_KIND,
				  collect_arg, q);
	struct hdr_walk w = { cJSON_AddObjectToObject(e, "headers") };
	MHD_get_connection_values(req->priv->conn, MHD_HEADER_KIND,
				  collect_header, &w);
	if (req->json)
		cJSON_AddItemToObject(e, "body",
				      cJSON_Duplicate(req->json, true));
	else
		cJSON_AddStringToObject(e, "body", req->body);
	cJSON_AddNumberToObject(e, "status", status);
	p->reqlog_seq++;
	long slot = p->reqlog_seq % SBX_REQLOG_CAP;
	cJSON_Delete(p->reqlog[slot]);
	p->reqlog[slot] = e;
}

void sbx_record_delivery(struct sbx_emu *emu, cJSON *entry)
{
	cJSON *arr = emu->priv->deliveries;
	cJSON_AddItemToArray(arr, entry);
	while (cJSON_GetArraySize(arr) > SBX_DELIVLOG_CAP)
		cJSON_DeleteItemFromArray(arr, 0);
}

/* ---------------- control API ---------------- */

static cJSON *faults_json(const struct sbx_faults *f)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "error_rate", f->error_rate);
	cJSON_AddNumberToObject(o, "error_status", f->error_status);
	cJSON_AddNumberToObject(o, "latency_ms", (double)f->latency_ms);
	cJSON_AddNumberToObject(o, "burst_429", f->burst_429);
	cJSON_AddNumberToObject(o, "retry_after", f->retry_after);
	cJSON_AddNumberToObject(o, "timeout_ms", (double)f->timeout_ms);
	cJSON_AddNumberToObject(o, "drop_rate", f->drop_rate);
	int64_t left = f->down_until ? f->down_until - sbx_now_ms() : 0;
	cJSON_AddNumberToObject(o, "down_for_ms",
				(double)(left > 0 ? left : 0));
	return o;
}

static cJSON *webhooks_json(const struct sbx_emu_priv *p)
{
	cJSON *o = cJSON_CreateObject();
	if (p->hook_url)
		cJSON_AddStringToObject(o, "url", p->hook_url);
	else
		cJSON_AddNullToObject(o, "url");
	cJSON_AddBoolToObject(o, "secret_set",
			      p->hook_secret && *p->hook_secret);
	cJSON_AddBoolToObject(o, "duplicate", p->hook_duplicate);
	cJSON_AddNumberToObject(o, "max_attempts", p->hook_max_attempts);
	cJSON_AddNumberToObject(o, "retry_base_ms",
				(double)p->hook_retry_base_ms);
	return o;
}

static int emu_reinit(struct sbx_emu *emu)
{
	emu->priv->generation++;
	if (emu->data && emu->def->free)
		emu->def->free(emu);
	emu->data = NULL;
	return emu->def->init ? emu->def->init(emu, emu->priv->seed) : 0;
}

static void down_go(void *arg);

static void ctl_faults(struct sbx_emu *emu, struct sbx_req *req)
{
	struct sbx_faults *f = &emu->priv->faults;
	if (!strcmp(req->method, "DELETE")) {
		int64_t down = f->down_until;
		memset(f, 0, sizeof *f);
		f->down_until =
			down; /* a down window cannot be cancelled from outside */
		sbx_reply_json(req, 200, faults_json(f));
		return;
	}
	if (!strcmp(req->method, "GET")) {
		sbx_reply_json(req, 200, faults_json(f));
		return;
	}
	if (!cJSON_IsObject(req->json)) {
		reply_error(req, 400, "body must be a json object");
		return;
	}
	const cJSON *j = req->json;
	f->error_rate = sbx_jnum(j, "error_rate", f->error_rate);
	f->error_status = (int)sbx_jnum(j, "error_status", f->error_status);
	f->latency_ms = (long)sbx_jnum(j, "latency_ms", (double)f->latency_ms);
	f->burst_429 = (int)sbx_jnum(j, "burst_429", f->burst_429);
	f->retry_after = sbx_jnum(j, "retry_after", f->retry_after);
	f->timeout_ms = (long)sbx_jnum(j, "timeout_ms", (double)f->timeout_ms);
	f->drop_rate = sbx_jnum(j, "drop_rate", f->drop_rate);
	if (sbx_jbool(j, "expire_tokens", false) && emu->def->expire_tokens)
		emu->def->expire_tokens(emu);
	long down = (long)sbx_jnum(j, "down_for_ms", 0);
	if (down > 0 && !f->down_until) {
		/* go down after this answer is on its way */
		f->down_until = sbx_now_ms() + 30 + down;
		sbx_after_raw(30, down_go, emu);
	}
	sbx_reply_json(req, 200, faults_json(f));
}

static void seed_merge(cJSON *dst, const cJSON *src)
{
	for (const cJSON *it = src->child; it; it = it->next) {
		cJSON *old = cJSON_GetObjectItemCaseSensitive(dst, it->string);
		if (cJSON_IsArray(old) && cJSON_IsArray(it)) {
			for (const cJSON *e = it->child; e; e = e->next)
				cJSON_AddItemToArray(old,
						     cJSON_Duplicate(e, true));
		} else if (cJSON_IsObject(old) && cJSON_IsObject(it)) {
			seed_merge(old, it);
		} else {
			cJSON_DeleteItemFromObjectCaseSensitive(dst,
								it->string);
			cJSON_AddItemToObject(dst, it->string,
					      cJSON_Duplicate(it, true));
		}
	}
}

static void ctl_seed(struct sbx_emu *emu, struct sbx_req *req)
{
	if (!cJSON_IsObject(req->json)) {
		reply_error(req, 400, "body must be a json object");
		return;
	}
	const char *mode = sbx_query(req, "mode");
	struct sbx_emu_priv *p = emu->priv;
	cJSON *old = cJSON_Duplicate(p->seed, true);
	if (mode && !strcmp(mode, "replace")) {
		cJSON_Delete(p->seed);
		p->seed = cJSON_Duplicate(req->json, true);
	} else {
		seed_merge(p->seed, req->json);
	}
	if (emu_reinit(emu) < 0) {
		/* back to the previous seed so the emulator keeps working */
		cJSON_Delete(p->seed);
		p->seed = old;
		emu_reinit(emu);
		reply_error(req, 400, "emulator refused the seed");
		return;
	}
	cJSON_Delete(old);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "ok", true);
	sbx_reply_json(req, 200, o);
}

static void ctl_webhooks(struct sbx_emu *emu, struct sbx_req *req)
{
	struct sbx_emu_priv *p = emu->priv;
	if (!strcmp(req->method, "POST")) {
		if (!cJSON_IsObject(req->json)) {
			reply_error(req, 400, "body must be a json object");
			return;
		}
		const cJSON *j = req->json;
		if (cJSON_GetObjectItemCaseSensitive(j, "url")) {
			const char *url = sbx_jstr(j, "url");
			free(p->hook_url);
			p->hook_url = url && *url ? strdup(url) : NULL;
		}
		const char *secret = sbx_jstr(j, "secret");
		if (secret) {
			free(p->hook_secret);
			p->hook_secret = strdup(secret);
		}
		p->hook_duplicate =
			sbx_jbool(j, "duplicate", p->hook_duplicate);
		p->hook_max_attempts =
			(int)sbx_jnum(j, "max_attempts", p->hook_max_attempts);
		p->hook_retry_base_ms = (long)sbx_jnum(
			j, "retry_base_ms", (double)p->hook_retry_base_ms);
	}
	sbx_reply_json(req, 200, webhooks_json(p));
}

static void ctl_requests(struct sbx_emu *emu, struct sbx_req *req)
{
	struct sbx_emu_priv *p = emu->priv;
	if (!strcmp(req->method, "DELETE")) {
		for (int i = 0; i < SBX_REQLOG_CAP; i++) {
			cJSON_Delete(p->reqlog[i]);
			p->reqlog[i] = NULL;
		}
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "next", (double)p->reqlog_seq);
		sbx_reply_json(req, 200, o);
		return;
	}
	const char *s = sbx_query(req, "since");
	long since = s ? strtol(s, NULL, 10) : 0;
	long first = p->reqlog_seq - SBX_REQLOG_CAP + 1;
	if (since + 1 > first)
		first = since + 1;
	if (first < 1)
		first = 1;
	cJSON *o = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(o, "requests");
	for (long seq = first; seq <= p->reqlog_seq; seq++) {
		cJSON *e = p->reqlog[seq % SBX_REQLOG_CAP];
		if (e)
			cJSON_AddItemToArray(arr, cJSON_Duplicate(e, true));
	}
	cJSON_AddNumberToObject(o, "last", (double)p->reqlog_seq);
	sbx_reply_json(req, 200, o);
}

static void ctl_state(struct sbx_emu *emu, struct sbx_req *req)
{
	cJSON *st = emu->def->dump ? emu->def->dump(emu) : cJSON_CreateObject();
	if (!cJSON_IsObject(st)) {
		cJSON *wrap = cJSON_CreateObject();
		cJSON_AddItemToObject(wrap, "state", st);
		st = wrap;
	}
	cJSON_AddStringToObject(st, "emulator", emu->def->name);
	cJSON_AddItemToObject(st, "faults", faults_json(&emu->priv->faults));
	cJSON_AddItemToObject(st, "webhooks", webhooks_json(emu->priv));
	cJSON_AddItemToObject(st, "deliveries",
			      cJSON_Duplicate(emu->priv->deliveries, true));
	sbx_reply_json(req, 200, st);
}

static void control(struct sbx_emu *emu, struct sbx_req *req)
{
	const char *sub = req->path + strlen("/_sandbox/");
	bool get = !strcmp(req->method, "GET"),
	     post = !strcmp(req->method, "POST"),
	     del = !strcmp(req->method, "DELETE");
	if (!strcmp(sub, "state") && get) {
		ctl_state(emu, req);
	} else if (!strcmp(sub, "requests") && (get || del)) {
		ctl_requests(emu, req);
	} else if (!strcmp(sub, "deliveries") && get) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddItemToObject(o, "deliveries",
				      cJSON_Duplicate(emu->priv->deliveries,
						      true));
		sbx_reply_json(req, 200, o);
	} else if (!strcmp(sub, "deliveries") && del) {
		cJSON_Delete(emu->priv->deliveries);
		emu->priv->deliveries = cJSON_CreateArray();
		sbx_reply_json(req, 200, cJSON_CreateObject());
	} else if (!strcmp(sub, "faults") && (get || post || del)) {
		ctl_faults(emu, req);
	} else if (!strcmp(sub, "seed") && post) {
		ctl_seed(emu, req);
	} else if (!strcmp(sub, "reset") && post) {
		memset(&emu->priv->faults, 0, sizeof emu->priv->faults);
		if (emu_reinit(emu) < 0) {
			reply_error(req, 500,
				    "emulator failed to reinitialise");
			return;
		}
		sbx_reply_json(req, 200, cJSON_CreateObject());
	} else if (!strcmp(sub, "webhooks") && (get || post)) {
		ctl_webhooks(emu, req);
	} else if (!strncmp(sub, "act/", 4) && post) {
		for (const struct sbx_act *a = emu->def->acts; a && a->name;
		     a++) {
			if (!strcmp(a->name, sub + 4)) {
				a->fn(emu, req);
				if (!req->priv->status)
					reply_error(req, 500,
						    "act gave no reply");
				return;
			}
		}
		reply_error(req, 404, "unknown act");
	} else {
		reply_error(req, 404, "unknown control endpoint");
	}
}

/* ---------------- the MHD access handler ---------------- */

enum phase { PH_READ, PH_LATENCY, PH_TIMEOUT };

struct conn_ctx {
	struct sbx_req req;
	struct sbx_req_priv priv;
	char *body;
	size_t len, cap;
	bool too_big;
	enum phase phase;
};

static void ctx_free(struct conn_ctx *c)
{
	params_clear(&c->priv);
	free(c->priv.ctype);
	free(c->priv.rbody);
	cJSON_Delete(c->priv.rheaders);
	cJSON_Delete(c->req.json);
	free(c->body);
	free(c);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	if (*con_cls)
		ctx_free(*con_cls);
	*con_cls = NULL;
}

static enum MHD_Result send_reply(struct MHD_Connection *conn,
				  struct sbx_req_priv *p)
{
	if (p->drop)
		return MHD_NO;
	struct MHD_Response *r = MHD_create_response_from_buffer(
		p->rlen, p->rbody, MHD_RESPMEM_MUST_FREE);
	if (!r)
		return MHD_NO;
	p->rbody = NULL; /* now owned by the response */
	MHD_add_response_header(r, "Content-Type",
				p->ctype ? p->ctype : "application/json");
	for (cJSON *h = p->rheaders ? p->rheaders->child : NULL; h; h = h->next)
		MHD_add_response_header(r, h->string, h->valuestring);
	enum MHD_Result ret = MHD_queue_response(conn, (unsigned)p->status, r);
	MHD_destroy_response(r);
	return ret;
}

/* Decides the fault for an API request; lock held. Returns the phase to
 * wait in, or PH_READ to answer now (maybe with an injected reply). */
static enum phase apply_faults(struct sbx_emu *emu, struct sbx_req *req,
			       long *wait_ms)
{
	struct sbx_faults *f = &emu->priv->faults;
	if (emu->priv->going_down)
		return PH_READ;
	if (f->drop_rate > 0 && sbx_rand01(emu) < f->drop_rate) {
		sbx_reply_drop(req);
		return PH_READ;
	}
	if (f->burst_429 > 0) {
		f->burst_429--;
		char ra[32];
		double secs = f->retry_after > 0 ? f->retry_after : 1;
		snprintf(ra, sizeof ra, "%g", secs);
		sbx_reply_header(req, "Retry-After", ra);
		reply_error(req, 429, "too many requests");
		return PH_READ;
	}
	if (f->error_rate > 0 && sbx_rand01(emu) < f->error_rate) {
		reply_error(req, f->error_status ? f->error_status : 500,
			    "injected fault");
		return PH_READ;
	}
	if (f->timeout_ms > 0) {
		*wait_ms = f->timeout_ms;
		return PH_TIMEOUT;
	}
	if (f->latency_ms > 0) {
		*wait_ms = f->latency_ms;
		return PH_LATENCY;
	}
	return PH_READ;
}

static void handle(struct sbx_emu *emu, struct conn_ctx *c,
		   struct MHD_Connection *conn)
{
	struct sbx_req *req = &c->req;
	if (c->too_big) {
		reply_error(req, 413, "body too large");
		return;
	}
	if (!strncmp(req->path, "/_sandbox/", 10))
		control(emu, req);
	else
		dispatch(emu, req);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct sbx_emu *emu = cls;
	struct conn_ctx *c = *con_cls;
	if (!c) {
		c = calloc(1, sizeof *c);
		if (!c)
			return MHD_NO;
		c->req.priv = &c->priv;
		c->priv.conn = conn;
		c->req.method = method;
		c->req.path = url;
		c->req.body = "";
		*con_cls = c;
		return MHD_YES;
	}
	if (*upload_size) {
		if (c->len + *upload_size > MAX_BODY) {
			c->too_big = true;
		} else if (!c->too_big) {
			if (c->len + *upload_size + 1 > c->cap) {
				size_t ncap = c->cap ? c->cap : 1024;
				while (ncap < c->len + *upload_size + 1)
					ncap *= 2;
				char *nb = realloc(c->body, ncap);
				if (!nb)
					return MHD_NO;
				c->body = nb;
				c->cap = ncap;
			}
			memcpy(c->body + c->len, upload, *upload_size);
			c->len += *upload_size;
			c->body[c->len] = '\0';
		}
		*upload_size = 0;
		return MHD_YES;
	}
	struct sbx_req *req = &c->req;
	bool api = strncmp(url, "/_sandbox/", 10) != 0;
	pthread_mutex_lock(&emu->priv->lock);
	if (c->phase == PH_TIMEOUT) {
		log_request(emu, req, 0);
		pthread_mutex_unlock(&emu->priv->lock);
		return MHD_NO;
	}
	if (c->phase == PH_READ) {
		if (c->body) {
			req->body = c->body;
			req->body_len = c->len;
			req->json = cJSON_ParseWithLength(c->body, c->len);
		}
		if (api) {
			long wait = 0;
			enum phase ph = apply_faults(emu, req, &wait);
			if (ph != PH_READ) {
				c->phase = ph;
				pthread_mutex_unlock(&emu->priv->lock);
				MHD_suspend_connection(conn);
				sbx_resume_after(emu, conn, wait);
				return MHD_YES;
			}
		}
	}
	if (!c->priv.status)
		handle(emu, c, conn);
	if (api)
		log_request(emu, req, c->priv.drop ? 0 : c->priv.status);
	pthread_mutex_unlock(&emu->priv->lock);
	if (sbx_verbose)
		sbx_log(emu, "%s %s -> %d", method, url,
			c->priv.drop ? 0 : c->priv.status);
	return send_reply(conn, &c->priv);
}

/* ---------------- listening, down windows ---------------- */

static int open_listener(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    listen(fd, 512) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static struct MHD_Daemon *start_daemon(struct sbx_emu *emu, int fd)
{
	return MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
			MHD_USE_TURBO | MHD_ALLOW_SUSPEND_RESUME,
		0, NULL, NULL, on_request, emu, MHD_OPTION_LISTEN_SOCKET, fd,
		MHD_OPTION_THREAD_POOL_SIZE, 2u, MHD_OPTION_CONNECTION_TIMEOUT,
		60u, MHD_OPTION_CONNECTION_LIMIT, 2000u,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
		MHD_OPTION_END);
}

int sbx_emu_listen(struct sbx_emu *emu, int port)
{
	int fd = open_listener(port);
	if (fd < 0)
		return -1;
	struct sockaddr_in sa;
	socklen_t sl = sizeof sa;
	if (getsockname(fd, (struct sockaddr *)&sa, &sl) < 0)
		goto out_close;
	emu->priv->port = ntohs(sa.sin_port);
	emu->priv->daemon = start_daemon(emu, fd);
	if (!emu->priv->daemon)
		goto out_close;
	return 0;
out_close:
	close(fd);
	return -1;
}

static void down_come_back(void *arg)
{
	struct sbx_emu *emu = arg;
	int fd = open_listener(emu->priv->port);
	struct MHD_Daemon *d = fd >= 0 ? start_daemon(emu, fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		sbx_after_raw(50, down_come_back,
			      emu); /* port still busy: try again */
		return;
	}
	pthread_mutex_lock(&emu->priv->lock);
	emu->priv->daemon = d;
	emu->priv->going_down = false;
	emu->priv->faults.down_until = 0;
	pthread_mutex_unlock(&emu->priv->lock);
	sbx_log(emu, "back up on port %d", emu->priv->port);
}

/* Marks the emulator going down and stops its HTTP daemon: the listening
 * socket closes first, suspended requests resume, then the daemon ends.
 * Returns faults.down_until as it was read under the lock. */
static int64_t close_listener(struct sbx_emu *emu)
{
	pthread_mutex_lock(&emu->priv->lock);
	emu->priv->going_down = true;
	struct MHD_Daemon *d = emu->priv->daemon;
	emu->priv->daemon = NULL;
	int64_t until = emu->priv->faults.down_until;
	pthread_mutex_unlock(&emu->priv->lock);
	if (d) {
		MHD_socket fd = MHD_quiesce_daemon(d);
		/* refused at once, but closed only once the daemon is gone:
		 * its epoll thread still removes the socket from its set, and
		 * a socket closed under it is a fatal error in libmicrohttpd */
		if (fd != MHD_INVALID_SOCKET)
			shutdown(fd, SHUT_RDWR);
		sbx_resume_all(emu);
		MHD_stop_daemon(d);
		if (fd != MHD_INVALID_SOCKET)
			close(fd);
	}
	return until;
}

/* Runs on the timer thread: really close the listening socket so clients
 * get "connection refused", then listen again on the same port later. */
static void down_go(void *arg)
{
	struct sbx_emu *emu = arg;
	int64_t until = close_listener(emu);
	sbx_log(emu, "down until %lld", (long long)until);
	int64_t left = until - sbx_now_ms();
	sbx_after_raw(left > 0 ? (long)left : 0, down_come_back, emu);
}

/* ---------------- life cycle ---------------- */

struct sbx_emu *sbx_emu_create(const struct sbx_emulator *def,
			       const char *seed_dir)
{
	struct sbx_emu *emu = calloc(1, sizeof *emu);
	struct sbx_emu_priv *p = calloc(1, sizeof *p);
	if (!emu || !p)
		goto out_free;
	emu->def = def;
	emu->priv = p;
	pthread_mutex_init(&p->lock, NULL);
	p->deliveries = cJSON_CreateArray();
	p->hook_max_attempts = 20;
	p->hook_retry_base_ms = 200;
	p->rng =
		0x9e3779b97f4a7c15ULL ^ (uint64_t)sbx_now_ms() ^ (uintptr_t)emu;
	char path[4096];
	snprintf(path, sizeof path, "%s/%s.json", seed_dir ? seed_dir : ".",
		 def->name);
	char *text = sbx_read_file(path, NULL);
	if (text) {
		p->seed = cJSON_Parse(text);
		free(text);
		if (!cJSON_IsObject(p->seed)) {
			fprintf(stderr,
				"luong-sandbox: seed file %s is not a json "
				"object\n",
				path);
			goto out_free;
		}
	} else {
		p->seed = cJSON_CreateObject();
	}
	pthread_mutex_lock(&p->lock);
	int rc = def->init ? def->init(emu, p->seed) : 0;
	pthread_mutex_unlock(&p->lock);
	if (rc < 0) {
		fprintf(stderr,
			"luong-sandbox: emulator %s failed to initialise\n",
			def->name);
		goto out_free;
	}
	return emu;
out_free:
	if (p) {
		cJSON_Delete(p->seed);
		cJSON_Delete(p->deliveries);
	}
	free(p);
	free(emu);
	return NULL;
}

void sbx_emu_stop(struct sbx_emu *emu)
{
	close_listener(emu);
}

void sbx_emu_destroy(struct sbx_emu *emu)
{
	struct sbx_emu_priv *p = emu->priv;
	pthread_mutex_lock(&p->lock);
	if (emu->data && emu->def->free)
		emu->def->free(emu);
	emu->data = NULL;
	pthread_mutex_unlock(&p->lock);
	for (int i = 0; i < SBX_REQLOG_CAP; i++)
		cJSON_Delete(p->reqlog[i]);
	cJSON_Delete(p->seed);
	cJSON_Delete(p->deliveries);
	free(p->hook_url);
	free(p->hook_secret);
	pthread_mutex_destroy(&p->lock);
	free(p);
	free(emu);
}

const char *sbx_webhook_url(const struct sbx_emu *emu)
{
	return emu->priv->hook_url;
}

const char *sbx_webhook_secret(const struct sbx_emu *emu)
{
	return emu->priv->hook_secret ? emu->priv->hook_secret : "";
}

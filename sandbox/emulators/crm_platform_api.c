/*
 * crm_platform_api.c - the HTTP side of the AMIS platform layer (see
 * crm_platform.h): the {success, code, data} and error replies, /Account
 * tokens and the Bearer + Clientid check, paged and ordered lists,
 * all-or-nothing array-body writes, lookups by id and code, and the
 * routing below the base path.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* qsort_r */
#endif
#include "crm_platform.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define AMIS_TOKENS_CAP 1024
#define AMIS_BATCH_MAX 100

/* Fields the platform owns on every record: never written through the API. */
static const char *const sys_fields[] = { "id",		 "created_date",
					  "created_by",	 "modified_date",
					  "modified_by", NULL };

/* ---------------------------------------------------------------- replies */

static const char *user_msg(const char *code)
{
	if (strcmp(code, "InvalidToken") == 0)
		return "Phiên làm việc không hợp lệ, vui lòng lấy lại token";
	if (strcmp(code, "ExpiredToken") == 0)
		return "Phiên làm việc đã hết hạn, vui lòng lấy lại token";
	if (strcmp(code, "InvalidAppID") == 0)
		return "Ứng dụng không hợp lệ hoặc chưa được cấp quyền";
	if (strcmp(code, "NotFound") == 0)
		return "Không tìm thấy dữ liệu";
	if (strcmp(code, "MethodNotAllowed") == 0)
		return "Chức năng không được hỗ trợ";
	return "Dữ liệu không hợp lệ";
}

static void err_reply(struct sbx_req *req, int status, const char *code,
		      const char *user, const char *dev)
{
	char trace[37];
	sbx_uuid(trace);
	cJSON *b = cJSON_CreateObject();
	cJSON_AddStringToObject(b, "ErrorCode", code);
	cJSON_AddStringToObject(b, "DevMsg", dev);
	cJSON_AddStringToObject(b, "UserMsg", user ? user : user_msg(code));
	cJSON_AddStringToObject(b, "TraceId", trace);
	sbx_reply_json(req, status, b);
}

void amis_err(struct sbx_req *req, int status, const char *code,
	      const char *fmt, ...)
{
	char dev[AMIS_ERR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(dev, sizeof dev, fmt, ap);
	va_end(ap);
	err_reply(req, status, code, NULL, dev);
}

void amis_ok(struct sbx_req *req, int status, cJSON *data)
{
	cJSON *b = cJSON_CreateObject();
	cJSON_AddBoolToObject(b, "success", true);
	cJSON_AddStringToObject(b, "code", "");
	cJSON_AddItemToObject(b, "data", data ? data : cJSON_CreateNull());
	sbx_reply_json(req, status, b);
}

void amis_act_ok(struct sbx_req *req, cJSON *obj)
{
	cJSON *b = obj ? obj : cJSON_CreateObject();
	cJSON_AddBoolToObject(b, "ok", true);
	sbx_reply_json(req, 200, b);
}

void amis_act_err(struct sbx_req *req, int status, const char *fmt, ...)
{
	char msg[AMIS_ERR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	cJSON *b = cJSON_CreateObject();
	cJSON_AddBoolToObject(b, "ok", false);
	cJSON_AddStringToObject(b, "error", msg);
	sbx_reply_json(req, status, b);
}

/* ---------------------------------------------------------------- auth */

static void handle_account(struct amis_plat *p, struct sbx_req *req)
{
	const char *id = sbx_jstr(req->json, "client_id");
	const char *secret = sbx_jstr(req->json, "client_secret");
	if (!cJSON_IsObject(req->json) || !id || !secret) {
		amis_err(req, 400, "InvalidParam",
			 "body must be {client_id, client_secret}");
		return;
	}
	const cJSON *c;
	bool ok = false;
	cJSON_ArrayForEach (c, p->clients) {
		const char *cid = sbx_jstr(c, "client_id");
		const char *cs = sbx_jstr(c, "client_secret");
		if (cid && cs && strcmp(cid, id) == 0 &&
		    strcmp(cs, secret) == 0)
			ok = true;
	}
	if (!ok) {
		amis_err(req, 401, "InvalidAppID",
			 "unknown client_id or wrong client_secret");
		return;
	}
	char tok[65];
	sbx_random_hex(tok, 32);
	if (cJSON_GetArraySize(p->tokens) >= AMIS_TOKENS_CAP)
		cJSON_DeleteItemFromArray(p->tokens, 0);
	cJSON *t = cJSON_CreateObject();
	cJSON_AddStringToObject(t, "token", tok);
	cJSON_AddStringToObject(t, "client_id", id);
	cJSON_AddNumberToObject(t, "expires_ms",
				(double)(sbx_now_ms() + p->token_ttl_ms));
	cJSON_AddBoolToObject(t, "expired", false);
	cJSON_AddItemToArray(p->tokens, t);
	cJSON *b = cJSON_CreateObject();
	cJSON_AddBoolToObject(b, "success", true);
	cJSON_AddStringToObject(b, "code", "");
	cJSON_AddStringToObject(b, "data", tok);
	sbx_reply_json(req, 200, b);
}

/* 0 when the request carries a live token of the Clientid it names. */
static int check_auth(struct amis_plat *p, struct sbx_req *req)
{
	const char *auth = sbx_header(req, "Authorization");
	if (!auth || !*auth) {
		amis_err(req, 401, "InvalidToken",
			 "missing authorization header");
		return -1;
	}
	if (strncasecmp(auth, "Bearer ", 7) == 0)
		auth += 7;
	while (*auth == ' ')
		auth++;
	const cJSON *t, *found = NULL;
	cJSON_ArrayForEach (t, p->tokens) {
		const char *s = sbx_jstr(t, "token");
		if (s && strcmp(s, auth) == 0)
			found = t;
	}
	if (!found) {
		amis_err(req, 401, "InvalidToken", "token is not valid");
		return -1;
	}
	if (sbx_jbool(found, "expired", false) ||
	    sbx_now_ms() >= (int64_t)sbx_jnum(found, "expires_ms", 0)) {
		amis_err(req, 401, "ExpiredToken", "token has expired");
		return -1;
	}
	const char *cid = sbx_header(req, "Clientid");
	if (!cid || strcmp(cid, sbx_jstr(found, "client_id")) != 0) {
		amis_err(req, 401, "InvalidAppID",
			 "clientid header missing or not the token's client");
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- list */

struct sort_ctx {
	const char *field;
	bool desc;
};

static int cmp_json(const cJSON *a, const cJSON *b)
{
	bool an = !a || cJSON_IsNull(a), bn = !b || cJSON_IsNull(b);
	if (an || bn)
		return an == bn ? 0 : (an ? -1 : 1);
	if (cJSON_IsNumber(a) && cJSON_IsNumber(b))
		return a->valuedouble < b->valuedouble
			       ? -1
			       : a->valuedouble > b->valuedouble;
	if (cJSON_IsString(a) && cJSON_IsString(b))
		return strcmp(a->valuestring, b->valuestring);
	if (cJSON_IsBool(a) && cJSON_IsBool(b))
		return cJSON_IsTrue(a) - cJSON_IsTrue(b);
	return cJSON_IsNumber(a) ? -1 : 1;
}

static int cmp_rows(const void *x, const void *y, void *arg)
{
	const struct sort_ctx *s = arg;
	const cJSON *a = *(const cJSON *const *)x,
		    *b = *(const cJSON *const *)y;
	int c = cmp_json(cJSON_GetObjectItemCaseSensitive(a, s->field),
			 cJSON_GetObjectItemCaseSensitive(b, s->field));
	if (c == 0) /* ties by id keep the order stable and deterministic */
		c = amis_id(a) < amis_id(b) ? -1 : amis_id(a) > amis_id(b);
	return s->desc ? -c : c;
}

/* Parses a positive int query parameter; -1 when malformed. */
static long query_long(const struct sbx_req *req, const char *key, long dflt)
{
	const char *s = sbx_query(req, key);
	if (!s || !*s)
		return dflt;
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (*end || errno || v < 1)
		return -1;
	return v;
}

static bool valid_field_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!islower((unsigned char)*s) &&
		    !isdigit((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

/* Designed filters: query key -> field (exact match, numbers by value). */
static bool row_matches(const cJSON *row, const struct sbx_req *req,
			const char *const *filters)
{
	for (const char *const *f = filters; f && f[0]; f += 2) {
		const char *want = sbx_query(req, f[0]);
		if (!want)
			continue;
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, f[1]);
		if (cJSON_IsNumber(v)) {
			if ((long)v->valuedouble != atol(want))
				return false;
		} else if (!cJSON_IsString(v) ||
			   strcmp(v->valuestring, want) != 0) {
			return false;
		}
	}
	return true;
}

static void handle_list(struct amis_table *t, struct sbx_req *req,
			const char *const *filters)
{
	long page = query_long(req, "page", 1);
	long size = query_long(req, "pageSize", 10);
	if (page < 0 || size < 0) {
		amis_err(req, 400, "InvalidParam",
			 "page and pageSize must be positive integers");
		return;
	}
	if (size > 100)
		size = 100; /* the documented cap */
	struct sort_ctx sc = { "modified_date", true };
	const char *ob = sbx_query(req, "orderBy");
	if (ob && *ob) {
		if (!valid_field_name(ob)) {
			amis_err(req, 400, "InvalidParam",
				 "orderBy '%s' is not a field name", ob);
			return;
		}
		sc.field = ob;
	}
	const char *desc = sbx_query(req, "isDescending");
	if (desc && *desc) {
		if (strcasecmp(desc, "true") == 0)
			sc.desc = true;
		else if (strcasecmp(desc, "false") == 0)
			sc.desc = false;
		else {
			amis_err(req, 400, "InvalidParam",
				 "isDescending must be true or false");
			return;
		}
	}
	int n = cJSON_GetArraySize(t->rows);
	const cJSON **v = calloc((size_t)n + 1, sizeof *v);
	if (!v) {
		amis_err(req, 500, "Exception", "out of memory");
		return;
	}
	int m = 0;
	const cJSON *r;
	cJSON_ArrayForEach (r, t->rows)
		if (row_matches(r, req, filters))
			v[m++] = r;
	qsort_r(v, (size_t)m, sizeof *v, cmp_rows, &sc);
	cJSON *data = cJSON_CreateArray();
	long from = (page - 1) * size;
	for (long i = from; i < m && i < from + size; i++)
		cJSON_AddItemToArray(data, cJSON_Duplicate(v[i], true));
	free(v);
	cJSON *b = cJSON_CreateObject();
	cJSON_AddBoolToObject(b, "success", true);
	cJSON_AddStringToObject(b, "code", "");
	cJSON_AddItemToObject(b, "data", data);
	cJSON_AddNumberToObject(b, "total", m); /* designed extra */
	sbx_reply_json(req, 200, b);
}

/* ---------------------------------------------------------------- writes */

static int forbidden_field(const struct amis_res *res, const cJSON *obj,
			   bool create, char *err, size_t n)
{
	const cJSON *kv;
	cJSON_ArrayForEach (kv, obj) {
		if (!create && strcmp(kv->string, "id") == 0)
			continue;
		if (amis_in_list(kv->string, sys_fields) ||
		    (res->readonly &&
		     amis_in_list(kv->string, res->readonly))) {
			snprintf(err, n, "%s is not allowed on %s", kv->string,
				 create ? "POST" : "PUT");
			return -1;
		}
	}
	return 0;
}

static bool body_is_object_array(const cJSON *b)
{
	if (!cJSON_IsArray(b) || cJSON_GetArraySize(b) == 0)
		return false;
	const cJSON *x;
	cJSON_ArrayForEach (x, b)
		if (!cJSON_IsObject(x))
			return false;
	return true;
}

/* A POST/PUT body: 1..AMIS_BATCH_MAX objects; false after answering 400. */
static bool batch_ok(struct sbx_req *req)
{
	if (!body_is_object_array(req->json)) {
		amis_err(req, 400, "InvalidParam",
			 "body must be a non-empty json array of objects");
		return false;
	}
	if (cJSON_GetArraySize(req->json) > AMIS_BATCH_MAX) {
		amis_err(req, 400, "InvalidParam",
			 "at most %d records per call", AMIS_BATCH_MAX);
		return false;
	}
	return true;
}

/* A catalogue written through the API tells its webhook, as CRM does for
 * any edit: a connector sees its own writes come back (echo). */
static void api_event(struct amis_plat *p, struct sbx_emu *emu,
		      struct amis_table *t, const cJSON *data, bool created)
{
	const char *key = t->res->event_key;
	char event[64];
	const cJSON *rec;

	if (!key || !emu)
		return;
	snprintf(event, sizeof event, "%s.%s", key,
		 created ? "created" : "updated");
	cJSON_ArrayForEach (rec, data) {
		cJSON *d = cJSON_CreateObject();

		cJSON_AddItemToObject(d, key, cJSON_Duplicate(rec, true));
		cJSON_AddStringToObject(d, "changed_by", "api");
		amis_emit(p, emu, event, d);
	}
}

static void handle_create(struct amis_plat *p, struct sbx_emu *emu,
			  struct amis_table *t, struct sbx_req *req)
{
	char err[AMIS_ERR_MAX];
	if (!batch_ok(req))
		return;
	/* All or nothing: records are stored one by one and rolled back. */
	long ids[AMIS_BATCH_MAX];
	int done = 0, i = 0;
	long save_id = t->next_id, save_no = t->next_no;
	const cJSON *item;
	cJSON *data = cJSON_CreateArray();
	cJSON_ArrayForEach (item, req->json) {
		if (forbidden_field(t->res, item, true, err, sizeof err) < 0)
			goto out_rollback;
		cJSON *rec = amis_create(p, t, cJSON_Duplicate(item, true), err,
					 sizeof err);
		if (!rec)
			goto out_rollback;
		ids[done++] = amis_id(rec);
		cJSON_AddItemToArray(data, cJSON_Duplicate(rec, true));
		i++;
	}
	api_event(p, emu, t, data, true);
	amis_ok(req, 201, data);
	return;
out_rollback:
	for (int k = 0; k < done; k++)
		amis_remove(t, ids[k]);
	t->next_id = save_id;
	t->next_no = save_no;
	cJSON_Delete(data);
	amis_err(req, 400, "InvalidParam", "item %d: %s", i, err);
}

static void handle_update(struct amis_plat *p, struct sbx_emu *emu,
			  struct amis_table *t, struct sbx_req *req)
{
	char err[AMIS_ERR_MAX];
	if (!batch_ok(req))
		return;
	/* Validate every merged copy against a snapshot, then commit. */
	cJSON *snapshot = cJSON_Duplicate(t->rows, true);
	cJSON *data = cJSON_CreateArray();
	int i = 0;
	const cJSON *item;
	cJSON_ArrayForEach (item, req->json) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(item, "id");
		if (!cJSON_IsNumber(id)) {
			snprintf(err, sizeof err, "id is required");
			goto out_rollback;
		}
		if (forbidden_field(t->res, item, false, err, sizeof err) < 0)
			goto out_rollback;
		cJSON *rec = amis_update(p, t, (long)id->valuedouble, item, err,
					 sizeof err);
		if (!rec)
			goto out_rollback;
		cJSON_AddItemToArray(data, cJSON_Duplicate(rec, true));
		i++;
	}
	cJSON_Delete(snapshot);
	api_event(p, emu, t, data, false);
	amis_ok(req, 200, data);
	return;
out_rollback:
	cJSON_Delete(t->rows);
	t->rows = snapshot;
	cJSON_Delete(data);
	amis_err(req, 400, "InvalidParam", "item %d: %s", i, err);
}

static void handle_delete(struct amis_plat *p, struct sbx_emu *emu,
			  struct amis_table *t, struct sbx_req *req)
{
	(void)emu;
	char err[AMIS_ERR_MAX];
	const cJSON *b = req->json;
	if (!cJSON_IsArray(b) || cJSON_GetArraySize(b) == 0) {
		amis_err(req, 400, "InvalidParam",
			 "body must be a non-empty json array of ids");
		return;
	}
	const cJSON *x;
	cJSON_ArrayForEach (x, b) {
		long id = cJSON_IsNumber(x)   ? (long)x->valuedouble
			  : cJSON_IsString(x) ? atol(x->valuestring)
					      : 0;
		const cJSON *rec = amis_find_id(t, id);
		if (!rec) {
			amis_err(req, 400, "InvalidParam", "id %ld not found",
				 id);
			return;
		}
		if (t->res->can_delete &&
		    t->res->can_delete(p->ctx, t, rec, err, sizeof err)) {
			err_reply(req, 400, "HasRelatedDocuments", err, err);
			return;
		}
	}
	cJSON *data = cJSON_CreateArray();
	cJSON_ArrayForEach (x, b) {
		long id = cJSON_IsNumber(x) ? (long)x->valuedouble
					    : atol(x->valuestring);
		amis_remove(t, id);
		cJSON_AddItemToArray(data, cJSON_CreateNumber((double)id));
	}
	amis_ok(req, 200, data);
}

static void handle_lookup(struct amis_table *t, struct sbx_req *req,
			  bool by_code)
{
	const char *q = sbx_query(req, by_code ? "code" : "id");
	if (!q || !*q) {
		amis_err(req, 400, "InvalidParam",
			 "query parameter %s is required",
			 by_code ? "code" : "id");
		return;
	}
	const cJSON *rec =
		by_code ? amis_find_code(t, q) : amis_find_id(t, atol(q));
	if (!rec) {
		amis_err(req, 404, "NotFound", "no %s with %s '%s'",
			 t->res->name, by_code ? "code" : "id", q);
		return;
	}
	amis_ok(req, 200, cJSON_Duplicate(rec, true));
}

/* ---------------------------------------------------------------- routing */

void amis_handle(struct amis_plat *p, struct sbx_emu *emu, struct sbx_req *req)
{
	size_t bl = strlen(p->base);
	const char *rest = req->path + bl;
	if (strncmp(req->path, p->base, bl) != 0 || *rest != '/') {
		amis_err(req, 404, "NotFound", "no such endpoint");
		return;
	}
	rest++;
	if (strcmp(rest, "Account") == 0) {
		if (strcmp(req->method, "POST") != 0) {
			amis_err(req, 405, "MethodNotAllowed",
				 "use POST /Account");
			return;
		}
		handle_account(p, req);
		return;
	}
	if (check_auth(p, req) < 0)
		return;
	for (const struct amis_custom *c = p->custom; c && c->method; c++) {
		if (strcmp(c->method, req->method) == 0 &&
		    strcmp(c->subpath, rest) == 0) {
			c->fn(p->ctx, emu, req);
			return;
		}
	}
	char res[64];
	const char *slash = strchr(rest, '/');
	size_t rl = slash ? (size_t)(slash - rest) : strlen(rest);
	if (rl == 0 || rl >= sizeof res) {
		amis_err(req, 404, "NotFound", "no such endpoint");
		return;
	}
	memcpy(res, rest, rl);
	res[rl] = '\0';
	struct amis_table *t = amis_table(p, res);
	if (!t) {
		amis_err(req, 404, "NotFound", "unknown resource %s", res);
		return;
	}
	const struct amis_res *r = t->res;
	const char *sub = slash ? slash + 1 : NULL;
	if (sub) {
		bool by_code = strcmp(sub, "Code") == 0;
		if (!by_code && strcmp(sub, "ID") != 0) {
			amis_err(req, 404, "NotFound", "no such endpoint");
			return;
		}
		if (strcmp(req->method, "GET") != 0) {
			amis_err(req, 405, "MethodNotAllowed",
				 "lookups are GET only");
			return;
		}
		handle_lookup(t, req, by_code);
		return;
	}
	const char *m = req->method;
	static const struct {
		const char *method;
		unsigned deny;	  /* resource flag that forbids it */
		const char *done; /* for the 405 message */
		void (*fn)(struct amis_plat *p, struct sbx_emu *emu,
			   struct amis_table *t, struct sbx_req *req);
	} writes[] = {
		{ "POST", AMIS_RES_NO_CREATE, "created", handle_create },
		{ "PUT", AMIS_RES_NO_UPDATE, "updated", handle_update },
		{ "DELETE", AMIS_RES_NO_DELETE, "deleted", handle_delete },
	};
	if (strcmp(m, "GET") == 0) {
		handle_list(t, req, r->filters);
		return;
	}
	for (size_t i = 0; i < sizeof writes / sizeof writes[0]; i++) {
		if (strcmp(m, writes[i].method) != 0)
			continue;
		if (r->flags & writes[i].deny)
			amis_err(req, 405, "MethodNotAllowed",
				 "%s cannot be %s through the api", r->name,
				 writes[i].done);
		else
			writes[i].fn(p, emu, t, req);
		return;
	}
	amis_err(req, 405, "MethodNotAllowed", "method %s not supported", m);
}

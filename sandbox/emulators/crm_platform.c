/*
 * crm_platform.c - the AMIS platform public API v2 layer shared by the CRM
 * and Kho emulators (see crm_platform.h, sandbox/docs/crm.md and kho.md).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* qsort_r, asprintf */
#endif
#include "crm_platform.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define AMIS_TOKENS_CAP 1024
#define AMIS_EVENTS_CAP 512
#define AMIS_BATCH_MAX 100

/* Fields the platform owns on every record: never written through the API. */
static const char *const sys_fields[] = { "id",		 "created_date",
					  "created_by",	 "modified_date",
					  "modified_by", NULL };

/* ---------------------------------------------------------------- helpers */

void amis_set(cJSON *obj, const char *key, cJSON *val)
{
	if (!val)
		return;
	if (cJSON_GetObjectItemCaseSensitive(obj, key))
		cJSON_ReplaceItemInObjectCaseSensitive(obj, key, val);
	else
		cJSON_AddItemToObject(obj, key, val);
}

void amis_set_str(cJSON *obj, const char *key, const char *s)
{
	amis_set(obj, key, s ? cJSON_CreateString(s) : cJSON_CreateNull());
}

void amis_set_num(cJSON *obj, const char *key, double v)
{
	amis_set(obj, key, cJSON_CreateNumber(v));
}

long amis_id(const cJSON *rec)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(rec, "id");
	return cJSON_IsNumber(id) ? (long)id->valuedouble : 0;
}

bool amis_in_list(const char *s, const char *const *list)
{
	if (!s)
		return false;
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

double amis_round(double v)
{
	return v < 0 ? -floor(-v + 0.5) : floor(v + 0.5);
}

void amis_now_iso(char *buf, size_t n)
{
	sbx_time_vn(sbx_now_ms(), SBX_TIME_ISO, buf, n);
}

void amis_today(char *buf, size_t n)
{
	sbx_time_vn(sbx_now_ms(), SBX_TIME_DATE, buf, n);
}

void amis_touch(cJSON *rec, bool created)
{
	char ts[40];
	amis_now_iso(ts, sizeof ts);
	if (created ||
	    !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(rec, "created_"
								  "date")))
		amis_set_str(rec, "created_date", ts);
	amis_set_str(rec, "modified_date", ts);
}

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

/* ---------------------------------------------------------------- tables */

struct amis_table *amis_table(struct amis_plat *p, const char *name)
{
	for (size_t i = 0; i < p->ntables; i++)
		if (strcmp(p->tables[i].res->name, name) == 0)
			return &p->tables[i];
	return NULL;
}

cJSON *amis_find_id(struct amis_table *t, long id)
{
	cJSON *r;
	cJSON_ArrayForEach (r, t->rows)
		if (amis_id(r) == id)
			return r;
	return NULL;
}

cJSON *amis_find_by(struct amis_table *t, const char *field, const char *val)
{
	if (!val)
		return NULL;
	cJSON *r;
	cJSON_ArrayForEach (r, t->rows) {
		const char *s = sbx_jstr(r, field);
		if (s && strcmp(s, val) == 0)
			return r;
	}
	return NULL;
}

cJSON *amis_find_code(struct amis_table *t, const char *code)
{
	return t->res->code_field ? amis_find_by(t, t->res->code_field, code)
				  : NULL;
}

static void table_remove_ptr(struct amis_table *t, const cJSON *rec)
{
	int i = 0;
	cJSON *r;
	cJSON_ArrayForEach (r, t->rows) {
		if (r == rec) {
			cJSON_DeleteItemFromArray(t->rows, i);
			return;
		}
		i++;
	}
}

void amis_remove(struct amis_table *t, long id)
{
	cJSON *r = amis_find_id(t, id);
	if (r)
		table_remove_ptr(t, r);
}

/* A code is free when no stored row other than self_id holds it. */
static bool code_taken(struct amis_table *t, const char *code, long self_id)
{
	cJSON *r = amis_find_code(t, code);
	return r && amis_id(r) != self_id;
}

static void assign_code(struct amis_table *t, cJSON *rec)
{
	const char *cf = t->res->code_field;
	if (!cf || !t->res->code_prefix)
		return;
	const char *cur = sbx_jstr(rec, cf);
	if (cur && *cur)
		return;
	char code[64];
	do
		snprintf(code, sizeof code, "%s%05ld", t->res->code_prefix,
			 ++t->next_no);
	while (amis_find_code(t, code));
	amis_set_str(rec, cf, code);
}

static int check_record(struct amis_plat *p, struct amis_table *t, cJSON *rec,
			const cJSON *old, char *err, size_t n)
{
	const char *cf = t->res->code_field;
	if (cf) {
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(rec, cf);
		if (c && !cJSON_IsString(c) && !cJSON_IsNull(c)) {
			snprintf(err, n, "%s must be a string", cf);
			return -1;
		}
		const char *code = sbx_jstr(rec, cf);
		if ((!code || !*code) && !t->res->code_prefix) {
			snprintf(err, n, "%s is required", cf);
			return -1;
		}
		if (code && *code &&
		    code_taken(t, code, old ? amis_id(old) : 0)) {
			snprintf(err, n, "%s '%s' already exists", cf, code);
			return -1;
		}
	}
	return t->res->check ? t->res->check(p->ctx, t, rec, old, err, n) : 0;
}

cJSON *amis_create(struct amis_plat *p, struct amis_table *t, cJSON *rec,
		   char *err, size_t n)
{
	if (check_record(p, t, rec, NULL, err, n) < 0) {
		cJSON_Delete(rec);
		return NULL;
	}
	assign_code(t, rec);
	amis_set_num(rec, "id", (double)++t->next_id);
	amis_touch(rec, true);
	cJSON_AddItemToArray(t->rows, rec);
	return rec;
}

/* Builds the merged copy of a stored record and a patch; NULL with err. */
static cJSON *merge_patch(struct amis_plat *p, struct amis_table *t,
			  const cJSON *stored, const cJSON *patch, char *err,
			  size_t n)
{
	cJSON *copy = cJSON_Duplicate(stored, true);
	if (!copy) {
		snprintf(err, n, "out of memory");
		return NULL;
	}
	const cJSON *kv;
	cJSON_ArrayForEach (kv, patch) {
		if (strcmp(kv->string, "id") == 0)
			continue;
		int rc = 1;
		if (t->res->merge)
			rc = t->res->merge(p->ctx, t, copy, kv->string, kv, err,
					   n);
		if (rc < 0)
			goto out_free_copy;
		if (rc > 0)
			amis_set(copy, kv->string, cJSON_Duplicate(kv, true));
	}
	return copy;
out_free_copy:
	cJSON_Delete(copy);
	return NULL;
}

static void replace_row(struct amis_table *t, const cJSON *old, cJSON *rec)
{
	int i = 0;
	cJSON *r;
	cJSON_ArrayForEach (r, t->rows) {
		if (r == old) {
			cJSON_ReplaceItemInArray(t->rows, i, rec);
			return;
		}
		i++;
	}
	cJSON_Delete(rec);
}

cJSON *amis_update(struct amis_plat *p, struct amis_table *t, long id,
		   const cJSON *patch, char *err, size_t n)
{
	cJSON *stored = amis_find_id(t, id);
	if (!stored) {
		snprintf(err, n, "id %ld not found", id);
		return NULL;
	}
	cJSON *copy = merge_patch(p, t, stored, patch, err, n);
	if (!copy)
		return NULL;
	if (check_record(p, t, copy, stored, err, n) < 0) {
		cJSON_Delete(copy);
		return NULL;
	}
	amis_touch(copy, false);
	replace_row(t, stored, copy);
	return copy;
}

int amis_table_seed(struct amis_plat *p, struct amis_table *t,
		    const cJSON *rows)
{
	const cJSON *r;
	char err[AMIS_ERR_MAX];
	cJSON_ArrayForEach (r, rows) {
		cJSON *rec = cJSON_Duplicate(r, true);
		long id = amis_id(rec);
		if (check_record(p, t, rec, NULL, err, sizeof err) < 0) {
			fprintf(stderr, "sandbox %s: bad seed row in %s: %s\n",
				p->name, t->res->name, err);
			cJSON_Delete(rec);
			return -1;
		}
		assign_code(t, rec);
		if (id <= 0)
			id = t->next_id + 1;
		if (id > t->next_id)
			t->next_id = id;
		amis_set_num(rec, "id", (double)id);
		if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(rec, "modi"
									  "fied"
									  "_dat"
									  "e")))
			amis_touch(rec, false);
		cJSON_AddItemToArray(t->rows, rec);
	}
	return 0;
}

cJSON *amis_act_target(struct amis_table *t, const cJSON *body,
		       const char *id_field, const char *code_field)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(body, id_field);
	if (cJSON_IsNumber(id))
		return amis_find_id(t, (long)id->valuedouble);
	if (code_field)
		return amis_find_code(t, sbx_jstr(body, code_field));
	return NULL;
}

/* ---------------------------------------------------------------- auth */

int amis_plat_init(struct amis_plat *p, const cJSON *seed,
		   const char *default_client, const char *default_secret)
{
	const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(seed, "config");
	double ttl = sbx_jnum(cfg, "token_ttl_seconds",
			      sbx_jnum(cfg, "token_ttl_s", 86400));
	p->token_ttl_ms = (int64_t)(ttl * 1000.0);
	const cJSON *clients = cJSON_GetObjectItemCaseSensitive(seed, "client"
								      "s");
	p->clients = cJSON_IsArray(clients) ? cJSON_Duplicate(clients, true)
					    : cJSON_CreateArray();
	if (cJSON_GetArraySize(p->clients) == 0) {
		cJSON *c = cJSON_CreateObject();
		cJSON_AddStringToObject(c, "client_id", default_client);
		cJSON_AddStringToObject(c, "client_secret", default_secret);
		cJSON_AddItemToArray(p->clients, c);
	}
	p->tokens = cJSON_CreateArray();
	p->events = cJSON_CreateArray();
	for (size_t i = 0; i < p->ntables; i++)
		p->tables[i].rows = cJSON_CreateArray();
	return p->clients && p->tokens && p->events ? 0 : -1;
}

void amis_plat_free(struct amis_plat *p)
{
	cJSON_Delete(p->clients);
	cJSON_Delete(p->tokens);
	cJSON_Delete(p->events);
	for (size_t i = 0; i < p->ntables; i++) {
		cJSON_Delete(p->tables[i].rows);
		p->tables[i].rows = NULL;
	}
}

void amis_plat_expire(struct amis_plat *p)
{
	cJSON *t;
	cJSON_ArrayForEach (t, p->tokens)
		amis_set(t, "expired", cJSON_CreateTrue());
}

cJSON *amis_plat_dump(struct amis_plat *p)
{
	cJSON *d = cJSON_CreateObject();
	cJSON *cfg = cJSON_AddObjectToObject(d, "config");
	cJSON_AddNumberToObject(cfg, "token_ttl_seconds",
				(double)(p->token_ttl_ms / 1000));
	cJSON_AddStringToObject(cfg, "base", p->base);
	cJSON_AddItemToObject(d, "clients", cJSON_Duplicate(p->clients, true));
	cJSON_AddItemToObject(d, "tokens", cJSON_Duplicate(p->tokens, true));
	for (size_t i = 0; i < p->ntables; i++)
		cJSON_AddItemToObject(d, p->tables[i].res->name,
				      cJSON_Duplicate(p->tables[i].rows, true));
	cJSON *ev = cJSON_AddArrayToObject(d, "events");
	const cJSON *e;
	cJSON_ArrayForEach (e, p->events) {
		cJSON *x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "id", sbx_jstr(e, "id"));
		cJSON_AddStringToObject(x, "event", sbx_jstr(e, "event"));
		cJSON_AddNumberToObject(x, "delivery",
					sbx_jnum(e, "delivery", 0));
		cJSON_AddItemToArray(ev, x);
	}
	return d;
}

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

/* ---------------------------------------------------------------- events */

/* Content type, event name and id, source and the base64 HMAC-SHA256 of the
 * raw body keyed by the configured webhook secret. */
static int make_headers(struct sbx_emu *emu, const struct amis_plat *p,
			const char *event, const char *id, const char *body,
			char *headers[6])
{
	const char *secret = sbx_webhook_secret(emu);
	char *sig =
		sbx_hmac_sha256_b64(secret, strlen(secret), body, strlen(body));
	memset(headers, 0, 6 * sizeof headers[0]);
	if (!sig)
		return -1;
	int rc = 0;
	if (asprintf(&headers[0], "Content-Type: application/json; "
				  "charset=utf-8") < 0 ||
	    asprintf(&headers[1], "X-Amis-Event: %s", event) < 0 ||
	    asprintf(&headers[2], "X-Amis-Event-Id: %s", id) < 0 ||
	    asprintf(&headers[3], "X-Amis-Source: amis-%s", p->name) < 0 ||
	    asprintf(&headers[4], "X-Amis-Signature: %s", sig) < 0) {
		for (int i = 0; i < 6; i++) {
			free(headers[i]);
			headers[i] = NULL;
		}
		rc = -1;
	}
	free(sig);
	return rc;
}

int amis_event_build(struct amis_plat *p, struct sbx_emu *emu,
		     const char *event, cJSON *data, char **body,
		     char *headers[6], char id_out[48])
{
	char ts[40];
	amis_now_iso(ts, sizeof ts);
	snprintf(id_out, 48, "%s-evt-%06ld", p->name, ++p->event_seq);
	cJSON *e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "event", event);
	cJSON_AddStringToObject(e, "id", id_out);
	cJSON_AddStringToObject(e, "occurred_at", ts);
	char src[32];
	snprintf(src, sizeof src, "amis-%s", p->name);
	cJSON_AddStringToObject(e, "source", src);
	cJSON_AddItemToObject(e, "data", data ? data : cJSON_CreateObject());
	*body = cJSON_PrintUnformatted(e);
	cJSON_Delete(e);
	memset(headers, 0, 6 * sizeof headers[0]);
	if (!*body)
		return -1;
	if (make_headers(emu, p, event, id_out, *body, headers) < 0)
		goto out_free_body;
	return 0;
out_free_body:
	free(*body);
	*body = NULL;
	return -1;
}

void amis_event_free(char *body, char *headers[6])
{
	free(body);
	for (int i = 0; i < 6; i++) {
		free(headers[i]);
		headers[i] = NULL;
	}
}

static long post_event(struct sbx_emu *emu, const char *event, const char *body,
		       char *const headers[6])
{
	struct sbx_hook h = {
		.topic = event,
		.body = body,
		.body_len = strlen(body),
		.headers = (const char *const *)headers,
	};
	return sbx_webhook_post(emu, &h);
}

const char *amis_emit(struct amis_plat *p, struct sbx_emu *emu,
		      const char *event, cJSON *data)
{
	char *body, *headers[6];
	char id[48];
	if (amis_event_build(p, emu, event, data, &body, headers, id) < 0)
		return NULL;
	long did = post_event(emu, event, body, headers);
	if (cJSON_GetArraySize(p->events) >= AMIS_EVENTS_CAP)
		cJSON_DeleteItemFromArray(p->events, 0);
	cJSON *log = cJSON_CreateObject();
	cJSON_AddStringToObject(log, "id", id);
	cJSON_AddStringToObject(log, "event", event);
	cJSON_AddStringToObject(log, "body", body);
	cJSON_AddNumberToObject(log, "delivery", (double)did);
	cJSON_AddItemToArray(p->events, log);
	amis_event_free(body, headers);
	return sbx_jstr(log, "id");
}

int amis_resend(struct amis_plat *p, struct sbx_emu *emu, const char *id)
{
	const cJSON *e, *found = NULL;
	cJSON_ArrayForEach (e, p->events) {
		const char *s = sbx_jstr(e, "id");
		if (id && s && strcmp(s, id) == 0)
			found = e;
	}
	if (!found)
		return -1;
	/* The stored body is re-signed with the current secret, byte for byte. */
	const char *body = sbx_jstr(found, "body");
	const char *event = sbx_jstr(found, "event");
	char *headers[6];
	if (make_headers(emu, p, event, id, body, headers) < 0)
		return -1;
	int rc = post_event(emu, event, body, headers) > 0 ? 0 : -1;
	amis_event_free(NULL, headers);
	return rc;
}

void amis_act_resend(struct amis_plat *p, struct sbx_emu *emu,
		     struct sbx_req *req)
{
	const char *id = sbx_jstr(req->json, "id");
	if (amis_resend(p, emu, id) < 0) {
		amis_act_err(req, 404, "no logged event with id '%s'",
			     id ? id : "");
		return;
	}
	amis_act_ok(req, NULL);
}

int amis_need_str(const cJSON *rec, const char *key, char *err, size_t n)
{
	const char *s = sbx_jstr(rec, key);
	if (!s || !*s) {
		snprintf(err, n, "%s is required", key);
		return -1;
	}
	return 0;
}

int amis_opt_num(const cJSON *rec, const char *key, double min, char *err,
		 size_t n)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, key);
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsNumber(v) || v->valuedouble < min) {
		snprintf(err, n, "%s must be a number >= %g", key, min);
		return -1;
	}
	return 0;
}

int amis_check_date(cJSON *rec, const char *key, bool dflt_today, char *err,
		    size_t n)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, key);
	if (!v || cJSON_IsNull(v)) {
		if (dflt_today) {
			char d[16];
			amis_today(d, sizeof d);
			amis_set_str(rec, key, d);
		}
		return 0;
	}
	if (!cJSON_IsString(v) || sbx_parse_time(v->valuestring) < 0) {
		snprintf(err, n, "%s must be a date yyyy-MM-dd", key);
		return -1;
	}
	return 0;
}

bool amis_valid_vat(double v)
{
	return v == 0 || v == 5 || v == 8 || v == 10;
}

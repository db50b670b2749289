/*
 * crm_platform.c - the AMIS platform public API v2 layer shared by the CRM
 * and Kho emulators (see crm_platform.h, sandbox/docs/crm.md and kho.md):
 * records and their tables (create, merge, update, seed), the platform's
 * life cycle, signed webhook events and the field checks. The HTTP side
 * (replies, /Account and auth, lists, writes, routing) is in
 * crm_platform_api.c.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* asprintf */
#endif
#include "crm_platform.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AMIS_EVENTS_CAP 512

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

/* ---------------------------------------------------------------- life cycle */

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

/* ---------------------------------------------------------------- field checks */

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

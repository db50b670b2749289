/*
 * dms_client.c - talking to MobiWork DMS OpenAPI V1: Basic auth, the
 * {status, data, total} envelope, paging with a total that may move, dates
 * as dd/mm/yyyy in Vietnam time, and DMS's errors with its own message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dms.h"

const char *dms_str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

bool dms_num(const cJSON *o, const char *k, double *v)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
	char *end;

	if (cJSON_IsNumber(x)) {
		*v = x->valuedouble;
		return true;
	}
	if (cJSON_IsString(x) && *x->valuestring) {
		*v = strtod(x->valuestring, &end);
		return !*end;
	}
	return false;
}

void dms_basic_auth(const char *user, const char *key, char *out, size_t n)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqr"
				  "stuvwxyz0123456789+/";
	char plain[384];
	size_t len, o;

	len = (size_t)snprintf(plain, sizeof(plain), "%s:%s", user ? user : "",
			       key ? key : "");
	if (len >= sizeof(plain))
		len = sizeof(plain) - 1;
	o = (size_t)snprintf(out, n, "Basic ");
	for (size_t i = 0; i < len && o + 5 < n; i += 3) {
		unsigned v = (unsigned char)plain[i] << 16;

		if (i + 1 < len)
			v |= (unsigned char)plain[i + 1] << 8;
		if (i + 2 < len)
			v |= (unsigned char)plain[i + 2];
		out[o++] = b64[(v >> 18) & 63];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = i + 1 < len ? b64[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? b64[v & 63] : '=';
	}
	out[o] = '\0';
}

void dms_day(int64_t wall_ms, char out[11])
{
	time_t t = (time_t)((wall_ms + DMS_VN_MS) / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 11, "%d/%m/%Y", &tm);
}

int64_t dms_parse_day(const char *s)
{
	int d = 0, m = 0, y = 0;
	struct tm tm = { 0 };

	if (!s || sscanf(s, "%2d/%2d/%4d", &d, &m, &y) != 3 || d < 1 ||
	    d > 31 || m < 1 || m > 12 || y < 2000 || y > 2100)
		return -1;
	tm.tm_mday = d;
	tm.tm_mon = m - 1;
	tm.tm_year = y - 1900;
	return (int64_t)timegm(&tm) * 1000 - DMS_VN_MS;
}

bool dms_iso_date(const char *s, char out[11])
{
	int d = 0, m = 0, y = 0;

	if (!s || sscanf(s, "%2d/%2d/%4d", &d, &m, &y) != 3 || d < 1 ||
	    d > 31 || m < 1 || m > 12 || y < 2000 || y > 2100)
		return false;
	snprintf(out, 11, "%04d-%02d-%02d", y, m, d);
	return true;
}

/* Appends v URL-encoded. */
static void encode_into(char *path, size_t n, const char *v)
{
	size_t len = strlen(path);
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)v;
	     *p && len + 4 < n; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-_.~", *p)) {
			path[len++] = (char)*p;
		} else {
			path[len++] = '%';
			path[len++] = hex[*p >> 4];
			path[len++] = hex[*p & 15];
		}
	}
	if (len < n)
		path[len] = '\0';
}

void dms_query_add(char *path, size_t n, const char *k, const char *v)
{
	size_t len = strlen(path);

	snprintf(path + len, n > len ? n - len : 0,
		 "%c%s=", strchr(path, '?') ? '&' : '?', k);
	encode_into(path, n, v);
}

void dms_path_add(char *path, size_t n, const char *seg)
{
	size_t len = strlen(path);

	snprintf(path + len, n > len ? n - len : 0, "/");
	encode_into(path, n, seg);
}

void dms_reply_free(struct dms_reply *r)
{
	cJSON_Delete(r->body);
	memset(r, 0, sizeof(*r));
}

/* DMS's message and, for a refused push, each item's reason: "dữ liệu
 * không hợp lệ, ...: SP009: không có sản phẩm 'SP009'". */
static void dms_reason(const cJSON *body, char *out, size_t n)
{
	const char *msg = dms_str(body, "message");
	const cJSON *it;
	size_t len;

	len = (size_t)snprintf(out, n, "%s", msg ? msg : "");
	cJSON_ArrayForEach (it, cJSON_GetObjectItemCaseSensitive(body, "dat"
								       "a")) {
		const char *loi = dms_str(it, "loi");
		const cJSON *f;

		if (!loi || len + 8 >= n)
			continue;
		len += (size_t)snprintf(out + len, n - len, "%s",
					len ? "; " : "");
		cJSON_ArrayForEach (f, it) {
			if (cJSON_IsString(f) &&
			    strncmp(f->string, "ma_", 3) == 0 && len < n) {
				len += (size_t)snprintf(out + len, n - len,
							"%s: ", f->valuestring);
				break;
			}
		}
		if (len < n)
			len += (size_t)snprintf(out + len, n - len, "%s", loi);
	}
}

static void fail(struct dms *d, struct luong_call *call, const char *fmt,
		 const char *a, long b, const char *c)
{
	char buf[1024];

	snprintf(buf, sizeof(buf), fmt, a, b, c);
	if (call)
		d->h->call->set_error(call, "%s", buf);
	else
		d->h->log->log(d->ctx, LUONG_LOG_WARN, "%s", buf);
}

enum luong_status dms_request(struct dms *d, struct luong_call *call,
			      const char *method, const char *path,
			      const cJSON *body, struct dms_reply *r)
{
	const struct luong_host *h = d->h;
	char url[2048], *text = body ? h->json->print(body) : NULL;
	struct luong_http_header hdrs[] = {
		{ "Authorization", d->auth },
		{ "Accept", "application/json" },
		{ "Content-Type", "application/json" },
	};
	struct luong_http_request rq = {
		.struct_size = sizeof(rq),
		.method = method,
		.url = url,
		.headers = hdrs,
		.n_headers = text ? 3 : 2,
		.body = text,
		.body_len = text ? strlen(text) : 0,
		.timeout_ms = d->timeout_ms,
	};
	struct luong_http_response resp = { .struct_size = sizeof(resp) };
	const struct luong_http_result_opts how = {
		.struct_size = sizeof(how),
		.system = DMS_SYSTEM,
		.message_path = "message",
	};
	enum luong_status st;
	char why[768];

	memset(r, 0, sizeof(*r));
	r->total = -1;
	snprintf(url, sizeof(url), "%s/OpenAPI/V1/%s", d->server, path);
	st = h->http->request(d->ctx, &rq, &resp);
	h->mem->free(text);
	r->status = resp.status;
	if (st == LUONG_OK && resp.body)
		r->body = h->json->parse(resp.body, resp.body_len);
	if (st == LUONG_OK && resp.status >= 400 && resp.status < 500 &&
	    resp.status != 429 && resp.status != 401 && resp.status != 403) {
		/* refused for good: DMS's own words, each item's reason */
		dms_reason(r->body, why, sizeof(why));
		fail(d, call, "%s refused %ld: %s", DMS_SYSTEM, resp.status,
		     *why ? why : "(no message)");
		h->http->response_free(&resp);
		return LUONG_E_REMOTE;
	}
	/* no answer, 401/403, 429 (Retry-After), 5xx: the host's mapping */
	st = h->helpers->http_result(d->ctx, call, st, &resp, &how);
	h->http->response_free(&resp);
	if (st != LUONG_OK)
		return st;
	if (!cJSON_IsObject(r->body) ||
	    cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(r->body, "statu"
								    "s"))) {
		dms_reason(r->body, why, sizeof(why));
		fail(d, call, "%s answered %ld without success: %s", DMS_SYSTEM,
		     r->status, *why ? why : "not the {status, data} envelope");
		return LUONG_E_REMOTE;
	}
	r->data = cJSON_GetObjectItemCaseSensitive(r->body, "data");
	dms_num(r->body, "total", &r->total);
	return LUONG_OK;
}

/* One pass over every page of a window; *moved when its total changed. */
static enum luong_status read_window(struct dms *d, struct luong_call *call,
				     const char *path, cJSON *rows, bool *moved)
{
	double first_total = -1;
	char page_path[2048], num[24];

	*moved = false;
	for (long page = 1; page < 100000; page++) {
		struct dms_reply r;
		enum luong_status st = LUONG_E_TRANSIENT;
		int n;

		snprintf(page_path, sizeof(page_path), "%s", path);
		snprintf(num, sizeof(num), "%ld", d->page_size);
		dms_query_add(page_path, sizeof(page_path), "page_size", num);
		snprintf(num, sizeof(num), "%ld", page);
		dms_query_add(page_path, sizeof(page_path), "page_number", num);
		/* a 429 holds the connection for its Retry-After (the host's
		 * rate limit): the next try waits for it */
		for (int tries = 0; tries < 5; tries++) {
			long status;

			st = dms_request(d, call, "GET", page_path, NULL, &r);
			if (st == LUONG_OK)
				break;
			status = r.status;
			dms_reply_free(&r);
			if (st != LUONG_E_TRANSIENT || status != 429)
				break;
		}
		if (st != LUONG_OK)
			return st;
		n = cJSON_GetArraySize(r.data);
		while (r.data && r.data->child)
			cJSON_AddItemToArray(rows, cJSON_DetachItemViaPointer(
							   (cJSON *)r.data,
							   r.data->child));
		if (first_total < 0)
			first_total = r.total;
		else if (r.total != first_total)
			*moved = true;
		dms_reply_free(&r);
		if (*moved || n < d->page_size ||
		    (first_total >= 0 && page * d->page_size >= first_total))
			break;
	}
	return LUONG_OK;
}

enum luong_status dms_read_all(struct dms *d, struct luong_call *call,
			       const char *path, cJSON **rows)
{
	for (int pass = 0; pass < 3; pass++) {
		bool moved;
		cJSON *got = cJSON_CreateArray();
		enum luong_status st = read_window(d, call, path, got, &moved);

		if (st != LUONG_OK || !moved) {
			if (st == LUONG_OK)
				*rows = got;
			else
				cJSON_Delete(got);
			return st;
		}
		cJSON_Delete(got);
		d->h->log->log(d->ctx, LUONG_LOG_INFO,
			       "%s: the total of %s moved while it was read; "
			       "reading it again",
			       DMS_SYSTEM, path);
	}
	if (call)
		d->h->call->set_error(call,
				      "%s: the total of %s kept moving while "
				      "it was read (3 tries); will try again",
				      DMS_SYSTEM, path);
	return LUONG_E_TRANSIENT;
}

/*
 * dms.c - emulator of MobiWork DMS OpenAPI V1 (apis.md §5).
 *
 * Faithful (seen in public client code): HTTP Basic user_id:token_key,
 * GET /OpenAPI/V1/{Sale,SaleGroup,Bill,Inventory,VisitData,Route} with
 * page_size / page_number (1-based; Route at most 10), tu_ngay / den_ngay
 * as dd/mm/yyyy, the {status, data, total} envelope, errors as non-2xx;
 * the row fields public client code shows (2026-11): Sale ma/ten/
 * ma_don_vi/trang_thai, Customer tenkh/dia_chi/sdt/loai_kh/nhom_kh/
 * code_router/tinh_thanh_moi, Product ma_sp (maybe null)/nhan_hieu/
 * dvt_chan/dvt_le/hsqd, Bill rows as order lines keyed by ma_phieu + stt.
 *
 * DESIGNED (no public contract exists): every field name beyond those, the
 * outlet, warehouse, product, debt, order-status and return endpoints, the
 * push (write) endpoints, the order/return approval life cycle and the
 * signed webhooks. See sandbox/docs/dms.md, which labels each item.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../core/sbx.h"
#include "dms_int.h"

#define DMS_ROUTE_MAX 10
#define DMS_DAY_MS (24LL * 3600 * 1000)
#define DMS_VN_MS (7LL * 3600 * 1000)

/* ---- helpers ---- */

cJSON *dms_find_by(const cJSON *arr, const char *key, const char *val)
{
	const cJSON *it;
	if (!val)
		return NULL;
	cJSON_ArrayForEach (it, arr) {
		if (streq(jstr(it, key), val))
			return (cJSON *)it;
	}
	return NULL;
}

/* Orders and returns are addressed by numeric id or by their number. */
cJSON *dms_find_doc(const cJSON *arr, const char *nokey, const char *idstr)
{
	const cJSON *it;
	char *end = NULL;
	double id = idstr ? strtod(idstr, &end) : -1;
	bool numeric = idstr && *idstr && end && !*end;
	cJSON_ArrayForEach (it, arr) {
		if ((numeric && jnum(it, "id") == id) ||
		    streq(jstr(it, nokey), idstr))
			return (cJSON *)it;
	}
	return NULL;
}

/* dd/mm/yyyy HH:MM:SS in Vietnam time, the style of the date parameters. */
static void fmt_time(int64_t ms, char *buf, size_t n)
{
	time_t secs = (time_t)((ms + DMS_VN_MS) / 1000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	strftime(buf, n, "%d/%m/%Y %H:%M:%S", &tm);
}

void dms_stamp(cJSON *o, const char *k)
{
	char buf[32];
	char key[64];
	int64_t now = sbx_now_ms();
	fmt_time(now, buf, sizeof buf);
	sbx_jset_str(o, k, buf);
	snprintf(key, sizeof key, "_%s", k);
	sbx_jset_num(o, key, (double)now);
}

/* Parses dd/mm/yyyy (Vietnam midnight) into ms, -1 when malformed. */
static int64_t parse_day(const char *s)
{
	int d = 0;
	int m = 0;
	int y = 0;
	int used = 0;
	if (!s || sscanf(s, "%2d/%2d/%4d%n", &d, &m, &y, &used) != 3 ||
	    s[used] || d < 1 || d > 31 || m < 1 || m > 12 || y < 2000 ||
	    y > 2100)
		return -1;
	struct tm tm = { .tm_mday = d, .tm_mon = m - 1, .tm_year = y - 1900 };
	time_t t = timegm(&tm);
	struct tm back;
	gmtime_r(&t, &back);
	if (back.tm_mday != d) /* 31/02 and the like */
		return -1;
	return (int64_t)t * 1000 - DMS_VN_MS;
}

/* ---- replies ---- */

void dms_reply_err(struct sbx_req *req, int status, const char *msg)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddFalseToObject(o, "status");
	cJSON_AddStringToObject(o, "message", msg);
	sbx_reply_json(req, status, o);
}

void dms_reply_ok(struct sbx_req *req, int status, cJSON *data, double total)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddTrueToObject(o, "status");
	cJSON_AddItemToObject(o, "data", data);
	if (total >= 0)
		cJSON_AddNumberToObject(o, "total", total);
	sbx_reply_json(req, status, o);
}

/* ---- Bill / ReturnBill rows: one per line (apis.md §5) ---- */

/* Header members that become other row fields, or stay internal. */
static const char *const head_skip[] = { "chi_tiet", "id",	   "ma_kh",
					 "ten_kh",   "dia_chi_kh", "ma_nv",
					 "ten_nv",   "ma_kho",	   NULL };

static bool in_list(const char *const *l, const char *k)
{
	for (int i = 0; l[i]; i++) {
		if (streq(l[i], k))
			return true;
	}
	return false;
}

/* The rows of one order or return: order lines keyed by ma_phieu + stt
 * with the outlet, salesman and warehouse on each (faithful names), then
 * the line money and the header repeated on each line (DESIGNED). */
static cJSON *doc_rows(struct dms *st, const cJSON *doc)
{
	cJSON *rows = cJSON_CreateArray();
	const cJSON *l;
	const cJSON *kh = dms_find_by(st->outlets, "ma_kh", jstr(doc, "ma_kh"));
	const char *day = jstr(doc, "ngay_dat") ? jstr(doc, "ngay_dat")
						: jstr(doc, "ngay_tra");
	cJSON_ArrayForEach (l, jget(doc, "chi_tiet")) {
		cJSON *r = cJSON_CreateObject();
		bool km = cJSON_IsTrue(jget(l, "is_km"));
		sbx_jset_str(r, "ma_phieu", jstr(doc, "ma_phieu"));
		cJSON_AddNumberToObject(r, "stt", jnum(l, "stt"));
		cJSON_AddNumberToObject(r, "id_phieu", jnum(doc, "id"));
		sbx_jset_str(r, "ma_kh", jstr(doc, "ma_kh"));
		cJSON_AddNumberToObject(r, "ID_khachhang", jnum(kh, "id"));
		sbx_jset_str(r, "ten_kh", jstr(kh, "tenkh"));
		sbx_jset_str(r, "dia_chi", jstr(kh, "dia_chi"));
		sbx_jset_str(r, "sdt", jstr(kh, "sdt"));
		sbx_jset_str(r, "loai_kh", jstr(kh, "loai_kh"));
		sbx_jset_str(r, "tuyen_code", jstr(kh, "code_router"));
		sbx_jset_str(r, "ma_so_thue_kh", jstr(kh, "ma_so_thue"));
		const cJSON *f;
		cJSON_ArrayForEach (f, l) {
			if (!streq(f->string, "stt"))
				sbx_jset(r, f->string,
					 cJSON_Duplicate(f, true));
		}
		sbx_jset_str(r, "ma_nv_dat", jstr(doc, "ma_nv"));
		sbx_jset_str(r, "ten_nguoi_dat", jstr(doc, "ten_nv"));
		if (day) {
			char d[11];
			snprintf(d, sizeof d, "%s", day);
			sbx_jset_str(r, "ngay_ban_hang", d);
		}
		sbx_jset_str(r, "ma_kho_xuat", jstr(doc, "ma_kho"));
		sbx_jset_str(r, "ma_kho_xuat_km",
			     km ? jstr(doc, "ma_kho") : NULL);
		cJSON_ArrayForEach (f, doc) {
			if (!in_list(head_skip, f->string) &&
			    !jget(r, f->string))
				sbx_jset(r, f->string,
					 cJSON_Duplicate(f, true));
		}
		cJSON_AddItemToArray(rows, r);
	}
	return rows;
}

/* Every row of every document, in document order (lines then stt). */
static cJSON *doc_rows_all(struct dms *st, const cJSON *docs)
{
	cJSON *all = cJSON_CreateArray();
	const cJSON *d;
	cJSON_ArrayForEach (d, docs) {
		cJSON *rows = doc_rows(st, d);
		while (rows->child)
			cJSON_AddItemToArray(all, cJSON_DetachItemViaPointer(
							  rows, rows->child));
		cJSON_Delete(rows);
	}
	return all;
}

/* ---- auth: Basic base64(user_id:token_key) ---- */

static int b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static bool b64decode(const char *in, char *out, size_t cap)
{
	size_t n = 0;
	int bits = 0;
	unsigned acc = 0;
	for (; *in && *in != '='; in++) {
		int v = b64val((unsigned char)*in);
		if (v < 0)
			return false;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n + 1 >= cap)
				return false;
			out[n++] = (char)((acc >> bits) & 0xff);
		}
	}
	out[n] = '\0';
	return true;
}

bool dms_authed(struct sbx_emu *emu, struct sbx_req *req)
{
	struct dms *st = emu->data;
	const char *h = sbx_header(req, "Authorization");
	char plain[256];
	if (h && strncasecmp(h, "Basic ", 6) == 0 &&
	    b64decode(h + 6, plain, sizeof plain)) {
		char *colon = strchr(plain, ':');
		if (colon) {
			*colon = '\0';
			const cJSON *a;
			cJSON_ArrayForEach (a, st->accounts) {
				if (streq(jstr(a, "user_id"), plain) &&
				    streq(jstr(a, "token_key"), colon + 1))
					return true;
			}
		}
	}
	sbx_reply_header(req, "WWW-Authenticate",
			 "Basic realm=\"MobiWork OpenAPI\"");
	dms_reply_err(req, 401, "Unauthorized");
	return false;
}

/* ---- webhooks (designed) ---- */

void dms_emit(struct sbx_emu *emu, const char *event, const cJSON *resource)
{
	struct dms *st = emu->data;
	char evid[40];
	char when[48];
	char h_event[96];
	char h_sig[128];
	char h_id[96];

	snprintf(evid, sizeof evid, "evt_");
	sbx_random_hex(evid + 4, 12);
	sbx_time_vn(sbx_now_ms(), SBX_TIME_ISO, when, sizeof when);
	cJSON *body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "event", event);
	cJSON_AddStringToObject(body, "id", evid);
	cJSON_AddStringToObject(body, "occurred_at", when);
	cJSON_AddItemToObject(body, "data", sbx_out_copy(resource));
	char *raw = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	if (!raw)
		return;
	char *sig = sbx_webhook_sign_b64(
		emu, jstr(st->company, "webhook_secret"), raw);
	snprintf(h_event, sizeof h_event, "X-Mobiwork-Event: %s", event);
	snprintf(h_sig, sizeof h_sig, "X-Mobiwork-Signature: %s",
		 sig ? sig : "");
	snprintf(h_id, sizeof h_id, "X-Mobiwork-Event-Id: %s", evid);
	const char *headers[] = { "Content-Type: application/json", h_event,
				  h_sig, h_id, NULL };
	struct sbx_hook hook = {
		.topic = event,
		.body = raw,
		.body_len = strlen(raw),
		.headers = headers,
	};
	long id = sbx_webhook_post(emu, &hook);
	if (st->out_hooks) {
		cJSON *d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, "event", event);
		cJSON_AddStringToObject(d, "event_id", evid);
		cJSON_AddNumberToObject(d, "delivery_id", (double)id);
		cJSON_AddItemToArray(st->out_hooks, d);
	}
	free(sig);
	free(raw);
}

/* A document's event carries its rows, as GET Bill/{ma_phieu} answers. */
void dms_emit_doc(struct sbx_emu *emu, const char *event, const cJSON *doc)
{
	cJSON *rows = doc_rows(emu->data, doc);
	dms_emit(emu, event, rows);
	cJSON_Delete(rows);
}

/* ---- paged reads (faithful envelope and parameters) ---- */

struct page_req {
	long size;
	long number;
	int64_t from; /* ms, -1 = open */
	int64_t to;   /* ms exclusive, -1 = open */
};

/* Reads page_size/page_number/tu_ngay/den_ngay; replies 400 and returns
 * false when malformed. */
static bool page_params(struct sbx_req *req, long max, struct page_req *p)
{
	const char *ps = sbx_query(req, "page_size");
	const char *pn = sbx_query(req, "page_number");
	const char *tu = sbx_query(req, "tu_ngay");
	const char *den = sbx_query(req, "den_ngay");
	char *end = NULL;
	char msg[96];

	p->size = max < 100 ? max : 100;
	p->number = 1;
	p->from = -1;
	p->to = -1;
	if (ps) {
		p->size = strtol(ps, &end, 10);
		if (*end || p->size < 1) {
			dms_reply_err(req, 400, "page_size không hợp lệ");
			return false;
		}
		if (p->size > max) {
			snprintf(msg, sizeof msg, "page_size tối đa là %ld",
				 max);
			dms_reply_err(req, 400, msg);
			return false;
		}
	}
	if (pn) {
		p->number = strtol(pn, &end, 10);
		if (*end || p->number < 1) {
			dms_reply_err(req, 400,
				      "page_number không hợp lệ (bắt đầu từ "
				      "1)");
			return false;
		}
	}
	if (tu && (p->from = parse_day(tu)) < 0) {
		dms_reply_err(req, 400,
			      "tu_ngay không đúng định dạng dd/MM/yyyy");
		return false;
	}
	if (den) {
		p->to = parse_day(den);
		if (p->to < 0) {
			dms_reply_err(req, 400,
				      "den_ngay không đúng định dạng "
				      "dd/MM/yyyy");
			return false;
		}
		p->to += DMS_DAY_MS; /* den_ngay is inclusive */
	}
	if (p->from >= 0 && p->to >= 0 && p->from >= p->to) {
		dms_reply_err(req, 400,
			      "tu_ngay phải nhỏ hơn hoặc bằng den_ngay");
		return false;
	}
	return true;
}

/* keys: "name" (query and row field alike) or "query=field". A number
 * field matches its decimal text (Sale's ?status=1). */
static bool match_query(const cJSON *it, struct sbx_req *req,
			const char *const *keys)
{
	for (int i = 0; keys[i]; i++) {
		char qname[48];
		const char *eq = strchr(keys[i], '=');
		const char *field = eq ? eq + 1 : keys[i];
		snprintf(qname, sizeof qname, "%.*s",
			 eq ? (int)(eq - keys[i]) : (int)strlen(keys[i]),
			 keys[i]);
		const char *q = sbx_query(req, qname);
		if (!q || !*q)
			continue;
		const cJSON *v = jget(it, field);
		char num[32];
		const char *have = jstr(it, field);
		if (cJSON_IsNumber(v)) {
			snprintf(num, sizeof num, "%g", v->valuedouble);
			have = num;
		} else if (cJSON_IsBool(v)) {
			have = cJSON_IsTrue(v) ? "true" : "false";
		}
		if (!streq(have, q))
			return false;
	}
	return true;
}

/* Pages arr; tskey is the internal timestamp the dates filter on (NULL =
 * dates ignored); keep lists the query keys a row must match (NULL = all). */
static void reply_page_dir(struct sbx_req *req, const cJSON *arr, long max,
			   const char *tskey, const char *const *keep,
			   bool newest_first)
{
	struct page_req p;
	const cJSON *it;
	long total = 0;
	if (!page_params(req, max, &p))
		return;
	cJSON *data = cJSON_CreateArray();
	const cJSON *last = arr ? arr->child : NULL;
	while (last && last->next)
		last = last->next;
	for (it = newest_first ? last : (arr ? arr->child : NULL); it;
	     it = newest_first ? (it == arr->child ? NULL : it->prev)
			       : it->next) {
		if (tskey && (p.from >= 0 || p.to >= 0)) {
			double ts = sbx_jnum(it, tskey, -1);
			if (ts < 0 || (p.from >= 0 && ts < (double)p.from) ||
			    (p.to >= 0 && ts >= (double)p.to))
				continue;
		}
		if (keep && !match_query(it, req, keep))
			continue;
		if (total >= (p.number - 1) * p.size &&
		    total < p.number * p.size)
			cJSON_AddItemToArray(data, sbx_out_copy(it));
		total++;
	}
	dms_reply_ok(req, 200, data, (double)total);
}

static void reply_page(struct sbx_req *req, const cJSON *arr, long max,
		       const char *tskey, const char *const *keep)
{
	reply_page_dir(req, arr, max, tskey, keep, false);
}

/* List filters: query keys compared with the row field of the same name. */
static const char *const keep_staff[] = { "ma", "ma_don_vi",
					  "status=trang_thai", NULL };
static const char *const keep_group[] = { "ma_nhom", "ma_nhom_cha", "loai_nhom",
					  NULL };
static const char *const keep_doc[] = { "ma_phieu",   "ma_kh",
					"ma_nv_dat",  "ma_kho_xuat",
					"trang_thai", NULL };
static const char *const keep_stock[] = { "ma_kho", "ma_sp", NULL };
static const char *const keep_visit[] = { "ma_nv", "ma_kh", NULL };
static const char *const keep_outlet[] = { "ma_kh", "ma_nv_tao", "nhom_kh",
					   NULL };
static const char *const keep_product[] = { "ma_sp", "nhom_sp", NULL };

/* Bill dates: kieu_ngay picks the date (1/ngay_dat default, 2/ngay_duyet,
 * 3/ngay_cap_nhat). */
static const char *bill_tskey(struct sbx_req *req)
{
	const char *k = sbx_query(req, "kieu_ngay");
	if (k && (streq(k, "2") || streq(k, "ngay_duyet")))
		return "_ngay_duyet";
	if (k && (streq(k, "3") || streq(k, "ngay_cap_nhat")))
		return "_ngay_cap_nhat";
	return "_ngay_dat";
}

#define READ_HANDLER(fn, field, max, tskey, keep)                              \
	static void fn(struct sbx_emu *emu, struct sbx_req *req)               \
	{                                                                      \
		struct dms *st = emu->data;                                    \
		if (dms_authed(emu, req))                                      \
			reply_page(req, st->field, max, tskey, keep);          \
	}

READ_HANDLER(h_sale, staff, DMS_PAGE_MAX, NULL, keep_staff)
READ_HANDLER(h_salegroup, groups, DMS_PAGE_MAX, NULL, keep_group)
READ_HANDLER(h_inventory, stock, DMS_PAGE_MAX, "_ngay_cap_nhat", keep_stock)
READ_HANDLER(h_visits, visits, DMS_PAGE_MAX, "_ngay", keep_visit)
READ_HANDLER(h_routes, routes, DMS_ROUTE_MAX, NULL, NULL)
READ_HANDLER(h_products, products, DMS_PAGE_MAX, "_ngay_cap_nhat", keep_product)
READ_HANDLER(h_debts, debts, DMS_PAGE_MAX, "_ngay_cap_nhat", keep_outlet)
READ_HANDLER(h_warehouses, warehouses, DMS_PAGE_MAX, NULL, NULL)

/* Outlets newest first (DESIGNED order): an outlet created while a
 * client pages moves the later pages and the total, as clients of the real
 * API saw. */
static void h_outlets(struct sbx_emu *emu, struct sbx_req *req)
{
	struct dms *st = emu->data;
	if (dms_authed(emu, req))
		reply_page_dir(req, st->outlets, DMS_PAGE_MAX, "_ngay_tao",
			       keep_outlet, true);
}

static void h_bills(struct sbx_emu *emu, struct sbx_req *req)
{
	struct dms *st = emu->data;
	if (!dms_authed(emu, req))
		return;
	cJSON *rows = doc_rows_all(st, st->orders);
	reply_page(req, rows, DMS_PAGE_MAX, bill_tskey(req), keep_doc);
	cJSON_Delete(rows);
}

static void h_returns(struct sbx_emu *emu, struct sbx_req *req)
{
	struct dms *st = emu->data;
	if (!dms_authed(emu, req))
		return;
	cJSON *rows = doc_rows_all(st, st->returns);
	reply_page(req, rows, DMS_PAGE_MAX, "_ngay_tra", keep_doc);
	cJSON_Delete(rows);
}

static void reply_one(struct sbx_req *req, cJSON *rows, const char *what)
{
	char msg[96];
	if (!rows) {
		snprintf(msg, sizeof msg, "không tìm thấy %s", what);
		dms_reply_err(req, 404, msg);
		return;
	}
	dms_reply_ok(req, 200, sbx_out_copy(rows),
		     (double)cJSON_GetArraySize(rows));
	cJSON_Delete(rows);
}

static void h_bill_get(struct sbx_emu *emu, struct sbx_req *req)
{
	struct dms *st = emu->data;
	const cJSON *o =
		dms_find_doc(st->orders, "ma_phieu", sbx_param(req, "id"));
	if (dms_authed(emu, req))
		reply_one(req, o ? doc_rows(st, o) : NULL, "đơn hàng");
}

static void h_return_get(struct sbx_emu *emu, struct sbx_req *req)
{
	struct dms *st = emu->data;
	const cJSON *o =
		dms_find_doc(st->returns, "ma_phieu", sbx_param(req, "id"));
	if (dms_authed(emu, req))
		reply_one(req, o ? doc_rows(st, o) : NULL, "phiếu trả hàng");
}

static void h_outlet_get(struct sbx_emu *emu, struct sbx_req *req)
{
	struct dms *st = emu->data;
	const cJSON *o =
		dms_find_by(st->outlets, "ma_kh", sbx_param(req, "code"));
	cJSON *rows = NULL;
	if (o) {
		rows = cJSON_CreateArray();
		cJSON_AddItemToArray(rows, cJSON_Duplicate(o, true));
	}
	if (dms_authed(emu, req))
		reply_one(req, rows, "khách hàng");
	else
		cJSON_Delete(rows);
}

/* ---- life cycle ---- */

static cJSON *seed_array(const cJSON *seed, const char *key)
{
	const cJSON *a = jget(seed, key);
	return cJSON_IsArray(a) ? cJSON_Duplicate(a, true)
				: cJSON_CreateArray();
}

/* Seed records carry dates as dd/mm/yyyy[ HH:MM:SS]: mirror them into the
 * internal timestamps the date filters use. */
static void seed_times(cJSON *arr, const char *const *keys)
{
	cJSON *it;
	char ikey[64];
	cJSON_ArrayForEach (it, arr) {
		for (int i = 0; keys[i]; i++) {
			const char *v = jstr(it, keys[i]);
			char date[11];
			int h = 0;
			int m = 0;
			int s = 0;
			if (!v || strlen(v) < 10)
				continue;
			memcpy(date, v, 10);
			date[10] = '\0';
			int64_t day = parse_day(date);
			if (day < 0)
				continue;
			if (strlen(v) >= 19)
				sscanf(v + 11, "%d:%d:%d", &h, &m, &s);
			snprintf(ikey, sizeof ikey, "_%s", keys[i]);
			sbx_jset_num(it, ikey,
				     (double)(day + ((h * 60 + m) * 60 + s) *
							    1000LL));
		}
	}
}

static void dms_free(struct sbx_emu *emu)
{
	struct dms *st = emu->data;
	if (!st)
		return;
	cJSON *all[] = { st->accounts, st->company,	    st->staff,
			 st->groups,   st->warehouses,	    st->outlets,
			 st->products, st->stock,	    st->debts,
			 st->orders,   st->returns,	    st->visits,
			 st->routes,   st->payment_methods, st->out_hooks };
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		cJSON_Delete(all[i]);
	dms_stock_idx_free(st->stock_idx);
	free(st);
	emu->data = NULL;
}

static int dms_init(struct sbx_emu *emu, const cJSON *seed)
{
	struct dms *st = calloc(1, sizeof(*st));
	if (!st)
		return -1;
	emu->data = st;
	const cJSON *company = jget(seed, "company");
	st->company = cJSON_IsObject(company) ? cJSON_Duplicate(company, true)
					      : cJSON_CreateObject();
	st->accounts = seed_array(seed, "accounts");
	st->staff = seed_array(seed, "staff");
	st->groups = seed_array(seed, "sale_groups");
	st->warehouses = seed_array(seed, "warehouses");
	st->outlets = seed_array(seed, "outlets");
	st->products = seed_array(seed, "products");
	st->stock = seed_array(seed, "stock");
	st->debts = seed_array(seed, "debts");
	st->orders = seed_array(seed, "orders");
	st->returns = seed_array(seed, "returns");
	st->visits = seed_array(seed, "visits");
	st->routes = seed_array(seed, "routes");
	st->payment_methods = seed_array(seed, "payment_methods");
	st->next_id = sbx_jnum(seed, "first_id", 500001);
	st->next_order_no = sbx_jnum(seed, "first_order_no", 1001);
	st->next_return_no = sbx_jnum(seed, "first_return_no", 101);
	st->next_outlet_no = sbx_jnum(seed, "first_outlet_no", 1001);
	static const char *const k_outlet[] = { "ngay_tao", "ngay_cap_nhat",
						NULL };
	static const char *const k_upd[] = { "ngay_cap_nhat", NULL };
	static const char *const k_order[] = { "ngay_dat", "ngay_duyet",
					       "ngay_cap_nhat", NULL };
	static const char *const k_return[] = { "ngay_tra", "ngay_duyet",
						"ngay_cap_nhat", NULL };
	static const char *const k_visit[] = { "ngay", NULL };
	seed_times(st->outlets, k_outlet);
	seed_times(st->products, k_upd);
	seed_times(st->stock, k_upd);
	seed_times(st->debts, k_upd);
	seed_times(st->orders, k_order);
	seed_times(st->returns, k_return);
	seed_times(st->visits, k_visit);
	/* seed documents: derive lines and totals the same way as new ones */
	cJSON *docs[] = { st->orders, st->returns };
	for (int d = 0; d < 2; d++) {
		cJSON *doc;
		cJSON_ArrayForEach (doc, docs[d]) {
			char msg[160];
			cJSON *in = cJSON_Duplicate(doc, true);
			if (!dms_build_lines(st, doc, in, msg, sizeof msg)) {
				cJSON_Delete(in);
				return -1;
			}
			cJSON_Delete(in);
			dms_copy_parties(st, doc, doc);
			dms_set_status(doc, jstr(doc, "trang_thai")
						    ? jstr(doc, "trang_thai")
						    : "cho_duyet");
		}
	}
	return 0;
}

static cJSON *dms_dump(struct sbx_emu *emu)
{
	struct dms *st = emu->data;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "company", sbx_out_copy(st->company));
	cJSON_AddItemToObject(o, "accounts", sbx_out_copy(st->accounts));
	cJSON_AddItemToObject(o, "staff", sbx_out_copy(st->staff));
	cJSON_AddItemToObject(o, "sale_groups", sbx_out_copy(st->groups));
	cJSON_AddItemToObject(o, "warehouses", sbx_out_copy(st->warehouses));
	cJSON_AddItemToObject(o, "payment_methods",
			      sbx_out_copy(st->payment_methods));
	cJSON_AddItemToObject(o, "outlets", sbx_out_copy(st->outlets));
	cJSON_AddItemToObject(o, "products", sbx_out_copy(st->products));
	cJSON_AddItemToObject(o, "stock", sbx_out_copy(st->stock));
	cJSON_AddItemToObject(o, "debts", sbx_out_copy(st->debts));
	cJSON_AddItemToObject(o, "orders", sbx_out_copy(st->orders));
	cJSON_AddItemToObject(o, "returns", sbx_out_copy(st->returns));
	cJSON_AddItemToObject(o, "visits", sbx_out_copy(st->visits));
	cJSON_AddItemToObject(o, "routes", sbx_out_copy(st->routes));
	return o;
}

static const struct sbx_route dms_routes[] = {
	/* faithful read endpoints (apis.md §5) */
	{ "GET", "/OpenAPI/V1/Sale", h_sale },
	{ "GET", "/OpenAPI/V1/SaleGroup", h_salegroup },
	{ "GET", "/OpenAPI/V1/Bill", h_bills },
	{ "GET", "/OpenAPI/V1/Inventory", h_inventory },
	{ "GET", "/OpenAPI/V1/VisitData", h_visits },
	{ "GET", "/OpenAPI/V1/Route", h_routes },
	/* designed */
	{ "GET", "/OpenAPI/V1/Bill/{id}", h_bill_get },
	{ "POST", "/OpenAPI/V1/BillStatus", dms_h_bill_status_push },
	{ "POST", "/OpenAPI/V1/Inventory", dms_h_inventory_push },
	{ "GET", "/OpenAPI/V1/Customer", h_outlets },
	{ "GET", "/OpenAPI/V1/Customer/{code}", h_outlet_get },
	{ "GET", "/OpenAPI/V1/CustomerDebt", h_debts },
	{ "POST", "/OpenAPI/V1/CustomerDebt", dms_h_debt_push },
	{ "GET", "/OpenAPI/V1/Product", h_products },
	{ "POST", "/OpenAPI/V1/Product", dms_h_product_push },
	{ "PUT", "/OpenAPI/V1/Product", dms_h_product_push },
	{ "GET", "/OpenAPI/V1/Warehouse", h_warehouses },
	{ "GET", "/OpenAPI/V1/ReturnBill", h_returns },
	{ "GET", "/OpenAPI/V1/ReturnBill/{id}", h_return_get },
	{ NULL, NULL, NULL }
};

static const struct sbx_act dms_acts[] = {
	{ "create_outlet", dms_act_create_outlet },
	{ "create_order", dms_act_create_order },
	{ "approve_order", dms_act_approve_order },
	{ "edit_order", dms_act_edit_order },
	{ "edit_outlet", dms_act_edit_outlet },
	{ "create_return", dms_act_create_return },
	{ "approve_return", dms_act_approve_return },
	{ NULL, NULL }
};

static const struct sbx_emulator dms_emu = {
	.name = "dms",
	.init = dms_init,
	.free = dms_free,
	.dump = dms_dump,
	.routes = dms_routes,
	.acts = dms_acts,
};

SBX_REGISTER(dms_emu);

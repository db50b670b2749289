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

#define DMS_ROUTE_MAX 10
#define DMS_PAGE_MAX 1000
#define DMS_DAY_MS (24LL * 3600 * 1000)
#define DMS_VN_MS (7LL * 3600 * 1000)

struct dms {
	cJSON *accounts; /* [{user_id, token_key}] */
	cJSON *company;
	cJSON *staff;  /* Sale */
	cJSON *groups; /* SaleGroup */
	cJSON *warehouses;
	cJSON *outlets; /* Customer */
	cJSON *products;
	cJSON *stock; /* Inventory rows */
	cJSON *debts;
	cJSON *orders;	/* Bill */
	cJSON *returns; /* ReturnBill */
	cJSON *visits;	/* VisitData */
	cJSON *routes;	/* Route */
	cJSON *payment_methods;
	double next_id;
	double next_order_no;
	double next_return_no;
	double next_outlet_no;
	cJSON *out_hooks; /* deliveries queued by the current act */
};

/* ---- helpers ---- */

static cJSON *jget(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

static double jnum(const cJSON *o, const char *k)
{
	return sbx_jnum(o, k, 0);
}

static const char *jstr(const cJSON *o, const char *k)
{
	return sbx_jstr(o, k);
}

static bool streq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

static cJSON *find_by(const cJSON *arr, const char *key, const char *val)
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
static cJSON *find_doc(const cJSON *arr, const char *nokey, const char *idstr)
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

static void stamp(cJSON *o, const char *k)
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

static void reply_err(struct sbx_req *req, int status, const char *msg)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddFalseToObject(o, "status");
	cJSON_AddStringToObject(o, "message", msg);
	sbx_reply_json(req, status, o);
}

static void reply_ok(struct sbx_req *req, int status, cJSON *data, double total)
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
	const cJSON *kh = find_by(st->outlets, "ma_kh", jstr(doc, "ma_kh"));
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

static bool authed(struct sbx_emu *emu, struct sbx_req *req)
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
	reply_err(req, 401, "Unauthorized");
	return false;
}

/* ---- webhooks (designed) ---- */

static void emit(struct sbx_emu *emu, const char *event, const cJSON *resource)
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
static void emit_doc(struct sbx_emu *emu, const char *event, const cJSON *doc)
{
	cJSON *rows = doc_rows(emu->data, doc);
	emit(emu, event, rows);
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
			reply_err(req, 400, "page_size không hợp lệ");
			return false;
		}
		if (p->size > max) {
			snprintf(msg, sizeof msg, "page_size tối đa là %ld",
				 max);
			reply_err(req, 400, msg);
			return false;
		}
	}
	if (pn) {
		p->number = strtol(pn, &end, 10);
		if (*end || p->number < 1) {
			reply_err(req, 400,
				  "page_number không hợp lệ (bắt đầu từ 1)");
			return false;
		}
	}
	if (tu && (p->from = parse_day(tu)) < 0) {
		reply_err(req, 400, "tu_ngay không đúng định dạng dd/MM/yyyy");
		return false;
	}
	if (den) {
		p->to = parse_day(den);
		if (p->to < 0) {
			reply_err(req, 400,
				  "den_ngay không đúng định dạng dd/MM/yyyy");
			return false;
		}
		p->to += DMS_DAY_MS; /* den_ngay is inclusive */
	}
	if (p->from >= 0 && p->to >= 0 && p->from >= p->to) {
		reply_err(req, 400, "tu_ngay phải nhỏ hơn hoặc bằng den_ngay");
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
	reply_ok(req, 200, data, (double)total);
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
		if (authed(emu, req))                                          \
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
	if (authed(emu, req))
		reply_page_dir(req, st->outlets, DMS_PAGE_MAX, "_ngay_tao",
			       keep_outlet, true);
}

static void h_bills(struct sbx_emu *emu, struct sbx_req *req)
{
	struct dms *st = emu->data;
	if (!authed(emu, req))
		return;
	cJSON *rows = doc_rows_all(st, st->orders);
	reply_page(req, rows, DMS_PAGE_MAX, bill_tskey(req), keep_doc);
	cJSON_Delete(rows);
}

static void h_returns(struct sbx_emu *emu, struct sbx_req *req)
{
	struct dms *st = emu->data;
	if (!authed(emu, req))
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
		reply_err(req, 404, msg);
		return;
	}
	reply_ok(req, 200, sbx_out_copy(rows),
		 (double)cJSON_GetArraySize(rows));
	cJSON_Delete(rows);
}

static void h_bill_get(struct sbx_emu *emu, struct sbx_req *req)
{
	struct dms *st = emu->data;
	const cJSON *o = find_doc(st->orders, "ma_phieu", sbx_param(req, "id"));
	if (authed(emu, req))
		reply_one(req, o ? doc_rows(st, o) : NULL, "đơn hàng");
}

static void h_return_get(struct sbx_emu *emu, struct sbx_req *req)
{
	struct dms *st = emu->data;
	const cJSON *o =
		find_doc(st->returns, "ma_phieu", sbx_param(req, "id"));
	if (authed(emu, req))
		reply_one(req, o ? doc_rows(st, o) : NULL, "phiếu trả hàng");
}

static void h_outlet_get(struct sbx_emu *emu, struct sbx_req *req)
{
	struct dms *st = emu->data;
	const cJSON *o = find_by(st->outlets, "ma_kh", sbx_param(req, "code"));
	cJSON *rows = NULL;
	if (o) {
		rows = cJSON_CreateArray();
		cJSON_AddItemToArray(rows, cJSON_Duplicate(o, true));
	}
	if (authed(emu, req))
		reply_one(req, rows, "khách hàng");
	else
		cJSON_Delete(rows);
}

/* ---- push endpoints (designed): validate everything, then write ---- */

/* The body as an array of items: a JSON array, or {"data": [...]}. */
static const cJSON *body_items(struct sbx_req *req)
{
	const cJSON *b = req->json;
	if (cJSON_IsObject(b) && cJSON_IsArray(jget(b, "data")))
		b = jget(b, "data");
	if (!cJSON_IsArray(b) || !b->child) {
		reply_err(req, 400, "dữ liệu phải là một mảng không rỗng");
		return NULL;
	}
	if (cJSON_GetArraySize(b) > DMS_PAGE_MAX) {
		reply_err(req, 400, "tối đa 1000 bản ghi mỗi lần gửi");
		return NULL;
	}
	return b;
}

static cJSON *item_error(const char *key, const char *code, const char *msg)
{
	cJSON *e = cJSON_CreateObject();
	sbx_jset_str(e, key, code);
	cJSON_AddStringToObject(e, "ket_qua", "loi");
	cJSON_AddStringToObject(e, "loi", msg);
	return e;
}

/* 400 with the per-item results when any item failed; nothing written. */
static bool reply_item_errors(struct sbx_req *req, cJSON *errors)
{
	if (!errors->child) {
		cJSON_Delete(errors);
		return false;
	}
	cJSON *o = cJSON_CreateObject();
	cJSON_AddFalseToObject(o, "status");
	cJSON_AddStringToObject(o, "message",
				"dữ liệu không hợp lệ, không có bản ghi nào "
				"được lưu");
	cJSON_AddItemToObject(o, "data", errors);
	sbx_reply_json(req, 400, o);
	return true;
}

static bool has_num(const cJSON *o, const char *k)
{
	const cJSON *v = jget(o, k);
	return cJSON_IsNumber(v) ||
	       (cJSON_IsString(v) && sbx_jnum(o, k, -1e300) > -1e300);
}

/* An item naming something that does not exist: "không có <what> '<val>'". */
static cJSON *item_unknown(const char *key, const char *code, const char *what,
			   const char *val)
{
	char msg[160];
	snprintf(msg, sizeof msg, "không có %s '%s'", what, val ? val : "");
	return item_error(key, code, msg);
}

/* A push (master data written by the host): every item is checked first
 * and any error rejects the whole batch; then every item is applied. */
typedef cJSON *(*push_check_fn)(struct dms *st,
				const cJSON *it); /* item_error or NULL */
typedef cJSON *(*push_apply_fn)(struct dms *st,
				const cJSON *it); /* the item's result */

static void push_run(struct sbx_emu *emu, struct sbx_req *req,
		     push_check_fn check, push_apply_fn apply)
{
	struct dms *st = emu->data;
	const cJSON *items;
	const cJSON *it;
	if (!authed(emu, req) || !(items = body_items(req)))
		return;
	cJSON *errors = cJSON_CreateArray();
	cJSON_ArrayForEach (it, items) {
		cJSON *e = check(st, it);
		if (e)
			cJSON_AddItemToArray(errors, e);
	}
	if (reply_item_errors(req, errors))
		return;
	cJSON *results = cJSON_CreateArray();
	cJSON_ArrayForEach (it, items)
		cJSON_AddItemToArray(results, apply(st, it));
	reply_ok(req, 200, results, (double)cJSON_GetArraySize(results));
}

/* {ma_<key>: code, ket_qua: "cap_nhat"} */
static cJSON *push_updated(const char *key, const char *code)
{
	cJSON *res = cJSON_CreateObject();
	cJSON_AddStringToObject(res, key, code);
	cJSON_AddStringToObject(res, "ket_qua", "cap_nhat");
	return res;
}

static cJSON *product_check(struct dms *st, const cJSON *it)
{
	const char *code = jstr(it, "ma_sp");
	cJSON *old = find_by(st->products, "ma_sp", code);
	if (!code || !*code)
		return item_error("ma_sp", code, "thiếu ma_sp");
	if (!old &&
	    (!jstr(it, "ten_sp") || (!jstr(it, "dvt_le") && !jstr(it, "dvt_"
								      "chan"))))
		return item_error("ma_sp", code,
				  "sản phẩm mới cần ten_sp và đơn vị tính "
				  "(dvt_chan hoặc dvt_le)");
	if (jget(it, "hsqd") && (!has_num(it, "hsqd") || jnum(it, "hsqd") < 1))
		return item_error("ma_sp", code, "hsqd phải lớn hơn 0");
	if (jget(it, "gia_ban") &&
	    (!has_num(it, "gia_ban") || jnum(it, "gia_ban") < 0))
		return item_error("ma_sp", code, "gia_ban không hợp lệ");
	return NULL;
}

static cJSON *product_apply(struct dms *st, const cJSON *it)
{
	const char *code = jstr(it, "ma_sp");
	cJSON *p = find_by(st->products, "ma_sp", code);
	cJSON *r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "ma_sp", code);
	cJSON_AddStringToObject(r, "ket_qua", p ? "cap_nhat" : "tao_moi");
	if (!p) {
		p = cJSON_CreateObject();
		cJSON_AddStringToObject(p, "ma_sp", code);
		cJSON_AddNumberToObject(p, "thue_vat", 10);
		cJSON_AddNumberToObject(p, "hsqd", 1);
		cJSON_AddNumberToObject(p, "trang_thai", 1);
		cJSON_AddItemToArray(st->products, p);
	}
	static const char *const strs[] = {
		"ten_sp",      "dvt_chan", "dvt_le", "nhan_hieu", "nhom_sp",
		"ten_nhom_sp", "ma_vach",  "mo_ta",  NULL
	};
	for (int i = 0; strs[i]; i++) {
		if (jget(it, strs[i]))
			sbx_jset(p, strs[i],
				 cJSON_Duplicate(jget(it, strs[i]), true));
	}
	static const char *const nums[] = { "gia_ban", "thue_vat", "hsqd",
					    "trang_thai", NULL };
	for (int i = 0; nums[i]; i++) {
		if (jget(it, nums[i]))
			sbx_jset_num(p, nums[i], jnum(it, nums[i]));
	}
	/* one unit given for a new product: it is both, 1 for 1 */
	if (!jstr(p, "dvt_le"))
		sbx_jset_str(p, "dvt_le", jstr(p, "dvt_chan"));
	stamp(p, "ngay_cap_nhat");
	return r;
}

static void h_product_push(struct sbx_emu *emu, struct sbx_req *req)
{
	push_run(emu, req, product_check, product_apply);
}

/* The unit orders and stock count in: the large one when there is one. */
static const char *unit_of(const cJSON *p)
{
	const char *u = jstr(p, "dvt_chan");
	return u && *u ? u : jstr(p, "dvt_le");
}

/* Stock push: rows {ma_kho, ma_sp, so_luong} set the balance (the figure
 * accounting closed on), as of ngay_chot. */
static cJSON *inventory_check(struct dms *st, const cJSON *it)
{
	const char *kho = jstr(it, "ma_kho");
	const char *sp = jstr(it, "ma_sp");
	if (!find_by(st->warehouses, "ma_kho", kho))
		return item_unknown("ma_sp", sp, "kho", kho);
	if (!find_by(st->products, "ma_sp", sp))
		return item_unknown("ma_sp", sp, "sản phẩm", sp);
	if (!has_num(it, "so_luong"))
		return item_error("ma_sp", sp, "so_luong không hợp lệ");
	return NULL;
}

static cJSON *inventory_apply(struct dms *st, const cJSON *it)
{
	const char *kho = jstr(it, "ma_kho");
	const char *sp = jstr(it, "ma_sp");
	cJSON *row = NULL;
	cJSON *r;
	cJSON_ArrayForEach (r, st->stock) {
		if (streq(jstr(r, "ma_kho"), kho) &&
		    streq(jstr(r, "ma_sp"), sp))
			row = r;
	}
	if (!row) {
		const cJSON *w = find_by(st->warehouses, "ma_kho", kho);
		const cJSON *p = find_by(st->products, "ma_sp", sp);
		row = cJSON_CreateObject();
		cJSON_AddStringToObject(row, "ma_kho", kho);
		sbx_jset_str(row, "ten_kho", jstr(w, "ten_kho"));
		cJSON_AddStringToObject(row, "ma_sp", sp);
		sbx_jset_str(row, "ten_sp", jstr(p, "ten_sp"));
		sbx_jset_str(row, "don_vi", unit_of(p));
		cJSON_AddItemToArray(st->stock, row);
	}
	sbx_jset_num(row, "so_luong", jnum(it, "so_luong"));
	sbx_jset_str(row, "ngay_chot", jstr(it, "ngay_chot"));
	stamp(row, "ngay_cap_nhat");
	cJSON *res = cJSON_CreateObject();
	cJSON_AddStringToObject(res, "ma_kho", kho);
	cJSON_AddStringToObject(res, "ma_sp", sp);
	cJSON_AddStringToObject(res, "ket_qua", "cap_nhat");
	return res;
}

static void h_inventory_push(struct sbx_emu *emu, struct sbx_req *req)
{
	push_run(emu, req, inventory_check, inventory_apply);
}

/* Debt push: {ma_kh, du_no_cuoi_ky, ngay_chot}; shown to staff on visits. */
static cJSON *debt_check(struct dms *st, const cJSON *it)
{
	const char *kh = jstr(it, "ma_kh");
	if (!find_by(st->outlets, "ma_kh", kh))
		return item_unknown("ma_kh", kh, "khách hàng", kh);
	if (!has_num(it, "du_no_cuoi_ky"))
		return item_error("ma_kh", kh, "du_no_cuoi_ky không hợp lệ");
	return NULL;
}

static cJSON *debt_apply(struct dms *st, const cJSON *it)
{
	const char *kh = jstr(it, "ma_kh");
	cJSON *d = find_by(st->debts, "ma_kh", kh);
	if (!d) {
		d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, "ma_kh", kh);
		cJSON_AddItemToArray(st->debts, d);
	}
	sbx_jset_num(d, "du_no_cuoi_ky", jnum(it, "du_no_cuoi_ky"));
	sbx_jset_str(d, "ngay_chot", jstr(it, "ngay_chot"));
	stamp(d, "ngay_cap_nhat");
	cJSON *o = find_by(st->outlets, "ma_kh", kh);
	sbx_jset_num(o, "du_no", jnum(it, "du_no_cuoi_ky"));
	return push_updated("ma_kh", kh);
}

static void h_debt_push(struct sbx_emu *emu, struct sbx_req *req)
{
	push_run(emu, req, debt_check, debt_apply);
}

/* Order status push (AMIS -> DMS, D7): {ma_don, trang_thai_ke_toan,
 * so_chung_tu, ghi_chu}. Does not touch the approval status. */
static cJSON *bill_status_check(struct dms *st, const cJSON *it)
{
	const char *no = jstr(it, "ma_phieu");
	if (!find_by(st->orders, "ma_phieu", no))
		return item_unknown("ma_phieu", no, "đơn hàng", no);
	if (!jstr(it, "trang_thai_ke_toan") || !*jstr(it, "trang_thai_ke_toan"))
		return item_error("ma_phieu", no, "thiếu trang_thai_ke_toan");
	return NULL;
}

static cJSON *bill_status_apply(struct dms *st, const cJSON *it)
{
	cJSON *o = find_by(st->orders, "ma_phieu", jstr(it, "ma_phieu"));
	sbx_jset_str(o, "trang_thai_ke_toan", jstr(it, "trang_thai_ke_toan"));
	if (jstr(it, "so_chung_tu"))
		sbx_jset_str(o, "so_chung_tu_ke_toan", jstr(it, "so_chung_tu"));
	if (jstr(it, "ghi_chu"))
		sbx_jset_str(o, "ghi_chu_ke_toan", jstr(it, "ghi_chu"));
	stamp(o, "ngay_cap_nhat_ke_toan");
	return push_updated("ma_phieu", jstr(it, "ma_phieu"));
}

static void h_bill_status_push(struct sbx_emu *emu, struct sbx_req *req)
{
	push_run(emu, req, bill_status_check, bill_status_apply);
}

/* ---- documents: lines and totals (B10 rules) ---- */

static const char *const status_text[][2] = {
	{ "cho_duyet", "Chờ duyệt" },
	{ "da_duyet", "Đã duyệt" },
	{ "tu_choi", "Từ chối" },
	{ NULL, NULL },
};

/* s is matched against the table first: it may point into doc itself. */
static void set_status(cJSON *doc, const char *s)
{
	for (int i = 0; status_text[i][0]; i++) {
		if (streq(status_text[i][0], s)) {
			sbx_jset_str(doc, "trang_thai", status_text[i][0]);
			sbx_jset_str(doc, "ten_trang_thai", status_text[i][1]);
			return;
		}
	}
}

/* Builds lines and totals from in's chi_tiet; NULL with msg on error. */
static cJSON *build_lines(struct dms *st, cJSON *doc, const cJSON *in,
			  char *msg, size_t n)
{
	const cJSON *l;
	const cJSON *lines = jget(in, "chi_tiet");
	double sum = 0;
	double disc = 0;
	double tax = 0;
	if (!cJSON_IsArray(lines) || !lines->child) {
		snprintf(msg, n, "chi_tiet không được để trống");
		return NULL;
	}
	cJSON *out = cJSON_CreateArray();
	int no = 0;
	cJSON_ArrayForEach (l, lines) {
		const char *code = jstr(l, "ma_sp");
		const cJSON *p = find_by(st->products, "ma_sp", code);
		double q = jnum(l, "so_luong");
		if (!p) {
			snprintf(msg, n, "không có sản phẩm '%s'",
				 code ? code : "");
			goto out_free;
		}
		if (q <= 0) {
			snprintf(msg, n, "so_luong của '%s' phải lớn hơn 0",
				 code);
			goto out_free;
		}
		bool km = sbx_jbool(l, "khuyen_mai", false) ||
			  sbx_jbool(l, "is_km", false);
		/* a gift (hàng khuyến mãi) costs nothing unless priced */
		double price = jget(l, "don_gia") ? jnum(l, "don_gia")
			       : km		  ? 0
						  : jnum(p, "gia_ban");
		double rate = jget(l, "thue_suat") ? jnum(l, "thue_suat")
						   : jnum(p, "thue_vat");
		double amount = sbx_vnd(q * price);
		double d = jget(l, "chiet_khau_tien")
				   ? sbx_vnd(jnum(l, "chiet_khau_tien"))
				   : sbx_vnd(amount *
					     jnum(l, "ty_le_chiet_khau") / 100);
		double t = sbx_vnd((amount - d) * rate / 100);
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "stt", ++no);
		cJSON_AddStringToObject(o, "ma_sp", code);
		sbx_jset_str(o, "ten_sp", jstr(p, "ten_sp"));
		sbx_jset_str(o, "ma_dvt", unit_of(p));
		sbx_jset_str(o, "ten_dvt", unit_of(p));
		cJSON_AddNumberToObject(o, "so_luong", q);
		cJSON_AddNumberToObject(o, "don_gia", price);
		cJSON_AddNumberToObject(o, "thanh_tien", amount);
		cJSON_AddNumberToObject(o, "ty_le_chiet_khau",
					jnum(l, "ty_le_chiet_khau"));
		cJSON_AddNumberToObject(o, "chiet_khau_tien", d);
		cJSON_AddNumberToObject(o, "thue_suat", rate);
		cJSON_AddNumberToObject(o, "tien_thue", t);
		cJSON_AddNumberToObject(o, "tong_cong", amount - d + t);
		cJSON_AddBoolToObject(o, "is_km", km);
		sbx_jset_str(o, "loai_hang", km ? "Khuyến mãi" : "Hàng bán");
		sbx_jset_str(o, "ctkm", km ? jstr(l, "ctkm") : NULL);
		cJSON *promo = cJSON_AddArrayToObject(o, "promotion");
		if (km && jstr(l, "ctkm")) {
			cJSON *pr = cJSON_CreateObject();
			cJSON_AddStringToObject(pr, "id", jstr(l, "ctkm"));
			sbx_jset_str(pr, "ten_khuyen_mai",
				     jstr(l, "ten_khuyen_mai"));
			cJSON_AddItemToArray(promo, pr);
		}
		cJSON_AddItemToArray(out, o);
		sum += amount;
		disc += d;
		tax += t;
	}
	sbx_jset(doc, "chi_tiet", out);
	sbx_jset_num(doc, "tong_tien_hang", sum);
	sbx_jset_num(doc, "tong_chiet_khau", disc);
	sbx_jset_num(doc, "tong_tien_thue", tax);
	sbx_jset_num(doc, "tong_thanh_toan", sum - disc + tax);
	return out;
out_free:
	cJSON_Delete(out);
	return NULL;
}

/* Checks the party codes common to orders and returns. */
static bool check_parties(struct dms *st, const cJSON *in, char *msg, size_t n)
{
	const char *kh = jstr(in, "ma_kh");
	const char *nv = jstr(in, "ma_nv");
	const char *kho = jstr(in, "ma_kho");
	if (!find_by(st->outlets, "ma_kh", kh)) {
		snprintf(msg, n, "không có khách hàng '%s'", kh ? kh : "");
		return false;
	}
	if (!find_by(st->staff, "ma", nv)) {
		snprintf(msg, n, "không có nhân viên '%s'", nv ? nv : "");
		return false;
	}
	if (!find_by(st->warehouses, "ma_kho", kho)) {
		snprintf(msg, n, "không có kho '%s'", kho ? kho : "");
		return false;
	}
	return true;
}

static void copy_parties(struct dms *st, cJSON *doc, const cJSON *in)
{
	const cJSON *kh = find_by(st->outlets, "ma_kh", jstr(in, "ma_kh"));
	const cJSON *nv = find_by(st->staff, "ma", jstr(in, "ma_nv"));
	sbx_jset_str(doc, "ma_kh", jstr(kh, "ma_kh"));
	sbx_jset_str(doc, "ten_kh", jstr(kh, "tenkh"));
	sbx_jset_str(doc, "dia_chi_kh", jstr(kh, "dia_chi"));
	sbx_jset_str(doc, "ma_so_thue_kh", jstr(kh, "ma_so_thue"));
	sbx_jset_str(doc, "ma_nv", jstr(nv, "ma"));
	sbx_jset_str(doc, "ten_nv", jstr(nv, "ten"));
	sbx_jset_str(doc, "ma_kho", jstr(in, "ma_kho"));
}

/* ---- acts (what DMS users do) ---- */

static bool act_begin(struct dms *st, struct sbx_req *req)
{
	cJSON_Delete(st->out_hooks);
	st->out_hooks = cJSON_CreateArray();
	if (!cJSON_IsObject(req->json)) {
		reply_err(req, 400, "body must be a json object");
		return false;
	}
	return true;
}

static void act_end(struct dms *st)
{
	cJSON_Delete(st->out_hooks);
	st->out_hooks = NULL;
}

static void act_reply(struct dms *st, struct sbx_req *req, int status,
		      const cJSON *doc)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddTrueToObject(o, "status");
	cJSON_AddItemToObject(o, "data", sbx_out_copy(doc));
	cJSON_AddItemToObject(o, "webhooks", st->out_hooks);
	st->out_hooks = NULL;
	sbx_reply_json(req, status, o);
}

/* A salesman adds an outlet (điểm bán) in the app. */
static void act_create_outlet(struct sbx_emu *emu, struct sbx_req *req)
{
	struct dms *st = emu->data;
	const cJSON *in = req->json;
	char code[32];
	char msg[160];
	if (!act_begin(st, req))
		goto out;
	const char *name = jstr(in, "tenkh");
	const char *nv = jstr(in, "ma_nv");
	if (!name || !*name) {
		reply_err(req, 422, "tenkh không được để trống");
		goto out;
	}
	if (!find_by(st->staff, "ma", nv)) {
		snprintf(msg, sizeof msg, "không có nhân viên '%s'",
			 nv ? nv : "");
		reply_err(req, 422, msg);
		goto out;
	}
	if (jstr(in, "ma_kh"))
		snprintf(code, sizeof code, "%s", jstr(in, "ma_kh"));
	else
		snprintf(code, sizeof code, "KH%04.0f", st->next_outlet_no++);
	if (find_by(st->outlets, "ma_kh", code)) {
		snprintf(msg, sizeof msg, "mã khách hàng '%s' đã tồn tại",
			 code);
		reply_err(req, 409, msg);
		goto out;
	}
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "id", st->next_id++);
	cJSON_AddStringToObject(o, "ma_kh", code);
	cJSON_AddStringToObject(o, "tenkh", name);
	static const char *const keys[] = { "dia_chi",	     "tinh_thanh_moi",
					    "sdt",	     "loai_kh",
					    "nhom_kh",	     "code_router",
					    "ma_so_thue",    "email",
					    "nguoi_lien_he", NULL };
	for (int i = 0; keys[i]; i++)
		sbx_jset_str(o, keys[i], jstr(in, keys[i]));
	cJSON_AddStringToObject(o, "ma_nv_tao", nv);
	cJSON_AddNumberToObject(o, "trang_thai", 1);
	cJSON_AddNumberToObject(o, "du_no", 0);
	stamp(o, "ngay_tao");
	stamp(o, "ngay_cap_nhat");
	cJSON_AddItemToArray(st->outlets, o);
	emit(emu, "outlet.created", o);
	act_reply(st, req, 201, o);
out:
	act_end(st);
}

/* Office staff correct an outlet (name, address, tax code, phone...). */
static void act_edit_outlet(struct sbx_emu *emu, struct sbx_req *req)
{
	struct dms *st = emu->data;
	const cJSON *in = req->json;
	if (!act_begin(st, req))
		goto out;
	cJSON *o = find_by(st->outlets, "ma_kh", jstr(in, "ma_kh"));
	if (!o) {
		reply_err(req, 404, "không tìm thấy khách hàng");
		goto out;
	}
	static const char *const keys[] = {
		"tenkh",	 "dia_chi",    "tinh_thanh_moi",
		"sdt",		 "loai_kh",    "nhom_kh",
		"code_router",	 "ma_so_thue", "email",
		"nguoi_lien_he", NULL
	};
	for (int i = 0; keys[i]; i++) {
		if (jget(in, keys[i]))
			sbx_jset(o, keys[i],
				 cJSON_Duplicate(jget(in, keys[i]), true));
	}
	stamp(o, "ngay_cap_nhat");
	emit(emu, "outlet.updated", o);
	act_reply(st, req, 200, o);
out:
	act_end(st);
}

/* A new order or return from the act body: lines and totals, the next id
 * and number (<prefix>000001), the document date and the parties. NULL
 * after replying 422 when the lines are wrong. */
static cJSON *doc_start(struct dms *st, struct sbx_req *req, const char *prefix,
			double *seq, const char *nokey, const char *datekey)
{
	const cJSON *in = req->json;
	char msg[160];
	char no[32];
	cJSON *doc = cJSON_CreateObject();
	if (!build_lines(st, doc, in, msg, sizeof msg)) {
		cJSON_Delete(doc);
		reply_err(req, 422, msg);
		return NULL;
	}
	cJSON_AddNumberToObject(doc, "id", st->next_id++);
	snprintf(no, sizeof no, "%s%06.0f", prefix, (*seq)++);
	cJSON_AddStringToObject(doc, nokey, no);
	stamp(doc, datekey);
	copy_parties(st, doc, in);
	return doc;
}

static void act_create_order(struct sbx_emu *emu, struct sbx_req *req)
{
	struct dms *st = emu->data;
	const cJSON *in = req->json;
	char msg[160];
	if (!act_begin(st, req))
		goto out;
	if (!check_parties(st, in, msg, sizeof msg)) {
		reply_err(req, 422, msg);
		goto out;
	}
	const char *pay = jstr(in, "hinh_thuc_thanh_toan")
				  ? jstr(in, "hinh_thuc_thanh_toan")
				  : "Tiền mặt";
	if (!find_by(st->payment_methods, "ten", pay)) {
		snprintf(msg, sizeof msg, "hình thức thanh toán '%s' không có",
			 pay);
		reply_err(req, 422, msg);
		goto out;
	}
	cJSON *o = doc_start(st, req, "DH", &st->next_order_no, "ma_phieu",
			     "ngay_dat");
	if (!o)
		goto out;
	cJSON_AddStringToObject(o, "hinh_thuc_thanh_toan", pay);
	sbx_jset_str(o, "ghi_chu", jstr(in, "ghi_chu"));
	set_status(o, "cho_duyet");
	cJSON_AddNullToObject(o, "nguoi_duyet");
	cJSON_AddNullToObject(o, "ngay_duyet");
	cJSON_AddNumberToObject(o, "phien_ban", 1);
	cJSON_AddFalseToObject(o, "sua_sau_duyet");
	cJSON_AddNullToObject(o, "trang_thai_ke_toan");
	cJSON_AddNullToObject(o, "so_chung_tu_ke_toan");
	stamp(o, "ngay_cap_nhat");
	cJSON_AddItemToArray(st->orders, o);
	emit_doc(emu, "order.created", o);
	if (sbx_jbool(in, "duyet", false)) {
		set_status(o, "da_duyet");
		sbx_jset_str(o, "nguoi_duyet",
			     jstr(in, "nguoi_duyet") ? jstr(in, "nguoi_duyet")
						     : "admin");
		stamp(o, "ngay_duyet");
		emit_doc(emu, "order.approved", o);
	}
	act_reply(st, req, 201, o);
out:
	act_end(st);
}

/* Approval by a sales admin: only a pending document can be approved. */
static void approve(struct sbx_emu *emu, struct sbx_req *req, cJSON *arr,
		    const char *nokey, const char *event, const char *what)
{
	struct dms *st = emu->data;
	char msg[160];
	const cJSON *in = req->json;
	const char *ref = jstr(in, nokey);
	char idbuf[32];
	if (!ref && jget(in, "id")) {
		snprintf(idbuf, sizeof idbuf, "%.0f", jnum(in, "id"));
		ref = idbuf;
	}
	cJSON *doc = find_doc(arr, nokey, ref);
	if (!doc) {
		snprintf(msg, sizeof msg, "không tìm thấy %s", what);
		reply_err(req, 404, msg);
		return;
	}
	if (!streq(jstr(doc, "trang_thai"), "cho_duyet")) {
		snprintf(msg, sizeof msg,
			 "%s %s đang ở trạng thái '%s', không thể duyệt", what,
			 jstr(doc, nokey), jstr(doc, "ten_trang_thai"));
		reply_err(req, 409, msg);
		return;
	}
	set_status(doc, "da_duyet");
	sbx_jset_str(doc, "nguoi_duyet",
		     jstr(in, "nguoi_duyet") ? jstr(in, "nguoi_duyet")
					     : "admin");
	stamp(doc, "ngay_duyet");
	stamp(doc, "ngay_cap_nhat");
	emit_doc(emu, event, doc);
	act_reply(st, req, 200, doc);
}

static void act_approve_order(struct sbx_emu *emu, struct sbx_req *req)
{
	struct dms *st = emu->data;
	if (act_begin(st, req))
		approve(emu, req, st->orders, "ma_phieu", "order.approved",
			"đơn hàng");
	act_end(st);
}

static void act_approve_return(struct sbx_emu *emu, struct sbx_req *req)
{
	struct dms *st = emu->data;
	if (act_begin(st, req))
		approve(emu, req, st->returns, "ma_phieu", "return.approved",
			"phiếu trả hàng");
	act_end(st);
}

/* Editing keeps the number; after approval it bumps phien_ban and marks
 * sua_sau_duyet so the host can flag "changed after sync". */
static void act_edit_order(struct sbx_emu *emu, struct sbx_req *req)
{
	struct dms *st = emu->data;
	const cJSON *in = req->json;
	char msg[160];
	char idbuf[32];
	if (!act_begin(st, req))
		goto out;
	const char *ref = jstr(in, "ma_phieu");
	if (!ref && jget(in, "id")) {
		snprintf(idbuf, sizeof idbuf, "%.0f", jnum(in, "id"));
		ref = idbuf;
	}
	cJSON *o = find_doc(st->orders, "ma_phieu", ref);
	if (!o) {
		reply_err(req, 404, "không tìm thấy đơn hàng");
		goto out;
	}
	if (jget(in, "chi_tiet")) {
		cJSON *tmp = cJSON_CreateObject();
		if (!build_lines(st, tmp, in, msg, sizeof msg)) {
			cJSON_Delete(tmp);
			reply_err(req, 422, msg);
			goto out;
		}
		static const char *const keys[] = {
			"chi_tiet",	  "tong_tien_hang",  "tong_chiet_khau",
			"tong_tien_thue", "tong_thanh_toan", NULL
		};
		for (int i = 0; keys[i]; i++)
			sbx_jset(o, keys[i],
				 cJSON_DetachItemFromObjectCaseSensitive(
					 tmp, keys[i]));
		cJSON_Delete(tmp);
	}
	if (jstr(in, "ghi_chu"))
		sbx_jset_str(o, "ghi_chu", jstr(in, "ghi_chu"));
	if (jstr(in, "hinh_thuc_thanh_toan"))
		sbx_jset_str(o, "hinh_thuc_thanh_toan",
			     jstr(in, "hinh_thuc_thanh_toan"));
	sbx_jset_num(o, "phien_ban", jnum(o, "phien_ban") + 1);
	if (streq(jstr(o, "trang_thai"), "da_duyet"))
		sbx_jset(o, "sua_sau_duyet", cJSON_CreateTrue());
	stamp(o, "ngay_cap_nhat");
	emit_doc(emu, "order.updated", o);
	act_reply(st, req, 200, o);
out:
	act_end(st);
}

static void act_create_return(struct sbx_emu *emu, struct sbx_req *req)
{
	struct dms *st = emu->data;
	const cJSON *in = req->json;
	char msg[160];
	if (!act_begin(st, req))
		goto out;
	if (!check_parties(st, in, msg, sizeof msg)) {
		reply_err(req, 422, msg);
		goto out;
	}
	const char *kind = jstr(in, "hinh_thuc_xu_ly") ? jstr(in, "hinh_thuc_"
								  "xu_ly")
						       : "nhap_kho";
	if (!streq(kind, "nhap_kho") && !streq(kind, "giam_tru_cong_no")) {
		reply_err(req, 422,
			  "hinh_thuc_xu_ly phải là nhap_kho hoặc "
			  "giam_tru_cong_no");
		goto out;
	}
	const char *orig = jstr(in, "ma_don_goc");
	if (orig && !find_by(st->orders, "ma_phieu", orig)) {
		snprintf(msg, sizeof msg, "không có đơn hàng gốc '%s'", orig);
		reply_err(req, 422, msg);
		goto out;
	}
	cJSON *r = doc_start(st, req, "TH", &st->next_return_no, "ma_phieu",
			     "ngay_tra");
	if (!r)
		goto out;
	sbx_jset_str(r, "ma_don_goc", orig);
	sbx_jset_str(r, "ly_do",
		     jstr(in, "ly_do") ? jstr(in, "ly_do") : "Hàng cận date");
	cJSON_AddStringToObject(r, "hinh_thuc_xu_ly", kind);
	set_status(r, "cho_duyet");
	cJSON_AddNullToObject(r, "nguoi_duyet");
	cJSON_AddNullToObject(r, "ngay_duyet");
	stamp(r, "ngay_cap_nhat");
	cJSON_AddItemToArray(st->returns, r);
	emit_doc(emu, "return.created", r);
	act_reply(st, req, 201, r);
out:
	act_end(st);
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
			if (!build_lines(st, doc, in, msg, sizeof msg)) {
				cJSON_Delete(in);
				return -1;
			}
			cJSON_Delete(in);
			copy_parties(st, doc, doc);
			set_status(doc, jstr(doc, "trang_thai")
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
	{ "POST", "/OpenAPI/V1/BillStatus", h_bill_status_push },
	{ "POST", "/OpenAPI/V1/Inventory", h_inventory_push },
	{ "GET", "/OpenAPI/V1/Customer", h_outlets },
	{ "GET", "/OpenAPI/V1/Customer/{code}", h_outlet_get },
	{ "GET", "/OpenAPI/V1/CustomerDebt", h_debts },
	{ "POST", "/OpenAPI/V1/CustomerDebt", h_debt_push },
	{ "GET", "/OpenAPI/V1/Product", h_products },
	{ "POST", "/OpenAPI/V1/Product", h_product_push },
	{ "PUT", "/OpenAPI/V1/Product", h_product_push },
	{ "GET", "/OpenAPI/V1/Warehouse", h_warehouses },
	{ "GET", "/OpenAPI/V1/ReturnBill", h_returns },
	{ "GET", "/OpenAPI/V1/ReturnBill/{id}", h_return_get },
	{ NULL, NULL, NULL }
};

static const struct sbx_act dms_acts[] = {
	{ "create_outlet", act_create_outlet },
	{ "create_order", act_create_order },
	{ "approve_order", act_approve_order },
	{ "edit_order", act_edit_order },
	{ "edit_outlet", act_edit_outlet },
	{ "create_return", act_create_return },
	{ "approve_return", act_approve_return },
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

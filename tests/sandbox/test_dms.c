/* test_dms.c - contract tests of the MobiWork DMS emulator through real
 * HTTP against a running luong-sandbox (seed: sandbox/seed/dms.json). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sbx_client.h"

/* base64("anphat_api:mw_tk_3f9a7c21d0b84e6a") */
#define BASIC                                                                  \
	"Authorization: Basic YW5waGF0X2FwaTptd190a18zZjlhN2MyMWQwYjg0ZTZh"
#define SECRET "test-secret-dms"
#define V1 "/OpenAPI/V1/"

static struct sbxc sb;
static struct sbxc_recv *rx;

static const char *U(const char *path)
{
	return sbxc_url(&sb, "dms", path);
}

/* Authenticated call expecting `status`; returns the JSON (caller frees). */
static cJSON *call(const char *method, const char *path, const char *body,
		   long status)
{
	struct sbxc_resp r;
	const char *const h[] = { BASIC, NULL };
	sbxc_http(method, U(path), h, body, 10000, &r);
	ck_assert_msg(r.status == status, "%s %s: status %ld, want %ld: %s",
		      method, path, r.status, status, r.body);
	cJSON *j = r.json;
	r.json = NULL;
	sbxc_resp_free(&r);
	ck_assert_ptr_nonnull(j);
	return j;
}

/* A successful envelope: status true, data array, total; returns data's size. */
static int envelope(const cJSON *j, int total)
{
	ck_assert(cJSON_IsTrue(sbxc_jget(j, "status")));
	ck_assert(cJSON_IsArray(sbxc_jget(j, "data")));
	if (total >= 0)
		ck_assert_int_eq((int)sbxc_jnum(j, "total"), total);
	return cJSON_GetArraySize(sbxc_jget(j, "data"));
}

static cJSON *act(const char *name, const char *body)
{
	return sbxc_act(&sb, "dms", name, body);
}

static void setup(void)
{
	rx = sbxc_start_hooked(&sb, "dms", SECRET);
}

static void teardown(void)
{
	sbxc_stop_hooked(&sb, rx);
}

/* ---------------- faithful reads ---------------- */

START_TEST(basic_auth)
{
	struct sbxc_resp r;
	sbxc_http("GET", U(V1 "Sale"), NULL, NULL, 5000, &r);
	ck_assert_int_eq(r.status, 401);
	ck_assert(cJSON_IsFalse(sbxc_jget(r.json, "status")));
	char *h = sbxc_resp_header(&r, "WWW-Authenticate");
	ck_assert_ptr_nonnull(h);
	free(h);
	sbxc_resp_free(&r);
	/* anphat_api:wrong */
	const char *const bad[] = { "Authorization: Basic "
				    "YW5waGF0X2FwaTp3cm9uZw==",
				    NULL };
	sbxc_http("GET", U(V1 "Sale"), bad, NULL, 5000, &r);
	ck_assert_int_eq(r.status, 401);
	sbxc_resp_free(&r);
	const char *const bearer[] = { "Authorization: Bearer "
				       "mw_tk_3f9a7c21d0b84e6a",
				       NULL };
	sbxc_http("GET", U(V1 "Sale"), bearer, NULL, 5000, &r);
	ck_assert_int_eq(r.status, 401);
	sbxc_resp_free(&r);
	cJSON *j = call("GET", V1 "Sale", NULL, 200);
	ck_assert_int_eq(envelope(j, 4), 4);
	cJSON *s0 = cJSON_GetArrayItem(sbxc_jget(j, "data"), 0);
	/* apis.md §5: Sale rows carry ma, ten, ma_don_vi, trang_thai */
	ck_assert_str_eq(sbxc_jstr(s0, "ma"), "NVBH01");
	ck_assert_str_eq(sbxc_jstr(s0, "ten"), "Lê Minh Tuấn");
	ck_assert_str_eq(sbxc_jstr(s0, "ma_don_vi"), "MB");
	ck_assert_ptr_null(sbxc_jget(s0, "ma_nv"));
	cJSON_Delete(j);
	/* ?status=1: the seasonal salesman who left is not listed */
	j = call("GET", V1 "Sale?status=1", NULL, 200);
	ck_assert_int_eq(envelope(j, 3), 3);
	cJSON_Delete(j);
}
END_TEST

START_TEST(paging_and_route_cap)
{
	cJSON *j = call("GET", V1 "SaleGroup?page_size=2&page_number=1", NULL,
			200);
	ck_assert_int_eq(envelope(j, 5), 2);
	ck_assert_str_eq(sbxc_jstr(cJSON_GetArrayItem(sbxc_jget(j, "data"), 0),
				   "ma_nhom"),
			 "ANPHAT");
	cJSON_Delete(j);
	j = call("GET", V1 "SaleGroup?page_size=2&page_number=3", NULL, 200);
	ck_assert_int_eq(envelope(j, 5), 1);
	ck_assert_str_eq(sbxc_jstr(cJSON_GetArrayItem(sbxc_jget(j, "data"), 0),
				   "ma_nhom"),
			 "NPP_HN01");
	cJSON_Delete(j);
	j = call("GET", V1 "SaleGroup?page_size=2&page_number=4", NULL, 200);
	ck_assert_int_eq(envelope(j, 5), 0);
	cJSON_Delete(j);
	j = call("GET", V1 "SaleGroup?page_number=0", NULL, 400);
	ck_assert(cJSON_IsFalse(sbxc_jget(j, "status")));
	ck_assert_ptr_nonnull(sbxc_jstr(j, "message"));
	cJSON_Delete(j);
	/* Route pages hold at most 10 */
	j = call("GET", V1 "Route?page_size=10&page_number=1", NULL, 200);
	ck_assert_int_eq(envelope(j, 4), 4);
	cJSON_Delete(j);
	cJSON_Delete(call("GET", V1 "Route?page_size=11", NULL, 400));
	cJSON_Delete(call("GET", V1 "Bill?page_size=1001", NULL, 400));
	cJSON_Delete(call("GET", V1 "Bill?page_size=abc", NULL, 400));
}
END_TEST

START_TEST(date_filters)
{
	/* Bill rows are order lines: DH000901 has two */
	cJSON *j = call("GET", V1 "Bill?tu_ngay=01/06/2025&den_ngay=10/06/2025",
			NULL, 200);
	ck_assert_int_eq(envelope(j, 2), 2);
	ck_assert_str_eq(sbxc_jstr(cJSON_GetArrayItem(sbxc_jget(j, "data"), 0),
				   "ma_phieu"),
			 "DH000901");
	cJSON_Delete(j);
	/* den_ngay is inclusive of the whole day */
	j = call("GET", V1 "Bill?tu_ngay=15/06/2025&den_ngay=15/06/2025", NULL,
		 200);
	ck_assert_int_eq(envelope(j, 1), 1);
	ck_assert_str_eq(sbxc_jstr(cJSON_GetArrayItem(sbxc_jget(j, "data"), 0),
				   "ma_phieu"),
			 "DH000902");
	cJSON_Delete(j);
	j = call("GET", V1 "Bill?tu_ngay=01/01/2024&den_ngay=31/12/2024", NULL,
		 200);
	ck_assert_int_eq(envelope(j, 0), 0);
	cJSON_Delete(j);
	/* kieu_ngay=2 filters on the approval date: only the approved order */
	j = call("GET",
		 V1 "Bill?tu_ngay=01/06/2025&den_ngay=30/06/2025&kieu_ngay=2",
		 NULL, 200);
	ck_assert_int_eq(envelope(j, 2), 2);
	cJSON_Delete(j);
	j = call("GET", V1 "VisitData?tu_ngay=11/06/2025&den_ngay=15/06/2025",
		 NULL, 200);
	ck_assert_int_eq(envelope(j, 2), 2);
	cJSON_Delete(j);
	cJSON_Delete(call("GET", V1 "Bill?tu_ngay=2025-06-01", NULL, 400));
	cJSON_Delete(call("GET", V1 "Bill?tu_ngay=31/02/2025", NULL, 400));
	cJSON_Delete(call("GET",
			  V1 "Bill?tu_ngay=20/06/2025&den_ngay=01/06/2025",
			  NULL, 400));
}
END_TEST

START_TEST(bill_totals_follow_vnd_rules)
{
	cJSON *j = call("GET", V1 "Bill/DH000901", NULL, 200);
	ck_assert_int_eq(envelope(j, 2), 2);
	cJSON *o = cJSON_GetArrayItem(sbxc_jget(j, "data"), 0);
	cJSON *o2 = cJSON_GetArrayItem(sbxc_jget(j, "data"), 1);
	/* lines keyed by ma_phieu + stt, the faithful names on each */
	ck_assert_str_eq(sbxc_jstr(o, "ma_phieu"), "DH000901");
	ck_assert_int_eq((int)sbxc_jnum(o, "stt"), 1);
	ck_assert_int_eq((int)sbxc_jnum(o2, "stt"), 2);
	ck_assert_str_eq(sbxc_jstr(o2, "ma_sp"), "SP003");
	ck_assert_str_eq(sbxc_jstr(o, "ma_nv_dat"), "NVBH01");
	ck_assert_str_eq(sbxc_jstr(o, "ten_nguoi_dat"), "Lê Minh Tuấn");
	ck_assert_str_eq(sbxc_jstr(o, "ma_kh"), "KH0001");
	ck_assert_int_eq((int)sbxc_jnum(o, "ID_khachhang"), 400001);
	ck_assert_str_eq(sbxc_jstr(o, "tuyen_code"), "T-HN-T2");
	ck_assert_str_eq(sbxc_jstr(o, "ma_dvt"), "Thùng");
	ck_assert_str_eq(sbxc_jstr(o, "ngay_ban_hang"), "10/06/2025");
	ck_assert(cJSON_IsFalse(sbxc_jget(o, "is_km")));
	ck_assert_int_eq((int)sbxc_jnum(o2, "tien_thue"), 42560);
	/* 10 x 96 000 at 10 %; 5 x 112 000 less 5 % at 8 % */
	ck_assert_int_eq((int)sbxc_jnum(o, "tong_tien_hang"), 1520000);
	ck_assert_int_eq((int)sbxc_jnum(o, "tong_chiet_khau"), 28000);
	ck_assert_int_eq((int)sbxc_jnum(o, "tong_tien_thue"), 96000 + 42560);
	ck_assert_int_eq((int)sbxc_jnum(o, "tong_thanh_toan"),
			 1520000 - 28000 + 138560);
	ck_assert_str_eq(sbxc_jstr(o, "ma_kho_xuat"), "Hà Nội");
	ck_assert_str_eq(sbxc_jstr(o, "trang_thai"), "da_duyet");
	cJSON_Delete(j);
	cJSON_Delete(call("GET", V1 "Bill/DH999999", NULL, 404));
}
END_TEST

START_TEST(products_carry_units_and_may_lack_a_code)
{
	cJSON *j = call("GET", V1 "Product?page_size=200&page_number=1", NULL,
			200);
	ck_assert_int_eq(envelope(j, 6), 6);
	cJSON *p = cJSON_GetArrayItem(sbxc_jget(j, "data"), 0);
	ck_assert_str_eq(sbxc_jstr(p, "dvt_chan"), "Thùng");
	ck_assert_str_eq(sbxc_jstr(p, "dvt_le"), "Chai");
	ck_assert_int_eq((int)sbxc_jnum(p, "hsqd"), 24);
	ck_assert_str_eq(sbxc_jstr(p, "nhan_hieu"), "La Vie");
	/* apis.md §5: ma_sp is sometimes null */
	p = cJSON_GetArrayItem(sbxc_jget(j, "data"), 5);
	ck_assert(cJSON_IsNull(sbxc_jget(p, "ma_sp")));
	ck_assert_ptr_nonnull(sbxc_jget(p, "id"));
	cJSON_Delete(j);
}
END_TEST

/* Outlets are listed newest first: one created while a client pages
 * moves the total and shifts the later pages (apis.md §5). */
START_TEST(customer_total_moves_between_pages)
{
	cJSON *j =
		call("GET", V1 "Customer?page_size=2&page_number=1", NULL, 200);
	ck_assert_int_eq(envelope(j, 4), 2);
	cJSON *c = cJSON_GetArrayItem(sbxc_jget(j, "data"), 0);
	ck_assert_str_eq(sbxc_jstr(c, "ma_kh"), "KH0101");
	ck_assert_str_eq(sbxc_jstr(c, "tenkh"), "Tạp hóa Cô Lan");
	ck_assert_str_eq(sbxc_jstr(c, "sdt"), "0986 321 654");
	ck_assert_str_eq(sbxc_jstr(c, "nhom_kh"), "MB");
	ck_assert_str_eq(sbxc_jstr(c, "code_router"), "T-HN-T5");
	ck_assert_str_eq(sbxc_jstr(c, "tinh_thanh_moi"), "Hà Nội");
	ck_assert_ptr_nonnull(sbxc_jget(c, "id"));
	cJSON_Delete(j);
	cJSON_Delete(act("create_outlet", "{\"tenkh\":\"Quán Cô Ba\","
					  "\"ma_nv\":\"NVBH01\"}"));
	j = call("GET", V1 "Customer?page_size=2&page_number=2", NULL, 200);
	ck_assert_int_eq(envelope(j, 5), 2);
	/* KH0002 slid onto page 2 behind the new outlet */
	ck_assert_str_eq(sbxc_jstr(cJSON_GetArrayItem(sbxc_jget(j, "data"), 0),
				   "ma_kh"),
			 "KH0003");
	cJSON_Delete(j);
	/* a gift line: is_km, free, its promotion named */
	cJSON *r = act("create_order",
		       "{\"ma_kh\":\"KH0001\",\"ma_nv\":\"NVBH01\","
		       "\"ma_kho\":\"Hà Nội\",\"chi_tiet\":[{\"ma_sp\":"
		       "\"SP001\",\"so_luong\":10},{\"ma_sp\":\"SP005\","
		       "\"so_luong\":1,\"khuyen_mai\":true,\"ctkm\":\"KM06\","
		       "\"ten_khuyen_mai\":\"Mua 10 tặng 1\"}]}");
	char path[64];
	snprintf(path, sizeof path, V1 "Bill/%s",
		 sbxc_jstr(sbxc_jget(r, "data"), "ma_phieu"));
	cJSON_Delete(r);
	j = call("GET", path, NULL, 200);
	ck_assert_int_eq(envelope(j, 2), 2);
	c = cJSON_GetArrayItem(sbxc_jget(j, "data"), 1);
	ck_assert(cJSON_IsTrue(sbxc_jget(c, "is_km")));
	ck_assert_str_eq(sbxc_jstr(c, "loai_hang"), "Khuyến mãi");
	ck_assert_str_eq(sbxc_jstr(c, "ma_kho_xuat_km"), "Hà Nội");
	ck_assert_int_eq((int)sbxc_jnum(c, "don_gia"), 0);
	ck_assert_str_eq(
		sbxc_jstr(cJSON_GetArrayItem(sbxc_jget(c, "promotion"), 0),
			  "ten_khuyen_mai"),
		"Mua 10 tặng 1");
	cJSON_Delete(j);
}
END_TEST

/* ---------------- designed pushes ---------------- */

START_TEST(push_products_stock_debt_status)
{
	cJSON *j = call("POST", V1 "Product",
			"[{\"ma_sp\":\"SP001\",\"gia_ban\":98000},"
			"{\"ma_sp\":\"SP006\",\"ten_sp\":\"Dầu ăn Tường An "
			"1L\",\"dvt_le\":\"Chai\","
			"\"gia_ban\":52000,\"thue_vat\":10,\"nhom_sp\":"
			"\"THUCPHAM\"}]",
			200);
	envelope(j, 2);
	ck_assert_str_eq(sbxc_jstr(cJSON_GetArrayItem(sbxc_jget(j, "data"), 0),
				   "ket_qua"),
			 "cap_nhat");
	ck_assert_str_eq(sbxc_jstr(cJSON_GetArrayItem(sbxc_jget(j, "data"), 1),
				   "ket_qua"),
			 "tao_moi");
	cJSON_Delete(j);
	j = call("GET", V1 "Product?ma_sp=SP001", NULL, 200);
	ck_assert_int_eq(envelope(j, 1), 1);
	ck_assert_int_eq(
		(int)sbxc_jnum(cJSON_GetArrayItem(sbxc_jget(j, "data"), 0),
			       "gia_ban"),
		98000);
	cJSON_Delete(j);
	/* all or nothing: one bad row, nothing written */
	j = call("POST", V1 "Product",
		 "[{\"ma_sp\":\"SP007\",\"ten_sp\":\"X\",\"dvt_le\":\"Cái\"},"
		 "{\"ma_sp\":\"SP008\"}]",
		 400);
	ck_assert(cJSON_IsFalse(sbxc_jget(j, "status")));
	ck_assert_int_eq(cJSON_GetArraySize(sbxc_jget(j, "data")), 1);
	cJSON_Delete(j);
	j = call("GET", V1 "Product?ma_sp=SP007", NULL, 200);
	ck_assert_int_eq(envelope(j, 0), 0);
	cJSON_Delete(j);

	j = call("POST", V1 "Inventory",
		 "[{\"ma_kho\":\"Hà Nội\",\"ma_sp\":\"SP006\",\"so_luong\":40,"
		 "\"ngay_chot\":\"20/06/2025\"},"
		 "{\"ma_kho\":\"Hà "
		 "Nội\",\"ma_sp\":\"SP001\",\"so_luong\":110}]",
		 200);
	envelope(j, 2);
	cJSON_Delete(j);
	j = call("GET", V1 "Inventory?ma_kho=H%C3%A0%20N%E1%BB%99i", NULL, 200);
	ck_assert_int_eq(envelope(j, 3), 3);
	cJSON_Delete(j);
	j = call("GET", V1 "Inventory?ma_sp=SP001", NULL, 200);
	envelope(j, 1);
	ck_assert_int_eq(
		(int)sbxc_jnum(cJSON_GetArrayItem(sbxc_jget(j, "data"), 0),
			       "so_luong"),
		110);
	cJSON_Delete(j);
	cJSON_Delete(call("POST", V1 "Inventory",
			  "[{\"ma_kho\":\"KHO_HN\",\"ma_sp\":\"SP001\","
			  "\"so_luong\":1}]",
			  400));

	j = call("POST", V1 "CustomerDebt",
		 "{\"data\":[{\"ma_kh\":\"KH0001\",\"du_no_cuoi_ky\":"
		 "45600000,\"ngay_chot\":\"20/06/2025\"}]}",
		 200);
	envelope(j, 1);
	cJSON_Delete(j);
	j = call("GET", V1 "Customer/KH0001", NULL, 200);
	envelope(j, 1);
	ck_assert_int_eq(
		(int)sbxc_jnum(cJSON_GetArrayItem(sbxc_jget(j, "data"), 0),
			       "du_no"),
		45600000);
	cJSON_Delete(j);
	cJSON_Delete(call("POST", V1 "CustomerDebt",
			  "[{\"ma_kh\":\"KH9999\",\"du_no_cuoi_ky\":1}]", 400));

	j = call("POST", V1 "BillStatus",
		 "[{\"ma_phieu\":\"DH000901\",\"trang_thai_ke_toan\":"
		 "\"Đã ghi sổ\",\"so_chung_tu\":\"BH00012\"}]",
		 200);
	envelope(j, 1);
	cJSON_Delete(j);
	j = call("GET", V1 "Bill/DH000901", NULL, 200);
	cJSON *o = cJSON_GetArrayItem(sbxc_jget(j, "data"), 0);
	ck_assert_str_eq(sbxc_jstr(o, "trang_thai_ke_toan"), "Đã ghi sổ");
	ck_assert_str_eq(sbxc_jstr(o, "so_chung_tu_ke_toan"), "BH00012");
	ck_assert_str_eq(sbxc_jstr(o, "trang_thai"), "da_duyet");
	cJSON_Delete(j);
	cJSON_Delete(call("POST", V1 "BillStatus", "[]", 400));
}
END_TEST

/* ---------------- approval life cycle and webhooks ---------------- */

static char *b64_hmac(const char *key, const char *body)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)body,
	     strlen(body), mac, &n);
	char *out = malloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, mac, (int)n);
	return out;
}

/* Next delivery at or after *from; checks its signature and shape and
 * that its event is `event`; returns body.data (caller frees the body). */
static cJSON *expect_event(const char *event, int *from, cJSON **body)
{
	ck_assert_int_gt(sbxc_recv_wait(rx, *from + 1, 5000), *from);
	struct sbxc_hit *h = sbxc_recv_hit(rx, *from);
	char *sig = b64_hmac(SECRET, h->body);
	ck_assert_str_eq(sbxc_jstr(h->headers, "x-mobiwork-signature"), sig);
	free(sig);
	ck_assert_str_eq(sbxc_jstr(h->headers, "x-mobiwork-event"), event);
	*body = cJSON_Parse(h->body);
	sbxc_hit_free(h);
	ck_assert_ptr_nonnull(*body);
	ck_assert_str_eq(sbxc_jstr(*body, "event"), event);
	ck_assert_ptr_nonnull(sbxc_jstr(*body, "id"));
	ck_assert_ptr_nonnull(strstr(sbxc_jstr(*body, "occurred_at"), "+07:"
								      "00"));
	(*from)++;
	return sbxc_jget(*body, "data");
}

START_TEST(order_approval_lifecycle)
{
	int at = 0;
	cJSON *b;
	cJSON *r = act("create_order", "{\"ma_kh\":\"KH0003\",\"ma_nv\":"
				       "\"NVBH03\",\"ma_kho\":\"Đà Nẵng\","
				       "\"hinh_thuc_thanh_toan\":\"Chuyển "
				       "khoản\",\"chi_tiet\":[{\"ma_sp\":"
				       "\"SP005\","
				       "\"so_luong\":12},{\"ma_sp\":\"SP004\","
				       "\"so_luong\":2,\"chiet_khau_tien\":"
				       "10000}]}");
	cJSON *o = sbxc_jget(r, "data");
	char no[32];
	snprintf(no, sizeof no, "%s", sbxc_jstr(o, "ma_phieu"));
	ck_assert_str_eq(sbxc_jstr(o, "trang_thai"), "cho_duyet");
	ck_assert_int_eq((int)sbxc_jnum(o, "tong_tien_thue"),
			 47400); /* 474 000 x 10 %, SP004 0 % */
	cJSON_Delete(r);
	/* an event carries the order's rows, one per line */
	cJSON *d = expect_event("order.created", &at, &b);
	ck_assert_int_eq(cJSON_GetArraySize(d), 2);
	d = cJSON_GetArrayItem(d, 0);
	ck_assert_str_eq(sbxc_jstr(d, "ma_phieu"), no);
	cJSON_Delete(b);
	/* a pending order is listed but not approved (DH000901's 2 lines) */
	cJSON *j = call("GET", V1 "Bill?trang_thai=da_duyet", NULL, 200);
	ck_assert_int_eq(envelope(j, 2), 2);
	cJSON_Delete(j);
	char body[96];
	snprintf(body, sizeof body,
		 "{\"ma_phieu\":\"%s\",\"nguoi_duyet\":\"quanly.mt\"}", no);
	r = act("approve_order", body);
	ck_assert(cJSON_IsTrue(sbxc_jget(r, "status")));
	cJSON_Delete(r);
	d = cJSON_GetArrayItem(expect_event("order.approved", &at, &b), 0);
	ck_assert_str_eq(sbxc_jstr(d, "trang_thai"), "da_duyet");
	ck_assert_str_eq(sbxc_jstr(d, "nguoi_duyet"), "quanly.mt");
	ck_assert_ptr_nonnull(sbxc_jstr(d, "ngay_duyet"));
	cJSON_Delete(b);
	/* approving twice is refused, with no event */
	r = act("approve_order", body);
	ck_assert(cJSON_IsFalse(sbxc_jget(r, "status")));
	cJSON_Delete(r);
	/* edited after approval: order.updated, flagged, version bumped */
	snprintf(body, sizeof body,
		 "{\"ma_phieu\":\"%s\",\"chi_tiet\":[{\"ma_sp\":\"SP005\","
		 "\"so_luong\":10}]}",
		 no);
	r = act("edit_order", body);
	cJSON_Delete(r);
	d = expect_event("order.updated", &at, &b);
	ck_assert_int_eq(cJSON_GetArraySize(d), 1);
	d = cJSON_GetArrayItem(d, 0);
	ck_assert(cJSON_IsTrue(sbxc_jget(d, "sua_sau_duyet")));
	ck_assert_int_eq((int)sbxc_jnum(d, "phien_ban"), 2);
	ck_assert_int_eq((int)sbxc_jnum(d, "tong_tien_hang"), 395000);
	cJSON_Delete(b);
	sbxc_sleep_ms(200);
	ck_assert_int_eq(sbxc_recv_count(rx), at); /* nothing else was sent */
	/* unknown codes are refused */
	r = act("create_order", "{\"ma_kh\":\"KH9999\",\"ma_nv\":\"NVBH03\","
				"\"ma_kho\":\"Đà Nẵng\","
				"\"chi_tiet\":[{\"ma_sp\":\"SP005\",\"so_"
				"luong\":1}]}");
	ck_assert(cJSON_IsFalse(sbxc_jget(r, "status")));
	cJSON_Delete(r);
	r = act("create_order", "{\"ma_kh\":\"KH0003\",\"ma_nv\":\"NVBH03\","
				"\"ma_kho\":\"KHO_DN\","
				"\"chi_tiet\":[{\"ma_sp\":\"SP005\",\"so_"
				"luong\":1}]}");
	ck_assert(cJSON_IsFalse(sbxc_jget(r, "status")));
	cJSON_Delete(r);
}
END_TEST

START_TEST(outlet_and_return_events)
{
	int at = 0;
	cJSON *b;
	cJSON *r = act("create_outlet", "{\"tenkh\":\"Cửa hàng Tiện lợi Minh "
					"Châu\",\"ma_nv\":\"NVBH01\","
					"\"dia_chi\":\"Số 3 Phố Huế, Quận Hai "
					"Bà Trưng, Hà Nội\","
					"\"ma_so_thue\":\"0109876543\",\"sdt\":"
					"\"0904 111 222\"}");
	char code[32];
	snprintf(code, sizeof code, "%s",
		 sbxc_jstr(sbxc_jget(r, "data"), "ma_kh"));
	cJSON_Delete(r);
	cJSON *d = expect_event("outlet.created", &at, &b);
	ck_assert_str_eq(sbxc_jstr(d, "ma_kh"), code);
	ck_assert_str_eq(sbxc_jstr(d, "tenkh"), "Cửa hàng Tiện lợi Minh Châu");
	ck_assert_str_eq(sbxc_jstr(d, "ma_so_thue"), "0109876543");
	ck_assert_str_eq(sbxc_jstr(d, "sdt"), "0904 111 222");
	cJSON_Delete(b);
	/* an outlet corrected in the office: outlet.updated */
	char ebody[96];
	snprintf(ebody, sizeof ebody,
		 "{\"ma_kh\":\"%s\",\"sdt\":\"0904 999 "
		 "000\"}",
		 code);
	cJSON_Delete(act("edit_outlet", ebody));
	d = expect_event("outlet.updated", &at, &b);
	ck_assert_str_eq(sbxc_jstr(d, "sdt"), "0904 999 000");
	ck_assert_str_eq(sbxc_jstr(d, "tenkh"), "Cửa hàng Tiện lợi Minh Châu");
	cJSON_Delete(b);
	char path[64];
	snprintf(path, sizeof path, V1 "Customer/%s", code);
	cJSON_Delete(call("GET", path, NULL, 200));
	r = act("create_return", "{\"ma_kh\":\"KH0001\",\"ma_nv\":\"NVBH01\","
				 "\"ma_kho\":\"Hà Nội\","
				 "\"ma_don_goc\":\"DH000901\",\"ly_do\":\"Hàng "
				 "cận date\",\"hinh_thuc_xu_ly\":\"nhap_kho\","
				 "\"chi_tiet\":[{\"ma_sp\":\"SP003\",\"so_"
				 "luong\":2}]}");
	char no[32];
	snprintf(no, sizeof no, "%s",
		 sbxc_jstr(sbxc_jget(r, "data"), "ma_phieu"));
	cJSON_Delete(r);
	d = cJSON_GetArrayItem(expect_event("return.created", &at, &b), 0);
	ck_assert_str_eq(sbxc_jstr(d, "trang_thai"), "cho_duyet");
	cJSON_Delete(b);
	char body[64];
	snprintf(body, sizeof body, "{\"ma_phieu\":\"%s\"}", no);
	cJSON_Delete(act("approve_return", body));
	d = cJSON_GetArrayItem(expect_event("return.approved", &at, &b), 0);
	ck_assert_str_eq(sbxc_jstr(d, "ma_phieu"), no);
	ck_assert_str_eq(sbxc_jstr(d, "ma_don_goc"), "DH000901");
	ck_assert_int_eq((int)sbxc_jnum(d, "tong_tien_hang"), 224000);
	cJSON_Delete(b);
	cJSON *j = call("GET", V1 "ReturnBill?trang_thai=da_duyet", NULL, 200);
	ck_assert_int_eq(envelope(j, 1), 1);
	cJSON_Delete(j);
}
END_TEST

START_TEST(injected_429_and_request_log)
{
	cJSON_Delete(sbxc_post_json(U("/_sandbox/faults"), NULL,
				    "{\"burst_429\":1,\"retry_after\":1}"));
	struct sbxc_resp r;
	const char *const h[] = { BASIC, NULL };
	sbxc_http("GET", U(V1 "Sale"), h, NULL, 5000, &r);
	ck_assert_int_eq(r.status, 429);
	sbxc_resp_free(&r);
	cJSON *j = call("GET", V1 "Sale", NULL, 200);
	envelope(j, 4);
	cJSON_Delete(j);
	cJSON *log = sbxc_get_json(U("/_sandbox/requests?since=0"));
	ck_assert_ptr_nonnull(log);
	cJSON *reqs = sbxc_jget(log, "requests");
	ck_assert_int_eq(cJSON_GetArraySize(reqs), 2);
	ck_assert_str_eq(sbxc_jstr(cJSON_GetArrayItem(reqs, 0), "path"),
			 V1 "Sale");
	ck_assert_int_eq((int)sbxc_jnum(cJSON_GetArrayItem(reqs, 0), "status"),
			 429);
	ck_assert_int_eq((int)sbxc_jnum(cJSON_GetArrayItem(reqs, 1), "status"),
			 200);
	cJSON_Delete(log);
	cJSON *st = sbxc_get_json(U("/_sandbox/state"));
	ck_assert_ptr_nonnull(st);
	cJSON *orders = sbxc_jget(st, "orders");
	if (!orders)
		orders = sbxc_jget(sbxc_jget(st, "state"), "orders");
	ck_assert_int_eq(cJSON_GetArraySize(orders), 2);
	/* internal timestamps stay internal */
	ck_assert_ptr_null(sbxc_jget(cJSON_GetArrayItem(orders, 0), "_ngay_"
								    "dat"));
	cJSON_Delete(st);
}
END_TEST

static Suite *dms_suite(void)
{
	Suite *s = suite_create("dms");
	TCase *tc = tcase_create("openapi");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, basic_auth);
	tcase_add_test(tc, paging_and_route_cap);
	tcase_add_test(tc, date_filters);
	tcase_add_test(tc, bill_totals_follow_vnd_rules);
	tcase_add_test(tc, products_carry_units_and_may_lack_a_code);
	tcase_add_test(tc, customer_total_moves_between_pages);
	tcase_add_test(tc, push_products_stock_debt_status);
	tcase_add_test(tc, injected_429_and_request_log);
	suite_add_tcase(s, tc);
	TCase *ev = tcase_create("events");
	tcase_add_checked_fixture(ev, setup, teardown);
	tcase_set_timeout(ev, 20);
	tcase_add_test(ev, order_approval_lifecycle);
	tcase_add_test(ev, outlet_and_return_events);
	suite_add_tcase(s, ev);
	return s;
}

int main(void)
{
	return sbxc_run_suite(dms_suite());
}

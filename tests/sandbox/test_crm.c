/* test_crm.c - contract tests of the AMIS CRM emulator through real HTTP
 * against a luong-sandbox child process (see sandbox/docs/crm.md). */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sbx_client.h"

#define BASE "/crm/gc/api/public/api/v2"
#define CLIENT_ID "3e8a1c52-6b7d-4f09-a2c4-5d1e9b7f8a60"
#define CLIENT_SECRET "Y3JtLXNhbmRib3gtY2xpZW50LXNlY3JldC1hbnBoYXQ="
#define HOOK_SECRET "bi-mat-webhook-crm"

static struct sbxc sbx;
static char token[128];

/* ---------------------------------------------------------------- guard
 * A receiver that answers with a chosen status and body, as the host's
 * recall guard would; the framework's receiver only answers one body. */
struct guard_hit {
	char event[64];
	char *body;
	char sig[128];
};

static struct {
	struct MHD_Daemon *d;
	pthread_mutex_t lock;
	int status;
	char answer[512];
	struct guard_hit hits[64];
	int n;
} guard;

struct upload {
	char *p;
	size_t n;
};

static enum MHD_Result guard_hit(void *cls, struct MHD_Connection *conn,
				 const char *url, const char *method,
				 const char *version, const char *data,
				 size_t *size, void **con_cls)
{
	struct upload *u = *con_cls;
	if (!u) {
		*con_cls = calloc(1, sizeof *u);
		return *con_cls ? MHD_YES : MHD_NO;
	}
	if (*size) {
		char *np = realloc(u->p, u->n + *size + 1);
		if (!np)
			return MHD_NO;
		memcpy(np + u->n, data, *size);
		u->n += *size;
		np[u->n] = '\0';
		u->p = np;
		*size = 0;
		return MHD_YES;
	}
	const char *ev = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						     "X-Amis-Event");
	const char *sig = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						      "X-Amis-Signature");
	pthread_mutex_lock(&guard.lock);
	if (guard.n < 64) {
		struct guard_hit *h = &guard.hits[guard.n++];
		snprintf(h->event, sizeof h->event, "%s", ev ? ev : "");
		snprintf(h->sig, sizeof h->sig, "%s", sig ? sig : "");
		h->body = u->p ? u->p : strdup("");
		u->p = NULL;
	}
	int status = guard.status;
	char *answer = strdup(guard.answer);
	pthread_mutex_unlock(&guard.lock);
	struct MHD_Response *r = MHD_create_response_from_buffer(
		strlen(answer), answer, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(r, "Content-Type", "application/json");
	enum MHD_Result ret = MHD_queue_response(conn, (unsigned)status, r);
	MHD_destroy_response(r);
	return ret;
}

static void guard_done(void *cls, struct MHD_Connection *conn, void **con_cls,
		       enum MHD_RequestTerminationCode toe)
{
	struct upload *u = *con_cls;
	if (u) {
		free(u->p);
		free(u);
	}
	*con_cls = NULL;
}

static void guard_answer(int status, const char *body)
{
	pthread_mutex_lock(&guard.lock);
	guard.status = status;
	snprintf(guard.answer, sizeof guard.answer, "%s", body);
	pthread_mutex_unlock(&guard.lock);
}

static void guard_start(void)
{
	pthread_mutex_init(&guard.lock, NULL);
	guard.n = 0;
	guard_answer(200, "");
	guard.d =
		MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL,
				 guard_hit, NULL, MHD_OPTION_NOTIFY_COMPLETED,
				 guard_done, NULL, MHD_OPTION_END);
	ck_assert_ptr_nonnull(guard.d);
}

static void guard_stop(void)
{
	if (guard.d)
		MHD_stop_daemon(guard.d);
	guard.d = NULL;
	for (int i = 0; i < guard.n; i++)
		free(guard.hits[i].body);
	guard.n = 0;
}

static int guard_count(void)
{
	pthread_mutex_lock(&guard.lock);
	int n = guard.n;
	pthread_mutex_unlock(&guard.lock);
	return n;
}

static int guard_port(void)
{
	const union MHD_DaemonInfo *i =
		MHD_get_daemon_info(guard.d, MHD_DAEMON_INFO_BIND_PORT);
	return i ? i->port : -1;
}

/* Index of the first hit of that event (waiting up to 3 s), or -1. */
static int guard_wait(const char *event)
{
	for (int t = 0; t < 300; t++) {
		pthread_mutex_lock(&guard.lock);
		for (int i = 0; i < guard.n; i++) {
			if (strcmp(guard.hits[i].event, event) == 0) {
				pthread_mutex_unlock(&guard.lock);
				return i;
			}
		}
		pthread_mutex_unlock(&guard.lock);
		struct timespec ts = { 0, 10 * 1000000L };
		nanosleep(&ts, NULL);
	}
	return -1;
}

/* base64 HMAC-SHA256 of body keyed by the webhook secret, checked here
 * with libcrypto rather than the sandbox's own helper. */
static void expect_signature(const char *body, const char *sig)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	HMAC(EVP_sha256(), HOOK_SECRET, (int)strlen(HOOK_SECRET),
	     (const unsigned char *)body, strlen(body), mac, &len);
	unsigned char b64[128];
	EVP_EncodeBlock(b64, mac, (int)len);
	ck_assert_str_eq((const char *)b64, sig);
}

/* ---------------------------------------------------------------- http */

static void get_token(char *out, size_t n)
{
	cJSON *r = sbxc_post_json(sbxc_url(&sbx, "crm", BASE "/Account"), NULL,
				  "{\"client_id\":\"" CLIENT_ID
				  "\",\"client_secret\":\"" CLIENT_SECRET "\""
				  "}");
	ck_assert_ptr_nonnull(r);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(r, "success")));
	ck_assert_str_eq(cJSON_GetObjectItem(r, "code")->valuestring, "");
	const cJSON *d = cJSON_GetObjectItem(r, "data");
	ck_assert(cJSON_IsString(d) && strlen(d->valuestring) >= 32);
	snprintf(out, n, "%s", d->valuestring);
	cJSON_Delete(r);
}

/* Authorised API call; the reply must be freed with sbxc_resp_free. */
static void api(const char *method, const char *path, const char *body,
		struct sbxc_resp *r)
{
	char auth[200];
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
	const char *h[] = { auth, "Clientid: " CLIENT_ID,
			    "Content-Type: application/json", NULL };
	char path_full[512];
	snprintf(path_full, sizeof path_full, BASE "%s", path);
	sbxc_http(method, sbxc_url(&sbx, "crm", path_full), h, body, 5000, r);
}

static cJSON *act(const char *name, const char *body, long *status)
{
	return sbxc_act_status(&sbx, "crm", name, body, 10000, status);
}

static void control(const char *path, const char *body)
{
	sbxc_control(&sbx, "crm", path, body);
}

static void hook_to_guard(void)
{
	char body[256];
	snprintf(body, sizeof body,
		 "{\"url\":\"http://127.0.0.1:%d/luong/hooks/"
		 "crm\",\"secret\":\"" HOOK_SECRET "\","
		 "\"max_attempts\":2,\"retry_base_ms\":20}",
		 guard_port());
	control("/_sandbox/webhooks", body);
}

static void expect_error(const struct sbxc_resp *r, long status,
			 const char *code)
{
	ck_assert_int_eq(r->status, status);
	ck_assert_ptr_nonnull(r->json);
	ck_assert_str_eq(cJSON_GetObjectItem(r->json, "ErrorCode")->valuestring,
			 code);
	ck_assert(cJSON_IsString(cJSON_GetObjectItem(r->json, "DevMsg")));
	ck_assert(cJSON_IsString(cJSON_GetObjectItem(r->json, "UserMsg")));
	ck_assert_int_eq(
		strlen(cJSON_GetObjectItem(r->json, "TraceId")->valuestring),
		36);
}

static cJSON *data_of(const struct sbxc_resp *r)
{
	return cJSON_GetObjectItem(r->json, "data");
}

static const char *str_at(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItem(o, k);
	ck_assert_msg(cJSON_IsString(v), "%s is not a string", k);
	return v->valuestring;
}

static double num_at(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItem(o, k);
	ck_assert_msg(cJSON_IsNumber(v), "%s is not a number", k);
	return v->valuedouble;
}

/* The order as the API shows it now (caller frees). */
static cJSON *order_by_code(const char *no)
{
	char path[128];
	snprintf(path, sizeof path, "/SaleOrders/Code?code=%s", no);
	struct sbxc_resp r;
	api("GET", path, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	cJSON *o = cJSON_Duplicate(data_of(&r), true);
	sbxc_resp_free(&r);
	return o;
}

static void setup(void)
{
	ck_assert_int_eq(sbxc_start(&sbx, "crm"), 0);
	get_token(token, sizeof token);
	guard_start();
}

static void teardown(void)
{
	guard_stop();
	ck_assert_int_eq(sbxc_stop(&sbx), 0);
}

/* ---------------------------------------------------------------- tests */

START_TEST(test_auth)
{
	struct sbxc_resp r;
	sbxc_http("GET", sbxc_url(&sbx, "crm", BASE "/Customers"), NULL, NULL,
		  5000, &r);
	expect_error(&r, 401, "InvalidToken");
	sbxc_resp_free(&r);

	const char *bad[] = { "Authorization: Bearer nope",
			      "Clientid: " CLIENT_ID, NULL };
	sbxc_http("GET", sbxc_url(&sbx, "crm", BASE "/Customers"), bad, NULL,
		  5000, &r);
	expect_error(&r, 401, "InvalidToken");
	sbxc_resp_free(&r);

	char auth[200];
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
	const char *no_client[] = { auth, NULL };
	sbxc_http("GET", sbxc_url(&sbx, "crm", BASE "/Customers"), no_client,
		  NULL, 5000, &r);
	expect_error(&r, 401, "InvalidAppID");
	sbxc_resp_free(&r);

	sbxc_http("POST", sbxc_url(&sbx, "crm", BASE "/Account"), NULL,
		  "{\"client_id\":\"" CLIENT_ID "\",\"client_secret\":\"sai\"}",
		  5000, &r);
	expect_error(&r, 401, "InvalidAppID");
	sbxc_resp_free(&r);

	api("GET", "/Customers", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "success")));
	sbxc_resp_free(&r);

	/* the framework's expire_tokens fault */
	control("/_sandbox/faults", "{\"expire_tokens\":true}");
	api("GET", "/Customers", NULL, &r);
	expect_error(&r, 401, "ExpiredToken");
	sbxc_resp_free(&r);
	get_token(token, sizeof token);
	api("GET", "/Customers", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	sbxc_resp_free(&r);
}
END_TEST

START_TEST(test_token_ttl)
{
	control("/_sandbox/seed", "{\"config\":{\"token_ttl_seconds\":1}}");
	get_token(token, sizeof token);
	struct sbxc_resp r;
	api("GET", "/Product", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	sbxc_resp_free(&r);
	struct timespec ts = { 1, 200 * 1000000L };
	nanosleep(&ts, NULL);
	api("GET", "/Product", NULL, &r);
	expect_error(&r, 401, "ExpiredToken");
	sbxc_resp_free(&r);
}
END_TEST

/* 120 customers in two calls (a call takes at most 100). */
static void add_customers(void)
{
	for (int batch = 0; batch < 2; batch++) {
		int n = batch ? 20 : 100;
		cJSON *arr = cJSON_CreateArray();
		for (int i = 0; i < n; i++) {
			char code[32], name[64];
			int k = batch * 100 + i;
			snprintf(code, sizeof code, "KT%04d", k);
			snprintf(name, sizeof name, "Cửa hàng Thử nghiệm số %d",
				 k);
			cJSON *c = cJSON_CreateObject();
			cJSON_AddStringToObject(c, "account_number", code);
			cJSON_AddStringToObject(c, "account_name", name);
			cJSON_AddItemToArray(arr, c);
		}
		char *body = cJSON_PrintUnformatted(arr);
		struct sbxc_resp r;
		api("POST", "/Customers", body, &r);
		ck_assert_int_eq(r.status, 201);
		ck_assert_int_eq(cJSON_GetArraySize(data_of(&r)), n);
		sbxc_resp_free(&r);
		free(body);
		cJSON_Delete(arr);
	}
}

START_TEST(test_paging_and_order)
{
	add_customers();
	struct sbxc_resp r;
	api("GET", "/Customers", NULL, &r); /* default page size 10 */
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(cJSON_GetArraySize(data_of(&r)), 10);
	ck_assert_int_eq((int)num_at(r.json, "total"), 127);
	/* default order: modified_date descending, so the newest first */
	ck_assert_str_eq(str_at(cJSON_GetArrayItem(data_of(&r), 0), "account_"
								    "number"),
			 "KT0119");
	sbxc_resp_free(&r);

	api("GET", "/Customers?page=1&pageSize=500", NULL, &r);
	ck_assert_int_eq(cJSON_GetArraySize(data_of(&r)), 100); /* capped */
	sbxc_resp_free(&r);
	api("GET", "/Customers?page=2&pageSize=100", NULL, &r);
	ck_assert_int_eq(cJSON_GetArraySize(data_of(&r)), 27);
	sbxc_resp_free(&r);
	api("GET", "/Customers?page=9&pageSize=100", NULL, &r);
	ck_assert_int_eq(cJSON_GetArraySize(data_of(&r)), 0);
	sbxc_resp_free(&r);

	api("GET",
	    "/Customers?pageSize=3&orderBy=account_number&isDescending=false",
	    NULL, &r);
	ck_assert_str_eq(str_at(cJSON_GetArrayItem(data_of(&r), 0), "account_"
								    "number"),
			 "KH0001");
	ck_assert_str_eq(str_at(cJSON_GetArrayItem(data_of(&r), 2), "account_"
								    "number"),
			 "KH0003");
	sbxc_resp_free(&r);
	api("GET",
	    "/Customers?pageSize=2&orderBy=account_number&isDescending=true",
	    NULL, &r);
	ck_assert_str_eq(str_at(cJSON_GetArrayItem(data_of(&r), 0), "account_"
								    "number"),
			 "KT0119");
	sbxc_resp_free(&r);

	api("GET", "/Customers?isDescending=maybe", NULL, &r);
	expect_error(&r, 400, "InvalidParam");
	sbxc_resp_free(&r);
	api("GET", "/Customers?page=0", NULL, &r);
	expect_error(&r, 400, "InvalidParam");
	sbxc_resp_free(&r);

	/* more than 100 records in one call is refused whole */
	cJSON *arr = cJSON_CreateArray();
	for (int i = 0; i < 101; i++) {
		char code[32];
		snprintf(code, sizeof code, "QL%04d", i);
		cJSON *c = cJSON_CreateObject();
		cJSON_AddStringToObject(c, "account_number", code);
		cJSON_AddStringToObject(c, "account_name", "Quá nhiều");
		cJSON_AddItemToArray(arr, c);
	}
	char *body = cJSON_PrintUnformatted(arr);
	api("POST", "/Customers", body, &r);
	expect_error(&r, 400, "InvalidParam");
	sbxc_resp_free(&r);
	free(body);
	cJSON_Delete(arr);
}
END_TEST

START_TEST(test_lookup)
{
	struct sbxc_resp r;
	api("GET", "/Customers/Code?code=KH0003", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(str_at(data_of(&r), "account_name"), "Công ty Cổ phần "
							      "Siêu thị Đà "
							      "Nẵng Xanh");
	int id = (int)num_at(data_of(&r), "id");
	sbxc_resp_free(&r);
	char path[64];
	snprintf(path, sizeof path, "/Customers/ID?id=%d", id);
	api("GET", path, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(str_at(data_of(&r), "account_number"), "KH0003");
	sbxc_resp_free(&r);
	api("GET", "/Product/Code?code=SP004", NULL, &r);
	ck_assert_str_eq(str_at(data_of(&r), "usage_unit"), "Gói");
	sbxc_resp_free(&r);
	api("GET", "/Customers/Code?code=KHONGCO", NULL, &r);
	expect_error(&r, 404, "NotFound");
	sbxc_resp_free(&r);
	api("GET", "/Customers/ID", NULL, &r);
	expect_error(&r, 400, "InvalidParam");
	sbxc_resp_free(&r);
	api("GET", "/Stocks/Code?stockCode=KHO_DN", NULL, &r);
	ck_assert_str_eq(str_at(data_of(&r), "stock_name"), "Kho Đà Nẵng");
	sbxc_resp_free(&r);
	api("GET", "/Stocks/Asyncid?id=2", NULL, &r);
	ck_assert_str_eq(str_at(data_of(&r), "stock_code"), "KHO_HCM");
	sbxc_resp_free(&r);
	api("GET", "/Nonsense", NULL, &r);
	expect_error(&r, 404, "NotFound");
	sbxc_resp_free(&r);
}
END_TEST

START_TEST(test_array_crud)
{
	struct sbxc_resp r;
	api("POST", "/Product",
	    "[{\"product_code\":\"SP101\",\"product_name\":\"Cà phê G7 hòa tan "
	    "(hộp 18 gói)\","
	    "\"usage_unit\":\"Hộp\",\"unit_price\":56000,\"tax\":8},"
	    "{\"product_code\":\"SP102\",\"product_name\":\"Bánh quy Cosy "
	    "168g\",\"usage_unit\":\"Gói\","
	    "\"unit_price\":28000,\"tax\":10}]",
	    &r);
	ck_assert_int_eq(r.status, 201);
	cJSON *d = data_of(&r);
	ck_assert_int_eq(cJSON_GetArraySize(d), 2);
	int id1 = (int)num_at(cJSON_GetArrayItem(d, 0), "id");
	int id2 = (int)num_at(cJSON_GetArrayItem(d, 1), "id");
	ck_assert_int_ne(id1, id2);
	ck_assert_int_eq((int)num_at(cJSON_GetArrayItem(d, 0), "price_after_"
							       "tax"),
			 60480);
	ck_assert(cJSON_IsString(
		cJSON_GetObjectItem(cJSON_GetArrayItem(d, 0), "created_date")));
	sbxc_resp_free(&r);

	/* partial update: the other fields stay, computed ones follow */
	char body[256];
	snprintf(body, sizeof body, "[{\"id\":%d,\"unit_price\":60000}]", id1);
	api("PUT", "/Product", body, &r);
	ck_assert_int_eq(r.status, 200);
	d = cJSON_GetArrayItem(data_of(&r), 0);
	ck_assert_str_eq(str_at(d, "product_name"), "Cà phê G7 hòa tan (hộp 18 "
						    "gói)");
	ck_assert_int_eq((int)num_at(d, "price_after_tax"), 64800);
	sbxc_resp_free(&r);

	snprintf(body, sizeof body, "[%d,%d]", id1, id2);
	api("DELETE", "/Product", body, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(cJSON_GetArraySize(data_of(&r)), 2);
	sbxc_resp_free(&r);
	api("GET", "/Product/Code?code=SP101", NULL, &r);
	expect_error(&r, 404, "NotFound");
	sbxc_resp_free(&r);
	api("DELETE", "/Product", body, &r);
	expect_error(&r, 400, "InvalidParam");
	sbxc_resp_free(&r);
}
END_TEST

static int count_of(const char *res)
{
	char path[64];
	snprintf(path, sizeof path, "/%s?pageSize=1", res);
	struct sbxc_resp r;
	api("GET", path, NULL, &r);
	int n = (int)num_at(r.json, "total");
	sbxc_resp_free(&r);
	return n;
}

START_TEST(test_validation)
{
	static const struct {
		const char *method, *path, *body, *needle;
	} bad[] = {
		{ "POST", "/Customers", "[{\"account_number\":\"KH9001\"}]",
		  "account_name is required" },
		{ "POST", "/Customers",
		  "[{\"account_number\":\"KH0001\",\"account_name\":\"Trùng\"}"
		  "]",
		  "already exists" },
		{ "POST", "/Customers",
		  "[{\"account_number\":\"KH9002\",\"account_name\":\"A\"},"
		  "{\"account_number\":\"KH9002\",\"account_name\":\"B\"}]",
		  "item 1" },
		{ "POST", "/Customers",
		  "[{\"account_number\":\"KH9003\",\"account_name\":\"A\","
		  "\"tax_code\":\"12345\"}]",
		  "tax_code" },
		{ "POST", "/Customers",
		  "[{\"account_number\":\"KH9004\",\"account_name\":\"A\","
		  "\"created_date\":\"2025-01-01\"}]",
		  "created_date is not allowed" },
		{ "POST", "/Customers", "{\"account_number\":\"KH9005\"}",
		  "json array" },
		{ "POST", "/Product",
		  "[{\"product_code\":\"SP900\",\"product_name\":\"X\",\"usage_"
		  "unit\":\"Cái\",\"tax\":7}]",
		  "tax" },
		{ "POST", "/SaleOrders",
		  "[{\"account_number\":\"KH0001\",\"sale_order_product_"
		  "mappings\":"
		  "[{\"product_code\":\"KHONGCO\",\"amount\":1}]}]",
		  "is not a product" },
		{ "POST", "/SaleOrders",
		  "[{\"account_number\":\"KH0001\",\"sale_order_product_"
		  "mappings\":"
		  "[{\"product_code\":\"SP001\",\"amount\":0}]}]",
		  "amount" },
		{ "POST", "/SaleOrders",
		  "[{\"account_number\":\"KH0001\",\"status\":\"Done\",\"sale_"
		  "order_product_mappings\":"
		  "[{\"product_code\":\"SP001\",\"amount\":1}]}]",
		  "status" },
		{ "PUT", "/SaleOrders",
		  "[{\"delivery_status\":\"Đã giao hàng\"}]",
		  "id is required" },
		{ "PUT", "/SaleOrders",
		  "[{\"id\":1,\"delivery_status\":\"Delivered\"}]",
		  "delivery_status" },
		{ "PUT", "/SaleOrders", "[{\"id\":1,\"pay_status\":\"Paid\"}]",
		  "pay_status" },
		{ "PUT", "/SaleOrders", "[{\"id\":1,\"revenue_request_id\":5}]",
		  "not allowed" },
		{ "PUT", "/SaleOrders",
		  "[{\"id\":424242,\"status\":\"Đã thực hiện\"}]",
		  "not found" },
	};
	int before = count_of("Customers"), orders = count_of("SaleOrders");
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct sbxc_resp r;
		api(bad[i].method, bad[i].path, bad[i].body, &r);
		expect_error(&r, 400, "InvalidParam");
		const char *dev = str_at(r.json, "DevMsg");
		ck_assert_msg(strstr(dev, bad[i].needle),
			      "case %zu: '%s' lacks '%s'", i, dev,
			      bad[i].needle);
		sbxc_resp_free(&r);
	}
	/* nothing half-written */
	ck_assert_int_eq(count_of("Customers"), before);
	ck_assert_int_eq(count_of("SaleOrders"), orders);
	cJSON *o = order_by_code("DH00001");
	ck_assert_str_eq(str_at(o, "delivery_status"), "Chưa giao hàng");
	cJSON_Delete(o);
	/* read-only resources */
	struct sbxc_resp r;
	api("POST", "/Employees",
	    "[{\"employee_code\":\"NV9\",\"employee_name\":\"A\"}]", &r);
	expect_error(&r, 405, "MethodNotAllowed");
	sbxc_resp_free(&r);
}
END_TEST

START_TEST(test_order_totals_and_statuses)
{
	struct sbxc_resp r;
	api("POST", "/SaleOrders",
	    "[{\"account_number\":\"KH0002\",\"sale_order_product_mappings\":["
	    "{\"product_code\":\"SP001\",\"amount\":3,\"discount_percent\":10,"
	    "\"stock_code\":\"KHO_HCM\"},"
	    "{\"product_code\":\"SP004\",\"amount\":2,\"price\":180000}]}]",
	    &r);
	ck_assert_int_eq(r.status, 201);
	cJSON *o = cJSON_Duplicate(cJSON_GetArrayItem(data_of(&r), 0), true);
	sbxc_resp_free(&r);
	/* B10: 3 × 96 000 = 288 000, −10 % = 28 800, VAT 10 % of 259 200 = 25 920;
     * 2 × 180 000 = 360 000 at VAT 0 */
	ck_assert_int_eq((int)num_at(o, "total_summary"), 648000);
	ck_assert_int_eq((int)num_at(o, "discount_summary"), 28800);
	ck_assert_int_eq((int)num_at(o, "tax_summary"), 25920);
	ck_assert_int_eq((int)num_at(o, "sale_order_amount"), 645120);
	ck_assert_str_eq(str_at(o, "status"), "Chưa thực hiện");
	ck_assert_str_eq(str_at(o, "delivery_status"), "Chưa giao hàng");
	ck_assert_str_eq(str_at(o, "pay_status"), "Chưa thanh toán");
	ck_assert_str_eq(str_at(o, "revenue_status"), "Chưa ghi doanh số");
	ck_assert_str_eq(str_at(o, "invoice_status"), "Chưa xuất hóa đơn");
	ck_assert_str_eq(
		strncmp(str_at(o, "sale_order_no"), "DH", 2) == 0 ? "DH" : "?",
		"DH");
	cJSON *l0 = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "sale_order_"
							      "product_"
							      "mappings"),
				       0);
	ck_assert_str_eq(str_at(l0, "stock_name"), "Kho Hồ Chí Minh");
	ck_assert_str_eq(str_at(l0, "unit"), "Thùng");

	/* W2 / C3 write-back by the host */
	char body[1024];
	snprintf(body, sizeof body,
		 "[{\"id\":%d,\"status\":\"Đang thực "
		 "hiện\",\"delivery_status\":\"Đang giao hàng\","
		 "\"pay_status\":\"Đã thanh toán một "
		 "phần\",\"invoice_status\":\"Đã xuất hóa đơn một "
		 "phần\",\"invoiced_amount\":300000,"
		 "\"sale_order_product_mappings\":[{\"id\":%d,\"delivered_"
		 "amount\":2}],"
		 "\"actual_issues\":[{\"issue_note_no\":\"XK00010\",\"issue_"
		 "date\":\"2025-11-12\","
		 "\"stock_code\":\"KHO_HCM\",\"product_code\":\"SP001\","
		 "\"quantity\":2}],"
		 "\"receipts\":[{\"voucher_no\":\"PT00021\",\"voucher_date\":"
		 "\"2025-11-12\","
		 "\"amount\":200000},{\"voucher_no\":\"NTTK00007\",\"amount\":"
		 "100000}]}]",
		 (int)num_at(o, "id"), (int)num_at(l0, "id"));
	api("PUT", "/SaleOrders", body, &r);
	ck_assert_int_eq(r.status, 200);
	sbxc_resp_free(&r);
	cJSON *n = order_by_code(str_at(o, "sale_order_no"));
	ck_assert_str_eq(str_at(n, "delivery_status"), "Đang giao hàng");
	ck_assert_str_eq(str_at(n, "pay_status"), "Đã thanh toán một phần");
	ck_assert_int_eq((int)num_at(n, "total_receipted_amount"), 300000);
	ck_assert_int_eq((int)num_at(n, "balance_receipt_amount"), 345120);
	ck_assert_int_eq((int)num_at(n, "invoiced_amount"), 300000);
	cJSON *lines = cJSON_GetObjectItem(n, "sale_order_product_mappings");
	ck_assert_int_eq(cJSON_GetArraySize(lines),
			 2); /* patched, not replaced */
	ck_assert_int_eq((int)num_at(cJSON_GetArrayItem(lines, 0), "delivered_"
								   "amount"),
			 2);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(n, "actual_"
								   "issues")),
			 1);

	/* delivering more than ordered is refused */
	snprintf(body, sizeof body,
		 "[{\"id\":%d,\"sale_order_product_mappings\":[{\"id\":%d,"
		 "\"delivered_amount\":4}]}]",
		 (int)num_at(o, "id"), (int)num_at(l0, "id"));
	api("PUT", "/SaleOrders", body, &r);
	expect_error(&r, 400, "InvalidParam");
	sbxc_resp_free(&r);
	cJSON_Delete(n);
	cJSON_Delete(o);
}
END_TEST

START_TEST(test_product_ledger)
{
	struct sbxc_resp r;
	api("GET", "/Stocks/product_ledger?stockID=1&pageSize=100", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	cJSON *d = data_of(&r);
	ck_assert_int_eq(cJSON_GetArraySize(d), 4);
	cJSON *row;
	int sp001 = -1;
	cJSON_ArrayForEach (row, d) {
		ck_assert_str_eq(str_at(row, "stock_code"), "KHO_HN");
		if (!strcmp(str_at(row, "product_code"), "SP001"))
			sp001 = (int)num_at(row, "quantity");
	}
	ck_assert_int_eq(sp001, 120);
	sbxc_resp_free(&r);

	api("POST", "/Stocks/product_ledger",
	    "[{\"product_code\":\"SP001\",\"stock_code\":\"KHO_HN\","
	    "\"quantity\":75},"
	    "{\"product_code\":\"SP004\",\"stock_code\":\"KHO_DN\","
	    "\"quantity\":12}]",
	    &r);
	ck_assert_int_eq(r.status, 200);
	sbxc_resp_free(&r);
	api("GET", "/Stocks/product_ledger?stockID=3&pageSize=100", NULL, &r);
	int found = 0;
	cJSON_ArrayForEach (row, data_of(&r))
		if (!strcmp(str_at(row, "product_code"), "SP004"))
			found = (int)num_at(row, "quantity");
	ck_assert_int_eq(found, 12);
	sbxc_resp_free(&r);
	api("GET", "/Stocks/product_ledger?stockID=1&pageSize=100", NULL, &r);
	cJSON_ArrayForEach (row, data_of(&r))
		if (!strcmp(str_at(row, "product_code"), "SP001"))
			ck_assert_int_eq((int)num_at(row, "quantity"), 75);
	sbxc_resp_free(&r);

	api("POST", "/Stocks/product_ledger",
	    "[{\"product_code\":\"SP001\",\"stock_code\":\"KHO_XX\","
	    "\"quantity\":1}]",
	    &r);
	expect_error(&r, 400, "InvalidParam");
	sbxc_resp_free(&r);
	api("GET", "/Stocks/product_ledger?pageSize=2", NULL, &r);
	ck_assert_int_eq(cJSON_GetArraySize(data_of(&r)), 2);
	ck_assert_int_eq((int)num_at(r.json, "total"), 11);
	sbxc_resp_free(&r);
}
END_TEST

START_TEST(test_revenue_request_event)
{
	hook_to_guard();
	long st;
	cJSON *a = act("save_revenue_request",
		       "{\"sale_order_no\":\"DH00001\"}", &st);
	ck_assert_int_eq(st, 200);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(a, "ok")));
	cJSON_Delete(a);
	int i = guard_wait("revenue_request.saved");
	ck_assert_int_ge(i, 0);
	expect_signature(guard.hits[i].body, guard.hits[i].sig);
	cJSON *ev = cJSON_Parse(guard.hits[i].body);
	ck_assert_str_eq(str_at(ev, "event"), "revenue_request.saved");
	ck_assert_str_eq(str_at(ev, "source"), "amis-crm");
	ck_assert(strncmp(str_at(ev, "id"), "crm-evt-", 8) == 0);
	ck_assert(cJSON_IsString(cJSON_GetObjectItem(ev, "occurred_at")));
	cJSON *so = cJSON_GetObjectItem(cJSON_GetObjectItem(ev, "data"), "sale_"
									 "orde"
									 "r");
	ck_assert_str_eq(str_at(so, "sale_order_no"), "DH00001");
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(so, "is_parent")));
	ck_assert_str_eq(str_at(so, "revenue_status"), "Đã đề nghị ghi doanh "
						       "số");
	cJSON *cust = cJSON_GetObjectItem(cJSON_GetObjectItem(ev, "data"), "cus"
									   "tom"
									   "e"
									   "r");
	ck_assert_str_eq(str_at(cust, "tax_code"), "0105987342");
	cJSON_Delete(ev);

	/* a second request on the same order is refused */
	a = act("save_revenue_request", "{\"sale_order_no\":\"DH00001\"}", &st);
	ck_assert_int_eq(st, 400);
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(a, "ok")));
	cJSON_Delete(a);

	/* the parent order's event says so: W1 skips it */
	a = act("save_revenue_request", "{\"sale_order_no\":\"DH00002\"}", &st);
	ck_assert_int_eq(st, 200);
	cJSON_Delete(a);
	struct sbxc_resp r;
	api("GET", "/RevenueRequests?saleOrderID=2", NULL, &r);
	ck_assert_int_eq(cJSON_GetArraySize(data_of(&r)), 1);
	ck_assert(cJSON_IsTrue(
		cJSON_GetObjectItem(cJSON_GetArrayItem(data_of(&r), 0), "is_"
									"paren"
									"t")));
	sbxc_resp_free(&r);
	api("GET", "/RevenueRequests", NULL, &r);
	ck_assert_int_eq((int)num_at(r.json, "total"), 3);
	sbxc_resp_free(&r);
	api("POST", "/RevenueRequests", "[{}]", &r);
	expect_error(&r, 405, "MethodNotAllowed");
	sbxc_resp_free(&r);
}
END_TEST

START_TEST(test_recall_refused)
{
	hook_to_guard();
	guard_answer(200, "{\"allow\":false,\"reason\":\"AMIS Kho đã có phiếu "
			  "xuất kho XK00001\"}");
	cJSON *before = order_by_code("DH00004");
	long st;
	cJSON *a = act("recall_revenue_request",
		       "{\"sale_order_no\":\"DH00004\"}", &st);
	ck_assert_int_eq(st, 200);
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(a, "recalled")));
	ck_assert_str_eq(str_at(a, "reason"), "AMIS Kho đã có phiếu xuất kho "
					      "XK00001");
	cJSON_Delete(a);
	/* the ask itself was signed and carried the order */
	int i = guard_wait("revenue_request.recalling");
	ck_assert_int_ge(i, 0);
	expect_signature(guard.hits[i].body, guard.hits[i].sig);
	ck_assert_ptr_nonnull(strstr(guard.hits[i].body, "\"DH00004\""));

	cJSON *after = order_by_code("DH00004");
	ck_assert_str_eq(str_at(after, "revenue_status"), "Đã đề nghị ghi "
							  "doanh số");
	ck_assert_int_eq((int)num_at(after, "revenue_request_id"),
			 (int)num_at(before, "revenue_request_id"));
	ck_assert_str_eq(str_at(after, "recall_refused_reason"), "AMIS Kho đã "
								 "có phiếu "
								 "xuất kho "
								 "XK00001");
	ck_assert_str_eq(str_at(after, "delivery_status"), str_at(before, "deli"
									  "very"
									  "_sta"
									  "tu"
									  "s"));
	cJSON_Delete(after);
	cJSON_Delete(before);
	struct sbxc_resp r;
	api("GET", "/RevenueRequests/Code?code=DNGDS00001", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	sbxc_resp_free(&r);

	/* a non-2xx answer refuses too */
	guard_answer(409, "{\"reason\":\"MISA đã sinh chứng từ bán hàng\"}");
	a = act("recall_revenue_request", "{\"sale_order_no\":\"DH00004\"}",
		&st);
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(a, "recalled")));
	ck_assert_str_eq(str_at(a, "reason"), "MISA đã sinh chứng từ bán hàng");
	cJSON_Delete(a);
}
END_TEST

START_TEST(test_recall_allowed)
{
	hook_to_guard();
	long st;
	cJSON *a = act("save_revenue_request",
		       "{\"sale_order_no\":\"DH00005\"}", &st);
	ck_assert_int_eq(st, 200);
	int rr_id = (int)num_at(cJSON_GetObjectItem(a, "revenue_request"), "i"
									   "d");
	cJSON_Delete(a);
	guard_answer(200, "{\"allow\":true}");
	a = act("recall_revenue_request",
		"{\"sale_order_no\":\"DH00005\",\"reason\":\"sai giá\"}", &st);
	ck_assert_int_eq(st, 200);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(a, "recalled")));
	cJSON_Delete(a);
	cJSON *o = order_by_code("DH00005");
	ck_assert_str_eq(str_at(o, "revenue_status"), "Chưa ghi doanh số");
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(o, "revenue_request_id")));
	cJSON_Delete(o);
	char path[64];
	snprintf(path, sizeof path, "/RevenueRequests/ID?id=%d", rr_id);
	struct sbxc_resp r;
	api("GET", path, NULL, &r);
	expect_error(&r, 404, "NotFound");
	sbxc_resp_free(&r);
	ck_assert_int_ge(guard_wait("revenue_request.recalled"), 0);

	/* an explicit ok, and a bare 200, allow as well */
	a = act("save_revenue_request", "{\"sale_order_no\":\"DH00005\"}", &st);
	cJSON_Delete(a);
	guard_answer(200, "{\"ok\":true}");
	a = act("recall_revenue_request", "{\"sale_order_no\":\"DH00005\"}",
		&st);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(a, "recalled")));
	cJSON_Delete(a);
	a = act("save_revenue_request", "{\"sale_order_no\":\"DH00005\"}", &st);
	cJSON_Delete(a);
	guard_answer(200, "");
	a = act("recall_revenue_request", "{\"sale_order_no\":\"DH00005\"}",
		&st);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(a, "recalled")));
	cJSON_Delete(a);
	/* nothing to recall any more */
	a = act("recall_revenue_request", "{\"sale_order_no\":\"DH00005\"}",
		&st);
	ck_assert_int_eq(st, 400);
	cJSON_Delete(a);
}
END_TEST

START_TEST(test_recall_unreachable)
{
	long st;
	/* no webhook url configured at all */
	cJSON *a = act("recall_revenue_request",
		       "{\"sale_order_no\":\"DH00004\"}", &st);
	ck_assert_int_eq(st, 200);
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(a, "recalled")));
	cJSON_Delete(a);
	/* a url where nothing listens: the guard is gone */
	int port = guard_port();
	guard_stop();
	char body[160];
	snprintf(body, sizeof body,
		 "{\"url\":\"http://127.0.0.1:%d/hooks\",\"secret\":\"x\"}",
		 port);
	control("/_sandbox/webhooks", body);
	a = act("recall_revenue_request",
		"{\"sale_order_no\":\"DH00004\",\"timeout_ms\":1000}", &st);
	ck_assert_int_eq(st, 200);
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(a, "recalled")));
	ck_assert_ptr_nonnull(strstr(str_at(a, "reason"), "không liên lạc "
							  "được"));
	cJSON_Delete(a);
	cJSON *o = order_by_code("DH00004");
	ck_assert_str_eq(str_at(o, "revenue_status"), "Đã đề nghị ghi doanh "
						      "số");
	ck_assert_ptr_nonnull(strstr(str_at(o, "recall_refused_reason"), "không"
									 " liên"
									 " lạc "
									 "đượ"
									 "c"));
	cJSON_Delete(o);
}
END_TEST

START_TEST(test_user_acts)
{
	hook_to_guard();
	long st;
	cJSON *a = act("create_customer",
		       "{\"account_number\":\"KH0100\",\"account_name\":\"Công "
		       "ty TNHH Gốm sứ Bát "
		       "Tràng "
		       "Việt\",\"tax_code\":\"0109123456\",\"billing_address\":"
		       "\"Xóm 3, Xã Bát "
		       "Tràng, Huyện Gia Lâm, Hà Nội\"}",
		       &st);
	ck_assert_int_eq(st, 200);
	cJSON_Delete(a);
	ck_assert_int_ge(guard_wait("customer.created"), 0);
	a = act("edit_customer",
		"{\"account_number\":\"KH0100\",\"office_tel\":\"024 3874 "
		"0000\"}",
		&st);
	ck_assert_int_eq(st, 200);
	cJSON_Delete(a);
	int i = guard_wait("customer.updated");
	ck_assert_int_ge(i, 0);
	ck_assert_ptr_nonnull(strstr(guard.hits[i].body, "\"changed_fields\":["
							 "\"office_tel\"]"));

	a = act("create_order",
		"{\"account_number\":\"KH0003\",\"parent_sale_order_no\":"
		"\"DH00002\","
		"\"sale_order_product_mappings\":[{\"product_code\":\"SP002\","
		"\"amount\":5}]}",
		&st);
	ck_assert_int_eq(st, 200);
	cJSON_Delete(a);
	a = act("create_order",
		"{\"account_number\":\"KH0003\",\"parent_sale_order_no\":"
		"\"DH00001\","
		"\"sale_order_product_mappings\":[{\"product_code\":\"SP002\","
		"\"amount\":5}]}",
		&st);
	ck_assert_int_eq(st, 400); /* DH00001 is not a parent order */
	cJSON_Delete(a);
	a = act("create_order",
		"{\"account_number\":\"KH0001\",\"is_parent\":true}", &st);
	ck_assert_int_eq(st, 200); /* a parent order may have no lines */
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(a, "sale"
									  "_ord"
									  "er"),
						   "is_parent")));
	cJSON_Delete(a);

	a = act("create_invoice_request", "{\"sale_order_no\":\"DH00001\"}",
		&st);
	ck_assert_int_eq(st, 200);
	cJSON *ir = cJSON_GetObjectItem(a, "invoice_request");
	ck_assert_str_eq(str_at(ir, "status"), "Chờ duyệt");
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(ir, "invoice_"
								    "request_"
								    "product_"
								    "mapping"
								    "s")),
			 3);
	int ir_id = (int)num_at(ir, "id");
	cJSON_Delete(a);
	ck_assert_int_ge(guard_wait("invoice_request.created"), 0);
	/* C4: accounting's refusal goes back with its reason */
	char body[160];
	snprintf(body, sizeof body, "[{\"id\":%d,\"status\":\"Từ chối\"}]",
		 ir_id);
	struct sbxc_resp r;
	api("PUT", "/InvoiceRequests", body, &r);
	expect_error(&r, 400, "InvalidParam");
	sbxc_resp_free(&r);
	snprintf(body, sizeof body,
		 "[{\"id\":%d,\"status\":\"Từ chối\",\"refuse_reason\":\"Sai "
		 "mã số thuế\"}]",
		 ir_id);
	api("PUT", "/InvoiceRequests", body, &r);
	ck_assert_int_eq(r.status, 200);
	sbxc_resp_free(&r);

	a = act("create_quote",
		"{\"account_number\":\"KH0006\",\"quote_product_mappings\":[{"
		"\"product_code\":"
		"\"SP005\",\"amount\":6}]}",
		&st);
	ck_assert_int_eq(st, 200);
	cJSON_Delete(a);
	i = guard_wait("quote.created");
	ck_assert_int_ge(i, 0);
	ck_assert_ptr_nonnull(strstr(guard.hits[i].body, "Nguyễn Thị Hồng "
							 "Nhung"));

	/* resend: the same event id arrives again */
	cJSON *ev = cJSON_Parse(guard.hits[i].body);
	snprintf(body, sizeof body, "{\"id\":\"%s\"}", str_at(ev, "id"));
	cJSON_Delete(ev);
	int n = guard_count();
	a = act("resend_event", body, &st);
	ck_assert_int_eq(st, 200);
	cJSON_Delete(a);
	for (int t = 0; t < 300 && guard_count() == n; t++) {
		struct timespec ts = { 0, 10 * 1000000L };
		nanosleep(&ts, NULL);
	}
	ck_assert_int_eq(guard_count(), n + 1);
	ck_assert_str_eq(guard.hits[n].body, guard.hits[i].body);
}
END_TEST

START_TEST(test_faults_and_state)
{
	control("/_sandbox/faults", "{\"error_rate\":1,\"error_status\":503}");
	struct sbxc_resp r;
	api("GET", "/Customers", NULL, &r);
	ck_assert_int_eq(r.status, 503);
	sbxc_resp_free(&r);
	sbxc_http("DELETE", sbxc_url(&sbx, "crm", "/_sandbox/faults"), NULL,
		  NULL, 5000, &r);
	ck_assert_int_eq(r.status, 200);
	sbxc_resp_free(&r);
	api("GET", "/Customers", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	sbxc_resp_free(&r);

	cJSON *log = sbxc_get_json(sbxc_url(&sbx, "crm", "/_sandbox/requests"));
	ck_assert_ptr_nonnull(log);
	char *txt = cJSON_PrintUnformatted(log);
	ck_assert_ptr_nonnull(strstr(txt, BASE "/Customers"));
	free(txt);
	cJSON_Delete(log);

	cJSON *st = sbxc_get_json(sbxc_url(&sbx, "crm", "/_sandbox/state"));
	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(st, "SaleOrder"
								    "s")),
			 6);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(st, "product_"
								    "ledger")),
			 10);
	ck_assert_int_ge(cJSON_GetArraySize(cJSON_GetObjectItem(st, "tokens")),
			 1);
	cJSON_Delete(st);
}
END_TEST

static Suite *crm_suite(void)
{
	Suite *s = suite_create("crm");
	TCase *tc = tcase_create("contract");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_auth);
	tcase_add_test(tc, test_token_ttl);
	tcase_add_test(tc, test_paging_and_order);
	tcase_add_test(tc, test_lookup);
	tcase_add_test(tc, test_array_crud);
	tcase_add_test(tc, test_validation);
	tcase_add_test(tc, test_order_totals_and_statuses);
	tcase_add_test(tc, test_product_ledger);
	tcase_add_test(tc, test_revenue_request_event);
	tcase_add_test(tc, test_recall_refused);
	tcase_add_test(tc, test_recall_allowed);
	tcase_add_test(tc, test_recall_unreachable);
	tcase_add_test(tc, test_user_acts);
	tcase_add_test(tc, test_faults_and_state);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return sbxc_run_suite(crm_suite());
}

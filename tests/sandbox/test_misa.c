/* test_misa.c - contract tests of the MISA AMIS Ke toan emulator through
 * real HTTP against a running luong-sandbox. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sbx_client.h"

#define APP_ID "7c4b3a1e-5d2f-4b8a-9e61-2f0d8c3a9b57"
#define ACCESS_CODE                                                            \
	"bHVvbmctc2FuZGJveC1tYS1rZXQtbm9pLWRlbW8tMjAyNS1jb25nLXR5LWFuLXBoYXQ="
#define ORG "congtyanphat"
#define API "/apir/sync/actopen/"

static struct sbxc sb;
static struct sbxc_recv *rx;
static char token[128];

static const char *U(const char *path)
{
	return sbxc_url(&sb, "misa", path);
}

static cJSON *connect_with(const char *app, const char *code, const char *org)
{
	char body[512];
	snprintf(body, sizeof body,
		 "{\"app_id\":\"%s\",\"access_code\":\"%s\",\"org_company_"
		 "code\":\"%s\"}",
		 app, code, org);
	return sbxc_post_json(U("/api/oauth/actopen/connect"), NULL, body);
}

static bool jtrue(const cJSON *o, const char *k)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, k));
}

/* Parses the Data string of an envelope (it is JSON inside a string). */
static cJSON *env_data(const cJSON *env)
{
	const char *d = sbxc_jstr(env, "Data");
	ck_assert_msg(d != NULL, "Data is not a string");
	cJSON *j = cJSON_Parse(d);
	ck_assert_ptr_nonnull(j);
	return j;
}

static void do_connect(void)
{
	cJSON *env = connect_with(APP_ID, ACCESS_CODE, ORG);
	ck_assert_ptr_nonnull(env);
	ck_assert(jtrue(env, "Success"));
	cJSON *d = env_data(env);
	snprintf(token, sizeof token, "%s", sbxc_jstr(d, "access_token"));
	cJSON_Delete(d);
	cJSON_Delete(env);
}

static cJSON *call(const char *fn, const char *body)
{
	char path[256], hdr[200];
	snprintf(path, sizeof path, API "%s", fn);
	snprintf(hdr, sizeof hdr, "X-MISA-AccessToken: %s", token);
	const char *const h[] = { hdr, NULL };
	cJSON *env = sbxc_post_json(U(path), h, body);
	ck_assert_msg(env != NULL, "no json answer from %s", fn);
	return env;
}

static cJSON *ctl(const char *path, const char *body)
{
	cJSON *j = body ? sbxc_post_json(U(path), NULL, body)
			: sbxc_get_json(U(path));
	ck_assert_msg(j != NULL, "no json answer from %s", path);
	return j;
}

static void ctl_ok(const char *path, const char *body)
{
	cJSON_Delete(ctl(path, body));
}

static void setup(void)
{
	ck_assert_int_eq(sbxc_start(&sb, "misa"), 0);
	rx = sbxc_recv_start();
	ck_assert_ptr_nonnull(rx);
	char body[200];
	snprintf(body, sizeof body,
		 "{\"url\":\"http://127.0.0.1:%d/misa/"
		 "callback\",\"retry_base_ms\":50}",
		 sbxc_recv_port(rx));
	ctl_ok("/_sandbox/webhooks", body);
	ctl_ok("/_sandbox/act/config", "{\"generate_delay_ms\":150}");
	do_connect();
}

static void teardown(void)
{
	ck_assert_int_eq(sbxc_stop(&sb), 0);
	sbxc_recv_stop(rx);
}

/* Quantity on hand of item at stock through get_list_inventory_balance. */
static double stock_of(const char *item, const char *stock)
{
	double q = -1e18;
	for (int skip = 0;; skip += 100) {
		char body[128];
		snprintf(body, sizeof body, "{\"skip\":%d,\"take\":100}", skip);
		cJSON *env = call("get_list_inventory_balance", body);
		cJSON *rows = env_data(env), *r;
		int n = cJSON_GetArraySize(rows);
		cJSON_ArrayForEach (r, rows) {
			if (!strcmp(sbxc_jstr(r, "inventory_item_code"),
				    item) &&
			    !strcmp(sbxc_jstr(r, "stock_code"), stock))
				q = sbxc_jnum(r, "quantity_balance");
		}
		cJSON_Delete(rows);
		cJSON_Delete(env);
		if (n < 100)
			break;
	}
	return q;
}

static double debt_of(const char *code, int type)
{
	char body[128];
	snprintf(body, sizeof body,
		 "{\"data_type\":%d,\"skip\":0,\"take\":100}", type);
	cJSON *env = call("get_list_acc_obj_debt", body);
	cJSON *rows = env_data(env), *r;
	double d = -1e18;
	cJSON_ArrayForEach (r, rows) {
		if (!strcmp(sbxc_jstr(r, "account_object_code"), code))
			d = sbxc_jnum(r, "debt_amount");
	}
	cJSON_Delete(rows);
	cJSON_Delete(env);
	return d;
}

/* Sends one voucher and returns the callback's parsed outer body. */
static cJSON *save_and_wait(const char *voucher_json, int *hit_index)
{
	int before = sbxc_recv_count(rx);
	char *body = malloc(strlen(voucher_json) + 200);
	sprintf(body,
		"{\"app_id\":\"%s\",\"org_company_code\":\"%s\",\"voucher\":[%"
		"s]}",
		APP_ID, ORG, voucher_json);
	cJSON *env = call("save", body);
	free(body);
	ck_assert(jtrue(env, "Success"));
	cJSON_Delete(env);
	ck_assert_int_ge(sbxc_recv_wait(rx, before + 1, 5000), before + 1);
	struct sbxc_hit *h = sbxc_recv_hit(rx, before);
	cJSON *cb = cJSON_Parse(h->body);
	sbxc_hit_free(h);
	ck_assert_ptr_nonnull(cb);
	if (hit_index)
		*hit_index = before;
	return cb;
}

/* First result row of a callback's data string. */
static cJSON *cb_row(const cJSON *cb)
{
	cJSON *rows = cJSON_Parse(sbxc_jstr(cb, "data"));
	ck_assert_ptr_nonnull(rows);
	cJSON *row = cJSON_DetachItemFromArray(rows, 0);
	cJSON_Delete(rows);
	ck_assert_ptr_nonnull(row);
	return row;
}

static cJSON *voucher_state(const char *org_refid)
{
	cJSON *st = ctl("/_sandbox/state", NULL), *v, *found = NULL;
	cJSON_ArrayForEach (v, cJSON_GetObjectItem(st, "vouchers")) {
		if (!strcmp(sbxc_jstr(v, "org_refid"), org_refid) &&
		    strcmp(sbxc_jstr(v, "status"), "deleted"))
			found = cJSON_Duplicate(v, true);
	}
	cJSON_Delete(st);
	ck_assert_msg(found != NULL, "voucher %s not in state", org_refid);
	return found;
}

#define SALE(refid, item, stock, qty, extra)                                   \
	"{\"voucher_type\":13,\"org_refid\":\"" refid "\",\"refdate\":\"2025-" \
	"11-10\","                                                             \
	"\"account_object_code\":\"KH0001\",\"is_sale_with_outward\":true,"    \
	"\"reftype\":3530," extra "\"detail\":[{\"inventory_item_code\":"      \
	"\"" item "\",\"stock_code\":\"" stock "\","                           \
	"\"quantity\":" qty ",\"unit_price\":100000,\"vat_rate\":10}]}"

/* ---------------- auth ---------------- */

START_TEST(connect_returns_string_data_with_vn_expiry)
{
	cJSON *env = connect_with(APP_ID, ACCESS_CODE, ORG);
	ck_assert(jtrue(env, "Success"));
	ck_assert_ptr_nonnull(sbxc_jstr(env, "Data"));
	cJSON *d = env_data(env);
	ck_assert_int_ge((int)strlen(sbxc_jstr(d, "access_token")), 32);
	const char *exp = sbxc_jstr(d, "expired_time");
	ck_assert_ptr_nonnull(strstr(exp, "+07:00"));
	/* 12 h by default: the expiry is between 11h59 and 12h01 from now */
	struct tm tm = { 0 };
	ck_assert_ptr_nonnull(strptime(exp, "%Y-%m-%dT%H:%M:%S", &tm));
	double secs = (double)(timegm(&tm) - 7 * 3600) - (double)time(NULL);
	ck_assert_double_ge(secs, 12 * 3600 - 60);
	ck_assert_double_le(secs, 12 * 3600 + 60);
	ck_assert_str_eq(sbxc_jstr(d, "tenant_code"), ORG);
	cJSON_Delete(d);
	cJSON_Delete(env);
}
END_TEST

START_TEST(connect_errors)
{
	struct {
		const char *app, *code, *org, *want;
	} cases[] = {
		{ "00000000-0000-4000-8000-000000000000", ACCESS_CODE, ORG,
		  "InvalidAppID" },
		{ APP_ID, "d3Jvbmc=", ORG, "InvalidParam" },
		{ APP_ID, ACCESS_CODE, "congtykhac", "InvalidParam" },
		{ APP_ID, "", ORG, "InvalidParam" },
		{ "2b9e6f40-8a17-4c3d-b5e2-91d7a0c6f318",
		  "ZGlzY29ubmVjdGVkLWFwcC1kZW1v", ORG, "AppIDDisconnect" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cJSON *env =
			connect_with(cases[i].app, cases[i].code, cases[i].org);
		ck_assert(!jtrue(env, "Success"));
		ck_assert_str_eq(sbxc_jstr(env, "ErrorCode"), cases[i].want);
		cJSON_Delete(env);
	}
}
END_TEST

START_TEST(token_checks_and_forced_expiry)
{
	struct sbxc_resp r;
	sbxc_http("POST", U(API "get_company_info"), NULL, "{}", 5000, &r);
	ck_assert_int_eq(r.status,
			 200); /* business errors travel with HTTP 200 */
	ck_assert_str_eq(sbxc_jstr(r.json, "ErrorCode"), "InvalidToken");
	sbxc_resp_free(&r);

	cJSON *env = call("get_company_info", "{}");
	ck_assert(jtrue(env, "Success"));
	cJSON *d = env_data(env);
	ck_assert_str_eq(sbxc_jstr(d, "company_tax_code"), "0108845671");
	ck_assert_int_ge(cJSON_GetArraySize(cJSON_GetObjectItem(d, "branches")),
			 3);
	cJSON_Delete(d);
	cJSON_Delete(env);

	ctl_ok("/_sandbox/faults", "{\"expire_tokens\":true}");
	env = call("get_company_info", "{}");
	ck_assert(!jtrue(env, "Success"));
	ck_assert_str_eq(sbxc_jstr(env, "ErrorCode"), "ExpiredToken");
	cJSON_Delete(env);

	do_connect(); /* a client reconnects and goes on */
	env = call("get_company_info", "{}");
	ck_assert(jtrue(env, "Success"));
	cJSON_Delete(env);

	/* a TTL of 1 s, set through the control API */
	ctl_ok("/_sandbox/act/config", "{\"token_ttl_s\":1}");
	do_connect();
	env = call("get_company_info", "{}");
	ck_assert(jtrue(env, "Success"));
	cJSON_Delete(env);
	sbxc_sleep_ms(1100);
	env = call("get_company_info", "{}");
	ck_assert_str_eq(sbxc_jstr(env, "ErrorCode"), "ExpiredToken");
	cJSON_Delete(env);
}
END_TEST

/* ---------------- reads ---------------- */

START_TEST(paging_caps_take_at_100)
{
	/* 120 new items through save_dictionary (type 3 = item in that numbering) */
	char *body = malloc(120 * 200 + 100);
	char *p = body +
		  sprintf(body, "{\"org_company_code\":\"%s\",\"dictionary\":[",
			  ORG);
	for (int i = 0; i < 120; i++)
		p += sprintf(p,
			     "%s{\"dictionary_type\":3,\"inventory_item_code\":"
			     "\"BULK%03d\","
			     "\"inventory_item_name\":\"Hàng số "
			     "%d\",\"unit_name\":\"Hộp\"}",
			     i ? "," : "", i, i);
	strcpy(p, "]}");
	cJSON *env = call("save_dictionary", body);
	free(body);
	ck_assert(jtrue(env, "Success"));
	cJSON_Delete(env);

	env = call("get_dictionary", "{\"data_type\":2,\"skip\":0,\"take\":"
				     "500}");
	cJSON *rows = env_data(env);
	ck_assert_int_eq(cJSON_GetArraySize(rows), 100);
	ck_assert_ptr_nonnull(sbxc_jstr(cJSON_GetObjectItem(env, "CustomData"),
					"LastSyncTime"));
	cJSON_Delete(rows);
	cJSON_Delete(env);
	env = call("get_dictionary", "{\"data_type\":2,\"skip\":100,\"take\":"
				     "100}");
	rows = env_data(env);
	ck_assert_int_eq(cJSON_GetArraySize(rows),
			 126 - 100); /* 6 seeded + 120 */
	cJSON_Delete(rows);
	cJSON_Delete(env);
	/* small pages walk every account object exactly once */
	int total = 0;
	for (int skip = 0;; skip += 4) {
		char b[64];
		snprintf(b, sizeof b,
			 "{\"data_type\":1,\"skip\":%d,\"take\":4}", skip);
		env = call("get_dictionary", b);
		rows = env_data(env);
		int n = cJSON_GetArraySize(rows);
		total += n;
		cJSON_Delete(rows);
		cJSON_Delete(env);
		if (n < 4)
			break;
	}
	ck_assert_int_eq(total, 9);
}
END_TEST

START_TEST(dictionary_types_follow_the_read_numbering)
{
	struct {
		int type;
		const char *key, *first;
	} cases[] = {
		{ 1, "account_object_code", "KH0001" },
		{ 2, "inventory_item_code", "SP001" },
		{ 3, "stock_code", "KHO_HN" },
		{ 5, "stock_code", "KHO_HN" },
		{ 4, "unit_name", "Thùng" },
		{ 6, "organization_unit_code", "ANPHAT" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char b[64];
		snprintf(b, sizeof b,
			 "{\"data_type\":%d,\"skip\":0,\"take\":100}",
			 cases[i].type);
		cJSON *env = call("get_dictionary", b);
		cJSON *rows = env_data(env);
		ck_assert_str_eq(sbxc_jstr(cJSON_GetArrayItem(rows, 0),
					   cases[i].key),
				 cases[i].first);
		cJSON_Delete(rows);
		cJSON_Delete(env);
	}
	cJSON *env = call("get_dictionary", "{\"data_type\":99}");
	ck_assert_str_eq(sbxc_jstr(env, "ErrorCode"), "InvalidParam");
	cJSON_Delete(env);
}
END_TEST

START_TEST(last_sync_time_returns_only_changes)
{
	sbxc_sleep_ms(1100); /* seed rows are now at least a second old */
	cJSON *env = call("get_dictionary", "{\"data_type\":2,\"skip\":0,"
					    "\"take\":100}");
	char lst[32];
	snprintf(lst, sizeof lst, "%s",
		 sbxc_jstr(cJSON_GetObjectItem(env, "CustomData"), "LastSyncTim"
								   "e"));
	ck_assert_int_eq((int)strlen(lst), 19); /* yyyy-MM-dd HH:mm:ss */
	cJSON_Delete(env);

	ctl_ok("/_sandbox/act/edit_product", "{\"inventory_item_code\":"
					     "\"SP003\",\"sale_price1\":"
					     "115000}");
	char b[128];
	snprintf(b, sizeof b,
		 "{\"data_type\":2,\"skip\":0,\"take\":100,\"last_sync_time\":"
		 "\"%s\"}",
		 lst);
	env = call("get_dictionary", b);
	cJSON *rows = env_data(env);
	ck_assert_int_eq(cJSON_GetArraySize(rows), 1);
	ck_assert_str_eq(sbxc_jstr(cJSON_GetArrayItem(rows, 0), "inventory_"
								"item_code"),
			 "SP003");
	ck_assert_double_eq(sbxc_jnum(cJSON_GetArrayItem(rows, 0), "sale_"
								   "price1"),
			    115000);
	cJSON_Delete(rows);
	cJSON_Delete(env);

	/* a deleted item shows in the tombstone list */
	ctl_ok("/_sandbox/act/delete_item", "{\"inventory_item_code\":"
					    "\"SP005\"}");
	env = call("get_dictionary_delete", b);
	rows = env_data(env);
	ck_assert_int_eq(cJSON_GetArraySize(rows), 1);
	ck_assert_str_eq(sbxc_jstr(cJSON_GetArrayItem(rows, 0), "code"), "SP00"
									 "5");
	cJSON_Delete(rows);
	cJSON_Delete(env);
	env = call("get_dictionary", "{\"data_type\":2,\"last_sync_time\":\"11/"
				     "10/2025\"}");
	ck_assert_str_eq(sbxc_jstr(env, "ErrorCode"), "InvalidParam");
	cJSON_Delete(env);
}
END_TEST

/* ---------------- save and callback ---------------- */

static char *hmac_hex(const char *key, const char *msg)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)msg,
	     strlen(msg), mac, &n);
	char *hex = malloc(2 * n + 1);
	for (unsigned int i = 0; i < n; i++)
		sprintf(hex + 2 * i, "%02x", mac[i]);
	return hex;
}

START_TEST(save_posts_signed_callback)
{
	int idx;
	cJSON *cb = save_and_wait(
		SALE("DMS-ORD-1001", "SP001", "KHO_HN", "10", ), &idx);
	ck_assert(jtrue(cb, "success"));
	ck_assert_int_eq((int)sbxc_jnum(cb, "data_type"), 1);
	ck_assert_str_eq(sbxc_jstr(cb, "app_id"), APP_ID);
	ck_assert_str_eq(sbxc_jstr(cb, "org_company_code"), ORG);
	const char *data = sbxc_jstr(cb, "data");
	char *want = hmac_hex(APP_ID, data);
	ck_assert_str_eq(sbxc_jstr(cb, "signature"), want);
	free(want);
	cJSON *row = cb_row(cb);
	ck_assert_str_eq(sbxc_jstr(row, "org_refid"), "DMS-ORD-1001");
	ck_assert(jtrue(row, "success"));
	ck_assert_int_eq((int)sbxc_jnum(row, "voucher_type"), 13);
	ck_assert(jtrue(row, "is_posted"));
	cJSON_Delete(row);

	struct sbxc_hit *h = sbxc_recv_hit(rx, idx);
	ck_assert_str_eq(h->path, "/misa/callback");
	ck_assert_ptr_nonnull(strstr(sbxc_jstr(h->headers, "content-type"),
				     "application/json"));
	sbxc_hit_free(h);

	/* the openssl command documented in the README gives the same signature */
	char path[] = "/tmp/misa-data.XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq((int)write(fd, data, strlen(data)), (int)strlen(data));
	close(fd);
	char cmd[512];
	snprintf(cmd, sizeof cmd, "openssl dgst -sha256 -hmac '%s' < %s",
		 APP_ID, path);
	FILE *p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	char out[256] = "";
	ck_assert_ptr_nonnull(fgets(out, sizeof out, p));
	ck_assert_int_eq(pclose(p), 0);
	unlink(path);
	ck_assert_msg(strstr(out, sbxc_jstr(cb, "signature")) != NULL,
		      "openssl said %s", out);
	cJSON_Delete(cb);

	/* a forged copy would not verify: the signature covers data */
	cJSON *v = voucher_state("DMS-ORD-1001");
	ck_assert_str_eq(sbxc_jstr(v, "status"), "generated");
	ck_assert_str_eq(sbxc_jstr(v, "posting_status"), "posted");
	cJSON_Delete(v);
}
END_TEST

START_TEST(same_org_refid_while_pending_updates)
{
	ctl_ok("/_sandbox/act/config", "{\"generate_delay_ms\":600}");
	double before = stock_of("SP002", "KHO_HN");
	const char *body = "{\"voucher\":[" SALE("DMS-ORD-2001", "SP002",
						 "KHO_HN", "5", ) "]}";
	cJSON *env = call("save", body);
	ck_assert(jtrue(env, "Success"));
	cJSON_Delete(env);
	env = call("save", "{\"voucher\":[" SALE("DMS-ORD-2001", "SP002",
						 "KHO_HN", "7", ) "]}");
	ck_assert(jtrue(env, "Success"));
	cJSON_Delete(env);
	ck_assert_int_eq(sbxc_recv_wait(rx, 1, 5000), 1);
	sbxc_sleep_ms(300);
	ck_assert_int_eq(sbxc_recv_count(rx),
			 1); /* one voucher, one callback */
	cJSON *v = voucher_state("DMS-ORD-2001");
	ck_assert_int_eq((int)sbxc_jnum(v, "update_count"), 1);
	cJSON_Delete(v);
	ck_assert_double_eq(stock_of("SP002", "KHO_HN"), before - 7);
}
END_TEST

START_TEST(resend_after_generation_is_created_voucher)
{
	cJSON *cb = save_and_wait(
		SALE("DMS-ORD-3001", "SP001", "KHO_HCM", "2", ), NULL);
	ck_assert(jtrue(cb, "success"));
	cJSON_Delete(cb);
	double stock = stock_of("SP001", "KHO_HCM");
	cb = save_and_wait(SALE("DMS-ORD-3001", "SP001", "KHO_HCM", "3", ),
			   NULL);
	ck_assert(!jtrue(cb, "success"));
	cJSON *row = cb_row(cb);
	ck_assert_str_eq(sbxc_jstr(row, "error_code"), "IsCreatedVoucher");
	cJSON_Delete(row);
	cJSON_Delete(cb);
	ck_assert_double_eq(stock_of("SP001", "KHO_HCM"),
			    stock); /* nothing posted twice */
}
END_TEST

START_TEST(unknown_codes_fail_the_voucher)
{
	struct {
		const char *voucher, *needle;
	} cases[] = {
		{ SALE("DMS-ORD-4001", "SP999", "KHO_HN", "1", ), "SP999" },
		{ SALE("DMS-ORD-4002", "SP001", "KHO_XX", "1", ), "KHO_XX" },
		{ "{\"voucher_type\":13,\"org_refid\":\"DMS-ORD-4003\","
		  "\"account_object_code\":\"KH9999\","
		  "\"detail\":[{\"inventory_item_code\":\"SP001\",\"stock_"
		  "code\":\"KHO_HN\",\"quantity\":1}]}",
		  "KH9999" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cJSON *cb = save_and_wait(cases[i].voucher, NULL);
		ck_assert(!jtrue(cb, "success"));
		cJSON *row = cb_row(cb);
		ck_assert(!jtrue(row, "success"));
		ck_assert_str_eq(sbxc_jstr(row, "error_code"), "InvalidParam");
		ck_assert_msg(strstr(sbxc_jstr(row, "error_message"),
				     cases[i].needle) != NULL,
			      "message %s does not name %s",
			      sbxc_jstr(row, "error_message"), cases[i].needle);
		cJSON_Delete(row);
		cJSON_Delete(cb);
	}
	/* a rejected request may be sent again once fixed */
	cJSON *cb = save_and_wait(
		SALE("DMS-ORD-4001", "SP001", "KHO_HN", "1", ), NULL);
	ck_assert(jtrue(cb, "success"));
	cJSON_Delete(cb);
}
END_TEST

START_TEST(posting_moves_stock_and_debt)
{
	double stock = stock_of("SP003", "KHO_DN"), debt = debt_of("KH0001", 0);
	ck_assert_double_eq(stock, 150);
	ck_assert_double_eq(debt, 45600000);
	/* 20 x 100000, VAT 10% -> 2,200,000 receivable */
	cJSON *cb = save_and_wait(
		SALE("DMS-ORD-5001", "SP003", "KHO_DN", "20", ), NULL);
	ck_assert(jtrue(cb, "success"));
	cJSON_Delete(cb);
	ck_assert_double_eq(stock_of("SP003", "KHO_DN"), 130);
	ck_assert_double_eq(debt_of("KH0001", 0), debt + 2200000);

	/* a cash receipt (voucher_type 5) lowers it */
	cb = save_and_wait("{\"voucher_type\":5,\"org_refid\":\"PT-5001\","
			   "\"account_object_code\":\"KH0001\","
			   "\"reftype\":1010,\"total_amount\":1200000,"
			   "\"detail\":[{\"amount\":1200000}]}",
			   NULL);
	ck_assert(jtrue(cb, "success"));
	cJSON_Delete(cb);
	ck_assert_double_eq(debt_of("KH0001", 0), debt + 1000000);

	/* a sales return (designed code 50) brings goods back, lowers receivable and revenue */
	cJSON *st = ctl("/_sandbox/state", NULL);
	double revenue = sbxc_jnum(st, "revenue");
	cJSON_Delete(st);
	cb = save_and_wait("{\"voucher_type\":50,\"org_refid\":\"BTL_5001\","
			   "\"account_object_code\":\"KH0001\","
			   "\"detail\":[{\"inventory_item_code\":\"SP003\","
			   "\"stock_code\":\"KHO_DN\","
			   "\"quantity\":5,\"unit_price\":100000,\"vat_rate\":"
			   "10}]}",
			   NULL);
	ck_assert(jtrue(cb, "success"));
	cJSON_Delete(cb);
	ck_assert_double_eq(stock_of("SP003", "KHO_DN"), 135);
	ck_assert_double_eq(debt_of("KH0001", 0), debt + 1000000 - 550000);
	st = ctl("/_sandbox/state", NULL);
	ck_assert_double_eq(sbxc_jnum(st, "revenue"), revenue - 500000);
	cJSON_Delete(st);
	/* payables come out negative, under data_type 1 */
	ck_assert_double_eq(debt_of("NCC001", 1), -18500000);
}
END_TEST

START_TEST(negative_stock_fails_posting)
{
	ck_assert_double_eq(stock_of("SP004", "KHO_HCM"), 10);
	double debt = debt_of("KH0001", 0);
	cJSON *cb = save_and_wait(
		SALE("DMS-ORD-6001", "SP004", "KHO_HCM", "11", ), NULL);
	ck_assert(jtrue(cb, "success")); /* the voucher exists ... */
	cJSON *row = cb_row(cb);
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(
		row, "is_posted"))); /* ... but is not posted */
	ck_assert_str_eq(sbxc_jstr(row, "posting_error_code"), "NegativeStock");
	ck_assert_ptr_nonnull(
		strstr(sbxc_jstr(row, "posting_error_message"), "SP004"));
	cJSON_Delete(row);
	cJSON_Delete(cb);
	cJSON *v = voucher_state("DMS-ORD-6001");
	ck_assert_str_eq(sbxc_jstr(v, "status"), "generated");
	ck_assert_str_eq(sbxc_jstr(v, "posting_status"), "post_failed");
	cJSON_Delete(v);
	ck_assert_double_eq(stock_of("SP004", "KHO_HCM"), 10);
	ck_assert_double_eq(debt_of("KH0001", 0), debt);

	/* asked to ignore warnings, the posting goes through below zero */
	cb = save_and_wait(SALE("DMS-ORD-6002", "SP004", "KHO_HCM", "11",
				"\"ignore_warning\":true,"),
			   NULL);
	row = cb_row(cb);
	ck_assert(jtrue(row, "is_posted"));
	cJSON_Delete(row);
	cJSON_Delete(cb);
	ck_assert_double_eq(stock_of("SP004", "KHO_HCM"), -1);
}
END_TEST

/* B6: a number another voucher holds is refused; another number passes;
 * a voucher posted past a failed posting is posted by its resend. */
START_TEST(duplicate_number_is_refused)
{
	cJSON *rec = ctl("/_sandbox/act/enter_voucher", "{\"refno\":\"BH-"
							"7001\",\"voucher_"
							"type\":13}");
	ck_assert_str_eq(sbxc_jstr(rec, "refno"), "BH-7001");
	cJSON_Delete(rec);
	cJSON *cb = save_and_wait(SALE("DMS-ORD-7001", "SP001", "KHO_HN", "1",
				       "\"org_refno\":\"BH-7001\","),
				  NULL);
	cJSON *row = cb_row(cb);
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(row, "success")));
	ck_assert_str_eq(sbxc_jstr(row, "error_code"), "DuplicateRefNo");
	ck_assert_ptr_nonnull(strstr(sbxc_jstr(row, "error_message"), "BH-"
								      "7001"));
	cJSON_Delete(row);
	cJSON_Delete(cb);
	/* the same request with a suffixed number is made, under that number */
	cb = save_and_wait(SALE("DMS-ORD-7001", "SP001", "KHO_HN", "1",
				"\"org_refno\":\"BH-7001-1\","),
			   NULL);
	row = cb_row(cb);
	ck_assert(jtrue(row, "success"));
	ck_assert_str_eq(sbxc_jstr(row, "refno"), "BH-7001-1");
	cJSON_Delete(row);
	cJSON_Delete(cb);
}
END_TEST

START_TEST(resend_posts_a_voucher_whose_posting_failed)
{
	cJSON *cb = save_and_wait(
		SALE("DMS-ORD-7101", "SP004", "KHO_HCM", "11", ), NULL);
	cJSON *row = cb_row(cb);
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(row, "is_posted")));
	char *refno = strdup(sbxc_jstr(row, "refno"));
	cJSON_Delete(row);
	cJSON_Delete(cb);
	cb = save_and_wait(SALE("DMS-ORD-7101", "SP004", "KHO_HCM", "11",
				"\"ignore_warning\":true,"),
			   NULL);
	row = cb_row(cb);
	ck_assert(jtrue(row, "success"));
	ck_assert(jtrue(row, "is_posted"));
	ck_assert_str_eq(sbxc_jstr(row, "refno"), refno);
	cJSON_Delete(row);
	cJSON_Delete(cb);
	cJSON *v = voucher_state("DMS-ORD-7101");
	ck_assert_str_eq(sbxc_jstr(v, "posting_status"), "posted");
	cJSON_Delete(v);
	ck_assert_double_eq(stock_of("SP004", "KHO_HCM"), -1);
	free(refno);
}
END_TEST

START_TEST(delete_pending_and_absent)
{
	ctl_ok("/_sandbox/act/config", "{\"generate_delay_ms\":2000}");
	cJSON *env = call("save", "{\"voucher\":[" SALE("DMS-ORD-7001", "SP001",
							"KHO_HN", "1", ) "]}");
	cJSON_Delete(env);
	env = call("delete", "{\"org_company_code\":\"" ORG "\",\"voucher\":[{"
			     "\"voucher_type\":"
			     "13,"
			     "\"org_refid\":\"DMS-ORD-7001\"}]}");
	ck_assert(jtrue(env, "Success"));
	cJSON_Delete(env);
	ck_assert_int_eq(sbxc_recv_wait(rx, 1, 5000), 1);
	struct sbxc_hit *h = sbxc_recv_hit(rx, 0);
	cJSON *cb = cJSON_Parse(h->body);
	sbxc_hit_free(h);
	ck_assert_int_eq((int)sbxc_jnum(cb, "data_type"), 2);
	cJSON *row = cb_row(cb);
	ck_assert(jtrue(row, "success"));
	cJSON_Delete(row);
	cJSON_Delete(cb);

	env = call("delete", "{\"voucher\":[{\"voucher_type\":13,\"org_refid\":"
			     "\"DMS-ORD-7001\"}]}");
	ck_assert(!jtrue(env, "Success"));
	ck_assert_str_eq(sbxc_jstr(env, "ErrorCode"), "VoucherNotFound");
	cJSON_Delete(env);
}
END_TEST

START_TEST(undelivered_callbacks_are_listed)
{
	ctl_ok("/_sandbox/webhooks", "{\"url\":\"http://127.0.0.1:1/"
				     "nowhere\",\"max_attempts\":2}");
	cJSON *env = call("save", "{\"voucher\":[" SALE("DMS-ORD-8001", "SP001",
							"KHO_HN", "1", ) "]}");
	cJSON_Delete(env);
	cJSON *rows = NULL;
	for (int i = 0; i < 100; i++) {
		env = call("get_call_back_detail_error",
			   "{\"app_id\":\"" APP_ID "\",\"from_date\":\"2000-01-"
			   "01\","
			   "\"to_date\":\"2100-01-01\",\"skip\":0,\"take\":"
			   "100}");
		rows = env_data(env);
		cJSON_Delete(env);
		if (cJSON_GetArraySize(rows) > 0)
			break;
		cJSON_Delete(rows);
		rows = NULL;
		sbxc_sleep_ms(50);
	}
	ck_assert_ptr_nonnull(rows);
	ck_assert_str_eq(sbxc_jstr(cJSON_GetArrayItem(rows, 0), "org_refid"),
			 "DMS-ORD-8001");
	cJSON_Delete(rows);
	cJSON *d = ctl("/_sandbox/deliveries", NULL);
	cJSON *list = cJSON_GetObjectItem(d, "deliveries");
	ck_assert_int_eq(cJSON_GetArraySize(list),
			 2); /* two attempts, then gave up */
	ck_assert(jtrue(cJSON_GetArrayItem(list, 1), "gave_up"));
	cJSON_Delete(d);
}
END_TEST

START_TEST(webhook_retries_and_duplicates)
{
	sbxc_recv_set_status(rx, 503);
	ctl_ok("/_sandbox/webhooks", "{\"duplicate\":true}");
	cJSON *env = call("save", "{\"voucher\":[" SALE("DMS-ORD-9001", "SP001",
							"KHO_HN", "1", ) "]}");
	cJSON_Delete(env);
	ck_assert_int_ge(sbxc_recv_wait(rx, 2, 5000),
			 2); /* first attempt and a retry, both 503 */
	sbxc_recv_set_status(rx, 200);
	/* the next retry succeeds, then the duplicate copy follows */
	ck_assert_int_ge(sbxc_recv_wait(rx, 4, 5000), 4);
	struct sbxc_hit *a = sbxc_recv_hit(rx, 2), *b = sbxc_recv_hit(rx, 3);
	ck_assert_str_eq(a->body, b->body);
	sbxc_hit_free(a);
	sbxc_hit_free(b);
	cJSON *v = voucher_state("DMS-ORD-9001");
	ck_assert_str_eq(sbxc_jstr(v, "callback"), "delivered");
	cJSON_Delete(v);
}
END_TEST

/* ---------------- faults and the control API ---------------- */

START_TEST(fault_error_rate_and_429_burst)
{
	ctl_ok("/_sandbox/faults", "{\"error_rate\":1.0,\"error_status\":503}");
	struct sbxc_resp r;
	for (int i = 0; i < 3; i++) {
		sbxc_http("POST", U(API "get_company_info"), NULL, "{}", 5000,
			  &r);
		ck_assert_int_eq(r.status, 503);
		sbxc_resp_free(&r);
	}
	ctl_ok("/_sandbox/faults", "{\"error_rate\":0,\"burst_429\":2,\"retry_"
				   "after\":3}");
	for (int i = 0; i < 2; i++) {
		sbxc_http("POST", U("/api/oauth/actopen/connect"), NULL, "{}",
			  5000, &r);
		ck_assert_int_eq(r.status, 429);
		char *ra = sbxc_resp_header(&r, "Retry-After");
		ck_assert_ptr_nonnull(ra);
		ck_assert_str_eq(ra, "3");
		free(ra);
		sbxc_resp_free(&r);
	}
	sbxc_http("POST", U("/api/oauth/actopen/connect"), NULL, "{}", 5000,
		  &r);
	ck_assert_int_eq(r.status, 200);
	sbxc_resp_free(&r);
	/* control requests are never faulted nor logged */
	ctl_ok("/_sandbox/faults", "{\"error_rate\":1.0}");
	cJSON *log = ctl("/_sandbox/requests?since=0", NULL);
	cJSON *e;
	int n = 0;
	cJSON_ArrayForEach (e, cJSON_GetObjectItem(log, "requests")) {
		ck_assert_ptr_null(strstr(sbxc_jstr(e, "path"), "/_sandbox/"));
		n++;
	}
	cJSON_Delete(log);
	ck_assert_int_eq(n,
			 1 + 3 + 3); /* setup's connect, 3 errors, 3 connects */
	ctl_ok("/_sandbox/faults", NULL);
	sbxc_http("DELETE", U("/_sandbox/faults"), NULL, NULL, 5000, &r);
	sbxc_resp_free(&r);
	sbxc_http("POST", U(API "get_company_info"), NULL, "{}", 5000, &r);
	ck_assert_int_eq(r.status, 200);
	sbxc_resp_free(&r);
}
END_TEST

START_TEST(fault_down_window_refuses_connections)
{
	ctl_ok("/_sandbox/faults", "{\"down_for_ms\":800}");
	sbxc_sleep_ms(150);
	struct sbxc_resp r;
	sbxc_http("POST", U(API "get_company_info"), NULL, "{}", 2000, &r);
	ck_assert_int_eq(r.status, 0);
	ck_assert_int_eq(r.curl_code,
			 7); /* CURLE_COULDNT_CONNECT: really refused */
	sbxc_resp_free(&r);
	long waited = 0;
	do {
		sbxc_sleep_ms(50);
		waited += 50;
		sbxc_http("POST", U("/api/oauth/actopen/connect"), NULL, "{}",
			  2000, &r);
		long st = r.status;
		sbxc_resp_free(&r);
		if (st == 200)
			break;
	} while (waited < 3000);
	ck_assert_int_ge(waited, 500);
	ck_assert_int_lt(waited, 3000); /* back on the same port */
}
END_TEST

START_TEST(fault_latency_timeout_and_drop)
{
	ctl_ok("/_sandbox/faults", "{\"latency_ms\":300}");
	struct sbxc_resp r;
	sbxc_http("POST", U("/api/oauth/actopen/connect"), NULL, "{}", 5000,
		  &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_double_ge(r.seconds, 0.29);
	sbxc_resp_free(&r);
	ctl_ok("/_sandbox/faults", "{\"latency_ms\":0,\"timeout_ms\":400}");
	sbxc_http("POST", U("/api/oauth/actopen/connect"), NULL, "{}", 5000,
		  &r);
	ck_assert_int_eq(r.status, 0);
	ck_assert_double_ge(r.seconds, 0.39);
	sbxc_resp_free(&r);
	ctl_ok("/_sandbox/faults", "{\"timeout_ms\":0,\"drop_rate\":1}");
	sbxc_http("POST", U("/api/oauth/actopen/connect"), NULL, "{}", 5000,
		  &r);
	ck_assert_int_eq(r.status, 0);
	ck_assert_int_eq(r.curl_code, 52); /* CURLE_GOT_NOTHING */
	sbxc_resp_free(&r);
}
END_TEST

START_TEST(reset_and_seed)
{
	cJSON *cb = save_and_wait(
		SALE("DMS-ORD-9901", "SP001", "KHO_HN", "4", ), NULL);
	cJSON_Delete(cb);
	ck_assert_double_eq(stock_of("SP001", "KHO_HN"), 116);
	ctl_ok("/_sandbox/reset", "{}");
	do_connect(); /* tokens are state too */
	ck_assert_double_eq(stock_of("SP001", "KHO_HN"), 120);
	ctl_ok("/_sandbox/seed", "{\"opening_stock\":[{\"inventory_item_code\":"
				 "\"SP002\","
				 "\"stock_code\":\"KHO_DN\",\"quantity\":9}]}");
	do_connect();
	ck_assert_double_eq(stock_of("SP002", "KHO_DN"), 9);
	ck_assert_double_eq(stock_of("SP001", "KHO_HN"), 120);
}
END_TEST

static Suite *misa_suite(void)
{
	Suite *s = suite_create("misa");
	struct {
		const char *name;
		const TTest *t;
	} tests[] = {
		{ "auth", connect_returns_string_data_with_vn_expiry },
		{ "auth", connect_errors },
		{ "auth", token_checks_and_forced_expiry },
		{ "read", paging_caps_take_at_100 },
		{ "read", dictionary_types_follow_the_read_numbering },
		{ "read", last_sync_time_returns_only_changes },
		{ "save", save_posts_signed_callback },
		{ "save", same_org_refid_while_pending_updates },
		{ "save", resend_after_generation_is_created_voucher },
		{ "save", unknown_codes_fail_the_voucher },
		{ "post", posting_moves_stock_and_debt },
		{ "post", negative_stock_fails_posting },
		{ "post", resend_posts_a_voucher_whose_posting_failed },
		{ "save", duplicate_number_is_refused },
		{ "save", delete_pending_and_absent },
		{ "hook", undelivered_callbacks_are_listed },
		{ "hook", webhook_retries_and_duplicates },
		{ "fault", fault_error_rate_and_429_burst },
		{ "fault", fault_down_window_refuses_connections },
		{ "fault", fault_latency_timeout_and_drop },
		{ "ctl", reset_and_seed },
	};
	for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
		TCase *tc = tcase_create(tests[i].name);
		tcase_add_checked_fixture(tc, setup, teardown);
		tcase_set_timeout(tc, 30);
		tcase_add_test(tc, tests[i].t);
		suite_add_tcase(s, tc);
	}
	return s;
}

int main(void)
{
	return sbxc_run_suite(misa_suite());
}

/* test_haravan.c - contract tests of the Haravan emulator through real HTTP
 * against a running luong-sandbox (seed: sandbox/seed/haravan.json). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sbx_client.h"

#define FULL "hrv_pat_anphat_full_7f3c9a41d2e8"
#define READONLY "hrv_pat_anphat_readonly_2b81c6f0"
#define LOC_HN 1000001
#define LOC_HCM 1000002
#define SECRET "test-secret-hrv"

static struct sbxc sb;
static struct sbxc_recv *rx;

static const char *U(const char *path)
{
	return sbxc_url(&sb, "haravan", path);
}

/* One API call with a token (NULL = none); r must be freed. */
static void api(struct sbxc_resp *r, const char *method, const char *path,
		const char *token, const char *body)
{
	char auth[160];
	snprintf(auth, sizeof auth, "Authorization: Bearer %s",
		 token ? token : "");
	const char *const h[] = { auth, NULL };
	sbxc_http(method, U(path), token ? h : NULL, body, 10000, r);
	ck_assert_msg(r->status != 0, "no answer from %s", path);
}

/* Full-token call expecting `status`; returns the JSON (caller frees). */
static cJSON *call(const char *method, const char *path, const char *body,
		   long status)
{
	struct sbxc_resp r;
	api(&r, method, path, FULL, body);
	ck_assert_msg(r.status == status, "%s %s: status %ld, want %ld: %s",
		      method, path, r.status, status, r.body);
	cJSON *j = r.json;
	r.json = NULL;
	sbxc_resp_free(&r);
	ck_assert_ptr_nonnull(j);
	return j;
}

static cJSON *act(const char *name, const char *body)
{
	return sbxc_act(&sb, "haravan", name, body);
}

static void setup(void)
{
	rx = sbxc_start_hooked(&sb, "haravan", SECRET);
}

static void teardown(void)
{
	sbxc_stop_hooked(&sb, rx);
}

/* qty field of the inventory row (location, variant of sku). */
static double stock(double loc, double variant, const char *field)
{
	char path[160];
	snprintf(path, sizeof path,
		 "/com/"
		 "inventory_locations.json?location_ids=%.0f&variant_ids=%.0f",
		 loc, variant);
	cJSON *j = call("GET", path, NULL, 200);
	cJSON *rows = sbxc_jget(j, "inventory_locations");
	ck_assert_int_eq(cJSON_GetArraySize(rows), 1);
	double v = sbxc_jnum(cJSON_GetArrayItem(rows, 0), field);
	cJSON_Delete(j);
	return v;
}

static double variant_of(const char *sku)
{
	cJSON *j = call("GET", "/com/products.json", NULL, 200);
	cJSON *p;
	double id = -1;
	cJSON_ArrayForEach (p, sbxc_jget(j, "products")) {
		cJSON *v;
		cJSON_ArrayForEach (v, sbxc_jget(p, "variants")) {
			if (sbxc_jstr(v, "sku") &&
			    strcmp(sbxc_jstr(v, "sku"), sku) == 0)
				id = sbxc_jnum(v, "id");
		}
	}
	cJSON_Delete(j);
	ck_assert_msg(id > 0, "no variant with sku %s", sku);
	return id;
}

static void assert_422(const cJSON *j, const char *field)
{
	cJSON *errs = sbxc_jget(j, "errors");
	ck_assert_msg(cJSON_IsObject(errs), "errors is not an object");
	cJSON *f = sbxc_jget(errs, field);
	ck_assert_msg(cJSON_IsArray(f) &&
			      cJSON_IsString(cJSON_GetArrayItem(f, 0)),
		      "errors.%s is not an array of messages", field);
}

/* ---------------- auth, scopes, paging ---------------- */

START_TEST(auth_and_scopes)
{
	struct sbxc_resp r;
	api(&r, "GET", "/com/orders.json", NULL, NULL);
	ck_assert_int_eq(r.status, 401);
	sbxc_resp_free(&r);
	api(&r, "GET", "/com/orders.json", "not-a-token", NULL);
	ck_assert_int_eq(r.status, 401);
	sbxc_resp_free(&r);
	/* the read-only app may read orders but not products: 403 with {} */
	api(&r, "GET", "/com/orders.json", READONLY, NULL);
	ck_assert_int_eq(r.status, 200);
	sbxc_resp_free(&r);
	api(&r, "GET", "/com/products.json", READONLY, NULL);
	ck_assert_int_eq(r.status, 403);
	ck_assert_str_eq(r.body, "{}");
	sbxc_resp_free(&r);
	api(&r, "POST", "/com/orders/1/cancel.json", READONLY,
	    "{\"reason\":\"other\"}");
	ck_assert_int_eq(r.status, 403);
	sbxc_resp_free(&r);
	/* legacy header works as well */
	const char *const h[] = { "haravan-access-token: " FULL, NULL };
	sbxc_http("GET", U("/com/locations.json"), h, NULL, 5000, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(cJSON_GetArraySize(sbxc_jget(r.json, "locations")), 4);
	sbxc_resp_free(&r);
}
END_TEST

START_TEST(paging_limits_and_filters)
{
	for (int i = 0; i < 52; i++)
		cJSON_Delete(act("create_order", "{\"line_items\":[{\"sku\":"
						 "\"SP003\",\"quantity\":1}]"
						 "}"));
	cJSON *c = call("GET", "/com/orders/count.json?status=any", NULL, 200);
	ck_assert_int_eq((int)sbxc_jnum(c, "count"), 54); /* 2 seeded */
	cJSON_Delete(c);
	/* limit above 50 is capped at 50 for orders */
	cJSON *p1 =
		call("GET", "/com/orders.json?status=any&limit=100", NULL, 200);
	ck_assert_int_eq(cJSON_GetArraySize(sbxc_jget(p1, "orders")), 50);
	cJSON *p2 = call("GET", "/com/orders.json?status=any&limit=50&page=2",
			 NULL, 200);
	ck_assert_int_eq(cJSON_GetArraySize(sbxc_jget(p2, "orders")), 4);
	/* pages do not overlap and ids ascend */
	double last1 =
		sbxc_jnum(cJSON_GetArrayItem(sbxc_jget(p1, "orders"), 49), "i"
									   "d");
	double first2 =
		sbxc_jnum(cJSON_GetArrayItem(sbxc_jget(p2, "orders"), 0), "id");
	ck_assert(first2 > last1);
	char path[128];
	snprintf(path, sizeof path, "/com/orders.json?status=any&since_id=%.0f",
		 last1);
	cJSON *s = call("GET", path, NULL, 200);
	ck_assert_int_eq(cJSON_GetArraySize(sbxc_jget(s, "orders")), 4);
	cJSON_Delete(s);
	cJSON_Delete(p1);
	cJSON_Delete(p2);
	/* financial and fulfillment filters: the seeded order #1002 is paid, shipped */
	s = call("GET",
		 "/com/"
		 "orders.json?status=any&financial_status=paid&fulfillment_"
		 "status=shipped",
		 NULL, 200);
	ck_assert_int_eq(cJSON_GetArraySize(sbxc_jget(s, "orders")), 1);
	ck_assert_str_eq(
		sbxc_jstr(cJSON_GetArrayItem(sbxc_jget(s, "orders"), 0), "nam"
									 "e"),
		"#1002");
	cJSON_Delete(s);
	/* updated_at_min in the future matches nothing */
	s = call("GET",
		 "/com/"
		 "orders.json?status=any&updated_at_min=2999-01-01T00:00:00Z",
		 NULL, 200);
	ck_assert_int_eq(cJSON_GetArraySize(sbxc_jget(s, "orders")), 0);
	cJSON_Delete(s);
	/* inventory_locations: filters and the 50-id cap */
	snprintf(path, sizeof path,
		 "/com/inventory_locations.json?location_ids=%d", LOC_HN);
	s = call("GET", path, NULL, 200);
	ck_assert_int_eq(cJSON_GetArraySize(sbxc_jget(s, "inventory_"
							 "locations")),
			 6);
	cJSON_Delete(s);
	char many[600] = "/com/inventory_locations.json?variant_ids=1";
	for (int i = 2; i <= 51; i++)
		snprintf(many + strlen(many), sizeof many - strlen(many), ",%d",
			 i);
	s = call("GET", many, NULL, 422);
	assert_422(s, "variant_ids");
	cJSON_Delete(s);
}
END_TEST

START_TEST(validation_errors_are_422)
{
	cJSON *j = call("POST", "/com/orders.json",
			"{\"order\":{\"line_items\":[]}}", 422);
	assert_422(j, "line_items");
	cJSON_Delete(j);
	j = call("POST", "/com/orders.json",
		 "{\"order\":{\"line_items\":[{\"variant_id\":42,\"quantity\":"
		 "1}]}}",
		 422);
	assert_422(j, "line_items");
	cJSON_Delete(j);
	j = call("POST", "/com/customers.json",
		 "{\"customer\":{\"email\":\"mai.nguyen@gmail.com\"}}", 422);
	assert_422(j, "email");
	cJSON_Delete(j);
	j = call("POST", "/com/products.json", "{\"product\":{\"title\":\"\"}}",
		 422);
	assert_422(j, "title");
	cJSON_Delete(j);
	/* a missing root object is a 400 */
	j = call("POST", "/com/orders.json", "{\"oops\":1}", 400);
	cJSON_Delete(j);
	j = call("GET", "/com/orders/999.json", NULL, 404);
	cJSON_Delete(j);
	/* SP004 is "deny" and has 0 in Hà Nội */
	char body[200];
	snprintf(body, sizeof body,
		 "{\"order\":{\"location_id\":%d,\"line_items\":"
		 "[{\"variant_id\":%.0f,\"quantity\":1}]}}",
		 LOC_HN, variant_of("SP004"));
	j = call("POST", "/com/orders.json", body, 422);
	assert_422(j, "line_items");
	cJSON_Delete(j);
}
END_TEST

/* ---------------- orders ---------------- */

static cJSON *new_order(double variant, int qty, const char *extra)
{
	char body[512];
	snprintf(body, sizeof body,
		 "{\"order\":{\"email\":\"khach.moi@example.vn\",\"location_"
		 "id\":%d,"
		 "\"line_items\":[{\"variant_id\":%.0f,\"quantity\":%d}]%s}}",
		 LOC_HN, variant, qty, extra ? extra : "");
	cJSON *j = call("POST", "/com/orders.json", body, 201);
	cJSON *o = cJSON_DetachItemFromObject(j, "order");
	cJSON_Delete(j);
	return o;
}

START_TEST(order_lifecycle_and_states)
{
	double v = variant_of("SP001");
	double onhand = stock(LOC_HN, v, "qty_onhand");
	double committed =
		stock(LOC_HN, v, "qty_commited"); /* seeded #1001 holds 2 */
	double avail = stock(LOC_HN, v, "qty_available");
	cJSON *o = new_order(v, 4, NULL);
	double id = sbxc_jnum(o, "id");
	char path[128];
	ck_assert_str_eq(sbxc_jstr(o, "financial_status"), "pending");
	ck_assert(cJSON_IsNull(sbxc_jget(o, "fulfillment_status")));
	ck_assert_str_eq(sbxc_jstr(o, "confirmed_status"), "unconfirmed");
	ck_assert_int_eq((int)sbxc_jnum(o, "total_price"), 4 * 96000);
	cJSON_Delete(o);
	/* created: reserved, not yet shipped */
	ck_assert_int_eq((int)stock(LOC_HN, v, "qty_commited"),
			 (int)committed + 4);
	ck_assert_int_eq((int)stock(LOC_HN, v, "qty_onhand"), (int)onhand);
	ck_assert_int_eq((int)stock(LOC_HN, v, "qty_available"),
			 (int)avail - 4);

	snprintf(path, sizeof path, "/com/orders/%.0f/confirm.json", id);
	cJSON_Delete(call("POST", path, "{}", 200));
	cJSON_Delete(call("POST", path, "{}", 422)); /* twice */

	/* partial payment, then the rest */
	snprintf(path, sizeof path, "/com/orders/%.0f/transactions.json", id);
	o = call("POST", path,
		 "{\"transaction\":{\"kind\":\"capture\",\"amount\":100000}}",
		 201);
	cJSON_Delete(o);
	snprintf(path, sizeof path, "/com/orders/%.0f.json", id);
	o = call("GET", path, NULL, 200);
	ck_assert_str_eq(sbxc_jstr(sbxc_jget(o, "order"), "financial_status"),
			 "partially_paid");
	cJSON_Delete(o);
	snprintf(path, sizeof path, "/com/orders/%.0f/transactions.json", id);
	cJSON_Delete(call("POST", path,
			  "{\"transaction\":{\"kind\":\"capture\"}}", 201));
	cJSON_Delete(call("POST", path,
			  "{\"transaction\":{\"kind\":\"capture\",\"amount\":1}"
			  "}",
			  422));
	o = call("GET", path, NULL, 200);
	ck_assert_int_eq(cJSON_GetArraySize(sbxc_jget(o, "transactions")), 2);
	cJSON_Delete(o);

	/* ship half, then the rest */
	snprintf(path, sizeof path, "/com/orders/%.0f.json", id);
	o = call("GET", path, NULL, 200);
	double line = sbxc_jnum(
		cJSON_GetArrayItem(sbxc_jget(sbxc_jget(o, "order"), "line_"
								    "items"),
				   0),
		"id");
	ck_assert_str_eq(sbxc_jstr(sbxc_jget(o, "order"), "financial_status"),
			 "paid");
	cJSON_Delete(o);
	char body[200];
	snprintf(body, sizeof body,
		 "{\"fulfillment\":{\"line_items\":[{\"id\":%.0f,\"quantity\":"
		 "1}]}}",
		 line);
	snprintf(path, sizeof path, "/com/orders/%.0f/fulfillments.json", id);
	cJSON_Delete(call("POST", path, body, 201));
	snprintf(path, sizeof path, "/com/orders/%.0f.json", id);
	o = call("GET", path, NULL, 200);
	ck_assert_str_eq(sbxc_jstr(sbxc_jget(o, "order"), "fulfillment_status"),
			 "partial");
	cJSON_Delete(o);
	snprintf(path, sizeof path, "/com/orders/%.0f/fulfillments.json", id);
	cJSON_Delete(call("POST", path,
			  "{\"fulfillment\":{\"tracking_number\":\"GHN123\"}}",
			  201));
	cJSON_Delete(call("POST", path, "{\"fulfillment\":{}}",
			  422)); /* nothing left */
	ck_assert_int_eq((int)stock(LOC_HN, v, "qty_onhand"), (int)onhand - 4);
	ck_assert_int_eq((int)stock(LOC_HN, v, "qty_commited"), (int)committed);
	snprintf(path, sizeof path, "/com/orders/%.0f.json", id);
	o = call("GET", path, NULL, 200);
	ck_assert_str_eq(sbxc_jstr(sbxc_jget(o, "order"), "fulfillment_status"),
			 "fulfilled");
	ck_assert_str_eq(
		sbxc_jstr(cJSON_GetArrayItem(sbxc_jget(sbxc_jget(o, "order"),
						       "line_items"),
					     0),
			  "fulfillment_status"),
		"fulfilled");
	cJSON_Delete(o);

	/* close hides it from the default (open) list; open brings it back */
	snprintf(path, sizeof path, "/com/orders/%.0f/close.json", id);
	cJSON_Delete(call("POST", path, "{}", 200));
	cJSON_Delete(call("POST", path, "{}", 422));
	o = call("GET", "/com/orders/count.json", NULL, 200);
	ck_assert_int_eq((int)sbxc_jnum(o, "count"),
			 2); /* the two seeded orders stay open */
	cJSON_Delete(o);
	o = call("GET", "/com/orders/count.json?status=closed", NULL, 200);
	ck_assert_int_eq((int)sbxc_jnum(o, "count"), 1);
	cJSON_Delete(o);
	snprintf(path, sizeof path, "/com/orders/%.0f/open.json", id);
	cJSON_Delete(call("POST", path, "{}", 200));
	o = call("GET", "/com/orders/count.json", NULL, 200);
	ck_assert_int_eq((int)sbxc_jnum(o, "count"), 3);
	cJSON_Delete(o);
	/* line items cannot change after creation; the note can */
	snprintf(path, sizeof path, "/com/orders/%.0f.json", id);
	o = call("PUT", path, "{\"order\":{\"line_items\":[]}}", 422);
	assert_422(o, "line_items");
	cJSON_Delete(o);
	o = call("PUT", path, "{\"order\":{\"note\":\"Gọi trước khi giao\"}}",
		 200);
	ck_assert_str_eq(sbxc_jstr(sbxc_jget(o, "order"), "note"), "Gọi trước "
								   "khi giao");
	cJSON_Delete(o);
}
END_TEST

START_TEST(discounts_order_and_line_level)
{
	double v = variant_of("SP002");
	cJSON *o = new_order(v, 3,
			     ",\"discount_codes\":[{\"code\":\"TET10\","
			     "\"amount\":10,"
			     "\"type\":\"percentage\"}]");
	cJSON_Delete(o);
	char body[300];
	snprintf(body, sizeof body,
		 "{\"order\":{\"line_items\":[{\"variant_id\":%.0f,"
		 "\"quantity\":2,"
		 "\"total_discount\":30000}],\"discount_codes\":[{\"code\":"
		 "\"GIAM20K\",\"amount\":20000}]}}",
		 v);
	cJSON *j = call("POST", "/com/orders.json", body, 201);
	o = sbxc_jget(j, "order");
	ck_assert_int_eq((int)sbxc_jnum(o, "total_line_items_price"), 384000);
	ck_assert_int_eq((int)sbxc_jnum(o, "total_discounts"), 50000);
	ck_assert_int_eq((int)sbxc_jnum(o, "total_price"), 334000);
	ck_assert_int_eq((int)sbxc_jnum(cJSON_GetArrayItem(sbxc_jget(o, "line_"
									"item"
									"s"),
							   0),
					"total_discount"),
			 30000);
	ck_assert_int_eq((int)sbxc_jnum(cJSON_GetArrayItem(sbxc_jget(o, "discou"
									"nt_"
									"code"
									"s"),
							   0),
					"amount"),
			 20000);
	cJSON_Delete(j);
}
END_TEST

START_TEST(cancel_paid_and_unpaid)
{
	double v = variant_of("SP005");
	double avail = stock(LOC_HN, v, "qty_available");
	cJSON *o = new_order(v, 2, ",\"financial_status\":\"paid\"");
	double paid_id = sbxc_jnum(o, "id");
	ck_assert_str_eq(sbxc_jstr(o, "financial_status"), "paid");
	cJSON_Delete(o);
	o = new_order(v, 1, NULL);
	double unpaid_id = sbxc_jnum(o, "id");
	cJSON_Delete(o);
	ck_assert_int_eq((int)stock(LOC_HN, v, "qty_available"),
			 (int)avail - 3);
	char path[128];
	snprintf(path, sizeof path, "/com/orders/%.0f/cancel.json", paid_id);
	o = call("POST", path, "{}", 422);
	assert_422(o, "reason");
	cJSON_Delete(o);
	o = call("POST", path, "{\"reason\":\"bored\"}", 422);
	assert_422(o, "reason");
	cJSON_Delete(o);
	o = call("POST", path,
		 "{\"reason\":\"customer\",\"restock\":true,\"refund\":true}",
		 200);
	ck_assert_str_eq(sbxc_jstr(sbxc_jget(o, "order"), "financial_status"),
			 "refunded");
	ck_assert_str_eq(sbxc_jstr(sbxc_jget(o, "order"), "cancelled_status"),
			 "cancelled");
	ck_assert_str_eq(sbxc_jstr(sbxc_jget(o, "order"), "cancel_reason"),
			 "customer");
	ck_assert_ptr_nonnull(sbxc_jstr(sbxc_jget(o, "order"), "cancelled_at"));
	cJSON_Delete(o);
	cJSON_Delete(call("POST", path, "{\"reason\":\"customer\"}",
			  422)); /* twice */
	snprintf(path, sizeof path, "/com/orders/%.0f/cancel.json", unpaid_id);
	o = call("POST", path, "{\"reason\":\"inventory\"}", 200);
	ck_assert_str_eq(sbxc_jstr(sbxc_jget(o, "order"), "financial_status"),
			 "voided");
	cJSON_Delete(o);
	/* reservations released */
	ck_assert_int_eq((int)stock(LOC_HN, v, "qty_available"), (int)avail);
	o = call("GET", "/com/orders/count.json?status=cancelled", NULL, 200);
	ck_assert_int_eq((int)sbxc_jnum(o, "count"), 2);
	cJSON_Delete(o);
}
END_TEST

START_TEST(refund_restocks_inventory)
{
	double v = variant_of("SP001");
	double onhand = stock(LOC_HN, v, "qty_onhand");
	cJSON *o = new_order(v, 3,
			     ",\"financial_status\":\"paid\",\"fulfillment_"
			     "status\":\"fulfilled\"");
	double id = sbxc_jnum(o, "id");
	double line = sbxc_jnum(
		cJSON_GetArrayItem(sbxc_jget(o, "line_items"), 0), "id");
	cJSON_Delete(o);
	ck_assert_int_eq((int)stock(LOC_HN, v, "qty_onhand"), (int)onhand - 3);
	char path[128];
	char body[300];
	snprintf(path, sizeof path, "/com/orders/%.0f/refunds.json", id);
	snprintf(body, sizeof body,
		 "{\"refund\":{\"restock\":true,\"refund_line_items\":"
		 "[{\"line_item_id\":%.0f,\"quantity\":4}]}}",
		 line);
	o = call("POST", path, body, 422);
	assert_422(o, "refund_line_items");
	cJSON_Delete(o);
	snprintf(body, sizeof body,
		 "{\"refund\":{\"restock\":true,\"note\":\"Khách trả 1 thùng\","
		 "\"refund_line_items\":[{\"line_item_id\":%.0f,\"quantity\":1}"
		 "],"
		 "\"transactions\":[{\"amount\":96000,\"kind\":\"refund\"}]}}",
		 line);
	o = call("POST", path, body, 201);
	ck_assert_int_eq(cJSON_GetArraySize(sbxc_jget(sbxc_jget(o, "refund"),
						      "refund_line_items")),
			 1);
	cJSON_Delete(o);
	ck_assert_int_eq((int)stock(LOC_HN, v, "qty_onhand"), (int)onhand - 2);
	snprintf(path, sizeof path, "/com/orders/%.0f.json", id);
	o = call("GET", path, NULL, 200);
	ck_assert_str_eq(sbxc_jstr(sbxc_jget(o, "order"), "financial_status"),
			 "partially_refunded");
	cJSON_Delete(o);
	/* refund more money than was paid */
	snprintf(path, sizeof path, "/com/orders/%.0f/refunds.json", id);
	o = call("POST", path,
		 "{\"refund\":{\"transactions\":[{\"amount\":99999999}]}}",
		 422);
	assert_422(o, "transactions");
	cJSON_Delete(o);
	/* the act returns everything left, restocked and refunded */
	char act_body[64];
	snprintf(act_body, sizeof act_body, "{\"id\":%.0f}", id);
	o = act("refund_order", act_body);
	ck_assert_str_eq(sbxc_jstr(sbxc_jget(o, "order"), "financial_status"),
			 "refunded");
	ck_assert_str_eq(sbxc_jstr(sbxc_jget(o, "order"), "fulfillment_status"),
			 "restocked");
	cJSON_Delete(o);
	ck_assert_int_eq((int)stock(LOC_HN, v, "qty_onhand"), (int)onhand);
	o = call("GET", path, NULL, 200);
	ck_assert_int_eq(cJSON_GetArraySize(sbxc_jget(o, "refunds")), 2);
	cJSON_Delete(o);
}
END_TEST

START_TEST(adjustorset_adjust_and_set)
{
	double v = variant_of("SP003");
	cJSON *j = call("GET", "/com/products.json", NULL, 200);
	double pid = -1;
	cJSON *p;
	cJSON_ArrayForEach (p, sbxc_jget(j, "products")) {
		if (sbxc_jnum(cJSON_GetArrayItem(sbxc_jget(p, "variants"), 0),
			      "id") == v)
			pid = sbxc_jnum(p, "id");
	}
	cJSON_Delete(j);
	double before = stock(LOC_HCM, v, "qty_onhand");
	char body[400];
	snprintf(body, sizeof body,
		 "{\"inventory\":{\"location_id\":%d,\"type\":\"adjust\","
		 "\"reason\":\"productionofgoods\",\"line_items\":[{\"product_"
		 "id\":%.0f,"
		 "\"product_variant_id\":%.0f,\"quantity\":5}]}}",
		 LOC_HCM, pid, v);
	cJSON_Delete(
		call("POST", "/com/inventories/adjustorset.json", body, 201));
	ck_assert_int_eq((int)stock(LOC_HCM, v, "qty_onhand"), (int)before + 5);
	snprintf(body, sizeof body,
		 "{\"inventory\":{\"location_id\":%d,\"type\":\"set\","
		 "\"reason\":\"shrinkage\",\"line_items\":[{\"product_id\":%."
		 "0f,"
		 "\"product_variant_id\":%.0f,\"quantity\":7}]}}",
		 LOC_HCM, pid, v);
	j = call("POST", "/com/inventories/adjustorset.json", body, 201);
	ck_assert_int_eq((int)sbxc_jnum(sbxc_jget(j, "adjustment"), "total_"
								    "quantity"),
			 7 - ((int)before + 5));
	cJSON_Delete(j);
	ck_assert_int_eq((int)stock(LOC_HCM, v, "qty_onhand"), 7);
	ck_assert_int_eq((int)stock(LOC_HCM, v, "qty_available"), 7);
	/* invalid reason, unknown location, unknown variant: nothing changes */
	snprintf(body, sizeof body,
		 "{\"inventory\":{\"location_id\":%d,\"reason\":\"lost\","
		 "\"line_items\":[{\"product_variant_id\":%.0f,\"quantity\":1}]"
		 "}}",
		 LOC_HCM, v);
	j = call("POST", "/com/inventories/adjustorset.json", body, 422);
	assert_422(j, "reason");
	cJSON_Delete(j);
	snprintf(body, sizeof body,
		 "{\"inventory\":{\"location_id\":1,\"line_items\":"
		 "[{\"product_variant_id\":%.0f,\"quantity\":1}]}}",
		 v);
	j = call("POST", "/com/inventories/adjustorset.json", body, 422);
	assert_422(j, "location_id");
	cJSON_Delete(j);
	snprintf(body, sizeof body,
		 "{\"inventory\":{\"location_id\":%d,\"line_items\":"
		 "[{\"product_variant_id\":%.0f,\"quantity\":1},{\"product_"
		 "variant_id\":5,"
		 "\"quantity\":1}]}}",
		 LOC_HCM, v);
	j = call("POST", "/com/inventories/adjustorset.json", body, 422);
	cJSON_Delete(j);
	ck_assert_int_eq((int)stock(LOC_HCM, v, "qty_onhand"), 7);
	j = call("GET", "/com/inventories/adjustments/count.json", NULL, 200);
	ck_assert_int_eq((int)sbxc_jnum(j, "count"), 2);
	cJSON_Delete(j);
}
END_TEST

/* ---------------- rate limit ---------------- */

static char *limit_header(struct sbxc_resp *r)
{
	return sbxc_resp_header(r, "X-Haravan-Api-Call-Limit");
}

START_TEST(leaky_bucket_header_and_429)
{
	struct sbxc_resp r;
	api(&r, "GET", "/com/shop.json", FULL, NULL);
	char *h = limit_header(&r);
	ck_assert_ptr_nonnull(h);
	ck_assert_str_eq(h, "1/80"); /* real defaults */
	free(h);
	sbxc_resp_free(&r);
	cJSON_Delete(act("set_rate_limit", "{\"capacity\":5,\"leak_per_sec\":"
					   "2}"));
	for (int i = 1; i <= 5; i++) {
		char want[16];
		api(&r, "GET", "/com/shop.json", FULL, NULL);
		ck_assert_int_eq(r.status, 200);
		h = limit_header(&r);
		snprintf(want, sizeof want, "%d/5", i);
		ck_assert_str_eq(h, want);
		free(h);
		sbxc_resp_free(&r);
	}
	api(&r, "GET", "/com/shop.json", FULL, NULL);
	ck_assert_int_eq(r.status, 429);
	h = limit_header(&r);
	ck_assert_str_eq(h, "5/5");
	free(h);
	h = sbxc_resp_header(&r, "Retry-After");
	ck_assert_ptr_nonnull(h);
	double wait = atof(h);
	ck_assert(wait > 0 &&
		  wait <= 0.5 + 1e-9); /* one call drains in 1/2 s */
	free(h);
	sbxc_resp_free(&r);
	/* the bucket is per token: the other app is not limited */
	api(&r, "GET", "/com/shop.json", READONLY, NULL);
	ck_assert_int_eq(r.status, 200);
	sbxc_resp_free(&r);
	sbxc_sleep_ms((long)(wait * 1000) + 100);
	api(&r, "GET", "/com/shop.json", FULL, NULL);
	ck_assert_int_eq(r.status, 200);
	sbxc_resp_free(&r);
}
END_TEST

/* ---------------- webhooks ---------------- */

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

/* Finds the first hit with topic at or after index *from; verifies its
 * signature and org header; returns the parsed body. */
static cJSON *expect_topic(const char *topic, int *from)
{
	for (int tries = 0; tries < 100; tries++) {
		int n = sbxc_recv_count(rx);
		for (int i = *from; i < n; i++) {
			struct sbxc_hit *h = sbxc_recv_hit(rx, i);
			const char *t = sbxc_jstr(h->headers, "x-haravan-"
							      "topic");
			if (t && strcmp(t, topic) == 0) {
				char *sig = b64_hmac(SECRET, h->body);
				ck_assert_str_eq(sbxc_jstr(h->headers, "x-"
								       "haravan"
								       "-hmacsh"
								       "a256"),
						 sig);
				char *forged =
					b64_hmac("wrong-secret", h->body);
				ck_assert_str_ne(sbxc_jstr(h->headers, "x-"
								       "haravan"
								       "-hmacsh"
								       "a256"),
						 forged);
				ck_assert_str_eq(sbxc_jstr(h->headers, "x-"
								       "haravan"
								       "-org-"
								       "id"),
						 "200000388812");
				free(sig);
				free(forged);
				cJSON *body = cJSON_Parse(h->body);
				sbxc_hit_free(h);
				ck_assert_ptr_nonnull(body);
				*from = i + 1;
				return body;
			}
			sbxc_hit_free(h);
		}
		sbxc_sleep_ms(50);
	}
	ck_abort_msg("no webhook with topic %s", topic);
	return NULL;
}

START_TEST(acts_send_signed_webhooks)
{
	int at = 0;
	cJSON *r = act("create_order", "{\"customer\":{\"email\":\"mai.nguyen@"
				       "gmail.com\"},"
				       "\"line_items\":[{\"sku\":\"SP001\","
				       "\"quantity\":1}]}");
	double id = sbxc_jnum(sbxc_jget(r, "order"), "id");
	ck_assert_int_ge(cJSON_GetArraySize(sbxc_jget(r, "webhooks")), 1);
	cJSON_Delete(r);
	cJSON *b = expect_topic("orders/create", &at);
	ck_assert(sbxc_jnum(b, "id") == id);
	ck_assert_str_eq(sbxc_jstr(b, "financial_status"), "pending");
	/* internal counters never leak into payloads */
	ck_assert_ptr_null(sbxc_jget(
		cJSON_GetArrayItem(sbxc_jget(b, "line_items"), 0), "_fulfille"
								   "d"));
	cJSON_Delete(b);
	char body[64];
	snprintf(body, sizeof body, "{\"id\":%.0f}", id);
	cJSON_Delete(act("pay_order", body));
	b = expect_topic("orders/paid", &at);
	ck_assert_str_eq(sbxc_jstr(b, "financial_status"), "paid");
	cJSON_Delete(b);
	cJSON_Delete(expect_topic("orders/updated", &at));
	cJSON_Delete(act("fulfil_order", body));
	b = expect_topic("orders/fulfilled", &at);
	ck_assert_str_eq(sbxc_jstr(b, "fulfillment_status"), "fulfilled");
	cJSON_Delete(b);
	cJSON_Delete(expect_topic("orders/updated",
				  &at)); /* follows each specific topic */
	cJSON_Delete(act("refund_order", body));
	b = expect_topic("orders/updated", &at);
	ck_assert_str_eq(sbxc_jstr(b, "financial_status"), "refunded");
	cJSON_Delete(b);
	/* unpaid order cancelled */
	r = act("create_order", "{\"line_items\":[{\"sku\":\"SP003\","
				"\"quantity\":2}]}");
	snprintf(body, sizeof body, "{\"id\":%.0f}",
		 sbxc_jnum(sbxc_jget(r, "order"), "id"));
	cJSON_Delete(r);
	r = act("cancel_order", body);
	ck_assert_str_eq(sbxc_jstr(sbxc_jget(r, "order"), "financial_status"),
			 "voided");
	cJSON_Delete(r);
	b = expect_topic("orders/cancelled", &at);
	ck_assert_str_eq(sbxc_jstr(b, "cancel_reason"), "customer");
	cJSON_Delete(b);
	cJSON_Delete(act("create_customer", "{\"first_name\":\"Văn "
					    "Hùng\",\"last_name\":\"Phạm\","
					    "\"email\":\"hung.pham@example."
					    "vn\",\"phone\":\"0904 555 "
					    "666\"}"));
	b = expect_topic("customers/create", &at);
	ck_assert_str_eq(sbxc_jstr(b, "last_name"), "Phạm");
	cJSON_Delete(b);
	cJSON_Delete(act("edit_product", "{\"sku\":\"SP002\",\"title\":\"Trà "
					 "xanh Không Độ 455ml\","
					 "\"price\":195000}"));
	b = expect_topic("products/update", &at);
	ck_assert_str_eq(sbxc_jstr(b, "title"), "Trà xanh Không Độ 455ml");
	ck_assert_int_eq(
		(int)sbxc_jnum(cJSON_GetArrayItem(sbxc_jget(b, "variants"), 0),
			       "price"),
		195000);
	cJSON_Delete(b);
}
END_TEST

START_TEST(webhook_retry_and_duplicate)
{
	sbxc_recv_set_status(rx, 500);
	cJSON_Delete(sbxc_post_json(U("/_sandbox/webhooks"), NULL,
				    "{\"duplicate\":true}"));
	cJSON_Delete(act("create_customer", "{\"email\":\"lan.vo@example."
					    "vn\"}"));
	ck_assert_int_ge(sbxc_recv_wait(rx, 2, 5000), 2);
	sbxc_recv_set_status(rx, 200);
	ck_assert_int_ge(sbxc_recv_wait(rx, 4, 5000), 4);
	int n = sbxc_recv_count(rx);
	struct sbxc_hit *a = sbxc_recv_hit(rx, n - 2);
	struct sbxc_hit *b = sbxc_recv_hit(rx, n - 1);
	ck_assert_str_eq(a->body, b->body);
	ck_assert_str_eq(sbxc_jstr(a->headers, "x-haravan-topic"), "customers/"
								   "create");
	sbxc_hit_free(a);
	sbxc_hit_free(b);
}
END_TEST

START_TEST(state_and_reset)
{
	cJSON_Delete(act("create_order", "{\"line_items\":[{\"sku\":\"SP001\","
					 "\"quantity\":1}]}"));
	cJSON *st = sbxc_get_json(U("/_sandbox/state"));
	ck_assert_ptr_nonnull(st);
	cJSON *orders = sbxc_jget(st, "orders");
	if (!orders)
		orders = sbxc_jget(sbxc_jget(st, "state"), "orders");
	ck_assert_int_eq(cJSON_GetArraySize(orders), 3);
	cJSON_Delete(st);
	cJSON_Delete(sbxc_post_json(U("/_sandbox/reset"), NULL, "{}"));
	cJSON *c = call("GET", "/com/orders/count.json?status=any", NULL, 200);
	ck_assert_int_eq((int)sbxc_jnum(c, "count"), 2);
	cJSON_Delete(c);
}
END_TEST

static Suite *haravan_suite(void)
{
	Suite *s = suite_create("haravan");
	TCase *api_tc = tcase_create("api");
	tcase_add_checked_fixture(api_tc, setup, teardown);
	tcase_set_timeout(api_tc, 20);
	tcase_add_test(api_tc, auth_and_scopes);
	tcase_add_test(api_tc, paging_limits_and_filters);
	tcase_add_test(api_tc, validation_errors_are_422);
	tcase_add_test(api_tc, order_lifecycle_and_states);
	tcase_add_test(api_tc, discounts_order_and_line_level);
	tcase_add_test(api_tc, cancel_paid_and_unpaid);
	tcase_add_test(api_tc, refund_restocks_inventory);
	tcase_add_test(api_tc, adjustorset_adjust_and_set);
	tcase_add_test(api_tc, leaky_bucket_header_and_429);
	suite_add_tcase(s, api_tc);
	TCase *hooks = tcase_create("webhooks");
	tcase_add_checked_fixture(hooks, setup, teardown);
	tcase_set_timeout(hooks, 20);
	tcase_add_test(hooks, acts_send_signed_webhooks);
	tcase_add_test(hooks, webhook_retry_and_duplicate);
	tcase_add_test(hooks, state_and_reset);
	suite_add_tcase(s, hooks);
	return s;
}

int main(void)
{
	return sbxc_run_suite(haravan_suite());
}

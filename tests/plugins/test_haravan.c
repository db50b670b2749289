/*
 * test_haravan.c - the haravan connector alone, with the SDK's test kit
 * (a fake host with canned HTTP answers): signatures checked before
 * anything, topics to events, Haravan's 422 and 429 answers, products
 * found by SKU and stock written only where it differs. No host, no
 * sandbox (hub.challenge, which needs a query string, is tested through
 * the host in tests/integration/test_haravan_flows.c).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <luong/testkit.h>

#define SECRET "hrv-whsec-test"
#define SHOP "200000388812"
#define ORDER                                                                  \
	"{\"id\":1100000101,\"name\":\"#1003\",\"financial_status\":"          \
	"\"paid\",\"line_items\":[{\"sku\":\"SP002\",\"quantity\":2}]}"

static struct lt_kit *k;

static void setup(void)
{
	k = lt_new(luong_plugin_entry());
	lt_config(k, "server", "http://hrv.test");
	lt_config(k, "shop", SHOP);
	lt_config(k, "access_token", "tok");
	lt_config(k, "webhook_secret", SECRET);
	ck_assert_int_eq(lt_init(k), LUONG_OK);
}

static void teardown(void)
{
	lt_free(k);
}

/* Headers of a delivery: topic, shop and the body's signature. */
static void signed_headers(char *out, size_t len, const char *topic,
			   const char *body, const char *shop)
{
	char sig[65];

	lt_sign(SECRET, body, LUONG_SIG_BASE64, sig);
	snprintf(out, len,
		 "X-Haravan-Topic: %s\nX-Haravan-Org-Id: %s\n"
		 "X-Haravan-Hmacsha256: %s",
		 topic, shop, sig);
}

START_TEST(a_forged_webhook_is_refused_and_nothing_is_emitted)
{
	char hdr[300], sig[65];
	unsigned status = 0;

	/* signed with another key */
	lt_sign("not-the-secret", ORDER, LUONG_SIG_BASE64, sig);
	snprintf(hdr, sizeof(hdr),
		 "X-Haravan-Topic: orders/create\nX-Haravan-Hmacsha256: %s",
		 sig);
	ck_assert_int_eq(lt_webhook(k, "/", hdr, ORDER, &status), LUONG_E_AUTH);
	ck_assert_uint_eq(status, 401);
	ck_assert_ptr_nonnull(strstr(lt_reason(k), "X-Haravan-Hmacsha256"));
	/* no signature at all */
	ck_assert_int_eq(lt_webhook(k, "/", "X-Haravan-Topic: orders/create",
				    ORDER, &status),
			 LUONG_E_AUTH);
	/* the right signature of another body */
	signed_headers(hdr, sizeof(hdr), "orders/create", "{}", SHOP);
	ck_assert_int_eq(lt_webhook(k, "/", hdr, ORDER, &status), LUONG_E_AUTH);
	ck_assert_uint_eq(lt_emitted(k), 0);
	ck_assert_uint_eq(lt_http_count(k), 0);
}
END_TEST

START_TEST(a_signed_order_becomes_its_event_by_order_id)
{
	char hdr[300];
	unsigned status = 0;

	signed_headers(hdr, sizeof(hdr), "orders/create", ORDER, SHOP);
	ck_assert_int_eq(lt_webhook(k, "/", hdr, ORDER, &status), LUONG_OK);
	ck_assert_uint_eq(status, 200);
	ck_assert_uint_eq(lt_emitted(k), 1);
	ck_assert_str_eq(lt_emitted_get(k, 0, "event"), "order.created");
	ck_assert_str_eq(lt_emitted_get(k, 0, "id"), "1100000101");
	signed_headers(hdr, sizeof(hdr), "orders/cancelled", ORDER, SHOP);
	ck_assert_int_eq(lt_webhook(k, "/", hdr, ORDER, &status), LUONG_OK);
	ck_assert_str_eq(lt_emitted_get(k, 1, "event"), "order.cancelled");
}
END_TEST

START_TEST(a_webhook_of_another_shop_is_refused)
{
	char hdr[300];
	unsigned status = 0;

	signed_headers(hdr, sizeof(hdr), "orders/create", ORDER, "999");
	ck_assert_int_eq(lt_webhook(k, "/", hdr, ORDER, &status), LUONG_E_AUTH);
	ck_assert_uint_eq(status, 401);
	ck_assert_uint_eq(lt_emitted(k), 0);
}
END_TEST

START_TEST(orders_updated_is_a_return_only_with_a_refund)
{
	static const char plain[] = "{\"id\":7,\"refunds\":[]}";
	static const char refund[] = "{\"id\":7,\"cancelled_status\":"
				     "\"uncancelled\","
				     "\"refunds\":[{\"id\":9}]}";
	static const char cancelled[] = "{\"id\":7,\"cancelled_status\":"
					"\"cancelled\","
					"\"cancelled_at\":\"2025-06-10T02:30:"
					"00Z\",\"refunds\":[{}]}";
	char hdr[300];

	signed_headers(hdr, sizeof(hdr), "orders/updated", plain, SHOP);
	ck_assert_int_eq(lt_webhook(k, "/", hdr, plain, NULL), LUONG_OK);
	ck_assert_uint_eq(lt_emitted(k), 0);
	signed_headers(hdr, sizeof(hdr), "orders/updated", cancelled, SHOP);
	ck_assert_int_eq(lt_webhook(k, "/", hdr, cancelled, NULL), LUONG_OK);
	ck_assert_uint_eq(lt_emitted(k), 0);
	signed_headers(hdr, sizeof(hdr), "orders/updated", refund, SHOP);
	ck_assert_int_eq(lt_webhook(k, "/", hdr, refund, NULL), LUONG_OK);
	ck_assert_uint_eq(lt_emitted(k), 1);
	ck_assert_str_eq(lt_emitted_get(k, 0, "event"), "order.returned");
	ck_assert_str_eq(lt_emitted_get(k, 0, "id"), "7");
}
END_TEST

START_TEST(a_422_fails_with_haravans_own_message)
{
	/* the SKU is known: the update is refused */
	lt_http_answer(k, 200, NULL,
		       "{\"products\":[{\"id\":5,\"variants\":[{\"id\":6,"
		       "\"sku\":\"SP001\"}]}]}");
	lt_http_answer(k, 422, NULL,
		       "{\"errors\":{\"price\":[\"must be greater than or "
		       "equal to 0\"]}}");
	ck_assert_int_eq(lt_action(k, "save_product",
				   "{\"sku\":\"SP001\",\"title\":\"La Vie\","
				   "\"price\":-1}",
				   NULL),
			 LUONG_E_REMOTE);
	ck_assert_ptr_nonnull(strstr(lt_reason(k), "price must be greater than "
						   "or equal"));
	ck_assert_ptr_nonnull(strstr(lt_reason(k), "HTTP 422"));
	ck_assert_str_eq(lt_http_last(k, "method"), "PUT");
	ck_assert_str_eq(lt_http_last(k, "url"), "http://hrv.test/com/products/"
						 "5.json");
}
END_TEST

START_TEST(a_429_is_retried_after_haravans_delay)
{
	lt_http_answer(k, 429,
		       "Retry-After: 2.0\nX-Haravan-Api-Call-Limit: "
		       "80/80",
		       "{\"errors\":\"Exceeded 80 calls\"}");
	ck_assert_int_eq(lt_action(k, "save_product",
				   "{\"sku\":\"SP009\",\"title\":\"x\"}", NULL),
			 LUONG_E_TRANSIENT);
	ck_assert_uint_eq(lt_retry_after(k), 2000);
}
END_TEST

START_TEST(a_new_sku_is_created_once_and_then_updated)
{
	const char *out;

	lt_http_answer(k, 200, NULL, "{\"products\":[]}");
	lt_http_answer(k, 201, NULL,
		       "{\"product\":{\"id\":11,\"variants\":[{\"id\":12,"
		       "\"sku\":\"SP009\"}]}}");
	ck_assert_int_eq(lt_action(k, "save_product",
				   "{\"sku\":\"SP009\",\"title\":\"Trà\","
				   "\"unit\":\"Hộp\",\"price\":45000}",
				   &out),
			 LUONG_OK);
	ck_assert_str_eq(lt_http_last(k, "method"), "POST");
	ck_assert_ptr_nonnull(strstr(lt_http_last(k, "body"), "\"option1\":"
							      "\"Hộp\""));
	ck_assert_ptr_nonnull(strstr(out, "\"product_id\":\"11\""));
	/* remembered: no second read of the products */
	lt_http_answer(k, 200, NULL,
		       "{\"product\":{\"id\":11,\"variants\":[{\"id\":12,"
		       "\"sku\":\"SP009\"}]}}");
	ck_assert_int_eq(lt_action(k, "save_product",
				   "{\"sku\":\"SP009\",\"title\":\"Trà "
				   "xanh\"}",
				   &out),
			 LUONG_OK);
	ck_assert_uint_eq(lt_http_count(k), 3);
	ck_assert_str_eq(lt_http_last(k, "url"), "http://hrv.test/com/products/"
						 "11.json");
	ck_assert_ptr_nonnull(strstr(out, "\"created\":false"));
}
END_TEST

START_TEST(products_are_read_once_for_new_skus_and_again_on_a_retry)
{
	static const char made[] = "{\"product\":{\"id\":21,\"variants\":[{"
				   "\"id\":22,"
				   "\"sku\":\"SP010\"}]}}";
	static const char made2[] = "{\"product\":{\"id\":23,\"variants\":[{"
				    "\"id\":24,"
				    "\"sku\":\"SP011\"}]}}";

	lt_http_answer(k, 200, NULL, "{\"products\":[]}");
	lt_http_answer(k, 201, NULL, made);
	lt_http_answer(k, 201, NULL, made2);
	ck_assert_int_eq(lt_action(k, "save_product",
				   "{\"sku\":\"SP010\",\"title\":\"a\"}", NULL),
			 LUONG_OK);
	ck_assert_int_eq(lt_action(k, "save_product",
				   "{\"sku\":\"SP011\",\"title\":\"b\"}", NULL),
			 LUONG_OK);
	ck_assert_uint_eq(lt_http_count(k), 3);
	/* a retry may follow a creation whose answer was lost: read again */
	lt_attempt(k, 2);
	lt_http_answer(k, 200, NULL,
		       "{\"products\":[{\"id\":25,\"variants\":[{\"id\":"
		       "26,\"sku\":\"SP012\"}]}]}");
	lt_http_answer(k, 200, NULL,
		       "{\"product\":{\"id\":25,\"variants\":[{\"id\":26,"
		       "\"sku\":\"SP012\"}]}}");
	ck_assert_int_eq(lt_action(k, "save_product",
				   "{\"sku\":\"SP012\",\"title\":\"c\"}", NULL),
			 LUONG_OK);
	ck_assert_uint_eq(lt_http_count(k), 5);
	ck_assert_str_eq(lt_http_last(k, "method"), "PUT");
}
END_TEST

START_TEST(stock_is_written_only_where_it_differs_in_one_call)
{
	const char *out;

	lt_http_answer(k, 200, NULL,
		       "{\"products\":[{\"id\":1,\"variants\":[{\"id\":2,"
		       "\"sku\":\"SP001\"}]},{\"id\":3,\"variants\":[{\"id\":"
		       "4,\"sku\":\"SP002\"}]},{\"id\":5,\"variants\":[{"
		       "\"id\":6,\"sku\":\"SP003\"}]}]}");
	lt_http_answer(k, 200, NULL,
		       "{\"inventory_locations\":[{\"variant_id\":2,"
		       "\"qty_onhand\":10},{\"variant_id\":4,\"qty_onhand\":"
		       "7},{\"variant_id\":6,\"qty_onhand\":1}]}");
	lt_http_answer(k, 201, NULL, "{\"adjustment\":{\"id\":77}}");
	ck_assert_int_eq(lt_action(k, "set_stock",
				   "{\"levels\":[{\"sku\":\"SP001\",\"location_"
				   "id\":"
				   "1000001,\"quantity\":10},{\"sku\":"
				   "\"SP002\","
				   "\"location_id\":1000001,\"quantity\":9},{"
				   "\"sku\":"
				   "\"SP003\",\"location_id\":\"1000001\","
				   "\"quantity\":"
				   "0},{\"sku\":\"DV001\",\"location_id\":"
				   "1000001,"
				   "\"quantity\":5}]}",
				   &out),
			 LUONG_OK);
	ck_assert_uint_eq(lt_http_count(k), 3);
	ck_assert_ptr_nonnull(strstr(lt_http_last(k, "url"), "inventories/"
							     "adjustorset."
							     "json"));
	ck_assert_ptr_nonnull(strstr(lt_http_last(k, "body"), "\"type\":"
							      "\"set\""));
	ck_assert_ptr_null(strstr(lt_http_last(k, "body"), "\"product_variant_"
							   "id\":2,"));
	ck_assert_ptr_nonnull(strstr(lt_http_last(k, "body"), "\"product_"
							      "variant_id\":"
							      "4,"));
	ck_assert_ptr_nonnull(strstr(out, "\"written\":2"));
	ck_assert_ptr_nonnull(strstr(out, "\"unchanged\":1"));
	ck_assert_ptr_nonnull(strstr(out, "\"not_in_haravan\":[\"DV001\"]"));
}
END_TEST

START_TEST(the_stock_schedule_ticks_a_new_document_each_time)
{
	ck_assert_int_eq(lt_poll(k, "stock.schedule", NULL), LUONG_OK);
	ck_assert_uint_eq(lt_emitted(k), 1);
	ck_assert_ptr_nonnull(strstr(lt_emitted_get(k, 0, "id"), "ton-kho-"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("plugin_haravan");
	TCase *tc = tcase_create("haravan");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, a_forged_webhook_is_refused_and_nothing_is_emitted);
	tcase_add_test(tc, a_signed_order_becomes_its_event_by_order_id);
	tcase_add_test(tc, a_webhook_of_another_shop_is_refused);
	tcase_add_test(tc, orders_updated_is_a_return_only_with_a_refund);
	tcase_add_test(tc, a_422_fails_with_haravans_own_message);
	tcase_add_test(tc, a_429_is_retried_after_haravans_delay);
	tcase_add_test(tc, a_new_sku_is_created_once_and_then_updated);
	tcase_add_test(
		tc, products_are_read_once_for_new_skus_and_again_on_a_retry);
	tcase_add_test(tc, stock_is_written_only_where_it_differs_in_one_call);
	tcase_add_test(tc, the_stock_schedule_ticks_a_new_document_each_time);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}

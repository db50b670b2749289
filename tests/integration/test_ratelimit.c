/*
 * test_ratelimit.c - a connection's rate limit as a shop owner meets it:
 * the real `luong` host, the haravan plugin and luong-sandbox's Haravan
 * emulator, whose leaky bucket answers 429 when overfilled. Orders made
 * on the shop each get one call back (mark_order), so a burst of orders
 * is a backlog of calls: it goes out at the allowed rate without one
 * 429; a 429 with Retry-After holds the whole connection; a wrong
 * setting is named.
 */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define BUILD_DIR PLUGIN_DIR "/../.."
#define FLOW "orders-marked"
#define ORDERS "/com/orders/"
#define SECRET "test-haravan-webhook-secret"

static struct deploy d;
static struct sandbox sb;
static int port;
static char ids[64][32]; /* the orders made, by number from 1 */

/* ---- the Haravan emulator ----------------------------------------------- */

static cJSON *sbx(const char *method, const char *path, const char *body)
{
	char url[256], *out = NULL;
	cJSON *j;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	h_http(method, url, body, NULL, &out);
	j = out ? cJSON_Parse(out) : NULL;
	free(out);
	return j;
}

/* "2025-06-10T09:30:00.123+07:00" as Unix ms. */
static long long log_ms(const char *t)
{
	struct tm tm = { 0 };
	int ms = 0;

	ck_assert_int_eq(sscanf(t, "%d-%d-%dT%d:%d:%d.%d", &tm.tm_year,
				&tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
				&tm.tm_min, &tm.tm_sec, &ms),
			 7);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (long long)timegm(&tm) * 1000 + ms;
}

/* The product creations Haravan saw: times and statuses, in order. */
struct seen {
	long long at[1024];
	int status[1024];
	int n, n429;
};

static void creations(struct seen *s)
{
	cJSON *j = sbx("GET", "/_sandbox/requests?since=0", NULL), *r;

	memset(s, 0, sizeof(*s));
	cJSON_ArrayForEach (r, cJSON_GetObjectItem(j, "requests")) {
		const char *path =
			cJSON_GetStringValue(cJSON_GetObjectItem(r, "path"));

		if (!path || strncmp(path, ORDERS, strlen(ORDERS)) ||
		    s->n == 1024)
			continue;
		s->at[s->n] = log_ms(
			cJSON_GetStringValue(cJSON_GetObjectItem(r, "time")));
		s->status[s->n] =
			(int)cJSON_GetNumberValue(cJSON_GetObjectItem(r, "statu"
									 "s"));
		s->n429 += s->status[s->n] == 429;
		s->n++;
	}
	cJSON_Delete(j);
}

/* ---- the deployment --------------------------------------------------- */

/* connections/haravan.json; `sep` and `extra` append members. */
static void connection(const char *sep, const char *extra)
{
	h_write(&d, "connections/haravan.json",
		"{\"plugin\": \"haravan\", \"config\": {\"server\": "
		"\"http://127.0.0.1:%d\", \"shop\": \"200000388812\", "
		"\"access_token\": {\"env\": \"HARAVAN_TOKEN\"}, "
		"\"webhook_secret\": {\"env\": \"HARAVAN_WEBHOOK_SECRET\"}}"
		"%s%s}\n",
		port, sep, extra);
}

/* The connection, with an optional "rate_limit" setting (JSON). */
static void deploy(const char *rate_limit)
{
	char src[512], dst[512];

	h_deploy(&d);
	snprintf(src, sizeof(src), BUILD_DIR "/plugins/haravan.so");
	snprintf(dst, sizeof(dst), "%s/plugins/haravan.so", d.dir);
	ck_assert_int_eq(symlink(src, dst), 0);
	setenv("HARAVAN_TOKEN", "hrv_pat_anphat_full_7f3c9a41d2e8", 1);
	setenv("HARAVAN_WEBHOOK_SECRET", SECRET, 1);
	connection(rate_limit ? ", \"rate_limit\": " : "",
		   rate_limit ? rate_limit : "");
	h_write(&d, "flows/" FLOW ".json",
		"{\"id\": \"" FLOW "\", "
		"\"trigger\": {\"connection\": \"haravan\", \"event\": "
		"\"order.created\"}, \"steps\": [{\"id\": \"mark\", "
		"\"connection\": \"haravan\", \"action\": \"mark_order\", "
		"\"input\": {\"order_id\": \".id\", \"name\": "
		"\"\\\"MISA AMIS\\\"\", \"value\": \"\\\"seen\\\"\"}}]}\n");
}

/* Where the shop's webhooks go, once the host listens. */
static void point_webhooks(void)
{
	char body[256];

	snprintf(body, sizeof(body),
		 "{\"url\": \"http://127.0.0.1:%u/hooks/haravan\", "
		 "\"secret\": \"" SECRET "\", \"retry_base_ms\": 100}",
		 d.port);
	cJSON_Delete(sbx("POST", "/_sandbox/webhooks", body));
}

static void setup(void)
{
	ck_assert_int_eq(h_sandbox_start(&sb, "haravan"), 0);
	port = h_sandbox_port(&sb, "haravan");
	ck_assert_int_gt(port, 0);
}

static void teardown(void)
{
	h_cleanup(&d);
	h_sandbox_stop(&sb);
}

/* Orders first..first+n-1 are made on the shop at once, a backlog. */
static void send_items(int first, int n)
{
	for (int i = first; i < first + n; i++) {
		cJSON *j = sbx("POST", "/_sandbox/act/create_order",
			       "{\"customer\": {\"email\": "
			       "\"flash@example.vn\"}, \"line_items\": "
			       "[{\"sku\": \"SP001\", \"quantity\": 1}]}");

		ck_assert_msg(j && cJSON_GetObjectItem(j, "order"),
			      "order %d not made", i);
		snprintf(ids[i], sizeof(ids[i]), "%.0f",
			 cJSON_GetNumberValue(cJSON_GetObjectItem(
				 cJSON_GetObjectItem(j, "order"), "id")));
		cJSON_Delete(j);
	}
}

static void wait_synced(int first, int n, long timeout_ms)
{
	for (int i = first; i < first + n; i++)
		ck_assert_msg(h_wait_status(&d, FLOW, ids[i], "synced",
					    timeout_ms),
			      "order %s was not marked on Haravan", ids[i]);
}

/* A line of the host's /metrics, e.g. "luong_connection_429_total{
 * connection=\"haravan\"} 1", is there. */
static bool metric_is(const char *line)
{
	char url[128], *out = NULL;
	bool found;

	snprintf(url, sizeof(url), "http://127.0.0.1:%u/metrics", d.port);
	h_http("GET", url, NULL, NULL, &out);
	found = out && strstr(out, line);
	if (!found)
		fprintf(stderr, "metrics lack \"%s\":\n%s", line, out);
	free(out);
	return found;
}

/* ---- the stories -------------------------------------------------------- */

/* A shop's bucket of 10 calls draining 5 a second; 40 orders wait for their mark. */
START_TEST(ratelimit_backlog_never_trips_haravan_429)
{
	struct seen s;
	double secs, allowed;
	cJSON *j;

	j = sbx("POST", "/_sandbox/act/set_rate_limit",
		"{\"capacity\": 10, \"leak_per_sec\": 5}");
	ck_assert_ptr_nonnull(j);
	cJSON_Delete(j);
	deploy("{\"per_second\": 5, \"burst\": 10}");
	ck_assert_int_eq(h_start(&d), 0);
	point_webhooks();
	send_items(1, 40);
	wait_synced(1, 40, 30000);
	creations(&s);
	ck_assert_int_eq(s.n429, 0);
	ck_assert_int_eq(s.n, 40);
	/* after the first burst, at least 90% of the allowed 5 a second */
	secs = (double)(s.at[s.n - 1] - s.at[0]) / 1000.0;
	allowed = (40.0 - 10.0) / 5.0;
	ck_assert_msg(secs <= allowed / 0.9 + 0.5,
		      "40 calls took %.1f s; the limit allows them in %.1f s",
		      secs, allowed);
	/* the documents waited in the queue, not in sleeping workers */
	ck_assert(metric_is("luong_connection_rate_waits_total{connection="
			    "\"haravan\"} 0\n"));
}
END_TEST

/* Haravan (or another client of the shop) overfilled the bucket: its
 * 429 says wait 2 s, and no document of the connection goes before. */
START_TEST(ratelimit_retry_after_pauses_the_connection)
{
	struct seen s;
	long long t0 = h_now_ms();
	cJSON *j;

	deploy(NULL);
	ck_assert_int_eq(h_start(&d), 0);
	point_webhooks();
	j = sbx("POST", "/_sandbox/faults",
		"{\"burst_429\": 1, \"retry_after\": 2}");
	cJSON_Delete(j);
	send_items(1, 1);
	do {
		usleep(20000);
		creations(&s);
	} while (s.n429 == 0 && h_now_ms() - t0 < 5000);
	ck_assert_int_eq(s.n429, 1);
	/* other documents arrive while the connection waits */
	send_items(2, 4);
	wait_synced(1, 5, 15000);
	creations(&s);
	ck_assert_int_eq(s.status[0], 429);
	ck_assert_int_eq(s.n, 6);
	for (int i = 1; i < s.n; i++)
		ck_assert_msg(s.at[i] - s.at[0] >= 1950,
			      "call %d went %lld ms "
			      "after the 429 that asked for 2 s",
			      i, s.at[i] - s.at[0]);
	ck_assert(h_log_has(&d, "every call of connection haravan waits "
				"2000 ms"));
	ck_assert(metric_is("luong_connection_429_total{connection="
			    "\"haravan\"} 1\n"));
}
END_TEST

START_TEST(ratelimit_wrong_setting_is_named_with_its_field)
{
	char *out = NULL;

	deploy("{\"per_second\": \"4\"}");
	ck_assert_int_ne(h_luong(&d, &out, "flows check"), 0);
	ck_assert_msg(out && strstr(out, "haravan.json: $.rate_limit."
					 "per_second: expected a number"),
		      "got: %s", out ? out : "");
	free(out);
	connection(", \"rate_limit\": ", "{\"rate\": 4}");
	ck_assert_int_ne(h_luong(&d, &out, "flows check"), 0);
	ck_assert_msg(out && strstr(out, "$.rate_limit.rate: unknown field"),
		      "got: %s", out ? out : "");
	free(out);
}
END_TEST

static Suite *ratelimit_suite(void)
{
	Suite *s = suite_create("ratelimit");
	TCase *tc = tcase_create("haravan");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, ratelimit_backlog_never_trips_haravan_429);
	tcase_add_test(tc, ratelimit_retry_after_pauses_the_connection);
	tcase_add_test(tc, ratelimit_wrong_setting_is_named_with_its_field);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ratelimit_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

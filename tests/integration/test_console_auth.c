/*
 * test_console_auth.c - the console's sign-in against the real host,
 * without a browser: the page is served at /, a user signs in with the
 * password `luong users add` stored, a viewer is refused a push (403), a
 * change without the session's CSRF token is refused, signing out ends
 * the session, and the admin token still works beside it.
 */
#define _GNU_SOURCE
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "harness.h"
#include "sink.h"

static struct deploy d;
static struct sink *sk;

/* A browser of sorts: one curl handle keeps the session cookie. */
struct client {
	CURL *h;
	char csrf[80];
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	char **buf = ud;
	size_t old = *buf ? strlen(*buf) : 0, add = size * n;

	*buf = realloc(*buf, old + add + 1);
	memcpy(*buf + old, p, add);
	(*buf)[old + add] = '\0';
	return add;
}

/* One request; csrf: the X-CSRF-Token to send (NULL: none). */
static long call(struct client *c, const char *method, const char *path,
		 const char *body, const char *csrf, cJSON **json)
{
	struct curl_slist *hdrs = NULL;
	char url[512], hdr[128], *out = NULL;
	long status = 0;

	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", d.port, path);
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	if (csrf) {
		snprintf(hdr, sizeof(hdr), "X-CSRF-Token: %s", csrf);
		hdrs = curl_slist_append(hdrs, hdr);
	}
	curl_easy_setopt(c->h, CURLOPT_URL, url);
	curl_easy_setopt(c->h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, body ? body : "");
	curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c->h, CURLOPT_WRITEDATA, &out);
	if (curl_easy_perform(c->h) == CURLE_OK)
		curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(hdrs);
	if (json)
		*json = out ? cJSON_Parse(out) : NULL;
	free(out);
	return status;
}

static long sign_in(struct client *c, const char *name, const char *pw)
{
	char body[256];
	cJSON *j = NULL;
	long st;

	c->h = curl_easy_init();
	curl_easy_setopt(c->h, CURLOPT_COOKIEFILE, ""); /* keep cookies */
	snprintf(body, sizeof(body), "{\"name\": \"%s\", \"password\": \"%s\"}",
		 name, pw);
	st = call(c, "POST", "/api/session", body, NULL, &j);
	if (st == 200)
		snprintf(c->csrf, sizeof(c->csrf), "%s",
			 cJSON_GetObjectItem(j, "csrf")->valuestring);
	cJSON_Delete(j);
	return st;
}

static void add_user(const char *name, const char *role)
{
	char args[512], *out = NULL;

	h_write(&d, "pw", "%s-password\n", name);
	snprintf(args, sizeof(args), "users add %s --role %s < '%s/pw'", name,
		 role, d.dir);
	ck_assert_msg(h_luong(&d, &out, args) == 0, "%s", out);
	free(out);
}

static void setup(void)
{
	sk = sink_start(0);
	ck_assert_ptr_nonnull(sk);
	h_deploy(&d);
	h_probe_setup(&d, sink_port(sk), "manual");
	add_user("viewer", "viewer");
	add_user("operator", "operator");
	ck_assert_int_eq(h_start(&d), 0);
}

static void teardown(void)
{
	h_cleanup(&d);
	sink_stop(sk);
}

START_TEST(console_page_is_served_at_the_root)
{
	char url[256], *out = NULL;

	snprintf(url, sizeof(url), "http://127.0.0.1:%u/", d.port);
	ck_assert_int_eq(h_http("GET", url, NULL, NULL, &out), 200);
	ck_assert_ptr_nonnull(strstr(out, "/console/app.js"));
	free(out);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/console/nothing.js",
		 d.port);
	ck_assert_int_eq(h_http("GET", url, NULL, NULL, &out), 404);
	free(out);
}
END_TEST

START_TEST(viewer_signs_in_and_is_refused_a_push)
{
	struct client v = { 0 }, nobody = { 0 };
	cJSON *j = NULL;

	ck_assert_int_eq(sign_in(&nobody, "viewer", "not-the-password"), 401);
	ck_assert_int_eq(call(&nobody, "GET", "/api/flows", NULL, NULL, NULL),
			 401);
	ck_assert_int_eq(sign_in(&v, "viewer", "viewer-password"), 200);
	ck_assert_int_eq(call(&v, "GET", "/api/flows", NULL, NULL, NULL), 200);
	ck_assert_int_eq(call(&v, "POST", "/api/flows/relay/push",
			      "{\"all\": true}", v.csrf, &j),
			 403);
	ck_assert_ptr_nonnull(strstr(
		cJSON_GetStringValue(cJSON_GetObjectItem(j, "error")), "operato"
								       "r"));
	cJSON_Delete(j);
	ck_assert_int_eq(call(&v, "GET", "/api/users", NULL, NULL, NULL), 403);
	/* signed out: the cookie opens nothing any more */
	ck_assert_int_eq(call(&v, "DELETE", "/api/session", NULL, v.csrf, NULL),
			 200);
	ck_assert_int_eq(call(&v, "GET", "/api/flows", NULL, NULL, NULL), 401);
	curl_easy_cleanup(v.h);
	curl_easy_cleanup(nobody.h);
}
END_TEST

START_TEST(change_needs_the_sessions_csrf_token)
{
	struct client op = { 0 };
	cJSON *j = NULL, *a;
	const char *mode = "{\"mode\": \"disabled\"}";

	ck_assert_int_eq(sign_in(&op, "operator", "operator-password"), 200);
	ck_assert_int_eq(call(&op, "PUT", "/api/flows/relay/mode", mode, NULL,
			      NULL),
			 403);
	ck_assert_int_eq(call(&op, "PUT", "/api/flows/relay/mode", mode,
			      "0000000000000000000000000000000000000000000000"
			      "000000000000000000",
			      NULL),
			 403);
	ck_assert_int_eq(call(&op, "PUT", "/api/flows/relay/mode", mode,
			      op.csrf, NULL),
			 200);
	/* the admin token still works, and the audit log names who */
	ck_assert_int_eq(h_api(&d, "GET", "/audit", NULL, &j), 200);
	a = cJSON_GetArrayItem(j, 0);
	ck_assert_str_eq(cJSON_GetObjectItem(a, "user")->valuestring, "operato"
								      "r");
	ck_assert_str_eq(cJSON_GetObjectItem(a, "action")->valuestring, "mode");
	cJSON_Delete(j);
	curl_easy_cleanup(op.h);
}
END_TEST

static long get(unsigned port, const char *path, const char *header)
{
	char url[256], *out = NULL;
	long st;

	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", port, path);
	st = h_http("GET", url, NULL, header, &out);
	free(out);
	return st;
}

START_TEST(console_on_a_listener_of_its_own)
{
	unsigned cport = h_free_port();

	h_stop(&d, SIGTERM);
	h_write(&d, "luong.json",
		"{\"listen\": \"127.0.0.1:0\","
		" \"console_listen\": \"127.0.0.1:%u\","
		" \"admin_token\": {\"file\": \"admin.token\"}}\n",
		cport);
	ck_assert_int_eq(h_start(&d), 0);
	ck_assert_int_eq(get(cport, "/", NULL), 200);
	ck_assert_int_eq(get(cport, "/api/flows",
			     "Authorization: Bearer test-admin-token"),
			 200);
	ck_assert_int_eq(get(cport, "/metrics", NULL), 404);
	ck_assert_int_eq(get(cport, "/hooks/probe/events", NULL), 404);
	/* the main listener keeps hooks, API and metrics, not the pages */
	ck_assert_int_eq(get(d.port, "/", NULL), 404);
	ck_assert_int_eq(get(d.port, "/metrics", NULL), 200);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("console_auth");
	TCase *tc = tcase_create("console_auth");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, console_page_is_served_at_the_root);
	tcase_add_test(tc, viewer_signs_in_and_is_refused_a_push);
	tcase_add_test(tc, change_needs_the_sessions_csrf_token);
	tcase_add_test(tc, console_on_a_listener_of_its_own);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	curl_global_cleanup();
	return failed ? 1 : 0;
}

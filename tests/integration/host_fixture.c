/*
 * host_fixture.c - the deployment the test_host*.c stories share: a sink
 * and a fresh `luong` folder per test, the relay flow started, webhooks
 * posted and the ledger's history counted. See host_fixture.h.
 */
#include "host_fixture.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

struct deploy d;
struct sink *sk;

void setup(void)
{
	sk = sink_start(0);
	ck_assert_ptr_nonnull(sk);
	h_deploy(&d);
}

void teardown(void)
{
	h_cleanup(&d);
	sink_stop(sk);
}

void start_relay(const char *mode)
{
	h_probe_setup(&d, sink_port(sk), mode);
	ck_assert_int_eq(h_start(&d), 0);
}

long post_thing(const char *id, int n)
{
	char body[128];

	snprintf(body, sizeof(body), "{\"id\":\"%s\",\"n\":%d}", id, n);
	return h_hook(&d, "probe", "/", body);
}

int history_count_in(const char *flow, const char *doc, const char *outcome)
{
	char path[256];
	cJSON *j = NULL;
	const cJSON *h;
	int n = 0;

	snprintf(path, sizeof(path), "/flows/%s/document?id=%s", flow, doc);
	ck_assert_int_eq(h_api(&d, "GET", path, NULL, &j), 200);
	cJSON_ArrayForEach (h, cJSON_GetObjectItem(j, "history"))
		n += !strcmp(cJSON_GetObjectItem(h, "outcome")->valuestring,
			     outcome);
	cJSON_Delete(j);
	return n;
}

int history_count(const char *doc, const char *outcome)
{
	return history_count_in("relay", doc, outcome);
}

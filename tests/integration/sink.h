/*
 * sink.h - a small HTTP target for the integration tests and the bench.
 *
 * It receives the probe plugin's deliveries (POST /deliver), treats the
 * Idempotency-Key as a real target would (a repeated key makes no second
 * effect), can be told to fail, throttle, answer later (202 + callback)
 * or be slow, serves a feed for polls (GET /feed?after=N), and measures
 * end-to-end latency from a body's "sent_us" (CLOCK_REALTIME µs).
 */
#ifndef LUONG_TEST_SINK_H
#define LUONG_TEST_SINK_H

#include <stdbool.h>

#include <cjson/cJSON.h>

struct sink;

enum sink_mode {
	SINK_OK,	  /* 200 {"id": "T<n>"} */
	SINK_REFUSE,	  /* 422 {"error": "..."} */
	SINK_UNAVAILABLE, /* 503 */
	SINK_THROTTLE,	  /* 429 with Retry-After */
	SINK_ASYNC,	  /* 202, then a callback to the host */
};

struct sink *sink_start(unsigned port);
unsigned sink_port(const struct sink *s);
void sink_stop(struct sink *s);

/* Behaviour of the next `count` deliveries (0: until changed), then ok. */
void sink_set_mode(struct sink *s, enum sink_mode mode, int count,
		   int retry_after_s);
/* Holds each delivery this long before answering. */
void sink_set_delay(struct sink *s, int delay_ms);
/* Where SINK_ASYNC posts its callbacks. */
void sink_set_callback(struct sink *s, const char *url, int delay_ms);

int sink_total(struct sink *s);	  /* requests received */
int sink_effects(struct sink *s); /* distinct idempotency keys */
int sink_key_count(struct sink *s, const char *key);
/* Waits until `n` distinct effects arrived; returns how many did. */
int sink_wait_effects(struct sink *s, int n, long timeout_ms);
/* Copy of the requests: [{key, at_ms, answer, body, update_of}] in
 * arrival order (update_of: the X-Update-Of header, when sent). */
cJSON *sink_requests(struct sink *s);
/* Adds an item to the poll feed. */
void sink_feed_add(struct sink *s, const char *id, const char *json_extra);
/* Every poll lists the whole feed and keeps no cursor (a full pull). */
void sink_feed_full(struct sink *s, bool full);
/* Replaces the feed item with this id (its content edited), or adds it. */
void sink_feed_put(struct sink *s, const char *id, const char *json_extra);
/* Latency figures in ms over received bodies with "sent_us". */
void sink_latency(struct sink *s, double *p50, double *p99, int *n);
void sink_reset(struct sink *s);

#endif

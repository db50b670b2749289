/*
 * luong/testkit.h - run a plugin's webhook, poll and actions in a unit
 * test, against a fake host with canned HTTP answers: no running host.
 *
 *   struct lt_kit *k = lt_new(luong_plugin_entry());
 *   lt_config(k, "server", "http://notes.test");
 *   assert(lt_init(k) == LUONG_OK);
 *   lt_http_answer(k, 429, "Retry-After: 7", "{}");
 *   assert(lt_action(k, "save_note", "{\"title\":\"x\"}", NULL)
 *          == LUONG_E_TRANSIENT && lt_retry_after(k) == 7000);
 *   lt_free(k);
 *
 * Link with -lluong-testkit (and libcjson, libcrypto). The helpers
 * (host->helpers) are the host's own code. Not thread-safe: one kit per
 * test, calls from one thread.
 */
#ifndef LUONG_TESTKIT_H
#define LUONG_TESTKIT_H

#include <stdint.h>

#include <luong/luong.h>

#ifdef __cplusplus
extern "C" {
#endif

struct lt_kit;

/* A kit for one connection (named "test") of the plugin. */
struct lt_kit *lt_new(const struct luong_plugin *plugin);
/* Calls fini() if init() ran, then frees everything. */
void lt_free(struct lt_kit *k);

/* A setting as the connection file would give it (secrets resolved). */
void lt_config(struct lt_kit *k, const char *key, const char *value);
/* Calls init(); lt_reason() says why it failed. */
enum luong_status lt_init(struct lt_kit *k);

/* Queues the next HTTP answer: status, headers ("Name: value" lines
 * separated by \n, or NULL) and body. Status 0 means no answer: the
 * request returns LUONG_E_TRANSIENT. A request with no answer queued gets
 * status 0 too. */
void lt_http_answer(struct lt_kit *k, long status, const char *headers,
		    const char *body);
/* How many requests the plugin made, and the last one's parts. */
size_t lt_http_count(const struct lt_kit *k);
const char *lt_http_last(const struct lt_kit *k, const char *what);
/* what: "method", "url", "body", or a request header's name */

/* Runs webhook() with a body and "Name: value" header lines (or NULL);
 * *status (may be NULL) gets the HTTP status the host would answer. */
enum luong_status lt_webhook(struct lt_kit *k, const char *path,
			     const char *headers, const char *body,
			     unsigned *status);
/* The body the last webhook answered with ("" when it set none). */
const char *lt_webhook_answer(const struct lt_kit *k);
/* Runs the poll of `event` with `cursor` (may be NULL); lt_cursor() gives
 * the next one. */
enum luong_status lt_poll(struct lt_kit *k, const char *event,
			  const char *cursor);
const char *lt_cursor(const struct lt_kit *k);
/* Runs an action (run() or perform()) on a JSON input; *output (may be
 * NULL) gets its output as JSON text, owned by the kit until the next
 * call. The idempotency key is "flow:step:doc", the attempt `attempt`
 * (lt_attempt, default 1). */
enum luong_status lt_action(struct lt_kit *k, const char *action,
			    const char *input, const char **output);
void lt_attempt(struct lt_kit *k, uint32_t attempt);

/* A body's HMAC-SHA256 signature as a sender would make it (hex or
 * base64, enum luong_sig_encoding), for webhook tests. */
void lt_sign(const char *secret, const char *body, uint32_t encoding,
	     char out[65]);

/* What the last call left: the reason (set_error or log->fail), the
 * delay asked (retry_after, ms), the events emitted since lt_new. */
const char *lt_reason(const struct lt_kit *k);
uint32_t lt_retry_after(const struct lt_kit *k);
size_t lt_emitted(const struct lt_kit *k);
/* what: "event", "id" or "payload" (JSON text) of emitted event i */
const char *lt_emitted_get(const struct lt_kit *k, size_t i, const char *what);

#ifdef __cplusplus
}
#endif

#endif

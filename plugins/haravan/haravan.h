/*
 * haravan.h - what the two halves of the haravan plugin share: the
 * connection's state and the Haravan API calls (haravan_api.c), used by
 * the plugin's webhook and tables (haravan.c). Built against the public
 * SDK only.
 */
#ifndef LUONG_HARAVAN_H
#define LUONG_HARAVAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <luong/luong.h>

#define HRV_SYSTEM "Haravan"

struct hrv {
	const struct luong_host *h;
	struct luong_ctx *ctx;
	const char *server;	  /* e.g. https://apis.haravan.com */
	const char *shop;	  /* the shop's org id (X-Haravan-Org-Id) */
	const char *secret;	  /* webhook signing key */
	const char *verify_token; /* hub.verify_token, or NULL */
	char *auth;		  /* "Bearer <access token>" */
	int64_t scanned_ms;	  /* last full read of the products (atomic) */
};

/* A string member or NULL. */
const char *hrv_str(const cJSON *o, const char *key);
/* An id member (number or string) as text in buf, or NULL. */
const char *hrv_id(const cJSON *o, const char *key, char *buf, size_t len);

/*
 * One call to <server>/com/<path>. `body` is borrowed (NULL: none).
 * LUONG_OK with *reply (owned, may be NULL) on 2xx. A 422 or another 4xx
 * fails with Haravan's own message ({"errors": ...}) as the reason
 * (LUONG_E_REMOTE); 401/403 LUONG_E_AUTH; 429, 5xx and no answer
 * LUONG_E_TRANSIENT with Retry-After honoured. `call` may be NULL (a
 * poll): the reason is logged then.
 */
enum luong_status hrv_call(struct hrv *b, struct luong_call *call,
			   const char *method, const char *path,
			   const cJSON *body, cJSON **reply);

/* Actions (haravan_api.c). */
enum luong_status hrv_save_product(struct luong_call *call, void *state,
				   const cJSON *input, cJSON **output);
enum luong_status hrv_set_stock(struct luong_call *call, void *state,
				const cJSON *input, cJSON **output);
enum luong_status hrv_mark_order(struct luong_call *call, void *state,
				 const cJSON *input, cJSON **output);

#endif

/*
 * dms.h - the MobiWork DMS connector's parts (plugin mobiwork-dms).
 *
 * MobiWork publishes no API document: what public client code shows
 * (apis.md §5: Basic auth, GET resources with page_size/page_number,
 * dd/mm/yyyy dates, the {status, data, total} envelope, Bill rows as
 * order lines) is followed; the rest (webhooks, pushes) is the designed
 * contract of the sandbox, which a real deployment must confirm (README).
 * Built against the installed SDK only.
 */
#ifndef MOBIWORK_DMS_H
#define MOBIWORK_DMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <luong/luong.h>

#define DMS_SYSTEM "MobiWork DMS"
#define DMS_VN_MS (7LL * 3600 * 1000)
#define DMS_DAY_MS (24LL * 3600 * 1000)

struct dms {
	const struct luong_host *h;
	struct luong_ctx *ctx;
	const char *server; /* up to /OpenAPI/V1, no trailing slash */
	const char *secret; /* webhook key, may be NULL: webhooks refused */
	char auth[512];	    /* "Basic base64(user_id:token_key)" */
	long page_size;
	uint32_t timeout_ms;
	const char *poll_from; /* dd/mm/yyyy: the first day polls read */
};

/* One answer of DMS: the parsed body (owned) and its envelope parts. */
struct dms_reply {
	long status;
	cJSON *body;
	const cJSON *data; /* into body */
	double total;	   /* -1 when absent */
};

/* ---- dms_client.c: HTTP, auth, pages, dates, errors ---- */

/* Basic base64(user:key) into out. */
void dms_basic_auth(const char *user, const char *key, char *out, size_t n);
/* One request to <server>/<path> (GET when body is NULL). LUONG_OK only for
 * a 2xx envelope with status true; else the reason is set on call (or
 * logged): DMS's own Vietnamese message kept, with each item's `loi`. */
enum luong_status dms_request(struct dms *d, struct luong_call *call,
			      const char *method, const char *path,
			      const cJSON *body, struct dms_reply *r);
void dms_reply_free(struct dms_reply *r);
/* Every row of a paged GET (path with its query, without paging), read
 * page by page; a window whose total moved while it was read is read again
 * (apis.md §5), up to 3 times. *rows owned. */
enum luong_status dms_read_all(struct dms *d, struct luong_call *call,
			       const char *path, cJSON **rows);
/* dd/mm/yyyy of the Vietnam day of a wall time (ms). */
void dms_day(int64_t wall_ms, char out[11]);
/* Vietnam midnight (ms) of dd/mm/yyyy[ ...], -1 if malformed. */
int64_t dms_parse_day(const char *s);
/* "dd/mm/yyyy[ HH:MM:SS]" -> "yyyy-mm-dd" (false if malformed). */
bool dms_iso_date(const char *s, char out[11]);
/* Appends k=v (v URL-encoded) to a path with or without a query. */
void dms_query_add(char *path, size_t n, const char *k, const char *v);
/* Appends "/seg" (URL-encoded). */
void dms_path_add(char *path, size_t n, const char *seg);

/* ---- dms_docs.c: order lines grouped into documents ---- */

/* The rows of one order or return (Bill / ReturnBill lines, any order)
 * as one document: the header once, `lines` by stt, Vietnamese dates
 * also as ISO dates, and `kiem_tra_tong` null when the totals follow B10,
 * else both figures in words. NULL with why when a (ma_phieu, stt)
 * repeats or a row has no ma_phieu. */
cJSON *dms_group_doc(const cJSON *rows, char *why, size_t n);
/* Every document of a list of rows, in the order of their first row;
 * rows whose document is broken are skipped with a warning on ctx. */
cJSON *dms_group_all(struct dms *d, const cJSON *rows);
/* What changed between two versions of an order, in words (owned array
 * of strings), empty when nothing a person reads changed. */
cJSON *dms_doc_changes(const cJSON *before, const cJSON *after);
/* An outlet row with the ISO date of its creation added. */
cJSON *dms_outlet(const cJSON *row);

/* ---- dms_events.c ---- */
enum luong_status dms_webhook(struct luong_ctx *ctx, void *state,
			      const struct luong_webhook_request *req,
			      struct luong_webhook_response *resp);
enum luong_status dms_poll_orders(struct luong_ctx *ctx, void *state,
				  const char *cursor, char **next);
enum luong_status dms_poll_returns(struct luong_ctx *ctx, void *state,
				   const char *cursor, char **next);
enum luong_status dms_poll_outlets(struct luong_ctx *ctx, void *state,
				   const char *cursor, char **next);

/* ---- dms_actions.c ---- */
enum luong_status dms_save_product(struct luong_action_args *a);
enum luong_status dms_set_stock(struct luong_action_args *a);
enum luong_status dms_set_debt(struct luong_action_args *a);
enum luong_status dms_set_order_status(struct luong_action_args *a);
enum luong_status dms_check_order_status(struct luong_call *call, void *state,
					 const cJSON *input, cJSON **output);
enum luong_status dms_read_catalogue(struct luong_action_args *a);

/* small JSON readers */
const char *dms_str(const cJSON *o, const char *k);
bool dms_num(const cJSON *o, const char *k, double *v);

#endif

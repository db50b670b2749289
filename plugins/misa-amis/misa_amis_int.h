/*
 * misa_amis_int.h - what the parts of the misa-amis connector share: its
 * state, one answer of MISA's API, and the calls across files
 * (misa_amis.c: the API's envelope, connecting, the plugin's tables;
 * misa_vouchers.c: money, saving vouchers and catalogue items, the
 * go-live check; misa_reads.c: paged reads, polls and MISA's callback).
 */
#ifndef MISA_AMIS_INT_H
#define MISA_AMIS_INT_H

#include "../amis-common/amis_common.h"

struct misa {
	struct ac_conn k; /* host, ctx, system, time-out, token */
	const char *server, *app_id, *access_code, *org;
};

#define SYSTEM "MISA AMIS"

/* One answer: the envelope and its Data parsed a second time. */
struct misa_reply {
	cJSON *env;
	cJSON *data; /* Data parsed (owned), or NULL */
	const char *code, *message;
};

/* misa_amis.c */
void misa_reply_free(struct misa *m, struct misa_reply *r);
cJSON *misa_second_parse(struct misa *m, const cJSON *v);
enum luong_status misa_call(struct misa *m, struct luong_call *call,
			    const char *fn, cJSON *body, struct misa_reply *r);
void misa_remote_error(struct misa *m, struct luong_call *call,
		       const char *what, const struct misa_reply *r);

/* misa_vouchers.c */
enum luong_status misa_save_voucher(struct luong_call *call, void *state,
				    const cJSON *input, cJSON **output);
enum luong_status misa_check_voucher(struct luong_call *call, void *state,
				     const cJSON *input, cJSON **output);
enum luong_status misa_save_dictionary(struct luong_call *call, void *state,
				       const cJSON *input, cJSON **output);

/* What MISA made for a voucher request (org_refid `key`), kept from its
 * first success callback; recalled into an "already created" output. */
void misa_made_remember(struct misa *m, const char *key, const cJSON *out);
bool misa_made_recall(struct misa *m, const char *key, cJSON *out);

/* misa_reads.c */
/* All pages of a read (skip/take), or the one asked for. */
enum luong_status misa_read_pages(struct misa *m, struct luong_call *call,
				  const char *fn, const cJSON *input,
				  cJSON **output);
enum luong_status misa_poll_items(struct luong_ctx *ctx, void *state,
				  const char *cursor, char **next);
enum luong_status misa_fetch_item(struct luong_ctx *ctx, void *state,
				  const char *code, cJSON **payload);
enum luong_status misa_poll_objects(struct luong_ctx *ctx, void *state,
				    const char *cursor, char **next);
enum luong_status misa_fetch_object(struct luong_ctx *ctx, void *state,
				    const char *code, cJSON **payload);
enum luong_status misa_poll_categories(struct luong_ctx *ctx, void *state,
				       const char *cursor, char **next);
enum luong_status misa_poll_balances(struct luong_ctx *ctx, void *state,
				     const char *cursor, char **next);
enum luong_status misa_poll_debts(struct luong_ctx *ctx, void *state,
				  const char *cursor, char **next);
enum luong_status misa_poll_price_policies(struct luong_ctx *ctx, void *state,
					   const char *cursor, char **next);
enum luong_status misa_get_dictionary(struct luong_call *call, void *state,
				      const cJSON *input, cJSON **output);
enum luong_status misa_get_inventory_balance(struct luong_call *call,
					     void *state, const cJSON *input,
					     cJSON **output);
enum luong_status misa_get_debt_balance(struct luong_call *call, void *state,
					const cJSON *input, cJSON **output);
enum luong_status misa_webhook(struct luong_ctx *ctx, void *state,
			       const struct luong_webhook_request *req,
			       struct luong_webhook_response *resp);

#endif

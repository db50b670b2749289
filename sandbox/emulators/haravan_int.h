/*
 * haravan_int.h - what the parts of the Haravan emulator share: its state
 * and helpers (haravan.c: auth and the leaky bucket, paging, webhooks, life
 * cycle; haravan_customers.c: customers; haravan_catalog.c: products,
 * variants, locations and inventory; haravan_orders.c: orders and their
 * money; haravan_orders_api.c: the order endpoints; haravan_acts.c: acts).
 */
#ifndef SBX_HARAVAN_INT_H
#define SBX_HARAVAN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "../core/sbx.h"

#define HRV_MAX_TOKENS 16
#define HRV_TOKEN_LEN 128

struct hrv_token {
	char token[HRV_TOKEN_LEN];
	cJSON *scopes;	 /* array of strings, owned */
	double level;	 /* bucket fill */
	int64_t last_ms; /* last drain */
};

struct hrv {
	cJSON *shop;
	struct hrv_token tokens[HRV_MAX_TOKENS];
	int ntokens;
	double capacity;
	double leak;	   /* calls drained per second */
	bool also_updated; /* send orders/updated after the specific topic */
	cJSON *locations;
	cJSON *groups;
	cJSON *customers;
	cJSON *products;
	cJSON *inventory;
	cJSON *orders;
	cJSON *adjustments;
	double next_id;
	double next_order_number;
	double next_adjust_number;
	cJSON *out_hooks; /* delivery ids queued by the current act */
};

/* The sandbox links no libm: the little rounding it needs is here. */
static inline bool whole(double v)
{
	return v > -9e15 && v < 9e15 && v == (double)(long long)v;
}

/* ---- small JSON helpers ---- */

static inline cJSON *jget(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

static inline double jnum(const cJSON *o, const char *k)
{
	return sbx_jnum(o, k, 0);
}

static inline double jid(const cJSON *o)
{
	return sbx_jnum(o, "id", -1);
}

/* Copies key from src to dst when present (used for whitelisted fields). */
static inline void jcopy(cJSON *dst, const cJSON *src, const char *k)
{
	const cJSON *v = jget(src, k);
	if (v)
		sbx_jset(dst, k, cJSON_Duplicate(v, true));
}

static inline double new_id(struct hrv *st)
{
	return st->next_id++;
}

static inline cJSON *wrap(const char *key, cJSON *v)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, key, v);
	return o;
}

static inline bool cancelled(const cJSON *order)
{
	return sbx_jstr(order, "cancelled_at") != NULL;
}

static inline bool closed(const cJSON *order)
{
	return sbx_jstr(order, "closed_at") != NULL;
}

/* ---- paging: list options and plain collections ---- */

struct hrv_list_opts {
	long max_limit;
	long dflt_limit;
};

typedef bool (*hrv_keep_fn)(const cJSON *it, struct sbx_req *req,
			    struct hrv *st);

extern const struct hrv_list_opts hrv_opts_default;
extern const struct hrv_list_opts hrv_opts_orders;
extern const struct hrv_list_opts hrv_opts_inventory;

/* A plain collection of the shop: list, count and get by id read it alike. */
struct hrv_coll {
	const char *scope; /* read scope */
	size_t off;	   /* offsetof(struct hrv, <array>) */
	hrv_keep_fn keep;
	const struct hrv_list_opts *opts;
	const char *plural; /* list envelope key */
	const char *single; /* get envelope key */
};

/* Route handlers (list, count, get) of one collection. */
#define HRV_COLL_HANDLERS(coll, list_fn, count_fn, get_fn)                     \
	void list_fn(struct sbx_emu *emu, struct sbx_req *req)                 \
	{                                                                      \
		hrv_coll_list(emu, req, &(coll));                              \
	}                                                                      \
	void count_fn(struct sbx_emu *emu, struct sbx_req *req)                \
	{                                                                      \
		hrv_coll_count(emu, req, &(coll));                             \
	}                                                                      \
	void get_fn(struct sbx_emu *emu, struct sbx_req *req)                  \
	{                                                                      \
		hrv_coll_get(emu, req, &(coll));                               \
	}

/* haravan.c */
cJSON *hrv_find_id(const cJSON *arr, double id);
/* a whole non-negative number, or -1 */
double hrv_parse_id(const char *s);
/* sets k to now, in UTC with milliseconds */
void hrv_stamp(cJSON *o, const char *k);
void hrv_reply_422(struct sbx_req *req, const char *field, const char *msg);
void hrv_reply_404(struct sbx_req *req);
/* the body's root object ("order", "customer", ...) or a 400 reply */
const cJSON *hrv_body_root(struct sbx_req *req, const char *key);
/* bearer token, leaky bucket and scope; NULL after replying */
struct hrv_token *hrv_auth(struct sbx_emu *emu, struct sbx_req *req,
			   const char *scope);
/* the record of arr named by the path's {id}; NULL after replying */
cJSON *hrv_auth_find(struct sbx_emu *emu, struct sbx_req *req,
		     const char *scope, const cJSON *arr);
bool hrv_in_id_list(const char *list, double id);
/* matching items, ordered and paged, as copies; *total gets the count */
cJSON *hrv_list_page(struct sbx_req *req, struct hrv *st, const cJSON *arr,
		     hrv_keep_fn keep, const struct hrv_list_opts *o,
		     int *total);
void hrv_coll_list(struct sbx_emu *emu, struct sbx_req *req,
		   const struct hrv_coll *c);
void hrv_coll_count(struct sbx_emu *emu, struct sbx_req *req,
		    const struct hrv_coll *c);
void hrv_coll_get(struct sbx_emu *emu, struct sbx_req *req,
		  const struct hrv_coll *c);
void hrv_emit(struct sbx_emu *emu, const char *topic, const cJSON *resource);
/* a specific order topic, then orders/updated when the shop sends both */
void hrv_emit_order(struct sbx_emu *emu, const char *topic, const cJSON *order);

/* haravan_customers.c */
extern const char *const hrv_customer_fields[];
cJSON *hrv_find_customer_by(struct hrv *st, const char *key, const char *val,
			    double skip);
cJSON *hrv_make_address(struct hrv *st, const cJSON *in, const cJSON *cust);
cJSON *hrv_customer_new(struct hrv *st);
/* stored, or NULL after a 422 */
cJSON *hrv_customer_create(struct hrv *st, struct sbx_req *req,
			   const cJSON *in);
void hrv_h_customers_list(struct sbx_emu *emu, struct sbx_req *req);
void hrv_h_customers_count(struct sbx_emu *emu, struct sbx_req *req);
void hrv_h_customer_get(struct sbx_emu *emu, struct sbx_req *req);
void hrv_h_customer_groups(struct sbx_emu *emu, struct sbx_req *req);
void hrv_h_customer_create(struct sbx_emu *emu, struct sbx_req *req);
void hrv_h_customer_update(struct sbx_emu *emu, struct sbx_req *req);
void hrv_h_customer_delete(struct sbx_emu *emu, struct sbx_req *req);

/* haravan_catalog.c */
cJSON *hrv_find_variant(struct hrv *st, double vid, cJSON **product);
cJSON *hrv_find_variant_sku(struct hrv *st, const char *sku, cJSON **product);
/* the stock row of variant at loc, made (empty) when missing */
cJSON *hrv_inv_row(struct hrv *st, double loc, const cJSON *variant,
		   const cJSON *product);
void hrv_inv_move(struct hrv *st, double loc, double vid, double d_onhand,
		  double d_commit);
void hrv_inv_set(struct hrv *st, double loc, cJSON *variant, cJSON *product,
		 double onhand);
double hrv_primary_location(struct hrv *st);
bool hrv_product_check(struct sbx_req *req, const cJSON *in, bool create);
cJSON *hrv_product_create(struct hrv *st, const cJSON *in);
/* false after a 422 (nothing changed) */
bool hrv_product_update(struct hrv *st, struct sbx_req *req, cJSON *p,
			const cJSON *in);
void hrv_variant_update(cJSON *v, const cJSON *in);
void hrv_h_products_list(struct sbx_emu *emu, struct sbx_req *req);
void hrv_h_products_count(struct sbx_emu *emu, struct sbx_req *req);
void hrv_h_product_get(struct sbx_emu *emu, struct sbx_req *req);
void hrv_h_product_create(struct sbx_emu *emu, struct sbx_req *req);
void hrv_h_product_update(struct sbx_emu *emu, struct sbx_req *req);
void hrv_h_product_delete(struct sbx_emu *emu, struct sbx_req *req);
void hrv_h_variants_list(struct sbx_emu *emu, struct sbx_req *req);
void hrv_h_variant_create(struct sbx_emu *emu, struct sbx_req *req);
void hrv_h_variant_get(struct sbx_emu *emu, struct sbx_req *req);
void hrv_h_variant_update(struct sbx_emu *emu, struct sbx_req *req);
void hrv_h_locations(struct sbx_emu *emu, struct sbx_req *req);
void hrv_h_location_get(struct sbx_emu *emu, struct sbx_req *req);
void hrv_h_shop(struct sbx_emu *emu, struct sbx_req *req);
void hrv_h_inventory_locations(struct sbx_emu *emu, struct sbx_req *req);
void hrv_h_adjustorset(struct sbx_emu *emu, struct sbx_req *req);
void hrv_h_adjustments(struct sbx_emu *emu, struct sbx_req *req);
void hrv_h_adjustments_count(struct sbx_emu *emu, struct sbx_req *req);
void hrv_h_adjustment_get(struct sbx_emu *emu, struct sbx_req *req);

/* haravan_orders.c */
cJSON *hrv_tx_new(struct hrv *st, const cJSON *order, const char *kind,
		  double amount, const char *gateway);
void hrv_recompute_financial(cJSON *order);
double hrv_refundable_amount(const cJSON *order);
/* value of q units of line l after its own discount share */
double hrv_line_value(const cJSON *l, double q);
cJSON *hrv_line_variant(struct hrv *st, const cJSON *in, cJSON **product);
/* builds and stores an order from valid input, reserving its stock */
cJSON *hrv_order_build(struct sbx_emu *emu, const cJSON *in, double loc);
/* checks, builds and announces an order; NULL after a 422 */
cJSON *hrv_order_create(struct sbx_emu *emu, struct sbx_req *req,
			const cJSON *in);
/* ships all or only's lines; false when nothing is left to ship */
bool hrv_fulfil(struct hrv *st, cJSON *order, const cJSON *only,
		const char *tracking);
/* false after a 422 */
bool hrv_order_cancel(struct hrv *st, struct sbx_req *req, cJSON *order,
		      const cJSON *in);
/* the refund, or NULL after a 422 */
cJSON *hrv_refund_create(struct hrv *st, struct sbx_req *req, cJSON *order,
			 const cJSON *in);
/* the transaction, or NULL after a 422 */
cJSON *hrv_transaction_add(struct sbx_emu *emu, struct sbx_req *req, cJSON *o,
			   const cJSON *in);

/* haravan_orders_api.c */
void hrv_h_orders_list(struct sbx_emu *emu, struct sbx_req *req);
void hrv_h_orders_count(struct sbx_emu *emu, struct sbx_req *req);
void hrv_h_order_get(struct sbx_emu *emu, struct sbx_req *req);
void hrv_h_order_create(struct sbx_emu *emu, struct sbx_req *req);
void hrv_h_order_update(struct sbx_emu *emu, struct sbx_req *req);
void hrv_h_order_confirm(struct sbx_emu *emu, struct sbx_req *req);
void hrv_h_order_close(struct sbx_emu *emu, struct sbx_req *req);
void hrv_h_order_open(struct sbx_emu *emu, struct sbx_req *req);
void hrv_h_order_cancel(struct sbx_emu *emu, struct sbx_req *req);
void hrv_h_fulfillment_create(struct sbx_emu *emu, struct sbx_req *req);
void hrv_h_transactions_list(struct sbx_emu *emu, struct sbx_req *req);
void hrv_h_transaction_create(struct sbx_emu *emu, struct sbx_req *req);
void hrv_h_refunds_list(struct sbx_emu *emu, struct sbx_req *req);
void hrv_h_refund_create(struct sbx_emu *emu, struct sbx_req *req);

/* haravan_acts.c */
void hrv_act_create_order(struct sbx_emu *emu, struct sbx_req *req);
void hrv_act_pay_order(struct sbx_emu *emu, struct sbx_req *req);
void hrv_act_fulfil_order(struct sbx_emu *emu, struct sbx_req *req);
void hrv_act_cancel_order(struct sbx_emu *emu, struct sbx_req *req);
void hrv_act_refund_order(struct sbx_emu *emu, struct sbx_req *req);
void hrv_act_create_customer(struct sbx_emu *emu, struct sbx_req *req);
void hrv_act_edit_product(struct sbx_emu *emu, struct sbx_req *req);
void hrv_act_set_rate_limit(struct sbx_emu *emu, struct sbx_req *req);

#endif

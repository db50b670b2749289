/*
 * haravan_acts.c - the Haravan emulator's acts: what shop staff and buyers
 * do (create, pay, fulfil, cancel and refund orders, add a customer, edit a
 * product) and the rate-limit test knob, each answering with the webhooks
 * it sent. See sandbox/docs/haravan.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/sbx.h"
#include "haravan_int.h"

/* ---- acts: what shop staff and buyers do ---- */

static cJSON *act_order(struct hrv *st, struct sbx_req *req)
{
	const cJSON *in = req->json;
	cJSON *o = NULL;
	if (jget(in, "id") || jget(in, "order_id"))
		o = hrv_find_id(st->orders,
				sbx_jnum(in, jget(in, "id") ? "id" : "order_id",
					 -1));
	else if (jget(in, "order_number")) {
		cJSON *it;
		cJSON_ArrayForEach (it, st->orders) {
			if (jnum(it, "order_number") ==
			    sbx_jnum(in, "order_number", -1))
				o = it;
		}
	}
	if (!o)
		sbx_reply_json(req, 404,
			       wrap("error", cJSON_CreateString("order not "
								"found")));
	return o;
}

/* Acts answer {<key>: resource, "webhooks": [{topic, delivery_id}]}. */
static void act_reply(struct hrv *st, struct sbx_req *req, int status,
		      const char *key, const cJSON *res)
{
	cJSON *o = wrap(key, sbx_out_copy(res));
	cJSON_AddItemToObject(o, "webhooks", st->out_hooks);
	st->out_hooks = NULL;
	sbx_reply_json(req, status, o);
}

static bool act_begin(struct hrv *st, struct sbx_req *req)
{
	cJSON_Delete(st->out_hooks);
	st->out_hooks = cJSON_CreateArray();
	if (!cJSON_IsObject(req->json)) {
		sbx_reply_json(req, 400,
			       wrap("error", cJSON_CreateString("body must be "
								"a json "
								"object")));
		return false;
	}
	return true;
}

static void act_end(struct hrv *st)
{
	cJSON_Delete(st->out_hooks);
	st->out_hooks = NULL;
}

void hrv_act_create_order(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	if (act_begin(st, req)) {
		cJSON *o = hrv_order_create(emu, req, req->json);
		if (o)
			act_reply(st, req, 201, "order", o);
	}
	act_end(st);
}

void hrv_act_pay_order(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	cJSON *o;
	if (act_begin(st, req) && (o = act_order(st, req))) {
		cJSON *in = cJSON_CreateObject();
		cJSON_AddStringToObject(in, "kind", "capture");
		if (jget(req->json, "amount"))
			cJSON_AddNumberToObject(in, "amount",
						jnum(req->json, "amount"));
		if (sbx_jstr(req->json, "gateway"))
			cJSON_AddStringToObject(in, "gateway",
						sbx_jstr(req->json, "gateway"));
		if (hrv_transaction_add(emu, req, o, in))
			act_reply(st, req, 200, "order", o);
		cJSON_Delete(in);
	}
	act_end(st);
}

void hrv_act_fulfil_order(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	cJSON *o;
	if (act_begin(st, req) && (o = act_order(st, req))) {
		const cJSON *only = jget(req->json, "line_items");
		if (cancelled(o)) {
			hrv_reply_422(req, "base", "order is cancelled");
		} else if (!hrv_fulfil(st, o, cJSON_IsArray(only) ? only : NULL,
				       sbx_jstr(req->json, "tracking_"
							   "number"))) {
			hrv_reply_422(req, "line_items",
				      "nothing left to fulfill");
		} else {
			hrv_emit_order(emu,
				       strcmp(sbx_jstr(o, "fulfillment_status"),
					      "fulfilled") == 0
					       ? "orders/fulfilled"
					       : "orders/updated",
				       o);
			act_reply(st, req, 200, "order", o);
		}
	}
	act_end(st);
}

void hrv_act_cancel_order(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	cJSON *o;
	if (act_begin(st, req) && (o = act_order(st, req))) {
		/* staff defaults: reason customer, restock, refund what was paid */
		cJSON *in = cJSON_Duplicate(req->json, true);
		if (!jget(in, "reason"))
			cJSON_AddStringToObject(in, "reason", "customer");
		if (!jget(in, "restock"))
			cJSON_AddTrueToObject(in, "restock");
		if (!jget(in, "refund"))
			sbx_jset(in, "refund",
				 cJSON_CreateBool(hrv_refundable_amount(o) >
						  0));
		if (hrv_order_cancel(st, req, o, in)) {
			hrv_emit_order(emu, "orders/cancelled", o);
			act_reply(st, req, 200, "order", o);
		}
		cJSON_Delete(in);
	}
	act_end(st);
}

/* Return with restock: lines default to everything not yet returned, money
 * to the lines' value (capped by what was paid). */
void hrv_act_refund_order(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	cJSON *o;
	if (!act_begin(st, req) || !(o = act_order(st, req)))
		goto out;
	cJSON *in = cJSON_CreateObject();
	cJSON *rl = cJSON_AddArrayToObject(in, "refund_line_items");
	double value = 0;
	const cJSON *given = jget(req->json, "line_items");
	cJSON *l;
	cJSON_ArrayForEach (l, jget(o, "line_items")) {
		double q = jnum(l, "quantity") - jnum(l, "_refunded");
		if (cJSON_IsArray(given)) {
			const cJSON *g;
			double want = 0;
			cJSON_ArrayForEach (g, given) {
				const char *sku = sbx_jstr(g, "sku");
				if (sbx_jnum(g, "line_item_id", -1) == jid(l) ||
				    (sku && sbx_jstr(l, "sku") &&
				     strcmp(sku, sbx_jstr(l, "sku")) == 0))
					want = sbx_jnum(g, "quantity", q);
			}
			q = want;
		}
		if (q <= 0)
			continue;
		cJSON *x = cJSON_CreateObject();
		cJSON_AddNumberToObject(x, "line_item_id", jid(l));
		cJSON_AddNumberToObject(x, "quantity", q);
		cJSON_AddItemToArray(rl, x);
		value += hrv_line_value(l, q);
	}
	if (!rl->child) {
		cJSON_DeleteItemFromObject(in, "refund_line_items");
		cJSON_AddItemToObject(in, "refund_line_items",
				      cJSON_CreateArray());
	}
	sbx_jset(in, "restock",
		 cJSON_CreateBool(sbx_jbool(req->json, "restock", true)));
	if (sbx_jstr(req->json, "note"))
		cJSON_AddStringToObject(in, "note",
					sbx_jstr(req->json, "note"));
	double amount = sbx_jnum(req->json, "amount", value);
	if (amount > hrv_refundable_amount(o) && !jget(req->json, "amount"))
		amount = hrv_refundable_amount(o);
	if (amount > 0) {
		cJSON *txs = cJSON_AddArrayToObject(in, "transactions");
		cJSON *t = cJSON_CreateObject();
		cJSON_AddNumberToObject(t, "amount", amount);
		cJSON_AddStringToObject(t, "kind", "refund");
		cJSON_AddItemToArray(txs, t);
	}
	if (hrv_refund_create(st, req, o, in)) {
		hrv_emit(emu, "orders/updated", o);
		act_reply(st, req, 200, "order", o);
	}
	cJSON_Delete(in);
out:
	act_end(st);
}

void hrv_act_create_customer(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	if (act_begin(st, req)) {
		cJSON *c = hrv_customer_create(st, req, req->json);
		if (c) {
			hrv_emit(emu, "customers/create", c);
			act_reply(st, req, 201, "customer", c);
		}
	}
	act_end(st);
}

/* Edits a product (by id or by a variant sku) as in the admin; "price"
 * at top level applies to the sku's variant (or the first one). */
void hrv_act_edit_product(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	cJSON *p = NULL;
	cJSON *v = NULL;
	if (!act_begin(st, req))
		goto out;
	if (jget(req->json, "id"))
		p = hrv_find_id(st->products, sbx_jnum(req->json, "id", -1));
	else
		v = hrv_find_variant_sku(st, sbx_jstr(req->json, "sku"), &p);
	if (!p) {
		sbx_reply_json(req, 404,
			       wrap("error", cJSON_CreateString("product not "
								"found")));
		goto out;
	}
	if (!hrv_product_check(req, req->json, false) ||
	    !hrv_product_update(st, req, p, req->json))
		goto out;
	if (!v)
		v = cJSON_GetArrayItem(jget(p, "variants"), 0);
	if (v && jget(req->json, "price")) {
		cJSON *vin = cJSON_CreateObject();
		cJSON_AddNumberToObject(vin, "price", jnum(req->json, "price"));
		hrv_variant_update(v, vin);
		cJSON_Delete(vin);
	}
	hrv_emit(emu, "products/update", p);
	act_reply(st, req, 200, "product", p);
out:
	act_end(st);
}

/* Test knob: bucket capacity and leak rate (defaults 80 and 4/s). */
void hrv_act_set_rate_limit(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	if (!act_begin(st, req))
		goto out;
	st->capacity = sbx_jnum(req->json, "capacity", st->capacity);
	st->leak = sbx_jnum(req->json, "leak_per_sec", st->leak);
	if (st->capacity < 1)
		st->capacity = 1;
	if (sbx_jbool(req->json, "reset", true)) {
		for (int i = 0; i < st->ntokens; i++) {
			st->tokens[i].level = 0;
			st->tokens[i].last_ms = 0;
		}
	}
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "capacity", st->capacity);
	cJSON_AddNumberToObject(o, "leak_per_sec", st->leak);
	sbx_reply_json(req, 200, o);
out:
	act_end(st);
}

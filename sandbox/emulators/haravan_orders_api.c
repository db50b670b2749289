/*
 * haravan_orders_api.c - the Haravan emulator's /com/orders endpoints:
 * list and filters, create, update, confirm / close / open, cancel,
 * fulfilments, transactions and refunds. See sandbox/docs/haravan.md.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/sbx.h"
#include "haravan_int.h"

/* ---- orders: handlers ---- */

static bool order_keep(const cJSON *o, struct sbx_req *req, struct hrv *st)
{
	const char *status = sbx_query(req, "status");
	const char *fs = sbx_query(req, "financial_status");
	const char *ff = sbx_query(req, "fulfillment_status");
	const char *ofs = sbx_jstr(o, "financial_status");
	const char *off = sbx_jstr(o, "fulfillment_status");

	if (!status)
		status = "open"; /* the service lists open orders by default */
	if (strcmp(status, "open") == 0 && (closed(o) || cancelled(o)))
		return false;
	if (strcmp(status, "closed") == 0 && !closed(o))
		return false;
	if (strcmp(status, "cancelled") == 0 && !cancelled(o))
		return false;
	if (fs && strcmp(fs, "any") != 0) {
		if (strcmp(fs, "unpaid") == 0) {
			if (strcmp(ofs, "pending") != 0 &&
			    strcmp(ofs, "authorized") != 0 &&
			    strcmp(ofs, "partially_paid") != 0)
				return false;
		} else if (strcmp(fs, ofs) != 0) {
			return false;
		}
	}
	if (ff && strcmp(ff, "any") != 0) {
		if (strcmp(ff, "shipped") == 0 ||
		    strcmp(ff, "fulfilled") == 0) {
			if (!off || strcmp(off, "fulfilled") != 0)
				return false;
		} else if (strcmp(ff, "partial") == 0) {
			if (!off || strcmp(off, "partial") != 0)
				return false;
		} else if (strcmp(ff, "unshipped") == 0) {
			if (off)
				return false;
		} else if (strcmp(ff, "unfulfilled") == 0) {
			if (off && strcmp(off, "partial") != 0)
				return false;
		} else if (!off || strcmp(ff, off) != 0) {
			return false;
		}
	}
	return true;
}

static cJSON *order_param(struct hrv *st, struct sbx_req *req)
{
	cJSON *o = hrv_find_id(st->orders, hrv_parse_id(sbx_param(req, "id")));
	if (!o)
		hrv_reply_404(req);
	return o;
}

static const struct hrv_coll coll_orders = {
	"read_orders", offsetof(struct hrv, orders),
	order_keep,    &hrv_opts_orders,
	"orders",      "order",
};
HRV_COLL_HANDLERS(coll_orders, hrv_h_orders_list, hrv_h_orders_count,
		  hrv_h_order_get)

void hrv_h_order_create(struct sbx_emu *emu, struct sbx_req *req)
{
	if (!hrv_auth(emu, req, "write_orders"))
		return;
	const cJSON *in = hrv_body_root(req, "order");
	if (!in)
		return;
	cJSON *o = hrv_order_create(emu, req, in);
	if (o)
		sbx_reply_json(req, 201, wrap("order", sbx_out_copy(o)));
}

void hrv_h_order_update(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	cJSON *o = hrv_auth_find(emu, req, "write_orders", st->orders);
	if (!o)
		return;
	const cJSON *in = hrv_body_root(req, "order");
	if (!in)
		return;
	if (jget(in, "line_items")) {
		hrv_reply_422(req, "line_items",
			      "cannot be changed after the order is created");
		return;
	}
	static const char *const fields[] = { "note",
					      "note_attributes",
					      "tags",
					      "email",
					      "phone",
					      "shipping_address",
					      "billing_address",
					      "buyer_accepts_marketing",
					      NULL };
	for (int i = 0; fields[i]; i++)
		jcopy(o, in, fields[i]);
	hrv_stamp(o, "updated_at");
	hrv_emit(emu, "orders/updated", o);
	sbx_reply_json(req, 200, wrap("order", sbx_out_copy(o)));
}

/* confirm / close / open share the shape: check, change, orders/updated. */
static void order_state_change(struct sbx_emu *emu, struct sbx_req *req,
			       const char *what)
{
	struct hrv *st = emu->data;
	cJSON *o = hrv_auth_find(emu, req, "write_orders", st->orders);
	if (!o)
		return;
	if (strcmp(what, "confirm") == 0) {
		if (cancelled(o)) {
			hrv_reply_422(req, "base",
				      "cancelled order cannot be confirmed");
			return;
		}
		if (strcmp(sbx_jstr(o, "confirmed_status"), "confirmed") == 0) {
			hrv_reply_422(req, "base",
				      "order is already confirmed");
			return;
		}
		hrv_stamp(o, "confirmed_at");
		sbx_jset_str(o, "confirmed_status", "confirmed");
	} else if (strcmp(what, "close") == 0) {
		if (closed(o)) {
			hrv_reply_422(req, "base", "order is already closed");
			return;
		}
		hrv_stamp(o, "closed_at");
		sbx_jset_str(o, "closed_status", "closed");
	} else {
		if (!closed(o)) {
			hrv_reply_422(req, "base", "order is not closed");
			return;
		}
		sbx_jset_str(o, "closed_at", NULL);
		sbx_jset_str(o, "closed_status", "unclosed");
	}
	hrv_stamp(o, "updated_at");
	hrv_emit(emu, "orders/updated", o);
	sbx_reply_json(req, 200, wrap("order", sbx_out_copy(o)));
}

void hrv_h_order_confirm(struct sbx_emu *emu, struct sbx_req *req)
{
	order_state_change(emu, req, "confirm");
}

void hrv_h_order_close(struct sbx_emu *emu, struct sbx_req *req)
{
	order_state_change(emu, req, "close");
}

void hrv_h_order_open(struct sbx_emu *emu, struct sbx_req *req)
{
	order_state_change(emu, req, "open");
}

void hrv_h_order_cancel(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	cJSON *o = hrv_auth_find(emu, req, "write_orders", st->orders);
	if (!o)
		return;
	cJSON *empty = cJSON_CreateObject();
	const cJSON *in = req->json ? req->json : empty;
	if (hrv_order_cancel(st, req, o, in)) {
		hrv_emit_order(emu, "orders/cancelled", o);
		sbx_reply_json(req, 200, wrap("order", sbx_out_copy(o)));
	}
	cJSON_Delete(empty);
}

void hrv_h_fulfillment_create(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	cJSON *o = hrv_auth_find(emu, req, "write_orders", st->orders);
	if (!o)
		return;
	const cJSON *in = hrv_body_root(req, "fulfillment");
	if (!in)
		return;
	if (cancelled(o)) {
		hrv_reply_422(req, "base", "order is cancelled");
		return;
	}
	const cJSON *only = jget(in, "line_items");
	if (!hrv_fulfil(st, o, cJSON_IsArray(only) ? only : NULL,
			sbx_jstr(in, "tracking_number"))) {
		hrv_reply_422(req, "line_items", "nothing left to fulfill");
		return;
	}
	hrv_emit_order(emu,
		       strcmp(sbx_jstr(o, "fulfillment_status"), "fulfilled") ==
				       0
			       ? "orders/fulfilled"
			       : "orders/updated",
		       o);
	cJSON *f = cJSON_GetArrayItem(jget(o, "fulfillments"),
				      cJSON_GetArraySize(jget(o, "fulfillment"
								 "s")) -
					      1);
	sbx_reply_json(req, 201, wrap("fulfillment", sbx_out_copy(f)));
}

void hrv_h_transactions_list(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	if (!hrv_auth(emu, req, "read_orders"))
		return;
	cJSON *o = order_param(st, req);
	if (o)
		sbx_reply_json(req, 200,
			       wrap("transactions",
				    sbx_out_copy(jget(o, "transactions"))));
}

void hrv_h_transaction_create(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	cJSON *o = hrv_auth_find(emu, req, "write_orders", st->orders);
	if (!o)
		return;
	const cJSON *in = hrv_body_root(req, "transaction");
	if (!in)
		return;
	cJSON *t = hrv_transaction_add(emu, req, o, in);
	if (t)
		sbx_reply_json(req, 201, wrap("transaction", sbx_out_copy(t)));
}

void hrv_h_refunds_list(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	if (!hrv_auth(emu, req, "read_orders"))
		return;
	cJSON *o = order_param(st, req);
	if (o)
		sbx_reply_json(req, 200,
			       wrap("refunds", sbx_out_copy(jget(o, "refund"
								    "s"))));
}

void hrv_h_refund_create(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	cJSON *o = hrv_auth_find(emu, req, "write_orders", st->orders);
	if (!o)
		return;
	const cJSON *in = hrv_body_root(req, "refund");
	if (!in)
		return;
	cJSON *r = hrv_refund_create(st, req, o, in);
	if (!r)
		return;
	hrv_emit(emu, "orders/updated", o);
	sbx_reply_json(req, 201, wrap("refund", sbx_out_copy(r)));
}

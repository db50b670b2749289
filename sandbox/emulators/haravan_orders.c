/*
 * haravan_orders.c - the Haravan emulator's orders: money (transactions and
 * the financial status), creation with its stock reservations, fulfilment,
 * cancel and refunds, each as the API and the acts share it. See
 * sandbox/docs/haravan.md.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/sbx.h"
#include "haravan_int.h"

/* ---- orders: money ---- */

static double sum_tx(const cJSON *order, const char *kind)
{
	double s = 0;
	const cJSON *t;
	cJSON_ArrayForEach (t, jget(order, "transactions")) {
		const char *k = sbx_jstr(t, "kind");
		if (k && strcasecmp(k, kind) == 0)
			s += jnum(t, "amount");
	}
	return s;
}

static double paid_amount(const cJSON *order)
{
	return sum_tx(order, "sale") + sum_tx(order, "capture");
}

void hrv_recompute_financial(cJSON *order)
{
	double total = jnum(order, "total_price");
	double paid = paid_amount(order);
	double refunded = sum_tx(order, "refund");
	const char *fs;
	if (sum_tx(order, "void") > 0 || sbx_jbool(order, "_voided", false))
		fs = "voided";
	else if (refunded > 0)
		fs = refunded >= paid ? "refunded" : "partially_refunded";
	else if (paid > 0)
		fs = paid >= total ? "paid" : "partially_paid";
	else if (sum_tx(order, "authorization") > 0)
		fs = "authorized";
	else
		fs = "pending";
	sbx_jset_str(order, "financial_status", fs);
}

static bool financial_is(const cJSON *order, const char *fs)
{
	const char *v = sbx_jstr(order, "financial_status");
	return v && strcmp(v, fs) == 0;
}

cJSON *hrv_tx_new(struct hrv *st, const cJSON *order, const char *kind,
		  double amount, const char *gateway)
{
	cJSON *t = cJSON_CreateObject();
	cJSON_AddNumberToObject(t, "id", new_id(st));
	cJSON_AddNumberToObject(t, "order_id", jid(order));
	cJSON_AddStringToObject(t, "kind", kind);
	cJSON_AddNumberToObject(t, "amount", amount);
	cJSON_AddStringToObject(t, "currency", "VND");
	sbx_jset_str(t, "gateway",
		     gateway ? gateway : sbx_jstr(order, "gateway"));
	cJSON_AddStringToObject(t, "status", "success");
	cJSON_AddNumberToObject(t, "location_id", jnum(order, "location_id"));
	cJSON_AddNullToObject(t, "parent_id");
	cJSON_AddNullToObject(t, "user_id");
	hrv_stamp(t, "created_at");
	cJSON_AddItemToArray(jget((cJSON *)order, "transactions"), t);
	return t;
}

/* ---- orders: creation ---- */

/* Resolves an input line to its variant (variant_id, or sku as a shortcut
 * the acts accept). */
cJSON *hrv_line_variant(struct hrv *st, const cJSON *in, cJSON **product)
{
	if (jget(in, "variant_id"))
		return hrv_find_variant(st, sbx_jnum(in, "variant_id", -1),
					product);
	return hrv_find_variant_sku(st, sbx_jstr(in, "sku"), product);
}

static bool order_check(struct hrv *st, struct sbx_req *req, const cJSON *in,
			double loc)
{
	const cJSON *lines = jget(in, "line_items");
	const cJSON *l;
	char msg[160];
	if (!cJSON_IsArray(lines) || !lines->child) {
		hrv_reply_422(req, "line_items", "can't be blank");
		return false;
	}
	if (!hrv_find_id(st->locations, loc)) {
		hrv_reply_422(req, "location_id", "location not found");
		return false;
	}
	cJSON_ArrayForEach (l, lines) {
		cJSON *p = NULL;
		cJSON *v = hrv_line_variant(st, l, &p);
		double q = sbx_jnum(l, "quantity", 0);
		if (!v) {
			snprintf(msg, sizeof msg, "variant %.0f not found",
				 sbx_jnum(l, "variant_id", -1));
			hrv_reply_422(req, "line_items", msg);
			return false;
		}
		if (q < 1 || !whole(q)) {
			hrv_reply_422(req, "quantity",
				      "must be greater than 0");
			return false;
		}
		if (sbx_jnum(l, "total_discount", 0) < 0 ||
		    sbx_jnum(l, "price", 0) < 0) {
			hrv_reply_422(req, "line_items",
				      "price and total_discount must not be "
				      "negative");
			return false;
		}
		const char *pol = sbx_jstr(v, "inventory_policy");
		if (pol && strcmp(pol, "deny") == 0 &&
		    jnum(hrv_inv_row(st, loc, v, p), "qty_available") < q) {
			snprintf(msg, sizeof msg, "%s: not enough inventory",
				 sbx_jstr(v, "sku") ? sbx_jstr(v, "sku")
						    : "variant");
			hrv_reply_422(req, "line_items", msg);
			return false;
		}
	}
	const cJSON *cust = jget(in, "customer");
	if (cJSON_IsObject(cust) && jget(cust, "id") &&
	    !hrv_find_id(st->customers, sbx_jnum(cust, "id", -1))) {
		hrv_reply_422(req, "customer", "customer not found");
		return false;
	}
	if (jget(in, "customer_id") &&
	    !hrv_find_id(st->customers, sbx_jnum(in, "customer_id", -1))) {
		hrv_reply_422(req, "customer", "customer not found");
		return false;
	}
	return true;
}

static cJSON *line_new(struct hrv *st, const cJSON *in, double *sum,
		       double *disc)
{
	cJSON *p = NULL;
	cJSON *v = hrv_line_variant(st, in, &p);
	double q = jnum(in, "quantity");
	double price = jget(in, "price") ? jnum(in, "price") : jnum(v, "price");
	double d = sbx_vnd(jnum(in, "total_discount"));
	char name[512];
	cJSON *l = cJSON_CreateObject();
	cJSON_AddNumberToObject(l, "id", new_id(st));
	cJSON_AddNumberToObject(l, "variant_id", jid(v));
	cJSON_AddNumberToObject(l, "product_id", jid(p));
	jcopy(l, v, "sku");
	jcopy(l, v, "barcode");
	jcopy(l, p, "title");
	jcopy(l, p, "vendor");
	sbx_jset(l, "type", cJSON_Duplicate(jget(p, "product_type"), true));
	sbx_jset(l, "variant_title", cJSON_Duplicate(jget(v, "title"), true));
	snprintf(name, sizeof name, "%s - %s",
		 sbx_jstr(p, "title") ? sbx_jstr(p, "title") : "",
		 sbx_jstr(v, "title") ? sbx_jstr(v, "title") : "");
	cJSON_AddStringToObject(l, "name", name);
	cJSON_AddNumberToObject(l, "quantity", q);
	cJSON_AddNumberToObject(l, "price", price);
	cJSON_AddNumberToObject(l, "price_original", jnum(v, "price"));
	cJSON_AddNumberToObject(l, "total_discount", d);
	cJSON_AddNumberToObject(l, "fulfillable_quantity", q);
	cJSON_AddStringToObject(l, "fulfillment_status", "notfulfilled");
	cJSON_AddNumberToObject(l, "grams", jnum(v, "grams"));
	cJSON_AddTrueToObject(l, "requires_shipping");
	cJSON_AddTrueToObject(l, "taxable");
	cJSON_AddFalseToObject(l, "gift_card");
	cJSON_AddTrueToObject(l, "product_exists");
	cJSON_AddNullToObject(l, "properties");
	cJSON_AddArrayToObject(l, "applied_discounts");
	cJSON_AddNumberToObject(l, "_fulfilled", 0);
	cJSON_AddNumberToObject(l, "_refunded", 0);
	*sum += price * q;
	*disc += d;
	return l;
}

/* Order-level discounts: discount_codes amounts (percentage of the
 * discounted line total for type "percentage"). */
static double order_discount(cJSON *order, const cJSON *in, double base)
{
	double total = 0;
	cJSON *codes = cJSON_CreateArray();
	const cJSON *c;
	cJSON_ArrayForEach (c, jget(in, "discount_codes")) {
		const char *type = sbx_jstr(c, "type") ? sbx_jstr(c, "type")
						       : "fixed_amount";
		double amount = jnum(c, "amount");
		if (strcmp(type, "percentage") == 0)
			amount = sbx_vnd(base * amount / 100.0);
		cJSON *o = cJSON_CreateObject();
		sbx_jset_str(o, "code",
			     sbx_jstr(c, "code") ? sbx_jstr(c, "code") : "");
		cJSON_AddNumberToObject(o, "amount", amount);
		cJSON_AddStringToObject(o, "type", type);
		cJSON_AddItemToArray(codes, o);
		total += amount;
	}
	sbx_jset(order, "discount_codes", codes);
	return total;
}

static cJSON *order_customer(struct hrv *st, struct sbx_emu *emu,
			     const cJSON *in)
{
	const cJSON *cin = jget(in, "customer");
	cJSON *c = NULL;
	if (jget(in, "customer_id"))
		return hrv_find_id(st->customers,
				   sbx_jnum(in, "customer_id", -1));
	if (!cJSON_IsObject(cin))
		return hrv_find_customer_by(st, "email", sbx_jstr(in, "email"),
					    -1);
	if (jget(cin, "id"))
		return hrv_find_id(st->customers, sbx_jnum(cin, "id", -1));
	c = hrv_find_customer_by(st, "email", sbx_jstr(cin, "email"), -1);
	if (!c)
		c = hrv_find_customer_by(st, "phone", sbx_jstr(cin, "phone"),
					 -1);
	if (c)
		return c;
	/* a new buyer becomes a customer, as at checkout */
	c = hrv_customer_new(st);
	for (int i = 0; hrv_customer_fields[i]; i++)
		jcopy(c, cin, hrv_customer_fields[i]);
	cJSON_AddItemToArray(st->customers, c);
	hrv_emit(emu, "customers/create", c);
	return c;
}

static void commit_lines(struct hrv *st, cJSON *order, double sign)
{
	const cJSON *l;
	cJSON_ArrayForEach (l, jget(order, "line_items"))
		hrv_inv_move(st, jnum(order, "location_id"),
			     jnum(l, "variant_id"), 0,
			     sign * jnum(l, "fulfillable_quantity"));
}

cJSON *hrv_order_build(struct sbx_emu *emu, const cJSON *in, double loc)
{
	struct hrv *st = emu->data;
	cJSON *o = cJSON_CreateObject();
	double sum = 0;
	double line_disc = 0;
	char name[32];
	double number = st->next_order_number++;
	const cJSON *l;

	cJSON_AddNumberToObject(o, "id", new_id(st));
	snprintf(name, sizeof name, "#%.0f", number);
	cJSON_AddStringToObject(o, "name", name);
	cJSON_AddNumberToObject(o, "order_number", number);
	cJSON_AddNumberToObject(o, "number", number - 1000);
	hrv_stamp(o, "created_at");
	hrv_stamp(o, "updated_at");
	cJSON_AddNullToObject(o, "confirmed_at");
	cJSON_AddNullToObject(o, "closed_at");
	cJSON_AddNullToObject(o, "cancelled_at");
	cJSON_AddNullToObject(o, "cancel_reason");
	cJSON_AddStringToObject(o, "confirmed_status", "unconfirmed");
	cJSON_AddStringToObject(o, "closed_status", "unclosed");
	cJSON_AddStringToObject(o, "cancelled_status", "uncancelled");
	cJSON_AddStringToObject(o, "financial_status", "pending");
	cJSON_AddNullToObject(o, "fulfillment_status");
	cJSON_AddStringToObject(o, "currency", "VND");
	sbx_jset_str(o, "gateway",
		     sbx_jstr(in, "gateway") ? sbx_jstr(in, "gateway")
					     : "Thanh toán khi giao hàng "
					       "(COD)");
	sbx_jset_str(o, "gateway_code",
		     sbx_jstr(in, "gateway_code") ? sbx_jstr(in, "gateway_code")
						  : "COD");
	sbx_jset_str(o, "source_name",
		     sbx_jstr(in, "source_name") ? sbx_jstr(in, "source_name")
						 : "web");
	cJSON_AddNumberToObject(o, "location_id", loc);
	static const char *const copy[] = { "email",
					    "phone",
					    "note",
					    "note_attributes",
					    "tags",
					    "billing_address",
					    "shipping_address",
					    "user_id",
					    "assigned_location_id",
					    NULL };
	for (int i = 0; copy[i]; i++) {
		if (jget(in, copy[i]))
			jcopy(o, in, copy[i]);
		else
			cJSON_AddNullToObject(o, copy[i]);
	}
	cJSON *lines = cJSON_AddArrayToObject(o, "line_items");
	cJSON_ArrayForEach (l, jget(in, "line_items"))
		cJSON_AddItemToArray(lines, line_new(st, l, &sum, &line_disc));
	double ord_disc = order_discount(o, in, sum - line_disc);
	double shipping = 0;
	cJSON *ships = cJSON_AddArrayToObject(o, "shipping_lines");
	cJSON_ArrayForEach (l, jget(in, "shipping_lines")) {
		cJSON *s = cJSON_CreateObject();
		sbx_jset_str(s, "title",
			     sbx_jstr(l, "title") ? sbx_jstr(l, "title")
						  : "Giao hàng");
		cJSON_AddNumberToObject(s, "price", jnum(l, "price"));
		cJSON_AddItemToArray(ships, s);
		shipping += jnum(l, "price");
	}
	cJSON_AddNumberToObject(o, "total_line_items_price", sum);
	cJSON_AddNumberToObject(o, "total_discounts", line_disc + ord_disc);
	cJSON_AddNumberToObject(o, "subtotal_price",
				sum - line_disc - ord_disc);
	cJSON_AddNumberToObject(o, "total_tax", 0);
	cJSON_AddTrueToObject(o, "taxes_included");
	cJSON_AddNumberToObject(o, "total_price",
				sum - line_disc - ord_disc + shipping);
	cJSON_AddNumberToObject(o, "total_weight", 0);
	cJSON_AddArrayToObject(o, "transactions");
	cJSON_AddArrayToObject(o, "refunds");
	cJSON_AddArrayToObject(o, "fulfillments");

	cJSON *cust = order_customer(st, emu, in);
	if (cust) {
		cJSON *c = sbx_out_copy(cust);
		sbx_jset(o, "customer", c);
		if (cJSON_IsNull(jget(o, "email")))
			jcopy(o, cust, "email");
		sbx_jset_num(cust, "orders_count",
			     jnum(cust, "orders_count") + 1);
		sbx_jset_num(cust, "total_spent",
			     jnum(cust, "total_spent") + jnum(o, "total_"
								 "price"));
		sbx_jset_num(cust, "last_order_id", jid(o));
		sbx_jset_str(cust, "last_order_name", name);
		hrv_stamp(cust, "updated_at");
	} else {
		cJSON_AddNullToObject(o, "customer");
	}
	cJSON_AddItemToArray(st->orders, o);
	commit_lines(st, o, +1);
	return o;
}

/* Creates an order from in (API body or act); replies 422 and returns NULL
 * when invalid. Sends orders/create (+ paid/fulfilled when created so). */
cJSON *hrv_order_create(struct sbx_emu *emu, struct sbx_req *req,
			const cJSON *in)
{
	struct hrv *st = emu->data;
	double loc = sbx_jnum(in, "location_id", hrv_primary_location(st));
	const char *fs = sbx_jstr(in, "financial_status");
	const char *ff = sbx_jstr(in, "fulfillment_status");
	if (fs && strcmp(fs, "pending") != 0 && strcmp(fs, "paid") != 0 &&
	    strcmp(fs, "authorized") != 0) {
		hrv_reply_422(req, "financial_status",
			      "is not included in the list");
		return NULL;
	}
	if (ff && strcmp(ff, "fulfilled") != 0) {
		hrv_reply_422(req, "fulfillment_status",
			      "is not included in the list");
		return NULL;
	}
	if (!order_check(st, req, in, loc))
		return NULL;
	cJSON *o = hrv_order_build(emu, in, loc);
	const cJSON *t;
	cJSON_ArrayForEach (t, jget(in, "transactions")) {
		const char *kind =
			sbx_jstr(t, "kind") ? sbx_jstr(t, "kind") : "sale";
		hrv_tx_new(st, o, kind,
			   sbx_jnum(t, "amount", jnum(o, "total_price")),
			   sbx_jstr(t, "gateway"));
	}
	if (fs && strcmp(fs, "paid") == 0 && paid_amount(o) == 0)
		hrv_tx_new(st, o, "sale", jnum(o, "total_price"), NULL);
	if (fs && strcmp(fs, "authorized") == 0)
		hrv_tx_new(st, o, "authorization", jnum(o, "total_price"),
			   NULL);
	hrv_recompute_financial(o);
	if (ff)
		hrv_fulfil(st, o, NULL, NULL);
	hrv_emit(emu, "orders/create", o);
	if (financial_is(o, "paid"))
		hrv_emit(emu, "orders/paid", o);
	if (ff)
		hrv_emit(emu, "orders/fulfilled", o);
	return o;
}

/* ---- orders: fulfilment, cancel, refunds ---- */

static void line_status(cJSON *l)
{
	double ful = jnum(l, "_fulfilled");
	double left = jnum(l, "fulfillable_quantity");
	sbx_jset_str(l, "fulfillment_status",
		     ful > 0 ? (left > 0 ? "partial" : "fulfilled")
			     : "notfulfilled");
}

static void order_fulfillment_status(cJSON *order)
{
	bool any = false;
	bool all = true;
	const cJSON *l;
	cJSON_ArrayForEach (l, jget(order, "line_items")) {
		if (jnum(l, "_fulfilled") > 0)
			any = true;
		if (jnum(l, "fulfillable_quantity") > 0)
			all = false;
	}
	sbx_jset_str(order, "fulfillment_status",
		     any ? (all ? "fulfilled" : "partial") : NULL);
}

/* Ships fulfillable quantities (all, or only's [{id, quantity}]): stock
 * leaves on hand and the reservation. Returns false when nothing to ship. */
bool hrv_fulfil(struct hrv *st, cJSON *order, const cJSON *only,
		const char *tracking)
{
	cJSON *f = cJSON_CreateObject();
	cJSON *fl = cJSON_CreateArray();
	cJSON *l;
	cJSON_ArrayForEach (l, jget(order, "line_items")) {
		double q = jnum(l, "fulfillable_quantity");
		if (only) {
			const cJSON *o;
			double want = 0;
			cJSON_ArrayForEach (o, only) {
				if (sbx_jnum(o, "id", -1) == jid(l))
					want = sbx_jnum(o, "quantity", q);
			}
			q = want < q ? want : q;
		}
		if (q <= 0)
			continue;
		hrv_inv_move(st, jnum(order, "location_id"),
			     jnum(l, "variant_id"), -q, -q);
		sbx_jset_num(l, "fulfillable_quantity",
			     jnum(l, "fulfillable_quantity") - q);
		sbx_jset_num(l, "_fulfilled", jnum(l, "_fulfilled") + q);
		line_status(l);
		cJSON *x = cJSON_CreateObject();
		cJSON_AddNumberToObject(x, "id", jid(l));
		cJSON_AddNumberToObject(x, "quantity", q);
		cJSON_AddItemToArray(fl, x);
	}
	if (!fl->child) {
		cJSON_Delete(fl);
		cJSON_Delete(f);
		return false;
	}
	cJSON_AddNumberToObject(f, "id", new_id(st));
	cJSON_AddNumberToObject(f, "order_id", jid(order));
	cJSON_AddStringToObject(f, "status", "success");
	sbx_jset_str(f, "tracking_number", tracking);
	hrv_stamp(f, "created_at");
	cJSON_AddItemToObject(f, "line_items", fl);
	cJSON_AddItemToArray(jget(order, "fulfillments"), f);
	order_fulfillment_status(order);
	hrv_stamp(order, "updated_at");
	return true;
}

static bool valid_cancel_reason(const char *r)
{
	static const char *const reasons[] = { "customer", "fraud", "inventory",
					       "declined", "other", NULL };
	for (int i = 0; reasons[i]; i++) {
		if (strcmp(r, reasons[i]) == 0)
			return true;
	}
	return false;
}

/* Cancels: releases reservations, restocks shipped goods when asked,
 * refunds (paid) or voids (unpaid). Replies 422 and returns false when
 * refused. */
bool hrv_order_cancel(struct hrv *st, struct sbx_req *req, cJSON *order,
		      const cJSON *in)
{
	const char *reason = sbx_jstr(in, "reason");
	if (cancelled(order)) {
		hrv_reply_422(req, "base", "order has already been cancelled");
		return false;
	}
	if (!reason || !*reason) {
		hrv_reply_422(req, "reason", "can't be blank");
		return false;
	}
	if (!valid_cancel_reason(reason)) {
		hrv_reply_422(req, "reason", "is not included in the list");
		return false;
	}
	double paid = paid_amount(order) - sum_tx(order, "refund");
	double amount = sbx_jnum(in, "amount", paid);
	bool refund = sbx_jbool(in, "refund", jget(in, "amount") != NULL);
	if (refund && amount > paid) {
		hrv_reply_422(req, "amount", "exceeds the amount paid");
		return false;
	}
	bool restock = sbx_jbool(in, "restock", false);
	double loc = jnum(order, "location_id");
	cJSON *l;
	cJSON_ArrayForEach (l, jget(order, "line_items")) {
		hrv_inv_move(st, loc, jnum(l, "variant_id"), 0,
			     -jnum(l, "fulfillable_quantity"));
		sbx_jset_num(l, "fulfillable_quantity", 0);
		if (restock && jnum(l, "_fulfilled") > 0) {
			hrv_inv_move(st, loc, jnum(l, "variant_id"),
				     jnum(l, "_fulfilled"), 0);
			sbx_jset_num(l, "_fulfilled", 0);
		}
	}
	if (refund && amount > 0)
		hrv_tx_new(st, order, "refund", amount, NULL);
	else if (paid <= 0 && !financial_is(order, "refunded"))
		sbx_jset(order, "_voided", cJSON_CreateTrue());
	hrv_recompute_financial(order);
	if (restock)
		sbx_jset_str(order, "fulfillment_status", "restocked");
	hrv_stamp(order, "cancelled_at");
	sbx_jset_str(order, "cancel_reason", reason);
	sbx_jset_str(order, "cancelled_status", "cancelled");
	if (sbx_jstr(in, "note"))
		sbx_jset_str(order, "note", sbx_jstr(in, "note"));
	hrv_stamp(order, "updated_at");
	return true;
}

double hrv_refundable_amount(const cJSON *order)
{
	return paid_amount(order) - sum_tx(order, "refund");
}

/* Value of q units of line l after its own discount share. */
double hrv_line_value(const cJSON *l, double q)
{
	double qty = jnum(l, "quantity");
	return sbx_vnd(jnum(l, "price") * q -
		       (qty > 0 ? jnum(l, "total_discount") * q / qty : 0));
}

/* Creates a refund (return): checks every line, then restocks and records
 * money. Returns the refund or NULL after a 422. */
cJSON *hrv_refund_create(struct hrv *st, struct sbx_req *req, cJSON *order,
			 const cJSON *in)
{
	const cJSON *rl = jget(in, "refund_line_items");
	const cJSON *x;
	char msg[160];
	cJSON_ArrayForEach (x, rl) {
		cJSON *l = hrv_find_id(jget(order, "line_items"),
				       sbx_jnum(x, "line_item_id", -1));
		double q = sbx_jnum(x, "quantity", 0);
		if (!l) {
			hrv_reply_422(req, "refund_line_items",
				      "line_item_id not found in this order");
			return NULL;
		}
		if (q < 1 || q > jnum(l, "quantity") - jnum(l, "_refunded")) {
			snprintf(msg, sizeof msg,
				 "quantity %.0f exceeds refundable quantity "
				 "%.0f",
				 q, jnum(l, "quantity") - jnum(l, "_refunded"));
			hrv_reply_422(req, "refund_line_items", msg);
			return NULL;
		}
	}
	double money = 0;
	cJSON_ArrayForEach (x, jget(in, "transactions"))
		money += jnum(x, "amount");
	if (money > hrv_refundable_amount(order)) {
		hrv_reply_422(req, "transactions",
			      "amount exceeds the refundable amount");
		return NULL;
	}
	if (!rl && money <= 0) {
		hrv_reply_422(req, "refund_line_items", "can't be blank");
		return NULL;
	}
	bool restock = sbx_jbool(in, "restock", false);
	double loc = jnum(order, "location_id");
	cJSON *r = cJSON_CreateObject();
	cJSON_AddNumberToObject(r, "id", new_id(st));
	cJSON_AddNumberToObject(r, "order_id", jid(order));
	hrv_stamp(r, "created_at");
	sbx_jset_str(r, "note", sbx_jstr(in, "note"));
	sbx_jset(r, "restock", cJSON_CreateBool(restock));
	cJSON_AddNullToObject(r, "user_id");
	cJSON *out_lines = cJSON_AddArrayToObject(r, "refund_line_items");
	cJSON_ArrayForEach (x, rl) {
		cJSON *l = hrv_find_id(jget(order, "line_items"), jnum(x, "line"
									  "_"
									  "item"
									  "_"
									  "i"
									  "d"));
		double q = jnum(x, "quantity");
		/* a return takes shipped units first, then unshipped ones */
		double from_ful =
			q < jnum(l, "_fulfilled") ? q : jnum(l, "_fulfilled");
		double from_unf = q - from_ful;
		if (from_unf > jnum(l, "fulfillable_quantity"))
			from_unf = jnum(l, "fulfillable_quantity");
		if (restock)
			hrv_inv_move(st, loc, jnum(l, "variant_id"), from_ful,
				     0);
		hrv_inv_move(st, loc, jnum(l, "variant_id"), 0, -from_unf);
		sbx_jset_num(l, "_fulfilled", jnum(l, "_fulfilled") - from_ful);
		sbx_jset_num(l, "fulfillable_quantity",
			     jnum(l, "fulfillable_quantity") - from_unf);
		sbx_jset_num(l, "_refunded", jnum(l, "_refunded") + q);
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "id", new_id(st));
		cJSON_AddNumberToObject(o, "line_item_id", jid(l));
		cJSON_AddNumberToObject(o, "quantity", q);
		cJSON_AddNumberToObject(o, "subtotal", hrv_line_value(l, q));
		cJSON_AddItemToObject(o, "line_item", sbx_out_copy(l));
		cJSON_AddItemToArray(out_lines, o);
	}
	cJSON *txs = cJSON_AddArrayToObject(r, "transactions");
	cJSON_ArrayForEach (x, jget(in, "transactions")) {
		if (jnum(x, "amount") > 0)
			cJSON_AddItemToArray(
				txs,
				cJSON_Duplicate(hrv_tx_new(st, order, "refund",
							   jnum(x, "amount"),
							   sbx_jstr(x, "gatewa"
								       "y")),
						true));
	}
	cJSON_AddItemToArray(jget(order, "refunds"), r);
	hrv_recompute_financial(order);
	bool all_back = restock;
	cJSON *l;
	cJSON_ArrayForEach (l, jget(order, "line_items")) {
		if (jnum(l, "_refunded") < jnum(l, "quantity"))
			all_back = false;
	}
	if (all_back)
		sbx_jset_str(order, "fulfillment_status", "restocked");
	hrv_stamp(order, "updated_at");
	return r;
}

/* ---- orders: transactions ---- */

static bool valid_kind(const char *k)
{
	static const char *const kinds[] = { "pending", "authorization",
					     "capture", "sale",
					     "void",	"refund",
					     NULL };
	for (int i = 0; kinds[i]; i++) {
		if (strcasecmp(k, kinds[i]) == 0)
			return true;
	}
	return false;
}

/* Adds a transaction; NULL after a 422. Sends orders/paid on the
 * transition to paid. */
cJSON *hrv_transaction_add(struct sbx_emu *emu, struct sbx_req *req, cJSON *o,
			   const cJSON *in)
{
	struct hrv *st = emu->data;
	const char *kind = sbx_jstr(in, "kind");
	if (!kind || !valid_kind(kind)) {
		hrv_reply_422(req, "kind", "is not included in the list");
		return NULL;
	}
	double due = jnum(o, "total_price") - paid_amount(o);
	double amount = sbx_jnum(in, "amount",
				 strcasecmp(kind, "refund") == 0
					 ? hrv_refundable_amount(o)
					 : due);
	if (amount <= 0) {
		hrv_reply_422(req, "amount", "must be greater than 0");
		return NULL;
	}
	if (cancelled(o) && strcasecmp(kind, "refund") != 0) {
		hrv_reply_422(req, "base", "order is cancelled");
		return NULL;
	}
	if ((strcasecmp(kind, "sale") == 0 ||
	     strcasecmp(kind, "capture") == 0) &&
	    amount > due) {
		hrv_reply_422(req, "amount", "exceeds the outstanding balance");
		return NULL;
	}
	if (strcasecmp(kind, "refund") == 0 &&
	    amount > hrv_refundable_amount(o)) {
		hrv_reply_422(req, "amount", "exceeds the refundable amount");
		return NULL;
	}
	bool was_paid = financial_is(o, "paid");
	char lk[16];
	snprintf(lk, sizeof lk, "%s", kind);
	for (char *p = lk; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	cJSON *t = hrv_tx_new(st, o, lk, amount, sbx_jstr(in, "gateway"));
	hrv_recompute_financial(o);
	hrv_stamp(o, "updated_at");
	hrv_emit_order(emu,
		       !was_paid && financial_is(o, "paid") ? "orders/paid"
							    : "orders/updated",
		       o);
	return t;
}

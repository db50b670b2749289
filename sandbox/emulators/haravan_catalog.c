/*
 * haravan_catalog.c - the Haravan emulator's catalogue and stock: products
 * and variants, locations, inventory rows per location (on hand, committed,
 * available) and adjustments, with their endpoints. See
 * sandbox/docs/haravan.md.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/sbx.h"
#include "haravan_int.h"

/* ---- inventory ---- */

cJSON *hrv_find_variant(struct hrv *st, double vid, cJSON **product)
{
	cJSON *p;
	cJSON_ArrayForEach (p, st->products) {
		cJSON *v = hrv_find_id(jget(p, "variants"), vid);
		if (v) {
			if (product)
				*product = p;
			return v;
		}
	}
	return NULL;
}

cJSON *hrv_find_variant_sku(struct hrv *st, const char *sku, cJSON **product)
{
	cJSON *p;
	cJSON *v;
	cJSON_ArrayForEach (p, st->products) {
		cJSON_ArrayForEach (v, jget(p, "variants")) {
			const char *s = sbx_jstr(v, "sku");
			if (s && sku && strcmp(s, sku) == 0) {
				if (product)
					*product = p;
				return v;
			}
		}
	}
	return NULL;
}

cJSON *hrv_inv_row(struct hrv *st, double loc, const cJSON *variant,
		   const cJSON *product)
{
	cJSON *r;
	cJSON_ArrayForEach (r, st->inventory) {
		if (jnum(r, "loc_id") == loc &&
		    jnum(r, "variant_id") == jid(variant))
			return r;
	}
	r = cJSON_CreateObject();
	cJSON_AddNumberToObject(r, "id", new_id(st));
	cJSON_AddNumberToObject(r, "loc_id", loc);
	cJSON_AddNumberToObject(r, "product_id", jid(product));
	cJSON_AddNumberToObject(r, "variant_id", jid(variant));
	cJSON_AddNumberToObject(r, "qty_onhand", 0);
	cJSON_AddNumberToObject(r, "qty_commited", 0);
	cJSON_AddNumberToObject(r, "qty_incoming", 0);
	cJSON_AddNumberToObject(r, "qty_available", 0);
	hrv_stamp(r, "updated_at");
	cJSON_AddItemToArray(st->inventory, r);
	return r;
}

/* variant.inventory_quantity follows the sum of qty_available. */
static void sync_variant_qty(struct hrv *st, cJSON *variant)
{
	double sum = 0;
	const cJSON *r;
	cJSON_ArrayForEach (r, st->inventory) {
		if (jnum(r, "variant_id") == jid(variant))
			sum += jnum(r, "qty_available");
	}
	sbx_jset_num(variant, "inventory_quantity", sum);
}

void hrv_inv_move(struct hrv *st, double loc, double vid, double d_onhand,
		  double d_commit)
{
	cJSON *product = NULL;
	cJSON *variant = hrv_find_variant(st, vid, &product);
	if (!variant || (d_onhand == 0 && d_commit == 0))
		return;
	cJSON *r = hrv_inv_row(st, loc, variant, product);
	double onhand = jnum(r, "qty_onhand") + d_onhand;
	double commit = jnum(r, "qty_commited") + d_commit;
	sbx_jset_num(r, "qty_onhand", onhand);
	sbx_jset_num(r, "qty_commited", commit);
	sbx_jset_num(r, "qty_available", onhand - commit);
	hrv_stamp(r, "updated_at");
	sync_variant_qty(st, variant);
}

void hrv_inv_set(struct hrv *st, double loc, cJSON *variant, cJSON *product,
		 double onhand)
{
	cJSON *r = hrv_inv_row(st, loc, variant, product);
	sbx_jset_num(r, "qty_onhand", onhand);
	sbx_jset_num(r, "qty_available", onhand - jnum(r, "qty_commited"));
	hrv_stamp(r, "updated_at");
	sync_variant_qty(st, variant);
}

double hrv_primary_location(struct hrv *st)
{
	const cJSON *l;
	cJSON_ArrayForEach (l, st->locations) {
		if (sbx_jbool(l, "is_primary", false))
			return jid(l);
	}
	return st->locations && st->locations->child ? jid(st->locations->child)
						     : 0;
}

/* ---- products and variants ---- */

static const char *const variant_fields[] = { "sku",
					      "barcode",
					      "title",
					      "price",
					      "compare_at_price",
					      "option1",
					      "option2",
					      "option3",
					      "inventory_management",
					      "inventory_policy",
					      "requires_shipping",
					      "taxable",
					      "grams",
					      "weight",
					      NULL };

static bool variant_check(struct sbx_req *req, const cJSON *in)
{
	const cJSON *price = jget(in, "price");
	if (price && !cJSON_IsNull(price) && sbx_jnum(in, "price", -1) < 0) {
		hrv_reply_422(req, "price",
			      "must be greater than or equal to 0");
		return false;
	}
	return true;
}

static cJSON *variant_new(struct hrv *st, const cJSON *product, const cJSON *in)
{
	cJSON *v = cJSON_CreateObject();
	cJSON_AddNumberToObject(v, "id", new_id(st));
	cJSON_AddNumberToObject(v, "product_id", jid(product));
	cJSON_AddStringToObject(v, "title", "Default Title");
	cJSON_AddNumberToObject(v, "price", 0);
	cJSON_AddNullToObject(v, "compare_at_price");
	cJSON_AddNullToObject(v, "sku");
	cJSON_AddNullToObject(v, "barcode");
	cJSON_AddStringToObject(v, "option1", "Default Title");
	cJSON_AddNullToObject(v, "option2");
	cJSON_AddNullToObject(v, "option3");
	cJSON_AddStringToObject(v, "inventory_management", "haravan");
	cJSON_AddStringToObject(v, "inventory_policy", "continue");
	cJSON_AddNumberToObject(v, "inventory_quantity", 0);
	cJSON_AddTrueToObject(v, "requires_shipping");
	cJSON_AddTrueToObject(v, "taxable");
	cJSON_AddNumberToObject(v, "grams", 0);
	hrv_stamp(v, "created_at");
	hrv_stamp(v, "updated_at");
	for (int i = 0; variant_fields[i]; i++)
		jcopy(v, in, variant_fields[i]);
	if (jget(in, "price"))
		sbx_jset_num(v, "price", sbx_jnum(in, "price", 0));
	return v;
}

/* New variants get a zero row at every stocking location, as in the admin. */
static void variant_rows(struct hrv *st, cJSON *product, cJSON *variant)
{
	const cJSON *l;
	cJSON_ArrayForEach (l, st->locations) {
		const char *type = sbx_jstr(l, "location_type");
		if (!type || strcmp(type, "ontheroad") != 0)
			hrv_inv_row(st, jid(l), variant, product);
	}
}

static const char *const product_fields[] = {
	"title", "body_html", "vendor",		 "product_type",
	"tags",	 "handle",    "published_scope", "only_hide_from_list",
	NULL
};

bool hrv_product_check(struct sbx_req *req, const cJSON *in, bool create)
{
	const char *title = sbx_jstr(in, "title");
	const cJSON *t = jget(in, "title");
	if ((create || t) && (!title || !*title)) {
		hrv_reply_422(req, "title", "can't be blank");
		return false;
	}
	const cJSON *vs = jget(in, "variants");
	const cJSON *v;
	if (cJSON_GetArraySize(vs) > 100) {
		hrv_reply_422(req, "variants",
			      "too many variants (maximum 100)");
		return false;
	}
	cJSON_ArrayForEach (v, vs) {
		if (!variant_check(req, v))
			return false;
	}
	return true;
}

cJSON *hrv_product_create(struct hrv *st, const cJSON *in)
{
	cJSON *p = cJSON_CreateObject();
	double id = new_id(st);
	char handle[64];
	cJSON_AddNumberToObject(p, "id", id);
	for (int i = 0; product_fields[i]; i++)
		cJSON_AddNullToObject(p, product_fields[i]);
	snprintf(handle, sizeof handle, "san-pham-%.0f", id);
	sbx_jset_str(p, "handle", handle);
	for (int i = 0; product_fields[i]; i++)
		jcopy(p, in, product_fields[i]);
	cJSON_AddItemToObject(p, "options",
			      cJSON_Parse("[{\"name\":\"Title\",\"position\":1}"
					  "]"));
	cJSON_AddArrayToObject(p, "images");
	hrv_stamp(p, "created_at");
	hrv_stamp(p, "updated_at");
	hrv_stamp(p, "published_at");
	cJSON *vs = cJSON_AddArrayToObject(p, "variants");
	const cJSON *vin;
	cJSON_ArrayForEach (vin, jget(in, "variants"))
		cJSON_AddItemToArray(vs, variant_new(st, p, vin));
	if (!vs->child) {
		cJSON *empty = cJSON_CreateObject();
		cJSON_AddItemToArray(vs, variant_new(st, p, empty));
		cJSON_Delete(empty);
	}
	cJSON_AddItemToArray(st->products, p);
	cJSON *v;
	cJSON_ArrayForEach (v, vs)
		variant_rows(st, p, v);
	return p;
}

void hrv_variant_update(cJSON *v, const cJSON *in)
{
	for (int i = 0; variant_fields[i]; i++)
		jcopy(v, in, variant_fields[i]);
	if (jget(in, "price"))
		sbx_jset_num(v, "price", sbx_jnum(in, "price", 0));
	hrv_stamp(v, "updated_at");
}

/* Updates p from in; returns false after a 422 (nothing changed). */
bool hrv_product_update(struct hrv *st, struct sbx_req *req, cJSON *p,
			const cJSON *in)
{
	const cJSON *vin;
	cJSON_ArrayForEach (vin, jget(in, "variants")) {
		double vid = sbx_jnum(vin, "id", -1);
		if (vid >= 0 && !hrv_find_id(jget(p, "variants"), vid)) {
			hrv_reply_422(req, "variants",
				      "variant does not belong to this "
				      "product");
			return false;
		}
	}
	for (int i = 0; product_fields[i]; i++)
		jcopy(p, in, product_fields[i]);
	cJSON_ArrayForEach (vin, jget(in, "variants")) {
		double vid = sbx_jnum(vin, "id", -1);
		if (vid >= 0) {
			hrv_variant_update(
				hrv_find_id(jget(p, "variants"), vid), vin);
		} else {
			cJSON *v = variant_new(st, p, vin);
			cJSON_AddItemToArray(jget(p, "variants"), v);
			variant_rows(st, p, v);
		}
	}
	hrv_stamp(p, "updated_at");
	return true;
}

static bool product_keep(const cJSON *p, struct sbx_req *req, struct hrv *st)
{
	static const char *const keys[] = { "product_type", "vendor", "handle",
					    "title", NULL };
	for (int i = 0; keys[i]; i++) {
		const char *q = sbx_query(req, keys[i]);
		const char *v = sbx_jstr(p, keys[i]);
		if (q && (!v || strcmp(q, v) != 0))
			return false;
	}
	return true;
}

static const struct hrv_coll coll_products = {
	"read_products", offsetof(struct hrv, products),
	product_keep,	 &hrv_opts_default,
	"products",	 "product",
};
HRV_COLL_HANDLERS(coll_products, hrv_h_products_list, hrv_h_products_count,
		  hrv_h_product_get)

void hrv_h_product_create(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	if (!hrv_auth(emu, req, "write_products"))
		return;
	const cJSON *in = hrv_body_root(req, "product");
	if (!in || !hrv_product_check(req, in, true))
		return;
	cJSON *p = hrv_product_create(st, in);
	hrv_emit(emu, "products/create", p);
	sbx_reply_json(req, 201, wrap("product", sbx_out_copy(p)));
}

void hrv_h_product_update(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	cJSON *p = hrv_auth_find(emu, req, "write_products", st->products);
	if (!p)
		return;
	const cJSON *in = hrv_body_root(req, "product");
	if (!in || !hrv_product_check(req, in, false) ||
	    !hrv_product_update(st, req, p, in))
		return;
	hrv_emit(emu, "products/update", p);
	sbx_reply_json(req, 200, wrap("product", sbx_out_copy(p)));
}

void hrv_h_product_delete(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	cJSON *p = hrv_auth_find(emu, req, "write_products", st->products);
	if (!p)
		return;
	double pid = jid(p);
	cJSON *r = st->inventory->child;
	while (r) {
		cJSON *next = r->next;
		if (jnum(r, "product_id") == pid)
			cJSON_Delete(
				cJSON_DetachItemViaPointer(st->inventory, r));
		r = next;
	}
	cJSON *gone = cJSON_DetachItemViaPointer(st->products, p);
	hrv_emit(emu, "products/delete", gone);
	cJSON_Delete(gone);
	sbx_reply_json(req, 200, cJSON_CreateObject());
}

void hrv_h_variants_list(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	cJSON *p = hrv_auth_find(emu, req, "read_products", st->products);
	if (!p)
		return;
	cJSON *arr = hrv_list_page(req, st, jget(p, "variants"), NULL,
				   &hrv_opts_default, NULL);
	sbx_reply_json(req, 200, wrap("variants", arr));
}

void hrv_h_variant_create(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	cJSON *p = hrv_auth_find(emu, req, "write_products", st->products);
	if (!p)
		return;
	const cJSON *in = hrv_body_root(req, "variant");
	if (!in || !variant_check(req, in))
		return;
	if (cJSON_GetArraySize(jget(p, "variants")) >= 100) {
		hrv_reply_422(req, "variants",
			      "too many variants (maximum 100)");
		return;
	}
	cJSON *v = variant_new(st, p, in);
	cJSON_AddItemToArray(jget(p, "variants"), v);
	variant_rows(st, p, v);
	hrv_stamp(p, "updated_at");
	hrv_emit(emu, "products/update", p);
	sbx_reply_json(req, 201, wrap("variant", sbx_out_copy(v)));
}

void hrv_h_variant_get(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	if (!hrv_auth(emu, req, "read_products"))
		return;
	cJSON *v =
		hrv_find_variant(st, hrv_parse_id(sbx_param(req, "id")), NULL);
	if (!v) {
		hrv_reply_404(req);
		return;
	}
	sbx_reply_json(req, 200, wrap("variant", sbx_out_copy(v)));
}

void hrv_h_variant_update(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	cJSON *p = NULL;
	if (!hrv_auth(emu, req, "write_products"))
		return;
	cJSON *v = hrv_find_variant(st, hrv_parse_id(sbx_param(req, "id")), &p);
	if (!v) {
		hrv_reply_404(req);
		return;
	}
	const cJSON *in = hrv_body_root(req, "variant");
	if (!in || !variant_check(req, in))
		return;
	hrv_variant_update(v, in);
	hrv_stamp(p, "updated_at");
	hrv_emit(emu, "products/update", p);
	sbx_reply_json(req, 200, wrap("variant", sbx_out_copy(v)));
}

/* ---- locations and inventory ---- */

void hrv_h_locations(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	if (!hrv_auth(emu, req, "read_shop"))
		return;
	sbx_reply_json(req, 200,
		       wrap("locations", sbx_out_copy(st->locations)));
}

void hrv_h_location_get(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	cJSON *l = hrv_auth_find(emu, req, "read_shop", st->locations);
	if (!l)
		return;
	sbx_reply_json(req, 200, wrap("location", sbx_out_copy(l)));
}

void hrv_h_shop(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	if (!hrv_auth(emu, req, "read_shop"))
		return;
	cJSON *s = sbx_out_copy(st->shop);
	cJSON_DeleteItemFromObjectCaseSensitive(s, "webhook_secret");
	cJSON_DeleteItemFromObjectCaseSensitive(s, "verify_token");
	sbx_jset_num(s, "id", jnum(st->shop, "org_id"));
	sbx_reply_json(req, 200, wrap("shop", s));
}

static int count_ids(const char *list)
{
	int n = 0;
	for (const char *p = list; p && *p; p++)
		n += *p == ',';
	return list && *list ? n + 1 : 0;
}

static bool inventory_keep(const cJSON *r, struct sbx_req *req, struct hrv *st)
{
	const char *locs = sbx_query(req, "location_ids");
	const char *vars = sbx_query(req, "variant_ids");
	if (locs && *locs && !hrv_in_id_list(locs, jnum(r, "loc_id")))
		return false;
	if (vars && *vars && !hrv_in_id_list(vars, jnum(r, "variant_id")))
		return false;
	return true;
}

void hrv_h_inventory_locations(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	if (!hrv_auth(emu, req, "read_inventories"))
		return;
	if (count_ids(sbx_query(req, "location_ids")) > 50) {
		hrv_reply_422(req, "location_ids", "maximum 50 ids");
		return;
	}
	if (count_ids(sbx_query(req, "variant_ids")) > 50) {
		hrv_reply_422(req, "variant_ids", "maximum 50 ids");
		return;
	}
	cJSON *arr = hrv_list_page(req, st, st->inventory, inventory_keep,
				   &hrv_opts_inventory, NULL);
	sbx_reply_json(req, 200, wrap("inventory_locations", arr));
}

static bool valid_reason(const char *r)
{
	static const char *const reasons[] = { "newproduct",	    "returned",
					       "productionofgoods", "damaged",
					       "shrinkage",	    "promotion",
					       "transfer",	    NULL };
	for (int i = 0; reasons[i]; i++) {
		if (strcmp(r, reasons[i]) == 0)
			return true;
	}
	return false;
}

/* Checks every line before touching stock: all or nothing. */
static bool adjust_check(struct hrv *st, struct sbx_req *req, const cJSON *in)
{
	const char *type = sbx_jstr(in, "type");
	const char *reason = sbx_jstr(in, "reason");
	const cJSON *lines = jget(in, "line_items");
	const cJSON *l;
	if (!hrv_find_id(st->locations, sbx_jnum(in, "location_id", -1))) {
		hrv_reply_422(req, "location_id", "location not found");
		return false;
	}
	if (type && strcmp(type, "adjust") != 0 && strcmp(type, "set") != 0) {
		hrv_reply_422(req, "type", "is not included in the list");
		return false;
	}
	if (reason && !valid_reason(reason)) {
		hrv_reply_422(req, "reason", "is not included in the list");
		return false;
	}
	if (!cJSON_IsArray(lines) || !lines->child) {
		hrv_reply_422(req, "line_items", "can't be blank");
		return false;
	}
	cJSON_ArrayForEach (l, lines) {
		cJSON *p = NULL;
		cJSON *v = hrv_find_variant(
			st, sbx_jnum(l, "product_variant_id", -1), &p);
		if (!v) {
			hrv_reply_422(req, "line_items",
				      "product_variant_id not found");
			return false;
		}
		if (jget(l, "product_id") &&
		    sbx_jnum(l, "product_id", -1) != jid(p)) {
			hrv_reply_422(req, "line_items",
				      "product_id does not match the variant");
			return false;
		}
		const cJSON *q = jget(l, "quantity");
		if (!cJSON_IsNumber(q) || !whole(q->valuedouble)) {
			hrv_reply_422(req, "line_items",
				      "quantity must be an integer");
			return false;
		}
		if (type && strcmp(type, "set") == 0 && q->valuedouble < 0) {
			hrv_reply_422(req, "line_items",
				      "quantity must be greater than or equal "
				      "to "
				      "0");
			return false;
		}
	}
	return true;
}

void hrv_h_adjustorset(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	char num[32];
	if (!hrv_auth(emu, req, "write_inventories"))
		return;
	const cJSON *in = hrv_body_root(req, "inventory");
	if (!in || !adjust_check(st, req, in))
		return;
	const char *type =
		sbx_jstr(in, "type") ? sbx_jstr(in, "type") : "adjust";
	double loc = jnum(in, "location_id");
	cJSON *adj = cJSON_CreateObject();
	cJSON_AddNumberToObject(adj, "id", new_id(st));
	hrv_stamp(adj, "created_at");
	hrv_stamp(adj, "updated_at");
	snprintf(num, sizeof num, "IA%.0f", st->next_adjust_number++);
	cJSON_AddStringToObject(adj, "adjust_number", num);
	hrv_stamp(adj, "tran_date");
	cJSON_AddNumberToObject(adj, "location_id", loc);
	cJSON_AddStringToObject(adj, "type", type);
	cJSON_AddStringToObject(adj, "reason",
				sbx_jstr(in, "reason") ? sbx_jstr(in, "reason")
						       : "newproduct");
	sbx_jset_str(adj, "note", sbx_jstr(in, "note"));
	cJSON *lines = cJSON_AddArrayToObject(adj, "line_items");
	double total = 0;
	const cJSON *l;
	cJSON_ArrayForEach (l, jget(in, "line_items")) {
		cJSON *p = NULL;
		cJSON *v =
			hrv_find_variant(st, jnum(l, "product_variant_id"), &p);
		double q = jnum(l, "quantity");
		double delta = q;
		if (strcmp(type, "set") == 0) {
			delta = q - jnum(hrv_inv_row(st, loc, v, p), "qty_"
								     "onhand");
			hrv_inv_set(st, loc, v, p, q);
		} else {
			hrv_inv_move(st, loc, jid(v), q, 0);
		}
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "id", new_id(st));
		cJSON_AddNumberToObject(o, "product_id", jid(p));
		cJSON_AddNumberToObject(o, "product_variant_id", jid(v));
		cJSON_AddNumberToObject(o, "quantity", delta);
		jcopy(o, v, "sku");
		jcopy(o, v, "barcode");
		cJSON_AddItemToArray(lines, o);
		total += delta;
	}
	cJSON_AddNumberToObject(adj, "total_quantity", total);
	cJSON_AddItemToArray(st->adjustments, adj);
	sbx_reply_json(req, 201, wrap("adjustment", sbx_out_copy(adj)));
}

static bool adjustment_keep(const cJSON *a, struct sbx_req *req, struct hrv *st)
{
	double loc = hrv_parse_id(sbx_query(req, "location_id"));
	return loc < 0 || jnum(a, "location_id") == loc;
}

static const struct hrv_coll coll_adjustments = {
	"read_inventories", offsetof(struct hrv, adjustments),
	adjustment_keep,    &hrv_opts_default,
	"adjustments",	    "adjustment",
};
HRV_COLL_HANDLERS(coll_adjustments, hrv_h_adjustments, hrv_h_adjustments_count,
		  hrv_h_adjustment_get)

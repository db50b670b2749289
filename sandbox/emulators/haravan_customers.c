/*
 * haravan_customers.c - the Haravan emulator's customers: search, unique
 * email and phone, addresses, and the /com/customers endpoints. See
 * sandbox/docs/haravan.md.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/sbx.h"
#include "haravan_int.h"

/* ---- customers ---- */

static bool customer_keep(const cJSON *c, struct sbx_req *req, struct hrv *st)
{
	const char *q = sbx_query(req, "query");
	if (!q || !*q)
		return true;
	const char *field = NULL;
	const char *colon = strchr(q, ':');
	char key[32] = "";
	if (colon && (size_t)(colon - q) < sizeof key) {
		memcpy(key, q, (size_t)(colon - q));
		key[colon - q] = '\0';
		field = key;
		q = colon + 1;
	}
	static const char *const fields[] = { "email", "phone", "first_name",
					      "last_name", NULL };
	for (int i = 0; fields[i]; i++) {
		if (field && strcmp(field, fields[i]) != 0)
			continue;
		const char *v = sbx_jstr(c, fields[i]);
		if (v && strcasestr(v, q))
			return true;
	}
	return false;
}

cJSON *hrv_find_customer_by(struct hrv *st, const char *key, const char *val,
			    double skip)
{
	cJSON *c;
	if (!val || !*val)
		return NULL;
	cJSON_ArrayForEach (c, st->customers) {
		const char *v = sbx_jstr(c, key);
		if (v && strcasecmp(v, val) == 0 && jid(c) != skip)
			return c;
	}
	return NULL;
}

cJSON *hrv_make_address(struct hrv *st, const cJSON *in, const cJSON *cust)
{
	cJSON *a = cJSON_CreateObject();
	static const char *const keys[] = {
		"address1",   "address2",      "city",	   "company",
		"province",   "province_code", "district", "district_code",
		"ward",	      "ward_code",     "phone",	   "zip",
		"first_name", "last_name",     NULL
	};
	cJSON_AddNumberToObject(a, "id", new_id(st));
	for (int i = 0; keys[i]; i++) {
		if (jget(in, keys[i]))
			jcopy(a, in, keys[i]);
		else
			cJSON_AddNullToObject(a, keys[i]);
	}
	cJSON_AddStringToObject(a, "country", "Vietnam");
	cJSON_AddStringToObject(a, "country_code", "VN");
	char name[256];
	snprintf(name, sizeof name, "%s %s",
		 sbx_jstr(cust, "last_name") ? sbx_jstr(cust, "last_name") : "",
		 sbx_jstr(cust, "first_name") ? sbx_jstr(cust, "first_name")
					      : "");
	cJSON_AddStringToObject(a, "name", name);
	return a;
}

const char *const hrv_customer_fields[] = {
	"first_name", "last_name", "email",
	"phone",      "gender",	   "birthday",
	"note",	      "tags",	   "accepts_marketing",
	"group_name", NULL
};

/* Validates and applies customer fields; returns false after a 422. */
static bool customer_apply(struct hrv *st, struct sbx_req *req, cJSON *c,
			   const cJSON *in)
{
	const char *email = sbx_jstr(in, "email");
	const char *phone = sbx_jstr(in, "phone");
	if (email && (!strchr(email, '@') || strchr(email, ' '))) {
		hrv_reply_422(req, "email", "is invalid");
		return false;
	}
	if (hrv_find_customer_by(st, "email", email, jid(c))) {
		hrv_reply_422(req, "email", "has already been taken");
		return false;
	}
	if (hrv_find_customer_by(st, "phone", phone, jid(c))) {
		hrv_reply_422(req, "phone", "has already been taken");
		return false;
	}
	for (int i = 0; hrv_customer_fields[i]; i++)
		jcopy(c, in, hrv_customer_fields[i]);
	const cJSON *addrs = jget(in, "addresses");
	if (cJSON_IsArray(addrs)) {
		cJSON *arr = cJSON_CreateArray();
		const cJSON *a;
		cJSON_ArrayForEach (a, addrs)
			cJSON_AddItemToArray(arr, hrv_make_address(st, a, c));
		sbx_jset(c, "addresses", arr);
		cJSON *first = arr->child;
		if (first) {
			sbx_jset(first, "default", cJSON_CreateTrue());
			sbx_jset(c, "default_address",
				 cJSON_Duplicate(first, true));
		} else {
			sbx_jset(c, "default_address", cJSON_CreateNull());
		}
	}
	return true;
}

cJSON *hrv_customer_new(struct hrv *st)
{
	cJSON *c = cJSON_CreateObject();
	cJSON_AddNumberToObject(c, "id", new_id(st));
	for (int i = 0; hrv_customer_fields[i]; i++)
		cJSON_AddNullToObject(c, hrv_customer_fields[i]);
	cJSON_AddArrayToObject(c, "addresses");
	cJSON_AddNullToObject(c, "default_address");
	cJSON_AddNumberToObject(c, "orders_count", 0);
	cJSON_AddNumberToObject(c, "total_spent", 0);
	cJSON_AddNullToObject(c, "last_order_id");
	cJSON_AddNullToObject(c, "last_order_name");
	cJSON_AddStringToObject(c, "state", "enabled");
	hrv_stamp(c, "created_at");
	hrv_stamp(c, "updated_at");
	return c;
}

/* Creates a customer from in; returns it (already stored) or NULL after a
 * 422 reply. */
cJSON *hrv_customer_create(struct hrv *st, struct sbx_req *req, const cJSON *in)
{
	if (!sbx_jstr(in, "email") && !sbx_jstr(in, "phone") &&
	    !sbx_jstr(in, "first_name") && !sbx_jstr(in, "last_name")) {
		hrv_reply_422(req, "customer",
			      "email, phone or name can't be blank");
		return NULL;
	}
	cJSON *c = hrv_customer_new(st);
	if (!customer_apply(st, req, c, in)) {
		cJSON_Delete(c);
		return NULL;
	}
	cJSON_AddItemToArray(st->customers, c);
	return c;
}

static const struct hrv_coll coll_customers = {
	"read_customers", offsetof(struct hrv, customers),
	customer_keep,	  &hrv_opts_default,
	"customers",	  "customer",
};
HRV_COLL_HANDLERS(coll_customers, hrv_h_customers_list, hrv_h_customers_count,
		  hrv_h_customer_get)

void hrv_h_customer_groups(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	if (!hrv_auth(emu, req, "read_customers"))
		return;
	sbx_reply_json(req, 200,
		       wrap("customer_groups",
			    cJSON_Duplicate(st->groups, true)));
}

void hrv_h_customer_create(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	if (!hrv_auth(emu, req, "write_customers"))
		return;
	const cJSON *in = hrv_body_root(req, "customer");
	if (!in)
		return;
	cJSON *c = hrv_customer_create(st, req, in);
	if (!c)
		return;
	hrv_emit(emu, "customers/create", c);
	sbx_reply_json(req, 201, wrap("customer", sbx_out_copy(c)));
}

void hrv_h_customer_update(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	cJSON *c = hrv_auth_find(emu, req, "write_customers", st->customers);
	if (!c)
		return;
	const cJSON *in = hrv_body_root(req, "customer");
	if (!in)
		return;
	/* apply to a copy so a 422 leaves the record untouched */
	cJSON *tmp = cJSON_Duplicate(c, true);
	if (!customer_apply(st, req, tmp, in)) {
		cJSON_Delete(tmp);
		return;
	}
	hrv_stamp(tmp, "updated_at");
	cJSON_ReplaceItemViaPointer(st->customers, c, tmp);
	hrv_emit(emu, "customers/update", tmp);
	sbx_reply_json(req, 200, wrap("customer", sbx_out_copy(tmp)));
}

void hrv_h_customer_delete(struct sbx_emu *emu, struct sbx_req *req)
{
	struct hrv *st = emu->data;
	cJSON *c = hrv_auth_find(emu, req, "write_customers", st->customers);
	if (!c)
		return;
	if (jnum(c, "orders_count") > 0) {
		hrv_reply_422(req, "base",
			      "customer has orders and cannot be deleted");
		return;
	}
	cJSON *gone = cJSON_DetachItemViaPointer(st->customers, c);
	hrv_emit(emu, "customers/delete", gone);
	cJSON_Delete(gone);
	sbx_reply_json(req, 200, cJSON_CreateObject());
}

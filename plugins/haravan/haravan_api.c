/*
 * haravan_api.c - Haravan's REST API (apis.md §4.1-4.2): one call with
 * Haravan's errors worded for a person, and the two actions that write
 * to the shop: a product from MISA (H3) and stock per location (H4).
 *
 * Pacing is the host's: the plugin declares Haravan's leaky bucket (80
 * calls, 4 a second, X-Haravan-Api-Call-Limit) and every request here
 * goes through host->http, which waits for room in the bucket. The
 * actions still spend as few calls as the API allows: stock is read 50
 * variants a call and written up to 100 lines a call, only where it
 * differs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "haravan.h"

#define READ_IDS 50	 /* inventory_locations takes at most 50 ids */
#define WRITE_LINES 100	 /* adjustorset: best at most 100-200 lines */
#define PRODUCT_PAGE 250 /* products.json: limit at most 250 */

const char *hrv_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

const char *hrv_id(const cJSON *o, const char *key, char *buf, size_t len)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (cJSON_IsNumber(v)) {
		snprintf(buf, len, "%.0f", v->valuedouble);
		return buf;
	}
	if (cJSON_IsString(v) && *v->valuestring)
		return v->valuestring;
	return NULL;
}

/* Haravan's {"errors": "msg"} or {"errors": {"field": ["msg", ...]}} as
 * one line: "email has already been taken; phone ...". */
static void errors_text(const cJSON *reply, char *out, size_t len)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(reply, "errors");
	const cJSON *f, *m;
	size_t n = 0;

	out[0] = '\0';
	if (cJSON_IsString(e)) {
		snprintf(out, len, "%s", e->valuestring);
		return;
	}
	cJSON_ArrayForEach (f, e) {
		if (cJSON_IsString(f)) {
			n += snprintf(out + n, n < len ? len - n : 0, "%s%s %s",
				      n ? "; " : "", f->string, f->valuestring);
			continue;
		}
		cJSON_ArrayForEach (m, f)
			if (cJSON_IsString(m))
				n += snprintf(out + n, n < len ? len - n : 0,
					      "%s%s %s", n ? "; " : "",
					      f->string, m->valuestring);
	}
}

enum luong_status hrv_call(struct hrv *b, struct luong_call *call,
			   const char *method, const char *path,
			   const cJSON *body, cJSON **reply)
{
	const struct luong_host *h = b->h;
	char url[2048], *text = body ? h->json->print(body) : NULL;
	struct luong_http_header hdrs[] = {
		{ "Authorization", b->auth },
		{ "Content-Type", "application/json" },
	};
	struct luong_http_request rq = {
		.struct_size = sizeof(rq),
		.method = method,
		.url = url,
		.headers = hdrs,
		.n_headers = text ? 2 : 1,
		.body = text,
		.body_len = text ? strlen(text) : 0,
	};
	struct luong_http_response resp = { .struct_size = sizeof(resp) };
	struct luong_http_result_opts opts = {
		.struct_size = sizeof(opts),
		.system = HRV_SYSTEM,
		.message_path = "errors",
	};
	enum luong_status st;

	*reply = NULL;
	snprintf(url, sizeof(url), "%s/com/%s", b->server, path);
	st = h->http->request(b->ctx, &rq, &resp);
	h->mem->free(text);
	if (st == LUONG_OK && resp.status >= 400 && resp.status < 500 &&
	    resp.status != 401 && resp.status != 403 && resp.status != 429) {
		/* 422 and the like: Haravan's own words, for good */
		cJSON *err = h->json->parse(resp.body, resp.body_len);
		char why[600];

		errors_text(err, why, sizeof(why));
		if (!*why)
			snprintf(why, sizeof(why), "%.160s",
				 resp.body ? resp.body : "");
		if (call)
			h->call->set_error(call,
					   "Haravan từ chối / refused (HTTP "
					   "%ld, %s %s): %s",
					   resp.status, method, path, why);
		else
			h->log->log(b->ctx, LUONG_LOG_WARN,
				    "Haravan refused %s %s (HTTP %ld): %s",
				    method, path, resp.status, why);
		h->json->del(err);
		h->http->response_free(&resp);
		return LUONG_E_REMOTE;
	}
	st = h->helpers->http_result(b->ctx, call, st, &resp, &opts);
	if (st == LUONG_OK && resp.body_len)
		*reply = h->json->parse(resp.body, resp.body_len);
	h->http->response_free(&resp);
	return st;
}

/* An id member copied into dst (32 bytes); false if absent or too long. */
static bool id_copy(const cJSON *o, const char *key, char *dst)
{
	char tmp[32];
	const char *s = hrv_id(o, key, tmp, sizeof(tmp));

	if (!s || strlen(s) >= 32)
		return false;
	snprintf(dst, 32, "%s", s);
	return true;
}

/* ---- SKU -> product and variant ------------------------------------------ */

static void sku_remember(struct hrv *b, const char *sku, const char *pid,
			 const char *vid)
{
	char key[300], val[64];

	snprintf(key, sizeof(key), "sku:%s", sku);
	snprintf(val, sizeof(val), "%s/%s", pid, vid);
	b->h->kv->put(b->ctx, key, val);
}

static bool sku_recall(struct hrv *b, const char *sku, char *pid, char *vid)
{
	char key[300], *val = NULL, *slash;
	bool ok = false;

	snprintf(key, sizeof(key), "sku:%s", sku);
	if (b->h->kv->get(b->ctx, key, &val) != LUONG_OK)
		return false;
	if ((slash = strchr(val, '/')) && slash - val < 32 &&
	    strlen(slash + 1) < 32) {
		memcpy(pid, val, (size_t)(slash - val));
		pid[slash - val] = '\0';
		strcpy(vid, slash + 1);
		ok = true;
	}
	b->h->mem->free(val);
	return ok;
}

/* How long a full read of the products answers "not on Haravan" for a
 * SKU it did not find: products made since by this connection are
 * remembered as they are made; others' are found by the next read. */
#define SCAN_FRESH_MS (10 * 60 * 1000)

/* Reads every product and remembers each variant's SKU: Haravan has no
 * lookup by SKU. Skipped while the last read is fresh, unless `force`
 * (a retry: what the first attempt made may be on Haravan unremembered). */
static enum luong_status sku_scan(struct hrv *b, struct luong_call *call)
{
	enum luong_status st = LUONG_OK;
	int64_t now = b->h->clock->now_ms();
	int64_t last = __atomic_load_n(&b->scanned_ms, __ATOMIC_ACQUIRE);
	bool force = call && b->h->call->attempt(call) > 1;

	if (!force && last && now - last < SCAN_FRESH_MS)
		return LUONG_OK;

	for (int page = 1; st == LUONG_OK && page < 1000; page++) {
		char path[128], pid[32], vid[32];
		cJSON *reply = NULL;
		const cJSON *list, *p, *v;
		int n;

		snprintf(path, sizeof(path),
			 "products.json?limit=%d&page=%d&fields=id,variants",
			 PRODUCT_PAGE, page);
		st = hrv_call(b, call, "GET", path, NULL, &reply);
		if (st != LUONG_OK)
			break;
		list = cJSON_GetObjectItemCaseSensitive(reply, "products");
		n = cJSON_GetArraySize(list);
		cJSON_ArrayForEach (p, list)
			cJSON_ArrayForEach (
				v, cJSON_GetObjectItemCaseSensitive(p, "variant"
								       "s"))
				if (hrv_str(v, "sku") &&
				    id_copy(p, "id", pid) &&
				    id_copy(v, "id", vid))
					sku_remember(b, hrv_str(v, "sku"), pid,
						     vid);
		b->h->json->del(reply);
		if (n < PRODUCT_PAGE)
			break;
	}
	if (st == LUONG_OK)
		__atomic_store_n(&b->scanned_ms, now, __ATOMIC_RELEASE);
	return st;
}

/* ---- save_product (H3) ------------------------------------------------- */

static cJSON *product_body(const cJSON *input, const char *pid, const char *vid)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *p = cJSON_AddObjectToObject(root, "product");
	cJSON *v = cJSON_CreateObject();
	const cJSON *price = cJSON_GetObjectItemCaseSensitive(input, "price");
	const char *unit = hrv_str(input, "unit");
	const char *desc = hrv_str(input, "description");

	if (pid)
		cJSON_AddNumberToObject(p, "id", strtod(pid, NULL));
	cJSON_AddStringToObject(p, "title", hrv_str(input, "title"));
	if (desc)
		cJSON_AddStringToObject(p, "body_html", desc);
	if (vid)
		cJSON_AddNumberToObject(v, "id", strtod(vid, NULL));
	cJSON_AddStringToObject(v, "sku", hrv_str(input, "sku"));
	if (cJSON_IsNumber(price))
		cJSON_AddNumberToObject(v, "price", price->valuedouble);
	/* Haravan has no unit: it travels as the variant's option */
	if (unit) {
		cJSON_AddStringToObject(v, "option1", unit);
		cJSON_AddStringToObject(v, "title", unit);
		if (!pid) {
			cJSON *o = cJSON_CreateObject();

			cJSON_AddStringToObject(o, "name", "Đơn vị tính");
			cJSON_AddItemToArray(cJSON_AddArrayToObject(p, "option"
								       "s"),
					     o);
		}
	}
	cJSON_AddItemToArray(cJSON_AddArrayToObject(p, "variants"), v);
	return root;
}

/* The product and variant the SKU already has: the previous version's
 * output, else remembered, else found by reading the products. */
static enum luong_status find_product(struct hrv *b, struct luong_call *call,
				      const char *sku, char *pid, char *vid,
				      bool *found)
{
	const cJSON *prev = b->h->call->previous_output(call);
	enum luong_status st;

	*found = false;
	if (id_copy(prev, "product_id", pid) &&
	    id_copy(prev, "variant_id", vid)) {
		*found = true;
		return LUONG_OK;
	}
	if (sku_recall(b, sku, pid, vid)) {
		*found = true;
		return LUONG_OK;
	}
	st = sku_scan(b, call);
	if (st == LUONG_OK)
		*found = sku_recall(b, sku, pid, vid);
	return st;
}

enum luong_status hrv_save_product(struct luong_call *call, void *state,
				   const cJSON *input, cJSON **output)
{
	struct hrv *b = state;
	const char *sku = hrv_str(input, "sku");
	char pid[32] = "", vid[32] = "", path[96];
	cJSON *body, *reply = NULL;
	const cJSON *p, *v;
	enum luong_status st;
	bool found;

	if (!sku || !*sku || !hrv_str(input, "title")) {
		b->h->call->set_error(call, "input.sku and input.title are "
					    "required");
		return LUONG_E_INVAL;
	}
	st = find_product(b, call, sku, pid, vid, &found);
	if (st != LUONG_OK)
		return st;
	body = product_body(input, found ? pid : NULL, found ? vid : NULL);
	if (found) {
		snprintf(path, sizeof(path), "products/%s.json", pid);
		st = hrv_call(b, call, "PUT", path, body, &reply);
	} else {
		st = hrv_call(b, call, "POST", "products.json", body, &reply);
	}
	cJSON_Delete(body);
	if (st != LUONG_OK) {
		b->h->json->del(reply);
		return st;
	}
	p = cJSON_GetObjectItemCaseSensitive(reply, "product");
	cJSON_ArrayForEach (v, cJSON_GetObjectItemCaseSensitive(p, "variants"))
		if (hrv_str(v, "sku") && !strcmp(hrv_str(v, "sku"), sku))
			break;
	if (!id_copy(p, "id", pid) || !id_copy(v, "id", vid)) {
		b->h->call->set_error(call, "Haravan answered without the "
					    "product's id");
		b->h->json->del(reply);
		return LUONG_E_REMOTE;
	}
	sku_remember(b, sku, pid, vid);
	*output = cJSON_CreateObject();
	cJSON_AddStringToObject(*output, "product_id", pid);
	cJSON_AddStringToObject(*output, "variant_id", vid);
	cJSON_AddStringToObject(*output, "sku", sku);
	cJSON_AddBoolToObject(*output, "created", !found);
	b->h->json->del(reply);
	return LUONG_OK;
}

/* ---- set_stock (H4) ---------------------------------------------------- */

/* One wanted level, resolved to Haravan's ids. */
struct level {
	const char *sku;
	char pid[32], vid[32];
	double loc, want;
	bool known, differs;
};

/* Reads the location's current on-hand for up to READ_IDS levels at a
 * time and marks the ones that differ. */
static enum luong_status mark_changed(struct hrv *b, struct luong_call *call,
				      struct level *lv, size_t n, double loc)
{
	enum luong_status st = LUONG_OK;

	for (size_t i = 0; i < n && st == LUONG_OK;) {
		char path[2048];
		size_t at = 0, ids = 0, first = i;
		cJSON *reply = NULL;
		const cJSON *row;

		at = (size_t)snprintf(path, sizeof(path),
				      "inventory_locations.json?location_ids="
				      "%.0f&limit=250&variant_ids=",
				      loc);
		for (; i < n && ids < READ_IDS; i++) {
			if (!lv[i].known || lv[i].loc != loc)
				continue;
			at += (size_t)snprintf(path + at, sizeof(path) - at,
					       "%s%s", ids ? "," : "",
					       lv[i].vid);
			lv[i].differs = true; /* no row: nothing there yet */
			ids++;
		}
		if (!ids)
			break;
		st = hrv_call(b, call, "GET", path, NULL, &reply);
		cJSON_ArrayForEach (
			row, cJSON_GetObjectItemCaseSensitive(reply, "inventory"
								     "_location"
								     "s")) {
			char vid[32];

			if (!id_copy(row, "variant_id", vid))
				continue;
			for (size_t j = first; j < i; j++)
				if (lv[j].known && lv[j].loc == loc &&
				    !strcmp(lv[j].vid, vid))
					lv[j].differs =
						cJSON_GetNumberValue(
							cJSON_GetObjectItemCaseSensitive(
								row, "qty_"
								     "onhan"
								     "d")) !=
						lv[j].want;
		}
		b->h->json->del(reply);
	}
	return st;
}

/* Writes the differing levels of one location, WRITE_LINES a call
 * (type "set": Haravan replaces on-hand). */
static enum luong_status write_changed(struct hrv *b, struct luong_call *call,
				       struct level *lv, size_t n, double loc,
				       cJSON *made, int *written)
{
	enum luong_status st = LUONG_OK;

	for (size_t i = 0; i < n && st == LUONG_OK;) {
		cJSON *root = cJSON_CreateObject(), *reply = NULL, *lines;
		cJSON *inv = cJSON_AddObjectToObject(root, "inventory");
		int k = 0;

		cJSON_AddNumberToObject(inv, "location_id", loc);
		cJSON_AddStringToObject(inv, "type", "set");
		cJSON_AddStringToObject(inv, "reason", "newproduct");
		cJSON_AddStringToObject(inv, "note",
					"Luồng: tồn kho từ MISA AMIS");
		lines = cJSON_AddArrayToObject(inv, "line_items");
		for (; i < n && k < WRITE_LINES; i++) {
			cJSON *l;

			if (!lv[i].known || !lv[i].differs || lv[i].loc != loc)
				continue;
			l = cJSON_CreateObject();
			cJSON_AddNumberToObject(l, "product_id",
						strtod(lv[i].pid, NULL));
			cJSON_AddNumberToObject(l, "product_variant_id",
						strtod(lv[i].vid, NULL));
			cJSON_AddNumberToObject(l, "quantity", lv[i].want);
			cJSON_AddItemToArray(lines, l);
			k++;
		}
		if (k)
			st = hrv_call(b, call, "POST",
				      "inventories/adjustorset.json", root,
				      &reply);
		if (k && st == LUONG_OK) {
			const cJSON *a =
				cJSON_GetObjectItemCaseSensitive(reply, "adjust"
									"ment");
			char id[32];

			*written += k;
			if (id_copy(a, "id", id))
				cJSON_AddItemToArray(made,
						     cJSON_CreateString(id));
		}
		cJSON_Delete(root);
		b->h->json->del(reply);
	}
	return st;
}

/*
 * input.levels: [{sku, location_id, quantity}] (MISA's stock mapped to
 * Haravan's locations by the flow). Writes only the levels that differ
 * from what Haravan holds. SKUs Haravan does not sell are listed in the
 * output, not failed: MISA keeps services and items no shop lists.
 * Output {written, unchanged, adjustments: [ids], not_in_haravan: [skus]}.
 */
enum luong_status hrv_set_stock(struct luong_call *call, void *state,
				const cJSON *input, cJSON **output)
{
	struct hrv *b = state;
	const cJSON *levels = cJSON_GetObjectItemCaseSensitive(input, "level"
								      "s");
	const cJSON *it;
	size_t n = (size_t)cJSON_GetArraySize(levels), k = 0;
	struct level *lv;
	enum luong_status st = LUONG_OK;
	cJSON *made = cJSON_CreateArray(), *missing = cJSON_CreateArray();
	int written = 0, unchanged = 0;
	bool scanned = false;

	if (!cJSON_IsArray(levels)) {
		b->h->call->set_error(call, "input.levels (a list of {sku, "
					    "location_id, quantity}) is "
					    "required");
		cJSON_Delete(made);
		cJSON_Delete(missing);
		return LUONG_E_INVAL;
	}
	lv = calloc(n ? n : 1, sizeof(*lv));
	cJSON_ArrayForEach (it, levels) {
		struct level *l = &lv[k++];
		const cJSON *loc = cJSON_GetObjectItemCaseSensitive(it, "locati"
									"on_"
									"id");
		const cJSON *q = cJSON_GetObjectItemCaseSensitive(it, "quantit"
								      "y");

		l->sku = hrv_str(it, "sku");
		l->loc = cJSON_IsString(loc) ? strtod(loc->valuestring, NULL)
					     : cJSON_GetNumberValue(loc);
		l->want = cJSON_GetNumberValue(q);
		if (!l->sku || !(l->loc > 0) || !cJSON_IsNumber(q))
			continue;
		l->known = sku_recall(b, l->sku, l->pid, l->vid);
		if (!l->known && !scanned && st == LUONG_OK) {
			st = sku_scan(b, call);
			scanned = true;
			l->known = sku_recall(b, l->sku, l->pid, l->vid);
		}
		if (!l->known)
			cJSON_AddItemToArray(missing,
					     cJSON_CreateString(l->sku));
	}
	/* one location at a time: reads and writes are per location */
	for (size_t i = 0; i < n && st == LUONG_OK; i++) {
		bool seen = false;

		if (!lv[i].known)
			continue;
		for (size_t j = 0; j < i && !seen; j++)
			seen = lv[j].known && lv[j].loc == lv[i].loc;
		if (seen)
			continue;
		st = mark_changed(b, call, lv, n, lv[i].loc);
		if (st == LUONG_OK)
			st = write_changed(b, call, lv, n, lv[i].loc, made,
					   &written);
	}
	for (size_t i = 0; i < n; i++)
		unchanged += lv[i].known && !lv[i].differs;
	free(lv);
	if (st != LUONG_OK) {
		cJSON_Delete(made);
		cJSON_Delete(missing);
		return st;
	}
	*output = cJSON_CreateObject();
	cJSON_AddNumberToObject(*output, "written", written);
	cJSON_AddNumberToObject(*output, "unchanged", unchanged);
	cJSON_AddItemToObject(*output, "adjustments", made);
	cJSON_AddItemToObject(*output, "not_in_haravan", missing);
	return LUONG_OK;
}

/* ---- mark_order: the MISA document's number on the Haravan order ------ */

/*
 * input {order_id, name, value, note_attributes}: the order's note
 * attribute `name` set to `value` (kept with the order's others, given
 * as they came in the webhook), so shop staff see what accounting made
 * of the order. One PUT per order: Haravan has no batch for orders.
 */
enum luong_status hrv_mark_order(struct luong_call *call, void *state,
				 const cJSON *input, cJSON **output)
{
	struct hrv *b = state;
	const char *name = hrv_str(input, "name");
	const char *value = hrv_str(input, "value");
	const cJSON *have = cJSON_GetObjectItemCaseSensitive(input, "note_"
								    "attribute"
								    "s");
	const cJSON *a;
	char id[32], path[96];
	cJSON *root, *o, *list, *reply = NULL;
	enum luong_status st;

	if (!id_copy(input, "order_id", id) || !name || !value) {
		b->h->call->set_error(call, "input.order_id, name and value "
					    "are required");
		return LUONG_E_INVAL;
	}
	root = cJSON_CreateObject();
	o = cJSON_AddObjectToObject(root, "order");
	cJSON_AddNumberToObject(o, "id", strtod(id, NULL));
	list = cJSON_AddArrayToObject(o, "note_attributes");
	cJSON_ArrayForEach (a, have)
		if (hrv_str(a, "name") && strcmp(hrv_str(a, "name"), name))
			cJSON_AddItemToArray(list, cJSON_Duplicate(a, 1));
	a = cJSON_CreateObject();
	cJSON_AddStringToObject((cJSON *)a, "name", name);
	cJSON_AddStringToObject((cJSON *)a, "value", value);
	cJSON_AddItemToArray(list, (cJSON *)a);
	snprintf(path, sizeof(path), "orders/%s.json", id);
	st = hrv_call(b, call, "PUT", path, root, &reply);
	cJSON_Delete(root);
	b->h->json->del(reply);
	if (st == LUONG_OK) {
		*output = cJSON_CreateObject();
		cJSON_AddStringToObject(*output, "order_id", id);
		cJSON_AddStringToObject(*output, "value", value);
	}
	return st;
}

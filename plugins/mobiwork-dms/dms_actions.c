/*
 * dms_actions.c - what the host writes into DMS (the designed push
 * endpoints: all or nothing per request, an upsert by code, so a retry
 * writes the same thing again and never makes a second record) and reads
 * from it (catalogues, every page).
 */
#include <stdio.h>
#include <string.h>

#include "dms.h"

/* Copies the input's members named in keys (present and not null). */
static cJSON *pick(const cJSON *in, const char *const *keys)
{
	cJSON *o = cJSON_CreateObject();

	for (int i = 0; keys[i]; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, keys[i]);

		if (v && !cJSON_IsNull(v))
			cJSON_AddItemToObject(o, keys[i],
					      cJSON_Duplicate(v, 1));
	}
	return o;
}

static bool need(struct luong_action_args *a, const cJSON *item,
		 const char *const *keys)
{
	for (int i = 0; keys[i]; i++) {
		if (!cJSON_GetObjectItemCaseSensitive(item, keys[i])) {
			a->host->call->set_error(a->call,
						 "input.%s is required / thiếu "
						 "%s",
						 keys[i], keys[i]);
			return false;
		}
	}
	return true;
}

/* Today as DMS writes a closing date (ngay_chot), when none is given. */
static void closing_day(struct dms *d, cJSON *item)
{
	char day[11];

	if (dms_str(item, "ngay_chot"))
		return;
	dms_day(d->h->clock->wall_ms(), day);
	cJSON_DeleteItemFromObjectCaseSensitive(item, "ngay_chot");
	cJSON_AddStringToObject(item, "ngay_chot", day);
}

/* POSTs [item] to resource; the output is DMS's result for it. */
static enum luong_status push_one(struct luong_action_args *a,
				  const char *resource, cJSON *item)
{
	struct dms *d = a->state;
	cJSON *list = cJSON_CreateArray();
	struct dms_reply r;
	enum luong_status st;

	cJSON_AddItemToArray(list, item);
	st = dms_request(d, a->call, "POST", resource, list, &r);
	cJSON_Delete(list);
	if (st == LUONG_OK) {
		const cJSON *res = cJSON_GetArrayItem(r.data, 0);

		a->output =
			res ? cJSON_Duplicate(res, 1) : cJSON_CreateObject();
	}
	dms_reply_free(&r);
	return st;
}

enum luong_status dms_save_product(struct luong_action_args *a)
{
	static const char *const keys[] = {
		"ma_sp",   "ten_sp",	 "dvt_chan", "dvt_le",	    "hsqd",
		"gia_ban", "thue_vat",	 "nhom_sp",  "ten_nhom_sp", "nhan_hieu",
		"ma_vach", "trang_thai", NULL
	};
	static const char *const req[] = { "ma_sp", NULL };
	cJSON *item = pick(a->input, keys);

	if (!need(a, item, req)) {
		cJSON_Delete(item);
		return LUONG_E_INVAL;
	}
	return push_one(a, "Product", item);
}

enum luong_status dms_set_stock(struct luong_action_args *a)
{
	static const char *const keys[] = { "ma_kho", "ma_sp", "so_luong",
					    "ngay_chot", NULL };
	static const char *const req[] = { "ma_kho", "ma_sp", "so_luong",
					   NULL };
	cJSON *item = pick(a->input, keys);

	if (!need(a, item, req)) {
		cJSON_Delete(item);
		return LUONG_E_INVAL;
	}
	closing_day(a->state, item);
	return push_one(a, "Inventory", item);
}

enum luong_status dms_set_debt(struct luong_action_args *a)
{
	static const char *const keys[] = { "ma_kh", "du_no_cuoi_ky",
					    "ngay_chot", NULL };
	static const char *const req[] = { "ma_kh", "du_no_cuoi_ky", NULL };
	cJSON *item = pick(a->input, keys);

	if (!need(a, item, req)) {
		cJSON_Delete(item);
		return LUONG_E_INVAL;
	}
	closing_day(a->state, item);
	return push_one(a, "CustomerDebt", item);
}

static const char *const status_keys[] = { "ma_phieu", "trang_thai_ke_toan",
					   "so_chung_tu", "ghi_chu", NULL };

enum luong_status dms_set_order_status(struct luong_action_args *a)
{
	static const char *const req[] = { "ma_phieu", "trang_thai_ke_toan",
					   NULL };
	cJSON *item = pick(a->input, status_keys);

	if (!need(a, item, req)) {
		cJSON_Delete(item);
		return LUONG_E_INVAL;
	}
	return push_one(a, "BillStatus", item);
}

/* The go-live check: the order must exist in DMS; nothing is written. */
enum luong_status dms_check_order_status(struct luong_call *call, void *state,
					 const cJSON *input, cJSON **output)
{
	struct dms *d = state;
	const char *no = dms_str(input, "ma_phieu");
	cJSON *problems = cJSON_CreateArray(), *p;
	char path[256];
	struct dms_reply r;
	enum luong_status st = LUONG_OK;

	*output = cJSON_CreateObject();
	if (!no) {
		p = cJSON_CreateObject();
		cJSON_AddStringToObject(p, "path", "$.ma_phieu");
		cJSON_AddStringToObject(p, "message", "ma_phieu is required");
		cJSON_AddItemToArray(problems, p);
	} else {
		snprintf(path, sizeof(path), "Bill");
		dms_path_add(path, sizeof(path), no);
		st = dms_request(d, call, "GET", path, NULL, &r);
		if (st == LUONG_E_REMOTE && r.status == 404) {
			p = cJSON_CreateObject();
			cJSON_AddStringToObject(p, "path", "$.ma_phieu");
			cJSON_AddStringToObject(p, "message",
						"the order is not in MobiWork "
						"DMS");
			cJSON_AddItemToArray(problems, p);
			st = LUONG_OK;
		}
		dms_reply_free(&r);
	}
	cJSON_AddItemToObject(*output, "problems", problems);
	cJSON_AddItemToObject(*output, "preview", pick(input, status_keys));
	return st;
}

/* Catalogues a flow or a person may read, with the filters each takes. */
static const char *const readable[] = {
	"Customer",  "Product",	     "Sale",  "SaleGroup", "Warehouse",
	"Inventory", "CustomerDebt", "Route", NULL
};

enum luong_status dms_read_catalogue(struct luong_action_args *a)
{
	struct dms *d = a->state;
	const char *res = dms_str(a->input, "resource");
	const cJSON *filters = cJSON_GetObjectItemCaseSensitive(a->input, "filt"
									  "er"
									  "s"),
		    *f;
	char path[1024];
	cJSON *rows = NULL;
	enum luong_status st;
	bool ok = false;

	for (int i = 0; res && readable[i]; i++)
		ok = ok || !strcmp(readable[i], res);
	if (!ok) {
		a->host->call->set_error(a->call, "input.resource must be one "
						  "of "
						  "Customer, Product, Sale, "
						  "SaleGroup, "
						  "Warehouse, Inventory, "
						  "CustomerDebt, "
						  "Route");
		return LUONG_E_INVAL;
	}
	snprintf(path, sizeof(path), "%s", res);
	cJSON_ArrayForEach (f, filters) {
		char num[32];

		if (cJSON_IsString(f))
			dms_query_add(path, sizeof(path), f->string,
				      f->valuestring);
		else if (cJSON_IsNumber(f)) {
			snprintf(num, sizeof(num), "%g", f->valuedouble);
			dms_query_add(path, sizeof(path), f->string, num);
		}
	}
	st = dms_read_all(d, a->call, path, &rows);
	if (st != LUONG_OK)
		return st;
	a->output = cJSON_CreateObject();
	cJSON_AddNumberToObject(a->output, "count", cJSON_GetArraySize(rows));
	cJSON_AddItemToObject(a->output, "rows", rows);
	return LUONG_OK;
}

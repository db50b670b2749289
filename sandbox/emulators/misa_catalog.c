/*
 * misa_catalog.c - the MISA emulator's catalogues: paged reads
 * (get_dictionary and its deletions, inventory balances, debts, company
 * info) and catalogue writes (save_dictionary). See sandbox/README.md.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/sbx.h"
#include "misa_int.h"

#define TAKE_MAX 100

/* ---------------- paged reads ---------------- */

bool misa_parse_page(struct sbx_req *req, struct page *pg)
{
	pg->skip = (long)sbx_jnum(req->json, "skip", 0);
	pg->take = (long)sbx_jnum(req->json, "take", TAKE_MAX);
	if (pg->take <= 0 || pg->take > TAKE_MAX)
		pg->take = TAKE_MAX; /* the service caps take at 100 */
	pg->since = -1;
	const char *lst = sbx_jstr(req->json, "last_sync_time");
	if (pg->skip < 0) {
		misa_reply_err(req, "InvalidParam", "skip không hợp lệ");
		return false;
	}
	if (lst && *lst) {
		pg->since = sbx_parse_time(lst);
		if (pg->since < 0) {
			misa_reply_err(req, "InvalidParam",
				       "last_sync_time phải có dạng yyyy-MM-dd "
				       "HH:mm:ss");
			return false;
		}
	}
	return true;
}

static cJSON *last_sync_custom(void)
{
	char ts[32];
	sbx_time_vn(sbx_now_ms(), SBX_TIME_SQL, ts, sizeof ts);
	cJSON *c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "LastSyncTime", ts);
	return c;
}

/* Rows of arr changed at or after pg->since (by time_key), optionally in
 * branch, then the skip/take window. */
void misa_reply_page(struct sbx_req *req, const cJSON *arr,
		     const struct page *pg, const char *time_key,
		     const char *branch)
{
	cJSON *out = cJSON_CreateArray();
	long idx = 0;
	const cJSON *e;
	cJSON_ArrayForEach (e, arr) {
		if (pg->since >= 0 && time_key) {
			int64_t t = sbx_parse_time(sbx_jstr(e, time_key));
			/* one-second watermarks: keep the boundary second (at-least-once) */
			if (t >= 0 && t / 1000 < pg->since / 1000)
				continue;
		}
		if (branch) {
			const char *b = sbx_jstr(e, "branch_id");
			if (b && strcmp(b, branch))
				continue;
		}
		if (idx++ < pg->skip)
			continue;
		if (cJSON_GetArraySize(out) >= pg->take)
			break;
		cJSON_AddItemToArray(out, cJSON_Duplicate(e, true));
	}
	misa_reply_env(req, true, "", "", out, last_sync_custom());
}

static const char *branch_of(struct sbx_req *req)
{
	const char *b = sbx_jstr(req->json, "branch_id");
	return b && *b ? b : NULL;
}

/* Account objects (and price policies) carry their group's name beside
 * its code (designed), so a customer can take its group along (C1). */
static void name_groups(struct misa *m, cJSON *list)
{
	cJSON *o;
	cJSON_ArrayForEach (o, list) {
		const cJSON *g =
			misa_find_by(m->groups, "account_object_group_code",
				     sbx_jstr(o, "account_object_group_"
						 "code"));
		const char *name = sbx_jstr(g, "account_object_group_name");
		const char *have = sbx_jstr(o, "account_object_group_name");
		if (name && (!have || strcmp(have, name)))
			set_str(o, "account_object_group_name", name);
	}
}

void misa_h_get_dictionary(struct sbx_emu *emu, struct sbx_req *req)
{
	struct misa *m = emu->data;
	struct page pg;
	if (!misa_authorize(m, req) || !misa_parse_page(req, &pg))
		return;
	int type = (int)sbx_jnum(req->json, "data_type", -1);
	const cJSON *stock_types =
		cJSON_GetObjectItemCaseSensitive(m->config, "stock_data_types");
	const cJSON *arr;
	bool branch_filter = true;
	if (num_in(stock_types, type))
		arr = m->stocks;
	else if (type == 1)
		arr = m->objects;
	else if (type == 2)
		arr = m->items, branch_filter = false;
	else if (type == 4)
		arr = m->units, branch_filter = false;
	else if (type == 5)
		arr = m->accounts, branch_filter = false;
	else if (type == 6)
		arr = m->org_units, branch_filter = false;
	else if (type == 13) /* designed: account object groups (C1) */
		arr = m->groups, branch_filter = false;
	else if (type == 14) /* designed: item categories (C1) */
		arr = m->categories, branch_filter = false;
	else if (type == 15) /* designed: price policies (C8) */
		arr = m->price_policies, branch_filter = false;
	else {
		misa_reply_err(req, "InvalidParam",
			       "data_type không được hỗ trợ");
		return;
	}
	if (type == 1 || type == 15)
		name_groups(m, type == 1 ? m->objects : m->price_policies);
	misa_reply_page(req, arr, &pg, "modified_date",
			branch_filter ? branch_of(req) : NULL);
}

void misa_h_dictionary_delete(struct sbx_emu *emu, struct sbx_req *req)
{
	struct misa *m = emu->data;
	struct page pg;
	if (!misa_authorize(m, req) || !misa_parse_page(req, &pg))
		return;
	int type = (int)sbx_jnum(req->json, "data_type", -1);
	cJSON *sel = cJSON_CreateArray();
	const cJSON *e;
	cJSON_ArrayForEach (e, m->tomb_dict) {
		if (type < 0 || sbx_jnum(e, "data_type", -2) == type)
			cJSON_AddItemToArray(sel, cJSON_Duplicate(e, true));
	}
	misa_reply_page(req, sel, &pg, "deleted_date", NULL);
	cJSON_Delete(sel);
}

void misa_h_inventory_balance(struct sbx_emu *emu, struct sbx_req *req)
{
	struct misa *m = emu->data;
	struct page pg;
	if (!misa_authorize(m, req) || !misa_parse_page(req, &pg))
		return;
	pg.since = -1; /* balances are always a full list */
	const char *stock = sbx_jstr(req->json, "stock_id");
	cJSON *sel = cJSON_CreateArray();
	const cJSON *e;
	cJSON_ArrayForEach (e, m->balances) {
		const char *s = sbx_jstr(e, "stock_id");
		if (!stock || !*stock || (s && !strcmp(s, stock)))
			cJSON_AddItemToArray(sel, cJSON_Duplicate(e, true));
	}
	misa_reply_page(req, sel, &pg, NULL, branch_of(req));
	cJSON_Delete(sel);
}

void misa_h_tomb_balance(struct sbx_emu *emu, struct sbx_req *req)
{
	struct misa *m = emu->data;
	struct page pg;
	if (misa_authorize(m, req) && misa_parse_page(req, &pg))
		misa_reply_page(req, m->tomb_balance, &pg, "deleted_date",
				NULL);
}

void misa_h_acc_obj_debt(struct sbx_emu *emu, struct sbx_req *req)
{
	struct misa *m = emu->data;
	struct page pg;
	if (!misa_authorize(m, req) || !misa_parse_page(req, &pg))
		return;
	int type = (int)sbx_jnum(req->json, "data_type", 0);
	if (type != 0 && type != 1) {
		misa_reply_err(req, "InvalidParam",
			       "data_type phải là 0 (phải thu) hoặc 1 (phải "
			       "trả)");
		return;
	}
	cJSON *sel = cJSON_CreateArray();
	const cJSON *e;
	cJSON_ArrayForEach (e, m->debts) {
		if (sbx_jbool(e, "is_vendor", false) == (type == 1))
			cJSON_AddItemToArray(sel, cJSON_Duplicate(e, true));
	}
	misa_reply_page(req, sel, &pg, "modified_date", NULL);
	cJSON_Delete(sel);
}

void misa_h_tomb_debt(struct sbx_emu *emu, struct sbx_req *req)
{
	struct misa *m = emu->data;
	struct page pg;
	if (misa_authorize(m, req) && misa_parse_page(req, &pg))
		misa_reply_page(req, m->tomb_debt, &pg, "deleted_date", NULL);
}

void misa_h_company_info(struct sbx_emu *emu, struct sbx_req *req)
{
	struct misa *m = emu->data;
	if (!misa_authorize(m, req))
		return;
	cJSON *d = cJSON_Duplicate(m->company, true);
	cJSON *br = cJSON_AddArrayToObject(d, "branches");
	const cJSON *e;
	cJSON_ArrayForEach (e, m->org_units) {
		if (sbx_jnum(e, "organization_unit_type_id", 0) <= 2) {
			cJSON *b = cJSON_CreateObject();
			cJSON_AddStringToObject(b, "branch_id",
						sbx_jstr(e, "organization_unit_"
							    "id"));
			cJSON_AddStringToObject(b, "branch_code",
						sbx_jstr(e, "organization_unit_"
							    "code"));
			cJSON_AddStringToObject(b, "branch_name",
						sbx_jstr(e, "organization_unit_"
							    "name"));
			cJSON_AddBoolToObject(b, "is_main",
					      sbx_jnum(e,
						       "organization_unit_type_"
						       "id",
						       0) == 1);
			cJSON_AddItemToArray(br, b);
		}
	}
	misa_reply_env(req, true, "", "", d, NULL);
}
/* ---------------- catalogue writes ---------------- */

struct dict_kind {
	int type;      /* save_dictionary numbering */
	int read_type; /* get_dictionary numbering, for tombstones */
	size_t list_off;
	const char *code_key, *id_key, *name_key;
};

static const struct dict_kind dict_kinds[] = {
	{ 1, 1, offsetof(struct misa, objects), "account_object_code",
	  "account_object_id", "account_object_name" },
	{ 2, -1, offsetof(struct misa, groups), "account_object_group_code",
	  "account_object_group_id", "account_object_group_name" },
	{ 3, 2, offsetof(struct misa, items), "inventory_item_code",
	  "inventory_item_id", "inventory_item_name" },
	{ 4, -1, offsetof(struct misa, categories),
	  "inventory_item_category_code", "inventory_item_category_id",
	  "inventory_item_category_name" },
	{ 5, 3, offsetof(struct misa, stocks), "stock_code", "stock_id",
	  "stock_name" },
	{ 6, 4, offsetof(struct misa, units), "unit_name", "unit_id",
	  "unit_name" },
};

const struct dict_kind *misa_dict_kind(int type)
{
	for (size_t i = 0; i < sizeof dict_kinds / sizeof dict_kinds[0]; i++)
		if (dict_kinds[i].type == type)
			return &dict_kinds[i];
	return NULL;
}

static cJSON **dict_list(struct misa *m, const struct dict_kind *k)
{
	return (cJSON **)((char *)m + k->list_off);
}

/* Upserts rec by code; returns the stored record or NULL with *err set. */
cJSON *misa_dict_upsert(struct misa *m, const struct dict_kind *k,
			const cJSON *rec, const char **err)
{
	const char *code = sbx_jstr(rec, k->code_key);
	if (!code || !*code) {
		*err = "Thiếu mã (code is required)";
		return NULL;
	}
	cJSON *list = *dict_list(m, k);
	cJSON *cur = misa_find_by(list, k->code_key, code);
	if (!cur) {
		if (!sbx_jstr(rec, k->name_key) ||
		    !*sbx_jstr(rec, k->name_key)) {
			*err = "Thiếu tên (name is required)";
			return NULL;
		}
		cur = cJSON_CreateObject();
		cJSON_AddItemToArray(list, cur);
	}
	for (const cJSON *f = rec->child; f; f = f->next) {
		if (!strcmp(f->string, "dictionary_type") ||
		    !strcmp(f->string, "modified_date"))
			continue;
		cJSON_DeleteItemFromObjectCaseSensitive(cur, f->string);
		cJSON_AddItemToObject(cur, f->string, cJSON_Duplicate(f, true));
	}
	if (!sbx_jstr(cur, k->id_key) || !*sbx_jstr(cur, k->id_key)) {
		char id[37];
		sbx_uuid(id);
		set_str(cur, k->id_key, id);
	}
	touch(cur);
	return cur;
}

void misa_h_save_dictionary(struct sbx_emu *emu, struct sbx_req *req)
{
	struct misa *m = emu->data;
	if (!misa_authorize(m, req))
		return;
	const cJSON *dict = cJSON_GetObjectItemCaseSensitive(req->json, "dictio"
									"nary");
	if (!cJSON_IsArray(dict) || !cJSON_GetArraySize(dict)) {
		misa_reply_err(req, "InvalidParam",
			       "Thiếu danh sách dictionary");
		return;
	}
	cJSON *results = cJSON_CreateArray();
	bool all_ok = true;
	const cJSON *e;
	cJSON_ArrayForEach (e, dict) {
		int type = (int)sbx_jnum(e, "dictionary_type", -1);
		const struct dict_kind *k = misa_dict_kind(type);
		const char *err = NULL;
		cJSON *stored = k ? misa_dict_upsert(m, k, e, &err) : NULL;
		if (!k)
			err = "dictionary_type không được hỗ trợ (unsupported "
			      "dictionary_type)";
		cJSON *r = cJSON_CreateObject();
		cJSON_AddNumberToObject(r, "dictionary_type", type);
		cJSON_AddStringToObject(r, "code",
					k && sbx_jstr(e, k->code_key)
						? sbx_jstr(e, k->code_key)
						: "");
		cJSON_AddStringToObject(
			r, "id", stored ? sbx_jstr(stored, k->id_key) : "");
		cJSON_AddBoolToObject(r, "success", stored != NULL);
		cJSON_AddStringToObject(r, "error_code",
					stored ? "" : "InvalidParam");
		cJSON_AddStringToObject(r, "error_message", stored ? "" : err);
		cJSON_AddItemToArray(results, r);
		all_ok = all_ok && stored;
	}
	misa_reply_env(req, all_ok, all_ok ? "" : "InvalidParam",
		       all_ok ? "" : "Một số bản ghi không lưu được", results,
		       NULL);
}

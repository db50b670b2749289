/*
 * kho.c - AMIS Kho hàng (warehouse) emulator. AMIS Kho has no public API
 * (apis.md §3): this is a DESIGNED contract in the style of AMIS CRM v2 (same
 * /Account token, Bearer + Clientid, envelope, errors, paging and lookups),
 * documented in sandbox/docs/kho.md. Warehouse sales orders come from the
 * host (W1), issue orders and issue notes from the warehouse staff (acts),
 * accounting sync status of notes from the host (W3).
 */
#include <stdlib.h>

#include "kho_int.h"

/* ---------------------------------------------------------------- views */

cJSON *kho_notes_of_order(struct kho *k, long so_id)
{
	cJSON *arr = cJSON_CreateArray();
	const cJSON *r;
	cJSON_ArrayForEach (r, tab(k, T_ISSUENOTES)->rows)
		if ((long)sbx_jnum(r, "sale_order_id", 0) == so_id)
			cJSON_AddItemToArray(arr, cJSON_Duplicate(r, true));
	return arr;
}

/* GET /SaleOrders/issue_notes?id= : the notes of one order. */
static void order_notes(void *ctx, struct sbx_emu *emu, struct sbx_req *req)
{
	struct kho *k = ctx;
	const char *id = sbx_query(req, "id");
	const cJSON *so =
		id ? amis_find_id(tab(k, T_SALEORDERS), atol(id)) : NULL;
	if (!so) {
		amis_err(req, 404, "NotFound", "no sales order with id '%s'",
			 id ? id : "");
		return;
	}
	amis_ok(req, 200, kho_notes_of_order(k, amis_id(so)));
}

static const struct amis_custom kho_custom[] = {
	{ "GET", "SaleOrders/issue_notes", order_notes },
	{ NULL, NULL, NULL },
};

/* ---------------------------------------------------------------- life cycle */

static const char *const seed_tables[T_COUNT] = {
	[T_STOCKS] = "Stocks",	       [T_ITEMS] = "Items",
	[T_SALEORDERS] = "SaleOrders", [T_ISSUEORDERS] = "IssueOrders",
	[T_ISSUENOTES] = "IssueNotes",
};

static void kho_free(struct sbx_emu *emu)
{
	struct kho *k = emu->data;
	if (!k)
		return;
	amis_plat_free(&k->plat);
	free(k);
	emu->data = NULL;
}

static int kho_init(struct sbx_emu *emu, const cJSON *seed)
{
	struct kho *k = calloc(1, sizeof *k);
	if (!k)
		return -1;
	emu->data = k;
	for (int i = 0; i < T_COUNT; i++)
		k->tables[i].res = &kho_res[i];
	k->plat.name = "kho";
	k->plat.base = KHO_BASE;
	k->plat.tables = k->tables;
	k->plat.ntables = T_COUNT;
	k->plat.custom = kho_custom;
	k->plat.ctx = k;
	if (amis_plat_init(&k->plat, seed, "luong-kho", "kho-secret") < 0)
		goto out_free;
	for (int i = 0; i < T_COUNT; i++) {
		const cJSON *rows =
			cJSON_GetObjectItemCaseSensitive(seed, seed_tables[i]);
		if (rows && amis_table_seed(&k->plat, tab(k, i), rows) < 0)
			goto out_free;
	}
	return 0;
out_free:
	kho_free(emu);
	return -1;
}

static cJSON *kho_dump(struct sbx_emu *emu)
{
	struct kho *k = emu->data;
	return amis_plat_dump(&k->plat);
}

static void kho_expire(struct sbx_emu *emu)
{
	struct kho *k = emu->data;
	amis_plat_expire(&k->plat);
}

static void kho_api(struct sbx_emu *emu, struct sbx_req *req)
{
	struct kho *k = emu->data;
	amis_handle(&k->plat, emu, req);
}

/* ---------------------------------------------------------------- registration */

static const struct sbx_route kho_routes[] = {
	{ "*", KHO_BASE "/*", kho_api },
	{ NULL, NULL, NULL },
};

static const struct sbx_act kho_acts[] = {
	{ "create_issue_order", kho_act_create_issue_order },
	{ "save_issue_note", kho_act_save_issue_note },
	{ "change_execution", kho_act_change_execution },
	{ "push_to_accounting", kho_act_push_to_accounting },
	{ "resend_event", kho_act_resend_event },
	{ NULL, NULL },
};

static const struct sbx_emulator kho_emu = {
	.name = "kho",
	.init = kho_init,
	.free = kho_free,
	.dump = kho_dump,
	.expire_tokens = kho_expire,
	.routes = kho_routes,
	.acts = kho_acts,
};
SBX_REGISTER(kho_emu);

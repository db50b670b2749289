/*
 * misa_int.h - what the parts of the MISA AMIS Kế toán emulator share: its
 * state and helpers (misa.c: envelope, ledger rows, life cycle, auth,
 * routes; misa_catalog.c: paged reads and catalogue writes;
 * misa_vouchers.c: the voucher queue, posting and callbacks; misa_acts.c:
 * what accountants do).
 */
#ifndef SBX_MISA_INT_H
#define SBX_MISA_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/sbx.h"

struct misa {
	cJSON *config; /* token_ttl_s, generate_delay_ms, stock_data_types, posting_rules... */
	cJSON *apps;
	cJSON *company;
	cJSON *org_units, *groups, *objects, *units, *categories, *items,
		*stocks, *accounts;
	cJSON *balances; /* item x stock rows */
	cJSON *debts;	 /* per account object */
	cJSON *tomb_dict, *tomb_debt, *tomb_balance;
	cJSON *tokens; /* [{access_token, app_id, org_company_code, expires_ms}] */
	cJSON *vouchers; /* voucher requests with status */
	cJSON *journal;	 /* posting entries */
	cJSON *callback_errors;
	double revenue; /* net revenue posted (5111/5113 less returns) */
	long refno_seq;
	cJSON *price_policies; /* C8, designed: get_dictionary data_type 15 */
};

static inline void now_iso(char *buf, size_t n)
{
	sbx_time_vn(sbx_now_ms(), SBX_TIME_ISO, buf, n);
}

static inline void set_str(cJSON *obj, const char *key, const char *val)
{
	cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
	cJSON_AddStringToObject(obj, key, val ? val : "");
}

static inline void set_num(cJSON *obj, const char *key, double val)
{
	cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
	cJSON_AddNumberToObject(obj, key, val);
}

static inline void touch(cJSON *rec)
{
	char ts[40];
	now_iso(ts, sizeof ts);
	set_str(rec, "modified_date", ts);
}

static inline bool num_in(const cJSON *arr, double v)
{
	const cJSON *e;
	cJSON_ArrayForEach (e, arr) {
		if (cJSON_IsNumber(e) && e->valuedouble == v)
			return true;
	}
	return false;
}

static inline long cfg_long(const struct misa *m, const char *key, long dflt)
{
	return (long)sbx_jnum(m->config, key, (double)dflt);
}

struct page {
	long skip, take;
	int64_t since; /* -1 = full */
};

struct dict_kind;

/* misa.c */
cJSON *misa_find_by(const cJSON *arr, const char *key, const char *val);
/* by code or by id, whichever the caller gave */
cJSON *misa_find_code_or_id(const cJSON *arr, const char *code_key,
			    const char *code, const char *id_key,
			    const char *id);
void misa_reply_env(struct sbx_req *req, bool ok, const char *code,
		    const char *msg, cJSON *data, cJSON *custom);
void misa_reply_err(struct sbx_req *req, const char *code, const char *msg);
void misa_add_balance(struct misa *m, const cJSON *item, const cJSON *stock,
		      double qty, double price);
cJSON *misa_balance_row(struct misa *m, const char *item_code,
			const char *stock_code);
cJSON *misa_debt_row(struct misa *m, const cJSON *obj, bool create);
/* checks the token and the body; replies and returns NULL when refused */
const cJSON *misa_authorize(struct misa *m, struct sbx_req *req);

/* misa_catalog.c */
bool misa_parse_page(struct sbx_req *req, struct page *pg);
/* rows of arr changed at or after pg->since, optionally in branch, then
 * the skip/take window */
void misa_reply_page(struct sbx_req *req, const cJSON *arr,
		     const struct page *pg, const char *time_key,
		     const char *branch);
const struct dict_kind *misa_dict_kind(int type);
/* upserts rec by code; the stored record, or NULL with *err set */
cJSON *misa_dict_upsert(struct misa *m, const struct dict_kind *k,
			const cJSON *rec, const char **err);
void misa_h_get_dictionary(struct sbx_emu *emu, struct sbx_req *req);
void misa_h_dictionary_delete(struct sbx_emu *emu, struct sbx_req *req);
void misa_h_inventory_balance(struct sbx_emu *emu, struct sbx_req *req);
void misa_h_tomb_balance(struct sbx_emu *emu, struct sbx_req *req);
void misa_h_acc_obj_debt(struct sbx_emu *emu, struct sbx_req *req);
void misa_h_tomb_debt(struct sbx_emu *emu, struct sbx_req *req);
void misa_h_company_info(struct sbx_emu *emu, struct sbx_req *req);
void misa_h_save_dictionary(struct sbx_emu *emu, struct sbx_req *req);

/* misa_vouchers.c */
double misa_line_qty(const cJSON *l);
/* totals from the header when given, else from the lines (B10 rules) */
void misa_voucher_totals(const cJSON *v, double *net, double *total);
/* posts the signed callback; takes rows */
void misa_send_callback(struct sbx_emu *emu, const char *app_id,
			const char *org, int data_type, cJSON *rows);
void misa_h_save(struct sbx_emu *emu, struct sbx_req *req);
void misa_h_delete(struct sbx_emu *emu, struct sbx_req *req);
void misa_h_callback_errors(struct sbx_emu *emu, struct sbx_req *req);

/* misa_acts.c */
void misa_act_edit_product(struct sbx_emu *emu, struct sbx_req *req);
void misa_act_edit_customer(struct sbx_emu *emu, struct sbx_req *req);
void misa_act_edit_customer_group(struct sbx_emu *emu, struct sbx_req *req);
void misa_act_edit_product_group(struct sbx_emu *emu, struct sbx_req *req);
void misa_act_edit_price_policy(struct sbx_emu *emu, struct sbx_req *req);
void misa_act_order_progress(struct sbx_emu *emu, struct sbx_req *req);
void misa_act_decide_invoice_request(struct sbx_emu *emu, struct sbx_req *req);
void misa_act_set_stock(struct sbx_emu *emu, struct sbx_req *req);
void misa_act_enter_voucher(struct sbx_emu *emu, struct sbx_req *req);
void misa_act_delete_item(struct sbx_emu *emu, struct sbx_req *req);
void misa_act_config(struct sbx_emu *emu, struct sbx_req *req);
void misa_act_disconnect_app(struct sbx_emu *emu, struct sbx_req *req);

#endif

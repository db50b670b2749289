/*
 * dms_int.h - what the parts of the MobiWork DMS emulator share: its state
 * and helpers (dms.c: reads, rows, auth, webhooks, life cycle;
 * dms_push.c: push endpoints; dms_acts.c: documents and acts).
 */
#ifndef SBX_DMS_INT_H
#define SBX_DMS_INT_H

#include <stdbool.h>
#include <string.h>

#include "../core/sbx.h"

#define DMS_PAGE_MAX 1000

struct dms {
	cJSON *accounts; /* [{user_id, token_key}] */
	cJSON *company;
	cJSON *staff;  /* Sale */
	cJSON *groups; /* SaleGroup */
	cJSON *warehouses;
	cJSON *outlets; /* Customer */
	cJSON *products;
	cJSON *stock; /* Inventory rows */
	cJSON *debts;
	cJSON *orders;	/* Bill */
	cJSON *returns; /* ReturnBill */
	cJSON *visits;	/* VisitData */
	cJSON *routes;	/* Route */
	cJSON *payment_methods;
	double next_id;
	double next_order_no;
	double next_return_no;
	double next_outlet_no;
	cJSON *out_hooks; /* deliveries queued by the current act */
	struct dms_stock_idx *stock_idx; /* stock rows by key (dms_push.c) */
};

static inline cJSON *jget(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

static inline double jnum(const cJSON *o, const char *k)
{
	return sbx_jnum(o, k, 0);
}

static inline const char *jstr(const cJSON *o, const char *k)
{
	return sbx_jstr(o, k);
}

static inline bool streq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

/* dms.c */
cJSON *dms_find_by(const cJSON *arr, const char *key, const char *val);
/* by numeric id or by number (nokey) */
cJSON *dms_find_doc(const cJSON *arr, const char *nokey, const char *idstr);
/* sets k (dd/mm/yyyy HH:MM:SS, Vietnam) and its internal _k (ms) to now */
void dms_stamp(cJSON *o, const char *k);
void dms_reply_err(struct sbx_req *req, int status, const char *msg);
void dms_reply_ok(struct sbx_req *req, int status, cJSON *data, double total);
/* Basic auth; replies 401 and returns false when refused */
bool dms_authed(struct sbx_emu *emu, struct sbx_req *req);
void dms_emit(struct sbx_emu *emu, const char *event, const cJSON *resource);
/* an order's or return's event, carrying its rows */
void dms_emit_doc(struct sbx_emu *emu, const char *event, const cJSON *doc);

/* dms_push.c */
void dms_stock_idx_free(struct dms_stock_idx *x);
const char *dms_unit_of(const cJSON *p);
void dms_h_product_push(struct sbx_emu *emu, struct sbx_req *req);
void dms_h_inventory_push(struct sbx_emu *emu, struct sbx_req *req);
void dms_h_debt_push(struct sbx_emu *emu, struct sbx_req *req);
void dms_h_bill_status_push(struct sbx_emu *emu, struct sbx_req *req);

/* dms_acts.c */
void dms_set_status(cJSON *doc, const char *s);
/* lines and totals of doc from in's chi_tiet; NULL with msg on error */
cJSON *dms_build_lines(struct dms *st, cJSON *doc, const cJSON *in, char *msg,
		       size_t n);
bool dms_check_parties(struct dms *st, const cJSON *in, char *msg, size_t n);
void dms_copy_parties(struct dms *st, cJSON *doc, const cJSON *in);
void dms_act_create_outlet(struct sbx_emu *emu, struct sbx_req *req);
void dms_act_edit_outlet(struct sbx_emu *emu, struct sbx_req *req);
void dms_act_create_order(struct sbx_emu *emu, struct sbx_req *req);
void dms_act_approve_order(struct sbx_emu *emu, struct sbx_req *req);
void dms_act_approve_return(struct sbx_emu *emu, struct sbx_req *req);
void dms_act_edit_order(struct sbx_emu *emu, struct sbx_req *req);
void dms_act_create_return(struct sbx_emu *emu, struct sbx_req *req);

#endif

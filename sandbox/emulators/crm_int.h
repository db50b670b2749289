/*
 * crm_int.h - what the parts of the AMIS CRM emulator share: its state and
 * table numbers (crm.c: stocks, life cycle, registration; crm_checks.c:
 * record checks and the resource table; crm_acts.c: what CRM users do).
 */
#ifndef SBX_CRM_INT_H
#define SBX_CRM_INT_H

#include "crm_platform.h"

enum {
	T_CUSTOMERS,
	T_CONTACTS,
	T_PRODUCT,
	T_STOCKS,
	T_SALEORDERS,
	T_REVENUE,
	T_INVREQ,
	T_QUOTES,
	T_PRICEPOL,
	T_EMPLOYEES,
	T_CUSTGROUPS,
	T_PRODGROUPS,
	T_COUNT
};

struct crm {
	struct amis_plat plat;
	struct amis_table tables[T_COUNT];
	cJSON *ledger; /* [{product_code, stock_code, quantity}] */
	unsigned gen;  /* identifies this state across an unlocked ask */
};

static inline struct amis_table *tab(struct crm *c, int i)
{
	return &c->tables[i];
}

/* crm_checks.c */
/* order fields the API may not write; create_order drops them too */
extern const char *const crm_order_readonly[];
extern const struct amis_res crm_res[T_COUNT];

/* crm_acts.c */
void crm_act_create_order(struct sbx_emu *emu, struct sbx_req *req);
void crm_act_save_revenue_request(struct sbx_emu *emu, struct sbx_req *req);
void crm_act_recall_revenue_request(struct sbx_emu *emu, struct sbx_req *req);
void crm_act_create_customer(struct sbx_emu *emu, struct sbx_req *req);
void crm_act_edit_customer(struct sbx_emu *emu, struct sbx_req *req);
void crm_act_create_product(struct sbx_emu *emu, struct sbx_req *req);
void crm_act_edit_product(struct sbx_emu *emu, struct sbx_req *req);
void crm_act_create_invoice_request(struct sbx_emu *emu, struct sbx_req *req);
void crm_act_create_quote(struct sbx_emu *emu, struct sbx_req *req);
void crm_act_create_customer_group(struct sbx_emu *emu, struct sbx_req *req);
void crm_act_edit_customer_group(struct sbx_emu *emu, struct sbx_req *req);
void crm_act_create_product_group(struct sbx_emu *emu, struct sbx_req *req);
void crm_act_edit_product_group(struct sbx_emu *emu, struct sbx_req *req);
void crm_act_resend_event(struct sbx_emu *emu, struct sbx_req *req);

#endif

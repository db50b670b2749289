/*
 * crm_catalog.h - AMIS CRM catalogues and accounting write-backs (C1, C3,
 * C4): upserts by code, the "crossed" mark of customers, and the actions
 * the C flows call. The state is the plugin's struct amis_client.
 */
#ifndef LUONG_AMIS_CRM_CATALOG_H
#define LUONG_AMIS_CRM_CATALOG_H

#include "amis_platform.h"

/*
 * C1: a customer added in CRM goes to accounting only with its first
 * document. The plugin remembers which customers have crossed (a
 * document of theirs was heard, or accounting sent them) in the
 * connection's kv; customer events carry it as `crossed`.
 */
bool crm_crossed(struct amis_client *c, const char *code);
void crm_mark_crossed(struct amis_client *c, const char *code);

enum luong_status crm_save_customer(struct luong_call *call, void *state,
				    const cJSON *input, cJSON **output);
enum luong_status crm_save_product(struct luong_call *call, void *state,
				   const cJSON *input, cJSON **output);
enum luong_status crm_save_customer_group(struct luong_call *call, void *state,
					  const cJSON *input, cJSON **output);
enum luong_status crm_save_product_group(struct luong_call *call, void *state,
					 const cJSON *input, cJSON **output);
enum luong_status crm_update_order_accounting(struct luong_call *call,
					      void *state, const cJSON *input,
					      cJSON **output);
enum luong_status crm_answer_invoice_request(struct luong_call *call,
					     void *state, const cJSON *input,
					     cJSON **output);
enum luong_status crm_set_stock(struct luong_call *call, void *state,
				const cJSON *input, cJSON **output);

/* The connect sequence: every record of a resource; customers found the
 * same on both sides (they count as crossed). */
enum luong_status crm_list_records(struct luong_call *call, void *state,
				   const cJSON *input, cJSON **output);
enum luong_status crm_mark_crossed_action(struct luong_call *call, void *state,
					  const cJSON *input, cJSON **output);

enum luong_status crm_set_customer_debt(struct luong_call *call, void *state,
					const cJSON *input, cJSON **output);
extern const struct luong_field_def crm_debt_inputs[];
enum luong_status crm_save_price_policy(struct luong_call *call, void *state,
					const cJSON *input, cJSON **output);
extern const struct luong_field_def crm_policy_inputs[];
extern const struct luong_field_def crm_list_inputs[];
extern const struct luong_field_def crm_list_outputs[];
extern const struct luong_field_def crm_codes_inputs[];
extern const struct luong_field_def crm_customer_inputs[];
extern const struct luong_field_def crm_product_inputs[];
extern const struct luong_field_def crm_group_inputs[];
extern const struct luong_field_def crm_saved_outputs[];
extern const struct luong_field_def crm_order_accounting_inputs[];
extern const struct luong_field_def crm_invoice_answer_inputs[];
extern const struct luong_field_def crm_stock_inputs[];

#endif

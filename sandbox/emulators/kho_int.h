/*
 * kho_int.h - what the parts of the AMIS Kho emulator share: its state and
 * helpers (kho.c: views, life cycle, routes and acts tables, registration;
 * kho_checks.c: the status lists and the checks of the API's resources;
 * kho_acts.c: what the warehouse staff do).
 */
#ifndef SBX_KHO_INT_H
#define SBX_KHO_INT_H

#include <stdbool.h>
#include <string.h>

#include "crm_platform.h"

#define KHO_BASE "/kho/api/public/api/v2"

enum { T_STOCKS, T_ITEMS, T_SALEORDERS, T_ISSUEORDERS, T_ISSUENOTES, T_COUNT };

struct kho {
	struct amis_plat plat;
	struct amis_table tables[T_COUNT];
};

static inline struct amis_table *tab(struct kho *k, int i)
{
	return &k->tables[i];
}

static inline const char *pair_name(const char *const (*pairs)[2],
				    const char *code)
{
	for (; pairs[0][0]; pairs++)
		if (code && strcmp(pairs[0][0], code) == 0)
			return pairs[0][1];
	return NULL;
}

/* Accepts a code or a display name; returns the code or NULL. */
static inline const char *pair_code(const char *const (*pairs)[2],
				    const char *s)
{
	for (; pairs[0][0]; pairs++)
		if (s && (strcmp(pairs[0][0], s) == 0 ||
			  strcmp(pairs[0][1], s) == 0))
			return pairs[0][0];
	return NULL;
}

/* kho.c */
cJSON *kho_notes_of_order(struct kho *k, long so_id);

/* kho_checks.c */
extern const char *const kho_exec_status[];
/* Issue note types: code, display name. */
extern const char *const kho_note_types[][2];
extern const struct amis_res kho_res[T_COUNT];
/* [{sale_order_detail_id, quantity}] of what is still to issue */
cJSON *kho_remaining_lines(const cJSON *details);

/* kho_acts.c */
void kho_act_create_issue_order(struct sbx_emu *emu, struct sbx_req *req);
void kho_act_save_issue_note(struct sbx_emu *emu, struct sbx_req *req);
void kho_act_change_execution(struct sbx_emu *emu, struct sbx_req *req);
void kho_act_push_to_accounting(struct sbx_emu *emu, struct sbx_req *req);
void kho_act_resend_event(struct sbx_emu *emu, struct sbx_req *req);

#endif

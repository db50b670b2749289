/*
 * crm_platform.h - the AMIS platform "public API v2" layer shared by the AMIS
 * CRM emulator (crm.c, faithful to apis.md §2) and the AMIS Kho emulator
 * (kho.c, a designed contract in the same style): /Account tokens, Bearer +
 * Clientid checks, the {success, code, data} envelope and the
 * {ErrorCode, DevMsg, UserMsg, TraceId} error body, array-body create /
 * partial update / delete, paging and ordering, lookup by id and code, and
 * signed webhook events.
 *
 * Records are cJSON objects kept in one cJSON array per resource; ids are
 * ints from a per-table counter. Everything runs under the emulator lock.
 *
 * Implemented in crm_platform.c (records, tables, life cycle, events, field
 * checks) and crm_platform_api.c (replies, auth, lists, writes, routing).
 */
#ifndef LUONG_SANDBOX_CRM_PLATFORM_H
#define LUONG_SANDBOX_CRM_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "../core/sbx.h"

#define AMIS_ERR_MAX 512

struct amis_plat;
struct amis_table;

/* Resource flags. */
enum {
	AMIS_RES_NO_CREATE = 1u << 0, /* POST answers 405 */
	AMIS_RES_NO_UPDATE = 1u << 1, /* PUT answers 405 */
	AMIS_RES_NO_DELETE = 1u << 2, /* DELETE answers 405 */
	AMIS_RES_READONLY =
		AMIS_RES_NO_CREATE | AMIS_RES_NO_UPDATE | AMIS_RES_NO_DELETE,
};

/* Validates (and completes: defaults, computed totals) a whole record after
 * a create or a merged update. Returns 0, or -1 with a readable lower-case
 * message in err. `old` is the stored record on update, NULL on create. */
typedef int (*amis_check_fn)(void *ctx, struct amis_table *t, cJSON *rec,
			     const cJSON *old, char *err, size_t n);
/* Says why a record may not be deleted (downstream documents); 0 = may. */
typedef int (*amis_can_delete_fn)(void *ctx, struct amis_table *t,
				  const cJSON *rec, char *err, size_t n);
/* Merges one patch key into rec on PUT (for line arrays); NULL = replace. */
typedef int (*amis_merge_fn)(void *ctx, struct amis_table *t, cJSON *rec,
			     const char *key, const cJSON *val, char *err,
			     size_t n);

struct amis_res {
	const char *name;	/* path segment, e.g. "Customers" */
	const char *code_field; /* field looked up by /Code?code=; unique */
	const char *
		code_prefix; /* auto-numbering when the code is absent, or NULL = required */
	unsigned flags;
	amis_check_fn check;
	amis_can_delete_fn can_delete;
	amis_merge_fn merge;
	const char *const
		*readonly; /* fields the API may not write (NULL-terminated) */
	const char *const *
		filters; /* designed list filters: query key, field, ... NULL */
	/* catalogues: API writes send "<event_key>.created|updated" as a
	 * user's edit does (designed), or NULL for none */
	const char *event_key;
};

struct amis_table {
	const struct amis_res *res;
	cJSON *rows; /* array of objects */
	long next_id;
	long next_no; /* auto-numbering */
};

/* Custom route below the base path, tried before the generic resources. */
typedef void (*amis_custom_fn)(void *ctx, struct sbx_emu *emu,
			       struct sbx_req *req);
struct amis_custom {
	const char *method;
	const char *subpath; /* e.g. "Stocks/product_ledger" */
	amis_custom_fn fn;
};

struct amis_plat {
	const char *name; /* "crm" or "kho": event ids and source */
	const char *base; /* e.g. "/crm/gc/api/public/api/v2" */
	cJSON *clients;	  /* [{client_id, client_secret}] */
	cJSON *tokens;	  /* [{token, client_id, expires_ms, expired}] */
	int64_t token_ttl_ms;
	struct amis_table *tables;
	size_t ntables;
	const struct amis_custom *custom; /* NULL-terminated by method, or NULL */
	void *ctx;			  /* passed to callbacks */
	long event_seq;
	cJSON *events; /* recent events: [{id, event, body}] for resend */
	long line_seq; /* ids of document lines */
};

/* Set up from the seed: "config" {token_ttl_seconds}, "clients". */
int amis_plat_init(struct amis_plat *p, const cJSON *seed,
		   const char *default_client, const char *default_secret);
void amis_plat_free(struct amis_plat *p);
/* Loads seed rows into a table through the check (ids kept when given). */
int amis_table_seed(struct amis_plat *p, struct amis_table *t,
		    const cJSON *rows);
cJSON *amis_plat_dump(struct amis_plat *p);
void amis_plat_expire(struct amis_plat *p);

/* The single catch-all handler for every path below the base. */
void amis_handle(struct amis_plat *p, struct sbx_emu *emu, struct sbx_req *req);

/* Replies. */
void amis_ok(struct sbx_req *req, int status, cJSON *data);
void amis_err(struct sbx_req *req, int status, const char *code,
	      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Act replies: {ok:true, ...fields of obj} / 400 {ok:false, error}. */
void amis_act_ok(struct sbx_req *req, cJSON *obj);
void amis_act_err(struct sbx_req *req, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Tables. */
struct amis_table *amis_table(struct amis_plat *p, const char *name);
cJSON *amis_find_id(struct amis_table *t, long id);
cJSON *amis_find_code(struct amis_table *t, const char *code);
cJSON *amis_find_by(struct amis_table *t, const char *field, const char *val);
/* Creates one record through the check (as POST does); returns the stored
 * record or NULL with err set. Takes ownership of rec. */
cJSON *amis_create(struct amis_plat *p, struct amis_table *t, cJSON *rec,
		   char *err, size_t n);
/* Applies a patch (as PUT does) to the record with that id; returns it. */
cJSON *amis_update(struct amis_plat *p, struct amis_table *t, long id,
		   const cJSON *patch, char *err, size_t n);
void amis_remove(struct amis_table *t, long id);
/* Stamps modified_date (and created_date when absent). */
void amis_touch(cJSON *rec, bool created);

/* Looks a record up from an act body by "<key>_id" or "<key>_no" style
 * fields: id_field (number) first, then code_field (string). */
cJSON *amis_act_target(struct amis_table *t, const cJSON *body,
		       const char *id_field, const char *code_field);

/* Small JSON helpers. */
void amis_set(cJSON *obj, const char *key,
	      cJSON *val); /* replaces, takes val */
void amis_set_str(cJSON *obj, const char *key, const char *s);
void amis_set_num(cJSON *obj, const char *key, double v);
long amis_id(const cJSON *rec);
bool amis_in_list(const char *s, const char *const *list);
double amis_round(double v); /* half away from zero */
void amis_now_iso(char *buf, size_t n);
void amis_today(char *buf, size_t n);

/* Field checks shared by the CRM and Kho checks; 0, or -1 with err set. */
int amis_need_str(const cJSON *rec, const char *key, char *err, size_t n);
/* Optional number field: absent/null is fine, otherwise a number >= min. */
int amis_opt_num(const cJSON *rec, const char *key, double min, char *err,
		 size_t n);
/* Optional date yyyy-MM-dd; absent/null becomes today when dflt_today. */
int amis_check_date(cJSON *rec, const char *key, bool dflt_today, char *err,
		    size_t n);
bool amis_valid_vat(double v); /* 0, 5, 8 or 10 */

/* Events: builds {event, id, occurred_at, source, data}, signs it and queues
 * it to the configured webhook; takes data. Returns the event id (static
 * storage inside the events log; copy it) or NULL. */
const char *amis_emit(struct amis_plat *p, struct sbx_emu *emu,
		      const char *event, cJSON *data);
/* Builds the body and header strings of an event without queueing it.
 * headers must hold 6 entries; they and *body are malloc'd: free with
 * amis_event_free. */
int amis_event_build(struct amis_plat *p, struct sbx_emu *emu,
		     const char *event, cJSON *data, char **body,
		     char *headers[6], char id_out[48]);
void amis_event_free(char *body, char *headers[6]);
/* Re-sends a logged event by id with its original body; 0 or -1. */
int amis_resend(struct amis_plat *p, struct sbx_emu *emu, const char *id);
/* The "resend_event" act: re-sends the event req->json "id" names. */
void amis_act_resend(struct amis_plat *p, struct sbx_emu *emu,
		     struct sbx_req *req);

#endif

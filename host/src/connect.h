/*
 * connect.h - the connect sequence: an ordered first sync between two
 * systems before continuous sync (the seed "Kết nối dữ liệu giữa AMIS Kế
 * toán với AMIS CRM": system first, catalogues both ways matched by code,
 * then documents), resumable after a crash, with progress; and "sync now"
 * of one of its steps. A plan is <flows_dir>/connect/<plan>.json (see
 * docs/crm.md, "Connecting"); what it finds goes through the flows as the
 * events of the connections it read.
 */
#ifndef LUONG_CONNECT_H
#define LUONG_CONNECT_H

#include <stddef.h>

#include <cjson/cJSON.h>

struct runtime;
struct connects;

/* Resumes the plans a stopped host left running. */
struct connects *connects_new(struct runtime *rt);
/* Stops the running plans (their progress is kept) and frees. */
void connects_free(struct connects *cs);

enum {
	CONNECT_E_REQUEST = -1, /* 400 */
	CONNECT_E_NOT_FOUND = -2,
	CONNECT_E_BUSY = -3, /* 409: running already */
};
/* Starts or resumes `plan`; `step` (may be NULL) runs that step alone
 * ("sync now"). 0 or a CONNECT_E_* with err. */
int connects_start(struct connects *cs, const char *plan, const char *step,
		   char *err, size_t errlen);
/* The plan's progress (owned), or NULL if it never ran. */
cJSON *connects_state(struct connects *cs, const char *plan);

/* Admin API (connect_api.c): POST /api/connect/run {plan, step?} starts
 * or resumes (202); GET /api/connect?plan= gives its progress. */
struct server;
struct req;
void api_connect_run(struct server *s, struct req *rq, const char *flow,
		     const cJSON *body);
void api_connect_state(struct server *s, struct req *rq, const char *flow,
		       const cJSON *body);

#endif

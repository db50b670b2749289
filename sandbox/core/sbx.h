/*
 * sbx.h - the sandbox framework: one program (luong-sandbox) serving local
 * emulators of the external systems, each on its own loopback port.
 *
 * Writing an emulator (one file in sandbox/emulators/, picked up by a glob):
 *
 *   static void get_thing(struct sbx_emu *emu, struct sbx_req *req)
 *   {
 *       struct my_state *st = emu->data;            // emulator lock is held
 *       const char *id = sbx_param(req, "id");      // from "{id}" in pattern
 *       sbx_reply_json(req, 200, cJSON_CreateString(id)); // takes ownership
 *   }
 *   static const struct sbx_route routes[] = {
 *       { "GET", "/things/{id}.json", get_thing },
 *       { NULL, NULL, NULL }
 *   };
 *   static const struct sbx_act acts[] = { { "edit_thing", act_edit }, { NULL, NULL } };
 *   static const struct sbx_emulator my_emu = {
 *       .name = "thing", .init = my_init, .free = my_free, .dump = my_dump,
 *       .routes = routes, .acts = acts, .expire_tokens = my_expire,
 *   };
 *   SBX_REGISTER(my_emu);
 *
 * Life cycle: init(emu, seed) builds emu->data from the seed JSON (the file
 * <seed dir>/<name>.json, or {} when absent; never NULL); free(emu) releases
 * it. Reset and POST /_sandbox/seed call free then init again with the
 * (possibly merged) seed. dump(emu) returns the full state as new JSON for
 * GET /_sandbox/state (the framework adds "deliveries" and "faults").
 *
 * Locking: every callback (route handler, act, init, free, dump, expire,
 * timer, webhook completion) runs with the emulator's mutex held, so state
 * needs no locking of its own. A handler that must wait on something slow
 * that may call back into the sandbox (sbx_ask) brackets it with
 * sbx_emu_unlock / sbx_emu_lock and re-validates its pointers afterwards.
 *
 * Routing: pattern segments are literal, "{name}" (one whole segment),
 * "{name}.ext" (a segment ending in ".ext", the prefix captured) or a final
 * "*" (the rest of the path, captured as "*"). Routes are tried in order;
 * a path that matches no route answers 404 {"error":"no route"}, a path
 * that matches with another method 405. Handlers reply with sbx_reply_*;
 * a handler that does not reply yields 500.
 *
 * Acts: POST /_sandbox/act/<name> calls the act with req->json = body.
 * Control requests (/_sandbox/...) are never faulted nor logged.
 *
 * Background work: sbx_after runs a function later (lock held); webhooks
 * are queued with sbx_webhook_post and delivered by a background thread
 * with retries; every attempt goes to the deliveries log.
 */
#ifndef LUONG_SBX_H
#define LUONG_SBX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#ifdef __cplusplus
extern "C" {
#endif

struct sbx_emu;
struct sbx_req;

typedef void (*sbx_handler)(struct sbx_emu *emu, struct sbx_req *req);

struct sbx_route {
	const char *method;  /* "GET", "POST", ... or "*" for any */
	const char *pattern; /* see "Routing" above */
	sbx_handler fn;
};

struct sbx_act {
	const char *name;
	sbx_handler fn;
};

struct sbx_emulator {
	const char *name; /* also the seed file name */
	int (*init)(struct sbx_emu *emu, const cJSON *seed); /* 0 or -1 */
	void (*free)(struct sbx_emu *emu);
	cJSON *(*dump)(struct sbx_emu *emu);
	void (*expire_tokens)(struct sbx_emu *emu); /* optional */
	const struct sbx_route *routes;		    /* NULL-terminated */
	const struct sbx_act *acts; /* optional, NULL-terminated */
};

/* Places a pointer to the descriptor in the "sbx_emulators" section. */
#define SBX_REGISTER(desc)                                                     \
	static const struct sbx_emulator *const sbx_reg_##desc                 \
		__attribute__((used, section("sbx_emulators"),                 \
			       aligned(sizeof(void *)))) = &(desc)

/* One running emulator. Only these fields are public. */
struct sbx_emu {
	const struct sbx_emulator *def;
	void *data;		   /* the emulator's state, set by init */
	struct sbx_emu_priv *priv; /* framework internals */
};

/* ---- requests ---- */
struct sbx_req {
	const char *method;
	const char *path; /* without the query string */
	const char *body; /* raw body, NUL-terminated, "" when none */
	size_t body_len;
	cJSON *json; /* parsed body or NULL (owned by the framework) */
	struct sbx_req_priv *priv;
};

const char *sbx_query(const struct sbx_req *req, const char *key); /* or NULL */
const char *sbx_header(const struct sbx_req *req,
		       const char *name); /* case-insensitive */
const char *sbx_param(const struct sbx_req *req,
		      const char *name); /* pattern capture */

/* ---- replies (one per request; the last one wins) ---- */
void sbx_reply_json(struct sbx_req *req, int status,
		    cJSON *body); /* takes body */
void sbx_reply_raw(struct sbx_req *req, int status, const char *content_type,
		   const char *body, size_t len); /* copies */
/* Extra header on the reply; may be called before or after sbx_reply_*. */
void sbx_reply_header(struct sbx_req *req, const char *name, const char *value);
/* Close the connection without any answer (as a crashed server would). */
void sbx_reply_drop(struct sbx_req *req);

/* ---- emulator helpers ---- */
const char *sbx_emu_name(const struct sbx_emu *emu);
int sbx_emu_port(const struct sbx_emu *emu);
void sbx_emu_lock(struct sbx_emu *emu);
void sbx_emu_unlock(struct sbx_emu *emu);
/* Verbose log line (only with -v). */
void sbx_log(const struct sbx_emu *emu, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Runs fn(emu, arg, false) after ms milliseconds with the lock held. On
 * reset, reseed or shutdown pending calls run as fn(emu, arg, true) so the
 * function can free arg; it must not touch emu->data then. */
typedef void (*sbx_timer_fn)(struct sbx_emu *emu, void *arg, bool cancelled);
void sbx_after(struct sbx_emu *emu, long ms, sbx_timer_fn fn, void *arg);

/* ---- webhooks (POST /_sandbox/webhooks sets url, secret, duplicate) ---- */
const char *sbx_webhook_url(const struct sbx_emu *emu);	   /* NULL when unset */
const char *sbx_webhook_secret(const struct sbx_emu *emu); /* "" when unset */

/* Completion of a webhook: delivered (2xx answer) or given up; status is
 * the last HTTP status (0 = transport error or no url), answer the last
 * body (may be NULL). Called once, lock held, never for duplicates. It
 * may run after a reset or reseed: emu->data is then the new state (look
 * records up again, never keep pointers into the state in arg). At
 * shutdown pending deliveries complete with delivered=false. */
typedef void (*sbx_hook_done_fn)(struct sbx_emu *emu, void *arg, bool delivered,
				 long status, const char *answer);

struct sbx_hook {
	const char *topic; /* label for the deliveries log */
	const char *body;  /* copied */
	size_t body_len;
	const char *const *headers; /* "Name: value", NULL-terminated; copied */
	const char *url;	    /* NULL = the emulator's webhook url */
	sbx_hook_done_fn done;	    /* optional */
	void *arg;
};
/* Queues a delivery; returns its id (> 0). With no url at all the delivery
 * is recorded as failed and done runs (later, from the delivery thread). */
long sbx_webhook_post(struct sbx_emu *emu, const struct sbx_hook *hook);

/* Synchronous POST for acts that must ask the receiver and obey (CRM
 * recall). Call with the lock released. Returns 0 when an HTTP answer came
 * (*status set, *answer malloc'd or NULL), -1 on transport error. */
int sbx_ask(const char *url, const char *const *headers, const char *body,
	    size_t len, long timeout_ms, long *status, char **answer);

/* ---- crypto ---- */
/* Lowercase hex / base64 HMAC-SHA256; malloc'd, NULL on failure. */
char *sbx_hmac_sha256_hex(const char *key, size_t key_len, const char *msg,
			  size_t msg_len);
char *sbx_hmac_sha256_b64(const char *key, size_t key_len, const char *msg,
			  size_t msg_len);
void sbx_random_hex(char *out, size_t nbytes); /* writes 2*nbytes chars + NUL */
void sbx_uuid(char out[37]);		       /* random v4 GUID, lowercase */

/* ---- time (Vietnam time, +07:00) ---- */
int64_t sbx_now_ms(void);
enum sbx_time_style {
	SBX_TIME_ISO,  /* 2025-11-11T11:25:17.250+07:00 */
	SBX_TIME_SQL,  /* 2025-11-11 11:25:17 */
	SBX_TIME_DATE, /* 2025-11-11 */
};
void sbx_time_vn(int64_t ms, enum sbx_time_style style, char *buf, size_t n);
/* Parses "yyyy-MM-dd[( |T)HH:mm:ss[.fff]][Z|+hh:mm]"; no zone = +07:00.
 * Returns milliseconds since the epoch or -1. */
int64_t sbx_parse_time(const char *s);

/* ---- JSON helpers ---- */
const char *sbx_jstr(const cJSON *obj,
		     const char *key); /* NULL if not a string */
double sbx_jnum(const cJSON *obj, const char *key,
		double dflt); /* numbers or numeric strings */
bool sbx_jbool(const cJSON *obj, const char *key,
	       bool dflt); /* true/false/1/0 */
/* Reads a whole file; malloc'd, NULL on error. */
char *sbx_read_file(const char *path, size_t *len);
/* Sets obj[key] to val (replacing any value there); takes val. */
void sbx_jset(cJSON *obj, const char *key, cJSON *val);
void sbx_jset_num(cJSON *obj, const char *key, double v);
void sbx_jset_str(cJSON *obj, const char *key,
		  const char *s); /* NULL sets null */
/* Removes "_"-prefixed keys (internal fields) from objects, recursively. */
void sbx_strip_internal(cJSON *item);
/* A deep copy without internal fields, for answers and webhook bodies. */
cJSON *sbx_out_copy(const cJSON *item);

/* ---- money ---- */
/* VND has no minor unit: rounds half away from zero to whole dong. */
double sbx_vnd(double v);

/* ---- webhook signing ---- */
/* Base64 HMAC-SHA256 of body with the webhook secret (POST
 * /_sandbox/webhooks), or fallback when that is unset (NULL = "");
 * malloc'd, NULL on failure. */
char *sbx_webhook_sign_b64(const struct sbx_emu *emu, const char *fallback,
			   const char *body);

#ifdef __cplusplus
}
#endif
#endif

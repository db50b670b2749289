/*
 * luong/plugin.h - what a connector plugin gives the Luồng host.
 *
 * A plugin is a shared object that exports exactly one symbol,
 * luong_plugin_entry(), returning a pointer to a static, constant
 * struct luong_plugin. The host loads it with dlopen(), checks the ABI
 * numbers before it reads anything else, validates each connection's
 * configuration against the plugin's config table, and only then calls
 * init() once per connection (one configured instance, e.g. one MISA
 * company).
 *
 * Lifecycle of one connection:
 *   init(ctx, host, &state)  on the host's main thread, before any other
 *                     call; again later if it failed (see init below)
 *   webhook()        on one of the host's HTTP threads
 *   poll(), actions' run() / perform()  on the host's worker threads
 *   fini(ctx, state)  on the main thread, after every other call returned;
 *                     also called when init() failed after setting *state
 *
 * Threading: the host never calls a plugin on its event loop thread, so a
 * plugin may block (HTTP calls through host->http are blocking on purpose:
 * write straight-line code). Calls for one connection may run concurrently
 * (webhooks on HTTP threads, the rest on workers) unless the plugin sets
 * LUONG_PLUGIN_SERIAL, in which case the host runs at most one call per
 * connection at a time. A guard (emit_sync) run from a serial plugin's
 * webhook may call the same connection's actions: they run inside the
 * webhook's turn, on its thread, and do not wait for it.
 *
 * Compatibility: LUONG_ABI_MAJOR changes only when old plugins cannot work;
 * the host then refuses them. LUONG_ABI_MINOR grows when members are
 * appended to a struct that carries struct_size; a host reads a member only
 * when struct_size covers it. The {0}-terminated tables (config fields,
 * events, actions) are versioned by the plugin's abi_minor: the host steps
 * through each table at the row size of the minor version the plugin was
 * built for and reads no member that minor did not have. So rows grow by
 * appending members in a new minor (events gained fields and a sample in
 * 1.2, actions check, inputs, outputs and perform), and a plugin built for
 * 1.0 or 1.1 keeps loading and simply lacks what came later. Config rows
 * have not grown yet; they would the same way. Write rows with designated
 * initializers ({ .name = "x", .run = x_run }): what a later minor
 * appends then starts NULL and no compiler warns about it.
 */
#ifndef LUONG_PLUGIN_H
#define LUONG_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LUONG_ABI_MAJOR 1 /* a change here: old plugins are refused */
#define LUONG_ABI_MINOR 2 /* a change here: members were appended */
/* 1.0  first release
 * 1.1  luong_events_api.emit_sync (guards answered synchronously)
 * 1.2  luong_action_def.check (the go-live check, `luong flows try`),
 *      LUONG_EVENT_GUARD (events answered once, through emit_sync)
 * 1.2  luong_call_api.version and previous_output, LUONG_CALL_UPDATE
 *      (a flow resends edits of synced documents as updates)
 * 1.2  luong_host.links (record links between systems)
 * 1.2  luong_plugin.rate_limit (the target's limit on calls)
 * 1.2  LUONG_NOT_POSTED (made but not posted), LUONG_E_NUMBER_TAKEN and
 *      luong_call_api.number_suffix (number clashes)
 * 1.2  luong_events_api.request (a person's push or retry from the source
 *      system, e.g. Kho's "Đẩy sang kế toán")
 * 1.2  luong_host.helpers (signatures, HTTP answer -> result),
 *      luong_log_api.fail (why init() or webhook() failed)
 * 1.2  declared fields: luong_action_def.inputs, outputs, perform (with
 *      luong_action_args); luong_event_def.fields and sample */

/* The name of the one exported symbol. */
#define LUONG_ENTRY_SYMBOL "luong_plugin_entry"

/* Symbol visibility for the entry point (build with -fvisibility=hidden). */
#define LUONG_EXPORT __attribute__((visibility("default")))

struct luong_host;
struct luong_ctx;  /* one connection (configured plugin instance), opaque */
struct luong_call; /* one run of one action for one document, opaque */

/* ---- configuration -------------------------------------------------- */

enum luong_config_type {
	LUONG_CFG_STRING = 1,
	LUONG_CFG_INT = 2,    /* decimal, fits int64_t */
	LUONG_CFG_BOOL = 3,   /* true / false */
	LUONG_CFG_URL = 4,    /* http:// or https:// */
	LUONG_CFG_SECRET = 5, /* given by reference only, never logged */
};

#define LUONG_CFG_REQUIRED 0x1u

/*
 * One setting a connection takes. The host rejects unknown keys, missing
 * required ones and values of the wrong type, naming the connection file
 * and the key, before init() is called.
 */
struct luong_config_field {
	const char *name;	   /* [a-z0-9_]+; NULL ends the table */
	uint32_t type;		   /* enum luong_config_type */
	uint32_t flags;		   /* LUONG_CFG_REQUIRED */
	const char *default_value; /* as text, NULL for none */
	const char *description;   /* one line, shown by `luong plugins` */
};

/* ---- events (what starts a flow) ------------------------------------ */

enum luong_event_kind {
	LUONG_EVENT_WEBHOOK = 1, /* emitted from the plugin's webhook() */
	LUONG_EVENT_POLL = 2,	 /* emitted from poll(), with a cursor */
	/* 1.2: emitted by webhook() through emit_sync() only: the flows it
	 * triggers answer the source once, while it waits; the host never
	 * runs them again later (no push, retry or resume) */
	LUONG_EVENT_GUARD = 3,
};

/*
 * poll() is called by the host every interval the flow asks for (or
 * default_interval_s). `cursor` is what the previous successful poll
 * returned (NULL the first time). Emit one event per changed document
 * with host->events->emit(), then set *next_cursor to a string allocated
 * with host->mem->alloc (or leave it NULL to keep the old one). The host
 * commits the emitted events and the new cursor in one transaction, so a
 * crash repeats a poll but never skips one. Return LUONG_E_TRANSIENT to
 * have the host try again later with the same cursor. A schedule (say, a
 * stock push every 15 minutes) is a poll event that ignores its cursor;
 * the flow's "every" sets the interval.
 */
typedef enum luong_status (*luong_poll_fn)(struct luong_ctx *ctx, void *state,
					   const char *cursor,
					   char **next_cursor);

/*
 * fetch() (optional, ABI 1.2+) reads one document from the source system
 * now and gives the payload this event would carry for it, as emit()
 * would: the go-live check (`luong flows try FLOW ID --fetch`) runs it
 * through a flow before the source has sent anything. It writes nothing.
 * LUONG_OK with *payload (consumed by the host); LUONG_E_NOTFOUND when the
 * source has no such document; another error with log->fail() saying why.
 * Runs on a worker thread, like an action.
 */
typedef enum luong_status (*luong_fetch_fn)(struct luong_ctx *ctx, void *state,
					    const char *doc_id,
					    cJSON **payload);

/* ---- declared fields (1.2): an action's inputs and outputs, an event's
 * payload ------------------------------------------------------------- */

enum luong_field_type {
	LUONG_FIELD_ANY = 0,
	LUONG_FIELD_STRING = 1,
	LUONG_FIELD_NUMBER = 2, /* integer or not */
	LUONG_FIELD_INTEGER = 3,
	LUONG_FIELD_BOOL = 4,
	LUONG_FIELD_OBJECT = 5,
	LUONG_FIELD_ARRAY = 6,
};

#define LUONG_FIELD_REQUIRED 0x1u /* an input a flow must map */

/*
 * One top-level member of an input, an output or an event's payload.
 * `luong flows check` refuses a flow that maps an input the action does
 * not declare, lacks a required one, or maps a constant of the wrong type,
 * and warns about a `when` or mapping that reads a payload field the event
 * does not declare. A table that is NULL declares nothing: anything goes.
 *
 * Null: an input that maps to null is given to run() as null, never
 * dropped by the host; a REQUIRED input that is null or missing when the
 * step runs fails the document (not retried) with the input's name, so
 * the target never gets a half-filled request.
 */
struct luong_field_def {
	const char *name;	 /* a member name; NULL ends the table */
	uint32_t type;		 /* enum luong_field_type */
	uint32_t flags;		 /* LUONG_FIELD_REQUIRED (inputs only) */
	const char *description; /* one line, shown by `luong plugins` */
};

struct luong_event_def {
	const char *name;	     /* e.g. "issue_note.saved"; NULL ends */
	uint32_t kind;		     /* enum luong_event_kind */
	const char *description;     /* one line */
	luong_poll_fn poll;	     /* LUONG_EVENT_POLL only */
	uint32_t default_interval_s; /* LUONG_EVENT_POLL only */
	/* -- 1.2 -- */
	const struct luong_field_def *fields; /* the payload's members */
	const char *sample;   /* a typical payload as JSON text, or NULL */
	luong_fetch_fn fetch; /* optional: one document read from the source */
};

/* The size of an event row of ABI 1.0 and 1.1 (before fields). */
#define LUONG_EVENT_DEF_V1_0_SIZE offsetof(struct luong_event_def, fields)

/* ---- actions (what a flow step does) -------------------------------- */

/*
 * run() performs one action for one document. `input` is borrowed: it is
 * valid until run() returns. Results:
 *   LUONG_OK         done; *output (may stay NULL) is consumed by the host
 *                    and becomes the step's output and the ledger's link.
 *   LUONG_PENDING    accepted, the outcome comes later: the plugin calls
 *                    host->events->complete() with this call's idempotency
 *                    key (e.g. from a signed callback). *output, if set,
 *                    is kept as the step's provisional output.
 *   LUONG_NOT_POSTED (1.2) made, but the target could not post it;
 *                    *output names what was made, set_error() says why.
 *   LUONG_E_NUMBER_TAKEN (1.2) the target refused the document's number
 *                    as already used; the flow's policy decides.
 *   LUONG_E_TRANSIENT, LUONG_E_TIMEOUT
 *                    retry later; host->call->retry_after() may ask for a
 *                    minimum delay (e.g. Retry-After), which the host
 *                    honours. The host owns retries and back-off.
 *   any other error  permanent failure: host->call->set_error() gives the
 *                    reason a user will read. Not retried.
 * Use host->call->idempotency_key(call) as the target's duplicate guard
 * (e.g. MISA's org_refid): it is the same on every retry and after a host
 * crash, so a repeated call must never make a second target document.
 */
typedef enum luong_status (*luong_action_fn)(struct luong_call *call,
					     void *state, const cJSON *input,
					     cJSON **output);

/*
 * check() (optional, ABI 1.2+) validates an input as run() would receive
 * it, without writing anything in the target: the go-live check (`luong
 * flows try`) calls it instead of run(). Reads are allowed (e.g. that the
 * codes the input names exist in the target). `input` is borrowed; fields
 * whose value needs an earlier step's real result are null in a dry run.
 * On LUONG_OK, *output (consumed by the host, may stay NULL) is an object:
 *   "problems"  array of {"path": "$.detail[1].inventory_item_code",
 *               "message": "..."}: each thing the target would refuse,
 *               with the JSON path of the field in the input
 *   "preview"   (optional) the request as run() would send it, with what
 *               the plugin fills in itself (totals, defaults)
 * Any error status means the check itself could not be done (the target
 * is down, the connection refused); host->call->set_error() says why.
 * The call's idempotency key and document id are those run() would get.
 */
typedef enum luong_status (*luong_check_fn)(struct luong_call *call,
					    void *state, const cJSON *input,
					    cJSON **output);

/*
 * perform() (optional, ABI 1.2+) is run() with everything in one argument
 * that can grow: the connection and the host table like webhook() and
 * poll() get, the call, the state and the input. When an action sets it,
 * the host calls it instead of run() (run() may then be NULL). The result
 * codes and ownership are run()'s; the output goes to args->output.
 *
 * Batches (planned, not in 1.2): MISA's save takes an array of vouchers
 * and AMIS CRM writes take arrays. A later minor appends to the action
 * row `uint32_t max_batch` and to struct luong_action_args `size_t n` and
 * `struct luong_action_item *items` (each with its own call, input, output
 * and status). The host fills items only for a row that declares
 * max_batch > 1, so 1.2 actions always get one document (n absent, read
 * input/output), and a batching action answers per document by setting
 * each item's status, output and error: no new major version is needed.
 */
struct luong_action_args {
	uint32_t struct_size;	       /* set by the host */
	struct luong_ctx *ctx;	       /* the connection */
	const struct luong_host *host; /* what init() received */
	struct luong_call *call;       /* key, attempt, set_error, ... */
	void *state;		       /* what init() set */
	const cJSON *input;	       /* borrowed for the call */
	cJSON *output;		       /* set by the action; consumed */
	/* later: batch members are appended here */
};

typedef enum luong_status (*luong_perform_fn)(struct luong_action_args *args);

struct luong_action_def {
	const char *name;	 /* e.g. "save_voucher"; NULL ends */
	const char *description; /* one line */
	luong_action_fn run;
	/* -- 1.2 -- */
	luong_check_fn check; /* optional: validates without writing */
	const struct luong_field_def *inputs;  /* optional: what it takes */
	const struct luong_field_def *outputs; /* optional: what it gives */
	luong_perform_fn perform;	       /* optional: instead of run() */
};

/* The size of an action row of ABI 1.0 and 1.1 (before check). */
#define LUONG_ACTION_DEF_V1_0_SIZE                                             \
	(offsetof(struct luong_action_def, run) + sizeof(luong_action_fn))

/* ---- webhooks -------------------------------------------------------- */

struct luong_webhook_request {
	uint32_t struct_size;
	const char *method; /* "POST", "GET", ... */
	const char *path;   /* below the connection's root, e.g. "/orders" */
	const char *body;   /* raw bytes, NUL-terminated for convenience */
	size_t body_len;
	/* A request header (case-insensitive name) or NULL. Borrowed. */
	const char *(*header)(const struct luong_webhook_request *req,
			      const char *name);
	/* A query-string argument or NULL. Borrowed. */
	const char *(*query)(const struct luong_webhook_request *req,
			     const char *name);
	void *host_private;
};

struct luong_webhook_response {
	uint32_t struct_size;
	uint32_t status;       /* HTTP status; the host presets 200 */
	char content_type[64]; /* preset "application/json" */
	char *body;	       /* from host->mem->alloc; the host frees it */
	size_t body_len;
};

/*
 * Handles an HTTP request to /hooks/<connection>/<path>. Runs on one of
 * the host's HTTP threads (never a worker, never the event loop). Verify
 * the signature first (host->helpers->hmac_verify); then emit events.
 * Everything emitted during the call is committed to the host's store
 * before the response is sent, so a 2xx always means "stored".
 *
 * Returning an error makes the host answer with resp->status when the
 * plugin set it to 400 or more, else by the status:
 *   LUONG_E_INVAL      400    LUONG_E_NOTFOUND   404
 *   LUONG_E_AUTH       401    LUONG_E_TRANSIENT, LUONG_E_TIMEOUT  503
 *   any other error    500
 * When the plugin left no body, the sender reads {"ok":false,"error":
 * "<reason>"}, the reason being what the plugin gave host->log->fail()
 * (else the status in words); the host logs it with the connection. The
 * host itself answers 404 for an unknown connection or one without
 * webhooks, 503 (send again later) when the events cannot be stored and
 * for a connection that is not started, and 413 for an oversized body.
 * Events emitted before an error are still kept.
 *
 * emit(): `document_id` and `event` may point into `payload` (e.g. the
 * payload's own "id" member): the host copies them before it consumes
 * the payload.
 */
typedef enum luong_status (*luong_webhook_fn)(
	struct luong_ctx *ctx, void *state,
	const struct luong_webhook_request *req,
	struct luong_webhook_response *resp);

/* ---- the target's limit on calls (1.2) ------------------------------ */

/*
 * How many calls the target takes, as its documentation says: a leaky
 * bucket of `burst` calls draining `per_second` (Haravan: 80 and 4), or
 * a fixed rate (burst 1). The host paces every request a connection
 * sends through host->http to stay under it, across all flows and
 * workers, and learns from the target's answers: `usage_header`, if
 * set, names a reply header "used/capacity" (Haravan's
 * "X-Haravan-Api-Call-Limit: 32/80"), and a 429 with Retry-After (for
 * any plugin) holds every call of the connection until then. A
 * connection's own setting ("rate_limit" in its file) overrides this.
 */
struct luong_rate_limit {
	uint32_t struct_size;	  /* sizeof(struct luong_rate_limit) */
	uint32_t burst;		  /* calls at once; 0 is taken as 1 */
	double per_second;	  /* steady rate; 0: no limit known */
	const char *usage_header; /* "used/capacity" reply header, or NULL */
};

/* ---- the descriptor --------------------------------------------------- */

#define LUONG_PLUGIN_SERIAL 0x1u /* at most one call per connection */

struct luong_plugin {
	uint16_t abi_major;   /* must equal the host's */
	uint16_t abi_minor;   /* the host refuses a newer minor */
	uint32_t struct_size; /* sizeof(struct luong_plugin) at build */
	const char *name;     /* [a-z0-9-]+, unique in the host */
	const char *version;  /* the plugin's own version */
	const char *description;
	uint32_t flags;				 /* LUONG_PLUGIN_SERIAL */
	const struct luong_config_field *config; /* may be NULL */
	const struct luong_event_def *events;	 /* may be NULL */
	const struct luong_action_def *actions;	 /* may be NULL */
	/* Mandatory. Set *state to the connection's private state. On an
	 * error (say why with host->log->fail) the host starts without this
	 * connection: it is shown not started with that reason, webhooks to
	 * it answer 503, its flows' documents wait pending, and init() is
	 * called again (after fini()) 1 s later, then doubling up to a
	 * minute, on a host thread, until it succeeds. */
	enum luong_status (*init)(struct luong_ctx *ctx,
				  const struct luong_host *host, void **state);
	/* Mandatory. Must accept the state a failed init() left. */
	void (*fini)(struct luong_ctx *ctx, void *state);
	luong_webhook_fn webhook; /* optional */
	/* -- 1.2 -- */
	const struct luong_rate_limit *rate_limit; /* NULL: none declared */
	/* members are appended here, never reordered or retyped */
};

/* Fills the ABI header; use first in a designated initializer. */
#define LUONG_PLUGIN_HEADER                                                    \
	.abi_major = LUONG_ABI_MAJOR, .abi_minor = LUONG_ABI_MINOR,            \
	.struct_size = sizeof(struct luong_plugin)

/* The entry point every plugin defines (exactly once). */
LUONG_EXPORT const struct luong_plugin *luong_plugin_entry(void);

#ifdef __cplusplus
}
#endif

#endif

/*
 * luong/host.h - the services the Luồng host gives a plugin.
 *
 * init() receives `const struct luong_host *host`, valid until fini()
 * returns. It is a table of service tables. Every table starts with
 * struct_size and only grows at its end; test an optional member with
 * LUONG_HAS(table, member) before calling it. Plugins never call host
 * symbols directly: everything goes through these tables.
 *
 * Ownership rules, one for the whole SDK:
 *   - `const` pointers passed to a plugin are borrowed until the call
 *     returns;
 *   - cJSON values handed to the host (emit, complete, an action's
 *     output) are consumed, even when the call fails;
 *   - a returned `char *` is owned by the caller: free it with
 *     host->mem->free; a returned `const char *` is borrowed.
 * Plugins and host share one cJSON (the system's libcjson); never call
 * cJSON_InitHooks.
 *
 * Threading: every member may be called from any thread the host called
 * the plugin on, concurrently, unless its comment says otherwise.
 */
#ifndef LUONG_HOST_H
#define LUONG_HOST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "plugin.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* True when `tbl` is new enough to have `member` and the host set it. */
#define LUONG_HAS(tbl, member)                                                 \
	((tbl) != NULL &&                                                      \
	 offsetof(__typeof__(*(tbl)), member) < (tbl)->struct_size &&          \
	 (tbl)->member != NULL)

#define LUONG_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* ---- memory ------------------------------------------------------------ */
struct luong_mem_api {
	uint32_t struct_size;
	void *(*alloc)(size_t size); /* NULL on failure */
	void (*free)(void *ptr);     /* NULL is a no-op */
	char *(*strdup)(const char *s);
};

/* ---- logging ----------------------------------------------------------- */
enum luong_log_level {
	LUONG_LOG_ERROR = 1,
	LUONG_LOG_WARN = 2,
	LUONG_LOG_INFO = 3,
	LUONG_LOG_DEBUG = 4,
};

struct luong_log_api {
	uint32_t struct_size;
	/* One line, prefixed by the host with time, level and
	 * [plugin:connection]. The level is checked before formatting. */
	void (*log)(struct luong_ctx *ctx, int level, const char *fmt, ...)
		LUONG_PRINTF(3, 4);
	bool (*enabled)(struct luong_ctx *ctx, int level);
	/* -- 1.2 -- */
	/*
	 * Says why the init() or webhook() running on this thread fails, in
	 * words a person reads: the host logs it with the connection's name
	 * (init) and sends it to the webhook's sender as {"ok":false,
	 * "error":"..."} when webhook() left no body of its own. Only from
	 * init() and webhook(); last call wins.
	 */
	void (*fail)(struct luong_ctx *ctx, const char *fmt, ...)
		LUONG_PRINTF(2, 3);
};

/* ---- configuration ------------------------------------------------------ */
struct luong_config_api {
	uint32_t struct_size;
	/* The connection's value for a declared key, or its default, or
	 * NULL. Secrets come back resolved. Borrowed for the connection's
	 * life. Validated against the plugin's table before init(). */
	const char *(*get)(struct luong_ctx *ctx, const char *key);
	int64_t (*get_int)(struct luong_ctx *ctx, const char *key);
	bool (*get_bool)(struct luong_ctx *ctx, const char *key);
	/* The connection's name, e.g. "misa-hanoi". Borrowed. */
	const char *(*connection)(struct luong_ctx *ctx);
};

/* ---- HTTP client --------------------------------------------------------- */
struct luong_http_header {
	const char *name;
	const char *value;
};

struct luong_http_request {
	uint32_t struct_size; /* sizeof(struct luong_http_request) */
	const char *method;   /* "GET", "POST", "PUT", "DELETE" */
	const char *url;
	const struct luong_http_header *headers;
	size_t n_headers;
	const char *body; /* may be NULL */
	size_t body_len;
	uint32_t timeout_ms; /* 0: the host's default (30 s) */
};

struct luong_http_response {
	uint32_t struct_size; /* set by the caller */
	long status;	      /* HTTP status, 0 when no answer came */
	char *body;	      /* NUL-terminated; owned, see response_free */
	size_t body_len;
	struct luong_http_header *headers; /* owned, see response_free */
	size_t n_headers;
	char error[256]; /* transport error text when status is 0 */
};

struct luong_http_api {
	uint32_t struct_size;
	/*
	 * Performs one request and blocks the calling worker until it ends;
	 * the host owns the sockets and reuses connections. Returns LUONG_OK
	 * whenever an HTTP answer came, whatever its status;
	 * LUONG_E_TRANSIENT when none came (refused, reset, DNS) and
	 * LUONG_E_TIMEOUT on time-out, with resp->error saying why. Call
	 * response_free afterwards in every case. Not for init()/fini().
	 */
	enum luong_status (*request)(struct luong_ctx *ctx,
				     const struct luong_http_request *req,
				     struct luong_http_response *resp);
	void (*response_free)(struct luong_http_response *resp);
	/* A response header (case-insensitive) or NULL. Borrowed. */
	const char *(*response_header)(const struct luong_http_response *resp,
				       const char *name);
};

/* ---- durable key/value, per connection ----------------------------------- */
struct luong_kv_api {
	uint32_t struct_size;
	/* *value is owned (host->mem->free); LUONG_E_NOTFOUND if absent. */
	enum luong_status (*get)(struct luong_ctx *ctx, const char *key,
				 char **value);
	/* Durable when it returns. */
	enum luong_status (*put)(struct luong_ctx *ctx, const char *key,
				 const char *value);
	enum luong_status (*del)(struct luong_ctx *ctx, const char *key);
};

/* ---- clock ------------------------------------------------------------------ */
struct luong_clock_api {
	uint32_t struct_size;
	int64_t (*now_ms)(void);  /* monotonic, for durations */
	int64_t (*wall_ms)(void); /* Unix time in ms, for timestamps */
};

/* ---- JSON: the host's cJSON, for values that cross the boundary ------------ */
struct luong_json_api {
	uint32_t struct_size;
	cJSON *(*parse)(const char *text, size_t len); /* NULL if invalid */
	char *(*print)(const cJSON *item); /* unformatted; host->mem->free */
	cJSON *(*dup)(const cJSON *item);
	void (*del)(cJSON *item);
};

/* ---- events: starting flows and finishing pending calls ------------------- */
struct luong_events_api {
	uint32_t struct_size;
	/*
	 * Reports that `document_id` (the source system's unique id) had
	 * `event` (one of the plugin's declared event names). Consumes
	 * `payload`. Only from webhook() or poll(): the host stores the
	 * event durably before it answers the webhook or keeps the cursor.
	 * A document already synced by a flow is not run again; if its
	 * payload changed, the ledger flags it "changed after sync".
	 * `document_id` and `event` may point into `payload`: they are
	 * copied before it is consumed (so may emit_sync's).
	 */
	enum luong_status (*emit)(struct luong_ctx *ctx, const char *event,
				  const char *document_id, cJSON *payload);
	/*
	 * Ends a call that returned LUONG_PENDING, found by its idempotency
	 * key. `result` is LUONG_OK (output is the step's output) or an
	 * error (`reason` is shown to the user; LUONG_E_TRANSIENT retries).
	 * 1.2: LUONG_NOT_POSTED: made (output names it) but not posted, for
	 * `reason`; the document becomes post_failed.
	 * Consumes `output`. LUONG_E_NOTFOUND when no call waits on `key`;
	 * completing twice is harmless.
	 */
	enum luong_status (*complete)(struct luong_ctx *ctx, const char *key,
				      enum luong_status result, cJSON *output,
				      const char *reason);
	/* -- 1.1 -- */
	/*
	 * A guard: like emit(), but the flows this event triggers run now,
	 * on the calling thread, and their outcome is returned so webhook()
	 * can answer the source system before it acts (e.g. refuse a
	 * recall). LUONG_OK with *output (owned, may be NULL) from the last
	 * step, or an error with *reason (owned, host->mem->free) a user can
	 * read. A guard cannot wait: a transient fault is a failure, and so
	 * is an action that answers LUONG_PENDING. No flow selected the
	 * event: LUONG_E_NOTFOUND; but a flow that would guard it and is
	 * disabled refuses (an error with *reason): a guard that is off
	 * cannot decide. The document is in the ledger like any
	 * other. Only from webhook(). Consumes `payload`.
	 */
	enum luong_status (*emit_sync)(struct luong_ctx *ctx, const char *event,
				       const char *document_id, cJSON *payload,
				       cJSON **output, char **reason);
	/* -- 1.2 -- */
	/*
	 * A person asked in the source system to send one of its documents
	 * now (AMIS Kho's "Đẩy sang kế toán" on an issue note): what a
	 * `luong push` / `luong retry` of it does. `what` is LUONG_REQUEST_*:
	 * PUSH sends a document waiting in a manual flow, RETRY one that
	 * failed or was not posted (IGNORE_WARNINGS: past the target's
	 * warnings). `flow` names one flow, or NULL for every flow this
	 * connection triggers. Only this connection's own documents: a flow
	 * triggered by another connection is refused (LUONG_E_INVAL), and
	 * guards are never pushed. LUONG_OK when a flow queued it,
	 * LUONG_E_NOTFOUND when none had it waiting or failed. Any thread
	 * the host called the plugin on, not in init()/fini().
	 */
	enum luong_status (*request)(struct luong_ctx *ctx, const char *flow,
				     const char *document_id, uint32_t what);
};

#define LUONG_REQUEST_PUSH 0x1u		   /* pending in a manual flow */
#define LUONG_REQUEST_RETRY 0x2u	   /* failed or post_failed */
#define LUONG_REQUEST_IGNORE_WARNINGS 0x4u /* with RETRY: post past them */

/* ---- the running call ------------------------------------------------------ */
#define LUONG_CALL_IGNORE_WARNINGS                                             \
	0x1u /* user asked to post despite warnings */
/* 1.2: the source document changed after it synced and its flow resends
 * edits (on_change: resend): update what the previous version made (see
 * previous_output) rather than make a second one */
#define LUONG_CALL_UPDATE 0x2u

struct luong_call_api {
	uint32_t struct_size;
	struct luong_ctx *(*ctx)(const struct luong_call *call);
	/* Stable across retries and restarts; unique per flow, source
	 * document and step. Borrowed for the call. */
	const char *(*idempotency_key)(const struct luong_call *call);
	const char *(*document_id)(const struct luong_call *call);
	uint32_t (*attempt)(const struct luong_call *call); /* 1, 2, ... */
	uint32_t (*flags)(const struct luong_call *call);   /* LUONG_CALL_* */
	/* The reason a user reads in the failed list. Last call wins. */
	void (*set_error)(struct luong_call *call, const char *fmt, ...)
		LUONG_PRINTF(2, 3);
	/* For a retryable result: retry no sooner than this. */
	void (*retry_after)(struct luong_call *call, uint32_t delay_ms);
	/* -- 1.2 -- */
	/* Which version of the source document this call sends: 1, then
	 * one more per edit a flow with on_change "resend" sends again.
	 * The idempotency key of version 1 is <flow>:<step>:<document>,
	 * of a later one <flow>:<step>:<document>@<version>. */
	uint32_t (*version)(const struct luong_call *call);
	/* This step's output for the previous version (what it made, e.g.
	 * the target's id to update), or NULL for version 1. Borrowed for
	 * the call. */
	const cJSON *(*previous_output)(const struct luong_call *call);
	/* -- 1.2 -- */
	/* What to append to the document number the action sends (MISA's
	 * org_refno): "" at first; after the target refused the number as
	 * used (the action returned LUONG_E_NUMBER_TAKEN) and the flow
	 * renumbers (on_number_clash "renumber"), "-1", then "-2", ...
	 * (SPEC B6). Borrowed for the call. */
	const char *(*number_suffix)(const struct luong_call *call);
};

/* ---- record links (1.2) -------------------------------------------------- */
struct luong_links_api {
	uint32_t struct_size;
	/*
	 * What a record of this connection is linked to in another
	 * connection: the record a flow made from it there, or the record
	 * it was made from (SPEC B11; flows declare the records they make,
	 * see docs/flows.md). `kind` (NULL: any) and `id` name this
	 * connection's record (its id, or for a made record also its
	 * code); `other_kind` NULL: any. LUONG_OK with *link (owned,
	 * host->json->del): {"connection", "kind", "id", "code", "flow",
	 * "document"} of the other record; LUONG_E_NOTFOUND when there is
	 * none; LUONG_E_INVAL for a NULL argument. Any thread, not in
	 * init()/fini().
	 */
	enum luong_status (*find)(struct luong_ctx *ctx, const char *kind,
				  const char *id, const char *other_connection,
				  const char *other_kind, cJSON **link);
};

/* ---- helpers every connector needs (1.2) -------------------------------- */
enum luong_sig_encoding {
	LUONG_SIG_HEX = 1,    /* 64 hex digits, either case */
	LUONG_SIG_BASE64 = 2, /* standard alphabet, padded: 44 characters */
};

/* How http_result reads a target's answer. */
struct luong_http_result_opts {
	uint32_t struct_size;
	const char *system; /* the target in messages, e.g. "MISA AMIS" */
	/* Where an error body carries the target's reason: "message",
	 * "error.message", "errors[0].detail" (a leading "$." is allowed).
	 * NULL or not found: the body's first 160 bytes. */
	const char *message_path;
	/* 401 and 403: called, when set, to drop the refused credentials.
	 * LUONG_OK: the call is retried (LUONG_E_TRANSIENT, no delay) with
	 * fresh ones; anything else, or no hook: LUONG_E_AUTH. */
	enum luong_status (*reauth)(void *ud, long http_status);
	void *reauth_ud;
};

struct luong_helpers_api {
	uint32_t struct_size;
	/*
	 * Whether `signature` is the HMAC-SHA256 of body under secret in the
	 * given encoding (enum luong_sig_encoding), compared in constant
	 * time. False for a NULL or empty secret or signature.
	 */
	bool (*hmac_verify)(const void *secret, size_t secret_len,
			    const void *body, size_t body_len,
			    const char *signature, uint32_t encoding);
	/* The HMAC-SHA256 of body as text into out (65 bytes hold both
	 * encodings; hex is lowercase). LUONG_E_INVAL for a bad encoding. */
	enum luong_status (*hmac_sign)(const void *secret, size_t secret_len,
				       const void *body, size_t body_len,
				       uint32_t encoding, char out[65]);
	/*
	 * The result an action returns for one HTTP exchange, given what
	 * http->request returned (`transport`) and its response:
	 *   no answer                    LUONG_E_TRANSIENT / LUONG_E_TIMEOUT
	 *   2xx                          LUONG_OK
	 *   401, 403                     see opts->reauth
	 *   429, 5xx                     LUONG_E_TRANSIENT; Retry-After (in
	 *                                seconds or an HTTP date) becomes
	 *                                call->retry_after
	 *   other 4xx and the rest       LUONG_E_REMOTE
	 * Every error carries a reason naming the system, the status and the
	 * target's message: set with call->set_error when `call` is given,
	 * else logged on ctx. `call` may be NULL (a poll, a webhook).
	 */
	enum luong_status (*http_result)(
		struct luong_ctx *ctx, struct luong_call *call,
		enum luong_status transport,
		const struct luong_http_response *resp,
		const struct luong_http_result_opts *opts);
	/* A Retry-After value (seconds or an HTTP date) as a delay in ms
	 * from wall_ms; 0 when absent, past or unreadable. */
	uint32_t (*retry_after_ms)(const char *value, int64_t wall_ms);
	/* The member of root at a path like http_result's message_path, or
	 * NULL. Borrowed from root. */
	const cJSON *(*json_at)(const cJSON *root, const char *path);
};

/* ---- the table of tables ------------------------------------------------- */
struct luong_host {
	uint32_t struct_size;
	uint16_t abi_major;
	uint16_t abi_minor;
	const char *host_version;
	const struct luong_mem_api *mem;
	const struct luong_log_api *log;
	const struct luong_config_api *config;
	const struct luong_http_api *http;
	const struct luong_kv_api *kv;
	const struct luong_clock_api *clock;
	const struct luong_json_api *json;
	const struct luong_events_api *events;
	const struct luong_call_api *call;
	/* -- 1.2 -- */
	const struct luong_links_api *links;
	const struct luong_helpers_api *helpers;
	/* later: appended here */
};

#ifdef __cplusplus
}
#endif

#endif

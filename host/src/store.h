/*
 * store.h - the durable store: events, the ledger of documents per flow,
 * their history, flow modes, plugin key/value state and poll cursors.
 *
 * This header is the interface; store_sqlite.c and the store_*.c files
 * beside it (store_int.h) are the embedded backend (SQLite, WAL). Every write goes through one writer thread that commits
 * whatever is queued in one transaction (group commit): a caller that
 * waits is answered only after its commit, so nothing is acknowledged
 * before it is durable, and concurrent callers share one fsync.
 *
 * Reads may run on any thread (each takes a connection of a pool, which
 * keeps its statements prepared).
 */
#ifndef LUONG_STORE_H
#define LUONG_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct store;

enum doc_status {
	DOC_PENDING, /* waits to run (manual: waits for a push) */
	DOC_SYNCING, /* running, or waiting for the target's callback */
	DOC_SYNCED,  /* done; `target` holds what was created */
	DOC_FAILED,  /* permanent fault or attempts used up; see reason */
	DOC_SKIPPED, /* the flow's filter did not select it */
	/* the target made it but could not post it (SPEC B5); see reason.
	 * Retried with failed ones (`retry --ignore-warnings`). */
	DOC_POST_FAILED,
	DOC__COUNT
};
const char *doc_status_name(enum doc_status s);
int doc_status_parse(const char *s, enum doc_status *out);

struct store_opts {
	const char *path; /* the database file */
	bool sync_full;	  /* fsync every commit (power-loss safe) */
};

int store_open(const struct store_opts *opts, struct store **out, char *err,
	       size_t errlen);
void store_close(struct store *s);

/* ---- ingest ---------------------------------------------------------- */

/* One flow's view of one incoming event. */
struct ingest_flow {
	const char *flow_id;
	bool selected;	/* the flow's `when` filter matched */
	bool automatic; /* runnable at once (else waits for a push) */
	const char *skip_reason;
	const char *order_key; /* what must stay in order; NULL = the doc */
	bool echo;	       /* the host's own write coming back (echo.c):
				 * not selected, and not news */
	bool resend;	       /* on_change: resend: a newer version of a
				 * synced document is sent again */
	/* out: */
	bool runnable;	/* became pending and should be queued */
	bool updated;	/* a newer version replaced a document not
				 * sent yet: what was read of it is stale */
	int64_t seq;	/* the document's order key */
	bool resent;	/* a synced document's newer version became
				 * pending: read it back, it is not new */
	bool after_run; /* ... once the run sending the last version has
			 * ended (an edit while it was sent) */
};

struct ingest_event {
	const char *connection;
	const char *event;
	const char *doc_id;
	const char *payload;   /* JSON text */
	char payload_hash[65]; /* out: its SHA-256, set by store_ingest */
	int64_t replay_seq;    /* a stored event given again (replay): no
				 * new event row; 0 for a new event */
	bool polled;	       /* from a poll: a record whose content is
				 * what every flow last received is passed
				 * over without a write */
	bool unchanged;	       /* out: passed over (polled only) */
	struct ingest_flow *flows;
	size_t n_flows;
};

struct ingest_cursor {
	const char *connection;
	const char *event;
	const char *cursor;
};

/* Stores the events (and the poll cursor, if any) in one commit and
 * updates the ledger: a new document becomes pending (or skipped); a
 * document already synced is not run again and is flagged "changed after
 * sync" when its payload differs, unless its flow resends edits: then
 * the newer version becomes pending as the next version. A polled
 * record that every flow holds already with this content writes
 * nothing. Blocks until committed. */
int store_ingest(struct store *s, struct ingest_event *evs, size_t n,
		 const struct ingest_cursor *cursor);

/* ---- ledger updates --------------------------------------------------- */

struct doc_update {
	const char *flow_id;
	const char *doc_id;
	enum doc_status status;
	uint32_t attempts;
	int64_t next_at;      /* wall ms when to run again; 0 = not scheduled */
	const char *reason;   /* NULL clears */
	uint32_t step;	      /* index of the next step to run */
	const char *outputs;  /* JSON of step outputs so far, NULL = keep */
	const char *target;   /* JSON link to what was created, NULL = keep */
	const char *wait_key; /* waiting for complete(key); NULL clears */
	uint32_t renumber;    /* number clash suffix; only ever raised */
	/* The payload the caller is sending; if the ledger holds a newer
	 * one, it is flagged "changed after sync" (NULL: no check). */
	const char *expect_hash;
	/* set to true, before `done` runs, when the run that ended had an
	 * edit waiting for it (on_change: resend), now the next version;
	 * must outlive the write */
	bool *next_version;
	/* history line */
	const char *h_step;
	const char *h_outcome; /* e.g. "synced", "retry", "failed" */
	const char *h_detail;
};

typedef void (*store_done_fn)(void *ud, int rc);

/* Queued for the next group commit; `done` (optional) runs on the
 * writer thread after the commit. */
void store_update_async(struct store *s, const struct doc_update *u,
			store_done_fn done, void *ud);
int store_update(struct store *s, const struct doc_update *u);
/* Returns once every write queued before it is committed. */
int store_flush(struct store *s);

/* A queued document, for the engine's queues. */
struct doc_ref {
	char *flow_id;
	char *doc_id;
	char *order_key; /* NULL = the document */
	int64_t seq;
	int64_t next_at;
	bool waiting; /* sent; waits for the target's answer */
};
void doc_refs_free(struct doc_ref *refs, size_t n);

/* Push: pending documents of a flow (all if ids is NULL) are marked
 * pushed and due now. Retry: failed ones go back to pending, attempts
 * reset, optionally with ignore-warnings. Returns the documents to queue
 * (owned) and sets *n; -1 on error. Unknown ids are listed in *missing
 * (owned JSON array of strings, may be NULL). */
int store_push(struct store *s, const char *flow_id, const char *const *ids,
	       size_t n_ids, struct doc_ref **out, size_t *n, cJSON **missing);
int store_retry(struct store *s, const char *flow_id, const char *const *ids,
		size_t n_ids, bool ignore_warnings, struct doc_ref **out,
		size_t *n, cJSON **missing);

/* ---- reads -------------------------------------------------------------- */

/* Documents that must run after a start: pending and (automatic or
 * pushed), or syncing (interrupted). Ordered by seq. */
int store_runnable(struct store *s, const char *flow_id, bool automatic,
		   struct doc_ref **out, size_t *n);

struct doc_row {
	char *flow_id, *doc_id, *connection, *event;
	enum doc_status status;
	uint32_t attempts, step;
	int64_t seq, next_at, created_at, updated_at;
	bool pushed, ignore_warnings, changed_after_sync;
	char *reason, *payload, *outputs, *target, *wait_key;
	char *order_key;    /* NULL = the document */
	uint32_t version;   /* 1, then one more per edit resent */
	uint32_t renumber;  /* number clashes: the suffix -N sent, or 0 */
	char *prev_outputs; /* the previous version's step outputs */
};
void doc_row_free(struct doc_row *r);
/* 0 found, 1 not found, -1 error */
int store_get_doc(struct store *s, const char *flow_id, const char *doc_id,
		  struct doc_row *out);
/* Finds the document waiting on a complete() key. 0 / 1 / -1. */
int store_find_wait(struct store *s, const char *key, struct doc_row *out);

/* JSON array of {document, status, attempts, reason, updated_at, ...}. */
cJSON *store_list_docs(struct store *s, const char *flow_id, const char *status,
		       int64_t after_seq, int limit);
/* JSON array of history lines of one document. */
cJSON *store_history(struct store *s, const char *flow_id, const char *doc_id);
/* Stored events of one trigger (connection, event) received in
 * [from_ms, to_ms], after seq `after`, at most `limit`, by seq: what a
 * replay gives a flow again. `payload` holds the event's JSON. */
struct stored_event {
	int64_t seq, received_at;
	char *doc_id, *payload;
};
int store_events(struct store *s, const char *connection, const char *event,
		 int64_t from_ms, int64_t to_ms, int64_t after, int limit,
		 struct stored_event **out, size_t *n);
void stored_events_free(struct stored_event *evs, size_t n);
/* The last stored event of one document for a trigger: what the go-live
 * check tries by id. 0 found (free out->doc_id and out->payload), 1 none,
 * -1 error. */
int store_last_event(struct store *s, const char *connection, const char *event,
		     const char *doc_id, struct stored_event *out);

/* counts[flow][status]; JSON object {flow: {status: n}}. */
cJSON *store_counts(struct store *s);

/* ---- flow modes ---------------------------------------------------------- */
/* 0 and *mode (owned) when set, 1 when never set, -1 on error. */
int store_get_mode(struct store *s, const char *flow_id, char **mode);
int store_set_mode(struct store *s, const char *flow_id, const char *mode);

/* ---- plugin state ---------------------------------------------------------- */
int store_kv_get(struct store *s, const char *conn, const char *key,
		 char **value); /* 0, 1 not found, -1 */
int store_kv_put(struct store *s, const char *conn, const char *key,
		 const char *value);
int store_kv_del(struct store *s, const char *conn, const char *key);
int store_cursor_get(struct store *s, const char *conn, const char *event,
		     char **cursor); /* 0, 1 not found, -1 */

/* ---- record links (store_links.c) ------------------------------------------ */
/* What a source record became in another system (SPEC B11): (a:
 * connection, kind, id) -> (b: connection, kind, id and/or code), at most
 * one per source record, target connection and kind. A link is first
 * claimed by the step about to make it, then made. */
struct link {
	int64_t row;			       /* its order in the table */
	char *a_conn, *a_kind, *a_id;	       /* the source record */
	char *b_conn, *b_kind, *b_id, *b_code; /* what it became */
	char *flow, *doc_id, *step; /* who made it (or is making it) */
	bool made;		    /* false: claimed, being made */
	char *output;		    /* JSON: the making step's output */
	char *echo;		    /* hash of the content it wrote */
	int64_t created_at, updated_at;
};
void link_free(struct link *l);
/* {seq, source: {connection, kind, id}, target: {connection, kind, id,
 * code}, state: "made" or "making", flow, document, step, created_at,
 * updated_at}. Owned. */
cJSON *link_json(const struct link *l);
/* The other record of l, seen from (from_conn, from_id): {connection,
 * kind, id, code, flow, document}, what link() and plugins get. Owned. */
cJSON *link_seen_from(const struct link *l, const char *from_conn,
		      const char *from_id);

/* The row of want's (a -> b connection and kind), made or claimed:
 * 0 (*out owned), 1 none, -1 error. */
int store_link_get(struct store *s, const struct link *want, struct link *out);
/* Claims the making of want's (a -> b connection and kind) for want's
 * flow, document and step, with the next group commit; a row already
 * there (claimed or made) stays as it is. Who may claim is the caller's
 * to decide first (links.c). `done` as for store_update_async. */
void store_link_claim_async(struct store *s, const struct link *want,
			    store_done_fn done, void *ud);
/* Records a made link (its id, code and output), replacing a claim. */
void store_link_put_async(struct store *s, const struct link *l,
			  store_done_fn done, void *ud);
int store_link_put(struct store *s, const struct link *l);
/* Drops the claims (not made links) of one document of a flow. */
int store_link_release(struct store *s, const char *flow, const char *doc_id);

/* One record: a connection, a kind (NULL: any) and an id (or a code). */
struct link_end {
	const char *connection, *kind, *id;
};
/* The made link between a record and a record of other_conn (and
 * other_kind, NULL: any), in either direction: the record as the source,
 * else as the target by its id, else by its code. 0 (*out owned), 1 none,
 * -1 error. */
int store_link_find(struct store *s, const struct link_end *rec,
		    const char *other_conn, const char *other_kind,
		    struct link *out);

/* The made link whose target is rec (by id or code) and whose write had
 * content hash `echo`: the target reporting what the host itself wrote.
 * 0 (*out owned), 1 none, -1 error. */
int store_link_echo(struct store *s, const struct link_end *rec,
		    const char *echo, struct link *out);

struct link_query {
	const char *connection, *kind, *id, *flow; /* NULL: any */
	int64_t after;				   /* links after this seq */
	int limit;				   /* 0: 100 */
};
/* JSON array of link_json() objects by seq; NULL on error. */
cJSON *store_links_list(struct store *s, const struct link_query *q);

#endif

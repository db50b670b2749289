/*
 * flow: flow files (flows/NAME.json) and mapping tables, loaded and validated.
 *
 * A flow set is loaded all or nothing: every problem in every file is
 * reported, one line each, as "<file>: <json path>: <what is wrong>" (or
 * "<file>:<line>:<column>: invalid JSON: <reason>"). The format is described
 * for users in docs/flows.md and for editors in flows/schema/flow.schema.json.
 *
 * Threading: load and free from one thread; a loaded set is read-only and
 * its expressions may be evaluated from any thread (see expr.h).
 */
#ifndef LUONG_FLOW_H
#define LUONG_FLOW_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "expr.h"

struct luong_field_def;

/* What the host knows about connections, given to the loader. */
struct flow_catalog {
	void *ud;
	/* Each returns 0 when fine, else -1 with one line in msg, such as
     *   unknown connection "x" (known: misa, kho)
     *   connection "kho" (plugin amis-kho) has no event "foo" (it offers: a, b)
     * A message starting with "unknown connection" is reported at the
     * step's or trigger's "connection" field, any other at "event"/"action".
     * check_event sets *is_poll to 1 for poll events (which take "every"). */
	int (*check_event)(void *ud, const char *connection, const char *event,
			   int *is_poll, char *msg, size_t len);
	int (*check_action)(void *ud, const char *connection,
			    const char *action, char *msg, size_t len);
	/* SDK 1.2 declarations, NULL when there are none (anything goes). */
	const struct luong_field_def *(*action_inputs)(void *ud,
						       const char *connection,
						       const char *action);
	const struct luong_field_def *(*event_fields)(void *ud,
						      const char *connection,
						      const char *event);
};

enum flow_mode { FLOW_AUTOMATIC, FLOW_MANUAL, FLOW_DISABLED };

/* A number the target refuses as used (SPEC B6). */
enum flow_on_clash {
	FLOW_CLASH_FAIL,     /* the document fails, for a person to decide */
	FLOW_CLASH_RENUMBER, /* sent again with a suffix -1, -2, ... */
};

/* What a source document edited after it synced does (SPEC B9). */
enum flow_on_change {
	FLOW_ON_CHANGE_FLAG,   /* flagged "changed after sync", not resent */
	FLOW_ON_CHANGE_RESEND, /* run again with the new content, as an update */
};

/* "automatic", "manual", "disabled". */
const char *flow_mode_name(enum flow_mode m);
/* 0 and *out set, or -1 for an unknown name. */
int flow_mode_parse(const char *s, enum flow_mode *out);

struct flow_retry {
	uint32_t max_attempts; /* 0 = retry transient faults until they pass */
	uint32_t initial_ms, max_ms;
	double multiplier, jitter;
};

/* Defaults: 0 attempts (unlimited), 500 ms, 8 s, x2, jitter 0.2. */
#define FLOW_RETRY_DEFAULT ((struct flow_retry){ 0, 500, 8000, 2.0, 0.2 })

/* Delay before attempt n+1 after n failed attempts (0 for n = 0):
 * initial * multiplier^(n-1), capped at max, then spread by +-jitter using
 * rnd in [0,1) (rnd 0.5 = no spread), and capped at max again. */
uint32_t flow_retry_delay_ms(const struct flow_retry *r,
			     uint32_t failed_attempts, double rnd);

/* Parses a duration such as "500ms", "15m", "1h30m" into ms. 0 or -1. */
int flow_duration_parse(const char *s, uint64_t *ms);

/* A step that makes a record of `kind` in its connection links it to the
 * trigger's document (SPEC B11): `ref` is a template {"id": ..., "code":
 * ...} evaluated on the step's output. A source document already linked
 * to a record of that kind there does not make another one. */
struct flow_link {
	char *kind;
	struct expr *ref;
	/* What the write says, in words both directions share (jq on the
     * source document): its hash is kept on the link, so the target
     * reporting the same content back is known as an echo (SPEC B13). */
	struct expr *echo;
};

struct flow_step {
	char *id, *connection, *action;
	struct expr *input;	/* template: evaluate on the event with vars */
	cJSON *input_src;	/* the template as written (the go-live check
                         * reads which fields need earlier steps) */
	struct flow_link *link; /* NULL: the step makes no linked record */
	/* jq read before the step runs (link() allowed): a string or true
     * refuses the document with that reason, the step is not called;
     * null or false goes on. NULL: never refuses. */
	struct expr *refuse_if;
};

struct flow {
	char *id, *name, *file; /* file: path as given, for messages */
	char *description;	/* NULL when absent */
	enum flow_mode mode;	/* as written; the host's stored mode wins */
	char *trigger_connection, *trigger_event;
	struct expr *when; /* NULL: every event */
	/* What must stay in order: documents whose order_by gives the same
     * value run one after another, in source order (SPEC B4); others
     * pass a document that backs off. NULL: each document alone. */
	struct expr *order_by;
	/* The event's content in the words of the links' echo (jq); an
     * event of a record the host wrote with that content is an echo of
     * its own write and is not sent back. NULL: no check. */
	struct expr *echo;
	uint32_t every_s; /* poll triggers; 0 = plugin default */
	struct flow_step *steps;
	size_t n_steps;
	struct flow_retry retry;
	enum flow_on_change on_change;
	enum flow_on_clash on_number_clash;
	/* What the trigger's documents are, for links: trigger.kind, else
     * the event's name up to its first dot ("issue_note.saved"). */
	char *trigger_kind;
	/* Warnings found while loading (reads of fields the event does not
     * declare), given out by flow_set_warnings. */
	struct flow_errors *notes;
};

struct flow_set {
	struct flow **flows; /* sorted by file name */
	size_t n;
	cJSON *tables; /* {table: {source code: target code}}, owned */
};

struct flow_errors {
	char **msgs;
	size_t n;
};

/* Appends one formatted message. */
__attribute__((format(printf, 2, 3))) void
flow_errors_add(struct flow_errors *errs, const char *fmt, ...);

/* Loads every *.json in flows_dir (sorted by name, not recursive, dot files
 * and subfolders such as schema/ ignored) and the mapping tables in
 * mappings_dir (<table>.json, an object; NULL or missing = no tables).
 * All or nothing: on any error returns -1, *out stays NULL and errs gets
 * every problem found (append: call flow_errors_clear to reuse). cat may be
 * NULL to check files alone (connections, events and actions unchecked). */
int flow_set_load(const char *flows_dir, const char *mappings_dir,
		  const struct flow_catalog *cat, struct flow_set **out,
		  struct flow_errors *errs);

/* Loads one flow file alone (as flow_set_load does for each file), with
 * tables from flow_tables_load or NULL. On error returns NULL and appends to
 * errs. */
struct flow *flow_load_file(const char *path, const cJSON *tables,
			    const struct flow_catalog *cat,
			    struct flow_errors *errs);

/* Loads the mapping tables of a directory into *out (owned). */
int flow_tables_load(const char *mappings_dir, cJSON **out,
		     struct flow_errors *errs);

const struct flow *flow_set_find(const struct flow_set *set, const char *id);
void flow_free(struct flow *f);
void flow_set_free(struct flow_set *set);
void flow_errors_clear(struct flow_errors *errs);

/* Warnings about a loaded set that do not stop it, one line each (append):
 * two flows on the same trigger whose steps make the same kind of record
 * in the same connection (only the first to send a document makes it). */
void flow_set_warnings(const struct flow_set *set, struct flow_errors *out);

#endif

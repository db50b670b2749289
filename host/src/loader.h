/*
 * loader.h - plugins (shared objects) and connections (configured
 * instances of a plugin, the SDK's struct luong_ctx).
 *
 * Loading follows Redis' moduleLoad: dlopen, look up the one entry
 * symbol, check the ABI before reading anything else, check the
 * descriptor, and undo everything on any failure; each refusal is one log
 * line naming the file, what it has and what the host needs.
 */
#ifndef LUONG_LOADER_H
#define LUONG_LOADER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <luong/luong.h>

struct ratelimit;
struct runtime;

struct plugin {
	char *path;
	void *dl;
	const struct luong_plugin *desc;
	struct plugin *next;
};

/* One connection: what the SDK calls struct luong_ctx. */
struct luong_ctx {
	char *name; /* from the file name: connections/<name>.json */
	char *file;
	struct plugin *plugin;
	cJSON *values; /* resolved settings: key -> string */
	void *state;
	_Atomic bool ready; /* init() succeeded */
	/* why not ready, "" when ready; replaced while init is retried
	 * (reinit.c): read it with loader_conn_error */
	char error[400];
	pthread_mutex_t error_mu;
	pthread_mutex_t serial;	  /* held around calls of LUONG_PLUGIN_SERIAL */
	struct ratelimit *rl;	  /* paces its HTTP calls (conn_limit.c) */
	const char *usage_header; /* the target's "used/capacity" header */
	struct runtime *rt;
	char where[160]; /* log prefix */
	/* health (health.c): the last action that succeeded and the last
	 * that did not, with its reason */
	pthread_mutex_t health_mu;
	int64_t last_ok_ms, last_err_ms;
	char *last_err;
};

/* Loads one plugin file; NULL with the refusal in err. */
struct plugin *loader_load_plugin(const char *path, struct plugin *loaded,
				  char *err, size_t errlen);
/* Loads every *.so in dir (sorted); refusals are logged, the rest go on,
 * and counted in *n_refused (may be NULL). Returns the list (may be
 * empty). */
struct plugin *loader_load_dir(const char *dir, size_t *n_refused);
void loader_unload_all(struct plugin *list);
struct plugin *loader_find(struct plugin *list, const char *name);

/* Reads connections/<name>.json files and validates each against its
 * plugin's config table. Errors are logged as "file: $.path: what" and
 * counted in *n_errors; the connection is then left out. */
int loader_read_connections(struct runtime *rt, const char *dir,
			    size_t *n_errors);
/* init() every connection; a failing one is logged and marked not ready
 * (reinit.c tries it again). */
void loader_init_connections(struct runtime *rt);
/* One connection's init(); on failure ctx->error says why (logged) and
 * fini() has undone it. true when ready. */
bool loader_init_one(struct runtime *rt, struct luong_ctx *ctx);
/* A copy of why ctx is not ready ("" when it is), safe from any thread. */
void loader_conn_error(struct luong_ctx *ctx, char *buf, size_t len);
void loader_fini_connections(struct runtime *rt);
struct luong_ctx *loader_connection(struct runtime *rt, const char *name);

const struct luong_event_def *plugin_event(const struct plugin *p,
					   const char *name);
const struct luong_action_def *plugin_action(const struct plugin *p,
					     const char *name);
/* Action rows are as large as the plugin's ABI minor made them (1.2 grew
 * them): step through p->desc->actions at this size, never sizeof. */
size_t plugin_action_row_size(const struct plugin *p);
size_t plugin_action_count(const struct plugin *p);
/* The action's check() (ABI 1.2), or NULL: none, or an older plugin. */
luong_check_fn plugin_action_check(const struct plugin *p,
				   const struct luong_action_def *a);
/* The event's fetch() (ABI 1.2), or NULL: none, or an older plugin. */
luong_fetch_fn plugin_event_fetch(const struct plugin *p,
				  const struct luong_event_def *e);
/* Event rows likewise (1.2 grew them). */
size_t plugin_event_row_size(const struct plugin *p);
size_t plugin_event_count(const struct plugin *p);
/* What the plugin declared (ABI 1.2), or NULL: nothing, or an older
 * plugin (then anything goes). */
const struct luong_field_def *
plugin_event_fields(const struct plugin *p, const struct luong_event_def *e);
const char *plugin_event_sample(const struct plugin *p,
				const struct luong_event_def *e);
const struct luong_field_def *
plugin_action_inputs(const struct plugin *p, const struct luong_action_def *a);
const struct luong_field_def *
plugin_action_outputs(const struct plugin *p, const struct luong_action_def *a);
luong_perform_fn plugin_action_perform(const struct plugin *p,
				       const struct luong_action_def *a);
/* "any", "string", ... by enum luong_field_type. */
extern const char *const field_type_names[];
/* JSON description of a plugin: config fields, events, actions. */
cJSON *plugin_describe(const struct plugin *p);

/* conn_limit.c: the declared limit (NULL if none or built before 1.2),
 * refused at load when malformed; a connection's limiter from it and
 * the connection file's "rate_limit" (may be NULL), -1 with a line
 * naming the field when the setting is wrong. */
const struct luong_rate_limit *plugin_rate_limit(const struct luong_plugin *d);
int plugin_check_rate_limit(const char *file, const struct luong_plugin *d,
			    char *err, size_t errlen);
int conn_rate_limit(struct luong_ctx *ctx, const cJSON *setting);
cJSON *rate_limit_describe(const struct luong_rate_limit *r);

/* Lock / unlock around any call into a connection's plugin. */
void conn_enter(struct luong_ctx *ctx);
void conn_leave(struct luong_ctx *ctx);

/* health.c: an action call's outcome (msg: why it failed, else NULL),
 * and the connection's health as JSON fields of obj. */
void health_note(struct luong_ctx *ctx, bool ok, const char *msg);
void health_json(struct luong_ctx *ctx, cJSON *obj);

#endif

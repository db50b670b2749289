/*
 * catalog.c - what flow validation checks names against: the runtime's
 * connections, their plugins' events and actions, with messages that
 * list what is there.
 */
#include "engine.h"

#include <stdio.h>
#include <string.h>

#include "i18n.h"
#include "runtime.h"
#include "util.h"

static void list_names(char *buf, size_t len, const char *first, size_t stride,
		       size_t count)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < count && n < len; i++) {
		const char *name = *(const char *const *)(first + i * stride);

		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? ", " : "",
				      name);
	}
	if (!count)
		util_strlcpy(buf, "none", len);
}

static struct luong_ctx *catalog_conn(struct runtime *rt, const char *name,
				      char *msg, size_t len)
{
	struct luong_ctx *ctx = loader_connection(rt, name);
	char known[400];
	const cJSON *r;

	/* one that failed to start is known: its flows load and wait */
	if (ctx)
		return ctx;
	cJSON_ArrayForEach (r, rt->refused_conns)
		if (!strcmp(r->valuestring, name)) {
			snprintf(msg, len,
				 _("unknown connection \"%s\": its "
				   "file %s/%s.json was refused (see above)"),
				 name, rt->conf.connections_dir, name);
			return NULL;
		}
	{
		const char *names[64];
		size_t n = 0;

		for (size_t i = 0; i < rt->n_conns && n < 64; i++)
			names[n++] = rt->conns[i]->name;
		list_names(known, sizeof(known), (const char *)names,
			   sizeof(names[0]), n);
	}
	snprintf(msg, len, _("unknown connection \"%s\" (known: %s)"), name,
		 known);
	return NULL;
}

/* The host's own connection, "luong": its events, no actions. */
static int host_event(const char *event, int *is_poll, char *msg, size_t len)
{
	*is_poll = 0;
	if (!strcmp(event, HOST_EVENT_FAILED))
		return 0;
	snprintf(msg, len,
		 _("connection \"%s\" (built into the host) has no "
		   "event \"%s\" (it offers: %s)"),
		 HOST_CONNECTION, event, HOST_EVENT_FAILED);
	return -1;
}

static int cat_event(void *ud, const char *conn, const char *event,
		     int *is_poll, char *msg, size_t len)
{
	struct luong_ctx *ctx = strcmp(conn, HOST_CONNECTION)
					? catalog_conn(ud, conn, msg, len)
					: NULL;
	const struct luong_event_def *ev;
	char known[400];
	size_t n = 0;

	if (!strcmp(conn, HOST_CONNECTION))
		return host_event(event, is_poll, msg, len);
	if (!ctx)
		return -1;
	ev = plugin_event(ctx->plugin, event);
	if (ev) {
		*is_poll = ev->kind == LUONG_EVENT_POLL;
		return 0;
	}
	n = plugin_event_count(ctx->plugin);
	list_names(known, sizeof(known),
		   (const char *)&ctx->plugin->desc->events[0].name,
		   plugin_event_row_size(ctx->plugin), n);
	snprintf(msg, len,
		 _("connection \"%s\" (plugin %s) has no event \"%s\" "
		   "(it offers: %s)"),
		 conn, ctx->plugin->desc->name, event, known);
	return -1;
}

static int cat_action(void *ud, const char *conn, const char *action, char *msg,
		      size_t len)
{
	struct luong_ctx *ctx;
	char known[400];

	if (!strcmp(conn, HOST_CONNECTION)) {
		snprintf(msg, len,
			 _("connection \"%s\" (built into the host) "
			   "has no actions; it only emits %s"),
			 conn, HOST_EVENT_FAILED);
		return -1;
	}
	ctx = catalog_conn(ud, conn, msg, len);
	if (!ctx)
		return -1;
	if (plugin_action(ctx->plugin, action))
		return 0;
	list_names(known, sizeof(known),
		   (const char *)&ctx->plugin->desc->actions[0].name,
		   plugin_action_row_size(ctx->plugin),
		   plugin_action_count(ctx->plugin));
	snprintf(msg, len,
		 _("connection \"%s\" (plugin %s) has no action "
		   "\"%s\" (it offers: %s)"),
		 conn, ctx->plugin->desc->name, action, known);
	return -1;
}

bool engine_flow_is_guard(struct runtime *rt, const struct flow *f)
{
	struct luong_ctx *ctx = loader_connection(rt, f->trigger_connection);
	const struct luong_event_def *ev =
		ctx ? plugin_event(ctx->plugin, f->trigger_event) : NULL;

	return ev && ev->kind == LUONG_EVENT_GUARD;
}

static const struct luong_field_def *cat_inputs(void *ud, const char *conn,
						const char *action)
{
	struct luong_ctx *ctx = loader_connection(ud, conn);
	const struct luong_action_def *a =
		ctx ? plugin_action(ctx->plugin, action) : NULL;

	return a ? plugin_action_inputs(ctx->plugin, a) : NULL;
}

static const struct luong_field_def *cat_fields(void *ud, const char *conn,
						const char *event)
{
	struct luong_ctx *ctx = loader_connection(ud, conn);
	const struct luong_event_def *e =
		ctx ? plugin_event(ctx->plugin, event) : NULL;

	return e ? plugin_event_fields(ctx->plugin, e) : NULL;
}

void engine_catalog(struct runtime *rt, struct flow_catalog *cat)
{
	cat->ud = rt;
	cat->check_event = cat_event;
	cat->check_action = cat_action;
	cat->action_inputs = cat_inputs;
	cat->event_fields = cat_fields;
}

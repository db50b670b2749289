/*
 * pullgen.c - the pull benchmark's source: a poll event, stock.listed,
 * that lists every item of a stock on each poll (a full pull, as a stock
 * feed without a change cursor gives it), with `changed_pct` percent of
 * the items at a new quantity since the poll before. Built against the
 * public SDK only. Each poll logs "poll N: ITEMS items, CHANGED changed".
 */
#include <stdio.h>
#include <stdlib.h>

#include <luong/luong.h>

struct pullgen {
	const struct luong_host *host;
	struct luong_ctx *ctx;
	long items, changed_pct;
	long polls; /* polls so far (one poll at a time: declared serial) */
	long *qty;  /* quantity per item */
};

/* From the second poll on, a different slice of the items changes. */
static long change(struct pullgen *g)
{
	long n = 0, step = g->changed_pct > 0 ? 100 / g->changed_pct : 0;

	if (g->polls < 2 || !step)
		return 0;
	for (long i = g->polls % step; i < g->items; i += step, n++)
		g->qty[i]++;
	return n;
}

static enum luong_status pg_poll(struct luong_ctx *ctx, void *state,
				 const char *cursor, char **next_cursor)
{
	struct pullgen *g = state;
	const struct luong_host *h = g->host;
	long changed;
	char id[32];

	g->polls++;
	changed = change(g);
	for (long i = 0; i < g->items; i++) {
		cJSON *o = cJSON_CreateObject();

		snprintf(id, sizeof(id), "SKU%06ld", i);
		cJSON_AddStringToObject(o, "item_code", id);
		cJSON_AddStringToObject(o, "stock_code", "KHO_HN");
		cJSON_AddNumberToObject(o, "quantity", (double)g->qty[i]);
		if (h->events->emit(ctx, "stock.listed", id, o) != LUONG_OK)
			return LUONG_E_INTERNAL;
	}
	h->log->log(ctx, LUONG_LOG_INFO, "poll %ld: %ld items, %ld changed",
		    g->polls, g->items, changed);
	return LUONG_OK;
}

static enum luong_status pg_init(struct luong_ctx *ctx,
				 const struct luong_host *host, void **state)
{
	struct pullgen *g = calloc(1, sizeof(*g));

	if (!g)
		return LUONG_E_NOMEM;
	*state = g;
	g->host = host;
	g->ctx = ctx;
	g->items = (long)host->config->get_int(ctx, "items");
	g->changed_pct = (long)host->config->get_int(ctx, "changed_pct");
	if (g->items < 1 || g->changed_pct < 0 || g->changed_pct > 100)
		return LUONG_E_CONFIG;
	g->qty = calloc((size_t)g->items, sizeof(*g->qty));
	if (!g->qty)
		return LUONG_E_NOMEM;
	for (long i = 0; i < g->items; i++)
		g->qty[i] = 100 + i % 50;
	return LUONG_OK;
}

static void pg_fini(struct luong_ctx *ctx, void *state)
{
	struct pullgen *g = state;

	if (g)
		free(g->qty);
	free(g);
}

static const struct luong_config_field pg_config[] = {
	{ "items", LUONG_CFG_INT, 0, "100000", "items listed by every poll" },
	{ "changed_pct", LUONG_CFG_INT, 0, "1",
	  "percent of the items changed between two polls" },
	{ 0 }
};

static const struct luong_event_def pg_events[] = { { .name = "stock.listed",
						      .kind = LUONG_EVENT_POLL,
						      .description = "every "
								     "item of "
								     "the "
								     "stock",
						      .poll = pg_poll,
						      .default_interval_s =
							      60 },
						    { 0 } };

static const struct luong_plugin pg_plugin = {
	LUONG_PLUGIN_HEADER,
	.name = "pullgen",
	.version = "1.0.0",
	.description = "bench: a full stock pull with a few items changed",
	.flags = LUONG_PLUGIN_SERIAL,
	.config = pg_config,
	.events = pg_events,
	.init = pg_init,
	.fini = pg_fini,
};

const struct luong_plugin *luong_plugin_entry(void)
{
	return &pg_plugin;
}

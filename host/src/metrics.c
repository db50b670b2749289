/*
 * metrics.c - what the engine tells of itself: the flow listing of the
 * admin API and the Prometheus text of /metrics.
 */
#define _GNU_SOURCE /* open_memstream */
#include "engine_int.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "loader.h"
#include "ratelimit.h"
#include "runtime.h"
#include "util.h"

static const double lat_bounds_s[LATENCY_BUCKETS] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30
};

void latency_observe(struct flow_rt *f, int64_t ms)
{
	atomic_fetch_add(&f->lat_count, 1);
	atomic_fetch_add(&f->lat_sum_ms, (uint64_t)(ms < 0 ? 0 : ms));
	for (size_t i = 0; i < ARRAY_SIZE(lat_bounds_s); i++)
		if ((double)ms / 1000.0 <= lat_bounds_s[i])
			atomic_fetch_add(&f->lat_bucket[i], 1);
}

/* Why a flow cannot run now: a connection of it is not started. */
static void add_unavailable(struct engine *e, const struct flow *f, cJSON *o)
{
	char why[400], text[512];

	for (size_t k = 0; k <= f->n_steps; k++) {
		const char *name =
			k ? f->steps[k - 1].connection : f->trigger_connection;
		struct luong_ctx *ctx =
			name ? loader_connection(e->rt, name) : NULL;

		if (!ctx || ctx->ready)
			continue;
		loader_conn_error(ctx, why, sizeof(why));
		snprintf(text, sizeof(text),
			 "connection %s is not started: "
			 "%s; its documents wait",
			 name, why);
		cJSON_AddStringToObject(o, "unavailable", text);
		return;
	}
}

cJSON *engine_flows_json(struct engine *e)
{
	struct flows_ref *r = flows_acquire(e);
	cJSON *counts = store_counts(e->rt->store), *arr = cJSON_CreateArray();

	for (size_t i = 0; i < r->set->n; i++) {
		const struct flow *f = r->set->flows[i];
		struct flow_rt *frt = rt_get(e, f->id);
		cJSON *o = cJSON_CreateObject(), *t, *steps, *c;

		cJSON_AddStringToObject(o, "id", f->id);
		cJSON_AddStringToObject(o, "name", f->name ? f->name : f->id);
		cJSON_AddStringToObject(o, "file", f->file);
		cJSON_AddStringToObject(
			o, "mode",
			flow_mode_name(
				frt ? (enum flow_mode)atomic_load(&frt->mode)
				    : f->mode));
		t = cJSON_AddObjectToObject(o, "trigger");
		cJSON_AddStringToObject(t, "connection", f->trigger_connection);
		cJSON_AddStringToObject(t, "event", f->trigger_event);
		steps = cJSON_AddArrayToObject(o, "steps");
		for (size_t k = 0; k < f->n_steps; k++) {
			cJSON *s = cJSON_CreateObject();

			cJSON_AddStringToObject(s, "id", f->steps[k].id);
			cJSON_AddStringToObject(s, "connection",
						f->steps[k].connection);
			cJSON_AddStringToObject(s, "action",
						f->steps[k].action);
			cJSON_AddItemToArray(steps, s);
		}
		add_unavailable(e, f, o);
		c = cJSON_GetObjectItemCaseSensitive(counts, f->id);
		cJSON_AddItemToObject(o, "documents",
				      c ? cJSON_Duplicate(c, 1)
					: cJSON_CreateObject());
		cJSON_AddItemToArray(arr, o);
	}
	cJSON_Delete(counts);
	flows_release(e, r);
	return arr;
}

static void metric_family(FILE *f, const char *name, const char *type,
			  const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Each connection's rate limit: how full, and how often it held calls. */
static void connection_metrics(FILE *f, struct runtime *rt)
{
	static const char *const names[] = {
		"luong_connection_bucket_level",
		"luong_connection_bucket_size",
		"luong_connection_rate_waits_total",
		"luong_connection_429_total",
	};
	static const char *const help[] = {
		"calls the host counts in the target's bucket now",
		"calls the target's bucket holds",
		"requests that waited for room in the rate limit",
		"429 answers (each held the whole connection)",
	};
	int64_t now = util_wall_ms();

	for (size_t m = 0; m < ARRAY_SIZE(names); m++) {
		metric_family(f, names[m], m < 2 ? "gauge" : "counter",
			      help[m]);
		for (size_t i = 0; i < rt->n_conns; i++) {
			struct rl_stats st;
			double v;

			if (!rt->conns[i]->rl)
				continue;
			rl_stats(rt->conns[i]->rl, now, &st);
			v = m == 0   ? st.level
			    : m == 1 ? st.capacity
			    : m == 2 ? (double)st.waits
				     : (double)st.pauses;
			fprintf(f, "%s{connection=\"%s\"} %.*f\n", names[m],
				rt->conns[i]->name, m == 0 ? 3 : 0, v);
		}
	}
}

char *engine_metrics(struct engine *e)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	cJSON *counts = store_counts(e->rt->store);
	struct {
		const char *name, *help;
		size_t off;
	} counters[] = {
		{ "luong_documents_received_total", "documents a flow accepted",
		  offsetof(struct flow_rt, received) },
		{ "luong_documents_synced_total", "documents synced",
		  offsetof(struct flow_rt, synced) },
		{ "luong_documents_failed_total", "documents failed for good",
		  offsetof(struct flow_rt, failed) },
		{ "luong_documents_retried_total", "transient faults retried",
		  offsetof(struct flow_rt, retried) },
		{ "luong_documents_skipped_total", "events the filter skipped",
		  offsetof(struct flow_rt, skipped) },
	};
	struct flow_rt *fr;

	pthread_mutex_lock(&e->mu);
	for (size_t c = 0; c < ARRAY_SIZE(counters); c++) {
		metric_family(f, counters[c].name, "counter", counters[c].help);
		for (fr = e->rts; fr; fr = fr->next)
			fprintf(f, "%s{flow=\"%s\"} %llu\n", counters[c].name,
				fr->id,
				(unsigned long long)atomic_load(
					(_Atomic uint64_t *)((char *)fr +
							     counters[c].off)));
	}
	metric_family(f, "luong_documents", "gauge",
		      "documents in the ledger by status");
	for (fr = e->rts; fr; fr = fr->next) {
		cJSON *c = cJSON_GetObjectItemCaseSensitive(counts, fr->id);

		for (int s = 0; s < DOC__COUNT; s++) {
			cJSON *v = cJSON_GetObjectItemCaseSensitive(
				c, doc_status_name((enum doc_status)s));

			fprintf(f,
				"luong_documents{flow=\"%s\",status=\"%s\"} "
				"%.0f\n",
				fr->id, doc_status_name((enum doc_status)s),
				cJSON_IsNumber(v) ? v->valuedouble : 0.0);
		}
	}
	metric_family(f, "luong_sync_latency_seconds", "histogram",
		      "time from receipt to synced");
	for (fr = e->rts; fr; fr = fr->next) {
		for (size_t i = 0; i < ARRAY_SIZE(lat_bounds_s); i++)
			fprintf(f,
				"luong_sync_latency_seconds_bucket{flow=\"%s"
				"\",le=\"%g\"} %llu\n",
				fr->id, lat_bounds_s[i],
				(unsigned long long)atomic_load(
					&fr->lat_bucket[i]));
		fprintf(f,
			"luong_sync_latency_seconds_bucket{flow=\"%s\","
			"le=\"+Inf\"} %llu\n",
			fr->id,
			(unsigned long long)atomic_load(&fr->lat_count));
		fprintf(f, "luong_sync_latency_seconds_sum{flow=\"%s\"} %.3f\n",
			fr->id, (double)atomic_load(&fr->lat_sum_ms) / 1000.0);
		fprintf(f,
			"luong_sync_latency_seconds_count{flow=\"%s\"} "
			"%llu\n",
			fr->id,
			(unsigned long long)atomic_load(&fr->lat_count));
	}
	pthread_mutex_unlock(&e->mu);
	connection_metrics(f, e->rt);
	fclose(f);
	cJSON_Delete(counts);
	return buf;
}

/* progress.c - see progress.h. */
#define _GNU_SOURCE /* vasprintf */
#include "progress.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"
#include "util.h"

/* Operations kept for asking after; the oldest finished ones go first. */
#define KEEP_OPS 32

struct op {
	char id[24];
	char *flow, *kind;
	char **keys; /* "flow\x1fdoc" of its documents */
	size_t total, done, synced, failed;
	cJSON *reasons; /* {reason: count} */
	int64_t started, finished;
	struct op *next;
};

/* The operations a document counts towards (a list per document). */
struct member {
	struct op *op;
	struct member *next;
};

struct progress {
	pthread_mutex_t mu;
	struct op *ops; /* newest first */
	size_t n_ops;
	unsigned long serial;
	struct strmap members; /* key -> struct member list */
};

struct progress *progress_new(void)
{
	struct progress *p = xcalloc(1, sizeof(*p));

	pthread_mutex_init(&p->mu, NULL);
	strmap_init(&p->members);
	return p;
}

static char *doc_key(const char *flow, const char *doc)
{
	return xasprintf("%s\x1f%s", flow, doc);
}

/* Takes op's documents out of the index (mu held). */
static void op_unindex(struct progress *p, struct op *o)
{
	for (size_t i = 0; i < o->total; i++) {
		struct member *head = strmap_get(&p->members, o->keys[i]);
		struct member *prev = NULL, *cur;

		for (cur = head; cur && cur->op != o; cur = cur->next)
			prev = cur;
		if (!cur)
			continue;
		if (prev)
			prev->next = cur->next;
		else if (cur->next)
			strmap_put(&p->members, o->keys[i], cur->next);
		else
			strmap_del(&p->members, o->keys[i]);
		free(cur);
	}
}

static void op_free(struct op *o)
{
	for (size_t i = 0; i < o->total; i++)
		free(o->keys[i]);
	free(o->keys);
	free(o->flow);
	free(o->kind);
	cJSON_Delete(o->reasons);
	free(o);
}

void progress_free(struct progress *p)
{
	struct op *o, *next;

	if (!p)
		return;
	for (o = p->ops; o; o = next) {
		next = o->next;
		op_unindex(p, o);
		op_free(o);
	}
	strmap_clear(&p->members);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

/* Keeps at most KEEP_OPS: drops the oldest finished one (mu held). */
static void prune(struct progress *p)
{
	struct op **pp, **victim = NULL;

	if (p->n_ops < KEEP_OPS)
		return;
	for (pp = &p->ops; *pp; pp = &(*pp)->next)
		if ((*pp)->finished)
			victim = pp; /* the last one seen is the oldest */
	if (!victim)
		for (pp = &p->ops; *pp; pp = &(*pp)->next)
			victim = pp; /* none finished: the oldest anyway */
	if (victim) {
		struct op *o = *victim;

		*victim = o->next;
		op_unindex(p, o);
		op_free(o);
		p->n_ops--;
	}
}

const char *progress_start(struct progress *p, const char *flow,
			   const char *kind, const char *const *docs, size_t n,
			   int64_t now_ms)
{
	struct op *o = xcalloc(1, sizeof(*o));

	o->flow = xstrdup(flow);
	o->kind = xstrdup(kind);
	o->keys = xcalloc(n + 1, sizeof(*o->keys));
	o->total = n;
	o->reasons = cJSON_CreateObject();
	o->started = now_ms;
	if (!n)
		o->finished = now_ms;
	pthread_mutex_lock(&p->mu);
	snprintf(o->id, sizeof(o->id), "op-%lu", ++p->serial);
	prune(p);
	for (size_t i = 0; i < n; i++) {
		struct member *m = xcalloc(1, sizeof(*m));

		o->keys[i] = doc_key(flow, docs[i]);
		m->op = o;
		m->next = strmap_get(&p->members, o->keys[i]);
		strmap_put(&p->members, o->keys[i], m);
	}
	o->next = p->ops;
	p->ops = o;
	p->n_ops++;
	pthread_mutex_unlock(&p->mu);
	return o->id;
}

static void count_reason(cJSON *reasons, const char *reason)
{
	cJSON *c = cJSON_GetObjectItemCaseSensitive(reasons, reason);

	if (c)
		cJSON_SetNumberValue(c, c->valuedouble + 1);
	else
		cJSON_AddNumberToObject(reasons, reason, 1);
}

void progress_note(struct progress *p, const char *flow, const char *doc,
		   bool synced, const char *reason, int64_t now_ms)
{
	char *key = doc_key(flow, doc);
	struct member *m, *next;

	pthread_mutex_lock(&p->mu);
	m = strmap_get(&p->members, key);
	if (m)
		strmap_del(&p->members, key); /* counted once per operation */
	for (; m; m = next) {
		struct op *o = m->op;

		next = m->next;
		o->done++;
		if (synced) {
			o->synced++;
		} else {
			o->failed++;
			count_reason(o->reasons, reason ? reason : "unknown");
		}
		if (o->done >= o->total)
			o->finished = now_ms;
		free(m);
	}
	pthread_mutex_unlock(&p->mu);
	free(key);
}

cJSON *progress_json(struct progress *p, const char *id, int64_t now_ms)
{
	cJSON *j = NULL;
	struct op *o;

	pthread_mutex_lock(&p->mu);
	for (o = p->ops; o && strcmp(o->id, id); o = o->next)
		;
	if (o) {
		int64_t end = o->finished ? o->finished : now_ms;
		double secs = (double)(end - o->started) / 1000.0;
		double rate = secs > 0 ? (double)o->done / secs : 0;

		j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "id", o->id);
		cJSON_AddStringToObject(j, "flow", o->flow);
		cJSON_AddStringToObject(j, "kind", o->kind);
		cJSON_AddNumberToObject(j, "total", (double)o->total);
		cJSON_AddNumberToObject(j, "done", (double)o->done);
		cJSON_AddNumberToObject(j, "synced", (double)o->synced);
		cJSON_AddNumberToObject(j, "failed", (double)o->failed);
		cJSON_AddItemToObject(j, "failed_by_reason",
				      cJSON_Duplicate(o->reasons, 1));
		cJSON_AddNumberToObject(j, "started_at", (double)o->started);
		cJSON_AddNumberToObject(j, "elapsed_s", secs);
		cJSON_AddNumberToObject(j, "rate_per_s", rate);
		if (o->finished || rate <= 0)
			cJSON_AddNullToObject(j, "eta_s");
		else
			cJSON_AddNumberToObject(j, "eta_s",
						(double)(o->total - o->done) /
							rate);
		cJSON_AddBoolToObject(j, "finished", o->finished != 0);
	}
	pthread_mutex_unlock(&p->mu);
	return j;
}

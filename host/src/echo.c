/*
 * echo.c - echo suppression for two-way flows (SPEC B13).
 *
 * A linked write keeps a hash of what it said (the step's link `echo`,
 * jq on its source document, in words both directions share). When the
 * target then reports that record with the same content (the reverse
 * flow's trigger `echo`, jq on the event), the report is the host's own
 * write coming back: it is not sent back to where it came from. An edit
 * made in the target changes the content, so it crosses as usual.
 *
 * A target may report a write before the host has its answer (and so
 * before the link says what it wrote): a write about to be made is
 * also expected in memory for a while, by its connection and content.
 */
#include "engine_int.h"

#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "runtime.h"
#include "util.h"

/* Object members sorted by name, at every depth: the same content
 * hashes the same whatever order jq built it in. */
static void sort_members(cJSON *v)
{
	cJSON *it, *sorted = NULL, **tail;

	if (!cJSON_IsObject(v) && !cJSON_IsArray(v))
		return;
	cJSON_ArrayForEach (it, v)
		sort_members(it);
	if (!cJSON_IsObject(v))
		return;
	while (v->child) { /* insertion sort: objects here are small */
		cJSON *m = v->child;

		v->child = m->next;
		for (tail = &sorted;
		     *tail && strcmp((*tail)->string, m->string) <= 0;
		     tail = &(*tail)->next)
			;
		m->next = *tail;
		*tail = m;
	}
	v->child = sorted;
	for (it = sorted, sorted = NULL; it; sorted = it, it = it->next)
		it->prev = sorted;
	if (v->child)
		v->child->prev =
			sorted; /* cJSON: the head's prev is the tail */
}

char *echo_hash(struct expr *x, const cJSON *doc, const cJSON *vars)
{
	cJSON *v = NULL;
	char err[256], *text, *hex = NULL;

	if (!x || expr_eval(x, doc, vars, &v, err, sizeof(err)) || !v ||
	    cJSON_IsNull(v)) {
		cJSON_Delete(v);
		return NULL;
	}
	sort_members(v);
	text = cJSON_PrintUnformatted(v);
	if (text) {
		hex = xmalloc(65);
		util_sha256_hex(text, strlen(text), hex);
	}
	free(text);
	cJSON_Delete(v);
	return hex;
}

/* How long a write is expected back without its link (ms), and how
 * many such writes are kept at most (the oldest go first). */
#define EXPECT_MS (10 * 60 * 1000)
#define EXPECT_MAX 4096

struct echo_mark {
	char *connection, *flow;
	char hash[65];
	int64_t until;
	struct echo_mark *next;
};

void echo_expect(struct engine *e, const char *connection, const char *flow,
		 const char *hash)
{
	struct echo_mark *m, **pp;
	int64_t now = util_wall_ms();
	size_t n = 0;

	if (!hash)
		return;
	m = xcalloc(1, sizeof(*m));
	m->connection = xstrdup(connection);
	m->flow = xstrdup(flow);
	util_strlcpy(m->hash, hash, sizeof(m->hash));
	m->until = now + EXPECT_MS;
	pthread_mutex_lock(&e->echo_mu);
	m->next = e->echoes;
	e->echoes = m;
	for (pp = &e->echoes; *pp;) { /* newest first: drop the stale tail */
		struct echo_mark *x = *pp;

		if (x->until < now || ++n > EXPECT_MAX) {
			*pp = x->next;
			free(x->connection);
			free(x->flow);
			free(x);
		} else {
			pp = &x->next;
		}
	}
	pthread_mutex_unlock(&e->echo_mu);
}

void echo_fini(struct engine *e)
{
	while (e->echoes) {
		struct echo_mark *x = e->echoes;

		e->echoes = x->next;
		free(x->connection);
		free(x->flow);
		free(x);
	}
}

/* The flow of a write to `connection` with `hash` made lately (owned). */
static char *expected(struct engine *e, const char *connection,
		      const char *hash)
{
	int64_t now = util_wall_ms();
	char *flow = NULL;

	pthread_mutex_lock(&e->echo_mu);
	for (struct echo_mark *m = e->echoes; m && !flow; m = m->next)
		if (m->until >= now && !strcmp(m->hash, hash) &&
		    !strcmp(m->connection, connection))
			flow = xstrdup(m->flow);
	pthread_mutex_unlock(&e->echo_mu);
	return flow;
}

char *echo_of(struct engine *e, const struct flow *f, const char *doc_id,
	      const char *hash)
{
	struct link_end rec = { f->trigger_connection, f->trigger_kind,
				doc_id };
	struct link l;
	char *why = NULL, *by;

	if (!hash)
		return NULL;
	if ((by = expected(e, f->trigger_connection, hash))) {
		why = xasprintf(_("echo: flow %s has just written this content "
				  "to "
				  "%s; not sent back"),
				by, f->trigger_connection);
		free(by);
		return why;
	}
	if (store_link_echo(e->rt->store, &rec, hash, &l))
		return NULL;
	why = xasprintf(_("echo: flow %s wrote this %s with this content (from "
			  "%s %s %s); not sent back"),
			l.flow, l.b_kind, l.a_conn, l.a_kind, l.a_id);
	link_free(&l);
	return why;
}

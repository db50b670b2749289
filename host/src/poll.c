/*
 * poll.c - poll triggers: one libev timer per (connection, event) that
 * some enabled flow uses, at the shortest interval asked for. When a
 * timer fires, a poll job goes to the workers (plugins may block); the
 * poll's events and its new cursor are stored in one commit.
 */
#include "engine_int.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "runtime.h"
#include "util.h"

static void poll_due(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct poll_src *p = w->data;
	struct job *j;

	(void)loop;
	(void)revents;
	if (!p->every_s || atomic_exchange(&p->running, true))
		return; /* idle, or the last one has not finished */
	j = job_new(JOB_POLL, NULL, NULL, NULL, 0, 0);
	j->poll = p;
	sched_add_poll(p->e->sched, j);
}

static struct poll_src *poll_find_or_add(struct engine *e, const char *conn,
					 const char *event, uint32_t every)
{
	struct poll_src *p;

	for (p = e->polls; p; p = p->next)
		if (!strcmp(p->connection, conn) && !strcmp(p->event, event))
			break;
	if (!p) {
		p = xcalloc(1, sizeof(*p));
		p->connection = xstrdup(conn);
		p->event = xstrdup(event);
		p->e = e;
		p->every_s = every;
		ev_timer_init(&p->timer, poll_due, 0., 0.);
		p->timer.data = p;
		p->next = e->polls;
		e->polls = p;
	} else if (p->every_s == 0 || every < p->every_s) {
		p->every_s = every;
	}
	return p;
}

/* Loop thread only. */
void poll_sources_rebuild(struct engine *e)
{
	struct flows_ref *r = flows_acquire(e);
	struct poll_src *p;

	for (p = e->polls; p; p = p->next) {
		ev_timer_stop(e->loop, &p->timer);
		p->every_s = 0;
	}
	for (size_t i = 0; i < r->set->n; i++) {
		const struct flow *f = r->set->flows[i];
		struct luong_ctx *ctx =
			loader_connection(e->rt, f->trigger_connection);
		const struct luong_event_def *ev;
		struct flow_rt *frt = rt_get(e, f->id);
		uint32_t every;

		if (!ctx || !frt || atomic_load(&frt->mode) == FLOW_DISABLED)
			continue;
		ev = plugin_event(ctx->plugin, f->trigger_event);
		if (!ev || ev->kind != LUONG_EVENT_POLL || !ev->poll)
			continue;
		every = f->every_s ? f->every_s : ev->default_interval_s;
		poll_find_or_add(e, f->trigger_connection, f->trigger_event,
				 every ? every : 60);
	}
	flows_release(e, r);
	/* first run soon after start, then every interval; a source no
	 * flow uses now stays idle (every_s 0) */
	for (p = e->polls; p; p = p->next)
		if (p->every_s) {
			ev_timer_set(&p->timer, 0.05, (double)p->every_s);
			ev_timer_start(e->loop, &p->timer);
		}
}

void poll_sources_free(struct engine *e)
{
	struct poll_src *p, *pn;

	for (p = e->polls; p; p = pn) {
		pn = p->next;
		ev_timer_stop(e->loop, &p->timer);
		free(p->connection);
		free(p->event);
		free(p);
	}
	e->polls = NULL;
}

void request_polls_rebuild(struct engine *e)
{
	atomic_store(&e->polls_dirty, true);
	ev_async_send(e->loop, &e->wake);
}

void run_poll(struct engine *e, struct poll_src *p)
{
	struct luong_ctx *ctx = loader_connection(e->rt, p->connection);
	const struct luong_event_def *ev;
	struct emit_batch b;
	char *cursor = NULL, *next = NULL;
	enum luong_status st;

	ev = ctx && ctx->ready ? plugin_event(ctx->plugin, p->event) : NULL;
	if (!ev || !ev->poll)
		goto out;
	store_cursor_get(e->rt->store, p->connection, p->event, &cursor);
	engine_emit_begin(&b, ctx);
	b.polled = true;
	conn_enter(ctx);
	st = ev->poll(ctx, ctx->state, cursor, &next);
	conn_leave(ctx);
	if (st == LUONG_OK) {
		struct ingest_cursor cur = { p->connection, p->event,
					     next ? next : cursor };

		if (engine_emit_commit(e, &b, cur.cursor ? &cur : NULL))
			log_error("poll %s.%s: cannot store what it found",
				  p->connection, p->event);
	} else {
		/* nothing is kept: the same cursor is polled again */
		log_warn("poll %s.%s: %s; will poll again", p->connection,
			 p->event, luong_status_text(st));
	}
	engine_emit_end(&b);
	free(next);
	free(cursor);
out:
	atomic_store(&p->running, false);
}

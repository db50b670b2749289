/*
 * reinit.c - see reinit.h. One thread for all connections not started:
 * it sleeps on a condition (so that stopping does not wait out a delay),
 * then tries each one's init() again. init() runs on this thread, never
 * concurrently with another call for that connection: while it is not
 * ready, nothing else calls it.
 */
#include "reinit.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "loader.h"
#include "log.h"
#include "runtime.h"
#include "util.h"

struct reinit {
	struct runtime *rt;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	uint32_t delay_ms, max_ms;
};

static size_t not_ready(struct runtime *rt)
{
	size_t n = 0;

	for (size_t i = 0; i < rt->n_conns; i++)
		n += !rt->conns[i]->ready;
	return n;
}

/* Waits delay_ms or until stopped; true when stopped. */
static bool wait_or_stop(struct reinit *ri, uint32_t delay_ms)
{
	struct timespec until;
	bool stop;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += delay_ms / 1000;
	until.tv_nsec += (long)(delay_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&ri->mu);
	while (!ri->stop &&
	       pthread_cond_timedwait(&ri->cv, &ri->mu, &until) == 0)
		;
	stop = ri->stop;
	pthread_mutex_unlock(&ri->mu);
	return stop;
}

static void *reinit_main(void *arg)
{
	struct reinit *ri = arg;
	struct runtime *rt = ri->rt;

	while (not_ready(rt) && !wait_or_stop(ri, ri->delay_ms)) {
		for (size_t i = 0; i < rt->n_conns; i++) {
			struct luong_ctx *ctx = rt->conns[i];

			if (ctx->ready)
				continue;
			log_info("connection %s: trying init() again",
				 ctx->name);
			loader_init_one(rt, ctx);
		}
		ri->delay_ms = ri->delay_ms * 2 > ri->max_ms ? ri->max_ms
							     : ri->delay_ms * 2;
	}
	return NULL;
}

struct reinit *reinit_start(struct runtime *rt, uint32_t first_ms,
			    uint32_t max_ms)
{
	struct reinit *ri;
	pthread_condattr_t ca;

	if (!not_ready(rt))
		return NULL;
	ri = xcalloc(1, sizeof(*ri));
	ri->rt = rt;
	ri->delay_ms = first_ms ? first_ms : 1000;
	ri->max_ms = max_ms > ri->delay_ms ? max_ms : ri->delay_ms;
	pthread_mutex_init(&ri->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&ri->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&ri->thread, NULL, reinit_main, ri)) {
		log_error("cannot start the thread that retries connections");
		pthread_cond_destroy(&ri->cv);
		pthread_mutex_destroy(&ri->mu);
		free(ri);
		return NULL;
	}
	return ri;
}

void reinit_stop(struct reinit *ri)
{
	if (!ri)
		return;
	pthread_mutex_lock(&ri->mu);
	ri->stop = true;
	pthread_cond_broadcast(&ri->cv);
	pthread_mutex_unlock(&ri->mu);
	pthread_join(ri->thread, NULL);
	pthread_cond_destroy(&ri->cv);
	pthread_mutex_destroy(&ri->mu);
	free(ri);
}

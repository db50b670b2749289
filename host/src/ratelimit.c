/*
 * ratelimit.c - see ratelimit.h: a leaky bucket per connection, with
 * units held for the workers the scheduler picked.
 */
#define _GNU_SOURCE
#include "ratelimit.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "util.h"

struct ratelimit {
	pthread_mutex_t mu;
	double per_second; /* 0: no pacing */
	double capacity;
	bool learn; /* adopt the capacity the target reports */
	double level;
	int64_t last; /* when level was last drained */
	int64_t paused_until;
	uintptr_t *holders; /* owners holding one unit each */
	size_t n_holders, cap_holders;
	uint64_t waits, pauses;
};

struct ratelimit *rl_new(double per_second, uint32_t burst, bool learn)
{
	struct ratelimit *rl = xcalloc(1, sizeof(*rl));

	pthread_mutex_init(&rl->mu, NULL);
	rl->per_second = per_second > 0 ? per_second : 0;
	rl->capacity = burst ? burst : 1;
	rl->learn = learn;
	return rl;
}

void rl_free(struct ratelimit *rl)
{
	if (!rl)
		return;
	pthread_mutex_destroy(&rl->mu);
	free(rl->holders);
	free(rl);
}

uintptr_t rl_self(void)
{
	return (uintptr_t)pthread_self();
}

/* ---- the bucket (callers hold mu) ----------------------------------- */

static void drain(struct ratelimit *rl, int64_t now)
{
	if (now <= rl->last)
		return;
	rl->level -= rl->per_second * (double)(now - rl->last) / 1000.0;
	if (rl->level < 0)
		rl->level = 0;
	rl->last = now;
}

/* What the host lets itself fill: one unit below the target's size, so
 * calls that reach it closer together than they left still fit. */
static double room(const struct ratelimit *rl)
{
	return rl->capacity > 2 ? rl->capacity - 1 : rl->capacity;
}

static int64_t ready_locked(struct ratelimit *rl, int64_t now)
{
	int64_t at = now;

	drain(rl, now);
	if (rl->per_second > 0 && rl->level + 1 > room(rl)) {
		double wait = (rl->level + 1 - room(rl)) / rl->per_second;

		at = now + (int64_t)ceil(wait * 1000.0);
	}
	return rl->paused_until > at ? rl->paused_until : at;
}

static void fill(struct ratelimit *rl, double units)
{
	if (rl->per_second > 0)
		rl->level += units;
	if (rl->level < 0)
		rl->level = 0;
}

static ssize_t holder_find(const struct ratelimit *rl, uintptr_t owner)
{
	for (size_t i = 0; i < rl->n_holders; i++)
		if (rl->holders[i] == owner)
			return (ssize_t)i;
	return -1;
}

static void holder_drop(struct ratelimit *rl, size_t i)
{
	rl->holders[i] = rl->holders[--rl->n_holders];
}

/* ---- public ------------------------------------------------------------- */

int64_t rl_ready_at(struct ratelimit *rl, int64_t now)
{
	int64_t at;

	pthread_mutex_lock(&rl->mu);
	at = ready_locked(rl, now);
	pthread_mutex_unlock(&rl->mu);
	return at;
}

int64_t rl_take(struct ratelimit *rl, int64_t now, uintptr_t owner)
{
	int64_t at;
	ssize_t h;

	pthread_mutex_lock(&rl->mu);
	h = holder_find(rl, owner);
	if (h >= 0) {
		/* its unit is counted already; only a pause holds it */
		at = rl->paused_until > now ? rl->paused_until : 0;
		if (!at)
			holder_drop(rl, (size_t)h);
	} else {
		at = ready_locked(rl, now);
		if (at <= now) {
			fill(rl, 1);
			at = 0;
		}
	}
	if (at)
		rl->waits++;
	pthread_mutex_unlock(&rl->mu);
	return at;
}

bool rl_hold(struct ratelimit *rl, int64_t now, uintptr_t owner)
{
	bool held;

	pthread_mutex_lock(&rl->mu);
	held = ready_locked(rl, now) <= now;
	if (held) {
		if (rl->n_holders == rl->cap_holders) {
			rl->cap_holders = rl->cap_holders * 2 + 4;
			rl->holders = xrealloc(rl->holders,
					       rl->cap_holders *
						       sizeof(*rl->holders));
		}
		rl->holders[rl->n_holders++] = owner;
		fill(rl, 1);
	}
	pthread_mutex_unlock(&rl->mu);
	return held;
}

void rl_release(struct ratelimit *rl, uintptr_t owner)
{
	ssize_t h;

	pthread_mutex_lock(&rl->mu);
	h = holder_find(rl, owner);
	if (h >= 0) {
		holder_drop(rl, (size_t)h);
		fill(rl, -1);
	}
	pthread_mutex_unlock(&rl->mu);
}

int rl_report(struct ratelimit *rl, int64_t now, const char *text)
{
	double used, cap;
	char end;

	if (!text || sscanf(text, " %lf / %lf %c", &used, &cap, &end) != 2 ||
	    !isfinite(used) || !isfinite(cap) || used < 0 || cap < 1)
		return -1;
	pthread_mutex_lock(&rl->mu);
	drain(rl, now);
	if (rl->learn)
		rl->capacity = cap;
	/* held units have not reached the target yet */
	used += (double)rl->n_holders;
	if (rl->per_second > 0 && used > rl->level)
		rl->level = used;
	pthread_mutex_unlock(&rl->mu);
	return 0;
}

void rl_pause(struct ratelimit *rl, int64_t now, int64_t until)
{
	pthread_mutex_lock(&rl->mu);
	drain(rl, now);
	if (rl->per_second > 0 && rl->level < rl->capacity)
		rl->level = rl->capacity;
	if (until > rl->paused_until)
		rl->paused_until = until;
	rl->pauses++;
	pthread_mutex_unlock(&rl->mu);
}

int64_t rl_paused_until(struct ratelimit *rl, int64_t now)
{
	int64_t until;

	pthread_mutex_lock(&rl->mu);
	until = rl->paused_until > now ? rl->paused_until : 0;
	pthread_mutex_unlock(&rl->mu);
	return until;
}

void rl_stats(struct ratelimit *rl, int64_t now, struct rl_stats *st)
{
	pthread_mutex_lock(&rl->mu);
	drain(rl, now);
	st->level = rl->level;
	st->capacity = rl->capacity;
	st->per_second = rl->per_second;
	st->waits = rl->waits;
	st->pauses = rl->pauses;
	pthread_mutex_unlock(&rl->mu);
}

double rl_level(struct ratelimit *rl, int64_t now)
{
	struct rl_stats st;

	rl_stats(rl, now, &st);
	return st.level;
}

double rl_capacity(struct ratelimit *rl)
{
	struct rl_stats st;

	rl_stats(rl, 0, &st); /* 0: no drain */
	return st.capacity;
}

double rl_per_second(struct ratelimit *rl)
{
	return rl->per_second; /* set once */
}

int64_t rl_retry_after_ms(const char *value, int64_t now_wall)
{
	char *end;
	double s;
	time_t t;

	if (!value)
		return -1;
	s = strtod(value, &end);
	if (end != value && isfinite(s) && s >= 0) {
		while (*end == ' ')
			end++;
		if (!*end)
			return (int64_t)ceil(s * 1000.0);
	}
	t = curl_getdate(value, NULL); /* an HTTP date */
	if (t < 0)
		return -1;
	s = (double)t * 1000.0 - (double)now_wall;
	return s > 0 ? (int64_t)s : 0;
}

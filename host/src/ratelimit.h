/*
 * ratelimit.h - pacing the calls a connection makes to its target.
 *
 * A leaky bucket kept the way the target keeps its own (Haravan: 80
 * calls draining 4 per second): a call adds one unit, the level drains
 * steadily, and a call may go while level + 1 fits. The host's level
 * stays at or above the target's, so the host never causes a 429:
 *   - a call counts before it is sent, so before the target sees it;
 *   - a use the target reports above ours raises ours;
 *   - a 429 fills the bucket and holds every call until Retry-After;
 *   - one unit of headroom (buckets above 2) absorbs network jitter.
 *
 * The scheduler only hands a worker a document whose connections have
 * room, and holds one unit for that worker (rl_hold); the worker's
 * first request to the connection uses it (rl_take), and one it did not
 * use is given back when the document ends (rl_release). So a worker
 * rarely sleeps on a limit while holding a document others could run;
 * while a 429 holds the connection, it does not sleep at all (services.c
 * fails the request as a transient fault).
 *
 * Times are wall ms given by the caller (tests give their own clock).
 * Owners are the threads that send, as rl_self() names them.
 * Every function locks internally.
 */
#ifndef LUONG_RATELIMIT_H
#define LUONG_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct ratelimit;

/* per_second 0: no pacing (a 429 still holds the connection); burst 0
 * is 1. learn: adopt the capacity the target reports (not when a person
 * set the burst). */
struct ratelimit *rl_new(double per_second, uint32_t burst, bool learn);
void rl_free(struct ratelimit *rl);

/* The calling thread, as an owner of held units. */
uintptr_t rl_self(void);

/* When the next call may go; <= now means at once. */
int64_t rl_ready_at(struct ratelimit *rl, int64_t now);
/* One call by `owner`: counted, or the unit it holds used; returns 0.
 * If it may not go yet, nothing changes and the time it may is
 * returned. */
int64_t rl_take(struct ratelimit *rl, int64_t now, uintptr_t owner);
/* Holds one unit for `owner` if a call may go now (true). */
bool rl_hold(struct ratelimit *rl, int64_t now, uintptr_t owner);
/* The owner's document ended: one unit it held and did not use goes
 * back. */
void rl_release(struct ratelimit *rl, uintptr_t owner);

/* The target's report "used/capacity" (e.g. "32/80") at `now`; 0, or -1
 * when the text is not of that form. */
int rl_report(struct ratelimit *rl, int64_t now, const char *text);
/* The target refused for load (429): the bucket is full, and no call
 * goes before `until`. */
void rl_pause(struct ratelimit *rl, int64_t now, int64_t until);
/* Until when calls are held by such a pause (0 if they are not). */
int64_t rl_paused_until(struct ratelimit *rl, int64_t now);

/* For tests and metrics. */
struct rl_stats {
	double level, capacity, per_second;
	uint64_t waits;	 /* requests told to wait (rl_take) */
	uint64_t pauses; /* 429s (rl_pause) */
};
void rl_stats(struct ratelimit *rl, int64_t now, struct rl_stats *st);
double rl_level(struct ratelimit *rl, int64_t now);
double rl_capacity(struct ratelimit *rl);
double rl_per_second(struct ratelimit *rl);

/* Retry-After as seconds ("2", "0.3") or an HTTP date, in ms from
 * `now_wall`; -1 if unreadable. */
int64_t rl_retry_after_ms(const char *value, int64_t now_wall);

#endif

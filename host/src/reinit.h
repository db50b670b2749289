/*
 * reinit.h - a connection whose init() failed at start (its target down,
 * a wrong secret) is tried again with back-off while the host runs; its
 * flows' documents wait pending meanwhile (runner.c).
 */
#ifndef LUONG_REINIT_H
#define LUONG_REINIT_H

#include <stdint.h>

struct runtime;
struct reinit;

/* Starts the retry thread when a connection is not ready, else returns
 * NULL. First try after first_ms, doubling up to max_ms. */
struct reinit *reinit_start(struct runtime *rt, uint32_t first_ms,
			    uint32_t max_ms);
/* Stops it (waits for an init() under way); NULL is a no-op. */
void reinit_stop(struct reinit *ri);

#endif

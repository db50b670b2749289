/*
 * server_pool.h - threads that serve the requests that can take long (a
 * plugin's webhook, the group commit it waits for, admin actions) away
 * from libmicrohttpd's event loop, so idle or slow clients never hold a
 * webhook or /healthz. Threads are started on demand up to a limit and
 * kept for the next request.
 */
#ifndef LUONG_SERVER_POOL_H
#define LUONG_SERVER_POOL_H

#include <stdbool.h>
#include <stddef.h>

struct server_pool;

struct server_pool *server_pool_new(unsigned max_threads, size_t stack_size);
/* Queues fn(arg); false once the pool is draining (fn is not run). */
bool server_pool_run(struct server_pool *p, void (*fn)(void *), void *arg);
/* Refuses new work, runs what is queued and joins the threads. */
void server_pool_drain(struct server_pool *p);
void server_pool_free(struct server_pool *p);

#endif

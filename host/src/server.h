/*
 * server.h - the host's HTTP face on a loopback address:
 *   /hooks/<connection>/...   webhooks, handed to the connection's plugin
 *   /api/...                  the admin JSON API (Bearer token)
 *   /metrics                  Prometheus text
 *   /healthz                  liveness
 * One epoll event thread holds every connection (idle ones cost no
 * thread) and answers what needs no waiting (/healthz, refusals at the
 * door); the rest is served on a pool of threads while its connection is
 * suspended, so a webhook can wait for the group commit that makes its
 * events durable before it is answered. A webhook whose events cannot be
 * stored is answered 503 with Retry-After, never 2xx.
 */
#ifndef LUONG_SERVER_H
#define LUONG_SERVER_H

struct runtime;
struct server;

/* Starts listening; writes the bound port to <data_dir>/port. */
struct server *server_start(struct runtime *rt, char *err, size_t errlen);
unsigned server_port(const struct server *s);
void server_stop(struct server *s);

#endif

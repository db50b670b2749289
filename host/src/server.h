/*
 * server.h - the host's HTTP face on a loopback address:
 *   /hooks/<connection>/...   webhooks, handed to the connection's plugin
 *   /api/...                  the admin JSON API (Bearer token)
 *   /metrics                  Prometheus text
 *   /healthz                  liveness
 * Each connection has its own thread, so a webhook can wait for the
 * group commit that makes its events durable before it is answered.
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

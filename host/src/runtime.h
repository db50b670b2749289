/*
 * runtime.h - the running host: what every module reaches through one
 * pointer (settings, store, plugins, connections, engine, services).
 */
#ifndef LUONG_RUNTIME_H
#define LUONG_RUNTIME_H

#include <stddef.h>

#include <luong/luong.h>

#include "conf.h"
#include "loader.h"

struct engine;
struct reinit;
struct server;
struct store;

struct runtime {
	struct conf conf;
	struct store *store;
	struct plugin *plugins;
	struct luong_ctx **conns;
	size_t n_conns;
	struct engine *engine;
	struct server *server;
	struct luong_host host; /* the services table handed to plugins */
	cJSON *refused_conns;	/* names of connection files refused */
	size_t refused_plugins; /* plugin files refused */
	struct reinit *reinit;	/* retries failed init() (reinit.c) */
	/* connect sequences (connect.c) */
	struct connects *connects;
};

/* Fills rt->host with the service tables (services.c). */
void services_init(struct runtime *rt);
/* Whether rt->conf's key opens the plugin state in rt->store (and records
 * it for a new store); -1 with a line naming the key's setting. Also done
 * (and logged) by services_init when the store is open. */
int services_check_key(struct runtime *rt, char *err, size_t errlen);
void services_fini(void);

#endif

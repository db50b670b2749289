/*
 * main.c - `luong`: the host daemon (`luong run`) and its command line,
 * which talks to a running host through the admin API.
 */
#define _GNU_SOURCE /* vasprintf, strndup, open_memstream */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "connect.h"
#include "datalock.h"
#include "engine.h"
#include "i18n.h"
#include "log.h"
#include "reference.h"
#include "reinit.h"
#include "runtime.h"
#include "server.h"
#include "store.h"
#include "util.h"

static struct engine *running_engine;

static void on_signal(int sig)
{
	if (running_engine)
		engine_stop(running_engine);
}

static void usage(FILE *f)
{
	fputs(_("usage: luong [-c luong.json] <command> [args]\n"
		"\n"
		"  run                          run the host\n"
		"  flows check                  validate flows without "
		"running\n"
		"  flows list                   flows, modes and document "
		"counts\n"
		"  flows reload                 reload flow files in a running "
		"host\n"
		"  flows mode FLOW MODE         automatic | manual | disabled\n"
		"  flows try FLOW (ID | {JSON} | @FILE | -) [--fetch] "
		"[--send]\n"
		"            [--json]\n"
		"                               go-live check: one document "
		"through\n"
		"                               the flow, field by field, "
		"writing\n"
		"                               nothing (--send: for real;\n"
		"                               --fetch: read ID from the "
		"source)\n"
		"  connect PLAN [--step S] [--no-wait | --status]\n"
		"                               the first bulk sync of two\n"
		"                               systems, in order, resumable\n"
		"                               (--step S: sync that one now)\n"
		"  codes ({JSON} | @FILE) [--json]\n"
		"                               catalogue codes of one "
		"connection\n"
		"                               with no match in another, "
		"both\n"
		"                               ways (go-live mapping)\n"
		"  docs FLOW [--status S] [--limit N] [--after SEQ]\n"
		"                               documents of a flow (all, or "
		"N\n"
		"                               from after SEQ; says what is "
		"left)\n"
		"  doc FLOW ID                  one document with its history\n"
		"  push FLOW (ID... | --all) [--wait]\n"
		"                               send pending documents now\n"
		"  retry FLOW (ID... | --all) [--ignore-warnings] [--wait]\n"
		"                               send failed documents again\n"
		"                               (--wait: progress, then a "
		"summary)\n"
		"  replay FLOW --from TIME [--to TIME]\n"
		"                               give a flow the stored events "
		"of "
		"a\n"
		"                               time range again (Vietnam "
		"time)\n"
		"  links [--connection C] [--kind K] [--id ID] [--flow F]\n"
		"        [--after SEQ] [--limit N]\n"
		"                               record links: what each "
		"source\n"
		"                               record became in other "
		"systems\n"
		"  plugins                      loaded plugins and "
		"connections\n"
		"  users add NAME --role ROLE   a console user (viewer, "
		"operator,\n"
		"                               admin); the password from "
		"stdin\n"
		"  users list | users remove NAME\n"
		"  plugins --reference          the plugins of plugin_dir as "
		"Markdown\n"
		"                               (docs/connectors.md), no host "
		"needed\n"
		"  plugins [--json]             loaded plugins (settings, "
		"events "
		"and their\n"
		"                               payload, actions and their "
		"inputs)"
		" and connections\n"
		"  version                      versions of host and ABI\n"
		"\n"
		"The settings file is -c, else $LUONG_CONFIG, else "
		"./luong.json.\n"),
	      f);
}

/* Loads plugins, connections and flows; shared by run and flows check. */
static int load_runtime(struct runtime *rt, struct flow_set **flows,
			bool init_connections)
{
	struct flow_errors errs = { 0 };
	struct flow_catalog cat;
	size_t conn_errors = 0;

	services_init(rt);
	rt->plugins =
		loader_load_dir(rt->conf.plugin_dir, &rt->refused_plugins);
	loader_read_connections(rt, rt->conf.connections_dir, &conn_errors);
	if (init_connections)
		loader_init_connections(rt);
	else
		for (size_t i = 0; i < rt->n_conns; i++)
			rt->conns[i]->ready = true; /* checked, not started */
	engine_catalog(rt, &cat);
	if (flow_set_load(rt->conf.flows_dir, rt->conf.mappings_dir, &cat,
			  flows, &errs)) {
		for (size_t i = 0; i < errs.n; i++)
			log_error("%s", errs.msgs[i]);
		log_error("%zu error%s in flows; nothing runs until they are "
			  "fixed",
			  errs.n, errs.n == 1 ? "" : "s");
		flow_errors_clear(&errs);
		return -1;
	}
	if (conn_errors) {
		log_error("%zu error%s in connections", conn_errors,
			  conn_errors == 1 ? "" : "s");
		return -1;
	}
	return 0;
}

static void unload_runtime(struct runtime *rt, bool started)
{
	if (started)
		loader_fini_connections(rt);
	else {
		for (size_t i = 0; i < rt->n_conns; i++)
			rt->conns[i]->ready = false;
		loader_fini_connections(rt);
	}
	loader_unload_all(rt->plugins);
	rt->plugins = NULL;
	services_fini();
}

static int cmd_check(struct runtime *rt)
{
	struct flow_set *flows = NULL;
	int rc = load_runtime(rt, &flows, false);

	if (!rc) {
		struct flow_errors warns = { 0 };

		flow_set_warnings(flows, &warns);
		for (size_t i = 0; i < warns.n; i++)
			printf("%s\n", warns.msgs[i]);
		printf(_("%zu flow%s ok"), flows->n, flows->n == 1 ? "" : "s");
		if (warns.n)
			printf(_(", %zu warning%s"), warns.n,
			       warns.n == 1 ? "" : "s");
		printf("\n");
		flow_errors_clear(&warns);
	}
	/* a refused plugin file is an error here, though `run` goes on */
	if (rt->refused_plugins) {
		fprintf(stderr, _("%zu plugin file%s refused (see above)\n"),
			rt->refused_plugins,
			rt->refused_plugins == 1 ? "" : "s");
		rc = 1;
	}
	flow_set_free(flows);
	unload_runtime(rt, false);
	return rc ? 1 : 0;
}

/* The plugins of plugin_dir as Markdown, without a running host. */
static int cmd_reference(struct runtime *rt)
{
	services_init(rt);
	rt->plugins =
		loader_load_dir(rt->conf.plugin_dir, &rt->refused_plugins);
	reference_print(stdout, rt->plugins);
	loader_unload_all(rt->plugins);
	rt->plugins = NULL;
	return rt->refused_plugins ? 1 : 0;
}

static int cmd_run(struct runtime *rt)
{
	struct store_opts so = { 0 };
	struct flow_set *flows = NULL;
	int64_t t0 = util_mono_ms();
	char err[512], *db;
	struct sigaction sa = { 0 };
	int rc = 1, lock;

	/* before the store is opened and the port bound: one host per ledger */
	lock = datalock_take(rt->conf.data_dir, err, sizeof(err));
	if (lock < 0) {
		log_error("%s", err);
		return 1;
	}
	db = util_path_join(rt->conf.data_dir, "luong.db");
	so.path = db;
	so.sync_full = rt->conf.sync_full;
	if (store_open(&so, &rt->store, err, sizeof(err))) {
		log_error("%s", err);
		free(db);
		datalock_release(lock);
		return 1;
	}
	free(db);
	/* state sealed under another key stays unreadable: refuse to start
	 * rather than run plugins that cannot read their tokens */
	if (services_check_key(rt, err, sizeof(err))) {
		log_error("%s", err);
		store_close(rt->store);
		rt->store = NULL;
		datalock_release(lock);
		return 1;
	}
	if (load_runtime(rt, &flows, true))
		goto out_unload;
	rt->engine = engine_new(rt, flows);
	if (engine_start(rt->engine))
		goto out_engine;
	/* connections whose init() failed: tried again, 1 s then doubling */
	rt->reinit = reinit_start(rt, 1000, 60000);
	rt->server = server_start(rt, err, sizeof(err));
	if (!rt->server) {
		log_error("%s", err);
		goto out_engine;
	}
	running_engine = rt->engine;
	rt->connects = connects_new(rt);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* a file size limit makes writes fail (EFBIG), answered 503 like a
	 * full disk, instead of killing the host */
	signal(SIGXFSZ, SIG_IGN);
	log_info("ready on http://%s:%u in %lld ms (%zu flows, %zu "
		 "connections)",
		 rt->conf.listen_host, server_port(rt->server),
		 (long long)(util_mono_ms() - t0), flows->n, rt->n_conns);
	engine_run(rt->engine);
	log_info("stopping");
	server_stop(rt->server);
	rt->server = NULL;
	connects_free(rt->connects);
	rt->connects = NULL;
	rc = 0;
out_engine:
	reinit_stop(rt->reinit);
	rt->reinit = NULL;
	engine_free(rt->engine);
	rt->engine = NULL;
	flows = NULL;
out_unload:
	flow_set_free(flows);
	unload_runtime(rt, true);
	store_close(rt->store);
	datalock_release(lock);
	return rc;
}

/* The settings file, and the language of every later message: the file's
 * own errors are told in the language it names, when it names one. */
static int load_settings(const char *file, struct conf *c, char *err,
			 size_t errlen)
{
	if (!conf_load(file, c, err, errlen))
		return i18n_init(c->language, err, errlen);
	if (c->language && strcmp(c->language, i18n_lang()) &&
	    !getenv("LUONG_LANG") && !i18n_init(c->language, err, errlen)) {
		conf_free(c);
		conf_load(file, c, err, errlen);
	}
	return -1;
}

int main(int argc, char **argv)
{
	const char *cfg = getenv("LUONG_CONFIG");
	struct runtime rt = { 0 };
	char err[512];
	int i = 1, rc;

	umask(077); /* what the host creates is its user's alone */
	if (i18n_init(NULL, err, sizeof(err))) { /* until the settings say */
		fprintf(stderr, "luong: %s\n", err);
		return 2;
	}
	if (argc > 2 && !strcmp(argv[1], "-c")) {
		cfg = argv[2];
		i = 3;
	}
	if (!cfg)
		cfg = "luong.json";
	if (i >= argc || !strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
		usage(i >= argc ? stderr : stdout);
		return i >= argc ? 2 : 0;
	}
	if (!strcmp(argv[i], "version")) {
		printf(_("luong %s (plugin ABI %d.%d)\n"), LUONG_VERSION,
		       LUONG_ABI_MAJOR, LUONG_ABI_MINOR);
		return 0;
	}
	if (load_settings(cfg, &rt.conf, err, sizeof(err))) {
		fprintf(stderr, _("luong: %s\n"), err);
		conf_free(&rt.conf);
		return 1;
	}
	log_set_level(rt.conf.log_level);
	if (!strcmp(argv[i], "run"))
		rc = cmd_run(&rt);
	else if (!strcmp(argv[i], "flows") && i + 1 < argc &&
		 !strcmp(argv[i + 1], "check"))
		rc = cmd_check(&rt);
	else if (!strcmp(argv[i], "users"))
		rc = users_cli(&rt.conf, argc - i, argv + i);
	else if (!strcmp(argv[i], "plugins") && i + 1 < argc &&
		 !strcmp(argv[i + 1], "--reference"))
		rc = cmd_reference(&rt);
	else
		rc = cli_main(&rt.conf, argc - i, argv + i);
	conf_free(&rt.conf);
	return rc;
}

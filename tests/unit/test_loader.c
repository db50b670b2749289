/*
 * test_loader.c - plugins loaded straight through loader_load_plugin():
 * the probe and each of its wrong builds with the exact refusal line, a
 * failed load fully undone, and connection settings checked against the
 * plugin's table before init().
 */
#define _GNU_SOURCE
#include <check.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loader.h"
#include "ratelimit.h"
#include "log.h"
#include "runtime.h"
#include "util.h"

static char dir[64];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/luong-ut-loader-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static void put(const char *rel, const char *text)
{
	char *path = util_path_join(dir, rel);
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	free(path);
}

/* ---- the host's log, captured ------------------------------------------ */

static int saved_stderr = -1;
static char logpath[128];

static void capture_start(void)
{
	int fd;

	snprintf(logpath, sizeof(logpath), "%s/log", dir);
	fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	saved_stderr = dup(2);
	dup2(fd, 2);
	close(fd);
}

/* Ends the capture; the log text, owned. */
static char *capture_end(void)
{
	char *text;

	dup2(saved_stderr, 2);
	close(saved_stderr);
	text = util_read_file(logpath, NULL);
	ck_assert_ptr_nonnull(text);
	return text;
}

/* How many lines of log end with "<prefix><what>". */
static int lines_ending(const char *log, const char *what)
{
	size_t wl = strlen(what);
	int n = 0;

	for (const char *l = log; *l;) {
		const char *e = strchr(l, '\n');
		size_t ll = e ? (size_t)(e - l) : strlen(l);

		if (ll >= wl && !memcmp(l + ll - wl, what, wl))
			n++;
		l += ll + (e != NULL);
	}
	return n;
}

/* ---- plugins ---------------------------------------------------------- */

static bool mapped(const char *path)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_NOLOAD);

	if (h)
		dlclose(h);
	return h != NULL;
}

static void refused(const char *path, struct plugin *loaded, const char *want)
{
	char err[512] = "";

	ck_assert_ptr_null(loader_load_plugin(path, loaded, err, sizeof(err)));
	ck_assert_str_eq(err, want);
	/* a failed load is fully undone */
	ck_assert_msg(!mapped(path), "%s is still mapped", path);
}

START_TEST(probe_loads)
{
	char err[512] = "";
	struct plugin *p = loader_load_plugin(PROBE_SO, NULL, err, sizeof(err));

	ck_assert_msg(p != NULL, "%s", err);
	ck_assert_str_eq(p->desc->name, "probe");
	ck_assert_str_eq(p->desc->version, "1.0.0");
	ck_assert_uint_eq(p->desc->abi_major, LUONG_ABI_MAJOR);
	ck_assert_uint_eq(p->desc->abi_minor, LUONG_ABI_MINOR);
	ck_assert_ptr_eq(loader_find(p, "probe"), p);
	ck_assert_ptr_null(loader_find(p, "nope"));
	ck_assert_ptr_nonnull(plugin_event(p, "thing.saved"));
	ck_assert_uint_eq(plugin_event(p, "thing.polled")->kind,
			  LUONG_EVENT_POLL);
	ck_assert_ptr_null(plugin_event(p, "thing.deleted"));
	ck_assert_ptr_nonnull(plugin_action(p, "deliver"));
	ck_assert_ptr_null(plugin_action(p, "send"));
	ck_assert(mapped(PROBE_SO));
	loader_unload_all(p);
	ck_assert(!mapped(PROBE_SO));
}
END_TEST

START_TEST(plugin_built_for_1_1_keeps_its_actions)
{
	char err[512] = "";
	struct plugin *p =
		loader_load_plugin(PROBE_V11_SO, NULL, err, sizeof(err));
	const struct luong_action_def *a;
	cJSON *d;

	ck_assert_msg(p != NULL, "%s", err);
	ck_assert_uint_eq(p->desc->abi_minor, 1);
	/* its rows are 24 bytes: both found, and no check() read past them */
	ck_assert_uint_eq(plugin_action_count(p), 2);
	a = plugin_action(p, "deliver_again");
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(a->run);
	ck_assert_ptr_null(plugin_action_check(p, a));
	d = plugin_describe(p);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(d, "actions")),
			 2);
	cJSON_Delete(d);
	loader_unload_all(p);
}
END_TEST

START_TEST(other_major_refused)
{
	refused(PROBE_ABI2_SO, NULL,
		"plugin probe_abi2.so: built for ABI 2.2, "
		"host needs ABI 1.0 to 1.2; rebuild the plugin against this "
		"host's SDK");
}
END_TEST

START_TEST(newer_minor_refused)
{
	refused(PROBE_NEWER_SO, NULL,
		"plugin probe_newer.so: built for ABI "
		"1.99, host needs ABI 1.0 to 1.2; upgrade the host");
}
END_TEST

START_TEST(missing_entry_refused)
{
	refused(PROBE_NOENTRY_SO, NULL,
		"plugin probe_noentry.so: no "
		"luong_plugin_entry symbol, which every Luồng plugin must "
		"export");
}
END_TEST

START_TEST(duplicate_name_refused)
{
	char err[512] = "";
	struct plugin *p = loader_load_plugin(PROBE_SO, NULL, err, sizeof(err));

	ck_assert_msg(p != NULL, "%s", err);
	refused(PROBE_DUP_SO, p,
		"plugin probe_dup.so: name \"probe\" is "
		"already taken by probe.so; plugin names must be unique");
	/* the first one is untouched */
	ck_assert(mapped(PROBE_SO));
	loader_unload_all(p);
}
END_TEST

START_TEST(broken_tables_refused)
{
	refused(BAD_POLL_SO, NULL,
		"plugin bad_poll.so (bad-tables): poll "
		"event \"a.listed\" has no poll()");
	refused(BAD_RUN_SO, NULL,
		"plugin bad_run.so (bad-tables): action "
		"\"store\" has no run() or perform()");
	refused(BAD_TYPE_SO, NULL,
		"plugin bad_type.so (bad-tables): setting "
		"\"name\" has type 9, host knows types 1 to 5");
	refused(BAD_RATE_SO, NULL,
		"plugin bad_rate.so (bad-tables): "
		"rate_limit.per_second is -2; it must be 0 (no limit) or more");
}
END_TEST

START_TEST(not_a_shared_object_refused)
{
	char err[512] = "", path[128], want[160];

	put("junk.so", "not an ELF file\n");
	snprintf(path, sizeof(path), "%s/junk.so", dir);
	ck_assert_ptr_null(loader_load_plugin(path, NULL, err, sizeof(err)));
	snprintf(want, sizeof(want), "plugin junk.so: cannot load: %s", path);
	ck_assert_msg(!strncmp(err, want, strlen(want)), "%s", err);
}
END_TEST

START_TEST(dir_loads_the_rest)
{
	static const char *const so[][2] = {
		{ PROBE_SO, "probe.so" },
		{ PROBE_ABI2_SO, "probe_abi2.so" },
		{ PROBE_NEWER_SO, "probe_newer.so" },
		{ PROBE_NOENTRY_SO, "probe_noentry.so" },
		{ PROBE_DUP_SO, "probe_dup.so" },
	};
	struct plugin *list;
	char path[160], *log;

	for (size_t i = 0; i < ARRAY_SIZE(so); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, so[i][1]);
		ck_assert_int_eq(symlink(so[i][0], path), 0);
	}
	put("README.txt", "not a plugin\n");
	capture_start();
	list = loader_load_dir(dir, NULL);
	log = capture_end();
	ck_assert_ptr_nonnull(list);
	ck_assert_ptr_null(list->next);
	ck_assert_str_eq(list->desc->name, "probe");
	ck_assert_int_eq(lines_ending(log, "plugin probe.so: loaded probe "
					   "1.0.0 (ABI 1.2)"),
			 1);
	ck_assert_int_eq(lines_ending(log, "plugin probe_abi2.so: built for "
					   "ABI 2.2, host needs ABI 1.0 to "
					   "1.2; "
					   "rebuild the plugin against this "
					   "host's SDK"),
			 1);
	ck_assert_int_eq(lines_ending(log, "plugin probe_newer.so: built for "
					   "ABI 1.99, host needs ABI 1.0 to "
					   "1.2; "
					   "upgrade the host"),
			 1);
	ck_assert_int_eq(lines_ending(log, "plugin probe_noentry.so: no "
					   "luong_plugin_entry symbol, which "
					   "every Luồng plugin must export"),
			 1);
	ck_assert_int_eq(lines_ending(log, "plugin probe_dup.so: name "
					   "\"probe\" is already taken by "
					   "probe.so; plugin names must be "
					   "unique"),
			 1);
	ck_assert_msg(!strstr(log, "README"), "%s", log);
	free(log);
	loader_unload_all(list);
}
END_TEST

START_TEST(empty_dir_is_quiet)
{
	struct plugin *list;
	char *log;

	capture_start();
	errno = ENOENT; /* left over from anything before */
	list = loader_load_dir(dir, NULL);
	log = capture_end();
	ck_assert_ptr_null(list);
	ck_assert_msg(!*log, "unexpected log: %s", log);
	free(log);
}
END_TEST

/* ---- connections: settings checked against the plugin's table ------------ */

static const struct luong_config_field fake_config[] = {
	{ "name", LUONG_CFG_STRING, LUONG_CFG_REQUIRED, NULL, "a name" },
	{ "limit", LUONG_CFG_INT, 0, "10", "a whole number" },
	{ "url", LUONG_CFG_URL, 0, NULL, "an address" },
	{ "on", LUONG_CFG_BOOL, 0, NULL, "a switch" },
	{ "key", LUONG_CFG_SECRET, 0, NULL, "a secret" },
	{ 0 }
};

static enum luong_status fake_init(struct luong_ctx *ctx,
				   const struct luong_host *host, void **state)
{
	return LUONG_OK;
}

static void fake_fini(struct luong_ctx *ctx, void *state)
{
}

static const struct luong_plugin fake_desc = {
	LUONG_PLUGIN_HEADER,   .name = "fake",	  .version = "0.0.1",
	.config = fake_config, .init = fake_init, .fini = fake_fini,
};

static struct plugin fake = { .path = (char *)"fake.so", .desc = &fake_desc };

/* Reads connections/<name>.json holding text with the fake plugin
 * loaded; returns the error count and the log in *log (owned). */
static size_t read_one(struct runtime *rt, const char *text, char **log)
{
	char cdir[128];
	size_t errs = 99;

	snprintf(cdir, sizeof(cdir), "%s/connections", dir);
	mkdir(cdir, 0700);
	put("connections/c1.json", text);
	memset(rt, 0, sizeof(*rt));
	rt->plugins = &fake;
	capture_start();
	loader_read_connections(rt, cdir, &errs);
	*log = capture_end();
	return errs;
}

/* Expects text refused with "<file>: <what>" as its only error line. */
static void conn_refused(const char *text, const char *what)
{
	struct runtime rt;
	char *log, want[512];

	ck_assert_uint_eq(read_one(&rt, text, &log), 1);
	ck_assert_uint_eq(rt.n_conns, 0);
	snprintf(want, sizeof(want), "%s/connections/c1.json: %s", dir, what);
	ck_assert_msg(lines_ending(log, want) == 1, "want %s\nlog: %s", want,
		      log);
	free(log);
	loader_fini_connections(&rt);
}

START_TEST(settings_accepted_with_defaults)
{
	struct runtime rt;
	char *log;
	const cJSON *v;

	setenv("LUONG_UT_KEY", "k-123", 1);
	ck_assert_uint_eq(read_one(&rt,
				   "{\"plugin\": \"fake\", \"description"
				   "\": \"x\", \"config\": {\"name\": \"a\", "
				   "\"url\": \"https://e.x\", \"on\": true, "
				   "\"key\": {\"env\": \"LUONG_UT_KEY\"}}}",
				   &log),
			  0);
	ck_assert_msg(!*log, "%s", log);
	free(log);
	ck_assert_uint_eq(rt.n_conns, 1);
	ck_assert_str_eq(rt.conns[0]->name, "c1");
	ck_assert_ptr_eq(loader_connection(&rt, "c1"), rt.conns[0]);
	ck_assert_ptr_null(loader_connection(&rt, "c2"));
	v = rt.conns[0]->values;
	ck_assert_str_eq(cJSON_GetObjectItem(v, "name")->valuestring, "a");
	ck_assert_str_eq(cJSON_GetObjectItem(v, "limit")->valuestring, "10");
	ck_assert_str_eq(cJSON_GetObjectItem(v, "on")->valuestring, "true");
	ck_assert_str_eq(cJSON_GetObjectItem(v, "key")->valuestring, "k-123");
	loader_fini_connections(&rt);
	unsetenv("LUONG_UT_KEY");
}
END_TEST

START_TEST(unknown_setting_lists_known)
{
	conn_refused("{\"plugin\": \"fake\", \"config\": {\"name\": \"a\", "
		     "\"colour\": \"red\"}}",
		     "$.config.colour: unknown setting for plugin fake (it "
		     "takes: name, limit, url, on, key)");
}
END_TEST

START_TEST(missing_required)
{
	conn_refused("{\"plugin\": \"fake\", \"config\": {}}", "$.config.name: "
							       "missing "
							       "required "
							       "setting (a "
							       "name)");
	conn_refused("{\"plugin\": \"fake\"}", "$.config.name: missing "
					       "required setting (a name)");
}
END_TEST

START_TEST(wrong_types)
{
	conn_refused("{\"plugin\": \"fake\", \"config\": {\"name\": 5}}",
		     "$.config.name: expected a string");
	conn_refused("{\"plugin\": \"fake\", \"config\": {\"name\": \"a\", "
		     "\"limit\": 2.5}}",
		     "$.config.limit: expected a whole "
		     "number");
	conn_refused("{\"plugin\": \"fake\", \"config\": {\"name\": \"a\", "
		     "\"limit\": \"5\"}}",
		     "$.config.limit: expected a whole "
		     "number");
	conn_refused("{\"plugin\": \"fake\", \"config\": {\"name\": \"a\", "
		     "\"limit\": 1e300}}",
		     "$.config.limit: expected a whole "
		     "number");
	conn_refused("{\"plugin\": \"fake\", \"config\": {\"name\": \"a\", "
		     "\"url\": \"ftp://x\"}}",
		     "$.config.url: expected an "
		     "http:// or https:// URL");
	conn_refused("{\"plugin\": \"fake\", \"config\": {\"name\": \"a\", "
		     "\"on\": \"yes\"}}",
		     "$.config.on: expected true or "
		     "false");
}
END_TEST

START_TEST(inline_secret_refused)
{
	conn_refused("{\"plugin\": \"fake\", \"config\": {\"name\": \"a\", "
		     "\"key\": \"hunter2\"}}",
		     "$.config.key: secrets must be "
		     "given by reference ({\"env\": \"NAME\"} or {\"file\": "
		     "\"path\"}), never inline");
}
END_TEST

/* A connection of the fake plugin, up to its "rate_limit" value. */
#define FAKE_RL                                                                \
	"{\"plugin\": \"fake\", \"config\": {\"name\": \"a\"}, "               \
	"\"rate_limit\": "

START_TEST(bad_connection_files)
{
	conn_refused("{\"plugin\": \"fake\",", "not a JSON object");
	conn_refused("{\"plugin\": \"fake\", \"settings\": {}}",
		     "$.settings: unknown field (expected plugin, config, "
		     "rate_limit, description)");
	conn_refused(FAKE_RL "4}", "$.rate_limit: expected an object like "
				   "{\"per_second\": "
				   "4, \"burst\": 80}");
	conn_refused(FAKE_RL "{\"per_second\": -1}}", "$.rate_limit."
						      "per_second: expected a "
						      "number from 0 to "
						      "1000000");
	conn_refused(FAKE_RL "{\"burst\": 2.5}}", "$.rate_limit.burst: "
						  "expected a whole number of "
						  "calls");
	conn_refused("{\"config\": {}}", "$.plugin: missing plugin name");
	conn_refused("{\"plugin\": \"misa\"}", "$.plugin: no plugin \"misa\" "
					       "is loaded");
	conn_refused("{\"plugin\": \"fake\", \"config\": []}", "$.config: "
							       "expected an "
							       "object");
}
END_TEST

START_TEST(ratelimit_setting_overrides_the_declared_limit)
{
	struct runtime rt;
	char *log;

	ck_assert_uint_eq(read_one(&rt,
				   FAKE_RL "{\"per_second\": 2.5, "
					   "\"burst\": 5}}",
				   &log),
			  0);
	free(log);
	ck_assert_uint_eq(rt.n_conns, 1);
	ck_assert(rl_per_second(rt.conns[0]->rl) == 2.5);
	ck_assert(rl_capacity(rt.conns[0]->rl) == 5.0);
	loader_fini_connections(&rt);
	/* none declared, none set: nothing paced */
	ck_assert_uint_eq(read_one(&rt,
				   "{\"plugin\": \"fake\", \"config\": "
				   "{\"name\": \"a\"}}",
				   &log),
			  0);
	free(log);
	ck_assert(rl_per_second(rt.conns[0]->rl) == 0);
	loader_fini_connections(&rt);
}
END_TEST

START_TEST(failing_init_is_logged_and_undone)
{
	struct runtime rt = { 0 };
	char err[512] = "", cdir[128], *log, want[512];
	size_t errs = 9;

	rt.plugins = loader_load_plugin(PROBE_SO, NULL, err, sizeof(err));
	ck_assert_msg(rt.plugins != NULL, "%s", err);
	services_init(&rt);
	snprintf(cdir, sizeof(cdir), "%s/connections", dir);
	mkdir(cdir, 0700);
	put("connections/bad.json", "{\"plugin\": \"probe\", \"config\": "
				    "{\"target\": \"http://127.0.0.1:9\", "
				    "\"fail_init\": true}}");
	put("connections/good.json", "{\"plugin\": \"probe\", \"config\": "
				     "{\"target\": \"http://127.0.0.1:9\"}}");
	loader_read_connections(&rt, cdir, &errs);
	ck_assert_uint_eq(errs, 0);
	ck_assert_uint_eq(rt.n_conns, 2);
	capture_start();
	loader_init_connections(&rt);
	log = capture_end();
	ck_assert(!rt.conns[0]->ready); /* bad.json sorts first */
	ck_assert_ptr_null(rt.conns[0]->state);
	/* in the plugin's own words (log->fail) */
	ck_assert_str_eq(rt.conns[0]->error, "init failed: fail_init is set "
					     "in its config");
	ck_assert(rt.conns[1]->ready);
	snprintf(want, sizeof(want),
		 "%s/bad.json: connection bad (plugin "
		 "probe 1.0.0): init failed: fail_init is set in its config"
		 "; the connection is not started",
		 cdir);
	ck_assert_msg(lines_ending(log, want) == 1, "want %s\nlog: %s", want,
		      log);
	free(log);
	loader_fini_connections(&rt);
	loader_unload_all(rt.plugins);
	services_fini();
}
END_TEST

START_TEST(describe_lists_everything)
{
	char err[512] = "", *text;
	struct plugin *p = loader_load_plugin(PROBE_SO, NULL, err, sizeof(err));
	cJSON *d = plugin_describe(p), *cfg;

	ck_assert_str_eq(cJSON_GetObjectItem(d, "file")->valuestring, "probe."
								      "so");
	cfg = cJSON_GetObjectItem(d, "config");
	ck_assert_int_eq(cJSON_GetArraySize(cfg), 4);
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(cfg, 1), "type")
				 ->valuestring,
			 "secret");
	ck_assert(cJSON_IsTrue(
		cJSON_GetObjectItem(cJSON_GetArrayItem(cfg, 0), "required")));
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(d, "events")),
			 3);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(d, "actions")),
			 2);
	/* 1.2: declared inputs are described, with what they are */
	text = cJSON_PrintUnformatted(cJSON_GetObjectItem(
		cJSON_GetArrayItem(cJSON_GetObjectItem(d, "actions"), 1), "inpu"
									  "t"
									  "s"));
	ck_assert_str_eq(text, "[{\"name\":\"doc\",\"type\":\"any\","
			       "\"required\":true,\"description\":\"the "
			       "thing's id\"},"
			       "{\"name\":\"n\",\"type\":\"integer\","
			       "\"required\":false,"
			       "\"description\":\"a count\"}]");
	free(text);
	cJSON_Delete(d);
	loader_unload_all(p);
}
END_TEST

static Suite *loader_suite(void)
{
	Suite *s = suite_create("loader");
	TCase *tp = tcase_create("plugins");
	TCase *tc = tcase_create("connections");

	tcase_add_checked_fixture(tp, setup, teardown);
	tcase_add_test(tp, probe_loads);
	tcase_add_test(tp, plugin_built_for_1_1_keeps_its_actions);
	tcase_add_test(tp, other_major_refused);
	tcase_add_test(tp, newer_minor_refused);
	tcase_add_test(tp, missing_entry_refused);
	tcase_add_test(tp, duplicate_name_refused);
	tcase_add_test(tp, broken_tables_refused);
	tcase_add_test(tp, not_a_shared_object_refused);
	tcase_add_test(tp, dir_loads_the_rest);
	tcase_add_test(tp, empty_dir_is_quiet);
	tcase_add_test(tp, describe_lists_everything);
	suite_add_tcase(s, tp);

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, settings_accepted_with_defaults);
	tcase_add_test(tc, unknown_setting_lists_known);
	tcase_add_test(tc, missing_required);
	tcase_add_test(tc, wrong_types);
	tcase_add_test(tc, inline_secret_refused);
	tcase_add_test(tc, bad_connection_files);
	tcase_add_test(tc, ratelimit_setting_overrides_the_declared_limit);
	tcase_add_test(tc, failing_init_is_logged_and_undone);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	log_set_level(LUONG_LOG_INFO);
	sr = srunner_create(loader_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* test_conf.c - luong.json: defaults, refusals and secret references. */
#define _GNU_SOURCE
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "seal.h"
#include "util.h"

static char dir[64];
static char cfg[128];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/luong-ut-conf-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(cfg, sizeof(cfg), "%s/luong.json", dir);
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Writes dir/name with the given mode. */
static void put(const char *name, const char *text, mode_t mode)
{
	char *path = util_path_join(dir, name);
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	ck_assert_int_eq(chmod(path, mode), 0);
	free(path);
}

/* Loads luong.json holding text; returns conf_load's result. */
static int load(const char *text, struct conf *c, char *err, size_t len)
{
	put("luong.json", text, 0644);
	err[0] = '\0';
	return conf_load(cfg, c, err, len);
}

/* Expects text to be refused with exactly "<cfg>: <what>". */
static void refused(const char *text, const char *what)
{
	struct conf c;
	char err[512], want[512];

	ck_assert_int_eq(load(text, &c, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: %s", cfg, what);
	ck_assert_str_eq(err, want);
	conf_free(&c);
}

START_TEST(defaults)
{
	struct conf c;
	char err[512], path[160];
	struct stat st;

	ck_assert_msg(load("{}", &c, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(c.listen_host, "127.0.0.1");
	ck_assert_uint_eq(c.listen_port, 7700);
	snprintf(path, sizeof(path), "%s/var", dir);
	ck_assert_str_eq(c.data_dir, path);
	snprintf(path, sizeof(path), "%s/plugins", dir);
	ck_assert_str_eq(c.plugin_dir, path);
	snprintf(path, sizeof(path), "%s/flows", dir);
	ck_assert_str_eq(c.flows_dir, path);
	snprintf(path, sizeof(path), "%s/mappings", dir);
	ck_assert_str_eq(c.mappings_dir, path);
	snprintf(path, sizeof(path), "%s/connections", dir);
	ck_assert_str_eq(c.connections_dir, path);
	ck_assert_uint_eq(c.workers, 8);
	ck_assert_uint_eq(c.webhook_body_limit, 1 << 20);
	ck_assert_int_eq(c.log_level, LUONG_LOG_INFO);
	ck_assert(c.sync_full);
	ck_assert_uint_eq(c.wait_timeout_s, 600);
	/* the data folder is made private */
	ck_assert_int_eq(stat(c.data_dir, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0700);
	conf_free(&c);
}
END_TEST

START_TEST(settings_are_read)
{
	struct conf c;
	char err[512];

	ck_assert_msg(load("{\"listen\": \"0.0.0.0:8081\", \"workers\": 3,"
			   " \"webhook_body_limit\": 2048, \"log_level\": "
			   "\"debug\", \"sync\": \"normal\", \"data_dir\": "
			   "\"/tmp\", \"wait_timeout_s\": 5}",
			   &c, err, sizeof(err)) == 0,
		      "%s", err);
	ck_assert_str_eq(c.listen_host, "0.0.0.0");
	ck_assert_uint_eq(c.listen_port, 8081);
	ck_assert_uint_eq(c.workers, 3);
	ck_assert_uint_eq(c.webhook_body_limit, 2048);
	ck_assert_int_eq(c.log_level, LUONG_LOG_DEBUG);
	ck_assert(!c.sync_full);
	ck_assert_str_eq(c.data_dir, "/tmp"); /* absolute stays absolute */
	ck_assert_uint_eq(c.wait_timeout_s, 5);
	conf_free(&c);
}
END_TEST

START_TEST(unknown_setting)
{
	refused("{\"listn\": \"127.0.0.1:1\"}", "$.listn: unknown setting");
}
END_TEST

START_TEST(not_an_object)
{
	refused("[1, 2]", "not a JSON object");
	refused("{\"listen\": ", "not a JSON object");
}
END_TEST

START_TEST(bad_listen)
{
	static const char *const bad[] = {
		"{\"listen\": \"localhost\"}",
		"{\"listen\": \":7700\"}",
		"{\"listen\": \"127.0.0.1:65536\"}",
		"{\"listen\": \"127.0.0.1:-1\"}",
		"{\"listen\": \"127.0.0.1:80x\"}",
		"{\"listen\": \"127.0.0.1:\"}",
		"{\"listen\": \"127.0.0.1: 80\"}",
		"{\"listen\": 7700}",
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		refused(bad[i], "$.listen: expected \"host:port\"");
}
END_TEST

START_TEST(bad_numbers_and_words)
{
	refused("{\"workers\": -1}", "$.workers: expected a whole number from "
				     "0 to 256");
	refused("{\"workers\": 2.5}", "$.workers: expected a whole number from "
				      "0 to 256");
	refused("{\"workers\": \"4\"}", "$.workers: expected a whole number "
					"from 0 to 256");
	refused("{\"log_level\": \"loud\"}", "$.log_level: expected error, "
					     "warn, info or debug");
	refused("{\"sync\": true}", "$.sync: expected \"full\" (fsync every "
				    "commit) or \"normal\"");
	refused("{\"flows_dir\": 1}", "$.flows_dir: expected a string");
}
END_TEST

START_TEST(secret_by_env)
{
	struct conf c;
	char err[512];

	setenv("LUONG_UT_TOKEN", "from-env", 1);
	ck_assert_msg(load("{\"admin_token\": {\"env\": \"LUONG_UT_TOKEN\"}}",
			   &c, err, sizeof(err)) == 0,
		      "%s", err);
	ck_assert_str_eq(c.admin_token, "from-env");
	conf_free(&c);
	unsetenv("LUONG_UT_TOKEN");
	refused("{\"admin_token\": {\"env\": \"LUONG_UT_TOKEN\"}}",
		"$.admin_token: environment variable LUONG_UT_TOKEN is not "
		"set");
}
END_TEST

START_TEST(secret_by_file)
{
	struct conf c;
	char err[512];

	/* relative to the settings file; the newline is not the secret */
	put("token.txt", "from-file\n", 0600);
	ck_assert_msg(load("{\"admin_token\": {\"file\": \"token.txt\"}}", &c,
			   err, sizeof(err)) == 0,
		      "%s", err);
	ck_assert_str_eq(c.admin_token, "from-file");
	conf_free(&c);
}
END_TEST

START_TEST(secret_file_readable_by_others)
{
	char what[256];

	put("token.txt", "s3cret\n", 0644);
	snprintf(what, sizeof(what),
		 "$.admin_token: secret file %s/token.txt "
		 "is readable by others (mode 644); chmod 600 it",
		 dir);
	refused("{\"admin_token\": {\"file\": \"token.txt\"}}", what);
	put("token.txt", "s3cret\n", 0640);
	snprintf(what, sizeof(what),
		 "$.admin_token: secret file %s/token.txt "
		 "is readable by others (mode 640); chmod 600 it",
		 dir);
	refused("{\"admin_token\": {\"file\": \"token.txt\"}}", what);
}
END_TEST

START_TEST(secret_file_missing_or_empty)
{
	char what[256];

	snprintf(what, sizeof(what),
		 "$.admin_token: cannot read secret file "
		 "%s/nope.txt: No such file or directory",
		 dir);
	refused("{\"admin_token\": {\"file\": \"nope.txt\"}}", what);
	/* an empty secret would let anyone in with an empty token */
	put("empty.txt", "\n", 0600);
	snprintf(what, sizeof(what),
		 "$.admin_token: secret file "
		 "%s/empty.txt is empty",
		 dir);
	refused("{\"admin_token\": {\"file\": \"empty.txt\"}}", what);
}
END_TEST

START_TEST(inline_secret_refused)
{
	refused("{\"admin_token\": \"hunter2\"}", "$.admin_token: secrets must "
						  "be given by reference "
						  "({\"env\": \"NAME\"} or "
						  "{\"file\": \"path\"}), "
						  "never inline");
	refused("{\"admin_token\": {\"value\": \"hunter2\"}}",
		"$.admin_token: expected a secret reference {\"env\": "
		"\"NAME\"} or {\"file\": \"path\"}");
}
END_TEST

START_TEST(admin_token_generated_once)
{
	struct conf c;
	char err[512], *path, *first;
	struct stat st;

	ck_assert_msg(load("{}", &c, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(strlen(c.admin_token), 48);
	ck_assert_uint_eq(strspn(c.admin_token, "0123456789abcdef"), 48);
	first = xstrdup(c.admin_token);
	path = util_path_join(c.data_dir, "admin.token");
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	conf_free(&c);
	ck_assert_msg(load("{}", &c, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(c.admin_token, first);
	conf_free(&c);
	free(first);
	free(path);
}
END_TEST

START_TEST(generated_token_file_must_stay_private)
{
	struct conf c;
	char err[512], what[256], *path;

	ck_assert_msg(load("{}", &c, err, sizeof(err)) == 0, "%s", err);
	path = util_path_join(c.data_dir, "admin.token");
	conf_free(&c);
	ck_assert_int_eq(chmod(path, 0644), 0);
	snprintf(what, sizeof(what),
		 "$.admin_token: secret file %s is "
		 "readable by others (mode 644); chmod 600 it",
		 path);
	refused("{}", what);
	free(path);
}
END_TEST

START_TEST(secret_key_by_reference)
{
	struct conf c;
	char err[512], from[256], *made;
	unsigned char want[SEAL_KEY_LEN];

	setenv("LUONG_UT_KEY", "a-key-of-at-least-32-characters-0001", 1);
	ck_assert_msg(load("{\"secret_key\": {\"env\": \"LUONG_UT_KEY\"}}", &c,
			   err, sizeof(err)) == 0,
		      "%s", err);
	seal_key_derive("a-key-of-at-least-32-characters-0001", want);
	ck_assert_mem_eq(c.secret_key, want, SEAL_KEY_LEN);
	snprintf(from, sizeof(from), "$.secret_key in %s", cfg);
	ck_assert_str_eq(c.secret_key_from, from);
	/* none made when one is given */
	made = util_path_join(c.data_dir, "secret.key");
	ck_assert_int_ne(access(made, F_OK), 0);
	free(made);
	conf_free(&c);
	unsetenv("LUONG_UT_KEY");
}
END_TEST

START_TEST(secret_key_refusals)
{
	char what[256];

	refused("{\"secret_key\": \"a-key-of-at-least-32-characters-0001\"}",
		"$.secret_key: secrets must be given by reference "
		"({\"env\": \"NAME\"} or {\"file\": \"path\"}), never inline");
	setenv("LUONG_UT_KEY", "short", 1);
	refused("{\"secret_key\": {\"env\": \"LUONG_UT_KEY\"}}",
		"$.secret_key: the key must be at least 32 characters (make "
		"one with: openssl rand -hex 32)");
	unsetenv("LUONG_UT_KEY");
	put("key.txt", "a-key-of-at-least-32-characters-0001\n", 0644);
	snprintf(what, sizeof(what),
		 "$.secret_key: secret file %s/key.txt "
		 "is readable by others (mode 644); chmod 600 it",
		 dir);
	refused("{\"secret_key\": {\"file\": \"key.txt\"}}", what);
}
END_TEST

/* Counts the lines conf_load logs that hold needle. */
static int load_and_count_log(const char *text, struct conf *c,
			      const char *needle)
{
	char err[512], *logpath = util_path_join(dir, "stderr.log"), *logged;
	int saved = dup(2), fd, n = 0;

	fflush(stderr);
	fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	dup2(fd, 2);
	close(fd);
	fd = load(text, c, err, sizeof(err));
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	ck_assert_msg(fd == 0, "%s", err);
	logged = util_read_file(logpath, NULL);
	for (char *p = logged; (p = strstr(p, needle)); p++)
		n++;
	free(logged);
	free(logpath);
	return n;
}

START_TEST(secret_key_made_once_and_said_once)
{
	struct conf c;
	unsigned char first[SEAL_KEY_LEN];
	char *path, *hex;
	struct stat st;

	ck_assert_int_eq(load_and_count_log("{}", &c, "made a new key"), 1);
	memcpy(first, c.secret_key, SEAL_KEY_LEN);
	path = util_path_join(c.data_dir, "secret.key");
	ck_assert_str_eq(c.secret_key_from, path);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	hex = util_read_file(path, NULL);
	ck_assert_uint_eq(strlen(hex), 64);
	ck_assert_uint_eq(strspn(hex, "0123456789abcdef"), 64);
	free(hex);
	conf_free(&c);
	ck_assert_int_eq(load_and_count_log("{}", &c, "made a new key"), 0);
	ck_assert_mem_eq(c.secret_key, first, SEAL_KEY_LEN);
	conf_free(&c);
	free(path);
}
END_TEST

START_TEST(secret_reference_directly)
{
	cJSON *ref = cJSON_Parse("{\"file\": \"/no/such/dir/x\"}");
	char err[256];

	ck_assert_ptr_null(conf_secret(ref, "/", err, sizeof(err)));
	ck_assert_str_eq(err, "cannot read secret file /no/such/dir/x: "
			      "No such file or directory");
	cJSON_Delete(ref);
	ref = cJSON_CreateNumber(3);
	ck_assert_ptr_null(conf_secret(ref, "/", err, sizeof(err)));
	ck_assert_str_eq(err, "expected a secret reference {\"env\": "
			      "\"NAME\"} or {\"file\": \"path\"}");
	cJSON_Delete(ref);
}
END_TEST

START_TEST(dirname_cases)
{
	char *s;

	s = conf_dirname("/srv/luong/luong.json");
	ck_assert_str_eq(s, "/srv/luong");
	free(s);
	s = conf_dirname("luong.json");
	ck_assert_str_eq(s, ".");
	free(s);
	s = conf_dirname("/luong.json");
	ck_assert_str_eq(s, "/");
	free(s);
}
END_TEST

START_TEST(missing_file)
{
	struct conf c;
	char err[256], want[256];

	ck_assert_int_eq(conf_load("/no/such/luong.json", &c, err, sizeof(err)),
			 -1);
	snprintf(want, sizeof(want),
		 "cannot read /no/such/luong.json: "
		 "No such file or directory");
	ck_assert_str_eq(err, want);
	conf_free(&c);
}
END_TEST

static Suite *conf_suite(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, settings_are_read);
	tcase_add_test(tc, unknown_setting);
	tcase_add_test(tc, not_an_object);
	tcase_add_test(tc, bad_listen);
	tcase_add_test(tc, bad_numbers_and_words);
	tcase_add_test(tc, secret_by_env);
	tcase_add_test(tc, secret_by_file);
	tcase_add_test(tc, secret_file_readable_by_others);
	tcase_add_test(tc, secret_file_missing_or_empty);
	tcase_add_test(tc, inline_secret_refused);
	tcase_add_test(tc, admin_token_generated_once);
	tcase_add_test(tc, generated_token_file_must_stay_private);
	tcase_add_test(tc, secret_key_by_reference);
	tcase_add_test(tc, secret_key_refusals);
	tcase_add_test(tc, secret_key_made_once_and_said_once);
	tcase_add_test(tc, secret_reference_directly);
	tcase_add_test(tc, dirname_cases);
	tcase_add_test(tc, missing_file);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(conf_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

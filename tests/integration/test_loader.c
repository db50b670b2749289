/*
 * test_loader.c - what a user sees when plugins or files are wrong, with
 * the real `luong`: wrong plugin builds and a failing init() are refused
 * one clear line each while the host serves the rest; every malformed
 * flow or connection file in fixtures/bad-flows/ is refused by
 * `luong flows check` with its exact line (see the README there).
 */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "sink.h"

#define BAD FIXTURES "/bad-flows"
#define MAX_CASES 64

static struct deploy d;
static struct sink *sk;

/* Fixture names found at start: flows (file or folder), connections. */
static char *flow_cases[MAX_CASES], *conn_cases[MAX_CASES];
static int n_flow_cases, n_conn_cases;

static void setup(void)
{
	sk = sink_start(0);
	ck_assert_ptr_nonnull(sk);
	h_deploy(&d);
}

static void teardown(void)
{
	h_cleanup(&d);
	sink_stop(sk);
}

/* Copies every *.json of a fixture folder into the deployment's sub. */
static void copy_dir(const char *src, const char *sub)
{
	DIR *dir = opendir(src);
	struct dirent *e;

	ck_assert_msg(dir != NULL, "cannot open %s", src);
	while ((e = readdir(dir))) {
		char from[512], rel[512];
		size_t n = strlen(e->d_name);

		if (n < 6 || strcmp(e->d_name + n - 5, ".json"))
			continue;
		snprintf(from, sizeof(from), "%s/%s", src, e->d_name);
		snprintf(rel, sizeof(rel), "%s/%s", sub, e->d_name);
		ck_assert_int_eq(h_copy_in(&d, from, rel), 0);
	}
	closedir(dir);
}

/* The output with the deployment folder taken out of every path. */
static char *relative(const char *out)
{
	char *buf = strdup(out), *p, prefix[300];
	size_t pl;

	snprintf(prefix, sizeof(prefix), "%s/", d.dir);
	pl = strlen(prefix);
	while ((p = strstr(buf, prefix)))
		memmove(p, p + pl, strlen(p + pl) + 1);
	return buf;
}

/* How many log lines say exactly `msg` at level `level`. */
static int lines_saying(const char *log, const char *level, const char *msg)
{
	char tag[16];
	int n = 0;

	snprintf(tag, sizeof(tag), " %-5s ", level);
	for (const char *l = log; *l;) {
		const char *e = strchr(l, '\n');
		size_t ll = e ? (size_t)(e - l) : strlen(l);
		const char *t = memmem(l, ll, tag, strlen(tag));

		if (t) {
			const char *m = t + strlen(tag);

			if ((size_t)(l + ll - m) == strlen(msg) &&
			    !memcmp(m, msg, strlen(msg)))
				n++;
		}
		l += ll + (e != NULL);
	}
	return n;
}

/* The expected line of a fixture, without its newline. Owned. */
static char *expected(const char *name)
{
	char path[512], *text;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s.expect", BAD, name);
	text = h_read_file(path, NULL);
	ck_assert_msg(text != NULL, "cannot read %s", path);
	n = strlen(text);
	while (n && text[n - 1] == '\n')
		text[--n] = '\0';
	ck_assert_msg(n > 0 && !strchr(text, '\n'), "%s: one line expected",
		      path);
	return text;
}

/* A deployment with the probe connection and the mapping tables. */
static void base_files(void)
{
	h_write(&d, "connections/probe.json",
		"{\"plugin\": \"probe\", "
		"\"config\": {\"target\": \"http://127.0.0.1:%u\"}}\n",
		sink_port(sk));
	copy_dir(BAD "/mappings", "mappings");
}

/* Runs `luong flows check`; expects exit 1 and the line `want`. */
static void check_refuses(const char *want)
{
	char *out = NULL, *rel;
	int rc = h_luong(&d, &out, "flows check");

	rel = relative(out);
	ck_assert_msg(rc == 1, "exit %d, want 1; output:\n%s", rc, rel);
	ck_assert_msg(lines_saying(rel, "error", want) == 1,
		      "no line\n  %s\nin:\n%s", want, rel);
	free(rel);
	free(out);
}

START_TEST(bad_flow)
{
	const char *name = flow_cases[_i];
	char path[512], rel[512], *want = expected(name);
	struct stat st;

	base_files();
	snprintf(path, sizeof(path), "%s/%s", BAD, name);
	if (!stat(path, &st) && S_ISDIR(st.st_mode)) {
		copy_dir(path, "flows");
	} else {
		snprintf(path, sizeof(path), "%s/%s.json", BAD, name);
		snprintf(rel, sizeof(rel), "flows/%s.json", name);
		ck_assert_int_eq(h_copy_in(&d, path, rel), 0);
	}
	check_refuses(want);
	free(want);
}
END_TEST

START_TEST(bad_connection)
{
	const char *name = conn_cases[_i];
	char path[512], rel[512], *want;

	snprintf(path, sizeof(path), "connections/%s", name);
	want = expected(path);
	base_files();
	copy_dir(BAD "/good", "flows");
	snprintf(path, sizeof(path), "%s/connections/%s.json", BAD, name);
	snprintf(rel, sizeof(rel), "connections/%s.json", name);
	ck_assert_int_eq(h_copy_in(&d, path, rel), 0);
	check_refuses(want);
	free(want);
}
END_TEST

START_TEST(good_set_passes)
{
	char *out = NULL;
	int rc;

	base_files();
	copy_dir(BAD "/good", "flows");
	rc = h_luong(&d, &out, "flows check");
	ck_assert_msg(rc == 0, "exit %d; output:\n%s", rc, out);
	ck_assert_msg(strstr(out, "\n4 flows ok\n") ||
			      !strncmp(out, "4 flows ok\n", 11),
		      "%s", out);
	ck_assert_msg(!strstr(out, " error "), "%s", out);
	free(out);
}
END_TEST

static void link_plugin(const char *file);

/* A refused plugin file makes `flows check` fail, though `run` goes on. */
START_TEST(flows_check_fails_when_a_plugin_file_is_refused)
{
	char *out = NULL;
	int rc;

	base_files();
	copy_dir(BAD "/good", "flows");
	link_plugin("probe_abi2.so");
	rc = h_luong(&d, &out, "flows check");
	ck_assert_msg(rc == 1, "exit %d; output:\n%s", rc, out);
	ck_assert_msg(strstr(out, "1 plugin file refused (see above)"), "%s",
		      out);
	free(out);
}
END_TEST

/* A connection file with a settings error: its flows are told the file
 * was refused, not "unknown connection (known: none)". */
START_TEST(flows_naming_a_refused_connection_say_so)
{
	char *out = NULL, *rel;
	int rc;

	base_files();
	copy_dir(BAD "/good", "flows");
	h_write(&d, "connections/probe.json",
		"{\"plugin\": \"probe\", "
		"\"config\": {\"target\": \"http://127.0.0.1:9\", "
		"\"retries\": 3}}\n");
	rc = h_luong(&d, &out, "flows check");
	rel = relative(out);
	ck_assert_msg(rc == 1, "exit %d; output:\n%s", rc, rel);
	ck_assert_msg(!strstr(rel, "known: none"), "%s", rel);
	ck_assert_msg(strstr(rel, "unknown connection \"probe\": its file "
				  "connections/probe.json was refused (see "
				  "above)"),
		      "%s", rel);
	free(rel);
	free(out);
}
END_TEST

START_TEST(enough_malformed_cases)
{
	/* the issue asks for at least ten; we keep more */
	ck_assert_int_ge(n_flow_cases, 12);
	ck_assert_int_ge(n_conn_cases, 2);
}
END_TEST

static void link_plugin(const char *file)
{
	char from[512], to[512];

	snprintf(from, sizeof(from), "%s/%s", PLUGIN_DIR, file);
	snprintf(to, sizeof(to), "%s/plugins/%s", d.dir, file);
	ck_assert_int_eq(symlink(from, to), 0);
}

START_TEST(refusals_logged_host_goes_on)
{
	char *log, *out = NULL, want[600];

	link_plugin("probe_abi2.so");
	link_plugin("probe_newer.so");
	link_plugin("probe_noentry.so");
	link_plugin("probe_dup.so");
	h_probe_setup(&d, sink_port(sk), "automatic");
	h_write(&d, "connections/broken.json",
		"{\"plugin\": \"probe\", "
		"\"config\": {\"target\": \"http://127.0.0.1:%u\", "
		"\"fail_init\": true}}\n",
		sink_port(sk));
	ck_assert_int_eq(h_start(&d), 0);

	log = h_log(&d);
	ck_assert_int_eq(lines_saying(log, "info",
				      "plugin probe.so: loaded "
				      "probe 1.0.0 (ABI 1.2)"),
			 1);
	ck_assert_int_eq(lines_saying(log, "error",
				      "plugin probe_abi2.so: "
				      "built for ABI 2.2, host needs ABI 1.0 "
				      "to 1.2; rebuild the plugin against "
				      "this host's SDK"),
			 1);
	ck_assert_int_eq(lines_saying(log, "error",
				      "plugin probe_newer.so: "
				      "built for ABI 1.99, host needs ABI "
				      "1.0 to 1.2; upgrade the host"),
			 1);
	ck_assert_int_eq(lines_saying(log, "error",
				      "plugin probe_noentry.so:"
				      " no luong_plugin_entry symbol, which "
				      "every Luồng plugin must export"),
			 1);
	ck_assert_int_eq(lines_saying(log, "error",
				      "plugin probe_dup.so: "
				      "name \"probe\" is already taken by "
				      "probe.so; plugin names must be "
				      "unique"),
			 1);
	snprintf(want, sizeof(want),
		 "%s/connections/broken.json: connection "
		 "broken (plugin probe 1.0.0): init failed: fail_init is set "
		 "in its config; the connection is not started",
		 d.dir);
	ck_assert_msg(lines_saying(log, "error", want) == 1, "%s", log);
	free(log);

	/* the rest goes on: the good connection delivers */
	ck_assert_int_eq(h_hook(&d, "probe", "/", "{\"id\":\"L1\",\"n\":1}"),
			 200);
	ck_assert_int_eq(sink_wait_effects(sk, 1, 5000), 1);
	ck_assert(h_wait_status(&d, "relay", "L1", "synced", 5000));
	ck_assert_int_eq(h_luong(&d, &out, "plugins"), 0);
	ck_assert_msg(strstr(out, "probe") && !strstr(out, "probe-abi2") &&
			      !strstr(out, "probe-newer"),
		      "%s", out);
	free(out);
}
END_TEST

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Cases are the NN-name entries that have an NN-name.expect. */
static int find_cases(const char *dir, bool dirs_too, char **names)
{
	DIR *dp = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!dp)
		return 0;
	while ((e = readdir(dp)) && n < MAX_CASES) {
		char path[512], *name = e->d_name, *dot;
		struct stat st;

		if (name[0] < '0' || name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		if (stat(path, &st))
			continue;
		dot = strrchr(name, '.');
		if (S_ISDIR(st.st_mode) ? !dirs_too
					: !dot || strcmp(dot, ".json"))
			continue;
		names[n] = S_ISDIR(st.st_mode)
				   ? strdup(name)
				   : strndup(name, (size_t)(dot - name));
		snprintf(path, sizeof(path), "%s/%s.expect", dir, names[n]);
		if (access(path, R_OK)) {
			fprintf(stderr, "%s is missing\n", path);
			free(names[n]);
			continue;
		}
		n++;
	}
	closedir(dp);
	qsort(names, (size_t)n, sizeof(*names), cmp_names);
	return n;
}

static Suite *loader_suite(void)
{
	Suite *s = suite_create("loader");
	TCase *tp = tcase_create("plugins");
	TCase *tf = tcase_create("files");

	tcase_add_checked_fixture(tp, setup, teardown);
	tcase_set_timeout(tp, 60);
	tcase_add_test(tp, refusals_logged_host_goes_on);
	suite_add_tcase(s, tp);

	n_flow_cases = find_cases(BAD, true, flow_cases);
	n_conn_cases = find_cases(BAD "/connections", false, conn_cases);
	tcase_add_checked_fixture(tf, setup, teardown);
	tcase_set_timeout(tf, 30);
	tcase_add_test(tf, enough_malformed_cases);
	tcase_add_loop_test(tf, bad_flow, 0, n_flow_cases);
	tcase_add_loop_test(tf, bad_connection, 0, n_conn_cases);
	tcase_add_test(tf, good_set_passes);
	tcase_add_test(tf, flows_check_fails_when_a_plugin_file_is_refused);
	tcase_add_test(tf, flows_naming_a_refused_connection_say_so);
	suite_add_tcase(s, tf);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(loader_suite());
	int failed;

	srunner_run_all(sr, CK_VERBOSE);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	for (int i = 0; i < n_flow_cases; i++)
		free(flow_cases[i]);
	for (int i = 0; i < n_conn_cases; i++)
		free(conn_cases[i]);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

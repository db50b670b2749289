/*
 * test_ops.c - running the host as an operator does: one host per data
 * folder (a second is refused, a killed one does not block the next), and
 * `luong docs` paging through more than one page of a big ledger.
 */
#define _GNU_SOURCE
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "sink.h"

static struct deploy d;
static struct sink *sk;

static void setup(void)
{
	sk = sink_start(0);
	ck_assert_ptr_nonnull(sk);
	h_deploy(&d);
	h_probe_setup(&d, sink_port(sk), "manual");
}

static void teardown(void)
{
	h_cleanup(&d);
	sink_stop(sk);
}

/* A second `luong run` on the same folder; its exit code (-1 if it was
 * still running after timeout_ms and had to be killed), output in *log. */
static int run_second(long timeout_ms, char **log)
{
	char cfg[512], path[512];
	long long t0 = h_now_ms();
	int st = 0;
	pid_t pid;

	snprintf(cfg, sizeof(cfg), "%s/luong.json", d.dir);
	snprintf(path, sizeof(path), "%s/second.log", d.dir);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(fd, 1);
		dup2(fd, 2);
		execl(LUONG_BIN, "luong", "-c", cfg, "run", (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &st, WNOHANG) == 0) {
		if (h_now_ms() - t0 > timeout_ms) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			*log = h_read_file(path, NULL);
			return -1;
		}
		usleep(10000);
	}
	*log = h_read_file(path, NULL);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static long lock_pid(void)
{
	char path[512], *text;
	long pid;

	snprintf(path, sizeof(path), "%s/var/luong.lock", d.dir);
	text = h_read_file(path, NULL);
	ck_assert_ptr_nonnull(text);
	pid = strtol(text, NULL, 10);
	free(text);
	return pid;
}

START_TEST(one_host_per_ledger_second_refused)
{
	char want[64], *log = NULL;
	long long t0;
	int rc;

	ck_assert_int_eq(h_start(&d), 0);
	t0 = h_now_ms();
	rc = run_second(10000, &log);
	ck_assert_ptr_nonnull(log);
	ck_assert_msg(rc > 0, "second host: exit %d, log:\n%s", rc, log);
	ck_assert_int_lt(h_now_ms() - t0, 3000);
	snprintf(want, sizeof(want), "PID %d", (int)d.pid);
	ck_assert_msg(strstr(log, want), "no \"%s\" in:\n%s", want, log);
	ck_assert_msg(strstr(log, d.dir), "no data folder in:\n%s", log);
	ck_assert_msg(!strchr(log, '\n') ||
			      !strchr(strchr(log, '\n') + 1, '\n'),
		      "more than one line:\n%s", log);
	free(log);
	/* the first one still serves, and still owns the lock */
	ck_assert_int_eq(h_api(&d, "GET", "/flows", NULL, NULL), 200);
	ck_assert_int_eq(h_hook(&d, "probe", "/", "{\"id\": \"A1\"}"), 200);
	ck_assert(h_wait_status(&d, "relay", "A1", "pending", 5000));
	ck_assert_int_eq(lock_pid(), d.pid);
}
END_TEST

START_TEST(one_host_per_ledger_after_kill9)
{
	pid_t first;

	ck_assert_int_eq(h_start(&d), 0);
	first = d.pid;
	ck_assert_int_eq(lock_pid(), first);
	ck_assert_int_eq(h_hook(&d, "probe", "/", "{\"id\": \"K1\"}"), 200);
	h_stop(&d, SIGKILL);
	/* the stale lock file names a dead host; the next start takes it */
	ck_assert_int_eq(lock_pid(), first);
	ck_assert_int_eq(h_start(&d), 0);
	ck_assert_int_eq(lock_pid(), d.pid);
	ck_assert(h_wait_status(&d, "relay", "K1", "pending", 5000));
	/* and a clean stop leaves it free as well */
	ck_assert_int_eq(h_stop(&d, SIGTERM), 0);
	ck_assert_int_eq(h_start(&d), 0);
}
END_TEST

#define MANY 2500

/* Rows of a `luong docs` table naming a document "T....". */
static int rows(const char *out, int *first, int *last)
{
	int n = 0;

	for (const char *p = out; p && *p;
	     p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (*p != 'T')
			continue;
		if (!n)
			*first = atoi(p + 1);
		*last = atoi(p + 1);
		n++;
	}
	return n;
}

/* The last lines of a long output, for a failure message. */
static const char *tail(const char *out)
{
	size_t n = strlen(out);

	return n > 300 ? out + n - 300 : out;
}

/* The "--after SEQ" of the next-page hint, or -1 if there is none. */
static long long next_after(const char *out, const char *more)
{
	const char *p = strstr(out, more);

	if (!p || !(p = strstr(p, "--after ")))
		return -1;
	return atoll(p + 8);
}

static void post_many(void)
{
	for (int b = 0; b < MANY / 500; b++) {
		size_t cap = 500 * 32 + 32, n;
		char *body = malloc(cap);

		n = (size_t)snprintf(body, cap, "{\"items\": [");
		for (int i = 1; i <= 500; i++)
			n += (size_t)snprintf(body + n, cap - n,
					      "%s{\"id\": \"T%05d\"}",
					      i > 1 ? "," : "", b * 500 + i);
		snprintf(body + n, cap - n, "]}");
		ck_assert_int_eq(h_hook(&d, "probe", "/", body), 200);
		free(body);
	}
}

/* Runs `luong <args>` and checks it lists documents T<first>..T<last>
 * and says that `more` are left (NULL: says nothing is left). Returns the
 * --after of the next page it names, or 0. */
static long long docs_page(const char *args, int first, int last,
			   const char *more)
{
	int f = 0, l = 0, n;
	long long after = 0;
	char *out;

	ck_assert_int_eq(h_luong(&d, &out, args), 0);
	n = rows(out, &f, &l);
	ck_assert_msg(n == last - first + 1 && f == first && l == last,
		      "%s: %d rows T%d..T%d, expected T%d..T%d\n...%s", args, n,
		      f, l, first, last, tail(out));
	if (more) {
		after = next_after(out, more);
		ck_assert_msg(after > 0, "%s: no \"%s\" in:\n...%s", args, more,
			      tail(out));
	} else {
		ck_assert_msg(!strstr(out, "more"), "...%s", tail(out));
	}
	free(out);
	return after;
}

START_TEST(cli_docs_lists_past_1000)
{
	char *out, args[128];
	long long after;

	ck_assert_int_eq(h_start(&d), 0);
	post_many();
	/* by default: every document, none left out */
	docs_page("docs relay", 1, MANY, NULL);
	/* a page: what is left is said, with the command for the next */
	after = docs_page("docs relay --status pending --limit 1000", 1, 1000,
			  "-- 1500 more documents; next page: luong docs relay"
			  " --status pending --after ");
	snprintf(args, sizeof(args), "docs relay --after %lld --limit 1000",
		 after);
	after = docs_page(args, 1001, 2000, "-- 500 more documents");
	snprintf(args, sizeof(args), "docs relay --after %lld --limit 1000",
		 after);
	docs_page(args, 2001, MANY, NULL);
	/* a bad number is named, not taken as 0 */
	ck_assert_int_eq(h_luong(&d, &out, "docs relay --limit 10x"), 2);
	ck_assert_ptr_nonnull(strstr(out, "\"--limit\" 10x"));
	free(out);
}
END_TEST

static Suite *ops_suite(void)
{
	Suite *s = suite_create("ops");
	TCase *tc = tcase_create("ops");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, one_host_per_ledger_second_refused);
	tcase_add_test(tc, one_host_per_ledger_after_kill9);
	tcase_add_test(tc, cli_docs_lists_past_1000);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ops_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}

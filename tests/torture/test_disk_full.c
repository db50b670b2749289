/*
 * test_disk_full.c - the store cannot write. Two ways, both without
 * privileges a root container lacks, except where said:
 *
 * - full: the data folder on a small tmpfs (mount -t tmpfs -o size=16m)
 *   filled up by a file of the test's: writes fail with ENOSPC (SQLite:
 *   SQLITE_FULL). Mounting needs CAP_SYS_ADMIN; where it is refused the
 *   case says so and runs the next way instead.
 * - I/O errors: the host's RLIMIT_FSIZE lowered to 0 (prlimit on its own
 *   child needs nothing special): every write fails with EFBIG (SQLite:
 *   SQLITE_IOERR). The host is started with SIGXFSZ ignored (inherited
 *   from the test): it does not ignore that signal itself.
 *
 * Either way: a webhook the host cannot store is answered 503 with a
 * Retry-After; nothing acknowledged before is lost; once the disk takes
 * writes again the same host process goes on and every note ends with
 * exactly one voucher.
 *
 *   TORTURE_DOCS (20)  notes before, during and after the full disk
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <unistd.h>

#include "torture.h"

enum way { FULL_TMPFS, IO_RLIMIT };

static struct tort t;
static char mnt[64]; /* the tmpfs, made by the unchecked fixture */
static bool mounted;
static int mount_errno;

static void mount_tmpfs(void)
{
	snprintf(mnt, sizeof(mnt), "/tmp/luong-tort-disk-XXXXXX");
	if (!mkdtemp(mnt)) {
		mount_errno = errno;
		return;
	}
	mounted = !mount("tmpfs", mnt, "tmpfs", MS_NOSUID | MS_NODEV,
			 "size=16m,mode=0700");
	mount_errno = mounted ? 0 : errno;
}

/* Runs in the runner's process, so it happens even when a test died. */
static void unmount_tmpfs(void)
{
	if (mounted && umount2(mnt, MNT_DETACH))
		fprintf(stderr, "cannot unmount %s: %s\n", mnt,
			strerror(errno));
	mounted = false;
	rmdir(mnt);
}

static char data_dir[96]; /* this test's, on the tmpfs if there is one */

static void setup(void)
{
	signal(SIGXFSZ, SIG_IGN); /* the host inherits it */
	data_dir[0] = '\0';
	if (mounted) {
		snprintf(data_dir, sizeof(data_dir), "%s/var-XXXXXX", mnt);
		ck_assert_ptr_nonnull(mkdtemp(data_dir));
	}
	tort_setup(&t, data_dir[0] ? data_dir : NULL);
}

static void teardown(void)
{
	char cmd[160];

	tort_teardown(&t);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", data_dir);
	if (data_dir[0] && system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", data_dir);
}

static int filler_fd = -1;

/* The store cannot write from now on. */
static void disk_full(enum way w)
{
	static char block[65536];

	if (w == FULL_TMPFS) {
		char path[128];

		snprintf(path, sizeof(path), "%s/filler", mnt);
		filler_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		ck_assert_int_ge(filler_fd, 0);
		memset(block, 'x', sizeof(block));
		while (write(filler_fd, block, sizeof(block)) > 0)
			;
		ck_assert_int_eq(errno, ENOSPC);
	} else {
		struct rlimit r = { 0, RLIM_INFINITY };

		ck_assert_int_eq(prlimit(t.d.pid, RLIMIT_FSIZE, &r, NULL), 0);
	}
}

static void disk_back(enum way w)
{
	if (w == FULL_TMPFS) {
		char path[128];

		snprintf(path, sizeof(path), "%s/filler", mnt);
		close(filler_fd);
		filler_fd = -1;
		ck_assert_int_eq(unlink(path), 0);
	} else {
		struct rlimit r = { RLIM_INFINITY, RLIM_INFINITY };

		ck_assert_int_eq(prlimit(t.d.pid, RLIMIT_FSIZE, &r, NULL), 0);
	}
}

/* Notes saved in Kho while the disk is full, each also sent straight to
 * the host, until the host refuses one with 503 (the room a store had
 * left in files it already holds may take a few). */
static int refused_while_full(char **notes, int *n, int max, bool *ra)
{
	long st = 0;

	while (*n < max) {
		char id[64];
		cJSON *note;

		notes[*n] = tort_note(&t, false);
		note = tort_kho_note(&t, notes[*n]);
		snprintf(id, sizeof(id), "torture-direct-%s", notes[*n]);
		st = tort_kho_event(&t, note, id, ra);
		cJSON_Delete(note);
		(*n)++;
		ck_assert_msg(st == 200 || st == 503,
			      "a webhook the host "
			      "cannot store was answered %ld",
			      st);
		if (st == 503)
			return 503;
	}
	return (int)st;
}

static void disk_full_run(enum way w)
{
	int docs = (int)tort_env("TORTURE_DOCS", 20), n = 0, before, st;
	int max = docs + 400;
	char **notes = calloc((size_t)max, sizeof(*notes));
	pid_t pid = t.d.pid;
	bool retry_after = false;
	long long t0;

	for (; n < docs / 2; n++)
		notes[n] = tort_note(&t, false);
	before = n;
	ck_assert(tort_wait_all(&t, notes, before, "synced", 30000));
	disk_full(w);
	st = refused_while_full(notes, &n, max, &retry_after);
	ck_assert_msg(st == 503, "%d webhooks stored on a full disk",
		      n - before);
	tort_say("torture_disk_full: refused with 503 after %d notes on the "
		 "full disk",
		 n - before);
	/* acknowledged before: still there, still readable */
	for (int i = 0; i < before; i++) {
		char *s = h_doc_status(&t.d, W3, notes[i]);

		ck_assert_msg(s && !strcmp(s, "synced"),
			      "%s is %s on a full "
			      "disk",
			      notes[i], s ? s : "gone");
		free(s);
	}
	ck_assert_msg(kill(pid, 0) == 0, "the host died on a full disk");
	sleep(1);
	disk_back(w);
	t0 = h_now_ms();
	for (int i = 0; i < docs / 2; i++)
		notes[n++] = tort_note(&t, false);
	/* the ones refused come again from Kho, which retries them */
	ck_assert_msg(tort_wait_all(&t, notes, n, "synced", 30000),
		      "not every note synced once the disk took writes again");
	tort_say("torture_disk_full: %d notes synced %.1f s after the disk "
		 "took writes again",
		 n, (h_now_ms() - t0) / 1000.0);
	usleep(500000);
	tort_assert_one_voucher_each(&t, notes, n, 0);
	ck_assert_int_eq(t.d.pid, pid); /* the same host went on */
	ck_assert_msg(retry_after, "the 503 had no Retry-After");
	ck_assert_int_eq(h_stop(&t.d, SIGTERM), 0);
	for (int i = 0; i < n; i++)
		free(notes[i]);
	free(notes);
}

START_TEST(disk_full_refuses_with_503_loses_nothing_and_goes_on)
{
	if (!mounted) {
		tort_say("torture_disk_full: mount -t tmpfs refused (%s): "
			 "the full disk is emulated with RLIMIT_FSIZE",
			 strerror(mount_errno));
		disk_full_run(IO_RLIMIT);
		return;
	}
	disk_full_run(FULL_TMPFS);
}
END_TEST

START_TEST(io_errors_refuse_with_503_lose_nothing_and_go_on)
{
	disk_full_run(IO_RLIMIT);
}
END_TEST

int main(void)
{
	const TTest *const tests[] = {
		disk_full_refuses_with_503_loses_nothing_and_goes_on,
		io_errors_refuse_with_503_lose_nothing_and_go_on,
	};
	int rc;

	mount_tmpfs();
	rc = tort_run("torture_disk_full", setup, teardown, tests, 2);
	unmount_tmpfs();
	return rc;
}

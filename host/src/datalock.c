/* datalock.c - see datalock.h. flock(2): released on exit, crash or kill -9. */
#define _GNU_SOURCE
#include "datalock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "i18n.h"
#include "util.h"

/* The holder's PID; it may still be writing it, so look a few times. */
static long holder_pid(int fd)
{
	char buf[32];

	for (int i = 0; i < 20; i++) {
		ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
		long pid;

		if (n > 0) {
			buf[n] = '\0';
			pid = strtol(buf, NULL, 10);
			if (pid > 0)
				return pid;
		}
		usleep(10000);
	}
	return 0;
}

static int write_pid(int fd)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

	if (ftruncate(fd, 0) || pwrite(fd, buf, (size_t)n, 0) != n)
		return -1;
	return 0;
}

int datalock_take(const char *data_dir, char *err, size_t errlen)
{
	char *path = util_path_join(data_dir, "luong.lock");
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	long pid;

	if (fd < 0) {
		snprintf(err, errlen, _("cannot open the lock %s: %s"), path,
			 strerror(errno));
		goto fail;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		if (errno != EWOULDBLOCK) {
			snprintf(err, errlen, _("cannot lock %s: %s"), path,
				 strerror(errno));
		} else if ((pid = holder_pid(fd)) > 0) {
			snprintf(err, errlen,
				 _("another host (PID %ld) is "
				   "running with the data folder %s; one host "
				   "per ledger, stop it first"),
				 pid, data_dir);
		} else {
			snprintf(err, errlen,
				 _("another host is running with "
				   "the data folder %s (it holds %s); one host "
				   "per ledger, stop it first"),
				 data_dir, path);
		}
		goto fail;
	}
	if (write_pid(fd)) {
		snprintf(err, errlen, _("cannot write our PID to %s: %s"), path,
			 strerror(errno));
		goto fail;
	}
	free(path);
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	free(path);
	return -1;
}

void datalock_release(int fd)
{
	if (fd >= 0)
		close(fd);
}

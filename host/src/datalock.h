/*
 * datalock.h - one host per ledger: an exclusive lock on the data folder,
 * held for the life of the process and dropped by the kernel when it dies.
 */
#ifndef LUONG_DATALOCK_H
#define LUONG_DATALOCK_H

#include <stddef.h>

/*
 * Locks data_dir/luong.lock and writes our PID into it. Returns the
 * descriptor to keep open, or -1 with a one-line reason in err (naming the
 * PID of the host that holds it). A file left by a killed host is reused:
 * only a live holder blocks.
 */
int datalock_take(const char *data_dir, char *err, size_t errlen);
/* Drops the lock (the file stays, for the next start to reuse). */
void datalock_release(int fd);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/* What leakwatch reads from /proc and from other processes' memory. */
#ifndef LW_PROCFS_H
#define LW_PROCFS_H
#include <stddef.h>
#include <stdint.h>
#include "map_file.h"

/* The thread group of pid (pid may name any thread).  -ENOENT if none. */
int procfs_tgid_of(uint32_t pid, uint32_t *tgid);

/* 0 if tid is a thread of process pid, else -errno (-ENOENT). */
int procfs_thread_of(uint32_t pid, uint32_t tid);

/* futex_waitv: the uaddr of the first struct futex_waitv at waiters, read
 * from the memory of thread pid (any thread of the process: a live one, as
 * a zombie leader has no memory). */
int procfs_read_first_waiter(uint32_t pid, uint64_t waiters, uint64_t *uaddr);

/* len bytes at addr of the memory of thread tid (any live thread of the
 * process): 0, or -errno (-EIO: a short read). */
int procfs_read_memory(uint32_t tid, uint64_t addr, void *buf, size_t len);

/* A file a target process named (in its maps, its debug links, its /tmp),
 * opened read-only only if it is a regular file: a FIFO planted there
 * must not block the open, nor a device or directory be read.  The fd, or
 * -errno (-EINVAL: not a regular file). */
int procfs_open_regular(const char *path);

/* A small file of /proc (opened as procfs_open_regular does), up to len
 * bytes into buf: the count, or -errno. */
int procfs_read_small(const char *path, char *buf, size_t len);

/* The cgroup v2 path of process pid (its /proc/PID/cgroup "0::" line) into
 * path: 0 or -errno (cgroup_parse_proc's; -EFBIG: the file is too long). */
int procfs_read_cgroup(uint32_t pid, char *path, size_t len);

/* Thread tid of process pid as its own pid namespace numbers it (the last
 * field of NSpid): what the process itself calls it (gettid(), CPython's
 * native_thread_id, Go's m.procid).  -ENOENT without NSpid, -errno. */
int procfs_ns_tid_of(uint32_t pid, uint32_t tid, uint32_t *ns_tid);

/* The target of /proc/TID/root (its root as the daemon's namespace names
 * it) into buf.  -errno. */
int procfs_root_link(uint32_t tid, char *buf, size_t len);

/*
 * The file r maps, opened the ways map_file_candidates lists, in order, each
 * only if it is a regular file (never blocking on a FIFO), and one found by
 * its name only if it is the inode mapped (not a file mounted over it, nor
 * one that took its name).  Its path into path, its way into *why (NULL:
 * not wanted).  The fd, or -errno of the last way tried (-ESTALE: another
 * file).
 */
int procfs_open_mapped(const struct map_file_ref *r, char *path, size_t len, int *why);

/* 1 if process pid is in leakwatch's pid namespace, 0 if not, or -errno;
 * *ns (may be NULL): the inode of pid's namespace. */
int procfs_same_pidns(uint32_t pid, uint64_t *ns);

/* The threads of pid, each with its tid as leakwatch sees it and as the
 * process sees it (the last NSpid of its status): *out (malloc'd, *n of
 * them), 0 or -errno. */
struct procfs_nstid {
	uint32_t tid, ns_tid;
};
int procfs_task_nstids(uint32_t pid, struct procfs_nstid **out, size_t *n);

#endif

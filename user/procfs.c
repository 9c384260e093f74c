// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include "cgroup.h"
#include "procfs.h"

int procfs_tgid_of(uint32_t pid, uint32_t *tgid)
{
	char path[64], line[256];
	int err = -ENOENT;
	unsigned int v;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/status", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Tgid: %u", &v) == 1) {
			*tgid = v;
			err = 0;
			break;
		}
	}
	fclose(f);
	return err;
}

int procfs_thread_of(uint32_t pid, uint32_t tid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%u/task/%u", pid, tid);
	return access(path, F_OK) ? -errno : 0;
}

int procfs_read_first_waiter(uint32_t pid, uint64_t waiters, uint64_t *uaddr)
{
	/* struct futex_waitv { __u64 val; __u64 uaddr; __u32 flags; __u32 __reserved; } */
	struct iovec local = { .iov_base = uaddr, .iov_len = sizeof(*uaddr) };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)(waiters + 8),
				.iov_len = sizeof(*uaddr) };

	if (process_vm_readv((pid_t)pid, &local, 1, &remote, 1, 0) != (ssize_t)sizeof(*uaddr))
		return -errno ? -errno : -EIO;
	return 0;
}

int procfs_read_memory(uint32_t tid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { .iov_base = buf, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)addr, .iov_len = len };
	ssize_t n = process_vm_readv((pid_t)tid, &local, 1, &remote, 1, 0);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int procfs_open_regular(const char *path)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	struct stat st;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

/* /proc/PID/cgroup: a line per hierarchy (13 on a hybrid host), each path
 * at most a page in practice; more is cut, and a cut v2 line is refused. */
#define CGROUP_FILE_MAX 16384

int procfs_read_small(const char *path, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;
	int fd = procfs_open_regular(path), err = 0;

	if (fd < 0)
		return fd;
	while (got < len) {
		n = read(fd, buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			break;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	return err ? err : (int)got;
}

int procfs_read_cgroup(uint32_t pid, char *path, size_t len)
{
	char file[64], *text = malloc(CGROUP_FILE_MAX);
	int n, err;

	if (!text)
		return -ENOMEM;
	snprintf(file, sizeof(file), "/proc/%u/cgroup", pid);
	n = procfs_read_small(file, text, CGROUP_FILE_MAX);
	if (n < 0) {
		err = n;
	} else if (n == CGROUP_FILE_MAX) {
		err = -EFBIG;
	} else {
		err = cgroup_parse_proc(text, (size_t)n, path, len);
	}
	free(text);
	return err;
}

int procfs_root_link(uint32_t tid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%u/root", tid);
	n = readlink(path, buf, len);
	if (n < 0)
		return -errno;
	if ((size_t)n >= len)
		return -ENAMETOOLONG;
	buf[n] = '\0';
	return 0;
}

int procfs_open_mapped(const struct map_file_ref *r, char *path, size_t len, int *why)
{
	struct map_file_candidate c[MAP_FILE_WAYS];
	char root[PATH_MAX];
	struct stat st;
	int i, n, fd, err = -ENOENT;

	n = map_file_candidates(r, procfs_root_link(r->tid, root, sizeof(root)) ? NULL : root, c);
	for (i = 0; i < n; i++) {
		fd = procfs_open_regular(c[i].path);
		if (fd < 0) {
			err = fd;
			continue;
		}
		/* A name is only a name: another file may hold it now, in the
		 * process's root or in ours (a mount over it).  The inode
		 * only: maps shows the superblock's device, which stat does
		 * not on btrfs subvolumes or overlayfs. */
		if (c[i].way != MAP_FILE_MAP_FILES && (fstat(fd, &st) || st.st_ino != r->ino)) {
			close(fd);
			err = -ESTALE;
			continue;
		}
		snprintf(path, len, "%s", c[i].path);
		if (why)
			*why = (int)c[i].way;
		return fd;
	}
	return err;
}

/* The last number on the NSpid line of a status file: the tid in the
 * innermost pid namespace. */
static int status_nstid(const char *path, uint32_t *out)
{
	char buf[4096], *line, *s, *last = NULL;
	int n = procfs_read_small(path, buf, sizeof(buf) - 1);
	unsigned long v;

	if (n < 0)
		return n;
	buf[n] = '\0';
	line = strstr(buf, "\nNSpid:");
	if (!line)
		return -ENOENT;
	for (s = line + 7; *s && *s != '\n'; s++)
		if (*s >= '0' && *s <= '9' && (s[-1] == ' ' || s[-1] == '\t' || s[-1] == ':'))
			last = s;
	if (!last)
		return -EINVAL;
	v = strtoul(last, NULL, 10);
	if (!v || v > UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

int procfs_ns_tid_of(uint32_t pid, uint32_t tid, uint32_t *ns_tid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%u/task/%u/status", pid, tid);
	return status_nstid(path, ns_tid);
}

int procfs_same_pidns(uint32_t pid, uint64_t *ns)
{
	struct stat mine, theirs;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%u/ns/pid", pid);
	if (stat(path, &theirs) || stat("/proc/self/ns/pid", &mine))
		return -errno;
	if (ns)
		*ns = (uint64_t)theirs.st_ino;
	return mine.st_dev == theirs.st_dev && mine.st_ino == theirs.st_ino;
}

int procfs_task_nstids(uint32_t pid, struct procfs_nstid **out, size_t *n)
{
	struct procfs_nstid *v = NULL, *nv;
	size_t len = 0, cap = 0;
	char path[96];
	struct dirent *e;
	DIR *dir;

	*out = NULL;
	*n = 0;
	snprintf(path, sizeof(path), "/proc/%u/task", pid);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((e = readdir(dir))) {
		unsigned long tid;
		uint32_t ns;
		char *end;

		tid = strtoul(e->d_name, &end, 10);
		if (!tid || *end || tid > UINT32_MAX)
			continue;
		snprintf(path, sizeof(path), "/proc/%u/task/%lu/status", pid, tid);
		if (status_nstid(path, &ns))
			continue; /* gone since */
		if (len == cap) {
			cap = cap ? 2 * cap : 64;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				closedir(dir);
				return -ENOMEM;
			}
			v = nv;
		}
		v[len++] = (struct procfs_nstid){ .tid = (uint32_t)tid, .ns_tid = ns };
	}
	closedir(dir);
	*out = v;
	*n = len;
	return 0;
}

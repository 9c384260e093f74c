// SPDX-License-Identifier: GPL-2.0
/* The --folded file, replaced atomically: see folded_file.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "folded_file.h"

static int temp_name(const char *path, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s.%d.tmp", path, (int)getpid());

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* A new temporary file: an earlier one of this pid (a crash between open
 * and rename) is taken over. */
static int temp_open(const char *tmp)
{
	int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC;
	int fd = open(tmp, flags, 0644);

	if (fd < 0 && errno == EEXIST && !unlink(tmp))
		fd = open(tmp, flags, 0644);
	return fd < 0 ? -errno : fd;
}

/* The directory a path's last component is in, into dir. */
static int dir_of(const char *path, char *dir, size_t len)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	if (!slash)
		return snprintf(dir, len, ".") < (int)len ? 0 : -ENAMETOOLONG;
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= len)
		return -ENAMETOOLONG;
	memcpy(dir, path, n);
	dir[n] = '\0';
	return 0;
}

/*
 * A symbolic link is followed only if it is ours or its directory owner's
 * (the kernel's fs.protected_symlinks rule, which may be off): a link that
 * another user planted where it could write (/tmp, a service's own
 * directory) must not make leakwatch, root, replace the file it names.
 */
static int link_trusted(const char *path, const struct stat *link)
{
	char dir[PATH_MAX];
	struct stat d;
	int err;

	if (link->st_uid == geteuid())
		return 0;
	err = dir_of(path, dir, sizeof(dir));
	if (err)
		return err;
	if (stat(dir, &d))
		return -errno;
	return link->st_uid == d.st_uid ? 0 : -EPERM;
}

int folded_file_prepare(const char *path, char *resolved, size_t len)
{
	char real[PATH_MAX], tmp[PATH_MAX];
	struct stat st;
	int fd, err;

	if (!lstat(path, &st) && S_ISLNK(st.st_mode)) {
		err = link_trusted(path, &st);
		if (err)
			return err;
	}
	if (!stat(path, &st)) {
		if (!S_ISREG(st.st_mode))
			return -EINVAL;
		if (!realpath(path, real))
			return -errno;
		path = real;
	} else if (errno != ENOENT) {
		return -errno;
	}
	if (strlen(path) >= len)
		return -ENAMETOOLONG;
	strcpy(resolved, path);
	err = temp_name(resolved, tmp, sizeof(tmp));
	if (err)
		return err;
	fd = temp_open(tmp);
	if (fd < 0)
		return fd;
	close(fd);
	unlink(tmp);
	return 0;
}

int folded_file_write(const char *path, struct folded *f)
{
	char tmp[PATH_MAX];
	struct stat st;
	FILE *out;
	int fd, err;

	if (!lstat(path, &st) && !S_ISREG(st.st_mode))
		return -EINVAL;
	err = temp_name(path, tmp, sizeof(tmp));
	if (err)
		return err;
	fd = temp_open(tmp);
	if (fd < 0)
		return fd;
	out = fdopen(fd, "w");
	if (!out) {
		err = -errno;
		close(fd);
		goto cleanup;
	}
	errno = 0;
	err = folded_write(f, out);
	/* The stream's own failure says why (ENOSPC, EDQUOT, ...). */
	if (err == -EIO && errno)
		err = -errno;
	if (!err && fsync(fd))
		err = -errno;
	if (fclose(out) && !err)
		err = errno ? -errno : -EIO;
	if (!err && rename(tmp, path))
		err = -errno;
cleanup:
	if (err)
		unlink(tmp);
	return err;
}

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

int folded_file_prepare(const char *path, char *resolved, size_t len)
{
	char real[PATH_MAX], tmp[PATH_MAX];
	struct stat st;
	int fd, err;

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

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The --folded file: replaced whole each time (at exit, on SIGUSR1), by a
 * temporary file beside it ("FILE.PID.tmp") renamed over it, so that a
 * reader sees the old file or the new one, never half of one.  Never opens
 * FILE itself: a FIFO with no reader cannot block the write, and a path that
 * is not a regular file (a FIFO, a device such as /dev/full, a directory) is
 * refused, not replaced.
 */
#ifndef LW_FOLDED_FILE_H
#define LW_FOLDED_FILE_H
#include <stddef.h>
#include "folded.h"

/*
 * At start: path with its symbolic links followed (the file they name is
 * replaced, not the link) into resolved (len bytes), and a check that a
 * file can be made beside it.  Returns 0; -EINVAL if path exists and is not
 * a regular file; -EPERM if path is a symbolic link owned neither by the
 * user leakwatch runs as nor by its directory's owner (not followed); -ENAMETOOLONG; or the -errno of making the temporary file
 * (-ENOENT: no such directory, -EACCES, -EROFS, ...).
 */
int folded_file_prepare(const char *path, char *resolved, size_t len);

/* Writes f's lines to path (as folded_file_prepare resolved it).  Returns 0,
 * -EINVAL (path is no longer a regular file), -ENOMEM, or the -errno of the
 * failed write, sync or rename (-ENOSPC, -EDQUOT, -EIO, ...); the temporary
 * file is removed then, and path left as it was. */
int folded_file_write(const char *path, struct folded *f);

#endif

// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include "scan.h"

int scan_read(const struct lw_bpf *b, struct lw_scan *s)
{
	int fd, err = 0;
	ssize_t n;

	fd = loader_iter_fd(b);
	if (fd < 0)
		return fd;
	s->len = 0;
	/* seq_file hands out the records in pieces of its own size: read to
	 * EOF, then parse whole records. */
	for (;;) {
		if (s->cap - s->len < 64 * 1024) {
			size_t cap = s->cap ? s->cap * 2 : 256 * 1024;
			char *buf = realloc(s->buf, cap);

			if (!buf) {
				err = -ENOMEM;
				break;
			}
			s->buf = buf;
			s->cap = cap;
		}
		n = read(fd, s->buf + s->len, s->cap - s->len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		if (n == 0)
			break;
		s->len += (size_t)n;
	}
	close(fd);
	return err;
}

size_t scan_count(const struct lw_scan *s)
{
	return s->len / sizeof(struct lw_task_rec);
}

const struct lw_task_rec *scan_record(const struct lw_scan *s, size_t i)
{
	return (const struct lw_task_rec *)(s->buf + i * sizeof(struct lw_task_rec));
}

void scan_free(struct lw_scan *s)
{
	free(s->buf);
	s->buf = NULL;
	s->len = s->cap = 0;
}

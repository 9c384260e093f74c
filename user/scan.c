// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "scan.h"

int scan_read(struct lw_bpf *b, struct lw_scan *s)
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

/* The record at off, if a whole one of its type is there. */
static const void *record_at(const struct lw_scan *s, size_t off, uint32_t *type, size_t *size)
{
	if (s->len - off < sizeof(uint32_t))
		return NULL;
	memcpy(type, s->buf + off, sizeof(*type));
	switch (*type) {
	case LW_REC_TASK:
		*size = sizeof(struct lw_task_rec);
		break;
	case LW_REC_KSTACK:
		*size = sizeof(struct lw_kstack_rec);
		break;
	default:
		return NULL;
	}
	return s->len - off >= *size ? s->buf + off : NULL;
}

int scan_next(const struct lw_scan *s, size_t *off, struct lw_scan_item *item)
{
	const void *rec;
	uint32_t type;
	size_t size;

	if (*off >= s->len)
		return 0;
	rec = record_at(s, *off, &type, &size);
	if (!rec || type != LW_REC_TASK)
		return -EPROTO;
	item->task = rec;
	item->kstack = NULL;
	*off += size;
	if (item->task->flags & LW_TF_NEW_STUCK) {
		rec = record_at(s, *off, &type, &size);
		if (rec && type == LW_REC_KSTACK) {
			item->kstack = rec;
			*off += size;
		}
	}
	return 1;
}

void scan_free(struct lw_scan *s)
{
	free(s->buf);
	s->buf = NULL;
	s->len = s->cap = 0;
}

// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include "buf.h"

void buf_free(struct lw_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

int buf_printf(struct lw_buf *b, const char *fmt, ...)
{
	va_list args;
	int n;

	for (;;) {
		size_t room = b->cap - b->len;

		va_start(args, fmt);
		n = vsnprintf(b->data ? b->data + b->len : NULL, room, fmt, args);
		va_end(args);
		if (n < 0)
			return -EINVAL;
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return 0;
		}
		size_t cap = b->cap ? b->cap * 2 : 16384;
		while (cap - b->len <= (size_t)n)
			cap *= 2;
		char *data = realloc(b->data, cap);
		if (!data)
			return -ENOMEM;
		b->data = data;
		b->cap = cap;
	}
}

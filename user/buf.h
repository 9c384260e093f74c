/* SPDX-License-Identifier: GPL-2.0 */
/* A growing text buffer (the metrics page, rendered once, served many times). */
#ifndef LW_BUF_H
#define LW_BUF_H
#include <stddef.h>

struct lw_buf {
	char *data;
	size_t len, cap;
};

/* Appends printf-style text.  Returns 0, -EINVAL or -ENOMEM. */
int buf_printf(struct lw_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_free(struct lw_buf *b);

#endif

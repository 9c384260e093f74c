/* SPDX-License-Identifier: GPL-2.0 */
/* One scan: every watched thread, read from iter/task in one go. */
#ifndef LW_SCAN_H
#define LW_SCAN_H
#include <stddef.h>
#include "leakwatch.h"
#include "loader.h"

struct lw_scan {
	char *buf;
	size_t len, cap;
};

/* One thread of a scan, and its kernel stack if the scan marked it stuck. */
struct lw_scan_item {
	const struct lw_task_rec *task;
	const struct lw_kstack_rec *kstack; /* NULL unless LW_TF_NEW_STUCK */
};

/* Reads a whole scan into s (reusing its buffer).  Returns 0 or -errno. */
int scan_read(struct lw_bpf *b, struct lw_scan *s);
/* for (off = 0; (err = scan_next(s, &off, &item)) > 0; ) ...  Returns 1, 0
 * at the end, or -EPROTO for a record this build does not know. */
int scan_next(const struct lw_scan *s, size_t *off, struct lw_scan_item *item);
void scan_free(struct lw_scan *s);

#endif

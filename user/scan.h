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

/* Reads a whole scan into s (reusing its buffer).  Returns 0 or -errno. */
int scan_read(const struct lw_bpf *b, struct lw_scan *s);
size_t scan_count(const struct lw_scan *s);
const struct lw_task_rec *scan_record(const struct lw_scan *s, size_t i);
void scan_free(struct lw_scan *s);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the tracker tells the outputs: one struct per record of DESIGN.md
 * section 3.  The outputs (json_out.c, text_out.c) only format it.
 */
#ifndef LW_REPORT_H
#define LW_REPORT_H
#include <stdbool.h>
#include <stdint.h>
#include "wait_kind.h"

enum lw_report_type {
	LW_RPT_STUCK,
	LW_RPT_UNSTUCK,
	LW_RPT_SAMPLE,
	LW_RPT_EXIT,
	LW_RPT_SUMMARY,
};

/* Losses by cause, as reported in `summary`. */
struct lw_drops {
	uint64_t ringbuf;      /* ring buffer full: records dropped in the kernel */
	uint64_t task_storage; /* task storage not created: a thread not stamped */
	uint64_t targets;      /* child processes not added to the targets map */
	uint64_t tracker;      /* user-space table insert failed (out of memory) */
	uint64_t unstuck_inexact; /* a wait's end seen by a scan, not by its record */
};

static inline uint64_t lw_drops_total(const struct lw_drops *d)
{
	return d->ringbuf + d->task_storage + d->targets + d->tracker;
}

struct lw_report {
	enum lw_report_type type;
	double ts; /* Unix seconds */
	uint32_t pid;
	uint32_t tid;
	const char *comm;  /* thread name: raw bytes, NUL-terminated */
	const char *pcomm; /* process name */
	/* stuck, unstuck */
	char state;        /* 'S' or 'D' */
	double blocked_s;
	bool since_exact;  /* stuck: blocked_s is exact, not a lower bound */
	bool end_exact;    /* unstuck: the end of the wait was seen by its record */
	const struct lw_wait *wait;
	/* sample */
	uint32_t threads, blocked, stuck;
	/* summary */
	double duration_s;
	uint64_t events;
	const struct lw_drops *drops;
};

struct lw_sink {
	void (*emit)(void *ctx, const struct lw_report *r);
	void *ctx;
};

#endif

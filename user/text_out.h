/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The text view.  Not on a terminal: one line per event (a sample line only
 * when a process's counts change).  On a terminal: a table redrawn every
 * interval, process counts on top, stuck threads below, longest first.
 */
#ifndef LW_TEXT_OUT_H
#define LW_TEXT_OUT_H
#include <stdbool.h>
#include <stdio.h>
#include "report.h"
#include "id_map.h"
#include "tracker.h"

struct text_out {
	FILE *f;
	bool table;            /* redraw a table (stdout is a terminal) */
	unsigned int max_rows; /* stuck threads shown in the table */
	uint64_t threshold_ns, interval_ns;
	struct id_map last_counts; /* pid -> last sample printed, for line mode */
};

void text_out_init(struct text_out *o, FILE *f, bool table, uint64_t threshold_ns,
		   uint64_t interval_ns);
void text_out_free(struct text_out *o);

/* A struct lw_sink emit function; ctx is the struct text_out. */
void text_emit(void *ctx, const struct lw_report *r);

/* Table mode: redraws the table from the tracker's state. */
void text_render(struct text_out *o, const struct lw_tracker *t, double now_unix);

/* A leak or spin as one line, for the journal: where, not the whole stack. */
void text_log_line(FILE *f, const struct lw_report *r);

/* At the end of a run: every site flagged as a leak, with its stacks. */
void text_leak_report(FILE *f, const struct lw_tracker *t, uint64_t threshold_ns);

/* Thread names for a terminal: valid UTF-8, control bytes as '?'. */
void text_clean_name(const char *in, char *out);

#endif

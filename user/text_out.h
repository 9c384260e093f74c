/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The text view.  Not on a terminal: one line per event (a sample line only
 * when a process's counts change).  On a terminal: a table redrawn every
 * interval, fitted to the terminal: the process counts on top, then the
 * sites (with their LEAK marks), spinning threads, and as many stuck threads
 * (longest first) as the rows left hold; a section cut short ends with
 * "... and N more", and every line is cut to the width.
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
	unsigned int rows, cols; /* the terminal's size; 0: no limit */
	bool drawn;            /* a table is on screen, its last line without '\n' */
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

/* Table mode: reads the terminal's size (TIOCGWINSZ on the output): at
 * start and on SIGWINCH.  Returns 0 or -errno (then the size stays). */
int text_out_query_size(struct text_out *o);

/* The table's layout, apart from the tracker: how many rows each section
 * has, and how many of them fit. */
#define TEXT_TABLE_SITES 10 /* sites shown at most, whatever the screen */

struct text_table_counts {
	size_t procs, sites, spins, threads;
	size_t site_frames[TEXT_TABLE_SITES]; /* stack lines under each site */
};

struct text_table_plan {
	/* rows shown, and how many more a "... and N more" line counts */
	size_t procs, procs_more;
	bool sites_shown; /* with a blank line and a column header */
	size_t sites, sites_more;
	size_t frames; /* stack lines, given to the sites in order */
	bool spins_shown;
	size_t spins, spins_more;
	bool threads_shown;
	size_t threads, threads_more;
};

/*
 * What fits in screen_rows lines (0: no limit): the title and the process
 * header always; then process rows, leaving room for the least of each later
 * section (a blank line, its header, one line); then the sites, their stack
 * lines, the spinning threads, and last as many stuck threads as fit.
 */
void text_table_fit(unsigned int screen_rows, const struct text_table_counts *c,
		    struct text_table_plan *p);

/* A leak or spin as one line, for the journal: where, not the whole stack. */
void text_log_line(FILE *f, const struct lw_report *r);

/* At the end of a run: every site flagged as a leak, with its stacks. */
void text_leak_report(FILE *f, const struct lw_tracker *t, uint64_t threshold_ns);

/* Thread names for a terminal: valid UTF-8, control bytes as '?'. */
void text_clean_name(const char *in, char *out);
/* The same for longer text (paths, reasons): at most max bytes of in; out
 * holds 3 * max + 1. */
void text_clean(const char *in, size_t max, char *out);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Folded stacks (--folded FILE): the stuck threads and goroutines as the
 * lines flamegraph.pl, inferno and speedscope read,
 *
 *   pcomm;root frame;...;leaf frame;[wait: KIND] WEIGHT
 *
 * one line per distinct stack, root (outermost) first.  The weight is the
 * number of waiters with that stack, or with weight_time their blocked
 * milliseconds (each waiter at least 1): integers, because speedscope's
 * importer skips a line whose count is not one (flamegraph.pl takes both).
 *
 * A frame shows its function only: flame graphs merge boxes of equal text,
 * and an offset or a line would split one function into a box per call
 * site (the JSON stacks keep those).  Annotations as stackcollapse-perf.pl
 * writes them, which flamegraph.pl colours: "_[k]" kernel, "_[j]" JIT,
 * "_[i]" an inlined call (a frame of its own).  Python frames add their
 * file's base name, "handle (app.py)": Python names are not qualified, and
 * every "run" would merge.  A frame with no function: "[module]", or
 * "[unknown]".  A thread's stack is its user stack, then its kernel stack;
 * a goroutine's its Go stack.  The leaf names the wait ("[wait: futex]",
 * "[wait: chan receive]"), so that the graph shows what each pile waits in;
 * a stack cut at LW_STACK_MAX frames starts with "[truncated]"; a waiter
 * with no site has pcomm and its wait only.
 *
 * Text from the target (process names, symbols) is made safe for the
 * format: ';' (the frame separator) becomes ':', control characters '?'.
 * The count is after the last space, so spaces in frames are fine for all
 * three readers.
 *
 * Plain C: lines are rendered once per (site, process name, wait), when
 * first added; the views need not outlive folded_add.
 */
#ifndef LW_FOLDED_H
#define LW_FOLDED_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "tracker.h"

struct folded;

int folded_new(bool weight_time, struct folded **out);
void folded_free(struct folded *f);

/* One stuck waiter.  Returns 0 or -ENOMEM (then f must not be written: a
 * file that lacks a waiter would not match the stuck counts). */
int folded_add(struct folded *f, const struct lw_waiter_view *v);

/* Every line, sorted by stack; lines of equal text (two sites that differ
 * only in offsets) merged.  Returns 0, -ENOMEM or -EIO. */
int folded_write(struct folded *f, FILE *out);

/* Waiters added so far, and their total weight. */
size_t folded_waiters(const struct folded *f);
uint64_t folded_total(const struct folded *f);

/* The text of one frame as a line shows it, into buf (NUL-terminated, cut
 * to len). */
void folded_frame_text(const struct lw_frame *fr, char *buf, size_t len);

#endif

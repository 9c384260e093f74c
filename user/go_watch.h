/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Which watched processes are Go, and their goroutine scans.  Every process
 * a scan shows (the -p targets and their children, or host-wide all of
 * them) is looked at once per life (pid and start time: pids are reused;
 * again when its name changes: an exec): is /proc/PID/exe a Go binary?  If
 * so the binary is read once (go_binary_open), shared by every process of
 * it (by device, inode and mtime), and freed with the last; then the process
 * is opened (go_process_open).  A Go binary that cannot be read is said once
 * per binary for the run.  Executables found not to be Go are remembered
 * (bounded), so that a host that starts many short processes probes each
 * executable once.
 *
 * Each tick, go_watch_scan reads the goroutines of every Go process whose
 * turn it is.  A process whose scans cost more than GO_WATCH_BUDGET_PCT of
 * one core over the interval is scanned every k-th tick only, k chosen so
 * that its scans stay within that share.
 *
 * Daemon side (reads /proc, opens files, reads other processes); it does
 * not log: what it finds goes to the callbacks, and leakwatch.c says it.
 */
#ifndef LW_GO_WATCH_H
#define LW_GO_WATCH_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "go_scan.h"

/* A process's goroutine scans may take this share of one core. */
#define GO_WATCH_BUDGET_PCT 10
/* Scanned at least once per this many ticks, however costly. */
#define GO_WATCH_MAX_STRETCH 600

/*
 * Every how many ticks to scan a process whose scans take scan_ns (a
 * smoothed cost) at this interval: 1 when within the budget, else the least
 * k with scan_ns <= k * budget, at most GO_WATCH_MAX_STRETCH.
 */
static inline uint32_t go_watch_stretch(uint64_t scan_ns, uint64_t interval_ns)
{
	uint64_t budget = interval_ns / 100 * GO_WATCH_BUDGET_PCT, k;

	if (!budget)
		budget = 1;
	k = (scan_ns + budget - 1) / budget;
	if (k < 1)
		k = 1;
	return k > GO_WATCH_MAX_STRETCH ? GO_WATCH_MAX_STRETCH : (uint32_t)k;
}

/* A Go process found, readable or not. */
struct go_watch_found {
	uint32_t pid;
	const char *pcomm;
	const char *exe;      /* its executable's path (as /proc/PID/exe names it) */
	const char *version;  /* "go1.21.3"; "" when not even that was read */
	const char *layout;   /* "DWARF", "table go1.21": readable */
	const char *error;    /* why not readable, or NULL */
	bool first_of_binary; /* error: the first process of this binary (say it once) */
	int err;              /* error: -ENOTSUP (a binary we cannot read), or the -errno
			       * of reading it or opening the process (-EPERM, ...) */
};

struct go_watch_ops {
	void (*found)(void *ctx, const struct go_watch_found *f);
	/* A process's goroutine scan interval changed: every `every` ticks
	 * now, its last scan having taken scan_ns. */
	void (*stretched)(void *ctx, uint32_t pid, uint32_t every, uint64_t scan_ns);
	/* One scan of pid's goroutines (gs valid during the call). */
	void (*scanned)(void *ctx, uint32_t pid, const struct go_goroutine *gs, size_t n);
	/* pid's goroutines were not read this tick (not its turn, or -EIO,
	 * -EAGAIN, another error): what was known stands. */
	void (*unread)(void *ctx, uint32_t pid, int err);
	/* pid, read until now, is no longer (it exec'd another program):
	 * what was known of its goroutines is no more. */
	void (*gone)(void *ctx, uint32_t pid);
	void *ctx;
};

struct go_watch;

int go_watch_new(const struct go_watch_ops *ops, struct go_watch **out);
void go_watch_free(struct go_watch *w);

/* A process seen by a scan, with its name there.  Cheap for a known one;
 * a new one (or a known one renamed) is probed now. */
void go_watch_see(struct go_watch *w, uint32_t pid, const char *pcomm);
/* The process exited: its go_process goes (and its binary with the last). */
void go_watch_forget(struct go_watch *w, uint32_t pid);

/* One tick: scans the Go processes whose turn it is (the ops say what
 * came of each).  interval_ns: the tick's period, for the cost budget.
 * only_new: only those opened since the last call (found by this tick's
 * go_watch_see calls), so that a process's first sample has its goroutines. */
void go_watch_scan(struct go_watch *w, uint64_t interval_ns, bool only_new);

/* pid's go_process, or NULL (not Go, not readable, gone). */
struct go_process *go_watch_process(const struct go_watch *w, uint32_t pid);
/* pid's goroutine scan period in ticks (1: every tick); 0 if not read. */
uint32_t go_watch_every(const struct go_watch *w, uint32_t pid);

/* Every open process's counters, summed (the losses of processes that
 * exited included), and the Go processes open now. */
void go_watch_stats(const struct go_watch *w, struct go_scan_stats *sum, size_t *processes);

/* The open processes one by one: for (i = 0; go_watch_next(w, &i, &pid, &p);) */
bool go_watch_next(const struct go_watch *w, size_t *pos, uint32_t *pid,
		   const struct go_process **p);

#endif

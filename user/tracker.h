/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The thread table: per-thread blocking episodes and per-process counts,
 * fed by scans (iter/task records) and ring-buffer records, and turned into
 * stuck, unstuck, sample and exit reports.  Plain C: no libbpf, no globals,
 * no clock reads (time comes in the records), so unit tests drive it.
 */
#ifndef LW_TRACKER_H
#define LW_TRACKER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "clock.h"
#include "leakwatch.h"
#include "report.h"
#include "sites.h"
#include "thread_table.h"
#include "trend.h"
#include "wait_kind.h"

/* Stacks come from outside (libdwfl, kallsyms): tests pass fakes or none. */
struct lw_stack_ops {
	/* User pcs of the thread of r, innermost first: count, or -errno. */
	int (*unwind)(void *ctx, const struct lw_task_rec *r, uint64_t *pcs, int max);
	/* Text of a user frame; first: pcs[0], not a return address. */
	void (*symbolize_user)(void *ctx, uint32_t pid, uint64_t pc, bool first, char *buf,
			       size_t len);
	void (*symbolize_kernel)(void *ctx, uint64_t pc, char *buf, size_t len);
	/* The process is gone: drop what is cached for it. */
	void (*forget)(void *ctx, uint32_t pid);
	void *ctx;
};

/* Caps that keep memory bounded over days; what is past them is counted. */
#define LW_MAX_PROCESSES 65536
#define LW_MAX_THREADS (1u << 20)

struct lw_tracker_opts {
	uint64_t threshold_ns;
	bool host_wide; /* no targets: samples only for processes with stuck threads */
	struct lw_clock clock;
	struct lw_restart_fns restart_fns;
	int (*read_first_waiter)(uint32_t pid, uint64_t waiters, uint64_t *uaddr);
	struct lw_stack_ops stacks;
	struct trend_opts trend; /* zeroes: TREND_OPTS_DEFAULT */
	struct lw_sink sink;
};

/* One thread that is, or was at the last scan, blocked. */
struct lw_thread {
	uint32_t tid, pid;
	char comm[LW_COMM_LEN + 1];
	uint64_t since_ns;   /* start of the current (or last) wait */
	uint64_t seen_ns;    /* last scan that saw this wait */
	uint64_t gen;        /* last scan that saw this thread */
	char state;          /* 'S' or 'D' */
	bool since_exact;
	bool stuck;          /* a stuck report went out for this wait */
	bool end_pending;    /* a scan saw the wait end; its record may follow */
	struct lw_wait wait;
	struct lw_site *site; /* where it is stuck; NULL if not tracked */
	/* Spins: runnable at each scan, and no voluntary switch since run_since. */
	uint64_t nvcsw;
	uint64_t run_since_ns; /* 0: not running at the last scan */
	bool spin_reported;
};

struct lw_process {
	uint32_t pid;
	char pcomm[LW_COMM_LEN + 1];
	uint32_t threads, blocked, stuck; /* at the last scan */
	uint64_t gen;   /* last scan that saw it */
	bool target;    /* watched by -p or as a child of a watched process */
	bool root;      /* -p or the command itself: kept after its exit */
	bool reported;  /* a record named it: its exit is reported too */
	bool exited;
	struct lw_site_table sites;
	struct trend *threads_trend; /* thread counts, one per scan */
};

struct lw_tracker {
	struct lw_tracker_opts opts;
	struct id_map threads;   /* tid -> struct lw_thread */
	struct id_map processes; /* pid -> struct lw_process */
	uint64_t gen;            /* scans so far */
	uint64_t now_ns;         /* time of the current scan */
	uint64_t last_scan_ns;   /* time of the scan before */
	unsigned int n_targets, n_targets_exited; /* roots only */
	uint64_t insert_failures;
	uint64_t unstuck_inexact;
	uint64_t stacks_unreadable, kstacks_unreadable, sites_untracked;
	uint64_t processes_untracked, threads_untracked;
	struct trend_scratch *trend_scratch; /* shared by every trend */
	uint32_t last_site_id;
	unsigned int leaks; /* leak reports so far */
	unsigned int spins; /* spin reports so far */
};

int tracker_new(const struct lw_tracker_opts *opts, struct lw_tracker **out);
void tracker_free(struct lw_tracker *t);

/* A process to watch (-p, or a child of a watched process). */
int tracker_add_target(struct lw_tracker *t, uint32_t pid);

/* A scan: begin, one call per task record, end (emits samples and exits). */
void tracker_scan_begin(struct lw_tracker *t);
void tracker_scan_task(struct lw_tracker *t, const struct lw_task_rec *r,
		       const struct lw_kstack_rec *kstack);
void tracker_scan_end(struct lw_tracker *t);

/* Ring-buffer records. */
void tracker_event(struct lw_tracker *t, const struct lw_event *e);

/* Every target exited (never true host-wide). */
bool tracker_targets_gone(const struct lw_tracker *t);

/* Losses and unreadable stacks counted by the tracker, into d. */
void tracker_drops(const struct lw_tracker *t, struct lw_drops *d);

/* Threads stuck now, longest first, into out (up to max); returns the count. */
size_t tracker_stuck_threads(const struct lw_tracker *t, const struct lw_thread **out,
			     size_t max);

#endif

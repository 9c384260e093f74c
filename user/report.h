/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the tracker tells the outputs: one struct per record of DESIGN.md
 * section 3.  The outputs (json_out.c, text_out.c) only format it.
 */
#ifndef LW_REPORT_H
#define LW_REPORT_H
#include <stdbool.h>
#include <stdint.h>
#include "cgroup.h"
#include "lock_wait.h"
#include "sites.h"
#include "wait_kind.h"

enum lw_report_type {
	LW_RPT_STUCK,
	LW_RPT_UNSTUCK,
	LW_RPT_SAMPLE,
	LW_RPT_EXIT,
	LW_RPT_SUMMARY,
	LW_RPT_SITE,  /* a wait site seen for the first time: its stacks */
	LW_RPT_LEAK,  /* the stuck count at a site keeps growing */
	LW_RPT_SPIN,  /* a thread ran without blocking for longer than the threshold */
	LW_RPT_GO,    /* a Go process found: its Go version, whether its goroutines are read */
	LW_RPT_PYTHON, /* a CPython process found: its version, whether its stacks are read */
	LW_RPT_DEADLOCK, /* threads that wait for each other's locks, in a cycle */
};

/* Losses by cause, as reported in `summary`. */
struct lw_drops {
	uint64_t ringbuf;      /* ring buffer full: records dropped in the kernel */
	uint64_t task_storage; /* task storage not created: a thread not stamped */
	uint64_t targets;      /* child processes not added to the targets map */
	uint64_t tracker;      /* user-space table insert failed (out of memory) */
	uint64_t unstuck_inexact; /* a wait's end seen by a scan, not by its record */
	uint64_t stacks_unreadable;  /* user stacks that could not be unwound */
	uint64_t kstacks_unreadable; /* kernel stacks the scan did not get */
	uint64_t python_stacks_unreadable; /* Python threads shown with native frames only */
	uint64_t lock_owners_unreadable; /* locks of stuck threads whose memory could not be read */
	uint64_t sites_untracked;    /* sites past LW_MAX_SITES_PER_PROCESS */
	uint64_t processes_untracked; /* processes past LW_MAX_PROCESSES */
	uint64_t threads_untracked;  /* threads past LW_MAX_THREADS */
	/* Goroutines.  The first three come from the goroutine scans
	 * (struct go_scan_stats), the last from the tracker. */
	uint64_t gs_invalid;             /* g structs that did not validate: skipped */
	uint64_t gs_unread;              /* gs past the scan's cap, or a failed read */
	uint64_t goroutine_stacks_moved; /* walks that did not end at goexit: retried */
	uint64_t goroutines_untracked;   /* goroutines past LW_MAX_GOROUTINES */
	/* Cgroups (from the tracker): processes shown without one */
	uint64_t cgroups_unread;    /* /proc/PID/cgroup could not be read or parsed */
	uint64_t cgroups_untracked; /* past LW_MAX_CGROUPS_TRACKED (or out of memory) */
};

/* Records or state lost.  Unreadable stacks and untracked sites are counted
 * apart: the threads are still reported, with less detail. */
static inline uint64_t lw_drops_total(const struct lw_drops *d)
{
	return d->ringbuf + d->task_storage + d->targets + d->tracker;
}

/* Who the stuck waiters at a leaking site wait for in the end, through the
 * locks they wait on (a convoy behind one holder). */
struct lw_lock_holder {
	uint32_t tid;
	const char *comm;       /* "" if the holder is no thread seen blocked */
	uint32_t waiters;       /* the site's stuck waiters that wait for it */
	uint32_t hops;          /* locks between the first of them and it (1: its own) */
	const struct lw_lock *lock; /* the lock the first of them waits on */
	bool blocked;           /* the holder is blocked itself, at the last scan */
	double blocked_s;
	const struct lw_wait *wait; /* blocked: what it waits in */
	const struct lw_site *site; /* stuck: where, with its stack; else NULL */
};

/* One thread of a deadlock cycle: it waits for lock, which the next
 * member (the first, after the last) holds. */
struct lw_deadlock_member {
	uint32_t tid;
	const char *comm;
	const struct lw_lock *lock;
	const struct lw_site *site; /* NULL if not tracked */
	double blocked_s;
};

struct lw_report {
	enum lw_report_type type;
	double ts; /* Unix seconds */
	uint32_t pid;
	uint32_t tid;      /* a goroutine's: only when it is on a thread now; else 0 */
	/* stuck, unstuck: the goroutine (0: the report is about a thread);
	 * spin: the goroutine running on the spinning thread, 0 if none known;
	 * site: the goroutine that found a goroutine site (leak: none) */
	uint64_t goid;
	const char *func;       /* goid: the function it started in, NULL if unknown */
	const char *created_by; /* goid: "main.queryAll (/src/main.go:19)", NULL if unknown */
	const char *comm;  /* thread name: raw bytes, NUL-terminated */
	const char *pcomm; /* process name */
	const struct lw_cgroup *cgroup; /* the process's cgroup; NULL if unknown */
	/* stuck, unstuck */
	char state;        /* 'S' or 'D' */
	double blocked_s;
	bool since_exact;  /* stuck: blocked_s is exact, not a lower bound */
	bool end_exact;    /* unstuck: the end of the wait was seen by its record */
	const struct lw_wait *wait;
	const struct lw_site *site;  /* stuck, site, leak */
	const struct lw_lock *lock;  /* stuck: the lock it waits for; NULL: not a lock wait */
	const struct lw_lock_holder *holder; /* leak: who its waiters wait for; NULL: none known */
	/* deadlock: the cycle, from its smallest tid; n_cycle members */
	const struct lw_deadlock_member *cycle;
	uint32_t n_cycle;
	/* deadlock: the threads in the cycle (n_cycle of them shown, the
	 * first LW_DEADLOCK_MEMBERS_MAX); 0: n_cycle */
	uint32_t cycle_threads;
	/* leak */
	double growth_per_min;
	/* spin */
	double running_s;
	const struct lw_stack_text *stack; /* spin */
	/* sample; leak: threads (and goroutines) of the process */
	uint32_t threads, blocked, stuck;
	/* sample, leak: a Go process whose goroutines are read; the counts
	 * leave out the runtime's own goroutines (as runtime.NumGoroutine) */
	bool go;
	uint32_t goroutines, goroutines_blocked, goroutines_stuck;
	/* sample of a Go process: its goroutines are read this often (longer than
	 * the interval when its scans cost too much); 0: not read */
	double goroutine_scan_interval_s;
	/* go: the executable, its Go version, where the layout of runtime.g
	 * came from ("DWARF", "table go1.21"); go_error: why its goroutines
	 * cannot be read (then no layout) */
	const char *exe;
	const char *go_version, *go_layout, *go_error;
	/* python: the same for a CPython process (layout: "table 3.11",
	 * "_Py_DebugOffsets"); py_error: why its Python stacks are not read */
	const char *py_version, *py_layout, *py_error;
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

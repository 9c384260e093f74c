/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The tracker: the table of waiters (threads and goroutines) and their
 * blocking episodes, and per-process counts, fed by scans (iter/task records,
 * the goroutines a goroutine scan read) and ring-buffer records, and turned
 * into stuck, unstuck, site, leak, spin, sample and exit reports.  Plain C:
 * no libbpf, no /proc, no process reads, no globals, no clock reads (time
 * comes with the scan and in the records), so unit tests drive it.
 *
 * A goroutine is a waiter of its own kind: the same sites, trend test,
 * reports and views as a thread.  It is blocked when parked (_Gwaiting, or
 * _Gleaked); one wait is one (goid, tracking_seq, sp_depth, wait_reason):
 * any change between two scans is a new wait.  Its start is when a scan
 * first saw it (a lower bound: since_exact false).  Only blocked goroutines
 * have a waiter, with no stack: a stack is read once per wait, when it turns
 * stuck.
 *
 * Opaque: the outputs read it through the iterators and predicates below,
 * so that "stuck now" and "shown" are decided here, once.
 */
#ifndef LW_TRACKER_H
#define LW_TRACKER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "clock.h"
#include "go_scan.h"
#include "leakwatch.h"
#include "report.h"
#include "frame.h"
#include "lock_wait.h"
#include "sites.h"
#include "trend.h"
#include "wait_kind.h"
#include "waiter.h"

/* Stacks come from outside (libdwfl, kallsyms, the goroutine scan): tests
 * pass fakes or none.  Any of them may be NULL. */
struct lw_stack_ops {
	/* User pcs of the thread of r, innermost first: count, or -errno. */
	int (*unwind)(void *ctx, const struct lw_task_rec *r, uint64_t *pcs, int max);
	/* The frames at a user pc, innermost (inlined) first, as
	 * unwind_frames: the count (>= 1).  first: pcs[0], not a return
	 * address.  Used instead of symbolize_user when set. */
	int (*user_frames)(void *ctx, uint32_t pid, uint64_t pc, bool first, struct lw_frame *out,
			   int max);
	/* The Python frames of thread tid, as py_thread_frames: the count, 0
	 * when it is not a Python thread, -errno unreadable. */
	int (*python_frames)(void *ctx, uint32_t pid, uint32_t tid, struct lw_frame *out, int max);
	/* Text of a user frame; first: pcs[0], not a return address. */
	void (*symbolize_user)(void *ctx, uint32_t pid, uint64_t pc, bool first, char *buf,
			       size_t len);
	/*
	 * The Go stack of g (one of those given to tracker_scan_goroutines in
	 * this scan), runtime pcs, innermost first: the count; -EAGAIN: it
	 * moved, ask again at the next scan; other -errno: unreadable (counted,
	 * reported without a stack).
	 */
	int (*unwind_goroutine)(void *ctx, uint32_t pid, const struct go_goroutine *g,
				uint64_t *pcs, int max);
	/*
	 * The Go stacks of n goroutines at once, as unwind_goroutine would
	 * read each: out[i].n the count or -errno.  Used instead of
	 * unwind_goroutine when set: a scan's new stuck goroutines are read
	 * in one call.
	 */
	void (*unwind_goroutines)(void *ctx, uint32_t pid, const struct go_goroutine *const *gs,
				  size_t n, struct go_stack_result *out);
	/*
	 * The Go frames at a runtime pc of process pid, innermost (inlined)
	 * first, as go_process_frames: 0 when pc is not Go code (then
	 * symbolize_user names it).  out[].entry must be the runtime address
	 * of the function (load bias added): frames show pc - entry.  The
	 * strings need only last the call: the tracker copies them.
	 */
	int (*go_frames)(void *ctx, uint32_t pid, uint64_t pc, bool first, struct go_frame *out,
			 int max);
	/* Go's name of a wait reason in pid's binary ("chan send"); NULL or ""
	 * if unknown.  Copied by the tracker. */
	const char *(*go_wait_reason)(void *ctx, uint32_t pid, uint8_t reason);
	void (*symbolize_kernel)(void *ctx, uint64_t pc, char *buf, size_t len);
	/* The process is gone: drop what is cached for it. */
	void (*forget)(void *ctx, uint32_t pid);
	void *ctx;
};

/* Caps that keep memory bounded over days; what is past them is counted. */
#define LW_MAX_PROCESSES 65536
#define LW_MAX_THREADS (1u << 20)
#define LW_MAX_GOROUTINES (1u << 20)

struct lw_tracker_opts {
	uint64_t threshold_ns;
	bool host_wide; /* no targets: samples only for processes with stuck waiters */
	struct lw_clock clock; /* until the first scan brings its own */
	struct lw_restart_fns restart_fns;
	int (*read_first_waiter)(uint32_t pid, uint64_t waiters, uint64_t *uaddr);
	/* The cgroup v2 path of pid ("0::" line of /proc/PID/cgroup) into path:
	 * 0, or -errno.  Called once when a process is first tracked; NULL:
	 * no cgroups. */
	int (*read_cgroup)(uint32_t pid, char *path, size_t len);
	/* Reads of the locks stuck threads wait on; no read: no owners. */
	struct lw_lock_ops locks;
	struct lw_stack_ops stacks;
	size_t max_goroutines;   /* goroutine waiters at most; 0: LW_MAX_GOROUTINES */
	struct trend_opts trend; /* zeroes: TREND_OPTS_DEFAULT */
	struct lw_sink sink;
};

struct lw_tracker;

int tracker_new(const struct lw_tracker_opts *opts, struct lw_tracker **out);
void tracker_free(struct lw_tracker *t);

/* A process to watch (-p, or a child of a watched process). */
int tracker_add_target(struct lw_tracker *t, uint32_t pid);

/*
 * A scan: begin, one call per task record, then end (samples, exits, leak
 * checks) or abort.  now_ns is CLOCK_MONOTONIC when the scan was read, clock
 * the wall-clock offset measured then: every report carries the scan's own
 * time, even a scan that saw no thread.
 *
 * Ring-buffer records given while a scan is open (read the scan first,
 * then drain the ring) are applied in time order with the task records: a
 * wait that ended, and a thread that blocked again, before the scan reached
 * it keeps its exact end.
 */
void tracker_scan_begin(struct lw_tracker *t, uint64_t now_ns, const struct lw_clock *clock);
void tracker_scan_task(struct lw_tracker *t, const struct lw_task_rec *r,
		       const struct lw_kstack_rec *kstack);
void tracker_scan_end(struct lw_tracker *t);
/* A scan that could not be read whole: what it saw stands, but nothing it
 * did not reach is taken for gone, and no samples or leak checks. */
void tracker_scan_abort(struct lw_tracker *t);

/*
 * During an open scan: the live goroutines of Go process pid, as one
 * go_process_scan read them (gs valid during the call: stacks are asked for
 * then).  A process whose goroutines are given counts as a Go process from
 * then on.  Its goroutine waiters not among gs are gone (exited, or running):
 * a stuck one is unstuck.  The runtime's own goroutines (system) are not
 * counted or tracked.  A spinning thread's report names the goroutine on it
 * (GO_G_RUNNING, tid) as of the last read: give a process's goroutines
 * before its task records for this scan's.
 */
void tracker_scan_goroutines(struct lw_tracker *t, uint32_t pid, const struct go_goroutine *gs,
			     size_t n);
/*
 * During an open scan: a Go process whose goroutines this scan could not
 * read (or did not read: a stretched goroutine interval).  Its goroutine
 * waiters and counts stay as they were: not gone, no unstuck, as if the scan
 * had been aborted for this process alone.  Not calling either function for
 * a Go process in a scan means the same.
 */
void tracker_goroutines_unread(struct lw_tracker *t, uint32_t pid);
/*
 * Any time: process pid is no longer read as a Go process (it exec'd
 * another program): its stuck goroutines are unstuck (inexact), its
 * goroutine waiters and counts go, and it counts as a Go process again only
 * when goroutines of it are given again.
 */
void tracker_goroutines_gone(struct lw_tracker *t, uint32_t pid);

/* Ring-buffer records. */
void tracker_event(struct lw_tracker *t, const struct lw_event *e);

/* Every target exited (never true host-wide). */
bool tracker_targets_gone(const struct lw_tracker *t);

/* The cgroup of process pid, read now if no record named it yet (once per
 * process life); NULL if unknown or not tracked. */
const struct lw_cgroup *tracker_process_cgroup(struct lw_tracker *t, uint32_t pid);

/* Losses and unreadable stacks counted by the tracker, into d. */
void tracker_drops(const struct lw_tracker *t, struct lw_drops *d);

struct lw_tracker_stats {
	unsigned int targets, targets_exited;
	unsigned int leaks;         /* leak reports so far */
	unsigned int leaking_sites; /* sites (of the processes still tracked) reported as leaks */
	unsigned int spins;         /* spin reports so far */
	unsigned int deadlocks;     /* deadlock reports so far */
	struct lw_lock_stats locks; /* lock owners read when threads turned stuck */
	size_t waiters;             /* in the table, threads and goroutines */
	size_t goroutines;          /* of them, goroutines (blocked ones) */
	size_t processes;
	uint32_t scanned_threads;   /* task records of the last whole scan (what the
				     * kernel side let through: -p, --cgroup) */
	size_t cgroups;             /* distinct cgroups of the processes records named */
};

void tracker_stats(const struct lw_tracker *t, struct lw_tracker_stats *s);

/* ---- What the outputs read: valid until the tracker is next fed ---- */

/* Start every walk with a zeroed cursor. */
struct tracker_cursor {
	size_t i, j;
};

/* A process shown: alive at the last scan, and watched or with stuck waiters. */
struct lw_process_view {
	uint32_t pid;
	const char *pcomm;
	const struct lw_cgroup *cgroup; /* NULL if unknown */
	uint32_t threads, blocked, stuck; /* at the last complete scan */
	/* go: a Go process whose goroutines are read; the counts at its last
	 * goroutine read, the runtime's own goroutines left out */
	bool go;
	uint32_t goroutines, goroutines_blocked, goroutines_stuck;
};

struct lw_waiter_view {
	struct lw_waiter_id id; /* threads: id.id is the tid; goroutines: the goid */
	const char *comm;       /* thread name; goroutines: "" */
	const char *pcomm;
	const struct lw_cgroup *cgroup; /* its process's; NULL if unknown */
	char state;             /* 'S' or 'D'; goroutines: 'S' */
	/* Goroutines (goid != 0; stuck ones: blocked ones do not get these) */
	uint64_t goid;
	const char *func;       /* the function it started in; NULL if unknown */
	const char *created_by; /* "main.queryAll (/src/main.go:19)"; NULL if unknown */
	bool since_exact;
	uint64_t blocked_ns;    /* stuck: blocked for this long at the last scan */
	uint64_t running_ns;    /* spinning: running without blocking for this long */
	const struct lw_wait *wait;
	const struct lw_site *site; /* NULL if not tracked */
	/* Stuck threads: the lock it waits for (NULL: not a lock wait), and
	 * whether that wait is in a deadlock reported. */
	const struct lw_lock *lock;
	bool deadlocked;
};

struct lw_site_view {
	const struct lw_site *site; /* its leak series: site->leak */
	uint32_t pid;
	const char *pcomm;
	const struct lw_cgroup *cgroup; /* its process's; NULL if unknown */
	/* tracker_next_leak: the process exited (a -p target, kept for the
	 * report at the end); live series leave it out */
	bool exited;
};

bool tracker_next_process(const struct lw_tracker *t, struct tracker_cursor *c,
			  struct lw_process_view *out);
/* Stuck now: seen blocked past the threshold, end not seen; any order;
 * threads and goroutines (id.kind). */
bool tracker_next_stuck(const struct lw_tracker *t, struct tracker_cursor *c,
			struct lw_waiter_view *out);
/* The stuck waiters, longest first, up to max into out; returns how many are stuck. */
size_t tracker_stuck_waiters(const struct lw_tracker *t, struct lw_waiter_view *out, size_t max);
/* The same, of one kind (enum lw_waiter_kind) only. */
size_t tracker_stuck_waiters_of(const struct lw_tracker *t, uint32_t kind,
				struct lw_waiter_view *out, size_t max);
/* Reported spinning and still running at the last scan. */
bool tracker_next_spinning(const struct lw_tracker *t, struct tracker_cursor *c,
			   struct lw_waiter_view *out);
/* Sites with stuck waiters now, of the processes shown (goroutine sites:
 * site->goroutine). */
bool tracker_next_site(const struct lw_tracker *t, struct tracker_cursor *c,
		       struct lw_site_view *out);
/* Sites reported as leaks, "threads" (a process's thread count) included,
 * of every process still tracked. */
bool tracker_next_leak(const struct lw_tracker *t, struct tracker_cursor *c,
		       struct lw_site_view *out);

/* Who the stuck waiters at a leaking site wait for, through their locks
 * (as on its leak record): false when none is known. */
bool tracker_site_holder(const struct lw_tracker *t, const struct lw_site_view *v,
			 struct lw_lock_holder *h);

/* A deadlock reported, of a process still tracked: its members (the first
 * n_shown of n); a member whose wait ended since has comm "" and lock NULL. */
#define LW_DEADLOCK_VIEW_MEMBERS 8
struct lw_deadlock_view {
	uint32_t pid;
	const char *pcomm;
	const struct lw_cgroup *cgroup;
	uint32_t n, n_shown;
	struct lw_deadlock_member members[LW_DEADLOCK_VIEW_MEMBERS];
};
bool tracker_next_deadlock(const struct lw_tracker *t, struct tracker_cursor *c,
			   struct lw_deadlock_view *out);

#endif

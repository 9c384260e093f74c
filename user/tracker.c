// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cgroup.h"
#include "go_names.h"
#include "id_map.h"
#include "leak_policy.h"
#include "py_frames.h"
#include "tracker.h"
#include "wait_for.h"
#include "waiter_map.h"

/* A goroutine's stack read that found it moving is retried at this many
 * scans; then it is reported without a stack (counted as unreadable). */
#define GO_STACK_TRIES 3
/* unwind_goroutines: goroutines per call (their pcs are kept meanwhile). */
#define GO_UNWIND_BATCH 1024
/* Texts of gopc/startpc kept per Go process: there are as many as its code
 * has go statements, unless it writes garbage into its gs. */
#define GO_NAMES_MAX 4096
#define GO_WAIT_REASONS 256
/* Goroutines followed for spins per Go process: on the CPU (running, or
 * runnable where a preemption stopped it) at a read.  As many as the
 * process has threads and runnable goroutines; past this, counted. */
#define GO_SPINNERS_MAX 65536
/* Deadlocks remembered per process (each is reported once); a cycle's
 * members shown at most. */
#define LW_DEADLOCKS_PER_PROCESS 64
#define LW_DEADLOCK_MEMBERS_MAX 64
#define LW_DEADLOCK_TIDS LW_DEADLOCK_VIEW_MEMBERS /* members a view of a past deadlock names */

/* What only a thread's waiter has.  Spins: runnable at each scan, and no
 * voluntary switch since run_since. */
struct thread_part {
	char comm[LW_COMM_LEN + 1];
	struct lw_wait wait;
	uint64_t nvcsw;
	uint64_t run_since_ns; /* 0: not running at the last scan */
	bool spin_reported;
	uint8_t spin_stack_tries; /* scans that found its goroutine's stack not on it */
	struct lw_lock lock; /* stuck: the lock it waits for, and its owner */
	bool deadlocked;     /* this wait is in a deadlock reported */
};

/*
 * One waiter that is, or was at the last scan, blocked (or, threads,
 * spinning).  Small: a process may have hundreds of thousands of parked
 * goroutines; a thread's own part is allocated apart.
 */
struct lw_waiter {
	struct lw_waiter_id id;
	uint64_t since_ns;   /* start of the current (or last) wait */
	uint64_t seen_ns;    /* last scan that saw this wait */
	uint64_t gen;        /* last scan that saw this waiter */
	char state;          /* 'S' or 'D' */
	bool since_exact;
	bool stuck;          /* a stuck report went out for this wait, no unstuck yet */
	bool end_pending;    /* a scan saw the wait end; its record may follow */
	struct lw_site *site; /* where it is stuck (a reference); NULL if not tracked */
	union {
		/* LW_WAITER_GOROUTINE: what names its wait, and once stuck
		 * what its reports show (the process's, in its go_state) */
		struct {
			uint64_t sp_depth;
			uint8_t tracking_seq, wait_reason;
			uint8_t stack_tries; /* reads of this wait's stack that found it moving */
			const struct lw_wait *wait;
			const char *func, *created_by;
		} go;
		struct thread_part *thread; /* LW_WAITER_THREAD */
	};
};

struct counts {
	uint32_t threads, blocked, stuck;
};

/* Texts by runtime pc (a function's entry, or a go statement's return pc). */
struct pc_name {
	uint64_t key; /* 0: empty */
	char *text;
};

struct pc_names {
	struct pc_name *v;
	size_t cap, n; /* cap: a power of two */
};

/* A goroutine on a thread at the last read: a spinning thread's goroutine. */
struct go_running {
	uint32_t tid;
	uint64_t goid, gopc, startpc;
};

/*
 * A goroutine on the CPU at every read of its process since since_ns:
 * running or runnable, and between two reads either never off running
 * (tracking_seq, which rises at every stop, the same) or last stopped by a
 * preemption (go_goroutine.preempted: its sched.pc, which a resume leaves
 * as it was).  A goroutine seen parked, in a syscall, or whose last stop
 * was a park ends its run.  A spin once past the threshold, reported once
 * per episode.
 *
 * What the rule can tell: the goroutine did not stop of its own accord at
 * the last stop before each read, wherever the scheduler moved it between
 * threads (a thread-level spin needs one thread busy for the whole
 * threshold, and sysmon preempts a loop every 10 ms onto whichever M is
 * free).  What it cannot: it is sampled, so a goroutine that parks and
 * wakes, then is preempted, between two reads is not seen parking; a
 * goroutine in short syscalls, seen running at each read, never left
 * running as tracking_seq counts (it does not count syscalls); tracking_seq
 * is 8 bits, so 256 stops between two reads look like none; and
 * tracking_seq rises on preemptions too, so it cannot tell them from parks
 * (sched.pc does).  A goroutine preempted in runtime code (a runtime
 * function's prologue) is not taken as preempted: its run ends there.
 */
struct go_spinner {
	uint64_t goid, gopc, startpc;
	uint64_t since_ns;    /* first read that saw it on the CPU */
	uint64_t gen;         /* the last read that did */
	uint8_t tracking_seq; /* at that read */
	uint32_t pending_tid; /* past the threshold, running on this thread at
			       * the read: reported with that thread's stack at
			       * its record in this scan */
	bool reported;        /* this episode's spin went out */
	uint8_t stack_tries;  /* reads whose thread showed the scheduler, not it */
};

/* What the tracker keeps of a Go process's goroutines (made at the first
 * read: most processes have none). */
struct go_state {
	uint64_t read_gen;  /* the last scan that read its goroutines */
	uint32_t goroutines, blocked, stuck; /* at that read, system ones left out */
	struct lw_wait *waits[GO_WAIT_REASONS]; /* by wait reason, made when first needed */
	struct pc_names names;
	struct go_running *running;
	size_t n_running, cap_running;
	struct waiter_map spinners; /* lw_goroutine_id -> struct go_spinner */
	unsigned int spins_pending; /* spinners with a pending_tid */
};

struct lw_process {
	uint32_t pid;
	char pcomm[LW_COMM_LEN + 1];
	struct counts scanning;  /* the scan going on */
	struct counts counts;    /* the last complete scan */
	uint64_t gen;            /* last scan that saw it */
	uint64_t counts_gen;     /* the complete scan counts is from */
	unsigned int stuck_waiters; /* with a stuck report and no unstuck yet */
	bool target;    /* watched by -p or as a child of a watched process */
	bool root;      /* -p or the command itself: kept after its exit */
	bool reported;  /* a record named it: its exit is reported too */
	bool exited;
	struct lw_site_table sites;
	/* The thread count not at a pile of one site; at its first leak it
	 * moves into threads_site, a site of its own, so that it leaks through
	 * the same outputs.  Made then: a site is 16 KiB, and host-wide every
	 * process is here. */
	struct leak_series threads_leak;
	struct lw_site *threads_site;
	struct go_state *go; /* a Go process whose goroutines are read; else NULL */
	/* Its cgroup, read once when a record first names it (cgroup_read);
	 * NULL if unknown.  A reference in the tracker's table. */
	const struct lw_cgroup *cgroup;
	bool cgroup_read;
	/* A thread turned stuck on a lock with a known owner since the last
	 * look for deadlocks, or a cycle did not verify yet: look (again). */
	bool locks_changed;
	/* The deadlocks reported (each once, by key), kept for the views;
	 * allocated at the first. */
	struct deadlock_seen *deadlocks;
	unsigned int n_deadlocks; /* so far: past LW_DEADLOCKS_PER_PROCESS the oldest go */
};

/* A deadlock reported: its key, and who was in it. */
struct deadlock_seen {
	uint64_t key;
	uint32_t n;  /* members, of which tids holds the first LW_DEADLOCK_TIDS */
	uint32_t tids[LW_DEADLOCK_TIDS];
};

/* The lock waiters of one scan: stuck threads whose lock's owner is known,
 * sorted by (pid, tid). */
struct lock_waiters {
	struct lw_waiter **v;
	size_t n, cap;
	struct wf_waiter *graph;   /* one process's, for wait_for.c */
	size_t *members;
	size_t graph_cap;
};

/* Ring-buffer records of an open scan, applied in time order with it. */
struct event_queue {
	struct lw_event *events;
	size_t head, n, cap;
};

/* Room for a stack's frames before Python's are merged in. */
#define NATIVE_FRAMES_MAX (2 * LW_STACK_MAX)

struct lw_tracker {
	struct lw_tracker_opts opts;
	struct waiter_map waiters; /* (pid, kind, id) -> struct lw_waiter */
	struct id_map processes;   /* pid -> struct lw_process */
	uint64_t gen;              /* scans so far */
	uint64_t complete_gen;     /* the last scan that ended whole */
	uint64_t now_ns;           /* time of the current scan */
	uint64_t last_scan_ns;     /* time of the last complete scan */
	bool scan_open, caught_up;
	uint64_t last_task_ns;     /* the newest task record of the open scan */
	struct event_queue queue;
	unsigned int n_targets, n_targets_exited; /* roots only */
	uint64_t insert_failures;
	uint64_t unstuck_inexact;
	uint64_t stacks_unreadable, kstacks_unreadable, sites_untracked;
	uint64_t processes_untracked, threads_untracked, goroutines_untracked;
	size_t n_goroutines;       /* goroutine waiters in the table */
	size_t n_end_pending;      /* waiters with end_pending: most scans have none */
	struct trend_scratch *trend_scratch; /* shared by every trend */
	/* unwind_goroutines: the goroutines of one tracker_scan_goroutines
	 * past the threshold, read together after it, and their stacks. */
	const struct go_goroutine **go_pending;
	size_t n_go_pending, cap_go_pending;
	struct go_stack_result *go_results; /* GO_UNWIND_BATCH */
	uint64_t *go_pcs;                   /* GO_UNWIND_BATCH * LW_STACK_MAX */
	struct trend_opts threads_trend;     /* of the per-process thread counts */
	/* symbolize_stack's: native frames before Python's are merged in,
	 * a fake's text per frame, and a thread's Python frames. */
	struct lw_frame frames_scratch[NATIVE_FRAMES_MAX];
	char texts_scratch[NATIVE_FRAMES_MAX][LW_FRAME_TEXT];
	struct lw_frame py_scratch[PY_FRAMES_MAX];
	uint64_t python_unreadable;          /* Python stacks that could not be read */
	uint32_t last_site_id;
	struct cgroup_table *cgroups; /* NULL without opts.read_cgroup */
	uint64_t cgroups_unread;      /* processes whose cgroup could not be read */
	uint32_t scanning_tasks, scanned_tasks; /* task records: this scan, the last whole one */
	unsigned int leaks; /* leak reports so far */
	unsigned int spins; /* spin reports so far */
	unsigned int deadlocks; /* deadlock reports so far */
	struct lock_waiters lock_waiters; /* this scan's, from sweep_waiters */
	struct lw_lock_stats lock_stats;
};

static void copy_comm(char dst[LW_COMM_LEN + 1], const char src[LW_COMM_LEN])
{
	memcpy(dst, src, LW_COMM_LEN);
	dst[LW_COMM_LEN] = '\0';
}

static double seconds(uint64_t ns)
{
	return (double)ns / 1e9;
}

/* later - earlier, 0 if earlier is later: stamps come from several CPUs and
 * a thread may block again after the scan read its clock. */
static uint64_t elapsed(uint64_t later, uint64_t earlier)
{
	return later > earlier ? later - earlier : 0;
}

static double unix_ts(const struct lw_tracker *t, uint64_t mono_ns)
{
	return clock_to_unix(&t->opts.clock, mono_ns);
}

static void emit(struct lw_tracker *t, const struct lw_report *r)
{
	if (t->opts.sink.emit)
		t->opts.sink.emit(t->opts.sink.ctx, r);
}

int tracker_new(const struct lw_tracker_opts *opts, struct lw_tracker **out)
{
	static const struct trend_opts trend_defaults = TREND_OPTS_DEFAULT;
	struct lw_tracker *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->opts = *opts;
	if (!t->opts.trend.window)
		t->opts.trend = trend_defaults;
	leak_policy_threads_trend(&t->opts.trend, &t->threads_trend);
	if (trend_scratch_new(t->opts.trend.window, &t->trend_scratch)) {
		free(t);
		return -ENOMEM;
	}
	if (opts->read_cgroup && cgroup_table_new(0, &t->cgroups)) {
		trend_scratch_free(t->trend_scratch);
		free(t);
		return -ENOMEM;
	}
	waiter_map_init(&t->waiters);
	id_map_init(&t->processes);
	*out = t;
	return 0;
}

static void go_state_free(struct go_state *g)
{
	struct lw_waiter_id id;
	void *value;
	size_t i;

	if (!g)
		return;
	for (i = 0; i < GO_WAIT_REASONS; i++)
		free(g->waits[i]);
	for (i = 0; i < g->names.cap; i++)
		free(g->names.v[i].text);
	free(g->names.v);
	free(g->running);
	for (i = 0; waiter_map_next(&g->spinners, &i, &id, &value);)
		free(value);
	waiter_map_free(&g->spinners);
	free(g);
}

static void process_free(struct lw_tracker *t, struct lw_process *p)
{
	if (!p)
		return;
	if (t->opts.stacks.forget)
		t->opts.stacks.forget(t->opts.stacks.ctx, p->pid);
	site_table_free(&p->sites);
	go_state_free(p->go);
	if (t->cgroups)
		cgroup_table_put(t->cgroups, p->cgroup);
	leak_series_free(&p->threads_leak);
	free(p->deadlocks);
	if (p->threads_site)
		leak_series_free(&p->threads_site->leak);
	free(p->threads_site);
	free(p);
}

static void set_site(struct lw_waiter *w, struct lw_site *s)
{
	if (w->site)
		w->site->refs--;
	w->site = s;
	if (s)
		s->refs++;
}

static void waiter_free(struct lw_waiter *w)
{
	if (!w)
		return;
	set_site(w, NULL);
	if (w->id.kind == LW_WAITER_THREAD)
		free(w->thread);
	free(w);
}

/* Counted, so that a scan need not walk every waiter to find them. */
static void set_end_pending(struct lw_tracker *t, struct lw_waiter *w, bool pending)
{
	if (w->end_pending != pending)
		pending ? t->n_end_pending++ : t->n_end_pending--;
	w->end_pending = pending;
}

/* Out of the table and freed. */
static void waiter_remove(struct lw_tracker *t, struct lw_waiter *w)
{
	set_end_pending(t, w, false);
	waiter_map_del(&t->waiters, w->id);
	if (w->id.kind == LW_WAITER_GOROUTINE)
		t->n_goroutines--;
	waiter_free(w);
}

static bool is_goroutine(const struct lw_waiter *w)
{
	return w->id.kind == LW_WAITER_GOROUTINE;
}

static const struct lw_wait *waiter_wait(const struct lw_waiter *w)
{
	return is_goroutine(w) ? w->go.wait : &w->thread->wait;
}

static const char *waiter_comm(const struct lw_waiter *w)
{
	return is_goroutine(w) ? "" : w->thread->comm;
}

void tracker_free(struct lw_tracker *t)
{
	struct lw_waiter_id id;
	uint32_t key;
	void *value;
	size_t i = 0;

	if (!t)
		return;
	while (waiter_map_next(&t->waiters, &i, &id, &value))
		waiter_free(value);
	waiter_map_free(&t->waiters);
	i = 0;
	while (id_map_next(&t->processes, &i, &key, &value))
		process_free(t, value);
	id_map_free(&t->processes);
	free(t->queue.events);
	free(t->lock_waiters.v);
	free(t->lock_waiters.graph);
	free(t->lock_waiters.members);
	trend_scratch_free(t->trend_scratch);
	cgroup_table_free(t->cgroups);
	free(t->go_pending);
	free(t->go_results);
	free(t->go_pcs);
	free(t);
}

static struct lw_process *get_process(struct lw_tracker *t, uint32_t pid, bool create)
{
	struct lw_process *p = id_map_get(&t->processes, pid);

	if (p || !create)
		return p;
	if (t->processes.len >= LW_MAX_PROCESSES) {
		t->processes_untracked++;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p || leak_series_init(&p->threads_leak, &t->threads_trend, t->trend_scratch)) {
		free(p);
		t->insert_failures++;
		return NULL;
	}
	if (id_map_put(&t->processes, pid, p)) {
		leak_series_free(&p->threads_leak);
		free(p);
		t->insert_failures++;
		return NULL;
	}
	p->pid = pid;
	return p;
}

/*
 * The cgroup of p, read when a record first names it: once per process
 * life (a new life of the pid is a new struct lw_process), never per scan,
 * and only for the processes a record is about (host-wide, most never are).
 */
static const struct lw_cgroup *process_cgroup(struct lw_tracker *t, struct lw_process *p)
{
	char path[LW_CGROUP_PATH_MAX];

	if (!p || p->cgroup_read || !t->cgroups)
		return p ? p->cgroup : NULL;
	p->cgroup_read = true;
	if (t->opts.read_cgroup(p->pid, path, sizeof(path))) {
		t->cgroups_unread++;
		return NULL;
	}
	p->cgroup = cgroup_table_get(t->cgroups, path);
	return p->cgroup;
}

const struct lw_cgroup *tracker_process_cgroup(struct lw_tracker *t, uint32_t pid)
{
	struct lw_process *p = get_process(t, pid, false);

	return p && !p->exited ? process_cgroup(t, p) : p ? p->cgroup : NULL;
}

/* root: given from outside (-p, the command), counted for "all targets
 * gone" and kept after its exit; else a child, forgotten once it exited. */
static int add_target(struct lw_tracker *t, uint32_t pid, bool root)
{
	struct lw_process *p = get_process(t, pid, true);

	if (!p)
		return -ENOMEM;
	if (!p->target) {
		p->target = true;
		p->reported = true;
	}
	if (root && !p->root) {
		p->root = true;
		t->n_targets++;
	}
	return 0;
}

int tracker_add_target(struct lw_tracker *t, uint32_t pid)
{
	return add_target(t, pid, true);
}

bool tracker_targets_gone(const struct lw_tracker *t)
{
	return !t->opts.host_wide && t->n_targets && t->n_targets_exited == t->n_targets;
}

void tracker_drops(const struct lw_tracker *t, struct lw_drops *d)
{
	d->tracker = t->insert_failures;
	d->lock_owners_unreadable = t->lock_stats.unreadable;
	d->unstuck_inexact = t->unstuck_inexact;
	d->stacks_unreadable = t->stacks_unreadable;
	d->kstacks_unreadable = t->kstacks_unreadable;
	d->python_stacks_unreadable = t->python_unreadable;
	d->sites_untracked = t->sites_untracked;
	d->processes_untracked = t->processes_untracked;
	d->threads_untracked = t->threads_untracked;
	d->goroutines_untracked = t->goroutines_untracked;
	d->cgroups_unread = t->cgroups_unread;
	/* added to the kernel side's (cgroups too deep for --cgroup) */
	d->cgroups_untracked += t->cgroups ? cgroup_table_untracked(t->cgroups) : 0;
}

/* The end of a stuck wait: exact (its record) at end_ns, or inexact, when
 * only a scan or an exit says it ended, at the last time it was seen blocked
 * (blocked_s is then a lower bound). */
static void report_unstuck(struct lw_tracker *t, struct lw_waiter *w, uint64_t end_ns,
			   bool exact)
{
	struct lw_process *p = get_process(t, w->id.pid, false);
	struct lw_report r = {
		.type = LW_RPT_UNSTUCK,
		.ts = unix_ts(t, end_ns),
		.pid = w->id.pid,
		.tid = is_goroutine(w) ? 0 : (uint32_t)w->id.id,
		.goid = is_goroutine(w) ? w->id.id : 0,
		.func = is_goroutine(w) ? w->go.func : NULL,
		.created_by = is_goroutine(w) ? w->go.created_by : NULL,
		.comm = waiter_comm(w),
		.pcomm = p ? p->pcomm : "",
		.cgroup = p ? p->cgroup : NULL, /* read at its stuck report */
		.state = w->state,
		.blocked_s = seconds(elapsed(end_ns, w->since_ns)),
		.since_exact = w->since_exact,
		.end_exact = exact,
		.wait = waiter_wait(w),
		.site = w->site,
	};

	if (!exact)
		t->unstuck_inexact++;
	emit(t, &r);
	if (w->stuck && p && p->stuck_waiters)
		p->stuck_waiters--;
	w->stuck = false;
	set_end_pending(t, w, false);
	set_site(w, NULL);
}

static void end_inexact(struct lw_tracker *t, struct lw_waiter *w)
{
	if (w->stuck)
		report_unstuck(t, w, w->seen_ns, false);
}

/* Collect first, then act: a map must not change while walked. */
struct ptr_list {
	void **v;
	size_t n, cap;
};

/* Out of memory, the entry is not kept: it goes at a later scan. */
static void ptr_list_push(struct ptr_list *l, void *entry)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		void **v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = entry;
}

/* A process is gone: the waits of its stuck waiters ended, before its exit. */
static void end_waits_of(struct lw_tracker *t, struct lw_process *p)
{
	struct lw_waiter_id id;
	size_t i = 0;
	void *value;

	while (p->stuck_waiters && waiter_map_next(&t->waiters, &i, &id, &value)) {
		struct lw_waiter *w = value;

		if (id.pid == p->pid)
			end_inexact(t, w);
	}
}

static void report_exit(struct lw_tracker *t, struct lw_process *p, uint64_t ts_ns)
{
	if (p->exited)
		return;
	end_waits_of(t, p);
	p->exited = true;
	if (p->root)
		t->n_targets_exited++;
	if (p->reported)
		emit(t, &(struct lw_report){
				.type = LW_RPT_EXIT,
				.ts = unix_ts(t, ts_ns),
				.pid = p->pid,
				.pcomm = p->pcomm,
				.cgroup = p->cgroup, /* not read now: the pid may be another's */
			});
}

static struct lw_waiter *new_thread(struct lw_tracker *t, const struct lw_task_rec *r)
{
	struct lw_waiter *w;

	if (t->waiters.len - t->n_goroutines >= LW_MAX_THREADS) {
		t->threads_untracked++;
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w || !(w->thread = calloc(1, sizeof(*w->thread))))
		goto fail;
	w->id = lw_thread_id(r->pid, r->tid);
	if (waiter_map_put(&t->waiters, w->id, w))
		goto fail;
	return w;
fail:
	if (w)
		free(w->thread);
	free(w);
	t->insert_failures++;
	return NULL;
}

/* Go's frames at most per pc: a call inlined this deep is shown to here. */
#define GO_INLINE_MAX 16

/* The Go frames at pc, or 0 when it is not Go code (or there is no Go). */
static int go_frames(struct lw_tracker *t, uint32_t pid, uint64_t pc, bool first,
		     struct go_frame *out)
{
	int n;

	if (!t->opts.stacks.go_frames)
		return 0;
	n = t->opts.stacks.go_frames(t->opts.stacks.ctx, pid, pc, first, out, GO_INLINE_MAX);
	return n > 0 ? (n < GO_INLINE_MAX ? n : GO_INLINE_MAX) : 0;
}

/* The frame a goroutine's site is named by, copied out of the callback's. */
struct culprit {
	bool found, fallback, in_stdlib;
	char func[LW_FRAME_TEXT], file[LW_FRAME_TEXT];
	int line;
};

static void culprit_take(struct culprit *c, const struct go_frame *f)
{
	go_func_print_name(f->func ? f->func : "?", c->func, sizeof(c->func));
	snprintf(c->file, sizeof(c->file), "%s", f->file ? f->file : "");
	c->line = f->line;
}

/*
 * The first frame of the program's own code (outside the Go distribution:
 * http.Get's leak is its caller's, not net/http's); else the first outside
 * the runtime's own packages; else the outermost but goexit.
 */
static void culprit_see(struct culprit *c, const struct go_frame *f)
{
	if (c->found || !f->func)
		return;
	if (!site_go_runtime_func(f->func)) {
		if (c->in_stdlib && f->stdlib)
			return; /* a library frame is already the best so far */
		culprit_take(c, f);
		c->found = !f->stdlib;
		c->in_stdlib = f->stdlib;
		c->fallback = false;
	} else if (strcmp(f->func, "runtime.goexit") && !c->in_stdlib) {
		culprit_take(c, f);
		c->fallback = true;
	}
}

/* A Go frame as a struct lw_frame. */
static void go_frame_info(const struct go_frame *f, uint64_t pc, struct lw_frame *out)
{
	memset(out, 0, sizeof(*out));
	out->kind = LW_FRAME_GO;
	out->pc = pc;
	out->offset = pc >= f->entry ? pc - f->entry : 0;
	out->line = f->line;
	out->inlined = f->inlined;
	go_func_print_name(f->func, out->func, sizeof(out->func));
	snprintf(out->file, sizeof(out->file), "%s", f->file ? f->file : "");
}

/* The native (or JIT) frames at pcs[i]: from user_frames, else one frame
 * from symbolize_user's text (unit tests' fakes), else the address. */
static int native_frames(struct lw_tracker *t, uint32_t pid, uint64_t pc, bool first,
			 struct lw_frame *out, int max, char *text, size_t text_len)
{
	int n;

	text[0] = '\0';
	if (t->opts.stacks.user_frames) {
		n = t->opts.stacks.user_frames(t->opts.stacks.ctx, pid, pc, first, out, max);
		if (n > 0)
			return n < max ? n : max;
	}
	lw_frame_unknown(out, LW_FRAME_NATIVE, pc, NULL);
	if (t->opts.stacks.symbolize_user)
		t->opts.stacks.symbolize_user(t->opts.stacks.ctx, pid, pc, first, text, text_len);
	return 1;
}

/*
 * The user stack of pcs, symbolized: Go code by its own table (go_frames:
 * inlined calls as frames of their own), the rest by user_frames (DWARF
 * inline chains, JIT maps); py (n_py > 0: the thread's Python frames) in
 * place of the interpreter's eval frames.  c (may be NULL) gets the frame
 * to name a goroutine's site by.
 */
static void symbolize_stack(struct lw_tracker *t, uint32_t pid, const uint64_t *pcs, int n,
			    const struct lw_frame *py, int n_py, struct lw_stack_text *out,
			    struct culprit *c)
{
	struct lw_frame *native = t->frames_scratch;
	char (*texts)[LW_FRAME_TEXT] = t->texts_scratch;
	struct go_frame frames[GO_INLINE_MAX];
	int i, j, nf, n_native = 0;

	out->n = 0;
	for (i = 0; i < n && n_native < NATIVE_FRAMES_MAX; i++) {
		nf = go_frames(t, pid, pcs[i], i == 0, frames);
		for (j = 0; j < nf && n_native < NATIVE_FRAMES_MAX; j++) {
			if (!frames[j].func)
				frames[j].func = "?";
			go_frame_info(&frames[j], pcs[i], &native[n_native]);
			texts[n_native++][0] = '\0';
			if (c)
				culprit_see(c, &frames[j]);
		}
		if (nf)
			continue;
		nf = native_frames(t, pid, pcs[i], i == 0, &native[n_native],
				   NATIVE_FRAMES_MAX - n_native, texts[n_native], LW_FRAME_TEXT);
		for (j = 1; j < nf; j++)
			texts[n_native + j][0] = '\0';
		n_native += nf;
	}
	if (n_py > 0) {
		/* texts[] only come from fakes, which have no Python */
		out->n = py_merge_frames(native, n_native, py, n_py, out->info, LW_STACK_MAX);
		for (i = 0; i < out->n; i++)
			lw_frame_text(&out->info[i], out->frames[i], LW_FRAME_TEXT);
		return;
	}
	for (i = 0; i < n_native && i < LW_STACK_MAX; i++) {
		out->info[i] = native[i];
		if (texts[i][0])
			snprintf(out->frames[i], LW_FRAME_TEXT, "%s", texts[i]);
		else
			lw_frame_text(&native[i], out->frames[i], LW_FRAME_TEXT);
	}
	out->n = i;
}

static void symbolize_user(struct lw_tracker *t, uint32_t pid, const uint64_t *pcs, int n,
			   struct lw_stack_text *out, struct culprit *c)
{
	symbolize_stack(t, pid, pcs, n, NULL, 0, out, c);
}

/* The user pcs of the thread of r: n >= 0 (0 when unreadable, counted). */
static int unwind(struct lw_tracker *t, const struct lw_task_rec *r, uint64_t *pcs)
{
	int n;

	if (!t->opts.stacks.unwind || (r->flags & LW_TF_KTHREAD))
		return 0;
	n = t->opts.stacks.unwind(t->opts.stacks.ctx, r, pcs, LW_STACK_MAX);
	if (n > 0)
		return n;
	/* Counted, and shown as the one frame known: where it stopped. */
	t->stacks_unreadable++;
	pcs[0] = r->regs[LW_REG_IP];
	return pcs[0] ? 1 : 0;
}

/* A kernel frame from kallsyms' "func+0xoff" (or "0xaddr": unnamed). */
static void kernel_frame_info(const char *text, uint64_t pc, struct lw_frame *out)
{
	unsigned long long off;
	char func[LW_FUNC_TEXT];

	lw_frame_unknown(out, LW_FRAME_KERNEL, pc, "kernel");
	if (text[0] == '0' && text[1] == 'x')
		return;
	if (sscanf(text, "%127[^+]+0x%llx", func, &off) == 2) {
		snprintf(out->func, sizeof(out->func), "%s", func);
		out->offset = off;
	}
}

/* The Python frames of the thread of r (0: none, or not Python; an
 * unreadable chain counted). */
static int python_frames(struct lw_tracker *t, const struct lw_task_rec *r, struct lw_frame *out)
{
	int n;

	if (!t->opts.stacks.python_frames || (r->flags & LW_TF_KTHREAD))
		return 0;
	n = t->opts.stacks.python_frames(t->opts.stacks.ctx, r->pid, r->tid, out, PY_FRAMES_MAX);
	if (n >= 0)
		return n < PY_FRAMES_MAX ? n : PY_FRAMES_MAX;
	t->python_unreadable++;
	return 0;
}

/* A new site of p, with the next id; NULL when it is not kept (a full
 * table or out of memory: counted). */
static struct lw_site *new_site(struct lw_tracker *t, struct lw_process *p, uint64_t key,
				const struct lw_wait *wait, const uint64_t *user, int n_user,
				const uint64_t *kernel, int n_kernel)
{
	struct lw_site *s;
	int err;

	err = site_add(&p->sites, t->last_site_id + 1, p->pid, key, wait, user, n_user, kernel,
		       n_kernel, &t->opts.trend, t->trend_scratch, &s);
	if (err) {
		if (err == -ENOSPC)
			t->sites_untracked++;
		else
			t->insert_failures++;
		return NULL;
	}
	t->last_site_id++;
	return s;
}

/* Where the thread of r waits: its site, found or made (and reported). */
static struct lw_site *find_site(struct lw_tracker *t, struct lw_process *p,
				 const struct lw_waiter *w, const struct lw_task_rec *r,
				 const struct lw_kstack_rec *k)
{
	uint64_t user[LW_STACK_MAX], kernel[LW_STACK_MAX] = { 0 };
	int n_user = unwind(t, r, user), n_kernel = 0, n_py, i;
	struct lw_site *s;
	uint64_t key;

	if (k && k->nr > 0)
		n_kernel = k->nr < LW_KSTACK_MAX ? k->nr : LW_KSTACK_MAX;
	else if (t->opts.stacks.unwind)
		t->kstacks_unreadable++;
	for (i = 0; i < n_kernel; i++)
		kernel[i] = k->ips[i];

	n_py = python_frames(t, r, t->py_scratch);
	key = site_key(&w->thread->wait, user, n_user, kernel, n_kernel);
	/* Threads of one interpreter share its C frames: their Python code
	 * tells their sites apart. */
	for (i = 0; i < n_py; i++)
		key = (key ^ t->py_scratch[i].pc ^ ((uint64_t)t->py_scratch[i].offset << 40)) *
		      0x100000001b3ULL;
	s = site_find(&p->sites, key);
	if (s)
		return s;
	s = new_site(t, p, key, &w->thread->wait, user, n_user, kernel, n_kernel);
	if (!s)
		return NULL;
	symbolize_stack(t, p->pid, s->user_pcs, s->n_user, t->py_scratch, n_py, &s->user, NULL);
	site_name_thread(s);
	if (t->opts.stacks.symbolize_kernel) {
		for (i = 0; i < s->n_kernel; i++) {
			t->opts.stacks.symbolize_kernel(t->opts.stacks.ctx, s->kernel_pcs[i],
							s->kernel.frames[i], LW_FRAME_TEXT);
			kernel_frame_info(s->kernel.frames[i], s->kernel_pcs[i],
					  &s->kernel.info[i]);
		}
		s->kernel.n = s->n_kernel;
	}
	emit(t, &(struct lw_report){
			.type = LW_RPT_SITE,
			.ts = unix_ts(t, r->now_ns),
			.pid = p->pid,
			.pcomm = p->pcomm,
			.cgroup = process_cgroup(t, p),
			.site = s,
		});
	return s;
}

static void report_stuck(struct lw_tracker *t, struct lw_waiter *w, struct lw_process *p,
			 const struct lw_task_rec *r, const struct lw_kstack_rec *k)
{
	wait_decode(r, &t->opts.restart_fns, t->opts.read_first_waiter, &w->thread->wait);
	set_site(w, p ? find_site(t, p, w, r, k) : NULL);
	w->stuck = true;
	if (p)
		p->stuck_waiters++;
	if (w->site && t->opts.locks.read) {
		lock_wait_decode(r, &w->thread->wait, &w->site->user, &t->opts.locks,
				 &w->thread->lock, &t->lock_stats);
		if (p && w->thread->lock.owner_known)
			p->locks_changed = true;
	}
	emit(t, &(struct lw_report){
			.type = LW_RPT_STUCK,
			.ts = unix_ts(t, r->now_ns),
			.pid = w->id.pid,
			.tid = (uint32_t)w->id.id,
			.comm = w->thread->comm,
			.pcomm = p ? p->pcomm : "",
			.cgroup = process_cgroup(t, p),
			.state = w->state,
			.blocked_s = seconds(elapsed(r->now_ns, w->since_ns)),
			.since_exact = w->since_exact,
			.wait = &w->thread->wait,
			.site = w->site,
			.lock = w->thread->lock.kind ? &w->thread->lock : NULL,
		});
}

/* ---- Goroutines: what a Go process's reports name, kept per process ---- */

static struct go_state *go_state_of(struct lw_tracker *t, struct lw_process *p)
{
	if (p->go)
		return p->go;
	p->go = calloc(1, sizeof(*p->go));
	if (!p->go) {
		t->insert_failures++;
		return NULL;
	}
	waiter_map_init(&p->go->spinners);
	return p->go;
}

/* The wait named by Go's wait reason, made once per process and reason. */
static const struct lw_wait *go_wait(struct lw_tracker *t, struct lw_process *p, uint8_t reason)
{
	struct go_state *g = p->go;
	struct named_wait {
		struct lw_wait wait;
		char name[40];
	} *nw;
	const char *name = NULL;

	if (g->waits[reason])
		return g->waits[reason];
	nw = calloc(1, sizeof(*nw));
	if (!nw) {
		t->insert_failures++;
		return NULL;
	}
	if (t->opts.stacks.go_wait_reason)
		name = t->opts.stacks.go_wait_reason(t->opts.stacks.ctx, p->pid, reason);
	if (name && name[0])
		snprintf(nw->name, sizeof(nw->name), "%s", name);
	else
		snprintf(nw->name, sizeof(nw->name), "wait reason %u", reason);
	nw->wait.kind = nw->name;
	/* The struct begins with its wait: freed as one. */
	g->waits[reason] = &nw->wait;
	return g->waits[reason];
}

static uint64_t pc_hash(uint64_t key)
{
	return key * 0x9e3779b97f4a7c15ULL;
}

static struct pc_name *pc_slot(const struct pc_names *m, uint64_t key)
{
	size_t i = (size_t)(pc_hash(key) >> 32) & (m->cap - 1);

	while (m->v[i].key && m->v[i].key != key)
		i = (i + 1) & (m->cap - 1);
	return &m->v[i];
}

/* Room for one more name: 0, or -ENOSPC at GO_NAMES_MAX, or -ENOMEM. */
static int pc_names_reserve(struct pc_names *m)
{
	struct pc_names bigger;
	size_t i;

	if (m->n >= GO_NAMES_MAX)
		return -ENOSPC;
	if (m->cap && 2 * (m->n + 1) <= m->cap)
		return 0;
	bigger.cap = m->cap ? 2 * m->cap : 64;
	bigger.n = m->n;
	bigger.v = calloc(bigger.cap, sizeof(*bigger.v));
	if (!bigger.v)
		return -ENOMEM;
	for (i = 0; i < m->cap; i++)
		if (m->v[i].key)
			*pc_slot(&bigger, m->v[i].key) = m->v[i];
	free(m->v);
	*m = bigger;
	return 0;
}

/*
 * The text of a goroutine's start function (start: its entry, the name
 * alone) or of where it was created (its go statement's return pc:
 * "main.queryAll (/src/main.go:19)"), made once per pc and process.  NULL
 * when unknown, or past GO_NAMES_MAX (counted).
 */
static const char *go_pc_name(struct lw_tracker *t, struct lw_process *p, uint64_t pc, bool start)
{
	struct pc_names *m = &p->go->names;
	uint64_t key = pc ^ (start ? 1ULL << 63 : 0);
	struct go_frame frames[GO_INLINE_MAX];
	struct pc_name *slot;
	char text[LW_FRAME_TEXT], name[GO_NAME_MAX];
	int n, err;

	if (!pc)
		return NULL;
	if (m->cap && (slot = pc_slot(m, key))->key)
		return slot->text;
	n = go_frames(t, p->pid, pc, start, frames);
	if (!n || !frames[0].func || !frames[n - 1].func)
		return NULL; /* not Go code: looked up again next time, cheap */
	/* As Go's "created by": the function that holds the go statement (the
	 * outer frame of an inlined call), at the line of the statement. */
	go_func_print_name(frames[n - 1].func, name, sizeof(name));
	if (start || !frames[0].file || !frames[0].file[0] || frames[0].line <= 0)
		snprintf(text, sizeof(text), "%s", name);
	else
		snprintf(text, sizeof(text), "%s (%s:%d)", name, frames[0].file, frames[0].line);
	err = pc_names_reserve(m);
	if (err) {
		t->insert_failures++;
		return NULL;
	}
	slot = pc_slot(m, key);
	slot->text = strdup(text);
	if (!slot->text) {
		t->insert_failures++;
		return NULL;
	}
	slot->key = key;
	m->n++;
	return slot->text;
}

/* A spinning thread's report names the goroutine that ran on it at the
 * last read of its process's goroutines. */
static void join_goroutine(struct lw_tracker *t, struct lw_process *p, uint32_t tid,
			   struct lw_report *r)
{
	size_t i;

	if (!p->go)
		return;
	for (i = 0; i < p->go->n_running; i++) {
		const struct go_running *g = &p->go->running[i];

		if (g->tid != tid)
			continue;
		r->goid = g->goid;
		r->func = go_pc_name(t, p, g->startpc, true);
		r->created_by = g->goid == 1 ? NULL : go_pc_name(t, p, g->gopc, false);
		return;
	}
}

/* The goroutine on thread tid at the last read, if any. */
static const struct go_running *running_on(const struct go_state *go, uint32_t tid)
{
	for (size_t i = 0; i < go->n_running; i++)
		if (go->running[i].tid == tid)
			return &go->running[i];
	return NULL;
}

/*
 * A thread-level spin on tid: true when the goroutine on it had its spin
 * reported in this episode (the thread's is then not); else that
 * goroutine's episode is the thread's report from now on.
 */
static bool goroutine_spin_reported(struct lw_tracker *t, struct lw_process *p, uint32_t tid)
{
	const struct go_running *g;
	struct go_spinner *sp;

	if (!p->go || !(g = running_on(p->go, tid)))
		return false;
	sp = waiter_map_get(&p->go->spinners, lw_goroutine_id(p->pid, g->goid));
	if (!sp)
		return false;
	if (sp->reported)
		return true;
	sp->reported = true;
	if (sp->pending_tid) {
		sp->pending_tid = 0;
		p->go->spins_pending--;
	}
	return false;
}

/* Scans a spinning goroutine's report waits for its thread to show the
 * goroutine's own stack, before it goes out with what the thread shows. */
#define SPIN_STACK_TRIES 3

/*
 * Is a thread's user stack its goroutine's?  It is when the walk reaches
 * runtime.goexit.  A spinner preempted, or its locked thread handing off its
 * P, is caught in the scheduler, on the thread's g0 stack (runtime.futex <-
 * ... <- mstart): true of the thread, not where the goroutine spins.
 */
static bool on_goroutine_stack(struct lw_tracker *t, uint32_t pid, const uint64_t *pcs, int n)
{
	struct go_frame f[GO_INLINE_MAX];
	int i, k, nf;

	/* goexit is the outermost frame; an unwinder may add one past it */
	for (i = n - 1; i >= 0 && i >= n - 2; i--) {
		nf = go_frames(t, pid, pcs[i], i == 0, f);
		for (k = 0; k < nf; k++)
			if (f[k].func && !strcmp(f[k].func, "runtime.goexit"))
				return true;
	}
	return false;
}

/* A goroutine's spin: its stack is its thread's (tid, comm) when it is
 * on one, else its own from g.sched. */
static void emit_goroutine_spin(struct lw_tracker *t, struct lw_process *p,
				struct go_spinner *sp, uint32_t tid, const char *comm,
				const uint64_t *pcs, int n)
{
	struct lw_stack_text *stack = calloc(1, sizeof(*stack));

	sp->reported = true;
	t->spins++;
	if (!stack) {
		t->insert_failures++;
		return;
	}
	symbolize_user(t, p->pid, pcs, n, stack, NULL);
	emit(t, &(struct lw_report){
			.type = LW_RPT_SPIN,
			.ts = unix_ts(t, t->now_ns),
			.pid = p->pid,
			.tid = tid,
			.comm = comm,
			.pcomm = p->pcomm,
			.cgroup = process_cgroup(t, p),
			.goid = sp->goid,
			.func = go_pc_name(t, p, sp->startpc, true),
			.created_by = go_pc_name(t, p, sp->gopc, false),
			.running_s = seconds(elapsed(t->now_ns, sp->since_ns)),
			.stack = stack,
		});
	p->reported = true;
	free(stack);
}

/* The record of thread w (r): a goroutine found spinning on it by this
 * scan's read goes out now, with the thread's stack. */
static void report_pending_spin(struct lw_tracker *t, struct lw_process *p, struct lw_waiter *w,
				const struct lw_task_rec *r)
{
	uint64_t pcs[LW_STACK_MAX];
	struct lw_waiter_id id;
	struct go_spinner *sp;
	size_t i = 0;
	void *value;
	int n;

	while (waiter_map_next(&p->go->spinners, &i, &id, &value)) {
		sp = value;
		if (sp->pending_tid != r->tid)
			continue;
		sp->pending_tid = 0;
		p->go->spins_pending--;
		n = unwind(t, r, pcs);
		if (!on_goroutine_stack(t, p->pid, pcs, n) && sp->stack_tries < SPIN_STACK_TRIES) {
			sp->stack_tries++; /* the next read may catch it in its own code */
			return;
		}
		emit_goroutine_spin(t, p, sp, r->tid, w->thread->comm, pcs, n);
		return;
	}
}

/*
 * A spin: runnable at every scan for longer than the threshold, with no
 * voluntary switch (nvcsw counts them) in between: it never blocked.
 */
static void check_spin(struct lw_tracker *t, struct lw_waiter *w, struct lw_process *p,
		       const struct lw_task_rec *r)
{
	uint64_t pcs[LW_STACK_MAX];
	struct lw_stack_text *stack;
	struct lw_report rep;
	int n;

	if (!w->thread->run_since_ns || w->thread->nvcsw != r->nvcsw) {
		w->thread->run_since_ns = r->now_ns;
		w->thread->nvcsw = r->nvcsw;
		w->thread->spin_reported = false;
		w->thread->spin_stack_tries = 0;
		return;
	}
	if (w->thread->spin_reported ||
	    elapsed(r->now_ns, w->thread->run_since_ns) < t->opts.threshold_ns)
		return;
	n = unwind(t, r, pcs);
	/* A goroutine on it: its report waits for a scan that finds the
	 * thread in the goroutine's code, not in the scheduler. */
	if (p && p->go && running_on(p->go, r->tid) && !on_goroutine_stack(t, r->pid, pcs, n) &&
	    w->thread->spin_stack_tries < SPIN_STACK_TRIES) {
		w->thread->spin_stack_tries++;
		return;
	}
	w->thread->spin_reported = true;
	if (p && goroutine_spin_reported(t, p, r->tid))
		return; /* one spin per goroutine episode: it went out already */
	t->spins++;
	stack = calloc(1, sizeof(*stack));
	if (!stack) {
		t->insert_failures++;
		return;
	}
	symbolize_user(t, r->pid, pcs, n, stack, NULL);
	rep = (struct lw_report){
		.type = LW_RPT_SPIN,
		.ts = unix_ts(t, r->now_ns),
		.pid = w->id.pid,
		.tid = (uint32_t)w->id.id,
		.comm = w->thread->comm,
		.pcomm = p ? p->pcomm : "",
		.cgroup = process_cgroup(t, p),
		.running_s = seconds(elapsed(r->now_ns, w->thread->run_since_ns)),
		.stack = stack,
	};
	if (p)
		join_goroutine(t, p, r->tid, &rep);
	emit(t, &rep);
	free(stack);
}

/*
 * Does the end record e end w's wait?  Its stamp names the wait, but a
 * thread that a scan stamped with the pre-attach lower bound (inexact, in
 * the window where the kernel has cleared on_rq before sched_switch ran)
 * gets its real stamp from that switch: the record then carries the later
 * stamp, and LW_EF_SINCE_INEXACT says no switch-in came in between.
 */
static bool ends_wait(const struct lw_waiter *w, const struct lw_event *e)
{
	if (w->since_ns == e->blocked_since_ns)
		return true;
	return !w->since_exact && (e->flags & LW_EF_SINCE_INEXACT) &&
	       e->blocked_since_ns > w->since_ns;
}

static void apply_event(struct lw_tracker *t, const struct lw_event *e)
{
	struct lw_waiter *w;
	struct lw_process *p;

	switch (e->type) {
	case LW_REC_WAIT_END:
		w = waiter_map_get(&t->waiters, lw_thread_id(e->pid, e->tid));
		if (w && w->stuck && ends_wait(w, e))
			report_unstuck(t, w, e->ts_ns, true);
		break;
	case LW_REC_THREAD_NEW:
		/* With -- COMMAND the kernel adds children to the targets. */
		if ((e->flags & LW_EF_NEW_PROCESS) && !t->opts.host_wide) {
			p = get_process(t, e->ppid, false);
			if (p && p->target)
				add_target(t, e->pid, false);
		}
		break;
	case LW_REC_THREAD_EXIT:
		/* A stuck thread whose end record was lost ended by now. */
		w = waiter_map_get(&t->waiters, lw_thread_id(e->pid, e->tid));
		if (w) {
			end_inexact(t, w);
			waiter_remove(t, w);
		}
		/* The process itself goes at the next scan's end: its sites may
		 * still be named by waiters in the table until then. */
		if (e->flags & LW_EF_GROUP_DEAD) {
			p = get_process(t, e->pid, false);
			/* Never scanned (a short command): its last thread's
			 * name is the best there is, and after the exec. */
			if (p && !p->pcomm[0])
				copy_comm(p->pcomm, e->comm);
			if (p)
				report_exit(t, p, e->ts_ns);
		}
		break;
	}
}

/* Outside a scan a record applies at once; during one it waits for the
 * task records of its time. */
void tracker_event(struct lw_tracker *t, const struct lw_event *e)
{
	struct event_queue *q = &t->queue;

	if (!t->scan_open) {
		apply_event(t, e);
		return;
	}
	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 256;
		struct lw_event *events = realloc(q->events, cap * sizeof(*events));

		if (!events) {
			apply_event(t, e); /* out of order rather than lost */
			return;
		}
		q->events = events;
		q->cap = cap;
	}
	q->events[q->n++] = *e;
}

/* The queued records older than until_ns, oldest first. */
static void apply_queued(struct lw_tracker *t, uint64_t until_ns)
{
	struct event_queue *q = &t->queue;

	while (q->head < q->n && q->events[q->head].ts_ns < until_ns)
		apply_event(t, &q->events[q->head++]);
	if (q->head == q->n)
		q->head = q->n = 0;
}

/*
 * Before the scan's first task: the records older than the scan, then the
 * waits the last scan saw end whose record did not come by the time of this
 * scan (lost, counted by the kernel side): reported with the last time they
 * were seen blocked.
 */
static void catch_up(struct lw_tracker *t)
{
	struct ptr_list ended = {};
	struct lw_waiter_id id;
	size_t i = 0;
	void *value;

	if (t->caught_up)
		return;
	t->caught_up = true;
	apply_queued(t, t->now_ns);
	while (t->n_end_pending && waiter_map_next(&t->waiters, &i, &id, &value))
		if (((struct lw_waiter *)value)->end_pending)
			ptr_list_push(&ended, value);
	for (i = 0; i < ended.n; i++)
		end_inexact(t, ended.v[i]);
	free(ended.v);
}

void tracker_scan_begin(struct lw_tracker *t, uint64_t now_ns, const struct lw_clock *clock)
{
	t->gen++;
	t->now_ns = now_ns;
	t->last_task_ns = now_ns;
	t->opts.clock = *clock;
	t->scan_open = true;
	t->caught_up = false;
	t->scanning_tasks = 0;
}

static void count_task(struct lw_tracker *t, struct lw_process *p, const struct lw_task_rec *r)
{
	if (p->gen != t->gen) {
		p->gen = t->gen;
		p->scanning = (struct counts){ 0 };
	}
	copy_comm(p->pcomm, r->pcomm);
	p->scanning.threads++;
}

static void scan_running(struct lw_tracker *t, struct lw_waiter *w, struct lw_process *p,
			 const struct lw_task_rec *r)
{
	if (w) {
		/* The wait ended; its record (exact end) should come before the
		 * next scan. */
		w->gen = t->gen;
		if (w->stuck)
			set_end_pending(t, w, true);
	}
	if (!(r->flags & LW_TF_RUNNABLE) || (r->flags & LW_TF_KTHREAD)) {
		if (w)
			w->thread->run_since_ns = 0;
		return;
	}
	if (!w && !(w = new_thread(t, r)))
		return;
	w->gen = t->gen;
	copy_comm(w->thread->comm, r->comm);
	if (p && p->go && p->go->spins_pending)
		report_pending_spin(t, p, w, r);
	check_spin(t, w, p, r);
}

void tracker_scan_task(struct lw_tracker *t, const struct lw_task_rec *r,
		       const struct lw_kstack_rec *kstack)
{
	struct lw_process *p;
	struct lw_waiter *w;

	catch_up(t);
	apply_queued(t, r->now_ns);
	t->scanning_tasks++;
	if (r->now_ns > t->last_task_ns)
		t->last_task_ns = r->now_ns;
	p = get_process(t, r->pid, true);
	w = waiter_map_get(&t->waiters, lw_thread_id(r->pid, r->tid));
	if (p && p->exited)
		return; /* its last threads, seen after the exit record */
	if (p)
		count_task(t, p, r);
	if (!(r->flags & LW_TF_BLOCKED)) {
		scan_running(t, w, p, r);
		return;
	}

	if (!w && !(w = new_thread(t, r)))
		return;
	w->gen = t->gen;
	w->thread->run_since_ns = 0;
	copy_comm(w->thread->comm, r->comm);
	if (w->since_ns != r->blocked_since_ns) {
		/* A new wait.  If the last one was reported stuck and its end
		 * was not seen, it ended now at the latest. */
		end_inexact(t, w);
		w->since_ns = r->blocked_since_ns;
		w->since_exact = !(r->flags & LW_TF_SINCE_INEXACT);
		memset(&w->thread->lock, 0, sizeof(w->thread->lock));
		w->thread->deadlocked = false;
		set_end_pending(t, w, false);
	}
	w->seen_ns = r->now_ns;
	w->state = (r->flags & LW_TF_UNINTERRUPTIBLE) ? 'D' : 'S';
	if (p)
		p->scanning.blocked++;

	if (elapsed(r->now_ns, w->since_ns) < t->opts.threshold_ns)
		return;
	if (p) {
		p->scanning.stuck++;
		p->reported = true;
	}
	if (!w->stuck)
		report_stuck(t, w, p, r, kstack);
}

/* ---- Goroutines ---- */

static struct lw_waiter *new_goroutine(struct lw_tracker *t, struct lw_waiter_id id)
{
	size_t cap = t->opts.max_goroutines ? t->opts.max_goroutines : LW_MAX_GOROUTINES;
	struct lw_waiter *w;

	if (t->n_goroutines >= cap) {
		t->goroutines_untracked++;
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		goto fail;
	w->id = id;
	if (waiter_map_put(&t->waiters, w->id, w))
		goto fail;
	t->n_goroutines++;
	return w;
fail:
	free(w);
	t->insert_failures++;
	return NULL;
}

/* Where goroutine w waits, from its Go stack: its site, found or made (and
 * reported). */
static struct lw_site *find_goroutine_site(struct lw_tracker *t, struct lw_process *p,
					   const struct lw_waiter *w, const uint64_t *pcs, int n)
{
	const struct lw_wait *wait = w->go.wait;
	struct culprit c = {};
	char created_func[LW_FRAME_TEXT];
	struct lw_site *s;
	uint64_t key;

	key = site_key_goroutine(wait->kind, pcs, n);
	s = site_find(&p->sites, key);
	if (s)
		return s;
	s = new_site(t, p, key, wait, pcs, n, NULL, 0);
	if (!s)
		return NULL;
	s->goroutine = true;
	symbolize_user(t, p->pid, s->user_pcs, s->n_user, &s->user, &c);
	/* "main.queryAll (/src/main.go:19)": the function alone in the name */
	snprintf(s->created_by, sizeof(s->created_by), "%s",
		 w->go.created_by ? w->go.created_by : "");
	snprintf(created_func, sizeof(created_func), "%.*s", (int)strcspn(s->created_by, " "),
		 s->created_by);
	site_name_goroutine(s, c.found || c.fallback || c.in_stdlib ? c.func : NULL, c.file, c.line,
			    created_func);
	emit(t, &(struct lw_report){
			.type = LW_RPT_SITE,
			.ts = unix_ts(t, t->now_ns),
			.pid = p->pid,
			.goid = w->id.id, /* the goroutine that found it */
			.pcomm = p->pcomm,
			.cgroup = process_cgroup(t, p),
			.site = s,
			.go = true,
			.goroutines = p->go->goroutines,
		});
	return s;
}

/*
 * Goroutine w is past the threshold: its stack (read now, once per wait),
 * site and report.  A stack that moved while read is asked for again at
 * the next scans; the wait is reported stuck once it reads, or without a
 * stack when it keeps moving.  Returns false when it is left for later.
 */
static bool report_goroutine_stack(struct lw_tracker *t, struct lw_process *p,
				   struct lw_waiter *w, const struct go_goroutine *g,
				   const uint64_t *pcs, int n)
{
	if (n == -EAGAIN && ++w->go.stack_tries < GO_STACK_TRIES)
		return false;
	if (n < 0) {
		t->stacks_unreadable++;
		n = 0;
	}
	if (n > LW_STACK_MAX)
		n = LW_STACK_MAX;
	w->go.wait = go_wait(t, p, w->go.wait_reason);
	if (!w->go.wait)
		return false; /* out of memory, counted: tried again next scan */
	w->go.func = go_pc_name(t, p, g->startpc, true);
	/* As Go's tracebacks: the main goroutine (goid 1) has no creator to show. */
	w->go.created_by = g->goid == 1 ? NULL : go_pc_name(t, p, g->gopc, false);
	set_site(w, find_goroutine_site(t, p, w, pcs, n));
	w->stuck = true;
	p->stuck_waiters++;
	emit(t, &(struct lw_report){
			.type = LW_RPT_STUCK,
			.ts = unix_ts(t, t->now_ns),
			.pid = p->pid,
			.goid = w->id.id,
			.func = w->go.func,
			.created_by = w->go.created_by,
			.comm = "",
			.pcomm = p->pcomm,
			.cgroup = process_cgroup(t, p),
			.state = w->state,
			.blocked_s = seconds(elapsed(t->now_ns, w->since_ns)),
			.since_exact = w->since_exact,
			.wait = w->go.wait,
			.site = w->site,
		});
	return true;
}

static bool report_goroutine_stuck(struct lw_tracker *t, struct lw_process *p,
				   struct lw_waiter *w, const struct go_goroutine *g)
{
	uint64_t pcs[LW_STACK_MAX];
	int n = 0;

	if (t->opts.stacks.unwind_goroutine)
		n = t->opts.stacks.unwind_goroutine(t->opts.stacks.ctx, p->pid, g, pcs,
						    LW_STACK_MAX);
	return report_goroutine_stack(t, p, w, g, pcs, n);
}

static bool same_wait(const struct lw_waiter *w, const struct go_goroutine *g)
{
	return w->go.sp_depth == g->sp_depth && w->go.tracking_seq == g->tracking_seq &&
	       w->go.wait_reason == g->wait_reason;
}

/* g is past the threshold: read with the others of this call after it
 * (unwind_goroutines), else now.  Out of memory: alone, now. */
static void goroutine_stuck(struct lw_tracker *t, struct lw_process *p, struct lw_waiter *w,
			    const struct go_goroutine *g)
{
	if (t->opts.stacks.unwind_goroutines) {
		if (t->n_go_pending == t->cap_go_pending) {
			size_t cap = t->cap_go_pending ? 2 * t->cap_go_pending : 64;
			const struct go_goroutine **v =
				realloc(t->go_pending, cap * sizeof(*v));

			if (!v) {
				t->insert_failures++;
				return; /* counted: tried again next scan */
			}
			t->go_pending = v;
			t->cap_go_pending = cap;
		}
		t->go_pending[t->n_go_pending++] = g;
		return;
	}
	report_goroutine_stuck(t, p, w, g);
}

/* The goroutines of this call past the threshold: their stacks read
 * GO_UNWIND_BATCH at a time, then reported in the order they came. */
static void report_pending_goroutines(struct lw_tracker *t, struct lw_process *p)
{
	size_t i = 0;

	if (!t->n_go_pending)
		return;
	if (!t->go_results) {
		t->go_results = calloc(GO_UNWIND_BATCH, sizeof(*t->go_results));
		t->go_pcs = calloc(GO_UNWIND_BATCH * LW_STACK_MAX, sizeof(*t->go_pcs));
		if (!t->go_results || !t->go_pcs) {
			free(t->go_results);
			free(t->go_pcs);
			t->go_results = NULL;
			t->go_pcs = NULL;
			t->insert_failures++;
			t->n_go_pending = 0;
			return; /* counted: tried again next scan */
		}
	}
	while (i < t->n_go_pending) {
		size_t n = t->n_go_pending - i < GO_UNWIND_BATCH ? t->n_go_pending - i
								 : GO_UNWIND_BATCH;

		for (size_t k = 0; k < n; k++)
			t->go_results[k] = (struct go_stack_result){
				.pcs = t->go_pcs + k * LW_STACK_MAX, .max = LW_STACK_MAX };
		t->opts.stacks.unwind_goroutines(t->opts.stacks.ctx, p->pid, t->go_pending + i, n,
						 t->go_results);
		for (size_t k = 0; k < n; k++) {
			const struct go_goroutine *g = t->go_pending[i + k];
			struct lw_waiter *w =
				waiter_map_get(&t->waiters, lw_goroutine_id(p->pid, g->goid));

			/* Looked up again: a hostile process may list a goid
			 * twice, and its waiter end in between. */
			if (!w || w->stuck || !same_wait(w, g))
				continue;
			report_goroutine_stack(t, p, w, g, t->go_results[k].pcs,
					       t->go_results[k].n);
		}
		i += n;
	}
	t->n_go_pending = 0;
}

/* A parked goroutine: its wait, new or going on.  Returns true when it is
 * stuck (past the threshold). */
static bool scan_blocked_goroutine(struct lw_tracker *t, struct lw_process *p,
				   const struct go_goroutine *g)
{
	struct lw_waiter_id id = lw_goroutine_id(p->pid, g->goid);
	struct lw_waiter *w = waiter_map_get(&t->waiters, id);
	bool fresh = !w;

	if (!w && !(w = new_goroutine(t, id)))
		return false;
	if (!fresh && !same_wait(w, g)) {
		/* Woke and parked again between two reads: a new wait.  A
		 * stuck one ended, at the latest when it was last seen. */
		end_inexact(t, w);
		fresh = true;
	}
	if (fresh) {
		w->since_ns = t->now_ns; /* first seen: a lower bound */
		w->since_exact = false;
		w->go.sp_depth = g->sp_depth;
		w->go.tracking_seq = g->tracking_seq;
		w->go.wait_reason = g->wait_reason;
		w->go.stack_tries = 0;
		w->go.func = w->go.created_by = NULL;
	}
	w->gen = t->gen;
	w->seen_ns = t->now_ns;
	w->state = 'S';
	if (elapsed(t->now_ns, w->since_ns) < t->opts.threshold_ns)
		return false;
	if (!w->stuck)
		goroutine_stuck(t, p, w, g);
	return true;
}

/* Running, or stopped by a preemption: on the CPU as its code knows. */
static bool on_cpu(const struct go_goroutine *g)
{
	return g->status == GO_G_RUNNING ||
	       ((g->status == GO_G_RUNNABLE || g->status == GO_G_PREEMPTED) && g->preempted);
}

static void spinner_end(struct go_state *go, uint32_t pid, uint64_t goid)
{
	if (go->spinners.len)
		free(waiter_map_del(&go->spinners, lw_goroutine_id(pid, goid)));
}

/*
 * g is on the CPU at this read: its episode goes on, or starts.  Past the
 * threshold it is reported once: running, at its thread's record of this
 * scan (pending_tid); preempted, now, with its stack from g.sched (valid
 * while it is off the CPU).
 */
static void scan_spinning_goroutine(struct lw_tracker *t, struct lw_process *p,
				    const struct go_goroutine *g)
{
	struct lw_waiter_id id = lw_goroutine_id(p->pid, g->goid);
	struct go_state *go = p->go;
	struct go_spinner *sp = waiter_map_get(&go->spinners, id);
	uint64_t pcs[LW_STACK_MAX];
	int n = 0;

	if (!sp) {
		if (go->spinners.len >= GO_SPINNERS_MAX) {
			t->goroutines_untracked++;
			return;
		}
		sp = calloc(1, sizeof(*sp));
		if (!sp || waiter_map_put(&go->spinners, id, sp)) {
			free(sp);
			t->insert_failures++;
			return;
		}
		sp->goid = g->goid;
		sp->since_ns = t->now_ns; /* first seen: a lower bound */
	} else if (g->tracking_seq != sp->tracking_seq && !g->preempted) {
		/* Running again after a park (or a yield, a syscall) since
		 * the last read: a new run starts. */
		sp->since_ns = t->now_ns;
		sp->reported = false;
		sp->stack_tries = 0;
	}
	sp->gen = t->gen;
	sp->tracking_seq = g->tracking_seq;
	sp->gopc = g->gopc;
	sp->startpc = g->startpc;
	sp->pending_tid = 0;
	if (sp->reported || elapsed(t->now_ns, sp->since_ns) < t->opts.threshold_ns)
		return;
	if (g->status == GO_G_RUNNING) {
		if (g->tid) {
			sp->pending_tid = g->tid;
			go->spins_pending++;
		}
		return;
	}
	if (t->opts.stacks.unwind_goroutine) {
		n = t->opts.stacks.unwind_goroutine(t->opts.stacks.ctx, p->pid, g, pcs,
						    LW_STACK_MAX);
		if (n == -EAGAIN)
			return; /* it moved: at the next read, on a thread or not */
		if (n < 0) {
			t->stacks_unreadable++;
			n = 0;
		}
		if (n > LW_STACK_MAX)
			n = LW_STACK_MAX;
	}
	emit_goroutine_spin(t, p, sp, 0, "", pcs, n);
}

/* Spinners this read did not see at all: exited. */
static void sweep_spinners(struct lw_tracker *t, uint32_t pid, struct go_state *go)
{
	struct ptr_list gone = {};
	struct lw_waiter_id id;
	struct go_spinner *sp;
	size_t i = 0;
	void *value;

	while (waiter_map_next(&go->spinners, &i, &id, &value))
		if (((struct go_spinner *)value)->gen != t->gen)
			ptr_list_push(&gone, value);
	for (i = 0; i < gone.n; i++) {
		sp = gone.v[i];
		waiter_map_del(&go->spinners, lw_goroutine_id(pid, sp->goid));
		free(sp);
	}
	free(gone.v);
}

static void note_running(struct go_state *go, const struct go_goroutine *g)
{
	if (go->n_running == go->cap_running) {
		size_t cap = go->cap_running ? 2 * go->cap_running : 16;
		struct go_running *v;

		/* As many as the process has threads: cap it at what a
		 * hostile process could not inflate past the thread cap. */
		if (cap > LW_MAX_THREADS)
			return;
		v = realloc(go->running, cap * sizeof(*v));
		if (!v)
			return; /* that thread's spin is reported without its goroutine */
		go->running = v;
		go->cap_running = cap;
	}
	go->running[go->n_running++] = (struct go_running){
		.tid = g->tid, .goid = g->goid, .gopc = g->gopc, .startpc = g->startpc,
	};
}

void tracker_scan_goroutines(struct lw_tracker *t, uint32_t pid, const struct go_goroutine *gs,
			     size_t n)
{
	uint32_t goroutines = 0, blocked = 0, stuck = 0;
	struct lw_process *p;
	struct lw_waiter *w;
	struct go_state *go;
	size_t i;

	catch_up(t);
	t->n_go_pending = 0;
	p = get_process(t, pid, true);
	if (!p || p->exited || !(go = go_state_of(t, p)))
		return;
	go->read_gen = t->gen;
	go->n_running = 0;
	go->spins_pending = 0;
	for (i = 0; i < n; i++) {
		const struct go_goroutine *g = &gs[i];

		if (g->system || g->status == GO_G_DEAD || g->status == GO_G_IDLE ||
		    g->status == GO_G_DEADEXTRA)
			continue;
		goroutines++;
		if (on_cpu(g))
			scan_spinning_goroutine(t, p, g);
		else
			spinner_end(go, pid, g->goid);
		if (g->status == GO_G_WAITING || g->status == GO_G_LEAKED) {
			blocked++;
			stuck += scan_blocked_goroutine(t, p, g);
			continue;
		}
		if (g->status == GO_G_RUNNING && g->tid)
			note_running(go, g);
		/* Running, runnable, in a syscall: its wait, if any, ended. */
		w = waiter_map_get(&t->waiters, lw_goroutine_id(pid, g->goid));
		if (w) {
			end_inexact(t, w);
			waiter_remove(t, w);
		}
	}
	report_pending_goroutines(t, p);
	if (go->spinners.len)
		sweep_spinners(t, pid, go);
	go->goroutines = goroutines;
	go->blocked = blocked;
	go->stuck = stuck;
	if (stuck)
		p->reported = true;
}

void tracker_goroutines_unread(struct lw_tracker *t, uint32_t pid)
{
	/* Nothing to do: what was read last stands; the sweep keeps the
	 * goroutines of a process not read in this scan. */
	catch_up(t);
}

void tracker_goroutines_gone(struct lw_tracker *t, uint32_t pid)
{
	struct ptr_list gone = {};
	struct lw_waiter_id id;
	struct lw_process *p;
	size_t i = 0, found = 0;
	void *value;

	catch_up(t);
	p = id_map_get(&t->processes, pid);
	if (!p || !p->go)
		return;
	while (waiter_map_next(&t->waiters, &i, &id, &value)) {
		if (id.pid != pid || id.kind != LW_WAITER_GOROUTINE)
			continue;
		found++;
		ptr_list_push(&gone, value);
	}
	for (i = 0; i < gone.n; i++) {
		end_inexact(t, gone.v[i]);
		waiter_remove(t, gone.v[i]);
	}
	free(gone.v);
	/* Waiters name p->go's wait reasons: it goes after the last of them.
	 * Out of memory, those left are swept at the scan's end (their process
	 * read no more) and p->go stays, its counts zero, until the next call. */
	if (found == gone.n) {
		go_state_free(p->go);
		p->go = NULL;
	} else {
		p->go->goroutines = p->go->blocked = p->go->stuck = 0;
	}
}

/* ---- Lock owners: convoys and deadlocks ---- */

static void lock_waiters_push(struct lw_tracker *t, struct lw_waiter *w)
{
	struct lock_waiters *l = &t->lock_waiters;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct lw_waiter **v = realloc(l->v, cap * sizeof(*v));

		if (!v) {
			t->insert_failures++;
			return;
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = w;
}

static int by_pid_tid(const void *a, const void *b)
{
	const struct lw_waiter *x = *(struct lw_waiter *const *)a, *y = *(struct lw_waiter *const *)b;

	if (x->id.pid != y->id.pid)
		return x->id.pid < y->id.pid ? -1 : 1;
	return x->id.id < y->id.id ? -1 : x->id.id > y->id.id;
}

/* The lock waiters of pid: *n of them from the returned index. */
static size_t lock_waiters_of(const struct lw_tracker *t, uint32_t pid, size_t *n)
{
	const struct lock_waiters *l = &t->lock_waiters;
	size_t lo = 0, hi = l->n, end;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (l->v[mid]->id.pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (end = lo; end < l->n && l->v[end]->id.pid == pid; end++)
		;
	*n = end - lo;
	return lo;
}

static struct wf_waiter graph_node(const struct lw_waiter *w)
{
	return (struct wf_waiter){
		.tid = (uint32_t)w->id.id,
		.owner = w->thread->lock.owner_tid,
		.lock = w->thread->lock.addr,
	};
}

/* p's wait-for graph, in t->lock_waiters.graph: its lock waiters from
 * first.  -ENOMEM, or 0. */
static int lock_graph(struct lw_tracker *t, size_t first, size_t n)
{
	struct lock_waiters *l = &t->lock_waiters;
	size_t i;

	if (n > l->graph_cap) {
		struct wf_waiter *g = realloc(l->graph, n * sizeof(*g));
		size_t *m = g ? realloc(l->members, n * sizeof(*m)) : NULL;

		if (g)
			l->graph = g;
		if (!m) {
			t->insert_failures++;
			return -ENOMEM;
		}
		l->members = m;
		l->graph_cap = n;
	}
	for (i = 0; i < n; i++)
		l->graph[i] = graph_node(l->v[first + i]);
	return 0;
}

/* The thread waiter tid of p, seen blocked by this scan; NULL if none. */
static const struct lw_waiter *blocked_thread(const struct lw_tracker *t, uint32_t pid,
					      uint32_t tid)
{
	const struct lw_waiter *w = waiter_map_get(&t->waiters, lw_thread_id(pid, tid));

	return w && w->gen == t->gen && !w->end_pending ? w : NULL;
}

/*
 * Who the stuck waiters at s wait for in the end: the holder most of them
 * lead to through the locks they wait on.  Returns true with *h filled, or
 * false when none of them waits on a lock with a known owner.
 */
static bool leak_holder(const struct lw_tracker *t, uint32_t pid, const struct lw_site *s,
			struct lw_lock_holder *h)
{
	const struct lock_waiters *l = &t->lock_waiters;
	struct {
		uint32_t tid, n, hops;
		const struct lw_lock *lock;
	} tally[16];
	size_t first, n, i, k, n_tally = 0, best = 0;
	struct wf_holder *holders = NULL;
	struct wf_waiter *graph = NULL;
	const struct lw_waiter *hw;

	first = lock_waiters_of(t, pid, &n);
	if (!n)
		return false;
	/* Leaks are few: buffers of its own keep the views const. */
	graph = malloc(n * sizeof(*graph));
	holders = malloc(n * sizeof(*holders));
	if (!graph || !holders)
		goto none;
	for (i = 0; i < n; i++)
		graph[i] = graph_node(l->v[first + i]);
	if (wait_for_holders(graph, n, holders))
		goto none;
	for (i = 0; i < n; i++) {
		if (l->v[first + i]->site != s || holders[i].err)
			continue;
		for (k = 0; k < n_tally && tally[k].tid != holders[i].tid; k++)
			;
		if (k == n_tally) {
			if (n_tally == sizeof(tally) / sizeof(tally[0]))
				continue;
			tally[n_tally++] = (typeof(tally[0])){ .tid = holders[i].tid,
				.hops = holders[i].hops, .lock = &l->v[first + i]->thread->lock };
		}
		tally[k].n++;
	}
	free(graph);
	free(holders);
	if (!n_tally)
		return false;
	for (k = 1; k < n_tally; k++)
		if (tally[k].n > tally[best].n)
			best = k;
	*h = (struct lw_lock_holder){
		.tid = tally[best].tid,
		.comm = "",
		.waiters = tally[best].n,
		.hops = tally[best].hops,
		.lock = tally[best].lock,
	};
	hw = blocked_thread(t, pid, h->tid);
	if (hw) {
		h->comm = hw->thread->comm;
		h->blocked = true;
		h->blocked_s = seconds(elapsed(t->now_ns, hw->since_ns));
		h->wait = &hw->thread->wait;
		h->site = hw->stuck ? hw->site : NULL;
	}
	return true;
none:
	free(graph);
	free(holders);
	return false;
}

/* The same deadlock is the same threads in the same waits. */
static uint64_t deadlock_key(const struct lw_tracker *t, size_t first, const size_t *members,
			     size_t len)
{
	uint64_t key = 0xcbf29ce484222325ULL;
	size_t k;

	for (k = 0; k < len; k++) {
		const struct lw_waiter *w = t->lock_waiters.v[first + members[k]];

		key = (key ^ w->id.id) * 0x100000001b3ULL;
		key = (key ^ w->since_ns) * 0x100000001b3ULL;
	}
	return key;
}

static bool deadlock_reported(const struct lw_process *p, uint64_t key)
{
	unsigned int i;

	for (i = 0; p->deadlocks && i < p->n_deadlocks && i < LW_DEADLOCKS_PER_PROCESS; i++)
		if (p->deadlocks[i].key == key)
			return true;
	return false;
}

/* Remembers a deadlock of p: false out of memory (then it may be reported again). */
static bool deadlock_remember(struct lw_tracker *t, struct lw_process *p, uint64_t key,
			      size_t first, const size_t *members, size_t len)
{
	struct deadlock_seen *d;
	size_t k;

	if (!p->deadlocks)
		p->deadlocks = calloc(LW_DEADLOCKS_PER_PROCESS, sizeof(*p->deadlocks));
	if (!p->deadlocks) {
		t->insert_failures++;
		return false;
	}
	/* A ring: past LW_DEADLOCKS_PER_PROCESS the oldest is forgotten. */
	d = &p->deadlocks[p->n_deadlocks++ % LW_DEADLOCKS_PER_PROCESS];
	d->key = key;
	d->n = (uint32_t)len;
	for (k = 0; k < len && k < LW_DEADLOCK_TIDS; k++)
		d->tids[k] = (uint32_t)t->lock_waiters.v[first + members[k]]->id.id;
	return true;
}

/* Every member (of those a record describes) is in a deadlock reported
 * already in this wait: the same cycle, whose key the ring of
 * LW_DEADLOCKS_PER_PROCESS may have forgotten.  A thread waits for one
 * lock: it is in one cycle at most. */
static bool cycle_marked(const struct lw_tracker *t, size_t first, const size_t *members,
			 size_t len)
{
	size_t k;

	for (k = 0; k < len && k < LW_DEADLOCK_MEMBERS_MAX; k++)
		if (!t->lock_waiters.v[first + members[k]]->thread->deadlocked)
			return false;
	return len > 0;
}

static void report_deadlock(struct lw_tracker *t, struct lw_process *p, size_t first,
			    const size_t *members, size_t len, uint64_t key)
{
	struct lw_deadlock_member m[LW_DEADLOCK_MEMBERS_MAX];
	size_t k, shown = len < LW_DEADLOCK_MEMBERS_MAX ? len : LW_DEADLOCK_MEMBERS_MAX;

	for (k = 0; k < shown; k++) {
		struct lw_waiter *w = t->lock_waiters.v[first + members[k]];

		w->thread->deadlocked = true;
		m[k] = (struct lw_deadlock_member){
			.tid = (uint32_t)w->id.id,
			.comm = w->thread->comm,
			.lock = &w->thread->lock,
			.site = w->site,
			.blocked_s = seconds(elapsed(t->now_ns, w->since_ns)),
		};
	}
	deadlock_remember(t, p, key, first, members, len);
	t->deadlocks++;
	p->reported = true;
	emit(t, &(struct lw_report){
			.type = LW_RPT_DEADLOCK,
			.ts = unix_ts(t, t->now_ns),
			.pid = p->pid,
			.pcomm = p->pcomm,
			.cgroup = process_cgroup(t, p),
			.cycle = m,
			.n_cycle = (uint32_t)shown,
			.cycle_threads = (uint32_t)len,
		});
}

/* The owners of p's lock waiters, read when each turned stuck, read again
 * where a lock was handed on since: the holder a leak names is the one now. */
static void refresh_lock_owners(struct lw_tracker *t, struct lw_process *p)
{
	/* Locks seen still held by the same owner in this pass: the waiters
	 * of a convoy share one lock, read once, not once each. */
	struct {
		uint64_t addr;
		uint32_t owner;
	} held[64] = {};
	size_t first, n, i;

	first = lock_waiters_of(t, p->pid, &n);
	for (i = 0; i < n; i++) {
		struct lw_waiter *w = t->lock_waiters.v[first + i];
		struct lw_lock *l = &w->thread->lock;
		size_t slot = (size_t)(((l->addr >> 3) * 0x9e3779b97f4a7c15ULL) >> 58);

		if (l->addr && held[slot].addr == l->addr && held[slot].owner == l->owner_tid)
			continue;
		if (lock_wait_refresh(l, p->pid, (uint32_t)w->id.id, &t->opts.locks))
			p->locks_changed = true;
		else if (l->owner_known && l->addr)
			held[slot].addr = l->addr, held[slot].owner = l->owner_tid;
	}
}

/*
 * The cycles among p's lock waiters, each reported once.  Owners were read
 * when each thread turned stuck: before a cycle is reported every member's
 * owner is read again, so that a lock let go since does not make one.
 */
static void check_deadlocks(struct lw_tracker *t, struct lw_process *p)
{
	struct lock_waiters *l = &t->lock_waiters;
	struct wf_cycle few[8], *cycles = few;
	size_t first, n, c, k, max = 8;
	bool unverified = false;
	int found;

	/* A lock handed on since a waiter turned stuck: its edge read
	 * again, or a cycle through its new owner is never found. */
	refresh_lock_owners(t, p);
	first = lock_waiters_of(t, p->pid, &n);
	p->locks_changed = false;
	if (!n || lock_graph(t, first, n))
		return;
	/* A cycle has a member at least: n of them at most.  Out of memory,
	 * the first 8, the rest at a later scan that has the memory. */
	if (n > max) {
		struct wf_cycle *all = malloc(n * sizeof(*all));

		if (all) {
			cycles = all;
			max = n;
		}
	}
	found = wait_for_cycles(l->graph, n, l->members, cycles, max);
	for (c = 0; found > 0 && c < (size_t)found && c < max; c++) {
		const size_t *members = l->members + cycles[c].start;
		uint64_t key = deadlock_key(t, first, members, cycles[c].len);

		if (deadlock_reported(p, key) || cycle_marked(t, first, members, cycles[c].len))
			continue;
		for (k = 0; k < cycles[c].len; k++) {
			struct lw_waiter *w = l->v[first + members[k]];

			/* Let go since: its owner now, for the next look
			 * (the lock may have gone to a thread that closes
			 * another cycle). */
			if (!lock_wait_still_owned(&w->thread->lock, p->pid, (uint32_t)w->id.id,
						   &t->opts.locks)) {
				lock_wait_refresh(&w->thread->lock, p->pid, (uint32_t)w->id.id,
						  &t->opts.locks);
				break;
			}
		}
		if (k < cycles[c].len) {
			unverified = true;
			continue;
		}
		report_deadlock(t, p, first, members, cycles[c].len, key);
	}
	/* More cycles than described, or one not verified: look again. */
	p->locks_changed = unverified || found > (int)max;
	if (cycles != few)
		free(cycles);
}

static void report_leak(struct lw_tracker *t, struct lw_process *p, struct lw_site *s,
			uint32_t stuck)
{
	struct lw_lock_holder holder;
	bool has_holder;

	if (s != p->threads_site && !s->goroutine)
		refresh_lock_owners(t, p);
	has_holder = s != p->threads_site && !s->goroutine && leak_holder(t, p->pid, s, &holder);

	t->leaks++;
	emit(t, &(struct lw_report){
			.type = LW_RPT_LEAK,
			.ts = unix_ts(t, t->now_ns),
			.pid = p->pid,
			.pcomm = p->pcomm,
			.cgroup = process_cgroup(t, p),
			.site = s,
			.stuck = stuck,
			.threads = p->counts.threads,
			.go = p->go != NULL,
			.goroutines = p->go ? p->go->goroutines : 0,
			.goroutines_blocked = p->go ? p->go->blocked : 0,
			.goroutines_stuck = p->go ? p->go->stuck : 0,
			.growth_per_min = s->leak.growth_per_min,
			.holder = has_holder ? &holder : NULL,
		});
}

/* The "threads" site of p, made at its first leak with the series so far;
 * NULL out of memory (counted). */
static struct lw_site *threads_site(struct lw_tracker *t, struct lw_process *p)
{
	struct lw_site *s = p->threads_site;

	if (s)
		return s;
	s = calloc(1, sizeof(*s));
	if (!s) {
		t->insert_failures++;
		return NULL;
	}
	s->pid = p->pid;
	snprintf(s->name, sizeof(s->name), "threads");
	snprintf(s->kind, sizeof(s->kind), "threads");
	s->leak = p->threads_leak;
	p->threads_leak = (struct leak_series){ 0 };
	p->threads_site = s;
	return s;
}

/*
 * One sample per site per scan, and one of the process's thread count; leak
 * policy (leak_policy.c) says when each is a leak.  The thread count leaves
 * out the piles (sites with more than one stuck thread), whose growth their
 * sites report: what is left grows when threads pile up nowhere in
 * particular (each at a site of its own, or not blocked at all).
 */
static void check_leaks(struct lw_tracker *t, struct lw_process *p, uint64_t interval_ns)
{
	struct leak_series *threads = p->threads_site ? &p->threads_site->leak : &p->threads_leak;
	uint32_t in_piles = 0, loose;
	bool site_growing = false;
	struct lw_site *s;
	size_t i;

	for (i = 0; i < p->sites.n; i++) {
		s = p->sites.sites[i];
		if (leak_series_sample(&s->leak, s->stuck, interval_ns, &t->opts.trend))
			report_leak(t, p, s, s->stuck);
		if (s->goroutine)
			continue; /* goroutines are not threads */
		if (s->stuck > 1)
			in_piles += s->stuck;
		site_growing |= leak_series_growing(&s->leak);
	}
	loose = p->counts.threads > in_piles ? p->counts.threads - in_piles : 0;
	if (leak_series_sample(threads, loose, interval_ns, &t->threads_trend) && !site_growing &&
	    (s = threads_site(t, p)))
		report_leak(t, p, s, p->counts.stuck);
}

/* A goroutine waiter this scan did not see is gone when its process's
 * goroutines were read (it exited), or its process is gone; else (not
 * read this time) it stays as it was. */
static bool goroutine_gone(const struct lw_tracker *t, const struct lw_waiter *w)
{
	const struct lw_process *p = id_map_get(&t->processes, w->id.pid);

	return !p || p->exited || p->gen != t->gen || !p->go || p->go->read_gen == t->gen;
}

/* Waiters the scan did not see are gone (exited; their records, if any, were
 * lost): a stuck one's wait ended.  The others count at their sites.  One
 * walk: a Go process may have hundreds of thousands of waiters. */
static void sweep_waiters(struct lw_tracker *t)
{
	struct ptr_list gone = {};
	struct lw_waiter_id id;
	struct lw_process *p;
	struct lw_waiter *w;
	uint32_t key;
	size_t i = 0;
	void *value;

	while (id_map_next(&t->processes, &i, &key, &value)) {
		p = value;
		for (size_t j = 0; j < p->sites.n; j++)
			p->sites.sites[j]->stuck = 0;
	}
	i = 0;
	t->lock_waiters.n = 0;
	while (waiter_map_next(&t->waiters, &i, &id, &value)) {
		w = value;
		if (w->gen != t->gen && (!is_goroutine(w) || goroutine_gone(t, w))) {
			ptr_list_push(&gone, w);
			continue;
		}
		if (w->stuck && !w->end_pending && w->site)
			w->site->stuck++;
		if (w->stuck && !w->end_pending && !is_goroutine(w) && w->thread->lock.owner_known)
			lock_waiters_push(t, w);
	}
	if (t->lock_waiters.n > 1) /* qsort of NULL, even of 0 elements, is undefined */
		qsort(t->lock_waiters.v, t->lock_waiters.n, sizeof(*t->lock_waiters.v), by_pid_tid);
	for (i = 0; i < gone.n; i++) {
		w = gone.v[i];
		end_inexact(t, w);
		waiter_remove(t, w);
	}
	free(gone.v);
}

/* The scan is over: the records after its last task record go now. */
static void close_scan(struct lw_tracker *t)
{
	t->scan_open = false;
	apply_queued(t, UINT64_MAX);
}

void tracker_scan_end(struct lw_tracker *t)
{
	struct ptr_list gone = {};
	uint32_t key;
	size_t i;
	uint64_t interval_ns = t->last_scan_ns ? elapsed(t->now_ns, t->last_scan_ns) : 0;
	struct lw_process *p;
	void *value;

	catch_up(t);
	apply_queued(t, t->last_task_ns + 1);
	sweep_waiters(t);
	/* Processes: a sample each, or an exit when the scan no longer sees them. */
	i = 0;
	while (id_map_next(&t->processes, &i, &key, &value)) {
		p = value;
		if (p->gen != t->gen || p->exited) {
			/* A target not seen even once is gone too. */
			if (!p->exited && (p->gen || p->target))
				report_exit(t, p, t->now_ns);
			/* Exited roots stay, counted in n_targets_exited;
			 * exited children go (a new one may get the pid). */
			if (p->root)
				continue;
			ptr_list_push(&gone, p);
			continue;
		}
		p->counts = p->scanning;
		p->counts_gen = t->gen;
		if (p->locks_changed)
			check_deadlocks(t, p);
		check_leaks(t, p, interval_ns);
		if (p->target || p->counts.stuck || (p->go && p->go->stuck)) {
			p->reported = true;
			emit(t, &(struct lw_report){
					.type = LW_RPT_SAMPLE,
					.ts = unix_ts(t, t->now_ns),
					.pid = p->pid,
					.pcomm = p->pcomm,
					.cgroup = process_cgroup(t, p),
					.threads = p->counts.threads,
					.blocked = p->counts.blocked,
					.stuck = p->counts.stuck,
					.go = p->go != NULL,
					.goroutines = p->go ? p->go->goroutines : 0,
					.goroutines_blocked = p->go ? p->go->blocked : 0,
					.goroutines_stuck = p->go ? p->go->stuck : 0,
				});
		}
	}
	for (i = 0; i < gone.n; i++) {
		p = gone.v[i];
		process_free(t, id_map_del(&t->processes, p->pid));
	}
	free(gone.v);
	t->complete_gen = t->gen;
	t->last_scan_ns = t->now_ns;
	t->scanned_tasks = t->scanning_tasks;
	close_scan(t);
}

void tracker_scan_abort(struct lw_tracker *t)
{
	catch_up(t);
	close_scan(t);
}

void tracker_stats(const struct lw_tracker *t, struct lw_tracker_stats *s)
{
	struct tracker_cursor c = { 0 };
	struct lw_site_view v;

	*s = (struct lw_tracker_stats){
		.targets = t->n_targets,
		.targets_exited = t->n_targets_exited,
		.leaks = t->leaks,
		.spins = t->spins,
		.deadlocks = t->deadlocks,
		.locks = t->lock_stats,
		.waiters = t->waiters.len,
		.goroutines = t->n_goroutines,
		.processes = t->processes.len,
		.scanned_threads = t->scanned_tasks,
		.cgroups = t->cgroups ? cgroup_table_len(t->cgroups) : 0,
	};
	while (tracker_next_leak(t, &c, &v))
		s->leaking_sites++;
}

/* ---- Views ---- */

static bool process_shown(const struct lw_tracker *t, const struct lw_process *p)
{
	return !p->exited && p->counts_gen && p->counts_gen == t->complete_gen &&
	       (p->target || p->counts.stuck || (p->go && p->go->stuck));
}

/* Stuck now: reported stuck, its end not seen, and not gone at the last
 * complete scan (an aborted scan's unseen waiters are not gone); a
 * goroutine: seen at the last read of its process's goroutines. */
static bool waiter_stuck_now(const struct lw_tracker *t, const struct lw_waiter *w)
{
	const struct lw_process *p;

	if (!w->stuck || w->end_pending)
		return false;
	if (!is_goroutine(w))
		return w->gen >= t->complete_gen;
	p = id_map_get(&t->processes, w->id.pid);
	return p && p->go && w->gen >= p->go->read_gen;
}

static bool waiter_spinning(const struct lw_tracker *t, const struct lw_waiter *w)
{
	return w->id.kind == LW_WAITER_THREAD && w->thread->spin_reported &&
	       w->thread->run_since_ns && w->gen >= t->complete_gen;
}

bool tracker_next_process(const struct lw_tracker *t, struct tracker_cursor *c,
			  struct lw_process_view *out)
{
	uint32_t pid;
	void *value;

	while (id_map_next(&t->processes, &c->i, &pid, &value)) {
		const struct lw_process *p = value;

		if (!process_shown(t, p))
			continue;
		*out = (struct lw_process_view){
			.pid = p->pid,
			.pcomm = p->pcomm,
			.cgroup = p->cgroup,
			.threads = p->counts.threads,
			.blocked = p->counts.blocked,
			.stuck = p->counts.stuck,
			.go = p->go != NULL,
			.goroutines = p->go ? p->go->goroutines : 0,
			.goroutines_blocked = p->go ? p->go->blocked : 0,
			.goroutines_stuck = p->go ? p->go->stuck : 0,
		};
		return true;
	}
	return false;
}

static void waiter_view(const struct lw_tracker *t, const struct lw_waiter *w,
			struct lw_waiter_view *out)
{
	const struct lw_process *p = id_map_get(&t->processes, w->id.pid);

	*out = (struct lw_waiter_view){
		.id = w->id,
		.comm = waiter_comm(w),
		.pcomm = p ? p->pcomm : "",
		.cgroup = p ? p->cgroup : NULL,
		.state = w->state,
		.since_exact = w->since_exact,
		.blocked_ns = w->stuck ? elapsed(w->seen_ns, w->since_ns) : 0,
		.wait = waiter_wait(w),
		.site = w->site,
	};
	if (is_goroutine(w)) {
		out->goid = w->id.id;
		out->func = w->go.func;
		out->created_by = w->go.created_by;
	} else {
		if (w->thread->run_since_ns)
			out->running_ns = elapsed(t->now_ns, w->thread->run_since_ns);
		out->lock = w->stuck && w->thread->lock.kind ? &w->thread->lock : NULL;
		out->deadlocked = w->stuck && w->thread->deadlocked;
	}
}

bool tracker_next_stuck(const struct lw_tracker *t, struct tracker_cursor *c,
			struct lw_waiter_view *out)
{
	struct lw_waiter_id id;
	void *value;

	while (waiter_map_next(&t->waiters, &c->i, &id, &value)) {
		if (!waiter_stuck_now(t, value))
			continue;
		waiter_view(t, value, out);
		return true;
	}
	return false;
}

bool tracker_next_spinning(const struct lw_tracker *t, struct tracker_cursor *c,
			   struct lw_waiter_view *out)
{
	struct lw_waiter_id id;
	void *value;

	while (waiter_map_next(&t->waiters, &c->i, &id, &value)) {
		if (!waiter_spinning(t, value))
			continue;
		waiter_view(t, value, out);
		return true;
	}
	return false;
}

/* Longest first; then by process and id, so that the order is stable. */
static int by_blocked(const struct lw_waiter_view *x, const struct lw_waiter_view *y)
{
	if (x->blocked_ns != y->blocked_ns)
		return x->blocked_ns > y->blocked_ns ? -1 : 1;
	if (x->id.pid != y->id.pid)
		return x->id.pid < y->id.pid ? -1 : 1;
	return x->id.id < y->id.id ? -1 : x->id.id > y->id.id;
}

static int by_blocked_cmp(const void *a, const void *b)
{
	return by_blocked(a, b);
}

/* kind 0: every kind */
static size_t stuck_waiters(const struct lw_tracker *t, uint32_t kind, struct lw_waiter_view *out,
			    size_t max)
{
	struct tracker_cursor c = { 0 };
	struct lw_waiter_view v;
	size_t n = 0, total = 0, j;
	bool full = false;

	while (tracker_next_stuck(t, &c, &v)) {
		if (kind && v.id.kind != kind)
			continue;
		total++;
		if (!max)
			continue;
		if (n < max) {
			out[n++] = v;
			continue;
		}
		/* out is full: keep the max longest, in order. */
		if (!full) {
			qsort(out, n, sizeof(*out), by_blocked_cmp);
			full = true;
		}
		if (by_blocked(&v, &out[max - 1]) >= 0)
			continue;
		for (j = max - 1; j > 0 && by_blocked(&v, &out[j - 1]) < 0; j--)
			out[j] = out[j - 1];
		out[j] = v;
	}
	if (!full && n)
		qsort(out, n, sizeof(*out), by_blocked_cmp);
	return total;
}

size_t tracker_stuck_waiters(const struct lw_tracker *t, struct lw_waiter_view *out, size_t max)
{
	return stuck_waiters(t, 0, out, max);
}

size_t tracker_stuck_waiters_of(const struct lw_tracker *t, uint32_t kind,
				struct lw_waiter_view *out, size_t max)
{
	return stuck_waiters(t, kind, out, max);
}

/* Sites one by one: with stuck waiters, of the processes shown, or (leaks)
 * reported as leaks, of every process; c->j is the next site of the
 * process before c->i. */
static bool next_site(const struct lw_tracker *t, struct tracker_cursor *c, bool leaks,
		      struct lw_site_view *out)
{
	uint32_t pid;
	void *value;

	for (;;) {
		size_t at = c->i;
		const struct lw_process *p;

		if (!id_map_next(&t->processes, &c->i, &pid, &value))
			return false;
		p = value;
		if (leaks || process_shown(t, p)) {
			/* j counts the process's sites, then its "threads" site. */
			while (c->j <= p->sites.n) {
				const struct lw_site *s = c->j < p->sites.n ? p->sites.sites[c->j] :
										p->threads_site;
				bool in = s && (leaks ? leak_series_leaked(&s->leak) :
						       c->j < p->sites.n && s->stuck);

				c->j++;
				if (!in)
					continue;
				*out = (struct lw_site_view){ .site = s, .pid = p->pid,
							      .pcomm = p->pcomm,
							      .cgroup = p->cgroup,
							      .exited = p->exited };
				c->i = at; /* this process again next time */
				return true;
			}
		}
		c->j = 0;
	}
}

bool tracker_next_site(const struct lw_tracker *t, struct tracker_cursor *c,
		       struct lw_site_view *out)
{
	return next_site(t, c, false, out);
}

bool tracker_next_leak(const struct lw_tracker *t, struct tracker_cursor *c,
		       struct lw_site_view *out)
{
	return next_site(t, c, true, out);
}

bool tracker_site_holder(const struct lw_tracker *t, const struct lw_site_view *v,
			 struct lw_lock_holder *h)
{
	const struct lw_process *p = id_map_get(&t->processes, v->pid);

	if (!p || !v->site || v->site == p->threads_site || v->site->goroutine)
		return false;
	return leak_holder(t, v->pid, v->site, h);
}

bool tracker_next_deadlock(const struct lw_tracker *t, struct tracker_cursor *c,
			   struct lw_deadlock_view *out)
{
	uint32_t key;
	void *value;

	/* c->i: the process map's position; c->j: the deadlock in it. */
	for (;;) {
		size_t pos = c->i;
		const struct lw_process *p;
		const struct deadlock_seen *d;
		uint32_t k, n;

		if (!id_map_next(&t->processes, &pos, &key, &value))
			return false;
		p = value;
		n = p->n_deadlocks < LW_DEADLOCKS_PER_PROCESS ? p->n_deadlocks :
								 LW_DEADLOCKS_PER_PROCESS;
		if (c->j >= n) {
			c->i = pos;
			c->j = 0;
			continue;
		}
		d = &p->deadlocks[c->j++];
		memset(out, 0, sizeof(*out));
		out->pid = p->pid;
		out->pcomm = p->pcomm;
		out->cgroup = p->cgroup;
		out->n = d->n;
		for (k = 0; k < d->n && k < LW_DEADLOCK_TIDS; k++) {
			const struct lw_waiter *w =
				waiter_map_get(&t->waiters, lw_thread_id(p->pid, d->tids[k]));

			out->members[k].tid = d->tids[k];
			out->members[k].comm = "";
			if (!w || !w->stuck || !w->thread->deadlocked)
				continue; /* that wait is over, or the thread gone */
			out->members[k] = (struct lw_deadlock_member){
				.tid = d->tids[k],
				.comm = w->thread->comm,
				.lock = &w->thread->lock,
				.site = w->site,
				.blocked_s = seconds(elapsed(w->seen_ns, w->since_ns)),
			};
		}
		out->n_shown = k;
		return true;
	}
}

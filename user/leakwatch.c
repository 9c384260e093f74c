// SPDX-License-Identifier: GPL-2.0
/*
 * leakwatch: finds threads and goroutines blocked longer than a threshold, and
 * whether their number keeps growing.  This file wires the parts together:
 * arguments, the BPF side (loader.c), scans (scan.c), Go processes and their
 * goroutine scans (go_watch.c), the waiter table (tracker.c), outputs
 * (json_out.c, text_out.c, timeline.c, metrics.c, dump.c), run mode
 * (run_mode.c) and the loop (event_loop.c).  It is the one place that turns
 * errors into messages and exit codes.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <linux/magic.h>
#include "args.h"
#include "cgroup.h"
#include "clock.h"
#include "dump.h"
#include "duration.h"
#include "event_loop.h"
#include "folded_file.h"
#include "go_watch.h"
#include "http.h"
#include "id_map.h"
#include "json_out.h"
#include "kernel_version.h"
#include "ksyms.h"
#include "loader.h"
#include "metrics.h"
#include "log.h"
#include "procfs.h"
#include "py_frames.h"
#include "run_mode.h"
#include "scan.h"
#include "text_out.h"
#include "timeline.h"
#include "tracker.h"
#include "unwind.h"

/* A process in a pid namespace of its own (a container): its threads'
 * tids as it sees them, for the owners its locks name.  Read again when
 * older than TID_NS_MAX_AGE_NS and a tid is not found. */
#define TID_NS_CACHED 8
#define TID_NS_MAX_AGE_NS 1000000000ull
struct tid_ns_cache {
	uint32_t pid;
	bool same_ns;
	uint64_t ns;      /* the inode of its pid namespace: a pid reused elsewhere is another */
	uint64_t read_ns;
	struct procfs_nstid *v;
	size_t n;
};

struct daemon {
	struct lw_config cfg;
	struct lw_clock clock;
	struct lw_bpf *bpf;
	struct lw_tracker *tracker;
	struct lw_scan scan;
	struct text_out text;
	struct lw_sink sink;   /* daemon_emit: every report goes through it */
	struct lw_sink output; /* JSON Lines or the text view */
	bool log_events;       /* leak and spin also as a line on stderr (the journal) */
	struct http_server *http;
	FILE *timeline_file;
	struct timeline *timeline;
	char folded_path[4096]; /* --folded, its links followed */
	struct lw_buf metrics_page;
	double scan_seconds;
	struct unwinder *unwinder;
	struct py_procs *py;       /* Python stacks of CPython 3.11+ threads */
	struct id_map py_reported; /* pids whose unreadable Python was said */
	struct ksyms *ksyms;
	struct go_watch *go;   /* NULL with --no-goroutines */
	double go_scan_seconds; /* the goroutine scans of the last tick */
	struct lw_go_metrics *go_metrics; /* per Go process, for --metrics */
	size_t go_metrics_cap;
	/* --dump: what go_watch found of the process being dumped */
	bool dumping;
	char dump_go_version[32], dump_go_error[256];
	uint64_t start_ns;
	uint64_t events;
	uint64_t bad_records;
	int output_err;  /* the first failed write to stdout (-errno) */
	struct run_mode run; /* -- COMMAND */
	uint64_t cgroup_ids[LW_MAX_CGROUPS]; /* --cgroup, as the kernel names them */
	/* --cgroup's directories, looked at each tick: one removed and made
	 * again (a service restarted) is a new cgroup, of a new id. */
	char cgroup_dirs[LW_MAX_CGROUPS][PATH_MAX];
	bool cgroup_gone[LW_MAX_CGROUPS]; /* said once */
	struct tid_ns_cache tid_ns[TID_NS_CACHED]; /* lock owners of other pid namespaces */
};

/* A failed write to stdout ends the run (exit 3): kept with its errno. */
static void check_output(struct daemon *d)
{
	if (!d->output_err && ferror(stdout))
		d->output_err = errno ? -errno : -EIO;
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct daemon *d = ctx;

	if (size < sizeof(struct lw_event)) {
		d->bad_records++;
		return 0;
	}
	d->events++;
	tracker_event(d->tracker, data);
	return 0;
}

/* Every report: to the output, and leaks and spins as one line on stderr. */
static void daemon_emit(void *ctx, const struct lw_report *r)
{
	struct daemon *d = ctx;
	struct lw_report with_interval;
	uint32_t every;

	/* A Go process's sample says how often its goroutines are read: the
	 * interval, or longer when its scans cost too much. */
	if (r->type == LW_RPT_SAMPLE && r->go && d->go) {
		every = go_watch_every(d->go, r->pid);
		with_interval = *r;
		with_interval.goroutine_scan_interval_s = (double)every *
							  (double)d->cfg.interval_ns / 1e9;
		r = &with_interval;
	}
	d->output.emit(d->output.ctx, r);
	check_output(d);
	if (d->timeline)
		timeline_emit(d->timeline, r);
	if (d->log_events && (r->type == LW_RPT_LEAK || r->type == LW_RPT_SPIN ||
			      r->type == LW_RPT_DEADLOCK))
		text_log_line(stderr, r);
	/* A target that exited stays in the tracker (its exit is counted):
	 * its goroutine scanner goes now. */
	if (r->type == LW_RPT_EXIT && d->go)
		go_watch_forget(d->go, r->pid);
}

/* Every loss counted so far, kernel and user side. */
static void collect_drops(const struct daemon *d, struct lw_drops *drops)
{
	memset(drops, 0, sizeof(*drops));
	if (d->bpf)
		loader_drops(d->bpf, drops);
	if (d->tracker)
		tracker_drops(d->tracker, drops);
	drops->ringbuf += d->bad_records;
	if (d->go) {
		struct go_scan_stats s;

		go_watch_stats(d->go, &s, NULL);
		drops->gs_invalid += s.gs_invalid;
		drops->gs_unread += s.gs_unread;
		drops->goroutine_stacks_moved += s.stacks_moved;
	}
}

/* Per Go process, for the metrics page: its scan counters. */
static size_t collect_go_metrics(struct daemon *d)
{
	const struct go_process *p;
	size_t i = 0, n = 0;
	uint32_t pid;

	if (!d->go)
		return 0;
	while (go_watch_next(d->go, &i, &pid, &p)) {
		if (n == d->go_metrics_cap) {
			size_t cap = n ? 2 * n : 16;
			struct lw_go_metrics *more = realloc(d->go_metrics, cap * sizeof(*more));

			if (!more)
				break; /* fewer series this time */
			d->go_metrics = more;
			d->go_metrics_cap = cap;
		}
		d->go_metrics[n].pid = pid;
		d->go_metrics[n].every = go_watch_every(d->go, pid);
		go_process_stats(p, &d->go_metrics[n].stats);
		n++;
	}
	return n;
}

static void update_metrics(struct daemon *d)
{
	struct lw_prog_stats progs[8];
	struct lw_symbolize_stats symbolize;
	struct py_stats python;
	struct lw_drops drops;
	struct lw_metrics_input in = {
		.tracker = d->tracker,
		.drops = &drops,
		.events = d->events,
		.scan_seconds = d->scan_seconds,
		.goroutine_scan_seconds = d->go_scan_seconds,
		.interval_s = (double)d->cfg.interval_ns / 1e9,
		.progs = progs,
	};
	int err;

	collect_drops(d, &drops);
	in.n_go = collect_go_metrics(d);
	in.go = d->go_metrics;
	in.n_progs = (size_t)loader_prog_stats(d->bpf, progs, 8);
	if (d->unwinder) {
		unwinder_stats(d->unwinder, &symbolize);
		in.symbolize = &symbolize;
	}
	if (d->py) {
		py_procs_get_stats(d->py, &python);
		in.python = &python;
	}
	err = metrics_render(&in, &d->metrics_page);
	if (err)
		log_debug("cannot render the metrics: %s", strerror(-err));
}

static int on_http(void *ctx)
{
	struct daemon *d = ctx;

	return http_run(d->http);
}

static int on_ringbuf(void *ctx)
{
	struct daemon *d = ctx;
	int n = loader_consume(d->bpf);

	return n < 0 ? n : 0;
}

/*
 * One interval: read the scan, then drain the records, then apply the scan:
 * the tracker merges both in time order, so that a wait that ends (its
 * record) and a thread that blocks again before the scan reaches it keep
 * their exact end.  The wall-clock offset is measured again each time: a
 * clock step moves the timestamps after it, not every later one.
 */
/* --cgroup: a directory made again since is watched by its new id. */
static void check_cgroup_dirs(struct daemon *d)
{
	struct statfs sfs;
	struct stat st;
	int i, err;

	for (i = 0; i < d->cfg.n_cgroups; i++) {
		if (stat(d->cgroup_dirs[i], &st) || !S_ISDIR(st.st_mode) ||
		    statfs(d->cgroup_dirs[i], &sfs) || sfs.f_type != CGROUP2_SUPER_MAGIC) {
			if (!d->cgroup_gone[i])
				log_error("--cgroup %s: %s is gone; watched again if it is made again",
					 d->cfg.cgroups[i], d->cgroup_dirs[i]);
			d->cgroup_gone[i] = true;
			continue;
		}
		d->cgroup_gone[i] = false;
		if ((uint64_t)st.st_ino == d->cgroup_ids[i])
			continue;
		err = loader_replace_cgroup(d->bpf, d->cgroup_ids[i], (uint64_t)st.st_ino);
		if (err) {
			log_error("--cgroup %s: cannot watch it made again: %s", d->cfg.cgroups[i],
				  strerror(-err));
			continue;
		}
		log_error("--cgroup %s: made again (id %llu), watched", d->cfg.cgroups[i],
			 (unsigned long long)st.st_ino);
		d->cgroup_ids[i] = (uint64_t)st.st_ino;
	}
}

static int on_tick(void *ctx)
{
	struct daemon *d = ctx;
	struct lw_scan_item item;
	uint64_t scan_start, go_start;
	uint32_t last_pid = 0;
	size_t off = 0;
	int err;

	clock_init(&d->clock);
	if (d->cfg.n_cgroups)
		check_cgroup_dirs(d);
	scan_start = clock_mono_ns();
	err = scan_read(d->bpf, &d->scan);
	if (err)
		return err;
	tracker_scan_begin(d->tracker, scan_start, &d->clock);
	/* The goroutines of the Go processes first, in the same scan: a
	 * spinning thread's report then names the goroutine on it now. */
	if (d->go) {
		go_start = clock_mono_ns();
		go_watch_scan(d->go, d->cfg.interval_ns, false);
		d->go_scan_seconds = (double)(clock_mono_ns() - go_start) / 1e9;
	}
	err = loader_consume(d->bpf);
	while (err >= 0 && (err = scan_next(&d->scan, &off, &item)) > 0) {
		tracker_scan_task(d->tracker, item.task, item.kstack);
		/* A process's threads come one after another: its first one
		 * makes go_watch look at it (once per life). */
		if (d->go && item.task->pid != last_pid) {
			last_pid = item.task->pid;
			go_watch_see(d->go, item.task->pid, item.task->pcomm);
		}
	}
	if (err < 0) {
		/* What it did not reach is not gone. */
		tracker_scan_abort(d->tracker);
		return err;
	}
	/* The Go processes this scan found: read now, their first sample has
	 * their goroutines. */
	if (d->go) {
		go_start = clock_mono_ns();
		go_watch_scan(d->go, d->cfg.interval_ns, true);
		d->go_scan_seconds += (double)(clock_mono_ns() - go_start) / 1e9;
	}
	tracker_scan_end(d->tracker);
	d->scan_seconds = (double)(clock_mono_ns() - scan_start) / 1e9;
	if (d->http) {
		update_metrics(d);
		err = http_run(d->http); /* connection timeouts */
		if (err)
			return err;
	}
	if (!d->cfg.json && d->text.table) {
		errno = 0;
		text_render(&d->text, d->tracker, clock_to_unix(&d->clock, clock_mono_ns()));
		check_output(d);
	}
	if (d->output_err)
		return d->output_err;
	if (d->cfg.command)
		return d->run.done;
	return tracker_targets_gone(d->tracker) ? 1 : 0;
}

static int on_child(void *ctx)
{
	struct daemon *d = ctx;
	int err;

	if (!run_reap(&d->run))
		return 0;
	/* One last scan reports the command's exit. */
	err = on_tick(d);
	return err < 0 ? err : 1;
}

/* The terminal was resized: redraw the table at its new size now. */
static int on_winch(void *ctx)
{
	struct daemon *d = ctx;

	if (d->cfg.json || !d->text.table)
		return 0;
	if (text_out_query_size(&d->text))
		return 0; /* the size stays; the table still fits the old one */
	text_render(&d->text, d->tracker, clock_to_unix(&d->clock, clock_mono_ns()));
	return 0;
}

/* The stuck waiters of the last scan into the --folded file.  Returns 0 or
 * -errno (not logged here). */
static int write_folded(struct daemon *d)
{
	struct tracker_cursor c = {};
	struct lw_waiter_view v;
	struct folded *f;
	int err;

	err = folded_new(d->cfg.folded_weight_time, &f);
	while (!err && tracker_next_stuck(d->tracker, &c, &v))
		err = folded_add(f, &v);
	if (!err)
		err = folded_file_write(d->folded_path, f);
	if (!err)
		log_debug("wrote %zu stuck waiters as folded stacks to %s", folded_waiters(f),
			  d->folded_path);
	folded_free(f);
	return err;
}

/* write_folded, a failure said in one line on stderr.  At exit a failure
 * fails the run (exit 3), as a failed output does. */
static int write_folded_said(struct daemon *d)
{
	int err = write_folded(d);

	if (err)
		log_error("cannot write the folded stacks to %s: %s", d->cfg.folded,
			  err == -EINVAL ? "not a regular file" : strerror(-err));
	return err;
}

/* SIGUSR1: the --folded file now; a failure is said and the run goes on
 * (the write at exit decides the exit status). */
static int on_usr1(void *ctx)
{
	struct daemon *d = ctx;

	if (!d->cfg.folded) {
		log_debug("SIGUSR1 ignored: no --folded FILE");
		return 0;
	}
	write_folded_said(d);
	return 0;
}

/* Stacks for the tracker: libdwfl for user space, kallsyms for the kernel. */
/* The tracker's lock reads (lock_wait.c): the memory of the waiting
 * thread itself, which is alive (a zombie leader's is gone). */
static int lock_read_memory(void *ctx, uint32_t pid, uint32_t tid, uint64_t addr, void *buf,
			    size_t len)
{
	(void)ctx, (void)pid;
	return procfs_read_memory(tid, addr, buf, len);
}

static bool lock_is_thread_of(void *ctx, uint32_t pid, uint32_t tid)
{
	(void)ctx;
	return procfs_thread_of(pid, tid) == 0;
}

static struct tid_ns_cache *tid_ns_of(struct daemon *d, uint32_t pid, uint64_t now)
{
	struct tid_ns_cache *c = NULL;
	uint64_t ns;
	size_t i;
	int same;

	same = procfs_same_pidns(pid, &ns);
	if (same < 0)
		return NULL;
	for (i = 0; i < TID_NS_CACHED; i++)
		if (d->tid_ns[i].pid == pid && d->tid_ns[i].ns == ns &&
		    now - d->tid_ns[i].read_ns < 10 * TID_NS_MAX_AGE_NS)
			return &d->tid_ns[i];
	for (i = 0; i < TID_NS_CACHED; i++) /* this pid's, or the oldest, goes */
		if (d->tid_ns[i].pid == pid || !c || (c->pid != pid && d->tid_ns[i].read_ns < c->read_ns))
			c = &d->tid_ns[i];
	free(c->v);
	*c = (struct tid_ns_cache){ .pid = pid, .same_ns = same, .ns = ns, .read_ns = now };
	if (!same && procfs_task_nstids(pid, &c->v, &c->n))
		c->pid = 0;
	return c->pid ? c : NULL;
}

/* The owner a lock of pid names (its tid in pid's own namespace) as
 * leakwatch names threads; 0: none. */
static uint32_t lock_host_tid(void *ctx, uint32_t pid, uint32_t ns_tid)
{
	struct daemon *d = ctx;
	uint64_t now = clock_mono_ns();
	struct tid_ns_cache *c = tid_ns_of(d, pid, now);
	size_t i;

	if (!c)
		return 0;
	if (c->same_ns)
		return ns_tid;
	for (i = 0; i < c->n; i++)
		if (c->v[i].ns_tid == ns_tid)
			return c->v[i].tid;
	if (now - c->read_ns < TID_NS_MAX_AGE_NS)
		return 0;
	/* A thread started since: the threads read again. */
	free(c->v);
	c->v = NULL;
	c->n = 0;
	c->read_ns = now;
	if (procfs_task_nstids(pid, &c->v, &c->n))
		return 0;
	for (i = 0; i < c->n; i++)
		if (c->v[i].ns_tid == ns_tid)
			return c->v[i].tid;
	return 0;
}

static int stack_unwind(void *ctx, const struct lw_task_rec *r, uint64_t *pcs, int max)
{
	struct daemon *d = ctx;

	return unwind_user(d->unwinder, r->pid, r->tid, r->regs, pcs, max);
}

static int stack_user_frames(void *ctx, uint32_t pid, uint64_t pc, bool first, struct lw_frame *out,
			     int max)
{
	struct daemon *d = ctx;

	return unwind_frames(d->unwinder, pid, pc, first, out, max);
}

/* A CPython process found: a python record, once per process (and a line
 * on stderr when its stacks cannot be read). */
static void report_python(struct daemon *d, uint32_t pid)
{
	const char *version, *layout, *error;
	char path[64], pcomm[LW_COMM_LEN + 2] = "";
	FILE *f;

	if (id_map_get(&d->py_reported, pid) ||
	    !py_proc_info(d->py, pid, &version, &layout, &error))
		return;
	if (id_map_put(&d->py_reported, pid, d) == -ENOMEM)
		log_debug("pid %u: out of memory", pid);
	snprintf(path, sizeof(path), "/proc/%u/comm", pid);
	f = fopen(path, "re");
	if (f) {
		if (fgets(pcomm, sizeof(pcomm), f))
			pcomm[strcspn(pcomm, "\n")] = '\0';
		fclose(f);
	}
	if (error) {
		char clean_comm[3 * LW_COMM_LEN + 1], why[3 * 256 + 1];

		/* the words name the target's own file: cleaned */
		text_clean_name(pcomm, clean_comm);
		text_clean(py_proc_error(d->py, pid), 256, why);
		log_error("pid %u (%s): %s: Python stacks not read (native stacks only)", pid,
			  clean_comm, why);
	}
	d->sink.emit(d->sink.ctx, &(struct lw_report){
					  .type = LW_RPT_PYTHON,
					  .ts = clock_to_unix(&d->clock, clock_mono_ns()),
					  .pid = pid,
					  .pcomm = pcomm,
					  .cgroup = tracker_process_cgroup(d->tracker, pid),
					  .py_version = version,
					  .py_layout = layout,
					  .py_error = error,
				  });
}

/* The Python frames of a thread; a CPython that cannot be read keeps its
 * threads' native stacks. */
static int stack_python_frames(void *ctx, uint32_t pid, uint32_t tid, struct lw_frame *out,
			       int max)
{
	struct daemon *d = ctx;
	int n = py_thread_frames(d->py, pid, tid, out, max);

	report_python(d, pid);
	if (n < 0 && n != -ENOTSUP)
		log_debug("pid %u tid %u: Python frames not read: %s", pid, tid, strerror(-n));
	return n;
}

static void stack_symbolize_kernel(void *ctx, uint64_t pc, char *buf, size_t len)
{
	struct daemon *d = ctx;

	ksyms_format(d->ksyms, pc, buf, len);
}

static void stack_forget(void *ctx, uint32_t pid)
{
	struct daemon *d = ctx;

	unwinder_forget(d->unwinder, pid);
	py_procs_forget(d->py, pid);
	id_map_del(&d->py_reported, pid);
	if (d->go)
		go_watch_forget(d->go, pid);
}

/* Goroutine stacks: through go_watch, from pid to its go_process. */
static int stack_unwind_goroutine(void *ctx, uint32_t pid, const struct go_goroutine *g,
				  uint64_t *pcs, int max)
{
	struct daemon *d = ctx;
	struct go_process *p = d->go ? go_watch_process(d->go, pid) : NULL;

	return p ? go_process_stack(p, g, pcs, max) : -ESRCH;
}

static void stack_unwind_goroutines(void *ctx, uint32_t pid, const struct go_goroutine *const *gs,
				    size_t n, struct go_stack_result *out)
{
	struct daemon *d = ctx;
	struct go_process *p = d->go ? go_watch_process(d->go, pid) : NULL;
	int err = p ? go_process_stacks(p, gs, n, out) : -ESRCH;

	for (size_t i = 0; err && i < n; i++)
		out[i].n = err;
}

/* go_process_frames with runtime entries (the tracker and the dump show
 * pc - entry, pcs being runtime addresses). */
static int go_frames_runtime(const struct go_process *p, uint64_t pc, bool first,
			     struct go_frame *out, int max)
{
	uint64_t bias = go_process_load_bias(p);
	int i, n = go_process_frames(p, pc, first, out, max);

	for (i = 0; i < n; i++)
		out[i].entry += bias;
	return n;
}

static int stack_go_frames(void *ctx, uint32_t pid, uint64_t pc, bool first,
			   struct go_frame *out, int max)
{
	struct daemon *d = ctx;
	struct go_process *p = d->go ? go_watch_process(d->go, pid) : NULL;

	return p ? go_frames_runtime(p, pc, first, out, max) : 0;
}

static const char *stack_go_wait_reason(void *ctx, uint32_t pid, uint8_t reason)
{
	struct daemon *d = ctx;
	struct go_process *p = d->go ? go_watch_process(d->go, pid) : NULL;

	return p ? go_process_wait_reason(p, reason) : NULL;
}

/* ---- go_watch's findings ---- */

static void on_go_found(void *ctx, const struct go_watch_found *f)
{
	struct daemon *d = ctx;
	struct lw_report r = {
		.type = LW_RPT_GO,
		.ts = clock_to_unix(&d->clock, clock_mono_ns()),
		.pid = f->pid,
		.pcomm = f->pcomm,
		.cgroup = d->tracker ? tracker_process_cgroup(d->tracker, f->pid) : NULL,
		.exe = f->exe,
		.go_version = f->version,
		.go_layout = f->layout,
		.go_error = f->error,
	};

	if (d->dumping) {
		snprintf(d->dump_go_version, sizeof(d->dump_go_version), "%s", f->version);
		snprintf(d->dump_go_error, sizeof(d->dump_go_error), "%s",
			 f->error ? f->error : "");
		if (!d->cfg.json)
			return; /* the dump's header says it */
		d->output.emit(d->output.ctx, &r);
		return;
	}
	/* A binary we cannot read: said once per binary, in one line, its
	 * words (from the binary) cleaned for the terminal. */
	if (f->error && (f->first_of_binary || f->err != -ENOTSUP)) {
		char pcomm[3 * LW_COMM_LEN + 1], exe[3 * 256 + 1], version[3 * 32 + 1];
		char why[3 * 256 + 1];

		text_clean_name(f->pcomm, pcomm);
		text_clean(f->exe[0] ? f->exe : "Go binary", 256, exe);
		text_clean(f->version, 32, version);
		text_clean(f->error, 256, why);
		log_error("pid %u (%s): %s%s%s: goroutines not read (threads only): %s", f->pid,
			  pcomm, exe, version[0] ? " " : "", version, why);
	} else if (f->error) {
		return; /* its binary was said already */
	}
	d->sink.emit(d->sink.ctx, &r);
}

static void on_go_stretched(void *ctx, uint32_t pid, uint32_t every, uint64_t scan_ns)
{
	struct daemon *d = ctx;
	char took[32], period[32];

	if (d->dumping)
		return;
	duration_format(scan_ns, took, sizeof(took));
	duration_format(every * d->cfg.interval_ns, period, sizeof(period));
	if (every > 1)
		log_error("pid %u: a goroutine scan takes %s (over %d%% of a core): its goroutines "
			  "are read every %s", pid, took, GO_WATCH_BUDGET_PCT, period);
	else
		log_error("pid %u: a goroutine scan takes %s: its goroutines are read every "
			  "interval again", pid, took);
}

static void on_go_scanned(void *ctx, uint32_t pid, const struct go_goroutine *gs, size_t n)
{
	struct daemon *d = ctx;

	tracker_scan_goroutines(d->tracker, pid, gs, n);
}

static void on_go_unread(void *ctx, uint32_t pid, int err)
{
	struct daemon *d = ctx;

	if (err)
		log_debug("pid %u: goroutines not read this time: %s", pid, strerror(-err));
	tracker_goroutines_unread(d->tracker, pid);
}

static void on_go_gone(void *ctx, uint32_t pid)
{
	struct daemon *d = ctx;

	tracker_goroutines_gone(d->tracker, pid);
}

/* ---- --dump: one scan of each -p process, grouped ---- */

struct dump_ctx {
	struct daemon *d;
	uint32_t pid;
	const struct go_process *go;
};

static int dump_go_frames(void *ctx, uint64_t pc, bool first, struct go_frame *out, int max)
{
	struct dump_ctx *c = ctx;

	return c->go ? go_frames_runtime(c->go, pc, first, out, max) : 0;
}

static int dump_thread_frames(void *ctx, uint64_t pc, bool first, struct lw_frame *out, int max)
{
	struct dump_ctx *c = ctx;

	return unwind_frames(c->d->unwinder, c->pid, pc, first, out, max);
}

/* A thread's user stack as the dump read it: a goroutine in a syscall or
 * running is on it. */
struct thread_stack {
	uint32_t tid;
	int n;
	uint64_t pcs[LW_STACK_MAX];
};

struct thread_stacks {
	struct thread_stack *v;
	size_t n, cap;
};

static void thread_stacks_add(struct thread_stacks *ts, uint32_t tid, const uint64_t *pcs, int n)
{
	struct thread_stack *more;

	if (ts->n == ts->cap) {
		size_t cap = ts->cap ? 2 * ts->cap : 16;

		more = realloc(ts->v, cap * sizeof(*more));
		if (!more)
			return; /* its goroutine's stack stays unread, counted */
		ts->v = more;
		ts->cap = cap;
	}
	ts->v[ts->n].tid = tid;
	ts->v[ts->n].n = n;
	memcpy(ts->v[ts->n].pcs, pcs, (size_t)n * sizeof(*pcs));
	ts->n++;
}

/* The threads of pid in the scan, into dp (and their stacks into ts). */
static void dump_threads(struct daemon *d, uint32_t pid, struct dump *dp,
			 struct dump_process *info, char *pcomm, struct thread_stacks *ts)
{
	struct lw_restart_fns fns;
	struct lw_scan_item item;
	uint64_t pcs[LW_STACK_MAX];
	size_t off = 0;

	ksyms_restart_fns(d->ksyms, &fns);
	while (scan_next(&d->scan, &off, &item) > 0) {
		const struct lw_task_rec *t = item.task;
		struct dump_waiter w = { .kind = DUMP_THREAD, .id = t->tid, .pcs = pcs };
		struct lw_wait wait = {};
		int n = -ENODATA;

		if (t->pid != pid)
			continue;
		if (!pcomm[0])
			snprintf(pcomm, LW_COMM_LEN + 1, "%.*s", LW_COMM_LEN, t->pcomm);
		info->threads++;
		w.blocked = t->flags & LW_TF_BLOCKED;
		if (w.blocked) {
			wait_decode(t, &fns, procfs_read_first_waiter, &wait);
			w.wait = wait.kind ? wait.kind : "kernel";
			w.blocked_ns = t->now_ns > t->blocked_since_ns ?
					       t->now_ns - t->blocked_since_ns : 0;
		} else {
			w.wait = "running";
		}
		/* The scan saved every thread's registers (threshold 1ns). */
		if (t->regs[LW_REG_IP])
			n = unwind_user(d->unwinder, pid, t->tid, t->regs, pcs, LW_STACK_MAX);
		w.n_pcs = n > 0 ? n : 0;
		w.unreadable = n <= 0;
		if (w.unreadable)
			info->stacks_unreadable++;
		else
			thread_stacks_add(ts, t->tid, pcs, n);
		dump_add(dp, &w);
	}
}

/*
 * A goroutine in a syscall (or running) is on its thread's stack, which the
 * scan's unwinder read: its frames down to runtime.goexit are the
 * goroutine's (Go 1.19 saves no frame pointer at a syscall, so its own
 * walk cannot start there).  Returns the count, or -ENOENT.
 */
static int stack_from_thread(const struct go_process *p, const struct thread_stacks *ts,
			     uint32_t tid, uint64_t *pcs, int max)
{
	struct go_frame fr[16];
	size_t t;
	int i, k, n;

	for (t = 0; t < ts->n && ts->v[t].tid != tid; t++)
		;
	if (!tid || t == ts->n)
		return -ENOENT;
	for (i = 0; i < ts->v[t].n && i < max; i++) {
		pcs[i] = ts->v[t].pcs[i];
		n = go_process_frames(p, pcs[i], i == 0, fr, 16);
		for (k = 0; k < n; k++)
			if (!strcmp(fr[k].func, "runtime.goexit"))
				return i + 1;
	}
	return -ENOENT;
}

static const char *goroutine_state(const struct go_process *p, const struct go_goroutine *g)
{
	const char *reason;

	switch (g->status) {
	case GO_G_WAITING:
	case GO_G_LEAKED:
		reason = go_process_wait_reason(p, g->wait_reason);
		return reason && reason[0] ? reason : "waiting";
	case GO_G_RUNNABLE:
		return "runnable";
	case GO_G_RUNNING:
		return "running";
	case GO_G_SYSCALL:
		return "syscall";
	case GO_G_COPYSTACK:
		return "copystack";
	case GO_G_PREEMPTED:
		return "preempted";
	}
	return "?";
}

/* The goroutines of pid, read now, with every stack, into dp. */
static int dump_goroutines(struct daemon *d, struct go_process *p, struct dump *dp,
			   struct dump_process *info, const struct thread_stacks *ts)
{
	const struct go_goroutine *gs;
	uint64_t pcs[LW_STACK_MAX];
	size_t n, i;
	int err;

	err = go_process_scan(p, &gs, &n);
	if (err == -EIO || err == -EAGAIN)
		err = go_process_scan(p, &gs, &n); /* caught mid-change: once more */
	if (err)
		return err;
	for (i = 0; i < n; i++) {
		struct dump_waiter w = { .kind = DUMP_GOROUTINE, .id = gs[i].goid, .pcs = pcs };
		int k;

		/* As runtime.NumGoroutine and pprof: not the runtime's own. */
		if (gs[i].system) {
			info->system_goroutines++;
			continue;
		}
		info->goroutines++;
		w.wait = goroutine_state(p, &gs[i]);
		k = go_process_stack(p, &gs[i], pcs, LW_STACK_MAX);
		if (k == -EAGAIN)
			k = go_process_stack(p, &gs[i], pcs, LW_STACK_MAX);
		if (k <= 0 && (gs[i].status == GO_G_SYSCALL || gs[i].status == GO_G_RUNNING))
			k = stack_from_thread(p, ts, gs[i].tid, pcs, LW_STACK_MAX);
		w.n_pcs = k > 0 ? k : 0;
		w.unreadable = k <= 0;
		if (w.unreadable)
			info->stacks_unreadable++;
		dump_add(dp, &w);
	}
	return 0;
}

static int dump_process(struct daemon *d, uint32_t pid)
{
	char pcomm[LW_COMM_LEN + 1] = "";
	struct dump_process info = { .pid = pid, .pcomm = pcomm };
	struct dump_ctx ctx = { .d = d, .pid = pid };
	struct dump_symbols sym = { dump_go_frames, NULL, &ctx, dump_thread_frames };
	struct dump_group *groups = NULL;
	struct thread_stacks ts = {};
	struct go_process *gp = NULL;
	struct dump dp;
	size_t n_groups = 0;
	int err;

	dump_init(&dp);
	info.ts = clock_to_unix(&d->clock, clock_mono_ns());
	dump_threads(d, pid, &dp, &info, pcomm, &ts);
	if (!info.threads) {
		log_error("pid %u: no thread of it in the scan (it exited?)", pid);
		dump_free(&dp);
		free(ts.v);
		return -ESRCH;
	}
	d->dump_go_version[0] = d->dump_go_error[0] = '\0';
	if (d->go) {
		go_watch_see(d->go, pid, pcomm);
		gp = go_watch_process(d->go, pid);
	}
	if (d->dump_go_version[0] || d->dump_go_error[0])
		info.go_version = d->dump_go_version[0] ? d->dump_go_version : "go?";
	if (d->dump_go_error[0])
		info.go_error = d->dump_go_error;
	if (gp) {
		ctx.go = gp;
		err = dump_goroutines(d, gp, &dp, &info, &ts);
		if (err) {
			snprintf(d->dump_go_error, sizeof(d->dump_go_error),
				 "its goroutines did not read: %s", strerror(-err));
			info.go_error = d->dump_go_error;
		}
	}
	info.dropped = dp.dropped;
	err = dump_group(&dp, &groups, &n_groups);
	if (!err && d->cfg.json)
		err = dump_write_json(stdout, &info, groups, n_groups, &sym);
	else if (!err)
		err = dump_write_text(stdout, &info, groups, n_groups, &sym);
	free(groups);
	dump_free(&dp);
	free(ts.v);
	check_output(d);
	return err;
}

/* Returns an exit code. */
static int run_dump(struct daemon *d)
{
	int i, err, exit_code = LW_EXIT_OK;

	clock_init(&d->clock);
	err = scan_read(d->bpf, &d->scan);
	if (err) {
		log_error("cannot read the scan: %s", strerror(-err));
		return LW_EXIT_CANNOT_RUN;
	}
	for (i = 0; i < d->cfg.n_pids; i++) {
		err = dump_process(d, d->cfg.pids[i]);
		if (err == -ENOMEM) {
			log_error("out of memory");
			exit_code = LW_EXIT_CANNOT_RUN;
		} else if (err == -ESRCH && exit_code == LW_EXIT_OK) {
			exit_code = LW_EXIT_USAGE; /* as a -p PID that does not exist */
		}
	}
	if (fflush(stdout))
		check_output(d);
	if (d->output_err) {
		log_error("cannot write the output: %s", strerror(-d->output_err));
		return LW_EXIT_CANNOT_RUN;
	}
	return exit_code;
}

static void emit_summary(struct daemon *d)
{
	struct lw_drops drops;
	struct lw_report r = { .type = LW_RPT_SUMMARY };
	uint64_t now = clock_mono_ns();

	collect_drops(d, &drops);
	r.ts = clock_to_unix(&d->clock, now);
	r.duration_s = (double)(now - d->start_ns) / 1e9;
	r.events = d->events;
	r.drops = &drops;
	d->sink.emit(d->sink.ctx, &r);
	log_debug("drops: ringbuf %llu, task storage %llu, targets %llu, tracker %llu; "
		  "unstuck seen by scan only %llu; unreadable stacks: user %llu, kernel %llu; "
		  "sites not tracked %llu; goroutines: gs invalid %llu, unread %llu, stacks moved "
		  "%llu, not tracked %llu",
		  (unsigned long long)drops.ringbuf, (unsigned long long)drops.task_storage,
		  (unsigned long long)drops.targets, (unsigned long long)drops.tracker,
		  (unsigned long long)drops.unstuck_inexact,
		  (unsigned long long)drops.stacks_unreadable,
		  (unsigned long long)drops.kstacks_unreadable,
		  (unsigned long long)drops.sites_untracked, (unsigned long long)drops.gs_invalid,
		  (unsigned long long)drops.gs_unread,
		  (unsigned long long)drops.goroutine_stacks_moved,
		  (unsigned long long)drops.goroutines_untracked);
}

static void print_banner(const struct daemon *d)
{
	char thr[32], ivl[32];

	duration_format(d->cfg.threshold_ns, thr, sizeof(thr));
	duration_format(d->cfg.interval_ns, ivl, sizeof(ivl));
	if (d->cfg.dump && d->cfg.n_pids == 1)
		fprintf(stderr, "leakwatch: watching pid %u for one scan (--dump)\n",
			d->cfg.pids[0]);
	else if (d->cfg.dump)
		fprintf(stderr, "leakwatch: watching %d processes for one scan (--dump)\n",
			d->cfg.n_pids);
	else if (d->cfg.command)
		fprintf(stderr, "leakwatch: watching '%s' (pid %d) and its children, "
				"threshold %s, interval %s\n", d->cfg.command[0], d->run.child, thr, ivl);
	else if (d->cfg.n_pids == 1)
		fprintf(stderr, "leakwatch: watching pid %u, threshold %s, interval %s; "
				"Ctrl-C to stop\n", d->cfg.pids[0], thr, ivl);
	else if (d->cfg.n_pids)
		fprintf(stderr, "leakwatch: watching %d processes, threshold %s, interval %s; "
				"Ctrl-C to stop\n", d->cfg.n_pids, thr, ivl);
	else if (d->cfg.n_cgroups == 1)
		fprintf(stderr, "leakwatch: watching the processes under cgroup %s, threshold %s, "
				"interval %s; Ctrl-C to stop\n", d->cfg.cgroups[0], thr, ivl);
	else if (d->cfg.n_cgroups)
		fprintf(stderr, "leakwatch: watching the processes under %d cgroups, threshold %s, "
				"interval %s; Ctrl-C to stop\n", d->cfg.n_cgroups, thr, ivl);
	else
		fprintf(stderr, "leakwatch: watching all processes, threshold %s, interval %s; "
				"Ctrl-C to stop\n", thr, ivl);
}

static int load_error(int err)
{
	switch (err) {
	case -ENOTSUP:
		log_error("this kernel has no BTF (/sys/kernel/btf/vmlinux): "
			  "leakwatch needs CONFIG_DEBUG_INFO_BTF=y");
		break;
	case -EPERM:
	case -EACCES:
		log_error("permission denied loading BPF programs: run as root (or with "
			  "CAP_BPF, CAP_PERFMON, CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH, CAP_SYSLOG)");
		break;
	default:
		log_error("cannot load or attach the BPF programs: %s%s", strerror(-err),
			  log_verbose() ? "" : " (-v shows libbpf's log)");
	}
	return LW_EXIT_CANNOT_RUN;
}

/* fds 0-2 stay taken (by /dev/null if closed), so that nothing opened later
 * becomes stdout: the timeline would get the JSON Lines. */
static int keep_std_fds_open(void)
{
	int fd;

	for (fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		if (open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) != fd)
			return -EBADF;
	}
	return 0;
}

/* Returns 0, or an exit code after one line on stderr. */
static int check_kernel(void)
{
	struct utsname u;

	if (uname(&u))
		return 0; /* the load will tell */
	if (kernel_version_at_least(u.release, LW_MIN_KERNEL_MAJOR, LW_MIN_KERNEL_MINOR) != 0)
		return 0;
	log_error("this kernel (%s) is too old: leakwatch needs Linux %d.%d or later", u.release,
		  LW_MIN_KERNEL_MAJOR, LW_MIN_KERNEL_MINOR);
	return LW_EXIT_CANNOT_RUN;
}

LW_STATIC_ASSERT(LW_MAX_CGROUPS == LW_MAX_CGROUP_TARGETS, "--cgroup: the options the map holds");

/*
 * --cgroup PATH: the cgroup2 mount from /proc/self/mountinfo, PATH's
 * directory under it, its id (the directory's inode number is the kernfs
 * id the kernel side compares).  Returns 0 or an exit code after one line
 * on stderr.
 */
static int resolve_cgroups(struct daemon *d)
{
	char mount[LW_CGROUP_PATH_MAX], dir[2 * LW_CGROUP_PATH_MAX], *text;
	struct statfs sfs;
	struct stat st;
	int i, n, fd, err;

	if (!d->cfg.n_cgroups)
		return 0;
	text = malloc(1 << 20);
	if (!text) {
		log_error("out of memory");
		return LW_EXIT_CANNOT_RUN;
	}
	n = procfs_read_small("/proc/self/mountinfo", text, 1 << 20);
	err = n < 0 ? n : cgroup_mount_point(text, (size_t)n, mount, sizeof(mount));
	free(text);
	if (err) {
		log_error("--cgroup: no cgroup2 file system is mounted (/proc/self/mountinfo): %s",
			  strerror(-err));
		return LW_EXIT_CANNOT_RUN;
	}
	for (i = 0; i < d->cfg.n_cgroups; i++) {
		const char *arg = d->cfg.cgroups[i];

		if (cgroup_dir(mount, arg, dir, sizeof(dir))) {
			log_error("invalid --cgroup '%s': use a cgroup v2 path or a directory "
				  "under %s", arg, mount);
			return LW_EXIT_USAGE;
		}
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0) {
			log_error("no cgroup '%s' (%s: %s)", arg, dir, strerror(errno));
			return LW_EXIT_USAGE;
		}
		if (fstatfs(fd, &sfs) || sfs.f_type != CGROUP2_SUPER_MAGIC || fstat(fd, &st)) {
			close(fd);
			log_error("--cgroup '%s': %s is not a cgroup v2 directory", arg, dir);
			return LW_EXIT_USAGE;
		}
		close(fd);
		d->cgroup_ids[i] = (uint64_t)st.st_ino;
		snprintf(d->cgroup_dirs[i], sizeof(d->cgroup_dirs[i]), "%s", dir);
		log_debug("--cgroup %s: %s, id %llu", arg, dir, (unsigned long long)st.st_ino);
	}
	return 0;
}

/* The command, checked and forked (held before its exec).  Returns 0 or an
 * exit code after one line on stderr. */
static int prepare_command(struct daemon *d)
{
	const char *bad = NULL;
	int err;

	err = run_command_check(d->cfg.command[0]);
	if (err) {
		log_error("cannot run '%s': %s", d->cfg.command[0], strerror(-err));
		return 127; /* as a shell says it */
	}
	if (run_ids_from_env(&d->run, &bad)) {
		log_error("invalid %s '%s': want the decimal id of the user who ran sudo", bad,
			  getenv(bad));
		return LW_EXIT_USAGE;
	}
	err = run_start(&d->run, d->cfg.command);
	if (err) {
		log_error("cannot start '%s': %s", d->cfg.command[0], strerror(-err));
		return LW_EXIT_CANNOT_RUN;
	}
	d->cfg.pids[0] = (uint32_t)d->run.child;
	d->cfg.n_pids = 1;
	return 0;
}

int main(int argc, char **argv)
{
	struct lw_tracker_opts topts = {};
	struct lw_loader_opts lopts = {};
	struct lw_loop_ops ops;
	struct daemon d = { .run = { .release_fd = -1, .exec_fd = -1 } };
	int err, exit_code = LW_EXIT_OK, i;
	bool released = false, signaled = false, folded_written = false;
	uint32_t tgid;

	if (keep_std_fds_open())
		return LW_EXIT_CANNOT_RUN;
	err = args_parse(argc, argv, &d.cfg, stdout, stderr);
	if (err == LW_ARGS_DONE)
		return LW_EXIT_OK;
	if (err)
		return LW_EXIT_USAGE;
	log_set_verbose(d.cfg.verbose);
	libbpf_set_print((libbpf_print_fn_t)log_libbpf);

	/* A PID may name any thread: watch its whole process, once. */
	for (i = 0; i < d.cfg.n_pids; i++) {
		if (procfs_tgid_of(d.cfg.pids[i], &tgid)) {
			log_error("no process with PID %u", d.cfg.pids[i]);
			return LW_EXIT_USAGE;
		}
		d.cfg.pids[i] = tgid;
	}
	d.cfg.n_pids = args_dedupe_pids(d.cfg.pids, d.cfg.n_pids);
	exit_code = check_kernel();
	if (exit_code)
		return exit_code;
	exit_code = resolve_cgroups(&d);
	if (exit_code)
		return exit_code;

	clock_init(&d.clock);
	d.start_ns = clock_mono_ns();
	err = loop_block_signals();
	if (err) {
		log_error("cannot block signals: %s", strerror(-err));
		return LW_EXIT_CANNOT_RUN;
	}
	if (d.cfg.command) {
		exit_code = prepare_command(&d);
		if (exit_code)
			return exit_code;
	}

	if (d.cfg.json) {
		d.output = (struct lw_sink){ .emit = json_emit, .ctx = stdout };
	} else {
		text_out_init(&d.text, stdout, isatty(STDOUT_FILENO), d.cfg.threshold_ns,
			      d.cfg.interval_ns);
		if (d.text.table && text_out_query_size(&d.text))
			log_debug("cannot read the terminal's size: the table is not fitted to it");
		d.output = (struct lw_sink){ .emit = text_emit, .ctx = &d.text };
	}
	d.sink = (struct lw_sink){ .emit = daemon_emit, .ctx = &d };
	d.log_events = !isatty(STDERR_FILENO);
	if (d.cfg.timeline) {
		err = timeline_file_open(d.cfg.timeline, &d.timeline_file);
		if (err == -EINVAL) {
			log_error("cannot write the timeline to %s: not a regular file",
				  d.cfg.timeline);
			exit_code = LW_EXIT_USAGE;
			goto cleanup;
		}
		if (!err)
			err = timeline_open(d.timeline_file, clock_to_unix(&d.clock, clock_mono_ns()),
					    &d.timeline);
		if (!err)
			timeline_set_goroutine_tracks(d.timeline, d.cfg.timeline_goroutines);
		if (err) {
			log_error("cannot write the timeline to %s: %s", d.cfg.timeline,
				  strerror(-err));
			exit_code = LW_EXIT_USAGE;
			goto cleanup;
		}
	}
	if (d.cfg.folded) {
		err = folded_file_prepare(d.cfg.folded, d.folded_path, sizeof(d.folded_path));
		if (err) {
			log_error("cannot write the folded stacks to %s: %s", d.cfg.folded,
				  err == -EINVAL ? "not a regular file" :
				  err == -EPERM ? "a symbolic link of another user, not followed" :
				  strerror(-err));
			exit_code = LW_EXIT_USAGE;
			goto cleanup;
		}
	}
	if (d.cfg.metrics) {
		err = http_start(d.cfg.metrics, &d.metrics_page, &d.http);
		if (err == -EINVAL) {
			log_error("invalid --metrics '%s': use ADDR:PORT with an IPv4 address or "
				  "[IPv6] (e.g. 127.0.0.1:9464)", d.cfg.metrics);
			exit_code = LW_EXIT_USAGE;
			goto cleanup;
		}
		if (err) {
			log_error("cannot serve metrics on %s: %s", d.cfg.metrics, strerror(-err));
			exit_code = LW_EXIT_CANNOT_RUN;
			goto cleanup;
		}
	}

	topts.threshold_ns = d.cfg.threshold_ns;
	topts.host_wide = d.cfg.n_pids == 0;
	topts.clock = d.clock;
	topts.read_first_waiter = procfs_read_first_waiter;
	topts.read_cgroup = procfs_read_cgroup;
	topts.locks = (struct lw_lock_ops){
		.read = lock_read_memory,
		.is_thread_of = lock_is_thread_of,
		.host_tid = lock_host_tid,
		.ctx = &d,
	};
	topts.sink = d.sink;
	err = ksyms_load(&d.ksyms);
	if (err)
		log_debug("cannot read /proc/kallsyms (%s): kernel stacks are addresses, "
			  "restarted waits show as restart_syscall", strerror(-err));
	ksyms_restart_fns(d.ksyms, &topts.restart_fns);
	topts.stacks = (struct lw_stack_ops){
		.unwind = stack_unwind,
		.user_frames = stack_user_frames,
		.symbolize_kernel = stack_symbolize_kernel,
		.python_frames = stack_python_frames,
		.forget = stack_forget,
		.ctx = &d,
	};
	if (!d.cfg.no_goroutines) {
		topts.stacks.unwind_goroutine = stack_unwind_goroutine;
		topts.stacks.unwind_goroutines = stack_unwind_goroutines;
		topts.stacks.go_frames = stack_go_frames;
		topts.stacks.go_wait_reason = stack_go_wait_reason;
		err = go_watch_new(&(struct go_watch_ops){
					   .found = on_go_found,
					   .stretched = on_go_stretched,
					   .scanned = on_go_scanned,
					   .unread = on_go_unread,
					   .gone = on_go_gone,
					   .ctx = &d,
				   }, &d.go);
		if (err) {
			log_error("out of memory");
			exit_code = LW_EXIT_CANNOT_RUN;
			goto cleanup;
		}
	}
	d.dumping = d.cfg.dump;
	id_map_init(&d.py_reported);
	err = unwinder_new(&d.unwinder);
	if (!err)
		err = py_procs_new(&d.py);
	if (!err)
		err = tracker_new(&topts, &d.tracker);
	if (err) {
		log_error("out of memory");
		exit_code = LW_EXIT_CANNOT_RUN;
		goto cleanup;
	}
	for (i = 0; i < d.cfg.n_pids && !err; i++)
		err = tracker_add_target(d.tracker, d.cfg.pids[i]);
	if (err) {
		log_error("out of memory");
		exit_code = LW_EXIT_CANNOT_RUN;
		goto cleanup;
	}

	lopts.pids = d.cfg.pids;
	lopts.n_pids = d.cfg.n_pids;
	lopts.follow_children = d.cfg.command != NULL;
	lopts.cgroup_ids = d.cgroup_ids;
	lopts.n_cgroups = d.cfg.n_cgroups;
	/* --dump: every blocked thread is "newly stuck" in its one scan, so
	 * that the scan saves the registers and wait of every thread. */
	lopts.threshold_ns = d.cfg.dump ? 1 : d.cfg.threshold_ns;
	lopts.on_event = on_event;
	lopts.ctx = &d;
	err = loader_open(&lopts, &d.bpf);
	if (err) {
		exit_code = load_error(err);
		goto cleanup;
	}
	if (d.cfg.dump) {
		print_banner(&d);
		exit_code = run_dump(&d);
		/* As every JSON run: the last record counts what was lost. */
		if (d.cfg.json && exit_code != LW_EXIT_CANNOT_RUN) {
			emit_summary(&d);
			if (fflush(stdout) || ferror(stdout)) {
				log_error("cannot write the output: %s", strerror(errno));
				exit_code = LW_EXIT_CANNOT_RUN;
			}
		}
		goto cleanup;
	}
	if (d.cfg.command) {
		/* Its own message is on stderr if the exec failed. */
		err = run_release(&d.run);
		released = true;
		if (err) {
			exit_code = 127;
			goto cleanup;
		}
	}
	print_banner(&d);

	ops = (struct lw_loop_ops){
		.on_tick = on_tick,
		.on_ringbuf = on_ringbuf,
		.on_child = on_child,
		.on_winch = on_winch,
		.on_usr1 = on_usr1,
		.extra_fd = d.http ? http_fd(d.http) : -1,
		.on_extra = on_http,
		.ctx = &d,
	};
	/* The first scan now: it finds the threads that were blocked before. */
	err = on_tick(&d);
	if (err == 0)
		err = loop_run(loader_ringbuf_fd(d.bpf), d.cfg.interval_ns, d.cfg.duration_ns, &ops);
	signaled = err == LOOP_SIGNALED;
	if (signaled)
		err = 0;
	if (err < 0) {
		if (err == d.output_err)
			log_error("cannot write the output: %s", strerror(-err));
		else
			log_error("stopped on an error: %s", strerror(-err));
		exit_code = LW_EXIT_CANNOT_RUN;
	}
	/* A command still running: the folded stacks before it is stopped
	 * (its stuck threads end with it). */
	if (d.cfg.folded && d.cfg.command && !d.run.done) {
		folded_written = true;
		if (write_folded_said(&d))
			exit_code = LW_EXIT_CANNOT_RUN;
	}
	if (d.cfg.command && !d.run.done) {
		/* Stopped by -d, a signal or an error: the command goes too. */
		run_stop(&d.run, LW_RUN_GRACE_NS);
		if (!err)
			on_tick(&d); /* its exit */
	}
	/* Stopped by a Ctrl-C: a second one kills.  After -d or the targets'
	 * exit, a first SIGINT still waits for the summary. */
	if (signaled)
		loop_second_interrupt_kills();
	if (!err)
		loader_consume(d.bpf);
	/* After the last records: the file shows what they leave stuck. */
	if (d.cfg.folded && !folded_written && write_folded_said(&d))
		exit_code = LW_EXIT_CANNOT_RUN;
	emit_summary(&d);
	if (fflush(stdout))
		check_output(&d);
	if (d.output_err && exit_code == LW_EXIT_OK) {
		log_error("cannot write the output: %s", strerror(-d.output_err));
		exit_code = LW_EXIT_CANNOT_RUN;
	}

	if (d.cfg.command && exit_code == LW_EXIT_OK)
		exit_code = run_exit_code(&d.run);
	if (exit_code == LW_EXIT_OK || d.cfg.command) {
		struct lw_tracker_stats stats;

		tracker_stats(d.tracker, &stats);
		if (stats.leaking_sites || stats.deadlocks)
			text_leak_report(stderr, d.tracker, d.cfg.threshold_ns);
		/* A failed run stays exit 3, leak or not; a deadlock is a leak
		 * of its threads for good. */
		if (d.cfg.fail_on_leak && (stats.leaks || stats.deadlocks) &&
		    exit_code != LW_EXIT_CANNOT_RUN)
			exit_code = LW_EXIT_LEAK;
	}

cleanup:
	/* A timeline cut short is a failed run, as a failed write to stdout is. */
	if (d.timeline &&
	    timeline_close(d.timeline, clock_to_unix(&d.clock, clock_mono_ns())) == -EIO) {
		log_error("could not write all of the timeline to %s", d.cfg.timeline);
		if (exit_code == LW_EXIT_OK)
			exit_code = LW_EXIT_CANNOT_RUN;
	}
	if (d.timeline_file && fclose(d.timeline_file)) {
		log_error("could not write all of the timeline to %s: %s", d.cfg.timeline,
			  strerror(errno));
		if (exit_code == LW_EXIT_OK)
			exit_code = LW_EXIT_CANNOT_RUN;
	}
	if (d.cfg.command && released && !d.run.done)
		run_stop(&d.run, LW_RUN_GRACE_NS);
	run_free(&d.run);
	http_stop(d.http);
	buf_free(&d.metrics_page);
	loader_close(d.bpf);
	tracker_free(d.tracker);
	go_watch_free(d.go);
	free(d.go_metrics);
	unwinder_free(d.unwinder);
	py_procs_free(d.py);
	id_map_free(&d.py_reported);
	for (size_t k = 0; k < TID_NS_CACHED; k++)
		free(d.tid_ns[k].v);
	ksyms_free(d.ksyms);
	scan_free(&d.scan);
	if (!d.cfg.json)
		text_out_free(&d.text);
	return exit_code;
}

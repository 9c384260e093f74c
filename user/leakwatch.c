// SPDX-License-Identifier: GPL-2.0
/*
 * leakwatch: finds threads blocked longer than a threshold, and whether their
 * number keeps growing.  This file wires the parts together: arguments, the
 * BPF side (loader.c), scans (scan.c), the waiter table (tracker.c), outputs
 * (json_out.c, text_out.c, timeline.c, metrics.c), run mode (run_mode.c) and
 * the loop (event_loop.c).  It is the one place that turns errors into
 * messages and exit codes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include "args.h"
#include "clock.h"
#include "duration.h"
#include "event_loop.h"
#include "http.h"
#include "json_out.h"
#include "kernel_version.h"
#include "ksyms.h"
#include "loader.h"
#include "metrics.h"
#include "log.h"
#include "procfs.h"
#include "run_mode.h"
#include "scan.h"
#include "text_out.h"
#include "timeline.h"
#include "tracker.h"
#include "unwind.h"

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
	struct lw_buf metrics_page;
	double scan_seconds;
	struct unwinder *unwinder;
	struct ksyms *ksyms;
	uint64_t start_ns;
	uint64_t events;
	uint64_t bad_records;
	int output_err;  /* the first failed write to stdout (-errno) */
	struct run_mode run; /* -- COMMAND */
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

	d->output.emit(d->output.ctx, r);
	check_output(d);
	if (d->timeline)
		timeline_emit(d->timeline, r);
	if (d->log_events && (r->type == LW_RPT_LEAK || r->type == LW_RPT_SPIN))
		text_log_line(stderr, r);
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
}

static void update_metrics(struct daemon *d)
{
	struct lw_prog_stats progs[8];
	struct lw_drops drops;
	struct lw_metrics_input in = {
		.tracker = d->tracker,
		.drops = &drops,
		.events = d->events,
		.scan_seconds = d->scan_seconds,
		.progs = progs,
	};
	int err;

	collect_drops(d, &drops);
	in.n_progs = (size_t)loader_prog_stats(d->bpf, progs, 8);
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
static int on_tick(void *ctx)
{
	struct daemon *d = ctx;
	struct lw_scan_item item;
	uint64_t scan_start;
	size_t off = 0;
	int err;

	clock_init(&d->clock);
	scan_start = clock_mono_ns();
	err = scan_read(d->bpf, &d->scan);
	if (err)
		return err;
	tracker_scan_begin(d->tracker, scan_start, &d->clock);
	err = loader_consume(d->bpf);
	while (err >= 0 && (err = scan_next(&d->scan, &off, &item)) > 0)
		tracker_scan_task(d->tracker, item.task, item.kstack);
	if (err < 0) {
		/* What it did not reach is not gone. */
		tracker_scan_abort(d->tracker);
		return err;
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

/* Stacks for the tracker: libdwfl for user space, kallsyms for the kernel. */
static int stack_unwind(void *ctx, const struct lw_task_rec *r, uint64_t *pcs, int max)
{
	struct daemon *d = ctx;

	return unwind_user(d->unwinder, r->pid, r->tid, r->regs, pcs, max);
}

static void stack_symbolize_user(void *ctx, uint32_t pid, uint64_t pc, bool first, char *buf,
				 size_t len)
{
	struct daemon *d = ctx;

	unwind_symbolize(d->unwinder, pid, pc, first, buf, len);
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
		  "sites not tracked %llu",
		  (unsigned long long)drops.ringbuf, (unsigned long long)drops.task_storage,
		  (unsigned long long)drops.targets, (unsigned long long)drops.tracker,
		  (unsigned long long)drops.unstuck_inexact,
		  (unsigned long long)drops.stacks_unreadable,
		  (unsigned long long)drops.kstacks_unreadable,
		  (unsigned long long)drops.sites_untracked);
}

static void print_banner(const struct daemon *d)
{
	char thr[32], ivl[32];

	duration_format(d->cfg.threshold_ns, thr, sizeof(thr));
	duration_format(d->cfg.interval_ns, ivl, sizeof(ivl));
	if (d->cfg.command)
		fprintf(stderr, "leakwatch: watching '%s' (pid %d) and its children, "
				"threshold %s, interval %s\n", d->cfg.command[0], d->run.child, thr, ivl);
	else if (d->cfg.n_pids == 1)
		fprintf(stderr, "leakwatch: watching pid %u, threshold %s, interval %s; "
				"Ctrl-C to stop\n", d->cfg.pids[0], thr, ivl);
	else if (d->cfg.n_pids)
		fprintf(stderr, "leakwatch: watching %d processes, threshold %s, interval %s; "
				"Ctrl-C to stop\n", d->cfg.n_pids, thr, ivl);
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
	bool released = false, signaled = false;
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
		if (err) {
			log_error("cannot write the timeline to %s: %s", d.cfg.timeline,
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
	topts.sink = d.sink;
	err = ksyms_load(&d.ksyms);
	if (err)
		log_debug("cannot read /proc/kallsyms (%s): kernel stacks are addresses, "
			  "restarted waits show as restart_syscall", strerror(-err));
	ksyms_restart_fns(d.ksyms, &topts.restart_fns);
	topts.stacks = (struct lw_stack_ops){
		.unwind = stack_unwind,
		.symbolize_user = stack_symbolize_user,
		.symbolize_kernel = stack_symbolize_kernel,
		.forget = stack_forget,
		.ctx = &d,
	};
	err = unwinder_new(&d.unwinder);
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
	lopts.threshold_ns = d.cfg.threshold_ns;
	lopts.on_event = on_event;
	lopts.ctx = &d;
	err = loader_open(&lopts, &d.bpf);
	if (err) {
		exit_code = load_error(err);
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
		if (stats.leaking_sites)
			text_leak_report(stderr, d.tracker, d.cfg.threshold_ns);
		/* A failed run stays exit 3, leak or not. */
		if (d.cfg.fail_on_leak && stats.leaks && exit_code != LW_EXIT_CANNOT_RUN)
			exit_code = LW_EXIT_LEAK;
	}

cleanup:
	if (d.timeline &&
	    timeline_close(d.timeline, clock_to_unix(&d.clock, clock_mono_ns())) == -EIO)
		log_error("could not write all of the timeline to %s", d.cfg.timeline);
	if (d.timeline_file && fclose(d.timeline_file))
		log_error("could not write all of the timeline to %s: %s", d.cfg.timeline,
			  strerror(errno));
	if (d.cfg.command && released && !d.run.done)
		run_stop(&d.run, LW_RUN_GRACE_NS);
	run_free(&d.run);
	http_stop(d.http);
	buf_free(&d.metrics_page);
	loader_close(d.bpf);
	tracker_free(d.tracker);
	unwinder_free(d.unwinder);
	ksyms_free(d.ksyms);
	scan_free(&d.scan);
	if (!d.cfg.json)
		text_out_free(&d.text);
	return exit_code;
}

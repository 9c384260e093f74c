// SPDX-License-Identifier: GPL-2.0
/*
 * leakwatch: finds threads blocked longer than a threshold, and whether their
 * number keeps growing.  This file wires the parts together: arguments, the
 * BPF side (loader.c), scans (scan.c), the thread table (tracker.c), outputs
 * (json_out.c, text_out.c) and the loop (event_loop.c).  It is the one place
 * that turns errors into messages and exit codes.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "args.h"
#include "clock.h"
#include "duration.h"
#include "event_loop.h"
#include "http.h"
#include "json_out.h"
#include "ksyms.h"
#include "loader.h"
#include "metrics.h"
#include "log.h"
#include "procfs.h"
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
	/* -- COMMAND */
	pid_t child;
	int child_status;
	bool child_done;
};

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

/* One interval: drain the records, scan every watched thread, report. */
static int on_tick(void *ctx)
{
	struct daemon *d = ctx;
	struct lw_scan_item item;
	uint64_t scan_start;
	size_t off = 0;
	int err;

	err = loader_consume(d->bpf);
	if (err < 0)
		return err;
	scan_start = clock_mono_ns();
	err = scan_read(d->bpf, &d->scan);
	if (err)
		return err;
	tracker_scan_begin(d->tracker);
	while ((err = scan_next(&d->scan, &off, &item)) > 0)
		tracker_scan_task(d->tracker, item.task, item.kstack);
	tracker_scan_end(d->tracker);
	if (err < 0)
		return err;
	d->scan_seconds = (double)(clock_mono_ns() - scan_start) / 1e9;
	if (d->http) {
		update_metrics(d);
		err = http_run(d->http); /* connection timeouts */
		if (err)
			return err;
	}
	if (!d->cfg.json && d->text.table)
		text_render(&d->text, d->tracker, clock_to_unix(&d->clock, clock_mono_ns()));
	if (d->cfg.command)
		return d->child_done;
	return tracker_targets_gone(d->tracker) ? 1 : 0;
}

static int on_child(void *ctx)
{
	struct daemon *d = ctx;
	int status, err;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == d->child) {
			d->child_status = status;
			d->child_done = true;
		}
	}
	if (!d->child_done)
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

/* Whether execvp would find cmd: checked before anything starts, so that a
 * typo gives one line and no run.  Returns 0 or -ENOENT/-EACCES. */
static int command_runnable(const char *cmd)
{
	const char *path = getenv("PATH"), *p, *end;
	char buf[PATH_MAX];
	int err = -ENOENT;

	if (strchr(cmd, '/'))
		return access(cmd, X_OK) ? -errno : 0;
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path; ; p = end + 1) {
		end = strchrnul(p, ':');
		snprintf(buf, sizeof(buf), "%.*s/%s", (int)(end - p), end == p ? "." : p, cmd);
		if (!access(buf, X_OK))
			return 0;
		if (errno == EACCES)
			err = -EACCES;
		if (!*end)
			return err;
	}
}

/* Fork the command, held until the BPF side watches it. */
static int start_command(struct daemon *d, int *release_fd)
{
	int pipefd[2];
	char go;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return -errno;
	}
	if (pid == 0) {
		close(pipefd[1]);
		loop_unblock_signals();
		if (read(pipefd[0], &go, 1) != 1)
			_exit(127);
		/* Under sudo, run the command as the user who asked. */
		if (getuid() == 0 && getenv("SUDO_UID") && getenv("SUDO_GID")) {
			uid_t uid = (uid_t)strtoul(getenv("SUDO_UID"), NULL, 10);
			gid_t gid = (gid_t)strtoul(getenv("SUDO_GID"), NULL, 10);

			if (setgroups(0, NULL) || setgid(gid) || setuid(uid)) {
				fprintf(stderr, "leakwatch: cannot drop to uid %u: %s\n", uid,
					strerror(errno));
				_exit(127);
			}
		}
		execvp(d->cfg.command[0], d->cfg.command);
		fprintf(stderr, "leakwatch: cannot run '%s': %s\n", d->cfg.command[0],
			strerror(errno));
		_exit(127);
	}
	close(pipefd[0]);
	d->child = pid;
	*release_fd = pipefd[1];
	return 0;
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
				"threshold %s, interval %s\n", d->cfg.command[0], d->child, thr, ivl);
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

int main(int argc, char **argv)
{
	struct lw_tracker_opts topts = {};
	struct lw_loader_opts lopts = {};
	struct lw_loop_ops ops;
	struct daemon d = {};
	int err, exit_code = LW_EXIT_OK, release_fd = -1, i;
	uint32_t tgid;

	err = args_parse(argc, argv, &d.cfg, stdout, stderr);
	if (err == LW_ARGS_DONE)
		return LW_EXIT_OK;
	if (err)
		return LW_EXIT_USAGE;
	log_set_verbose(d.cfg.verbose);
	libbpf_set_print((libbpf_print_fn_t)log_libbpf);

	/* A PID may name any thread: watch its whole process. */
	for (i = 0; i < d.cfg.n_pids; i++) {
		if (procfs_tgid_of(d.cfg.pids[i], &tgid)) {
			log_error("no process with PID %u", d.cfg.pids[i]);
			return LW_EXIT_USAGE;
		}
		d.cfg.pids[i] = tgid;
	}

	clock_init(&d.clock);
	d.start_ns = clock_mono_ns();
	err = loop_block_signals();
	if (err) {
		log_error("cannot block signals: %s", strerror(-err));
		return LW_EXIT_CANNOT_RUN;
	}
	if (d.cfg.command) {
		err = command_runnable(d.cfg.command[0]);
		if (err) {
			log_error("cannot run '%s': %s", d.cfg.command[0], strerror(-err));
			return 127; /* as a shell says it */
		}
		err = start_command(&d, &release_fd);
		if (err) {
			log_error("cannot start '%s': %s", d.cfg.command[0], strerror(-err));
			return LW_EXIT_CANNOT_RUN;
		}
		d.cfg.pids[0] = (uint32_t)d.child;
		d.cfg.n_pids = 1;
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
		d.timeline_file = fopen(d.cfg.timeline, "we");
		err = d.timeline_file ? timeline_open(d.timeline_file, clock_to_unix(&d.clock,
							clock_mono_ns()), &d.timeline) : -errno;
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
	for (i = 0; i < d.cfg.n_pids; i++)
		tracker_add_target(d.tracker, d.cfg.pids[i]);

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
	if (release_fd >= 0) {
		if (write(release_fd, "x", 1) != 1)
			log_debug("cannot release the command: %s", strerror(errno));
		close(release_fd);
		release_fd = -1;
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
	if (err < 0) {
		log_error("stopped on an error: %s", strerror(-err));
		exit_code = LW_EXIT_CANNOT_RUN;
	} else {
		loader_consume(d.bpf);
	}
	emit_summary(&d);

	if (d.cfg.command && exit_code == LW_EXIT_OK) {
		if (!d.child_done) {
			/* Stopped by -d or a signal: the command goes too. */
			kill(d.child, SIGTERM);
			waitpid(d.child, &d.child_status, 0);
		}
		if (WIFEXITED(d.child_status))
			exit_code = WEXITSTATUS(d.child_status);
		else if (WIFSIGNALED(d.child_status))
			exit_code = 128 + WTERMSIG(d.child_status);
	}
	if (exit_code == LW_EXIT_OK || d.cfg.command) {
		if (d.tracker->leaks)
			text_leak_report(stderr, d.tracker, d.cfg.threshold_ns);
		if (d.cfg.fail_on_leak && d.tracker->leaks)
			exit_code = LW_EXIT_LEAK;
	}

cleanup:
	if (d.timeline &&
	    timeline_close(d.timeline, clock_to_unix(&d.clock, clock_mono_ns())) == -EIO)
		log_error("could not write all of the timeline to %s", d.cfg.timeline);
	if (d.timeline_file && fclose(d.timeline_file))
		log_error("could not write all of the timeline to %s: %s", d.cfg.timeline,
			  strerror(errno));
	if (release_fd >= 0) {
		/* The command never started: closing the pipe ends it. */
		close(release_fd);
		waitpid(d.child, NULL, 0);
	}
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

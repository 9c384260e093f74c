// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "metrics.h"
#include "tracker.h"
#include "utf8.h"

void metrics_escape_label(const char *in, size_t len, char *out, size_t out_len)
{
	char clean[3 * 64 + 1];
	size_t o = 0;
	const char *p;

	utf8_sanitize(in, len < 64 ? len : 64, clean);
	for (p = clean; *p && o + 3 < out_len; p++) {
		if (*p == '\\' || *p == '"') {
			out[o++] = '\\';
			out[o++] = *p;
		} else if (*p == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else {
			out[o++] = *p;
		}
	}
	out[o] = '\0';
}

/* Like metrics_escape_label, for values longer than a name. */
static void escape_long_label(const char *in, char *out, size_t out_len)
{
	size_t len = strnlen(in, LW_CGROUP_PATH_MAX), o = 0;
	char clean[3 * LW_CGROUP_PATH_MAX + 1];
	const char *p;

	utf8_sanitize(in, len, clean);
	for (p = clean; *p && o + 3 < out_len; p++) {
		if (*p == '\\' || *p == '"' || *p == '\n')
			out[o++] = '\\';
		out[o++] = *p == '\n' ? 'n' : *p;
	}
	out[o] = '\0';
}

void metrics_cgroup_labels(const struct lw_cgroup *cg, char *out, size_t out_len)
{
	const struct {
		const char *name, *value;
	} labels[] = {
		{ "cgroup", cg ? cg->path : "" },
		{ "container", cg ? cg->container : "" },
		{ "pod", cg ? cg->pod : "" },
		{ "unit", cg ? cg->unit : "" },
	};
	char value[3 * LW_CGROUP_PATH_MAX + 1];
	size_t i, o = 0;
	int n;

	out[0] = '\0';
	for (i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
		if (!labels[i].value || !labels[i].value[0])
			continue;
		escape_long_label(labels[i].value, value, sizeof(value));
		n = snprintf(out + o, out_len - o, ",%s=\"%s\"", labels[i].name, value);
		if (n < 0 || (size_t)n >= out_len - o) {
			out[o] = '\0'; /* a label is whole or absent */
			return;
		}
		o += n;
	}
}

#define HEADER(b, name, type, help) \
	buf_printf(b, "# HELP " name " " help "\n# TYPE " name " " type "\n")

/* The per-process gauges: the processes the tracker shows (watched, or with
 * stuck threads), and the goroutine gauges of the Go ones among them. */
static int render_processes(const struct lw_tracker *t, struct lw_buf *b)
{
	static const struct {
		const char *name, *help;
		size_t offset;
		bool go_only;
	} gauges[] = {
		{ "leakwatch_threads", "Threads of the process.",
		  offsetof(struct lw_process_view, threads), false },
		{ "leakwatch_blocked_threads", "Threads sleeping (S or D) at the last scan.",
		  offsetof(struct lw_process_view, blocked), false },
		{ "leakwatch_stuck_threads", "Threads blocked longer than the threshold.",
		  offsetof(struct lw_process_view, stuck), false },
		{ "leakwatch_goroutines", "Goroutines of a Go process (as runtime.NumGoroutine).",
		  offsetof(struct lw_process_view, goroutines), true },
		{ "leakwatch_goroutines_blocked", "Goroutines parked at the last goroutine scan.",
		  offsetof(struct lw_process_view, goroutines_blocked), true },
		{ "leakwatch_goroutines_stuck", "Goroutines parked longer than the threshold.",
		  offsetof(struct lw_process_view, goroutines_stuck), true },
	};
	struct lw_process_view p;
	struct tracker_cursor c;
	char comm[4 * 64], cgroup[LW_METRICS_CGROUP_LABELS_MAX];
	size_t g;
	int err = 0;

	for (g = 0; g < sizeof(gauges) / sizeof(gauges[0]) && !err; g++) {
		err = buf_printf(b, "# HELP %s %s\n# TYPE %s gauge\n", gauges[g].name,
				 gauges[g].help, gauges[g].name);
		c = (struct tracker_cursor){ 0 };
		while (!err && tracker_next_process(t, &c, &p)) {
			uint32_t v;

			if (gauges[g].go_only && !p.go)
				continue;
			memcpy(&v, (const char *)&p + gauges[g].offset, sizeof(v));
			metrics_escape_label(p.pcomm, strlen(p.pcomm), comm, sizeof(comm));
			metrics_cgroup_labels(p.cgroup, cgroup, sizeof(cgroup));
			err = buf_printf(b, "%s{pid=\"%u\",comm=\"%s\"%s} %u\n", gauges[g].name,
					 p.pid, comm, cgroup, v);
		}
	}
	return err;
}

/* Stuck goroutines per process and wait reason: bounded, the rest summed
 * under wait="other". */
#define METRICS_GO_WAITS 256

struct go_wait_count {
	uint32_t pid;
	const char *pcomm;
	const struct lw_cgroup *cgroup;
	char wait[40];
	uint64_t n;
};

static int render_goroutine_waits(const struct lw_tracker *t, struct lw_buf *b)
{
	struct go_wait_count *counts = calloc(METRICS_GO_WAITS, sizeof(*counts));
	struct tracker_cursor c = { 0 };
	struct lw_waiter_view w;
	char comm[4 * 64], wait[4 * 64], cgroup[LW_METRICS_CGROUP_LABELS_MAX];
	size_t n = 0, k;
	int err;

	if (!counts)
		return -ENOMEM;
	while (tracker_next_stuck(t, &c, &w)) {
		const char *reason = w.wait && w.wait->kind ? w.wait->kind : "?";

		if (w.id.kind != LW_WAITER_GOROUTINE)
			continue;
		for (k = 0; k < n && (counts[k].pid != w.id.pid ||
				      strncmp(counts[k].wait, reason, sizeof(counts[k].wait) - 1));
		     k++)
			;
		if (k == n) {
			if (n == METRICS_GO_WAITS - 1) {
				/* The last slot sums what does not fit. */
				for (k = 0; k < n && (counts[k].pid ||
						      strcmp(counts[k].wait, "other")); k++)
					;
				if (k == n) {
					counts[n].pid = 0;
					counts[n].pcomm = "";
					snprintf(counts[n].wait, sizeof(counts[n].wait), "other");
					n++;
				}
			} else {
				counts[n].pid = w.id.pid;
				counts[n].pcomm = w.pcomm ? w.pcomm : "";
				counts[n].cgroup = w.cgroup;
				snprintf(counts[n].wait, sizeof(counts[n].wait), "%s", reason);
				n++;
			}
		}
		counts[k].n++;
	}
	err = HEADER(b, "leakwatch_goroutines_stuck_by_wait", "gauge",
		     "Stuck goroutines by Go's wait reason (chan send, select, IO wait, ...).");
	for (k = 0; k < n && !err; k++) {
		metrics_escape_label(counts[k].pcomm, strlen(counts[k].pcomm), comm, sizeof(comm));
		metrics_escape_label(counts[k].wait, strlen(counts[k].wait), wait, sizeof(wait));
		metrics_cgroup_labels(counts[k].cgroup, cgroup, sizeof(cgroup));
		if (counts[k].pid)
			err = buf_printf(b, "leakwatch_goroutines_stuck_by_wait{pid=\"%u\",comm=\"%s\","
					    "wait=\"%s\"%s} %llu\n", counts[k].pid, comm, wait, cgroup,
					 (unsigned long long)counts[k].n);
		else
			err = buf_printf(b, "leakwatch_goroutines_stuck_by_wait{wait=\"other\"} %llu\n",
					 (unsigned long long)counts[k].n);
	}
	free(counts);
	return err;
}

/* The name of process pid, and its cgroup labels into cgroup. */
static const char *pcomm_of(const struct lw_tracker *t, uint32_t pid, char *cgroup, size_t len)
{
	struct tracker_cursor c = { 0 };
	struct lw_process_view p;

	while (tracker_next_process(t, &c, &p)) {
		if (p.pid == pid) {
			metrics_cgroup_labels(p.cgroup, cgroup, len);
			return p.pcomm;
		}
	}
	cgroup[0] = '\0';
	return "";
}

/* The goroutine scans' own cost, per Go process read. */
static int render_goroutine_scans(const struct lw_metrics_input *in, struct lw_buf *b)
{
	static const struct {
		const char *name, *type, *help;
		size_t offset; /* in struct go_scan_stats; last_scan_ns: seconds */
	} series[] = {
		{ "leakwatch_goroutine_scan_last_seconds", "gauge",
		  "How long the last goroutine scan of the process took.",
		  offsetof(struct go_scan_stats, last_scan_ns) },
		{ "leakwatch_goroutine_scans_total", "counter", "Goroutine scans of the process.",
		  offsetof(struct go_scan_stats, scans) },
		{ "leakwatch_goroutine_scan_bytes_total", "counter",
		  "Bytes read from the process by its goroutine scans (g structs and stacks).",
		  offsetof(struct go_scan_stats, bytes_read) },
		{ "leakwatch_goroutine_gs_invalid_total", "counter",
		  "g structs that did not validate: skipped.",
		  offsetof(struct go_scan_stats, gs_invalid) },
		{ "leakwatch_goroutine_gs_unread_total", "counter",
		  "g structs not read: past the scan's cap, or a failed read.",
		  offsetof(struct go_scan_stats, gs_unread) },
		{ "leakwatch_goroutine_stacks_read_total", "counter", "Goroutine stacks read.",
		  offsetof(struct go_scan_stats, stacks_read) },
		{ "leakwatch_goroutine_stacks_moved_total", "counter",
		  "Goroutine stacks that moved while read (the walk did not end at goexit): retried.",
		  offsetof(struct go_scan_stats, stacks_moved) },
		{ "leakwatch_goroutine_stacks_unreadable_total", "counter",
		  "Goroutine stacks that could not be read.",
		  offsetof(struct go_scan_stats, stacks_unreadable) },
	};
	char comm[4 * 64], cgroup[LW_METRICS_CGROUP_LABELS_MAX];
	size_t s, i;
	int err = 0;

	err = HEADER(b, "leakwatch_goroutine_scan_duration_seconds", "gauge",
		     "How long the last interval's goroutine scans took, every process.");
	if (!err)
		err = buf_printf(b, "leakwatch_goroutine_scan_duration_seconds %.6f\n",
				 in->goroutine_scan_seconds);
	if (!err)
		err = HEADER(b, "leakwatch_goroutine_scan_interval_seconds", "gauge",
			     "How often the process's goroutines are read (longer than the "
			     "interval when its scans cost too much).");
	for (i = 0; i < in->n_go && !err; i++) {
		const char *pcomm = pcomm_of(in->tracker, in->go[i].pid, cgroup, sizeof(cgroup));

		metrics_escape_label(pcomm, strlen(pcomm), comm, sizeof(comm));
		err = buf_printf(b, "leakwatch_goroutine_scan_interval_seconds{pid=\"%u\","
				    "comm=\"%s\"%s} %.3f\n", in->go[i].pid, comm, cgroup,
				 in->go[i].every * in->interval_s);
	}
	for (s = 0; s < sizeof(series) / sizeof(series[0]) && !err; s++) {
		err = buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", series[s].name, series[s].help,
				 series[s].name, series[s].type);
		for (i = 0; i < in->n_go && !err; i++) {
			const char *pcomm = pcomm_of(in->tracker, in->go[i].pid, cgroup,
						     sizeof(cgroup));
			uint64_t v;

			memcpy(&v, (const char *)&in->go[i].stats + series[s].offset, sizeof(v));
			metrics_escape_label(pcomm, strlen(pcomm), comm, sizeof(comm));
			if (series[s].offset == offsetof(struct go_scan_stats, last_scan_ns))
				err = buf_printf(b, "%s{pid=\"%u\",comm=\"%s\"%s} %.6f\n",
						 series[s].name, in->go[i].pid, comm, cgroup,
						 (double)v / 1e9);
			else
				err = buf_printf(b, "%s{pid=\"%u\",comm=\"%s\"%s} %llu\n",
						 series[s].name, in->go[i].pid, comm, cgroup,
						 (unsigned long long)v);
		}
	}
	return err;
}

struct kind_count {
	const char *kind;
	uint64_t n;
};

/* Stuck threads per wait kind, over every watched process. */
static int render_wait_kinds(const struct lw_tracker *t, struct lw_buf *b)
{
	struct tracker_cursor c = { 0 };
	struct kind_count kinds[64];
	struct lw_waiter_view w;
	size_t n_kinds = 0, k;
	int err;

	while (tracker_next_stuck(t, &c, &w)) {
		const char *kind = w.wait->kind ? w.wait->kind : "kernel";

		if (w.id.kind != LW_WAITER_THREAD)
			continue;

		for (k = 0; k < n_kinds && strcmp(kinds[k].kind, kind); k++)
			;
		if (k == n_kinds) {
			if (n_kinds == sizeof(kinds) / sizeof(kinds[0]))
				continue;
			kinds[n_kinds].kind = kind;
			kinds[n_kinds++].n = 0;
		}
		kinds[k].n++;
	}
	err = HEADER(b, "leakwatch_stuck_threads_by_wait", "gauge",
		     "Stuck threads by what they wait in (futex, read, poll, ...).");
	for (k = 0; k < n_kinds && !err; k++)
		err = buf_printf(b, "leakwatch_stuck_threads_by_wait{wait=\"%s\"} %llu\n",
				 kinds[k].kind, (unsigned long long)kinds[k].n);
	return err;
}

static int render_drops(const struct lw_drops *d, struct lw_buf *b)
{
	const struct {
		const char *cause;
		uint64_t n;
	} causes[] = {
		{ "ringbuf", d->ringbuf },	     { "task_storage", d->task_storage },
		{ "targets", d->targets },	     { "tracker", d->tracker },
	};
	size_t i;
	int err;

	err = HEADER(b, "leakwatch_dropped_total", "counter",
		     "Records or state lost, by cause.");
	for (i = 0; i < sizeof(causes) / sizeof(causes[0]) && !err; i++)
		err = buf_printf(b, "leakwatch_dropped_total{cause=\"%s\"} %llu\n",
				 causes[i].cause, (unsigned long long)causes[i].n);
	if (!err)
		err = HEADER(b, "leakwatch_stacks_unreadable_total", "counter",
			     "Stacks that could not be read, by side.");
	if (!err)
		err = buf_printf(b,
				 "leakwatch_stacks_unreadable_total{side=\"user\"} %llu\n"
				 "leakwatch_stacks_unreadable_total{side=\"kernel\"} %llu\n"
				 "leakwatch_stacks_unreadable_total{side=\"python\"} %llu\n",
				 (unsigned long long)d->stacks_unreadable,
				 (unsigned long long)d->kstacks_unreadable,
				 (unsigned long long)d->python_stacks_unreadable);
	if (!err)
		err = HEADER(b, "leakwatch_untracked_total", "counter",
			     "What was past a cap and not tracked, by kind.");
	if (!err)
		err = buf_printf(b,
				 "leakwatch_untracked_total{kind=\"site\"} %llu\n"
				 "leakwatch_untracked_total{kind=\"process\"} %llu\n"
				 "leakwatch_untracked_total{kind=\"thread\"} %llu\n"
				 "leakwatch_untracked_total{kind=\"goroutine\"} %llu\n"
				 "leakwatch_untracked_total{kind=\"cgroup\"} %llu\n",
				 (unsigned long long)d->sites_untracked,
				 (unsigned long long)d->processes_untracked,
				 (unsigned long long)d->threads_untracked,
				 (unsigned long long)d->goroutines_untracked,
				 (unsigned long long)d->cgroups_untracked);
	if (!err)
		err = HEADER(b, "leakwatch_cgroups_unread_total", "counter",
			     "Processes whose /proc/PID/cgroup could not be read (gone) or parsed: "
			     "their records have no cgroup.");
	if (!err)
		err = buf_printf(b, "leakwatch_cgroups_unread_total %llu\n",
				 (unsigned long long)d->cgroups_unread);
	if (!err)
		err = HEADER(b, "leakwatch_goroutine_losses_total", "counter",
			     "What the goroutine scans skipped, every process: g structs that did not "
			     "validate or were not read, stacks that moved while read.");
	if (!err)
		err = buf_printf(b,
				 "leakwatch_goroutine_losses_total{cause=\"gs_invalid\"} %llu\n"
				 "leakwatch_goroutine_losses_total{cause=\"gs_unread\"} %llu\n"
				 "leakwatch_goroutine_losses_total{cause=\"stacks_moved\"} %llu\n",
				 (unsigned long long)d->gs_invalid, (unsigned long long)d->gs_unread,
				 (unsigned long long)d->goroutine_stacks_moved);
	return err;
}

static int render_progs(const struct lw_metrics_input *in, struct lw_buf *b)
{
	size_t i;
	int err;

	/* All zero: kernel.bpf_stats_enabled is off, nothing to say. */
	for (i = 0; i < in->n_progs && !in->progs[i].run_cnt; i++)
		;
	if (i == in->n_progs)
		return 0;
	err = HEADER(b, "leakwatch_bpf_run_time_seconds_total", "counter",
		     "Time spent in each BPF program (kernel.bpf_stats_enabled=1).");
	for (i = 0; i < in->n_progs && !err; i++)
		err = buf_printf(b, "leakwatch_bpf_run_time_seconds_total{prog=\"%s\"} %.9f\n",
				 in->progs[i].name, (double)in->progs[i].run_time_ns / 1e9);
	if (!err)
		err = HEADER(b, "leakwatch_bpf_runs_total", "counter",
			     "Runs of each BPF program (kernel.bpf_stats_enabled=1).");
	for (i = 0; i < in->n_progs && !err; i++)
		err = buf_printf(b, "leakwatch_bpf_runs_total{prog=\"%s\"} %llu\n",
				 in->progs[i].name, (unsigned long long)in->progs[i].run_cnt);
	return err;
}

/* The symbolization cache and what named the frames; the Python readers. */
static int render_symbolize(const struct lw_metrics_input *in, struct lw_buf *b)
{
	const struct lw_symbolize_stats *y = in->symbolize;
	const struct py_stats *py = in->python;
	int err = 0;

	if (y) {
		err = HEADER(b, "leakwatch_symbol_cache_entries", "gauge",
			     "Entries in the symbolization cache (build-id, address).");
		if (!err)
			err = buf_printf(b, "leakwatch_symbol_cache_entries %llu\n",
					 (unsigned long long)y->cache_entries);
		if (!err)
			err = HEADER(b, "leakwatch_symbol_cache_capacity", "gauge",
				     "Entries the symbolization cache holds at most.");
		if (!err)
			err = buf_printf(b, "leakwatch_symbol_cache_capacity %llu\n",
					 (unsigned long long)y->cache_capacity);
		if (!err)
			err = HEADER(b, "leakwatch_symbol_cache_lookups_total", "counter",
				     "Symbolization cache lookups, by result.");
		if (!err)
			err = buf_printf(b,
					 "leakwatch_symbol_cache_lookups_total{result=\"hit\"} %llu\n"
					 "leakwatch_symbol_cache_lookups_total{result=\"miss\"} %llu\n",
					 (unsigned long long)y->cache_hits,
					 (unsigned long long)y->cache_misses);
		if (!err)
			err = HEADER(b, "leakwatch_symbol_cache_evictions_total", "counter",
				     "Symbolization cache entries evicted to stay in bounds.");
		if (!err)
			err = buf_printf(b, "leakwatch_symbol_cache_evictions_total %llu\n",
					 (unsigned long long)y->cache_evictions);
		if (!err)
			err = HEADER(b, "leakwatch_perf_maps_read_total", "counter",
				     "Perf map files (JIT symbols) read, again when they changed.");
		if (!err)
			err = buf_printf(b, "leakwatch_perf_maps_read_total %llu\n",
					 (unsigned long long)y->perf_maps_read);
		if (!err)
			err = HEADER(b, "leakwatch_perf_map_lines_bad_total", "counter",
				     "Malformed perf map lines skipped.");
		if (!err)
			err = buf_printf(b, "leakwatch_perf_map_lines_bad_total %llu\n",
					 (unsigned long long)y->perf_map_lines_bad);
		if (!err)
			err = HEADER(b, "leakwatch_perf_maps_over_budget_total", "counter",
				     "Perf map reads not kept: all maps together past their memory budget.");
		if (!err)
			err = buf_printf(b, "leakwatch_perf_maps_over_budget_total %llu\n",
					 (unsigned long long)y->perf_maps_over_budget);
		if (!err)
			err = HEADER(b, "leakwatch_frames_symbolized_total", "counter",
				     "Frames looked up, by what named them (unnamed: left an address).");
		if (!err)
			err = buf_printf(b,
					 "leakwatch_frames_symbolized_total{by=\"jit\"} %llu\n"
					 "leakwatch_frames_symbolized_total{by=\"unnamed\"} %llu\n",
					 (unsigned long long)y->jit_frames,
					 (unsigned long long)y->unnamed_frames);
	}
	if (py && !err) {
		err = HEADER(b, "leakwatch_python_processes_total", "counter",
			     "CPython processes found, by whether their stacks can be read.");
		if (!err)
			err = buf_printf(b,
					 "leakwatch_python_processes_total{layout=\"read\"} %llu\n"
					 "leakwatch_python_processes_total{layout=\"unsupported\"} %llu\n",
					 (unsigned long long)py->processes,
					 (unsigned long long)py->unsupported);
		if (!err)
			err = HEADER(b, "leakwatch_python_stacks_read_total", "counter",
				     "Python thread stacks read.");
		if (!err)
			err = buf_printf(b, "leakwatch_python_stacks_read_total %llu\n",
					 (unsigned long long)py->threads_read);
		if (!err)
			err = HEADER(b, "leakwatch_python_frames_read_total", "counter",
				     "Python frames read, over every stack.");
		if (!err)
			err = buf_printf(b, "leakwatch_python_frames_read_total %llu\n",
					 (unsigned long long)py->frames_read);
		if (!err)
			err = HEADER(b, "leakwatch_python_stack_errors_total", "counter",
				     "Python stacks cut (a cycle, too deep), not read, or not "
				     "looked for (thread states relisted too recently), by kind.");
		if (!err)
			err = buf_printf(b,
					 "leakwatch_python_stack_errors_total{kind=\"cut\"} %llu\n"
					 "leakwatch_python_stack_errors_total{kind=\"read\"} %llu\n"
					 "leakwatch_python_stack_errors_total{kind=\"relist_skipped\"} "
					 "%llu\n",
					 (unsigned long long)py->chains_cut,
					 (unsigned long long)py->read_errors,
					 (unsigned long long)py->relists_skipped);
	}
	return err;
}

/* Series of leaked sites at most, over every process: a page an alert reads
 * stays small whatever a process does; the rest are counted. */
#define METRICS_LEAK_SERIES 512

/*
 * One series per site flagged as a leak, of the processes alive: what an
 * alert fires on, with the process and the site in its labels.  The value is
 * the count the leak is judged on at the last scan: the waiters stuck at the
 * site; for the site "threads", the process's threads outside any pile.  A
 * leaked site stays flagged while its process lives: the series goes to 0
 * when its pile is released, and away when the process exits.
 */
static int render_leaks(const struct lw_tracker *t, size_t max, struct lw_buf *b)
{
	struct tracker_cursor c = { 0 };
	struct lw_site_view v;
	char comm[4 * 64], site[4 * 64], wait[4 * 64];
	char where[3 * LW_CGROUP_PATH_MAX + 1], cg[LW_METRICS_CGROUP_LABELS_MAX];
	size_t shown = 0, omitted = 0;
	int err;

	err = HEADER(b, "leakwatch_leak_stuck", "gauge",
		     "Stuck at each site flagged as a leak (site threads: threads outside a pile).");
	while (!err && tracker_next_leak(t, &c, &v)) {
		const struct lw_site *s = v.site;
		bool threads = !strcmp(s->kind, "threads");

		if (v.exited)
			continue;
		if (shown == max) {
			omitted++;
			continue;
		}
		metrics_escape_label(v.pcomm, strlen(v.pcomm), comm, sizeof(comm));
		metrics_escape_label(s->name, strnlen(s->name, sizeof(s->name)), site, sizeof(site));
		metrics_escape_label(s->kind, strnlen(s->kind, sizeof(s->kind)), wait, sizeof(wait));
		escape_long_label(s->where, where, sizeof(where));
		metrics_cgroup_labels(v.cgroup, cg, sizeof(cg));
		err = buf_printf(b, "leakwatch_leak_stuck{pid=\"%u\",comm=\"%s\",site=\"%s\",wait=\"%s\","
				    "where=\"%s\",waiter=\"%s\"%s} %u\n", v.pid, comm, site, wait, where,
				 s->goroutine ? "goroutine" : "thread", cg,
				 threads ? s->leak.count : s->stuck);
		shown++;
	}
	if (!err)
		err = HEADER(b, "leakwatch_leak_sites", "gauge",
			     "Sites flagged as leaks, of the processes alive.");
	if (!err)
		err = buf_printf(b, "leakwatch_leak_sites %zu\n", shown + omitted);
	if (!err)
		err = HEADER(b, "leakwatch_leak_sites_omitted", "gauge",
			     "Sites flagged as leaks with no leakwatch_leak_stuck series: past the "
			     "page's cap.");
	if (!err)
		err = buf_printf(b, "leakwatch_leak_sites_omitted %zu\n", omitted);
	return err;
}

int metrics_render(const struct lw_metrics_input *in, struct lw_buf *b)
{
	struct lw_tracker_stats stats;
	int err;

	b->len = 0;
	tracker_stats(in->tracker, &stats);
	err = render_processes(in->tracker, b);
	if (!err)
		err = render_wait_kinds(in->tracker, b);
	if (!err)
		err = render_goroutine_waits(in->tracker, b);
	if (!err)
		err = HEADER(b, "leakwatch_leaks_total", "counter",
			     "Leaks flagged: a wait site whose stuck count kept growing.");
	if (!err)
		err = buf_printf(b, "leakwatch_leaks_total %u\n", stats.leaks);
	if (!err)
		err = render_leaks(in->tracker,
				   in->max_leak_series ? in->max_leak_series : METRICS_LEAK_SERIES, b);
	if (!err)
		err = HEADER(b, "leakwatch_deadlocks_total", "counter",
			     "Deadlocks found: threads that wait for each other's locks, in a cycle.");
	if (!err)
		err = buf_printf(b, "leakwatch_deadlocks_total %u\n", stats.deadlocks);
	if (!err)
		err = HEADER(b, "leakwatch_lock_owner_reads_total", "counter",
			     "Owners of the locks stuck threads wait on, read from the lock, by result.");
	if (!err)
		err = buf_printf(b, "leakwatch_lock_owner_reads_total{result=\"found\"} %llu\n"
				 "leakwatch_lock_owner_reads_total{result=\"unreadable\"} %llu\n"
				 "leakwatch_lock_owner_reads_total{result=\"invalid\"} %llu\n",
				 (unsigned long long)stats.locks.owners_found,
				 (unsigned long long)stats.locks.unreadable,
				 (unsigned long long)stats.locks.invalid);
	if (!err)
		err = HEADER(b, "leakwatch_spins_total", "counter",
			     "Threads that ran longer than the threshold without blocking.");
	if (!err)
		err = buf_printf(b, "leakwatch_spins_total %u\n", stats.spins);
	if (!err)
		err = HEADER(b, "leakwatch_events_total", "counter",
			     "Ring-buffer records received from the kernel.");
	if (!err)
		err = buf_printf(b, "leakwatch_events_total %llu\n", (unsigned long long)in->events);
	if (!err)
		err = HEADER(b, "leakwatch_scan_duration_seconds", "gauge",
			     "How long the last scan of the watched threads took.");
	if (!err)
		err = buf_printf(b, "leakwatch_scan_duration_seconds %.6f\n", in->scan_seconds);
	if (!err)
		err = HEADER(b, "leakwatch_scanned_threads", "gauge",
			     "Threads the last scan read: what the kernel side let through (-p, "
			     "--cgroup filter there).");
	if (!err)
		err = buf_printf(b, "leakwatch_scanned_threads %u\n", stats.scanned_threads);
	if (!err)
		err = render_goroutine_scans(in, b);
	if (!err)
		err = render_drops(in->drops, b);
	if (!err)
		err = render_symbolize(in, b);
	if (!err)
		err = render_progs(in, b);
	return err;
}

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

#define HEADER(b, name, type, help) \
	buf_printf(b, "# HELP " name " " help "\n# TYPE " name " " type "\n")

/* The per-process gauges: the processes the tracker shows (watched, or with
 * stuck threads). */
static int render_processes(const struct lw_tracker *t, struct lw_buf *b)
{
	static const struct {
		const char *name, *help;
		size_t offset;
	} gauges[] = {
		{ "leakwatch_threads", "Threads of the process.",
		  offsetof(struct lw_process_view, threads) },
		{ "leakwatch_blocked_threads", "Threads sleeping (S or D) at the last scan.",
		  offsetof(struct lw_process_view, blocked) },
		{ "leakwatch_stuck_threads", "Threads blocked longer than the threshold.",
		  offsetof(struct lw_process_view, stuck) },
	};
	struct lw_process_view p;
	struct tracker_cursor c;
	char comm[4 * 64];
	size_t g;
	int err = 0;

	for (g = 0; g < sizeof(gauges) / sizeof(gauges[0]) && !err; g++) {
		err = buf_printf(b, "# HELP %s %s\n# TYPE %s gauge\n", gauges[g].name,
				 gauges[g].help, gauges[g].name);
		c = (struct tracker_cursor){ 0 };
		while (!err && tracker_next_process(t, &c, &p)) {
			uint32_t v;

			memcpy(&v, (const char *)&p + gauges[g].offset, sizeof(v));
			metrics_escape_label(p.pcomm, strlen(p.pcomm), comm, sizeof(comm));
			err = buf_printf(b, "%s{pid=\"%u\",comm=\"%s\"} %u\n", gauges[g].name, p.pid,
					 comm, v);
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
				 "leakwatch_stacks_unreadable_total{side=\"kernel\"} %llu\n",
				 (unsigned long long)d->stacks_unreadable,
				 (unsigned long long)d->kstacks_unreadable);
	if (!err)
		err = HEADER(b, "leakwatch_untracked_total", "counter",
			     "What was past a cap and not tracked, by kind.");
	if (!err)
		err = buf_printf(b,
				 "leakwatch_untracked_total{kind=\"site\"} %llu\n"
				 "leakwatch_untracked_total{kind=\"process\"} %llu\n"
				 "leakwatch_untracked_total{kind=\"thread\"} %llu\n",
				 (unsigned long long)d->sites_untracked,
				 (unsigned long long)d->processes_untracked,
				 (unsigned long long)d->threads_untracked);
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
		err = HEADER(b, "leakwatch_leaks_total", "counter",
			     "Leaks flagged: a wait site whose stuck count kept growing.");
	if (!err)
		err = buf_printf(b, "leakwatch_leaks_total %u\n", stats.leaks);
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
		err = render_drops(in->drops, b);
	if (!err)
		err = render_progs(in, b);
	return err;
}

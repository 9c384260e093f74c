/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The Prometheus text exposition of leakwatch's state: per-process gauges
 * (threads; goroutines of Go processes), stuck threads per wait kind, stuck
 * goroutines per wait reason, leaks, losses, the cost of the scans (the
 * goroutine scans per process), BPF program run time.  Plain C:
 * renders into a buffer, the HTTP side (http.c) serves it.
 */
#ifndef LW_METRICS_H
#define LW_METRICS_H
#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "cgroup.h"
#include "frame.h"
#include "go_scan.h"
#include "py_frames.h"
#include "report.h"

struct lw_tracker;

/* Run time of one BPF program, when kernel.bpf_stats_enabled is on. */
struct lw_prog_stats {
	const char *name;
	uint64_t run_time_ns, run_cnt;
};

/* A Go process whose goroutines are read: its scans' own cost. */
struct lw_go_metrics {
	uint32_t pid;
	uint32_t every; /* read every this many intervals */
	struct go_scan_stats stats;
};

struct lw_metrics_input {
	const struct lw_tracker *tracker;
	const struct lw_drops *drops;
	uint64_t events;
	double scan_seconds; /* the last scan */
	double goroutine_scan_seconds; /* the last tick's goroutine scans, every process */
	double interval_s;
	const struct lw_go_metrics *go;
	size_t n_go;
	const struct lw_prog_stats *progs;
	size_t n_progs;
	const struct lw_symbolize_stats *symbolize; /* NULL: not shown */
	const struct py_stats *python;              /* NULL: not shown */
	size_t max_leak_series; /* leakwatch_leak_stuck series at most; 0: the default (512) */
};

/* Replaces b's text with the exposition.  Returns 0 or -ENOMEM. */
int metrics_render(const struct lw_metrics_input *in, struct lw_buf *b);

/* A label value as the format wants it: \\, \" and \n escaped, valid UTF-8. */
void metrics_escape_label(const char *in, size_t len, char *out, size_t out_len);

/*
 * The cgroup labels of a process's series, each with its leading comma:
 * ',cgroup="/system.slice/docker-ID.scope",container="ID",pod="UID",unit="U"'.
 * A label whose value is unknown ("") is left out; cg NULL gives "".  out
 * holds at least LW_METRICS_CGROUP_LABELS_MAX bytes; a longer path is cut.
 */
#define LW_METRICS_CGROUP_LABELS_MAX (4 * LW_CGROUP_PATH_MAX + 512)
void metrics_cgroup_labels(const struct lw_cgroup *cg, char *out, size_t out_len);

#endif

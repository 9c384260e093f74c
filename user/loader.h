/* SPDX-License-Identifier: GPL-2.0 */
/* BPF side: open -> configure rodata -> load -> attach, and what it counts. */
#ifndef LW_LOADER_H
#define LW_LOADER_H
#include <stdbool.h>
#include <stdint.h>
#include <bpf/libbpf.h>
#include "metrics.h"
#include "report.h"

struct lw_bpf;

struct lw_loader_opts {
	const uint32_t *pids; /* targets; none: host-wide */
	int n_pids;
	bool follow_children; /* -- COMMAND: watch the processes it starts */
	const uint64_t *cgroup_ids; /* --cgroup: only tasks under these cgroups (kernfs ids) */
	int n_cgroups;
	uint64_t threshold_ns;
	ring_buffer_sample_fn on_event;
	void *ctx;
};

/* Returns 0, -ENOTSUP (no BTF), -EPERM (no privileges) or another -errno. */
int loader_open(const struct lw_loader_opts *opts, struct lw_bpf **out);
void loader_close(struct lw_bpf *b);

/* Adds a process to the kernel-side targets (e.g. a command started later). */
int loader_add_target(struct lw_bpf *b, uint32_t pid);

/* --cgroup: the cgroup of id old_id replaced by new_id in the kernel-side
 * filter (a cgroup removed and made again at its path: a service restarted).
 * 0 or -errno. */
int loader_replace_cgroup(struct lw_bpf *b, uint64_t old_id, uint64_t new_id);

int loader_ringbuf_fd(const struct lw_bpf *b);
/* Reads every record available from the ring buffer; returns the count. */
int loader_consume(struct lw_bpf *b);
/* A new iter/task seq fd to read one scan from (a new scan generation). */
int loader_iter_fd(struct lw_bpf *b);
/* Run time and count of each program (0 unless kernel.bpf_stats_enabled).
 * Fills up to max entries; returns how many. */
int loader_prog_stats(const struct lw_bpf *b, struct lw_prog_stats *out, int max);

/* The kernel-side loss counters. */
void loader_drops(const struct lw_bpf *b, struct lw_drops *d);

#endif

// SPDX-License-Identifier: GPL-2.0
/*
 * What does one ring-buffer record cost in sched_process_fork?  Four programs
 * on the same tracepoint, each with its own run_time_ns / run_cnt:
 *   a_nop        reads the fields leakwatch's on_fork reads, no record
 *   a_ktime      the same + bpf_ktime_get_ns()
 *   b_rb_nowake  reserve + fill (like struct lw_event) + submit, never wakes
 *   c_rb_lw      the same, submitted as leakwatch does (query, force a wakeup
 *                past a quarter of the ring)
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

struct ev {
	__u32 type, pid, tid, flags;
	__u64 ts, since;
	__u32 ppid, pad;
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} rb1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} rb2 SEC(".maps");

__u64 sink, fails1, fails2;

SEC("tp_btf/sched_process_fork")
int BPF_PROG(a_nop, struct task_struct *parent, struct task_struct *child)
{
	sink += parent->tgid + child->tgid + child->pid;
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(a_ktime, struct task_struct *parent, struct task_struct *child)
{
	sink += parent->tgid + child->tgid + child->pid + bpf_ktime_get_ns();
	return 0;
}

static __always_inline struct ev *fill(void *rb, struct task_struct *parent,
				       struct task_struct *child, __u64 *fails)
{
	struct ev *e = bpf_ringbuf_reserve(rb, sizeof(*e), 0);

	if (!e) {
		__sync_fetch_and_add(fails, 1);
		return NULL;
	}
	e->type = 2;
	e->pid = child->tgid;
	e->tid = child->pid;
	e->flags = 0;
	e->ts = bpf_ktime_get_ns();
	e->since = 0;
	e->ppid = parent->tgid;
	e->pad = 0;
	__builtin_memcpy(e->comm, child->comm, sizeof(e->comm));
	return e;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(b_rb_nowake, struct task_struct *parent, struct task_struct *child)
{
	struct ev *e = fill(&rb1, parent, child, &fails1);

	if (e)
		bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(c_rb_lw, struct task_struct *parent, struct task_struct *child)
{
	struct ev *e = fill(&rb2, parent, child, &fails2);

	if (e)
		bpf_ringbuf_submit(e, bpf_ringbuf_query(&rb2, BPF_RB_AVAIL_DATA) >= 64 * 1024 ?
					      BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
	return 0;
}

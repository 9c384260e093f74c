// SPDX-License-Identifier: GPL-2.0
/* The least an iter/task program costs per task: nothing, or one 192-byte
 * record (the size of struct lw_task_rec). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

struct rec {
	__u64 v[24];
};

SEC("iter/task")
int i_nop(struct bpf_iter__task *ctx)
{
	return 0;
}

SEC("iter/task")
int i_write(struct bpf_iter__task *ctx)
{
	struct task_struct *t = ctx->task;
	struct rec r = {};

	if (!t)
		return 0;
	r.v[0] = t->pid;
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}

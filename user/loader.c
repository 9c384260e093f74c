// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "clock.h"
#include "loader.h"
#include "leakwatch.skel.h"

/* Child processes of a command can be many (a make -j, a test runner). */
#define LW_MAX_FOLLOWED 8192

struct lw_bpf {
	struct leakwatch_bpf *skel;
	struct ring_buffer *rb;
};

/* libbpf returns -errno, or NULL with errno set: either way, a -errno. */
static int neg_errno(int fallback)
{
	return errno ? -errno : fallback;
}

int loader_open(const struct lw_loader_opts *opts, struct lw_bpf **out)
{
	struct lw_bpf *b;
	int err, i;

	if (access("/sys/kernel/btf/vmlinux", R_OK))
		return -ENOTSUP;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;

	b->skel = leakwatch_bpf__open();
	if (!b->skel) {
		err = neg_errno(-EINVAL);
		goto err_free;
	}
	b->skel->rodata->targ_filter = opts->n_pids > 0;
	b->skel->rodata->targ_follow_children = opts->follow_children;
	b->skel->rodata->targ_threshold_ns = opts->threshold_ns;
	b->skel->rodata->targ_cgroup_filter = opts->n_cgroups > 0;
	if (opts->n_cgroups > LW_MAX_CGROUP_TARGETS) {
		err = -E2BIG;
		goto err_free;
	}
	if (opts->n_pids) {
		err = bpf_map__set_max_entries(b->skel->maps.targets,
					       opts->follow_children ? LW_MAX_FOLLOWED
								     : LW_MAX_TARGETS);
		if (err)
			goto err_free;
	}

	err = leakwatch_bpf__load(b->skel);
	if (err)
		goto err_free;
	for (i = 0; i < opts->n_pids; i++) {
		err = loader_add_target(b, opts->pids[i]);
		if (err)
			goto err_free;
	}
	for (i = 0; i < opts->n_cgroups; i++) {
		uint8_t one = 1;

		if (bpf_map__update_elem(b->skel->maps.cgroup_targets, &opts->cgroup_ids[i],
					 sizeof(opts->cgroup_ids[i]), &one, sizeof(one), BPF_ANY)) {
			err = neg_errno(-EINVAL);
			goto err_free;
		}
	}
	err = leakwatch_bpf__attach(b->skel);
	if (err)
		goto err_free;
	/* The lower bound of an unstamped wait where the run queue's clock
	 * cannot be read (blocked_lower_bound). */
	b->skel->bss->attach_ns = clock_mono_ns();
	b->rb = ring_buffer__new(bpf_map__fd(b->skel->maps.events), opts->on_event, opts->ctx,
				 NULL);
	if (!b->rb) {
		err = neg_errno(-ENOMEM);
		goto err_free;
	}
	*out = b;
	return 0;

err_free:
	loader_close(b);
	return err;
}

void loader_close(struct lw_bpf *b)
{
	if (!b)
		return;
	ring_buffer__free(b->rb);
	leakwatch_bpf__destroy(b->skel);
	free(b);
}

int loader_replace_cgroup(struct lw_bpf *b, uint64_t old_id, uint64_t new_id)
{
	uint8_t one = 1;

	if (bpf_map__update_elem(b->skel->maps.cgroup_targets, &new_id, sizeof(new_id), &one,
				 sizeof(one), BPF_ANY))
		return -errno;
	bpf_map__delete_elem(b->skel->maps.cgroup_targets, &old_id, sizeof(old_id), 0);
	return 0;
}

int loader_add_target(struct lw_bpf *b, uint32_t pid)
{
	uint8_t one = 1;

	if (bpf_map__update_elem(b->skel->maps.targets, &pid, sizeof(pid), &one, sizeof(one),
				 BPF_ANY))
		return neg_errno(-EINVAL);
	return 0;
}

int loader_ringbuf_fd(const struct lw_bpf *b)
{
	return ring_buffer__epoll_fd(b->rb);
}

int loader_consume(struct lw_bpf *b)
{
	return ring_buffer__consume(b->rb);
}

int loader_iter_fd(struct lw_bpf *b)
{
	int fd;

	b->skel->bss->scan_gen++;
	/* The skeleton attached iter/task with a link of its own. */
	fd = bpf_iter_create(bpf_link__fd(b->skel->links.scan_tasks));
	return fd < 0 ? neg_errno(-EINVAL) : fd;
}

void loader_drops(const struct lw_bpf *b, struct lw_drops *d)
{
	const __u64 *c = b->skel->bss->lw_counters;

	d->ringbuf = c[LW_CNT_RB_RESERVE_FAIL];
	d->task_storage = c[LW_CNT_STORAGE_FAIL];
	d->targets = c[LW_CNT_TARGET_FULL];
	d->cgroups_untracked = c[LW_CNT_CGROUP_DEEP];
}

int loader_prog_stats(const struct lw_bpf *b, struct lw_prog_stats *out, int max)
{
	struct bpf_program *prog;
	int n = 0;

	bpf_object__for_each_program(prog, b->skel->obj) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);

		if (n == max)
			break;
		if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len))
			continue;
		out[n].name = bpf_program__name(prog);
		out[n].run_time_ns = info.run_time_ns;
		out[n].run_cnt = info.run_cnt;
		n++;
	}
	return n;
}

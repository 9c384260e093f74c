// SPDX-License-Identifier: GPL-2.0
/*
 * leakwatch's kernel side.
 *
 * Hot path: sched_switch stamps "blocked since" in task local storage for the
 * thread that blocks and clears it for the thread that runs.  That is all it
 * does per switch, unless the thread that runs was marked stuck (rare), when
 * it sends one LW_REC_WAIT_END record.
 *
 * Everything else is read from the task itself when user space scans with
 * iter/task: state, saved user registers (syscall number and arguments),
 * restart_block.  So the cost grows with the number of threads scanned, not
 * with the number of context switches or syscalls.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "leakwatch.h"

char LICENSE[] SEC("license") = "GPL";

/* Not in BTF: they are #defines in the kernel. */
#define PF_KTHREAD 0x00200000
#define TASK_INTERRUPTIBLE 0x0001
#define TASK_UNINTERRUPTIBLE 0x0002
#define TASK_NOLOAD 0x0400
#define NR_RESTART_SYSCALL 219 /* x86-64 */

/* Set by user space between open and load. */
const volatile bool targ_filter = false;          /* only tgids in `targets` */
const volatile bool targ_follow_children = false; /* add child processes of targets */
const volatile bool targ_kthreads = false;        /* scan kernel threads too */
const volatile __u64 targ_threshold_ns = 10000000000ULL;
/* --cgroup: only tasks under the cgroups in `cgroup_targets`.  A member
 * has task storage (made by the scan or at fork), the others none: the
 * switch path, which stamps only tasks with storage, needs no check. */
const volatile bool targ_cgroup_filter = false;

/* Set by user space right after attach: the lower bound for threads found
 * blocked with no stamp, on kernels where blocked_lower_bound cannot read
 * the run queue's clock. */
__u64 attach_ns = 0;

/* Bumped by user space before each scan.  A seq_file read that overflows
 * runs the program again for the same task: a thread marked stuck in this
 * very scan is "new" again, so the retried record keeps its kernel stack. */
__u32 scan_gen = 0;

/* CLOCK_MONOTONIC when the latest scan's walk began (host-wide only). */
__u64 scan_started_ns = 0;

/* Every loss, by cause (enum lw_counter); read by user space. */
__u64 lw_counters[LW_CNT_MAX] = {};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct lw_task_state);
} task_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LW_MAX_TARGETS); /* resized by user space */
	__type(key, __u32);
	__type(value, __u8);
} targets SEC(".maps");

/* --cgroup: the cgroup ids (kernfs ids, the directories' inode numbers)
 * whose tasks, descendants' included, are watched. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LW_MAX_CGROUP_TARGETS);
	__type(key, __u64);
	__type(value, __u8);
} cgroup_targets SEC(".maps");

/* Scratch for a kernel stack record: too big for the BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lw_kstack_rec);
} kstack_buf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

/*
 * Wake the reader only for the record that fills a quarter of the ring.  A
 * wakeup is an irq_work self-IPI: measured at 18 us per record on a VM,
 * where the record itself costs 0.5 us; waking on every record past the
 * mark made a lagging reader cost one IPI per record.  User space drains
 * the ring every interval anyway, before each scan, so records are at most
 * one interval late.
 */
#define RB_WAKEUP_BYTES (64 * 1024)

static __always_inline void submit(void *rec, __u64 size)
{
	/* Counts the record just reserved (its header too). */
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	bool crossed = avail >= RB_WAKEUP_BYTES && avail < RB_WAKEUP_BYTES + size + 8;

	bpf_ringbuf_submit(rec, crossed ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

static __always_inline void count_loss(enum lw_counter c)
{
	if (c < LW_CNT_MAX)
		__sync_fetch_and_add(&lw_counters[c], 1);
}

static __always_inline bool is_target(__u32 tgid)
{
	return bpf_map_lookup_elem(&targets, &tgid) != NULL;
}

/* The ancestors looked at: a watched cgroup deeper than this is never
 * matched (a task below it that matched nothing is counted). */
#define CGROUP_LEVELS_MAX 32

/*
 * Is t under one of the --cgroup cgroups?  Its v2 cgroup's ancestors
 * (cgroup->ancestors[], root first, itself last), looked up by id.  Once
 * per task per scan, and at fork: never on the switch path.
 */
static __always_inline bool in_cgroups(struct task_struct *t)
{
	struct cgroup *cg = BPF_CORE_READ(t, cgroups, dfl_cgrp), *a;
	int level, i;
	__u64 id;

	if (!cg)
		return false;
	level = BPF_CORE_READ(cg, level);
	for (i = 0; i < CGROUP_LEVELS_MAX; i++) {
		if (i > level)
			return false;
		if (bpf_core_read(&a, sizeof(a), &cg->ancestors[i]) || !a)
			return false;
		id = BPF_CORE_READ(a, kn, id);
		if (bpf_map_lookup_elem(&cgroup_targets, &id))
			return true;
	}
	count_loss(LW_CNT_CGROUP_DEEP);
	return false;
}

/* One ring-buffer record about t; every reserve failure is counted. */
static __always_inline void emit_event(__u32 type, struct task_struct *t, __u64 since_ns,
				       __u32 ppid, __u32 flags)
{
	struct lw_event *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_loss(LW_CNT_RB_RESERVE_FAIL);
		return;
	}
	e->type = type;
	e->pid = t->tgid;
	e->tid = t->pid;
	e->flags = flags;
	e->ts_ns = bpf_ktime_get_ns();
	e->blocked_since_ns = since_ns;
	e->ppid = ppid;
	e->pad = 0;
	__builtin_memcpy(e->comm, t->comm, sizeof(e->comm));
	submit(e, sizeof(*e));
}

SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	struct lw_task_state *s;

	if (prev_state) {
		/* Host-wide, storage is made on first block; with -p only the
		 * targets have it (made by fork or by the scan). */
		bool filtered = targ_filter || targ_cgroup_filter;

		s = bpf_task_storage_get(&task_state, prev, 0,
					 filtered ? 0 : BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (s)
			s->blocked_since_ns = bpf_ktime_get_ns();
		else if (!filtered)
			count_loss(LW_CNT_STORAGE_FAIL);
	}
	s = bpf_task_storage_get(&task_state, next, 0, 0);
	if (s) {
		if (s->flags) {
			if (s->flags & LW_TS_STUCK)
				emit_event(LW_REC_WAIT_END, next, s->blocked_since_ns, 0,
					   (s->flags & LW_TS_SINCE_INEXACT) ? LW_EF_SINCE_INEXACT : 0);
			s->flags = 0;
		}
		s->blocked_since_ns = 0;
	}
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = parent->tgid, ctgid = child->tgid;
	bool new_process = ptgid != ctgid;
	__u8 one = 1;

	/*
	 * Host-wide, nothing reads a record about a new thread or process: the
	 * scan sees every thread each interval, and new processes become
	 * targets only with -p or a command.  So none is sent: in a fork storm
	 * it cost ring space that the end of a stuck wait needs.  With
	 * --cgroup a child born in a watched cgroup gets storage now, so that
	 * the switch path stamps it from its first block.
	 */
	if (targ_cgroup_filter && in_cgroups(child) &&
	    !bpf_task_storage_get(&task_state, child, 0, BPF_LOCAL_STORAGE_GET_F_CREATE))
		count_loss(LW_CNT_STORAGE_FAIL);
	if (!targ_filter)
		return 0;
	if (!is_target(ctgid)) {
		if (!new_process || !targ_follow_children || !is_target(ptgid))
			return 0;
		if (bpf_map_update_elem(&targets, &ctgid, &one, BPF_NOEXIST)) {
			count_loss(LW_CNT_TARGET_FULL);
			return 0;
		}
	}
	/*
	 * The switch path does not create storage with -p: do it here.  It
	 * fails (not counted) when this CPU's task-storage lock is held by a
	 * scan preempted in the middle of a storage op: the next scan makes
	 * the storage then, and counts it if that fails too; a wait the child
	 * began before is marked inexact, as for a thread found blocked.
	 */
	bpf_task_storage_get(&task_state, child, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	emit_event(LW_REC_THREAD_NEW, child, 0, ptgid, new_process ? LW_EF_NEW_PROCESS : 0);
	return 0;
}

/* The group_dead argument exists only on newer kernels: read signal->live. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *p)
{
	__u32 tgid = p->tgid;
	__u32 flags = 0;

	if (targ_filter && !is_target(tgid))
		return 0;
	/* --cgroup: only members have storage. */
	if (targ_cgroup_filter && !bpf_task_storage_get(&task_state, p, 0, 0))
		return 0;
	if (BPF_CORE_READ(p, signal, live.counter) == 0)
		flags |= LW_EF_GROUP_DEAD;
	else if (!targ_filter)
		return 0; /* host-wide, a thread's exit is the scan's to see */
	/* Host-wide, a process born after the latest scan began was not
	 * reported by any scan: nothing reads its exit. */
	if (!targ_filter && BPF_CORE_READ(p, group_leader, start_time) >= scan_started_ns)
		return 0;
	emit_event(LW_REC_THREAD_EXIT, p, 0, 0, flags);
	/* A dead process leaves the targets: its slot goes to later children,
	 * and a new process that gets its pid is not watched by mistake (or,
	 * as a child, is added again by on_fork). */
	if (targ_filter && (flags & LW_EF_GROUP_DEAD))
		bpf_map_delete_elem(&targets, &tgid);
	return 0;
}

/*
 * How long has a thread with no stamp been blocked?  At least
 * rq->clock_task - se.exec_start of the run queue it slept on: exec_start was
 * last set when it was dequeued to sleep, and clock_task (which leaves out IRQ
 * and steal time, and may lag) runs no faster than real time.  Not "since
 * attach": with -p the switch path stamps only threads that have storage, and
 * the first scan makes it, so a thread that blocked between attach and that
 * scan (a second or more on a loaded machine) has no stamp either; taken for
 * blocked since attach, it was stuck at once.  The attach time is the bound
 * only on kernels where the run queue cannot be reached.  The rq is reached
 * through se.cfs_rq because `runqueues` is not in kallsyms without
 * CONFIG_KALLSYMS_ALL.
 */
static __always_inline __u64 blocked_lower_bound(struct task_struct *t, __u64 now)
{
	__u64 age = now > t->start_time ? now - t->start_time : 0;
	__u64 bound = 0;

	if (bpf_core_field_exists(struct cfs_rq, rq)) {
		__u64 exec_start = BPF_CORE_READ(t, se.exec_start);
		__u64 clock_task = BPF_CORE_READ(t, se.cfs_rq, rq, clock_task);

		if (exec_start && clock_task > exec_start)
			bound = clock_task - exec_start;
	} else if (attach_ns && now > attach_ns) {
		bound = now - attach_ns;
	}
	return bound < age ? bound : age;
}

/*
 * The user registers an unwinder starts from (see enum lw_reg).  regs and
 * the task are BTF pointers: plain loads (CO-RE relocated, checked by the
 * verifier), not a bpf_probe_read_kernel call per field, which cost 10-30%
 * more per task scanned (bench/why).
 */
static __always_inline void read_user_regs(struct pt_regs *regs, struct lw_task_rec *r)
{
	r->regs[LW_REG_IP] = regs->ip;
	r->regs[LW_REG_SP] = regs->sp;
	r->regs[LW_REG_BP] = regs->bp;
	r->regs[LW_REG_BX] = regs->bx;
	r->regs[LW_REG_R12] = regs->r12;
	r->regs[LW_REG_R13] = regs->r13;
	r->regs[LW_REG_R14] = regs->r14;
	r->regs[LW_REG_R15] = regs->r15;
}

static __always_inline void read_wait_site(struct task_struct *t, struct pt_regs *regs,
					   struct lw_task_rec *r)
{
	long nr;

	r->syscall_nr = -1;
	nr = regs->orig_ax;
	if (nr < 0)
		return;
	r->flags |= LW_TF_IN_SYSCALL;
	r->syscall_nr = nr;
	r->args[0] = regs->di;
	r->args[1] = regs->si;
	r->args[2] = regs->dx;
	if (nr == NR_RESTART_SYSCALL) {
		/* A wait with a timeout interrupted by a signal: the original
		 * syscall number is gone, restart_block.fn says which wait. */
		r->flags |= LW_TF_RESTART;
		r->restart_fn = (__u64)t->restart_block.fn;
		r->restart_uaddr = (__u64)t->restart_block.futex.uaddr;
	}
}

static __always_inline void write_kstack(struct seq_file *seq, struct task_struct *t)
{
	__u32 zero = 0;
	struct lw_kstack_rec *k = bpf_map_lookup_elem(&kstack_buf, &zero);
	long n;

	if (!k)
		return;
	k->type = LW_REC_KSTACK;
	k->tid = t->pid;
	k->pad = 0;
	n = bpf_get_task_stack(t, k->ips, sizeof(k->ips), 0);
	k->nr = n < 0 ? (__s32)n : (__s32)(n / sizeof(k->ips[0]));
	bpf_seq_write(seq, k, sizeof(*k));
}

/* Loads the compiler keeps, in program order (see scan_tasks). */
#define READ_ONCE(x) (*(volatile typeof(x) *)&(x))

/*
 * Since when has t, found blocked with storage s, been blocked?  0 when it is
 * not blocked after all: it ran again since its state was read.
 *
 * A thread blocked off its CPU was stamped by its last switch-out, unless no
 * switch-out has been seen since its storage was made: storage made just now
 * by this scan (fresh), or made by an earlier scan while the thread was not
 * found blocked (LW_SINCE_UNSEEN: a dequeue that came after its switch-out,
 * delayed dequeue).  Only then is "blocked since before" true, and the lower
 * bound is stored; a stamp of 0 otherwise means that it was switched in after
 * its state was read.  The lower bound is written with a compare and swap, so
 * that a switch-out or a switch-in in between wins.
 */
static __always_inline __u64 blocked_since(struct lw_task_state *s, bool fresh,
					   struct task_struct *t, __u64 now)
{
	__u64 since = READ_ONCE(s->blocked_since_ns), bound, old;

	if (!(since == LW_SINCE_UNSEEN || (since == 0 && fresh)))
		return since;
	bound = now - blocked_lower_bound(t, now);
	old = __sync_val_compare_and_swap(&s->blocked_since_ns, since, bound);
	if (old != since)
		return old == LW_SINCE_UNSEEN ? 0 : old;
	__sync_fetch_and_or(&s->flags, LW_TS_SINCE_INEXACT);
	return bound;
}

SEC("iter/task")
int scan_tasks(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *t = ctx->task;
	struct lw_task_state *s;
	struct lw_task_rec r = {};
	unsigned int state;
	bool kthread, blocked, fresh = false;
	__u64 now, since;

	if (!targ_filter && ctx->meta->seq_num == 0)
		scan_started_ns = bpf_ktime_get_ns();
	/* Zombies have exited: they neither run nor wait. */
	if (!t || t->exit_state)
		return 0;
	if (targ_filter && !is_target(t->tgid))
		return 0;
	/* Checked at every scan: a task moved out loses its storage (the
	 * switch path stops stamping it), one moved in gets it below. */
	if (targ_cgroup_filter && !in_cgroups(t)) {
		bpf_task_storage_delete(&task_state, t);
		return 0;
	}
	kthread = t->flags & PF_KTHREAD;
	if (kthread && !targ_kthreads && !targ_filter)
		return 0;

	now = bpf_ktime_get_ns();
	state = READ_ONCE(t->__state);
	/*
	 * Blocked: asleep (S or D), on no run queue, and off its CPU.  __schedule
	 * dequeues a thread before sched_switch stamps it, and clears on_cpu only
	 * after the switch (a release store): a thread seen off its CPU has its
	 * stamp visible to the loads that follow (x86 keeps loads in order).  One
	 * still on its CPU is in that window, unstamped: it is not blocked yet.
	 */
	blocked = (state & (TASK_INTERRUPTIBLE | TASK_UNINTERRUPTIBLE)) && !READ_ONCE(t->on_rq) &&
		  !READ_ONCE(t->on_cpu);

	r.type = LW_REC_TASK;
	r.pid = t->tgid;
	r.tid = t->pid;
	r.syscall_nr = -1;
	if (kthread)
		r.flags |= LW_TF_KTHREAD;
	__builtin_memcpy(r.comm, t->comm, sizeof(r.comm));
	__builtin_memcpy(r.pcomm, t->group_leader->comm, sizeof(r.pcomm));

	/* With -p every target thread gets storage here, so that the switch
	 * path stamps it from now on. */
	s = bpf_task_storage_get(&task_state, t, 0, 0);
	if (!s && (blocked || targ_filter || targ_cgroup_filter)) {
		s = bpf_task_storage_get(&task_state, t, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (s)
			fresh = true;
		else
			count_loss(LW_CNT_STORAGE_FAIL);
	}

	if (blocked && s) {
		since = blocked_since(s, fresh, t, now);
		if (!since)
			blocked = false;
	} else if (blocked) {
		since = now - blocked_lower_bound(t, now);
		r.flags |= LW_TF_SINCE_INEXACT;
	} else if (fresh) {
		/* Not found blocked: a later dequeue with no switch-out (see
		 * blocked_since) must still count as blocked since before. */
		__sync_val_compare_and_swap(&s->blocked_since_ns, 0, LW_SINCE_UNSEEN);
	}
	if (blocked) {
		/* Blocked again, by a switch-out after `now` was read. */
		if (since > now)
			now = bpf_ktime_get_ns();
		if (since > now)
			since = now;
		r.flags |= LW_TF_BLOCKED;
		r.blocked_since_ns = since;
		/* TASK_IDLE (D|NOLOAD) is an idle kernel wait, shown as S. */
		if ((state & TASK_UNINTERRUPTIBLE) && !(state & TASK_NOLOAD))
			r.flags |= LW_TF_UNINTERRUPTIBLE;
		if (s) {
			if (s->flags & LW_TS_SINCE_INEXACT)
				r.flags |= LW_TF_SINCE_INEXACT;
			if (now - since >= targ_threshold_ns) {
				if (!(s->flags & LW_TS_STUCK)) {
					s->flags |= LW_TS_STUCK;
					s->stuck_scan = scan_gen;
				}
				if (s->stuck_scan == scan_gen)
					r.flags |= LW_TF_NEW_STUCK;
				r.flags |= LW_TF_STUCK;
			}
		}
	}
	r.now_ns = now;
	if (t->on_cpu)
		r.flags |= LW_TF_ON_CPU;
	if (state == 0 /* TASK_RUNNING */)
		r.flags |= LW_TF_RUNNABLE;
	r.nvcsw = t->nvcsw;
	r.runtime_ns = t->se.sum_exec_runtime;
	/*
	 * The saved registers feed the unwinder and the wait's decoding, which
	 * user space does once per wait, when it is found stuck (and for a
	 * runnable thread, a spin candidate).  Reading them for every blocked
	 * thread at every scan was most of the program's own cost per task.
	 */
	if (!kthread && ((r.flags & (LW_TF_NEW_STUCK | LW_TF_RUNNABLE)) || (blocked && !s))) {
		struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(t);

		if (regs) {
			read_user_regs(regs, &r);
			if (blocked)
				read_wait_site(t, regs, &r);
		}
	}
	bpf_seq_write(seq, &r, sizeof(r));
	if (r.flags & LW_TF_NEW_STUCK)
		write_kstack(seq, t);
	return 0;
}

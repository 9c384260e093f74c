/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The records that cross from the BPF programs to user space, and the
 * per-thread state they keep.  Shared by bpf/ and user/: fixed-width types
 * only, the record type first in every record, sizes checked at compile time
 * so that a change on one side cannot silently misparse on the other.
 */
#ifndef LEAKWATCH_H
#define LEAKWATCH_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define LW_COMM_LEN 16
#define LW_MAX_TARGETS 64
#define LW_KSTACK_MAX 32
#define LW_MAX_CGROUP_TARGETS 16 /* --cgroup PATH at most this many times */

/* The user registers a scan saves for unwinding (x86-64). */
enum lw_reg {
	LW_REG_IP,
	LW_REG_SP,
	LW_REG_BP,
	LW_REG_BX,
	LW_REG_R12,
	LW_REG_R13,
	LW_REG_R14,
	LW_REG_R15,
	LW_NR_REGS,
};

/* Record types: the first field of every record. */
enum lw_rec_type {
	LW_REC_TASK = 1,      /* iter/task: one per scanned thread (seq_file, not ring buffer) */
	LW_REC_THREAD_NEW = 2, /* ring buffer: a watched thread or process was created (-p, run mode) */
	LW_REC_THREAD_EXIT = 3, /* ring buffer: a watched thread exited */
	LW_REC_WAIT_END = 4,   /* ring buffer: a thread marked stuck ran again */
	LW_REC_KSTACK = 5,     /* iter/task: kernel stack of a thread just marked stuck */
};

/* Flags of struct lw_task_rec. */
enum lw_task_flags {
	LW_TF_BLOCKED = 1 << 0,      /* sleeping (S or D), not on a run queue */
	LW_TF_STUCK = 1 << 1,        /* blocked for at least the threshold */
	LW_TF_SINCE_INEXACT = 1 << 2, /* blocked before we attached: since is a lower bound */
	LW_TF_IN_SYSCALL = 1 << 3,   /* nr/args are the syscall it sleeps in */
	LW_TF_KTHREAD = 1 << 4,      /* kernel thread */
	LW_TF_UNINTERRUPTIBLE = 1 << 5, /* D state */
	LW_TF_RESTART = 1 << 6,      /* in restart_syscall: restart_fn says which wait */
	LW_TF_NEW_STUCK = 1 << 7,    /* marked stuck by this scan: an LW_REC_KSTACK follows */
	LW_TF_ON_CPU = 1 << 8,       /* running now: its saved registers may be stale */
	LW_TF_RUNNABLE = 1 << 9,     /* running or waiting for a CPU */
};

/* Flags of struct lw_event. */
enum lw_event_flags {
	LW_EF_GROUP_DEAD = 1 << 0, /* THREAD_EXIT: the last thread of the process */
	LW_EF_NEW_PROCESS = 1 << 1, /* THREAD_NEW: a new process, not a new thread */
	LW_EF_SINCE_INEXACT = 1 << 2, /* WAIT_END: the wait began before we attached */
};

/*
 * Per-thread state in task local storage.  sched_switch writes blocked_since
 * and nothing else; the iter/task scan sets LW_TS_STUCK once the threshold is
 * crossed, so the switch-in of a stuck thread (rare) emits LW_REC_WAIT_END.
 */
enum lw_ts_flags {
	LW_TS_STUCK = 1 << 0,
	LW_TS_SINCE_INEXACT = 1 << 1,
};

/* blocked_since_ns of storage that a scan made for a thread it did not find
 * blocked: no switch-out seen yet (never a CLOCK_MONOTONIC time). */
#define LW_SINCE_UNSEEN 1ULL

struct lw_task_state {
	__u64 blocked_since_ns; /* CLOCK_MONOTONIC of the last switch-out while blocked, 0 when
				 * running, or LW_SINCE_UNSEEN */
	__u32 flags;            /* enum lw_ts_flags */
	__u32 stuck_scan;       /* the scan that marked it stuck (see scan_gen) */
};

/* One thread, as seen by one scan (bpf_seq_write from iter/task). */
struct lw_task_rec {
	__u32 type; /* LW_REC_TASK */
	__u32 pid;  /* tgid */
	__u32 tid;
	__u32 flags; /* enum lw_task_flags */
	__u64 now_ns;             /* CLOCK_MONOTONIC at the scan */
	__u64 blocked_since_ns;   /* valid with LW_TF_BLOCKED */
	__s64 syscall_nr;         /* orig_ax of the saved user registers, -1 outside syscalls
				   * (read with regs: for newly stuck threads) */
	__u64 args[3];            /* first syscall arguments (futex: uaddr, op, val) */
	__u64 restart_fn;         /* restart_block.fn, with LW_TF_RESTART */
	__u64 restart_uaddr;      /* restart_block.futex.uaddr, with LW_TF_RESTART */
	char comm[LW_COMM_LEN];   /* thread name */
	char pcomm[LW_COMM_LEN];  /* group leader's name */
	__u64 nvcsw;              /* voluntary switches: a spinning thread makes none */
	__u64 runtime_ns;         /* se.sum_exec_runtime */
	__u64 regs[LW_NR_REGS];   /* saved user registers (enum lw_reg): user threads that
				   * are newly stuck or runnable only, else 0 */
};

/*
 * Follows the LW_REC_TASK of a thread that this scan marked stuck (once per
 * wait): its kernel stack.  A blocked thread's stack does not change while it
 * sleeps, so it is taken once, by the scan, never on the switch path.
 */
struct lw_kstack_rec {
	__u32 type; /* LW_REC_KSTACK */
	__u32 tid;
	__s32 nr;   /* entries in ips, or -errno from bpf_get_task_stack */
	__u32 pad;
	__u64 ips[LW_KSTACK_MAX];
};

/* Ring-buffer records: thread created/exited, a stuck wait ended. */
struct lw_event {
	__u32 type; /* LW_REC_THREAD_NEW, LW_REC_THREAD_EXIT, LW_REC_WAIT_END */
	__u32 pid;  /* tgid */
	__u32 tid;
	__u32 flags; /* enum lw_event_flags */
	__u64 ts_ns;              /* CLOCK_MONOTONIC */
	__u64 blocked_since_ns;   /* WAIT_END: start of the wait */
	__u32 ppid;               /* THREAD_NEW: parent's tgid */
	__u32 pad;
	char comm[LW_COMM_LEN];
};

/* Loss counters, one per cause, in the BPF object's .bss (see lw_counters). */
enum lw_counter {
	LW_CNT_RB_RESERVE_FAIL = 0, /* ring buffer full: record dropped */
	LW_CNT_STORAGE_FAIL,        /* task storage could not be created */
	LW_CNT_TARGET_FULL,         /* a child process could not be added to the targets */
	LW_CNT_CGROUP_DEEP,         /* --cgroup: a task deeper than the levels checked matched none */
	LW_CNT_MAX,
};

#define LW_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
LW_STATIC_ASSERT(sizeof(struct lw_task_state) == 16, "lw_task_state size");
LW_STATIC_ASSERT(sizeof(struct lw_task_rec) == 192, "lw_task_rec size");
LW_STATIC_ASSERT(sizeof(struct lw_kstack_rec) == 16 + 8 * LW_KSTACK_MAX, "lw_kstack_rec size");
LW_STATIC_ASSERT(sizeof(struct lw_event) == 56, "lw_event size");

#endif /* LEAKWATCH_H */

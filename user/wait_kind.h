/* SPDX-License-Identifier: GPL-2.0 */
/* What a blocked thread waits in, from the syscall it sleeps in. */
#ifndef LW_WAIT_KIND_H
#define LW_WAIT_KIND_H
#include <stdbool.h>
#include <stdint.h>
#include "leakwatch.h"

/* Kernel functions a restart_syscall can resume (from /proc/kallsyms). */
struct lw_restart_fns {
	uint64_t futex_wait_restart;
	uint64_t hrtimer_nanosleep_restart;
	uint64_t do_restart_poll;
};

struct lw_wait {
	const char *kind;    /* "futex", "read", "poll", ... or "kernel" */
	char syscall[32];    /* "futex", "read", ...; "" outside syscalls */
	bool has_futex;
	uint64_t futex_addr; /* user address of the futex word */
	char futex_op[40];   /* "FUTEX_WAIT_BITSET_PRIVATE", ... */
};

/* Name of an x86-64 syscall number, or NULL when unknown. */
const char *wait_syscall_name(long nr);

/*
 * Decodes the wait of a blocked thread from its scan record.  For
 * futex_waitv the futex address is the first waiter's; read_first_waiter
 * (may be NULL) reads it from the memory of the waiting thread (r->tid: a
 * zombie leader, r->pid, has none).
 */
void wait_decode(const struct lw_task_rec *r, const struct lw_restart_fns *fns,
		 int (*read_first_waiter)(uint32_t pid, uint64_t waiters, uint64_t *uaddr),
		 struct lw_wait *w);

#endif

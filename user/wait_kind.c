// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <string.h>
#include "wait_kind.h"
#include "syscall_names.h" /* generated from <asm/unistd_64.h>: syscall_names[] */

#define NR_FUTEX 202
#define NR_RESTART_SYSCALL 219
#define NR_FUTEX_WAITV 449
#define NR_FUTEX_WAIT 455

/* Syscalls newer than the build host's <asm/unistd_64.h>. */
static const struct {
	long nr;
	const char *name;
} newer_syscalls[] = {
	{ 451, "cachestat" },	 { 452, "fchmodat2" },	     { 453, "map_shadow_stack" },
	{ 454, "futex_wake" },	 { 455, "futex_wait" },      { 456, "futex_requeue" },
	{ 457, "statmount" },	 { 458, "listmount" },	     { 459, "lsm_get_self_attr" },
	{ 460, "lsm_set_self_attr" }, { 461, "lsm_list_modules" }, { 462, "mseal" },
};

/* Syscalls that a thread commonly sleeps in, grouped into wait kinds. */
static const struct {
	const char *syscall;
	const char *kind;
} kinds[] = {
	{ "futex", "futex" },	       { "futex_waitv", "futex" },     { "futex_wait", "futex" },
	{ "read", "read" },	       { "readv", "read" },	       { "pread64", "read" },
	{ "preadv", "read" },	       { "preadv2", "read" },	       { "recvfrom", "recv" },
	{ "recvmsg", "recv" },	       { "recvmmsg", "recv" },	       { "write", "write" },
	{ "writev", "write" },	       { "pwrite64", "write" },	       { "pwritev", "write" },
	{ "pwritev2", "write" },       { "sendto", "send" },	       { "sendmsg", "send" },
	{ "sendmmsg", "send" },	       { "poll", "poll" },	       { "ppoll", "poll" },
	{ "select", "poll" },	       { "pselect6", "poll" },	       { "epoll_wait", "epoll_wait" },
	{ "epoll_pwait", "epoll_wait" }, { "epoll_pwait2", "epoll_wait" },
	{ "nanosleep", "nanosleep" },  { "clock_nanosleep", "nanosleep" },
	{ "accept", "accept" },	       { "accept4", "accept" },	       { "connect", "connect" },
	{ "wait4", "wait" },	       { "waitid", "wait" },	       { "pause", "signal" },
	{ "rt_sigsuspend", "signal" }, { "rt_sigtimedwait", "signal" }, { "msgrcv", "ipc" },
	{ "msgsnd", "ipc" },	       { "semop", "ipc" },	       { "semtimedop", "ipc" },
	{ "mq_timedreceive", "ipc" },  { "mq_timedsend", "ipc" },      { "flock", "lock" },
	{ "fcntl", "lock" },	       { "io_getevents", "aio" },      { "io_pgetevents", "aio" },
	{ "io_uring_enter", "aio" },   { "vfork", "vfork" },	       { "splice", "pipe" },
	{ "tee", "pipe" },	       { "sync", "sync" },	       { "fsync", "sync" },
	{ "fdatasync", "sync" },       { "syncfs", "sync" },	       { "msync", "sync" },
};

const char *wait_syscall_name(long nr)
{
	size_t i;

	if (nr >= 0 && (size_t)nr < sizeof(syscall_names) / sizeof(syscall_names[0]) &&
	    syscall_names[nr])
		return syscall_names[nr];
	for (i = 0; i < sizeof(newer_syscalls) / sizeof(newer_syscalls[0]); i++)
		if (newer_syscalls[i].nr == nr)
			return newer_syscalls[i].name;
	return NULL;
}

static const char *kind_of(const char *syscall)
{
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(kinds[i].syscall, syscall))
			return kinds[i].kind;
	return NULL;
}

/* FUTEX_* command names by number (linux/futex.h). */
static const char *const futex_cmds[] = {
	[0] = "FUTEX_WAIT",	      [1] = "FUTEX_WAKE",	  [2] = "FUTEX_FD",
	[3] = "FUTEX_REQUEUE",	      [4] = "FUTEX_CMP_REQUEUE",  [5] = "FUTEX_WAKE_OP",
	[6] = "FUTEX_LOCK_PI",	      [7] = "FUTEX_UNLOCK_PI",	  [8] = "FUTEX_TRYLOCK_PI",
	[9] = "FUTEX_WAIT_BITSET",    [10] = "FUTEX_WAKE_BITSET", [11] = "FUTEX_WAIT_REQUEUE_PI",
	[12] = "FUTEX_CMP_REQUEUE_PI", [13] = "FUTEX_LOCK_PI2",
};

#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_CLOCK_REALTIME 256

static void futex_op_name(uint32_t op, char *buf, size_t len)
{
	uint32_t cmd = op & ~(uint32_t)(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);

	if (cmd < sizeof(futex_cmds) / sizeof(futex_cmds[0]))
		snprintf(buf, len, "%s%s", futex_cmds[cmd],
			 (op & FUTEX_PRIVATE_FLAG) ? "_PRIVATE" : "");
	else
		snprintf(buf, len, "0x%x", op);
}

void wait_decode(const struct lw_task_rec *r, const struct lw_restart_fns *fns,
		 int (*read_first_waiter)(uint32_t pid, uint64_t waiters, uint64_t *uaddr),
		 struct lw_wait *w)
{
	long nr = (long)r->syscall_nr;
	const char *name;

	memset(w, 0, sizeof(*w));
	w->kind = "kernel";
	if (!(r->flags & LW_TF_IN_SYSCALL) || nr < 0)
		return;

	if (nr == NR_RESTART_SYSCALL && (r->flags & LW_TF_RESTART) && fns && r->restart_fn) {
		/* The original syscall was interrupted and will resume here. */
		if (r->restart_fn == fns->futex_wait_restart) {
			snprintf(w->syscall, sizeof(w->syscall), "futex");
			w->kind = "futex";
			w->has_futex = true;
			w->futex_addr = r->restart_uaddr;
			snprintf(w->futex_op, sizeof(w->futex_op), "FUTEX_WAIT (restarted)");
			return;
		}
		if (r->restart_fn == fns->hrtimer_nanosleep_restart) {
			snprintf(w->syscall, sizeof(w->syscall), "nanosleep");
			w->kind = "nanosleep";
			return;
		}
		if (r->restart_fn == fns->do_restart_poll) {
			snprintf(w->syscall, sizeof(w->syscall), "poll");
			w->kind = "poll";
			return;
		}
	}

	name = wait_syscall_name(nr);
	if (name)
		snprintf(w->syscall, sizeof(w->syscall), "%s", name);
	else
		snprintf(w->syscall, sizeof(w->syscall), "syscall_%ld", nr);
	w->kind = kind_of(w->syscall);
	if (!w->kind)
		w->kind = name ? name : "syscall";

	switch (nr) {
	case NR_FUTEX:
		w->has_futex = true;
		w->futex_addr = r->args[0];
		futex_op_name((uint32_t)r->args[1], w->futex_op, sizeof(w->futex_op));
		break;
	case NR_FUTEX_WAITV:
		/* args: struct futex_waitv *waiters, nr_futexes, ... */
		snprintf(w->futex_op, sizeof(w->futex_op), "futex_waitv(%llu)",
			 (unsigned long long)r->args[1]);
		if (read_first_waiter && r->args[0] &&
		    !read_first_waiter(r->tid, r->args[0], &w->futex_addr))
			w->has_futex = true;
		break;
	case NR_FUTEX_WAIT:
		w->has_futex = true;
		w->futex_addr = r->args[0];
		snprintf(w->futex_op, sizeof(w->futex_op), "futex_wait");
		break;
	}
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The lock a stuck thread waits for and who holds it, decided once when the
 * thread is found stuck: the glibc function its stack sleeps in says what
 * kind of lock it is, its futex call says which word, and the lock's own
 * bytes (read from the process) say who owns it.  No guess: what cannot be
 * validated is reported as unknown.  The reads come through ops, so unit
 * tests drive it.
 */
#ifndef LW_LOCK_WAIT_H
#define LW_LOCK_WAIT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "leakwatch.h"
#include "lock_owner.h"
#include "sites.h"
#include "wait_kind.h"

struct lw_lock {
	uint8_t kind;         /* enum lw_lock_kind; LW_LOCK_NOT_A_LOCK: not a lock wait */
	bool owner_known;     /* owner_tid holds it (validated: a thread of the process) */
	/* A PI mutex the kernel refused with EDEADLK: glibc then sleeps for
	 * good; the kernel has found the cycle itself. */
	bool kernel_deadlock;
	uint32_t owner_tid;   /* as leakwatch names threads (its pid namespace) */
	/* The owner as the lock holds it: the tid in the target's own pid
	 * namespace (a container's), which owner_tid translates. */
	uint32_t owner_word;
	/* The futex call the owner was read from (lock_wait_refresh reads it
	 * again); uaddr 0: found otherwise (a PI mutex from the registers). */
	uint64_t uaddr;
	uint32_t cmd, val;
	uint32_t readers;     /* an rwlock held for reading by this many (owner unknown) */
	uint64_t addr;        /* the pthread_mutex_t / pthread_rwlock_t; 0: unknown */
	const char *what;     /* ownerless kinds: "condition variable", ...; else NULL */
};

/* Outcome counts of lock_wait_decode, for the summary and the metrics. */
struct lw_lock_stats {
	uint64_t owners_found;  /* an owner read and validated */
	uint64_t unreadable;    /* the lock's memory could not be read */
	uint64_t invalid;       /* read, but not a lock of that kind, or no such thread */
};

struct lw_lock_ops {
	/* len bytes at addr of pid (tid's memory): 0, or -errno. */
	int (*read)(void *ctx, uint32_t pid, uint32_t tid, uint64_t addr, void *buf, size_t len);
	/* Whether tid is a thread of pid now. */
	bool (*is_thread_of)(void *ctx, uint32_t pid, uint32_t tid);
	/* A lock holds its owner as the owner sees itself: its tid in the
	 * process's own pid namespace.  That thread's tid as leakwatch names
	 * it, or 0 if pid has no such thread.  NULL: the namespaces are the
	 * same (tests). */
	uint32_t (*host_tid)(void *ctx, uint32_t pid, uint32_t ns_tid);
	void *ctx;
};

/*
 * Fills out for the thread of r (a newly stuck thread: r->regs are set),
 * sleeping in wait w, whose stack is frames (its site's user stack,
 * innermost first).  Counts what it read in stats.
 */
void lock_wait_decode(const struct lw_task_rec *r, const struct lw_wait *w,
		      const struct lw_stack_text *frames, const struct lw_lock_ops *ops,
		      struct lw_lock *out, struct lw_lock_stats *stats);

/* Reads the owner again (the lock and kind are known): true if it is still
 * owner_tid.  Before a deadlock is reported: an owner read when each thread
 * turned stuck may have let go since. */
bool lock_wait_still_owned(const struct lw_lock *l, uint32_t pid, uint32_t tid,
			   const struct lw_lock_ops *ops);

/* The owner of l read again, as lock_wait_decode read it, when it is no
 * longer owner_tid (a lock handed on since the thread turned stuck): l
 * updated (owner_known false if none can be named now).  Returns true if
 * the owner changed. */
bool lock_wait_refresh(struct lw_lock *l, uint32_t pid, uint32_t tid,
		       const struct lw_lock_ops *ops);

#endif

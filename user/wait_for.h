/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The wait-for graph of one process: each stuck thread waits for one lock,
 * and the lock says who owns it.  A thread waits for one lock at a time, so
 * every node has at most one edge out and each connected part holds at
 * most one cycle: a deadlock.  A chain that ends in a thread waiting for no
 * lock names the holder that the whole chain waits for (a convoy).  Pure:
 * unit tests drive it.
 */
#ifndef LW_WAIT_FOR_H
#define LW_WAIT_FOR_H
#include <stddef.h>
#include <stdint.h>

struct wf_waiter {
	uint32_t tid;
	uint32_t owner; /* the tid that holds lock; 0: no owner known */
	uint64_t lock;  /* user address of the lock it waits for */
};

/* members[start .. start + len) of a wait_for_cycles call. */
struct wf_cycle {
	size_t start, len;
};

/*
 * The cycles among ws[0..n): each once, its members (indices into ws) in
 * members, starting at its smallest tid and following owners, so that the
 * same deadlock is always listed the same way.  A thread that owns the lock
 * it waits for (a non-recursive mutex locked twice) is a cycle of one.
 * members holds n entries.  Returns the number of cycles (at most
 * max_cycles are described; the count says how many there were), or
 * -EINVAL (a tid twice, or tid 0), or -ENOMEM.
 */
int wait_for_cycles(const struct wf_waiter *ws, size_t n, size_t *members,
		    struct wf_cycle *cycles, size_t max_cycles);

/* Who a waiter waits for in the end (wait_for_holders). */
struct wf_holder {
	int err;         /* 0; -ENOENT: no owner known; -ELOOP: it waits into a cycle */
	uint32_t tid;    /* err 0: the thread at the end of the chain */
	uint32_t hops;   /* err 0: locks between (1: its own lock's owner) */
};

/*
 * For every ws[i], who it waits for in the end: follows owners while the
 * owner is itself waiting for a lock.  The end is an owner that waits for
 * no lock (blocked in something else, running, or not a thread we know), or
 * a waiter in the chain whose own lock has no known owner (then the tid is
 * that waiter's).  One pass with memory: O(n log n).  out holds n entries.
 * Returns 0, -EINVAL (a tid twice, or tid 0) or -ENOMEM.
 */
int wait_for_holders(const struct wf_waiter *ws, size_t n, struct wf_holder *out);

#endif

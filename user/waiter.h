/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Who waits: a thread or a goroutine.  A waiter is named by its process,
 * its kind and an id of that kind (a tid; a goroutine's 64-bit goid), so
 * that a tid reused in another process, or a goid equal to some tid, is
 * another waiter.
 */
#ifndef LW_WAITER_H
#define LW_WAITER_H
#include <stdbool.h>
#include <stdint.h>

enum lw_waiter_kind {
	LW_WAITER_THREAD = 1, /* 0 is no waiter: an empty slot of a waiter_map */
	LW_WAITER_GOROUTINE = 2,
};

struct lw_waiter_id {
	uint32_t pid;
	uint32_t kind; /* enum lw_waiter_kind */
	uint64_t id;   /* LW_WAITER_THREAD: the tid; LW_WAITER_GOROUTINE: the goid */
};

static inline struct lw_waiter_id lw_thread_id(uint32_t pid, uint32_t tid)
{
	return (struct lw_waiter_id){ .pid = pid, .kind = LW_WAITER_THREAD, .id = tid };
}

static inline struct lw_waiter_id lw_goroutine_id(uint32_t pid, uint64_t goid)
{
	return (struct lw_waiter_id){ .pid = pid, .kind = LW_WAITER_GOROUTINE, .id = goid };
}

static inline bool lw_waiter_id_eq(struct lw_waiter_id a, struct lw_waiter_id b)
{
	return a.pid == b.pid && a.kind == b.kind && a.id == b.id;
}

#endif

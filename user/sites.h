/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Wait sites: where a process's stuck threads wait.  A site is the wait kind
 * and syscall plus the user and kernel stacks, never the futex or fd: two
 * threads at the same code on different condition variables or pipes are one
 * site.  Each site keeps its stuck count over time for the trend test.
 */
#ifndef LW_SITES_H
#define LW_SITES_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "leak_policy.h"
#include "trend.h"
#include "wait_kind.h"

#define LW_STACK_MAX 48
#define LW_FRAME_TEXT 160
/* Per process; the sites past it are not tracked, but counted. */
#define LW_MAX_SITES_PER_PROCESS 256

struct lw_stack_text {
	int n;
	char frames[LW_STACK_MAX][LW_FRAME_TEXT];
};

struct lw_site {
	uint64_t key;
	uint32_t id;        /* 1, 2, ... in the order found: stable for the run */
	char name[24];      /* the id as records show it */
	uint32_t pid;
	char kind[24];      /* wait kind */
	char syscall[32];
	int n_user, n_kernel;
	uint64_t user_pcs[LW_STACK_MAX];
	uint64_t kernel_pcs[LW_STACK_MAX];
	struct lw_stack_text user, kernel; /* symbolized once, when found */
	uint32_t stuck;           /* stuck waiters here at the last scan */
	unsigned int refs;        /* waiters that name this site now */
	struct leak_series leak;  /* stuck counts, one per scan: the trend and its verdicts */
};

struct lw_site_table {
	struct lw_site **sites;
	size_t n, cap;
};

uint64_t site_key(const struct lw_wait *w, const uint64_t *user_pcs, int n_user,
		  const uint64_t *kernel_pcs, int n_kernel);
struct lw_site *site_find(const struct lw_site_table *t, uint64_t key);

/* A new site in t.  A full table forgets a site that leak policy says may go
 * (no waiter names it, idle for a window).  Returns 0, -ENOSPC (t is full)
 * or -ENOMEM. */
int site_add(struct lw_site_table *t, uint32_t id, uint32_t pid, uint64_t key,
	     const struct lw_wait *w, const uint64_t *user_pcs, int n_user,
	     const uint64_t *kernel_pcs, int n_kernel, const struct trend_opts *trend_opts,
	     struct trend_scratch *scratch, struct lw_site **out);
void site_table_free(struct lw_site_table *t);

#endif

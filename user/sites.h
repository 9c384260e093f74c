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
	uint32_t stuck;           /* at the last scan */
	struct trend *trend;      /* stuck counts, one per scan */
	unsigned int growing_streak; /* evaluations in a row that said growing */
	unsigned int unchanged;      /* samples in a row equal to the one before */
	uint32_t last_stuck;
	uint32_t leak_stuck;      /* stuck when a leak was last reported; 0: never */
	double growth_per_min;    /* at the last evaluation */
	double window_s;          /* the time the evaluated samples span */
};

struct lw_site_table {
	struct lw_site **sites;
	size_t n, cap;
};

uint64_t site_key(const struct lw_wait *w, const uint64_t *user_pcs, int n_user,
		  const uint64_t *kernel_pcs, int n_kernel);
struct lw_site *site_find(const struct lw_site_table *t, uint64_t key);

/* A new site in t.  Returns 0, -ENOSPC (t is full) or -ENOMEM. */
int site_add(struct lw_site_table *t, uint32_t id, uint32_t pid, uint64_t key,
	     const struct lw_wait *w, const uint64_t *user_pcs, int n_user,
	     const uint64_t *kernel_pcs, int n_kernel, const struct trend_opts *trend_opts,
	     struct trend_scratch *scratch, struct lw_site **out);
void site_table_free(struct lw_site_table *t);

#endif

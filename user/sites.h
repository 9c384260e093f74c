/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Wait sites: where a process's stuck threads and goroutines wait.  A
 * thread's site is the wait kind and syscall plus the user and kernel
 * stacks, never the futex or fd: two threads at the same code on different
 * condition variables or pipes are one site.  A goroutine's site is Go's wait
 * reason plus its Go stack, never the goid or where it was created.  Each
 * site keeps its stuck count over time for the trend test.
 */
#ifndef LW_SITES_H
#define LW_SITES_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "frame.h"
#include "leak_policy.h"
#include "trend.h"
#include "wait_kind.h"

#define LW_STACK_MAX 48
#define LW_FRAME_TEXT 160
/* Per process; the sites past it are not tracked, but counted. */
#define LW_MAX_SITES_PER_PROCESS 256

/* A symbolized stack: each frame structured (info) and as text (frames:
 * lw_frame_text of it, or a fake's text in unit tests). */
struct lw_stack_text {
	int n;
	char frames[LW_STACK_MAX][LW_FRAME_TEXT];
	struct lw_frame info[LW_STACK_MAX];
};

struct lw_site {
	uint64_t key;
	uint32_t id;        /* 1, 2, ... in the order found: stable for the run */
	char name[24];      /* the id as records show it */
	uint32_t pid;
	char kind[40];      /* wait kind; goroutines: Go's wait reason ("chan send") */
	char syscall[32];
	int n_user, n_kernel;
	uint64_t user_pcs[LW_STACK_MAX];
	uint64_t kernel_pcs[LW_STACK_MAX];
	struct lw_stack_text user, kernel; /* symbolized once, when found */
	/* A site of goroutines: user is the Go stack (inlined calls as frames
	 * of their own), no kernel stack.  where names it by its first frame
	 * outside the runtime's own: "chan send in main.queryAll.func1
	 * (main.go:21), created by main.queryAll"; created_by is where the
	 * first goroutine found here was started ("main.queryAll
	 * (/src/main.go:19)"), "" if unknown.  A site of threads: where names it
	 * by its first frame outside libc and the language runtimes (see
	 * site_name_thread), "" when no frame is named. */
	bool goroutine;
	char where[LW_FRAME_TEXT + 64];
	char created_by[LW_FRAME_TEXT];
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
/* A goroutine's site: its wait reason and Go stack (runtime pcs). */
uint64_t site_key_goroutine(const char *reason, const uint64_t *pcs, int n);
struct lw_site *site_find(const struct lw_site_table *t, uint64_t key);

/* A new site in t.  A full table forgets a site that leak policy says may go
 * (no waiter names it, idle for a window).  Returns 0, -ENOSPC (t is full)
 * or -ENOMEM. */
int site_add(struct lw_site_table *t, uint32_t id, uint32_t pid, uint64_t key,
	     const struct lw_wait *w, const uint64_t *user_pcs, int n_user,
	     const uint64_t *kernel_pcs, int n_kernel, const struct trend_opts *trend_opts,
	     struct trend_scratch *scratch, struct lw_site **out);
void site_table_free(struct lw_site_table *t);

/* Is this Go function the runtime's own (runtime, sync, internal/..., and
 * wrappers such as time.Sleep): not what a goroutine's site is named by. */
bool site_go_runtime_func(const char *func);

/* s->where for a goroutine site, from the frame it is named by (func NULL:
 * none known; file "" and line 0 unknown) and the function that created it
 * ("" unknown): "chan send in main.f (main.go:21), created by main.g". */
void site_name_goroutine(struct lw_site *s, const char *func, const char *file, int line,
			 const char *created_by_func);

/* Is this native module a runtime's own (libc, libpthread, the dynamic
 * loader, libstdc++, libgcc_s, the vDSO, libpython): not what a thread's
 * site is named by. */
bool site_native_runtime_module(const char *module);

/*
 * s->where for a site of threads, from its symbolized user stack: the
 * innermost Python frame outside the standard library ("handle
 * (leak.py:6)"); else the first native or JIT frame outside the runtime
 * modules, with " inlined into F" when it is an inlined call
 * ("chan_send (query.c:14) inlined into query"); else the innermost named
 * frame; "" when none is named.  Files show by their base name.
 */
void site_name_thread(struct lw_site *s);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --dump: every thread and goroutine of one process, from one scan, grouped
 * by identical stack and wait, largest group first: the view of
 * net/http/pprof's goroutine?debug=1 (and gops stack), without an agent.
 *
 * Pure: the daemon adds what its scan saw (pcs, not text), groups, then
 * writes the groups as text or JSON Lines; frames are named through
 * callbacks, so tests pass fakes.
 *
 * Text, per process (goroutines as pprof's debug=1 writes them, so that
 * the two compare line for line; threads the same way):
 *
 *   # leakwatch --dump pid 4242 (server) go1.21.3: 1003 goroutines, ...
 *   goroutine profile: total 1003
 *   1000 @ 0x43ae96 0x4095fd 0x6ab5bd 0x46b8e1
 *   # wait: chan send
 *   #	0x6ab5bc	main.queryAll.func1+0x3c	/src/main.go:21
 *   (a blank line)
 *   thread profile: total 5
 *   3 @ 0x7f3b1c0 0x55d1a9e
 *   # wait: futex, 3 blocked, longest 12.301s
 *   #	0x7f3b1c0	__futex_abstimed_wait_common+0xc6 (libc.so.6)
 *
 * The "@" line has the physical pcs of the stack (pprof's has one per
 * logical frame, inlined ones included, from the runtime's own unwinder);
 * "#" lines are the frames, inlined calls expanded, at pc - 1 for return
 * addresses; like pprof, the runtime's frames above the first frame of
 * another package are left out (all shown when there is no other), and so
 * is runtime.goexit.  The JSON records carry every frame.
 *
 * Goroutines are counted as runtime.NumGoroutine and pprof count them: the
 * runtime's own (system) goroutines are left out, and counted.
 */
#ifndef LW_DUMP_H
#define LW_DUMP_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "go_pclntab.h"
#include "sites.h"

enum dump_kind {
	DUMP_GOROUTINE = 0, /* goroutine groups come first at equal counts */
	DUMP_THREAD = 1,
};

#define DUMP_WAIT_LEN 40
/* A dump holds at most this many waiters; the rest are counted. */
#define DUMP_MAX_ENTRIES (1u << 21)
/* The ids of a group that its JSON record lists (the lowest). */
#define DUMP_GROUP_IDS 8

/* One thread or goroutine, as the daemon gives it. */
struct dump_waiter {
	enum dump_kind kind;
	uint64_t id;          /* tid or goid */
	const char *wait;     /* "chan send", "futex", "running", ...: copied */
	bool blocked;         /* threads: sleeping (S or D) */
	uint64_t blocked_ns;  /* threads: for how long (a lower bound) */
	bool unreadable;      /* the stack could not be read: pcs ignored */
	const uint64_t *pcs;  /* innermost first; pcs[0] where it stopped */
	int n_pcs;            /* at most LW_STACK_MAX are kept */
};

struct dump_entry {
	uint64_t id, blocked_ns, hash;
	size_t pcs_off;
	uint16_t n_pcs;
	uint8_t kind;
	bool blocked, unreadable;
	char wait[DUMP_WAIT_LEN];
};

struct dump {
	struct dump_entry *entries;
	size_t n, cap;
	uint64_t *pcs;
	size_t n_pcs, cap_pcs;
	uint64_t dropped; /* waiters not added: past DUMP_MAX_ENTRIES, or no memory */
};

struct dump_group {
	enum dump_kind kind;
	const char *wait;
	const uint64_t *pcs; /* into the dump: valid until it changes */
	int n_pcs;
	bool unreadable;
	size_t count;
	size_t blocked;          /* threads: how many of them sleep */
	uint64_t max_blocked_ns; /* threads: the longest */
	uint64_t ids[DUMP_GROUP_IDS];
	size_t n_ids;
};

void dump_init(struct dump *d);
void dump_free(struct dump *d);

/* Copies w into d.  Returns 0, or -ENOSPC / -ENOMEM (counted in dropped). */
int dump_add(struct dump *d, const struct dump_waiter *w);

/*
 * Groups d's waiters by kind, wait and stack (d is reordered): *out (free
 * it) gets the groups, largest first; ties by kind (goroutines first), wait,
 * then the lowest id.  Returns 0 or -ENOMEM.
 */
int dump_group(struct dump *d, struct dump_group **out, size_t *n);

/* What the frames are: the daemon's symbolizers, or a test's fakes. */
struct dump_symbols {
	/* The Go frames at pc, innermost (inlined) first; first: pcs[0]. */
	int (*go_frames)(void *ctx, uint64_t pc, bool first, struct go_frame *out, int max);
	/* A thread frame as "func+0xoff (module)". */
	void (*thread_frame)(void *ctx, uint64_t pc, bool first, char *buf, size_t len);
	void *ctx;
	/* The frames at a thread's pc, innermost (inlined) first, as
	 * unwind_frames (may be NULL: thread_frame names the pc). */
	int (*thread_frames)(void *ctx, uint64_t pc, bool first, struct lw_frame *out, int max);
};

/* The process dumped, and what its scan could not show. */
struct dump_process {
	uint32_t pid;
	const char *pcomm;
	double ts;               /* Unix seconds of the scan */
	const char *go_version;  /* NULL: not a Go process (or --no-goroutines) */
	const char *go_error;    /* why its goroutines were not read (then no goroutine
				  * profile is written), or NULL */
	size_t goroutines;       /* dumped: runtime.NumGoroutine's count */
	size_t system_goroutines; /* the runtime's own: left out */
	size_t stacks_unreadable; /* goroutines and threads whose stack did not read */
	size_t threads;
	uint64_t dropped;        /* waiters not in the dump */
};

/* Returns 0 or -EIO. */
int dump_write_text(FILE *f, const struct dump_process *p, const struct dump_group *g, size_t n,
		    const struct dump_symbols *sym);
/* One {"type":"dump",...} line per group.  Returns 0, -EIO or -ENOMEM. */
int dump_write_json(FILE *f, const struct dump_process *p, const struct dump_group *g, size_t n,
		    const struct dump_symbols *sym);

#endif

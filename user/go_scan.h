/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The goroutines of one Go process, read from outside with
 * process_vm_readv, with no ptrace stop and no hook in the process: each
 * scan reads runtime.allglen, then runtime.allgptr/allgs, then the fields of
 * every g it needs (batched iovecs, reused buffers).  Stacks are read only
 * when asked, for a goroutine whose wait is new (the tracker asks once per
 * stuck wait), walked by frame pointers from g.sched and accepted only if
 * the walk ends at runtime.goexit.
 *
 * The process is hostile input: it may rewrite allgs while being read.
 * Every count read from it is capped, every g that does not validate is
 * skipped and counted, never a crash or an unbounded loop.
 */
#ifndef LW_GO_SCAN_H
#define LW_GO_SCAN_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "go_binary.h"

/* runtime.g.atomicstatus, the _Gscan bit (0x1000) cleared. */
enum go_gstatus {
	GO_G_IDLE = 0,
	GO_G_RUNNABLE = 1,
	GO_G_RUNNING = 2,
	GO_G_SYSCALL = 3,
	GO_G_WAITING = 4,
	GO_G_DEAD = 6,
	GO_G_COPYSTACK = 8,
	GO_G_PREEMPTED = 9,
	GO_G_LEAKED = 10,     /* 1.26+: parked, found unreachable by the GC */
	GO_G_DEADEXTRA = 11,  /* 1.26+: an extra M's g, dead */
};

/* A scan reads at most this many gs; the rest are counted, not read. */
#define GO_MAX_GOROUTINES (1u << 20)

/* One goroutine as a scan read it (dead and idle gs are not returned). */
struct go_goroutine {
	uint64_t goid;
	uint32_t status;        /* enum go_gstatus */
	uint8_t wait_reason;    /* GO_G_WAITING: the runtime's number */
	uint8_t tracking_seq;   /* rises on every transition out of running */
	/* stack.hi - sched.sp: unchanged when the GC moves a parked stack,
	 * unlike sched.sp.  With goid, tracking_seq and wait_reason it names
	 * one wait: a goroutine that woke and parked again differs in one. */
	uint64_t sp_depth;
	uint64_t stack_hi;      /* g.stack.hi: its stack is read from stack_hi - sp_depth */
	uint64_t gopc, startpc; /* where it was created, the function it runs (runtime addresses) */
	uint32_t tid;           /* GO_G_RUNNING, GO_G_SYSCALL: its thread (m.procid), else 0 */
	bool system;            /* the runtime's own (not counted by runtime.NumGoroutine) */
	/* Its last stop was a preemption, not a park, a yield or a syscall:
	 * g.sched.pc (which a resume leaves as it was: stale while running)
	 * is in asyncPreempt2 or goschedIfBusy, or in a non-runtime
	 * function's prologue (morestack's synchronous preemption, or a stack
	 * growth); GO_G_PREEMPTED always.  A spin is a goroutine running, or
	 * runnable with this, at every read. */
	bool preempted;
	uint64_t g_addr;        /* where the g is: go_process_stack reads it again */
};

struct go_scan_stats {
	uint64_t scans;
	uint64_t gs_read;          /* g structs read */
	uint64_t bytes_read;       /* by process_vm_readv, gs and stacks */
	uint64_t gs_invalid;       /* gs that did not validate: skipped */
	uint64_t gs_unread;        /* past GO_MAX_GOROUTINES, or a failed read */
	uint64_t ms_unread;        /* a running g's m.procid unread or not a thread: tid 0 */
	uint64_t stacks_read;
	uint64_t stacks_moved;     /* walk did not end at goexit: retried later */
	uint64_t stacks_unreadable;
	uint64_t last_scan_ns;     /* time the last scan took */
};

struct go_process;

/* b stays the caller's and must outlive p.  Returns 0 or -errno (-ESRCH:
 * gone; -EPERM). */
int go_process_open(uint32_t pid, const struct go_binary *b, struct go_process **out);
void go_process_free(struct go_process *p);

/*
 * One scan.  *gs (owned by p, valid until the next scan) gets the live
 * goroutines, *n their number.  Returns 0; -ESRCH (the process is gone);
 * -EIO (its runtime's variables did not read or validate: not counted as a
 * scan, try again).
 */
int go_process_scan(struct go_process *p, const struct go_goroutine **gs, size_t *n);

/*
 * The stack of g (from the last scan), read now: runtime pcs, innermost
 * first, the last one in runtime.goexit.  pcs[0] is the pc it is parked at,
 * g.sched.pc: the return address of its mcall (or, for a goroutine that
 * never ran, its function's entry), so every pc of it is looked up with
 * go_process_frames(first = false), as Go's own traceback does.
 * Returns the count; -EAGAIN if it moved since the scan, is running, or the
 * walk did not end at goexit (counted: stacks_moved); -EIO unreadable, or in
 * a syscall on a Go before 1.23, which saves no bp there (counted:
 * stacks_unreadable); -ESRCH gone (counted: stacks_unreadable).
 */
int go_process_stack(struct go_process *p, const struct go_goroutine *g, uint64_t *pcs, int max);

/* One goroutine's stack in go_process_stacks: pcs (max of them) in, n out:
 * the count, or -errno as go_process_stack returns it. */
struct go_stack_result {
	uint64_t *pcs;
	int max;
	int n;
};

/*
 * The stacks of n goroutines of the last scan, as go_process_stack reads
 * each one (same results, same counters), in batches: one process_vm_readv
 * reads the gs again and the first window of each stack, all walked in
 * memory; only the deep ones read more (batched too), and one more call
 * checks the gs did not move.  Returns 0, or -EINVAL (then nothing is read).
 */
int go_process_stacks(struct go_process *p, const struct go_goroutine *const *gs, size_t n,
		      struct go_stack_result *out);

/* Go's own name of a wait reason for this binary ("chan send"); "" unknown. */
const char *go_process_wait_reason(const struct go_process *p, uint8_t reason);

/*
 * The frames at a runtime pc of this process's Go code, innermost (inlined)
 * first; first: pc is where a thread was interrupted (a spinning thread's
 * registers: looked up as is), else a return address (looked up at pc - 1,
 * unless pc is a function's entry).  Returns the count, 0 when pc is not
 * Go code of the executable.
 */
int go_process_frames(const struct go_process *p, uint64_t pc, bool first, struct go_frame *out,
		      int max);

const struct go_binary *go_process_binary(const struct go_process *p);
/* Runtime address minus link-time address of the executable (0 unless
 * PIE): "func+0xoff" is pc - bias - go_frame.entry. */
uint64_t go_process_load_bias(const struct go_process *p);
/* The wait reasons came from the process's runtime.waitReasonStrings (else
 * from the binary's version table, or none). */
bool go_process_own_wait_reasons(const struct go_process *p);
void go_process_stats(const struct go_process *p, struct go_scan_stats *s);

#endif

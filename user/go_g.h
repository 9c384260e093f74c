/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The pure parts of the goroutine scan (user/go_scan.c), over bytes already
 * read from the target: which byte ranges of a runtime.g to read, decoding
 * and validating one g, walking a goroutine's frame pointers over a copy of
 * its stack, and the load bias from /proc/PID/maps text.  No I/O, no
 * globals: cmocka tests and the fuzz harness (tests/fuzz/fuzz_go_g.c) call
 * them on synthetic memory.  Every byte comes from a hostile process.
 */
#ifndef LW_GO_G_H
#define LW_GO_G_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "go_binary.h"
#include "go_scan.h"

/* The byte ranges of a g that a scan reads: the fields it uses, nearby
 * ones merged into one range (one iovec each). */
#define GO_G_MAX_SEGS 12
struct go_g_segs {
	uint32_t n;
	uint32_t off[GO_G_MAX_SEGS], len[GO_G_MAX_SEGS];
	uint32_t span;   /* end of the last range: a g image is this long */
	uint32_t bytes;  /* sum of len: what one g costs to read */
};

/* Ranges closer than merge_gap bytes become one.  Returns 0, or -EINVAL
 * for a layout whose fields do not fit in g_size (or exceed 64 KiB). */
int go_g_segs_init(struct go_g_segs *s, const struct go_layout *l, uint32_t merge_gap);

/* The fields of one g, as read (before validation). */
struct go_g_raw {
	uint64_t stack_lo, stack_hi, m;
	uint64_t sched_sp, sched_pc, sched_bp;
	uint64_t syscallsp, syscallpc;
	uint32_t status;        /* atomicstatus as read, _Gscan bit included */
	uint64_t goid;
	uint8_t wait_reason, tracking_seq;
	uint64_t gopc, startpc;
};

enum go_g_verdict {
	GO_G_LIVE,     /* returned by a scan */
	GO_G_GONE,     /* _Gidle, _Gdead, _Gdeadextra: not a goroutine now */
	GO_G_INVALID,  /* did not validate: skipped and counted */
};

/* Largest stack a g may claim (Go's maxstacksize is 1 GB on 64-bit). */
#define GO_MAX_STACK (1ull << 30)
/* Largest goid taken as sane: goids count up from 1, 16 per P batch. */
#define GO_MAX_GOID (1ull << 48)

/*
 * img: a g image at least segs-span bytes long (bytes outside the segments
 * are not looked at).  Fills raw; when LIVE, fills out (tid 0, system false:
 * the caller knows the thread and the function).  Pure and total.
 */
enum go_g_verdict go_g_decode(const struct go_layout *l, const uint8_t *img, size_t len,
			      uint64_t g_addr, struct go_g_raw *raw, struct go_goroutine *out);

/* A parked goroutine: its sched is where it stopped (not RUNNING/SYSCALL). */
bool go_g_parked(uint32_t status);

/*
 * A frame-pointer walk over copies of a goroutine's stack, resumable: when
 * the next frame is outside the copy given, go_stack_walk returns -ENODATA
 * with need set, and the caller calls it again with a copy that holds it.
 */
struct go_stack_walk {
	/* In: */
	uint64_t stack_lo, stack_hi;  /* g.stack: every read inside */
	uint64_t goexit_lo, goexit_hi; /* runtime.goexit's text (runtime addresses) */
	uint64_t *pcs;
	int max;                       /* pcs kept; the walk goes on to goexit */
	/* State: set by go_stack_walk_init, then by the walk. */
	uint64_t pc, sp, bp;
	int n;            /* pcs written */
	int frames;       /* frames walked */
	uint64_t need;    /* -ENODATA: a copy from here (16 bytes, or to stack_hi) */
};

/* A walk's cap on frames: stacks are at most 1 GB, but no walk goes on
 * for ever over a hostile chain. */
#define GO_MAX_WALK 100000

void go_stack_walk_init(struct go_stack_walk *w, uint64_t pc, uint64_t sp, uint64_t bp);

/*
 * Walks on over the copy [base, base + len).  Returns 0: the walk reached
 * goexit (its pc, a return address into goexit, is the last of w->pcs);
 * -ENODATA: call again with a copy that starts at or below w->need and
 * holds [w->need, min(w->need + 16, stack_hi));
 * -EAGAIN: the chain broke (a bp outside the stack, not increasing, a
 * return address of 0, too many frames): the stack moved or is not a
 * goroutine's at rest.
 */
int go_stack_walk(struct go_stack_walk *w, uint64_t base, const uint8_t *bytes, size_t len);

/*
 * The load bias of the executable from /proc/PID/maps text: the lowest
 * mapping at file offset 0 of the file dev:ino (the executable's, from a
 * stat of /proc/PID/exe), else, if none matches, of the path exe_path
 * (NULL: none).  bias = start - load_vaddr.  Returns 0 or -ENOENT.
 */
int go_maps_load_bias(const char *maps, size_t len, uint32_t dev_major, uint32_t dev_minor,
		      uint64_t ino, const char *exe_path, uint64_t load_vaddr, uint64_t *bias);

#endif

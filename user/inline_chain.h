/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The frames of one pc from the DWARF scopes that hold it, as eu-addr2line -i
 * and perf print them: every DW_TAG_inlined_subroutine a frame of its own,
 * innermost first, down to the physical function (DW_TAG_subprogram).  The
 * innermost frame's file:line is the line table's; each outer frame's is the
 * call site of the inlined call inside it (DW_AT_call_file/line of the
 * scope just inside).  Pure: unwind.c reads the DIEs, this orders them.
 */
#ifndef LW_INLINE_CHAIN_H
#define LW_INLINE_CHAIN_H
#include <stdbool.h>
#include <stdint.h>
#include "frame.h"

/* Scopes of one chain looked at, at most (a hostile DIE tree nests deeper:
 * the rest are cut, counted by the caller). */
#define LW_INLINE_MAX 32

struct inline_scope {
	const char *name;      /* readable (demangled) name; NULL or "": unknown */
	bool inlined;          /* DW_TAG_inlined_subroutine, else the physical function */
	const char *call_file; /* inlined: where the call is in the next outer scope */
	int call_line;         /* 0 unknown */
};

/* Where pc is and what it shows: the line table's file:line of pc, the
 * offset of pc in the physical function (frame.h), its module. */
struct inline_site {
	uint64_t pc;
	uint64_t offset;
	const char *line_file; /* NULL or "": no line */
	int line;
	const char *module;
};

/*
 * Frames for scopes[0..n) (innermost first; the last is the physical
 * function) into out (up to max, max >= 1).  Every frame but the last is
 * marked inlined.  Chains longer than max keep the innermost max - 1 and the
 * physical function, which holds the pc and names the offset.  Returns the
 * count (0 when n or max is 0).
 */
int inline_chain_frames(const struct inline_scope *scopes, int n, const struct inline_site *at,
			struct lw_frame *out, int max);

/* A source path into dst (len bytes): the tail, "..." first, when it is too
 * long (the file name is what a reader needs). */
void inline_copy_path(char *dst, size_t len, const char *path);

#endif

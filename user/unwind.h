/* SPDX-License-Identifier: GPL-2.0 */
/*
 * User stacks of blocked threads, unwound the way perf does with
 * --call-graph dwarf: elfutils libdwfl, the binaries' .eh_frame/.debug_frame
 * CFI, and frame pointers where there is no CFI (libdwfl's x86-64 fallback).
 * It starts from the registers the scan saved and reads the thread's stack
 * from its memory: a blocked thread's stack does not change while it sleeps.
 */
#ifndef LW_UNWIND_H
#define LW_UNWIND_H
#include <stddef.h>
#include <stdint.h>
#include "leakwatch.h"

struct unwinder;

int unwinder_new(struct unwinder **out);
void unwinder_free(struct unwinder *u);

/* Unwinds thread tid of pid from regs (enum lw_reg) into pcs (up to max).
 * Returns the number of frames (>= 1: the first is regs' ip), or -errno. */
int unwind_user(struct unwinder *u, uint32_t pid, uint32_t tid, const __u64 *regs,
		uint64_t *pcs, int max);

/* "func+0xoff (module)", or "0xaddr (module)" without a symbol, for a pc of
 * pid found by unwind_user (a return address: looked up at pc - 1 unless it
 * is the first frame). */
void unwind_symbolize(struct unwinder *u, uint32_t pid, uint64_t pc, bool first, char *buf,
		      size_t len);

/* The process exited: drop what is cached for it. */
void unwinder_forget(struct unwinder *u, uint32_t pid);

#endif

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
#include "frame.h"
#include "leakwatch.h"

/* Symbolization cache entries, at most (about 1 KiB each). */
#define LW_SYMCACHE_MAX 16384

struct unwinder;

int unwinder_new(struct unwinder **out);
void unwinder_free(struct unwinder *u);

/* Unwinds thread tid of pid from regs (enum lw_reg) into pcs (up to max).
 * Returns the number of frames (>= 1: the first is regs' ip), or -errno. */
int unwind_user(struct unwinder *u, uint32_t pid, uint32_t tid, const __u64 *regs,
		uint64_t *pcs, int max);

/*
 * The frames at a pc of pid found by unwind_user, innermost first (a return
 * address is looked up at pc - 1 unless first):
 *  - from DWARF (the binary's own or its separate debuginfo: build-id under
 *    /usr/lib/debug/.build-id, .gnu_debuglink; minidebuginfo for symbols):
 *    the inline chain at pc, every frame but the last marked inlined, each
 *    with its file:line (the innermost from the line table, the others from
 *    their inlined call's DW_AT_call_file/line), func from the DIE names;
 *  - else the ELF symbol (func+offset, module);
 *  - else, in memory no module covers or that its file does not name (a
 *    module spans the holes between its mappings, where a JIT may put its
 *    code), the process's perf map (kind LW_FRAME_JIT, module
 *    "perf-PID.map");
 *  - else the address (lw_frame_unknown), never a guess.
 * Names are demangled ("pthread_cond_wait@@GLIBC_2.3.2" -> "pthread_cond_wait").
 * Results are cached per (build-id, or dev+inode+mtime, and module offset),
 * bounded (LW_SYMCACHE_MAX entries), shared by every process mapping the
 * same file.  Returns the count, 1 <= count <= max.
 */
int unwind_frames(struct unwinder *u, uint32_t pid, uint64_t pc, bool first, struct lw_frame *out,
		  int max);


void unwinder_stats(const struct unwinder *u, struct lw_symbolize_stats *out);

/* The process exited: drop what is cached for it. */
void unwinder_forget(struct unwinder *u, uint32_t pid);

#endif

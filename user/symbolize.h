/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The frames at an address of one module, from what its files say, as perf
 * and eu-addr2line -i read them: the DWARF inline chain (libdw scopes, the
 * line table, DW_AT_call_file/line), else the ELF symbol (minidebuginfo
 * included: libdwfl reads .gnu_debugdata), else the address.  No /proc, no
 * cache: unwind.c finds the module and caches the result; the fuzzer feeds
 * it files.  The module's files are the target's: hostile input, read
 * through libdw, every count and index from them bounded here.
 */
#ifndef LW_SYMBOLIZE_H
#define LW_SYMBOLIZE_H
#include <stdint.h>
#include <elfutils/libdwfl.h>
#include "frame.h"
#include "inline_chain.h"

/*
 * The frames at pc in mod into out (up to max, max >= 1), innermost first;
 * lookup: the address looked up (pc, or pc - 1 for a return address).  The
 * physical function is named by the ELF symbol when one holds pc, as perf
 * names it (the exported "pthread_cond_wait", not glibc's internal
 * "___pthread_cond_wait"), its inlined calls by their DIEs.  names: room
 * for LW_INLINE_MAX names.  Returns the count (>= 1).
 */
int symbolize_module(Dwfl_Module *mod, uint64_t pc, uint64_t lookup, struct lw_frame *out, int max,
		     char (*names)[LW_FUNC_TEXT]);

/* The basename of mod's name (a path, or "[vdso]"); *start (may be NULL)
 * its load address. */
const char *symbolize_module_name(Dwfl_Module *mod, Dwarf_Addr *start);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One frame of a stack, in any language: what the JSON "frames" list shows
 * and what the readable "stack" strings are made from.  Native frames come
 * from libdw (unwind.c: DWARF inline chains, file:line), JIT frames from
 * perf map files (perf_map.c), Go frames from pclntab, Python frames from
 * the interpreter's own frame chain (py_frames.c), kernel frames from
 * kallsyms.
 */
#ifndef LW_FRAME_H
#define LW_FRAME_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum lw_frame_kind {
	LW_FRAME_NATIVE,
	LW_FRAME_GO,
	LW_FRAME_PYTHON,
	LW_FRAME_JIT,
	LW_FRAME_KERNEL,
};

#define LW_FUNC_TEXT 128
#define LW_FILE_TEXT 160
#define LW_MODULE_TEXT 64

struct lw_frame {
	/* The address looked up (a return address as found, not minus 1);
	 * Python: the code object's address. */
	uint64_t pc;
	/* pc - the function's start (every frame of an inlined chain: the
	 * offset in the physical function that holds them, as pprof and
	 * perf show it); no function known: pc - the module's load address;
	 * Python: the instruction's byte offset in the code. */
	uint64_t offset;
	int line;      /* 0 unknown */
	uint8_t kind;  /* enum lw_frame_kind */
	/* A call inlined into the next (outer) frame, which has the same pc. */
	bool inlined;
	/* Python: the outermost frame one C call of the eval loop
	 * (_PyEval_EvalFrameDefault) runs: the chain to the next C frame of
	 * the interpreter ends here. */
	bool py_entry;
	char func[LW_FUNC_TEXT];     /* "" unknown: the frame shows its address */
	char file[LW_FILE_TEXT];     /* source path as the debug info gives it; "" unknown */
	char module[LW_MODULE_TEXT]; /* basename of the ELF or perf map; "" unknown */
};

/* What symbolization did, for --metrics. */
struct lw_symbolize_stats {
	uint64_t cache_entries, cache_capacity;
	uint64_t cache_hits, cache_misses, cache_evictions;
	uint64_t perf_maps_read;      /* perf map files read (and re-read on change) */
	uint64_t perf_map_lines_bad;  /* lines of them skipped as malformed */
	uint64_t perf_maps_over_budget; /* reads not kept: all maps past their budget */
	uint64_t jit_frames;          /* frames named by a perf map */
	uint64_t unnamed_frames;      /* frames left as an address */
};

/* A frame for pc that nothing could name: kind, pc and module (may be NULL)
 * only. */
void lw_frame_unknown(struct lw_frame *f, uint8_t kind, uint64_t pc, const char *module);

/*
 * The readable form, what "stack" strings hold:
 *   "func+0xoff (file:line)"   native, Go and JIT with a source line
 *   "func+0xoff (module)"      no line
 *   "0xpc (module)"            no function ("?" for an unknown module)
 *   "func (file:line)"         Python (the offset is bytecode, not shown)
 * file is shown as given (Go and Python: the full path; DWARF: as the
 * line table names it).  Always NUL-terminated, cut to len.
 */
void lw_frame_text(const struct lw_frame *f, char *buf, size_t len);

/* "native", "go", "python", "jit", "kernel". */
const char *lw_frame_kind_name(uint8_t kind);

#endif

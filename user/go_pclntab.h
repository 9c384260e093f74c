/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Go's own symbol table, .gopclntab (.data.rel.ro.gopclntab in PIE): function
 * names, file:line and inline trees, for Go 1.18 and later (header magic
 * 0xfffffff0, 0xfffffff1).  Stripped binaries keep it.  Pure: a view over
 * bytes the caller keeps alive; an untrusted binary's bytes: every offset is
 * bounded before use, every loop capped, and a string that does not end
 * inside the table is not returned.
 */
#ifndef LW_GO_PCLNTAB_H
#define LW_GO_PCLNTAB_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct go_pclntab {
	const uint8_t *data;
	size_t len;
	int format;           /* 118 (Go 1.18-1.19) or 120 (1.20+) */
	uint64_t text_start;  /* link-time address the function offsets count from */
	uint32_t nfunc, nfiles;
	/* Offsets of the sub-tables in data, checked against len. */
	uint64_t funcname_off, cu_off, filetab_off, pctab_off, functab_off;
	/* go:func.* (moduledata.gofunc): FUNCDATA offsets count from it.
	 * Without it there are no inline trees: frames are the outer
	 * functions, at the inlined callee's line. */
	const uint8_t *gofunc;
	size_t gofunc_len;
};

/*
 * data/len: the section.  text_start: the link-time address of runtime.text
 * when the header's own is 0 (PIE: relocated at load), else ignored.
 * Returns 0, -ENOEXEC (not a pclntab we know) or -EINVAL (malformed).
 */
int go_pclntab_init(struct go_pclntab *t, const uint8_t *data, size_t len, uint64_t text_start);
void go_pclntab_set_gofunc(struct go_pclntab *t, const uint8_t *gofunc, size_t len);

struct go_func {
	uint32_t index;     /* in the function table */
	uint64_t entry;     /* link-time address */
	uint64_t end;       /* the next function's entry */
	const char *name;   /* "main.queryAll.func1", "?" if unreadable */
	uint8_t func_id;    /* abi.FuncID: goexit, wrapper, ... */
};

/* The function whose text holds pc (link-time).  0 or -ENOENT. */
int go_pclntab_find_func(const struct go_pclntab *t, uint64_t pc, struct go_func *f);
/* By exact name (a linear walk: for setup, never per frame).  0 or -ENOENT. */
int go_pclntab_func_by_name(const struct go_pclntab *t, const char *name, struct go_func *f);

struct go_frame {
	const char *func;   /* never NULL: "?" when unreadable */
	const char *file;   /* "" when unknown */
	int line;           /* 0 when unknown */
	uint64_t entry;     /* of the outer (physical) function */
	bool inlined;       /* inlined into the next frame */
	bool stdlib;        /* in the Go distribution (go_process_frames sets it) */
};

/*
 * The frames at pc, innermost first: the inlined calls, then the function
 * that holds them, as runtime.CallersFrames and pprof show them.  pc is
 * the pc to look up: a return address minus one for every frame but the
 * innermost.  Returns how many were written (0 when pc is in no function).
 */
int go_pclntab_frames(const struct go_pclntab *t, uint64_t pc, struct go_frame *out, int max);

#endif

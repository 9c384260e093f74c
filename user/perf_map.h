/* SPDX-License-Identifier: GPL-2.0 */
/*
 * JIT symbols from perf map files, perf's own convention: /tmp/perf-PID.map,
 * one "START SIZE NAME" line per symbol (START and SIZE hex, with or without
 * 0x; NAME to the end of the line, may hold spaces), written by the JVM
 * (jcmd PID Compiler.perfmap), Node (--perf-basic-prof), CPython 3.12+
 * (-X perf) and .NET (DOTNET_PerfMapEnabled=1).  The file is the target's:
 * hostile input, every length bounded.
 */
#ifndef LW_PERF_MAP_H
#define LW_PERF_MAP_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Entries kept per file, at most; the rest (the earliest lines: later ones
 * win) are counted as skipped, in perf_map_bad_lines. */
#define PERF_MAP_MAX_ENTRIES (1u << 18)
/* Bytes read of a file, at most (the end of a larger one). */
#define PERF_MAP_MAX_BYTES (32u << 20)
/*
 * Bytes all parsed maps together hold, at most (perf_map_bytes): any process
 * on the host can write a perf map, each file alone is bounded but their
 * number is not.  One file at the caps above fits (about 48 MiB).
 */
#define PERF_MAPS_BUDGET_BYTES (64u << 20)
/* Characters of a name kept (longer ones are cut). */
#define PERF_MAP_NAME_MAX 256

/* One file's symbols, sorted by start. */
struct perf_map;

/* Parses len bytes of perf map text (need not end in a newline or NUL).
 * Malformed lines (no START, SIZE or NAME, SIZE 0, START + SIZE wrapping)
 * are skipped and counted, as are lines holding a NUL byte (empty lines are
 * not lines).  Overlapping entries: the later line wins where they overlap
 * (a JIT rewrites code in place).  0 or -ENOMEM. */
int perf_map_parse(const char *text, size_t len, struct perf_map **out);
void perf_map_free(struct perf_map *m);
size_t perf_map_entries(const struct perf_map *m);
/* Lines skipped: malformed, or past PERF_MAP_MAX_ENTRIES. */
size_t perf_map_bad_lines(const struct perf_map *m);
/* Bytes m holds: what it counts against PERF_MAPS_BUDGET_BYTES. */
size_t perf_map_bytes(const struct perf_map *m);

/* The symbol covering addr (start <= addr < start + size): its name (lives
 * as long as m) and start. */
bool perf_map_lookup(const struct perf_map *m, uint64_t addr, const char **name,
		     uint64_t *start);

/* The perf maps of the processes watched, each found and kept fresh. */
struct perf_maps;

struct perf_maps_stats {
	uint64_t files_read;  /* reads of a file (first and after a change) */
	uint64_t lines_bad;   /* malformed lines skipped, over all reads */
	uint64_t read_errors; /* a file there but unreadable, or not a regular file (not
			       * counted: no file), once per file */
	uint64_t files_cut;   /* reads of a file past PERF_MAP_MAX_BYTES: its start unread */
	uint64_t over_budget; /* reads not kept: past PERF_MAPS_BUDGET_BYTES with the
			       * others (tried again when the file changes) */
};

int perf_maps_new(struct perf_maps **out);
void perf_maps_free(struct perf_maps *pm);

/*
 * The JIT symbol of process pid covering pc.  The file is the process's
 * /tmp/perf-NSPID.map as it sees it: /proc/PID/root/tmp/perf-NSPID.map,
 * NSPID its pid in its own pid namespace (the last NSpid of
 * /proc/PID/status).  Looked at again (stat: inode, size, mtime) when
 * now_ns is 1 s past the last look, and re-read when it changed (a last
 * line without its newline is still being written: read then).  Symlinks on
 * the way resolve inside the process's root; the file itself must be a
 * regular file, not a symlink (a FIFO there does not block).  True with
 * name copied (cut to len), *start its start; false: no file, or no symbol
 * there.  module gets "perf-NSPID.map" when non-NULL.  A map that would take
 * the maps' total past PERF_MAPS_BUDGET_BYTES is not kept (the process's JIT
 * frames stay addresses) until the file changes and it then fits.
 */
bool perf_maps_lookup(struct perf_maps *pm, uint32_t pid, uint64_t pc, uint64_t now_ns,
		      char *name, size_t len, uint64_t *start, char *module, size_t module_len);

/* The process exited: drop its map (its bytes back to the budget). */
void perf_maps_forget(struct perf_maps *pm, uint32_t pid);
void perf_maps_get_stats(const struct perf_maps *pm, struct perf_maps_stats *out);

#endif

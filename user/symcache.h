/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The symbolization cache: the frames at a module-relative address of one
 * file, shared by every process that maps that file, so that a stack seen
 * again costs a hash lookup and not a DWARF walk.  Bounded in entries and
 * in bytes (frames are stored packed: most names are short); the least
 * recently used entry goes first, counted.  Pure: no libdw, no globals.
 */
#ifndef LW_SYMCACHE_H
#define LW_SYMCACHE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "frame.h"

/* Bytes naming a file: its build-id (cut) and its dev, inode and mtime. */
#define SYMCACHE_FILE_ID_MAX 56
/* Frames kept per entry, at most (an inline chain). */
#define SYMCACHE_FRAMES_MAX 32

struct symcache_key {
	uint8_t file_id[SYMCACHE_FILE_ID_MAX];
	uint8_t file_id_len;
	bool first;    /* pc is the innermost frame's, not a return address */
	uint64_t addr; /* pc - the module's load address */
};

struct symcache_stats {
	uint64_t entries, capacity, bytes;
	uint64_t hits, misses, evictions;
};

struct symcache;

/* At most max_entries entries and max_bytes bytes of them.  0 or -ENOMEM. */
int symcache_new(size_t max_entries, size_t max_bytes, struct symcache **out);
void symcache_free(struct symcache *c);

/* The frames cached for k into out (up to max), each with pc set to pc
 * (entries hold no address: the file may be mapped anywhere).  Returns the
 * count, 0 on a miss (counted either way). */
int symcache_get(struct symcache *c, const struct symcache_key *k, uint64_t pc,
		 struct lw_frame *out, int max);

/* Caches frames f[0..n) for k (a key already there is replaced), evicting
 * the least recently used entries to stay in bounds.  0, -EINVAL (n not in
 * 1..SYMCACHE_FRAMES_MAX, or one entry over the byte bound) or -ENOMEM. */
int symcache_put(struct symcache *c, const struct symcache_key *k, const struct lw_frame *f,
		 int n);

void symcache_get_stats(const struct symcache *c, struct symcache_stats *out);

#endif

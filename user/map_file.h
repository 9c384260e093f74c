/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where a file another process maps is opened from, in order: the kernel's
 * own link to the very file mapped (/proc/TID/map_files/START-END: needs
 * CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE, which the shipped unit does not
 * give), then the name in /proc/TID/maps resolved in the process's root
 * (/proc/TID/root), then the name as the daemon sees it.  Pure: the caller
 * opens them (procfs_open_mapped).
 */
#ifndef LW_MAP_FILE_H
#define LW_MAP_FILE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The candidates of one mapping, at most. */
#define MAP_FILE_WAYS 3

enum map_file_way {
	MAP_FILE_MAP_FILES, /* the kernel's link: the file mapped, whatever its name */
	MAP_FILE_ROOT,      /* /proc/TID/root + the name inside that root */
	MAP_FILE_PATH,      /* the name itself, in the daemon's mount namespace */
};

/* One file mapping of a process, as a line of /proc/TID/maps gives it. */
struct map_file_ref {
	uint32_t tid;
	uint64_t start, end; /* the mapping's addresses */
	uint64_t ino;        /* the mapped file's inode */
	const char *name;    /* its path, as /proc/TID/maps shows it to the daemon */
};

struct map_file_candidate {
	enum map_file_way way;
	char path[4096 + 64];
};

/* A name /proc/PID/maps marks " (deleted)": only a name now, which another
 * file (or a FIFO) may hold. */
bool map_file_deleted(const char *name);

/*
 * name inside the process's root: /proc/TID/maps shows a path from the root
 * of the process's mount namespace, not from its chroot; root_link (the
 * target of /proc/TID/root, read the same way) is what a chroot adds in
 * front.  A pointer into name: name itself when it is not under root_link.
 */
const char *map_file_in_root(const char *name, const char *root_link);

/*
 * The paths to try for r, in order, into out (MAP_FILE_WAYS of them): no
 * name but the kernel's link for a deleted file, nor for a name that is not
 * absolute.  root_link: NULL if unknown.  The count.
 */
int map_file_candidates(const struct map_file_ref *r, const char *root_link,
			struct map_file_candidate out[MAP_FILE_WAYS]);

/*
 * One line of /proc/TID/maps: its addresses, offset and inode, and its path
 * (NULL if none) with the newline cut off, in line itself.  false if it is
 * not a maps line, or it was cut short (no newline: a path too long).
 */
bool map_file_parse_line(char *line, uint64_t *start, uint64_t *end, uint64_t *offset,
			 uint64_t *ino, const char **path);

#endif

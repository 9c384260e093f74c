// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <elfutils/libdwelf.h>
#include "debuginfo.h"
#include "procfs.h"

/* Build-ids longer than this are not real ones. */
#define BUILD_ID_MAX 64

static bool same_build_id(int fd, const unsigned char *id, int id_len)
{
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	const void *theirs = NULL;
	bool same = false;

	/* theirs points into elf's memory: compared before elf_end */
	if (elf && dwelf_elf_gnu_build_id(elf, &theirs) == id_len && theirs)
		same = !memcmp(theirs, id, (size_t)id_len);
	elf_end(elf);
	return same;
}

static bool same_crc(int fd, GElf_Word want)
{
	unsigned char buf[65536];
	uLong crc = crc32(0, Z_NULL, 0);
	uint64_t total = 0;
	ssize_t n;

	while ((n = pread(fd, buf, sizeof(buf), (off_t)total)) > 0) {
		crc = crc32(crc, buf, (uInt)n);
		total += (uint64_t)n;
		if (total > DEBUGINFO_CRC_MAX_BYTES)
			return false;
	}
	return n == 0 && (GElf_Word)crc == want;
}

/* The candidate at path, if it is the module's: its fd, *out its path. */
static int try_candidate(const char *path, const unsigned char *id, int id_len,
			 GElf_Word crc, char **out)
{
	int fd = procfs_open_regular(path);
	bool ok;

	if (fd < 0)
		return -1;
	ok = id_len > 0 ? same_build_id(fd, id, id_len) : same_crc(fd, crc);
	if (!ok || !(*out = strdup(path))) {
		close(fd);
		return -1;
	}
	return fd;
}

int debuginfo_find(Dwfl_Module *mod, uint32_t tid, const char *modname, const char *debuglink,
		   GElf_Word debuglink_crc, char **path)
{
	const unsigned char *bits = NULL;
	char roots[2][64], prefix[32] = "", dir[PATH_MAX], cand[PATH_MAX + 128];
	char hex[2 * BUILD_ID_MAX + 1];
	struct stat ours, theirs;
	GElf_Addr vaddr;
	int id_len, n_roots = 1, i, r, fd;
	char root_link[PATH_MAX];
	const char *slash, *in_root;

	/* The process's files through its own root (a container's) */
	if (tid)
		snprintf(prefix, sizeof(prefix), "/proc/%u/root", tid);
	snprintf(roots[0], sizeof(roots[0]), "/usr/lib/debug");
	if (tid && !stat("/", &ours) && !stat(prefix, &theirs) &&
	    (ours.st_dev != theirs.st_dev || ours.st_ino != theirs.st_ino))
		snprintf(roots[n_roots++], sizeof(roots[0]), "%s/usr/lib/debug", prefix);

	id_len = dwfl_module_build_id(mod, &bits, &vaddr);
	if (id_len > BUILD_ID_MAX || !bits)
		id_len = 0;
	if (id_len > 1) {
		for (i = 0; i < id_len; i++)
			snprintf(hex + 2 * i, 3, "%02x", bits[i]);
		for (r = 0; r < n_roots; r++) {
			snprintf(cand, sizeof(cand), "%s/.build-id/%.2s/%s.debug", roots[r], hex,
				 hex + 2);
			fd = try_candidate(cand, bits, id_len, 0, path);
			if (fd >= 0)
				return fd;
		}
	}
	/* A debuglink names a file, never a path. */
	if (!debuglink || !debuglink[0] || strchr(debuglink, '/') || !modname ||
	    modname[0] != '/')
		return -1;
	/* The binary's directory in its process's root: modname is the
	 * path from the root of its mount namespace, a chroot's included. */
	in_root = tid && !procfs_root_link(tid, root_link, sizeof(root_link)) ?
			  map_file_in_root(modname, root_link) : modname;
	if (!(slash = strrchr(in_root, '/')))
		return -1;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - in_root), in_root);
	for (i = 0; i < 2 + n_roots; i++) {
		if (i == 0)
			snprintf(cand, sizeof(cand), "%s%s/%s", prefix, dir, debuglink);
		else if (i == 1)
			snprintf(cand, sizeof(cand), "%s%s/.debug/%s", prefix, dir, debuglink);
		else
			snprintf(cand, sizeof(cand), "%s%s/%s", roots[i - 2], dir, debuglink);
		fd = try_candidate(cand, bits, id_len, debuglink_crc, path);
		if (fd >= 0)
			return fd;
	}
	return -1;
}

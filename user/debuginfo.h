/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Separate debuginfo of a module, found as distributions install it (the
 * build-id under DEBUGDIR/.build-id/xx/rest.debug; the .gnu_debuglink name
 * beside the file, in its .debug/, or under DEBUGDIR + its directory), for
 * the host's /usr/lib/debug and a container's own.  What libdw's
 * dwfl_standard_find_debuginfo does, but every candidate is the target's to
 * name, so each is opened without blocking (a FIFO planted there would
 * hang libdw's open, which retries on EINTR), kept only if it is a regular
 * file, and only if it is the module's: the same build-id, or for a file
 * with none, the debuglink's CRC.
 */
#ifndef LW_DEBUGINFO_H
#define LW_DEBUGINFO_H
#include <stdint.h>
#include <elfutils/libdwfl.h>

/* Bytes of a debug file read to check a debuglink CRC, at most. */
#define DEBUGINFO_CRC_MAX_BYTES (1ull << 30)

/*
 * A Dwfl_Callbacks.find_debuginfo for the modules of thread tid's process
 * (modname: the module's path as the process sees it): an open fd with
 * *path (malloc'd) set, or -1.
 */
int debuginfo_find(Dwfl_Module *mod, uint32_t tid, const char *modname, const char *debuglink,
		   GElf_Word debuglink_crc, char **path);

#endif

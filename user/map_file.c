// SPDX-License-Identifier: GPL-2.0
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "map_file.h"

bool map_file_deleted(const char *name)
{
	size_t n = strlen(name), k = strlen(" (deleted)");

	return n > k && !strcmp(name + n - k, " (deleted)");
}

const char *map_file_in_root(const char *name, const char *root_link)
{
	size_t n;

	/* "/" (no chroot) or no link: the name is already the root's. */
	if (!root_link || root_link[0] != '/' || !root_link[1])
		return name;
	n = strlen(root_link);
	while (n > 1 && root_link[n - 1] == '/')
		n--;
	if (strncmp(name, root_link, n) || name[n] != '/')
		return name;
	return name + n;
}

int map_file_candidates(const struct map_file_ref *r, const char *root_link,
			struct map_file_candidate out[MAP_FILE_WAYS])
{
	int n = 0, len;

	out[n].way = MAP_FILE_MAP_FILES;
	snprintf(out[n].path, sizeof(out[n].path), "/proc/%" PRIu32 "/map_files/%" PRIx64
		 "-%" PRIx64, r->tid, r->start, r->end);
	n++;
	if (!r->name || r->name[0] != '/' || map_file_deleted(r->name))
		return n;
	out[n].way = MAP_FILE_ROOT;
	len = snprintf(out[n].path, sizeof(out[n].path), "/proc/%" PRIu32 "/root%s", r->tid,
		       map_file_in_root(r->name, root_link));
	if (len > 0 && (size_t)len < sizeof(out[n].path))
		n++;
	out[n].way = MAP_FILE_PATH;
	len = snprintf(out[n].path, sizeof(out[n].path), "%s", r->name);
	if (len > 0 && (size_t)len < sizeof(out[n].path))
		n++;
	return n;
}

bool map_file_parse_line(char *line, uint64_t *start, uint64_t *end, uint64_t *offset,
			 uint64_t *ino, const char **path)
{
	unsigned long long s, e, off, inode;
	char *nl = strchr(line, '\n');
	int path_at = 0;

	if (!nl)
		return false;
	*nl = '\0';
	if (sscanf(line, "%llx-%llx %*s %llx %*x:%*x %llu %n", &s, &e, &off, &inode, &path_at) < 4)
		return false;
	*start = s;
	*end = e;
	*offset = off;
	*ino = inode;
	*path = path_at && line[path_at] ? line + path_at : NULL;
	return true;
}

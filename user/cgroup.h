/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A process's cgroup v2 path and what the path says about it: the container
 * (docker, containerd, cri-o, podman), the Kubernetes pod, the systemd unit.
 * Read once per process life (/proc/PID/cgroup), never on the scan path; the
 * parsing and naming are pure so that unit tests drive them.
 */
#ifndef LW_CGROUP_H
#define LW_CGROUP_H
#include <stddef.h>
#include <stdint.h>

#define LW_CGROUP_PATH_MAX 512

/* What a cgroup path names.  Strings are never NULL: "" when the path does
 * not say.  Shared by the processes in one cgroup; lives while any of them
 * is tracked. */
struct lw_cgroup {
	const char *path;      /* the v2 path, "/system.slice/docker-ID.scope"; "" unknown */
	const char *container; /* the container id (64 hex digits for docker/containerd/cri-o/podman) */
	const char *runtime;   /* who made the container: "docker", "containerd", "crio", "podman" */
	const char *pod;       /* the Kubernetes pod UID (dashes, as the API shows it) */
	const char *unit;      /* the systemd unit: "nginx.service", "session-3.scope" */
};

#define LW_CGROUP_ID_LEN 64  /* a container id: hex digits */
#define LW_CGROUP_UID_LEN 36 /* a pod UID: 8-4-4-4-12 hex digits */
#define LW_CGROUP_UNIT_MAX 256

/* The names a path gives, as cgroup_names finds them ("" if none). */
struct lw_cgroup_names {
	char container[LW_CGROUP_ID_LEN + 1];
	char runtime[16];
	char pod[LW_CGROUP_UID_LEN + 1];
	char unit[LW_CGROUP_UNIT_MAX];
};

/*
 * The v2 path in the text of /proc/PID/cgroup (len bytes, no NUL needed):
 * the one "0::PATH" line (a hybrid host has v1 lines too), " (deleted)" cut
 * off, into path.  0; -ENOENT: no v2 line; -EINVAL: two of them (a cgroup
 * name with a newline in it can forge a line) or a path not starting with
 * '/'; -ENAMETOOLONG: longer than path_len - 1.
 */
int cgroup_parse_proc(const char *text, size_t len, char *path, size_t path_len);

/* What a v2 path says: container (and runtime), pod, systemd unit. */
void cgroup_names(const char *path, struct lw_cgroup_names *out);

/*
 * The mount point of the cgroup2 file system in the text of
 * /proc/self/mountinfo (octal escapes undone), into out.  0; -ENOENT: none
 * mounted; -ENAMETOOLONG.
 */
int cgroup_mount_point(const char *text, size_t len, char *out, size_t out_len);

/*
 * --cgroup PATH as a directory: PATH itself when it is the mount point or
 * under it, else the v2 path PATH (starting with '/') under the mount.
 * 0, -EINVAL (neither), -ENAMETOOLONG.  ".." is refused: the directory
 * must stay under the mount.
 */
int cgroup_dir(const char *mount, const char *arg, char *out, size_t out_len);

/* A short name for a terminal: "docker 0123456789ab", "pod UID",
 * "nginx.service", or the path ("" for "/" or unknown). */
void cgroup_label(const struct lw_cgroup *cg, char *out, size_t out_len);

/* ---- Interning: one struct lw_cgroup per path, shared ---- */

#define LW_MAX_CGROUPS_TRACKED 4096

struct cgroup_table;

/* max 0: LW_MAX_CGROUPS_TRACKED.  -ENOMEM. */
int cgroup_table_new(size_t max, struct cgroup_table **out);
void cgroup_table_free(struct cgroup_table *t);
/* The cgroup of path, shared, with one more reference; NULL when the table
 * is full (counted) or out of memory (counted). */
const struct lw_cgroup *cgroup_table_get(struct cgroup_table *t, const char *path);
/* One reference less (cg NULL: nothing); freed at the last. */
void cgroup_table_put(struct cgroup_table *t, const struct lw_cgroup *cg);
size_t cgroup_table_len(const struct cgroup_table *t);
/* Paths not kept: the table was full, or out of memory. */
uint64_t cgroup_table_untracked(const struct cgroup_table *t);

#endif

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

#endif

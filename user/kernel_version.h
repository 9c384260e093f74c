/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The oldest kernel leakwatch runs on, and the check of a release string
 * (uname -r) against it.  The BPF side needs Linux 5.18: sched_switch's
 * prev_state argument (5.18), task_struct.__state (5.14) and the
 * bpf_task_pt_regs helper (5.15); no CO-RE fallback is cheap for the first
 * (tp_btf arguments are checked against the kernel's prototype at load).
 */
#ifndef LW_KERNEL_VERSION_H
#define LW_KERNEL_VERSION_H

#define LW_MIN_KERNEL_MAJOR 5
#define LW_MIN_KERNEL_MINOR 18

/* "6.1.0-18-amd64" -> 6, 1.  Returns 0 or -EINVAL (not "N.N..."). */
int kernel_version_parse(const char *release, unsigned int *major, unsigned int *minor);

/* Whether release is at least major.minor: 1 yes, 0 no, -EINVAL when it
 * does not parse (the caller then lets the load decide). */
int kernel_version_at_least(const char *release, unsigned int major, unsigned int minor);

#endif

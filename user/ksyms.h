/* SPDX-License-Identifier: GPL-2.0 */
/* Kernel symbols from /proc/kallsyms. */
#ifndef LW_KSYMS_H
#define LW_KSYMS_H
#include "wait_kind.h"

/* The restart_block functions that tell which wait a restart_syscall
 * resumes.  Returns 0, or -errno when /proc/kallsyms cannot be read (the
 * addresses stay 0: restarted waits then show as "restart_syscall"). */
int ksyms_restart_fns(struct lw_restart_fns *fns);

#endif

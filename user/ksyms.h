/* SPDX-License-Identifier: GPL-2.0 */
/* Kernel symbols from /proc/kallsyms, as bcc's ksyms__load does. */
#ifndef LW_KSYMS_H
#define LW_KSYMS_H
#include <stddef.h>
#include <stdint.h>
#include "wait_kind.h"

struct ksyms;

/* Loads the text symbols.  Returns 0 or -errno. */
int ksyms_load(struct ksyms **out);
void ksyms_free(struct ksyms *k);

/* "func+0xoff" for a kernel address, or "0xaddr" when unknown. */
void ksyms_format(const struct ksyms *k, uint64_t addr, char *buf, size_t len);

/* The restart_block functions that tell which wait a restart_syscall
 * resumes (0 when not found). */
void ksyms_restart_fns(const struct ksyms *k, struct lw_restart_fns *fns);

#endif

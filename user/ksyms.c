// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "ksyms.h"

int ksyms_restart_fns(struct lw_restart_fns *fns)
{
	unsigned long long addr;
	char type, name[256], line[512];
	FILE *f;

	memset(fns, 0, sizeof(*fns));
	f = fopen("/proc/kallsyms", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %255s", &addr, &type, name) != 3)
			continue;
		if (!strcmp(name, "futex_wait_restart"))
			fns->futex_wait_restart = addr;
		else if (!strcmp(name, "hrtimer_nanosleep_restart"))
			fns->hrtimer_nanosleep_restart = addr;
		else if (!strcmp(name, "do_restart_poll"))
			fns->do_restart_poll = addr;
	}
	fclose(f);
	return 0;
}

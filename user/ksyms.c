// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ksyms.h"

struct ksym {
	uint64_t addr;
	char *name;
};

struct ksyms {
	struct ksym *syms; /* sorted by address */
	size_t n, cap;
};

static int by_addr(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

void ksyms_free(struct ksyms *k)
{
	size_t i;

	if (!k)
		return;
	for (i = 0; i < k->n; i++)
		free(k->syms[i].name);
	free(k->syms);
	free(k);
}

int ksyms_load(struct ksyms **out)
{
	unsigned long long addr;
	char type, name[256], line[512];
	struct ksyms *k;
	int err = 0;
	FILE *f;

	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	f = fopen("/proc/kallsyms", "re");
	if (!f) {
		err = -errno;
		goto err_free;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %255s", &addr, &type, name) != 3)
			continue;
		/* Text only; all zero when kptr_restrict hides addresses. */
		if (!addr || (type != 't' && type != 'T' && type != 'w' && type != 'W'))
			continue;
		if (k->n == k->cap) {
			size_t cap = k->cap ? k->cap * 2 : 65536;
			struct ksym *syms = realloc(k->syms, cap * sizeof(*syms));

			if (!syms) {
				err = -ENOMEM;
				break;
			}
			k->syms = syms;
			k->cap = cap;
		}
		k->syms[k->n].addr = addr;
		k->syms[k->n].name = strdup(name);
		if (!k->syms[k->n].name) {
			err = -ENOMEM;
			break;
		}
		k->n++;
	}
	fclose(f);
	if (err)
		goto err_free;
	qsort(k->syms, k->n, sizeof(*k->syms), by_addr);
	*out = k;
	return 0;

err_free:
	ksyms_free(k);
	return err;
}

static const struct ksym *find(const struct ksyms *k, uint64_t addr)
{
	size_t lo = 0, hi = k ? k->n : 0;

	/* The last symbol at or below addr. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (k->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? &k->syms[lo - 1] : NULL;
}

void ksyms_format(const struct ksyms *k, uint64_t addr, char *buf, size_t len)
{
	const struct ksym *s = find(k, addr);

	if (s)
		snprintf(buf, len, "%s+0x%llx", s->name, (unsigned long long)(addr - s->addr));
	else
		snprintf(buf, len, "0x%llx", (unsigned long long)addr);
}

static uint64_t addr_of(const struct ksyms *k, const char *name)
{
	size_t i;

	for (i = 0; k && i < k->n; i++)
		if (!strcmp(k->syms[i].name, name))
			return k->syms[i].addr;
	return 0;
}

void ksyms_restart_fns(const struct ksyms *k, struct lw_restart_fns *fns)
{
	fns->futex_wait_restart = addr_of(k, "futex_wait_restart");
	fns->hrtimer_nanosleep_restart = addr_of(k, "hrtimer_nanosleep_restart");
	fns->do_restart_poll = addr_of(k, "do_restart_poll");
}

// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <limits.h>
#include "kernel_version.h"

/* Digits at *s into *v (no sign, no overflow); advances *s. */
static int parse_number(const char **s, unsigned int *v)
{
	unsigned long n = 0;
	const char *p = *s;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		n = n * 10 + (unsigned long)(*p - '0');
		if (n > UINT_MAX)
			return -EINVAL;
	}
	*v = (unsigned int)n;
	*s = p;
	return 0;
}

int kernel_version_parse(const char *release, unsigned int *major, unsigned int *minor)
{
	const char *p = release;
	unsigned int a, b;

	if (!p || parse_number(&p, &a) || *p++ != '.' || parse_number(&p, &b))
		return -EINVAL;
	/* What follows the minor: end, ".patch", "-flavour", "+". */
	if (*p && *p != '.' && *p != '-' && *p != '+' && *p != '_' && *p != '~')
		return -EINVAL;
	*major = a;
	*minor = b;
	return 0;
}

int kernel_version_at_least(const char *release, unsigned int major, unsigned int minor)
{
	unsigned int a, b;

	if (kernel_version_parse(release, &a, &b))
		return -EINVAL;
	return a > major || (a == major && b >= minor);
}

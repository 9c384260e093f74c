// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "duration.h"

static const struct {
	const char *suffix;
	double ns;
} units[] = {
	{ "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 }, { "m", 60e9 }, { "h", 3600e9 },
};

int duration_parse(const char *s, uint64_t *ns)
{
	double value, scale = 1e9; /* a bare number is seconds */
	char *end;
	size_t i;

	if (!s || !*s || isspace((unsigned char)*s) || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	value = strtod(s, &end);
	if (end == s || errno == ERANGE || !isfinite(value))
		return -EINVAL;
	/* strtod also takes "inf", "nan" and hex floats: only digits and '.' here. */
	for (const char *p = s; p < end; p++)
		if (!isdigit((unsigned char)*p) && *p != '.')
			return -EINVAL;
	if (*end) {
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (!strcmp(end, units[i].suffix))
				break;
		if (i == sizeof(units) / sizeof(units[0]))
			return -EINVAL;
		scale = units[i].ns;
	}
	value *= scale;
	if (value >= 18446744073709551615.0)
		return -ERANGE;
	/* llround returns a long long: from 2^63 on (already whole numbers
	 * as doubles) convert directly. */
	*ns = value < 9223372036854775808.0 ? (uint64_t)llround(value) : (uint64_t)value;
	return 0;
}

const char *duration_format(uint64_t ns, char *buf, size_t len)
{
	if (ns >= 3600000000000ULL)
		snprintf(buf, len, "%lluh%02llum", (unsigned long long)(ns / 3600000000000ULL),
			 (unsigned long long)(ns / 60000000000ULL % 60));
	else if (ns >= 60000000000ULL)
		snprintf(buf, len, "%llum%02llus", (unsigned long long)(ns / 60000000000ULL),
			 (unsigned long long)(ns / 1000000000ULL % 60));
	else if (ns >= 1000000000ULL)
		snprintf(buf, len, "%.1fs", ns / 1e9);
	else if (ns >= 1000000ULL)
		snprintf(buf, len, "%llums", (unsigned long long)(ns / 1000000ULL));
	else if (ns >= 1000ULL)
		snprintf(buf, len, "%lluus", (unsigned long long)(ns / 1000ULL));
	else
		snprintf(buf, len, "%lluns", (unsigned long long)ns);
	return buf;
}

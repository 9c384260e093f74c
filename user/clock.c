// SPDX-License-Identifier: GPL-2.0
#include <time.h>
#include "clock.h"

static uint64_t read_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t clock_mono_ns(void)
{
	return read_ns(CLOCK_MONOTONIC);
}

void clock_init(struct lw_clock *c)
{
	uint64_t mono = read_ns(CLOCK_MONOTONIC);

	c->realtime_minus_mono_ns = (int64_t)(read_ns(CLOCK_REALTIME) - mono);
}

double clock_to_unix(const struct lw_clock *c, uint64_t mono_ns)
{
	return (double)((int64_t)mono_ns + c->realtime_minus_mono_ns) / 1e9;
}

/* SPDX-License-Identifier: GPL-2.0 */
/* BPF stamps CLOCK_MONOTONIC; records carry Unix time. */
#ifndef LW_CLOCK_H
#define LW_CLOCK_H
#include <stdint.h>

struct lw_clock {
	int64_t realtime_minus_mono_ns; /* measured once at start */
};

uint64_t clock_mono_ns(void);
void clock_init(struct lw_clock *c);
/* Unix seconds of a CLOCK_MONOTONIC stamp. */
double clock_to_unix(const struct lw_clock *c, uint64_t mono_ns);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Leak policy: when a count that grows over time (threads stuck at one wait
 * site, or the threads of a process) is reported as a leak.  The trend test
 * (trend.c) says "growing" or not for one window of samples; the policy
 * asks for that verdict several scans in a row, reports again only once
 * the pile has grown markedly since, and says when an idle site may be
 * forgotten.  Plain C: no I/O, no globals, no clock.
 */
#ifndef LW_LEAK_POLICY_H
#define LW_LEAK_POLICY_H
#include <stdbool.h>
#include <stdint.h>
#include "trend.h"

/* The trend test must say growing this many scans in a row before a leak is
 * reported: it runs on overlapping windows, so one verdict alone would raise
 * false alarms on noise (trend.c's tests measure it). */
#define LEAK_STREAK 3
/* A leak is reported again once its pile is this much bigger, and by at
 * least LEAK_REPORT_AGAIN_MIN. */
#define LEAK_REPORT_AGAIN_RATIO 1.5
#define LEAK_REPORT_AGAIN_MIN 3

/* One count over time, one sample per scan. */
struct leak_series {
	struct trend *trend;
	uint32_t count;              /* the newest sample */
	unsigned int growing_streak; /* evaluations in a row that said growing */
	unsigned int unchanged;      /* samples in a row equal to the one before */
	uint32_t leak_count;         /* count when a leak was last reported; 0: never */
	double growth_per_min;       /* at the last evaluation */
	double window_s;             /* the time the evaluated samples span */
};

/* Returns 0, -EINVAL or -ENOMEM (see trend_new_shared). */
int leak_series_init(struct leak_series *s, const struct trend_opts *opts,
		     struct trend_scratch *scratch);
void leak_series_free(struct leak_series *s);

/*
 * One sample, interval_ns after the one before (0: unknown).  Returns true
 * when a leak is to be reported now (then s->leak_count is count).  A window
 * of equal samples is flat: the O(n^2) test is skipped, which is most of the
 * daemon's work on a quiet host.
 */
bool leak_series_sample(struct leak_series *s, uint32_t count, uint64_t interval_ns,
			const struct trend_opts *opts);

/* Reported as a leak at least once. */
static inline bool leak_series_leaked(const struct leak_series *s)
{
	return s->leak_count != 0;
}

/* Growing at the last evaluation, even if not for long enough yet. */
static inline bool leak_series_growing(const struct leak_series *s)
{
	return s->growing_streak != 0;
}

/*
 * The trend options for a process's thread count, from those of the sites:
 * the rises must span most of the window.  A pool grows with its load and
 * stops at its size, often over tens of seconds; a pile of stuck threads
 * has passed the stuck threshold first, a thread count has not.
 */
void leak_policy_threads_trend(const struct trend_opts *sites, struct trend_opts *out);

/*
 * A full site table makes room by forgetting a site that no waiter names
 * (refs), that had no stuck waiter for a whole trend window and that was
 * never reported as a leak (the report at the end names every leak); until
 * then sites stay, so their ids remain stable for the run.
 */
bool leak_policy_site_evictable(const struct leak_series *s, unsigned int refs,
				unsigned int window);

#endif

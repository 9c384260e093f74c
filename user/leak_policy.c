// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stddef.h>
#include "leak_policy.h"

int leak_series_init(struct leak_series *s, const struct trend_opts *opts,
		     struct trend_scratch *scratch)
{
	*s = (struct leak_series){ 0 };
	return trend_new_shared(opts, scratch, &s->trend);
}

void leak_series_free(struct leak_series *s)
{
	trend_free(s->trend);
	s->trend = NULL;
}

bool leak_series_sample(struct leak_series *s, uint32_t count, uint64_t interval_ns,
			const struct trend_opts *opts)
{
	struct trend_result tr;

	s->unchanged = count == s->count ? s->unchanged + 1 : 0;
	s->count = count;
	trend_add(s->trend, count);
	if (s->unchanged >= opts->window) {
		s->growing_streak = 0;
		s->growth_per_min = 0;
		return false;
	}
	trend_eval(s->trend, &tr);
	s->growth_per_min = interval_ns ? tr.slope_per_sample * 60e9 / (double)interval_ns : 0;
	s->window_s = (double)tr.n * (double)interval_ns / 1e9;
	s->growing_streak = tr.growing ? s->growing_streak + 1 : 0;
	if (s->growing_streak < LEAK_STREAK)
		return false;
	if (s->leak_count && (count < s->leak_count * LEAK_REPORT_AGAIN_RATIO ||
			      count < s->leak_count + LEAK_REPORT_AGAIN_MIN))
		return false;
	s->leak_count = count ? count : 1;
	return true;
}

void leak_policy_threads_trend(const struct trend_opts *sites, struct trend_opts *out)
{
	unsigned int span = sites->window - sites->window / 4;

	*out = *sites;
	if (span > out->min_span)
		out->min_span = span;
}

bool leak_policy_site_evictable(const struct leak_series *s, unsigned int refs,
				unsigned int window)
{
	return !refs && !s->count && s->unchanged >= window && !leak_series_leaked(s);
}

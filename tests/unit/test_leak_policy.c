// SPDX-License-Identifier: GPL-2.0
/* Leak policy (user/leak_policy.c): streak, re-reports, growth, eviction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>
#include "leak_policy.h"

#define SEC 1000000000ULL

struct fx {
	struct trend_opts opts;
	struct trend_scratch *scratch;
	struct leak_series s;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->opts = (struct trend_opts)TREND_OPTS_DEFAULT;
	if (trend_scratch_new(f->opts.window, &f->scratch) ||
	    leak_series_init(&f->s, &f->opts, f->scratch))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	leak_series_free(&f->s);
	trend_scratch_free(f->scratch);
	free(f);
	return 0;
}

static bool sample(struct fx *f, uint32_t count)
{
	return leak_series_sample(&f->s, count, SEC, &f->opts);
}

/* A pile that grows by one a second: one leak report, at the third growing
 * verdict in a row, with its growth per minute and the span evaluated. */
static void test_steady_growth_reports_after_the_streak(void **state)
{
	struct fx *f = *state;
	unsigned int i, first = 0, reports = 0, growing_before = 0;

	for (i = 0; i < 40; i++) {
		unsigned int was_streak = f->s.growing_streak;

		if (sample(f, i)) {
			reports++;
			if (!first) {
				first = i;
				growing_before = was_streak;
			}
		}
	}
	assert_int_not_equal(first, 0);
	assert_int_equal(growing_before, LEAK_STREAK - 1);
	assert_true(leak_series_leaked(&f->s));
	assert_float_equal(f->s.growth_per_min, 60.0, 1e-6);
	assert_float_equal(f->s.window_s, 40.0, 1e-6);
	/* Reported again as it grew by half (and by 3): first, then at 1.5x... */
	assert_true(reports >= 2);
	assert_int_equal(f->s.leak_count >= 26, 1);
}

/* Re-reports: not before the count is 1.5 times and 3 more than at the last. */
static void test_report_again_only_after_marked_growth(void **state)
{
	struct fx *f = *state;
	uint32_t last = 0, i;

	for (i = 0; i < 200; i++) {
		if (!sample(f, i))
			continue;
		if (last) {
			assert_true(i >= last * LEAK_REPORT_AGAIN_RATIO);
			assert_true(i >= last + LEAK_REPORT_AGAIN_MIN);
			/* And at the first sample that allows it. */
			assert_true(i - 1 < last * LEAK_REPORT_AGAIN_RATIO ||
				    i - 1 < last + LEAK_REPORT_AGAIN_MIN);
		}
		last = i;
	}
	assert_int_not_equal(last, 0);
}

/* A constant pool and a one-off step are no leak. */
static void test_flat_and_step_never_leak(void **state)
{
	struct fx *f = *state;
	unsigned int i;

	for (i = 0; i < 300; i++)
		assert_false(sample(f, i < 50 ? 8 : 30));
	assert_false(leak_series_leaked(&f->s));
	assert_false(leak_series_growing(&f->s));
	assert_float_equal(f->s.growth_per_min, 0.0, 1e-9);
}

/* Growth that stops: the streak ends, no more reports. */
static void test_plateau_ends_the_streak(void **state)
{
	struct fx *f = *state;
	unsigned int i, reports_after = 0;

	for (i = 0; i < 40; i++)
		sample(f, i);
	assert_true(leak_series_leaked(&f->s));
	for (i = 0; i < 200; i++)
		reports_after += sample(f, 39);
	assert_int_equal(reports_after, 0);
	assert_false(leak_series_growing(&f->s));
}

/* Without an interval there is no rate. */
static void test_unknown_interval_has_no_rate(void **state)
{
	struct fx *f = *state;
	unsigned int i;

	for (i = 0; i < 40; i++)
		leak_series_sample(&f->s, i, 0, &f->opts);
	assert_float_equal(f->s.growth_per_min, 0.0, 1e-9);
}

/* A site may be forgotten only when no waiter names it and it was idle
 * (no stuck waiter) for a whole window. */
static void test_site_evictable(void **state)
{
	struct fx *f = *state;
	unsigned int i;

	sample(f, 2);
	for (i = 0; i <= f->opts.window; i++) {
		assert_false(leak_policy_site_evictable(&f->s, 0, f->opts.window));
		sample(f, 0);
	}
	assert_true(leak_policy_site_evictable(&f->s, 0, f->opts.window));
	assert_false(leak_policy_site_evictable(&f->s, 1, f->opts.window));
	sample(f, 1);
	assert_false(leak_policy_site_evictable(&f->s, 0, f->opts.window));
}

/*
 * A site reported as a leak is never forgotten, even once its pile is gone:
 * the report at the end and the count of leaking sites name it (a full
 * table used to evict it, and the run ended with "0 leaks" and exit 1).
 */
static void test_leaked_site_not_evictable(void **state)
{
	struct fx *f = *state;
	unsigned int i;
	bool leaked = false;

	for (i = 0; i < 40; i++)
		leaked |= sample(f, i);
	assert_true(leaked);
	for (i = 0; i <= 2 * f->opts.window; i++)
		sample(f, 0);
	assert_false(leak_policy_site_evictable(&f->s, 0, f->opts.window));
}

int main(void)
{
#define P(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		P(test_steady_growth_reports_after_the_streak),
		P(test_report_again_only_after_marked_growth),
		P(test_flat_and_step_never_leak),
		P(test_plateau_ends_the_streak),
		P(test_unknown_interval_has_no_rate),
		P(test_site_evictable),
		P(test_leaked_site_not_evictable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: GPL-2.0
/* trend_new, trend_add and trend_eval (user/trend.c) on synthetic series. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>
#include "trend.h"

#define MAX_SERIES 1000

/* xorshift32: the same noise on every libc, unlike rand(). */
static uint32_t next_rand(uint32_t *state)
{
	uint32_t x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *state = x;
}

/* Uniform in -amp..amp. */
static int noise(uint32_t *state, int amp)
{
	return (int)(next_rand(state) % (uint32_t)(2 * amp + 1)) - amp;
}

static struct trend *new_trend(const struct trend_opts *o)
{
	struct trend *t = NULL;

	assert_int_equal(trend_new(o, &t), 0);
	assert_non_null(t);
	return t;
}

/* Feeds x[0..n) to a trend with the default options, evaluates once, frees it. */
static struct trend_result eval_series(const uint32_t *x, size_t n)
{
	struct trend_opts o = TREND_OPTS_DEFAULT;
	struct trend *t = new_trend(&o);
	struct trend_result r;
	size_t i;

	for (i = 0; i < n; i++)
		trend_add(t, x[i]);
	trend_eval(t, &r);
	trend_free(t);
	return r;
}

/* A macro, so that a failure names the caller's line and prints the result. */
#define expect_verdict(r, want)                                                            \
	do {                                                                               \
		const struct trend_result *r_ = &(r);                                      \
		if (r_->verdict != (want))                                                 \
			print_error("verdict %s, want %s: n %u z %.3f slope %.4f start %u " \
				    "now %u rises %u since_rise %u\n",                     \
				    trend_verdict_name(r_->verdict),                       \
				    trend_verdict_name(want), r_->n, r_->z,                \
				    r_->slope_per_sample, r_->start, r_->now, r_->rises,   \
				    r_->since_rise);                                       \
		assert_int_equal(r_->verdict, (want));                                     \
		assert_int_equal(r_->growing, (want) == TREND_GROWING);                    \
	} while (0)

#define assert_near(got, want, tol)                                                     \
	do {                                                                            \
		double g_ = (got), w_ = (want);                                         \
		if (!(fabs(g_ - w_) <= (tol)))                                          \
			print_error("%s = %.6f, want %.6f +- %g\n", #got, g_, w_, (double)(tol)); \
		assert_true(fabs(g_ - w_) <= (tol));                                    \
	} while (0)

/* 1..5: S = 10, var = 5*4*15/18, z = (10 - 1)/sqrt(var) = 2.205, slope 1. */
static void test_hand_computed_increasing(void **state)
{
	static const uint32_t x[] = { 1, 2, 3, 4, 5 };
	struct trend_result r = eval_series(x, 5);

	(void)state;
	assert_int_equal(r.n, 5);
	assert_int_equal(r.s, 10);
	assert_near(r.var, 300.0 / 18, 1e-9);
	assert_near(r.z, 9 / sqrt(300.0 / 18), 1e-9);
	assert_near(r.z, 2.2045, 1e-4);
	assert_near(r.slope_per_sample, 1, 1e-12);
	assert_int_equal(r.start, 1);
	assert_int_equal(r.now, 5);
	assert_int_equal(r.rises, 4);
	assert_int_equal(r.since_rise, 0);
	/* Significant at p < 0.05 but not 0.01, and far fewer samples than min_span. */
	expect_verdict(r, TREND_FEW_SAMPLES);
}

static void test_hand_computed_decreasing(void **state)
{
	static const uint32_t x[] = { 5, 4, 3, 2, 1 };
	struct trend_result r = eval_series(x, 5);

	(void)state;
	assert_int_equal(r.s, -10);
	assert_near(r.z, -2.2045, 1e-4); /* the continuity correction goes toward 0 */
	assert_near(r.slope_per_sample, -1, 1e-12);
	assert_int_equal(r.start, 1);
	assert_int_equal(r.rises, 0);
	assert_int_equal(r.since_rise, 5);
}

/*
 * 1,2,2,3: pairs + + + 0 + +, S = 5; one tie group of 2 takes 2*1*9 off:
 * var = (4*3*13 - 18)/18 = 7.667, z = 4/sqrt(7.667) = 1.4446.  Slopes
 * 0, 1/2, 1/2, 2/3, 1, 1: an even count, the median is (1/2 + 2/3)/2.
 */
static void test_hand_computed_ties(void **state)
{
	static const uint32_t x[] = { 1, 2, 2, 3 };
	struct trend_result r = eval_series(x, 4);

	(void)state;
	assert_int_equal(r.s, 5);
	assert_near(r.var, 138.0 / 18, 1e-9);
	assert_near(r.z, 4 / sqrt(138.0 / 18), 1e-9);
	assert_near(r.slope_per_sample, (0.5 + 2.0 / 3) / 2, 1e-12);
	assert_int_equal(r.rises, 2);
}

/* Three tie groups (2, 3 and 1 samples), and an odd number of slopes (15). */
static void test_hand_computed_tie_groups(void **state)
{
	static const uint32_t x[] = { 4, 4, 7, 7, 7, 5 };
	struct trend_result r = eval_series(x, 6);

	(void)state;
	/*
	 * + : 4<7 six times, 4<5 twice = 8; - : 7>5 three times = 3; S = 5.
	 * 18 var = 6*5*17 - 2*1*9 - 3*2*11 = 510 - 18 - 66 = 426.
	 */
	assert_int_equal(r.s, 5);
	assert_near(r.var, 426.0 / 18, 1e-9);
	assert_near(r.z, 4 / sqrt(426.0 / 18), 1e-9);
	/*
	 * Slopes, sorted: -2 -1 -2/3 0 0 0 0 1/5 1/4 3/4 1 1 3/2 3/2 3; the 8th
	 * is 1/5 (5 over 4, five samples apart).
	 */
	assert_near(r.slope_per_sample, 0.2, 1e-12);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The quickselect against a full sort, on short series full of ties, odd and even counts. */
static void test_slope_is_the_sorted_median(void **state)
{
	static double slopes[40 * 39 / 2];
	uint32_t x[40], rng = 99;
	size_t n, i, j, m, round;
	double want;

	(void)state;
	for (round = 0; round < 20; round++) {
		for (n = 2; n <= 40; n++) {
			for (i = 0; i < n; i++)
				x[i] = next_rand(&rng) % (round % 2 ? 4 : 50);
			for (m = 0, j = 1; j < n; j++)
				for (i = 0; i < j; i++)
					slopes[m++] = ((double)x[j] - x[i]) / (j - i);
			qsort(slopes, m, sizeof(slopes[0]), cmp_double);
			want = m % 2 ? slopes[m / 2] : (slopes[m / 2 - 1] + slopes[m / 2]) / 2;
			assert_near(eval_series(x, n).slope_per_sample, want, 1e-12);
		}
	}
}

static void test_empty_and_single_sample(void **state)
{
	struct trend_opts o = TREND_OPTS_DEFAULT;
	struct trend *t = new_trend(&o);
	struct trend_result r;

	(void)state;
	trend_eval(t, &r);
	assert_int_equal(r.n, 0);
	assert_int_equal(r.s, 0);
	assert_near(r.z, 0, 0);
	expect_verdict(r, TREND_FEW_SAMPLES);

	trend_add(t, 7);
	trend_eval(t, &r);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.start, 7);
	assert_int_equal(r.now, 7);
	assert_near(r.slope_per_sample, 0, 0);
	expect_verdict(r, TREND_FEW_SAMPLES);
	trend_free(t);
}

static void test_flat(void **state)
{
	uint32_t x[120];
	struct trend_result r;
	size_t i;

	(void)state;
	for (i = 0; i < 120; i++)
		x[i] = 8;
	r = eval_series(x, 120);
	assert_int_equal(r.s, 0);
	assert_near(r.var, 0, 1e-9); /* one tie group: no variance at all */
	assert_near(r.z, 0, 0);
	assert_near(r.slope_per_sample, 0, 0);
	assert_int_equal(r.rises, 0);
	expect_verdict(r, TREND_NOT_SIGNIFICANT);
}

static void test_noisy_flat(void **state)
{
	uint32_t x[120], seed = 42;
	struct trend_result r;
	size_t i;

	(void)state;
	for (i = 0; i < 120; i++)
		x[i] = 8 + noise(&seed, 1);
	r = eval_series(x, 120);
	assert_true(fabs(r.z) < 2.326);
	assert_true(r.rises > 20); /* noise rises everywhere: only the statistics can tell */
	assert_false(r.growing);
}

/*
 * Evaluated after every sample, as the daemon does.  With +-1 the window's
 * spread is under min_growth, so noise never grows.  With +-2 only the test
 * stands in the way, and a test at p < 0.01 is wrong about 1% of the time:
 * at most that many evaluations may grow.
 */
static void test_noise_streamed(void **state)
{
	struct trend_opts o = TREND_OPTS_DEFAULT;
	int amp, i, seed, growing, evals;

	(void)state;
	for (amp = 1; amp <= 2; amp++) {
		growing = evals = 0;
		for (seed = 1; seed <= 5; seed++) {
			struct trend *t = new_trend(&o);
			uint32_t rng = (uint32_t)seed * 2654435761u;

			for (i = 0; i < 600; i++) {
				struct trend_result r;

				trend_add(t, 8 + noise(&rng, amp));
				trend_eval(t, &r);
				growing += r.growing;
				evals++;
			}
			trend_free(t);
		}
		if (amp == 1)
			assert_int_equal(growing, 0);
		else
			assert_true(growing * 100 <= evals);
	}
}

/* 0 then 20 forever: a significant trend, but one rise is a step, not a leak. */
static void test_single_step(void **state)
{
	uint32_t x[120];
	struct trend_result r;
	size_t i, step;

	(void)state;
	for (step = 10; step < 120; step += 50) {
		for (i = 0; i < 120; i++)
			x[i] = i < step ? 0 : 20;
		r = eval_series(x, 120);
		assert_true(r.z > 2.326);
		assert_int_equal(r.rises, 1);
		assert_false(r.growing);
	}
	/* In the middle, most pairs straddle the step: even the slope is positive. */
	for (i = 0; i < 120; i++)
		x[i] = i < 60 ? 0 : 20;
	r = eval_series(x, 120);
	assert_true(r.slope_per_sample > 0);
	expect_verdict(r, TREND_NOT_SPREAD);
}

/* A pool warming up (a JVM starting its threads), then steady. */
static void test_startup_ramp_then_flat(void **state)
{
	static const uint32_t ramp[] = { 0, 0, 3, 7, 12, 16, 20 };
	uint32_t x[37];
	struct trend_result r;
	size_t i;

	(void)state;
	for (i = 0; i < 37; i++)
		x[i] = i < 7 ? ramp[i] : 20;
	r = eval_series(x, 37);
	assert_int_equal(r.rises, 5);
	assert_int_equal(r.since_rise, 30);
	assert_false(r.growing);
}

/* One more stuck thread every 5 samples over 100 samples. */
static void test_slow_growth(void **state)
{
	uint32_t x[100];
	struct trend_result r;
	size_t i;

	(void)state;
	for (i = 0; i < 100; i++)
		x[i] = i / 5;
	r = eval_series(x, 100);
	expect_verdict(r, TREND_GROWING);
	assert_near(r.slope_per_sample, 0.2, 0.01);
	assert_int_equal(r.start, 0);
	assert_int_equal(r.now, 19);
	assert_int_equal(r.rises, 19);
	assert_true(r.z > 10);
}

static void test_fast_growth(void **state)
{
	uint32_t x[20];
	struct trend_result r;
	size_t i;

	(void)state;
	for (i = 0; i < 20; i++)
		x[i] = i;
	r = eval_series(x, 20);
	expect_verdict(r, TREND_GROWING);
	assert_near(r.slope_per_sample, 1, 1e-12);
	assert_int_equal(r.s, 190);
}

/* 0 -> 30 over 60 samples, then flat: growing until the floor of the last
 * quarter of the window is no higher than that of the quarter before. */
static void test_growth_then_plateau(void **state)
{
	struct trend_opts o = TREND_OPTS_DEFAULT;
	struct trend *t = new_trend(&o);
	struct trend_result r;
	unsigned int i;

	(void)state;
	for (i = 0; i <= 60; i++)
		trend_add(t, i / 2); /* the last rise is sample 60 */
	trend_eval(t, &r);
	expect_verdict(r, TREND_GROWING);
	for (i = 0; i < 5; i++)
		trend_add(t, 30);
	trend_eval(t, &r);
	expect_verdict(r, TREND_GROWING); /* too soon to tell */
	for (i = 5; i < 59; i++)
		trend_add(t, 30);
	trend_eval(t, &r);
	assert_int_equal(r.n, 120);
	assert_true(r.z > 2.326); /* still a strong trend over the window */
	expect_verdict(r, TREND_PLATEAU);
	trend_free(t);
}

/* The same plateau with +-1 noise: sample-to-sample rises go on, the floor
 * does not rise.  Once it has lasted a window, never growing for 3
 * evaluations in a row (what the tracker asks before it reports a leak). */
static void test_noisy_plateau(void **state)
{
	struct trend_opts o = TREND_OPTS_DEFAULT;
	struct trend *t = new_trend(&o);
	struct trend_result r;
	unsigned int i, seed = 7, streak = 0, longest = 0;

	(void)state;
	for (i = 0; i <= 60; i++)
		trend_add(t, i / 2);
	for (i = 0; i < 400; i++) {
		trend_add(t, 30 + (unsigned int)(rand_r(&seed) % 3) - 1);
		trend_eval(t, &r);
		if (i < o.window)
			continue;
		streak = r.growing ? streak + 1 : 0;
		longest = streak > longest ? streak : longest;
	}
	assert_true(longest < 3);
	trend_free(t);
}

/* A leak under noise: one every 4 samples, +-2 on top: flagged at nearly
 * every evaluation, never missed 3 times in a row. */
static void test_noisy_growth(void **state)
{
	struct trend_opts o = TREND_OPTS_DEFAULT;
	struct trend *t = new_trend(&o);
	struct trend_result r;
	uint32_t rng = 7;
	int i, v, missed = 0, streak = 0, longest = 0;

	(void)state;
	for (i = 0; i < 300; i++) {
		v = 5 + i / 4 + noise(&rng, 2);
		trend_add(t, (uint32_t)v);
		trend_eval(t, &r);
		if (i < 40)
			continue;
		missed += !r.growing;
		streak = r.growing ? 0 : streak + 1;
		longest = streak > longest ? streak : longest;
	}
	assert_true(missed * 20 <= 260); /* at least 95% flagged */
	assert_true(longest < 3);
	assert_int_equal(r.n, 120);
	assert_near(r.slope_per_sample, 0.25, 0.03);
	trend_free(t);
}

/*
 * A fast leak that starts after a long flat stretch: Mann-Kendall sees it at
 * once, but the Theil-Sen slope stays 0 while the flat pairs are the
 * majority, that is until the growth fills about 1 - 1/sqrt(2) = 29% of the
 * window (35 of 120 samples), whatever its rate.
 */
static void test_onset_after_long_flat(void **state)
{
	struct trend_opts o = TREND_OPTS_DEFAULT;
	struct trend *t = new_trend(&o);
	struct trend_result r;
	unsigned int i;

	(void)state;
	for (i = 0; i < 200; i++)
		trend_add(t, 0);
	for (i = 1; i <= 20; i++)
		trend_add(t, i);
	trend_eval(t, &r);
	assert_true(r.z > 2.326);
	assert_near(r.slope_per_sample, 0, 0);
	expect_verdict(r, TREND_NO_SLOPE);
	for (; i <= 34; i++)
		trend_add(t, i);
	trend_eval(t, &r);
	expect_verdict(r, TREND_NO_SLOPE);
	trend_add(t, i);
	trend_eval(t, &r);
	expect_verdict(r, TREND_GROWING);
	trend_free(t);
}

/* One burst of transiently stuck threads does not hide a leak or skew its rate. */
static void test_outliers_do_not_matter(void **state)
{
	uint32_t x[100];
	struct trend_result r;
	size_t i;

	(void)state;
	for (i = 0; i < 100; i++)
		x[i] = i / 5;
	x[50] = 1000;
	x[51] = 0;
	x[80] = 500;
	r = eval_series(x, 100);
	expect_verdict(r, TREND_GROWING);
	assert_near(r.slope_per_sample, 0.2, 0.01);
}

static void test_decrease(void **state)
{
	uint32_t x[120];
	struct trend_result r;
	size_t i;

	(void)state;
	for (i = 0; i < 120; i++)
		x[i] = 40 - i / 3;
	r = eval_series(x, 120);
	assert_true(r.z < -2.326);
	assert_true(r.slope_per_sample < 0);
	expect_verdict(r, TREND_NOT_SIGNIFICANT);
}

/* 0, ..., 1, ..., 2: significant and upward, but two threads are not a leak yet. */
static void test_too_small_growth(void **state)
{
	uint32_t x[120];
	struct trend_result r;
	size_t i;

	(void)state;
	for (i = 0; i < 120; i++)
		x[i] = i / 40;
	r = eval_series(x, 120);
	assert_true(r.z > 2.326);
	assert_true(r.slope_per_sample > 0);
	assert_int_equal(r.now - r.start, 2);
	expect_verdict(r, TREND_SMALL_GROWTH);
}

/* Growth in every sample, but over fewer samples than min_span (10) and up to it. */
static void test_fewer_samples_than_min_span(void **state)
{
	uint32_t x[12];
	struct trend_result r;
	size_t i;

	(void)state;
	for (i = 0; i < 12; i++)
		x[i] = i;
	r = eval_series(x, 10);
	assert_true(r.z > 2.326);
	expect_verdict(r, TREND_FEW_SAMPLES);
	r = eval_series(x, 11); /* rises at 1..10: nine samples apart */
	expect_verdict(r, TREND_NOT_SPREAD);
	r = eval_series(x, 12); /* rises at 1..11: ten apart */
	expect_verdict(r, TREND_GROWING);
}

/* Three rises far apart are enough, and so is a growth of exactly min_growth; two are not. */
static void test_three_rises_needed(void **state)
{
	uint32_t x[60];
	struct trend_result r;
	size_t i;

	(void)state;
	for (i = 0; i < 60; i++)
		x[i] = i < 20 ? 0 : i < 40 ? 1 : i < 55 ? 2 : 3;
	r = eval_series(x, 60);
	assert_int_equal(r.rises, 3);
	assert_int_equal(r.now - r.start, 3);
	expect_verdict(r, TREND_GROWING);
	for (i = 0; i < 60; i++)
		x[i] = i < 20 ? 0 : i < 55 ? 3 : 6;
	r = eval_series(x, 60);
	assert_int_equal(r.rises, 2);
	expect_verdict(r, TREND_NOT_SPREAD);
}

/* start is the lowest count, not the first: a window opening on a spike. */
static void test_start_is_the_minimum(void **state)
{
	uint32_t x[60];
	struct trend_result r;
	size_t i;

	(void)state;
	for (i = 0; i < 60; i++)
		x[i] = 10 + i / 10;
	x[0] = 40;
	r = eval_series(x, 60);
	assert_int_equal(r.start, 10);
	assert_int_equal(r.now, 15);
	expect_verdict(r, TREND_GROWING);
}

/* 500 samples in a window of 120: only the newest 120 count. */
static void test_ring_wraps(void **state)
{
	struct trend_opts o = TREND_OPTS_DEFAULT;
	struct trend *t = new_trend(&o);
	struct trend_result r;
	unsigned int i;

	(void)state;
	/* A leak that stopped 120 samples ago has left the window: flat. */
	for (i = 0; i < 380; i++)
		trend_add(t, i);
	for (i = 0; i < 120; i++)
		trend_add(t, 379);
	trend_eval(t, &r);
	assert_int_equal(r.n, 120);
	assert_int_equal(r.start, 379);
	assert_int_equal(r.s, 0);
	expect_verdict(r, TREND_NOT_SIGNIFICANT);

	/* And a fall from 1000 that is out of the window does not hide new growth. */
	for (i = 0; i < 380; i++)
		trend_add(t, 1000);
	for (i = 0; i < 120; i++)
		trend_add(t, i / 4);
	trend_eval(t, &r);
	assert_int_equal(r.n, 120);
	assert_int_equal(r.start, 0);
	assert_int_equal(r.now, 29);
	assert_near(r.slope_per_sample, 0.25, 0.01);
	expect_verdict(r, TREND_GROWING);

	/* One more sample: the oldest (0) drops out, the window slides by one. */
	trend_add(t, 30);
	trend_eval(t, &r);
	assert_int_equal(r.n, 120);
	assert_int_equal(r.start, 0); /* samples 1..3 of the ramp are 0 too */
	for (i = 0; i < 3; i++)
		trend_add(t, 30);
	trend_eval(t, &r);
	assert_int_equal(r.start, 1);
	trend_free(t);
}

/* The largest window: every slope buffer and index is used to the end. */
static void test_max_window(void **state)
{
	struct trend_opts o = TREND_OPTS_DEFAULT;
	struct trend *t;
	struct trend_result r;
	unsigned int i;

	(void)state;
	o.window = TREND_MAX_WINDOW;
	t = new_trend(&o);
	for (i = 0; i < TREND_MAX_WINDOW + 10; i++)
		trend_add(t, i / 8);
	trend_eval(t, &r);
	assert_int_equal(r.n, TREND_MAX_WINDOW);
	assert_near(r.slope_per_sample, 0.125, 0.005);
	expect_verdict(r, TREND_GROWING);
	trend_free(t);
}

static void test_new_rejects_bad_opts(void **state)
{
	const struct trend_opts good = TREND_OPTS_DEFAULT;
	struct trend_opts o;
	struct trend *t = NULL;

	(void)state;
#define expect_einval(field, value)                                  \
	do {                                                         \
		o = good;                                            \
		o.field = (value);                                   \
		assert_int_equal(trend_new(&o, &t), -EINVAL);        \
		assert_null(t);                                      \
	} while (0)
	expect_einval(window, 0);
	expect_einval(window, 3);
	expect_einval(window, TREND_MAX_WINDOW + 1);
	expect_einval(min_span, good.window);
	expect_einval(recent, 0);
	expect_einval(recent, good.window + 1);
	expect_einval(z_crit, -1);
	expect_einval(z_crit, NAN);
	expect_einval(z_crit, INFINITY);
#undef expect_einval
	o = good;
	o.window = 4;
	o.min_span = 3;
	o.recent = 4;
	assert_int_equal(trend_new(&o, &t), 0);
	trend_free(t);
	trend_free(NULL);
}

static void test_verdict_names(void **state)
{
	int v, w;

	(void)state;
	for (v = TREND_GROWING; v <= TREND_PLATEAU; v++) {
		assert_string_not_equal(trend_verdict_name(v), "?");
		for (w = TREND_GROWING; w < v; w++)
			assert_string_not_equal(trend_verdict_name(v), trend_verdict_name(w));
	}
	assert_string_equal(trend_verdict_name(TREND_PLATEAU), "plateau");
	assert_string_equal(trend_verdict_name((enum trend_verdict)99), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hand_computed_increasing),
		cmocka_unit_test(test_hand_computed_decreasing),
		cmocka_unit_test(test_hand_computed_ties),
		cmocka_unit_test(test_hand_computed_tie_groups),
		cmocka_unit_test(test_slope_is_the_sorted_median),
		cmocka_unit_test(test_empty_and_single_sample),
		cmocka_unit_test(test_flat),
		cmocka_unit_test(test_noisy_flat),
		cmocka_unit_test(test_noise_streamed),
		cmocka_unit_test(test_single_step),
		cmocka_unit_test(test_startup_ramp_then_flat),
		cmocka_unit_test(test_slow_growth),
		cmocka_unit_test(test_fast_growth),
		cmocka_unit_test(test_growth_then_plateau),
		cmocka_unit_test(test_noisy_plateau),
		cmocka_unit_test(test_noisy_growth),
		cmocka_unit_test(test_onset_after_long_flat),
		cmocka_unit_test(test_outliers_do_not_matter),
		cmocka_unit_test(test_decrease),
		cmocka_unit_test(test_too_small_growth),
		cmocka_unit_test(test_fewer_samples_than_min_span),
		cmocka_unit_test(test_three_rises_needed),
		cmocka_unit_test(test_start_is_the_minimum),
		cmocka_unit_test(test_ring_wraps),
		cmocka_unit_test(test_max_window),
		cmocka_unit_test(test_new_rejects_bad_opts),
		cmocka_unit_test(test_verdict_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

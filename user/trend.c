// SPDX-License-Identifier: GPL-2.0
/*
 * Why Mann-Kendall and Theil-Sen: both look only at the order of pairs of
 * samples, not at their values, so one burst of transiently stuck threads
 * (an outlier) moves them by a pair count, not by its size; they assume
 * neither a linear trend nor normal noise, only a monotonic one; and the
 * Mann-Kendall variance has an exact correction for ties, which matter here
 * because counts are small integers that repeat for long stretches.
 * Least squares has none of this: one spike of 50 tilts the line.  Both cost
 * O(n^2) pairs, about 7000 for two minutes of samples, which is nothing
 * once per interval for n up to a few hundred.
 *
 * The statistics alone are not enough: a single step (0, then 20 forever)
 * is a significant monotonic trend, and so is a pile that grew and stopped.
 * A leak keeps adding threads, so the rises must also be spread over time
 * and still happening.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "trend.h"

/* Scratch for trend_eval, sized once so that evaluation never allocates. */
struct trend_scratch {
	unsigned int window;
	uint32_t *lin;  /* the samples, oldest first */
	double *slopes; /* window * (window - 1) / 2 pairwise slopes */
};

struct trend {
	struct trend_opts opts;
	unsigned int head; /* where the next sample goes */
	unsigned int len;  /* samples held, up to window */
	uint32_t *ring;
	struct trend_scratch *scratch;
	bool own_scratch;
};

int trend_scratch_new(unsigned int window, struct trend_scratch **out)
{
	struct trend_scratch *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->window = window;
	s->lin = calloc(window, sizeof(*s->lin));
	s->slopes = calloc((size_t)window * (window - 1) / 2 + 1, sizeof(*s->slopes));
	if (!s->lin || !s->slopes) {
		trend_scratch_free(s);
		return -ENOMEM;
	}
	*out = s;
	return 0;
}

void trend_scratch_free(struct trend_scratch *s)
{
	if (!s)
		return;
	free(s->lin);
	free(s->slopes);
	free(s);
}

int trend_new_shared(const struct trend_opts *o, struct trend_scratch *scratch,
		     struct trend **out)
{
	struct trend *t;
	int err;

	if (o->window < 4 || o->window > TREND_MAX_WINDOW || o->min_span >= o->window ||
	    !o->recent || o->recent > o->window || !isfinite(o->z_crit) || o->z_crit < 0 ||
	    (scratch && scratch->window < o->window))
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->opts = *o;
	t->ring = calloc(o->window, sizeof(*t->ring));
	if (!t->ring) {
		trend_free(t);
		return -ENOMEM;
	}
	t->scratch = scratch;
	if (!scratch) {
		err = trend_scratch_new(o->window, &t->scratch);
		if (err) {
			trend_free(t);
			return err;
		}
		t->own_scratch = true;
	}
	*out = t;
	return 0;
}

int trend_new(const struct trend_opts *o, struct trend **out)
{
	return trend_new_shared(o, NULL, out);
}

void trend_free(struct trend *t)
{
	if (!t)
		return;
	free(t->ring);
	if (t->own_scratch)
		trend_scratch_free(t->scratch);
	free(t);
}

void trend_add(struct trend *t, uint32_t count)
{
	t->ring[t->head] = count;
	if (++t->head == t->opts.window)
		t->head = 0;
	if (t->len < t->opts.window)
		t->len++;
}

static void swap(double *a, long i, long j)
{
	double tmp = a[i];

	a[i] = a[j];
	a[j] = tmp;
}

static double median3(double a, double b, double c)
{
	if (a < b)
		return b < c ? b : (a < c ? c : a);
	return a < c ? a : (b < c ? c : b);
}

/*
 * The k-th smallest of a[0..n), reordering a so that a[k+1..n) >= a[k].
 * Quickselect with a three-way partition: runs of equal slopes (most of
 * them, for flat stretches) end up in the middle band in one pass instead
 * of degrading to quadratic time.
 */
static double select_kth(double *a, long n, long k)
{
	long lo = 0, hi = n - 1;

	while (lo < hi) {
		double p = median3(a[lo], a[lo + (hi - lo) / 2], a[hi]);
		long lt = lo, i = lo, gt = hi;

		/* a[lo..lt) < p, a[lt..i) == p, a(gt..hi] > p */
		while (i <= gt) {
			if (a[i] < p)
				swap(a, lt++, i++);
			else if (a[i] > p)
				swap(a, i, gt--);
			else
				i++;
		}
		if (k < lt)
			hi = lt - 1;
		else if (k > gt)
			lo = gt + 1;
		else
			return p;
	}
	return a[k];
}

static double median(double *a, long n)
{
	long k = (n - 1) / 2;
	double lower = select_kth(a, n, k), upper;
	long i;

	if (n % 2)
		return lower;
	/* Even: the next order statistic is the least of what select_kth left above k. */
	upper = a[k + 1];
	for (i = k + 2; i < n; i++)
		if (a[i] < upper)
			upper = a[i];
	return (lower + upper) / 2;
}

/*
 * Still rising: the lowest of the last `recent` samples (a quarter of the
 * window, at least opts.recent) is above the lowest of the `recent` before.  A sample-to-sample rise is not enough: with
 * noise, a plateau has one in almost every stretch; a floor that keeps going
 * up is a pile that keeps growing, and a lone spike does not move a minimum.
 */
static bool recent_min_higher(const uint32_t *x, unsigned int n, unsigned int recent)
{
	uint32_t last = UINT32_MAX, before = UINT32_MAX;
	unsigned int i;

	for (i = n - 2 * recent; i < n - recent; i++)
		before = x[i] < before ? x[i] : before;
	for (; i < n; i++)
		last = x[i] < last ? x[i] : last;
	return last > before;
}

void trend_eval(const struct trend *t, struct trend_result *r)
{
	const struct trend_opts *o = &t->opts;
	unsigned int n = t->len, oldest = (t->head + o->window - n) % o->window;
	unsigned int i, j, first_rise = 0, last_rise = 0;
	uint32_t *x = t->scratch->lin;
	/* A quarter of the window at least: a slow leak rises less often. */
	unsigned int recent = o->recent > n / 4 ? o->recent : n / 4;
	double ties = 0;
	long m = 0;

	memset(r, 0, sizeof(*r));
	r->n = n;
	r->verdict = TREND_FEW_SAMPLES;
	if (!n)
		return;
	for (i = 0; i < n; i++)
		x[i] = t->ring[(oldest + i) % o->window];

	r->start = r->now = x[n - 1];
	for (j = 0; j < n; j++) {
		unsigned int tied = 0; /* earlier samples equal to x[j] */

		if (x[j] < r->start)
			r->start = x[j];
		if (j && x[j] > x[j - 1]) {
			if (!r->rises++)
				first_rise = j;
			last_rise = j;
		}
		for (i = 0; i < j; i++) {
			double d = (double)x[j] - (double)x[i];

			r->s += (d > 0) - (d < 0);
			tied += d == 0;
			t->scratch->slopes[m++] = d / (j - i);
		}
		/*
		 * A group of g equal samples takes g(g-1)(2g+5) off 18 var(S); its
		 * (c+1)-th member adds 6c(c+2) to that, so no tie table is needed.
		 */
		ties += 6.0 * tied * (tied + 2);
	}
	r->var = ((double)n * (n - 1) * (2.0 * n + 5) - ties) / 18;
	/* Continuity correction: S is discrete, the normal it is compared with is not. */
	if (r->var > 0 && r->s)
		r->z = (r->s - (r->s > 0 ? 1 : -1)) / sqrt(r->var);
	if (m)
		r->slope_per_sample = median(t->scratch->slopes, m);
	r->since_rise = r->rises ? n - 1 - last_rise : n;

	if (n <= o->min_span || n < 4)
		r->verdict = TREND_FEW_SAMPLES;
	else if (r->z < o->z_crit)
		r->verdict = TREND_NOT_SIGNIFICANT;
	else if (r->slope_per_sample <= 0)
		r->verdict = TREND_NO_SLOPE;
	else if (r->now - r->start < o->min_growth)
		r->verdict = TREND_SMALL_GROWTH;
	else if (r->rises < 3 || last_rise - first_rise < o->min_span)
		r->verdict = TREND_NOT_SPREAD;
	else if (n >= 2 * recent ? !recent_min_higher(x, n, recent) : r->since_rise >= recent)
		r->verdict = TREND_PLATEAU;
	else
		r->verdict = TREND_GROWING;
	r->growing = r->verdict == TREND_GROWING;
}

const char *trend_verdict_name(enum trend_verdict v)
{
	switch (v) {
	case TREND_GROWING:
		return "growing";
	case TREND_FEW_SAMPLES:
		return "few samples";
	case TREND_NOT_SIGNIFICANT:
		return "not significant";
	case TREND_NO_SLOPE:
		return "no slope";
	case TREND_SMALL_GROWTH:
		return "small growth";
	case TREND_NOT_SPREAD:
		return "not spread";
	case TREND_PLATEAU:
		return "plateau";
	}
	return "?";
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Leak trends: is the count of stuck threads at one wait site still growing?
 * A struct trend keeps the last `window` counts, one per interval; trend_eval
 * runs a Mann-Kendall test and a Theil-Sen slope over them, then the shape
 * checks that tell a leak from noise, a one-off step and a plateau.
 * Plain C: no libbpf, no globals, no I/O.
 */
#ifndef LW_TREND_H
#define LW_TREND_H
#include <stdbool.h>
#include <stdint.h>

/* trend_eval keeps every pairwise slope: 1024 samples is 4 MiB of them. */
#define TREND_MAX_WINDOW 1024

struct trend_opts {
	unsigned int window;     /* samples kept, 4..TREND_MAX_WINDOW */
	unsigned int min_growth; /* now - start must reach this */
	unsigned int min_span;   /* samples from the first to the last rise; < window */
	unsigned int recent;     /* still rising: the floor of the last max(recent, n/4)
				  * samples is above the floor of as many before; 1..window */
	double z_crit;           /* one-sided Mann-Kendall critical z: 2.326 is p < 0.01 */
};

/* With one sample a second: two minutes of history. */
#define TREND_OPTS_DEFAULT \
	{ .window = 120, .min_growth = 3, .min_span = 10, .recent = 10, .z_crit = 2.326 }

/* Why a series is, or is not, growing: the first check it failed, in this order. */
enum trend_verdict {
	TREND_GROWING,
	TREND_FEW_SAMPLES,     /* n <= min_span, or n < 4: no room for a spread rise */
	TREND_NOT_SIGNIFICANT, /* z < z_crit */
	TREND_NO_SLOPE,        /* Theil-Sen slope <= 0 */
	TREND_SMALL_GROWTH,    /* now - start < min_growth */
	TREND_NOT_SPREAD,      /* fewer than 3 rises, or first to last < min_span: a step */
	TREND_PLATEAU,         /* the floor stopped rising (see trend_opts.recent) */
};

struct trend_result {
	bool growing;
	enum trend_verdict verdict;
	double z;                /* Mann-Kendall z, continuity corrected; 0 when S = 0 */
	long s;                  /* Mann-Kendall S: concordant minus discordant pairs */
	double var;              /* variance of S, tie corrected */
	double slope_per_sample; /* Theil-Sen: median of the pairwise slopes */
	uint32_t start;          /* the lowest count in the window: the base of the rise */
	uint32_t now;            /* the newest count */
	unsigned int n;          /* samples in the window */
	unsigned int rises;      /* samples higher than the one before */
	unsigned int since_rise; /* samples since the last rise (0: the newest); n if none */
};

struct trend;
/* trend_eval's working memory (57 KiB at window 120): one per trend, or one
 * shared by every trend that is never evaluated concurrently. */
struct trend_scratch;

int trend_scratch_new(unsigned int window, struct trend_scratch **out);
void trend_scratch_free(struct trend_scratch *s);

/* Returns 0, -EINVAL (opts out of range) or -ENOMEM.  trend_new gives the
 * trend a scratch of its own; trend_new_shared uses scratch, which must hold
 * at least opts->window samples and outlive the trend. */
int trend_new(const struct trend_opts *opts, struct trend **out);
int trend_new_shared(const struct trend_opts *opts, struct trend_scratch *scratch,
		     struct trend **out);
void trend_free(struct trend *t);

/* One sample per interval; past `window` samples, the oldest is dropped. */
void trend_add(struct trend *t, uint32_t count);

/*
 * O(n^2) in the samples held, no allocation.  It writes the trend's scratch,
 * so two threads must not evaluate trends that share one at once.
 */
void trend_eval(const struct trend *t, struct trend_result *r);

/* "growing", "plateau", ...: for logs and the text view. */
const char *trend_verdict_name(enum trend_verdict v);

#endif

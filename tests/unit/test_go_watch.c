// SPDX-License-Identifier: GPL-2.0
/* go_watch_stretch (user/go_watch.h): how often a costly process's
 * goroutines are read, so that its scans stay within their share of a core. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "go_watch.h"

#define MS 1000000ULL
#define SEC 1000000000ULL

static void test_within_budget_every_tick(void **state)
{
	assert_int_equal(go_watch_stretch(0, SEC), 1);
	assert_int_equal(go_watch_stretch(3 * MS, SEC), 1);
	/* 10% of a 1 s interval: exactly the budget. */
	assert_int_equal(go_watch_stretch(100 * MS, SEC), 1);
}

static void test_over_budget_stretched_to_fit(void **state)
{
	uint64_t cost;
	uint32_t k;

	assert_int_equal(go_watch_stretch(100 * MS + 1, SEC), 2);
	assert_int_equal(go_watch_stretch(250 * MS, SEC), 3);
	/* 100,000 goroutines at 566 ms (a first scan's page faults), -i 1s. */
	assert_int_equal(go_watch_stretch(566 * MS, SEC), 6);
	/* A 100 ms interval: a 45 ms scan is read every 5th tick. */
	assert_int_equal(go_watch_stretch(45 * MS, 100 * MS), 5);
	/* Whatever the cost, the share is kept: cost / (k * interval) <= 10%. */
	for (cost = MS; cost < 10 * SEC; cost = cost * 3 / 2) {
		k = go_watch_stretch(cost, SEC);
		assert_true(cost * 100 <= (uint64_t)k * SEC * GO_WATCH_BUDGET_PCT);
		assert_true(k == 1 || cost * 100 > (uint64_t)(k - 1) * SEC * GO_WATCH_BUDGET_PCT);
	}
}

static void test_capped(void **state)
{
	assert_int_equal(go_watch_stretch(UINT64_MAX / 2, SEC), GO_WATCH_MAX_STRETCH);
	assert_int_equal(go_watch_stretch(3600 * SEC, 10 * MS), GO_WATCH_MAX_STRETCH);
	/* A tiny interval has a budget of at least 1 ns: no division by 0. */
	assert_int_equal(go_watch_stretch(5, 1), 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_within_budget_every_tick),
		cmocka_unit_test(test_over_budget_stretched_to_fit),
		cmocka_unit_test(test_capped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

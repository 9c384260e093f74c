// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "wait_for.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* The tids of cycle c, in order. */
static void cycle_tids(const struct wf_waiter *ws, const size_t *members, const struct wf_cycle *c,
		       uint32_t *out)
{
	size_t k;

	for (k = 0; k < c->len; k++)
		out[k] = ws[members[c->start + k]].tid;
}

static void test_two_thread_deadlock(void **state)
{
	/* 20 holds lock B and waits for A; 10 holds A and waits for B. */
	const struct wf_waiter ws[] = {
		{ .tid = 20, .owner = 10, .lock = 0xa },
		{ .tid = 10, .owner = 20, .lock = 0xb },
	};
	size_t members[N(ws)];
	struct wf_cycle c[4];
	uint32_t tids[2];

	(void)state;
	assert_int_equal(wait_for_cycles(ws, N(ws), members, c, 4), 1);
	assert_int_equal(c[0].len, 2);
	cycle_tids(ws, members, &c[0], tids);
	assert_int_equal(tids[0], 10); /* from the smallest tid */
	assert_int_equal(tids[1], 20);
}

static void test_three_thread_cycle_and_a_convoy_into_it(void **state)
{
	/* 1 -> 2 -> 3 -> 1, and 7, 8 wait behind 2: one cycle, listed once. */
	const struct wf_waiter ws[] = {
		{ .tid = 7, .owner = 2, .lock = 0x20 },
		{ .tid = 3, .owner = 1, .lock = 0x10 },
		{ .tid = 2, .owner = 3, .lock = 0x30 },
		{ .tid = 8, .owner = 7, .lock = 0x70 },
		{ .tid = 1, .owner = 2, .lock = 0x20 },
	};
	size_t members[N(ws)];
	struct wf_cycle c[4];
	struct wf_holder h[N(ws)];
	uint32_t tids[3];

	(void)state;
	assert_int_equal(wait_for_cycles(ws, N(ws), members, c, 4), 1);
	assert_int_equal(c[0].len, 3);
	cycle_tids(ws, members, &c[0], tids);
	assert_int_equal(tids[0], 1);
	assert_int_equal(tids[1], 2);
	assert_int_equal(tids[2], 3);
	/* Waiting into a deadlock has no holder to blame. */
	assert_int_equal(wait_for_holders(ws, N(ws), h), 0);
	assert_int_equal(h[3].err, -ELOOP);
	assert_int_equal(h[0].err, -ELOOP);
	assert_int_equal(h[1].err, -ELOOP);
}

static void test_self_deadlock(void **state)
{
	/* A non-recursive mutex locked twice by the same thread. */
	const struct wf_waiter ws[] = {
		{ .tid = 5, .owner = 9, .lock = 0x90 },
		{ .tid = 9, .owner = 9, .lock = 0x90 },
	};
	size_t members[N(ws)];
	struct wf_cycle c[2];

	(void)state;
	assert_int_equal(wait_for_cycles(ws, N(ws), members, c, 2), 1);
	assert_int_equal(c[0].len, 1);
	assert_int_equal(ws[members[c[0].start]].tid, 9);
}

static void test_convoy_ends_in_a_thread_not_at_a_lock(void **state)
{
	/* 100 threads wait for the lock of 42, which waits in read(). */
	struct wf_waiter ws[100];
	struct wf_holder h[100];
	size_t members[100], i;
	struct wf_cycle c[1];

	(void)state;
	for (i = 0; i < 100; i++)
		ws[i] = (struct wf_waiter){ .tid = 1000 + i, .owner = 42, .lock = 0x5000 };
	assert_int_equal(wait_for_cycles(ws, 100, members, c, 1), 0);
	assert_int_equal(wait_for_holders(ws, 100, h), 0);
	for (i = 0; i < 100; i++) {
		assert_int_equal(h[i].err, 0);
		assert_int_equal(h[i].tid, 42);
		assert_int_equal(h[i].hops, 1);
	}
}

static void test_chain_through_two_locks(void **state)
{
	/* 1 waits for 2's lock, 2 for 3's: 3 is blamed, two locks away; 9
	 * waits behind 1, found after 1 was (the answer is remembered). */
	const struct wf_waiter ws[] = {
		{ .tid = 1, .owner = 2, .lock = 0x1 },
		{ .tid = 2, .owner = 3, .lock = 0x2 },
		{ .tid = 9, .owner = 1, .lock = 0x9 },
	};
	struct wf_holder h[N(ws)];

	(void)state;
	assert_int_equal(wait_for_holders(ws, N(ws), h), 0);
	assert_int_equal(h[0].tid, 3);
	assert_int_equal(h[0].hops, 2);
	assert_int_equal(h[1].tid, 3);
	assert_int_equal(h[1].hops, 1);
	assert_int_equal(h[2].tid, 3);
	assert_int_equal(h[2].hops, 3);
}

static void test_unknown_owner(void **state)
{
	/* A condition variable has no owner; whoever waits behind it is
	 * blamed on the thread at the unknown lock, not on a guess. */
	const struct wf_waiter ws[] = {
		{ .tid = 1, .owner = 0, .lock = 0x1 },
		{ .tid = 2, .owner = 1, .lock = 0x2 },
	};
	struct wf_holder h[N(ws)];
	size_t members[N(ws)];
	struct wf_cycle c[1];

	(void)state;
	assert_int_equal(wait_for_holders(ws, N(ws), h), 0);
	assert_int_equal(h[0].err, -ENOENT);
	assert_int_equal(h[1].err, 0);
	assert_int_equal(h[1].tid, 1);
	assert_int_equal(h[1].hops, 1);
	assert_int_equal(wait_for_cycles(ws, N(ws), members, c, 1), 0);
}

static void test_many_cycles_counted_past_max(void **state)
{
	/* 50 two-thread deadlocks; room to describe 3. */
	struct wf_waiter ws[100];
	size_t members[100], i;
	struct wf_cycle c[3];

	(void)state;
	for (i = 0; i < 50; i++) {
		ws[2 * i] = (struct wf_waiter){ .tid = 2 * i + 1, .owner = 2 * i + 2 };
		ws[2 * i + 1] = (struct wf_waiter){ .tid = 2 * i + 2, .owner = 2 * i + 1 };
	}
	assert_int_equal(wait_for_cycles(ws, 100, members, c, 3), 50);
	for (i = 0; i < 3; i++)
		assert_int_equal(c[i].len, 2);
}

static void test_bad_input(void **state)
{
	const struct wf_waiter twice[] = { { .tid = 4, .owner = 1 }, { .tid = 4, .owner = 2 } };
	const struct wf_waiter zero[] = { { .tid = 0, .owner = 1 } };
	struct wf_holder h[2];
	size_t members[2];
	struct wf_cycle c[1];

	(void)state;
	assert_int_equal(wait_for_cycles(twice, 2, members, c, 1), -EINVAL);
	assert_int_equal(wait_for_cycles(zero, 1, members, c, 1), -EINVAL);
	assert_int_equal(wait_for_cycles(NULL, 0, members, c, 1), 0);
	assert_int_equal(wait_for_holders(twice, 2, h), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_thread_deadlock),
		cmocka_unit_test(test_three_thread_cycle_and_a_convoy_into_it),
		cmocka_unit_test(test_self_deadlock),
		cmocka_unit_test(test_convoy_ends_in_a_thread_not_at_a_lock),
		cmocka_unit_test(test_chain_through_two_locks),
		cmocka_unit_test(test_unknown_owner),
		cmocka_unit_test(test_many_cycles_counted_past_max),
		cmocka_unit_test(test_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

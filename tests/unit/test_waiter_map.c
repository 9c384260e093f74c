// SPDX-License-Identifier: GPL-2.0
/* waiter_map (user/waiter_map.c): keys of (pid, kind, id). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>
#include "waiter_map.h"

static int v[4];

/* One tid in two processes, and a 64-bit id: three waiters. */
static void test_same_id_other_pid_or_kind_is_another_waiter(void **state)
{
	struct waiter_map m;
	struct lw_waiter_id big = { .pid = 100, .kind = 2, .id = 150 };

	waiter_map_init(&m);
	assert_int_equal(waiter_map_put(&m, lw_thread_id(100, 150), &v[0]), 0);
	assert_int_equal(waiter_map_put(&m, lw_thread_id(200, 150), &v[1]), 0);
	assert_int_equal(waiter_map_put(&m, big, &v[2]), 0);
	assert_int_equal(waiter_map_put(&m, lw_thread_id(100, 150), &v[3]), -EEXIST);
	assert_ptr_equal(waiter_map_get(&m, lw_thread_id(100, 150)), &v[0]);
	assert_ptr_equal(waiter_map_get(&m, lw_thread_id(200, 150)), &v[1]);
	assert_ptr_equal(waiter_map_get(&m, big), &v[2]);
	assert_null(waiter_map_get(&m, lw_thread_id(300, 150)));
	assert_ptr_equal(waiter_map_del(&m, lw_thread_id(100, 150)), &v[0]);
	assert_null(waiter_map_get(&m, lw_thread_id(100, 150)));
	assert_ptr_equal(waiter_map_get(&m, lw_thread_id(200, 150)), &v[1]);
	assert_int_equal(m.len, 2);
	waiter_map_free(&m);
}

static void test_kind_zero_refused(void **state)
{
	struct waiter_map m;

	waiter_map_init(&m);
	assert_int_equal(waiter_map_put(&m, (struct lw_waiter_id){ .pid = 1, .id = 1 }, &v[0]),
			 -EINVAL);
	assert_null(waiter_map_get(&m, (struct lw_waiter_id){ 0 }));
	assert_null(waiter_map_del(&m, lw_thread_id(1, 1)));
	waiter_map_free(&m);
}

/* Many keys, half deleted in a scattered order: the rest stay reachable
 * (backward-shift deletion keeps probe runs whole), and a walk sees each once. */
static void test_many_puts_and_deletes(void **state)
{
	enum { N = 5000 };
	struct waiter_map m;
	struct lw_waiter_id key;
	size_t i, pos = 0, seen = 0;
	void *value;

	waiter_map_init(&m);
	for (i = 0; i < N; i++)
		assert_int_equal(waiter_map_put(&m, lw_thread_id((uint32_t)(i % 7 + 1),
								 (uint32_t)i), (void *)(i + 1)), 0);
	for (i = 0; i < N; i += 2)
		assert_ptr_equal(waiter_map_del(&m, lw_thread_id((uint32_t)(i % 7 + 1),
								 (uint32_t)i)), (void *)(i + 1));
	for (i = 0; i < N; i++) {
		void *got = waiter_map_get(&m, lw_thread_id((uint32_t)(i % 7 + 1), (uint32_t)i));

		if (i % 2)
			assert_ptr_equal(got, (void *)(i + 1));
		else
			assert_null(got);
	}
	while (waiter_map_next(&m, &pos, &key, &value)) {
		assert_int_equal(key.id % 2, 1);
		assert_ptr_equal(value, (void *)(key.id + 1));
		seen++;
	}
	assert_int_equal(seen, N / 2);
	assert_int_equal(m.len, N / 2);
	waiter_map_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_id_other_pid_or_kind_is_another_waiter),
		cmocka_unit_test(test_kind_zero_refused),
		cmocka_unit_test(test_many_puts_and_deletes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

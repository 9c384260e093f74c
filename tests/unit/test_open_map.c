// SPDX-License-Identifier: GPL-2.0
/*
 * The open-addressing table (user/open_map_template.h) under hashes no real
 * map would use: every key in one home slot, so that every operation walks
 * and shifts one long probe run; and keys that carry their home slot, so that
 * a test lays out a run across the end of the table directly.  id_map and
 * waiter_map test their own hashes.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

/* Every key at home in slot 0. */
struct pile_map {
	uint32_t *keys;
	void **values;
	size_t cap;
	size_t len;
};
#define OPEN_MAP_NAME pile_map
#define OPEN_MAP_KEY uint32_t
#define OPEN_MAP_HASH(k) ((void)(k), (size_t)0)
#define OPEN_MAP_IS_EMPTY(k) ((k) == 0)
#define OPEN_MAP_EQ(a, b) ((a) == (b))
#include "open_map_template.h"

/* A key's home slot is its bits from 8 up: key = home << 8 | serial. */
struct told_map {
	uint32_t *keys;
	void **values;
	size_t cap;
	size_t len;
};
#define OPEN_MAP_NAME told_map
#define OPEN_MAP_KEY uint32_t
#define OPEN_MAP_HASH(k) ((size_t)((k) >> 8))
#define OPEN_MAP_IS_EMPTY(k) ((k) == 0)
#define OPEN_MAP_EQ(a, b) ((a) == (b))
#include "open_map_template.h"

static void *val(uint32_t key)
{
	return (void *)(uintptr_t)(0x10000u + (uintptr_t)key * 8);
}

static size_t pile_home(uint32_t key, size_t cap)
{
	return 0;
}

static size_t told_home(uint32_t key, size_t cap)
{
	return (key >> 8) & (cap - 1);
}

/* Linear probing without tombstones: no empty slot between a key's home and
 * its slot, or a lookup stops short of it.  A wrong backward shift leaves
 * one.  And len counts the keys. */
static void check_no_hole(const uint32_t *keys, size_t cap, size_t len,
			  size_t (*home_of)(uint32_t key, size_t cap))
{
	size_t i, h, n = 0;

	for (i = 0; i < cap; i++) {
		if (!keys[i])
			continue;
		n++;
		for (h = home_of(keys[i], cap); h != i; h = (h + 1) & (cap - 1))
			if (!keys[h]) {
				print_error("key %#x in slot %zu, hole at %zu on its probe path\n",
					    keys[i], i, h);
				fail();
			}
	}
	assert_int_equal(n, len);
}

/* 40 keys in one run force a growth (64 slots hold 32) that reinserts them
 * all into one run again; deleting from the middle, the start and the end
 * shifts the rest back without a hole. */
static void test_one_home_for_every_key(void **state)
{
	enum { N = 40 };
	struct pile_map m;
	bool gone[N + 1] = { false };
	uint32_t k, other, step;
	size_t left = N;

	pile_map_init(&m);
	for (k = 1; k <= N; k++)
		assert_int_equal(pile_map_put(&m, k, val(k)), 0);
	assert_int_equal(pile_map_put(&m, 7, val(7)), -EEXIST);
	assert_int_equal(m.cap, 128);
	check_no_hole(m.keys, m.cap, m.len, pile_home);
	/* 17 and N are coprime: every key once, in a scattered order. */
	for (step = 0, k = 20; step < N; step++, k = (k + 16) % N + 1) {
		assert_ptr_equal(pile_map_del(&m, k), val(k));
		gone[k] = true;
		assert_int_equal(m.len, --left);
		check_no_hole(m.keys, m.cap, m.len, pile_home);
		for (other = 1; other <= N; other++)
			assert_ptr_equal(pile_map_get(&m, other), gone[other] ? NULL : val(other));
	}
	assert_int_equal(m.len, 0);
	pile_map_free(&m);
}

/* Seven keys with homes cap-2, cap-2, cap-1, cap-1, 0, 1, 1: the run spills
 * over the end into slots 0..4 and pushes the keys at home in 0 and 1 on.
 * Deleting from each key on, forwards and backwards around the seven, the
 * rest stay reachable.  (test_id_map.c tries every order with id_map's own
 * hash.) */
static void test_run_across_the_end_deleted_from_each_key(void **state)
{
	enum { N = 7, CAP = 64 };
	static const size_t homes[N] = { CAP - 2, CAP - 2, CAP - 1, CAP - 1, 0, 1, 1 };
	uint32_t keys[N];
	size_t first, d, k, orders = 0;
	int dir;

	for (k = 0; k < N; k++)
		keys[k] = (uint32_t)(homes[k] << 8 | (k + 1));
	for (first = 0; first < N; first++)
		for (dir = -1; dir <= 1; dir += 2) {
			bool gone[N] = { false };
			struct told_map m;

			told_map_init(&m);
			for (k = 0; k < N; k++)
				assert_int_equal(told_map_put(&m, keys[k], val(keys[k])), 0);
			assert_int_equal(m.cap, CAP);
			assert_int_equal(m.keys[4], keys[6]); /* the run ends in slot 4 */
			check_no_hole(m.keys, m.cap, m.len, told_home);
			for (d = 0; d < N; d++) {
				size_t del = (first + N + (size_t)dir * d) % N;

				assert_ptr_equal(told_map_del(&m, keys[del]), val(keys[del]));
				gone[del] = true;
				check_no_hole(m.keys, m.cap, m.len, told_home);
				for (k = 0; k < N; k++)
					assert_ptr_equal(told_map_get(&m, keys[k]),
							 gone[k] ? NULL : val(keys[k]));
			}
			told_map_free(&m);
			orders++;
		}
	assert_int_equal(orders, 2 * N);
}

/* The walk sees each key of a wrapped run once, with its value. */
static void test_walk_over_the_end(void **state)
{
	struct told_map m;
	unsigned seen = 0;
	size_t pos = 0;
	uint32_t key, serial;
	void *value;

	told_map_init(&m);
	for (serial = 1; serial <= 5; serial++) /* all at home in slot 63 */
		assert_int_equal(told_map_put(&m, 63u << 8 | serial, val(serial)), 0);
	while (told_map_next(&m, &pos, &key, &value)) {
		serial = key & 0xff;
		assert_ptr_equal(value, val(serial));
		assert_false(seen & (1u << serial));
		seen |= 1u << serial;
	}
	assert_int_equal(seen, 0x3e);
	told_map_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_home_for_every_key),
		cmocka_unit_test(test_run_across_the_end_deleted_from_each_key),
		cmocka_unit_test(test_walk_over_the_end),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

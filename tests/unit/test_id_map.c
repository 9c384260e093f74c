// SPDX-License-Identifier: GPL-2.0
/* id_map (user/id_map.c): open addressing, backward-shift deletion. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "id_map.h"

/* Values are fake pointers derived from the key: never dereferenced. */
static void *val(uint32_t key)
{
	return (void *)(uintptr_t)(0x10000u + (uintptr_t)key * 8);
}

static uint32_t rng_state = 2463534242u;

static uint32_t xorshift32(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

/*
 * The home slot of a key: a copy of slot_of() in id_map.c (Fibonacci
 * hashing), so that the tests can craft collisions.  test_hash_copy_matches
 * checks the copy against the real table, without knowing the hash.
 */
static size_t home_slot(size_t cap, uint32_t key)
{
	return (size_t)((key * 2654435769u) & (cap - 1));
}

/* Where the real table puts a key that is alone in a map of cap slots. */
static size_t observed_home(size_t cap, uint32_t key)
{
	struct id_map probe;
	size_t i, home = SIZE_MAX;
	uint32_t filler;

	id_map_init(&probe);
	/* Grow to cap with other keys, remove them, then insert key alone. */
	for (filler = 1; probe.cap < cap; filler++)
		if (filler != key)
			assert_int_equal(id_map_put(&probe, filler, val(filler)), 0);
	assert_int_equal(probe.cap, cap);
	for (filler--; filler >= 1; filler--)
		id_map_del(&probe, filler);
	assert_int_equal(probe.len, 0);
	assert_int_equal(id_map_put(&probe, key, val(key)), 0);
	for (i = 0; i < probe.cap; i++)
		if (probe.keys[i] == key)
			home = i;
	id_map_free(&probe);
	return home;
}

/*
 * The structural invariant of linear probing without tombstones: from the
 * home slot of every key up to the slot holding it, no slot is empty.  A
 * wrong backward shift breaks it.
 */
static void check_invariant(const struct id_map *m)
{
	size_t i, h, n = 0;

	for (i = 0; i < m->cap; i++) {
		if (!m->keys[i])
			continue;
		n++;
		for (h = home_slot(m->cap, m->keys[i]); h != i; h = (h + 1) & (m->cap - 1))
			if (!m->keys[h]) {
				print_error("key %u in slot %zu, hole at %zu on its probe path\n",
					    m->keys[i], i, h);
				fail();
			}
		assert_ptr_equal(id_map_get(m, m->keys[i]), m->values[i]);
	}
	assert_int_equal(n, m->len);
}

static void test_hash_copy_matches(void **state)
{
	static const size_t caps[] = { 64, 128, 1024 };
	uint32_t keys[] = { 1, 2, 3, 100, 4097, 65536, 123457, 0x7fffffff, 0xfffffffe };
	size_t c, i;

	for (c = 0; c < sizeof(caps) / sizeof(caps[0]); c++)
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			assert_int_equal(observed_home(caps[c], keys[i]), home_slot(caps[c], keys[i]));
}

static void test_empty_map(void **state)
{
	struct id_map m;
	size_t pos = 0;
	uint32_t key;
	void *value;

	id_map_init(&m);
	assert_null(id_map_get(&m, 1));
	assert_null(id_map_del(&m, 1));
	assert_int_equal(id_map_next(&m, &pos, &key, &value), 0);
	assert_int_equal(m.len, 0);
	id_map_free(&m);
}

static void test_put_get_del(void **state)
{
	struct id_map m;

	id_map_init(&m);
	assert_int_equal(id_map_put(&m, 42, val(42)), 0);
	assert_int_equal(id_map_put(&m, 7, val(7)), 0);
	assert_int_equal(m.len, 2);
	assert_ptr_equal(id_map_get(&m, 42), val(42));
	assert_ptr_equal(id_map_get(&m, 7), val(7));
	assert_null(id_map_get(&m, 8));

	assert_ptr_equal(id_map_del(&m, 42), val(42));
	assert_null(id_map_get(&m, 42));
	assert_ptr_equal(id_map_get(&m, 7), val(7));
	assert_int_equal(m.len, 1);
	assert_null(id_map_del(&m, 42)); /* already gone */
	assert_int_equal(m.len, 1);
	id_map_free(&m);
}

static void test_put_existing_key_is_eexist(void **state)
{
	struct id_map m;
	int other;

	id_map_init(&m);
	assert_int_equal(id_map_put(&m, 5, val(5)), 0);
	assert_int_equal(id_map_put(&m, 5, &other), -EEXIST);
	assert_ptr_equal(id_map_get(&m, 5), val(5)); /* not replaced */
	assert_int_equal(m.len, 1);
	id_map_free(&m);
}

/* A NULL value is still a value: the key is present. */
static void test_put_existing_key_with_null_value_is_eexist(void **state)
{
	struct id_map m;

	id_map_init(&m);
	assert_int_equal(id_map_put(&m, 5, NULL), 0);
	assert_int_equal(id_map_put(&m, 5, val(5)), -EEXIST);
	assert_int_equal(m.len, 1);
	assert_null(id_map_get(&m, 5));
	assert_null(id_map_del(&m, 5));
	assert_int_equal(m.len, 0);
	id_map_free(&m);
}

static void test_key_zero_rejected(void **state)
{
	struct id_map m;

	id_map_init(&m);
	assert_int_equal(id_map_put(&m, 0, val(1)), -EINVAL);
	assert_int_equal(m.len, 0);
	assert_int_equal(id_map_put(&m, 1, val(1)), 0);
	assert_null(id_map_get(&m, 0)); /* 0 marks empty slots: never found */
	assert_null(id_map_del(&m, 0));
	assert_int_equal(m.len, 1);
	id_map_free(&m);
}

static void test_extreme_keys(void **state)
{
	struct id_map m;

	id_map_init(&m);
	assert_int_equal(id_map_put(&m, UINT32_MAX, val(1)), 0);
	assert_int_equal(id_map_put(&m, 1, val(2)), 0);
	assert_int_equal(id_map_put(&m, 0x80000000u, val(3)), 0);
	assert_ptr_equal(id_map_get(&m, UINT32_MAX), val(1));
	assert_ptr_equal(id_map_get(&m, 1), val(2));
	assert_ptr_equal(id_map_get(&m, 0x80000000u), val(3));
	id_map_free(&m);
}

static void test_growth_to_10000_keys(void **state)
{
	struct id_map m;
	uint32_t k;

	id_map_init(&m);
	for (k = 1; k <= 10000; k++)
		assert_int_equal(id_map_put(&m, k * 7919u, val(k)), 0);
	assert_int_equal(m.len, 10000);
	assert_true(m.cap >= 2 * m.len);           /* load stays at most 1/2 */
	assert_int_equal(m.cap & (m.cap - 1), 0); /* a power of two */
	for (k = 1; k <= 10000; k++)
		assert_ptr_equal(id_map_get(&m, k * 7919u), val(k));
	assert_null(id_map_get(&m, 10001u * 7919u));
	check_invariant(&m);
	id_map_free(&m);
	assert_int_equal(m.len, 0);
	assert_null(m.keys);
}

static void test_delete_half_rest_still_found(void **state)
{
	struct id_map m;
	uint32_t k;

	id_map_init(&m);
	/* Consecutive tids: the common case, long runs of neighbours. */
	for (k = 1; k <= 10000; k++)
		assert_int_equal(id_map_put(&m, k, val(k)), 0);
	for (k = 1; k <= 10000; k += 2)
		assert_ptr_equal(id_map_del(&m, k), val(k));
	assert_int_equal(m.len, 5000);
	for (k = 1; k <= 10000; k++) {
		if (k % 2)
			assert_null(id_map_get(&m, k));
		else
			assert_ptr_equal(id_map_get(&m, k), val(k));
	}
	check_invariant(&m);
	/* And put back: no duplicates, all found. */
	for (k = 1; k <= 10000; k += 2)
		assert_int_equal(id_map_put(&m, k, val(k)), 0);
	for (k = 2; k <= 10000; k += 2)
		assert_int_equal(id_map_put(&m, k, val(k)), -EEXIST);
	assert_int_equal(m.len, 10000);
	check_invariant(&m);
	id_map_free(&m);
}

/* Distinct keys whose home slots in m are the given ones. */
static size_t find_keys_with_homes(const struct id_map *m, const size_t *homes, size_t n,
				   uint32_t *keys)
{
	size_t i, found = 0;
	uint32_t k;

	for (i = 0; i < n; i++) {
		for (k = 1000; k < 200000; k++) {
			bool used = false;
			size_t j;

			for (j = 0; j < found; j++)
				used |= keys[j] == k;
			if (!used && home_slot(m->cap, k) == homes[i]) {
				keys[found++] = k;
				break;
			}
		}
	}
	return found;
}

static bool next_permutation(size_t *a, size_t n)
{
	size_t i, j, t;

	if (n < 2)
		return false;
	for (i = n - 1; i > 0 && a[i - 1] >= a[i]; i--)
		;
	if (i == 0)
		return false;
	for (j = n - 1; a[j] <= a[i - 1]; j--)
		;
	t = a[i - 1], a[i - 1] = a[j], a[j] = t;
	for (j = n - 1; i < j; i++, j--)
		t = a[i], a[i] = a[j], a[j] = t;
	return true;
}

/*
 * A cluster that wraps around the end of the table: keys with homes in the
 * last slots spill into slots 0, 1, ...; keys with homes 0 and 1 are pushed
 * further.  Every deletion order must keep every other key reachable.
 */
static void test_wraparound_cluster_every_deletion_order(void **state)
{
	struct id_map m;
	size_t homes[7], order[7], i, n = 7, perms = 0;
	uint32_t keys[7];

	id_map_init(&m);
	assert_int_equal(id_map_put(&m, 1, val(1)), 0); /* allocate: cap known */
	id_map_del(&m, 1);
	assert_true(m.cap >= 16);
	/* Homes cap-2, cap-2, cap-1, cap-1, 0, 1, 1. */
	homes[0] = homes[1] = m.cap - 2;
	homes[2] = homes[3] = m.cap - 1;
	homes[4] = 0;
	homes[5] = homes[6] = 1;
	assert_int_equal(find_keys_with_homes(&m, homes, n, keys), n);

	for (i = 0; i < n; i++)
		order[i] = i;
	do {
		size_t d, j;

		for (i = 0; i < n; i++)
			assert_int_equal(id_map_put(&m, keys[i], val(keys[i])), 0);
		/* The cluster really wraps: slots cap-2 .. 4 are all full. */
		if (perms == 0) {
			for (i = m.cap - 2; i != 5; i = (i + 1) & (m.cap - 1))
				assert_int_not_equal(m.keys[i], 0);
			assert_int_equal(m.keys[5], 0);
		}
		for (d = 0; d < n; d++) {
			assert_ptr_equal(id_map_del(&m, keys[order[d]]), val(keys[order[d]]));
			assert_null(id_map_get(&m, keys[order[d]]));
			for (j = d + 1; j < n; j++)
				assert_ptr_equal(id_map_get(&m, keys[order[j]]),
						 val(keys[order[j]]));
			check_invariant(&m);
		}
		assert_int_equal(m.len, 0);
		perms++;
	} while (next_permutation(order, n));
	assert_int_equal(perms, 5040);
	id_map_free(&m);
}

/* Deleting the first key of a wrapped cluster pulls the wrapped keys back
 * across the end of the table. */
static void test_wraparound_delete_moves_keys_back(void **state)
{
	struct id_map m;
	size_t homes[3];
	uint32_t keys[3];

	id_map_init(&m);
	assert_int_equal(id_map_put(&m, 1, val(1)), 0);
	id_map_del(&m, 1);
	homes[0] = homes[1] = homes[2] = m.cap - 1;
	assert_int_equal(find_keys_with_homes(&m, homes, 3, keys), 3);
	assert_int_equal(id_map_put(&m, keys[0], val(keys[0])), 0);
	assert_int_equal(id_map_put(&m, keys[1], val(keys[1])), 0);
	assert_int_equal(id_map_put(&m, keys[2], val(keys[2])), 0);
	assert_int_equal(m.keys[m.cap - 1], keys[0]);
	assert_int_equal(m.keys[0], keys[1]);
	assert_int_equal(m.keys[1], keys[2]);

	id_map_del(&m, keys[0]);
	assert_int_equal(m.keys[m.cap - 1], keys[1]);
	assert_int_equal(m.keys[0], keys[2]);
	assert_int_equal(m.keys[1], 0);
	assert_ptr_equal(id_map_get(&m, keys[1]), val(keys[1]));
	assert_ptr_equal(id_map_get(&m, keys[2]), val(keys[2]));
	id_map_free(&m);
}

/* Random puts and deletes against a plain array as the model. */
static void test_random_operations_match_model(void **state)
{
	enum { RANGE = 3000, OPS = 200000 };
	bool *present = calloc(RANGE + 1, sizeof(*present));
	struct id_map m;
	size_t n = 0, i;
	uint32_t k;

	assert_non_null(present);
	id_map_init(&m);
	for (i = 0; i < OPS; i++) {
		k = 1 + xorshift32() % RANGE;
		if (xorshift32() % 3) { /* bias towards inserts, then churn */
			int rc = id_map_put(&m, k, val(k));

			assert_int_equal(rc, present[k] ? -EEXIST : 0);
			if (!present[k])
				n++;
			present[k] = true;
		} else {
			void *v = id_map_del(&m, k);

			if (present[k]) {
				assert_ptr_equal(v, val(k));
				n--;
			} else {
				assert_null(v);
			}
			present[k] = false;
		}
		assert_int_equal(m.len, n);
		if (i % 20000 == 0)
			check_invariant(&m);
	}
	for (k = 1; k <= RANGE; k++)
		assert_ptr_equal(id_map_get(&m, k), present[k] ? val(k) : NULL);
	check_invariant(&m);
	id_map_free(&m);
	free(present);
}

static void test_iteration_visits_each_key_once(void **state)
{
	enum { N = 5000 };
	unsigned char *seen = calloc(N + 1, 1);
	struct id_map m;
	size_t pos = 0, visits = 0;
	uint32_t k, key;
	void *value;

	assert_non_null(seen);
	id_map_init(&m);
	for (k = 1; k <= N; k++)
		assert_int_equal(id_map_put(&m, k, val(k)), 0);
	for (k = 1; k <= N; k += 3)
		id_map_del(&m, k);
	while (id_map_next(&m, &pos, &key, &value)) {
		assert_in_range(key, 1, N);
		assert_ptr_equal(value, val(key));
		seen[key]++;
		visits++;
	}
	assert_int_equal(visits, m.len);
	for (k = 1; k <= N; k++)
		assert_int_equal(seen[k], (k - 1) % 3 ? 1 : 0);
	/* Finished: stays finished. */
	assert_int_equal(id_map_next(&m, &pos, &key, &value), 0);
	id_map_free(&m);
	free(seen);
}

/* The documented pattern: collect during iteration, delete afterwards. */
static void test_collect_then_delete_during_iteration(void **state)
{
	struct id_map m;
	uint32_t k, key, doomed[100];
	size_t pos = 0, n = 0, i;
	void *value;

	id_map_init(&m);
	for (k = 1; k <= 200; k++)
		assert_int_equal(id_map_put(&m, k, val(k)), 0);
	while (id_map_next(&m, &pos, &key, &value))
		if (key % 2 == 0)
			doomed[n++] = key;
	assert_int_equal(n, 100);
	for (i = 0; i < n; i++)
		assert_ptr_equal(id_map_del(&m, doomed[i]), val(doomed[i]));
	assert_int_equal(m.len, 100);
	for (k = 1; k <= 200; k++)
		assert_ptr_equal(id_map_get(&m, k), k % 2 ? val(k) : NULL);
	id_map_free(&m);
}

static void test_reuse_after_free(void **state)
{
	struct id_map m;

	id_map_init(&m);
	assert_int_equal(id_map_put(&m, 3, val(3)), 0);
	id_map_free(&m);
	assert_null(id_map_get(&m, 3));
	assert_int_equal(id_map_put(&m, 3, val(4)), 0);
	assert_ptr_equal(id_map_get(&m, 3), val(4));
	id_map_free(&m);
	id_map_free(&m); /* twice: harmless */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_copy_matches),
		cmocka_unit_test(test_empty_map),
		cmocka_unit_test(test_put_get_del),
		cmocka_unit_test(test_put_existing_key_is_eexist),
		cmocka_unit_test(test_put_existing_key_with_null_value_is_eexist),
		cmocka_unit_test(test_key_zero_rejected),
		cmocka_unit_test(test_extreme_keys),
		cmocka_unit_test(test_growth_to_10000_keys),
		cmocka_unit_test(test_delete_half_rest_still_found),
		cmocka_unit_test(test_wraparound_cluster_every_deletion_order),
		cmocka_unit_test(test_wraparound_delete_moves_keys_back),
		cmocka_unit_test(test_random_operations_match_model),
		cmocka_unit_test(test_iteration_visits_each_key_once),
		cmocka_unit_test(test_collect_then_delete_during_iteration),
		cmocka_unit_test(test_reuse_after_free),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

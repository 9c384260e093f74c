// SPDX-License-Identifier: GPL-2.0
/* symcache (user/symcache.c): hits, misses, the bounds and LRU eviction. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "symcache.h"

static struct symcache_key key(uint8_t file, uint64_t addr, bool first)
{
	struct symcache_key k = { .file_id_len = 20, .addr = addr, .first = first };

	memset(k.file_id, file, k.file_id_len);
	return k;
}

static struct lw_frame frame(const char *func, const char *file, int line, bool inlined)
{
	struct lw_frame f = { .offset = 0x83, .line = line, .inlined = inlined,
			      .kind = LW_FRAME_NATIVE };

	snprintf(f.func, sizeof(f.func), "%s", func);
	snprintf(f.file, sizeof(f.file), "%s", file);
	snprintf(f.module, sizeof(f.module), "query");
	return f;
}

static struct symcache_stats stats(const struct symcache *c)
{
	struct symcache_stats s;

	symcache_get_stats(c, &s);
	return s;
}

/* What is put comes back whole, with the pc asked for. */
static void test_roundtrip(void **state)
{
	struct lw_frame in[2] = { frame("chan_send", "/src/query.c", 14, true),
				  frame("query", "/src/query.c", 30, false) };
	struct symcache_key k = key(1, 0x1234, false);
	struct lw_frame out[4];
	struct symcache *c;

	assert_int_equal(symcache_new(8, 1 << 20, &c), 0);
	assert_int_equal(symcache_get(c, &k, 0x401234, out, 4), 0);
	assert_int_equal(symcache_put(c, &k, in, 2), 0);
	memset(out, 0x5a, sizeof(out));
	assert_int_equal(symcache_get(c, &k, 0x7f0000001234, out, 4), 2);
	in[0].pc = in[1].pc = 0x7f0000001234;
	assert_memory_equal(&out[0], &in[0], sizeof(in[0]));
	assert_memory_equal(&out[1], &in[1], sizeof(in[1]));
	/* Cut to max. */
	assert_int_equal(symcache_get(c, &k, 1, out, 1), 1);
	assert_string_equal(out[0].func, "chan_send");
	assert_int_equal(stats(c).hits, 2);
	assert_int_equal(stats(c).misses, 1);
	assert_int_equal(stats(c).entries, 1);
	assert_int_equal(stats(c).capacity, 8);
	symcache_free(c);
}

/* Each part of the key tells entries apart: the file, the address, first. */
static void test_key_parts(void **state)
{
	struct lw_frame a = frame("a", "", 0, false), b = frame("b", "", 0, false),
			d = frame("d", "", 0, false), out[1];
	struct symcache_key ka = key(1, 0x10, false), kb = key(2, 0x10, false),
			    kd = key(1, 0x10, true), kshort = key(1, 0x10, false);
	struct symcache *c;

	kshort.file_id_len = 19;
	assert_int_equal(symcache_new(8, 1 << 20, &c), 0);
	assert_int_equal(symcache_put(c, &ka, &a, 1), 0);
	assert_int_equal(symcache_put(c, &kb, &b, 1), 0);
	assert_int_equal(symcache_put(c, &kd, &d, 1), 0);
	assert_int_equal(symcache_get(c, &ka, 0, out, 1), 1);
	assert_string_equal(out[0].func, "a");
	assert_int_equal(symcache_get(c, &kb, 0, out, 1), 1);
	assert_string_equal(out[0].func, "b");
	assert_int_equal(symcache_get(c, &kd, 0, out, 1), 1);
	assert_string_equal(out[0].func, "d");
	assert_int_equal(symcache_get(c, &kshort, 0, out, 1), 0);
	/* A key put again is replaced, not doubled. */
	assert_int_equal(symcache_put(c, &ka, &b, 1), 0);
	assert_int_equal(symcache_get(c, &ka, 0, out, 1), 1);
	assert_string_equal(out[0].func, "b");
	assert_int_equal(stats(c).entries, 3);
	assert_int_equal(stats(c).evictions, 0);
	symcache_free(c);
}

/* Full: the least recently used goes, counted; a get refreshes an entry. */
static void test_lru_eviction(void **state)
{
	struct lw_frame f = frame("f", "/f.c", 1, false), out[1];
	struct symcache_key k;
	struct symcache *c;
	uint64_t i;

	assert_int_equal(symcache_new(4, 1 << 20, &c), 0);
	for (i = 0; i < 4; i++) {
		k = key(1, i, false);
		assert_int_equal(symcache_put(c, &k, &f, 1), 0);
	}
	k = key(1, 0, false);
	assert_int_equal(symcache_get(c, &k, 0, out, 1), 1); /* 0 used: 1 is the oldest */
	k = key(1, 4, false);
	assert_int_equal(symcache_put(c, &k, &f, 1), 0);
	assert_int_equal(stats(c).entries, 4);
	assert_int_equal(stats(c).evictions, 1);
	for (i = 0; i <= 4; i++) {
		k = key(1, i, false);
		assert_int_equal(symcache_get(c, &k, 0, out, 1), i == 1 ? 0 : 1);
	}
	/* Many more than fit: never more than the bound. */
	for (i = 100; i < 1100; i++) {
		k = key((uint8_t)i, i, i & 1);
		assert_int_equal(symcache_put(c, &k, &f, 1), 0);
		assert_true(stats(c).entries <= 4);
	}
	assert_int_equal(stats(c).evictions, 1001);
	symcache_free(c);
}

/* The byte bound: long names take more room, evict more; an entry larger
 * than the whole bound is refused. */
static void test_byte_bound(void **state)
{
	struct lw_frame big[SYMCACHE_FRAMES_MAX + 1], out[SYMCACHE_FRAMES_MAX];
	struct symcache_key k;
	struct symcache *c;
	size_t one;
	int i;

	for (i = 0; i <= SYMCACHE_FRAMES_MAX; i++) {
		big[i] = frame("", "", 7, true);
		memset(big[i].func, 'f', sizeof(big[i].func)); /* no NUL: cut by one */
		memset(big[i].file, 'p', sizeof(big[i].file) - 1);
	}
	assert_int_equal(symcache_new(1000, 1 << 20, &c), 0);
	k = key(9, 1, false);
	assert_int_equal(symcache_put(c, &k, big, 2), 0);
	one = stats(c).bytes;
	assert_true(one > 2 * (LW_FUNC_TEXT - 1 + LW_FILE_TEXT - 1));
	assert_int_equal(symcache_get(c, &k, 0, out, 2), 2);
	assert_int_equal(strlen(out[0].func), LW_FUNC_TEXT - 1);
	assert_int_equal(strlen(out[1].file), LW_FILE_TEXT - 1);
	assert_int_equal(symcache_put(c, &k, big, SYMCACHE_FRAMES_MAX + 1), -EINVAL);
	assert_int_equal(symcache_put(c, &k, big, 0), -EINVAL);
	symcache_free(c);

	/* Room for three such entries by bytes, though 1000 by count. */
	assert_int_equal(symcache_new(1000, 3 * one + one / 2, &c), 0);
	for (i = 0; i < 10; i++) {
		k = key(9, (uint64_t)i, false);
		assert_int_equal(symcache_put(c, &k, big, 2), 0);
		assert_true(stats(c).bytes <= 3 * one + one / 2);
	}
	assert_int_equal(stats(c).entries, 3);
	assert_int_equal(stats(c).evictions, 7);
	k = key(9, 9, false);
	assert_int_equal(symcache_get(c, &k, 0, out, 2), 2);
	k = key(9, 0, false);
	assert_int_equal(symcache_get(c, &k, 0, out, 2), 0);
	/* Larger than the bound alone. */
	k = key(8, 0, false);
	assert_int_equal(symcache_put(c, &k, big, SYMCACHE_FRAMES_MAX), -EINVAL);
	assert_int_equal(stats(c).entries, 3);
	symcache_free(c);
	assert_int_equal(symcache_new(0, 1, &c), -EINVAL);
}

/* Colliding buckets: a full cache of keys that differ only in the address
 * keeps every one findable while entries come and go. */
static void test_many_keys(void **state)
{
	struct lw_frame f = frame("f", "", 0, false), out[1];
	struct symcache_key k;
	struct symcache *c;
	uint64_t i;

	assert_int_equal(symcache_new(64, 1 << 20, &c), 0);
	for (i = 0; i < 640; i++) {
		snprintf(f.func, sizeof(f.func), "f%llu", (unsigned long long)i);
		k = key(3, i * 4096, false);
		assert_int_equal(symcache_put(c, &k, &f, 1), 0);
	}
	for (i = 0; i < 640; i++) {
		k = key(3, i * 4096, false);
		if (i < 640 - 64) {
			assert_int_equal(symcache_get(c, &k, 0, out, 1), 0);
		} else {
			char want[32];

			snprintf(want, sizeof(want), "f%llu", (unsigned long long)i);
			assert_int_equal(symcache_get(c, &k, 0, out, 1), 1);
			assert_string_equal(out[0].func, want);
		}
	}
	symcache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),    cmocka_unit_test(test_key_parts),
		cmocka_unit_test(test_lru_eviction), cmocka_unit_test(test_byte_bound),
		cmocka_unit_test(test_many_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

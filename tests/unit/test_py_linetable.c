// SPDX-License-Identifier: GPL-2.0
/* The co_linetable decoder (user/py_linetable.c) on synthetic tables and on
 * tables CPython 3.11.7 and 3.13.0 made, against their own co_lines(). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "py_linetable.h"

/* Every form, firstlineno 10:
 *   0x81 0x05             short form, 2 units: line 10 (units 0-1)
 *   0xd8 0x01 0x02        one-line form +1, 1 unit: 11 (unit 2)
 *   0xea 0x07             no column, svarint -3, 3 units: 8 (units 3-5)
 *   0xf8                  no location, 1 unit: none (unit 6), line stays 8
 *   0xf0 0x48 0x03 0 1 2  long form, svarint +100 in two chunks: 108 (unit 7)
 *   0xe7 0x00 0x00        one-line form +2, 8 units: 110 (units 8-15) */
static const uint8_t every_form[] = {
	0x81, 0x05, 0xd8, 0x01, 0x02, 0xea, 0x07, 0xf8, 0xf0, 0x48, 0x03, 0x00, 0x01, 0x02,
	0xe7, 0x00, 0x00,
};

static int line_at(int64_t addr)
{
	return py_linetable_line(every_form, sizeof(every_form), 10, addr);
}

static void test_every_form(void **state)
{
	assert_int_equal(line_at(0), 10);
	assert_int_equal(line_at(2), 10);
	assert_int_equal(line_at(3), 10); /* an odd byte: its code unit */
	assert_int_equal(line_at(4), 11);
	assert_int_equal(line_at(6), 8);
	assert_int_equal(line_at(10), 8);
	assert_int_equal(line_at(12), 0); /* no location */
	assert_int_equal(line_at(14), 108);
	assert_int_equal(line_at(16), 110);
	assert_int_equal(line_at(30), 110);
	assert_int_equal(line_at(32), -ENOENT);
	/* before the first instruction: the first line */
	assert_int_equal(line_at(-2), 10);
}

static void test_malformed(void **state)
{
	static const uint8_t cut_long[] = { 0xf0, 0x48 };
	static const uint8_t no_start[] = { 0x01, 0x05 };
	static const uint8_t endless_varint[] = { 0xe8, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x01 };
	static const uint8_t start_in_operand[] = { 0xd8, 0x01, 0x81 };
	/* garbage after the entry asked for is not read */
	static const uint8_t bad_tail[] = { 0x81, 0x05, 0x42 };
	/* line numbers out of any file's range */
	static const uint8_t huge_line[] = { 0xe8, 0x7e, 0x7f, 0x7f, 0x7f, 0x3f };
	/* a line that goes below 1 has no location */
	static const uint8_t below_one[] = { 0xe8, 0x15 };

	assert_int_equal(py_linetable_line(cut_long, sizeof(cut_long), 1, 0), -EINVAL);
	assert_int_equal(py_linetable_line(no_start, sizeof(no_start), 1, 0), -EINVAL);
	assert_int_equal(py_linetable_line(endless_varint, sizeof(endless_varint), 1, 0), -EINVAL);
	assert_int_equal(py_linetable_line(start_in_operand, sizeof(start_in_operand), 1, 0),
			 -EINVAL);
	assert_int_equal(py_linetable_line(bad_tail, sizeof(bad_tail), 5, 2), 5);
	assert_int_equal(py_linetable_line(bad_tail, sizeof(bad_tail), 5, 4), -EINVAL);
	assert_int_equal(py_linetable_line(huge_line, sizeof(huge_line), 1, 0), -EINVAL);
	assert_int_equal(py_linetable_line(below_one, sizeof(below_one), 5, 0), 0);
	assert_int_equal(py_linetable_line(NULL, 0, 5, 0), -ENOENT);
}

static uint8_t hex(char c)
{
	return (uint8_t)(c <= '9' ? c - '0' : c - 'a' + 10);
}

/* Each range [start, end) of co_lines() has its line; 0 for None. */
struct range {
	int start, end, line;
};

static void check_real(const char *table_hex, int firstlineno, const struct range *r, int n)
{
	uint8_t table[256];
	size_t len = 0;

	for (const char *p = table_hex; p[0] && p[1]; p += 2)
		table[len++] = (uint8_t)(hex(p[0]) << 4 | hex(p[1]));
	for (int i = 0; i < n; i++)
		for (int a = r[i].start; a < r[i].end; a += 2)
			assert_int_equal(py_linetable_line(table, len, firstlineno, a), r[i].line);
	assert_int_equal(py_linetable_line(table, len, firstlineno, r[n - 1].end), -ENOENT);
}

/*
 * def f(x):              # line 2
 *     y = x + 1
 *     if y:
 *         z = [i for i in range(3)]
 *     return (y,
 *             z)
 */
static void test_real_311(void **state)
{
	static const struct range r[] = {
		{ 0, 2, 2 },   { 2, 4, 3 },   { 4, 6, 3 },   { 6, 10, 3 },	{ 10, 12, 3 },
		{ 12, 14, 4 }, { 14, 16, 4 }, { 16, 18, 5 }, { 18, 20, 5 },	{ 20, 32, 5 },
		{ 32, 34, 5 }, { 34, 38, 5 }, { 38, 48, 5 }, { 48, 50, 5 },	{ 50, 54, 5 },
		{ 54, 64, 5 }, { 64, 66, 5 }, { 66, 68, 6 }, { 68, 70, 7 },	{ 70, 72, 6 },
		{ 72, 74, 6 },
	};

	check_real("8000d80809884189058041d80708f000010522d80c21d00c219d05986199089c08d00c21d1"
		   "0c21d40c218801d80c0dd80c0df003010c0ff00001050f",
		   2, r, sizeof(r) / sizeof(r[0]));
}

/* The same function under 3.13.0: its comprehension inlined, a range
 * without a location. */
static void test_real_313(void **state)
{
	static const struct range r[] = {
		{ 0, 2, 2 },   { 2, 12, 3 },  { 12, 26, 4 }, { 26, 76, 5 }, { 76, 78, 6 },
		{ 78, 80, 7 }, { 80, 84, 6 }, { 84, 88, 0 }, { 88, 94, 5 },
	};

	check_real("8000d80809884189058041de0708dc181d98619c08d30c21990890318a5199088801d00c21"
		   "d80c0dd80c0df003010c0ff00001050ff9f203000d22",
		   2, r, sizeof(r) / sizeof(r[0]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_form),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_real_311),
		cmocka_unit_test(test_real_313),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

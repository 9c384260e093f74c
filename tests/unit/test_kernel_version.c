// SPDX-License-Identifier: GPL-2.0
/* kernel_version (user/kernel_version.c): the minimum kernel check. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "kernel_version.h"

static void test_parse(void **state)
{
	unsigned int a = 0, b = 0;

	assert_int_equal(kernel_version_parse("6.18.44-fc-v1045", &a, &b), 0);
	assert_int_equal(a, 6);
	assert_int_equal(b, 18);
	assert_int_equal(kernel_version_parse("5.4.0-150-generic", &a, &b), 0);
	assert_int_equal(a, 5);
	assert_int_equal(b, 4);
	assert_int_equal(kernel_version_parse("5.15", &a, &b), 0);
	assert_int_equal(b, 15);
	assert_int_equal(kernel_version_parse("6.1-rc3", &a, &b), 0);
	assert_int_equal(kernel_version_parse("4.18.0-513.el8.x86_64", &a, &b), 0);
	assert_int_equal(a, 4);
	assert_int_equal(b, 18);
	assert_int_equal(kernel_version_parse("6.8+", &a, &b), 0);
}

static void test_parse_rejects(void **state)
{
	unsigned int a = 7, b = 7;

	assert_int_equal(kernel_version_parse("", &a, &b), -EINVAL);
	assert_int_equal(kernel_version_parse(NULL, &a, &b), -EINVAL);
	assert_int_equal(kernel_version_parse("6", &a, &b), -EINVAL);
	assert_int_equal(kernel_version_parse("6.", &a, &b), -EINVAL);
	assert_int_equal(kernel_version_parse("v6.1", &a, &b), -EINVAL);
	assert_int_equal(kernel_version_parse("6.1x", &a, &b), -EINVAL);
	assert_int_equal(kernel_version_parse("-6.1", &a, &b), -EINVAL);
	assert_int_equal(kernel_version_parse("99999999999.1", &a, &b), -EINVAL);
	assert_int_equal(a, 7);
	assert_int_equal(b, 7);
}

/* Minor versions compare as numbers: 5.9 is older than 5.18. */
static void test_at_least(void **state)
{
	assert_int_equal(kernel_version_at_least("5.18.0", 5, 18), 1);
	assert_int_equal(kernel_version_at_least("5.19.17", 5, 18), 1);
	assert_int_equal(kernel_version_at_least("6.0.0", 5, 18), 1);
	assert_int_equal(kernel_version_at_least("6.1.0", 5, 18), 1);
	assert_int_equal(kernel_version_at_least("10.0", 5, 18), 1);
	assert_int_equal(kernel_version_at_least("5.17.15", 5, 18), 0);
	assert_int_equal(kernel_version_at_least("5.9.0", 5, 18), 0);
	assert_int_equal(kernel_version_at_least("5.15.0-91-generic", 5, 18), 0);
	assert_int_equal(kernel_version_at_least("4.19.0", 5, 18), 0);
	assert_int_equal(kernel_version_at_least("4.99", 5, 18), 0);
	assert_int_equal(kernel_version_at_least("garbage", 5, 18), -EINVAL);
	assert_int_equal(kernel_version_at_least("5.18", LW_MIN_KERNEL_MAJOR,
						 LW_MIN_KERNEL_MINOR), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_at_least),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

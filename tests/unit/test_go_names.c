// SPDX-License-Identifier: GPL-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include "go_names.h"

static void check(const char *raw, size_t len, const char *want)
{
	char buf[64];

	assert_string_equal(go_func_print_name(raw, buf, len), want);
}

/* As runtime.funcNameForPrint: the shapes of a generic instance hidden. */
static void test_generic_instances_print_as_dots(void **state)
{
	check("main.Map[go.shape.int,go.shape.string]", 64, "main.Map[...]");
	check("main.(*Set[go.shape.int]).Add", 64, "main.(*Set[...]).Add");
	check("main.f[go.shape.int].func1", 64, "main.f[...].func1");
}

static void test_plain_and_odd_names_unchanged(void **state)
{
	check("main.queryAll.func1", 64, "main.queryAll.func1");
	check("main.weird]name[", 64, "main.weird]name[");
	check("a[", 64, "a[");
	check("main.Map[go.shape.int]", 8, "main.Ma"); /* truncated, ended */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generic_instances_print_as_dots),
		cmocka_unit_test(test_plain_and_odd_names_unchanged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

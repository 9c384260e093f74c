// SPDX-License-Identifier: GPL-2.0
/* duration_parse and duration_format (user/duration.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "duration.h"

#define NS 1ULL
#define US 1000ULL
#define MS 1000000ULL
#define SEC 1000000000ULL
#define MIN (60 * SEC)
#define HOUR (60 * MIN)

/* Macros, so that a failure names the caller's line; the input is printed too. */
#define expect_ns(s, want)                                                        \
	do {                                                                      \
		uint64_t ns_ = 12345;                                             \
		int rc_ = duration_parse(s, &ns_);                                \
		if (rc_ != 0 || ns_ != (uint64_t)(want))                          \
			print_error("duration_parse(\"%s\") = %d, %llu ns\n", s, rc_, \
				    (unsigned long long)ns_);                     \
		assert_int_equal(rc_, 0);                                         \
		assert_int_equal(ns_, (uint64_t)(want));                          \
	} while (0)

#define expect_err(s, err)                                                         \
	do {                                                                       \
		const char *s_ = (s);                                              \
		uint64_t ns_ = 12345;                                              \
		int rc_ = duration_parse(s_, &ns_);                                \
		if (rc_ != (err))                                                  \
			print_error("duration_parse(\"%s\") = %d\n", s_ ? s_ : "(null)", \
				    rc_);                                          \
		assert_int_equal(rc_, (err));                                      \
		assert_int_equal(ns_, 12345); /* untouched on error */            \
	} while (0)

static void test_parse_each_unit(void **state)
{
	expect_ns("500ms", 500 * MS);
	expect_ns("10s", 10 * SEC);
	expect_ns("2m", 2 * MIN);
	expect_ns("1h", HOUR);
	expect_ns("250us", 250 * US);
	expect_ns("100ns", 100 * NS);
}

static void test_parse_bare_number_is_seconds(void **state)
{
	expect_ns("3", 3 * SEC);
	expect_ns("0.25", 250 * MS);
}

static void test_parse_fractions(void **state)
{
	expect_ns("1.5s", 1500 * MS);
	expect_ns("0.5m", 30 * SEC);
	expect_ns("1.25h", 75 * MIN);
	expect_ns("2.5ms", 2500 * US);
	/* strtod's forms with the dot at either end are accepted. */
	expect_ns(".5s", 500 * MS);
	expect_ns("1.s", SEC);
}

static void test_parse_rounds_to_nearest_ns(void **state)
{
	expect_ns("1.4ns", 1);
	expect_ns("1.6ns", 2);
	expect_ns("0.000000001", 1); /* 1e-9 s */
}

/* duration_parse itself accepts zero; args_parse rejects a zero DUR. */
static void test_parse_zero_is_accepted(void **state)
{
	expect_ns("0", 0);
	expect_ns("0s", 0);
	expect_ns("0.0ms", 0);
}

static void test_parse_large_values(void **state)
{
	expect_ns("1000000h", 1000000 * HOUR);
	/* Beyond INT64_MAX ns (about 292 years) but within uint64. */
	expect_ns("10000000000s", 10000000000ULL * SEC);
	expect_ns("5000000h", 5000000ULL * HOUR);
}

static void test_parse_rejects_malformed(void **state)
{
	static const char *const bad[] = {
		"",	"10x",	"-1",  "+1",  " 1s",   "1 s",  "s",	   "ms",    "inf",
		"nan",	"infs", "0x10", "1e3", "1E3s", "1s ",  "1S",	   "10sec", "1.5.5s",
		"1,5s", ".",	"-0",  "1m30s", "\t1s", "1s\n", "0x1p3s", "NaN",   "-inf",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_err(bad[i], -EINVAL);
}

static void test_parse_rejects_null(void **state)
{
	expect_err(NULL, -EINVAL);
}

static void test_parse_overflow_is_erange(void **state)
{
	/* UINT64_MAX ns is about 18446744073.7 s. */
	expect_err("18446744074s", -ERANGE);
	expect_err("5124096h", -ERANGE);
	expect_err("99999999999999999999999h", -ERANGE);
	expect_err("307445735m", -ERANGE);
}

static const char *fmt(uint64_t ns, char *buf, size_t len)
{
	const char *ret = duration_format(ns, buf, len);

	assert_ptr_equal(ret, buf);
	return ret;
}

static void test_format_sub_second(void **state)
{
	char buf[32];

	assert_string_equal(fmt(0, buf, sizeof(buf)), "0ns");
	assert_string_equal(fmt(999, buf, sizeof(buf)), "999ns");
	assert_string_equal(fmt(1000, buf, sizeof(buf)), "1us");
	assert_string_equal(fmt(250 * US, buf, sizeof(buf)), "250us");
	assert_string_equal(fmt(500 * MS, buf, sizeof(buf)), "500ms");
	assert_string_equal(fmt(999999999, buf, sizeof(buf)), "999ms");
}

static void test_format_seconds_one_decimal(void **state)
{
	char buf[32];

	assert_string_equal(fmt(SEC, buf, sizeof(buf)), "1.0s");
	assert_string_equal(fmt(1500 * MS, buf, sizeof(buf)), "1.5s");
	assert_string_equal(fmt(10 * SEC, buf, sizeof(buf)), "10.0s");
	assert_string_equal(fmt(59 * SEC, buf, sizeof(buf)), "59.0s");
}

static void test_format_minutes_and_hours(void **state)
{
	char buf[32];

	assert_string_equal(fmt(MIN, buf, sizeof(buf)), "1m00s");
	assert_string_equal(fmt(150 * SEC, buf, sizeof(buf)), "2m30s");
	assert_string_equal(fmt(59 * MIN + 59 * SEC, buf, sizeof(buf)), "59m59s");
	assert_string_equal(fmt(HOUR, buf, sizeof(buf)), "1h00m");
	assert_string_equal(fmt(HOUR + 30 * MIN + 59 * SEC, buf, sizeof(buf)), "1h30m");
	assert_string_equal(fmt(25 * HOUR, buf, sizeof(buf)), "25h00m");
	assert_string_equal(fmt(UINT64_MAX, buf, sizeof(buf)), "5124095h34m");
}

static void test_format_truncates_to_buffer(void **state)
{
	char buf[4];

	memset(buf, 'x', sizeof(buf));
	assert_string_equal(fmt(150 * SEC, buf, sizeof(buf)), "2m3");
}

static void test_format_then_parse_round_trip(void **state)
{
	static const uint64_t values[] = { 7, 250 * US, 500 * MS, 1500 * MS, 10 * SEC };
	char buf[32];
	uint64_t ns;
	size_t i;

	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		assert_int_equal(duration_parse(fmt(values[i], buf, sizeof(buf)), &ns), 0);
		assert_int_equal(ns, values[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_each_unit),
		cmocka_unit_test(test_parse_bare_number_is_seconds),
		cmocka_unit_test(test_parse_fractions),
		cmocka_unit_test(test_parse_rounds_to_nearest_ns),
		cmocka_unit_test(test_parse_zero_is_accepted),
		cmocka_unit_test(test_parse_large_values),
		cmocka_unit_test(test_parse_rejects_malformed),
		cmocka_unit_test(test_parse_rejects_null),
		cmocka_unit_test(test_parse_overflow_is_erange),
		cmocka_unit_test(test_format_sub_second),
		cmocka_unit_test(test_format_seconds_one_decimal),
		cmocka_unit_test(test_format_minutes_and_hours),
		cmocka_unit_test(test_format_truncates_to_buffer),
		cmocka_unit_test(test_format_then_parse_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

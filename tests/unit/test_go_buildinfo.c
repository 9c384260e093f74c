// SPDX-License-Identifier: GPL-2.0
/* go_buildinfo_version and go_version_parse (user/go_buildinfo.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "go_buildinfo.h"

/* A .go.buildinfo as Go 1.18+ writes it: magic, pointer size 8, flags
 * (2: inline strings), padding to 32, then varint-prefixed version and
 * module info.  Returns its length. */
static size_t make_buildinfo(uint8_t *buf, size_t at, uint8_t flags, const char *version)
{
	size_t n = strlen(version);

	memset(buf, 0, at + 32);
	memcpy(buf + at, "\xff Go buildinf:", 14);
	buf[at + 14] = 8;
	buf[at + 15] = flags;
	buf[at + 32] = (uint8_t)n;
	memcpy(buf + at + 33, version, n);
	buf[at + 33 + n] = 3; /* module info, as the linker puts it next */
	memcpy(buf + at + 34 + n, "abc", 3);
	return at + 37 + n;
}

/* Exactly len bytes on the heap: ASan sees a read past them. */
static int version_of(const uint8_t *src, size_t len, char *out, size_t out_len)
{
	uint8_t *copy = malloc(len ? len : 1);
	int err;

	memcpy(copy, src, len);
	err = go_buildinfo_version(copy, len, out, out_len);
	free(copy);
	return err;
}

static void test_version_inline_strings(void **state)
{
	uint8_t buf[256];
	char v[64];
	size_t len = make_buildinfo(buf, 0, 2, "go1.21.3");

	assert_int_equal(version_of(buf, len, v, sizeof(v)), 0);
	assert_string_equal(v, "go1.21.3");
	/* Found at a later 16-byte boundary too. */
	len = make_buildinfo(buf, 48, 2, "go1.27.3 X:boringcrypto");
	assert_int_equal(version_of(buf, len, v, sizeof(v)), 0);
	assert_string_equal(v, "go1.27.3 X:boringcrypto");
}

static void test_no_magic(void **state)
{
	uint8_t buf[256];
	char v[64];
	size_t len = make_buildinfo(buf, 0, 2, "go1.21.3");

	buf[3] = 'x';
	assert_int_equal(version_of(buf, len, v, sizeof(v)), -ENOEXEC);
	/* Not at a 16-byte boundary: not a header. */
	len = make_buildinfo(buf, 8, 2, "go1.21.3");
	assert_int_equal(version_of(buf, len, v, sizeof(v)), -ENOEXEC);
	assert_int_equal(version_of(buf, 0, v, sizeof(v)), -ENOEXEC);
}

static void test_pointer_format_refused(void **state)
{
	uint8_t buf[256];
	char v[64];
	size_t len = make_buildinfo(buf, 0, 0, "go1.16");

	assert_int_equal(version_of(buf, len, v, sizeof(v)), -ENOTSUP);
}

static void test_malformed(void **state)
{
	uint8_t buf[256];
	char v[64];
	size_t len = make_buildinfo(buf, 0, 2, "go1.21.3");

	/* Every truncation: never a read past the end, never success with a
	 * partial version. */
	for (size_t cut = 0; cut < 33 + 8; cut++)
		assert_int_not_equal(version_of(buf, cut, v, sizeof(v)), 0);
	/* A length past the end. */
	buf[32] = 200;
	assert_int_equal(version_of(buf, len, v, sizeof(v)), -EINVAL);
	/* A varint that never ends. */
	memset(buf + 32, 0xff, 20);
	assert_int_equal(version_of(buf, 52, v, sizeof(v)), -EINVAL);
	/* A huge varint. */
	len = make_buildinfo(buf, 0, 2, "go1.21.3");
	memcpy(buf + 32, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 10);
	assert_int_equal(version_of(buf, len, v, sizeof(v)), -EINVAL);
	/* Longer than the caller's buffer. */
	len = make_buildinfo(buf, 0, 2, "go1.21.3");
	assert_int_equal(version_of(buf, len, v, 8), -EINVAL);
	/* Empty, or not text. */
	len = make_buildinfo(buf, 0, 2, "go1.21.3");
	buf[32] = 0;
	assert_int_equal(version_of(buf, len, v, sizeof(v)), -EINVAL);
	len = make_buildinfo(buf, 0, 2, "go1.2\n.3");
	assert_int_equal(version_of(buf, len, v, sizeof(v)), -EINVAL);
}

static void expect_parse(const char *s, int want_major, int want_minor)
{
	int major = -1, minor = -1;

	if (go_version_parse(s, &major, &minor))
		print_error("go_version_parse(\"%s\") failed\n", s);
	assert_int_equal(go_version_parse(s, &major, &minor), 0);
	assert_int_equal(major, want_major);
	assert_int_equal(minor, want_minor);
}

static void test_version_parse(void **state)
{
	int major, minor;

	expect_parse("go1.21.3", 1, 21);
	expect_parse("go1.19", 1, 19);
	expect_parse("go1.22rc1", 1, 22);
	expect_parse("go1.23beta2", 1, 23);
	expect_parse("go1.23.0 X:boringcrypto", 1, 23);
	expect_parse("devel go1.24-abcdef Mon Jan 1", 1, 24);
	assert_int_equal(go_version_parse("go1", &major, &minor), -EINVAL);
	assert_int_equal(go_version_parse("go1.", &major, &minor), -EINVAL);
	assert_int_equal(go_version_parse("1.21.3", &major, &minor), -EINVAL);
	assert_int_equal(go_version_parse("go1.21x", &major, &minor), -EINVAL);
	assert_int_equal(go_version_parse("go1.99999", &major, &minor), -EINVAL);
	assert_int_equal(go_version_parse("", &major, &minor), -EINVAL);
	assert_int_equal(go_version_parse(NULL, &major, &minor), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version_inline_strings),
		cmocka_unit_test(test_no_magic),
		cmocka_unit_test(test_pointer_format_refused),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_version_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

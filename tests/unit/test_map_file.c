// SPDX-License-Identifier: GPL-2.0
/*
 * Where a mapped file is opened from (user/map_file.c): the kernel's link
 * first, then the name inside the process's root (a chroot's prefix taken
 * off the name /proc/PID/maps shows), then the name; a deleted file by the
 * link only; and the lines of /proc/PID/maps read for it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "map_file.h"

static void test_in_root_takes_the_chroot_off(void **state)
{
	/* A chroot in a tmpfs of another mount namespace: maps names the
	 * binary from that namespace's root. */
	assert_string_equal(map_file_in_root("/tmp/ns/a/bin/query", "/tmp/ns/a"), "/bin/query");
	assert_string_equal(map_file_in_root("/tmp/ns/a/bin/query", "/tmp/ns/a/"), "/bin/query");
	assert_string_equal(map_file_in_root("/tmp/ns/a/lib/x86_64-linux-gnu/libc.so.6",
					     "/tmp/ns/a"),
			    "/lib/x86_64-linux-gnu/libc.so.6");
}

static void test_in_root_keeps_other_names(void **state)
{
	/* No chroot (pivot_root, a plain namespace), or no link. */
	assert_string_equal(map_file_in_root("/bin/query", "/"), "/bin/query");
	assert_string_equal(map_file_in_root("/bin/query", NULL), "/bin/query");
	assert_string_equal(map_file_in_root("/bin/query", ""), "/bin/query");
	/* Not on a component boundary: /tmp/ns/ab is not under /tmp/ns/a. */
	assert_string_equal(map_file_in_root("/tmp/ns/ab/query", "/tmp/ns/a"), "/tmp/ns/ab/query");
	/* The root itself, and a file mapped from outside the root. */
	assert_string_equal(map_file_in_root("/tmp/ns/a", "/tmp/ns/a"), "/tmp/ns/a");
	assert_string_equal(map_file_in_root("/usr/sbin/sshd", "/run/sshd"), "/usr/sbin/sshd");
	/* A link that is not a path (a root in no namespace of ours). */
	assert_string_equal(map_file_in_root("/bin/query", "mnt:[4026531841]"), "/bin/query");
}

static void test_candidates_in_order(void **state)
{
	struct map_file_candidate c[MAP_FILE_WAYS];
	struct map_file_ref r = { .tid = 4242, .start = 0x561bd7e10000, .end = 0x561bd7e11000,
				  .ino = 3, .name = "/tmp/ns/a/bin/query" };

	assert_int_equal(map_file_candidates(&r, "/tmp/ns/a", c), 3);
	assert_int_equal(c[0].way, MAP_FILE_MAP_FILES);
	assert_string_equal(c[0].path, "/proc/4242/map_files/561bd7e10000-561bd7e11000");
	assert_int_equal(c[1].way, MAP_FILE_ROOT);
	assert_string_equal(c[1].path, "/proc/4242/root/bin/query");
	assert_int_equal(c[2].way, MAP_FILE_PATH);
	assert_string_equal(c[2].path, "/tmp/ns/a/bin/query");

	/* Root unknown: the name as it is, under the root. */
	assert_int_equal(map_file_candidates(&r, NULL, c), 3);
	assert_string_equal(c[1].path, "/proc/4242/root/tmp/ns/a/bin/query");
}

static void test_candidates_deleted_or_not_a_file(void **state)
{
	struct map_file_candidate c[MAP_FILE_WAYS];
	struct map_file_ref r = { .tid = 7, .start = 0x1000, .end = 0x2000, .ino = 9,
				  .name = "/tmp/x/query (deleted)" };

	/* Its name may be a FIFO's now: the kernel's link only. */
	assert_int_equal(map_file_candidates(&r, "/", c), 1);
	assert_int_equal(c[0].way, MAP_FILE_MAP_FILES);
	assert_string_equal(c[0].path, "/proc/7/map_files/1000-2000");
	r.name = "[vdso]";
	assert_int_equal(map_file_candidates(&r, "/", c), 1);
	r.name = "query";
	assert_int_equal(map_file_candidates(&r, "/", c), 1);
	r.name = NULL;
	assert_int_equal(map_file_candidates(&r, "/", c), 1);
	/* " (deleted)" alone is a name, not a mark. */
	r.name = "/ (deleted)";
	assert_true(map_file_deleted(r.name));
	assert_false(map_file_deleted(" (deleted)"));
	assert_false(map_file_deleted("/bin/query"));
}

static void test_candidates_too_long(void **state)
{
	static char name[sizeof(((struct map_file_candidate *)0)->path) + 16];
	struct map_file_candidate c[MAP_FILE_WAYS];
	struct map_file_ref r = { .tid = 1, .start = 1, .end = 2, .ino = 3, .name = name };

	/* A name that no candidate holds whole is no candidate, never a cut one. */
	memset(name, 'a', sizeof(name) - 1);
	name[0] = '/';
	assert_int_equal(map_file_candidates(&r, "/", c), 1);
	/* One that fits as it is, not under /proc/1/root. */
	name[sizeof(c[0].path) - 1] = '\0';
	assert_int_equal(map_file_candidates(&r, "/", c), 2);
	assert_int_equal(c[1].way, MAP_FILE_PATH);
	assert_int_equal(strlen(c[1].path), sizeof(c[0].path) - 1);
}

static void test_parse_line(void **state)
{
	char line[] = "561bd7e11000-561bd7e12000 r-xp 00001000 00:28 3"
		      "                          /tmp/ns/a/bin/query (deleted)\n";
	char anon[] = "7ffd2c1f6000-7ffd2c217000 rw-p 00000000 00:00 0 \n";
	char big_ino[] = "7f0000000000-7f0000001000 r--p 00000000 fd:01 18446744073709551615 /x\n";
	char cut[] = "561bd7e11000-561bd7e12000 r-xp 00001000 00:28 3 /tmp/ns/a/bin/que";
	char junk[] = "not a maps line\n";
	uint64_t start, end, off, ino;
	const char *path;

	assert_true(map_file_parse_line(line, &start, &end, &off, &ino, &path));
	assert_int_equal(start, 0x561bd7e11000);
	assert_int_equal(end, 0x561bd7e12000);
	assert_int_equal(off, 0x1000);
	assert_int_equal(ino, 3);
	assert_string_equal(path, "/tmp/ns/a/bin/query (deleted)");
	assert_true(map_file_parse_line(anon, &start, &end, &off, &ino, &path));
	assert_null(path);
	assert_int_equal(ino, 0);
	assert_true(map_file_parse_line(big_ino, &start, &end, &off, &ino, &path));
	assert_int_equal(ino, UINT64_MAX);
	assert_string_equal(path, "/x");
	assert_false(map_file_parse_line(cut, &start, &end, &off, &ino, &path));
	assert_false(map_file_parse_line(junk, &start, &end, &off, &ino, &path));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_root_takes_the_chroot_off),
		cmocka_unit_test(test_in_root_keeps_other_names),
		cmocka_unit_test(test_candidates_in_order),
		cmocka_unit_test(test_candidates_deleted_or_not_a_file),
		cmocka_unit_test(test_candidates_too_long),
		cmocka_unit_test(test_parse_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

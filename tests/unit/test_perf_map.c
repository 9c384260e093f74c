// SPDX-License-Identifier: GPL-2.0
/*
 * perf map files: the parser on well-formed, malformed and hostile text, and
 * the per-process files (perf_maps) on a directory standing in for /proc:
 * PID/status (NSpid) and PID/root/tmp/perf-NSPID.map.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>
#include <cmocka.h>
#include <linux/openat2.h>
#include "perf_map.h"

/* Internal to perf_map.c: proc_dir in place of /proc, and a budget. */
int perf_maps_new_at(const char *proc_dir, struct perf_maps **out);
int perf_maps_new_budget_at(const char *proc_dir, size_t budget, struct perf_maps **out);

static struct perf_map *parse_n(const char *text, size_t len)
{
	struct perf_map *m;

	assert_int_equal(perf_map_parse(text, len, &m), 0);
	assert_non_null(m);
	return m;
}

static struct perf_map *parse(const char *text)
{
	return parse_n(text, strlen(text));
}

/* addr is in the symbol want_name starting at want_start. */
static void expect(const struct perf_map *m, uint64_t addr, const char *want_name,
		   uint64_t want_start)
{
	const char *name = NULL;
	uint64_t start = 0;

	if (!perf_map_lookup(m, addr, &name, &start)) {
		print_error("0x%llx: no symbol, want %s\n", (unsigned long long)addr, want_name);
		fail();
	}
	assert_string_equal(name, want_name);
	assert_int_equal(start, want_start);
}

static void expect_none(const struct perf_map *m, uint64_t addr)
{
	const char *name = NULL;
	uint64_t start = 0;

	if (perf_map_lookup(m, addr, &name, &start)) {
		print_error("0x%llx: got %s, want none\n", (unsigned long long)addr, name);
		fail();
	}
}

static void test_well_formed_lines(void **state)
{
	struct perf_map *m = parse("7f0000001000 100 Interpreter\n"
				   "0x7f0000002000 0x40 void Spin.spinLoop()\n"
				   "0X7F0000003000 0X10 LazyCompile:*spin /tmp/spin.js:3\n");

	assert_int_equal(perf_map_entries(m), 3);
	assert_int_equal(perf_map_bad_lines(m), 0);
	expect(m, 0x7f0000001000, "Interpreter", 0x7f0000001000);
	expect(m, 0x7f00000010ff, "Interpreter", 0x7f0000001000);
	expect_none(m, 0x7f0000001100);
	expect(m, 0x7f0000002000, "void Spin.spinLoop()", 0x7f0000002000);
	expect(m, 0x7f000000203f, "void Spin.spinLoop()", 0x7f0000002000);
	expect_none(m, 0x7f0000002040);
	expect(m, 0x7f0000003008, "LazyCompile:*spin /tmp/spin.js:3", 0x7f0000003000);
	expect_none(m, 0x7f0000000fff);
	expect_none(m, 0);
	expect_none(m, UINT64_MAX);
	perf_map_free(m);
}

/* Tabs and runs of blanks between fields, CRLF, trailing blanks, leading
 * zeros: the name is what is between the blanks after SIZE and the end. */
static void test_blanks_and_crlf(void **state)
{
	struct perf_map *m = parse("  1000\t \t10   a b  c \t\r\n"
				   "0x0000000000002000 0x0000000000000010 x\r\n");

	assert_int_equal(perf_map_bad_lines(m), 0);
	expect(m, 0x1005, "a b  c", 0x1000);
	expect(m, 0x2000, "x", 0x2000);
	perf_map_free(m);
}

static void test_malformed_lines_skipped_and_counted(void **state)
{
	static const char text[] = "1000 10 good1\n"
				   "nonsense\n"
				   "2000\n"                   /* no SIZE */
				   "2000 \n"                  /* no SIZE */
				   "2000 10\n"                /* no NAME */
				   "2000 10 \t \r\n"          /* blank NAME */
				   "2000 0 zero\n"            /* SIZE 0 */
				   "0x 10 nodigits\n"         /* no digits */
				   "2000 0x name\n"           /* no digits */
				   "20g0 10 badhex\n"         /* not hex */
				   "2000 1g name\n"           /* not hex */
				   "2000-10 name\n"           /* no blank */
				   "10000000000000000 1 big\n" /* START past 64 bits */
				   "2000 10000000000000000 big\n" /* SIZE past 64 bits */
				   "ffffffffffffff00 100 wrap\n"  /* to 2^64 exactly */
				   "ffffffffffffff00 1000 wrap\n" /* past it */
				   "-2000 10 neg\n"
				   "\n"                           /* empty: not a line */
				   "3000 10 good2\n";
	struct perf_map *m = parse(text);

	assert_int_equal(perf_map_entries(m), 2);
	assert_int_equal(perf_map_bad_lines(m), 16);
	expect(m, 0x1000, "good1", 0x1000);
	expect(m, 0x3000, "good2", 0x3000);
	expect_none(m, 0x2000);
	expect_none(m, 0xffffffffffffff80);
	perf_map_free(m);
}

/* The largest range that does not wrap: up to the last byte. */
static void test_range_to_the_top(void **state)
{
	struct perf_map *m = parse("ffffffffffffff00 ff top\n");

	expect(m, 0xfffffffffffffffe, "top", 0xffffffffffffff00);
	expect_none(m, UINT64_MAX);
	perf_map_free(m);
}

static void test_no_final_newline(void **state)
{
	struct perf_map *m = parse("1000 10 a\n2000 10 last");

	assert_int_equal(perf_map_entries(m), 2);
	expect(m, 0x2001, "last", 0x2000);
	perf_map_free(m);
}

/* The text is not NUL-terminated: nothing is read past len. */
static void test_reads_only_len_bytes(void **state)
{
	char *text = malloc(12);
	struct perf_map *m;

	assert_non_null(text);
	memcpy(text, "1000 10 abcd", 12);
	m = parse_n(text, 12);
	expect(m, 0x1000, "abcd", 0x1000);
	perf_map_free(m);
	m = parse_n(text, 9); /* "1000 10 a" */
	expect(m, 0x1000, "a", 0x1000);
	perf_map_free(m);
	m = parse_n(text, 0);
	assert_int_equal(perf_map_entries(m), 0);
	expect_none(m, 0x1000);
	perf_map_free(m);
	free(text);
}

/* A NUL byte makes its line malformed (its name would be cut short); the
 * lines around it stay. */
static void test_nul_bytes_inside(void **state)
{
	static const char text[] = "1000 10 a\0b\n2000\0 10 c\n3000 10 d\n\0\n";
	struct perf_map *m = parse_n(text, sizeof(text) - 1);

	assert_int_equal(perf_map_entries(m), 1);
	assert_int_equal(perf_map_bad_lines(m), 3);
	expect_none(m, 0x1000);
	expect_none(m, 0x2000);
	expect(m, 0x3000, "d", 0x3000);
	perf_map_free(m);
}

static void test_unsorted_input(void **state)
{
	struct perf_map *m = parse("5000 10 e\n1000 10 a\n3000 10 c\n2000 10 b\n4000 10 d\n");

	assert_int_equal(perf_map_entries(m), 5);
	expect(m, 0x1008, "a", 0x1000);
	expect(m, 0x2008, "b", 0x2000);
	expect(m, 0x3008, "c", 0x3000);
	expect(m, 0x4008, "d", 0x4000);
	expect(m, 0x5008, "e", 0x5000);
	expect_none(m, 0x1010);
	expect_none(m, 0x4fff);
	perf_map_free(m);
}

/* The later line wins where lines overlap; what only the earlier covers
 * stays the earlier's, with its own start. */
static void test_overlaps_later_line_wins(void **state)
{
	struct perf_map *m;

	/* The same range written again: code replaced in place. */
	m = parse("1000 100 old\n1000 100 new\n");
	expect(m, 0x1000, "new", 0x1000);
	expect(m, 0x10ff, "new", 0x1000);
	perf_map_free(m);

	/* A later one inside an earlier one: the earlier one around it. */
	m = parse("1000 100 outer\n1040 10 inner\n");
	expect(m, 0x103f, "outer", 0x1000);
	expect(m, 0x1040, "inner", 0x1040);
	expect(m, 0x104f, "inner", 0x1040);
	expect(m, 0x1050, "outer", 0x1000);
	expect(m, 0x10ff, "outer", 0x1000);
	perf_map_free(m);

	/* An earlier one inside a later one: hidden. */
	m = parse("1040 10 inner\n1000 100 outer\n");
	expect(m, 0x1040, "outer", 0x1000);
	expect(m, 0x1048, "outer", 0x1000);
	perf_map_free(m);

	/* A chain of partial overlaps, latest on top at each point. */
	m = parse("1000 30 a\n1020 30 b\n1010 18 c\n1040 20 d\n");
	expect(m, 0x100f, "a", 0x1000);
	expect(m, 0x1010, "c", 0x1010);
	expect(m, 0x1027, "c", 0x1010);
	expect(m, 0x1028, "b", 0x1020);
	expect(m, 0x103f, "b", 0x1020);
	expect(m, 0x1040, "d", 0x1040);
	expect(m, 0x105f, "d", 0x1040);
	expect_none(m, 0x1060);
	perf_map_free(m);

	/* An early long one under later short ones, past the first's end. */
	m = parse("1000 1000 long\n1100 10 s1\n1200 10 s2\n1f00 200 past\n");
	expect(m, 0x1000, "long", 0x1000);
	expect(m, 0x1105, "s1", 0x1100);
	expect(m, 0x1110, "long", 0x1000);
	expect(m, 0x1205, "s2", 0x1200);
	expect(m, 0x1eff, "long", 0x1000);
	expect(m, 0x1f00, "past", 0x1f00);
	expect(m, 0x20ff, "past", 0x1f00);
	expect_none(m, 0x2100);
	perf_map_free(m);
}

/* Names past PERF_MAP_NAME_MAX are cut there, never inside a UTF-8
 * sequence. */
static void test_long_names_cut(void **state)
{
	size_t n = PERF_MAP_NAME_MAX + 100, i;
	char *text = malloc(n + PERF_MAP_NAME_MAX + 64), *p;
	struct perf_map *m;
	const char *name;
	uint64_t start;

	assert_non_null(text);
	p = text + sprintf(text, "1000 10 ");
	for (i = 0; i < n; i++)
		p[i] = 'a' + (char)(i % 26);
	strcpy(p + n, "\n2000 10 ");
	p += n + 9;
	/* "é" (2 bytes) straddling the cut. */
	memset(p, 'x', PERF_MAP_NAME_MAX - 1);
	memcpy(p + PERF_MAP_NAME_MAX - 1, "\xc3\xa9zz\n", 5);
	m = parse_n(text, (size_t)(p + PERF_MAP_NAME_MAX + 4 - text));
	assert_true(perf_map_lookup(m, 0x1000, &name, &start));
	assert_int_equal(strlen(name), PERF_MAP_NAME_MAX);
	assert_memory_equal(name, text + 8, PERF_MAP_NAME_MAX);
	assert_true(perf_map_lookup(m, 0x2000, &name, &start));
	assert_int_equal(strlen(name), PERF_MAP_NAME_MAX - 1);
	perf_map_free(m);
	free(text);
}

/* More lines than PERF_MAP_MAX_ENTRIES: the latest kept, the rest counted. */
static void test_huge_counts_bounded(void **state)
{
	size_t extra = 1000, n = PERF_MAP_MAX_ENTRIES + extra, i;
	char *text = malloc(n * 32), *p = text, last[32];
	struct perf_map *m;

	assert_non_null(text);
	for (i = 0; i < n; i++)
		p += sprintf(p, "%zx 10 f%zx\n", 0x1000 + i * 0x10, i);
	m = parse_n(text, (size_t)(p - text));
	assert_int_equal(perf_map_entries(m), PERF_MAP_MAX_ENTRIES);
	assert_int_equal(perf_map_bad_lines(m), extra);
	expect_none(m, 0x1000);
	expect_none(m, 0x1000 + (extra - 1) * 0x10);
	expect(m, 0x1000 + extra * 0x10, "f3e8", 0x1000 + extra * 0x10);
	snprintf(last, sizeof(last), "f%zx", n - 1);
	expect(m, 0x1000 + (n - 1) * 0x10 + 0xf, last, 0x1000 + (n - 1) * 0x10);
	perf_map_free(m);
	free(text);
}

/* A directory standing in for /proc with one process, pid 4242, whose
 * pid in its own namespace is 7. */
struct fake_proc {
	char dir[64];
	char tmp[160];
	char map[192];
	struct perf_maps *pm;
};

#define PID 4242
#define NSPID 7
#define SEC 1000000000ull

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static int fake_setup(void **state)
{
	struct fake_proc *fp = calloc(1, sizeof(*fp));
	char path[160];

	if (!fp)
		return -1;
	/* Not under /tmp: the symlink test points root/tmp into this path. */
	strcpy(fp->dir, "/var/tmp/lw-test-perfmap.XXXXXX");
	if (!mkdtemp(fp->dir))
		return -1;
	snprintf(path, sizeof(path), "%s/%d", fp->dir, PID);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%d/status", fp->dir, PID);
	write_file(path, "Name:\tjava\nTgid:\t4242\nPid:\t4242\nNStgid:\t4242\t7\n"
			 "NSpid:\t4242\t7\nNSpgid:\t4242\t7\n");
	snprintf(path, sizeof(path), "%s/%d/root", fp->dir, PID);
	mkdir(path, 0755);
	snprintf(fp->tmp, sizeof(fp->tmp), "%s/%d/root/tmp", fp->dir, PID);
	mkdir(fp->tmp, 0755);
	snprintf(fp->map, sizeof(fp->map), "%s/perf-%d.map", fp->tmp, NSPID);
	if (perf_maps_new_at(fp->dir, &fp->pm))
		return -1;
	*state = fp;
	return 0;
}

static int fake_teardown(void **state)
{
	struct fake_proc *fp = *state;
	char cmd[128];

	perf_maps_free(fp->pm);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fp->dir);
	if (system(cmd))
		return -1;
	free(fp);
	return 0;
}

/* Sets the file's mtime: a rewrite within the same clock tick still shows. */
static void set_mtime(const char *path, long sec)
{
	struct timeval tv[2] = { { sec, 0 }, { sec, 0 } };

	assert_int_equal(utimes(path, tv), 0);
}

static bool lookup(struct fake_proc *fp, uint64_t pc, uint64_t now, char *name, size_t len)
{
	char module[32];
	uint64_t start;
	bool found = perf_maps_lookup(fp->pm, PID, pc, now, name, len, &start, module,
				      sizeof(module));

	if (found)
		assert_string_equal(module, "perf-7.map");
	return found;
}

static void test_maps_found_through_nspid(void **state)
{
	struct fake_proc *fp = *state;
	struct perf_maps_stats st;
	char name[64], module[32];
	uint64_t start;

	write_file(fp->map, "1000 100 jit_one\nbogus\n");
	assert_true(perf_maps_lookup(fp->pm, PID, 0x1010, SEC, name, sizeof(name), &start,
				     module, sizeof(module)));
	assert_string_equal(name, "jit_one");
	assert_int_equal(start, 0x1000);
	assert_string_equal(module, "perf-7.map");
	assert_false(lookup(fp, 0x2000, SEC, name, sizeof(name)));
	/* Another pid: no such process, no file, nothing counted. */
	assert_false(perf_maps_lookup(fp->pm, 99, 0x1010, SEC, name, sizeof(name), &start, NULL,
				      0));
	perf_maps_get_stats(fp->pm, &st);
	assert_int_equal(st.files_read, 1);
	assert_int_equal(st.lines_bad, 1);
	assert_int_equal(st.read_errors, 0);
	/* The name cut to the caller's buffer. */
	assert_true(lookup(fp, 0x1010, SEC, name, 4));
	assert_string_equal(name, "jit");
}

static void test_maps_reread_on_change(void **state)
{
	struct fake_proc *fp = *state;
	struct perf_maps_stats st;
	char name[64];

	write_file(fp->map, "1000 100 before\n");
	set_mtime(fp->map, 1000);
	assert_true(lookup(fp, 0x1010, SEC, name, sizeof(name)));
	assert_string_equal(name, "before");

	write_file(fp->map, "1000 100 after_\n");
	set_mtime(fp->map, 2000);
	/* Within the second: not looked at again. */
	assert_true(lookup(fp, 0x1010, SEC + SEC / 2, name, sizeof(name)));
	assert_string_equal(name, "before");
	/* A second on: looked at, changed, re-read. */
	assert_true(lookup(fp, 0x1010, 2 * SEC, name, sizeof(name)));
	assert_string_equal(name, "after_");
	perf_maps_get_stats(fp->pm, &st);
	assert_int_equal(st.files_read, 2);

	/* Looked at, unchanged: not read again. */
	assert_true(lookup(fp, 0x1010, 3 * SEC, name, sizeof(name)));
	perf_maps_get_stats(fp->pm, &st);
	assert_int_equal(st.files_read, 2);

	/* The same size and mtime but another file (renamed over it). */
	{
		char other[256];

		snprintf(other, sizeof(other), "%s/other", fp->tmp);
		write_file(other, "1000 100 third_\n");
		set_mtime(other, 2000);
		assert_int_equal(rename(other, fp->map), 0);
	}
	assert_true(lookup(fp, 0x1010, 4 * SEC, name, sizeof(name)));
	assert_string_equal(name, "third_");

	/* A line still being written is read once it is complete. */
	write_file(fp->map, "1000 100 third_\n2000 100 half");
	set_mtime(fp->map, 3000);
	assert_false(lookup(fp, 0x2010, 5 * SEC, name, sizeof(name)));
	write_file(fp->map, "1000 100 third_\n2000 100 halfway\n");
	set_mtime(fp->map, 3001);
	assert_true(lookup(fp, 0x2010, 6 * SEC, name, sizeof(name)));
	assert_string_equal(name, "halfway");

	/* Gone: the map goes with it, nothing counted. */
	assert_int_equal(unlink(fp->map), 0);
	assert_false(lookup(fp, 0x1010, 7 * SEC, name, sizeof(name)));
	perf_maps_get_stats(fp->pm, &st);
	assert_int_equal(st.read_errors, 0);

	/* Forgotten: looked at afresh at once. */
	write_file(fp->map, "1000 100 back\n");
	assert_false(lookup(fp, 0x1010, 7 * SEC, name, sizeof(name)));
	perf_maps_forget(fp->pm, PID);
	assert_true(lookup(fp, 0x1010, 7 * SEC, name, sizeof(name)));
	assert_string_equal(name, "back");
}

/* A file past PERF_MAP_MAX_BYTES is read from its end, where the later
 * lines are (a sparse file: nothing on disk), and counted as cut. */
static void test_maps_big_file_read_from_its_end(void **state)
{
	struct fake_proc *fp = *state;
	static const char head[] = "1000 10 head_entry\n", tail[] = "\n2000 10 tail_entry\n";
	off_t size = (off_t)PERF_MAP_MAX_BYTES + (1 << 20);
	struct perf_maps_stats st;
	char name[64];
	int fd;

	fd = open(fp->map, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, head, sizeof(head) - 1, 0), sizeof(head) - 1);
	assert_int_equal(pwrite(fd, tail, sizeof(tail) - 1, size - (off_t)sizeof(tail) + 1),
			 sizeof(tail) - 1);
	assert_int_equal(close(fd), 0);
	assert_true(lookup(fp, 0x2000, SEC, name, sizeof(name)));
	assert_string_equal(name, "tail_entry");
	assert_false(lookup(fp, 0x1000, SEC, name, sizeof(name)));
	perf_maps_get_stats(fp->pm, &st);
	assert_int_equal(st.files_read, 1);
	assert_int_equal(st.files_cut, 1);
	assert_int_equal(st.lines_bad, 0);
}

/* A FIFO planted at the path: refused at once (no reader waits on it), and
 * counted once, not at every look. */
static void test_maps_fifo_refused_without_blocking(void **state)
{
	struct fake_proc *fp = *state;
	struct perf_maps_stats st;
	char name[64];

	assert_int_equal(mkfifo(fp->map, 0644), 0);
	alarm(10); /* a blocking open fails the test instead of hanging it */
	assert_false(lookup(fp, 0x1010, SEC, name, sizeof(name)));
	assert_false(lookup(fp, 0x1010, 2 * SEC, name, sizeof(name)));
	alarm(0);
	perf_maps_get_stats(fp->pm, &st);
	assert_int_equal(st.files_read, 0);
	assert_int_equal(st.read_errors, 1);
}

static bool have_openat2(void)
{
	struct open_how how = { .flags = O_RDONLY | O_CLOEXEC };
	int fd = (int)syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof(how));

	if (fd >= 0)
		close(fd);
	return fd >= 0 || errno != ENOSYS;
}

/* A symlink planted at the path is not followed; one on the way (tmp ->
 * an absolute path) resolves inside the process's root, never the
 * daemon's: the same path on the host holds another map. */
static void test_maps_symlinks(void **state)
{
	struct fake_proc *fp = *state;
	struct perf_maps_stats st;
	char path[512], host[128], name[64];
	bool found;

	snprintf(path, sizeof(path), "%s/target", fp->tmp);
	write_file(path, "1000 100 via_link\n");
	assert_int_equal(symlink(path, fp->map), 0);
	assert_false(lookup(fp, 0x1010, SEC, name, sizeof(name)));
	perf_maps_get_stats(fp->pm, &st);
	assert_int_equal(st.read_errors, 1);

	/* root/tmp -> HOST (an absolute path); HOST/perf-7.map on the host
	 * and under the process's root. */
	snprintf(host, sizeof(host), "%s/host", fp->dir);
	assert_int_equal(mkdir(host, 0755), 0);
	snprintf(path, sizeof(path), "%s/perf-%d.map", host, NSPID);
	write_file(path, "1000 100 host_file\n");
	snprintf(path, sizeof(path), "mkdir -p '%s/%d/root%s' && rm -rf '%s'", fp->dir, PID, host,
		 fp->tmp);
	assert_int_equal(system(path), 0);
	assert_int_equal(symlink(host, fp->tmp), 0);
	snprintf(path, sizeof(path), "%s/%d/root%s/perf-%d.map", fp->dir, PID, host, NSPID);
	write_file(path, "1000 100 inside_root\n");
	found = lookup(fp, 0x1010, 2 * SEC, name, sizeof(name));
	if (have_openat2()) {
		assert_true(found);
		assert_string_equal(name, "inside_root");
	} else {
		/* No openat2 (valgrind): no symlink followed at all. */
		assert_false(found);
	}
}

/* A directory at the path: not a regular file. */
static void test_maps_directory_refused(void **state)
{
	struct fake_proc *fp = *state;
	struct perf_maps_stats st;
	char name[64];

	assert_int_equal(mkdir(fp->map, 0755), 0);
	assert_false(lookup(fp, 0x1010, SEC, name, sizeof(name)));
	perf_maps_get_stats(fp->pm, &st);
	assert_int_equal(st.read_errors, 1);
}

/* Symbols for the budget test: n lines named prefix_I. */
static char *map_text(const char *prefix, size_t n)
{
	char *text = malloc(n * 64), *p = text;
	size_t i;

	assert_non_null(text);
	for (i = 0; i < n; i++)
		p += sprintf(p, "%zx 10 %s_%04zu\n", 0x1000 + i * 0x10, prefix, i);
	return text;
}

static size_t text_bytes(const char *text)
{
	struct perf_map *m = parse(text);
	size_t bytes = perf_map_bytes(m);

	perf_map_free(m);
	return bytes;
}

/* A second process in the fake /proc: pid 4343, 8 in its namespace. */
#define PID2 4343

static void add_proc2(struct fake_proc *fp, char *map, size_t len)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/%d", fp->dir, PID2);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/%d/status", fp->dir, PID2);
	write_file(path, "Name:\tnode\nNSpid:\t4343\t8\n");
	snprintf(path, sizeof(path), "%s/%d/root", fp->dir, PID2);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/%d/root/tmp", fp->dir, PID2);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(map, len, "%s/perf-8.map", path);
}

static bool lookup_in(struct perf_maps *pm, uint32_t pid, uint64_t pc, uint64_t now, char *name,
		      size_t len)
{
	uint64_t start;

	return perf_maps_lookup(pm, pid, pc, now, name, len, &start, NULL, 0);
}

/*
 * Two processes whose maps together are past the budget: the second is not
 * kept, counted, and not read again while unchanged; a replaced map and a
 * forgotten one give their bytes back, and the second fits on its next
 * change.
 */
static void test_maps_shared_budget(void **state)
{
	struct fake_proc *fp = *state;
	char *a = map_text("aaaa", 200), *a2 = map_text("AAAA", 200), *b = map_text("bbbb", 200);
	size_t bytes_a = text_bytes(a), bytes_b = text_bytes(b);
	struct perf_maps_stats st;
	struct perf_maps *pm;
	char map2[192], name[64];

	assert_int_equal(text_bytes(a2), bytes_a);
	assert_true(bytes_a > 200 * 16);
	assert_int_equal(perf_maps_new_budget_at(fp->dir, bytes_a + bytes_b - 1, &pm), 0);
	add_proc2(fp, map2, sizeof(map2));
	write_file(fp->map, a);
	set_mtime(fp->map, 1000);
	write_file(map2, b);
	set_mtime(map2, 1000);

	assert_true(lookup_in(pm, PID, 0x1010, SEC, name, sizeof(name)));
	assert_string_equal(name, "aaaa_0001");
	/* The second would take the total past the budget: an address. */
	assert_false(lookup_in(pm, PID2, 0x1010, SEC, name, sizeof(name)));
	perf_maps_get_stats(pm, &st);
	assert_int_equal(st.files_read, 2);
	assert_int_equal(st.over_budget, 1);
	assert_int_equal(st.read_errors, 0);

	/* Unchanged: not read again. */
	assert_false(lookup_in(pm, PID2, 0x1010, 2 * SEC, name, sizeof(name)));
	perf_maps_get_stats(pm, &st);
	assert_int_equal(st.files_read, 2);
	assert_int_equal(st.over_budget, 1);

	/* The first rewritten: its old map's bytes count no more. */
	write_file(fp->map, a2);
	set_mtime(fp->map, 2000);
	assert_true(lookup_in(pm, PID, 0x1010, 2 * SEC, name, sizeof(name)));
	assert_string_equal(name, "AAAA_0001");
	perf_maps_get_stats(pm, &st);
	assert_int_equal(st.files_read, 3);
	assert_int_equal(st.over_budget, 1);

	/* The first exits; the second, unchanged, is still not read... */
	perf_maps_forget(pm, PID);
	assert_false(lookup_in(pm, PID2, 0x1010, 3 * SEC, name, sizeof(name)));
	perf_maps_get_stats(pm, &st);
	assert_int_equal(st.files_read, 3);
	/* ...until it changes, and then fits. */
	set_mtime(map2, 2000);
	assert_true(lookup_in(pm, PID2, 0x1010, 4 * SEC, name, sizeof(name)));
	assert_string_equal(name, "bbbb_0001");
	perf_maps_get_stats(pm, &st);
	assert_int_equal(st.files_read, 4);
	assert_int_equal(st.over_budget, 1);

	/* Now the first is the one past the budget. */
	assert_false(lookup_in(pm, PID, 0x1010, 4 * SEC, name, sizeof(name)));
	perf_maps_get_stats(pm, &st);
	assert_int_equal(st.over_budget, 2);

	/* The second's file gone: its bytes back, the first fits on a change. */
	assert_int_equal(unlink(map2), 0);
	assert_false(lookup_in(pm, PID2, 0x1010, 5 * SEC, name, sizeof(name)));
	set_mtime(fp->map, 3000);
	assert_true(lookup_in(pm, PID, 0x1010, 5 * SEC, name, sizeof(name)));
	assert_string_equal(name, "AAAA_0001");
	perf_maps_get_stats(pm, &st);
	assert_int_equal(st.over_budget, 2);
	assert_int_equal(st.read_errors, 0);

	perf_maps_free(pm);
	free(a);
	free(a2);
	free(b);
}

/* One file at the per-file caps fits the default budget by itself. */
static void test_caps_fit_budget(void **state)
{
	size_t n = PERF_MAP_MAX_ENTRIES, i, len;
	char *text = malloc(PERF_MAP_MAX_BYTES), *p = text;
	struct perf_map *m;

	(void)state;
	assert_non_null(text);
	/* Long names, as many as fit the bytes read. */
	len = PERF_MAP_MAX_BYTES / n - 32;
	for (i = 0; i < n; i++)
		p += sprintf(p, "%zx 1 %0*zx\n", i * 2, (int)len, i);
	assert_true((size_t)(p - text) <= PERF_MAP_MAX_BYTES);
	m = parse_n(text, (size_t)(p - text));
	assert_int_equal(perf_map_entries(m), n);
	assert_true(perf_map_bytes(m) <= PERF_MAPS_BUDGET_BYTES);
	perf_map_free(m);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_well_formed_lines),
		cmocka_unit_test(test_blanks_and_crlf),
		cmocka_unit_test(test_malformed_lines_skipped_and_counted),
		cmocka_unit_test(test_range_to_the_top),
		cmocka_unit_test(test_no_final_newline),
		cmocka_unit_test(test_reads_only_len_bytes),
		cmocka_unit_test(test_nul_bytes_inside),
		cmocka_unit_test(test_unsorted_input),
		cmocka_unit_test(test_overlaps_later_line_wins),
		cmocka_unit_test(test_long_names_cut),
		cmocka_unit_test(test_huge_counts_bounded),
		cmocka_unit_test(test_caps_fit_budget),
		cmocka_unit_test_setup_teardown(test_maps_found_through_nspid, fake_setup,
						fake_teardown),
		cmocka_unit_test_setup_teardown(test_maps_reread_on_change, fake_setup,
						fake_teardown),
		cmocka_unit_test_setup_teardown(test_maps_big_file_read_from_its_end, fake_setup,
						fake_teardown),
		cmocka_unit_test_setup_teardown(test_maps_fifo_refused_without_blocking, fake_setup,
						fake_teardown),
		cmocka_unit_test_setup_teardown(test_maps_symlinks, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_maps_shared_budget, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_maps_directory_refused, fake_setup,
						fake_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * go_binary (user/go_binary.c) on real binaries: tests/unit/go built at make
 * time with Go 1.19, 1.26 and 1.27, each plain, -s -w, stripped PIE, with cgo
 * and with cgo as PIE (LW_GO_TEST_DIR).  A plain binary read as if stripped must give what its
 * own .symtab and DWARF give.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "go_binary.h"

static const char *const versions[] = { "1.19", "1.26", "1.27" };
static const char *const kinds[] = { "plain", "strip", "pie", "cgo", "cgopie" };

static struct go_binary *open_test_binary(const char *version, const char *kind,
					  unsigned int flags)
{
	char path[512], why[256];
	struct go_binary *b = NULL;
	int err;

	snprintf(path, sizeof(path), "%s/%s-%s", LW_GO_TEST_DIR, version, kind);
	err = go_binary_open_flags(path, flags, &b, why, sizeof(why));
	if (err)
		print_error("%s: %d (%s)\n", path, err, why);
	assert_int_equal(err, 0);
	assert_non_null(b);
	return b;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

/* Every build: its version, its variables, goexit, and the inlined frame. */
static void check_binary(const char *version, const char *kind)
{
	struct go_binary *b = open_test_binary(version, kind, 0);
	const struct go_runtime_vars *v = go_binary_vars(b);
	const struct go_pclntab *t = go_binary_pclntab(b);
	char prefix[16];
	struct go_func f, g;
	bool inline_seen = false;

	snprintf(prefix, sizeof(prefix), "go%s.", version);
	assert_int_equal(strncmp(go_binary_version(b), prefix, strlen(prefix)), 0);
	bool pie = !strcmp(kind, "pie") || !strcmp(kind, "cgopie");

	assert_int_equal(go_binary_pie(b), pie);
	/* Go's linker puts a PIE at 0x400000 too; the external linker at 0. */
	assert_int_equal(go_binary_load_vaddr(b), strcmp(kind, "cgopie") ? 0x400000 : 0);
	assert_int_equal(t->format, strcmp(version, "1.19") ? 120 : 118);
	assert_true(v->allglen && v->allgs && v->allgptr && v->wait_reason_strings);
	assert_true(v->allglen != v->allgs && v->allgs != v->allgptr && v->allglen != v->allgptr);
	assert_true(v->n_wait_reasons > 20);
	assert_non_null(t->gofunc);

	assert_int_equal(go_pclntab_func_by_name(t, "runtime.goexit", &f), 0);
	assert_int_equal(go_binary_goexit(b), f.entry);
	assert_int_equal(go_pclntab_find_func(t, f.entry + 1, &g), 0);
	assert_string_equal(g.name, "runtime.goexit");

	/* The goroutine function: its frame at its entry. */
	struct go_frame fr[8];
	assert_int_equal(go_pclntab_func_by_name(t, "main.namedWorker", &f), 0);
	assert_int_equal(go_pclntab_frames(t, f.entry, fr, 8), 1);
	assert_string_equal(fr[0].func, "main.namedWorker");
	assert_string_equal(fr[0].file, "leakwatch/gotest/main.go");
	assert_int_equal(fr[0].line, 25);
	assert_false(fr[0].inlined);

	/* main.add (line 15) inlined into main.inlineCaller (line 21). */
	assert_int_equal(go_pclntab_func_by_name(t, "main.inlineCaller", &f), 0);
	for (uint64_t pc = f.entry; pc < f.end && !inline_seen; pc++) {
		int n = go_pclntab_frames(t, pc, fr, 8);

		if (n != 2)
			continue;
		assert_string_equal(fr[0].func, "main.add");
		assert_true(fr[0].inlined);
		assert_int_equal(fr[0].line, 15);
		assert_true(has_suffix(fr[0].file, "gotest/main.go"));
		assert_string_equal(fr[1].func, "main.inlineCaller");
		assert_false(fr[1].inlined);
		assert_int_equal(fr[1].line, 21);
		assert_int_equal(fr[0].entry, f.entry);
		inline_seen = true;
	}
	assert_true(inline_seen);

	/* The table has this version's wait reasons, numbered as the runtime
	 * numbers them. */
	uint32_t n;
	const char *const *reasons = go_binary_wait_reason_table(b, &n);
	assert_non_null(reasons);
	assert_int_equal(n, v->n_wait_reasons);
	assert_string_equal(reasons[0], "");
	assert_string_equal(reasons[2], "IO wait");
	go_binary_free(b);
}

static void test_every_build_reads(void **state)
{
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
		for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
			check_binary(versions[i], kinds[k]);
}

/* Derived (no .symtab) equals the symbols; the table equals the DWARF. */
static void check_derivations(const char *version, const char *kind)
{
	struct go_binary *full = open_test_binary(version, kind, 0);
	struct go_binary *bare = open_test_binary(version, kind,
						  GO_BINARY_NO_SYMTAB | GO_BINARY_NO_DWARF);
	const struct go_runtime_vars *a = go_binary_vars(full), *b = go_binary_vars(bare);
	struct go_layout la = *go_binary_layout(full), lb = *go_binary_layout(bare);
	char source[40];

	assert_string_equal(la.source, "DWARF");
	snprintf(source, sizeof(source), "table go%s", version);
	assert_string_equal(lb.source, source);
	memset(la.source, 0, sizeof(la.source));
	memset(lb.source, 0, sizeof(lb.source));
	assert_memory_equal(&la, &lb, sizeof(la));

	assert_int_equal(a->allglen, b->allglen);
	assert_int_equal(a->allgs, b->allgs);
	assert_int_equal(a->allgptr, b->allgptr);
	assert_int_equal(a->wait_reason_strings, b->wait_reason_strings);
	assert_int_equal(a->n_wait_reasons, b->n_wait_reasons);
	assert_int_equal(go_binary_goexit(full), go_binary_goexit(bare));
	assert_int_equal(go_binary_pclntab(full)->text_start, go_binary_pclntab(bare)->text_start);
	assert_int_equal(go_binary_pclntab(full)->gofunc_len, go_binary_pclntab(bare)->gofunc_len);
	go_binary_free(full);
	go_binary_free(bare);
}

static void test_derived_equals_symtab_and_dwarf(void **state)
{
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		check_derivations(versions[i], "plain");
		check_derivations(versions[i], "cgo");
		check_derivations(versions[i], "cgopie");
	}
}

static void test_stripped_has_no_dwarf(void **state)
{
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		struct go_binary *b = open_test_binary(versions[i], "strip", 0);
		char source[40];

		snprintf(source, sizeof(source), "table go%s", versions[i]);
		assert_string_equal(go_binary_layout(b)->source, source);
		go_binary_free(b);
	}
}

static void test_not_go_and_missing(void **state)
{
	struct go_binary *b = (struct go_binary *)1;
	char why[128];

	/* A C binary: no .go.buildinfo. */
	assert_int_equal(go_binary_open("/bin/sh", &b, why, sizeof(why)), -ENOEXEC);
	assert_null(b);
	assert_true(strstr(why, ".go.buildinfo") != NULL);
	assert_false(go_binary_probe("/bin/sh"));
	assert_int_equal(go_binary_open(LW_GO_TEST_DIR "/nonexistent", &b, why, sizeof(why)),
			 -ENOENT);
	/* Not ELF at all. */
	assert_int_equal(go_binary_open(LW_GO_TEST_DIR "/../../Makefile", &b, why, sizeof(why)),
			 -ENOEXEC);
	assert_true(go_binary_probe(LW_GO_TEST_DIR "/1.27-pie"));
}

/* A release after the table's last, without DWARF: refused, with the why.
 * The stripped 1.27 build, its buildinfo's version rewritten to go1.30. */
static void test_unknown_version_without_dwarf_refused(void **state)
{
	char src[512], dst[] = "/tmp/lw-test-go130-XXXXXX", why[256];
	static uint8_t data[8 << 20];
	struct go_binary *b = NULL;
	size_t len, patched = 0;
	FILE *f;
	int fd;

	snprintf(src, sizeof(src), "%s/1.27-strip", LW_GO_TEST_DIR);
	f = fopen(src, "rb");
	assert_non_null(f);
	len = fread(data, 1, sizeof(data), f);
	fclose(f);
	assert_true(len > 0 && len < sizeof(data));
	for (size_t i = 0; i + 7 <= len; i++) {
		/* The version follows its length byte in .go.buildinfo. */
		if (i > 0 && data[i - 1] >= 8 && data[i - 1] < 20 && !memcmp(data + i, "go1.27.", 7)) {
			memcpy(data + i, "go1.30.", 7);
			patched++;
		}
	}
	assert_true(patched >= 1);
	fd = mkstemp(dst);
	assert_true(fd >= 0);
	f = fdopen(fd, "wb");
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
	assert_int_equal(go_binary_open(dst, &b, why, sizeof(why)), -ENOTSUP);
	unlink(dst);
	assert_null(b);
	assert_true(strstr(why, ": no DWARF and no layout table entry for go1.30") != NULL);
	assert_int_equal(strncmp(why, "go1.30.", 7), 0);
}

/* runtime.funcNameForPrint: the shapes of a generic instantiation as "[...]". */
static void name_for_print(const char *name, char *out, size_t len)
{
	const char *open = strchr(name, '['), *close = strrchr(name, ']');

	if (!open || !close || close <= open)
		snprintf(out, len, "%s", name);
	else
		snprintf(out, len, "%.*s[...]%s", (int)(open - name), name, close + 1);
}

/*
 * Every 17th pc of every function of the oracle (tests/unit/go/oracle), its
 * innermost frame as runtime.CallersFrames gives it in the running oracle,
 * against go_pclntab_frames on its file.  Not compared: a function's last
 * byte (CallersFrames looks it up at pc + 1, in the next function), and pcs
 * with no line (alignment padding), counted.
 */
static void check_against_runtime(const char *version)
{
	char bin[512], cmd[1400], in[] = "/tmp/lw-test-pcs-XXXXXX", out[] = "/tmp/lw-test-frames-XXXXXX";
	char line[4096], want[4096], got[4096], name[2048];
	struct go_binary *b = open_test_binary(version, "oracle", 0);
	const struct go_pclntab *t = go_binary_pclntab(b);
	size_t listed = 0, compared = 0, differ = 0;
	FILE *f;
	int fd;

	snprintf(bin, sizeof(bin), "%s/%s-oracle", LW_GO_TEST_DIR, version);
	fd = mkstemp(in);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	for (uint32_t i = 0; i < t->nfunc; i++) {
		uint32_t entry;
		struct go_func fn;

		memcpy(&entry, t->data + t->functab_off + (uint64_t)i * 8, 4);
		if (go_pclntab_find_func(t, t->text_start + entry, &fn))
			continue;
		for (uint64_t pc = fn.entry; pc + 1 < fn.end; pc += 17, listed++)
			fprintf(f, "%#llx\n", (unsigned long long)pc);
	}
	fclose(f);
	fd = mkstemp(out);
	assert_true(fd >= 0);
	close(fd);
	snprintf(cmd, sizeof(cmd), "%s < %s > %s", bin, in, out);
	assert_int_equal(system(cmd), 0);
	f = fopen(out, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long long pc;
		struct go_frame fr[8];
		int n;

		line[strcspn(line, "\n")] = '\0';
		assert_int_equal(sscanf(line, "%llx", &pc), 1);
		n = go_pclntab_frames(t, pc, fr, 8);
		assert_true(n >= 1);
		if (fr[0].line == 0 || strstr(line, "  ")) /* padding; the oracle has no name */
			continue;
		name_for_print(fr[0].func, name, sizeof(name));
		snprintf(got, sizeof(got), "%#llx %s %s:%d", pc, name, fr[0].file, fr[0].line);
		snprintf(want, sizeof(want), "%s", line);
		compared++;
		if (strcmp(got, want)) {
			if (differ++ < 5)
				print_error("%s oracle: %s\n         ours:   %s\n", version, want, got);
		}
	}
	fclose(f);
	unlink(in);
	unlink(out);
	print_message("go%s: %zu pcs, %zu compared with runtime.CallersFrames, %zu differ\n",
		      version, listed, compared, differ);
	assert_int_equal(differ, 0);
	assert_true(compared > listed * 9 / 10);
	go_binary_free(b);
}

static void test_frames_equal_runtime_callersframes(void **state)
{
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
		check_against_runtime(versions[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_build_reads),
		cmocka_unit_test(test_derived_equals_symtab_and_dwarf),
		cmocka_unit_test(test_stripped_has_no_dwarf),
		cmocka_unit_test(test_not_go_and_missing),
		cmocka_unit_test(test_unknown_version_without_dwarf_refused),
		cmocka_unit_test(test_frames_equal_runtime_callersframes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

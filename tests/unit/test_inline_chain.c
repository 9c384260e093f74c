// SPDX-License-Identifier: GPL-2.0
/* inline_chain (user/inline_chain.c): DWARF scopes -> frames, innermost first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "inline_chain.h"

static const struct inline_site at = {
	.pc = 0x401234, .offset = 0x83, .line_file = "/src/query.c", .line = 14,
	.module = "query",
};

static void assert_frame(const struct lw_frame *f, const char *func, const char *file, int line,
			 bool inlined)
{
	assert_string_equal(f->func, func);
	assert_string_equal(f->file, file);
	assert_int_equal(f->line, line);
	assert_int_equal(f->inlined, inlined);
	assert_int_equal(f->pc, at.pc);
	assert_int_equal(f->offset, at.offset);
	assert_string_equal(f->module, "query");
	assert_int_equal(f->kind, LW_FRAME_NATIVE);
}

/* No inlining: one frame, the line table's line. */
static void test_physical_only(void **state)
{
	struct inline_scope s[] = { { .name = "query" } };
	struct lw_frame f[4];

	assert_int_equal(inline_chain_frames(s, 1, &at, f, 4), 1);
	assert_frame(&f[0], "query", "/src/query.c", 14, false);
}

/* chan_send inlined into query: chan_send at the line table's line, query
 * at the call's line; only the inner one inlined. */
static void test_one_inlined(void **state)
{
	struct inline_scope s[] = {
		{ .name = "chan_send", .inlined = true, .call_file = "/src/query.c", .call_line = 30 },
		{ .name = "query" },
	};
	struct lw_frame f[4];
	char text[256];

	assert_int_equal(inline_chain_frames(s, 2, &at, f, 4), 2);
	assert_frame(&f[0], "chan_send", "/src/query.c", 14, true);
	assert_frame(&f[1], "query", "/src/query.c", 30, false);
	lw_frame_text(&f[0], text, sizeof(text));
	assert_string_equal(text, "chan_send+0x83 (/src/query.c:14)");
	lw_frame_text(&f[1], text, sizeof(text));
	assert_string_equal(text, "query+0x83 (/src/query.c:30)");
}

/* Three levels, a header in between: each outer frame gets the call site
 * held by the scope just inside it. */
static void test_nested(void **state)
{
	struct inline_scope s[] = {
		{ .name = "lock", .inlined = true, .call_file = "/src/chan.h", .call_line = 7 },
		{ .name = "chan_send", .inlined = true, .call_file = "/src/query.c", .call_line = 30 },
		{ .name = "query" },
	};
	struct lw_frame f[4];

	assert_int_equal(inline_chain_frames(s, 3, &at, f, 4), 3);
	assert_frame(&f[0], "lock", "/src/query.c", 14, true);
	assert_frame(&f[1], "chan_send", "/src/chan.h", 7, true);
	assert_frame(&f[2], "query", "/src/query.c", 30, false);
}

/* Longer than max: the innermost max - 1 and the physical function, whose
 * line is still its own call site. */
static void test_cut(void **state)
{
	struct inline_scope s[] = {
		{ .name = "a", .inlined = true, .call_file = "/f.c", .call_line = 1 },
		{ .name = "b", .inlined = true, .call_file = "/f.c", .call_line = 2 },
		{ .name = "c", .inlined = true, .call_file = "/f.c", .call_line = 3 },
		{ .name = "query" },
	};
	struct lw_frame f[2];

	assert_int_equal(inline_chain_frames(s, 4, &at, f, 2), 2);
	assert_frame(&f[0], "a", "/src/query.c", 14, true);
	assert_frame(&f[1], "query", "/f.c", 3, false);
	assert_int_equal(inline_chain_frames(s, 4, &at, f, 1), 1);
	assert_frame(&f[0], "query", "/f.c", 3, false);
	assert_int_equal(inline_chain_frames(s, 0, &at, f, 2), 0);
	assert_int_equal(inline_chain_frames(s, 4, &at, f, 0), 0);
}

/* What is unknown stays unknown: no name, no call line, no line table. */
static void test_unknowns(void **state)
{
	struct inline_scope s[] = {
		{ .name = NULL, .inlined = true, .call_file = "/src/query.c", .call_line = 0 },
		{ .name = "query" },
	};
	struct inline_site none = at;
	struct lw_frame f[2];
	char text[256];

	none.line_file = NULL;
	assert_int_equal(inline_chain_frames(s, 2, &none, f, 2), 2);
	assert_string_equal(f[0].func, "");
	assert_string_equal(f[0].file, "");
	assert_int_equal(f[0].line, 0);
	assert_string_equal(f[1].file, ""); /* call line 0: no line */
	assert_int_equal(f[1].line, 0);
	lw_frame_text(&f[1], text, sizeof(text));
	assert_string_equal(text, "query+0x83 (query)");
	lw_frame_text(&f[0], text, sizeof(text));
	assert_string_equal(text, "0x401234 (query)");
}

/* A path too long for the frame keeps its tail: the file's name. */
static void test_long_path(void **state)
{
	char path[600], dst[LW_FILE_TEXT];
	size_t n;

	memset(path, 'd', sizeof(path));
	memcpy(path + sizeof(path) - 12, "/x/query.c", 11);
	inline_copy_path(dst, sizeof(dst), path);
	n = strlen(dst);
	assert_int_equal(n, sizeof(dst) - 1);
	assert_memory_equal(dst, "...", 3);
	assert_string_equal(dst + n - 10, "/x/query.c");
	inline_copy_path(dst, sizeof(dst), "short.c");
	assert_string_equal(dst, "short.c");
	inline_copy_path(dst, sizeof(dst), NULL);
	assert_string_equal(dst, "");
	inline_copy_path(dst, 3, "abcdef");
	assert_string_equal(dst, "ab");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_physical_only), cmocka_unit_test(test_one_inlined),
		cmocka_unit_test(test_nested),	      cmocka_unit_test(test_cut),
		cmocka_unit_test(test_unknowns),      cmocka_unit_test(test_long_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

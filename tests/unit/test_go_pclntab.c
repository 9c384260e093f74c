// SPDX-License-Identifier: GPL-2.0
/*
 * go_pclntab (user/go_pclntab.c) on synthetic tables built here, in both
 * formats (1.18-1.19 and 1.20+), with an inline tree two calls deep, and on
 * malformed ones: truncated, offsets past the end, cycles, huge values.
 * Tables live in heap buffers of their exact size, so that ASan sees any read
 * past them.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "go_pclntab.h"

#define TEXT 0x401000ull

struct builder {
	uint8_t buf[8192];
	size_t len;
};

static size_t put(struct builder *b, const void *p, size_t n)
{
	size_t at = b->len;

	assert_true(b->len + n <= sizeof(b->buf));
	memcpy(b->buf + b->len, p, n);
	b->len += n;
	return at;
}

static void put32_at(struct builder *b, size_t at, uint32_t v)
{
	memcpy(b->buf + at, &v, 4);
}

static void put64_at(struct builder *b, size_t at, uint64_t v)
{
	memcpy(b->buf + at, &v, 8);
}

static size_t put32(struct builder *b, uint32_t v)
{
	return put(b, &v, 4);
}

static void put_uvarint(struct builder *b, uint32_t v)
{
	do {
		uint8_t c = (uint8_t)(v & 0x7f);

		v >>= 7;
		if (v)
			c |= 0x80;
		put(b, &c, 1);
	} while (v);
}

/* A pc-value table: {value, end pc offset} pairs, as the compiler writes
 * them (zig-zag value deltas from -1, pc deltas), ended by a 0. */
struct pcv {
	int32_t value;
	uint32_t end;
};

static uint32_t put_pcvalue(struct builder *b, size_t pctab, const struct pcv *p, size_t n)
{
	uint32_t at = (uint32_t)(b->len - pctab);
	int32_t prev = -1;
	uint32_t pc = 0;

	for (size_t i = 0; i < n; i++) {
		int32_t d = p[i].value - prev;

		put_uvarint(b, ((uint32_t)d << 1) ^ (uint32_t)(d >> 31));
		put_uvarint(b, p[i].end - pc);
		prev = p[i].value;
		pc = p[i].end;
	}
	put(b, "", 1);
	return at;
}

/*
 * The test program, at TEXT:
 *   [0x00, 0x40) main.outer (a.go), calls main.inner inlined at 0x08 (line 12);
 *     main.inner's code (b.go) at [0x10, 0x20), which calls main.innermost
 *     inlined at 0x18 (line 21); main.innermost's code (c.go) at [0x14, 0x18).
 *   [0x40, 0x50) runtime.goexit, no line table.
 */
struct table {
	int format;
	struct builder pcln, gofunc;
	size_t inltree;     /* offset of the inline tree in gofunc */
	size_t func0;       /* offset of main.outer's _func in pcln */
};

static const struct pcv outer_lines[] = {
	{ 10, 0x08 }, { 12, 0x10 }, { 20, 0x14 }, { 30, 0x18 }, { 21, 0x20 }, { 13, 0x40 },
};
static const struct pcv outer_files[] = {
	{ 0, 0x10 }, { 1, 0x14 }, { 2, 0x18 }, { 1, 0x20 }, { 0, 0x40 },
};
static const struct pcv outer_inl[] = {
	{ -1, 0x10 }, { 0, 0x14 }, { 1, 0x18 }, { 0, 0x20 }, { -1, 0x40 },
};

static void put_func(struct table *t, struct builder *b, uint32_t entry, uint32_t name,
		     uint32_t pcfile, uint32_t pcln, uint32_t npcdata, uint8_t nfuncdata,
		     uint8_t func_id)
{
	put32(b, entry);
	put32(b, name);
	put32(b, 0);   /* args */
	put32(b, 0);   /* deferreturn */
	put32(b, 0);   /* pcsp */
	put32(b, pcfile);
	put32(b, pcln);
	put32(b, npcdata);
	put32(b, 0);   /* cuOffset */
	if (t->format == 120)
		put32(b, 5); /* startLine */
	uint8_t tail[4] = { func_id, 0, 0, nfuncdata };
	put(b, tail, 4);
}

static void build(struct table *t, int format)
{
	struct builder *b = &t->pcln;
	size_t names, cu, files, pctab, functab;
	uint32_t n_outer, n_inner, n_innermost, n_goexit, fileoff[3];
	uint32_t lines, filesv, inl;

	memset(t, 0, sizeof(*t));
	t->format = format;
	b->len = 72;
	names = b->len;
	n_outer = (uint32_t)(put(b, "main.outer", 11) - names);
	n_inner = (uint32_t)(put(b, "main.inner", 11) - names);
	n_innermost = (uint32_t)(put(b, "main.innermost", 15) - names);
	n_goexit = (uint32_t)(put(b, "runtime.goexit", 15) - names);
	files = b->len;
	fileoff[0] = (uint32_t)(put(b, "a.go", 5) - files);
	fileoff[1] = (uint32_t)(put(b, "b.go", 5) - files);
	fileoff[2] = (uint32_t)(put(b, "c.go", 5) - files);
	while (b->len % 4)
		put(b, "", 1);
	cu = b->len;
	for (int i = 0; i < 3; i++)
		put32(b, fileoff[i]);
	pctab = b->len;
	put(b, "", 1); /* offset 0: no table */
	lines = put_pcvalue(b, pctab, outer_lines, 6);
	filesv = put_pcvalue(b, pctab, outer_files, 5);
	inl = put_pcvalue(b, pctab, outer_inl, 5);
	while (b->len % 8)
		put(b, "", 1);
	functab = b->len;
	put32(b, 0x00);
	put32(b, 0);
	put32(b, 0x40);
	put32(b, 0);
	put32(b, 0x50);
	put32(b, 0);
	t->func0 = b->len;
	put32_at(b, functab + 4, (uint32_t)(b->len - functab));
	/* main.outer: pcdata[0..3) (2 = inline tree index), funcdata[0..4) (3 =
	 * inline tree). */
	put_func(t, b, 0x00, n_outer, filesv, lines, 3, 4, 0);
	put32(b, 0);
	put32(b, 0);
	put32(b, inl);
	put32(b, UINT32_MAX);
	put32(b, UINT32_MAX);
	put32(b, UINT32_MAX);
	put32(b, 0); /* the inline tree at gofunc + 0 */
	put32_at(b, functab + 12, (uint32_t)(b->len - functab));
	put_func(t, b, 0x40, n_goexit, 0, 0, 0, 0, 7);

	put32_at(b, 0, format == 118 ? 0xfffffff0 : 0xfffffff1);
	b->buf[4] = b->buf[5] = 0;
	b->buf[6] = 1;
	b->buf[7] = 8;
	put64_at(b, 8, 2);      /* nfunc */
	put64_at(b, 16, 3);     /* nfiles */
	put64_at(b, 24, TEXT);
	put64_at(b, 32, names);
	put64_at(b, 40, cu);
	put64_at(b, 48, files);
	put64_at(b, 56, pctab);
	put64_at(b, 64, functab);

	/* The inline tree: 0 = main.inner called from main.outer at 0x08, 1 =
	 * main.innermost called from main.inner at 0x18. */
	struct builder *g = &t->gofunc;
	put(g, "\0\0\0\0", 4); /* padding before: offsets are not 0-based */
	t->inltree = g->len;
	if (format == 118) {
		uint8_t head[4] = { 0xff, 0xff, 0, 0 }; /* parent -1 */
		put(g, head, 4);
		put32(g, 1);
		put32(g, 12);
		put32(g, n_inner);
		put32(g, 0x08);
		head[0] = 0;
		head[1] = 0;
		put(g, head, 4);
		put32(g, 2);
		put32(g, 21);
		put32(g, n_innermost);
		put32(g, 0x18);
	} else {
		put32(g, 0);
		put32(g, n_inner);
		put32(g, 0x08);
		put32(g, 14);
		put32(g, 0);
		put32(g, n_innermost);
		put32(g, 0x18);
		put32(g, 25);
	}
	/* The funcdata offset of the tree. */
	put32_at(b, t->func0 + (format == 118 ? 40 : 44) + 3 * 4 + 3 * 4, (uint32_t)t->inltree);
}

struct view {
	uint8_t *data, *gofunc;
	struct go_pclntab t;
};

/* The table in exact-size heap copies. */
static int open_view(struct view *v, const struct table *t, size_t len, size_t gofunc_len)
{
	v->data = malloc(len ? len : 1);
	v->gofunc = malloc(gofunc_len ? gofunc_len : 1);
	memcpy(v->data, t->pcln.buf, len);
	memcpy(v->gofunc, t->gofunc.buf, gofunc_len);
	int err = go_pclntab_init(&v->t, v->data, len, 0);
	if (!err)
		go_pclntab_set_gofunc(&v->t, v->gofunc, gofunc_len);
	return err;
}

static void close_view(struct view *v)
{
	free(v->data);
	free(v->gofunc);
}

static void check_frame(const struct go_frame *f, const char *func, const char *file, int line,
			bool inlined)
{
	assert_string_equal(f->func, func);
	assert_string_equal(f->file, file);
	assert_int_equal(f->line, line);
	assert_int_equal(f->inlined, inlined);
	assert_int_equal(f->entry, TEXT);
}

static void check_formats(int format)
{
	struct table t;
	struct view v;
	struct go_func f;
	struct go_frame fr[8];

	build(&t, format);
	assert_int_equal(open_view(&v, &t, t.pcln.len, t.gofunc.len), 0);
	assert_int_equal(v.t.format, format);
	assert_int_equal(v.t.nfunc, 2);
	assert_int_equal(v.t.text_start, TEXT);

	assert_int_equal(go_pclntab_find_func(&v.t, TEXT + 0x3f, &f), 0);
	assert_string_equal(f.name, "main.outer");
	assert_int_equal(f.entry, TEXT);
	assert_int_equal(f.end, TEXT + 0x40);
	assert_int_equal(go_pclntab_find_func(&v.t, TEXT + 0x40, &f), 0);
	assert_string_equal(f.name, "runtime.goexit");
	assert_int_equal(f.func_id, 7);
	assert_int_equal(go_pclntab_find_func(&v.t, TEXT + 0x50, &f), -ENOENT);
	assert_int_equal(go_pclntab_find_func(&v.t, TEXT - 1, &f), -ENOENT);
	assert_int_equal(go_pclntab_find_func(&v.t, 0, &f), -ENOENT);
	assert_int_equal(go_pclntab_func_by_name(&v.t, "runtime.goexit", &f), 0);
	assert_int_equal(f.entry, TEXT + 0x40);
	assert_int_equal(go_pclntab_func_by_name(&v.t, "main.nope", &f), -ENOENT);

	/* Outside the inlined code: one frame. */
	assert_int_equal(go_pclntab_frames(&v.t, TEXT + 0x02, fr, 8), 1);
	check_frame(&fr[0], "main.outer", "a.go", 10, false);
	assert_int_equal(go_pclntab_frames(&v.t, TEXT + 0x30, fr, 8), 1);
	check_frame(&fr[0], "main.outer", "a.go", 13, false);
	/* In main.inner's code: inner at its line, outer at the call site. */
	assert_int_equal(go_pclntab_frames(&v.t, TEXT + 0x11, fr, 8), 2);
	check_frame(&fr[0], "main.inner", "b.go", 20, true);
	check_frame(&fr[1], "main.outer", "a.go", 12, false);
	/* Two deep, innermost first, as runtime.CallersFrames gives them. */
	assert_int_equal(go_pclntab_frames(&v.t, TEXT + 0x15, fr, 8), 3);
	check_frame(&fr[0], "main.innermost", "c.go", 30, true);
	check_frame(&fr[1], "main.inner", "b.go", 21, true);
	check_frame(&fr[2], "main.outer", "a.go", 12, false);
	/* max bounds the output. */
	assert_int_equal(go_pclntab_frames(&v.t, TEXT + 0x15, fr, 2), 2);
	assert_int_equal(go_pclntab_frames(&v.t, TEXT + 0x15, fr, 0), 0);
	/* No line table: a frame with no file:line. */
	assert_int_equal(go_pclntab_frames(&v.t, TEXT + 0x44, fr, 8), 1);
	assert_string_equal(fr[0].func, "runtime.goexit");
	assert_string_equal(fr[0].file, "");
	assert_int_equal(fr[0].line, 0);
	assert_int_equal(go_pclntab_frames(&v.t, TEXT + 0x50, fr, 8), 0);

	/* Without go:func.*, the outer function at the inlined callee's line. */
	go_pclntab_set_gofunc(&v.t, NULL, 0);
	assert_int_equal(go_pclntab_frames(&v.t, TEXT + 0x15, fr, 8), 1);
	check_frame(&fr[0], "main.outer", "c.go", 30, false);
	close_view(&v);
}

static void test_format_118(void **state)
{
	check_formats(118);
}

static void test_format_120(void **state)
{
	check_formats(120);
}

/* The header's textStart 0 (PIE): the caller's is used. */
static void test_text_start_from_caller(void **state)
{
	struct table t;
	struct go_pclntab p;
	struct go_func f;

	build(&t, 120);
	put64_at(&t.pcln, 24, 0);
	assert_int_equal(go_pclntab_init(&p, t.pcln.buf, t.pcln.len, 0x500000), 0);
	assert_int_equal(p.text_start, 0x500000);
	assert_int_equal(go_pclntab_find_func(&p, 0x500041, &f), 0);
	assert_string_equal(f.name, "runtime.goexit");
}

static void test_not_a_pclntab(void **state)
{
	struct table t;
	struct go_pclntab p;

	build(&t, 120);
	assert_int_equal(go_pclntab_init(&p, t.pcln.buf, 71, 0), -ENOEXEC);
	t.pcln.buf[0] = 0xfb; /* Go 1.16's magic */
	assert_int_equal(go_pclntab_init(&p, t.pcln.buf, t.pcln.len, 0), -ENOEXEC);
	build(&t, 120);
	t.pcln.buf[7] = 4; /* 32-bit pointers */
	assert_int_equal(go_pclntab_init(&p, t.pcln.buf, t.pcln.len, 0), -ENOEXEC);
	build(&t, 120);
	put64_at(&t.pcln, 8, 0); /* no functions */
	assert_int_equal(go_pclntab_init(&p, t.pcln.buf, t.pcln.len, 0), -EINVAL);
	build(&t, 120);
	put64_at(&t.pcln, 8, UINT64_MAX / 8); /* huge, wraps when multiplied */
	assert_int_equal(go_pclntab_init(&p, t.pcln.buf, t.pcln.len, 0), -EINVAL);
	build(&t, 120);
	put64_at(&t.pcln, 64, UINT64_MAX - 4); /* functab past the end */
	assert_int_equal(go_pclntab_init(&p, t.pcln.buf, t.pcln.len, 0), -EINVAL);
	build(&t, 120);
	put64_at(&t.pcln, 32, t.pcln.len + 1); /* funcnametab past the end */
	assert_int_equal(go_pclntab_init(&p, t.pcln.buf, t.pcln.len, 0), -EINVAL);
}

/* Every pc of the program, looked up through a table of every length: no
 * read past the end (ASan), never more frames than asked. */
static void test_every_truncation(void **state)
{
	for (int format = 118; format <= 120; format += 2) {
		struct table t;

		build(&t, format);
		for (size_t len = 0; len <= t.pcln.len; len++) {
			struct view v;

			if (open_view(&v, &t, len, t.gofunc.len) == 0) {
				for (uint64_t pc = TEXT - 1; pc <= TEXT + 0x51; pc++) {
					struct go_frame fr[4];
					struct go_func f;
					int n = go_pclntab_frames(&v.t, pc, fr, 4);

					assert_true(n >= 0 && n <= 4);
					go_pclntab_find_func(&v.t, pc, &f);
				}
				go_pclntab_func_by_name(&v.t, "runtime.goexit", &(struct go_func){ 0 });
			}
			close_view(&v);
		}
		for (size_t glen = 0; glen <= t.gofunc.len; glen++) {
			struct view v;
			struct go_frame fr[4];

			assert_int_equal(open_view(&v, &t, t.pcln.len, glen), 0);
			int n = go_pclntab_frames(&v.t, TEXT + 0x15, fr, 4);
			/* A tree cut short: fewer inlined frames, never garbage. */
			assert_true(n >= 1 && n <= 3);
			assert_string_not_equal(fr[0].func, "");
			close_view(&v);
		}
	}
}

/* A tree whose call's parentPc points back into its own inlined code: the
 * walk stops at max frames, or at the depth cap. */
static void test_inline_cycle_bounded(void **state)
{
	for (int format = 118; format <= 120; format += 2) {
		struct table t;
		struct view v;
		struct go_frame fr[200];

		build(&t, format);
		/* Entry 1 (at 0x14..0x18) names parentPc 0x15: itself. */
		size_t parent_pc = t.inltree + (format == 118 ? 20 + 16 : 16 + 8);
		put32_at(&t.gofunc, parent_pc, 0x15);
		assert_int_equal(open_view(&v, &t, t.pcln.len, t.gofunc.len), 0);
		int n = go_pclntab_frames(&v.t, TEXT + 0x15, fr, 200);
		assert_true(n > 1 && n <= 65);
		assert_int_equal(go_pclntab_frames(&v.t, TEXT + 0x15, fr, 5), 5);
		close_view(&v);
	}
}

/* Damaged entries: names and files past the end, a huge tree index, a
 * parentPc outside the function, a funcoff past the end. */
static void test_damaged_entries(void **state)
{
	struct table t;
	struct view v;
	struct go_frame fr[8];
	struct go_func f;

	build(&t, 120);
	put32_at(&t.pcln, t.func0 + 4, 0x7fffffff); /* nameOff */
	assert_int_equal(open_view(&v, &t, t.pcln.len, t.gofunc.len), 0);
	assert_int_equal(go_pclntab_find_func(&v.t, TEXT, &f), 0);
	assert_string_equal(f.name, "?");
	close_view(&v);

	build(&t, 120);
	put32_at(&t.gofunc, t.inltree + 16 + 4, UINT32_MAX); /* inlined nameOff */
	put32_at(&t.pcln, t.func0 + 32, 0x40000000);         /* cuOffset */
	assert_int_equal(open_view(&v, &t, t.pcln.len, t.gofunc.len), 0);
	assert_int_equal(go_pclntab_frames(&v.t, TEXT + 0x15, fr, 8), 3);
	assert_string_equal(fr[0].func, "?");
	assert_string_equal(fr[0].file, "");
	assert_int_equal(fr[0].line, 30);
	close_view(&v);

	build(&t, 120);
	put32_at(&t.gofunc, t.inltree + 8, 0x1000); /* parentPc past the function */
	assert_int_equal(open_view(&v, &t, t.pcln.len, t.gofunc.len), 0);
	assert_int_equal(go_pclntab_frames(&v.t, TEXT + 0x11, fr, 8), 1);
	assert_string_equal(fr[0].func, "main.inner");
	close_view(&v);

	/* The tree's funcdata offset past go:func.*: physical frames only. */
	build(&t, 120);
	put32_at(&t.pcln, t.func0 + 44 + 3 * 4 + 3 * 4, 0x7ffffff0);
	assert_int_equal(open_view(&v, &t, t.pcln.len, t.gofunc.len), 0);
	assert_int_equal(go_pclntab_frames(&v.t, TEXT + 0x15, fr, 8), 1);
	assert_string_equal(fr[0].func, "main.outer");
	close_view(&v);

	/* npcdata huge: the _func's arrays do not fit, the function is unreadable. */
	build(&t, 120);
	put32_at(&t.pcln, t.func0 + 28, UINT32_MAX);
	assert_int_equal(open_view(&v, &t, t.pcln.len, t.gofunc.len), 0);
	assert_int_equal(go_pclntab_find_func(&v.t, TEXT, &f), -ENOENT);
	assert_int_equal(go_pclntab_frames(&v.t, TEXT, fr, 8), 0);
	close_view(&v);

	/* A pc-value table that never ends (all 0xff: unterminated varints). */
	build(&t, 120);
	size_t pctab, functab;
	memcpy(&pctab, t.pcln.buf + 56, 8);
	memcpy(&functab, t.pcln.buf + 64, 8);
	memset(t.pcln.buf + pctab + 1, 0xff, functab - pctab - 1);
	assert_int_equal(open_view(&v, &t, t.pcln.len, t.gofunc.len), 0);
	assert_true(go_pclntab_frames(&v.t, TEXT + 0x30, fr, 8) >= 1);
	close_view(&v);
}

/* Functions out of order: a wrong answer at worst, never out of bounds. */
static void test_unsorted_functab(void **state)
{
	struct table t;
	struct view v;
	struct go_func f;
	size_t functab;

	build(&t, 120);
	memcpy(&functab, t.pcln.buf + 64, 8);
	put32_at(&t.pcln, functab + 8, 0x60); /* second entry past the end entry */
	assert_int_equal(open_view(&v, &t, t.pcln.len, t.gofunc.len), 0);
	for (uint64_t pc = TEXT; pc < TEXT + 0x70; pc++)
		if (go_pclntab_find_func(&v.t, pc, &f) == 0)
			assert_true(pc >= f.entry && pc < f.end);
	close_view(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_118),
		cmocka_unit_test(test_format_120),
		cmocka_unit_test(test_text_start_from_caller),
		cmocka_unit_test(test_not_a_pclntab),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_inline_cycle_bounded),
		cmocka_unit_test(test_damaged_entries),
		cmocka_unit_test(test_unsorted_functab),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

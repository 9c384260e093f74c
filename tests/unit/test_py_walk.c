// SPDX-License-Identifier: GPL-2.0
/*
 * The CPython structure walker (user/py_walk.c) on memory images built here
 * under each layout: 3.11 and 3.12 (the tables) and 3.13 (parsed from a
 * _Py_DebugOffsets image with 3.13.0's words): thread lists, frame chains
 * with their entry frames and C-stack shims, names in every string kind,
 * lines from co_linetable; cycles, long chains and garbage.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "py_frames.h"
#include "py_layout.h"
#include "py_walk.h"

#define IMG_BASE 0x7f0000000000ull
#define IMG_SIZE (256 * 1024)

struct image {
	uint8_t bytes[IMG_SIZE];
	size_t used;
	int reads;
};

static int img_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct image *im = ctx;

	im->reads++;
	if (addr < IMG_BASE || addr - IMG_BASE > IMG_SIZE || len > IMG_SIZE - (addr - IMG_BASE))
		return -EFAULT;
	memcpy(buf, im->bytes + (addr - IMG_BASE), len);
	return 0;
}

static uint64_t img_alloc(struct image *im, size_t len)
{
	uint64_t a = IMG_BASE + im->used;

	im->used += (len + 15) & ~(size_t)15;
	assert_true(im->used <= IMG_SIZE);
	return a;
}

static void put(struct image *im, uint64_t addr, const void *v, size_t len)
{
	memcpy(im->bytes + (addr - IMG_BASE), v, len);
}

static void put64(struct image *im, uint64_t addr, uint64_t v)
{
	put(im, addr, &v, 8);
}

static void put32(struct image *im, uint64_t addr, uint32_t v)
{
	put(im, addr, &v, 4);
}

static void put8(struct image *im, uint64_t addr, uint8_t v)
{
	put(im, addr, &v, 1);
}

/* 3.13.0's _Py_DebugOffsets words (from its _PyRuntime), 73 of them. */
static const uint64_t debug_offsets_313[] = {
	0, 0x030d00f0, 0, 283320, 608, 632, 194968, 7272, 7264, 7344, 7400, 7656, 7640, 7648, 16,
	7752, 0, 7768, 7760, 304, 0, 8, 16, 72, 152, 160, 232, 32, 80, 8, 0, 56, 72, 70, 208,
	112, 120, 128, 136, 68, 52, 96, 104, 200, 16, 8, 416, 24, 88, 168, 32, 24, 16, 40, 24,
	16, 48, 32, 40, 24, 16, 32, 16, 24, 40, 16, 32, 64, 32, 16, 40, 240, 200,
};

static void debug_offsets_image(uint8_t *buf)
{
	memcpy(buf, debug_offsets_313, sizeof(debug_offsets_313));
	memcpy(buf, "xdebugpy", 8);
}

static void layout_for(int minor, struct py_layout *l)
{
	if (minor == 13) {
		uint8_t buf[PY_DEBUG_OFFSETS_SPAN] = { 0 };

		debug_offsets_image(buf);
		assert_int_equal(py_layout_from_debug_offsets(buf, sizeof(buf), 0x030d00f0, l), 0);
	} else {
		assert_int_equal(py_layout_for_version(0x03000000 | minor << 16 | 0x07f0, l), 0);
	}
	assert_true(py_layout_valid(l));
}

/* A compact str: ASCII (kind 1 and all < 0x80), latin-1, UCS2, UCS4. */
static uint64_t make_str_kind(struct image *im, const struct py_layout *l, const uint32_t *cps,
			      size_t n, unsigned int kind, bool ascii)
{
	size_t hdr = ascii ? l->str_ascii_size : l->str_compact_size;
	uint64_t a = img_alloc(im, hdr + (n + 1) * kind);
	uint32_t state = kind << 2 | 1u << 5 | (ascii ? 1u << 6 : 0);

	put64(im, a + l->str_length, n);
	put32(im, a + l->str_state, state);
	for (size_t i = 0; i < n; i++)
		put(im, a + hdr + i * kind, &cps[i], kind); /* little endian */
	return a;
}

static uint64_t make_str(struct image *im, const struct py_layout *l, const char *s)
{
	uint32_t cps[512];
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++)
		cps[i] = (uint8_t)s[i];
	return make_str_kind(im, l, cps, n, 1, true);
}

static uint64_t make_bytes(struct image *im, const struct py_layout *l, const uint8_t *b,
			   size_t n)
{
	uint64_t a = img_alloc(im, l->bytes_data + n + 1);

	put64(im, a + l->bytes_size, n);
	put(im, a + l->bytes_data, b, n);
	return a;
}

/* A code object whose every code unit k (of 16) is on line firstlineno + k:
 * a table of 16 one-line +1 entries after a first short-form one. */
static uint64_t make_code(struct image *im, const struct py_layout *l, const char *qualname,
			  const char *file, int firstlineno)
{
	uint8_t table[64];
	size_t n = 0;
	uint64_t a;

	table[n++] = 0x80; /* unit 0: firstlineno */
	table[n++] = 0x00;
	for (int k = 1; k < 16; k++) {
		table[n++] = 0xd8; /* +1, one unit */
		table[n++] = 0x00;
		table[n++] = 0x00;
	}
	a = img_alloc(im, l->code_adaptive + 32 > l->code_span ? l->code_adaptive + 32
							       : l->code_span);
	put64(im, a + l->code_qualname, make_str(im, l, qualname));
	put64(im, a + l->code_filename, make_str(im, l, file));
	put32(im, a + l->code_firstlineno, (uint32_t)firstlineno);
	put64(im, a + l->code_linetable, make_bytes(im, l, table, n));
	return a;
}

/* A frame at code unit unit of code (3.11, 3.12: prev_instr, the last one
 * run; 3.13: instr_ptr, the one running: both that unit). */
static uint64_t make_frame(struct image *im, const struct py_layout *l, uint64_t code,
			   int unit, uint64_t previous, uint8_t owner, bool entry)
{
	uint64_t a = img_alloc(im, l->frame_span);

	put64(im, a + l->frame_code, code);
	put64(im, a + l->frame_previous, previous);
	put64(im, a + l->frame_instr, code + l->code_adaptive + 2 * (uint64_t)unit);
	put8(im, a + l->frame_owner, owner);
	if (l->frame_is_entry != PY_NO_FIELD)
		put8(im, a + l->frame_is_entry, entry);
	return a;
}

static uint64_t make_tstate(struct image *im, const struct py_layout *l, uint64_t tid,
			    uint64_t frame, uint64_t next)
{
	uint64_t a = img_alloc(im, l->tstate_span);

	put64(im, a + l->tstate_native_thread_id, tid);
	put64(im, a + l->tstate_next, next);
	if (l->tstate_cframe != PY_NO_FIELD) {
		uint64_t cf = img_alloc(im, l->cframe_current_frame + 8);

		put64(im, a + l->tstate_cframe, cf);
		put64(im, cf + l->cframe_current_frame, frame);
	} else {
		put64(im, a + l->tstate_current_frame, frame);
	}
	return a;
}

static uint64_t make_runtime(struct image *im, const struct py_layout *l, uint64_t threads)
{
	uint64_t rt = img_alloc(im, l->runtime_interpreters_head + 8);
	uint64_t interp = img_alloc(im, l->interp_threads_head + 8);

	put64(im, rt + l->runtime_interpreters_head, interp);
	put64(im, interp + l->interp_threads_head, threads);
	put64(im, interp + l->interp_next, 0);
	return rt;
}

/* The C-stack shim (3.12+) or nothing (3.11, where is_entry says it). */
static uint64_t entry_shim(struct image *im, const struct py_layout *l, uint64_t previous)
{
	if (l->frame_is_entry != PY_NO_FIELD)
		return previous;
	return make_frame(im, l, 0, 0, previous, PY_FRAME_OWNED_BY_CSTACK, false);
}

struct world {
	struct image im;
	struct py_layout l;
	struct py_mem m;
	uint64_t runtime, ts_a, ts_b;
};

/*
 * Thread 101: Condition.wait <- Queue.get <- handle [entry] <- Thread.run
 * <- Thread._bootstrap [entry]; thread 102: sleeper [entry].  Lines:
 * firstlineno + the unit.
 */
static void build(struct world *w, int minor)
{
	struct image *im = &w->im;
	struct py_layout *l = &w->l;
	uint64_t boot, run, handle, get, wait, sleeper, f;

	memset(w, 0, sizeof(*w));
	layout_for(minor, l);
	w->m.read = img_read;
	w->m.ctx = im;
	boot = make_code(im, l, "Thread._bootstrap", "/usr/lib/python3.11/threading.py", 990);
	run = make_code(im, l, "Thread.run", "/usr/lib/python3.11/threading.py", 970);
	handle = make_code(im, l, "handle", "/srv/leak.py", 30);
	get = make_code(im, l, "Queue.get", "/usr/lib/python3.11/queue.py", 160);
	wait = make_code(im, l, "Condition.wait", "/usr/lib/python3.11/threading.py", 320);
	sleeper = make_code(im, l, "sleeper", "/srv/leak.py", 37);

	f = entry_shim(im, l, 0);
	f = make_frame(im, l, boot, 12, f, 0, true);
	f = make_frame(im, l, run, 12, f, 0, false);
	f = entry_shim(im, l, f);
	f = make_frame(im, l, handle, 3, f, 0, true);
	f = make_frame(im, l, get, 11, f, 0, false);
	f = make_frame(im, l, wait, 7, f, 0, false);
	w->ts_a = make_tstate(im, l, 101, f, 0);
	f = make_frame(im, l, sleeper, 2, entry_shim(im, l, 0), 0, true);
	w->ts_b = make_tstate(im, l, 102, f, w->ts_a);
	w->runtime = make_runtime(im, l, w->ts_b);
}

static void expect_frame(const struct lw_frame *f, const char *func, const char *file, int line,
			 bool entry)
{
	assert_int_equal(f->kind, LW_FRAME_PYTHON);
	assert_string_equal(f->func, func);
	assert_string_equal(f->file, file);
	assert_int_equal(f->line, line);
	assert_int_equal(f->py_entry, entry);
	assert_string_equal(f->module, "");
	assert_false(f->inlined);
}

/* With LW_PY_SEEDS=DIR: the image as a seed of tests/fuzz/fuzz_py_frames
 * (its input format: layout, runtime, a thread state, [debug offsets],
 * the image at the same base). */
static void write_seed(const struct world *w, int minor)
{
	const char *dir = getenv("LW_PY_SEEDS");
	uint8_t offsets[PY_DEBUG_OFFSETS_SPAN] = { 0 };
	uint8_t mode = (uint8_t)(minor - 11);
	char path[512];
	FILE *f;

	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/world-3.%d", dir, minor);
	f = fopen(path, "w");
	assert_non_null(f);
	fwrite(&mode, 1, 1, f);
	fwrite(&w->runtime, 8, 1, f);
	fwrite(&w->ts_a, 8, 1, f);
	if (minor == 13) {
		debug_offsets_image(offsets);
		fwrite(offsets, sizeof(offsets), 1, f);
	}
	fwrite(w->im.bytes, w->im.used, 1, f);
	assert_int_equal(fclose(f), 0);
}

static void check_world(int minor)
{
	static struct world w;
	struct py_walk_stats st = { 0 };
	struct lw_frame out[PY_FRAMES_MAX];
	struct py_tstate ts[8];
	uint64_t head;
	int n;

	build(&w, minor);
	write_seed(&w, minor);
	n = py_list_threads(&w.m, &w.l, w.runtime, ts, 8, &st);
	assert_int_equal(n, 2);
	assert_int_equal(ts[0].tid, 102);
	assert_int_equal(ts[0].addr, w.ts_b);
	assert_int_equal(ts[1].tid, 101);
	assert_int_equal(py_threads_head(&w.m, &w.l, w.runtime, &head), 0);
	assert_int_equal(head, w.ts_b);

	n = py_walk_frames(&w.m, &w.l, w.ts_a, out, PY_FRAMES_MAX, &st);
	assert_int_equal(n, 5);
	expect_frame(&out[0], "Condition.wait", "/usr/lib/python3.11/threading.py", 327, false);
	expect_frame(&out[1], "Queue.get", "/usr/lib/python3.11/queue.py", 171, false);
	expect_frame(&out[2], "handle", "/srv/leak.py", 33, true);
	expect_frame(&out[3], "Thread.run", "/usr/lib/python3.11/threading.py", 982, false);
	expect_frame(&out[4], "Thread._bootstrap", "/usr/lib/python3.11/threading.py", 1002,
		     true);
	assert_int_equal(out[2].offset, 6);
	assert_int_equal(out[0].pc % 8, 0);
	n = py_walk_frames(&w.m, &w.l, w.ts_b, out, PY_FRAMES_MAX, &st);
	assert_int_equal(n, 1);
	expect_frame(&out[0], "sleeper", "/srv/leak.py", 39, true);
	/* max respected, the rest counted as cut */
	n = py_walk_frames(&w.m, &w.l, w.ts_a, out, 2, &st);
	assert_int_equal(n, 2);
	assert_int_equal(st.chains_cut, 1);
	assert_int_equal(st.lists_cut, 0);
	assert_int_equal(st.lines_unknown, 0);
}

static void test_world_311(void **state)
{
	check_world(11);
}

static void test_world_312(void **state)
{
	check_world(12);
}

static void test_world_313(void **state)
{
	check_world(13);
}

/* A frame whose previous is itself, or an earlier frame: the chain ends. */
static void test_frame_cycles(void **state)
{
	static struct world w;
	struct py_walk_stats st = { 0 };
	struct lw_frame out[PY_FRAMES_MAX];
	uint64_t code, f1, f2, ts;

	for (int minor = 11; minor <= 13; minor++) {
		build(&w, minor);
		code = make_code(&w.im, &w.l, "loop", "/srv/x.py", 1);
		f1 = make_frame(&w.im, &w.l, code, 0, 0, 0, false);
		put64(&w.im, f1 + w.l.frame_previous, f1);
		ts = make_tstate(&w.im, &w.l, 7, f1, 0);
		memset(&st, 0, sizeof(st));
		assert_int_equal(py_walk_frames(&w.m, &w.l, ts, out, PY_FRAMES_MAX, &st), 1);
		assert_int_equal(st.chains_cut, 1);
		f2 = make_frame(&w.im, &w.l, code, 1, f1, 0, false);
		put64(&w.im, f1 + w.l.frame_previous, f2);
		ts = make_tstate(&w.im, &w.l, 7, f2, 0);
		assert_int_equal(py_walk_frames(&w.m, &w.l, ts, out, PY_FRAMES_MAX, &st), 2);
		assert_int_equal(st.chains_cut, 2);
		/* a cycle of shims only (3.12+): no frame, ended */
		if (minor >= 12) {
			f1 = make_frame(&w.im, &w.l, 0, 0, 0, PY_FRAME_OWNED_BY_CSTACK, false);
			put64(&w.im, f1 + w.l.frame_previous, f1);
			ts = make_tstate(&w.im, &w.l, 7, f1, 0);
			assert_int_equal(py_walk_frames(&w.m, &w.l, ts, out, PY_FRAMES_MAX, &st),
					 0);
			assert_int_equal(st.chains_cut, 3);
		}
	}
}

/* A chain longer than PY_FRAMES_MAX is cut there. */
static void test_long_chain(void **state)
{
	static struct world w;
	struct py_walk_stats st = { 0 };
	struct lw_frame out[PY_FRAMES_MAX + 8];
	uint64_t code, f = 0, ts;

	build(&w, 12);
	code = make_code(&w.im, &w.l, "recurse", "/srv/x.py", 1);
	for (int i = 0; i < PY_FRAMES_MAX + 50; i++)
		f = make_frame(&w.im, &w.l, code, i % 16, f, 0, false);
	ts = make_tstate(&w.im, &w.l, 7, f, 0);
	assert_int_equal(py_walk_frames(&w.m, &w.l, ts, out, PY_FRAMES_MAX + 8, &st),
			 PY_FRAMES_MAX);
	assert_int_equal(st.chains_cut, 1);
}

/* Pointers that are not, strings that are not, lines that cannot be. */
static void test_garbage(void **state)
{
	static struct world w;
	struct py_walk_stats st = { 0 };
	struct lw_frame out[PY_FRAMES_MAX];
	uint64_t code, bad, f, ts, s;

	for (int minor = 11; minor <= 13; minor++) {
		build(&w, minor);
		memset(&st, 0, sizeof(st));
		code = make_code(&w.im, &w.l, "ok", "/srv/x.py", 1);
		/* a misaligned, an unmapped and a null thread state */
		assert_int_equal(py_walk_frames(&w.m, &w.l, w.ts_a + 3, out, 8, &st), -EINVAL);
		assert_int_equal(py_walk_frames(&w.m, &w.l, 0x1000, out, 8, &st), -EFAULT);
		assert_int_equal(py_walk_frames(&w.m, &w.l, 0, out, 8, &st), -EINVAL);
		/* no frame: not running Python */
		ts = make_tstate(&w.im, &w.l, 7, 0, 0);
		assert_int_equal(py_walk_frames(&w.m, &w.l, ts, out, 8, &st), 0);
		/* the first frame unmapped: unreadable; a later one: cut */
		ts = make_tstate(&w.im, &w.l, 7, 0x10000, 0);
		assert_int_equal(py_walk_frames(&w.m, &w.l, ts, out, 8, &st), -EFAULT);
		f = make_frame(&w.im, &w.l, code, 0, 0x10008, 0, false);
		ts = make_tstate(&w.im, &w.l, 7, f, 0);
		assert_int_equal(py_walk_frames(&w.m, &w.l, ts, out, 8, &st), 1);
		assert_int_equal(st.chains_cut, 1);
		/* a code pointer into nowhere */
		f = make_frame(&w.im, &w.l, code, 0, 0, 0, false);
		put64(&w.im, f + w.l.frame_code, 0x20000);
		ts = make_tstate(&w.im, &w.l, 7, f, 0);
		assert_int_equal(py_walk_frames(&w.m, &w.l, ts, out, 8, &st), -EFAULT);
		/* a qualname that is not a compact string */
		bad = make_code(&w.im, &w.l, "x", "/srv/x.py", 1);
		s = make_str(&w.im, &w.l, "legacy");
		put32(&w.im, s + w.l.str_state, 1u << 2);
		put64(&w.im, bad + w.l.code_qualname, s);
		ts = make_tstate(&w.im, &w.l, 7, make_frame(&w.im, &w.l, bad, 0, 0, 0, false), 0);
		assert_int_equal(py_walk_frames(&w.m, &w.l, ts, out, 8, &st), -EINVAL);
		/* a negative length, a NUL in a name, a bad kind */
		put32(&w.im, s + w.l.str_state, 1u << 2 | 1u << 5 | 1u << 6);
		put64(&w.im, s + w.l.str_length, (uint64_t)-5);
		assert_int_equal(py_walk_frames(&w.m, &w.l, ts, out, 8, &st), -EINVAL);
		put64(&w.im, s + w.l.str_length, 6);
		put8(&w.im, s + w.l.str_ascii_size + 2, 0);
		assert_int_equal(py_walk_frames(&w.m, &w.l, ts, out, 8, &st), -EINVAL);
		put32(&w.im, s + w.l.str_state, 3u << 2 | 1u << 5);
		assert_int_equal(py_walk_frames(&w.m, &w.l, ts, out, 8, &st), -EINVAL);
		/* an instruction pointer outside the code: the line unknown,
		 * the frame kept */
		f = make_frame(&w.im, &w.l, code, 0, 0, 0, false);
		put64(&w.im, f + w.l.frame_instr, code + w.l.code_adaptive + (1ull << 40));
		ts = make_tstate(&w.im, &w.l, 7, f, 0);
		assert_int_equal(py_walk_frames(&w.m, &w.l, ts, out, 8, &st), 1);
		assert_int_equal(out[0].line, 0);
		assert_string_equal(out[0].func, "ok");
		/* not at a code unit */
		put64(&w.im, f + w.l.frame_instr, code + w.l.code_adaptive + 3);
		assert_int_equal(py_walk_frames(&w.m, &w.l, ts, out, 8, &st), 1);
		assert_int_equal(out[0].line, 0);
		/* before the first instruction: the first line */
		put64(&w.im, f + w.l.frame_instr, code + w.l.code_adaptive - 2);
		assert_int_equal(py_walk_frames(&w.m, &w.l, ts, out, 8, &st), 1);
		assert_int_equal(out[0].line, 1);
		/* past the table's end, or a table of a huge size */
		put64(&w.im, f + w.l.frame_instr, code + w.l.code_adaptive + 64);
		assert_int_equal(py_walk_frames(&w.m, &w.l, ts, out, 8, &st), 1);
		assert_int_equal(out[0].line, 0);
		put64(&w.im, f + w.l.frame_instr, code + w.l.code_adaptive);
		s = make_bytes(&w.im, &w.l, (const uint8_t *)"\x80", 1);
		put64(&w.im, s + w.l.bytes_size, 1ull << 40);
		put64(&w.im, code + w.l.code_linetable, s);
		assert_int_equal(py_walk_frames(&w.m, &w.l, ts, out, 8, &st), 1);
		assert_int_equal(out[0].line, 0);
		assert_int_equal(st.lines_unknown, 4);
	}
}

static void test_string_kinds(void **state)
{
	static struct world w;
	static const uint32_t latin1[] = { 'c', 0xe9, 'f' };
	static const uint32_t ucs2[] = { 0x4e2d, 0x6587, 0xd800 };
	static const uint32_t ucs4[] = { 'f', 0x1f600 };
	static const uint32_t bad4[] = { 0x110000 };
	uint32_t many[400];
	char buf[LW_FUNC_TEXT];
	bool cut;

	build(&w, 12);
	assert_int_equal(py_read_str(&w.m, &w.l, make_str_kind(&w.im, &w.l, latin1, 3, 1, false),
				     buf, sizeof(buf), &cut), 0);
	assert_string_equal(buf, "c\xc3\xa9" "f");
	assert_int_equal(py_read_str(&w.m, &w.l, make_str_kind(&w.im, &w.l, ucs2, 3, 2, false),
				     buf, sizeof(buf), &cut), 0);
	/* a lone surrogate cannot be UTF-8: U+FFFD */
	assert_string_equal(buf, "\xe4\xb8\xad\xe6\x96\x87\xef\xbf\xbd");
	assert_int_equal(py_read_str(&w.m, &w.l, make_str_kind(&w.im, &w.l, ucs4, 2, 4, false),
				     buf, sizeof(buf), &cut), 0);
	assert_string_equal(buf, "f\xf0\x9f\x98\x80");
	assert_false(cut);
	assert_int_equal(py_read_str(&w.m, &w.l, make_str_kind(&w.im, &w.l, bad4, 1, 4, false),
				     buf, sizeof(buf), &cut), -EINVAL);
	/* an ASCII string with a byte >= 0x80 */
	assert_int_equal(py_read_str(&w.m, &w.l, make_str_kind(&w.im, &w.l, latin1, 3, 1, true),
				     buf, sizeof(buf), &cut), -EINVAL);
	/* long: cut at a character boundary, said */
	for (int i = 0; i < 400; i++)
		many[i] = i % 2 ? 'a' : 0x1f600;
	assert_int_equal(py_read_str(&w.m, &w.l, make_str_kind(&w.im, &w.l, many, 400, 4, false),
				     buf, sizeof(buf), &cut), 0);
	assert_true(cut);
	assert_true(strlen(buf) < sizeof(buf));
	assert_true(strlen(buf) > sizeof(buf) - 6);
	for (int i = 0; i < 400; i++)
		many[i] = 'x';
	assert_int_equal(py_read_str(&w.m, &w.l, make_str_kind(&w.im, &w.l, many, 400, 1, true),
				     buf, 8, &cut), 0);
	assert_string_equal(buf, "xxxxxxx");
	assert_true(cut);
	/* a length far beyond the image: only what fits is read */
	{
		uint64_t s = make_str(&w.im, &w.l, "abc");

		put64(&w.im, s + w.l.str_length, 1ull << 60);
		w.im.reads = 0;
		assert_int_not_equal(py_read_str(&w.m, &w.l, s, buf, sizeof(buf), &cut), 0x7fff);
		assert_true(w.im.reads <= 2);
	}
}

/* Thread lists that cycle (to the head, or past it) or go nowhere. */
static void test_thread_lists(void **state)
{
	static struct world w;
	struct py_walk_stats st = { 0 };
	static struct py_tstate ts[PY_THREADS_MAX];
	uint64_t interp;

	build(&w, 11);
	put64(&w.im, w.ts_a + w.l.tstate_next, w.ts_b);
	assert_int_equal(py_list_threads(&w.m, &w.l, w.runtime, ts, PY_THREADS_MAX, &st), 2);
	assert_int_equal(st.lists_cut, 1);
	put64(&w.im, w.ts_a + w.l.tstate_next, w.ts_a);
	assert_int_equal(py_list_threads(&w.m, &w.l, w.runtime, ts, PY_THREADS_MAX, &st),
			 PY_THREADS_MAX);
	assert_int_equal(st.lists_cut, 2);
	put64(&w.im, w.ts_a + w.l.tstate_next, 0x30000);
	assert_int_equal(py_list_threads(&w.m, &w.l, w.runtime, ts, 8, &st), 2);
	assert_int_equal(st.lists_cut, 3);
	/* max respected */
	put64(&w.im, w.ts_a + w.l.tstate_next, 0);
	assert_int_equal(py_list_threads(&w.m, &w.l, w.runtime, ts, 1, &st), 1);
	/* interpreters that cycle: each read once */
	memcpy(&interp, w.im.bytes + (w.runtime - IMG_BASE) + w.l.runtime_interpreters_head, 8);
	put64(&w.im, interp + w.l.interp_next, interp);
	st.lists_cut = 0;
	assert_int_equal(py_list_threads(&w.m, &w.l, w.runtime, ts, 8, &st), 2);
	assert_int_equal(st.lists_cut, 1);
	/* no interpreter yet, a runtime that is not */
	put64(&w.im, w.runtime + w.l.runtime_interpreters_head, 0);
	assert_int_equal(py_list_threads(&w.m, &w.l, w.runtime, ts, 8, &st), -ENOENT);
	assert_int_equal(py_list_threads(&w.m, &w.l, 0x1000, ts, 8, &st), -EFAULT);
	assert_int_equal(py_list_threads(&w.m, &w.l, w.runtime + 1, ts, 8, &st), -EINVAL);
}

/*
 * A hostile list (its tail cycles back, so a listing reads PY_THREADS_MAX
 * thread states) whose head flips between lookups of tids it lacks: one
 * listing per PY_RELIST_INTERVAL_NS, the rest answered "none" and counted.
 */
static void test_relist_interval(void **state)
{
	static struct world w;
	struct py_walk_stats st = { 0 };
	struct py_tstates c = { 0 };
	const uint64_t ms = 1000000;
	uint64_t interp, ring[4], heads[2], addr, t0;
	int reads;

	build(&w, 11);
	for (int i = 3; i >= 0; i--)
		ring[i] = make_tstate(&w.im, &w.l, 200 + i, 0, i < 3 ? ring[i + 1] : 0);
	put64(&w.im, ring[3] + w.l.tstate_next, ring[0]);
	put64(&w.im, w.ts_a + w.l.tstate_next, ring[0]);
	heads[0] = w.ts_b;
	heads[1] = make_tstate(&w.im, &w.l, 103, 0, w.ts_b);
	memcpy(&interp, w.im.bytes + (w.runtime - IMG_BASE) + w.l.runtime_interpreters_head, 8);

	/* the first lookup lists, whole up to the cap */
	t0 = 5000 * ms;
	assert_int_equal(py_tstates_lookup(&c, &w.m, &w.l, w.runtime, 101, t0, &addr, &st), 0);
	assert_int_equal(addr, w.ts_a);
	assert_true(w.im.reads >= PY_THREADS_MAX);
	assert_int_equal(st.lists_cut, 1);

	/* 500 tids in no thread state, the head flipped before each, within
	 * the interval: a few reads each (the head), no listing; every other
	 * one sees the head as listed (not counted) */
	w.im.reads = 0;
	for (int i = 0; i < 500; i++) {
		put64(&w.im, interp + w.l.interp_threads_head, heads[(i + 1) & 1]);
		assert_int_equal(py_tstates_lookup(&c, &w.m, &w.l, w.runtime, 5000 + i,
						   t0 + (uint64_t)i * ms, &addr, &st), 1);
	}
	assert_true(w.im.reads <= 500 * 4);
	assert_int_equal(st.relists_skipped, 250);
	assert_int_equal(st.lists_cut, 1);
	/* listed tids are still found, at one read each */
	reads = w.im.reads;
	assert_int_equal(py_tstates_lookup(&c, &w.m, &w.l, w.runtime, 102, t0 + 600 * ms, &addr,
					   &st), 0);
	assert_int_equal(addr, w.ts_b);
	assert_int_equal(w.im.reads - reads, 1);
	/* the head unchanged since the listing: "none", not counted */
	put64(&w.im, interp + w.l.interp_threads_head, heads[0]);
	assert_int_equal(py_tstates_lookup(&c, &w.m, &w.l, w.runtime, 6000, t0 + 700 * ms, &addr,
					   &st), 1);
	assert_int_equal(st.relists_skipped, 250);

	/* past the interval: one listing, which finds the new head's 103 */
	put64(&w.im, interp + w.l.interp_threads_head, heads[1]);
	reads = w.im.reads;
	assert_int_equal(py_tstates_lookup(&c, &w.m, &w.l, w.runtime, 103,
					   t0 + PY_RELIST_INTERVAL_NS - 1, &addr, &st), 1);
	assert_int_equal(st.relists_skipped, 251);
	assert_int_equal(py_tstates_lookup(&c, &w.m, &w.l, w.runtime, 103,
					   t0 + PY_RELIST_INTERVAL_NS, &addr, &st), 0);
	assert_int_equal(addr, heads[1]);
	assert_true(w.im.reads - reads >= PY_THREADS_MAX);
	assert_int_equal(st.lists_cut, 2);
	/* and not again at once: a stale entry (its thread state reused by
	 * another tid) waits for the next interval too */
	put64(&w.im, interp + w.l.interp_threads_head, heads[0]);
	put64(&w.im, w.ts_a + w.l.tstate_native_thread_id, 999);
	reads = w.im.reads;
	assert_int_equal(py_tstates_lookup(&c, &w.m, &w.l, w.runtime, 101,
					   t0 + PY_RELIST_INTERVAL_NS + 1, &addr, &st), 1);
	assert_int_equal(py_tstates_lookup(&c, &w.m, &w.l, w.runtime, 7000,
					   t0 + PY_RELIST_INTERVAL_NS + 2, &addr, &st), 1);
	assert_true(w.im.reads - reads <= 8);
	assert_int_equal(st.relists_skipped, 253);
	/* a clock that went back allows a listing (never stuck) */
	assert_int_equal(py_tstates_lookup(&c, &w.m, &w.l, w.runtime, 999, t0 - 1, &addr, &st),
			 0);
	assert_int_equal(addr, w.ts_a);
	assert_int_equal(st.lists_cut, 3);
	py_tstates_free(&c);

	/* a failed listing is no listing: the next lookup tries again */
	put64(&w.im, w.runtime + w.l.runtime_interpreters_head, 0);
	assert_int_equal(py_tstates_lookup(&c, &w.m, &w.l, w.runtime, 101, t0, &addr, &st),
			 -ENOENT);
	put64(&w.im, w.runtime + w.l.runtime_interpreters_head, interp);
	assert_int_equal(py_tstates_lookup(&c, &w.m, &w.l, w.runtime, 102, t0 + 1, &addr, &st),
			 0);
	assert_int_equal(addr, w.ts_b);
	py_tstates_free(&c);
}

static void test_debug_offsets_validated(void **state)
{
	uint8_t buf[PY_DEBUG_OFFSETS_SPAN] = { 0 };
	struct py_layout l;
	uint64_t v;

	debug_offsets_image(buf);
	assert_int_equal(py_layout_from_debug_offsets(buf, sizeof(buf), 0x030d00f0, &l), 0);
	assert_int_equal(l.tstate_native_thread_id, 160);
	assert_int_equal(l.tstate_current_frame, 72);
	assert_int_equal(l.frame_code, 0);
	assert_int_equal(l.frame_owner, 70);
	assert_int_equal(l.code_adaptive, 200);
	assert_int_equal(l.str_ascii_size, 40);
	assert_int_equal(l.str_compact_size, 56);
	/* another patch release's Py_Version, not this one's */
	assert_int_equal(py_layout_from_debug_offsets(buf, sizeof(buf), 0x030d01f0, &l), -EINVAL);
	/* too short */
	assert_int_equal(py_layout_from_debug_offsets(buf, 100, 0x030d00f0, &l), -EINVAL);
	/* before 3.13 there are none; 3.14's are laid out otherwise */
	assert_int_equal(py_layout_from_debug_offsets(buf, sizeof(buf), 0x030c01f0, &l), -ENOTSUP);
	v = 0x030e00f0;
	memcpy(buf + 8, &v, 8);
	assert_int_equal(py_layout_from_debug_offsets(buf, sizeof(buf), 0x030e00f0, &l), -ENOTSUP);
	debug_offsets_image(buf);
	/* the cookie */
	buf[0] = 'X';
	assert_int_equal(py_layout_from_debug_offsets(buf, sizeof(buf), 0x030d00f0, &l), -EINVAL);
	/* an offset past its struct, a struct too large to read, an ASCII
	 * header larger than the whole string object */
	for (int word = 19; word < 73; word++) {
		static const int read_words[] = { 19, 21, 23, 25, 28, 29, 30, 31, 33, 34, 35,
						  37, 38, 39, 43, 64, 65, 66, 67, 68, 69, 70 };
		bool read = false;

		for (size_t k = 0; k < sizeof(read_words) / sizeof(read_words[0]); k++)
			read |= read_words[k] == word;
		debug_offsets_image(buf);
		v = 1ull << 40;
		memcpy(buf + 8 * word, &v, 8);
		assert_int_equal(py_layout_from_debug_offsets(buf, sizeof(buf), 0x030d00f0, &l),
				 read ? -EINVAL : 0);
	}
	debug_offsets_image(buf);
	v = 208; /* thread_state.native_thread_id at thread_state.size - 8 + 8 */
	memcpy(buf + 8 * 25, &v, 8);
	v = 200;
	memcpy(buf + 8 * 19, &v, 8);
	assert_int_equal(py_layout_from_debug_offsets(buf, sizeof(buf), 0x030d00f0, &l), -EINVAL);
}

static void test_layout_tables(void **state)
{
	struct py_layout l;

	assert_int_equal(py_layout_for_version(0x030a0df0, &l), -ENOTSUP);
	assert_int_equal(py_layout_for_version(0x030d00f0, &l), -ENOTSUP);
	assert_int_equal(py_layout_for_version(0x020b0000, &l), -ENOTSUP);
	assert_int_equal(py_layout_for_version(0x030b02f0, &l), 0);
	assert_true(py_layout_valid(&l));
	assert_int_equal(l.version, 0x030b02f0);
	l.frame_owner = l.frame_span;
	assert_false(py_layout_valid(&l));
	assert_int_equal(py_layout_for_version(0x030c01f0, &l), 0);
	assert_true(py_layout_valid(&l));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_world_311),
		cmocka_unit_test(test_world_312),
		cmocka_unit_test(test_world_313),
		cmocka_unit_test(test_frame_cycles),
		cmocka_unit_test(test_long_chain),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_string_kinds),
		cmocka_unit_test(test_thread_lists),
		cmocka_unit_test(test_relist_interval),
		cmocka_unit_test(test_debug_offsets_validated),
		cmocka_unit_test(test_layout_tables),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

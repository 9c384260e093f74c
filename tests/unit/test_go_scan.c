// SPDX-License-Identifier: GPL-2.0
/* The pure parts of the goroutine scan (user/go_g.c) on synthetic memory:
 * g decoding and validation, the frame-pointer walk, the load bias. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "go_g.h"

/* runtime.g on amd64, Go 1.19 (DWARF, DESIGN.md section 7). */
static const struct go_layout layout119 = {
	.g_size = 392,
	.g_stack_lo = 0, .g_stack_hi = 8, .g_m = 48,
	.g_sched_sp = 56, .g_sched_pc = 64, .g_sched_bp = 104,
	.g_syscallsp = 112, .g_syscallpc = 120,
	.g_atomicstatus = 144, .g_goid = 152, .g_waitreason = 176, .g_tracking_seq = 189,
	.g_gopc = 296, .g_startpc = 312, .m_procid = 72,
	.source = "test",
};

#define STACK_LO 0xc000100000ull
#define STACK_HI 0xc000102000ull

static void put64(uint8_t *img, uint32_t off, uint64_t v)
{
	memcpy(img + off, &v, 8);
}

static void put32(uint8_t *img, uint32_t off, uint32_t v)
{
	memcpy(img + off, &v, 4);
}

/* A parked goroutine 42 in a chan receive (14), sp inside its stack. */
static void make_g(uint8_t *img, uint32_t status)
{
	const struct go_layout *l = &layout119;

	memset(img, 0, l->g_size);
	put64(img, l->g_stack_lo, STACK_LO);
	put64(img, l->g_stack_hi, STACK_HI);
	put64(img, l->g_sched_sp, STACK_HI - 0x200);
	put64(img, l->g_sched_pc, 0x43a1b6);
	put64(img, l->g_sched_bp, STACK_HI - 0x1e0);
	put32(img, l->g_atomicstatus, status);
	put64(img, l->g_goid, 42);
	img[l->g_waitreason] = 14;
	img[l->g_tracking_seq] = 7;
	put64(img, l->g_gopc, 0x48f123);
	put64(img, l->g_startpc, 0x48f200);
}

static void test_segments_cover_every_field_and_fewer_bytes(void **state)
{
	const struct go_layout *l = &layout119;
	uint32_t fields[][2] = {
		{ l->g_stack_lo, 8 }, { l->g_stack_hi, 8 }, { l->g_m, 8 }, { l->g_sched_sp, 8 },
		{ l->g_sched_pc, 8 }, { l->g_sched_bp, 8 }, { l->g_syscallsp, 8 },
		{ l->g_syscallpc, 8 }, { l->g_atomicstatus, 4 }, { l->g_goid, 8 },
		{ l->g_waitreason, 1 }, { l->g_tracking_seq, 1 }, { l->g_gopc, 8 },
		{ l->g_startpc, 8 },
	};
	struct go_g_segs s;

	assert_int_equal(go_g_segs_init(&s, l, 32), 0);
	/* [0, 190): stack...tracking_seq; [296, 320): gopc, startpc. */
	assert_int_equal(s.n, 2);
	assert_int_equal(s.bytes, 190 + 24);
	assert_int_equal(s.span, 320);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		bool inside = false;

		for (uint32_t j = 0; j < s.n; j++)
			inside |= fields[i][0] >= s.off[j] &&
				  fields[i][0] + fields[i][1] <= s.off[j] + s.len[j];
		assert_true(inside);
	}
	for (uint32_t j = 1; j < s.n; j++)
		assert_true(s.off[j] > s.off[j - 1] + s.len[j - 1] + 32);
	/* Gap 0: only touching fields merge; every field still covered. */
	assert_int_equal(go_g_segs_init(&s, l, 0), 0);
	assert_true(s.n >= 5);
}

static void test_segments_refuse_fields_outside_g(void **state)
{
	struct go_layout l = layout119;
	struct go_g_segs s;

	l.g_startpc = 388; /* 8 bytes past a 392-byte g */
	assert_int_equal(go_g_segs_init(&s, &l, 32), -EINVAL);
	l = layout119;
	l.g_goid = UINT32_MAX - 2; /* would wrap */
	assert_int_equal(go_g_segs_init(&s, &l, 32), -EINVAL);
	l = layout119;
	l.g_size = 0;
	assert_int_equal(go_g_segs_init(&s, &l, 32), -EINVAL);
}

static void test_decode_every_status(void **state)
{
	static const struct {
		uint32_t status;
		enum go_g_verdict verdict;
	} cases[] = {
		{ 0, GO_G_GONE },     { 1, GO_G_LIVE },     { 2, GO_G_LIVE },
		{ 3, GO_G_LIVE },     { 4, GO_G_LIVE },     { 5, GO_G_INVALID },
		{ 6, GO_G_GONE },     { 7, GO_G_INVALID },  { 8, GO_G_LIVE },
		{ 9, GO_G_LIVE },     { 10, GO_G_LIVE },    { 11, GO_G_GONE },
		{ 12, GO_G_INVALID }, { 15, GO_G_INVALID }, { 0x1004, GO_G_LIVE },
		{ 0x1002, GO_G_LIVE }, { 0x1006, GO_G_GONE }, { 0x100a, GO_G_LIVE },
		{ 0x2004, GO_G_INVALID }, { 0x14, GO_G_INVALID }, { 0xffffffff, GO_G_INVALID },
	};
	uint8_t img[392];
	struct go_g_raw raw;
	struct go_goroutine g;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		make_g(img, cases[i].status);
		assert_int_equal(go_g_decode(&layout119, img, sizeof(img), 0xc000007000, &raw, &g),
				 cases[i].verdict);
		assert_int_equal(raw.status, cases[i].status);
		if (cases[i].verdict != GO_G_LIVE)
			continue;
		assert_int_equal(g.status, cases[i].status & ~0x1000u);
		assert_int_equal(g.goid, 42);
		assert_int_equal(g.tracking_seq, 7);
		assert_int_equal(g.sp_depth, 0x200);
		assert_int_equal(g.gopc, 0x48f123);
		assert_int_equal(g.startpc, 0x48f200);
		assert_int_equal(g.g_addr, 0xc000007000);
		assert_int_equal(g.tid, 0);
		assert_false(g.system);
		/* The wait reason is a waiting g's only. */
		assert_int_equal(g.wait_reason, g.status == GO_G_WAITING ||
						g.status == GO_G_LEAKED ? 14 : 0);
	}
}

static enum go_g_verdict decode_with(uint32_t status, uint32_t off, uint64_t v)
{
	uint8_t img[392];
	struct go_g_raw raw;
	struct go_goroutine g;

	make_g(img, status);
	put64(img, off, v);
	return go_g_decode(&layout119, img, sizeof(img), 0xc000007000, &raw, &g);
}

static void test_decode_invalid_gs(void **state)
{
	const struct go_layout *l = &layout119;

	assert_int_equal(decode_with(4, l->g_goid, 0), GO_G_INVALID);
	assert_int_equal(decode_with(4, l->g_goid, 1ull << 60), GO_G_INVALID);
	assert_int_equal(decode_with(4, l->g_stack_lo, 0), GO_G_INVALID);
	assert_int_equal(decode_with(4, l->g_stack_lo, STACK_HI), GO_G_INVALID);
	assert_int_equal(decode_with(4, l->g_stack_hi, STACK_LO - 8), GO_G_INVALID);
	assert_int_equal(decode_with(4, l->g_stack_hi, STACK_LO + (2ull << 30)), GO_G_INVALID);
	assert_int_equal(decode_with(4, l->g_stack_hi, 1ull << 63), GO_G_INVALID);
	/* sp outside the stack: a parked g is invalid, a running one's sched
	 * is stale and does not count. */
	assert_int_equal(decode_with(4, l->g_sched_sp, STACK_HI), GO_G_INVALID);
	assert_int_equal(decode_with(1, l->g_sched_sp, STACK_LO - 8), GO_G_INVALID);
	assert_int_equal(decode_with(9, l->g_sched_sp, 0), GO_G_INVALID);
	assert_int_equal(decode_with(2, l->g_sched_sp, 0), GO_G_LIVE);
	assert_int_equal(decode_with(3, l->g_sched_sp, 0), GO_G_LIVE);
	assert_int_equal(decode_with(8, l->g_sched_sp, 0), GO_G_LIVE);
	/* Dead gs keep garbage: gone, not invalid. */
	assert_int_equal(decode_with(6, l->g_goid, 0), GO_G_GONE);
	assert_int_equal(decode_with(6, l->g_stack_lo, 0), GO_G_GONE);
}

static void test_decode_short_image_reads_nothing_outside(void **state)
{
	uint8_t img[392];
	struct go_g_raw raw;
	struct go_goroutine g;

	make_g(img, 4);
	/* Only 100 bytes: status, goid... are outside and read as 0. */
	assert_int_equal(go_g_decode(&layout119, img, 100, 1, &raw, &g), GO_G_GONE);
	assert_int_equal(raw.goid, 0);
	assert_int_equal(raw.stack_hi, STACK_HI);
}

/* A stack image: [STACK_LO, STACK_HI), words put at addresses. */
static uint8_t stack_img[STACK_HI - STACK_LO];

static void put_stack(uint64_t addr, uint64_t v)
{
	memcpy(stack_img + (addr - STACK_LO), &v, 8);
}

#define GOEXIT 0x466e40ull
#define GOEXIT_END 0x466e60ull
#define SP (STACK_HI - 0x200)

/* gopark -> chanrecv -> main.worker, started from goexit. */
static void make_chain(void)
{
	memset(stack_img, 0, sizeof(stack_img));
	put_stack(SP + 0x20, SP + 0x60);      /* gopark's frame: next bp */
	put_stack(SP + 0x28, 0x405a10);       /* return into chanrecv */
	put_stack(SP + 0x60, SP + 0x100);
	put_stack(SP + 0x68, 0x48f260);       /* into main.worker */
	put_stack(SP + 0x100, 0);
	put_stack(SP + 0x108, GOEXIT + 1);    /* main.worker returns into goexit */
}

static void init_walk(struct go_stack_walk *w, uint64_t *pcs, int max)
{
	memset(w, 0, sizeof(*w));
	w->stack_lo = STACK_LO;
	w->stack_hi = STACK_HI;
	w->goexit_lo = GOEXIT;
	w->goexit_hi = GOEXIT_END;
	w->pcs = pcs;
	w->max = max;
	go_stack_walk_init(w, 0x43a1b6, SP, SP + 0x20);
}

static int walk_all(struct go_stack_walk *w)
{
	return go_stack_walk(w, STACK_LO, stack_img, sizeof(stack_img));
}

static void test_walk_reaches_goexit(void **state)
{
	struct go_stack_walk w;
	uint64_t pcs[8];

	make_chain();
	init_walk(&w, pcs, 8);
	assert_int_equal(walk_all(&w), 0);
	assert_int_equal(w.n, 4);
	assert_int_equal(pcs[0], 0x43a1b6);
	assert_int_equal(pcs[1], 0x405a10);
	assert_int_equal(pcs[2], 0x48f260);
	assert_int_equal(pcs[3], GOEXIT + 1);
}

static void test_walk_keeps_max_but_still_checks_goexit(void **state)
{
	struct go_stack_walk w;
	uint64_t pcs[2];

	make_chain();
	init_walk(&w, pcs, 2);
	assert_int_equal(walk_all(&w), 0);
	assert_int_equal(w.n, 2);
	assert_int_equal(w.frames, 4);
	/* The same chain cut before goexit: refused even with pcs full. */
	put_stack(SP + 0x108, 0x48f000);
	init_walk(&w, pcs, 2);
	assert_int_equal(walk_all(&w), -EAGAIN);
}

static void test_walk_cycle_refused(void **state)
{
	struct go_stack_walk w;
	uint64_t pcs[8];

	make_chain();
	put_stack(SP + 0x100, SP + 0x20); /* back to gopark's frame */
	put_stack(SP + 0x108, 0x48f300);
	init_walk(&w, pcs, 8);
	assert_int_equal(walk_all(&w), -EAGAIN);
	/* A frame pointing at itself. */
	make_chain();
	put_stack(SP + 0x60, SP + 0x60);
	init_walk(&w, pcs, 8);
	assert_int_equal(walk_all(&w), -EAGAIN);
}

static void test_walk_bp_out_of_bounds_refused(void **state)
{
	static const uint64_t bad[] = {
		STACK_HI, STACK_HI - 8, STACK_LO - 16, 1ull << 63, UINT64_MAX - 7, SP + 0x61, 8,
	};
	struct go_stack_walk w;
	uint64_t pcs[8];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		make_chain();
		put_stack(SP + 0x60, bad[i]);
		init_walk(&w, pcs, 8);
		assert_int_equal(walk_all(&w), -EAGAIN);
	}
	/* The first bp below sp. */
	make_chain();
	init_walk(&w, pcs, 8);
	go_stack_walk_init(&w, 0x43a1b6, SP, SP - 0x20);
	assert_int_equal(walk_all(&w), -EAGAIN);
}

/* The GC moved the stack after the g was read: the old copy's words point
 * nowhere (zeroed here) and the walk does not reach goexit. */
static void test_walk_moved_goroutine_refused(void **state)
{
	struct go_stack_walk w;
	uint64_t pcs[8];

	make_chain();
	memset(stack_img + (SP + 0x60 - STACK_LO), 0, 16);
	init_walk(&w, pcs, 8);
	assert_int_equal(walk_all(&w), -EAGAIN);
	/* The return address of 0 is refused too, not taken as a frame. */
	make_chain();
	put_stack(SP + 0x68, 0);
	init_walk(&w, pcs, 8);
	assert_int_equal(walk_all(&w), -EAGAIN);
	assert_int_equal(w.n, 2);
}

static void test_walk_truncated_image_resumes(void **state)
{
	struct go_stack_walk w;
	uint64_t pcs[8];

	make_chain();
	init_walk(&w, pcs, 8);
	/* A copy of [SP, SP + 0x6c): the second frame's return address is
	 * cut in half: the walk asks for the whole frame. */
	assert_int_equal(go_stack_walk(&w, SP, stack_img + (SP - STACK_LO), 0x6c), -ENODATA);
	assert_int_equal(w.need, SP + 0x60);
	assert_int_equal(w.n, 2);
	assert_int_equal(go_stack_walk(&w, w.need, stack_img + (w.need - STACK_LO), 0x10),
			 -ENODATA);
	assert_int_equal(w.need, SP + 0x100);
	assert_int_equal(go_stack_walk(&w, w.need, stack_img + (w.need - STACK_LO), 0x10), 0);
	assert_int_equal(w.n, 4);
	assert_int_equal(pcs[2], 0x48f260);
	assert_int_equal(pcs[3], GOEXIT + 1);
	/* An empty copy asks for the first frame. */
	init_walk(&w, pcs, 8);
	assert_int_equal(go_stack_walk(&w, SP, stack_img, 0), -ENODATA);
	assert_int_equal(w.need, SP + 0x20);
}

static void test_walk_never_ran(void **state)
{
	struct go_stack_walk w;
	uint64_t pcs[8];

	memset(stack_img, 0, sizeof(stack_img));
	put_stack(SP, GOEXIT + 1);
	init_walk(&w, pcs, 8);
	go_stack_walk_init(&w, 0x48f200, SP, 0);
	assert_int_equal(walk_all(&w), 0);
	assert_int_equal(w.n, 2);
	assert_int_equal(pcs[0], 0x48f200);
	assert_int_equal(pcs[1], GOEXIT + 1);
	put_stack(SP, 0x48f000);
	go_stack_walk_init(&w, 0x48f200, SP, 0);
	assert_int_equal(walk_all(&w), -EAGAIN);
	/* sp at the very top: no 8 bytes to read. */
	go_stack_walk_init(&w, 0x48f200, STACK_HI - 4, 0);
	assert_int_equal(walk_all(&w), -EAGAIN);
}

static void test_walk_bad_bounds(void **state)
{
	struct go_stack_walk w;
	uint64_t pcs[8];

	make_chain();
	init_walk(&w, pcs, 8);
	w.stack_hi = w.stack_lo + 8;
	assert_int_equal(walk_all(&w), -EAGAIN);
	init_walk(&w, pcs, 8);
	go_stack_walk_init(&w, 0, SP, SP + 0x20);
	assert_int_equal(walk_all(&w), -EAGAIN);
}

static const char maps_pie[] =
	"c000000000-c000400000 rw-p 00000000 00:00 0 \n"
	"55d0c1a00000-55d0c1b4c000 r--p 00000000 fd:01 1234567 /tmp/x/pie\n"
	"55d0c1b4c000-55d0c1d9e000 r-xp 0014c000 fd:01 1234567 /tmp/x/pie\n"
	"7f2e00000000-7f2e00021000 rw-p 00000000 00:00 0 \n"
	"7f2e10000000-7f2e10010000 r--p 00000000 fd:01 1234567 /tmp/x/pie\n"
	"7ffd6a3d0000-7ffd6a3f1000 rw-p 00000000 00:00 0                          [stack]\n";

static void test_bias_pie_skips_heap_and_later_maps(void **state)
{
	uint64_t bias = 1;

	assert_int_equal(go_maps_load_bias(maps_pie, strlen(maps_pie), 0xfd, 1, 1234567, NULL, 0,
					   &bias), 0);
	assert_int_equal(bias, 0x55d0c1a00000ull);
	/* Another inode of the same name: the path is the fallback only. */
	assert_int_equal(go_maps_load_bias(maps_pie, strlen(maps_pie), 0xfd, 1, 99, "/tmp/x/pie",
					   0, &bias), 0);
	assert_int_equal(bias, 0x55d0c1a00000ull);
	assert_int_equal(go_maps_load_bias(maps_pie, strlen(maps_pie), 0xfd, 1, 99, NULL, 0,
					   &bias), -ENOENT);
	assert_int_equal(go_maps_load_bias(maps_pie, strlen(maps_pie), 0xfd, 2, 1234567, NULL, 0,
					   &bias), -ENOENT);
}

static void test_bias_non_pie_is_zero(void **state)
{
	static const char maps[] =
		"00400000-00493000 r-xp 00000000 08:02 77 /usr/bin/goprog\n"
		"00493000-0051b000 r--p 00093000 08:02 77 /usr/bin/goprog\n"
		"c000000000-c004000000 rw-p 00000000 00:00 0\n";
	uint64_t bias = 1;

	assert_int_equal(go_maps_load_bias(maps, strlen(maps), 8, 2, 77, NULL, 0x400000, &bias), 0);
	assert_int_equal(bias, 0);
}

static void test_bias_garbage_text(void **state)
{
	char junk[9000];
	uint64_t bias = 5;

	memset(junk, 'x', sizeof(junk));
	assert_int_equal(go_maps_load_bias(junk, sizeof(junk), 0, 0, 0, "", 0, &bias), -ENOENT);
	assert_int_equal(go_maps_load_bias("", 0, 0, 0, 0, NULL, 0, &bias), -ENOENT);
	/* No trailing newline, no NUL in len: the last line is still read. */
	assert_int_equal(go_maps_load_bias(maps_pie, 100, 0xfd, 1, 1234567, NULL, 0, &bias), 0);
	assert_int_equal(bias, 0x55d0c1a00000ull);
	/* Inode 0 (anonymous) never matches. */
	assert_int_equal(go_maps_load_bias(maps_pie, strlen(maps_pie), 0, 0, 0, NULL, 0, &bias),
			 -ENOENT);
	assert_int_equal(bias, 0x55d0c1a00000ull);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_segments_cover_every_field_and_fewer_bytes),
		cmocka_unit_test(test_segments_refuse_fields_outside_g),
		cmocka_unit_test(test_decode_every_status),
		cmocka_unit_test(test_decode_invalid_gs),
		cmocka_unit_test(test_decode_short_image_reads_nothing_outside),
		cmocka_unit_test(test_walk_reaches_goexit),
		cmocka_unit_test(test_walk_keeps_max_but_still_checks_goexit),
		cmocka_unit_test(test_walk_cycle_refused),
		cmocka_unit_test(test_walk_bp_out_of_bounds_refused),
		cmocka_unit_test(test_walk_moved_goroutine_refused),
		cmocka_unit_test(test_walk_truncated_image_resumes),
		cmocka_unit_test(test_walk_never_ran),
		cmocka_unit_test(test_walk_bad_bounds),
		cmocka_unit_test(test_bias_pie_skips_heap_and_later_maps),
		cmocka_unit_test(test_bias_non_pie_is_zero),
		cmocka_unit_test(test_bias_garbage_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

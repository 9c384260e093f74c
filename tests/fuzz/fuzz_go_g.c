// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness for the goroutine scan's decoders (user/go_g.c): a g
 * image under a layout taken from the input, a frame-pointer walk over a
 * stack image handed over in windows (as go_process_stack reads it), and
 * /proc/PID/maps text.  The input's first byte picks which.
 *
 *   clang -fsanitize=fuzzer,address,undefined -Iuser tests/fuzz/fuzz_go_g.c user/go_g.c
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "go_g.h"

static uint64_t take64(const uint8_t **p, size_t *n)
{
	uint64_t v = 0;
	size_t k = *n < 8 ? *n : 8;

	memcpy(&v, *p, k);
	*p += k;
	*n -= k;
	return v;
}

static uint32_t take16(const uint8_t **p, size_t *n)
{
	uint16_t v = 0;
	size_t k = *n < 2 ? *n : 2;

	memcpy(&v, *p, k);
	*p += k;
	*n -= k;
	return v;
}

/* A layout from the input (often a bad one), then the rest as a g image. */
static void fuzz_decode(const uint8_t *p, size_t n)
{
	struct go_layout l = { 0 };
	uint32_t *fields[] = {
		&l.g_size, &l.g_stack_lo, &l.g_stack_hi, &l.g_m, &l.g_sched_sp, &l.g_sched_pc,
		&l.g_sched_bp, &l.g_syscallsp, &l.g_syscallpc, &l.g_atomicstatus, &l.g_goid,
		&l.g_waitreason, &l.g_tracking_seq, &l.g_gopc, &l.g_startpc,
	};
	struct go_g_segs segs;
	struct go_g_raw raw;
	struct go_goroutine g;
	uint8_t *img;

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		*fields[i] = take16(&p, &n);
	if (go_g_segs_init(&segs, &l, take16(&p, &n) & 0xff))
		return;
	/* The scan decodes images of segs.span bytes; a shorter input is
	 * padded, a longer one cut, in a buffer of exactly that size. */
	img = calloc(1, segs.span);
	if (!img)
		return;
	memcpy(img, p, n < segs.span ? n : segs.span);
	if (go_g_decode(&l, img, segs.span, 0xc000001000, &raw, &g) == GO_G_LIVE &&
	    (g.goid == 0 || g.status == GO_G_DEAD))
		abort();
	free(img);
}

/* Stack bounds and registers from the input, then the image, handed over
 * in windows starting where the walk asks (as go_process_stack does). */
static void fuzz_walk(const uint8_t *p, size_t n)
{
	struct go_stack_walk w = { 0 };
	uint64_t pcs[16], base, pc, sp, bp;
	uint32_t window;
	int err = -ENODATA;

	w.stack_lo = 0x10000 + (take16(&p, &n) & ~7u);
	w.stack_hi = w.stack_lo + (take16(&p, &n) & ~7u);
	w.goexit_lo = take64(&p, &n);
	w.goexit_hi = w.goexit_lo + (take16(&p, &n) & 0xff);
	pc = take64(&p, &n);
	sp = take64(&p, &n);
	bp = take64(&p, &n);
	window = 16 + (take16(&p, &n) & 0x3ff);
	w.pcs = pcs;
	w.max = (int)(sizeof(pcs) / sizeof(pcs[0]));
	go_stack_walk_init(&w, pc, sp, bp);
	base = sp;
	/* The image is [stack_lo, stack_lo + n): maybe shorter than the
	 * stack (truncated), maybe longer (ignored). */
	for (int i = 0; i < 1000 && err == -ENODATA; i++) {
		uint64_t off, len;

		if (base < w.stack_lo || base >= w.stack_hi || base - w.stack_lo >= n)
			break;
		off = base - w.stack_lo;
		len = n - off < window ? n - off : window;
		if (len > w.stack_hi - base)
			len = w.stack_hi - base;
		err = go_stack_walk(&w, base, p + off, len);
		if (err == -ENODATA && w.need == base && len >= 16)
			abort(); /* asked again for what it was given */
		base = w.need;
	}
	if (w.n > w.max || w.n < 0)
		abort();
	if (err == 0 && (w.n == 0 || (w.n < w.max && (pcs[w.n - 1] < w.goexit_lo ||
						       pcs[w.n - 1] >= w.goexit_hi))))
		abort();
}

static void fuzz_maps(const uint8_t *p, size_t n)
{
	uint64_t bias;

	go_maps_load_bias((const char *)p, n, 0xfd, 1, 1234567, "/tmp/x", 0x400000, &bias);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		fuzz_decode(data + 1, size - 1);
		break;
	case 1:
		fuzz_walk(data + 1, size - 1);
		break;
	case 2:
		fuzz_maps(data + 1, size - 1);
		break;
	}
	return 0;
}

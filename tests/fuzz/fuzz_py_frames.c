// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness for the CPython structure walker (user/py_walk.c) and
 * the debug offsets parser (user/py_layout.c): the input is a memory image
 * standing in for the target's memory, read through the walker's read
 * function.  Input:
 *   byte 0      the layout: 0 3.11, 1 3.12 (the tables), 2 3.13 from the
 *               _Py_DebugOffsets that follow the addresses (1024 bytes,
 *               their version word taken as Py_Version)
 *   bytes 1-8   the address of _PyRuntime, 9-16 of a thread state
 *   the rest    the image, at PY_FUZZ_BASE
 * Seeds: tests/fuzz/corpus/fuzz_py_frames, written by test_py_walk
 * (LW_PY_SEEDS=DIR) from its memory images.
 *
 *   clang -fsanitize=fuzzer,address,undefined -Iuser tests/fuzz/fuzz_py_frames.c \
 *       user/py_walk.c user/py_layout.c user/py_linetable.c
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "py_frames.h"
#include "py_layout.h"
#include "py_walk.h"

#define PY_FUZZ_BASE 0x7f0000000000ull
#define PY_FUZZ_THREADS 16

struct image {
	const uint8_t *p;
	size_t len;
};

static int image_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	const struct image *im = ctx;

	if (addr < PY_FUZZ_BASE || addr - PY_FUZZ_BASE > im->len ||
	    len > im->len - (addr - PY_FUZZ_BASE))
		return -EFAULT;
	memcpy(buf, im->p + (addr - PY_FUZZ_BASE), len);
	return 0;
}

static void check_frames(const struct lw_frame *f, int n, int max)
{
	if (n > max || n > PY_FRAMES_MAX)
		abort();
	for (int i = 0; i < n; i++) {
		if (f[i].kind != LW_FRAME_PYTHON || f[i].line < 0 || !f[i].func[0] ||
		    !memchr(f[i].func, 0, sizeof(f[i].func)) ||
		    !memchr(f[i].file, 0, sizeof(f[i].file)) || f[i].module[0] || f[i].inlined)
			abort();
	}
}

static void walk(const struct py_mem *m, const struct py_layout *l, uint64_t tstate,
		 struct py_walk_stats *st)
{
	static struct lw_frame frames[PY_FRAMES_MAX];
	int max = (int)(tstate % (PY_FRAMES_MAX + 1));
	int n = py_walk_frames(m, l, tstate, frames, PY_FRAMES_MAX, st);

	check_frames(frames, n, PY_FRAMES_MAX);
	/* a smaller max, from the address's low bits */
	n = py_walk_frames(m, l, tstate, frames, max, st);
	check_frames(frames, n, max);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct py_tstate threads[PY_FUZZ_THREADS];
	struct py_walk_stats st = { 0 };
	struct py_layout l;
	struct image im;
	struct py_mem m = { .read = image_read, .ctx = &im };
	uint64_t runtime, tstate, head;
	int mode, n;

	if (size < 17)
		return 0;
	mode = data[0] % 3;
	memcpy(&runtime, data + 1, 8);
	memcpy(&tstate, data + 9, 8);
	data += 17;
	size -= 17;
	if (mode < 2) {
		if (py_layout_for_version(mode ? 0x030c01f0 : 0x030b07f0, &l))
			abort();
	} else {
		uint64_t version;

		if (size < PY_DEBUG_OFFSETS_SPAN)
			return 0;
		memcpy(&version, data + 8, 8);
		if (py_layout_from_debug_offsets(data, PY_DEBUG_OFFSETS_SPAN, (uint32_t)version,
						 &l))
			return 0;
		if (!py_layout_valid(&l))
			abort();
		data += PY_DEBUG_OFFSETS_SPAN;
		size -= PY_DEBUG_OFFSETS_SPAN;
	}
	im.p = data;
	im.len = size;
	py_threads_head(&m, &l, runtime, &head);
	n = py_list_threads(&m, &l, runtime, threads, PY_FUZZ_THREADS, &st);
	if (n > PY_FUZZ_THREADS)
		abort();
	for (int i = 0; i < n; i++)
		walk(&m, &l, threads[i].addr, &st);
	walk(&m, &l, tstate, &st);
	return 0;
}

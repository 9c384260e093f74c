// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer: a .gopclntab section (seeds: every test binary's), decoded as
 * leakwatch decodes them: every function found by pc, its frames with the
 * inline tree (go:func.* is the input too: offsets into it are as hostile),
 * and a lookup by name.  The input buffer is exactly its size: ASan sees any
 * read past it.
 */
#include <stdint.h>
#include "go_pclntab.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Bounded work per input, whatever nfunc claims. */
#define MAX_FUNCS 64
#define PCS_PER_FUNC 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct go_pclntab t;
	struct go_frame frames[16];
	struct go_func f;

	if (go_pclntab_init(&t, data, size, 0x401000))
		return 0;
	go_pclntab_set_gofunc(&t, data, size);
	/* Functions spread over the table, not only the first ones. */
	uint32_t step = t.nfunc / MAX_FUNCS + 1;

	for (uint32_t i = 0; i < t.nfunc && i / step < MAX_FUNCS; i += step) {
		uint32_t entry;

		__builtin_memcpy(&entry, data + t.functab_off + (uint64_t)i * 8, 4);
		uint64_t pc = t.text_start + entry;
		for (uint64_t k = 0; k < PCS_PER_FUNC; k++) {
			int n = go_pclntab_frames(&t, pc + k * 7, frames, 16);

			for (int j = 0; j < n; j++) /* every string must be readable */
				(void)(__builtin_strlen(frames[j].func) + __builtin_strlen(frames[j].file));
			if (go_pclntab_find_func(&t, pc + k * 7, &f) == 0)
				(void)__builtin_strlen(f.name);
		}
	}
	go_pclntab_func_by_name(&t, "runtime.goexit", &f);
	/* And with go:func.* elsewhere (cut in half). */
	go_pclntab_set_gofunc(&t, data + size / 2, size - size / 2);
	go_pclntab_frames(&t, t.text_start + 0x10, frames, 16);
	return 0;
}

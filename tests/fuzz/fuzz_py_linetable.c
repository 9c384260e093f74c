// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness for the co_linetable decoder (user/py_linetable.c): the
 * input's first 4 bytes are co_firstlineno, the next 4 the instruction's
 * byte offset, the rest the table.  Every offset of the table is asked too
 * (as frames of one code object would).
 *
 *   clang -fsanitize=fuzzer,address,undefined -Iuser tests/fuzz/fuzz_py_linetable.c \
 *       user/py_linetable.c
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "py_linetable.h"

static void check(int line)
{
	if (line < -EINVAL && line != -ENOENT)
		abort();
	if (line > 100000000)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int32_t first, addr;

	if (size < 8)
		return 0;
	memcpy(&first, data, 4);
	memcpy(&addr, data + 4, 4);
	data += 8;
	size -= 8;
	check(py_linetable_line(data, size, first, addr));
	/* The whole table, unit by unit, up to where it ends. */
	for (int64_t a = 0; a < 2 * (int64_t)size + 4; a += 2) {
		int line = py_linetable_line(data, size, first, a);

		check(line);
		if (line == -ENOENT || line == -EINVAL)
			break;
	}
	return 0;
}

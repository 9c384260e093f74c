// SPDX-License-Identifier: GPL-2.0
/* libFuzzer: perf_map_parse on perf map text, then lookups at addresses
 * taken from the input and around them: a symbol found covers the address
 * from its start, its name is cut to PERF_MAP_NAME_MAX. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "perf_map.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct perf_map *m, uint64_t addr)
{
	const char *name;
	uint64_t start;

	if (!perf_map_lookup(m, addr, &name, &start))
		return;
	if (start > addr || strnlen(name, PERF_MAP_NAME_MAX + 1) > PERF_MAP_NAME_MAX)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct perf_map *m;
	size_t i;

	if (perf_map_parse((const char *)data, size, &m))
		return 0;
	if (perf_map_entries(m) > PERF_MAP_MAX_ENTRIES)
		abort();
	/* Every 8 bytes as an address, and the ones beside it. */
	for (i = 0; i + 8 <= size && i < 8 * 512; i += 8) {
		uint64_t a;

		memcpy(&a, data + i, 8);
		check(m, a - 1);
		check(m, a);
		check(m, a + 1);
	}
	check(m, 0);
	check(m, UINT64_MAX);
	perf_map_free(m);
	return 0;
}

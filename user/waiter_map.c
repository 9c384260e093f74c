// SPDX-License-Identifier: GPL-2.0
#include <stdint.h>
#include "waiter_map.h"

/* Fibonacci hashing of the three parts mixed: consecutive tids of one
 * process spread over the table, as in id_map. */
static size_t waiter_hash(struct lw_waiter_id k)
{
	uint64_t h = (k.id ^ ((uint64_t)k.pid << 32 | k.kind)) * 0x9e3779b97f4a7c15ULL;

	return (size_t)(h >> 32);
}

#define OPEN_MAP_NAME waiter_map
#define OPEN_MAP_KEY struct lw_waiter_id
#define OPEN_MAP_HASH(k) waiter_hash(k)
#define OPEN_MAP_IS_EMPTY(k) ((k).kind == 0)
#define OPEN_MAP_EQ(a, b) lw_waiter_id_eq(a, b)
#include "open_map_template.h"

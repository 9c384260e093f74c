// SPDX-License-Identifier: GPL-2.0
#include <stdint.h>
#include "id_map.h"

/* Fibonacci hashing: consecutive tids spread over the table.  The tests
 * (tests/unit/test_id_map.c, home_slot) keep a copy of it. */
static size_t id_hash(uint32_t key)
{
	return (size_t)(uint32_t)(key * 2654435769u);
}

#define OPEN_MAP_NAME id_map
#define OPEN_MAP_KEY uint32_t
#define OPEN_MAP_HASH(k) id_hash(k)
#define OPEN_MAP_IS_EMPTY(k) ((k) == 0)
#define OPEN_MAP_EQ(a, b) ((a) == (b))
#include "open_map_template.h"

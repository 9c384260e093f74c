/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A map from a pid or tid (never 0) to a pointer: open addressing with
 * linear probing and backward-shift deletion, so lookups stay short without
 * tombstones while threads come and go.  The table is user/open_map_template.h,
 * shared with waiter_map.
 */
#ifndef LW_ID_MAP_H
#define LW_ID_MAP_H
#include <stddef.h>
#include <stdint.h>

struct id_map {
	uint32_t *keys; /* 0: empty slot */
	void **values;
	size_t cap;     /* a power of two */
	size_t len;
};

void id_map_init(struct id_map *m);
void id_map_free(struct id_map *m); /* frees the table, not the values */
void *id_map_get(const struct id_map *m, uint32_t key);
/* Returns 0, -EEXIST, -EINVAL (key 0) or -ENOMEM. */
int id_map_put(struct id_map *m, uint32_t key, void *value);
/* Returns the removed value, or NULL. */
void *id_map_del(struct id_map *m, uint32_t key);

/* Iteration: for (i = 0; id_map_next(m, &i, &key, &val); ) ...  The map
 * must not change during it: collect the keys to delete, then delete. */
int id_map_next(const struct id_map *m, size_t *pos, uint32_t *key, void **value);

#endif

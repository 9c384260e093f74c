/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A map from a waiter's id (pid, kind, id) to a pointer: open addressing with
 * linear probing and backward-shift deletion, for a key that is more than one
 * number: the same table as id_map (user/open_map_template.h).
 */
#ifndef LW_WAITER_MAP_H
#define LW_WAITER_MAP_H
#include <stddef.h>
#include <stdint.h>
#include "waiter.h"

struct waiter_map {
	struct lw_waiter_id *keys; /* kind 0: empty slot */
	void **values;
	size_t cap;                /* a power of two */
	size_t len;
};

void waiter_map_init(struct waiter_map *m);
void waiter_map_free(struct waiter_map *m); /* frees the table, not the values */
void *waiter_map_get(const struct waiter_map *m, struct lw_waiter_id key);
/* Returns 0, -EEXIST, -EINVAL (kind 0) or -ENOMEM. */
int waiter_map_put(struct waiter_map *m, struct lw_waiter_id key, void *value);
/* Returns the removed value, or NULL. */
void *waiter_map_del(struct waiter_map *m, struct lw_waiter_id key);
/* Iteration: for (i = 0; waiter_map_next(m, &i, &key, &val); ) ...  The map
 * must not change during it. */
int waiter_map_next(const struct waiter_map *m, size_t *pos, struct lw_waiter_id *key,
		    void **value);

#endif

// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include "waiter_map.h"

static size_t slot_of(const struct waiter_map *m, struct lw_waiter_id k)
{
	/* Fibonacci hashing of the three parts mixed: consecutive tids of one
	 * process spread over the table, as in id_map. */
	uint64_t h = (k.id ^ ((uint64_t)k.pid << 32 | k.kind)) * 0x9e3779b97f4a7c15ULL;

	return (size_t)(h >> 32) & (m->cap - 1);
}

void waiter_map_init(struct waiter_map *m)
{
	m->keys = NULL;
	m->values = NULL;
	m->cap = 0;
	m->len = 0;
}

void waiter_map_free(struct waiter_map *m)
{
	free(m->keys);
	free(m->values);
	waiter_map_init(m);
}

static int find(const struct waiter_map *m, struct lw_waiter_id key, size_t *slot)
{
	size_t i;

	if (!m->cap || !key.kind)
		return 0;
	for (i = slot_of(m, key); m->keys[i].kind; i = (i + 1) & (m->cap - 1))
		if (lw_waiter_id_eq(m->keys[i], key)) {
			*slot = i;
			return 1;
		}
	return 0;
}

void *waiter_map_get(const struct waiter_map *m, struct lw_waiter_id key)
{
	size_t i;

	return find(m, key, &i) ? m->values[i] : NULL;
}

static void insert_slot(struct waiter_map *m, struct lw_waiter_id key, void *value)
{
	size_t i = slot_of(m, key);

	while (m->keys[i].kind)
		i = (i + 1) & (m->cap - 1);
	m->keys[i] = key;
	m->values[i] = value;
	m->len++;
}

static int grow(struct waiter_map *m)
{
	size_t old_cap = m->cap, cap = old_cap ? old_cap * 2 : 64, i;
	struct lw_waiter_id *old_keys = m->keys;
	void **old_values = m->values;

	m->keys = calloc(cap, sizeof(*m->keys));
	m->values = calloc(cap, sizeof(*m->values));
	if (!m->keys || !m->values) {
		free(m->keys);
		free(m->values);
		m->keys = old_keys;
		m->values = old_values;
		return -ENOMEM;
	}
	m->cap = cap;
	m->len = 0;
	for (i = 0; i < old_cap; i++)
		if (old_keys[i].kind)
			insert_slot(m, old_keys[i], old_values[i]);
	free(old_keys);
	free(old_values);
	return 0;
}

int waiter_map_put(struct waiter_map *m, struct lw_waiter_id key, void *value)
{
	size_t i;
	int err;

	if (!key.kind)
		return -EINVAL;
	if (find(m, key, &i))
		return -EEXIST;
	/* Keep the load under 1/2 so probes stay short. */
	if ((m->len + 1) * 2 > m->cap) {
		err = grow(m);
		if (err)
			return err;
	}
	insert_slot(m, key, value);
	return 0;
}

void *waiter_map_del(struct waiter_map *m, struct lw_waiter_id key)
{
	size_t i, j, home;
	void *value;

	if (!find(m, key, &i))
		return NULL;
	value = m->values[i];
	/* Backward shift: pull later entries of the probe run into the hole. */
	for (j = (i + 1) & (m->cap - 1); m->keys[j].kind; j = (j + 1) & (m->cap - 1)) {
		home = slot_of(m, m->keys[j]);
		/* Move j to i unless its home lies cyclically in (i, j]. */
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			m->keys[i] = m->keys[j];
			m->values[i] = m->values[j];
			i = j;
		}
	}
	m->keys[i] = (struct lw_waiter_id){ 0 };
	m->values[i] = NULL;
	m->len--;
	return value;
}

int waiter_map_next(const struct waiter_map *m, size_t *pos, struct lw_waiter_id *key,
		    void **value)
{
	for (; *pos < m->cap; (*pos)++) {
		if (m->keys[*pos].kind) {
			*key = m->keys[*pos];
			*value = m->values[*pos];
			(*pos)++;
			return 1;
		}
	}
	return 0;
}

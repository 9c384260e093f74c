// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include "id_map.h"

static size_t slot_of(const struct id_map *m, uint32_t key)
{
	/* Fibonacci hashing: consecutive tids spread over the table. */
	return (size_t)((key * 2654435769u) & (m->cap - 1));
}

void id_map_init(struct id_map *m)
{
	m->keys = NULL;
	m->values = NULL;
	m->cap = 0;
	m->len = 0;
}

void id_map_free(struct id_map *m)
{
	free(m->keys);
	free(m->values);
	id_map_init(m);
}

/* The slot of key into *slot: returns 1 when present, 0 otherwise. */
static int find(const struct id_map *m, uint32_t key, size_t *slot)
{
	size_t i;

	if (!m->cap || !key)
		return 0;
	for (i = slot_of(m, key); m->keys[i]; i = (i + 1) & (m->cap - 1))
		if (m->keys[i] == key) {
			*slot = i;
			return 1;
		}
	return 0;
}

void *id_map_get(const struct id_map *m, uint32_t key)
{
	size_t i;

	return find(m, key, &i) ? m->values[i] : NULL;
}

static void insert_slot(struct id_map *m, uint32_t key, void *value)
{
	size_t i = slot_of(m, key);

	while (m->keys[i])
		i = (i + 1) & (m->cap - 1);
	m->keys[i] = key;
	m->values[i] = value;
	m->len++;
}

static int grow(struct id_map *m)
{
	size_t old_cap = m->cap, cap = old_cap ? old_cap * 2 : 64, i;
	uint32_t *old_keys = m->keys;
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
		if (old_keys[i])
			insert_slot(m, old_keys[i], old_values[i]);
	free(old_keys);
	free(old_values);
	return 0;
}

int id_map_put(struct id_map *m, uint32_t key, void *value)
{
	size_t i;
	int err;

	if (!key)
		return -EINVAL;
	if (find(m, key, &i)) /* not id_map_get: the value may be NULL */
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

void *id_map_del(struct id_map *m, uint32_t key)
{
	size_t i, j, home;
	void *value;

	if (!m->cap || !key)
		return NULL;
	for (i = slot_of(m, key); m->keys[i] != key; i = (i + 1) & (m->cap - 1))
		if (!m->keys[i])
			return NULL;
	value = m->values[i];
	/* Backward shift: pull later entries of the probe run into the hole. */
	for (j = (i + 1) & (m->cap - 1); m->keys[j]; j = (j + 1) & (m->cap - 1)) {
		home = slot_of(m, m->keys[j]);
		/* Move j to i unless its home lies cyclically in (i, j]. */
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			m->keys[i] = m->keys[j];
			m->values[i] = m->values[j];
			i = j;
		}
	}
	m->keys[i] = 0;
	m->values[i] = NULL;
	m->len--;
	return value;
}

int id_map_next(const struct id_map *m, size_t *pos, uint32_t *key, void **value)
{
	for (; *pos < m->cap; (*pos)++) {
		if (m->keys[*pos]) {
			*key = m->keys[*pos];
			*value = m->values[*pos];
			(*pos)++;
			return 1;
		}
	}
	return 0;
}

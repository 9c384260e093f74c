/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one open-addressing hash map behind id_map and waiter_map: linear
 * probing, backward-shift deletion (no tombstones), growth at load 1/2, and
 * a walk over the slots.  A template rather than a map of untyped bytes, so
 * that each map keeps its own key type in its struct and in its functions.
 *
 * A map's .c file declares, in its header,
 *   struct NAME { KEY *keys; void **values; size_t cap; size_t len; };
 * (cap a power of two, an empty key marking an empty slot), then defines
 *   OPEN_MAP_NAME         NAME: the functions are NAME_init, NAME_get, ...
 *   OPEN_MAP_KEY          KEY
 *   OPEN_MAP_HASH(k)      a size_t whose low bits pick the home slot
 *   OPEN_MAP_IS_EMPTY(k)  true for the key of an empty slot, which is
 *                         refused as a key; a cleared slot holds (KEY){ 0 }
 *   OPEN_MAP_EQ(a, b)     true when a and b are the same key
 * and includes this file.  It defines the functions declared in that header
 * and static helpers, all named NAME_..., and undefines the parameters, so
 * that a file may instantiate more than one map.
 */
#include <errno.h>
#include <stdlib.h>

#define OPEN_MAP_PASTE_(a, b) a##_##b
#define OPEN_MAP_PASTE(a, b) OPEN_MAP_PASTE_(a, b)
#define OPEN_MAP_FN(name) OPEN_MAP_PASTE(OPEN_MAP_NAME, name)
#define OPEN_MAP struct OPEN_MAP_NAME

static size_t OPEN_MAP_FN(slot_of)(const OPEN_MAP *m, OPEN_MAP_KEY key)
{
	return (size_t)OPEN_MAP_HASH(key) & (m->cap - 1);
}

void OPEN_MAP_FN(init)(OPEN_MAP *m)
{
	m->keys = NULL;
	m->values = NULL;
	m->cap = 0;
	m->len = 0;
}

void OPEN_MAP_FN(free)(OPEN_MAP *m)
{
	free(m->keys);
	free(m->values);
	OPEN_MAP_FN(init)(m);
}

/* The slot of key into *slot: returns 1 when present, 0 otherwise. */
static int OPEN_MAP_FN(find)(const OPEN_MAP *m, OPEN_MAP_KEY key, size_t *slot)
{
	size_t i;

	if (!m->cap || OPEN_MAP_IS_EMPTY(key))
		return 0;
	for (i = OPEN_MAP_FN(slot_of)(m, key); !OPEN_MAP_IS_EMPTY(m->keys[i]);
	     i = (i + 1) & (m->cap - 1))
		if (OPEN_MAP_EQ(m->keys[i], key)) {
			*slot = i;
			return 1;
		}
	return 0;
}

void *OPEN_MAP_FN(get)(const OPEN_MAP *m, OPEN_MAP_KEY key)
{
	size_t i;

	return OPEN_MAP_FN(find)(m, key, &i) ? m->values[i] : NULL;
}

static void OPEN_MAP_FN(insert_slot)(OPEN_MAP *m, OPEN_MAP_KEY key, void *value)
{
	size_t i = OPEN_MAP_FN(slot_of)(m, key);

	while (!OPEN_MAP_IS_EMPTY(m->keys[i]))
		i = (i + 1) & (m->cap - 1);
	m->keys[i] = key;
	m->values[i] = value;
	m->len++;
}

static int OPEN_MAP_FN(grow)(OPEN_MAP *m)
{
	size_t old_cap = m->cap, cap = old_cap ? old_cap * 2 : 64, i;
	OPEN_MAP_KEY *old_keys = m->keys;
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
		if (!OPEN_MAP_IS_EMPTY(old_keys[i]))
			OPEN_MAP_FN(insert_slot)(m, old_keys[i], old_values[i]);
	free(old_keys);
	free(old_values);
	return 0;
}

int OPEN_MAP_FN(put)(OPEN_MAP *m, OPEN_MAP_KEY key, void *value)
{
	size_t i;
	int err;

	if (OPEN_MAP_IS_EMPTY(key))
		return -EINVAL;
	if (OPEN_MAP_FN(find)(m, key, &i)) /* not _get: the value may be NULL */
		return -EEXIST;
	/* Keep the load under 1/2 so probes stay short. */
	if ((m->len + 1) * 2 > m->cap) {
		err = OPEN_MAP_FN(grow)(m);
		if (err)
			return err;
	}
	OPEN_MAP_FN(insert_slot)(m, key, value);
	return 0;
}

void *OPEN_MAP_FN(del)(OPEN_MAP *m, OPEN_MAP_KEY key)
{
	size_t i, j, home;
	void *value;

	if (!OPEN_MAP_FN(find)(m, key, &i))
		return NULL;
	value = m->values[i];
	/* Backward shift: pull later entries of the probe run into the hole. */
	for (j = (i + 1) & (m->cap - 1); !OPEN_MAP_IS_EMPTY(m->keys[j]);
	     j = (j + 1) & (m->cap - 1)) {
		home = OPEN_MAP_FN(slot_of)(m, m->keys[j]);
		/* Move j to i unless its home lies cyclically in (i, j]. */
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			m->keys[i] = m->keys[j];
			m->values[i] = m->values[j];
			i = j;
		}
	}
	m->keys[i] = (OPEN_MAP_KEY){ 0 };
	m->values[i] = NULL;
	m->len--;
	return value;
}

int OPEN_MAP_FN(next)(const OPEN_MAP *m, size_t *pos, OPEN_MAP_KEY *key, void **value)
{
	for (; *pos < m->cap; (*pos)++) {
		if (!OPEN_MAP_IS_EMPTY(m->keys[*pos])) {
			*key = m->keys[*pos];
			*value = m->values[*pos];
			(*pos)++;
			return 1;
		}
	}
	return 0;
}

#undef OPEN_MAP
#undef OPEN_MAP_FN
#undef OPEN_MAP_PASTE
#undef OPEN_MAP_PASTE_
#undef OPEN_MAP_NAME
#undef OPEN_MAP_KEY
#undef OPEN_MAP_HASH
#undef OPEN_MAP_IS_EMPTY
#undef OPEN_MAP_EQ

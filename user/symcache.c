// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "symcache.h"

_Static_assert(LW_FUNC_TEXT <= 256 && LW_FILE_TEXT <= 256 && LW_MODULE_TEXT <= 256,
	       "text lengths are kept in a byte");

/* One frame without its strings, which follow the frames in the entry. */
struct packed_frame {
	uint64_t offset;
	int32_t line;
	uint8_t kind, inlined, py_entry;
	uint8_t func_len, file_len, module_len; /* < LW_*_TEXT: fit in a byte */
};

struct entry {
	struct symcache_key key;
	struct entry *bucket_next;
	struct entry *lru_prev, *lru_next; /* lru_prev: more recently used */
	size_t size;                       /* bytes, counted against max_bytes */
	uint8_t n;
	struct packed_frame frames[]; /* n, then their strings */
};

struct symcache {
	struct entry **buckets;
	size_t n_buckets; /* a power of two */
	struct entry *mru, *lru;
	size_t max_entries, max_bytes;
	struct symcache_stats stats;
};

int symcache_new(size_t max_entries, size_t max_bytes, struct symcache **out)
{
	struct symcache *c;
	size_t n = 16;

	if (!max_entries || !max_bytes)
		return -EINVAL;
	while (n < max_entries && n < ((size_t)1 << 30))
		n *= 2;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->buckets = calloc(n, sizeof(*c->buckets));
	if (!c->buckets) {
		free(c);
		return -ENOMEM;
	}
	c->n_buckets = n;
	c->max_entries = max_entries;
	c->max_bytes = max_bytes;
	c->stats.capacity = max_entries;
	*out = c;
	return 0;
}

void symcache_free(struct symcache *c)
{
	struct entry *e, *next;

	if (!c)
		return;
	for (e = c->mru; e; e = next) {
		next = e->lru_next;
		free(e);
	}
	free(c->buckets);
	free(c);
}

/* FNV-1a over the key's bytes that matter. */
static size_t bucket_of(const struct symcache *c, const struct symcache_key *k)
{
	uint64_t h = 14695981039346656037ull;
	uint8_t i;
	int b;

	for (i = 0; i < k->file_id_len && i < SYMCACHE_FILE_ID_MAX; i++)
		h = (h ^ k->file_id[i]) * 1099511628211ull;
	for (b = 0; b < 64; b += 8)
		h = (h ^ ((k->addr >> b) & 0xff)) * 1099511628211ull;
	h = (h ^ k->first) * 1099511628211ull;
	return (size_t)(h ^ (h >> 32)) & (c->n_buckets - 1);
}

static bool key_equal(const struct symcache_key *a, const struct symcache_key *b)
{
	return a->addr == b->addr && a->first == b->first && a->file_id_len == b->file_id_len &&
	       !memcmp(a->file_id, b->file_id, a->file_id_len);
}

static struct entry **find_slot(struct symcache *c, const struct symcache_key *k)
{
	struct entry **slot = &c->buckets[bucket_of(c, k)];

	while (*slot && !key_equal(&(*slot)->key, k))
		slot = &(*slot)->bucket_next;
	return slot;
}

static void lru_unlink(struct symcache *c, struct entry *e)
{
	if (e->lru_prev)
		e->lru_prev->lru_next = e->lru_next;
	else
		c->mru = e->lru_next;
	if (e->lru_next)
		e->lru_next->lru_prev = e->lru_prev;
	else
		c->lru = e->lru_prev;
	e->lru_prev = e->lru_next = NULL;
}

static void lru_push(struct symcache *c, struct entry *e)
{
	e->lru_prev = NULL;
	e->lru_next = c->mru;
	if (c->mru)
		c->mru->lru_prev = e;
	c->mru = e;
	if (!c->lru)
		c->lru = e;
}

/* Unlinks *slot's entry from its bucket and the LRU list, frees it. */
static void remove_at(struct symcache *c, struct entry **slot)
{
	struct entry *e = *slot;

	*slot = e->bucket_next;
	lru_unlink(c, e);
	c->stats.entries--;
	c->stats.bytes -= e->size;
	free(e);
}

static void unpack(const struct entry *e, uint64_t pc, struct lw_frame *out, int max)
{
	const struct packed_frame *p = e->frames;
	const char *s = (const char *)(p + e->n);
	int i;

	for (i = 0; i < e->n && i < max; i++) {
		struct lw_frame *f = &out[i];

		memset(f, 0, sizeof(*f));
		f->pc = pc;
		f->offset = p[i].offset;
		f->line = p[i].line;
		f->kind = p[i].kind;
		f->inlined = p[i].inlined;
		f->py_entry = p[i].py_entry;
		memcpy(f->func, s, p[i].func_len);
		s += p[i].func_len;
		memcpy(f->file, s, p[i].file_len);
		s += p[i].file_len;
		memcpy(f->module, s, p[i].module_len);
		s += p[i].module_len;
	}
}

int symcache_get(struct symcache *c, const struct symcache_key *k, uint64_t pc,
		 struct lw_frame *out, int max)
{
	struct entry *e = *find_slot(c, k);

	if (!e || max <= 0) {
		c->stats.misses++;
		return 0;
	}
	c->stats.hits++;
	lru_unlink(c, e);
	lru_push(c, e);
	unpack(e, pc, out, max);
	return e->n < max ? e->n : max;
}

/* strnlen of a text field, below its size (a field given without its NUL
 * is cut by one). */
static uint8_t text_len(const char *s, size_t size)
{
	size_t n = strnlen(s, size);

	return (uint8_t)(n < size ? n : size - 1);
}

int symcache_put(struct symcache *c, const struct symcache_key *k, const struct lw_frame *f,
		 int n)
{
	struct packed_frame *p;
	struct entry *e, **slot;
	size_t size;
	char *s;
	int i;

	if (n < 1 || n > SYMCACHE_FRAMES_MAX || k->file_id_len > SYMCACHE_FILE_ID_MAX)
		return -EINVAL;
	size = sizeof(*e) + (size_t)n * sizeof(*p);
	for (i = 0; i < n; i++)
		size += text_len(f[i].func, sizeof(f[i].func)) +
			text_len(f[i].file, sizeof(f[i].file)) +
			text_len(f[i].module, sizeof(f[i].module));
	if (size > c->max_bytes)
		return -EINVAL;
	slot = find_slot(c, k);
	if (*slot)
		remove_at(c, slot);
	while (c->lru && (c->stats.entries >= c->max_entries ||
			  c->stats.bytes + size > c->max_bytes)) {
		remove_at(c, find_slot(c, &c->lru->key));
		c->stats.evictions++;
	}
	e = malloc(size);
	if (!e)
		return -ENOMEM;
	memset(e, 0, sizeof(*e));
	e->key = *k;
	e->size = size;
	e->n = (uint8_t)n;
	p = e->frames;
	s = (char *)(p + n);
	for (i = 0; i < n; i++) {
		p[i] = (struct packed_frame){
			.offset = f[i].offset,
			.line = f[i].line,
			.kind = f[i].kind,
			.inlined = f[i].inlined,
			.py_entry = f[i].py_entry,
			.func_len = text_len(f[i].func, sizeof(f[i].func)),
			.file_len = text_len(f[i].file, sizeof(f[i].file)),
			.module_len = text_len(f[i].module, sizeof(f[i].module)),
		};
		memcpy(s, f[i].func, p[i].func_len);
		s += p[i].func_len;
		memcpy(s, f[i].file, p[i].file_len);
		s += p[i].file_len;
		memcpy(s, f[i].module, p[i].module_len);
		s += p[i].module_len;
	}
	slot = find_slot(c, k); /* evictions may have moved the bucket's chain */
	e->bucket_next = *slot;
	*slot = e;
	lru_push(c, e);
	c->stats.entries++;
	c->stats.bytes += size;
	return 0;
}

void symcache_get_stats(const struct symcache *c, struct symcache_stats *out)
{
	*out = c->stats;
}

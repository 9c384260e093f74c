// SPDX-License-Identifier: GPL-2.0
/* Folded stacks of the stuck waiters: see folded.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "folded.h"
#include "utf8.h"

#define FOLDED_FRAME_TEXT (LW_FUNC_TEXT + LW_FILE_TEXT + 16)

/* The waiters of one (site, process name, wait): one line, rendered once. */
struct folded_entry {
	const struct lw_site *site; /* only compared, never read after the add */
	uint64_t hash;
	char pcomm[32];
	char kind[48]; /* of a waiter with no site */
	char *line;    /* the stack, without the weight */
	uint64_t weight;
};

struct folded {
	bool weight_time;
	struct folded_entry *entries;
	size_t n, cap;
	size_t *slots; /* open addressing: index + 1, 0 empty */
	size_t n_slots;
	size_t waiters;
	uint64_t total;
};

int folded_new(bool weight_time, struct folded **out)
{
	struct folded *f = calloc(1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	f->weight_time = weight_time;
	*out = f;
	return 0;
}

void folded_free(struct folded *f)
{
	size_t i;

	if (!f)
		return;
	for (i = 0; i < f->n; i++)
		free(f->entries[i].line);
	free(f->entries);
	free(f->slots);
	free(f);
}

size_t folded_waiters(const struct folded *f)
{
	return f->waiters;
}

uint64_t folded_total(const struct folded *f)
{
	return f->total;
}

static uint64_t str_hash(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

/* Appends s to b as one frame: valid UTF-8, no ';', no control character;
 * "[unknown]" if empty. */
static int append_frame(struct lw_buf *b, const char *s, bool first)
{
	char clean[3 * FOLDED_FRAME_TEXT + 1];
	size_t i;
	int err;

	if (!s[0])
		s = "[unknown]";
	utf8_sanitize(s, strnlen(s, FOLDED_FRAME_TEXT), clean);
	for (i = 0; clean[i]; i++) {
		unsigned char c = (unsigned char)clean[i];

		if (c == ';')
			clean[i] = ':';
		else if (c < 0x20 || c == 0x7f)
			clean[i] = '?';
	}
	err = first ? 0 : buf_printf(b, ";");
	return err ? err : buf_printf(b, "%s", clean);
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

void folded_frame_text(const struct lw_frame *fr, char *buf, size_t len)
{
	const char *suffix = "";

	if (!fr->func[0]) {
		snprintf(buf, len, "[%s]", fr->module[0] ? fr->module : "unknown");
		return;
	}
	if (fr->kind == LW_FRAME_PYTHON) {
		if (fr->file[0])
			snprintf(buf, len, "%s (%s)", fr->func, base_name(fr->file));
		else
			snprintf(buf, len, "%s", fr->func);
		return;
	}
	if (fr->kind == LW_FRAME_KERNEL)
		suffix = "_[k]";
	else if (fr->inlined)
		suffix = "_[i]";
	else if (fr->kind == LW_FRAME_JIT)
		suffix = "_[j]";
	snprintf(buf, len, "%s%s", fr->func, suffix);
}

/* The frames of st, outermost first. */
static int append_stack(struct lw_buf *b, const struct lw_stack_text *st)
{
	char text[FOLDED_FRAME_TEXT];
	int i, n = st->n < 0 ? 0 : st->n > LW_STACK_MAX ? LW_STACK_MAX : st->n;
	int err = 0;

	for (i = n - 1; i >= 0 && !err; i--) {
		folded_frame_text(&st->info[i], text, sizeof(text));
		err = append_frame(b, text, false);
	}
	return err;
}

static int render(const struct folded_entry *e, const struct lw_site *site, char **out)
{
	struct lw_buf b = {};
	char wait[sizeof(e->kind) + 16];
	int err;

	err = append_frame(&b, e->pcomm, true);
	if (!err && site && (site->n_user >= LW_STACK_MAX || site->user.n >= LW_STACK_MAX ||
			     site->n_kernel >= LW_STACK_MAX))
		err = append_frame(&b, "[truncated]", false);
	if (!err && site)
		err = append_stack(&b, &site->user);
	if (!err && site && !site->goroutine)
		err = append_stack(&b, &site->kernel);
	if (!err) {
		snprintf(wait, sizeof(wait), "[wait: %s]", e->kind);
		err = append_frame(&b, wait, false);
	}
	if (err) {
		buf_free(&b);
		return err;
	}
	*out = b.data;
	return 0;
}

static int grow_slots(struct folded *f)
{
	size_t n_slots = f->n_slots ? 2 * f->n_slots : 64, i, h;
	size_t *slots = calloc(n_slots, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (i = 0; i < f->n; i++) {
		h = f->entries[i].hash & (n_slots - 1);
		while (slots[h])
			h = (h + 1) & (n_slots - 1);
		slots[h] = i + 1;
	}
	free(f->slots);
	f->slots = slots;
	f->n_slots = n_slots;
	return 0;
}

static uint64_t weight_of(const struct folded *f, const struct lw_waiter_view *v)
{
	uint64_t ms;

	if (!f->weight_time)
		return 1;
	ms = (v->blocked_ns + 500000) / 1000000;
	return ms ? ms : 1; /* a stuck waiter never vanishes from the graph */
}

int folded_add(struct folded *f, const struct lw_waiter_view *v)
{
	const char *pcomm = v->pcomm ? v->pcomm : "";
	const char *kind;
	struct folded_entry *e;
	uint64_t hash;
	size_t h;
	int err;

	if (v->site)
		kind = v->site->kind;
	else
		kind = v->wait && v->wait->kind ? v->wait->kind : "kernel";
	hash = str_hash((uintptr_t)v->site * 0x9e3779b97f4a7c15ULL, pcomm);
	if (!v->site)
		hash = str_hash(hash, kind);
	/* Grown at half full: probes stay short. */
	if (2 * (f->n + 1) > f->n_slots) {
		err = grow_slots(f);
		if (err)
			return err;
	}
	for (h = hash & (f->n_slots - 1); f->slots[h]; h = (h + 1) & (f->n_slots - 1)) {
		e = &f->entries[f->slots[h] - 1];
		if (e->hash == hash && e->site == v->site && !strncmp(e->pcomm, pcomm, sizeof(e->pcomm) - 1) &&
		    (v->site || !strncmp(e->kind, kind, sizeof(e->kind) - 1)))
			goto found;
	}
	if (f->n == f->cap) {
		size_t cap = f->cap ? 2 * f->cap : 32;
		struct folded_entry *more = realloc(f->entries, cap * sizeof(*more));

		if (!more)
			return -ENOMEM;
		f->entries = more;
		f->cap = cap;
	}
	e = &f->entries[f->n];
	memset(e, 0, sizeof(*e));
	e->site = v->site;
	e->hash = hash;
	snprintf(e->pcomm, sizeof(e->pcomm), "%s", pcomm);
	snprintf(e->kind, sizeof(e->kind), "%s", kind);
	err = render(e, v->site, &e->line);
	if (err)
		return err;
	f->slots[h] = ++f->n;
found:
	e->weight += weight_of(f, v);
	f->waiters++;
	f->total += weight_of(f, v);
	return 0;
}

static int by_line(const void *a, const void *b)
{
	const struct folded_entry *const *x = a, *const *y = b;

	return strcmp((*x)->line, (*y)->line);
}

int folded_write(struct folded *f, FILE *out)
{
	struct folded_entry **sorted;
	uint64_t weight;
	size_t i, j;
	int err = 0;

	if (!f->n)
		return fflush(out) || ferror(out) ? -EIO : 0;
	sorted = malloc(f->n * sizeof(*sorted));
	if (!sorted)
		return -ENOMEM;
	for (i = 0; i < f->n; i++)
		sorted[i] = &f->entries[i];
	qsort(sorted, f->n, sizeof(*sorted), by_line);
	for (i = 0; i < f->n; i = j) {
		weight = 0;
		for (j = i; j < f->n && !strcmp(sorted[j]->line, sorted[i]->line); j++)
			weight += sorted[j]->weight;
		if (fprintf(out, "%s %llu\n", sorted[i]->line, (unsigned long long)weight) < 0) {
			err = -EIO;
			break;
		}
	}
	free(sorted);
	if (fflush(out) || ferror(out))
		err = -EIO;
	return err;
}

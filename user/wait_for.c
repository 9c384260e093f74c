// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "wait_for.h"

/* A tid -> index lookup: the indices of ws sorted by tid. */
struct by_tid {
	const struct wf_waiter *ws;
	size_t *order;
	size_t n;
};

static int cmp_tid(const void *a, const void *b, void *ctx)
{
	const struct wf_waiter *ws = ctx;
	uint32_t x = ws[*(const size_t *)a].tid, y = ws[*(const size_t *)b].tid;

	return x < y ? -1 : x > y;
}

static int by_tid_init(struct by_tid *t, const struct wf_waiter *ws, size_t n)
{
	size_t i;

	t->ws = ws;
	t->n = n;
	t->order = malloc((n ? n : 1) * sizeof(*t->order));
	if (!t->order)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		t->order[i] = i;
	qsort_r(t->order, n, sizeof(*t->order), cmp_tid, (void *)ws);
	for (i = 0; i < n; i++) {
		if (!ws[t->order[i]].tid || (i && ws[t->order[i]].tid == ws[t->order[i - 1]].tid)) {
			free(t->order);
			return -EINVAL;
		}
	}
	return 0;
}

/* The index of the waiter with this tid, or n. */
static size_t by_tid_find(const struct by_tid *t, uint32_t tid)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint32_t m = t->ws[t->order[mid]].tid;

		if (m == tid)
			return t->order[mid];
		if (m < tid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return t->n;
}

/* The waiter ws[i] waits for (its lock's owner), or n: none known, or the
 * owner is not waiting for a lock. */
static size_t next_of(const struct by_tid *t, size_t i)
{
	return t->ws[i].owner ? by_tid_find(t, t->ws[i].owner) : t->n;
}

enum { UNSEEN, ON_PATH, DONE };

/* What a walk of the graph needs: the lookup, each waiter's state, and the
 * chain being walked. */
struct walk {
	struct by_tid t;
	unsigned char *state;
	size_t *path;
};

static int walk_init(struct walk *w, const struct wf_waiter *ws, size_t n)
{
	int err = by_tid_init(&w->t, ws, n);

	if (err)
		return err;
	w->state = calloc(n ? n : 1, 1);
	w->path = malloc((n ? n : 1) * sizeof(*w->path));
	if (!w->state || !w->path) {
		free(w->state);
		free(w->path);
		free(w->t.order);
		return -ENOMEM;
	}
	return 0;
}

static void walk_free(struct walk *w)
{
	free(w->path);
	free(w->state);
	free(w->t.order);
}

int wait_for_cycles(const struct wf_waiter *ws, size_t n, size_t *members,
		    struct wf_cycle *cycles, size_t max_cycles)
{
	size_t used = 0, s, *path;
	unsigned char *state;
	struct by_tid *t;
	struct walk wk;
	int err, found = 0;

	err = walk_init(&wk, ws, n);
	if (err)
		return err;
	t = &wk.t, state = wk.state, path = wk.path;
	for (s = 0; s < n; s++) {
		size_t len = 0, i = s, k, at, best;

		/* Walk until the chain leaves the graph, meets a walked part
		 * or comes back on itself. */
		while (i < n && state[i] == UNSEEN) {
			state[i] = ON_PATH;
			path[len++] = i;
			i = next_of(t, i);
		}
		if (i < n && state[i] == ON_PATH) {
			for (at = 0; path[at] != i; at++)
				;
			best = at;
			for (k = at; k < len; k++)
				if (ws[path[k]].tid < ws[path[best]].tid)
					best = k;
			if ((size_t)found < max_cycles) {
				cycles[found].start = used;
				cycles[found].len = len - at;
				/* Rotated to start at the smallest tid. */
				for (k = 0; k < len - at; k++)
					members[used++] = path[at + (best - at + k) % (len - at)];
			}
			found++;
		}
		for (k = 0; k < len; k++)
			state[path[k]] = DONE;
	}
	walk_free(&wk);
	return found;
}

int wait_for_holders(const struct wf_waiter *ws, size_t n, struct wf_holder *out)
{
	size_t s, *path;
	unsigned char *state;
	struct by_tid *t;
	struct walk wk;
	int err;

	err = walk_init(&wk, ws, n);
	if (err)
		return err;
	t = &wk.t, state = wk.state, path = wk.path;
	for (s = 0; s < n; s++) {
		struct wf_holder end;
		size_t len = 0, i = s, next;

		/* Walk to a waiter whose answer is known, the end of the
		 * chain, or back onto the walk (a cycle). */
		while (state[i] == UNSEEN) {
			state[i] = ON_PATH;
			path[len++] = i;
			next = next_of(t, i);
			if (next == n)
				break;
			i = next;
		}
		if (state[i] == DONE) {
			end = out[i];
			if (!end.err && end.hops)
				end.hops++; /* one more lock to it */
		} else if (i == path[len - 1] && next_of(t, i) == n) {
			/* i's owner waits for no lock, or i's own has no
			 * known owner. */
			if (ws[i].owner)
				end = (struct wf_holder){ .tid = ws[i].owner, .hops = 1 };
			else
				end = (struct wf_holder){ .err = -ENOENT, .tid = ws[i].tid };
			out[i] = end;
			state[i] = DONE;
			len--;
			if (!end.err)
				end.hops++;
		} else {
			end = (struct wf_holder){ .err = -ELOOP };
		}
		/* Back along the walk: each is one lock further from the end.
		 * Behind a waiter with no known owner, that waiter is the end. */
		while (len > 0) {
			size_t j = path[--len];

			if (end.err == -ENOENT)
				end = (struct wf_holder){ .tid = end.tid, .hops = 1 };
			out[j] = end;
			state[j] = DONE;
			if (!end.err)
				end.hops++;
		}
	}
	walk_free(&wk);
	return 0;
}

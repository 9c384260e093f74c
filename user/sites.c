// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "py_frames.h"
#include "sites.h"

/* FNV-1a, 64 bit: stable, and plenty for the handful of sites a process has. */
static uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

uint64_t site_key(const struct lw_wait *w, const uint64_t *user_pcs, int n_user,
		  const uint64_t *kernel_pcs, int n_kernel)
{
	uint64_t h = 14695981039346656037ULL;
	const char *kind = w->kind ? w->kind : "";

	h = fnv1a(h, kind, strlen(kind) + 1);
	h = fnv1a(h, w->syscall, strnlen(w->syscall, sizeof(w->syscall)) + 1);
	h = fnv1a(h, &n_user, sizeof(n_user));
	h = fnv1a(h, user_pcs, (size_t)n_user * sizeof(*user_pcs));
	h = fnv1a(h, &n_kernel, sizeof(n_kernel));
	return fnv1a(h, kernel_pcs, (size_t)n_kernel * sizeof(*kernel_pcs));
}

/* The kind first, with a byte no thread site's key has: a goroutine's
 * site is never a thread's. */
uint64_t site_key_goroutine(const char *reason, const uint64_t *pcs, int n)
{
	uint64_t h = fnv1a(14695981039346656037ULL, "\xffgo", 3);

	h = fnv1a(h, reason, strlen(reason) + 1);
	h = fnv1a(h, &n, sizeof(n));
	return fnv1a(h, pcs, (size_t)(n > 0 ? n : 0) * sizeof(*pcs));
}

struct lw_site *site_find(const struct lw_site_table *t, uint64_t key)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->sites[i]->key == key)
			return t->sites[i];
	return NULL;
}

static void site_free(struct lw_site *s)
{
	leak_series_free(&s->leak);
	free(s);
}

/* Only a site that no waiter names: one found earlier in this very scan
 * may look idle ("since the last scan") and still be in use. */
static int evict_idle(struct lw_site_table *t, unsigned int window)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		struct lw_site *s = t->sites[i];

		if (!leak_policy_site_evictable(&s->leak, s->refs, window))
			continue;
		site_free(s);
		t->sites[i] = t->sites[--t->n];
		return 0;
	}
	return -ENOSPC;
}

int site_add(struct lw_site_table *t, uint32_t id, uint32_t pid, uint64_t key,
	     const struct lw_wait *w, const uint64_t *user_pcs, int n_user,
	     const uint64_t *kernel_pcs, int n_kernel, const struct trend_opts *trend_opts,
	     struct trend_scratch *scratch, struct lw_site **out)
{
	struct lw_site *s;
	int err;

	if (t->n >= LW_MAX_SITES_PER_PROCESS && evict_idle(t, trend_opts->window))
		return -ENOSPC;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 4;
		struct lw_site **sites = realloc(t->sites, cap * sizeof(*sites));

		if (!sites)
			return -ENOMEM;
		t->sites = sites;
		t->cap = cap;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	err = leak_series_init(&s->leak, trend_opts, scratch);
	if (err) {
		free(s);
		return err;
	}
	if (n_user > LW_STACK_MAX)
		n_user = LW_STACK_MAX;
	if (n_kernel > LW_STACK_MAX)
		n_kernel = LW_STACK_MAX;
	s->key = key;
	s->id = id;
	snprintf(s->name, sizeof(s->name), "%u", id);
	s->pid = pid;
	snprintf(s->kind, sizeof(s->kind), "%s", w->kind ? w->kind : "kernel");
	snprintf(s->syscall, sizeof(s->syscall), "%s", w->syscall);
	s->n_user = n_user;
	s->n_kernel = n_kernel;
	if (n_user > 0)
		memcpy(s->user_pcs, user_pcs, (size_t)n_user * sizeof(*user_pcs));
	if (n_kernel > 0) /* a goroutine's site has none: kernel_pcs may be NULL */
		memcpy(s->kernel_pcs, kernel_pcs, (size_t)n_kernel * sizeof(*kernel_pcs));
	t->sites[t->n++] = s;
	*out = s;
	return 0;
}

void site_table_free(struct lw_site_table *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		site_free(t->sites[i]);
	free(t->sites);
	t->sites = NULL;
	t->n = t->cap = 0;
}

/* The runtime's own packages, and functions outside them that only wrap a
 * park: a site is named by the code that called them. */
bool site_go_runtime_func(const char *func)
{
	static const char *const prefixes[] = {
		"runtime.", "runtime/", "sync.", "sync/", "internal/", "time.Sleep",
	};
	size_t i;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(func, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

void site_name_goroutine(struct lw_site *s, const char *func, const char *file, int line,
			 const char *created_by_func)
{
	const char *base = file ? strrchr(file, '/') : NULL;
	char where[LW_FRAME_TEXT + 32] = "";
	int n = 0;

	base = base ? base + 1 : file;
	if (func && base && base[0] && line > 0)
		snprintf(where, sizeof(where), " in %s (%s:%d)", func, base, line);
	else if (func)
		snprintf(where, sizeof(where), " in %s", func);
	n = snprintf(s->where, sizeof(s->where), "%s%s", s->kind, where);
	if (created_by_func && created_by_func[0] && n >= 0 && (size_t)n < sizeof(s->where))
		snprintf(s->where + n, sizeof(s->where) - n, ", created by %s", created_by_func);
}

bool site_native_runtime_module(const char *module)
{
	static const char *const prefixes[] = {
		"libc.so", "libc-", "libpthread", "ld-linux", "ld-", "libstdc++", "libgcc_s",
		"linux-vdso", "[vdso]", "libpython",
	};
	size_t i;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(module, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* "func (file:line)" or "func (module)" of f into buf. */
static int frame_where(const struct lw_frame *f, char *buf, size_t len)
{
	if (f->file[0] && f->line > 0)
		return snprintf(buf, len, "%s (%s:%d)", f->func, base_name(f->file), f->line);
	if (f->module[0])
		return snprintf(buf, len, "%s (%s)", f->func, f->module);
	return snprintf(buf, len, "%s", f->func);
}

/* The frame a site of threads is named by: an index into st, or -1. */
static int thread_culprit(const struct lw_stack_text *st)
{
	int i, first_python = -1, first_named = -1;

	for (i = 0; i < st->n; i++) {
		const struct lw_frame *f = &st->info[i];

		if (!f->func[0])
			continue;
		if (first_named < 0)
			first_named = i;
		if (f->kind == LW_FRAME_PYTHON) {
			if (first_python < 0)
				first_python = i;
			if (!py_stdlib_file(f->file))
				return i;
		}
	}
	if (first_python >= 0)
		return first_python; /* all of it the standard library's */
	for (i = 0; i < st->n; i++) {
		const struct lw_frame *f = &st->info[i];

		if (f->func[0] && (f->kind == LW_FRAME_NATIVE || f->kind == LW_FRAME_JIT) &&
		    !site_native_runtime_module(f->module))
			return i;
	}
	return first_named;
}

void site_name_thread(struct lw_site *s)
{
	const struct lw_stack_text *st = &s->user;
	int i = thread_culprit(st), j, n;

	s->where[0] = '\0';
	if (i < 0)
		return;
	n = frame_where(&st->info[i], s->where, sizeof(s->where));
	if (!st->info[i].inlined || n < 0 || (size_t)n >= sizeof(s->where))
		return;
	for (j = i + 1; j < st->n && st->info[j].inlined; j++)
		;
	if (j < st->n && st->info[j].func[0])
		snprintf(s->where + n, sizeof(s->where) - n, " inlined into %s", st->info[j].func);
}

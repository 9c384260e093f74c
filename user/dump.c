// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "dump.h"
#include "go_names.h"
#include "text_out.h"
#include "utf8.h"

#define DUMP_GO_FRAMES 16 /* inlined calls at one pc, at most */

void dump_init(struct dump *d)
{
	memset(d, 0, sizeof(*d));
}

void dump_free(struct dump *d)
{
	free(d->entries);
	free(d->pcs);
	dump_init(d);
}

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

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t new_cap = *cap ? *cap : 64;
	void *n;

	if (need <= *cap)
		return 0;
	while (new_cap < need)
		new_cap *= 2;
	n = realloc(*p, new_cap * size);
	if (!n)
		return -ENOMEM;
	*p = n;
	*cap = new_cap;
	return 0;
}

int dump_add(struct dump *d, const struct dump_waiter *w)
{
	int n_pcs = w->unreadable || w->n_pcs < 0 ? 0 : w->n_pcs;
	struct dump_entry *e;

	if (n_pcs > LW_STACK_MAX)
		n_pcs = LW_STACK_MAX;
	if (d->n >= DUMP_MAX_ENTRIES) {
		d->dropped++;
		return -ENOSPC;
	}
	if (grow((void **)&d->entries, &d->cap, d->n + 1, sizeof(*d->entries)) ||
	    grow((void **)&d->pcs, &d->cap_pcs, d->n_pcs + (size_t)n_pcs, sizeof(*d->pcs))) {
		d->dropped++;
		return -ENOMEM;
	}
	e = &d->entries[d->n++];
	memset(e, 0, sizeof(*e));
	e->id = w->id;
	e->kind = (uint8_t)w->kind;
	e->blocked = w->blocked;
	e->blocked_ns = w->blocked_ns;
	e->unreadable = w->unreadable;
	snprintf(e->wait, sizeof(e->wait), "%s", w->wait ? w->wait : "");
	e->pcs_off = d->n_pcs;
	e->n_pcs = (uint16_t)n_pcs;
	if (n_pcs)
		memcpy(&d->pcs[d->n_pcs], w->pcs, (size_t)n_pcs * sizeof(*w->pcs));
	d->n_pcs += (size_t)n_pcs;
	e->hash = fnv1a(14695981039346656037ULL, e->wait, strlen(e->wait));
	e->hash = fnv1a(e->hash, &d->pcs[e->pcs_off], (size_t)n_pcs * sizeof(*d->pcs));
	return 0;
}

/* The group key: all but the id. */
static int cmp_key(const struct dump_entry *a, const struct dump_entry *b, const uint64_t *pcs)
{
	int c;

	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if (a->hash != b->hash)
		return a->hash < b->hash ? -1 : 1;
	if (a->unreadable != b->unreadable)
		return a->unreadable ? 1 : -1;
	if (a->n_pcs != b->n_pcs)
		return a->n_pcs < b->n_pcs ? -1 : 1;
	c = strcmp(a->wait, b->wait);
	if (c)
		return c;
	return memcmp(&pcs[a->pcs_off], &pcs[b->pcs_off], a->n_pcs * sizeof(*pcs));
}

static int cmp_entry(const void *pa, const void *pb, void *ctx)
{
	const struct dump_entry *a = pa, *b = pb;
	int c = cmp_key(a, b, ctx);

	if (c)
		return c;
	return a->id < b->id ? -1 : a->id > b->id;
}

static int cmp_group(const void *pa, const void *pb)
{
	const struct dump_group *a = pa, *b = pb;
	int c;

	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	c = strcmp(a->wait, b->wait);
	if (c)
		return c;
	return a->ids[0] < b->ids[0] ? -1 : a->ids[0] > b->ids[0];
}

int dump_group(struct dump *d, struct dump_group **out, size_t *n)
{
	struct dump_group *groups = NULL, *g = NULL;
	size_t n_groups = 0, cap = 0, i;

	*out = NULL;
	*n = 0;
	if (!d->n)
		return 0;
	qsort_r(d->entries, d->n, sizeof(*d->entries), cmp_entry, d->pcs);
	for (i = 0; i < d->n; i++) {
		const struct dump_entry *e = &d->entries[i];

		if (!g || cmp_key(&d->entries[i - 1], e, d->pcs)) {
			if (grow((void **)&groups, &cap, n_groups + 1, sizeof(*groups))) {
				free(groups);
				return -ENOMEM;
			}
			g = &groups[n_groups++];
			memset(g, 0, sizeof(*g));
			g->kind = (enum dump_kind)e->kind;
			g->wait = e->wait;
			g->pcs = &d->pcs[e->pcs_off];
			g->n_pcs = e->n_pcs;
			g->unreadable = e->unreadable;
		}
		g->count++;
		if (e->blocked) {
			g->blocked++;
			if (e->blocked_ns > g->max_blocked_ns)
				g->max_blocked_ns = e->blocked_ns;
		}
		/* Sorted by id within the group: the first are the lowest. */
		if (g->n_ids < DUMP_GROUP_IDS)
			g->ids[g->n_ids++] = e->id;
	}
	qsort(groups, n_groups, sizeof(*groups), cmp_group);
	*out = groups;
	*n = n_groups;
	return 0;
}

/* ---- Frames ---- */

/* One frame as text: pprof's "#" line, or a JSON stack string. */
struct frame_text {
	uint64_t pc; /* the pc looked up */
	char func[LW_FRAME_TEXT], where[LW_FRAME_TEXT];
	bool runtime; /* a frame pprof hides at the top of a stack */
	bool goexit;
};

static bool is_runtime_func(const char *name)
{
	return !strncmp(name, "runtime.", 8) || !strncmp(name, "internal/runtime/", 17);
}

/* A thread's frames at pc from thread_frames: each inlined call its own,
 * "func+0xoff" and "file:line" as pprof shows Go's, else the frame's text
 * ("func+0xoff (module)", "0xpc (module)"). */
static int thread_frames_at(const struct dump_symbols *sym, uint64_t pc, bool first, uint64_t at,
			    struct frame_text *out, int max)
{
	struct lw_frame f[DUMP_GO_FRAMES];
	int n, k;

	n = sym->thread_frames(sym->ctx, pc, first, f, max < DUMP_GO_FRAMES ? max : DUMP_GO_FRAMES);
	if (n < 1) {
		lw_frame_unknown(&f[0], LW_FRAME_NATIVE, pc, NULL);
		n = 1;
	}
	for (k = 0; k < n; k++) {
		memset(&out[k], 0, sizeof(out[k]));
		out[k].pc = at;
		if (f[k].func[0] && f[k].file[0] && f[k].line > 0) {
			snprintf(out[k].func, sizeof(out[k].func), "%s+0x%llx", f[k].func,
				 (unsigned long long)f[k].offset);
			snprintf(out[k].where, sizeof(out[k].where), "%s:%d", f[k].file, f[k].line);
		} else {
			lw_frame_text(&f[k], out[k].func, sizeof(out[k].func));
		}
	}
	return n;
}

/*
 * The frames of pcs[i], into out (up to max).  Goroutines: every inlined
 * call at that pc, innermost first; threads: one frame, named by the
 * thread symbolizer.  Returns the count.
 */
static int frames_at(const struct dump_group *g, int i, const struct dump_symbols *sym,
		     struct frame_text *out, int max)
{
	struct go_frame gf[DUMP_GO_FRAMES];
	bool first = i == 0;
	uint64_t pc = g->pcs[i];
	uint64_t at = first || !pc ? pc : pc - 1;
	int n = 0, k;

	if (g->kind == DUMP_THREAD && sym->thread_frames && max >= 1)
		return thread_frames_at(sym, pc, first, at, out, max);
	if (g->kind == DUMP_THREAD) {
		if (max < 1)
			return 0;
		memset(&out[0], 0, sizeof(out[0]));
		out[0].pc = at;
		if (sym->thread_frame)
			sym->thread_frame(sym->ctx, pc, first, out[0].func, sizeof(out[0].func));
		if (!out[0].func[0])
			snprintf(out[0].func, sizeof(out[0].func), "0x%llx", (unsigned long long)pc);
		return 1;
	}
	if (sym->go_frames)
		n = sym->go_frames(sym->ctx, pc, first, gf, DUMP_GO_FRAMES);
	if (n <= 0) {
		if (max < 1)
			return 0;
		/* Not Go code of the executable (cgo, a vdso): its address. */
		memset(&out[0], 0, sizeof(out[0]));
		out[0].pc = at;
		return 1;
	}
	if (n > DUMP_GO_FRAMES)
		n = DUMP_GO_FRAMES;
	for (k = 0; k < n && k < max; k++) {
		char name[GO_NAME_MAX];

		go_func_print_name(gf[k].func ? gf[k].func : "?", name, sizeof(name));

		memset(&out[k], 0, sizeof(out[k]));
		out[k].pc = at;
		snprintf(out[k].func, sizeof(out[k].func), "%s+0x%llx", name,
			 (unsigned long long)(at >= gf[k].entry ? at - gf[k].entry : 0));
		if (gf[k].file && gf[k].file[0])
			snprintf(out[k].where, sizeof(out[k].where), "%s:%d", gf[k].file,
				 gf[k].line);
		out[k].runtime = is_runtime_func(name);
		out[k].goexit = !strcmp(name, "runtime.goexit");
	}
	return k;
}

/* Every frame of g, innermost first; returns the count (at most max). */
static int group_frames(const struct dump_group *g, const struct dump_symbols *sym,
			struct frame_text *out, int max)
{
	int i, n = 0;

	for (i = 0; i < g->n_pcs && n < max; i++)
		n += frames_at(g, i, sym, &out[n], max - n);
	return n;
}

#define DUMP_MAX_FRAMES (LW_STACK_MAX * 4)

/* ---- Text ---- */

static void write_wait_line(FILE *f, const struct dump_group *g)
{
	fprintf(f, "# wait: %s", g->wait[0] ? g->wait : "?");
	if (g->kind == DUMP_THREAD && g->blocked)
		fprintf(f, ", %zu blocked, longest %.3fs", g->blocked,
			(double)g->max_blocked_ns / 1e9);
	if (g->unreadable)
		fputs(", stack unreadable", f);
	fputc('\n', f);
}

static void write_group_text(FILE *f, const struct dump_group *g, const struct dump_symbols *sym,
			     struct frame_text *frames)
{
	int i, n, from = 0;

	fprintf(f, "%zu @", g->count);
	for (i = 0; i < g->n_pcs; i++)
		fprintf(f, " 0x%llx", (unsigned long long)g->pcs[i]);
	fputc('\n', f);
	write_wait_line(f, g);
	n = group_frames(g, sym, frames, DUMP_MAX_FRAMES);
	if (g->kind == DUMP_GOROUTINE) {
		/* As pprof's printStackRecord: the runtime's frames on top go,
		 * unless nothing else would be left. */
		while (from < n && (frames[from].runtime || frames[from].goexit))
			from++;
		if (from == n)
			from = 0;
	}
	for (i = from; i < n; i++) {
		/* Names from the target (symbols, perf maps, Python code): no
		 * terminal escapes. */
		char func[3 * LW_FRAME_TEXT + 1], where[3 * LW_FRAME_TEXT + 1];

		if (frames[i].goexit)
			continue;
		text_clean(frames[i].func, LW_FRAME_TEXT, func);
		text_clean(frames[i].where, LW_FRAME_TEXT, where);
		if (!func[0])
			fprintf(f, "#\t0x%llx\n", (unsigned long long)frames[i].pc);
		else if (where[0])
			fprintf(f, "#\t0x%llx\t%s\t%s\n", (unsigned long long)frames[i].pc, func,
				where);
		else
			fprintf(f, "#\t0x%llx\t%s\n", (unsigned long long)frames[i].pc, func);
	}
	fputc('\n', f);
}

static size_t count_kind(const struct dump_group *g, size_t n, enum dump_kind kind)
{
	size_t i, total = 0;

	for (i = 0; i < n; i++)
		if (g[i].kind == kind)
			total += g[i].count;
	return total;
}

int dump_write_text(FILE *f, const struct dump_process *p, const struct dump_group *g, size_t n,
		    const struct dump_symbols *sym)
{
	struct frame_text *frames = calloc(DUMP_MAX_FRAMES, sizeof(*frames));
	char pcomm[3 * 16 + 1];
	size_t i;

	if (!frames)
		return -ENOMEM;
	text_clean(p->pcomm ? p->pcomm : "", 16, pcomm);
	fprintf(f, "# leakwatch --dump pid %u (%s)", p->pid, pcomm);
	if (p->go_version && !p->go_error)
		fprintf(f, " %s: %zu goroutines (%zu system goroutines not shown)", p->go_version,
			p->goroutines, p->system_goroutines);
	else if (p->go_version)
		fprintf(f, " %s", p->go_version);
	fprintf(f, ", %zu threads", p->threads);
	if (p->stacks_unreadable)
		fprintf(f, ", %zu stacks unreadable", p->stacks_unreadable);
	if (p->dropped)
		fprintf(f, ", %llu not dumped", (unsigned long long)p->dropped);
	fputc('\n', f);
	if (p->go_error)
		fprintf(f, "# goroutines not read: %s\n", p->go_error);
	/* Goroutines not read: no profile of them, rather than an empty one. */
	if (p->go_version && !p->go_error) {
		fprintf(f, "goroutine profile: total %zu\n", count_kind(g, n, DUMP_GOROUTINE));
		for (i = 0; i < n; i++)
			if (g[i].kind == DUMP_GOROUTINE)
				write_group_text(f, &g[i], sym, frames);
	}
	fprintf(f, "thread profile: total %zu\n", count_kind(g, n, DUMP_THREAD));
	for (i = 0; i < n; i++)
		if (g[i].kind == DUMP_THREAD)
			write_group_text(f, &g[i], sym, frames);
	free(frames);
	return ferror(f) ? -EIO : 0;
}

/* ---- JSON ---- */

#define DUMP_JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

static void add_str(json_object *o, const char *key, const char *s)
{
	char clean[3 * LW_FRAME_TEXT + 1];

	utf8_sanitize(s, strnlen(s, LW_FRAME_TEXT), clean);
	json_object_object_add(o, key, json_object_new_string(clean));
}

static void add_fixed(json_object *o, const char *key, double v, int decimals)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%.*f", decimals, v);
	json_object_object_add(o, key, json_object_new_double_s(v, buf));
}

/* DESIGN.md's frame strings: "func+0xoff (file:line)", else "func+0xoff
 * (module)" as the thread symbolizer writes it, else the address. */
static json_object *stack_array(const struct dump_group *g, const struct dump_symbols *sym,
				struct frame_text *frames)
{
	json_object *a = json_object_new_array();
	char text[2 * LW_FRAME_TEXT + 8];
	int i, n;

	if (!a)
		return NULL;
	n = group_frames(g, sym, frames, DUMP_MAX_FRAMES);
	for (i = 0; i < n; i++) {
		if (!frames[i].func[0])
			snprintf(text, sizeof(text), "0x%llx", (unsigned long long)frames[i].pc);
		else if (frames[i].where[0])
			snprintf(text, sizeof(text), "%s (%s)", frames[i].func, frames[i].where);
		else
			snprintf(text, sizeof(text), "%s", frames[i].func);
		text[LW_FRAME_TEXT - 1] = '\0';
		json_object_array_add(a, json_object_new_string(text));
	}
	return a;
}

static int write_group_json(FILE *f, const struct dump_process *p, const struct dump_group *g,
			    const struct dump_symbols *sym, struct frame_text *frames)
{
	json_object *o = json_object_new_object(), *ids, *stack;
	const char *s;
	size_t i;
	int err = 0;

	if (!o)
		return -ENOMEM;
	add_str(o, "type", "dump");
	add_fixed(o, "ts", p->ts, 6);
	json_object_object_add(o, "pid", json_object_new_uint64(p->pid));
	add_str(o, "pcomm", p->pcomm ? p->pcomm : "");
	add_str(o, "kind", g->kind == DUMP_GOROUTINE ? "goroutine" : "thread");
	json_object_object_add(o, "count", json_object_new_uint64(g->count));
	add_str(o, "wait", g->wait);
	if (g->kind == DUMP_THREAD) {
		json_object_object_add(o, "blocked", json_object_new_uint64(g->blocked));
		add_fixed(o, "max_blocked_s", (double)g->max_blocked_ns / 1e9, 3);
	}
	ids = json_object_new_array();
	for (i = 0; ids && i < g->n_ids; i++)
		json_object_array_add(ids, json_object_new_uint64(g->ids[i]));
	json_object_object_add(o, g->kind == DUMP_GOROUTINE ? "goids" : "tids", ids);
	stack = stack_array(g, sym, frames);
	json_object_object_add(o, "stack", stack);
	if (g->unreadable)
		json_object_object_add(o, "stack_unreadable", json_object_new_boolean(true));
	s = json_object_to_json_string_ext(o, DUMP_JSON_FLAGS);
	if (!s || !ids || !stack)
		err = -ENOMEM;
	else if (fprintf(f, "%s\n", s) < 0)
		err = -EIO;
	json_object_put(o);
	return err;
}

int dump_write_json(FILE *f, const struct dump_process *p, const struct dump_group *g, size_t n,
		    const struct dump_symbols *sym)
{
	struct frame_text *frames = calloc(DUMP_MAX_FRAMES, sizeof(*frames));
	size_t i;
	int err = 0;

	if (!frames)
		return -ENOMEM;
	for (i = 0; i < n && !err; i++)
		err = write_group_json(f, p, &g[i], sym, frames);
	free(frames);
	if (!err && ferror(f))
		err = -EIO;
	return err;
}

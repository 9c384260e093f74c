// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include "duration.h"
#include "text_out.h"
#include "utf8.h"

#define NAME_BUF (3 * LW_COMM_LEN + 1)
/* A goroutine site's name, a Go function's: cleaned for the terminal. */
#define WHERE_BUF (3 * (LW_FRAME_TEXT + 64) + 1)

struct counts {
	uint32_t threads, blocked, stuck;
	uint32_t goroutines, goroutines_blocked, goroutines_stuck;
};

void text_out_init(struct text_out *o, FILE *f, bool table, uint64_t threshold_ns,
		   uint64_t interval_ns)
{
	memset(o, 0, sizeof(*o));
	o->f = f;
	o->table = table;
	o->threshold_ns = threshold_ns;
	o->interval_ns = interval_ns;
	id_map_init(&o->last_counts);
}

void text_out_free(struct text_out *o)
{
	uint32_t key;
	void *value;
	size_t i = 0;

	while (id_map_next(&o->last_counts, &i, &key, &value))
		free(value);
	id_map_free(&o->last_counts);
}

/* For a terminal: valid UTF-8, control bytes as '?'.  Names and stack
 * frames (symbols, paths) come from the watched processes. */
static void clean_text(const char *in, size_t max, char *out)
{
	char *p;

	utf8_sanitize(in, strnlen(in, max), out);
	for (p = out; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			*p = '?';
		} else if ((unsigned char)p[0] == 0xc2 && (unsigned char)p[1] >= 0x80 &&
			   (unsigned char)p[1] <= 0x9f) {
			/* C1 controls (U+0080-U+009F): CSI and the like. */
			p[0] = '?';
			p[1] = '?';
			p++;
		}
	}
}

void text_clean_name(const char *in, char *out)
{
	clean_text(in, LW_COMM_LEN, out);
}

void text_clean(const char *in, size_t max, char *out)
{
	clean_text(in, max, out);
}

/* " [docker 0123456789ab]" after a process's name: what its cgroup says,
 * cleaned for the terminal; "" when it says nothing (the root cgroup). */
#define TAG_BUF (3 * LW_CGROUP_PATH_MAX + 4)

static const char *cgroup_tag(const struct lw_cgroup *cg, char *out)
{
	char label[LW_CGROUP_PATH_MAX], clean[3 * LW_CGROUP_PATH_MAX + 1];

	cgroup_label(cg, label, sizeof(label));
	out[0] = '\0';
	if (!label[0])
		return out;
	clean_text(label, sizeof(label), clean);
	snprintf(out, TAG_BUF, " [%s]", clean);
	return out;
}

static const char *clock_str(double unix_s, char *buf, size_t len)
{
	time_t secs = (time_t)unix_s;
	struct tm tm;

	localtime_r(&secs, &tm);
	strftime(buf, len, "%H:%M:%S", &tm);
	return buf;
}

static const char *wait_str(const struct lw_wait *w, char *buf, size_t len)
{
	int n;

	if (!w || !w->kind)
		return "kernel";
	n = snprintf(buf, len, "%s", w->kind);
	if (w->syscall[0] && strcmp(w->syscall, w->kind) && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - n, " (%s)", w->syscall);
	if (w->futex_op[0] && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - n, " %s", w->futex_op);
	if (w->has_futex && n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - n, " 0x%llx", (unsigned long long)w->futex_addr);
	return buf;
}

/* Line mode: a sample line only when the counts differ from the last one. */
static bool counts_changed(struct text_out *o, const struct lw_report *r)
{
	struct counts *c = id_map_get(&o->last_counts, r->pid);

	if (r->type == LW_RPT_EXIT) {
		free(id_map_del(&o->last_counts, r->pid));
		return true;
	}
	if (!c) {
		c = calloc(1, sizeof(*c));
		if (!c || id_map_put(&o->last_counts, r->pid, c)) {
			free(c);
			return true;
		}
	} else if (c->threads == r->threads && c->blocked == r->blocked && c->stuck == r->stuck &&
		   c->goroutines == r->goroutines &&
		   c->goroutines_blocked == r->goroutines_blocked &&
		   c->goroutines_stuck == r->goroutines_stuck) {
		return false;
	}
	c->threads = r->threads;
	c->blocked = r->blocked;
	c->stuck = r->stuck;
	c->goroutines = r->goroutines;
	c->goroutines_blocked = r->goroutines_blocked;
	c->goroutines_stuck = r->goroutines_stuck;
	return true;
}

static void print_summary(FILE *f, const struct lw_report *r)
{
	const struct lw_drops *d = r->drops;

	fprintf(f, "leakwatch: ran %.1fs, %llu events, %llu dropped", r->duration_s,
		(unsigned long long)r->events,
		(unsigned long long)(d ? lw_drops_total(d) : 0));
	if (d && lw_drops_total(d))
		fprintf(f, " (ring buffer %llu, task storage %llu, targets %llu, tracker %llu)",
			(unsigned long long)d->ringbuf, (unsigned long long)d->task_storage,
			(unsigned long long)d->targets, (unsigned long long)d->tracker);
	fputc('\n', f);
}

static void print_stack(FILE *f, const struct lw_stack_text *st)
{
	char clean[3 * LW_FRAME_TEXT + 1];
	int i;

	if (!st || !st->n) {
		fprintf(f, "%9s(no user stack)\n", "");
		return;
	}
	for (i = 0; i < st->n; i++) {
		clean_text(st->frames[i], LW_FRAME_TEXT, clean);
		fprintf(f, "%9s#%-2d %s%s\n", "", i, clean, st->info[i].inlined ? " (inlined)" : "");
	}
}

/* "kernel: a <- b <- c": innermost first, without the offsets. */
static void print_kstack(FILE *f, const struct lw_stack_text *st)
{
	char clean[3 * LW_FRAME_TEXT + 1];
	int i;

	if (!st || !st->n)
		return;
	fprintf(f, "%9skernel: ", "");
	for (i = 0; i < st->n && i < 8; i++) {
		clean_text(st->frames[i], LW_FRAME_TEXT, clean);
		fprintf(f, "%s%.*s", i ? " <- " : "", (int)strcspn(clean, "+"), clean);
	}
	fprintf(f, "%s\n", st->n > 8 ? " ..." : "");
}

/* "mutex 0x55d0c0de2040", "rwlock 0x... (write)", "condition variable" */
static const char *lock_str(const struct lw_lock *l, char *buf, size_t len)
{
	const char *kind = l->kind == LW_LOCK_MUTEX ? "mutex" :
			   l->kind == LW_LOCK_OWNERLESS ? (l->what ? l->what : "ownerless wait") :
							  "rwlock";

	if (l->addr)
		snprintf(buf, len, "%s 0x%llx%s", kind, (unsigned long long)l->addr,
			 l->kind == LW_LOCK_RWLOCK_READ ? " (read)" :
			 l->kind == LW_LOCK_RWLOCK_WRITE ? " (write)" : "");
	else
		snprintf(buf, len, "%s", kind);
	return buf;
}

/* The site's where, or its first frame outside the C library. */
static const char *site_where(const struct lw_site *s, char *buf);

/* Under a leak: who its waiters wait for, with the holder's own wait and
 * stack: the thread that is the bug. */
static void print_holder(FILE *f, const struct lw_lock_holder *h, uint32_t stuck)
{
	char comm[NAME_BUF], lock[96], dur[32], wait[128], where[WHERE_BUF];

	text_clean_name(h->comm ? h->comm : "", comm);
	fprintf(f, "    %u of %u wait%s for the %s held by tid %u%s%s%s", h->waiters, stuck,
		h->waiters == 1 ? "s" : "", h->lock ? lock_str(h->lock, lock, sizeof(lock)) : "lock",
		h->tid, comm[0] ? " (" : "", comm, comm[0] ? ")" : "");
	if (h->hops > 1)
		fprintf(f, " (%u locks away)", h->hops);
	if (!h->blocked) {
		fprintf(f, ", not blocked (running, or not seen)\n");
		return;
	}
	fprintf(f, ", itself blocked %s in %s",
		duration_format((uint64_t)(h->blocked_s * 1e9), dur, sizeof(dur)),
		wait_str(h->wait, wait, sizeof(wait)));
	if (h->site)
		fprintf(f, " at %s", site_where(h->site, where));
	fputc('\n', f);
	if (h->site) {
		fprintf(f, "    holder's stack:\n");
		print_stack(f, &h->site->user);
	}
}

/* A deadlock: each member, what it waits for and who holds that. */
static void print_deadlock(FILE *f, const char *when, const char *pcomm, uint32_t pid,
			   const struct lw_cgroup *cg, const struct lw_deadlock_member *m,
			   uint32_t n_shown, uint32_t n, bool stacks)
{
	char comm[NAME_BUF], lock[96], dur[32], where[WHERE_BUF], tag[TAG_BUF];
	bool kernel = false;
	uint32_t i;

	for (i = 0; i < n_shown; i++)
		kernel |= m[i].lock && m[i].lock->kernel_deadlock;
	cgroup_tag(cg, tag);
	fprintf(f, "%s DEADLOCK pid %u (%s)%s: %u thread%s wait for each other's locks%s\n", when,
		pid, pcomm, tag, n, n == 1 ? "" : "s",
		kernel ? " (the kernel refused a PI lock with EDEADLK)" : "");
	for (i = 0; i < n_shown; i++) {
		text_clean_name(m[i].comm ? m[i].comm : "", comm);
		if (!m[i].lock) {
			fprintf(f, "    tid %u: no longer in this wait\n", m[i].tid);
			continue;
		}
		fprintf(f, "    tid %u (%s) waits %s for %s held by tid %u", m[i].tid, comm,
			duration_format((uint64_t)(m[i].blocked_s * 1e9), dur, sizeof(dur)),
			lock_str(m[i].lock, lock, sizeof(lock)), m[i].lock->owner_tid);
		if (m[i].site)
			fprintf(f, ", at %s", site_where(m[i].site, where));
		fputc('\n', f);
		if (stacks && m[i].site)
			print_stack(f, &m[i].site->user);
	}
	if (n_shown < n)
		fprintf(f, "    ... and %u more\n", n - n_shown);
}

static void print_leak(FILE *f, const char *when, const char *pcomm, const struct lw_report *r,
		       uint64_t threshold_ns)
{
	char tag[TAG_BUF];
	const struct lw_site *s = r->site;
	char thr[32];

	cgroup_tag(r->cgroup, tag);

	char span[32];

	if (s && s->goroutine) {
		/* pprof's "N goroutines @ where", then the Go stack */
		char where[WHERE_BUF];

		clean_text(s->where, sizeof(s->where), where);
		fprintf(f, "%s LEAK    pid %u (%s)%s: %u goroutines @ %s, parked >%s (site %s), "
			   "%+.1f/min over the last %s\n", when, r->pid, pcomm, tag, r->stuck, where,
			duration_format(threshold_ns, thr, sizeof(thr)), s->name, r->growth_per_min,
			duration_format((uint64_t)(s->leak.window_s * 1e9), span, sizeof(span)));
		print_stack(f, &s->user);
		return;
	}
	if (s && !strcmp(s->kind, "threads")) {
		/* The thread count itself: no site, no stack. */
		fprintf(f, "%s LEAK    pid %u (%s)%s: %u threads and growing, at no single site, "
			   "%+.1f/min over the last %s\n", when, r->pid, pcomm, tag,
			r->threads ? r->threads : r->stuck, r->growth_per_min,
			duration_format((uint64_t)(s->leak.window_s * 1e9), span, sizeof(span)));
		return;
	}
	fprintf(f, "%s LEAK    pid %u (%s)%s: %u threads stuck in %s for >%s at site %s, "
		   "%+.1f/min over the last %s\n",
		when, r->pid, pcomm, tag, r->stuck, s ? s->kind : "?",
		duration_format(threshold_ns, thr, sizeof(thr)), s ? s->name : "?",
		r->growth_per_min,
		duration_format(s ? (uint64_t)(s->leak.window_s * 1e9) : 0, span, sizeof(span)));
	if (s && s->where[0]) {
		char where[WHERE_BUF];

		clean_text(s->where, sizeof(s->where), where);
		fprintf(f, "    at %s\n", where);
	}
	if (s) {
		print_stack(f, &s->user);
		print_kstack(f, &s->kernel);
	}
	if (r->holder)
		print_holder(f, r->holder, r->stuck);
}

/* " (main.queryAll.func1, created by main.queryAll (/src/main.go:19))" */
static void print_goroutine_origin(FILE *f, const struct lw_report *r)
{
	char func[WHERE_BUF], created[WHERE_BUF];

	if (!r->func && !r->created_by)
		return;
	clean_text(r->func ? r->func : "?", LW_FRAME_TEXT, func);
	clean_text(r->created_by ? r->created_by : "", LW_FRAME_TEXT, created);
	fprintf(f, " (%s%s%s)", func, created[0] ? ", created by " : "", created);
}

/* The goroutine records of line mode. */
static void emit_goroutine(struct text_out *o, const struct lw_report *r, const char *when,
			   const char *pcomm)
{
	char dur[32], wait[128], tag[TAG_BUF];

	cgroup_tag(r->cgroup, tag);

	switch (r->type) {
	case LW_RPT_STUCK:
		fprintf(o->f, "%s STUCK   pid %u (%s)%s goroutine %llu blocked %s%s in %s", when,
			r->pid, pcomm, tag, (unsigned long long)r->goid, r->since_exact ? "" : ">=",
			duration_format((uint64_t)(r->blocked_s * 1e9), dur, sizeof(dur)),
			wait_str(r->wait, wait, sizeof(wait)));
		if (r->site)
			fprintf(o->f, " at site %s", r->site->name);
		print_goroutine_origin(o->f, r);
		fputc('\n', o->f);
		break;
	case LW_RPT_UNSTUCK:
		fprintf(o->f, "%s UNSTUCK pid %u (%s)%s goroutine %llu ran again after %s%s\n", when,
			r->pid, pcomm, tag, (unsigned long long)r->goid, r->end_exact ? "" : "~",
			duration_format((uint64_t)(r->blocked_s * 1e9), dur, sizeof(dur)));
		break;
	default:
		break;
	}
}

void text_emit(void *ctx, const struct lw_report *r)
{
	struct text_out *o = ctx;
	char when[16], comm[NAME_BUF], pcomm[NAME_BUF], dur[32], wait[128], tag[TAG_BUF];

	if (r->type == LW_RPT_SUMMARY) {
		if (o->drawn)
			fputc('\n', o->f); /* after the table's last line */
		o->drawn = false;
		print_summary(o->f, r);
		fflush(o->f);
		return;
	}
	if (r->type == LW_RPT_SITE)
		return; /* its stack is shown with a leak, or in the table */
	if (o->table)
		return; /* the table shows it at the next redraw */
	if ((r->type == LW_RPT_SAMPLE || r->type == LW_RPT_EXIT) && !counts_changed(o, r))
		return;

	clock_str(r->ts, when, sizeof(when));
	text_clean_name(r->comm ? r->comm : "", comm);
	text_clean_name(r->pcomm ? r->pcomm : "", pcomm);
	cgroup_tag(r->cgroup, tag);
	if (r->goid && (r->type == LW_RPT_STUCK || r->type == LW_RPT_UNSTUCK)) {
		emit_goroutine(o, r, when, pcomm);
		fflush(o->f);
		return;
	}
	switch (r->type) {
	case LW_RPT_STUCK:
		fprintf(o->f, "%s STUCK   pid %u (%s)%s tid %u (%s) %c blocked %s%s in %s", when,
			r->pid, pcomm, tag, r->tid, comm, r->state == 'D' ? 'D' : 'S',
			r->since_exact ? "" : ">=",
			duration_format((uint64_t)(r->blocked_s * 1e9), dur, sizeof(dur)),
			wait_str(r->wait, wait, sizeof(wait)));
		if (r->site)
			fprintf(o->f, " at site %s", r->site->name);
		if (r->lock && r->lock->owner_known)
			fprintf(o->f, ", %s held by tid %u",
				lock_str(r->lock, wait, sizeof(wait)), r->lock->owner_tid);
		else if (r->lock && r->lock->kind == LW_LOCK_OWNERLESS)
			fprintf(o->f, ", a %s (no owner)", lock_str(r->lock, wait, sizeof(wait)));
		fputc('\n', o->f);
		break;
	case LW_RPT_DEADLOCK:
		print_deadlock(o->f, when, pcomm, r->pid, r->cgroup, r->cycle, r->n_cycle,
			       r->cycle_threads > r->n_cycle ? r->cycle_threads : r->n_cycle,
			       true);
		break;
	case LW_RPT_LEAK:
		print_leak(o->f, when, pcomm, r, o->threshold_ns);
		break;
	case LW_RPT_SPIN:
		fprintf(o->f, "%s SPIN    pid %u (%s)%s tid %u (%s) ran %s without blocking", when,
			r->pid, pcomm, tag, r->tid, comm,
			duration_format((uint64_t)(r->running_s * 1e9), dur, sizeof(dur)));
		if (r->goid) {
			fprintf(o->f, ", goroutine %llu", (unsigned long long)r->goid);
			print_goroutine_origin(o->f, r);
		}
		fputc('\n', o->f);
		print_stack(o->f, r->stack);
		break;
	case LW_RPT_SITE:
	case LW_RPT_UNSTUCK:
		fprintf(o->f, "%s UNSTUCK pid %u (%s)%s tid %u (%s) ran again after %s%s\n", when,
			r->pid, pcomm, tag, r->tid, comm, r->end_exact ? "" : "~",
			duration_format((uint64_t)(r->blocked_s * 1e9), dur, sizeof(dur)));
		break;
	case LW_RPT_SAMPLE:
		fprintf(o->f, "%s SAMPLE  pid %u (%s)%s threads %u blocked %u stuck %u", when,
			r->pid, pcomm, tag, r->threads, r->blocked, r->stuck);
		if (r->go)
			fprintf(o->f, " goroutines %u blocked %u stuck %u", r->goroutines,
				r->goroutines_blocked, r->goroutines_stuck);
		/* Its goroutine scans cost too much: read less often. */
		if (r->go && r->goroutine_scan_interval_s * 1e9 > 1.5 * (double)o->interval_ns)
			fprintf(o->f, " (goroutines read every %s)",
				duration_format((uint64_t)(r->goroutine_scan_interval_s * 1e9), dur,
						sizeof(dur)));
		fputc('\n', o->f);
		break;
	case LW_RPT_EXIT:
		fprintf(o->f, "%s EXIT    pid %u (%s)%s\n", when, r->pid, pcomm, tag);
		break;
	case LW_RPT_GO: {
		/* The version and the reason come from the binary: cleaned */
		char version[WHERE_BUF], why[3 * 256 + 1];

		clean_text(r->go_version ? r->go_version : "?", 64, version);
		clean_text(r->go_error ? r->go_error : r->go_layout ? r->go_layout : "?", 256,
			   why);
		if (r->go_error)
			fprintf(o->f, "%s GO      pid %u (%s)%s %s: goroutines not read: %s\n", when,
				r->pid, pcomm, tag, version, why);
		else
			fprintf(o->f, "%s GO      pid %u (%s)%s %s, layout from %s\n", when, r->pid,
				pcomm, tag, version, why);
		break;
	}
	case LW_RPT_PYTHON: {
		char version[WHERE_BUF], why[3 * 256 + 1];

		clean_text(r->py_version ? r->py_version : "?", 64, version);
		clean_text(r->py_error ? r->py_error : r->py_layout ? r->py_layout : "?", 256, why);
		if (r->py_error)
			fprintf(o->f, "%s PYTHON  pid %u (%s)%s %s: Python stacks not read: %s\n", when,
				r->pid, pcomm, tag, version, why);
		else
			fprintf(o->f, "%s PYTHON  pid %u (%s)%s %s, layout from %s\n", when, r->pid,
				pcomm, tag, version, why);
		break;
	}
	case LW_RPT_SUMMARY:
		break;
	}
	fflush(o->f);
}

/* ---- The table: rows collected from the tracker, fitted to the screen ---- */

/* Limits on what the table shows of sites, whatever the screen. */
#define TABLE_SITES TEXT_TABLE_SITES
#define TABLE_SITE_FRAMES 6

/* One section's rows as text: the first n of total (the rest could not be
 * shown on any screen this size, so they are only counted). */
struct rows {
	char **v;
	size_t n, cap, total;
};

struct table {
	struct rows procs, sites, spins, threads;
	bool go; /* a Go process is among the rows: goroutine columns */
	bool cgroups; /* a process row names its container, pod or unit: a CGROUP column */
	/* sites.v holds each site's row followed by its frames */
	size_t site_frames[TABLE_SITES];
};

static int rows_add(struct rows *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int rows_add(struct rows *r, const char *fmt, ...)
{
	va_list ap;
	char *line;
	int n;

	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 16;
		char **v = realloc(r->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		r->v = v;
		r->cap = cap;
	}
	va_start(ap, fmt);
	n = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	r->v[r->n++] = line;
	return 0;
}

static void rows_free(struct rows *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		free(r->v[i]);
	free(r->v);
}

static int by_stuck(const void *a, const void *b)
{
	const struct lw_process_view *x = a, *y = b;
	uint64_t sx = (uint64_t)x->stuck + x->goroutines_stuck;
	uint64_t sy = (uint64_t)y->stuck + y->goroutines_stuck;

	if (sx != sy)
		return sx > sy ? -1 : 1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static int by_site_stuck(const void *a, const void *b)
{
	const struct lw_site *x = ((const struct lw_site_view *)a)->site;
	const struct lw_site *y = ((const struct lw_site_view *)b)->site;

	if (x->stuck != y->stuck)
		return x->stuck > y->stuck ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Every item a tracker walk gives, into a growing array: 0 or -ENOMEM. */
#define COLLECT(t, next, type, out, n_out)                                          \
	({                                                                          \
		struct tracker_cursor c_ = { 0 };                                   \
		type v_, *more_;                                                    \
		size_t cap_ = 0;                                                    \
		int err_ = 0;                                                       \
		*(out) = NULL;                                                      \
		*(n_out) = 0;                                                       \
		while (!err_ && next(t, &c_, &v_)) {                                \
			if (*(n_out) == cap_) {                                     \
				cap_ = cap_ ? 2 * cap_ : 16;                        \
				more_ = realloc(*(out), cap_ * sizeof(**(out)));    \
				if (!more_) {                                       \
					err_ = -ENOMEM;                             \
					break;                                      \
				}                                                   \
				*(out) = more_;                                     \
			}                                                           \
			(*(out))[(*(n_out))++] = v_;                                \
		}                                                                   \
		err_;                                                               \
	})

/* The processes shown (watched, or with stuck threads or goroutines), most
 * stuck first; a Go process's goroutine counts beside its thread counts. */
static int collect_procs(struct rows *out, bool *go, bool *cgroups, const struct lw_tracker *t,
			 size_t max)
{
	struct lw_process_view *procs;
	char name[NAME_BUF], tag[TAG_BUF];
	size_t i, n;
	int err;

	err = COLLECT(t, tracker_next_process, struct lw_process_view, &procs, &n);
	if (!err && n)
		qsort(procs, n, sizeof(*procs), by_stuck);
	out->total = n;
	for (i = 0; i < n && i < max; i++) {
		*go |= procs[i].go;
		*cgroups |= cgroup_tag(procs[i].cgroup, tag)[0] != '\0';
	}
	for (i = 0; i < n && i < max && !err; i++) {
		text_clean_name(procs[i].pcomm, name);
		/* the column after the counts, without its brackets */
		cgroup_tag(procs[i].cgroup, tag);
		if (tag[0])
			tag[strlen(tag) - 1] = '\0';
		if (procs[i].go)
			err = rows_add(out, "%8u %-16s %8u %8u %8u %10u %7u %7u%s%s", procs[i].pid,
				       name, procs[i].threads, procs[i].blocked, procs[i].stuck,
				       procs[i].goroutines, procs[i].goroutines_blocked,
				       procs[i].goroutines_stuck, tag[0] ? "  " : "",
				       tag[0] ? tag + 2 : "");
		else
			err = rows_add(out, "%8u %-16s %8u %8u %8u%s%s", procs[i].pid, name,
				       procs[i].threads, procs[i].blocked, procs[i].stuck,
				       tag[0] ? "  " : "", tag[0] ? tag + 2 : "");
	}
	free(procs);
	return err;
}

/* pprof-like: the sites with stuck threads or goroutines, most first, with
 * their stacks; a goroutine site as pprof's debug=1 groups them: "N
 * goroutines @ where". */
static int collect_sites(struct table *tb, const struct lw_tracker *t)
{
	char clean[3 * LW_FRAME_TEXT + 1];
	struct lw_site_view *sites;
	size_t i, j, n;
	int err;

	err = COLLECT(t, tracker_next_site, struct lw_site_view, &sites, &n);
	if (!err && n)
		qsort(sites, n, sizeof(*sites), by_site_stuck);
	tb->sites.total = n < TABLE_SITES ? n : TABLE_SITES;
	for (i = 0; i < tb->sites.total && !err; i++) {
		const struct lw_site *s = sites[i].site;
		char leak[48] = "";

		if (leak_series_leaked(&s->leak))
			snprintf(leak, sizeof(leak), " LEAK %+.1f/min", s->leak.growth_per_min);
		if (s->goroutine) {
			char where[WHERE_BUF];

			clean_text(s->where, sizeof(s->where), where);
			err = rows_add(&tb->sites, "%8u %8u %5s  %u goroutine%s @ %s%s", s->stuck,
				       s->pid, s->name, s->stuck, s->stuck == 1 ? "" : "s", where,
				       leak);
		} else if (s->where[0]) {
			char where[WHERE_BUF];

			clean_text(s->where, sizeof(s->where), where);
			err = rows_add(&tb->sites, "%8u %8u %5s  %-12s @ %s%s", s->stuck, s->pid,
				       s->name, s->kind, where, leak);
		} else {
			err = rows_add(&tb->sites, "%8u %8u %5s  %-12s%s", s->stuck, s->pid,
				       s->name, s->kind, leak);
		}
		for (j = 0; j < (size_t)s->user.n && j < TABLE_SITE_FRAMES && !err; j++) {
			clean_text(s->user.frames[j], LW_FRAME_TEXT, clean);
			err = rows_add(&tb->sites, "%25s#%zu %s%s", "", j, clean,
				       s->user.info[j].inlined ? " (inlined)" : "");
			tb->site_frames[i]++;
		}
	}
	free(sites);
	return err;
}

static int collect_spins(struct rows *out, const struct lw_tracker *t, size_t max)
{
	struct tracker_cursor c = { 0 };
	char name[NAME_BUF], dur[32];
	struct lw_waiter_view w;
	int err = 0;

	while (!err && tracker_next_spinning(t, &c, &w)) {
		if (out->total++ >= max)
			continue;
		text_clean_name(w.comm, name);
		err = rows_add(out, "%8u %8llu %-16s %9s", w.id.pid, (unsigned long long)w.id.id,
			       name, duration_format(w.running_ns, dur, sizeof(dur)));
	}
	return err;
}

/* The stuck threads, longest first: max rows at most, all of them counted.
 * Stuck goroutines are shown by site, not one by one. */
static int collect_threads(struct rows *out, const struct lw_tracker *t, size_t max)
{
	struct lw_tracker_stats stats;
	struct lw_waiter_view *stuck;
	char name[NAME_BUF], dur[32], wait[128];
	size_t i;
	int err = 0;

	tracker_stats(t, &stats);
	if (max > stats.waiters)
		max = stats.waiters;
	stuck = calloc(max + 1, sizeof(*stuck));
	if (!stuck)
		return -ENOMEM;
	out->total = tracker_stuck_waiters_of(t, LW_WAITER_THREAD, stuck, max);
	for (i = 0; i < out->total && i < max && !err; i++) {
		const struct lw_waiter_view *w = &stuck[i];

		char owner[48] = "";

		if (w->lock && w->lock->owner_known)
			snprintf(owner, sizeof(owner), " -> tid %u%s", w->lock->owner_tid,
				 w->deadlocked ? " DEADLOCK" : "");
		text_clean_name(w->comm, name);
		err = rows_add(out, "%8u %8llu %-16s %2c %s%8s  %s%s", w->id.pid,
			       (unsigned long long)w->id.id, name, w->state,
			       w->since_exact ? " " : ">",
			       duration_format(w->blocked_ns, dur, sizeof(dur)),
			       wait_str(w->wait, wait, sizeof(wait)), owner);
	}
	free(stuck);
	return err;
}

/* Everything the table could show, as text; max rows per section. */
static int collect_table(struct table *tb, const struct lw_tracker *t, size_t max)
{
	int err = collect_procs(&tb->procs, &tb->go, &tb->cgroups, t, max);

	if (!err)
		err = collect_sites(tb, t);
	if (!err)
		err = collect_spins(&tb->spins, t, max);
	if (!err)
		err = collect_threads(&tb->threads, t, max);
	return err;
}

static void table_free(struct table *tb)
{
	rows_free(&tb->procs);
	rows_free(&tb->sites);
	rows_free(&tb->spins);
	rows_free(&tb->threads);
}

/* n rows in room lines: all of them, or room - 1 and a "... and N more"
 * line; *more is N.  Returns the rows shown. */
static size_t fit_rows(size_t n, size_t room, size_t *more)
{
	if (n <= room) {
		*more = 0;
		return n;
	}
	*more = room ? n - (room - 1) : n;
	return room ? room - 1 : 0;
}

static size_t sub0(size_t a, size_t b)
{
	return a > b ? a - b : 0;
}

void text_table_fit(unsigned int screen_rows, const struct text_table_counts *c,
		    struct text_table_plan *p)
{
	/* A section's least: a blank line, its column header and one line. */
	const size_t least = 3;
	size_t avail = screen_rows ? screen_rows : SIZE_MAX, room, i, frames = 0;

	memset(p, 0, sizeof(*p));
	/* The title, a blank line, the process header, then the process rows
	 * with room left for the least of each section below. */
	room = sub0(sub0(avail, 3),
		    (c->sites ? least : 0) + (c->spins ? least : 0) + least);
	p->procs = fit_rows(c->procs, room, &p->procs_more);
	avail = sub0(avail, 3 + (c->procs ? p->procs + !!p->procs_more : 1));

	room = sub0(avail, (c->spins ? least : 0) + least);
	if (c->sites && room >= least) {
		p->sites_shown = true;
		p->sites = fit_rows(c->sites, room - 2, &p->sites_more);
		avail -= 2 + p->sites + !!p->sites_more;
		room -= 2 + p->sites + !!p->sites_more;
		for (i = 0; i < p->sites && i < TEXT_TABLE_SITES; i++)
			frames += c->site_frames[i];
		p->frames = frames < room ? frames : room;
		avail -= p->frames;
	}

	room = sub0(avail, least);
	if (c->spins && room >= least) {
		p->spins_shown = true;
		p->spins = fit_rows(c->spins, room - 2, &p->spins_more);
		avail -= 2 + p->spins + !!p->spins_more;
	}

	if (avail >= least) {
		p->threads_shown = true;
		p->threads = fit_rows(c->threads, avail - 2, &p->threads_more);
	}
}

/* The screen: lines cut to its width, no more lines than its height, and
 * no newline after the last (it would scroll the title off the top). */
struct screen {
	FILE *f;
	unsigned int rows, cols;
	unsigned int lines;
};

/* Bytes of s that fill at most cols columns, a code point a column. */
static size_t fit_width(const char *s, unsigned int cols)
{
	size_t i, used = 0;

	for (i = 0; s[i]; i++) {
		if (((unsigned char)s[i] & 0xc0) == 0x80)
			continue; /* a continuation byte: same column */
		if (cols && used == cols)
			break;
		used++;
	}
	return i;
}

static void screen_line(struct screen *sc, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void screen_line(struct screen *sc, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (sc->rows && sc->lines >= sc->rows)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (sc->lines++)
		fputc('\n', sc->f);
	fwrite(buf, 1, fit_width(buf, sc->cols), sc->f);
}

static void screen_rows(struct screen *sc, const struct rows *r, size_t shown, size_t more)
{
	size_t i;

	for (i = 0; i < shown && i < r->n; i++)
		screen_line(sc, "%s", r->v[i]);
	if (more)
		screen_line(sc, "%8s ... and %zu more", "", more);
}

static void print_table(struct text_out *o, const struct table *tb,
			const struct text_table_plan *p, double now_unix)
{
	struct screen sc = { .f = o->f, .rows = o->rows, .cols = o->cols };
	char when[16], thr[32], ivl[32];
	size_t i, j, line = 0, frames = p->frames;

	/* Home the cursor and clear the screen. */
	fputs("\033[H\033[2J", o->f);
	screen_line(&sc, "leakwatch %s   threshold %s   interval %s   (Ctrl-C to stop)",
		    clock_str(now_unix, when, sizeof(when)),
		    duration_format(o->threshold_ns, thr, sizeof(thr)),
		    duration_format(o->interval_ns, ivl, sizeof(ivl)));
	screen_line(&sc, "%s", "");
	if (tb->go)
		screen_line(&sc, "%8s %-16s %8s %8s %8s %10s %7s %7s%s", "PID", "PROCESS", "THREADS",
			    "BLOCKED", "STUCK", "GOROUTINES", "BLOCKED", "STUCK",
			    tb->cgroups ? "  CGROUP" : "");
	else
		screen_line(&sc, "%8s %-16s %8s %8s %8s%s", "PID", "PROCESS", "THREADS", "BLOCKED",
			    "STUCK", tb->cgroups ? "  CGROUP" : "");
	screen_rows(&sc, &tb->procs, p->procs, p->procs_more);
	if (!tb->procs.total)
		screen_line(&sc, "%8s (no process with stuck threads)", "");

	if (p->sites_shown) {
		screen_line(&sc, "%s", "");
		screen_line(&sc, "%8s %8s %5s  %-12s %s", "STUCK", "PID", "SITE", "WAIT", "WHERE");
		for (i = 0; i < p->sites; i++) {
			screen_line(&sc, "%s", tb->sites.v[line]);
			for (j = 0; j < tb->site_frames[i] && frames; j++, frames--)
				screen_line(&sc, "%s", tb->sites.v[line + 1 + j]);
			line += 1 + tb->site_frames[i];
		}
		if (p->sites_more)
			screen_line(&sc, "%8s ... and %zu more", "", p->sites_more);
	}
	if (p->spins_shown) {
		screen_line(&sc, "%s", "");
		screen_line(&sc, "%8s %8s %-16s %9s", "PID", "TID", "SPINNING", "RUNNING");
		screen_rows(&sc, &tb->spins, p->spins, p->spins_more);
	}
	if (p->threads_shown) {
		screen_line(&sc, "%s", "");
		screen_line(&sc, "%8s %8s %-16s %2s %9s  %s", "PID", "TID", "THREAD", "ST",
			    "BLOCKED", "WAIT");
		screen_rows(&sc, &tb->threads, p->threads, p->threads_more);
		if (!tb->threads.total)
			screen_line(&sc, "%8s (no stuck threads)", "");
	}
	o->drawn = sc.lines > 0;
	fflush(o->f);
}

void text_render(struct text_out *o, const struct lw_tracker *t, double now_unix)
{
	struct table tb = {};
	struct text_table_counts counts;
	struct text_table_plan plan;
	size_t i;

	/* No section shows more rows than the screen has. */
	if (collect_table(&tb, t, o->rows ? o->rows : SIZE_MAX))
		goto out;
	counts = (struct text_table_counts){
		.procs = tb.procs.total,
		.sites = tb.sites.total,
		.spins = tb.spins.total,
		.threads = tb.threads.total,
	};
	for (i = 0; i < TEXT_TABLE_SITES; i++)
		counts.site_frames[i] = tb.site_frames[i];
	text_table_fit(o->rows, &counts, &plan);
	print_table(o, &tb, &plan, now_unix);
out:
	table_free(&tb);
}

int text_out_query_size(struct text_out *o)
{
	struct winsize ws;

	if (ioctl(fileno(o->f), TIOCGWINSZ, &ws))
		return -errno;
	/* 0 x 0: a terminal that does not know (a serial line): the classic size */
	o->rows = ws.ws_row ? ws.ws_row : 24;
	o->cols = ws.ws_col ? ws.ws_col : 80;
	return 0;
}

/* Every site reported as a leak; the count is of sites, not of reports (a
 * site is reported again as it grows). */
void text_leak_report(FILE *f, const struct lw_tracker *t, uint64_t threshold_ns)
{
	struct tracker_cursor c = { 0 };
	struct lw_tracker_stats stats;
	struct lw_site_view v;
	char pcomm[NAME_BUF];

	tracker_stats(t, &stats);
	if (stats.leaking_sites || !stats.deadlocks)
		fprintf(f, "leakwatch: %u leak%s found:\n", stats.leaking_sites,
			stats.leaking_sites == 1 ? "" : "s");
	while (tracker_next_leak(t, &c, &v)) {
		struct lw_lock_holder holder;
		struct lw_report r = {
			.type = LW_RPT_LEAK,
			.pid = v.pid,
			.stuck = v.site->leak.leak_count,
			.growth_per_min = v.site->leak.growth_per_min,
			.site = v.site,
			.cgroup = v.cgroup,
			.holder = tracker_site_holder(t, &v, &holder) ? &holder : NULL,
		};

		text_clean_name(v.pcomm, pcomm);
		print_leak(f, "", pcomm, &r, threshold_ns);
	}
	if (stats.deadlocks) {
		struct lw_deadlock_view d;

		fprintf(f, "leakwatch: %u deadlock%s found:\n", stats.deadlocks,
			stats.deadlocks == 1 ? "" : "s");
		c = (struct tracker_cursor){ 0 };
		while (tracker_next_deadlock(t, &c, &d)) {
			text_clean_name(d.pcomm, pcomm);
			print_deadlock(f, "", pcomm, d.pid, d.cgroup, d.members, d.n_shown, d.n, true);
		}
	}
}

/* The frame that says where: the first outside the C library, else the first. */
static const char *where(const struct lw_stack_text *st)
{
	int i;

	if (!st || !st->n)
		return "?";
	for (i = 0; i < st->n; i++)
		if (st->info[i].func[0] && !site_native_runtime_module(st->info[i].module))
			return st->frames[i];
	for (i = 0; i < st->n; i++)
		if (!strstr(st->frames[i], "(libc.so") && !strstr(st->frames[i], "(ld-linux"))
			return st->frames[i];
	return st->frames[0];
}

static const char *site_where(const struct lw_site *s, char *buf)
{
	if (s->where[0])
		clean_text(s->where, sizeof(s->where), buf);
	else
		clean_text(where(&s->user), LW_FRAME_TEXT, buf);
	return buf;
}

void text_log_line(FILE *f, const struct lw_report *r)
{
	char pcomm[NAME_BUF], frame[WHERE_BUF], tag[TAG_BUF];

	text_clean_name(r->pcomm ? r->pcomm : "", pcomm);
	cgroup_tag(r->cgroup, tag);
	if (r->type == LW_RPT_LEAK && r->site && r->site->goroutine) {
		char at[WHERE_BUF];

		clean_text(r->site->where, sizeof(r->site->where), at);
		fprintf(f, "leakwatch: LEAK pid %u (%s)%s: %u goroutines @ %s (site %s), %+.1f/min\n",
			r->pid, pcomm, tag, r->stuck, at, r->site->name, r->growth_per_min);
	} else if (r->type == LW_RPT_LEAK && r->site) {
		if (r->site->where[0])
			clean_text(r->site->where, sizeof(r->site->where), frame);
		else
			clean_text(where(&r->site->user), LW_FRAME_TEXT, frame);
		fprintf(f, "leakwatch: LEAK pid %u (%s)%s: %u threads stuck in %s at site %s, "
			   "%+.1f/min, at %s", r->pid, pcomm, tag, r->stuck, r->site->kind,
			r->site->name, r->growth_per_min, frame);
		if (r->holder)
			fprintf(f, "; %u wait for tid %u", r->holder->waiters, r->holder->tid);
		fputc('\n', f);
	} else if (r->type == LW_RPT_DEADLOCK) {
		uint32_t all = r->cycle_threads > r->n_cycle ? r->cycle_threads : r->n_cycle;

		fprintf(f, "leakwatch: DEADLOCK pid %u (%s): %u threads:", r->pid, pcomm, all);
		for (uint32_t i = 0; i < r->n_cycle; i++)
			fprintf(f, " %u%s", r->cycle[i].tid,
				i + 1 < r->n_cycle ? " ->" : "");
		if (all > r->n_cycle)
			fprintf(f, " -> ... %u more", all - r->n_cycle);
		if (r->n_cycle)
			fprintf(f, " -> %u", r->cycle[0].tid);
		fputc('\n', f);
	} else if (r->type == LW_RPT_SPIN) {
		clean_text(where(r->stack), LW_FRAME_TEXT, frame);
		fprintf(f, "leakwatch: SPIN pid %u (%s)%s tid %u ran %.1fs without blocking, at %s",
			r->pid, pcomm, tag, r->tid, r->running_s, frame);
		if (r->goid)
			fprintf(f, ", goroutine %llu", (unsigned long long)r->goid);
		fputc('\n', f);
	}
	fflush(f);
}

// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "duration.h"
#include "text_out.h"
#include "utf8.h"

#define NAME_BUF (3 * LW_COMM_LEN + 1)

struct counts {
	uint32_t threads, blocked, stuck;
};

void text_out_init(struct text_out *o, FILE *f, bool table, uint64_t threshold_ns,
		   uint64_t interval_ns)
{
	memset(o, 0, sizeof(*o));
	o->f = f;
	o->table = table;
	o->max_rows = 40;
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
	} else if (c->threads == r->threads && c->blocked == r->blocked && c->stuck == r->stuck) {
		return false;
	}
	c->threads = r->threads;
	c->blocked = r->blocked;
	c->stuck = r->stuck;
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
		fprintf(f, "%9s#%-2d %s\n", "", i, clean);
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

static void print_leak(FILE *f, const char *when, const char *pcomm, const struct lw_report *r,
		       uint64_t threshold_ns)
{
	const struct lw_site *s = r->site;
	char thr[32];

	char span[32];

	if (s && !strcmp(s->kind, "threads")) {
		/* The thread count itself: no site, no stack. */
		fprintf(f, "%s LEAK    pid %u (%s): %u threads and growing, at no single site, "
			   "%+.1f/min over the last %s\n", when, r->pid, pcomm,
			r->threads ? r->threads : r->stuck, r->growth_per_min,
			duration_format((uint64_t)(s->leak.window_s * 1e9), span, sizeof(span)));
		return;
	}
	fprintf(f, "%s LEAK    pid %u (%s): %u threads stuck in %s for >%s at site %s, "
		   "%+.1f/min over the last %s\n",
		when, r->pid, pcomm, r->stuck, s ? s->kind : "?",
		duration_format(threshold_ns, thr, sizeof(thr)), s ? s->name : "?",
		r->growth_per_min,
		duration_format(s ? (uint64_t)(s->leak.window_s * 1e9) : 0, span, sizeof(span)));
	if (s) {
		print_stack(f, &s->user);
		print_kstack(f, &s->kernel);
	}
}

void text_emit(void *ctx, const struct lw_report *r)
{
	struct text_out *o = ctx;
	char when[16], comm[NAME_BUF], pcomm[NAME_BUF], dur[32], wait[128];

	if (r->type == LW_RPT_SUMMARY) {
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
	switch (r->type) {
	case LW_RPT_STUCK:
		fprintf(o->f, "%s STUCK   pid %u (%s) tid %u (%s) %c blocked %s%s in %s", when,
			r->pid, pcomm, r->tid, comm, r->state == 'D' ? 'D' : 'S',
			r->since_exact ? "" : ">=",
			duration_format((uint64_t)(r->blocked_s * 1e9), dur, sizeof(dur)),
			wait_str(r->wait, wait, sizeof(wait)));
		if (r->site)
			fprintf(o->f, " at site %s", r->site->name);
		fputc('\n', o->f);
		break;
	case LW_RPT_LEAK:
		print_leak(o->f, when, pcomm, r, o->threshold_ns);
		break;
	case LW_RPT_SPIN:
		fprintf(o->f, "%s SPIN    pid %u (%s) tid %u (%s) ran %s without blocking\n", when,
			r->pid, pcomm, r->tid, comm,
			duration_format((uint64_t)(r->running_s * 1e9), dur, sizeof(dur)));
		print_stack(o->f, r->stack);
		break;
	case LW_RPT_SITE:
	case LW_RPT_UNSTUCK:
		fprintf(o->f, "%s UNSTUCK pid %u (%s) tid %u (%s) ran again after %s%s\n", when,
			r->pid, pcomm, r->tid, comm, r->end_exact ? "" : "~",
			duration_format((uint64_t)(r->blocked_s * 1e9), dur, sizeof(dur)));
		break;
	case LW_RPT_SAMPLE:
		fprintf(o->f, "%s SAMPLE  pid %u (%s) threads %u blocked %u stuck %u\n", when,
			r->pid, pcomm, r->threads, r->blocked, r->stuck);
		break;
	case LW_RPT_EXIT:
		fprintf(o->f, "%s EXIT    pid %u (%s)\n", when, r->pid, pcomm);
		break;
	case LW_RPT_SUMMARY:
		break;
	}
	fflush(o->f);
}

static int by_stuck(const void *a, const void *b)
{
	const struct lw_process_view *x = a, *y = b;

	if (x->stuck != y->stuck)
		return x->stuck > y->stuck ? -1 : 1;
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

/* Every item a tracker walk gives, into a growing array; NULL out of memory. */
#define COLLECT(t, next, type, n_out)                                               \
	({                                                                          \
		struct tracker_cursor c_ = { 0 };                                   \
		type v_, *all_ = NULL, *more_;                                      \
		size_t cap_ = 0;                                                    \
		bool ok_ = true;                                                    \
		*(n_out) = 0;                                                       \
		while (ok_ && next(t, &c_, &v_)) {                                  \
			if (*(n_out) == cap_) {                                     \
				cap_ = cap_ ? 2 * cap_ : 16;                        \
				more_ = realloc(all_, cap_ * sizeof(*all_));        \
				ok_ = more_ != NULL;                                \
				if (!ok_)                                           \
					break;                                      \
				all_ = more_;                                       \
			}                                                           \
			all_[(*(n_out))++] = v_;                                    \
		}                                                                   \
		if (!ok_) {                                                         \
			free(all_);                                                 \
			all_ = NULL;                                                \
		}                                                                   \
		all_;                                                               \
	})

/* pprof-like: the sites with stuck threads, most first, with their stacks. */
static void render_sites(struct text_out *o, const struct lw_tracker *t)
{
	char clean[3 * LW_FRAME_TEXT + 1];
	struct lw_site_view *sites;
	size_t i, j, n;

	sites = COLLECT(t, tracker_next_site, struct lw_site_view, &n);
	if (!sites)
		return;
	qsort(sites, n, sizeof(*sites), by_site_stuck);
	if (n)
		fprintf(o->f, "\n%8s %8s %5s  %-12s %s\n", "STUCK", "PID", "SITE", "WAIT", "WHERE");
	for (i = 0; i < n && i < 10; i++) {
		const struct lw_site *s = sites[i].site;

		fprintf(o->f, "%8u %8u %5s  %-12s", s->stuck, s->pid, s->name, s->kind);
		if (leak_series_leaked(&s->leak))
			fprintf(o->f, " LEAK %+.1f/min", s->leak.growth_per_min);
		fputc('\n', o->f);
		for (j = 0; j < (size_t)s->user.n && j < 6; j++) {
			clean_text(s->user.frames[j], LW_FRAME_TEXT, clean);
			fprintf(o->f, "%25s#%zu %s\n", "", j, clean);
		}
	}
	free(sites);
}

static void render_spins(struct text_out *o, const struct lw_tracker *t)
{
	struct tracker_cursor c = { 0 };
	char name[NAME_BUF], dur[32];
	struct lw_waiter_view w;
	bool header = false;

	while (tracker_next_spinning(t, &c, &w)) {
		if (!header)
			fprintf(o->f, "\n%8s %8s %-16s %9s\n", "PID", "TID", "SPINNING", "RUNNING");
		header = true;
		text_clean_name(w.comm, name);
		fprintf(o->f, "%8u %8llu %-16s %9s\n", w.id.pid, (unsigned long long)w.id.id, name,
			duration_format(w.running_ns, dur, sizeof(dur)));
	}
}

void text_render(struct text_out *o, const struct lw_tracker *t, double now_unix)
{
	struct lw_waiter_view *stuck;
	struct lw_process_view *procs;
	char when[16], name[NAME_BUF], dur[32], thr[32], wait[128];
	size_t n_stuck, n_procs = 0, i;

	stuck = calloc(o->max_rows + 1, sizeof(*stuck));
	procs = COLLECT(t, tracker_next_process, struct lw_process_view, &n_procs);
	if (!stuck || (n_procs && !procs))
		goto out;
	if (procs)
		qsort(procs, n_procs, sizeof(*procs), by_stuck);
	n_stuck = tracker_stuck_waiters(t, stuck, o->max_rows);

	/* Home the cursor and clear the screen. */
	fputs("\033[H\033[2J", o->f);
	fprintf(o->f, "leakwatch %s   threshold %s   interval %s   (Ctrl-C to stop)\n\n",
		clock_str(now_unix, when, sizeof(when)),
		duration_format(o->threshold_ns, thr, sizeof(thr)),
		duration_format(o->interval_ns, dur, sizeof(dur)));
	fprintf(o->f, "%8s %-16s %8s %8s %8s\n", "PID", "PROCESS", "THREADS", "BLOCKED", "STUCK");
	for (i = 0; i < n_procs && i < o->max_rows; i++) {
		text_clean_name(procs[i].pcomm, name);
		fprintf(o->f, "%8u %-16s %8u %8u %8u\n", procs[i].pid, name, procs[i].threads,
			procs[i].blocked, procs[i].stuck);
	}
	if (!n_procs)
		fprintf(o->f, "%8s (no process with stuck threads)\n", "");

	render_sites(o, t);
	render_spins(o, t);

	fprintf(o->f, "\n%8s %8s %-16s %2s %9s  %s\n", "PID", "TID", "THREAD", "ST", "BLOCKED",
		"WAIT");
	for (i = 0; i < n_stuck && i < o->max_rows; i++) {
		const struct lw_waiter_view *w = &stuck[i];

		text_clean_name(w->comm, name);
		fprintf(o->f, "%8u %8llu %-16s %2c %s%8s  %s\n", w->id.pid,
			(unsigned long long)w->id.id, name, w->state, w->since_exact ? " " : ">",
			duration_format(w->blocked_ns, dur, sizeof(dur)),
			wait_str(w->wait, wait, sizeof(wait)));
	}
	if (n_stuck > o->max_rows)
		fprintf(o->f, "%8s ... and %zu more\n", "", n_stuck - o->max_rows);
	if (!n_stuck)
		fprintf(o->f, "%8s (no stuck threads)\n", "");
	fflush(o->f);
out:
	free(stuck);
	free(procs);
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
	fprintf(f, "leakwatch: %u leak%s found:\n", stats.leaking_sites,
		stats.leaking_sites == 1 ? "" : "s");
	while (tracker_next_leak(t, &c, &v)) {
		struct lw_report r = {
			.type = LW_RPT_LEAK,
			.pid = v.pid,
			.stuck = v.site->leak.leak_count,
			.growth_per_min = v.site->leak.growth_per_min,
			.site = v.site,
		};

		text_clean_name(v.pcomm, pcomm);
		print_leak(f, "", pcomm, &r, threshold_ns);
	}
}

/* The frame that says where: the first outside the C library, else the first. */
static const char *where(const struct lw_stack_text *st)
{
	int i;

	if (!st || !st->n)
		return "?";
	for (i = 0; i < st->n; i++)
		if (!strstr(st->frames[i], "(libc.so") && !strstr(st->frames[i], "(ld-linux"))
			return st->frames[i];
	return st->frames[0];
}

void text_log_line(FILE *f, const struct lw_report *r)
{
	char pcomm[NAME_BUF], frame[3 * LW_FRAME_TEXT + 1];

	text_clean_name(r->pcomm ? r->pcomm : "", pcomm);
	if (r->type == LW_RPT_LEAK && r->site) {
		clean_text(where(&r->site->user), LW_FRAME_TEXT, frame);
		fprintf(f, "leakwatch: LEAK pid %u (%s): %u threads stuck in %s at site %s, "
			   "%+.1f/min, at %s\n", r->pid, pcomm, r->stuck, r->site->kind,
			r->site->name, r->growth_per_min, frame);
	} else if (r->type == LW_RPT_SPIN) {
		clean_text(where(r->stack), LW_FRAME_TEXT, frame);
		fprintf(f, "leakwatch: SPIN pid %u (%s) tid %u ran %.1fs without blocking, at %s\n",
			r->pid, pcomm, r->tid, r->running_s, frame);
	}
	fflush(f);
}

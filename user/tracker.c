// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "tracker.h"

/* The trend test says growing this many times in a row before a leak is
 * reported: it runs on overlapping windows, so one verdict alone would
 * raise false alarms on noise (trend.c's tests measure it). */
#define LEAK_STREAK 3
/* A leak is reported again once its pile is this much bigger. */
#define LEAK_REPORT_AGAIN_RATIO 1.5
#define LEAK_REPORT_AGAIN_MIN 3

static void copy_comm(char dst[LW_COMM_LEN + 1], const char src[LW_COMM_LEN])
{
	memcpy(dst, src, LW_COMM_LEN);
	dst[LW_COMM_LEN] = '\0';
}

static double seconds(uint64_t ns)
{
	return (double)ns / 1e9;
}

static void emit(struct lw_tracker *t, const struct lw_report *r)
{
	if (t->opts.sink.emit)
		t->opts.sink.emit(t->opts.sink.ctx, r);
}

int tracker_new(const struct lw_tracker_opts *opts, struct lw_tracker **out)
{
	static const struct trend_opts trend_defaults = TREND_OPTS_DEFAULT;
	struct lw_tracker *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->opts = *opts;
	if (!t->opts.trend.window)
		t->opts.trend = trend_defaults;
	if (trend_scratch_new(t->opts.trend.window, &t->trend_scratch)) {
		free(t);
		return -ENOMEM;
	}
	id_map_init(&t->threads);
	id_map_init(&t->processes);
	*out = t;
	return 0;
}

static void process_free(struct lw_tracker *t, struct lw_process *p)
{
	if (!p)
		return;
	if (t->opts.stacks.forget)
		t->opts.stacks.forget(t->opts.stacks.ctx, p->pid);
	site_table_free(&p->sites);
	trend_free(p->threads_trend);
	free(p);
}

void tracker_free(struct lw_tracker *t)
{
	uint32_t key;
	void *value;
	size_t i = 0;

	if (!t)
		return;
	while (id_map_next(&t->threads, &i, &key, &value))
		free(value);
	id_map_free(&t->threads);
	i = 0;
	while (id_map_next(&t->processes, &i, &key, &value))
		process_free(t, value);
	id_map_free(&t->processes);
	trend_scratch_free(t->trend_scratch);
	free(t);
}

static struct lw_process *get_process(struct lw_tracker *t, uint32_t pid, bool create)
{
	struct lw_process *p = id_map_get(&t->processes, pid);

	if (p || !create)
		return p;
	if (t->processes.len >= LW_MAX_PROCESSES) {
		t->processes_untracked++;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p || trend_new_shared(&t->opts.trend, t->trend_scratch, &p->threads_trend) ||
	    id_map_put(&t->processes, pid, p)) {
		if (p)
			trend_free(p->threads_trend);
		free(p);
		t->insert_failures++;
		return NULL;
	}
	p->pid = pid;
	return p;
}

/* root: given from outside (-p, the command), counted for "all targets
 * gone" and kept after its exit; else a child, forgotten once it exited. */
static int add_target(struct lw_tracker *t, uint32_t pid, bool root)
{
	struct lw_process *p = get_process(t, pid, true);

	if (!p)
		return -ENOMEM;
	if (!p->target) {
		p->target = true;
		p->reported = true;
	}
	if (root && !p->root) {
		p->root = true;
		t->n_targets++;
	}
	return 0;
}

int tracker_add_target(struct lw_tracker *t, uint32_t pid)
{
	return add_target(t, pid, true);
}

bool tracker_targets_gone(const struct lw_tracker *t)
{
	return !t->opts.host_wide && t->n_targets && t->n_targets_exited == t->n_targets;
}

void tracker_drops(const struct lw_tracker *t, struct lw_drops *d)
{
	d->tracker = t->insert_failures;
	d->unstuck_inexact = t->unstuck_inexact;
	d->stacks_unreadable = t->stacks_unreadable;
	d->kstacks_unreadable = t->kstacks_unreadable;
	d->sites_untracked = t->sites_untracked;
	d->processes_untracked = t->processes_untracked;
	d->threads_untracked = t->threads_untracked;
}

static void report_unstuck(struct lw_tracker *t, struct lw_thread *th, uint64_t end_ns,
			   bool exact)
{
	struct lw_report r = {
		.type = LW_RPT_UNSTUCK,
		.ts = clock_to_unix(&t->opts.clock, end_ns),
		.pid = th->pid,
		.tid = th->tid,
		.comm = th->comm,
		.state = th->state,
		.blocked_s = seconds(end_ns > th->since_ns ? end_ns - th->since_ns : 0),
		.since_exact = th->since_exact,
		.end_exact = exact,
		.wait = &th->wait,
		.site = th->site,
	};
	struct lw_process *p = get_process(t, th->pid, false);

	r.pcomm = p ? p->pcomm : "";
	if (!exact)
		t->unstuck_inexact++;
	emit(t, &r);
	th->stuck = false;
	th->end_pending = false;
	th->site = NULL;
}

static void report_exit(struct lw_tracker *t, struct lw_process *p, uint64_t ts_ns)
{
	struct lw_report r = {
		.type = LW_RPT_EXIT,
		.ts = clock_to_unix(&t->opts.clock, ts_ns),
		.pid = p->pid,
		.pcomm = p->pcomm,
	};

	if (p->exited)
		return;
	p->exited = true;
	if (p->root)
		t->n_targets_exited++;
	if (p->reported)
		emit(t, &r);
}

void tracker_scan_begin(struct lw_tracker *t)
{
	struct lw_thread *th;
	uint32_t tid;
	size_t i = 0;

	t->gen++;
	/* A wait a scan saw end, whose record did not come before this scan:
	 * lost (counted by the kernel side) or never sent.  Report it with the
	 * last time it was seen blocked. */
	while (id_map_next(&t->threads, &i, &tid, (void **)&th))
		if (th->end_pending)
			report_unstuck(t, th, th->seen_ns, false);
}

static struct lw_thread *new_thread(struct lw_tracker *t, const struct lw_task_rec *r)
{
	struct lw_thread *th;

	if (t->threads.len >= LW_MAX_THREADS) {
		t->threads_untracked++;
		return NULL;
	}
	th = calloc(1, sizeof(*th));
	if (!th || id_map_put(&t->threads, r->tid, th)) {
		free(th);
		t->insert_failures++;
		return NULL;
	}
	th->tid = r->tid;
	th->pid = r->pid;
	return th;
}

static void symbolize_user(struct lw_tracker *t, uint32_t pid, const uint64_t *pcs, int n,
			   struct lw_stack_text *out)
{
	int i;

	out->n = 0;
	if (!t->opts.stacks.symbolize_user)
		return;
	for (i = 0; i < n && i < LW_STACK_MAX; i++)
		t->opts.stacks.symbolize_user(t->opts.stacks.ctx, pid, pcs[i], i == 0,
					      out->frames[i], LW_FRAME_TEXT);
	out->n = i;
}

/* The user pcs of the thread of r: n >= 0 (0 when unreadable, counted). */
static int unwind(struct lw_tracker *t, const struct lw_task_rec *r, uint64_t *pcs)
{
	int n;

	if (!t->opts.stacks.unwind || (r->flags & LW_TF_KTHREAD))
		return 0;
	n = t->opts.stacks.unwind(t->opts.stacks.ctx, r, pcs, LW_STACK_MAX);
	if (n > 0)
		return n;
	/* Counted, and shown as the one frame known: where it stopped. */
	t->stacks_unreadable++;
	pcs[0] = r->regs[LW_REG_IP];
	return pcs[0] ? 1 : 0;
}

/* Where the thread of r waits: its site, found or made (and reported). */
static struct lw_site *find_site(struct lw_tracker *t, struct lw_process *p,
				 const struct lw_thread *th, const struct lw_task_rec *r,
				 const struct lw_kstack_rec *k)
{
	uint64_t user[LW_STACK_MAX], kernel[LW_STACK_MAX] = { 0 };
	int n_user = unwind(t, r, user), n_kernel = 0, i, err;
	struct lw_site *s;
	uint64_t key;

	if (k && k->nr > 0)
		n_kernel = k->nr < LW_KSTACK_MAX ? k->nr : LW_KSTACK_MAX;
	else if (t->opts.stacks.unwind)
		t->kstacks_unreadable++;
	for (i = 0; i < n_kernel; i++)
		kernel[i] = k->ips[i];

	key = site_key(&th->wait, user, n_user, kernel, n_kernel);
	s = site_find(&p->sites, key);
	if (s)
		return s;
	err = site_add(&p->sites, t->last_site_id + 1, p->pid, key, &th->wait, user, n_user,
		       kernel, n_kernel, &t->opts.trend, t->trend_scratch, &s);
	if (err) {
		if (err == -ENOSPC)
			t->sites_untracked++;
		else
			t->insert_failures++;
		return NULL;
	}
	t->last_site_id++;
	symbolize_user(t, p->pid, s->user_pcs, s->n_user, &s->user);
	if (t->opts.stacks.symbolize_kernel) {
		for (i = 0; i < s->n_kernel; i++)
			t->opts.stacks.symbolize_kernel(t->opts.stacks.ctx, s->kernel_pcs[i],
							s->kernel.frames[i], LW_FRAME_TEXT);
		s->kernel.n = s->n_kernel;
	}
	emit(t, &(struct lw_report){
			.type = LW_RPT_SITE,
			.ts = clock_to_unix(&t->opts.clock, r->now_ns),
			.pid = p->pid,
			.pcomm = p->pcomm,
			.site = s,
		});
	return s;
}

static void report_stuck(struct lw_tracker *t, struct lw_thread *th, struct lw_process *p,
			 const struct lw_task_rec *r, const struct lw_kstack_rec *k)
{
	wait_decode(r, &t->opts.restart_fns, t->opts.read_first_waiter, &th->wait);
	th->site = p ? find_site(t, p, th, r, k) : NULL;
	th->stuck = true;
	emit(t, &(struct lw_report){
			.type = LW_RPT_STUCK,
			.ts = clock_to_unix(&t->opts.clock, r->now_ns),
			.pid = th->pid,
			.tid = th->tid,
			.comm = th->comm,
			.pcomm = p ? p->pcomm : "",
			.state = th->state,
			.blocked_s = seconds(r->now_ns - th->since_ns),
			.since_exact = th->since_exact,
			.wait = &th->wait,
			.site = th->site,
		});
}

/*
 * A spin: runnable at every scan for longer than the threshold, with no
 * voluntary switch (nvcsw counts them) in between: it never blocked.
 */
static void check_spin(struct lw_tracker *t, struct lw_thread *th, struct lw_process *p,
		       const struct lw_task_rec *r)
{
	uint64_t pcs[LW_STACK_MAX];
	struct lw_stack_text *stack;
	int n;

	if (!th->run_since_ns || th->nvcsw != r->nvcsw) {
		th->run_since_ns = r->now_ns;
		th->nvcsw = r->nvcsw;
		th->spin_reported = false;
		return;
	}
	if (th->spin_reported || r->now_ns - th->run_since_ns < t->opts.threshold_ns)
		return;
	th->spin_reported = true;
	t->spins++;
	stack = calloc(1, sizeof(*stack));
	if (!stack) {
		t->insert_failures++;
		return;
	}
	n = unwind(t, r, pcs);
	symbolize_user(t, r->pid, pcs, n, stack);
	emit(t, &(struct lw_report){
			.type = LW_RPT_SPIN,
			.ts = clock_to_unix(&t->opts.clock, r->now_ns),
			.pid = th->pid,
			.tid = th->tid,
			.comm = th->comm,
			.pcomm = p ? p->pcomm : "",
			.running_s = seconds(r->now_ns - th->run_since_ns),
			.stack = stack,
		});
	free(stack);
}

void tracker_scan_task(struct lw_tracker *t, const struct lw_task_rec *r,
		       const struct lw_kstack_rec *kstack)
{
	bool blocked = r->flags & LW_TF_BLOCKED;
	struct lw_process *p = get_process(t, r->pid, true);
	struct lw_thread *th = id_map_get(&t->threads, r->tid);
	bool stuck;

	t->now_ns = r->now_ns;
	if (p && p->exited)
		return; /* its last threads, seen after the exit record */
	if (p) {
		if (p->gen != t->gen) {
			p->gen = t->gen;
			p->threads = p->blocked = p->stuck = 0;
		}
		copy_comm(p->pcomm, r->pcomm);
		p->threads++;
	}
	if (!blocked) {
		if (th) {
			/* The wait ended; its record (exact end) should follow
			 * before the next scan. */
			th->gen = t->gen;
			if (th->stuck)
				th->end_pending = true;
		}
		if (!(r->flags & LW_TF_RUNNABLE) || (r->flags & LW_TF_KTHREAD)) {
			if (th)
				th->run_since_ns = 0;
			return;
		}
		if (!th && !(th = new_thread(t, r)))
			return;
		th->gen = t->gen;
		copy_comm(th->comm, r->comm);
		check_spin(t, th, p, r);
		return;
	}

	if (!th && !(th = new_thread(t, r)))
		return;
	th->gen = t->gen;
	th->run_since_ns = 0;
	copy_comm(th->comm, r->comm);
	if (th->since_ns != r->blocked_since_ns) {
		/* A new wait.  If the last one was reported stuck and its end
		 * was not seen, it ended now at the latest. */
		if (th->stuck)
			report_unstuck(t, th, th->seen_ns, false);
		th->since_ns = r->blocked_since_ns;
		th->since_exact = !(r->flags & LW_TF_SINCE_INEXACT);
		th->stuck = false;
		th->end_pending = false;
	}
	th->seen_ns = r->now_ns;
	th->state = (r->flags & LW_TF_UNINTERRUPTIBLE) ? 'D' : 'S';
	if (p)
		p->blocked++;

	stuck = r->now_ns >= th->since_ns && r->now_ns - th->since_ns >= t->opts.threshold_ns;
	if (!stuck)
		return;
	if (p) {
		p->stuck++;
		p->reported = true;
	}
	if (!th->stuck)
		report_stuck(t, th, p, r, kstack);
}

static void report_leak(struct lw_tracker *t, struct lw_process *p, struct lw_site *s)
{
	s->leak_stuck = s->stuck;
	t->leaks++;
	emit(t, &(struct lw_report){
			.type = LW_RPT_LEAK,
			.ts = clock_to_unix(&t->opts.clock, t->now_ns),
			.pid = p->pid,
			.pcomm = p->pcomm,
			.site = s,
			.stuck = s->stuck,
			.threads = p->threads,
			.growth_per_min = s->growth_per_min,
		});
}

/*
 * One sample per site per scan, then the trend test (trend.c).  A leak is
 * reported when a site starts growing, and again when it has grown markedly
 * since.
 */
static void check_sites(struct lw_tracker *t, struct lw_process *p, uint64_t interval_ns)
{
	struct trend_result tr;
	size_t i;

	trend_add(p->threads_trend, p->threads);
	for (i = 0; i < p->sites.n; i++) {
		struct lw_site *s = p->sites.sites[i];

		/* A window of equal samples is flat: skip the O(n^2) test,
		 * which is most of the daemon's work on a quiet host. */
		s->unchanged = s->stuck == s->last_stuck ? s->unchanged + 1 : 0;
		s->last_stuck = s->stuck;
		trend_add(s->trend, s->stuck);
		if (s->unchanged >= t->opts.trend.window) {
			s->growing_streak = 0;
			s->growth_per_min = 0;
			continue;
		}
		trend_eval(s->trend, &tr);
		s->growth_per_min = interval_ns ? tr.slope_per_sample * 60e9 / interval_ns : 0;
		s->window_s = (double)tr.n * (double)interval_ns / 1e9;
		s->growing_streak = tr.growing ? s->growing_streak + 1 : 0;
		if (s->growing_streak < LEAK_STREAK)
			continue;
		if (!s->leak_stuck ||
		    (s->stuck >= s->leak_stuck * LEAK_REPORT_AGAIN_RATIO &&
		     s->stuck >= s->leak_stuck + LEAK_REPORT_AGAIN_MIN))
			report_leak(t, p, s);
	}
}

/* Keys to delete once an id_map walk is over (the walk must not change it). */
struct key_list {
	uint32_t *keys;
	size_t n, cap;
};

/* Out of memory, the key is not kept: its entry goes at a later scan. */
static void key_list_push(struct key_list *l, uint32_t key)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		uint32_t *keys = realloc(l->keys, cap * sizeof(*keys));

		if (!keys)
			return;
		l->keys = keys;
		l->cap = cap;
	}
	l->keys[l->n++] = key;
}

/* Threads the scan did not see have exited; count the stuck per site of the
 * rest. */
static void sweep_threads(struct lw_tracker *t)
{
	struct key_list gone = {};
	uint32_t key;
	size_t i = 0;
	struct lw_process *p;
	struct lw_thread *th;
	void *value;

	while (id_map_next(&t->processes, &i, &key, &value)) {
		p = value;
		for (size_t j = 0; j < p->sites.n; j++)
			p->sites.sites[j]->stuck = 0;
	}
	i = 0;
	while (id_map_next(&t->threads, &i, &key, &value)) {
		th = value;
		if (th->gen == t->gen) {
			if (th->stuck && !th->end_pending && th->site)
				th->site->stuck++;
			continue;
		}
		key_list_push(&gone, key);
	}
	for (i = 0; i < gone.n; i++)
		free(id_map_del(&t->threads, gone.keys[i]));
	free(gone.keys);
}

void tracker_scan_end(struct lw_tracker *t)
{
	struct key_list gone = {};
	uint32_t key;
	size_t i;
	uint64_t interval_ns = t->last_scan_ns ? t->now_ns - t->last_scan_ns : 0;
	struct lw_process *p;
	void *value;

	sweep_threads(t);
	/* Processes: a sample each, or an exit when the scan no longer sees them. */
	i = 0;
	while (id_map_next(&t->processes, &i, &key, &value)) {
		p = value;
		if (p->gen != t->gen || p->exited) {
			/* A target not seen even once is gone too. */
			if (!p->exited && (p->gen || p->target))
				report_exit(t, p, t->now_ns);
			/* Exited roots stay, counted in n_targets_exited;
			 * exited children go (a new one may get the pid). */
			if (p->root)
				continue;
			key_list_push(&gone, key);
			continue;
		}
		check_sites(t, p, interval_ns);
		if (p->target || p->stuck) {
			p->reported = true;
			emit(t, &(struct lw_report){
					.type = LW_RPT_SAMPLE,
					.ts = clock_to_unix(&t->opts.clock, t->now_ns),
					.pid = p->pid,
					.pcomm = p->pcomm,
					.threads = p->threads,
					.blocked = p->blocked,
					.stuck = p->stuck,
				});
		}
	}
	for (i = 0; i < gone.n; i++)
		process_free(t, id_map_del(&t->processes, gone.keys[i]));
	free(gone.keys);
	t->last_scan_ns = t->now_ns;
}

void tracker_event(struct lw_tracker *t, const struct lw_event *e)
{
	struct lw_thread *th;
	struct lw_process *p;

	switch (e->type) {
	case LW_REC_WAIT_END:
		th = id_map_get(&t->threads, e->tid);
		if (th && th->stuck && th->since_ns == e->blocked_since_ns)
			report_unstuck(t, th, e->ts_ns, true);
		break;
	case LW_REC_THREAD_NEW:
		/* With -- COMMAND the kernel adds children to the targets. */
		if ((e->flags & LW_EF_NEW_PROCESS) && !t->opts.host_wide) {
			p = get_process(t, e->ppid, false);
			if (p && p->target)
				add_target(t, e->pid, false);
		}
		break;
	case LW_REC_THREAD_EXIT:
		free(id_map_del(&t->threads, e->tid));
		/* The process itself goes at the next scan's end: its sites may
		 * still be named by threads in the table until then. */
		if (e->flags & LW_EF_GROUP_DEAD) {
			p = get_process(t, e->pid, false);
			/* Never scanned (a short command): its last thread's
			 * name is the best there is, and after the exec. */
			if (p && !p->pcomm[0])
				copy_comm(p->pcomm, e->comm);
			if (p)
				report_exit(t, p, e->ts_ns);
		}
		break;
	}
}

static int by_since(const void *a, const void *b)
{
	const struct lw_thread *x = *(const struct lw_thread *const *)a;
	const struct lw_thread *y = *(const struct lw_thread *const *)b;

	if (x->since_ns != y->since_ns)
		return x->since_ns < y->since_ns ? -1 : 1;
	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

size_t tracker_stuck_threads(const struct lw_tracker *t, const struct lw_thread **out,
			     size_t max)
{
	size_t i = 0, n = 0, j;
	bool full = false;
	uint32_t tid;
	void *value;

	while (max && id_map_next(&t->threads, &i, &tid, &value)) {
		const struct lw_thread *th = value;

		if (!th->stuck || th->end_pending || th->gen != t->gen)
			continue;
		if (n < max) {
			out[n++] = th;
			continue;
		}
		/* out is full: keep the max longest, in order. */
		if (!full) {
			qsort(out, n, sizeof(*out), by_since);
			full = true;
		}
		if (by_since(&th, &out[max - 1]) >= 0)
			continue;
		for (j = max - 1; j > 0 && by_since(&th, &out[j - 1]) < 0; j--)
			out[j] = out[j - 1];
		out[j] = th;
	}
	if (!full)
		qsort(out, n, sizeof(*out), by_since);
	return n;
}

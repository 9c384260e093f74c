// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "tracker.h"

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
	struct lw_tracker *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->opts = *opts;
	id_map_init(&t->threads);
	id_map_init(&t->processes);
	*out = t;
	return 0;
}

static void free_all(struct id_map *m)
{
	uint32_t key;
	void *value;
	size_t i = 0;

	while (id_map_next(m, &i, &key, &value))
		free(value);
	id_map_free(m);
}

void tracker_free(struct lw_tracker *t)
{
	if (!t)
		return;
	free_all(&t->threads);
	free_all(&t->processes);
	free(t);
}

static struct lw_process *get_process(struct lw_tracker *t, uint32_t pid, bool create)
{
	struct lw_process *p = id_map_get(&t->processes, pid);

	if (p || !create)
		return p;
	p = calloc(1, sizeof(*p));
	if (!p || id_map_put(&t->processes, pid, p)) {
		free(p);
		t->insert_failures++;
		return NULL;
	}
	p->pid = pid;
	return p;
}

int tracker_add_target(struct lw_tracker *t, uint32_t pid)
{
	struct lw_process *p = get_process(t, pid, true);

	if (!p)
		return -ENOMEM;
	if (!p->target) {
		p->target = true;
		p->reported = true;
		t->n_targets++;
	}
	return 0;
}

bool tracker_targets_gone(const struct lw_tracker *t)
{
	return !t->opts.host_wide && t->n_targets && t->n_targets_exited == t->n_targets;
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
	};
	struct lw_process *p = get_process(t, th->pid, false);

	r.pcomm = p ? p->pcomm : "";
	if (!exact)
		t->unstuck_inexact++;
	emit(t, &r);
	th->stuck = false;
	th->end_pending = false;
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
	if (p->target)
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
	struct lw_thread *th = calloc(1, sizeof(*th));

	if (!th || id_map_put(&t->threads, r->tid, th)) {
		free(th);
		t->insert_failures++;
		return NULL;
	}
	th->tid = r->tid;
	th->pid = r->pid;
	return th;
}

static void report_stuck(struct lw_tracker *t, struct lw_thread *th, const struct lw_process *p,
			 const struct lw_task_rec *r)
{
	struct lw_report rep = {
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
	};

	wait_decode(r, &t->opts.restart_fns, t->opts.read_first_waiter, &th->wait);
	th->stuck = true;
	emit(t, &rep);
}

void tracker_scan_task(struct lw_tracker *t, const struct lw_task_rec *r)
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
		/* The wait ended; its record (exact end) should follow before
		 * the next scan. */
		if (th) {
			th->gen = t->gen;
			if (th->stuck)
				th->end_pending = true;
		}
		return;
	}

	if (!th && !(th = new_thread(t, r)))
		return;
	th->gen = t->gen;
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
		report_stuck(t, th, p, r);
}

void tracker_scan_end(struct lw_tracker *t)
{
	uint32_t *gone = NULL, key;
	size_t i, n_gone = 0, cap = 0;
	struct lw_process *p;
	struct lw_thread *th;
	void *value;

	/* Threads the scan did not see have exited. */
	i = 0;
	while (id_map_next(&t->threads, &i, &key, &value)) {
		th = value;
		if (th->gen == t->gen)
			continue;
		if (n_gone == cap) {
			uint32_t *more = realloc(gone, (cap = cap ? cap * 2 : 64) * sizeof(*gone));

			if (!more)
				break; /* deleted next scan */
			gone = more;
		}
		gone[n_gone++] = key;
	}
	for (i = 0; i < n_gone; i++)
		free(id_map_del(&t->threads, gone[i]));

	/* Processes: a sample each, or an exit when the scan no longer sees them. */
	n_gone = 0;
	i = 0;
	while (id_map_next(&t->processes, &i, &key, &value)) {
		p = value;
		if (p->exited)
			continue;
		if (p->gen != t->gen) {
			/* A target not seen even once is gone too. */
			if (p->gen || p->target)
				report_exit(t, p, t->now_ns);
			if (n_gone == cap) {
				uint32_t *more = realloc(gone,
							 (cap = cap ? cap * 2 : 64) * sizeof(*gone));

				if (!more)
					break;
				gone = more;
			}
			gone[n_gone++] = key;
			continue;
		}
		if (p->target || p->stuck) {
			struct lw_report r = {
				.type = LW_RPT_SAMPLE,
				.ts = clock_to_unix(&t->opts.clock, t->now_ns),
				.pid = p->pid,
				.pcomm = p->pcomm,
				.threads = p->threads,
				.blocked = p->blocked,
				.stuck = p->stuck,
			};
			p->reported = true;
			emit(t, &r);
		}
	}
	/* Exited targets stay (counted in n_targets_exited); others go. */
	for (i = 0; i < n_gone; i++) {
		p = id_map_get(&t->processes, gone[i]);
		if (p && !p->target)
			free(id_map_del(&t->processes, gone[i]));
	}
	free(gone);
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
				tracker_add_target(t, e->pid);
		}
		break;
	case LW_REC_THREAD_EXIT:
		th = id_map_del(&t->threads, e->tid);
		free(th);
		if (e->flags & LW_EF_GROUP_DEAD) {
			p = get_process(t, e->pid, false);
			if (p) {
				report_exit(t, p, e->ts_ns);
				if (!p->target)
					free(id_map_del(&t->processes, e->pid));
			}
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
	size_t i = 0, n = 0;
	uint32_t tid;
	void *value;

	while (n < max && id_map_next(&t->threads, &i, &tid, &value)) {
		const struct lw_thread *th = value;

		if (th->stuck && !th->end_pending && th->gen == t->gen)
			out[n++] = th;
	}
	qsort(out, n, sizeof(*out), by_since);
	return n;
}

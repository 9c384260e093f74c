// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-c/json.h>
#include "id_map.h"
#include "timeline.h"
#include "utf8.h"
#include "waiter_map.h"

#ifndef LW_VERSION
#define LW_VERSION "unknown"
#endif

int timeline_file_open(const char *path, FILE **out)
{
	struct stat st;
	int fd, err;

	if (!stat(path, &st) && !S_ISREG(st.st_mode))
		return -EINVAL;
	/* O_NONBLOCK: a FIFO made since the stat fails (ENXIO) or opens at
	 * once instead of waiting for a reader; fstat then refuses it. */
	fd = open(path, O_WRONLY | O_CREAT | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno == ENXIO ? -EINVAL : -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		err = -EINVAL;
		goto fail;
	}
	if (ftruncate(fd, 0) || fcntl(fd, F_SETFL, 0)) {
		err = -errno;
		goto fail;
	}
	*out = fdopen(fd, "w");
	if (!*out) {
		err = -errno;
		goto fail;
	}
	return 0;
fail:
	close(fd);
	return err;
}

#define TL_JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/* A goroutine track: one stuck goroutine's wait at a time, then the next
 * one of its process. */
struct tl_lane {
	uint32_t pid;
	uint32_t tid;      /* TL_LANE_TID_BASE + a number: never a real tid */
	bool open;
	uint64_t goid;     /* the open wait's */
	int64_t start_us;
	char name[40];     /* the open wait's reason: the slice name */
	json_object *args; /* the open wait's args, owned */
};

/* Above any pid_max (at most 2^22): a lane's tid is no thread's. */
#define TL_LANE_TID_BASE (1u << 30)

struct tl_proc {
	char pcomm[LW_COMM_LEN + 1]; /* as last written; "": not yet */
	bool have_counters;
	uint32_t threads, blocked, stuck; /* as last written */
	bool have_go_counters;
	uint32_t goroutines, goroutines_blocked, goroutines_stuck; /* as last written */
	struct tl_lane **lanes; /* this process's goroutine tracks */
	size_t n_lanes, cap_lanes;
	struct tl_lane **free_lanes; /* those with no open wait (room for all of them) */
	size_t n_free;
};

struct tl_thread {
	uint32_t pid;
	char comm[LW_COMM_LEN + 1]; /* as last written; "": not yet */
	bool open;                  /* a stuck wait whose end is not written */
	int64_t start_us;
	char name[24];              /* the open wait's kind: the slice name */
	json_object *args;          /* the open wait's args, owned */
};

struct timeline {
	FILE *f;
	int err;       /* -EIO once a write failed */
	bool any;      /* an event was written: the next one needs a comma */
	double start_unix;
	struct id_map procs;   /* pid -> struct tl_proc */
	struct id_map threads; /* tid -> struct tl_thread */
	uint64_t slices;       /* "X" events written */
	uint64_t dropped;      /* events not written: out of memory */
	bool have_summary;
	double duration_s;
	uint64_t events, records_dropped;
	struct waiter_map goroutines; /* (pid, goid) of an open wait -> its struct tl_lane */
	uint32_t max_lanes;      /* goroutine tracks alive at once, at most */
	uint32_t lanes;          /* alive now */
	uint32_t next_lane_tid;  /* the next lane's number */
	uint64_t lanes_made;     /* goroutine tracks in the file */
	uint64_t goroutine_waits_untracked; /* stuck goroutines with no track free */
};

static int64_t to_us(double unix_s)
{
	return llround(unix_s * 1e6);
}

/* s, at most max bytes of it, as a JSON string of valid UTF-8: thread names
 * and frames may hold any byte. */
static json_object *new_str(const char *s, size_t max)
{
	char clean[3 * LW_FRAME_TEXT + 1];

	if (!s)
		s = "";
	utf8_sanitize(s, strnlen(s, max < LW_FRAME_TEXT ? max : LW_FRAME_TEXT), clean);
	return json_object_new_string(clean);
}

static void add_str(json_object *o, const char *key, const char *s, size_t max)
{
	json_object_object_add(o, key, new_str(s, max));
}

static void add_uint(json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_uint64(v));
}

static void add_int(json_object *o, const char *key, int64_t v)
{
	json_object_object_add(o, key, json_object_new_int64(v));
}

static void add_bool(json_object *o, const char *key, bool v)
{
	json_object_object_add(o, key, json_object_new_boolean(v));
}

static void add_fixed(json_object *o, const char *key, double v, int decimals)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%.*f", decimals, v);
	json_object_object_add(o, key, json_object_new_double_s(v, buf));
}

static void add_stack(json_object *o, const char *key, const struct lw_stack_text *st)
{
	json_object *a = json_object_new_array();
	int i;

	/* Under memory pressure a null beats a crash in json-c's asserts. */
	for (i = 0; a && st && i < st->n && i < LW_STACK_MAX; i++)
		json_object_array_add(a, new_str(st->frames[i], LW_FRAME_TEXT));
	json_object_object_add(o, key, a);
}

/* An event with its common keys; pid and tid 0 are left out ("tid" absent:
 * Perfetto puts the event on the process). */
static json_object *new_event(const char *ph, json_object *name, uint32_t pid, uint32_t tid,
			      int64_t ts_us)
{
	json_object *o = json_object_new_object();

	if (!o) {
		json_object_put(name);
		return NULL;
	}
	json_object_object_add(o, "ph", json_object_new_string(ph));
	json_object_object_add(o, "name", name);
	if (pid)
		add_uint(o, "pid", pid);
	if (tid)
		add_uint(o, "tid", tid);
	if (ts_us != INT64_MIN)
		add_int(o, "ts", ts_us);
	return o;
}

/* Writes ev (NULL: out of memory) and drops it.  Flushed at once, so a crash
 * loses at most the closing brackets. */
static int put_event(struct timeline *t, json_object *ev)
{
	const char *s;
	int err = 0;

	if (!ev) {
		t->dropped++;
		return -ENOMEM;
	}
	s = json_object_to_json_string_ext(ev, TL_JSON_FLAGS);
	if (!s) {
		t->dropped++;
		err = -ENOMEM;
		goto out;
	}
	if (fprintf(t->f, "%s%s", t->any ? ",\n" : "", s) < 0 || fflush(t->f)) {
		t->err = -EIO;
		err = -EIO;
	}
	t->any = true;
out:
	json_object_put(ev);
	return err;
}

static int put_metadata(struct timeline *t, const char *what, uint32_t pid, uint32_t tid,
			const char *name)
{
	json_object *ev = new_event("M", json_object_new_string(what), pid, tid, INT64_MIN);
	json_object *args = json_object_new_object();

	if (!ev || !args) {
		json_object_put(ev);
		json_object_put(args);
		return put_event(t, NULL);
	}
	add_str(args, "name", name, LW_COMM_LEN);
	json_object_object_add(ev, "args", args);
	return put_event(t, ev);
}

/*
 * A process's name track: its name, and what its cgroup says
 * ("leaker [docker 0123456789ab]"); the cgroup, container, pod and unit
 * as args too.
 */
static int put_process_name(struct timeline *t, uint32_t pid, const char *pcomm,
			    const struct lw_cgroup *cg)
{
	json_object *ev = new_event("M", json_object_new_string("process_name"), pid, 0,
				    INT64_MIN);
	json_object *args = json_object_new_object();
	char label[LW_CGROUP_PATH_MAX], name[LW_COMM_LEN + LW_CGROUP_PATH_MAX + 4];

	if (!ev || !args) {
		json_object_put(ev);
		json_object_put(args);
		return put_event(t, NULL);
	}
	cgroup_label(cg, label, sizeof(label));
	snprintf(name, sizeof(name), "%.*s%s%s%s", LW_COMM_LEN, pcomm, label[0] ? " [" : "", label,
		 label[0] ? "]" : "");
	add_str(args, "name", name, sizeof(name));
	if (cg && cg->path[0])
		add_str(args, "cgroup", cg->path, LW_CGROUP_PATH_MAX);
	if (cg && cg->container[0])
		add_str(args, "container", cg->container, LW_CGROUP_ID_LEN);
	if (cg && cg->pod[0])
		add_str(args, "pod", cg->pod, LW_CGROUP_UID_LEN);
	if (cg && cg->unit[0])
		add_str(args, "unit", cg->unit, LW_CGROUP_UNIT_MAX);
	json_object_object_add(ev, "args", args);
	return put_event(t, ev);
}

/* The process pid, made on first sight and named when its name is new. */
static int get_process(struct timeline *t, uint32_t pid, const char *pcomm,
		       const struct lw_cgroup *cg, struct tl_proc **out)
{
	struct tl_proc *p = id_map_get(&t->procs, pid);
	int err;

	if (!p) {
		p = calloc(1, sizeof(*p));
		if (!p)
			return put_event(t, NULL);
		err = id_map_put(&t->procs, pid, p);
		if (err) {
			free(p);
			if (err == -ENOMEM)
				put_event(t, NULL);
			return err;
		}
	}
	*out = p;
	if (!pcomm || !pcomm[0] || !strncmp(p->pcomm, pcomm, LW_COMM_LEN))
		return 0;
	err = put_process_name(t, pid, pcomm, cg);
	/* On -ENOMEM the name stays unwritten: tried again next time. */
	if (err != -ENOMEM)
		snprintf(p->pcomm, sizeof(p->pcomm), "%.*s", LW_COMM_LEN, pcomm);
	return err;
}

/* Writes the open wait of th as a complete event ending at end_us. */
static int end_slice(struct timeline *t, struct tl_thread *th, uint32_t tid, int64_t end_us)
{
	json_object *ev;

	th->open = false;
	ev = new_event("X", new_str(th->name, sizeof(th->name)), th->pid, tid, th->start_us);
	if (!ev) {
		json_object_put(th->args);
		th->args = NULL;
		return put_event(t, NULL);
	}
	add_int(ev, "dur", end_us > th->start_us ? end_us - th->start_us : 0);
	json_object_object_add(ev, "args", th->args);
	th->args = NULL;
	t->slices++;
	return put_event(t, ev);
}

/* Ends th's open wait, if any, at end_us: its end was never reported. */
static int end_unreported(struct timeline *t, struct tl_thread *th, uint32_t tid,
			  int64_t end_us, const char *why)
{
	if (!th->open)
		return 0;
	add_bool(th->args, why, true);
	return end_slice(t, th, tid, end_us);
}

/* A process's entry and its goroutine tracks (their waits ended). */
static void proc_free(struct timeline *t, struct tl_proc *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->n_lanes; i++) {
		json_object_put(p->lanes[i]->args);
		free(p->lanes[i]);
	}
	t->lanes -= (uint32_t)p->n_lanes;
	free(p->lanes);
	free(p->free_lanes);
	free(p);
}

static void thread_free(struct tl_thread *th)
{
	if (!th)
		return;
	json_object_put(th->args);
	free(th);
}

/*
 * The thread of r, made on first sight and named when its name is new.  A
 * tid seen in another process was reused: its last thread is gone, and its
 * open wait ended at at_us at the latest.
 */
static int get_thread(struct timeline *t, const struct lw_report *r, int64_t at_us,
		      struct tl_thread **out)
{
	struct tl_thread *th = id_map_get(&t->threads, r->tid);
	int err = 0;

	if (th && th->pid != r->pid) {
		if (th->open && at_us < th->start_us)
			at_us = th->start_us;
		err = end_unreported(t, th, r->tid, at_us, "tid_reused");
		th->pid = r->pid;
		th->comm[0] = '\0';
	}
	if (!th) {
		th = calloc(1, sizeof(*th));
		if (!th)
			return put_event(t, NULL);
		err = id_map_put(&t->threads, r->tid, th);
		if (err) {
			free(th);
			if (err == -ENOMEM)
				put_event(t, NULL);
			return err;
		}
		th->pid = r->pid;
	}
	*out = th;
	if (!r->comm || !r->comm[0] || !strncmp(th->comm, r->comm, LW_COMM_LEN))
		return err;
	err = put_metadata(t, "thread_name", r->pid, r->tid, r->comm);
	if (err != -ENOMEM)
		snprintf(th->comm, sizeof(th->comm), "%.*s", LW_COMM_LEN, r->comm);
	return err;
}

/* What a slice shows of its wait. */
static json_object *wait_args(const struct lw_report *r)
{
	json_object *a = json_object_new_object();
	const struct lw_wait *w = r->wait;
	char buf[32];

	if (!a)
		return NULL;
	add_str(a, "wait", w && w->kind ? w->kind : "kernel", 24);
	if (w && w->syscall[0])
		add_str(a, "syscall", w->syscall, sizeof(w->syscall));
	if (w && w->has_futex) {
		snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)w->futex_addr);
		add_str(a, "futex_addr", buf, sizeof(buf));
	}
	if (w && w->futex_op[0])
		add_str(a, "futex_op", w->futex_op, sizeof(w->futex_op));
	buf[0] = r->state == 'D' ? 'D' : 'S';
	buf[1] = '\0';
	add_str(a, "state", buf, 1);
	if (r->site)
		add_str(a, "site", r->site->name, sizeof(r->site->name));
	add_bool(a, "since_exact", r->since_exact);
	return a;
}

/* A goroutine's wait as slice args. */
static json_object *goroutine_args(const struct lw_report *r)
{
	json_object *a = json_object_new_object();

	if (!a)
		return NULL;
	add_uint(a, "goid", r->goid);
	add_str(a, "wait", r->wait && r->wait->kind ? r->wait->kind : "?", 40);
	if (r->site)
		add_str(a, "site", r->site->name, sizeof(r->site->name));
	if (r->func)
		add_str(a, "func", r->func, LW_FRAME_TEXT);
	if (r->created_by)
		add_str(a, "created_by", r->created_by, LW_FRAME_TEXT);
	add_bool(a, "since_exact", r->since_exact);
	return a;
}

/* A free track of process p, or a new one while fewer than max_lanes are
 * alive: NULL when none (the wait is counted, not drawn). */
static struct tl_lane *get_lane(struct timeline *t, struct tl_proc *p, uint32_t pid)
{
	struct tl_lane *l, **more;
	char name[32];

	if (p->n_free)
		return p->free_lanes[--p->n_free];
	if (t->lanes >= t->max_lanes)
		return NULL;
	if (p->n_lanes == p->cap_lanes) {
		size_t cap = p->cap_lanes ? 2 * p->cap_lanes : 4;

		more = realloc(p->lanes, cap * sizeof(*more));
		if (!more)
			return NULL;
		p->lanes = more;
		more = realloc(p->free_lanes, cap * sizeof(*more));
		if (!more)
			return NULL;
		p->free_lanes = more;
		p->cap_lanes = cap;
	}
	l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->pid = pid;
	l->tid = TL_LANE_TID_BASE + (t->next_lane_tid++ % TL_LANE_TID_BASE);
	p->lanes[p->n_lanes++] = l;
	t->lanes++;
	t->lanes_made++;
	snprintf(name, sizeof(name), "goroutines %zu", p->n_lanes);
	put_metadata(t, "thread_name", pid, l->tid, name);
	return l;
}

/* Writes the open wait of lane l as a complete event ending at end_us. */
static int end_lane(struct timeline *t, struct tl_lane *l, int64_t end_us, const char *why)
{
	struct tl_proc *p = id_map_get(&t->procs, l->pid);
	json_object *ev;

	waiter_map_del(&t->goroutines, lw_goroutine_id(l->pid, l->goid));
	l->open = false;
	/* Free for the process's next stuck goroutine. */
	if (p && p->n_free < p->cap_lanes)
		p->free_lanes[p->n_free++] = l;
	if (why)
		add_bool(l->args, why, true);
	ev = new_event("X", new_str(l->name, sizeof(l->name)), l->pid, l->tid, l->start_us);
	if (!ev) {
		json_object_put(l->args);
		l->args = NULL;
		return put_event(t, NULL);
	}
	add_int(ev, "dur", end_us > l->start_us ? end_us - l->start_us : 0);
	json_object_object_add(ev, "args", l->args);
	l->args = NULL;
	t->slices++;
	return put_event(t, ev);
}

static int on_goroutine_stuck(struct timeline *t, const struct lw_report *r)
{
	int64_t start_us = to_us(r->ts) - llround(r->blocked_s * 1e6);
	struct lw_waiter_id id = lw_goroutine_id(r->pid, r->goid);
	struct tl_lane *l = waiter_map_get(&t->goroutines, id);
	struct tl_proc *p = NULL;
	json_object *args;
	int err, ret;

	ret = get_process(t, r->pid, r->pcomm, r->cgroup, &p);
	if (!p)
		return ret;
	/* Its last wait's end was lost: it ended when this one began. */
	if (l) {
		err = end_lane(t, l, start_us > l->start_us ? start_us : l->start_us,
			       "end_unknown");
		ret = ret ?: err;
	}
	l = get_lane(t, p, r->pid);
	if (!l) {
		t->goroutine_waits_untracked++;
		return ret;
	}
	args = goroutine_args(r);
	if (!args || waiter_map_put(&t->goroutines, id, l)) {
		json_object_put(args);
		return put_event(t, NULL);
	}
	l->open = true;
	l->goid = r->goid;
	l->start_us = start_us;
	l->args = args;
	snprintf(l->name, sizeof(l->name), "%s", r->wait && r->wait->kind ? r->wait->kind : "?");
	return ret;
}

static int on_goroutine_unstuck(struct timeline *t, const struct lw_report *r)
{
	struct tl_lane *l = waiter_map_get(&t->goroutines, lw_goroutine_id(r->pid, r->goid));

	/* Not drawn (no track was free), or already ended. */
	if (!l)
		return 0;
	add_bool(l->args, "end_exact", r->end_exact);
	return end_lane(t, l, to_us(r->ts), NULL);
}

static int on_stuck(struct timeline *t, const struct lw_report *r)
{
	int64_t start_us = to_us(r->ts) - llround(r->blocked_s * 1e6);
	const char *kind = r->wait && r->wait->kind ? r->wait->kind : "kernel";
	struct tl_thread *th = NULL;
	struct tl_proc *p;
	json_object *args;
	int err, ret;

	if (r->goid)
		return on_goroutine_stuck(t, r);
	ret = get_process(t, r->pid, r->pcomm, r->cgroup, &p);
	err = get_thread(t, r, start_us, &th);
	if (!th)
		return err;
	if (err)
		ret = err;
	/* The tracker reports a wait's end before the next wait; this one's
	 * end was lost.  It ended when the new wait began, at the latest. */
	if (th->open) {
		err = end_unreported(t, th, r->tid, start_us > th->start_us ? start_us :
						    th->start_us, "end_unknown");
		if (err)
			ret = err;
	}
	args = wait_args(r);
	if (!args)
		return put_event(t, NULL);
	th->open = true;
	th->start_us = start_us;
	th->args = args;
	snprintf(th->name, sizeof(th->name), "%s", kind);
	return ret;
}

static int on_unstuck(struct timeline *t, const struct lw_report *r)
{
	struct tl_thread *th;
	struct tl_proc *p;
	int err;

	if (r->goid)
		return on_goroutine_unstuck(t, r);
	th = id_map_get(&t->threads, r->tid);
	/* No open slice: its start was not seen, or it was already ended (its
	 * process's exit, a reused tid).  Nothing to add. */
	if (!th || !th->open || th->pid != r->pid)
		return 0;
	err = get_process(t, r->pid, r->pcomm, r->cgroup, &p);
	add_bool(th->args, "end_exact", r->end_exact);
	return end_slice(t, th, r->tid, to_us(r->ts)) ?: err;
}

static int put_counter(struct timeline *t, uint32_t pid, int64_t ts_us, const char *name,
		       uint32_t v)
{
	json_object *ev = new_event("C", json_object_new_string(name), pid, 0, ts_us);
	json_object *args = json_object_new_object();

	if (!ev || !args) {
		json_object_put(ev);
		json_object_put(args);
		return put_event(t, NULL);
	}
	add_uint(args, "count", v);
	json_object_object_add(ev, "args", args);
	return put_event(t, ev);
}

/* A Go process's goroutine counters, the same way. */
static int on_goroutine_sample(struct timeline *t, struct tl_proc *p, const struct lw_report *r,
			       int64_t ts_us)
{
	const struct {
		const char *name;
		uint32_t v, *last;
	} c[] = {
		{ "goroutines", r->goroutines, &p->goroutines },
		{ "goroutines blocked", r->goroutines_blocked, &p->goroutines_blocked },
		{ "goroutines stuck", r->goroutines_stuck, &p->goroutines_stuck },
	};
	size_t i;
	int err, ret = 0;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		if (p->have_go_counters && *c[i].last == c[i].v)
			continue;
		err = put_counter(t, r->pid, ts_us, c[i].name, c[i].v);
		if (err == -ENOMEM) {
			p->have_go_counters = false;
			return err;
		}
		ret = ret ?: err;
		*c[i].last = c[i].v;
	}
	p->have_go_counters = true;
	return ret;
}

/* Only the counters that changed: the viewers hold a value until the next. */
static int on_sample(struct timeline *t, const struct lw_report *r)
{
	int64_t ts_us = to_us(r->ts);
	struct tl_proc *p = NULL;
	int err, ret;

	ret = get_process(t, r->pid, r->pcomm, r->cgroup, &p);
	if (!p)
		return ret;
	if (!p->have_counters || p->threads != r->threads) {
		err = put_counter(t, r->pid, ts_us, "threads", r->threads);
		if (err == -ENOMEM)
			goto nomem;
		ret = ret ?: err;
		p->threads = r->threads;
	}
	if (!p->have_counters || p->blocked != r->blocked) {
		err = put_counter(t, r->pid, ts_us, "blocked", r->blocked);
		if (err == -ENOMEM)
			goto nomem;
		ret = ret ?: err;
		p->blocked = r->blocked;
	}
	if (!p->have_counters || p->stuck != r->stuck) {
		err = put_counter(t, r->pid, ts_us, "stuck", r->stuck);
		if (err == -ENOMEM)
			goto nomem;
		ret = ret ?: err;
		p->stuck = r->stuck;
	}
	p->have_counters = true;
	if (r->go)
		return on_goroutine_sample(t, p, r, ts_us) ?: ret;
	return ret;
nomem:
	/* Write all three next time rather than leave one stale. */
	p->have_counters = false;
	return -ENOMEM;
}

static int put_instant(struct timeline *t, const struct lw_report *r, const char *name,
		       const char *scope, json_object *args)
{
	json_object *ev = new_event("i", json_object_new_string(name), r->pid,
				    *scope == 't' ? r->tid : 0, to_us(r->ts));

	if (!ev) {
		json_object_put(args);
		return put_event(t, NULL);
	}
	json_object_object_add(ev, "s", json_object_new_string(scope));
	if (args)
		json_object_object_add(ev, "args", args);
	return put_event(t, ev);
}

static int on_leak(struct timeline *t, const struct lw_report *r)
{
	const struct lw_site *s = r->site;
	json_object *args = json_object_new_object();
	struct tl_proc *p;
	int err;

	err = get_process(t, r->pid, r->pcomm, r->cgroup, &p);
	if (!args)
		return put_event(t, NULL);
	if (s) {
		add_str(args, "site", s->name, sizeof(s->name));
		add_str(args, "wait", s->kind, sizeof(s->kind));
		if (s->syscall[0])
			add_str(args, "syscall", s->syscall, sizeof(s->syscall));
	}
	add_uint(args, "stuck", r->stuck);
	add_uint(args, "threads", r->threads);
	if (s && s->goroutine) {
		add_str(args, "where", s->where, sizeof(s->where));
		if (s->created_by[0])
			add_str(args, "created_by", s->created_by, sizeof(s->created_by));
	}
	if (r->go)
		add_uint(args, "goroutines", r->goroutines);
	add_fixed(args, "growth_per_min", r->growth_per_min, 2);
	add_stack(args, "stack", s ? &s->user : NULL);
	add_stack(args, "kstack", s ? &s->kernel : NULL);
	return put_instant(t, r, "leak", "p", args) ?: err;
}

/* A deadlock: an instant on its process, naming each member, its lock and
 * the owner. */
static int on_deadlock(struct timeline *t, const struct lw_report *r)
{
	json_object *args = json_object_new_object(), *members;
	struct tl_proc *p;
	char lock[32];
	uint32_t i;
	int err;

	err = get_process(t, r->pid, r->pcomm, r->cgroup, &p);
	if (!args)
		return put_event(t, NULL);
	members = json_object_new_array();
	for (i = 0; i < r->n_cycle; i++) {
		json_object *m = json_object_new_object();

		add_uint(m, "tid", r->cycle[i].tid);
		add_str(m, "comm", r->cycle[i].comm ? r->cycle[i].comm : "", LW_COMM_LEN + 1);
		snprintf(lock, sizeof(lock), "0x%llx", (unsigned long long)r->cycle[i].lock->addr);
		add_str(m, "lock", lock, sizeof(lock));
		add_uint(m, "owner_tid", r->cycle[i].lock->owner_tid);
		if (r->cycle[i].site)
			add_str(m, "site", r->cycle[i].site->name, sizeof(r->cycle[i].site->name));
		json_object_array_add(members, m);
	}
	add_uint(args, "threads", r->cycle_threads > r->n_cycle ? r->cycle_threads : r->n_cycle);
	json_object_object_add(args, "cycle", members);
	return put_instant(t, r, "deadlock", "p", args) ?: err;
}

static int on_spin(struct timeline *t, const struct lw_report *r)
{
	int64_t since_us = to_us(r->ts) - llround(r->running_s * 1e6);
	json_object *args;
	struct tl_proc *p;
	struct tl_thread *th = NULL;
	int err;

	err = get_process(t, r->pid, r->pcomm, r->cgroup, &p);
	err = get_thread(t, r, since_us, &th) ?: err;
	args = json_object_new_object();
	if (!args)
		return put_event(t, NULL);
	add_fixed(args, "running_s", r->running_s, 3);
	if (r->goid)
		add_uint(args, "goid", r->goid);
	add_stack(args, "stack", r->stack);
	return put_instant(t, r, "spin", "t", args) ?: err;
}

/* The process and its threads are gone: their waits ended by now, and a
 * reused pid or tid is another process's. */
static int on_process_exit(struct timeline *t, const struct lw_report *r)
{
	int64_t end_us = to_us(r->ts);
	uint32_t *gone = NULL, tid;
	size_t i = 0, n = 0, cap = 0;
	struct tl_thread *th;
	struct tl_proc *p = NULL;
	void *value;
	int err, ret;

	ret = get_process(t, r->pid, r->pcomm, r->cgroup, &p);
	ret = put_instant(t, r, "exit", "p", NULL) ?: ret;
	/* Collect first: the map must not change while iterated. */
	while (id_map_next(&t->threads, &i, &tid, &value)) {
		th = value;
		if (th->pid != r->pid)
			continue;
		err = end_unreported(t, th, tid, end_us, "process_exited");
		ret = ret ?: err;
		if (n == cap) {
			size_t more_cap = cap ? cap * 2 : 16;
			uint32_t *more = realloc(gone, more_cap * sizeof(*gone));

			if (!more)
				continue; /* kept: ended, named, harmless */
			gone = more;
			cap = more_cap;
		}
		gone[n++] = tid;
	}
	for (i = 0; i < n; i++)
		thread_free(id_map_del(&t->threads, gone[i]));
	free(gone);
	if (p) {
		for (i = 0; i < p->n_lanes; i++) {
			if (p->lanes[i]->open) {
				err = end_lane(t, p->lanes[i], end_us, "process_exited");
				ret = ret ?: err;
			}
		}
	}
	proc_free(t, id_map_del(&t->procs, r->pid));
	return ret;
}

static void on_summary(struct timeline *t, const struct lw_report *r)
{
	t->have_summary = true;
	t->duration_s = r->duration_s;
	t->events = r->events;
	t->records_dropped = r->drops ? lw_drops_total(r->drops) : 0;
}

int timeline_write(struct timeline *t, const struct lw_report *r)
{
	switch (r->type) {
	case LW_RPT_STUCK:
		return on_stuck(t, r);
	case LW_RPT_UNSTUCK:
		return on_unstuck(t, r);
	case LW_RPT_SAMPLE:
		return on_sample(t, r);
	case LW_RPT_LEAK:
		return on_leak(t, r);
	case LW_RPT_SPIN:
		return on_spin(t, r);
	case LW_RPT_DEADLOCK:
		return on_deadlock(t, r);
	case LW_RPT_EXIT:
		return on_process_exit(t, r);
	case LW_RPT_SUMMARY:
		on_summary(t, r);
		return 0;
	case LW_RPT_SITE:
		return 0; /* its stacks come with the leak */
	case LW_RPT_GO:
	case LW_RPT_PYTHON:
		return 0; /* the process's name comes with its other events */
	}
	return 0;
}

void timeline_emit(void *ctx, const struct lw_report *r)
{
	timeline_write(ctx, r);
}

void timeline_set_goroutine_tracks(struct timeline *t, uint32_t max)
{
	t->max_lanes = max;
}

int timeline_open(FILE *f, double start_unix, struct timeline **out)
{
	struct timeline *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->f = f;
	t->start_unix = start_unix;
	t->max_lanes = TIMELINE_DEFAULT_GOROUTINE_TRACKS;
	id_map_init(&t->procs);
	id_map_init(&t->threads);
	waiter_map_init(&t->goroutines);
	if (fputs("{\"traceEvents\":[\n", f) < 0 || fflush(f)) {
		free(t);
		return -EIO;
	}
	*out = t;
	return 0;
}

static void put_trailer(struct timeline *t, double end_unix)
{
	json_object *o = json_object_new_object();
	const char *s = NULL;

	if (o) {
		add_str(o, "tool", "leakwatch", 16);
		add_str(o, "version", LW_VERSION, 32);
		add_str(o, "ts", "microseconds since the Unix epoch", 40);
		add_fixed(o, "start_unix", t->start_unix, 6);
		add_fixed(o, "end_unix", end_unix, 6);
		add_uint(o, "slices", t->slices);
		add_uint(o, "timeline_dropped", t->dropped);
		add_uint(o, "goroutine_tracks", t->lanes_made);
		add_uint(o, "goroutine_tracks_max", t->max_lanes);
		add_uint(o, "goroutine_waits_untracked", t->goroutine_waits_untracked);
		if (t->have_summary) {
			add_fixed(o, "duration_s", t->duration_s, 3);
			add_uint(o, "events", t->events);
			add_uint(o, "dropped", t->records_dropped);
		}
		s = json_object_to_json_string_ext(o, TL_JSON_FLAGS);
	}
	/* Without memory for otherData the file must still close. */
	if (fprintf(t->f, "\n],\"displayTimeUnit\":\"ms\",\"otherData\":%s}\n", s ? s : "{}") < 0 ||
	    fflush(t->f))
		t->err = -EIO;
	json_object_put(o);
}

int timeline_close(struct timeline *t, double end_unix)
{
	int64_t end_us = to_us(end_unix);
	uint32_t key;
	size_t i = 0;
	void *value;
	int err;

	if (!t)
		return 0;
	/* Waits still open at the end: ended here, marked open.  end_slice
	 * does not change the map. */
	while (id_map_next(&t->threads, &i, &key, &value))
		end_unreported(t, value, key, end_us, "open");
	/* end_lane deletes from the goroutine map: walk the processes'. */
	i = 0;
	while (id_map_next(&t->procs, &i, &key, &value)) {
		struct tl_proc *p = value;
		size_t k;

		for (k = 0; k < p->n_lanes; k++)
			if (p->lanes[k]->open)
				end_lane(t, p->lanes[k], end_us, "open");
	}
	put_trailer(t, end_unix);

	i = 0;
	while (id_map_next(&t->threads, &i, &key, &value))
		thread_free(value);
	i = 0;
	while (id_map_next(&t->procs, &i, &key, &value))
		proc_free(t, value);
	id_map_free(&t->threads);
	id_map_free(&t->procs);
	waiter_map_free(&t->goroutines);
	err = t->err;
	free(t);
	return err;
}

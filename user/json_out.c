// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <json-c/json.h>
#include "json_out.h"
#include "utf8.h"

/* Paths, reasons, Go function names: longer than names, still bounded. */
#define TEXT_MAX 256

/* At most max (<= TEXT_MAX) bytes of value, made valid UTF-8. */
static void add_text(json_object *o, const char *key, const char *value, size_t max)
{
	char clean[3 * TEXT_MAX + 1];
	size_t len = strnlen(value, max < TEXT_MAX ? max : TEXT_MAX);

	utf8_sanitize(value, len, clean);
	json_object_object_add(o, key, json_object_new_string(clean));
}

/* Names (thread, process, wait): 64 bytes at most. */
static void add_string(json_object *o, const char *key, const char *value)
{
	add_text(o, key, value, 64);
}

static void add_fixed(json_object *o, const char *key, double v, int decimals)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%.*f", decimals, v);
	json_object_object_add(o, key, json_object_new_double_s(v, buf));
}

static void add_uint(json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_uint64(v));
}

static void add_wait(json_object *o, const struct lw_wait *w)
{
	char addr[32];

	add_string(o, "wait", w->kind ? w->kind : "kernel");
	if (w->syscall[0])
		add_string(o, "syscall", w->syscall);
	if (w->has_futex) {
		snprintf(addr, sizeof(addr), "0x%llx", (unsigned long long)w->futex_addr);
		add_string(o, "futex_addr", addr);
	}
	if (w->futex_op[0])
		add_string(o, "futex_op", w->futex_op);
}

static void add_stack(json_object *o, const char *key, const struct lw_stack_text *st)
{
	json_object *a = json_object_new_array();
	int i;

	for (i = 0; st && i < st->n; i++) {
		char clean[3 * LW_FRAME_TEXT + 1];

		utf8_sanitize(st->frames[i], strnlen(st->frames[i], LW_FRAME_TEXT), clean);
		json_object_array_add(a, json_object_new_string(clean));
	}
	json_object_object_add(o, key, a);
}

/* The structured frames beside a stack: {func, file, line, module, offset,
 * inlined, kind, pc}, unknown parts null. */
static void add_frames(json_object *o, const char *key, const struct lw_stack_text *st)
{
	json_object *a = json_object_new_array(), *f;
	char pc[24];
	int i;

	for (i = 0; st && i < st->n; i++) {
		const struct lw_frame *fr = &st->info[i];

		f = json_object_new_object();
		if (fr->func[0])
			add_text(f, "func", fr->func, sizeof(fr->func));
		else
			json_object_object_add(f, "func", NULL);
		if (fr->file[0])
			add_text(f, "file", fr->file, sizeof(fr->file));
		else
			json_object_object_add(f, "file", NULL);
		json_object_object_add(f, "line", fr->line > 0 ? json_object_new_int(fr->line) : NULL);
		if (fr->module[0])
			add_text(f, "module", fr->module, sizeof(fr->module));
		else
			json_object_object_add(f, "module", NULL);
		add_uint(f, "offset", fr->offset);
		json_object_object_add(f, "inlined", json_object_new_boolean(fr->inlined));
		add_string(f, "kind", lw_frame_kind_name(fr->kind));
		snprintf(pc, sizeof(pc), "0x%llx", (unsigned long long)fr->pc);
		add_string(f, "pc", pc);
		json_object_array_add(a, f);
	}
	json_object_object_add(o, key, a);
}

static void add_site(json_object *o, const struct lw_site *s)
{
	add_string(o, "site", s->name);
	add_string(o, "wait", s->kind);
	if (s->syscall[0])
		add_string(o, "syscall", s->syscall);
	if (s->goroutine) {
		add_string(o, "waiter", "goroutine");
		add_text(o, "where", s->where, sizeof(s->where));
		if (s->created_by[0])
			add_text(o, "created_by", s->created_by, sizeof(s->created_by));
	} else if (s->where[0]) {
		add_text(o, "where", s->where, sizeof(s->where));
	}
	add_stack(o, "stack", &s->user);
	add_frames(o, "frames", &s->user);
	add_stack(o, "kstack", &s->kernel);
	add_frames(o, "kframes", &s->kernel);
}

/*
 * The process's cgroup: "cgroup" (its v2 path), and where the path says
 * so "container" and "runtime", "pod", "unit".  Each is left out when
 * unknown, all of them when the cgroup could not be read.
 */
static void add_cgroup(json_object *o, const struct lw_cgroup *cg)
{
	char clean[3 * LW_CGROUP_PATH_MAX + 1];

	if (!cg || !cg->path[0])
		return;
	utf8_sanitize(cg->path, strnlen(cg->path, LW_CGROUP_PATH_MAX), clean);
	json_object_object_add(o, "cgroup", json_object_new_string(clean));
	if (cg->container[0]) {
		add_string(o, "container", cg->container);
		if (cg->runtime[0])
			add_string(o, "runtime", cg->runtime);
	}
	if (cg->pod[0])
		add_string(o, "pod", cg->pod);
	if (cg->unit[0])
		add_text(o, "unit", cg->unit, LW_CGROUP_UNIT_MAX);
}

static void add_addr(json_object *o, const char *key, uint64_t addr)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)addr);
	add_string(o, key, buf);
}

/* The lock a stuck thread waits for: kind, mode, address, owner; or why
 * there is no owner to name. */
static json_object *lock_object(const struct lw_lock *l)
{
	json_object *o = json_object_new_object();

	switch (l->kind) {
	case LW_LOCK_MUTEX:
		add_string(o, "kind", "mutex");
		break;
	case LW_LOCK_RWLOCK_READ:
	case LW_LOCK_RWLOCK_WRITE:
		add_string(o, "kind", "rwlock");
		add_string(o, "mode", l->kind == LW_LOCK_RWLOCK_READ ? "read" : "write");
		break;
	default:
		add_string(o, "kind", l->what ? l->what : "ownerless");
		break;
	}
	if (l->addr)
		add_addr(o, "addr", l->addr);
	json_object_object_add(o, "owner_tid",
			       l->owner_known ? json_object_new_uint64(l->owner_tid) : NULL);
	if (l->readers)
		add_uint(o, "readers", l->readers);
	if (l->kernel_deadlock)
		json_object_object_add(o, "kernel_deadlock", json_object_new_boolean(true));
	if (!l->owner_known)
		add_text(o, "why", l->kind == LW_LOCK_OWNERLESS ? "it has no owner" :
			 l->readers ? "held by readers, who are not recorded" :
			 "no owner could be read and validated", TEXT_MAX);
	return o;
}

/* Who a leak's waiters wait for: the holder, with its own wait and stack. */
static void add_holder(json_object *o, const struct lw_lock_holder *h)
{
	json_object *ho = json_object_new_object();

	add_uint(ho, "tid", h->tid);
	add_string(ho, "comm", h->comm ? h->comm : "");
	add_uint(ho, "waiters", h->waiters);
	add_uint(ho, "hops", h->hops);
	if (h->lock)
		json_object_object_add(ho, "lock", lock_object(h->lock));
	json_object_object_add(ho, "blocked", json_object_new_boolean(h->blocked));
	if (h->blocked) {
		add_fixed(ho, "blocked_s", h->blocked_s, 3);
		if (h->wait)
			add_wait(ho, h->wait);
	}
	if (h->site) {
		add_string(ho, "site", h->site->name);
		if (h->site->where[0])
			add_text(ho, "where", h->site->where, sizeof(h->site->where));
		add_stack(ho, "stack", &h->site->user);
		add_frames(ho, "frames", &h->site->user);
	}
	json_object_object_add(o, "holder", ho);
}

/* A deadlock's cycle: each member, the lock it waits for (held by the next)
 * and where it is stuck. */
static void add_cycle(json_object *o, const struct lw_report *r)
{
	json_object *a = json_object_new_array();
	bool kernel = false;
	uint32_t i;

	for (i = 0; i < r->n_cycle; i++) {
		const struct lw_deadlock_member *m = &r->cycle[i];
		json_object *mo = json_object_new_object();

		add_uint(mo, "tid", m->tid);
		add_string(mo, "comm", m->comm ? m->comm : "");
		if (m->lock->addr)
			add_addr(mo, "lock", m->lock->addr);
		add_uint(mo, "owner_tid", m->lock->owner_tid);
		add_fixed(mo, "blocked_s", m->blocked_s, 3);
		if (m->site) {
			add_string(mo, "site", m->site->name);
			if (m->site->where[0])
				add_text(mo, "where", m->site->where, sizeof(m->site->where));
			add_stack(mo, "stack", &m->site->user);
			add_frames(mo, "frames", &m->site->user);
		}
		kernel |= m->lock->kernel_deadlock;
		json_object_array_add(a, mo);
	}
	add_uint(o, "threads", r->cycle_threads > r->n_cycle ? r->cycle_threads : r->n_cycle);
	json_object_object_add(o, "cycle", a);
	/* A PI mutex: the kernel refused one of the locks with EDEADLK. */
	json_object_object_add(o, "kernel_detected", json_object_new_boolean(kernel));
}

/* A goroutine: its goid, the function it started in, where it was created. */
static void add_goroutine(json_object *o, const struct lw_report *r)
{
	add_uint(o, "goid", r->goid);
	if (r->func)
		add_text(o, "func", r->func, LW_FRAME_TEXT);
	if (r->created_by)
		add_text(o, "created_by", r->created_by, LW_FRAME_TEXT);
}

/* The goroutine counts of a Go process. */
static void add_goroutine_counts(json_object *o, const struct lw_report *r, bool all)
{
	add_uint(o, "goroutines", r->goroutines);
	if (!all)
		return;
	add_uint(o, "goroutines_blocked", r->goroutines_blocked);
	add_uint(o, "goroutines_stuck", r->goroutines_stuck);
}

static const char *type_name(enum lw_report_type t)
{
	switch (t) {
	case LW_RPT_SITE: return "site";
	case LW_RPT_LEAK: return "leak";
	case LW_RPT_SPIN: return "spin";
	case LW_RPT_STUCK: return "stuck";
	case LW_RPT_UNSTUCK: return "unstuck";
	case LW_RPT_SAMPLE: return "sample";
	case LW_RPT_EXIT: return "exit";
	case LW_RPT_SUMMARY: return "summary";
	case LW_RPT_GO: return "go";
	case LW_RPT_PYTHON: return "python";
	case LW_RPT_DEADLOCK: return "deadlock";
	}
	return "unknown";
}

static char state_str(char s)
{
	return s == 'D' ? 'D' : 'S';
}

int json_write_report(FILE *f, const struct lw_report *r)
{
	json_object *o = json_object_new_object(), *drops;
	char state[2] = { 0 };
	int err = 0;

	if (!o)
		return -ENOMEM;
	add_string(o, "type", type_name(r->type));
	add_fixed(o, "ts", r->ts, 6);
	switch (r->type) {
	case LW_RPT_STUCK:
	case LW_RPT_UNSTUCK:
		add_uint(o, "pid", r->pid);
		if (r->goid) {
			/* a goroutine: a tid only when on a thread now */
			add_goroutine(o, r);
			if (r->tid)
				add_uint(o, "tid", r->tid);
		} else {
			add_uint(o, "tid", r->tid);
			add_string(o, "comm", r->comm ? r->comm : "");
		}
		add_string(o, "pcomm", r->pcomm ? r->pcomm : "");
		add_cgroup(o, r->cgroup);
		add_fixed(o, "blocked_s", r->blocked_s, 3);
		if (r->type == LW_RPT_STUCK && r->goid) {
			json_object_object_add(o, "since_exact",
					       json_object_new_boolean(r->since_exact));
		} else if (r->type == LW_RPT_STUCK) {
			state[0] = state_str(r->state);
			add_string(o, "state", state);
			json_object_object_add(o, "since_exact",
					       json_object_new_boolean(r->since_exact));
		} else {
			json_object_object_add(o, "since_exact",
					       json_object_new_boolean(r->since_exact));
			json_object_object_add(o, "end_exact",
					       json_object_new_boolean(r->end_exact));
		}
		if (r->wait)
			add_wait(o, r->wait);
		if (r->site)
			add_string(o, "site", r->site->name);
		if (r->type == LW_RPT_STUCK && r->lock) {
			if (r->lock->owner_known)
				add_uint(o, "owner_tid", r->lock->owner_tid);
			json_object_object_add(o, "lock", lock_object(r->lock));
		}
		break;
	case LW_RPT_SITE:
		add_uint(o, "pid", r->pid);
		add_string(o, "pcomm", r->pcomm ? r->pcomm : "");
		add_cgroup(o, r->cgroup);
		if (r->goid) /* a goroutine site: the goroutine that found it */
			add_uint(o, "goid", r->goid);
		if (r->site)
			add_site(o, r->site);
		break;
	case LW_RPT_LEAK:
		add_uint(o, "pid", r->pid);
		add_string(o, "pcomm", r->pcomm ? r->pcomm : "");
		add_cgroup(o, r->cgroup);
		add_uint(o, "stuck", r->stuck);
		add_uint(o, "threads", r->threads);
		if (r->go)
			add_goroutine_counts(o, r, false);
		add_fixed(o, "growth_per_min", r->growth_per_min, 2);
		if (r->site)
			add_fixed(o, "window_s", r->site->leak.window_s, 1);
		if (r->site)
			add_site(o, r->site);
		if (r->holder)
			add_holder(o, r->holder);
		break;
	case LW_RPT_DEADLOCK:
		add_uint(o, "pid", r->pid);
		add_string(o, "pcomm", r->pcomm ? r->pcomm : "");
		add_cgroup(o, r->cgroup);
		add_cycle(o, r);
		break;
	case LW_RPT_SPIN:
		add_uint(o, "pid", r->pid);
		add_uint(o, "tid", r->tid);
		add_string(o, "comm", r->comm ? r->comm : "");
		add_string(o, "pcomm", r->pcomm ? r->pcomm : "");
		add_cgroup(o, r->cgroup);
		add_fixed(o, "running_s", r->running_s, 3);
		if (r->goid)
			add_goroutine(o, r); /* the goroutine that ran on it */
		add_stack(o, "stack", r->stack);
		add_frames(o, "frames", r->stack);
		break;
	case LW_RPT_SAMPLE:
		add_uint(o, "pid", r->pid);
		add_string(o, "pcomm", r->pcomm ? r->pcomm : "");
		add_cgroup(o, r->cgroup);
		add_uint(o, "threads", r->threads);
		add_uint(o, "blocked", r->blocked);
		add_uint(o, "stuck", r->stuck);
		if (r->go)
			add_goroutine_counts(o, r, true);
		if (r->go && r->goroutine_scan_interval_s > 0)
			add_fixed(o, "goroutine_scan_interval_s", r->goroutine_scan_interval_s, 3);
		break;
	case LW_RPT_EXIT:
		add_uint(o, "pid", r->pid);
		add_string(o, "pcomm", r->pcomm ? r->pcomm : "");
		add_cgroup(o, r->cgroup);
		break;
	case LW_RPT_GO:
		add_uint(o, "pid", r->pid);
		add_string(o, "pcomm", r->pcomm ? r->pcomm : "");
		add_cgroup(o, r->cgroup);
		add_text(o, "exe", r->exe ? r->exe : "", TEXT_MAX);
		add_string(o, "version", r->go_version ? r->go_version : "");
		if (r->go_error)
			add_text(o, "error", r->go_error, TEXT_MAX);
		else
			add_string(o, "layout", r->go_layout ? r->go_layout : "");
		break;
	case LW_RPT_PYTHON:
		add_uint(o, "pid", r->pid);
		add_string(o, "pcomm", r->pcomm ? r->pcomm : "");
		add_cgroup(o, r->cgroup);
		add_text(o, "version", r->py_version ? r->py_version : "", TEXT_MAX);
		if (r->py_error)
			add_text(o, "error", r->py_error, TEXT_MAX);
		else
			add_text(o, "layout", r->py_layout ? r->py_layout : "", TEXT_MAX);
		break;
	case LW_RPT_SUMMARY:
		add_fixed(o, "duration_s", r->duration_s, 3);
		add_uint(o, "events", r->events);
		add_uint(o, "dropped", r->drops ? lw_drops_total(r->drops) : 0);
		if (r->drops) {
			drops = json_object_new_object();
			add_uint(drops, "ringbuf", r->drops->ringbuf);
			add_uint(drops, "task_storage", r->drops->task_storage);
			add_uint(drops, "targets", r->drops->targets);
			add_uint(drops, "tracker", r->drops->tracker);
			json_object_object_add(o, "drops", drops);
			add_uint(o, "unstuck_inexact", r->drops->unstuck_inexact);
			add_uint(o, "stacks_unreadable", r->drops->stacks_unreadable);
			add_uint(o, "kstacks_unreadable", r->drops->kstacks_unreadable);
			add_uint(o, "python_stacks_unreadable", r->drops->python_stacks_unreadable);
			add_uint(o, "lock_owners_unreadable", r->drops->lock_owners_unreadable);
			add_uint(o, "sites_untracked", r->drops->sites_untracked);
			add_uint(o, "processes_untracked", r->drops->processes_untracked);
			add_uint(o, "threads_untracked", r->drops->threads_untracked);
			add_uint(o, "gs_invalid", r->drops->gs_invalid);
			add_uint(o, "gs_unread", r->drops->gs_unread);
			add_uint(o, "goroutine_stacks_moved", r->drops->goroutine_stacks_moved);
			add_uint(o, "goroutines_untracked", r->drops->goroutines_untracked);
			add_uint(o, "cgroups_unread", r->drops->cgroups_unread);
			add_uint(o, "cgroups_untracked", r->drops->cgroups_untracked);
		}
		break;
	}
	if (fprintf(f, "%s\n",
		    json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							  JSON_C_TO_STRING_NOSLASHESCAPE)) < 0)
		err = -EIO;
	json_object_put(o);
	return err;
}

void json_emit(void *ctx, const struct lw_report *r)
{
	FILE *f = ctx;

	json_write_report(f, r);
	fflush(f);
}

// SPDX-License-Identifier: GPL-2.0
/* The tracker (user/tracker.c), driven by hand-made scan and ring-buffer records. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <cmocka.h>
#include "cgroup.h"
#include "tracker.h"

#define SEC 1000000000ULL
#define MS 1000000ULL
#define THRESHOLD (10 * SEC)
/* CLOCK_REALTIME - CLOCK_MONOTONIC in the tests: ts = OFFSET_S + mono seconds. */
#define OFFSET_S 1700000000.0
#define FUTEX_UADDR 0x7f0000001000ULL

/* ---- A sink that keeps a copy of every report ---- */

struct captured {
	struct lw_report r;
	char comm[64], pcomm[64];
	struct lw_wait wait;
	char site[24];          /* r.site->name, "" without a site */
	char func[LW_FRAME_TEXT], created_by[LW_FRAME_TEXT]; /* "(null)" for NULL */
	bool site_goroutine;
	char site_where[LW_FRAME_TEXT + 64], site_created_by[LW_FRAME_TEXT];
	char site_frames[8][LW_FRAME_TEXT];
	struct lw_frame site_info[8];
	int site_user_n, site_kernel_n, stack_n;
	char site_frame0[LW_FRAME_TEXT], site_kframe0[LW_FRAME_TEXT], stack_frame0[LW_FRAME_TEXT];
	/* r.cgroup: a copy (the tracker's goes with its process); the
	 * tracker's pointer, to compare only */
	struct lw_cgroup cg;
	struct lw_cgroup_names cg_names;
	char cg_path[LW_CGROUP_PATH_MAX];
	const struct lw_cgroup *cgroup_ptr;
};

struct fx {
	struct lw_tracker *t;
	struct captured **rep; /* each on its own: they point into themselves */
	size_t n, cap;
	unsigned int forgets;
	uint32_t forgot_pid;
	uint64_t now; /* the newest scan's time */
	/* The fake Go process's stacks: -EAGAIN this many times more, then
	 * the stack; go_stack_err: always that error instead. */
	int go_eagain;
	int go_stack_err;
	/* The next this many unwinds of the Go process's threads find them in
	 * the scheduler (on g0), not in a goroutine. */
	unsigned int go_sched_stacks;
	unsigned int go_unwinds;
	unsigned int go_batches; /* unwind_goroutines calls */
	uint64_t go_batch_goids[16]; /* the goids of the last one, in order */
	size_t go_batch_n;
	/* Count reports by type, keep none: for what memory the tracker uses. */
	bool count_only;
	size_t counted[LW_RPT_SPIN + 1];
};

static void capture(void *ctx, const struct lw_report *r)
{
	struct fx *f = ctx;
	struct captured *c;

	if (f->count_only) {
		f->counted[r->type]++;
		return;
	}
	if (f->n == f->cap) {
		f->cap = f->cap ? 2 * f->cap : 64;
		f->rep = realloc(f->rep, f->cap * sizeof(*f->rep));
		assert_non_null(f->rep);
	}
	c = calloc(1, sizeof(*c));
	assert_non_null(c);
	f->rep[f->n++] = c;
	c->r = *r;
	/* The strings live in the tracker: copy them now. */
	snprintf(c->comm, sizeof(c->comm), "%s", r->comm ? r->comm : "(null)");
	snprintf(c->pcomm, sizeof(c->pcomm), "%s", r->pcomm ? r->pcomm : "(null)");
	c->r.comm = c->comm;
	c->r.pcomm = c->pcomm;
	if (r->wait) {
		c->wait = *r->wait;
		c->r.wait = &c->wait;
	}
	snprintf(c->func, sizeof(c->func), "%s", r->func ? r->func : "(null)");
	snprintf(c->created_by, sizeof(c->created_by), "%s",
		 r->created_by ? r->created_by : "(null)");
	c->r.func = c->func;
	c->r.created_by = c->created_by;
	if (r->site) {
		c->site_goroutine = r->site->goroutine;
		snprintf(c->site_where, sizeof(c->site_where), "%s", r->site->where);
		snprintf(c->site_created_by, sizeof(c->site_created_by), "%s",
			 r->site->created_by);
		for (int i = 0; i < r->site->user.n && i < 8; i++)
		{
			snprintf(c->site_frames[i], LW_FRAME_TEXT, "%s", r->site->user.frames[i]);
			c->site_info[i] = r->site->user.info[i];
		}
		snprintf(c->site, sizeof(c->site), "%s", r->site->name);
		c->site_user_n = r->site->user.n;
		c->site_kernel_n = r->site->kernel.n;
		if (r->site->user.n)
			snprintf(c->site_frame0, sizeof(c->site_frame0), "%s",
				 r->site->user.frames[0]);
		if (r->site->kernel.n)
			snprintf(c->site_kframe0, sizeof(c->site_kframe0), "%s",
				 r->site->kernel.frames[0]);
	}
	if (r->stack) {
		c->stack_n = r->stack->n;
		if (r->stack->n)
			snprintf(c->stack_frame0, sizeof(c->stack_frame0), "%s",
				 r->stack->frames[0]);
	}
	c->cgroup_ptr = r->cgroup;
	if (r->cgroup) {
		snprintf(c->cg_path, sizeof(c->cg_path), "%s", r->cgroup->path);
		cgroup_names(c->cg_path, &c->cg_names);
		c->cg = (struct lw_cgroup){ c->cg_path, c->cg_names.container, c->cg_names.runtime,
					    c->cg_names.pod, c->cg_names.unit };
		c->r.cgroup = &c->cg;
	}
	/* Not kept: they point into the tracker. */
	c->r.drops = NULL;
	c->r.site = NULL;
	c->r.stack = NULL;
}

static size_t count(const struct fx *f, enum lw_report_type type)
{
	size_t i, n = 0;

	for (i = 0; i < f->n; i++)
		n += f->rep[i]->r.type == type;
	return n;
}

/* The nth (from 0) report of a type. */
static const struct lw_report *nth(const struct fx *f, enum lw_report_type type, size_t k)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (f->rep[i]->r.type == type && k-- == 0)
			return &f->rep[i]->r;
	print_error("no report #%zu of type %d among %zu\n", k, type, f->n);
	fail();
	return NULL;
}

/* The last sample of a process, or NULL. */
static const struct lw_report *last_sample(const struct fx *f, uint32_t pid)
{
	const struct lw_report *found = NULL;
	size_t i;

	for (i = 0; i < f->n; i++)
		if (f->rep[i]->r.type == LW_RPT_SAMPLE && f->rep[i]->r.pid == pid)
			found = &f->rep[i]->r;
	return found;
}

static size_t count_pid(const struct fx *f, enum lw_report_type type, uint32_t pid)
{
	size_t i, n = 0;

	for (i = 0; i < f->n; i++)
		n += f->rep[i]->r.type == type && f->rep[i]->r.pid == pid;
	return n;
}

static const struct captured *nth_cap(const struct fx *f, enum lw_report_type type, size_t k)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (f->rep[i]->r.type == type && k-- == 0)
			return f->rep[i];
	fail_msg("no report #%zu of type %d", k, type);
	return NULL;
}

/* The stuck report of a thread. */
static const struct captured *stuck_of(const struct fx *f, uint32_t tid)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (f->rep[i]->r.type == LW_RPT_STUCK && f->rep[i]->r.tid == tid)
			return f->rep[i];
	fail_msg("no stuck report for tid %u", tid);
	return NULL;
}

/* Fake stack ops: odd and even tids wait at two different user stacks; tid
 * 666 cannot be unwound. */
static int fake_unwind(void *ctx, const struct lw_task_rec *r, uint64_t *pcs, int max)
{
	if (r->tid == 666)
		return -ESRCH;
	assert_true(max >= 2);
	pcs[0] = 0x401000 + (r->tid % 2) * 0x100;
	pcs[1] = 0x402000;
	return 2;
}

/* A stack of its own for every tid (mod 4096): one site per thread. */
static int fake_unwind_per_tid(void *ctx, const struct lw_task_rec *r, uint64_t *pcs, int max)
{
	pcs[0] = 0x500000 + (uint64_t)(r->tid % 4096) * 0x10;
	return 1;
}

static void fake_symbolize_user(void *ctx, uint32_t pid, uint64_t pc, bool first, char *buf,
				size_t len)
{
	snprintf(buf, len, "fn_%llx+0x0 (app)", (unsigned long long)pc);
}

static void fake_symbolize_kernel(void *ctx, uint64_t pc, char *buf, size_t len)
{
	snprintf(buf, len, "k_%llx+0x4/0x10", (unsigned long long)pc);
}

static void fake_forget(void *ctx, uint32_t pid)
{
	struct fx *f = ctx;

	f->forgets++;
	f->forgot_pid = pid;
}

static int read_waiter(uint32_t pid, uint64_t waiters, uint64_t *uaddr)
{
	*uaddr = waiters + 0x10;
	return 0;
}

static const struct lw_restart_fns restart_fns = {
	.futex_wait_restart = 0xffffffff81000100ULL,
	.hrtimer_nanosleep_restart = 0xffffffff81000200ULL,
	.do_restart_poll = 0xffffffff81000300ULL,
};

/* ---- A fake Go process (pid GO_PID): its stacks, frames and wait reasons ---- */

#define GO_PID 200
#define PC_GOPARK 0x1000
#define PC_CHANSEND 0x1100
#define PC_SEMACQUIRE 0x1200
#define PC_LOCKSLOW 0x1300
#define PC_GOEXIT 0x1f00
#define PC_ASYNC_PREEMPT2 0x1400 /* in runtime.asyncPreempt2, after its mcall */
#define PC_QUERY_FUNC1 0x2000 /* main.queryAll.func1's entry: a start pc */
#define PC_QUERY_SEND 0x2050  /* in it, after the chan send */
#define PC_QUERY_GO 0x3000    /* main.queryAll, after its go statement: a gopc */
#define PC_LOCKER 0x4000      /* main.locker's entry */
#define PC_LOCKER_LOCK 0x4020 /* in it, Mutex.Lock inlined */
#define PC_MAIN_GO 0x5000     /* main.main, after a go statement */
#define PC_NETREAD 0x6000      /* main.reader's entry: reads a socket */
#define PC_NETREAD_CALL 0x6040 /* in it, after conn.Read */
#define PC_NETFD_READ 0x7000   /* net.(*netFD).Read: the standard library's */
#define PC_POLL_WAIT 0x7100    /* internal/poll.runtime_pollWait */
#define WR_IO_WAIT 2
#define PC_FUTEX 0x8000       /* runtime.futex, on a thread's g0 */
#define PC_MSTART 0x8100      /* runtime.mstart: the bottom of g0 */
#define WR_CHAN_SEND 15
#define WR_MUTEX 21
#define WR_SELECT 9

/* The Go stack of g, by the function it started in: a chan send
 * (main.queryAll.func1) or a Mutex.Lock (main.locker). */
static int fake_unwind_goroutine(void *ctx, uint32_t pid, const struct go_goroutine *g,
				 uint64_t *pcs, int max)
{
	struct fx *f = ctx;
	int n = 0;

	assert_int_equal(pid, GO_PID);
	assert_true(max >= 8);
	f->go_unwinds++;
	if (f->go_stack_err)
		return f->go_stack_err;
	if (f->go_eagain > 0) {
		f->go_eagain--;
		return -EAGAIN;
	}
	if (g->preempted) {
		/* stopped in its loop: sched.pc in the preemption path */
		pcs[n++] = PC_ASYNC_PREEMPT2;
		pcs[n++] = PC_QUERY_SEND;
		pcs[n++] = PC_GOEXIT;
		return n;
	}
	pcs[n++] = PC_GOPARK;
	if (g->startpc == PC_NETREAD) {
		pcs[n++] = PC_POLL_WAIT;
		pcs[n++] = PC_NETFD_READ;
		pcs[n++] = PC_NETREAD_CALL;
	} else if (g->startpc == PC_LOCKER) {
		pcs[n++] = PC_SEMACQUIRE;
		pcs[n++] = PC_LOCKSLOW;
		pcs[n++] = PC_LOCKER_LOCK;
	} else {
		pcs[n++] = PC_CHANSEND;
		pcs[n++] = PC_QUERY_SEND;
	}
	pcs[n++] = PC_GOEXIT;
	return n;
}

/* The batch callback: each goroutine as the single one reads it. */
static void fake_unwind_goroutines(void *ctx, uint32_t pid, const struct go_goroutine *const *gs,
				   size_t n, struct go_stack_result *out)
{
	struct fx *f = ctx;

	f->go_batches++;
	f->go_batch_n = n;
	for (size_t i = 0; i < n; i++) {
		if (i < sizeof(f->go_batch_goids) / sizeof(f->go_batch_goids[0]))
			f->go_batch_goids[i] = gs[i]->goid;
		out[i].n = fake_unwind_goroutine(ctx, pid, gs[i], out[i].pcs, out[i].max);
	}
}

static int go_frame(struct go_frame *out, const char *func, const char *file, int line,
		    uint64_t entry, bool inlined)
{
	*out = (struct go_frame){ .func = func, .file = file, .line = line, .entry = entry,
				  .inlined = inlined };
	return 1;
}

static int fake_go_frames(void *ctx, uint32_t pid, uint64_t pc, bool first, struct go_frame *out,
			  int max)
{
	if (pid != GO_PID)
		return 0;
	assert_true(max >= 2);
	switch (pc) {
	case PC_GOPARK:
		return go_frame(out, "runtime.gopark", "/go/src/runtime/proc.go", 381, 0xf00, 0);
	case PC_ASYNC_PREEMPT2:
		return go_frame(out, "runtime.asyncPreempt2", "/go/src/runtime/preempt.go", 308,
				0x13f0, 0);
	case PC_CHANSEND:
		return go_frame(out, "runtime.chansend1", "/go/src/runtime/chan.go", 145, 0x10f0,
				0);
	case PC_SEMACQUIRE:
		return go_frame(out, "sync.runtime_SemacquireMutex", "/go/src/runtime/sema.go", 77,
				0x11f0, 0);
	case PC_LOCKSLOW:
		return go_frame(out, "sync.(*Mutex).lockSlow", "/go/src/sync/mutex.go", 171, 0x12f0,
				0);
	case PC_GOEXIT:
		return go_frame(out, "runtime.goexit", "/go/src/runtime/asm_amd64.s", 1598, 0x1ef0,
				0);
	case PC_QUERY_FUNC1:
		return go_frame(out, "main.queryAll.func1", "/src/main.go", 20, PC_QUERY_FUNC1, 0);
	case PC_QUERY_SEND:
		return go_frame(out, "main.queryAll.func1", "/src/main.go", 21, PC_QUERY_FUNC1, 0);
	case PC_QUERY_GO:
		assert_false(first); /* a return pc */
		return go_frame(out, "main.queryAll", "/src/main.go", 19, 0x2f00, 0);
	case PC_LOCKER:
		return go_frame(out, "main.locker", "/src/lock.go", 10, PC_LOCKER, 0);
	case PC_LOCKER_LOCK:
		go_frame(&out[0], "sync.(*Mutex).Lock", "/go/src/sync/mutex.go", 90, PC_LOCKER, 1);
		go_frame(&out[1], "main.locker", "/src/lock.go", 12, PC_LOCKER, 0);
		return 2;
	case PC_MAIN_GO:
		return go_frame(out, "main.main", "/src/main.go", 40, 0x4f00, 0);
	case PC_POLL_WAIT:
		go_frame(out, "internal/poll.runtime_pollWait", "/go/src/runtime/netpoll.go", 351,
			 0x70f0, 0);
		out->stdlib = true;
		return 1;
	case PC_NETFD_READ:
		go_frame(out, "net.(*netFD).Read", "/go/src/net/fd_posix.go", 55, 0x6ff0, 0);
		out->stdlib = true;
		return 1;
	case PC_FUTEX:
		return go_frame(out, "runtime.futex", "/go/src/runtime/sys_linux_amd64.s", 557,
				0x7ff0, 0);
	case PC_MSTART:
		return go_frame(out, "runtime.mstart", "/go/src/runtime/asm_amd64.s", 394, 0x80f0,
				0);
	case PC_NETREAD:
		return go_frame(out, "main.reader", "/src/net.go", 30, PC_NETREAD, 0);
	case PC_NETREAD_CALL:
		return go_frame(out, "main.reader", "/src/net.go", 33, PC_NETREAD, 0);
	}
	return 0;
}

static const char *fake_go_wait_reason(void *ctx, uint32_t pid, uint8_t reason)
{
	switch (reason) {
	case WR_CHAN_SEND: return "chan send";
	case WR_MUTEX: return "sync.Mutex.Lock";
	case WR_SELECT: return "select";
	case WR_IO_WAIT: return "IO wait";
	}
	return "";
}

/* The threads of the Go process run Go code; others' are native. */
static int fake_unwind_go_threads(void *ctx, const struct lw_task_rec *r, uint64_t *pcs, int max)
{
	struct fx *f = ctx;

	if (r->pid != GO_PID)
		return fake_unwind(ctx, r, pcs, max);
	if (f->go_sched_stacks) {
		f->go_sched_stacks--;
		pcs[0] = PC_FUTEX;
		pcs[1] = PC_MSTART;
		return 2;
	}
	pcs[0] = PC_QUERY_SEND;
	pcs[1] = PC_GOEXIT;
	return 2;
}

/* FRAME_STACKS: TWO_STACKS' pcs named by fake_user_frames, Python frames
 * from fake_python_frames. */
enum fx_stacks { NO_STACKS, TWO_STACKS, STACK_PER_TID, GO_STACKS, GO_CAP_2, GO_BATCH, FRAME_STACKS,
		 CGROUP_STACKS /* TWO_STACKS and fake_read_cgroup */ };

/* The fake /proc/PID/cgroup: read_cgroup has no context, so the tests'
 * paths and read count are the file's own. */
static struct {
	uint32_t pid[8];
	const char *path[8];
	unsigned int reads;
} fake_cgroups;

static void fake_cgroup_set(uint32_t pid, const char *path)
{
	size_t i;

	for (i = 0; i < 8 && fake_cgroups.pid[i] && fake_cgroups.pid[i] != pid; i++)
		;
	assert_true(i < 8);
	fake_cgroups.pid[i] = pid;
	fake_cgroups.path[i] = path;
}

static int fake_read_cgroup(uint32_t pid, char *path, size_t len)
{
	size_t i;

	fake_cgroups.reads++;
	for (i = 0; i < 8; i++) {
		if (fake_cgroups.pid[i] == pid) {
			if (!fake_cgroups.path[i])
				return -ENOENT;
			snprintf(path, len, "%s", fake_cgroups.path[i]);
			return 0;
		}
	}
	snprintf(path, len, "/");
	return 0;
}

static void frame_set(struct lw_frame *f, uint8_t kind, uint64_t pc, const char *func,
		      const char *file, int line, const char *module, bool inlined)
{
	lw_frame_unknown(f, kind, pc, module);
	snprintf(f->func, sizeof(f->func), "%s", func);
	snprintf(f->file, sizeof(f->file), "%s", file);
	f->line = line;
	f->inlined = inlined;
	f->offset = 0x10;
}

/* fake_unwind's pcs: 0x401000 an inline chain in the program, 0x401100
 * libc's wait, 0x402000 the interpreter's eval loop. */
static int fake_user_frames(void *ctx, uint32_t pid, uint64_t pc, bool first,
			    struct lw_frame *out, int max)
{
	assert_true(max >= 2);
	if (pc == 0x401000) {
		frame_set(&out[0], LW_FRAME_NATIVE, pc, "chan_send", "/src/query.c", 14, "app",
			  true);
		frame_set(&out[1], LW_FRAME_NATIVE, pc, "query", "/src/query.c", 30, "app", false);
		return 2;
	}
	if (pc == 0x401100) {
		frame_set(&out[0], LW_FRAME_NATIVE, pc, "pthread_cond_wait", "", 0, "libc.so.6",
			  false);
		return 1;
	}
	frame_set(&out[0], LW_FRAME_NATIVE, pc, "_PyEval_EvalFrameDefault", "", 0,
		  "libpython3.11.so.1.0", false);
	return 1;
}

/* Threads 101 and 103 wait in queue.get under handle(); 105 elsewhere. */
static int fake_python_frames(void *ctx, uint32_t pid, uint32_t tid, struct lw_frame *out,
			      int max)
{
	if (tid == 101 || tid == 103) {
		frame_set(&out[0], LW_FRAME_PYTHON, 0x7000, "Queue.get",
			  "/usr/lib/python3.11/queue.py", 171, "", false);
		frame_set(&out[1], LW_FRAME_PYTHON, 0x7100, "handle", "/srv/leak.py", 6, "", false);
		out[1].py_entry = true;
		return 2;
	}
	if (tid == 105) {
		frame_set(&out[0], LW_FRAME_PYTHON, 0x7200, "other", "/srv/leak.py", 9, "", false);
		out[0].py_entry = true;
		return 1;
	}
	return tid == 107 ? -EFAULT : 0;
}

static int make_fx(void **state, bool host_wide, enum fx_stacks stacks)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct lw_tracker_opts opts = {
		.threshold_ns = THRESHOLD,
		.host_wide = host_wide,
		.clock = { .realtime_minus_mono_ns = (int64_t)(OFFSET_S * 1e9) },
		.restart_fns = restart_fns,
		.read_first_waiter = read_waiter,
	};

	if (!f)
		return -1;
	if (stacks == CGROUP_STACKS) {
		memset(&fake_cgroups, 0, sizeof(fake_cgroups));
		opts.read_cgroup = fake_read_cgroup;
		stacks = TWO_STACKS;
	}
	opts.sink.emit = capture;
	opts.sink.ctx = f;
	if (stacks == STACK_PER_TID) {
		/* A short trend window: sites go idle within a few scans. */
		opts.trend = (struct trend_opts){ .window = 8, .min_growth = 3, .min_span = 4,
						  .recent = 2, .z_crit = 2.326 };
	}
	if (stacks == GO_STACKS || stacks == GO_CAP_2 || stacks == GO_BATCH) {
		opts.stacks.unwind_goroutine = fake_unwind_goroutine;
		if (stacks == GO_BATCH)
			opts.stacks.unwind_goroutines = fake_unwind_goroutines;
		opts.stacks.go_frames = fake_go_frames;
		opts.stacks.go_wait_reason = fake_go_wait_reason;
		if (stacks == GO_CAP_2)
			opts.max_goroutines = 2;
		/* A short trend window, as for the sites per tid. */
		opts.trend = (struct trend_opts){ .window = 8, .min_growth = 3, .min_span = 4,
						  .recent = 2, .z_crit = 2.326 };
	}
	if (stacks) {
		opts.stacks.unwind = stacks == STACK_PER_TID ? fake_unwind_per_tid :
				     stacks >= GO_STACKS     ? fake_unwind_go_threads :
							       fake_unwind;
		opts.stacks.symbolize_user = fake_symbolize_user;
		if (stacks == FRAME_STACKS) {
			opts.stacks.user_frames = fake_user_frames;
			opts.stacks.python_frames = fake_python_frames;
		}
		opts.stacks.symbolize_kernel = fake_symbolize_kernel;
		opts.stacks.forget = fake_forget;
		opts.stacks.ctx = f;
	}
	if (tracker_new(&opts, &f->t)) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int setup_targets(void **state)
{
	return make_fx(state, false, NO_STACKS);
}

static int setup_stacks(void **state)
{
	return make_fx(state, false, TWO_STACKS);
}

static int setup_frames(void **state)
{
	return make_fx(state, false, FRAME_STACKS);
}

static int setup_site_per_tid(void **state)
{
	return make_fx(state, false, STACK_PER_TID);
}

static int setup_go(void **state)
{
	return make_fx(state, false, GO_STACKS);
}

static int setup_go_batch(void **state)
{
	return make_fx(state, false, GO_BATCH);
}

static int setup_go_cap_2(void **state)
{
	return make_fx(state, false, GO_CAP_2);
}

static int setup_host_wide(void **state)
{
	return make_fx(state, true, NO_STACKS);
}

static int setup_cgroups(void **state)
{
	return make_fx(state, true, CGROUP_STACKS);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	tracker_free(f->t);
	while (f->n)
		free(f->rep[--f->n]);
	free(f->rep);
	free(f);
	return 0;
}

static struct lw_drops drops_of(const struct fx *f)
{
	struct lw_drops d = { 0 };

	tracker_drops(f->t, &d);
	return d;
}

static struct lw_tracker_stats stats_of(const struct fx *f)
{
	struct lw_tracker_stats s;

	tracker_stats(f->t, &s);
	return s;
}

static const struct lw_clock test_clock = { .realtime_minus_mono_ns = (int64_t)(OFFSET_S * 1e9) };

/* ---- Records ---- */

/* A thread blocked in futex(FUTEX_WAIT_PRIVATE) since since_ns, seen at now_ns. */
static struct lw_task_rec blocked(uint32_t pid, uint32_t tid, uint64_t since_ns, uint64_t now_ns)
{
	struct lw_task_rec r = {
		.type = LW_REC_TASK,
		.pid = pid,
		.tid = tid,
		.flags = LW_TF_BLOCKED | LW_TF_IN_SYSCALL,
		.now_ns = now_ns,
		.blocked_since_ns = since_ns,
		.syscall_nr = 202,
		.args = { FUTEX_UADDR, 128, 0 },
	};

	snprintf(r.comm, sizeof(r.comm), "w%u", tid);
	snprintf(r.pcomm, sizeof(r.pcomm), "app%u", pid);
	return r;
}

static struct lw_task_rec running(uint32_t pid, uint32_t tid, uint64_t now_ns)
{
	struct lw_task_rec r = blocked(pid, tid, 0, now_ns);

	r.flags = 0;
	r.syscall_nr = -1;
	return r;
}

/* On a CPU or waiting for one, with nvcsw voluntary switches so far. */
static struct lw_task_rec runnable(uint32_t pid, uint32_t tid, uint64_t nvcsw, uint64_t now_ns)
{
	struct lw_task_rec r = running(pid, tid, now_ns);

	r.flags = LW_TF_RUNNABLE;
	r.nvcsw = nvcsw;
	return r;
}

/* A scan read at the time of its first record (or a second after the last
 * scan when it has none). */
static void scan(struct fx *f, const struct lw_task_rec *recs, size_t n)
{
	size_t i;

	f->now = n ? recs[0].now_ns : f->now + SEC;
	for (i = 0; i < n; i++)
		if (recs[i].now_ns > f->now)
			f->now = recs[i].now_ns;
	tracker_scan_begin(f->t, n ? recs[0].now_ns : f->now, &test_clock);
	for (i = 0; i < n; i++)
		tracker_scan_task(f->t, &recs[i], NULL);
	tracker_scan_end(f->t);
}

#define SCAN(f, ...)                                                          \
	do {                                                                  \
		const struct lw_task_rec recs_[] = { __VA_ARGS__ };           \
		scan(f, recs_, sizeof(recs_) / sizeof(recs_[0]));             \
	} while (0)

static void scan_empty(struct fx *f)
{
	scan(f, NULL, 0);
}

static void event(struct fx *f, uint32_t type, uint32_t pid, uint32_t tid, uint32_t flags,
		  uint64_t ts_ns, uint64_t since_ns, uint32_t ppid)
{
	struct lw_event e = {
		.type = type,
		.pid = pid,
		.tid = tid,
		.flags = flags,
		.ts_ns = ts_ns,
		.blocked_since_ns = since_ns,
		.ppid = ppid,
	};

	snprintf(e.comm, sizeof(e.comm), "w%u", tid);
	tracker_event(f->t, &e);
}

static void wait_end(struct fx *f, uint32_t pid, uint32_t tid, uint64_t since_ns, uint64_t ts_ns)
{
	event(f, LW_REC_WAIT_END, pid, tid, 0, ts_ns, since_ns, 0);
}

/* ---- Stuck ---- */

static void test_blocked_below_threshold_not_stuck(void **state)
{
	struct fx *f = *state;

	tracker_add_target(f->t, 100);
	SCAN(f, blocked(100, 101, 100 * SEC, 105 * SEC));
	SCAN(f, blocked(100, 101, 100 * SEC, 110 * SEC - 1));
	assert_int_equal(count(f, LW_RPT_STUCK), 0);
	assert_int_equal(count(f, LW_RPT_SAMPLE), 2);
	assert_int_equal(last_sample(f, 100)->stuck, 0);
	assert_int_equal(last_sample(f, 100)->blocked, 1);
}

static void test_crossing_threshold_reports_stuck_once(void **state)
{
	struct fx *f = *state;
	const struct lw_report *r;
	uint64_t now;

	tracker_add_target(f->t, 100);
	SCAN(f, blocked(100, 101, 100 * SEC, 105 * SEC));
	SCAN(f, blocked(100, 101, 100 * SEC, 110 * SEC)); /* exactly the threshold */
	for (now = 111; now < 300; now++)
		SCAN(f, blocked(100, 101, 100 * SEC, now * SEC));
	assert_int_equal(count(f, LW_RPT_STUCK), 1);
	assert_int_equal(count(f, LW_RPT_UNSTUCK), 0);

	r = nth(f, LW_RPT_STUCK, 0);
	assert_int_equal(r->pid, 100);
	assert_int_equal(r->tid, 101);
	assert_string_equal(r->comm, "w101");
	assert_string_equal(r->pcomm, "app100");
	assert_int_equal(r->state, 'S');
	assert_float_equal(r->blocked_s, 10.0, 1e-9);
	assert_float_equal(r->ts, OFFSET_S + 110, 1e-6);
	assert_true(r->since_exact);
	assert_non_null(r->wait);
	assert_string_equal(r->wait->kind, "futex");
	assert_string_equal(r->wait->futex_op, "FUTEX_WAIT_PRIVATE");
	assert_true(r->wait->has_futex);
	assert_int_equal(r->wait->futex_addr, FUTEX_UADDR);
}

static void test_first_scan_already_past_threshold(void **state)
{
	struct fx *f = *state;

	tracker_add_target(f->t, 100);
	SCAN(f, blocked(100, 101, 100 * SEC, 160 * SEC + 500 * MS));
	assert_int_equal(count(f, LW_RPT_STUCK), 1);
	assert_float_equal(nth(f, LW_RPT_STUCK, 0)->blocked_s, 60.5, 1e-9);
}

static void test_since_inexact_reported(void **state)
{
	struct fx *f = *state;
	struct lw_task_rec r = blocked(100, 101, 100 * SEC, 120 * SEC);

	r.flags |= LW_TF_SINCE_INEXACT;
	tracker_add_target(f->t, 100);
	scan(f, &r, 1);
	assert_int_equal(count(f, LW_RPT_STUCK), 1);
	assert_false(nth(f, LW_RPT_STUCK, 0)->since_exact);
	/* The unstuck of that wait says so too. */
	wait_end(f, 100, 101, 100 * SEC, 121 * SEC);
	assert_int_equal(count(f, LW_RPT_UNSTUCK), 1);
	assert_false(nth(f, LW_RPT_UNSTUCK, 0)->since_exact);
}

static void test_uninterruptible_is_state_d(void **state)
{
	struct fx *f = *state;
	struct lw_task_rec r = blocked(100, 101, 100 * SEC, 120 * SEC);

	r.flags |= LW_TF_UNINTERRUPTIBLE;
	r.syscall_nr = 0; /* read */
	tracker_add_target(f->t, 100);
	scan(f, &r, 1);
	assert_int_equal(nth(f, LW_RPT_STUCK, 0)->state, 'D');
	assert_string_equal(nth(f, LW_RPT_STUCK, 0)->wait->kind, "read");
}

static void test_stuck_wait_uses_restart_fns_and_waiter_reader(void **state)
{
	struct fx *f = *state;
	struct lw_task_rec a = blocked(100, 101, 100 * SEC, 120 * SEC);
	struct lw_task_rec b = blocked(100, 102, 100 * SEC, 120 * SEC);

	a.syscall_nr = 219; /* restart_syscall */
	a.flags |= LW_TF_RESTART;
	a.restart_fn = restart_fns.hrtimer_nanosleep_restart;
	b.syscall_nr = 449; /* futex_waitv */
	b.args[0] = 0x7ffd0000;
	b.args[1] = 1;
	tracker_add_target(f->t, 100);
	{
		const struct lw_task_rec recs[] = { a, b };

		scan(f, recs, 2);
	}
	assert_int_equal(count(f, LW_RPT_STUCK), 2);
	for (size_t i = 0; i < 2; i++) {
		const struct lw_report *r = nth(f, LW_RPT_STUCK, i);

		if (r->tid == 101) {
			assert_string_equal(r->wait->kind, "nanosleep");
		} else {
			assert_string_equal(r->wait->kind, "futex");
			assert_true(r->wait->has_futex);
			assert_int_equal(r->wait->futex_addr, 0x7ffd0010);
		}
	}
}

static void test_new_episode_new_stuck(void **state)
{
	struct fx *f = *state;
	const struct lw_report *u;

	tracker_add_target(f->t, 100);
	SCAN(f, blocked(100, 101, 100 * SEC, 115 * SEC));
	/* It ran and blocked again (its WAIT_END lost): a new wait since 120. */
	SCAN(f, blocked(100, 101, 120 * SEC, 121 * SEC));
	assert_int_equal(count(f, LW_RPT_UNSTUCK), 1);
	u = nth(f, LW_RPT_UNSTUCK, 0);
	assert_false(u->end_exact);
	assert_float_equal(u->blocked_s, 15.0, 1e-9); /* until last seen blocked */
	assert_int_equal(drops_of(f).unstuck_inexact, 1);
	assert_int_equal(count(f, LW_RPT_STUCK), 1);

	SCAN(f, blocked(100, 101, 120 * SEC, 131 * SEC));
	assert_int_equal(count(f, LW_RPT_STUCK), 2);
	assert_float_equal(nth(f, LW_RPT_STUCK, 1)->blocked_s, 11.0, 1e-9);
	SCAN(f, blocked(100, 101, 120 * SEC, 140 * SEC));
	assert_int_equal(count(f, LW_RPT_STUCK), 2);
}

/* ---- Unstuck ---- */

static void test_wait_end_matching_since_is_exact_unstuck(void **state)
{
	struct fx *f = *state;
	const struct lw_report *u;

	tracker_add_target(f->t, 100);
	SCAN(f, blocked(100, 101, 100 * SEC, 115 * SEC));
	wait_end(f, 100, 101, 100 * SEC, 123 * SEC + 500 * MS);
	assert_int_equal(count(f, LW_RPT_UNSTUCK), 1);
	u = nth(f, LW_RPT_UNSTUCK, 0);
	assert_true(u->end_exact);
	assert_int_equal(u->pid, 100);
	assert_int_equal(u->tid, 101);
	assert_string_equal(u->comm, "w101");
	assert_string_equal(u->pcomm, "app100");
	assert_float_equal(u->blocked_s, 23.5, 1e-9);
	assert_float_equal(u->ts, OFFSET_S + 123.5, 1e-6);
	assert_true(u->since_exact);

	/* The scans that follow see it running: nothing more. */
	SCAN(f, running(100, 101, 125 * SEC));
	SCAN(f, running(100, 101, 126 * SEC));
	assert_int_equal(count(f, LW_RPT_UNSTUCK), 1);
	assert_int_equal(drops_of(f).unstuck_inexact, 0);
}

static void test_wait_end_twice_reports_once(void **state)
{
	struct fx *f = *state;

	tracker_add_target(f->t, 100);
	SCAN(f, blocked(100, 101, 100 * SEC, 115 * SEC));
	wait_end(f, 100, 101, 100 * SEC, 116 * SEC);
	wait_end(f, 100, 101, 100 * SEC, 116 * SEC);
	assert_int_equal(count(f, LW_RPT_UNSTUCK), 1);
}

static void test_wait_end_other_since_ignored(void **state)
{
	struct fx *f = *state;
	struct lw_waiter_view list[4];

	tracker_add_target(f->t, 100);
	SCAN(f, blocked(100, 101, 100 * SEC, 115 * SEC));
	wait_end(f, 100, 101, 99 * SEC, 116 * SEC);
	assert_int_equal(count(f, LW_RPT_UNSTUCK), 0);
	assert_int_equal(tracker_stuck_waiters(f->t, list, 4), 1);
	assert_int_equal(list[0].id.id, 101);
}

static void test_wait_end_unknown_or_not_stuck_ignored(void **state)
{
	struct fx *f = *state;

	tracker_add_target(f->t, 100);
	SCAN(f, blocked(100, 101, 100 * SEC, 105 * SEC));
	wait_end(f, 100, 999, 100 * SEC, 106 * SEC); /* unknown thread */
	wait_end(f, 100, 101, 100 * SEC, 106 * SEC); /* known, not stuck */
	assert_int_equal(count(f, LW_RPT_UNSTUCK), 0);
	SCAN(f, blocked(100, 101, 100 * SEC, 111 * SEC));
	assert_int_equal(count(f, LW_RPT_STUCK), 1);
}

static void test_end_seen_by_scan_only_is_inexact_unstuck(void **state)
{
	struct fx *f = *state;
	struct lw_waiter_view list[4];
	const struct lw_report *u;

	tracker_add_target(f->t, 100);
	SCAN(f, blocked(100, 101, 100 * SEC, 115 * SEC));
	SCAN(f, running(100, 101, 116 * SEC));
	/* Its record may still come: not reported yet, not listed as stuck. */
	assert_int_equal(count(f, LW_RPT_UNSTUCK), 0);
	assert_int_equal(tracker_stuck_waiters(f->t, list, 4), 0);

	SCAN(f, running(100, 101, 117 * SEC));
	assert_int_equal(count(f, LW_RPT_UNSTUCK), 1);
	u = nth(f, LW_RPT_UNSTUCK, 0);
	assert_false(u->end_exact);
	assert_int_equal(u->tid, 101);
	assert_float_equal(u->blocked_s, 15.0, 1e-9); /* last seen blocked at 115 */
	assert_float_equal(u->ts, OFFSET_S + 115, 1e-6);
	assert_int_equal(drops_of(f).unstuck_inexact, 1);

	SCAN(f, running(100, 101, 118 * SEC));
	assert_int_equal(count(f, LW_RPT_UNSTUCK), 1);
}

static void test_wait_end_between_scans_is_exact_and_single(void **state)
{
	struct fx *f = *state;

	tracker_add_target(f->t, 100);
	SCAN(f, blocked(100, 101, 100 * SEC, 115 * SEC));
	SCAN(f, running(100, 101, 116 * SEC));
	wait_end(f, 100, 101, 100 * SEC, 115 * SEC + 500 * MS);
	assert_int_equal(count(f, LW_RPT_UNSTUCK), 1);
	assert_true(nth(f, LW_RPT_UNSTUCK, 0)->end_exact);
	assert_float_equal(nth(f, LW_RPT_UNSTUCK, 0)->blocked_s, 15.5, 1e-9);
	SCAN(f, running(100, 101, 117 * SEC));
	SCAN(f, running(100, 101, 118 * SEC));
	assert_int_equal(count(f, LW_RPT_UNSTUCK), 1);
	assert_int_equal(drops_of(f).unstuck_inexact, 0);
}

/* ---- Samples ---- */

static void test_sample_counts_for_target(void **state)
{
	struct fx *f = *state;
	struct lw_task_rec d = blocked(100, 104, 80 * SEC, 110 * SEC);
	const struct lw_report *s;
	int i;

	d.flags |= LW_TF_UNINTERRUPTIBLE;
	tracker_add_target(f->t, 100);
	for (i = 0; i < 3; i++) {
		const struct lw_task_rec recs[] = {
			running(100, 100, 110 * SEC),
			running(100, 101, 110 * SEC),
			blocked(100, 102, 108 * SEC, 110 * SEC),
			blocked(100, 103, 90 * SEC, 110 * SEC),
			d,
		};

		scan(f, recs, 5);
		/* One sample per scan, counts of this scan only. */
		assert_int_equal(count(f, LW_RPT_SAMPLE), (size_t)i + 1);
		s = last_sample(f, 100);
		assert_non_null(s);
		assert_int_equal(s->threads, 5);
		assert_int_equal(s->blocked, 3);
		assert_int_equal(s->stuck, 2);
		assert_string_equal(s->pcomm, "app100");
		assert_float_equal(s->ts, OFFSET_S + 110, 1e-6);
	}
	assert_int_equal(count(f, LW_RPT_STUCK), 2);
}

static void test_sample_counts_follow_changes(void **state)
{
	struct fx *f = *state;

	tracker_add_target(f->t, 100);
	SCAN(f, running(100, 100, 100 * SEC), blocked(100, 101, 95 * SEC, 100 * SEC));
	assert_int_equal(last_sample(f, 100)->blocked, 1);
	assert_int_equal(last_sample(f, 100)->stuck, 0);
	SCAN(f, running(100, 100, 106 * SEC), blocked(100, 101, 95 * SEC, 106 * SEC),
	     blocked(100, 102, 105 * SEC, 106 * SEC));
	assert_int_equal(last_sample(f, 100)->threads, 3);
	assert_int_equal(last_sample(f, 100)->blocked, 2);
	assert_int_equal(last_sample(f, 100)->stuck, 1);
	SCAN(f, running(100, 100, 107 * SEC));
	assert_int_equal(last_sample(f, 100)->threads, 1);
	assert_int_equal(last_sample(f, 100)->blocked, 0);
	assert_int_equal(last_sample(f, 100)->stuck, 0);
}

static void test_non_target_sampled_only_with_stuck_threads(void **state)
{
	struct fx *f = *state;

	tracker_add_target(f->t, 100);
	SCAN(f, running(100, 100, 100 * SEC), running(200, 200, 100 * SEC),
	     blocked(300, 301, 50 * SEC, 100 * SEC));
	assert_int_equal(count_pid(f, LW_RPT_SAMPLE, 100), 1);
	assert_int_equal(count_pid(f, LW_RPT_SAMPLE, 200), 0);
	assert_int_equal(count_pid(f, LW_RPT_SAMPLE, 300), 1);
}

static void test_host_wide_samples_only_processes_with_stuck(void **state)
{
	struct fx *f = *state;

	SCAN(f, running(100, 100, 100 * SEC), blocked(100, 101, 95 * SEC, 100 * SEC),
	     running(200, 200, 100 * SEC), blocked(200, 201, 50 * SEC, 100 * SEC),
	     blocked(200, 202, 60 * SEC, 100 * SEC));
	assert_int_equal(count(f, LW_RPT_SAMPLE), 1);
	assert_int_equal(count_pid(f, LW_RPT_SAMPLE, 200), 1);
	assert_int_equal(last_sample(f, 200)->threads, 3);
	assert_int_equal(last_sample(f, 200)->blocked, 2);
	assert_int_equal(last_sample(f, 200)->stuck, 2);
	assert_int_equal(count(f, LW_RPT_STUCK), 2);
	assert_false(tracker_targets_gone(f->t));
}

static void test_host_wide_ignores_new_processes(void **state)
{
	struct fx *f = *state;

	SCAN(f, blocked(100, 101, 50 * SEC, 100 * SEC));
	event(f, LW_REC_THREAD_NEW, 300, 300, LW_EF_NEW_PROCESS, 101 * SEC, 0, 100);
	assert_int_equal(stats_of(f).targets, 0);
	SCAN(f, blocked(100, 101, 50 * SEC, 102 * SEC), running(300, 300, 102 * SEC));
	assert_int_equal(count_pid(f, LW_RPT_SAMPLE, 300), 0);
	assert_false(tracker_targets_gone(f->t));
}

/* ---- Exit ---- */

static void test_target_missing_from_scan_exits_once(void **state)
{
	struct fx *f = *state;

	tracker_add_target(f->t, 100);
	tracker_add_target(f->t, 200);
	SCAN(f, running(100, 100, 100 * SEC), running(200, 200, 100 * SEC));
	assert_int_equal(count(f, LW_RPT_EXIT), 0);
	assert_false(tracker_targets_gone(f->t));

	SCAN(f, running(200, 200, 101 * SEC));
	assert_int_equal(count(f, LW_RPT_EXIT), 1);
	assert_int_equal(nth(f, LW_RPT_EXIT, 0)->pid, 100);
	assert_string_equal(nth(f, LW_RPT_EXIT, 0)->pcomm, "app100");
	assert_false(tracker_targets_gone(f->t));

	SCAN(f, running(200, 200, 102 * SEC));
	SCAN(f, running(200, 200, 103 * SEC));
	assert_int_equal(count(f, LW_RPT_EXIT), 1);
	assert_int_equal(count_pid(f, LW_RPT_SAMPLE, 100), 1); /* none after its exit */

	scan_empty(f);
	assert_int_equal(count(f, LW_RPT_EXIT), 2);
	assert_int_equal(nth(f, LW_RPT_EXIT, 1)->pid, 200);
	assert_true(tracker_targets_gone(f->t));
	scan_empty(f);
	assert_int_equal(count(f, LW_RPT_EXIT), 2);
}

/* A short command exits before the first scan: its exit is named after its
 * last thread (the exec'd name), not "". */
static void test_exit_before_any_scan_named_from_record(void **state)
{
	struct fx *f = *state;

	tracker_add_target(f->t, 100);
	event(f, LW_REC_THREAD_EXIT, 100, 100, LW_EF_GROUP_DEAD, 100 * SEC, 0, 0);
	assert_int_equal(count(f, LW_RPT_EXIT), 1);
	assert_string_equal(nth(f, LW_RPT_EXIT, 0)->pcomm, "w100");
}

static void test_target_never_seen_exits(void **state)
{
	struct fx *f = *state;

	tracker_add_target(f->t, 100);
	assert_false(tracker_targets_gone(f->t));
	scan_empty(f);
	assert_int_equal(count(f, LW_RPT_EXIT), 1);
	assert_int_equal(nth(f, LW_RPT_EXIT, 0)->pid, 100);
	assert_true(tracker_targets_gone(f->t));
}

static void test_add_target_twice_counts_once(void **state)
{
	struct fx *f = *state;

	assert_int_equal(tracker_add_target(f->t, 100), 0);
	assert_int_equal(tracker_add_target(f->t, 100), 0);
	assert_int_equal(stats_of(f).targets, 1);
	scan_empty(f);
	assert_int_equal(count(f, LW_RPT_EXIT), 1);
	assert_true(tracker_targets_gone(f->t));
}

static void test_group_dead_event_reports_exit(void **state)
{
	struct fx *f = *state;
	const struct lw_report *e;

	tracker_add_target(f->t, 100);
	SCAN(f, running(100, 100, 100 * SEC), running(100, 101, 100 * SEC));
	event(f, LW_REC_THREAD_EXIT, 100, 101, 0, 101 * SEC, 0, 0);
	assert_int_equal(count(f, LW_RPT_EXIT), 0);
	event(f, LW_REC_THREAD_EXIT, 100, 100, LW_EF_GROUP_DEAD, 102 * SEC + 250 * MS, 0, 0);
	assert_int_equal(count(f, LW_RPT_EXIT), 1);
	e = nth(f, LW_RPT_EXIT, 0);
	assert_int_equal(e->pid, 100);
	assert_string_equal(e->pcomm, "app100");
	assert_float_equal(e->ts, OFFSET_S + 102.25, 1e-6);
	assert_true(tracker_targets_gone(f->t));

	scan_empty(f);
	assert_int_equal(count(f, LW_RPT_EXIT), 1);
}

/* A scan can still see the last threads of a process after its exit record. */
static void test_threads_seen_after_exit_record_ignored(void **state)
{
	struct fx *f = *state;
	size_t samples;

	tracker_add_target(f->t, 100);
	tracker_add_target(f->t, 200);
	SCAN(f, running(100, 100, 100 * SEC), running(200, 200, 100 * SEC));
	event(f, LW_REC_THREAD_EXIT, 100, 100, LW_EF_GROUP_DEAD, 101 * SEC, 0, 0);
	samples = count_pid(f, LW_RPT_SAMPLE, 100);
	SCAN(f, blocked(100, 101, 50 * SEC, 102 * SEC), running(200, 200, 102 * SEC));
	assert_int_equal(count_pid(f, LW_RPT_SAMPLE, 100), samples);
	assert_int_equal(count(f, LW_RPT_STUCK), 0);
	assert_int_equal(count_pid(f, LW_RPT_EXIT, 100), 1);
	assert_false(tracker_targets_gone(f->t));
}

static void test_thread_exit_removes_stuck_thread(void **state)
{
	struct fx *f = *state;
	struct lw_waiter_view list[4];

	tracker_add_target(f->t, 100);
	SCAN(f, running(100, 100, 120 * SEC), blocked(100, 101, 100 * SEC, 120 * SEC));
	assert_int_equal(tracker_stuck_waiters(f->t, list, 4), 1);
	event(f, LW_REC_THREAD_EXIT, 100, 101, 0, 121 * SEC, 0, 0);
	assert_int_equal(tracker_stuck_waiters(f->t, list, 4), 0);
	assert_int_equal(count(f, LW_RPT_EXIT), 0);
	/* A late WAIT_END for it is harmless. */
	wait_end(f, 100, 101, 100 * SEC, 121 * SEC);
	SCAN(f, running(100, 100, 122 * SEC));
	assert_int_equal(last_sample(f, 100)->threads, 1);
	assert_false(tracker_targets_gone(f->t));
}

static void test_thread_missing_from_scan_forgotten(void **state)
{
	struct fx *f = *state;
	struct lw_waiter_view list[4];

	tracker_add_target(f->t, 100);
	SCAN(f, running(100, 100, 120 * SEC), blocked(100, 101, 100 * SEC, 120 * SEC));
	SCAN(f, running(100, 100, 121 * SEC));
	assert_int_equal(tracker_stuck_waiters(f->t, list, 4), 0);
	/* Same tid again later (reused): a new thread, a new stuck. */
	SCAN(f, running(100, 100, 140 * SEC), blocked(100, 101, 125 * SEC, 140 * SEC));
	assert_int_equal(count(f, LW_RPT_STUCK), 2);
}

static void test_host_wide_exit_only_for_reported_processes(void **state)
{
	struct fx *f = *state;

	/* 100 had a stuck thread (reported), 200 and 300 never did. */
	SCAN(f, blocked(100, 101, 50 * SEC, 100 * SEC), running(200, 200, 100 * SEC),
	     running(300, 300, 100 * SEC), blocked(400, 401, 50 * SEC, 100 * SEC));
	event(f, LW_REC_THREAD_EXIT, 100, 101, LW_EF_GROUP_DEAD, 101 * SEC, 0, 0);
	event(f, LW_REC_THREAD_EXIT, 200, 200, LW_EF_GROUP_DEAD, 101 * SEC, 0, 0);
	assert_int_equal(count(f, LW_RPT_EXIT), 1);
	assert_int_equal(nth(f, LW_RPT_EXIT, 0)->pid, 100);
	/* 300 and 400 vanish from the scan: only 400 was reported. */
	scan_empty(f);
	assert_int_equal(count(f, LW_RPT_EXIT), 2);
	assert_int_equal(nth(f, LW_RPT_EXIT, 1)->pid, 400);
	assert_int_equal(count_pid(f, LW_RPT_EXIT, 300), 0);
	assert_false(tracker_targets_gone(f->t));
}

/* ---- Children of targets (-- COMMAND) ---- */

static void test_new_process_of_target_becomes_target(void **state)
{
	struct fx *f = *state;

	tracker_add_target(f->t, 100);
	SCAN(f, running(100, 100, 100 * SEC));
	event(f, LW_REC_THREAD_NEW, 300, 300, LW_EF_NEW_PROCESS, 100 * SEC, 0, 100);
	/* A child: watched, but not counted for "all targets gone". */
	assert_int_equal(stats_of(f).targets, 1);
	SCAN(f, running(100, 100, 101 * SEC), running(300, 300, 101 * SEC));
	assert_int_equal(count_pid(f, LW_RPT_SAMPLE, 300), 1);

	/* The parent exits: the child is still watched; "all targets gone"
	 * counts the command (the target added from outside) only. */
	SCAN(f, running(300, 300, 102 * SEC));
	assert_int_equal(count_pid(f, LW_RPT_EXIT, 100), 1);
	assert_true(tracker_targets_gone(f->t));
	SCAN(f, running(300, 300, 103 * SEC));
	assert_int_equal(count_pid(f, LW_RPT_SAMPLE, 300), 3);
	scan_empty(f);
	assert_int_equal(count_pid(f, LW_RPT_EXIT, 300), 1);
}

/* A child that exited is forgotten (a make -j starts thousands), and a new
 * child that gets its pid is a process of its own, watched and reported. */
static void test_exited_child_forgotten_and_pid_reused(void **state)
{
	struct fx *f = *state;

	tracker_add_target(f->t, 100);
	SCAN(f, running(100, 100, 100 * SEC));
	event(f, LW_REC_THREAD_NEW, 300, 300, LW_EF_NEW_PROCESS, 100 * SEC, 0, 100);
	SCAN(f, running(100, 100, 101 * SEC), running(300, 300, 101 * SEC));
	event(f, LW_REC_THREAD_EXIT, 300, 300, LW_EF_GROUP_DEAD, 101 * SEC + 1, 0, 0);
	SCAN(f, running(100, 100, 102 * SEC));
	assert_int_equal(count_pid(f, LW_RPT_EXIT, 300), 1);
	assert_int_equal(stats_of(f).processes, 1); /* 100 only */
	assert_false(tracker_targets_gone(f->t));

	/* pid 300 again, a new child. */
	event(f, LW_REC_THREAD_NEW, 300, 300, LW_EF_NEW_PROCESS, 103 * SEC, 0, 100);
	SCAN(f, running(100, 100, 104 * SEC), running(300, 300, 104 * SEC));
	assert_int_equal(count_pid(f, LW_RPT_SAMPLE, 300), 2);
	SCAN(f, running(100, 100, 105 * SEC));
	assert_int_equal(count_pid(f, LW_RPT_EXIT, 300), 2);
	assert_int_equal(stats_of(f).processes, 1);

	/* The command itself stays, exited, for "all targets gone". */
	scan_empty(f);
	assert_int_equal(count_pid(f, LW_RPT_EXIT, 100), 1);
	assert_true(tracker_targets_gone(f->t));
	scan_empty(f);
	assert_int_equal(count_pid(f, LW_RPT_EXIT, 100), 1);
}

static void test_new_process_of_non_target_ignored(void **state)
{
	struct fx *f = *state;

	tracker_add_target(f->t, 100);
	SCAN(f, running(100, 100, 100 * SEC), running(200, 200, 100 * SEC));
	event(f, LW_REC_THREAD_NEW, 300, 300, LW_EF_NEW_PROCESS, 100 * SEC, 0, 200);
	event(f, LW_REC_THREAD_NEW, 301, 301, LW_EF_NEW_PROCESS, 100 * SEC, 0, 999);
	assert_int_equal(stats_of(f).targets, 1);
	SCAN(f, running(100, 100, 101 * SEC), running(300, 300, 101 * SEC));
	assert_int_equal(count_pid(f, LW_RPT_SAMPLE, 300), 0);
}

static void test_new_thread_of_target_is_not_a_target(void **state)
{
	struct fx *f = *state;

	tracker_add_target(f->t, 100);
	SCAN(f, running(100, 100, 100 * SEC));
	event(f, LW_REC_THREAD_NEW, 100, 105, 0, 100 * SEC, 0, 100);
	assert_int_equal(stats_of(f).targets, 1);
}

/* ---- The stuck list ---- */

static void test_stuck_threads_longest_first(void **state)
{
	struct fx *f = *state;
	struct lw_waiter_view list[8];
	size_t n;

	tracker_add_target(f->t, 100);
	SCAN(f, blocked(100, 101, 50 * SEC, 100 * SEC), blocked(100, 102, 10 * SEC, 100 * SEC),
	     blocked(100, 103, 30 * SEC, 100 * SEC), blocked(100, 104, 95 * SEC, 100 * SEC),
	     running(100, 105, 100 * SEC), blocked(100, 106, 70 * SEC, 100 * SEC));
	n = tracker_stuck_waiters(f->t, list, 8);
	assert_int_equal(n, 4);
	assert_int_equal(list[0].id.id, 102);
	assert_int_equal(list[1].id.id, 103);
	assert_int_equal(list[2].id.id, 101);
	assert_int_equal(list[3].id.id, 106);
	assert_string_equal(list[0].comm, "w102");
	assert_int_equal(list[0].id.pid, 100);
	assert_int_equal(list[0].blocked_ns, 90 * SEC);
	assert_int_equal(list[0].id.kind, LW_WAITER_THREAD);
}

/* With less room than stuck threads: the longest ones, not any. */
static void test_stuck_threads_limited_keeps_longest(void **state)
{
	enum { N = 200 };
	struct fx *f = *state;
	struct lw_task_rec *recs = calloc(N, sizeof(*recs));
	struct lw_waiter_view list[3];
	size_t i;

	assert_non_null(recs);
	tracker_add_target(f->t, 100);
	/* tid 1000 + i blocked since 10 + (i * 37 % N) s: a shuffled order. */
	for (i = 0; i < N; i++)
		recs[i] = blocked(100, 1000 + i, (10 + (i * 37 % N)) * SEC, 1000 * SEC);
	scan(f, recs, N);
	free(recs);
	/* The count is of every stuck thread, the list of the longest. */
	assert_int_equal(tracker_stuck_waiters(f->t, list, 3), N);
	assert_int_equal(list[0].blocked_ns, (1000 - 10) * SEC);
	assert_int_equal(list[1].blocked_ns, (1000 - 11) * SEC);
	assert_int_equal(list[2].blocked_ns, (1000 - 12) * SEC);
	assert_int_equal(tracker_stuck_waiters(f->t, list, 1), N);
	assert_int_equal(list[0].blocked_ns, (1000 - 10) * SEC);
	assert_int_equal(tracker_stuck_waiters(f->t, list, 0), N);
}

/* ---- Names ---- */

static void test_comm_of_16_bytes_without_nul(void **state)
{
	struct fx *f = *state;
	struct lw_task_rec r = blocked(100, 101, 100 * SEC, 120 * SEC);
	struct lw_waiter_view list[2];

	memcpy(r.comm, "abcdefghijklmnop", LW_COMM_LEN);   /* no NUL */
	memcpy(r.pcomm, "ABCDEFGHIJKLMNOP", LW_COMM_LEN); /* no NUL either */
	tracker_add_target(f->t, 100);
	scan(f, &r, 1);
	assert_string_equal(nth(f, LW_RPT_STUCK, 0)->comm, "abcdefghijklmnop");
	assert_string_equal(nth(f, LW_RPT_STUCK, 0)->pcomm, "ABCDEFGHIJKLMNOP");
	assert_string_equal(last_sample(f, 100)->pcomm, "ABCDEFGHIJKLMNOP");

	/* Copied: the scan buffer is reused for the next scan. */
	memset(&r, 0x7a, sizeof(r));
	assert_int_equal(tracker_stuck_waiters(f->t, list, 2), 1);
	assert_string_equal(list[0].comm, "abcdefghijklmnop");
}

static void test_renamed_thread_uses_new_name(void **state)
{
	struct fx *f = *state;
	struct lw_task_rec r = blocked(100, 101, 100 * SEC, 105 * SEC);

	tracker_add_target(f->t, 100);
	scan(f, &r, 1);
	snprintf(r.comm, sizeof(r.comm), "renamed");
	r.now_ns = 111 * SEC;
	scan(f, &r, 1);
	assert_string_equal(nth(f, LW_RPT_STUCK, 0)->comm, "renamed");
}

/* ---- Odd input ---- */

static void test_clock_before_since_not_stuck(void **state)
{
	struct fx *f = *state;

	tracker_add_target(f->t, 100);
	SCAN(f, blocked(100, 101, 500 * SEC, 100 * SEC));
	assert_int_equal(count(f, LW_RPT_STUCK), 0);
	assert_int_equal(last_sample(f, 100)->stuck, 0);
}

static void test_no_sink_no_crash(void **state)
{
	struct lw_tracker_opts opts = { .threshold_ns = THRESHOLD };
	struct lw_tracker *t;
	struct lw_task_rec r = blocked(100, 101, 100 * SEC, 120 * SEC);

	assert_int_equal(tracker_new(&opts, &t), 0);
	tracker_add_target(t, 100);
	tracker_scan_begin(t, 120 * SEC, &opts.clock);
	tracker_scan_task(t, &r, NULL);
	tracker_scan_end(t);
	tracker_scan_begin(t, 120 * SEC, &opts.clock);
	tracker_scan_end(t);
	assert_true(tracker_targets_gone(t));
	tracker_free(t);
	tracker_free(NULL);
}

/* Many threads coming and going: the tables shrink back (valgrind/ASan
 * check that nothing leaks). */
static void test_churn(void **state)
{
	enum { N = 3000 };
	struct fx *f = *state;
	struct lw_task_rec *recs = calloc(N, sizeof(*recs));
	size_t i, round;

	assert_non_null(recs);
	tracker_add_target(f->t, 100);
	for (round = 0; round < 5; round++) {
		for (i = 0; i < N; i++)
			recs[i] = blocked(100, (uint32_t)(1 + round * N + i), 100 * SEC,
					  (115 + round) * SEC);
		scan(f, recs, N);
	}
	free(recs);
	assert_int_equal(stats_of(f).waiters, N);
	assert_int_equal(count(f, LW_RPT_STUCK), 5 * N);
	scan_empty(f);
	assert_int_equal(stats_of(f).waiters, 0);
}

/* ---- Sites ---- */

static void test_threads_at_same_wait_share_a_site(void **state)
{
	struct fx *f = *state;
	struct lw_task_rec r3 = blocked(100, 103, 50 * SEC, 100 * SEC);
	const struct captured *site;

	r3.syscall_nr = 0; /* read */
	tracker_add_target(f->t, 100);
	{
		const struct lw_task_rec recs[] = {
			blocked(100, 101, 50 * SEC, 100 * SEC),
			blocked(100, 102, 60 * SEC, 100 * SEC),
			r3,
		};

		scan(f, recs, 3);
	}
	assert_int_equal(count(f, LW_RPT_STUCK), 3);
	assert_int_equal(count(f, LW_RPT_SITE), 2);
	assert_string_not_equal(stuck_of(f, 101)->site, "");
	assert_string_equal(stuck_of(f, 101)->site, stuck_of(f, 102)->site);
	assert_string_not_equal(stuck_of(f, 101)->site, stuck_of(f, 103)->site);
	site = nth_cap(f, LW_RPT_SITE, 0);
	assert_int_equal(site->r.pid, 100);
	assert_string_equal(site->r.pcomm, "app100");
	assert_string_equal(site->site, stuck_of(f, 101)->site);

	/* Stuck counts per site, at the next scan too: no new site report. */
	SCAN(f, blocked(100, 101, 50 * SEC, 101 * SEC), blocked(100, 102, 60 * SEC, 101 * SEC));
	assert_int_equal(count(f, LW_RPT_SITE), 2);
}

static void test_site_reported_before_its_first_stuck(void **state)
{
	struct fx *f = *state;

	tracker_add_target(f->t, 100);
	SCAN(f, blocked(100, 101, 50 * SEC, 100 * SEC));
	assert_int_equal(f->n >= 2, 1);
	assert_int_equal(f->rep[0]->r.type, LW_RPT_SITE);
	assert_int_equal(f->rep[1]->r.type, LW_RPT_STUCK);
}

/* An inlined call is a frame of its own and names the site. */
static void test_thread_site_named_by_inlined_frame(void **state)
{
	struct fx *f = *state;
	const struct captured *site;

	tracker_add_target(f->t, 100);
	SCAN(f, blocked(100, 102, 50 * SEC, 100 * SEC));
	site = nth_cap(f, LW_RPT_SITE, 0);
	assert_int_equal(site->site_user_n, 3);
	assert_string_equal(site->site_frames[0], "chan_send+0x10 (/src/query.c:14)");
	assert_true(site->site_info[0].inlined);
	assert_string_equal(site->site_frames[1], "query+0x10 (/src/query.c:30)");
	assert_false(site->site_info[1].inlined);
	assert_string_equal(site->site_frames[2], "_PyEval_EvalFrameDefault+0x10 "
						  "(libpython3.11.so.1.0)");
	assert_string_equal(site->site_where, "chan_send (query.c:14) inlined into query");
}

/* Python threads: their Python frames in place of the eval loop, their
 * sites told apart by them, named by the first frame outside the stdlib. */
static void test_python_threads_split_and_named_by_python_frames(void **state)
{
	struct fx *f = *state;
	const struct captured *site;
	struct lw_drops d = { 0 };

	tracker_add_target(f->t, 100);
	SCAN(f, blocked(100, 101, 50 * SEC, 100 * SEC), blocked(100, 103, 50 * SEC, 100 * SEC),
	     blocked(100, 105, 50 * SEC, 100 * SEC), blocked(100, 107, 50 * SEC, 100 * SEC));
	assert_string_equal(stuck_of(f, 101)->site, stuck_of(f, 103)->site);
	assert_string_not_equal(stuck_of(f, 101)->site, stuck_of(f, 105)->site);
	/* 107: the Python stack unreadable: the native one, counted */
	assert_string_not_equal(stuck_of(f, 107)->site, stuck_of(f, 101)->site);
	assert_int_equal(count(f, LW_RPT_SITE), 3);
	site = nth_cap(f, LW_RPT_SITE, 0);
	assert_int_equal(site->site_user_n, 3);
	assert_string_equal(site->site_frames[0], "pthread_cond_wait+0x10 (libc.so.6)");
	assert_string_equal(site->site_frames[1], "Queue.get (/usr/lib/python3.11/queue.py:171)");
	assert_int_equal(site->site_info[1].kind, LW_FRAME_PYTHON);
	assert_string_equal(site->site_frames[2], "handle (/srv/leak.py:6)");
	assert_string_equal(site->site_where, "handle (leak.py:6)");
	site = nth_cap(f, LW_RPT_SITE, 2);
	assert_string_equal(site->site_frames[1], "_PyEval_EvalFrameDefault+0x10 "
						  "(libpython3.11.so.1.0)");
	assert_string_equal(site->site_where, "pthread_cond_wait (libc.so.6)");
	tracker_drops(f->t, &d);
	assert_int_equal(d.python_stacks_unreadable, 1);
}

static void test_sites_split_by_user_stack(void **state)
{
	struct fx *f = *state;
	const struct captured *site;
	struct lw_drops d = { 0 };

	tracker_add_target(f->t, 100);
	SCAN(f, blocked(100, 101, 50 * SEC, 100 * SEC), blocked(100, 102, 50 * SEC, 100 * SEC),
	     blocked(100, 103, 50 * SEC, 100 * SEC));
	assert_int_equal(count(f, LW_RPT_SITE), 2);
	assert_string_equal(stuck_of(f, 101)->site, stuck_of(f, 103)->site);
	assert_string_not_equal(stuck_of(f, 101)->site, stuck_of(f, 102)->site);
	site = nth_cap(f, LW_RPT_SITE, 0);
	assert_int_equal(site->site_user_n, 2);
	assert_true(!strcmp(site->site_frame0, "fn_401100+0x0 (app)") ||
		    !strcmp(site->site_frame0, "fn_401000+0x0 (app)"));
	/* An unwinder but no kernel stack record: counted per stuck thread. */
	tracker_drops(f->t, &d);
	assert_int_equal(d.kstacks_unreadable, 3);
	assert_int_equal(d.stacks_unreadable, 0);
}

static void test_kernel_stack_of_new_stuck_thread(void **state)
{
	struct fx *f = *state;
	struct lw_task_rec r = blocked(100, 101, 50 * SEC, 100 * SEC);
	struct lw_kstack_rec k = { .type = LW_REC_KSTACK, .tid = 101, .nr = 3,
				   .ips = { 0xffffffff81001000ULL, 0xffffffff81002000ULL,
					    0xffffffff81003000ULL } };
	const struct captured *site;
	struct lw_drops d = { 0 };

	r.flags |= LW_TF_NEW_STUCK;
	tracker_add_target(f->t, 100);
	tracker_scan_begin(f->t, r.now_ns, &test_clock);
	tracker_scan_task(f->t, &r, &k);
	tracker_scan_end(f->t);
	site = nth_cap(f, LW_RPT_SITE, 0);
	assert_int_equal(site->site_kernel_n, 3);
	assert_string_equal(site->site_kframe0, "k_ffffffff81001000+0x4/0x10");
	tracker_drops(f->t, &d);
	assert_int_equal(d.kstacks_unreadable, 0);
}

static void test_unwind_failure_counted_thread_still_stuck(void **state)
{
	struct fx *f = *state;
	struct lw_drops d = { 0 };

	tracker_add_target(f->t, 100);
	SCAN(f, blocked(100, 666, 50 * SEC, 100 * SEC));
	assert_int_equal(count(f, LW_RPT_STUCK), 1);
	tracker_drops(f->t, &d);
	assert_int_equal(d.stacks_unreadable, 1);
	assert_int_equal(nth_cap(f, LW_RPT_SITE, 0)->site_user_n, 0);
}

static void test_forget_called_when_process_goes(void **state)
{
	struct fx *f = *state;

	SCAN(f, blocked(300, 301, 50 * SEC, 100 * SEC)); /* not a target, reported */
	assert_int_equal(f->forgets, 0);
	scan_empty(f);
	assert_int_equal(count_pid(f, LW_RPT_EXIT, 300), 1);
	assert_int_equal(f->forgets, 1);
	assert_int_equal(f->forgot_pid, 300);
}

static void test_drops_count_inexact_unstuck(void **state)
{
	struct fx *f = *state;
	struct lw_drops d;

	memset(&d, 0xff, sizeof(d));
	d.ringbuf = 5;
	tracker_add_target(f->t, 100);
	SCAN(f, blocked(100, 101, 100 * SEC, 115 * SEC));
	SCAN(f, running(100, 101, 116 * SEC));
	SCAN(f, running(100, 101, 117 * SEC));
	tracker_drops(f->t, &d);
	assert_int_equal(d.unstuck_inexact, 1);
	assert_int_equal(d.tracker, 0);
	assert_int_equal(d.stacks_unreadable, 0);
	assert_int_equal(d.sites_untracked, 0);
	assert_int_equal(d.ringbuf, 5); /* the kernel's counters are not the tracker's */
}

/* ---- Spins ---- */

static void test_spin_reported_once(void **state)
{
	struct fx *f = *state;
	const struct captured *c;
	uint64_t now;

	tracker_add_target(f->t, 100);
	for (now = 100; now < 110; now++)
		SCAN(f, runnable(100, 101, 5, now * SEC));
	assert_int_equal(count(f, LW_RPT_SPIN), 0);
	for (now = 110; now < 150; now++)
		SCAN(f, runnable(100, 101, 5, now * SEC));
	assert_int_equal(count(f, LW_RPT_SPIN), 1);
	c = nth_cap(f, LW_RPT_SPIN, 0);
	assert_int_equal(c->r.pid, 100);
	assert_int_equal(c->r.tid, 101);
	assert_string_equal(c->r.comm, "w101");
	assert_string_equal(c->r.pcomm, "app100");
	assert_float_equal(c->r.running_s, 10.0, 1e-9);
	assert_float_equal(c->r.ts, OFFSET_S + 110, 1e-6);
	assert_int_equal(count(f, LW_RPT_STUCK), 0);
}

static void test_spin_reset_by_voluntary_switch(void **state)
{
	struct fx *f = *state;

	tracker_add_target(f->t, 100);
	SCAN(f, runnable(100, 101, 5, 100 * SEC));
	SCAN(f, runnable(100, 101, 6, 105 * SEC)); /* it slept in between */
	SCAN(f, runnable(100, 101, 6, 110 * SEC));
	assert_int_equal(count(f, LW_RPT_SPIN), 0);
	SCAN(f, runnable(100, 101, 6, 115 * SEC));
	assert_int_equal(count(f, LW_RPT_SPIN), 1);
	assert_float_equal(nth(f, LW_RPT_SPIN, 0)->running_s, 10.0, 1e-9);
}

static void test_spin_reset_by_blocking(void **state)
{
	struct fx *f = *state;

	tracker_add_target(f->t, 100);
	SCAN(f, runnable(100, 101, 5, 100 * SEC));
	SCAN(f, blocked(100, 101, 104 * SEC, 105 * SEC));
	SCAN(f, runnable(100, 101, 5, 106 * SEC));
	SCAN(f, runnable(100, 101, 5, 115 * SEC));
	assert_int_equal(count(f, LW_RPT_SPIN), 0);
	SCAN(f, runnable(100, 101, 5, 116 * SEC));
	assert_int_equal(count(f, LW_RPT_SPIN), 1);
}

static void test_spin_again_after_a_switch(void **state)
{
	struct fx *f = *state;

	tracker_add_target(f->t, 100);
	SCAN(f, runnable(100, 101, 5, 100 * SEC));
	SCAN(f, runnable(100, 101, 5, 110 * SEC));
	SCAN(f, runnable(100, 101, 9, 111 * SEC));
	SCAN(f, runnable(100, 101, 9, 121 * SEC));
	assert_int_equal(count(f, LW_RPT_SPIN), 2);
}

static void test_kernel_thread_never_spins(void **state)
{
	struct fx *f = *state;
	struct lw_task_rec r = runnable(100, 101, 5, 100 * SEC);

	r.flags |= LW_TF_KTHREAD;
	tracker_add_target(f->t, 100);
	scan(f, &r, 1);
	r.now_ns = 200 * SEC;
	scan(f, &r, 1);
	assert_int_equal(count(f, LW_RPT_SPIN), 0);
}

static void test_spin_report_carries_user_stack(void **state)
{
	struct fx *f = *state;
	const struct captured *c;

	tracker_add_target(f->t, 100);
	SCAN(f, runnable(100, 102, 1, 100 * SEC));
	SCAN(f, runnable(100, 102, 1, 120 * SEC));
	c = nth_cap(f, LW_RPT_SPIN, 0);
	assert_int_equal(c->stack_n, 2);
	assert_string_equal(c->stack_frame0, "fn_401000+0x0 (app)");
}

/* ---- Reuse and races (issue 8) ---- */

/*
 * A full site table: a thread found stuck at an idle site early in a scan
 * keeps it, even when a new site later in the same scan needs room (the
 * site used to be freed under it: ASan saw the use after free).
 */
static void test_full_site_table_keeps_sites_in_use(void **state)
{
	enum { N = LW_MAX_SITES_PER_PROCESS };
	struct fx *f = *state;
	struct lw_task_rec *recs = calloc(N, sizeof(*recs));
	uint64_t now = 100 * SEC;
	size_t i;

	assert_non_null(recs);
	tracker_add_target(f->t, 100);
	/* N threads stuck at N sites: the table is full. */
	for (i = 0; i < N; i++)
		recs[i] = blocked(100, (uint32_t)(1000 + i), 50 * SEC, now);
	scan(f, recs, N);
	assert_int_equal(count(f, LW_RPT_SITE), N);
	/* They go; their sites stay idle for longer than a trend window. */
	for (i = 0; i < 12; i++) {
		now += SEC;
		SCAN(f, running(100, 100, now));
	}
	/* Thread 1000 waits again at its old site (the first one), then a
	 * thread at a new site needs room: 1000's site must not be the one
	 * forgotten. */
	now += SEC;
	SCAN(f, running(100, 100, now), blocked(100, 1000, now - 20 * SEC, now),
	     blocked(100, 1000 + N, now - 20 * SEC, now));
	assert_string_equal(stuck_of(f, 1000)->site, "1");
	now += SEC;
	SCAN(f, running(100, 100, now), blocked(100, 1000, now - 21 * SEC, now),
	     blocked(100, 1000 + N, now - 21 * SEC, now));
	assert_int_equal(last_sample(f, 100)->stuck, 2);
	free(recs);
}

/*
 * A tid of an exited process reused by a thread of another: a new thread,
 * reported with its own pid, not the old one's.
 */
static void test_reused_tid_in_another_process(void **state)
{
	struct fx *f = *state;
	const struct lw_report *r;

	SCAN(f, blocked(100, 150, 50 * SEC, 100 * SEC), running(200, 200, 100 * SEC));
	assert_int_equal(stuck_of(f, 150)->r.pid, 100);
	/* 100 is gone; 200's new thread got tid 150. */
	SCAN(f, running(200, 200, 101 * SEC), blocked(200, 150, 90 * SEC, 101 * SEC));
	assert_int_equal(count(f, LW_RPT_STUCK), 2);
	r = nth(f, LW_RPT_STUCK, 1);
	assert_int_equal(r->pid, 200);
	assert_int_equal(r->tid, 150);
	assert_string_equal(r->pcomm, "app200");
	/* The old thread's wait ended with its process. */
	assert_int_equal(count_pid(f, LW_RPT_UNSTUCK, 100), 1);
	assert_int_equal(count_pid(f, LW_RPT_EXIT, 100), 1);
	assert_int_equal(last_sample(f, 200)->stuck, 1);
}

/*
 * A stuck thread's tid reused by a running thread of another process while
 * the old process goes: the old entry, and the site it names, are gone with
 * it (its end used to be reported later through the freed process's site).
 */
static void test_reused_tid_of_stuck_thread_after_its_process_went(void **state)
{
	struct fx *f = *state;

	SCAN(f, blocked(100, 150, 50 * SEC, 100 * SEC), running(200, 200, 100 * SEC));
	SCAN(f, running(200, 200, 101 * SEC), running(200, 150, 101 * SEC));
	SCAN(f, running(200, 200, 102 * SEC), running(200, 150, 102 * SEC));
	SCAN(f, running(200, 200, 103 * SEC), running(200, 150, 103 * SEC));
	assert_int_equal(count(f, LW_RPT_UNSTUCK), 1);
	assert_int_equal(nth(f, LW_RPT_UNSTUCK, 0)->pid, 100);
	assert_int_equal(count_pid(f, LW_RPT_EXIT, 100), 1);
}

/* A stuck thread that exits (its end record lost) still gets its unstuck. */
static void test_stuck_thread_exit_without_wait_end_is_inexact_unstuck(void **state)
{
	struct fx *f = *state;
	const struct lw_report *u;

	tracker_add_target(f->t, 100);
	SCAN(f, running(100, 100, 120 * SEC), blocked(100, 101, 100 * SEC, 120 * SEC));
	event(f, LW_REC_THREAD_EXIT, 100, 101, 0, 121 * SEC, 0, 0);
	assert_int_equal(count(f, LW_RPT_UNSTUCK), 1);
	u = nth(f, LW_RPT_UNSTUCK, 0);
	assert_int_equal(u->tid, 101);
	assert_false(u->end_exact);
	assert_float_equal(u->blocked_s, 20.0, 1e-9); /* last seen blocked at 120 */
	SCAN(f, running(100, 100, 122 * SEC));
	assert_int_equal(count(f, LW_RPT_UNSTUCK), 1);
}

/* A stuck thread gone from the next scan (exited, its records lost). */
static void test_stuck_thread_gone_from_scan_is_inexact_unstuck(void **state)
{
	struct fx *f = *state;

	tracker_add_target(f->t, 100);
	SCAN(f, running(100, 100, 120 * SEC), blocked(100, 101, 100 * SEC, 120 * SEC),
	     blocked(100, 102, 100 * SEC, 120 * SEC));
	SCAN(f, running(100, 100, 121 * SEC));
	assert_int_equal(count(f, LW_RPT_UNSTUCK), 2);
	assert_false(nth(f, LW_RPT_UNSTUCK, 0)->end_exact);
	assert_false(nth(f, LW_RPT_UNSTUCK, 1)->end_exact);
	SCAN(f, running(100, 100, 122 * SEC));
	assert_int_equal(count(f, LW_RPT_UNSTUCK), 2);
}

/* A stuck thread seen running, then gone before the next scan (it exited
 * with its records lost): its end is reported once. */
static void test_stuck_thread_running_then_gone_unstuck_once(void **state)
{
	struct fx *f = *state;

	tracker_add_target(f->t, 100);
	SCAN(f, running(100, 100, 120 * SEC), blocked(100, 101, 100 * SEC, 120 * SEC));
	SCAN(f, running(100, 100, 121 * SEC), running(100, 101, 121 * SEC));
	SCAN(f, running(100, 100, 122 * SEC));
	SCAN(f, running(100, 100, 123 * SEC));
	assert_int_equal(count(f, LW_RPT_UNSTUCK), 1);
}

/* The process of a stuck thread exits: the wait ended, at the exit at the latest. */
static void test_stuck_thread_of_exited_process_unstuck(void **state)
{
	struct fx *f = *state;

	tracker_add_target(f->t, 100);
	SCAN(f, running(100, 100, 120 * SEC), blocked(100, 101, 100 * SEC, 120 * SEC));
	event(f, LW_REC_THREAD_EXIT, 100, 100, LW_EF_GROUP_DEAD, 121 * SEC, 0, 0);
	scan_empty(f);
	assert_int_equal(count(f, LW_RPT_UNSTUCK), 1);
	assert_int_equal(count(f, LW_RPT_EXIT), 1);
	/* The unstuck comes before the exit. */
	assert_int_equal(f->rep[f->n - 2]->r.type, LW_RPT_UNSTUCK);
	assert_int_equal(f->rep[f->n - 1]->r.type, LW_RPT_EXIT);
}

/* A target that is a zombie: no task record ever; its exit still carries
 * the scan's time (it used to be stamped at boot: mono 0). */
static void test_exit_of_unseen_target_has_the_scan_time(void **state)
{
	struct fx *f = *state;

	tracker_add_target(f->t, 100);
	tracker_scan_begin(f->t, 500 * SEC, &test_clock);
	tracker_scan_end(f->t);
	assert_int_equal(count(f, LW_RPT_EXIT), 1);
	assert_float_equal(nth(f, LW_RPT_EXIT, 0)->ts, OFFSET_S + 500, 1e-6);
}

/* The wall-clock offset of each scan: a clock step moves what follows it. */
static void test_each_scan_brings_its_wall_clock(void **state)
{
	struct fx *f = *state;
	struct lw_clock stepped = { .realtime_minus_mono_ns = test_clock.realtime_minus_mono_ns +
								   3600 * (int64_t)SEC };
	struct lw_task_rec r = running(100, 100, 200 * SEC);

	tracker_add_target(f->t, 100);
	SCAN(f, running(100, 100, 100 * SEC));
	assert_float_equal(last_sample(f, 100)->ts, OFFSET_S + 100, 1e-6);
	tracker_scan_begin(f->t, 200 * SEC, &stepped);
	tracker_scan_task(f->t, &r, NULL);
	tracker_scan_end(f->t);
	assert_float_equal(last_sample(f, 100)->ts, OFFSET_S + 3600 + 200, 1e-6);
}

/*
 * Read the scan, then drain the ring: a thread that woke (its exact end in
 * the ring) and blocked again before the scan reached it.  Its end stays
 * exact, and the new wait is a new episode.
 */
static void test_wait_end_before_the_scan_reached_the_thread_is_exact(void **state)
{
	struct fx *f = *state;
	struct lw_task_rec r = blocked(100, 101, 130 * SEC + 500 * MS, 131 * SEC);

	tracker_add_target(f->t, 100);
	SCAN(f, blocked(100, 101, 100 * SEC, 130 * SEC));
	assert_int_equal(count(f, LW_RPT_STUCK), 1);
	tracker_scan_begin(f->t, 131 * SEC - 10 * MS, &test_clock);
	/* Drained after the scan was read: the end at 130.2 s. */
	wait_end(f, 100, 101, 100 * SEC, 130 * SEC + 200 * MS);
	assert_int_equal(count(f, LW_RPT_UNSTUCK), 0); /* held for the scan */
	tracker_scan_task(f->t, &r, NULL);
	tracker_scan_end(f->t);
	assert_int_equal(count(f, LW_RPT_UNSTUCK), 1);
	assert_true(nth(f, LW_RPT_UNSTUCK, 0)->end_exact);
	assert_float_equal(nth(f, LW_RPT_UNSTUCK, 0)->blocked_s, 30.2, 1e-9);
	assert_int_equal(drops_of(f).unstuck_inexact, 0);
	assert_int_equal(count(f, LW_RPT_STUCK), 1);
}

/* A record newer than the scan's view of its thread applies after it: the
 * stuck report comes first, then its exact end. */
static void test_wait_end_after_the_scan_saw_the_thread_follows_its_stuck(void **state)
{
	struct fx *f = *state;
	struct lw_task_rec r = blocked(100, 101, 100 * SEC, 130 * SEC);

	tracker_add_target(f->t, 100);
	tracker_scan_begin(f->t, 130 * SEC - 10 * MS, &test_clock);
	wait_end(f, 100, 101, 100 * SEC, 130 * SEC + 5 * MS);
	tracker_scan_task(f->t, &r, NULL);
	tracker_scan_end(f->t);
	assert_int_equal(count(f, LW_RPT_STUCK), 1);
	assert_int_equal(count(f, LW_RPT_UNSTUCK), 1);
	assert_true(nth(f, LW_RPT_UNSTUCK, 0)->end_exact);
	assert_int_equal(f->rep[f->n - 1]->r.type, LW_RPT_UNSTUCK);
	SCAN(f, running(100, 101, 131 * SEC));
	SCAN(f, running(100, 101, 132 * SEC));
	assert_int_equal(count(f, LW_RPT_UNSTUCK), 1);
	assert_int_equal(count(f, LW_RPT_STUCK), 1);
}

/* A scan that fails halfway: what it did not reach is not gone. */
static void test_aborted_scan_sweeps_nothing(void **state)
{
	struct fx *f = *state;
	struct lw_task_rec r = running(100, 100, 102 * SEC);
	struct lw_waiter_view list[4];
	size_t samples;

	tracker_add_target(f->t, 100);
	tracker_add_target(f->t, 200);
	SCAN(f, running(100, 100, 101 * SEC), blocked(100, 101, 50 * SEC, 101 * SEC),
	     running(200, 200, 101 * SEC));
	samples = count(f, LW_RPT_SAMPLE);
	tracker_scan_begin(f->t, 102 * SEC, &test_clock);
	tracker_scan_task(f->t, &r, NULL);
	tracker_scan_abort(f->t);
	assert_int_equal(count(f, LW_RPT_EXIT), 0);
	assert_int_equal(count(f, LW_RPT_UNSTUCK), 0);
	assert_int_equal(count(f, LW_RPT_SAMPLE), samples);
	assert_int_equal(tracker_stuck_waiters(f->t, list, 4), 1);
	assert_false(tracker_targets_gone(f->t));
	/* The next whole scan decides. */
	SCAN(f, running(100, 100, 103 * SEC));
	assert_int_equal(count(f, LW_RPT_EXIT), 1);
	assert_int_equal(nth(f, LW_RPT_EXIT, 0)->pid, 200);
	assert_int_equal(count(f, LW_RPT_UNSTUCK), 1);
}

/*
 * A thread a scan stamped with the pre-attach lower bound (it was between
 * clearing on_rq and sched_switch): the switch then stamps the real start,
 * and the end record carries that later stamp.  Its exact end counts.
 */
static void test_wait_end_with_later_stamp_ends_inexact_wait(void **state)
{
	struct fx *f = *state;
	struct lw_task_rec r = blocked(100, 101, 10 * SEC, 100 * SEC);

	r.flags |= LW_TF_SINCE_INEXACT;
	tracker_add_target(f->t, 100);
	scan(f, &r, 1);
	assert_false(stuck_of(f, 101)->r.since_exact);
	event(f, LW_REC_WAIT_END, 100, 101, LW_EF_SINCE_INEXACT, 100 * SEC + 300 * MS,
	      100 * SEC + 1 * MS, 0);
	assert_int_equal(count(f, LW_RPT_UNSTUCK), 1);
	assert_true(nth(f, LW_RPT_UNSTUCK, 0)->end_exact);
	/* An exact wait is named by its stamp alone. */
	SCAN(f, blocked(100, 102, 50 * SEC, 101 * SEC));
	event(f, LW_REC_WAIT_END, 100, 102, LW_EF_SINCE_INEXACT, 101 * SEC + 300 * MS,
	      60 * SEC, 0);
	assert_int_equal(count(f, LW_RPT_UNSTUCK), 1);
}

/* A thread that blocks again after the scan read its clock: its stamp is
 * newer than the scan's now.  Not stuck, no wrapped blocked time. */
static void test_stamp_after_scan_clock_not_stuck(void **state)
{
	struct fx *f = *state;
	struct lw_waiter_view list[2];

	tracker_add_target(f->t, 100);
	SCAN(f, blocked(100, 101, 100 * SEC + 1, 100 * SEC));
	assert_int_equal(count(f, LW_RPT_STUCK), 0);
	assert_int_equal(tracker_stuck_waiters(f->t, list, 2), 0);
	assert_int_equal(last_sample(f, 100)->stuck, 0);
}

/* ---- Leaks ---- */

/*
 * One more thread stuck at one site every scan: a leak record for the site
 * (not for "threads": the pile is the site's), its stuck count, growth per
 * minute and the process's threads; and the leak is in the leaks walk.
 */
static void test_growing_pile_reports_a_site_leak(void **state)
{
	enum { SCANS = 40 };
	struct fx *f = *state;
	struct lw_task_rec recs[SCANS + 1];
	struct tracker_cursor c = { 0 };
	struct lw_site_view v;
	const struct captured *leak;
	size_t i, k;

	tracker_add_target(f->t, 100);
	for (i = 0; i < SCANS; i++) {
		uint64_t now = (100 + i) * SEC;

		recs[0] = running(100, 100, now);
		for (k = 0; k < i; k++)
			recs[k + 1] = blocked(100, (uint32_t)(1000 + k), (80 + k) * SEC, now);
		scan(f, recs, i + 1);
	}
	assert_true(count(f, LW_RPT_LEAK) >= 1);
	leak = nth_cap(f, LW_RPT_LEAK, 0);
	assert_int_equal(leak->r.pid, 100);
	assert_string_equal(leak->site, stuck_of(f, 1000)->site);
	assert_true(leak->r.stuck >= 3);
	assert_true(leak->r.threads > leak->r.stuck);
	assert_float_equal(leak->r.growth_per_min, 60.0, 1e-6);
	for (i = 0; i < f->n; i++)
		if (f->rep[i]->r.type == LW_RPT_LEAK)
			assert_string_equal(f->rep[i]->site, leak->site);
	assert_true(tracker_next_leak(f->t, &c, &v));
	assert_int_equal(v.pid, 100);
	assert_string_equal(v.site->name, leak->site);
	assert_false(tracker_next_leak(f->t, &c, &v));
	assert_int_equal(stats_of(f).leaking_sites, 1);
	assert_int_equal(stats_of(f).leaks, count(f, LW_RPT_LEAK));
}

/*
 * A process whose thread count keeps growing with no pile at one site (the
 * new threads run), over most of a trend window: a leak with site
 * "threads", wait "threads".
 */
static void test_growing_thread_count_reports_a_threads_leak(void **state)
{
	enum { SCANS = 150 };
	struct fx *f = *state;
	struct lw_task_rec recs[SCANS + 1];
	const struct captured *leak;
	size_t i, k;

	tracker_add_target(f->t, 100);
	for (i = 0; i < SCANS; i++) {
		uint64_t now = (100 + i) * SEC;

		for (k = 0; k <= i; k++)
			recs[k] = running(100, (uint32_t)(100 + k), now);
		scan(f, recs, i + 1);
	}
	assert_true(count(f, LW_RPT_LEAK) >= 1);
	leak = nth_cap(f, LW_RPT_LEAK, 0);
	assert_string_equal(leak->site, "threads");
	assert_string_equal(leak->r.pcomm, "app100");
	assert_float_equal(leak->r.growth_per_min, 60.0, 1e-6);
	assert_int_equal(leak->r.stuck, 0);
	assert_true(leak->r.threads >= 10);
	assert_int_equal(stats_of(f).leaking_sites, 1);
}

/* A constant pool of stuck threads and churning short-lived ones: no leak. */
static void test_pool_and_churn_no_leak(void **state)
{
	struct fx *f = *state;
	struct lw_task_rec recs[16];
	size_t i, k;

	tracker_add_target(f->t, 100);
	for (i = 0; i < 200; i++) {
		uint64_t now = (100 + i) * SEC;

		recs[0] = running(100, 100, now);
		for (k = 0; k < 8; k++)
			recs[k + 1] = blocked(100, (uint32_t)(200 + k), 50 * SEC, now);
		/* 0 to 3 short-lived threads, new tids each time. */
		for (k = 0; k < i % 4; k++)
			recs[9 + k] = running(100, (uint32_t)(1000 + i * 4 + k), now);
		scan(f, recs, 9 + i % 4);
	}
	assert_int_equal(count(f, LW_RPT_LEAK), 0);
	assert_int_equal(stats_of(f).leaking_sites, 0);
}

/*
 * A pool that grows with its load, a worker a second for 20 s, then stays:
 * healthy, not a leak (it was reported as a "threads" leak 13 s in: a rise
 * over a few trend samples is no sign that it keeps growing).
 */
static void test_pool_ramping_up_then_steady_no_threads_leak(void **state)
{
	enum { WORKERS = 20, SCANS = 300 };
	struct fx *f = *state;
	struct lw_task_rec recs[WORKERS + 1];
	size_t i, k, n;

	tracker_add_target(f->t, 100);
	for (i = 0; i < SCANS; i++) {
		uint64_t now = (100 + i) * SEC;

		n = i < WORKERS ? i + 1 : WORKERS + 1;
		for (k = 0; k < n; k++)
			recs[k] = running(100, (uint32_t)(100 + k), now);
		scan(f, recs, n);
	}
	assert_int_equal(count(f, LW_RPT_LEAK), 0);
	assert_int_equal(stats_of(f).leaking_sites, 0);
}

/*
 * Host-wide, every process on the host is tracked: one with no stuck thread
 * and no leak must stay small (each held a 16 KiB "threads" site, stack
 * text included, that only a leak report needs).  Measured with glibc's
 * allocator; under ASan or valgrind, whose allocators mallinfo2 does not
 * see, there is nothing to measure.
 */
static void test_quiet_process_costs_little_memory(void **state)
{
	enum { PROCS = 1000 };
	struct fx *f = *state;
	struct lw_task_rec *recs = calloc(PROCS, sizeof(*recs));
	size_t before, after, i;

	assert_non_null(recs);
	for (i = 0; i < PROCS; i++)
		recs[i] = running((uint32_t)(1000 + i), (uint32_t)(1000 + i), 100 * SEC);
	scan(f, recs, 1); /* the tracker's own first allocations */
	before = mallinfo2().uordblks;
	scan(f, recs, PROCS);
	after = mallinfo2().uordblks;
	assert_int_equal(stats_of(f).processes, PROCS);
	if (before)
		assert_true((after - before) / PROCS < 2048);
	free(recs);
}

/* ---- Goroutines ---- */

/* A goroutine parked in main.queryAll.func1's chan send (or, startpc
 * PC_LOCKER, in main.locker's Mutex.Lock). */
static struct go_goroutine parked(uint64_t goid, uint64_t startpc, uint8_t reason, uint8_t seq)
{
	return (struct go_goroutine){
		.goid = goid,
		.status = GO_G_WAITING,
		.wait_reason = reason,
		.tracking_seq = seq,
		.sp_depth = 0x1a0,
		.startpc = startpc,
		.gopc = startpc == PC_LOCKER ? PC_MAIN_GO : PC_QUERY_GO,
		.g_addr = 0xc000000000ULL + goid * 0x200,
	};
}

static struct go_goroutine sends(uint64_t goid)
{
	return parked(goid, PC_QUERY_FUNC1, WR_CHAN_SEND, 1);
}

enum go_read { GO_READ, GO_UNREAD, GO_NOT_GIVEN };

/* One scan of the Go process: its main thread running, then (read) its
 * goroutines. */
static void go_scan_as(struct fx *f, uint64_t now, enum go_read read,
		       const struct go_goroutine *gs, size_t n)
{
	struct lw_task_rec r = running(GO_PID, GO_PID, now);

	f->now = now;
	tracker_scan_begin(f->t, now, &test_clock);
	tracker_scan_task(f->t, &r, NULL);
	if (read == GO_READ)
		tracker_scan_goroutines(f->t, GO_PID, gs, n);
	else if (read == GO_UNREAD)
		tracker_goroutines_unread(f->t, GO_PID);
	tracker_scan_end(f->t);
}

static void go_scan(struct fx *f, uint64_t now, const struct go_goroutine *gs, size_t n)
{
	go_scan_as(f, now, GO_READ, gs, n);
}

#define GO_SCAN(f, now, ...)                                                  \
	do {                                                                  \
		const struct go_goroutine gs_[] = { __VA_ARGS__ };            \
		go_scan(f, now, gs_, sizeof(gs_) / sizeof(gs_[0]));           \
	} while (0)

static const struct captured *stuck_of_goroutine(const struct fx *f, uint64_t goid, size_t k)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (f->rep[i]->r.type == LW_RPT_STUCK && f->rep[i]->r.goid == goid && k-- == 0)
			return f->rep[i];
	fail_msg("no stuck report #%zu for goid %llu", k, (unsigned long long)goid);
	return NULL;
}

/* A read without a timeout parks in net and internal/poll: the site is
 * named by the program's own frame that called them, not net's. */
static void test_goroutine_site_named_outside_the_standard_library(void **state)
{
	struct fx *f = *state;
	const struct captured *c;

	tracker_add_target(f->t, GO_PID);
	GO_SCAN(f, 100 * SEC, parked(9, PC_NETREAD, WR_IO_WAIT, 1));
	GO_SCAN(f, 110 * SEC, parked(9, PC_NETREAD, WR_IO_WAIT, 1));
	c = stuck_of_goroutine(f, 9, 0);
	assert_string_equal(c->r.wait->kind, "IO wait");
	assert_string_equal(c->site_where,
			    "IO wait in main.reader (net.go:33), created by main.queryAll");
}

static void test_goroutine_parked_past_threshold_is_stuck(void **state)
{
	struct fx *f = *state;
	const struct captured *c, *site;
	const struct lw_report *sample;

	tracker_add_target(f->t, GO_PID);
	GO_SCAN(f, 100 * SEC, sends(7));
	GO_SCAN(f, 109 * SEC, sends(7));
	assert_int_equal(count(f, LW_RPT_STUCK), 0);
	assert_int_equal(f->go_unwinds, 0); /* no stack read before it is stuck */
	GO_SCAN(f, 110 * SEC, sends(7));
	assert_int_equal(count(f, LW_RPT_STUCK), 1);
	c = stuck_of_goroutine(f, 7, 0);
	assert_int_equal(c->r.pid, GO_PID);
	assert_int_equal(c->r.tid, 0);
	assert_string_equal(c->r.wait->kind, "chan send");
	assert_float_equal(c->r.blocked_s, 10.0, 1e-9);
	assert_false(c->r.since_exact);
	assert_string_equal(c->func, "main.queryAll.func1");
	assert_string_equal(c->created_by, "main.queryAll (/src/main.go:19)");
	assert_true(c->site_goroutine);
	assert_string_equal(c->site_where,
			    "chan send in main.queryAll.func1 (main.go:21), created by main.queryAll");
	assert_string_equal(c->site_created_by, "main.queryAll (/src/main.go:19)");
	/* The site came first, with the Go stack named by pclntab. */
	site = nth_cap(f, LW_RPT_SITE, 0);
	assert_string_equal(site->site, c->site);
	assert_int_equal(site->r.goid, 7);
	assert_int_equal(site->site_user_n, 4);
	assert_int_equal(site->site_kernel_n, 0);
	assert_string_equal(site->site_frames[0], "runtime.gopark+0x100 (/go/src/runtime/proc.go:381)");
	assert_string_equal(site->site_frames[2], "main.queryAll.func1+0x50 (/src/main.go:21)");
	assert_string_equal(site->site_frames[3],
			    "runtime.goexit+0x10 (/go/src/runtime/asm_amd64.s:1598)");
	sample = last_sample(f, GO_PID);
	assert_true(sample->go);
	assert_int_equal(sample->goroutines, 1);
	assert_int_equal(sample->goroutines_blocked, 1);
	assert_int_equal(sample->goroutines_stuck, 1);
	assert_int_equal(sample->threads, 1);
	assert_int_equal(sample->stuck, 0); /* threads */
}

static void test_goroutine_same_wait_across_scans_is_one_wait(void **state)
{
	struct fx *f = *state;
	struct tracker_cursor cur = { 0 };
	struct lw_waiter_view v;
	uint64_t now;

	tracker_add_target(f->t, GO_PID);
	for (now = 100; now <= 140; now++)
		GO_SCAN(f, now * SEC, sends(7));
	assert_int_equal(count(f, LW_RPT_STUCK), 1);
	assert_int_equal(count(f, LW_RPT_UNSTUCK), 0);
	assert_int_equal(f->go_unwinds, 1);
	assert_true(tracker_next_stuck(f->t, &cur, &v));
	assert_int_equal(v.id.kind, LW_WAITER_GOROUTINE);
	assert_int_equal(v.goid, 7);
	assert_int_equal(v.blocked_ns, 40 * SEC);
	assert_false(v.since_exact);
	assert_string_equal(v.wait->kind, "chan send");
	assert_string_equal(v.func, "main.queryAll.func1");
	assert_string_equal(v.created_by, "main.queryAll (/src/main.go:19)");
	assert_string_equal(v.comm, "");
	assert_non_null(v.site);
	assert_false(tracker_next_stuck(f->t, &cur, &v));
	assert_int_equal(stats_of(f).goroutines, 1);
}

/* Woke and parked again at the same place between two scans: the
 * tracking_seq tells; so do the depth of its stack and the wait reason. */
static void test_goroutine_seq_change_is_new_wait(void **state)
{
	struct fx *f = *state;
	struct go_goroutine g = sends(7);
	const struct captured *u;
	uint64_t now;

	tracker_add_target(f->t, GO_PID);
	go_scan(f, 100 * SEC, &g, 1);
	go_scan(f, 110 * SEC, &g, 1);
	assert_int_equal(count(f, LW_RPT_STUCK), 1);
	g.tracking_seq++;
	go_scan(f, 111 * SEC, &g, 1);
	assert_int_equal(count(f, LW_RPT_UNSTUCK), 1);
	u = nth_cap(f, LW_RPT_UNSTUCK, 0);
	assert_int_equal(u->r.goid, 7);
	assert_int_equal(u->r.tid, 0);
	assert_false(u->r.end_exact);
	assert_float_equal(u->r.blocked_s, 10.0, 1e-9); /* to when it was last seen parked */
	assert_string_equal(u->r.wait->kind, "chan send");
	for (now = 112; now < 121; now++)
		go_scan(f, now * SEC, &g, 1);
	assert_int_equal(count(f, LW_RPT_STUCK), 1);
	go_scan(f, 121 * SEC, &g, 1);
	assert_int_equal(count(f, LW_RPT_STUCK), 2);
	assert_float_equal(stuck_of_goroutine(f, 7, 1)->r.blocked_s, 10.0, 1e-9);
	/* The same site: one site record. */
	assert_int_equal(count(f, LW_RPT_SITE), 1);
	assert_string_equal(stuck_of_goroutine(f, 7, 1)->site, stuck_of_goroutine(f, 7, 0)->site);

	g.sp_depth += 0x40;
	go_scan(f, 122 * SEC, &g, 1);
	assert_int_equal(count(f, LW_RPT_UNSTUCK), 2);
	g.wait_reason = WR_SELECT;
	go_scan(f, 140 * SEC, &g, 1);
	assert_int_equal(count(f, LW_RPT_STUCK), 2); /* a new wait, first seen now */
}

static void test_goroutine_gone_or_running_is_unstuck(void **state)
{
	struct fx *f = *state;
	struct go_goroutine run = sends(8);

	tracker_add_target(f->t, GO_PID);
	GO_SCAN(f, 100 * SEC, sends(7), sends(8));
	GO_SCAN(f, 110 * SEC, sends(7), sends(8));
	assert_int_equal(count(f, LW_RPT_STUCK), 2);
	assert_int_equal(stats_of(f).goroutines, 2);
	/* 7 exited; 8 runs (on thread 201). */
	run.status = GO_G_RUNNING;
	run.tid = 201;
	go_scan(f, 111 * SEC, &run, 1);
	assert_int_equal(count(f, LW_RPT_UNSTUCK), 2);
	assert_false(nth(f, LW_RPT_UNSTUCK, 0)->end_exact);
	assert_false(nth(f, LW_RPT_UNSTUCK, 1)->end_exact);
	assert_int_equal(stats_of(f).goroutines, 0);
	assert_int_equal(last_sample(f, GO_PID)->goroutines, 1);
	assert_int_equal(last_sample(f, GO_PID)->goroutines_blocked, 0);
	assert_int_equal(last_sample(f, GO_PID)->goroutines_stuck, 0);
	assert_int_equal(drops_of(f).unstuck_inexact, 2);
}

/* A scan that could not read the goroutines, or did not try: they stay. */
static void test_goroutines_unread_stay_as_they_were(void **state)
{
	struct fx *f = *state;
	struct tracker_cursor cur = { 0 };
	struct lw_waiter_view v;
	struct lw_process_view pv;

	tracker_add_target(f->t, GO_PID);
	GO_SCAN(f, 100 * SEC, sends(7), sends(8));
	GO_SCAN(f, 110 * SEC, sends(7), sends(8));
	assert_int_equal(count(f, LW_RPT_STUCK), 2);
	go_scan_as(f, 111 * SEC, GO_UNREAD, NULL, 0);
	go_scan_as(f, 112 * SEC, GO_NOT_GIVEN, NULL, 0);
	assert_int_equal(count(f, LW_RPT_UNSTUCK), 0);
	assert_int_equal(last_sample(f, GO_PID)->goroutines_stuck, 2);
	assert_int_equal(last_sample(f, GO_PID)->goroutines, 2);
	assert_true(tracker_next_stuck(f->t, &cur, &v));
	assert_true(tracker_next_stuck(f->t, &cur, &v));
	assert_false(tracker_next_stuck(f->t, &cur, &v));
	cur = (struct tracker_cursor){ 0 };
	assert_true(tracker_next_process(f->t, &cur, &pv));
	assert_true(pv.go);
	assert_int_equal(pv.goroutines_stuck, 2);
	/* Read again: 8 is gone. */
	GO_SCAN(f, 113 * SEC, sends(7));
	assert_int_equal(count(f, LW_RPT_UNSTUCK), 1);
	assert_int_equal(nth(f, LW_RPT_UNSTUCK, 0)->goid, 8);
	assert_int_equal(count(f, LW_RPT_STUCK), 2);
}

/* The process exec'd another program: its goroutines end (unstuck), its
 * samples have none, until goroutines of it are given again (it exec'd a Go
 * binary). */
static void test_goroutines_gone_at_exec_unstuck_not_go(void **state)
{
	struct fx *f = *state;
	struct lw_task_rec r;

	tracker_add_target(f->t, GO_PID);
	GO_SCAN(f, 100 * SEC, sends(7), sends(8));
	GO_SCAN(f, 110 * SEC, sends(7), sends(8));
	assert_int_equal(count(f, LW_RPT_STUCK), 2);
	f->now = 111 * SEC;
	r = running(GO_PID, GO_PID, f->now);
	tracker_scan_begin(f->t, f->now, &test_clock);
	tracker_scan_task(f->t, &r, NULL);
	tracker_goroutines_gone(f->t, GO_PID);
	tracker_scan_end(f->t);
	assert_int_equal(count(f, LW_RPT_UNSTUCK), 2);
	assert_int_equal(nth(f, LW_RPT_UNSTUCK, 0)->goid, 7);
	assert_int_equal(nth(f, LW_RPT_UNSTUCK, 1)->goid, 8);
	assert_false(last_sample(f, GO_PID)->go);
	assert_int_equal(last_sample(f, GO_PID)->goroutines_stuck, 0);
	assert_int_equal(stats_of(f).goroutines, 0);
	/* A process that is not Go: nothing to do. */
	tracker_goroutines_gone(f->t, GO_PID);
	tracker_goroutines_gone(f->t, GO_PID + 1);
	/* The new image is Go: read from scratch. */
	GO_SCAN(f, 112 * SEC, sends(1));
	assert_true(last_sample(f, GO_PID)->go);
	assert_int_equal(last_sample(f, GO_PID)->goroutines, 1);
	assert_int_equal(count(f, LW_RPT_UNSTUCK), 2);
}

/* One more goroutine parked at one Mutex.Lock every scan: a leak, named by
 * the first frame outside runtime and sync, with Go's wait reason. */
static void test_goroutine_pile_leaks_named_outside_the_runtime(void **state)
{
	enum { SCANS = 30 };
	struct fx *f = *state;
	struct go_goroutine gs[SCANS + 1];
	struct tracker_cursor cur = { 0 };
	struct lw_site_view v;
	const struct captured *leak;
	size_t i, k;

	tracker_add_target(f->t, GO_PID);
	for (i = 0; i < SCANS; i++) {
		/* the main goroutine, in a select that a ticker answers */
		gs[0] = parked(1, PC_QUERY_FUNC1, WR_SELECT, (uint8_t)i);
		for (k = 0; k < i; k++)
			gs[k + 1] = parked(100 + k, PC_LOCKER, WR_MUTEX, 3);
		go_scan(f, (100 + 20 * i) * SEC, gs, i + 1);
	}
	assert_true(count(f, LW_RPT_LEAK) >= 1);
	leak = nth_cap(f, LW_RPT_LEAK, 0);
	assert_int_equal(leak->r.pid, GO_PID);
	assert_int_equal(leak->r.goid, 0);
	assert_true(leak->site_goroutine);
	assert_string_equal(leak->site_where,
			    "sync.Mutex.Lock in main.locker (lock.go:12), created by main.main");
	assert_string_equal(leak->site_created_by, "main.main (/src/main.go:40)");
	assert_true(leak->r.stuck >= 3);
	assert_true(leak->r.go);
	/* the main goroutine, and the newest one, not stuck yet */
	assert_int_equal(leak->r.goroutines, leak->r.stuck + 2);
	/* The inlined Mutex.Lock is a frame of its own. */
	assert_int_equal(leak->site_user_n, 6);
	assert_string_equal(leak->site_frames[3], "sync.(*Mutex).Lock+0x20 (/go/src/sync/mutex.go:90)");
	assert_string_equal(leak->site_frames[4], "main.locker+0x20 (/src/lock.go:12)");
	assert_true(tracker_next_leak(f->t, &cur, &v));
	assert_true(v.site->goroutine);
	assert_false(tracker_next_leak(f->t, &cur, &v));
	/* No threads leak: a Go process's goroutines are not its threads. */
	assert_int_equal(stats_of(f).leaking_sites, 1);
}

/* The runtime's own goroutines (GC workers, forcegc...) park for ever:
 * never stuck, never counted, as runtime.NumGoroutine. */
static void test_system_goroutines_not_counted(void **state)
{
	struct fx *f = *state;
	struct go_goroutine gs[4] = { sends(1), sends(2), sends(3), sends(4) };
	uint64_t now;

	gs[1].system = true;
	gs[2].system = true;
	gs[3].status = GO_G_RUNNABLE;
	tracker_add_target(f->t, GO_PID);
	for (now = 100; now <= 120; now += 5)
		go_scan(f, now * SEC, gs, 4);
	assert_int_equal(count(f, LW_RPT_STUCK), 1);
	assert_int_equal(stuck_of_goroutine(f, 1, 0)->r.goid, 1);
	assert_int_equal(last_sample(f, GO_PID)->goroutines, 2);
	assert_int_equal(last_sample(f, GO_PID)->goroutines_blocked, 1);
	assert_int_equal(last_sample(f, GO_PID)->goroutines_stuck, 1);
	assert_int_equal(stats_of(f).goroutines, 1);
}

/* The stack moved while read: asked again at the next scan; a stack that
 * keeps moving is reported stuck without it, and counted. */
static void test_goroutine_stack_that_moved_is_read_again(void **state)
{
	struct fx *f = *state;
	const struct captured *c;

	tracker_add_target(f->t, GO_PID);
	f->go_eagain = 1;
	GO_SCAN(f, 100 * SEC, sends(7));
	GO_SCAN(f, 110 * SEC, sends(7));
	assert_int_equal(count(f, LW_RPT_STUCK), 0);
	assert_int_equal(last_sample(f, GO_PID)->goroutines_stuck, 1);
	GO_SCAN(f, 111 * SEC, sends(7));
	assert_int_equal(count(f, LW_RPT_STUCK), 1);
	c = stuck_of_goroutine(f, 7, 0);
	assert_float_equal(c->r.blocked_s, 11.0, 1e-9);
	assert_int_equal(c->site_user_n, 4);
	assert_int_equal(f->go_unwinds, 2);
	assert_int_equal(drops_of(f).stacks_unreadable, 0);

	/* 8 parks; its stack keeps moving (7 is stuck already: not read again) */
	f->go_eagain = 1000;
	GO_SCAN(f, 200 * SEC, sends(7), sends(8));
	GO_SCAN(f, 210 * SEC, sends(7), sends(8));
	GO_SCAN(f, 211 * SEC, sends(7), sends(8));
	assert_int_equal(count(f, LW_RPT_STUCK), 1);
	GO_SCAN(f, 212 * SEC, sends(7), sends(8));
	assert_int_equal(count(f, LW_RPT_STUCK), 2);
	c = stuck_of_goroutine(f, 8, 0);
	assert_int_equal(c->site_user_n, 0);
	assert_string_equal(c->r.wait->kind, "chan send");
	assert_string_equal(c->site_where, "chan send, created by main.queryAll");
	assert_int_equal(drops_of(f).stacks_unreadable, 1);
}

static void test_goroutine_unreadable_stack_counted_reported_without(void **state)
{
	struct fx *f = *state;
	const struct captured *c;

	tracker_add_target(f->t, GO_PID);
	f->go_stack_err = -EIO;
	GO_SCAN(f, 100 * SEC, sends(7));
	GO_SCAN(f, 110 * SEC, sends(7));
	assert_int_equal(count(f, LW_RPT_STUCK), 1);
	c = stuck_of_goroutine(f, 7, 0);
	assert_int_equal(c->site_user_n, 0);
	assert_string_equal(c->r.wait->kind, "chan send");
	assert_string_equal(c->func, "main.queryAll.func1");
	assert_int_equal(drops_of(f).stacks_unreadable, 1);
	assert_int_equal(f->go_unwinds, 1);
}

static void test_goroutines_past_the_cap_counted(void **state)
{
	struct fx *f = *state;

	tracker_add_target(f->t, GO_PID);
	GO_SCAN(f, 100 * SEC, sends(1), sends(2), sends(3));
	assert_int_equal(stats_of(f).goroutines, 2);
	assert_int_equal(drops_of(f).goroutines_untracked, 1);
	assert_int_equal(last_sample(f, GO_PID)->goroutines, 3);
	assert_int_equal(last_sample(f, GO_PID)->goroutines_blocked, 3);
	GO_SCAN(f, 110 * SEC, sends(1), sends(2), sends(3));
	assert_int_equal(count(f, LW_RPT_STUCK), 2);
	assert_int_equal(drops_of(f).goroutines_untracked, 2);
}

/* A thread that spins is reported with the goroutine running on it, and
 * its stack named as Go code. */
static void test_spin_joined_to_its_goroutine(void **state)
{
	struct fx *f = *state;
	struct go_goroutine g = sends(9);
	const struct captured *c;
	uint64_t now;

	g.status = GO_G_RUNNING;
	g.tid = GO_PID + 1;
	tracker_add_target(f->t, GO_PID);
	for (now = 100; now <= 110; now++) {
		struct lw_task_rec r = runnable(GO_PID, GO_PID + 1, 5, now * SEC);

		tracker_scan_begin(f->t, now * SEC, &test_clock);
		tracker_scan_goroutines(f->t, GO_PID, &g, 1);
		tracker_scan_task(f->t, &r, NULL);
		tracker_scan_end(f->t);
	}
	assert_int_equal(count(f, LW_RPT_SPIN), 1);
	c = nth_cap(f, LW_RPT_SPIN, 0);
	assert_int_equal(c->r.tid, GO_PID + 1);
	assert_int_equal(c->r.goid, 9);
	assert_string_equal(c->func, "main.queryAll.func1");
	assert_string_equal(c->created_by, "main.queryAll (/src/main.go:19)");
	assert_int_equal(c->stack_n, 2);
	assert_string_equal(c->stack_frame0, "main.queryAll.func1+0x50 (/src/main.go:21)");
	assert_int_equal(count(f, LW_RPT_STUCK), 0);
}

/*
 * How goroutine 9 of the fake Go process is at a read: on a thread after a
 * preemption, or runnable preempted (tracking_seq risen since the last
 * read, its last stop a preemption); runnable after a wake-up, running
 * again after a park (RESUMED: tracking_seq risen, its last stop not a
 * preemption), parked, in a syscall; or on a thread, never off it
 * (NEVER_OFF: tracking_seq as it was).
 */
enum go_cpu { ON_THREAD_1, ON_THREAD_2, PREEMPTED, WOKEN, RESUMED, PARKED, IN_SYSCALL, NEVER_OFF };

static struct go_goroutine spinner(enum go_cpu how, uint64_t now)
{
	struct go_goroutine g = sends(9);

	g.tracking_seq = (uint8_t)now;
	switch (how) {
	case ON_THREAD_1:
	case ON_THREAD_2:
		g.status = GO_G_RUNNING;
		g.tid = how == ON_THREAD_1 ? GO_PID + 1 : GO_PID + 2;
		g.preempted = true;
		break;
	case RESUMED:
	case NEVER_OFF:
		g.status = GO_G_RUNNING;
		g.tid = GO_PID + 1;
		if (how == NEVER_OFF)
			g.tracking_seq = 1;
		break;
	case PREEMPTED:
	case WOKEN:
		g.status = GO_G_RUNNABLE;
		g.preempted = how == PREEMPTED;
		break;
	case PARKED:
		break;
	case IN_SYSCALL:
		g.status = GO_G_SYSCALL;
		g.tid = GO_PID + 1;
		break;
	}
	return g;
}

/*
 * One scan at now seconds: goroutine 9 as how, then the two threads of the
 * Go process, each runnable with a voluntary switch since the last scan
 * (sysmon's preemption moves the goroutine from thread to thread, and an M
 * without work sleeps): no thread spins by itself.
 */
static void spin_scan(struct fx *f, uint64_t now, enum go_cpu how)
{
	struct go_goroutine g = spinner(how, now);
	struct lw_task_rec r1 = runnable(GO_PID, GO_PID + 1, now, now * SEC);
	struct lw_task_rec r2 = runnable(GO_PID, GO_PID + 2, now, now * SEC);

	f->now = now * SEC;
	tracker_scan_begin(f->t, now * SEC, &test_clock);
	tracker_scan_goroutines(f->t, GO_PID, &g, 1);
	tracker_scan_task(f->t, &r1, NULL);
	tracker_scan_task(f->t, &r2, NULL);
	tracker_scan_end(f->t);
}

/* A goroutine on the CPU at every read, moved between threads and
 * preempted in between, spins: once, named by its goroutine, with the stack
 * of the thread it is on when it turns a spin. */
static void test_goroutine_spin_moving_between_threads(void **state)
{
	static const enum go_cpu hows[] = { ON_THREAD_1, PREEMPTED, ON_THREAD_2, ON_THREAD_1 };
	struct fx *f = *state;
	const struct captured *c;
	uint64_t now;

	tracker_add_target(f->t, GO_PID);
	for (now = 100; now < 110; now++)
		spin_scan(f, now, hows[now % 4]);
	assert_int_equal(count(f, LW_RPT_SPIN), 0);
	spin_scan(f, 110, ON_THREAD_2);
	assert_int_equal(count(f, LW_RPT_SPIN), 1);
	c = nth_cap(f, LW_RPT_SPIN, 0);
	assert_int_equal(c->r.pid, GO_PID);
	assert_int_equal(c->r.goid, 9);
	assert_int_equal(c->r.tid, GO_PID + 2);
	assert_string_equal(c->func, "main.queryAll.func1");
	assert_string_equal(c->created_by, "main.queryAll (/src/main.go:19)");
	assert_float_equal(c->r.running_s, 10.0, 1e-9);
	assert_float_equal(c->r.ts, OFFSET_S + 110, 1e-6);
	assert_int_equal(c->stack_n, 2);
	assert_string_equal(c->stack_frame0, "main.queryAll.func1+0x50 (/src/main.go:21)");
	/* One report per episode, wherever it runs next. */
	for (now = 111; now < 140; now++)
		spin_scan(f, now, hows[now % 4]);
	assert_int_equal(count(f, LW_RPT_SPIN), 1);
	assert_int_equal(stats_of(f).spins, 1);
	assert_int_equal(count(f, LW_RPT_STUCK), 0);
}

/* A spinner's thread caught in the scheduler (preempted, or handing off
 * its P): the report waits for a scan that finds it in the goroutine's own
 * code, at most SPIN_STACK_TRIES scans, then goes out with what it shows. */
static void test_goroutine_spin_waits_for_its_own_stack(void **state)
{
	struct fx *f = *state;
	const struct captured *c;
	uint64_t now;

	tracker_add_target(f->t, GO_PID);
	for (now = 100; now < 110; now++)
		spin_scan(f, now, ON_THREAD_1);
	f->go_sched_stacks = 2;
	spin_scan(f, 110, ON_THREAD_1);
	spin_scan(f, 111, ON_THREAD_1);
	assert_int_equal(count(f, LW_RPT_SPIN), 0);
	spin_scan(f, 112, ON_THREAD_1);
	assert_int_equal(count(f, LW_RPT_SPIN), 1);
	c = nth_cap(f, LW_RPT_SPIN, 0);
	assert_int_equal(c->r.goid, 9);
	assert_string_equal(c->stack_frame0, "main.queryAll.func1+0x50 (/src/main.go:21)");
	assert_float_equal(c->r.running_s, 12.0, 1e-9);
}

static void test_goroutine_spin_in_the_scheduler_reported_after_tries(void **state)
{
	struct fx *f = *state;
	const struct captured *c;
	uint64_t now;

	tracker_add_target(f->t, GO_PID);
	for (now = 100; now < 110; now++)
		spin_scan(f, now, ON_THREAD_1);
	f->go_sched_stacks = 1000;
	for (now = 110; now < 113; now++)
		spin_scan(f, now, ON_THREAD_1);
	assert_int_equal(count(f, LW_RPT_SPIN), 0);
	spin_scan(f, 113, ON_THREAD_1);
	assert_int_equal(count(f, LW_RPT_SPIN), 1);
	c = nth_cap(f, LW_RPT_SPIN, 0);
	assert_int_equal(c->r.goid, 9);
	assert_string_equal(c->stack_frame0,
			    "runtime.futex+0x10 (/go/src/runtime/sys_linux_amd64.s:557)");
}

/* Preempted when it turns a spin: reported at once, with its own stack
 * from g.sched (the preemption path, then its loop). */
static void test_goroutine_spin_preempted_has_its_sched_stack(void **state)
{
	struct fx *f = *state;
	const struct captured *c;
	uint64_t now;

	tracker_add_target(f->t, GO_PID);
	for (now = 100; now < 110; now++)
		spin_scan(f, now, now % 2 ? ON_THREAD_1 : PREEMPTED);
	spin_scan(f, 110, PREEMPTED);
	assert_int_equal(count(f, LW_RPT_SPIN), 1);
	c = nth_cap(f, LW_RPT_SPIN, 0);
	assert_int_equal(c->r.goid, 9);
	assert_int_equal(c->r.tid, 0);
	assert_string_equal(c->r.comm, "");
	assert_int_equal(c->stack_n, 3);
	assert_string_equal(c->stack_frame0,
			    "runtime.asyncPreempt2+0x10 (/go/src/runtime/preempt.go:308)");
	assert_int_equal(f->go_unwinds, 1);
}

/* Parked, in a syscall, or runnable after a wake-up at any read: its run
 * ended there, and a new one starts; a spin needs the threshold again. */
static void test_goroutine_that_stops_does_not_spin(void **state)
{
	static const enum go_cpu stops[] = { PARKED, IN_SYSCALL, WOKEN, RESUMED };
	struct fx *f = *state;
	uint64_t now = 100, i;

	tracker_add_target(f->t, GO_PID);
	for (i = 0; i < 4; i++) {
		uint64_t start = now;

		for (; now < start + 10; now++)
			spin_scan(f, now, now % 2 ? ON_THREAD_1 : PREEMPTED);
		spin_scan(f, now++, stops[i]);
	}
	assert_int_equal(count(f, LW_RPT_SPIN), 0);
	/* Then on the CPU for the threshold: a new episode, reported. */
	for (i = now; now <= i + 10; now++)
		spin_scan(f, now, ON_THREAD_2);
	assert_int_equal(count(f, LW_RPT_SPIN), 1);
	assert_float_equal(nth(f, LW_RPT_SPIN, 0)->running_s, 10.0, 1e-9);
	/* It parks, then spins again: a second episode. */
	spin_scan(f, now++, PARKED);
	for (i = now; now <= i + 10; now++)
		spin_scan(f, now, PREEMPTED);
	assert_int_equal(count(f, LW_RPT_SPIN), 2);
}

/* Seen running at every read and never off running in between (as
 * tracking_seq counts): a spin, though its last stop, long ago, was not a
 * preemption. */
static void test_goroutine_never_off_running_spins(void **state)
{
	struct fx *f = *state;
	uint64_t now;

	tracker_add_target(f->t, GO_PID);
	for (now = 100; now < 110; now++)
		spin_scan(f, now, NEVER_OFF);
	assert_int_equal(count(f, LW_RPT_SPIN), 0);
	spin_scan(f, 110, NEVER_OFF);
	assert_int_equal(count(f, LW_RPT_SPIN), 1);
	assert_int_equal(nth(f, LW_RPT_SPIN, 0)->goid, 9);
}

/* A thread-level spin names the goroutine on it first: that goroutine's
 * episode is reported, not twice. */
static void test_goroutine_spin_after_its_thread_spin_not_twice(void **state)
{
	struct fx *f = *state;
	struct go_goroutine g = spinner(ON_THREAD_1, 0);
	uint64_t now;

	tracker_add_target(f->t, GO_PID);
	/* The thread spins from 100; the goroutines are read from 105 on. */
	for (now = 100; now <= 125; now++) {
		struct lw_task_rec r = runnable(GO_PID, GO_PID + 1, 5, now * SEC);

		tracker_scan_begin(f->t, now * SEC, &test_clock);
		if (now >= 105)
			tracker_scan_goroutines(f->t, GO_PID, &g, 1);
		tracker_scan_task(f->t, &r, NULL);
		tracker_scan_end(f->t);
	}
	assert_int_equal(count(f, LW_RPT_SPIN), 1);
	assert_int_equal(nth(f, LW_RPT_SPIN, 0)->goid, 9);
	assert_float_equal(nth(f, LW_RPT_SPIN, 0)->ts, OFFSET_S + 110, 1e-6);
	/* Preempted, off its thread: still the same episode. */
	for (; now <= 140; now++) {
		g = spinner(PREEMPTED, now);
		go_scan(f, now * SEC, &g, 1);
	}
	assert_int_equal(count(f, LW_RPT_SPIN), 1);
}

/* A thread of another process spins without a goroutine. */
static void test_spin_of_other_process_has_no_goroutine(void **state)
{
	struct fx *f = *state;

	tracker_add_target(f->t, 100);
	SCAN(f, runnable(100, 101, 5, 100 * SEC));
	SCAN(f, runnable(100, 101, 5, 120 * SEC));
	assert_int_equal(count(f, LW_RPT_SPIN), 1);
	assert_int_equal(nth(f, LW_RPT_SPIN, 0)->goid, 0);
	assert_string_equal(nth_cap(f, LW_RPT_SPIN, 0)->stack_frame0, "fn_401100+0x0 (app)");
}

/* Goid 5 and tid 5 of one process are two waiters. */
static void test_goroutine_and_thread_of_same_id_are_two_waiters(void **state)
{
	struct fx *f = *state;
	struct go_goroutine g = sends(5);

	tracker_add_target(f->t, GO_PID);
	for (uint64_t now = 100; now <= 110; now += 10) {
		struct lw_task_rec r = blocked(GO_PID, 5, 100 * SEC, now * SEC);

		tracker_scan_begin(f->t, now * SEC, &test_clock);
		tracker_scan_task(f->t, &r, NULL);
		tracker_scan_goroutines(f->t, GO_PID, &g, 1);
		tracker_scan_end(f->t);
	}
	assert_int_equal(count(f, LW_RPT_STUCK), 2);
	assert_int_equal(stats_of(f).waiters, 2);
	assert_int_equal(last_sample(f, GO_PID)->stuck, 1);
	assert_int_equal(last_sample(f, GO_PID)->goroutines_stuck, 1);
	/* Two sites: the thread's and the goroutine's. */
	assert_int_equal(count(f, LW_RPT_SITE), 2);
}

/* The process exits: its stuck goroutines end before its exit, and go. */
static void test_goroutines_of_exited_process_unstuck_then_freed(void **state)
{
	struct fx *f = *state;

	tracker_add_target(f->t, GO_PID);
	GO_SCAN(f, 100 * SEC, sends(7), sends(8));
	GO_SCAN(f, 110 * SEC, sends(7), sends(8));
	scan_empty(f);
	assert_int_equal(count(f, LW_RPT_UNSTUCK), 2);
	assert_int_equal(count(f, LW_RPT_EXIT), 1);
	assert_int_equal(f->rep[f->n - 1]->r.type, LW_RPT_EXIT);
	assert_int_equal(stats_of(f).goroutines, 0);
	assert_int_equal(stats_of(f).waiters, 0);
}

/* Parked goroutines cost a small waiter each, no stack: 20,000 of them
 * parked at one site, then all stuck. */
static void test_parked_goroutines_cost_little_memory(void **state)
{
	enum { N = 20000 };
	struct fx *f = *state;
	struct go_goroutine *gs = calloc(N, sizeof(*gs));
	size_t before, after, i;

	assert_non_null(gs);
	for (i = 0; i < N; i++)
		gs[i] = parked(i + 1, PC_LOCKER, WR_MUTEX, 1);
	tracker_add_target(f->t, GO_PID);
	f->count_only = true;
	go_scan(f, 99 * SEC, gs, 1); /* the tracker's own first allocations */
	before = mallinfo2().uordblks;
	go_scan(f, 100 * SEC, gs, N);
	go_scan(f, 110 * SEC, gs, N);
	after = mallinfo2().uordblks;
	assert_int_equal(f->counted[LW_RPT_STUCK], N);
	assert_int_equal(f->counted[LW_RPT_SITE], 1);
	assert_int_equal(f->go_unwinds, N);
	print_message("%zu bytes per stuck goroutine\n", (after - before) / N);
	if (before)
		assert_true((after - before) / N < 256);
	free(gs);
}

/* unwind_goroutines: the goroutines stuck in one scan read in one call, in
 * the order given, and reported in that order; a goid listed twice once. */
static void test_goroutines_stuck_in_one_scan_read_in_one_batch(void **state)
{
	struct fx *f = *state;
	struct go_goroutine l = parked(8, PC_LOCKER, WR_MUTEX, 1);
	size_t i, k = 0;
	uint64_t order[3];

	tracker_add_target(f->t, GO_PID);
	GO_SCAN(f, 100 * SEC, sends(7), sends(9), l);
	assert_int_equal(f->go_batches, 0);
	GO_SCAN(f, 111 * SEC, sends(7), sends(9), l, sends(9));
	assert_int_equal(f->go_batches, 1);
	assert_int_equal(f->go_batch_n, 4);
	assert_int_equal(f->go_batch_goids[0], 7);
	assert_int_equal(f->go_batch_goids[1], 9);
	assert_int_equal(f->go_batch_goids[2], 8);
	for (i = 0; i < f->n; i++)
		if (f->rep[i]->r.type == LW_RPT_STUCK) {
			assert_true(k < 3);
			order[k++] = f->rep[i]->r.goid;
		}
	assert_int_equal(k, 3);
	assert_int_equal(order[0], 7);
	assert_int_equal(order[1], 9);
	assert_int_equal(order[2], 8);
	assert_int_equal(f->go_unwinds, 4); /* 9 listed twice: read twice, reported once */
	/* Stuck already: not read again. */
	GO_SCAN(f, 112 * SEC, sends(7), sends(9), l);
	assert_int_equal(f->go_batches, 1);
	/* One that moved while read is read again at the next scan, alone. */
	GO_SCAN(f, 113 * SEC, sends(7), sends(9), l, sends(11));
	f->go_eagain = 1;
	GO_SCAN(f, 124 * SEC, sends(7), sends(9), l, sends(11));
	assert_int_equal(f->go_batches, 2);
	assert_int_equal(f->go_batch_n, 1);
	GO_SCAN(f, 125 * SEC, sends(7), sends(9), l, sends(11));
	assert_int_equal(f->go_batches, 3);
	assert_non_null(stuck_of_goroutine(f, 11, 0));
}

/* ---- Cgroups ---- */

#define DOCKER "/system.slice/docker-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope"

/* Read once per process, when a record first names it; shared by the
 * processes of one cgroup; on every record and view of the process. */
static void test_cgroup_read_once_shared(void **state)
{
	struct fx *f = *state;
	struct tracker_cursor c = { 0 };
	struct lw_process_view pv;
	struct lw_waiter_view wv;
	const struct lw_cgroup *cg;
	size_t i;

	fake_cgroup_set(100, DOCKER);
	fake_cgroup_set(200, DOCKER);
	fake_cgroup_set(300, "/system.slice/nginx.service");
	/* 300 never has a stuck thread: never read */
	SCAN(f, blocked(100, 101, 50 * SEC, 100 * SEC), blocked(200, 201, 50 * SEC, 100 * SEC),
	     running(300, 300, 100 * SEC));
	assert_int_equal(fake_cgroups.reads, 2);
	cg = stuck_of(f, 101)->cgroup_ptr;
	assert_non_null(cg);
	assert_ptr_equal(stuck_of(f, 201)->cgroup_ptr, cg);
	assert_string_equal(cg->path, DOCKER);
	assert_string_equal(cg->runtime, "docker");
	assert_int_equal(strlen(cg->container), 64);
	assert_int_equal(stats_of(f).cgroups, 1);
	for (i = 0; i < f->n; i++)
		assert_ptr_equal(f->rep[i]->cgroup_ptr, cg); /* stuck, site, sample */
	assert_int_equal(count(f, LW_RPT_SAMPLE), 2);
	/* Later scans read nothing again. */
	SCAN(f, blocked(100, 101, 50 * SEC, 101 * SEC), blocked(200, 201, 50 * SEC, 101 * SEC),
	     running(300, 300, 101 * SEC));
	assert_int_equal(fake_cgroups.reads, 2);
	assert_string_equal(last_sample(f, 100)->cgroup->path, DOCKER);
	while (tracker_next_process(f->t, &c, &pv))
		assert_ptr_equal(pv.cgroup, cg);
	c = (struct tracker_cursor){ 0 };
	assert_true(tracker_next_stuck(f->t, &c, &wv));
	assert_ptr_equal(wv.cgroup, cg);
	/* Asked for from outside (a go or python record): the same. */
	assert_ptr_equal(tracker_process_cgroup(f->t, 200), cg);
	assert_string_equal(tracker_process_cgroup(f->t, 300)->unit, "nginx.service");
	assert_int_equal(fake_cgroups.reads, 3);
	assert_null(tracker_process_cgroup(f->t, 999));
	assert_int_equal(drops_of(f).cgroups_unread, 0);
}

/* A process gone: its exit names its cgroup without reading (the pid may
 * be another's by then); a new life of the pid reads again. */
static void test_cgroup_new_life_reads_again(void **state)
{
	struct fx *f = *state;

	fake_cgroup_set(100, DOCKER);
	SCAN(f, blocked(100, 101, 50 * SEC, 100 * SEC));
	assert_int_equal(fake_cgroups.reads, 1);
	fake_cgroup_set(100, "/user.slice/user-1000.slice/session-3.scope");
	scan_empty(f);
	assert_int_equal(count_pid(f, LW_RPT_EXIT, 100), 1);
	assert_string_equal(nth(f, LW_RPT_EXIT, 0)->cgroup->path, DOCKER);
	assert_int_equal(fake_cgroups.reads, 1);
	assert_int_equal(stats_of(f).cgroups, 0); /* the last reference went */
	SCAN(f, blocked(100, 102, 90 * SEC, 110 * SEC));
	assert_int_equal(fake_cgroups.reads, 2);
	assert_string_equal(stuck_of(f, 102)->r.cgroup->unit, "session-3.scope");
}

/* Unreadable (the process went, a file not as expected): no cgroup,
 * counted, not read again. */
static void test_cgroup_unreadable_counted(void **state)
{
	struct fx *f = *state;

	fake_cgroup_set(100, NULL);
	SCAN(f, blocked(100, 101, 50 * SEC, 100 * SEC));
	assert_null(stuck_of(f, 101)->r.cgroup);
	assert_null(last_sample(f, 100)->cgroup);
	SCAN(f, blocked(100, 101, 50 * SEC, 101 * SEC));
	assert_int_equal(fake_cgroups.reads, 1);
	assert_int_equal(drops_of(f).cgroups_unread, 1);
}

/* No read_cgroup: no cgroup on any record. */
static void test_cgroup_none_without_reader(void **state)
{
	struct fx *f = *state;
	size_t i;

	SCAN(f, blocked(100, 101, 50 * SEC, 100 * SEC));
	assert_true(f->n > 0);
	for (i = 0; i < f->n; i++)
		assert_null(f->rep[i]->r.cgroup);
	assert_null(tracker_process_cgroup(f->t, 100));
	assert_int_equal(stats_of(f).scanned_threads, 1);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup_targets, teardown)
#define H(name) cmocka_unit_test_setup_teardown(name, setup_host_wide, teardown)
#define S(name) cmocka_unit_test_setup_teardown(name, setup_stacks, teardown)
#define C(name) cmocka_unit_test_setup_teardown(name, setup_cgroups, teardown)
	const struct CMUnitTest tests[] = {
		C(test_cgroup_read_once_shared),
		C(test_cgroup_new_life_reads_again),
		C(test_cgroup_unreadable_counted),
		H(test_cgroup_none_without_reader),
		T(test_blocked_below_threshold_not_stuck),
		T(test_crossing_threshold_reports_stuck_once),
		T(test_first_scan_already_past_threshold),
		T(test_since_inexact_reported),
		T(test_uninterruptible_is_state_d),
		T(test_stuck_wait_uses_restart_fns_and_waiter_reader),
		T(test_new_episode_new_stuck),
		T(test_wait_end_matching_since_is_exact_unstuck),
		T(test_wait_end_twice_reports_once),
		T(test_wait_end_other_since_ignored),
		T(test_wait_end_unknown_or_not_stuck_ignored),
		T(test_end_seen_by_scan_only_is_inexact_unstuck),
		T(test_wait_end_between_scans_is_exact_and_single),
		T(test_sample_counts_for_target),
		T(test_sample_counts_follow_changes),
		T(test_non_target_sampled_only_with_stuck_threads),
		H(test_host_wide_samples_only_processes_with_stuck),
		H(test_host_wide_ignores_new_processes),
		H(test_quiet_process_costs_little_memory),
		T(test_target_missing_from_scan_exits_once),
		T(test_target_never_seen_exits),
		T(test_exit_before_any_scan_named_from_record),
		T(test_add_target_twice_counts_once),
		T(test_group_dead_event_reports_exit),
		T(test_threads_seen_after_exit_record_ignored),
		T(test_thread_exit_removes_stuck_thread),
		T(test_thread_missing_from_scan_forgotten),
		H(test_host_wide_exit_only_for_reported_processes),
		T(test_new_process_of_target_becomes_target),
		T(test_exited_child_forgotten_and_pid_reused),
		T(test_new_process_of_non_target_ignored),
		T(test_new_thread_of_target_is_not_a_target),
		T(test_stuck_threads_longest_first),
		T(test_stuck_threads_limited_keeps_longest),
		T(test_comm_of_16_bytes_without_nul),
		T(test_renamed_thread_uses_new_name),
		T(test_clock_before_since_not_stuck),
		cmocka_unit_test(test_no_sink_no_crash),
		T(test_churn),
		T(test_threads_at_same_wait_share_a_site),
		T(test_site_reported_before_its_first_stuck),
		S(test_sites_split_by_user_stack),
		cmocka_unit_test_setup_teardown(test_thread_site_named_by_inlined_frame, setup_frames,
						teardown),
		cmocka_unit_test_setup_teardown(test_python_threads_split_and_named_by_python_frames,
						setup_frames, teardown),
		S(test_kernel_stack_of_new_stuck_thread),
		S(test_unwind_failure_counted_thread_still_stuck),
		S(test_forget_called_when_process_goes),
		T(test_drops_count_inexact_unstuck),
		T(test_spin_reported_once),
		T(test_spin_reset_by_voluntary_switch),
		T(test_spin_reset_by_blocking),
		T(test_spin_again_after_a_switch),
		T(test_kernel_thread_never_spins),
		S(test_spin_report_carries_user_stack),
		cmocka_unit_test_setup_teardown(test_full_site_table_keeps_sites_in_use,
						setup_site_per_tid, teardown),
		H(test_reused_tid_in_another_process),
		H(test_reused_tid_of_stuck_thread_after_its_process_went),
		T(test_stuck_thread_exit_without_wait_end_is_inexact_unstuck),
		T(test_stuck_thread_gone_from_scan_is_inexact_unstuck),
		T(test_stuck_thread_running_then_gone_unstuck_once),
		T(test_stuck_thread_of_exited_process_unstuck),
		T(test_exit_of_unseen_target_has_the_scan_time),
		T(test_each_scan_brings_its_wall_clock),
		T(test_wait_end_before_the_scan_reached_the_thread_is_exact),
		T(test_wait_end_after_the_scan_saw_the_thread_follows_its_stuck),
		T(test_aborted_scan_sweeps_nothing),
		T(test_wait_end_with_later_stamp_ends_inexact_wait),
		T(test_stamp_after_scan_clock_not_stuck),
		T(test_growing_pile_reports_a_site_leak),
		T(test_growing_thread_count_reports_a_threads_leak),
		T(test_pool_and_churn_no_leak),
		T(test_pool_ramping_up_then_steady_no_threads_leak),
#define G(name) cmocka_unit_test_setup_teardown(name, setup_go, teardown)
		G(test_goroutine_site_named_outside_the_standard_library),
		G(test_goroutine_parked_past_threshold_is_stuck),
		G(test_goroutine_same_wait_across_scans_is_one_wait),
		G(test_goroutine_seq_change_is_new_wait),
		G(test_goroutine_gone_or_running_is_unstuck),
		G(test_goroutines_unread_stay_as_they_were),
		G(test_goroutines_gone_at_exec_unstuck_not_go),
		G(test_goroutine_pile_leaks_named_outside_the_runtime),
		G(test_system_goroutines_not_counted),
		G(test_goroutine_stack_that_moved_is_read_again),
		G(test_goroutine_unreadable_stack_counted_reported_without),
		cmocka_unit_test_setup_teardown(test_goroutines_past_the_cap_counted,
						setup_go_cap_2, teardown),
		G(test_spin_joined_to_its_goroutine),
		G(test_spin_of_other_process_has_no_goroutine),
		G(test_goroutine_spin_waits_for_its_own_stack),
		G(test_goroutine_spin_in_the_scheduler_reported_after_tries),
		G(test_goroutine_spin_moving_between_threads),
		G(test_goroutine_spin_preempted_has_its_sched_stack),
		G(test_goroutine_that_stops_does_not_spin),
		G(test_goroutine_never_off_running_spins),
		G(test_goroutine_spin_after_its_thread_spin_not_twice),
		G(test_goroutine_and_thread_of_same_id_are_two_waiters),
		G(test_goroutines_of_exited_process_unstuck_then_freed),
		G(test_parked_goroutines_cost_little_memory),
#define GB(name) cmocka_unit_test_setup_teardown(name, setup_go_batch, teardown)
		GB(test_goroutines_stuck_in_one_scan_read_in_one_batch),
		/* The same semantics through unwind_goroutines. */
		GB(test_goroutine_parked_past_threshold_is_stuck),
		GB(test_goroutine_same_wait_across_scans_is_one_wait),
		GB(test_goroutine_seq_change_is_new_wait),
		GB(test_goroutine_gone_or_running_is_unstuck),
		GB(test_goroutine_pile_leaks_named_outside_the_runtime),
		GB(test_goroutine_stack_that_moved_is_read_again),
		GB(test_goroutine_unreadable_stack_counted_reported_without),
		GB(test_spin_joined_to_its_goroutine),
		GB(test_goroutines_of_exited_process_unstuck_then_freed),
		GB(test_parked_goroutines_cost_little_memory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>
#include "clock.h"
#include "go_buildinfo.h"
#include "go_g.h"
#include "go_scan.h"
#include "id_map.h"
#include "procfs.h"

/* The kernel's UIO_MAXIOV: iovecs per process_vm_readv, each side. */
#define GO_IOV_MAX 1024
/*
 * An iovec costs more than the bytes it reads (a page walk and pin in the
 * kernel each): 100,000 gs of Go 1.26 read as 7 ranges each took 466 ms, as
 * 2 ranges 130 ms, as one 89 ms, and as runs 24-41 ms.  So a g is read as
 * one range, from its start to its last field used, and gs next to each
 * other in memory (allgs keeps allocation order: 94% of them are) as one
 * run: twice the bytes of the fields alone, a quarter of the time.
 */
#define GO_G_MERGE_GAP UINT32_MAX
/* Gs in one run: each starts at most this far past the last one's end... */
#define GO_RUN_GAP 512
/* ...and a run, and a batch of runs (one process_vm_readv), is bounded. */
#define GO_RUN_MAX (64 * 1024)
#define GO_BATCH_BYTES (1024 * 1024)
/* The stack is read in windows of this much from sched.sp: one read holds
 * the used part of a parked goroutine's stack (490 bytes on average in a
 * prototype), a deep one takes a few. */
#define GO_STACK_WINDOW (64 * 1024)
#define GO_STACK_MAX_WINDOWS 64
/* go_process_stacks: goroutines per batch, and the first window of each
 * (the used part of most parked stacks: a deeper one reads on in
 * GO_STACK_WINDOW steps). */
#define GO_STACK_BATCH 1024
#define GO_STACK_FIRST (16 * 1024)
/* Wait reasons: the runtime has ~40; a longer name is not one. */
#define GO_MAX_WAIT_REASONS 256
#define GO_WAIT_REASON_MAX_LEN 64
/* /proc/PID/maps read for the load bias: the executable's mapping is among
 * the first lines (maps is sorted by address; only the heap is lower). */
#define GO_MAPS_MAX (1024 * 1024)
/* A scan of an allglen past this did not read allglen. */
#define GO_MAX_ALLGLEN (1ull << 32)
/* startpc -> system: direct-mapped, a process has few distinct go statements. */
#define GO_SYS_CACHE 1024

/* The runtime functions whose mcall a preempted goroutine stopped at:
 * asyncPreempt2 (async preemption, every Go here; 1.26's mcall of a func
 * literal returns into it too), goschedIfBusy (1.20+: a busy sweeper told
 * to yield).  gopreempt_m, preemptPark and newstack run on g0 and do not
 * move sched.pc. */
static const char *const preempt_funcs[] = {
	"runtime.asyncPreempt2", "runtime.asyncPreempt", "runtime.goschedIfBusy",
};
#define GO_PREEMPT_FUNCS (sizeof(preempt_funcs) / sizeof(preempt_funcs[0]))

struct sys_entry {
	uint64_t startpc;  /* 0: empty */
	bool system;
};

/* One goroutine of a go_process_stacks batch, through its states. */
enum job_state {
	JOB_READ,   /* its g and first window to read and walk */
	JOB_DEEP,   /* its walk needs the stack from w.need on */
	JOB_CHECK,  /* walked to goexit: its g to read again */
	JOB_DONE,
};

struct stack_job {
	const struct go_goroutine *g;
	struct go_stack_result *out;
	enum job_state state;
	struct go_g_raw raw;
	struct go_stack_walk w;
	uint64_t base;     /* JOB_DEEP: the window's remote start */
	size_t off;        /* its bytes in p->batch */
	size_t win;        /* stack bytes read after its g image (JOB_READ), or the window */
	size_t cum, bytes; /* where its bytes start in the call's transfer, how many */
	int windows;
};

struct go_process {
	uint32_t pid;
	const struct go_binary *b;
	struct go_layout layout;
	struct go_g_segs segs;
	uint64_t bias;
	uint64_t allglen, allgs, allgptr; /* runtime addresses */
	uint64_t goexit_lo, goexit_hi;
	/* Where a preempted goroutine's sched.pc is (runtime addresses, 0 0
	 * if the binary has no such function), and gopark's, the common case
	 * of a runnable goroutine, told apart without a lookup. */
	uint64_t preempt_lo[GO_PREEMPT_FUNCS], preempt_hi[GO_PREEMPT_FUNCS];
	uint64_t gopark_lo, gopark_hi;
	bool syscall_bp; /* entersyscall saves bp in g.sched (Go 1.23+) */

	/* Wait reasons read from the process, else the binary's table. */
	char (*reasons)[GO_WAIT_REASON_MAX_LEN + 1];
	uint32_t n_reasons;
	const char *const *reason_table;
	uint32_t n_reason_table;

	/* Buffers kept across scans. */
	uint64_t *gptrs;
	size_t gptrs_cap;
	struct go_goroutine *gs;
	size_t gs_cap, n_gs;
	uint64_t *on_m;     /* per g in gs (gs_cap long): its m when on a thread, else 0 */
	uint64_t procids[GO_IOV_MAX];
	uint8_t *batch;     /* GO_BATCH_BYTES: one batch of runs of gs */
	uint8_t *img;       /* one g, read alone */
	struct iovec local[GO_IOV_MAX], remote[GO_IOV_MAX];
	size_t run_first[GO_IOV_MAX], run_end[GO_IOV_MAX], run_off[GO_IOV_MAX];
	uint8_t *stack;     /* GO_STACK_WINDOW */
	struct stack_job *jobs; /* GO_STACK_BATCH, made at the first go_process_stacks */

	struct sys_entry sys_cache[GO_SYS_CACHE];
	struct id_map tids; /* tid -> scan number it was checked in */
	/* In a pid namespace not ours, m.procid is that namespace's tid: its
	 * host tid from NSpid, listed again (once a scan at most) when one is
	 * missing or no longer a thread. */
	bool other_pidns;
	struct id_map ns_tids; /* namespace tid -> host tid */
	uint64_t ns_tids_listed; /* stats.scans + 1 of the last listing, 0: never */

	struct go_scan_stats stats;
};

/* Reads remote [addr, addr + len) of the process.  Returns 0 (all of it
 * read) or -errno: -ESRCH gone, -EPERM, -EFAULT unmapped, -EIO short. */
static int read_mem(struct go_process *p, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { .iov_base = buf, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)addr, .iov_len = len };
	ssize_t got = process_vm_readv((pid_t)p->pid, &local, 1, &remote, 1, 0);

	if (got < 0)
		return errno == ESRCH || errno == EPERM || errno == EFAULT ? -errno : -EIO;
	p->stats.bytes_read += (uint64_t)got;
	return (size_t)got == len ? 0 : -EIO;
}

static int read_u64(struct go_process *p, uint64_t addr, uint64_t *v)
{
	return read_mem(p, addr, v, sizeof(*v));
}

static bool printable(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return true;
}

/*
 * runtime.waitReasonStrings, read from the process: [n]string, each a
 * (pointer, length) pair; PIE relocates the pointers at load, so the file's
 * copy is not the one to read.  All or nothing: one entry that does not
 * validate and the binary's table is used instead.
 */
static int read_wait_reasons(struct go_process *p)
{
	const struct go_runtime_vars *v = go_binary_vars(p->b);
	uint64_t (*hdr)[2] = NULL;
	uint32_t n = v->n_wait_reasons;
	int err;

	if (!v->wait_reason_strings || n == 0 || n > GO_MAX_WAIT_REASONS)
		return -ENOENT;
	hdr = calloc(n, sizeof(*hdr));
	p->reasons = calloc(n, sizeof(*p->reasons));
	if (!hdr || !p->reasons) {
		err = -ENOMEM;
		goto cleanup;
	}
	err = read_mem(p, v->wait_reason_strings + p->bias, hdr, n * sizeof(*hdr));
	if (err)
		goto cleanup;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t ptr = hdr[i][0], len = hdr[i][1];

		err = -EINVAL;
		if (len > GO_WAIT_REASON_MAX_LEN || (len && !ptr))
			goto cleanup;
		if (len == 0)
			continue;
		err = read_mem(p, ptr, p->reasons[i], len);
		if (err)
			goto cleanup;
		if (!printable(p->reasons[i], len)) {
			err = -EINVAL;
			goto cleanup;
		}
		p->reasons[i][len] = '\0';
	}
	p->n_reasons = n;
	err = 0;
cleanup:
	free(hdr);
	if (err) {
		free(p->reasons);
		p->reasons = NULL;
	}
	return err;
}

static int read_file(const char *path, char *buf, size_t cap, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t n = 0;
	ssize_t got;

	if (fd < 0)
		return -errno;
	while (n < cap && (got = read(fd, buf + n, cap - n)) > 0)
		n += (size_t)got;
	close(fd);
	*len = n;
	return 0;
}

static int find_load_bias(struct go_process *p)
{
	char path[64], exe[PATH_MAX];
	struct stat st;
	char *maps = NULL;
	ssize_t exe_len;
	size_t len = 0;
	int err;

	snprintf(path, sizeof(path), "/proc/%u/exe", p->pid);
	if (stat(path, &st))
		return errno == ENOENT ? -ESRCH : -errno;
	exe_len = readlink(path, exe, sizeof(exe) - 1);
	exe[exe_len > 0 ? exe_len : 0] = '\0';
	maps = malloc(GO_MAPS_MAX);
	if (!maps)
		return -ENOMEM;
	snprintf(path, sizeof(path), "/proc/%u/maps", p->pid);
	err = read_file(path, maps, GO_MAPS_MAX, &len);
	if (err) {
		err = err == -ENOENT ? -ESRCH : err;
		goto cleanup;
	}
	err = go_maps_load_bias(maps, len, major(st.st_dev), minor(st.st_dev), st.st_ino,
				exe_len > 0 ? exe : NULL, go_binary_load_vaddr(p->b), &p->bias);
	if (err)
		err = -ENOEXEC; /* the executable is not mapped: not this binary */
cleanup:
	free(maps);
	return err;
}

static void func_range(struct go_process *p, const char *name, uint64_t *lo, uint64_t *hi)
{
	struct go_func f;

	*lo = *hi = 0;
	if (go_pclntab_func_by_name(go_binary_pclntab(p->b), name, &f) == 0) {
		*lo = f.entry + p->bias;
		*hi = f.end + p->bias;
	}
}

static void find_preempt_funcs(struct go_process *p)
{
	for (size_t i = 0; i < GO_PREEMPT_FUNCS; i++)
		func_range(p, preempt_funcs[i], &p->preempt_lo[i], &p->preempt_hi[i]);
	func_range(p, "runtime.gopark", &p->gopark_lo, &p->gopark_hi);
}

int go_process_open(uint32_t pid, const struct go_binary *b, struct go_process **out)
{
	const struct go_runtime_vars *v = go_binary_vars(b);
	struct go_process *p = calloc(1, sizeof(*p));
	struct go_func goexit;
	int major_v, minor_v, err;
	uint64_t allglen;

	if (!p)
		return -ENOMEM;
	p->pid = pid;
	p->b = b;
	p->layout = *go_binary_layout(b);
	id_map_init(&p->tids);
	id_map_init(&p->ns_tids);
	{
		uint32_t ns_pid;

		p->other_pidns = !procfs_ns_tid_of(pid, pid, &ns_pid) && ns_pid != pid;
	}
	err = go_g_segs_init(&p->segs, &p->layout, GO_G_MERGE_GAP);
	if (err)
		goto err_free;
	p->batch = malloc(GO_BATCH_BYTES);
	p->img = malloc(p->segs.span);
	p->stack = malloc(GO_STACK_WINDOW);
	if (!p->batch || !p->img || !p->stack) {
		err = -ENOMEM;
		goto err_free;
	}
	err = find_load_bias(p);
	if (err)
		goto err_free;
	if (!v->allglen || (!v->allgptr && !v->allgs)) {
		err = -ENOTSUP;
		goto err_free;
	}
	p->allglen = v->allglen + p->bias;
	p->allgs = v->allgs ? v->allgs + p->bias : 0;
	p->allgptr = v->allgptr ? v->allgptr + p->bias : 0;
	err = go_pclntab_find_func(go_binary_pclntab(b), go_binary_goexit(b), &goexit);
	if (err) {
		err = -ENOTSUP;
		goto err_free;
	}
	p->goexit_lo = goexit.entry + p->bias;
	p->goexit_hi = goexit.end + p->bias;
	find_preempt_funcs(p);
	p->syscall_bp = go_version_parse(go_binary_version(b), &major_v, &minor_v) == 0 &&
			(major_v > 1 || minor_v >= 23);
	/* Can we read it at all (-EPERM, -ESRCH now rather than at each scan)? */
	err = read_u64(p, p->allglen, &allglen);
	if (err)
		goto err_free;
	if (read_wait_reasons(p))
		p->reason_table = go_binary_wait_reason_table(b, &p->n_reason_table);
	*out = p;
	return 0;
err_free:
	go_process_free(p);
	return err;
}

void go_process_free(struct go_process *p)
{
	if (!p)
		return;
	free(p->reasons);
	free(p->gptrs);
	free(p->gs);
	free(p->on_m);
	free(p->batch);
	free(p->img);
	free(p->stack);
	free(p->jobs);
	id_map_free(&p->tids);
	id_map_free(&p->ns_tids);
	free(p);
}

/* Grows *buf to hold n elements of size; keeps it across scans. */
static int reserve(void **buf, size_t *cap, size_t n, size_t size)
{
	void *grown;
	size_t want;

	if (n <= *cap)
		return 0;
	want = *cap ? *cap : 1024;
	while (want < n)
		want *= 2;
	grown = realloc(*buf, want * size);
	if (!grown)
		return -ENOMEM;
	*buf = grown;
	*cap = want;
	return 0;
}

/* The goroutine pointers: allglen first, then allgptr (or allgs.array), as
 * the runtime publishes them.  Sets *n (capped) and *total (allglen). */
static int read_allgs(struct go_process *p, size_t *n, uint64_t *total)
{
	uint64_t len, array, slice[2];
	int err;

	err = read_u64(p, p->allglen, &len);
	if (err)
		return err;
	if (p->allgptr) {
		err = read_u64(p, p->allgptr, &array);
	} else {
		err = read_mem(p, p->allgs, slice, sizeof(slice));
		array = slice[0];
		if (!err && slice[1] < len)
			len = slice[1];
	}
	if (err)
		return err;
	if (len > GO_MAX_ALLGLEN || (len && !array))
		return -EIO;
	*total = len;
	*n = len > GO_MAX_GOROUTINES ? GO_MAX_GOROUTINES : (size_t)len;
	if (*n == 0)
		return 0;
	err = reserve((void **)&p->gptrs, &p->gptrs_cap, *n, sizeof(*p->gptrs));
	if (err)
		return err;
	return read_mem(p, array, p->gptrs, *n * sizeof(*p->gptrs));
}

static bool is_system(struct go_process *p, uint64_t startpc)
{
	struct sys_entry *e = &p->sys_cache[(startpc >> 4) % GO_SYS_CACHE];
	struct go_func f;

	if (e->startpc == startpc && startpc)
		return e->system;
	e->startpc = startpc;
	/* runtime.isSystemGoroutine as newproc1 counts it into sched.ngsys:
	 * a function of package runtime, but runtime.main (and
	 * runtime.corostart, 1.23+, a user coroutine).  runfinq (runCleanups)
	 * count as system there: they are not yet running a finalizer. */
	e->system = startpc >= p->bias &&
		    go_pclntab_find_func(go_binary_pclntab(p->b), startpc - p->bias, &f) == 0 &&
		    strncmp(f.name, "runtime.", 8) == 0 && strcmp(f.name, "runtime.main") != 0 &&
		    strcmp(f.name, "runtime.corostart") != 0;
	return e->system;
}

/* Is tid a thread of the process?  Checked once per scan. */
static bool thread_of(struct go_process *p, uint64_t tid)
{
	void *seen;

	if (tid == 0 || tid > INT32_MAX)
		return false;
	seen = id_map_get(&p->tids, (uint32_t)tid);
	if (seen == (void *)(uintptr_t)p->stats.scans)
		return true;
	if (procfs_thread_of(p->pid, (uint32_t)tid))
		return false;
	if (seen)
		id_map_del(&p->tids, (uint32_t)tid);
	id_map_put(&p->tids, (uint32_t)tid, (void *)(uintptr_t)p->stats.scans);
	return true;
}

/* Threads of a process listed, at most (a namespace tid map). */
#define GO_TASKS_MAX 65536

/* p->ns_tids made again from /proc/PID/task and each thread's NSpid. */
static void list_ns_tids(struct go_process *p)
{
	char path[64];
	struct dirent *e;
	uint32_t ns_tid;
	unsigned long v;
	char *end;
	DIR *d;
	int n = 0;

	id_map_free(&p->ns_tids);
	id_map_init(&p->ns_tids);
	p->ns_tids_listed = p->stats.scans + 1;
	snprintf(path, sizeof(path), "/proc/%u/task", p->pid);
	d = opendir(path);
	if (!d)
		return;
	while (n++ < GO_TASKS_MAX && (e = readdir(d))) {
		errno = 0;
		v = strtoul(e->d_name, &end, 10);
		if (errno || *end || !v || v > INT32_MAX ||
		    procfs_ns_tid_of(p->pid, (uint32_t)v, &ns_tid) ||
		    id_map_put(&p->ns_tids, ns_tid, (void *)(uintptr_t)v))
			continue;
	}
	closedir(d);
}

/* The host tid of the thread the process calls procid (m.procid), if it is
 * a thread of the process. */
static bool host_tid_of(struct go_process *p, uint64_t procid, uint32_t *tid)
{
	uintptr_t host;

	if (!p->other_pidns) {
		*tid = (uint32_t)procid;
		return thread_of(p, procid);
	}
	if (procid == 0 || procid > INT32_MAX)
		return false;
	host = (uintptr_t)id_map_get(&p->ns_tids, (uint32_t)procid);
	if ((!host || !thread_of(p, host)) && p->ns_tids_listed != p->stats.scans + 1) {
		list_ns_tids(p);
		host = (uintptr_t)id_map_get(&p->ns_tids, (uint32_t)procid);
	}
	if (!host || !thread_of(p, host))
		return false;
	*tid = (uint32_t)host;
	return true;
}

/* Room for one more goroutine in gs (and on_m): grown as live gs are
 * found, not by allglen, which counts every dead g ever made. */
static int grow_gs(struct go_process *p)
{
	uint64_t *on_m;
	size_t cap;

	if (p->n_gs < p->gs_cap)
		return 0;
	cap = p->gs_cap;
	if (reserve((void **)&p->gs, &cap, p->n_gs + 1, sizeof(*p->gs)))
		return -ENOMEM;
	on_m = realloc(p->on_m, cap * sizeof(*on_m));
	if (!on_m)
		return -ENOMEM;
	p->on_m = on_m;
	p->gs_cap = cap; /* both as long: only now */
	return 0;
}

/*
 * Was g's last stop (sched.pc) a preemption?  Every other way off the CPU
 * (gopark, Gosched, Goexit, exitsyscall, coroswitch) is an mcall from a
 * runtime function, entersyscall saves a pc in package syscall or the
 * runtime, and a g that never stopped is at its entry: sched.pc in other
 * code is where morestack saved a function's prologue (a synchronous
 * preemption, or a stack growth: no stop either).
 */
static bool stopped_by_preemption(struct go_process *p, const struct go_goroutine *g,
				  uint64_t sched_pc)
{
	struct go_func f;

	if (g->status == GO_G_PREEMPTED)
		return true; /* suspendG: preemptPark, from either path */
	if ((g->status != GO_G_RUNNABLE && g->status != GO_G_RUNNING) || !sched_pc ||
	    sched_pc == g->startpc || (sched_pc >= p->gopark_lo && sched_pc < p->gopark_hi))
		return false;
	for (size_t i = 0; i < GO_PREEMPT_FUNCS; i++)
		if (sched_pc >= p->preempt_lo[i] && sched_pc < p->preempt_hi[i])
			return true;
	return sched_pc >= p->bias &&
	       go_pclntab_find_func(go_binary_pclntab(p->b), sched_pc - p->bias, &f) == 0 &&
	       strncmp(f.name, "runtime.", 8) != 0 && strncmp(f.name, "syscall.", 8) != 0 &&
	       strcmp(f.name, "?") != 0;
}

static int decode_one(struct go_process *p, const uint8_t *img, uint64_t g_addr)
{
	struct go_goroutine *g;
	struct go_g_raw raw;

	if (grow_gs(p))
		return -ENOMEM;
	g = &p->gs[p->n_gs];
	switch (go_g_decode(&p->layout, img, p->segs.span, g_addr, &raw, g)) {
	case GO_G_LIVE:
		g->system = is_system(p, g->startpc);
		g->preempted = stopped_by_preemption(p, g, raw.sched_pc);
		p->on_m[p->n_gs] =
			g->status == GO_G_RUNNING || g->status == GO_G_SYSCALL ? raw.m : 0;
		p->n_gs++;
		break;
	case GO_G_GONE:
		break;
	case GO_G_INVALID:
		p->stats.gs_invalid++;
		break;
	}
	return 0;
}

/* Reads one g alone (the rest of a run that did not read). */
static int read_g(struct go_process *p, uint64_t g_addr)
{
	const struct go_g_segs *s = &p->segs;
	struct iovec local[GO_G_MAX_SEGS], remote[GO_G_MAX_SEGS];
	ssize_t got;

	for (uint32_t j = 0; j < s->n; j++) {
		local[j].iov_base = p->img + s->off[j];
		local[j].iov_len = s->len[j];
		remote[j].iov_base = (void *)(uintptr_t)(g_addr + s->off[j]);
		remote[j].iov_len = s->len[j];
	}
	got = process_vm_readv((pid_t)p->pid, local, s->n, remote, s->n, 0);
	if (got < 0)
		return errno == ESRCH || errno == EPERM ? -errno : -EIO;
	p->stats.bytes_read += (uint64_t)got;
	return got == (ssize_t)s->bytes ? 0 : -EIO;
}

/* Runs of gs in p->gptrs from i on, as iovecs of one batch.  Returns the
 * number of runs; *next: the first g not in them. */
static size_t batch_runs(struct go_process *p, size_t i, size_t to, size_t *next)
{
	uint64_t span = p->segs.span;
	size_t niov = 0, used = 0;

	while (i < to && niov < GO_IOV_MAX) {
		uint64_t start = p->gptrs[i], end = start + span;
		size_t j = i + 1;

		/* From each g's start: the first field read is at 0 (stack.lo)
		 * in every Go, and images start at the g. */
		while (j < to && p->gptrs[j] >= end && p->gptrs[j] - end <= GO_RUN_GAP &&
		       p->gptrs[j] + span - start <= GO_RUN_MAX) {
			end = p->gptrs[j] + span;
			j++;
		}
		if (used + (end - start) > GO_BATCH_BYTES)
			break;
		p->remote[niov].iov_base = (void *)(uintptr_t)start;
		p->remote[niov].iov_len = end - start;
		p->run_first[niov] = i;
		p->run_end[niov] = j;
		p->run_off[niov] = used;
		used += end - start;
		niov++;
		i = j;
	}
	*next = i;
	return niov;
}

/*
 * Reads and decodes gs [from, to) of p->gptrs (all pointers checked), runs
 * of them per iovec, up to 1,024 iovecs per call.  Where a read stops short,
 * the gs of that run not read are read one by one (a g that does not read
 * is counted) and the next batch starts after the run.  Returns 0 or
 * -ESRCH/-EPERM.
 */
static int read_gs(struct go_process *p, size_t from, size_t to)
{
	uint64_t span = p->segs.span;

	while (from < to) {
		size_t next, niov = batch_runs(p, from, to, &next), used;
		struct iovec local;
		ssize_t got;

		used = p->run_off[niov - 1] + p->remote[niov - 1].iov_len;
		local.iov_base = p->batch;
		local.iov_len = used;
		got = process_vm_readv((pid_t)p->pid, &local, 1, p->remote, niov, 0);
		if (got < 0 && (errno == ESRCH || errno == EPERM))
			return -errno;
		if (got < 0)
			got = 0;
		p->stats.bytes_read += (uint64_t)got;
		for (size_t r = 0; r < niov; r++) {
			uint64_t start = (uint64_t)(uintptr_t)p->remote[r].iov_base;
			bool whole = p->run_off[r] + p->remote[r].iov_len <= (size_t)got;

			for (size_t k = p->run_first[r]; k < p->run_end[r]; k++) {
				uint64_t at = p->run_off[r] + (p->gptrs[k] - start);
				int err;

				if (at + span <= (uint64_t)got) {
					p->stats.gs_read++;
					if (decode_one(p, p->batch + at, p->gptrs[k]))
						return -ENOMEM;
					continue;
				}
				err = read_g(p, p->gptrs[k]);
				if (err == -ESRCH || err == -EPERM)
					return err;
				if (err) {
					p->stats.gs_unread++;
					continue;
				}
				p->stats.gs_read++;
				if (decode_one(p, p->img, p->gptrs[k]))
					return -ENOMEM;
			}
			if (!whole) {
				next = p->run_end[r];
				break;
			}
		}
		from = next;
	}
	return 0;
}

/* m.procid of the gs on a thread, each checked to be a thread of pid.  A
 * read that stops short ends its batch at the failing g (counted); the
 * next batch starts after it. */
static void read_tids(struct go_process *p)
{
	size_t idx[GO_IOV_MAX], j = 0;

	while (j < p->n_gs) {
		size_t niov = 0, got_iov;
		ssize_t got;

		for (; j < p->n_gs && niov < GO_IOV_MAX; j++) {
			if (!p->on_m[j])
				continue;
			idx[niov] = j;
			p->local[niov].iov_base = &p->procids[niov];
			p->local[niov].iov_len = 8;
			p->remote[niov].iov_base =
				(void *)(uintptr_t)(p->on_m[j] + p->layout.m_procid);
			p->remote[niov].iov_len = 8;
			niov++;
		}
		if (!niov)
			break;
		got = process_vm_readv((pid_t)p->pid, p->local, niov, p->remote, niov, 0);
		got_iov = got > 0 ? (size_t)got / 8 : 0;
		if (got > 0)
			p->stats.bytes_read += (uint64_t)got;
		for (size_t k = 0; k < got_iov; k++) {
			uint32_t tid;

			if (host_tid_of(p, p->procids[k], &tid))
				p->gs[idx[k]].tid = tid;
			else
				p->stats.ms_unread++;
		}
		if (got_iov < niov) {
			p->stats.ms_unread++;
			j = idx[got_iov] + 1;
		}
	}
}

int go_process_scan(struct go_process *p, const struct go_goroutine **gs, size_t *n)
{
	uint64_t start = clock_mono_ns(), total;
	size_t len;
	int err;

	err = read_allgs(p, &len, &total);
	if (err == -EFAULT || err == -EIO) {
		/* allgs grew (a new array) between the two reads: once more. */
		err = read_allgs(p, &len, &total);
	}
	if (err)
		return err == -ESRCH || err == -EPERM || err == -ENOMEM ? err : -EIO;
	p->stats.scans++;
	p->stats.gs_unread += total - len;
	p->n_gs = 0;
	for (size_t i = 0; i < len; i++) {
		uint64_t g = p->gptrs[i];

		/* A g pointer the runtime could not have made. */
		if (!g || g & 7 || g >= (1ull << 47)) {
			p->gptrs[i] = 0;
			p->stats.gs_invalid++;
		}
	}
	for (size_t i = 0; i < len;) {
		size_t j = i;

		/* Runs of good pointers; the bad ones were counted. */
		while (j < len && p->gptrs[j])
			j++;
		err = read_gs(p, i, j);
		if (err)
			return err;
		i = j < len ? j + 1 : j;
	}
	read_tids(p);
	p->stats.last_scan_ns = clock_mono_ns() - start;
	*gs = p->gs;
	*n = p->n_gs;
	return 0;
}

/* Is the g as decoded now in the same wait as the scan saw? */
static bool same_wait(const struct go_goroutine *now, const struct go_goroutine *g)
{
	return now->goid == g->goid && now->status == g->status &&
	       now->wait_reason == g->wait_reason && now->tracking_seq == g->tracking_seq &&
	       now->sp_depth == g->sp_depth && now->stack_hi == g->stack_hi;
}

/*
 * Reads g again and, in the same call, the first window of its stack from
 * where the scan saw its sp (the kernel copies in order: the g before the
 * stack).  *len: the bytes of stack in p->stack.  -EAGAIN: not the same
 * wait; -EIO: unread.
 */
static int read_g_and_stack(struct go_process *p, const struct go_goroutine *g,
			    struct go_g_raw *raw, size_t with_stack, size_t *len)
{
	const struct go_g_segs *s = &p->segs;
	struct iovec local[GO_G_MAX_SEGS + 1], remote[GO_G_MAX_SEGS + 1];
	uint64_t sp = g->stack_hi - g->sp_depth;
	struct go_goroutine now;
	uint32_t n = s->n;
	ssize_t got;

	for (uint32_t j = 0; j < s->n; j++) {
		local[j].iov_base = p->img + s->off[j];
		local[j].iov_len = s->len[j];
		remote[j].iov_base = (void *)(uintptr_t)(g->g_addr + s->off[j]);
		remote[j].iov_len = s->len[j];
	}
	*len = 0;
	if (with_stack) {
		*len = g->sp_depth < GO_STACK_WINDOW ? g->sp_depth : GO_STACK_WINDOW;
		local[n].iov_base = p->stack;
		local[n].iov_len = *len;
		remote[n].iov_base = (void *)(uintptr_t)sp;
		remote[n].iov_len = *len;
		n++;
	}
	got = process_vm_readv((pid_t)p->pid, local, n, remote, n, 0);
	if (got < 0 && errno == ESRCH)
		return -ESRCH;
	if (got > 0)
		p->stats.bytes_read += (uint64_t)got;
	if (got < (ssize_t)s->bytes)
		return -EIO;
	if (go_g_decode(&p->layout, p->img, s->span, g->g_addr, raw, &now) != GO_G_LIVE ||
	    !same_wait(&now, g))
		return -EAGAIN;
	return got == (ssize_t)(s->bytes + *len) ? 0 : -EIO;
}

/* Walks from g.sched over the stack: the first window is in p->stack
 * (len bytes from sp), the next ones are read where the walk asks. */
static int walk(struct go_process *p, const struct go_g_raw *raw, size_t len, uint64_t *pcs,
		int max, int *n)
{
	struct go_stack_walk w = {
		.stack_lo = raw->stack_lo,
		.stack_hi = raw->stack_hi,
		.goexit_lo = p->goexit_lo,
		.goexit_hi = p->goexit_hi,
		.pcs = pcs,
		.max = max,
	};
	uint64_t base = raw->sched_sp;
	int err;

	go_stack_walk_init(&w, raw->sched_pc, raw->sched_sp, raw->sched_bp);
	for (int windows = 0; windows < GO_STACK_MAX_WINDOWS; windows++) {
		if (windows) {
			if (base < raw->stack_lo || base >= raw->stack_hi)
				return -EAGAIN;
			len = raw->stack_hi - base < GO_STACK_WINDOW ? raw->stack_hi - base
								      : GO_STACK_WINDOW;
			err = read_mem(p, base, p->stack, len);
			if (err)
				return err == -ESRCH ? err : -EIO;
		}
		err = go_stack_walk(&w, base, p->stack, len);
		if (err != -ENODATA) {
			*n = w.n;
			return err;
		}
		base = w.need;
	}
	return -EIO; /* deeper than the windows read: not read, counted */
}

int go_process_stack(struct go_process *p, const struct go_goroutine *g, uint64_t *pcs, int max)
{
	struct go_g_raw raw, after;
	int err, n = 0;
	size_t len;

	if (!g || !g->g_addr || max <= 0)
		return -EINVAL;
	if (g->status == GO_G_SYSCALL && !p->syscall_bp) {
		/* Before Go 1.23 entersyscall leaves g.sched.bp stale: no
		 * walk from there. */
		err = -EIO;
		goto cleanup;
	}
	if (g->status != GO_G_SYSCALL && !go_g_parked(g->status)) {
		err = -EAGAIN; /* running, or its stack being copied */
		goto cleanup;
	}
	err = read_g_and_stack(p, g, &raw, g->sp_depth, &len);
	if (err)
		goto cleanup;
	/* 1.23+ saves sched.{pc,sp,bp} at entersyscall; sp says it did. */
	if (g->status == GO_G_SYSCALL && raw.sched_sp != raw.syscallsp) {
		err = -EIO;
		goto cleanup;
	}
	err = walk(p, &raw, len, pcs, max, &n);
	if (err)
		goto cleanup;
	/* Did it stay parked while its stack was read? */
	err = read_g_and_stack(p, g, &after, 0, &len);
	if (!err && (after.sched_pc != raw.sched_pc || after.sched_sp != raw.sched_sp ||
		     after.sched_bp != raw.sched_bp))
		err = -EAGAIN;
cleanup:
	if (err == -EAGAIN)
		p->stats.stacks_moved++;
	else if (err)
		p->stats.stacks_unreadable++;
	else
		p->stats.stacks_read++;
	return err ? err : n;
}

/* A job of go_process_stacks ends: err as go_process_stack returns it. */
static void job_done(struct go_process *p, struct stack_job *j, int err)
{
	j->state = JOB_DONE;
	j->out->n = err ? err : j->w.n;
	if (err == -EAGAIN)
		p->stats.stacks_moved++;
	else if (err)
		p->stats.stacks_unreadable++;
	else
		p->stats.stacks_read++;
}

/* Walks j on over the window in p->batch; sets its next state. */
static void job_walk(struct go_process *p, struct stack_job *j, uint64_t base, size_t len)
{
	int err = go_stack_walk(&j->w, base, p->batch + j->off + (j->state == JOB_READ ?
								    p->segs.span : 0),
				len);

	if (err == 0) {
		j->state = JOB_CHECK;
		return;
	}
	if (err != -ENODATA) {
		job_done(p, j, err);
		return;
	}
	/* The next window, from where the walk asks (as walk() does). */
	if (j->w.need < j->raw.stack_lo || j->w.need >= j->raw.stack_hi) {
		job_done(p, j, -EAGAIN);
		return;
	}
	if (++j->windows >= GO_STACK_MAX_WINDOWS) {
		job_done(p, j, -EIO); /* deeper than the windows read: counted */
		return;
	}
	j->base = j->w.need;
	j->state = JOB_DEEP;
}

/* The iovecs of what j needs in its state, at p->local/p->remote + niov and
 * p->batch + used.  Returns the iovecs; *region: the bytes of p->batch. */
static uint32_t job_iovs(struct go_process *p, struct stack_job *j, size_t niov, size_t used,
			 size_t *region)
{
	const struct go_g_segs *s = &p->segs;
	struct iovec *l = p->local + niov, *r = p->remote + niov;
	uint32_t k = 0;

	j->off = used;
	if (j->state == JOB_DEEP) {
		uint64_t left = j->raw.stack_hi - j->base;

		j->win = left < GO_STACK_WINDOW ? left : GO_STACK_WINDOW;
		l[0] = (struct iovec){ p->batch + used, j->win };
		r[0] = (struct iovec){ (void *)(uintptr_t)j->base, j->win };
		j->bytes = *region = j->win;
		return 1;
	}
	for (; k < s->n; k++) {
		l[k] = (struct iovec){ p->batch + used + s->off[k], s->len[k] };
		r[k] = (struct iovec){ (void *)(uintptr_t)(j->g->g_addr + s->off[k]), s->len[k] };
	}
	j->bytes = s->bytes;
	*region = s->span;
	if (j->state == JOB_READ) {
		/* The stack after the g, in the same call: the kernel copies
		 * in order, so the g is read before its stack. */
		j->win = j->g->sp_depth < GO_STACK_FIRST ? j->g->sp_depth : GO_STACK_FIRST;
		if (j->win) {
			l[k] = (struct iovec){ p->batch + used + s->span, j->win };
			r[k] = (struct iovec){
				(void *)(uintptr_t)(j->g->stack_hi - j->g->sp_depth), j->win };
			k++;
		}
		j->bytes += j->win;
		*region += j->win;
	}
	return k;
}

/* j's bytes were read (whole), or stopped short (only the g when g_read). */
static void job_step(struct go_process *p, struct stack_job *j, bool whole, bool g_read)
{
	struct go_goroutine now;
	struct go_g_raw raw;

	if (j->state == JOB_DEEP) {
		if (!whole) {
			job_done(p, j, -EIO);
			return;
		}
		job_walk(p, j, j->base, j->win);
		return;
	}
	if (!g_read) {
		job_done(p, j, -EIO);
		return;
	}
	if (go_g_decode(&p->layout, p->batch + j->off, p->segs.span, j->g->g_addr, &raw, &now) !=
		    GO_G_LIVE ||
	    !same_wait(&now, j->g)) {
		job_done(p, j, -EAGAIN);
		return;
	}
	if (j->state == JOB_CHECK) {
		/* Did it stay parked while its stack was read? */
		if (raw.sched_pc != j->raw.sched_pc || raw.sched_sp != j->raw.sched_sp ||
		    raw.sched_bp != j->raw.sched_bp)
			job_done(p, j, -EAGAIN);
		else
			job_done(p, j, 0);
		return;
	}
	if (!whole) {
		job_done(p, j, -EIO);
		return;
	}
	j->raw = raw;
	/* 1.23+ saves sched.{pc,sp,bp} at entersyscall; sp says it did. */
	if (j->g->status == GO_G_SYSCALL && raw.sched_sp != raw.syscallsp) {
		job_done(p, j, -EIO);
		return;
	}
	j->w = (struct go_stack_walk){
		.stack_lo = raw.stack_lo,
		.stack_hi = raw.stack_hi,
		.goexit_lo = p->goexit_lo,
		.goexit_hi = p->goexit_hi,
		.pcs = j->out->pcs,
		.max = j->out->max,
	};
	go_stack_walk_init(&j->w, raw.sched_pc, raw.sched_sp, raw.sched_bp);
	job_walk(p, j, raw.sched_sp, j->win);
}

/*
 * One pass over the jobs in state st: what each needs read, as many per
 * process_vm_readv as fit (GO_IOV_MAX iovecs, GO_BATCH_BYTES), then a step
 * of each.  Where a read stops short, the job it stopped in fails and the
 * next call starts after it.
 */
static void run_jobs(struct go_process *p, size_t nj, enum job_state st)
{
	size_t k = 0;

	while (k < nj) {
		size_t niov = 0, used = 0, cum = 0, last, m;
		ssize_t got;

		for (last = k; last < nj; last++) {
			struct stack_job *j = &p->jobs[last];
			size_t region;
			uint32_t iovs;

			if (j->state != st)
				continue;
			if (niov + GO_G_MAX_SEGS + 1 > GO_IOV_MAX ||
			    used + p->segs.span + GO_STACK_WINDOW > GO_BATCH_BYTES)
				break;
			iovs = job_iovs(p, j, niov, used, &region);
			j->cum = cum;
			cum += j->bytes;
			used += region;
			niov += iovs;
		}
		if (!niov)
			return;
		got = process_vm_readv((pid_t)p->pid, p->local, niov, p->remote, niov, 0);
		if (got < 0 && (errno == ESRCH || errno == EPERM)) {
			int err = errno == ESRCH ? -ESRCH : -EIO;

			for (m = k; m < last; m++)
				if (p->jobs[m].state == st)
					job_done(p, &p->jobs[m], err);
			k = last;
			continue;
		}
		if (got < 0)
			got = 0;
		p->stats.bytes_read += (uint64_t)got;
		for (m = k; m < last; m++) {
			struct stack_job *j = &p->jobs[m];

			if (j->state != st)
				continue;
			if (j->cum + j->bytes <= (size_t)got) {
				job_step(p, j, true, true);
				continue;
			}
			job_step(p, j, false, j->cum + p->segs.bytes <= (size_t)got);
			break;
		}
		k = m < last ? m + 1 : last;
	}
}

int go_process_stacks(struct go_process *p, const struct go_goroutine *const *gs, size_t n,
		      struct go_stack_result *out)
{
	size_t i = 0;

	if (n && (!gs || !out))
		return -EINVAL;
	if (!p->jobs) {
		p->jobs = calloc(GO_STACK_BATCH, sizeof(*p->jobs));
		if (!p->jobs)
			return -ENOMEM;
	}
	while (i < n) {
		size_t nj = 0;

		for (; i < n && nj < GO_STACK_BATCH; i++) {
			const struct go_goroutine *g = gs[i];
			struct stack_job *j = &p->jobs[nj];

			out[i].n = 0;
			if (!g || !g->g_addr || out[i].max <= 0 || !out[i].pcs) {
				out[i].n = -EINVAL; /* as go_process_stack: not counted */
				continue;
			}
			*j = (struct stack_job){ .g = g, .out = &out[i], .state = JOB_READ };
			nj++;
			if (g->status == GO_G_SYSCALL && !p->syscall_bp)
				job_done(p, j, -EIO); /* no bp saved before Go 1.23 */
			else if (g->status != GO_G_SYSCALL && !go_g_parked(g->status))
				job_done(p, j, -EAGAIN); /* running, or its stack being copied */
		}
		run_jobs(p, nj, JOB_READ);
		for (int round = 0; round < GO_STACK_MAX_WINDOWS; round++)
			run_jobs(p, nj, JOB_DEEP);
		for (size_t k = 0; k < nj; k++)
			if (p->jobs[k].state == JOB_DEEP)
				job_done(p, &p->jobs[k], -EIO);
		run_jobs(p, nj, JOB_CHECK);
	}
	return 0;
}

const char *go_process_wait_reason(const struct go_process *p, uint8_t reason)
{
	if (p->reasons)
		return reason < p->n_reasons ? p->reasons[reason] : "";
	if (p->reason_table && reason < p->n_reason_table && p->reason_table[reason])
		return p->reason_table[reason];
	return "";
}

int go_process_frames(const struct go_process *p, uint64_t pc, bool first, struct go_frame *out,
		      int max)
{
	const struct go_pclntab *t = go_binary_pclntab(p->b);
	const char *goroot = go_binary_goroot(p->b);
	size_t goroot_len = strlen(goroot);
	struct go_func f;
	uint64_t link;
	int n, i;

	if (pc < p->bias || max <= 0)
		return 0;
	link = pc - p->bias;
	/* A return address names the call before it, but an entry (a
	 * goroutine that never ran) is its own function: Go's symPC. */
	if (!first && link && !(go_pclntab_find_func(t, link, &f) == 0 && f.entry == link))
		link--;
	n = go_pclntab_frames(t, link, out, max);
	for (i = 0; i < n; i++)
		out[i].stdlib = goroot_len && !strncmp(out[i].file, goroot, goroot_len);
	return n;
}

const struct go_binary *go_process_binary(const struct go_process *p)
{
	return p->b;
}

uint64_t go_process_load_bias(const struct go_process *p)
{
	return p->bias;
}

bool go_process_own_wait_reasons(const struct go_process *p)
{
	return p->reasons != NULL;
}

void go_process_stats(const struct go_process *p, struct go_scan_stats *s)
{
	*s = p->stats;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * go_scan.c's reads (process_vm_readv, /proc/PID/maps) on this process's
 * own memory, made to look like a Go runtime's: allglen, allgptr, gs with
 * the 1.19 layout, ms, stacks and waitReasonStrings, with bad pointers,
 * unmapped gs, stale threads and moving stacks.  The Go binary reader is a
 * test double here (the functions of go_binary.h and go_pclntab.h that
 * go_scan.c calls), so the build links this test without go_binary.c.
 */
#include <errno.h>
#include <link.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <cmocka.h>
#include "go_binary.h"
#include "go_g.h"
#include "go_scan.h"

/* ---- The double: a Go 1.19 binary whose variables live in this process. */

struct go_binary {
	struct go_layout layout;
	struct go_runtime_vars vars;
	uint64_t load_vaddr;
	struct go_pclntab pclntab;
	const char *version;
};

/* Functions by link-time address: what startpcs and goexit resolve to. */
static const struct {
	uint64_t entry, end;
	const char *name;
} funcs[] = {
	{ 0x401000, 0x401100, "runtime.bgsweep" },
	{ 0x401100, 0x401200, "main.worker" },
	{ 0x401200, 0x401300, "runtime.main" },
	{ 0x401300, 0x401400, "runtime.corostart" },
	{ 0x401400, 0x401500, "runtime.gopark" },
	{ 0x401500, 0x401600, "runtime.asyncPreempt2" },
	{ 0x401600, 0x401700, "syscall.Syscall" },
	{ 0x402000, 0x402010, "runtime.goexit" },
};
#define BGSWEEP 0x401000
#define WORKER 0x401100
#define RUNTIME_MAIN 0x401200
#define COROSTART 0x401300
#define GOEXIT 0x402000
#define GOPARK 0x401400
#define ASYNC_PREEMPT2 0x401500
#define SYSCALL 0x401600

static const char *const reason_table[] = { "", "table reason" };

const char *go_binary_version(const struct go_binary *b)
{
	return b->version;
}

const struct go_layout *go_binary_layout(const struct go_binary *b)
{
	return &b->layout;
}

const struct go_runtime_vars *go_binary_vars(const struct go_binary *b)
{
	return &b->vars;
}

const struct go_pclntab *go_binary_pclntab(const struct go_binary *b)
{
	return &b->pclntab;
}

uint64_t go_binary_load_vaddr(const struct go_binary *b)
{
	return b->load_vaddr;
}

const char *go_binary_goroot(const struct go_binary *b)
{
	return "/go/src/";
}

uint64_t go_binary_goexit(const struct go_binary *b)
{
	return GOEXIT;
}

const char *const *go_binary_wait_reason_table(const struct go_binary *b, uint32_t *n)
{
	*n = 2;
	return reason_table;
}

int go_pclntab_find_func(const struct go_pclntab *t, uint64_t pc, struct go_func *f)
{
	for (size_t i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++) {
		if (pc >= funcs[i].entry && pc < funcs[i].end) {
			memset(f, 0, sizeof(*f));
			f->entry = funcs[i].entry;
			f->end = funcs[i].end;
			f->name = funcs[i].name;
			return 0;
		}
	}
	return -ENOENT;
}

int go_pclntab_func_by_name(const struct go_pclntab *t, const char *name, struct go_func *f)
{
	for (size_t i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++)
		if (strcmp(funcs[i].name, name) == 0)
			return go_pclntab_find_func(t, funcs[i].entry, f);
	return -ENOENT;
}

int go_pclntab_frames(const struct go_pclntab *t, uint64_t pc, struct go_frame *out, int max)
{
	struct go_func f;

	if (max < 1 || go_pclntab_find_func(t, pc, &f))
		return 0;
	out[0] = (struct go_frame){ .func = f.name, .file = "x.go", .line = (int)(pc - f.entry),
				    .entry = f.entry };
	return 1;
}

/* ---- This process's memory, dressed as a Go runtime. */

static const struct go_layout layout119 = {
	.g_size = 392,
	.g_stack_lo = 0, .g_stack_hi = 8, .g_m = 48,
	.g_sched_sp = 56, .g_sched_pc = 64, .g_sched_bp = 104,
	.g_syscallsp = 112, .g_syscallpc = 120,
	.g_atomicstatus = 144, .g_goid = 152, .g_waitreason = 176, .g_tracking_seq = 189,
	.g_gopc = 296, .g_startpc = 312, .m_procid = 72,
	.source = "test",
};

#define G_STRIDE 400 /* gs 8 bytes apart: one run */
#define NG 32
#define STACK_SIZE 8192

struct world {
	uint64_t bias;          /* of this executable */
	uint64_t allglen;
	uint64_t *allgptr;
	uint8_t *gs;            /* NG gs, G_STRIDE apart */
	uint64_t *gptrs;        /* what allgptr points to */
	uint8_t *stacks;        /* NG stacks */
	uint64_t m_self[16];    /* an m whose procid is this thread */
	uint64_t m_stale[16];   /* procid no thread of ours */
	uint64_t reasons[4][2]; /* waitReasonStrings: [4]string */
	struct go_binary b;
};

static int find_bias(struct dl_phdr_info *info, size_t size, void *data)
{
	struct world *w = data;

	w->bias = info->dlpi_addr; /* the first object is the executable */
	return 1;
}

/*
 * The load vaddr that makes go_scan.c find this executable's bias: it
 * takes the lowest mapping at offset 0 of /proc/PID/exe, which under
 * valgrind is valgrind's tool, not this test.
 */
static uint64_t double_load_vaddr(uint64_t bias)
{
	static char maps[1 << 20];
	uint64_t start;
	struct stat st;
	size_t len;
	FILE *f;

	assert_int_equal(stat("/proc/self/exe", &st), 0);
	f = fopen("/proc/self/maps", "re");
	assert_non_null(f);
	len = fread(maps, 1, sizeof(maps), f);
	fclose(f);
	assert_int_equal(go_maps_load_bias(maps, len, major(st.st_dev), minor(st.st_dev),
					   st.st_ino, NULL, 0, &start), 0);
	return start - bias;
}

static uint64_t link_addr(const struct world *w, const void *p)
{
	return (uint64_t)(uintptr_t)p - w->bias;
}

static uint8_t *g_at(struct world *w, int i)
{
	return w->gs + (size_t)i * G_STRIDE;
}

static void put64(uint8_t *g, uint32_t off, uint64_t v)
{
	memcpy(g + off, &v, 8);
}

static void put32(uint8_t *g, uint32_t off, uint32_t v)
{
	memcpy(g + off, &v, 4);
}

static uint64_t stack_lo(struct world *w, int i)
{
	return (uint64_t)(uintptr_t)(w->stacks + (size_t)i * STACK_SIZE);
}

/*
 * g i: goroutine i + 1, parked (status) with a walkable stack: gopark ->
 * WORKER+0x40 -> goexit+1, started at startpc (link-time).
 */
static void make_g(struct world *w, int i, uint32_t status, uint64_t startpc, uint8_t reason)
{
	const struct go_layout *l = &layout119;
	uint8_t *g = g_at(w, i);
	uint64_t lo = stack_lo(w, i), hi = lo + STACK_SIZE, sp = hi - 0x100;
	uint64_t *stack = (uint64_t *)(uintptr_t)lo;

	memset(g, 0, G_STRIDE);
	put64(g, l->g_stack_lo, lo);
	put64(g, l->g_stack_hi, hi);
	put64(g, l->g_sched_sp, sp);
	put64(g, l->g_sched_pc, w->bias + 0x401010);
	put64(g, l->g_sched_bp, sp + 0x20);
	put32(g, l->g_atomicstatus, status);
	put64(g, l->g_goid, (uint64_t)i + 1);
	g[l->g_waitreason] = reason;
	g[l->g_tracking_seq] = 3;
	put64(g, l->g_gopc, w->bias + WORKER + 8);
	put64(g, l->g_startpc, w->bias + startpc);
	/* Frames, as words from lo: [sp+0x20] = next bp, ret; then the
	 * outermost frame returns into goexit. */
	memset(stack, 0, STACK_SIZE);
	stack[(sp + 0x20 - lo) / 8] = sp + 0x60;
	stack[(sp + 0x28 - lo) / 8] = w->bias + WORKER + 0x40;
	stack[(sp + 0x60 - lo) / 8] = 0;
	stack[(sp + 0x68 - lo) / 8] = w->bias + GOEXIT + 1;
	w->gptrs[i] = (uint64_t)(uintptr_t)g;
}

static struct world *world_new(int n)
{
	struct world *w = calloc(1, sizeof(*w));
	static const char r1[] = "chan receive", r2[] = "select";

	assert_non_null(w);
	dl_iterate_phdr(find_bias, w);
	w->b.load_vaddr = double_load_vaddr(w->bias);
	w->gs = aligned_alloc(4096, ((size_t)NG * G_STRIDE + 4095) / 4096 * 4096);
	w->stacks = aligned_alloc(4096, (size_t)NG * STACK_SIZE);
	w->gptrs = calloc(NG + 4, sizeof(uint64_t));
	assert_non_null(w->gs);
	assert_non_null(w->stacks);
	assert_non_null(w->gptrs);
	w->allgptr = w->gptrs;
	for (int i = 0; i < n; i++)
		make_g(w, i, GO_G_WAITING, WORKER, 1);
	w->allglen = (uint64_t)n;
	w->m_self[72 / 8] = (uint64_t)gettid();
	w->m_stale[72 / 8] = 0x7ffffff0;
	w->reasons[1][0] = (uint64_t)(uintptr_t)r1;
	w->reasons[1][1] = strlen(r1);
	w->reasons[2][0] = (uint64_t)(uintptr_t)r2;
	w->reasons[2][1] = strlen(r2);
	w->b.layout = layout119;
	w->b.version = "go1.19.8";
	w->b.vars.allglen = link_addr(w, &w->allglen);
	w->b.vars.allgptr = link_addr(w, &w->allgptr);
	w->b.vars.wait_reason_strings = link_addr(w, w->reasons);
	w->b.vars.n_wait_reasons = 4;
	return w;
}

static void world_free(struct world *w)
{
	free(w->gs);
	free(w->stacks);
	free(w->gptrs);
	free(w);
}

static struct go_process *open_self(struct world *w)
{
	struct go_process *p = NULL;

	assert_int_equal(go_process_open((uint32_t)getpid(), &w->b, &p), 0);
	assert_int_equal(go_process_load_bias(p), w->bias);
	return p;
}

static void test_scan_returns_live_gs_in_order(void **state)
{
	struct world *w = world_new(6);
	const struct go_goroutine *gs;
	struct go_scan_stats st;
	struct go_process *p;
	size_t n;

	put32(g_at(w, 1), layout119.g_atomicstatus, GO_G_DEAD);
	put32(g_at(w, 2), layout119.g_atomicstatus, GO_G_IDLE);
	put32(g_at(w, 3), layout119.g_atomicstatus, 0x1000 | GO_G_RUNNABLE);
	p = open_self(w);
	assert_int_equal(go_process_scan(p, &gs, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(gs[0].goid, 1);
	assert_int_equal(gs[1].goid, 4);
	assert_int_equal(gs[1].status, GO_G_RUNNABLE);
	assert_int_equal(gs[1].wait_reason, 0);
	assert_int_equal(gs[2].goid, 5);
	assert_int_equal(gs[3].goid, 6);
	assert_int_equal(gs[0].wait_reason, 1);
	assert_int_equal(gs[0].sp_depth, 0x100);
	assert_int_equal(gs[0].g_addr, w->gptrs[0]);
	assert_int_equal(gs[0].startpc, w->bias + WORKER);
	go_process_stats(p, &st);
	assert_int_equal(st.scans, 1);
	assert_int_equal(st.gs_read, 6);
	assert_int_equal(st.gs_invalid, 0);
	assert_int_equal(st.gs_unread, 0);
	/* allglen, allgptr, the array, one run of 6 gs, the wait reasons
	 * at open: every byte counted. */
	assert_true(st.bytes_read >= 8 + 8 + 6 * 8 + 5 * G_STRIDE + 320);
	/* Buffers are kept: a second scan, the same answer. */
	assert_int_equal(go_process_scan(p, &gs, &n), 0);
	assert_int_equal(n, 4);
	go_process_stats(p, &st);
	assert_int_equal(st.scans, 2);
	assert_int_equal(st.gs_read, 12);
	go_process_free(p);
	world_free(w);
}

static void test_bad_pointers_and_invalid_gs_counted(void **state)
{
	struct world *w = world_new(5);
	const struct go_goroutine *gs;
	struct go_scan_stats st;
	struct go_process *p;
	size_t n;

	w->gptrs[5] = 0;
	w->gptrs[6] = w->gptrs[0] + 3;          /* unaligned */
	w->gptrs[7] = 0xffff888000000000ull;    /* kernel address */
	w->allglen = 8;
	put64(g_at(w, 1), layout119.g_goid, 0);               /* no goid */
	put32(g_at(w, 2), layout119.g_atomicstatus, 7);       /* unused status */
	put64(g_at(w, 3), layout119.g_sched_sp, 16);          /* sp off its stack */
	p = open_self(w);
	assert_int_equal(go_process_scan(p, &gs, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(gs[0].goid, 1);
	assert_int_equal(gs[1].goid, 5);
	go_process_stats(p, &st);
	assert_int_equal(st.gs_invalid, 3 + 3);
	assert_int_equal(st.gs_read, 5);
	assert_int_equal(st.gs_unread, 0);
	go_process_free(p);
	world_free(w);
}

/* gs on three pages, the middle one unmapped under a run: the gs before
 * the hole decode, the one in it is unread, those after it are read alone. */
static void test_unmapped_g_in_a_run(void **state)
{
	struct world *w = world_new(0);
	const struct go_goroutine *gs;
	struct go_scan_stats st;
	struct go_process *p;
	long page = sysconf(_SC_PAGESIZE);
	uint8_t *pages = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			      -1, 0);
	uint8_t *saved = w->gs;
	size_t n;
	int ng = 0;

	assert_true(pages != MAP_FAILED);
	/* gs 400 bytes apart from the first page to the third. */
	w->gs = pages;
	for (int i = 0; (size_t)i * G_STRIDE + G_STRIDE <= (size_t)3 * page && i < NG; i++) {
		make_g(w, i, GO_G_WAITING, WORKER, 1);
		ng++;
	}
	w->allglen = (uint64_t)ng;
	assert_int_equal(munmap(pages + page, page), 0);
	p = open_self(w);
	assert_int_equal(go_process_scan(p, &gs, &n), 0);
	go_process_stats(p, &st);
	/* Gs fully on the first or third page read; the rest touch the
	 * hole. */
	{
		int whole = 0;

		for (int i = 0; i < ng; i++) {
			size_t lo = (size_t)i * G_STRIDE, hi = lo + 320;

			whole += hi <= (size_t)page || lo >= (size_t)2 * page;
		}
		assert_int_equal(n, whole);
		assert_int_equal(st.gs_unread, ng - whole);
		assert_int_equal(st.gs_read, whole);
	}
	for (size_t i = 1; i < n; i++)
		assert_true(gs[i].goid > gs[i - 1].goid);
	munmap(pages, page);
	munmap(pages + 2 * page, page);
	w->gs = saved;
	go_process_free(p);
	world_free(w);
}

static void test_running_gs_get_their_thread(void **state)
{
	struct world *w = world_new(5);
	const struct go_goroutine *gs;
	struct go_scan_stats st;
	struct go_process *p;
	size_t n;

	put32(g_at(w, 0), layout119.g_atomicstatus, GO_G_RUNNING);
	put64(g_at(w, 0), layout119.g_m, (uint64_t)(uintptr_t)w->m_self);
	put32(g_at(w, 1), layout119.g_atomicstatus, GO_G_SYSCALL);
	put64(g_at(w, 1), layout119.g_m, (uint64_t)(uintptr_t)w->m_stale);
	put32(g_at(w, 2), layout119.g_atomicstatus, GO_G_RUNNING);
	put64(g_at(w, 2), layout119.g_m, 0x10); /* unmapped */
	/* A parked g's m is not read. */
	put64(g_at(w, 3), layout119.g_m, (uint64_t)(uintptr_t)w->m_self);
	p = open_self(w);
	assert_int_equal(go_process_scan(p, &gs, &n), 0);
	assert_int_equal(n, 5);
	assert_int_equal(gs[0].tid, (uint32_t)gettid());
	assert_int_equal(gs[1].tid, 0);
	assert_int_equal(gs[2].tid, 0);
	assert_int_equal(gs[3].tid, 0);
	go_process_stats(p, &st);
	assert_int_equal(st.ms_unread, 2);
	/* Cached for the scan, checked again at the next. */
	assert_int_equal(go_process_scan(p, &gs, &n), 0);
	assert_int_equal(gs[0].tid, (uint32_t)gettid());
	go_process_stats(p, &st);
	assert_int_equal(st.ms_unread, 4);
	go_process_free(p);
	world_free(w);
}

static void test_system_goroutines(void **state)
{
	struct world *w = world_new(5);
	const struct go_goroutine *gs;
	struct go_process *p;
	size_t n;

	make_g(w, 0, GO_G_WAITING, BGSWEEP, 1);
	make_g(w, 1, GO_G_WAITING, RUNTIME_MAIN, 1);
	make_g(w, 2, GO_G_WAITING, COROSTART, 1);
	make_g(w, 3, GO_G_WAITING, 0x300000, 1); /* in no function */
	p = open_self(w);
	assert_int_equal(go_process_scan(p, &gs, &n), 0);
	assert_int_equal(n, 5);
	assert_true(gs[0].system);
	assert_false(gs[1].system);
	assert_false(gs[2].system);
	assert_false(gs[3].system);
	assert_false(gs[4].system);
	go_process_free(p);
	world_free(w);
}

/* Where a g last stopped, from its sched.pc: a preemption (asyncPreempt2,
 * a non-runtime function's prologue, _Gpreempted), or not (gopark, its
 * entry: it never ran, entersyscall's pc in package syscall). */
static void test_preempted_from_sched_pc(void **state)
{
	static const struct {
		uint32_t status;
		uint64_t sched_pc;
		bool preempted;
	} cases[] = {
		{ GO_G_RUNNABLE, ASYNC_PREEMPT2 + 0x14, true },
		{ GO_G_RUNNABLE, GOPARK + 0x30, false },
		{ GO_G_RUNNABLE, WORKER + 0x20, true },
		{ GO_G_RUNNABLE, WORKER, false },
		{ GO_G_RUNNABLE, 0x401010, false }, /* runtime.bgsweep */
		{ GO_G_RUNNING, ASYNC_PREEMPT2 + 0x14, true }, /* its last stop */
		{ GO_G_RUNNING, SYSCALL + 0x40, false },
		{ GO_G_PREEMPTED, GOPARK + 0x30, true },
		{ GO_G_WAITING, ASYNC_PREEMPT2 + 0x14, false },
	};
	enum { N = sizeof(cases) / sizeof(cases[0]) };
	struct world *w = world_new(N);
	const struct go_goroutine *gs;
	struct go_process *p;
	size_t n;

	for (int i = 0; i < N; i++) {
		make_g(w, i, cases[i].status, WORKER, cases[i].status == GO_G_WAITING);
		put64(g_at(w, i), layout119.g_sched_pc, w->bias + cases[i].sched_pc);
	}
	p = open_self(w);
	assert_int_equal(go_process_scan(p, &gs, &n), 0);
	assert_int_equal(n, N);
	for (int i = 0; i < N; i++) {
		if (gs[i].preempted != cases[i].preempted)
			fail_msg("case %d: preempted %d", i, gs[i].preempted);
	}
	go_process_free(p);
	world_free(w);
}

static void test_allglen_capped_or_refused(void **state)
{
	struct world *w = world_new(3);
	const struct go_goroutine *gs;
	struct go_scan_stats st;
	struct go_process *p;
	uint64_t *big = calloc(GO_MAX_GOROUTINES + 8, sizeof(*big));
	size_t n;

	assert_non_null(big);
	memcpy(big, w->gptrs, 3 * sizeof(*big));
	w->allgptr = big;
	w->allglen = GO_MAX_GOROUTINES + 5;
	p = open_self(w);
	assert_int_equal(go_process_scan(p, &gs, &n), 0);
	assert_int_equal(n, 3);
	go_process_stats(p, &st);
	assert_int_equal(st.gs_unread, 5);
	assert_int_equal(st.gs_invalid, GO_MAX_GOROUTINES - 3); /* the NULLs */
	/* An allglen no runtime has: the scan is refused, not counted. */
	w->allglen = 1ull << 40;
	assert_int_equal(go_process_scan(p, &gs, &n), -EIO);
	go_process_stats(p, &st);
	assert_int_equal(st.scans, 1);
	/* A NULL array with gs in it. */
	w->allglen = 2;
	w->allgptr = NULL;
	assert_int_equal(go_process_scan(p, &gs, &n), -EIO);
	go_process_free(p);
	free(big);
	world_free(w);
}

static void test_wait_reasons_from_process_or_table(void **state)
{
	struct world *w = world_new(1);
	struct go_process *p = open_self(w);

	assert_true(go_process_own_wait_reasons(p));
	assert_string_equal(go_process_wait_reason(p, 0), "");
	assert_string_equal(go_process_wait_reason(p, 1), "chan receive");
	assert_string_equal(go_process_wait_reason(p, 2), "select");
	assert_string_equal(go_process_wait_reason(p, 3), "");
	assert_string_equal(go_process_wait_reason(p, 200), "");
	go_process_free(p);
	/* One entry too long: none of them is trusted, the table is used. */
	w->reasons[3][0] = w->reasons[1][0];
	w->reasons[3][1] = 65;
	p = open_self(w);
	assert_false(go_process_own_wait_reasons(p));
	assert_string_equal(go_process_wait_reason(p, 1), "table reason");
	assert_string_equal(go_process_wait_reason(p, 2), "");
	go_process_free(p);
	/* Not printable. */
	w->reasons[3][0] = (uint64_t)(uintptr_t)"ok\n";
	w->reasons[3][1] = 3;
	p = open_self(w);
	assert_false(go_process_own_wait_reasons(p));
	go_process_free(p);
	/* A pointer to nowhere. */
	w->reasons[3][0] = 16;
	w->reasons[3][1] = 3;
	p = open_self(w);
	assert_false(go_process_own_wait_reasons(p));
	go_process_free(p);
	world_free(w);
}

static void test_stack_walks_to_goexit(void **state)
{
	struct world *w = world_new(2);
	const struct go_goroutine *gs;
	struct go_scan_stats st;
	struct go_frame f[2];
	struct go_process *p;
	uint64_t pcs[8];
	size_t n;

	p = open_self(w);
	assert_int_equal(go_process_scan(p, &gs, &n), 0);
	assert_int_equal(go_process_stack(p, &gs[0], pcs, 8), 3);
	assert_int_equal(pcs[0], w->bias + 0x401010);
	assert_int_equal(pcs[1], w->bias + WORKER + 0x40);
	assert_int_equal(pcs[2], w->bias + GOEXIT + 1);
	/* Return addresses at pc - 1. */
	assert_int_equal(go_process_frames(p, pcs[1], false, f, 2), 1);
	assert_string_equal(f[0].func, "main.worker");
	assert_int_equal(f[0].line, 0x3f);
	assert_int_equal(go_process_frames(p, pcs[1], true, f, 2), 1);
	assert_int_equal(f[0].line, 0x40);
	assert_int_equal(go_process_frames(p, pcs[2], false, f, 2), 1);
	assert_string_equal(f[0].func, "runtime.goexit");
	/* A function's entry is its own, not the one before. */
	assert_int_equal(go_process_frames(p, w->bias + WORKER, false, f, 2), 1);
	assert_string_equal(f[0].func, "main.worker");
	assert_int_equal(go_process_frames(p, 5, false, f, 2), 0);
	/* A copy of the scan's g works as well. */
	{
		struct go_goroutine copy = gs[1];

		assert_int_equal(go_process_stack(p, &copy, pcs, 8), 3);
	}
	go_process_stats(p, &st);
	assert_int_equal(st.stacks_read, 2);
	assert_int_equal(st.stacks_moved, 0);
	go_process_free(p);
	world_free(w);
}

static void test_stack_refused_when_the_wait_changed(void **state)
{
	struct world *w = world_new(6);
	const struct go_goroutine *gs;
	struct go_scan_stats st;
	struct go_process *p;
	uint64_t pcs[8];
	size_t n;
	uint8_t *g;

	put32(g_at(w, 4), layout119.g_atomicstatus, GO_G_RUNNING);
	put32(g_at(w, 5), layout119.g_atomicstatus, GO_G_SYSCALL);
	put64(g_at(w, 5), layout119.g_syscallsp, stack_lo(w, 5) + STACK_SIZE - 0x100);
	p = open_self(w);
	assert_int_equal(go_process_scan(p, &gs, &n), 0);
	assert_int_equal(n, 6);
	/* Woke and parked again: tracking_seq rose. */
	g = g_at(w, 0);
	g[layout119.g_tracking_seq]++;
	assert_int_equal(go_process_stack(p, &gs[0], pcs, 8), -EAGAIN);
	/* Parked deeper: another sp. */
	put64(g_at(w, 1), layout119.g_sched_sp, stack_lo(w, 1) + STACK_SIZE - 0x180);
	assert_int_equal(go_process_stack(p, &gs[1], pcs, 8), -EAGAIN);
	/* Its stack moved and the old copy was freed (zeroed): the walk does
	 * not reach goexit. */
	memset(w->stacks + 2 * STACK_SIZE, 0, STACK_SIZE);
	assert_int_equal(go_process_stack(p, &gs[2], pcs, 8), -EAGAIN);
	/* Exited: dead now. */
	put32(g_at(w, 3), layout119.g_atomicstatus, GO_G_DEAD);
	assert_int_equal(go_process_stack(p, &gs[3], pcs, 8), -EAGAIN);
	/* Running: no stack to read. */
	assert_int_equal(go_process_stack(p, &gs[4], pcs, 8), -EAGAIN);
	/* In a syscall on Go 1.19: bp not saved there. */
	assert_int_equal(go_process_stack(p, &gs[5], pcs, 8), -EIO);
	go_process_stats(p, &st);
	assert_int_equal(st.stacks_moved, 5);
	assert_int_equal(st.stacks_unreadable, 1);
	assert_int_equal(st.stacks_read, 0);
	assert_int_equal(go_process_stack(p, NULL, pcs, 8), -EINVAL);
	go_process_free(p);
	world_free(w);
}

/* A stack deeper than one read window: frames 20 KiB apart over 256 KiB. */
static void test_deep_stack_read_in_windows(void **state)
{
	enum { DEEP = 256 * 1024, GAP = 20 * 1024 };
	struct world *w = world_new(1);
	const struct go_goroutine *gs;
	struct go_scan_stats st;
	struct go_process *p;
	uint64_t *stack = aligned_alloc(4096, DEEP), pcs[32];
	uint64_t lo = (uint64_t)(uintptr_t)stack, hi = lo + DEEP, sp = lo + 64, bp = sp;
	uint8_t *g = g_at(w, 0);
	int frames = 0;
	size_t n;

	assert_non_null(stack);
	memset(stack, 0, DEEP);
	while (bp + GAP + 16 < hi) {
		stack[(bp - lo) / 8] = bp + GAP;
		stack[(bp + 8 - lo) / 8] = w->bias + WORKER + 0x10;
		bp += GAP;
		frames++;
	}
	stack[(bp - lo) / 8] = 0;
	stack[(bp + 8 - lo) / 8] = w->bias + GOEXIT + 1;
	put64(g, layout119.g_stack_lo, lo);
	put64(g, layout119.g_stack_hi, hi);
	put64(g, layout119.g_sched_sp, sp);
	put64(g, layout119.g_sched_bp, sp);
	p = open_self(w);
	assert_int_equal(go_process_scan(p, &gs, &n), 0);
	assert_int_equal(go_process_stack(p, &gs[0], pcs, 32), frames + 2);
	assert_int_equal(pcs[frames + 1], w->bias + GOEXIT + 1);
	go_process_stats(p, &st);
	assert_int_equal(st.stacks_read, 1);
	go_process_free(p);
	free(stack);
	world_free(w);
}

/* A batch of stacks: good ones, one that woke again, one whose stack was
 * freed, one unreadable, one deeper than the first window, and a good one
 * after the unreadable one: each as go_process_stack reads it. */
static void test_stacks_in_batch(void **state)
{
	enum { DEEP = 256 * 1024, GAP = 20 * 1024 };
	struct world *w = world_new(7);
	const struct go_goroutine *gs, *batch[8];
	struct go_stack_result out[8];
	struct go_scan_stats st;
	struct go_process *p;
	uint64_t pcs[8][32];
	uint64_t *stack = aligned_alloc(4096, DEEP);
	uint64_t lo = (uint64_t)(uintptr_t)stack, hi = lo + DEEP, sp = lo + 64, bp = sp;
	uint8_t *none = mmap(NULL, 2 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t nlo = (uint64_t)(uintptr_t)none;
	int frames = 0;
	size_t n, i;

	assert_non_null(stack);
	assert_true(none != MAP_FAILED);
	memset(stack, 0, DEEP);
	while (bp + GAP + 16 < hi) {
		stack[(bp - lo) / 8] = bp + GAP;
		stack[(bp + 8 - lo) / 8] = w->bias + WORKER + 0x10;
		bp += GAP;
		frames++;
	}
	stack[(bp - lo) / 8] = 0;
	stack[(bp + 8 - lo) / 8] = w->bias + GOEXIT + 1;
	put64(g_at(w, 5), layout119.g_stack_lo, lo);
	put64(g_at(w, 5), layout119.g_stack_hi, hi);
	put64(g_at(w, 5), layout119.g_sched_sp, sp);
	put64(g_at(w, 5), layout119.g_sched_bp, sp);
	/* g 4: its stack is not readable. */
	put64(g_at(w, 4), layout119.g_stack_lo, nlo);
	put64(g_at(w, 4), layout119.g_stack_hi, nlo + 8192);
	put64(g_at(w, 4), layout119.g_sched_sp, nlo + 8192 - 0x100);
	put64(g_at(w, 4), layout119.g_sched_bp, nlo + 8192 - 0x100);
	p = open_self(w);
	assert_int_equal(go_process_scan(p, &gs, &n), 0);
	assert_int_equal(n, 7);
	g_at(w, 2)[layout119.g_tracking_seq]++;      /* woke and parked again */
	memset(w->stacks + 3 * STACK_SIZE, 0, STACK_SIZE); /* moved, old copy zeroed */
	for (i = 0; i < n; i++) {
		batch[i] = &gs[i];
		out[i] = (struct go_stack_result){ .pcs = pcs[i], .max = 32, .n = 99 };
	}
	batch[7] = NULL;
	out[7] = (struct go_stack_result){ .pcs = pcs[7], .max = 32, .n = 99 };
	assert_int_equal(go_process_stacks(p, batch, 8, out), 0);
	assert_int_equal(out[0].n, 3);
	assert_int_equal(pcs[0][0], w->bias + 0x401010);
	assert_int_equal(pcs[0][1], w->bias + WORKER + 0x40);
	assert_int_equal(pcs[0][2], w->bias + GOEXIT + 1);
	assert_int_equal(out[1].n, 3);
	assert_int_equal(out[2].n, -EAGAIN);
	assert_int_equal(out[3].n, -EAGAIN);
	assert_int_equal(out[4].n, -EIO);
	assert_int_equal(out[5].n, frames + 2);
	assert_int_equal(pcs[5][frames + 1], w->bias + GOEXIT + 1);
	assert_int_equal(out[6].n, 3);
	assert_int_equal(pcs[6][2], w->bias + GOEXIT + 1);
	assert_int_equal(out[7].n, -EINVAL);
	go_process_stats(p, &st);
	assert_int_equal(st.stacks_read, 4);
	assert_int_equal(st.stacks_moved, 2);
	assert_int_equal(st.stacks_unreadable, 1);
	/* The same, one at a time. */
	assert_int_equal(go_process_stack(p, &gs[5], pcs[0], 32), frames + 2);
	assert_int_equal(go_process_stack(p, &gs[4], pcs[0], 32), -EIO);
	/* Moved after the walk: its sched changed before the check. */
	go_process_free(p);
	munmap(none, 2 * 4096);
	free(stack);
	world_free(w);
}

static void test_open_refuses(void **state)
{
	struct world *w = world_new(1);
	struct go_process *p = NULL;

	/* No allglen. */
	w->b.vars.allglen = 0;
	assert_int_equal(go_process_open((uint32_t)getpid(), &w->b, &p), -ENOTSUP);
	/* allglen unmapped. */
	w->b.vars.allglen = 0x10 - w->bias;
	assert_int_equal(go_process_open((uint32_t)getpid(), &w->b, &p), -EFAULT);
	/* A layout whose fields are past g_size. */
	w->b.vars.allglen = link_addr(w, &w->allglen);
	w->b.layout.g_size = 100;
	assert_int_equal(go_process_open((uint32_t)getpid(), &w->b, &p), -EINVAL);
	/* A process that is not there. */
	w->b.layout = layout119;
	assert_int_equal(go_process_open(0x7ffffff0, &w->b, &p), -ESRCH);
	assert_null(p);
	world_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scan_returns_live_gs_in_order),
		cmocka_unit_test(test_bad_pointers_and_invalid_gs_counted),
		cmocka_unit_test(test_unmapped_g_in_a_run),
		cmocka_unit_test(test_running_gs_get_their_thread),
		cmocka_unit_test(test_system_goroutines),
		cmocka_unit_test(test_preempted_from_sched_pc),
		cmocka_unit_test(test_allglen_capped_or_refused),
		cmocka_unit_test(test_wait_reasons_from_process_or_table),
		cmocka_unit_test(test_stack_walks_to_goexit),
		cmocka_unit_test(test_stack_refused_when_the_wait_changed),
		cmocka_unit_test(test_deep_stack_read_in_windows),
		cmocka_unit_test(test_stacks_in_batch),
		cmocka_unit_test(test_open_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

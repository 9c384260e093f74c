// SPDX-License-Identifier: GPL-2.0
/*
 * The goroutine scan (user/go_scan.c) against real Go processes: scanprobe
 * (tests/fixtures/go/scanprobe) of every Go version and variant parks known
 * goroutines on known waits; one scan must find exactly its
 * runtime.NumGoroutine() user goroutines, Go's own wait reasons, and stacks
 * that reach runtime.goexit through the function each was started in.
 * Needs to read another process's memory: root, or the same uid with
 * ptrace_scope 0.
 *
 *   live_go_scan DIR                     the tests, DIR/VERSION/VARIANT/scanprobe
 *   live_go_scan --bench BINARY COUNT    scan cost with COUNT more parked goroutines
 *   live_go_scan --dump BINARY           every goroutine of one, its wait and stack
 *   live_go_scan --seeds DIR BINARY TAG  fuzz seeds (gs, stacks, maps) from one
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "clock.h"
#include "go_buildinfo.h"
#include "go_scan.h"

/* goroutines per kind of wait: scanprobe -n */
#define PER_KIND 3
#define READY_TIMEOUT_MS 60000
#define MAX_PCS 64

struct probe {
	pid_t pid;
	int out;           /* its stdout */
	int goroutines;    /* runtime.NumGoroutine() once ready */
};

/* CPU time of this thread (user + system): the scan's own cost, less
 * disturbed than wall time on a loaded machine. */
static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int64_t now_ms(void)
{
	return (int64_t)(clock_mono_ns() / 1000000);
}

/* Starts binary with args, waits for its "ready" line.  0 or -errno. */
static int probe_start_with(const char *binary, const char *many, const char *churn,
			    struct probe *pr)
{
	char line[256], *nl;
	size_t len = 0;
	int64_t deadline = now_ms() + READY_TIMEOUT_MS;
	int fds[2], got_pid;

	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	pr->pid = fork();
	if (pr->pid < 0)
		return -errno;
	if (pr->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(fds[1], STDOUT_FILENO);
		execl(binary, binary, "-n", "3", "-many", many, "-exit-after", "300", churn,
		      (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	pr->out = fds[0];
	while (!(nl = memchr(line, '\n', len))) {
		struct pollfd pfd = { .fd = pr->out, .events = POLLIN };
		int64_t left = deadline - now_ms();
		ssize_t n;

		if (left <= 0 || len == sizeof(line) - 1 || poll(&pfd, 1, (int)left) <= 0)
			return -ETIMEDOUT;
		n = read(pr->out, line + len, sizeof(line) - 1 - len);
		if (n <= 0)
			return -EPIPE;
		len += (size_t)n;
	}
	*nl = '\0';
	if (sscanf(line, "ready pid=%d goroutines=%d", &got_pid, &pr->goroutines) != 2 ||
	    got_pid != pr->pid)
		return -EPROTO;
	return 0;
}

static int probe_start(const char *binary, const char *many, struct probe *pr)
{
	return probe_start_with(binary, many, NULL, pr);
}

static void probe_stop(struct probe *pr)
{
	if (pr->pid > 0) {
		kill(pr->pid, SIGKILL);
		waitpid(pr->pid, NULL, 0);
	}
	if (pr->out >= 0)
		close(pr->out);
}

struct expect {
	const char *wait;
	const char *func;  /* in the stack of each */
	const char *code;  /* on the line of its frame */
	int count;
};

/* Does line `line` of file hold code?  (The binaries keep their source
 * paths: the fixture's and the Go installation's own files.) */
static bool line_has(const char *file, int line, const char *code)
{
	char buf[512];
	bool found = false;
	FILE *f = fopen(file, "re");

	if (!f)
		return false;
	for (int i = 1; fgets(buf, sizeof(buf), f); i++) {
		if (i == line) {
			found = strstr(buf, code) != NULL;
			break;
		}
	}
	fclose(f);
	return found;
}

/* Does the stack at pcs name func (a frame of its own, inlined or not)? */
static bool stack_has(struct go_process *p, const uint64_t *pcs, int n, const char *func,
		      const char **file, int *line)
{
	struct go_frame frames[16];

	for (int i = 0; i < n; i++) {
		int nf = go_process_frames(p, pcs[i], false, frames, 16);

		for (int j = 0; j < nf; j++) {
			if (strcmp(frames[j].func, func) == 0) {
				*file = frames[j].file;
				*line = frames[j].line;
				return true;
			}
		}
	}
	return false;
}

static bool ends_with(const char *s, const char *tail)
{
	size_t a = strlen(s), b = strlen(tail);

	return a >= b && strcmp(s + a - b, tail) == 0;
}

/* One scanprobe: counts, wait reasons, stacks. */
static void test_probe(void **state)
{
	const char *binary = *state;
	struct probe pr = { .pid = -1, .out = -1 };
	struct go_binary *b = NULL;
	struct go_process *p = NULL;
	const struct go_goroutine *gs;
	struct go_scan_stats st;
	char why[256] = "";
	char exe[64];
	int major, minor, user = 0, stacks = 0;
	size_t n;

	assert_int_equal(access(binary, X_OK), 0);
	assert_int_equal(probe_start(binary, "0", &pr), 0);
	snprintf(exe, sizeof(exe), "/proc/%d/exe", pr.pid);
	if (go_binary_open(exe, &b, why, sizeof(why)))
		fail_msg("%s: %s", binary, why);
	assert_int_equal(go_process_open((uint32_t)pr.pid, b, &p), 0);
	assert_int_equal(go_version_parse(go_binary_version(b), &major, &minor), 0);
	/* main prints "ready" just before it sleeps (and may still be in
	 * that write(2)): scan again (bounded) until every user goroutine is
	 * parked but the PER_KIND in main.parkSyscall's read(2). */
	for (int tries = 0; tries < 40; tries++) {
		int parked = 0, syscalls = 0;

		assert_int_equal(go_process_scan(p, &gs, &n), 0);
		for (size_t i = 0; i < n; i++) {
			parked += !gs[i].system && gs[i].status == GO_G_WAITING;
			syscalls += !gs[i].system && gs[i].status == GO_G_SYSCALL;
		}
		if (syscalls == PER_KIND && parked + syscalls == pr.goroutines)
			break;
		usleep(50 * 1000);
	}

	const struct expect expect[] = {
		{ "chan send", "main.parkSend", "sendCh <- 1", PER_KIND },
		{ "chan receive", "main.parkRecv", "<-recvCh", PER_KIND },
		{ "chan receive (nil chan)", "main.parkNilRecv", "<-nilCh", PER_KIND },
		{ "select", "main.parkSelect", "select {", PER_KIND },
		{ minor < 20 ? "semacquire" : "sync.Mutex.Lock", "main.parkMutex", "held.Lock()",
		  PER_KIND },
		{ "sleep", "main.parkSleep", "time.Sleep(time.Hour)", PER_KIND },
		{ "IO wait", "main.parkIO", "c.Read(b[:])", PER_KIND },
		{ "sleep", "main.main", "time.Sleep(time.Duration(*exitAfter)", 1 },
		/* In a syscall: no wait reason; a stack from Go 1.23 on. */
		{ "", "main.parkSyscall", "syscall.Read(fd, b[:])", minor >= 23 ? PER_KIND : 0 },
	};
	int seen[sizeof(expect) / sizeof(expect[0])] = { 0 };
	int in_syscall = 0, no_stack = 0;

	for (size_t i = 0; i < n; i++) {
		const struct go_goroutine *g = &gs[i];
		uint64_t pcs[MAX_PCS];
		bool matched = false;
		int np = -EAGAIN;

		if (g->system)
			continue;
		user++;
		/* Nothing in scanprobe runs once it is ready: parked, or in
		 * read(2) on a thread of its own, which the scan names. */
		if (g->status == GO_G_SYSCALL) {
			char task[64];

			snprintf(task, sizeof(task), "/proc/%d/task/%u", pr.pid, g->tid);
			assert_true(g->tid > 0);
			assert_int_equal(access(task, F_OK), 0);
			in_syscall++;
		} else {
			assert_int_equal(g->status, GO_G_WAITING);
			assert_int_equal(g->tid, 0);
		}
		/* A stack that moved under the read is retried, as the tracker does. */
		for (int tries = 0; tries < 5 && np == -EAGAIN; tries++)
			np = go_process_stack(p, g, pcs, MAX_PCS);
		if (g->status == GO_G_SYSCALL && minor < 23) {
			/* entersyscall saves no bp before 1.23. */
			assert_int_equal(np, -EIO);
			no_stack++;
			continue;
		}
		assert_true(np >= 3);
		stacks++;
		{
			struct go_frame f[4];
			int nf = go_process_frames(p, pcs[np - 1], false, f, 4);

			assert_true(nf >= 1);
			assert_string_equal(f[nf - 1].func, "runtime.goexit");
			/* Parked in gopark, at its mcall: the line Go's own
			 * traceback shows (a return address looked up at pc-1). */
			nf = go_process_frames(p, pcs[0], false, f, 4);
			if (g->status == GO_G_SYSCALL)
				nf = 0;
			if (g->status == GO_G_WAITING) {
				assert_true(nf >= 1);
				assert_string_equal(f[0].func, "runtime.gopark");
			}
			if (nf && !line_has(f[0].file, f[0].line, "mcall(park_m)"))
				fail_msg("gopark at %s:%d, not at its mcall", f[0].file, f[0].line);
		}
		for (size_t k = 0; k < sizeof(expect) / sizeof(expect[0]) && !matched; k++) {
			const char *file = NULL;
			int line = 0;

			if (strcmp(go_process_wait_reason(p, g->wait_reason), expect[k].wait) ||
			    !stack_has(p, pcs, np, expect[k].func, &file, &line))
				continue;
			assert_true(ends_with(file, "scanprobe/main.go"));
			if (!line_has(file, line, expect[k].code))
				fail_msg("%s at %s:%d, not at '%s'", expect[k].func, file, line,
					 expect[k].code);
			seen[k]++;
			matched = true;
		}
		if (!matched)
			fail_msg("%s: goroutine %lu waits in '%s' (%u), in no expected function",
				 binary, (unsigned long)g->goid,
				 go_process_wait_reason(p, g->wait_reason), g->wait_reason);
	}
	assert_int_equal(user, pr.goroutines);
	assert_int_equal(in_syscall, PER_KIND);
	for (size_t k = 0; k < sizeof(expect) / sizeof(expect[0]); k++) {
		if (seen[k] != expect[k].count)
			fail_msg("%s: %d goroutines in %s (%s), %d expected", binary, seen[k],
				 expect[k].func, expect[k].wait, expect[k].count);
	}
	go_process_stats(p, &st);
	assert_true(st.scans >= 1);
	assert_int_equal(st.gs_invalid, 0);
	assert_int_equal(st.gs_unread, 0);
	assert_int_equal(st.stacks_unreadable, no_stack);
	assert_int_equal(st.stacks_read, stacks);
	assert_int_equal(st.ms_unread, 0);
	/* The same stacks read in one batch (go_process_stacks). */
	{
		const struct go_goroutine **batch = calloc(n, sizeof(*batch));
		struct go_stack_result *out = calloc(n, sizeof(*out));
		uint64_t *all = calloc(n * MAX_PCS, sizeof(*all));
		size_t same = 0;

		assert_true(batch && out && all);
		for (size_t i = 0; i < n; i++) {
			batch[i] = &gs[i];
			out[i] = (struct go_stack_result){ .pcs = all + i * MAX_PCS,
							   .max = MAX_PCS };
		}
		assert_int_equal(go_process_stacks(p, batch, n, out), 0);
		for (size_t i = 0; i < n; i++) {
			uint64_t pcs[MAX_PCS];
			int np = go_process_stack(p, &gs[i], pcs, MAX_PCS);

			if (np == -EAGAIN || out[i].n == -EAGAIN)
				continue; /* moved between the two reads */
			assert_int_equal(out[i].n, np);
			for (int k = 0; k < np && k < MAX_PCS; k++)
				assert_int_equal(out[i].pcs[k], pcs[k]);
			same++;
		}
		assert_true(same >= (size_t)stacks);
		free(batch);
		free(out);
		free(all);
	}
	assert_true(st.gs_read >= n);
	/* The runtime's own: at least the GC's workers and forcegc. */
	assert_true(n - (size_t)user >= 3);
	/* Gone: the next scan says so. */
	probe_stop(&pr);
	pr.pid = -1;
	pr.out = -1;
	assert_int_equal(go_process_scan(p, &gs, &n), -ESRCH);
	go_process_free(p);
	go_binary_free(b);
}

/*
 * A process whose gs change under the scan: goroutines come and go, grow
 * and shrink their stacks, GCs move them.  Every scan must answer, and
 * every stack either reach goexit or be refused and counted.
 */
static void test_churn(void **state)
{
	const char *binary = *state;
	struct probe pr = { .pid = -1, .out = -1 };
	struct go_binary *b = NULL;
	struct go_process *p = NULL;
	const struct go_goroutine *gs;
	struct go_scan_stats st;
	char why[256] = "", exe[64];
	uint64_t asked = 0, good = 0, refused = 0;
	size_t n;

	assert_int_equal(probe_start_with(binary, "0", "-churn", &pr), 0);
	snprintf(exe, sizeof(exe), "/proc/%d/exe", pr.pid);
	if (go_binary_open(exe, &b, why, sizeof(why)))
		fail_msg("%s: %s", binary, why);
	assert_int_equal(go_process_open((uint32_t)pr.pid, b, &p), 0);
	for (int scan = 0; scan < 100; scan++) {
		int err = go_process_scan(p, &gs, &n);

		/* -EIO: allgs grew twice between its two reads: not a scan. */
		assert_true(err == 0 || err == -EIO);
		if (err)
			continue;
		for (size_t i = 0; i < n; i += 7) {
			uint64_t pcs[MAX_PCS];
			struct go_frame f[4];
			int np = go_process_stack(p, &gs[i], pcs, MAX_PCS), nf;

			asked++;
			if (np < 0) {
				assert_true(np == -EAGAIN || np == -EIO);
				refused++;
				continue;
			}
			good++;
			assert_true(np >= 2);
			nf = go_process_frames(p, pcs[np < MAX_PCS ? np - 1 : 0], false, f, 4);
			if (np < MAX_PCS) {
				assert_true(nf >= 1);
				assert_string_equal(f[nf - 1].func, "runtime.goexit");
			}
		}
		usleep(2000);
	}
	go_process_stats(p, &st);
	assert_true(st.scans >= 50);
	assert_int_equal(st.stacks_read, good);
	assert_int_equal(st.stacks_moved + st.stacks_unreadable, refused);
	assert_int_equal(good + refused, asked);
	assert_true(good > 0);
	print_message("%s: %lu scans, %lu stacks read, %lu moved, %lu unreadable, %lu gs invalid\n",
		      binary, (unsigned long)st.scans, (unsigned long)st.stacks_read,
		      (unsigned long)st.stacks_moved, (unsigned long)st.stacks_unreadable,
		      (unsigned long)st.gs_invalid);
	probe_stop(&pr);
	go_process_free(p);
	go_binary_free(b);
}

/* Scan cost with count more goroutines parked: first scan and steady. */
static int bench(const char *binary, const char *count)
{
	struct probe pr = { .pid = -1, .out = -1 };
	struct go_binary *b = NULL;
	struct go_process *p = NULL;
	const struct go_goroutine *gs;
	struct go_scan_stats st;
	uint64_t bytes = 0, t0, cpu0, stack_ns = 0, stack_bytes;
	char why[256] = "", exe[64];
	int err, stacks = 0;
	size_t n = 0;

	err = probe_start(binary, count, &pr);
	if (err)
		goto cleanup;
	snprintf(exe, sizeof(exe), "/proc/%d/exe", pr.pid);
	err = go_binary_open(exe, &b, why, sizeof(why));
	if (err) {
		fprintf(stderr, "%s: %s\n", binary, why);
		goto cleanup;
	}
	err = go_process_open((uint32_t)pr.pid, b, &p);
	if (err)
		goto cleanup;
	printf("%s (%s) NumGoroutine %d\n", binary, go_binary_version(b), pr.goroutines);
	/* Let the target settle: right after starting 100,000 goroutines its
	 * GC runs, and competes for the 2 CPUs. */
	sleep(2);
	for (int i = 0; i < 6; i++) {
		uint64_t c0 = cpu_ns();

		err = go_process_scan(p, &gs, &n);
		if (err)
			goto cleanup;
		go_process_stats(p, &st);
		printf("scan %d: %zu goroutines, %.2f ms (cpu %.2f ms), %lu bytes\n", i + 1, n,
		       st.last_scan_ns / 1e6, (cpu_ns() - c0) / 1e6,
		       (unsigned long)(st.bytes_read - bytes));
		bytes = st.bytes_read;
	}
	cpu0 = cpu_ns();
	t0 = clock_mono_ns();
	for (size_t i = 0; i < n; i++) {
		uint64_t pcs[MAX_PCS];

		if (go_process_stack(p, &gs[i], pcs, MAX_PCS) > 0)
			stacks++;
	}
	stack_ns = clock_mono_ns() - t0;
	cpu0 = cpu_ns() - cpu0;
	go_process_stats(p, &st);
	stack_bytes = st.bytes_read - bytes;
	printf("stacks: %d of %zu read in %.2f ms (cpu %.2f ms), %lu bytes; moved %lu, "
	       "unreadable %lu\n", stacks, n, stack_ns / 1e6, cpu0 / 1e6,
	       (unsigned long)stack_bytes, (unsigned long)st.stacks_moved,
	       (unsigned long)st.stacks_unreadable);
	printf("invalid %lu, unread %lu, ms_unread %lu\n", (unsigned long)st.gs_invalid,
	       (unsigned long)st.gs_unread, (unsigned long)st.ms_unread);
cleanup:
	if (err)
		fprintf(stderr, "bench: %s\n", strerror(-err));
	go_process_free(p);
	go_binary_free(b);
	probe_stop(&pr);
	return err ? 1 : 0;
}

/* Every goroutine of one scanprobe, its wait and its stack, as a reader
 * would check them against the program's own pprof. */
static int dump(const char *binary)
{
	struct probe pr = { .pid = -1, .out = -1 };
	struct go_binary *b = NULL;
	struct go_process *p = NULL;
	const struct go_goroutine *gs;
	char why[256] = "", exe[64];
	size_t n = 0;
	int err;

	err = probe_start(binary, "0", &pr);
	if (err)
		goto cleanup;
	snprintf(exe, sizeof(exe), "/proc/%d/exe", pr.pid);
	err = go_binary_open(exe, &b, why, sizeof(why));
	if (err) {
		fprintf(stderr, "%s: %s\n", binary, why);
		goto cleanup;
	}
	err = go_process_open((uint32_t)pr.pid, b, &p);
	if (!err)
		err = go_process_scan(p, &gs, &n);
	if (err)
		goto cleanup;
	printf("%s: %s, bias 0x%lx, wait reasons from the %s, NumGoroutine %d\n", binary,
	       go_binary_version(b), (unsigned long)go_process_load_bias(p),
	       go_process_own_wait_reasons(p) ? "process" : "table", pr.goroutines);
	for (size_t i = 0; i < n; i++) {
		uint64_t pcs[MAX_PCS];
		int np = go_process_stack(p, &gs[i], pcs, MAX_PCS);

		printf("goroutine %lu [%s] status %u%s tid %u:\n", (unsigned long)gs[i].goid,
		       go_process_wait_reason(p, gs[i].wait_reason), gs[i].status,
		       gs[i].system ? " system" : "", gs[i].tid);
		if (np < 0)
			printf("\tstack: %s\n", strerror(-np));
		for (int k = 0; k < np; k++) {
			struct go_frame f[8];
			int nf = go_process_frames(p, pcs[k], false, f, 8);

			for (int j = 0; j < nf; j++)
				printf("\t%#lx %s%s %s:%d\n", (unsigned long)pcs[k], f[j].func,
				       f[j].inlined ? " (inlined)" : "", f[j].file, f[j].line);
		}
	}
cleanup:
	if (err)
		fprintf(stderr, "dump: %s\n", strerror(-err));
	go_process_free(p);
	go_binary_free(b);
	probe_stop(&pr);
	return err ? 1 : 0;
}

static void put(uint8_t **at, uint64_t v, size_t size)
{
	memcpy(*at, &v, size);
	*at += size;
}

static int write_seed(const char *dir, const char *name, const uint8_t *data, size_t len)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "we");
	if (!f)
		return -errno;
	fwrite(data, 1, len, f);
	return fclose(f) ? -EIO : 0;
}

/*
 * Seeds for tests/fuzz/fuzz_go_g.c from a live scanprobe, in its input
 * format: 0, the layout and a real g; 1, a real parked stack moved to the
 * harness's stack at 0x10000 (its frame pointers with it); 2, its maps.
 */
static int seeds(const char *dir, const char *binary, const char *tag)
{
	struct probe pr = { .pid = -1, .out = -1 };
	struct go_binary *b = NULL;
	struct go_process *p = NULL;
	const struct go_goroutine *gs;
	static uint8_t buf[70000], img[1024], stack[4096];
	char why[256] = "", exe[64], name[128];
	struct go_func goexit;
	size_t n = 0, maps_len;
	int err, written = 0;

	err = probe_start(binary, "0", &pr);
	if (err)
		goto cleanup;
	snprintf(exe, sizeof(exe), "/proc/%d/exe", pr.pid);
	err = go_binary_open(exe, &b, why, sizeof(why));
	if (!err)
		err = go_process_open((uint32_t)pr.pid, b, &p);
	if (!err)
		err = go_process_scan(p, &gs, &n);
	if (!err)
		err = go_pclntab_find_func(go_binary_pclntab(b), go_binary_goexit(b), &goexit);
	if (err)
		goto cleanup;
	for (size_t i = 0; i < n && written < 4; i++) {
		const struct go_layout *l = go_binary_layout(b);
		const uint32_t fields[] = {
			l->g_size, l->g_stack_lo, l->g_stack_hi, l->g_m, l->g_sched_sp,
			l->g_sched_pc, l->g_sched_bp, l->g_syscallsp, l->g_syscallpc,
			l->g_atomicstatus, l->g_goid, l->g_waitreason, l->g_tracking_seq,
			l->g_gopc, l->g_startpc,
		};
		uint64_t bias = go_process_load_bias(p), sp = gs[i].stack_hi - gs[i].sp_depth;
		uint64_t pc, bp, base = 0x10000;
		struct iovec local = { img, l->g_size }, remote = { (void *)gs[i].g_addr, l->g_size };
		uint8_t *at = buf;

		if (gs[i].status != GO_G_WAITING || l->g_size > sizeof(img) ||
		    gs[i].sp_depth > sizeof(stack) ||
		    process_vm_readv(pr.pid, &local, 1, &remote, 1, 0) != (ssize_t)l->g_size)
			continue;
		put(&at, 0, 1);
		for (size_t k = 0; k < sizeof(fields) / sizeof(fields[0]); k++)
			put(&at, fields[k], 2);
		put(&at, UINT16_MAX, 2);
		memcpy(at, img, l->g_size);
		at += l->g_size;
		snprintf(name, sizeof(name), "g-%s-%zu", tag, i);
		err = write_seed(dir, name, buf, (size_t)(at - buf));
		if (err)
			goto cleanup;
		/* The stack [sp, hi) at 0x10000, frame pointers relocated. */
		local = (struct iovec){ stack, gs[i].sp_depth };
		remote = (struct iovec){ (void *)sp, gs[i].sp_depth };
		if (process_vm_readv(pr.pid, &local, 1, &remote, 1, 0) != (ssize_t)gs[i].sp_depth)
			continue;
		for (size_t w = 0; w + 8 <= gs[i].sp_depth; w += 8) {
			uint64_t v;

			memcpy(&v, stack + w, 8);
			if (v >= sp && v < gs[i].stack_hi) {
				v = v - sp + base;
				memcpy(stack + w, &v, 8);
			}
		}
		memcpy(&pc, img + l->g_sched_pc, 8);
		memcpy(&bp, img + l->g_sched_bp, 8);
		at = buf;
		put(&at, 1, 1);
		put(&at, 0, 2);                                   /* lo = 0x10000 */
		put(&at, gs[i].sp_depth & ~7ull, 2);              /* hi - lo */
		put(&at, goexit.entry + bias, 8);
		put(&at, goexit.end - goexit.entry, 2);
		put(&at, pc, 8);
		put(&at, base, 8);                                /* sp */
		put(&at, bp - sp + base, 8);
		put(&at, 64, 2);                                  /* window */
		memcpy(at, stack, gs[i].sp_depth);
		at += gs[i].sp_depth;
		snprintf(name, sizeof(name), "stack-%s-%zu", tag, i);
		err = write_seed(dir, name, buf, (size_t)(at - buf));
		if (err)
			goto cleanup;
		written++;
	}
	snprintf(exe, sizeof(exe), "/proc/%d/maps", pr.pid);
	{
		FILE *f = fopen(exe, "re");

		if (!f) {
			err = -errno;
			goto cleanup;
		}
		buf[0] = 2;
		maps_len = fread(buf + 1, 1, sizeof(buf) - 1, f);
		fclose(f);
		snprintf(name, sizeof(name), "maps-%s", tag);
		err = write_seed(dir, name, buf, maps_len + 1);
	}
cleanup:
	if (err)
		fprintf(stderr, "seeds: %s %s\n", strerror(-err), why);
	go_process_free(p);
	go_binary_free(b);
	probe_stop(&pr);
	return err ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const char *const versions[] = { "1.19", "1.26", "1.27" };
	static const char *const variants[] = { "plain", "stripped", "pie", "cgo" };
	enum { NV = 3, NK = 4 };
	struct CMUnitTest tests[NV * NK + NV];
	static char paths[NV * NK][512], names[NV * NK + NV][64];
	int t = 0;

	if (argc == 4 && strcmp(argv[1], "--bench") == 0)
		return bench(argv[2], argv[3]);
	if (argc == 3 && strcmp(argv[1], "--dump") == 0)
		return dump(argv[2]);
	if (argc == 5 && strcmp(argv[1], "--seeds") == 0)
		return seeds(argv[2], argv[3], argv[4]);
	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR | --bench BINARY COUNT | --dump BINARY\n", argv[0]);
		return 2;
	}
	for (int v = 0; v < NV; v++) {
		for (int k = 0; k < NK; k++, t++) {
			snprintf(paths[t], sizeof(paths[t]), "%s/%s/%s/scanprobe", argv[1],
				 versions[v], variants[k]);
			snprintf(names[t], sizeof(names[t]), "scanprobe go%s %s", versions[v],
				 variants[k]);
			tests[t] = (struct CMUnitTest){ .name = names[t], .test_func = test_probe,
							.initial_state = paths[t] };
		}
	}
	/* Churn: once per Go version, plain. */
	for (int v = 0; v < NV; v++, t++) {
		snprintf(names[t], sizeof(names[t]), "scanprobe go%s churn", versions[v]);
		tests[t] = (struct CMUnitTest){ .name = names[t], .test_func = test_churn,
						.initial_state = paths[v * NK] };
	}
	return _cmocka_run_group_tests("live_go_scan", tests, NV * NK + NV, NULL, NULL);
}

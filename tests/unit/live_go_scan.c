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

static int64_t now_ms(void)
{
	return (int64_t)(clock_mono_ns() / 1000000);
}

/* Starts binary with args, waits for its "ready" line.  0 or -errno. */
static int probe_start(const char *binary, const char *many, struct probe *pr)
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
		execl(binary, binary, "-n", "3", "-many", many, "-exit-after", "300", (char *)NULL);
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
	/* main prints "ready" just before it sleeps: scan again (bounded)
	 * until every user goroutine is parked. */
	for (int tries = 0; tries < 40; tries++) {
		bool all_parked = true;

		assert_int_equal(go_process_scan(p, &gs, &n), 0);
		for (size_t i = 0; i < n; i++)
			all_parked &= gs[i].system || gs[i].status == GO_G_WAITING;
		if (all_parked)
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
	};
	int seen[sizeof(expect) / sizeof(expect[0])] = { 0 };

	for (size_t i = 0; i < n; i++) {
		const struct go_goroutine *g = &gs[i];
		uint64_t pcs[MAX_PCS];
		bool matched = false;
		int np = -EAGAIN;

		if (g->system)
			continue;
		user++;
		/* Nothing in scanprobe runs once it is ready. */
		assert_int_equal(g->status, GO_G_WAITING);
		assert_int_equal(g->tid, 0);
		/* A stack that moved under the read is retried, as the tracker does. */
		for (int tries = 0; tries < 5 && np == -EAGAIN; tries++)
			np = go_process_stack(p, g, pcs, MAX_PCS);
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
			assert_true(nf >= 1);
			assert_string_equal(f[0].func, "runtime.gopark");
			if (!line_has(f[0].file, f[0].line, "mcall(park_m)"))
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
	for (size_t k = 0; k < sizeof(expect) / sizeof(expect[0]); k++) {
		if (seen[k] != expect[k].count)
			fail_msg("%s: %d goroutines in %s (%s), %d expected", binary, seen[k],
				 expect[k].func, expect[k].wait, expect[k].count);
	}
	go_process_stats(p, &st);
	assert_true(st.scans >= 1);
	assert_int_equal(st.gs_invalid, 0);
	assert_int_equal(st.gs_unread, 0);
	assert_int_equal(st.stacks_unreadable, 0);
	assert_int_equal(st.stacks_read, stacks);
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

/* Scan cost with count more goroutines parked: first scan and steady. */
static int bench(const char *binary, const char *count)
{
	struct probe pr = { .pid = -1, .out = -1 };
	struct go_binary *b = NULL;
	struct go_process *p = NULL;
	const struct go_goroutine *gs;
	struct go_scan_stats st;
	uint64_t bytes = 0, t0, stack_ns = 0, stack_bytes;
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
	for (int i = 0; i < 6; i++) {
		err = go_process_scan(p, &gs, &n);
		if (err)
			goto cleanup;
		go_process_stats(p, &st);
		printf("scan %d: %zu goroutines, %.2f ms, %lu bytes\n", i + 1, n,
		       st.last_scan_ns / 1e6, (unsigned long)(st.bytes_read - bytes));
		bytes = st.bytes_read;
	}
	t0 = clock_mono_ns();
	for (size_t i = 0; i < n; i++) {
		uint64_t pcs[MAX_PCS];

		if (go_process_stack(p, &gs[i], pcs, MAX_PCS) > 0)
			stacks++;
	}
	stack_ns = clock_mono_ns() - t0;
	go_process_stats(p, &st);
	stack_bytes = st.bytes_read - bytes;
	printf("stacks: %d of %zu read in %.2f ms, %lu bytes; moved %lu, unreadable %lu\n", stacks,
	       n, stack_ns / 1e6, (unsigned long)stack_bytes, (unsigned long)st.stacks_moved,
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

int main(int argc, char **argv)
{
	static const char *const versions[] = { "1.19", "1.26", "1.27" };
	static const char *const variants[] = { "plain", "stripped", "pie", "cgo" };
	enum { NV = 3, NK = 4 };
	struct CMUnitTest tests[NV * NK];
	static char paths[NV * NK][512], names[NV * NK][64];
	int t = 0;

	if (argc == 4 && strcmp(argv[1], "--bench") == 0)
		return bench(argv[2], argv[3]);
	if (argc == 3 && strcmp(argv[1], "--dump") == 0)
		return dump(argv[2]);
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
	return _cmocka_run_group_tests("live_go_scan", tests, NV * NK, NULL, NULL);
}

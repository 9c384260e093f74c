// SPDX-License-Identifier: GPL-2.0
/*
 * Native frames (user/unwind.c: unwind_user, unwind_frames) against real
 * processes: the query fixture (tests/fixtures/query.c), whose chan_send is
 * inlined into query on the wait path, built as distributions build it:
 * with its DWARF (query), with it split off and found through
 * .gnu_debuglink (query-debuglink) or through its build-id under
 * /usr/lib/debug/.build-id (query-buildid, installed here and removed), and
 * run in a chroot whose own /usr/lib/debug holds it (a container), and
 * stripped with only a MiniDebugInfo (query-minidebug: names, no lines).  A
 * blocked thread's pc and sp come from /proc/PID/task/TID/syscall; its
 * stack must show chan_send, inlined, at the line marked "LW-LINE wait",
 * then query at "LW-LINE call", and libc's frames with file:line (libc6-dbg).
 * Root: it reads other processes' memory and writes /usr/lib/debug.
 *
 *   live_native BUILD_DIR                  the tests
 *   live_native --bench BUILD_DIR          unwind_frames cold and cached
 *   live_native --dump BUILD_DIR/fixtures/BINARY   a blocked thread's frames
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "clock.h"
#include "inline_chain.h"
#include "unwind.h"

#define READY_TIMEOUT_MS 20000
#define MAX_PCS 64
#define MAX_FRAMES 256
#define THREADS 2

static const char *build_dir;

struct fixture {
	pid_t pid;
	int out;
	uint32_t tids[THREADS];
	int n_tids;
};

/* A stack as unwind_frames names it. */
struct stack {
	struct lw_frame f[MAX_FRAMES];
	int n;
};

static int64_t now_ms(void)
{
	return (int64_t)(clock_mono_ns() / 1000000);
}

/* One line of the fixture's stdout (NUL-terminated, no newline), or
 * -ETIMEDOUT. */
static int read_line(struct fixture *fx, char *line, size_t size, int64_t deadline)
{
	size_t len = 0;
	char c;

	while (len + 1 < size) {
		struct pollfd pfd = { .fd = fx->out, .events = POLLIN };
		int64_t left = deadline - now_ms();

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			return -ETIMEDOUT;
		if (read(fx->out, &c, 1) != 1)
			return -EPIPE;
		if (c == '\n')
			break;
		line[len++] = c;
	}
	line[len] = '\0';
	return 0;
}

/* Starts binary (in root when not NULL: a chroot, as a container), THREADS
 * leaked threads at once; waits for "ready". */
static int fixture_start(const char *binary, const char *root, struct fixture *fx)
{
	int64_t deadline = now_ms() + READY_TIMEOUT_MS;
	char line[128];
	bool ready = false;
	int fds[2], err;
	unsigned tid;

	memset(fx, 0, sizeof(*fx));
	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	fx->pid = fork();
	if (fx->pid < 0)
		return -errno;
	if (fx->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(fds[1], STDOUT_FILENO);
		if (root && (chroot(root) || chdir("/")))
			_exit(126);
		execl(binary, binary, "--every", "0", "--threads", "2", "--exit-after", "120",
		      (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	fx->out = fds[0];
	/* "ready" may come before the threads' "tid" lines: wait for all. */
	while (!(err = read_line(fx, line, sizeof(line), deadline))) {
		if (sscanf(line, "tid %u", &tid) == 1 && fx->n_tids < THREADS)
			fx->tids[fx->n_tids++] = tid;
		if (!strcmp(line, "ready"))
			ready = true;
		if (ready && fx->n_tids == THREADS)
			return 0;
	}
	return err;
}

static void fixture_stop(struct fixture *fx)
{
	if (fx->pid > 0) {
		kill(fx->pid, SIGKILL);
		waitpid(fx->pid, NULL, 0);
	}
	if (fx->out > 0)
		close(fx->out);
}

/* sp and pc of a thread blocked in futex (/proc/PID/task/TID/syscall:
 * "NR ARG1 ... ARG6 SP PC"), waiting until it is there. */
static int blocked_regs(uint32_t pid, uint32_t tid, __u64 *regs)
{
	int64_t deadline = now_ms() + READY_TIMEOUT_MS;
	unsigned long long a[6], sp, pc;
	char path[64];
	long nr;

	snprintf(path, sizeof(path), "/proc/%u/task/%u/syscall", pid, tid);
	while (now_ms() < deadline) {
		FILE *f = fopen(path, "re");
		int got;

		if (!f)
			return -errno;
		got = fscanf(f, "%ld %llx %llx %llx %llx %llx %llx %llx %llx", &nr, &a[0], &a[1],
			     &a[2], &a[3], &a[4], &a[5], &sp, &pc);
		fclose(f);
		if (got == 9 && nr == 202) {
			memset(regs, 0, LW_NR_REGS * sizeof(*regs));
			regs[LW_REG_SP] = sp;
			regs[LW_REG_IP] = pc;
			return 0;
		}
		usleep(20000);
	}
	return -ETIMEDOUT;
}

/* The frames of thread tid's whole stack. */
static int stack_of(struct unwinder *u, uint32_t pid, uint32_t tid, struct stack *s)
{
	uint64_t pcs[MAX_PCS];
	__u64 regs[LW_NR_REGS];
	int i, n, err;

	err = blocked_regs(pid, tid, regs);
	if (err)
		return err;
	n = unwind_user(u, pid, tid, regs, pcs, MAX_PCS);
	if (n < 0)
		return n;
	s->n = 0;
	for (i = 0; i < n && s->n < MAX_FRAMES - LW_INLINE_MAX; i++)
		s->n += unwind_frames(u, pid, pcs[i], i == 0, &s->f[s->n], LW_INLINE_MAX);
	return 0;
}

static void print_stack(const struct stack *s)
{
	char text[512];

	for (int i = 0; i < s->n; i++) {
		lw_frame_text(&s->f[i], text, sizeof(text));
		printf("#   #%-2d %s%s [%s]\n", i, text, s->f[i].inlined ? " (inlined)" : "",
		       s->f[i].module);
	}
}

/* Does line `line` of file hold marker?  (The fixture keeps its source
 * path in its DWARF.) */
static bool line_has(const char *file, int line, const char *marker)
{
	char buf[512];
	bool found = false;
	FILE *f = fopen(file, "re");

	if (!f)
		return false;
	for (int i = 1; fgets(buf, sizeof(buf), f); i++) {
		if (i == line) {
			found = strstr(buf, marker) != NULL;
			break;
		}
	}
	fclose(f);
	return found;
}

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), m = strlen(tail);

	return n >= m && !strcmp(s + n - m, tail);
}

/* The stack must hold chan_send (inlined, at "LW-LINE wait" of query.c)
 * then query (physical, at "LW-LINE call"), with the same pc and offset,
 * and pthread_cond_wait's libc frames with a file:line. */
static void check_query_stack(const struct stack *s, const char *module)
{
	bool libc_line = false;
	int i;

	for (i = 0; i < s->n && strcmp(s->f[i].func, "chan_send"); i++)
		;
	if (i >= s->n - 1) {
		print_stack(s);
		fail_msg("no chan_send frame followed by another");
	}
	assert_true(s->f[i].inlined);
	assert_true(ends_with(s->f[i].file, "/query.c"));
	assert_true(line_has(s->f[i].file, s->f[i].line, "LW-LINE wait"));
	assert_string_equal(s->f[i].module, module);
	assert_string_equal(s->f[i + 1].func, "query");
	assert_false(s->f[i + 1].inlined);
	assert_true(ends_with(s->f[i + 1].file, "/query.c"));
	assert_true(line_has(s->f[i + 1].file, s->f[i + 1].line, "LW-LINE call"));
	assert_int_equal(s->f[i].pc, s->f[i + 1].pc);
	assert_int_equal(s->f[i].offset, s->f[i + 1].offset);
	assert_true(s->f[i].offset > 0);
	for (i = 0; i < s->n; i++)
		if (!strcmp(s->f[i].module, "libc.so.6") && s->f[i].file[0] && s->f[i].line > 0)
			libc_line = true;
	if (!libc_line) {
		print_stack(s);
		fail_msg("no libc frame with file:line (is libc6-dbg installed?)");
	}
}

static void run_and_check(const char *binary, const char *root, const char *module)
{
	struct unwinder *u;
	struct fixture fx;
	struct stack *s = calloc(1, sizeof(*s));
	char path[PATH_MAX];

	assert_non_null(s);
	snprintf(path, sizeof(path), "%s/fixtures/%s", build_dir, binary);
	assert_int_equal(fixture_start(root ? binary : path, root, &fx), 0);
	assert_int_equal(unwinder_new(&u), 0);
	assert_int_equal(stack_of(u, (uint32_t)fx.pid, fx.tids[0], s), 0);
	print_stack(s);
	check_query_stack(s, module);
	unwinder_free(u);
	fixture_stop(&fx);
	free(s);
}

/* DWARF in the binary. */
static void test_plain(void **state)
{
	run_and_check("query", NULL, "query");
}

/* Stripped; its DWARF beside it, named by .gnu_debuglink. */
static void test_debuglink(void **state)
{
	run_and_check("query-debuglink", NULL, "query-debuglink");
}

/* Stripped of everything but a MiniDebugInfo (.gnu_debugdata): query and
 * leak_thread named by its symbols, without file:line, and no chan_send:
 * nothing says it was inlined there, so no frame claims it. */
static void test_minidebug(void **state)
{
	struct stack *s = calloc(1, sizeof(*s));
	char path[PATH_MAX];
	struct unwinder *u;
	struct fixture fx;
	int i;

	assert_non_null(s);
	snprintf(path, sizeof(path), "%s/fixtures/query-minidebug", build_dir);
	assert_int_equal(fixture_start(path, NULL, &fx), 0);
	assert_int_equal(unwinder_new(&u), 0);
	assert_int_equal(stack_of(u, (uint32_t)fx.pid, fx.tids[0], s), 0);
	print_stack(s);
	for (i = 0; i < s->n && strcmp(s->f[i].func, "query"); i++)
		assert_string_not_equal(s->f[i].func, "chan_send");
	assert_true(i < s->n - 1);
	assert_false(s->f[i].inlined);
	assert_string_equal(s->f[i].file, "");
	assert_string_equal(s->f[i].module, "query-minidebug");
	assert_true(s->f[i].offset > 0);
	assert_string_equal(s->f[i + 1].func, "leak_thread");
	unwinder_free(u);
	fixture_stop(&fx);
	free(s);
}

static int copy_file(const char *from, const char *to)
{
	char buf[65536];
	int in, out, err = 0;
	ssize_t n;

	in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	if (out < 0) {
		err = -errno;
		close(in);
		return err;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			err = -EIO;
			break;
		}
	if (n < 0)
		err = -errno;
	close(in);
	close(out);
	return err;
}

static int mkdirs(const char *path)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s", path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	return mkdir(p, 0755) && errno != EEXIST ? -errno : 0;
}

/* DEBUG_ROOT/.build-id/xx/yyyy.debug for the build-id of query-buildid
 * (read with readelf: the test's own oracle, not libdwfl's). */
static int build_id_path(const char *debug_root, char *dir, size_t dir_len, char *file,
			 size_t file_len)
{
	char cmd[PATH_MAX + 64], id[128] = "";
	FILE *p;

	snprintf(cmd, sizeof(cmd), "readelf -n %s/fixtures/query-buildid", build_dir);
	p = popen(cmd, "re");
	if (!p)
		return -errno;
	while (fgets(cmd, sizeof(cmd), p))
		if (sscanf(cmd, " Build ID: %127s", id) == 1)
			break;
	pclose(p);
	if (strlen(id) < 4)
		return -ENOENT;
	snprintf(dir, dir_len, "%s/.build-id/%.2s", debug_root, id);
	snprintf(file, file_len, "%s/%s.debug", dir, id + 2);
	return 0;
}

/* What test_buildid installed, removed by its teardown (a failed check
 * leaves the test at once). */
static char installed_file[PATH_MAX], installed_dir[PATH_MAX];

static int remove_installed(void **state)
{
	if (installed_file[0] && unlink(installed_file))
		return -1;
	if (installed_dir[0])
		rmdir(installed_dir); /* when empty */
	installed_file[0] = installed_dir[0] = '\0';
	return 0;
}

/* Stripped, no link: found by build-id in /usr/lib/debug, as a
 * distribution's -dbgsym package installs it. */
static void test_buildid(void **state)
{
	char dir[PATH_MAX], file[PATH_MAX], from[PATH_MAX];
	struct stat st;

	assert_int_equal(build_id_path("/usr/lib/debug", dir, sizeof(dir), file, sizeof(file)), 0);
	/* Somebody else's file there: leave it (and the test would not test). */
	assert_int_not_equal(stat(file, &st), 0);
	snprintf(from, sizeof(from), "%s/fixtures/split/query-buildid.debug", build_dir);
	if (stat(dir, &st))
		snprintf(installed_dir, sizeof(installed_dir), "%s", dir);
	assert_int_equal(mkdirs(dir), 0);
	snprintf(installed_file, sizeof(installed_file), "%s", file);
	assert_int_equal(copy_file(from, file), 0);
	run_and_check("query-buildid", NULL, "query-buildid");
}

/* The libraries of binary (ldd) and the binary into root, as a container
 * image holds them. */
static int make_root(const char *root, const char *binary)
{
	char cmd[PATH_MAX * 4 + 128];

	snprintf(cmd, sizeof(cmd),
		 "set -e; for f in $(ldd %s | grep -o '/[^ ]*'); do "
		 "mkdir -p %s$(dirname $f); cp -L $f %s$f; done; cp %s %s/",
		 binary, root, root, binary, root);
	return system(cmd) == 0 ? 0 : -EIO;
}

static char chroot_dir[] = "/tmp/lw-live-native.XXXXXX";

static int remove_chroot(void **state)
{
	char cmd[64];

	if (strstr(chroot_dir, "XXXXXX"))
		return 0;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", chroot_dir);
	return system(cmd) ? -1 : 0;
}

/* In a chroot (a container's root): the binary and its build-id debug file
 * only in there, found through /proc/PID/root/usr/lib/debug. */
static void test_container(void **state)
{
	char dir[PATH_MAX], file[PATH_MAX], from[PATH_MAX], debug_root[PATH_MAX], bin[PATH_MAX];
	char *root = chroot_dir;
	struct stat st;

	assert_non_null(mkdtemp(root));
	snprintf(bin, sizeof(bin), "%s/fixtures/query-buildid", build_dir);
	assert_int_equal(make_root(root, bin), 0);
	snprintf(debug_root, sizeof(debug_root), "%s/usr/lib/debug", root);
	assert_int_equal(build_id_path(debug_root, dir, sizeof(dir), file, sizeof(file)), 0);
	snprintf(from, sizeof(from), "%s/fixtures/split/query-buildid.debug", build_dir);
	assert_int_equal(mkdirs(dir), 0);
	assert_int_equal(copy_file(from, file), 0);
	/* Not on the host: only the container's copy can name chan_send. */
	assert_int_equal(build_id_path("/usr/lib/debug", dir, sizeof(dir), file, sizeof(file)), 0);
	assert_int_not_equal(stat(file, &st), 0);
	run_and_check("/query-buildid", root, "query-buildid");
}

/* The cache: the same pcs again are hits with the same frames; another
 * process of the same binary shares them. */
static void test_cache(void **state)
{
	struct stack *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct lw_symbolize_stats st0, st1, st2;
	struct fixture fx1, fx2;
	char path[PATH_MAX];
	struct unwinder *u;

	assert_non_null(a);
	assert_non_null(b);
	snprintf(path, sizeof(path), "%s/fixtures/query", build_dir);
	assert_int_equal(fixture_start(path, NULL, &fx1), 0);
	assert_int_equal(fixture_start(path, NULL, &fx2), 0);
	assert_int_equal(unwinder_new(&u), 0);
	assert_int_equal(stack_of(u, (uint32_t)fx1.pid, fx1.tids[0], a), 0);
	unwinder_stats(u, &st0);
	assert_true(st0.cache_misses > 0);
	assert_int_equal(st0.cache_entries, st0.cache_misses);
	assert_int_equal(st0.cache_capacity, LW_SYMCACHE_MAX);
	/* The second thread of the same process: same pcs, all hits. */
	assert_int_equal(stack_of(u, (uint32_t)fx1.pid, fx1.tids[1], b), 0);
	unwinder_stats(u, &st1);
	assert_int_equal(st1.cache_misses, st0.cache_misses);
	assert_true(st1.cache_hits >= st0.cache_misses);
	assert_int_equal(a->n, b->n);
	assert_memory_equal(a->f, b->f, (size_t)a->n * sizeof(a->f[0]));
	/* Another process of the same file: hits too (its pcs differ by ASLR). */
	assert_int_equal(stack_of(u, (uint32_t)fx2.pid, fx2.tids[0], b), 0);
	unwinder_stats(u, &st2);
	assert_int_equal(st2.cache_misses, st1.cache_misses);
	assert_true(st2.cache_hits > st1.cache_hits);
	check_query_stack(b, "query");
	assert_int_equal(st2.unnamed_frames, 0);
	unwinder_free(u);
	fixture_stop(&fx1);
	fixture_stop(&fx2);
	free(a);
	free(b);
}

static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * Cost of unwind_frames, CPU time: the first lookup in a module (its DWARF
 * opened), other misses in it (a new address: a DWARF walk), and hits, at a
 * pc in the fixture (query) and in libc (pthread_cond_wait's return).
 */
static int bench(void)
{
	struct lw_frame f[LW_INLINE_MAX];
	uint64_t pcs[MAX_PCS], t0, first_ns[2], pc[2];
	const char *names[2] = { "query (fixture)", "libc" };
	struct unwinder *u;
	__u64 regs[LW_NR_REGS];
	struct fixture fx;
	char path[PATH_MAX];
	int n, i, k, which;

	snprintf(path, sizeof(path), "%s/fixtures/query", build_dir);
	if (fixture_start(path, NULL, &fx) || blocked_regs((uint32_t)fx.pid, fx.tids[0], regs) ||
	    unwinder_new(&u))
		return 1;
	n = unwind_user(u, (uint32_t)fx.pid, fx.tids[0], regs, pcs, MAX_PCS);
	pc[0] = pc[1] = 0;
	/* From an empty cache: which pc is which, and their first lookups. */
	for (i = 1; i < n; i++) {
		int m;

		t0 = cpu_ns();
		m = unwind_frames(u, (uint32_t)fx.pid, pcs[i], false, f, LW_INLINE_MAX);
		t0 = cpu_ns() - t0;
		if (!pc[0] && !strcmp(f[m - 1].func, "query")) {
			pc[0] = pcs[i];
			first_ns[0] = t0;
		}
		if (!pc[1] && !strcmp(f[m - 1].module, "libc.so.6")) {
			pc[1] = pcs[i];
			first_ns[1] = t0;
		}
	}
	if (!pc[0] || !pc[1])
		return 1;
	for (which = 0; which < 2; which++) {
		const int rounds = 20000, misses = 200;
		uint64_t miss = 0, hit = 0;

		/* Misses: addresses just before pc, each looked up once
		 * (first: not a return address), every one a DWARF walk. */
		t0 = cpu_ns();
		for (k = 0; k < misses; k++)
			unwind_frames(u, (uint32_t)fx.pid, pc[which] - 1 - (uint64_t)k, true, f,
				      LW_INLINE_MAX);
		miss = cpu_ns() - t0;
		t0 = cpu_ns();
		for (k = 0; k < rounds; k++)
			unwind_frames(u, (uint32_t)fx.pid, pc[which], false, f, LW_INLINE_MAX);
		hit = cpu_ns() - t0;
		printf("%-16s first lookup %8.1f us  (module's DWARF opened)\n", names[which],
		       first_ns[which] / 1e3);
		printf("%-16s miss         %8.2f us  (%d new addresses)\n", names[which],
		       miss / 1e3 / misses, misses);
		printf("%-16s hit          %8.3f us  (%d lookups)\n", names[which],
		       hit / 1e3 / rounds, rounds);
	}
	unwinder_free(u);
	fixture_stop(&fx);
	return 0;
}

static int dump(const char *binary)
{
	struct stack *s = calloc(1, sizeof(*s));
	struct unwinder *u;
	struct fixture fx;

	if (!s || fixture_start(binary, NULL, &fx) || unwinder_new(&u))
		return 1;
	if (stack_of(u, (uint32_t)fx.pid, fx.tids[0], s))
		return 1;
	print_stack(s);
	unwinder_free(u);
	fixture_stop(&fx);
	free(s);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),	  cmocka_unit_test(test_debuglink),
		cmocka_unit_test(test_minidebug),
		cmocka_unit_test_teardown(test_buildid, remove_installed),
		cmocka_unit_test_teardown(test_container, remove_chroot),
		cmocka_unit_test(test_cache),
	};

	if (argc == 3 && !strcmp(argv[1], "--bench")) {
		build_dir = argv[2];
		return bench();
	}
	if (argc == 3 && !strcmp(argv[1], "--dump"))
		return dump(argv[2]);
	if (argc != 2) {
		fprintf(stderr, "usage: live_native BUILD_DIR | --bench BUILD_DIR | --dump BINARY\n");
		return 2;
	}
	build_dir = argv[1];
	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: GPL-2.0
/* folded.c and folded_file.c: stuck waiters as folded stacks, and the file
 * they replace. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "folded.h"
#include "folded_file.h"

#define MS 1000000ULL

static void set_frame(struct lw_stack_text *st, int i, uint8_t kind, const char *func,
		      const char *file, const char *module, bool inlined)
{
	struct lw_frame *f = &st->info[i];

	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->pc = 0x1000 + (uint64_t)i * 0x10;
	f->offset = 0x10;
	f->inlined = inlined;
	snprintf(f->func, sizeof(f->func), "%s", func);
	snprintf(f->file, sizeof(f->file), "%s", file);
	snprintf(f->module, sizeof(f->module), "%s", module);
	if (i + 1 > st->n)
		st->n = i + 1;
}

/* A thread site: user frames innermost first, as the tracker keeps them,
 * then the kernel's. */
static struct lw_site *thread_site(const char *kind, const char *leaf_func)
{
	struct lw_site *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	snprintf(s->kind, sizeof(s->kind), "%s", kind);
	set_frame(&s->user, 0, LW_FRAME_NATIVE, "__futex_abstimed_wait_common", "", "libc.so.6",
		  false);
	set_frame(&s->user, 1, LW_FRAME_NATIVE, leaf_func, "blocker.c", "blocker", false);
	set_frame(&s->user, 2, LW_FRAME_NATIVE, "start_thread", "", "libc.so.6", false);
	s->n_user = 3;
	set_frame(&s->kernel, 0, LW_FRAME_KERNEL, "futex_wait", "", "", false);
	set_frame(&s->kernel, 1, LW_FRAME_KERNEL, "do_syscall_64", "", "", false);
	s->n_kernel = 2;
	return s;
}

static struct lw_site *go_site(void)
{
	struct lw_site *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	s->goroutine = true;
	snprintf(s->kind, sizeof(s->kind), "chan receive");
	set_frame(&s->user, 0, LW_FRAME_GO, "runtime.gopark", "/go/src/runtime/proc.go", "", false);
	set_frame(&s->user, 1, LW_FRAME_GO, "main.recv", "/src/recv.go", "", true);
	set_frame(&s->user, 2, LW_FRAME_GO, "main.worker", "/src/recv.go", "", false);
	set_frame(&s->user, 3, LW_FRAME_GO, "runtime.goexit", "/go/src/runtime/asm.s", "", false);
	s->n_user = 4;
	/* A goroutine site has no kernel stack: anything here is not shown. */
	set_frame(&s->kernel, 0, LW_FRAME_KERNEL, "not_shown", "", "", false);
	s->n_kernel = 1;
	return s;
}

static struct lw_waiter_view view(const char *pcomm, const struct lw_site *site,
				  uint64_t blocked_ns)
{
	return (struct lw_waiter_view){ .pcomm = pcomm, .site = site, .blocked_ns = blocked_ns };
}

/* The lines f writes, as one string (freed by the caller). */
static char *written(struct folded *f)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	assert_non_null(out);
	assert_int_equal(folded_write(f, out), 0);
	fclose(out);
	return text;
}

static void assert_text(char *got, const char *want)
{
	if (strcmp(got, want))
		print_error("got:\n%s\nwant:\n%s\n", got, want);
	assert_string_equal(got, want);
	free(got);
}

static void test_two_sites_by_count(void **state)
{
	struct lw_site *a = thread_site("futex", "wait_cond"), *b = thread_site("read", "read_pipe");
	struct lw_waiter_view v;
	struct folded *f;
	int i;

	assert_int_equal(folded_new(false, &f), 0);
	for (i = 0; i < 5; i++) {
		v = view("blocker", i < 3 ? a : b, (uint64_t)(i + 1) * 1000 * MS);
		assert_int_equal(folded_add(f, &v), 0);
	}
	assert_int_equal(folded_waiters(f), 5);
	assert_int_equal(folded_total(f), 5);
	assert_text(written(f),
		    "blocker;start_thread;read_pipe;__futex_abstimed_wait_common;do_syscall_64_[k];"
		    "futex_wait_[k];[wait: read] 2\n"
		    "blocker;start_thread;wait_cond;__futex_abstimed_wait_common;do_syscall_64_[k];"
		    "futex_wait_[k];[wait: futex] 3\n");
	folded_free(f);
	free(a);
	free(b);
}

static void test_weight_time_in_ms(void **state)
{
	struct lw_site *a = thread_site("futex", "wait_cond");
	/* 1.5004 s, 2.0006 s, and 0.2 ms (never 0: it would vanish) */
	const uint64_t blocked[] = { 1500400000ULL, 2000600000ULL, 200000ULL };
	struct lw_waiter_view v;
	struct folded *f;
	size_t i;

	assert_int_equal(folded_new(true, &f), 0);
	for (i = 0; i < 3; i++) {
		v = view("blocker", a, blocked[i]);
		assert_int_equal(folded_add(f, &v), 0);
	}
	assert_int_equal(folded_total(f), 1500 + 2001 + 1);
	assert_text(written(f),
		    "blocker;start_thread;wait_cond;__futex_abstimed_wait_common;do_syscall_64_[k];"
		    "futex_wait_[k];[wait: futex] 3502\n");
	folded_free(f);
	free(a);
}

static void test_goroutines_inlined_and_reason(void **state)
{
	struct lw_site *g = go_site();
	struct lw_waiter_view v = view("gofix", g, 5000 * MS);
	struct folded *f;

	v.goid = 42;
	assert_int_equal(folded_new(false, &f), 0);
	assert_int_equal(folded_add(f, &v), 0);
	v.goid = 43;
	assert_int_equal(folded_add(f, &v), 0);
	assert_text(written(f), "gofix;runtime.goexit;main.worker;main.recv_[i];runtime.gopark;"
				"[wait: chan receive] 2\n");
	folded_free(f);
	free(g);
}

/* The same process name in two processes, the same code: one line. */
static void test_equal_text_merged(void **state)
{
	struct lw_site *a = thread_site("futex", "wait_cond"), *b = thread_site("futex", "wait_cond");
	struct lw_waiter_view v;
	struct folded *f;

	b->user.info[1].pc += 0x40; /* another offset in the same function */
	b->user.info[1].offset += 0x40;
	assert_int_equal(folded_new(false, &f), 0);
	v = view("blocker", a, 0);
	assert_int_equal(folded_add(f, &v), 0);
	v = view("blocker", b, 0);
	assert_int_equal(folded_add(f, &v), 0);
	assert_int_equal(folded_add(f, &v), 0);
	assert_text(written(f),
		    "blocker;start_thread;wait_cond;__futex_abstimed_wait_common;do_syscall_64_[k];"
		    "futex_wait_[k];[wait: futex] 3\n");
	folded_free(f);
	free(a);
	free(b);
}

/* Names from the target cannot break the format. */
static void test_hostile_text(void **state)
{
	struct lw_site *s = calloc(1, sizeof(*s));
	struct lw_waiter_view v = view("a;b\nc d", s, 0);
	struct folded *f;

	assert_non_null(s);
	snprintf(s->kind, sizeof(s->kind), "futex");
	set_frame(&s->user, 0, LW_FRAME_NATIVE, "", "", "libfoo.so", false);
	set_frame(&s->user, 1, LW_FRAME_NATIVE, "", "", "", false);
	set_frame(&s->user, 2, LW_FRAME_PYTHON, "handle;x", "/srv/app/server.py", "", false);
	set_frame(&s->user, 3, LW_FRAME_PYTHON, "<module>", "", "", false);
	set_frame(&s->user, 4, LW_FRAME_JIT, "LazyCompile:*run\t7", "", "perf-1.map", false);
	set_frame(&s->user, 5, LW_FRAME_NATIVE, "ok\xff", "", "", false);
	assert_int_equal(folded_new(false, &f), 0);
	assert_int_equal(folded_add(f, &v), 0);
	assert_text(written(f), "a:b?c d;ok\xef\xbf\xbd;LazyCompile:*run?7_[j];<module>;"
				"handle:x (server.py);[unknown];[libfoo.so];[wait: futex] 1\n");
	folded_free(f);
	free(s);
}

static void test_no_site(void **state)
{
	struct lw_wait w = { .kind = "poll" };
	struct lw_waiter_view v = view("srv", NULL, 0);
	struct folded *f;

	assert_int_equal(folded_new(false, &f), 0);
	assert_int_equal(folded_add(f, &v), 0); /* no wait known: "kernel" */
	v.wait = &w;
	assert_int_equal(folded_add(f, &v), 0);
	assert_int_equal(folded_add(f, &v), 0);
	v.pcomm = NULL;
	assert_int_equal(folded_add(f, &v), 0);
	assert_text(written(f), "[unknown];[wait: poll] 1\nsrv;[wait: kernel] 1\n"
				"srv;[wait: poll] 2\n");
	folded_free(f);
}

static void test_truncated_stack(void **state)
{
	struct lw_site *s = calloc(1, sizeof(*s));
	struct lw_waiter_view v = view("deep", s, 0);
	struct folded *f;
	char *text;
	int i;

	assert_non_null(s);
	snprintf(s->kind, sizeof(s->kind), "futex");
	for (i = 0; i < LW_STACK_MAX; i++)
		set_frame(&s->user, i, LW_FRAME_NATIVE, i ? "recurse" : "leaf", "", "", false);
	s->n_user = LW_STACK_MAX;
	assert_int_equal(folded_new(false, &f), 0);
	assert_int_equal(folded_add(f, &v), 0);
	text = written(f);
	assert_int_equal(strncmp(text, "deep;[truncated];recurse;", 25), 0);
	assert_non_null(strstr(text, ";recurse;leaf;[wait: futex] 1\n"));
	free(text);
	folded_free(f);
	free(s);
}

/* Many sites: the table grows, nothing is lost. */
static void test_many_sites(void **state)
{
	enum { N = 1000 };
	struct lw_site **sites = calloc(N, sizeof(*sites));
	struct lw_waiter_view v;
	struct folded *f;
	char name[32], *text, *p;
	size_t lines = 0;
	uint64_t sum = 0;
	int i, j;

	assert_non_null(sites);
	assert_int_equal(folded_new(false, &f), 0);
	for (i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "fn%04d", i);
		sites[i] = thread_site("futex", name);
	}
	for (j = 0; j < 3; j++) {
		for (i = 0; i < N; i++) {
			v = view("many", sites[i], 0);
			assert_int_equal(folded_add(f, &v), 0);
		}
	}
	text = written(f);
	for (p = text; *p; p = strchr(p, '\n') + 1) {
		char *sp = strrchr(p, ' ');

		assert_non_null(sp);
		sum += strtoull(sp + 1, NULL, 10);
		lines++;
	}
	assert_int_equal(lines, N);
	assert_int_equal(sum, 3 * N);
	assert_int_equal(folded_total(f), 3 * N);
	free(text);
	folded_free(f);
	for (i = 0; i < N; i++)
		free(sites[i]);
	free(sites);
}

static void test_empty_and_write_error(void **state)
{
	struct lw_site *a = thread_site("futex", "wait_cond");
	struct lw_waiter_view v = view("blocker", a, 0);
	struct folded *f;
	FILE *full;

	assert_int_equal(folded_new(false, &f), 0);
	assert_text(written(f), "");
	assert_int_equal(folded_add(f, &v), 0);
	full = fopen("/dev/full", "w");
	assert_non_null(full);
	assert_int_equal(folded_write(f, full), -EIO);
	fclose(full);
	folded_free(f);
	free(a);
}

/* ---- folded_file ---- */

static char *read_all(const char *path)
{
	FILE *in = fopen(path, "r");
	char *text;
	long n;

	if (!in)
		return NULL;
	fseek(in, 0, SEEK_END);
	n = ftell(in);
	rewind(in);
	text = calloc(1, (size_t)n + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)n, in), (size_t)n);
	fclose(in);
	return text;
}

static int entries_in(const char *dir)
{
	char cmd[600];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_int_equal(fscanf(p, "%d", &n), 1);
	pclose(p);
	return n;
}

static void test_file_replaced_whole(void **state)
{
	char dir[] = "/tmp/lw-folded-XXXXXX", path[600], link[600], resolved[4096];
	struct lw_site *a = thread_site("futex", "wait_cond");
	struct lw_waiter_view v = view("blocker", a, 0);
	struct folded *f;
	struct stat st;
	char *text;
	FILE *old;

	umask(022);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/stuck.folded", dir);
	assert_int_equal(folded_file_prepare(path, resolved, sizeof(resolved)), 0);
	assert_string_equal(resolved, path);
	assert_int_equal(entries_in(dir), 0); /* the check left nothing */
	old = fopen(path, "w");
	assert_non_null(old);
	fputs("old content 1\n", old);
	fclose(old);
	/* A link: the file it names is replaced, the link stays. */
	snprintf(link, sizeof(link), "%s/link.folded", dir);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(folded_file_prepare(link, resolved, sizeof(resolved)), 0);
	assert_string_equal(resolved, path);

	assert_int_equal(folded_new(false, &f), 0);
	assert_int_equal(folded_add(f, &v), 0);
	assert_int_equal(folded_file_write(resolved, f), 0);
	text = read_all(path);
	assert_non_null(text);
	assert_non_null(strstr(text, ";[wait: futex] 1\n"));
	free(text);
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(entries_in(dir), 2); /* no temporary file left */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644); /* as any file made under umask 022 */

	/* The directory went away: the error, and nothing half written. */
	unlink(link);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
	assert_int_equal(folded_file_write(resolved, f), -ENOENT);
	folded_free(f);
	free(a);
}

static void test_file_not_regular_refused(void **state)
{
	char dir[] = "/tmp/lw-folded-XXXXXX", fifo[600], sub[600], resolved[4096], path[600];
	struct lw_site *a = thread_site("futex", "wait_cond");
	struct lw_waiter_view v = view("blocker", a, 0);
	struct folded *f;
	struct stat st;

	assert_non_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(folded_file_prepare(fifo, resolved, sizeof(resolved)), -EINVAL);
	assert_int_equal(folded_file_prepare(sub, resolved, sizeof(resolved)), -EINVAL);
	assert_int_equal(folded_file_prepare("/dev/full", resolved, sizeof(resolved)), -EINVAL);
	snprintf(path, sizeof(path), "%s/none/x.folded", dir);
	assert_int_equal(folded_file_prepare(path, resolved, sizeof(resolved)), -ENOENT);
	assert_int_equal(folded_file_prepare(fifo, resolved, 4), -EINVAL);
	snprintf(path, sizeof(path), "%s/x", dir);
	assert_int_equal(folded_file_prepare(path, resolved, 4), -ENAMETOOLONG);

	/* Became a FIFO after the start: refused, not replaced, never opened. */
	assert_int_equal(folded_new(false, &f), 0);
	assert_int_equal(folded_add(f, &v), 0);
	assert_int_equal(folded_file_write(fifo, f), -EINVAL);
	assert_int_equal(folded_file_write(sub, f), -EINVAL);
	assert_int_equal(folded_file_write("/dev/full", f), -EINVAL);
	assert_int_equal(lstat(fifo, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	assert_int_equal(entries_in(dir), 2);
	unlink(fifo);
	rmdir(sub);
	rmdir(dir);
	folded_free(f);
	free(a);
}

/* A link another user planted (in /tmp, with fs.protected_symlinks off) is
 * not followed: the file it names is not replaced. */
static void test_foreign_link_not_followed(void **state)
{
	char dir[] = "/tmp/lw-folded-XXXXXX", victim[600], link[600], resolved[4096];
	struct stat st;

	(void)state;
	if (geteuid()) {
		skip(); /* lchown to another user needs root */
		return;
	}
	assert_non_null(mkdtemp(dir));
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	snprintf(link, sizeof(link), "%s/stuck.folded", dir);
	close(open(victim, O_WRONLY | O_CREAT, 0600));
	assert_int_equal(symlink(victim, link), 0);
	assert_int_equal(lchown(link, 65534, 65534), 0);
	assert_int_equal(folded_file_prepare(link, resolved, sizeof(resolved)), -EPERM);
	/* The directory is the other user's: its owner's link is followed. */
	assert_int_equal(chown(dir, 65534, 65534), 0);
	assert_int_equal(folded_file_prepare(link, resolved, sizeof(resolved)), 0);
	assert_string_equal(resolved, victim);
	assert_int_equal(stat(victim, &st), 0);
	assert_int_equal(st.st_size, 0);
	unlink(link);
	unlink(victim);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_sites_by_count),
		cmocka_unit_test(test_weight_time_in_ms),
		cmocka_unit_test(test_goroutines_inlined_and_reason),
		cmocka_unit_test(test_equal_text_merged),
		cmocka_unit_test(test_hostile_text),
		cmocka_unit_test(test_no_site),
		cmocka_unit_test(test_truncated_stack),
		cmocka_unit_test(test_many_sites),
		cmocka_unit_test(test_empty_and_write_error),
		cmocka_unit_test(test_file_replaced_whole),
		cmocka_unit_test(test_foreign_link_not_followed),
		cmocka_unit_test(test_file_not_regular_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: GPL-2.0
/* lock_wait_decode on locks of this process, held by a real thread; the
 * reads go to this process's own memory. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "lock_wait.h"

static uint32_t holder_tid;
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static int ready[2], done[2];
static bool fail_reads;

static int fake_read(void *ctx, uint32_t pid, uint32_t tid, uint64_t addr, void *buf, size_t len)
{
	(void)ctx, (void)pid, (void)tid;
	if (fail_reads)
		return -EFAULT;
	memcpy(buf, (const void *)(uintptr_t)addr, len);
	return 0;
}

static bool fake_thread_of(void *ctx, uint32_t pid, uint32_t tid)
{
	(void)ctx, (void)pid;
	return tid == holder_tid;
}

static const struct lw_lock_ops ops = { .read = fake_read, .is_thread_of = fake_thread_of };

static void *hold(void *arg)
{
	pthread_mutex_t *mx = arg;
	char c = 0;

	pthread_mutex_lock(mx);
	holder_tid = gettid();
	if (write(ready[1], &c, 1) != 1 || read(done[0], &c, 1) != 1)
		abort();
	pthread_mutex_unlock(mx);
	return NULL;
}

static pthread_t hold_it(pthread_mutex_t *mx)
{
	pthread_t t;
	char c;

	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(done), 0);
	assert_int_equal(pthread_create(&t, NULL, hold, mx), 0);
	assert_int_equal(read(ready[0], &c, 1), 1);
	return t;
}

static void let_go(pthread_t t)
{
	char c = 0;

	assert_int_equal(write(done[1], &c, 1), 1);
	pthread_join(t, NULL);
	close(ready[0]), close(ready[1]), close(done[0]), close(done[1]);
}

static void stack_of(struct lw_stack_text *s, const char *const *funcs, int n)
{
	int i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < n; i++)
		snprintf(s->info[i].func, sizeof(s->info[i].func), "%s", funcs[i]);
	s->n = n;
}

static void futex_rec(struct lw_task_rec *r, struct lw_wait *w, const void *uaddr, uint64_t op,
		      uint64_t val)
{
	memset(r, 0, sizeof(*r));
	memset(w, 0, sizeof(*w));
	r->pid = getpid();
	r->tid = 999999;
	r->syscall_nr = 202;
	r->args[0] = (uintptr_t)uaddr;
	r->args[1] = op;
	r->args[2] = val;
	w->has_futex = true;
	w->futex_addr = (uintptr_t)uaddr;
}

static void test_mutex_owner_found(void **state)
{
	const char *funcs[] = { "__GI___lll_lock_wait", "___pthread_mutex_lock", "lookup" };
	static struct lw_stack_text s;
	struct lw_lock_stats st = { 0 };
	struct lw_task_rec r;
	struct lw_lock l;
	struct lw_wait w;
	pthread_t t;

	(void)state;
	stack_of(&s, funcs, 3);
	t = hold_it(&m);
	futex_rec(&r, &w, &m, 128 /* FUTEX_WAIT_PRIVATE */, 2);
	lock_wait_decode(&r, &w, &s, &ops, &l, &st);
	assert_int_equal(l.kind, LW_LOCK_MUTEX);
	assert_true(l.owner_known);
	assert_int_equal(l.owner_tid, holder_tid);
	assert_int_equal(l.addr, (uintptr_t)&m);
	assert_int_equal(st.owners_found, 1);
	assert_true(lock_wait_still_owned(&l, r.pid, r.tid, &ops));
	/* Unreadable memory is counted, not guessed. */
	fail_reads = true;
	lock_wait_decode(&r, &w, &s, &ops, &l, &st);
	fail_reads = false;
	assert_false(l.owner_known);
	assert_int_equal(st.unreadable, 1);
	let_go(t);
	assert_false(lock_wait_still_owned(&(struct lw_lock){ .kind = LW_LOCK_MUTEX,
			.owner_known = true, .owner_tid = holder_tid, .addr = (uintptr_t)&m },
			r.pid, r.tid, &ops));
}

static void test_owner_not_a_thread_of_the_process(void **state)
{
	const char *funcs[] = { "___pthread_mutex_lock" };
	static struct lw_stack_text s;
	struct lw_lock_stats st = { 0 };
	struct lw_task_rec r;
	struct lw_lock l;
	struct lw_wait w;
	pthread_t t;

	(void)state;
	stack_of(&s, funcs, 1);
	t = hold_it(&m);
	holder_tid++; /* the tid the mutex names is no thread of the process now */
	futex_rec(&r, &w, &m, 128, 2);
	lock_wait_decode(&r, &w, &s, &ops, &l, &st);
	assert_false(l.owner_known);
	assert_int_equal(st.invalid, 1);
	holder_tid--;
	let_go(t);
}

static void test_condition_variable_has_no_owner(void **state)
{
	const char *funcs[] = { "__futex_abstimed_wait_common", "___pthread_cond_wait", "get" };
	static struct lw_stack_text s;
	struct lw_lock_stats st = { 0 };
	struct lw_task_rec r;
	struct lw_lock l;
	struct lw_wait w;
	static int word[16];

	(void)state;
	stack_of(&s, funcs, 3);
	futex_rec(&r, &w, word, 393, 0);
	lock_wait_decode(&r, &w, &s, &ops, &l, &st);
	assert_int_equal(l.kind, LW_LOCK_OWNERLESS);
	assert_string_equal(l.what, "condition variable");
	assert_false(l.owner_known);
	assert_int_equal(st.owners_found + st.invalid + st.unreadable, 0);
}

static void test_pi_edeadlk_mutex_found_from_registers(void **state)
{
	/* glibc after EDEADLK: FUTEX_WAIT_BITSET on a 0 of its own stack,
	 * the mutex's __kind still in r14. */
	const char *funcs[] = { "__futex_abstimed_wait_common", "__GI___futex_abstimed_wait64",
				"__pthread_mutex_lock_full", "___pthread_mutex_lock", "take" };
	static struct lw_stack_text s;
	struct lw_lock_stats st = { 0 };
	pthread_mutexattr_t a;
	/* room after it: candidates are read 40 bytes at a time */
	static struct {
		pthread_mutex_t pi;
		char room[64];
	} mem;
	pthread_mutex_t *pi = &mem.pi;
	struct lw_task_rec r;
	/* glibc's local 0, with room around it for the reads of 40 bytes */
	static unsigned int local[32];
	unsigned int *zero = &local[8];
	struct lw_lock l;
	struct lw_wait w;
	pthread_t t;

	(void)state;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_INHERIT);
	pthread_mutex_init(pi, &a);
	stack_of(&s, funcs, 5);
	t = hold_it(pi);
	futex_rec(&r, &w, zero, 393, 0);
	r.regs[LW_REG_BX] = (uintptr_t)zero;
	r.regs[LW_REG_R14] = (uintptr_t)&pi->__data.__kind;
	lock_wait_decode(&r, &w, &s, &ops, &l, &st);
	assert_true(l.owner_known);
	assert_true(l.kernel_deadlock);
	assert_int_equal(l.owner_tid, holder_tid);
	assert_int_equal(l.addr, (uintptr_t)pi);
	/* No register points at it: unknown, not guessed. */
	r.regs[LW_REG_R14] = 0;
	lock_wait_decode(&r, &w, &s, &ops, &l, &st);
	assert_false(l.owner_known);
	let_go(t);
	pthread_mutex_destroy(pi);
}

static void test_not_a_futex_wait(void **state)
{
	const char *funcs[] = { "read", "refresh_cache" };
	static struct lw_stack_text s;
	struct lw_lock_stats st = { 0 };
	struct lw_task_rec r;
	struct lw_lock l;
	struct lw_wait w;

	(void)state;
	stack_of(&s, funcs, 2);
	futex_rec(&r, &w, &m, 0, 0);
	r.syscall_nr = 0;
	w.has_futex = false;
	lock_wait_decode(&r, &w, &s, &ops, &l, &st);
	assert_int_equal(l.kind, LW_LOCK_NOT_A_LOCK);
}

/* The lock handed on after the waiter turned stuck: the owner is read
 * again, and the one named is the one holding it now. */
static void test_owner_refreshed_when_handed_on(void **state)
{
	const char *funcs[] = { "__GI___lll_lock_wait", "___pthread_mutex_lock", "lookup" };
	static struct lw_stack_text s;
	struct lw_lock_stats st = { 0 };
	struct lw_task_rec r;
	struct lw_lock l;
	struct lw_wait w;
	uint32_t first;
	pthread_t t;

	(void)state;
	stack_of(&s, funcs, 3);
	t = hold_it(&m);
	first = holder_tid;
	futex_rec(&r, &w, &m, 128 /* FUTEX_WAIT_PRIVATE */, 2);
	lock_wait_decode(&r, &w, &s, &ops, &l, &st);
	assert_int_equal(l.owner_tid, first);
	assert_false(lock_wait_refresh(&l, r.pid, r.tid, &ops)); /* still first's */
	let_go(t);
	t = hold_it(&m);
	assert_int_not_equal(holder_tid, first);
	assert_true(lock_wait_refresh(&l, r.pid, r.tid, &ops));
	assert_true(l.owner_known);
	assert_int_equal(l.owner_tid, holder_tid);
	let_go(t);
	/* Free now: no owner is named. */
	assert_true(lock_wait_refresh(&l, r.pid, r.tid, &ops));
	assert_false(l.owner_known);
	assert_int_equal(l.owner_tid, 0);
}

/* The target in a pid namespace of its own: the mutex holds the owner's tid
 * as the owner sees it; owner_tid is the tid as leakwatch sees it, and the
 * second read compares the lock with the tid it holds. */
#define HOST_OFFSET 100000u
static uint32_t ns_host_tid(void *ctx, uint32_t pid, uint32_t ns_tid)
{
	(void)ctx, (void)pid;
	return ns_tid == holder_tid ? ns_tid + HOST_OFFSET : 0;
}

static bool ns_thread_of(void *ctx, uint32_t pid, uint32_t tid)
{
	(void)ctx, (void)pid;
	return tid == holder_tid + HOST_OFFSET;
}

static void test_owner_in_another_pid_namespace(void **state)
{
	const char *funcs[] = { "__GI___lll_lock_wait", "___pthread_mutex_lock", "lookup" };
	const struct lw_lock_ops ns_ops = { .read = fake_read, .is_thread_of = ns_thread_of,
					    .host_tid = ns_host_tid };
	const struct lw_lock_ops none = { .read = fake_read, .is_thread_of = fake_thread_of,
					  .host_tid = ns_host_tid };
	static struct lw_stack_text s;
	struct lw_lock_stats st = { 0 };
	struct lw_task_rec r;
	struct lw_lock l;
	struct lw_wait w;
	pthread_t t;

	(void)state;
	stack_of(&s, funcs, 3);
	t = hold_it(&m);
	futex_rec(&r, &w, &m, 128 /* FUTEX_WAIT_PRIVATE */, 2);
	lock_wait_decode(&r, &w, &s, &ns_ops, &l, &st);
	assert_true(l.owner_known);
	assert_int_equal(l.owner_tid, holder_tid + HOST_OFFSET);
	assert_int_equal(l.owner_word, holder_tid);
	assert_true(lock_wait_still_owned(&l, r.pid, r.tid, &ns_ops));
	/* The namespace's tid names no thread of the process: not taken as
	 * it is, even when a thread of that tid exists. */
	holder_tid += 1;
	lock_wait_decode(&r, &w, &s, &none, &l, &st);
	assert_false(l.owner_known);
	assert_int_equal(st.invalid, 1);
	holder_tid -= 1;
	let_go(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mutex_owner_found),
		cmocka_unit_test(test_owner_not_a_thread_of_the_process),
		cmocka_unit_test(test_owner_in_another_pid_namespace),
		cmocka_unit_test(test_owner_refreshed_when_handed_on),
		cmocka_unit_test(test_condition_variable_has_no_owner),
		cmocka_unit_test(test_pi_edeadlk_mutex_found_from_registers),
		cmocka_unit_test(test_not_a_futex_wait),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: GPL-2.0
/* wait_decode and wait_syscall_name (user/wait_kind.c), x86-64 numbers. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "wait_kind.h"

#define NR_READ 0
#define NR_POLL 7
#define NR_SELECT 23
#define NR_NANOSLEEP 35
#define NR_GETPID 39
#define NR_ACCEPT 43
#define NR_RECVFROM 45
#define NR_WAIT4 61
#define NR_FUTEX 202
#define NR_RESTART_SYSCALL 219
#define NR_CLOCK_NANOSLEEP 230
#define NR_EPOLL_WAIT 232
#define NR_PSELECT6 270
#define NR_PPOLL 271
#define NR_EPOLL_PWAIT 281
#define NR_ACCEPT4 288
#define NR_EPOLL_PWAIT2 441
#define NR_FUTEX_WAITV 449
#define NR_FUTEX_WAIT 455

#define UADDR 0x7f1234567890ULL

static const struct lw_restart_fns fns = {
	.futex_wait_restart = 0xffffffff81100010ULL,
	.hrtimer_nanosleep_restart = 0xffffffff81200020ULL,
	.do_restart_poll = 0xffffffff81300030ULL,
};

static struct lw_task_rec rec(long nr, uint64_t a0, uint64_t a1, uint64_t a2)
{
	struct lw_task_rec r = {
		.type = LW_REC_TASK,
		.pid = 1000,
		.tid = 1001,
		.flags = LW_TF_BLOCKED | LW_TF_IN_SYSCALL,
		.syscall_nr = nr,
		.args = { a0, a1, a2 },
	};

	return r;
}

/* Decodes into a struct full of garbage: every field must be set. */
static struct lw_wait decode(const struct lw_task_rec *r)
{
	struct lw_wait w;

	memset(&w, 0xa5, sizeof(w));
	wait_decode(r, &fns, NULL, &w);
	return w;
}

static void assert_kind(long nr, const char *kind, const char *syscall)
{
	struct lw_task_rec r = rec(nr, 3, 0, 0);
	struct lw_wait w = decode(&r);

	if (strcmp(w.kind, kind) || strcmp(w.syscall, syscall))
		print_error("nr %ld: kind %s syscall %s\n", nr, w.kind, w.syscall);
	assert_string_equal(w.kind, kind);
	assert_string_equal(w.syscall, syscall);
	assert_false(w.has_futex);
	assert_int_equal(w.futex_addr, 0);
	assert_string_equal(w.futex_op, "");
}

static void assert_futex_op(uint64_t op, const char *name)
{
	struct lw_task_rec r = rec(NR_FUTEX, UADDR, op, 0);
	struct lw_wait w = decode(&r);

	assert_string_equal(w.kind, "futex");
	assert_string_equal(w.syscall, "futex");
	assert_true(w.has_futex);
	assert_int_equal(w.futex_addr, UADDR);
	assert_string_equal(w.futex_op, name);
}

static void test_futex_wait_private(void **state)
{
	assert_futex_op(128, "FUTEX_WAIT_PRIVATE");
}

static void test_futex_wait_shared(void **state)
{
	assert_futex_op(0, "FUTEX_WAIT");
}

static void test_futex_wait_bitset_private(void **state)
{
	assert_futex_op(137, "FUTEX_WAIT_BITSET_PRIVATE");
	/* FUTEX_CLOCK_REALTIME (256) is not part of the name. */
	assert_futex_op(128 | 256 | 9, "FUTEX_WAIT_BITSET_PRIVATE");
	assert_futex_op(256 | 9, "FUTEX_WAIT_BITSET");
}

static void test_futex_pi_ops(void **state)
{
	assert_futex_op(6, "FUTEX_LOCK_PI");
	assert_futex_op(128 | 6, "FUTEX_LOCK_PI_PRIVATE");
	assert_futex_op(13, "FUTEX_LOCK_PI2");
	assert_futex_op(11, "FUTEX_WAIT_REQUEUE_PI");
	assert_futex_op(128 | 11, "FUTEX_WAIT_REQUEUE_PI_PRIVATE");
}

static void test_futex_unknown_command_shown_as_hex(void **state)
{
	assert_futex_op(14, "0xe");
	assert_futex_op(128 | 14, "0x8e");
	assert_futex_op(0xffffffffULL, "0xffffffff");
}

/* The op is an int: the upper half of the 64-bit register is not part of it. */
static void test_futex_op_upper_bits_ignored(void **state)
{
	assert_futex_op(0xdeadbeef00000080ULL, "FUTEX_WAIT_PRIVATE");
}

static uint32_t waiter_calls, waiter_pid;
static uint64_t waiter_ptr;

static int fake_read_first_waiter(uint32_t pid, uint64_t waiters, uint64_t *uaddr)
{
	waiter_calls++;
	waiter_pid = pid;
	waiter_ptr = waiters;
	*uaddr = 0x5555aaaa0000ULL;
	return 0;
}

static int failing_read_first_waiter(uint32_t pid, uint64_t waiters, uint64_t *uaddr)
{
	waiter_calls++;
	return -EFAULT;
}

static void test_futex_waitv_reads_first_waiter(void **state)
{
	struct lw_task_rec r = rec(NR_FUTEX_WAITV, 0x7ffc00001000ULL, 2, 0);
	struct lw_wait w;

	waiter_calls = 0;
	wait_decode(&r, &fns, fake_read_first_waiter, &w);
	assert_int_equal(waiter_calls, 1);
	/* Read through the waiting thread: a zombie leader has no memory. */
	assert_int_equal(waiter_pid, 1001);
	assert_int_equal(waiter_ptr, 0x7ffc00001000ULL);
	assert_string_equal(w.kind, "futex");
	assert_string_equal(w.syscall, "futex_waitv");
	assert_true(w.has_futex);
	assert_int_equal(w.futex_addr, 0x5555aaaa0000ULL);
	assert_string_equal(w.futex_op, "futex_waitv(2)");
}

static void test_futex_waitv_read_failure_has_no_address(void **state)
{
	struct lw_task_rec r = rec(NR_FUTEX_WAITV, 0x7ffc00001000ULL, 3, 0);
	struct lw_wait w;

	waiter_calls = 0;
	memset(&w, 0xa5, sizeof(w));
	wait_decode(&r, &fns, failing_read_first_waiter, &w);
	assert_int_equal(waiter_calls, 1);
	assert_string_equal(w.kind, "futex");
	assert_false(w.has_futex);
	assert_int_equal(w.futex_addr, 0);
	assert_string_equal(w.futex_op, "futex_waitv(3)");
}

static void test_futex_waitv_without_reader_or_pointer(void **state)
{
	struct lw_task_rec r = rec(NR_FUTEX_WAITV, 0x7ffc00001000ULL, 1, 0);
	struct lw_wait w;

	w = decode(&r); /* NULL reader */
	assert_string_equal(w.kind, "futex");
	assert_false(w.has_futex);

	/* A NULL waiters pointer is not read. */
	r.args[0] = 0;
	waiter_calls = 0;
	wait_decode(&r, &fns, fake_read_first_waiter, &w);
	assert_int_equal(waiter_calls, 0);
	assert_false(w.has_futex);
}

static void test_futex_wait_syscall(void **state)
{
	struct lw_task_rec r = rec(NR_FUTEX_WAIT, UADDR, 1, 0x82);
	struct lw_wait w = decode(&r);

	assert_string_equal(w.kind, "futex");
	assert_string_equal(w.syscall, "futex_wait");
	assert_true(w.has_futex);
	assert_int_equal(w.futex_addr, UADDR);
	assert_string_equal(w.futex_op, "futex_wait");
}

static void test_read(void **state)
{
	assert_kind(NR_READ, "read", "read");
}

static void test_recv(void **state)
{
	assert_kind(NR_RECVFROM, "recv", "recvfrom");
}

static void test_epoll(void **state)
{
	assert_kind(NR_EPOLL_WAIT, "epoll_wait", "epoll_wait");
	assert_kind(NR_EPOLL_PWAIT, "epoll_wait", "epoll_pwait");
	assert_kind(NR_EPOLL_PWAIT2, "epoll_wait", "epoll_pwait2");
}

static void test_nanosleep(void **state)
{
	assert_kind(NR_NANOSLEEP, "nanosleep", "nanosleep");
	assert_kind(NR_CLOCK_NANOSLEEP, "nanosleep", "clock_nanosleep");
}

static void test_poll_family(void **state)
{
	assert_kind(NR_POLL, "poll", "poll");
	assert_kind(NR_PPOLL, "poll", "ppoll");
	assert_kind(NR_SELECT, "poll", "select");
	assert_kind(NR_PSELECT6, "poll", "pselect6");
}

static void test_accept(void **state)
{
	assert_kind(NR_ACCEPT, "accept", "accept");
	assert_kind(NR_ACCEPT4, "accept", "accept4");
}

static void test_wait4(void **state)
{
	assert_kind(NR_WAIT4, "wait", "wait4");
}

/* A syscall outside the table of waits: its own name is the kind. */
static void test_known_syscall_without_kind_uses_its_name(void **state)
{
	assert_kind(NR_GETPID, "getpid", "getpid");
}

static void test_unknown_syscall_number(void **state)
{
	assert_kind(1000, "syscall", "syscall_1000");
	assert_kind(400, "syscall", "syscall_400"); /* a hole in the x86-64 table */
}

static void test_not_in_syscall_is_kernel(void **state)
{
	struct lw_task_rec r = rec(NR_FUTEX, UADDR, 128, 0);
	struct lw_wait w;

	r.flags = LW_TF_BLOCKED; /* e.g. a page fault, or a kernel thread */
	w = decode(&r);
	assert_string_equal(w.kind, "kernel");
	assert_string_equal(w.syscall, "");
	assert_false(w.has_futex);
	assert_string_equal(w.futex_op, "");
}

static void test_negative_syscall_nr_is_kernel(void **state)
{
	struct lw_task_rec r = rec(-1, 0, 0, 0);
	struct lw_wait w = decode(&r);

	assert_string_equal(w.kind, "kernel");
	assert_string_equal(w.syscall, "");
}

static struct lw_task_rec restart_rec(uint64_t fn)
{
	struct lw_task_rec r = rec(NR_RESTART_SYSCALL, 0, 0, 0);

	r.flags |= LW_TF_RESTART;
	r.restart_fn = fn;
	r.restart_uaddr = UADDR + 4;
	return r;
}

static void test_restart_futex(void **state)
{
	struct lw_task_rec r = restart_rec(fns.futex_wait_restart);
	struct lw_wait w = decode(&r);

	assert_string_equal(w.kind, "futex");
	assert_string_equal(w.syscall, "futex");
	assert_true(w.has_futex);
	assert_int_equal(w.futex_addr, UADDR + 4);
	assert_string_equal(w.futex_op, "FUTEX_WAIT (restarted)");
}

static void test_restart_nanosleep(void **state)
{
	struct lw_task_rec r = restart_rec(fns.hrtimer_nanosleep_restart);
	struct lw_wait w = decode(&r);

	assert_string_equal(w.kind, "nanosleep");
	assert_string_equal(w.syscall, "nanosleep");
	assert_false(w.has_futex);
	assert_string_equal(w.futex_op, "");
}

static void test_restart_poll(void **state)
{
	struct lw_task_rec r = restart_rec(fns.do_restart_poll);
	struct lw_wait w = decode(&r);

	assert_string_equal(w.kind, "poll");
	assert_string_equal(w.syscall, "poll");
	assert_false(w.has_futex);
}

static void test_restart_unknown_fn(void **state)
{
	struct lw_task_rec r = restart_rec(0xffffffff81999990ULL);
	struct lw_wait w = decode(&r);

	assert_string_equal(w.syscall, "restart_syscall");
	assert_string_equal(w.kind, "restart_syscall");
	assert_false(w.has_futex);
}

static void test_restart_without_flag_not_decoded(void **state)
{
	struct lw_task_rec r = restart_rec(fns.futex_wait_restart);
	struct lw_wait w;

	r.flags &= ~LW_TF_RESTART;
	w = decode(&r);
	assert_string_equal(w.syscall, "restart_syscall");
	assert_false(w.has_futex);
}

static void test_restart_without_fns(void **state)
{
	struct lw_task_rec r = restart_rec(fns.futex_wait_restart);
	struct lw_wait w;

	wait_decode(&r, NULL, NULL, &w);
	assert_string_equal(w.syscall, "restart_syscall");
	assert_false(w.has_futex);
}

/* No kallsyms: all three addresses 0 must not match a record's 0 either. */
static void test_restart_zero_fn_with_unresolved_fns(void **state)
{
	static const struct lw_restart_fns none = { 0 };
	struct lw_task_rec r = restart_rec(0);
	struct lw_wait w;

	wait_decode(&r, &none, NULL, &w);
	assert_string_equal(w.syscall, "restart_syscall");
	assert_string_equal(w.kind, "restart_syscall");
	assert_false(w.has_futex);
}

static void test_syscall_names(void **state)
{
	assert_string_equal(wait_syscall_name(0), "read");
	assert_string_equal(wait_syscall_name(202), "futex");
	assert_string_equal(wait_syscall_name(449), "futex_waitv");
	assert_string_equal(wait_syscall_name(454), "futex_wake");
	assert_string_equal(wait_syscall_name(455), "futex_wait");
	assert_string_equal(wait_syscall_name(462), "mseal");
	assert_null(wait_syscall_name(-1));
	assert_null(wait_syscall_name(400));
	assert_null(wait_syscall_name(100000));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_futex_wait_private),
		cmocka_unit_test(test_futex_wait_shared),
		cmocka_unit_test(test_futex_wait_bitset_private),
		cmocka_unit_test(test_futex_pi_ops),
		cmocka_unit_test(test_futex_unknown_command_shown_as_hex),
		cmocka_unit_test(test_futex_op_upper_bits_ignored),
		cmocka_unit_test(test_futex_waitv_reads_first_waiter),
		cmocka_unit_test(test_futex_waitv_read_failure_has_no_address),
		cmocka_unit_test(test_futex_waitv_without_reader_or_pointer),
		cmocka_unit_test(test_futex_wait_syscall),
		cmocka_unit_test(test_read),
		cmocka_unit_test(test_recv),
		cmocka_unit_test(test_epoll),
		cmocka_unit_test(test_nanosleep),
		cmocka_unit_test(test_poll_family),
		cmocka_unit_test(test_accept),
		cmocka_unit_test(test_wait4),
		cmocka_unit_test(test_known_syscall_without_kind_uses_its_name),
		cmocka_unit_test(test_unknown_syscall_number),
		cmocka_unit_test(test_not_in_syscall_is_kernel),
		cmocka_unit_test(test_negative_syscall_nr_is_kernel),
		cmocka_unit_test(test_restart_futex),
		cmocka_unit_test(test_restart_nanosleep),
		cmocka_unit_test(test_restart_poll),
		cmocka_unit_test(test_restart_unknown_fn),
		cmocka_unit_test(test_restart_without_flag_not_decoded),
		cmocka_unit_test(test_restart_without_fns),
		cmocka_unit_test(test_restart_zero_fn_with_unresolved_fns),
		cmocka_unit_test(test_syscall_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * stuck: many threads blocked forever at a few distinct wait sites, for
 * bench/symbolize.sh (the cost of unwinding and symbolizing their stacks).
 *
 *   stuck [--threads N] [--sites K] [--start-after MS] [--exit-after S]
 *
 * Starts N threads (default 10000), thread i at site i % K (K default 8, at
 * most 8), each with a 64 KiB stack.  A site is a noinline worker function
 * whose wait goes through two static functions that the compiler inlines
 * (always_inline): built -O2 -g without frame pointers, as distributions
 * build, a readable stack needs the CFI to unwind and the DWARF inline chain
 * and line table to name the inlined frames, as it would for a real program:
 *
 *   site 0  order_worker  -> take_order (inl)   -> chan_recv (inl)   cond wait  (futex)
 *   site 1  invoice_worker-> take_invoice (inl) -> chan_recv (inl)   cond wait  (futex)
 *   site 2  account_worker-> open_account (inl) -> lock_wait (inl)   mutex main holds (futex)
 *   site 3  ledger_worker -> post_ledger (inl)  -> lock_wait (inl)   mutex main holds (futex)
 *   site 4  report_worker -> fetch_report (inl) -> read_reply (inl)  read of a pipe nobody writes
 *   site 5  export_worker -> fetch_export (inl) -> read_reply (inl)  read of another one
 *   site 6  retry_worker  -> retry_later (inl)  -> backoff (inl)     nanosleep, an hour at a time
 *   site 7  poll_worker   -> poll_peers (inl)   -> wait_event (inl)  poll on a pipe nobody writes
 *
 * --start-after MS  start no thread before MS ms have passed or SIGUSR1
 *                   arrives, whichever comes first (default 0)
 * --exit-after S    exit(0) after S seconds (default: run until killed)
 *
 * Output on stdout, one line each, flushed at once:
 *   pid PID                    first
 *   ready THREADS N SITES K    once every thread was started (each blocks
 *                              right away; SITES K: how many distinct sites)
 *
 * Main is named "stuck" and sleeps at most 100 ms at a time, so it is never
 * stuck itself; the threads are named "stuck-SITE".  SIGUSR1 is blocked in
 * every thread (main takes it with sigtimedwait); SIGTERM and SIGINT keep
 * their default action.
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "../tests/fixtures/fixture.h"

#define NOINLINE __attribute__((noinline, noclone))
#define INLINE static inline __attribute__((always_inline))
/* After a call: the call is not the function's last act, so no tail call. */
#define BARRIER() asm volatile("" ::: "memory")

#define MAX_SITES 8
#define STACK_SIZE (64 * 1024)

struct chan {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool ready; /* never set */
};

static struct chan orders = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false };
static struct chan invoices = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false };
static pthread_mutex_t accounts = PTHREAD_MUTEX_INITIALIZER; /* main holds it */
static pthread_mutex_t ledger = PTHREAD_MUTEX_INITIALIZER;   /* main holds it */
static int reports[2], exports[2], peers[2];                 /* nobody writes */
static volatile long served;                                 /* never grows */

/* ------------------------------------------- the waits (inlined) -- */

INLINE void chan_recv(struct chan *c)
{
	pthread_mutex_lock(&c->lock);
	while (!c->ready)
		pthread_cond_wait(&c->cond, &c->lock);
	pthread_mutex_unlock(&c->lock);
}

INLINE void lock_wait(pthread_mutex_t *m)
{
	pthread_mutex_lock(m);
	pthread_mutex_unlock(m);
}

INLINE long read_reply(int fd)
{
	ssize_t n;
	char c;

	while ((n = read(fd, &c, 1)) < 0 && errno == EINTR)
		;
	return n;
}

INLINE void backoff(void)
{
	for (;;) {
		struct timespec ts = { .tv_sec = 3600 };

		nanosleep(&ts, NULL);
	}
}

INLINE int wait_event(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, -1);
}

/* ---------------------------------------- the handlers (inlined) -- */

INLINE void take_order(void)
{
	chan_recv(&orders);
	served++;
}

INLINE void take_invoice(void)
{
	chan_recv(&invoices);
	served++;
}

INLINE void open_account(void)
{
	lock_wait(&accounts);
	served++;
}

INLINE void post_ledger(void)
{
	lock_wait(&ledger);
	served++;
}

INLINE void fetch_report(void)
{
	served += read_reply(reports[0]);
}

INLINE void fetch_export(void)
{
	served += read_reply(exports[0]);
}

INLINE void retry_later(void)
{
	backoff();
}

INLINE void poll_peers(void)
{
	served += wait_event(peers[0]);
}

/* ------------------------------------------ the sites (real frames) -- */

NOINLINE static void order_worker(void)
{
	take_order();
	BARRIER();
}

NOINLINE static void invoice_worker(void)
{
	take_invoice();
	BARRIER();
}

NOINLINE static void account_worker(void)
{
	open_account();
	BARRIER();
}

NOINLINE static void ledger_worker(void)
{
	post_ledger();
	BARRIER();
}

NOINLINE static void report_worker(void)
{
	fetch_report();
	BARRIER();
}

NOINLINE static void export_worker(void)
{
	fetch_export();
	BARRIER();
}

NOINLINE static void retry_worker(void)
{
	retry_later();
	BARRIER();
}

NOINLINE static void poll_worker(void)
{
	poll_peers();
	BARRIER();
}

static void (*const workers[MAX_SITES])(void) = {
	order_worker,  invoice_worker, account_worker, ledger_worker,
	report_worker, export_worker,  retry_worker,   poll_worker,
};

static long n_threads = 10000, n_sites = MAX_SITES, start_after_ms = 0, exit_after_s = -1;

static void *thread_main(void *arg)
{
	long site = (long)arg;
	char name[16];

	snprintf(name, sizeof(name), "stuck-%ld", site);
	pthread_setname_np(pthread_self(), name);
	workers[site]();
	BARRIER();
	return NULL;
}

static void usage(void)
{
	fprintf(stderr, "usage: stuck [--threads N] [--sites K (1-%d)] [--start-after MS] "
			"[--exit-after S]\n", MAX_SITES);
	exit(2);
}

int main(int argc, char **argv)
{
	pthread_attr_t attr;
	sigset_t blocked;
	pthread_t t;
	long n;
	int i, err;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--threads"))
			n_threads = num_arg(argc, argv, &i);
		else if (!strcmp(argv[i], "--sites"))
			n_sites = num_arg(argc, argv, &i);
		else if (!strcmp(argv[i], "--start-after"))
			start_after_ms = num_arg(argc, argv, &i);
		else if (!strcmp(argv[i], "--exit-after"))
			exit_after_s = num_arg(argc, argv, &i);
		else
			usage();
	}
	if (n_sites < 1 || n_sites > MAX_SITES)
		usage();

	double start = now();
	if (exit_after_s >= 0)
		exit_at = start + exit_after_s;
	setvbuf(stdout, NULL, _IOLBF, 0);
	pthread_setname_np(pthread_self(), "stuck");
	/* The threads inherit the mask: no stray SIGUSR1 ever wakes one. */
	sigemptyset(&blocked);
	sigaddset(&blocked, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &blocked, NULL);
	if (pipe(reports) || pipe(exports) || pipe(peers))
		die("pipe", errno);
	pthread_mutex_lock(&accounts);
	pthread_mutex_lock(&ledger);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, STACK_SIZE);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);

	printf("pid %d\n", getpid());
	sleep_until(start + start_after_ms / 1000.0, true);
	for (n = 0; n < n_threads; n++) {
		if (n % 1000 == 0)
			check_exit();
		err = pthread_create(&t, &attr, thread_main, (void *)(n % n_sites));
		if (err)
			die("pthread_create", err);
	}
	printf("ready THREADS %ld SITES %ld\n", n_threads, n_threads < n_sites ? n_threads : n_sites);
	sleep_until(-1, false); /* until --exit-after or a signal */
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * storm: a fork/exit storm for bench/storm.sh.
 *
 *   storm [--procs P] [--threads T] [--batch B] [--linger MS]
 *
 * Forks P child processes at once; each creates T threads that return at
 * once, B at a time (create B, join B, repeat), then exits.  The parent waits
 * for every child, prints what it did, and stays alive for MS ms (sleeping in
 * one nanosleep) so that a watcher can compare its thread count with /proc.
 *
 * So a run makes exactly P + P*T tasks, and P + P*T exits of them: a tracer
 * that sends one record per task created and one per task exited must see
 * 2 * (P + P*T) records for the storm (plus 1 for the parent's own exit).
 *
 * Output on stdout, one line each, flushed at once:
 *   pid PID                       first
 *   child PID                     for each child process
 *   done procs P threads N ms X   N threads created in all, X ms for the storm
 *   threads_now N                 the parent's "Threads:" from /proc/self/status
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void *nothing(void *arg)
{
	return arg;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static long num(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || *end || errno || v < 0) {
		fprintf(stderr, "storm: bad number '%s'\n", s);
		exit(2);
	}
	return v;
}

/* A child: T threads, B at a time.  Exit status 0 when all were made. */
static int child(long threads, long batch)
{
	pthread_t *t = calloc(batch, sizeof(*t));
	pthread_attr_t attr;
	long made = 0, i, n;
	int err;

	if (!t)
		return 1;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	while (made < threads) {
		n = threads - made < batch ? threads - made : batch;
		for (i = 0; i < n; i++) {
			err = pthread_create(&t[i], &attr, nothing, NULL);
			if (err) {
				fprintf(stderr, "storm: pthread_create: %s\n", strerror(err));
				return 1;
			}
		}
		for (i = 0; i < n; i++)
			pthread_join(t[i], NULL);
		made += n;
	}
	return 0;
}

static long threads_now(void)
{
	char line[256];
	long n = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Threads: %ld", &n) == 1)
			break;
	fclose(f);
	return n;
}

int main(int argc, char **argv)
{
	long procs = 4, threads = 5000, batch = 50, linger_ms = 3000, i, failed = 0;
	struct timespec ts;
	double t0;
	pid_t pid;
	int status;

	for (i = 1; i < argc; i++) {
		if (i + 1 >= argc) {
			fprintf(stderr, "usage: storm [--procs P] [--threads T] [--batch B] "
					"[--linger MS]\n");
			return 2;
		}
		if (!strcmp(argv[i], "--procs"))
			procs = num(argv[++i]);
		else if (!strcmp(argv[i], "--threads"))
			threads = num(argv[++i]);
		else if (!strcmp(argv[i], "--batch"))
			batch = num(argv[++i]) ?: 1;
		else if (!strcmp(argv[i], "--linger"))
			linger_ms = num(argv[++i]);
		else {
			fprintf(stderr, "storm: unknown option '%s'\n", argv[i]);
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("pid %d\n", getpid());
	t0 = now_ms();
	for (i = 0; i < procs; i++) {
		pid = fork();
		if (pid < 0) {
			perror("storm: fork");
			return 1;
		}
		if (pid == 0)
			_exit(child(threads, batch));
		printf("child %d\n", pid);
	}
	while ((pid = wait(&status)) > 0 || errno == EINTR)
		if (pid > 0 && (!WIFEXITED(status) || WEXITSTATUS(status)))
			failed++;
	printf("done procs %ld threads %ld ms %.0f\n", procs, procs * threads, now_ms() - t0);
	printf("threads_now %ld\n", threads_now());
	ts.tv_sec = linger_ms / 1000;
	ts.tv_nsec = linger_ms % 1000 * 1000000;
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
	return failed ? 1 : 0;
}

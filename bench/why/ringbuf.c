// SPDX-License-Identifier: GPL-2.0
/* Loads ringbuf.bpf.c; drains rb1 by polling every 5 ms, rb2 as leakwatch
 * does (epoll, woken when a quarter is full); stops on SIGINT/SIGTERM. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "ringbuf.skel.h"

static volatile sig_atomic_t stop;
static long n1, n2;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int count1(void *ctx, void *data, size_t size)
{
	n1++;
	return 0;
}

static int count2(void *ctx, void *data, size_t size)
{
	n2++;
	return 0;
}

static void *poller(void *arg)
{
	while (!stop)
		ring_buffer__poll(arg, 1000);
	return NULL;
}

int main(void)
{
	struct ringbuf_bpf *skel = ringbuf_bpf__open_and_load();
	struct ring_buffer *m1, *m2;
	pthread_t th;

	if (!skel || ringbuf_bpf__attach(skel)) {
		fprintf(stderr, "ringbuf: cannot load or attach\n");
		return 1;
	}
	m1 = ring_buffer__new(bpf_map__fd(skel->maps.rb1), count1, NULL, NULL);
	m2 = ring_buffer__new(bpf_map__fd(skel->maps.rb2), count2, NULL, NULL);
	if (!m1 || !m2)
		return 1;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	pthread_create(&th, NULL, poller, m2);
	printf("ringbuf attached\n");
	fflush(stdout);
	while (!stop) {
		ring_buffer__consume(m1);
		usleep(5000);
	}
	pthread_join(th, NULL);
	ring_buffer__consume(m1);
	ring_buffer__consume(m2);
	printf("records: rb1 %ld, rb2 %ld; reserve failures %llu, %llu\n", n1, n2,
	       (unsigned long long)skel->bss->fails1, (unsigned long long)skel->bss->fails2);
	ring_buffer__free(m1);
	ring_buffer__free(m2);
	ringbuf_bpf__destroy(skel);
	return 0;
}

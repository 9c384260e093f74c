// SPDX-License-Identifier: GPL-2.0
/*
 * iter OBJ PROG [READS]: loads only the iter/task program PROG of the BPF
 * object OBJ (rodata left at its defaults), reads it READS times and prints,
 * per read, the wall time, the bytes, and ns per run from bpf_stats
 * (kernel.bpf_stats_enabled=1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void stats(int fd, unsigned long long *ns, unsigned long long *cnt)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	bpf_obj_get_info_by_fd(fd, &info, &len);
	*ns = info.run_time_ns;
	*cnt = info.run_cnt;
}

int main(int argc, char **argv)
{
	static char buf[1 << 20];
	struct bpf_program *p, *want = NULL;
	struct bpf_object *obj;
	struct bpf_link *link;
	int reads, i;

	if (argc < 3) {
		fprintf(stderr, "usage: iter OBJ PROG [READS]\n");
		return 2;
	}
	reads = argc > 3 ? atoi(argv[3]) : 5;
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj)
		return 1;
	bpf_object__for_each_program(p, obj) {
		bool it = !strcmp(bpf_program__name(p), argv[2]);

		bpf_program__set_autoload(p, it);
		if (it)
			want = p;
	}
	if (!want || bpf_object__load(obj)) {
		fprintf(stderr, "iter: cannot load %s from %s\n", argv[2], argv[1]);
		return 1;
	}
	link = bpf_program__attach_iter(want, NULL);
	if (!link)
		return 1;
	for (i = 0; i < reads; i++) {
		unsigned long long ns0, c0, ns1, c1;
		long total = 0, n;
		double t0, t1;
		int fd;

		stats(bpf_program__fd(want), &ns0, &c0);
		t0 = now_ms();
		fd = bpf_iter_create(bpf_link__fd(link));
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			total += n;
		close(fd);
		t1 = now_ms();
		stats(bpf_program__fd(want), &ns1, &c1);
		printf("%-10s read %d: %6.2f ms, %8ld bytes, %6llu runs, %5.0f ns/run\n", argv[2], i,
		       t1 - t0, total, c1 - c0, c1 > c0 ? (double)(ns1 - ns0) / (c1 - c0) : 0.0);
		usleep(200000);
	}
	bpf_link__destroy(link);
	bpf_object__close(obj);
	return 0;
}

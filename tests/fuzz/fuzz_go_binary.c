// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer: a whole executable (seeds: the test binaries of every Go
 * version), opened as leakwatch opens a target's /proc/PID/exe, through a
 * memfd; then what a goroutine scan asks of it.
 */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>
#include "go_binary.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct go_binary *b = NULL;
	char path[64], why[256];
	int fd = memfd_create("fuzz_go_binary", MFD_CLOEXEC);

	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	go_binary_probe(path);
	if (go_binary_open(path, &b, why, sizeof(why)) == 0) {
		const struct go_pclntab *t = go_binary_pclntab(b);
		struct go_frame frames[16];
		uint32_t n;

		go_pclntab_frames(t, go_binary_goexit(b) + 1, frames, 16);
		go_pclntab_frames(t, go_binary_vars(b)->allglen, frames, 16);
		const char *const *reasons = go_binary_wait_reason_table(b, &n);
		for (uint32_t i = 0; reasons && i < n; i++)
			(void)__builtin_strlen(reasons[i]);
		go_binary_free(b);
	}
	close(fd);
	return 0;
}

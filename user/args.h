/* SPDX-License-Identifier: GPL-2.0 */
/* The command line: options into struct lw_config, nothing else. */
#ifndef LW_ARGS_H
#define LW_ARGS_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "leakwatch.h"

#define LW_MAX_CGROUPS 16 /* --cgroup given at most this many times */

struct lw_config {
	uint32_t pids[LW_MAX_TARGETS];
	int n_pids;
	uint64_t threshold_ns;
	uint64_t interval_ns;
	uint64_t duration_ns; /* 0: until SIGINT or SIGTERM */
	bool json;
	bool verbose;
	bool fail_on_leak;    /* exit 1 when a leak was flagged (always so with a command) */
	const char *metrics;  /* ADDR:PORT to serve Prometheus metrics on, or NULL */
	const char *timeline; /* file to write a Chrome trace to, or NULL */
	uint32_t timeline_goroutines; /* goroutine tracks in the timeline at most */
	bool dump;            /* one scan of each -p process, grouped by stack, then exit */
	bool no_goroutines;   /* thread level only: no Go process is read */
	/* --cgroup: watch only the processes under these cgroups (v2 paths
	 * as /proc/PID/cgroup shows them, or their directories) */
	const char *cgroups[LW_MAX_CGROUPS];
	int n_cgroups;
	const char *folded;   /* --folded FILE: stuck stacks, folded, at exit and SIGUSR1 */
	bool folded_weight_time; /* --folded-weight time: by blocked seconds, not count */
	char **command; /* after "--": run and watch it; NULL otherwise */
};

/* Exit codes (DESIGN.md section 3). */
enum lw_exit {
	LW_EXIT_OK = 0,
	LW_EXIT_LEAK = 1,
	LW_EXIT_USAGE = 2,
	LW_EXIT_CANNOT_RUN = 3,
};

#define LW_ARGS_DONE 1 /* --help or --version was printed: exit 0 */

/*
 * Fills cfg from argv.  Returns 0 to run, LW_ARGS_DONE after printing help or
 * version to out, or -EINVAL after writing one line that says what is wrong
 * to err.
 */
int args_parse(int argc, char **argv, struct lw_config *cfg, FILE *out, FILE *err);

#define LW_DEFAULT_TIMELINE_GOROUTINES 200
#define LW_MAX_TIMELINE_GOROUTINES 100000

/* The shortest interval accepted: a scan per millisecond would take a core. */
#define LW_MIN_INTERVAL_NS 10000000ULL

/* A user or group id in decimal (SUDO_UID, SUDO_GID): 0 and *id set, or
 * -EINVAL when s is NULL, not only digits, or beyond 4294967294 ((uid_t)-1
 * means "no change" to setuid). */
int args_parse_id(const char *s, uint32_t *id);

/* Drops repeated pids (after -p TIDs became their tgids), keeping the first
 * of each in order.  Returns the new count. */
int args_dedupe_pids(uint32_t *pids, int n);

#endif

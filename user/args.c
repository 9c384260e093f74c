// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "args.h"
#include "duration.h"

static const char usage[] =
	"Usage: leakwatch [OPTIONS]                      watch every process on the host\n"
	"       leakwatch [OPTIONS] -p PID [-p PID]...   watch these processes (all threads)\n"
	"       leakwatch [OPTIONS] -- COMMAND [ARG]...  run COMMAND, watch it and its children\n"
	"       leakwatch [OPTIONS] --cgroup PATH...     watch the processes under these cgroups\n"
	"\n"
	"Finds threads and goroutines blocked longer than a threshold, with where\n"
	"they wait, and counts threads and goroutines, blocked and stuck, per process\n"
	"every interval.\n"
	"\n"
	"  -p, --pid PID           watch this process; repeatable\n"
	"  -t, --threshold DUR     a thread blocked longer than DUR is stuck (default 10s)\n"
	"  -i, --interval DUR      sampling period for counts and scans (default 1s,\n"
	"                          at least 10ms)\n"
	"  -d, --duration DUR      stop after DUR (default: until SIGINT or SIGTERM)\n"
	"  -j, --json              JSON Lines on stdout instead of the text view\n"
	"      --dump              with -p: one scan, then every thread and goroutine of\n"
	"                          each process grouped by stack and wait, and exit\n"
	"      --no-goroutines     thread level only: do not read Go processes' goroutines\n"
	"      --cgroup PATH       watch only the processes under this cgroup v2 (and its\n"
	"                          descendants), filtered in the kernel; PATH as\n"
	"                          /proc/PID/cgroup shows it (/system.slice/x.service) or\n"
	"                          its directory; repeatable; not with -p or -- COMMAND\n"
	"      --timeline FILE     write a Chrome trace (ui.perfetto.dev) of the stuck waits\n"
	"      --timeline-goroutines N  at most N goroutine tracks in the timeline\n"
	"                          (default 200; the rest are counted in it)\n"
	"      --folded FILE       at exit and on SIGUSR1, write the stuck threads and\n"
	"                          goroutines as folded stacks (flamegraph.pl, speedscope)\n"
	"      --folded-weight count|time  weigh each stack by its waiters (default) or\n"
	"                          by their blocked milliseconds\n"
	"      --metrics ADDR:PORT serve Prometheus metrics at http://ADDR:PORT/metrics\n"
	"                          (ADDR defaults to 127.0.0.1: ':9464')\n"
	"      --fail-on-leak      exit 1 when a leak was found (always so with -- COMMAND)\n"
	"  -v, --verbose           libbpf and diagnostic output on stderr\n"
	"  -h, --help              show this help\n"
	"  -V, --version           show the version\n"
	"\n"
	"DUR: a number with a unit ns, us, ms, s, m or h (500ms, 10s, 2m); a bare\n"
	"number is seconds.\n"
	"Exit status: 0 no leak found, 1 leak found, 2 usage error, 3 could not run.\n";

/* Long options without a short one. */
enum {
	OPT_TIMELINE = 256,
	OPT_METRICS,
	OPT_FAIL_ON_LEAK,
	OPT_DUMP,
	OPT_NO_GOROUTINES,
	OPT_TIMELINE_GOROUTINES,
	OPT_CGROUP,
	OPT_FOLDED,
	OPT_FOLDED_WEIGHT,
};

static const struct option long_options[] = {
	{ "pid", required_argument, NULL, 'p' },
	{ "threshold", required_argument, NULL, 't' },
	{ "interval", required_argument, NULL, 'i' },
	{ "duration", required_argument, NULL, 'd' },
	{ "json", no_argument, NULL, 'j' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ "timeline", required_argument, NULL, OPT_TIMELINE },
	{ "metrics", required_argument, NULL, OPT_METRICS },
	{ "fail-on-leak", no_argument, NULL, OPT_FAIL_ON_LEAK },
	{ "dump", no_argument, NULL, OPT_DUMP },
	{ "no-goroutines", no_argument, NULL, OPT_NO_GOROUTINES },
	{ "timeline-goroutines", required_argument, NULL, OPT_TIMELINE_GOROUTINES },
	{ "cgroup", required_argument, NULL, OPT_CGROUP },
	{ "folded", required_argument, NULL, OPT_FOLDED },
	{ "folded-weight", required_argument, NULL, OPT_FOLDED_WEIGHT },
	{},
};

static int parse_pid(const char *s, uint32_t *pid)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || *end || errno || v <= 0 || v > INT_MAX)
		return -EINVAL;
	*pid = (uint32_t)v;
	return 0;
}

int args_parse_id(const char *s, uint32_t *id)
{
	unsigned long long v = 0;
	const char *p;

	if (!s || !*s)
		return -EINVAL;
	for (p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long long)(*p - '0');
		if (v >= UINT32_MAX) /* also keeps v from wrapping */
			return -EINVAL;
	}
	*id = (uint32_t)v;
	return 0;
}

int args_dedupe_pids(uint32_t *pids, int n)
{
	int i, j, kept = 0;

	for (i = 0; i < n; i++) {
		for (j = 0; j < kept && pids[j] != pids[i]; j++)
			;
		if (j == kept)
			pids[kept++] = pids[i];
	}
	return kept;
}

/* A decimal count in [0, max]. */
static int parse_count(const char *s, uint32_t max, uint32_t *v)
{
	unsigned long long n = 0;
	const char *p;

	if (!*s)
		return -EINVAL;
	for (p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		n = n * 10 + (unsigned long long)(*p - '0');
		if (n > max)
			return -EINVAL;
	}
	*v = (uint32_t)n;
	return 0;
}

static int parse_dur_opt(const char *name, const char *s, uint64_t *ns, FILE *err)
{
	if (duration_parse(s, ns) || *ns == 0) {
		fprintf(err, "leakwatch: invalid %s '%s': use a positive number with a unit "
			     "ns, us, ms, s, m or h (e.g. 500ms, 10s)\n", name, s);
		return -EINVAL;
	}
	return 0;
}

/* --dump is one scan of named processes: nothing to run, follow or serve. */
static int check_dump(const struct lw_config *cfg, FILE *err)
{
	const char *with = NULL;

	if (!cfg->dump)
		return 0;
	if (cfg->command)
		with = "-- COMMAND";
	else if (cfg->timeline)
		with = "--timeline";
	else if (cfg->metrics)
		with = "--metrics";
	else if (cfg->folded)
		with = "--folded";
	else if (cfg->duration_ns)
		with = "--duration";
	if (with) {
		fprintf(err, "leakwatch: --dump takes no %s: it scans once and exits\n", with);
		return -EINVAL;
	}
	if (!cfg->n_pids) {
		fprintf(err, "leakwatch: --dump needs -p PID (the processes to dump)\n");
		return -EINVAL;
	}
	return 0;
}

int args_parse(int argc, char **argv, struct lw_config *cfg, FILE *out, FILE *err)
{
	const char *last_value = NULL; /* the last option's value, if it had one */
	bool dashdash, folded_weight = false;
	int opt;

	memset(cfg, 0, sizeof(*cfg));
	cfg->threshold_ns = 10000000000ULL;
	cfg->interval_ns = 1000000000ULL;
	cfg->timeline_goroutines = LW_DEFAULT_TIMELINE_GOROUTINES;
	opterr = 0; /* one line of our own instead of getopt's */
	/* 0, not 1: glibc then also drops the rest of a group ("-hV") that
	 * an earlier call stopped in. */
	optind = 0;

	while ((opt = getopt_long(argc, argv, "+:p:t:i:d:jvhV", long_options, NULL)) != -1) {
		switch (opt) {
		case 'p':
			if (cfg->n_pids == LW_MAX_TARGETS) {
				fprintf(err, "leakwatch: too many -p options (at most %d)\n",
					LW_MAX_TARGETS);
				return -EINVAL;
			}
			if (parse_pid(optarg, &cfg->pids[cfg->n_pids])) {
				fprintf(err, "leakwatch: invalid PID '%s'\n", optarg);
				return -EINVAL;
			}
			cfg->n_pids++;
			break;
		case 't':
			if (parse_dur_opt("threshold", optarg, &cfg->threshold_ns, err))
				return -EINVAL;
			break;
		case 'i':
			if (parse_dur_opt("interval", optarg, &cfg->interval_ns, err))
				return -EINVAL;
			if (cfg->interval_ns < LW_MIN_INTERVAL_NS) {
				fprintf(err, "leakwatch: invalid interval '%s': at least 10ms\n", optarg);
				return -EINVAL;
			}
			break;
		case 'd':
			if (parse_dur_opt("duration", optarg, &cfg->duration_ns, err))
				return -EINVAL;
			break;
		case 'j':
			cfg->json = true;
			break;
		case 'v':
			cfg->verbose = true;
			break;
		case OPT_TIMELINE:
			if (!*optarg) {
				fprintf(err, "leakwatch: --timeline needs a file name\n");
				return -EINVAL;
			}
			cfg->timeline = optarg;
			break;
		case OPT_METRICS:
			if (!strchr(optarg, ':')) {
				fprintf(err, "leakwatch: invalid --metrics '%s': use ADDR:PORT "
					     "(e.g. 127.0.0.1:9464 or :9464)\n", optarg);
				return -EINVAL;
			}
			cfg->metrics = optarg;
			break;
		case OPT_FAIL_ON_LEAK:
			cfg->fail_on_leak = true;
			break;
		case OPT_DUMP:
			cfg->dump = true;
			break;
		case OPT_NO_GOROUTINES:
			cfg->no_goroutines = true;
			break;
		case OPT_TIMELINE_GOROUTINES:
			if (parse_count(optarg, LW_MAX_TIMELINE_GOROUTINES,
					&cfg->timeline_goroutines)) {
				fprintf(err, "leakwatch: invalid --timeline-goroutines '%s': use a "
					     "number from 0 to %d\n", optarg,
					LW_MAX_TIMELINE_GOROUTINES);
				return -EINVAL;
			}
			break;
		case OPT_CGROUP:
			if (cfg->n_cgroups == LW_MAX_CGROUPS) {
				fprintf(err, "leakwatch: too many --cgroup options (at most %d)\n",
					LW_MAX_CGROUPS);
				return -EINVAL;
			}
			if (optarg[0] != '/') {
				fprintf(err, "leakwatch: invalid --cgroup '%s': use a cgroup v2 path "
					     "(/system.slice/x.service) or its directory\n", optarg);
				return -EINVAL;
			}
			cfg->cgroups[cfg->n_cgroups++] = optarg;
			break;
		case OPT_FOLDED:
			if (!*optarg) {
				fprintf(err, "leakwatch: --folded needs a file name\n");
				return -EINVAL;
			}
			cfg->folded = optarg;
			break;
		case OPT_FOLDED_WEIGHT:
			if (strcmp(optarg, "count") && strcmp(optarg, "time")) {
				fprintf(err, "leakwatch: invalid --folded-weight '%s': use count "
					     "or time\n", optarg);
				return -EINVAL;
			}
			cfg->folded_weight_time = !strcmp(optarg, "time");
			folded_weight = true;
			break;
		case 'h':
			fputs(usage, out);
			return LW_ARGS_DONE;
		case 'V':
			fprintf(out, "leakwatch %s\n", LW_VERSION);
			return LW_ARGS_DONE;
		case ':':
			fprintf(err, "leakwatch: option '%s' needs a value (see --help)\n",
				argv[optind - 1]);
			return -EINVAL;
		default:
			/* A long option given a value it does not take sets optopt to
			 * its own code. */
			if (optopt && !strncmp(argv[optind - 1], "--", 2))
				fprintf(err, "leakwatch: option '%s' takes no value (see --help)\n",
					argv[optind - 1]);
			else if (optopt)
				fprintf(err, "leakwatch: unknown option '-%c' (see --help)\n", optopt);
			else
				fprintf(err, "leakwatch: unknown option '%s' (see --help)\n",
					argv[optind - 1]);
			return -EINVAL;
		}
		last_value = optarg;
	}
	/* getopt stops after "--" (and, with '+', at the first non-option); a
	 * "--" that was an option's value (--timeline --) ends nothing. */
	dashdash = optind > 1 && !strcmp(argv[optind - 1], "--") && argv[optind - 1] != last_value;
	if (dashdash && optind == argc) {
		fprintf(err, "leakwatch: '--' needs a command after it (see --help)\n");
		return -EINVAL;
	}
	if (optind < argc) {
		if (!dashdash) {
			fprintf(err, "leakwatch: unexpected argument '%s' (a command goes after --)\n",
				argv[optind]);
			return -EINVAL;
		}
		if (cfg->n_pids) {
			fprintf(err, "leakwatch: use either -p PID or -- COMMAND, not both\n");
			return -EINVAL;
		}
		cfg->command = &argv[optind];
		cfg->fail_on_leak = true;
	}
	/* The kernel filters by cgroup or by process, not both: -p names its
	 * processes already, and a command's children are followed by pid. */
	if (cfg->n_cgroups && (cfg->n_pids || cfg->command)) {
		fprintf(err, "leakwatch: use --cgroup without %s (it watches the cgroup's processes)\n",
			cfg->command ? "-- COMMAND" : "-p");
		return -EINVAL;
	}
	if (folded_weight && !cfg->folded) {
		fprintf(err, "leakwatch: --folded-weight needs --folded FILE\n");
		return -EINVAL;
	}
	return check_dump(cfg, err);
}

// SPDX-License-Identifier: GPL-2.0
/* args_parse (user/args.c): the command line of DESIGN.md section 3. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "args.h"

#define SEC 1000000000ULL
#define MS 1000000ULL

/* One args_parse call with out and err captured. */
struct run {
	struct lw_config cfg;
	int rc;
	char *out, *err;
	size_t out_len, err_len;
	char *argv[LW_MAX_TARGETS * 2 + 8];
};

static struct run *run_args(const char *const *args)
{
	struct run *r = calloc(1, sizeof(*r));
	FILE *out, *err;
	int argc = 0;

	assert_non_null(r);
	r->argv[argc++] = "leakwatch";
	for (; *args; args++) {
		assert_true(argc < (int)(sizeof(r->argv) / sizeof(r->argv[0])) - 1);
		r->argv[argc++] = (char *)*args;
	}
	r->argv[argc] = NULL;
	out = open_memstream(&r->out, &r->out_len);
	err = open_memstream(&r->err, &r->err_len);
	assert_non_null(out);
	assert_non_null(err);
	r->rc = args_parse(argc, r->argv, &r->cfg, out, err);
	fclose(out);
	fclose(err);
	return r;
}

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
	free(r);
}

#define RUN(...) run_args((const char *const[]){ __VA_ARGS__, NULL })
#define RUN0() run_args((const char *const[]){ NULL })

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Usage errors: -EINVAL, exactly one line on err naming what is wrong,
 * nothing on out. */
static void assert_usage_error(struct run *r, const char *mention)
{
	if (r->rc != -EINVAL || count_lines(r->err) != 1)
		print_error("rc %d, err: \"%s\"\n", r->rc, r->err);
	assert_int_equal(r->rc, -EINVAL);
	assert_int_equal(count_lines(r->err), 1);
	assert_true(r->err_len > 0 && r->err[r->err_len - 1] == '\n');
	assert_non_null(strstr(r->err, "leakwatch: "));
	if (mention && !strstr(r->err, mention)) {
		print_error("\"%s\" does not mention \"%s\"\n", r->err, mention);
		fail();
	}
	assert_int_equal(r->out_len, 0);
}

static void test_defaults(void **state)
{
	struct run *r = RUN0();

	assert_int_equal(r->rc, 0);
	assert_int_equal(r->cfg.threshold_ns, 10 * SEC);
	assert_int_equal(r->cfg.interval_ns, 1 * SEC);
	assert_int_equal(r->cfg.duration_ns, 0);
	assert_int_equal(r->cfg.n_pids, 0);
	assert_false(r->cfg.json);
	assert_false(r->cfg.verbose);
	assert_null(r->cfg.command);
	assert_int_equal(r->out_len, 0);
	assert_int_equal(r->err_len, 0);
	run_free(r);
}

static void test_pid_repeated_short_long_and_equals(void **state)
{
	struct run *r = RUN("-p", "1", "-p", "22", "--pid", "333", "--pid=4444", "-p55555");

	assert_int_equal(r->rc, 0);
	assert_int_equal(r->cfg.n_pids, 5);
	assert_int_equal(r->cfg.pids[0], 1);
	assert_int_equal(r->cfg.pids[1], 22);
	assert_int_equal(r->cfg.pids[2], 333);
	assert_int_equal(r->cfg.pids[3], 4444);
	assert_int_equal(r->cfg.pids[4], 55555);
	assert_null(r->cfg.command);
	run_free(r);
}

static void test_durations_parsed(void **state)
{
	struct run *r = RUN("-t", "500ms", "-i", "250ms", "-d", "2m");

	assert_int_equal(r->rc, 0);
	assert_int_equal(r->cfg.threshold_ns, 500 * MS);
	assert_int_equal(r->cfg.interval_ns, 250 * MS);
	assert_int_equal(r->cfg.duration_ns, 120 * SEC);
	run_free(r);
}

static void test_long_duration_options(void **state)
{
	struct run *r = RUN("--threshold=1.5s", "--interval", "3", "--duration=1h");

	assert_int_equal(r->rc, 0);
	assert_int_equal(r->cfg.threshold_ns, 1500 * MS);
	assert_int_equal(r->cfg.interval_ns, 3 * SEC);
	assert_int_equal(r->cfg.duration_ns, 3600 * SEC);
	run_free(r);
}

static void test_attached_short_value(void **state)
{
	struct run *r = RUN("-t30s", "-i100ms");

	assert_int_equal(r->rc, 0);
	assert_int_equal(r->cfg.threshold_ns, 30 * SEC);
	assert_int_equal(r->cfg.interval_ns, 100 * MS);
	run_free(r);
}

static void test_json_and_verbose_flags(void **state)
{
	struct run *r = RUN("-jv");

	assert_int_equal(r->rc, 0);
	assert_true(r->cfg.json);
	assert_true(r->cfg.verbose);
	run_free(r);

	r = RUN("--json", "--verbose");
	assert_int_equal(r->rc, 0);
	assert_true(r->cfg.json);
	assert_true(r->cfg.verbose);
	run_free(r);
}

static void test_zero_durations_rejected(void **state)
{
	struct run *r = RUN("-t", "0");

	assert_usage_error(r, "threshold");
	run_free(r);
	r = RUN("--interval=0s");
	assert_usage_error(r, "interval");
	run_free(r);
	r = RUN("-d", "0ms");
	assert_usage_error(r, "duration");
	run_free(r);
	/* Rounds to 0 ns. */
	r = RUN("-t", "0.1ns");
	assert_usage_error(r, "threshold");
	run_free(r);
}

static void test_malformed_duration_rejected(void **state)
{
	struct run *r = RUN("-t", "10x");

	assert_usage_error(r, "'10x'");
	run_free(r);
	r = RUN("-i", "-1s");
	assert_usage_error(r, "'-1s'");
	run_free(r);
	r = RUN("-d", "18446744074s");
	assert_usage_error(r, "duration");
	run_free(r);
}

static void test_unknown_short_option(void **state)
{
	struct run *r = RUN("-x");

	assert_usage_error(r, "-x");
	run_free(r);
}

static void test_unknown_option_inside_group(void **state)
{
	struct run *r = RUN("-jq");

	assert_usage_error(r, "-q");
	run_free(r);
}

static void test_unknown_long_option(void **state)
{
	struct run *r = RUN("--frobnicate");

	assert_usage_error(r, "--frobnicate");
	run_free(r);
	r = RUN("-j", "--no-such=3");
	assert_usage_error(r, "--no-such");
	run_free(r);
}

static void test_missing_value(void **state)
{
	struct run *r = RUN("-t");

	assert_usage_error(r, "'-t'");
	run_free(r);
	r = RUN("-j", "--pid");
	assert_usage_error(r, "'--pid'");
	run_free(r);
	r = RUN("--interval");
	assert_usage_error(r, "'--interval'");
	run_free(r);
}

static void test_bad_pids_rejected(void **state)
{
	/* strtol's leading blanks and '+' (" 7", "+7") are accepted. */
	static const char *const bad[] = { "abc",	 "0",		       "-5",  "12abc", "",
					   "2147483648", "99999999999999999999", "0x10", "7 " };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct run *r = RUN("-p", bad[i]);
		char mention[64];

		snprintf(mention, sizeof(mention), "'%s'", bad[i]);
		assert_usage_error(r, mention);
		run_free(r);
	}
}

static void test_largest_pid_accepted(void **state)
{
	struct run *r = RUN("-p", "2147483647");

	assert_int_equal(r->rc, 0);
	assert_int_equal(r->cfg.pids[0], 2147483647u);
	run_free(r);
}

static void test_help_prints_usage_to_out(void **state)
{
	struct run *r = RUN("-h");

	assert_int_equal(r->rc, LW_ARGS_DONE);
	assert_non_null(strstr(r->out, "Usage: leakwatch"));
	assert_non_null(strstr(r->out, "--threshold"));
	assert_int_equal(r->err_len, 0);
	run_free(r);

	r = RUN("-j", "--help", "--bogus");
	assert_int_equal(r->rc, LW_ARGS_DONE);
	assert_non_null(strstr(r->out, "Usage: leakwatch"));
	assert_int_equal(r->err_len, 0);
	run_free(r);
}

static void test_version_prints_version_to_out(void **state)
{
	struct run *r = RUN("-V");

	assert_int_equal(r->rc, LW_ARGS_DONE);
	assert_string_equal(r->out, "leakwatch " LW_VERSION "\n");
	assert_int_equal(r->err_len, 0);
	run_free(r);

	r = RUN("--version");
	assert_int_equal(r->rc, LW_ARGS_DONE);
	assert_string_equal(r->out, "leakwatch " LW_VERSION "\n");
	run_free(r);
}

/* args_parse keeps no state between calls: a group cut short by -h must
 * not leak its remaining letters into the next parse. */
static void test_consecutive_parses_independent(void **state)
{
	struct run *r = RUN("-hV");

	assert_int_equal(r->rc, LW_ARGS_DONE);
	assert_non_null(strstr(r->out, "Usage:"));
	run_free(r);

	r = RUN0();
	assert_int_equal(r->rc, 0);
	assert_int_equal(r->out_len, 0);
	run_free(r);

	r = RUN("-jx");
	assert_usage_error(r, "-x");
	run_free(r);

	r = RUN("-v");
	assert_int_equal(r->rc, 0);
	assert_false(r->cfg.json);
	assert_true(r->cfg.verbose);
	run_free(r);
}

static void test_command_after_double_dash(void **state)
{
	struct run *r = RUN("-j", "-t", "2s", "--", "sleep", "10");

	assert_int_equal(r->rc, 0);
	assert_true(r->cfg.json);
	assert_int_equal(r->cfg.threshold_ns, 2 * SEC);
	assert_non_null(r->cfg.command);
	assert_string_equal(r->cfg.command[0], "sleep");
	assert_string_equal(r->cfg.command[1], "10");
	assert_null(r->cfg.command[2]);
	assert_int_equal(r->err_len, 0);
	run_free(r);
}

static void test_command_options_not_parsed(void **state)
{
	struct run *r = RUN("--", "ls", "-t", "0", "-x", "--", "-p");

	assert_int_equal(r->rc, 0);
	assert_int_equal(r->cfg.threshold_ns, 10 * SEC);
	assert_int_equal(r->cfg.n_pids, 0);
	assert_string_equal(r->cfg.command[0], "ls");
	assert_string_equal(r->cfg.command[1], "-t");
	assert_string_equal(r->cfg.command[5], "-p");
	assert_null(r->cfg.command[6]);
	run_free(r);
}

/* "--" promises a command: without one it is a usage error, not host-wide. */
static void test_double_dash_alone_rejected(void **state)
{
	struct run *r = RUN("-j", "--");

	assert_usage_error(r, "--");
	run_free(r);
}

/* A "--" that is an option's value is not the end of the options. */
static void test_double_dash_as_value(void **state)
{
	struct run *r = RUN("--timeline", "--");

	assert_int_equal(r->rc, 0);
	assert_string_equal(r->cfg.timeline, "--");
	assert_null(r->cfg.command);
	run_free(r);
	r = RUN("--timeline", "--", "cmd");
	assert_usage_error(r, "'cmd'");
	run_free(r);
}

/* Below 10 ms a scan would take a core (-i 1ns: 36,000 samples in 2 s). */
static void test_interval_below_10ms_rejected(void **state)
{
	struct run *r = RUN("-i", "1ns");

	assert_usage_error(r, "10ms");
	run_free(r);
	r = RUN("-i", "9999us");
	assert_usage_error(r, "10ms");
	run_free(r);
	r = RUN("-i", "10ms");
	assert_int_equal(r->rc, 0);
	assert_int_equal(r->cfg.interval_ns, 10 * MS);
	run_free(r);
}

/* SUDO_UID and SUDO_GID: decimal ids, refused when they do not parse or
 * do not fit (uid_t is 32 bits; (uid_t)-1 means "no change"). */
static void test_parse_id(void **state)
{
	uint32_t id = 7;

	assert_int_equal(args_parse_id("0", &id), 0);
	assert_int_equal(id, 0);
	assert_int_equal(args_parse_id("1000", &id), 0);
	assert_int_equal(id, 1000);
	assert_int_equal(args_parse_id("4294967294", &id), 0);
	assert_int_equal(id, 4294967294u);
	id = 7;
	assert_int_equal(args_parse_id("4294967295", &id), -EINVAL);
	assert_int_equal(args_parse_id("99999999999", &id), -EINVAL);
	assert_int_equal(args_parse_id("18446744073709551617", &id), -EINVAL);
	assert_int_equal(args_parse_id("abc", &id), -EINVAL);
	assert_int_equal(args_parse_id("", &id), -EINVAL);
	assert_int_equal(args_parse_id(NULL, &id), -EINVAL);
	assert_int_equal(args_parse_id("-1", &id), -EINVAL);
	assert_int_equal(args_parse_id("+5", &id), -EINVAL);
	assert_int_equal(args_parse_id(" 5", &id), -EINVAL);
	assert_int_equal(args_parse_id("5x", &id), -EINVAL);
	assert_int_equal(id, 7);
}

/* -p X -p X -p TID-of-X is one process once the tids are tgids. */
static void test_dedupe_pids(void **state)
{
	uint32_t pids[] = { 5, 7, 5, 9, 7, 5 };
	uint32_t one[] = { 3 };

	assert_int_equal(args_dedupe_pids(pids, 6), 3);
	assert_int_equal(pids[0], 5);
	assert_int_equal(pids[1], 7);
	assert_int_equal(pids[2], 9);
	assert_int_equal(args_dedupe_pids(one, 1), 1);
	assert_int_equal(one[0], 3);
	assert_int_equal(args_dedupe_pids(one, 0), 0);
}

static void test_pid_and_command_rejected(void **state)
{
	struct run *r = RUN("-p", "1", "--", "cmd");

	assert_usage_error(r, "not both");
	run_free(r);
}

static void test_command_without_double_dash_rejected(void **state)
{
	struct run *r = RUN("-j", "sleep", "10");

	assert_usage_error(r, "'sleep'");
	run_free(r);
}

static void test_too_many_pids(void **state)
{
	const char *args[2 * (LW_MAX_TARGETS + 1) + 1];
	char pids[LW_MAX_TARGETS + 1][16];
	struct run *r;
	int i;

	for (i = 0; i <= LW_MAX_TARGETS; i++) {
		snprintf(pids[i], sizeof(pids[i]), "%d", 100 + i);
		args[2 * i] = "-p";
		args[2 * i + 1] = pids[i];
	}
	/* Exactly LW_MAX_TARGETS: fine. */
	args[2 * LW_MAX_TARGETS] = NULL;
	r = run_args(args);
	assert_int_equal(r->rc, 0);
	assert_int_equal(r->cfg.n_pids, LW_MAX_TARGETS);
	assert_int_equal(r->cfg.pids[LW_MAX_TARGETS - 1], 100 + LW_MAX_TARGETS - 1);
	run_free(r);

	/* One more: rejected. */
	args[2 * LW_MAX_TARGETS] = "-p";
	args[2 * LW_MAX_TARGETS + 2] = NULL;
	r = run_args(args);
	assert_usage_error(r, "too many");
	run_free(r);
}

static void test_fail_on_leak(void **state)
{
	struct run *r = RUN0();

	assert_false(r->cfg.fail_on_leak);
	run_free(r);
	r = RUN("--fail-on-leak", "-p", "5");
	assert_int_equal(r->rc, 0);
	assert_true(r->cfg.fail_on_leak);
	run_free(r);
	/* Run mode always fails on a leak (DESIGN.md: exit 1, run mode). */
	r = RUN("--", "true");
	assert_int_equal(r->rc, 0);
	assert_true(r->cfg.fail_on_leak);
	run_free(r);
}

static void test_metrics_address(void **state)
{
	struct run *r = RUN("--metrics", ":9464");

	assert_int_equal(r->rc, 0);
	assert_string_equal(r->cfg.metrics, ":9464");
	run_free(r);
	r = RUN("--metrics=127.0.0.1:9100");
	assert_int_equal(r->rc, 0);
	assert_string_equal(r->cfg.metrics, "127.0.0.1:9100");
	run_free(r);
	r = RUN0();
	assert_null(r->cfg.metrics);
	run_free(r);
}

static void test_metrics_without_port_rejected(void **state)
{
	struct run *r = RUN("--metrics", "9464");

	assert_usage_error(r, "'9464'");
	run_free(r);
	r = RUN("--metrics");
	assert_usage_error(r, "'--metrics'");
	run_free(r);
}

static void test_timeline_file(void **state)
{
	struct run *r = RUN("--timeline", "trace.json");

	assert_int_equal(r->rc, 0);
	assert_string_equal(r->cfg.timeline, "trace.json");
	run_free(r);
	r = RUN("--timeline=");
	assert_usage_error(r, "--timeline");
	run_free(r);
}

static void test_goroutine_defaults(void **state)
{
	struct run *r = RUN0();

	assert_int_equal(r->rc, 0);
	assert_false(r->cfg.dump);
	assert_false(r->cfg.no_goroutines);
	assert_int_equal(r->cfg.timeline_goroutines, LW_DEFAULT_TIMELINE_GOROUTINES);
	run_free(r);
	r = RUN("--no-goroutines", "--timeline-goroutines", "0");
	assert_int_equal(r->rc, 0);
	assert_true(r->cfg.no_goroutines);
	assert_int_equal(r->cfg.timeline_goroutines, 0);
	run_free(r);
	r = RUN("--timeline-goroutines=100000");
	assert_int_equal(r->rc, 0);
	assert_int_equal(r->cfg.timeline_goroutines, 100000);
	run_free(r);
}

static void test_bad_timeline_goroutines_rejected(void **state)
{
	static const char *const bad[] = { "", "-1", "1x", "100001", "99999999999999999999",
					   " 5", "0x10" };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char opt[64];
		struct run *r;

		snprintf(opt, sizeof(opt), "--timeline-goroutines=%s", bad[i]);
		r = RUN(opt);
		assert_usage_error(r, "--timeline-goroutines");
		run_free(r);
	}
	struct run *r = RUN("--timeline-goroutines");
	assert_usage_error(r, "'--timeline-goroutines'");
	run_free(r);
}

static void test_folded(void **state)
{
	static const char *const bad[] = { "", "Time", "counts", "ms" };
	struct run *r = RUN0();
	size_t i;

	assert_null(r->cfg.folded);
	assert_false(r->cfg.folded_weight_time);
	run_free(r);
	r = RUN("--folded", "stuck.folded");
	assert_int_equal(r->rc, 0);
	assert_string_equal(r->cfg.folded, "stuck.folded");
	assert_false(r->cfg.folded_weight_time);
	run_free(r);
	r = RUN("--folded=f", "--folded-weight", "time");
	assert_int_equal(r->rc, 0);
	assert_true(r->cfg.folded_weight_time);
	run_free(r);
	r = RUN("--folded-weight=time", "--folded", "f", "--folded-weight", "count");
	assert_int_equal(r->rc, 0);
	assert_false(r->cfg.folded_weight_time);
	run_free(r);
	r = RUN("--folded=");
	assert_usage_error(r, "--folded");
	run_free(r);
	r = RUN("--folded");
	assert_usage_error(r, "'--folded'");
	run_free(r);
	r = RUN("--folded-weight", "time");
	assert_usage_error(r, "--folded FILE");
	run_free(r);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = RUN("--folded", "f", "--folded-weight", bad[i]);
		assert_usage_error(r, "--folded-weight");
		run_free(r);
	}
	r = RUN("--dump", "-p", "5", "--folded", "f");
	assert_usage_error(r, "--folded");
	run_free(r);
	r = RUN("--help");
	assert_non_null(strstr(r->out, "--folded FILE"));
	assert_non_null(strstr(r->out, "--folded-weight count|time"));
	run_free(r);
}

static void test_dump(void **state)
{
	struct run *r = RUN("--dump", "-p", "5", "-p", "6", "-j");

	assert_int_equal(r->rc, 0);
	assert_true(r->cfg.dump);
	assert_int_equal(r->cfg.n_pids, 2);
	assert_true(r->cfg.json);
	run_free(r);
	r = RUN("-p", "5", "--dump", "--no-goroutines");
	assert_int_equal(r->rc, 0);
	assert_true(r->cfg.dump && r->cfg.no_goroutines);
	run_free(r);
}

/* --cgroup: repeatable up to LW_MAX_CGROUPS, a path, not with -p or a
 * command. */
static void test_cgroup(void **state)
{
	const char *many[2 * LW_MAX_CGROUPS + 3] = { 0 };
	struct run *r = RUN("--cgroup", "/system.slice/a.service", "--cgroup=/sys/fs/cgroup/b");
	int i;

	assert_int_equal(r->rc, 0);
	assert_int_equal(r->cfg.n_cgroups, 2);
	assert_string_equal(r->cfg.cgroups[0], "/system.slice/a.service");
	assert_string_equal(r->cfg.cgroups[1], "/sys/fs/cgroup/b");
	assert_int_equal(r->cfg.n_pids, 0);
	run_free(r);
	r = RUN("--cgroup", "/a", "-p", "5");
	assert_usage_error(r, "without -p");
	run_free(r);
	r = RUN("--cgroup", "/a", "--", "true");
	assert_usage_error(r, "without -- COMMAND");
	run_free(r);
	r = RUN("--cgroup", "relative/x");
	assert_usage_error(r, "'relative/x'");
	run_free(r);
	r = RUN("--cgroup", "");
	assert_usage_error(r, "--cgroup");
	run_free(r);
	r = RUN("--cgroup");
	assert_usage_error(r, "needs a value");
	run_free(r);
	for (i = 0; i <= LW_MAX_CGROUPS; i++) {
		many[2 * i] = "--cgroup";
		many[2 * i + 1] = "/a";
	}
	r = run_args(many);
	assert_usage_error(r, "too many --cgroup");
	run_free(r);
	many[2 * LW_MAX_CGROUPS] = NULL;
	r = run_args(many);
	assert_int_equal(r->rc, 0);
	assert_int_equal(r->cfg.n_cgroups, LW_MAX_CGROUPS);
	run_free(r);
}

static void test_dump_needs_pid(void **state)
{
	struct run *r = RUN("--dump");

	assert_usage_error(r, "-p PID");
	run_free(r);
	r = RUN("--dump", "--", "true");
	assert_usage_error(r, "-- COMMAND");
	run_free(r);
	r = RUN("--dump", "-p", "5", "--timeline", "t.json");
	assert_usage_error(r, "--timeline");
	run_free(r);
	r = RUN("--dump", "-p", "5", "--metrics", ":9464");
	assert_usage_error(r, "--metrics");
	run_free(r);
	r = RUN("--dump", "-p", "5", "-d", "10s");
	assert_usage_error(r, "--duration");
	run_free(r);
	r = RUN("--dump=1", "-p", "5");
	assert_usage_error(r, "'--dump=1' takes no value");
	run_free(r);
	r = RUN("--json=1");
	assert_usage_error(r, "'--json=1' takes no value");
	run_free(r);
}

static void test_help_names_goroutine_flags(void **state)
{
	struct run *r = RUN("--help");

	assert_int_equal(r->rc, 1);
	assert_non_null(strstr(r->out, "--dump"));
	assert_non_null(strstr(r->out, "--no-goroutines"));
	assert_non_null(strstr(r->out, "--timeline-goroutines N"));
	run_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_pid_repeated_short_long_and_equals),
		cmocka_unit_test(test_durations_parsed),
		cmocka_unit_test(test_long_duration_options),
		cmocka_unit_test(test_attached_short_value),
		cmocka_unit_test(test_json_and_verbose_flags),
		cmocka_unit_test(test_zero_durations_rejected),
		cmocka_unit_test(test_malformed_duration_rejected),
		cmocka_unit_test(test_unknown_short_option),
		cmocka_unit_test(test_unknown_option_inside_group),
		cmocka_unit_test(test_unknown_long_option),
		cmocka_unit_test(test_missing_value),
		cmocka_unit_test(test_bad_pids_rejected),
		cmocka_unit_test(test_largest_pid_accepted),
		cmocka_unit_test(test_help_prints_usage_to_out),
		cmocka_unit_test(test_version_prints_version_to_out),
		cmocka_unit_test(test_consecutive_parses_independent),
		cmocka_unit_test(test_command_after_double_dash),
		cmocka_unit_test(test_command_options_not_parsed),
		cmocka_unit_test(test_double_dash_alone_rejected),
		cmocka_unit_test(test_double_dash_as_value),
		cmocka_unit_test(test_interval_below_10ms_rejected),
		cmocka_unit_test(test_parse_id),
		cmocka_unit_test(test_dedupe_pids),
		cmocka_unit_test(test_pid_and_command_rejected),
		cmocka_unit_test(test_command_without_double_dash_rejected),
		cmocka_unit_test(test_too_many_pids),
		cmocka_unit_test(test_fail_on_leak),
		cmocka_unit_test(test_metrics_address),
		cmocka_unit_test(test_metrics_without_port_rejected),
		cmocka_unit_test(test_timeline_file),
		cmocka_unit_test(test_goroutine_defaults),
		cmocka_unit_test(test_bad_timeline_goroutines_rejected),
		cmocka_unit_test(test_dump),
		cmocka_unit_test(test_dump_needs_pid),
		cmocka_unit_test(test_cgroup),
		cmocka_unit_test(test_folded),
		cmocka_unit_test(test_help_names_goroutine_flags),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

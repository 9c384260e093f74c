// SPDX-License-Identifier: GPL-2.0
/* The Prometheus page (user/metrics.c) of a tracker fed goroutines: the
 * goroutine gauges, stuck goroutines by wait, the goroutine scans' cost; the
 * series of leaked sites that alerts fire on. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "metrics.h"
#include "tracker.h"

#define SEC 1000000000ULL
#define GO_PID 500
#define C_PID 600
#define WR_CHAN_SEND 15
#define WR_SELECT 9

static const struct lw_clock test_clock = { .realtime_minus_mono_ns = 1700000000LL * 1000000000LL };

static const char *wait_reason(void *ctx, uint32_t pid, uint8_t reason)
{
	return reason == WR_CHAN_SEND ? "chan send" : reason == WR_SELECT ? "select" : "";
}

static int unwind_goroutine(void *ctx, uint32_t pid, const struct go_goroutine *g, uint64_t *pcs,
			    int max)
{
	pcs[0] = 0x1000 + g->wait_reason;
	pcs[1] = 0x9000;
	return 2;
}

static struct lw_task_rec task(uint32_t pid, uint32_t tid, bool blocked, uint64_t since,
			       uint64_t now)
{
	struct lw_task_rec r = {
		.type = LW_REC_TASK,
		.pid = pid,
		.tid = tid,
		.flags = blocked ? LW_TF_BLOCKED | LW_TF_IN_SYSCALL : 0,
		.now_ns = now,
		.blocked_since_ns = since,
		.syscall_nr = blocked ? 0 : -1, /* read */
	};

	snprintf(r.comm, sizeof(r.comm), "t%u", tid);
	snprintf(r.pcomm, sizeof(r.pcomm), pid == GO_PID ? "gosrv" : "cprog");
	return r;
}

static struct go_goroutine parked(uint64_t goid, uint8_t reason)
{
	return (struct go_goroutine){ .goid = goid, .status = GO_G_WAITING, .wait_reason = reason,
				      .tracking_seq = 1, .sp_depth = 0x100, .startpc = 0x2000,
				      .gopc = 0x3000, .g_addr = 0xc000000000ULL + goid * 0x200 };
}

/* The Go process: 5 goroutines parked from the start (3 chan send, 1
 * select, 1 system), 1 running; the C process: a thread blocked in read. */
static void feed(struct lw_tracker *t, uint64_t now)
{
	struct go_goroutine gs[] = { parked(1, WR_CHAN_SEND), parked(2, WR_CHAN_SEND),
				     parked(3, WR_CHAN_SEND), parked(4, WR_SELECT),
				     parked(5, WR_SELECT),
				     { .goid = 6, .status = GO_G_RUNNING, .tid = GO_PID } };
	struct lw_task_rec go_main = task(GO_PID, GO_PID, false, 0, now);
	struct lw_task_rec c_read = task(C_PID, C_PID, true, 1 * SEC, now);

	gs[4].system = true;
	tracker_scan_begin(t, now, &test_clock);
	tracker_scan_task(t, &go_main, NULL);
	tracker_scan_task(t, &c_read, NULL);
	tracker_scan_goroutines(t, GO_PID, gs, sizeof(gs) / sizeof(gs[0]));
	tracker_scan_end(t);
}

static char *render(const struct lw_tracker *t, const struct lw_metrics_input *extra)
{
	struct lw_drops drops = { .gs_invalid = 4, .gs_unread = 5, .goroutine_stacks_moved = 6,
				  .goroutines_untracked = 7 };
	struct lw_metrics_input in = *extra;
	struct lw_buf b = {};
	char *s;

	in.tracker = t;
	in.drops = &drops;
	assert_int_equal(metrics_render(&in, &b), 0);
	s = strndup(b.data, b.len);
	buf_free(&b);
	return s;
}

static void assert_line(const char *page, const char *line)
{
	char want[512];

	snprintf(want, sizeof(want), "\n%s\n", line);
	if (!strstr(page, want)) {
		size_t name = strcspn(line, "{ ");
		const char *at;

		/* The family's lines: cmocka cuts a long message. */
		print_error("no line \"%s\"; the family's lines:\n", line);
		for (at = strchr(page, '\n'); at; at = strchr(at + 1, '\n'))
			if (!strncmp(at + 1, line, name) && strchr("{ ", at[1 + name]))
				print_error("%.*s\n", (int)strcspn(at + 1, "\n"), at + 1);
		fail();
	}
}

static struct lw_tracker *new_tracker(void)
{
	struct lw_tracker_opts opts = {
		.threshold_ns = 2 * SEC,
		.clock = test_clock,
		.stacks = { .unwind_goroutine = unwind_goroutine, .go_wait_reason = wait_reason },
	};
	struct lw_tracker *t;

	assert_int_equal(tracker_new(&opts, &t), 0);
	assert_int_equal(tracker_add_target(t, GO_PID), 0);
	assert_int_equal(tracker_add_target(t, C_PID), 0);
	return t;
}

/* The leaking threads' user stack: one frame of the program, whose name is
 * longer than a comm and needs escaping. */
#define LEAK_PC 0x401000
#define LEAK_FUNC "wait_for_the_reply_that_never_comes_from_the_backend_server<\"q\\1\">"

static int unwind_leak(void *ctx, const struct lw_task_rec *r, uint64_t *pcs, int max)
{
	pcs[0] = LEAK_PC;
	return 1;
}

static int leak_frames(void *ctx, uint32_t pid, uint64_t pc, bool first, struct lw_frame *out,
		       int max)
{
	lw_frame_unknown(&out[0], LW_FRAME_NATIVE, pc, "cprog");
	snprintf(out[0].func, sizeof(out[0].func), "%s", LEAK_FUNC);
	snprintf(out[0].file, sizeof(out[0].file), "/src/net/client.c");
	out[0].line = 42;
	return 1;
}

static struct lw_tracker *new_leak_tracker(void)
{
	struct lw_tracker_opts opts = {
		.threshold_ns = 2 * SEC,
		.clock = test_clock,
		.stacks = { .unwind = unwind_leak, .user_frames = leak_frames,
			    .unwind_goroutine = unwind_goroutine, .go_wait_reason = wait_reason },
	};
	struct lw_tracker *t;

	assert_int_equal(tracker_new(&opts, &t), 0);
	assert_int_equal(tracker_add_target(t, GO_PID), 0);
	assert_int_equal(tracker_add_target(t, C_PID), 0);
	return t;
}

/*
 * Scan `scan` (0, 1, ...) of two leaks, one more waiter each per scan: the
 * C process's threads in read, the Go process's goroutines in chan send.
 * c_gone: the C process is not seen (it exited); released: its threads run.
 */
static void feed_leaks(struct lw_tracker *t, size_t scan, bool c_gone, bool released)
{
	enum { MAX = 64 };
	struct go_goroutine gs[MAX + 1];
	struct lw_task_rec r;
	uint64_t now = (100 + scan) * SEC;
	size_t k;

	assert_true(scan < MAX);
	tracker_scan_begin(t, now, &test_clock);
	r = task(GO_PID, GO_PID, false, 0, now);
	tracker_scan_task(t, &r, NULL);
	if (!c_gone) {
		r = task(C_PID, C_PID, false, 0, now);
		tracker_scan_task(t, &r, NULL);
		for (k = 0; k < scan; k++) {
			r = task(C_PID, (uint32_t)(1000 + k), !released, (80 + k) * SEC, now);
			tracker_scan_task(t, &r, NULL);
		}
	}
	for (k = 0; k < scan; k++)
		gs[k] = parked(k + 1, WR_CHAN_SEND);
	gs[scan] = (struct go_goroutine){ .goid = 999, .status = GO_G_RUNNING, .tid = GO_PID };
	tracker_scan_goroutines(t, GO_PID, gs, scan + 1);
	tracker_scan_end(t);
}

static void assert_no_line_with(const char *page, const char *text)
{
	if (strstr(page, text)) {
		print_error("\"%s\" on the page:\n%s\n", text, page);
		fail();
	}
}

static void test_goroutine_gauges_and_stuck_by_wait(void **state)
{
	struct lw_tracker *t = new_tracker();
	struct lw_metrics_input in = {};
	char *page;

	feed(t, 100 * SEC);
	feed(t, 110 * SEC);
	page = render(t, &in);
	/* As runtime.NumGoroutine: not the system goroutine. */
	assert_line(page, "leakwatch_goroutines{pid=\"500\",comm=\"gosrv\"} 5");
	assert_line(page, "leakwatch_goroutines_blocked{pid=\"500\",comm=\"gosrv\"} 4");
	assert_line(page, "leakwatch_goroutines_stuck{pid=\"500\",comm=\"gosrv\"} 4");
	assert_line(page, "leakwatch_goroutines_stuck_by_wait{pid=\"500\",comm=\"gosrv\","
			  "wait=\"chan send\"} 3");
	assert_line(page, "leakwatch_goroutines_stuck_by_wait{pid=\"500\",comm=\"gosrv\","
			  "wait=\"select\"} 1");
	/* The C process has no goroutine series; its thread is a thread. */
	assert_null(strstr(page, "leakwatch_goroutines{pid=\"600\""));
	assert_line(page, "leakwatch_stuck_threads_by_wait{wait=\"read\"} 1");
	assert_null(strstr(page, "leakwatch_stuck_threads_by_wait{wait=\"chan send\"}"));
	/* Goroutine losses and the untracked ones. */
	assert_line(page, "leakwatch_goroutine_losses_total{cause=\"gs_invalid\"} 4");
	assert_line(page, "leakwatch_goroutine_losses_total{cause=\"gs_unread\"} 5");
	assert_line(page, "leakwatch_goroutine_losses_total{cause=\"stacks_moved\"} 6");
	assert_line(page, "leakwatch_untracked_total{kind=\"goroutine\"} 7");
	free(page);
	tracker_free(t);
}

static void test_goroutine_scan_cost(void **state)
{
	struct lw_go_metrics go = {
		.pid = GO_PID,
		.every = 3,
		.stats = { .scans = 12, .gs_read = 600, .bytes_read = 123456, .gs_invalid = 1,
			   .gs_unread = 2, .stacks_read = 9, .stacks_moved = 3,
			   .stacks_unreadable = 4, .last_scan_ns = 2500000 },
	};
	struct lw_metrics_input in = { .go = &go, .n_go = 1, .goroutine_scan_seconds = 0.0031,
				       .interval_s = 2.0 };
	struct lw_tracker *t = new_tracker();
	char *page;

	feed(t, 100 * SEC);
	page = render(t, &in);
	assert_line(page, "leakwatch_goroutine_scan_duration_seconds 0.003100");
	assert_line(page, "leakwatch_goroutine_scan_interval_seconds{pid=\"500\",comm=\"gosrv\"} "
			  "6.000");
	assert_line(page, "leakwatch_goroutine_scan_last_seconds{pid=\"500\",comm=\"gosrv\"} "
			  "0.002500");
	assert_line(page, "leakwatch_goroutine_scans_total{pid=\"500\",comm=\"gosrv\"} 12");
	assert_line(page, "leakwatch_goroutine_scan_bytes_total{pid=\"500\",comm=\"gosrv\"} 123456");
	assert_line(page, "leakwatch_goroutine_gs_invalid_total{pid=\"500\",comm=\"gosrv\"} 1");
	assert_line(page, "leakwatch_goroutine_gs_unread_total{pid=\"500\",comm=\"gosrv\"} 2");
	assert_line(page, "leakwatch_goroutine_stacks_read_total{pid=\"500\",comm=\"gosrv\"} 9");
	assert_line(page, "leakwatch_goroutine_stacks_moved_total{pid=\"500\",comm=\"gosrv\"} 3");
	assert_line(page, "leakwatch_goroutine_stacks_unreadable_total{pid=\"500\",comm=\"gosrv\"} 4");
	assert_non_null(strstr(page, "# TYPE leakwatch_goroutine_scans_total counter\n"));
	assert_non_null(strstr(page, "# TYPE leakwatch_goroutine_scan_last_seconds gauge\n"));
	free(page);
	tracker_free(t);
}

/* The processes' cgroups: docker for the Go one, a unit for the C one. */
#define CG_DOCKER "/system.slice/docker-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope"

static int read_cgroup(uint32_t pid, char *path, size_t len)
{
	snprintf(path, len, "%s", pid == GO_PID ? CG_DOCKER : "/system.slice/db.service");
	return 0;
}

/* Every series with a pid label has the process's cgroup labels. */
static void test_cgroup_labels_on_process_series(void **state)
{
	struct lw_go_metrics go = { .pid = GO_PID, .every = 1, .stats = { .scans = 2 } };
	struct lw_metrics_input in = { .go = &go, .n_go = 1, .interval_s = 1.0 };
	struct lw_tracker_opts opts = {
		.threshold_ns = 2 * SEC,
		.clock = test_clock,
		.read_cgroup = read_cgroup,
		.stacks = { .unwind_goroutine = unwind_goroutine, .go_wait_reason = wait_reason },
	};
	const char *docker = ",cgroup=\"" CG_DOCKER "\",container=\"0123456789abcdef0123456789abcdef"
			     "0123456789abcdef0123456789abcdef\"";
	struct lw_tracker *t;
	char *page, line[1024], *copy, *l, *save = NULL;

	assert_int_equal(tracker_new(&opts, &t), 0);
	assert_int_equal(tracker_add_target(t, GO_PID), 0);
	assert_int_equal(tracker_add_target(t, C_PID), 0);
	feed(t, 100 * SEC);
	feed(t, 110 * SEC);
	page = render(t, &in);
	snprintf(line, sizeof(line), "leakwatch_goroutines{pid=\"500\",comm=\"gosrv\"%s} 5", docker);
	assert_line(page, line);
	snprintf(line, sizeof(line), "leakwatch_goroutines_stuck_by_wait{pid=\"500\",comm=\"gosrv\","
		 "wait=\"chan send\"%s} 3", docker);
	assert_line(page, line);
	snprintf(line, sizeof(line), "leakwatch_goroutine_scans_total{pid=\"500\",comm=\"gosrv\"%s} 2",
		 docker);
	assert_line(page, line);
	assert_line(page, "leakwatch_stuck_threads{pid=\"600\",comm=\"cprog\","
			  "cgroup=\"/system.slice/db.service\",unit=\"db.service\"} 1");
	assert_line(page, "leakwatch_scanned_threads 2");
	/* no series with a pid and without its cgroup */
	copy = strdup(page);
	assert_non_null(copy);
	for (l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		if (strstr(l, "pid=\"") && !strstr(l, ",cgroup=\"")) {
			print_error("no cgroup label: %s\n", l);
			fail();
		}
	free(copy);
	free(page);
	tracker_free(t);
}

/* Every sample line is "name{labels} value" or "name value", after the
 * "# TYPE name" of its family; no family is declared twice. */
static void assert_well_formed(const char *page)
{
	char *copy, *line, *save = NULL;

	copy = strdup(page);
	assert_non_null(copy);
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char type_line[192], *at;
		size_t len;

		if (!strncmp(line, "# HELP ", 7))
			continue;
		if (!strncmp(line, "# TYPE ", 7)) {
			at = strstr(page, line);
			assert_non_null(at);
			assert_null(strstr(at + 1, line)); /* once */
			continue;
		}
		len = strcspn(line, "{ ");
		assert_true(len > 0 && len < 128);
		assert_true(line[len] == ' ' || strstr(line, "} ") != NULL);
		snprintf(type_line, sizeof(type_line), "# TYPE %.*s ", (int)len, line);
		at = strstr(page, type_line);
		if (!at || at > strstr(page, line)) {
			print_error("\"%s\" has no TYPE line before it\n", line);
			fail();
		}
	}
	free(copy);
}

static void test_page_well_formed(void **state)
{
	struct lw_go_metrics go = { .pid = GO_PID, .every = 1 };
	struct lw_metrics_input in = { .go = &go, .n_go = 1, .interval_s = 1.0 };
	struct lw_tracker *t = new_tracker();
	char *page;

	feed(t, 100 * SEC);
	feed(t, 110 * SEC);
	page = render(t, &in);
	assert_well_formed(page);
	free(page);
	tracker_free(t);
}

#define C_LEAK "leakwatch_leak_stuck{pid=\"600\",comm=\"cprog\",site=\"1\",wait=\"read\"," \
	"where=\"wait_for_the_reply_that_never_comes_from_the_backend_server<\\\"q\\\\1\\\"> " \
	"(client.c:42)\",waiter=\"thread\"}"
#define GO_LEAK "leakwatch_leak_stuck{pid=\"500\",comm=\"gosrv\",site=\"2\",wait=\"chan send\"," \
	"where=\"chan send\",waiter=\"goroutine\"}"

/*
 * Two leaks, threads in read and goroutines in chan send: one series each,
 * with the process and the site (its where whole, escaped; site ids are the
 * tracker's, in the order found), valued at the pile's stuck count as the
 * per-process gauges show it; and no series before a leak is flagged.
 */
static void test_leak_series(void **state)
{
	struct lw_metrics_input in = {};
	struct lw_tracker *t = new_leak_tracker();
	char *page;
	size_t i;

	feed_leaks(t, 0, false, false);
	feed_leaks(t, 1, false, false);
	page = render(t, &in);
	assert_non_null(strstr(page, "# TYPE leakwatch_leak_stuck gauge\n"));
	assert_no_line_with(page, "leakwatch_leak_stuck{");
	assert_line(page, "leakwatch_leak_sites 0");
	assert_line(page, "leakwatch_leak_sites_omitted 0");
	free(page);

	for (i = 2; i < 40; i++)
		feed_leaks(t, i, false, false);
	page = render(t, &in);
	assert_line(page, "leakwatch_stuck_threads{pid=\"600\",comm=\"cprog\"} 39");
	assert_line(page, C_LEAK " 39");
	/* A goroutine's wait starts when a scan first sees it: the last two
	 * are not stuck yet. */
	assert_line(page, "leakwatch_goroutines_stuck{pid=\"500\",comm=\"gosrv\"} 37");
	assert_line(page, GO_LEAK " 37");
	assert_line(page, "leakwatch_leak_sites 2");
	assert_line(page, "leakwatch_leak_sites_omitted 0");
	assert_well_formed(page);
	free(page);
	tracker_free(t);
}

/* Released, the pile's series stays at 0 (the site stays flagged); when the
 * process exits (a -p target kept for the report at the end), it goes. */
static void test_leak_series_released_then_exited(void **state)
{
	struct lw_metrics_input in = {};
	struct lw_tracker *t = new_leak_tracker();
	char *page;
	size_t i;

	for (i = 0; i < 40; i++)
		feed_leaks(t, i, false, false);
	feed_leaks(t, 40, false, true);
	page = render(t, &in);
	assert_line(page, "leakwatch_stuck_threads{pid=\"600\",comm=\"cprog\"} 0");
	assert_line(page, C_LEAK " 0");
	assert_line(page, "leakwatch_leak_sites 2");
	free(page);

	feed_leaks(t, 41, true, false);
	page = render(t, &in);
	assert_no_line_with(page, "pid=\"600\"");
	assert_line(page, GO_LEAK " 39");
	assert_line(page, "leakwatch_leak_sites 1");
	free(page);
	tracker_free(t);
}

/*
 * A thread count that keeps growing with no pile (the new threads run): the
 * series of site "threads", valued at the threads its leak is judged on
 * (all of them here: none is in a pile), not at its stuck count (0).
 */
static void test_leak_series_of_threads(void **state)
{
	enum { SCANS = 150 };
	struct lw_metrics_input in = {};
	struct lw_tracker *t = new_leak_tracker();
	char *page, want[256];
	size_t i, k;

	for (i = 0; i < SCANS; i++) {
		uint64_t now = (100 + i) * SEC;
		struct lw_task_rec r;

		tracker_scan_begin(t, now, &test_clock);
		for (k = 0; k <= i; k++) {
			r = task(C_PID, (uint32_t)(C_PID + k), false, 0, now);
			tracker_scan_task(t, &r, NULL);
		}
		tracker_scan_end(t);
	}
	page = render(t, &in);
	snprintf(want, sizeof(want), "leakwatch_leak_stuck{pid=\"600\",comm=\"cprog\",site=\"threads\","
		 "wait=\"threads\",where=\"\",waiter=\"thread\"} %d", SCANS);
	assert_line(page, "leakwatch_stuck_threads{pid=\"600\",comm=\"cprog\"} 0");
	assert_line(page, want);
	assert_line(page, "leakwatch_leak_sites 1");
	free(page);
	tracker_free(t);
}

/* Past the cap, a leaked site gets no series but is counted. */
static void test_leak_series_capped(void **state)
{
	struct lw_metrics_input in = { .max_leak_series = 1 };
	struct lw_tracker *t = new_leak_tracker();
	const char *at;
	char *page;
	size_t i;

	for (i = 0; i < 40; i++)
		feed_leaks(t, i, false, false);
	page = render(t, &in);
	at = strstr(page, "\nleakwatch_leak_stuck{");
	assert_non_null(at);
	assert_null(strstr(at + 1, "\nleakwatch_leak_stuck{"));
	assert_line(page, "leakwatch_leak_sites 2");
	assert_line(page, "leakwatch_leak_sites_omitted 1");
	free(page);
	tracker_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cgroup_labels_on_process_series),
		cmocka_unit_test(test_goroutine_gauges_and_stuck_by_wait),
		cmocka_unit_test(test_goroutine_scan_cost),
		cmocka_unit_test(test_page_well_formed),
		cmocka_unit_test(test_leak_series),
		cmocka_unit_test(test_leak_series_released_then_exited),
		cmocka_unit_test(test_leak_series_of_threads),
		cmocka_unit_test(test_leak_series_capped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

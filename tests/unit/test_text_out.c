// SPDX-License-Identifier: GPL-2.0
/* The text view (user/text_out.c): line mode and the table. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "text_out.h"
#include "tracker.h"

#define SEC 1000000000ULL
#define MS 1000000ULL
#define FFFD "\xef\xbf\xbd"

/* A text_out writing into memory. */
struct cap {
	struct text_out o;
	FILE *f;
	char *buf;
	size_t len;
};

static int setup_lines(void **state)
{
	struct cap *c = calloc(1, sizeof(*c));

	if (!c || !(c->f = open_memstream(&c->buf, &c->len)))
		return -1;
	text_out_init(&c->o, c->f, false, 10 * SEC, 1 * SEC);
	*state = c;
	return 0;
}

static int setup_table(void **state)
{
	struct cap *c;

	if (setup_lines(state))
		return -1;
	c = *state;
	c->o.table = true;
	return 0;
}

static int teardown(void **state)
{
	struct cap *c = *state;

	text_out_free(&c->o);
	fclose(c->f);
	free(c->buf);
	free(c);
	return 0;
}

/* Everything written so far (text_emit flushes), then forget it. */
static char *take(struct cap *c)
{
	char *s;

	fflush(c->f);
	/* c->len, not the NUL: after a rewind, older bytes follow the new ones. */
	s = strndup(c->buf ? c->buf : "", c->len);
	assert_non_null(s);
	rewind(c->f);
	fflush(c->f);
	return s;
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void assert_contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle)) {
		print_error("\"%s\" not in:\n%s\n", needle, hay);
		fail();
	}
}

static void assert_no_control_bytes(const char *s, bool allow_escape)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '\n' || (allow_escape && ch == 0x1b))
			continue;
		if (ch < 0x20 || ch == 0x7f) {
			print_error("control byte 0x%02x in output\n", ch);
			fail();
		}
	}
}

static struct lw_wait futex_wait(void)
{
	struct lw_wait w = {
		.kind = "futex",
		.syscall = "futex",
		.has_futex = true,
		.futex_addr = 0x7f00001000ULL,
		.futex_op = "FUTEX_WAIT_PRIVATE",
	};

	return w;
}

static struct lw_report stuck(const char *comm, const char *pcomm, const struct lw_wait *w)
{
	struct lw_report r = {
		.type = LW_RPT_STUCK,
		.ts = 1700000000.0,
		.pid = 1234,
		.tid = 1240,
		.comm = comm,
		.pcomm = pcomm,
		.state = 'S',
		.blocked_s = 12.5,
		.since_exact = true,
		.wait = w,
	};

	return r;
}

static struct lw_report sample(uint32_t pid, uint32_t threads, uint32_t blocked, uint32_t n_stuck)
{
	struct lw_report r = {
		.type = LW_RPT_SAMPLE,
		.ts = 1700000000.0,
		.pid = pid,
		.pcomm = "app",
		.threads = threads,
		.blocked = blocked,
		.stuck = n_stuck,
	};

	return r;
}

/* ---- Line mode ---- */

static void test_stuck_line(void **state)
{
	struct cap *c = *state;
	struct lw_wait w = futex_wait();
	struct lw_report r = stuck("worker", "server", &w);
	char *s;

	text_emit(&c->o, &r);
	s = take(c);
	assert_int_equal(count_lines(s), 1);
	assert_contains(s, "STUCK");
	assert_contains(s, "pid 1234 (server)");
	assert_contains(s, "tid 1240 (worker)");
	assert_contains(s, " S ");
	assert_contains(s, "blocked 12.5s");
	assert_contains(s, "futex FUTEX_WAIT_PRIVATE 0x7f00001000");
	assert_true(strstr(s, ">=") == NULL);
	free(s);
}

static void test_stuck_line_inexact_and_d_state(void **state)
{
	struct cap *c = *state;
	struct lw_wait w = { .kind = "read", .syscall = "read" };
	struct lw_report r = stuck("worker", "server", &w);
	char *s;

	r.since_exact = false;
	r.state = 'D';
	r.blocked_s = 150;
	text_emit(&c->o, &r);
	s = take(c);
	assert_contains(s, " D ");
	assert_contains(s, "blocked >=2m30s in read");
	free(s);
}

static void test_stuck_line_shows_syscall_when_kind_differs(void **state)
{
	struct cap *c = *state;
	struct lw_wait w = { .kind = "poll", .syscall = "pselect6" };
	struct lw_report r = stuck("w", "p", &w);
	char *s;

	text_emit(&c->o, &r);
	s = take(c);
	assert_contains(s, "in poll (pselect6)");
	free(s);
}

static void test_stuck_line_without_wait_says_kernel(void **state)
{
	struct cap *c = *state;
	struct lw_report r = stuck("w", "p", NULL);
	char *s;

	text_emit(&c->o, &r);
	s = take(c);
	assert_contains(s, "in kernel");
	free(s);
}

static void test_unstuck_line(void **state)
{
	struct cap *c = *state;
	struct lw_report r = {
		.type = LW_RPT_UNSTUCK,
		.ts = 1700000000.0,
		.pid = 1234,
		.tid = 1240,
		.comm = "worker",
		.pcomm = "server",
		.blocked_s = 23.5,
		.end_exact = true,
	};
	char *s;

	text_emit(&c->o, &r);
	s = take(c);
	assert_int_equal(count_lines(s), 1);
	assert_contains(s, "UNSTUCK");
	assert_contains(s, "pid 1234 (server) tid 1240 (worker)");
	assert_contains(s, "after 23.5s");
	free(s);

	r.end_exact = false;
	text_emit(&c->o, &r);
	s = take(c);
	assert_contains(s, "after ~23.5s");
	free(s);
}

static void test_sample_printed_only_when_counts_change(void **state)
{
	struct cap *c = *state;
	struct lw_report a = sample(1234, 10, 2, 0), b = sample(1234, 10, 3, 1);
	struct lw_report other = sample(555, 10, 2, 0);
	char *s;

	text_emit(&c->o, &a);
	s = take(c);
	assert_int_equal(count_lines(s), 1);
	assert_contains(s, "SAMPLE");
	assert_contains(s, "pid 1234 (app) threads 10 blocked 2 stuck 0");
	free(s);

	text_emit(&c->o, &a);
	text_emit(&c->o, &a);
	s = take(c);
	assert_string_equal(s, "");
	free(s);

	/* Another process has counts of its own. */
	text_emit(&c->o, &other);
	s = take(c);
	assert_contains(s, "pid 555");
	free(s);

	text_emit(&c->o, &b);
	s = take(c);
	assert_contains(s, "threads 10 blocked 3 stuck 1");
	free(s);
	text_emit(&c->o, &b);
	text_emit(&c->o, &other);
	s = take(c);
	assert_string_equal(s, "");
	free(s);

	/* Back to the first counts: a change again. */
	text_emit(&c->o, &a);
	s = take(c);
	assert_contains(s, "blocked 2 stuck 0");
	free(s);
}

static void test_exit_line_and_sample_after_it(void **state)
{
	struct cap *c = *state;
	struct lw_report a = sample(1234, 4, 1, 0);
	struct lw_report e = { .type = LW_RPT_EXIT, .ts = 1700000000.0, .pid = 1234, .pcomm = "app" };
	char *s;

	text_emit(&c->o, &a);
	free(take(c));
	text_emit(&c->o, &e);
	s = take(c);
	assert_int_equal(count_lines(s), 1);
	assert_contains(s, "EXIT");
	assert_contains(s, "pid 1234 (app)");
	free(s);
	/* Forgotten: the same counts for a reused pid are printed. */
	text_emit(&c->o, &a);
	s = take(c);
	assert_contains(s, "SAMPLE");
	free(s);
}

static void test_control_chars_in_names_replaced(void **state)
{
	struct cap *c = *state;
	struct lw_wait w = futex_wait();
	struct lw_report r = stuck("a\nb\x1b[31m\t", "p\x7fq\x01", &w);
	char *s;

	text_emit(&c->o, &r);
	s = take(c);
	assert_int_equal(count_lines(s), 1);
	assert_no_control_bytes(s, false);
	assert_contains(s, "(a?b?[31m?)");
	assert_contains(s, "(p?q?)");
	free(s);
}

static void test_invalid_utf8_in_names_replaced(void **state)
{
	struct cap *c = *state;
	struct lw_wait w = futex_wait();
	struct lw_report r = stuck("\xff" "x\xc3\xb1", "\xe6\x97\xa5\xe6\x9c\xac", &w);
	char *s;

	text_emit(&c->o, &r);
	s = take(c);
	assert_contains(s, "(" FFFD "x\xc3\xb1)");
	assert_contains(s, "(\xe6\x97\xa5\xe6\x9c\xac)");
	free(s);
}

static void test_clean_name_reads_at_most_16_bytes(void **state)
{
	char *in = malloc(LW_COMM_LEN), out[3 * LW_COMM_LEN + 1];

	assert_non_null(in);
	memcpy(in, "0123456789\n\x7f" "abcd", LW_COMM_LEN); /* no NUL */
	text_clean_name(in, out);
	assert_string_equal(out, "0123456789??abcd");
	free(in);
}

static void test_summary_line(void **state)
{
	struct cap *c = *state;
	struct lw_drops d = { .ringbuf = 1, .task_storage = 2, .targets = 3, .tracker = 4 };
	struct lw_report r = {
		.type = LW_RPT_SUMMARY, .duration_s = 12.0, .events = 34, .drops = &d,
	};
	char *s;

	text_emit(&c->o, &r);
	s = take(c);
	assert_contains(s, "ran 12.0s, 34 events, 10 dropped");
	assert_contains(s, "(ring buffer 1, task storage 2, targets 3, tracker 4)");
	free(s);

	memset(&d, 0, sizeof(d));
	text_emit(&c->o, &r);
	s = take(c);
	assert_contains(s, "34 events, 0 dropped\n");
	assert_true(strchr(s, '(') == NULL);
	free(s);
}

/* ---- Table mode ---- */

struct table_fx {
	struct cap cap;
	struct lw_tracker *t;
};

/* Stacks for the table: one frame, whose symbol holds an escape sequence. */
static int one_frame_unwind(void *ctx, const struct lw_task_rec *r, uint64_t *pcs, int max)
{
	pcs[0] = 0x401000;
	return 1;
}

static void evil_symbolize(void *ctx, uint32_t pid, uint64_t pc, bool first, char *buf,
			   size_t len)
{
	snprintf(buf, len, "evil\x1b[2Jfn+0x1 (app\n)");
}

static int setup_tracker(void **state)
{
	struct table_fx *fx = calloc(1, sizeof(*fx));
	struct lw_tracker_opts opts = {
		.threshold_ns = 10 * SEC,
		.stacks = { .unwind = one_frame_unwind, .symbolize_user = evil_symbolize },
	};

	if (!fx || !(fx->cap.f = open_memstream(&fx->cap.buf, &fx->cap.len)))
		return -1;
	text_out_init(&fx->cap.o, fx->cap.f, true, 10 * SEC, 500 * MS);
	opts.sink.emit = text_emit;
	opts.sink.ctx = &fx->cap.o;
	if (tracker_new(&opts, &fx->t))
		return -1;
	*state = fx;
	return 0;
}

static int teardown_tracker(void **state)
{
	struct table_fx *fx = *state;

	tracker_free(fx->t);
	text_out_free(&fx->cap.o);
	fclose(fx->cap.f);
	free(fx->cap.buf);
	free(fx);
	return 0;
}

static struct lw_task_rec rec(uint32_t pid, uint32_t tid, const char *comm, uint64_t since_s,
			      uint64_t now_s)
{
	struct lw_task_rec r = {
		.type = LW_REC_TASK,
		.pid = pid,
		.tid = tid,
		.flags = since_s ? LW_TF_BLOCKED | LW_TF_IN_SYSCALL : 0,
		.now_ns = now_s * SEC,
		.blocked_since_ns = since_s * SEC,
		.syscall_nr = since_s ? 202 : -1,
		.args = { 0x7f0000002000ULL, 128, 0 },
	};

	snprintf(r.comm, sizeof(r.comm), "%s", comm);
	snprintf(r.pcomm, sizeof(r.pcomm), "proc%u", pid);
	return r;
}

static void feed(struct lw_tracker *t, const struct lw_task_rec *recs, size_t n)
{
	size_t i;

	tracker_scan_begin(t, n ? recs[0].now_ns : 0, &(struct lw_clock){ 0 });
	for (i = 0; i < n; i++)
		tracker_scan_task(t, &recs[i], NULL);
	tracker_scan_end(t);
}

static const char *after(const char *hay, const char *needle)
{
	const char *p = strstr(hay, needle);

	if (!p) {
		print_error("\"%s\" not in:\n%s\n", needle, hay);
		fail();
	}
	return p;
}

static void test_table_mode_defers_events(void **state)
{
	struct cap *c = *state;
	struct lw_wait w = futex_wait();
	struct lw_report r = stuck("worker", "server", &w), smp = sample(1, 1, 0, 0);
	char *s;

	text_emit(&c->o, &r);
	text_emit(&c->o, &smp);
	s = take(c);
	assert_string_equal(s, "");
	free(s);
}

static void test_table_lists_stuck_threads_longest_first(void **state)
{
	struct table_fx *fx = *state;
	const struct lw_task_rec recs[] = {
		rec(100, 100, "main", 0, 1000),
		rec(100, 101, "middle", 900, 1000),
		rec(100, 102, "longest", 400, 1000),
		rec(100, 103, "shortest", 985, 1000),
		rec(100, 104, "notyet", 995, 1000), /* 5s: under the threshold */
		rec(200, 201, "other", 700, 1000),
	};
	const char *hdr, *p1, *p2, *p3, *p4;
	char *s;

	tracker_add_target(fx->t, 100);
	feed(fx->t, recs, sizeof(recs) / sizeof(recs[0]));
	text_render(&fx->cap.o, fx->t, 1700000000.0);
	s = take(&fx->cap);
	assert_no_control_bytes(s, true);
	assert_contains(s, "threshold 10.0s");
	assert_contains(s, "interval 500ms");
	/* Processes: counts per process. */
	after(s, "PID");
	after(s, "PROCESS");
	after(s, "THREADS");
	after(s, "BLOCKED");
	assert_contains(s, "proc100");
	assert_contains(s, "proc200");
	/* Threads: a header, then longest first. */
	hdr = after(s, "TID");
	p1 = after(hdr, "longest");
	p2 = after(hdr, "other");
	p3 = after(hdr, "middle");
	p4 = after(hdr, "shortest");
	assert_true(p1 < p2 && p2 < p3 && p3 < p4);
	assert_null(strstr(hdr, "notyet"));
	assert_null(strstr(hdr, "main"));
	assert_contains(p1, "10m00s");
	assert_contains(p1, "futex FUTEX_WAIT_PRIVATE");
	assert_null(strstr(s, "(no stuck threads)"));
	free(s);
}

/* A table of 3 stuck threads in 12 rows: title, processes, the site with
 * its frame take 10, so one thread and "... and 2 more"; lines cut to 40
 * columns; no newline after the last line. */
static void test_table_fits_rows_and_width(void **state)
{
	struct table_fx *fx = *state;
	const struct lw_task_rec recs[] = {
		rec(100, 101, "t1", 100, 1000),
		rec(100, 102, "t2", 200, 1000),
		rec(100, 103, "t3", 300, 1000),
	};
	const char *line;
	char *s;

	tracker_add_target(fx->t, 100);
	feed(fx->t, recs, 3);
	fx->cap.o.rows = 12;
	fx->cap.o.cols = 40;
	text_render(&fx->cap.o, fx->t, 1700000000.0);
	s = take(&fx->cap);
	assert_int_equal(count_lines(s), 11);
	assert_true(s[strlen(s) - 1] != '\n');
	assert_contains(s, "leakwatch ");
	assert_contains(s, "proc100");
	assert_contains(s, "SITE");
	assert_contains(s, "\n                         #0 evil?[2Jfn+0\n");
	assert_contains(s, " t1 ");
	assert_null(strstr(s, " t2 "));
	assert_null(strstr(s, " t3 "));
	assert_contains(s, "... and 2 more");
	for (line = after(s, "\033[2J") + 4; *line; line += strcspn(line, "\n") + !!line[strcspn(line, "\n")])
		assert_true(strcspn(line, "\n") <= 40);
	free(s);

	/* One row more: all three threads. */
	fx->cap.o.rows = 13;
	text_render(&fx->cap.o, fx->t, 1700000000.0);
	s = take(&fx->cap);
	assert_int_equal(count_lines(s), 12);
	assert_contains(s, " t3 ");
	assert_null(strstr(s, "more"));
	free(s);
}

/* The width is cut between characters, not inside one. */
static void test_table_cut_keeps_utf8_whole(void **state)
{
	struct table_fx *fx = *state;
	const struct lw_task_rec recs[] = { rec(100, 101, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 100, 1000) };
	char *s;

	tracker_add_target(fx->t, 100);
	feed(fx->t, recs, 1);
	fx->cap.o.cols = 21; /* "     100      101 " and 3 of the 5 */
	text_render(&fx->cap.o, fx->t, 1700000000.0);
	s = take(&fx->cap);
	/* the last line: the thread */
	assert_string_equal(strrchr(s, '\n'), "\n     100      101 \xc3\xa9\xc3\xa9\xc3\xa9");
	free(s);
}

/* After a table, the summary starts a line of its own. */
static void test_table_then_summary_on_its_own_line(void **state)
{
	struct table_fx *fx = *state;
	struct lw_report r = { .type = LW_RPT_SUMMARY, .duration_s = 1.0, .events = 2 };
	char *s;

	fx->cap.o.rows = 24;
	text_render(&fx->cap.o, fx->t, 1700000000.0);
	text_emit(&fx->cap.o, &r);
	s = take(&fx->cap);
	assert_contains(s, "(no stuck threads)\nleakwatch: ran 1.0s");
	free(s);
}

/* ---- The layout alone ---- */

/* The lines a plan prints, as print_table prints them. */
static size_t plan_lines(const struct text_table_counts *c, const struct text_table_plan *p)
{
	size_t n = 3 + (c->procs ? p->procs + !!p->procs_more : 1);

	if (p->sites_shown)
		n += 2 + p->sites + p->frames + !!p->sites_more;
	if (p->spins_shown)
		n += 2 + p->spins + !!p->spins_more;
	if (p->threads_shown)
		n += 2 + (c->threads ? p->threads + !!p->threads_more : 1);
	return n;
}

static void test_fit_no_limit_shows_everything(void **state)
{
	struct text_table_counts c = { .procs = 300, .sites = 10, .spins = 4, .threads = 5000,
				       .site_frames = { 6, 6, 6, 6, 6, 6, 6, 6, 6, 6 } };
	struct text_table_plan p;

	(void)state;
	text_table_fit(0, &c, &p);
	assert_int_equal(p.procs, 300);
	assert_int_equal(p.sites, 10);
	assert_int_equal(p.frames, 60);
	assert_int_equal(p.spins, 4);
	assert_int_equal(p.threads, 5000);
	assert_int_equal(p.procs_more + p.sites_more + p.spins_more + p.threads_more, 0);
	assert_true(p.sites_shown && p.spins_shown && p.threads_shown);
}

/* The case: 140 stuck threads at one site of 5 frames. */
static void test_fit_140_threads(void **state)
{
	struct text_table_counts c = { .procs = 1, .sites = 1, .threads = 140,
				       .site_frames = { 5 } };
	struct text_table_plan p;

	(void)state;
	text_table_fit(40, &c, &p);
	assert_int_equal(p.procs, 1);
	assert_int_equal(p.sites, 1);
	assert_int_equal(p.frames, 5);
	/* 40 - title, blank, header, process - blank, header, site, 5 frames
	 * - blank, header - the "more" line */
	assert_int_equal(p.threads, 25);
	assert_int_equal(p.threads_more, 115);
	assert_int_equal(plan_lines(&c, &p), 40);

	text_table_fit(24, &c, &p);
	assert_int_equal(p.frames, 5);
	assert_int_equal(p.threads, 9);
	assert_int_equal(p.threads_more, 131);
	assert_int_equal(plan_lines(&c, &p), 24);
}

/* Host-wide, hundreds of processes: they leave room for sites and threads. */
static void test_fit_many_processes_leave_room_for_the_rest(void **state)
{
	struct text_table_counts c = { .procs = 200, .sites = 3, .spins = 2, .threads = 50,
				       .site_frames = { 6, 6, 6 } };
	struct text_table_plan p;

	(void)state;
	text_table_fit(24, &c, &p);
	assert_true(p.sites_shown && p.spins_shown && p.threads_shown);
	assert_int_equal(p.procs_more, 200 - p.procs);
	assert_int_equal(p.procs, 24 - 3 - 9 - 1); /* 3 sections of 3, the "more" line */
	assert_int_equal(p.sites, 0);
	assert_int_equal(p.sites_more, 3);
	assert_int_equal(p.threads, 0);
	assert_int_equal(p.threads_more, 50);
	assert_int_equal(plan_lines(&c, &p), 24);
}

/* Sites before their frames, frames before spins and threads. */
static void test_fit_site_rows_then_frames_then_threads(void **state)
{
	struct text_table_counts c = { .procs = 1, .sites = 10, .threads = 5,
				       .site_frames = { 6, 6, 6, 6, 6, 6, 6, 6, 6, 6 } };
	struct text_table_plan p;

	(void)state;
	text_table_fit(30, &c, &p);
	assert_int_equal(p.sites, 10);
	assert_int_equal(p.sites_more, 0);
	assert_int_equal(p.frames, 30 - 4 - 12 - 3);
	assert_int_equal(p.threads, 0);
	assert_int_equal(p.threads_more, 5);
	assert_int_equal(plan_lines(&c, &p), 30);
}

static void test_fit_everything_that_fits_has_no_more_line(void **state)
{
	struct text_table_counts c = { .procs = 2, .sites = 1, .spins = 1, .threads = 3,
				       .site_frames = { 2 } };
	struct text_table_plan p;

	(void)state;
	text_table_fit(80, &c, &p);
	assert_int_equal(p.procs_more + p.sites_more + p.spins_more + p.threads_more, 0);
	assert_int_equal(p.threads, 3);
	assert_int_equal(plan_lines(&c, &p), 5 + 5 + 3 + 5);
}

/* Any size, any counts: never more lines than rows (from the 4 the title,
 * the header and one process line need); from 13 rows every section is
 * there; and a cut-short table uses the whole screen. */
static void test_fit_never_more_lines_than_rows(void **state)
{
	static const size_t ns[] = { 0, 1, 2, 7, 40, 500 };
	struct text_table_counts c;
	struct text_table_plan p;
	unsigned int rows;
	size_t a, b, d, e, i;

	(void)state;
	for (a = 0; a < 6; a++)
	for (b = 0; b < 4; b++)
	for (d = 0; d < 4; d++)
	for (e = 0; e < 6; e++)
	for (rows = 4; rows <= 70; rows++) {
		memset(&c, 0, sizeof(c));
		c.procs = ns[a];
		c.sites = ns[b] < TEXT_TABLE_SITES ? ns[b] : TEXT_TABLE_SITES;
		for (i = 0; i < c.sites; i++)
			c.site_frames[i] = i % 7;
		c.spins = ns[d];
		c.threads = ns[e];
		text_table_fit(rows, &c, &p);
		assert_true(plan_lines(&c, &p) <= rows);
		if (rows < 13)
			continue;
		assert_true(p.threads_shown);
		assert_true(p.sites_shown == (c.sites > 0));
		assert_true(p.spins_shown == (c.spins > 0));
		assert_int_equal(p.procs + p.procs_more, c.procs);
		assert_int_equal(p.threads + p.threads_more, c.threads);
		if (p.procs_more || p.sites_more || p.spins_more || p.threads_more)
			assert_int_equal(plan_lines(&c, &p), rows);
	}
}

static void test_table_empty(void **state)
{
	struct table_fx *fx = *state;
	const struct lw_task_rec recs[] = { rec(100, 101, "idle", 995, 1000) };
	char *s;

	feed(fx->t, recs, 1); /* host-wide view: no target, nothing stuck */
	text_render(&fx->cap.o, fx->t, 1700000000.0);
	s = take(&fx->cap);
	assert_contains(s, "(no process with stuck threads)");
	assert_contains(s, "(no stuck threads)");
	free(s);
}

static void test_table_names_cleaned(void **state)
{
	struct table_fx *fx = *state;
	const struct lw_task_rec recs[] = { rec(100, 101, "evil\x1b]0;x\x07", 100, 1000) };
	const char *rows;
	char *s;

	tracker_add_target(fx->t, 100);
	feed(fx->t, recs, 1);
	text_render(&fx->cap.o, fx->t, 1700000000.0);
	s = take(&fx->cap);
	/* The only escapes are the table's own clear-screen, at the start. */
	rows = after(s, "\033[H\033[2J") + strlen("\033[H\033[2J");
	assert_null(strchr(rows, 0x1b));
	assert_no_control_bytes(rows, false);
	assert_contains(rows, "evil?]0;x?");
	/* The sites section shows the frame, cleaned too. */
	assert_contains(after(rows, "SITE"), "#0 evil?[2Jfn+0x1 (app?)");
	free(s);
}

static void test_table_summary_still_printed(void **state)
{
	struct cap *c = *state;
	struct lw_report r = { .type = LW_RPT_SUMMARY, .duration_s = 1.0, .events = 2 };
	char *s;

	text_emit(&c->o, &r);
	s = take(c);
	assert_contains(s, "leakwatch: ran 1.0s, 2 events, 0 dropped");
	free(s);
}

/* ---- Sites, leaks, spins ---- */

static struct lw_site *make_site(void)
{
	struct lw_site *site = calloc(1, sizeof(*site));

	assert_non_null(site);
	site->id = 7;
	snprintf(site->name, sizeof(site->name), "7");
	snprintf(site->kind, sizeof(site->kind), "futex");
	site->user.n = 2;
	snprintf(site->user.frames[0], LW_FRAME_TEXT, "pthread_cond_wait+0x1a (libc.so.6)");
	snprintf(site->user.frames[1], LW_FRAME_TEXT, "handler\x1b[2J+0x42 (server)");
	site->kernel.n = 2;
	snprintf(site->kernel.frames[0], LW_FRAME_TEXT, "futex_wait_queue+0x60/0xa0");
	snprintf(site->kernel.frames[1], LW_FRAME_TEXT, "do_futex\a+0x10/0x20");
	return site;
}

static void test_stuck_line_names_site(void **state)
{
	struct cap *c = *state;
	struct lw_wait w = futex_wait();
	struct lw_report r = stuck("worker", "server", &w);
	struct lw_site *site = make_site();
	char *s;

	r.site = site;
	text_emit(&c->o, &r);
	s = take(c);
	assert_int_equal(count_lines(s), 1);
	assert_contains(s, " at site 7\n");
	free(s);
	free(site);
}

static void test_site_record_prints_nothing(void **state)
{
	struct cap *c = *state;
	struct lw_site *site = make_site();
	struct lw_report r = { .type = LW_RPT_SITE, .ts = 1.0, .pid = 1, .pcomm = "p", .site = site };
	char *s;

	text_emit(&c->o, &r);
	s = take(c);
	assert_string_equal(s, "");
	free(s);
	free(site);
}

static void test_leak_line_with_stacks(void **state)
{
	struct cap *c = *state;
	struct lw_site *site = make_site();
	struct lw_report r = {
		.type = LW_RPT_LEAK, .ts = 1700000000.0, .pid = 1234, .pcomm = "server",
		.site = site, .stuck = 17, .threads = 40, .growth_per_min = 5.25,
	};
	char *s;

	text_emit(&c->o, &r);
	s = take(c);
	assert_contains(s, "LEAK");
	assert_contains(s, "pid 1234 (server): 17 threads stuck in futex for >10.0s at site 7");
	assert_contains(s, "+5.2/min");
	assert_contains(s, "#0  pthread_cond_wait+0x1a (libc.so.6)");
	assert_contains(s, "#1  handler?[2J+0x42 (server)");
	assert_contains(s, "kernel: futex_wait_queue <- do_futex?\n");
	assert_no_control_bytes(s, false);
	free(s);
	free(site);
}

static void test_spin_line_with_stack(void **state)
{
	struct cap *c = *state;
	struct lw_stack_text *st = calloc(1, sizeof(*st));
	struct lw_report r = {
		.type = LW_RPT_SPIN, .ts = 1700000000.0, .pid = 10, .tid = 11, .comm = "spinner",
		.pcomm = "server", .running_s = 12.5,
	};
	char *s;

	assert_non_null(st);
	st->n = 1;
	snprintf(st->frames[0], LW_FRAME_TEXT, "busy_loop+0x8 (server)");
	r.stack = st;
	text_emit(&c->o, &r);
	s = take(c);
	assert_contains(s, "SPIN");
	assert_contains(s, "pid 10 (server) tid 11 (spinner) ran 12.5s without blocking");
	assert_contains(s, "#0  busy_loop+0x8 (server)");
	free(s);

	r.stack = NULL;
	text_emit(&c->o, &r);
	s = take(c);
	assert_contains(s, "(no user stack)");
	free(s);
	free(st);
}

static void test_table_shows_sites_and_spins(void **state)
{
	struct table_fx *fx = *state;
	struct lw_task_rec spin = rec(100, 110, "spinner", 0, 990);
	struct lw_task_rec r4 = rec(100, 104, "reader", 100, 1000);
	const char *sites;
	char *s;

	spin.flags = LW_TF_RUNNABLE;
	spin.nvcsw = 3;
	r4.syscall_nr = 0; /* read */
	tracker_add_target(fx->t, 100);
	feed(fx->t, &spin, 1);
	spin.now_ns = 1000 * SEC;
	{
		const struct lw_task_rec recs[] = {
			rec(100, 101, "a", 100, 1000), rec(100, 102, "b", 200, 1000),
			rec(100, 103, "c", 300, 1000), r4, spin,
		};

		feed(fx->t, recs, 5);
	}
	text_render(&fx->cap.o, fx->t, 1700000000.0);
	s = take(&fx->cap);
	sites = after(s, "SITE");
	/* The futex site (3 stuck) before the read site (1). */
	assert_true(after(sites, "futex") < after(sites, "read"));
	assert_contains(sites, "       3      100");
	assert_contains(s, "SPINNING");
	/* No Go process: no goroutine columns. */
	assert_null(strstr(s, "GOROUTINES"));
	assert_contains(after(s, "SPINNING"), "spinner");
	free(s);
}

/* The report at the end of a run counts leaking sites: one site reported
 * three times as it grew is one leak (it used to say "3 leaks"). */
static void test_leak_report_counts_sites_not_reports(void **state)
{
	struct table_fx *fx = *state;
	struct lw_task_rec recs[81];
	struct lw_tracker_stats stats;
	size_t i, k, leak_lines = 0;
	FILE *f;
	char *buf = NULL, *p;
	size_t len = 0;

	tracker_add_target(fx->t, 100);
	for (i = 0; i < 80; i++) {
		recs[0] = rec(100, 100, "main", 0, 100 + i);
		for (k = 0; k < i; k++)
			recs[k + 1] = rec(100, (uint32_t)(1000 + k), "w", 50, 100 + i);
		feed(fx->t, recs, i + 1);
	}
	tracker_stats(fx->t, &stats);
	assert_true(stats.leaks >= 2);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	text_leak_report(f, fx->t, 10 * SEC);
	fclose(f);
	assert_contains(buf, "leakwatch: 1 leak found:\n");
	for (p = buf; (p = strstr(p, " LEAK ")); p++)
		leak_lines++;
	assert_int_equal(leak_lines, 1);
	free(buf);
}

/* A leak of the thread count: no site to name, no stack. */
static void test_threads_leak_line(void **state)
{
	struct cap *c = *state;
	struct lw_site *site = make_site();
	struct lw_report r = {
		.type = LW_RPT_LEAK, .ts = 1700000000.0, .pid = 1234, .pcomm = "server",
		.site = site, .stuck = 0, .threads = 57, .growth_per_min = 12.0,
	};
	char *s;

	snprintf(site->name, sizeof(site->name), "threads");
	snprintf(site->kind, sizeof(site->kind), "threads");
	text_emit(&c->o, &r);
	s = take(c);
	assert_contains(s, "pid 1234 (server): 57 threads and growing, at no single site, +12.0/min");
	assert_int_equal(count_lines(s), 1);
	free(s);
	free(site);
}

/* ---- Goroutines ---- */

static struct lw_site *make_go_site(void)
{
	struct lw_site *site = calloc(1, sizeof(*site));

	assert_non_null(site);
	site->id = 9;
	snprintf(site->name, sizeof(site->name), "9");
	snprintf(site->kind, sizeof(site->kind), "chan send");
	site->goroutine = true;
	snprintf(site->where, sizeof(site->where),
		 "chan send in main.queryAll.func1 (main.go:21), created by main.queryAll");
	site->user.n = 2;
	snprintf(site->user.frames[0], LW_FRAME_TEXT, "runtime.gopark+0xce (/go/src/runtime/proc.go:381)");
	snprintf(site->user.frames[1], LW_FRAME_TEXT, "main.queryAll.func1+0x50 (/src/main.go:21)");
	return site;
}

static void test_goroutine_stuck_and_unstuck_lines(void **state)
{
	struct cap *c = *state;
	struct lw_wait w = { .kind = "chan send" };
	struct lw_site *site = make_go_site();
	struct lw_report r = {
		.type = LW_RPT_STUCK, .ts = 1700000000.0, .pid = 1234, .goid = 77, .comm = "",
		.pcomm = "server", .state = 'S', .blocked_s = 12.5, .wait = &w, .site = site,
		.func = "main.queryAll.func1", .created_by = "main.queryAll (/src/main.go:19)",
	};
	char *s;

	text_emit(&c->o, &r);
	s = take(c);
	assert_int_equal(count_lines(s), 1);
	assert_contains(s, "STUCK   pid 1234 (server) goroutine 77 blocked >=12.5s in chan send "
			   "at site 9 (main.queryAll.func1, created by main.queryAll "
			   "(/src/main.go:19))\n");
	assert_null(strstr(s, "tid"));
	free(s);

	r.type = LW_RPT_UNSTUCK;
	r.blocked_s = 20;
	text_emit(&c->o, &r);
	s = take(c);
	assert_contains(s, "UNSTUCK pid 1234 (server) goroutine 77 ran again after ~20.0s\n");
	free(s);
	free(site);
}

/* A Go process read less often than the interval (1 s here) says so. */
static void test_sample_line_goroutine_scan_interval(void **state)
{
	struct cap *c = *state;
	struct lw_report r = sample(5, 8, 6, 0);
	char *s;

	r.go = true;
	r.goroutines = 100000;
	r.goroutine_scan_interval_s = 1.0; /* every interval: nothing said */
	text_emit(&c->o, &r);
	s = take(c);
	assert_null(strstr(s, "read every"));
	free(s);
	r.goroutine_scan_interval_s = 3.0;
	r.goroutines = 100001;
	text_emit(&c->o, &r);
	s = take(c);
	assert_contains(s, "goroutines 100001 blocked 0 stuck 0 (goroutines read every 3.0s)\n");
	free(s);
}

static void test_sample_line_of_go_process(void **state)
{
	struct cap *c = *state;
	struct lw_report r = sample(5, 8, 6, 0);
	char *s;

	r.go = true;
	r.goroutines = 1003;
	r.goroutines_blocked = 1000;
	r.goroutines_stuck = 990;
	text_emit(&c->o, &r);
	s = take(c);
	assert_contains(s, "threads 8 blocked 6 stuck 0 goroutines 1003 blocked 1000 stuck 990\n");
	free(s);
	/* A change in the goroutines alone is a new line. */
	text_emit(&c->o, &r);
	r.goroutines_stuck = 991;
	text_emit(&c->o, &r);
	s = take(c);
	assert_int_equal(count_lines(s), 1);
	assert_contains(s, "stuck 991");
	free(s);
}

static void test_goroutine_leak_line_and_log_line(void **state)
{
	struct cap *c = *state;
	struct lw_site *site = make_go_site();
	struct lw_report r = {
		.type = LW_RPT_LEAK, .ts = 1700000000.0, .pid = 1234, .pcomm = "server",
		.site = site, .stuck = 300, .threads = 9, .go = true, .goroutines = 305,
		.growth_per_min = 60.0,
	};
	char *s, *buf = NULL;
	size_t len = 0;
	FILE *f;

	text_emit(&c->o, &r);
	s = take(c);
	assert_contains(s, "LEAK    pid 1234 (server): 300 goroutines @ chan send in "
			   "main.queryAll.func1 (main.go:21), created by main.queryAll, parked "
			   ">10.0s (site 9), +60.0/min");
	assert_contains(s, "#0  runtime.gopark+0xce (/go/src/runtime/proc.go:381)\n");
	assert_contains(s, "#1  main.queryAll.func1+0x50 (/src/main.go:21)\n");
	assert_null(strstr(s, "kernel:"));
	free(s);

	f = open_memstream(&buf, &len);
	assert_non_null(f);
	text_log_line(f, &r);
	fclose(f);
	assert_string_equal(buf, "leakwatch: LEAK pid 1234 (server): 300 goroutines @ chan send in "
				 "main.queryAll.func1 (main.go:21), created by main.queryAll "
				 "(site 9), +60.0/min\n");
	free(buf);
	free(site);
}

static void test_spin_line_names_its_goroutine(void **state)
{
	struct cap *c = *state;
	struct lw_report r = {
		.type = LW_RPT_SPIN, .ts = 1700000000.0, .pid = 10, .tid = 11, .comm = "server",
		.pcomm = "server", .running_s = 12.5, .goid = 42, .func = "main.spin",
		.created_by = "main.main (/src/main.go:9)",
	};
	char *s;

	text_emit(&c->o, &r);
	s = take(c);
	assert_contains(s, "tid 11 (server) ran 12.5s without blocking, goroutine 42 (main.spin, "
			   "created by main.main (/src/main.go:9))\n");
	free(s);
}

/* A fake Go process for the table: pid 300, goroutines parked at a chan
 * send (startpc 0x2000) or a select (0x6000). */
static int go_unwind(void *ctx, uint32_t pid, const struct go_goroutine *g, uint64_t *pcs, int max)
{
	pcs[0] = 0x1000;
	pcs[1] = g->startpc + 0x50;
	pcs[2] = 0x1f00;
	return 3;
}

static int go_frames(void *ctx, uint32_t pid, uint64_t pc, bool first, struct go_frame *out,
		     int max)
{
	static const struct {
		uint64_t pc;
		const char *func, *file;
		int line;
	} fns[] = {
		{ 0x1000, "runtime.gopark", "/go/src/runtime/proc.go", 381 },
		{ 0x1f00, "runtime.goexit", "/go/src/runtime/asm_amd64.s", 1598 },
		{ 0x2000, "main.queryAll.func1", "/src/main.go", 20 },
		{ 0x2050, "main.queryAll.func1", "/src/main.go", 21 },
		{ 0x3000, "main.queryAll", "/src/main.go", 19 },
		{ 0x6000, "main.waiter", "/src/wait.go", 5 },
		{ 0x6050, "main.waiter", "/src/wait.go", 7 },
	};
	size_t i;

	if (pid != 300)
		return 0;
	for (i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		if (fns[i].pc != pc)
			continue;
		out[0] = (struct go_frame){ .func = fns[i].func, .file = fns[i].file,
					    .line = fns[i].line, .entry = pc & ~0xfffULL };
		return 1;
	}
	return 0;
}

static const char *go_reason(void *ctx, uint32_t pid, uint8_t reason)
{
	return reason == 15 ? "chan send" : reason == 9 ? "select" : "";
}

static int setup_go_tracker(void **state)
{
	struct table_fx *fx = calloc(1, sizeof(*fx));
	struct lw_tracker_opts opts = {
		.threshold_ns = 10 * SEC,
		.stacks = { .unwind = one_frame_unwind, .symbolize_user = evil_symbolize,
			    .unwind_goroutine = go_unwind, .go_frames = go_frames,
			    .go_wait_reason = go_reason },
	};

	if (!fx || !(fx->cap.f = open_memstream(&fx->cap.buf, &fx->cap.len)))
		return -1;
	text_out_init(&fx->cap.o, fx->cap.f, true, 10 * SEC, 500 * MS);
	opts.sink.emit = text_emit;
	opts.sink.ctx = &fx->cap.o;
	if (tracker_new(&opts, &fx->t))
		return -1;
	*state = fx;
	return 0;
}

static struct go_goroutine go_parked(uint64_t goid, uint64_t startpc, uint8_t reason)
{
	return (struct go_goroutine){ .goid = goid, .status = GO_G_WAITING, .wait_reason = reason,
				      .tracking_seq = 1, .sp_depth = 0x100, .startpc = startpc,
				      .gopc = 0x3000 };
}

static void feed_go(struct lw_tracker *t, uint64_t now_s, const struct lw_task_rec *recs,
		    size_t n, const struct go_goroutine *gs, size_t n_gs)
{
	size_t i;

	tracker_scan_begin(t, now_s * SEC, &(struct lw_clock){ 0 });
	for (i = 0; i < n; i++)
		tracker_scan_task(t, &recs[i], NULL);
	tracker_scan_goroutines(t, 300, gs, n_gs);
	tracker_scan_end(t);
}

/* Stuck goroutines grouped by site, most first, pprof debug=1 style; the
 * Go process's goroutine counts beside its threads; threads as ever. */
static void test_table_groups_stuck_goroutines_by_site(void **state)
{
	struct table_fx *fx = *state;
	const struct go_goroutine gs[] = {
		go_parked(6, 0x6000, 9),  go_parked(2, 0x2000, 15), go_parked(3, 0x2000, 15),
		go_parked(4, 0x2000, 15), { .goid = 5, .status = GO_G_RUNNING, .tid = 301 },
	};
	const char *procs, *sites, *send, *sel, *threads;
	char *s;

	tracker_add_target(fx->t, 300);
	{
		const struct lw_task_rec recs[] = { rec(300, 300, "gomain", 0, 100),
						    rec(300, 301, "gothread", 50, 100) };

		feed_go(fx->t, 100, recs, 2, gs, 5);
	}
	{
		const struct lw_task_rec recs[] = { rec(300, 300, "gomain", 0, 111),
						    rec(300, 301, "gothread", 50, 111) };

		feed_go(fx->t, 111, recs, 2, gs, 5);
	}
	text_render(&fx->cap.o, fx->t, 1700000000.0);
	s = take(&fx->cap);
	assert_no_control_bytes(s, true);
	if (getenv("SHOW_TABLE"))
		print_message("%s\n", s);
	procs = after(s, "GOROUTINES");
	/* threads 2, blocked 1, stuck 1; goroutines 5, blocked 4, stuck 4 */
	assert_contains(procs, "     300 proc300                 2        1        1          5       4       4");
	sites = after(s, "SITE");
	send = after(sites, "3 goroutines @ chan send in main.queryAll.func1 (main.go:21), "
			    "created by main.queryAll");
	sel = after(sites, "1 goroutine @ select in main.waiter (wait.go:7), created by main.queryAll");
	assert_true(send < sel);
	assert_contains(send, "#0 runtime.gopark+0x0 (/go/src/runtime/proc.go:381)");
	assert_contains(send, "#1 main.queryAll.func1+0x50 (/src/main.go:21)");
	/* The stuck thread is listed; no goroutine is. */
	threads = after(s, "THREAD ");
	assert_contains(threads, "gothread");
	assert_null(strstr(threads, "goroutine"));
	free(s);
}

/* At the end of a run: a goroutine leak named by its site. */
static void test_leak_report_names_goroutine_leaks(void **state)
{
	struct table_fx *fx = *state;
	struct go_goroutine gs[41];
	const struct lw_task_rec main_rec = rec(300, 300, "gomain", 0, 100);
	char *buf = NULL;
	size_t len = 0, i, k;
	FILE *f;

	tracker_add_target(fx->t, 300);
	for (i = 0; i < 40; i++) {
		struct lw_task_rec r = main_rec;

		r.now_ns = (100 + 5 * i) * SEC;
		for (k = 0; k < i; k++)
			gs[k] = go_parked(10 + k, 0x2000, 15);
		feed_go(fx->t, 100 + 5 * i, &r, 1, gs, i);
	}
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	text_leak_report(f, fx->t, 10 * SEC);
	fclose(f);
	if (getenv("SHOW_TABLE"))
		print_message("%s\n", buf);
	assert_contains(buf, "leakwatch: 1 leak found:\n");
	assert_contains(buf, "goroutines @ chan send in main.queryAll.func1 (main.go:21), created "
			     "by main.queryAll");
	assert_contains(buf, "#1  main.queryAll.func1+0x50 (/src/main.go:21)");
	free(buf);
}

/* The go record: the Go version and the reason come from the binary. */
static void test_go_line_cleans_the_binary_s_strings(void **state)
{
	struct cap *c = *state;
	struct lw_report r = {
		.type = LW_RPT_GO, .ts = 1700000000.0, .pid = 5, .pcomm = "server",
		.go_version = "go1.30\x1b[2J", .go_error = "no layout for go1.30\n\x1b]0;pwned\a",
	};
	char *s;

	text_emit(&c->o, &r);
	s = take(c);
	assert_int_equal(count_lines(s), 1);
	assert_no_control_bytes(s, false);
	assert_contains(s, "GO      pid 5 (server) go1.30?[2J: goroutines not read: no layout for "
			   "go1.30??]0;pwned?\n");
	free(s);
}

/* ---- Cgroups ---- */

#define CG_ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* A process's line names its container, pod or unit after its name; the
 * root cgroup adds nothing. */
static void test_lines_name_the_cgroup(void **state)
{
	const struct lw_cgroup docker = { "/system.slice/docker-" CG_ID ".scope", CG_ID, "docker",
					  "", "" };
	const struct lw_cgroup unit = { "/system.slice/db.service", "", "", "", "db.service" };
	const struct lw_cgroup root = { "/", "", "", "", "" };
	const struct lw_cgroup evil = { "/a\033[2J", "", "", "", "" };
	struct cap *c = *state;
	struct lw_wait w = futex_wait();
	struct lw_report r = stuck("worker", "server", &w), smp = sample(7, 3, 1, 1);
	struct lw_report ex = { .type = LW_RPT_EXIT, .pid = 7, .pcomm = "app", .cgroup = &unit };
	char *s;

	r.cgroup = &docker;
	text_emit(&c->o, &r);
	smp.cgroup = &unit;
	text_emit(&c->o, &smp);
	text_emit(&c->o, &ex);
	s = take(c);
	assert_contains(s, "STUCK   pid 1234 (server) [docker 0123456789ab] tid 1240 (worker)");
	assert_contains(s, "SAMPLE  pid 7 (app) [db.service] threads 3");
	assert_contains(s, "EXIT    pid 7 (app) [db.service]\n");
	free(s);
	r.cgroup = &root;
	text_emit(&c->o, &r);
	s = take(c);
	assert_contains(s, "pid 1234 (server) tid 1240");
	free(s);
	r.cgroup = &evil;
	text_emit(&c->o, &r);
	s = take(c);
	assert_contains(s, "pid 1234 (server) [/a?[2J] tid 1240");
	assert_no_control_bytes(s, false);
	free(s);
}

static int read_cgroup(uint32_t pid, char *path, size_t len)
{
	snprintf(path, len, pid == 100 ? "/system.slice/docker-" CG_ID ".scope" : "/");
	return 0;
}

/* The table: a CGROUP column when a process row has something to show. */
static void test_table_cgroup_column(void **state)
{
	struct table_fx *fx = *state;
	struct lw_tracker_opts opts = {
		.threshold_ns = 10 * SEC,
		.read_cgroup = read_cgroup,
		.sink = { .emit = text_emit, .ctx = &fx->cap.o },
	};
	const struct lw_task_rec recs[] = {
		rec(100, 101, "a", 900, 1000),
		rec(200, 201, "b", 900, 1000),
	};
	struct lw_tracker *t;
	char *s;

	assert_int_equal(tracker_new(&opts, &t), 0);
	tracker_add_target(t, 100);
	tracker_add_target(t, 200);
	feed(t, recs, 2);
	text_render(&fx->cap.o, t, 1700000000.0);
	s = take(&fx->cap);
	assert_contains(s, "STUCK  CGROUP");
	assert_contains(s, "proc100                 1        1        1  docker 0123456789ab");
	assert_null(strstr(after(s, "proc200"), "docker"));
	free(s);
	tracker_free(t);
}

int main(void)
{
#define L(name) cmocka_unit_test_setup_teardown(name, setup_lines, teardown)
#define TB(name) cmocka_unit_test_setup_teardown(name, setup_table, teardown)
#define TR(name) cmocka_unit_test_setup_teardown(name, setup_tracker, teardown_tracker)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lines_name_the_cgroup, setup_lines, teardown),
		cmocka_unit_test_setup_teardown(test_table_cgroup_column, setup_tracker,
						teardown_tracker),
		L(test_stuck_line),
		L(test_stuck_line_inexact_and_d_state),
		L(test_stuck_line_shows_syscall_when_kind_differs),
		L(test_stuck_line_without_wait_says_kernel),
		L(test_unstuck_line),
		L(test_sample_printed_only_when_counts_change),
		L(test_exit_line_and_sample_after_it),
		L(test_control_chars_in_names_replaced),
		L(test_invalid_utf8_in_names_replaced),
		cmocka_unit_test(test_clean_name_reads_at_most_16_bytes),
		L(test_summary_line),
		TB(test_table_mode_defers_events),
		TR(test_table_lists_stuck_threads_longest_first),
		TR(test_table_fits_rows_and_width),
		TR(test_table_cut_keeps_utf8_whole),
		TR(test_table_then_summary_on_its_own_line),
		cmocka_unit_test(test_fit_no_limit_shows_everything),
		cmocka_unit_test(test_fit_140_threads),
		cmocka_unit_test(test_fit_many_processes_leave_room_for_the_rest),
		cmocka_unit_test(test_fit_site_rows_then_frames_then_threads),
		cmocka_unit_test(test_fit_everything_that_fits_has_no_more_line),
		cmocka_unit_test(test_fit_never_more_lines_than_rows),
		TR(test_table_empty),
		TR(test_table_names_cleaned),
		TB(test_table_summary_still_printed),
		L(test_stuck_line_names_site),
		L(test_site_record_prints_nothing),
		L(test_leak_line_with_stacks),
		L(test_threads_leak_line),
		L(test_spin_line_with_stack),
		TR(test_table_shows_sites_and_spins),
		TR(test_leak_report_counts_sites_not_reports),
		L(test_goroutine_stuck_and_unstuck_lines),
		L(test_sample_line_of_go_process),
		L(test_sample_line_goroutine_scan_interval),
		L(test_goroutine_leak_line_and_log_line),
		L(test_spin_line_names_its_goroutine),
		L(test_go_line_cleans_the_binary_s_strings),
		cmocka_unit_test_setup_teardown(test_table_groups_stuck_goroutines_by_site,
						setup_go_tracker, teardown_tracker),
		cmocka_unit_test_setup_teardown(test_leak_report_names_goroutine_leaks,
						setup_go_tracker, teardown_tracker),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

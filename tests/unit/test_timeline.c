// SPDX-License-Identifier: GPL-2.0
/* Timeline export (user/timeline.c): Chrome Trace Event Format, parsed back
 * with json-c. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <json-c/json.h>
#include "timeline.h"

#define FFFD "\xef\xbf\xbd"
#define T0 1700000000.0 /* the run start */
#define US(s) ((int64_t)((s) * 1e6 + ((s) >= 0 ? 0.5 : -0.5)))
#define ANY -1          /* tid: any, or absent */
#define NONE 0          /* tid: absent */

/* ---- Running a timeline into memory ---- */

struct run {
	char *buf;
	size_t len;
	FILE *f;
	struct timeline *t;
};

static void run_open(struct run *r)
{
	memset(r, 0, sizeof(*r));
	r->f = open_memstream(&r->buf, &r->len);
	assert_non_null(r->f);
	assert_int_equal(timeline_open(r->f, T0, &r->t), 0);
}

static void feed(struct run *r, const struct lw_report *rep)
{
	assert_int_equal(timeline_write(r->t, rep), 0);
}

/* Strict JSON of valid UTF-8, no raw control byte but newlines. */
static json_object *parse_strict(const char *buf, size_t len)
{
	json_tokener *tok = json_tokener_new();
	json_object *o, *lenient;
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)buf[i] < 0x20 && buf[i] != '\n') {
			print_error("raw control byte 0x%02x at %zu\n", buf[i], i);
			fail();
		}
	lenient = json_tokener_parse(buf);
	if (!lenient)
		print_error("json-c cannot parse:\n%s\n", buf);
	assert_non_null(lenient);
	json_object_put(lenient);

	assert_non_null(tok);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, buf, (int)len);
	if (!o)
		print_error("strict parse: %s:\n%s\n",
			    json_tokener_error_desc(json_tokener_get_error(tok)), buf);
	assert_non_null(o);
	/* Nothing but white space after the object. */
	for (i = json_tokener_get_parse_end(tok); i < len; i++)
		assert_true(buf[i] == '\n' || buf[i] == ' ');
	json_tokener_free(tok);
	assert_true(json_object_is_type(o, json_type_object));
	return o;
}

static json_object *run_close(struct run *r, double end_unix)
{
	json_object *o;

	assert_int_equal(timeline_close(r->t, end_unix), 0);
	assert_int_equal(fclose(r->f), 0);
	o = parse_strict(r->buf, r->len);
	free(r->buf);
	return o;
}

/* ---- Looking at the result ---- */

static json_object *field(json_object *o, const char *key, json_type type)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v)) {
		print_error("no \"%s\" in %s\n", key, json_object_to_json_string(o));
		fail();
	}
	if (!json_object_is_type(v, type)) {
		print_error("\"%s\" is a %s, not a %s\n", key,
			    json_type_to_name(json_object_get_type(v)), json_type_to_name(type));
		fail();
	}
	return v;
}

static const char *str(json_object *o, const char *key)
{
	return json_object_get_string(field(o, key, json_type_string));
}

static int64_t num(json_object *o, const char *key)
{
	return json_object_get_int64(field(o, key, json_type_int));
}

static double dbl(json_object *o, const char *key)
{
	return json_object_get_double(field(o, key, json_type_double));
}

static bool boolean(json_object *o, const char *key)
{
	return json_object_get_boolean(field(o, key, json_type_boolean));
}

static bool has(json_object *o, const char *key)
{
	return json_object_object_get_ex(o, key, NULL);
}

static json_object *events(json_object *root)
{
	return field(root, "traceEvents", json_type_array);
}

/* ph, name (NULL: any), pid (0: any), tid (ANY, NONE or the tid). */
static bool matches(json_object *e, const char *ph, const char *name, uint32_t pid,
		    int64_t tid)
{
	if (strcmp(str(e, "ph"), ph))
		return false;
	if (name && strcmp(str(e, "name"), name))
		return false;
	if (pid && num(e, "pid") != pid)
		return false;
	if (tid == NONE && has(e, "tid"))
		return false;
	if (tid > 0 && (!has(e, "tid") || num(e, "tid") != tid))
		return false;
	return true;
}

static size_t count(json_object *root, const char *ph, const char *name, uint32_t pid,
		    int64_t tid)
{
	json_object *a = events(root);
	size_t i, n = 0;

	for (i = 0; i < json_object_array_length(a); i++)
		n += matches(json_object_array_get_idx(a, i), ph, name, pid, tid);
	return n;
}

/* The nth (from 0) matching event; fails when there is none. */
static json_object *find(json_object *root, const char *ph, const char *name, uint32_t pid,
			 int64_t tid, size_t nth)
{
	json_object *a = events(root), *e;
	size_t i;

	for (i = 0; i < json_object_array_length(a); i++) {
		e = json_object_array_get_idx(a, i);
		if (matches(e, ph, name, pid, tid) && !nth--)
			return e;
	}
	print_error("no %s event \"%s\" pid %u tid %lld in\n%s\n", ph, name ? name : "*", pid,
		    (long long)tid, json_object_to_json_string(root));
	fail();
	return NULL;
}

static json_object *args(json_object *e)
{
	return field(e, "args", json_type_object);
}

static void assert_us(int64_t got, double want_s)
{
	int64_t want = US(want_s);

	if (got < want - 1 || got > want + 1) {
		print_error("%lld us, want %lld (+-1)\n", (long long)got, (long long)want);
		fail();
	}
}

/* ---- Reports ---- */

static const struct lw_wait futex_w = {
	.kind = "futex",
	.syscall = "futex",
	.has_futex = true,
	.futex_addr = 0x7f00deadbeefULL,
	.futex_op = "FUTEX_WAIT_PRIVATE",
};

static const struct lw_wait read_w = { .kind = "read", .syscall = "read" };

static struct lw_site site1 = {
	.id = 1,
	.name = "s1",
	.pid = 100,
	.kind = "futex",
	.syscall = "futex",
	.user = { .n = 2, .frames = { "pthread_cond_wait+0x15 (libc.so.6)",
				      "worker_main+0x2a (/usr/bin/server)" } },
	.kernel = { .n = 1, .frames = { "futex_wait_queue+0x60" } },
};

static struct lw_report stuck(uint32_t pid, uint32_t tid, const char *comm, double ts,
			      double blocked_s)
{
	struct lw_report r = {
		.type = LW_RPT_STUCK,
		.ts = ts,
		.pid = pid,
		.tid = tid,
		.comm = comm,
		.pcomm = "server",
		.state = 'S',
		.blocked_s = blocked_s,
		.since_exact = true,
		.wait = &futex_w,
		.site = &site1,
	};

	return r;
}

static struct lw_report unstuck(uint32_t pid, uint32_t tid, const char *comm, double ts,
				double blocked_s)
{
	struct lw_report r = stuck(pid, tid, comm, ts, blocked_s);

	r.type = LW_RPT_UNSTUCK;
	r.end_exact = true;
	return r;
}

static struct lw_report sample(uint32_t pid, double ts, uint32_t threads, uint32_t blocked,
			       uint32_t n_stuck)
{
	struct lw_report r = {
		.type = LW_RPT_SAMPLE,
		.ts = ts,
		.pid = pid,
		.pcomm = "server",
		.threads = threads,
		.blocked = blocked,
		.stuck = n_stuck,
	};

	return r;
}

static struct lw_report exit_report(uint32_t pid, const char *pcomm, double ts)
{
	struct lw_report r = { .type = LW_RPT_EXIT, .ts = ts, .pid = pid, .pcomm = pcomm };

	return r;
}

/* ---- Tests ---- */

/* timeline_file_open: a regular file is created or truncated; a FIFO, a
 * directory or a device is refused at once (a FIFO blocked the open). */
static void test_file_open_refuses_what_is_not_a_file(void **state)
{
	char dir[] = "/tmp/lw-test-timeline.XXXXXX", path[64];
	FILE *f = NULL;
	struct stat st;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/t.json", dir);
	assert_int_equal(timeline_file_open(path, &f), 0);
	assert_int_equal(fputs("0123456789", f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(timeline_file_open(path, &f), 0);
	assert_int_equal(fstat(fileno(f), &st), 0);
	assert_int_equal(st.st_size, 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(unlink(path), 0);

	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(timeline_file_open(path, &f), -EINVAL);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(timeline_file_open(dir, &f), -EINVAL);
	assert_int_equal(timeline_file_open("/dev/null", &f), -EINVAL);
	snprintf(path, sizeof(path), "%s/no/such", dir);
	assert_int_equal(timeline_file_open(path, &f), -ENOENT);
	assert_int_equal(rmdir(dir), 0);
}

static void test_empty_run_is_valid_json(void **state)
{
	struct run r;
	json_object *root, *other;

	run_open(&r);
	root = run_close(&r, T0 + 1);
	assert_int_equal(json_object_array_length(events(root)), 0);
	assert_string_equal(str(root, "displayTimeUnit"), "ms");
	other = field(root, "otherData", json_type_object);
	assert_string_equal(str(other, "tool"), "leakwatch");
	assert_float_equal(dbl(other, "start_unix"), T0, 1e-6);
	assert_float_equal(dbl(other, "end_unix"), T0 + 1, 1e-6);
	assert_int_equal(num(other, "slices"), 0);
	assert_false(has(other, "duration_s")); /* no summary */
	json_object_put(root);
}

static void test_close_null_is_a_noop(void **state)
{
	assert_int_equal(timeline_close(NULL, T0), 0);
}

static void test_stuck_then_unstuck_is_one_slice(void **state)
{
	struct lw_report s = stuck(100, 101, "worker", T0 + 2.5, 2.25);
	struct lw_report u = unstuck(100, 101, "worker", T0 + 4.0, 3.75);
	json_object *root, *x, *a;
	struct run r;

	run_open(&r);
	feed(&r, &s);
	feed(&r, &u);
	root = run_close(&r, T0 + 10);

	assert_int_equal(count(root, "X", NULL, 0, ANY), 1);
	x = find(root, "X", "futex", 100, 101, 0);
	assert_us(num(x, "ts"), T0 + 0.25);
	assert_us(num(x, "dur"), 3.75);
	a = args(x);
	assert_string_equal(str(a, "wait"), "futex");
	assert_string_equal(str(a, "syscall"), "futex");
	assert_string_equal(str(a, "futex_addr"), "0x7f00deadbeef");
	assert_string_equal(str(a, "site"), "s1");
	assert_string_equal(str(a, "state"), "S");
	assert_true(boolean(a, "since_exact"));
	assert_true(boolean(a, "end_exact"));
	assert_false(has(a, "open"));

	assert_string_equal(str(args(find(root, "M", "process_name", 100, NONE, 0)), "name"),
			    "server");
	assert_string_equal(str(args(find(root, "M", "thread_name", 100, 101, 0)), "name"),
			    "worker");
	assert_int_equal(num(field(root, "otherData", json_type_object), "slices"), 1);
	json_object_put(root);
}

/* A wait begun before the run: its start is before T0, still a positive ts. */
static void test_wait_begun_before_the_run(void **state)
{
	struct lw_report s = stuck(100, 101, "worker", T0 + 1, 3600);
	struct lw_report u = unstuck(100, 101, "worker", T0 + 2, 3601);
	json_object *root, *x;
	struct run r;

	run_open(&r);
	feed(&r, &s);
	feed(&r, &u);
	root = run_close(&r, T0 + 3);
	x = find(root, "X", "futex", 100, 101, 0);
	assert_true(num(x, "ts") > 0);
	assert_us(num(x, "ts"), T0 - 3599);
	assert_us(num(x, "dur"), 3601);
	json_object_put(root);
}

static void test_names_written_once(void **state)
{
	struct lw_report reps[] = {
		sample(100, T0 + 1, 5, 2, 0),
		stuck(100, 101, "worker", T0 + 2, 1.5),
		sample(100, T0 + 2, 5, 2, 1),
		unstuck(100, 101, "worker", T0 + 3, 2.5),
		stuck(100, 101, "worker", T0 + 5, 1.5),
		unstuck(100, 101, "worker", T0 + 6, 2.5),
		stuck(100, 102, "worker", T0 + 6, 1.0),
		sample(100, T0 + 7, 6, 3, 1),
		exit_report(100, "server", T0 + 8),
	};
	json_object *root;
	struct run r;
	size_t i;

	run_open(&r);
	for (i = 0; i < sizeof(reps) / sizeof(reps[0]); i++)
		feed(&r, &reps[i]);
	root = run_close(&r, T0 + 10);
	assert_int_equal(count(root, "M", "process_name", 0, ANY), 1);
	assert_int_equal(count(root, "M", "thread_name", 100, 101), 1);
	assert_int_equal(count(root, "M", "thread_name", 100, 102), 1);
	assert_int_equal(count(root, "M", "thread_name", 0, ANY), 2);
	assert_int_equal(count(root, "X", "futex", 100, 101), 2);
	assert_us(num(find(root, "X", "futex", 100, 101, 1), "ts"), T0 + 3.5);
	json_object_put(root);
}

/* A process's name track says what its cgroup names, its args the cgroup;
 * the root cgroup adds nothing. */
static void test_process_name_has_cgroup(void **state)
{
	const struct lw_cgroup docker = {
		"/system.slice/docker-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope",
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "docker", "", ""
	};
	const struct lw_cgroup root = { "/", "", "", "", "" };
	struct lw_report a = stuck(100, 101, "worker", T0 + 2, 1.5);
	struct lw_report b = stuck(200, 201, "worker", T0 + 2, 1.5);
	json_object *root_obj, *m;
	struct run r;

	a.cgroup = &docker;
	b.cgroup = &root;
	run_open(&r);
	feed(&r, &a);
	feed(&r, &b);
	root_obj = run_close(&r, T0 + 10);
	m = find(root_obj, "M", "process_name", 100, ANY, 0);
	assert_string_equal(str(args(m), "name"), "server [docker 0123456789ab]");
	assert_string_equal(str(args(m), "cgroup"), docker.path);
	assert_string_equal(str(args(m), "container"), docker.container);
	assert_false(has(args(m), "unit"));
	m = find(root_obj, "M", "process_name", 200, ANY, 0);
	assert_string_equal(str(args(m), "name"), "server");
	assert_string_equal(str(args(m), "cgroup"), "/");
	json_object_put(root_obj);
}

static void test_open_wait_ends_at_close(void **state)
{
	struct lw_report s = stuck(100, 102, "idle", T0 + 3, 1.5);
	json_object *root, *x;
	struct run r;

	run_open(&r);
	feed(&r, &s);
	root = run_close(&r, T0 + 10);
	x = find(root, "X", "futex", 100, 102, 0);
	assert_us(num(x, "ts"), T0 + 1.5);
	assert_us(num(x, "dur"), 8.5);
	assert_true(boolean(args(x), "open"));
	assert_false(has(args(x), "end_exact"));
	json_object_put(root);
}

/* The slice is written when the wait ends, not when it is reported stuck. */
static void test_slice_written_at_its_end(void **state)
{
	struct lw_report s = stuck(100, 101, "worker", T0 + 2, 1);
	struct lw_report u = unstuck(100, 101, "worker", T0 + 3, 2);
	struct run r;

	run_open(&r);
	feed(&r, &s);
	assert_null(strstr(r.buf, "\"X\""));
	feed(&r, &u);
	assert_non_null(strstr(r.buf, "\"X\""));
	json_object_put(run_close(&r, T0 + 4));
}

static void test_counters_written_when_changed(void **state)
{
	struct lw_report reps[] = {
		sample(100, T0 + 1, 10, 4, 2),
		sample(100, T0 + 2, 10, 4, 2),
		sample(100, T0 + 3, 12, 4, 3),
	};
	json_object *root, *c;
	struct run r;
	size_t i;

	run_open(&r);
	for (i = 0; i < 3; i++)
		feed(&r, &reps[i]);
	root = run_close(&r, T0 + 4);
	assert_int_equal(count(root, "C", "threads", 100, NONE), 2);
	assert_int_equal(count(root, "C", "blocked", 100, NONE), 1);
	assert_int_equal(count(root, "C", "stuck", 100, NONE), 2);
	assert_int_equal(count(root, "C", NULL, 0, ANY), 5);

	c = find(root, "C", "threads", 100, NONE, 0);
	assert_us(num(c, "ts"), T0 + 1);
	assert_int_equal(num(args(c), "count"), 10);
	c = find(root, "C", "threads", 100, NONE, 1);
	assert_us(num(c, "ts"), T0 + 3);
	assert_int_equal(num(args(c), "count"), 12);
	assert_int_equal(num(args(find(root, "C", "blocked", 100, NONE, 0)), "count"), 4);
	assert_int_equal(num(args(find(root, "C", "stuck", 100, NONE, 0)), "count"), 2);
	assert_int_equal(num(args(find(root, "C", "stuck", 100, NONE, 1)), "count"), 3);
	assert_int_equal(count(root, "M", "process_name", 100, NONE), 1);
	json_object_put(root);
}

static void test_leak_instant_with_stacks(void **state)
{
	struct lw_report l = {
		.type = LW_RPT_LEAK,
		.ts = T0 + 30,
		.pid = 100,
		.pcomm = "server",
		.site = &site1,
		.stuck = 12,
		.threads = 40,
		.growth_per_min = 1.5,
	};
	json_object *root, *e, *a, *st;
	struct run r;

	run_open(&r);
	feed(&r, &l);
	root = run_close(&r, T0 + 31);
	e = find(root, "i", "leak", 100, NONE, 0);
	assert_string_equal(str(e, "s"), "p");
	assert_us(num(e, "ts"), T0 + 30);
	a = args(e);
	assert_string_equal(str(a, "site"), "s1");
	assert_string_equal(str(a, "wait"), "futex");
	assert_string_equal(str(a, "syscall"), "futex");
	assert_int_equal(num(a, "stuck"), 12);
	assert_int_equal(num(a, "threads"), 40);
	assert_float_equal(dbl(a, "growth_per_min"), 1.5, 1e-9);
	st = field(a, "stack", json_type_array);
	assert_int_equal(json_object_array_length(st), 2);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(st, 0)),
			    "pthread_cond_wait+0x15 (libc.so.6)");
	assert_string_equal(json_object_get_string(json_object_array_get_idx(st, 1)),
			    "worker_main+0x2a (/usr/bin/server)");
	st = field(a, "kstack", json_type_array);
	assert_int_equal(json_object_array_length(st), 1);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(st, 0)),
			    "futex_wait_queue+0x60");
	assert_int_equal(count(root, "M", "process_name", 100, NONE), 1);
	json_object_put(root);
}

static void test_spin_instant_on_its_thread(void **state)
{
	struct lw_stack_text stack = { .n = 1, .frames = { "busy_loop+0x8 (/usr/bin/server)" } };
	struct lw_report s = {
		.type = LW_RPT_SPIN,
		.ts = T0 + 9,
		.pid = 100,
		.tid = 105,
		.comm = "spinner",
		.pcomm = "server",
		.running_s = 6.5,
		.stack = &stack,
	};
	json_object *root, *e, *st;
	struct run r;

	run_open(&r);
	feed(&r, &s);
	root = run_close(&r, T0 + 10);
	e = find(root, "i", "spin", 100, 105, 0);
	assert_string_equal(str(e, "s"), "t");
	assert_us(num(e, "ts"), T0 + 9);
	assert_float_equal(dbl(args(e), "running_s"), 6.5, 1e-9);
	st = field(args(e), "stack", json_type_array);
	assert_int_equal(json_object_array_length(st), 1);
	assert_string_equal(str(args(find(root, "M", "thread_name", 100, 105, 0)), "name"),
			    "spinner");
	assert_int_equal(count(root, "X", NULL, 0, ANY), 0);
	json_object_put(root);
}

static void test_spin_without_stack(void **state)
{
	struct lw_report s = {
		.type = LW_RPT_SPIN, .ts = T0 + 9, .pid = 100, .tid = 105,
		.comm = "spinner", .pcomm = "server", .running_s = 6,
	};
	json_object *root;
	struct run r;

	run_open(&r);
	feed(&r, &s);
	root = run_close(&r, T0 + 10);
	assert_int_equal(json_object_array_length(field(args(find(root, "i", "spin", 100, 105, 0)),
							  "stack", json_type_array)), 0);
	json_object_put(root);
}

/* The exit ends the process's open waits; a reused pid is named anew. */
static void test_exit_ends_waits_and_forgets(void **state)
{
	struct lw_report s = stuck(200, 201, "w", T0 + 2, 1);
	struct lw_report e = exit_report(200, "server", T0 + 5);
	struct lw_report again = stuck(200, 202, "x", T0 + 8, 1);
	json_object *root, *x;
	struct run r;

	again.pcomm = "other";
	run_open(&r);
	feed(&r, &s);
	feed(&r, &e);
	feed(&r, &again);
	root = run_close(&r, T0 + 10);

	x = find(root, "i", "exit", 200, NONE, 0);
	assert_string_equal(str(x, "s"), "p");
	assert_us(num(x, "ts"), T0 + 5);
	assert_int_equal(count(root, "X", NULL, 200, 201), 1);
	x = find(root, "X", "futex", 200, 201, 0);
	assert_us(num(x, "ts"), T0 + 1);
	assert_us(num(x, "dur"), 4);
	assert_true(boolean(args(x), "process_exited"));
	assert_false(has(args(x), "open"));

	assert_int_equal(count(root, "M", "process_name", 200, NONE), 2);
	assert_string_equal(str(args(find(root, "M", "process_name", 200, NONE, 1)), "name"),
			    "other");
	assert_true(boolean(args(find(root, "X", "futex", 200, 202, 0)), "open"));
	json_object_put(root);
}

/* A tid seen in another process: the old thread's wait ended by then. */
static void test_tid_reused_by_another_process(void **state)
{
	struct lw_report a = stuck(1, 7, "old", T0 + 2, 1);
	struct lw_report b = stuck(2, 7, "new", T0 + 6, 2);
	json_object *root, *x;
	struct run r;

	run_open(&r);
	feed(&r, &a);
	feed(&r, &b);
	root = run_close(&r, T0 + 10);
	x = find(root, "X", "futex", 1, 7, 0);
	assert_us(num(x, "ts"), T0 + 1);
	assert_us(num(x, "dur"), 3);
	assert_true(boolean(args(x), "tid_reused"));
	assert_string_equal(str(args(find(root, "M", "thread_name", 1, 7, 0)), "name"), "old");
	assert_string_equal(str(args(find(root, "M", "thread_name", 2, 7, 0)), "name"), "new");
	x = find(root, "X", "futex", 2, 7, 0);
	assert_us(num(x, "ts"), T0 + 4);
	assert_true(boolean(args(x), "open"));
	json_object_put(root);
}

/* A second stuck without an unstuck: the first wait's end was lost. */
static void test_stuck_again_ends_the_last_wait(void **state)
{
	struct lw_report a = stuck(100, 101, "worker", T0 + 2, 1);
	struct lw_report b = stuck(100, 101, "worker", T0 + 6, 1);
	json_object *root, *x;
	struct run r;

	b.wait = &read_w;
	run_open(&r);
	feed(&r, &a);
	feed(&r, &b);
	root = run_close(&r, T0 + 10);
	x = find(root, "X", "futex", 100, 101, 0);
	assert_us(num(x, "ts"), T0 + 1);
	assert_us(num(x, "dur"), 4);
	assert_true(boolean(args(x), "end_unknown"));
	x = find(root, "X", "read", 100, 101, 0);
	assert_us(num(x, "ts"), T0 + 5);
	assert_false(has(args(x), "futex_addr"));
	assert_true(boolean(args(x), "open"));
	json_object_put(root);
}

static void test_unstuck_without_stuck_ignored(void **state)
{
	struct lw_report u = unstuck(100, 101, "worker", T0 + 3, 2);
	json_object *root;
	struct run r;

	run_open(&r);
	feed(&r, &u);
	root = run_close(&r, T0 + 4);
	assert_int_equal(json_object_array_length(events(root)), 0);
	json_object_put(root);
}

static void test_site_report_ignored(void **state)
{
	struct lw_report s = {
		.type = LW_RPT_SITE, .ts = T0 + 1, .pid = 100, .pcomm = "server", .site = &site1,
	};
	json_object *root;
	struct run r;

	run_open(&r);
	feed(&r, &s);
	root = run_close(&r, T0 + 2);
	assert_int_equal(json_object_array_length(events(root)), 0);
	json_object_put(root);
}

static void test_thread_rename_writes_new_name(void **state)
{
	struct lw_report a = stuck(100, 101, "pool", T0 + 2, 1);
	struct lw_report u = unstuck(100, 101, "pool", T0 + 3, 2);
	struct lw_report b = stuck(100, 101, "pool-conn-7", T0 + 6, 1);
	json_object *root;
	struct run r;

	run_open(&r);
	feed(&r, &a);
	feed(&r, &u);
	feed(&r, &b);
	root = run_close(&r, T0 + 10);
	assert_int_equal(count(root, "M", "thread_name", 100, 101), 2);
	assert_string_equal(str(args(find(root, "M", "thread_name", 100, 101, 1)), "name"),
			    "pool-conn-7");
	json_object_put(root);
}

/* Thread names hold any byte: quotes, backslashes, control bytes, bytes
 * that are no UTF-8. */
static void test_hostile_names_stay_valid_json(void **state)
{
	struct lw_stack_text stack = {
		.n = 2,
		.frames = { "f\"<\\>\x01\x7f (/tmp/a\nb)", "\xc0\xaf\xed\xa0\x80 \xf4\x90\x80\x80" },
	};
	struct lw_site site = site1;
	struct lw_report s = stuck(100, 101, "a\"b\\c\n\x01\xff\xc3", T0 + 2, 1);
	struct lw_report spin = {
		.type = LW_RPT_SPIN, .ts = T0 + 3, .pid = 100, .tid = 102,
		.comm = "\x1b[31mred", .pcomm = "\xe2\x82x\t", .running_s = 6, .stack = &stack,
	};
	struct lw_report leak = {
		.type = LW_RPT_LEAK, .ts = T0 + 4, .pid = 100, .pcomm = "\xe2\x82x\t",
		.site = &site, .stuck = 3, .threads = 4,
	};
	json_object *root, *st;
	struct run r;

	site.user = stack;
	snprintf(site.name, sizeof(site.name), "s\"1\x02");
	s.pcomm = "\xe2\x82x\t";
	run_open(&r);
	feed(&r, &s);
	feed(&r, &spin);
	feed(&r, &leak);
	root = run_close(&r, T0 + 10);

	assert_string_equal(str(args(find(root, "M", "thread_name", 100, 101, 0)), "name"),
			    "a\"b\\c\n\x01" FFFD FFFD);
	assert_string_equal(str(args(find(root, "M", "thread_name", 100, 102, 0)), "name"),
			    "\x1b[31mred");
	assert_string_equal(str(args(find(root, "M", "process_name", 100, NONE, 0)), "name"),
			    FFFD FFFD "x\t");
	assert_int_equal(count(root, "M", "process_name", 100, NONE), 1);
	st = field(args(find(root, "i", "spin", 100, 102, 0)), "stack", json_type_array);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(st, 0)),
			    "f\"<\\>\x01\x7f (/tmp/a\nb)");
	assert_string_equal(json_object_get_string(json_object_array_get_idx(st, 1)),
			    FFFD FFFD FFFD FFFD FFFD " " FFFD FFFD FFFD FFFD);
	assert_string_equal(str(args(find(root, "i", "leak", 100, NONE, 0)), "site"), "s\"1\x02");
	json_object_put(root);
}

/* A comm that fills its buffer is cut at LW_COMM_LEN bytes, not read past. */
static void test_long_comm_is_cut(void **state)
{
	char comm[LW_COMM_LEN + 8];
	struct lw_report s;
	json_object *root;
	struct run r;

	memset(comm, 'c', sizeof(comm) - 1);
	comm[sizeof(comm) - 1] = '\0';
	s = stuck(100, 101, comm, T0 + 2, 1);
	run_open(&r);
	feed(&r, &s);
	feed(&r, &s); /* the same long name: not written again */
	root = run_close(&r, T0 + 3);
	assert_int_equal(count(root, "M", "thread_name", 100, 101), 1);
	assert_int_equal(strlen(str(args(find(root, "M", "thread_name", 100, 101, 0)), "name")),
			 LW_COMM_LEN);
	json_object_put(root);
}

static void test_summary_goes_to_other_data(void **state)
{
	struct lw_drops d = { .ringbuf = 3, .tracker = 1, .stacks_unreadable = 9 };
	struct lw_report s = {
		.type = LW_RPT_SUMMARY, .ts = T0 + 20, .duration_s = 20.0, .events = 1234,
		.drops = &d,
	};
	json_object *root, *o;
	struct run r;

	run_open(&r);
	feed(&r, &s);
	root = run_close(&r, T0 + 20);
	assert_int_equal(json_object_array_length(events(root)), 0);
	o = field(root, "otherData", json_type_object);
	assert_float_equal(dbl(o, "duration_s"), 20.0, 1e-9);
	assert_int_equal(num(o, "events"), 1234);
	assert_int_equal(num(o, "dropped"), 4);
	json_object_put(root);
}

/* Each event is flushed: a crash leaves a file that "\n]}" completes. */
static void test_crash_leaves_a_completable_prefix(void **state)
{
	struct lw_report reps[] = {
		sample(100, T0 + 1, 5, 2, 1),
		stuck(100, 101, "worker", T0 + 2, 1.5),
		unstuck(100, 101, "worker", T0 + 3, 2.5),
	};
	json_object *o;
	struct run r;
	char *copy;
	size_t i;

	run_open(&r);
	for (i = 0; i < 3; i++)
		feed(&r, &reps[i]);
	copy = malloc(r.len + 4);
	assert_non_null(copy);
	memcpy(copy, r.buf, r.len);
	memcpy(copy + r.len, "\n]}", 4);
	o = parse_strict(copy, r.len + 3);
	assert_int_equal(count(o, "X", "futex", 100, 101), 1);
	assert_int_equal(count(o, "C", NULL, 100, NONE), 3);
	json_object_put(o);
	free(copy);
	json_object_put(run_close(&r, T0 + 4));
}

static void test_sink_emit(void **state)
{
	struct lw_report s = stuck(100, 101, "worker", T0 + 2, 1);
	struct lw_report u = unstuck(100, 101, "worker", T0 + 3, 2);
	struct lw_sink sink = { .emit = timeline_emit };
	json_object *root;
	struct run r;

	run_open(&r);
	sink.ctx = r.t;
	sink.emit(sink.ctx, &s);
	sink.emit(sink.ctx, &u);
	root = run_close(&r, T0 + 4);
	assert_int_equal(count(root, "X", "futex", 100, 101), 1);
	json_object_put(root);
}

static void test_open_on_full_device_fails(void **state)
{
	FILE *f = fopen("/dev/full", "w");
	struct timeline *t = NULL;

	if (!f)
		skip();
	assert_int_equal(timeline_open(f, T0, &t), -EIO);
	assert_null(t);
	fclose(f);
}

/* A write that fails later is returned, and again by timeline_close. */
static void test_write_error_is_kept(void **state)
{
	struct lw_report s = stuck(100, 101, "worker", T0 + 2, 1);
	struct lw_report u = unstuck(100, 101, "worker", T0 + 3, 2);
	char buf[64];
	struct timeline *t;
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	assert_non_null(f);
	setvbuf(f, NULL, _IONBF, 0);
	assert_int_equal(timeline_open(f, T0, &t), 0);
	timeline_write(t, &s); /* names: may fit */
	assert_int_equal(timeline_write(t, &u), -EIO);
	assert_int_equal(timeline_close(t, T0 + 4), -EIO);
	fclose(f);
}

/* ---- Goroutines ---- */

static const struct lw_wait chan_send_w = { .kind = "chan send" };

static struct lw_report g_stuck(uint32_t pid, uint64_t goid, double ts, double blocked_s)
{
	struct lw_report r = {
		.type = LW_RPT_STUCK,
		.ts = ts,
		.pid = pid,
		.goid = goid,
		.pcomm = "gosrv",
		.state = 'S',
		.blocked_s = blocked_s,
		.wait = &chan_send_w,
		.func = "main.queryAll.func1",
		.created_by = "main.queryAll (/src/main.go:19)",
	};

	return r;
}

static struct lw_report g_unstuck(uint32_t pid, uint64_t goid, double ts, double blocked_s)
{
	struct lw_report r = g_stuck(pid, goid, ts, blocked_s);

	r.type = LW_RPT_UNSTUCK;
	r.end_exact = false;
	return r;
}

/* A slice on a goroutine track: pseudo tids above any real one, named. */
static void test_goroutine_wait_is_a_slice_on_a_goroutine_track(void **state)
{
	struct lw_report r;
	json_object *root, *e, *a, *m;
	struct run run;
	int64_t tid;

	run_open(&run);
	r = g_stuck(300, 17, T0 + 10, 4);
	feed(&run, &r);
	r = g_unstuck(300, 17, T0 + 20, 14);
	feed(&run, &r);
	root = run_close(&run, T0 + 30);

	assert_int_equal(count(root, "X", "chan send", 300, ANY), 1);
	e = find(root, "X", "chan send", 300, ANY, 0);
	tid = num(e, "tid");
	assert_true(tid >= (1 << 30)); /* above pid_max: no real thread's */
	assert_us(num(e, "ts"), T0 + 6);
	assert_us(num(e, "dur"), 14);
	a = args(e);
	assert_int_equal(num(a, "goid"), 17);
	assert_string_equal(str(a, "wait"), "chan send");
	assert_string_equal(str(a, "func"), "main.queryAll.func1");
	assert_string_equal(str(a, "created_by"), "main.queryAll (/src/main.go:19)");
	assert_false(boolean(a, "end_exact"));
	/* The track is named, and the process too. */
	m = find(root, "M", "thread_name", 300, tid, 0);
	assert_string_equal(str(args(m), "name"), "goroutines 1");
	assert_int_equal(count(root, "M", "process_name", 300, NONE), 1);
	a = field(root, "otherData", json_type_object);
	assert_int_equal(num(a, "goroutine_tracks"), 1);
	assert_int_equal(num(a, "goroutine_waits_untracked"), 0);
	json_object_put(root);
}

/* Tracks are reused by the next stuck goroutine, and bounded: the rest counted. */
static void test_goroutine_tracks_reused_and_bounded(void **state)
{
	struct lw_report r;
	json_object *root, *other;
	struct run run;
	uint64_t goid;

	run_open(&run);
	timeline_set_goroutine_tracks(run.t, 3);
	/* 10 stuck at once: 3 drawn, 7 counted. */
	for (goid = 1; goid <= 10; goid++) {
		r = g_stuck(300, goid, T0 + 10, 3);
		feed(&run, &r);
	}
	/* Two end (one of them never drawn), then two more get stuck: the freed
	 * track takes one, the other has none. */
	r = g_unstuck(300, 1, T0 + 11, 4);
	feed(&run, &r);
	r = g_unstuck(300, 9, T0 + 11, 4);
	feed(&run, &r);
	r = g_stuck(300, 11, T0 + 12, 3);
	feed(&run, &r);
	r = g_stuck(300, 12, T0 + 12, 3);
	feed(&run, &r);
	root = run_close(&run, T0 + 30);

	assert_int_equal(count(root, "M", "thread_name", 300, ANY), 3);
	/* goid 1 ended; 2, 3 and 11 still open at the close. */
	assert_int_equal(count(root, "X", "chan send", 300, ANY), 4);
	other = field(root, "otherData", json_type_object);
	assert_int_equal(num(other, "goroutine_tracks"), 3);
	assert_int_equal(num(other, "goroutine_tracks_max"), 3);
	assert_int_equal(num(other, "goroutine_waits_untracked"), 8);
	json_object_put(root);
}

static void test_goroutine_tracks_zero_draws_none(void **state)
{
	struct lw_report r = g_stuck(300, 5, T0 + 1, 3);
	json_object *root;
	struct run run;

	run_open(&run);
	timeline_set_goroutine_tracks(run.t, 0);
	feed(&run, &r);
	root = run_close(&run, T0 + 2);
	assert_int_equal(count(root, "X", NULL, 0, ANY), 0);
	assert_int_equal(num(field(root, "otherData", json_type_object),
			     "goroutine_waits_untracked"), 1);
	json_object_put(root);
}

/* The same goid in another process is another goroutine; a process's exit
 * ends its goroutines' waits and frees its tracks. */
static void test_goroutine_tracks_per_process_and_exit(void **state)
{
	struct lw_report r, ex = { .type = LW_RPT_EXIT, .ts = T0 + 5, .pid = 300 };
	json_object *root, *e;
	struct run run;

	run_open(&run);
	timeline_set_goroutine_tracks(run.t, 2);
	r = g_stuck(300, 7, T0 + 1, 3);
	feed(&run, &r);
	r = g_stuck(301, 7, T0 + 1, 3);
	feed(&run, &r);
	feed(&run, &ex);
	/* The exited process's track is free again for another. */
	r = g_stuck(302, 8, T0 + 6, 3);
	feed(&run, &r);
	root = run_close(&run, T0 + 10);
	e = find(root, "X", "chan send", 300, ANY, 0);
	assert_true(boolean(args(e), "process_exited"));
	assert_us(num(e, "dur"), 7);
	e = find(root, "X", "chan send", 301, ANY, 0);
	assert_true(boolean(args(e), "open"));
	e = find(root, "X", "chan send", 302, ANY, 0);
	assert_true(boolean(args(e), "open"));
	/* A new track for the new process: never the exited one's tid. */
	assert_true(num(find(root, "X", "chan send", 302, ANY, 0), "tid") !=
		    num(find(root, "X", "chan send", 300, ANY, 0), "tid"));
	assert_int_equal(num(field(root, "otherData", json_type_object),
			     "goroutine_waits_untracked"), 0);
	json_object_put(root);
}

/* A goroutine found stuck again before its end was reported. */
static void test_goroutine_restuck_ends_last_wait(void **state)
{
	struct lw_report r;
	json_object *root, *e;
	struct run run;

	run_open(&run);
	r = g_stuck(300, 7, T0 + 5, 3);
	feed(&run, &r);
	r = g_stuck(300, 7, T0 + 15, 3);
	feed(&run, &r);
	root = run_close(&run, T0 + 20);
	assert_int_equal(count(root, "X", "chan send", 300, ANY), 2);
	e = find(root, "X", "chan send", 300, ANY, 0);
	assert_true(boolean(args(e), "end_unknown"));
	assert_us(num(e, "dur"), 10);
	json_object_put(root);
}

static void test_goroutine_counters(void **state)
{
	struct lw_report r = sample(300, T0 + 1, 8, 6, 0);
	json_object *root;
	struct run run;

	r.go = true;
	r.goroutines = 1000;
	r.goroutines_blocked = 990;
	r.goroutines_stuck = 900;
	run_open(&run);
	feed(&run, &r);
	r.ts = T0 + 2; /* unchanged: nothing new */
	feed(&run, &r);
	r.ts = T0 + 3;
	r.goroutines = 1001;
	feed(&run, &r);
	root = run_close(&run, T0 + 4);
	assert_int_equal(count(root, "C", "goroutines", 300, NONE), 2);
	assert_int_equal(count(root, "C", "goroutines blocked", 300, NONE), 1);
	assert_int_equal(count(root, "C", "goroutines stuck", 300, NONE), 1);
	assert_int_equal(num(args(find(root, "C", "goroutines", 300, NONE, 1)), "count"), 1001);
	assert_int_equal(num(args(find(root, "C", "goroutines stuck", 300, NONE, 0)), "count"),
			 900);
	/* Not a Go process: no goroutine counters. */
	json_object_put(root);
	r.go = false;
	run_open(&run);
	feed(&run, &r);
	root = run_close(&run, T0 + 4);
	assert_int_equal(count(root, "C", "goroutines", 0, ANY), 0);
	json_object_put(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_goroutine_wait_is_a_slice_on_a_goroutine_track),
		cmocka_unit_test(test_goroutine_tracks_reused_and_bounded),
		cmocka_unit_test(test_goroutine_tracks_zero_draws_none),
		cmocka_unit_test(test_goroutine_tracks_per_process_and_exit),
		cmocka_unit_test(test_goroutine_restuck_ends_last_wait),
		cmocka_unit_test(test_goroutine_counters),
		cmocka_unit_test(test_file_open_refuses_what_is_not_a_file),
		cmocka_unit_test(test_empty_run_is_valid_json),
		cmocka_unit_test(test_close_null_is_a_noop),
		cmocka_unit_test(test_stuck_then_unstuck_is_one_slice),
		cmocka_unit_test(test_wait_begun_before_the_run),
		cmocka_unit_test(test_names_written_once),
		cmocka_unit_test(test_process_name_has_cgroup),
		cmocka_unit_test(test_open_wait_ends_at_close),
		cmocka_unit_test(test_slice_written_at_its_end),
		cmocka_unit_test(test_counters_written_when_changed),
		cmocka_unit_test(test_leak_instant_with_stacks),
		cmocka_unit_test(test_spin_instant_on_its_thread),
		cmocka_unit_test(test_spin_without_stack),
		cmocka_unit_test(test_exit_ends_waits_and_forgets),
		cmocka_unit_test(test_tid_reused_by_another_process),
		cmocka_unit_test(test_stuck_again_ends_the_last_wait),
		cmocka_unit_test(test_unstuck_without_stuck_ignored),
		cmocka_unit_test(test_site_report_ignored),
		cmocka_unit_test(test_thread_rename_writes_new_name),
		cmocka_unit_test(test_hostile_names_stay_valid_json),
		cmocka_unit_test(test_long_comm_is_cut),
		cmocka_unit_test(test_summary_goes_to_other_data),
		cmocka_unit_test(test_crash_leaves_a_completable_prefix),
		cmocka_unit_test(test_sink_emit),
		cmocka_unit_test(test_open_on_full_device_fails),
		cmocka_unit_test(test_write_error_is_kept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

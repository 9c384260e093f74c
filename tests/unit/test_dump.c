// SPDX-License-Identifier: GPL-2.0
/* --dump's grouping and its text and JSON (user/dump.c), with fake symbols. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <json-c/json.h>
#include "dump.h"

static const uint64_t chan_send[] = { 0x1000, 0x2000, 0x3000, 0x9000 };
static const uint64_t chan_recv[] = { 0x1000, 0x2100, 0x3100, 0x9000 };
static const uint64_t futex[] = { 0x7f0000, 0x550000 };

static void add_g(struct dump *d, uint64_t goid, const char *wait, const uint64_t *pcs, int n)
{
	struct dump_waiter w = { .kind = DUMP_GOROUTINE, .id = goid, .wait = wait,
				 .pcs = pcs, .n_pcs = n };

	assert_int_equal(dump_add(d, &w), 0);
}

static void add_t(struct dump *d, uint64_t tid, bool blocked, uint64_t blocked_ns,
		  const uint64_t *pcs, int n)
{
	struct dump_waiter w = { .kind = DUMP_THREAD, .id = tid, .wait = blocked ? "futex" : "running",
				 .blocked = blocked, .blocked_ns = blocked_ns, .pcs = pcs, .n_pcs = n };

	assert_int_equal(dump_add(d, &w), 0);
}

/* pcs: 0x1000 runtime.gopark, 0x2000 runtime.chansend (0x2100 chanrecv),
 * 0x3000 main.worker with main.send inlined in it (0x3100 main.recv),
 * 0x9000 runtime.goexit. */
static int fake_go_frames(void *ctx, uint64_t pc, bool first, struct go_frame *out, int max)
{
	int *calls = ctx;

	(*calls)++;
	assert_true(max >= 2);
	/* As go_process_frames: a return address (!first) is looked up at
	 * pc - 1 by the callee, so pc is the raw value here. */
	switch (pc) {
	case 0x1000:
		out[0] = (struct go_frame){ .func = "runtime.gopark",
					    .file = "/go/src/runtime/proc.go",
					    .line = 398, .entry = 0xf00 };
		return 1;
	case 0x2000:
		out[0] = (struct go_frame){ .func = "runtime.chansend1",
					    .file = "/go/src/runtime/chan.go",
					    .line = 145, .entry = 0x1f00 };
		return 1;
	case 0x2100:
		out[0] = (struct go_frame){ .func = "runtime.chanrecv1",
					    .file = "/go/src/runtime/chan.go",
					    .line = 442, .entry = 0x2000 };
		return 1;
	case 0x3000:
		out[0] = (struct go_frame){ .func = "main.send",
					    .file = "/src/main.go",
					    .line = 12, .entry = 0x2f00, .inlined = true };
		out[1] = (struct go_frame){ .func = "main.worker",
					    .file = "/src/main.go",
					    .line = 20, .entry = 0x2f00 };
		return 2;
	case 0x3100:
		out[0] = (struct go_frame){ .func = "main.recv",
					    .file = "/src/main.go",
					    .line = 30, .entry = 0x3000 };
		return 1;
	case 0x9000:
		out[0] = (struct go_frame){ .func = "runtime.goexit",
					    .file = "/go/src/runtime/asm_amd64.s",
					    .line = 1700, .entry = 0x8ff0 };
		return 1;
	}
	return 0;
}

static void fake_thread_frame(void *ctx, uint64_t pc, bool first, char *buf, size_t len)
{
	snprintf(buf, len, "%s+0x%llx (libfake.so)", first ? "inner" : "outer",
		 (unsigned long long)(pc & 0xff));
}

static void test_groups_by_stack_and_wait_largest_first(void **state)
{
	struct dump_group *g;
	struct dump d;
	size_t n;

	dump_init(&d);
	add_g(&d, 7, "chan receive", chan_recv, 4);
	add_g(&d, 3, "chan send", chan_send, 4);
	add_g(&d, 9, "chan send", chan_send, 4);
	add_g(&d, 1, "chan send", chan_send, 4);
	add_g(&d, 2, "chan send", chan_recv, 4); /* same wait, other stack */
	add_g(&d, 5, "select", chan_send, 4);    /* same stack, other wait */
	add_t(&d, 100, true, 5000000000ULL, futex, 2);
	add_t(&d, 101, true, 12000000000ULL, futex, 2);
	add_t(&d, 102, false, 0, futex, 2);      /* running: another wait */
	assert_int_equal(dump_group(&d, &g, &n), 0);
	assert_int_equal(n, 6);

	assert_int_equal(g[0].kind, DUMP_GOROUTINE);
	assert_int_equal(g[0].count, 3);
	assert_string_equal(g[0].wait, "chan send");
	assert_int_equal(g[0].n_pcs, 4);
	assert_memory_equal(g[0].pcs, chan_send, sizeof(chan_send));
	assert_int_equal(g[0].n_ids, 3);
	assert_int_equal(g[0].ids[0], 1); /* lowest first */
	assert_int_equal(g[0].ids[1], 3);
	assert_int_equal(g[0].ids[2], 9);

	/* Then the thread group of 2 (blocked 2, longest 12 s). */
	assert_int_equal(g[1].kind, DUMP_THREAD);
	assert_int_equal(g[1].count, 2);
	assert_int_equal(g[1].blocked, 2);
	assert_int_equal(g[1].max_blocked_ns, 12000000000ULL);

	/* Groups of one: goroutines first, by wait, then threads. */
	assert_int_equal(g[2].kind, DUMP_GOROUTINE);
	assert_string_equal(g[2].wait, "chan receive");
	assert_string_equal(g[3].wait, "chan send");
	assert_int_equal(g[3].ids[0], 2);
	assert_string_equal(g[4].wait, "select");
	assert_int_equal(g[5].kind, DUMP_THREAD);
	assert_string_equal(g[5].wait, "running");
	assert_int_equal(g[5].blocked, 0);
	free(g);
	dump_free(&d);
}

static void test_ids_sample_capped(void **state)
{
	struct dump_group *g;
	struct dump d;
	size_t n;
	uint64_t i;

	dump_init(&d);
	for (i = 1000; i > 0; i--)
		add_g(&d, i, "chan send", chan_send, 4);
	assert_int_equal(dump_group(&d, &g, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(g[0].count, 1000);
	assert_int_equal(g[0].n_ids, DUMP_GROUP_IDS);
	for (i = 0; i < DUMP_GROUP_IDS; i++)
		assert_int_equal(g[0].ids[i], i + 1);
	free(g);
	dump_free(&d);
}

static void test_unreadable_stacks_grouped_apart(void **state)
{
	struct dump_waiter w = { .kind = DUMP_GOROUTINE, .id = 4, .wait = "chan send",
				 .unreadable = true, .pcs = chan_send, .n_pcs = 4 };
	struct dump_group *g;
	struct dump d;
	size_t n;

	dump_init(&d);
	add_g(&d, 1, "chan send", chan_send, 4);
	assert_int_equal(dump_add(&d, &w), 0);
	w.id = 5;
	w.pcs = NULL; /* unreadable: pcs not looked at */
	assert_int_equal(dump_add(&d, &w), 0);
	assert_int_equal(dump_group(&d, &g, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(g[0].count, 2);
	assert_true(g[0].unreadable);
	assert_int_equal(g[0].n_pcs, 0);
	assert_false(g[1].unreadable);
	free(g);
	dump_free(&d);
}

static void test_long_stack_and_wait_bounded(void **state)
{
	uint64_t pcs[LW_STACK_MAX + 20];
	char wait[200];
	struct dump_waiter w = { .kind = DUMP_GOROUTINE, .id = 1, .wait = wait, .pcs = pcs,
				 .n_pcs = LW_STACK_MAX + 20 };
	struct dump_group *g;
	struct dump d;
	size_t n, i;

	for (i = 0; i < LW_STACK_MAX + 20; i++)
		pcs[i] = 0x1000 + i;
	memset(wait, 'w', sizeof(wait) - 1);
	wait[sizeof(wait) - 1] = '\0';
	dump_init(&d);
	assert_int_equal(dump_add(&d, &w), 0);
	w.n_pcs = -3; /* nonsense: no frames */
	w.id = 2;
	assert_int_equal(dump_add(&d, &w), 0);
	assert_int_equal(dump_group(&d, &g, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(g[0].n_pcs + g[1].n_pcs, LW_STACK_MAX);
	assert_int_equal(strlen(g[0].wait), DUMP_WAIT_LEN - 1);
	free(g);
	dump_free(&d);
}

static void test_empty(void **state)
{
	struct dump_group *g = (void *)1;
	struct dump d;
	size_t n = 5;

	dump_init(&d);
	assert_int_equal(dump_group(&d, &g, &n), 0);
	assert_null(g);
	assert_int_equal(n, 0);
	dump_free(&d);
}

/* Runs a writer into memory. */
static char *write_dump(bool json, const struct dump_process *p, struct dump *d, int *calls)
{
	struct dump_symbols sym = { fake_go_frames, fake_thread_frame, calls, NULL };
	struct dump_group *g;
	char *buf = NULL;
	size_t len = 0, n;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(dump_group(d, &g, &n), 0);
	if (json)
		assert_int_equal(dump_write_json(f, p, g, n, &sym), 0);
	else
		assert_int_equal(dump_write_text(f, p, g, n, &sym), 0);
	fclose(f);
	free(g);
	return buf;
}

static void test_text_like_pprof_debug1(void **state)
{
	struct dump_process p = { .pid = 42, .pcomm = "server", .go_version = "go1.21.3",
				  .goroutines = 3, .system_goroutines = 4, .threads = 2 };
	struct dump d;
	int calls = 0;
	char *out;

	dump_init(&d);
	add_g(&d, 1, "chan send", chan_send, 4);
	add_g(&d, 2, "chan send", chan_send, 4);
	add_g(&d, 3, "chan receive", chan_recv, 4);
	add_t(&d, 100, true, 12345000000ULL, futex, 2);
	add_t(&d, 101, true, 1000000000ULL, futex, 2);
	out = write_dump(false, &p, &d, &calls);
	assert_string_equal(out,
		"# leakwatch --dump pid 42 (server) go1.21.3: 3 goroutines "
		"(4 system goroutines not shown), 2 threads\n"
		"goroutine profile: total 3\n"
		"2 @ 0x1000 0x2000 0x3000 0x9000\n"
		"# wait: chan send\n"
		"#\t0x2fff\tmain.send+0xff\t/src/main.go:12\n"
		"#\t0x2fff\tmain.worker+0xff\t/src/main.go:20\n"
		"\n"
		"1 @ 0x1000 0x2100 0x3100 0x9000\n"
		"# wait: chan receive\n"
		"#\t0x30ff\tmain.recv+0xff\t/src/main.go:30\n"
		"\n"
		"thread profile: total 2\n"
		"2 @ 0x7f0000 0x550000\n"
		"# wait: futex, 2 blocked, longest 12.345s\n"
		"#\t0x7f0000\tinner+0x0 (libfake.so)\n"
		"#\t0x54ffff\touter+0x0 (libfake.so)\n"
		"\n");
	free(out);
	dump_free(&d);
}

/* thread_frames: an inlined call at 0x7f0000 (pc 0x7f0000, first) is a
 * frame of its own; a frame with file:line shows it as Go's do, one without
 * its module; JSON holds the same as "func+0xoff (where)". */
static int fake_thread_frames(void *ctx, uint64_t pc, bool first, struct lw_frame *out, int max)
{
	assert_true(max >= 2);
	memset(out, 0, 2 * sizeof(*out));
	if (pc != 0x7f0000) {
		lw_frame_unknown(&out[0], LW_FRAME_NATIVE, pc, "libfake.so");
		snprintf(out[0].func, sizeof(out[0].func), "start");
		out[0].offset = 0x12;
		return 1;
	}
	assert_true(first);
	out[0] = (struct lw_frame){ .pc = pc, .offset = 0x43, .line = 60, .inlined = true };
	snprintf(out[0].func, sizeof(out[0].func), "chan_send");
	snprintf(out[0].file, sizeof(out[0].file), "query.c");
	out[1] = out[0];
	out[1].inlined = false;
	out[1].line = 67;
	snprintf(out[1].func, sizeof(out[1].func), "query");
	return 2;
}

static void test_thread_inline_frames(void **state)
{
	struct dump_process p = { .pid = 7, .pcomm = "query", .threads = 1 };
	struct dump_symbols sym = { NULL, fake_thread_frame, NULL, fake_thread_frames };
	struct dump_group *g;
	struct dump d;
	char *buf = NULL;
	size_t len = 0, n;
	FILE *f;

	dump_init(&d);
	add_t(&d, 100, true, 2000000000ULL, futex, 2);
	assert_int_equal(dump_group(&d, &g, &n), 0);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(dump_write_text(f, &p, g, n, &sym), 0);
	fclose(f);
	assert_non_null(strstr(buf, "#\t0x7f0000\tchan_send+0x43\tquery.c:60\n"
				    "#\t0x7f0000\tquery+0x43\tquery.c:67\n"
				    "#\t0x54ffff\tstart+0x12 (libfake.so)\n"));
	free(buf);
	buf = NULL;
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(dump_write_json(f, &p, g, n, &sym), 0);
	fclose(f);
	assert_non_null(strstr(buf, "[\"chan_send+0x43 (query.c:60)\",\"query+0x43 (query.c:67)\","
				    "\"start+0x12 (libfake.so)\"]"));
	free(buf);
	free(g);
	dump_free(&d);
}

static void test_text_all_runtime_shown(void **state)
{
	static const uint64_t only_runtime[] = { 0x1000, 0x2000, 0x9000 };
	struct dump_process p = { .pid = 1, .pcomm = "x", .go_version = "go1.19.8",
				  .goroutines = 1 };
	struct dump d;
	int calls = 0;
	char *out;

	dump_init(&d);
	add_g(&d, 1, "GC worker (idle)", only_runtime, 3);
	out = write_dump(false, &p, &d, &calls);
	/* Nothing but the runtime: all of it shown, goexit not. */
	assert_non_null(strstr(out, "#\t0x1000\truntime.gopark+0x100\t/go/src/runtime/proc.go:398\n"
				    "#\t0x1fff\truntime.chansend1+0xff\t/go/src/runtime/chan.go:145\n"
				    "\n"));
	assert_null(strstr(out, "goexit"));
	free(out);
	dump_free(&d);
}

static void test_text_not_go(void **state)
{
	struct dump_process p = { .pid = 1, .pcomm = "cat", .threads = 1,
				  .stacks_unreadable = 1 };
	struct dump_waiter w = { .kind = DUMP_THREAD, .id = 1, .wait = "read", .blocked = true,
				 .blocked_ns = 2000000, .unreadable = true };
	struct dump d;
	int calls = 0;
	char *out;

	dump_init(&d);
	assert_int_equal(dump_add(&d, &w), 0);
	out = write_dump(false, &p, &d, &calls);
	assert_string_equal(out, "# leakwatch --dump pid 1 (cat), 1 threads, 1 stacks unreadable\n"
				 "thread profile: total 1\n"
				 "1 @\n"
				 "# wait: read, 1 blocked, longest 0.002s, stack unreadable\n"
				 "\n");
	assert_int_equal(calls, 0);
	free(out);
	dump_free(&d);
}

/* A perf map's name: ESC, BEL, a C1 CSI and bytes that are not UTF-8. */
static void hostile_thread_frame(void *ctx, uint64_t pc, bool first, char *buf, size_t len)
{
	snprintf(buf, len, "\x1b[31mEVIL\x1b]0;t\x07\xc2\x9b" "2J\xff+0x7 (perf-9.map)");
}

/* Frame names come from the target: the text dump is for a terminal. */
static void test_text_no_terminal_escapes(void **state)
{
	struct dump_process p = { .pid = 9, .pcomm = "j\x1b[2Jit", .threads = 1 };
	struct dump_symbols sym = { NULL, hostile_thread_frame, NULL };
	struct dump_group *g;
	struct dump d;
	char *buf = NULL;
	size_t len = 0, n;
	FILE *f;

	dump_init(&d);
	add_t(&d, 9, true, 1000000000ULL, futex, 1);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(dump_group(&d, &g, &n), 0);
	assert_int_equal(dump_write_text(f, &p, g, n, &sym), 0);
	fclose(f);
	assert_string_equal(buf, "# leakwatch --dump pid 9 (j?[2Jit), 1 threads\n"
				 "thread profile: total 1\n"
				 "1 @ 0x7f0000\n"
				 "# wait: futex, 1 blocked, longest 1.000s\n"
				 "#\t0x7f0000\t?[31mEVIL?]0;t???2J\xef\xbf\xbd+0x7 (perf-9.map)\n"
				 "\n");
	free(buf);
	free(g);
	dump_free(&d);
}

/* A Go binary whose goroutines cannot be read: said, and no empty profile. */
static void test_text_go_unreadable(void **state)
{
	struct dump_process p = { .pid = 7, .pcomm = "srv", .go_version = "go1.30.1",
				  .go_error = "no DWARF and no layout table entry for go1.30",
				  .threads = 1 };
	struct dump d;
	int calls = 0;
	char *out;

	dump_init(&d);
	add_t(&d, 7, true, 1000000000ULL, futex, 2);
	out = write_dump(false, &p, &d, &calls);
	assert_non_null(strstr(out, "# goroutines not read: no DWARF and no layout table entry "
				    "for go1.30\n"));
	assert_null(strstr(out, "goroutine profile"));
	assert_non_null(strstr(out, "# leakwatch --dump pid 7 (srv) go1.30.1, 1 threads\n"));
	assert_non_null(strstr(out, "thread profile: total 1\n"));
	free(out);
	dump_free(&d);
}

static json_object *line_json(char **cursor)
{
	char *nl = strchr(*cursor, '\n');
	json_object *o;

	assert_non_null(nl);
	*nl = '\0';
	o = json_tokener_parse(*cursor);
	assert_non_null(o);
	*cursor = nl + 1;
	return o;
}

static const char *get_str(json_object *o, const char *key)
{
	json_object *v;

	assert_true(json_object_object_get_ex(o, key, &v));
	return json_object_get_string(v);
}

static int64_t get_int(json_object *o, const char *key)
{
	json_object *v;

	assert_true(json_object_object_get_ex(o, key, &v));
	return json_object_get_int64(v);
}

static void test_json_one_record_per_group(void **state)
{
	struct dump_process p = { .pid = 42, .pcomm = "server", .ts = 1700000000.5,
				  .go_version = "go1.21.3" };
	json_object *o, *a, *v;
	struct dump d;
	int calls = 0;
	char *out, *cur;

	dump_init(&d);
	add_g(&d, 1, "chan send", chan_send, 4);
	add_g(&d, 2, "chan send", chan_send, 4);
	add_t(&d, 100, true, 12345000000ULL, futex, 2);
	out = write_dump(true, &p, &d, &calls);
	cur = out;

	o = line_json(&cur);
	assert_string_equal(get_str(o, "type"), "dump");
	assert_int_equal(get_int(o, "pid"), 42);
	assert_string_equal(get_str(o, "pcomm"), "server");
	assert_string_equal(get_str(o, "kind"), "goroutine");
	assert_int_equal(get_int(o, "count"), 2);
	assert_string_equal(get_str(o, "wait"), "chan send");
	assert_false(json_object_object_get_ex(o, "max_blocked_s", &v));
	assert_true(json_object_object_get_ex(o, "goids", &a));
	assert_int_equal(json_object_array_length(a), 2);
	assert_true(json_object_object_get_ex(o, "stack", &a));
	/* Every frame, runtime and inlined ones included. */
	assert_int_equal(json_object_array_length(a), 5);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(a, 0)),
			    "runtime.gopark+0x100 (/go/src/runtime/proc.go:398)");
	assert_string_equal(json_object_get_string(json_object_array_get_idx(a, 2)),
			    "main.send+0xff (/src/main.go:12)");
	assert_string_equal(json_object_get_string(json_object_array_get_idx(a, 3)),
			    "main.worker+0xff (/src/main.go:20)");
	json_object_put(o);

	o = line_json(&cur);
	assert_string_equal(get_str(o, "kind"), "thread");
	assert_int_equal(get_int(o, "count"), 1);
	assert_true(json_object_object_get_ex(o, "max_blocked_s", &v));
	assert_true(json_object_get_double(v) > 12.344 && json_object_get_double(v) < 12.346);
	assert_true(json_object_object_get_ex(o, "tids", &a));
	assert_int_equal(json_object_get_int64(json_object_array_get_idx(a, 0)), 100);
	assert_true(json_object_object_get_ex(o, "stack", &a));
	assert_string_equal(json_object_get_string(json_object_array_get_idx(a, 1)),
			    "outer+0x0 (libfake.so)");
	json_object_put(o);
	assert_string_equal(cur, "");
	free(out);
	dump_free(&d);
}

/* Hostile process names and unknown pcs. */
static void test_json_valid_with_bad_bytes(void **state)
{
	static const uint64_t unknown[] = { 0xdead, 0xbeef };
	struct dump_process p = { .pid = 1, .pcomm = "a\"\\\xff\n" };
	struct dump d;
	int calls = 0;
	char *out, *cur;
	json_object *o, *a;

	dump_init(&d);
	add_g(&d, 1, "\xc3(", unknown, 2);
	out = write_dump(true, &p, &d, &calls);
	cur = out;
	o = line_json(&cur);
	assert_true(json_object_object_get_ex(o, "stack", &a));
	assert_string_equal(json_object_get_string(json_object_array_get_idx(a, 0)), "0xdead");
	assert_string_equal(json_object_get_string(json_object_array_get_idx(a, 1)), "0xbeee");
	json_object_put(o);
	free(out);
	dump_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_groups_by_stack_and_wait_largest_first),
		cmocka_unit_test(test_ids_sample_capped),
		cmocka_unit_test(test_unreadable_stacks_grouped_apart),
		cmocka_unit_test(test_long_stack_and_wait_bounded),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_text_like_pprof_debug1),
		cmocka_unit_test(test_text_all_runtime_shown),
		cmocka_unit_test(test_thread_inline_frames),
		cmocka_unit_test(test_text_not_go),
		cmocka_unit_test(test_text_go_unreadable),
		cmocka_unit_test(test_text_no_terminal_escapes),
		cmocka_unit_test(test_json_one_record_per_group),
		cmocka_unit_test(test_json_valid_with_bad_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

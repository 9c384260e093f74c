// SPDX-License-Identifier: GPL-2.0
/* Frames (user/frame.c), Python frames into native stacks (user/py_merge.c)
 * and a thread site's name (site_name_thread, user/sites.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "frame.h"
#include "py_frames.h"
#include "sites.h"

static struct lw_frame frame(uint8_t kind, const char *func, const char *file, int line,
			     const char *module, bool inlined)
{
	struct lw_frame f;

	lw_frame_unknown(&f, kind, 0x1000, module);
	snprintf(f.func, sizeof(f.func), "%s", func);
	snprintf(f.file, sizeof(f.file), "%s", file);
	f.line = line;
	f.offset = 0x2a;
	f.inlined = inlined;
	return f;
}

static void assert_text(const struct lw_frame *f, const char *want)
{
	char buf[LW_FRAME_TEXT];

	lw_frame_text(f, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void test_frame_text_forms(void **state)
{
	struct lw_frame f = frame(LW_FRAME_NATIVE, "query", "/src/query.c", 30, "app", false);
	char tiny[8];

	assert_text(&f, "query+0x2a (/src/query.c:30)");
	f = frame(LW_FRAME_NATIVE, "pthread_cond_wait", "", 0, "libc.so.6", false);
	assert_text(&f, "pthread_cond_wait+0x2a (libc.so.6)");
	f = frame(LW_FRAME_JIT, "LSpin;::spinLoop", "", 0, "perf-42.map", false);
	assert_text(&f, "LSpin;::spinLoop+0x2a (perf-42.map)");
	f = frame(LW_FRAME_PYTHON, "handle", "/srv/leak.py", 6, "", false);
	assert_text(&f, "handle (/srv/leak.py:6)");
	f = frame(LW_FRAME_GO, "main.f", "", 0, "", false);
	assert_text(&f, "main.f+0x2a");
	lw_frame_unknown(&f, LW_FRAME_NATIVE, 0x7f00dead, NULL);
	assert_text(&f, "0x7f00dead (?)");
	/* cut, NUL-terminated */
	f = frame(LW_FRAME_NATIVE, "a_rather_long_name", "", 0, "m", false);
	lw_frame_text(&f, tiny, sizeof(tiny));
	assert_string_equal(tiny, "a_rathe");
	assert_string_equal(lw_frame_kind_name(LW_FRAME_KERNEL), "kernel");
}

/* Each eval frame gives way to the Python frames up to its entry frame. */
static void test_merge_replaces_each_eval_frame(void **state)
{
	struct lw_frame native[5] = {
		frame(LW_FRAME_NATIVE, "futex_wait", "", 0, "libc.so.6", false),
		frame(LW_FRAME_NATIVE, "_PyEval_EvalFrameDefault", "", 0, "python", false),
		frame(LW_FRAME_NATIVE, "ext_call", "ext.c", 3, "ext.so", false),
		frame(LW_FRAME_NATIVE, "_PyEval_EvalFrameDefault", "", 0, "python", false),
		frame(LW_FRAME_NATIVE, "main", "", 0, "python", false),
	};
	struct lw_frame py[3] = {
		frame(LW_FRAME_PYTHON, "inner", "a.py", 1, "", false),
		frame(LW_FRAME_PYTHON, "middle", "a.py", 2, "", false),
		frame(LW_FRAME_PYTHON, "outer", "a.py", 3, "", false),
	}, out[8];
	static const char *const want[] = { "futex_wait", "inner", "middle", "ext_call", "outer",
					    "main" };
	int n, i;

	py[1].py_entry = true;
	py[2].py_entry = true;
	n = py_merge_frames(native, 5, py, 3, out, 8);
	assert_int_equal(n, 6);
	for (i = 0; i < n; i++)
		assert_string_equal(out[i].func, want[i]);
	/* max respected */
	assert_int_equal(py_merge_frames(native, 5, py, 3, out, 3), 3);
	assert_string_equal(out[2].func, "middle");
}

/* An unwind cut short: the Python frames left go at the outer end. */
static void test_merge_leftovers_outermost(void **state)
{
	struct lw_frame native[1] = { frame(LW_FRAME_NATIVE, "futex_wait", "", 0, "libc", false) };
	struct lw_frame py[2] = {
		frame(LW_FRAME_PYTHON, "inner", "a.py", 1, "", false),
		frame(LW_FRAME_PYTHON, "outer", "a.py", 3, "", false),
	}, out[4];

	assert_int_equal(py_merge_frames(native, 1, py, 2, out, 4), 3);
	assert_string_equal(out[0].func, "futex_wait");
	assert_string_equal(out[2].func, "outer");
	/* more eval frames than Python runs: the extra ones stay */
	native[0] = frame(LW_FRAME_NATIVE, "_PyEval_EvalFrameDefault", "", 0, "python", false);
	assert_int_equal(py_merge_frames(native, 1, NULL, 0, out, 4), 1);
	assert_string_equal(out[0].func, "_PyEval_EvalFrameDefault");
}

static void test_stdlib_files(void **state)
{
	assert_true(py_stdlib_file("/usr/lib/python3.11/queue.py"));
	assert_true(py_stdlib_file("/root/.pyenv/versions/3.13.0/lib/python3.13/threading.py"));
	assert_true(py_stdlib_file("<frozen importlib._bootstrap>"));
	assert_false(py_stdlib_file("/usr/lib/python3/dist-packages/requests/api.py"));
	assert_false(py_stdlib_file("/usr/lib/python3.11/site-packages/x.py"));
	assert_false(py_stdlib_file("/srv/app/leak.py"));
	assert_false(py_stdlib_file("leak.py"));
	assert_false(py_stdlib_file("/opt/lib/pythonic/x.py"));
}

static void name(struct lw_site *s, const struct lw_frame *f, int n)
{
	memset(s, 0, sizeof(*s));
	memcpy(s->user.info, f, (size_t)n * sizeof(*f));
	s->user.n = n;
	site_name_thread(s);
}

static void test_thread_site_names(void **state)
{
	static struct lw_site s;
	struct lw_frame f[4] = {
		frame(LW_FRAME_NATIVE, "pthread_cond_wait", "", 0, "libc.so.6", false),
		frame(LW_FRAME_NATIVE, "chan_send", "/src/query.c", 14, "query", true),
		frame(LW_FRAME_NATIVE, "recv_inner", "/src/query.c", 20, "query", true),
		frame(LW_FRAME_NATIVE, "query", "/src/query.c", 40, "query", false),
	};

	name(&s, f, 4);
	assert_string_equal(s.where, "chan_send (query.c:14) inlined into query");
	f[1].inlined = false;
	name(&s, f, 2);
	assert_string_equal(s.where, "chan_send (query.c:14)");
	f[1].file[0] = '\0';
	name(&s, f, 2);
	assert_string_equal(s.where, "chan_send (query)");
	/* only libc: named by it anyway */
	name(&s, f, 1);
	assert_string_equal(s.where, "pthread_cond_wait (libc.so.6)");
	/* nothing named */
	lw_frame_unknown(&f[0], LW_FRAME_NATIVE, 0x10, NULL);
	name(&s, f, 1);
	assert_string_equal(s.where, "");
	/* Python: past the standard library */
	f[0] = frame(LW_FRAME_PYTHON, "Queue.get", "/usr/lib/python3.11/queue.py", 171, "", false);
	f[1] = frame(LW_FRAME_PYTHON, "handle", "/srv/leak.py", 6, "", false);
	name(&s, f, 2);
	assert_string_equal(s.where, "handle (leak.py:6)");
	name(&s, f, 1);
	assert_string_equal(s.where, "Queue.get (queue.py:171)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_text_forms),
		cmocka_unit_test(test_merge_replaces_each_eval_frame),
		cmocka_unit_test(test_merge_leftovers_outermost),
		cmocka_unit_test(test_stdlib_files),
		cmocka_unit_test(test_thread_site_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

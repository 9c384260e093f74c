// SPDX-License-Identifier: GPL-2.0
/* The pure parts of py_frames.h: the eval loop's frames, the merge of
 * Python frames into native stacks, standard library files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "py_frames.h"

static struct lw_frame native(const char *func)
{
	struct lw_frame f = { .kind = LW_FRAME_NATIVE };

	snprintf(f.func, sizeof(f.func), "%s", func);
	return f;
}

static struct lw_frame python(const char *func, bool entry)
{
	struct lw_frame f = { .kind = LW_FRAME_PYTHON, .py_entry = entry, .line = 1 };

	snprintf(f.func, sizeof(f.func), "%s", func);
	snprintf(f.file, sizeof(f.file), "x.py");
	return f;
}

/* out[0..n) names, one string "a b c". */
static void expect(const struct lw_frame *out, int n, const char *want)
{
	char got[1024] = "";

	for (int i = 0; i < n; i++) {
		if (i)
			strcat(got, " ");
		strcat(got, out[i].func);
	}
	assert_string_equal(got, want);
}

static void test_eval_frames(void **state)
{
	assert_true(py_is_eval_frame("_PyEval_EvalFrameDefault"));
	assert_true(py_is_eval_frame("_PyEval_EvalFrameDefault.cold"));
	assert_false(py_is_eval_frame("_PyEval_EvalFrameDefaultX"));
	assert_false(py_is_eval_frame("_PyEval_EvalFrame"));
	assert_false(py_is_eval_frame("PyEval_EvalCode"));
	assert_false(py_is_eval_frame(""));
	assert_false(py_is_eval_frame(NULL));
}

/* Two eval loops, each replaced by its run of Python frames, up to and
 * including its entry frame; the C between them stays. */
static void test_merge_runs(void **state)
{
	struct lw_frame n[] = {
		native("__futex_abstimed_wait_common"), native("PyThread_acquire_lock_timed"),
		native("_PyEval_EvalFrameDefault"),     native("method_vectorcall"),
		native("_PyEval_EvalFrameDefault"),     native("thread_run"),
		native("start_thread"),
	};
	struct lw_frame p[] = {
		python("Condition.wait", false), python("Queue.get", false),
		python("handle", true),          python("Thread.run", false),
		python("Thread._bootstrap", true),
	};
	struct lw_frame out[32];
	int k = py_merge_frames(n, 7, p, 5, out, 32);

	expect(out, k,
	       "__futex_abstimed_wait_common PyThread_acquire_lock_timed Condition.wait "
	       "Queue.get handle method_vectorcall Thread.run Thread._bootstrap thread_run "
	       "start_thread");
	assert_int_equal(out[2].kind, LW_FRAME_PYTHON);
	assert_true(out[4].py_entry);
}

/* The unwind stopped before the outer eval loop: the Python frames left
 * are the callers, at the outer end. */
static void test_merge_leftovers_outer(void **state)
{
	struct lw_frame n[] = { native("select"), native("_PyEval_EvalFrameDefault") };
	struct lw_frame p[] = { python("selector", true), python("Thread.run", false),
				python("Thread._bootstrap", true) };
	struct lw_frame out[32];
	int k = py_merge_frames(n, 2, p, 3, out, 32);

	expect(out, k, "select selector Thread.run Thread._bootstrap");
	/* no native stack at all */
	k = py_merge_frames(NULL, 0, p, 3, out, 32);
	expect(out, k, "selector Thread.run Thread._bootstrap");
}

/* More eval loops than runs: the one with no Python frame left stays. */
static void test_merge_eval_without_python(void **state)
{
	struct lw_frame n[] = { native("_PyEval_EvalFrameDefault"), native("x"),
				native("_PyEval_EvalFrameDefault"), native("main") };
	struct lw_frame p[] = { python("f", true) };
	struct lw_frame out[32];
	int k = py_merge_frames(n, 4, p, 1, out, 32);

	expect(out, k, "f x _PyEval_EvalFrameDefault main");
	/* an inlined frame named so is not the physical eval loop */
	n[0].inlined = true;
	k = py_merge_frames(n, 4, p, 1, out, 32);
	expect(out, k, "_PyEval_EvalFrameDefault x f main");
}

static void test_merge_max(void **state)
{
	struct lw_frame n[] = { native("wait"), native("_PyEval_EvalFrameDefault"),
				native("main") };
	struct lw_frame p[] = { python("a", false), python("b", false), python("c", true) };
	struct lw_frame out[8];

	for (int max = 0; max <= 5; max++) {
		static const char *const want[] = {
			"", "wait", "wait a", "wait a b", "wait a b c", "wait a b c main",
		};
		int k = py_merge_frames(n, 3, p, 3, out, max);

		assert_int_equal(k, max);
		expect(out, k, want[max]);
	}
}

static void test_stdlib_files(void **state)
{
	assert_true(py_stdlib_file("/usr/lib/python3.11/threading.py"));
	assert_true(py_stdlib_file("/root/.pyenv/versions/3.13.0/lib/python3.13/queue.py"));
	assert_true(py_stdlib_file("/usr/lib64/python3.12/asyncio/base_events.py"));
	assert_true(py_stdlib_file("/opt/py/lib/python3.13t/selectors.py"));
	assert_true(py_stdlib_file("<frozen importlib._bootstrap>"));
	assert_false(py_stdlib_file("/usr/lib/python3/dist-packages/requests/api.py"));
	assert_false(py_stdlib_file("/usr/lib/python3.11/site-packages/foo.py"));
	assert_false(py_stdlib_file("/venv/lib/python3.12/site-packages/foo/bar.py"));
	assert_false(py_stdlib_file("/usr/local/lib/python3.11/dist-packages/x.py"));
	assert_false(py_stdlib_file("/work/leak.py"));
	assert_false(py_stdlib_file("/srv/library/python3.11/x.py"));
	assert_false(py_stdlib_file("/usr/lib/python3.x/x.py"));
	assert_false(py_stdlib_file("<string>"));
	assert_false(py_stdlib_file(""));
	assert_false(py_stdlib_file(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eval_frames),
		cmocka_unit_test(test_merge_runs),
		cmocka_unit_test(test_merge_leftovers_outer),
		cmocka_unit_test(test_merge_eval_without_python),
		cmocka_unit_test(test_merge_max),
		cmocka_unit_test(test_stdlib_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

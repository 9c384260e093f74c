/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The layout table of one CPython version (user/py_layout.c) against that
 * version's own headers: each offset the walker reads must be offsetof()
 * of the field it names.  Included by test_py_layout_3NN.c, each built
 * with -I of that version's include directory (Py_BUILD_CORE: the
 * internal headers).
 */
#define Py_BUILD_CORE 1
#include <Python.h>
#include "internal/pycore_code.h"
#include "internal/pycore_frame.h"
#include "internal/pycore_interp.h"
#include "internal/pycore_runtime.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include "py_layout.h"

static void test_table_matches_headers(void **state)
{
	struct py_layout l;

	assert_int_equal(py_layout_for_version(PY_VERSION_HEX, &l), 0);
	assert_true(py_layout_valid(&l));
	assert_int_equal(l.runtime_interpreters_head, offsetof(_PyRuntimeState, interpreters.head));
	assert_int_equal(l.interp_next, offsetof(PyInterpreterState, next));
	assert_int_equal(l.interp_threads_head, offsetof(PyInterpreterState, threads.head));
	assert_int_equal(l.tstate_next, offsetof(PyThreadState, next));
	assert_int_equal(l.tstate_native_thread_id, offsetof(PyThreadState, native_thread_id));
	assert_int_equal(l.tstate_cframe, offsetof(PyThreadState, cframe));
	assert_int_equal(l.cframe_current_frame, offsetof(_PyCFrame, current_frame));
	assert_int_equal(l.tstate_current_frame, PY_NO_FIELD);
	assert_true(l.tstate_span <= sizeof(PyThreadState));
	assert_int_equal(l.frame_code, offsetof(_PyInterpreterFrame, f_code));
	assert_int_equal(l.frame_previous, offsetof(_PyInterpreterFrame, previous));
	assert_int_equal(l.frame_instr, offsetof(_PyInterpreterFrame, prev_instr));
	assert_int_equal(l.frame_owner, offsetof(_PyInterpreterFrame, owner));
#if PY_VERSION_HEX < 0x030c0000
	assert_int_equal(l.frame_is_entry, offsetof(_PyInterpreterFrame, is_entry));
#else
	assert_int_equal(l.frame_is_entry, PY_NO_FIELD);
	assert_int_equal(PY_FRAME_OWNED_BY_CSTACK, FRAME_OWNED_BY_CSTACK);
#endif
	assert_true(l.frame_span <= sizeof(_PyInterpreterFrame));
	assert_int_equal(l.code_qualname, offsetof(PyCodeObject, co_qualname));
	assert_int_equal(l.code_filename, offsetof(PyCodeObject, co_filename));
	assert_int_equal(l.code_firstlineno, offsetof(PyCodeObject, co_firstlineno));
	assert_int_equal(l.code_linetable, offsetof(PyCodeObject, co_linetable));
	assert_int_equal(l.code_adaptive, offsetof(PyCodeObject, co_code_adaptive));
	assert_true(l.code_span <= sizeof(PyCodeObject));
	assert_int_equal(l.bytes_size, offsetof(PyVarObject, ob_size));
	assert_int_equal(l.bytes_data, offsetof(PyBytesObject, ob_sval));
	assert_int_equal(l.str_length, offsetof(PyASCIIObject, length));
	assert_int_equal(l.str_state, offsetof(PyASCIIObject, state));
	assert_int_equal(l.str_ascii_size, sizeof(PyASCIIObject));
	assert_int_equal(l.str_compact_size, sizeof(PyCompactUnicodeObject));
}

/* The bits of PyASCIIObject.state the walker decodes: kind 2-4, compact 5,
 * ascii 6. */
static void test_string_state_bits(void **state)
{
	PyASCIIObject o;
	uint32_t bits;

	memset(&o, 0, sizeof(o));
	o.state.kind = 4;
	o.state.compact = 1;
	o.state.ascii = 1;
	memcpy(&bits, &o.state, 4);
	assert_int_equal(bits, 4u << 2 | 1u << 5 | 1u << 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_matches_headers),
		cmocka_unit_test(test_string_state_bits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

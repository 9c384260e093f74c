// SPDX-License-Identifier: GPL-2.0
/*
 * The layout parsed from 3.13's _Py_DebugOffsets (user/py_layout.c) against
 * 3.13's own: the debug offsets are the ones of this program's own
 * _PyRuntime (linked with pyenv's libpython3.13, built only where present),
 * the truth from offsetof() in its headers.
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

static void test_debug_offsets_match_headers(void **state)
{
	struct py_layout l;

	assert_true(sizeof(_Py_DebugOffsets) <= PY_DEBUG_OFFSETS_SPAN);
	assert_int_equal(py_layout_from_debug_offsets((const uint8_t *)&_PyRuntime,
						      PY_DEBUG_OFFSETS_SPAN, Py_Version, &l), 0);
	assert_int_equal(l.version, PY_VERSION_HEX);
	assert_int_equal(l.runtime_interpreters_head, offsetof(_PyRuntimeState, interpreters.head));
	assert_int_equal(l.interp_next, offsetof(PyInterpreterState, next));
	assert_int_equal(l.interp_threads_head, offsetof(PyInterpreterState, threads.head));
	assert_int_equal(l.tstate_next, offsetof(PyThreadState, next));
	assert_int_equal(l.tstate_native_thread_id, offsetof(PyThreadState, native_thread_id));
	assert_int_equal(l.tstate_cframe, PY_NO_FIELD);
	assert_int_equal(l.tstate_current_frame, offsetof(PyThreadState, current_frame));
	assert_int_equal(l.frame_code, offsetof(_PyInterpreterFrame, f_executable));
	assert_int_equal(l.frame_previous, offsetof(_PyInterpreterFrame, previous));
	assert_int_equal(l.frame_instr, offsetof(_PyInterpreterFrame, instr_ptr));
	assert_int_equal(l.frame_owner, offsetof(_PyInterpreterFrame, owner));
	assert_int_equal(l.frame_is_entry, PY_NO_FIELD);
	assert_int_equal(PY_FRAME_OWNED_BY_CSTACK, FRAME_OWNED_BY_CSTACK);
	assert_int_equal(l.code_qualname, offsetof(PyCodeObject, co_qualname));
	assert_int_equal(l.code_filename, offsetof(PyCodeObject, co_filename));
	assert_int_equal(l.code_firstlineno, offsetof(PyCodeObject, co_firstlineno));
	assert_int_equal(l.code_linetable, offsetof(PyCodeObject, co_linetable));
	assert_int_equal(l.code_adaptive, offsetof(PyCodeObject, co_code_adaptive));
	assert_int_equal(l.bytes_size, offsetof(PyVarObject, ob_size));
	assert_int_equal(l.bytes_data, offsetof(PyBytesObject, ob_sval));
	assert_int_equal(l.str_length, offsetof(PyASCIIObject, length));
	assert_int_equal(l.str_state, offsetof(PyASCIIObject, state));
	assert_int_equal(l.str_ascii_size, sizeof(PyASCIIObject));
	assert_int_equal(l.str_compact_size, sizeof(PyCompactUnicodeObject));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_debug_offsets_match_headers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where the fields the Python frame walker reads are, per CPython version:
 * 3.11 and 3.12 from a table made from the CPython headers (checked against
 * them with offsetof in tests/unit/test_py_layout.c), 3.13+ from the
 * _Py_DebugOffsets that the interpreter publishes at the start of
 * _PyRuntime.  Pure.
 */
#ifndef LW_PY_LAYOUT_H
#define LW_PY_LAYOUT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A field the version does not have. */
#define PY_NO_FIELD UINT32_MAX
/* Sizes of the structs read at once, at most: larger ones are garbage. */
#define PY_SPAN_MAX 4096
/* Offsets into _PyRuntime and PyInterpreterState (large, never read whole),
 * at most. */
#define PY_OFFSET_MAX (1u << 24)

/* _PyInterpreterFrame.owner: a shim frame of the C stack (3.12+), not code. */
#define PY_FRAME_OWNED_BY_CSTACK 3

struct py_layout {
	uint32_t version; /* Py_Version: 0x030b02f0 is 3.11.2 final */
	/* _PyRuntime */
	uint32_t runtime_interpreters_head;
	/* PyInterpreterState */
	uint32_t interp_next;
	uint32_t interp_threads_head;
	/* PyThreadState; tstate_span: the bytes read of one, covering the
	 * fields below */
	uint32_t tstate_span;
	uint32_t tstate_next;
	uint32_t tstate_native_thread_id;
	/* 3.11, 3.12: tstate->cframe->current_frame; 3.13+: no cframe,
	 * tstate->current_frame */
	uint32_t tstate_cframe;
	uint32_t cframe_current_frame;
	uint32_t tstate_current_frame;
	/* _PyInterpreterFrame */
	uint32_t frame_span;
	uint32_t frame_code;     /* f_code (3.11, 3.12), f_executable (3.13+) */
	uint32_t frame_previous;
	uint32_t frame_instr;    /* prev_instr (3.11, 3.12), instr_ptr (3.13+) */
	uint32_t frame_owner;    /* a char */
	uint32_t frame_is_entry; /* a bool, 3.11 only */
	/* PyCodeObject */
	uint32_t code_span;
	uint32_t code_qualname;
	uint32_t code_filename;
	uint32_t code_firstlineno; /* an int */
	uint32_t code_linetable;   /* a bytes object */
	uint32_t code_adaptive;    /* co_code_adaptive: the first code unit */
	/* PyBytesObject */
	uint32_t bytes_size;
	uint32_t bytes_data;
	/* PyASCIIObject, PyCompactUnicodeObject */
	uint32_t str_length;
	uint32_t str_state;
	uint32_t str_ascii_size;   /* compact ASCII data follows */
	uint32_t str_compact_size; /* compact non-ASCII data follows */
};

/* The table for 3.11 or 3.12 (any patch release).  0, or -ENOTSUP. */
int py_layout_for_version(uint32_t version, struct py_layout *out);

/* The bytes of _Py_DebugOffsets read from the start of _PyRuntime, at most. */
#define PY_DEBUG_OFFSETS_SPAN 1024

/*
 * The layout from the _Py_DebugOffsets in buf (the start of _PyRuntime,
 * len bytes) of an interpreter whose Py_Version is version (3.13+): the
 * cookie "xdebugpy" and its version must match, every offset must lie in
 * its struct's size, every size in PY_SPAN_MAX.  0; -ENOTSUP: not a debug
 * offsets layout known here (3.14+ grew it); -EINVAL: garbage.
 */
int py_layout_from_debug_offsets(const uint8_t *buf, size_t len, uint32_t version,
				 struct py_layout *out);

/* Is every offset of l inside its span (what the walker relies on)? */
bool py_layout_valid(const struct py_layout *l);

#endif

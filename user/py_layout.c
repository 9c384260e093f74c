// SPDX-License-Identifier: GPL-2.0
/*
 * CPython layouts (py_layout.h): 3.11 and 3.12 as their headers have them
 * (Include/internal/pycore_frame.h, pycore_interp.h, cpython/pystate.h,
 * cpython/code.h, cpython/unicodeobject.h; x86-64 and other LP64 targets),
 * 3.13 from _Py_DebugOffsets.  Pure.
 */
#include <errno.h>
#include <string.h>
#include "py_layout.h"

#define PY_MINOR(v) (((v) >> 16) & 0xff)
#define PY_MAJOR(v) ((v) >> 24)

static const struct py_layout py311 = {
	.runtime_interpreters_head = 40,
	.interp_next = 0,
	.interp_threads_head = 16,
	.tstate_span = 168,
	.tstate_next = 8,
	.tstate_native_thread_id = 160,
	.tstate_cframe = 56,
	.cframe_current_frame = 8,
	.tstate_current_frame = PY_NO_FIELD,
	.frame_span = 72,
	.frame_code = 32,
	.frame_previous = 48,
	.frame_instr = 56,
	.frame_owner = 69,
	.frame_is_entry = 68,
	.code_span = 144,
	.code_qualname = 128,
	.code_filename = 112,
	.code_firstlineno = 72,
	.code_linetable = 136,
	.code_adaptive = 184,
	.bytes_size = 16,
	.bytes_data = 32,
	.str_length = 16,
	.str_state = 32,
	.str_ascii_size = 48,
	.str_compact_size = 72,
};

static const struct py_layout py312 = {
	.runtime_interpreters_head = 40,
	.interp_next = 0,
	.interp_threads_head = 72,
	.tstate_span = 152,
	.tstate_next = 8,
	.tstate_native_thread_id = 144,
	.tstate_cframe = 56,
	.cframe_current_frame = 0,
	.tstate_current_frame = PY_NO_FIELD,
	.frame_span = 72,
	.frame_code = 0,
	.frame_previous = 8,
	.frame_instr = 56,
	.frame_owner = 70,
	.frame_is_entry = PY_NO_FIELD,
	.code_span = 144,
	.code_qualname = 128,
	.code_filename = 112,
	.code_firstlineno = 68,
	.code_linetable = 136,
	.code_adaptive = 192,
	.bytes_size = 16,
	.bytes_data = 32,
	.str_length = 16,
	.str_state = 32,
	.str_ascii_size = 40,
	.str_compact_size = 56,
};

int py_layout_for_version(uint32_t version, struct py_layout *out)
{
	if (PY_MAJOR(version) != 3)
		return -ENOTSUP;
	switch (PY_MINOR(version)) {
	case 11:
		*out = py311;
		break;
	case 12:
		*out = py312;
		break;
	default:
		return -ENOTSUP;
	}
	out->version = version;
	return 0;
}

/*
 * 3.13's _Py_DebugOffsets (Include/internal/pycore_runtime.h): a cookie,
 * then uint64_t fields, grouped per struct, each group a size then
 * offsets.  Indexes of the uint64_t words read here.
 */
enum {
	DO_VERSION = 1,
	DO_RUNTIME_SIZE = 3,
	DO_RUNTIME_INTERPRETERS_HEAD = 5,
	DO_INTERP_SIZE = 6,
	DO_INTERP_NEXT = 8,
	DO_INTERP_THREADS_HEAD = 9,
	DO_TSTATE_SIZE = 19,
	DO_TSTATE_NEXT = 21,
	DO_TSTATE_CURRENT_FRAME = 23,
	DO_TSTATE_NATIVE_THREAD_ID = 25,
	DO_FRAME_SIZE = 28,
	DO_FRAME_PREVIOUS = 29,
	DO_FRAME_EXECUTABLE = 30,
	DO_FRAME_INSTR_PTR = 31,
	DO_FRAME_OWNER = 33,
	DO_CODE_SIZE = 34,
	DO_CODE_FILENAME = 35,
	DO_CODE_QUALNAME = 37,
	DO_CODE_LINETABLE = 38,
	DO_CODE_FIRSTLINENO = 39,
	DO_CODE_ADAPTIVE = 43,
	DO_BYTES_SIZE = 64,
	DO_BYTES_OB_SIZE = 65,
	DO_BYTES_OB_SVAL = 66,
	DO_UNICODE_SIZE = 67,
	DO_UNICODE_STATE = 68,
	DO_UNICODE_LENGTH = 69,
	DO_UNICODE_ASCII_SIZE = 70,
	DO_WORDS_313 = 73,
};

static uint64_t word(const uint8_t *buf, int i)
{
	uint64_t v;

	memcpy(&v, buf + (size_t)i * 8, 8);
	return v;
}

/* An offset into a struct of size size, with room for a field of width
 * bytes: else PY_NO_FIELD, which py_layout_valid rejects. */
static uint32_t field_in(const uint8_t *buf, int off, int size, unsigned int width,
			 uint64_t size_max)
{
	uint64_t o = word(buf, off), s = word(buf, size);

	if (s > size_max || o + width > s)
		return PY_NO_FIELD;
	return (uint32_t)o;
}

/* A field of a struct read whole (PY_SPAN_MAX at most). */
static uint32_t field(const uint8_t *buf, int off, int size, unsigned int width)
{
	return field_in(buf, off, size, width, PY_SPAN_MAX);
}

/* A field of _PyRuntime or PyInterpreterState, large structs of which only
 * single fields are read. */
static uint32_t big_field(const uint8_t *buf, int off, int size)
{
	return field_in(buf, off, size, 8, PY_OFFSET_MAX);
}

int py_layout_from_debug_offsets(const uint8_t *buf, size_t len, uint32_t version,
				 struct py_layout *out)
{
	struct py_layout l;
	uint64_t ascii_size;

	if (PY_MAJOR(version) != 3 || PY_MINOR(version) < 13)
		return -ENOTSUP;
	if (len < DO_WORDS_313 * 8 || memcmp(buf, "xdebugpy", 8))
		return -EINVAL;
	if (word(buf, DO_VERSION) != version)
		return -EINVAL;
	/* 3.14 added fields in the middle of the groups: only 3.13's words
	 * are known here. */
	if (PY_MINOR(version) != 13)
		return -ENOTSUP;
	memset(&l, 0, sizeof(l));
	l.version = version;
	l.runtime_interpreters_head = big_field(buf, DO_RUNTIME_INTERPRETERS_HEAD, DO_RUNTIME_SIZE);
	l.interp_next = big_field(buf, DO_INTERP_NEXT, DO_INTERP_SIZE);
	l.interp_threads_head = big_field(buf, DO_INTERP_THREADS_HEAD, DO_INTERP_SIZE);
	l.tstate_next = field(buf, DO_TSTATE_NEXT, DO_TSTATE_SIZE, 8);
	l.tstate_native_thread_id = field(buf, DO_TSTATE_NATIVE_THREAD_ID, DO_TSTATE_SIZE, 8);
	l.tstate_cframe = PY_NO_FIELD;
	l.cframe_current_frame = PY_NO_FIELD;
	l.tstate_current_frame = field(buf, DO_TSTATE_CURRENT_FRAME, DO_TSTATE_SIZE, 8);
	l.frame_code = field(buf, DO_FRAME_EXECUTABLE, DO_FRAME_SIZE, 8);
	l.frame_previous = field(buf, DO_FRAME_PREVIOUS, DO_FRAME_SIZE, 8);
	l.frame_instr = field(buf, DO_FRAME_INSTR_PTR, DO_FRAME_SIZE, 8);
	l.frame_owner = field(buf, DO_FRAME_OWNER, DO_FRAME_SIZE, 1);
	l.frame_is_entry = PY_NO_FIELD;
	l.code_qualname = field(buf, DO_CODE_QUALNAME, DO_CODE_SIZE, 8);
	l.code_filename = field(buf, DO_CODE_FILENAME, DO_CODE_SIZE, 8);
	l.code_firstlineno = field(buf, DO_CODE_FIRSTLINENO, DO_CODE_SIZE, 4);
	l.code_linetable = field(buf, DO_CODE_LINETABLE, DO_CODE_SIZE, 8);
	/* co_code_adaptive is the variable part: at the struct's end */
	l.code_adaptive = field(buf, DO_CODE_ADAPTIVE, DO_CODE_SIZE, 0);
	l.bytes_size = field(buf, DO_BYTES_OB_SIZE, DO_BYTES_SIZE, 8);
	l.bytes_data = field(buf, DO_BYTES_OB_SVAL, DO_BYTES_SIZE, 0);
	l.str_length = field(buf, DO_UNICODE_LENGTH, DO_UNICODE_SIZE, 8);
	l.str_state = field(buf, DO_UNICODE_STATE, DO_UNICODE_SIZE, 4);
	/* The data of a compact ASCII string follows its PyASCIIObject; of a
	 * compact non-ASCII one, the two fields more of a
	 * PyCompactUnicodeObject (utf8_length, utf8). */
	ascii_size = word(buf, DO_UNICODE_ASCII_SIZE);
	if (ascii_size > PY_SPAN_MAX || ascii_size + 16 > word(buf, DO_UNICODE_SIZE))
		return -EINVAL;
	l.str_ascii_size = (uint32_t)ascii_size;
	l.str_compact_size = (uint32_t)ascii_size + 16;
	/* What is read of each struct: up to its last field read, in the
	 * struct (field() checked the offsets against the sizes). */
	l.tstate_span = PY_NO_FIELD;
	l.frame_span = PY_NO_FIELD;
	l.code_span = PY_NO_FIELD;
	if (l.tstate_next != PY_NO_FIELD && l.tstate_native_thread_id != PY_NO_FIELD &&
	    l.tstate_current_frame != PY_NO_FIELD) {
		uint32_t m = l.tstate_next > l.tstate_native_thread_id ? l.tstate_next
								      : l.tstate_native_thread_id;
		m = m > l.tstate_current_frame ? m : l.tstate_current_frame;
		l.tstate_span = m + 8;
	}
	if (l.frame_code != PY_NO_FIELD && l.frame_previous != PY_NO_FIELD &&
	    l.frame_instr != PY_NO_FIELD && l.frame_owner != PY_NO_FIELD)
		l.frame_span = (uint32_t)word(buf, DO_FRAME_SIZE);
	if (l.code_qualname != PY_NO_FIELD && l.code_filename != PY_NO_FIELD &&
	    l.code_firstlineno != PY_NO_FIELD && l.code_linetable != PY_NO_FIELD)
		l.code_span = (uint32_t)word(buf, DO_CODE_SIZE);
	if (!py_layout_valid(&l))
		return -EINVAL;
	*out = l;
	return 0;
}

/* off (a field of width bytes) inside span, or absent where allowed. */
static bool in_span(uint32_t off, unsigned int width, uint32_t span, bool optional)
{
	if (off == PY_NO_FIELD)
		return optional;
	return (uint64_t)off + width <= span;
}

bool py_layout_valid(const struct py_layout *l)
{
	bool cframe = l->tstate_cframe != PY_NO_FIELD;

	if (l->tstate_span == PY_NO_FIELD || l->tstate_span > PY_SPAN_MAX ||
	    l->frame_span == PY_NO_FIELD || l->frame_span > PY_SPAN_MAX ||
	    l->code_span == PY_NO_FIELD || l->code_span > PY_SPAN_MAX)
		return false;
	/* Offsets into structs that are not read whole: bounded, no more. */
	if (l->runtime_interpreters_head > PY_OFFSET_MAX || l->interp_next > PY_OFFSET_MAX ||
	    l->interp_threads_head > PY_OFFSET_MAX || l->code_adaptive > PY_SPAN_MAX ||
	    (uint64_t)l->bytes_size + 8 > PY_SPAN_MAX || l->bytes_data > PY_SPAN_MAX ||
	    l->str_ascii_size > PY_SPAN_MAX || l->str_compact_size > PY_SPAN_MAX ||
	    (uint64_t)l->str_length + 8 > l->str_ascii_size ||
	    (uint64_t)l->str_state + 4 > l->str_ascii_size ||
	    l->str_ascii_size > l->str_compact_size)
		return false;
	/* one of cframe->current_frame (3.11, 3.12) or current_frame */
	if (cframe && (l->cframe_current_frame > PY_SPAN_MAX ||
		       l->tstate_current_frame != PY_NO_FIELD))
		return false;
	if (!cframe && l->tstate_current_frame == PY_NO_FIELD)
		return false;
	return in_span(l->tstate_next, 8, l->tstate_span, false) &&
	       in_span(l->tstate_native_thread_id, 8, l->tstate_span, false) &&
	       in_span(l->tstate_cframe, 8, l->tstate_span, true) &&
	       in_span(l->tstate_current_frame, 8, l->tstate_span, true) &&
	       in_span(l->frame_code, 8, l->frame_span, false) &&
	       in_span(l->frame_previous, 8, l->frame_span, false) &&
	       in_span(l->frame_instr, 8, l->frame_span, false) &&
	       in_span(l->frame_owner, 1, l->frame_span, false) &&
	       in_span(l->frame_is_entry, 1, l->frame_span, true) &&
	       in_span(l->code_qualname, 8, l->code_span, false) &&
	       in_span(l->code_filename, 8, l->code_span, false) &&
	       in_span(l->code_firstlineno, 4, l->code_span, false) &&
	       in_span(l->code_linetable, 8, l->code_span, false);
}

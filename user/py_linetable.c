// SPDX-License-Identifier: GPL-2.0
/* The CPython 3.11+ location table decoder (py_linetable.h).  Pure. */
#include <errno.h>
#include <stdbool.h>
#include "py_linetable.h"

/* Line numbers beyond this are not a source file's: the table is garbage. */
#define PY_LINE_MAX 100000000

enum {
	PY_LOC_NO_COLUMN = 13,
	PY_LOC_LONG = 14,
	PY_LOC_NONE = 15,
};

struct cursor {
	const uint8_t *p;
	size_t len;
	size_t pos;
};

/* A 6-bit chunked varint; at most 6 chunks (36 bits: more is garbage). */
static int read_varint(struct cursor *c, uint64_t *out)
{
	uint64_t val = 0;
	unsigned int shift = 0;

	for (int i = 0; i < 6; i++) {
		uint8_t b;

		if (c->pos >= c->len)
			return -EINVAL;
		b = c->p[c->pos];
		/* An operand byte never has the entry-start bit. */
		if (b & 0x80)
			return -EINVAL;
		c->pos++;
		val |= (uint64_t)(b & 0x3f) << shift;
		shift += 6;
		if (!(b & 0x40)) {
			*out = val;
			return 0;
		}
	}
	return -EINVAL;
}

static int read_svarint(struct cursor *c, int64_t *out)
{
	uint64_t u;
	int err = read_varint(c, &u);

	if (err)
		return err;
	*out = (u & 1) ? -(int64_t)(u >> 1) : (int64_t)(u >> 1);
	return 0;
}

/* Skips n operand bytes (columns: not needed for the line). */
static int skip(struct cursor *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (c->pos >= c->len || (c->p[c->pos] & 0x80))
			return -EINVAL;
		c->pos++;
	}
	return 0;
}

int py_linetable_line(const uint8_t *table, size_t len, int firstlineno, int64_t addr)
{
	struct cursor c = { .p = table, .len = len, .pos = 0 };
	int64_t line = firstlineno;
	int64_t unit = 0; /* the current entry's first code unit */
	int64_t target;

	if (addr < 0)
		return firstlineno > 0 && firstlineno <= PY_LINE_MAX ? firstlineno : 0;
	target = addr / 2;
	/* Every entry consumes at least one byte: the loop ends with the table. */
	while (c.pos < c.len) {
		uint8_t first = table[c.pos++];
		int code = (first >> 3) & 15;
		int64_t units = (first & 7) + 1;
		int64_t delta = 0;
		uint64_t skipped;
		bool located = true;
		int err = 0;

		if (!(first & 0x80))
			return -EINVAL;
		switch (code) {
		case PY_LOC_NONE:
			located = false;
			break;
		case PY_LOC_LONG:
			err = read_svarint(&c, &delta);
			if (!err)
				err = read_varint(&c, &skipped);
			if (!err)
				err = read_varint(&c, &skipped);
			if (!err)
				err = read_varint(&c, &skipped);
			break;
		case PY_LOC_NO_COLUMN:
			err = read_svarint(&c, &delta);
			break;
		case 10:
		case 11:
		case 12:
			delta = code - 10;
			err = skip(&c, 2);
			break;
		default: /* 0-9: short form, one byte of columns */
			err = skip(&c, 1);
			break;
		}
		if (err)
			return err;
		line += delta;
		if (line < -PY_LINE_MAX || line > PY_LINE_MAX)
			return -EINVAL;
		if (target < unit + units) {
			if (!located || line < 1)
				return 0;
			return (int)line;
		}
		unit += units;
	}
	return -ENOENT;
}

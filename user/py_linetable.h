/* SPDX-License-Identifier: GPL-2.0 */
/*
 * CPython 3.11+ location tables (co_linetable, Objects/locations.md): a
 * run of entries, each a first byte 1CCCCLLL (code C, L+1 code units of 2
 * bytes) and the code's operands, 6-bit varints (0x40: more follows, least
 * significant chunk first) and svarints (the varint's low bit the sign).
 * Codes 0-9 short form (line unchanged), 10-12 one-line form (line + C-10),
 * 13 no column (svarint line delta), 14 long form (svarint line delta,
 * varint end-line delta, column, end column), 15 no location.  The same in
 * 3.11, 3.12 and 3.13.  Pure: the bytes are the target's, hostile.
 */
#ifndef LW_PY_LINETABLE_H
#define LW_PY_LINETABLE_H
#include <stddef.h>
#include <stdint.h>

/*
 * The source line of the instruction at byte offset addr (2 bytes a code
 * unit) of a code object whose co_firstlineno is firstlineno and whose
 * co_linetable is table[0..len).  Returns the line (>= 1); 0 when the
 * instruction has no location (code 15) or the line is out of range;
 * -ENOENT: addr is past the table; -EINVAL: the table is malformed before
 * reaching addr.  addr < 0 (a frame before its first instruction): the
 * first line, as PyCode_Addr2Line.
 */
int py_linetable_line(const uint8_t *table, size_t len, int firstlineno, int64_t addr);

#endif

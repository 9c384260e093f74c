// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>
#include "go_pclntab.h"

/* runtime.pcHeader (1.18+) with 8-byte pointers. */
#define MAGIC_118 0xfffffff0u
#define MAGIC_120 0xfffffff1u
#define HDR_NFUNC 8
#define HDR_NFILES 16
#define HDR_TEXT_START 24
#define HDR_FUNCNAME 32
#define HDR_CU 40
#define HDR_FILETAB 48
#define HDR_PCTAB 56
#define HDR_PCLN 64
#define HDR_SIZE 72

/* runtime._func: the fields we read, and its size (1.20 added startLine). */
#define FUNC_ENTRY 0
#define FUNC_NAME 4
#define FUNC_PCFILE 20
#define FUNC_PCLN 24
#define FUNC_NPCDATA 28
#define FUNC_CU 32
#define FUNC_ID_118 36
#define FUNC_NFUNCDATA_118 39
#define FUNC_SIZE_118 40
#define FUNC_ID_120 40
#define FUNC_NFUNCDATA_120 43
#define FUNC_SIZE_120 44

#define PCDATA_INLTREE_INDEX 2
#define FUNCDATA_INLTREE 3

/* runtime.inlinedCall: 1.18-1.19 {parent int16, funcID, _, file, line, func_,
 * parentPc}; 1.20+ {funcID, _[3], nameOff, parentPc, startLine}. */
#define INL_SIZE_118 20
#define INL_NAME_118 12
#define INL_PARENTPC_118 16
#define INL_SIZE_120 16
#define INL_NAME_120 4
#define INL_PARENTPC_120 8

#define PC_QUANTUM 1 /* amd64 */
/* Caps on the target's data: a name longer than this is not a name, a
 * pc-value table with more steps is not one the compiler wrote, an inline
 * chain deeper than this is a cycle. */
#define MAX_STRING 4096
#define MAX_PCVALUE_STEPS (1u << 20)
#define MAX_INLINE_DEPTH 64
#define MAX_NFUNC (1u << 24)

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Is [off, off + n) inside a buffer of len bytes (no wrap)? */
static bool in_range(uint64_t off, uint64_t n, size_t len)
{
	return off <= len && n <= len - off;
}

int go_pclntab_init(struct go_pclntab *t, const uint8_t *data, size_t len, uint64_t text_start)
{
	uint32_t magic;
	uint64_t nfunc, nfiles;

	memset(t, 0, sizeof(*t));
	if (!data || len < HDR_SIZE)
		return -ENOEXEC;
	magic = get32(data);
	if (magic != MAGIC_118 && magic != MAGIC_120)
		return -ENOEXEC;
	if (data[4] || data[5] || data[6] != PC_QUANTUM || data[7] != 8)
		return -ENOEXEC; /* not amd64 */
	nfunc = get64(data + HDR_NFUNC);
	nfiles = get64(data + HDR_NFILES);
	if (nfunc == 0 || nfunc > MAX_NFUNC || nfiles > MAX_NFUNC)
		return -EINVAL;
	t->data = data;
	t->len = len;
	t->format = magic == MAGIC_118 ? 118 : 120;
	t->nfunc = (uint32_t)nfunc;
	t->nfiles = (uint32_t)nfiles;
	t->text_start = get64(data + HDR_TEXT_START);
	if (!t->text_start)
		t->text_start = text_start;
	t->funcname_off = get64(data + HDR_FUNCNAME);
	t->cu_off = get64(data + HDR_CU);
	t->filetab_off = get64(data + HDR_FILETAB);
	t->pctab_off = get64(data + HDR_PCTAB);
	t->functab_off = get64(data + HDR_PCLN);
	/* The sub-tables follow the header; the function table holds nfunc + 1
	 * {entryoff, funcoff} pairs (the last gives the end of text). */
	if (!in_range(t->funcname_off, 0, len) || !in_range(t->cu_off, 0, len) ||
	    !in_range(t->filetab_off, 0, len) || !in_range(t->pctab_off, 0, len) ||
	    !in_range(t->functab_off, (nfunc + 1) * 8, len) || t->funcname_off < HDR_SIZE ||
	    t->cu_off < HDR_SIZE || t->filetab_off < HDR_SIZE || t->pctab_off < HDR_SIZE ||
	    t->functab_off < HDR_SIZE) {
		memset(t, 0, sizeof(*t));
		return -EINVAL;
	}
	return 0;
}

void go_pclntab_set_gofunc(struct go_pclntab *t, const uint8_t *gofunc, size_t len)
{
	t->gofunc = gofunc;
	t->gofunc_len = gofunc ? len : 0;
}

/* A NUL-ended string at base + off inside the table, or NULL. */
static const char *table_string(const struct go_pclntab *t, uint64_t base, uint64_t off)
{
	uint64_t start = base + off;

	if (off >= t->len || start >= t->len)
		return NULL;
	size_t room = t->len - start;
	if (room > MAX_STRING)
		room = MAX_STRING;
	if (!memchr(t->data + start, '\0', room))
		return NULL;
	return (const char *)t->data + start;
}

static const char *func_name(const struct go_pclntab *t, uint32_t name_off)
{
	const char *s = table_string(t, t->funcname_off, name_off);

	return s ? s : "?";
}

static uint32_t functab_entry(const struct go_pclntab *t, uint32_t i)
{
	return get32(t->data + t->functab_off + (uint64_t)i * 8);
}

static uint32_t functab_funcoff(const struct go_pclntab *t, uint32_t i)
{
	return get32(t->data + t->functab_off + (uint64_t)i * 8 + 4);
}

static size_t func_size(const struct go_pclntab *t)
{
	return t->format == 118 ? FUNC_SIZE_118 : FUNC_SIZE_120;
}

/* The _func of function i, bounds-checked with its pcdata and funcdata
 * arrays, or NULL. */
static const uint8_t *func_at(const struct go_pclntab *t, uint32_t i)
{
	uint64_t off = t->functab_off + (uint64_t)functab_funcoff(t, i);
	size_t size = func_size(t);

	if (!in_range(off, size, t->len))
		return NULL;
	const uint8_t *f = t->data + off;
	uint64_t npcdata = get32(f + FUNC_NPCDATA);
	uint64_t nfuncdata = f[t->format == 118 ? FUNC_NFUNCDATA_118 : FUNC_NFUNCDATA_120];
	if (!in_range(off + size, (npcdata + nfuncdata) * 4, t->len))
		return NULL;
	return f;
}

static int fill_func(const struct go_pclntab *t, uint32_t i, struct go_func *out)
{
	const uint8_t *f = func_at(t, i);

	if (!f)
		return -ENOENT;
	out->index = i;
	out->entry = t->text_start + functab_entry(t, i);
	out->end = t->text_start + functab_entry(t, i + 1);
	out->name = func_name(t, get32(f + FUNC_NAME));
	out->func_id = f[t->format == 118 ? FUNC_ID_118 : FUNC_ID_120];
	return 0;
}

int go_pclntab_find_func(const struct go_pclntab *t, uint64_t pc, struct go_func *f)
{
	uint32_t lo = 0, hi = t->nfunc;

	if (!t->data || pc < t->text_start || pc - t->text_start >= UINT32_MAX)
		return -ENOENT;
	uint32_t off = (uint32_t)(pc - t->text_start);
	if (off < functab_entry(t, 0) || off >= functab_entry(t, t->nfunc))
		return -ENOENT;
	/* The last i with entry(i) <= off; a table that is not sorted only
	 * gives a wrong function, never a read out of bounds. */
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (functab_entry(t, mid) <= off)
			lo = mid;
		else
			hi = mid;
	}
	if (fill_func(t, lo, f))
		return -ENOENT;
	if (pc < f->entry || pc >= f->end)
		return -ENOENT;
	return 0;
}

int go_pclntab_func_by_name(const struct go_pclntab *t, const char *name, struct go_func *f)
{
	if (!t->data)
		return -ENOENT;
	for (uint32_t i = 0; i < t->nfunc; i++) {
		const uint8_t *fp = func_at(t, i);

		if (!fp)
			continue;
		const char *s = table_string(t, t->funcname_off, get32(fp + FUNC_NAME));
		if (s && !strcmp(s, name))
			return fill_func(t, i, f);
	}
	return -ENOENT;
}

/* A uvarint as the runtime reads them (readvarint: at most 5 bytes for 32
 * bits), inside the table.  Returns its length or 0. */
static size_t read_varint32(const struct go_pclntab *t, uint64_t off, uint32_t *v)
{
	uint32_t x = 0;

	for (unsigned int i = 0; i < 5; i++) {
		if (off + i >= t->len)
			return 0;
		uint8_t b = t->data[off + i];
		x |= (uint32_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			*v = x;
			return i + 1;
		}
	}
	return 0;
}

/*
 * The value of the pc-value table at pctab + table_off for targetpc in the
 * function at entry (runtime.pcvalue).  Returns 0 and *val, or -ENOENT.
 */
static int pcvalue(const struct go_pclntab *t, uint32_t table_off, uint64_t entry,
		   uint64_t targetpc, int32_t *val)
{
	uint64_t off = t->pctab_off + table_off;
	uint64_t pc = entry;
	int32_t v = -1;

	if (table_off == 0 || off >= t->len)
		return -ENOENT;
	for (uint32_t step = 0; step < MAX_PCVALUE_STEPS; step++) {
		uint32_t uvdelta, pcdelta;
		size_t n;

		if (off >= t->len)
			return -ENOENT;
		if (t->data[off] == 0 && step > 0)
			return -ENOENT; /* end of table: targetpc past it */
		n = read_varint32(t, off, &uvdelta);
		if (!n)
			return -ENOENT;
		off += n;
		/* Zig-zag: the low bit is the sign. */
		v = (int32_t)((uint32_t)v + ((uvdelta >> 1) ^ (uint32_t)-(int32_t)(uvdelta & 1)));
		n = read_varint32(t, off, &pcdelta);
		if (!n)
			return -ENOENT;
		off += n;
		pc += (uint64_t)pcdelta * PC_QUANTUM;
		if (targetpc < pc) {
			*val = v;
			return 0;
		}
	}
	return -ENOENT;
}

/* The n-th uint32 after the _func: pcdata[0..npcdata), then funcdata. */
static uint32_t func_word(const struct go_pclntab *t, const uint8_t *f, uint32_t n)
{
	return get32(f + func_size(t) + (size_t)n * 4);
}

static int pcdata_value(const struct go_pclntab *t, const uint8_t *f, uint32_t table,
			uint64_t entry, uint64_t pc, int32_t *val)
{
	if (table >= get32(f + FUNC_NPCDATA))
		return -ENOENT;
	return pcvalue(t, func_word(t, f, table), entry, pc, val);
}

static const char *file_name(const struct go_pclntab *t, const uint8_t *f, int32_t fileno)
{
	uint64_t cu = get32(f + FUNC_CU);
	uint64_t idx = (cu + (uint64_t)(uint32_t)fileno) * 4;

	if (fileno < 0 || !in_range(t->cu_off + idx, 4, t->len) || t->cu_off + idx < t->cu_off)
		return "";
	uint32_t fileoff = get32(t->data + t->cu_off + idx);
	if (fileoff == UINT32_MAX)
		return "";
	const char *s = table_string(t, t->filetab_off, fileoff);
	return s ? s : "";
}

static void file_line(const struct go_pclntab *t, const uint8_t *f, uint64_t entry, uint64_t pc,
		      struct go_frame *fr)
{
	int32_t fileno, line;

	fr->file = "";
	fr->line = 0;
	if (!pcvalue(t, get32(f + FUNC_PCFILE), entry, pc, &fileno))
		fr->file = file_name(t, f, fileno);
	if (!pcvalue(t, get32(f + FUNC_PCLN), entry, pc, &line) && line > 0)
		fr->line = line;
}

/* The inline tree of f (in go:func.*), or NULL; *n_max how many entries fit. */
static const uint8_t *inline_tree(const struct go_pclntab *t, const uint8_t *f, uint64_t *n_max)
{
	uint32_t npcdata = get32(f + FUNC_NPCDATA);
	uint32_t nfuncdata = f[t->format == 118 ? FUNC_NFUNCDATA_118 : FUNC_NFUNCDATA_120];
	size_t size = t->format == 118 ? INL_SIZE_118 : INL_SIZE_120;

	if (!t->gofunc || nfuncdata <= FUNCDATA_INLTREE)
		return NULL;
	uint32_t off = func_word(t, f, npcdata + FUNCDATA_INLTREE);
	if (off == UINT32_MAX || off >= t->gofunc_len)
		return NULL;
	*n_max = (t->gofunc_len - off) / size;
	return *n_max ? t->gofunc + off : NULL;
}

int go_pclntab_frames(const struct go_pclntab *t, uint64_t pc, struct go_frame *out, int max)
{
	struct go_func fn;
	const uint8_t *f, *tree;
	uint64_t n_tree = 0;
	int n = 0;

	if (max <= 0 || go_pclntab_find_func(t, pc, &fn))
		return 0;
	f = func_at(t, fn.index);
	tree = inline_tree(t, f, &n_tree);
	/* runtime's inlineUnwinder: the inline-tree index at pc names the
	 * innermost inlined call; its parentPc is a pc of the caller, whose
	 * index names the next, until -1: the physical function. */
	for (int depth = 0; n < max; depth++) {
		struct go_frame *fr = &out[n++];
		int32_t idx = -1;

		file_line(t, f, fn.entry, pc, fr);
		fr->entry = fn.entry;
		if (tree && depth < MAX_INLINE_DEPTH &&
		    !pcdata_value(t, f, PCDATA_INLTREE_INDEX, fn.entry, pc, &idx) && idx >= 0 &&
		    (uint64_t)idx < n_tree) {
			const uint8_t *call;
			uint32_t parent_pc;

			if (t->format == 118) {
				call = tree + (size_t)idx * INL_SIZE_118;
				fr->func = func_name(t, get32(call + INL_NAME_118));
				parent_pc = get32(call + INL_PARENTPC_118);
			} else {
				call = tree + (size_t)idx * INL_SIZE_120;
				fr->func = func_name(t, get32(call + INL_NAME_120));
				parent_pc = get32(call + INL_PARENTPC_120);
			}
			fr->inlined = true;
			pc = fn.entry + parent_pc;
			if (pc >= fn.end)
				break; /* a parent outside the function: stop here */
			continue;
		}
		fr->func = fn.name;
		fr->inlined = false;
		break;
	}
	return n;
}

// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <gelf.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include "go_binary.h"
#include "go_buildinfo.h"
#include "go_layout_table.h"

/* Caps on what a file may make us hold or walk. */
#define MAX_SECTIONS 4096
#define MAX_RELOCS (1u << 22)
#define MAX_SYMBOLS (1u << 22)
#define MAX_SECTION_COPY (512u << 20)
#define MAX_DWARF_DIES (1u << 22)
#define MAX_WAIT_REASONS 255 /* g.waitreason is a uint8 */
#define MAX_WAIT_REASON_LEN 128
#define MAX_CODE_SCAN 4096   /* bytes of one function's code searched */
#define MAX_MODULEDATA_SCAN (16u << 20) /* data words tried as moduledata */

/* Fields of runtime.moduledata that do not move: pcHeader, then the
 * funcnametab and cutab slices. */
#define MD_PCHEADER 0
#define MD_FUNCNAMETAB 8
#define MD_CUTAB 32

struct go_binary {
	char version[64];
	int major, minor;
	bool pie;
	uint64_t load_vaddr;
	uint64_t goexit;
	char goroot[256];   /* "/usr/local/go/src/", or "" */
	struct go_layout layout;
	struct go_runtime_vars vars;
	struct go_pclntab pclntab;
	uint8_t *pclntab_copy;
	uint8_t *gofunc_copy;
	const struct go_layout_entry *table;
};

struct section {
	Elf_Scn *scn;
	const char *name;
	GElf_Shdr shdr;
	const uint8_t *data; /* NULL for NOBITS */
	size_t size;
};

struct reloc {
	uint64_t offset, addend;
};

/* The open file while go_binary_open reads it. */
struct reader {
	Elf *elf;
	GElf_Ehdr ehdr;
	struct section *sections;
	size_t nsections;
	struct reloc *relocs; /* R_X86_64_RELATIVE, sorted by offset */
	size_t nrelocs;
	unsigned int flags;
	char *why;
	size_t why_len;
};

static int refuse(struct reader *r, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int refuse(struct reader *r, int err, const char *fmt, ...)
{
	va_list args;

	if (r->why && r->why_len) {
		va_start(args, fmt);
		vsnprintf(r->why, r->why_len, fmt, args);
		va_end(args);
	}
	return err;
}

static const struct section *section_by_name(const struct reader *r, const char *name)
{
	for (size_t i = 0; i < r->nsections; i++)
		if (r->sections[i].name && !strcmp(r->sections[i].name, name))
			return &r->sections[i];
	return NULL;
}

/* The allocated section holding [addr, addr + len), or NULL. */
static const struct section *section_at(const struct reader *r, uint64_t addr, uint64_t len)
{
	for (size_t i = 0; i < r->nsections; i++) {
		const struct section *s = &r->sections[i];

		if (!(s->shdr.sh_flags & SHF_ALLOC) || !s->shdr.sh_size)
			continue;
		if (addr >= s->shdr.sh_addr && addr - s->shdr.sh_addr <= s->shdr.sh_size &&
		    len <= s->shdr.sh_size - (addr - s->shdr.sh_addr))
			return s;
	}
	return NULL;
}

/* Copies the file's bytes at a link-time address.  0 or -ENOENT. */
static int read_at(const struct reader *r, uint64_t addr, void *buf, size_t len)
{
	const struct section *s = section_at(r, addr, len);

	if (!s || !s->data)
		return -ENOENT;
	memcpy(buf, s->data + (addr - s->shdr.sh_addr), len);
	return 0;
}

/*
 * The pointer at link-time address addr, as it is after relocation at a load
 * bias of 0: a PIE keeps 0 in the file and the address in the addend of an
 * R_X86_64_RELATIVE relocation.  One path for PIE and not.
 */
static int read_ptr(const struct reader *r, uint64_t addr, uint64_t *val)
{
	size_t lo = 0, hi = r->nrelocs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r->relocs[mid].offset < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < r->nrelocs && r->relocs[lo].offset == addr) {
		*val = r->relocs[lo].addend;
		return 0;
	}
	return read_at(r, addr, val, sizeof(*val));
}

static int reloc_cmp(const void *a, const void *b)
{
	const struct reloc *x = a, *y = b;

	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static int load_sections(struct reader *r)
{
	size_t n, shstrndx;
	Elf_Scn *scn = NULL;

	if (elf_getshdrnum(r->elf, &n) || elf_getshdrstrndx(r->elf, &shstrndx))
		return refuse(r, -ENOEXEC, "no section headers");
	if (n > MAX_SECTIONS)
		return refuse(r, -ENOEXEC, "%zu sections", n);
	r->sections = calloc(n ? n : 1, sizeof(*r->sections));
	if (!r->sections)
		return -ENOMEM;
	while ((scn = elf_nextscn(r->elf, scn)) && r->nsections < n) {
		struct section *s = &r->sections[r->nsections];
		Elf_Data *d;

		if (!gelf_getshdr(scn, &s->shdr))
			continue;
		s->scn = scn;
		s->name = elf_strptr(r->elf, shstrndx, s->shdr.sh_name);
		if (s->shdr.sh_type != SHT_NOBITS && s->shdr.sh_size <= MAX_SECTION_COPY &&
		    (d = elf_getdata(scn, NULL)) && d->d_buf && d->d_size == s->shdr.sh_size) {
			s->data = d->d_buf;
			s->size = d->d_size;
		}
		r->nsections++;
	}
	return 0;
}

/* Every R_X86_64_RELATIVE of the executable (.rela.dyn, or .rela for Go's
 * internal linker's PIE). */
static int load_relocs(struct reader *r)
{
	size_t cap = 0;

	for (size_t i = 0; i < r->nsections; i++) {
		const struct section *s = &r->sections[i];
		size_t count;

		if (s->shdr.sh_type != SHT_RELA || !s->data || s->shdr.sh_entsize != sizeof(Elf64_Rela))
			continue;
		count = s->size / sizeof(Elf64_Rela);
		for (size_t j = 0; j < count; j++) {
			Elf64_Rela rela;

			memcpy(&rela, s->data + j * sizeof(rela), sizeof(rela));
			if (ELF64_R_TYPE(rela.r_info) != R_X86_64_RELATIVE)
				continue;
			if (r->nrelocs == cap) {
				size_t ncap = cap ? cap * 2 : 1024;
				struct reloc *nr;

				if (ncap > MAX_RELOCS)
					return refuse(r, -ENOTSUP, "more than %u relocations",
						      MAX_RELOCS);
				nr = realloc(r->relocs, ncap * sizeof(*nr));
				if (!nr)
					return -ENOMEM;
				r->relocs = nr;
				cap = ncap;
			}
			r->relocs[r->nrelocs++] = (struct reloc){ rela.r_offset, (uint64_t)rela.r_addend };
		}
	}
	if (r->nrelocs)
		qsort(r->relocs, r->nrelocs, sizeof(*r->relocs), reloc_cmp);
	return 0;
}

struct symbols {
	uint64_t allglen, allgs, allgptr, wait_reasons, firstmoduledata;
	uint64_t wait_reasons_size;
};

static void read_symtab(const struct reader *r, struct symbols *sy)
{
	for (size_t i = 0; i < r->nsections; i++) {
		const struct section *s = &r->sections[i];
		Elf_Scn *scn;
		Elf_Data *d;
		size_t count;

		if (s->shdr.sh_type != SHT_SYMTAB || !s->data || !s->shdr.sh_entsize)
			continue;
		scn = s->scn;
		if (!(d = elf_getdata(scn, NULL)))
			continue;
		count = s->size / s->shdr.sh_entsize;
		if (count > MAX_SYMBOLS)
			count = MAX_SYMBOLS;
		for (size_t j = 0; j < count; j++) {
			GElf_Sym sym;
			const char *name;

			if (!gelf_getsym(d, (int)j, &sym) || !sym.st_value)
				continue;
			name = elf_strptr(r->elf, s->shdr.sh_link, sym.st_name);
			if (!name || strncmp(name, "runtime.", 8))
				continue;
			name += 8;
			if (!strcmp(name, "allglen"))
				sy->allglen = sym.st_value;
			else if (!strcmp(name, "allgs"))
				sy->allgs = sym.st_value;
			else if (!strcmp(name, "allgptr"))
				sy->allgptr = sym.st_value;
			else if (!strcmp(name, "firstmoduledata"))
				sy->firstmoduledata = sym.st_value;
			else if (!strcmp(name, "waitReasonStrings")) {
				sy->wait_reasons = sym.st_value;
				sy->wait_reasons_size = sym.st_size;
			}
		}
	}
}

/* The bytes of a function's code (at most MAX_CODE_SCAN), from the file. */
static const uint8_t *func_code(const struct reader *r, const struct go_pclntab *t,
				const char *name, uint64_t *addr, size_t *len)
{
	struct go_func f;
	const struct section *s;

	if (go_pclntab_func_by_name(t, name, &f) || f.end <= f.entry)
		return NULL;
	*len = f.end - f.entry > MAX_CODE_SCAN ? MAX_CODE_SCAN : f.end - f.entry;
	s = section_at(r, f.entry, *len);
	if (!s || !s->data || !(s->shdr.sh_flags & SHF_EXECINSTR))
		return NULL;
	*addr = f.entry;
	return s->data + (f.entry - s->shdr.sh_addr);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* A RIP-relative operand (ModRM mod 00, r/m 101) of an instruction whose
 * ModRM is at code[i] and whose encoding ends imm bytes after the disp32. */
static uint64_t rip_target(uint64_t addr, size_t i, const uint8_t *code, size_t imm)
{
	return addr + i + 5 + imm + (uint64_t)(int64_t)(int32_t)get32(code + i + 1);
}

static bool is_rip_modrm(uint8_t modrm)
{
	return (modrm & 0xc7) == 0x05;
}

/* Is addr a pointer-aligned variable in a writable data section? */
static bool data_var(const struct reader *r, uint64_t addr, uint64_t size)
{
	const struct section *s = section_at(r, addr, size);

	return s && !(addr & 7) && (s->shdr.sh_flags & SHF_WRITE) &&
	       !(s->shdr.sh_flags & SHF_EXECINSTR);
}

/*
 * Stripped binaries: runtime.allgadd appends to allgs (MOVQ allgs, allgs+8,
 * allgs+16), compares with allgptr (CMPQ allgptr(SB), reg) and stores
 * allglen through XCHGQ after LEAQ allglen(SB), reg.  Checked on 1.19-1.27.
 */
static int derive_allgs(const struct reader *r, const struct go_pclntab *t, struct symbols *sy)
{
	uint64_t targets[64], addr, allgs = 0, allgptr = 0, allglen = 0;
	size_t len, n = 0;
	const uint8_t *code = func_code(r, t, "runtime.allgadd", &addr, &len);

	if (!code)
		return -ENOENT;
	for (size_t i = 1; i + 5 <= len; i++) {
		uint8_t rex = code[i - 1], op = code[i], modrm = i + 1 < len ? code[i + 1] : 0;

		if ((rex & 0xf8) != 0x48 || i + 6 > len || !is_rip_modrm(modrm))
			continue;
		uint64_t target = rip_target(addr, i + 1, code, 0);
		if ((op == 0x8b || op == 0x89 || op == 0x8d || op == 0x3b || op == 0x39) &&
		    n < sizeof(targets) / sizeof(targets[0]))
			targets[n++] = target;
		if (op == 0x39 || op == 0x3b)
			allgptr = target; /* CMPQ allgptr(SB), reg */
		/* LEAQ allglen(SB), reg; XCHGQ reg2, 0(reg) */
		if (op == 0x8d && i + 9 <= len && (code[i + 6] & 0xf8) == 0x48 &&
		    code[i + 7] == 0x87 && (code[i + 8] & 0xc0) == 0 &&
		    (code[i + 8] & 7) == ((modrm >> 3) & 7) && target != allgptr)
			allglen = target;
	}
	for (size_t i = 0; i < n && !allgs; i++) {
		bool len_seen = false, cap_seen = false;

		for (size_t j = 0; j < n; j++) {
			len_seen |= targets[j] == targets[i] + 8;
			cap_seen |= targets[j] == targets[i] + 16;
		}
		if (len_seen && cap_seen)
			allgs = targets[i];
	}
	if (!allgs || !allgptr || !allglen || allgs == allgptr || allgs == allglen ||
	    !data_var(r, allgs, 24) || !data_var(r, allgptr, 8) || !data_var(r, allglen, 8))
		return -ENOENT;
	sy->allgs = allgs;
	sy->allgptr = allgptr;
	sy->allglen = allglen;
	return 0;
}

/*
 * waitReason.String: CMPB reg, $len(waitReasonStrings); JB; ...; SHLQ $4,
 * reg; LEAQ waitReasonStrings(SB), reg.  The method itself, else where the
 * traceback inlines it.
 */
static int derive_wait_reasons(const struct reader *r, const struct go_pclntab *t,
			       struct symbols *sy)
{
	static const char *const funcs[] = { "runtime.waitReason.String",
					     "runtime.goroutineheader" };

	for (size_t k = 0; k < sizeof(funcs) / sizeof(funcs[0]); k++) {
		uint64_t addr;
		size_t len;
		const uint8_t *code = func_code(r, t, funcs[k], &addr, &len);

		for (size_t i = 0; code && i + 11 <= len; i++) {
			uint32_t count = 0;

			/* SHLQ $4, reg (48 c1 e0+r 04), then REX.W LEA rip-relative */
			if (code[i] != 0x48 || code[i + 1] != 0xc1 || (code[i + 2] & 0xf8) != 0xe0 ||
			    code[i + 3] != 4 || (code[i + 4] & 0xf8) != 0x48 || code[i + 5] != 0x8d ||
			    !is_rip_modrm(code[i + 6]))
				continue;
			/* The bound: CMP r8, imm8 (3c ib, or [REX] 80 f8+r ib) then JB,
			 * shortly before. */
			for (size_t j = i > 48 ? i - 48 : 0; j + 3 <= i; j++) {
				if (code[j] == 0x3c && code[j + 2] == 0x72)
					count = code[j + 1];
				else if (j + 4 <= i && code[j] == 0x80 && (code[j + 1] & 0xf8) == 0xf8 &&
					 code[j + 3] == 0x72)
					count = code[j + 2];
			}
			if (!count)
				continue;
			sy->wait_reasons = rip_target(addr, i + 6, code, 0);
			sy->wait_reasons_size = (uint64_t)count * 16;
			return 0;
		}
	}
	return -ENOENT;
}

/* Does the array look like Go's wait reasons: strings of printable text in
 * the file, the first one empty ("waitReasonZero")? */
static bool valid_wait_reasons(const struct reader *r, uint64_t addr, uint64_t n)
{
	if (n < 2 || n > MAX_WAIT_REASONS || !data_var(r, addr, n * 16))
		return false;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t ptr, len;
		char buf[MAX_WAIT_REASON_LEN];

		if (read_ptr(r, addr + i * 16, &ptr) || read_at(r, addr + i * 16 + 8, &len, 8))
			return false;
		if (i == 0 ? len != 0 : (len == 0 || len > sizeof(buf)))
			return false;
		if (len && read_at(r, ptr, buf, len))
			return false;
		for (uint64_t c = 0; c < len; c++)
			if (buf[c] < 0x20 || buf[c] > 0x7e)
				return false;
	}
	return true;
}

/* runtime.moduledata: the symbol, else the data word that points at the
 * pcHeader, followed by the funcnametab and cutab slices that point into it. */
static int find_moduledata(const struct reader *r, uint64_t pch, const struct go_pclntab *t,
			   uint64_t sym, uint64_t *out)
{
	uint64_t tried = 0;

	for (size_t i = 0; i <= r->nsections; i++) {
		const struct section *s = i ? &r->sections[i - 1] : NULL;
		uint64_t start = sym, end = sym + 8;

		if (s) {
			if (!s->data || !(s->shdr.sh_flags & SHF_WRITE) || !(s->shdr.sh_flags & SHF_ALLOC))
				continue;
			start = (s->shdr.sh_addr + 7) & ~7ull;
			end = s->shdr.sh_addr + s->size;
		} else if (!sym) {
			continue;
		}
		for (uint64_t a = start; a + 8 <= end; a += 8) {
			uint64_t v, names, cutab;

			if (++tried > MAX_MODULEDATA_SCAN)
				return -ENOENT;
			if (read_ptr(r, a + MD_PCHEADER, &v) || v != pch)
				continue;
			if (read_ptr(r, a + MD_FUNCNAMETAB, &names) || read_ptr(r, a + MD_CUTAB, &cutab))
				continue;
			if (names == pch + t->funcname_off && cutab == pch + t->cu_off) {
				*out = a;
				return 0;
			}
		}
	}
	return -ENOENT;
}

/*
 * moduledata.gofunc, checked: the word before it is moduledata.rodata, in
 * read-only data, and go:func.* lies after it in read-only data.  Returns 0 and a
 * copy of go:func.* to the end of its section.
 */
static int load_gofunc(struct go_binary *b, const struct reader *r, uint64_t md,
		       uint32_t gofunc_off)
{
	uint64_t gofunc, rodata;
	const struct section *s;

	if (!gofunc_off || read_ptr(r, md + gofunc_off, &gofunc) ||
	    read_ptr(r, md + gofunc_off - 8, &rodata) || gofunc < rodata)
		return -ENOENT;
	/* go:func.* is read-only data (1.26+ puts it in .gopclntab). */
	s = section_at(r, rodata, 1);
	if (!s || (s->shdr.sh_flags & (SHF_EXECINSTR | SHF_WRITE)))
		return -ENOENT;
	s = section_at(r, gofunc, 1);
	if (!s || !s->data || (s->shdr.sh_flags & (SHF_EXECINSTR | SHF_WRITE)))
		return -ENOENT;
	size_t len = s->shdr.sh_addr + s->size - gofunc;
	b->gofunc_copy = malloc(len);
	if (!b->gofunc_copy)
		return -ENOMEM;
	memcpy(b->gofunc_copy, s->data + (gofunc - s->shdr.sh_addr), len);
	go_pclntab_set_gofunc(&b->pclntab, b->gofunc_copy, len);
	return 0;
}

/* DWARF: member offsets of the runtime's structs. */
struct dwarf_struct {
	const char *name;
	const char *const *members;
	uint32_t *offsets; /* UINT32_MAX until found */
	uint32_t size;
	bool found;
};

static void dwarf_members(Dwarf_Die *type, struct dwarf_struct *ds)
{
	Dwarf_Die child;
	Dwarf_Word size;
	int count = 0;

	if (dwarf_aggregate_size(type, &size) == 0 && size < UINT32_MAX)
		ds->size = (uint32_t)size;
	if (dwarf_child(type, &child))
		return;
	do {
		Dwarf_Attribute attr;
		Dwarf_Word off;
		const char *name;

		if (dwarf_tag(&child) != DW_TAG_member || !(name = dwarf_diename(&child)))
			continue;
		if (!dwarf_attr(&child, DW_AT_data_member_location, &attr) ||
		    dwarf_formudata(&attr, &off) || off >= UINT32_MAX)
			continue;
		for (int i = 0; ds->members[i]; i++)
			if (!strcmp(ds->members[i], name))
				ds->offsets[i] = (uint32_t)off;
	} while (++count < 4096 && dwarf_siblingof(&child, &child) == 0);
	ds->found = true;
}

enum { G_STACK, G_M, G_SCHED, G_SYSCALLSP, G_SYSCALLPC, G_STATUS, G_GOID, G_WAITREASON,
       G_TRACKINGSEQ, G_GOPC, G_STARTPC, G_N };
static const char *const g_members[] = { "stack", "m", "sched", "syscallsp", "syscallpc",
					 "atomicstatus", "goid", "waitreason", "trackingSeq",
					 "gopc", "startpc", NULL };
enum { GOBUF_SP, GOBUF_PC, GOBUF_BP, GOBUF_N };
static const char *const gobuf_members[] = { "sp", "pc", "bp", NULL };
enum { STACK_LO, STACK_HI, STACK_N };
static const char *const stack_members[] = { "lo", "hi", NULL };
static const char *const m_members[] = { "procid", NULL };
enum { MD_TEXT, MD_GOFUNC, MD_N };
static const char *const md_members[] = { "text", "gofunc", NULL };

/* Layout and the offsets of moduledata.text and gofunc from DWARF.  0 or -ENOENT. */
static int layout_from_dwarf(Elf *elf, struct go_layout *l, uint32_t md_off[MD_N])
{
	uint32_t g[G_N], gobuf[GOBUF_N], stack[STACK_N], m[1], md[MD_N];
	struct dwarf_struct structs[] = {
		{ "runtime.g", g_members, g, 0, false },
		{ "runtime.gobuf", gobuf_members, gobuf, 0, false },
		{ "runtime.stack", stack_members, stack, 0, false },
		{ "runtime.m", m_members, m, 0, false },
		{ "runtime.moduledata", md_members, md, 0, false },
	};
	const size_t nstructs = sizeof(structs) / sizeof(structs[0]);
	Dwarf *dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
	Dwarf_Off off = 0, next;
	size_t hsize, found = 0, dies = 0;
	int err = -ENOENT;

	if (!dw)
		return -ENOENT;
	memset(g, 0xff, sizeof(g));
	memset(gobuf, 0xff, sizeof(gobuf));
	memset(stack, 0xff, sizeof(stack));
	memset(m, 0xff, sizeof(m));
	memset(md, 0xff, sizeof(md));
	while (found < nstructs && dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu, die;

		if (dwarf_offdie(dw, off + hsize, &cu) && dwarf_child(&cu, &die) == 0) {
			do {
				const char *name;

				if (++dies > MAX_DWARF_DIES)
					goto cleanup;
				if (dwarf_tag(&die) != DW_TAG_structure_type ||
				    !(name = dwarf_diename(&die)) || strncmp(name, "runtime.", 8))
					continue;
				for (size_t i = 0; i < nstructs; i++) {
					if (structs[i].found || strcmp(structs[i].name, name))
						continue;
					dwarf_members(&die, &structs[i]);
					found++;
				}
			} while (found < nstructs && dwarf_siblingof(&die, &die) == 0);
		}
		off = next;
	}
	for (size_t i = 0; i < nstructs; i++)
		if (!structs[i].found)
			goto cleanup;
	for (int i = 0; i < G_N; i++)
		if (g[i] == UINT32_MAX)
			goto cleanup;
	if (gobuf[GOBUF_SP] == UINT32_MAX || gobuf[GOBUF_PC] == UINT32_MAX ||
	    gobuf[GOBUF_BP] == UINT32_MAX || stack[STACK_LO] == UINT32_MAX ||
	    stack[STACK_HI] == UINT32_MAX || m[0] == UINT32_MAX || !structs[0].size)
		goto cleanup;
	*l = (struct go_layout){
		.g_size = structs[0].size,
		.g_stack_lo = g[G_STACK] + stack[STACK_LO],
		.g_stack_hi = g[G_STACK] + stack[STACK_HI],
		.g_m = g[G_M],
		.g_sched_sp = g[G_SCHED] + gobuf[GOBUF_SP],
		.g_sched_pc = g[G_SCHED] + gobuf[GOBUF_PC],
		.g_sched_bp = g[G_SCHED] + gobuf[GOBUF_BP],
		.g_syscallsp = g[G_SYSCALLSP],
		.g_syscallpc = g[G_SYSCALLPC],
		.g_atomicstatus = g[G_STATUS],
		.g_goid = g[G_GOID],
		.g_waitreason = g[G_WAITREASON],
		.g_tracking_seq = g[G_TRACKINGSEQ],
		.g_gopc = g[G_GOPC],
		.g_startpc = g[G_STARTPC],
		.m_procid = m[0],
	};
	snprintf(l->source, sizeof(l->source), "DWARF");
	for (int i = 0; i < MD_N; i++)
		md_off[i] = md[i] == UINT32_MAX ? 0 : md[i];
	err = 0;
cleanup:
	dwarf_end(dw);
	return err;
}

/* Every offset inside the g it belongs to. */
static bool layout_sane(const struct go_layout *l)
{
	const uint32_t words[] = { l->g_stack_lo, l->g_stack_hi, l->g_m, l->g_sched_sp,
				   l->g_sched_pc, l->g_sched_bp, l->g_syscallsp, l->g_syscallpc,
				   l->g_goid, l->g_gopc, l->g_startpc };

	if (l->g_size < 64 || l->g_size > 4096)
		return false;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (words[i] + 8 > l->g_size)
			return false;
	return l->g_atomicstatus + 4 <= l->g_size && l->g_waitreason < l->g_size &&
	       l->g_tracking_seq < l->g_size && l->m_procid < 4096;
}

/* Where the pcHeader is: its link-time address and the bytes to the end of
 * its section. */
struct pclntab_at {
	uint64_t addr;
	const uint8_t *data;
	size_t size;
};

static bool pclntab_here(const struct reader *r, const struct section *s, size_t off,
			 struct pclntab_at *at)
{
	struct go_pclntab t;
	uint64_t text = 0;

	read_ptr(r, s->shdr.sh_addr + off + 24, &text);
	if (go_pclntab_init(&t, s->data + off, s->size - off, text))
		return false;
	*at = (struct pclntab_at){ s->shdr.sh_addr + off, s->data + off, s->size - off };
	return true;
}

/* .gopclntab, .data.rel.ro.gopclntab in a PIE, else the header's magic in
 * read-only data (Go 1.19's external linker merges it into .data.rel.ro). */
static int find_pclntab(const struct reader *r, struct pclntab_at *at)
{
	static const char *const names[] = { ".gopclntab", ".data.rel.ro.gopclntab" };
	static const uint8_t magic[2][8] = { "\xf0\xff\xff\xff\0\0\x01\x08",
					     "\xf1\xff\xff\xff\0\0\x01\x08" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct section *s = section_by_name(r, names[i]);

		if (s && s->data && pclntab_here(r, s, 0, at))
			return 0;
	}
	for (size_t i = 0; i < r->nsections; i++) {
		const struct section *s = &r->sections[i];

		if (!s->data || !(s->shdr.sh_flags & SHF_ALLOC) ||
		    (s->shdr.sh_flags & SHF_EXECINSTR) || (s->shdr.sh_addr & 7))
			continue;
		for (size_t off = 0; off + 8 <= s->size; off += 8)
			if ((!memcmp(s->data + off, magic[0], 8) || !memcmp(s->data + off, magic[1], 8)) &&
			    pclntab_here(r, s, off, at))
				return 0;
	}
	return -ENOENT;
}

static int load_pclntab(struct go_binary *b, struct reader *r, uint64_t *addr)
{
	struct pclntab_at at;
	uint64_t text = 0;

	if (find_pclntab(r, &at))
		return refuse(r, -ENOTSUP, "%s: no .gopclntab", b->version);
	b->pclntab_copy = malloc(at.size);
	if (!b->pclntab_copy)
		return -ENOMEM;
	memcpy(b->pclntab_copy, at.data, at.size);
	read_ptr(r, at.addr + 24, &text);
	if (go_pclntab_init(&b->pclntab, b->pclntab_copy, at.size, text))
		return refuse(r, -ENOTSUP, "%s: .gopclntab does not parse", b->version);
	if (b->major == 1 && (b->minor >= 20) != (b->pclntab.format == 120))
		return refuse(r, -ENOTSUP, "%s: pclntab format %d does not match", b->version,
			      b->pclntab.format);
	*addr = at.addr;
	return 0;
}


/* GOROOT/src/ from where runtime.goexit is: ".../src/runtime/asm_amd64.s". */
static void set_goroot(struct go_binary *b, const struct go_func *goexit)
{
	static const char tail[] = "runtime/asm_amd64.s";
	struct go_frame f;
	size_t len, keep;

	b->goroot[0] = '\0';
	if (go_pclntab_frames(&b->pclntab, goexit->entry, &f, 1) != 1 || !f.file)
		return;
	len = strlen(f.file);
	if (len <= sizeof(tail) - 1 || strcmp(f.file + len - (sizeof(tail) - 1), tail))
		return;
	keep = len - (sizeof(tail) - 1);
	/* A trimmed path ("runtime/asm_amd64.s") has no prefix to tell by. */
	if (keep < 2 || keep >= sizeof(b->goroot) || f.file[keep - 1] != '/')
		return;
	memcpy(b->goroot, f.file, keep);
	b->goroot[keep] = '\0';
}

static int read_binary(struct go_binary *b, struct reader *r)
{
	const struct section *bi;
	uint64_t pcln = 0;
	struct symbols sy = { 0 };
	struct go_func goexit;
	uint32_t md_off[MD_N] = { 0 };
	uint64_t md = 0;
	int err;

	if (!gelf_getehdr(r->elf, &r->ehdr))
		return refuse(r, -ENOEXEC, "not an ELF file");
	err = load_sections(r);
	if (err)
		return err;
	bi = section_by_name(r, ".go.buildinfo");
	if (!bi)
		return refuse(r, -ENOEXEC, "no .go.buildinfo: not a Go binary");
	if (r->ehdr.e_machine != EM_X86_64 || r->ehdr.e_ident[EI_CLASS] != ELFCLASS64)
		return refuse(r, -ENOTSUP, "a Go binary for another architecture than x86-64");
	if (!bi->data)
		return refuse(r, -ENOTSUP, ".go.buildinfo unreadable");
	err = go_buildinfo_version(bi->data, bi->size, b->version, sizeof(b->version));
	if (err == -ENOTSUP)
		return refuse(r, err, "Go older than 1.18 (pointer-format .go.buildinfo)");
	if (err)
		return refuse(r, -ENOTSUP, ".go.buildinfo malformed");
	if (go_version_parse(b->version, &b->major, &b->minor))
		return refuse(r, -ENOTSUP, "%s: unknown version format", b->version);
	b->pie = r->ehdr.e_type == ET_DYN;
	for (size_t i = 0; i < r->ehdr.e_phnum; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(r->elf, (int)i, &ph) && ph.p_type == PT_LOAD) {
			b->load_vaddr = ph.p_vaddr - ph.p_offset;
			break;
		}
	}
	err = load_relocs(r);
	if (err)
		return err;
	err = load_pclntab(b, r, &pcln);
	if (err)
		return err;

	b->table = go_layout_table_find(b->major, b->minor);
	if (!(r->flags & GO_BINARY_NO_DWARF) && layout_from_dwarf(r->elf, &b->layout, md_off) == 0 &&
	    layout_sane(&b->layout)) {
		/* DWARF it is */
	} else if (b->table) {
		b->layout = b->table->layout;
		snprintf(b->layout.source, sizeof(b->layout.source), "table go%d.%d", b->major,
			 b->minor);
		md_off[MD_TEXT] = b->table->moduledata_text;
		md_off[MD_GOFUNC] = b->table->moduledata_gofunc;
	} else {
		return refuse(r, -ENOTSUP, "%s: no DWARF and no layout table entry for go%d.%d",
			      b->version, b->major, b->minor);
	}
	if (b->table && !md_off[MD_TEXT])
		md_off[MD_TEXT] = b->table->moduledata_text;
	if (b->table && !md_off[MD_GOFUNC])
		md_off[MD_GOFUNC] = b->table->moduledata_gofunc;

	if (!(r->flags & GO_BINARY_NO_SYMTAB))
		read_symtab(r, &sy);
	/* Newer linkers leave pcHeader.textStart 0 even outside PIE: the
	 * runtime uses moduledata.text, so do we. */
	if (find_moduledata(r, pcln, &b->pclntab, sy.firstmoduledata, &md) == 0 &&
	    md_off[MD_TEXT]) {
		uint64_t text;
		const struct section *s;

		if (read_ptr(r, md + md_off[MD_TEXT], &text) == 0 && (s = section_at(r, text, 1)) &&
		    (s->shdr.sh_flags & SHF_EXECINSTR) &&
		    (!b->pclntab.text_start || b->pclntab.text_start == text) &&
		    go_pclntab_init(&b->pclntab, b->pclntab_copy, b->pclntab.len, text) == 0)
			b->pclntab.text_start = text;
		else
			md = 0;
	} else {
		md = 0;
	}
	if (!b->pclntab.text_start)
		return refuse(r, -ENOTSUP, "%s: the text start (runtime.moduledata) not found",
			      b->version);
	if (go_pclntab_func_by_name(&b->pclntab, "runtime.goexit", &goexit))
		return refuse(r, -ENOTSUP, "%s: no runtime.goexit in .gopclntab", b->version);
	b->goexit = goexit.entry;
	set_goroot(b, &goexit);

	if (!sy.allgs || !sy.allglen || !sy.allgptr)
		derive_allgs(r, &b->pclntab, &sy);
	if (!sy.allgs || !data_var(r, sy.allgs, 24) || !sy.allglen || !data_var(r, sy.allglen, 8) ||
	    !sy.allgptr || !data_var(r, sy.allgptr, 8))
		return refuse(r, -ENOTSUP, "%s: runtime.allgs/allglen/allgptr not found", b->version);
	if (!sy.wait_reasons || !valid_wait_reasons(r, sy.wait_reasons, sy.wait_reasons_size / 16)) {
		sy.wait_reasons = 0;
		derive_wait_reasons(r, &b->pclntab, &sy);
	}
	b->vars = (struct go_runtime_vars){ .allglen = sy.allglen, .allgs = sy.allgs,
					    .allgptr = sy.allgptr };
	/* Not fatal: go_binary_wait_reason_table has this version's names. */
	if (sy.wait_reasons && valid_wait_reasons(r, sy.wait_reasons, sy.wait_reasons_size / 16)) {
		b->vars.wait_reason_strings = sy.wait_reasons;
		b->vars.n_wait_reasons = (uint32_t)(sy.wait_reasons_size / 16);
	}

	/* Inline trees need go:func.*; without it frames stay physical. */
	if (md) {
		err = load_gofunc(b, r, md, md_off[MD_GOFUNC]);
		if (err == -ENOMEM)
			return err;
	}
	return 0;
}

int go_binary_open(const char *path, struct go_binary **out, char *why, size_t why_len)
{
	return go_binary_open_flags(path, 0, out, why, why_len);
}

int go_binary_open_flags(const char *path, unsigned int flags, struct go_binary **out, char *why,
			 size_t why_len)
{
	struct reader r = { .flags = flags, .why = why, .why_len = why_len };
	struct go_binary *b = NULL;
	int fd, err;

	if (why && why_len)
		why[0] = '\0';
	*out = NULL;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -ENOTSUP;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* ELF_C_READ, not mmap: a file truncated under us must not SIGBUS. */
	r.elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!r.elf) {
		err = refuse(&r, -ENOEXEC, "not an ELF file");
		goto cleanup;
	}
	b = calloc(1, sizeof(*b));
	if (!b) {
		err = -ENOMEM;
		goto cleanup;
	}
	err = read_binary(b, &r);
cleanup:
	if (err) {
		go_binary_free(b);
		b = NULL;
	}
	free(r.sections);
	free(r.relocs);
	if (r.elf)
		elf_end(r.elf);
	close(fd);
	*out = b;
	return err;
}

void go_binary_free(struct go_binary *b)
{
	if (!b)
		return;
	free(b->pclntab_copy);
	free(b->gofunc_copy);
	free(b);
}

const char *go_binary_version(const struct go_binary *b)
{
	return b->version;
}

const struct go_layout *go_binary_layout(const struct go_binary *b)
{
	return &b->layout;
}

const struct go_runtime_vars *go_binary_vars(const struct go_binary *b)
{
	return &b->vars;
}

const struct go_pclntab *go_binary_pclntab(const struct go_binary *b)
{
	return &b->pclntab;
}

uint64_t go_binary_load_vaddr(const struct go_binary *b)
{
	return b->load_vaddr;
}

bool go_binary_pie(const struct go_binary *b)
{
	return b->pie;
}

uint64_t go_binary_goexit(const struct go_binary *b)
{
	return b->goexit;
}

const char *go_binary_goroot(const struct go_binary *b)
{
	return b->goroot;
}

const char *const *go_binary_wait_reason_table(const struct go_binary *b, uint32_t *n)
{
	if (!b->table || !b->table->wait_reasons) {
		*n = 0;
		return NULL;
	}
	*n = b->table->n_wait_reasons;
	return b->table->wait_reasons;
}

bool go_binary_probe(const char *path)
{
	size_t n, shstrndx;
	Elf_Scn *scn = NULL;
	bool found = false;
	Elf *elf;
	int fd;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return false;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (elf && !elf_getshdrnum(elf, &n) && n <= MAX_SECTIONS &&
	    !elf_getshdrstrndx(elf, &shstrndx)) {
		while (!found && (scn = elf_nextscn(elf, scn))) {
			GElf_Shdr sh;
			const char *name;

			if (gelf_getshdr(scn, &sh) && (name = elf_strptr(elf, shstrndx, sh.sh_name)))
				found = !strcmp(name, ".go.buildinfo");
		}
	}
	if (elf)
		elf_end(elf);
	close(fd);
	return found;
}

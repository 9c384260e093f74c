// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dwarf.h>
#include "inline_chain.h"
#include "symbolize.h"

/* libstdc++'s demangler, a C ABI function: what perf and gdb show for C++. */
char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

/* Mangled names longer than this are shown as they are: the demangler
 * recurses on the name's nesting, and the name is the target's. */
#define DEMANGLE_MAX 1024

/* "pthread_cond_wait@@GLIBC_2.3.2" -> "pthread_cond_wait"; C++ names
 * demangled.  Writes into buf. */
static const char *readable_name(const char *sym, char *buf, size_t len)
{
	char *demangled = NULL;
	int status = -1;
	size_t n;

	if (sym[0] == '_' && sym[1] == 'Z' && strnlen(sym, DEMANGLE_MAX + 1) <= DEMANGLE_MAX)
		demangled = __cxa_demangle(sym, NULL, NULL, &status);
	if (demangled && status == 0) {
		snprintf(buf, len, "%s", demangled);
		free(demangled);
		return buf;
	}
	free(demangled);
	n = strcspn(sym, "@");
	snprintf(buf, len, "%.*s", (int)n, sym);
	return buf;
}

const char *symbolize_module_name(Dwfl_Module *mod, Dwarf_Addr *start)
{
	const char *name = dwfl_module_info(mod, NULL, start, NULL, NULL, NULL, NULL, NULL);
	const char *slash;

	if (!name)
		return "";
	slash = strrchr(name, '/');
	return slash ? slash + 1 : name;
}

/* The readable name of a DIE: its linkage name demangled (C++: the
 * qualified name), else DW_AT_name, both through DW_AT_abstract_origin and
 * DW_AT_specification.  "" unknown. */
static const char *die_name(Dwarf_Die *die, char *buf, size_t len)
{
	Dwarf_Attribute attr;
	const char *name;

	name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &attr));
	if (!name)
		name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr));
	if (name && name[0] == '_' && name[1] == 'Z')
		return readable_name(name, buf, len);
	name = dwarf_diename(die);
	snprintf(buf, len, "%s", name ? name : "");
	return buf;
}

/* The DWARF scopes at addr (module-relative to the DIEs: addr - bias),
 * innermost first, down to the first DW_TAG_subprogram: the inline chain.
 * Names go into names; *entry gets the physical function's entry (0
 * unknown).  Returns the count, 0 when DWARF does not describe addr. */
static int dwarf_chain(Dwfl_Module *mod, Dwarf_Addr addr, struct inline_scope *out,
		       char (*names)[LW_FUNC_TEXT], Dwarf_Addr *entry)
{
	Dwarf_Die *cu, *scopes = NULL, *chain = NULL, innermost;
	Dwarf_Files *files = NULL;
	size_t n_files = 0;
	Dwarf_Addr bias;
	int i, n_scopes, n_chain, n = 0;

	*entry = 0;
	cu = dwfl_module_addrdie(mod, addr, &bias);
	if (!cu)
		return 0;
	n_scopes = dwarf_getscopes(cu, addr - bias, &scopes);
	if (n_scopes <= 0)
		goto cleanup;
	/* dwarf_getscopes follows an inlined call into its abstract origin;
	 * the physical nesting (inlined into what) is the DIE's parents. */
	innermost = scopes[0];
	n_chain = dwarf_getscopes_die(&innermost, &chain);
	if (n_chain <= 0)
		goto cleanup;
	if (dwarf_getsrcfiles(cu, &files, &n_files))
		files = NULL;
	for (i = 0; i < n_chain && n < LW_INLINE_MAX; i++) {
		Dwarf_Die *die = &chain[i];
		int tag = dwarf_tag(die);
		Dwarf_Attribute attr;
		Dwarf_Word file_idx, line;

		if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_subprogram &&
		    tag != DW_TAG_entry_point)
			continue;
		out[n] = (struct inline_scope){
			.name = die_name(die, names[n], LW_FUNC_TEXT),
			.inlined = tag == DW_TAG_inlined_subroutine,
		};
		if (out[n].inlined) {
			/* The file index is the target's: bound it by the table. */
			if (files && !dwarf_formudata(dwarf_attr(die, DW_AT_call_file, &attr), &file_idx) &&
			    file_idx < n_files)
				out[n].call_file = dwarf_filesrc(files, file_idx, NULL, NULL);
			if (!dwarf_formudata(dwarf_attr(die, DW_AT_call_line, &attr), &line) &&
			    line <= INT32_MAX)
				out[n].call_line = (int)line;
		}
		n++;
		if (!out[n - 1].inlined) {
			Dwarf_Addr pc0;

			if (!dwarf_entrypc(die, &pc0))
				*entry = pc0 + bias;
			break; /* the physical function: the chain ends here */
		}
	}
	/* A chain with no physical function (cut, or a broken tree): not one
	 * to show, the ELF symbol names the frame instead. */
	if (n && out[n - 1].inlined)
		n = 0;

cleanup:
	free(chain);
	free(scopes);
	return n;
}

int symbolize_module(Dwfl_Module *mod, uint64_t pc, uint64_t lookup, struct lw_frame *out, int max,
		     char (*names)[LW_FUNC_TEXT])
{
	struct inline_scope scopes[LW_INLINE_MAX];
	char sym_name[LW_FUNC_TEXT];
	struct inline_site at = { .pc = pc };
	Dwarf_Addr mod_start = 0, entry;
	const char *sym, *line_file = NULL;
	GElf_Off sym_off = 0;
	GElf_Sym elf_sym;
	Dwfl_Line *line;
	int n, lineno = 0;

	at.module = symbolize_module_name(mod, &mod_start);
	sym = dwfl_module_addrinfo(mod, lookup, &sym_off, &elf_sym, NULL, NULL, NULL);
	if (sym)
		readable_name(sym, sym_name, sizeof(sym_name));
	line = dwfl_module_getsrc(mod, lookup);
	if (line)
		line_file = dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL);
	at.line_file = line_file;
	at.line = lineno;
	n = dwarf_chain(mod, lookup, scopes, names, &entry);
	if (sym) {
		at.offset = sym_off + (pc - lookup);
	} else if (n && entry && entry <= lookup) {
		at.offset = pc - entry;
	} else {
		at.offset = pc - mod_start;
	}
	if (n) {
		if (sym)
			scopes[n - 1].name = sym_name;
		return inline_chain_frames(scopes, n, &at, out, max);
	}
	if (!sym) {
		lw_frame_unknown(out, LW_FRAME_NATIVE, pc, at.module);
		out->offset = pc - mod_start;
		return 1;
	}
	/* No DWARF scope (assembly, or no debuginfo): the symbol, with the
	 * line table's line when there is one. */
	scopes[0] = (struct inline_scope){ .name = sym_name };
	return inline_chain_frames(scopes, 1, &at, out, max);
}


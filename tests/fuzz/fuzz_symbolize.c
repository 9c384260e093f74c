// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer: an ELF file with its DWARF (seeds: the C fixtures, plain and
 * their split .debug files), reported to libdwfl as a module, as the
 * unwinder reports a target's binary; then symbolize_module at addresses
 * spread over the module and at its symbols: the DWARF inline chain, line
 * table, call_file indexes and names read from it.  No separate debuginfo
 * is looked for (the host's files are not the input).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>
#include "symbolize.h"

#define SPREAD 64   /* addresses spread over the module */
#define SYMBOLS 64  /* symbols' addresses looked up, at most */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int no_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
			const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
			char **debuginfo_file_name)
{
	return -1;
}

static char *debuginfo_path = "";

static const Dwfl_Callbacks callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = no_debuginfo,
	.section_address = dwfl_offline_section_address,
	.debuginfo_path = &debuginfo_path,
};

static void look_up(Dwfl_Module *mod, uint64_t addr, struct lw_frame *out,
		    char (*names)[LW_FUNC_TEXT])
{
	int n = symbolize_module(mod, addr, addr, out, LW_INLINE_MAX, names);

	for (int i = 0; i < n; i++) /* every string terminated */
		(void)(__builtin_strlen(out[i].func) + __builtin_strlen(out[i].file) +
		       __builtin_strlen(out[i].module));
	if (addr)
		symbolize_module(mod, addr, addr - 1, out, 2, names);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct lw_frame out[LW_INLINE_MAX];
	static char names[LW_INLINE_MAX][LW_FUNC_TEXT];
	Dwarf_Addr low, high;
	Dwfl_Module *mod;
	char path[64];
	Dwfl *dwfl;
	int fd, i, n_syms;

	fd = memfd_create("fuzz_symbolize", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	dwfl = dwfl_begin(&callbacks);
	if (!dwfl) {
		close(fd);
		return 0;
	}
	mod = dwfl_report_offline(dwfl, "fuzz", path, fd); /* dwfl_end closes fd */
	if (!mod) {
		close(fd);
		goto out;
	}
	dwfl_report_end(dwfl, NULL, NULL);
	dwfl_module_info(mod, NULL, &low, &high, NULL, NULL, NULL, NULL);
	for (i = 0; i < SPREAD && high > low; i++)
		look_up(mod, low + (high - low) / SPREAD * (uint64_t)i, out, names);
	n_syms = dwfl_module_getsymtab(mod);
	for (i = 0; i < n_syms && i < SYMBOLS; i++) {
		GElf_Sym sym;
		GElf_Addr addr;

		if (dwfl_module_getsym_info(mod, i, &sym, &addr, NULL, NULL, NULL) &&
		    GELF_ST_TYPE(sym.st_info) == STT_FUNC)
			look_up(mod, addr + sym.st_size / 2, out, names);
	}
out:
	dwfl_end(dwfl);
	return 0;
}

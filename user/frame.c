// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <string.h>
#include "frame.h"

void lw_frame_unknown(struct lw_frame *f, uint8_t kind, uint64_t pc, const char *module)
{
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->pc = pc;
	if (module)
		snprintf(f->module, sizeof(f->module), "%s", module);
}

void lw_frame_text(const struct lw_frame *f, char *buf, size_t len)
{
	const char *module = f->module[0] ? f->module : "?";

	if (!len)
		return;
	if (!f->func[0]) {
		snprintf(buf, len, "0x%llx (%s)", (unsigned long long)f->pc, module);
	} else if (f->kind == LW_FRAME_PYTHON) {
		if (f->line > 0)
			snprintf(buf, len, "%s (%s:%d)", f->func, f->file[0] ? f->file : "?",
				 f->line);
		else
			snprintf(buf, len, "%s (%s)", f->func, f->file[0] ? f->file : "?");
	} else if (f->file[0] && f->line > 0) {
		snprintf(buf, len, "%s+0x%llx (%s:%d)", f->func, (unsigned long long)f->offset,
			 f->file, f->line);
	} else if (f->kind == LW_FRAME_GO) {
		/* Go code is the binary's: no module to show */
		snprintf(buf, len, "%s+0x%llx", f->func, (unsigned long long)f->offset);
	} else {
		snprintf(buf, len, "%s+0x%llx (%s)", f->func, (unsigned long long)f->offset,
			 module);
	}
}

const char *lw_frame_kind_name(uint8_t kind)
{
	static const char *const names[] = {
		[LW_FRAME_NATIVE] = "native", [LW_FRAME_GO] = "go",	    [LW_FRAME_PYTHON] = "python",
		[LW_FRAME_JIT] = "jit",	      [LW_FRAME_KERNEL] = "kernel",
	};

	return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "native";
}

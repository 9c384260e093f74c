// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <string.h>
#include "inline_chain.h"

void inline_copy_path(char *dst, size_t len, const char *path)
{
	size_t n;

	if (!len)
		return;
	if (!path)
		path = "";
	n = strlen(path);
	if (n < len || len <= 4) {
		snprintf(dst, len, "%s", path);
		return;
	}
	/* "..." + the last len - 4 characters + NUL. */
	snprintf(dst, len, "...%s", path + n - (len - 4));
}

static void copy_text(char *dst, size_t len, const char *s)
{
	snprintf(dst, len, "%s", s ? s : "");
}

/* The frame of scope s, with its file:line. */
static void scope_frame(struct lw_frame *f, const struct inline_scope *s,
			const struct inline_site *at, const char *file, int line, bool inlined)
{
	memset(f, 0, sizeof(*f));
	f->pc = at->pc;
	f->offset = at->offset;
	f->kind = LW_FRAME_NATIVE;
	f->inlined = inlined;
	copy_text(f->func, sizeof(f->func), s->name);
	copy_text(f->module, sizeof(f->module), at->module);
	if (file && file[0] && line > 0) {
		inline_copy_path(f->file, sizeof(f->file), file);
		f->line = line;
	}
}

int inline_chain_frames(const struct inline_scope *scopes, int n, const struct inline_site *at,
			struct lw_frame *out, int max)
{
	int i, kept;

	if (n <= 0 || max <= 0)
		return 0;
	kept = n < max ? n : max;
	/* Innermost: the line table's line. */
	for (i = 0; i < kept - 1; i++) {
		const char *file = i ? scopes[i - 1].call_file : at->line_file;
		int line = i ? scopes[i - 1].call_line : at->line;

		scope_frame(&out[i], &scopes[i], at, file, line, true);
	}
	/* The physical function: its line is where the scope just inside it
	 * was called from (or the line table's, when it is alone). */
	if (n == 1)
		scope_frame(&out[kept - 1], &scopes[0], at, at->line_file, at->line, false);
	else
		scope_frame(&out[kept - 1], &scopes[n - 1], at, scopes[n - 2].call_file,
			    scopes[n - 2].call_line, false);
	return kept;
}

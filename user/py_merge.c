// SPDX-License-Identifier: GPL-2.0
/* The pure half of py_frames.h: Python frames into a native stack, and which
 * Python files are the standard library's. */
#include <string.h>
#include "py_frames.h"

bool py_is_eval_frame(const char *func)
{
	return !strcmp(func, "_PyEval_EvalFrameDefault");
}

static bool put(struct lw_frame *out, int *n, int max, const struct lw_frame *f)
{
	if (*n >= max)
		return false;
	out[(*n)++] = *f;
	return true;
}

int py_merge_frames(const struct lw_frame *native, int n_native, const struct lw_frame *py,
		    int n_py, struct lw_frame *out, int max)
{
	int i, n = 0, next_py = 0;

	for (i = 0; i < n_native; i++) {
		if (!py_is_eval_frame(native[i].func) || next_py >= n_py) {
			if (!put(out, &n, max, &native[i]))
				return n;
			continue;
		}
		/* This eval loop runs py's frames up to its entry frame. */
		while (next_py < n_py) {
			bool entry = py[next_py].py_entry;

			if (!put(out, &n, max, &py[next_py++]))
				return n;
			if (entry)
				break;
		}
	}
	while (next_py < n_py && put(out, &n, max, &py[next_py]))
		next_py++;
	return n;
}

bool py_stdlib_file(const char *file)
{
	const char *lib = strstr(file, "/lib/python");

	if (!strncmp(file, "<frozen ", 8))
		return true;
	if (!lib || strstr(lib, "/site-packages/") || strstr(lib, "/dist-packages/"))
		return false;
	lib += strlen("/lib/python");
	/* "3.11/" (or "3/" on some distributions) */
	while ((*lib >= '0' && *lib <= '9') || *lib == '.')
		lib++;
	return *lib == '/';
}

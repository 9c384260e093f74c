// SPDX-License-Identifier: GPL-2.0
/* The pure parts of py_frames.h: eval-loop frames, the merge with native
 * stacks, standard library files. */
#include <ctype.h>
#include <string.h>
#include "py_frames.h"

bool py_is_eval_frame(const char *func)
{
	static const char eval[] = "_PyEval_EvalFrameDefault";
	size_t n = sizeof(eval) - 1;

	/* gcc's split parts keep the name with a suffix: ".cold", ".isra.0" */
	return func && !strncmp(func, eval, n) && (func[n] == '\0' || func[n] == '.');
}

int py_merge_frames(const struct lw_frame *native, int n_native, const struct lw_frame *py,
		    int n_py, struct lw_frame *out, int max)
{
	int n = 0, p = 0;

	if (n_native < 0)
		n_native = 0;
	if (n_py < 0)
		n_py = 0;
	for (int i = 0; i < n_native && n < max; i++) {
		const struct lw_frame *f = &native[i];

		/* An inlined frame shares its physical frame's pc: only the
		 * physical eval loop frame (not inlined) runs Python code. */
		if (f->kind != LW_FRAME_NATIVE || f->inlined || !py_is_eval_frame(f->func) ||
		    p == n_py) {
			/* No Python frames left for an eval loop frame: it
			 * stays, the native truth. */
			out[n++] = *f;
			continue;
		}
		while (p < n_py && n < max) {
			bool entry = py[p].py_entry;

			out[n++] = py[p++];
			if (entry)
				break;
		}
	}
	while (p < n_py && n < max)
		out[n++] = py[p++];
	return n;
}

/* "pythonX.Y/" at s: the length matched, else 0. */
static size_t python_dir(const char *s)
{
	const char *p = s;

	if (strncmp(p, "python", 6))
		return 0;
	p += 6;
	if (!isdigit((unsigned char)*p))
		return 0;
	while (isdigit((unsigned char)*p))
		p++;
	if (*p++ != '.' || !isdigit((unsigned char)*p))
		return 0;
	while (isdigit((unsigned char)*p))
		p++;
	/* a free-threaded build's "python3.13t/" */
	if (*p == 't')
		p++;
	return *p == '/' ? (size_t)(p + 1 - s) : 0;
}

bool py_stdlib_file(const char *file)
{
	const char *p;

	if (!file)
		return false;
	if (!strncmp(file, "<frozen ", 8))
		return true;
	for (p = strstr(file, "/lib"); p; p = strstr(p + 1, "/lib")) {
		const char *q = p + 4;
		size_t k;

		if (!strncmp(q, "64", 2))
			q += 2;
		if (*q != '/')
			continue;
		k = python_dir(q + 1);
		if (!k)
			continue;
		q += 1 + k;
		return !strstr(q, "site-packages/") && !strstr(q, "dist-packages/");
	}
	return false;
}

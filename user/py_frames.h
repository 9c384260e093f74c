/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Python stacks of CPython 3.11+ threads, read from outside with
 * process_vm_readv as py-spy does, no ptrace stop: _PyRuntime (an ELF
 * symbol of the python binary or libpython) -> interpreters -> thread
 * states (native_thread_id is the tid) -> the current frame chain
 * (_PyInterpreterFrame) -> each frame's code object: co_qualname,
 * co_filename, the line from co_linetable at the frame's instruction.
 * Layouts: 3.11 and 3.12 from the CPython headers (a table per version,
 * by Py_Version); 3.13+ from _PyRuntime._Py_DebugOffsets, which the
 * interpreter publishes for tools like this one.  Everything read is the
 * target's: hostile input, bounded reads, capped chains (a cycle ends).
 */
#ifndef LW_PY_FRAMES_H
#define LW_PY_FRAMES_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "frame.h"

/* Python frames per thread, at most; a longer chain is cut (counted). */
#define PY_FRAMES_MAX 128

struct py_procs;

struct py_stats {
	uint64_t processes;     /* Python processes found (layout read) */
	uint64_t unsupported;   /* Python processes whose layout could not be read */
	uint64_t threads_read;  /* thread stacks read */
	uint64_t frames_read;
	uint64_t chains_cut;    /* chains that cycled or passed PY_FRAMES_MAX */
	uint64_t read_errors;   /* stacks not read (the target's memory) */
	/* Threads given no Python frames because their process's thread
	 * states were listed less than a second before (a list relisted for
	 * every thread would let one process stall the scan). */
	uint64_t relists_skipped;
};

int py_procs_new(struct py_procs **out);
void py_procs_free(struct py_procs *pp);
/* The process exited (or exec'd): drop what is known of it. */
void py_procs_forget(struct py_procs *pp, uint32_t pid);
void py_procs_get_stats(const struct py_procs *pp, struct py_stats *out);

/*
 * The Python frames of thread tid of process pid, innermost first: kind
 * LW_FRAME_PYTHON, func the code's co_qualname ("Handler.handle"), file its
 * co_filename, line from co_linetable at the frame's last instruction, pc
 * the code object's address, offset the instruction's byte offset, module
 * "" and py_entry as frame.h says.  Frames that are not Python code (the
 * C-stack shim frames of 3.12+) are left out.
 * The first call for a pid finds its interpreter (once: the answer is
 * kept, found or not, until py_procs_forget).
 * Returns the count; 0: not a Python thread (no CPython in pid, or no
 * thread state for tid, or no frame); -errno: pid's Python cannot be read
 * (see py_proc_error) or this chain was unreadable (counted).
 */
int py_thread_frames(struct py_procs *pp, uint32_t pid, uint32_t tid, struct lw_frame *out,
		     int max);

/* Why pid's CPython cannot be read ("python 3.10.13: before 3.11, not
 * supported"), NULL when it can or it is not Python.  For the caller's
 * once-per-process report. */
const char *py_proc_error(const struct py_procs *pp, uint32_t pid);

/* What the first py_thread_frames found of pid's CPython, for the caller's
 * once-per-process record: version ("3.12.1"; "3.10" when only the file
 * name tells), layout ("table 3.12", "_Py_DebugOffsets"; NULL when
 * unreadable), error (the reason alone: "before 3.11, not supported"; NULL
 * when readable).  false: not Python, or not looked at yet. */
bool py_proc_info(const struct py_procs *pp, uint32_t pid, const char **version,
		  const char **layout, const char **error);

/* Pure.  Is this native function the interpreter's eval loop, whose frames
 * the Python frames replace (_PyEval_EvalFrameDefault)? */
bool py_is_eval_frame(const char *func);

/*
 * Pure.  native (innermost first) with each native frame of the eval loop
 * replaced by the Python frames it runs: py's frames from the next one up
 * to and including the next py_entry frame.  Python frames left when the
 * native ones run out (an unwind cut short before the outermost eval loop,
 * or none found at all) go at the outer end, after the native frames: they
 * are the callers.  Returns the count, <= max.
 */
int py_merge_frames(const struct lw_frame *native, int n_native, const struct lw_frame *py,
		    int n_py, struct lw_frame *out, int max);

/* Pure.  Is this Python file the standard library's (under
 * .../lib/pythonX.Y/ but not site-packages or dist-packages, or
 * "<frozen ...>"): a site is named past it. */
bool py_stdlib_file(const char *file);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The CPython structures walked from outside (py_frames.h), through a read
 * function given by the caller: process_vm_readv for a live process, a
 * memory image in the unit tests and the fuzzer.  Pure apart from the
 * reads.  Everything read is hostile: each struct read with a bounded
 * span, each pointer checked (nonzero, aligned), each chain capped with a
 * visited check, each string length capped.
 */
#ifndef LW_PY_WALK_H
#define LW_PY_WALK_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "frame.h"
#include "py_layout.h"

/* Reads len bytes at addr of the target into buf: 0, or -errno (a short
 * read is an error: -EFAULT). */
typedef int (*py_read_fn)(void *ctx, uint64_t addr, void *buf, size_t len);

struct py_mem {
	py_read_fn read;
	void *ctx;
};

/* Interpreters and thread states, at most (a longer or cyclic list is cut):
 * a relist costs one read per thread state, so no more than real programs
 * have (a CPython with 10,000 threads is listed whole). */
#define PY_INTERPS_MAX 64
#define PY_THREADS_MAX 16384
/* A process's thread states are listed again at most once per interval: a
 * hostile list (long, its head changing all the time) looked up for many
 * threads would otherwise cost threads x length reads. */
#define PY_RELIST_INTERVAL_NS 1000000000ull
/* co_linetable bytes read, at most: a longer table leaves the line unknown. */
#define PY_LINETABLE_MAX (256 * 1024)

struct py_walk_stats {
	uint64_t chains_cut;   /* frame chains that cycled or passed max */
	uint64_t lists_cut;    /* interpreter or thread lists that cycled or passed the cap */
	uint64_t lines_unknown; /* frames whose line could not be decoded */
	uint64_t strings_cut;  /* names or files cut to fit */
	uint64_t relists_skipped; /* lookups answered "none" as a relist was due too soon */
};

/* A thread state and its native thread id (the tid). */
struct py_tstate {
	uint64_t addr;
	uint64_t tid;
};

/*
 * The first interpreter's head of thread states (what changes when a
 * thread state is added: new ones are put at the head).  0 or -errno.
 */
int py_threads_head(const struct py_mem *m, const struct py_layout *l, uint64_t runtime,
		    uint64_t *head);

/*
 * Every thread state of every interpreter from _PyRuntime at runtime, at
 * most max into out: the count, or -errno when the runtime or its first
 * interpreter cannot be read.  A list that cycles or passes its cap ends
 * (counted in st->lists_cut).
 */
int py_list_threads(const struct py_mem *m, const struct py_layout *l, uint64_t runtime,
		    struct py_tstate *out, int max, struct py_walk_stats *st);

/*
 * One process's thread states as last listed, sorted by tid, and the
 * list's head then: a tid not among them is looked for again only when the
 * head changed (a new thread state is put at the head), and not before
 * PY_RELIST_INTERVAL_NS after the last listing.  Zeroed: not listed yet.
 */
struct py_tstates {
	struct py_tstate *threads;
	int n;
	uint64_t head;
	uint64_t listed_ns; /* when last listed, on the caller's monotonic clock */
	bool listed;
};

/*
 * The thread state of tid: 0 and *addr, 1 none, or -errno.  now_ns is a
 * monotonic clock (passed in: pure apart from m->read).  The first call
 * lists; later ones list again when tid's entry is gone or stale, or tid
 * is not listed and the head changed, but only once per interval: else 1
 * (the thread keeps its native stack), counted in st->relists_skipped.
 */
int py_tstates_lookup(struct py_tstates *c, const struct py_mem *m, const struct py_layout *l,
		      uint64_t runtime, uint64_t tid, uint64_t now_ns, uint64_t *addr,
		      struct py_walk_stats *st);
void py_tstates_free(struct py_tstates *c);

/* The native thread id of the thread state at addr.  0 or -errno. */
int py_tstate_tid(const struct py_mem *m, const struct py_layout *l, uint64_t addr,
		  uint64_t *tid);

/*
 * The Python frames of the thread state at tstate, innermost first, at most
 * max (PY_FRAMES_MAX caps it too), as py_thread_frames (py_frames.h)
 * describes them.  The count (0: no frame); -errno: the thread state or its
 * first frame cannot be read.  A frame that cannot be read ends the chain
 * there (what was read is returned, the loss counted in st->chains_cut);
 * so does a cycle or max.
 */
int py_walk_frames(const struct py_mem *m, const struct py_layout *l, uint64_t tstate,
		   struct lw_frame *out, int max, struct py_walk_stats *st);

/*
 * A str object at addr as UTF-8 in buf (len >= 1, always NUL-terminated,
 * cut at a character boundary: *cut set).  Compact strings only (code
 * names and file names always are).  0 or -errno.
 */
int py_read_str(const struct py_mem *m, const struct py_layout *l, uint64_t addr, char *buf,
		size_t len, bool *cut);

#endif

// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "go_g.h"

#define GO_G_SCAN_BIT 0x1000u
/* Past this a g image is not a runtime.g (392 bytes in 1.19, ~450 in 1.27). */
#define GO_G_MAX_SIZE 65536u
/* Highest user-space address on x86-64 (47 bits). */
#define USER_ADDR_END (1ull << 47)

struct field {
	uint32_t off, size;
};

static void sort_fields(struct field *f, int n)
{
	for (int i = 1; i < n; i++) {
		struct field v = f[i];
		int j = i - 1;

		while (j >= 0 && f[j].off > v.off) {
			f[j + 1] = f[j];
			j--;
		}
		f[j + 1] = v;
	}
}

int go_g_segs_init(struct go_g_segs *s, const struct go_layout *l, uint32_t merge_gap)
{
	struct field f[] = {
		{ l->g_stack_lo, 8 },    { l->g_stack_hi, 8 },  { l->g_m, 8 },
		{ l->g_sched_sp, 8 },    { l->g_sched_pc, 8 },  { l->g_sched_bp, 8 },
		{ l->g_syscallsp, 8 },   { l->g_syscallpc, 8 }, { l->g_atomicstatus, 4 },
		{ l->g_goid, 8 },        { l->g_waitreason, 1 }, { l->g_tracking_seq, 1 },
		{ l->g_gopc, 8 },        { l->g_startpc, 8 },
	};
	int nf = (int)(sizeof(f) / sizeof(f[0]));

	memset(s, 0, sizeof(*s));
	if (l->g_size == 0 || l->g_size > GO_G_MAX_SIZE)
		return -EINVAL;
	for (int i = 0; i < nf; i++)
		if (f[i].off > l->g_size || f[i].size > l->g_size - f[i].off)
			return -EINVAL;
	sort_fields(f, nf);
	for (int i = 0; i < nf; i++) {
		uint32_t end = f[i].off + f[i].size;
		uint32_t *last_end = s->n ? &s->len[s->n - 1] : NULL;

		if (s->n && (uint64_t)f[i].off <= (uint64_t)s->off[s->n - 1] + *last_end + merge_gap) {
			if (end > s->off[s->n - 1] + *last_end)
				*last_end = end - s->off[s->n - 1];
			continue;
		}
		if (s->n == GO_G_MAX_SEGS)
			return -EINVAL;
		s->off[s->n] = f[i].off;
		s->len[s->n] = f[i].size;
		s->n++;
	}
	for (uint32_t i = 0; i < s->n; i++)
		s->bytes += s->len[i];
	s->span = s->off[s->n - 1] + s->len[s->n - 1];
	return 0;
}

/* Little-endian loads inside len (0 outside: a layout checked by
 * go_g_segs_init never asks for that). */
static uint64_t load64(const uint8_t *p, size_t len, uint32_t off)
{
	uint64_t v = 0;

	if (off <= len && len - off >= 8)
		memcpy(&v, p + off, 8);
	return v;
}

static uint32_t load32(const uint8_t *p, size_t len, uint32_t off)
{
	uint32_t v = 0;

	if (off <= len && len - off >= 4)
		memcpy(&v, p + off, 4);
	return v;
}

static uint8_t load8(const uint8_t *p, size_t len, uint32_t off)
{
	return off < len ? p[off] : 0;
}

bool go_g_parked(uint32_t status)
{
	return status == GO_G_RUNNABLE || status == GO_G_WAITING || status == GO_G_PREEMPTED ||
	       status == GO_G_LEAKED;
}

static bool in_stack(uint64_t addr, uint64_t lo, uint64_t hi)
{
	return addr >= lo && addr < hi;
}

enum go_g_verdict go_g_decode(const struct go_layout *l, const uint8_t *img, size_t len,
			      uint64_t g_addr, struct go_g_raw *raw, struct go_goroutine *out)
{
	struct go_g_raw r = {
		.stack_lo = load64(img, len, l->g_stack_lo),
		.stack_hi = load64(img, len, l->g_stack_hi),
		.m = load64(img, len, l->g_m),
		.sched_sp = load64(img, len, l->g_sched_sp),
		.sched_pc = load64(img, len, l->g_sched_pc),
		.sched_bp = load64(img, len, l->g_sched_bp),
		.syscallsp = load64(img, len, l->g_syscallsp),
		.syscallpc = load64(img, len, l->g_syscallpc),
		.status = load32(img, len, l->g_atomicstatus),
		.goid = load64(img, len, l->g_goid),
		.wait_reason = load8(img, len, l->g_waitreason),
		.tracking_seq = load8(img, len, l->g_tracking_seq),
		.gopc = load64(img, len, l->g_gopc),
		.startpc = load64(img, len, l->g_startpc),
	};
	uint32_t status;

	*raw = r;
	if (r.status & ~(GO_G_SCAN_BIT | 0xfu))
		return GO_G_INVALID;
	status = r.status & ~GO_G_SCAN_BIT;
	switch (status) {
	case GO_G_IDLE:
	case GO_G_DEAD:
	case GO_G_DEADEXTRA:
		return GO_G_GONE;
	case GO_G_RUNNABLE:
	case GO_G_RUNNING:
	case GO_G_SYSCALL:
	case GO_G_WAITING:
	case GO_G_COPYSTACK:
	case GO_G_PREEMPTED:
	case GO_G_LEAKED:
		break;
	default: /* 5 and 7 are unused, the rest unknown */
		return GO_G_INVALID;
	}
	if (r.goid == 0 || r.goid > GO_MAX_GOID)
		return GO_G_INVALID;
	if (r.stack_lo == 0 || r.stack_lo >= r.stack_hi || r.stack_hi > USER_ADDR_END ||
	    r.stack_hi - r.stack_lo > GO_MAX_STACK)
		return GO_G_INVALID;
	if (go_g_parked(status) && !in_stack(r.sched_sp, r.stack_lo, r.stack_hi))
		return GO_G_INVALID;

	memset(out, 0, sizeof(*out));
	out->goid = r.goid;
	out->status = status;
	if (status == GO_G_WAITING || status == GO_G_LEAKED)
		out->wait_reason = r.wait_reason;
	out->tracking_seq = r.tracking_seq;
	if (in_stack(r.sched_sp, r.stack_lo, r.stack_hi))
		out->sp_depth = r.stack_hi - r.sched_sp;
	out->gopc = r.gopc;
	out->startpc = r.startpc;
	out->g_addr = g_addr;
	return GO_G_LIVE;
}

void go_stack_walk_init(struct go_stack_walk *w, uint64_t pc, uint64_t sp, uint64_t bp)
{
	w->pc = pc;
	w->sp = sp;
	w->bp = bp;
	w->n = 0;
	w->frames = 0;
	w->need = 0;
}

/* n bytes at addr from the copy; -ENODATA (need set) if not all inside it. */
static int copy_at(struct go_stack_walk *w, uint64_t base, const uint8_t *bytes, size_t len,
		   uint64_t addr, void *out, size_t n)
{
	if (addr < base || addr - base > len || len - (addr - base) < n) {
		w->need = addr;
		return -ENODATA;
	}
	memcpy(out, bytes + (addr - base), n);
	return 0;
}

static bool in_goexit(const struct go_stack_walk *w, uint64_t pc)
{
	return pc >= w->goexit_lo && pc < w->goexit_hi;
}

static void keep(struct go_stack_walk *w, uint64_t pc)
{
	if (w->n < w->max)
		w->pcs[w->n++] = pc;
	w->frames++;
}

int go_stack_walk(struct go_stack_walk *w, uint64_t base, const uint8_t *bytes, size_t len)
{
	uint64_t lo = w->stack_lo, hi = w->stack_hi, ret, frame[2];
	int err;

	if (lo >= hi || hi - lo < 16)
		return -EAGAIN;
	if (w->frames == 0) {
		if (w->pc == 0)
			return -EAGAIN;
		if (in_goexit(w, w->pc)) {
			keep(w, w->pc);
			return 0;
		}
		if (w->bp == 0) {
			/* Never ran: sched.pc is its function, and the word at
			 * sp the return address into goexit (gostartcall). */
			if (w->sp < lo || w->sp > hi - 8)
				return -EAGAIN;
			err = copy_at(w, base, bytes, len, w->sp, &ret, 8);
			if (err)
				return err;
			if (!in_goexit(w, ret))
				return -EAGAIN;
			keep(w, w->pc);
			keep(w, ret);
			return 0;
		}
		keep(w, w->pc);
	}
	while (w->frames < GO_MAX_WALK) {
		/* bp strictly above the last frame read, 8-aligned, and its
		 * 16 bytes inside the stack. */
		if (w->bp & 7 || w->bp < w->sp || w->bp < lo || w->bp > hi - 16)
			return -EAGAIN;
		/* The saved bp, then the return address: read as one, so a
		 * copy from need on holds both. */
		err = copy_at(w, base, bytes, len, w->bp, frame, sizeof(frame));
		if (err)
			return err;
		if (frame[1] == 0)
			return -EAGAIN;
		keep(w, frame[1]);
		if (in_goexit(w, frame[1]))
			return 0;
		w->sp = w->bp + 16;
		w->bp = frame[0];
	}
	return -EAGAIN;
}

/* One line of maps, NUL-ended in line: is it a mapping at offset 0 of the
 * executable?  Sets *start. */
static void match_line(const char *line, uint32_t dev_major, uint32_t dev_minor, uint64_t ino,
		       const char *exe_path, uint64_t *by_ino, uint64_t *by_path)
{
	unsigned long long start, end, off, inode;
	unsigned int maj, min;
	char perms[8];
	int path_at = 0;

	if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &start, &end, perms, &off, &maj, &min,
		   &inode, &path_at) < 7)
		return;
	if (off != 0 || start >= end)
		return;
	if (maj == dev_major && min == dev_minor && inode == ino && ino != 0) {
		if (start < *by_ino)
			*by_ino = start;
	} else if (exe_path && path_at > 0 && strcmp(line + path_at, exe_path) == 0) {
		if (start < *by_path)
			*by_path = start;
	}
}

int go_maps_load_bias(const char *maps, size_t len, uint32_t dev_major, uint32_t dev_minor,
		      uint64_t ino, const char *exe_path, uint64_t load_vaddr, uint64_t *bias)
{
	uint64_t by_ino = UINT64_MAX, by_path = UINT64_MAX, start;
	char line[4200];
	size_t i = 0;

	while (i < len) {
		const char *nl = memchr(maps + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (maps + i)) : len - i;

		/* A line longer than any maps line (a path is at most
		 * PATH_MAX) is not one: skipped. */
		if (n < sizeof(line)) {
			memcpy(line, maps + i, n);
			line[n] = '\0';
			match_line(line, dev_major, dev_minor, ino, exe_path, &by_ino, &by_path);
		}
		i += n + 1;
	}
	start = by_ino != UINT64_MAX ? by_ino : by_path;
	if (start == UINT64_MAX)
		return -ENOENT;
	*bias = start - load_vaddr;
	return 0;
}

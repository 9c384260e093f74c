// SPDX-License-Identifier: GPL-2.0
/* The CPython structure walker (py_walk.h): pure apart from m->read. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "py_frames.h"
#include "py_linetable.h"
#include "py_walk.h"

/* An instruction pointer this far past the code's start is not in it. */
#define PY_CODE_BYTES_MAX (64u << 20)

static uint64_t u64_at(const uint8_t *buf, uint32_t off)
{
	uint64_t v;

	memcpy(&v, buf + off, 8);
	return v;
}

static int32_t i32_at(const uint8_t *buf, uint32_t off)
{
	int32_t v;

	memcpy(&v, buf + off, 4);
	return v;
}

/* A pointer to an object or struct: nonzero, 8-aligned, in user space. */
static bool ptr_ok(uint64_t p)
{
	return p && !(p & 7) && p < (1ull << 56);
}

static int read_ptr(const struct py_mem *m, uint64_t addr, uint64_t *out)
{
	int err = m->read(m->ctx, addr, out, 8);

	if (err)
		return err;
	return ptr_ok(*out) || *out == 0 ? 0 : -EINVAL;
}

static int first_interp(const struct py_mem *m, const struct py_layout *l, uint64_t runtime,
			uint64_t *interp)
{
	int err;

	if (!ptr_ok(runtime))
		return -EINVAL;
	err = read_ptr(m, runtime + l->runtime_interpreters_head, interp);
	if (err)
		return err;
	return *interp ? 0 : -ENOENT;
}

int py_threads_head(const struct py_mem *m, const struct py_layout *l, uint64_t runtime,
		    uint64_t *head)
{
	uint64_t interp;
	int err = first_interp(m, l, runtime, &interp);

	if (err)
		return err;
	return read_ptr(m, interp + l->interp_threads_head, head);
}

int py_tstate_tid(const struct py_mem *m, const struct py_layout *l, uint64_t addr,
		  uint64_t *tid)
{
	if (!ptr_ok(addr))
		return -EINVAL;
	return m->read(m->ctx, addr + l->tstate_native_thread_id, tid, 8);
}

static bool seen(const uint64_t *addrs, int n, uint64_t a)
{
	for (int i = 0; i < n; i++)
		if (addrs[i] == a)
			return true;
	return false;
}

int py_list_threads(const struct py_mem *m, const struct py_layout *l, uint64_t runtime,
		    struct py_tstate *out, int max, struct py_walk_stats *st)
{
	uint64_t interps[PY_INTERPS_MAX], interp, ts;
	uint8_t buf[PY_SPAN_MAX];
	int n_interps = 0, n = 0, steps = 0, err;

	err = first_interp(m, l, runtime, &interp);
	if (err)
		return err;
	while (interp) {
		if (n_interps == PY_INTERPS_MAX || seen(interps, n_interps, interp)) {
			st->lists_cut++;
			break;
		}
		interps[n_interps++] = interp;
		if (read_ptr(m, interp + l->interp_threads_head, &ts)) {
			st->lists_cut++;
			break;
		}
		/* A cycle among thread states: the steps cap ends it (a
		 * visited set of PY_THREADS_MAX would cost more than it
		 * saves); a repeat of the head ends it at once. */
		for (uint64_t head = ts; ts; steps++) {
			if (steps >= PY_THREADS_MAX || n == max || !ptr_ok(ts) ||
			    (steps && ts == head)) {
				st->lists_cut++;
				break;
			}
			if (m->read(m->ctx, ts, buf, l->tstate_span)) {
				st->lists_cut++;
				break;
			}
			out[n].addr = ts;
			out[n].tid = u64_at(buf, l->tstate_native_thread_id);
			n++;
			ts = u64_at(buf, l->tstate_next);
		}
		if (read_ptr(m, interp + l->interp_next, &interp)) {
			st->lists_cut++;
			break;
		}
	}
	return n;
}

static int cmp_tid(const void *a, const void *b)
{
	const struct py_tstate *x = a, *y = b;

	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

/* Lists the thread states again.  0 or -errno (the old list kept). */
static int relist(struct py_tstates *c, const struct py_mem *m, const struct py_layout *l,
		  uint64_t runtime, uint64_t now_ns, struct py_walk_stats *st)
{
	struct py_tstate *all = malloc(PY_THREADS_MAX * sizeof(*all)), *kept;
	uint64_t head;
	int n, err;

	if (!all)
		return -ENOMEM;
	err = py_threads_head(m, l, runtime, &head);
	n = err ? err : py_list_threads(m, l, runtime, all, PY_THREADS_MAX, st);
	if (n < 0) {
		free(all);
		return n;
	}
	qsort(all, (size_t)n, sizeof(*all), cmp_tid);
	kept = realloc(all, (size_t)(n ? n : 1) * sizeof(*all));
	free(c->threads);
	c->threads = kept ? kept : all;
	c->n = n;
	c->head = head;
	c->listed_ns = now_ns;
	c->listed = true;
	return 0;
}

static const struct py_tstate *find_tid(const struct py_tstates *c, uint64_t tid)
{
	struct py_tstate key = { .tid = tid };

	if (!c->n)
		return NULL;
	return bsearch(&key, c->threads, (size_t)c->n, sizeof(key), cmp_tid);
}

int py_tstates_lookup(struct py_tstates *c, const struct py_mem *m, const struct py_layout *l,
		      uint64_t runtime, uint64_t tid, uint64_t now_ns, uint64_t *addr,
		      struct py_walk_stats *st)
{
	const struct py_tstate *t = find_tid(c, tid);
	uint64_t head, seen_tid;
	int err;

	if (t && !py_tstate_tid(m, l, t->addr, &seen_tid) && seen_tid == tid) {
		*addr = t->addr;
		return 0;
	}
	if (!t && c->listed) {
		err = py_threads_head(m, l, runtime, &head);
		if (err)
			return err;
		if (head == c->head)
			return 1;
	}
	/* A failed listing is not timed: it fails within a few reads.  A
	 * clock that went back (now_ns < listed_ns) allows one. */
	if (c->listed && now_ns - c->listed_ns < PY_RELIST_INTERVAL_NS) {
		st->relists_skipped++;
		return 1;
	}
	err = relist(c, m, l, runtime, now_ns, st);
	if (err)
		return err;
	t = find_tid(c, tid);
	if (!t)
		return 1;
	*addr = t->addr;
	return 0;
}

void py_tstates_free(struct py_tstates *c)
{
	free(c->threads);
	*c = (struct py_tstates){ 0 };
}

/* Appends the UTF-8 of code point c to buf[*pos..len-1); false: no room. */
static bool put_utf8(char *buf, size_t len, size_t *pos, uint32_t c)
{
	char tmp[4];
	size_t k;

	if (c >= 0xd800 && c <= 0xdfff)
		c = 0xfffd; /* a lone surrogate: not encodable */
	if (c < 0x80) {
		tmp[0] = (char)c;
		k = 1;
	} else if (c < 0x800) {
		tmp[0] = (char)(0xc0 | c >> 6);
		tmp[1] = (char)(0x80 | (c & 0x3f));
		k = 2;
	} else if (c < 0x10000) {
		tmp[0] = (char)(0xe0 | c >> 12);
		tmp[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		tmp[2] = (char)(0x80 | (c & 0x3f));
		k = 3;
	} else {
		tmp[0] = (char)(0xf0 | c >> 18);
		tmp[1] = (char)(0x80 | ((c >> 12) & 0x3f));
		tmp[2] = (char)(0x80 | ((c >> 6) & 0x3f));
		tmp[3] = (char)(0x80 | (c & 0x3f));
		k = 4;
	}
	if (*pos + k >= len)
		return false;
	memcpy(buf + *pos, tmp, k);
	*pos += k;
	return true;
}

int py_read_str(const struct py_mem *m, const struct py_layout *l, uint64_t addr, char *buf,
		size_t len, bool *cut)
{
	uint8_t hdr[PY_SPAN_MAX];
	uint8_t data[4 * (LW_FILE_TEXT > LW_FUNC_TEXT ? LW_FILE_TEXT : LW_FUNC_TEXT)];
	uint32_t state, kind;
	int64_t length;
	size_t chars, pos = 0;
	int err;

	*cut = false;
	buf[0] = '\0';
	if (!len)
		return -EINVAL;
	if (!ptr_ok(addr))
		return -EINVAL;
	err = m->read(m->ctx, addr, hdr, l->str_ascii_size);
	if (err)
		return err;
	memcpy(&length, hdr + l->str_length, 8);
	memcpy(&state, hdr + l->str_state, 4);
	kind = (state >> 2) & 7;
	/* compact (bit 5): the data follows the object */
	if (length < 0 || !(state & (1u << 5)))
		return -EINVAL;
	if (state & (1u << 6)) { /* ascii */
		if (kind != 1)
			return -EINVAL;
		addr += l->str_ascii_size;
	} else {
		if (kind != 1 && kind != 2 && kind != 4)
			return -EINVAL;
		addr += l->str_compact_size;
	}
	/* Each character is one byte of UTF-8 at least: len - 1 are enough. */
	chars = (uint64_t)length < len - 1 ? (size_t)length : len - 1;
	if (chars > sizeof(data) / kind)
		chars = sizeof(data) / kind;
	if ((size_t)length > chars)
		*cut = true;
	if (chars) {
		err = m->read(m->ctx, addr, data, chars * kind);
		if (err)
			return err;
	}
	for (size_t i = 0; i < chars; i++) {
		uint32_t c;

		if (kind == 1) {
			c = data[i];
			if ((state & (1u << 6)) && c >= 0x80)
				return -EINVAL;
		} else if (kind == 2) {
			uint16_t u;

			memcpy(&u, data + 2 * i, 2);
			c = u;
		} else {
			memcpy(&c, data + 4 * i, 4);
			if (c > 0x10ffff)
				return -EINVAL;
		}
		/* A NUL is in no code or file name: garbage. */
		if (!c)
			return -EINVAL;
		if (!put_utf8(buf, len, &pos, c)) {
			*cut = true;
			break;
		}
	}
	buf[pos] = '\0';
	return 0;
}

/* The line of the instruction at byte offset addr (negative: before the
 * first) of the code whose co_linetable is the bytes object at table. */
static int code_line(const struct py_mem *m, const struct py_layout *l, uint64_t table,
		     int firstlineno, int64_t addr)
{
	uint8_t hdr[PY_SPAN_MAX];
	uint8_t *bytes;
	int64_t size;
	int line;

	if (!ptr_ok(table) || m->read(m->ctx, table, hdr, l->bytes_size + 8))
		return -EINVAL;
	memcpy(&size, hdr + l->bytes_size, 8);
	if (size <= 0 || size > PY_LINETABLE_MAX)
		return -EINVAL;
	bytes = malloc((size_t)size);
	if (!bytes)
		return -ENOMEM;
	line = -EINVAL;
	if (!m->read(m->ctx, table + l->bytes_data, bytes, (size_t)size))
		line = py_linetable_line(bytes, (size_t)size, firstlineno, addr);
	free(bytes);
	return line;
}

/* Frame f from the code object at code, the instruction at instr. */
static int read_code(const struct py_mem *m, const struct py_layout *l, uint64_t code,
		     uint64_t instr, struct lw_frame *f, struct py_walk_stats *st)
{
	uint8_t buf[PY_SPAN_MAX];
	uint64_t first = code + l->code_adaptive;
	int64_t addr;
	int firstlineno, line, err;
	bool cut;

	if (!ptr_ok(code))
		return -EINVAL;
	err = m->read(m->ctx, code, buf, l->code_span);
	if (err)
		return err;
	memset(f, 0, sizeof(*f));
	f->kind = LW_FRAME_PYTHON;
	f->pc = code;
	err = py_read_str(m, l, u64_at(buf, l->code_qualname), f->func, sizeof(f->func), &cut);
	if (err)
		return err;
	st->strings_cut += cut;
	err = py_read_str(m, l, u64_at(buf, l->code_filename), f->file, sizeof(f->file), &cut);
	if (err)
		return err;
	st->strings_cut += cut;
	if (!f->func[0])
		return -EINVAL;
	firstlineno = i32_at(buf, l->code_firstlineno);
	/* The instruction: before the first code unit is "not started"
	 * (3.11, 3.12 point at the previous one); too far is garbage. */
	if (instr < first)
		addr = -2;
	else if (instr - first > PY_CODE_BYTES_MAX || ((instr - first) & 1))
		addr = -1;
	else
		addr = (int64_t)(instr - first);
	f->offset = addr >= 0 ? (uint64_t)addr : 0;
	line = addr == -1 ? -EINVAL
			  : code_line(m, l, u64_at(buf, l->code_linetable), firstlineno, addr);
	if (line > 0) {
		f->line = line;
	} else {
		f->line = 0;
		st->lines_unknown++;
	}
	return 0;
}

static int current_frame(const struct py_mem *m, const struct py_layout *l, uint64_t tstate,
			 uint64_t *frame)
{
	uint8_t buf[PY_SPAN_MAX];
	uint64_t cframe;
	int err;

	if (!ptr_ok(tstate))
		return -EINVAL;
	err = m->read(m->ctx, tstate, buf, l->tstate_span);
	if (err)
		return err;
	if (l->tstate_cframe == PY_NO_FIELD) {
		*frame = u64_at(buf, l->tstate_current_frame);
	} else {
		cframe = u64_at(buf, l->tstate_cframe);
		if (!cframe) {
			*frame = 0;
			return 0;
		}
		if (!ptr_ok(cframe))
			return -EINVAL;
		err = m->read(m->ctx, cframe + l->cframe_current_frame, frame, 8);
		if (err)
			return err;
	}
	return *frame == 0 || ptr_ok(*frame) ? 0 : -EINVAL;
}

int py_walk_frames(const struct py_mem *m, const struct py_layout *l, uint64_t tstate,
		   struct lw_frame *out, int max, struct py_walk_stats *st)
{
	/* Shim frames count as steps: a chain of them is capped too. */
	uint64_t visited[2 * PY_FRAMES_MAX];
	uint8_t buf[PY_SPAN_MAX];
	uint64_t frame;
	int n = 0, steps = 0, err;

	if (max > PY_FRAMES_MAX)
		max = PY_FRAMES_MAX;
	err = current_frame(m, l, tstate, &frame);
	if (err)
		return err;
	while (frame) {
		uint64_t code, instr, previous;
		uint8_t owner;
		bool entry = false;

		if (steps == (int)(sizeof(visited) / sizeof(visited[0])) || !ptr_ok(frame) ||
		    seen(visited, steps, frame)) {
			st->chains_cut++;
			break;
		}
		visited[steps++] = frame;
		err = m->read(m->ctx, frame, buf, l->frame_span);
		if (err) {
			if (!n)
				return err;
			st->chains_cut++;
			break;
		}
		code = u64_at(buf, l->frame_code);
		instr = u64_at(buf, l->frame_instr);
		previous = u64_at(buf, l->frame_previous);
		owner = buf[l->frame_owner];
		if (l->frame_is_entry != PY_NO_FIELD)
			entry = buf[l->frame_is_entry] != 0;
		if (l->frame_is_entry == PY_NO_FIELD && owner == PY_FRAME_OWNED_BY_CSTACK) {
			/* 3.12+: the eval loop's entry shim, not code: the
			 * frame below it is the one its C call started. */
			if (n)
				out[n - 1].py_entry = true;
			frame = previous;
			continue;
		}
		if (n == max) {
			st->chains_cut++;
			break;
		}
		err = read_code(m, l, code, instr, &out[n], st);
		if (err) {
			if (!n)
				return err;
			st->chains_cut++;
			break;
		}
		out[n].py_entry = entry;
		n++;
		frame = previous;
	}
	return n;
}

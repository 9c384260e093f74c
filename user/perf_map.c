// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/openat2.h>
#include "id_map.h"
#include "perf_map.h"

/* One kept line: its start and its name in the names arena. */
struct perf_map_entry {
	uint64_t start;
	uint32_t name;
};

/* [lo, hi) belongs to entry: what lookups search, sorted, disjoint. */
struct perf_map_seg {
	uint64_t lo, hi;
	uint32_t entry;
};

struct perf_map {
	struct perf_map_entry *entries;
	size_t n_entries;
	struct perf_map_seg *segs;
	size_t n_segs;
	char *names;
	size_t names_len;
	size_t bad_lines;
};

/* One file at the caps fits the budget: names are at most the text read,
 * segments at most 2 per entry (build_segs). */
_Static_assert((uint64_t)PERF_MAP_MAX_ENTRIES * (sizeof(struct perf_map_entry) +
						 2 * sizeof(struct perf_map_seg)) +
			       PERF_MAP_MAX_BYTES + sizeof(struct perf_map) <=
		       PERF_MAPS_BUDGET_BYTES,
	       "one perf map at the caps must fit PERF_MAPS_BUDGET_BYTES");

/* One line, fields found. */
struct perf_map_line {
	uint64_t start, end;
	const char *name;
	size_t name_len;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A hex number at *p (optional 0x), followed by a blank; false if none or
 * past 64 bits. */
static bool parse_hex(const char **p, const char *end, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	int d, digits = 0;

	if (end - s >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	for (; s < end && (d = hex_digit(*s)) >= 0; s++, digits++) {
		if (v >> 60)
			return false;
		v = v << 4 | (uint64_t)d;
	}
	if (!digits || s == end || !is_blank(*s))
		return false;
	*p = s;
	*out = v;
	return true;
}

/* "START SIZE NAME" in [s, end), the newline excluded. */
static bool parse_line(const char *s, const char *end, struct perf_map_line *l)
{
	uint64_t size;

	if (memchr(s, '\0', (size_t)(end - s)))
		return false;
	while (s < end && is_blank(*s))
		s++;
	if (!parse_hex(&s, end, &l->start))
		return false;
	while (s < end && is_blank(*s))
		s++;
	if (!parse_hex(&s, end, &size))
		return false;
	while (s < end && is_blank(*s))
		s++;
	while (end > s && (is_blank(end[-1]) || end[-1] == '\r'))
		end--;
	if (s == end || size == 0 || size > UINT64_MAX - l->start)
		return false;
	l->end = l->start + size;
	l->name = s;
	l->name_len = (size_t)(end - s);
	return true;
}

/* The end of the line at s (its newline, or end). */
static const char *line_end(const char *s, const char *end)
{
	const char *nl = memchr(s, '\n', (size_t)(end - s));

	return nl ? nl : end;
}

/* The start of the line ending at e (its newline, or end). */
static const char *line_start(const char *text, const char *e)
{
	const char *nl = memrchr(text, '\n', (size_t)(e - text));

	return nl ? nl + 1 : text;
}

/* The start of the line after the one ending at e. */
static const char *next_line(const char *e, const char *end)
{
	return e < end ? e + 1 : end;
}

static bool is_utf8_continuation(char c)
{
	return ((unsigned char)c & 0xc0) == 0x80;
}

/* Bytes of a name kept: at most max, not ending inside a UTF-8 sequence
 * (invalid UTF-8 is cut where it is). */
static size_t name_cut(const char *name, size_t len, size_t max)
{
	size_t n = max;
	int back;

	if (len <= n)
		return len;
	for (back = 0; back < 3 && n > 0 && is_utf8_continuation(name[n]); back++)
		n--;
	return is_utf8_continuation(name[n]) ? max : n;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Entries by start (their index: the later line, for ties). */
struct by_start {
	uint64_t start, end;
	uint32_t entry;
};

static int cmp_by_start(const void *a, const void *b)
{
	const struct by_start *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->entry < y->entry ? -1 : x->entry > y->entry;
}

/* A max-heap of entry indexes: the latest line on top. */
static void heap_push(uint32_t *heap, size_t *n, uint32_t v)
{
	size_t i = (*n)++;

	while (i > 0 && heap[(i - 1) / 2] < v) {
		heap[i] = heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	heap[i] = v;
}

static void heap_pop(uint32_t *heap, size_t *n)
{
	uint32_t v = heap[--(*n)];
	size_t i = 0, c;

	while ((c = 2 * i + 1) < *n) {
		if (c + 1 < *n && heap[c + 1] > heap[c])
			c++;
		if (heap[c] <= v)
			break;
		heap[i] = heap[c];
		i = c;
	}
	if (*n)
		heap[i] = v;
}

/*
 * The disjoint segments of the entries, where the later line wins: a sweep
 * over every start and end, the entries covering the current point in a heap
 * by line (ended ones dropped when they come to the top).
 */
static int build_segs(struct perf_map *m, const uint64_t *ends)
{
	size_t n = m->n_entries, n_points = 0, next = 0, heap_n = 0, i;
	struct by_start *order = NULL;
	uint64_t *points = NULL;
	uint32_t *heap = NULL;
	int err = -ENOMEM;

	if (!n)
		return 0;
	order = malloc(n * sizeof(*order));
	points = malloc(2 * n * sizeof(*points));
	heap = malloc(n * sizeof(*heap));
	m->segs = malloc((2 * n - 1) * sizeof(*m->segs));
	if (!order || !points || !heap || !m->segs)
		goto cleanup;
	for (i = 0; i < n; i++) {
		order[i] = (struct by_start){ m->entries[i].start, ends[i], (uint32_t)i };
		points[n_points++] = m->entries[i].start;
		points[n_points++] = ends[i];
	}
	qsort(order, n, sizeof(*order), cmp_by_start);
	qsort(points, n_points, sizeof(*points), cmp_u64);
	for (i = 0; i + 1 < n_points; i++) {
		uint64_t x = points[i], y = points[i + 1];
		struct perf_map_seg *last;
		uint32_t top;

		if (x == y)
			continue;
		while (next < n && order[next].start <= x)
			heap_push(heap, &heap_n, order[next++].entry);
		while (heap_n && ends[heap[0]] <= x)
			heap_pop(heap, &heap_n);
		if (!heap_n)
			continue;
		top = heap[0];
		last = m->n_segs ? &m->segs[m->n_segs - 1] : NULL;
		if (last && last->entry == top && last->hi == x)
			last->hi = y;
		else
			m->segs[m->n_segs++] = (struct perf_map_seg){ x, y, top };
	}
	err = 0;
cleanup:
	free(order);
	free(points);
	free(heap);
	return err;
}

int perf_map_parse(const char *text, size_t len, struct perf_map **out)
{
	const char *end = len ? text + len : text, *from = text, *s, *e;
	size_t valid = 0, names_len = 0, names_cap = 0;
	struct perf_map_line l;
	struct perf_map *m;
	uint64_t *ends = NULL;
	int err = -ENOMEM;

	*out = NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	/*
	 * Lines past PERF_MAP_MAX_ENTRIES: the earliest are the ones dropped,
	 * as later lines win anyway.  Walked back from the end, so that the
	 * lines before the kept ones are only counted, not parsed: each is
	 * lost either way (skipped or malformed).
	 */
	for (e = end; e > text; e = s - 1) {
		s = line_start(text, e);
		if (parse_line(s, e, &l) && ++valid == PERF_MAP_MAX_ENTRIES) {
			from = s;
			break;
		}
		if (s == text)
			break;
	}
	/* An empty line holds nothing to lose. */
	for (s = text; s < from; s = next_line(e, from)) {
		e = line_end(s, from);
		if (e > s)
			m->bad_lines++;
	}
	if (valid) {
		m->entries = malloc(valid * sizeof(*m->entries));
		ends = malloc(valid * sizeof(*ends));
		if (!m->entries || !ends)
			goto cleanup;
	}
	for (s = from; s < end; s = next_line(e, end)) {
		size_t keep;

		e = line_end(s, end);
		if (!parse_line(s, e, &l)) {
			if (e > s)
				m->bad_lines++;
			continue;
		}
		keep = name_cut(l.name, l.name_len, PERF_MAP_NAME_MAX);
		if (names_cap - names_len < keep + 1) {
			size_t cap = names_cap ? names_cap : 4096;
			char *p;

			while (cap - names_len < keep + 1)
				cap *= 2;
			p = realloc(m->names, cap);
			if (!p)
				goto cleanup;
			m->names = p;
			names_cap = cap;
		}
		memcpy(m->names + names_len, l.name, keep);
		m->names[names_len + keep] = '\0';
		m->entries[m->n_entries] = (struct perf_map_entry){ l.start, (uint32_t)names_len };
		ends[m->n_entries++] = l.end;
		names_len += keep + 1;
	}
	err = build_segs(m, ends);
	if (err)
		goto cleanup;
	/* Held as long as the file is unchanged: no slack (the names arena
	 * grew by doubling, segments were sized for the worst case). */
	if (names_len && names_len < names_cap) {
		char *p = realloc(m->names, names_len);

		if (p)
			m->names = p;
	}
	m->names_len = names_len;
	if (m->n_segs && m->n_segs < 2 * m->n_entries - 1) {
		struct perf_map_seg *p = realloc(m->segs, m->n_segs * sizeof(*m->segs));

		if (p)
			m->segs = p;
	}
cleanup:
	free(ends);
	if (err) {
		perf_map_free(m);
		return err;
	}
	*out = m;
	return 0;
}

void perf_map_free(struct perf_map *m)
{
	if (!m)
		return;
	free(m->entries);
	free(m->segs);
	free(m->names);
	free(m);
}

size_t perf_map_entries(const struct perf_map *m)
{
	return m->n_entries;
}

size_t perf_map_bad_lines(const struct perf_map *m)
{
	return m->bad_lines;
}

size_t perf_map_bytes(const struct perf_map *m)
{
	if (!m)
		return 0;
	return sizeof(*m) + m->n_entries * sizeof(*m->entries) + m->n_segs * sizeof(*m->segs) +
	       m->names_len;
}

bool perf_map_lookup(const struct perf_map *m, uint64_t addr, const char **name,
		     uint64_t *start)
{
	size_t lo = 0, hi = m->n_segs;
	const struct perf_map_seg *seg;
	const struct perf_map_entry *e;

	/* The last segment with lo <= addr. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->segs[mid].lo <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return false;
	seg = &m->segs[lo - 1];
	if (addr >= seg->hi)
		return false;
	e = &m->entries[seg->entry];
	*name = m->names + e->name;
	*start = e->start;
	return true;
}

/* What a look at a process's file found: the file (dev, inode, size,
 * mtime), or the error opening it. */
struct file_seen {
	uint64_t dev, ino, size;
	int64_t mtime_sec, mtime_nsec;
	int err;
};

struct proc_perf_map {
	uint64_t next_look_ns;
	struct file_seen seen;
	struct perf_map *map; /* NULL: no file, unreadable, or over budget */
	uint32_t nspid;
	bool over_budget;     /* seen read but not kept: not read again until it changes */
};

struct perf_maps {
	/* "/proc"; tests stand a directory in for it. */
	char proc_dir[256];
	struct id_map procs; /* pid -> struct proc_perf_map */
	struct perf_maps_stats stats;
	size_t budget;       /* PERF_MAPS_BUDGET_BYTES; tests set less */
	size_t held;         /* perf_map_bytes of every map kept */
};

#define LOOK_INTERVAL_NS 1000000000ull
/* Lines of /proc/PID/status read looking for NSpid (it is the 14th). */
#define STATUS_MAX_LINES 64

/* Tests: proc_dir in place of /proc, and a budget of their own. */
int perf_maps_new_at(const char *proc_dir, struct perf_maps **out);
int perf_maps_new_budget_at(const char *proc_dir, size_t budget, struct perf_maps **out);

int perf_maps_new_budget_at(const char *proc_dir, size_t budget, struct perf_maps **out)
{
	struct perf_maps *pm = calloc(1, sizeof(*pm));

	*out = NULL;
	if (!pm)
		return -ENOMEM;
	pm->budget = budget;
	if (snprintf(pm->proc_dir, sizeof(pm->proc_dir), "%s", proc_dir) >=
	    (int)sizeof(pm->proc_dir)) {
		free(pm);
		return -ENAMETOOLONG;
	}
	id_map_init(&pm->procs);
	*out = pm;
	return 0;
}

int perf_maps_new_at(const char *proc_dir, struct perf_maps **out)
{
	return perf_maps_new_budget_at(proc_dir, PERF_MAPS_BUDGET_BYTES, out);
}

int perf_maps_new(struct perf_maps **out)
{
	return perf_maps_new_at("/proc", out);
}

static void proc_free(struct proc_perf_map *p)
{
	perf_map_free(p->map);
	free(p);
}

void perf_maps_free(struct perf_maps *pm)
{
	size_t i = 0;
	uint32_t key;
	void *value;

	if (!pm)
		return;
	while (id_map_next(&pm->procs, &i, &key, &value))
		proc_free(value);
	id_map_free(&pm->procs);
	free(pm);
}

void perf_maps_forget(struct perf_maps *pm, uint32_t pid)
{
	struct proc_perf_map *p = id_map_del(&pm->procs, pid);

	if (p) {
		pm->held -= perf_map_bytes(p->map);
		proc_free(p);
	}
}

void perf_maps_get_stats(const struct perf_maps *pm, struct perf_maps_stats *out)
{
	*out = pm->stats;
}

/* The pid of pid in its own pid namespace: the last field of NSpid in
 * /proc/PID/status; pid itself on kernels without NSpid. */
static int read_nspid(const struct perf_maps *pm, uint32_t pid, uint32_t *nspid)
{
	char path[PATH_MAX];
	char *line = NULL, *s, *last = NULL;
	size_t cap = 0;
	int i, err = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%u/status", pm->proc_dir, pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	*nspid = pid;
	for (i = 0; i < STATUS_MAX_LINES && getline(&line, &cap, f) > 0; i++) {
		if (strncmp(line, "NSpid:", 6))
			continue;
		for (s = line + 6; *s; s++)
			if (*s >= '0' && *s <= '9' && (s[-1] == ' ' || s[-1] == '\t' || s[-1] == ':'))
				last = s;
		if (last) {
			unsigned long v;
			char *end;

			errno = 0;
			v = strtoul(last, &end, 10);
			if (errno || v == 0 || v > UINT32_MAX || (*end && *end != '\n'))
				err = -EINVAL;
			else
				*nspid = (uint32_t)v;
		} else {
			err = -EINVAL;
		}
		break;
	}
	free(line);
	fclose(f);
	return err;
}

/*
 * The file as the process sees it: tmp/perf-NSPID.map under its root, every
 * symlink on the way resolved inside that root (a container's /tmp -> /x
 * names its own /x, not the host's), the file itself no symlink, not
 * waiting on a FIFO.  Without openat2 (kernels before 5.6, valgrind) no
 * symlink is followed at all: a /tmp that is one is not looked into.
 */
static int open_map_file(const struct perf_maps *pm, uint32_t pid, uint32_t nspid)
{
	struct open_how how = {
		.flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	char path[PATH_MAX], name[64];
	int root, tmp, fd;

	snprintf(path, sizeof(path), "%s/%u/root", pm->proc_dir, pid);
	root = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return -errno;
	snprintf(name, sizeof(name), "tmp/perf-%u.map", nspid);
	fd = (int)syscall(SYS_openat2, root, name, &how, sizeof(how));
	if (fd < 0 && errno == ENOSYS) {
		tmp = openat(root, "tmp", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		fd = tmp < 0 ? -1 : openat(tmp, name + 4, (int)how.flags);
		if (tmp >= 0) {
			int saved = errno;

			close(tmp);
			errno = saved;
		}
	}
	fd = fd < 0 ? -errno : fd;
	close(root);
	return fd;
}

/* Up to want bytes at off; fewer if the file shrank. */
static ssize_t read_at(int fd, char *buf, size_t want, off_t off)
{
	size_t got = 0;

	while (got < want) {
		ssize_t n = pread(fd, buf + got, want - got, off + (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/*
 * The file's lines, complete ones only: a last line without its newline is
 * still being written and is read when the file changes.  A file past
 * PERF_MAP_MAX_BYTES is read from its end, where the later (winning) lines
 * are.
 */
static int read_map(struct perf_maps *pm, int fd, uint64_t size, struct perf_map **out)
{
	size_t want = size > PERF_MAP_MAX_BYTES ? PERF_MAP_MAX_BYTES : (size_t)size;
	off_t off = (off_t)(size - want);
	const char *text, *nl;
	char *buf;
	ssize_t got;
	size_t len;
	int err;

	buf = malloc(want ? want : 1);
	if (!buf)
		return -ENOMEM;
	got = read_at(fd, buf, want, off);
	if (got < 0) {
		err = (int)got;
		goto cleanup;
	}
	text = buf;
	len = (size_t)got;
	if (off > 0) {
		pm->stats.files_cut++;
		nl = memchr(text, '\n', len);
		len = nl ? len - (size_t)(nl + 1 - text) : 0;
		text = nl ? nl + 1 : text;
	}
	nl = len ? memrchr(text, '\n', len) : NULL;
	len = nl ? (size_t)(nl + 1 - text) : 0;
	err = perf_map_parse(text, len, out);
cleanup:
	free(buf);
	return err;
}

static bool same_seen(const struct file_seen *a, const struct file_seen *b)
{
	return a->err == b->err && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime_sec == b->mtime_sec && a->mtime_nsec == b->mtime_nsec;
}

/* Looks at the file again: re-reads it if it changed, drops the map if it
 * is gone.  A file there but unreadable counts once, not at every look. */
static void refresh(struct perf_maps *pm, uint32_t pid, struct proc_perf_map *p)
{
	struct file_seen seen = { 0 };
	struct perf_map *map = NULL;
	bool over_budget = false;
	struct stat st;
	int fd = -1, err;

	err = read_nspid(pm, pid, &p->nspid);
	if (err) {
		seen.err = err;
		goto done;
	}
	fd = open_map_file(pm, pid, p->nspid);
	if (fd < 0) {
		seen.err = fd;
		goto done;
	}
	if (fstat(fd, &st)) {
		seen.err = -errno;
		goto done;
	}
	seen = (struct file_seen){ (uint64_t)st.st_dev, (uint64_t)st.st_ino, (uint64_t)st.st_size,
				   st.st_mtim.tv_sec, st.st_mtim.tv_nsec, 0 };
	if (!S_ISREG(st.st_mode)) {
		seen.err = -EINVAL;
		goto done;
	}
	if ((p->map || p->over_budget) && same_seen(&seen, &p->seen)) {
		close(fd);
		return;
	}
	err = read_map(pm, fd, seen.size, &map);
	if (err) {
		seen.err = err;
		goto done;
	}
	pm->stats.files_read++;
	pm->stats.lines_bad += perf_map_bad_lines(map);
	/* The map it replaces goes back to the budget. */
	if (pm->held - perf_map_bytes(p->map) + perf_map_bytes(map) > pm->budget) {
		pm->stats.over_budget++;
		perf_map_free(map);
		map = NULL;
		over_budget = true;
	}
done:
	if (fd >= 0)
		close(fd);
	/* No file (or no process, or no root to look in): nothing lost. */
	if (seen.err && seen.err != -ENOENT && !same_seen(&seen, &p->seen))
		pm->stats.read_errors++;
	pm->held -= perf_map_bytes(p->map);
	perf_map_free(p->map);
	pm->held += perf_map_bytes(map);
	p->map = map;
	p->over_budget = over_budget;
	p->seen = seen;
}

bool perf_maps_lookup(struct perf_maps *pm, uint32_t pid, uint64_t pc, uint64_t now_ns,
		      char *name, size_t len, uint64_t *start, char *module, size_t module_len)
{
	struct proc_perf_map *p = id_map_get(&pm->procs, pid);
	const char *found;

	if (!p) {
		p = calloc(1, sizeof(*p));
		if (!p)
			return false;
		if (id_map_put(&pm->procs, pid, p)) {
			free(p);
			return false;
		}
		p->seen.err = -ENOENT;
		refresh(pm, pid, p);
		p->next_look_ns = now_ns + LOOK_INTERVAL_NS;
	} else if (now_ns >= p->next_look_ns) {
		refresh(pm, pid, p);
		p->next_look_ns = now_ns + LOOK_INTERVAL_NS;
	}
	if (!p->map || !perf_map_lookup(p->map, pc, &found, start))
		return false;
	if (len) {
		size_t n = name_cut(found, strlen(found), len - 1);

		memcpy(name, found, n);
		name[n] = '\0';
	}
	if (module && module_len)
		snprintf(module, module_len, "perf-%u.map", p->nspid);
	return true;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Python stacks of live CPython processes (py_frames.h): finds the
 * interpreter in /proc/PID/maps (the python binary or libpython3.X.so, its
 * _PyRuntime and Py_Version symbols, read with libelf through
 * /proc/PID/map_files or /proc/PID/root), picks the layout by Py_Version
 * and walks the structures with process_vm_readv (py_walk.c).  Per
 * process, kept until py_procs_forget: the layout or why there is none,
 * and the thread states by tid (py_tstates_lookup).
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include "id_map.h"
#include "map_file.h"
#include "procfs.h"
#include "py_frames.h"
#include "py_walk.h"

/* Lines of /proc/PID/maps read, at most; ELF files tried, at most. */
#define PY_MAPS_LINES_MAX 65536
#define PY_CANDIDATES_MAX 8
#define PY_ERROR_TEXT 160

enum py_proc_state {
	PY_NOT_PYTHON,
	PY_UNSUPPORTED,
	PY_READY,
};

struct py_proc {
	uint32_t pid;
	enum py_proc_state state;
	char error[PY_ERROR_TEXT];  /* "python VERSION (FILE): REASON" */
	char version[32];           /* "3.12.1" */
	const char *layout;         /* "table 3.12", "_Py_DebugOffsets" */
	const char *reason;         /* why unsupported: static text */
	uint64_t runtime; /* _PyRuntime's address */
	struct py_layout pyl;
	struct py_tstates threads; /* by tid, relisted at most once a second */
	bool pidns_known, other_pidns; /* in a pid namespace not ours: its tids are others */
};

struct py_procs {
	struct id_map procs;
	struct py_stats stats;
	struct py_walk_stats walk;
};

static int read_remote(void *ctx, uint64_t addr, void *buf, size_t len)
{
	uint32_t pid = *(const uint32_t *)ctx;
	struct iovec local = { .iov_base = buf, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)addr, .iov_len = len };
	ssize_t got;

	if (!len)
		return 0;
	got = process_vm_readv((pid_t)pid, &local, 1, &remote, 1, 0);
	if (got < 0)
		return -errno;
	return (size_t)got == len ? 0 : -EFAULT;
}

int py_procs_new(struct py_procs **out)
{
	struct py_procs *pp = calloc(1, sizeof(*pp));

	if (!pp)
		return -ENOMEM;
	id_map_init(&pp->procs);
	elf_version(EV_CURRENT);
	*out = pp;
	return 0;
}

static void proc_free(struct py_proc *p)
{
	if (!p)
		return;
	py_tstates_free(&p->threads);
	free(p);
}

void py_procs_free(struct py_procs *pp)
{
	size_t pos = 0;
	uint32_t key;
	void *val;

	if (!pp)
		return;
	while (id_map_next(&pp->procs, &pos, &key, &val))
		proc_free(val);
	id_map_free(&pp->procs);
	free(pp);
}

void py_procs_forget(struct py_procs *pp, uint32_t pid)
{
	if (pp)
		proc_free(id_map_del(&pp->procs, pid));
}

void py_procs_get_stats(const struct py_procs *pp, struct py_stats *out)
{
	*out = pp->stats;
	out->chains_cut = pp->walk.chains_cut;
	out->relists_skipped = pp->walk.relists_skipped;
}

const char *py_proc_error(const struct py_procs *pp, uint32_t pid)
{
	const struct py_proc *p = id_map_get(&pp->procs, pid);

	return p && p->state == PY_UNSUPPORTED ? p->error : NULL;
}

bool py_proc_info(const struct py_procs *pp, uint32_t pid, const char **version,
		  const char **layout, const char **error)
{
	const struct py_proc *p = id_map_get(&pp->procs, pid);

	if (!p || p->state == PY_NOT_PYTHON)
		return false;
	*version = p->version;
	*layout = p->state == PY_READY ? p->layout : NULL;
	*error = p->state == PY_UNSUPPORTED ? p->reason : NULL;
	return true;
}

/* A file the interpreter may be in: "python*" or "libpython3*". */
static bool python_file(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	return !strncmp(base, "python", 6) || !strncmp(base, "libpython", 9);
}

/* "3.10" from a file name such as "libpython3.10.so.1.0" ("" if none). */
static void version_from_name(const char *path, char *buf, size_t len)
{
	const char *p = strstr(path, "python3.");
	int minor;

	buf[0] = '\0';
	if (p && sscanf(p + 8, "%d", &minor) == 1 && minor >= 0 && minor < 1000)
		snprintf(buf, len, "3.%d", minor);
}

struct candidate {
	uint64_t start, end; /* the mapping of file offset 0 */
	uint64_t ino;
	char path[256];
};

/* Python files mapped at offset 0 in pid, at most max.  The count or -errno. */
static int find_candidates(uint32_t pid, struct candidate *out, int max)
{
	char name[64], line[512];
	FILE *f;
	int n = 0;

	snprintf(name, sizeof(name), "/proc/%" PRIu32 "/maps", pid);
	f = fopen(name, "re");
	if (!f)
		return -errno;
	for (int lines = 0; lines < PY_MAPS_LINES_MAX && n < max && fgets(line, sizeof(line), f);
	     lines++) {
		uint64_t start, end, off, ino;
		const char *path;
		bool dup = false;

		/* A path too long for the line is not ours. */
		if (!map_file_parse_line(line, &start, &end, &off, &ino, &path) || off || !path)
			continue;
		if (path[0] != '/' || strlen(path) >= sizeof(out[n].path) || !python_file(path))
			continue;
		for (int i = 0; i < n; i++)
			dup |= !strcmp(out[i].path, path);
		if (dup)
			continue;
		out[n].start = start;
		out[n].end = end;
		out[n].ino = ino;
		snprintf(out[n].path, sizeof(out[n].path), "%s", path);
		n++;
	}
	fclose(f);
	return n;
}

struct py_syms {
	uint64_t runtime;  /* symbol values, 0 if absent */
	uint64_t version;
	uint64_t load_vaddr; /* p_vaddr of the PT_LOAD at file offset 0, page-aligned */
	bool have_load;
};

static void scan_symtab(Elf *e, Elf_Scn *scn, const GElf_Shdr *sh, struct py_syms *s)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t count;

	if (!data || !sh->sh_entsize)
		return;
	count = sh->sh_size / sh->sh_entsize;
	for (size_t i = 0; i < count; i++) {
		GElf_Sym sym;
		const char *name;

		if (!gelf_getsym(data, (int)i, &sym) || !sym.st_value ||
		    GELF_ST_TYPE(sym.st_info) != STT_OBJECT)
			continue;
		name = elf_strptr(e, sh->sh_link, sym.st_name);
		if (!name)
			continue;
		if (!s->runtime && !strcmp(name, "_PyRuntime"))
			s->runtime = sym.st_value;
		else if (!s->version && !strcmp(name, "Py_Version"))
			s->version = sym.st_value;
	}
}

static int read_syms(int fd, struct py_syms *s)
{
	Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	Elf_Scn *scn = NULL;
	size_t phnum;
	int err = 0;

	memset(s, 0, sizeof(*s));
	if (!e)
		return -EINVAL;
	if (elf_kind(e) != ELF_K_ELF || gelf_getclass(e) != ELFCLASS64 ||
	    elf_getphdrnum(e, &phnum)) {
		err = -EINVAL;
		goto cleanup;
	}
	for (size_t i = 0; i < phnum && i < 4096; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_LOAD && ph.p_offset == 0) {
			s->load_vaddr = ph.p_vaddr & ~0xfffull;
			s->have_load = true;
			break;
		}
	}
	/* .dynsym first: Debian strips .symtab, pyenv keeps both. */
	for (int pass = 0; pass < 2 && !(s->runtime && s->version); pass++) {
		while ((scn = elf_nextscn(e, scn))) {
			GElf_Shdr sh;

			if (gelf_getshdr(scn, &sh) &&
			    sh.sh_type == (pass ? SHT_SYMTAB : SHT_DYNSYM))
				scan_symtab(e, scn, &sh, s);
		}
	}
cleanup:
	elf_end(e);
	return err;
}

static int open_mapped(uint32_t pid, const struct candidate *c)
{
	struct map_file_ref r = { .tid = pid, .start = c->start, .end = c->end, .ino = c->ino,
				  .name = c->path };
	char name[PATH_MAX + 64];

	/* The path is the target's to plant a FIFO at: never block on it. */
	return procfs_open_mapped(&r, name, sizeof(name), NULL);
}

/* reason: static text. */
static void unsupported(struct py_procs *pp, struct py_proc *p, const char *path,
			const char *reason)
{
	p->state = PY_UNSUPPORTED;
	p->reason = reason;
	snprintf(p->error, sizeof(p->error), "python %s (%s): %s", p->version[0] ? p->version : "?",
		 path, reason);
	pp->stats.unsupported++;
}

/* The interpreter of p->pid: its state, layout and runtime address. */
static void find_interpreter(struct py_procs *pp, struct py_proc *p)
{
	struct candidate cands[PY_CANDIDATES_MAX];
	struct py_mem m = { .read = read_remote, .ctx = &p->pid };
	int n = find_candidates(p->pid, cands, PY_CANDIDATES_MAX);

	p->state = PY_NOT_PYTHON;
	for (int i = 0; i < n; i++) {
		struct py_syms s;
		uint8_t offsets[PY_DEBUG_OFFSETS_SPAN];
		uint64_t bias;
		uint32_t version;
		int fd = open_mapped(p->pid, &cands[i]), err;

		if (fd < 0)
			continue;
		err = read_syms(fd, &s);
		close(fd);
		if (err || !s.runtime || !s.have_load)
			continue;
		if (!s.version) {
			/* Py_Version came with 3.11. */
			version_from_name(cands[i].path, p->version, sizeof(p->version));
			unsupported(pp, p, cands[i].path, "before 3.11, not supported");
			return;
		}
		bias = cands[i].start - s.load_vaddr;
		if (m.read(m.ctx, bias + s.version, &version, 4)) {
			unsupported(pp, p, cands[i].path, "Py_Version unreadable");
			return;
		}
		snprintf(p->version, sizeof(p->version), "%u.%u.%u", version >> 24,
			 (version >> 16) & 0xff, (version >> 8) & 0xff);
		p->runtime = bias + s.runtime;
		if (version >> 24 != 3 || ((version >> 16) & 0xff) < 11) {
			unsupported(pp, p, cands[i].path, "before 3.11, not supported");
			return;
		}
		if (((version >> 16) & 0xff) <= 12) {
			err = py_layout_for_version(version, &p->pyl);
			p->layout = ((version >> 16) & 0xff) == 11 ? "table 3.11" : "table 3.12";
		} else {
			err = m.read(m.ctx, p->runtime, offsets, sizeof(offsets));
			if (!err)
				err = py_layout_from_debug_offsets(offsets, sizeof(offsets),
								   version, &p->pyl);
			p->layout = "_Py_DebugOffsets";
		}
		if (err == -ENOTSUP) {
			unsupported(pp, p, cands[i].path, "layout not known here, not supported");
			return;
		}
		if (err) {
			unsupported(pp, p, cands[i].path, "_Py_DebugOffsets unreadable or invalid");
			return;
		}
		p->state = PY_READY;
		pp->stats.processes++;
		return;
	}
}

int py_thread_frames(struct py_procs *pp, uint32_t pid, uint32_t tid, struct lw_frame *out,
		     int max)
{
	struct py_proc *p = id_map_get(&pp->procs, pid);
	struct timespec now;
	struct py_mem m;
	uint64_t tstate;
	int n, err;

	if (!p) {
		p = calloc(1, sizeof(*p));
		if (!p)
			return -ENOMEM;
		p->pid = pid;
		err = id_map_put(&pp->procs, pid, p);
		if (err) {
			free(p);
			return err;
		}
		find_interpreter(pp, p);
	}
	if (p->state == PY_NOT_PYTHON)
		return 0;
	if (p->state == PY_UNSUPPORTED)
		return -ENOTSUP;
	/* Thread states hold the tid the process sees: in a pid namespace of
	 * its own, not ours. */
	if (!p->pidns_known) {
		uint32_t ns_pid;

		p->other_pidns = !procfs_ns_tid_of(pid, pid, &ns_pid) && ns_pid != pid;
		p->pidns_known = true;
	}
	if (p->other_pidns) {
		err = procfs_ns_tid_of(pid, tid, &tid);
		if (err) {
			pp->stats.read_errors++;
			return err;
		}
	}
	m.read = read_remote;
	m.ctx = &p->pid;
	/* The clock is read here so the lookup stays pure (testable). */
	clock_gettime(CLOCK_MONOTONIC, &now);
	err = py_tstates_lookup(&p->threads, &m, &p->pyl, p->runtime, tid,
				(uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec,
				&tstate, &pp->walk);
	if (err == 1)
		return 0;
	n = err ? err : py_walk_frames(&m, &p->pyl, tstate, out, max, &pp->walk);
	if (n < 0) {
		pp->stats.read_errors++;
		return n;
	}
	pp->stats.threads_read++;
	pp->stats.frames_read += (uint64_t)n;
	return n;
}

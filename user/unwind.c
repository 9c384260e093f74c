// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <elfutils/libdwfl.h>
#include "clock.h"
#include "debuginfo.h"
#include "id_map.h"
#include "map_file.h"
#include "perf_map.h"
#include "procfs.h"
#include "symbolize.h"
#include "symcache.h"
#include "unwind.h"

/* Stack read in one go from sp; deeper reads go word by word. */
#define STACK_CHUNK (64 * 1024)

/* What libdwfl's callbacks need for the thread being unwound.  Its memory
 * and files are reached through tid, not pid: a leader that called
 * pthread_exit is a zombie with no memory, maps or root of its own. */
struct target {
	uint32_t pid, tid;
	const __u64 *regs;
	uint64_t stack_lo;      /* copy of [stack_lo, stack_lo + stack_len) */
	size_t stack_len;
	unsigned char *stack;
};

/* Bytes the cache gives each entry on average (unwind.h: about 1 KiB). */
#define SYMCACHE_BYTES_PER_ENTRY 1024

/* Where separate debuginfo is looked for: libdwfl's default (the binary's
 * directory, its .debug/, /usr/lib/debug), then the process's own root's
 * /usr/lib/debug, for a container's binaries.  Build-id lookups try every
 * absolute entry: DIR/.build-id/xx/yyyy.debug. */
#define DEBUGINFO_PATH_HOST ":.debug:/usr/lib/debug"
#define DEBUGINFO_PATH_MAX (sizeof(DEBUGINFO_PATH_HOST) + 64)

/* The file of a module as find_elf opened it (the module's userdata): with
 * its build-id, what the cache knows it by. */
struct module_file {
	bool stat_known;
	uint64_t dev, ino, mtime_ns;
};

struct proc_dwfl {
	Dwfl *dwfl;
	/* Callbacks of this process's Dwfl: its own debuginfo path. */
	Dwfl_Callbacks callbacks;
	char *debuginfo_path;
	char debuginfo_path_buf[DEBUGINFO_PATH_MAX];
	struct target target;
	unsigned char stack[STACK_CHUNK];
};

struct unwinder {
	struct id_map procs; /* pid -> struct proc_dwfl */
	struct symcache *cache;
	struct perf_maps *perf_maps;
	uint64_t jit_frames, unnamed_frames;
	/* unwind_frames' working room: too large for the stack of a scan. */
	struct lw_frame frames_scratch[SYMCACHE_FRAMES_MAX];
	char names_scratch[LW_INLINE_MAX][LW_FUNC_TEXT];
};

/*
 * Binaries of a process in a container are found through /proc/TID/root, TID
 * a live thread of it.  find_elf has no argument of its own: the daemon is
 * single-threaded and sets this around each use of a process's Dwfl.
 */
static uint32_t find_elf_tid;

/* The identity of the file fd into the module's userdata (once). */
static void note_module_file(void **userdata, int fd)
{
	struct module_file *f;
	struct stat st;

	if (fd < 0 || *userdata || fstat(fd, &st))
		return;
	f = calloc(1, sizeof(*f));
	if (!f)
		return; /* the cache keys the module by its build-id alone */
	f->stat_known = true;
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->mtime_ns = (uint64_t)st.st_mtim.tv_sec * 1000000000ull + (uint64_t)st.st_mtim.tv_nsec;
	*userdata = f;
}

/* Lines of /proc/TID/maps read looking for a module's mapping, at most. */
#define MAPS_LINES_MAX 65536

/* A line of /proc/TID/maps: room for a path of PATH_MAX. */
#define MAPS_LINE_MAX (PATH_MAX + 128)

/*
 * The file mapped at base in tid, the ways procfs_open_mapped tries: the
 * very file mapped (deleted, replaced or in another mount namespace), or
 * the inode mapped found by its name, never a FIFO.  -errno if no mapping
 * starts at base.
 */
static int open_mapped_at(uint32_t tid, Dwarf_Addr base, const char *name, char *path,
			  size_t len)
{
	struct map_file_ref r = { .tid = tid, .name = name };
	const char *line_path;
	uint64_t offset;
	char *line;
	FILE *f;
	int i, fd = -ENOENT;

	line = malloc(MAPS_LINE_MAX);
	if (!line)
		return -ENOMEM;
	snprintf(path, len, "/proc/%u/maps", tid);
	f = fopen(path, "re");
	if (!f) {
		fd = -errno;
		goto cleanup;
	}
	for (i = 0; i < MAPS_LINES_MAX && fgets(line, MAPS_LINE_MAX, f); i++) {
		if (!map_file_parse_line(line, &r.start, &r.end, &offset, &r.ino, &line_path) ||
		    r.start != base)
			continue;
		fd = procfs_open_mapped(&r, path, len, NULL);
		break;
	}
	fclose(f);
cleanup:
	free(line);
	return fd;
}

static int find_elf(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr base,
		    char **file_name, Elf **elfp)
{
	char path[PATH_MAX + 64];
	int fd;

	/* A file: never libdwfl's open of its name, which a FIFO blocks. */
	if (name[0] == '/' && find_elf_tid) {
		fd = open_mapped_at(find_elf_tid, base, name, path, sizeof(path));
		if (fd < 0)
			return -1;
		*file_name = strdup(path);
		note_module_file(userdata, fd);
		return fd;
	}
	fd = dwfl_linux_proc_find_elf(mod, userdata, name, base, file_name, elfp);
	note_module_file(userdata, fd);
	return fd;
}

/* Separate debuginfo, never blocking on a file the target planted (see
 * debuginfo.h); through the thread find_elf uses. */
static int find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname,
			  GElf_Addr base, const char *file_name, const char *debuglink_file,
			  GElf_Word debuglink_crc, char **debuginfo_file_name)
{
	return debuginfo_find(mod, find_elf_tid, modname, debuglink_file, debuglink_crc,
			      debuginfo_file_name);
}

/* The userdata of every module (their struct module_file) freed. */
static int free_module_file(Dwfl_Module *mod, void **userdata, const char *name,
			    Dwarf_Addr start, void *arg)
{
	free(*userdata);
	*userdata = NULL;
	return DWARF_CB_OK;
}

static pid_t next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
	struct target *t = arg;

	if (*thread_argp)
		return 0;
	*thread_argp = t;
	return (pid_t)t->tid;
}

static bool get_thread(Dwfl *dwfl, pid_t tid, void *arg, void **thread_argp)
{
	struct target *t = arg;

	if ((uint32_t)tid != t->tid)
		return false;
	*thread_argp = t;
	return true;
}

static bool memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	struct target *t = arg;
	struct iovec local = { .iov_base = result, .iov_len = sizeof(*result) };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)addr, .iov_len = sizeof(*result) };

	/* No addr + size: a garbled frame's address near 2^64 wrapped past
	 * that test and copied from far outside the buffer (a segfault). */
	if (addr >= t->stack_lo && t->stack_len >= sizeof(*result) &&
	    addr - t->stack_lo <= t->stack_len - sizeof(*result)) {
		memcpy(result, t->stack + (addr - t->stack_lo), sizeof(*result));
		return true;
	}
	return process_vm_readv((pid_t)t->tid, &local, 1, &remote, 1, 0) == sizeof(*result);
}

static bool set_initial_registers(Dwfl_Thread *thread, void *arg)
{
	const struct target *t = arg;
	/* DWARF x86-64 numbers: 3 rbx, 6 rbp, 7 rsp, 12-15 r12-r15.  The
	 * caller-saved ones are unknown here, and CFI never needs them. */
	Dwarf_Word rbx = t->regs[LW_REG_BX];
	Dwarf_Word bp_sp[2] = { t->regs[LW_REG_BP], t->regs[LW_REG_SP] };
	Dwarf_Word r12_15[4] = { t->regs[LW_REG_R12], t->regs[LW_REG_R13], t->regs[LW_REG_R14],
				 t->regs[LW_REG_R15] };

	if (!dwfl_thread_state_registers(thread, 3, 1, &rbx) ||
	    !dwfl_thread_state_registers(thread, 6, 2, bp_sp) ||
	    !dwfl_thread_state_registers(thread, 12, 4, r12_15))
		return false;
	dwfl_thread_state_register_pc(thread, t->regs[LW_REG_IP]);
	return true;
}

static const Dwfl_Thread_Callbacks thread_callbacks = {
	.next_thread = next_thread,
	.get_thread = get_thread,
	.memory_read = memory_read,
	.set_initial_registers = set_initial_registers,
};

int unwinder_new(struct unwinder **out)
{
	struct unwinder *u = calloc(1, sizeof(*u));
	int err;

	if (!u)
		return -ENOMEM;
	id_map_init(&u->procs);
	err = symcache_new(LW_SYMCACHE_MAX, (size_t)LW_SYMCACHE_MAX * SYMCACHE_BYTES_PER_ENTRY,
			   &u->cache);
	if (!err)
		err = perf_maps_new(&u->perf_maps);
	if (err) {
		unwinder_free(u);
		return err;
	}
	*out = u;
	return 0;
}

static void proc_free(struct proc_dwfl *p)
{
	if (!p)
		return;
	if (p->dwfl) {
		dwfl_getmodules(p->dwfl, free_module_file, NULL, 0);
		dwfl_end(p->dwfl);
	}
	free(p);
}

void unwinder_free(struct unwinder *u)
{
	uint32_t pid;
	void *value;
	size_t i = 0;

	if (!u)
		return;
	while (id_map_next(&u->procs, &i, &pid, &value))
		proc_free(value);
	id_map_free(&u->procs);
	symcache_free(u->cache);
	perf_maps_free(u->perf_maps);
	free(u);
}

void unwinder_forget(struct unwinder *u, uint32_t pid)
{
	proc_free(id_map_del(&u->procs, pid));
	perf_maps_forget(u->perf_maps, pid);
}

/* The debuginfo path of a process seen through thread tid: the container's
 * /usr/lib/debug too when its root is not ours. */
static void set_debuginfo_path(struct proc_dwfl *p, uint32_t tid)
{
	struct stat ours, theirs;
	char root[48];

	snprintf(root, sizeof(root), "/proc/%u/root", tid);
	if (!stat("/", &ours) && !stat(root, &theirs) &&
	    (ours.st_dev != theirs.st_dev || ours.st_ino != theirs.st_ino))
		snprintf(p->debuginfo_path_buf, sizeof(p->debuginfo_path_buf),
			 DEBUGINFO_PATH_HOST ":%s/usr/lib/debug", root);
	else
		snprintf(p->debuginfo_path_buf, sizeof(p->debuginfo_path_buf), "%s",
			 DEBUGINFO_PATH_HOST);
	p->debuginfo_path = p->debuginfo_path_buf;
	p->callbacks = (Dwfl_Callbacks){
		.find_elf = find_elf,
		.find_debuginfo = find_debuginfo,
		.debuginfo_path = &p->debuginfo_path,
	};
}

/*
 * The process's modules, with thread callbacks, read through thread tid of
 * it: /proc/TID/maps and auxv are the process's, and stay readable when the
 * leader is a zombie (its /proc/PID/maps is empty).
 */
static int proc_open(struct unwinder *u, uint32_t pid, uint32_t tid, struct proc_dwfl **out)
{
	struct proc_dwfl *p = id_map_get(&u->procs, pid);
	int err;

	if (p) {
		*out = p;
		return 0;
	}
	/* A tid reused by another process must not lend it its maps. */
	err = procfs_thread_of(pid, tid);
	if (err)
		return err;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->target.pid = pid;
	p->target.tid = tid;
	p->target.stack = p->stack;
	set_debuginfo_path(p, tid);
	p->dwfl = dwfl_begin(&p->callbacks);
	if (!p->dwfl) {
		err = -ENOMEM;
		goto err_free;
	}
	find_elf_tid = tid; /* dwfl_attach_state reads the main binary's ELF */
	err = dwfl_linux_proc_report(p->dwfl, (pid_t)tid);
	if (err) {
		err = err > 0 ? -err : -ESRCH;
		goto err_free;
	}
	if (dwfl_report_end(p->dwfl, NULL, NULL)) {
		err = -EINVAL;
		goto err_free;
	}
	/* The "process" is named by tid too: libdwfl reads the vDSO from its
	 * /proc/PID/mem. */
	if (!dwfl_attach_state(p->dwfl, NULL, (pid_t)tid, &thread_callbacks, &p->target)) {
		err = -ENOEXEC;
		goto err_free;
	}
	find_elf_tid = 0;
	err = id_map_put(&u->procs, pid, p);
	if (err)
		goto err_free;
	*out = p;
	return 0;

err_free:
	find_elf_tid = 0;
	proc_free(p);
	return err;
}

struct frames {
	uint64_t *pcs;
	int n, max;
};

static int on_frame(Dwfl_Frame *state, void *arg)
{
	struct frames *f = arg;
	Dwarf_Addr pc;

	if (!dwfl_frame_pc(state, &pc, NULL) || !pc)
		return DWARF_CB_ABORT;
	f->pcs[f->n++] = pc;
	return f->n < f->max ? DWARF_CB_OK : DWARF_CB_ABORT;
}

static void read_stack_chunk(struct target *t)
{
	struct iovec local = { .iov_base = t->stack, .iov_len = STACK_CHUNK };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)t->regs[LW_REG_SP],
				.iov_len = STACK_CHUNK };
	ssize_t n;

	t->stack_lo = t->regs[LW_REG_SP];
	/* Stops at the end of the mapping: a short read is fine. */
	n = process_vm_readv((pid_t)t->tid, &local, 1, &remote, 1, 0);
	t->stack_len = n > 0 ? (size_t)n : 0;
}

static int unwind_once(struct proc_dwfl *p, uint32_t tid, const __u64 *regs, struct frames *f)
{
	f->n = 0;
	find_elf_tid = tid;
	p->target.tid = tid; /* kept after: symbolizing reads files through it */
	p->target.regs = regs;
	read_stack_chunk(&p->target);
	/* Errors at the end of a stack are normal: keep what was found. */
	dwfl_getthread_frames(p->dwfl, (pid_t)tid, on_frame, f);
	p->target.regs = NULL;
	find_elf_tid = 0;
	/* The ip outside every known module: the maps changed (dlopen, exec). */
	return f->n && dwfl_addrmodule(p->dwfl, f->pcs[0]) ? 0 : -ESTALE;
}

int unwind_user(struct unwinder *u, uint32_t pid, uint32_t tid, const __u64 *regs,
		uint64_t *pcs, int max)
{
	struct frames f = { .pcs = pcs, .max = max };
	struct proc_dwfl *p;
	int err;

	if (max < 1 || !regs[LW_REG_IP])
		return -EINVAL;
	err = proc_open(u, pid, tid, &p);
	if (err)
		return err;
	if (unwind_once(p, tid, regs, &f) == -ESTALE) {
		/* Read the maps again, once, through this thread (the one they
		 * were read through may have exited). */
		unwinder_forget(u, pid);
		err = proc_open(u, pid, tid, &p);
		if (err)
			return err;
		unwind_once(p, tid, regs, &f);
	}
	return f.n ? f.n : -ENODATA;
}

/* What the cache knows mod's file by: its build-id (cut to what fits) and,
 * when find_elf opened it, its dev, inode and mtime (a binary that copies
 * another's build-id must not name the other's frames). */
static void module_key(Dwfl_Module *mod, struct symcache_key *k)
{
	const unsigned char *id = NULL;
	GElf_Addr id_vaddr;
	void **userdata = NULL;
	const struct module_file *f;
	int len;
	size_t n = 0;

	memset(k, 0, sizeof(*k));
	dwfl_module_info(mod, &userdata, NULL, NULL, NULL, NULL, NULL, NULL);
	f = userdata ? *userdata : NULL;
	len = dwfl_module_build_id(mod, &id, &id_vaddr);
	if (len > 0) {
		n = (size_t)len < SYMCACHE_FILE_ID_MAX - 24 ? (size_t)len : SYMCACHE_FILE_ID_MAX - 24;
		memcpy(k->file_id, id, n);
	}
	if (f && f->stat_known) {
		memcpy(k->file_id + n, &f->dev, 8);
		memcpy(k->file_id + n + 8, &f->ino, 8);
		memcpy(k->file_id + n + 16, &f->mtime_ns, 8);
		n += 24;
	}
	k->file_id_len = (uint8_t)n;
}

/* Frames cut to max: the innermost max - 1 and the physical function. */
static int copy_frames(struct lw_frame *out, int max, const struct lw_frame *f, int n)
{
	if (n <= max) {
		memcpy(out, f, (size_t)n * sizeof(*f));
		return n;
	}
	memcpy(out, f, (size_t)(max - 1) * sizeof(*f));
	out[max - 1] = f[n - 1];
	return max;
}

/* JIT code named by the process's perf map: true with out filled. */
static bool jit_frame(struct unwinder *u, uint32_t pid, uint64_t pc, struct lw_frame *out)
{
	char name[PERF_MAP_NAME_MAX + 1], module[LW_MODULE_TEXT];
	uint64_t start;

	if (!perf_maps_lookup(u->perf_maps, pid, pc, clock_mono_ns(), name, sizeof(name), &start,
			      module, sizeof(module)))
		return false;
	lw_frame_unknown(out, LW_FRAME_JIT, pc, module);
	snprintf(out->func, sizeof(out->func), "%.*s", (int)sizeof(out->func) - 1, name);
	out->offset = pc - start;
	u->jit_frames++;
	return true;
}

int unwind_frames(struct unwinder *u, uint32_t pid, uint64_t pc, bool first, struct lw_frame *out,
		  int max)
{
	struct proc_dwfl *p = id_map_get(&u->procs, pid);
	struct lw_frame *frames = u->frames_scratch;
	/* A return address points after the call: look up the call itself. */
	Dwarf_Addr lookup = first || !pc ? pc : pc - 1, mod_start;
	struct symcache_key key;
	Dwfl_Module *mod = NULL;
	int n;

	if (max < 1)
		return 0;
	if (p) {
		find_elf_tid = p->target.tid; /* the thread last unwound */
		mod = dwfl_addrmodule(p->dwfl, lookup);
	}
	if (!mod) {
		find_elf_tid = 0;
		n = 1;
		if (!jit_frame(u, pid, pc, out))
			lw_frame_unknown(out, LW_FRAME_NATIVE, pc, NULL);
		goto out;
	}
	module_key(mod, &key);
	symbolize_module_name(mod, &mod_start);
	key.addr = pc - mod_start;
	key.first = first;
	n = symcache_get(u->cache, &key, pc, frames, SYMCACHE_FRAMES_MAX);
	if (!n) {
		n = symbolize_module(mod, pc, lookup, frames, SYMCACHE_FRAMES_MAX, u->names_scratch);
		/* Not cached: a module with no identity at all (nothing to
		 * tell it from another process's). */
		if (key.file_id_len)
			symcache_put(u->cache, &key, frames, n);
	}
	find_elf_tid = 0;
	/* Nothing in the file names pc: a module's span also covers the
	 * holes between its mappings, where a JIT may put its code (Node maps
	 * its builtins far above its text, V8's code lands in between). */
	if (n == 1 && !frames[0].func[0] && jit_frame(u, pid, pc, out))
		goto out;
	n = copy_frames(out, max, frames, n);

out:
	if (!out[0].func[0])
		u->unnamed_frames++;
	return n;
}

void unwinder_stats(const struct unwinder *u, struct lw_symbolize_stats *out)
{
	struct symcache_stats c;
	struct perf_maps_stats pm;

	symcache_get_stats(u->cache, &c);
	perf_maps_get_stats(u->perf_maps, &pm);
	*out = (struct lw_symbolize_stats){
		.cache_entries = c.entries,
		.cache_capacity = c.capacity,
		.cache_hits = c.hits,
		.cache_misses = c.misses,
		.cache_evictions = c.evictions,
		.perf_maps_read = pm.files_read,
		.perf_map_lines_bad = pm.lines_bad,
		.perf_maps_over_budget = pm.over_budget,
		.jit_frames = u->jit_frames,
		.unnamed_frames = u->unnamed_frames,
	};
}

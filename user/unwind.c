// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include <elfutils/libdwfl.h>
#include "id_map.h"
#include "procfs.h"
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

struct proc_dwfl {
	Dwfl *dwfl;
	struct target target;
	unsigned char stack[STACK_CHUNK];
};

struct unwinder {
	struct id_map procs; /* pid -> struct proc_dwfl */
};

/*
 * Binaries of a process in a container are found through /proc/TID/root, TID
 * a live thread of it.  find_elf has no argument of its own: the daemon is
 * single-threaded and sets this around each use of a process's Dwfl.
 */
static uint32_t find_elf_tid;

static int find_elf(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr base,
		    char **file_name, Elf **elfp)
{
	char path[PATH_MAX];
	int fd;

	if (name[0] == '/' && find_elf_tid) {
		snprintf(path, sizeof(path), "/proc/%u/root%s", find_elf_tid, name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			*file_name = strdup(path);
			return fd;
		}
	}
	return dwfl_linux_proc_find_elf(mod, userdata, name, base, file_name, elfp);
}

static const Dwfl_Callbacks dwfl_callbacks = {
	.find_elf = find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
};

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

	if (!u)
		return -ENOMEM;
	id_map_init(&u->procs);
	*out = u;
	return 0;
}

static void proc_free(struct proc_dwfl *p)
{
	if (!p)
		return;
	if (p->dwfl)
		dwfl_end(p->dwfl);
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
	free(u);
}

void unwinder_forget(struct unwinder *u, uint32_t pid)
{
	proc_free(id_map_del(&u->procs, pid));
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
	p->dwfl = dwfl_begin(&dwfl_callbacks);
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

/* libstdc++'s demangler, a C ABI function: what perf and gdb show for C++. */
char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

/* "pthread_cond_wait@@GLIBC_2.3.2" -> "pthread_cond_wait"; C++ names
 * demangled.  Writes into buf. */
static const char *readable_name(const char *sym, char *buf, size_t len)
{
	char *demangled = NULL;
	int status = -1;
	size_t n;

	if (sym[0] == '_' && sym[1] == 'Z')
		demangled = __cxa_demangle(sym, NULL, NULL, &status);
	if (demangled && status == 0) {
		snprintf(buf, len, "%s", demangled);
		free(demangled);
		return buf;
	}
	free(demangled);
	n = strcspn(sym, "@");
	snprintf(buf, len, "%.*s", (int)n, sym);
	return buf;
}

void unwind_symbolize(struct unwinder *u, uint32_t pid, uint64_t pc, bool first, char *buf,
		      size_t len)
{
	struct proc_dwfl *p = id_map_get(&u->procs, pid);
	/* A return address points after the call: look up the call itself. */
	Dwarf_Addr lookup = first ? pc : pc - 1, mod_start;
	const char *sym = NULL, *mod_name = NULL, *slash;
	Dwfl_Module *mod = NULL;
	GElf_Off offset = 0;
	GElf_Sym elf_sym;
	char name[256];

	if (p) {
		find_elf_tid = p->target.tid; /* the thread last unwound */
		mod = dwfl_addrmodule(p->dwfl, lookup);
	}
	if (mod) {
		mod_name = dwfl_module_info(mod, NULL, &mod_start, NULL, NULL, NULL, NULL, NULL);
		sym = dwfl_module_addrinfo(mod, lookup, &offset, &elf_sym, NULL, NULL, NULL);
	}
	find_elf_tid = 0;
	if (mod_name && (slash = strrchr(mod_name, '/')))
		mod_name = slash + 1;
	if (sym)
		snprintf(buf, len, "%s+0x%llx (%s)", readable_name(sym, name, sizeof(name)),
			 (unsigned long long)(offset + (lookup != pc ? 1 : 0)),
			 mod_name ? mod_name : "?");
	else
		snprintf(buf, len, "0x%llx (%s)", (unsigned long long)pc,
			 mod_name ? mod_name : "?");
}

// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "go_binary.h"
#include "go_watch.h"
#include "id_map.h"
#include "leakwatch.h"

/* Executables remembered as not Go, at most (then forgotten all at once). */
#define GW_NOT_GO_SLOTS 4096
/* Go binaries (readable or not) known at once, at most: past it a new
 * binary is not read (counted). */
#define GW_MAX_BINARIES 1024
#define GW_WHY_LEN 192

struct gw_file {
	uint64_t dev, ino;
	int64_t mtime_ns;
};

/* A Go executable, shared by its processes. */
struct gw_binary {
	struct gw_file file;
	struct go_binary *b; /* NULL: unreadable (why), kept for the run to say it once */
	char version[32];
	char why[GW_WHY_LEN];
	int err;
	unsigned int refs; /* processes that hold b */
};

struct gw_proc {
	uint32_t pid;
	uint64_t start_time; /* clock ticks after boot (/proc/PID/stat field 22) */
	char pcomm[LW_COMM_LEN + 1];
	struct gw_binary *bin; /* NULL: not Go, or not readable */
	struct go_process *gp;
	uint32_t read_tid;   /* the thread gp reads through (the leader, unless a zombie) */
	uint64_t start_code; /* where its text was mapped when opened (field 26) */
	uint32_t every;      /* scanned every this many ticks */
	uint32_t waited;     /* ticks since the last scan */
	uint64_t cost_ns;    /* smoothed scan time */
	bool scanned;        /* go_watch_scan looked at it since it was opened */
};

struct go_watch {
	struct go_watch_ops ops;
	struct id_map procs; /* pid -> struct gw_proc (every process looked at) */
	struct gw_binary **bins;
	size_t n_bins;
	struct gw_file not_go[GW_NOT_GO_SLOTS];
	size_t n_not_go;
	struct go_scan_stats gone; /* counters of processes closed */
};

int go_watch_new(const struct go_watch_ops *ops, struct go_watch **out)
{
	struct go_watch *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	w->ops = *ops;
	id_map_init(&w->procs);
	*out = w;
	return 0;
}

static void add_stats(struct go_scan_stats *sum, const struct go_scan_stats *s)
{
	sum->scans += s->scans;
	sum->gs_read += s->gs_read;
	sum->bytes_read += s->bytes_read;
	sum->gs_invalid += s->gs_invalid;
	sum->gs_unread += s->gs_unread;
	sum->ms_unread += s->ms_unread;
	sum->stacks_read += s->stacks_read;
	sum->stacks_moved += s->stacks_moved;
	sum->stacks_unreadable += s->stacks_unreadable;
}

static void binary_put(struct go_watch *w, struct gw_binary *bin)
{
	size_t i;

	if (!bin || !bin->b || --bin->refs)
		return;
	/* The last process of a readable binary: it goes.  Unreadable ones
	 * stay (no memory but their reason) so that they are said once. */
	for (i = 0; i < w->n_bins && w->bins[i] != bin; i++)
		;
	if (i < w->n_bins)
		w->bins[i] = w->bins[--w->n_bins];
	go_binary_free(bin->b);
	free(bin);
}

/* Closes what proc holds; the entry itself stays (it was looked at). */
static void proc_close(struct go_watch *w, struct gw_proc *p)
{
	struct go_scan_stats s;

	if (p->gp) {
		go_process_stats(p->gp, &s);
		add_stats(&w->gone, &s);
		go_process_free(p->gp);
		p->gp = NULL;
	}
	binary_put(w, p->bin);
	p->bin = NULL;
	p->every = 0;
}

void go_watch_free(struct go_watch *w)
{
	uint32_t pid;
	size_t i = 0;
	void *value;

	if (!w)
		return;
	while (id_map_next(&w->procs, &i, &pid, &value)) {
		proc_close(w, value);
		free(value);
	}
	id_map_free(&w->procs);
	for (i = 0; i < w->n_bins; i++) {
		go_binary_free(w->bins[i]->b);
		free(w->bins[i]);
	}
	free(w->bins);
	free(w);
}

/* Field 22 of /proc/PID/stat, after the ")" that ends the name (which may
 * hold spaces and parentheses itself); field 26 (startcode) too if asked. */
static int read_stat(uint32_t pid, uint64_t *start, uint64_t *start_code)
{
	char path[64], buf[1024], *p;
	unsigned long long v;
	int field;
	ssize_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	n = (ssize_t)fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p)
		return -EIO;
	/* ") S ppid ...": field 3 is the state */
	for (field = 2; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", &v) != 1)
		return -EIO;
	*start = v;
	if (!start_code)
		return 0;
	for (; field < 26 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", &v) != 1)
		return -EIO;
	*start_code = v;
	return 0;
}

static int read_start_time(uint32_t pid, uint64_t *start)
{
	return read_stat(pid, start, NULL);
}

static bool same_file(const struct gw_file *a, const struct gw_file *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->mtime_ns == b->mtime_ns;
}

static bool known_not_go(const struct go_watch *w, const struct gw_file *f)
{
	size_t i;

	for (i = 0; i < w->n_not_go; i++)
		if (same_file(&w->not_go[i], f))
			return true;
	return false;
}

static void remember_not_go(struct go_watch *w, const struct gw_file *f)
{
	if (w->n_not_go == GW_NOT_GO_SLOTS)
		w->n_not_go = 0; /* forgotten at once: probed again, no harm */
	w->not_go[w->n_not_go++] = *f;
}

static struct gw_binary *find_binary(const struct go_watch *w, const struct gw_file *f)
{
	size_t i;

	for (i = 0; i < w->n_bins; i++)
		if (same_file(&w->bins[i]->file, f))
			return w->bins[i];
	return NULL;
}

/* Reads a new Go binary (or says why not).  NULL only without memory or
 * past GW_MAX_BINARIES. */
static struct gw_binary *open_binary(struct go_watch *w, const char *path,
				     const struct gw_file *f)
{
	struct gw_binary *bin, **more;

	if (w->n_bins >= GW_MAX_BINARIES)
		return NULL;
	bin = calloc(1, sizeof(*bin));
	more = realloc(w->bins, (w->n_bins + 1) * sizeof(*w->bins));
	if (!bin || !more) {
		free(bin);
		if (more)
			w->bins = more;
		return NULL;
	}
	w->bins = more;
	bin->file = *f;
	bin->err = go_binary_open(path, &bin->b, bin->why, sizeof(bin->why));
	if (!bin->err) {
		snprintf(bin->version, sizeof(bin->version), "%s", go_binary_version(bin->b));
	} else {
		/* The version, if the buildinfo still read, starts "why" in
		 * go_binary's own words; keep it apart when it does. */
		if (!bin->why[0])
			snprintf(bin->why, sizeof(bin->why), "%s", strerror(-bin->err));
		if (!strncmp(bin->why, "go1.", 4) && sscanf(bin->why, "%31[^ :,]", bin->version) == 1) {
			size_t v = strlen(bin->version);

			/* "go1.30.1: no layout": the version is said apart. */
			if (!strncmp(bin->why + v, ": ", 2))
				memmove(bin->why, bin->why + v + 2, strlen(bin->why + v + 2) + 1);
		}
	}
	w->bins[w->n_bins++] = bin;
	return bin;
}

static void say_found(struct go_watch *w, const struct gw_proc *p, const char *exe,
		      const char *version, const char *layout, const char *error, int err,
		      bool first)
{
	struct go_watch_found f = {
		.pid = p->pid,
		.pcomm = p->pcomm,
		.exe = exe,
		.version = version ? version : "",
		.layout = layout,
		.error = error,
		.first_of_binary = first,
		.err = err,
	};

	if (w->ops.found)
		w->ops.found(w->ops.ctx, &f);
}

/* A thread of pid through which its memory can be read: pid itself, or,
 * when the leader exited (a zombie leader: no mm, no exe), another of its
 * threads.  0: none (a zombie, a kernel thread, not ours to read). */
static uint32_t live_thread(uint32_t pid)
{
	char path[64];
	struct dirent *e;
	struct stat st;
	uint32_t tid = 0;
	int tries = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%u/exe", pid);
	if (!stat(path, &st))
		return pid;
	snprintf(path, sizeof(path), "/proc/%u/task", pid);
	d = opendir(path);
	if (!d)
		return 0;
	/* The first threads listed that have an mm: bounded, a process may
	 * have thousands. */
	while (!tid && tries < 16 && (e = readdir(d))) {
		unsigned long v;
		char *end;

		v = strtoul(e->d_name, &end, 10);
		if (*end || !v || v > UINT32_MAX || v == pid)
			continue;
		tries++;
		snprintf(path, sizeof(path), "/proc/%lu/exe", v);
		if (!stat(path, &st))
			tid = (uint32_t)v;
	}
	closedir(d);
	return tid;
}

/* Is p a Go process, and can it be read?  Opens it if so. */
static void probe(struct go_watch *w, struct gw_proc *p)
{
	char path[64], exe[256];
	struct gw_binary *bin;
	struct gw_file f;
	struct stat st;
	uint64_t start;
	ssize_t n;
	int err;

	p->read_tid = live_thread(p->pid);
	snprintf(path, sizeof(path), "/proc/%u/exe", p->read_tid);
	/* Kernel threads and zombies have none; a process we may not read
	 * neither: not Go as far as we can tell. */
	if (!p->read_tid || stat(path, &st))
		return;
	f = (struct gw_file){ .dev = st.st_dev, .ino = st.st_ino,
			      .mtime_ns = st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec };
	if (known_not_go(w, &f))
		return;
	bin = find_binary(w, &f);
	if (!bin) {
		if (!go_binary_probe(path)) {
			remember_not_go(w, &f);
			return;
		}
		bin = open_binary(w, path, &f);
		if (!bin) {
			if (w->n_bins >= GW_MAX_BINARIES)
				say_found(w, p, "", "", NULL, "too many Go binaries read already",
					  -ENOSPC, true);
			return;
		}
		/* First sight of an unreadable binary: said now, once. */
		if (!bin->b) {
			n = readlink(path, exe, sizeof(exe) - 1);
			exe[n > 0 ? n : 0] = '\0';
			say_found(w, p, exe, bin->version, NULL, bin->why, bin->err, true);
			return;
		}
	} else if (!bin->b) {
		return; /* said when its first process was found */
	}
	n = readlink(path, exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	/* Through a live thread: any thread reads the process's memory. */
	if (read_stat(p->read_tid, &start, &p->start_code))
		p->start_code = 0;
	err = go_process_open(p->read_tid, bin->b, &p->gp);
	if (err) {
		p->gp = NULL;
		if (err != -ESRCH)
			say_found(w, p, exe, bin->version, NULL, strerror(-err), err, false);
		return;
	}
	bin->refs++;
	p->bin = bin;
	p->every = 1;
	p->waited = 0;
	p->cost_ns = 0;
	p->scanned = false;
	say_found(w, p, exe, bin->version, go_binary_layout(bin->b)->source, NULL, 0, false);
}

/* p was read and is no more while it lives (an exec): the tracker forgets
 * its goroutines. */
static void proc_close_gone(struct go_watch *w, struct gw_proc *p)
{
	bool was_read = p->gp != NULL;

	proc_close(w, p);
	if (was_read && w->ops.gone)
		w->ops.gone(w->ops.ctx, p->pid);
}

/* Is /proc/PID/exe still the file p was opened from, mapped where it was?
 * An exec that kept the name (a wrapper exec'ing its namesake, a binary
 * exec'ing a new version of itself, or itself: a PIE then maps elsewhere)
 * leaves pcomm as it was. */
static bool same_exe(const struct gw_proc *p)
{
	uint64_t start, start_code;
	struct gw_file f;
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%u/exe", p->read_tid);
	if (!p->bin || stat(path, &st))
		return false;
	if (!read_stat(p->read_tid, &start, &start_code) && start_code != p->start_code)
		return false;
	f = (struct gw_file){ .dev = st.st_dev, .ino = st.st_ino,
			      .mtime_ns = st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec };
	return same_file(&p->bin->file, &f);
}

void go_watch_see(struct go_watch *w, uint32_t pid, const char *pcomm)
{
	struct gw_proc *p = id_map_get(&w->procs, pid);
	uint64_t start = 0;

	if (p && !strncmp(p->pcomm, pcomm, LW_COMM_LEN))
		return;
	if (read_start_time(pid, &start))
		return; /* gone already */
	if (p) {
		/* Renamed: an exec (same life, maybe another binary) or, with
		 * another start time, another process on a reused pid. */
		proc_close_gone(w, p);
	} else {
		p = calloc(1, sizeof(*p));
		if (!p)
			return;
		p->pid = pid;
		if (id_map_put(&w->procs, pid, p)) {
			free(p);
			return;
		}
	}
	p->start_time = start;
	snprintf(p->pcomm, sizeof(p->pcomm), "%.*s", LW_COMM_LEN, pcomm);
	probe(w, p);
}

void go_watch_forget(struct go_watch *w, uint32_t pid)
{
	struct gw_proc *p = id_map_del(&w->procs, pid);

	if (!p)
		return;
	proc_close(w, p);
	free(p);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void scan_one(struct go_watch *w, struct gw_proc *p, uint64_t interval_ns)
{
	const struct go_goroutine *gs;
	uint64_t start, took;
	uint32_t every;
	size_t n = 0;
	int err;

	p->scanned = true;
	if (++p->waited < p->every) {
		if (w->ops.unread)
			w->ops.unread(w->ops.ctx, p->pid, 0);
		return;
	}
	p->waited = 0;
	start = mono_ns();
	err = go_process_scan(p->gp, &gs, &n);
	took = mono_ns() - start;
	if (err == -ESRCH && p->read_tid == p->pid) {
		/* Gone: the tracker says so at its scan's end. */
		proc_close(w, p);
		return;
	}
	/* The thread it was read through exited (its leader a zombie), or
	 * it exec'd another program under the same name (pcomm unchanged):
	 * read anew. */
	if (err == -ESRCH || (err && !same_exe(p))) {
		if (err == -ESRCH)
			proc_close(w, p); /* its goroutines are as they were */
		else
			proc_close_gone(w, p); /* another program: not Go, or another binary */
		probe(w, p);
		p->scanned = true;
		if (!p->gp)
			return;
		start = mono_ns();
		err = go_process_scan(p->gp, &gs, &n);
		took = mono_ns() - start;
		if (err == -ESRCH) {
			proc_close(w, p);
			return;
		}
	}
	if (err) {
		if (w->ops.unread)
			w->ops.unread(w->ops.ctx, p->pid, err);
		return;
	}
	if (w->ops.scanned)
		w->ops.scanned(w->ops.ctx, p->pid, gs, n);
	/* Smoothed over about four scans: one slow scan (page faults, a
	 * loaded machine) does not stretch the interval alone. */
	p->cost_ns = p->cost_ns ? (3 * p->cost_ns + took) / 4 : took;
	every = go_watch_stretch(p->cost_ns, interval_ns);
	if (every != p->every) {
		p->every = every;
		if (w->ops.stretched)
			w->ops.stretched(w->ops.ctx, p->pid, every, took);
	}
}

void go_watch_scan(struct go_watch *w, uint64_t interval_ns, bool only_new)
{
	uint32_t pid;
	size_t i = 0;
	void *value;

	/* scan_one closes, never deletes: the map stays as it is. */
	while (id_map_next(&w->procs, &i, &pid, &value)) {
		struct gw_proc *p = value;

		if (p->gp && (!only_new || !p->scanned))
			scan_one(w, p, interval_ns);
	}
}

struct go_process *go_watch_process(const struct go_watch *w, uint32_t pid)
{
	struct gw_proc *p = id_map_get(&w->procs, pid);

	return p ? p->gp : NULL;
}

uint32_t go_watch_every(const struct go_watch *w, uint32_t pid)
{
	struct gw_proc *p = id_map_get(&w->procs, pid);

	return p && p->gp ? p->every : 0;
}

void go_watch_stats(const struct go_watch *w, struct go_scan_stats *sum, size_t *processes)
{
	struct go_scan_stats s;
	uint32_t pid;
	size_t i = 0, n = 0;
	void *value;

	*sum = w->gone;
	while (id_map_next(&w->procs, &i, &pid, &value)) {
		struct gw_proc *p = value;

		if (!p->gp)
			continue;
		go_process_stats(p->gp, &s);
		add_stats(sum, &s);
		n++;
	}
	if (processes)
		*processes = n;
}

bool go_watch_next(const struct go_watch *w, size_t *pos, uint32_t *pid,
		   const struct go_process **out)
{
	void *value;

	while (id_map_next(&w->procs, pos, pid, &value)) {
		struct gw_proc *p = value;

		if (p->gp) {
			*out = p->gp;
			return true;
		}
	}
	return false;
}

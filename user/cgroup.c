// SPDX-License-Identifier: GPL-2.0
/*
 * Cgroup v2 paths and what they name.  The path comes from the watched
 * process's own /proc/PID/cgroup, whose names a container runtime, systemd,
 * or the process itself (in a delegated subtree) chose: every name is
 * checked (hex ids of their length, pod UIDs, unit name characters) before
 * it is taken, and every length is bounded.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cgroup.h"

int cgroup_parse_proc(const char *text, size_t len, char *path, size_t path_len)
{
	static const char deleted[] = " (deleted)";
	const size_t deleted_len = sizeof(deleted) - 1;
	const char *p = text, *end = text + len, *nl, *found = NULL;
	size_t n, found_len = 0;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((nl ? nl : end) - p);
		if (n >= 3 && !memcmp(p, "0::", 3)) {
			if (found)
				return -EINVAL;
			found = p + 3;
			found_len = n - 3;
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	if (!found)
		return -ENOENT;
	/* A cgroup removed while the process is in it (a zombie's). */
	if (found_len > deleted_len &&
	    !memcmp(found + found_len - deleted_len, deleted, deleted_len))
		found_len -= deleted_len;
	if (!found_len || found[0] != '/' || memchr(found, '\0', found_len))
		return -EINVAL;
	if (found_len >= path_len)
		return -ENAMETOOLONG;
	memcpy(path, found, found_len);
	path[found_len] = '\0';
	return 0;
}

/* ---- Naming ---- */

struct component {
	const char *s;
	size_t n;
};

/* A path of LW_CGROUP_PATH_MAX bytes has at most half as many components. */
#define MAX_COMPONENTS (LW_CGROUP_PATH_MAX / 2)

static size_t split_path(const char *path, struct component *c, size_t max)
{
	size_t n = 0, len = strnlen(path, LW_CGROUP_PATH_MAX), i = 0, start;

	while (i < len && n < max) {
		while (i < len && path[i] == '/')
			i++;
		start = i;
		while (i < len && path[i] != '/')
			i++;
		if (i > start)
			c[n++] = (struct component){ path + start, i - start };
	}
	return n;
}

static bool is_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static bool has_prefix(const struct component *c, const char *prefix)
{
	size_t n = strlen(prefix);

	return c->n >= n && !memcmp(c->s, prefix, n);
}

static bool has_suffix(const struct component *c, const char *suffix)
{
	size_t n = strlen(suffix);

	return c->n >= n && !memcmp(c->s + c->n - n, suffix, n);
}

static bool is_equal(const struct component *c, const char *s)
{
	return c->n == strlen(s) && !memcmp(c->s, s, c->n);
}

/* c is PREFIX ID or PREFIX ID.scope, ID 64 hex digits: the id into id. */
static bool match_id(const struct component *c, const char *prefix, char *id)
{
	size_t p = strlen(prefix), rest;

	if (!has_prefix(c, prefix))
		return false;
	rest = c->n - p;
	if (!(rest == LW_CGROUP_ID_LEN ||
	      (rest == LW_CGROUP_ID_LEN + 6 && has_suffix(c, ".scope"))))
		return false;
	if (!is_hex(c->s + p, LW_CGROUP_ID_LEN))
		return false;
	memcpy(id, c->s + p, LW_CGROUP_ID_LEN);
	id[LW_CGROUP_ID_LEN] = '\0';
	return true;
}

/* The scopes and directories runtimes make for a container, by prefix.
 * "crio-conmon-ID" (cri-o's monitor) and "libpod-conmon-ID" do not match:
 * "conmon-..." is not hex. */
static const struct {
	const char *prefix, *runtime;
} container_kinds[] = {
	{ "docker-", "docker" },
	{ "cri-containerd-", "containerd" },
	{ "crio-", "crio" },
	{ "libpod-payload-", "podman" },
	{ "libpod-", "podman" },
};

#define N_KINDS (sizeof(container_kinds) / sizeof(container_kinds[0]))

/* Component i of c names a container: its id and runtime into out. */
static bool container_at(const struct component *c, size_t i, struct lw_cgroup_names *out)
{
	char id[LW_CGROUP_ID_LEN + 1];
	size_t k;

	for (k = 0; k < N_KINDS; k++) {
		if (match_id(&c[i], container_kinds[k].prefix, id)) {
			memcpy(out->container, id, sizeof(id));
			snprintf(out->runtime, sizeof(out->runtime), "%s", container_kinds[k].runtime);
			return true;
		}
	}
	/* cgroupfs drivers: a bare id below /docker (docker), or below a
	 * pod's directory (the kubelet's; the runtime does not show). */
	if (c[i].n != LW_CGROUP_ID_LEN || !is_hex(c[i].s, c[i].n) || i == 0)
		return false;
	if (is_equal(&c[i - 1], "docker"))
		snprintf(out->runtime, sizeof(out->runtime), "docker");
	else if (has_prefix(&c[i - 1], "pod"))
		out->runtime[0] = '\0';
	else
		return false;
	memcpy(out->container, c[i].s, LW_CGROUP_ID_LEN);
	out->container[LW_CGROUP_ID_LEN] = '\0';
	return true;
}

/* s (36 bytes) is a UID, 8-4-4-4-12 hex digits split by sep: with dashes
 * into uid. */
static bool parse_uid(const char *s, char sep, char *uid)
{
	size_t i;

	for (i = 0; i < LW_CGROUP_UID_LEN; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != sep : !is_hex(&s[i], 1))
			return false;
		uid[i] = dash ? '-' : s[i];
	}
	uid[LW_CGROUP_UID_LEN] = '\0';
	return true;
}

/* Component i names a Kubernetes pod: systemd driver
 * "kubepods[-QOS]-pod<uid with _>.slice", cgroupfs "pod<uid>" below
 * "kubepods". */
static bool pod_at(const struct component *c, size_t i, char *uid)
{
	const struct component *x = &c[i];
	const size_t tail = 3 + LW_CGROUP_UID_LEN + 6; /* "pod" UID ".slice" */
	size_t j;

	if (has_prefix(x, "kubepods") && has_suffix(x, ".slice") && x->n >= 8 + tail &&
	    !memcmp(x->s + x->n - tail, "pod", 3))
		return parse_uid(x->s + x->n - tail + 3, '_', uid);
	if (x->n != 3 + LW_CGROUP_UID_LEN || !has_prefix(x, "pod"))
		return false;
	for (j = 0; j < i; j++)
		if (is_equal(&c[j], "kubepods"))
			return parse_uid(x->s + 3, '-', uid);
	return false;
}

/* systemd's unit name characters (unit_name_is_valid): the name is taken
 * only if every byte is one of them. */
static bool unit_chars(const struct component *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		char ch = c->s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || strchr(":-_.\\@", ch)))
			return false;
	}
	return true;
}

static bool unit_at(const struct component *c, size_t i)
{
	const struct component *x = &c[i];
	bool service = has_suffix(x, ".service"), scope = has_suffix(x, ".scope");

	if (!service && !scope)
		return false;
	if (x->n <= (service ? 8 : 6) || x->n >= LW_CGROUP_UNIT_MAX)
		return false;
	return unit_chars(x);
}

void cgroup_names(const char *path, struct lw_cgroup_names *out)
{
	struct component c[MAX_COMPONENTS];
	struct lw_cgroup_names scratch;
	size_t n, i;
	bool container = false, pod = false, unit = false;

	memset(out, 0, sizeof(*out));
	n = split_path(path, c, MAX_COMPONENTS);
	/* Innermost first: a container's scope below a pod's slice, a
	 * service below user@UID.service. */
	for (i = n; i-- > 0;) {
		if (container_at(c, i, &scratch)) {
			if (!container) {
				memcpy(out->container, scratch.container, sizeof(out->container));
				memcpy(out->runtime, scratch.runtime, sizeof(out->runtime));
				container = true;
			}
			continue; /* a container's scope is not its unit */
		}
		if (!pod && pod_at(c, i, out->pod)) {
			pod = true;
			continue;
		}
		if (!unit && unit_at(c, i)) {
			memcpy(out->unit, c[i].s, c[i].n);
			out->unit[c[i].n] = '\0';
			unit = true;
		}
	}
	if (!pod)
		out->pod[0] = '\0';
}

/* ---- The cgroup2 mount, --cgroup PATH ---- */

/* One space-separated field of a mountinfo line, octal escapes (\040)
 * undone, into out: 0 or -ENAMETOOLONG. */
static int unescape_field(const char *s, size_t n, char *out, size_t out_len)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		char ch = s[i];

		if (ch == '\\' && i + 3 < n && s[i + 1] >= '0' && s[i + 1] <= '3' &&
		    s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
			ch = (char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
			i += 3;
		}
		if (o + 1 >= out_len)
			return -ENAMETOOLONG;
		out[o++] = ch;
	}
	out[o] = '\0';
	return 0;
}

#define MOUNTINFO_FIELDS 32

int cgroup_mount_point(const char *text, size_t len, char *out, size_t out_len)
{
	const char *p = text, *end = text + len, *nl;
	int err = -ENOENT;

	while (p < end) {
		struct component f[MOUNTINFO_FIELDS];
		size_t nf = 0, i, n;
		const char *q;

		nl = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((nl ? nl : end) - p);
		for (q = p; q < p + n && nf < MOUNTINFO_FIELDS;) {
			const char *start;

			while (q < p + n && *q == ' ')
				q++;
			start = q;
			while (q < p + n && *q != ' ')
				q++;
			if (q > start)
				f[nf++] = (struct component){ start, (size_t)(q - start) };
		}
		/* id parent dev root mountpoint options [optional...] - fstype ... */
		for (i = 6; i + 1 < nf && !is_equal(&f[i], "-"); i++)
			;
		if (nf > 6 && i + 1 < nf && is_equal(&f[i + 1], "cgroup2")) {
			/* The first one whose root is the hierarchy's root. */
			if (is_equal(&f[3], "/"))
				return unescape_field(f[4].s, f[4].n, out, out_len);
			if (err == -ENOENT) {
				err = unescape_field(f[4].s, f[4].n, out, out_len);
				if (!err)
					err = 1; /* found; a root mount may follow */
			}
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	return err == 1 ? 0 : err;
}

static bool has_dotdot(const char *s)
{
	const char *p;

	for (p = s; (p = strstr(p, "..")); p += 2)
		if ((p == s || p[-1] == '/') && (p[2] == '\0' || p[2] == '/'))
			return true;
	return false;
}

int cgroup_dir(const char *mount, const char *arg, char *out, size_t out_len)
{
	size_t mlen = strlen(mount);
	int n;

	while (mlen > 1 && mount[mlen - 1] == '/')
		mlen--;
	if (arg[0] != '/' || has_dotdot(arg))
		return -EINVAL;
	if (!strncmp(arg, mount, mlen) && (arg[mlen] == '\0' || arg[mlen] == '/'))
		n = snprintf(out, out_len, "%s", arg);
	else
		n = snprintf(out, out_len, "%.*s%s", (int)mlen, mount, strcmp(arg, "/") ? arg : "");
	if (n < 0 || (size_t)n >= out_len)
		return -ENAMETOOLONG;
	return 0;
}

void cgroup_label(const struct lw_cgroup *cg, char *out, size_t out_len)
{
	out[0] = '\0';
	if (!cg)
		return;
	if (cg->container[0])
		snprintf(out, out_len, "%s %.12s", cg->runtime[0] ? cg->runtime : "container",
			 cg->container);
	else if (cg->pod[0])
		snprintf(out, out_len, "pod %s", cg->pod);
	else if (cg->unit[0])
		snprintf(out, out_len, "%s", cg->unit);
	else if (cg->path[0] && strcmp(cg->path, "/"))
		snprintf(out, out_len, "%s", cg->path);
}

/* ---- Interning ---- */

struct cgroup_entry {
	struct lw_cgroup cg; /* first: the pointer given out is the entry's */
	size_t refs;
	struct lw_cgroup_names names;
	char path[];
};

struct cgroup_table {
	struct cgroup_entry **v;
	size_t n, cap, max;
	uint64_t untracked;
};

int cgroup_table_new(size_t max, struct cgroup_table **out)
{
	struct cgroup_table *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->max = max ? max : LW_MAX_CGROUPS_TRACKED;
	*out = t;
	return 0;
}

void cgroup_table_free(struct cgroup_table *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->n; i++)
		free(t->v[i]);
	free(t->v);
	free(t);
}

/* Once per process life, and the table is bounded: a walk is enough. */
const struct lw_cgroup *cgroup_table_get(struct cgroup_table *t, const char *path)
{
	size_t i, len = strnlen(path, LW_CGROUP_PATH_MAX);
	struct cgroup_entry *e;

	if (len == LW_CGROUP_PATH_MAX) {
		t->untracked++;
		return NULL;
	}
	for (i = 0; i < t->n; i++) {
		if (!strcmp(t->v[i]->path, path)) {
			t->v[i]->refs++;
			return &t->v[i]->cg;
		}
	}
	if (t->n == t->max) {
		t->untracked++;
		return NULL;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 16;
		struct cgroup_entry **v = realloc(t->v, cap * sizeof(*v));

		if (!v) {
			t->untracked++;
			return NULL;
		}
		t->v = v;
		t->cap = cap;
	}
	e = calloc(1, sizeof(*e) + len + 1);
	if (!e) {
		t->untracked++;
		return NULL;
	}
	memcpy(e->path, path, len + 1);
	cgroup_names(e->path, &e->names);
	e->cg = (struct lw_cgroup){
		.path = e->path,
		.container = e->names.container,
		.runtime = e->names.runtime,
		.pod = e->names.pod,
		.unit = e->names.unit,
	};
	e->refs = 1;
	t->v[t->n++] = e;
	return &e->cg;
}

void cgroup_table_put(struct cgroup_table *t, const struct lw_cgroup *cg)
{
	size_t i;

	if (!cg)
		return;
	for (i = 0; i < t->n; i++) {
		if (&t->v[i]->cg != cg)
			continue;
		if (--t->v[i]->refs == 0) {
			free(t->v[i]);
			t->v[i] = t->v[--t->n];
		}
		return;
	}
}

size_t cgroup_table_len(const struct cgroup_table *t)
{
	return t->n;
}

uint64_t cgroup_table_untracked(const struct cgroup_table *t)
{
	return t->untracked;
}

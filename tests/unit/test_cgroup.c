// SPDX-License-Identifier: GPL-2.0
/* Cgroup v2 paths and their names (user/cgroup.c): /proc/PID/cgroup and
 * mountinfo text, containers, pods, units, --cgroup PATH, the interning
 * table. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "cgroup.h"

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define UID "1a2b3c4d-0000-4111-8222-abcdefabcdef"
#define UID_ "1a2b3c4d_0000_4111_8222_abcdefabcdef"

static int parse(const char *text, char *path, size_t len)
{
	return cgroup_parse_proc(text, strlen(text), path, len);
}

static void test_proc_v2_only(void **state)
{
	char path[LW_CGROUP_PATH_MAX];

	assert_int_equal(parse("0::/system.slice/nginx.service\n", path, sizeof(path)), 0);
	assert_string_equal(path, "/system.slice/nginx.service");
	assert_int_equal(parse("0::/\n", path, sizeof(path)), 0);
	assert_string_equal(path, "/");
	/* no final newline */
	assert_int_equal(parse("0::/a/b", path, sizeof(path)), 0);
	assert_string_equal(path, "/a/b");
}

static void test_proc_hybrid(void **state)
{
	const char *text = "12:name=systemd:/\n4:memory:/process_api/df8e\n1:cpu:/\n0::/user.slice/"
			   "user-1000.slice/session-3.scope\n";
	char path[LW_CGROUP_PATH_MAX];

	assert_int_equal(parse(text, path, sizeof(path)), 0);
	assert_string_equal(path, "/user.slice/user-1000.slice/session-3.scope");
}

static void test_proc_deleted(void **state)
{
	char path[LW_CGROUP_PATH_MAX];

	assert_int_equal(parse("0::/gone/x (deleted)\n", path, sizeof(path)), 0);
	assert_string_equal(path, "/gone/x");
}

static void test_proc_rejects(void **state)
{
	char path[LW_CGROUP_PATH_MAX], small[8];

	/* v1 only */
	assert_int_equal(parse("1:cpu:/\n2:memory:/x\n", path, sizeof(path)), -ENOENT);
	assert_int_equal(parse("", path, sizeof(path)), -ENOENT);
	/* a "0::" line forged by a newline in a cgroup name: two of them */
	assert_int_equal(parse("4:name=x:/a\n0::/fake\n0::/real\n", path, sizeof(path)), -EINVAL);
	/* not a path */
	assert_int_equal(parse("0::relative\n", path, sizeof(path)), -EINVAL);
	assert_int_equal(parse("0::\n", path, sizeof(path)), -EINVAL);
	/* longer than the buffer */
	assert_int_equal(parse("0::/0123456789\n", small, sizeof(small)), -ENAMETOOLONG);
	assert_int_equal(parse("0::/012345\n", small, sizeof(small)), 0);
	/* a NUL inside the line */
	assert_int_equal(cgroup_parse_proc("0::/a\0b\n", 8, path, sizeof(path)), -EINVAL);
	/* "10::" is not the v2 line */
	assert_int_equal(parse("10::/x\n", path, sizeof(path)), -ENOENT);
}

/* The names of path must be exactly these. */
static void expect_names(const char *path, const char *container, const char *runtime,
			 const char *pod, const char *unit)
{
	struct lw_cgroup_names n;

	cgroup_names(path, &n);
	if (strcmp(n.container, container) || strcmp(n.runtime, runtime) || strcmp(n.pod, pod) ||
	    strcmp(n.unit, unit))
		print_error("%s: container '%s' runtime '%s' pod '%s' unit '%s'\n", path,
			    n.container, n.runtime, n.pod, n.unit);
	assert_string_equal(n.container, container);
	assert_string_equal(n.runtime, runtime);
	assert_string_equal(n.pod, pod);
	assert_string_equal(n.unit, unit);
}

static void test_names_docker(void **state)
{
	expect_names("/system.slice/docker-" ID ".scope", ID, "docker", "", "");
	expect_names("/docker/" ID, ID, "docker", "", "");
	/* a process in a cgroup of its own inside the container */
	expect_names("/system.slice/docker-" ID ".scope/init.scope", ID, "docker", "", "init.scope");
	expect_names("/system.slice/docker.service", "", "", "", "docker.service");
}

static void test_names_containerd_crio_podman(void **state)
{
	expect_names("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
		     ".slice/cri-containerd-" ID ".scope", ID, "containerd", UID, "");
	expect_names("/kubepods.slice/kubepods-pod" UID_ ".slice/crio-" ID ".scope", ID, "crio",
		     UID, "");
	/* cri-o's monitor is not the container: a scope of its own */
	expect_names("/kubepods.slice/kubepods-pod" UID_ ".slice/crio-conmon-" ID ".scope", "", "",
		     UID, "crio-conmon-" ID ".scope");
	expect_names("/machine.slice/libpod-" ID ".scope", ID, "podman", "", "");
	expect_names("/machine.slice/libpod-" ID ".scope/container", ID, "podman", "", "");
	expect_names("/libpod_parent/libpod-payload-" ID, ID, "podman", "", "");
}

static void test_names_kubepods_cgroupfs(void **state)
{
	expect_names("/kubepods/burstable/pod" UID "/" ID, ID, "", UID, "");
	expect_names("/kubepods/pod" UID, "", "", UID, "");
	/* "pod<uid>" outside kubepods is nobody's pod */
	expect_names("/other/pod" UID, "", "", "", "");
	/* a systemd-driver slice name needs the kubepods prefix */
	expect_names("/x.slice/evil-pod" UID_ ".slice", "", "", "", "");
}

static void test_names_units(void **state)
{
	expect_names("/system.slice/nginx.service", "", "", "", "nginx.service");
	expect_names("/user.slice/user-1000.slice/session-3.scope", "", "", "", "session-3.scope");
	expect_names("/user.slice/user-1000.slice/user@1000.service", "", "", "",
		     "user@1000.service");
	/* the innermost one */
	expect_names("/user.slice/user-1000.slice/user@1000.service/app.slice/foo.service", "", "",
		     "", "foo.service");
	expect_names("/", "", "", "", "");
	expect_names("/leakwatch-test-1-plain", "", "", "", "");
	expect_names("/system.slice", "", "", "", "");
}

static void test_names_hostile(void **state)
{
	char long_path[2 * LW_CGROUP_PATH_MAX];
	size_t i;

	/* ids of the wrong length, upper case, not hex: a scope, no container */
	expect_names("/system.slice/docker-" ID "0.scope", "", "", "", "docker-" ID "0.scope");
	expect_names("/system.slice/docker-0123.scope", "", "", "", "docker-0123.scope");
	expect_names("/system.slice/docker-0123456789ABCDEF0123456789abcdef0123456789abcdef"
		     "0123456789abcdef.scope", "", "", "",
		     "docker-0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef.scope");
	expect_names("/system.slice/docker-" ID ".scopex", "", "", "", "");
	/* a UID with a bad digit or separator */
	expect_names("/kubepods/pod1a2b3c4d-0000-4111-8222-abcdefabcdeg", "", "", "", "");
	expect_names("/kubepods/pod1a2b3c4d_0000-4111-8222-abcdefabcdef", "", "", "", "");
	/* a unit with bytes systemd never puts in a name */
	expect_names("/system.slice/a\033[2Jb.service", "", "", "", "");
	expect_names("/system.slice/a b.service", "", "", "", "");
	expect_names("/system.slice/.service", "", "", "", "");
	/* slashes only, empty */
	expect_names("///", "", "", "", "");
	expect_names("", "", "", "", "");
	/* longer than a path may be: read up to the bound, no more */
	for (i = 0; i + 1 < sizeof(long_path); i++)
		long_path[i] = i % 2 ? '/' : 'a';
	long_path[sizeof(long_path) - 1] = '\0';
	expect_names(long_path, "", "", "", "");
}

static int mount_point(const char *text, char *out, size_t len)
{
	return cgroup_mount_point(text, strlen(text), out, len);
}

static void test_mount_point(void **state)
{
	const char *hybrid =
		"23 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
		"31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
		"32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
		"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
	const char *v2 = "30 23 0:26 / /sys/fs/cgroup rw,nosuid shared:4 master:1 - cgroup2 "
			 "cgroup2 rw,nsdelegate\n";
	const char *escaped = "41 31 0:38 / /mnt/my\\040cgroup rw - cgroup2 none rw";
	/* a bind mount of a subtree first, the root later */
	const char *bind = "50 23 0:38 /sub /mnt/sub rw - cgroup2 cgroup2 rw\n"
			   "41 31 0:38 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
	char out[64], small[8];

	assert_int_equal(mount_point(hybrid, out, sizeof(out)), 0);
	assert_string_equal(out, "/sys/fs/cgroup/unified");
	assert_int_equal(mount_point(v2, out, sizeof(out)), 0);
	assert_string_equal(out, "/sys/fs/cgroup");
	assert_int_equal(mount_point(escaped, out, sizeof(out)), 0);
	assert_string_equal(out, "/mnt/my cgroup");
	assert_int_equal(mount_point(bind, out, sizeof(out)), 0);
	assert_string_equal(out, "/sys/fs/cgroup");
	assert_int_equal(mount_point("50 23 0:38 /sub /mnt/sub rw - cgroup2 x rw\n", out,
				     sizeof(out)), 0);
	assert_string_equal(out, "/mnt/sub");
	/* none: v1 only; a "cgroup2" that is not the fstype */
	assert_int_equal(mount_point("32 31 0:29 / /cgroup2 rw - cgroup cgroup2 rw\n", out,
				     sizeof(out)), -ENOENT);
	assert_int_equal(mount_point("", out, sizeof(out)), -ENOENT);
	assert_int_equal(mount_point("garbage\n\n - cgroup2\n", out, sizeof(out)), -ENOENT);
	assert_int_equal(mount_point(v2, small, sizeof(small)), -ENAMETOOLONG);
}

static void test_dir(void **state)
{
	const char *m = "/sys/fs/cgroup/unified";
	char out[128], small[16];

	assert_int_equal(cgroup_dir(m, "/system.slice/x.service", out, sizeof(out)), 0);
	assert_string_equal(out, "/sys/fs/cgroup/unified/system.slice/x.service");
	assert_int_equal(cgroup_dir(m, "/", out, sizeof(out)), 0);
	assert_string_equal(out, "/sys/fs/cgroup/unified");
	assert_int_equal(cgroup_dir(m, "/sys/fs/cgroup/unified/a", out, sizeof(out)), 0);
	assert_string_equal(out, "/sys/fs/cgroup/unified/a");
	assert_int_equal(cgroup_dir(m, "/sys/fs/cgroup/unified", out, sizeof(out)), 0);
	assert_string_equal(out, "/sys/fs/cgroup/unified");
	/* a sibling of the mount is a v2 path, not a directory under it */
	assert_int_equal(cgroup_dir(m, "/sys/fs/cgroup/unifiedx", out, sizeof(out)), 0);
	assert_string_equal(out, "/sys/fs/cgroup/unified/sys/fs/cgroup/unifiedx");
	assert_int_equal(cgroup_dir("/sys/fs/cgroup/", "/a", out, sizeof(out)), 0);
	assert_string_equal(out, "/sys/fs/cgroup/a");
	assert_int_equal(cgroup_dir(m, "relative", out, sizeof(out)), -EINVAL);
	assert_int_equal(cgroup_dir(m, "/a/../../etc", out, sizeof(out)), -EINVAL);
	assert_int_equal(cgroup_dir(m, "/..", out, sizeof(out)), -EINVAL);
	assert_int_equal(cgroup_dir(m, "/a..b", out, sizeof(out)), 0);
	assert_int_equal(cgroup_dir(m, "/a", small, sizeof(small)), -ENAMETOOLONG);
}

static void test_label(void **state)
{
	struct lw_cgroup docker = { "/system.slice/docker-" ID ".scope", ID, "docker", "", "" };
	struct lw_cgroup k8s = { "/kubepods/burstable/pod" UID "/" ID, ID, "", UID, "" };
	struct lw_cgroup pod = { "/kubepods/pod" UID, "", "", UID, "" };
	struct lw_cgroup unit = { "/system.slice/nginx.service", "", "", "", "nginx.service" };
	struct lw_cgroup plain = { "/leakwatch-test", "", "", "", "" };
	struct lw_cgroup root = { "/", "", "", "", "" };
	char out[128];

	cgroup_label(&docker, out, sizeof(out));
	assert_string_equal(out, "docker 0123456789ab");
	cgroup_label(&k8s, out, sizeof(out));
	assert_string_equal(out, "container 0123456789ab");
	cgroup_label(&pod, out, sizeof(out));
	assert_string_equal(out, "pod " UID);
	cgroup_label(&unit, out, sizeof(out));
	assert_string_equal(out, "nginx.service");
	cgroup_label(&plain, out, sizeof(out));
	assert_string_equal(out, "/leakwatch-test");
	cgroup_label(&root, out, sizeof(out));
	assert_string_equal(out, "");
	cgroup_label(NULL, out, sizeof(out));
	assert_string_equal(out, "");
}

static void test_table_shares(void **state)
{
	struct cgroup_table *t;
	const struct lw_cgroup *a, *b, *c;

	assert_int_equal(cgroup_table_new(0, &t), 0);
	a = cgroup_table_get(t, "/system.slice/docker-" ID ".scope");
	b = cgroup_table_get(t, "/system.slice/docker-" ID ".scope");
	c = cgroup_table_get(t, "/system.slice/nginx.service");
	assert_non_null(a);
	assert_ptr_equal(a, b);
	assert_ptr_not_equal(a, c);
	assert_string_equal(a->container, ID);
	assert_string_equal(a->runtime, "docker");
	assert_string_equal(a->pod, "");
	assert_string_equal(c->unit, "nginx.service");
	assert_string_equal(c->path, "/system.slice/nginx.service");
	assert_int_equal(cgroup_table_len(t), 2);
	cgroup_table_put(t, a);
	assert_int_equal(cgroup_table_len(t), 2); /* b still holds it */
	assert_string_equal(b->runtime, "docker");
	cgroup_table_put(t, b);
	assert_int_equal(cgroup_table_len(t), 1);
	cgroup_table_put(t, NULL);
	cgroup_table_put(t, c);
	assert_int_equal(cgroup_table_len(t), 0);
	assert_int_equal(cgroup_table_untracked(t), 0);
	cgroup_table_free(t);
}

static void test_table_bounded(void **state)
{
	const struct lw_cgroup *held[4];
	struct cgroup_table *t;
	char path[32], too_long[LW_CGROUP_PATH_MAX + 8];
	int i;

	assert_int_equal(cgroup_table_new(3, &t), 0);
	for (i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "/cg%d", i);
		held[i] = cgroup_table_get(t, path);
	}
	assert_non_null(held[2]);
	assert_null(held[3]); /* full: counted */
	assert_int_equal(cgroup_table_untracked(t), 1);
	/* a path already in is still shared when full */
	assert_ptr_equal(cgroup_table_get(t, "/cg1"), held[1]);
	cgroup_table_put(t, held[1]);
	/* room again once one goes */
	cgroup_table_put(t, held[0]);
	assert_non_null(held[3] = cgroup_table_get(t, "/cg3"));
	memset(too_long, 'a', sizeof(too_long) - 1);
	too_long[0] = '/';
	too_long[sizeof(too_long) - 1] = '\0';
	assert_null(cgroup_table_get(t, too_long));
	assert_int_equal(cgroup_table_untracked(t), 2);
	cgroup_table_free(t); /* frees what is still held */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proc_v2_only),
		cmocka_unit_test(test_proc_hybrid),
		cmocka_unit_test(test_proc_deleted),
		cmocka_unit_test(test_proc_rejects),
		cmocka_unit_test(test_names_docker),
		cmocka_unit_test(test_names_containerd_crio_podman),
		cmocka_unit_test(test_names_kubepods_cgroupfs),
		cmocka_unit_test(test_names_units),
		cmocka_unit_test(test_names_hostile),
		cmocka_unit_test(test_mount_point),
		cmocka_unit_test(test_dir),
		cmocka_unit_test(test_label),
		cmocka_unit_test(test_table_shares),
		cmocka_unit_test(test_table_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

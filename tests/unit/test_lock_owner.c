// SPDX-License-Identifier: GPL-2.0
/*
 * lock_owner against real glibc locks: locked by a thread of this test, the
 * bytes of the lock copied and decoded; and the layout constants against
 * this machine's <pthread.h> and, where libc6-dbg is installed, the DWARF of
 * its libc.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "lock_owner.h"

#define FUTEX_WAIT 0
#define FUTEX_LOCK_PI 6

_Static_assert(offsetof(pthread_mutex_t, __data.__lock) == LW_MUTEX_LOCK_OFF, "__lock");
_Static_assert(offsetof(pthread_mutex_t, __data.__owner) == LW_MUTEX_OWNER_OFF, "__owner");
_Static_assert(offsetof(pthread_mutex_t, __data.__kind) == LW_MUTEX_KIND_OFF, "__kind");
_Static_assert(sizeof(pthread_mutex_t) == LW_MUTEX_SIZE, "mutex size");
_Static_assert(offsetof(pthread_rwlock_t, __data.__readers) == LW_RWLOCK_READERS_OFF, "readers");
_Static_assert(offsetof(pthread_rwlock_t, __data.__wrphase_futex) == LW_RWLOCK_WRPHASE_FUTEX_OFF,
	       "wrphase");
_Static_assert(offsetof(pthread_rwlock_t, __data.__writers_futex) == LW_RWLOCK_WRITERS_FUTEX_OFF,
	       "writers_futex");
_Static_assert(offsetof(pthread_rwlock_t, __data.__cur_writer) == LW_RWLOCK_CUR_WRITER_OFF,
	       "cur_writer");
_Static_assert(offsetof(pthread_rwlock_t, __data.__shared) == LW_RWLOCK_SHARED_OFF, "shared");
_Static_assert(offsetof(pthread_rwlock_t, __data.__flags) == LW_RWLOCK_FLAGS_OFF, "flags");
_Static_assert(sizeof(pthread_rwlock_t) == LW_RWLOCK_SIZE, "rwlock size");

/* A thread that takes a lock, says its tid and holds it until told. */
struct holder {
	pthread_mutex_t *mutex;
	pthread_rwlock_t *rwlock;
	bool read;
	pid_t tid;
	int ready[2], done[2];
};

static void *hold(void *arg)
{
	struct holder *h = arg;
	char c = 0;

	if (h->mutex)
		pthread_mutex_lock(h->mutex);
	else if (h->read)
		pthread_rwlock_rdlock(h->rwlock);
	else
		pthread_rwlock_wrlock(h->rwlock);
	h->tid = gettid();
	if (write(h->ready[1], &c, 1) != 1 || read(h->done[0], &c, 1) != 1)
		abort();
	if (h->mutex)
		pthread_mutex_unlock(h->mutex);
	else
		pthread_rwlock_unlock(h->rwlock);
	return NULL;
}

static pthread_t start_holder(struct holder *h)
{
	pthread_t t;
	char c;

	assert_int_equal(pipe(h->ready), 0);
	assert_int_equal(pipe(h->done), 0);
	assert_int_equal(pthread_create(&t, NULL, hold, h), 0);
	assert_int_equal(read(h->ready[0], &c, 1), 1);
	return t;
}

static void stop_holder(struct holder *h, pthread_t t)
{
	char c = 0;

	assert_int_equal(write(h->done[1], &c, 1), 1);
	pthread_join(t, NULL);
	close(h->ready[0]);
	close(h->ready[1]);
	close(h->done[0]);
	close(h->done[1]);
}

/* Decodes the lock as a thread of kind k in futex(uaddr, op, val) would see
 * it, reading from this process's memory. */
static int decode(enum lw_lock_kind k, const void *uaddr, uint32_t op, uint32_t val,
		  struct lock_owner *o)
{
	struct lock_read r;
	unsigned char buf[64];
	int err = lock_owner_where(k, (uintptr_t)uaddr, op, val, &r);

	if (err)
		return err;
	assert_true(r.len <= sizeof(buf));
	memcpy(buf, (const void *)(uintptr_t)r.addr, r.len);
	return lock_owner_decode(k, (uintptr_t)uaddr, op, val, &r, buf, r.len, o);
}

static void check_mutex(int protocol, int robust, uint32_t op)
{
	pthread_mutexattr_t a;
	pthread_mutex_t m;
	struct holder h = { .mutex = &m };
	struct lock_owner o;
	pthread_t t;

	pthread_mutexattr_init(&a);
	assert_int_equal(pthread_mutexattr_setprotocol(&a, protocol), 0);
	assert_int_equal(pthread_mutexattr_setrobust(&a, robust), 0);
	assert_int_equal(pthread_mutex_init(&m, &a), 0);
	t = start_holder(&h);
	assert_int_equal(decode(LW_LOCK_MUTEX, &m, op, 2, &o), 0);
	assert_int_equal(o.tid, h.tid);
	assert_int_equal(o.lock, (uintptr_t)&m);
	stop_holder(&h, t);
	/* Free now: nobody to blame. */
	assert_int_equal(decode(LW_LOCK_MUTEX, &m, op, 2, &o), -ENOENT);
	pthread_mutex_destroy(&m);
	pthread_mutexattr_destroy(&a);
}

static void test_mutex_owner(void **state)
{
	(void)state;
	check_mutex(PTHREAD_PRIO_NONE, PTHREAD_MUTEX_STALLED, FUTEX_WAIT);
}

static void test_pi_mutex_owner_is_the_futex_word(void **state)
{
	(void)state;
	check_mutex(PTHREAD_PRIO_INHERIT, PTHREAD_MUTEX_STALLED, FUTEX_LOCK_PI);
}

static void test_robust_mutex_owner(void **state)
{
	(void)state;
	check_mutex(PTHREAD_PRIO_NONE, PTHREAD_MUTEX_ROBUST, FUTEX_WAIT);
}

static void test_pi_wait_on_a_plain_mutex_is_not_believed(void **state)
{
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	struct holder h = { .mutex = &m };
	struct lock_owner o;
	pthread_t t;

	(void)state;
	t = start_holder(&h);
	assert_int_equal(decode(LW_LOCK_MUTEX, &m, FUTEX_LOCK_PI, 0, &o), -EBADMSG);
	stop_holder(&h, t);
}

static void test_rwlock_writer_blocks_readers(void **state)
{
	pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
	struct holder h = { .rwlock = &rw };
	struct lock_owner o;
	pthread_t t;

	(void)state;
	t = start_holder(&h);
	/* A reader sleeps on __wrphase_futex with 1 | FUTEX_USED. */
	assert_int_equal(decode(LW_LOCK_RWLOCK_READ, &rw.__data.__wrphase_futex, FUTEX_WAIT, 3, &o),
			 0);
	assert_int_equal(o.tid, h.tid);
	assert_int_equal(o.lock, (uintptr_t)&rw);
	/* A writer behind it sleeps on __writers_futex. */
	assert_int_equal(decode(LW_LOCK_RWLOCK_WRITE, &rw.__data.__writers_futex, FUTEX_WAIT, 3, &o),
			 0);
	assert_int_equal(o.tid, h.tid);
	stop_holder(&h, t);
	assert_int_equal(decode(LW_LOCK_RWLOCK_READ, &rw.__data.__wrphase_futex, FUTEX_WAIT, 3, &o),
			 -ENOENT);
}

static void test_rwlock_readers_block_a_writer(void **state)
{
	pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
	struct holder h = { .rwlock = &rw, .read = true };
	struct lock_owner o;
	pthread_t t;

	(void)state;
	t = start_holder(&h);
	/* The writer waits for the readers on __wrphase_futex (0 | FUTEX_USED):
	 * held by one reader, who has no name in the lock. */
	assert_int_equal(decode(LW_LOCK_RWLOCK_WRITE, &rw.__data.__wrphase_futex, FUTEX_WAIT, 2, &o),
			 0);
	assert_int_equal(o.tid, 0);
	assert_int_equal(o.readers, 1);
	stop_holder(&h, t);
}

static void test_not_a_lock(void **state)
{
	unsigned char junk[64];
	struct lock_read r;
	struct lock_owner o;

	(void)state;
	memset(junk, 0xff, sizeof(junk));
	assert_int_equal(lock_owner_where(LW_LOCK_MUTEX, 0x1000, FUTEX_WAIT, 2, &r), 0);
	assert_int_equal(lock_owner_decode(LW_LOCK_MUTEX, 0x1000, FUTEX_WAIT, 2, &r, junk,
					   sizeof(junk), &o), -EBADMSG);
	assert_int_equal(lock_owner_where(LW_LOCK_RWLOCK_READ, 0x1000, FUTEX_WAIT, 3, &r), 0);
	assert_int_equal(lock_owner_decode(LW_LOCK_RWLOCK_READ, 0x1000, FUTEX_WAIT, 3, &r, junk,
					   sizeof(junk), &o), -EBADMSG);
	/* Short buffers, a wrong read, misalignment, ownerless waits. */
	assert_int_equal(lock_owner_decode(LW_LOCK_MUTEX, 0x1000, FUTEX_WAIT, 2, &r, junk, 8, &o),
			 -EINVAL);
	assert_int_equal(lock_owner_where(LW_LOCK_MUTEX, 0x1001, FUTEX_WAIT, 2, &r), -EINVAL);
	assert_int_equal(lock_owner_where(LW_LOCK_OWNERLESS, 0x1000, FUTEX_WAIT, 2, &r), -ENOENT);
	assert_int_equal(lock_owner_where(LW_LOCK_RWLOCK_WRITE, 0x1000, FUTEX_WAIT, 7, &r), -ENOENT);
	assert_int_equal(lock_owner_where(LW_LOCK_RWLOCK_READ, 4, FUTEX_WAIT, 3, &r), -ENOENT);
}

static void test_kind_from_frames(void **state)
{
	const char *dbg[] = { "futex_wait", "__GI___lll_lock_wait", "lll_mutex_lock_optimized",
			      "___pthread_mutex_lock", "lookup", "start_thread" };
	const char *dyn[] = { NULL, "pthread_rwlock_wrlock", "main" };
	const char *cond[] = { "__futex_abstimed_wait_common", "__pthread_cond_wait_common",
			       "___pthread_cond_wait", "queue_get" };
	const char *sem[] = { "do_futex_wait", "__new_sem_wait_slow64", "worker" };
	const char *rd[] = { "__pthread_rwlock_rdlock_full64", "reader" };
	const char *app[] = { "read", "refresh_cache", "main" };
	const char *what;

	(void)state;
	assert_int_equal(lock_kind_from_frames(dbg, 6, &what), LW_LOCK_MUTEX);
	assert_null(what);
	assert_int_equal(lock_kind_from_frames(dyn, 3, NULL), LW_LOCK_RWLOCK_WRITE);
	assert_int_equal(lock_kind_from_frames(rd, 2, NULL), LW_LOCK_RWLOCK_READ);
	assert_int_equal(lock_kind_from_frames(cond, 4, &what), LW_LOCK_OWNERLESS);
	assert_string_equal(what, "condition variable");
	assert_int_equal(lock_kind_from_frames(sem, 3, &what), LW_LOCK_OWNERLESS);
	assert_string_equal(what, "semaphore");
	assert_int_equal(lock_kind_from_frames(app, 3, &what), LW_LOCK_NOT_A_LOCK);
	assert_string_equal(lock_kind_name(LW_LOCK_RWLOCK_READ), "rwlock (read)");
}

/* The DWARF of this machine's libc (libc6-dbg), by build-id. */
static int libc_debug_path(char *path, size_t len)
{
	int fd = open("/lib/x86_64-linux-gnu/libc.so.6", O_RDONLY);
	Elf_Scn *scn = NULL;
	int err = -ENOENT;
	Elf *e;

	if (fd < 0)
		return -errno;
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ, NULL);
	while (e && err && (scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		GElf_Nhdr nh;
		size_t off = 0, name_off, desc_off;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE || !(d = elf_getdata(scn, NULL)))
			continue;
		while ((off = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
			const unsigned char *id = (const unsigned char *)d->d_buf + desc_off;
			size_t i, o;

			if (nh.n_type != NT_GNU_BUILD_ID || nh.n_descsz < 2)
				continue;
			o = snprintf(path, len, "/usr/lib/debug/.build-id/%02x/", id[0]);
			for (i = 1; i < nh.n_descsz && o + 3 < len; i++)
				o += snprintf(path + o, len - o, "%02x", id[i]);
			snprintf(path + o, len - o, ".debug");
			err = 0;
			break;
		}
	}
	elf_end(e);
	close(fd);
	return err;
}

/* The offset of member in the first structure type named type. */
static long member_offset(Dwarf *dw, const char *type, const char *member)
{
	Dwarf_Off off = 0, next;
	size_t hsize;

	while (dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu, die, m;

		if (dwarf_offdie(dw, off + hsize, &cu) && dwarf_child(&cu, &die) == 0) {
			do {
				const char *n = dwarf_diename(&die);
				Dwarf_Attribute at;
				Dwarf_Word w;

				if (dwarf_tag(&die) != DW_TAG_structure_type || !n ||
				    strcmp(n, type) || dwarf_child(&die, &m) != 0)
					continue;
				do {
					n = dwarf_diename(&m);
					if (n && !strcmp(n, member) &&
					    dwarf_attr(&m, DW_AT_data_member_location, &at) &&
					    dwarf_formudata(&at, &w) == 0)
						return (long)w;
				} while (dwarf_siblingof(&m, &m) == 0);
			} while (dwarf_siblingof(&die, &die) == 0);
		}
		off = next;
	}
	return -1;
}

static void test_layout_matches_libc_dwarf(void **state)
{
	static const struct {
		const char *type, *member;
		long offset;
	} members[] = {
		{ "__pthread_mutex_s", "__lock", LW_MUTEX_LOCK_OFF },
		{ "__pthread_mutex_s", "__owner", LW_MUTEX_OWNER_OFF },
		{ "__pthread_mutex_s", "__kind", LW_MUTEX_KIND_OFF },
		{ "__pthread_rwlock_arch_t", "__readers", LW_RWLOCK_READERS_OFF },
		{ "__pthread_rwlock_arch_t", "__wrphase_futex", LW_RWLOCK_WRPHASE_FUTEX_OFF },
		{ "__pthread_rwlock_arch_t", "__writers_futex", LW_RWLOCK_WRITERS_FUTEX_OFF },
		{ "__pthread_rwlock_arch_t", "__cur_writer", LW_RWLOCK_CUR_WRITER_OFF },
		{ "__pthread_rwlock_arch_t", "__shared", LW_RWLOCK_SHARED_OFF },
		{ "__pthread_rwlock_arch_t", "__flags", LW_RWLOCK_FLAGS_OFF },
	};
	char path[256];
	size_t i;
	Dwarf *dw;
	int fd = -1;

	(void)state;
	if (libc_debug_path(path, sizeof(path)) || (fd = open(path, O_RDONLY)) < 0) {
		/* install-deps installs libc6-dbg: CI always runs this. */
		fprintf(stderr, "test_lock_owner: no libc6-dbg DWARF (%s): headers checked only\n",
			path);
		skip();
	}
	dw = dwarf_begin(fd, DWARF_C_READ);
	assert_non_null(dw);
	for (i = 0; i < sizeof(members) / sizeof(members[0]); i++) {
		long got = member_offset(dw, members[i].type, members[i].member);

		if (got != members[i].offset)
			fail_msg("%s.%s: DWARF says %ld, lock_owner.h %ld", members[i].type,
				 members[i].member, got, members[i].offset);
	}
	dwarf_end(dw);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mutex_owner),
		cmocka_unit_test(test_pi_mutex_owner_is_the_futex_word),
		cmocka_unit_test(test_robust_mutex_owner),
		cmocka_unit_test(test_pi_wait_on_a_plain_mutex_is_not_believed),
		cmocka_unit_test(test_rwlock_writer_blocks_readers),
		cmocka_unit_test(test_rwlock_readers_block_a_writer),
		cmocka_unit_test(test_not_a_lock),
		cmocka_unit_test(test_kind_from_frames),
		cmocka_unit_test(test_layout_matches_libc_dwarf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

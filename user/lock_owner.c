// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include "lock_owner.h"

/* linux/futex.h */
#define FUTEX_WAIT 0
#define FUTEX_LOCK_PI 6
#define FUTEX_WAIT_BITSET 9
#define FUTEX_LOCK_PI2 13
#define FUTEX_TID_MASK 0x3fffffffu

/* glibc's internal mutex kind bits (nptl/pthreadP.h). */
#define MUTEX_ROBUST 16
#define MUTEX_PI 32
#define MUTEX_PP 64
#define MUTEX_PSHARED 128
#define MUTEX_ELISION 256
#define MUTEX_NO_ELISION 512
#define MUTEX_KIND_BITS (3 | MUTEX_ROBUST | MUTEX_PI | MUTEX_PP | MUTEX_PSHARED | \
			 MUTEX_ELISION | MUTEX_NO_ELISION)
/* __owner of a robust mutex whose owner died / that cannot be recovered. */
#define MUTEX_INCONSISTENT 0x7fffffffu
#define MUTEX_NOTRECOVERABLE 0x7ffffffeu

/* pthread_rwlock: bit 0 of the phase futex is "write phase"; a waiter sets
 * FUTEX_USED in the word it sleeps on; readers are counted from bit 3. */
#define RWLOCK_FUTEX_USED 2
#define RWLOCK_READER_SHIFT 3

const char *lock_kind_name(enum lw_lock_kind k)
{
	switch (k) {
	case LW_LOCK_MUTEX:
		return "mutex";
	case LW_LOCK_RWLOCK_READ:
		return "rwlock (read)";
	case LW_LOCK_RWLOCK_WRITE:
		return "rwlock (write)";
	case LW_LOCK_OWNERLESS:
		return "ownerless";
	default:
		return "";
	}
}

/* Frame names of glibc's waits, as they contain them once leading
 * underscores are dropped: "___pthread_mutex_lock", "__pthread_mutex_lock_full",
 * "pthread_mutex_clocklock", "__pthread_mutex_clocklock_common". */
static const struct {
	const char *name;
	enum lw_lock_kind kind;
	const char *what;
} lock_funcs[] = {
	{ "pthread_mutex_lock", LW_LOCK_MUTEX, NULL },
	{ "pthread_mutex_timedlock", LW_LOCK_MUTEX, NULL },
	{ "pthread_mutex_clocklock", LW_LOCK_MUTEX, NULL },
	{ "pthread_rwlock_rdlock", LW_LOCK_RWLOCK_READ, NULL },
	{ "pthread_rwlock_timedrdlock", LW_LOCK_RWLOCK_READ, NULL },
	{ "pthread_rwlock_clockrdlock", LW_LOCK_RWLOCK_READ, NULL },
	{ "pthread_rwlock_wrlock", LW_LOCK_RWLOCK_WRITE, NULL },
	{ "pthread_rwlock_timedwrlock", LW_LOCK_RWLOCK_WRITE, NULL },
	{ "pthread_rwlock_clockwrlock", LW_LOCK_RWLOCK_WRITE, NULL },
	{ "pthread_cond_", LW_LOCK_OWNERLESS, "condition variable" },
	{ "sem_wait", LW_LOCK_OWNERLESS, "semaphore" },
	{ "sem_timedwait", LW_LOCK_OWNERLESS, "semaphore" },
	{ "sem_clockwait", LW_LOCK_OWNERLESS, "semaphore" },
	{ "new_sem_wait", LW_LOCK_OWNERLESS, "semaphore" },
	{ "pthread_barrier_wait", LW_LOCK_OWNERLESS, "barrier" },
	{ "pthread_join", LW_LOCK_OWNERLESS, "thread join" },
	{ "pthread_timedjoin", LW_LOCK_OWNERLESS, "thread join" },
	{ "pthread_clockjoin", LW_LOCK_OWNERLESS, "thread join" },
};

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

enum lw_lock_kind lock_kind_from_frames(const char *const *funcs, size_t n,
					const char **ownerless_what)
{
	size_t i, k;

	if (ownerless_what)
		*ownerless_what = NULL;
	for (i = 0; i < n; i++) {
		const char *f = funcs[i];

		if (!f)
			continue;
		while (*f == '_')
			f++;
		for (k = 0; k < sizeof(lock_funcs) / sizeof(lock_funcs[0]); k++) {
			if (!starts_with(f, lock_funcs[k].name))
				continue;
			if (ownerless_what)
				*ownerless_what = lock_funcs[k].what;
			return lock_funcs[k].kind;
		}
	}
	return LW_LOCK_NOT_A_LOCK;
}

static bool is_plain_wait(uint32_t op_cmd)
{
	return op_cmd == FUTEX_WAIT || op_cmd == FUTEX_WAIT_BITSET;
}

int lock_owner_where(enum lw_lock_kind k, uint64_t uaddr, uint32_t op_cmd, uint32_t val,
		     struct lock_read *r)
{
	if (uaddr % 4)
		return -EINVAL;
	switch (k) {
	case LW_LOCK_MUTEX:
		/* Every kind sleeps on __lock, the mutex's first word. */
		if (!is_plain_wait(op_cmd) && op_cmd != FUTEX_LOCK_PI && op_cmd != FUTEX_LOCK_PI2)
			return -ENOENT;
		r->addr = uaddr - LW_MUTEX_LOCK_OFF;
		r->len = LW_MUTEX_SIZE;
		return 0;
	case LW_LOCK_RWLOCK_READ:
		/* Readers sleep on __wrphase_futex while a writer has it. */
		if (!is_plain_wait(op_cmd) || uaddr < LW_RWLOCK_WRPHASE_FUTEX_OFF)
			return -ENOENT;
		r->addr = uaddr - LW_RWLOCK_WRPHASE_FUTEX_OFF;
		r->len = LW_RWLOCK_SIZE;
		return 0;
	case LW_LOCK_RWLOCK_WRITE:
		/* A writer sleeps on __writers_futex (value 1 | FUTEX_USED)
		 * behind another writer, or on __wrphase_futex (0 | FUTEX_USED)
		 * for the readers to leave. */
		if (!is_plain_wait(op_cmd))
			return -ENOENT;
		if (val == (1 | RWLOCK_FUTEX_USED) && uaddr >= LW_RWLOCK_WRITERS_FUTEX_OFF)
			r->addr = uaddr - LW_RWLOCK_WRITERS_FUTEX_OFF;
		else if (val == RWLOCK_FUTEX_USED && uaddr >= LW_RWLOCK_WRPHASE_FUTEX_OFF)
			r->addr = uaddr - LW_RWLOCK_WRPHASE_FUTEX_OFF;
		else
			return -ENOENT;
		r->len = LW_RWLOCK_SIZE;
		return 0;
	default:
		return -ENOENT;
	}
}

static uint32_t word_at(const unsigned char *buf, size_t off)
{
	uint32_t v;

	memcpy(&v, buf + off, sizeof(v));
	return v;
}

static int decode_mutex(const unsigned char *b, struct lock_owner *out)
{
	uint32_t lock = word_at(b, LW_MUTEX_LOCK_OFF), owner = word_at(b, LW_MUTEX_OWNER_OFF);
	uint32_t kind = word_at(b, LW_MUTEX_KIND_OFF);

	if (kind & ~(uint32_t)MUTEX_KIND_BITS)
		return -EBADMSG;
	if (kind & (MUTEX_PI | MUTEX_ROBUST)) {
		/* The futex word is the owner's tid, with FUTEX_WAITERS and
		 * FUTEX_OWNER_DIED above it. */
		out->tid = lock & FUTEX_TID_MASK;
	} else {
		if (!lock)
			return -ENOENT; /* unlocked since the thread went to sleep */
		out->tid = owner;
	}
	if (!out->tid || out->tid == MUTEX_INCONSISTENT || out->tid == MUTEX_NOTRECOVERABLE ||
	    out->tid > FUTEX_TID_MASK)
		return -ENOENT;
	return 0;
}

int lock_owner_decode(enum lw_lock_kind k, uint64_t uaddr, uint32_t op_cmd, uint32_t val,
		      const struct lock_read *r, const void *buf, size_t len,
		      struct lock_owner *out)
{
	const unsigned char *b = buf;
	uint32_t phase, shared, flags, writer;
	struct lock_read want;
	int err;

	err = lock_owner_where(k, uaddr, op_cmd, val, &want);
	if (err)
		return err;
	if (r->addr != want.addr || r->len != want.len || len < want.len)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->lock = r->addr;
	if (k == LW_LOCK_MUTEX) {
		/* A PI waiter must be on a PI mutex and the other way round. */
		bool pi_wait = op_cmd == FUTEX_LOCK_PI || op_cmd == FUTEX_LOCK_PI2;

		if (pi_wait != !!(word_at(b, LW_MUTEX_KIND_OFF) & MUTEX_PI))
			return -EBADMSG;
		return decode_mutex(b, out);
	}
	shared = word_at(b, LW_RWLOCK_SHARED_OFF);
	flags = word_at(b, LW_RWLOCK_FLAGS_OFF);
	if (shared > 1 || flags > 2) /* PTHREAD_RWLOCK_PREFER_*: 0..2 */
		return -EBADMSG;
	phase = word_at(b, LW_RWLOCK_WRPHASE_FUTEX_OFF);
	writer = word_at(b, LW_RWLOCK_CUR_WRITER_OFF);
	if (k == LW_LOCK_RWLOCK_WRITE && r->addr == uaddr - LW_RWLOCK_WRPHASE_FUTEX_OFF) {
		/* Read phase: the readers hold it, and have no names. */
		out->readers = word_at(b, LW_RWLOCK_READERS_OFF) >> RWLOCK_READER_SHIFT;
		return out->readers ? 0 : -ENOENT;
	}
	if (k == LW_LOCK_RWLOCK_READ && !(phase & 1))
		return -ENOENT; /* back in a read phase: free for readers now */
	if (!writer || writer > FUTEX_TID_MASK)
		return -ENOENT;
	out->tid = writer;
	return 0;
}

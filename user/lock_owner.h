/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Who holds the lock a stuck thread waits for, read from the lock itself:
 * glibc keeps the owner's tid in a pthread mutex (__data.__owner; in the
 * futex word of PI and robust mutexes) and the writer's in a pthread rwlock
 * (__data.__cur_writer).  What the thread waits on comes from its stack (the
 * glibc function it sleeps in) and its futex call; the bytes come from the
 * caller (process_vm_readv).  Pure: unit tests drive it.
 *
 * Layouts: glibc's x86-64 ABI (sysdeps/nptl/bits/struct_mutex.h,
 * sysdeps/x86/nptl/bits/struct_rwlock.h), unchanged since glibc 2.25;
 * test_lock_owner checks them against this machine's headers and, where
 * libc6-dbg is installed, the DWARF of its libc.
 */
#ifndef LW_LOCK_OWNER_H
#define LW_LOCK_OWNER_H
#include <stddef.h>
#include <stdint.h>

/* struct __pthread_mutex_s: __lock is the futex word. */
#define LW_MUTEX_LOCK_OFF 0
#define LW_MUTEX_OWNER_OFF 8
#define LW_MUTEX_KIND_OFF 16
#define LW_MUTEX_SIZE 40
/* struct __pthread_rwlock_arch_t */
#define LW_RWLOCK_READERS_OFF 0
#define LW_RWLOCK_WRPHASE_FUTEX_OFF 8
#define LW_RWLOCK_WRITERS_FUTEX_OFF 12
#define LW_RWLOCK_CUR_WRITER_OFF 24
#define LW_RWLOCK_SHARED_OFF 28
#define LW_RWLOCK_FLAGS_OFF 48
#define LW_RWLOCK_SIZE 56

/* What a stuck thread waits for. */
enum lw_lock_kind {
	LW_LOCK_NOT_A_LOCK,   /* not in a glibc lock function: nothing to say */
	LW_LOCK_MUTEX,        /* pthread_mutex_lock and its timed forms */
	LW_LOCK_RWLOCK_READ,  /* pthread_rwlock_rdlock ... */
	LW_LOCK_RWLOCK_WRITE, /* pthread_rwlock_wrlock ... */
	LW_LOCK_OWNERLESS,    /* condition variable, semaphore, barrier, join: no owner exists */
};

/* "mutex", "rwlock (read)", "rwlock (write)", "ownerless", "" */
const char *lock_kind_name(enum lw_lock_kind k);

/*
 * The kind of wait from the function names of the thread's stack,
 * innermost first (libc6-dbg's names, "___pthread_mutex_lock", or the
 * exported ones, "pthread_mutex_lock"): the first glibc synchronization
 * function met decides.  ownerless_what (may be NULL) gets what an ownerless
 * wait is ("condition variable", "semaphore", "barrier", "thread join").
 */
enum lw_lock_kind lock_kind_from_frames(const char *const *funcs, size_t n,
					const char **ownerless_what);

/* The bytes that say who holds it: read len bytes at addr. */
struct lock_read {
	uint64_t addr; /* the start of the pthread_mutex_t / pthread_rwlock_t */
	size_t len;
};

/*
 * Where to read, for a thread of kind k sleeping in futex(uaddr, op, val)
 * (op_cmd: the FUTEX_* command without flags; val: the value it waits
 * on).  Returns 0, or -ENOENT when the wait has no owner to read (ownerless
 * kinds, a futex word glibc does not use that way), -EINVAL (misaligned).
 */
int lock_owner_where(enum lw_lock_kind k, uint64_t uaddr, uint32_t op_cmd, uint32_t val,
		     struct lock_read *r);

struct lock_owner {
	uint64_t lock;    /* the pthread_mutex_t / pthread_rwlock_t */
	uint32_t tid;     /* who holds it; 0: held by readers (count in readers) */
	uint32_t readers; /* rwlock held for reading: how many readers */
};

/*
 * Decodes the bytes read at r (buf, len) for a thread of kind k sleeping in
 * futex(uaddr, op_cmd, val).  Returns 0 with *out (tid != 0, or readers !=
 * 0); -ENOENT: free now, or no owner recorded (a robust mutex whose owner
 * died); -EBADMSG: the bytes are not a glibc lock of that kind.  The caller
 * still checks that tid is a thread of the same process.
 */
int lock_owner_decode(enum lw_lock_kind k, uint64_t uaddr, uint32_t op_cmd, uint32_t val,
		      const struct lock_read *r, const void *buf, size_t len,
		      struct lock_owner *out);

#endif

// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>
#include "lock_wait.h"

#define NR_FUTEX 202
#define FUTEX_CMD_MASK 127 /* without FUTEX_PRIVATE_FLAG, FUTEX_CLOCK_REALTIME */
#define FUTEX_WAIT 0
#define FUTEX_WAIT_BITSET 9

/* The registers glibc's PI path may keep the mutex in, callee-saved. */
static const enum lw_reg pointer_regs[] = {
	LW_REG_BX, LW_REG_BP, LW_REG_R12, LW_REG_R13, LW_REG_R14, LW_REG_R15,
};
/* A register may point at the mutex or at a member glibc works on. */
static const uint64_t member_offsets[] = { 0, LW_MUTEX_KIND_OFF, LW_MUTEX_OWNER_OFF };

static bool in_pi_mutex_lock(const struct lw_stack_text *frames)
{
	int i;

	for (i = 0; i < frames->n; i++) {
		const char *f = frames->info[i].func;

		if (f && strstr(f, "pthread_mutex_lock_full"))
			return true;
	}
	return false;
}

/* The owner a lock names (ns_tid, as the target sees it) as leakwatch
 * names threads; 0: no thread of the process. */
static uint32_t owner_host_tid(const struct lw_task_rec *r, const struct lw_lock_ops *ops,
			       uint32_t ns_tid)
{
	return ops->host_tid ? ops->host_tid(ops->ctx, r->pid, ns_tid) : ns_tid;
}

static int read_owner(const struct lw_task_rec *r, enum lw_lock_kind k, uint64_t uaddr,
		      uint32_t cmd, uint32_t val, const struct lw_lock_ops *ops,
		      struct lock_owner *o)
{
	unsigned char buf[LW_RWLOCK_SIZE];
	struct lock_read where;
	int err;

	err = lock_owner_where(k, uaddr, cmd, val, &where);
	if (err)
		return err;
	if (where.len > sizeof(buf))
		return -EINVAL;
	err = ops->read(ops->ctx, r->pid, r->tid, where.addr, buf, where.len);
	if (err)
		return -EFAULT;
	return lock_owner_decode(k, uaddr, cmd, val, &where, buf, where.len, o);
}

/*
 * glibc's PI path, refused with EDEADLK by the kernel, sleeps for good on a
 * futex of its own stack (value 0): the syscall no longer names the mutex.
 * The registers may still point at it: each candidate is read, and taken
 * only if it is a PI mutex held by another thread of the process, and all
 * that validate agree.
 */
static int pi_mutex_from_regs(const struct lw_task_rec *r, const struct lw_lock_ops *ops,
			      struct lock_owner *o)
{
	struct lock_owner found = { 0 }, cand;
	uint32_t host;
	size_t i, k;

	for (i = 0; i < sizeof(pointer_regs) / sizeof(pointer_regs[0]); i++) {
		for (k = 0; k < sizeof(member_offsets) / sizeof(member_offsets[0]); k++) {
			uint64_t base = r->regs[pointer_regs[i]] - member_offsets[k];

			/* Below 4096 nothing is mapped: not a pointer. */
			if (r->regs[pointer_regs[i]] < 4096 + member_offsets[k] || base % 8 ||
			    read_owner(r, LW_LOCK_MUTEX, base, 6 /* FUTEX_LOCK_PI */, 0, ops,
				       &cand))
				continue;
			host = owner_host_tid(r, ops, cand.tid);
			if (!host || host == r->tid || !ops->is_thread_of(ops->ctx, r->pid, host))
				continue;
			if (found.lock && found.lock != cand.lock)
				return -ENOENT; /* two candidates: no guess */
			found = cand;
		}
	}
	if (!found.lock)
		return -ENOENT;
	*o = found;
	return 0;
}

void lock_wait_decode(const struct lw_task_rec *r, const struct lw_wait *w,
		      const struct lw_stack_text *frames, const struct lw_lock_ops *ops,
		      struct lw_lock *out, struct lw_lock_stats *stats)
{
	const char *funcs[LW_STACK_MAX];
	struct lock_owner o;
	uint32_t cmd, val;
	int i, err;

	memset(out, 0, sizeof(*out));
	if (!frames || r->syscall_nr != NR_FUTEX || !w->has_futex)
		return;
	for (i = 0; i < frames->n && i < LW_STACK_MAX; i++)
		funcs[i] = frames->info[i].func;
	out->kind = lock_kind_from_frames(funcs, (size_t)i, &out->what);
	if (out->kind == LW_LOCK_NOT_A_LOCK || out->kind == LW_LOCK_OWNERLESS || !ops || !ops->read ||
	    !ops->is_thread_of)
		return;
	cmd = (uint32_t)r->args[1] & FUTEX_CMD_MASK;
	val = (uint32_t)r->args[2];
	err = read_owner(r, out->kind, w->futex_addr, cmd, val, ops, &o);
	if (err && out->kind == LW_LOCK_MUTEX && (cmd == FUTEX_WAIT || cmd == FUTEX_WAIT_BITSET) &&
	    val == 0 && in_pi_mutex_lock(frames)) {
		err = pi_mutex_from_regs(r, ops, &o);
		out->kernel_deadlock = !err;
	}
	if (err == -EFAULT) {
		stats->unreadable++;
		return;
	}
	if (err) {
		if (err == -EBADMSG)
			stats->invalid++;
		return;
	}
	out->addr = o.lock;
	out->readers = o.readers;
	if (!out->kernel_deadlock) {
		out->uaddr = w->futex_addr;
		out->cmd = cmd;
		out->val = val;
	}
	if (o.tid) {
		uint32_t host = owner_host_tid(r, ops, o.tid);

		/* A thread that holds the mutex it waits for is a self
		 * deadlock; anything else must be another thread of it. */
		if (!host || (host != r->tid && !ops->is_thread_of(ops->ctx, r->pid, host))) {
			stats->invalid++;
			return;
		}
		out->owner_known = true;
		out->owner_tid = host;
		out->owner_word = o.tid;
		stats->owners_found++;
	}
}

bool lock_wait_still_owned(const struct lw_lock *l, uint32_t pid, uint32_t tid,
			   const struct lw_lock_ops *ops)
{
	unsigned char buf[LW_RWLOCK_SIZE];
	uint32_t word, owner = l->owner_word ? l->owner_word : l->owner_tid;

	if (!l->owner_known || !l->addr || !ops || !ops->read)
		return false;
	if (l->kind == LW_LOCK_MUTEX) {
		if (ops->read(ops->ctx, pid, tid, l->addr, buf, LW_MUTEX_SIZE))
			return false;
		memcpy(&word, buf + LW_MUTEX_LOCK_OFF, sizeof(word));
		if ((word & 0x3fffffffu) == owner)
			return true; /* PI or robust: the word is the owner */
		memcpy(&word, buf + LW_MUTEX_OWNER_OFF, sizeof(word));
		return word == owner;
	}
	if (ops->read(ops->ctx, pid, tid, l->addr, buf, LW_RWLOCK_SIZE))
		return false;
	memcpy(&word, buf + LW_RWLOCK_CUR_WRITER_OFF, sizeof(word));
	return word == owner;
}

bool lock_wait_refresh(struct lw_lock *l, uint32_t pid, uint32_t tid,
		       const struct lw_lock_ops *ops)
{
	struct lw_task_rec r = { .pid = pid, .tid = tid };
	struct lock_owner o;
	uint32_t host = 0;

	if (!l->owner_known || !l->uaddr || l->kernel_deadlock || !ops || !ops->read ||
	    !ops->is_thread_of || lock_wait_still_owned(l, pid, tid, ops))
		return false;
	if (!read_owner(&r, (enum lw_lock_kind)l->kind, l->uaddr, l->cmd, l->val, ops, &o) &&
	    o.lock == l->addr && o.tid) {
		host = owner_host_tid(&r, ops, o.tid);
		if (host && host != tid && !ops->is_thread_of(ops->ctx, pid, host))
			host = 0;
	}
	if (host == l->owner_tid)
		return false;
	l->owner_known = host != 0;
	l->owner_tid = host;
	l->owner_word = host ? o.tid : 0;
	return true;
}

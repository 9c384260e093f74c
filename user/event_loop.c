// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include "event_loop.h"

enum { SRC_RINGBUF, SRC_TICK, SRC_DEADLINE, SRC_SIGNAL, SRC_EXTRA };

static void loop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGCHLD);
	sigaddset(set, SIGWINCH);
	sigaddset(set, SIGUSR1);
}

int loop_block_signals(void)
{
	sigset_t set;

	/* A closed output is a write error (EPIPE) to report, not a death. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		return -errno;
	loop_signals(&set);
	return sigprocmask(SIG_BLOCK, &set, NULL) ? -errno : 0;
}

void loop_unblock_signals(void)
{
	sigset_t set;

	/* An ignored signal stays ignored across exec: a command gets the default. */
	signal(SIGPIPE, SIG_DFL);
	loop_signals(&set);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

void loop_second_interrupt_kills(void)
{
	sigset_t set;

	signal(SIGINT, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

static int timer_new(uint64_t first_ns, uint64_t period_ns)
{
	struct itimerspec its = {
		.it_value = { .tv_sec = first_ns / 1000000000ULL, .tv_nsec = first_ns % 1000000000ULL },
		.it_interval = { .tv_sec = period_ns / 1000000000ULL,
				 .tv_nsec = period_ns % 1000000000ULL },
	};
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);

	if (fd < 0)
		return -errno;
	if (timerfd_settime(fd, 0, &its, NULL)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static int watch(int epfd, int fd, uint64_t src)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = src };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

int loop_run(int ringbuf_fd, uint64_t interval_ns, uint64_t duration_ns,
	     const struct lw_loop_ops *ops)
{
	int epfd = -1, tick_fd = -1, deadline_fd = -1, sig_fd = -1, err, n, i;
	struct epoll_event events[8];
	struct signalfd_siginfo si;
	uint64_t expirations;
	bool stop = false, by_signal = false;
	sigset_t set;

	loop_signals(&set);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		return -errno;
	sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sig_fd < 0) {
		err = -errno;
		goto out;
	}
	tick_fd = timer_new(interval_ns, interval_ns);
	if (tick_fd < 0) {
		err = tick_fd;
		goto out;
	}
	if (duration_ns) {
		deadline_fd = timer_new(duration_ns, 0);
		if (deadline_fd < 0) {
			err = deadline_fd;
			goto out;
		}
		err = watch(epfd, deadline_fd, SRC_DEADLINE);
		if (err)
			goto out;
	}
	err = watch(epfd, ringbuf_fd, SRC_RINGBUF);
	if (!err)
		err = watch(epfd, tick_fd, SRC_TICK);
	if (!err)
		err = watch(epfd, sig_fd, SRC_SIGNAL);
	if (!err && ops->extra_fd >= 0)
		err = watch(epfd, ops->extra_fd, SRC_EXTRA);
	if (err)
		goto out;

	while (!stop) {
		n = epoll_wait(epfd, events, 8, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto out;
		}
		for (i = 0; i < n && !stop; i++) {
			switch (events[i].data.u64) {
			case SRC_RINGBUF:
				err = ops->on_ringbuf(ops->ctx);
				break;
			case SRC_TICK:
				if (read(tick_fd, &expirations, sizeof(expirations)) < 0 &&
				    errno != EAGAIN) {
					err = -errno;
					break;
				}
				err = ops->on_tick(ops->ctx);
				break;
			case SRC_DEADLINE:
				err = 1;
				break;
			case SRC_EXTRA:
				err = ops->on_extra(ops->ctx);
				break;
			case SRC_SIGNAL:
				if (read(sig_fd, &si, sizeof(si)) != sizeof(si)) {
					err = 0;
					break;
				}
				if (si.ssi_signo == SIGCHLD) {
					err = ops->on_child ? ops->on_child(ops->ctx) : 0;
					break;
				}
				if (si.ssi_signo == SIGWINCH) {
					err = ops->on_winch ? ops->on_winch(ops->ctx) : 0;
					break;
				}
				if (si.ssi_signo == SIGUSR1) {
					err = ops->on_usr1 ? ops->on_usr1(ops->ctx) : 0;
					break;
				}
				/* SIGINT, SIGTERM, SIGHUP: stop cleanly. */
				by_signal = true;
				err = 1;
				break;
			}
			if (err)
				stop = true;
		}
	}
	if (err > 0)
		err = by_signal ? LOOP_SIGNALED : 0;
out:
	if (sig_fd >= 0)
		close(sig_fd);
	if (tick_fd >= 0)
		close(tick_fd);
	if (deadline_fd >= 0)
		close(deadline_fd);
	close(epfd);
	return err;
}

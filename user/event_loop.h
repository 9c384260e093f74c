/* SPDX-License-Identifier: GPL-2.0 */
/* The daemon's loop: epoll over the ring buffer, a timerfd and a signalfd. */
#ifndef LW_EVENT_LOOP_H
#define LW_EVENT_LOOP_H
#include <stdint.h>
#include <sys/signalfd.h>

struct lw_loop_ops {
	/* Each returns 0 to go on, 1 to stop, or -errno to fail. */
	int (*on_tick)(void *ctx);      /* every interval */
	int (*on_ringbuf)(void *ctx);   /* records are waiting */
	int (*on_child)(void *ctx);     /* SIGCHLD */
	int (*on_winch)(void *ctx);     /* SIGWINCH: the terminal was resized */
	int (*on_usr1)(void *ctx);      /* SIGUSR1: write the --folded file now */
	int extra_fd;                   /* another fd to watch (the HTTP server), or -1 */
	int (*on_extra)(void *ctx);     /* extra_fd is readable */
	void *ctx;
};

/* Blocks the signals the loop takes through its signalfd (SIGINT, SIGTERM,
 * SIGHUP, SIGCHLD, SIGWINCH, SIGUSR1) and ignores SIGPIPE; call before starting threads or
 * children (children must call loop_unblock_signals, which also gives
 * SIGPIPE its default back). */
int loop_block_signals(void);
void loop_unblock_signals(void);

/* From now on a SIGINT kills at once: for a second Ctrl-C, after a first
 * one stopped the loop (stopping may hang). */
void loop_second_interrupt_kills(void);

#define LOOP_SIGNALED 1

/*
 * Runs until SIGINT, SIGTERM or SIGHUP (returns LOOP_SIGNALED), duration_ns
 * passes (0: never) or a callback stops it (returns 0), or an error
 * (-errno).  The signals stay blocked after it returns.
 */
int loop_run(int ringbuf_fd, uint64_t interval_ns, uint64_t duration_ns,
	     const struct lw_loop_ops *ops);

#endif

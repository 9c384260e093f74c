/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Timeline export (--timeline FILE): the reports as a Chrome Trace Event
 * Format file, JSON object form, which ui.perfetto.dev and chrome://tracing
 * open:
 *
 *   {"traceEvents":[
 *   {event},
 *   {event}
 *   ],"displayTimeUnit":"ms","otherData":{...}}
 *
 * Timestamps ("ts", "dur") are integer microseconds since the Unix epoch,
 * the reports' own clock.  Not relative to the run start: a thread already
 * blocked when leakwatch started has its wait begin before the start, and
 * Perfetto rejects negative timestamps.  Both viewers show time from the
 * first event anyway.
 *
 * What each report becomes:
 *   - any report with a pid (not site, not summary): a "process_name"
 *     metadata event for the pid, written once (again if the name changes);
 *   - stuck, spin: a "thread_name" metadata event for the tid, the same way;
 *   - a wait that was reported stuck: one complete event ("ph":"X") on its
 *     thread, named by its wait kind, from its start (the stuck report's
 *     ts - blocked_s) to its end, written when it ends: at the unstuck
 *     report, at the process's exit report (args "process_exited"), when the
 *     tid shows up stuck again or in another process (args "end_exact":
 *     false), or at timeline_close (args "open": true);
 *   - sample: process counter tracks "threads", "blocked" and "stuck" (one
 *     "C" event each, series "count", so Perfetto names the tracks "threads
 *     count", ...; not one event with three series, which chrome://tracing
 *     would stack although stuck <= blocked <= threads).  A counter is
 *     written only when its value changed since the last one written: the
 *     viewers hold a value until the next, and the file does not grow with
 *     the run time;
 *   - leak: a process-scoped instant ("ph":"i","s":"p") with the site, its
 *     stuck count, growth and stacks in args;
 *   - spin: a thread-scoped instant ("s":"t") with running_s and the stack;
 *   - exit: a process-scoped instant "exit"; the process and its threads
 *     are then forgotten, so a reused pid or tid gets its own names;
 *   - summary: its counts go into "otherData" at close; site: nothing (its
 *     stacks come with the leak);
 *   - goroutines (reports with a goid): a stuck goroutine's wait is a
 *     complete event named by Go's wait reason (args goid, site, func,
 *     created_by), the same way as a thread's, on a goroutine track of its
 *     process: a pseudo-thread named "goroutines N" whose tid (from 2^30,
 *     above any pid_max) is no real thread's.  A track holds one wait at a
 *     time and is reused by the process's next stuck goroutine; at most
 *     timeline_set_goroutine_tracks tracks are alive at once (default 200),
 *     a stuck goroutine finding none free is counted
 *     ("goroutine_waits_untracked" in otherData, with "goroutine_tracks"
 *     made and the cap); a Go process's sample adds counters
 *     "goroutines", "goroutines blocked", "goroutines stuck"; a leak at a
 *     goroutine site adds its "where" and "created_by"; go: nothing.
 *
 * Only waits that crossed the threshold are written, so the file grows with
 * stuck threads, not with context switches.  Every event is flushed when
 * written: after a crash the file lacks only its closing "\n]}", and a
 * wait still open then is lost (it is written when it ends).
 */
#ifndef LW_TIMELINE_H
#define LW_TIMELINE_H
#include <stdio.h>
#include "report.h"

struct timeline;

/* Creates or truncates path for writing a timeline, refusing what is not a
 * regular file (-EINVAL): a FIFO would block the open before anything runs,
 * deaf to signals.  Returns 0 and *out (close it with fclose), or -errno. */
int timeline_file_open(const char *path, FILE **out);

/* Writes the header to f, which stays the caller's (closed by the caller
 * after timeline_close).  Returns 0, -EIO or -ENOMEM. */
int timeline_open(FILE *f, double start_unix, struct timeline **out);

#define TIMELINE_DEFAULT_GOROUTINE_TRACKS 200

/* At most max goroutine tracks alive at once (0: none drawn, all counted). */
void timeline_set_goroutine_tracks(struct timeline *t, uint32_t max);

/* Writes what r shows.  Returns 0, -EIO (kept: timeline_close returns it)
 * or -ENOMEM (the event is not written, counted in otherData). */
int timeline_write(struct timeline *t, const struct lw_report *r);

/* A struct lw_sink emit function; ctx is the struct timeline *. */
void timeline_emit(void *ctx, const struct lw_report *r);

/* Ends the open waits at end_unix, writes the closing brackets and
 * otherData, flushes and frees t (NULL is a no-op).  Returns 0, or -EIO
 * when any write failed: the file is then not valid JSON. */
int timeline_close(struct timeline *t, double end_unix);

#endif

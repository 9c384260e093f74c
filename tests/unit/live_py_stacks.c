// SPDX-License-Identifier: GPL-2.0
/*
 * The Python frame reader (user/py_frames.c) against live CPython
 * processes: tests/fixtures/py/leak.py under each python given prints its
 * threads' stacks as it sees them (sys._current_frames() + traceback); the
 * reader's frames of each of those threads must be the same, frame for
 * frame (qualified name, file, line).  A python before 3.11 must be
 * reported not supported, with no frame.  Needs to read another process's
 * memory: root, or the same uid with ptrace_scope 0.
 *
 *   live_py_stacks FIXTURE PYTHON...   the tests
 *   live_py_stacks --pid PID            every thread's Python frames of PID
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "py_frames.h"

#define HANDLERS "3"
#define READY_TIMEOUT_S 60
#define THREADS_MAX 64
#define LINE_MAX_LEN 1024

struct want_thread {
	unsigned long tid;
	char name[64];
	int n;
	char frames[PY_FRAMES_MAX][LINE_MAX_LEN];
};

struct snapshot {
	int n;
	struct want_thread t[THREADS_MAX];
};

static void frame_line(const struct lw_frame *f, char *buf, size_t len)
{
	snprintf(buf, len, "frame %s %s %d", f->func, f->file, f->line);
}

/* Every thread of pid with its Python frames. */
static int dump_pid(unsigned int pid)
{
	struct py_procs *pp;
	struct lw_frame frames[PY_FRAMES_MAX];
	char path[64], line[LINE_MAX_LEN];
	struct dirent *de;
	DIR *d;
	int err = py_procs_new(&pp);

	if (err)
		return 1;
	snprintf(path, sizeof(path), "/proc/%u/task", pid);
	d = opendir(path);
	if (!d) {
		perror(path);
		py_procs_free(pp);
		return 1;
	}
	while ((de = readdir(d))) {
		unsigned long tid = strtoul(de->d_name, NULL, 10);
		int n;

		if (!tid)
			continue;
		n = py_thread_frames(pp, pid, (uint32_t)tid, frames, PY_FRAMES_MAX);
		if (n < 0) {
			const char *why = py_proc_error(pp, pid);

			printf("thread %lu error %s\n", tid, why ? why : strerror(-n));
			continue;
		}
		printf("thread %lu\n", tid);
		for (int i = 0; i < n; i++) {
			frame_line(&frames[i], line, sizeof(line));
			printf("%s%s\n", line, frames[i].py_entry ? " (entry)" : "");
		}
	}
	closedir(d);
	py_procs_free(pp);
	return 0;
}

/* Starts python fixture; its stdout as a stream in *out.  The pid, or -1. */
static pid_t start(const char *python, const char *fixture, FILE **out)
{
	int fds[2];
	pid_t pid;

	if (pipe(fds))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		execl(python, python, fixture, "--max", HANDLERS, "--every", "50", "--exit-after",
		      "60", (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	*out = fdopen(fds[0], "r");
	if (*out)
		setvbuf(*out, NULL, _IONBF, 0);
	return pid;
}

/* One line of f, waiting READY_TIMEOUT_S at most: false at EOF or timeout. */
static bool next_line(FILE *f, char *buf, size_t len, time_t deadline)
{
	struct pollfd p = { .fd = fileno(f), .events = POLLIN };
	char *nl;

	/* f is unbuffered: what poll sees is all there is. */
	for (;;) {
		int left = (int)(deadline - time(NULL));

		if (left <= 0)
			return false;
		if (poll(&p, 1, left * 1000) > 0)
			break;
	}
	if (!fgets(buf, (int)len, f))
		return false;
	nl = strchr(buf, '\n');
	if (nl)
		*nl = '\0';
	return true;
}

/* Reads lines until the snapshot printed after the last handler; the
 * python's minor version from "python 3.X".  0, or -1. */
static int read_snapshot(FILE *f, struct snapshot *s, int *minor)
{
	char line[LINE_MAX_LEN];
	time_t deadline = time(NULL) + READY_TIMEOUT_S;
	bool last = false, in = false;

	*minor = -1;
	while (next_line(f, line, sizeof(line), deadline)) {
		if (sscanf(line, "python 3.%d", minor) == 1)
			continue;
		if (!strcmp(line, "leaked " HANDLERS))
			last = true;
		if (!strcmp(line, "stacks BEGIN")) {
			s->n = 0;
			in = true;
		} else if (in && !strcmp(line, "stacks END")) {
			if (last)
				return 0;
			in = false;
		} else if (in && !strncmp(line, "thread ", 7) && s->n < THREADS_MAX) {
			struct want_thread *t = &s->t[s->n++];

			t->n = 0;
			if (sscanf(line, "thread %lu %63s", &t->tid, t->name) != 2)
				return -1;
		} else if (in && !strncmp(line, "frame ", 6) && s->n) {
			struct want_thread *t = &s->t[s->n - 1];

			if (t->n < PY_FRAMES_MAX)
				snprintf(t->frames[t->n++], LINE_MAX_LEN, "%s", line);
		}
	}
	return -1;
}

/* The reader against one python's fixture.  0 ok, 1 failed. */
static int test_python(const char *python, const char *fixture)
{
	static struct snapshot s;
	struct lw_frame frames[PY_FRAMES_MAX];
	struct py_procs *pp = NULL;
	char line[LINE_MAX_LEN];
	int minor, bad = 0, total = 0;
	FILE *out = NULL;
	pid_t pid = start(python, fixture, &out);

	if (pid < 0 || !out) {
		printf("FAIL %s: cannot start\n", python);
		return 1;
	}
	if (read_snapshot(out, &s, &minor)) {
		printf("FAIL %s: no stack snapshot from the fixture\n", python);
		bad = 1;
		goto cleanup;
	}
	if (py_procs_new(&pp)) {
		bad = 1;
		goto cleanup;
	}
	for (int i = 0; i < s.n; i++) {
		struct want_thread *t = &s.t[i];
		int n = py_thread_frames(pp, (uint32_t)pid, (uint32_t)t->tid, frames,
					 PY_FRAMES_MAX);

		if (minor < 11) {
			const char *why = py_proc_error(pp, (uint32_t)pid);

			if (n != -ENOTSUP || !why || !strstr(why, "not supported")) {
				printf("FAIL %s 3.%d: thread %lu: %d, %s (want not supported)\n",
				       python, minor, t->tid, n, why ? why : "no error");
				bad = 1;
			} else if (i == 0) {
				printf("ok %s 3.%d: %s\n", python, minor, why);
			}
			continue;
		}
		if (n != t->n)
			bad = 1;
		for (int k = 0; k < (n > t->n ? n : t->n); k++) {
			const char *want = k < t->n ? t->frames[k] : "(none)";

			if (k < n)
				frame_line(&frames[k], line, sizeof(line));
			else
				snprintf(line, sizeof(line), "(none)");
			if (strcmp(line, want)) {
				printf("FAIL %s thread %lu %s frame %d: read \"%s\", "
				       "python says \"%s\"\n", python, t->tid, t->name, k, line,
				       want);
				bad = 1;
			}
		}
		total += n > 0 ? n : 0;
	}
	if (minor >= 11) {
		struct py_stats st;

		py_procs_get_stats(pp, &st);
		printf("%s %s 3.%d: %d threads, %d frames as the fixture printed them "
		       "(read %llu stacks, %llu errors, %llu cut)\n",
		       bad ? "FAIL" : "ok", python, minor, s.n, total,
		       (unsigned long long)st.threads_read, (unsigned long long)st.read_errors,
		       (unsigned long long)st.chains_cut);
		if (s.n < 3 + atoi(HANDLERS))
			bad = printf("FAIL %s: %d threads in the snapshot, want 3 + " HANDLERS
				     "\n", python, s.n) > 0;
	}
cleanup:
	py_procs_free(pp);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	if (out)
		fclose(out);
	return bad;
}

int main(int argc, char **argv)
{
	int failed = 0;

	if (argc == 3 && !strcmp(argv[1], "--pid"))
		return dump_pid((unsigned int)strtoul(argv[2], NULL, 10));
	if (argc < 3) {
		fprintf(stderr, "usage: %s FIXTURE PYTHON... | --pid PID\n", argv[0]);
		return 2;
	}
	for (int i = 2; i < argc; i++)
		failed |= test_python(argv[i], argv[1]);
	return failed;
}

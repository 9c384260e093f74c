// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "args.h"
#include "clock.h"
#include "event_loop.h"
#include "log.h"
#include "run_mode.h"

/* 0 if path is an executable regular file, else -errno. */
static int executable_file(const char *path)
{
	struct stat st;

	if (stat(path, &st))
		return -errno;
	if (!S_ISREG(st.st_mode))
		return S_ISDIR(st.st_mode) ? -EISDIR : -EACCES;
	return access(path, X_OK) ? -errno : 0;
}

int run_command_check(const char *cmd)
{
	const char *path = getenv("PATH"), *p, *end;
	char buf[PATH_MAX];
	int err = -ENOENT, e;

	if (!*cmd)
		return -ENOENT;
	if (strchr(cmd, '/'))
		return executable_file(cmd);
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path; ; p = end + 1) {
		end = strchrnul(p, ':');
		snprintf(buf, sizeof(buf), "%.*s/%s", (int)(end - p), end == p ? "." : p, cmd);
		e = executable_file(buf);
		if (!e)
			return 0;
		if (e == -EACCES)
			err = -EACCES;
		if (!*end)
			return err;
	}
}

int run_ids_from_env(struct run_mode *rm, const char **bad)
{
	const char *uid = getenv("SUDO_UID"), *gid = getenv("SUDO_GID");
	uint32_t u, g;

	rm->drop = false;
	if (getuid() != 0 || (!uid && !gid))
		return 0;
	if (args_parse_id(uid, &u)) {
		*bad = "SUDO_UID";
		return -EINVAL;
	}
	if (args_parse_id(gid, &g)) {
		*bad = "SUDO_GID";
		return -EINVAL;
	}
	rm->uid = u;
	rm->gid = g;
	rm->drop = true;
	return 0;
}

/* The child: wait for the release, drop privileges, exec; on failure the
 * errno goes back through exec_fd. */
static void __attribute__((noreturn)) run_child(const struct run_mode *rm, int hold_fd,
						 int exec_fd, char **argv)
{
	char go;
	int err;

	setpgid(0, 0);
	loop_unblock_signals();
	if (read(hold_fd, &go, 1) != 1)
		_exit(127); /* leakwatch gave up before the start */
	if (rm->drop && (setgroups(0, NULL) || setgid(rm->gid) || setuid(rm->uid))) {
		err = errno;
		fprintf(stderr, "leakwatch: cannot drop to uid %u: %s\n", (unsigned)rm->uid,
			strerror(err));
		goto fail;
	}
	execvp(argv[0], argv);
	err = errno;
	fprintf(stderr, "leakwatch: cannot run '%s': %s\n", argv[0], strerror(err));
fail:
	if (write(exec_fd, &err, sizeof(err)) < 0)
		_exit(127);
	_exit(127);
}

int run_start(struct run_mode *rm, char **argv)
{
	int hold[2], exec[2], err;
	pid_t pid;

	rm->release_fd = rm->exec_fd = -1;
	if (pipe2(hold, O_CLOEXEC))
		return -errno;
	if (pipe2(exec, O_CLOEXEC)) {
		err = -errno;
		close(hold[0]);
		close(hold[1]);
		return err;
	}
	pid = fork();
	if (pid < 0) {
		err = -errno;
		close(hold[0]);
		close(hold[1]);
		close(exec[0]);
		close(exec[1]);
		return err;
	}
	if (pid == 0) {
		close(hold[1]);
		close(exec[0]);
		run_child(rm, hold[0], exec[1], argv);
	}
	/* Both sides set the group: whichever runs first, it is set before
	 * anyone signals it. */
	setpgid(pid, pid);
	close(hold[0]);
	close(exec[1]);
	rm->child = pid;
	rm->release_fd = hold[1];
	rm->exec_fd = exec[0];
	return 0;
}

int run_release(struct run_mode *rm)
{
	ssize_t n;
	int err = 0, child_err;

	if (write(rm->release_fd, "x", 1) != 1)
		err = -errno;
	close(rm->release_fd);
	rm->release_fd = -1;
	if (err)
		return err;
	/* EOF: the exec closed the pipe (O_CLOEXEC); an int: it failed. */
	do
		n = read(rm->exec_fd, &child_err, sizeof(child_err));
	while (n < 0 && errno == EINTR);
	close(rm->exec_fd);
	rm->exec_fd = -1;
	return n == (ssize_t)sizeof(child_err) ? -child_err : 0;
}

bool run_reap(struct run_mode *rm)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == rm->child) {
			rm->status = status;
			rm->done = true;
		}
	}
	return rm->done;
}

/* The command's group; the command alone if it left it (setsid, setpgid). */
static void signal_command(const struct run_mode *rm, int sig)
{
	if (kill(-rm->child, sig) && errno == ESRCH)
		kill(rm->child, sig);
}

static void kill_group(struct run_mode *rm, const char *why)
{
	log_error("%s: sending SIGKILL to the command's process group (%d)", why, rm->child);
	signal_command(rm, SIGKILL);
}

void run_stop(struct run_mode *rm, uint64_t grace_ns)
{
	uint64_t deadline = clock_mono_ns() + grace_ns, now;
	struct timespec left;
	sigset_t set;
	int sig;

	if (rm->child <= 0 || run_reap(rm))
		return;
	signal_command(rm, SIGTERM);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	while (!run_reap(rm)) {
		now = clock_mono_ns();
		if (now >= deadline) {
			kill_group(rm, "the command did not exit within the grace after SIGTERM");
			break;
		}
		left.tv_sec = (time_t)((deadline - now) / 1000000000ULL);
		left.tv_nsec = (long)((deadline - now) % 1000000000ULL);
		sig = sigtimedwait(&set, NULL, &left);
		if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
			kill_group(rm, "stopped again while the command was ending");
			break;
		}
	}
	while (!rm->done && waitpid(rm->child, &rm->status, 0) < 0 && errno == EINTR)
		;
	rm->done = true;
}

int run_exit_code(const struct run_mode *rm)
{
	if (WIFEXITED(rm->status))
		return WEXITSTATUS(rm->status);
	if (WIFSIGNALED(rm->status))
		return 128 + WTERMSIG(rm->status);
	return LW_EXIT_CANNOT_RUN;
}

void run_free(struct run_mode *rm)
{
	if (rm->release_fd >= 0) {
		/* Never released: closing the pipe ends it before its exec. */
		close(rm->release_fd);
		rm->release_fd = -1;
		if (!rm->done)
			waitpid(rm->child, &rm->status, 0);
		rm->done = true;
	}
	if (rm->exec_fd >= 0) {
		close(rm->exec_fd);
		rm->exec_fd = -1;
	}
}

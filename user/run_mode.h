/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Run mode (leakwatch -- COMMAND): check the command, start it held until
 * the BPF side watches it, drop to the sudo user, reap it, end it (SIGTERM,
 * a grace, then SIGKILL to its process group) and turn its status into
 * leakwatch's exit code.
 */
#ifndef LW_RUN_MODE_H
#define LW_RUN_MODE_H
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* How long a command has between SIGTERM and SIGKILL. */
#define LW_RUN_GRACE_NS 5000000000ULL

struct run_mode {
	pid_t child;     /* the command; leader of a process group of its own */
	int release_fd;  /* written once: the command may exec */
	int exec_fd;     /* EOF once the command exec'd (or an errno if it failed) */
	int status;      /* waitpid status, once done */
	bool done;
	bool drop;       /* run as uid/gid (the user who ran sudo) */
	uid_t uid;
	gid_t gid;
};

/* Whether execvp would run cmd: an executable regular file, as found in
 * $PATH.  Returns 0, -ENOENT, -EACCES or -EISDIR/-ENOEXEC-like -errno. */
int run_command_check(const char *cmd);

/* Under sudo (root, SUDO_UID and SUDO_GID set), the ids to run the command
 * as.  Returns 0 (rm->drop says whether to drop) or -EINVAL when either
 * variable does not parse (*bad names it). */
int run_ids_from_env(struct run_mode *rm, const char **bad);

/* Forks the command in a process group of its own, held before exec until
 * run_release.  Call with the loop's signals blocked. */
int run_start(struct run_mode *rm, char **argv);
/* Lets the command exec and waits until it did, so that the first scan sees
 * its name.  Returns 0, or the -errno of a failed exec. */
int run_release(struct run_mode *rm);
/* Reaps exited children without waiting; returns true once the command is. */
bool run_reap(struct run_mode *rm);
/*
 * Ends the command: SIGTERM to its process group, up to grace_ns for it to
 * exit, then SIGKILL to the group (said on stderr).  A SIGINT, SIGTERM or
 * SIGHUP meanwhile (they are blocked: taken with sigtimedwait) kills at
 * once.  Returns when the command was reaped.
 */
void run_stop(struct run_mode *rm, uint64_t grace_ns);
/* The command's exit status as a shell gives it: its code, or 128 + the
 * signal that ended it. */
int run_exit_code(const struct run_mode *rm);
/* Frees what run_start made; a command never released is ended. */
void run_free(struct run_mode *rm);

#endif

/*
 * common/run.h -- run a child program with a timeout: no shell, argv as
 * given, optional bytes on its stdin, its output captured up to a cap, and
 * a SIGKILL to its whole process group when the time is up.
 *
 * Safe to call from a multi-threaded daemon: every allocation and string
 * operation happens before fork; the child only makes async-signal-safe
 * calls until execve.  The caller must not ignore SIGCHLD (waitpid needs
 * the exit status).  Descriptors other than 0, 1 and 2 are closed in the
 * child.
 */
#ifndef DS_COMMON_RUN_H
#define DS_COMMON_RUN_H

#include <stdbool.h>
#include <stddef.h>

#define RUN_DEFAULT_TIMEOUT_MS 30000
#define RUN_ERROR_MAX 1024

struct run_spec {
	/* argv[0]: an absolute path, or a name looked up like execvp does in
	 * the daemon's PATH (not in env's) */
	char *const *argv;
	/* "NAME=value" entries (NULL-terminated) that add to, or replace in,
	 * the daemon's environment; NULL: the environment as it is */
	char *const *env;
	/* env is the program's whole environment, nothing of the daemon's */
	bool env_only;
	/* bytes written to the program's stdin, then EOF; NULL: /dev/null */
	const void *input;
	size_t input_len;
	/* the program is killed after this long; 0: RUN_DEFAULT_TIMEOUT_MS */
	unsigned timeout_ms;
	/* the first bytes of stdout and of stderr kept in run_result (0: none) */
	size_t capture_max;
	/* stderr goes into the stdout capture, in the order written */
	bool merge_stderr;
};

enum run_end {
	RUN_FAILED,    /* did not start (not found, not executable, no pipe or
			* fork), or could not be waited for */
	RUN_EXITED,    /* status is the exit status */
	RUN_SIGNALED,  /* status is the signal number */
	RUN_TIMED_OUT, /* killed when the time was up */
};

struct run_result {
	enum run_end end;
	int status;
	/* the captured bytes (malloc'd, NUL-terminated, NULL when none) */
	char *out, *err;
	size_t out_len, err_len;
	/*
	 * One line for logs, "" when the program exited 0: "command <path>
	 * exited with status N" (or "killed by signal N", "timed out after N s
	 * and was killed", ": not found", ": cannot execute: ..."), then ": "
	 * and the captured stderr (merged output with merge_stderr), with
	 * control and non-ASCII bytes replaced.
	 */
	char error[RUN_ERROR_MAX];
};

/*
 * Run spec->argv and wait for it.  Returns DS_OK when it exited 0,
 * DS_ECHILD when it did not (res->end says how, res->error why), DS_EINVAL
 * for an empty argv.  res is always filled; free it with
 * run_result_free().
 */
int run_program(const struct run_spec *spec, struct run_result *res);

/*
 * argv0 resolved as run_program resolves it (like execvp: a path with a
 * slash as it is, a plain name in the daemon's PATH or, without one, a
 * default PATH) into out: DS_OK when it is a regular file this process may
 * execute, else DS_ENOENT, -errno (-EACCES...) or DS_ELIMIT.  Changes
 * nothing (the configuration check uses it).
 */
int run_find(const char *argv0, char *out, size_t outlen);
void run_result_free(struct run_result *res);

#endif

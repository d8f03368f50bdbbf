/*
 * common/run.c -- see run.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/run.h"

#define RUN_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define RUN_POLL_MS 50	      /* how often the child's exit is checked while it writes */
#define RUN_IDLE_NS 20000000L /* the same once its pipes are closed */

extern char **environ;

/* The bytes kept of one output pipe. */
struct run_cap {
	int fd; /* read end, -1 at EOF */
	char *buf;
	size_t len, max;
};

/* One run, parent side. */
struct run_ctx {
	char file[4096]; /* argv[0] resolved */
	pid_t pid;
	int in;		       /* stdin write end, -1 when all is written (or no input) */
	int stat;	       /* read end of the exec-status pipe */
	int child_fd[4];       /* the child's ends: stdin, stdout, stderr, status */
	struct run_cap cap[2]; /* stdout, stderr (unused with merge_stderr) */
	const unsigned char *input;
	size_t input_left;
	int status; /* waitpid's */
	bool timed_out;
};

/*
 * Resolved before fork: the child of a multi-threaded daemon may only make
 * async-signal-safe calls, so all string work happens here.
 */
int run_find(const char *argv0, char *out, size_t outlen)
{
	const char *path, *p;

	if (argv0[0] == '\0')
		return DS_ENOENT;
	if (strchr(argv0, '/') != NULL) {
		struct stat st;
		if ((size_t)snprintf(out, outlen, "%s", argv0) >= outlen)
			return DS_ELIMIT;
		if (stat(out, &st) != 0)
			return -errno;
		if (!S_ISREG(st.st_mode))
			return -EACCES;
		return access(out, X_OK) == 0 ? DS_OK : -errno;
	}
	path = getenv("PATH");
	if (path == NULL || path[0] == '\0')
		path = RUN_DEFAULT_PATH;
	for (p = path;; p++) {
		const char *end = strchr(p, ':');
		size_t dlen = end != NULL ? (size_t)(end - p) : strlen(p);
		struct stat st;
		int n;

		/* An empty PATH element means the cwd; a daemon has no use for it. */
		if (dlen > 0) {
			n = snprintf(out, outlen, "%.*s/%s", (int)dlen, p, argv0);
			if (n > 0 && (size_t)n < outlen && stat(out, &st) == 0 &&
			    S_ISREG(st.st_mode) && access(out, X_OK) == 0)
				return DS_OK;
		}
		if (end == NULL)
			break;
		p = end;
	}
	return DS_ENOENT;
}

/* Does add set the variable of the "NAME=value" entry? */
static bool env_replaced(const char *entry, char *const *add)
{
	size_t len = strcspn(entry, "=");
	for (; *add != NULL; add++)
		if (strncmp(*add, entry, len) == 0 && (*add)[len] == '=')
			return true;
	return false;
}

/* The child's environment: environ with add's entries (the array only is malloc'd). */
static char **run_env(char *const *add)
{
	size_t n = 0, k = 0, o = 0;
	while (environ[n] != NULL)
		n++;
	while (add[k] != NULL)
		k++;
	char **e = malloc((n + k + 1) * sizeof(*e));
	if (e == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!env_replaced(environ[i], add))
			e[o++] = environ[i];
	for (size_t i = 0; i < k; i++)
		e[o++] = add[i];
	e[o] = NULL;
	return e;
}

/* Close every descriptor from first up. */
static void run_close_from(int first)
{
	struct rlimit rl;
	int max = 1024;

	if (close_range((unsigned)first, ~0U, 0) == 0)
		return;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < 65536)
		max = (int)rl.rlim_cur;
	for (int fd = first; fd < max; fd++)
		close(fd);
}

/*
 * The child's descriptors: fd[0..2] become 0..2 (fd[0] -1: /dev/null),
 * fd[3], the exec-status pipe, becomes 3 (close-on-exec), and everything
 * above is closed.  Returns 3, or where to report a failure (-1: nowhere).
 */
static int run_child_fds(const int fd[4])
{
	/* Lift the pipe ends clear of 0..3 in case the parent had those closed. */
	int out = fcntl(fd[1], F_DUPFD, 10);
	int err = fd[2] == fd[1] ? out : fcntl(fd[2], F_DUPFD, 10);
	int st = fcntl(fd[3], F_DUPFD_CLOEXEC, 10);
	if (out < 0 || st < 0)
		return -1;
	int in = fd[0] >= 0 ? fcntl(fd[0], F_DUPFD, 10) : open("/dev/null", O_RDONLY);
	if (in < 0 || err < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		return st;
	if (dup2(st, 3) < 0 || fcntl(3, F_SETFD, FD_CLOEXEC) < 0)
		return st;
	run_close_from(4);
	return 3;
}

/* The child side: only async-signal-safe calls from here on. */
static void run_child(const char *file, char *const argv[], char *const envp[], const int fd[4])
{
	sigset_t none;
	int statfd, e;

	/* Own process group, so a timeout kills what the command started too. */
	setpgid(0, 0);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);

	statfd = run_child_fds(fd);
	if (statfd == 3)
		execve(file, argv, envp);
	e = errno;
	if (statfd >= 0 && write(statfd, &e, sizeof(e)) < 0) {
		/* nothing left to report to */
	}
	_exit(127);
}

/* Make the pipes: the parent's ends into c, the child's into c->child_fd. */
static int run_pipes(struct run_ctx *c, const struct run_spec *sp)
{
	int p[2];

	if (sp->input != NULL) {
		if (pipe2(p, O_CLOEXEC) != 0)
			return -errno;
		c->child_fd[0] = p[0];
		c->in = p[1];
	}
	for (int i = 0; i < 2; i++) {
		if (i == 1 && sp->merge_stderr) {
			c->child_fd[2] = c->child_fd[1];
			break;
		}
		if (pipe2(p, O_CLOEXEC) != 0)
			return -errno;
		c->cap[i].fd = p[0];
		c->child_fd[1 + i] = p[1];
	}
	if (pipe2(p, O_CLOEXEC) != 0)
		return -errno;
	c->stat = p[0];
	c->child_fd[3] = p[1];
	return DS_OK;
}

/* Close the child's ends (in the parent, after fork or on failure). */
static void run_close_child_fds(struct run_ctx *c)
{
	for (int i = 0; i < 4; i++) {
		if (c->child_fd[i] >= 0 && (i != 2 || c->child_fd[2] != c->child_fd[1]))
			close(c->child_fd[i]);
	}
	for (int i = 0; i < 4; i++)
		c->child_fd[i] = -1;
}

/* Pipes and fork; the error text goes to res. */
static int run_start(struct run_ctx *c, const struct run_spec *sp, char *const envp[],
		     struct run_result *res)
{
	int rc = run_pipes(c, sp);
	if (rc != DS_OK) {
		ds_why(res->error, sizeof(res->error), "command %s: pipe: %s", c->file,
		       strerror(-rc));
		return DS_ECHILD;
	}
	c->pid = fork();
	if (c->pid < 0) {
		ds_why(res->error, sizeof(res->error), "command %s: fork: %s", c->file,
		       strerror(errno));
		return DS_ECHILD;
	}
	if (c->pid == 0)
		run_child(c->file, sp->argv, envp, c->child_fd);

	setpgid(c->pid, c->pid); /* also here, so a kill at timeout never misses it */
	run_close_child_fds(c);
	for (int i = 0; i < 2; i++)
		if (c->cap[i].fd >= 0)
			fcntl(c->cap[i].fd, F_SETFL, O_NONBLOCK);
	if (c->in >= 0)
		fcntl(c->in, F_SETFL, O_NONBLOCK);
	return DS_OK;
}

/* One read from an output pipe: kept up to its max, the rest dropped.
 * True when bytes came. */
static bool cap_read(struct run_cap *cp)
{
	char buf[512];
	ssize_t r = read(cp->fd, buf, sizeof(buf));

	if (r > 0) {
		size_t take = (size_t)r;
		if (take > cp->max - cp->len)
			take = cp->max - cp->len;
		if (take > 0)
			memcpy(cp->buf + cp->len, buf, take);
		cp->len += take;
		return true;
	}
	if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
		close(cp->fd);
		cp->fd = -1;
	}
	return false;
}

/* One write of the input; stdin is closed (EOF) when all is written or the
 * program stopped reading. */
static void run_feed(struct run_ctx *c)
{
	size_t n = c->input_left > 65536 ? 65536 : c->input_left;
	ssize_t w = n > 0 ? write(c->in, c->input, n) : 0;

	if (w > 0) {
		c->input += w;
		c->input_left -= (size_t)w;
	}
	if (c->input_left == 0 || (w < 0 && errno != EAGAIN && errno != EINTR)) {
		close(c->in);
		c->in = -1;
	}
}

/* Wait a little for the pipes, then move what they are ready for. */
static void run_pump(struct run_ctx *c)
{
	struct pollfd pfd[3];
	nfds_t n = 0;

	if (c->in >= 0)
		pfd[n++] = (struct pollfd){.fd = c->in, .events = POLLOUT};
	for (int i = 0; i < 2; i++)
		if (c->cap[i].fd >= 0)
			pfd[n++] = (struct pollfd){.fd = c->cap[i].fd, .events = POLLIN};
	if (n == 0) {
		struct timespec ts = {0, RUN_IDLE_NS};
		nanosleep(&ts, NULL);
		return;
	}
	if (poll(pfd, n, RUN_POLL_MS) <= 0)
		return;
	for (nfds_t k = 0; k < n; k++) {
		if (pfd[k].revents == 0)
			continue;
		if (pfd[k].fd == c->in)
			run_feed(c);
		else
			cap_read(pfd[k].fd == c->cap[0].fd ? &c->cap[0] : &c->cap[1]);
	}
}

static void run_kill(pid_t pid)
{
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
}

/*
 * Move input and output until the child exits, or the time is up (then its
 * process group is killed).  A command may exit while a process it started
 * still holds the pipes, so EOF is not the signal to stop; the exit of our
 * child is.
 */
static int run_wait(struct run_ctx *c, unsigned timeout_ms, struct run_result *res)
{
	int64_t deadline = clock_mono_ms() + timeout_ms;

	for (;;) {
		run_pump(c);
		pid_t w = waitpid(c->pid, &c->status, WNOHANG);
		if (w == c->pid)
			return DS_OK;
		if (w < 0 && errno != EINTR) {
			ds_why(res->error, sizeof(res->error), "command %s: waitpid: %s", c->file,
			       strerror(errno));
			run_kill(c->pid);
			return DS_ECHILD;
		}
		if (clock_mono_ms() >= deadline) {
			c->timed_out = true;
			run_kill(c->pid);
			while (waitpid(c->pid, &c->status, 0) < 0 && errno == EINTR)
				;
			return DS_OK;
		}
	}
}

/* Whatever is already in the output pipes (not waiting for EOF). */
static void run_drain(struct run_ctx *c)
{
	for (int i = 0; i < 2; i++)
		while (c->cap[i].fd >= 0 && c->cap[i].len < c->cap[i].max && cap_read(&c->cap[i]))
			;
}

/* Append text to err, replacing control and non-ASCII bytes (they go to logs). */
static void run_append_output(char *err, size_t errlen, const char *buf, size_t n)
{
	size_t o = strlen(err);

	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' ||
			 buf[n - 1] == '\t'))
		n--;
	if (n == 0 || o + 3 >= errlen)
		return;
	err[o++] = ':';
	err[o++] = ' ';
	for (size_t i = 0; i < n && o + 1 < errlen; i++) {
		unsigned char ch = (unsigned char)buf[i];
		if (ch == '\n' || ch == '\r' || ch == '\t')
			ch = ' ';
		else if (ch < 0x20 || ch >= 0x7f)
			ch = '?';
		err[o++] = (char)ch;
	}
	err[o] = '\0';
}

/* How the child ended, into res; DS_OK when it exited 0. */
static int run_describe(const struct run_ctx *c, const struct run_spec *sp, int exec_errno,
			struct run_result *res)
{
	char *e = res->error;
	size_t elen = sizeof(res->error);
	unsigned ms = sp->timeout_ms ? sp->timeout_ms : RUN_DEFAULT_TIMEOUT_MS;

	if (exec_errno != 0) {
		ds_why(e, elen, "command %s: cannot execute: %s", c->file, strerror(exec_errno));
	} else if (c->timed_out) {
		res->end = RUN_TIMED_OUT;
		ds_why(e, elen, "command %s timed out after %u %s and was killed", c->file,
		       ms % 1000 == 0 ? ms / 1000 : ms, ms % 1000 == 0 ? "s" : "ms");
	} else if (WIFEXITED(c->status)) {
		res->end = RUN_EXITED;
		res->status = WEXITSTATUS(c->status);
		if (res->status == 0)
			return DS_OK;
		ds_why(e, elen, "command %s exited with status %d", c->file, res->status);
	} else if (WIFSIGNALED(c->status)) {
		res->end = RUN_SIGNALED;
		res->status = WTERMSIG(c->status);
		ds_why(e, elen, "command %s killed by signal %d", c->file, res->status);
	} else {
		ds_why(e, elen, "command %s ended with wait status %d", c->file, c->status);
	}
	const struct run_cap *cp = &c->cap[sp->merge_stderr ? 0 : 1];
	run_append_output(e, elen, cp->buf, cp->len);
	return DS_ECHILD;
}

/*
 * Writing to a program that stopped reading must not kill the daemon:
 * SIGPIPE is held while the input is written, and one our writes raised is
 * taken back before the mask is restored.
 */
static void sigpipe_hold(sigset_t *old, bool *was_pending)
{
	sigset_t pipe_set, pend;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	*was_pending = sigpending(&pend) == 0 && sigismember(&pend, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, old);
}

static void sigpipe_release(const sigset_t *old, bool was_pending)
{
	sigset_t pipe_set, pend;
	struct timespec zero = {0, 0};
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	if (!was_pending && sigpending(&pend) == 0 && sigismember(&pend, SIGPIPE))
		sigtimedwait(&pipe_set, NULL, &zero);
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

/* Start, feed, wait for and describe one run (c and its buffers are set up). */
static int run_started(struct run_ctx *c, const struct run_spec *sp, char *const envp[],
		       struct run_result *res)
{
	sigset_t old;
	bool was_pending = false, feeding;
	int exec_errno = 0;
	int rc = run_start(c, sp, envp, res);
	if (rc != DS_OK)
		return rc;
	feeding = c->in >= 0;
	if (feeding)
		sigpipe_hold(&old, &was_pending);
	rc = run_wait(c, sp->timeout_ms ? sp->timeout_ms : RUN_DEFAULT_TIMEOUT_MS, res);
	if (feeding)
		sigpipe_release(&old, was_pending);
	if (rc != DS_OK)
		return rc;
	run_drain(c);
	if (read(c->stat, &exec_errno, sizeof(exec_errno)) != (ssize_t)sizeof(exec_errno))
		exec_errno = 0;
	return run_describe(c, sp, exec_errno, res);
}

static void run_ctx_close(struct run_ctx *c)
{
	run_close_child_fds(c);
	if (c->in >= 0)
		close(c->in);
	if (c->stat >= 0)
		close(c->stat);
	for (int i = 0; i < 2; i++)
		if (c->cap[i].fd >= 0)
			close(c->cap[i].fd);
}

int run_program(const struct run_spec *sp, struct run_result *res)
{
	struct run_ctx c = {.in = -1, .stat = -1, .child_fd = {-1, -1, -1, -1}};
	char **envp = environ;
	int rc;

	memset(res, 0, sizeof(*res));
	if (sp->argv == NULL || sp->argv[0] == NULL) {
		ds_why(res->error, sizeof(res->error), "empty command");
		return DS_EINVAL;
	}
	rc = run_find(sp->argv[0], c.file, sizeof(c.file));
	if (rc != DS_OK) {
		ds_why(res->error, sizeof(res->error), "command %s: %s", sp->argv[0],
		       rc == DS_ENOENT ? "not found" : ds_strerror(rc));
		return DS_ECHILD;
	}
	c.input = sp->input;
	c.input_left = sp->input != NULL ? sp->input_len : 0;
	for (int i = 0; i < 2; i++) {
		c.cap[i].fd = -1;
		c.cap[i].max = sp->capture_max;
		if (sp->capture_max > 0 && !(i == 1 && sp->merge_stderr))
			c.cap[i].buf = calloc(1, sp->capture_max + 1);
	}
	if (sp->env != NULL)
		envp = sp->env_only ? (char **)sp->env : run_env(sp->env);
	bool oom = envp == NULL || (sp->capture_max > 0 && c.cap[0].buf == NULL) ||
		   (sp->capture_max > 0 && !sp->merge_stderr && c.cap[1].buf == NULL);
	if (oom) {
		ds_why(res->error, sizeof(res->error), "command %s: %s", c.file,
		       ds_strerror(DS_ENOMEM));
		rc = DS_ECHILD;
	} else {
		rc = run_started(&c, sp, envp, res);
	}
	run_ctx_close(&c);
	if (envp != environ && envp != (char **)sp->env)
		free(envp);
	res->out = c.cap[0].buf;
	res->out_len = c.cap[0].len;
	res->err = c.cap[1].buf;
	res->err_len = c.cap[1].len;
	return rc;
}

void run_result_free(struct run_result *res)
{
	free(res->out);
	free(res->err);
	res->out = res->err = NULL;
	res->out_len = res->err_len = 0;
}

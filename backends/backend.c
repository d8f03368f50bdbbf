/*
 * backends/backend.c -- the backend registry, configured instances, and the
 * program runner shared by the backends that call external commands.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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

#include "backends/backend.h"
#include "common/err.h"

/* One ops table per backend file, found by name in the registry below. */
extern const struct backend_ops backend_null_ops;
extern const struct backend_ops backend_zonefile_ops;

static const struct backend_ops *const backend_registry[] = {
    &backend_null_ops,
    &backend_zonefile_ops,
    NULL,
};

/* config's view of the same: what each type's group may hold */
extern const struct cfg_backend_type backend_null_type;
extern const struct cfg_backend_type backend_zonefile_type;
static const struct cfg_backend_type *const backend_types[] = {
    &backend_null_type,
    &backend_zonefile_type,
    NULL,
};

void backends_register(void)
{
	cfg_set_backend_types(backend_types);
}

int backend_check(const struct cfg_backend *b, const struct cfg_zone *z, char *err, size_t errlen)
{
	const struct backend_ops *ops = backend_find(b->type);
	void *state = NULL;
	if (ops == NULL)
		return DS_ECONFIG;
	int rc = ops->init(b, z, &state, err, errlen);
	if (rc == DS_OK && ops->free)
		ops->free(state);
	return rc;
}

struct backend {
	const struct backend_ops *ops;
	void *state;
	char *name;
	unsigned long delivered;
};

const struct backend_ops *backend_find(const char *name)
{
	if (name == NULL)
		return NULL;
	for (size_t i = 0; backend_registry[i] != NULL; i++)
		if (strcmp(backend_registry[i]->type->name, name) == 0)
			return backend_registry[i];
	return NULL;
}

int backend_new(const struct cfg_backend *bc, const struct cfg_zone *zc, struct backend **out,
		char *err, size_t errlen)
{
	const struct backend_ops *ops;
	struct backend *b;
	int rc;

	*out = NULL;
	if (errlen > 0)
		err[0] = '\0';
	if (bc == NULL || bc->type == NULL) {
		snprintf(err, errlen, "backend without a type");
		return DS_ECONFIG;
	}
	ops = backend_find(bc->type);
	if (ops == NULL) {
		snprintf(err, errlen, "unknown backend type \"%s\"", bc->type);
		return DS_ECONFIG;
	}
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return DS_ENOMEM;
	b->ops = ops;
	b->name = strdup(bc->name != NULL && bc->name[0] != '\0' ? bc->name : ops->type->name);
	if (b->name == NULL) {
		free(b);
		return DS_ENOMEM;
	}
	rc = ops->init(bc, zc, &b->state, err, errlen);
	if (rc != DS_OK) {
		free(b->name);
		free(b);
		return rc;
	}
	*out = b;
	return DS_OK;
}

void backend_free(struct backend *b)
{
	if (b == NULL)
		return;
	b->ops->free(b->state);
	free(b->name);
	free(b);
}

const char *backend_name(const struct backend *b)
{
	return b->name;
}

unsigned long backend_delivered(const struct backend *b)
{
	return b->delivered;
}

int backend_deliver(struct backend *b, const struct backend_batch *batch, char *err, size_t errlen)
{
	int rc;

	if (errlen > 0)
		err[0] = '\0';
	rc = b->ops->deliver(b->state, batch, err, errlen);
	if (rc == DS_OK)
		b->delivered++;
	else if (errlen > 0 && err[0] == '\0')
		snprintf(err, errlen, "%s", ds_strerror(rc));
	return rc;
}

/* ------------------------------------------------------------------------ */
/* backend_run                                                              */

#define RUN_DEFAULT_TIMEOUT 30
#define RUN_OUTPUT_KEEP 200 /* bytes of output kept for the error text */
#define RUN_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

extern char **environ;

/*
 * Resolve argv0 like execvp would, but before fork: the child of a
 * multi-threaded daemon may only make async-signal-safe calls, so all
 * string work happens here.
 */
static int run_resolve(const char *argv0, char *out, size_t outlen)
{
	const char *path, *p;

	if (argv0[0] == '\0')
		return DS_ENOENT;
	if (strchr(argv0, '/') != NULL) {
		if ((size_t)snprintf(out, outlen, "%s", argv0) >= outlen)
			return DS_ELIMIT;
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

static double run_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The child side: only async-signal-safe calls from here on. */
static void run_child(const char *file, char *const argv[], int outfd, int statfd)
{
	sigset_t none;
	int nullfd, e;

	/* Own process group, so a timeout kills what the command started too. */
	setpgid(0, 0);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);

	/* Lift the pipe ends clear of 0..3 in case the parent had those closed. */
	outfd = fcntl(outfd, F_DUPFD, 10);
	statfd = fcntl(statfd, F_DUPFD_CLOEXEC, 10);
	if (outfd < 0 || statfd < 0)
		_exit(127);
	nullfd = open("/dev/null", O_RDONLY);
	if (nullfd < 0 || dup2(nullfd, 0) < 0 || dup2(outfd, 1) < 0 || dup2(outfd, 2) < 0)
		goto fail;
	/* The status pipe moves to fd 3 (close-on-exec); everything above goes. */
	if (dup2(statfd, 3) < 0 || fcntl(3, F_SETFD, FD_CLOEXEC) < 0)
		goto fail;
	if (close_range(4, ~0U, 0) != 0) {
		struct rlimit rl;
		int max = 1024;
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
		    rl.rlim_cur < 65536)
			max = (int)rl.rlim_cur;
		for (int fd = 4; fd < max; fd++)
			close(fd);
	}
	execve(file, argv, environ);
	statfd = 3;
fail:
	e = errno;
	if (write(statfd, &e, sizeof(e)) < 0) {
		/* nothing left to report to */
	}
	_exit(127);
}

/* Append text to err, replacing control and non-ASCII bytes (R15: logs). */
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
		unsigned char c = (unsigned char)buf[i];
		if (c == '\n' || c == '\r' || c == '\t')
			c = ' ';
		else if (c < 0x20 || c >= 0x7f)
			c = '?';
		err[o++] = (char)c;
	}
	err[o] = '\0';
}

int backend_run(char *const argv[], unsigned timeout, char *err, size_t errlen)
{
	char file[4096], out[RUN_OUTPUT_KEEP];
	size_t outn = 0;
	int outp[2] = {-1, -1}, statp[2] = {-1, -1};
	int status = 0, exec_errno = 0, rc;
	bool timed_out = false, eof = false;
	double deadline;
	pid_t pid;

	if (errlen > 0)
		err[0] = '\0';
	if (argv == NULL || argv[0] == NULL) {
		snprintf(err, errlen, "empty command");
		return DS_EINVAL;
	}
	if (timeout == 0)
		timeout = RUN_DEFAULT_TIMEOUT;
	rc = run_resolve(argv[0], file, sizeof(file));
	if (rc != DS_OK) {
		snprintf(err, errlen, "command %s: %s", argv[0],
			 rc == DS_ENOENT ? "not found" : ds_strerror(rc));
		return DS_ECHILD;
	}
	if (pipe2(outp, O_CLOEXEC) != 0 || pipe2(statp, O_CLOEXEC) != 0) {
		snprintf(err, errlen, "command %s: pipe: %s", file, strerror(errno));
		rc = DS_ECHILD;
		goto close_all;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "command %s: fork: %s", file, strerror(errno));
		rc = DS_ECHILD;
		goto close_all;
	}
	if (pid == 0)
		run_child(file, argv, outp[1], statp[1]);

	setpgid(pid, pid); /* also here, so a kill at timeout never misses it */
	close(outp[1]);
	close(statp[1]);
	outp[1] = statp[1] = -1;
	fcntl(outp[0], F_SETFL, O_NONBLOCK);

	/*
	 * Collect output and wait, polling both: a command may exit while a
	 * process it started still holds the pipe, so EOF is not the signal
	 * to stop; the exit of our child is.
	 */
	deadline = run_now() + timeout;
	for (;;) {
		pid_t w;

		if (!eof) {
			struct pollfd pfd = {.fd = outp[0], .events = POLLIN};
			if (poll(&pfd, 1, 50) > 0) {
				char buf[512];
				ssize_t r = read(outp[0], buf, sizeof(buf));
				if (r > 0) {
					size_t take = (size_t)r;
					if (take > sizeof(out) - outn)
						take = sizeof(out) - outn;
					memcpy(out + outn, buf, take);
					outn += take;
				} else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
					eof = true;
				}
			}
		} else {
			struct timespec ts = {0, 20 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
		w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			snprintf(err, errlen, "command %s: waitpid: %s", file, strerror(errno));
			rc = DS_ECHILD;
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			goto close_all;
		}
		if (run_now() >= deadline) {
			timed_out = true;
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			break;
		}
	}
	/* Whatever is already in the pipe (not waiting for EOF). */
	for (;;) {
		char buf[512];
		ssize_t r = read(outp[0], buf, sizeof(buf));
		if (r <= 0)
			break;
		size_t take = (size_t)r;
		if (take > sizeof(out) - outn)
			take = sizeof(out) - outn;
		memcpy(out + outn, buf, take);
		outn += take;
		if (outn == sizeof(out))
			break;
	}
	if (read(statp[0], &exec_errno, sizeof(exec_errno)) != (ssize_t)sizeof(exec_errno))
		exec_errno = 0;

	if (exec_errno != 0) {
		snprintf(err, errlen, "command %s: cannot execute: %s", file, strerror(exec_errno));
		rc = DS_ECHILD;
	} else if (timed_out) {
		snprintf(err, errlen, "command %s timed out after %u s and was killed", file,
			 timeout);
		rc = DS_ECHILD;
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		rc = DS_OK;
	} else if (WIFEXITED(status)) {
		snprintf(err, errlen, "command %s exited with status %d", file,
			 WEXITSTATUS(status));
		rc = DS_ECHILD;
	} else if (WIFSIGNALED(status)) {
		snprintf(err, errlen, "command %s killed by signal %d", file, WTERMSIG(status));
		rc = DS_ECHILD;
	} else {
		snprintf(err, errlen, "command %s ended with wait status %d", file, status);
		rc = DS_ECHILD;
	}
	if (rc != DS_OK)
		run_append_output(err, errlen, out, outn);

close_all:
	for (int i = 0; i < 2; i++) {
		if (outp[i] >= 0)
			close(outp[i]);
		if (statp[i] >= 0)
			close(statp[i]);
	}
	return rc;
}

/*
 * common/file.c -- checked reads of configured files and the writability
 * of configured folders (common/file.h).
 */
#include "common/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"

/* An open file's problem as a secret or size-bounded file, or false. */
static bool bad_file(int fd, const char *path, const char *what, bool secret, size_t max,
		     struct stat *st, char *why, size_t whylen)
{
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
		ds_why(why, whylen, "%s: the %s is not a regular file", path, what);
		return true;
	}
	if (secret && (st->st_mode & 077)) {
		ds_why(why, whylen,
		       "%s: the %s has mode %04o, which gives group or others access; it must "
		       "be 0600 or 0400 (chmod 600 %s)",
		       path, what, (unsigned)(st->st_mode & 07777), path);
		return true;
	}
	if ((size_t)st->st_size > max) {
		ds_why(why, whylen, "%s: the %s is larger than %zu bytes", path, what, max);
		return true;
	}
	return false;
}

char *file_read_checked(const char *path, const char *what, bool secret, size_t max, size_t *len,
			char *why, size_t whylen)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		ds_why(why, whylen, "%s: cannot open the %s: %s", path, what, strerror(errno));
		return NULL;
	}
	if (bad_file(fd, path, what, secret, max, &st, why, whylen)) {
		close(fd);
		return NULL;
	}
	char *buf = malloc((size_t)st.st_size + 1);
	size_t n = 0;
	while (buf && n < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ds_why(why, whylen, "%s: cannot read the %s: %s", path, what,
			       strerror(errno));
			free(buf);
			close(fd);
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (buf == NULL) {
		ds_why(why, whylen, "%s: out of memory", path);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

char *file_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (slash == NULL)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

bool file_dir_writable(const char *dir, bool may_create, char *why, size_t whylen)
{
	struct stat st;
	if (stat(dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			ds_why(why, whylen, "%s is not a folder", dir);
			return false;
		}
		if (access(dir, W_OK | X_OK) != 0) {
			ds_why(why, whylen, "cannot write in the folder %s: %s", dir,
			       strerror(errno));
			return false;
		}
		return true;
	}
	int e = errno;
	if (e != ENOENT || !may_create) {
		ds_why(why, whylen, "folder %s: %s", dir, strerror(e));
		return false;
	}
	char *parent = file_dirname(dir);
	if (parent == NULL) {
		ds_why(why, whylen, "out of memory");
		return false;
	}
	bool ok = stat(parent, &st) == 0 && S_ISDIR(st.st_mode) && access(parent, W_OK | X_OK) == 0;
	if (!ok)
		ds_why(why, whylen, "folder %s does not exist and cannot be made: %s%s", dir,
		       parent, stat(parent, &st) != 0 ? " does not exist" : " is not writable");
	free(parent);
	return ok;
}

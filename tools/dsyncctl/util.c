/*
 * tools/dsyncctl/util.c -- memory (a CLI may stop on out-of-memory), terminal-safe text and
 * the small local files dsyncctl reads (token, config, K*.key).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/dsyncctl/dsyncctl.h"

/* A CLI may stop on out-of-memory; the daemon answers SERVFAIL instead. */
void oom(void)
{
	exit(cli_fail(RC_SOFTWARE, "out of memory"));
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		oom();
	return p;
}

char *xstrdup(const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		oom();
	return d;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom();
	return s;
}

json_t *jnn(json_t *v)
{
	if (v == NULL)
		oom();
	return v;
}

char *jnn_str(char *s)
{
	if (s == NULL)
		oom();
	return s;
}

/* Free a string that held a secret. */
void free_secret(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/*
 * Make text from the server or a user safe for a terminal, in place:
 * line breaks and tabs become spaces, other control characters (C0, DEL,
 * and C1 in UTF-8) become '?', so that a hostile name or error text cannot
 * send escape sequences or fake extra lines.
 */
char *clean(char *s)
{
	unsigned char *p;

	for (p = (unsigned char *)s; *p != '\0'; p++) {
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
		else if (*p < 0x20 || *p == 0x7f)
			*p = '?';
		else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			p[0] = '?';
			p[1] = '?';
			p++;
		}
	}
	return s;
}

/* ---- reading small local files ------------------------------------------- */

/* Read at most MAX_SMALL_FILE bytes of PATH into *out (NUL-terminated);
 * *st gets its status.  A file that cannot be read is RC_NOINPUT, one
 * that is too large or binary RC_DATA. */
int read_small(const char *path, const char *what, char **out, struct stat *st)
{
	FILE *f;
	char *buf;
	size_t n;

	*out = NULL;
	f = fopen(path, "re");
	if (f == NULL)
		return cli_fail(RC_NOINPUT, "%s %s: %s", what, path, strerror(errno));
	if (fstat(fileno(f), st) != 0 || !S_ISREG(st->st_mode)) {
		fclose(f);
		return cli_fail(RC_NOINPUT, "%s %s: not a regular file", what, path);
	}
	buf = xrealloc(NULL, MAX_SMALL_FILE + 1);
	n = fread(buf, 1, MAX_SMALL_FILE + 1, f);
	if (ferror(f) || n > MAX_SMALL_FILE) {
		int bad = ferror(f);
		fclose(f);
		free_small(buf);
		return cli_fail(bad ? RC_IOERR : RC_DATA, "%s %s: %s", what, path,
				bad ? "read error" : "larger than 64 KiB");
	}
	fclose(f);
	buf[n] = '\0';
	if (memchr(buf, '\0', n) != NULL) {
		explicit_bzero(buf, n);
		free(buf);
		return cli_fail(RC_DATA, "%s %s: binary content", what, path);
	}
	*out = buf;
	return 0;
}

/* strip white space at both ends, in place */
char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

/* Free what read_small read, which may have held a secret. */
void free_small(char *buf)
{
	if (buf != NULL) {
		explicit_bzero(buf, MAX_SMALL_FILE + 1);
		free(buf);
	}
}

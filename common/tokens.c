/*
 * common/tokens.c -- reading a bearer tokens file (common/tokens.h).
 */
#include "common/tokens.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/err.h"
#include "common/file.h"
#include "common/vec.h"

bool token_digest(const char *s, size_t len, uint8_t out[32])
{
	unsigned n = 0;
	return EVP_Digest(s, len, out, &n, EVP_sha256(), NULL) == 1 && n == 32;
}

static bool name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > TOKEN_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_' || s[i] == '.' ||
		      s[i] == '@'))
			return false;
	return true;
}

/* The tokens may only use printable ASCII (no white space, no quotes to escape). */
static bool token_ok(const char *s)
{
	for (; *s; s++)
		if (*s <= ' ' || *s > '~')
			return false;
	return true;
}

/* Parse one line (comment already cut) into t; NULL or the problem. */
static const char *parse_line(char *line, struct token *t, bool *empty)
{
	char *save = NULL, *f[4];
	size_t n = 0;
	for (char *w = strtok_r(line, " \t\r", &save); w; w = strtok_r(NULL, " \t\r", &save))
		if (n < 4)
			f[n++] = w;
		else
			n++;
	*empty = n == 0;
	if (n == 0)
		return NULL;
	if (n != 3)
		return "want three fields: name role token";
	if (!name_ok(f[0]))
		return "bad token name (1 to 64 of A-Z a-z 0-9 . _ - @)";
	if (strcmp(f[1], "admin") == 0)
		t->role = TOKEN_ROLE_ADMIN;
	else if (strcmp(f[1], "read") == 0)
		t->role = TOKEN_ROLE_READ;
	else
		return "role must be read or admin";
	size_t tl = strlen(f[2]);
	if (tl < TOKEN_MIN || tl > TOKEN_MAX)
		return "the token must have 16 to 256 characters";
	if (!token_ok(f[2]))
		return "the token must be printable ASCII without spaces";
	snprintf(t->name, sizeof(t->name), "%s", f[0]);
	bool ok = token_digest(f[2], tl, t->digest);
	OPENSSL_cleanse(f[2], tl);
	return ok ? NULL : "cannot hash the token (OpenSSL)";
}

static void report_f(tokens_report_fn report, void *arg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void report_f(tokens_report_fn report, void *arg, const char *fmt, ...)
{
	char text[PATH_MAX + 256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	report(arg, text);
}

/* Cut a comment: '#' at the line's start or after white space (inside a
 * token it is part of the token). */
static void cut_comment(char *line)
{
	for (char *h = strchr(line, '#'); h != NULL; h = strchr(h + 1, '#'))
		if (h == line || h[-1] == ' ' || h[-1] == '\t') {
			*h = '\0';
			return;
		}
}

/* A problem of t against the entries before it, or NULL. */
static const char *duplicate(const struct token *set, size_t n, const struct token *t)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(set[i].name, t->name) == 0)
			return "duplicate token name";
		if (CRYPTO_memcmp(set[i].digest, t->digest, 32) == 0)
			return "duplicate token (each name needs its own)";
	}
	return NULL;
}

/* Every line of buf (the file's text, cut in place) into *set. */
static int parse_lines(char *buf, const char *path, struct token **set, size_t *n,
		       tokens_report_fn report, void *arg)
{
	size_t cap = 0, errors = 0;
	unsigned lineno = 0;
	char *save = NULL;
	/* strtok_r would skip empty lines and so miscount them: cut by hand */
	for (char *line = buf; line != NULL; line = save) {
		lineno++;
		save = strchr(line, '\n');
		if (save != NULL)
			*save++ = '\0';
		cut_comment(line);
		struct token t = {0};
		bool empty;
		const char *why = parse_line(line, &t, &empty);
		if (why == NULL && empty)
			continue;
		if (why == NULL)
			why = duplicate(*set, *n, &t);
		if (why != NULL) {
			report_f(report, arg, "%s:%u: %s", path, lineno, why);
			errors++;
			continue;
		}
		struct token *p = vec_grow(*set, &cap, *n + 1, sizeof(*p), 8);
		if (p == NULL)
			return DS_ENOMEM;
		*set = p;
		(*set)[(*n)++] = t;
	}
	return errors == 0 ? DS_OK : DS_ECONFIG;
}

int tokens_read(const char *path, struct token **out, size_t *n, tokens_report_fn report, void *arg)
{
	char why[PATH_MAX + 256];
	size_t len;
	struct token *set = NULL;
	size_t nset = 0;
	char *buf = file_read_checked(path, "API tokens file", true, TOKENS_FILE_MAX, &len, why,
				      sizeof(why));
	if (buf == NULL) {
		report(arg, why);
		return DS_ECONFIG;
	}
	int rc = DS_ECONFIG;
	if (strlen(buf) != len)
		report_f(report, arg, "%s: the API tokens file holds a NUL byte", path);
	else
		rc = parse_lines(buf, path, &set, &nset, report, arg);
	OPENSSL_cleanse(buf, len);
	free(buf);
	if (rc == DS_OK && nset == 0) {
		report_f(report, arg, "%s: the API tokens file has no token", path);
		rc = DS_ECONFIG;
	}
	if (rc != DS_OK) {
		tokens_free(set, nset);
		return rc;
	}
	*out = set;
	*n = nset;
	return DS_OK;
}

void tokens_free(struct token *t, size_t n)
{
	if (t != NULL)
		OPENSSL_cleanse(t, n * sizeof(*t));
	free(t);
}

/*
 * tools/dsyncctl.c -- the operator CLI over dsyncd's admin HTTP API.
 *
 * A thin client of doc/api.md: each command is one request (lists: one per
 * page, followed to the end or to --limit); the answer is printed as an
 * aligned table, or as the API's own JSON with --json.  The exit status
 * tells scripts what went wrong (doc/dsyncctl.1): 0 done, 1 the API refused
 * the request, 2 server or transport failure, 64 usage, 77 not authorised.
 *
 * The URL and token come from the options, the environment or a small
 * config file, in that order.  The token itself is never taken from the
 * command line, where ps would show it to every user.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <curl/curl.h>
#include <jansson.h>

#include "common/rrtext.h"
#include "common/version.h"

#define DEFAULT_URL "http://127.0.0.1:8053"
#define DEFAULT_TIMEOUT_MS 10000L
#define MAX_TIMEOUT_S 3600.0
#define MAX_ANSWER (64u << 20) /* bytes of one buffered answer */
#define PAGE_MAX 1000	       /* the API's largest page */
#define MAX_PAGES 100000       /* bounds one list at 10^8 items */
#define MAX_TOKEN 1024
#define MAX_SMALL_FILE 65536 /* token, K*.key and config files */
#define MAX_ERROR_TEXT 300   /* of a non-JSON error body */

/* exit statuses, doc/dsyncctl.1 */
enum {
	RC_OK = 0,
	RC_REFUSED = 1, /* the API refused the request: 4xx other than 401/403 */
	RC_SERVER = 2,	/* 5xx, transport, TLS, timeout, an answer we cannot read */
	RC_USAGE = 64,	/* command line, config file, token file */
	RC_AUTH = 77,	/* 401, 403 */
};

/* the options a command may take besides the global ones */
enum { OPT_LIMIT = 1u << 0, OPT_AUDIT = 1u << 1, OPT_STATE = 1u << 2 };

struct ctl {
	char *url;   /* base URL, no trailing '/' */
	char *token; /* NULL: no Authorization header */
	char *cacert;
	long timeout_ms;
	bool json;
	long limit; /* 0: the whole list */
	const char *child, *result, *state;
	long long since, until;
	bool has_since, has_until;
	CURL *curl;
	char errbuf[CURL_ERROR_SIZE];
};

/* ---- messages and memory -------------------------------------------------- */

static int fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print "dsyncctl: MESSAGE" on stderr and return code (the exit status). */
static int fail(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("dsyncctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

static void warn(const char *fmt, ...)
{
	va_list ap;

	fputs("dsyncctl: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* A CLI may stop on out-of-memory; the daemon answers SERVFAIL instead. */
static void oom(void)
{
	fputs("dsyncctl: out of memory\n", stderr);
	exit(RC_SERVER);
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		oom();
	return p;
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		oom();
	return d;
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
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

static json_t *jnn(json_t *v)
{
	if (v == NULL)
		oom();
	return v;
}

static char *jnn_str(char *s)
{
	if (s == NULL)
		oom();
	return s;
}

/* Free a string that held a secret. */
static void free_secret(char *s)
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
static char *clean(char *s)
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
 * *st gets its status.  Errors are usage errors: the file is the user's. */
static int read_small(const char *path, const char *what, char **out, struct stat *st)
{
	FILE *f;
	char *buf;
	size_t n;

	*out = NULL;
	f = fopen(path, "re");
	if (f == NULL)
		return fail(RC_USAGE, "%s %s: %s", what, path, strerror(errno));
	if (fstat(fileno(f), st) != 0 || !S_ISREG(st->st_mode)) {
		fclose(f);
		return fail(RC_USAGE, "%s %s: not a regular file", what, path);
	}
	buf = xrealloc(NULL, MAX_SMALL_FILE + 1);
	n = fread(buf, 1, MAX_SMALL_FILE + 1, f);
	if (ferror(f) || n > MAX_SMALL_FILE) {
		int bad = ferror(f);
		fclose(f);
		explicit_bzero(buf, MAX_SMALL_FILE + 1);
		free(buf);
		return fail(RC_USAGE, "%s %s: %s", what, path,
			    bad ? "read error" : "larger than 64 KiB");
	}
	fclose(f);
	buf[n] = '\0';
	if (memchr(buf, '\0', n) != NULL) {
		explicit_bzero(buf, n);
		free(buf);
		return fail(RC_USAGE, "%s %s: binary content", what, path);
	}
	*out = buf;
	return 0;
}

/* strip white space at both ends, in place */
static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

/* A token goes into an HTTP header: printable ASCII without space only, so
 * that it cannot break the header or add another. */
static int token_check(const char *tok, const char *from)
{
	size_t i, n = strlen(tok);

	if (n == 0 || n > MAX_TOKEN)
		return fail(RC_USAGE, "the token in %s must be 1 to %d characters", from,
			    MAX_TOKEN);
	for (i = 0; i < n; i++)
		if ((unsigned char)tok[i] <= 0x20 || (unsigned char)tok[i] >= 0x7f)
			return fail(RC_USAGE, "the token in %s must be one word of printable ASCII",
				    from);
	return 0;
}

/* The token is the first line of PATH that is neither blank nor a '#' comment. */
static int token_read(const char *path, char **out)
{
	struct stat st;
	char *buf, *line, *save = NULL;
	int rc;

	*out = NULL;
	if ((rc = read_small(path, "token file", &buf, &st)) != 0)
		return rc;
	if (st.st_mode & (S_IRGRP | S_IROTH))
		warn("token file %s is readable by group or others (chmod 600 %s)", path, path);
	for (line = strtok_r(buf, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		line = trim(line);
		if (*line != '\0' && *line != '#')
			break;
	}
	if (line == NULL)
		rc = fail(RC_USAGE, "token file %s holds no token", path);
	else if ((rc = token_check(line, path)) == 0)
		*out = xstrdup(line);
	explicit_bzero(buf, MAX_SMALL_FILE);
	free(buf);
	return rc;
}

/* ---- the config file -------------------------------------------------------- */

struct conf {
	char *url, *token_file, *cacert;
	long timeout_ms; /* 0: not set */
};

static void conf_free(struct conf *cf)
{
	free(cf->url);
	free(cf->token_file);
	free(cf->cacert);
}

/* parse a timeout in seconds (fractions allowed) into milliseconds */
static bool parse_timeout(const char *s, long *ms)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= 0.001 && v <= MAX_TIMEOUT_S))
		return false;
	*ms = (long)(v * 1000.0 + 0.5);
	return true;
}

/* a path from the config file: "~/" is $HOME, relative paths are relative
 * to the config file's folder */
static char *conf_path(const char *conf, const char *v)
{
	const char *home = getenv("HOME"), *slash;

	if (v[0] == '~' && v[1] == '/' && home != NULL && *home != '\0')
		return xasprintf("%s%s", home, v + 1);
	if (v[0] == '/' || (slash = strrchr(conf, '/')) == NULL)
		return xstrdup(v);
	return xasprintf("%.*s/%s", (int)(slash - conf), conf, v);
}

/*
 * Load $DSYNCCTL_CONFIG, or else $XDG_CONFIG_HOME/dsyncctl.conf or
 * ~/.config/dsyncctl.conf when it exists: lines "key = value", '#' comments.
 */
static int conf_load(struct conf *cf)
{
	const char *env = getenv("DSYNCCTL_CONFIG"), *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	char *path, *buf, *line, *save = NULL;
	struct stat st;
	unsigned lineno = 0;
	int rc = 0;

	memset(cf, 0, sizeof(*cf));
	if (env != NULL && *env != '\0') {
		path = xstrdup(env);
	} else {
		if (xdg != NULL && *xdg == '/')
			path = xasprintf("%s/dsyncctl.conf", xdg);
		else if (home != NULL && *home != '\0')
			path = xasprintf("%s/.config/dsyncctl.conf", home);
		else
			return 0;
		if (access(path, F_OK) != 0 && errno == ENOENT) {
			free(path);
			return 0;
		}
	}
	if ((rc = read_small(path, "config file", &buf, &st)) != 0) {
		free(path);
		return rc;
	}
	/* strtok_r would skip empty lines and so lose the numbering */
	for (line = buf; line != NULL && rc == 0; line = save) {
		char *eq, *key, *val, **slot = NULL;
		size_t vl;

		lineno++;
		save = strchr(line, '\n');
		if (save != NULL)
			*save++ = '\0';
		line = trim(line);
		if (*line == '\0' || *line == '#')
			continue;
		if ((eq = strchr(line, '=')) == NULL) {
			rc = fail(RC_USAGE, "%s:%u: expected 'key = value'", path, lineno);
			break;
		}
		*eq = '\0';
		key = trim(line);
		val = trim(eq + 1);
		vl = strlen(val);
		if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"') {
			val[vl - 1] = '\0';
			val++;
		}
		if (strcmp(key, "url") == 0)
			slot = &cf->url;
		else if (strcmp(key, "token-file") == 0)
			slot = &cf->token_file;
		else if (strcmp(key, "cacert") == 0)
			slot = &cf->cacert;
		else if (strcmp(key, "timeout") == 0) {
			if (!parse_timeout(val, &cf->timeout_ms))
				rc = fail(RC_USAGE, "%s:%u: timeout must be seconds, 0.001 to 3600",
					  path, lineno);
			continue;
		} else if (strcmp(key, "token") == 0) {
			rc = fail(RC_USAGE,
				  "%s:%u: put the token in a file of its own and name it "
				  "with 'token-file'",
				  path, lineno);
			break;
		} else {
			rc = fail(RC_USAGE,
				  "%s:%u: unknown setting '%s' (url, token-file, cacert, "
				  "timeout)",
				  path, lineno, clean(key));
			break;
		}
		if (*val == '\0') {
			rc = fail(RC_USAGE, "%s:%u: %s has no value", path, lineno, key);
			break;
		}
		free(*slot);
		*slot = slot == &cf->url ? xstrdup(val) : conf_path(path, val);
	}
	explicit_bzero(buf, MAX_SMALL_FILE + 1); /* in case a token was put there */
	free(buf);
	free(path);
	if (rc != 0) {
		conf_free(cf);
		memset(cf, 0, sizeof(*cf));
	}
	return rc;
}

/* ---- HTTP ------------------------------------------------------------------ */

struct answer {
	long status;
	char *body; /* NUL-terminated */
	size_t len, cap;
	bool stream;	   /* a 2xx body goes to stdout as it arrives (records) */
	bool too_big;	   /* the buffered body passed MAX_ANSWER */
	bool write_failed; /* writing to stdout failed */
	CURL *curl;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct answer *a = arg;
	size_t len = size * n; /* size is always 1 */

	if (a->stream) {
		long st = 0;

		curl_easy_getinfo(a->curl, CURLINFO_RESPONSE_CODE, &st);
		if (st >= 200 && st <= 299) {
			if (fwrite(p, 1, len, stdout) != len)
				a->write_failed = true;
			return a->write_failed ? 0 : len;
		}
	}
	if (len > MAX_ANSWER - a->len) {
		a->too_big = true;
		return 0;
	}
	if (a->len + len + 1 > a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 4096;

		while (cap < a->len + len + 1)
			cap *= 2;
		a->body = xrealloc(a->body, cap);
		a->cap = cap;
	}
	memcpy(a->body + a->len, p, len);
	a->len += len;
	a->body[a->len] = '\0';
	return len;
}

/* Escape one path segment or query value; the caller frees with curl_free. */
static char *esc(struct ctl *c, const char *s)
{
	char *e = curl_easy_escape(c->curl, s, 0);

	if (e == NULL)
		oom();
	return e;
}

/* append a request header; curl copies it */
static void hdr_add(struct curl_slist **h, const char *line)
{
	struct curl_slist *n = curl_slist_append(*h, line);

	if (n == NULL)
		oom();
	*h = n;
}

/*
 * One HTTP exchange: METHOD c->url+PATH with an optional JSON BODY (POST).
 * Returns 0 when an answer came (any status, in *a), or RC_SERVER with the
 * reason printed when none did (connection, TLS, timeout, oversized).
 */
static int transfer(struct ctl *c, const char *method, const char *path, const char *body,
		    const char *accept, struct answer *a)
{
	struct curl_slist *h = NULL, *s;
	char *url = xasprintf("%s%s", c->url, path), *hdr;
	CURL *k = c->curl;
	CURLcode rc;

	a->curl = k;
	curl_easy_reset(k);
	c->errbuf[0] = '\0';
	curl_easy_setopt(k, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(k, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(k, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(k, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(k, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(k, CURLOPT_CONNECTTIMEOUT_MS, c->timeout_ms);
	/* a redirect would carry the token elsewhere */
	curl_easy_setopt(k, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(k, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(k, CURLOPT_USERAGENT, "dsyncctl/" DSYNC_VERSION);
	curl_easy_setopt(k, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(k, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(k, CURLOPT_WRITEDATA, a);
	if (c->cacert != NULL)
		curl_easy_setopt(k, CURLOPT_CAINFO, c->cacert);

	hdr = xasprintf("Accept: %s", accept);
	hdr_add(&h, hdr);
	free(hdr);
	if (c->token != NULL) {
		hdr = xasprintf("Authorization: Bearer %s", c->token);
		hdr_add(&h, hdr);
		free_secret(hdr);
	}
	if (strcmp(method, "POST") == 0) {
		hdr_add(&h, "Content-Type: application/json");
		hdr_add(&h, "Expect:");
		curl_easy_setopt(k, CURLOPT_POST, 1L);
		curl_easy_setopt(k, CURLOPT_POSTFIELDS, body != NULL ? body : "");
		curl_easy_setopt(k, CURLOPT_POSTFIELDSIZE, (long)(body != NULL ? strlen(body) : 0));
	} else if (strcmp(method, "GET") != 0) {
		curl_easy_setopt(k, CURLOPT_CUSTOMREQUEST, method);
	}
	curl_easy_setopt(k, CURLOPT_HTTPHEADER, h);

	rc = curl_easy_perform(k);
	a->status = 0;
	curl_easy_getinfo(k, CURLINFO_RESPONSE_CODE, &a->status);
	curl_easy_setopt(k, CURLOPT_HTTPHEADER, NULL);
	for (s = h; s != NULL; s = s->next)
		explicit_bzero(s->data, strlen(s->data));
	curl_slist_free_all(h);
	if (rc != CURLE_OK) {
		int x;

		if (a->too_big)
			x = fail(RC_SERVER, "%s %s: the answer is larger than %u bytes", method,
				 url, MAX_ANSWER);
		else if (a->write_failed)
			x = fail(RC_SERVER, "cannot write the answer: %s", strerror(errno));
		else
			x = fail(RC_SERVER, "%s %s: %s", method, url,
				 c->errbuf[0] != '\0' ? clean(c->errbuf) : curl_easy_strerror(rc));
		free(url);
		return x;
	}
	free(url);
	return 0;
}

/* The error text of a refused request: the API's {"error": "..."}, or the
 * start of whatever else came; the caller frees. */
static char *error_text(const struct answer *a)
{
	json_t *j = a->len > 0 ? json_loadb(a->body, a->len, 0, NULL) : NULL;
	json_t *e = json_object_get(j, "error");
	char *t;

	if (json_is_string(e) && json_string_length(e) > 0) {
		t = xstrdup(json_string_value(e));
	} else if (a->len > 0 && j == NULL) {
		size_t n = strcspn(a->body, "\r\n");

		t = xasprintf("HTTP %ld: %.*s", a->status,
			      (int)(n < MAX_ERROR_TEXT ? n : MAX_ERROR_TEXT), a->body);
	} else {
		t = xasprintf("HTTP %ld", a->status);
	}
	json_decref(j);
	return clean(t);
}

/* Print why a non-2xx answer failed; return its exit status. */
static int answer_fail(struct ctl *c, const struct answer *a)
{
	char *t = error_text(a);
	int x;

	if (a->status == 401 || a->status == 403) {
		x = fail(RC_AUTH, "%s", t);
		if (c->token == NULL)
			fail(RC_AUTH, "no token given: use --token-file, DSYNCCTL_TOKEN_FILE, "
				      "DSYNCCTL_TOKEN or token-file in the config file");
	} else if (a->status >= 400 && a->status <= 499) {
		x = fail(RC_REFUSED, "%s", t);
	} else if (a->status >= 500 && a->status <= 599) {
		x = fail(RC_SERVER, "server error %ld: %s", a->status, t);
	} else if (a->status >= 300 && a->status <= 399) {
		x = fail(RC_SERVER,
			 "the server answered with a redirect (%ld), not followed; check "
			 "the URL",
			 a->status);
	} else {
		x = fail(RC_SERVER, "unexpected HTTP status %ld", a->status);
	}
	free(t);
	return x;
}

/* Parse a JSON answer; a server that sends something else is broken (2). */
static int parse_json(const struct answer *a, const char *method, const char *path, json_t **out)
{
	json_error_t err;

	*out = json_loadb(a->body != NULL ? a->body : "", a->len, 0, &err);
	if (*out == NULL)
		return fail(RC_SERVER, "%s %s: invalid JSON from the server: %s (line %d)", method,
			    path, clean(err.text), err.line);
	return 0;
}

/*
 * One API request expecting JSON.  On a 2xx answer returns 0 and sets *out
 * to the parsed answer (NULL for an empty body; the caller decrefs);
 * otherwise returns the exit status with the reason printed.
 */
static int api(struct ctl *c, const char *method, const char *path, const json_t *body,
	       json_t **out)
{
	struct answer a = {0};
	char *text = NULL;
	int rc;

	*out = NULL;
	if (body != NULL)
		text = jnn_str(json_dumps(body, JSON_COMPACT));
	rc = transfer(c, method, path, text, "application/json", &a);
	free(text);
	if (rc == 0 && (a.status < 200 || a.status > 299))
		rc = answer_fail(c, &a);
	else if (rc == 0 && a.len > 0)
		rc = parse_json(&a, method, path, out);
	free(a.body);
	return rc;
}

/* Check that a JSON answer is an object; a server that sends another shape
 * is broken (2). */
static int need_object(json_t *j, const char *what)
{
	if (!json_is_object(j))
		return fail(RC_SERVER, "%s: the server's answer is not a JSON object", what);
	return 0;
}

/* "?" or "&" before the next query parameter of PATH */
static const char *qsep(const char *path)
{
	return strchr(path, '?') != NULL ? "&" : "?";
}

/*
 * GET a list, {"items": [...], "next": ...}.  A paged one (doc/api.md:
 * ?limit=&after=) is followed to its end, or to c->limit items; *out gets
 * the API's own shape holding every page's items, "next" null or the cursor
 * to go on.  An unpaged one (zones, a child's keys) comes whole and is cut
 * to c->limit items here.
 */
static int api_list(struct ctl *c, const char *path, bool paged, json_t **out)
{
	json_t *all = jnn(json_array()), *cursor = NULL, *next = NULL;
	unsigned pages;
	int rc = 0;

	*out = NULL;
	for (pages = 0; pages < MAX_PAGES; pages++) {
		size_t have = json_array_size(all), want = PAGE_MAX, got;
		char *url, *after = NULL;
		json_t *page, *items, *nx;

		if (c->limit > 0 && (size_t)c->limit - have < want)
			want = (size_t)c->limit - have;
		if (cursor != NULL) {
			char *v = json_is_string(cursor) ? xstrdup(json_string_value(cursor))
							 : xasprintf("%" JSON_INTEGER_FORMAT,
								     json_integer_value(cursor));
			char *e = esc(c, v);

			after = xasprintf("&after=%s", e);
			curl_free(e);
			free(v);
		}
		if (paged)
			url = xasprintf("%s%slimit=%zu%s", path, qsep(path), want,
					after ? after : "");
		else
			url = xstrdup(path);
		free(after);
		rc = api(c, "GET", url, NULL, &page);
		free(url);
		if (rc != 0)
			break;
		items = json_object_get(page, "items");
		nx = json_object_get(page, "next");
		if (!json_is_array(items) || !(nx == NULL || json_is_null(nx) ||
					       json_is_string(nx) || json_is_integer(nx))) {
			json_decref(page);
			rc = fail(RC_SERVER, "GET %s: the server's answer is not a list", path);
			break;
		}
		got = json_array_size(items);
		if (json_array_extend(all, items) != 0)
			oom();
		if (!paged) {
			while (c->limit > 0 && json_array_size(all) > (size_t)c->limit)
				json_array_remove(all, json_array_size(all) - 1);
			next = nx != NULL ? json_incref(nx) : NULL;
			json_decref(page);
			break;
		}
		json_decref(next);
		next = nx != NULL ? json_incref(nx) : NULL;
		json_decref(page);
		if (next == NULL || json_is_null(next) ||
		    (c->limit > 0 && json_array_size(all) >= (size_t)c->limit))
			break;
		/* a server whose cursor stands still must not keep us here */
		if (got == 0 || (cursor != NULL && json_equal(cursor, next))) {
			rc = fail(RC_SERVER, "GET %s: the server's paging does not advance", path);
			break;
		}
		json_decref(cursor);
		cursor = json_incref(next);
	}
	if (rc == 0 && pages == MAX_PAGES)
		rc = fail(RC_SERVER, "GET %s: more than %d pages; use --limit", path, MAX_PAGES);
	json_decref(cursor);
	if (rc != 0) {
		json_decref(all);
		json_decref(next);
		return rc;
	}
	*out = jnn(json_pack("{s:o, s:o}", "items", all, "next", next ? next : json_null()));
	return 0;
}

/* ---- output ------------------------------------------------------------------ */

static int print_json(json_t *j)
{
	if (json_dumpf(j, stdout, JSON_INDENT(2)) != 0)
		return fail(RC_SERVER, "cannot write output");
	putchar('\n');
	return 0;
}

/* how a table cell shows a JSON value */
enum fmt {
	F_TEXT,	     /* strings as they are, numbers, yes/no, lists joined by ',' */
	F_TIME,	     /* epoch seconds as UTC 2026-11-23T10:00:00Z */
	F_ALG,	     /* DNSSEC algorithm number as its mnemonic */
	F_RCODE,     /* RCODE number as its name */
	F_VALIDATION /* a key's "validation" object in a few words */
};

struct col {
	const char *head, *path; /* path: "key" or "key.subkey" */
	enum fmt fmt;
};

#define NCOL(a) (sizeof(a) / sizeof((a)[0]))

static const struct col ZONE_COLS[] = {
    {"NAME", "name", F_TEXT},
    {"CHILDREN", "children", F_TEXT},
    {"BOOTSTRAP", "bootstrap_methods", F_TEXT},
    {"BACKENDS", "backends", F_TEXT},
    {"KEY-ROLLOVER", "key_rollover", F_TEXT},
};
static const struct col CHILD_COLS[] = {
    {"NAME", "name", F_TEXT},
    {"NS", "ns", F_TEXT},
    {"DS", "ds", F_TEXT},
    {"GLUE", "glue", F_TEXT},
    {"TRUSTED", "keys.trusted", F_TEXT},
    {"VALIDATING", "keys.validating", F_TEXT},
};
static const struct col KEY_COLS[] = {
    {"ID", "id", F_TEXT},
    {"TAG", "tag", F_TEXT},
    {"ALG", "algorithm", F_ALG},
    {"STATE", "state", F_TEXT},
    {"METHOD", "trust_method", F_TEXT},
    {"UPDATED", "updated", F_TIME},
    {"SOURCE", "source", F_TEXT},
    {"VALIDATION", "validation", F_VALIDATION},
};
static const struct col VALIDATION_COLS[] = {
    {"KEY", "key_id", F_TEXT},
    {"CHILD", "child", F_TEXT},
    {"TAG", "tag", F_TEXT},
    {"ATTEMPTS", "attempts", F_TEXT},
    {"ROUNDS", "rounds", F_TEXT},
    {"NEXT", "next_time", F_TIME},
    {"LAST-RESULT", "last_result", F_TEXT},
};
static const struct col AUDIT_COLS[] = {
    {"ID", "id", F_TEXT},	  {"TIME", "time", F_TIME},    {"CLIENT", "client", F_TEXT},
    {"CHILD", "child", F_TEXT},	  {"TAG", "key_tag", F_TEXT},  {"ACTOR", "actor", F_TEXT},
    {"RESULT", "result", F_TEXT}, {"RCODE", "rcode", F_RCODE}, {"REASON", "reason", F_TEXT},
};
static const struct col OUTBOX_COLS[] = {
    {"ID", "id", F_TEXT},
    {"CHANGE", "change_id", F_TEXT},
    {"CHILD", "child", F_TEXT},
    {"BACKEND", "backend", F_TEXT},
    {"STATE", "state", F_TEXT},
    {"ATTEMPTS", "attempts", F_TEXT},
    {"CREATED", "created", F_TIME},
    {"NEXT-ATTEMPT", "next_attempt", F_TIME},
    {"DELIVERED", "delivered_time", F_TIME},
    {"LAST-ERROR", "last_error", F_TEXT},
};
static const struct col RKEY_COLS[] = {
    {"TAG", "tag", F_TEXT},
    {"ALG", "algorithm", F_ALG},
    {"ACTIVE", "active", F_TEXT},
    {"PUBLISHED", "published", F_TEXT},
    {"PUBLISH", "publish_time", F_TIME},
    {"ACTIVATE", "activate_time", F_TIME},
    {"INACTIVE", "inactive_time", F_TIME},
    {"DELETE", "delete_time", F_TIME},
};

static const char *alg_name(json_int_t a)
{
	switch (a) {
	case 5:
		return "RSASHA1";
	case 7:
		return "NSEC3RSASHA1";
	case 8:
		return "RSASHA256";
	case 10:
		return "RSASHA512";
	case 13:
		return "ECDSAP256SHA256";
	case 14:
		return "ECDSAP384SHA384";
	case 15:
		return "ED25519";
	case 16:
		return "ED448";
	default:
		return NULL;
	}
}

/* OBJ's member at "a" or "a.b"; NULL when there is none */
static json_t *jget(json_t *o, const char *path)
{
	const char *dot;

	while (o != NULL && (dot = strchr(path, '.')) != NULL) {
		char key[64];

		snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
		o = json_object_get(o, key);
		path = dot + 1;
	}
	return json_object_get(o, path);
}

/* any JSON value as cell text ("-" for none); the caller frees */
static char *text(json_t *v)
{
	size_t i, n;
	char *s, *e, *t;

	if (v == NULL)
		return xstrdup("-");
	switch (json_typeof(v)) {
	case JSON_STRING:
		return clean(xstrdup(json_string_value(v)));
	case JSON_INTEGER:
		return xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
	case JSON_REAL:
		return xasprintf("%g", json_real_value(v));
	case JSON_TRUE:
		return xstrdup("yes");
	case JSON_FALSE:
		return xstrdup("no");
	case JSON_ARRAY:
		if ((n = json_array_size(v)) == 0)
			return xstrdup("-");
		s = xstrdup("");
		for (i = 0; i < n; i++) {
			e = text(json_array_get(v, i));
			t = xasprintf("%s%s%s", s, i ? "," : "", e);
			free(e);
			free(s);
			s = t;
		}
		return s;
	case JSON_OBJECT:
		return clean(jnn_str(json_dumps(v, JSON_COMPACT)));
	case JSON_NULL:
	default:
		return xstrdup("-");
	}
}

static char *fmt_time(json_int_t v)
{
	time_t t = (time_t)v;
	struct tm tm;
	char buf[64];

	if (gmtime_r(&t, &tm) == NULL || strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return xasprintf("%" JSON_INTEGER_FORMAT, v);
	return xstrdup(buf);
}

/* a key's validation state: "-", its last result, or "pending (attempt N,
 * next T): last result" */
static char *fmt_validation(json_t *v)
{
	char *last, *next, *s;

	if (!json_is_object(v))
		return xstrdup("-");
	last = text(json_object_get(v, "last_result"));
	if (!json_is_true(json_object_get(v, "pending")))
		return last;
	next = json_is_integer(json_object_get(v, "next_time"))
		   ? fmt_time(json_integer_value(json_object_get(v, "next_time")))
		   : xstrdup("-");
	s = xasprintf("pending (attempts %" JSON_INTEGER_FORMAT ", next %s): %s",
		      json_integer_value(json_object_get(v, "attempts")), next, last);
	free(next);
	free(last);
	return s;
}

static char *cell(json_t *o, const struct col *col)
{
	json_t *v = jget(o, col->path);
	const char *name = NULL;
	char rb[16];

	if (col->fmt == F_VALIDATION)
		return fmt_validation(v);
	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);

		if (col->fmt == F_TIME)
			return fmt_time(i);
		if (col->fmt == F_ALG)
			name = alg_name(i);
		else if (col->fmt == F_RCODE)
			name =
			    i >= 0 && i < 65536 ? rr_rcode_str((unsigned)i, rb, sizeof(rb)) : NULL;
		if (name != NULL)
			return xstrdup(name);
	}
	return text(v);
}

/* An aligned table: rows of ncol owned cells, printed with two spaces
 * between columns and no padding after the last one. */
struct table {
	size_t ncol, n, cap; /* n cells so far */
	char **cell;
};

static void tab_init(struct table *t, size_t ncol)
{
	memset(t, 0, sizeof(*t));
	t->ncol = ncol;
}

/* append one cell (owned; made terminal-safe here) */
static void tab_push(struct table *t, char *s)
{
	size_t len = strlen(clean(s));

	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->cell = xrealloc(t->cell, t->cap * sizeof(*t->cell));
	}
	while (len > 0 && s[len - 1] == ' ')
		s[--len] = '\0';
	t->cell[t->n++] = s;
}

static void tab_head(struct table *t, const struct col *cols, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		tab_push(t, xstrdup(cols[i].head));
}

static void tab_obj(struct table *t, const struct col *cols, size_t n, json_t *o)
{
	size_t i;

	for (i = 0; i < n; i++)
		tab_push(t, cell(o, &cols[i]));
}

/* display width: UTF-8 code points */
static size_t width(const char *s)
{
	size_t w = 0;

	for (; *s != '\0'; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

/* print and free the table */
static void tab_print(struct table *t)
{
	size_t *w = xrealloc(NULL, t->ncol * sizeof(*w)), i;

	memset(w, 0, t->ncol * sizeof(*w));
	for (i = 0; i < t->n; i++)
		if (width(t->cell[i]) > w[i % t->ncol])
			w[i % t->ncol] = width(t->cell[i]);
	for (i = 0; i < t->n; i++) {
		size_t c = i % t->ncol;

		fputs(t->cell[i], stdout);
		if (c + 1 == t->ncol || i + 1 == t->n)
			putchar('\n');
		else
			printf("%*s", (int)(w[c] - width(t->cell[i]) + 2), "");
		free(t->cell[i]);
	}
	free(t->cell);
	free(w);
}

/* an object's scalars as "path  value" rows, nested objects by dotted
 * paths, lists of objects by [index] */
static void flatten(struct table *t, const char *prefix, json_t *v)
{
	if (json_is_object(v) && json_object_size(v) > 0) {
		const char *k;
		json_t *m;

		json_object_foreach(v, k, m)
		{
			char *p = *prefix ? xasprintf("%s.%s", prefix, k) : xstrdup(k);

			flatten(t, p, m);
			free(p);
		}
		return;
	}
	if (json_is_array(v)) {
		size_t i;
		json_t *m;
		bool nested = false;

		json_array_foreach(v, i, m) nested |= json_is_object(m) || json_is_array(m);
		if (nested) {
			json_array_foreach(v, i, m)
			{
				char *p = xasprintf("%s[%zu]", prefix, i);

				flatten(t, p, m);
				free(p);
			}
			return;
		}
	}
	tab_push(t, xstrdup(prefix));
	tab_push(t, text(v));
}

/* a list answer (from api_list) as JSON or as a table of COLS */
static int show_list(struct ctl *c, json_t *list, const struct col *cols, size_t n)
{
	struct table t;
	json_t *it;
	size_t i;

	if (c->json)
		return print_json(list);
	tab_init(&t, n);
	tab_head(&t, cols, n);
	json_array_foreach(json_object_get(list, "items"), i, it) tab_obj(&t, cols, n, it);
	tab_print(&t);
	return 0;
}

/* GET a list and show it */
static int list_cmd(struct ctl *c, const char *path, bool paged, const struct col *cols, size_t n)
{
	json_t *list;
	int rc = api_list(c, path, paged, &list);

	if (rc == 0)
		rc = show_list(c, list, cols, n);
	json_decref(list);
	return rc;
}

/* one object as JSON or as a one-row table */
static int show_one(struct ctl *c, json_t *o, const struct col *cols, size_t n)
{
	struct table t;

	if (c->json)
		return print_json(o);
	tab_init(&t, n);
	tab_head(&t, cols, n);
	tab_obj(&t, cols, n, o);
	tab_print(&t);
	return 0;
}

/* ---- commands ------------------------------------------------------------------ */

/* a numeric ID from the command line: 1 .. 2^63-1 */
static int id_arg(const char *s, const char *what)
{
	const char *p = s;

	while (*p >= '0' && *p <= '9')
		p++;
	if (*s == '\0' || *p != '\0' || p - s > 18 || strspn(s, "0") == strlen(s)) {
		char *d = clean(xstrdup(s));
		int rc = fail(RC_USAGE, "%s must be a positive number, not '%s'", what, d);

		free(d);
		return rc;
	}
	return 0;
}

/* PREFIX + NAME escaped as one path segment + SUFFIX; the caller frees */
static char *path1(struct ctl *c, const char *prefix, const char *name, const char *suffix)
{
	char *e = esc(c, name), *p = xasprintf("%s%s%s", prefix, e, suffix);

	curl_free(e);
	return p;
}

/* PATH with "KEY=VAL" (escaped) added when VAL is set; frees PATH */
static char *add_query(struct ctl *c, char *path, const char *key, const char *val)
{
	char *e, *p;

	if (val == NULL)
		return path;
	e = esc(c, val);
	p = xasprintf("%s%s%s=%s", path, qsep(path), key, e);
	curl_free(e);
	free(path);
	return p;
}

/* GET PATH expecting an object; *o is owned by the caller */
static int get_object(struct ctl *c, const char *path, json_t **o)
{
	int rc = api(c, "GET", path, NULL, o);

	return rc != 0 ? rc : need_object(*o, path);
}

static int cmd_zones(struct ctl *c, char **arg)
{
	(void)arg;
	return list_cmd(c, "/api/v1/zones", false, ZONE_COLS, NCOL(ZONE_COLS));
}

static int cmd_children(struct ctl *c, char **arg)
{
	char *p = path1(c, "/api/v1/zones/", arg[0], "/children");
	int rc = list_cmd(c, p, true, CHILD_COLS, NCOL(CHILD_COLS));

	free(p);
	return rc;
}

static int cmd_child_show(struct ctl *c, char **arg)
{
	char *p = path1(c, "/api/v1/children/", arg[0], "");
	json_t *o = NULL, *deleg, *keys, *m;
	struct table t;
	size_t i;
	int rc = get_object(c, p, &o);

	free(p);
	if (rc != 0 || c->json) {
		rc = rc != 0 ? rc : print_json(o);
		json_decref(o);
		return rc;
	}
	deleg = json_object_get(o, "delegation");
	keys = json_object_get(o, "keys");
	tab_init(&t, 2);
	tab_push(&t, xstrdup("child"));
	tab_push(&t, text(json_object_get(o, "name")));
	tab_push(&t, xstrdup("zone"));
	tab_push(&t, text(json_object_get(o, "zone")));
	if (json_array_size(deleg) == 0) {
		tab_push(&t, xstrdup("delegation"));
		tab_push(&t, xstrdup("-"));
	}
	json_array_foreach(deleg, i, m)
	{
		tab_push(&t, xstrdup(i == 0 ? "delegation" : ""));
		tab_push(&t, text(m));
	}
	if (json_array_size(keys) == 0) {
		tab_push(&t, xstrdup("keys"));
		tab_push(&t, xstrdup("-"));
	}
	tab_print(&t);
	if (json_array_size(keys) > 0) {
		putchar('\n');
		tab_init(&t, NCOL(KEY_COLS));
		tab_head(&t, KEY_COLS, NCOL(KEY_COLS));
		json_array_foreach(keys, i, m) tab_obj(&t, KEY_COLS, NCOL(KEY_COLS), m);
		tab_print(&t);
	}
	json_decref(o);
	return 0;
}

static int cmd_keys(struct ctl *c, char **arg)
{
	char *p = path1(c, "/api/v1/children/", arg[0], "/keys");
	int rc = list_cmd(c, p, false, KEY_COLS, NCOL(KEY_COLS));

	free(p);
	return rc;
}

/* The KEY record text: the argument itself, or, when it has no white
 * space, the one record in that file (a BIND K*.key file). */
static int key_text(const char *arg, char **out)
{
	struct stat st;
	char *buf, *line, *save = NULL, *found = NULL;
	size_t n = strlen(arg);
	int rc;

	*out = NULL;
	if (strpbrk(arg, " \t") != NULL) {
		*out = xstrdup(arg);
		return 0;
	}
	if (n >= 8 && strcmp(arg + n - 8, ".private") == 0)
		return fail(RC_USAGE, "%s is a private key: give the .key file", arg);
	if ((rc = read_small(arg, "key file", &buf, &st)) != 0)
		return rc;
	for (line = strtok_r(buf, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		line = trim(line);
		if (*line == '\0' || *line == ';')
			continue;
		if (found != NULL) {
			rc = fail(RC_USAGE, "key file %s holds more than one record", arg);
			break;
		}
		found = line;
	}
	if (rc == 0 && found == NULL)
		rc = fail(RC_USAGE, "key file %s holds no record", arg);
	if (rc == 0)
		*out = xstrdup(found);
	free(buf);
	return rc;
}

static int cmd_key_add(struct ctl *c, char **arg)
{
	json_t *body, *s, *o = NULL;
	char *txt, *p;
	int rc = key_text(arg[1], &txt);

	if (rc != 0)
		return rc;
	if ((s = json_string(txt)) == NULL) {
		free(txt);
		return fail(RC_USAGE, "the key text is not valid UTF-8");
	}
	free(txt);
	body = jnn(json_pack("{s:o}", "key", s));
	p = path1(c, "/api/v1/children/", arg[0], "/keys");
	rc = api(c, "POST", p, body, &o);
	if (rc == 0)
		rc = need_object(o, p);
	if (rc == 0)
		rc = show_one(c, o, KEY_COLS, NCOL(KEY_COLS));
	free(p);
	json_decref(body);
	json_decref(o);
	return rc;
}

/* POST /api/v1/keys/ID/ACTION and show the key after it */
static int key_action(struct ctl *c, const char *id, const char *action)
{
	json_t *o = NULL;
	char *p;
	int rc = id_arg(id, "key ID");

	if (rc != 0)
		return rc;
	p = xasprintf("/api/v1/keys/%s/%s", id, action);
	rc = api(c, "POST", p, NULL, &o);
	if (rc == 0)
		rc = need_object(o, p);
	if (rc == 0)
		rc = show_one(c, o, KEY_COLS, NCOL(KEY_COLS));
	free(p);
	json_decref(o);
	return rc;
}

static int cmd_key_trust(struct ctl *c, char **arg)
{
	return key_action(c, arg[0], "trust");
}

static int cmd_key_revoke(struct ctl *c, char **arg)
{
	return key_action(c, arg[0], "revoke");
}

static int cmd_key_delete(struct ctl *c, char **arg)
{
	json_t *o = NULL;
	char *p;
	int rc = id_arg(arg[0], "key ID");

	if (rc != 0)
		return rc;
	p = xasprintf("/api/v1/keys/%s", arg[0]);
	rc = api(c, "DELETE", p, NULL, &o);
	free(p);
	if (rc == 0 && c->json && o != NULL)
		rc = print_json(o);
	else if (rc == 0 && !c->json)
		printf("key %s deleted\n", arg[0]);
	json_decref(o);
	return rc;
}

static int cmd_validations(struct ctl *c, char **arg)
{
	(void)arg;
	return list_cmd(c, "/api/v1/validations", true, VALIDATION_COLS, NCOL(VALIDATION_COLS));
}

static int cmd_audit(struct ctl *c, char **arg)
{
	char *p = xstrdup("/api/v1/audit"), num[32];
	int rc;

	(void)arg;
	p = add_query(c, p, "child", c->child);
	p = add_query(c, p, "result", c->result);
	if (c->has_since) {
		snprintf(num, sizeof(num), "%lld", c->since);
		p = add_query(c, p, "since", num);
	}
	if (c->has_until) {
		snprintf(num, sizeof(num), "%lld", c->until);
		p = add_query(c, p, "until", num);
	}
	rc = list_cmd(c, p, true, AUDIT_COLS, NCOL(AUDIT_COLS));
	free(p);
	return rc;
}

static int cmd_outbox(struct ctl *c, char **arg)
{
	char *p = add_query(c, xstrdup("/api/v1/outbox"), "state", c->state);
	int rc = list_cmd(c, p, true, OUTBOX_COLS, NCOL(OUTBOX_COLS));

	(void)arg;
	free(p);
	return rc;
}

static int cmd_retry(struct ctl *c, char **arg)
{
	json_t *o = NULL;
	char *p;
	int rc = id_arg(arg[0], "delivery ID");

	if (rc != 0)
		return rc;
	p = xasprintf("/api/v1/outbox/%s/retry", arg[0]);
	rc = api(c, "POST", p, NULL, &o);
	if (rc == 0)
		rc = need_object(o, p);
	if (rc == 0)
		rc = show_one(c, o, OUTBOX_COLS, NCOL(OUTBOX_COLS));
	free(p);
	json_decref(o);
	return rc;
}

/* zone-file text, not JSON: written to stdout as it arrives (it may be as
 * large as the zone), --json or not */
static int cmd_records(struct ctl *c, char **arg)
{
	struct answer a = {0};
	char *p = arg[0] != NULL ? path1(c, "/api/v1/records?zone=", arg[0], "")
				 : xstrdup("/api/v1/records");
	int rc;

	a.stream = true;
	rc = transfer(c, "GET", p, NULL, "text/plain, application/json", &a);
	if (rc == 0 && (a.status < 200 || a.status > 299))
		rc = answer_fail(c, &a);
	free(a.body);
	free(p);
	return rc;
}

static int show_rkey(struct ctl *c, json_t *o)
{
	struct table t;
	json_t *k;
	size_t i;

	if (c->json)
		return print_json(o);
	tab_init(&t, 2);
	tab_push(&t, xstrdup("name"));
	tab_push(&t, text(json_object_get(o, "name")));
	tab_print(&t);
	putchar('\n');
	tab_init(&t, NCOL(RKEY_COLS));
	tab_head(&t, RKEY_COLS, NCOL(RKEY_COLS));
	json_array_foreach(json_object_get(o, "keys"), i, k)
	    tab_obj(&t, RKEY_COLS, NCOL(RKEY_COLS), k);
	tab_print(&t);
	return 0;
}

static int cmd_rkey_show(struct ctl *c, char **arg)
{
	json_t *o = NULL;
	int rc = get_object(c, "/api/v1/receiver-key", &o);

	(void)arg;
	if (rc == 0)
		rc = show_rkey(c, o);
	json_decref(o);
	return rc;
}

static int cmd_rkey_roll(struct ctl *c, char **arg)
{
	json_t *o = NULL;
	int rc = api(c, "POST", "/api/v1/receiver-key/roll", NULL, &o);

	(void)arg;
	if (rc == 0)
		rc = need_object(o, "/api/v1/receiver-key/roll");
	if (rc == 0)
		rc = show_rkey(c, o);
	json_decref(o);
	return rc;
}

/* an object as JSON or as "path  value" lines */
static int show_flat(struct ctl *c, json_t *o)
{
	struct table t;

	if (c->json)
		return print_json(o);
	tab_init(&t, 2);
	flatten(&t, "", o);
	tab_print(&t);
	return 0;
}

static int cmd_config(struct ctl *c, char **arg)
{
	json_t *o = NULL;
	int rc = get_object(c, "/api/v1/config", &o);

	(void)arg;
	if (rc == 0)
		rc = show_flat(c, o);
	json_decref(o);
	return rc;
}

/* /healthz: a 503 still carries the report; it is shown, the status is 2 */
static int cmd_health(struct ctl *c, char **arg)
{
	struct answer a = {0};
	json_t *o = NULL;
	int rc;

	(void)arg;
	rc = transfer(c, "GET", "/healthz", NULL, "application/json", &a);
	if (rc == 0 && a.status == 503 && a.len > 0 &&
	    (o = json_loadb(a.body, a.len, 0, NULL)) != NULL && json_is_object(o)) {
		char *st = text(json_object_get(o, "status"));

		show_flat(c, o);
		rc = fail(RC_SERVER, "dsyncd is not healthy (status %s)", st);
		free(st);
	} else if (rc == 0 && (a.status < 200 || a.status > 299)) {
		rc = answer_fail(c, &a);
	} else if (rc == 0) {
		rc = parse_json(&a, "GET", "/healthz", &o);
		if (rc == 0)
			rc = need_object(o, "/healthz");
		if (rc == 0)
			rc = show_flat(c, o);
	}
	json_decref(o);
	free(a.body);
	return rc;
}

/* ---- the command line ------------------------------------------------------------ */

struct command {
	const char *words; /* "key trust" */
	int min, max;	   /* arguments after the words */
	unsigned opts;	   /* OPT_* it takes */
	int (*run)(struct ctl *c, char **arg);
	const char *args; /* for the usage text */
};

static const struct command COMMANDS[] = {
    {"zones", 0, 0, OPT_LIMIT, cmd_zones, ""},
    {"children", 1, 1, OPT_LIMIT, cmd_children, "ZONE"},
    {"child show", 1, 1, 0, cmd_child_show, "NAME"},
    {"keys", 1, 1, OPT_LIMIT, cmd_keys, "NAME"},
    {"key add", 2, 2, 0, cmd_key_add, "NAME 'KEY-RR-TEXT'|KEY-FILE"},
    {"key trust", 1, 1, 0, cmd_key_trust, "ID"},
    {"key revoke", 1, 1, 0, cmd_key_revoke, "ID"},
    {"key delete", 1, 1, 0, cmd_key_delete, "ID"},
    {"validations", 0, 0, OPT_LIMIT, cmd_validations, ""},
    {"audit", 0, 0, OPT_LIMIT | OPT_AUDIT, cmd_audit,
     "[--child NAME] [--result R] [--since T] [--until T] [--limit N]"},
    {"outbox", 0, 0, OPT_LIMIT | OPT_STATE, cmd_outbox, "[--state pending|done|all] [--limit N]"},
    {"retry", 1, 1, 0, cmd_retry, "DELIVERY-ID"},
    {"records", 0, 1, 0, cmd_records, "[ZONE]"},
    {"receiver-key", 0, 0, 0, cmd_rkey_show, "[show]"},
    {"receiver-key show", 0, 0, 0, cmd_rkey_show, NULL},
    {"receiver-key roll", 0, 0, 0, cmd_rkey_roll, ""},
    {"config", 0, 0, 0, cmd_config, ""},
    {"health", 0, 0, 0, cmd_health, ""},
};

static void usage(FILE *f)
{
	size_t i;

	fputs("usage: dsyncctl [--url URL] [--token-file FILE] [--cacert FILE] [--json]\n"
	      "                [--timeout S] COMMAND ...\n"
	      "Commands:\n",
	      f);
	for (i = 0; i < NCOL(COMMANDS); i++)
		if (COMMANDS[i].args != NULL)
			fprintf(f, "  %s%s%s\n", COMMANDS[i].words, *COMMANDS[i].args ? " " : "",
				COMMANDS[i].args);
	fputs("Options:\n"
	      "  --url URL          the API (default " DEFAULT_URL ")\n"
	      "  --token-file FILE  the bearer token, first line of FILE\n"
	      "  --cacert FILE      CA certificates for https\n"
	      "  --json             the API's JSON instead of a table\n"
	      "  --timeout S        seconds per request (default 10)\n"
	      "  --limit N          at most N items of a list\n"
	      "Also DSYNCCTL_URL, DSYNCCTL_TOKEN, DSYNCCTL_TOKEN_FILE, DSYNCCTL_CONFIG.\n"
	      "Exit: 0 ok, 1 refused by the API, 2 server/transport error, 64 usage,\n"
	      "77 not authorised.  See dsyncctl(1).\n",
	      f);
}

/* the command whose words start ARGS (the longest match), *nwords its word count */
static const struct command *find_command(char **args, int nargs, int *nwords)
{
	const struct command *best = NULL;
	size_t i;

	*nwords = 0;
	for (i = 0; i < NCOL(COMMANDS); i++) {
		const char *w = COMMANDS[i].words;
		int n = 0;

		while (n < nargs) {
			size_t len = strcspn(w, " ");

			if (strlen(args[n]) != len || strncmp(args[n], w, len) != 0)
				break;
			n++;
			w += len;
			if (*w == '\0')
				break;
			w++;
		}
		if (*w == '\0' && n > *nwords) {
			best = &COMMANDS[i];
			*nwords = n;
		}
	}
	return best;
}

/* --since / --until: epoch seconds, N{s,m,h,d,w} ago, or a UTC date
 * YYYY-MM-DD[THH:MM[:SS]][Z] */
static bool parse_when(const char *s, long long *out)
{
	static const char *const forms[] = {"%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S",
					    "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"};
	size_t digits = strspn(s, "0123456789"), i;

	if (digits > 0 && digits <= 12 && s[digits] == '\0') {
		*out = strtoll(s, NULL, 10);
		return true;
	}
	if (digits > 0 && digits <= 9 && s[digits] != '\0' && s[digits + 1] == '\0') {
		const char *u = strchr("smhdw", s[digits]);
		static const long long mult[] = {1, 60, 3600, 86400, 604800};

		if (u == NULL)
			return false;
		*out = (long long)time(NULL) - strtoll(s, NULL, 10) * mult[u - "smhdw"];
		return true;
	}
	for (i = 0; i < NCOL(forms); i++) {
		struct tm tm;
		const char *e;

		memset(&tm, 0, sizeof(tm));
		e = strptime(s, forms[i], &tm);
		if (e != NULL && (*e == '\0' || (e[0] == 'Z' && e[1] == '\0'))) {
			*out = (long long)timegm(&tm);
			return true;
		}
	}
	return false;
}

static bool loopback(const char *host)
{
	return strcmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 ||
	       strcmp(host, "[::1]") == 0 || strcmp(host, "::1") == 0;
}

/* Check the base URL; *out is it without trailing '/'. */
static int url_check(const char *in, bool token, char **out)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *part = NULL, *d = clean(xstrdup(in));
	int rc = 0;
	size_t n;

	*out = NULL;
	if (u == NULL)
		oom();
	if (curl_url_set(u, CURLUPART_URL, in, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		rc = fail(RC_USAGE, "bad URL '%s' (for example " DEFAULT_URL ")", d);
	else if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)
		rc = fail(RC_USAGE, "bad URL '%s': http:// or https:// only", d);
	else if (curl_url_get(u, CURLUPART_USER, &part, 0) == CURLUE_OK)
		rc = fail(RC_USAGE, "bad URL: no user name or password in it (ps shows it)");
	else if (curl_url_get(u, CURLUPART_QUERY, &part, 0) == CURLUE_OK ||
		 curl_url_get(u, CURLUPART_FRAGMENT, &part, 0) == CURLUE_OK)
		rc = fail(RC_USAGE, "bad URL '%s': no query or fragment", d);
	else if (token && strcmp(scheme, "http") == 0 && !loopback(host))
		warn("the token goes unencrypted over http to %s; use https", clean(host));
	curl_free(part);
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	free(d);
	if (rc != 0)
		return rc;
	*out = xstrdup(in);
	n = strlen(*out);
	while (n > 0 && (*out)[n - 1] == '/')
		(*out)[--n] = '\0';
	return 0;
}

enum {
	O_URL = 256,
	O_TOKEN_FILE,
	O_TOKEN,
	O_CACERT,
	O_JSON,
	O_TIMEOUT,
	O_LIMIT,
	O_CHILD,
	O_RESULT,
	O_SINCE,
	O_UNTIL,
	O_STATE,
};

static const struct option LONG_OPTS[] = {
    {"url", required_argument, NULL, O_URL},
    {"token-file", required_argument, NULL, O_TOKEN_FILE},
    {"token", required_argument, NULL, O_TOKEN},
    {"cacert", required_argument, NULL, O_CACERT},
    {"json", no_argument, NULL, O_JSON},
    {"timeout", required_argument, NULL, O_TIMEOUT},
    {"limit", required_argument, NULL, O_LIMIT},
    {"child", required_argument, NULL, O_CHILD},
    {"result", required_argument, NULL, O_RESULT},
    {"since", required_argument, NULL, O_SINCE},
    {"until", required_argument, NULL, O_UNTIL},
    {"state", required_argument, NULL, O_STATE},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

/* the options given on the command line */
struct opts {
	const char *url, *token_file, *cacert;
	long timeout_ms; /* 0: not given */
	unsigned used;	 /* OPT_* seen */
};

/* Parse the options (anywhere on the line); returns -1 to go on, else the
 * exit status. */
static int parse_opts(int argc, char **argv, struct ctl *c, struct opts *o)
{
	int ch;
	char *end;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "hV", LONG_OPTS, NULL)) != -1) {
		switch (ch) {
		case O_URL:
			o->url = optarg;
			break;
		case O_TOKEN_FILE:
			o->token_file = optarg;
			break;
		case O_TOKEN:
			return fail(RC_USAGE,
				    "the token is never taken from the command line, where "
				    "ps shows it: use --token-file FILE or DSYNCCTL_TOKEN");
		case O_CACERT:
			o->cacert = optarg;
			break;
		case O_JSON:
			c->json = true;
			break;
		case O_TIMEOUT:
			if (!parse_timeout(optarg, &o->timeout_ms))
				return fail(RC_USAGE, "--timeout takes seconds, 0.001 to 3600");
			break;
		case O_LIMIT:
			errno = 0;
			c->limit = strtol(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' || c->limit < 1 ||
			    c->limit > 1000000000L)
				return fail(RC_USAGE, "--limit takes a number, 1 to 1000000000");
			o->used |= OPT_LIMIT;
			break;
		case O_CHILD:
			c->child = optarg;
			o->used |= OPT_AUDIT;
			break;
		case O_RESULT:
			c->result = optarg;
			o->used |= OPT_AUDIT;
			break;
		case O_SINCE:
		case O_UNTIL:
			if (!parse_when(optarg, ch == O_SINCE ? &c->since : &c->until))
				return fail(
				    RC_USAGE,
				    "--%s takes epoch seconds, N{s,m,h,d,w} (that long ago) "
				    "or YYYY-MM-DD[THH:MM[:SS]] (UTC)",
				    ch == O_SINCE ? "since" : "until");
			*(ch == O_SINCE ? &c->has_since : &c->has_until) = true;
			o->used |= OPT_AUDIT;
			break;
		case O_STATE:
			if (strcmp(optarg, "pending") != 0 && strcmp(optarg, "done") != 0 &&
			    strcmp(optarg, "all") != 0)
				return fail(RC_USAGE, "--state takes pending, done or all");
			c->state = optarg;
			o->used |= OPT_STATE;
			break;
		case 'h':
			usage(stdout);
			return RC_OK;
		case 'V':
			printf("dsyncctl %s\n", DSYNC_VERSION);
			return RC_OK;
		default: {
			char *d = clean(xstrdup(argv[optind - 1]));

			fail(RC_USAGE, "unknown option or missing argument: %s", d);
			free(d);
			fputs("Try 'dsyncctl --help'.\n", stderr);
			return RC_USAGE;
		}
		}
	}
	return -1;
}

/* URL, token, CA and timeout: options, then environment, then config file */
static int settings(struct ctl *c, const struct opts *o)
{
	struct conf cf;
	const char *url, *e;
	int rc;

	if ((rc = conf_load(&cf)) != 0)
		return rc;
	if (o->token_file != NULL)
		rc = token_read(o->token_file, &c->token);
	else if ((e = getenv("DSYNCCTL_TOKEN")) != NULL && *e != '\0') {
		if ((rc = token_check(e, "DSYNCCTL_TOKEN")) == 0)
			c->token = xstrdup(e);
	} else if ((e = getenv("DSYNCCTL_TOKEN_FILE")) != NULL && *e != '\0')
		rc = token_read(e, &c->token);
	else if (cf.token_file != NULL)
		rc = token_read(cf.token_file, &c->token);
	url = o->url;
	if (url == NULL && (e = getenv("DSYNCCTL_URL")) != NULL && *e != '\0')
		url = e;
	if (url == NULL)
		url = cf.url != NULL ? cf.url : DEFAULT_URL;
	if (rc == 0)
		rc = url_check(url, c->token != NULL, &c->url);
	if (o->cacert != NULL)
		c->cacert = xstrdup(o->cacert);
	else if ((e = getenv("DSYNCCTL_CACERT")) != NULL && *e != '\0')
		c->cacert = xstrdup(e);
	else if (cf.cacert != NULL)
		c->cacert = xstrdup(cf.cacert);
	c->timeout_ms =
	    o->timeout_ms ? o->timeout_ms : (cf.timeout_ms ? cf.timeout_ms : DEFAULT_TIMEOUT_MS);
	conf_free(&cf);
	return rc;
}

int main(int argc, char **argv)
{
	struct ctl c;
	struct opts o;
	const struct command *cmd;
	char **args;
	int rc, nargs, nwords;

	memset(&c, 0, sizeof(c));
	memset(&o, 0, sizeof(o));
	if ((rc = parse_opts(argc, argv, &c, &o)) >= 0)
		return rc;
	args = argv + optind;
	nargs = argc - optind;
	if (nargs == 0) {
		usage(stderr);
		return RC_USAGE;
	}
	cmd = find_command(args, nargs, &nwords);
	if (cmd == NULL) {
		char *d = clean(xstrdup(args[0]));

		fail(RC_USAGE, "unknown command '%s'%s; try 'dsyncctl --help'", d,
		     strcmp(d, "key") == 0     ? " (key add|trust|revoke|delete)"
		     : strcmp(d, "child") == 0 ? " (child show NAME)"
					       : "");
		free(d);
		return RC_USAGE;
	}
	args += nwords;
	nargs -= nwords;
	if (nargs < cmd->min || nargs > cmd->max)
		return fail(RC_USAGE, "usage: dsyncctl %s %s", cmd->words,
			    cmd->args != NULL ? cmd->args : "");
	if (o.used & ~cmd->opts)
		return fail(RC_USAGE, "%s does not take %s", cmd->words,
			    (o.used & ~cmd->opts & OPT_LIMIT) ? "--limit"
			    : (o.used & ~cmd->opts & OPT_STATE)
				? "--state"
				: "--child, --result, --since or --until");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return fail(RC_SERVER, "cannot initialise libcurl");
	if ((rc = settings(&c, &o)) == 0) {
		if ((c.curl = curl_easy_init()) == NULL)
			oom();
		rc = cmd->run(&c, args);
	}
	if (fflush(stdout) != 0 && rc == 0)
		rc = fail(RC_SERVER, "cannot write output: %s", strerror(errno));
	curl_easy_cleanup(c.curl);
	curl_global_cleanup();
	free_secret(c.token);
	free(c.url);
	free(c.cacert);
	return rc;
}

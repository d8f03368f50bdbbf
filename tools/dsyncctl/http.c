/*
 * tools/dsyncctl/http.c -- one HTTP exchange with the API, its answer judged into an exit
 * status, JSON requests and paged lists (doc/api.md).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/version.h"
#include "tools/dsyncctl/dsyncctl.h"

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
 * Returns 0 when an answer came (any status, in *a), or RC_UNAVAILABLE (RC_PROTOCOL, RC_IOERR) with
 * the reason printed when none did (connection, TLS, timeout, oversized).
 */
int transfer(struct ctl *c, const char *method, const char *path, const char *body,
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
	/* a body goes with POST, and with DELETE when there is one (a reason) */
	if (strcmp(method, "POST") == 0 || body != NULL) {
		hdr_add(&h, "Content-Type: application/json");
		hdr_add(&h, "Expect:");
		curl_easy_setopt(k, CURLOPT_POST, 1L);
		curl_easy_setopt(k, CURLOPT_POSTFIELDS, body != NULL ? body : "");
		curl_easy_setopt(k, CURLOPT_POSTFIELDSIZE, (long)(body != NULL ? strlen(body) : 0));
	}
	if (strcmp(method, "POST") != 0 && strcmp(method, "GET") != 0)
		curl_easy_setopt(k, CURLOPT_CUSTOMREQUEST, method);
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
			x = cli_fail(RC_PROTOCOL, "%s %s: the answer is larger than %u bytes",
				     method, url, MAX_ANSWER);
		else if (a->write_failed)
			x = cli_fail(RC_IOERR, "cannot write the answer: %s", strerror(errno));
		else
			x = cli_fail(RC_UNAVAILABLE, "%s %s: %s", method, url,
				     c->errbuf[0] != '\0' ? clean(c->errbuf)
							  : curl_easy_strerror(rc));
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
int answer_fail(struct ctl *c, const struct answer *a)
{
	char *t = error_text(a);
	int x;

	if (a->status == 401 || a->status == 403) {
		x = cli_fail(RC_AUTH, "%s", t);
		if (c->token == NULL)
			cli_fail(RC_AUTH, "no token given: use --token-file, DSYNCCTL_TOKEN_FILE, "
					  "DSYNCCTL_TOKEN or token-file in the config file");
	} else if (a->status >= 400 && a->status <= 499) {
		x = cli_fail(RC_REFUSED, "%s", t);
	} else if (a->status >= 500 && a->status <= 599) {
		x = cli_fail(a->status == 503 ? RC_TEMPFAIL : RC_UNAVAILABLE,
			     "server error %ld: %s", a->status, t);
	} else if (a->status >= 300 && a->status <= 399) {
		x = cli_fail(RC_PROTOCOL,
			     "the server answered with a redirect (%ld), not followed; check "
			     "the URL",
			     a->status);
	} else {
		x = cli_fail(RC_PROTOCOL, "unexpected HTTP status %ld", a->status);
	}
	free(t);
	return x;
}

/* Parse a JSON answer; a server that sends something else is broken (RC_PROTOCOL). */
int parse_json(const struct answer *a, const char *method, const char *path, json_t **out)
{
	json_error_t err;

	*out = json_loadb(a->body != NULL ? a->body : "", a->len, 0, &err);
	if (*out == NULL)
		return cli_fail(RC_PROTOCOL, "%s %s: invalid JSON from the server: %s (line %d)",
				method, path, clean(err.text), err.line);
	return 0;
}

/*
 * One API request expecting JSON.  On a 2xx answer returns 0 and sets *out
 * to the parsed answer (NULL for an empty body; the caller decrefs);
 * otherwise returns the exit status with the reason printed.
 */
int api(struct ctl *c, const char *method, const char *path, const json_t *body, json_t **out)
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
 * is broken (RC_PROTOCOL). */
int need_object(json_t *j, const char *what)
{
	if (!json_is_object(j))
		return cli_fail(RC_PROTOCOL, "%s: the server's answer is not a JSON object", what);
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
int api_list(struct ctl *c, const char *path, bool paged, json_t **out)
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
			rc = cli_fail(RC_PROTOCOL, "GET %s: the server's answer is not a list",
				      path);
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
			rc = cli_fail(RC_PROTOCOL, "GET %s: the server's paging does not advance",
				      path);
			break;
		}
		json_decref(cursor);
		cursor = json_incref(next);
	}
	if (rc == 0 && pages == MAX_PAGES)
		rc = cli_fail(RC_PROTOCOL, "GET %s: more than %d pages; use --limit", path,
			      MAX_PAGES);
	json_decref(cursor);
	if (rc != 0) {
		json_decref(all);
		json_decref(next);
		return rc;
	}
	*out = jnn(json_pack("{s:o, s:o}", "items", all, "next", next ? next : json_null()));
	return 0;
}

/* PREFIX + NAME escaped as one path segment + SUFFIX; the caller frees */
char *path1(struct ctl *c, const char *prefix, const char *name, const char *suffix)
{
	char *e = esc(c, name), *p = xasprintf("%s%s%s", prefix, e, suffix);

	curl_free(e);
	return p;
}

/* PATH with "KEY=VAL" (escaped) added when VAL is set; frees PATH */
char *add_query(struct ctl *c, char *path, const char *key, const char *val)
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

/* METHOD PATH (with BODY) expecting an object; *o is owned by the caller */
int call_object(struct ctl *c, const char *method, const char *path, const json_t *body, json_t **o)
{
	int rc = api(c, method, path, body, o);

	return rc != 0 ? rc : need_object(*o, path);
}

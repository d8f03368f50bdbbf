/*
 * api/tokens.c -- the API's bearer tokens: a file of "name role token"
 * lines, kept in memory as SHA-256 digests and compared in constant time.
 *
 * The file holds secrets, so it is refused when group or others may access
 * it (as ssh refuses a private key with loose permissions): a token that
 * others can read is not a secret any more.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "api/internal.h"
#include "common/err.h"
#include "common/file.h"
#include "common/log.h"
#include "common/vec.h"

const char *api_role_str(enum api_role r)
{
	return r == API_ROLE_ADMIN ? "admin" : r == API_ROLE_READ ? "read" : "none";
}

static bool digest(const char *s, size_t len, uint8_t out[32])
{
	unsigned n = 0;
	return EVP_Digest(s, len, out, &n, EVP_sha256(), NULL) == 1 && n == 32;
}

static bool name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > API_TOKEN_NAME_MAX)
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
static const char *parse_line(char *line, struct api_token *t, bool *empty)
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
		t->role = API_ROLE_ADMIN;
	else if (strcmp(f[1], "read") == 0)
		t->role = API_ROLE_READ;
	else
		return "role must be read or admin";
	size_t tl = strlen(f[2]);
	if (tl < API_TOKEN_MIN || tl > API_TOKEN_MAX)
		return "the token must have 16 to 256 characters";
	if (!token_ok(f[2]))
		return "the token must be printable ASCII without spaces";
	snprintf(t->name, sizeof(t->name), "%s", f[0]);
	bool ok = digest(f[2], tl, t->digest);
	OPENSSL_cleanse(f[2], tl);
	return ok ? NULL : "cannot hash the token (OpenSSL)";
}

char *api_read_file(const char *path, const char *what, bool secret, size_t max, size_t *len)
{
	char why[PATH_MAX + 256];
	/* the same checks as cfg_preflight's, so that dsyncd -n refuses what start-up refuses */
	char *buf = file_read_checked(path, what, secret, max, len, why, sizeof(why));
	if (buf == NULL)
		log_err("%s", why);
	return buf;
}

int api_tokens_load(const char *path, struct api_tokens *out)
{
	size_t len, cap = 0, errors = 0;
	struct api_tokens set = {0};
	char *buf = api_read_file(path, "API tokens file", true, CFG_TOKENS_FILE_MAX, &len);
	if (buf == NULL)
		return DS_ECONFIG;
	if (strlen(buf) != len) {
		log_err("%s: the API tokens file holds a NUL byte", path);
		OPENSSL_cleanse(buf, len);
		free(buf);
		return DS_ECONFIG;
	}
	unsigned lineno = 0;
	char *save = NULL;
	/* strtok_r would skip empty lines and so miscount them: cut by hand */
	for (char *line = buf; line != NULL; line = save) {
		lineno++;
		save = strchr(line, '\n');
		if (save != NULL)
			*save++ = '\0';
		/*
		 * '#' starts a comment at the line's start or after white space;
		 * inside a token it is part of the token
		 */
		for (char *h = strchr(line, '#'); h != NULL; h = strchr(h + 1, '#'))
			if (h == line || h[-1] == ' ' || h[-1] == '\t') {
				*h = '\0';
				break;
			}
		struct api_token t = {0};
		bool empty;
		const char *why = parse_line(line, &t, &empty);
		if (why == NULL && empty)
			continue;
		for (size_t i = 0; why == NULL && i < set.n; i++) {
			if (strcmp(set.t[i].name, t.name) == 0)
				why = "duplicate token name";
			else if (CRYPTO_memcmp(set.t[i].digest, t.digest, 32) == 0)
				why = "duplicate token (each name needs its own)";
		}
		if (why != NULL) {
			log_err("%s:%u: %s", path, lineno, why);
			errors++;
			continue;
		}
		struct api_token *p = vec_grow(set.t, &cap, set.n + 1, sizeof(*p), 8);
		if (p == NULL) {
			OPENSSL_cleanse(buf, len);
			free(buf);
			api_tokens_clear(&set);
			return DS_ENOMEM;
		}
		set.t = p;
		set.t[set.n++] = t;
	}
	OPENSSL_cleanse(buf, len);
	free(buf);
	if (errors == 0 && set.n == 0) {
		log_err("%s: the API tokens file has no token", path);
		errors++;
	}
	if (errors != 0) {
		api_tokens_clear(&set);
		return DS_ECONFIG;
	}
	*out = set;
	return DS_OK;
}

void api_tokens_clear(struct api_tokens *t)
{
	if (t->t != NULL)
		OPENSSL_cleanse(t->t, t->n * sizeof(*t->t));
	free(t->t);
	t->t = NULL;
	t->n = 0;
}

const struct api_token *api_tokens_find(const struct api_tokens *t, const char *token, size_t len)
{
	uint8_t d[32];
	const struct api_token *found = NULL;
	if (!digest(token, len, d))
		return NULL;
	/* every entry is compared, so the time does not tell which one matched */
	for (size_t i = 0; i < t->n; i++) {
		int diff = CRYPTO_memcmp(t->t[i].digest, d, sizeof(d));
		if (diff == 0)
			found = &t->t[i];
	}
	return found;
}

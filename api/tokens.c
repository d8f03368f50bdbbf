/*
 * api/tokens.c -- the API's bearer tokens: a file of "name role token"
 * lines (read by common/tokens.c, the same code as the configuration
 * check's), kept in memory as SHA-256 digests and compared in constant
 * time.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "api/internal.h"
#include "common/err.h"
#include "common/file.h"
#include "common/log.h"
#include "common/tokens.h"

const char *api_role_str(enum api_role r)
{
	return r == API_ROLE_ADMIN ? "admin" : r == API_ROLE_READ ? "read" : "none";
}

char *api_read_file(const char *path, const char *what, bool secret, size_t max, size_t *len)
{
	char why[PATH_MAX + 256];
	/* the same checks as cfg_preflight's (common/file.c) */
	char *buf = file_read_checked(path, what, secret, max, len, why, sizeof(why));
	if (buf == NULL)
		log_err("%s", why);
	return buf;
}

/* tokens_read's problems go to the log */
static void report_log(void *arg, const char *text)
{
	(void)arg;
	log_err("%s", text);
}

int api_tokens_load(const char *path, struct api_tokens *out)
{
	_Static_assert(API_TOKEN_NAME_MAX == TOKEN_NAME_MAX && API_TOKEN_MAX == TOKEN_MAX,
		       "token sizes");
	_Static_assert((int)API_ROLE_READ == (int)TOKEN_ROLE_READ &&
			   (int)API_ROLE_ADMIN == (int)TOKEN_ROLE_ADMIN,
		       "roles");
	struct token *t = NULL;
	size_t n = 0;
	int rc = tokens_read(path, &t, &n, report_log, NULL);
	if (rc != DS_OK)
		return rc;
	struct api_tokens set = {calloc(n, sizeof(*set.t)), n};
	if (set.t == NULL) {
		tokens_free(t, n);
		return DS_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		memcpy(set.t[i].name, t[i].name, sizeof(set.t[i].name));
		set.t[i].role = (enum api_role)t[i].role;
		memcpy(set.t[i].digest, t[i].digest, sizeof(set.t[i].digest));
	}
	tokens_free(t, n);
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
	if (!token_digest(token, len, d))
		return NULL;
	/* every entry is compared, so the time does not tell which one matched */
	for (size_t i = 0; i < t->n; i++) {
		int diff = CRYPTO_memcmp(t->t[i].digest, d, sizeof(d));
		if (diff == 0)
			found = &t->t[i];
	}
	return found;
}

/*
 * common/tokens.h -- a file of bearer tokens, "name role token" lines ('#'
 * starts a comment), read the same way by the admin API (api/tokens.c) and
 * by the configuration check (cfg_preflight), so that `dsyncd -n` refuses
 * what start-up refuses.  Tokens are kept only as SHA-256 digests.
 *
 * The file holds secrets, so it is refused when group or others may access
 * it (as ssh refuses a private key with loose permissions): a token that
 * others can read is not a secret any more.
 */
#ifndef DS_COMMON_TOKENS_H
#define DS_COMMON_TOKENS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOKEN_NAME_MAX 64
#define TOKEN_MIN 16  /* characters */
#define TOKEN_MAX 256 /* characters */
#define TOKENS_FILE_MAX (1024 * 1024)

enum token_role { TOKEN_ROLE_READ = 1, TOKEN_ROLE_ADMIN = 2 };

struct token {
	char name[TOKEN_NAME_MAX + 1];
	enum token_role role;
	uint8_t digest[32]; /* SHA-256 of the token */
};

/* One problem of a tokens file, "path:line: why" or "path: why". */
typedef void (*tokens_report_fn)(void *arg, const char *text);

/*
 * Read the tokens file at path: a regular file that neither group nor
 * others may access (common/file.c), every line checked, every problem
 * to report(arg, text).  DS_OK with *out (malloc'd, *n entries, at least
 * one; free with tokens_free), DS_ECONFIG when there was any problem,
 * DS_ENOMEM.  Changes nothing.
 */
int tokens_read(const char *path, struct token **out, size_t *n, tokens_report_fn report,
		void *arg);
/* Wipe and free what tokens_read gave. */
void tokens_free(struct token *t, size_t n);
/* SHA-256 of s[0..len) into out; false when OpenSSL fails. */
bool token_digest(const char *s, size_t len, uint8_t out[32]);

#endif

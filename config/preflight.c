/*
 * config/preflight.c -- what start-up needs besides the configuration's
 * text: files readable (and secret where they hold secrets), PEM that
 * parses, folders dsyncd writes in, each backend's own needs.  Checked
 * without changing anything, every problem reported, so that `dsyncd -n`
 * refuses what start-up would refuse and start-up refuses it before it
 * builds anything.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/cookie.h"
#include "common/err.h"
#include "common/file.h"
#include "common/tokens.h"
#include "config/config.h"
#include "store/store.h"

#define WHY_MAX (PATH_MAX + 256)

void cfg_preflight_say(FILE *err, const char *where, const char *fmt, ...)
{
	va_list ap;
	if (err == NULL)
		return;
	fprintf(err, "%s: ", where);
	va_start(ap, fmt);
	vfprintf(err, fmt, ap);
	va_end(ap);
	fputc('\n', err);
}

/* The setting's "file:line", or the configuration file for a default. */
static const char *at(const struct cfg *c, const char *where)
{
	return where != NULL ? where : c->file;
}

/* The store: its folder there and writable (store_open makes one level of
 * it, as here), the database file, when it is there, readable and writable. */
static unsigned check_store(const struct cfg *c, FILE *err)
{
	char why[WHY_MAX];
	unsigned n = 0;
	if (store_spec_is_pg(c->store_spec))
		return 0; /* a database elsewhere: its string was checked at load */
	char *dir = file_dirname(c->store_path);
	if (dir == NULL)
		return 1;
	if (!file_dir_writable(dir, strcmp(dir, "/") != 0, why, sizeof why)) {
		cfg_preflight_say(err, at(c, c->where.store_path), "store.path: %s", why);
		n++;
	}
	free(dir);
	struct stat st;
	if (stat(c->store_path, &st) == 0 &&
	    (!S_ISREG(st.st_mode) || access(c->store_path, R_OK | W_OK) != 0)) {
		cfg_preflight_say(err, at(c, c->where.store_path),
				  "store.path: %s is not a file dsyncd can read and write",
				  c->store_path);
		n++;
	}
	return n;
}

struct token_say {
	FILE *err;
	const char *where;
	unsigned n;
};

static void token_problem(void *arg, const char *text)
{
	struct token_say *t = arg;
	t->n++;
	cfg_preflight_say(t->err, t->where, "api.tokens-file: %s", text);
}

/* The tokens file as the API reads it at start-up: the same code (common/tokens.c). */
static unsigned check_tokens(const struct cfg *c, FILE *err)
{
	struct token_say say = {err, at(c, c->where.tokens_file), 0};
	struct token *t = NULL;
	size_t n = 0;
	int rc = tokens_read(c->api.tokens_file, &t, &n, token_problem, &say);
	tokens_free(t, n);
	return rc == DS_OK ? 0 : say.n > 0 ? say.n : 1;
}

/* One PEM file of the API's TLS, read as the API reads it; NULL when it cannot be. */
static char *read_pem(const struct cfg *c, const char *path, bool secret, const char *where,
		      size_t *len, FILE *err)
{
	char why[WHY_MAX];
	const char *name = secret ? "api.tls-key" : "api.tls-certificate";
	char *buf =
	    file_read_checked(path, secret ? "API TLS key file" : "API TLS certificate file",
			      secret, CFG_TLS_FILE_MAX, len, why, sizeof why);
	if (buf == NULL)
		cfg_preflight_say(err, at(c, where), "%s: %s", name, why);
	else if (*len == 0)
		cfg_preflight_say(err, at(c, where), "%s: %s: the file is empty", name, path);
	if (buf != NULL && *len == 0) {
		free(buf);
		buf = NULL;
	}
	return buf;
}

/* The certificate and key parse as PEM, and the key is the certificate's. */
static unsigned check_pem_pair(const struct cfg *c, const char *cert, size_t certlen,
			       const char *key, size_t keylen, FILE *err)
{
	BIO *cb = BIO_new_mem_buf(cert, (int)certlen), *kb = BIO_new_mem_buf(key, (int)keylen);
	X509 *x = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
	EVP_PKEY *k = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
	unsigned n = 0;
	if (x == NULL) {
		cfg_preflight_say(err, at(c, c->where.tls_cert),
				  "api.tls-certificate: %s holds no PEM certificate",
				  c->api.tls_cert);
		n++;
	}
	if (k == NULL) {
		cfg_preflight_say(err, at(c, c->where.tls_key),
				  "api.tls-key: %s holds no PEM private key (or it is encrypted)",
				  c->api.tls_key);
		n++;
	}
	if (x != NULL && k != NULL && X509_check_private_key(x, k) != 1) {
		cfg_preflight_say(err, at(c, c->where.tls_key),
				  "api.tls-key: %s is not the key of the certificate %s",
				  c->api.tls_key, c->api.tls_cert);
		n++;
	}
	ERR_clear_error();
	X509_free(x);
	EVP_PKEY_free(k);
	BIO_free(cb);
	BIO_free(kb);
	return n;
}

static unsigned check_tls(const struct cfg *c, FILE *err)
{
	size_t certlen = 0, keylen = 0;
	char *cert = read_pem(c, c->api.tls_cert, false, c->where.tls_cert, &certlen, err);
	char *key = read_pem(c, c->api.tls_key, true, c->where.tls_key, &keylen, err);
	unsigned n = (cert == NULL) + (key == NULL);
	if (n == 0)
		n = check_pem_pair(c, cert, certlen, key, keylen, err);
	if (key != NULL)
		OPENSSL_cleanse(key, keylen);
	free(key);
	free(cert);
	return n;
}

/* The receiver's key folder: start-up reads it and writes the first key in
 * it (making it, one level, when it is missing); a roll writes there too. */
static unsigned check_key_dir(const struct cfg *c, FILE *err)
{
	char why[WHY_MAX];
	const char *dir = c->receiver.key_dir;
	if (!file_dir_writable(dir, true, why, sizeof why)) {
		cfg_preflight_say(err, at(c, c->where.key_dir), "receiver.key-directory: %s", why);
		return 1;
	}
	struct stat st;
	if (stat(dir, &st) == 0 && access(dir, R_OK) != 0) {
		cfg_preflight_say(err, at(c, c->where.key_dir),
				  "receiver.key-directory: cannot read the folder %s", dir);
		return 1;
	}
	return 0;
}

/* cookies.secret-file: read as the receiver reads it at start. */
static unsigned check_cookie_secret(const struct cfg *c, FILE *err)
{
	char why[WHY_MAX];
	uint8_t secret[COOKIE_SECRET_LEN];
	if (c->cookie_secret_file == NULL)
		return 0;
	int rc = cookie_secret_read(c->cookie_secret_file, secret, why, sizeof why);
	OPENSSL_cleanse(secret, sizeof secret);
	if (rc == DS_OK)
		return 0;
	cfg_preflight_say(err, at(c, c->where.cookie_secret), "cookies.secret-file: %s", why);
	return 1;
}

static unsigned check_backends(const struct cfg *c, FILE *err)
{
	unsigned n = 0;
	for (size_t i = 0; i < c->nzones; i++)
		for (size_t j = 0; j < c->zones[i].nbackends; j++) {
			const struct cfg_backend *b = &c->zones[i].backends[j];
			if (b->bt != NULL && b->bt->preflight != NULL)
				n += b->bt->preflight(b, err);
		}
	return n;
}

int cfg_preflight(const struct cfg *c, FILE *err)
{
	unsigned n = check_store(c, err);
	if (c->api.enabled)
		n += check_tokens(c, err);
	if (c->api.enabled && c->api.tls_cert != NULL && c->api.tls_key != NULL)
		n += check_tls(c, err);
	if (c->receiver.enabled)
		n += check_key_dir(c, err);
	n += check_cookie_secret(c, err);
	n += check_backends(c, err);
	return n == 0 ? DS_OK : DS_ECONFIG;
}

int cfg_preflight_reload(const struct cfg *c, FILE *err)
{
	unsigned n = c->api.enabled ? check_tokens(c, err) : 0;
	n += check_backends(c, err);
	return n == 0 ? DS_OK : DS_ECONFIG;
}

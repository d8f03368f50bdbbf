/*
 * sig0/keygen.c -- making SIG(0) key pairs (EdDSA, ECDSA) and writing them
 * as BIND key files, and the timing metadata ("Created:", "Publish:", ...)
 * of a .private file.
 *
 * The .private file is BIND's "Private-key-format: v1.3": the private key
 * in DNSSEC raw form (EdDSA seed, ECDSA scalar padded to the group size),
 * then the timing lines that are set.  Files are replaced atomically: a
 * temporary file in the same folder, fsync, rename (link for a new key, so
 * an existing key is never overwritten), fsync of the folder.
 */
#include "sig0/sig0.h"
#include "sig0/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "common/dname.h"
#include "common/err.h"
#include "common/rrtext.h"
#include "common/wire.h"

/* A .private file of ours is a few hundred bytes; refuse anything huge. */
#define PRIVFILE_MAX 65536
/* Largest public key we generate: ECDSA P-384, X|Y. */
#define GEN_PUB_MAX 96
/* Largest private key we write: ED448 seed (57), P-384 scalar (48). */
#define GEN_PRIV_MAX 57
/* 9999-12-31 23:59:59 UTC: the last time YYYYMMDDHHMMSS can hold. */
#define TIME_MAX 253402300799LL

/* ---- generation -------------------------------------------------------------- */

/* The public key in DNSSEC wire form: EdDSA raw, ECDSA X|Y (RFC 6605). */
static int pub_raw(const struct alg_info *ai, const EVP_PKEY *pkey, uint8_t *out)
{
	if (ai->kind == KIND_ED) {
		size_t n = ai->keylen;
		if (EVP_PKEY_get_raw_public_key(pkey, out, &n) != 1 || n != ai->keylen)
			return DS_ECRYPTO;
		return DS_OK;
	}
	BIGNUM *x = NULL, *y = NULL;
	int half = (int)ai->keylen / 2;
	int ok = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &x) == 1 &&
		 EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &y) == 1 &&
		 BN_bn2binpad(x, out, half) == half && BN_bn2binpad(y, out + half, half) == half;
	BN_free(x);
	BN_free(y);
	return ok ? DS_OK : DS_ECRYPTO;
}

/* The private key as BIND stores it; *len gets 32/57 (EdDSA) or 32/48 (ECDSA). */
static int priv_raw(const struct alg_info *ai, const EVP_PKEY *pkey, uint8_t *out, size_t *len)
{
	if (ai->kind == KIND_ED) {
		size_t n = ai->keylen;
		if (EVP_PKEY_get_raw_private_key(pkey, out, &n) != 1 || n != ai->keylen)
			return DS_ECRYPTO;
		*len = n;
		return DS_OK;
	}
	if (ai->kind != KIND_EC)
		return DS_ENOTSUP;
	BIGNUM *d = NULL;
	int half = (int)ai->keylen / 2;
	int ok = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, &d) == 1 &&
		 BN_bn2binpad(d, out, half) == half;
	BN_clear_free(d);
	*len = (size_t)half;
	return ok ? DS_OK : DS_ECRYPTO;
}

int sig0_key_generate(uint8_t alg, const uint8_t *owner, struct sig0_key **out, char *why,
		      size_t whylen)
{
	*out = NULL;
	if (why != NULL && whylen > 0)
		why[0] = 0;
	const struct alg_info *ai = sig0_alg_info(alg);
	if (ai == NULL || ai->kind == KIND_RSA) {
		ds_why(why, whylen, "no key generation for %s", sig0_alg_name(alg));
		return DS_ENOTSUP;
	}
	if (owner == NULL) {
		ds_why(why, whylen, "no owner name");
		return DS_EINVAL;
	}
	EVP_PKEY *pkey = ai->kind == KIND_EC ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", ai->otype)
					     : EVP_PKEY_Q_keygen(NULL, NULL, ai->otype);
	if (pkey == NULL) {
		ERR_clear_error();
		ds_why(why, whylen, "OpenSSL cannot make a %s key", sig0_alg_name(alg));
		return DS_ECRYPTO;
	}
	uint8_t rdata[4 + GEN_PUB_MAX];
	wr_u16(rdata, 0x0200); /* flags: host key (zone bit clear), A/C = 0 */
	rdata[2] = 3;	       /* protocol: DNSSEC */
	rdata[3] = alg;
	int rc = pub_raw(ai, pkey, rdata + 4);
	if (rc == DS_OK)
		rc = sig0_key_new_private(pkey, owner, rdata, 4 + ai->keylen, out, why, whylen);
	else
		ds_why(why, whylen, "cannot export the %s public key", sig0_alg_name(alg));
	if (rc != DS_OK) {
		ERR_clear_error();
		EVP_PKEY_free(pkey);
	}
	return rc;
}

/* ---- atomic file replacement ----------------------------------------------------- */

static int errno_rc(int e)
{
	switch (e) {
	case ENOENT:
		return DS_ENOENT;
	case EEXIST:
		return DS_EEXIST;
	case ENOMEM:
		return DS_ENOMEM;
	default:
		return DS_EIO;
	}
}

/* fsync the folder holding path, so a rename or link survives a crash. */
static int dir_sync(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	if (slash == NULL)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (dir == NULL)
		return DS_ENOMEM;
	int rc = DS_OK;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	/* some file systems cannot fsync a folder (EINVAL): nothing more to do */
	if (fd < 0 || (fsync(fd) != 0 && errno != EINVAL))
		rc = errno_rc(errno);
	if (fd >= 0)
		close(fd);
	free(dir);
	return rc;
}

/*
 * Give the new file fd its mode (and like's owner when we can), write data
 * and sync it; false with *step naming what failed (errno set).
 */
static bool fd_fill(int fd, const char *data, size_t len, mode_t mode, const struct stat *like,
		    const char **step)
{
	/* the mode is set before any data goes in, and regardless of the umask */
	if (fchmod(fd, mode) != 0) {
		*step = "chmod";
		return false;
	}
	if (like != NULL && (like->st_uid != geteuid() || like->st_gid != getegid()) &&
	    fchown(fd, like->st_uid, like->st_gid) != 0) {
		/* not root: the file keeps our own owner, as any rewrite would */
	}
	for (size_t done = 0; done < len;) {
		ssize_t w = write(fd, data + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			*step = "write";
			return false;
		}
		done += (size_t)w;
	}
	if (fsync(fd) != 0) {
		*step = "fsync";
		return false;
	}
	return true;
}

/*
 * Put the finished file tmp at path: rename over it when replace, else
 * link, so that an existing file is never lost (errno EEXIST).  false
 * with *step naming what failed (errno set).
 */
static bool put_in_place(const char *tmp, const char *path, bool replace, const char **step)
{
	struct stat st;
	if (!replace && link(tmp, path) == 0) {
		unlink(tmp);
		return true;
	}
	if (!replace && (errno == EEXIST || lstat(path, &st) == 0)) {
		errno = EEXIST;
		*step = "link";
		return false;
	}
	/* replace, or no hard links on this file system (some FUSE, vfat) and
	 * nothing in the way: rename */
	if (rename(tmp, path) != 0) {
		*step = "rename";
		return false;
	}
	return true;
}

/*
 * Write data to path with exactly the given mode, atomically.  replace:
 * rename over an existing file; otherwise link, so DS_EEXIST is returned
 * rather than an existing file lost.  like (may be NULL): give the new file
 * that file's owner and group when we can (a root tool rewriting a file
 * that belongs to the daemon's user).
 */
static int file_put(const char *path, const char *data, size_t len, mode_t mode, bool replace,
		    const struct stat *like, char *why, size_t whylen)
{
	size_t plen = strlen(path);
	char *tmp = malloc(plen + sizeof ".tmpXXXXXX");
	if (tmp == NULL)
		return DS_ENOMEM;
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, ".tmpXXXXXX", sizeof ".tmpXXXXXX");

	int rc;
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		rc = errno_rc(errno);
		ds_why(why, whylen, "%s: %s", tmp, strerror(errno));
		free(tmp);
		return rc;
	}
	const char *step = "create";
	bool ok = fd_fill(fd, data, len, mode, like, &step);
	int e = errno;
	if (close(fd) != 0 && ok) {
		e = errno;
		ok = false;
		step = "close";
	}
	if (ok) {
		ok = put_in_place(tmp, path, replace, &step);
		e = errno;
	}
	if (!ok) {
		rc = errno_rc(e);
		ds_why(why, whylen, "%s: %s: %s", path, step, strerror(e));
		unlink(tmp);
		free(tmp);
		return rc;
	}
	free(tmp);
	rc = dir_sync(path);
	if (rc != DS_OK)
		ds_why(why, whylen, "%s: cannot sync the folder", path);
	return rc;
}

/* Read a whole .private file (at most PRIVFILE_MAX bytes) into a NUL-ended buffer. */
static int private_load(const char *path, char **out, size_t *len, struct stat *st)
{
	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK); /* a FIFO must not block us */
	if (fd < 0)
		return errno_rc(errno);
	int rc = DS_OK;
	char *buf = NULL;
	if (fstat(fd, st) != 0) {
		rc = errno_rc(errno);
	} else if (!S_ISREG(st->st_mode)) {
		rc = DS_EINVAL;
	} else if (st->st_size > PRIVFILE_MAX) {
		rc = DS_ELIMIT;
	} else if ((buf = malloc(PRIVFILE_MAX + 1)) == NULL) {
		rc = DS_ENOMEM;
	} else {
		size_t n = 0;
		for (;;) {
			ssize_t r = read(fd, buf + n, PRIVFILE_MAX + 1 - n);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0) {
				rc = errno_rc(errno);
				break;
			}
			if (r == 0)
				break;
			n += (size_t)r;
			if (n > PRIVFILE_MAX) {
				rc = DS_ELIMIT; /* grew while we read it */
				break;
			}
		}
		if (rc == DS_OK) {
			buf[n] = 0;
			*len = n;
			*out = buf;
		} else {
			OPENSSL_cleanse(buf, PRIVFILE_MAX + 1);
			free(buf);
		}
	}
	close(fd);
	return rc;
}

/* ---- timing metadata ---------------------------------------------------------------- */

static const struct {
	const char *tag;
	size_t off;
} time_tags[] = {
    {"Created", offsetof(struct sig0_key_times, created)},
    {"Publish", offsetof(struct sig0_key_times, publish)},
    {"Activate", offsetof(struct sig0_key_times, activate)},
    {"Inactive", offsetof(struct sig0_key_times, inactive)},
    {"Delete", offsetof(struct sig0_key_times, removal)},
};
#define NTIME_TAGS (sizeof time_tags / sizeof time_tags[0])

static int64_t *time_field(struct sig0_key_times *t, size_t i)
{
	return (int64_t *)(void *)((char *)t + time_tags[i].off);
}

static int64_t time_get(const struct sig0_key_times *t, size_t i)
{
	return *(const int64_t *)(const void *)((const char *)t + time_tags[i].off);
}

/* Which timing tag a line starts with ("Tag:"), or -1. */
static int time_tag_of(const char *line, size_t len)
{
	for (size_t i = 0; i < NTIME_TAGS; i++) {
		size_t tl = strlen(time_tags[i].tag);
		if (len > tl && line[tl] == ':' && strncasecmp(line, time_tags[i].tag, tl) == 0)
			return (int)i;
	}
	return -1;
}

/* "YYYYMMDDHHMMSS" (UTC) of t, 1 <= t <= TIME_MAX. */
static int time_fmt(int64_t t, char out[16])
{
	if (t <= 0 || t > TIME_MAX)
		return DS_ERANGE;
	time_t tt = (time_t)t;
	struct tm tm;
	if (gmtime_r(&tt, &tm) == NULL || strftime(out, 16, "%Y%m%d%H%M%S", &tm) != 14)
		return DS_ERANGE;
	return DS_OK;
}

/* The value of a timing line: exactly 14 digits, a real date, blanks around. */
static int time_parse(const char *v, size_t len, int64_t *out)
{
	size_t i = 0;
	while (i < len && (v[i] == ' ' || v[i] == '\t'))
		i++;
	int f[6] = {0};
	static const int width[6] = {4, 2, 2, 2, 2, 2};
	for (int k = 0; k < 6; k++) {
		for (int j = 0; j < width[k]; j++, i++) {
			if (i >= len || v[i] < '0' || v[i] > '9')
				return DS_EPARSE;
			f[k] = f[k] * 10 + (v[i] - '0');
		}
	}
	for (; i < len; i++)
		if (v[i] != ' ' && v[i] != '\t' && v[i] != '\r')
			return DS_EPARSE;
	struct tm tm = {.tm_year = f[0] - 1900,
			.tm_mon = f[1] - 1,
			.tm_mday = f[2],
			.tm_hour = f[3],
			.tm_min = f[4],
			.tm_sec = f[5]};
	time_t t = timegm(&tm);
	/* timegm() normalises 20250231 into March: a changed field means no such date */
	if (f[0] < 1970 || tm.tm_year != f[0] - 1900 || tm.tm_mon != f[1] - 1 ||
	    tm.tm_mday != f[2] || tm.tm_hour != f[3] || tm.tm_min != f[4] || tm.tm_sec != f[5])
		return DS_EPARSE;
	*out = (int64_t)t;
	return DS_OK;
}

/* Append the set timing lines of t (in BIND's order) to out; n is updated. */
static int time_lines(const struct sig0_key_times *t, char *out, size_t cap, size_t *n)
{
	for (size_t i = 0; t != NULL && i < NTIME_TAGS; i++) {
		int64_t v = time_get(t, i);
		char ts[16];
		if (v == 0)
			continue;
		if (time_fmt(v, ts) != DS_OK)
			return DS_ERANGE;
		int w = snprintf(out + *n, cap - *n, "%s: %s\n", time_tags[i].tag, ts);
		if (w < 0 || (size_t)w >= cap - *n)
			return DS_ELIMIT;
		*n += (size_t)w;
	}
	return DS_OK;
}

int sig0_key_times_read(const char *path, struct sig0_key_times *t)
{
	memset(t, 0, sizeof *t);
	char *name = sig0_keyfile_name(path, ".private");
	if (name == NULL)
		return DS_ENOMEM;
	char *buf;
	size_t len;
	struct stat st;
	int rc = private_load(name, &buf, &len, &st);
	free(name);
	if (rc != DS_OK)
		return rc;
	for (size_t pos = 0; pos < len && rc == DS_OK;) {
		const char *line = buf + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t ll = nl != NULL ? (size_t)(nl - line) : len - pos;
		pos += ll + 1;
		int i = time_tag_of(line, ll);
		if (i < 0)
			continue; /* the key itself, and lines we do not know */
		size_t tl = strlen(time_tags[i].tag) + 1;
		rc = time_parse(line + tl, ll - tl, time_field(t, (size_t)i));
	}
	OPENSSL_cleanse(buf, len);
	free(buf);
	if (rc != DS_OK)
		memset(t, 0, sizeof *t);
	return rc;
}

int sig0_key_times_write(const char *path, const struct sig0_key_times *t)
{
	char *name = sig0_keyfile_name(path, ".private");
	if (name == NULL)
		return DS_ENOMEM;
	char *buf = NULL, *nbuf = NULL;
	size_t len = 0, cap = 0, n = 0;
	struct stat st;
	int rc = private_load(name, &buf, &len, &st);
	if (rc != DS_OK)
		goto out;
	static const char magic[] = "Private-key-format:";
	if (len < sizeof magic - 1 || strncasecmp(buf, magic, sizeof magic - 1) != 0) {
		rc = DS_EPARSE; /* not a key file: never rewrite it */
		goto out;
	}
	/* room for the old file, a newline, and five timing lines */
	cap = len + 2 + NTIME_TAGS * 32;
	nbuf = malloc(cap);
	if (nbuf == NULL) {
		rc = DS_ENOMEM;
		goto out;
	}
	/* the new timing block goes where the first old timing line was, else at the end */
	bool placed = false;
	for (size_t pos = 0; pos < len && rc == DS_OK;) {
		const char *line = buf + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t ll = nl != NULL ? (size_t)(nl - line) + 1 : len - pos;
		pos += ll;
		if (time_tag_of(line, ll) >= 0) {
			if (!placed)
				rc = time_lines(t, nbuf, cap, &n);
			placed = true;
			continue;
		}
		memcpy(nbuf + n, line, ll);
		n += ll;
		if (nl == NULL)
			nbuf[n++] = '\n'; /* a last line without one */
	}
	if (rc == DS_OK && !placed)
		rc = time_lines(t, nbuf, cap, &n);
	if (rc == DS_OK)
		rc = file_put(name, nbuf, n, 0600, true, &st, NULL, 0);
out:
	if (buf != NULL) {
		OPENSSL_cleanse(buf, len);
		free(buf);
	}
	if (nbuf != NULL) {
		OPENSSL_cleanse(nbuf, cap);
		free(nbuf);
	}
	free(name);
	return rc;
}

/* ---- writing a key pair ----------------------------------------------------------------- */

/* "<dir>/K<owner>+<alg>+<tag>" in prefix; owner: the key's owner as text. */
static int key_prefix(const struct sig0_key *k, const char *dir, char *prefix, size_t prefixlen,
		      char owner[DNAME_STR_MAX], char *why, size_t whylen)
{
	if (dname_to_str(k->owner, owner, DNAME_STR_MAX) != DS_OK || strchr(owner, '/') != NULL) {
		/* a '/' would put the file somewhere else */
		ds_why(why, whylen, "owner name unusable in a file name");
		return DS_EINVAL;
	}
	size_t dl = strlen(dir);
	int w = snprintf(prefix, prefixlen, "%s%sK%s+%03u+%05u", dir,
			 dl > 0 && dir[dl - 1] == '/' ? "" : "/", owner, k->ai->alg, k->tag);
	if (dl == 0 || w < 0 || (size_t)w >= prefixlen) {
		ds_why(why, whylen, "folder name empty or too long");
		return DS_ELIMIT;
	}
	return DS_OK;
}

/* The .key file: one comment line and the KEY record. */
static int key_text(const struct sig0_key *k, const char *owner, char *out, size_t cap, size_t *len,
		    char *why, size_t whylen)
{
	char rdtext[256];
	int rc = rr_rdata_to_str(T_KEY, k->rdata, k->rdlen, rdtext, sizeof rdtext);
	if (rc != DS_OK) {
		ds_why(why, whylen, "cannot format the KEY record");
		return rc;
	}
	int w =
	    snprintf(out, cap, "; This is a SIG(0) key for %s, created by dsyncd\n%s IN KEY %s\n",
		     owner, owner, rdtext);
	if (w < 0 || (size_t)w >= cap)
		return DS_ELIMIT;
	*len = (size_t)w;
	return DS_OK;
}

/* The .private file in BIND's format, with the set key times. */
static int private_text(const struct sig0_key *k, const struct sig0_key_times *t, char *out,
			size_t cap, size_t *len, char *why, size_t whylen)
{
	uint8_t raw[GEN_PRIV_MAX];
	char b64[GEN_PRIV_MAX * 2];
	size_t rawlen = 0;
	int rc = priv_raw(k->ai, k->pkey, raw, &rawlen);
	if (rc != DS_OK || b64_encode(raw, rawlen, b64, sizeof b64) < 0) {
		ds_why(why, whylen, "cannot export the private key");
		rc = rc != DS_OK ? rc : DS_ECRYPTO;
		goto out;
	}
	int w = snprintf(out, cap, "Private-key-format: v1.3\nAlgorithm: %u (%s)\nPrivateKey: %s\n",
			 k->ai->alg, sig0_alg_name(k->ai->alg), b64);
	if (w < 0 || (size_t)w >= cap) {
		rc = DS_ELIMIT;
		goto out;
	}
	*len = (size_t)w;
	rc = time_lines(t, out, cap, len);
	if (rc != DS_OK)
		ds_why(why, whylen, "a key time is outside 1970..9999");
out:
	OPENSSL_cleanse(raw, sizeof raw);
	OPENSSL_cleanse(b64, sizeof b64);
	return rc;
}

/* Both files of prefix, the .private first: a .key never exists without its private half. */
static int pair_put(const char *prefix, const char *privtext, size_t privlen, const char *keytext,
		    size_t keylen, char *why, size_t whylen)
{
	struct stat st;
	int rc = DS_ENOMEM;
	char *pkpath = sig0_keyfile_name(prefix, ".key");
	char *privpath = sig0_keyfile_name(prefix, ".private");
	if (pkpath == NULL || privpath == NULL)
		goto out;
	if (lstat(pkpath, &st) == 0 || lstat(privpath, &st) == 0) {
		ds_why(why, whylen, "%s: a key with this tag exists", prefix);
		rc = DS_EEXIST;
		goto out;
	}
	rc = file_put(privpath, privtext, privlen, 0600, false, NULL, why, whylen);
	if (rc != DS_OK)
		goto out;
	rc = file_put(pkpath, keytext, keylen, 0644, false, NULL, why, whylen);
	if (rc != DS_OK) {
		unlink(privpath);
		dir_sync(privpath);
	}
out:
	free(pkpath);
	free(privpath);
	return rc;
}

int sig0_key_write(const struct sig0_key *k, const char *dir, const struct sig0_key_times *t,
		   char *prefix, size_t prefixlen, char *why, size_t whylen)
{
	char owner[DNAME_STR_MAX], keytext[DNAME_STR_MAX * 2 + 400];
	char privtext[512];
	size_t keylen = 0, privlen = 0;

	if (why != NULL && whylen > 0)
		why[0] = 0;
	if (k->ai->kind == KIND_RSA) {
		ds_why(why, whylen, "writing %s keys is not supported", sig0_alg_name(k->ai->alg));
		return DS_ENOTSUP;
	}
	int rc = key_prefix(k, dir, prefix, prefixlen, owner, why, whylen);
	if (rc == DS_OK)
		rc = key_text(k, owner, keytext, sizeof keytext, &keylen, why, whylen);
	if (rc == DS_OK)
		rc = private_text(k, t, privtext, sizeof privtext, &privlen, why, whylen);
	if (rc == DS_OK)
		rc = pair_put(prefix, privtext, privlen, keytext, keylen, why, whylen);
	OPENSSL_cleanse(privtext, sizeof privtext);
	return rc;
}

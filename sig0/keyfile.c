/*
 * sig0/keyfile.c -- BIND key files (K<name>+<alg>+<tag>.key / .private) and
 * KEY records in presentation format.
 *
 * The .private file is read by ldns (ldns_key_new_frm_fp_l understands the
 * BIND v1.x "Field: value" format for RSA, ECDSA and EdDSA) and its EVP_PKEY
 * taken over; the .key file is one RR, parsed by common/zonefile.
 */
#include "sig0/sig0.h"
#include "sig0/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ldns/ldns.h>
#include <openssl/evp.h>

#include "common/err.h"
#include "common/zonefile.h"

/* A .key file is one RR; anything much larger is not a key file. */
#define KEYFILE_MAX 65536
/* KEY RDATA: 4 octets + an RSA key of at most 16384 bits and its exponent. */
#define KEY_RDATA_MAX 4096

static bool is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/*
 * Read a .key file into one line of text: comments (from ';') cut, lines
 * joined with spaces so a record split over lines in parentheses still
 * parses.  Returns a malloc'ed string or NULL with why filled.
 */
static char *keyfile_text(const char *path, char *why, size_t whylen)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		ds_why(why, whylen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	char *text = malloc(KEYFILE_MAX + 1);
	if (text == NULL) {
		ds_why(why, whylen, "out of memory");
		fclose(f);
		return NULL;
	}
	size_t n = 0;
	bool comment = false;
	int c;
	while (text != NULL && (c = getc(f)) != EOF) {
		if (n == KEYFILE_MAX) {
			ds_why(why, whylen, "%s: file too large for a key file", path);
			free(text);
			text = NULL;
			break;
		}
		if (c == '\n' || c == '\r') {
			comment = false;
			text[n++] = ' ';
		} else if (c == ';') {
			comment = true;
		} else if (!comment) {
			text[n++] = (char)c;
		}
	}
	if (text != NULL && ferror(f)) {
		ds_why(why, whylen, "%s: read error", path);
		free(text);
		text = NULL;
	}
	fclose(f);
	if (text != NULL)
		text[n] = 0;
	return text;
}

/* Parse one RR of type KEY (or, when dnskey_ok, DNSKEY) from text. */
static int key_rr_parse(const char *text, bool dnskey_ok, uint8_t owner[DNAME_MAX], uint8_t *rdata,
			size_t rdcap, size_t *rdlen, char *why, size_t whylen)
{
	uint16_t type = 0;
	uint32_t ttl;
	char tmp[256] = "";
	int rc =
	    zonefile_rr_from_str(text, owner, &type, &ttl, rdata, rdcap, rdlen, tmp, sizeof tmp);
	if (rc != DS_OK) {
		ds_why(why, whylen, "%s", tmp[0] ? tmp : "cannot parse the KEY record");
		return DS_EPARSE;
	}
	if (type != T_KEY && !(dnskey_ok && type == T_DNSKEY)) {
		ds_why(why, whylen, "record of type %u, want KEY", type);
		return DS_EPARSE;
	}
	if (*rdlen < 4) {
		ds_why(why, whylen, "KEY RDATA too short");
		return DS_EPARSE;
	}
	return DS_OK;
}

int sig0_key_from_text(const char *text, uint8_t owner[DNAME_MAX], uint8_t *rdata, size_t rdcap,
		       size_t *rdlen, char *why, size_t whylen)
{
	if (why != NULL && whylen > 0)
		why[0] = 0;
	if (!is_file(text))
		return key_rr_parse(text, false, owner, rdata, rdcap, rdlen, why, whylen);
	char *content = keyfile_text(text, why, whylen);
	if (content == NULL)
		return DS_EPARSE;
	int rc = key_rr_parse(content, false, owner, rdata, rdcap, rdlen, why, whylen);
	free(content);
	return rc;
}

/* Read the .private file with ldns and take over its EVP_PKEY. */
static int private_read(const char *path, uint8_t alg, EVP_PKEY **out, char *why, size_t whylen)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		ds_why(why, whylen, "%s: %s", path, strerror(errno));
		return DS_ENOENT;
	}
	ldns_key *lk = NULL;
	int line = 0;
	ldns_status st = ldns_key_new_frm_fp_l(&lk, f, &line);
	fclose(f);
	if (st != LDNS_STATUS_OK) {
		ds_why(why, whylen, "%s:%d: %s", path, line, ldns_get_errorstr_by_id(st));
		return DS_EKEY;
	}
	int rc = DS_OK;
	EVP_PKEY *pkey = ldns_key_evp_key(lk);
	if ((uint8_t)ldns_key_algorithm(lk) != alg) {
		ds_why(why, whylen, "%s: algorithm %u, the .key file says %u", path,
		       (unsigned)ldns_key_algorithm(lk), alg);
		rc = DS_EKEY;
	} else if (pkey == NULL || EVP_PKEY_up_ref(pkey) != 1) {
		ds_why(why, whylen, "%s: no usable private key", path);
		rc = DS_EKEY;
	} else {
		*out = pkey;
	}
	ldns_key_deep_free(lk);
	return rc;
}

char *sig0_keyfile_name(const char *path, const char *suffix)
{
	size_t plen = strlen(path);
	size_t blen = plen;
	if (plen > 4 && strcmp(path + plen - 4, ".key") == 0)
		blen = plen - 4;
	else if (plen > 8 && strcmp(path + plen - 8, ".private") == 0)
		blen = plen - 8;
	/* always room for ".private", so a caller may switch suffixes in place */
	size_t slen = strlen(suffix);
	char *name = malloc(blen + (slen > 8 ? slen : 8) + 1);
	if (name == NULL)
		return NULL;
	memcpy(name, path, blen);
	memcpy(name + blen, suffix, slen + 1);
	return name;
}

int sig0_key_read(const char *path, struct sig0_key **out, char *why, size_t whylen)
{
	*out = NULL;
	if (why != NULL && whylen > 0)
		why[0] = 0;

	char *name = sig0_keyfile_name(path, ".key");
	if (name == NULL)
		return DS_ENOMEM;
	size_t blen = strlen(name) - 4;

	uint8_t owner[DNAME_MAX];
	uint8_t rdata[KEY_RDATA_MAX];
	size_t rdlen = 0;
	EVP_PKEY *pkey = NULL;
	int rc;

	char *text = keyfile_text(name, why, whylen);
	if (text == NULL) {
		rc = DS_ENOENT;
		goto out;
	}
	rc = key_rr_parse(text, true, owner, rdata, sizeof rdata, &rdlen, why, whylen);
	free(text);
	if (rc != DS_OK)
		goto out;

	/* the buffer has room for the longer suffix (sig0_keyfile_name) */
	strcpy(name + blen, ".private");
	rc = private_read(name, rdata[3], &pkey, why, whylen);
	if (rc != DS_OK)
		goto out;
	rc = sig0_key_new_private(pkey, owner, rdata, rdlen, out, why, whylen);
	if (rc != DS_OK)
		EVP_PKEY_free(pkey);
out:
	free(name);
	return rc;
}

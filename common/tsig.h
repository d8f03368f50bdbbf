/*
 * common/tsig.h -- TSIG (RFC 8945) for the messages dsyncd sends to other
 * servers (DNS UPDATE to a parent's primary): a shared key read from text
 * or from a BIND key clause, signing a request and checking the answer's
 * signature.  HMAC-SHA256, -SHA384 and -SHA512 only (RFC 8945 6: SHA-1 and
 * MD5 are not to be used).  The MAC work is ldns's.
 */
#ifndef DS_COMMON_TSIG_H
#define DS_COMMON_TSIG_H

#include <stddef.h>
#include <stdint.h>

#include "common/dname.h"

struct tsig_key {
	char name[DNAME_STR_MAX]; /* "name." */
	char alg[16];		  /* "hmac-sha256." ... */
	char secret[512];	  /* base64, as written */
};

/*
 * The key from "algorithm:name:secret" (as dig -y takes it; the algorithm
 * "hmac-sha256", "hmac-sha384" or "hmac-sha512").  DS_OK, or DS_EPARSE
 * with why filled.
 */
int tsig_key_from_str(const char *text, struct tsig_key *k, char *why, size_t whylen);

/*
 * The key of a BIND key clause file (key "name" { algorithm ...; secret
 * "..."; };), the first clause when there are several.  DS_OK, DS_ENOENT
 * or DS_EIO (cannot read it), DS_EPARSE (why says what is wrong).
 */
int tsig_key_read(const char *path, struct tsig_key *k, char *why, size_t whylen);

/* What signing a request leaves for checking its answer (the request's MAC). */
struct tsig_request;

/*
 * Sign msg[0..len) (a complete message without TSIG) with k: *out is a
 * malloc'd copy with the TSIG record added (*outlen its length), *req what
 * tsig_check_answer() needs.  DS_OK, DS_EMALF (msg does not parse),
 * DS_ECRYPTO, DS_ENOMEM.
 */
int tsig_sign(const struct tsig_key *k, const uint8_t *msg, size_t len, uint8_t **out,
	      size_t *outlen, struct tsig_request **req);

/*
 * The answer to a signed request: DS_OK when it carries a TSIG by k that
 * verifies (over the request's MAC); else DS_EBADSIG (no TSIG, a TSIG
 * error such as BADKEY or BADTIME, or a MAC that does not verify: why says
 * which), DS_EMALF.
 */
int tsig_check_answer(const struct tsig_key *k, const struct tsig_request *req, const uint8_t *ans,
		      size_t len, char *why, size_t whylen);
void tsig_request_free(struct tsig_request *req);

#endif

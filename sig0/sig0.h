/*
 * sig0/sig0.h -- SIG(0) (RFC 2931) over received bytes: public keys from KEY
 * RDATA, verification, signing, BIND key files.  The only module (with the
 * wire helpers) that touches OpenSSL and ldns types.
 *
 * Signed data for a request (RFC 2931 3.1):
 *   SIG RDATA without the signature field | message bytes before the SIG RR,
 *   with ARCOUNT (header bytes 10-11) replaced by the SIG RR's index in the
 *   additional section.
 * Verification always runs over the bytes as received, never a re-encoding.
 */
#ifndef DS_SIG0_SIG0_H
#define DS_SIG0_SIG0_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/dns.h"
#include "common/msg.h"

/* Limits applied when a public key is accepted (R16). */
struct sig0_limits {
	unsigned rsa_min_bits; /* default 2048 */
	unsigned rsa_max_bits; /* default 4096 */
	/* bit i set: algorithm i allowed (algorithms 0..255) */
	uint8_t alg_allowed[32];
};

/* Defaults: RSA 2048..4096, algorithms 8, 10, 13, 14, 15, 16. */
void sig0_limits_default(struct sig0_limits *l);
static inline bool sig0_alg_allowed(const struct sig0_limits *l, uint8_t alg)
{
	return (l->alg_allowed[alg >> 3] >> (alg & 7)) & 1;
}
/* True for the algorithms this code can verify at all (5, 7, 8, 10, 13-16). */
bool sig0_alg_supported(uint8_t alg);
/* "ED25519", "RSASHA256", ...; "ALG<n>" for others (static or out buffer). */
const char *sig0_alg_name(uint8_t alg);

/* RFC 4034 Appendix B key tag over KEY/DNSKEY RDATA. */
uint16_t sig0_rdata_tag(const uint8_t *rdata, size_t rdlen);

/*
 * A SIG(0) key: the public half, ready to verify, and optionally the
 * private half, ready to sign.  Immutable after creation; thread-safe to
 * share.
 */
struct sig0_key;

/*
 * Build a public key from KEY RDATA (flags, protocol 3, algorithm, key).
 * Refuses (DS_EKEY) protocol != 3, the "no key" A/C flag value 3, wrong key
 * lengths, RSA outside the limits or with an exponent longer than 4 bytes,
 * and (DS_ENOTSUP) algorithms not allowed by lim.  why (may be NULL) gets a
 * one-line reason on failure.
 */
int sig0_key_new(const uint8_t *owner, const uint8_t *rdata, size_t rdlen,
		 const struct sig0_limits *lim, struct sig0_key **out, char *why, size_t whylen);
/*
 * The checks of sig0_key_new() that need no OpenSSL (all but the key
 * object itself: a point off the curve passes here): DS_OK, DS_EKEY or
 * DS_ENOTSUP with why filled.  Cheap enough for a million keys at start.
 */
int sig0_key_check(const uint8_t *rdata, size_t rdlen, const struct sig0_limits *lim, char *why,
		   size_t whylen);
void sig0_key_free(struct sig0_key *k);
uint8_t sig0_key_alg(const struct sig0_key *k);
uint16_t sig0_key_tag(const struct sig0_key *k);
const uint8_t *sig0_key_owner(const struct sig0_key *k);
/* The KEY RDATA the key was built from. */
const uint8_t *sig0_key_rdata(const struct sig0_key *k, size_t *rdlen);
/* 1 when k holds the private half (read, generated or wrapped), else 0. */
int sig0_key_has_private(const struct sig0_key *k);

/* The fixed fields of a SIG(0) RR, parsed from RDATA. */
struct sig0_rr {
	uint16_t type_covered;
	uint8_t alg;
	uint8_t labels;
	uint32_t orig_ttl;
	uint32_t expiration;
	uint32_t inception;
	uint16_t key_tag;
	uint8_t signer[DNAME_MAX];
	const uint8_t *sig; /* into the message */
	size_t siglen;
	size_t prefix_len; /* RDATA bytes before the signature field */
};

/*
 * Parse the SIG RR at m->rr[idx] (signer name must not be compressed).
 * Returns DS_OK, DS_EINVAL (idx out of range or not a SIG), DS_EMALF or
 * DS_ETRUNC (bad RDATA, compressed signer, empty signature).  out->sig
 * points into m->wire.
 */
int sig0_rr_parse(const struct msg *m, size_t idx, struct sig0_rr *out);

/*
 * Verify SIG(0) number `which` (0 or 1, wire order) of message m with key;
 * s must come from sig0_rr_parse() of that same record.  Returns DS_OK,
 * DS_EBADSIG (does not verify, wrong signature length, or s->alg differs
 * from the key's), DS_EINVAL (which out of range, s not that record),
 * DS_ENOMEM or DS_ECRYPTO.  Does only the crypto: time window and key
 * matching are the caller's (cheap checks first, R5).  Thread-safe.
 */
int sig0_verify(const struct msg *m, size_t which, const struct sig0_rr *s,
		const struct sig0_key *key);

/*
 * Verify a signed response (RFC 2931 3.1): as sig0_verify(), with the
 * request bytes as sent (including the request's own SIG(0), if any)
 * between the RDATA prefix and the response -- the signed data sig0_sign()
 * makes when given a request.  request NULL (or reqlen 0) is sig0_verify().
 */
int sig0_verify_response(const struct msg *resp, size_t which, const struct sig0_rr *s,
			 const struct sig0_key *key, const uint8_t *request, size_t reqlen);

/*
 * SHA-256 of the data signed by SIG(0) number `which` (the RDATA prefix and
 * the message bytes before it, ARCOUNT adjusted).  Used as the replay-cache
 * key: it is exactly what the signature authenticates.
 */
int sig0_signed_digest(const struct msg *m, size_t which, const struct sig0_rr *s, uint8_t out[32]);

/* ---- keys with their private half --------------------------------------- */

/*
 * Read a BIND key pair: path is either "K<name>+<alg>+<tag>" (with or
 * without .key/.private suffix).  Reads both files; the .key holds the
 * owner and KEY RDATA.
 */
int sig0_key_read(const char *path, struct sig0_key **out, char *why, size_t whylen);

/*
 * Wrap an OpenSSL private key (EVP_PKEY) with its owner name and KEY RDATA.
 * Refuses (DS_EKEY) a key whose public half does not match rdata or whose
 * type does not match the algorithm.  On success the new object owns pkey;
 * on failure the caller still does.  Used by the key-file reader and for
 * keys made in-process.
 */
struct evp_pkey_st;
int sig0_key_new_private(struct evp_pkey_st *pkey, const uint8_t *owner, const uint8_t *rdata,
			 size_t rdlen, struct sig0_key **out, char *why, size_t whylen);

/*
 * Append a SIG(0) RR to the message in buf[0..*len) (capacity cap): owner
 * root, class ANY, TTL 0, the given times, signer = key owner; bumps
 * ARCOUNT.  request/reqlen, when not NULL, is prepended to the signed data
 * (RFC 2931 response signing).  Returns DS_OK, DS_ELIMIT (no room),
 * DS_EINVAL (k without its private half, *len shorter than a header), DS_ENOMEM or DS_ECRYPTO.
 */
int sig0_sign(const struct sig0_key *k, uint8_t *buf, size_t *len, size_t cap, uint32_t inception,
	      uint32_t expiration, const uint8_t *request, size_t reqlen);

/*
 * Read a public KEY from text: either one RR in presentation format
 * ("name. [ttl] [IN] KEY flags 3 alg base64") or, when text names an
 * existing file, a BIND K*.key file.  Fills owner (wire) and rdata.
 * Returns DS_OK or DS_EPARSE with why filled.
 */
int sig0_key_from_text(const char *text, uint8_t owner[DNAME_MAX], uint8_t *rdata, size_t rdcap,
		       size_t *rdlen, char *why, size_t whylen);

/* ---- key generation and BIND key files with timing metadata ---- */

/*
 * BIND's key timing metadata (the Created/Publish/Activate/Inactive/Delete
 * lines of a v1.3 .private file), seconds since the epoch; 0 = not set.
 */
struct sig0_key_times {
	int64_t created, publish, activate, inactive, removal; /* removal = "Delete:" */
};

/*
 * Generate a key pair for owner (OpenSSL EVP): ED25519, ED448,
 * ECDSAP256SHA256 or ECDSAP384SHA384.  KEY flags 512 (host), protocol 3,
 * public key in DNSSEC wire form.  Returns DS_OK, DS_ENOTSUP (RSA and
 * other algorithms), DS_EINVAL (owner NULL), DS_ECRYPTO or DS_ENOMEM, with
 * why (may be NULL) filled on failure.  Free with sig0_key_free().
 */
int sig0_key_generate(uint8_t alg, const uint8_t *owner, struct sig0_key **out, char *why,
		      size_t whylen);

/*
 * Write k as BIND files K<owner>+<alg>+<tag>.key (mode 0644: a comment and
 * "<owner> IN KEY ...") and .private (mode 0600 whatever the umask,
 * "Private-key-format: v1.3" with the times in t that are set; t may be
 * NULL) in dir, each atomically (temp file, fsync, rename, fsync of dir);
 * the .private is written first.  prefix gets "dir/K<owner>+<alg>+<tag>"
 * (no suffix).  The files load with sig0_key_read() and with BIND's
 * nsupdate -k.  Never overwrites: DS_EEXIST if a key with that name exists
 * (another key with the same tag: generate again).  Other errors:
 * DS_ENOTSUP (RSA keys), DS_EINVAL (owner with a '/'), DS_ELIMIT (prefix
 * too small), DS_ERANGE (a time outside 1970..9999), DS_ENOENT/DS_EIO
 * (file system, why says what), DS_ECRYPTO, DS_ENOMEM.
 */
int sig0_key_write(const struct sig0_key *k, const char *dir, const struct sig0_key_times *t,
		   char *prefix, size_t prefixlen, char *why, size_t whylen);

/*
 * Read the timing lines of a key pair's .private file (path with or
 * without suffix); unset = 0, unknown lines ignored.  Returns DS_OK,
 * DS_EPARSE (a timing line whose value is not a valid YYYYMMDDHHMMSS UTC
 * time from 1970 on; t is then all 0), DS_ENOENT, DS_ELIMIT (file over
 * 64 KiB), DS_EINVAL (not a regular file), DS_EIO or DS_ENOMEM.
 */
int sig0_key_times_read(const char *path, struct sig0_key_times *t);

/*
 * Replace the timing lines of an existing .private file, atomically (mode
 * 0600, owner kept when permitted): every other line is kept as it is, the
 * set times of t (NULL: none) go where the first old timing line was, else
 * at the end.  Returns DS_OK, DS_EPARSE (not a "Private-key-format:"
 * file), DS_ERANGE (a time outside 1970..9999), DS_ENOENT, DS_ELIMIT,
 * DS_EIO or DS_ENOMEM.
 */
int sig0_key_times_write(const char *path, const struct sig0_key_times *t);

#endif

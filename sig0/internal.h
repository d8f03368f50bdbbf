/*
 * sig0/internal.h -- what sig0.c, keyfile.c and keygen.c share and nobody
 * else sees: the algorithm table entry, the key's layout, the
 * "why" formatter and the K-file name helper.  Not installed, not included
 * outside sig0/.
 */
#ifndef DS_SIG0_INTERNAL_H
#define DS_SIG0_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "common/dns.h"

enum key_kind { KIND_RSA, KIND_EC, KIND_ED };

struct alg_info {
	uint8_t alg;
	enum key_kind kind;
	const char *md;	   /* digest name; NULL for EdDSA */
	const char *otype; /* EC group name or EdDSA key type */
	size_t keylen;	   /* EC/EdDSA public key length (0: RSA) */
	size_t siglen;	   /* EC/EdDSA signature length (0: RSA, modulus size) */
};

/* The table entry of a supported algorithm, or NULL (sig0.c). */
const struct alg_info *sig0_alg_info(uint8_t alg);

/*
 * A SIG(0) key: the public half always, the private half when has_private
 * (then pkey is the key pair).  Immutable after creation.
 */
struct sig0_key {
	EVP_PKEY *pkey; /* NULL for an Ed25519 public key (libsodium uses rdata) */
	uint8_t *ed_sk; /* an Ed25519 private key for libsodium (seed | public), or NULL */
	/* RSA/ECDSA: a context set up for EVP_PKEY_verify() with the digest;
	 * each verification works on a duplicate (see crypto_verify). */
	EVP_PKEY_CTX *vctx;
	int has_private;
	const struct alg_info *ai;
	size_t siglen; /* exact signature length on the wire */
	uint16_t tag;
	uint8_t owner[DNAME_MAX];
	size_t rdlen;
	uint8_t rdata[]; /* KEY RDATA as given */
};

/*
 * "K<name>+<alg>+<tag>" given with or without ".key"/".private", returned
 * as a malloc'ed "<base><suffix>" (caller frees) with room to put
 * ".private" in place of the suffix; NULL when out of memory (keyfile.c).
 */
char *sig0_keyfile_name(const char *path, const char *suffix);

#endif

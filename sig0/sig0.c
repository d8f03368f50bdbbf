/*
 * sig0/sig0.c -- SIG(0) (RFC 2931): public keys from KEY RDATA, the signed
 * data of a SIG(0) record, verification and signing with OpenSSL 3 EVP;
 * Ed25519 signatures are verified and made with libsodium, which does both
 * more than twice as fast as OpenSSL 3.0 (tests/bench, B2 and B6) and
 * verifies more strictly: it refuses small-order points and non-canonical
 * encodings.
 *
 * Verification runs over the received bytes.  The signed data is never
 * copied for RSA/ECDSA: it is streamed into the digest as a short list of
 * segments (RDATA prefix, optional request, header up to ARCOUNT, the
 * replacement ARCOUNT, the rest of the message).  EdDSA has no streaming
 * interface, so for it the segments are joined in one buffer (on the stack
 * when the message is small).
 */
#include "sig0/sig0.h"
#include "sig0/internal.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <sodium.h>

#include "common/dname.h"
#include "common/err.h"
#include "common/wire.h"

/* Fixed part of SIG RDATA before the signer name. */
#define SIG_FIXED_LEN 18
/* Owner (root) + type + class + TTL + RDLENGTH of the appended SIG RR. */
#define SIG_RR_HDR_LEN 11
/* Joined signed data up to this size stays on the stack (EdDSA). */
#define STACK_DATA_MAX 2048

static const struct alg_info alg_table[] = {
    {ALG_RSASHA1, KIND_RSA, "SHA1", NULL, 0, 0},
    {ALG_RSASHA1_NSEC3, KIND_RSA, "SHA1", NULL, 0, 0},
    {ALG_RSASHA256, KIND_RSA, "SHA256", NULL, 0, 0},
    {ALG_RSASHA512, KIND_RSA, "SHA512", NULL, 0, 0},
    {ALG_ECDSAP256SHA256, KIND_EC, "SHA256", "prime256v1", 64, 64},
    {ALG_ECDSAP384SHA384, KIND_EC, "SHA384", "secp384r1", 96, 96},
    {ALG_ED25519, KIND_ED, NULL, "ED25519", 32, 64},
    {ALG_ED448, KIND_ED, NULL, "ED448", 57, 114},
};

const struct alg_info *sig0_alg_info(uint8_t alg)
{
	for (size_t i = 0; i < sizeof alg_table / sizeof alg_table[0]; i++)
		if (alg_table[i].alg == alg)
			return &alg_table[i];
	return NULL;
}

/* ---- algorithms, limits, names, key tag ---------------------------------- */

static void alg_set(struct sig0_limits *l, uint8_t alg)
{
	l->alg_allowed[alg >> 3] |= (uint8_t)(1u << (alg & 7));
}

void sig0_limits_default(struct sig0_limits *l)
{
	memset(l, 0, sizeof *l);
	l->rsa_min_bits = 2048;
	l->rsa_max_bits = 4096;
	alg_set(l, ALG_RSASHA256);
	alg_set(l, ALG_RSASHA512);
	alg_set(l, ALG_ECDSAP256SHA256);
	alg_set(l, ALG_ECDSAP384SHA384);
	alg_set(l, ALG_ED25519);
	alg_set(l, ALG_ED448);
}

bool sig0_alg_supported(uint8_t alg)
{
	return sig0_alg_info(alg) != NULL;
}

static const char *const alg_names[256] = {
    [1] = "RSAMD5",
    [3] = "DSA",
    [5] = "RSASHA1",
    [6] = "DSA-NSEC3-SHA1",
    [7] = "RSASHA1-NSEC3-SHA1",
    [8] = "RSASHA256",
    [10] = "RSASHA512",
    [12] = "ECC-GOST",
    [13] = "ECDSAP256SHA256",
    [14] = "ECDSAP384SHA384",
    [15] = "ED25519",
    [16] = "ED448",
    [252] = "INDIRECT",
    [253] = "PRIVATEDNS",
    [254] = "PRIVATEOID",
};

/* "ALG<n>" for the unnamed numbers, made once so callers get a static string. */
static char alg_other[256][8];
static pthread_once_t alg_other_once = PTHREAD_ONCE_INIT;

static void alg_other_init(void)
{
	for (unsigned i = 0; i < 256; i++)
		snprintf(alg_other[i], sizeof alg_other[i], "ALG%u", i);
}

const char *sig0_alg_name(uint8_t alg)
{
	if (alg_names[alg] != NULL)
		return alg_names[alg];
	pthread_once(&alg_other_once, alg_other_init);
	return alg_other[alg];
}

uint16_t sig0_rdata_tag(const uint8_t *rdata, size_t rdlen)
{
	/* Algorithm 1 (RSA/MD5): bits 8..23 of the modulus' least significant end. */
	if (rdlen >= 4 && rdata[3] == 1)
		return rdlen >= 7 ? rd_u16(rdata + rdlen - 3) : 0;
	unsigned long ac = 0;
	for (size_t i = 0; i < rdlen; i++)
		ac += (i & 1) ? rdata[i] : (unsigned long)rdata[i] << 8;
	ac += (ac >> 16) & 0xffff;
	return (uint16_t)(ac & 0xffff);
}

/*
 * Digests fetched once for the whole process: an implicit fetch (EVP_sha256()
 * and friends) costs a locked lookup on every use.
 */
static const char *const md_names[] = {"SHA1", "SHA256", "SHA384", "SHA512"};
static EVP_MD *md_cache[4];
static pthread_once_t md_once = PTHREAD_ONCE_INIT;

static void md_init(void)
{
	for (size_t i = 0; i < 4; i++)
		md_cache[i] = EVP_MD_fetch(NULL, md_names[i], NULL);
}

static const EVP_MD *md_get(const char *name)
{
	pthread_once(&md_once, md_init);
	for (size_t i = 0; i < 4; i++)
		if (strcmp(md_names[i], name) == 0)
			return md_cache[i];
	return NULL;
}

/* ---- public keys ---------------------------------------------------------- */

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;

static void sodium_start(void)
{
	if (sodium_init() < 0)
		abort(); /* only when the system has no random source at all */
}

/* An RSA public key's parts (RFC 3110), into the KEY RDATA. */
struct rsa_parts {
	const uint8_t *e, *n;
	size_t elen, nlen;
};

static int rsa_check(const uint8_t *k, size_t klen, const struct sig0_limits *lim,
		     struct rsa_parts *rp, char *why, size_t whylen)
{
	size_t elen, off;

	if (klen < 1)
		goto malformed;
	if (k[0] != 0) {
		elen = k[0];
		off = 1;
	} else {
		if (klen < 3)
			goto malformed;
		elen = rd_u16(k + 1);
		off = 3;
	}
	if (elen == 0 || elen > 4) {
		ds_why(why, whylen, "RSA exponent length %zu not in 1..4", elen);
		return DS_EKEY;
	}
	if (off + elen >= klen)
		goto malformed;
	const uint8_t *e = k + off, *n = k + off + elen;
	size_t nlen = klen - off - elen;
	uint32_t ev = 0;
	for (size_t i = 0; i < elen; i++)
		ev = ev << 8 | e[i];
	if (e[0] == 0 || ev < 3 || !(ev & 1)) {
		ds_why(why, whylen, "RSA exponent %u unusable", ev);
		return DS_EKEY;
	}
	if (n[0] == 0 || !(n[nlen - 1] & 1)) {
		ds_why(why, whylen, "RSA modulus malformed");
		return DS_EKEY;
	}
	unsigned bits = (unsigned)(nlen - 1) * 8;
	for (unsigned top = n[0]; top; top >>= 1)
		bits++;
	if (bits < lim->rsa_min_bits || bits > lim->rsa_max_bits) {
		ds_why(why, whylen, "RSA modulus of %u bits outside %u..%u", bits,
		       lim->rsa_min_bits, lim->rsa_max_bits);
		return DS_EKEY;
	}
	*rp = (struct rsa_parts){e, n, elen, nlen};
	return DS_OK;

malformed:
	ds_why(why, whylen, "RSA key malformed (RFC 3110)");
	return DS_EKEY;
}

static int rsa_import(const struct rsa_parts *rp, EVP_PKEY **out, char *why, size_t whylen)
{
	int rc = DS_ECRYPTO;
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	BIGNUM *bn_n = BN_bin2bn(rp->n, (int)rp->nlen, NULL);
	BIGNUM *bn_e = BN_bin2bn(rp->e, (int)rp->elen, NULL);
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	if (bld == NULL || bn_n == NULL || bn_e == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (pctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(pctx) != 1 ||
	    EVP_PKEY_fromdata(pctx, out, EVP_PKEY_PUBLIC_KEY, params) != 1)
		ds_why(why, whylen, "RSA key not accepted by OpenSSL");
	else
		rc = DS_OK;
	EVP_PKEY_CTX_free(pctx);
	OSSL_PARAM_free(params);
	BN_free(bn_n);
	BN_free(bn_e);
	OSSL_PARAM_BLD_free(bld);
	return rc;
}

static int ec_import(const struct alg_info *ai, const uint8_t *k, size_t klen, EVP_PKEY **out,
		     char *why, size_t whylen)
{
	uint8_t pub[1 + 96];

	pub[0] = 0x04; /* uncompressed point */
	memcpy(pub + 1, k, klen);
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)ai->otype, 0),
	    OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pub, klen + 1),
	    OSSL_PARAM_construct_end(),
	};
	int rc = DS_OK;
	EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (pctx == NULL || EVP_PKEY_fromdata_init(pctx) != 1 ||
	    EVP_PKEY_fromdata(pctx, out, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		/* most likely a point not on the curve */
		ds_why(why, whylen, "ECDSA key not accepted by OpenSSL");
		rc = DS_EKEY;
	}
	EVP_PKEY_CTX_free(pctx);
	return rc;
}

static int ed_import(const struct alg_info *ai, const uint8_t *k, size_t klen, EVP_PKEY **out,
		     char *why, size_t whylen)
{
	/* libsodium verifies Ed25519 from the RDATA itself: no OpenSSL object */
	if (ai->alg == ALG_ED25519)
		return DS_OK;
	*out = EVP_PKEY_new_raw_public_key_ex(NULL, ai->otype, NULL, k, klen);
	if (*out == NULL) {
		ds_why(why, whylen, "%s key not accepted by OpenSSL", ai->otype);
		return DS_EKEY;
	}
	return DS_OK;
}

/* The checks of KEY RDATA that need no OpenSSL; *aip its algorithm, *rp
 * an RSA key's parts, *siglen the signature length. */
static int key_check(const uint8_t *rdata, size_t rdlen, const struct sig0_limits *lim,
		     const struct alg_info **aip, struct rsa_parts *rp, size_t *siglen, char *why,
		     size_t whylen)
{
	if (rdlen < 4 || rdlen > 65535) {
		ds_why(why, whylen, "KEY RDATA of %zu octets", rdlen);
		return DS_EKEY;
	}
	uint16_t flags = rd_u16(rdata);
	if ((flags >> 14) == 3) {
		ds_why(why, whylen, "KEY flags say \"no key\" (A/C = 3)");
		return DS_EKEY;
	}
	if (rdata[2] != 3) {
		ds_why(why, whylen, "KEY protocol %u, want 3", rdata[2]);
		return DS_EKEY;
	}
	uint8_t alg = rdata[3];
	const struct alg_info *ai = sig0_alg_info(alg);
	if (ai == NULL || !sig0_alg_allowed(lim, alg)) {
		ds_why(why, whylen, "algorithm %s not %s", sig0_alg_name(alg),
		       ai == NULL ? "supported" : "allowed");
		return DS_ENOTSUP;
	}
	*aip = ai;
	size_t klen = rdlen - 4;
	if (ai->kind == KIND_RSA) {
		int rc = rsa_check(rdata + 4, klen, lim, rp, why, whylen);
		*siglen = rp->nlen;
		return rc;
	}
	if (klen != ai->keylen) {
		ds_why(why, whylen, "%s key of %zu octets, want %zu",
		       ai->kind == KIND_EC ? "ECDSA" : ai->otype, klen, ai->keylen);
		return DS_EKEY;
	}
	*siglen = ai->siglen;
	return DS_OK;
}

int sig0_key_check(const uint8_t *rdata, size_t rdlen, const struct sig0_limits *lim, char *why,
		   size_t whylen)
{
	const struct alg_info *ai;
	struct rsa_parts rp;
	size_t siglen;
	return key_check(rdata, rdlen, lim, &ai, &rp, &siglen, why, whylen);
}

/* Check the KEY RDATA and make an EVP_PKEY of it (none for Ed25519). */
static int key_import(const uint8_t *rdata, size_t rdlen, const struct sig0_limits *lim,
		      EVP_PKEY **pkey, const struct alg_info **aip, size_t *siglen, char *why,
		      size_t whylen)
{
	struct rsa_parts rp;
	*pkey = NULL;
	int rc = key_check(rdata, rdlen, lim, aip, &rp, siglen, why, whylen);
	if (rc != DS_OK)
		return rc;
	const struct alg_info *ai = *aip;
	switch (ai->kind) {
	case KIND_RSA:
		rc = rsa_import(&rp, pkey, why, whylen);
		break;
	case KIND_EC:
		rc = ec_import(ai, rdata + 4, rdlen - 4, pkey, why, whylen);
		break;
	default:
		rc = ed_import(ai, rdata + 4, rdlen - 4, pkey, why, whylen);
		break;
	}
	if (rc != DS_OK)
		ERR_clear_error();
	return rc;
}

static void ed25519_secret_free(uint8_t *sk)
{
	if (sk != NULL) {
		sodium_memzero(sk, crypto_sign_SECRETKEYBYTES);
		free(sk);
	}
}

/* An Ed25519 private key in libsodium's form (seed | public key), checked
 * against the KEY RDATA's public key. */
static int ed25519_secret(EVP_PKEY *pkey, const uint8_t *rdata, size_t rdlen, uint8_t **out,
			  char *why, size_t whylen)
{
	uint8_t seed[crypto_sign_SEEDBYTES], pk[crypto_sign_PUBLICKEYBYTES];
	size_t seedlen = sizeof seed;
	uint8_t *sk = malloc(crypto_sign_SECRETKEYBYTES);
	int rc = DS_OK;

	pthread_once(&sodium_once, sodium_start);
	if (sk == NULL) {
		ds_why(why, whylen, "out of memory");
		rc = DS_ENOMEM;
	} else if (EVP_PKEY_get_raw_private_key(pkey, seed, &seedlen) != 1 ||
		   seedlen != sizeof seed || crypto_sign_seed_keypair(pk, sk, seed) != 0 ||
		   rdlen != 4 + sizeof pk || memcmp(pk, rdata + 4, sizeof pk) != 0) {
		ERR_clear_error();
		ds_why(why, whylen, "private key does not match the KEY record");
		rc = DS_EKEY;
	}
	sodium_memzero(seed, sizeof seed);
	if (rc != DS_OK) {
		ed25519_secret_free(sk);
		sk = NULL;
	}
	*out = sk;
	return rc;
}

/*
 * The key object around an imported key: takes pkey on success only, sets
 * up a verification context for RSA/ECDSA, copies owner and RDATA.
 */
static int key_build(EVP_PKEY *pkey, int has_private, const struct alg_info *ai, size_t siglen,
		     const uint8_t *owner, const uint8_t *rdata, size_t rdlen,
		     struct sig0_key **out, char *why, size_t whylen)
{
	EVP_PKEY_CTX *vctx = NULL;
	if (ai->kind != KIND_ED) {
		vctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
		if (vctx == NULL || EVP_PKEY_verify_init(vctx) != 1 ||
		    EVP_PKEY_CTX_set_signature_md(vctx, md_get(ai->md)) != 1) {
			EVP_PKEY_CTX_free(vctx);
			ERR_clear_error();
			ds_why(why, whylen, "cannot set up verification");
			return DS_ECRYPTO;
		}
	}
	uint8_t *ed_sk = NULL;
	if (has_private && ai->alg == ALG_ED25519) {
		int rc = ed25519_secret(pkey, rdata, rdlen, &ed_sk, why, whylen);
		if (rc != DS_OK)
			return rc;
	}
	struct sig0_key *k = malloc(sizeof *k + rdlen);
	if (k == NULL) {
		EVP_PKEY_CTX_free(vctx);
		ed25519_secret_free(ed_sk);
		ds_why(why, whylen, "out of memory");
		return DS_ENOMEM;
	}
	k->pkey = pkey;
	k->vctx = vctx;
	k->ed_sk = ed_sk;
	k->has_private = has_private;
	k->ai = ai;
	k->siglen = siglen;
	k->tag = sig0_rdata_tag(rdata, rdlen);
	if (owner != NULL)
		memcpy(k->owner, owner, dname_len(owner));
	else
		k->owner[0] = 0;
	k->rdlen = rdlen;
	memcpy(k->rdata, rdata, rdlen);
	*out = k;
	return DS_OK;
}

int sig0_key_new(const uint8_t *owner, const uint8_t *rdata, size_t rdlen,
		 const struct sig0_limits *lim, struct sig0_key **out, char *why, size_t whylen)
{
	EVP_PKEY *pkey;
	const struct alg_info *ai;
	size_t siglen = 0;

	*out = NULL;
	int rc = key_import(rdata, rdlen, lim, &pkey, &ai, &siglen, why, whylen);
	if (rc != DS_OK)
		return rc;
	rc = key_build(pkey, 0, ai, siglen, owner, rdata, rdlen, out, why, whylen);
	if (rc != DS_OK)
		EVP_PKEY_free(pkey);
	return rc;
}

void sig0_key_free(struct sig0_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_CTX_free(k->vctx);
	EVP_PKEY_free(k->pkey);
	ed25519_secret_free(k->ed_sk);
	free(k);
}

uint8_t sig0_key_alg(const struct sig0_key *k)
{
	return k->ai->alg;
}

uint16_t sig0_key_tag(const struct sig0_key *k)
{
	return k->tag;
}

const uint8_t *sig0_key_owner(const struct sig0_key *k)
{
	return k->owner;
}

const uint8_t *sig0_key_rdata(const struct sig0_key *k, size_t *rdlen)
{
	*rdlen = k->rdlen;
	return k->rdata;
}

int sig0_key_has_private(const struct sig0_key *k)
{
	return k->has_private;
}

/* ---- the signed data ------------------------------------------------------ */

/*
 * RDATA prefix | [request] | message[0..10) | index | message[12..off).
 * The segments point into the caller's buffers and at d->ar, so a struct
 * sdata is filled in place and never copied.
 */
struct sdata {
	const uint8_t *p[5];
	size_t n[5];
	int cnt;
	size_t total;
	uint8_t ar[2];
};

static void sdata_add(struct sdata *d, const uint8_t *p, size_t n)
{
	if (n == 0)
		return;
	d->p[d->cnt] = p;
	d->n[d->cnt++] = n;
	d->total += n;
}

static void sdata_init(struct sdata *d, const uint8_t *prefix, size_t plen, const uint8_t *req,
		       size_t reqlen, const uint8_t *msg, size_t off, uint16_t index)
{
	d->cnt = 0;
	d->total = 0;
	wr_u16(d->ar, index);
	sdata_add(d, prefix, plen);
	if (req != NULL)
		sdata_add(d, req, reqlen);
	sdata_add(d, msg, 10);
	sdata_add(d, d->ar, 2);
	sdata_add(d, msg + DNS_HDR_LEN, off - DNS_HDR_LEN);
}

/* Join the segments into buf (total bytes); buf is stack or heap. */
static uint8_t *sdata_join(const struct sdata *d, uint8_t *stackbuf)
{
	uint8_t *buf = d->total <= STACK_DATA_MAX ? stackbuf : malloc(d->total);
	if (buf == NULL)
		return NULL;
	size_t pos = 0;
	for (int i = 0; i < d->cnt; i++) {
		memcpy(buf + pos, d->p[i], d->n[i]);
		pos += d->n[i];
	}
	return buf;
}

/* The SIG RR of SIG(0) `which`, with the checks every entry point needs. */
static const struct msg_rr *sig_rr(const struct msg *m, size_t which, const struct sig0_rr *s,
				   uint16_t *index)
{
	if (which >= m->nsig || which >= MSG_MAX_SIG0)
		return NULL;
	size_t idx = m->sig_idx[which];
	if (idx >= m->nrr || idx < m->sec_first[SEC_ADDITIONAL])
		return NULL;
	const struct msg_rr *rr = &m->rr[idx];
	/* s must describe this very record */
	if (rr->off < DNS_HDR_LEN || s->prefix_len < SIG_FIXED_LEN + 1 ||
	    s->prefix_len + s->siglen != rr->rdlen || s->sig != m->wire + rr->rdoff + s->prefix_len)
		return NULL;
	*index = (uint16_t)(idx - m->sec_first[SEC_ADDITIONAL]);
	return rr;
}

/*
 * Hash the segments with the named digest into out (EVP_MAX_MD_SIZE).
 * Returns the digest length, or a negative error.
 */
static int sdata_hash(const struct sdata *d, const EVP_MD *md, uint8_t *out)
{
	if (md == NULL)
		return DS_ECRYPTO;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		return DS_ENOMEM;
	int ok = EVP_DigestInit_ex(ctx, md, NULL) == 1;
	for (int i = 0; ok && i < d->cnt; i++)
		ok = EVP_DigestUpdate(ctx, d->p[i], d->n[i]) == 1;
	unsigned int olen = 0;
	ok = ok && EVP_DigestFinal_ex(ctx, out, &olen) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok) {
		ERR_clear_error();
		return DS_ECRYPTO;
	}
	return (int)olen;
}

/* ---- SIG RR parsing -------------------------------------------------------- */

int sig0_rr_parse(const struct msg *m, size_t idx, struct sig0_rr *out)
{
	if (idx >= m->nrr)
		return DS_EINVAL;
	const struct msg_rr *rr = &m->rr[idx];
	if (rr->type != T_SIG)
		return DS_EINVAL;
	size_t end = (size_t)rr->rdoff + rr->rdlen;
	if (end > m->len)
		return DS_ETRUNC;

	struct wire w;
	/* the cursor ends with the RDATA: the signer cannot run past it */
	wire_init(&w, m->wire, end);
	wire_seek(&w, rr->rdoff);
	out->type_covered = wire_u16(&w);
	out->alg = wire_u8(&w);
	out->labels = wire_u8(&w);
	out->orig_ttl = wire_u32(&w);
	out->expiration = wire_u32(&w);
	out->inception = wire_u32(&w);
	out->key_tag = wire_u16(&w);
	if (wire_err(&w) != 0)
		return wire_err(&w);
	if (wire_name_nocomp(&w, out->signer) == 0)
		return wire_err(&w) ? wire_err(&w) : DS_EMALF;
	out->prefix_len = w.pos - rr->rdoff;
	out->siglen = end - w.pos;
	out->sig = m->wire + w.pos;
	if (out->siglen == 0)
		return DS_EMALF;
	return DS_OK;
}

/* ---- verification ----------------------------------------------------------- */

/* One DER INTEGER from a big-endian unsigned value; returns bytes written. */
static size_t der_uint(uint8_t *out, const uint8_t *v, size_t n)
{
	while (n > 1 && v[0] == 0) {
		v++;
		n--;
	}
	size_t pad = (v[0] & 0x80) ? 1 : 0;
	out[0] = 0x02;
	out[1] = (uint8_t)(n + pad);
	if (pad)
		out[2] = 0;
	memcpy(out + 2 + pad, v, n);
	return 2 + pad + n;
}

/*
 * DNSSEC raw r|s (RFC 6605) to the DER ECDSA-Sig-Value OpenSSL expects.
 * Encoded by hand: a few bytes of framing, and no allocations per verify.
 * out holds at least 2 * (3 + 48) + 3 bytes.
 */
static size_t ecdsa_raw_to_der(const uint8_t *sig, size_t len, uint8_t *out)
{
	uint8_t body[2 * (3 + 48)];
	size_t half = len / 2;
	size_t bl = der_uint(body, sig, half);
	bl += der_uint(body + bl, sig + half, half);
	size_t hl;
	out[0] = 0x30;
	if (bl < 128) {
		out[1] = (uint8_t)bl;
		hl = 2;
	} else {
		out[1] = 0x81;
		out[2] = (uint8_t)bl;
		hl = 3;
	}
	memcpy(out + hl, body, bl);
	return hl + bl;
}

/* Ed25519 by libsodium: the public key is the KEY RDATA after its 4-octet
 * header.  As with OpenSSL, any 32 octets make a key; one that is not a
 * point of prime order verifies nothing. */
static int verify_ed25519(const struct sig0_key *k, const uint8_t *data, size_t len,
			  const uint8_t *sig)
{
	pthread_once(&sodium_once, sodium_start);
	return crypto_sign_verify_detached(sig, data, len, k->rdata + 4) == 0 ? DS_OK : DS_EBADSIG;
}

/* Ed448 by OpenSSL (libsodium has no Ed448). */
static int verify_ed448(const struct sig0_key *k, const uint8_t *data, size_t len,
			const uint8_t *sig, size_t siglen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int rc;
	if (ctx == NULL)
		rc = DS_ENOMEM;
	else if (EVP_DigestVerifyInit_ex(ctx, NULL, NULL, NULL, NULL, k->pkey, NULL) != 1)
		rc = DS_ECRYPTO;
	else
		rc = EVP_DigestVerify(ctx, sig, siglen, data, len) == 1 ? DS_OK : DS_EBADSIG;
	EVP_MD_CTX_free(ctx);
	if (rc != DS_OK)
		ERR_clear_error(); /* a bad signature leaves entries on the queue */
	return rc;
}

/* EdDSA: one shot over the joined data (no pre-hash in RFC 8080). */
static int crypto_verify_ed(const struct sig0_key *k, const struct sdata *d, const uint8_t *sig,
			    size_t siglen)
{
	uint8_t stackbuf[STACK_DATA_MAX];

	if (siglen != k->siglen)
		return DS_EBADSIG;
	uint8_t *buf = sdata_join(d, stackbuf);
	if (buf == NULL)
		return DS_ENOMEM;
	int rc = k->ai->alg == ALG_ED25519 ? verify_ed25519(k, buf, d->total, sig)
					   : verify_ed448(k, buf, d->total, sig, siglen);
	if (buf != stackbuf)
		free(buf);
	return rc;
}

/*
 * RSA/ECDSA: hash, then EVP_PKEY_verify() on a duplicate of the key's
 * prepared context.  Duplicating skips the provider lookups a fresh
 * EVP_DigestVerifyInit() does every time, worth ~15% of an RSA-2048
 * verification; the template is only read, so the key stays shareable.
 */
static int crypto_verify_hashed(const struct sig0_key *k, const struct sdata *d, const uint8_t *sig,
				size_t siglen)
{
	uint8_t h[EVP_MAX_MD_SIZE];
	uint8_t der[2 * (3 + 48) + 3];

	if (siglen != k->siglen)
		return DS_EBADSIG;
	int hl = sdata_hash(d, md_get(k->ai->md), h);
	if (hl < 0)
		return hl;
	if (k->ai->kind == KIND_EC) {
		siglen = ecdsa_raw_to_der(sig, siglen, der);
		sig = der;
	}
	EVP_PKEY_CTX *pc = EVP_PKEY_CTX_dup(k->vctx);
	if (pc == NULL) {
		ERR_clear_error();
		return DS_ENOMEM;
	}
	int rc = EVP_PKEY_verify(pc, sig, siglen, h, (size_t)hl) == 1 ? DS_OK : DS_EBADSIG;
	EVP_PKEY_CTX_free(pc);
	if (rc != DS_OK)
		ERR_clear_error(); /* a bad signature leaves entries on the queue */
	return rc;
}

int sig0_verify(const struct msg *m, size_t which, const struct sig0_rr *s,
		const struct sig0_key *key)
{
	return sig0_verify_response(m, which, s, key, NULL, 0);
}

int sig0_verify_response(const struct msg *m, size_t which, const struct sig0_rr *s,
			 const struct sig0_key *key, const uint8_t *request, size_t reqlen)
{
	uint16_t index;
	const struct msg_rr *rr = sig_rr(m, which, s, &index);
	if (rr == NULL)
		return DS_EINVAL;
	if (s->alg != key->ai->alg)
		return DS_EBADSIG;
	struct sdata d;
	sdata_init(&d, m->wire + rr->rdoff, s->prefix_len, request, reqlen, m->wire, rr->off,
		   index);
	if (key->ai->kind == KIND_ED)
		return crypto_verify_ed(key, &d, s->sig, s->siglen);
	return crypto_verify_hashed(key, &d, s->sig, s->siglen);
}

int sig0_signed_digest(const struct msg *m, size_t which, const struct sig0_rr *s, uint8_t out[32])
{
	uint16_t index;
	const struct msg_rr *rr = sig_rr(m, which, s, &index);
	if (rr == NULL)
		return DS_EINVAL;
	struct sdata d;
	sdata_init(&d, m->wire + rr->rdoff, s->prefix_len, NULL, 0, m->wire, rr->off, index);
	uint8_t h[EVP_MAX_MD_SIZE];
	int hl = sdata_hash(&d, md_get("SHA256"), h);
	if (hl < 0)
		return hl;
	if (hl != 32)
		return DS_ECRYPTO;
	memcpy(out, h, 32);
	return DS_OK;
}

/* ---- private keys and signing ----------------------------------------------- */

int sig0_key_new_private(struct evp_pkey_st *pkey, const uint8_t *owner, const uint8_t *rdata,
			 size_t rdlen, struct sig0_key **out, char *why, size_t whylen)
{
	struct sig0_limits lim;
	EVP_PKEY *pub;
	const struct alg_info *ai;
	size_t siglen = 0;

	*out = NULL;
	/* any supported algorithm and size: the limits are for keys we accept */
	memset(&lim, 0xff, sizeof lim);
	lim.rsa_min_bits = 512;
	lim.rsa_max_bits = 16384;
	int rc = key_import(rdata, rdlen, &lim, &pub, &ai, &siglen, why, whylen);
	if (rc != DS_OK)
		return rc;
	/* Ed25519 has no public object: key_build checks that pair */
	int eq = ai->alg == ALG_ED25519 ? 1 : EVP_PKEY_eq(pub, pkey);
	EVP_PKEY_free(pub);
	if (eq != 1) {
		ERR_clear_error();
		ds_why(why, whylen, "private key does not match the KEY record");
		return DS_EKEY;
	}
	if (ai->kind == KIND_RSA && (size_t)EVP_PKEY_get_size(pkey) != siglen) {
		ds_why(why, whylen, "RSA key size mismatch");
		return DS_EKEY;
	}
	return key_build(pkey, 1, ai, siglen, owner, rdata, rdlen, out, why, whylen);
}

/* OpenSSL's DER ECDSA signature to raw r|s, each padded to half bytes. */
static int ecdsa_der_to_raw(const uint8_t *der, size_t derlen, uint8_t *out, size_t half)
{
	const unsigned char *p = der;
	ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)derlen);
	if (es == NULL)
		return DS_ECRYPTO;
	const BIGNUM *r, *s;
	ECDSA_SIG_get0(es, &r, &s);
	int ok = BN_bn2binpad(r, out, (int)half) == (int)half &&
		 BN_bn2binpad(s, out + half, (int)half) == (int)half;
	ECDSA_SIG_free(es);
	return ok ? DS_OK : DS_ECRYPTO;
}

/* EdDSA over the joined data: Ed25519 by libsodium, Ed448 by OpenSSL. */
static int sign_ed(const struct sig0_key *k, const uint8_t *data, size_t len, uint8_t *out)
{
	if (k->ed_sk != NULL)
		return crypto_sign_detached(out, NULL, data, len, k->ed_sk) == 0 ? DS_OK
										 : DS_ECRYPTO;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		return DS_ENOMEM;
	size_t sl = k->siglen;
	int rc = EVP_DigestSignInit_ex(ctx, NULL, NULL, NULL, NULL, k->pkey, NULL) == 1 &&
			 EVP_DigestSign(ctx, out, &sl, data, len) == 1 && sl == k->siglen
		     ? DS_OK
		     : DS_ECRYPTO;
	EVP_MD_CTX_free(ctx);
	if (rc != DS_OK)
		ERR_clear_error();
	return rc;
}

static int sign_data(const struct sig0_key *k, const struct sdata *d, uint8_t *out)
{
	if (k->ai->kind == KIND_ED) { /* one shot over the joined data */
		uint8_t stackbuf[STACK_DATA_MAX];
		uint8_t *buf = sdata_join(d, stackbuf);
		int rc = buf == NULL ? DS_ENOMEM : sign_ed(k, buf, d->total, out);
		if (buf != stackbuf)
			free(buf);
		return rc;
	}
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		return DS_ENOMEM;
	int rc = DS_ECRYPTO;
	size_t sl;
	if (EVP_DigestSignInit_ex(ctx, NULL, k->ai->md, NULL, NULL, k->pkey, NULL) == 1) {
		int ok = 1;
		for (int i = 0; ok && i < d->cnt; i++)
			ok = EVP_DigestSignUpdate(ctx, d->p[i], d->n[i]) == 1;
		if (ok && k->ai->kind == KIND_RSA) {
			sl = k->siglen;
			if (EVP_DigestSignFinal(ctx, out, &sl) == 1 && sl == k->siglen)
				rc = DS_OK;
		} else if (ok) {
			uint8_t der[2 * (3 + 48) + 3 + 8];
			sl = sizeof der;
			if (EVP_DigestSignFinal(ctx, der, &sl) == 1)
				rc = ecdsa_der_to_raw(der, sl, out, k->siglen / 2);
		}
	}
	EVP_MD_CTX_free(ctx);
	if (rc != DS_OK)
		ERR_clear_error();
	return rc;
}

int sig0_sign(const struct sig0_key *k, uint8_t *buf, size_t *len, size_t cap, uint32_t inception,
	      uint32_t expiration, const uint8_t *request, size_t reqlen)
{
	size_t mlen = *len;
	if (!k->has_private || mlen < DNS_HDR_LEN || mlen > cap)
		return DS_EINVAL;
	uint16_t ar = rd_u16(buf + 10);
	size_t olen = dname_len(k->owner);
	size_t plen = SIG_FIXED_LEN + olen;
	size_t rdlen = plen + k->siglen;
	if (ar == 0xffff || rdlen > 65535 || cap - mlen < SIG_RR_HDR_LEN + rdlen)
		return DS_ELIMIT;

	struct wbuf w;
	wbuf_init(&w, buf + mlen, cap - mlen);
	wbuf_u8(&w, 0); /* owner: root */
	wbuf_u16(&w, T_SIG);
	wbuf_u16(&w, CLASS_ANY);
	wbuf_u32(&w, 0);
	wbuf_u16(&w, (uint16_t)rdlen);
	wbuf_u16(&w, 0); /* type covered */
	wbuf_u8(&w, k->ai->alg);
	wbuf_u8(&w, 0);	 /* labels */
	wbuf_u32(&w, 0); /* original TTL */
	wbuf_u32(&w, expiration);
	wbuf_u32(&w, inception);
	wbuf_u16(&w, k->tag);
	wbuf_bytes(&w, k->owner, olen);
	if (w.err != 0)
		return DS_ELIMIT;

	/* the new SIG's index in the additional section is the current ARCOUNT */
	struct sdata d;
	sdata_init(&d, buf + mlen + SIG_RR_HDR_LEN, plen, request, reqlen, buf, mlen, ar);
	int rc = sign_data(k, &d, buf + mlen + SIG_RR_HDR_LEN + plen);
	if (rc != DS_OK)
		return rc;
	wr_u16(buf + 10, (uint16_t)(ar + 1));
	*len = mlen + SIG_RR_HDR_LEN + rdlen;
	return DS_OK;
}

/*
 * tests/fuzz/pipeline_keys.h -- the fixed Ed25519 keys of the in-process
 * pipeline target (fuzz_pipeline.c) and of its seed corpus (gen_corpus.c):
 * both derive the same KEY RDATA from the same 32-byte seeds, so that seeds
 * can hold a child's own KEY (an upload, a rollover) and the harness can
 * sign with it.  Test keys only.
 */
#ifndef DS_TESTS_FUZZ_PIPELINE_KEYS_H
#define DS_TESTS_FUZZ_PIPELINE_KEYS_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

/* c1.example.: configured and trusted.  c2.example.: no key (uploads).
 * c3: a second key of c1, for rollovers. */
enum { FP_C1, FP_C2, FP_C3, FP_NKEYS };
static const char *const fp_owner[FP_NKEYS] = {"c1.example.", "c2.example.", "c1.example."};

#define FP_KEY_RDLEN 36 /* flags, protocol, algorithm, 32-byte Ed25519 key */

/* The private key of number i (EVP_PKEY_free it) and its KEY RDATA. */
static inline EVP_PKEY *fp_key(int i, uint8_t rdata[FP_KEY_RDLEN])
{
	uint8_t seed[32];
	size_t len = 32;
	for (int k = 0; k < 32; k++)
		seed[k] = (uint8_t)(0x5a ^ (i * 37 + k));
	EVP_PKEY *pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, sizeof(seed));
	if (pk == NULL || EVP_PKEY_get_raw_public_key(pk, rdata + 4, &len) != 1 || len != 32)
		abort();
	rdata[0] = 0x02; /* flags 512: host key */
	rdata[1] = 0x00;
	rdata[2] = 3;  /* protocol */
	rdata[3] = 15; /* ED25519 */
	return pk;
}

#endif

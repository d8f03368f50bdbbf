/*
 * tests/bench/b7keys.c -- the keys of benchmark B7 (tests/bench/million.sh):
 * one ED25519 SIG(0) key for each of the children c0 .. c<N-1> of a zone
 * already imported into a store, stored trusted in one transaction, and
 * the BIND key files (K*.key, K*.private) of the first SAMPLE of them
 * written to a folder, for the load generator.
 *
 *   b7keys STORE ZONE N SAMPLE DIR
 *
 * Prints "b7keys keys=N sample=SAMPLE secs=S" and, per sample child, a line
 * "key c<i> DIR/K<name>+015+<tag>".  Each key is a real key pair generated
 * by OpenSSL (sig0_key_generate), written with store_key_upsert(): as
 * `dsyncd key add` stores a key, but without its audit row and one
 * transaction for all (a million separate transactions would take hours).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/dname.h"
#include "common/err.h"
#include "sig0/sig0.h"
#include "store/store.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Generate and store child c<i>.zone's key; its files in dir when wanted. */
static int one_key(struct store *s, int64_t zid, const char *zone, long i, const char *dir,
		   struct store_key *k)
{
	char name[DNAME_STR_MAX], why[200], prefix[1024];
	uint8_t owner[DNAME_MAX];
	struct sig0_key *key = NULL;
	const uint8_t *rd;
	size_t rdlen;
	int64_t cid;
	int rc;

	snprintf(name, sizeof(name), "c%ld.%s", i, zone);
	rc = dname_from_str(name, owner);
	if (rc > 0)
		rc = store_child_find(s, zid, owner, &cid);
	if (rc != DS_OK) {
		fprintf(stderr, "b7keys: %s: not in the store (%s)\n", name, ds_strerror(rc));
		return rc;
	}
	rc = sig0_key_generate(15, owner, &key, why, sizeof(why));
	if (rc != DS_OK) {
		fprintf(stderr, "b7keys: %s: %s\n", name, why);
		return rc;
	}
	rd = sig0_key_rdata(key, &rdlen);
	memset(k, 0, sizeof(*k));
	k->child_id = cid;
	k->alg = 15;
	k->tag = sig0_key_tag(key);
	k->flags = 512;
	k->rdlen = (uint16_t)rdlen;
	memcpy(k->rdata, rd, rdlen);
	k->state = KEY_TRUSTED;
	snprintf(k->trust_method, sizeof(k->trust_method), "manual");
	snprintf(k->source, sizeof(k->source), "b7keys");
	rc = store_key_upsert(s, k);
	if (rc == DS_OK && dir != NULL) {
		rc = sig0_key_write(key, dir, NULL, prefix, sizeof(prefix), why, sizeof(why));
		if (rc == DS_OK)
			printf("key c%ld %s\n", i, prefix);
		else
			fprintf(stderr, "b7keys: %s: %s\n", name, why);
	}
	sig0_key_free(key);
	return rc;
}

int main(int argc, char **argv)
{
	struct store *s = NULL;
	struct store_key *k = malloc(sizeof(*k));
	uint8_t zone[DNAME_MAX];
	int64_t zid;
	long n, sample;
	double t0 = now_s();
	int rc;

	if (argc != 6 || (n = atol(argv[3])) < 0 || (sample = atol(argv[4])) < 0) {
		fprintf(stderr, "usage: b7keys STORE ZONE N SAMPLE DIR\n");
		return 64;
	}
	rc = k != NULL ? dname_from_str(argv[2], zone) : DS_ENOMEM;
	if (rc > 0)
		rc = store_open(argv[1], &s);
	if (rc == DS_OK)
		rc = store_zone_find(s, zone, &zid);
	if (rc == DS_OK)
		rc = store_begin(s);
	for (long i = 0; rc == DS_OK && i < n; i++)
		rc = one_key(s, zid, argv[2], i, i < sample ? argv[5] : NULL, k);
	if (rc == DS_OK)
		rc = store_commit(s);
	else if (s != NULL)
		store_rollback(s);
	store_close(s);
	free(k);
	if (rc != DS_OK) {
		fprintf(stderr, "b7keys: %s\n", ds_strerror(rc));
		return 1;
	}
	printf("b7keys keys=%ld sample=%ld secs=%.2f\n", n, sample < n ? sample : n, now_s() - t0);
	return 0;
}

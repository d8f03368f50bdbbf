/*
 * tests/bench/b2.c -- benchmark B2 (tests/bench/README.md): the receiver's
 * per-message CPU work on one core, in process, no I/O.
 *
 * For each key given (BIND key pairs, one per algorithm), N realistic signed
 * UPDATEs are built first: zone section "example. SOA", two NS adds at the
 * signer's name (owner names compressed, as nsupdate sends them), an OPT
 * record and a SIG(0).  The timed loop then does, for each message, what the
 * receiver does before and during crypto:
 *
 *   msg_parse -> sig0_rr_parse -> keycache_find -> sig0_verify -> msg_clear
 *
 * with the receiver's own key cache (keys/cache.c), loaded from an
 * in-memory store holding the bench keys and some decoy keys.  Every
 * verification must succeed, otherwise the program fails.
 *
 * Besides that "full" rate, it times the pieces separately so that the
 * overhead beyond the raw signature check can be located:
 *   verify   sig0_verify only, on messages parsed beforehand
 *   parse    msg_parse + sig0_rr_parse + keycache_find + msg_clear, no crypto
 *   digest   sig0_signed_digest (the replay-cache key, computed after a
 *            successful verification in the daemon)
 *
 * Output: one line per key,
 *   b2 alg=15 name=ED25519 msgs=N bytes=B full=OPS verify=OPS parse=OPS digest=OPS
 * where OPS are operations per second on this one thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/dname.h"
#include "common/dns.h"
#include "common/err.h"
#include "common/log.h"
#include "common/msg.h"
#include "common/wire.h"
#include "receiver/internal.h"
#include "sig0/sig0.h"
#include "store/store.h"
#include "tests/unit/upd_start.h"

#define MAX_KEYS 8
#define MSG_CAP 4096
#define DECOYS 300 /* extra children with keys, so the lookup is not trivial */

struct sample {
	uint8_t *buf;
	size_t len;
};

static void die(const char *what, int rc)
{
	fprintf(stderr, "b2: %s: %s\n", what, ds_strerror(rc));
	exit(1);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A name relative to offset 12 (the zone name): one label + pointer. */
static void put_child_owner(struct wbuf *b, const uint8_t *child)
{
	wbuf_bytes(b, child, (size_t)child[0] + 1);
	wbuf_u16(b, 0xc000 | DNS_HDR_LEN);
}

static void put_ns(struct wbuf *b, uint16_t owner_ptr, const char *target)
{
	uint8_t t[DNAME_MAX];
	int tl = dname_from_str(target, t);
	if (tl <= 0)
		die("bad NS target", DS_EINVAL);
	wbuf_u16(b, 0xc000 | owner_ptr);
	wbuf_u16(b, T_NS);
	wbuf_u16(b, CLASS_IN);
	wbuf_u32(b, 3600);
	wbuf_u16(b, (uint16_t)tl);
	wbuf_bytes(b, t, (size_t)tl);
}

/* zone SOA + 2 NS adds + OPT + SIG(0), signed by k (whose owner is zone's child). */
static struct sample build_update(const struct sig0_key *k, uint16_t id)
{
	struct sample s = {.buf = malloc(MSG_CAP)};
	const uint8_t *owner = sig0_key_owner(k);
	const uint8_t *zone = dname_parent(owner);
	struct wbuf b;

	if (s.buf == NULL)
		die("malloc", DS_ENOMEM);
	wbuf_init(&b, s.buf, MSG_CAP);
	/* 2 updates; additional: OPT (SIG(0) added by sig0_sign) */
	upd_start(&b, id, zone, 2, 1);
	/* first update RR: owner spelled out as label + pointer to the zone */
	size_t owner_at = b.len;
	put_child_owner(&b, owner);
	upd_ns_rest(&b, 3600, "ns1.provider.net.");
	put_ns(&b, (uint16_t)owner_at, "ns2.provider.org.");
	/* OPT, 1232 bytes, no options */
	wbuf_u8(&b, 0);
	wbuf_u16(&b, T_OPT);
	wbuf_u16(&b, 1232);
	wbuf_u32(&b, 0);
	wbuf_u16(&b, 0);
	if (b.err)
		die("building the UPDATE", DS_ELIMIT);
	s.len = b.len;
	uint32_t now = (uint32_t)time(NULL);
	int rc = sig0_sign(k, s.buf, &s.len, MSG_CAP, now - 60, now + 300, NULL, 0);
	if (rc != DS_OK)
		die("sig0_sign", rc);
	return s;
}

/* The key's child in the store, trusted. */
static void store_add_key(struct store *st, int64_t zone_id, const uint8_t *owner,
			  const uint8_t *rdata, size_t rdlen)
{
	int64_t child_id;
	int rc = store_child_ensure(st, zone_id, owner, &child_id);
	if (rc != DS_OK)
		die("store_child_ensure", rc);
	struct store_key *k = calloc(1, sizeof(*k));
	if (k == NULL)
		die("calloc", DS_ENOMEM);
	k->child_id = child_id;
	k->alg = rdata[3];
	k->tag = sig0_rdata_tag(rdata, rdlen);
	k->flags = (uint16_t)(rdata[0] << 8 | rdata[1]);
	k->rdlen = (uint16_t)rdlen;
	memcpy(k->rdata, rdata, rdlen);
	k->state = KEY_TRUSTED;
	strcpy(k->trust_method, "config");
	strcpy(k->source, "b2");
	rc = store_key_upsert(st, k);
	if (rc != DS_OK)
		die("store_key_upsert", rc);
	free(k);
}

/* One full receive-side pass over a message; returns 0 when it verified. */
static int one_full(struct msg *m, const struct sample *s, struct keycache *kc)
{
	struct sig0_rr sr;
	const struct key_entry *found[JOB_MAX_CAND];
	int rc = msg_parse(m, s->buf, s->len);
	if (rc == DS_OK && m->nsig != 1)
		rc = DS_EINVAL;
	if (rc == DS_OK)
		rc = sig0_rr_parse(m, m->sig_idx[0], &sr);
	if (rc == DS_OK &&
	    keycache_find(kc, sr.signer, sr.alg, sr.key_tag, found, JOB_MAX_CAND) == 0)
		rc = DS_ENOENT;
	if (rc == DS_OK)
		rc = sig0_verify(m, 0, &sr, keycache_key(found[0]));
	msg_clear(m);
	return rc;
}

/* Same without the crypto. */
static int one_parse(struct msg *m, const struct sample *s, struct keycache *kc)
{
	struct sig0_rr sr;
	const struct key_entry *found[JOB_MAX_CAND];
	int rc = msg_parse(m, s->buf, s->len);
	if (rc == DS_OK)
		rc = sig0_rr_parse(m, m->sig_idx[0], &sr);
	if (rc == DS_OK &&
	    keycache_find(kc, sr.signer, sr.alg, sr.key_tag, found, JOB_MAX_CAND) == 0)
		rc = DS_ENOENT;
	msg_clear(m);
	return rc;
}

enum mode { M_FULL, M_PARSE, M_VERIFY, M_DIGEST };

/*
 * Run mode over the samples, round after round, for at least secs seconds;
 * returns operations per second.  For M_VERIFY/M_DIGEST the messages are
 * parsed once beforehand (pm/psr/pk arrays).
 */
static double run(enum mode mode, const struct sample *sm, size_t n, struct keycache *kc,
		  struct msg **pm, struct sig0_rr *psr, const struct sig0_key *pk, double secs)
{
	struct msg *m = calloc(1, sizeof(*m));
	if (m == NULL)
		die("calloc", DS_ENOMEM);
	unsigned long ops = 0;
	double t0 = now_s(), t = t0;
	uint8_t dg[32];
	while (t - t0 < secs) {
		for (size_t i = 0; i < n; i++) {
			int rc = DS_OK;
			switch (mode) {
			case M_FULL:
				rc = one_full(m, &sm[i], kc);
				break;
			case M_PARSE:
				rc = one_parse(m, &sm[i], kc);
				break;
			case M_VERIFY:
				rc = sig0_verify(pm[i], 0, &psr[i], pk);
				break;
			case M_DIGEST:
				rc = sig0_signed_digest(pm[i], 0, &psr[i], dg);
				break;
			}
			if (rc != DS_OK)
				die("message did not pass", rc);
			ops++;
			/* a time check every 64 operations keeps the clock out of the loop */
			if ((ops & 63) == 0) {
				t = now_s();
				if (t - t0 >= secs)
					break;
			}
		}
		t = now_s();
	}
	free(m);
	return (double)ops / (t - t0);
}

/* The keys of the pairs given, in the store under zone_id; exits on a bad one. */
static size_t load_keys(struct store *st, int64_t zone_id, char **paths, size_t nk,
			struct sig0_key **keys)
{
	char why[512];
	for (size_t i = 0; i < nk; i++) {
		if (sig0_key_read(paths[i], &keys[i], why, sizeof(why)) != DS_OK) {
			fprintf(stderr, "b2: %s: %s\n", paths[i], why);
			exit(1);
		}
		size_t rdlen;
		const uint8_t *rd = sig0_key_rdata(keys[i], &rdlen);
		store_add_key(st, zone_id, sig0_key_owner(keys[i]), rd, rdlen);
	}
	/* decoys: other children with the same public keys (other tags never collide
	 * by name, so the lookup walks real buckets) */
	for (size_t d = 0; d < DECOYS; d++) {
		char name[64];
		uint8_t owner[DNAME_MAX];
		snprintf(name, sizeof(name), "decoy%zu.example.", d);
		dname_from_str(name, owner);
		size_t rdlen;
		const uint8_t *rd = sig0_key_rdata(keys[d % nk], &rdlen);
		store_add_key(st, zone_id, owner, rd, rdlen);
	}
	return nk;
}

/* n UPDATEs signed by k, measured in every mode; prints one line. */
static void bench_key(const struct sig0_key *k, size_t n, struct keycache *kc, double secs)
{
	int rc;
	struct sample *sm = calloc(n, sizeof(*sm));
	struct msg **pm = calloc(n, sizeof(*pm));
	struct sig0_rr *psr = calloc(n, sizeof(*psr));
	if (sm == NULL || pm == NULL || psr == NULL)
		die("calloc", DS_ENOMEM);
	for (size_t j = 0; j < n; j++) {
		sm[j] = build_update(k, (uint16_t)j);
		pm[j] = calloc(1, sizeof(struct msg));
		if (pm[j] == NULL)
			die("calloc", DS_ENOMEM);
		if ((rc = msg_parse(pm[j], sm[j].buf, sm[j].len)) != DS_OK ||
		    (rc = sig0_rr_parse(pm[j], pm[j]->sig_idx[0], &psr[j])) != DS_OK)
			die("parsing a built UPDATE", rc);
	}
	const struct key_entry *found[JOB_MAX_CAND];
	if (keycache_find(kc, psr[0].signer, psr[0].alg, psr[0].key_tag, found, JOB_MAX_CAND) == 0)
		die("key not in the cache", DS_ENOENT);
	const struct sig0_key *pk = keycache_key(found[0]);

	/* warm-up, then the measured runs */
	run(M_FULL, sm, n, kc, pm, psr, pk, secs / 10);
	double full = run(M_FULL, sm, n, kc, pm, psr, pk, secs);
	double ver = run(M_VERIFY, sm, n, kc, pm, psr, pk, secs);
	double par = run(M_PARSE, sm, n, kc, pm, psr, pk, secs / 3);
	double dig = run(M_DIGEST, sm, n, kc, pm, psr, pk, secs / 3);
	printf("b2 alg=%u name=%s msgs=%zu bytes=%zu full=%.1f verify=%.1f parse=%.1f "
	       "digest=%.1f\n",
	       sig0_key_alg(k), sig0_alg_name(sig0_key_alg(k)), n, sm[0].len, full, ver, par, dig);
	fflush(stdout);
	for (size_t j = 0; j < n; j++) {
		free(sm[j].buf);
		msg_clear(pm[j]);
		free(pm[j]);
	}
	free(sm);
	free(pm);
	free(psr);
}

int main(int argc, char **argv)
{
	size_t n = 1000;
	double secs = 3;
	int a = 1;
	for (; a < argc && argv[a][0] == '-'; a++) {
		if (strcmp(argv[a], "-n") == 0 && a + 1 < argc)
			n = strtoul(argv[++a], NULL, 10);
		else if (strcmp(argv[a], "-t") == 0 && a + 1 < argc)
			secs = strtod(argv[++a], NULL);
		else
			break;
	}
	if (a >= argc || argc - a > MAX_KEYS || n == 0 || secs <= 0) {
		fprintf(stderr, "usage: b2 [-n MSGS] [-t SECONDS] KEYPREFIX...\n"
				"  KEYPREFIX: a BIND key pair K<child>+<alg>+<tag> of a child "
				"of example.\n");
		return 2;
	}
	log_init("b2", false, LOG_WARNING);

	struct sig0_limits lim;
	sig0_limits_default(&lim);
	struct store *st;
	int rc = store_open(":memory:", &st);
	if (rc != DS_OK)
		die("store_open", rc);
	uint8_t zone[DNAME_MAX];
	dname_from_str("example.", zone);
	int64_t zone_id;
	if ((rc = store_zone_ensure(st, zone, &zone_id)) != DS_OK)
		die("store_zone_ensure", rc);

	struct sig0_key *keys[MAX_KEYS];
	size_t nk = load_keys(st, zone_id, argv + a, (size_t)(argc - a), keys);
	/* the cache as the daemon fills it at start: keycache_sync from the store */
	struct keycache *kc;
	if ((rc = keycache_new(&kc)) != DS_OK || (rc = keycache_sync(kc, st, &lim)) != DS_OK)
		die("keycache", rc);
	if (keycache_count(kc) != nk + DECOYS) {
		fprintf(stderr, "b2: key cache holds %zu keys, expected %zu\n", keycache_count(kc),
			nk + DECOYS);
		return 1;
	}
	for (size_t i = 0; i < nk; i++)
		bench_key(keys[i], n, kc, secs);
	keycache_free(kc);
	for (size_t i = 0; i < nk; i++)
		sig0_key_free(keys[i]);
	store_close(st);
	return 0;
}

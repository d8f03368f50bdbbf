/*
 * tests/unit/test_keycache.c -- the key cache (keys/cache.c): keys built
 * at their first verification (keycache_key), from several threads at
 * once; keys OpenSSL refuses; the start's one walk (keys_load) with the
 * configuration's stale keys; revoked and deleted keys after a reload
 * (keycache_sync), built or not.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "common/dname.h"
#include "common/err.h"
#include "common/log.h"
#include "common/msg.h"
#include "common/wire.h"
#include "config/config.h"
#include "keys/keys.h"
#include "sig0/sig0.h"
#include "store/store.h"
#include "tests/unit/unit.h"
#include "tests/unit/upd_start.h"

#define ALG_ED25519 15
#define NKEYS 32
#define NTHREADS 8

static char tmpdir[] = "/tmp/test_keycache.XXXXXX";

/* One child's key pair, and an UPDATE it signed. */
struct signer {
	uint8_t owner[DNAME_MAX];
	struct sig0_key *k;
	uint8_t msg[512];
	size_t len;
};

static int signer_make(struct signer *sg, int i)
{
	char name[64], why[200];
	struct wbuf b;
	uint8_t zone[DNAME_MAX];
	snprintf(name, sizeof(name), "c%d.example.", i);
	if (dname_from_str(name, sg->owner) <= 0 || dname_from_str("example.", zone) <= 0 ||
	    sig0_key_generate(ALG_ED25519, sg->owner, &sg->k, why, sizeof(why)) != DS_OK)
		return DS_EINVAL;
	wbuf_init(&b, sg->msg, sizeof(sg->msg));
	upd_start(&b, (uint16_t)i, zone, 1, 0);
	wbuf_bytes(&b, sg->owner, dname_len(sg->owner));
	upd_ns_rest(&b, 3600, "ns1.other.");
	sg->len = b.len;
	uint32_t now = (uint32_t)time(NULL);
	return b.err ? DS_EINVAL
		     : sig0_sign(sg->k, sg->msg, &sg->len, sizeof(sg->msg), now - 60, now + 300,
				 NULL, 0);
}

/* The store row of sg's key (state st, trust method "" or "config"). */
static void signer_row(const struct signer *sg, int64_t id, enum key_state st, struct store_key *k)
{
	size_t rdlen;
	const uint8_t *rd = sig0_key_rdata(sg->k, &rdlen);
	memset(k, 0, sizeof(*k));
	k->id = id;
	k->child_id = id;
	dname_from_str("example.", k->zone);
	memcpy(k->owner, sg->owner, dname_len(sg->owner));
	k->alg = ALG_ED25519;
	k->tag = sig0_key_tag(sg->k);
	k->flags = (uint16_t)(rd[0] << 8 | rd[1]);
	k->rdlen = (uint16_t)rdlen;
	memcpy(k->rdata, rd, rdlen);
	k->state = st;
}

/* Does sg's UPDATE verify with key? */
static int verifies(const struct signer *sg, const struct sig0_key *key)
{
	struct msg *m = calloc(1, sizeof(*m));
	struct sig0_rr s;
	int rc = m ? msg_parse(m, sg->msg, sg->len) : DS_ENOMEM;
	if (rc == DS_OK && m->nsig != 1)
		rc = DS_EINVAL;
	if (rc == DS_OK)
		rc = sig0_rr_parse(m, m->sig_idx[0], &s);
	if (rc == DS_OK)
		rc = sig0_verify(m, 0, &s, key);
	if (m != NULL)
		msg_clear(m);
	free(m);
	return rc;
}

/* The one entry of sg's key, or NULL. */
static const struct key_entry *entry_of(struct keycache *kc, const struct signer *sg)
{
	const struct key_entry *e[2];
	size_t n = keycache_find(kc, sg->owner, ALG_ED25519, sig0_key_tag(sg->k), e, 2);
	return n == 1 ? e[0] : NULL;
}

static struct signer sg[NKEYS];

/* ---- first use from several threads ---- */

struct racer {
	pthread_barrier_t *start;
	const struct key_entry *e[NKEYS];
	const struct sig0_key *got[NKEYS];
	int bad;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	pthread_barrier_wait(r->start);
	for (int i = 0; i < NKEYS; i++) {
		r->got[i] = keycache_key(r->e[i]);
		r->bad += r->got[i] == NULL || verifies(&sg[i], r->got[i]) != DS_OK;
	}
	return NULL;
}

/*
 * NKEYS keys put, none built; NTHREADS threads ask for every key at once
 * (after a barrier) and verify with it: each gets the same key object for
 * an entry, built once and kept (the losers' copies freed: the sanitized
 * build's leak check says so at exit).
 */
static void test_concurrent_first_use(void)
{
	struct keycache *kc = NULL;
	struct sig0_limits lim;
	static struct store_key k;
	static struct racer rc[NTHREADS];
	pthread_t th[NTHREADS];
	pthread_barrier_t start;

	sig0_limits_default(&lim);
	CHECK_EQ(keycache_new(&kc), DS_OK);
	if (kc == NULL)
		return;
	for (int i = 0; i < NKEYS; i++) {
		signer_row(&sg[i], i + 1, KEY_TRUSTED, &k);
		CHECK_EQ(keycache_put(kc, &k, &lim), DS_OK);
	}
	CHECK_EQ(keycache_count(kc), NKEYS);
	int unbuilt = 0;
	for (int i = 0; i < NKEYS; i++) {
		const struct key_entry *e = entry_of(kc, &sg[i]);
		unbuilt += e != NULL && atomic_load(&e->pk) == NULL;
		for (int t = 0; t < NTHREADS; t++)
			rc[t].e[i] = e;
	}
	CHECK_EQ(unbuilt, NKEYS); /* put builds nothing */
	pthread_barrier_init(&start, NULL, NTHREADS);
	int started = 0;
	for (int t = 0; t < NTHREADS; t++) {
		rc[t].start = &start;
		started += pthread_create(&th[t], NULL, race, &rc[t]) == 0;
	}
	CHECK_EQ(started, NTHREADS);
	for (int t = 0; t < started; t++)
		pthread_join(th[t], NULL);
	pthread_barrier_destroy(&start);
	int bad = 0, same = 0;
	for (int t = 0; t < NTHREADS; t++) {
		bad += rc[t].bad;
		for (int i = 0; i < NKEYS; i++)
			same += rc[t].got[i] == rc[0].got[i] &&
				rc[t].got[i] == atomic_load(&rc[t].e[i]->pk);
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(same, NTHREADS * NKEYS);
	/* kept: asked again, the same object; another child's key does not verify */
	CHECK(keycache_key(rc[0].e[0]) == rc[0].got[0]);
	CHECK_EQ(verifies(&sg[1], keycache_key(rc[0].e[0])), DS_EBADSIG);
	keycache_free(kc);
}

/* ---- keys that are not usable ---- */

/*
 * A key the limits refuse never enters the cache; an ECDSA P-256 key whose
 * point is not on the curve passes the cheap checks, enters, and its
 * keycache_key is NULL (the first time and after).
 */
static void test_unusable(void)
{
	struct keycache *kc = NULL;
	struct sig0_limits lim;
	static struct store_key k;
	const struct key_entry *e[2];

	sig0_limits_default(&lim);
	CHECK_EQ(keycache_new(&kc), DS_OK);
	if (kc == NULL)
		return;
	signer_row(&sg[0], 1, KEY_TRUSTED, &k);
	k.rdata[2] = 2; /* protocol 2 */
	CHECK_EQ(keycache_put(kc, &k, &lim), DS_OK);
	CHECK_EQ(keycache_count(kc), 0);
	signer_row(&sg[0], 2, KEY_TRUSTED, &k);
	lim.alg_allowed[ALG_ED25519 >> 3] &= (uint8_t) ~(1u << (ALG_ED25519 & 7));
	CHECK_EQ(keycache_put(kc, &k, &lim), DS_OK); /* algorithm not allowed */
	CHECK_EQ(keycache_count(kc), 0);

	sig0_limits_default(&lim);
	k.id = 3;
	k.alg = 13; /* ECDSAP256SHA256: x = y = 1 is not on the curve */
	k.rdata[3] = 13;
	k.rdlen = 4 + 64;
	memset(k.rdata + 4, 0, 64);
	k.rdata[4 + 31] = 1;
	k.rdata[4 + 63] = 1;
	k.tag = sig0_rdata_tag(k.rdata, k.rdlen);
	CHECK_EQ(sig0_key_check(k.rdata, k.rdlen, &lim, NULL, 0), DS_OK);
	CHECK_EQ(keycache_put(kc, &k, &lim), DS_OK);
	CHECK_EQ(keycache_count(kc), 1);
	CHECK_EQ(keycache_find(kc, k.owner, 13, k.tag, e, 2), 1);
	CHECK(keycache_key(e[0]) == NULL);
	CHECK(keycache_key(e[0]) == NULL);
	keycache_free(kc);
}

/* ---- the start's walk and the reload's ---- */

/* Store sg[i]'s key for its child; its id. */
static int64_t store_signer(struct store *s, int64_t zid, int i, const char *method)
{
	static struct store_key k;
	int64_t cid = 0;
	CHECK_EQ(store_child_ensure(s, zid, sg[i].owner, &cid), DS_OK);
	signer_row(&sg[i], 0, KEY_TRUSTED, &k);
	k.child_id = cid;
	snprintf(k.trust_method, sizeof(k.trust_method), "%s", method);
	snprintf(k.source, sizeof(k.source), "test");
	CHECK_EQ(store_key_upsert(s, &k), DS_OK);
	return k.id;
}

/*
 * keys_load: the store's keys in one walk, a key the configuration trusted
 * but lists no more revoked in the store and in the cache; only into a new
 * cache.  Then, as a reload does (keycache_sync): a revoked key (built
 * before) and a deleted one (never built) no longer verify or are found,
 * the others still do.
 */
static void test_load_and_reload(void)
{
	char path[600];
	struct store *s = NULL;
	struct keycache *kc = NULL;
	struct cfg cfg;
	static struct store_key k;
	int64_t zid = 0, id[4];
	uint8_t zone[DNAME_MAX];

	snprintf(path, sizeof(path), "%s/store.db", tmpdir);
	CHECK_EQ(store_open(path, &s), DS_OK);
	if (s == NULL)
		return;
	dname_from_str("example.", zone);
	CHECK_EQ(store_zone_ensure(s, zone, &zid), DS_OK);
	for (int i = 0; i < 3; i++)
		id[i] = store_signer(s, zid, i, "at-apex");
	id[3] = store_signer(s, zid, 3, "config"); /* the configuration lists no key */
	memset(&cfg, 0, sizeof(cfg));
	sig0_limits_default(&cfg.limits);

	CHECK_EQ(keycache_new(&kc), DS_OK);
	if (kc == NULL)
		goto out;
	CHECK_EQ(keys_load(&cfg, s, kc), DS_OK);
	CHECK_EQ(keys_load(&cfg, s, kc), DS_EINVAL); /* not a new cache */
	CHECK_EQ(keycache_count(kc), 4);
	CHECK(entry_of(kc, &sg[3]) == NULL); /* revoked by the walk's transaction */
	CHECK_EQ(store_key_get(s, id[3], &k), DS_OK);
	CHECK_EQ(k.state, KEY_REVOKED);
	const struct key_entry *e0 = entry_of(kc, &sg[0]);
	CHECK(e0 != NULL && atomic_load(&e0->pk) == NULL);
	CHECK(e0 != NULL && verifies(&sg[0], keycache_key(e0)) == DS_OK);
	CHECK(e0 != NULL && e0->key_id == id[0] && dname_equal(e0->zone, zone));

	/* revoke key 0 (built), delete key 1 (never built), keep key 2: a reload */
	CHECK_EQ(store_key_set_state(s, id[0], KEY_REVOKED, NULL), DS_OK);
	CHECK_EQ(store_key_delete(s, id[1]), DS_OK);
	CHECK_EQ(keycache_sync(kc, s, &cfg.limits), DS_OK);
	CHECK(entry_of(kc, &sg[0]) == NULL);
	CHECK(entry_of(kc, &sg[1]) == NULL);
	CHECK(e0 != NULL && key_entry_state(e0) == KEY_REVOKED);
	const struct key_entry *e2 = entry_of(kc, &sg[2]);
	CHECK(e2 != NULL && verifies(&sg[2], keycache_key(e2)) == DS_OK);
	CHECK_EQ(keycache_count(kc), 4); /* entries stay, revoked */

	/* trusted again (same id): the kept key object verifies again */
	CHECK_EQ(store_key_set_state(s, id[0], KEY_TRUSTED, "manual"), DS_OK);
	CHECK_EQ(keycache_sync(kc, s, &cfg.limits), DS_OK);
	CHECK(entry_of(kc, &sg[0]) == e0);
	/* and revoked by a put (the commit thread's way) */
	CHECK_EQ(store_key_get(s, id[0], &k), DS_OK);
	k.state = KEY_REVOKED;
	CHECK_EQ(keycache_put(kc, &k, &cfg.limits), DS_OK);
	CHECK(entry_of(kc, &sg[0]) == NULL);
out:
	keycache_free(kc);
	store_close(s);
}

int main(void)
{
	char cmd[200];
	log_init("test_keycache", false, LOG_ERR);
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	int made = 0;
	for (int i = 0; i < NKEYS; i++)
		made += signer_make(&sg[i], i) == DS_OK;
	CHECK_EQ(made, NKEYS);
	if (made == NKEYS) {
		test_concurrent_first_use();
		test_unusable();
		test_load_and_reload();
	}
	for (int i = 0; i < NKEYS; i++)
		sig0_key_free(sg[i].k);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "test_keycache: %s failed\n", cmd);
	UNIT_DONE("test_keycache");
}

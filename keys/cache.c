/*
 * keys/cache.c -- the store's keys in memory, indexed by
 * (signer name, algorithm, key tag), ready to verify.  Keys only ever come
 * from the store (R2); configuration keys reach the store first
 * (keys_sync_config), so the store stays the one source of truth.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/dname.h"
#include "common/err.h"
#include "common/log.h"
#include "common/vec.h"
#include "keys/keys.h"

/* Buckets at first; the table doubles twice over whenever it holds more
 * than two keys a bucket, so a lookup walks two keys on average whatever
 * the number of children (a million keys: 524,288 buckets). */
#define KC_BUCKETS 4096

struct keycache {
	pthread_rwlock_t lock;
	struct key_entry **bucket;
	size_t nb; /* buckets, a power of two */
	size_t n;
};

static size_t kc_slot(const struct keycache *kc, const uint8_t *name, uint8_t alg, uint16_t tag)
{
	return (size_t)((dname_hash(name) ^ ((uint64_t)alg << 16 | tag) * 0x9e3779b97f4a7c15ull) &
			(kc->nb - 1));
}

/* Four times the buckets, every entry relinked; the caller holds the write
 * lock.  Without the memory the table stays as it is (only slower). */
static void kc_grow(struct keycache *kc)
{
	struct keycache big = {.nb = kc->nb * 4};
	big.bucket = calloc(big.nb, sizeof(*big.bucket));
	if (big.bucket == NULL)
		return;
	for (size_t i = 0; i < kc->nb; i++)
		for (struct key_entry *e = kc->bucket[i], *nx; e != NULL; e = nx) {
			size_t slot = kc_slot(&big, e->child, e->alg, e->tag);
			nx = e->next;
			e->next = big.bucket[slot];
			big.bucket[slot] = e;
		}
	free(kc->bucket);
	kc->bucket = big.bucket;
	kc->nb = big.nb;
}

int keycache_new(struct keycache **out)
{
	struct keycache *kc = calloc(1, sizeof(*kc));
	if (kc == NULL)
		return DS_ENOMEM;
	kc->nb = KC_BUCKETS;
	kc->bucket = calloc(kc->nb, sizeof(*kc->bucket));
	if (kc->bucket == NULL) {
		free(kc);
		return DS_ENOMEM;
	}
	pthread_rwlock_init(&kc->lock, NULL);
	*out = kc;
	return DS_OK;
}

void keycache_free(struct keycache *kc)
{
	if (kc == NULL)
		return;
	for (size_t i = 0; i < kc->nb; i++) {
		struct key_entry *e = kc->bucket[i], *nx;
		for (; e; e = nx) {
			nx = e->next;
			sig0_key_free(e->pk);
			free(e);
		}
	}
	pthread_rwlock_destroy(&kc->lock);
	free(kc->bucket);
	free(kc);
}

int keyrows_add(void *arg, const struct store_key *k)
{
	struct keyrows *l = arg;
	struct store_key *p = vec_grow(l->k, &l->cap, l->n + 1, sizeof(*p), 8);
	if (p == NULL)
		return DS_ENOMEM;
	l->k = p;
	l->k[l->n++] = *k;
	return 0;
}

struct load_ctx {
	struct keycache *kc;
	const struct sig0_limits *lim;
	int64_t *ids; /* the ids the walk saw (sorted by revoke_gone) */
	size_t nids, cap;
	int err;
};

/* The entry of key_id in slot, or NULL; the caller holds the lock. */
static struct key_entry *kc_lookup(struct keycache *kc, size_t slot, int64_t key_id)
{
	for (struct key_entry *e = kc->bucket[slot]; e; e = e->next)
		if (e->key_id == key_id)
			return e;
	return NULL;
}

int keycache_put(struct keycache *kc, const struct store_key *k, const struct sig0_limits *lim)
{
	char why[256], name[DNAME_STR_MAX];
	pthread_rwlock_wrlock(&kc->lock);
	struct key_entry *old = kc_lookup(kc, kc_slot(kc, k->owner, k->alg, k->tag), k->id);
	if (old != NULL) {
		atomic_store(&old->state, (int)k->state);
		snprintf(old->note, sizeof(old->note), "%s", k->validation);
	}
	pthread_rwlock_unlock(&kc->lock);
	if (old != NULL || k->state == KEY_REVOKED)
		return DS_OK; /* a revoked key: nothing to verify with, unknown to the child */

	/* parse outside the lock; insert under it, unless another thread was faster */
	struct key_entry *e = calloc(1, sizeof(*e));
	if (e == NULL)
		return DS_ENOMEM;
	if (sig0_key_new(k->owner, k->rdata, k->rdlen, lim, &e->pk, why, sizeof(why)) != DS_OK) {
		dname_to_str(k->owner, name, sizeof(name));
		log_warning("key %s tag %u not usable and ignored: %s", name, k->tag, why);
		free(e);
		return DS_OK;
	}
	e->key_id = k->id;
	e->child_id = k->child_id;
	memcpy(e->zone, k->zone, dname_len(k->zone));
	memcpy(e->child, k->owner, dname_len(k->owner));
	e->alg = k->alg;
	e->tag = k->tag;
	snprintf(e->note, sizeof(e->note), "%s", k->validation);
	atomic_store(&e->state, (int)k->state);
	pthread_rwlock_wrlock(&kc->lock);
	size_t slot = kc_slot(kc, k->owner, k->alg, k->tag);
	if ((old = kc_lookup(kc, slot, k->id)) != NULL) {
		atomic_store(&old->state, (int)k->state);
		snprintf(old->note, sizeof(old->note), "%s", k->validation);
	} else {
		e->next = kc->bucket[slot];
		kc->bucket[slot] = e;
		if (++kc->n > 2 * kc->nb)
			kc_grow(kc);
		e = NULL;
	}
	pthread_rwlock_unlock(&kc->lock);
	if (e != NULL) {
		sig0_key_free(e->pk);
		free(e);
	}
	return DS_OK;
}

void keycache_note(struct keycache *kc, const struct key_entry *e, char *buf, size_t len)
{
	pthread_rwlock_rdlock(&kc->lock);
	snprintf(buf, len, "%s", e->note);
	pthread_rwlock_unlock(&kc->lock);
}

static int load_one(void *arg, const struct store_key *k)
{
	struct load_ctx *c = arg;
	int64_t *p = vec_grow(c->ids, &c->cap, c->nids + 1, sizeof(*p), 64);
	if (p == NULL) {
		c->err = DS_ENOMEM;
		return 1;
	}
	c->ids = p;
	c->ids[c->nids++] = k->id;
	c->err = keycache_put(c->kc, k, c->lim);
	return c->err != DS_OK;
}

static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/*
 * Entries whose key the store no longer has (a deleted child's) become
 * revoked.  An entry missing from the walk may be a key committed since it
 * began (the commit thread puts keys after their commit): only a key that
 * a fresh read does not find is gone.
 */
static int revoke_gone(struct keycache *kc, struct store *s, struct load_ctx *c)
{
	struct key_entry **cand = NULL;
	size_t n = 0, cap = 0;
	int rc = DS_OK;
	if (c->nids > 0)
		qsort(c->ids, c->nids, sizeof(c->ids[0]), cmp_id);
	pthread_rwlock_rdlock(&kc->lock);
	for (size_t i = 0; rc == DS_OK && i < kc->nb; i++)
		for (struct key_entry *e = kc->bucket[i]; rc == DS_OK && e; e = e->next) {
			if (key_entry_state(e) == KEY_REVOKED ||
			    (c->nids > 0 &&
			     bsearch(&e->key_id, c->ids, c->nids, sizeof(c->ids[0]), cmp_id)))
				continue;
			struct key_entry **p = vec_grow(cand, &cap, n + 1, sizeof(*p), 16);
			if (p == NULL)
				rc = DS_ENOMEM;
			else
				(cand = p)[n++] = e;
		}
	pthread_rwlock_unlock(&kc->lock);
	struct store_key *k = n ? malloc(sizeof(*k)) : NULL;
	for (size_t i = 0; k && i < n; i++)
		if (store_key_get(s, cand[i]->key_id, k) == DS_ENOENT)
			atomic_store(&cand[i]->state, (int)KEY_REVOKED);
	if (n && k == NULL)
		rc = DS_ENOMEM;
	free(k);
	free(cand);
	return rc;
}

int keycache_sync(struct keycache *kc, struct store *s, const struct sig0_limits *lim)
{
	struct load_ctx c = {.kc = kc, .lim = lim};
	int rc = store_keys_foreach(s, load_one, &c);
	if (rc == DS_OK && c.err == DS_OK)
		c.err = revoke_gone(kc, s, &c);
	free(c.ids);
	return c.err ? c.err : (rc < 0 ? rc : DS_OK);
}

size_t keycache_find(struct keycache *kc, const uint8_t *signer, uint8_t alg, uint16_t tag,
		     const struct key_entry **out, size_t max)
{
	size_t n = 0;
	pthread_rwlock_rdlock(&kc->lock);
	for (struct key_entry *e = kc->bucket[kc_slot(kc, signer, alg, tag)]; e && n < max;
	     e = e->next)
		if (e->alg == alg && e->tag == tag && dname_equal(e->child, signer) &&
		    key_entry_state(e) != KEY_REVOKED)
			out[n++] = e;
	pthread_rwlock_unlock(&kc->lock);
	return n;
}

size_t keycache_count(struct keycache *kc)
{
	pthread_rwlock_rdlock(&kc->lock);
	size_t n = kc->n;
	pthread_rwlock_unlock(&kc->lock);
	return n;
}

/* ---- configuration keys into the store ---- */

struct sync_ctx {
	const struct cfg *cfg;
	struct store_key *stale; /* config keys in the store that the config no longer lists */
	size_t nstale, cap;
	int err;
};

static bool cfg_has_key(const struct cfg *cfg, const struct store_key *k)
{
	for (size_t z = 0; z < cfg->nzones; z++) {
		const struct cfg_zone *zc = &cfg->zones[z];
		if (!dname_equal(zc->name, k->zone))
			continue;
		for (size_t c = 0; c < zc->nchildren; c++) {
			const struct cfg_child *ch = &zc->children[c];
			if (!dname_equal(ch->name, k->owner))
				continue;
			for (size_t i = 0; i < ch->nkeys; i++)
				if (ch->keys[i].rdlen == k->rdlen &&
				    memcmp(ch->keys[i].rdata, k->rdata, k->rdlen) == 0)
					return true;
		}
	}
	return false;
}

static int find_stale(void *arg, const struct store_key *k)
{
	struct sync_ctx *c = arg;
	if (strcmp(k->trust_method, "config") != 0 || k->state != KEY_TRUSTED ||
	    cfg_has_key(c->cfg, k))
		return 0;
	struct store_key *p = vec_grow(c->stale, &c->cap, c->nstale + 1, sizeof(*p), 8);
	if (p == NULL) {
		c->err = DS_ENOMEM;
		return 1;
	}
	c->stale = p;
	c->stale[c->nstale++] = *k;
	return 0;
}

int keys_sync_config(const struct cfg *cfg, struct store *s)
{
	struct sync_ctx sc = {.cfg = cfg};
	int rc = store_begin(s);
	if (rc != DS_OK)
		return rc;
	for (size_t z = 0; z < cfg->nzones && rc == DS_OK; z++) {
		const struct cfg_zone *zc = &cfg->zones[z];
		int64_t zid;
		rc = store_zone_ensure(s, zc->name, &zid);
		for (size_t c = 0; c < zc->nchildren && rc == DS_OK; c++) {
			const struct cfg_child *ch = &zc->children[c];
			int64_t cid;
			rc = store_child_ensure(s, zid, ch->name, &cid);
			for (size_t i = 0; i < ch->nkeys && rc == DS_OK; i++) {
				const struct cfg_key *ck = &ch->keys[i];
				struct store_key *k = calloc(1, sizeof(*k));
				if (k == NULL) {
					rc = DS_ENOMEM;
					break;
				}
				k->child_id = cid;
				memcpy(k->owner, ch->name, dname_len(ch->name));
				k->alg = ck->alg;
				k->tag = ck->tag;
				k->flags = (uint16_t)(ck->rdata[0] << 8 | ck->rdata[1]);
				k->rdlen = ck->rdlen;
				memcpy(k->rdata, ck->rdata, ck->rdlen);
				k->state = KEY_TRUSTED;
				snprintf(k->trust_method, sizeof(k->trust_method), "config");
				snprintf(k->source, sizeof(k->source), "%s", ck->source);
				rc = store_key_upsert(s, k);
				free(k);
			}
		}
	}
	/* keys the configuration trusted before but lists no more lose that trust */
	if (rc == DS_OK)
		rc = store_keys_foreach(s, find_stale, &sc);
	if (rc == DS_OK)
		rc = sc.err;
	for (size_t i = 0; i < sc.nstale && rc == DS_OK; i++) {
		struct store_key *k = &sc.stale[i];
		rc = store_key_set_state(s, k->id, KEY_REVOKED, "config");
		if (rc == DS_OK)
			rc = key_audit(s, k, "config", "revoked",
				       "key no longer listed in the configuration");
		char n[DNAME_STR_MAX];
		dname_to_str(k->owner, n, sizeof(n));
		log_notice("key %s tag %u revoked: no longer listed in the configuration", n,
			   k->tag);
	}
	free(sc.stale);
	if (rc != DS_OK) {
		store_rollback(s);
		return rc;
	}
	return store_commit(s);
}

/*
 * keys/cache.c -- the store's keys in memory, indexed by
 * (signer name, algorithm, key tag): each key's RDATA, and its OpenSSL key
 * object once it has verified a signature (keycache_key).  Keys only ever come
 * from the store (R2); configuration keys reach the store first
 * (keys_sync_config), so the store stays the one source of truth.
 */
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
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
/* The entries are cut from blocks of this size (entries are never freed
 * while the cache lives): no allocation per key, about 130 bytes a key. */
#define KC_BLOCK (256 * 1024)

struct kc_block {
	struct kc_block *next;
	size_t used, cap;
	max_align_t data[];
};

struct keycache {
	pthread_rwlock_t lock;
	struct key_entry **bucket;
	size_t nb; /* buckets, a power of two */
	size_t n;
	struct kc_block *blocks; /* the entries' memory, newest first */
	uint8_t **zones;	 /* the zones' names the entries point to */
	size_t nzones, zcap;
	unsigned epoch; /* of the last keycache_sync */
};

/* keycache_key's mark of an entry whose RDATA OpenSSL refused. */
static max_align_t kc_unusable_mark;
#define KC_UNUSABLE ((struct sig0_key *)(void *)&kc_unusable_mark)

static size_t kc_slot(const struct keycache *kc, const uint8_t *name, uint8_t alg, uint16_t tag)
{
	return (size_t)((dname_hash(name) ^ ((uint64_t)alg << 16 | tag) * 0x9e3779b97f4a7c15ull) &
			(kc->nb - 1));
}

/* nb buckets (a power of two), every entry relinked; the caller holds the
 * write lock.  Without the memory the table stays as it is (only slower). */
static void kc_rehash(struct keycache *kc, size_t nb)
{
	struct keycache big = {.nb = nb};
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

/* The buckets for n keys at once (as the growth would make them). */
static void kc_reserve(struct keycache *kc, size_t n)
{
	pthread_rwlock_wrlock(&kc->lock);
	size_t nb = kc->nb;
	while (n > 2 * nb)
		nb *= 4;
	if (nb > kc->nb)
		kc_rehash(kc, nb);
	pthread_rwlock_unlock(&kc->lock);
}

/* size bytes for an entry, from the newest block or a new one; under the
 * write lock. */
static void *kc_alloc(struct keycache *kc, size_t size)
{
	size_t align = _Alignof(struct key_entry);
	size = (size + align - 1) & ~(align - 1);
	struct kc_block *b = kc->blocks;
	if (b == NULL || b->cap - b->used < size) {
		size_t cap = size > KC_BLOCK ? size : KC_BLOCK;
		if ((b = malloc(sizeof(*b) + cap)) == NULL)
			return NULL;
		*b = (struct kc_block){.next = kc->blocks, .cap = cap};
		kc->blocks = b;
	}
	void *p = (unsigned char *)b->data + b->used;
	b->used += size;
	return p;
}

/* The cache's copy of zone (one per zone); under the write lock. */
static const uint8_t *kc_zone(struct keycache *kc, const uint8_t *zone)
{
	for (size_t i = kc->nzones; i-- > 0;)
		if (dname_equal(kc->zones[i], zone))
			return kc->zones[i];
	uint8_t **p = vec_grow(kc->zones, &kc->zcap, kc->nzones + 1, sizeof(*p), 4);
	if (p == NULL)
		return NULL;
	kc->zones = p;
	size_t len = dname_len(zone);
	if ((p[kc->nzones] = malloc(len)) == NULL)
		return NULL;
	memcpy(p[kc->nzones], zone, len);
	return p[kc->nzones++];
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
	for (size_t i = 0; i < kc->nb; i++)
		for (struct key_entry *e = kc->bucket[i]; e; e = e->next) {
			struct sig0_key *pk = atomic_load(&e->pk);
			if (pk != KC_UNUSABLE)
				sig0_key_free(pk);
			free(e->note);
		}
	for (struct kc_block *b = kc->blocks, *nx; b; b = nx) {
		nx = b->next;
		free(b);
	}
	for (size_t i = 0; i < kc->nzones; i++)
		free(kc->zones[i]);
	free(kc->zones);
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
	unsigned epoch;
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

/* e's note becomes text ("" none); under the write lock.  Kept as it was
 * when there is no memory for the new one. */
static void kc_set_note(struct key_entry *e, const char *text)
{
	if (e->note != NULL ? strcmp(e->note, text) == 0 : text[0] == '\0')
		return;
	char *n = text[0] != '\0' ? strdup(text) : NULL;
	if (n == NULL && text[0] != '\0')
		return;
	free(e->note);
	e->note = n;
}

/* A new entry for k in slot; under the write lock. */
static int kc_insert(struct keycache *kc, size_t slot, const struct store_key *k, unsigned epoch)
{
	size_t nlen = dname_len(k->owner);
	const uint8_t *zone = kc_zone(kc, k->zone);
	struct key_entry *e = zone ? kc_alloc(kc, sizeof(*e) + nlen + k->rdlen) : NULL;
	if (e == NULL)
		return DS_ENOMEM;
	*e = (struct key_entry){.next = kc->bucket[slot],
				.key_id = k->id,
				.child_id = k->child_id,
				.zone = zone,
				.child = e->data,
				.seen = epoch,
				.tag = k->tag,
				.rdlen = k->rdlen,
				.alg = k->alg};
	atomic_init(&e->pk, NULL);
	atomic_init(&e->state, (int)k->state);
	memcpy(e->data, k->owner, nlen);
	memcpy(e->data + nlen, k->rdata, k->rdlen);
	kc_set_note(e, k->validation);
	kc->bucket[slot] = e;
	if (++kc->n > 2 * kc->nb)
		kc_rehash(kc, kc->nb * 4);
	return DS_OK;
}

/*
 * Add or update k; epoch (not 0) marks it seen by that keycache_sync.  A
 * new key is checked against lim without OpenSSL (sig0_key_check); its key
 * object is built at its first use.
 */
static int kc_put(struct keycache *kc, const struct store_key *k, const struct sig0_limits *lim,
		  unsigned epoch)
{
	char why[256];
	int rc = DS_OK;
	bool bad = false;
	pthread_rwlock_wrlock(&kc->lock);
	size_t slot = kc_slot(kc, k->owner, k->alg, k->tag);
	struct key_entry *old = kc_lookup(kc, slot, k->id);
	if (old != NULL) {
		atomic_store(&old->state, (int)k->state);
		kc_set_note(old, k->validation);
		if (epoch != 0)
			old->seen = epoch;
	} else if (k->state != KEY_REVOKED) { /* revoked: nothing to verify with */
		bad = sig0_key_check(k->rdata, k->rdlen, lim, why, sizeof(why)) != DS_OK;
		if (!bad)
			rc = kc_insert(kc, slot, k, epoch);
	}
	pthread_rwlock_unlock(&kc->lock);
	if (bad) {
		char name[DNAME_STR_MAX];
		dname_to_str(k->owner, name, sizeof(name));
		log_warning("key %s tag %u not usable and ignored: %s", name, k->tag, why);
	}
	return rc;
}

int keycache_put(struct keycache *kc, const struct store_key *k, const struct sig0_limits *lim)
{
	return kc_put(kc, k, lim, 0);
}

const struct sig0_key *keycache_key(const struct key_entry *ce)
{
	/* the one field that changes after the entry is published: pk, atomically */
	struct key_entry *e = (struct key_entry *)ce;
	struct sig0_key *pk = atomic_load(&e->pk);
	if (pk == NULL) {
		/* the limits were applied when the key came in: here only OpenSSL's checks */
		struct sig0_limits any = {.rsa_min_bits = 0, .rsa_max_bits = UINT_MAX};
		memset(any.alg_allowed, 0xff, sizeof(any.alg_allowed));
		struct sig0_key *mine = NULL, *expect = NULL;
		char why[256] = "";
		size_t nlen = dname_len(e->child);
		if (sig0_key_new(e->child, e->data + nlen, e->rdlen, &any, &mine, why,
				 sizeof(why)) != DS_OK)
			mine = KC_UNUSABLE;
		if (atomic_compare_exchange_strong(&e->pk, &expect, mine)) {
			pk = mine;
			if (mine == KC_UNUSABLE) {
				char name[DNAME_STR_MAX];
				dname_to_str(e->child, name, sizeof(name));
				log_warning("key %s tag %u not usable and ignored: %s", name,
					    e->tag, why);
			}
		} else {
			pk = expect; /* another thread was first: its key, ours freed */
			if (mine != KC_UNUSABLE)
				sig0_key_free(mine);
		}
	}
	return pk == KC_UNUSABLE ? NULL : pk;
}

void keycache_note(struct keycache *kc, const struct key_entry *e, char *buf, size_t len)
{
	pthread_rwlock_rdlock(&kc->lock);
	snprintf(buf, len, "%s", e->note ? e->note : "");
	pthread_rwlock_unlock(&kc->lock);
}

static int load_one(void *arg, const struct store_key *k)
{
	struct load_ctx *c = arg;
	c->err = kc_put(c->kc, k, c->lim, c->epoch);
	return c->err != DS_OK;
}

/*
 * Entries whose key the store no longer has (a deleted child's) become
 * revoked.  An entry the walk did not see may be a key committed since it
 * began (the commit thread puts keys after their commit): only a key that
 * a fresh read does not find is gone.
 */
static int revoke_gone(struct keycache *kc, struct store *s, unsigned epoch)
{
	struct key_entry **cand = NULL;
	size_t n = 0, cap = 0;
	int rc = DS_OK;
	pthread_rwlock_rdlock(&kc->lock);
	for (size_t i = 0; rc == DS_OK && i < kc->nb; i++)
		for (struct key_entry *e = kc->bucket[i]; rc == DS_OK && e; e = e->next) {
			if (key_entry_state(e) == KEY_REVOKED || e->seen == epoch)
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
	pthread_rwlock_wrlock(&kc->lock);
	if (++kc->epoch == 0) /* 0: put outside a sync */
		kc->epoch = 1;
	c.epoch = kc->epoch;
	pthread_rwlock_unlock(&kc->lock);
	int rc = store_keys_foreach(s, load_one, &c);
	if (rc == DS_OK && c.err == DS_OK)
		c.err = revoke_gone(kc, s, c.epoch);
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
	struct keycache *kc;	 /* keys_load: every key read goes in there too */
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

/* A new entry for k in a cache no other thread uses yet: no lookup (the
 * walk gives each key once). */
static int kc_add(struct keycache *kc, const struct store_key *k, const struct sig0_limits *lim)
{
	char why[256], name[DNAME_STR_MAX];
	if (k->state == KEY_REVOKED)
		return DS_OK;
	if (sig0_key_check(k->rdata, k->rdlen, lim, why, sizeof(why)) != DS_OK) {
		dname_to_str(k->owner, name, sizeof(name));
		log_warning("key %s tag %u not usable and ignored: %s", name, k->tag, why);
		return DS_OK;
	}
	pthread_rwlock_wrlock(&kc->lock);
	int rc = kc_insert(kc, kc_slot(kc, k->owner, k->alg, k->tag), k, 0);
	pthread_rwlock_unlock(&kc->lock);
	return rc;
}

static int find_stale(void *arg, const struct store_key *k)
{
	struct sync_ctx *c = arg;
	if (c->kc != NULL && (c->err = kc_add(c->kc, k, &c->cfg->limits)) != DS_OK)
		return 1;
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

/* The configuration's keys into the store, trusted (in the caller's transaction). */
static int config_upsert(const struct cfg *cfg, struct store *s)
{
	int rc = DS_OK;
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
	return rc;
}

/* Keys the configuration trusted before but lists no more lose that trust
 * (in the caller's transaction). */
static int revoke_stale(struct store *s, struct sync_ctx *sc)
{
	int rc = DS_OK;
	for (size_t i = 0; i < sc->nstale && rc == DS_OK; i++) {
		struct store_key *k = &sc->stale[i];
		rc = store_key_set_state(s, k->id, KEY_REVOKED, "config");
		if (rc == DS_OK)
			rc = key_audit(s, k, "config", "revoked",
				       "key no longer listed in the configuration");
		char n[DNAME_STR_MAX];
		dname_to_str(k->owner, n, sizeof(n));
		log_notice("key %s tag %u revoked: no longer listed in the configuration", n,
			   k->tag);
	}
	return rc;
}

/* keys_sync_config, and with kc (new, empty) keys_load's walk into it. */
static int sync_config(const struct cfg *cfg, struct store *s, struct keycache *kc)
{
	struct sync_ctx sc = {.cfg = cfg, .kc = kc};
	int64_t counts[KEY_REVOKED + 1] = {0};
	int rc = store_begin(s);
	if (rc != DS_OK)
		return rc;
	rc = config_upsert(cfg, s);
	if (rc == DS_OK && kc != NULL && (rc = store_key_counts(s, counts)) == DS_OK) {
		size_t n = 0;
		for (int st = 0; st < KEY_REVOKED; st++)
			n += (size_t)counts[st];
		kc_reserve(kc, n); /* no growing during the walk */
	}
	if (rc == DS_OK)
		rc = store_keys_foreach(s, find_stale, &sc);
	if (rc == DS_OK)
		rc = sc.err;
	if (rc == DS_OK)
		rc = revoke_stale(s, &sc);
	if (rc == DS_OK)
		rc = store_commit(s);
	else
		store_rollback(s);
	/* committed: the keys revoked just now are revoked in kc too */
	for (size_t i = 0; kc != NULL && rc == DS_OK && i < sc.nstale; i++) {
		sc.stale[i].state = KEY_REVOKED;
		rc = kc_put(kc, &sc.stale[i], &cfg->limits, 0);
	}
	free(sc.stale);
	return rc;
}

int keys_sync_config(const struct cfg *cfg, struct store *s)
{
	return sync_config(cfg, s, NULL);
}

int keys_load(const struct cfg *cfg, struct store *s, struct keycache *kc)
{
	if (keycache_count(kc) != 0)
		return DS_EINVAL;
	return sync_config(cfg, s, kc);
}

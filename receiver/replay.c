/*
 * receiver/replay.c -- digests of the signed data of every verified
 * message, with the RCODE it got, kept until the signature has expired
 * (R10).  Mirrors the store's replay table, which survives restarts.  All
 * the pipeline does about replays is here: look a message up, write it to
 * the store in the job's savepoint, note it in memory, forget a batch
 * whose commit failed, purge expired rows.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "store/store.h"
#include "receiver/internal.h"

#define RP_BUCKETS_MIN 16384

struct rp_entry {
	struct rp_entry *next;
	uint8_t digest[32];
	int64_t expires;
	int rcode;
};

/*
 * A chained hash table that doubles when it holds more than two entries per
 * bucket: at 10k UPDATEs/s with 5-minute signatures some millions of entries
 * are live, and lookups run on the one commit thread.
 */
struct replay {
	pthread_mutex_t mu;
	struct rp_entry **bucket;
	size_t nbuckets; /* a power of two */
	size_t n;
};

static size_t rp_slot(const struct replay *rp, const uint8_t d[32])
{
	uint64_t v;
	memcpy(&v, d, sizeof(v)); /* a SHA-256 is already uniform */
	return (size_t)(v & (rp->nbuckets - 1));
}

/* Double the table (caller holds the lock); on ENOMEM it just stays as it is. */
static void grow(struct replay *rp)
{
	size_t nb = rp->nbuckets * 2;
	struct rp_entry **b = calloc(nb, sizeof(*b));
	if (b == NULL)
		return;
	struct replay tmp = {.bucket = b, .nbuckets = nb};
	for (size_t i = 0; i < rp->nbuckets; i++) {
		struct rp_entry *e = rp->bucket[i], *nx;
		for (; e; e = nx) {
			nx = e->next;
			size_t s = rp_slot(&tmp, e->digest);
			e->next = b[s];
			b[s] = e;
		}
	}
	free(rp->bucket);
	rp->bucket = b;
	rp->nbuckets = nb;
}

int replay_new(struct replay **out)
{
	struct replay *rp = calloc(1, sizeof(*rp));
	if (rp == NULL)
		return DS_ENOMEM;
	rp->nbuckets = RP_BUCKETS_MIN;
	rp->bucket = calloc(rp->nbuckets, sizeof(*rp->bucket));
	if (rp->bucket == NULL) {
		free(rp);
		return DS_ENOMEM;
	}
	pthread_mutex_init(&rp->mu, NULL);
	*out = rp;
	return DS_OK;
}

void replay_free(struct replay *rp)
{
	if (rp == NULL)
		return;
	replay_purge(rp, INT64_MAX);
	pthread_mutex_destroy(&rp->mu);
	free(rp->bucket);
	free(rp);
}

/* A digest the store holds twice (SQLite keeps rows in the order they
 * came, without a key) keeps its first RCODE. */
static int load_one(void *arg, const uint8_t digest[32], int64_t expires, int rcode)
{
	if (replay_lookup(arg, digest, 0) >= 0)
		return 0;
	return replay_insert(arg, digest, expires, rcode) == DS_OK ? 0 : 1;
}

int replay_load(struct replay *rp, struct store *s, int64_t now)
{
	return store_replay_foreach(s, now, load_one, rp);
}

int replay_lookup(struct replay *rp, const uint8_t digest[32], int64_t now)
{
	int rc = -1;
	pthread_mutex_lock(&rp->mu);
	for (struct rp_entry *e = rp->bucket[rp_slot(rp, digest)]; e; e = e->next)
		if (memcmp(e->digest, digest, 32) == 0 && e->expires >= now) {
			rc = e->rcode;
			break;
		}
	pthread_mutex_unlock(&rp->mu);
	return rc;
}

int replay_insert(struct replay *rp, const uint8_t digest[32], int64_t expires, int rcode)
{
	struct rp_entry *e = malloc(sizeof(*e));
	if (e == NULL)
		return DS_ENOMEM;
	memcpy(e->digest, digest, 32);
	e->expires = expires;
	e->rcode = rcode;
	pthread_mutex_lock(&rp->mu);
	if (++rp->n > 2 * rp->nbuckets)
		grow(rp);
	size_t s = rp_slot(rp, digest);
	e->next = rp->bucket[s];
	rp->bucket[s] = e;
	pthread_mutex_unlock(&rp->mu);
	return DS_OK;
}

void replay_remove(struct replay *rp, const uint8_t digest[32])
{
	pthread_mutex_lock(&rp->mu);
	for (struct rp_entry **pp = &rp->bucket[rp_slot(rp, digest)]; *pp; pp = &(*pp)->next)
		if (memcmp((*pp)->digest, digest, 32) == 0) {
			struct rp_entry *e = *pp;
			*pp = e->next;
			free(e);
			rp->n--;
			break;
		}
	pthread_mutex_unlock(&rp->mu);
}

void replay_purge(struct replay *rp, int64_t now)
{
	pthread_mutex_lock(&rp->mu);
	for (size_t i = 0; i < rp->nbuckets; i++)
		for (struct rp_entry **pp = &rp->bucket[i]; *pp;) {
			struct rp_entry *e = *pp;
			if (e->expires < now) {
				*pp = e->next;
				free(e);
				rp->n--;
			} else {
				pp = &e->next;
			}
		}
	pthread_mutex_unlock(&rp->mu);
}

/* ---- the pipeline's use of it (commit thread) ---- */

static int64_t replay_expires(const struct receiver *r, const struct job *j)
{
	return (int64_t)j->sig_expiration + r->cfg->sig_clock_skew;
}

bool replay_seen(struct receiver *r, struct job *j)
{
	int64_t now = (int64_t)time(NULL);
	int old = replay_lookup(r->replay, j->digest, now);
	/* another node may have seen it: its row is in the shared store (read
	 * under the store's write lock, so no node can be adding it now) */
	if (old < 0 && store_shared(r->store)) {
		int rc = store_replay_find(r->store, j->digest, now, &old);
		if (rc != DS_OK && rc != DS_ENOENT) { /* cannot tell: not applied */
			job_decide(j, RES_SERVFAIL, STORE_DOWN);
			return true;
		}
		if (rc == DS_ENOENT)
			old = -1;
	}
	if (old < 0)
		return false;
	atomic_fetch_add(&r->ctr.replays, 1);
	j->replayed = true;
	job_decide_as(j, RES_REPLAY, old, EDE_OTHER,
		      "replayed message: already processed (RCODE %d), not applied again", old);
	return true;
}

void replay_store(struct receiver *r, struct job *j)
{
	/* every verified message is remembered with its outcome */
	if (j->rcode != RC_SERVFAIL &&
	    store_replay_add(r->store, j->digest, replay_expires(r, j), j->rcode) != DS_OK)
		job_decide(j, RES_SERVFAIL, STORE_DOWN);
}

void replay_note(struct receiver *r, struct job *j)
{
	if (j->verified && !j->replayed && j->rcode != RC_SERVFAIL && j->kind != MSG_INQUIRY)
		replay_insert(r->replay, j->digest, replay_expires(r, j), j->rcode);
}

void replay_forget(struct receiver *r, const struct job *batch)
{
	for (const struct job *j = batch; j; j = j->next)
		if (j->verified && !j->replayed && j->kind != MSG_INQUIRY)
			replay_remove(r->replay, j->digest);
}

void replay_purge_store(struct receiver *r)
{
	/* expired rows leave the store once a minute, inside a batch */
	int64_t now = (int64_t)time(NULL);
	if (now - r->replay_purged >= 60 && store_replay_purge(r->store, now) == DS_OK)
		r->replay_purged = now;
}

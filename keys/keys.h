/*
 * keys/keys.h -- the one owner of child keys and of the receiver's own keys
 * at run time: the key cache the receiver verifies with, the key
 * transitions (with their audit rows) that the pipeline, the bootstrap
 * scheduler, the operator commands and the admin API all go through, the
 * receiver's SIG(0) key files, and the records the parent publishes.
 * The lifecycle table itself is keystate/ (pure); the rows are the store's.
 */
#ifndef DS_KEYS_KEYS_H
#define DS_KEYS_KEYS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/dname.h"
#include "config/config.h"
#include "keystate/keystate.h"
#include "sig0/sig0.h"
#include "store/store.h"

/* ---- key cache: the store's keys, ready to verify (R2: nothing else) ---- */

struct keycache;

/*
 * One key in the cache: its RDATA, and the OpenSSL key object built from
 * it at its first verification (keycache_key), so that a start with a
 * million keys builds none.  Sized to its contents: the child's name and
 * the RDATA follow the fields; the zone's name is shared by its keys.
 */
struct key_entry {
	struct key_entry *next;	       /* hash chain */
	_Atomic(struct sig0_key *) pk; /* NULL until built; see keycache_key */
	int64_t key_id;
	int64_t child_id;
	const uint8_t *zone;  /* the cache's one copy of the zone's name */
	const uint8_t *child; /* in data[] */
	char *note;	      /* last validation result, NULL: none; under the cache's lock */
	_Atomic int state;    /* enum key_state; changes at run time (keycache_sync) */
	unsigned seen;	      /* the keycache_sync that last saw it; under the lock */
	uint16_t tag;
	uint16_t rdlen;
	uint8_t alg;
	uint8_t data[]; /* the child's name, then the KEY RDATA */
};

static inline enum key_state key_entry_state(const struct key_entry *e)
{
	return (enum key_state)atomic_load(&e->state);
}

int keycache_new(struct keycache **out);
void keycache_free(struct keycache *kc);
/*
 * Bring the cache in line with the store: new keys are added (keys failing
 * the limits are logged and skipped), known ones take the store's state,
 * and those the store no longer has (a deleted child's) become revoked.
 * Entries are never removed while the cache lives (a revoked key just has
 * state revoked), so a pointer taken by a request in flight stays valid.
 * Called at start, after each commit that changed keys, and on SIGHUP.
 */
int keycache_sync(struct keycache *kc, struct store *s, const struct sig0_limits *lim);
/* Key rows read from the store into an array (free k when done). */
struct keyrows {
	struct store_key *k;
	size_t n, cap;
};
/* A store_key_cb that appends to the struct keyrows in arg. */
int keyrows_add(void *arg, const struct store_key *k);

/*
 * Apply ev to the stored key k (read inside the caller's transaction): new
 * state (and, when it becomes trusted, method as its trust method), one
 * audit row by actor with reason, and when k becomes trusted the child's
 * other keys are superseded (revoked), except those from the configuration
 * (D8).  Every row changed is appended to changed (when not NULL), with its
 * new state, for keycache_put() after the commit.  DS_EINVAL when the table
 * does not allow ev in k's state (nothing written).
 */
int key_transition(struct store *s, const struct store_key *k, enum ks_event ev, const char *method,
		   const char *actor, const char *reason, struct keyrows *changed);

/* The configuration's entry for k when k came from it and is still listed
 * there (revoking or deleting it would not last: the next start trusts it
 * again), else NULL. */
const struct cfg_key *key_config_entry(const struct cfg *cfg, const struct store_key *k);

/* One audit row about key k (client "local", request "key"). */
int key_audit(struct store *s, const struct store_key *k, const char *actor, const char *result,
	      const char *reason);

/* ---- the operator's key changes (ops.c): `dsyncd key` and the admin API ---- */

enum key_op_refusal {
	KEY_OP_ALLOWED,
	KEY_OP_NO_KEY,	    /* no key with that id (DS_ENOENT) */
	KEY_OP_IN_CONFIG,   /* the configuration lists it: see in_config (DS_EINVAL) */
	KEY_OP_WRONG_STATE, /* not allowed in key.state (DS_EINVAL) */
	KEY_OP_DUPLICATE,   /* add: the child has this key: other_id (DS_EEXIST) */
};

struct key_op {
	const char *actor, *reason; /* for the audit row (reason may be NULL) */
	/* the key: read by id (transition, delete; as it was before), or the
	 * new key filled by the caller (add: child_id, zone, owner, rdata,
	 * rdlen, alg, tag, flags, source; id is set) */
	struct store_key key;
	enum key_op_refusal refusal;
	enum key_state next;		 /* transition: the state it got */
	const struct cfg_key *in_config; /* KEY_OP_IN_CONFIG: the entry */
	int64_t other_id;		 /* KEY_OP_DUPLICATE: the key there is */
	enum key_state other_state;
	struct keyrows changed; /* rows changed, for keycache_put() after the commit */
};

/*
 * One transaction each: DS_OK when committed; DS_ENOENT, DS_EINVAL or
 * DS_EEXIST when refused (op->refusal says why); else the store's error.
 * Nothing is changed unless DS_OK.  Free op with key_op_free().
 *
 * key_op_transition: trust or revoke key id (a revoke of a key the
 * configuration lists is refused), with key_transition's superseding.
 * key_op_delete: delete key id, unless trusted or listed in the
 * configuration; audited "deleted (was <state>) <reason>".
 * key_op_add: store op->key as known and trust it, unless the child has
 * the same RDATA already.
 */
int key_op_transition(const struct cfg *cfg, struct store *s, int64_t id, enum ks_event ev,
		      struct key_op *op);
int key_op_delete(const struct cfg *cfg, struct store *s, int64_t id, struct key_op *op);
int key_op_add(struct store *s, struct key_op *op);
void key_op_free(struct key_op *op);

/* ---- naming a key (name.c): one form for the CLIs, the API, the listings ---- */

/*
 * A key as operators name it: "CHILD/TAG" (child.example./12345), or
 * "CHILD/TAG/ALG" (child.example./12345/15) when another key of the child
 * has the same tag; the store's key id ("17") names it too.  The child may
 * be written with or without its final dot, in any case.
 */
struct key_ref {
	int64_t id; /* > 0: by id (the rest unset) */
	uint8_t child[DNAME_MAX];
	uint16_t tag;
	int alg; /* -1: any */
};
/* Parse a key name; DS_EINVAL (why says what is wrong) when it is none. */
int key_ref_parse(const char *s, struct key_ref *r, char *why, size_t whylen);
/* "CHILD/TAG", or "CHILD/TAG/ALG" with with_alg, into out. */
void key_name_fmt(const uint8_t *child, uint16_t tag, uint8_t alg, bool with_alg, char *out,
		  size_t len);
/* k's name, with its algorithm when another key of its child has its tag. */
int key_name(struct store *s, const struct store_key *k, char *out, size_t len);
/*
 * The one key that name names (its child under the most specific
 * configured zone above it).  DS_OK with *out; else why says why:
 * DS_EINVAL a malformed name, DS_ENOENT no such key (or child), DS_EEXIST
 * the name fits several keys (why lists each as CHILD/TAG/ALG with its id
 * and state), or the store's error.
 */
int key_lookup(const struct cfg *cfg, struct store *s, const char *name, struct store_key *out,
	       char *why, size_t whylen);

/*
 * e's key, ready to verify: built from its RDATA the first time it is
 * asked for (by any thread; several at once build one each and keep the
 * first), then kept while the cache lives.  NULL when OpenSSL does not
 * accept the RDATA (said once in the log); the limits were checked when
 * the key entered the cache.
 */
const struct sig0_key *keycache_key(const struct key_entry *e);

/* Copy e's note (its last validation result) into buf, under the lock. */
void keycache_note(struct keycache *kc, const struct key_entry *e, char *buf, size_t len);

/* Add or update one key (the commit thread, right after its commit). */
int keycache_put(struct keycache *kc, const struct store_key *k, const struct sig0_limits *lim);
/*
 * Up to max entries matching (signer, alg, tag), any state.  Entries stay
 * valid while the cache lives (the cache only grows during a run).
 */
size_t keycache_find(struct keycache *kc, const uint8_t *signer, uint8_t alg, uint16_t tag,
		     const struct key_entry **out, size_t max);
size_t keycache_count(struct keycache *kc);

/*
 * `dsyncd records [ZONE]` and GET /api/v1/records: the DSYNC, A/AAAA, KEY
 * and SVCB records the parent publishes so that children find and trust
 * this receiver, as zone-file text.
 */
int keys_records(const struct cfg *cfg, const char *zone, FILE *out);

/* ---- the receiver's own SIG(0) keys (rkey.c) ---- */

struct rkeys;

/* Load the keys of receiver.name from receiver.key-directory; with create,
 * make the folder and a first key (published and active now) if none. */
int rkeys_load(const struct cfg *cfg, bool create, struct rkeys **out);
void rkeys_free(struct rkeys *s);
/* Has the key folder changed since s was loaded (files added, rewritten)? */
bool rkeys_changed(const struct cfg *cfg, const struct rkeys *s);
/* The key that signs at now, or NULL. */
const struct sig0_key *rkeys_active(const struct rkeys *s, int64_t now);
/* The keys whose KEY is to be published at now. */
size_t rkeys_published(const struct rkeys *s, int64_t now, const struct sig0_key **out, size_t max);

/*
 * `dsyncd receiver-key show|roll`: list the receiver's keys with their
 * timing, or roll: a new key published now and signing after
 * receiver.roll-publish seconds, the current one retired then and removed
 * receiver.roll-retire seconds later.
 */
int rkeys_command(const struct cfg *cfg, const char *what, FILE *out);

/*
 * On a shared store, a thread that puts into kc the keys other nodes
 * change (keys/watch.c); *out NULL when the store is not shared.
 * keywatch_new listens already (before kc is filled, so that no change
 * made meanwhile is missed); keywatch_run starts applying them (NULL: a
 * no-op).  cfg is held until keywatch_stop (NULL is a no-op).
 */
struct keywatch;
int keywatch_new(const struct cfg *cfg, struct keycache *kc, struct keywatch **out);
int keywatch_run(struct keywatch *w);
void keywatch_stop(struct keywatch *w);

/* keys from the configuration into the store (at start-up). */
int keys_sync_config(const struct cfg *cfg, struct store *s);
/*
 * At start, before any other thread has kc (new, empty: else DS_EINVAL):
 * keys_sync_config, and the store's keys into kc as keycache_sync puts
 * them, in one walk of the keys (in the same transaction).  On failure kc
 * may hold keys: free it.
 */
int keys_load(const struct cfg *cfg, struct store *s, struct keycache *kc);

#endif

/*
 * store/store.h -- the durable store behind one interface.
 *
 * Two engines under one logic (store/store.c, store/db.h): an embedded
 * SQLite file (WAL mode, synchronous=FULL; one machine) or a PostgreSQL
 * database (several dsyncd sharing it).  The schema is versioned with
 * migrations (store/schema.c).  Every SQL parameter is bound (R15).  A
 * struct store is one connection: use it from one thread at a time; open
 * one per thread that needs it.
 *
 * Transactions: store_begin()/store_commit()/store_rollback() group writes;
 * store_savepoint()/store_release()/store_rollback_to() nest one UPDATE inside
 * a group commit so each UPDATE stays all-or-nothing.  store_commit() returns
 * only after the data is durable, which is when NOERROR may be sent: SQLite
 * syncs its WAL at every COMMIT, PostgreSQL flushes its own before it
 * answers.  store_begin() takes the store's write lock at once (SQLite's
 * BEGIN IMMEDIATE; on PostgreSQL one advisory lock every node takes), so
 * writers take turns across threads, processes and nodes.  A write called
 * outside any transaction is its own atomic transaction.
 *
 * Return codes: DS_OK; DS_ENOENT when the thing looked up or changed does
 * not exist; DS_EBUSY when the store stays locked past its 5 s timeout;
 * DS_EINVAL for bad arguments; DS_ESTORE for any other failure of the
 * engine, a lost database connection included (logged with log_err; the
 * next call connects again).  After a failed write inside a
 * transaction the caller rolls back (to the savepoint or the whole group).
 *
 * Callbacks of the *_foreach walks run while the walk's statement is open:
 * they may call other store functions (other statements) but must not start
 * the same walk again, nor commit/roll back -- except the callbacks of
 * store_keys_foreach and store_zone_deleg_foreach, which may not use the
 * store at all: those walks can cover a million rows, which PostgreSQL
 * hands over one at a time on the busy connection.
 *
 * Names are passed as uncompressed wire names; the store keeps them both as
 * canonical lower-case wire blobs (for lookups) and presentation text (for
 * operators).  Times are seconds since the epoch.
 */
#ifndef DS_STORE_STORE_H
#define DS_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/deleg.h"
#include "common/dns.h"
#include "common/keys.h"

struct store;

#define STORE_SCHEMA_VERSION 9
#define STORE_PG_PREFIX "postgresql:"
/* Whether spec names a PostgreSQL store (no lock file, no local file). */
bool store_spec_is_pg(const char *spec);
/* Whether other dsyncd may share this store (PostgreSQL): what a node keeps
 * in memory (keys, replays) is then checked against the store. */
bool store_shared(const struct store *s);
/* A libpq connection string's syntax: DS_OK, or DS_ECONFIG and why. */
int store_pg_check(const char *conninfo, char *why, size_t len);
/* The connection string with its password hidden, for operators' eyes
 * (malloc'd; NULL when it does not parse or on ENOMEM). */
char *store_pg_masked(const char *conninfo);

/*
 * Open and migrate to STORE_SCHEMA_VERSION (one transaction per version).
 * spec is a SQLite file, or "postgresql:" and a libpq connection string
 * (STORE_PG_PREFIX).  For a file: creates the parent directory if missing
 * (one level, mode 0700) and the file with mode 0600; ":memory:" opens a
 * private in-memory store (tests).
 * A file with a newer schema than this build is refused (DS_ESTORE).
 * *out is NULL on error.  Free with store_close().
 */
int store_open(const char *path, struct store **out);
/* Close; an open transaction is rolled back.  NULL is a no-op. */
void store_close(struct store *s);

/*
 * The serving daemon's claim on the store at path: an exclusive lock on
 * "<path>.lock", which holds the owner's PID, kept until store_unlock().
 * Operator commands do not take it (they share the store safely).
 * DS_OK with *fd (-1 for ":memory:"), DS_EBUSY when another process holds
 * it (why names its PID), DS_EIO.
 */
int store_lock(const char *path, int *fd, char *why, size_t whylen);
void store_unlock(int fd);
/* Schema version found in the file (after migration). */
int store_schema_version(struct store *s);
/* What the store is, for logs: the file, or the PostgreSQL server and
 * database (never a password). */
const char *store_label(const struct store *s);

int store_begin(struct store *s);
int store_commit(struct store *s);
int store_rollback(struct store *s);
/* Savepoint "upd"; end it with exactly one store_release() or
 * store_rollback_to().  store_rollback_to() undoes the writes made since
 * the savepoint and also releases it; earlier writes of the transaction
 * stay.  store_rollback() without an open transaction is DS_OK. */
int store_savepoint(struct store *s);
int store_release(struct store *s);
int store_rollback_to(struct store *s);

/* Parent zones: found case-insensitively; ensure inserts when missing.
 * store_zone_find returns DS_ENOENT when the zone is not known. */
int store_zone_ensure(struct store *s, const uint8_t *zone, int64_t *zone_id);
int store_zone_find(struct store *s, const uint8_t *zone, int64_t *zone_id);

/* The number of children of a zone, kept by the store (schema v8): no
 * walk, whatever their number.  DS_ENOENT when the zone is not known. */
int store_zone_children(struct store *s, const uint8_t *zone, int64_t *n);

/* Children (delegations) of a parent zone. */
int store_child_ensure(struct store *s, int64_t zone_id, const uint8_t *child, int64_t *child_id);
/* DS_ENOENT when the child is not known. */
int store_child_find(struct store *s, int64_t zone_id, const uint8_t *child, int64_t *child_id);

/* Delegation data of one child (empty deleg when none). */
int store_deleg_load(struct store *s, int64_t child_id, struct deleg *out);
/*
 * Replace all delegation data of one child with d, atomically.  Records
 * equal by RFC 2136 1.1 (see drr_same) are kept once, the last one's TTL
 * and case winning.  NS RDATA must be one wire name (else DS_EMALF).
 */
int store_deleg_write(struct store *s, int64_t child_id, const struct deleg *d);

/*
 * A change of one child's delegation as it goes out: the child's data
 * replaced with next (store_deleg_write) and changes ("+ rr" / "- rr"
 * lines) queued for the zone's backends (store_outbox_add), both or
 * neither.  What an accepted UPDATE, an import and an operator's change
 * all commit.  next NULL deletes the child instead (store_child_delete):
 * the backends then find it gone.
 */
int store_deleg_change(struct store *s, const uint8_t *zone, const uint8_t *child, int64_t child_id,
		       const struct deleg *next, const char *changes, const char *const *backends,
		       size_t nbackends, int64_t now, int64_t *change_id);

/*
 * Delete a child with its delegation data, its keys and their validations
 * (audit rows and outbox history stay).  DS_ENOENT when there is none.
 */
int store_child_delete(struct store *s, int64_t child_id);

/*
 * Walk every delegation record of a zone in canonical order (child, owner,
 * type, rdata).  child is the lower-case child name, rr as written.  An
 * unknown zone gives no calls and DS_OK.  cb returning non-zero stops the
 * walk and is returned.
 */
typedef int (*store_rr_cb)(void *arg, const uint8_t *child, const struct drr *rr);
int store_zone_deleg_foreach(struct store *s, const uint8_t *zone, store_rr_cb cb, void *arg);

/* Keys: states from common/keys.h, stored by name ("known", "trusted", ...). */
const char *store_key_state_str(enum key_state st);

struct store_key {
	int64_t id;
	int64_t child_id;
	uint8_t zone[DNAME_MAX];  /* filled by store_keys_foreach */
	uint8_t owner[DNAME_MAX]; /* the child name */
	uint8_t alg;
	uint16_t tag;
	uint16_t flags;
	uint16_t rdlen;
	uint8_t rdata[2048]; /* KEY RDATA (RSA 4096 fits) */
	enum key_state state;
	char trust_method[32]; /* "config", "at-apex", ... ; "" when not trusted */
	char source[256];      /* where it came from: config file:line, "update", ... */
	int64_t created, updated;
	char validation[200]; /* last result of its automatic validation ("" none); read only */
};

/*
 * Insert a key or, when (child, rdata) exists, update its state, method and
 * source.  k->id and k->created (kept from the first insert) are set;
 * k->updated of 0 means now (and k->created of 0 means k->updated).  zone,
 * owner are not read.  rdlen must be >= 4 (KEY RDATA header).  The
 * transition is the caller's to audit.
 */
int store_key_upsert(struct store *s, struct store_key *k);
/* Change a key's state; method NULL leaves trust_method as it is.
 * DS_ENOENT when no such key. */
int store_key_set_state(struct store *s, int64_t key_id, enum key_state st, const char *method);
/* Walk all keys (with zone filled); cb non-zero stops. */
typedef int (*store_key_cb)(void *arg, const struct store_key *k);
int store_keys_foreach(struct store *s, store_key_cb cb, void *arg);
/* Walk the keys of one child (with zone filled), oldest first. */
int store_child_keys_foreach(struct store *s, int64_t child_id, store_key_cb cb, void *arg);

/* One key by id (zone filled); DS_ENOENT when there is none. */
int store_key_get(struct store *s, int64_t key_id, struct store_key *out);

/*
 * Bootstrap validations (schema v2): one row per key whose automatic
 * validation (at-apex, at-ns, unsigned) is pending or has ended.  The row
 * goes with its key.
 */
struct store_validation {
	int64_t key_id;
	int64_t next_at;   /* when the next attempt is due; -1: not pending */
	unsigned attempts; /* failed attempts so far */
	unsigned rounds;   /* unsigned method: consistent rounds so far */
	int64_t started, updated;
	char last_result[512]; /* what the last attempt found (one line) */
	char methods[64];      /* automatic methods the last attempt ran, "at-apex,unsigned" (v5) */
};

/* Queue (or re-queue) the validation of a key: due at now, counters at 0. */
int store_validation_queue(struct store *s, int64_t key_id, int64_t now);
/* Write v's next_at, attempts, rounds, updated and last_result;
 * DS_ENOENT when the key has no validation row. */
int store_validation_update(struct store *s, const struct store_validation *v);
int store_validation_get(struct store *s, int64_t key_id, struct store_validation *out);
/* Up to max pending validations due at now (next_at <= now), earliest first. */
int store_validation_due(struct store *s, int64_t now, size_t max, struct store_validation *out,
			 size_t *n);
/* Number of pending validations (the overall cap of R9). */
int store_validation_pending(struct store *s, int64_t *n);
/* Earliest next_at of the pending validations; DS_ENOENT when none. */
int store_validation_next_time(struct store *s, int64_t *when);

/* Audit log: one row per decision. */
struct audit_rec {
	int64_t time;
	const char *client;  /* "addr#port" or "local" */
	const char *zone;    /* presentation, may be NULL */
	const char *child;   /* presentation, may be NULL */
	int key_tag;	     /* -1 when none */
	const char *actor;   /* "update", "config", "import", "api:<token>" */
	const char *request; /* summary of the request */
	const char *result;  /* "accepted", "refused", "formerr", ... */
	int rcode;
	const char *reason;
};
int store_audit_add(struct store *s, const struct audit_rec *a);
/* Number of audit rows (tests, metrics). */
int store_audit_count(struct store *s, int64_t *n);

/*
 * Outbox: a change of a zone's delegations, to be delivered to each named
 * backend.  changes is text: one RR per line, prefixed "+ " (added) or
 * "- " (removed).  One delivery row per backend, state "pending", due at
 * now.  Backend names are shorter than 64 bytes (else DS_EINVAL).
 */
int store_outbox_add(struct store *s, const uint8_t *zone, const uint8_t *child,
		     const char *changes, const char *const *backends, size_t nbackends,
		     int64_t now, int64_t *change_id);

struct outbox_item {
	int64_t delivery_id;
	int64_t change_id;
	uint8_t zone[DNAME_MAX];
	uint8_t child[DNAME_MAX];
	char backend[64];
	char *changes; /* owned by the item; freed by store_outbox_items_free */
	int attempts;
	int64_t created;
	int64_t next_attempt;
};

/*
 * Up to max deliveries in state pending whose next attempt time is <= now,
 * oldest change first (by change id, then delivery id).  zone and child
 * are lower-case.  *items is allocated (free with store_outbox_items_free;
 * NULL when *n is 0).
 */
int store_outbox_due(struct store *s, int64_t now, size_t max, struct outbox_item **items,
		     size_t *n);
void store_outbox_items_free(struct outbox_item *items, size_t n);
/* Mark delivered (state done); DS_ENOENT when no such delivery. */
int store_delivery_done(struct store *s, int64_t delivery_id, int64_t now);
/* Record a failed attempt; the delivery stays pending until next_attempt.
 * DS_ENOENT when no such pending delivery. */
int store_delivery_failed(struct store *s, int64_t delivery_id, int64_t now, int64_t next_attempt,
			  const char *error);
/*
 * Up to max pending deliveries of one (zone, backend), oldest change first,
 * whether due or not: a pair is delivered in change order, so it is due
 * when its first item's next_attempt has come.  As store_outbox_due.
 */
int store_outbox_pair(struct store *s, const uint8_t *zone, const char *backend, size_t max,
		      struct outbox_item **items, size_t *n);
/* cb once per (zone, backend) with pending deliveries, with their number;
 * zone lower-case.  cb non-zero stops the walk and is returned. */
typedef int (*store_pair_cb)(void *arg, const uint8_t *zone, const char *backend, int64_t pending);
int store_outbox_pending_pairs(struct store *s, store_pair_cb cb, void *arg);
/* Record the result of an attempt to deliver to one (zone, backend): error
 * NULL is a success at now, else a failure at now with that error. */
int store_backend_result(struct store *s, const uint8_t *zone, const char *backend, int64_t now,
			 const char *error);
/* The delivery status of one (zone, backend); times are -1 when none. */
struct delivery_status {
	int64_t pending;	     /* pending deliveries */
	int64_t oldest_created;	     /* when the oldest pending change was made */
	int oldest_attempts;	     /* failed attempts of the oldest pending delivery */
	int64_t oldest_next_attempt; /* when the pair is tried next */
	int64_t last_success, last_failure;
	char last_error[1024]; /* of the last failure ("" none) */
};
int store_delivery_status(struct store *s, const uint8_t *zone, const char *backend,
			  struct delivery_status *out);
/* Earliest next attempt among pending deliveries; DS_ENOENT when none. */
int store_outbox_next_time(struct store *s, int64_t *when);
/* Count pending deliveries (tests, metrics). */
int store_outbox_pending(struct store *s, int64_t *n);

/*
 * Replay cache (R10): digest of the signed data of every verified SIG(0)
 * message, with the RCODE it got and when the entry may be dropped.  Adding
 * a digest already present keeps its first RCODE and the later expiry.
 */
int store_replay_add(struct store *s, const uint8_t digest[32], int64_t expires, int rcode);
typedef int (*store_replay_cb)(void *arg, const uint8_t digest[32], int64_t expires, int rcode);
/* Walk non-expired entries (expires > now). */
int store_replay_foreach(struct store *s, int64_t now, store_replay_cb cb, void *arg);
int store_replay_purge(struct store *s, int64_t now);

/*
 * History retention: delete at most max audit rows older than before, and at
 * most max outbox changes older than before that every backend has received
 * (their delivery rows go with them).  Pending deliveries are never deleted.
 * The counts deleted are returned; callers loop, one short transaction per
 * call, so that the writer lock is never held for long.
 */
int store_history_purge(struct store *s, int64_t before, int64_t max, int64_t *naudit,
			int64_t *nchanges);

/* Delete a key row (its validation row goes with it); DS_ENOENT when none. */
int store_key_delete(struct store *s, int64_t key_id);
/* Number of keys in each state (counts[st] for every enum key_state), from
 * the counts the schema keeps up to date: a few rows, whatever the number of keys. */
int store_key_counts(struct store *s, int64_t counts[KEY_REVOKED + 1]);

/*
 * Pages for the admin API.  Each walk calls cb once per row, at most limit
 * rows, in the order given; cb returning non-zero stops the walk and is
 * returned.  The cursor of the next page is the last row's key as noted.
 */

/* Children of a zone in canonical order, after the child named after (NULL:
 * from the first); cursor: the child's name.  An unknown zone: DS_ENOENT. */
struct store_child_row {
	int64_t id;
	uint8_t name[DNAME_MAX]; /* lower-case */
	int64_t created, updated;
};
typedef int (*store_child_cb)(void *arg, const struct store_child_row *c);
int store_children_page(struct store *s, const uint8_t *zone, const uint8_t *after, size_t limit,
			store_child_cb cb, void *arg);

/* Pending validations, earliest next_at first, then key id; cursor: the
 * (next_at, key_id) of the last row (after_key_id 0: from the first). */
typedef int (*store_validation_cb)(void *arg, const struct store_validation *v);
int store_validations_page(struct store *s, int64_t after_next_at, int64_t after_key_id,
			   size_t limit, store_validation_cb cb, void *arg);

/*
 * The keys waiting for the operator, across all children (schema v5): state
 * known (the manual method) or validation-failed (an automatic validation
 * gave up; the operator may still trust it).  Longest waiting first: by the
 * time the key entered that state, then key id; cursor: the (since, key_id)
 * of the last row (after_key_id 0: from the first).  Served by an index, one
 * page at a time, however many children there are.
 */
struct store_waiting {
	int64_t key_id;
	uint8_t zone[DNAME_MAX], child[DNAME_MAX]; /* lower-case */
	uint8_t alg;
	uint16_t tag;
	enum key_state state;
	int64_t created; /* when the key arrived */
	int64_t since;	 /* when it entered its state: waiting since */
	bool tag_shared; /* another key of the child has the same tag */
	bool validated;	 /* it has a validation row (an automatic method ran) */
	unsigned attempts;
	char methods[64];      /* as struct store_validation */
	char last_result[512]; /* "" when no automatic method ran */
};
typedef int (*store_waiting_cb)(void *arg, const struct store_waiting *w);
int store_waiting_page(struct store *s, int64_t after_since, int64_t after_key_id, size_t limit,
		       store_waiting_cb cb, void *arg);
/* How many keys wait for the operator. */
int store_waiting_count(struct store *s, int64_t *n);
/* Whether another key of k's child has k's tag (k: id, child_id, tag). */
int store_key_tag_shared(struct store *s, const struct store_key *k, bool *shared);

/* Audit rows, newest first (by id); filters that are NULL/0 do not apply.
 * after_id 0: from the newest; else rows with id < after_id. */
struct audit_filter {
	const char *child;  /* presentation, compared case-insensitively, with final dot */
	const char *result; /* exact */
	int64_t since;	    /* time >= since (0: no bound) */
	int64_t until;	    /* time <= until (0: no bound) */
};
struct audit_row {
	int64_t id;
	struct audit_rec a; /* strings valid during the callback only */
};
typedef int (*store_audit_cb)(void *arg, const struct audit_row *r);
int store_audit_page(struct store *s, const struct audit_filter *f, int64_t after_id, size_t limit,
		     store_audit_cb cb, void *arg);

/* Deliveries, newest first (by delivery id); state "pending", "done" or NULL
 * (all), any other state DS_EINVAL; after_id 0: from the newest. */
struct delivery_row {
	int64_t id, change_id;
	const char *zone, *child; /* presentation */
	const char *backend;
	const char *state; /* "pending" or "done" */
	int attempts;
	int64_t next_attempt;
	int64_t last_attempt, delivered_at; /* -1 when none */
	const char *last_error;		    /* NULL when none */
	const char *changes;
	int64_t created;
};
typedef int (*store_delivery_cb)(void *arg, const struct delivery_row *d);
int store_deliveries_page(struct store *s, const char *state, int64_t after_id, size_t limit,
			  store_delivery_cb cb, void *arg);
/* One delivery by id (same callback); DS_ENOENT when none. */
int store_delivery_get(struct store *s, int64_t id, store_delivery_cb cb, void *arg);
/* A pending delivery is due at now (attempts kept), and so are the older
 * pending deliveries of its zone and backend, which go first; DS_ENOENT
 * when there is no such delivery, DS_EEXIST when it was delivered already. */
int store_delivery_retry(struct store *s, int64_t id, int64_t now);

/*
 * Leases (schema v8): a node works on a thing shared with other nodes (one
 * zone's deliveries to one backend, the bootstrap validations) only while
 * it holds the thing's lease.  store_lease_take gets or renews the lease
 * name for holder until until, when nobody else holds it at now: DS_OK,
 * or DS_EEXIST while another holder's lease runs.  store_lease_drop gives
 * it up (no-op when holder does not hold it).
 */
/*
 * Every row of the store from_spec into the store to_spec (store_open
 * specs), which must hold none (else DS_EREFUSED, nothing copied): in one
 * transaction on the target, the source read in one snapshot.  Then
 * both are compared (store_compare); DS_EEXIST when they differ.  A report
 * goes to out.
 */
int store_copy(const char *from_spec, const char *to_spec, FILE *out);
/* Each table of a and b: the same rows (number and contents)?  One line per
 * table to out; DS_EEXIST when some table differs. */
int store_compare(struct store *a, struct store *b, FILE *out);

/* This process as a lease holder: "host:random:pid" (the same for every call). */
const char *store_node_name(void);
int store_lease_take(struct store *s, const char *name, const char *holder, int64_t now,
		     int64_t until);
int store_lease_drop(struct store *s, const char *name, const char *holder);

/* A digest in the replay table that has not expired at now: DS_OK with the
 * RCODE it got, DS_ENOENT when there is none (a shared store's replays). */
int store_replay_find(struct store *s, const uint8_t digest[32], int64_t now, int *rcode);

/*
 * Changes of keys made by any node of a shared store, announced at each
 * commit.  store_keys_watch starts listening on this connection and gives
 * a descriptor to poll for input (DS_ENOTSUP: the store is not shared).
 * store_keys_news then hands each announcement to cb: a key written (its
 * id: read it again), a key deleted (its id, child, algorithm and tag), or
 * "all" when announcements may have been missed (the connection was lost
 * and made again): then every key is to be read again.  The descriptor may
 * change after a lost connection: poll store_keys_fd after each call.
 */
#define STORE_KEYS_CHANNEL "dsyncd_keys"
int store_keys_watch(struct store *s, int *fd);
/* The descriptor to poll now (-1 while there is no connection). */
int store_keys_fd(struct store *s);
struct store_key_news {
	enum { KEY_NEWS_WRITTEN, KEY_NEWS_DELETED, KEY_NEWS_ALL } what;
	int64_t key_id;
	uint8_t child[DNAME_MAX]; /* KEY_NEWS_DELETED: the key's owner */
	uint8_t alg;
	uint16_t tag;
};
typedef void (*store_key_news_cb)(void *arg, const struct store_key_news *n);
int store_keys_news(struct store *s, store_key_news_cb cb, void *arg);

/*
 * UPDATEs per minute: the audit rows of UPDATEs (actor "update") with
 * since <= time < until, counted per minute (accepted: result "accepted";
 * refused: any other result), to cb in time order; minutes without a row
 * are left out.  minute is the minute's first second.  DS_EINVAL when the
 * range is not one.
 */
struct store_minute {
	int64_t minute, accepted, refused;
};
typedef int (*store_minute_cb)(void *arg, const struct store_minute *m);
int store_updates_per_minute(struct store *s, int64_t since, int64_t until, store_minute_cb cb,
			     void *arg);

#endif

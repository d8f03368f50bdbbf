/*
 * store/store_sqlite.c -- the store on SQLite.
 *
 * One sqlite3 connection per struct store, every statement prepared once at
 * open (SQLITE_PREPARE_PERSISTENT) and reset + unbound after each use, every
 * value bound as a parameter (R15): no SQL text is ever built from data.
 *
 * Canonical DNS order (RFC 4034 6.1) is not something SQL can sort by
 * directly, so children and delegation owners carry a "sort key" column: the
 * lower-cased labels from the rightmost to the leftmost, each label's octets
 * escaped (0x00 -> 01 01, 0x01 -> 01 02) and followed by a 0x00 separator.
 * That encoding is prefix-free and keeps the octet order, so plain BLOB
 * comparison (memcmp, shorter first) gives canonical name order.
 */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/dname.h"
#include "common/err.h"
#include "common/log.h"
#include "common/rrtext.h"
#include "common/vec.h"

#define BUSY_TIMEOUT_MS 5000
#define NAME_KEY_MAX 512    /* sort key of a name: <= 2 * 254 + labels */
#define RDATA_TEXT_MAX 2048 /* DS hex (<= 600) or an escaped name (<= 1021) */
#define KEY_B64_MAX 4096    /* base64 of at most 2048 octets of key */
#define OUTBOX_BACKEND_MAX sizeof(((struct outbox_item *)0)->backend)

/* ------------------------------------------------------------------ */
/* Schema and migrations                                               */
/* ------------------------------------------------------------------ */

/*
 * Version 1: the initial schema.  Names are kept three ways where needed:
 * canonical lower-case wire (lookups, UNIQUE), sort key (canonical order),
 * presentation text (operators; escaped by dname_to_str).
 */
static const char *const migration_v1[] = {
    "CREATE TABLE zones ("
    " id INTEGER PRIMARY KEY,"
    " name BLOB NOT NULL UNIQUE," /* canonical lower-case wire */
    " name_text TEXT NOT NULL)",

    "CREATE TABLE children ("
    " id INTEGER PRIMARY KEY,"
    " zone_id INTEGER NOT NULL REFERENCES zones(id) ON DELETE CASCADE,"
    " name BLOB NOT NULL,"     /* canonical lower-case wire */
    " sort_key BLOB NOT NULL," /* canonical order key of name */
    " name_text TEXT NOT NULL,"
    " created INTEGER NOT NULL,"
    " updated INTEGER NOT NULL,"
    " UNIQUE (zone_id, name))",
    /* Unique like (zone_id, name), since the sort key is a one-to-one
     * function of the name; being UNIQUE lets the zone walk below stream
     * in index order with no sort step. */
    "CREATE UNIQUE INDEX children_order ON children (zone_id, sort_key)",

    "CREATE TABLE keys ("
    " id INTEGER PRIMARY KEY,"
    " child_id INTEGER NOT NULL REFERENCES children(id) ON DELETE CASCADE,"
    " algorithm INTEGER NOT NULL,"
    " key_tag INTEGER NOT NULL,"
    " flags INTEGER NOT NULL,"
    " rdata BLOB NOT NULL,"	 /* KEY RDATA as received */
    " public_key TEXT NOT NULL," /* base64 of the key field, for operators */
    " state TEXT NOT NULL,"	 /* store_key_state_str() */
    " trust_method TEXT NOT NULL DEFAULT '',"
    " source TEXT NOT NULL DEFAULT '',"
    " created INTEGER NOT NULL,"
    " updated INTEGER NOT NULL,"
    " UNIQUE (child_id, rdata))",

    "CREATE TABLE delegation ("
    " id INTEGER PRIMARY KEY,"
    " child_id INTEGER NOT NULL REFERENCES children(id) ON DELETE CASCADE,"
    " owner BLOB NOT NULL,"	  /* wire, case as received */
    " owner_canon BLOB NOT NULL," /* lower-case wire */
    " owner_key BLOB NOT NULL,"	  /* canonical order key */
    " owner_text TEXT NOT NULL,"
    " type INTEGER NOT NULL,"
    " ttl INTEGER NOT NULL,"
    " rdata BLOB NOT NULL,"	  /* as received (NS target case kept) */
    " rdata_canon BLOB NOT NULL," /* RFC 4034 6.2 form: NS target lower-cased */
    " rdata_text TEXT NOT NULL,"
    " UNIQUE (child_id, owner_canon, type, rdata_canon))",
    "CREATE UNIQUE INDEX delegation_order ON delegation (child_id, owner_key, type, rdata_canon)",

    "CREATE TABLE audit ("
    " id INTEGER PRIMARY KEY,"
    " time INTEGER NOT NULL,"
    " client TEXT,"
    " zone TEXT,"
    " child TEXT,"
    " key_tag INTEGER," /* NULL when none */
    " actor TEXT,"
    " request TEXT,"
    " result TEXT,"
    " rcode INTEGER NOT NULL,"
    " reason TEXT)",
    "CREATE INDEX audit_time ON audit (time)",
    "CREATE INDEX audit_child ON audit (child, time)",

    "CREATE TABLE outbox_change ("
    " id INTEGER PRIMARY KEY,"
    " zone BLOB NOT NULL," /* canonical lower-case wire */
    " zone_text TEXT NOT NULL,"
    " child BLOB NOT NULL,"
    " child_text TEXT NOT NULL,"
    " changes TEXT NOT NULL,"
    " created INTEGER NOT NULL)",

    "CREATE TABLE delivery ("
    " id INTEGER PRIMARY KEY,"
    " change_id INTEGER NOT NULL REFERENCES outbox_change(id) ON DELETE CASCADE,"
    " backend TEXT NOT NULL,"
    " state TEXT NOT NULL CHECK (state IN ('pending', 'done')),"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " next_attempt INTEGER NOT NULL,"
    " last_attempt INTEGER,"
    " last_error TEXT,"
    " delivered_at INTEGER,"
    " UNIQUE (change_id, backend))",
    "CREATE INDEX delivery_due ON delivery (state, next_attempt)",

    "CREATE TABLE replay ("
    " digest BLOB PRIMARY KEY,"
    " expires INTEGER NOT NULL,"
    " rcode INTEGER NOT NULL) WITHOUT ROWID",
    "CREATE INDEX replay_expires ON replay (expires)",
    NULL,
};

/*
 * Version 2: the bootstrap validations (keys/bootstrap.c).  One row per
 * key whose automatic validation is queued or has ended; next_at is NULL
 * once it ended (the row stays so that the last result can be shown).
 */
static const char *const migration_v2[] = {
    "CREATE TABLE validation ("
    " key_id INTEGER PRIMARY KEY REFERENCES keys(id) ON DELETE CASCADE,"
    " next_at INTEGER," /* NULL: not pending */
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " rounds INTEGER NOT NULL DEFAULT 0,"
    " started INTEGER NOT NULL,"
    " updated INTEGER NOT NULL,"
    " last_result TEXT NOT NULL DEFAULT '')",
    "CREATE INDEX validation_due ON validation (next_at) WHERE next_at IS NOT NULL",
    NULL,
};

/*
 * Version 3: indexes for the admin API's pages.  The audit page filtered by
 * child compares case-insensitively (audit.child keeps the case it was
 * written with), which audit_child (child, time) cannot serve; the delivery
 * page filtered by state is in id order, which delivery_due (state,
 * next_attempt) cannot give without sorting every row of that state.
 */
static const char *const migration_v3[] = {
    "CREATE INDEX audit_child_id ON audit (lower(child), id)",
    "CREATE INDEX delivery_state ON delivery (state, id)",
    NULL,
};

/*
 * Version 4: delivery per (zone, backend).  Each pair is delivered on its
 * own in change order, so its pending deliveries are read by (backend,
 * change id); backend_status keeps the last success and failure of each
 * pair, which the delivery rows lose once delivered or purged.
 */
static const char *const migration_v4[] = {
    "CREATE INDEX delivery_pending ON delivery (backend, change_id) WHERE state = 'pending'",
    /* zone: canonical lower-case wire; times NULL until the first of each */
    "CREATE TABLE backend_status (zone BLOB NOT NULL, backend TEXT NOT NULL, "
    "last_success INTEGER, last_failure INTEGER, last_error TEXT, "
    "PRIMARY KEY (zone, backend)) WITHOUT ROWID",
    NULL,
};

/*
 * Version 5: the number of keys in each state, kept by triggers in the
 * same transaction as every change of a key (foreign-key cascades fire
 * them too), so that /metrics reads six rows instead of counting every
 * key at each scrape.
 */
#define KEY_COUNT_ADD(st)                                                                          \
	"INSERT INTO key_counts (state, n) VALUES (" st ", 1) "                                    \
	"ON CONFLICT (state) DO UPDATE SET n = n + 1;"
#define KEY_COUNT_SUB(st) "UPDATE key_counts SET n = n - 1 WHERE state = " st ";"
static const char *const migration_v5[] = {
    "CREATE TABLE key_counts (state TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID",
    "INSERT INTO key_counts (state, n) SELECT state, count(*) FROM keys GROUP BY state",
    "CREATE TRIGGER key_counts_insert AFTER INSERT ON keys BEGIN " KEY_COUNT_ADD(
	"new.state") " END",
    "CREATE TRIGGER key_counts_delete AFTER DELETE ON keys BEGIN " KEY_COUNT_SUB(
	"old.state") " END",
    "CREATE TRIGGER key_counts_update AFTER UPDATE OF state ON keys "
    "WHEN old.state IS NOT new.state BEGIN " KEY_COUNT_SUB("old.state")
	KEY_COUNT_ADD("new.state") " END",
    NULL,
};

/*
 * Version 6: the keys waiting for the operator (known: the manual method;
 * validation-failed: an automatic validation gave up), read as one queue
 * across all children, longest waiting first: keys.updated is when a key
 * entered its state.  validation.methods keeps the automatic methods the
 * last attempt ran (comma-separated); rows from before are given the
 * methods their last result names.
 */
static const char *const migration_v6[] = {
    "CREATE INDEX keys_waiting ON keys (updated, id) "
    "WHERE state IN ('known', 'validation-failed')",
    "ALTER TABLE validation ADD COLUMN methods TEXT NOT NULL DEFAULT ''",
    "UPDATE validation SET methods = replace(trim("
    "iif(instr(last_result, 'at-apex: ') > 0, 'at-apex ', '') || "
    "iif(instr(last_result, 'at-ns: ') > 0, 'at-ns ', '') || "
    "iif(instr(last_result, 'unsigned: ') > 0, 'unsigned ', '')), ' ', ',')",
    NULL,
};

/*
 * Version 7: a smaller store.  The delegation table is keyed by its order
 * (child, owner's sort key, type, canonical RDATA) WITHOUT ROWID: that key
 * was already unique (the sort key is a one-to-one function of the
 * lower-case owner), so the rowid table and its two unique indexes become
 * one B-tree, about half the bytes, and owner_canon goes.  rdata is NULL
 * when it equals rdata_canon (every record but an NS whose target was
 * received in mixed case).  audit_child, which no statement reads, goes
 * (the audit page by child reads audit_child_id); delivery_due keeps only
 * the pending deliveries, the only ones ever due.
 * Each statement works on a store already in this form, so that a file
 * taken back to an older version number migrates again.
 */
static const char *const migration_v7[] = {
    "CREATE TABLE delegation_v7 ("
    " child_id INTEGER NOT NULL REFERENCES children(id) ON DELETE CASCADE,"
    " owner_key BLOB NOT NULL," /* canonical order key of the owner */
    " type INTEGER NOT NULL,"
    " rdata_canon BLOB NOT NULL," /* RFC 4034 6.2 form: NS target lower-cased */
    " owner BLOB NOT NULL,"	  /* wire, case as received */
    " ttl INTEGER NOT NULL,"
    " rdata BLOB," /* as received; NULL when equal to rdata_canon */
    " owner_text TEXT NOT NULL,"
    " rdata_text TEXT NOT NULL,"
    " PRIMARY KEY (child_id, owner_key, type, rdata_canon)) WITHOUT ROWID",
    "INSERT INTO delegation_v7 SELECT child_id, owner_key, type, rdata_canon, owner, ttl, "
    "nullif(rdata, rdata_canon), owner_text, rdata_text FROM delegation",
    "DROP TABLE delegation",
    "ALTER TABLE delegation_v7 RENAME TO delegation",
    "DROP INDEX IF EXISTS audit_child",
    "DROP INDEX IF EXISTS delivery_due",
    "CREATE INDEX delivery_due ON delivery (state, next_attempt) WHERE state = 'pending'",
    NULL,
};

/* migrations[i] brings the schema from version i to version i + 1. */
// clang-format off
static const char *const *const migrations[] = {
    migration_v1,
    migration_v2,
    migration_v3,
    migration_v4,
    migration_v5,
    migration_v6,
    migration_v7,
};
// clang-format on

_Static_assert(sizeof(migrations) / sizeof(migrations[0]) == STORE_SCHEMA_VERSION,
	       "one migration per schema version");

/* ------------------------------------------------------------------ */
/* Prepared statements                                                 */
/* ------------------------------------------------------------------ */

enum st_id {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_SAVEPOINT,
	ST_RELEASE,
	ST_ROLLBACK_TO,
	ST_W_SAVEPOINT,
	ST_W_RELEASE,
	ST_W_ROLLBACK_TO,
	ST_ZONE_FIND,
	ST_ZONE_INSERT,
	ST_CHILD_FIND,
	ST_CHILD_INSERT,
	ST_CHILD_TOUCH,
	ST_DELEG_LOAD,
	ST_DELEG_DELETE,
	ST_DELEG_INSERT,
	ST_ZONE_DELEG,
	ST_KEY_UPSERT,
	ST_KEY_SET_STATE,
	ST_KEYS_ALL,
	ST_AUDIT_ADD,
	ST_AUDIT_COUNT,
	ST_OUTBOX_ADD,
	ST_DELIVERY_ADD,
	ST_OUTBOX_DUE,
	ST_DELIVERY_DONE,
	ST_DELIVERY_FAILED,
	ST_OUTBOX_NEXT,
	ST_OUTBOX_PENDING,
	ST_REPLAY_ADD,
	ST_REPLAY_ALL,
	ST_REPLAY_PURGE,
	ST_AUDIT_PURGE,
	ST_CHANGES_PURGE,
	ST_KEYS_CHILD,
	ST_KEY_GET,
	ST_VAL_QUEUE,
	ST_VAL_UPDATE,
	ST_VAL_GET,
	ST_VAL_DUE,
	ST_VAL_NEXT,
	ST_VAL_PENDING,
	ST_KEY_DELETE,
	ST_KEY_COUNTS,
	ST_CHILDREN_PAGE,
	ST_VAL_PAGE,
	ST_AUDIT_PAGE,
	ST_AUDIT_PAGE_CHILD,
	ST_DELIVERIES_PAGE,
	ST_DELIVERIES_STATE,
	ST_DELIVERY_GET,
	ST_DELIVERY_RETRY,
	ST_DELIVERY_STATE,
	ST_OUTBOX_PAIR,
	ST_PAIR_PENDING,
	ST_PAIR_RESULT,
	ST_PAIR_STATUS,
	ST_PENDING_PAIRS,
	ST_CHILD_DELETE,
	ST_WAITING_PAGE,
	ST_WAITING_COUNT,
	ST_KEY_TAG_SHARED,
	ST_COUNT
};

/* The columns key_from_row() reads, and the joins that give them. */
#define KEY_SELECT                                                                                 \
	"SELECT k.id, k.child_id, z.name, c.name, k.algorithm, k.key_tag, k.flags, "               \
	"k.rdata, k.state, k.trust_method, k.source, k.created, k.updated, "                       \
	"coalesce(v.last_result, '') "                                                             \
	"FROM keys k JOIN children c ON c.id = k.child_id "                                        \
	"JOIN zones z ON z.id = c.zone_id LEFT JOIN validation v ON v.key_id = k.id "

/* The columns val_row() reads. */
#define VAL_SELECT                                                                                 \
	"SELECT key_id, next_at, attempts, rounds, started, updated, last_result, methods "        \
	"FROM validation "

/* A key waiting for the operator (keys_waiting, v5, holds these). */
#define KEY_WAITING "k.state IN ('known', 'validation-failed') "

/* The columns delivery_row() reads, and the join that gives them. */
#define DELIVERY_SELECT                                                                            \
	"SELECT d.id, d.change_id, o.zone_text, o.child_text, d.backend, "                         \
	"d.state, d.attempts, d.next_attempt, d.last_attempt, d.delivered_at, "                    \
	"d.last_error, o.changes, o.created FROM delivery d "                                      \
	"JOIN outbox_change o ON o.id = d.change_id "

/* The columns outbox_row() reads, and the join that gives them. */
#define OUTBOX_SELECT                                                                              \
	"SELECT d.id, d.change_id, o.zone, o.child, d.backend, o.changes, "                        \
	"d.attempts, o.created, d.next_attempt FROM delivery d "                                   \
	"JOIN outbox_change o ON o.id = d.change_id "

/* The pending deliveries of one (zone ?1, backend ?2). */
#define PAIR_PENDING "WHERE d.state = 'pending' AND d.backend = ?2 AND o.zone = ?1 "

/* The columns audit_row() reads, and the filters of a page (?1 to ?4). */
#define AUDIT_SELECT                                                                               \
	"SELECT id, time, client, zone, child, key_tag, actor, request, result, "                  \
	"rcode, reason FROM audit WHERE id < ?1 AND (?2 IS NULL OR result = ?2) "                  \
	"AND +time >= ?3 AND +time <= ?4 "

static const char *const st_sql[ST_COUNT] = {
    /* IMMEDIATE: take the write lock now, so a busy store fails at
     * begin (with the busy timeout) rather than half-way through. */
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_SAVEPOINT] = "SAVEPOINT upd",
    [ST_RELEASE] = "RELEASE upd",
    [ST_ROLLBACK_TO] = "ROLLBACK TO upd",
    [ST_W_SAVEPOINT] = "SAVEPOINT store_w",
    [ST_W_RELEASE] = "RELEASE store_w",
    [ST_W_ROLLBACK_TO] = "ROLLBACK TO store_w",

    [ST_ZONE_FIND] = "SELECT id FROM zones WHERE name = ?1",
    [ST_ZONE_INSERT] = "INSERT INTO zones (name, name_text) VALUES (?1, ?2)",

    [ST_CHILD_FIND] = "SELECT id FROM children WHERE zone_id = ?1 AND name = ?2",
    [ST_CHILD_INSERT] = "INSERT INTO children (zone_id, name, sort_key, name_text, created, "
			"updated) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
    [ST_CHILD_TOUCH] = "UPDATE children SET updated = ?2 WHERE id = ?1",
    /* its delegation, keys and their validations go with it (ON DELETE CASCADE) */
    [ST_CHILD_DELETE] = "DELETE FROM children WHERE id = ?1",

    /* the table's own order (v7): no sort step */
    [ST_DELEG_LOAD] = "SELECT owner, type, ttl, coalesce(rdata, rdata_canon) FROM delegation "
		      "WHERE child_id = ?1 ORDER BY owner_key, type, rdata_canon",
    [ST_DELEG_DELETE] = "DELETE FROM delegation WHERE child_id = ?1",
    /* An RR equal to one already written (RFC 2136 1.1) replaces its TTL. */
    [ST_DELEG_INSERT] = "INSERT INTO delegation (child_id, owner, owner_key, "
			"owner_text, type, ttl, rdata, rdata_canon, rdata_text) "
			"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
			"ON CONFLICT (child_id, owner_key, type, rdata_canon) DO UPDATE SET "
			"owner = excluded.owner, ttl = excluded.ttl, rdata = excluded.rdata, "
			"owner_text = excluded.owner_text, rdata_text = excluded.rdata_text",
    [ST_ZONE_DELEG] = "SELECT c.name, d.owner, d.type, d.ttl, coalesce(d.rdata, d.rdata_canon) "
		      "FROM zones z JOIN children c ON c.zone_id = z.id "
		      "JOIN delegation d ON d.child_id = c.id WHERE z.name = ?1 "
		      "ORDER BY c.sort_key, d.owner_key, d.type, d.rdata_canon",

    [ST_KEY_UPSERT] = "INSERT INTO keys (child_id, algorithm, key_tag, flags, rdata, public_key, "
		      "state, trust_method, source, created, updated) "
		      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
		      "ON CONFLICT (child_id, rdata) DO UPDATE SET state = excluded.state, "
		      "trust_method = excluded.trust_method, source = excluded.source, "
		      "updated = excluded.updated RETURNING id, created",
    [ST_KEY_SET_STATE] = "UPDATE keys SET state = ?2, trust_method = coalesce(?3, trust_method), "
			 "updated = ?4 WHERE id = ?1",
    [ST_KEYS_ALL] = KEY_SELECT "ORDER BY k.id",

    [ST_AUDIT_ADD] = "INSERT INTO audit (time, client, zone, child, key_tag, actor, request, "
		     "result, rcode, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [ST_AUDIT_COUNT] = "SELECT count(*) FROM audit",

    [ST_OUTBOX_ADD] = "INSERT INTO outbox_change (zone, zone_text, child, child_text, changes, "
		      "created) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_DELIVERY_ADD] = "INSERT INTO delivery (change_id, backend, state, attempts, next_attempt) "
			"VALUES (?1, ?2, 'pending', 0, ?3)",
    [ST_OUTBOX_DUE] = OUTBOX_SELECT "WHERE d.state = 'pending' AND d.next_attempt <= ?1 "
				    "ORDER BY d.change_id, d.id LIMIT ?2",
    [ST_DELIVERY_DONE] = "UPDATE delivery SET state = 'done', attempts = attempts + 1, "
			 "last_attempt = ?2, delivered_at = ?2, last_error = NULL WHERE id = ?1",
    [ST_DELIVERY_FAILED] = "UPDATE delivery SET attempts = attempts + 1, last_attempt = ?2, "
			   "next_attempt = ?3, last_error = ?4 "
			   "WHERE id = ?1 AND state = 'pending'",
    [ST_OUTBOX_NEXT] = "SELECT min(next_attempt) FROM delivery WHERE state = 'pending'",
    [ST_OUTBOX_PENDING] = "SELECT count(*) FROM delivery WHERE state = 'pending'",

    /* A digest seen again keeps its first RCODE (R10); expiry only grows. */
    [ST_REPLAY_ADD] = "INSERT INTO replay (digest, expires, rcode) VALUES (?1, ?2, ?3) "
		      "ON CONFLICT (digest) DO UPDATE SET "
		      "expires = max(replay.expires, excluded.expires)",
    [ST_REPLAY_ALL] = "SELECT digest, expires, rcode FROM replay WHERE expires > ?1",
    [ST_REPLAY_PURGE] = "DELETE FROM replay WHERE expires <= ?1",
    [ST_KEYS_CHILD] = KEY_SELECT "WHERE k.child_id = ?1 ORDER BY k.id",
    [ST_KEY_GET] = KEY_SELECT "WHERE k.id = ?1",
    [ST_VAL_QUEUE] = "INSERT INTO validation (key_id, next_at, attempts, rounds, started, updated, "
		     "last_result) VALUES (?1, ?2, 0, 0, ?2, ?2, '') "
		     "ON CONFLICT (key_id) DO UPDATE SET next_at = ?2, attempts = 0, rounds = 0, "
		     "started = ?2, updated = ?2, last_result = '', methods = ''",
    [ST_VAL_UPDATE] = "UPDATE validation SET next_at = ?2, attempts = ?3, rounds = ?4, "
		      "updated = ?5, last_result = ?6, methods = ?7 WHERE key_id = ?1",
    [ST_VAL_GET] = VAL_SELECT "WHERE key_id = ?1",
    [ST_VAL_DUE] = VAL_SELECT "WHERE next_at IS NOT NULL AND next_at <= ?1 "
			      "ORDER BY next_at, key_id LIMIT ?2",
    [ST_VAL_NEXT] = "SELECT min(next_at) FROM validation",
    [ST_VAL_PENDING] = "SELECT count(*) FROM validation WHERE next_at IS NOT NULL",
    [ST_AUDIT_PURGE] = "DELETE FROM audit WHERE id IN "
		       "(SELECT id FROM audit WHERE time < ?1 LIMIT ?2)",
    /* a change goes once no backend still waits for it (deliveries cascade);
     * "+d.state": look its deliveries up by change id, not every pending one */
    [ST_CHANGES_PURGE] =
	"DELETE FROM outbox_change WHERE id IN "
	"(SELECT o.id FROM outbox_change o WHERE o.created < ?1 AND NOT EXISTS "
	"(SELECT 1 FROM delivery d WHERE d.change_id = o.id AND +d.state = 'pending') "
	"LIMIT ?2)",

    /* The validation row goes by ON DELETE CASCADE. */
    [ST_KEY_DELETE] = "DELETE FROM keys WHERE id = ?1",
    [ST_KEY_COUNTS] = "SELECT state, n FROM key_counts WHERE n > 0",
    /* children_order streams the page; a child is never the root, so its
     * sort key is never empty and an empty ?2 starts at the first. */
    [ST_CHILDREN_PAGE] = "SELECT id, name, created, updated FROM children "
			 "WHERE zone_id = ?1 AND sort_key > ?2 ORDER BY sort_key LIMIT ?3",
    /* validation_due holds (next_at, key_id): the row value is its order. */
    [ST_VAL_PAGE] = VAL_SELECT "WHERE next_at IS NOT NULL AND (next_at, key_id) > (?1, ?2) "
			       "ORDER BY next_at, key_id LIMIT ?3",
    /*
     * Newest first by rowid.  "+time" keeps the planner from choosing
     * audit_time, which would sort the whole time range for every page.
     * The child variant walks audit_child_id (v3) backwards from ?1.
     */
    [ST_AUDIT_PAGE] = AUDIT_SELECT "ORDER BY id DESC LIMIT ?5",
    [ST_AUDIT_PAGE_CHILD] = AUDIT_SELECT "AND lower(child) = lower(?6) ORDER BY id DESC LIMIT ?5",
    [ST_DELIVERIES_PAGE] = DELIVERY_SELECT "WHERE d.id < ?1 ORDER BY d.id DESC LIMIT ?2",
    /* delivery_state (v3) streams one state in id order. */
    [ST_DELIVERIES_STATE] = DELIVERY_SELECT "WHERE d.state = ?3 AND d.id < ?1 "
					    "ORDER BY d.id DESC LIMIT ?2",
    [ST_DELIVERY_GET] = DELIVERY_SELECT "WHERE d.id = ?1",
    /* A pair delivers in change order: the older pending deliveries of the
     * same zone and backend become due with it. */
    [ST_DELIVERY_RETRY] =
	"UPDATE delivery SET next_attempt = ?2 WHERE state = 'pending' AND id IN "
	"(SELECT d.id FROM delivery t JOIN outbox_change tc ON tc.id = t.change_id "
	"JOIN delivery d ON d.backend = t.backend AND d.state = 'pending' "
	"AND d.change_id <= t.change_id "
	"JOIN outbox_change o ON o.id = d.change_id AND o.zone = tc.zone "
	"WHERE t.id = ?1 AND t.state = 'pending')",
    [ST_DELIVERY_STATE] = "SELECT state FROM delivery WHERE id = ?1",
    [ST_OUTBOX_PAIR] = OUTBOX_SELECT PAIR_PENDING "ORDER BY d.change_id, d.id LIMIT ?3",
    /* With one min() the bare columns are those of its row: the oldest. */
    [ST_PAIR_PENDING] =
	"SELECT count(*), min(d.change_id), d.attempts, d.next_attempt, "
	"o.created FROM delivery d JOIN outbox_change o ON o.id = d.change_id " PAIR_PENDING,
    /* NULL leaves a column as it is */
    [ST_PAIR_RESULT] =
	"INSERT INTO backend_status (zone, backend, last_success, last_failure, last_error) "
	"VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (zone, backend) DO UPDATE SET "
	"last_success = coalesce(excluded.last_success, last_success), "
	"last_failure = coalesce(excluded.last_failure, last_failure), "
	"last_error = coalesce(excluded.last_error, last_error)",
    [ST_PENDING_PAIRS] = "SELECT o.zone, d.backend, count(*) FROM delivery d "
			 "JOIN outbox_change o ON o.id = d.change_id WHERE d.state = 'pending' "
			 "GROUP BY o.zone, d.backend",
    [ST_PAIR_STATUS] = "SELECT last_success, last_failure, last_error FROM backend_status "
		       "WHERE zone = ?1 AND backend = ?2",
    /* keys_waiting (v5) streams the queue in its order, one page at a time */
    [ST_WAITING_PAGE] =
	"SELECT k.id, z.name, c.name, k.algorithm, k.key_tag, k.state, k.created, k.updated, "
	"EXISTS (SELECT 1 FROM keys o WHERE o.child_id = k.child_id AND o.key_tag = k.key_tag "
	"AND o.id <> k.id), v.key_id IS NOT NULL, coalesce(v.attempts, 0), "
	"coalesce(v.methods, ''), coalesce(v.last_result, '') "
	"FROM keys k JOIN children c ON c.id = k.child_id JOIN zones z ON z.id = c.zone_id "
	"LEFT JOIN validation v ON v.key_id = k.id "
	"WHERE " KEY_WAITING "AND (k.updated, k.id) > (?1, ?2) ORDER BY k.updated, k.id LIMIT ?3",
    [ST_WAITING_COUNT] = "SELECT count(*) FROM keys k WHERE " KEY_WAITING,
    [ST_KEY_TAG_SHARED] = "SELECT EXISTS (SELECT 1 FROM keys WHERE child_id = ?1 AND "
			  "key_tag = ?2 AND id <> ?3)",
};

struct store {
	sqlite3 *db;
	char *path;
	int version;
	sqlite3_stmt *st[ST_COUNT];
	struct timespec busy_since; /* the first wait for the current lock */
};

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

/* Map a SQLite result to our codes, logging what failed. */
static int db_err(struct store *s, int rc, const char *what)
{
	int prim = rc & 0xff;

	if (prim == SQLITE_BUSY || prim == SQLITE_LOCKED) {
		log_warning("store %s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
		return DS_EBUSY;
	}
	log_err("store %s: %s: %s (%d)", s->path, what, sqlite3_errmsg(s->db), rc);
	return DS_ESTORE;
}

/* Statement i, ready for binding. */
static sqlite3_stmt *st_get(struct store *s, enum st_id i)
{
	return s->st[i];
}

/* Done with a statement: reset it and drop its bindings (no stale data). */
static void st_done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/*
 * Step a statement that returns no rows (or whose rows are ignored) and
 * finish with it.  Returns DS_OK or the mapped error.
 */
static int st_exec(struct store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);
	int ret = DS_OK;

	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		ret = db_err(s, rc, what);
	st_done(st);
	return ret;
}

/* Run a statement with no parameters (transaction control). */
static int st_run(struct store *s, enum st_id i)
{
	return st_exec(s, st_get(s, i), st_sql[i]);
}

/*
 * End the store_w savepoint of a write that may run outside a transaction:
 * undo it first when ret is an error.  Returns ret, or the release's error.
 */
static int w_finish(struct store *s, int ret)
{
	if (ret != DS_OK) {
		st_run(s, ST_W_ROLLBACK_TO);
		st_run(s, ST_W_RELEASE);
		return ret;
	}
	return st_run(s, ST_W_RELEASE);
}

/*
 * Bind results are OR-ed together by the callers (SQLITE_OK is 0); on any
 * failure the connection's error code says which.
 */
static int bind_check(struct store *s, sqlite3_stmt *st, int rc, const char *what)
{
	if (rc == SQLITE_OK)
		return DS_OK;
	rc = sqlite3_extended_errcode(s->db);
	st_done(st);
	return db_err(s, rc == SQLITE_OK ? SQLITE_ERROR : rc, what);
}

/* Bind (rc: the OR-ed bind results), step and finish a statement that returns no rows. */
static int bind_exec(struct store *s, sqlite3_stmt *st, int rc, const char *what)
{
	int ret = bind_check(s, st, rc, what);

	return ret == DS_OK ? st_exec(s, st, what) : ret;
}

/* bind_exec() of a write to one row: DS_ENOENT when no row changed. */
static int bind_exec_one(struct store *s, sqlite3_stmt *st, int rc, const char *what)
{
	int ret = bind_exec(s, st, rc, what);

	if (ret == DS_OK && sqlite3_changes(s->db) == 0)
		ret = DS_ENOENT;
	return ret;
}

static int bind_blob(sqlite3_stmt *st, int i, const void *p, size_t n)
{
	return sqlite3_bind_blob(st, i, p, (int)n, SQLITE_TRANSIENT);
}

/* A row limit as SQLite takes it. */
static int64_t page_limit(size_t limit)
{
	return limit > INT64_MAX ? INT64_MAX : (int64_t)limit;
}

/* NULL binds SQL NULL. */
static int bind_text(sqlite3_stmt *st, int i, const char *t)
{
	return sqlite3_bind_text(st, i, t, -1, SQLITE_TRANSIENT);
}

/* Turns the current row of a SELECT into the caller's form and hands it on. */
typedef int (*row_fn)(struct store *s, sqlite3_stmt *st, void *ctx);

/*
 * Step through the rows of a bound SELECT, each to row(), and finish with
 * the statement.  Stops at the first row() that does not return DS_OK and
 * returns what it returned; what names the query in the log.
 */
static int rows_each(struct store *s, sqlite3_stmt *st, row_fn row, void *ctx, const char *what)
{
	int rc, ret = DS_OK;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ret = row(s, st, ctx);
		if (ret != DS_OK)
			break;
	}
	if (ret == DS_OK && rc != SQLITE_DONE)
		ret = db_err(s, rc, what);
	st_done(st);
	return ret;
}

/* The caller's callback of a foreach or page call, with its argument. */
struct walk {
	union {
		store_rr_cb rr;
		store_key_cb key;
		store_replay_cb replay;
		store_child_cb child;
		store_validation_cb val;
		store_waiting_cb waiting;
		store_audit_cb audit;
		store_delivery_cb delivery;
	} cb;
	void *arg;
	size_t n; /* rows handed over */
};

/*
 * True when b[0..n) holds exactly one well-formed uncompressed name (used on
 * data read back from the file, which is not trusted blindly).
 */
static bool wire_name_ok(const uint8_t *b, size_t n)
{
	size_t pos = 0;

	if (n == 0 || n > DNAME_MAX)
		return false;
	while (pos < n) {
		uint8_t l = b[pos];
		if (l == 0)
			return pos + 1 == n;
		if (l > 63)
			return false;
		pos += 1 + (size_t)l;
	}
	return false;
}

/* Canonical order key of a lower-case name (see the top of this file). */
static size_t name_sort_key(const uint8_t *canon, uint8_t out[NAME_KEY_MAX])
{
	const uint8_t *lab[DNAME_LABELS + 1];
	size_t nl = 0, o = 0;

	for (const uint8_t *p = canon; *p != 0 && nl < DNAME_LABELS + 1; p += 1 + *p)
		lab[nl++] = p;
	while (nl-- > 0) {
		const uint8_t *l = lab[nl];
		for (size_t j = 1; j <= l[0]; j++) {
			if (l[j] <= 1) {
				out[o++] = 1;
				out[o++] = (uint8_t)(l[j] + 1);
			} else {
				out[o++] = l[j];
			}
		}
		out[o++] = 0;
	}
	return o;
}

/* A name in the three forms the schema keeps (text: of the lower-case name). */
struct name_forms {
	uint8_t canon[DNAME_MAX];
	size_t len;
	uint8_t key[NAME_KEY_MAX];
	size_t keylen;
	char text[DNAME_STR_MAX];
};

static int name_forms(const uint8_t *name, struct name_forms *f)
{
	int rc;

	if (name == NULL)
		return DS_EINVAL;
	f->len = dname_lower(f->canon, name);
	if (f->len == 0 || f->len > DNAME_MAX)
		return DS_EINVAL;
	f->keylen = name_sort_key(f->canon, f->key);
	rc = dname_to_str(f->canon, f->text, sizeof(f->text));
	return rc;
}

/* Copy a blob column holding a name into out; DS_ESTORE if it is not one. */
static int col_name(struct store *s, sqlite3_stmt *st, int col, uint8_t out[DNAME_MAX])
{
	const void *p = sqlite3_column_blob(st, col);
	size_t n = (size_t)sqlite3_column_bytes(st, col);

	if (p == NULL || !wire_name_ok(p, n)) {
		log_err("store %s: corrupt name in column %d", s->path, col);
		return DS_ESTORE;
	}
	memcpy(out, p, n);
	return DS_OK;
}

/* Two name columns side by side: col into a, col + 1 into b. */
static int col_names(struct store *s, sqlite3_stmt *st, int col, uint8_t a[DNAME_MAX],
		     uint8_t b[DNAME_MAX])
{
	int ret = col_name(s, st, col, a);

	return ret == DS_OK ? col_name(s, st, col + 1, b) : ret;
}

/* Copy a text column into a fixed buffer (truncating; NULL -> ""). */
static void col_text(sqlite3_stmt *st, int col, char *out, size_t outlen)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	snprintf(out, outlen, "%s", t ? (const char *)t : "");
}

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

/* ------------------------------------------------------------------ */
/* Open, migrate, close                                                */
/* ------------------------------------------------------------------ */

/* Create the parent directory (one level, 0700) and the file (0600). */
static int prepare_path(const char *path)
{
	char *dir = strdup(path);
	char *slash;
	int fd;

	if (dir == NULL)
		return DS_ENOMEM;
	slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
			log_err("store: cannot create directory %s: %s", dir, strerror(errno));
			free(dir);
			return DS_EIO;
		}
	}
	free(dir);
	/*
	 * Our mode for a new file; SQLite gives -wal/-shm the same mode.  Only
	 * a missing file is created: opening and closing an existing database
	 * file would drop every POSIX lock this process holds on it (close()
	 * releases them all), and another process could then reset the WAL
	 * under our open connections ("How To Corrupt An SQLite Database
	 * File", section 2.2).
	 */
	struct stat sb;
	if (stat(path, &sb) == 0)
		return DS_OK;
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 && errno != EEXIST) {
		log_err("store: cannot create %s: %s", path, strerror(errno));
		return DS_EIO;
	}
	if (fd >= 0)
		close(fd); /* a new, empty file: no connection holds locks on it yet */
	return DS_OK;
}

static int exec_sql(struct store *s, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK) {
		int ret = (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED ? DS_EBUSY
										     : DS_ESTORE;
		log_err("store %s: %s: %s", s->path, sql, msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return ret;
	}
	return DS_OK;
}

/* One-shot statement with one optional integer parameter. */
static int query_int(struct store *s, const char *sql, int *bind, int64_t *out)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	int ret = DS_OK;

	if (rc != SQLITE_OK)
		return db_err(s, rc, sql);
	if (bind != NULL)
		sqlite3_bind_int(st, 1, *bind);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	else if (rc == SQLITE_DONE)
		*out = 0;
	else
		ret = db_err(s, rc, sql);
	sqlite3_finalize(st);
	return ret;
}

static int read_version(struct store *s, int *v)
{
	int64_t x = 0;
	int ret = query_int(s, "SELECT coalesce(max(version), 0) FROM schema_version", NULL, &x);

	if (ret == DS_OK)
		*v = (int)x;
	return ret;
}

/* Bring the schema to STORE_SCHEMA_VERSION, one transaction per version. */
static int migrate(struct store *s)
{
	int ret, v;

	ret = exec_sql(s, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
	if (ret != DS_OK)
		return ret;
	for (;;) {
		ret = read_version(s, &v);
		if (ret != DS_OK)
			return ret;
		if (v > STORE_SCHEMA_VERSION) {
			log_err("store %s: schema version %d is newer than this build's %d",
				s->path, v, STORE_SCHEMA_VERSION);
			return DS_ESTORE;
		}
		if (v == STORE_SCHEMA_VERSION)
			break;
		ret = exec_sql(s, "BEGIN IMMEDIATE");
		if (ret != DS_OK)
			return ret;
		/* Another process may have migrated while we waited for the lock. */
		ret = read_version(s, &v);
		if (ret == DS_OK && v < STORE_SCHEMA_VERSION) {
			int64_t dummy;
			int next = v + 1;
			for (const char *const *step = migrations[v]; *step && ret == DS_OK; step++)
				ret = exec_sql(s, *step);
			if (ret == DS_OK)
				ret = exec_sql(s, "DELETE FROM schema_version");
			if (ret == DS_OK)
				ret =
				    query_int(s, "INSERT INTO schema_version (version) VALUES (?1)",
					      &next, &dummy);
			if (ret == DS_OK)
				log_notice("store %s: schema migrated to version %d", s->path,
					   next);
		}
		if (ret != DS_OK) {
			exec_sql(s, "ROLLBACK");
			return ret;
		}
		ret = exec_sql(s, "COMMIT");
		if (ret != DS_OK)
			return ret;
	}
	s->version = v;
	return DS_OK;
}

/*
 * Another connection holds the write lock (the outbox's lanes and the
 * receiver's commit thread write to the same file): wait for it in short
 * steps, 50 us doubling up to 1 ms, for BUSY_TIMEOUT_MS at most.  SQLite's
 * own handler sleeps 1, 2, 5, 10 ms and more, which leaves the lock unused
 * for most of each wait when the holder's transactions are short.
 */
static int busy_wait(void *arg, int count)
{
	struct store *s = arg;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (count == 0)
		s->busy_since = now;
	else if ((now.tv_sec - s->busy_since.tv_sec) * 1000 +
		     (now.tv_nsec - s->busy_since.tv_nsec) / 1000000 >=
		 BUSY_TIMEOUT_MS)
		return 0;
	long us = count < 5 ? 50L << count : 1000;
	struct timespec d = {0, us * 1000};
	nanosleep(&d, NULL);
	return 1;
}

static int set_pragmas(struct store *s)
{
	sqlite3_stmt *st = NULL;
	int rc, ret;

	rc = sqlite3_busy_handler(s->db, busy_wait, s);
	if (rc != SQLITE_OK)
		return db_err(s, rc, "busy_handler");
	rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode=WAL", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_err(s, rc, "journal_mode");
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		ret = db_err(s, rc, "journal_mode");
		sqlite3_finalize(st);
		return ret;
	}
	{
		const unsigned char *mode = sqlite3_column_text(st, 0);
		if (mode == NULL || (strcmp((const char *)mode, "wal") != 0 &&
				     strcmp((const char *)mode, "memory") != 0))
			log_warning("store %s: journal mode is %s, not wal", s->path,
				    mode ? (const char *)mode : "?");
	}
	sqlite3_finalize(st);
	/* FULL in WAL mode: every COMMIT syncs the WAL before returning. */
	ret = exec_sql(s, "PRAGMA synchronous=FULL");
	if (ret == DS_OK)
		ret = exec_sql(s, "PRAGMA foreign_keys=ON");
	/* the savepoints of a batch (one per UPDATE) journal their pages in
	 * memory, not in a temporary file made and removed at each commit;
	 * the database and its WAL are written as before */
	if (ret == DS_OK)
		ret = exec_sql(s, "PRAGMA temp_store=MEMORY");
	return ret;
}

/*
 * Before SQLite's first use: no memory statistics (nothing reads them), so
 * that its allocations do not all take one process-wide mutex, which the
 * commit thread, the outbox lanes and the API would otherwise share.
 */
static void sqlite_setup(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int store_open(const char *path, struct store **out)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct store *s;
	int rc, ret;
	bool memory;

	if (path == NULL || out == NULL)
		return DS_EINVAL;
	pthread_once(&once, sqlite_setup);
	*out = NULL;
	memory = strcmp(path, ":memory:") == 0;
	if (!memory) {
		ret = prepare_path(path);
		if (ret != DS_OK)
			return ret;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return DS_ENOMEM;
	s->path = strdup(path);
	if (s->path == NULL) {
		free(s);
		return DS_ENOMEM;
	}
	rc = sqlite3_open_v2(
	    path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		log_err("store %s: open: %s", path,
			s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		store_close(s);
		return DS_ESTORE;
	}
	sqlite3_extended_result_codes(s->db, 1);
	ret = set_pragmas(s);
	if (ret == DS_OK)
		ret = migrate(s);
	for (int i = 0; ret == DS_OK && i < ST_COUNT; i++) {
		rc = sqlite3_prepare_v3(s->db, st_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i],
					NULL);
		if (rc != SQLITE_OK)
			ret = db_err(s, rc, st_sql[i]);
	}
	if (ret != DS_OK) {
		store_close(s);
		return ret;
	}
	*out = s;
	return DS_OK;
}

void store_close(struct store *s)
{
	if (s == NULL)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->st[i]);
	if (s->db != NULL) {
		/* An open transaction is rolled back by close; say so. */
		if (!sqlite3_get_autocommit(s->db))
			log_warning("store %s: closed with an open transaction (rolled back)",
				    s->path);
		if (sqlite3_close(s->db) != SQLITE_OK)
			log_err("store %s: close: %s", s->path, sqlite3_errmsg(s->db));
	}
	free(s->path);
	free(s);
}

int store_schema_version(struct store *s)
{
	return s->version;
}

/* ------------------------------------------------------------------ */
/* Transactions                                                        */
/* ------------------------------------------------------------------ */

int store_begin(struct store *s)
{
	return st_run(s, ST_BEGIN);
}

int store_commit(struct store *s)
{
	return st_run(s, ST_COMMIT);
}

int store_rollback(struct store *s)
{
	/* SQLite may already have rolled back (e.g. after an I/O error). */
	if (sqlite3_get_autocommit(s->db))
		return DS_OK;
	return st_run(s, ST_ROLLBACK);
}

int store_savepoint(struct store *s)
{
	return st_run(s, ST_SAVEPOINT);
}

int store_release(struct store *s)
{
	return st_run(s, ST_RELEASE);
}

int store_rollback_to(struct store *s)
{
	int ret = st_run(s, ST_ROLLBACK_TO);

	/* ROLLBACK TO keeps the savepoint open; close it so every savepoint
	 * ends with exactly one release or rollback_to. */
	if (ret == DS_OK)
		ret = st_run(s, ST_RELEASE);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Zones and children                                                  */
/* ------------------------------------------------------------------ */

/* Step a statement that yields at most one integer. */
static int step_id(struct store *s, sqlite3_stmt *st, int64_t *id, const char *what)
{
	int rc = sqlite3_step(st);
	int ret = DS_OK;

	if (rc == SQLITE_ROW) {
		if (id != NULL)
			*id = sqlite3_column_int64(st, 0);
	} else if (rc == SQLITE_DONE) {
		ret = DS_ENOENT;
	} else {
		ret = db_err(s, rc, what);
	}
	st_done(st);
	return ret;
}

static int zone_find_canon(struct store *s, const struct name_forms *z, int64_t *zone_id)
{
	sqlite3_stmt *st = st_get(s, ST_ZONE_FIND);
	int ret = bind_check(s, st, bind_blob(st, 1, z->canon, z->len), "zone find");

	if (ret != DS_OK)
		return ret;
	return step_id(s, st, zone_id, "zone find");
}

int store_zone_find(struct store *s, const uint8_t *zone, int64_t *zone_id)
{
	struct name_forms z;
	int ret = name_forms(zone, &z);

	if (ret != DS_OK)
		return ret;
	return zone_find_canon(s, &z, zone_id);
}

int store_zone_ensure(struct store *s, const uint8_t *zone, int64_t *zone_id)
{
	struct name_forms z;
	sqlite3_stmt *st;
	int ret = name_forms(zone, &z);

	if (ret != DS_OK)
		return ret;
	ret = zone_find_canon(s, &z, zone_id);
	if (ret != DS_ENOENT)
		return ret;
	st = st_get(s, ST_ZONE_INSERT);
	ret = bind_exec(s, st, bind_blob(st, 1, z.canon, z.len) | bind_text(st, 2, z.text),
			"zone insert");
	if (ret == DS_OK && zone_id != NULL)
		*zone_id = sqlite3_last_insert_rowid(s->db);
	return ret;
}

static int child_find_canon(struct store *s, int64_t zone_id, const struct name_forms *c,
			    int64_t *child_id)
{
	sqlite3_stmt *st = st_get(s, ST_CHILD_FIND);
	int ret = bind_check(
	    s, st, sqlite3_bind_int64(st, 1, zone_id) | bind_blob(st, 2, c->canon, c->len),
	    "child find");

	if (ret != DS_OK)
		return ret;
	return step_id(s, st, child_id, "child find");
}

int store_child_find(struct store *s, int64_t zone_id, const uint8_t *child, int64_t *child_id)
{
	struct name_forms c;
	int ret = name_forms(child, &c);

	if (ret != DS_OK)
		return ret;
	return child_find_canon(s, zone_id, &c, child_id);
}

int store_child_ensure(struct store *s, int64_t zone_id, const uint8_t *child, int64_t *child_id)
{
	struct name_forms c;
	sqlite3_stmt *st;
	int ret = name_forms(child, &c);

	if (ret != DS_OK)
		return ret;
	ret = child_find_canon(s, zone_id, &c, child_id);
	if (ret != DS_ENOENT)
		return ret;
	st = st_get(s, ST_CHILD_INSERT);
	ret = bind_exec(s, st,
			sqlite3_bind_int64(st, 1, zone_id) | bind_blob(st, 2, c.canon, c.len) |
			    bind_blob(st, 3, c.key, c.keylen) | bind_text(st, 4, c.text) |
			    sqlite3_bind_int64(st, 5, now_s()),
			"child insert");
	if (ret == DS_OK && child_id != NULL)
		*child_id = sqlite3_last_insert_rowid(s->db);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Delegation data                                                     */
/* ------------------------------------------------------------------ */

/* Fill a drr from columns owner, type, ttl, rdata starting at col. */
static int col_drr(struct store *s, sqlite3_stmt *st, int col, struct drr *r)
{
	const void *rd;
	size_t rdlen;
	int ret;

	memset(r, 0, sizeof(*r));
	ret = col_name(s, st, col, r->owner);
	if (ret != DS_OK)
		return ret;
	r->type = (uint16_t)sqlite3_column_int(st, col + 1);
	r->ttl = (uint32_t)sqlite3_column_int64(st, col + 2);
	rd = sqlite3_column_blob(st, col + 3);
	rdlen = (size_t)sqlite3_column_bytes(st, col + 3);
	if (rdlen > DRR_RDATA_MAX) {
		log_err("store %s: stored rdata too long (%zu)", s->path, rdlen);
		return DS_ESTORE;
	}
	if (rdlen > 0)
		memcpy(r->rdata, rd, rdlen);
	r->rdlen = (uint16_t)rdlen;
	return DS_OK;
}

struct deleg_load {
	struct deleg *out;
	int64_t child_id;
};

static int deleg_row(struct store *s, sqlite3_stmt *st, void *ctx)
{
	struct deleg_load *l = ctx;
	int ret;

	if (l->out->n >= DELEG_MAX) {
		log_err("store %s: child %lld has more than %d records", s->path,
			(long long)l->child_id, DELEG_MAX);
		return DS_ELIMIT;
	}
	ret = col_drr(s, st, 0, &l->out->rr[l->out->n]);
	if (ret == DS_OK)
		l->out->n++;
	return ret;
}

int store_deleg_load(struct store *s, int64_t child_id, struct deleg *out)
{
	sqlite3_stmt *st = st_get(s, ST_DELEG_LOAD);
	struct deleg_load l = {.out = out, .child_id = child_id};
	int ret;

	out->n = 0;
	ret = bind_check(s, st, sqlite3_bind_int64(st, 1, child_id), "deleg load");
	if (ret != DS_OK)
		return ret;
	ret = rows_each(s, st, deleg_row, &l, "deleg load");
	if (ret != DS_OK)
		out->n = 0;
	return ret;
}

static int deleg_insert(struct store *s, int64_t child_id, const struct drr *r)
{
	struct name_forms o;
	uint8_t rcanon[DRR_RDATA_MAX];
	char rtext[RDATA_TEXT_MAX];
	sqlite3_stmt *st;
	int ret;

	if (r->rdlen > DRR_RDATA_MAX)
		return DS_EINVAL;
	ret = name_forms(r->owner, &o);
	if (ret == DS_OK) /* operators see the owner as received */
		ret = dname_to_str(r->owner, o.text, sizeof(o.text));
	if (ret != DS_OK)
		return ret;
	if (r->rdlen > 0)
		memcpy(rcanon, r->rdata, r->rdlen);
	if (r->type == T_NS) {
		/* RFC 4034 6.2: the NS target in lower case. */
		if (!wire_name_ok(r->rdata, r->rdlen))
			return DS_EMALF;
		dname_lower(rcanon, r->rdata);
	}
	ret = rr_rdata_to_str(r->type, r->rdata, r->rdlen, rtext, sizeof(rtext));
	if (ret != DS_OK)
		return ret;
	st = st_get(s, ST_DELEG_INSERT);
	/* rdata is kept only when it differs from its canonical form (v7) */
	int rc = r->rdlen > 0 && memcmp(r->rdata, rcanon, r->rdlen) != 0
		     ? bind_blob(st, 7, r->rdata, r->rdlen)
		     : sqlite3_bind_null(st, 7);
	return bind_exec(s, st,
			 rc | sqlite3_bind_int64(st, 1, child_id) |
			     bind_blob(st, 2, r->owner, dname_len(r->owner)) |
			     bind_blob(st, 3, o.key, o.keylen) | bind_text(st, 4, o.text) |
			     sqlite3_bind_int(st, 5, r->type) | sqlite3_bind_int64(st, 6, r->ttl) |
			     bind_blob(st, 8, rcanon, r->rdlen) | bind_text(st, 9, rtext),
			 "deleg insert");
}

int store_deleg_write(struct store *s, int64_t child_id, const struct deleg *d)
{
	sqlite3_stmt *st;
	int ret;

	if (d->n > DELEG_MAX)
		return DS_EINVAL;
	/* Delete + inserts are one unit even when the caller has no
	 * transaction open. */
	ret = st_run(s, ST_W_SAVEPOINT);
	if (ret != DS_OK)
		return ret;
	st = st_get(s, ST_DELEG_DELETE);
	ret = bind_exec(s, st, sqlite3_bind_int64(st, 1, child_id), "deleg delete");
	for (size_t i = 0; ret == DS_OK && i < d->n; i++)
		ret = deleg_insert(s, child_id, &d->rr[i]);
	if (ret == DS_OK) {
		st = st_get(s, ST_CHILD_TOUCH);
		ret = bind_exec(
		    s, st, sqlite3_bind_int64(st, 1, child_id) | sqlite3_bind_int64(st, 2, now_s()),
		    "child touch");
	}
	return w_finish(s, ret);
}

int store_deleg_change(struct store *s, const uint8_t *zone, const uint8_t *child, int64_t child_id,
		       const struct deleg *next, const char *changes, const char *const *backends,
		       size_t nbackends, int64_t now, int64_t *change_id)
{
	/* the delegation and its outbox rows are one unit */
	int ret = st_run(s, ST_W_SAVEPOINT);

	if (ret != DS_OK)
		return ret;
	ret = next != NULL ? store_deleg_write(s, child_id, next) : store_child_delete(s, child_id);
	if (ret == DS_OK)
		ret =
		    store_outbox_add(s, zone, child, changes, backends, nbackends, now, change_id);
	return w_finish(s, ret);
}

int store_child_delete(struct store *s, int64_t child_id)
{
	sqlite3_stmt *st = st_get(s, ST_CHILD_DELETE);
	/* sqlite3_changes() counts the child only, never the cascaded rows. */
	return bind_exec_one(s, st, sqlite3_bind_int64(st, 1, child_id), "child delete");
}

static int zone_deleg_row(struct store *s, sqlite3_stmt *st, void *ctx)
{
	const struct walk *w = ctx;
	uint8_t child[DNAME_MAX];
	struct drr r;
	int ret = col_name(s, st, 0, child);

	if (ret == DS_OK)
		ret = col_drr(s, st, 1, &r);
	return ret == DS_OK ? w->cb.rr(w->arg, child, &r) : ret;
}

int store_zone_deleg_foreach(struct store *s, const uint8_t *zone, store_rr_cb cb, void *arg)
{
	struct name_forms z;
	struct walk w = {.cb.rr = cb, .arg = arg};
	sqlite3_stmt *st;
	int ret = name_forms(zone, &z);

	if (ret != DS_OK)
		return ret;
	st = st_get(s, ST_ZONE_DELEG);
	ret = bind_check(s, st, bind_blob(st, 1, z.canon, z.len), "zone deleg");
	return ret == DS_OK ? rows_each(s, st, zone_deleg_row, &w, "zone deleg") : ret;
}

/* ------------------------------------------------------------------ */
/* Keys                                                                */
/* ------------------------------------------------------------------ */

static const char *const key_state_names[] = {
    [KEY_KNOWN] = "known",     [KEY_VALIDATING] = "validating",
    [KEY_TRUSTED] = "trusted", [KEY_VALIDATION_FAILED] = "validation-failed",
    [KEY_REFUSED] = "refused", [KEY_REVOKED] = "revoked",
};
#define KEY_STATES (sizeof(key_state_names) / sizeof(key_state_names[0]))

const char *store_key_state_str(enum key_state st)
{
	if ((unsigned)st < KEY_STATES)
		return key_state_names[st];
	return "unknown";
}

static int key_state_from_str(const char *t, enum key_state *st)
{
	for (size_t i = 0; t != NULL && i < KEY_STATES; i++) {
		if (strcmp(t, key_state_names[i]) == 0) {
			*st = (enum key_state)i;
			return DS_OK;
		}
	}
	return DS_ESTORE;
}

int store_key_upsert(struct store *s, struct store_key *k)
{
	char b64[KEY_B64_MAX];
	char method[sizeof(k->trust_method)], source[sizeof(k->source)];
	sqlite3_stmt *st;
	int64_t now;
	int n, rc, ret;

	/* KEY RDATA: flags(2) protocol(1) algorithm(1) public key. */
	if (k->rdlen < 4 || k->rdlen > sizeof(k->rdata) || (unsigned)k->state >= KEY_STATES)
		return DS_EINVAL;
	n = b64_encode(k->rdata + 4, k->rdlen - 4u, b64, sizeof(b64));
	if (n < 0)
		return n;
	/* The struct's strings are fixed buffers: never read past them. */
	snprintf(method, sizeof(method), "%.*s", (int)sizeof(k->trust_method) - 1, k->trust_method);
	snprintf(source, sizeof(source), "%.*s", (int)sizeof(k->source) - 1, k->source);
	now = k->updated ? k->updated : now_s();
	st = st_get(s, ST_KEY_UPSERT);
	ret = bind_check(s, st,
			 sqlite3_bind_int64(st, 1, k->child_id) | sqlite3_bind_int(st, 2, k->alg) |
			     sqlite3_bind_int(st, 3, k->tag) | sqlite3_bind_int(st, 4, k->flags) |
			     bind_blob(st, 5, k->rdata, k->rdlen) | bind_text(st, 6, b64) |
			     bind_text(st, 7, key_state_names[k->state]) |
			     bind_text(st, 8, method) | bind_text(st, 9, source) |
			     sqlite3_bind_int64(st, 10, k->created ? k->created : now) |
			     sqlite3_bind_int64(st, 11, now),
			 "key upsert");
	if (ret != DS_OK)
		return ret;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		k->id = sqlite3_column_int64(st, 0);
		k->created = sqlite3_column_int64(st, 1);
		k->updated = now;
		rc = sqlite3_step(st); /* run to completion */
	}
	if (rc != SQLITE_DONE)
		ret = db_err(s, rc, "key upsert");
	st_done(st);
	return ret;
}

int store_key_set_state(struct store *s, int64_t key_id, enum key_state state, const char *method)
{
	sqlite3_stmt *st = st_get(s, ST_KEY_SET_STATE);

	if ((unsigned)state >= KEY_STATES)
		return DS_EINVAL;
	return bind_exec_one(s, st,
			     sqlite3_bind_int64(st, 1, key_id) |
				 bind_text(st, 2, key_state_names[state]) |
				 bind_text(st, 3, method) | sqlite3_bind_int64(st, 4, now_s()),
			     "key set state");
}

/* A row of a key SELECT (the column order of ST_KEYS_ALL) into *k. */
static int key_from_row(struct store *s, sqlite3_stmt *st, struct store_key *k)
{
	const void *rd = sqlite3_column_blob(st, 7);
	size_t rdlen = (size_t)sqlite3_column_bytes(st, 7);
	int ret;

	memset(k, 0, sizeof(*k));
	k->id = sqlite3_column_int64(st, 0);
	k->child_id = sqlite3_column_int64(st, 1);
	ret = col_names(s, st, 2, k->zone, k->owner);
	if (ret != DS_OK)
		return ret;
	if (rdlen > sizeof(k->rdata)) {
		log_err("store %s: key %lld rdata too long", s->path, (long long)k->id);
		return DS_ESTORE;
	}
	k->alg = (uint8_t)sqlite3_column_int(st, 4);
	k->tag = (uint16_t)sqlite3_column_int(st, 5);
	k->flags = (uint16_t)sqlite3_column_int(st, 6);
	if (rdlen > 0)
		memcpy(k->rdata, rd, rdlen);
	k->rdlen = (uint16_t)rdlen;
	ret = key_state_from_str((const char *)sqlite3_column_text(st, 8), &k->state);
	if (ret != DS_OK) {
		log_err("store %s: key %lld has an unknown state", s->path, (long long)k->id);
		return ret;
	}
	col_text(st, 9, k->trust_method, sizeof(k->trust_method));
	col_text(st, 10, k->source, sizeof(k->source));
	k->created = sqlite3_column_int64(st, 11);
	k->updated = sqlite3_column_int64(st, 12);
	col_text(st, 13, k->validation, sizeof(k->validation));
	return DS_OK;
}

struct key_walk {
	struct walk w;
	struct store_key *k; /* one row's room, on the heap: the struct is large */
};

static int key_row(struct store *s, sqlite3_stmt *st, void *ctx)
{
	struct key_walk *kw = ctx;
	int ret = key_from_row(s, st, kw->k);

	return ret == DS_OK ? kw->w.cb.key(kw->w.arg, kw->k) : ret;
}

/* Walk the rows of a prepared key SELECT (the column order of ST_KEYS_ALL). */
static int keys_walk(struct store *s, sqlite3_stmt *st, store_key_cb cb, void *arg)
{
	struct key_walk kw = {.w = {.cb.key = cb, .arg = arg}, .k = malloc(sizeof(*kw.k))};
	int ret;

	if (kw.k == NULL)
		return DS_ENOMEM;
	ret = rows_each(s, st, key_row, &kw, "keys foreach");
	free(kw.k);
	return ret;
}

int store_keys_foreach(struct store *s, store_key_cb cb, void *arg)
{
	return keys_walk(s, st_get(s, ST_KEYS_ALL), cb, arg);
}

int store_child_keys_foreach(struct store *s, int64_t child_id, store_key_cb cb, void *arg)
{
	sqlite3_stmt *st = st_get(s, ST_KEYS_CHILD);
	int ret = bind_check(s, st, sqlite3_bind_int64(st, 1, child_id), "child keys");
	return ret == DS_OK ? keys_walk(s, st, cb, arg) : ret;
}

static int key_one(void *arg, const struct store_key *k)
{
	*(struct store_key *)arg = *k;
	return 1;
}

int store_key_get(struct store *s, int64_t key_id, struct store_key *out)
{
	sqlite3_stmt *st = st_get(s, ST_KEY_GET);
	int ret = bind_check(s, st, sqlite3_bind_int64(st, 1, key_id), "key get");
	if (ret == DS_OK)
		ret = keys_walk(s, st, key_one, out);
	return ret == 1 ? DS_OK : ret == DS_OK ? DS_ENOENT : ret;
}

static int count_query(struct store *s, enum st_id i, int64_t *n, bool null_is_enoent)
{
	sqlite3_stmt *st = st_get(s, i);
	int rc = sqlite3_step(st);
	int ret = DS_OK;

	if (rc == SQLITE_ROW) {
		if (null_is_enoent && sqlite3_column_type(st, 0) == SQLITE_NULL)
			ret = DS_ENOENT;
		else
			*n = sqlite3_column_int64(st, 0);
	} else {
		ret = db_err(s, rc, st_sql[i]);
	}
	st_done(st);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Bootstrap validations                                               */
/* ------------------------------------------------------------------ */

int store_validation_queue(struct store *s, int64_t key_id, int64_t now)
{
	sqlite3_stmt *st = st_get(s, ST_VAL_QUEUE);
	return bind_exec(s, st, sqlite3_bind_int64(st, 1, key_id) | sqlite3_bind_int64(st, 2, now),
			 "validation queue");
}

int store_validation_update(struct store *s, const struct store_validation *v)
{
	sqlite3_stmt *st = st_get(s, ST_VAL_UPDATE);
	return bind_exec_one(s, st,
			     sqlite3_bind_int64(st, 1, v->key_id) |
				 (v->next_at < 0 ? sqlite3_bind_null(st, 2)
						 : sqlite3_bind_int64(st, 2, v->next_at)) |
				 sqlite3_bind_int(st, 3, (int)v->attempts) |
				 sqlite3_bind_int(st, 4, (int)v->rounds) |
				 sqlite3_bind_int64(st, 5, v->updated) |
				 bind_text(st, 6, v->last_result) | bind_text(st, 7, v->methods),
			     "validation update");
}

/* An integer column (a time, a key tag), -1 for SQL NULL. */
static int64_t col_time(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, col);
}

static void val_row(sqlite3_stmt *st, struct store_validation *v)
{
	const unsigned char *t = sqlite3_column_text(st, 6);
	memset(v, 0, sizeof(*v));
	v->key_id = sqlite3_column_int64(st, 0);
	v->next_at = col_time(st, 1);
	v->attempts = (unsigned)sqlite3_column_int(st, 2);
	v->rounds = (unsigned)sqlite3_column_int(st, 3);
	v->started = sqlite3_column_int64(st, 4);
	v->updated = sqlite3_column_int64(st, 5);
	snprintf(v->last_result, sizeof(v->last_result), "%s", t ? (const char *)t : "");
	col_text(st, 7, v->methods, sizeof(v->methods));
}

int store_validation_get(struct store *s, int64_t key_id, struct store_validation *out)
{
	sqlite3_stmt *st = st_get(s, ST_VAL_GET);
	int ret = bind_check(s, st, sqlite3_bind_int64(st, 1, key_id), "validation get");
	if (ret != DS_OK)
		return ret;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		val_row(st, out);
	else
		ret = rc == SQLITE_DONE ? DS_ENOENT : db_err(s, rc, "validation get");
	st_done(st);
	return ret;
}

int store_validation_due(struct store *s, int64_t now, size_t max, struct store_validation *out,
			 size_t *n)
{
	sqlite3_stmt *st = st_get(s, ST_VAL_DUE);
	int ret = bind_check(
	    s, st, sqlite3_bind_int64(st, 1, now) | sqlite3_bind_int64(st, 2, (int64_t)max),
	    "validation due");
	int rc = SQLITE_DONE;
	*n = 0;
	if (ret != DS_OK)
		return ret;
	while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW)
		val_row(st, &out[(*n)++]);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = db_err(s, rc, "validation due");
	st_done(st);
	return ret;
}

int store_validation_pending(struct store *s, int64_t *n)
{
	return count_query(s, ST_VAL_PENDING, n, false);
}

int store_validation_next_time(struct store *s, int64_t *when)
{
	return count_query(s, ST_VAL_NEXT, when, true);
}

/* ------------------------------------------------------------------ */
/* Audit                                                               */
/* ------------------------------------------------------------------ */

int store_audit_add(struct store *s, const struct audit_rec *a)
{
	sqlite3_stmt *st = st_get(s, ST_AUDIT_ADD);

	return bind_exec(
	    s, st,
	    sqlite3_bind_int64(st, 1, a->time) | bind_text(st, 2, a->client) |
		bind_text(st, 3, a->zone) | bind_text(st, 4, a->child) |
		(a->key_tag < 0 ? sqlite3_bind_null(st, 5) : sqlite3_bind_int(st, 5, a->key_tag)) |
		bind_text(st, 6, a->actor) | bind_text(st, 7, a->request) |
		bind_text(st, 8, a->result) | sqlite3_bind_int(st, 9, a->rcode) |
		bind_text(st, 10, a->reason),
	    "audit add");
}

int store_audit_count(struct store *s, int64_t *n)
{
	return count_query(s, ST_AUDIT_COUNT, n, false);
}

/* ------------------------------------------------------------------ */
/* Outbox                                                              */
/* ------------------------------------------------------------------ */

int store_outbox_add(struct store *s, const uint8_t *zone, const uint8_t *child,
		     const char *changes, const char *const *backends, size_t nbackends,
		     int64_t now, int64_t *change_id)
{
	struct name_forms z, c;
	sqlite3_stmt *st;
	int64_t id;
	int ret;

	if (changes == NULL || (nbackends > 0 && backends == NULL))
		return DS_EINVAL;
	for (size_t i = 0; i < nbackends; i++) {
		/* Must fit outbox_item.backend when read back. */
		if (backends[i] == NULL || strlen(backends[i]) >= OUTBOX_BACKEND_MAX)
			return DS_EINVAL;
	}
	ret = name_forms(zone, &z);
	if (ret == DS_OK)
		ret = name_forms(child, &c);
	if (ret != DS_OK)
		return ret;
	/* Change + deliveries are one unit even outside a transaction. */
	ret = st_run(s, ST_W_SAVEPOINT);
	if (ret != DS_OK)
		return ret;
	st = st_get(s, ST_OUTBOX_ADD);
	ret = bind_exec(s, st,
			bind_blob(st, 1, z.canon, z.len) | bind_text(st, 2, z.text) |
			    bind_blob(st, 3, c.canon, c.len) | bind_text(st, 4, c.text) |
			    bind_text(st, 5, changes) | sqlite3_bind_int64(st, 6, now),
			"outbox add");
	id = sqlite3_last_insert_rowid(s->db);
	for (size_t i = 0; ret == DS_OK && i < nbackends; i++) {
		st = st_get(s, ST_DELIVERY_ADD);
		ret = bind_exec(s, st,
				sqlite3_bind_int64(st, 1, id) | bind_text(st, 2, backends[i]) |
				    sqlite3_bind_int64(st, 3, now),
				"delivery add");
	}
	ret = w_finish(s, ret);
	if (ret == DS_OK && change_id != NULL)
		*change_id = id;
	return ret;
}

void store_outbox_items_free(struct outbox_item *items, size_t n)
{
	if (items == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(items[i].changes);
	free(items);
}

/* The due items read so far. */
struct outbox_due {
	struct outbox_item *v;
	size_t n, cap;
};

static int outbox_row(struct store *s, sqlite3_stmt *st, void *ctx)
{
	struct outbox_due *o = ctx;
	struct outbox_item *it;
	const unsigned char *ch;
	int ret;

	struct outbox_item *nv = vec_grow(o->v, &o->cap, o->n + 1, sizeof(*nv), 16);
	if (nv == NULL)
		return DS_ENOMEM;
	o->v = nv;
	it = &o->v[o->n];
	memset(it, 0, sizeof(*it));
	ret = col_names(s, st, 2, it->zone, it->child);
	if (ret != DS_OK)
		return ret; /* not counted: the caller never looks at it */
	it->delivery_id = sqlite3_column_int64(st, 0);
	it->change_id = sqlite3_column_int64(st, 1);
	col_text(st, 4, it->backend, sizeof(it->backend));
	ch = sqlite3_column_text(st, 5);
	it->changes = strdup(ch ? (const char *)ch : "");
	if (it->changes == NULL)
		return DS_ENOMEM;
	it->attempts = sqlite3_column_int(st, 6);
	it->created = sqlite3_column_int64(st, 7);
	it->next_attempt = sqlite3_column_int64(st, 8);
	o->n++;
	return DS_OK;
}

/* Read the items of a bound outbox SELECT (ret: the binding's result). */
static int outbox_items(struct store *s, sqlite3_stmt *st, int ret, struct outbox_item **items,
			size_t *n)
{
	struct outbox_due o = {0};

	if (ret == DS_OK)
		ret = rows_each(s, st, outbox_row, &o, "outbox due");
	if (ret != DS_OK) {
		store_outbox_items_free(o.v, o.n);
		return ret;
	}
	*items = o.v;
	*n = o.n;
	return DS_OK;
}

int store_outbox_due(struct store *s, int64_t now, size_t max, struct outbox_item **items,
		     size_t *n)
{
	sqlite3_stmt *st = st_get(s, ST_OUTBOX_DUE);

	*items = NULL;
	*n = 0;
	if (max == 0)
		return DS_OK;
	return outbox_items(
	    s, st,
	    bind_check(s, st,
		       sqlite3_bind_int64(st, 1, now) | sqlite3_bind_int64(st, 2, page_limit(max)),
		       "outbox due"),
	    items, n);
}

/* Bind a pair: the zone's canonical wire form as ?1, the backend as ?2. */
static int bind_pair(struct store *s, sqlite3_stmt *st, const uint8_t *zone, const char *backend,
		     int rc, const char *what)
{
	struct name_forms z;
	int ret = name_forms(zone, &z);

	if (ret != DS_OK || backend == NULL) {
		st_done(st);
		return ret != DS_OK ? ret : DS_EINVAL;
	}
	return bind_check(s, st, rc | bind_blob(st, 1, z.canon, z.len) | bind_text(st, 2, backend),
			  what);
}

int store_outbox_pair(struct store *s, const uint8_t *zone, const char *backend, size_t max,
		      struct outbox_item **items, size_t *n)
{
	sqlite3_stmt *st = st_get(s, ST_OUTBOX_PAIR);

	*items = NULL;
	*n = 0;
	if (max == 0) {
		st_done(st);
		return DS_OK;
	}
	return outbox_items(s, st,
			    bind_pair(s, st, zone, backend,
				      sqlite3_bind_int64(st, 3, page_limit(max)), "outbox pair"),
			    items, n);
}

int store_backend_result(struct store *s, const uint8_t *zone, const char *backend, int64_t now,
			 const char *error)
{
	sqlite3_stmt *st = st_get(s, ST_PAIR_RESULT);
	int rc = error == NULL ? sqlite3_bind_int64(st, 3, now) : sqlite3_bind_int64(st, 4, now);
	int ret = bind_pair(s, st, zone, backend, rc | bind_text(st, 5, error), "backend result");

	return ret == DS_OK ? st_exec(s, st, "backend result") : ret;
}

struct pair_walk {
	store_pair_cb cb;
	void *arg;
};

static int pending_pair_row(struct store *s, sqlite3_stmt *st, void *ctx)
{
	struct pair_walk *w = ctx;
	uint8_t zone[DNAME_MAX];
	char backend[OUTBOX_BACKEND_MAX];
	int ret = col_name(s, st, 0, zone);

	col_text(st, 1, backend, sizeof(backend));
	return ret == DS_OK ? w->cb(w->arg, zone, backend, sqlite3_column_int64(st, 2)) : ret;
}

int store_outbox_pending_pairs(struct store *s, store_pair_cb cb, void *arg)
{
	struct pair_walk w = {.cb = cb, .arg = arg};

	return rows_each(s, st_get(s, ST_PENDING_PAIRS), pending_pair_row, &w, "pending pairs");
}

static int pair_pending_row(struct store *s, sqlite3_stmt *st, void *ctx)
{
	struct delivery_status *d = ctx;

	(void)s;
	d->pending = sqlite3_column_int64(st, 0);
	if (d->pending > 0) {
		d->oldest_attempts = sqlite3_column_int(st, 2);
		d->oldest_next_attempt = sqlite3_column_int64(st, 3);
		d->oldest_created = sqlite3_column_int64(st, 4);
	}
	return DS_OK;
}

static int pair_status_row(struct store *s, sqlite3_stmt *st, void *ctx)
{
	struct delivery_status *d = ctx;

	(void)s;
	d->last_success = col_time(st, 0);
	d->last_failure = col_time(st, 1);
	col_text(st, 2, d->last_error, sizeof(d->last_error));
	return DS_OK;
}

int store_delivery_status(struct store *s, const uint8_t *zone, const char *backend,
			  struct delivery_status *out)
{
	sqlite3_stmt *st = st_get(s, ST_PAIR_PENDING);
	int ret = bind_pair(s, st, zone, backend, SQLITE_OK, "delivery status");

	memset(out, 0, sizeof(*out));
	out->oldest_created = out->oldest_next_attempt = -1;
	out->last_success = out->last_failure = -1;
	if (ret == DS_OK)
		ret = rows_each(s, st, pair_pending_row, out, "delivery status");
	if (ret != DS_OK)
		return ret;
	st = st_get(s, ST_PAIR_STATUS);
	ret = bind_pair(s, st, zone, backend, SQLITE_OK, "delivery status");
	return ret == DS_OK ? rows_each(s, st, pair_status_row, out, "delivery status") : ret;
}

int store_delivery_done(struct store *s, int64_t delivery_id, int64_t now)
{
	sqlite3_stmt *st = st_get(s, ST_DELIVERY_DONE);
	return bind_exec_one(
	    s, st, sqlite3_bind_int64(st, 1, delivery_id) | sqlite3_bind_int64(st, 2, now),
	    "delivery done");
}

int store_delivery_failed(struct store *s, int64_t delivery_id, int64_t now, int64_t next_attempt,
			  const char *error)
{
	sqlite3_stmt *st = st_get(s, ST_DELIVERY_FAILED);
	return bind_exec_one(s, st,
			     sqlite3_bind_int64(st, 1, delivery_id) |
				 sqlite3_bind_int64(st, 2, now) |
				 sqlite3_bind_int64(st, 3, next_attempt) | bind_text(st, 4, error),
			     "delivery failed");
}

int store_outbox_next_time(struct store *s, int64_t *when)
{
	return count_query(s, ST_OUTBOX_NEXT, when, true);
}

int store_outbox_pending(struct store *s, int64_t *n)
{
	return count_query(s, ST_OUTBOX_PENDING, n, false);
}

/* ------------------------------------------------------------------ */
/* Replay cache                                                        */
/* ------------------------------------------------------------------ */

int store_replay_add(struct store *s, const uint8_t digest[32], int64_t expires, int rcode)
{
	sqlite3_stmt *st = st_get(s, ST_REPLAY_ADD);
	return bind_exec(s, st,
			 bind_blob(st, 1, digest, 32) | sqlite3_bind_int64(st, 2, expires) |
			     sqlite3_bind_int(st, 3, rcode),
			 "replay add");
}

static int replay_row(struct store *s, sqlite3_stmt *st, void *ctx)
{
	const struct walk *w = ctx;
	uint8_t digest[32];
	const void *p = sqlite3_column_blob(st, 0);

	if (p == NULL || sqlite3_column_bytes(st, 0) != 32) {
		log_err("store %s: corrupt replay digest", s->path);
		return DS_ESTORE;
	}
	memcpy(digest, p, 32);
	return w->cb.replay(w->arg, digest, sqlite3_column_int64(st, 1), sqlite3_column_int(st, 2));
}

int store_replay_foreach(struct store *s, int64_t now, store_replay_cb cb, void *arg)
{
	sqlite3_stmt *st = st_get(s, ST_REPLAY_ALL);
	struct walk w = {.cb.replay = cb, .arg = arg};
	int ret = bind_check(s, st, sqlite3_bind_int64(st, 1, now), "replay foreach");

	return ret == DS_OK ? rows_each(s, st, replay_row, &w, "replay foreach") : ret;
}

int store_replay_purge(struct store *s, int64_t now)
{
	sqlite3_stmt *st = st_get(s, ST_REPLAY_PURGE);
	return bind_exec(s, st, sqlite3_bind_int64(st, 1, now), "replay purge");
}

int store_history_purge(struct store *s, int64_t before, int64_t max, int64_t *naudit,
			int64_t *nchanges)
{
	sqlite3_stmt *st = st_get(s, ST_AUDIT_PURGE);
	int ret = bind_check(s, st, sqlite3_bind_int64(st, 1, before), "audit purge");
	if (ret == DS_OK)
		ret = bind_exec(s, st, sqlite3_bind_int64(st, 2, max), "audit purge");
	if (ret != DS_OK)
		return ret;
	*naudit = sqlite3_changes(s->db);
	st = st_get(s, ST_CHANGES_PURGE);
	ret = bind_check(s, st, sqlite3_bind_int64(st, 1, before), "outbox purge");
	if (ret == DS_OK)
		ret = bind_exec(s, st, sqlite3_bind_int64(st, 2, max), "outbox purge");
	if (ret == DS_OK)
		*nchanges = sqlite3_changes(s->db);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Admin API: key removal, key counts, pages                           */
/* ------------------------------------------------------------------ */

int store_key_delete(struct store *s, int64_t key_id)
{
	sqlite3_stmt *st = st_get(s, ST_KEY_DELETE);
	/* sqlite3_changes() counts the key only, never the cascaded row. */
	return bind_exec_one(s, st, sqlite3_bind_int64(st, 1, key_id), "key delete");
}

_Static_assert(KEY_STATES == KEY_REVOKED + 1, "store_key_counts fills every state");

static int key_count_row(struct store *s, sqlite3_stmt *st, void *ctx)
{
	int64_t *counts = ctx;
	enum key_state ks;
	int ret = key_state_from_str((const char *)sqlite3_column_text(st, 0), &ks);

	if (ret != DS_OK) {
		log_err("store %s: a key has an unknown state", s->path);
		return ret;
	}
	counts[ks] = sqlite3_column_int64(st, 1);
	return DS_OK;
}

int store_key_counts(struct store *s, int64_t counts[KEY_REVOKED + 1])
{
	for (size_t i = 0; i < KEY_STATES; i++)
		counts[i] = 0;
	return rows_each(s, st_get(s, ST_KEY_COUNTS), key_count_row, counts, "key counts");
}

/* A page size as SQL LIMIT (a signed 64-bit integer). */

/* A text column, NULL for SQL NULL; valid until the next step or reset. */
static const char *col_str(sqlite3_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(st, col);
}

static int child_row(struct store *s, sqlite3_stmt *st, void *ctx)
{
	const struct walk *w = ctx;
	struct store_child_row c;
	int ret;

	memset(&c, 0, sizeof(c));
	c.id = sqlite3_column_int64(st, 0);
	ret = col_name(s, st, 1, c.name);
	if (ret != DS_OK)
		return ret;
	c.created = sqlite3_column_int64(st, 2);
	c.updated = sqlite3_column_int64(st, 3);
	return w->cb.child(w->arg, &c);
}

int store_children_page(struct store *s, const uint8_t *zone, const uint8_t *after, size_t limit,
			store_child_cb cb, void *arg)
{
	struct name_forms z, a;
	struct walk w = {.cb.child = cb, .arg = arg};
	sqlite3_stmt *st;
	int64_t zid;
	int ret = name_forms(zone, &z);

	if (ret == DS_OK && after != NULL)
		ret = name_forms(after, &a);
	if (ret == DS_OK)
		ret = zone_find_canon(s, &z, &zid);
	if (ret != DS_OK)
		return ret;
	st = st_get(s, ST_CHILDREN_PAGE);
	/* The cursor is compared as a sort key, like the rows' own. */
	ret = bind_check(s, st,
			 sqlite3_bind_int64(st, 1, zid) |
			     (after != NULL ? bind_blob(st, 2, a.key, a.keylen)
					    : sqlite3_bind_zeroblob(st, 2, 0)) |
			     sqlite3_bind_int64(st, 3, page_limit(limit)),
			 "children page");
	return ret == DS_OK ? rows_each(s, st, child_row, &w, "children page") : ret;
}

static int val_page_row(struct store *s, sqlite3_stmt *st, void *ctx)
{
	const struct walk *w = ctx;
	struct store_validation v;

	(void)s;
	val_row(st, &v);
	return w->cb.val(w->arg, &v);
}

int store_validations_page(struct store *s, int64_t after_next_at, int64_t after_key_id,
			   size_t limit, store_validation_cb cb, void *arg)
{
	sqlite3_stmt *st = st_get(s, ST_VAL_PAGE);
	struct walk w = {.cb.val = cb, .arg = arg};
	int ret;

	/* Key ids are positive: (INT64_MIN, 0) is before every row. */
	ret = bind_check(s, st,
			 sqlite3_bind_int64(st, 1, after_key_id != 0 ? after_next_at : INT64_MIN) |
			     sqlite3_bind_int64(st, 2, after_key_id) |
			     sqlite3_bind_int64(st, 3, page_limit(limit)),
			 "validations page");
	return ret == DS_OK ? rows_each(s, st, val_page_row, &w, "validations page") : ret;
}

static int waiting_row(struct store *s, sqlite3_stmt *st, void *ctx)
{
	const struct walk *w = ctx;
	struct store_waiting *r = malloc(sizeof(*r));
	int ret = r ? DS_OK : DS_ENOMEM;

	if (ret == DS_OK) {
		memset(r, 0, sizeof(*r));
		r->key_id = sqlite3_column_int64(st, 0);
		ret = col_names(s, st, 1, r->zone, r->child);
	}
	if (ret == DS_OK)
		ret = key_state_from_str(col_str(st, 5), &r->state);
	if (ret == DS_OK) {
		r->alg = (uint8_t)sqlite3_column_int(st, 3);
		r->tag = (uint16_t)sqlite3_column_int(st, 4);
		r->created = sqlite3_column_int64(st, 6);
		r->since = sqlite3_column_int64(st, 7);
		r->tag_shared = sqlite3_column_int(st, 8) != 0;
		r->validated = sqlite3_column_int(st, 9) != 0;
		r->attempts = (unsigned)sqlite3_column_int(st, 10);
		col_text(st, 11, r->methods, sizeof(r->methods));
		col_text(st, 12, r->last_result, sizeof(r->last_result));
		ret = w->cb.waiting(w->arg, r);
	}
	free(r);
	return ret;
}

int store_waiting_page(struct store *s, int64_t after_since, int64_t after_key_id, size_t limit,
		       store_waiting_cb cb, void *arg)
{
	sqlite3_stmt *st = st_get(s, ST_WAITING_PAGE);
	struct walk w = {.cb.waiting = cb, .arg = arg};
	/* key ids are positive: (INT64_MIN, 0) is before every row */
	int ret =
	    bind_check(s, st,
		       sqlite3_bind_int64(st, 1, after_key_id != 0 ? after_since : INT64_MIN) |
			   sqlite3_bind_int64(st, 2, after_key_id) |
			   sqlite3_bind_int64(st, 3, page_limit(limit)),
		       "waiting keys page");
	return ret == DS_OK ? rows_each(s, st, waiting_row, &w, "waiting keys page") : ret;
}

int store_waiting_count(struct store *s, int64_t *n)
{
	return count_query(s, ST_WAITING_COUNT, n, false);
}

int store_key_tag_shared(struct store *s, const struct store_key *k, bool *shared)
{
	sqlite3_stmt *st = st_get(s, ST_KEY_TAG_SHARED);
	int64_t n = 0;
	int ret = bind_check(s, st,
			     sqlite3_bind_int64(st, 1, k->child_id) |
				 sqlite3_bind_int(st, 2, k->tag) | sqlite3_bind_int64(st, 3, k->id),
			     "key tag shared");
	if (ret != DS_OK)
		return ret;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	else
		ret = db_err(s, rc, "key tag shared");
	st_done(st);
	*shared = n != 0;
	return ret;
}

static int audit_row(struct store *s, sqlite3_stmt *st, void *ctx)
{
	const struct walk *w = ctx;
	struct audit_row r = {
	    .id = sqlite3_column_int64(st, 0),
	    .a =
		{
		    .time = sqlite3_column_int64(st, 1),
		    .client = col_str(st, 2),
		    .zone = col_str(st, 3),
		    .child = col_str(st, 4),
		    .key_tag = (int)col_time(st, 5),
		    .actor = col_str(st, 6),
		    .request = col_str(st, 7),
		    .result = col_str(st, 8),
		    .rcode = sqlite3_column_int(st, 9),
		    .reason = col_str(st, 10),
		},
	};

	(void)s;
	return w->cb.audit(w->arg, &r);
}

int store_audit_page(struct store *s, const struct audit_filter *f, int64_t after_id, size_t limit,
		     store_audit_cb cb, void *arg)
{
	static const struct audit_filter none;
	struct walk w = {.cb.audit = cb, .arg = arg};
	sqlite3_stmt *st;
	bool by_child;
	int ret;

	if (f == NULL)
		f = &none;
	by_child = f->child != NULL;
	st = st_get(s, by_child ? ST_AUDIT_PAGE_CHILD : ST_AUDIT_PAGE);
	/* Filters that do not apply become bounds every row meets. */
	ret = bind_check(s, st,
			 sqlite3_bind_int64(st, 1, after_id != 0 ? after_id : INT64_MAX) |
			     bind_text(st, 2, f->result) |
			     sqlite3_bind_int64(st, 3, f->since != 0 ? f->since : INT64_MIN) |
			     sqlite3_bind_int64(st, 4, f->until != 0 ? f->until : INT64_MAX) |
			     sqlite3_bind_int64(st, 5, page_limit(limit)) |
			     (by_child ? bind_text(st, 6, f->child) : SQLITE_OK),
			 "audit page");
	return ret == DS_OK ? rows_each(s, st, audit_row, &w, "audit page") : ret;
}

/* A row of a delivery SELECT (the columns of ST_DELIVERY_GET), counted in w->n. */
static int delivery_row(struct store *s, sqlite3_stmt *st, void *ctx)
{
	struct walk *w = ctx;
	struct delivery_row d = {
	    .id = sqlite3_column_int64(st, 0),
	    .change_id = sqlite3_column_int64(st, 1),
	    .zone = col_str(st, 2),
	    .child = col_str(st, 3),
	    .backend = col_str(st, 4),
	    .state = col_str(st, 5),
	    .attempts = sqlite3_column_int(st, 6),
	    .next_attempt = sqlite3_column_int64(st, 7),
	    .last_attempt = col_time(st, 8),
	    .delivered_at = col_time(st, 9),
	    .last_error = col_str(st, 10),
	    .changes = col_str(st, 11),
	    .created = sqlite3_column_int64(st, 12),
	};

	(void)s;
	w->n++;
	return w->cb.delivery(w->arg, &d);
}

/* Walk the rows of a delivery SELECT, counting them in *n. */
static int deliveries_walk(struct store *s, sqlite3_stmt *st, store_delivery_cb cb, void *arg,
			   size_t *n)
{
	struct walk w = {.cb.delivery = cb, .arg = arg};
	int ret = rows_each(s, st, delivery_row, &w, "deliveries");

	*n = w.n;
	return ret;
}

int store_deliveries_page(struct store *s, const char *state, int64_t after_id, size_t limit,
			  store_delivery_cb cb, void *arg)
{
	sqlite3_stmt *st;
	size_t n;
	int ret;

	if (state != NULL && strcmp(state, "pending") != 0 && strcmp(state, "done") != 0)
		return DS_EINVAL;
	st = st_get(s, state != NULL ? ST_DELIVERIES_STATE : ST_DELIVERIES_PAGE);
	ret = bind_check(s, st,
			 sqlite3_bind_int64(st, 1, after_id != 0 ? after_id : INT64_MAX) |
			     sqlite3_bind_int64(st, 2, page_limit(limit)) |
			     (state != NULL ? bind_text(st, 3, state) : SQLITE_OK),
			 "deliveries page");
	return ret == DS_OK ? deliveries_walk(s, st, cb, arg, &n) : ret;
}

int store_delivery_get(struct store *s, int64_t id, store_delivery_cb cb, void *arg)
{
	sqlite3_stmt *st = st_get(s, ST_DELIVERY_GET);
	size_t n = 0;
	int ret = bind_check(s, st, sqlite3_bind_int64(st, 1, id), "delivery get");

	if (ret == DS_OK)
		ret = deliveries_walk(s, st, cb, arg, &n);
	return ret == DS_OK && n == 0 ? DS_ENOENT : ret;
}

int store_delivery_retry(struct store *s, int64_t id, int64_t now)
{
	sqlite3_stmt *st = st_get(s, ST_DELIVERY_RETRY);
	int rc,
	    ret = bind_exec(s, st, sqlite3_bind_int64(st, 1, id) | sqlite3_bind_int64(st, 2, now),
			    "delivery retry");
	if (ret != DS_OK || sqlite3_changes(s->db) > 0)
		return ret;
	/* Nothing pending by that id: say whether it is missing or done (the
	 * only other state; a done delivery never becomes pending again). */
	st = st_get(s, ST_DELIVERY_STATE);
	ret = bind_check(s, st, sqlite3_bind_int64(st, 1, id), "delivery state");
	if (ret != DS_OK)
		return ret;
	rc = sqlite3_step(st);
	ret = rc == SQLITE_ROW	  ? DS_EEXIST
	      : rc == SQLITE_DONE ? DS_ENOENT
				  : db_err(s, rc, "delivery state");
	st_done(st);
	return ret;
}

/* ---- the daemon's lock ------------------------------------------------------ */

int store_lock(const char *path, int *fd, char *why, size_t whylen)
{
	char lp[PATH_MAX], pid[32] = "";
	*fd = -1;
	if (strcmp(path, ":memory:") == 0)
		return DS_OK;
	snprintf(lp, sizeof(lp), "%s.lock", path);
	int f = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (f < 0) {
		ds_why(why, whylen, "cannot open %s: %s", lp, strerror(errno));
		return DS_EIO;
	}
	if (flock(f, LOCK_EX | LOCK_NB) != 0) {
		ssize_t n = pread(f, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? strcspn(pid, "\n") : 0] = '\0';
		ds_why(why, whylen, "store %s is in use by another dsyncd (pid %s, lock %s)", path,
		       pid[0] ? pid : "?", lp);
		close(f);
		return DS_EBUSY;
	}
	int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(f, 0) != 0 || pwrite(f, pid, (size_t)n, 0) != n) {
		ds_why(why, whylen, "cannot write %s: %s", lp, strerror(errno));
		close(f);
		return DS_EIO;
	}
	*fd = f;
	return DS_OK;
}

void store_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* the lock goes with it; the file stays for the next start */
}

/* ---- UPDATEs per minute (the console's chart) ------------------------------- */

/*
 * One grouped query over [since, until) of the audit rows of UPDATEs
 * (actor "update"), served by audit_time: only the rows of the range are
 * read.  Prepared for each call, kept here whole: the console asks about
 * once a minute.
 */
#define UPDATES_PER_MINUTE                                                                         \
	"SELECT time / 60, sum(result = 'accepted'), sum(result <> 'accepted') "                   \
	"FROM audit INDEXED BY audit_time WHERE time >= ?1 AND time < ?2 AND actor = 'update' "    \
	"GROUP BY time / 60 ORDER BY 1"

int store_updates_per_minute(struct store *s, int64_t since, int64_t until, store_minute_cb cb,
			     void *arg)
{
	sqlite3_stmt *st = NULL;
	int rc, ret = DS_OK;

	if (since < 0 || until < since)
		return DS_EINVAL;
	rc = sqlite3_prepare_v2(s->db, UPDATES_PER_MINUTE, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_err(s, rc, "updates per minute");
	ret = bind_check(s, st, sqlite3_bind_int64(st, 1, since) | sqlite3_bind_int64(st, 2, until),
			 "updates per minute");
	while (ret == DS_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_minute m = {.minute = sqlite3_column_int64(st, 0) * 60,
					 .accepted = sqlite3_column_int64(st, 1),
					 .refused = sqlite3_column_int64(st, 2)};
		ret = cb(arg, &m);
	}
	if (ret == DS_OK && rc != SQLITE_DONE)
		ret = db_err(s, rc, "updates per minute");
	sqlite3_finalize(st);
	return ret;
}

/*
 * store/schema.c -- the store's tables, on each engine.
 *
 * SQLite stores began at version 1 and are migrated one version at a time.
 * PostgreSQL stores began at version 7: a new one is created in the form
 * SQLite reaches at version 7, and from there both engines take the same
 * migrations, so that a version number means the same tables on both.
 *
 * Names are kept three ways where needed: canonical lower-case wire
 * (lookups, UNIQUE), a sort key (canonical order, see store.c) and
 * presentation text (operators; escaped by dname_to_str).
 */
#include "store/db.h"
#include "store/store.h"

/* ------------------------------------------------------------------ */
/* SQLite: version 1 and its migrations                               */
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

/*
 * Version 8: leases, for several dsyncd on one (PostgreSQL) store: a node
 * works on a thing (the deliveries of one zone and backend, the bootstrap
 * validations) while it holds the thing's lease, which it renews; a node
 * that stops renewing loses it at expires.  (A SQLite store has one node,
 * which takes none.)  And the number of children of each zone, kept by
 * triggers (zone_counts, below).
 */
#define LEASES_V8                                                                                  \
	"CREATE TABLE IF NOT EXISTS leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, "         \
	"expires BIGINT NOT NULL)"
/* ... and the number of children of each zone, kept by triggers, so that
 * the zones' list does not count a million children at each look. */
#define ZONE_COUNTS_V8                                                                             \
	"CREATE TABLE IF NOT EXISTS zone_counts (zone_id BIGINT PRIMARY KEY "                      \
	"REFERENCES zones(id) ON DELETE CASCADE, children BIGINT NOT NULL)"
#define ZONE_COUNTS_FILL                                                                           \
	"INSERT INTO zone_counts (zone_id, children) SELECT z.id, "                                \
	"(SELECT count(*) FROM children c WHERE c.zone_id = z.id) FROM zones z WHERE true "        \
	"ON CONFLICT (zone_id) DO UPDATE SET children = excluded.children"
static const char *const migration_v8[] = {
    LEASES_V8,
    ZONE_COUNTS_V8,
    ZONE_COUNTS_FILL,
    "CREATE TRIGGER IF NOT EXISTS zone_counts_insert AFTER INSERT ON children BEGIN "
    "INSERT INTO zone_counts (zone_id, children) VALUES (new.zone_id, 1) "
    "ON CONFLICT (zone_id) DO UPDATE SET children = zone_counts.children + 1; END",
    "CREATE TRIGGER IF NOT EXISTS zone_counts_delete AFTER DELETE ON children BEGIN "
    "UPDATE zone_counts SET children = children - 1 WHERE zone_id = old.zone_id; END",
    NULL,
};

/*
 * Version 9, SQLite only: the replay table keeps its rows in the order they
 * came (a rowid table, no index on the digest).  Keyed by the digest, a
 * random value, each UPDATE's row went into a page of its own, so a commit
 * of 50 UPDATEs wrote some 50 pages of it to the WAL, most of the WAL's
 * pages; now they share the last page.  The receiver keeps every live
 * digest in memory anyway (loaded in rowid order at start), and nothing but
 * the several nodes of a PostgreSQL store looks one up in the store.
 */
static const char *const migration_v9[] = {
    "CREATE TABLE replay_v9 (digest BLOB NOT NULL, expires INTEGER NOT NULL, "
    "rcode INTEGER NOT NULL)",
    "INSERT INTO replay_v9 (digest, expires, rcode) SELECT digest, expires, rcode FROM replay "
    "ORDER BY expires",
    "DROP TABLE replay",
    "ALTER TABLE replay_v9 RENAME TO replay",
    "CREATE INDEX replay_expires ON replay (expires)",
    NULL,
};

/* migrations[i] brings the schema from version i + 1 to version i + 2. */
// clang-format off
static const char *const *const sqlite_migrations[] = {
    migration_v2,
    migration_v3,
    migration_v4,
    migration_v5,
    migration_v6,
    migration_v7,
    migration_v8,
    migration_v9,
};
// clang-format on

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

_Static_assert(NELEMS(sqlite_migrations) + 1 == STORE_SCHEMA_VERSION,
	       "one migration per schema version");

const struct db_schema store_schema_sqlite = {
    .base = 1,
    .create = migration_v1,
    .migrations = sqlite_migrations,
    .nmigrations = NELEMS(sqlite_migrations),
};

/* ------------------------------------------------------------------ */
/* PostgreSQL: version 7                                               */
/* ------------------------------------------------------------------ */

/*
 * The tables of SQLite's version 7 with PostgreSQL's types: BYTEA for
 * wire data (compared octet by octet, shorter first, as SQLite compares
 * BLOBs), BIGINT for times and ids, identity columns for SQLite's rowids.
 * key_counts is kept by one trigger function.
 */
#define PG_ID "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
static const char *const pg_v7[] = {
    "CREATE TABLE zones (" PG_ID ", name BYTEA NOT NULL UNIQUE, name_text TEXT NOT NULL)",
    "CREATE TABLE children (" PG_ID ","
    " zone_id BIGINT NOT NULL REFERENCES zones(id) ON DELETE CASCADE,"
    " name BYTEA NOT NULL, sort_key BYTEA NOT NULL, name_text TEXT NOT NULL,"
    " created BIGINT NOT NULL, updated BIGINT NOT NULL, UNIQUE (zone_id, name))",
    "CREATE UNIQUE INDEX children_order ON children (zone_id, sort_key)",
    "CREATE TABLE keys (" PG_ID ","
    " child_id BIGINT NOT NULL REFERENCES children(id) ON DELETE CASCADE,"
    " algorithm INTEGER NOT NULL, key_tag INTEGER NOT NULL, flags INTEGER NOT NULL,"
    " rdata BYTEA NOT NULL, public_key TEXT NOT NULL, state TEXT NOT NULL,"
    " trust_method TEXT NOT NULL DEFAULT '', source TEXT NOT NULL DEFAULT '',"
    " created BIGINT NOT NULL, updated BIGINT NOT NULL, UNIQUE (child_id, rdata))",
    "CREATE INDEX keys_waiting ON keys (updated, id) "
    "WHERE state IN ('known', 'validation-failed')",
    "CREATE TABLE delegation ("
    " child_id BIGINT NOT NULL REFERENCES children(id) ON DELETE CASCADE,"
    " owner_key BYTEA NOT NULL, type INTEGER NOT NULL, rdata_canon BYTEA NOT NULL,"
    " owner BYTEA NOT NULL, ttl BIGINT NOT NULL, rdata BYTEA,"
    " owner_text TEXT NOT NULL, rdata_text TEXT NOT NULL,"
    " PRIMARY KEY (child_id, owner_key, type, rdata_canon))",
    "CREATE TABLE audit (" PG_ID ", time BIGINT NOT NULL, client TEXT, zone TEXT,"
    " child TEXT, key_tag INTEGER, actor TEXT, request TEXT, result TEXT,"
    " rcode INTEGER NOT NULL, reason TEXT)",
    "CREATE INDEX audit_time ON audit (time)",
    "CREATE INDEX audit_child_id ON audit (lower(child), id)",
    "CREATE TABLE outbox_change (" PG_ID ", zone BYTEA NOT NULL, zone_text TEXT NOT NULL,"
    " child BYTEA NOT NULL, child_text TEXT NOT NULL, changes TEXT NOT NULL,"
    " created BIGINT NOT NULL)",
    "CREATE TABLE delivery (" PG_ID ","
    " change_id BIGINT NOT NULL REFERENCES outbox_change(id) ON DELETE CASCADE,"
    " backend TEXT NOT NULL, state TEXT NOT NULL CHECK (state IN ('pending', 'done')),"
    " attempts INTEGER NOT NULL DEFAULT 0, next_attempt BIGINT NOT NULL,"
    " last_attempt BIGINT, last_error TEXT, delivered_at BIGINT,"
    " UNIQUE (change_id, backend))",
    "CREATE INDEX delivery_due ON delivery (state, next_attempt) WHERE state = 'pending'",
    "CREATE INDEX delivery_state ON delivery (state, id)",
    "CREATE INDEX delivery_pending ON delivery (backend, change_id) WHERE state = 'pending'",
    "CREATE TABLE replay (digest BYTEA PRIMARY KEY, expires BIGINT NOT NULL,"
    " rcode INTEGER NOT NULL)",
    "CREATE INDEX replay_expires ON replay (expires)",
    "CREATE TABLE validation ("
    " key_id BIGINT PRIMARY KEY REFERENCES keys(id) ON DELETE CASCADE,"
    " next_at BIGINT, attempts INTEGER NOT NULL DEFAULT 0, rounds INTEGER NOT NULL DEFAULT 0,"
    " started BIGINT NOT NULL, updated BIGINT NOT NULL,"
    " last_result TEXT NOT NULL DEFAULT '', methods TEXT NOT NULL DEFAULT '')",
    "CREATE INDEX validation_due ON validation (next_at) WHERE next_at IS NOT NULL",
    "CREATE TABLE backend_status (zone BYTEA NOT NULL, backend TEXT NOT NULL,"
    " last_success BIGINT, last_failure BIGINT, last_error TEXT, PRIMARY KEY (zone, backend))",
    "CREATE TABLE key_counts (state TEXT PRIMARY KEY, n BIGINT NOT NULL)",
    "CREATE FUNCTION key_counts_keep() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF TG_OP <> 'INSERT' THEN "
    "UPDATE key_counts SET n = n - 1 WHERE state = OLD.state; END IF; "
    "IF TG_OP <> 'DELETE' THEN "
    "INSERT INTO key_counts (state, n) VALUES (NEW.state, 1) "
    "ON CONFLICT (state) DO UPDATE SET n = key_counts.n + 1; END IF; "
    "RETURN NULL; END $$",
    "CREATE TRIGGER key_counts_insert_delete AFTER INSERT OR DELETE ON keys "
    "FOR EACH ROW EXECUTE FUNCTION key_counts_keep()",
    "CREATE TRIGGER key_counts_update AFTER UPDATE OF state ON keys FOR EACH ROW "
    "WHEN (OLD.state IS DISTINCT FROM NEW.state) EXECUTE FUNCTION key_counts_keep()",
    NULL,
};

/*
 * Version 8: leases and children counts (as SQLite's), and every change of
 * a key announced to the other nodes (NOTIFY dsyncd_keys, delivered at
 * commit): the key's id when it was written, and its id, algorithm, tag
 * and child when it was deleted (alone or with its child).
 */
static const char *const pg_v8[] = {
    LEASES_V8,
    ZONE_COUNTS_V8,
    ZONE_COUNTS_FILL,
    "CREATE OR REPLACE FUNCTION zone_counts_keep() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN IF TG_OP = 'DELETE' THEN "
    "UPDATE zone_counts SET children = children - 1 WHERE zone_id = OLD.zone_id; ELSE "
    "INSERT INTO zone_counts (zone_id, children) VALUES (NEW.zone_id, 1) "
    "ON CONFLICT (zone_id) DO UPDATE SET children = zone_counts.children + 1; END IF; "
    "RETURN NULL; END $$",
    "CREATE OR REPLACE TRIGGER zone_counts_keep AFTER INSERT OR DELETE ON children "
    "FOR EACH ROW EXECUTE FUNCTION zone_counts_keep()",
    /* a key written: its id; a key deleted: "del ID ALG TAG CHILD", CHILD
     * in presentation form, from the child's row while it is there (a
     * child's deletion announces its keys before its row goes) */
    "CREATE OR REPLACE FUNCTION keys_announce() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "DECLARE n TEXT; BEGIN IF TG_OP = 'DELETE' THEN "
    "SELECT name_text INTO n FROM children WHERE id = OLD.child_id; "
    "IF FOUND THEN PERFORM pg_notify('" STORE_KEYS_CHANNEL "', 'del ' || OLD.id || ' ' || "
    "OLD.algorithm || ' ' || OLD.key_tag || ' ' || n); END IF; "
    "ELSE PERFORM pg_notify('" STORE_KEYS_CHANNEL "', NEW.id::text); END IF; "
    "RETURN NULL; END $$",
    "CREATE OR REPLACE TRIGGER keys_announce AFTER INSERT OR UPDATE OR DELETE ON keys "
    "FOR EACH ROW EXECUTE FUNCTION keys_announce()",
    "CREATE OR REPLACE FUNCTION child_keys_announce() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN PERFORM pg_notify('" STORE_KEYS_CHANNEL "', 'del ' || k.id || ' ' || k.algorithm "
    "|| ' ' || k.key_tag || ' ' || OLD.name_text) FROM keys k WHERE k.child_id = OLD.id; "
    "RETURN OLD; END $$",
    "CREATE OR REPLACE TRIGGER child_keys_announce BEFORE DELETE ON children "
    "FOR EACH ROW EXECUTE FUNCTION child_keys_announce()",
    NULL,
};

/* Version 9 changes SQLite's replay table only: the digest stays the key here. */
static const char *const pg_v9[] = {
    NULL,
};

static const char *const *const pg_migrations[] = {
    pg_v8,
    pg_v9,
};

_Static_assert(NELEMS(pg_migrations) + 7 == STORE_SCHEMA_VERSION,
	       "one PostgreSQL migration per schema version from 7");

const struct db_schema store_schema_pg = {
    .base = 7,
    .create = pg_v7,
    .migrations = pg_migrations,
    .nmigrations = NELEMS(pg_migrations),
};

/*
 * store/store.c -- the store's logic and SQL, on either engine.
 *
 * One connection per struct store (store/db.h: SQLite or PostgreSQL), every
 * statement prepared once at open and reset + unbound after each use, every
 * value bound as a parameter (R15): no SQL text is ever built from data.
 * The tables are in store/schema.c.
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
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "common/dname.h"
#include "common/err.h"
#include "common/log.h"
#include "common/rrtext.h"
#include "common/vec.h"
#include "store/db.h"

#define NAME_KEY_MAX 512    /* sort key of a name: <= 2 * 254 + labels */
#define RDATA_TEXT_MAX 2048 /* DS hex (<= 600) or an escaped name (<= 1021) */
#define KEY_B64_MAX 4096    /* base64 of at most 2048 octets of key */
#define OUTBOX_BACKEND_MAX sizeof(((struct outbox_item *)0)->backend)

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
	ST_LEASE_TAKE,
	ST_LEASE_DROP,
	ST_REPLAY_FIND,
	ST_UPDATES_PER_MINUTE,
	ST_ZONE_CHILDREN,
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

/* accepted and refused UPDATEs of a group of audit rows */
#define UPM_COUNTS                                                                                 \
	"sum(CASE WHEN result = 'accepted' THEN 1 ELSE 0 END), "                                   \
	"sum(CASE WHEN result = 'accepted' THEN 0 ELSE 1 END)"

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
/* PostgreSQL: no "+" hint, and ?2's type said (it is also compared to NULL) */
#define AUDIT_SELECT_PG                                                                            \
	"SELECT id, time, client, zone, child, key_tag, actor, request, result, "                  \
	"rcode, reason FROM audit WHERE id < ?1 AND (CAST(?2 AS TEXT) IS NULL OR result = ?2) "    \
	"AND time >= ?3 AND time <= ?4 "

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
    [ST_ZONE_INSERT] = "INSERT INTO zones (name, name_text) VALUES (?1, ?2) RETURNING id",

    [ST_CHILD_FIND] = "SELECT id FROM children WHERE zone_id = ?1 AND name = ?2",
    [ST_CHILD_INSERT] = "INSERT INTO children (zone_id, name, sort_key, name_text, created, "
			"updated) VALUES (?1, ?2, ?3, ?4, ?5, ?5) RETURNING id",
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
		      "created) VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
    [ST_DELIVERY_ADD] = "INSERT INTO delivery (change_id, backend, state, attempts, next_attempt) "
			"VALUES (?1, ?2, 'pending', 0, ?3)",
    [ST_OUTBOX_DUE] = OUTBOX_SELECT "WHERE d.state = 'pending' AND d.next_attempt <= ?1 "
				    "ORDER BY d.change_id, d.id LIMIT ?2",
    /* a delivery another node recorded first is not recorded again */
    [ST_DELIVERY_DONE] = "UPDATE delivery SET state = 'done', attempts = attempts + 1, "
			 "last_attempt = ?2, delivered_at = ?2, last_error = NULL "
			 "WHERE id = ?1 AND state = 'pending'",
    [ST_DELIVERY_FAILED] = "UPDATE delivery SET attempts = attempts + 1, last_attempt = ?2, "
			   "next_attempt = ?3, last_error = ?4 "
			   "WHERE id = ?1 AND state = 'pending'",
    [ST_OUTBOX_NEXT] = "SELECT min(next_attempt) FROM delivery WHERE state = 'pending'",
    [ST_OUTBOX_PENDING] = "SELECT count(*) FROM delivery WHERE state = 'pending'",

    /* SQLite (version 9): rows in the order they came, no index on the
     * digest, so that each commit writes the table's last page only; the
     * receiver's memory, loaded in that order, decides replays. */
    [ST_REPLAY_ADD] = "INSERT INTO replay (digest, expires, rcode) VALUES (?1, ?2, ?3)",
    [ST_REPLAY_ALL] =
	"SELECT digest, expires, rcode FROM replay WHERE +expires > ?1 ORDER BY rowid",
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
    /* the number of pending deliveries, on the row of the oldest (no row: none) */
    [ST_PAIR_PENDING] =
	"SELECT (SELECT count(*) FROM delivery d JOIN outbox_change o "
	"ON o.id = d.change_id " PAIR_PENDING "), d.change_id, d.attempts, "
	"d.next_attempt, o.created FROM delivery d "
	"JOIN outbox_change o ON o.id = d.change_id " PAIR_PENDING "ORDER BY d.change_id LIMIT 1",
    /* NULL leaves a column as it is */
    [ST_PAIR_RESULT] =
	"INSERT INTO backend_status (zone, backend, last_success, last_failure, last_error) "
	"VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (zone, backend) DO UPDATE SET "
	"last_success = coalesce(excluded.last_success, backend_status.last_success), "
	"last_failure = coalesce(excluded.last_failure, backend_status.last_failure), "
	"last_error = coalesce(excluded.last_error, backend_status.last_error)",
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
    /* a lease is taken when free, expired (?3: now) or already ours */
    [ST_LEASE_TAKE] = "INSERT INTO leases (name, holder, expires) VALUES (?1, ?2, ?4) "
		      "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, "
		      "expires = excluded.expires WHERE leases.holder = excluded.holder "
		      "OR leases.expires <= ?3 RETURNING holder",
    [ST_LEASE_DROP] = "DELETE FROM leases WHERE name = ?1 AND holder = ?2",
    /* (SQLite: a scan; only several nodes, on PostgreSQL, ask the store) */
    [ST_REPLAY_FIND] =
	"SELECT rcode FROM replay WHERE digest = ?1 AND expires >= ?2 ORDER BY rowid LIMIT 1",
    [ST_ZONE_CHILDREN] =
	"SELECT coalesce((SELECT children FROM zone_counts WHERE zone_id = ?1), 0)",
    /* the console's chart: one grouped query over [?1, ?2) of the audit
     * rows of UPDATEs, served by audit_time (only the range is read) */
    [ST_UPDATES_PER_MINUTE] = "SELECT time / 60, " UPM_COUNTS " FROM audit INDEXED BY audit_time "
			      "WHERE time >= ?1 AND time < ?2 AND actor = 'update' "
			      "GROUP BY time / 60 ORDER BY 1",
    [ST_KEY_TAG_SHARED] = "SELECT EXISTS (SELECT 1 FROM keys WHERE child_id = ?1 AND "
			  "key_tag = ?2 AND id <> ?3)",
};

struct store {
	struct db *db;
	int version;
	struct db_stmt *st[ST_COUNT];
};

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

/* Statement i, ready for binding. */
static struct db_stmt *st_get(struct store *s, enum st_id i)
{
	return s->st[i];
}

/* Done with a statement: reset it and drop its bindings (no stale data). */
static void st_done(struct db_stmt *st)
{
	db_reset(st);
}

/* A step's result as a store result: DS_OK for a row or the end. */
static int step_ok(int rc)
{
	return rc == DB_ROW || rc == DB_DONE ? DS_OK : rc;
}

/*
 * Step a statement that returns no rows (or whose rows are ignored) and
 * finish with it.  Returns DS_OK or the driver's error.
 */
static int st_exec(struct db_stmt *st)
{
	int ret = step_ok(db_step(st));

	st_done(st);
	return ret;
}

/* Run a statement with no parameters (transaction control). */
static int st_run(struct store *s, enum st_id i)
{
	return st_exec(st_get(s, i));
}

/*
 * A write that may run outside a transaction is one unit all the same:
 * inside one, a savepoint (store_w); outside, a transaction of its own.
 * w_finish ends what w_start began, undoing it first when ret is an error,
 * and returns ret or the error of ending it.
 */
static int w_start(struct store *s, bool *own)
{
	*own = !db_in_tx(s->db);
	return *own ? db_begin(s->db) : st_run(s, ST_W_SAVEPOINT);
}

static int w_finish(struct store *s, bool own, int ret)
{
	if (own) {
		if (ret != DS_OK) {
			store_rollback(s);
			return ret;
		}
		return store_commit(s);
	}
	if (ret != DS_OK) {
		st_run(s, ST_W_ROLLBACK_TO);
		st_run(s, ST_W_RELEASE);
		return ret;
	}
	return st_run(s, ST_W_RELEASE);
}

/* Bind results (0 or a DS_ error) are OR-ed together by the callers. */
static int bind_check(struct store *s, struct db_stmt *st, int rc, const char *what)
{
	if (rc == DS_OK)
		return DS_OK;
	st_done(st);
	log_err("store %s: %s: cannot bind a parameter", s->db->label, what);
	return DS_ESTORE;
}

/* Bind (rc: the OR-ed bind results), step and finish a statement that returns no rows. */
static int bind_exec(struct store *s, struct db_stmt *st, int rc, const char *what)
{
	int ret = bind_check(s, st, rc, what);

	return ret == DS_OK ? st_exec(st) : ret;
}

/* bind_exec() of a write to one row: DS_ENOENT when no row changed. */
static int bind_exec_one(struct store *s, struct db_stmt *st, int rc, const char *what)
{
	int ret = bind_exec(s, st, rc, what);

	if (ret == DS_OK && db_changes(s->db) == 0)
		ret = DS_ENOENT;
	return ret;
}

/* A row limit as SQL takes it. */
static int64_t page_limit(size_t limit)
{
	return limit > INT64_MAX ? INT64_MAX : (int64_t)limit;
}

/* Turns the current row of a SELECT into the caller's form and hands it on. */
typedef int (*row_fn)(struct store *s, struct db_stmt *st, void *ctx);

/*
 * Step through the rows of a bound SELECT, each to row(), and finish with
 * the statement.  Stops at the first row() that does not return DS_OK and
 * returns what it returned.
 */
static int rows_each(struct store *s, struct db_stmt *st, row_fn row, void *ctx)
{
	int rc, ret = DS_OK;

	while ((rc = db_step(st)) == DB_ROW) {
		ret = row(s, st, ctx);
		if (ret != DS_OK)
			break;
	}
	if (ret == DS_OK)
		ret = step_ok(rc);
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
		store_minute_cb minute;
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
static int col_name(struct store *s, struct db_stmt *st, int col, uint8_t out[DNAME_MAX])
{
	size_t n;
	const void *p = db_col_blob(st, col, &n);

	if (p == NULL || !wire_name_ok(p, n)) {
		log_err("store %s: corrupt name in column %d", s->db->label, col);
		return DS_ESTORE;
	}
	memcpy(out, p, n);
	return DS_OK;
}

/* Two name columns side by side: col into a, col + 1 into b. */
static int col_names(struct store *s, struct db_stmt *st, int col, uint8_t a[DNAME_MAX],
		     uint8_t b[DNAME_MAX])
{
	int ret = col_name(s, st, col, a);

	return ret == DS_OK ? col_name(s, st, col + 1, b) : ret;
}

/* Copy a text column into a fixed buffer (truncating; NULL -> ""). */
static void col_text(struct db_stmt *st, int col, char *out, size_t outlen)
{
	const char *t = db_col_text(st, col);

	snprintf(out, outlen, "%s", t ? t : "");
}

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

/* ------------------------------------------------------------------ */
/* Open, close, transactions                                           */
/* ------------------------------------------------------------------ */

/* The few statements whose SQL differs on PostgreSQL (NULL: st_sql's). */
static const char *const st_pg[ST_COUNT] = {
    /* db_begin() takes the write lock; the statement is never run */
    [ST_BEGIN] = "BEGIN",
    [ST_RELEASE] = "RELEASE SAVEPOINT upd",
    [ST_W_RELEASE] = "RELEASE SAVEPOINT store_w",
    [ST_CHANGES_PURGE] =
	"DELETE FROM outbox_change WHERE id IN "
	"(SELECT o.id FROM outbox_change o WHERE o.created < ?1 AND NOT EXISTS "
	"(SELECT 1 FROM delivery d WHERE d.change_id = o.id AND d.state = 'pending') "
	"LIMIT ?2)",
    [ST_AUDIT_PAGE] = AUDIT_SELECT_PG "ORDER BY id DESC LIMIT ?5",
    [ST_UPDATES_PER_MINUTE] = "SELECT time / 60, " UPM_COUNTS " FROM audit "
			      "WHERE time >= ?1 AND time < ?2 AND actor = 'update' "
			      "GROUP BY time / 60 ORDER BY 1",
    [ST_AUDIT_PAGE_CHILD] =
	AUDIT_SELECT_PG "AND lower(child) = lower(?6) ORDER BY id DESC LIMIT ?5",
    /* the digest is the key: every node asks the store (ST_REPLAY_FIND); a
     * digest seen again keeps its first RCODE (R10), expiry only grows */
    [ST_REPLAY_ADD] =
	"INSERT INTO replay (digest, expires, rcode) VALUES (?1, ?2, ?3) "
	"ON CONFLICT (digest) DO UPDATE SET expires = CASE WHEN "
	"excluded.expires > replay.expires THEN excluded.expires ELSE replay.expires END",
    [ST_REPLAY_ALL] = "SELECT digest, expires, rcode FROM replay WHERE expires > ?1",
    [ST_REPLAY_FIND] = "SELECT rcode FROM replay WHERE digest = ?1 AND expires >= ?2",
};

int store_open(const char *spec, struct store **out)
{
	struct store *s;
	int ret;

	if (spec == NULL || out == NULL)
		return DS_EINVAL;
	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return DS_ENOMEM;
	ret = db_open(spec, &s->db);
	if (ret == DS_OK)
		ret = db_migrate(s->db, &store_schema_sqlite, &store_schema_pg,
				 STORE_SCHEMA_VERSION, &s->version);
	for (int i = 0; ret == DS_OK && i < ST_COUNT; i++) {
		const char *sql = db_is_pg(s->db) && st_pg[i] != NULL ? st_pg[i] : st_sql[i];
		ret = db_prepare(s->db, sql, &s->st[i]);
	}
	/* the two walks that may cover a million rows: one row at a time */
	if (ret == DS_OK) {
		db_stream(s->st[ST_KEYS_ALL]);
		db_stream(s->st[ST_ZONE_DELEG]);
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
		db_finalize(s->st[i]);
	db_close(s->db);
	free(s);
}

int store_schema_version(struct store *s)
{
	return s->version;
}

struct db *store_db(struct store *s)
{
	return s->db;
}

const char *store_label(const struct store *s)
{
	return s->db->label;
}

int store_begin(struct store *s)
{
	return db_begin(s->db);
}

int store_commit(struct store *s)
{
	return st_run(s, ST_COMMIT);
}

int store_rollback(struct store *s)
{
	/* the engine may already have rolled back (e.g. after an I/O error) */
	if (!db_in_tx(s->db))
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

/* Step a statement that yields at most one integer; DS_ENOENT for none. */
static int step_id(struct db_stmt *st, int64_t *id)
{
	int rc = db_step(st);

	if (rc == DB_ROW && id != NULL)
		*id = db_col_int64(st, 0);
	st_done(st);
	return rc == DB_ROW ? DS_OK : rc == DB_DONE ? DS_ENOENT : rc;
}

/* Bind (rc as bind_exec), run an INSERT ... RETURNING id and give the id. */
static int bind_insert(struct store *s, struct db_stmt *st, int rc, int64_t *id, const char *what)
{
	int64_t got = 0;
	int ret = bind_check(s, st, rc, what);

	if (ret == DS_OK)
		ret = step_id(st, &got);
	if (ret == DS_ENOENT) {
		log_err("store %s: %s: no id returned", s->db->label, what);
		ret = DS_ESTORE;
	}
	if (ret == DS_OK && id != NULL)
		*id = got;
	return ret;
}

static int zone_find_canon(struct store *s, const struct name_forms *z, int64_t *zone_id)
{
	struct db_stmt *st = st_get(s, ST_ZONE_FIND);
	int ret = bind_check(s, st, db_bind_blob(st, 1, z->canon, z->len), "zone find");

	if (ret != DS_OK)
		return ret;
	return step_id(st, zone_id);
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
	struct db_stmt *st;
	int ret = name_forms(zone, &z);

	if (ret != DS_OK)
		return ret;
	ret = zone_find_canon(s, &z, zone_id);
	if (ret != DS_ENOENT)
		return ret;
	st = st_get(s, ST_ZONE_INSERT);
	return bind_insert(s, st, db_bind_blob(st, 1, z.canon, z.len) | db_bind_text(st, 2, z.text),
			   zone_id, "zone insert");
}

static int child_find_canon(struct store *s, int64_t zone_id, const struct name_forms *c,
			    int64_t *child_id)
{
	struct db_stmt *st = st_get(s, ST_CHILD_FIND);
	int ret =
	    bind_check(s, st, db_bind_int64(st, 1, zone_id) | db_bind_blob(st, 2, c->canon, c->len),
		       "child find");

	if (ret != DS_OK)
		return ret;
	return step_id(st, child_id);
}

int store_zone_children(struct store *s, const uint8_t *zone, int64_t *n)
{
	struct db_stmt *st;
	int64_t zid;
	int ret = store_zone_find(s, zone, &zid);

	if (ret != DS_OK)
		return ret;
	st = st_get(s, ST_ZONE_CHILDREN);
	ret = bind_check(s, st, db_bind_int64(st, 1, zid), "zone children");
	if (ret == DS_OK)
		ret = step_id(st, n);
	return ret == DS_ENOENT ? DS_ESTORE : ret;
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
	struct db_stmt *st;
	int ret = name_forms(child, &c);

	if (ret != DS_OK)
		return ret;
	ret = child_find_canon(s, zone_id, &c, child_id);
	if (ret != DS_ENOENT)
		return ret;
	st = st_get(s, ST_CHILD_INSERT);
	return bind_insert(s, st,
			   db_bind_int64(st, 1, zone_id) | db_bind_blob(st, 2, c.canon, c.len) |
			       db_bind_blob(st, 3, c.key, c.keylen) | db_bind_text(st, 4, c.text) |
			       db_bind_int64(st, 5, now_s()),
			   child_id, "child insert");
}

/* ------------------------------------------------------------------ */
/* Delegation data                                                     */
/* ------------------------------------------------------------------ */

/* Fill a drr from columns owner, type, ttl, rdata starting at col. */
static int col_drr(struct store *s, struct db_stmt *st, int col, struct drr *r)
{
	const void *rd;
	size_t rdlen;
	int ret;

	memset(r, 0, sizeof(*r));
	ret = col_name(s, st, col, r->owner);
	if (ret != DS_OK)
		return ret;
	r->type = (uint16_t)db_col_int(st, col + 1);
	r->ttl = (uint32_t)db_col_int64(st, col + 2);
	rd = db_col_blob(st, col + 3, &rdlen);
	if (rdlen > DRR_RDATA_MAX) {
		log_err("store %s: stored rdata too long (%zu)", s->db->label, rdlen);
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

static int deleg_row(struct store *s, struct db_stmt *st, void *ctx)
{
	struct deleg_load *l = ctx;
	int ret;

	if (l->out->n >= DELEG_MAX) {
		log_err("store %s: child %lld has more than %d records", s->db->label,
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
	struct db_stmt *st = st_get(s, ST_DELEG_LOAD);
	struct deleg_load l = {.out = out, .child_id = child_id};
	int ret;

	out->n = 0;
	ret = bind_check(s, st, db_bind_int64(st, 1, child_id), "deleg load");
	if (ret != DS_OK)
		return ret;
	ret = rows_each(s, st, deleg_row, &l);
	if (ret != DS_OK)
		out->n = 0;
	return ret;
}

static int deleg_insert(struct store *s, int64_t child_id, const struct drr *r)
{
	struct name_forms o;
	uint8_t rcanon[DRR_RDATA_MAX];
	char rtext[RDATA_TEXT_MAX];
	struct db_stmt *st;
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
		     ? db_bind_blob(st, 7, r->rdata, r->rdlen)
		     : db_bind_null(st, 7);
	return bind_exec(s, st,
			 rc | db_bind_int64(st, 1, child_id) |
			     db_bind_blob(st, 2, r->owner, dname_len(r->owner)) |
			     db_bind_blob(st, 3, o.key, o.keylen) | db_bind_text(st, 4, o.text) |
			     db_bind_int64(st, 5, r->type) | db_bind_int64(st, 6, r->ttl) |
			     db_bind_blob(st, 8, rcanon, r->rdlen) | db_bind_text(st, 9, rtext),
			 "deleg insert");
}

/* store_deleg_write's statements, inside a unit the caller opened (w_start). */
static int deleg_write_in(struct store *s, int64_t child_id, const struct deleg *d)
{
	struct db_stmt *st = st_get(s, ST_DELEG_DELETE);
	int ret = bind_exec(s, st, db_bind_int64(st, 1, child_id), "deleg delete");

	for (size_t i = 0; ret == DS_OK && i < d->n; i++)
		ret = deleg_insert(s, child_id, &d->rr[i]);
	if (ret == DS_OK) {
		st = st_get(s, ST_CHILD_TOUCH);
		ret =
		    bind_exec(s, st, db_bind_int64(st, 1, child_id) | db_bind_int64(st, 2, now_s()),
			      "child touch");
	}
	return ret;
}

int store_deleg_write(struct store *s, int64_t child_id, const struct deleg *d)
{
	bool own;
	int ret;

	if (d->n > DELEG_MAX)
		return DS_EINVAL;
	/* Delete + inserts are one unit even when the caller has no
	 * transaction open. */
	ret = w_start(s, &own);
	return ret == DS_OK ? w_finish(s, own, deleg_write_in(s, child_id, d)) : ret;
}

static int outbox_add_in(struct store *s, const uint8_t *zone, const uint8_t *child,
			 const char *changes, const char *const *backends, size_t nbackends,
			 int64_t now, int64_t *change_id);

/*
 * One unit (one savepoint, a round trip each way on PostgreSQL) for the
 * delegation and its outbox rows: this is every accepted UPDATE's write.
 */
int store_deleg_change(struct store *s, const uint8_t *zone, const uint8_t *child, int64_t child_id,
		       const struct deleg *next, const char *changes, const char *const *backends,
		       size_t nbackends, int64_t now, int64_t *change_id)
{
	bool own;
	int ret;

	if (next != NULL && next->n > DELEG_MAX)
		return DS_EINVAL;
	ret = w_start(s, &own);
	if (ret != DS_OK)
		return ret;
	ret = next != NULL ? deleg_write_in(s, child_id, next) : store_child_delete(s, child_id);
	if (ret == DS_OK)
		ret = outbox_add_in(s, zone, child, changes, backends, nbackends, now, change_id);
	return w_finish(s, own, ret);
}

int store_child_delete(struct store *s, int64_t child_id)
{
	struct db_stmt *st = st_get(s, ST_CHILD_DELETE);
	/* db_changes() counts the child only, never the cascaded rows. */
	return bind_exec_one(s, st, db_bind_int64(st, 1, child_id), "child delete");
}

static int zone_deleg_row(struct store *s, struct db_stmt *st, void *ctx)
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
	struct db_stmt *st;
	int ret = name_forms(zone, &z);

	if (ret != DS_OK)
		return ret;
	st = st_get(s, ST_ZONE_DELEG);
	ret = bind_check(s, st, db_bind_blob(st, 1, z.canon, z.len), "zone deleg");
	return ret == DS_OK ? rows_each(s, st, zone_deleg_row, &w) : ret;
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
	struct db_stmt *st;
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
			 db_bind_int64(st, 1, k->child_id) | db_bind_int64(st, 2, k->alg) |
			     db_bind_int64(st, 3, k->tag) | db_bind_int64(st, 4, k->flags) |
			     db_bind_blob(st, 5, k->rdata, k->rdlen) | db_bind_text(st, 6, b64) |
			     db_bind_text(st, 7, key_state_names[k->state]) |
			     db_bind_text(st, 8, method) | db_bind_text(st, 9, source) |
			     db_bind_int64(st, 10, k->created ? k->created : now) |
			     db_bind_int64(st, 11, now),
			 "key upsert");
	if (ret != DS_OK)
		return ret;
	rc = db_step(st);
	if (rc == DB_ROW) {
		k->id = db_col_int64(st, 0);
		k->created = db_col_int64(st, 1);
		k->updated = now;
		rc = db_step(st); /* run to completion */
	}
	st_done(st);
	return rc == DB_DONE ? DS_OK : rc == DB_ROW ? DS_ESTORE : rc;
}

int store_key_set_state(struct store *s, int64_t key_id, enum key_state state, const char *method)
{
	struct db_stmt *st = st_get(s, ST_KEY_SET_STATE);

	if ((unsigned)state >= KEY_STATES)
		return DS_EINVAL;
	return bind_exec_one(s, st,
			     db_bind_int64(st, 1, key_id) |
				 db_bind_text(st, 2, key_state_names[state]) |
				 db_bind_text(st, 3, method) | db_bind_int64(st, 4, now_s()),
			     "key set state");
}

/* A row of a key SELECT (the column order of ST_KEYS_ALL) into *k. */
static int key_from_row(struct store *s, struct db_stmt *st, struct store_key *k)
{
	size_t rdlen;
	const void *rd = db_col_blob(st, 7, &rdlen);
	int ret;

	memset(k, 0, sizeof(*k));
	k->id = db_col_int64(st, 0);
	k->child_id = db_col_int64(st, 1);
	ret = col_names(s, st, 2, k->zone, k->owner);
	if (ret != DS_OK)
		return ret;
	if (rdlen > sizeof(k->rdata)) {
		log_err("store %s: key %lld rdata too long", s->db->label, (long long)k->id);
		return DS_ESTORE;
	}
	k->alg = (uint8_t)db_col_int(st, 4);
	k->tag = (uint16_t)db_col_int(st, 5);
	k->flags = (uint16_t)db_col_int(st, 6);
	if (rdlen > 0)
		memcpy(k->rdata, rd, rdlen);
	k->rdlen = (uint16_t)rdlen;
	ret = key_state_from_str(db_col_text(st, 8), &k->state);
	if (ret != DS_OK) {
		log_err("store %s: key %lld has an unknown state", s->db->label, (long long)k->id);
		return ret;
	}
	col_text(st, 9, k->trust_method, sizeof(k->trust_method));
	col_text(st, 10, k->source, sizeof(k->source));
	k->created = db_col_int64(st, 11);
	k->updated = db_col_int64(st, 12);
	col_text(st, 13, k->validation, sizeof(k->validation));
	return DS_OK;
}

struct key_walk {
	struct walk w;
	struct store_key *k; /* one row's room, on the heap: the struct is large */
};

static int key_row(struct store *s, struct db_stmt *st, void *ctx)
{
	struct key_walk *kw = ctx;
	int ret = key_from_row(s, st, kw->k);

	return ret == DS_OK ? kw->w.cb.key(kw->w.arg, kw->k) : ret;
}

/* Walk the rows of a prepared key SELECT (the column order of ST_KEYS_ALL). */
static int keys_walk(struct store *s, struct db_stmt *st, store_key_cb cb, void *arg)
{
	struct key_walk kw = {.w = {.cb.key = cb, .arg = arg}, .k = malloc(sizeof(*kw.k))};
	int ret;

	if (kw.k == NULL)
		return DS_ENOMEM;
	ret = rows_each(s, st, key_row, &kw);
	free(kw.k);
	return ret;
}

int store_keys_foreach(struct store *s, store_key_cb cb, void *arg)
{
	return keys_walk(s, st_get(s, ST_KEYS_ALL), cb, arg);
}

int store_child_keys_foreach(struct store *s, int64_t child_id, store_key_cb cb, void *arg)
{
	struct db_stmt *st = st_get(s, ST_KEYS_CHILD);
	int ret = bind_check(s, st, db_bind_int64(st, 1, child_id), "child keys");
	return ret == DS_OK ? keys_walk(s, st, cb, arg) : ret;
}

static int key_one(void *arg, const struct store_key *k)
{
	*(struct store_key *)arg = *k;
	return 1;
}

int store_key_get(struct store *s, int64_t key_id, struct store_key *out)
{
	struct db_stmt *st = st_get(s, ST_KEY_GET);
	int ret = bind_check(s, st, db_bind_int64(st, 1, key_id), "key get");
	if (ret == DS_OK)
		ret = keys_walk(s, st, key_one, out);
	return ret == 1 ? DS_OK : ret == DS_OK ? DS_ENOENT : ret;
}

static int count_query(struct store *s, enum st_id i, int64_t *n, bool null_is_enoent)
{
	struct db_stmt *st = st_get(s, i);
	int rc = db_step(st);
	int ret = DS_OK;

	if (rc == DB_ROW) {
		if (null_is_enoent && db_col_null(st, 0))
			ret = DS_ENOENT;
		else
			*n = db_col_int64(st, 0);
	} else {
		ret = rc == DB_DONE ? DS_ESTORE : rc;
	}
	st_done(st);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Bootstrap validations                                               */
/* ------------------------------------------------------------------ */

int store_validation_queue(struct store *s, int64_t key_id, int64_t now)
{
	struct db_stmt *st = st_get(s, ST_VAL_QUEUE);
	return bind_exec(s, st, db_bind_int64(st, 1, key_id) | db_bind_int64(st, 2, now),
			 "validation queue");
}

int store_validation_update(struct store *s, const struct store_validation *v)
{
	struct db_stmt *st = st_get(s, ST_VAL_UPDATE);
	return bind_exec_one(
	    s, st,
	    db_bind_int64(st, 1, v->key_id) |
		(v->next_at < 0 ? db_bind_null(st, 2) : db_bind_int64(st, 2, v->next_at)) |
		db_bind_int64(st, 3, (int)v->attempts) | db_bind_int64(st, 4, (int)v->rounds) |
		db_bind_int64(st, 5, v->updated) | db_bind_text(st, 6, v->last_result) |
		db_bind_text(st, 7, v->methods),
	    "validation update");
}

/* An integer column (a time, a key tag), -1 for SQL NULL. */
static int64_t col_time(struct db_stmt *st, int col)
{
	return db_col_null(st, col) ? -1 : db_col_int64(st, col);
}

static void val_row(struct db_stmt *st, struct store_validation *v)
{
	const char *t = db_col_text(st, 6);
	memset(v, 0, sizeof(*v));
	v->key_id = db_col_int64(st, 0);
	v->next_at = col_time(st, 1);
	v->attempts = (unsigned)db_col_int(st, 2);
	v->rounds = (unsigned)db_col_int(st, 3);
	v->started = db_col_int64(st, 4);
	v->updated = db_col_int64(st, 5);
	snprintf(v->last_result, sizeof(v->last_result), "%s", t ? t : "");
	col_text(st, 7, v->methods, sizeof(v->methods));
}

int store_validation_get(struct store *s, int64_t key_id, struct store_validation *out)
{
	struct db_stmt *st = st_get(s, ST_VAL_GET);
	int ret = bind_check(s, st, db_bind_int64(st, 1, key_id), "validation get");
	if (ret != DS_OK)
		return ret;
	int rc = db_step(st);
	if (rc == DB_ROW)
		val_row(st, out);
	else
		ret = rc == DB_DONE ? DS_ENOENT : rc;
	st_done(st);
	return ret;
}

int store_validation_due(struct store *s, int64_t now, size_t max, struct store_validation *out,
			 size_t *n)
{
	struct db_stmt *st = st_get(s, ST_VAL_DUE);
	int ret = bind_check(s, st, db_bind_int64(st, 1, now) | db_bind_int64(st, 2, (int64_t)max),
			     "validation due");
	int rc = DB_DONE;
	*n = 0;
	if (ret != DS_OK)
		return ret;
	while (*n < max && (rc = db_step(st)) == DB_ROW)
		val_row(st, &out[(*n)++]);
	ret = step_ok(rc);
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
	struct db_stmt *st = st_get(s, ST_AUDIT_ADD);

	return bind_exec(
	    s, st,
	    db_bind_int64(st, 1, a->time) | db_bind_text(st, 2, a->client) |
		db_bind_text(st, 3, a->zone) | db_bind_text(st, 4, a->child) |
		(a->key_tag < 0 ? db_bind_null(st, 5) : db_bind_int64(st, 5, a->key_tag)) |
		db_bind_text(st, 6, a->actor) | db_bind_text(st, 7, a->request) |
		db_bind_text(st, 8, a->result) | db_bind_int64(st, 9, a->rcode) |
		db_bind_text(st, 10, a->reason),
	    "audit add");
}

int store_audit_count(struct store *s, int64_t *n)
{
	return count_query(s, ST_AUDIT_COUNT, n, false);
}

/* ------------------------------------------------------------------ */
/* Outbox                                                              */
/* ------------------------------------------------------------------ */

/* store_outbox_add's checks and statements, inside a unit the caller opened. */
static int outbox_add_in(struct store *s, const uint8_t *zone, const uint8_t *child,
			 const char *changes, const char *const *backends, size_t nbackends,
			 int64_t now, int64_t *change_id)
{
	struct name_forms z, c;
	struct db_stmt *st;
	int64_t id = 0;
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
	st = st_get(s, ST_OUTBOX_ADD);
	ret = bind_insert(s, st,
			  db_bind_blob(st, 1, z.canon, z.len) | db_bind_text(st, 2, z.text) |
			      db_bind_blob(st, 3, c.canon, c.len) | db_bind_text(st, 4, c.text) |
			      db_bind_text(st, 5, changes) | db_bind_int64(st, 6, now),
			  &id, "outbox add");
	for (size_t i = 0; ret == DS_OK && i < nbackends; i++) {
		st = st_get(s, ST_DELIVERY_ADD);
		ret = bind_exec(s, st,
				db_bind_int64(st, 1, id) | db_bind_text(st, 2, backends[i]) |
				    db_bind_int64(st, 3, now),
				"delivery add");
	}
	if (ret == DS_OK && change_id != NULL)
		*change_id = id;
	return ret;
}

int store_outbox_add(struct store *s, const uint8_t *zone, const uint8_t *child,
		     const char *changes, const char *const *backends, size_t nbackends,
		     int64_t now, int64_t *change_id)
{
	bool own;
	/* change + deliveries are one unit even outside a transaction */
	int ret = w_start(s, &own);

	if (ret != DS_OK)
		return ret;
	ret = outbox_add_in(s, zone, child, changes, backends, nbackends, now, change_id);
	return w_finish(s, own, ret);
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

static int outbox_row(struct store *s, struct db_stmt *st, void *ctx)
{
	struct outbox_due *o = ctx;
	struct outbox_item *it;
	const char *ch;
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
	it->delivery_id = db_col_int64(st, 0);
	it->change_id = db_col_int64(st, 1);
	col_text(st, 4, it->backend, sizeof(it->backend));
	ch = db_col_text(st, 5);
	it->changes = strdup(ch ? ch : "");
	if (it->changes == NULL)
		return DS_ENOMEM;
	it->attempts = db_col_int(st, 6);
	it->created = db_col_int64(st, 7);
	it->next_attempt = db_col_int64(st, 8);
	o->n++;
	return DS_OK;
}

/* Read the items of a bound outbox SELECT (ret: the binding's result). */
static int outbox_items(struct store *s, struct db_stmt *st, int ret, struct outbox_item **items,
			size_t *n)
{
	struct outbox_due o = {0};

	if (ret == DS_OK)
		ret = rows_each(s, st, outbox_row, &o);
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
	struct db_stmt *st = st_get(s, ST_OUTBOX_DUE);

	*items = NULL;
	*n = 0;
	if (max == 0)
		return DS_OK;
	return outbox_items(
	    s, st,
	    bind_check(s, st, db_bind_int64(st, 1, now) | db_bind_int64(st, 2, page_limit(max)),
		       "outbox due"),
	    items, n);
}

/* Bind a pair: the zone's canonical wire form as ?1, the backend as ?2. */
static int bind_pair(struct store *s, struct db_stmt *st, const uint8_t *zone, const char *backend,
		     int rc, const char *what)
{
	struct name_forms z;
	int ret = name_forms(zone, &z);

	if (ret != DS_OK || backend == NULL) {
		st_done(st);
		return ret != DS_OK ? ret : DS_EINVAL;
	}
	return bind_check(
	    s, st, rc | db_bind_blob(st, 1, z.canon, z.len) | db_bind_text(st, 2, backend), what);
}

int store_outbox_pair(struct store *s, const uint8_t *zone, const char *backend, size_t max,
		      struct outbox_item **items, size_t *n)
{
	struct db_stmt *st = st_get(s, ST_OUTBOX_PAIR);

	*items = NULL;
	*n = 0;
	if (max == 0) {
		st_done(st);
		return DS_OK;
	}
	return outbox_items(
	    s, st,
	    bind_pair(s, st, zone, backend, db_bind_int64(st, 3, page_limit(max)), "outbox pair"),
	    items, n);
}

int store_backend_result(struct store *s, const uint8_t *zone, const char *backend, int64_t now,
			 const char *error)
{
	struct db_stmt *st = st_get(s, ST_PAIR_RESULT);
	int rc = error == NULL ? db_bind_int64(st, 3, now) : db_bind_int64(st, 4, now);
	int ret =
	    bind_pair(s, st, zone, backend, rc | db_bind_text(st, 5, error), "backend result");

	return ret == DS_OK ? st_exec(st) : ret;
}

struct pair_walk {
	store_pair_cb cb;
	void *arg;
};

static int pending_pair_row(struct store *s, struct db_stmt *st, void *ctx)
{
	struct pair_walk *w = ctx;
	uint8_t zone[DNAME_MAX];
	char backend[OUTBOX_BACKEND_MAX];
	int ret = col_name(s, st, 0, zone);

	col_text(st, 1, backend, sizeof(backend));
	return ret == DS_OK ? w->cb(w->arg, zone, backend, db_col_int64(st, 2)) : ret;
}

int store_outbox_pending_pairs(struct store *s, store_pair_cb cb, void *arg)
{
	struct pair_walk w = {.cb = cb, .arg = arg};

	return rows_each(s, st_get(s, ST_PENDING_PAIRS), pending_pair_row, &w);
}

static int pair_pending_row(struct store *s, struct db_stmt *st, void *ctx)
{
	struct delivery_status *d = ctx;

	(void)s;
	d->pending = db_col_int64(st, 0);
	if (d->pending > 0) {
		d->oldest_attempts = db_col_int(st, 2);
		d->oldest_next_attempt = db_col_int64(st, 3);
		d->oldest_created = db_col_int64(st, 4);
	}
	return DS_OK;
}

static int pair_status_row(struct store *s, struct db_stmt *st, void *ctx)
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
	struct db_stmt *st = st_get(s, ST_PAIR_PENDING);
	int ret = bind_pair(s, st, zone, backend, DS_OK, "delivery status");

	memset(out, 0, sizeof(*out));
	out->oldest_created = out->oldest_next_attempt = -1;
	out->last_success = out->last_failure = -1;
	if (ret == DS_OK)
		ret = rows_each(s, st, pair_pending_row, out);
	if (ret != DS_OK)
		return ret;
	st = st_get(s, ST_PAIR_STATUS);
	ret = bind_pair(s, st, zone, backend, DS_OK, "delivery status");
	return ret == DS_OK ? rows_each(s, st, pair_status_row, out) : ret;
}

int store_delivery_done(struct store *s, int64_t delivery_id, int64_t now)
{
	struct db_stmt *st = st_get(s, ST_DELIVERY_DONE);
	return bind_exec_one(s, st, db_bind_int64(st, 1, delivery_id) | db_bind_int64(st, 2, now),
			     "delivery done");
}

int store_delivery_failed(struct store *s, int64_t delivery_id, int64_t now, int64_t next_attempt,
			  const char *error)
{
	struct db_stmt *st = st_get(s, ST_DELIVERY_FAILED);
	return bind_exec_one(s, st,
			     db_bind_int64(st, 1, delivery_id) | db_bind_int64(st, 2, now) |
				 db_bind_int64(st, 3, next_attempt) | db_bind_text(st, 4, error),
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
	struct db_stmt *st = st_get(s, ST_REPLAY_ADD);
	return bind_exec(s, st,
			 db_bind_blob(st, 1, digest, 32) | db_bind_int64(st, 2, expires) |
			     db_bind_int64(st, 3, rcode),
			 "replay add");
}

static int replay_row(struct store *s, struct db_stmt *st, void *ctx)
{
	const struct walk *w = ctx;
	uint8_t digest[32];
	size_t n;
	const void *p = db_col_blob(st, 0, &n);

	if (p == NULL || n != 32) {
		log_err("store %s: corrupt replay digest", s->db->label);
		return DS_ESTORE;
	}
	memcpy(digest, p, 32);
	return w->cb.replay(w->arg, digest, db_col_int64(st, 1), db_col_int(st, 2));
}

int store_replay_foreach(struct store *s, int64_t now, store_replay_cb cb, void *arg)
{
	struct db_stmt *st = st_get(s, ST_REPLAY_ALL);
	struct walk w = {.cb.replay = cb, .arg = arg};
	int ret = bind_check(s, st, db_bind_int64(st, 1, now), "replay foreach");

	return ret == DS_OK ? rows_each(s, st, replay_row, &w) : ret;
}

int store_replay_purge(struct store *s, int64_t now)
{
	struct db_stmt *st = st_get(s, ST_REPLAY_PURGE);
	return bind_exec(s, st, db_bind_int64(st, 1, now), "replay purge");
}

int store_history_purge(struct store *s, int64_t before, int64_t max, int64_t *naudit,
			int64_t *nchanges)
{
	struct db_stmt *st = st_get(s, ST_AUDIT_PURGE);
	int ret = bind_check(s, st, db_bind_int64(st, 1, before), "audit purge");
	if (ret == DS_OK)
		ret = bind_exec(s, st, db_bind_int64(st, 2, max), "audit purge");
	if (ret != DS_OK)
		return ret;
	*naudit = db_changes(s->db);
	st = st_get(s, ST_CHANGES_PURGE);
	ret = bind_check(s, st, db_bind_int64(st, 1, before), "outbox purge");
	if (ret == DS_OK)
		ret = bind_exec(s, st, db_bind_int64(st, 2, max), "outbox purge");
	if (ret == DS_OK)
		*nchanges = db_changes(s->db);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Admin API: key removal, key counts, pages                           */
/* ------------------------------------------------------------------ */

int store_key_delete(struct store *s, int64_t key_id)
{
	struct db_stmt *st = st_get(s, ST_KEY_DELETE);
	/* db_changes() counts the key only, never the cascaded row. */
	return bind_exec_one(s, st, db_bind_int64(st, 1, key_id), "key delete");
}

_Static_assert(KEY_STATES == KEY_REVOKED + 1, "store_key_counts fills every state");

static int key_count_row(struct store *s, struct db_stmt *st, void *ctx)
{
	int64_t *counts = ctx;
	enum key_state ks;
	int ret = key_state_from_str(db_col_text(st, 0), &ks);

	if (ret != DS_OK) {
		log_err("store %s: a key has an unknown state", s->db->label);
		return ret;
	}
	counts[ks] = db_col_int64(st, 1);
	return DS_OK;
}

int store_key_counts(struct store *s, int64_t counts[KEY_REVOKED + 1])
{
	for (size_t i = 0; i < KEY_STATES; i++)
		counts[i] = 0;
	return rows_each(s, st_get(s, ST_KEY_COUNTS), key_count_row, counts);
}

static int child_row(struct store *s, struct db_stmt *st, void *ctx)
{
	const struct walk *w = ctx;
	struct store_child_row c;
	int ret;

	memset(&c, 0, sizeof(c));
	c.id = db_col_int64(st, 0);
	ret = col_name(s, st, 1, c.name);
	if (ret != DS_OK)
		return ret;
	c.created = db_col_int64(st, 2);
	c.updated = db_col_int64(st, 3);
	return w->cb.child(w->arg, &c);
}

int store_children_page(struct store *s, const uint8_t *zone, const uint8_t *after, size_t limit,
			store_child_cb cb, void *arg)
{
	struct name_forms z, a;
	struct walk w = {.cb.child = cb, .arg = arg};
	struct db_stmt *st;
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
			 db_bind_int64(st, 1, zid) |
			     (after != NULL ? db_bind_blob(st, 2, a.key, a.keylen)
					    : db_bind_blob(st, 2, "", 0)) |
			     db_bind_int64(st, 3, page_limit(limit)),
			 "children page");
	return ret == DS_OK ? rows_each(s, st, child_row, &w) : ret;
}

static int val_page_row(struct store *s, struct db_stmt *st, void *ctx)
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
	struct db_stmt *st = st_get(s, ST_VAL_PAGE);
	struct walk w = {.cb.val = cb, .arg = arg};
	int ret;

	/* Key ids are positive: (INT64_MIN, 0) is before every row. */
	ret = bind_check(s, st,
			 db_bind_int64(st, 1, after_key_id != 0 ? after_next_at : INT64_MIN) |
			     db_bind_int64(st, 2, after_key_id) |
			     db_bind_int64(st, 3, page_limit(limit)),
			 "validations page");
	return ret == DS_OK ? rows_each(s, st, val_page_row, &w) : ret;
}

static int waiting_row(struct store *s, struct db_stmt *st, void *ctx)
{
	const struct walk *w = ctx;
	struct store_waiting *r = malloc(sizeof(*r));
	int ret = r ? DS_OK : DS_ENOMEM;

	if (ret == DS_OK) {
		memset(r, 0, sizeof(*r));
		r->key_id = db_col_int64(st, 0);
		ret = col_names(s, st, 1, r->zone, r->child);
	}
	if (ret == DS_OK)
		ret = key_state_from_str(db_col_text(st, 5), &r->state);
	if (ret == DS_OK) {
		r->alg = (uint8_t)db_col_int(st, 3);
		r->tag = (uint16_t)db_col_int(st, 4);
		r->created = db_col_int64(st, 6);
		r->since = db_col_int64(st, 7);
		r->tag_shared = db_col_int(st, 8) != 0;
		r->validated = db_col_int(st, 9) != 0;
		r->attempts = (unsigned)db_col_int(st, 10);
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
	struct db_stmt *st = st_get(s, ST_WAITING_PAGE);
	struct walk w = {.cb.waiting = cb, .arg = arg};
	/* key ids are positive: (INT64_MIN, 0) is before every row */
	int ret = bind_check(s, st,
			     db_bind_int64(st, 1, after_key_id != 0 ? after_since : INT64_MIN) |
				 db_bind_int64(st, 2, after_key_id) |
				 db_bind_int64(st, 3, page_limit(limit)),
			     "waiting keys page");
	return ret == DS_OK ? rows_each(s, st, waiting_row, &w) : ret;
}

int store_waiting_count(struct store *s, int64_t *n)
{
	return count_query(s, ST_WAITING_COUNT, n, false);
}

int store_key_tag_shared(struct store *s, const struct store_key *k, bool *shared)
{
	struct db_stmt *st = st_get(s, ST_KEY_TAG_SHARED);
	int64_t n = 0;
	int ret = bind_check(s, st,
			     db_bind_int64(st, 1, k->child_id) | db_bind_int64(st, 2, k->tag) |
				 db_bind_int64(st, 3, k->id),
			     "key tag shared");
	if (ret != DS_OK)
		return ret;
	int rc = db_step(st);
	if (rc == DB_ROW)
		n = db_col_int64(st, 0);
	else
		ret = rc == DB_DONE ? DS_ESTORE : rc;
	st_done(st);
	*shared = n != 0;
	return ret;
}

static int audit_row(struct store *s, struct db_stmt *st, void *ctx)
{
	const struct walk *w = ctx;
	struct audit_row r = {
	    .id = db_col_int64(st, 0),
	    .a =
		{
		    .time = db_col_int64(st, 1),
		    .client = db_col_text(st, 2),
		    .zone = db_col_text(st, 3),
		    .child = db_col_text(st, 4),
		    .key_tag = (int)col_time(st, 5),
		    .actor = db_col_text(st, 6),
		    .request = db_col_text(st, 7),
		    .result = db_col_text(st, 8),
		    .rcode = db_col_int(st, 9),
		    .reason = db_col_text(st, 10),
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
	struct db_stmt *st;
	bool by_child;
	int ret;

	if (f == NULL)
		f = &none;
	by_child = f->child != NULL;
	st = st_get(s, by_child ? ST_AUDIT_PAGE_CHILD : ST_AUDIT_PAGE);
	/* Filters that do not apply become bounds every row meets. */
	ret = bind_check(s, st,
			 db_bind_int64(st, 1, after_id != 0 ? after_id : INT64_MAX) |
			     db_bind_text(st, 2, f->result) |
			     db_bind_int64(st, 3, f->since != 0 ? f->since : INT64_MIN) |
			     db_bind_int64(st, 4, f->until != 0 ? f->until : INT64_MAX) |
			     db_bind_int64(st, 5, page_limit(limit)) |
			     (by_child ? db_bind_text(st, 6, f->child) : DS_OK),
			 "audit page");
	return ret == DS_OK ? rows_each(s, st, audit_row, &w) : ret;
}

/* A row of a delivery SELECT (the columns of ST_DELIVERY_GET), counted in w->n. */
static int delivery_row(struct store *s, struct db_stmt *st, void *ctx)
{
	struct walk *w = ctx;
	struct delivery_row d = {
	    .id = db_col_int64(st, 0),
	    .change_id = db_col_int64(st, 1),
	    .zone = db_col_text(st, 2),
	    .child = db_col_text(st, 3),
	    .backend = db_col_text(st, 4),
	    .state = db_col_text(st, 5),
	    .attempts = db_col_int(st, 6),
	    .next_attempt = db_col_int64(st, 7),
	    .last_attempt = col_time(st, 8),
	    .delivered_at = col_time(st, 9),
	    .last_error = db_col_text(st, 10),
	    .changes = db_col_text(st, 11),
	    .created = db_col_int64(st, 12),
	};

	(void)s;
	w->n++;
	return w->cb.delivery(w->arg, &d);
}

/* Walk the rows of a delivery SELECT, counting them in *n. */
static int deliveries_walk(struct store *s, struct db_stmt *st, store_delivery_cb cb, void *arg,
			   size_t *n)
{
	struct walk w = {.cb.delivery = cb, .arg = arg};
	int ret = rows_each(s, st, delivery_row, &w);

	*n = w.n;
	return ret;
}

int store_deliveries_page(struct store *s, const char *state, int64_t after_id, size_t limit,
			  store_delivery_cb cb, void *arg)
{
	struct db_stmt *st;
	size_t n;
	int ret;

	if (state != NULL && strcmp(state, "pending") != 0 && strcmp(state, "done") != 0)
		return DS_EINVAL;
	st = st_get(s, state != NULL ? ST_DELIVERIES_STATE : ST_DELIVERIES_PAGE);
	ret = bind_check(s, st,
			 db_bind_int64(st, 1, after_id != 0 ? after_id : INT64_MAX) |
			     db_bind_int64(st, 2, page_limit(limit)) |
			     (state != NULL ? db_bind_text(st, 3, state) : DS_OK),
			 "deliveries page");
	return ret == DS_OK ? deliveries_walk(s, st, cb, arg, &n) : ret;
}

int store_delivery_get(struct store *s, int64_t id, store_delivery_cb cb, void *arg)
{
	struct db_stmt *st = st_get(s, ST_DELIVERY_GET);
	size_t n = 0;
	int ret = bind_check(s, st, db_bind_int64(st, 1, id), "delivery get");

	if (ret == DS_OK)
		ret = deliveries_walk(s, st, cb, arg, &n);
	return ret == DS_OK && n == 0 ? DS_ENOENT : ret;
}

int store_delivery_retry(struct store *s, int64_t id, int64_t now)
{
	struct db_stmt *st = st_get(s, ST_DELIVERY_RETRY);
	int rc, ret = bind_exec(s, st, db_bind_int64(st, 1, id) | db_bind_int64(st, 2, now),
				"delivery retry");
	if (ret != DS_OK || db_changes(s->db) > 0)
		return ret;
	/* Nothing pending by that id: say whether it is missing or done (the
	 * only other state; a done delivery never becomes pending again). */
	st = st_get(s, ST_DELIVERY_STATE);
	ret = bind_check(s, st, db_bind_int64(st, 1, id), "delivery state");
	if (ret != DS_OK)
		return ret;
	rc = db_step(st);
	ret = rc == DB_ROW ? DS_EEXIST : rc == DB_DONE ? DS_ENOENT : rc;
	st_done(st);
	return ret;
}

/* ---- several nodes on one store -------------------------------------------- */

bool store_shared(const struct store *s)
{
	return db_is_pg(s->db);
}

static char node_name[300];

static void node_name_make(void)
{
	char host[256] = "";
	unsigned nonce = 0;

	if (gethostname(host, sizeof(host) - 1) != 0)
		snprintf(host, sizeof(host), "?");
	/* containers may share a host name and a PID: a random part keeps two
	 * processes apart */
	if (RAND_bytes((unsigned char *)&nonce, sizeof(nonce)) != 1)
		nonce = (unsigned)time(NULL) ^ (unsigned)getpid();
	snprintf(node_name, sizeof(node_name), "%s:%08x:%ld", host, nonce, (long)getpid());
}

const char *store_node_name(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, node_name_make);
	return node_name;
}

int store_lease_take(struct store *s, const char *name, const char *holder, int64_t now,
		     int64_t until)
{
	struct db_stmt *st = st_get(s, ST_LEASE_TAKE);
	bool own;
	int ret = w_start(s, &own);

	if (ret != DS_OK)
		return ret;
	ret = bind_check(s, st,
			 db_bind_text(st, 1, name) | db_bind_text(st, 2, holder) |
			     db_bind_int64(st, 3, now) | db_bind_int64(st, 4, until),
			 "lease take");
	if (ret == DS_OK)
		ret = step_id(st, NULL);
	ret = w_finish(s, own, ret == DS_ENOENT ? DS_EEXIST : ret);
	return ret;
}

int store_lease_drop(struct store *s, const char *name, const char *holder)
{
	struct db_stmt *st = st_get(s, ST_LEASE_DROP);
	bool own;
	int ret = w_start(s, &own);

	if (ret != DS_OK)
		return ret;
	ret =
	    bind_exec(s, st, db_bind_text(st, 1, name) | db_bind_text(st, 2, holder), "lease drop");
	return w_finish(s, own, ret);
}

int store_replay_find(struct store *s, const uint8_t digest[32], int64_t now, int *rcode)
{
	struct db_stmt *st = st_get(s, ST_REPLAY_FIND);
	int64_t rc = 0;
	int ret = bind_check(s, st, db_bind_blob(st, 1, digest, 32) | db_bind_int64(st, 2, now),
			     "replay find");

	if (ret == DS_OK)
		ret = step_id(st, &rc);
	if (ret == DS_OK)
		*rcode = (int)rc;
	return ret;
}

int store_keys_watch(struct store *s, int *fd)
{
	if (s->db->ops->listen == NULL)
		return DS_ENOTSUP;
	int ret = s->db->ops->listen(s->db, STORE_KEYS_CHANNEL);
	if (ret == DS_OK)
		*fd = s->db->ops->fd(s->db);
	return ret;
}

int store_keys_fd(struct store *s)
{
	return s->db->ops->fd != NULL ? s->db->ops->fd(s->db) : -1;
}

struct key_news {
	store_key_news_cb cb;
	void *arg;
};

/* "ID" or "del ID ALG TAG CHILD" into n; false when it is neither. */
static bool key_news_parse(const char *p, struct store_key_news *n)
{
	long long id;
	unsigned alg, tag;
	int at = 0;

	if (sscanf(p, "%lld%n", &id, &at) == 1 && p[at] == '\0' && id > 0) {
		n->what = KEY_NEWS_WRITTEN;
		n->key_id = id;
		return true;
	}
	if (sscanf(p, "del %lld %u %u %n", &id, &alg, &tag, &at) != 3 || at == 0 || id <= 0 ||
	    alg > 255 || tag > 65535 || dname_from_str(p + at, n->child) <= 0)
		return false;
	n->what = KEY_NEWS_DELETED;
	n->key_id = id;
	n->alg = (uint8_t)alg;
	n->tag = (uint16_t)tag;
	return true;
}

static void key_news_one(void *arg, const char *payload)
{
	const struct key_news *kn = arg;
	struct store_key_news n = {.what = KEY_NEWS_ALL};

	/* a lost session, or anything unexpected: read every key */
	if (payload == NULL || !key_news_parse(payload, &n))
		n.what = KEY_NEWS_ALL;
	kn->cb(kn->arg, &n);
}

int store_keys_news(struct store *s, store_key_news_cb cb, void *arg)
{
	struct key_news kn = {cb, arg};

	if (s->db->ops->notices == NULL)
		return DS_ENOTSUP;
	return s->db->ops->notices(s->db, key_news_one, &kn);
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

static int minute_row(struct store *s, struct db_stmt *st, void *ctx)
{
	const struct walk *w = ctx;
	struct store_minute m = {.minute = db_col_int64(st, 0) * 60,
				 .accepted = db_col_int64(st, 1),
				 .refused = db_col_int64(st, 2)};

	(void)s;
	return w->cb.minute(w->arg, &m);
}

int store_updates_per_minute(struct store *s, int64_t since, int64_t until, store_minute_cb cb,
			     void *arg)
{
	struct db_stmt *st = st_get(s, ST_UPDATES_PER_MINUTE);
	struct walk w = {.cb.minute = cb, .arg = arg};
	int ret;

	if (since < 0 || until < since)
		return DS_EINVAL;
	ret = bind_check(s, st, db_bind_int64(st, 1, since) | db_bind_int64(st, 2, until),
			 "updates per minute");
	return ret == DS_OK ? rows_each(s, st, minute_row, &w) : ret;
}

/*
 * store/db.h -- the SQL engines under the store (internal to store/).
 *
 * store/store.c holds the store's logic and its SQL once; a driver runs
 * that SQL on one engine: store/db_sqlite.c (an embedded file) or
 * store/db_pg.c (a PostgreSQL server shared by several dsyncd).  The SQL is
 * written in the dialect both understand: parameters as ?1, ?2 ... (the
 * PostgreSQL driver renumbers them $1, $2 ...), ON CONFLICT upserts,
 * RETURNING, row values; the few statements the engines cannot share have
 * a PostgreSQL text of their own (store.c, st_pg).
 *
 * A struct db is one connection, used by one thread at a time.  Its
 * statements are prepared once (db_prepare) and reused: bind, step until
 * DB_DONE (or stop early), reset.  Column values read after a DB_ROW stay
 * valid until the next step or reset of that statement.
 *
 * Errors: the driver logs what failed (with the engine's message) and
 * returns DS_EBUSY when the engine says "try again" (a lock held too long)
 * or DS_ESTORE for anything else, including a lost connection, which the
 * PostgreSQL driver re-opens at the next use.
 */
#ifndef DS_STORE_DB_H
#define DS_STORE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DB_ROW 1  /* db_step: a row is ready */
#define DB_DONE 0 /* db_step: no more rows */

struct db;
struct db_stmt;

/*
 * A schema: a new store is created at version base by running create, then
 * brought up by migrations[v - base] (from v to v + 1) for v >= base.  Each
 * list ends with NULL.
 */
struct db_schema {
	int base;
	const char *const *create;
	const char *const *const *migrations;
	size_t nmigrations;
};

/* The connection of a store (store.c), for store/copy.c. */
struct store;
struct db *store_db(struct store *s);

/* The store's tables on each engine (store/schema.c). */
extern const struct db_schema store_schema_sqlite, store_schema_pg;

struct db_ops {
	const char *name; /* "sqlite", "postgresql" */
	void (*close)(struct db *db);
	int (*exec)(struct db *db, const char *sql);
	int (*prepare)(struct db *db, const char *sql, struct db_stmt **out);
	void (*finalize)(struct db_stmt *st);
	int (*bind_int64)(struct db_stmt *st, int i, int64_t v);
	int (*bind_blob)(struct db_stmt *st, int i, const void *p, size_t n);
	int (*bind_text)(struct db_stmt *st, int i, const char *t);
	int (*bind_null)(struct db_stmt *st, int i);
	int (*step)(struct db_stmt *st);
	void (*reset)(struct db_stmt *st);
	bool (*col_null)(struct db_stmt *st, int col);
	int64_t (*col_int64)(struct db_stmt *st, int col);
	const void *(*col_blob)(struct db_stmt *st, int col, size_t *n);
	const char *(*col_text)(struct db_stmt *st, int col);
	int64_t (*changes)(struct db *db);
	bool (*in_tx)(struct db *db);
	/* BEGIN taking the store's write lock (one writer at a time) */
	int (*begin)(struct db *db);
	/* announcements (NULL where the engine has none): listen on a channel,
	 * the descriptor to poll, and the announcements received (payload NULL:
	 * some may have been lost) */
	int (*listen)(struct db *db, const char *channel);
	int (*fd)(struct db *db);
	int (*notices)(struct db *db, void (*cb)(void *arg, const char *payload), void *arg);
	/* rows read one at a time (NULL: they are already) */
	void (*stream)(struct db_stmt *st);
};

/* What every driver's struct db starts with. */
struct db {
	const struct db_ops *ops;
	char *label; /* for logs: the file, or the server without password */
};

/* What every driver's struct db_stmt starts with. */
struct db_stmt {
	struct db *db;
};

/*
 * Open a connection: spec is a SQLite file (or ":memory:"), or
 * "postgresql:" followed by a libpq connection string.  *out is NULL on
 * error.  The schema is not touched (db_migrate does).
 */
int db_open(const char *spec, struct db **out);
/* Bring the schema to the engine's last version; *version is set. */
int db_migrate(struct db *db, const struct db_schema *sqlite, const struct db_schema *pg, int last,
	       int *version);
bool db_is_pg(const struct db *db);

int db_sqlite_open(const char *path, struct db **out);
int db_pg_open(const char *conninfo, struct db **out);

static inline int db_prepare(struct db *db, const char *sql, struct db_stmt **out)
{
	return db->ops->prepare(db, sql, out);
}
/* NULL is a no-op. */
static inline void db_finalize(struct db_stmt *st)
{
	if (st != NULL)
		st->db->ops->finalize(st);
}
/*
 * Rows of st read one at a time, not all at its first step: for walks over
 * a whole zone or every key.  Until its last row (or db_reset) no other
 * statement may run on the connection.
 */
static inline void db_stream(struct db_stmt *st)
{
	if (st->db->ops->stream != NULL)
		st->db->ops->stream(st);
}
/* Close a connection (an open transaction is rolled back); NULL is a no-op. */
static inline void db_close(struct db *db)
{
	if (db != NULL)
		db->ops->close(db);
}
static inline int db_bind_int64(struct db_stmt *st, int i, int64_t v)
{
	return st->db->ops->bind_int64(st, i, v);
}
static inline int db_bind_blob(struct db_stmt *st, int i, const void *p, size_t n)
{
	return st->db->ops->bind_blob(st, i, p, n);
}
/* NULL binds SQL NULL. */
static inline int db_bind_text(struct db_stmt *st, int i, const char *t)
{
	return st->db->ops->bind_text(st, i, t);
}
static inline int db_bind_null(struct db_stmt *st, int i)
{
	return st->db->ops->bind_null(st, i);
}
static inline int db_step(struct db_stmt *st)
{
	return st->db->ops->step(st);
}
/* Done with a statement: ready for new bindings (none kept). */
static inline void db_reset(struct db_stmt *st)
{
	st->db->ops->reset(st);
}
static inline bool db_col_null(struct db_stmt *st, int col)
{
	return st->db->ops->col_null(st, col);
}
static inline int64_t db_col_int64(struct db_stmt *st, int col)
{
	return st->db->ops->col_int64(st, col);
}
static inline int db_col_int(struct db_stmt *st, int col)
{
	return (int)st->db->ops->col_int64(st, col);
}
/* NULL (and *n 0) for SQL NULL. */
static inline const void *db_col_blob(struct db_stmt *st, int col, size_t *n)
{
	return st->db->ops->col_blob(st, col, n);
}
/* NULL for SQL NULL. */
static inline const char *db_col_text(struct db_stmt *st, int col)
{
	return st->db->ops->col_text(st, col);
}
/* Rows changed by the last INSERT, UPDATE or DELETE of the connection
 * (not counting the rows of foreign-key cascades and triggers). */
static inline int64_t db_changes(struct db *db)
{
	return db->ops->changes(db);
}
static inline bool db_in_tx(struct db *db)
{
	return db->ops->in_tx(db);
}
static inline int db_exec(struct db *db, const char *sql)
{
	return db->ops->exec(db, sql);
}
static inline int db_begin(struct db *db)
{
	return db->ops->begin(db);
}

#endif

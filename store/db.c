/*
 * store/db.c -- choosing the engine, and the schema's versions.
 */
#include "store/db.h"

#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "store/store.h"

#define PG_PREFIX STORE_PG_PREFIX

bool store_spec_is_pg(const char *spec)
{
	return spec != NULL && strncmp(spec, PG_PREFIX, strlen(PG_PREFIX)) == 0;
}

int db_open(const char *spec, struct db **out)
{
	if (spec == NULL || out == NULL)
		return DS_EINVAL;
	if (store_spec_is_pg(spec))
		return db_pg_open(spec + strlen(PG_PREFIX), out);
	return db_sqlite_open(spec, out);
}

bool db_is_pg(const struct db *db)
{
	return strcmp(db->ops->name, "postgresql") == 0;
}

/* Run a statement with one integer parameter (NULL: none) giving at most one
 * integer (*out 0 when there is no row). */
static int query_int(struct db *db, const char *sql, const int64_t *bind, int64_t *out)
{
	struct db_stmt *st;
	int ret = db_prepare(db, sql, &st);

	if (ret != DS_OK)
		return ret;
	if (bind != NULL)
		ret = db_bind_int64(st, 1, *bind);
	if (ret == DS_OK)
		ret = db_step(st);
	*out = ret == DB_ROW ? db_col_int64(st, 0) : 0;
	if (ret == DB_ROW || ret == DB_DONE)
		ret = DS_OK;
	db_reset(st);
	db_finalize(st);
	return ret;
}

/* Run each statement of a NULL-terminated list. */
static int exec_list(struct db *db, const char *const *list)
{
	int ret = DS_OK;

	for (; *list != NULL && ret == DS_OK; list++)
		ret = db_exec(db, *list);
	return ret;
}

/* One step of the schema, in its own transaction: version 0 to the base, or
 * v to v + 1.  *v is the version found (another node may have moved it on). */
static int migrate_step(struct db *db, const struct db_schema *sc, int last, int *v)
{
	int64_t found = 0, next, dummy;
	int ret = db_begin(db);

	if (ret == DS_OK)
		ret = db_exec(db, "CREATE TABLE IF NOT EXISTS schema_version "
				  "(version INTEGER NOT NULL)");
	if (ret == DS_OK)
		ret = query_int(db, "SELECT coalesce(max(version), 0) FROM schema_version", NULL,
				&found);
	*v = (int)found;
	if (ret == DS_OK && found < last) {
		if (found == 0) {
			next = sc->base;
			ret = exec_list(db, sc->create);
		} else if (found >= sc->base && (size_t)(found - sc->base) < sc->nmigrations) {
			next = found + 1;
			ret = exec_list(db, sc->migrations[found - sc->base]);
		} else {
			log_err("store %s: no migration from schema version %lld", db->label,
				(long long)found);
			ret = DS_ESTORE;
		}
		if (ret == DS_OK)
			ret = db_exec(db, "DELETE FROM schema_version");
		if (ret == DS_OK)
			ret = query_int(db, "INSERT INTO schema_version (version) VALUES (?1)",
					&next, &dummy);
		if (ret == DS_OK) {
			log_notice("store %s: schema at version %lld", db->label, (long long)next);
			*v = (int)next;
		}
	}
	if (ret != DS_OK) {
		if (db_in_tx(db))
			db_exec(db, "ROLLBACK");
		return ret;
	}
	return db_exec(db, "COMMIT");
}

int db_migrate(struct db *db, const struct db_schema *sqlite, const struct db_schema *pg, int last,
	       int *version)
{
	const struct db_schema *sc = db_is_pg(db) ? pg : sqlite;
	int v = 0, ret;

	do {
		ret = migrate_step(db, sc, last, &v);
		if (ret != DS_OK)
			return ret;
		if (v > last) {
			log_err("store %s: schema version %d is newer than this build's %d",
				db->label, v, last);
			return DS_ESTORE;
		}
	} while (v < last);
	*version = v;
	return DS_OK;
}

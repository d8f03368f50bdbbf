/*
 * store/copy.c -- a whole store into another, on either engine, checked.
 *
 * `dsyncd store-copy` moves a SQLite store into PostgreSQL (or back): every
 * row of every table, ids kept, in one transaction on the target, which
 * must be empty; the source is read in one snapshot (a read transaction;
 * REPEATABLE READ on PostgreSQL), in which the comparison is made too.  The counts the schema keeps
 * by triggers (key_counts, zone_counts) are made again by the target's own triggers, and leases,
 * which belong to running nodes, are not copied.  Then both stores are compared table by table: the
 * number of rows and a digest of their contents, which must be equal, counts included.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "store/db.h"
#include "store/store.h"

/* One table: its columns and their kinds (i integer, t text, b blob),
 * its identity column's name when it has one.  Parents before children. */
struct ctable {
	const char *name, *cols, *kinds, *identity;
	bool copied;		 /* false: kept by triggers, compared only */
	const char *where;	 /* the rows compared (NULL: all) */
	const char *sqlite_rows; /* on SQLite, the rows copied and compared (NULL: all) */
};

// clang-format off
static const struct ctable tables[] = {
    {"zones", "id, name, name_text", "ibt", "id", true, NULL, NULL},
    {"children", "id, zone_id, name, sort_key, name_text, created, updated", "iibbtii", "id", true, NULL, NULL},
    {"keys", "id, child_id, algorithm, key_tag, flags, rdata, public_key, state, trust_method, "
     "source, created, updated", "iiiiibttttii", "id", true, NULL, NULL},
    {"validation", "key_id, next_at, attempts, rounds, started, updated, last_result, methods",
     "iiiiiitt", NULL, true, NULL, NULL},
    {"delegation", "child_id, owner_key, type, rdata_canon, owner, ttl, rdata, owner_text, "
     "rdata_text", "ibibbibtt", NULL, true, NULL, NULL},
    {"outbox_change", "id, zone, zone_text, child, child_text, changes, created", "ibtbtti", "id",
     true, NULL, NULL},
    {"delivery", "id, change_id, backend, state, attempts, next_attempt, last_attempt, "
     "last_error, delivered_at", "iittiiiti", "id", true, NULL, NULL},
    {"audit", "id, time, client, zone, child, key_tag, actor, request, result, rcode, reason",
     "iittti tttit", "id", true, NULL, NULL},
    {"backend_status", "zone, backend, last_success, last_failure, last_error", "btiit", NULL,
     true, NULL, NULL},
    /* SQLite's replay rows have no key (schema 9): a digest stored twice
     * counts by its first row, as the receiver loads it */
    {"replay", "digest, expires, rcode", "bii", NULL, true, NULL,
     "rowid IN (SELECT min(rowid) FROM replay GROUP BY digest)"},
    /* a count gone to 0 may keep its row on one side only */
    {"key_counts", "state, n", "ti", NULL, false, "n > 0", NULL},
    {"zone_counts", "zone_id, children", "ii", NULL, false, "children > 0", NULL},
};
// clang-format on
#define NTABLES (sizeof(tables) / sizeof(tables[0]))

/* The kinds of t without the blanks that keep the table readable. */
static size_t kinds(const struct ctable *t, char *out, size_t len)
{
	size_t n = 0;

	for (const char *k = t->kinds; *k && n + 1 < len; k++)
		if (*k != ' ')
			out[n++] = *k;
	out[n] = '\0';
	return n;
}

/* Bind column c of the source's row as parameter c + 1 of ins. */
static int bind_col(struct db_stmt *sel, struct db_stmt *ins, int c, char kind)
{
	size_t n;
	const void *p;

	if (db_col_null(sel, c))
		return db_bind_null(ins, c + 1);
	switch (kind) {
	case 'i':
		return db_bind_int64(ins, c + 1, db_col_int64(sel, c));
	case 't':
		return db_bind_text(ins, c + 1, db_col_text(sel, c));
	default:
		p = db_col_blob(sel, c, &n);
		return db_bind_blob(ins, c + 1, p, n);
	}
}

/* A row's digest: each column as a kind, a length and its octets. */
static void row_digest(EVP_MD_CTX *h, struct db_stmt *st, const char *k, size_t ncols,
		       uint8_t out[32])
{
	char num[32];

	EVP_DigestInit_ex(h, EVP_sha256(), NULL);
	for (size_t c = 0; c < ncols; c++) {
		size_t n = 0;
		const void *p = NULL;
		if (db_col_null(st, (int)c)) {
			p = "N";
			n = 1;
		} else if (k[c] == 'i') {
			n = (size_t)snprintf(num, sizeof(num), "I%lld",
					     (long long)db_col_int64(st, (int)c));
			p = num;
		} else if (k[c] == 't') {
			p = db_col_text(st, (int)c);
			n = strlen(p);
		} else {
			p = db_col_blob(st, (int)c, &n);
		}
		uint64_t len = n;
		EVP_DigestUpdate(h, &k[c], 1);
		EVP_DigestUpdate(h, &len, sizeof(len));
		if (n > 0)
			EVP_DigestUpdate(h, p, n);
	}
	EVP_DigestFinal_ex(h, out, NULL);
}

/* The rows of t that db holds for a copy: all but, on SQLite, sqlite_rows'. */
static const char *rows_of(struct db *db, const struct ctable *t)
{
	return t->sqlite_rows != NULL && !db_is_pg(db) ? t->sqlite_rows : "true";
}

/* Rows and the XOR of their digests (the rows compared are unique: no two cancel). */
struct tsum {
	int64_t rows;
	uint8_t x[32];
};

static int table_sum(struct db *db, const struct ctable *t, struct tsum *sum)
{
	char sql[512], k[32];
	size_t nk = kinds(t, k, sizeof(k));
	struct db_stmt *st = NULL;
	EVP_MD_CTX *h = EVP_MD_CTX_new();
	uint8_t d[32];
	int rc = h != NULL ? DS_OK : DS_ENOMEM;

	memset(sum, 0, sizeof(*sum));
	snprintf(sql, sizeof(sql), "SELECT %s FROM %s WHERE %s AND %s", t->cols, t->name,
		 t->where ? t->where : "true", rows_of(db, t));
	if (rc == DS_OK)
		rc = db_prepare(db, sql, &st);
	while (rc == DS_OK && (rc = db_step(st)) == DB_ROW) {
		row_digest(h, st, k, nk, d);
		for (int i = 0; i < 32; i++)
			sum->x[i] ^= d[i];
		sum->rows++;
		rc = DS_OK;
	}
	if (rc == DB_DONE)
		rc = DS_OK;
	if (st != NULL)
		db_reset(st);
	db_finalize(st);
	EVP_MD_CTX_free(h);
	return rc;
}

/* Copy one table's rows from src to dst (in dst's open transaction). */
static int table_copy(struct db *src, struct db *dst, const struct ctable *t, int64_t *rows)
{
	char sel[512], ins[1024], k[32];
	size_t nk = kinds(t, k, sizeof(k)), at;
	struct db_stmt *s = NULL, *i = NULL;
	int rc;

	snprintf(sel, sizeof(sel), "SELECT %s FROM %s WHERE %s", t->cols, t->name, rows_of(src, t));
	at = (size_t)snprintf(ins, sizeof(ins), "INSERT INTO %s (%s) VALUES (", t->name, t->cols);
	for (size_t c = 0; c < nk; c++)
		at += (size_t)snprintf(ins + at, sizeof(ins) - at, "%s?%zu", c ? ", " : "", c + 1);
	snprintf(ins + at, sizeof(ins) - at, ")");
	rc = db_prepare(src, sel, &s);
	if (rc == DS_OK)
		rc = db_prepare(dst, ins, &i);
	*rows = 0;
	while (rc == DS_OK && (rc = db_step(s)) == DB_ROW) {
		rc = DS_OK;
		for (size_t c = 0; rc == DS_OK && c < nk; c++)
			rc = bind_col(s, i, (int)c, k[c]);
		if (rc == DS_OK && (rc = db_step(i)) == DB_DONE)
			rc = DS_OK;
		db_reset(i);
		(*rows)++;
	}
	if (rc == DB_DONE)
		rc = DS_OK;
	if (s != NULL)
		db_reset(s);
	db_finalize(s);
	db_finalize(i);
	/* PostgreSQL's identity goes on after the ids copied */
	if (rc == DS_OK && t->identity != NULL && db_is_pg(dst)) {
		snprintf(ins, sizeof(ins),
			 "SELECT setval(pg_get_serial_sequence('%s', '%s'), "
			 "(SELECT coalesce(max(%s), 0) + 1 FROM %s), false)",
			 t->name, t->identity, t->identity, t->name);
		rc = db_exec(dst, ins);
	}
	return rc;
}

/* True when every copied table of db is empty. */
static bool empty(struct db *db, const char **which)
{
	struct tsum sum;

	for (size_t t = 0; t < NTABLES; t++) {
		if (tables[t].copied &&
		    (table_sum(db, &tables[t], &sum) != DS_OK || sum.rows != 0)) {
			*which = tables[t].name;
			return false;
		}
	}
	return true;
}

/* Every table: the same rows on both sides.  The report goes to out. */
int store_compare(struct store *a, struct store *b, FILE *out)
{
	int diff = 0;

	for (size_t t = 0; t < NTABLES; t++) {
		struct tsum sa, sb;
		int rc = table_sum(store_db(a), &tables[t], &sa);
		if (rc == DS_OK)
			rc = table_sum(store_db(b), &tables[t], &sb);
		if (rc != DS_OK)
			return rc;
		bool same = sa.rows == sb.rows && memcmp(sa.x, sb.x, 32) == 0;
		fprintf(out, "%-15s %10lld rows  %s\n", tables[t].name, (long long)sa.rows,
			same ? "same" : "DIFFERENT");
		diff += !same;
	}
	return diff ? DS_EEXIST : DS_OK;
}

static int copy_all(struct store *from, struct store *to, FILE *out)
{
	const char *which = NULL;
	int64_t rows;
	int rc = DS_OK;

	if (!empty(store_db(to), &which)) {
		fprintf(out, "store-copy: the target's %s table is not empty; nothing copied\n",
			which);
		return DS_EREFUSED;
	}
	for (size_t t = 0; rc == DS_OK && t < NTABLES; t++) {
		if (!tables[t].copied)
			continue;
		rc = table_copy(store_db(from), store_db(to), &tables[t], &rows);
		if (rc != DS_OK)
			fprintf(out, "store-copy: copying %s failed: %s\n", tables[t].name,
				ds_strerror(rc));
	}
	return rc;
}

int store_copy(const char *from_spec, const char *to_spec, FILE *out)
{
	struct store *from = NULL, *to = NULL;
	int rc = store_open(from_spec, &from);

	if (rc == DS_OK)
		rc = store_open(to_spec, &to);
	/* the source read in one snapshot (copied and compared in it), the
	 * target written all or nothing */
	if (rc == DS_OK)
		rc = db_exec(store_db(from), db_is_pg(store_db(from))
						 ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
						 : "BEGIN");
	if (rc == DS_OK && (rc = store_begin(to)) == DS_OK) {
		rc = copy_all(from, to, out);
		rc = rc == DS_OK ? store_commit(to) : (store_rollback(to), rc);
	}
	if (rc == DS_OK) {
		fprintf(out, "store-copy: %s -> %s\n", store_label(from), store_label(to));
		rc = store_compare(from, to, out);
		if (rc == DS_EEXIST)
			fprintf(out, "store-copy: the stores differ after the copy\n");
	}
	if (from != NULL)
		store_rollback(from);
	store_close(to);
	store_close(from);
	return rc;
}

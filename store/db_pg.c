/*
 * store/db_pg.c -- the store's SQL on a PostgreSQL server (libpq).
 *
 * One session per struct db.  Statements are prepared on the server at
 * their first use in a session (PQprepare, parameters numbered $1, $2 ...
 * from the shared text's ?1, ?2 ...) and run with PQexecPrepared: values
 * travel apart from the SQL, integers and text as text, blobs as binary;
 * results come back as text, BYTEA in hex (decoded by libpq).
 *
 * Several dsyncd may share the database.  A transaction that writes
 * (db_begin) first takes one transaction-scoped advisory lock, the same for
 * every node: writers take turns exactly as SQLite's BEGIN IMMEDIATE makes
 * them, so a change read and written in one transaction cannot be lost to
 * another node's.  Waiting for that lock, or any other, ends after
 * LOCK_TIMEOUT with DS_EBUSY.
 *
 * Durability: a COMMIT returns once the server has flushed its WAL
 * (synchronous_commit is set back to "on" for the session when the server
 * has it "off").
 *
 * A lost session (server restarted, network cut) fails the statement in
 * flight with DS_ESTORE; the next use opens a new session and prepares the
 * statements again, so the store recovers by itself once the server is back.
 */
#include "store/db.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "common/log.h"
#include "store/store.h"

#define LOCK_TIMEOUT "5s"
/* the writers' advisory lock: any number, the same on every node ("dsyn") */
#define WRITE_LOCK "1685288302"
#define CONNECT_TIMEOUT "5"
#define RETRY_MS 1000 /* between attempts to connect again: fail fast meanwhile */

struct db_pg {
	struct db base;
	PGconn *conn;
	unsigned gen;	  /* session number: statements prepare again in a new one */
	unsigned nstmt;	  /* statement names: "ds1", "ds2" ... */
	int64_t changes;  /* rows of the last command */
	bool broken;	  /* the session is lost: open a new one at the next use */
	char *channel;	  /* the channel listened on (NULL: none) */
	bool missed;	  /* announcements may have been lost with a session */
	bool tx;	  /* a transaction of ours is open (BEGIN done, no COMMIT/ROLLBACK yet) */
	bool tx_lost;	  /* ... and went with a lost session: only ROLLBACK until it is ended */
	int64_t retry_at; /* no new connection attempt before (monotonic ms) */
	bool said_down;	  /* "unreachable" logged once until it is back */
};

struct param {
	char *val; /* NULL: SQL NULL */
	int len, fmt;
};

/* What ends a transaction (the statements whose success clears tx). */
enum tx_kind { TXK_OTHER, TXK_COMMIT, TXK_ROLLBACK };

struct stmt_pg {
	struct db_stmt base;
	enum tx_kind kind;
	char name[16];
	char *sql; /* with $N */
	int nparams;
	struct param *p;
	unsigned gen; /* session it was prepared in (0: none) */
	bool stream;  /* rows one at a time (db_stream): sent, not yet all read */
	bool sent;
	PGresult *res;
	int row, nrows;
	unsigned char **blobs; /* decoded BYTEA columns (PQunescapeBytea) */
	int nblobs;
};

static struct db_pg *dbp(struct db *db)
{
	return (struct db_pg *)db;
}

static struct stmt_pg *stp(struct db_stmt *st)
{
	return (struct stmt_pg *)st;
}

static void notice(void *arg, const char *msg)
{
	(void)arg;
	log_debug("store: postgresql: %.*s", (int)strcspn(msg, "\n"), msg);
}

/* A label for logs: user@host:port/dbname, never the password. */
static char *pg_label(PGconn *c)
{
	char buf[512];
	const char *host = PQhost(c);

	snprintf(buf, sizeof(buf), "postgresql://%s@%s:%s/%s", PQuser(c) ? PQuser(c) : "",
		 host && host[0] == '/' ? "[socket]"
		 : host			? host
					: "",
		 PQport(c) ? PQport(c) : "", PQdb(c) ? PQdb(c) : "");
	return strdup(buf);
}

/* Whether the session has a transaction open, as the server says. */
static void tx_track(struct db *db)
{
	PGTransactionStatusType t = PQtransactionStatus(dbp(db)->conn);

	dbp(db)->tx = t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What a failed result means for the store. */
static int pg_fail(struct db *db, const PGresult *r, const char *what)
{
	struct db_pg *d = dbp(db);
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = r ? PQresultErrorMessage(r) : PQerrorMessage(d->conn);

	if (PQstatus(d->conn) != CONNECTION_OK || (state && strncmp(state, "08", 2) == 0) ||
	    (state && strncmp(state, "57P", 3) == 0))
		d->broken = true;
	/* the server rolled the open transaction back with the session */
	if (d->broken && d->tx) {
		d->tx = false;
		d->tx_lost = true;
	} else if (!d->broken) { /* a failed COMMIT ends the transaction, say */
		tx_track(db);
	}
	/* lock_not_available, serialization_failure, deadlock_detected */
	if (state && (strcmp(state, "55P03") == 0 || strcmp(state, "40001") == 0 ||
		      strcmp(state, "40P01") == 0)) {
		log_warning("store %s: %s: %.*s", db->label, what, (int)strcspn(msg, "\n"), msg);
		return DS_EBUSY;
	}
	log_err("store %s: %s: %.*s%s%s", db->label, what, (int)strcspn(msg, "\n"), msg,
		state ? " SQLSTATE " : "", state ? state : "");
	return DS_ESTORE;
}

static enum tx_kind tx_kind_of(const char *sql)
{
	return strcmp(sql, "COMMIT") == 0     ? TXK_COMMIT
	       : strcmp(sql, "ROLLBACK") == 0 ? TXK_ROLLBACK
					      : TXK_OTHER;
}

/*
 * A transaction lost with its session must not go on in a new one (its
 * first writes gone, the rest autocommitted, a COMMIT "succeeding" with
 * nothing to commit): until the caller ends it, every statement fails but
 * ROLLBACK, which ends it (*done: nothing more to run).  DS_OK: go on;
 * else the error.
 */
static int tx_gate(struct db *db, enum tx_kind kind, bool *done)
{
	struct db_pg *d = dbp(db);

	*done = false;
	if (!d->tx_lost)
		return DS_OK;
	if (kind == TXK_ROLLBACK) {
		d->tx_lost = false;
		*done = true;
		return DS_OK;
	}
	log_err("store %s: the transaction was lost with the connection; it must be rolled back",
		db->label);
	return DS_ESTORE;
}

/*
 * After a statement of kind succeeded: a COMMIT of a transaction that had
 * failed is answered "ROLLBACK" (a success), which is no commit at all.
 */
static int tx_after(struct db *db, enum tx_kind kind, const PGresult *r)
{
	bool rolled_back = kind == TXK_COMMIT && strcmp(PQcmdStatus((PGresult *)r), "COMMIT") != 0;

	tx_track(db);
	if (!rolled_back)
		return DS_OK;
	log_err("store %s: COMMIT: the transaction had failed and was rolled back", db->label);
	return DS_ESTORE;
}

/* Run one command with no parameters and no rows wanted. */
static int pg_run(struct db *db, const char *sql)
{
	struct db_pg *d = dbp(db);
	PGresult *r = PQexec(d->conn, sql);
	ExecStatusType t = PQresultStatus(r);
	int ret = DS_OK;

	if (t != PGRES_COMMAND_OK && t != PGRES_TUPLES_OK) {
		ret = pg_fail(db, r, sql);
	} else {
		d->changes = strtoll(PQcmdTuples(r), NULL, 10);
		ret = tx_after(db, tx_kind_of(sql), r);
	}
	PQclear(r);
	return ret;
}

/* Settings of a new session. */
static int pg_session(struct db *db)
{
	int ret = pg_run(db, "SET lock_timeout = '" LOCK_TIMEOUT "'");

	if (ret == DS_OK)
		ret = pg_run(db, "SELECT set_config('synchronous_commit', 'on', false) "
				 "WHERE current_setting('synchronous_commit') = 'off'");
	return ret;
}

static int pg_listen_now(struct db *db)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "LISTEN %s", dbp(db)->channel);
	return pg_run(db, sql);
}

/* A usable session: open a new one when the last was lost (and no
 * transaction can be going on, since it went with the session). */
static int pg_ready(struct db *db)
{
	struct db_pg *d = dbp(db);

	if (!d->broken && PQstatus(d->conn) == CONNECTION_OK)
		return DS_OK;
	if (d->tx) { /* it went with the session */
		d->tx = false;
		d->tx_lost = true;
	}
	if (mono_ms() < d->retry_at)
		return DS_ESTORE; /* tried a moment ago: fail fast */
	PQreset(d->conn);
	if (PQstatus(d->conn) != CONNECTION_OK) {
		d->retry_at = mono_ms() + RETRY_MS;
		if (!d->said_down)
			log_err("store %s: the database is unreachable: %.*s", db->label,
				(int)strcspn(PQerrorMessage(d->conn), "\n"),
				PQerrorMessage(d->conn));
		d->said_down = true;
		d->broken = true;
		return DS_ESTORE;
	}
	d->broken = false;
	d->gen++;
	if (pg_session(db) != DS_OK || (d->channel != NULL && pg_listen_now(db) != DS_OK)) {
		d->broken = true;
		return DS_ESTORE;
	}
	d->missed = d->channel != NULL;
	if (d->said_down)
		log_notice("store %s: the database is reachable again", db->label);
	d->said_down = false;
	return DS_OK;
}

/*
 * Ready to run a statement of kind: a lost transaction's statements fail,
 * and its ROLLBACK ends it (*done), without the server; else a session
 * (made again when lost; a transaction found lost then is handled alike).
 */
static int pg_usable(struct db *db, enum tx_kind kind, bool *done)
{
	int ret = tx_gate(db, kind, done);

	if (ret != DS_OK || *done)
		return ret;
	ret = pg_ready(db);
	return ret == DS_OK ? tx_gate(db, kind, done) : ret;
}

static int pg_exec(struct db *db, const char *sql)
{
	bool done = false;
	int ret = pg_usable(db, tx_kind_of(sql), &done);

	if (ret != DS_OK || done)
		return ret;
	return pg_run(db, sql);
}

/* The shared text's ?N as $N (outside quoted literals); *n: the largest N. */
static char *pg_sql(const char *sql, int *n)
{
	char *out = malloc(strlen(sql) + 1);
	char *o = out;
	bool quoted = false;

	*n = 0;
	if (out == NULL)
		return NULL;
	for (const char *p = sql; *p; p++) {
		if (*p == '\'')
			quoted = !quoted;
		if (*p == '?' && !quoted && p[1] >= '0' && p[1] <= '9') {
			int v = (int)strtol(p + 1, NULL, 10);
			*n = v > *n ? v : *n;
			*o++ = '$';
			continue;
		}
		*o++ = *p;
	}
	*o = '\0';
	return out;
}

static int pg_prepare(struct db *db, const char *sql, struct db_stmt **out)
{
	struct db_pg *d = dbp(db);
	struct stmt_pg *st = calloc(1, sizeof(*st));

	*out = NULL;
	if (st == NULL)
		return DS_ENOMEM;
	st->base.db = db;
	st->sql = pg_sql(sql, &st->nparams);
	st->p = calloc((size_t)st->nparams + 1, sizeof(*st->p));
	if (st->sql == NULL || st->p == NULL) {
		free(st->sql);
		free(st->p);
		free(st);
		return DS_ENOMEM;
	}
	snprintf(st->name, sizeof(st->name), "ds%u", ++d->nstmt);
	st->kind = tx_kind_of(sql);
	st->row = -1;
	*out = &st->base;
	return DS_OK;
}

static void pg_reset(struct db_stmt *s)
{
	struct stmt_pg *st = stp(s);

	for (int i = 0; i < st->nparams; i++) {
		free(st->p[i].val);
		st->p[i] = (struct param){0};
	}
	PQclear(st->res);
	st->res = NULL;
	st->row = -1;
	st->nrows = 0;
	if (st->sent) { /* a walk stopped early: the rest read and dropped */
		PGresult *r;
		while ((r = PQgetResult(dbp(s->db)->conn)) != NULL)
			PQclear(r);
		st->sent = false;
	}
}

static void pg_finalize(struct db_stmt *s)
{
	struct stmt_pg *st = stp(s);

	pg_reset(s);
	for (int i = 0; i < st->nblobs; i++)
		PQfreemem(st->blobs[i]);
	free(st->blobs);
	free(st->p);
	free(st->sql);
	free(st);
}

/* Keep a copy of a parameter's value (1-based i). */
static int pg_bind(struct db_stmt *s, int i, const void *v, size_t n, int fmt)
{
	struct stmt_pg *st = stp(s);
	struct param *p;

	if (i < 1 || i > st->nparams || n > INT32_MAX)
		return DS_EINVAL;
	p = &st->p[i - 1];
	free(p->val);
	*p = (struct param){.len = (int)n, .fmt = fmt};
	if (v == NULL)
		return DS_OK;
	p->val = malloc(n + 1);
	if (p->val == NULL)
		return DS_ENOMEM;
	if (n > 0)
		memcpy(p->val, v, n);
	p->val[n] = '\0';
	return DS_OK;
}

static int pg_bind_int64(struct db_stmt *s, int i, int64_t v)
{
	char t[24];
	int n = snprintf(t, sizeof(t), "%lld", (long long)v);

	return pg_bind(s, i, t, (size_t)n, 0);
}

static int pg_bind_blob(struct db_stmt *s, int i, const void *p, size_t n)
{
	return pg_bind(s, i, n > 0 ? p : "", n, 1);
}

static int pg_bind_text(struct db_stmt *s, int i, const char *t)
{
	return pg_bind(s, i, t, t ? strlen(t) : 0, 0);
}

static int pg_bind_null(struct db_stmt *s, int i)
{
	return pg_bind(s, i, NULL, 0, 0);
}

/* Prepare in this session when not done yet, then run with the bound values. */
/* The bound values as libpq takes them. */
static void params(const struct stmt_pg *st, const char **vals, int *lens, int *fmts)
{
	for (int i = 0; i < st->nparams; i++) {
		vals[i] = st->p[i].val;
		lens[i] = st->p[i].len;
		fmts[i] = st->p[i].fmt;
	}
}

/* Prepared in this session (again after a new one). */
static int pg_prepared(struct stmt_pg *st)
{
	struct db *db = st->base.db;
	struct db_pg *d = dbp(db);
	PGresult *r;
	int ret = DS_OK;

	if (st->gen != d->gen) {
		r = PQprepare(d->conn, st->name, st->sql, st->nparams, NULL);
		ret = PQresultStatus(r) == PGRES_COMMAND_OK ? DS_OK : pg_fail(db, r, st->sql);
		PQclear(r);
		if (ret == DS_OK)
			st->gen = d->gen;
	}
	return ret;
}

/*
 * A streamed walk's next row: the statement sent at the first step in
 * single-row mode, then one result a row, so that a walk over a million
 * rows does not hold them all in memory.  The connection is busy until the
 * last row (or pg_reset): the walk's callback must not use the store.
 */
static int pg_step_stream(struct stmt_pg *st)
{
	struct db *db = st->base.db;
	PGconn *c = dbp(db)->conn;
	const char *vals[st->nparams + 1];
	int lens[st->nparams + 1], fmts[st->nparams + 1];
	int ret = DS_OK;

	if (!st->sent) {
		params(st, vals, lens, fmts);
		if (!PQsendQueryPrepared(c, st->name, st->nparams, vals, lens, fmts, 0))
			return pg_fail(db, NULL, st->sql);
		st->sent = true;
		PQsetSingleRowMode(c);
	}
	PQclear(st->res);
	st->res = PQgetResult(c);
	ExecStatusType t = PQresultStatus(st->res);
	if (st->res != NULL && t == PGRES_SINGLE_TUPLE) {
		st->row = 0;
		st->nrows = 1;
		return DB_ROW;
	}
	if (st->res != NULL && t != PGRES_TUPLES_OK)
		ret = pg_fail(db, st->res, st->sql);
	PQclear(st->res);
	st->res = NULL;
	for (PGresult *r; (r = PQgetResult(c)) != NULL;)
		PQclear(r);
	st->sent = false;
	return ret != DS_OK ? ret : DB_DONE;
}

static int pg_run_stmt(struct stmt_pg *st)
{
	struct db *db = st->base.db;
	struct db_pg *d = dbp(db);
	const char *vals[st->nparams + 1];
	int lens[st->nparams + 1], fmts[st->nparams + 1];
	PGresult *r;
	int ret = pg_prepared(st);

	if (ret != DS_OK)
		return ret;
	params(st, vals, lens, fmts);
	r = PQexecPrepared(d->conn, st->name, st->nparams, vals, lens, fmts, 0);
	ExecStatusType t = PQresultStatus(r);
	if (t != PGRES_COMMAND_OK && t != PGRES_TUPLES_OK) {
		ret = pg_fail(db, r, st->sql);
		PQclear(r);
		return ret;
	}
	d->changes = strtoll(PQcmdTuples(r), NULL, 10);
	ret = tx_after(db, st->kind, r);
	if (ret != DS_OK) {
		PQclear(r);
		return ret;
	}
	st->res = r;
	st->nrows = PQntuples(r);
	st->row = -1;
	return DS_OK;
}

static int pg_step(struct db_stmt *s)
{
	struct stmt_pg *st = stp(s);

	if (st->stream && !st->sent) {
		bool done = false;
		int ret = pg_usable(s->db, st->kind, &done);
		if (ret == DS_OK)
			ret = pg_prepared(st);
		if (ret != DS_OK)
			return ret;
	}
	if (st->stream)
		return pg_step_stream(st);
	if (st->res == NULL) {
		bool done = false;
		int ret = pg_usable(s->db, st->kind, &done);
		if (ret == DS_OK && done) /* the ROLLBACK of a lost transaction */
			return DB_DONE;
		if (ret == DS_OK)
			ret = pg_run_stmt(st);
		if (ret != DS_OK)
			return ret;
	}
	if (st->row + 1 >= st->nrows) {
		st->row = st->nrows;
		return DB_DONE;
	}
	st->row++;
	return DB_ROW;
}

static bool pg_col_null(struct db_stmt *s, int col)
{
	struct stmt_pg *st = stp(s);

	return PQgetisnull(st->res, st->row, col);
}

static int64_t pg_col_int64(struct db_stmt *s, int col)
{
	struct stmt_pg *st = stp(s);
	const char *v = PQgetvalue(st->res, st->row, col);

	if (v[0] == 't' || v[0] == 'f') /* a boolean */
		return v[0] == 't';
	return strtoll(v, NULL, 10);
}

static const char *pg_col_text(struct db_stmt *s, int col)
{
	struct stmt_pg *st = stp(s);

	if (PQgetisnull(st->res, st->row, col))
		return NULL;
	return PQgetvalue(st->res, st->row, col);
}

/*
 * BYTEA comes as text (hex, "\x..."), decoded by libpq into a buffer kept
 * per column until the statement's next row or reset.
 */
static const void *pg_col_blob(struct db_stmt *s, int col, size_t *n)
{
	struct stmt_pg *st = stp(s);
	const char *v = pg_col_text(s, col);
	unsigned char *p;

	*n = 0;
	if (v == NULL)
		return NULL;
	if (col >= st->nblobs) {
		unsigned char **nb = realloc(st->blobs, (size_t)(col + 1) * sizeof(*nb));
		if (nb == NULL)
			return NULL;
		memset(nb + st->nblobs, 0, (size_t)(col + 1 - st->nblobs) * sizeof(*nb));
		st->blobs = nb;
		st->nblobs = col + 1;
	}
	p = PQunescapeBytea((const unsigned char *)v, n);
	PQfreemem(st->blobs[col]);
	st->blobs[col] = p;
	return p;
}

static int64_t pg_changes(struct db *db)
{
	return dbp(db)->changes;
}

static bool pg_in_tx(struct db *db)
{
	PGTransactionStatusType t = PQtransactionStatus(dbp(db)->conn);

	return dbp(db)->tx_lost || t == PQTRANS_INTRANS || t == PQTRANS_INERROR ||
	       t == PQTRANS_ACTIVE;
}

static int pg_begin(struct db *db)
{
	int ret;

	/* a transaction lost before is over: a new one may begin */
	dbp(db)->tx_lost = false;
	ret = pg_exec(db, "BEGIN");
	if (ret == DS_OK) {
		dbp(db)->tx = true;
		ret = pg_run(db, "SELECT pg_advisory_xact_lock(" WRITE_LOCK ")");
		if (ret != DS_OK)
			pg_exec(db, "ROLLBACK");
	}
	return ret;
}

/* channel: an identifier of ours (letters and '_'), never data */
static int pg_listen(struct db *db, const char *channel)
{
	struct db_pg *d = dbp(db);

	if (channel[strspn(channel, "abcdefghijklmnopqrstuvwxyz_")] != '\0')
		return DS_EINVAL;
	free(d->channel);
	d->channel = strdup(channel);
	if (d->channel == NULL)
		return DS_ENOMEM;
	int ret = pg_ready(db);
	return ret == DS_OK ? pg_listen_now(db) : ret;
}

static int pg_fd(struct db *db)
{
	return PQsocket(dbp(db)->conn);
}

static int pg_notices(struct db *db, void (*cb)(void *arg, const char *payload), void *arg)
{
	struct db_pg *d = dbp(db);
	PGnotify *n;
	int ret = pg_ready(db);

	if (ret != DS_OK)
		return ret;
	if (!PQconsumeInput(d->conn)) {
		d->broken = true;
		return pg_fail(db, NULL, "waiting for announcements");
	}
	if (d->missed) {
		d->missed = false;
		cb(arg, NULL);
	}
	while ((n = PQnotifies(d->conn)) != NULL) {
		cb(arg, n->extra);
		PQfreemem(n);
	}
	return DS_OK;
}

static void pg_close(struct db *db)
{
	struct db_pg *d = dbp(db);

	if (d->conn != NULL && PQstatus(d->conn) == CONNECTION_OK && pg_in_tx(db))
		log_warning("store %s: closed with an open transaction (rolled back)", db->label);
	PQfinish(d->conn);
	free(d->channel);
	free(db->label);
	free(d);
}

static void pg_stream(struct db_stmt *s)
{
	stp(s)->stream = true;
}

static const struct db_ops pg_ops = {
    .name = "postgresql",
    .close = pg_close,
    .exec = pg_exec,
    .prepare = pg_prepare,
    .finalize = pg_finalize,
    .bind_int64 = pg_bind_int64,
    .bind_blob = pg_bind_blob,
    .bind_text = pg_bind_text,
    .bind_null = pg_bind_null,
    .step = pg_step,
    .reset = pg_reset,
    .col_null = pg_col_null,
    .col_int64 = pg_col_int64,
    .col_blob = pg_col_blob,
    .col_text = pg_col_text,
    .changes = pg_changes,
    .in_tx = pg_in_tx,
    .begin = pg_begin,
    .listen = pg_listen,
    .fd = pg_fd,
    .notices = pg_notices,
    .stream = pg_stream,
};

int db_pg_open(const char *conninfo, struct db **out)
{
	/* defaults first: what the connection string says wins */
	const char *const keys[] = {"connect_timeout", "application_name", "dbname", NULL};
	const char *const vals[] = {CONNECT_TIMEOUT, "dsyncd", conninfo, NULL};
	struct db_pg *d = calloc(1, sizeof(*d));
	int ret;

	*out = NULL;
	if (d == NULL)
		return DS_ENOMEM;
	d->base.ops = &pg_ops;
	d->conn = PQconnectdbParams(keys, vals, 1);
	d->base.label = d->conn ? pg_label(d->conn) : NULL;
	if (d->conn == NULL || d->base.label == NULL) {
		pg_close(&d->base);
		return DS_ENOMEM;
	}
	PQsetNoticeProcessor(d->conn, notice, NULL);
	if (PQstatus(d->conn) != CONNECTION_OK) {
		log_err("store %s: cannot connect: %.*s", d->base.label,
			(int)strcspn(PQerrorMessage(d->conn), "\n"), PQerrorMessage(d->conn));
		pg_close(&d->base);
		return DS_ESTORE;
	}
	d->gen = 1;
	ret = pg_session(&d->base);
	if (ret != DS_OK) {
		pg_close(&d->base);
		return ret;
	}
	*out = &d->base;
	return DS_OK;
}

int store_pg_check(const char *conninfo, char *why, size_t len)
{
	char *err = NULL;
	PQconninfoOption *o = PQconninfoParse(conninfo, &err);

	if (o == NULL) {
		snprintf(why, len, "%.*s", err ? (int)strcspn(err, "\n") : 11,
			 err ? err : "not a libpq connection string");
		PQfreemem(err);
		return DS_ECONFIG;
	}
	PQconninfoFree(o);
	return DS_OK;
}

char *store_pg_masked(const char *conninfo)
{
	PQconninfoOption *o = PQconninfoParse(conninfo, NULL);
	size_t cap = strlen(conninfo) + 64, at = 0;
	char *out = o ? malloc(cap) : NULL;

	if (out == NULL) {
		PQconninfoFree(o);
		return NULL;
	}
	out[0] = '\0';
	for (PQconninfoOption *p = o; p->keyword != NULL; p++) {
		if (p->val == NULL)
			continue;
		bool secret = strcmp(p->keyword, "password") == 0;
		const char *v = secret ? "********" : p->val;
		size_t need = at + strlen(p->keyword) + 2 * strlen(v) + 5;
		if (need > cap) {
			char *n = realloc(out, need * 2);
			if (n == NULL) {
				free(out);
				PQconninfoFree(o);
				return NULL;
			}
			out = n;
			cap = need * 2;
		}
		/* key='value', quotes and backslashes escaped as libpq reads them */
		at += (size_t)sprintf(out + at, "%s%s='", at ? " " : "", p->keyword);
		for (const char *c = v; *c; c++) {
			if (*c == '\'' || *c == '\\')
				out[at++] = '\\';
			out[at++] = *c;
		}
		out[at++] = '\'';
		out[at] = '\0';
	}
	PQconninfoFree(o);
	return out;
}

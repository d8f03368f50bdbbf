/*
 * store/db_sqlite.c -- the store's SQL on an embedded SQLite file.
 *
 * WAL mode with synchronous=FULL: every COMMIT syncs the WAL before it
 * returns.  BEGIN IMMEDIATE takes the file's write lock at once; a writer
 * that finds it held waits in short steps (busy_wait) for 5 s at most.
 *
 * Checkpoints (copying the WAL back into the database file) run on a
 * thread of their own, one per file, on its own connection: a commit that
 * leaves CKPT_PAGES or more in the WAL wakes it instead of checkpointing
 * itself, as SQLite would, inside the receiver's commit.  Only when the WAL
 * reaches CKPT_HARD_PAGES (the thread is behind) does the committer
 * checkpoint too.  The thread starts with the file's first connection and
 * stops with its last.
 */
#include "store/db.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"

#define BUSY_TIMEOUT_MS 5000
#define CKPT_PAGES 1000	      /* SQLite's own wal_autocheckpoint */
#define CKPT_HARD_PAGES 32000 /* about 128 MiB of WAL */

/* The checkpoint thread of one file, shared by its connections. */
struct ckpt {
	char *path;
	int refs;   /* connections to path (under reg_mu) */
	sqlite3 *h; /* the thread's own connection */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool want, stop;
	struct ckpt *next;
};

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static struct ckpt *reg;

struct db_sqlite {
	struct db base;
	sqlite3 *h;
	struct ckpt *ckpt;	    /* NULL for :memory: */
	struct timespec busy_since; /* the first wait for the current lock */
};

struct stmt_sqlite {
	struct db_stmt base;
	sqlite3_stmt *h;
};

static struct db_sqlite *dbs(struct db *db)
{
	return (struct db_sqlite *)db;
}

static sqlite3_stmt *sth(struct db_stmt *st)
{
	return ((struct stmt_sqlite *)st)->h;
}

/* Map a SQLite result to our codes, logging what failed. */
static int sq_err(struct db *db, int rc, const char *what)
{
	int prim = rc & 0xff;
	sqlite3 *h = dbs(db)->h;

	if (prim == SQLITE_BUSY || prim == SQLITE_LOCKED) {
		log_warning("store %s: %s: %s", db->label, what, sqlite3_errmsg(h));
		return DS_EBUSY;
	}
	log_err("store %s: %s: %s (%d)", db->label, what, sqlite3_errmsg(h), rc);
	return DS_ESTORE;
}

static int sq_exec(struct db *db, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(dbs(db)->h, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK) {
		int prim = rc & 0xff;
		log_err("store %s: %s: %s", db->label, sql, msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return prim == SQLITE_BUSY || prim == SQLITE_LOCKED ? DS_EBUSY : DS_ESTORE;
	}
	return DS_OK;
}

static int sq_prepare(struct db *db, const char *sql, struct db_stmt **out)
{
	struct stmt_sqlite *st = calloc(1, sizeof(*st));
	int rc;

	*out = NULL;
	if (st == NULL)
		return DS_ENOMEM;
	st->base.db = db;
	rc = sqlite3_prepare_v3(dbs(db)->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &st->h, NULL);
	if (rc != SQLITE_OK) {
		free(st);
		return sq_err(db, rc, sql);
	}
	*out = &st->base;
	return DS_OK;
}

static void sq_finalize(struct db_stmt *st)
{
	sqlite3_finalize(sth(st));
	free(st);
}

/* Bind results: 0 or a DS_ code; the statement's error is logged at step. */
static int sq_bind(int rc)
{
	return rc == SQLITE_OK ? DS_OK : DS_ESTORE;
}

static int sq_bind_int64(struct db_stmt *st, int i, int64_t v)
{
	return sq_bind(sqlite3_bind_int64(sth(st), i, v));
}

static int sq_bind_blob(struct db_stmt *st, int i, const void *p, size_t n)
{
	if (n == 0) /* an empty blob, not NULL */
		return sq_bind(sqlite3_bind_zeroblob(sth(st), i, 0));
	return sq_bind(sqlite3_bind_blob(sth(st), i, p, (int)n, SQLITE_TRANSIENT));
}

static int sq_bind_text(struct db_stmt *st, int i, const char *t)
{
	return sq_bind(sqlite3_bind_text(sth(st), i, t, -1, SQLITE_TRANSIENT));
}

static int sq_bind_null(struct db_stmt *st, int i)
{
	return sq_bind(sqlite3_bind_null(sth(st), i));
}

static int sq_step(struct db_stmt *st)
{
	int rc = sqlite3_step(sth(st));

	if (rc == SQLITE_ROW)
		return DB_ROW;
	if (rc == SQLITE_DONE)
		return DB_DONE;
	return sq_err(st->db, rc, sqlite3_sql(sth(st)));
}

static void sq_reset(struct db_stmt *st)
{
	sqlite3_reset(sth(st));
	sqlite3_clear_bindings(sth(st));
}

static bool sq_col_null(struct db_stmt *st, int col)
{
	return sqlite3_column_type(sth(st), col) == SQLITE_NULL;
}

static int64_t sq_col_int64(struct db_stmt *st, int col)
{
	return sqlite3_column_int64(sth(st), col);
}

static const void *sq_col_blob(struct db_stmt *st, int col, size_t *n)
{
	const void *p = sqlite3_column_blob(sth(st), col);

	*n = (size_t)sqlite3_column_bytes(sth(st), col);
	return p;
}

static const char *sq_col_text(struct db_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(sth(st), col);
}

static int64_t sq_changes(struct db *db)
{
	return sqlite3_changes(dbs(db)->h);
}

static bool sq_in_tx(struct db *db)
{
	return !sqlite3_get_autocommit(dbs(db)->h);
}

static int sq_begin(struct db *db)
{
	return sq_exec(db, "BEGIN IMMEDIATE");
}

static void *ckpt_main(void *arg)
{
	struct ckpt *c = arg;

	pthread_mutex_lock(&c->mu);
	while (!c->stop) {
		if (!c->want) {
			pthread_cond_wait(&c->cv, &c->mu);
			continue;
		}
		c->want = false;
		pthread_mutex_unlock(&c->mu);
		/* PASSIVE: copies what no reader still needs, waits for nobody */
		int rc =
		    sqlite3_wal_checkpoint_v2(c->h, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY)
			log_warning("store %s: checkpoint: %s", c->path, sqlite3_errmsg(c->h));
		pthread_mutex_lock(&c->mu);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

static void ckpt_free(struct ckpt *c)
{
	/* the file's last connection: closing it checkpoints and removes the WAL */
	sqlite3_close(c->h);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c->path);
	free(c);
}

static struct ckpt *ckpt_start(const char *path)
{
	struct ckpt *c = calloc(1, sizeof(*c));
	if (c == NULL || (c->path = strdup(path)) == NULL) {
		free(c);
		return NULL;
	}
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	c->refs = 1;
	if (sqlite3_open_v2(path, &c->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
		SQLITE_OK ||
	    sqlite3_exec(c->h, "PRAGMA synchronous=FULL", NULL, NULL, NULL) != SQLITE_OK ||
	    pthread_create(&c->thread, NULL, ckpt_main, c) != 0) {
		log_err("store %s: cannot start the checkpoint thread: %s", path,
			c->h ? sqlite3_errmsg(c->h) : "out of memory");
		ckpt_free(c);
		return NULL;
	}
	return c;
}

/* The checkpoint thread of path, started for its first connection. */
static struct ckpt *ckpt_get(const char *path)
{
	pthread_mutex_lock(&reg_mu);
	struct ckpt *c = reg;
	while (c != NULL && strcmp(c->path, path) != 0)
		c = c->next;
	if (c != NULL) {
		c->refs++;
	} else if ((c = ckpt_start(path)) != NULL) {
		c->next = reg;
		reg = c;
	}
	pthread_mutex_unlock(&reg_mu);
	return c;
}

/* A connection closed: the last one stops the thread. */
static void ckpt_put(struct ckpt *c)
{
	pthread_mutex_lock(&reg_mu);
	bool last = --c->refs == 0;
	if (last) {
		struct ckpt **pp = &reg;
		while (*pp != c)
			pp = &(*pp)->next;
		*pp = c->next;
	}
	pthread_mutex_unlock(&reg_mu);
	if (!last)
		return;
	pthread_mutex_lock(&c->mu);
	c->stop = true;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	ckpt_free(c);
}

/* After each commit: wake the checkpoint thread, or checkpoint here when it is behind. */
static int wal_hook(void *arg, sqlite3 *h, const char *name, int pages)
{
	struct ckpt *c = arg;

	if (pages >= CKPT_HARD_PAGES) {
		sqlite3_wal_checkpoint_v2(h, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	} else if (pages >= CKPT_PAGES) {
		pthread_mutex_lock(&c->mu);
		c->want = true;
		pthread_cond_signal(&c->cv);
		pthread_mutex_unlock(&c->mu);
	}
	return SQLITE_OK;
}

static void sq_close(struct db *db)
{
	struct db_sqlite *d = dbs(db);

	if (d->h != NULL) {
		/* An open transaction is rolled back by close; say so. */
		if (!sqlite3_get_autocommit(d->h))
			log_warning("store %s: closed with an open transaction (rolled back)",
				    db->label);
		if (sqlite3_close(d->h) != SQLITE_OK)
			log_err("store %s: close: %s", db->label, sqlite3_errmsg(d->h));
	}
	if (d->ckpt != NULL)
		ckpt_put(d->ckpt);
	free(db->label);
	free(d);
}

static const struct db_ops sqlite_ops = {
    .name = "sqlite",
    .close = sq_close,
    .exec = sq_exec,
    .prepare = sq_prepare,
    .finalize = sq_finalize,
    .bind_int64 = sq_bind_int64,
    .bind_blob = sq_bind_blob,
    .bind_text = sq_bind_text,
    .bind_null = sq_bind_null,
    .step = sq_step,
    .reset = sq_reset,
    .col_null = sq_col_null,
    .col_int64 = sq_col_int64,
    .col_blob = sq_col_blob,
    .col_text = sq_col_text,
    .changes = sq_changes,
    .in_tx = sq_in_tx,
    .begin = sq_begin,
};

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

/*
 * Another connection holds the write lock (the outbox's lanes and the
 * receiver's commit thread write to the same file): wait for it in short
 * steps, 50 us doubling up to 1 ms, for BUSY_TIMEOUT_MS at most.  SQLite's
 * own handler sleeps 1, 2, 5, 10 ms and more, which leaves the lock unused
 * for most of each wait when the holder's transactions are short.
 */
static int busy_wait(void *arg, int count)
{
	struct db_sqlite *d = arg;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (count == 0)
		d->busy_since = now;
	else if ((now.tv_sec - d->busy_since.tv_sec) * 1000 +
		     (now.tv_nsec - d->busy_since.tv_nsec) / 1000000 >=
		 BUSY_TIMEOUT_MS)
		return 0;
	long us = count < 5 ? 50L << count : 1000;
	struct timespec ts = {0, us * 1000};
	nanosleep(&ts, NULL);
	return 1;
}

static int set_pragmas(struct db_sqlite *d)
{
	struct db *db = &d->base;
	struct db_stmt *st = NULL;
	int rc, ret;

	rc = sqlite3_busy_handler(d->h, busy_wait, d);
	if (rc != SQLITE_OK)
		return sq_err(db, rc, "busy_handler");
	ret = sq_prepare(db, "PRAGMA journal_mode=WAL", &st);
	if (ret != DS_OK)
		return ret;
	ret = sq_step(st);
	if (ret == DB_ROW) {
		const char *mode = sq_col_text(st, 0);
		if (mode == NULL || (strcmp(mode, "wal") != 0 && strcmp(mode, "memory") != 0))
			log_warning("store %s: journal mode is %s, not wal", db->label,
				    mode ? mode : "?");
		ret = DS_OK;
	} else if (ret == DB_DONE) {
		ret = DS_ESTORE;
	}
	sq_finalize(st);
	/* FULL in WAL mode: every COMMIT syncs the WAL before returning. */
	if (ret == DS_OK)
		ret = sq_exec(db, "PRAGMA synchronous=FULL");
	if (ret == DS_OK)
		ret = sq_exec(db, "PRAGMA foreign_keys=ON");
	/* the savepoints of a batch (one per UPDATE) journal their pages in
	 * memory, not in a temporary file made and removed at each commit;
	 * the database and its WAL are written as before */
	if (ret == DS_OK)
		ret = sq_exec(db, "PRAGMA temp_store=MEMORY");
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

int db_sqlite_open(const char *path, struct db **out)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct db_sqlite *d;
	int rc, ret;

	pthread_once(&once, sqlite_setup);
	*out = NULL;
	if (strcmp(path, ":memory:") != 0) {
		ret = prepare_path(path);
		if (ret != DS_OK)
			return ret;
	}
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return DS_ENOMEM;
	d->base.ops = &sqlite_ops;
	d->base.label = strdup(path);
	if (d->base.label == NULL) {
		free(d);
		return DS_ENOMEM;
	}
	rc = sqlite3_open_v2(
	    path, &d->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		log_err("store %s: open: %s", path,
			d->h ? sqlite3_errmsg(d->h) : sqlite3_errstr(rc));
		sq_close(&d->base);
		return DS_ESTORE;
	}
	sqlite3_extended_result_codes(d->h, 1);
	ret = set_pragmas(d);
	if (ret != DS_OK) {
		sq_close(&d->base);
		return ret;
	}
	/* without its thread (out of memory), SQLite's own checkpoints stay */
	if (strcmp(path, ":memory:") != 0 && (d->ckpt = ckpt_get(path)) != NULL)
		sqlite3_wal_hook(d->h, wal_hook, d->ckpt);
	*out = &d->base;
	return DS_OK;
}

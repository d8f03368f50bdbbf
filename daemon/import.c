/*
 * daemon/import.c -- start from the parent's real data: read the parent
 * zone file and take its delegations (NS below the apex, DS there, and the
 * A/AAAA glue that the NS targets below each child need).  Everything else
 * in the file is the parent's own data and is left alone.
 *
 * The whole file is read and checked first (every record at or below the
 * zone, its SOA at the apex, no record cut short, a final newline); only
 * then is the store changed, in one transaction.  Children in the store
 * that the file lacks are kept, or deleted with --prune (as `dsyncd
 * delegation delete` deletes them, keys included).  --dry-run prints the
 * difference and changes nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "common/deleg.h"
#include "common/dname.h"
#include "common/err.h"
#include "common/log.h"
#include "common/rrtext.h"
#include "common/zonefile.h"
#include "common/vec.h"
#include "daemon/commands.h"
#include "keys/deleg_ops.h"
#include "store/store.h"

#define IMPORT_CHANGES_MAX 65536
#define IMPORT_PROGRESS 1000 /* children between two progress lines */

/* One import into the store: its zone, transaction and counts. */
struct import_run {
	const struct cfg_zone *zc;
	const char *path;
	bool dry_run, prune, progress;
	FILE *out;
	struct store *s;
	int64_t zid, now;      /* zid 0: the zone is not in the store yet (dry run) */
	struct deleg *cur;     /* a child's stored delegation */
	char *changes;	       /* IMPORT_CHANGES_MAX bytes */
	const char *names[16]; /* the zone's backends */
	size_t nb;
	uint8_t (*seen)[DNAME_MAX]; /* the file's children, canonical order */
	size_t nseen, capseen;
	size_t nchild, nchanged, ignored, nkept, npruned;
};

/* The file: its delegation data, and what says it is not zone's. */
struct import_read {
	struct deleg_records c;
	const uint8_t *zone;
	uint8_t bad[DNAME_MAX]; /* the first record outside the zone, or a SOA not at its apex */
	uint16_t badtype;
	bool has_bad;
};

static int read_rr(void *arg, const uint8_t *owner, uint16_t type, uint16_t rclass, uint32_t ttl,
		   const uint8_t *rdata, size_t rdlen)
{
	struct import_read *f = arg;
	if (!dname_is_sub(owner, f->zone) || (type == T_SOA && !dname_equal(owner, f->zone))) {
		memcpy(f->bad, owner, dname_len(owner));
		f->badtype = type;
		f->has_bad = true;
		return DS_EINVAL;
	}
	return deleg_collect(&f->c, owner, type, rclass, ttl, rdata, rdlen);
}

static int remember(struct import_run *r, const uint8_t *child)
{
	uint8_t(*p)[DNAME_MAX] = vec_grow(r->seen, &r->capseen, r->nseen + 1, sizeof(*p), 1024);
	if (p == NULL)
		return DS_ENOMEM;
	r->seen = p;
	dname_lower(r->seen[r->nseen++], child);
	return DS_OK;
}

static void progress(struct import_run *r, const char *what, size_t n, bool last)
{
	if (r->progress && (last || n % IMPORT_PROGRESS == 0))
		fprintf(stderr, "\rimport: %zu %s%s", n, what, last ? "\n" : "");
}

/*
 * The audit row of one child's change by the import.  Its reason counts the
 * records added and removed rather than repeating them: they are in the
 * change queued for the backends and in the file (request) itself, and an
 * import of a large zone would otherwise store every record twice more.
 */
static int import_audit(struct import_run *r, const uint8_t *child)
{
	char zs[DNAME_STR_MAX], cs[DNAME_STR_MAX], why[64];
	size_t add = 0, del = 0;
	for (const char *l = r->changes; l != NULL && *l != '\0';) {
		add += *l == '+';
		del += *l == '-';
		l = strchr(l, '\n');
		l = l != NULL ? l + 1 : NULL;
	}
	snprintf(why, sizeof(why), "%zu record(s) added, %zu removed", add, del);
	dname_to_str(r->zc->name, zs, sizeof(zs));
	dname_to_str(child, cs, sizeof(cs));
	struct audit_rec a = {.time = r->now,
			      .client = "local",
			      .zone = zs,
			      .child = cs,
			      .key_tag = -1,
			      .actor = "import",
			      .request = r->path,
			      .result = "imported",
			      .rcode = 0,
			      .reason = why};
	return store_audit_add(r->s, &a);
}

/* Replace the stored delegation of child with next; audit and queue the difference. */
static int import_child(void *arg, const uint8_t *child, struct deleg *next)
{
	struct import_run *r = arg;
	char cs[DNAME_STR_MAX];
	int64_t cid = 0, chg;
	r->nchild++;
	progress(r, "delegation(s) read", r->nchild, false);
	int rc = remember(r, child);
	if (rc == DS_OK && r->dry_run)
		rc = r->zid ? store_child_find(r->s, r->zid, child, &cid) : DS_ENOENT;
	else if (rc == DS_OK)
		rc = store_child_ensure(r->s, r->zid, child, &cid);
	r->cur->n = 0;
	if (rc == DS_OK)
		rc = store_deleg_load(r->s, cid, r->cur);
	if (rc != DS_OK && !(rc == DS_ENOENT && r->dry_run))
		return rc;
	deleg_diff_text(r->cur, next, r->changes, IMPORT_CHANGES_MAX);
	if (r->changes[0] == '\0')
		return DS_OK;
	r->nchanged++;
	if (r->dry_run) {
		dname_to_str(child, cs, sizeof(cs));
		fprintf(r->out, "%s%s\n%s", cs, cid ? "" : " (new)", r->changes);
		return DS_OK;
	}
	rc = store_deleg_change(r->s, r->zc->name, child, cid, next, r->changes, r->names, r->nb,
				r->now, &chg);
	return rc == DS_OK ? import_audit(r, child) : rc;
}

static int cmp_name(const void *a, const void *b)
{
	return dname_compare(a, b);
}

/* The stored children of the zone the file lacks, into *gone (lower-case). */
struct gone_ctx {
	struct import_run *r;
	uint8_t (*v)[DNAME_MAX];
	size_t n, cap;
};

static int gone_add(void *arg, const struct store_child_row *c)
{
	struct gone_ctx *g = arg;
	if (g->r->nseen > 0 && bsearch(c->name, g->r->seen, g->r->nseen, DNAME_MAX, cmp_name))
		return 0;
	uint8_t(*p)[DNAME_MAX] = vec_grow(g->v, &g->cap, g->n + 1, sizeof(*p), 64);
	if (p == NULL)
		return DS_ENOMEM;
	g->v = p;
	memcpy(g->v[g->n++], c->name, DNAME_MAX);
	return 0;
}

/* One child the file lacks: deleted with --prune (unless the configuration
 * lists it), else kept. */
static int prune_one(struct import_run *r, const uint8_t *child, struct deleg_op *op)
{
	memset(op, 0, sizeof(*op));
	op->actor = "import";
	op->client = "local";
	op->request = r->path;
	op->reason = "not in the imported file (--prune)";
	op->zone = r->zc;
	memcpy(op->child, child, dname_len(child));
	dname_to_str(child, op->name, sizeof(op->name));
	if (!r->prune || deleg_op_in_config(op)) {
		r->nkept++;
		return DS_OK;
	}
	r->npruned++;
	progress(r, "child(ren) pruned", r->npruned, false);
	int rc = DS_OK;
	if (r->dry_run) {
		int64_t cid;
		rc = store_child_find(r->s, r->zid, child, &cid);
		if (rc == DS_OK)
			rc = store_deleg_load(r->s, cid, r->cur);
		static const struct deleg none = {0};
		deleg_diff_text(r->cur, &none, r->changes, IMPORT_CHANGES_MAX);
		fprintf(r->out, "%s (deleted: not in the file)\n%s", op->name, r->changes);
	} else {
		rc = deleg_op_remove(r->s, r->zid, op);
	}
	deleg_op_free(op);
	return rc;
}

static int import_prune(struct import_run *r)
{
	struct gone_ctx g = {.r = r};
	struct deleg_op *op = malloc(sizeof(*op));
	if (r->zid == 0)
		return DS_OK; /* nothing stored yet */
	if (r->nseen > 0)
		qsort(r->seen, r->nseen, DNAME_MAX, cmp_name);
	int rc = op ? store_children_page(r->s, r->zc->name, NULL, SIZE_MAX / 2, gone_add, &g)
		    : DS_ENOMEM;
	if (rc == DS_ENOENT)
		rc = DS_OK;
	for (size_t i = 0; rc == DS_OK && i < g.n; i++)
		rc = prune_one(r, g.v[i], op);
	if (r->npruned >= IMPORT_PROGRESS)
		progress(r, "child(ren) pruned", r->npruned, true);
	free(g.v);
	free(op);
	return rc;
}

/* The file's last byte is a newline (a file cut short mostly ends inside a line). */
static bool ends_in_newline(FILE *f)
{
	if (fseek(f, 0, SEEK_END) != 0 || ftell(f) == 0)
		return true; /* empty: the SOA check says more */
	return fseek(f, -1, SEEK_END) == 0 && getc(f) == '\n';
}

/* The file at path, readable and whole?  An exit status (said on out), 0 when so. */
static int import_open(const char *path, FILE *out)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		fprintf(out, "import: cannot read %s: %s; nothing changed\n", path,
			strerror(errno));
		return EX_NOINPUT;
	}
	bool whole = ends_in_newline(f);
	fclose(f);
	if (!whole) {
		fprintf(out,
			"import: %s does not end with a newline: it looks cut short; nothing "
			"changed\n",
			path);
		return EX_DATAERR;
	}
	return 0;
}

/* The delegation data of the file at path into f, all of it checked: an
 * exit status (said on out), 0 when read. */
static int import_read(const struct cfg_zone *zc, const char *zone, const char *path, FILE *out,
		       struct import_read *f)
{
	char why[512], bad[DNAME_STR_MAX];
	int ex = import_open(path, out);
	if (ex != 0)
		return ex;
	f->zone = zc->name;
	f->c.zone = zc->name;
	int rc = zonefile_read(path, zc->name, ZF_NO_INCLUDE, read_rr, f, why, sizeof(why));
	if (rc != DS_OK && f->has_bad) {
		dname_to_str(f->bad, bad, sizeof(bad));
		fprintf(out,
			"import: %s is not the zone file of %s: it has %s %s; nothing changed\n",
			path, zone, f->badtype == T_SOA ? "the SOA record of" : "a record at", bad);
		return EX_DATAERR;
	}
	if (rc != DS_OK) {
		fprintf(out, "import: %s; nothing changed\n",
			rc == DS_EPARSE || rc < -4096 ? why : ds_strerror(rc));
		return rc == DS_ENOMEM ? EX_OSERR : EX_DATAERR;
	}
	return 0;
}

/* Open the store and find or add the zone (a dry run adds nothing). */
static int import_store(const struct cfg *cfg, struct import_run *r)
{
	int rc = store_open(cfg->store_spec, &r->s);
	if (rc == DS_OK && !r->dry_run)
		rc = store_begin(r->s);
	if (rc == DS_OK && !r->dry_run)
		rc = store_zone_ensure(r->s, r->zc->name, &r->zid);
	else if (rc == DS_OK && (rc = store_zone_find(r->s, r->zc->name, &r->zid)) == DS_ENOENT)
		rc = DS_OK;
	return rc;
}

static void import_summary(const struct import_run *r, const struct import_read *f, FILE *out)
{
	char zs[DNAME_STR_MAX];
	dname_to_str(r->zc->name, zs, sizeof(zs));
	fprintf(out,
		"import%s: zone %s from %s: %zu delegation(s), %zu changed, %zu record(s) "
		"below a cut or not delegation data ignored, %zu other record(s) skipped",
		r->dry_run ? " (dry run, nothing changed)" : "", zs, r->path, r->nchild,
		r->nchanged, r->ignored, f->c.skipped);
	if (r->npruned)
		fprintf(out, "; %zu child(ren) not in the file %s", r->npruned,
			r->dry_run ? "would be deleted" : "deleted");
	if (r->nkept)
		fprintf(out, "; %zu child(ren) not in the file kept%s", r->nkept,
			r->prune ? " (listed in the configuration)" : " (--prune deletes them)");
	fputc('\n', out);
}

static int import_run(const struct cfg *cfg, struct import_run *r, struct import_read *f)
{
	int rc = DS_OK;
	r->cur = malloc(sizeof(*r->cur));
	r->changes = malloc(IMPORT_CHANGES_MAX);
	r->now = (int64_t)time(NULL);
	r->nb = r->zc->nbackends < 16 ? r->zc->nbackends : 16;
	for (size_t i = 0; i < r->nb; i++)
		r->names[i] = r->zc->backends[i].name;
	rc = r->cur && r->changes ? import_store(cfg, r) : DS_ENOMEM;
	if (rc == DS_OK)
		rc = deleg_extract(&f->c, r->zc->pol.deleg_ttl, import_child, r, &r->ignored);
	if (r->nchild >= IMPORT_PROGRESS)
		progress(r, "delegation(s) read", r->nchild, true);
	if (rc == DS_OK)
		rc = import_prune(r);
	if (rc == DS_OK && !r->dry_run)
		rc = store_commit(r->s);
	else if (r->s)
		store_rollback(r->s);
	store_close(r->s);
	free(r->cur);
	free(r->changes);
	free(r->seen);
	return rc;
}

int daemon_import_command(const struct cfg *cfg, int argc, char **argv, FILE *out)
{
	struct import_run r = {.out = out, .progress = isatty(STDERR_FILENO) == 1};
	struct import_read f = {0};
	const char *arg[2];
	uint8_t zname[DNAME_MAX];
	int n = 0;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--dry-run") == 0)
			r.dry_run = true;
		else if (strcmp(argv[i], "--prune") == 0)
			r.prune = true;
		else if (argv[i][0] == '-' || n == 2)
			n = 3;
		else
			arg[n++] = argv[i];
	}
	if (n != 2) {
		fprintf(stderr, "usage: dsyncd import [--dry-run] [--prune] ZONE ZONEFILE\n");
		return EX_USAGE;
	}
	if (dname_from_str(arg[0], zname) < 0 || (r.zc = cfg_zone_find(cfg, zname)) == NULL) {
		fprintf(out, "import: zone %s is not configured; nothing changed\n", arg[0]);
		return EX_USAGE;
	}
	r.path = arg[1];
	int ex = import_read(r.zc, arg[0], arg[1], out, &f);
	int rc = ex == 0 ? import_run(cfg, &r, &f) : DS_OK;
	char big[DNAME_STR_MAX];
	if (ex == 0 && rc == DS_OK) {
		import_summary(&r, &f, out);
	} else if (ex == 0 && rc == DS_ELIMIT && f.c.toobig[0] != 0) {
		dname_to_str(f.c.toobig, big, sizeof(big));
		fprintf(out,
			"import: the delegation of %s in %s has more than %d records (NS, DS and "
			"glue); nothing changed\n",
			big, r.path, DELEG_MAX);
		ex = EX_DATAERR;
	} else if (ex == 0) {
		fprintf(out, "import: failed, nothing changed: %s\n", ds_strerror(rc));
	}
	free(f.c.rr);
	return ex ? ex : rc == DS_OK ? 0 : rc == DS_ENOMEM ? EX_OSERR : EX_IOERR;
}

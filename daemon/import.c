/*
 * daemon/import.c -- start from the parent's real data: read the parent
 * zone file and take its delegations (NS below the apex, DS there, and the
 * A/AAAA glue that the NS targets below each child need).  Everything else
 * in the file is the parent's own data and is left alone.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/deleg.h"
#include "common/dname.h"
#include "common/err.h"
#include "common/log.h"
#include "common/rrtext.h"
#include "common/zonefile.h"
#include "common/vec.h"
#include "daemon/commands.h"
#include "store/store.h"

/* One import into the store: its zone, transaction and counts. */
struct import_run {
	const struct cfg_zone *zc;
	const char *path;
	struct store *s;
	int64_t zid, now;
	struct deleg *cur;     /* a child's stored delegation */
	char *changes;	       /* IMPORT_CHANGES_MAX bytes */
	const char *names[16]; /* the zone's backends */
	size_t nb;
	size_t nchild, nchanged, ignored;
};

#define IMPORT_CHANGES_MAX 65536

/* Replace the stored delegation of child with next; audit and queue the difference. */
static int import_child(void *arg, const uint8_t *child, struct deleg *next)
{
	struct import_run *r = arg;
	char zs[DNAME_STR_MAX], cs[DNAME_STR_MAX];
	int64_t cid, chg;
	r->nchild++;
	int rc = store_child_ensure(r->s, r->zid, child, &cid);
	if (rc == DS_OK)
		rc = store_deleg_load(r->s, cid, r->cur);
	if (rc != DS_OK)
		return rc;
	deleg_diff_text(r->cur, next, r->changes, IMPORT_CHANGES_MAX);
	if (r->changes[0] == '\0')
		return DS_OK;
	r->nchanged++;
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
			      .reason = r->changes};
	rc = store_deleg_write(r->s, cid, next);
	if (rc == DS_OK)
		rc = store_outbox_add(r->s, r->zc->name, child, r->changes, r->names, r->nb, r->now,
				      &chg);
	if (rc == DS_OK)
		rc = store_audit_add(r->s, &a);
	return rc;
}

/* The configured zone named zone, and the delegation data of the file at
 * path into c (said on out when not). */
static int import_read(const struct cfg *cfg, const char *zone, const char *path, FILE *out,
		       const struct cfg_zone **zc, struct deleg_records *c)
{
	uint8_t zname[DNAME_MAX];
	char why[512];
	if (dname_from_str(zone, zname) < 0) {
		fprintf(out, "import: bad zone name %s\n", zone);
		return DS_EINVAL;
	}
	*zc = cfg_zone_find(cfg, zname);
	if (*zc == NULL) {
		fprintf(out, "import: zone %s is not configured\n", zone);
		return DS_ENOENT;
	}
	c->zone = (*zc)->name;
	int rc = zonefile_read(path, (*zc)->name, deleg_collect, c, why, sizeof(why));
	if (rc != DS_OK) {
		fprintf(out, "import: %s\n", rc == DS_EPARSE || rc < -4096 ? why : ds_strerror(rc));
		free(c->rr);
		c->rr = NULL;
	}
	return rc;
}

int daemon_import(const struct cfg *cfg, const char *zone, const char *path, FILE *out)
{
	const struct cfg_zone *zc = NULL;
	struct deleg_records c = {0};
	char zs[DNAME_STR_MAX];
	int rc = import_read(cfg, zone, path, out, &zc, &c);
	if (rc != DS_OK)
		return rc;
	struct import_run r = {.zc = zc, .path = path, .now = (int64_t)time(NULL)};
	r.cur = malloc(sizeof(*r.cur));
	r.changes = malloc(IMPORT_CHANGES_MAX);
	r.nb = zc->nbackends < 16 ? zc->nbackends : 16;
	for (size_t i = 0; i < r.nb; i++)
		r.names[i] = zc->backends[i].name;

	rc = r.cur && r.changes ? store_open(cfg->store_path, &r.s) : DS_ENOMEM;
	if (rc == DS_OK)
		rc = store_begin(r.s);
	if (rc == DS_OK)
		rc = store_zone_ensure(r.s, zc->name, &r.zid);
	if (rc == DS_OK)
		rc = deleg_extract(&c, zc->pol.deleg_ttl, import_child, &r, &r.ignored);
	if (rc == DS_OK)
		rc = store_commit(r.s);
	else if (r.s)
		store_rollback(r.s);
	dname_to_str(zc->name, zs, sizeof(zs));
	if (rc == DS_OK)
		fprintf(out,
			"import: zone %s from %s: %zu delegation(s), %zu changed, %zu record(s) "
			"below a cut or not delegation data ignored, %zu other record(s) skipped\n",
			zs, path, r.nchild, r.nchanged, r.ignored, c.skipped);
	else
		fprintf(out, "import: failed, nothing changed: %s\n", ds_strerror(rc));
	store_close(r.s);
	free(r.cur);
	free(r.changes);
	free(c.rr);
	return rc;
}

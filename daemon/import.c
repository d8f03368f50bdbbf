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

struct import_ctx {
	const uint8_t *zone;
	struct drr *rr; /* every NS/DS/A/AAAA strictly below the apex */
	size_t n, cap;
	size_t skipped;
};

static int collect(void *arg, const uint8_t *owner, uint16_t type, uint16_t rclass, uint32_t ttl,
		   const uint8_t *rdata, size_t rdlen)
{
	struct import_ctx *c = arg;
	if (rclass != CLASS_IN || !dname_is_strict_sub(owner, c->zone))
		return 0;
	if (type != T_NS && type != T_DS && type != T_A && type != T_AAAA) {
		c->skipped++;
		return 0;
	}
	if (rdlen > DRR_RDATA_MAX)
		return DS_ELIMIT;
	struct drr *p = vec_grow(c->rr, &c->cap, c->n + 1, sizeof(*p), 1024);
	if (p == NULL)
		return DS_ENOMEM;
	c->rr = p;
	struct drr *d = &c->rr[c->n++];
	memcpy(d->owner, owner, dname_len(owner));
	d->type = type;
	d->ttl = ttl;
	d->rdlen = (uint16_t)rdlen;
	memcpy(d->rdata, rdata, rdlen);
	return 0;
}

static int cmp_owner_type(const void *pa, const void *pb)
{
	const struct drr *a = pa, *b = pb;
	int c = dname_compare(a->owner, b->owner);
	return c ? c : (a->type > b->type) - (a->type < b->type);
}

/* Is name one of the NS targets in d? */
static bool is_ns_target(const struct deleg *d, const uint8_t *name)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->rr[i].type == T_NS && dname_equal(d->rr[i].rdata, name))
			return true;
	return false;
}

/* "+ rr" / "- rr" lines for the difference between a and b. */
static void diff_text(const struct deleg *a, const struct deleg *b, char *out, size_t len)
{
	size_t o = 0;
	char line[1024];
	out[0] = '\0';
	for (int pass = 0; pass < 2; pass++) {
		const struct deleg *from = pass ? a : b, *other = pass ? b : a;
		for (size_t i = 0; i < from->n; i++) {
			const struct drr *x = &from->rr[i];
			if (deleg_find(other, x) >= 0)
				continue;
			if (rr_to_str(x->owner, x->ttl, x->type, x->rdata, x->rdlen, line,
				      sizeof(line)) != DS_OK)
				continue;
			int k = snprintf(out + o, len - o, "%s %s\n", pass ? "-" : "+", line);
			if (k < 0 || (size_t)k >= len - o)
				return;
			o += (size_t)k;
		}
	}
}

/* Add r to d once, with the zone's delegation TTL. */
static void keep(struct deleg *d, const struct drr *r, uint32_t ttl)
{
	if (deleg_find(d, r) < 0 && deleg_add(d, r) == DS_OK)
		d->rr[d->n - 1].ttl = ttl;
}

/* One import into the store: its zone, transaction and counts. */
struct import_run {
	const struct cfg_zone *zc;
	const char *path;
	struct store *s;
	int64_t zid, now;
	struct deleg *cur, *next; /* a child's stored and imported delegation */
	char *changes;		  /* IMPORT_CHANGES_MAX bytes */
	const char *names[16];	  /* the zone's backends */
	size_t nb;
	size_t nchild, nchanged, ignored;
};

#define IMPORT_CHANGES_MAX 65536

/* Replace the stored delegation of child with r->next; audit and queue the difference. */
static int import_child(struct import_run *r, const uint8_t *child)
{
	char zs[DNAME_STR_MAX], cs[DNAME_STR_MAX];
	int64_t cid, chg;
	deleg_sort(r->next);
	int rc = store_child_ensure(r->s, r->zid, child, &cid);
	if (rc == DS_OK)
		rc = store_deleg_load(r->s, cid, r->cur);
	if (rc != DS_OK)
		return rc;
	diff_text(r->cur, r->next, r->changes, IMPORT_CHANGES_MAX);
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
	rc = store_deleg_write(r->s, cid, r->next);
	if (rc == DS_OK)
		rc = store_outbox_add(r->s, r->zc->name, child, r->changes, r->names, r->nb, r->now,
				      &chg);
	if (rc == DS_OK)
		rc = store_audit_add(r->s, &a);
	return rc;
}

/*
 * The n records of one owner: below the current cut, glue for one of the
 * child's NS targets (else occluded data); with NS, a new cut (*cut) and
 * its NS and DS (anything else there is occluded); else the parent's own
 * data (a DS without NS is no delegation).
 */
static void import_owner(struct import_run *r, const struct drr *rr, size_t n, bool below,
			 const uint8_t **cut)
{
	uint32_t ttl = r->zc->pol.deleg_ttl;
	bool has_ns = false;
	for (size_t x = 0; x < n; x++)
		has_ns |= rr[x].type == T_NS;
	if (below) {
		for (size_t x = 0; x < n; x++) {
			bool glue = (rr[x].type == T_A || rr[x].type == T_AAAA) &&
				    is_ns_target(r->next, rr[x].owner);
			if (glue)
				keep(r->next, &rr[x], ttl);
			else
				r->ignored++;
		}
	} else if (has_ns) {
		*cut = rr[0].owner;
		r->next->n = 0;
		for (size_t x = 0; x < n; x++) {
			if (rr[x].type == T_NS || rr[x].type == T_DS)
				keep(r->next, &rr[x], ttl);
			else
				r->ignored++;
		}
	} else {
		r->ignored += n;
	}
}

/*
 * In canonical order every name below a delegation point follows it, so
 * one pass over the sorted records, one owner at a time, sees each child's
 * NS and DS and then the names below it (glue or occluded).
 */
static int import_walk(struct import_run *r, struct drr *rr, size_t n)
{
	const uint8_t *cut = NULL;
	int rc = DS_OK;
	size_t i = 0;
	if (n)
		qsort(rr, n, sizeof(rr[0]), cmp_owner_type);
	while (rc == DS_OK && i <= n) {
		size_t k = i;
		while (k < n && dname_equal(rr[k].owner, rr[i].owner))
			k++;
		bool below = i < n && cut && dname_is_strict_sub(rr[i].owner, cut);
		if (cut && !below) {
			rc = import_child(r, cut);
			r->nchild++;
			cut = NULL;
		}
		if (i == n || rc != DS_OK)
			break;
		import_owner(r, &rr[i], k - i, below, &cut);
		i = k;
	}
	return rc;
}

/* The configured zone named zone, and the delegation data of the file at
 * path into c (said on out when not). */
static int import_read(const struct cfg *cfg, const char *zone, const char *path, FILE *out,
		       const struct cfg_zone **zc, struct import_ctx *c)
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
	int rc = zonefile_read(path, (*zc)->name, collect, c, why, sizeof(why));
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
	struct import_ctx c = {0};
	char zs[DNAME_STR_MAX];
	int rc = import_read(cfg, zone, path, out, &zc, &c);
	if (rc != DS_OK)
		return rc;
	struct import_run r = {.zc = zc, .path = path, .now = (int64_t)time(NULL)};
	r.cur = malloc(sizeof(*r.cur));
	r.next = malloc(sizeof(*r.next));
	r.changes = malloc(IMPORT_CHANGES_MAX);
	r.nb = zc->nbackends < 16 ? zc->nbackends : 16;
	for (size_t i = 0; i < r.nb; i++)
		r.names[i] = zc->backends[i].name;

	rc = r.cur && r.next && r.changes ? store_open(cfg->store_path, &r.s) : DS_ENOMEM;
	if (rc == DS_OK)
		rc = store_begin(r.s);
	if (rc == DS_OK)
		rc = store_zone_ensure(r.s, zc->name, &r.zid);
	if (rc == DS_OK)
		rc = import_walk(&r, c.rr, c.n);
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
	free(r.next);
	free(r.changes);
	free(c.rr);
	return rc;
}

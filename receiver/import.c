/*
 * receiver/import.c -- start from the parent's real data: read the parent
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
#include "receiver/internal.h"
#include "receiver/receiver.h"

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
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 1024;
		struct drr *p = realloc(c->rr, cap * sizeof(*p));
		if (p == NULL)
			return DS_ENOMEM;
		c->rr = p;
		c->cap = cap;
	}
	struct drr *d = &c->rr[c->n++];
	memcpy(d->owner, owner, dname_len(owner));
	d->type = type;
	d->ttl = ttl;
	d->rdlen = (uint16_t)rdlen;
	memcpy(d->rdata, rdata, rdlen);
	return 0;
}

/* The delegation point (an owner of NS) that name is at or below, or NULL. */
static const uint8_t *cut_of(const struct import_ctx *c, const uint8_t *name)
{
	const uint8_t *best = NULL;
	for (size_t i = 0; i < c->n; i++)
		if (c->rr[i].type == T_NS && dname_is_sub(name, c->rr[i].owner) &&
		    (best == NULL || dname_labels(c->rr[i].owner) < dname_labels(best)))
			best = c->rr[i].owner; /* the highest cut wins: data below it is occluded */
	return best;
}

/* Build the delegation of one child (NS owner) from the collected records. */
static void child_deleg(const struct import_ctx *c, const uint8_t *child, uint32_t ttl,
			struct deleg *d)
{
	d->n = 0;
	for (size_t i = 0; i < c->n; i++) {
		const struct drr *x = &c->rr[i];
		bool take = false;
		if ((x->type == T_NS || x->type == T_DS) && dname_equal(x->owner, child))
			take = true;
		if ((x->type == T_A || x->type == T_AAAA) && dname_is_strict_sub(x->owner, child)) {
			/* glue only for NS targets of this child */
			for (size_t k = 0; k < c->n && !take; k++)
				take = c->rr[k].type == T_NS &&
				       dname_equal(c->rr[k].owner, child) &&
				       dname_equal(c->rr[k].rdata, x->owner);
		}
		if (take && deleg_find(d, x) < 0 && deleg_add(d, x) == DS_OK)
			d->rr[d->n - 1].ttl = ttl;
	}
	deleg_sort(d);
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

int receiver_import(const struct cfg *cfg, const char *zone, const char *path, FILE *out)
{
	uint8_t zname[DNAME_MAX];
	char why[512], zs[DNAME_STR_MAX], cs[DNAME_STR_MAX];
	if (dname_from_str(zone, zname) < 0) {
		fprintf(out, "import: bad zone name %s\n", zone);
		return DS_EINVAL;
	}
	const struct cfg_zone *zc = cfg_zone_find(cfg, zname);
	if (zc == NULL) {
		fprintf(out, "import: zone %s is not configured\n", zone);
		return DS_ENOENT;
	}
	dname_to_str(zc->name, zs, sizeof(zs));
	struct import_ctx c = {.zone = zc->name};
	int rc = zonefile_read(path, zc->name, collect, &c, why, sizeof(why));
	if (rc != DS_OK) {
		fprintf(out, "import: %s\n", rc == DS_EPARSE || rc < -4096 ? why : ds_strerror(rc));
		free(c.rr);
		return rc;
	}
	struct store *s = NULL;
	struct deleg *cur = malloc(sizeof(*cur)), *next = malloc(sizeof(*next));
	char *changes = malloc(65536);
	size_t nchild = 0, nchanged = 0, ignored = 0;
	int64_t zid, now = (int64_t)time(NULL);
	const char *names[16];
	size_t nb = zc->nbackends < 16 ? zc->nbackends : 16;
	for (size_t i = 0; i < nb; i++)
		names[i] = zc->backends[i].name;

	rc = cur && next && changes ? store_open(cfg->store_path, &s) : DS_ENOMEM;
	if (rc == DS_OK)
		rc = store_begin(s);
	if (rc == DS_OK)
		rc = store_zone_ensure(s, zc->name, &zid);
	for (size_t i = 0; rc == DS_OK && i < c.n; i++) {
		const struct drr *x = &c.rr[i];
		if (x->type != T_NS) {
			const uint8_t *cut = cut_of(&c, x->owner);
			if (cut == NULL || (x->type == T_DS && !dname_equal(cut, x->owner)))
				ignored++; /* not delegation data: the parent's own */
			continue;
		}
		/* once per child: at its first NS, and only at the highest cut */
		if (!dname_equal(cut_of(&c, x->owner), x->owner)) {
			ignored++;
			continue;
		}
		bool seen = false;
		for (size_t k = 0; k < i && !seen; k++)
			seen = c.rr[k].type == T_NS && dname_equal(c.rr[k].owner, x->owner);
		if (seen)
			continue;
		int64_t cid;
		nchild++;
		rc = store_child_ensure(s, zid, x->owner, &cid);
		if (rc == DS_OK)
			rc = store_deleg_load(s, cid, cur);
		if (rc != DS_OK)
			break;
		child_deleg(&c, x->owner, zc->pol.deleg_ttl, next);
		diff_text(cur, next, changes, 65536);
		if (changes[0] == '\0')
			continue;
		nchanged++;
		dname_to_str(x->owner, cs, sizeof(cs));
		struct audit_rec a = {.time = now,
				      .client = "local",
				      .zone = zs,
				      .child = cs,
				      .key_tag = -1,
				      .actor = "import",
				      .request = path,
				      .result = "imported",
				      .rcode = 0,
				      .reason = changes};
		int64_t chg;
		rc = store_deleg_write(s, cid, next);
		if (rc == DS_OK)
			rc = store_outbox_add(s, zc->name, x->owner, changes, names, nb, now, &chg);
		if (rc == DS_OK)
			rc = store_audit_add(s, &a);
	}
	if (rc == DS_OK)
		rc = store_commit(s);
	else if (s)
		store_rollback(s);
	if (rc == DS_OK)
		fprintf(out,
			"import: zone %s from %s: %zu delegation(s), %zu changed, %zu record(s) "
			"below a cut or not delegation data ignored, %zu other record(s) skipped\n",
			zs, path, nchild, nchanged, ignored, c.skipped);
	else
		fprintf(out, "import: failed, nothing changed: %s\n", ds_strerror(rc));
	store_close(s);
	free(cur);
	free(next);
	free(changes);
	free(c.rr);
	return rc;
}

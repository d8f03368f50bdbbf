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

/* Replace the stored delegation of child with next; audit and queue the difference. */
static int import_child(struct store *s, const struct cfg_zone *zc, int64_t zid,
			const uint8_t *child, struct deleg *next, struct deleg *cur, char *changes,
			const char *const *names, size_t nb, int64_t now, const char *path,
			size_t *nchanged)
{
	char zs[DNAME_STR_MAX], cs[DNAME_STR_MAX];
	int64_t cid, chg;
	deleg_sort(next);
	int rc = store_child_ensure(s, zid, child, &cid);
	if (rc == DS_OK)
		rc = store_deleg_load(s, cid, cur);
	if (rc != DS_OK)
		return rc;
	diff_text(cur, next, changes, 65536);
	if (changes[0] == '\0')
		return DS_OK;
	(*nchanged)++;
	dname_to_str(zc->name, zs, sizeof(zs));
	dname_to_str(child, cs, sizeof(cs));
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
	rc = store_deleg_write(s, cid, next);
	if (rc == DS_OK)
		rc = store_outbox_add(s, zc->name, child, changes, names, nb, now, &chg);
	if (rc == DS_OK)
		rc = store_audit_add(s, &a);
	return rc;
}

int daemon_import(const struct cfg *cfg, const char *zone, const char *path, FILE *out)
{
	uint8_t zname[DNAME_MAX];
	char why[512], zs[DNAME_STR_MAX];
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
	/*
	 * In canonical order every name below a delegation point follows it,
	 * so one pass over the sorted records, one owner at a time, sees each
	 * child's NS and DS and then the names below it (glue or occluded).
	 */
	if (c.n)
		qsort(c.rr, c.n, sizeof(c.rr[0]), cmp_owner_type);
	const uint8_t *cut = NULL;
	size_t i = 0;
	while (rc == DS_OK && i <= c.n) {
		size_t k = i;
		while (k < c.n && dname_equal(c.rr[k].owner, c.rr[i].owner))
			k++;
		bool below = i < c.n && cut && dname_is_strict_sub(c.rr[i].owner, cut);
		if (cut && !below) {
			rc = import_child(s, zc, zid, cut, next, cur, changes, names, nb, now, path,
					  &nchanged);
			nchild++;
			cut = NULL;
		}
		if (i == c.n || rc != DS_OK)
			break;
		bool has_ns = false;
		for (size_t x = i; x < k; x++)
			has_ns |= c.rr[x].type == T_NS;
		if (below) {
			/* glue for one of the child's NS targets, or occluded data */
			for (size_t x = i; x < k; x++) {
				bool glue = (c.rr[x].type == T_A || c.rr[x].type == T_AAAA) &&
					    is_ns_target(next, c.rr[x].owner);
				if (glue)
					keep(next, &c.rr[x], zc->pol.deleg_ttl);
				else
					ignored++;
			}
		} else if (has_ns) {
			/* a new delegation point: its NS and DS (anything else there is occluded)
			 */
			cut = c.rr[i].owner;
			next->n = 0;
			for (size_t x = i; x < k; x++) {
				if (c.rr[x].type == T_NS || c.rr[x].type == T_DS)
					keep(next, &c.rr[x], zc->pol.deleg_ttl);
				else
					ignored++;
			}
		} else {
			ignored +=
			    k - i; /* the parent's own data; a DS without NS is no delegation */
		}
		i = k;
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

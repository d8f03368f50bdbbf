/*
 * outbox/check.c -- the drift check (`dsyncd check ZONE [--repair]`, GET and
 * POST /api/v1/zones/{zone}/check): does
 * what each backend's target holds (the primary's zone transfer for
 * dnsupdate, the zone read through the API for powerdns, the file written
 * for zonefile) equal the delegations in the store?  The target's data goes through the same
 * extraction as `dsyncd import` (NS and DS at each cut, the glue its NS targets need), and the two
 * sides are compared record by record (owner, type, RDATA; TTLs are the target's business).  Each
 * difference is one line: "+ rr" is in the store but missing at the target, "- rr" is at the target
 * but not in the store.  --repair queues, for each child that differs, a change for that backend
 * alone; backends replace a child's delegation as a whole, so its delivery makes the target equal
 * the store again.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backends/backend.h"
#include "common/deleg.h"
#include "common/dname.h"
#include "common/err.h"
#include "common/rrtext.h"
#include "common/vec.h"
#include "outbox/outbox.h"
#include "store/store.h"

/* One side's delegation records, each with its child. */
struct side {
	struct side_rr {
		uint8_t child[DNAME_MAX];
		struct drr rr;
	} * r;
	size_t n, cap;
};

static int side_add(struct side *s, const uint8_t *child, const struct drr *rr)
{
	struct side_rr *p = vec_grow(s->r, &s->cap, s->n + 1, sizeof(*p), 1024);
	if (p == NULL)
		return DS_ENOMEM;
	s->r = p;
	memcpy(s->r[s->n].child, child, dname_len(child));
	s->r[s->n++].rr = *rr;
	return DS_OK;
}

/* store_rr_cb: the store's side */
static int from_store(void *arg, const uint8_t *child, const struct drr *rr)
{
	return side_add(arg, child, rr);
}

/* deleg_child_fn: the target's side */
static int from_target(void *arg, const uint8_t *child, struct deleg *d)
{
	int rc = DS_OK;
	for (size_t i = 0; rc == DS_OK && i < d->n; i++)
		rc = side_add(arg, child, &d->rr[i]);
	return rc;
}

/* Owner, type, RDATA (names in NS RDATA case-insensitively). */
static int cmp_rr(const void *pa, const void *pb)
{
	const struct drr *a = &((const struct side_rr *)pa)->rr,
			 *b = &((const struct side_rr *)pb)->rr;
	int c = dname_compare(a->owner, b->owner);
	if (c == 0)
		c = (a->type > b->type) - (a->type < b->type);
	if (c == 0 && a->type == T_NS)
		c = dname_compare(a->rdata, b->rdata);
	if (c == 0 && a->type != T_NS) {
		c = memcmp(a->rdata, b->rdata, a->rdlen < b->rdlen ? a->rdlen : b->rdlen);
		c = c ? c : (a->rdlen > b->rdlen) - (a->rdlen < b->rdlen);
	}
	return c;
}

/* One difference: printed, and (with --repair) added to its child's change text. */
struct check_run {
	const struct cfg_zone *zc;
	const char *backend;
	FILE *out;
	struct side store, target;
	size_t missing, extra;
	struct side diff; /* the differing records, in the order found */
	char *sign;	  /* per diff record: '+' or '-' */
};

static int note(struct check_run *c, const struct side_rr *x, char sign)
{
	char line[1024];
	if (rr_to_str(x->rr.owner, x->rr.ttl, x->rr.type, x->rr.rdata, x->rr.rdlen, line,
		      sizeof(line)) != DS_OK)
		snprintf(line, sizeof(line), "(a record that cannot be shown)");
	fprintf(c->out, "backend %s: %c %s\n", c->backend, sign, line);
	*(sign == '+' ? &c->missing : &c->extra) += 1;
	char *p = realloc(c->sign, c->diff.n + 1);
	if (p == NULL)
		return DS_ENOMEM;
	c->sign = p;
	c->sign[c->diff.n] = sign;
	return side_add(&c->diff, x->child, &x->rr);
}

/* Both sides sorted, one merge: what only one of them has. */
static int compare(struct check_run *c)
{
	struct side *a = &c->store, *b = &c->target;
	size_t i = 0, k = 0;
	int rc = DS_OK;
	if (a->n > 1) /* (an empty side has no array at all) */
		qsort(a->r, a->n, sizeof(a->r[0]), cmp_rr);
	if (b->n > 1)
		qsort(b->r, b->n, sizeof(b->r[0]), cmp_rr);
	while (rc == DS_OK && (i < a->n || k < b->n)) {
		int d = i == a->n ? 1 : k == b->n ? -1 : cmp_rr(&a->r[i], &b->r[k]);
		if (d < 0)
			rc = note(c, &a->r[i++], '+');
		else if (d > 0)
			rc = note(c, &b->r[k++], '-');
		else
			i++, k++;
	}
	return rc;
}

/* --repair: one change per differing child, for this backend only. */
static int repair(struct check_run *c, struct store *s)
{
	int64_t now = (int64_t)time(NULL), id;
	size_t queued = 0, len = 0, cap = 0;
	char *text = NULL;
	int rc = store_begin(s);
	for (size_t i = 0; rc == DS_OK && i < c->diff.n; i++) {
		bool first = true;
		for (size_t k = 0; k < i && first; k++)
			first = !dname_equal(c->diff.r[k].child, c->diff.r[i].child);
		if (!first)
			continue;
		len = 0;
		for (size_t k = i; k < c->diff.n; k++) {
			const struct side_rr *x = &c->diff.r[k];
			char line[1024];
			if (!dname_equal(x->child, c->diff.r[i].child) ||
			    rr_to_str(x->rr.owner, x->rr.ttl, x->rr.type, x->rr.rdata, x->rr.rdlen,
				      line, sizeof(line)) != DS_OK)
				continue;
			char *p = vec_grow(text, &cap, len + strlen(line) + 4, 1, 4096);
			if (p == NULL) {
				rc = DS_ENOMEM;
				break;
			}
			text = p;
			len += (size_t)sprintf(text + len, "%c %s\n", c->sign[k], line);
		}
		if (rc == DS_OK)
			rc = store_outbox_add(s, c->zc->name, c->diff.r[i].child, text ? text : "",
					      &c->backend, 1, now, &id);
		queued += rc == DS_OK;
	}
	rc = rc == DS_OK ? store_commit(s) : (store_rollback(s), rc);
	free(text);
	if (rc == DS_OK)
		fprintf(c->out, "backend %s: %zu re-sync(s) queued\n", c->backend, queued);
	return rc;
}

static void run_free(struct check_run *c)
{
	free(c->store.r);
	free(c->target.r);
	free(c->diff.r);
	free(c->sign);
}

/* One backend: its target's data against the store's; *differs when not equal. */
static int check_backend(const struct cfg_zone *zc, const struct cfg_backend *bc, struct store *s,
			 bool fix, FILE *out, bool *differs)
{
	struct backend *b = NULL;
	char err[600] = "";
	struct check_run c = {.zc = zc, .out = out};
	struct deleg_records recs = {.zone = zc->name};
	size_t ignored = 0;
	int rc = backend_new(bc, zc, &b, err, sizeof(err));
	c.backend = rc == DS_OK ? backend_name(b) : bc->type;
	if (rc == DS_OK)
		rc = backend_fetch(b, deleg_collect, &recs, err, sizeof(err));
	if (rc == DS_OK)
		rc = deleg_extract(&recs, zc->pol.deleg_ttl, from_target, &c.target, &ignored);
	if (rc == DS_ELIMIT && recs.toobig[0] != 0) {
		char big[DNAME_STR_MAX];
		dname_to_str(recs.toobig, big, sizeof(big));
		snprintf(err, sizeof(err),
			 "the delegation of %.500s there has more than %d records", big, DELEG_MAX);
	}
	if (rc == DS_OK)
		rc = store_zone_deleg_foreach(s, zc->name, from_store, &c.store);
	if (rc == DS_OK)
		rc = compare(&c);
	if (rc == DS_OK && fix && c.diff.n > 0)
		rc = repair(&c, s);
	if (rc == DS_OK)
		fprintf(out, "backend %s: %s: %zu record(s) missing at the target, %zu extra\n",
			c.backend, c.diff.n ? "differs" : "in sync", c.missing, c.extra);
	else if (rc == DS_ENOTSUP)
		fprintf(out, "backend %s: not checked: %s\n", c.backend, err);
	else
		fprintf(out, "backend %s: %s\n", c.backend, err[0] ? err : ds_strerror(rc));
	*differs |= c.diff.n > 0;
	backend_free(b);
	free(recs.rr);
	run_free(&c);
	return rc == DS_ENOTSUP ? DS_OK : rc;
}

int outbox_check(const struct cfg *cfg, const char *zone, bool fix, FILE *out)
{
	uint8_t zname[DNAME_MAX];
	const struct cfg_zone *zc = NULL;
	struct store *s = NULL;
	bool differs = false;
	if (dname_from_str(zone, zname) > 0)
		zc = cfg_zone_find(cfg, zname);
	if (zc == NULL) {
		fprintf(out, "check: zone %s is not configured\n", zone);
		return DS_ENOENT;
	}
	int rc = store_open(cfg->store_spec, &s);
	if (rc != DS_OK)
		fprintf(out, "check: cannot open the store: %s\n", ds_strerror(rc));
	for (size_t i = 0; rc == DS_OK && i < zc->nbackends; i++)
		rc = check_backend(zc, &zc->backends[i], s, fix, out, &differs);
	store_close(s);
	return rc != DS_OK ? rc : differs ? DS_EEXIST : DS_OK;
}

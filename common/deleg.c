/*
 * common/deleg.c -- small operations on one child's delegation data.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/deleg.h"
#include "common/dname.h"
#include "common/err.h"
#include "common/rrtext.h"
#include "common/vec.h"

bool drr_same(const struct drr *a, const struct drr *b)
{
	/* the cheap tests first: a child's records share their owner, and
	 * mostly differ in RDATA */
	if (a->type != b->type || a->rdlen != b->rdlen)
		return false;
	if (a->type == T_NS ? !dname_equal(a->rdata, b->rdata)
			    : memcmp(a->rdata, b->rdata, a->rdlen) != 0)
		return false;
	return dname_equal(a->owner, b->owner);
}

int deleg_find(const struct deleg *d, const struct drr *r)
{
	for (size_t i = 0; i < d->n; i++)
		if (drr_same(&d->rr[i], r))
			return (int)i;
	return -1;
}

size_t deleg_count(const struct deleg *d, const uint8_t *owner, uint16_t type)
{
	size_t n = 0;
	for (size_t i = 0; i < d->n; i++)
		if (d->rr[i].type == type && (owner == NULL || dname_equal(d->rr[i].owner, owner)))
			n++;
	return n;
}

int deleg_add(struct deleg *d, const struct drr *r)
{
	if (d->n == DELEG_MAX)
		return DS_ELIMIT;
	d->rr[d->n++] = *r;
	return DS_OK;
}

void deleg_remove(struct deleg *d, size_t i)
{
	if (i >= d->n)
		return;
	memmove(&d->rr[i], &d->rr[i + 1], (d->n - i - 1) * sizeof(d->rr[0]));
	d->n--;
}

static int drr_cmp(const void *pa, const void *pb)
{
	const struct drr *a = pa, *b = pb;
	int c = dname_compare(a->owner, b->owner);
	if (c)
		return c;
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	if (a->type == T_NS)
		return dname_compare(a->rdata, b->rdata);
	size_t n = a->rdlen < b->rdlen ? a->rdlen : b->rdlen;
	c = memcmp(a->rdata, b->rdata, n);
	if (c)
		return c;
	return a->rdlen == b->rdlen ? 0 : (a->rdlen < b->rdlen ? -1 : 1);
}

void deleg_sort(struct deleg *d)
{
	qsort(d->rr, d->n, sizeof(d->rr[0]), drr_cmp);
}

void deleg_diff_text(const struct deleg *cur, const struct deleg *next, char *out, size_t len)
{
	size_t o = 0;
	char line[1024];
	out[0] = '\0';
	for (int pass = 0; pass < 2; pass++) {
		const struct deleg *from = pass ? cur : next, *other = pass ? next : cur;
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

/* ---- delegations in a zone's data -------------------------------------- */

int deleg_collect(void *arg, const uint8_t *owner, uint16_t type, uint16_t rclass, uint32_t ttl,
		  const uint8_t *rdata, size_t rdlen)
{
	struct deleg_records *c = arg;
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

/* Add r to d once, with the TTL ttl; false when d is full. */
static bool keep(struct deleg *d, const struct drr *r, uint32_t ttl)
{
	if (deleg_find(d, r) >= 0)
		return true;
	if (deleg_add(d, r) != DS_OK)
		return false;
	d->rr[d->n - 1].ttl = ttl;
	return true;
}

/*
 * The n records of one owner: below the current cut, glue for one of the
 * child's NS targets (else occluded data); with NS, a new cut (*cut) and
 * its NS and DS (anything else there is occluded); else the parent's own
 * data (a DS without NS is no delegation).  False when the child's
 * delegation does not fit a struct deleg.
 */
static bool extract_owner(struct deleg *d, const struct drr *rr, size_t n, bool below, uint32_t ttl,
			  const uint8_t **cut, size_t *ignored)
{
	bool has_ns = false, fits = true;
	for (size_t x = 0; x < n; x++)
		has_ns |= rr[x].type == T_NS;
	if (below) {
		for (size_t x = 0; x < n; x++) {
			if ((rr[x].type == T_A || rr[x].type == T_AAAA) &&
			    is_ns_target(d, rr[x].owner))
				fits &= keep(d, &rr[x], ttl);
			else
				(*ignored)++;
		}
	} else if (has_ns) {
		*cut = rr[0].owner;
		d->n = 0;
		for (size_t x = 0; x < n; x++) {
			if (rr[x].type == T_NS || rr[x].type == T_DS)
				fits &= keep(d, &rr[x], ttl);
			else
				(*ignored)++;
		}
	} else {
		*ignored += n;
	}
	return fits;
}

/*
 * In canonical order every name below a delegation point follows it, so
 * one pass over the sorted records, one owner at a time, sees each child's
 * NS and DS and then the names below it (glue or occluded).
 */
int deleg_extract(struct deleg_records *recs, uint32_t ttl, deleg_child_fn fn, void *arg,
		  size_t *ignored)
{
	struct drr *rr = recs->rr;
	size_t n = recs->n, i = 0;
	const uint8_t *cut = NULL;
	struct deleg *d = malloc(sizeof(*d));
	int rc = d ? DS_OK : DS_ENOMEM;
	if (n)
		qsort(rr, n, sizeof(rr[0]), cmp_owner_type);
	while (rc == DS_OK && i <= n) {
		size_t k = i;
		while (k < n && dname_equal(rr[k].owner, rr[i].owner))
			k++;
		bool below = i < n && cut && dname_is_strict_sub(rr[i].owner, cut);
		if (cut && !below) {
			deleg_sort(d);
			rc = fn(arg, cut, d);
			cut = NULL;
		}
		if (i == n || rc != DS_OK)
			break;
		if (!extract_owner(d, &rr[i], k - i, below, ttl, &cut, ignored)) {
			/* never hand out part of a delegation */
			memcpy(recs->toobig, cut, dname_len(cut));
			rc = DS_ELIMIT;
		}
		i = k;
	}
	free(d);
	return rc;
}

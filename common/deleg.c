/*
 * common/deleg.c -- small operations on one child's delegation data.
 */
#include <stdlib.h>
#include <string.h>

#include "common/deleg.h"
#include "common/dname.h"
#include "common/err.h"

bool drr_same(const struct drr *a, const struct drr *b)
{
	if (a->type != b->type || !dname_equal(a->owner, b->owner))
		return false;
	if (a->type == T_NS)
		return a->rdlen == b->rdlen && dname_equal(a->rdata, b->rdata);
	return a->rdlen == b->rdlen && memcmp(a->rdata, b->rdata, a->rdlen) == 0;
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

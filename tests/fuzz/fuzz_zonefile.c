/*
 * tests/fuzz/fuzz_zonefile.c -- zone import (dsyncd import): a zone file's
 * text through zonefile_read (common/zonefile.c, ldns), what it reads
 * gathered by deleg_collect and cut into delegations by deleg_extract
 * (common/deleg.c).
 *
 * Input: the text of a zone file for example., written to a file in a
 * private temporary folder.  ($INCLUDE is not followed, so nothing outside
 * that file is read.)
 *
 * Checked beyond what ASan and UBSan see: a failed read says why; every
 * record handed over has an owner and RDATA of sane size; the delegations
 * are those a plain reading finds: each owner below the apex with NS and
 * under no other cut is one child, reported once and in canonical order,
 * with exactly its distinct NS and DS records and the A/AAAA glue below it
 * that its NS targets name, all with the import TTL; a child with more
 * records than a delegation holds (DELEG_MAX) stops the extraction with
 * DS_ELIMIT and its name, rather than being handed over cut short.
 */
#include <stdio.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "common/deleg.h"
#include "common/dname.h"
#include "common/err.h"
#include "common/zonefile.h"
#include "tests/fuzz/fuzz.h"

#define TTL 86400
#define REF_MAX 64 /* the plain reading is cubic: only for small files */

static char dir[64];
static char path[96];
static const uint8_t zone[] = "\x07"
			      "example";

static void cleanup(void)
{
	fuzz_rmtree(dir);
}

struct seen {
	struct deleg_records *recs; /* a copy of what was collected, unsorted */
	const uint8_t *last;	    /* the child before */
	uint8_t lastbuf[DNAME_MAX];
	size_t children;
};

static int check_rr(void *arg, const uint8_t *owner, uint16_t type, uint16_t rclass, uint32_t ttl,
		    const uint8_t *rdata, size_t rdlen)
{
	FUZZ_ASSERT(dname_len(owner) >= 1 && dname_len(owner) <= DNAME_MAX);
	FUZZ_ASSERT(rdlen <= 65535 && (rdlen == 0 || rdata != NULL));
	return deleg_collect(arg, owner, type, rclass, ttl, rdata, rdlen);
}

/* Is name strictly below an owner with NS in r (a cut above it)? */
static bool under_cut(const struct deleg_records *r, const uint8_t *name)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->rr[i].type == T_NS && dname_is_strict_sub(name, r->rr[i].owner))
			return true;
	return false;
}

static bool ns_target(const struct deleg_records *r, const uint8_t *child, const uint8_t *name)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->rr[i].type == T_NS && dname_equal(r->rr[i].owner, child) &&
		    dname_equal(r->rr[i].rdata, name))
			return true;
	return false;
}

/* What the child's delegation holds, read plainly from all the records. */
static bool expected(const struct deleg_records *r, const uint8_t *child, const struct drr *x)
{
	if (x->type == T_NS || x->type == T_DS)
		return dname_equal(x->owner, child);
	return (x->type == T_A || x->type == T_AAAA) && dname_is_strict_sub(x->owner, child) &&
	       ns_target(r, child, x->owner);
}

/* The distinct records of child's delegation in all of r. */
static size_t want_of(const struct deleg_records *r, const uint8_t *child)
{
	size_t want = 0;
	for (size_t i = 0; i < r->n; i++) {
		if (!expected(r, child, &r->rr[i]))
			continue;
		bool first = true;
		for (size_t k = 0; k < i && first; k++)
			first = !(expected(r, child, &r->rr[k]) && drr_same(&r->rr[k], &r->rr[i]));
		want += first;
	}
	return want;
}

static int check_child(void *arg, const uint8_t *child, struct deleg *d)
{
	struct seen *s = arg;
	const struct deleg_records *r = s->recs;
	FUZZ_ASSERT(dname_is_strict_sub(child, zone));
	if (s->last != NULL)
		FUZZ_ASSERT(dname_compare(s->last, child) < 0);
	memcpy(s->lastbuf, child, dname_len(child));
	s->last = s->lastbuf;
	s->children++;
	FUZZ_ASSERT(d->n >= 1 && d->n <= DELEG_MAX);
	for (size_t i = 0; i < d->n; i++) {
		FUZZ_ASSERT(d->rr[i].ttl == TTL);
		FUZZ_ASSERT(deleg_find(d, &d->rr[i]) == (int)i); /* no duplicates */
	}
	if (r == NULL)
		return 0;
	FUZZ_ASSERT(!under_cut(r, child));
	for (size_t i = 0; i < r->n; i++)
		if (expected(r, child, &r->rr[i]))
			FUZZ_ASSERT(deleg_find(d, &r->rr[i]) >= 0);
	for (size_t i = 0; i < d->n; i++)
		FUZZ_ASSERT(expected(r, child, &d->rr[i]));
	FUZZ_ASSERT(d->n == want_of(r, child));
	return 0;
}

/* Every owner with NS under no other cut was reported. */
static size_t cuts(const struct deleg_records *r)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n; i++) {
		if (r->rr[i].type != T_NS || under_cut(r, r->rr[i].owner))
			continue;
		bool first = true;
		for (size_t k = 0; k < i && first; k++)
			first =
			    !(r->rr[k].type == T_NS && dname_equal(r->rr[k].owner, r->rr[i].owner));
		n += first;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (path[0] == '\0') {
		fuzz_mkdtemp(dir, sizeof(dir), "dsyncd-fuzz-zone");
		atexit(cleanup);
		snprintf(path, sizeof(path), "%s/zone", dir);
	}
	FILE *f = fopen(path, "wb");
	FUZZ_ASSERT(f != NULL);
	FUZZ_ASSERT(fwrite(data, 1, size, f) == size && fclose(f) == 0);

	struct deleg_records recs = {.zone = zone}, copy = {.zone = zone};
	char why[512] = "";
	int rc = zonefile_read(path, zone, ZF_NO_INCLUDE, check_rr, &recs, why, sizeof(why));
	if (rc == DS_EPARSE)
		FUZZ_ASSERT(strncmp(why, path, strlen(path)) == 0 && why[strlen(path)] == ':');
	if (rc == DS_OK && recs.n <= REF_MAX) {
		copy.rr = malloc((recs.n ? recs.n : 1) * sizeof(*copy.rr));
		FUZZ_ASSERT(copy.rr != NULL);
		if (recs.n)
			memcpy(copy.rr, recs.rr, recs.n * sizeof(*copy.rr));
		copy.n = recs.n;
	}
	struct seen s = {.recs = copy.rr ? &copy : NULL};
	size_t ignored = 0;
	if (rc == DS_OK) {
		rc = deleg_extract(&recs, TTL, check_child, &s, &ignored);
		/* a child too big for a struct deleg stops it, never cut short */
		FUZZ_ASSERT(rc == DS_OK || rc == DS_ELIMIT);
		if (rc == DS_ELIMIT) {
			FUZZ_ASSERT(dname_is_strict_sub(recs.toobig, zone));
			if (copy.rr != NULL)
				FUZZ_ASSERT(want_of(&copy, recs.toobig) > DELEG_MAX);
		} else if (copy.rr != NULL) {
			FUZZ_ASSERT(s.children == cuts(&copy));
		}
	}
	free(copy.rr);
	free(recs.rr);
	return 0;
}

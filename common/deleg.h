/*
 * common/deleg.h -- the delegation data of one child as a plain value:
 * NS and DS at the child name, A/AAAA glue below it.  Used by policy (pure
 * computation of the next state), the store (load/write) and backends.
 */
#ifndef DS_COMMON_DELEG_H
#define DS_COMMON_DELEG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/dns.h"

#define DRR_RDATA_MAX 300 /* NS target <= 255, DS <= 4 + 64 + slack */
#define DELEG_MAX 128	  /* records of one child held at once (R12) */

struct drr {
	uint8_t owner[DNAME_MAX]; /* uncompressed wire, case as received */
	uint16_t type;
	uint32_t ttl;
	uint16_t rdlen;
	uint8_t rdata[DRR_RDATA_MAX]; /* uncompressed; NS target case preserved */
};

struct deleg {
	size_t n;
	struct drr rr[DELEG_MAX];
};

/*
 * RR identity per RFC 2136 1.1: same owner (case-insensitive), type and
 * RDATA (names inside NS RDATA compared case-insensitively).
 */
bool drr_same(const struct drr *a, const struct drr *b);

/* Index of an RR equal to r in d, or -1. */
int deleg_find(const struct deleg *d, const struct drr *r);

/* Count the records of a type (owner == NULL: any owner). */
size_t deleg_count(const struct deleg *d, const uint8_t *owner, uint16_t type);

/* Append; DS_ELIMIT when full.  Does not check duplicates. */
int deleg_add(struct deleg *d, const struct drr *r);

/* Remove index i (order of the rest is kept). */
void deleg_remove(struct deleg *d, size_t i);

/* Sort in canonical order (owner, type, rdata) for stable output and compare. */
void deleg_sort(struct deleg *d);

/* "+ rr" / "- rr" lines (rr_to_str) of what next adds to cur and removes
 * from it, into out (cut at a whole line when it is full). */
void deleg_diff_text(const struct deleg *cur, const struct deleg *next, char *out, size_t len);

/* ---- delegations in a zone's data (a zone file, a zone transfer) ---- */

/* The records of zone that may be delegation data: NS, DS, A and AAAA
 * strictly below the apex, class IN; deleg_collect gathers them. */
struct deleg_records {
	const uint8_t *zone;
	struct drr *rr;
	size_t n, cap;
	size_t skipped;		   /* other types below the apex */
	uint8_t toobig[DNAME_MAX]; /* deleg_extract's DS_ELIMIT: the child that did not fit */
};

/* A zf_rr_cb (common/zonefile.h) that adds to the struct deleg_records in arg. */
int deleg_collect(void *arg, const uint8_t *owner, uint16_t type, uint16_t rclass, uint32_t ttl,
		  const uint8_t *rdata, size_t rdlen);

/*
 * Every delegation in recs (sorted here): fn(arg, child, d) once per child,
 * in canonical order, with the child's NS and DS and the A/AAAA glue its NS
 * targets below it need, each with the TTL ttl.  Records below a cut that
 * are no glue, and DS or address records without NS, are not delegation
 * data: counted in *ignored.  A non-zero return of fn stops and is
 * returned.  A child with more than DELEG_MAX distinct records stops it
 * with DS_ELIMIT (its name in recs->toobig), before fn sees that child.
 */
typedef int (*deleg_child_fn)(void *arg, const uint8_t *child, struct deleg *d);
int deleg_extract(struct deleg_records *recs, uint32_t ttl, deleg_child_fn fn, void *arg,
		  size_t *ignored);

#endif

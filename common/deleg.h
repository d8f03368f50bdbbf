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

#endif

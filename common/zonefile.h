/*
 * common/zonefile.h -- reading RRs in presentation format (zone files and
 * single RR text) through ldns, handed out as uncompressed wire data.
 */
#ifndef DS_COMMON_ZONEFILE_H
#define DS_COMMON_ZONEFILE_H

#include <stddef.h>
#include <stdint.h>

#include "common/dns.h"

typedef int (*zf_rr_cb)(void *arg, const uint8_t *owner, uint16_t type, uint16_t rclass,
			uint32_t ttl, const uint8_t *rdata, size_t rdlen);

/*
 * Read every RR of the zone file at path ($ORIGIN and $TTL as ldns handles
 * them; origin is the default $ORIGIN) and call cb for each.  ldns does not
 * follow $INCLUDE: with ZF_NO_INCLUDE in flags a $INCLUDE line is refused
 * (DS_ENOTSUP, why says where) rather than its records silently left out.
 * A non-zero return from cb stops and is returned.  On a parse error,
 * returns DS_EPARSE with why = "path:line: reason"; a record cut short at
 * the end of the file is one (only blanks and comments may end it).
 */
#define ZF_NO_INCLUDE 1u
int zonefile_read(const char *path, const uint8_t *origin, unsigned flags, zf_rr_cb cb, void *arg,
		  char *why, size_t whylen);

/*
 * Parse one RR from text ("owner [ttl] [class] type rdata"); a relative
 * owner is taken as absolute.  rdcap bounds the RDATA copied.
 */
int zonefile_rr_from_str(const char *text, uint8_t owner[DNAME_MAX], uint16_t *type, uint32_t *ttl,
			 uint8_t *rdata, size_t rdcap, size_t *rdlen, char *why, size_t whylen);

#endif

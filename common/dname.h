/*
 * common/dname.h -- domain names in uncompressed wire form.
 *
 * All comparisons are label-wise and ASCII case-insensitive: "ab.example."
 * is never a subdomain of "cab.example." (R7 / issue rule 5).
 * A name is a byte string of length-prefixed labels ending with the root
 * label; its length is derived (dname_len) so callers pass just the pointer.
 */
#ifndef DS_COMMON_DNAME_H
#define DS_COMMON_DNAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/dns.h"

/* Length of a well-formed wire name (including the root label). */
size_t dname_len(const uint8_t *name);

/* Number of labels, root not counted ("." -> 0, "a.b." -> 2). */
unsigned dname_labels(const uint8_t *name);

/* Case-insensitive equality. */
bool dname_equal(const uint8_t *a, const uint8_t *b);

/* True when name is parent itself or below it (label-wise). */
bool dname_is_sub(const uint8_t *name, const uint8_t *parent);

/* True when name is strictly below parent. */
bool dname_is_strict_sub(const uint8_t *name, const uint8_t *parent);

/* Canonical DNSSEC ordering (RFC 4034 6.1): <0, 0, >0. */
int dname_compare(const uint8_t *a, const uint8_t *b);

/* Copy name into out in lower case; returns length. */
size_t dname_lower(uint8_t out[DNAME_MAX], const uint8_t *name);

/* Pointer to the name with its first label removed (root stays root). */
const uint8_t *dname_parent(const uint8_t *name);

/*
 * Presentation format with every special character escaped (R15):
 * '.' ';' '(' ')' '\\' '"' '$' '@' and whitespace as "\c"-style or "\DDD",
 * non-printable octets as "\DDD".  Always ends with '.'.  Returns DS_OK or
 * DS_ELIMIT if out (at least 1 byte) was too small (out is then truncated).
 * The longest possible output is DNAME_STR_MAX - 1 characters.
 */
#define DNAME_STR_MAX (DNAME_MAX * 4 + 1)
int dname_to_str(const uint8_t *name, char *out, size_t outlen);
/* The same for logs and messages: returns out; when out is too small the
 * text ends with "..." (out of DNAME_STR_MAX bytes never is). */
const char *dname_str(const uint8_t *name, char *out, size_t outlen);

/*
 * Parse a presentation-format name (with \c and \DDD escapes).  A name
 * without a trailing dot is taken as absolute.  Returns the wire length or a
 * negative DS_EPARSE / DS_ELIMIT.
 */
int dname_from_str(const char *s, uint8_t out[DNAME_MAX]);

/* 64-bit hash of the lower-cased name (for in-memory tables). */
uint64_t dname_hash(const uint8_t *name);

#endif

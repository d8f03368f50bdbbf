/*
 * policy/policy.h -- what a delegation UPDATE may change.  Pure: no I/O, no
 * store, no clock; given the child's current delegation and the parsed
 * message it computes the next delegation or a refusal with a precise text.
 *
 * policy_update() runs, in this order (RFC 2136 section 3 with the checks
 * of doc/protocol.md, Processing order and Delegation policy):
 *   0. prerequisite + update records <= max_update_rrs, else REFUSED.
 *   1. prerequisites (3.2): TTL != 0 -> FORMERR; name outside zone ->
 *      NOTZONE; name outside the child's data -> REFUSED (dsyncd holds only
 *      delegation data); then each form with its RCODE (NXDOMAIN, NXRRSET,
 *      YXDOMAIN, YXRRSET, FORMERR for RDATA on ANY/NONE).
 *   2. update prescan (3.4.1): NOTZONE / FORMERR rules.
 *   3. scope: every update RR at or below the child (else REFUSED: one
 *      UPDATE changes only the signer's own delegation); types
 *      NS/DS at the child, A/AAAA strictly below it; `ANY ANY` at the child
 *      refused; KEY never mixed with delegation changes; all else refused.
 *      Added DS records (class IN) must pass policy_ds_check() here;
 *      deletions are not checked, so a DS of a retired algorithm or digest
 *      type can always be removed.
 *   4. apply in order to a copy (RFC 2136 3.4.2 semantics: add ignores
 *      duplicates, class ANY deletes an RRset or all RRsets at a name, class
 *      NONE deletes one RR), TTLs set to pol->deleg_ttl, glue that was in
 *      cur and that no NS target needs any more removed (glue added by this
 *      UPDATE is kept, so that step 5 refuses it when it serves no NS).
 *   5. checks on the result: NS count within [min_ns, max_ns] when NS
 *      changed; no DS or glue without NS; max_ds; glue only for NS
 *      targets; every NS target at or below the child has glue; max_glue.
 * Every refusal names the offending record and the rule in res->text
 * (truncated with "..." at 255 bytes, never inside an escape).  EDE codes:
 * policy refusals EDE_PROHIBITED, DS algorithm EDE_UNSUPPORTED_KEY_ALG, DS
 * digest type EDE_UNSUPPORTED_DS_DIGEST; FORMERR, NOTZONE and failed
 * prerequisites EDE_OTHER.
 */
#ifndef DS_POLICY_POLICY_H
#define DS_POLICY_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/deleg.h"
#include "common/msg.h"

struct zone_policy {
	uint32_t deleg_ttl;	 /* default 3600 */
	unsigned min_ns;	 /* default 2 */
	unsigned max_ns;	 /* default 13 */
	unsigned max_ds;	 /* default 8 */
	unsigned max_glue;	 /* default 26 (address records, all names) */
	unsigned max_update_rrs; /* prereq + update records, default 64 */
	/* bit sets over 0..255 */
	uint8_t ds_digest_ok[32]; /* default 2 (SHA-256), 4 (SHA-384) */
	uint8_t ds_alg_ok[32];	  /* default 8, 10, 13, 14, 15, 16 */
};

void policy_defaults(struct zone_policy *p);
static inline void policy_bit_set(uint8_t set[32], uint8_t v)
{
	set[v >> 3] |= (uint8_t)(1u << (v & 7));
}
static inline bool policy_bit(const uint8_t set[32], uint8_t v)
{
	return (set[v >> 3] >> (v & 7)) & 1;
}

struct policy_result {
	int rcode;	 /* enum dns_rcode; RC_NOERROR when accepted */
	uint16_t ede;	 /* EDE info code for refusals */
	char text[256];	 /* EDE EXTRA-TEXT: which record, which rule */
	bool changed;	 /* accepted and the delegation differs */
	bool key_change; /* the update section only touches KEY at the child */
	/* summary of the change: "+ rr\n" / "- rr\n" lines (presentation,
	 * rr_to_str), adds then removes, each group in canonical order; for
	 * the audit log and the outbox; empty when nothing changed; ends in
	 * "...\n" if it did not fit */
	char changes[8192];
};

/*
 * Decide one UPDATE.  zone: the parent zone (from the zone section); child:
 * the signer's name (already authenticated and known to be a child of
 * zone); cur: the child's current delegation (never modified); next:
 * filled with the result when accepted, sorted with deleg_sort(); its
 * content is unspecified otherwise; next must not be cur.  Returns DS_OK when the UPDATE is
 * accepted (res->rcode == RC_NOERROR), DS_EINVAL when refused (res filled), DS_ELIMIT when the
 * result would exceed DELEG_MAX (res filled, REFUSED).  KEY-only updates are
 * reported with res->key_change and REFUSED until key management by UPDATE
 * exists (the caller may handle them first).
 */
/*
 * The checks every authenticated UPDATE passes, whatever it changes: the
 * child is below zone, the number of records, the prerequisites against
 * cur (RFC 2136 3.2), the update section's classes and TTLs (3.4.1).
 * DS_OK, or DS_EINVAL with res filled.  policy_update() starts with it.
 */
int policy_check(const struct zone_policy *pol, const uint8_t *zone, const uint8_t *child,
		 const struct msg *m, const struct deleg *cur, struct policy_result *res);

int policy_update(const struct zone_policy *pol, const uint8_t *zone, const uint8_t *child,
		  const struct msg *m, const struct deleg *cur, struct deleg *next,
		  struct policy_result *res);

/*
 * Check one DS RDATA against the policy; NULL when fine, else a static
 * reason, with *ede set: EDE_UNSUPPORTED_KEY_ALG (algorithm not allowed),
 * EDE_UNSUPPORTED_DS_DIGEST (digest type not allowed), EDE_PROHIBITED
 * (digest length not 20/32/32/48 for types 1/2/3/4, or not 1..64 for other
 * allowed types), EDE_OTHER (RDATA under 4 octets).
 */
const char *policy_ds_check(const struct zone_policy *pol, const uint8_t *rdata, size_t rdlen,
			    uint16_t *ede);

/*
 * A whole delegation of child as the operator sets it (no message): only
 * NS and DS at child and A/AAAA strictly below it, every DS accepted by
 * policy_ds_check(), and the checks on the result of policy_update()'s
 * step 5 as if every record were new.  No record at all is fine (a child
 * whose delegation its first UPDATE will set).  DS_OK, or DS_EINVAL with
 * res->text saying which record breaks which rule.
 */
int policy_deleg_check(const struct zone_policy *pol, const uint8_t *child, const struct deleg *d,
		       struct policy_result *res);

#endif

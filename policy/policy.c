/*
 * policy/policy.c -- the delegation policy: RFC 2136 prerequisites, prescan
 * and update semantics over one child's delegation, plus the parent's rules.
 *
 * Everything here is pure: the function reads the parsed message and the
 * current delegation and writes only *next and *res.  The order of the steps
 * is the one documented in policy.h; the first failing rule decides the
 * answer, so the text always names exactly one record and one rule.
 */
#include "policy/policy.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/dname.h"
#include "common/err.h"
#include "common/rrtext.h"

/* Room for one record in presentation form: two escaped names plus RDATA. */
#define RRSTR_MAX 4096

void policy_defaults(struct zone_policy *p)
{
	static const uint8_t algs[] = {ALG_RSASHA256,	    ALG_RSASHA512, ALG_ECDSAP256SHA256,
				       ALG_ECDSAP384SHA384, ALG_ED25519,   ALG_ED448};

	memset(p, 0, sizeof(*p));
	p->deleg_ttl = 3600;
	p->min_ns = 2;
	p->max_ns = 13;
	p->max_ds = 8;
	p->max_glue = 26;
	p->max_update_rrs = 64;
	policy_bit_set(p->ds_digest_ok, 2);
	policy_bit_set(p->ds_digest_ok, 4);
	for (size_t i = 0; i < sizeof(algs); i++)
		policy_bit_set(p->ds_alg_ok, algs[i]);
}

/* ------------------------------------------------------------------------
 * Result text
 */

/*
 * Cut text that did not fit into res->text at a point that does not split
 * an escape sequence of dname_to_str() ("\c" or "\DDD") and mark the cut.
 */
static void text_truncate(char *t, size_t size)
{
	size_t limit = size - 4; /* "..." and the NUL */
	size_t i = 0;

	while (i < limit) {
		size_t step = 1;
		if (t[i] == '\\')
			step = (t[i + 1] >= '0' && t[i + 1] <= '9') ? 4 : 2;
		if (i + step > limit)
			break;
		i += step;
	}
	memcpy(t + i, "...", 4);
}

static int refuse(struct policy_result *res, int rcode, uint16_t ede, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Fill res with a refusal; returns DS_EINVAL for the caller to pass on. */
static int refuse(struct policy_result *res, int rcode, uint16_t ede, const char *fmt, ...)
{
	va_list ap;
	int n;

	res->rcode = rcode;
	res->ede = ede;
	res->changed = false;
	res->changes[0] = '\0';
	va_start(ap, fmt);
	n = vsnprintf(res->text, sizeof(res->text), fmt, ap);
	va_end(ap);
	if (n < 0)
		res->text[0] = '\0';
	else if ((size_t)n >= sizeof(res->text))
		text_truncate(res->text, sizeof(res->text));
	return DS_EINVAL;
}

static const char *class_str(uint16_t c, char *buf, size_t len)
{
	switch (c) {
	case CLASS_IN:
		return "IN";
	case CLASS_ANY:
		return "ANY";
	case CLASS_NONE:
		return "NONE";
	default:
		snprintf(buf, len, "CLASS%u", (unsigned)c);
		return buf;
	}
}

/* RFC 3597 form, for RDATA that rrtext cannot (or must not) print. */
static void hex_rdata(const uint8_t *rd, size_t len, char *out, size_t outlen)
{
	static const char hx[] = "0123456789abcdef";
	int n = snprintf(out, outlen, "\\# %zu%s", len, len ? " " : "");
	size_t o = n > 0 ? (size_t)n : 0;

	for (size_t i = 0; i < len && o + 3 <= outlen; i++) {
		out[o++] = hx[rd[i] >> 4];
		out[o++] = hx[rd[i] & 15];
	}
	if (o < outlen)
		out[o] = '\0';
}

static size_t rr_rdlen(const struct msg_rr *rr)
{
	return rr->crd == UINT32_MAX ? rr->rdlen : rr->crdlen;
}

/* An RR of the message as received: "<owner> <ttl> <class> <type> [rdata]". */
static const char *msg_rr_str(const struct msg *m, const struct msg_rr *rr, char *out,
			      size_t outlen)
{
	char owner[DNAME_STR_MAX], tb[16], cb[16];
	size_t rl = rr_rdlen(rr);
	int n;

	dname_to_str(msg_owner(m, rr), owner, sizeof(owner));
	n = snprintf(out, outlen, "%s %u %s %s", owner, (unsigned)rr->ttl,
		     class_str(rr->rclass, cb, sizeof(cb)), rr_type_str(rr->type, tb, sizeof(tb)));
	if (n < 0 || (size_t)n + 2 >= outlen || rl == 0)
		return out;
	out[n++] = ' ';
	if (rr_rdata_to_str(rr->type, msg_rdata(m, rr), rl, out + n, outlen - (size_t)n) != DS_OK)
		hex_rdata(msg_rdata(m, rr), rl, out + n, outlen - (size_t)n);
	return out;
}

/* A delegation record: "<owner> <ttl> IN <type> <rdata>". */
static const char *drr_str(const struct drr *r, char *out, size_t outlen)
{
	if (rr_to_str(r->owner, r->ttl, r->type, r->rdata, r->rdlen, out, outlen) == DS_OK)
		return out;
	/* unprintable RDATA: still name the record */
	char owner[DNAME_STR_MAX], tb[16];
	int n;

	dname_to_str(r->owner, owner, sizeof(owner));
	n = snprintf(out, outlen, "%s %u IN %s ", owner, (unsigned)r->ttl,
		     rr_type_str(r->type, tb, sizeof(tb)));
	if (n > 0 && (size_t)n < outlen)
		hex_rdata(r->rdata, r->rdlen, out + n, outlen - (size_t)n);
	return out;
}

/* ------------------------------------------------------------------------
 * Small helpers over names, RDATA and the delegation
 */

/*
 * Length of an uncompressed wire name at p that must end within max bytes,
 * or 0 when it is not one (pointer, reserved label type, too long).
 */
static size_t wire_name_len(const uint8_t *p, size_t max)
{
	size_t i = 0;

	while (i < max && i < DNAME_MAX) {
		uint8_t l = p[i];
		if (l & 0xc0)
			return 0;
		if (l == 0)
			return i + 1;
		i += 1u + l;
	}
	return 0;
}

static bool is_meta_type(uint16_t t)
{
	return t == T_ANY || t == T_AXFR || t == T_IXFR || t == T_MAILA || t == T_MAILB;
}

/* Copy an RR of the message into d; false when it cannot be held. */
static bool drr_from_msg(const struct msg *m, const struct msg_rr *rr, uint32_t ttl, struct drr *d)
{
	const uint8_t *owner = msg_owner(m, rr);
	size_t ol = dname_len(owner), rl = rr_rdlen(rr);

	if (ol == 0 || ol > DNAME_MAX || rl > DRR_RDATA_MAX)
		return false;
	memset(d, 0, sizeof(*d));
	memcpy(d->owner, owner, ol);
	d->type = rr->type;
	d->ttl = ttl;
	d->rdlen = (uint16_t)rl;
	if (rl)
		memcpy(d->rdata, msg_rdata(m, rr), rl);
	return true;
}

static bool name_in_use(const struct deleg *d, const uint8_t *name)
{
	for (size_t i = 0; i < d->n; i++)
		if (dname_equal(d->rr[i].owner, name))
			return true;
	return false;
}

static size_t rrset_count(const struct deleg *d, const uint8_t *name, uint16_t type)
{
	size_t c = 0;

	for (size_t i = 0; i < d->n; i++)
		if (d->rr[i].type == type && (!name || dname_equal(d->rr[i].owner, name)))
			c++;
	return c;
}

static bool is_glue_type(uint16_t t)
{
	return t == T_A || t == T_AAAA;
}

/* Is name the target of an NS record at child? */
static bool is_ns_target(const struct deleg *d, const uint8_t *child, const uint8_t *name)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct drr *r = &d->rr[i];
		if (r->type == T_NS && dname_equal(r->owner, child) &&
		    wire_name_len(r->rdata, r->rdlen) == r->rdlen && dname_equal(r->rdata, name))
			return true;
	}
	return false;
}

static bool has_addr(const struct deleg *d, const uint8_t *name)
{
	return rrset_count(d, name, T_A) + rrset_count(d, name, T_AAAA) > 0;
}

/* Canonical order for the change summary: owner, type, RDATA octets. */
static int drr_cmp(const struct drr *a, const struct drr *b)
{
	int c = dname_compare(a->owner, b->owner);

	if (c)
		return c;
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	size_t n = a->rdlen < b->rdlen ? a->rdlen : b->rdlen;
	c = memcmp(a->rdata, b->rdata, n);
	if (c)
		return c;
	return a->rdlen < b->rdlen ? -1 : a->rdlen > b->rdlen;
}

static void sort_idx(const struct deleg *d, size_t *idx, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		size_t v = idx[i], j = i;
		while (j > 0 && drr_cmp(&d->rr[idx[j - 1]], &d->rr[v]) > 0) {
			idx[j] = idx[j - 1];
			j--;
		}
		idx[j] = v;
	}
}

/* ------------------------------------------------------------------------
 * DS
 */

const char *policy_ds_check(const struct zone_policy *pol, const uint8_t *rdata, size_t rdlen,
			    uint16_t *ede)
{
	size_t want;

	if (rdlen < 4) {
		*ede = EDE_OTHER;
		return "DS RDATA is shorter than 4 octets";
	}
	if (!policy_bit(pol->ds_alg_ok, rdata[2])) {
		*ede = EDE_UNSUPPORTED_KEY_ALG;
		return "DS algorithm not allowed by the parent's policy";
	}
	if (!policy_bit(pol->ds_digest_ok, rdata[3])) {
		*ede = EDE_UNSUPPORTED_DS_DIGEST;
		return "DS digest type not allowed by the parent's policy";
	}
	switch (rdata[3]) {
	case 1:
		want = 20;
		break;
	case 2:
	case 3:
		want = 32;
		break;
	case 4:
		want = 48;
		break;
	default:
		want = 0; /* unknown length: a sane bound only */
		break;
	}
	bool bad = want ? rdlen - 4 != want : (rdlen - 4 < 1 || rdlen - 4 > 64);
	if (bad) {
		*ede = EDE_PROHIBITED;
		return "DS digest length does not match its digest type";
	}
	return NULL;
}

/* ------------------------------------------------------------------------
 * 1. Prerequisites (RFC 2136 3.2)
 */

/* Does the whole RRset (name, type) of cur equal the class-IN prerequisites for it? */
static int prereq_values(const struct msg *m, const struct msg_rr *pr, size_t n,
			 const struct deleg *cur, struct policy_result *res)
{
	char rs[RRSTR_MAX];
	struct drr d;

	for (size_t i = 0; i < n; i++) {
		if (pr[i].rclass != CLASS_IN)
			continue;
		if (!drr_from_msg(m, &pr[i], 0, &d) || deleg_find(cur, &d) < 0)
			return refuse(res, RC_NXRRSET, EDE_OTHER,
				      "prerequisite failed, RRset differs: %s is not present",
				      msg_rr_str(m, &pr[i], rs, sizeof(rs)));
	}
	/* the other direction: every record of such an RRset must be listed */
	for (size_t i = 0; i < n; i++) {
		const uint8_t *name = msg_owner(m, &pr[i]);
		if (pr[i].rclass != CLASS_IN)
			continue;
		for (size_t k = 0; k < cur->n; k++) {
			const struct drr *r = &cur->rr[k];
			bool listed = false;
			if (r->type != pr[i].type || !dname_equal(r->owner, name))
				continue;
			for (size_t j = 0; j < n && !listed; j++)
				listed = pr[j].rclass == CLASS_IN && pr[j].type == r->type &&
					 drr_from_msg(m, &pr[j], 0, &d) && drr_same(&d, r);
			if (!listed)
				return refuse(
				    res, RC_NXRRSET, EDE_OTHER,
				    "prerequisite failed, RRset differs: %s exists but is "
				    "not listed",
				    drr_str(r, rs, sizeof(rs)));
		}
	}
	return DS_OK;
}

/* What every prerequisite must be: TTL 0, in the zone, on the child, no meta type. */
static int prereq_scope(const uint8_t *zone, const uint8_t *child, const struct msg *m,
			const struct msg_rr *rr, struct policy_result *res)
{
	char rs[RRSTR_MAX], ns[DNAME_STR_MAX], cs[DNAME_STR_MAX];
	const uint8_t *name = msg_owner(m, rr);

	if (rr->ttl != 0)
		return refuse(res, RC_FORMERR, EDE_OTHER,
			      "prerequisite TTL must be 0 (RFC 2136 3.2.1): %s",
			      msg_rr_str(m, rr, rs, sizeof(rs)));
	if (!dname_is_sub(name, zone))
		return refuse(res, RC_NOTZONE, EDE_OTHER, "prerequisite outside zone %s: %s",
			      dname_str(zone, ns, sizeof(ns)), msg_rr_str(m, rr, rs, sizeof(rs)));
	if (!dname_is_sub(name, child))
		return refuse(res, RC_REFUSED, EDE_PROHIBITED,
			      "prerequisite on %s: dsyncd holds only the delegation of %s",
			      dname_str(name, ns, sizeof(ns)), dname_str(child, cs, sizeof(cs)));
	if (rr->type != T_ANY && is_meta_type(rr->type))
		return refuse(res, RC_FORMERR, EDE_OTHER, "prerequisite with a meta type: %s",
			      msg_rr_str(m, rr, rs, sizeof(rs)));
	return DS_OK;
}

/*
 * Class ANY (want: the name is in use, or the RRset exists; RFC 2136
 * 3.2.1) or class NONE (want false: the opposite; 3.2.2).
 */
static int prereq_presence(const struct msg *m, const struct msg_rr *rr, const struct deleg *cur,
			   bool want, struct policy_result *res)
{
	char rs[RRSTR_MAX];
	const uint8_t *name = msg_owner(m, rr);

	if (rr_rdlen(rr) != 0)
		return refuse(res, RC_FORMERR, EDE_OTHER,
			      "prerequisite of class %s must have no RDATA (RFC 2136 %s): %s",
			      want ? "ANY" : "NONE", want ? "3.2.1" : "3.2.2",
			      msg_rr_str(m, rr, rs, sizeof(rs)));
	if (rr->type == T_ANY) {
		if (name_in_use(cur, name) != want)
			return refuse(res, want ? RC_NXDOMAIN : RC_YXDOMAIN, EDE_OTHER,
				      "prerequisite failed, %s: %s",
				      want ? "name is not in use" : "name is in use",
				      msg_rr_str(m, rr, rs, sizeof(rs)));
	} else if ((rrset_count(cur, name, rr->type) != 0) != want) {
		return refuse(res, want ? RC_NXRRSET : RC_YXRRSET, EDE_OTHER,
			      "prerequisite failed, %s: %s",
			      want ? "RRset does not exist" : "RRset exists",
			      msg_rr_str(m, rr, rs, sizeof(rs)));
	}
	return DS_OK;
}

/* Class IN: its form only; the values are compared as whole RRsets later. */
static int prereq_value_form(const struct msg *m, const struct msg_rr *rr,
			     struct policy_result *res)
{
	char rs[RRSTR_MAX];
	size_t rl = rr_rdlen(rr);

	if (rr->type == T_ANY)
		return refuse(res, RC_FORMERR, EDE_OTHER,
			      "prerequisite of class IN cannot have type ANY: %s",
			      msg_rr_str(m, rr, rs, sizeof(rs)));
	if (rr->type == T_NS && wire_name_len(msg_rdata(m, rr), rl) != rl)
		return refuse(res, RC_FORMERR, EDE_OTHER,
			      "prerequisite NS RDATA is not one name: %s",
			      msg_rr_str(m, rr, rs, sizeof(rs)));
	return DS_OK;
}

static int check_prereqs(const uint8_t *zone, const uint8_t *child, const struct msg *m,
			 const struct deleg *cur, struct policy_result *res)
{
	char rs[RRSTR_MAX];
	size_t n;
	const struct msg_rr *pr = msg_section(m, SEC_PREREQ, &n);

	for (size_t i = 0; i < n; i++) {
		const struct msg_rr *rr = &pr[i];
		int rc = prereq_scope(zone, child, m, rr, res);
		if (rc != DS_OK)
			return rc;
		switch (rr->rclass) {
		case CLASS_ANY:
			rc = prereq_presence(m, rr, cur, true, res);
			break;
		case CLASS_NONE:
			rc = prereq_presence(m, rr, cur, false, res);
			break;
		case CLASS_IN:
			rc = prereq_value_form(m, rr, res);
			break;
		default:
			return refuse(res, RC_FORMERR, EDE_OTHER,
				      "prerequisite class must be IN, ANY or NONE: %s",
				      msg_rr_str(m, rr, rs, sizeof(rs)));
		}
		if (rc != DS_OK)
			return rc;
	}
	return prereq_values(m, pr, n, cur, res);
}

/* ------------------------------------------------------------------------
 * 2. Prescan (RFC 2136 3.4.1) and RDATA form
 */

static int check_rdata_form(const struct msg *m, const struct msg_rr *rr, struct policy_result *res)
{
	char rs[RRSTR_MAX];
	const uint8_t *rd = msg_rdata(m, rr);
	size_t rl = rr_rdlen(rr);
	const char *why = NULL;

	switch (rr->type) {
	case T_A:
		if (rl != 4)
			why = "A RDATA must be 4 octets";
		break;
	case T_AAAA:
		if (rl != 16)
			why = "AAAA RDATA must be 16 octets";
		break;
	case T_NS:
		if (rl == 0 || wire_name_len(rd, rl) != rl)
			why = "NS RDATA must be exactly one uncompressed name";
		break;
	case T_DS:
		if (rl < 4)
			why = "DS RDATA is shorter than 4 octets";
		break;
	default:
		break;
	}
	if (why)
		return refuse(res, RC_FORMERR, EDE_OTHER, "%s: %s", why,
			      msg_rr_str(m, rr, rs, sizeof(rs)));
	return DS_OK;
}

static int prescan(const uint8_t *zone, const struct msg *m, struct policy_result *res)
{
	char rs[RRSTR_MAX], zs[DNAME_STR_MAX];
	size_t n;
	const struct msg_rr *up = msg_section(m, SEC_UPDATE, &n);

	for (size_t i = 0; i < n; i++) {
		const struct msg_rr *rr = &up[i];
		const char *why = NULL;

		if (!dname_is_sub(msg_owner(m, rr), zone))
			return refuse(
			    res, RC_NOTZONE, EDE_OTHER, "update record outside zone %s: %s",
			    dname_str(zone, zs, sizeof(zs)), msg_rr_str(m, rr, rs, sizeof(rs)));
		switch (rr->rclass) {
		case CLASS_IN:
			if (is_meta_type(rr->type))
				why = "a meta type cannot be added";
			break;
		case CLASS_ANY:
			if (rr->ttl != 0)
				why = "class ANY deletion must have TTL 0";
			else if (rr_rdlen(rr) != 0)
				why = "class ANY deletion must have no RDATA";
			else if (rr->type != T_ANY && is_meta_type(rr->type))
				why = "a meta type cannot be deleted";
			break;
		case CLASS_NONE:
			if (rr->ttl != 0)
				why = "class NONE deletion must have TTL 0";
			else if (is_meta_type(rr->type))
				why = "class NONE deletion needs a real type";
			break;
		default:
			why = "update class must be IN, ANY or NONE";
			break;
		}
		if (why)
			return refuse(res, RC_FORMERR, EDE_OTHER, "%s (RFC 2136 3.4.1.3): %s", why,
				      msg_rr_str(m, rr, rs, sizeof(rs)));
		if (rr->rclass != CLASS_ANY) {
			int err = check_rdata_form(m, rr, res);
			if (err)
				return err;
		}
	}
	return DS_OK;
}

/* ------------------------------------------------------------------------
 * 3. Scope and types (R7)
 */

static int check_scope(const struct zone_policy *pol, const uint8_t *child, const struct msg *m,
		       struct policy_result *res)
{
	char rs[RRSTR_MAX], cs[DNAME_STR_MAX], tb[16];
	size_t n, nkey = 0, ndeleg = 0, first_key = 0;
	const struct msg_rr *up = msg_section(m, SEC_UPDATE, &n);

	dname_str(child, cs, sizeof(cs));
	for (size_t i = 0; i < n; i++) {
		const struct msg_rr *rr = &up[i];
		const uint8_t *name = msg_owner(m, rr);
		bool at_child = dname_equal(name, child);

		if (!dname_is_sub(name, child))
			return refuse(res, RC_REFUSED, EDE_PROHIBITED,
				      "outside the signer's delegation %s (an UPDATE changes only "
				      "its own delegation): %s",
				      cs, msg_rr_str(m, rr, rs, sizeof(rs)));
		if (rr->type == T_KEY && at_child) {
			if (nkey++ == 0)
				first_key = i;
			continue;
		}
		if (rr->rclass == CLASS_ANY && rr->type == T_ANY) {
			if (at_child)
				return refuse(res, RC_REFUSED, EDE_PROHIBITED,
					      "deleting all RRsets at the child would remove the "
					      "delegation: %s",
					      msg_rr_str(m, rr, rs, sizeof(rs)));
			ndeleg++;
			continue;
		}
		switch (rr->type) {
		case T_NS:
		case T_DS:
			if (!at_child)
				return refuse(res, RC_REFUSED, EDE_PROHIBITED,
					      "%s records only at the child name %s: %s",
					      rr_type_str(rr->type, tb, sizeof(tb)), cs,
					      msg_rr_str(m, rr, rs, sizeof(rs)));
			break;
		case T_A:
		case T_AAAA:
			if (at_child)
				return refuse(res, RC_REFUSED, EDE_PROHIBITED,
					      "glue only strictly below %s: %s", cs,
					      msg_rr_str(m, rr, rs, sizeof(rs)));
			break;
		default:
			return refuse(res, RC_REFUSED, EDE_PROHIBITED,
				      "type %s is not delegation data (only NS/DS at %s, A/AAAA "
				      "below it): %s",
				      rr_type_str(rr->type, tb, sizeof(tb)), cs,
				      msg_rr_str(m, rr, rs, sizeof(rs)));
		}
		if (rr->type == T_DS && rr->rclass == CLASS_IN) {
			/* only additions: a stale DS must stay removable */
			uint16_t ede = EDE_PROHIBITED;
			const char *why =
			    policy_ds_check(pol, msg_rdata(m, rr), rr_rdlen(rr), &ede);
			if (why)
				return refuse(res, RC_REFUSED, ede, "%s: %s", why,
					      msg_rr_str(m, rr, rs, sizeof(rs)));
		}
		ndeleg++;
	}
	if (nkey && ndeleg)
		return refuse(res, RC_REFUSED, EDE_PROHIBITED,
			      "KEY changes must not be mixed with delegation changes: %s",
			      msg_rr_str(m, &up[first_key], rs, sizeof(rs)));
	if (nkey) {
		refuse(res, RC_REFUSED, EDE_PROHIBITED, "KEY changes by UPDATE are not enabled: %s",
		       msg_rr_str(m, &up[first_key], rs, sizeof(rs)));
		res->key_change = true;
		return DS_EINVAL;
	}
	return DS_OK;
}

/* ------------------------------------------------------------------------
 * 4. Apply (RFC 2136 3.4.2)
 */

static void remove_matching(struct deleg *d, const uint8_t *name, uint16_t type)
{
	for (size_t i = d->n; i-- > 0;)
		if (dname_equal(d->rr[i].owner, name) && (type == T_ANY || d->rr[i].type == type))
			deleg_remove(d, i);
}

static int apply(const struct zone_policy *pol, const uint8_t *child, const struct msg *m,
		 const struct deleg *cur, struct deleg *next, struct policy_result *res)
{
	char rs[RRSTR_MAX], cs[DNAME_STR_MAX];
	struct drr d;
	size_t n;
	const struct msg_rr *up = msg_section(m, SEC_UPDATE, &n);

	*next = *cur;
	for (size_t i = 0; i < n; i++) {
		const struct msg_rr *rr = &up[i];
		int idx;

		switch (rr->rclass) {
		case CLASS_IN:
			if (!drr_from_msg(m, rr, pol->deleg_ttl, &d))
				return refuse(res, RC_REFUSED, EDE_PROHIBITED,
					      "record too large to hold: %s",
					      msg_rr_str(m, rr, rs, sizeof(rs)));
			if (deleg_find(next, &d) >= 0)
				break; /* duplicate: ignored (3.4.2.2) */
			if (deleg_add(next, &d) != DS_OK) {
				refuse(res, RC_REFUSED, EDE_PROHIBITED,
				       "delegation of %s would exceed %d records: %s",
				       dname_str(child, cs, sizeof(cs)), DELEG_MAX,
				       msg_rr_str(m, rr, rs, sizeof(rs)));
				return DS_ELIMIT;
			}
			break;
		case CLASS_ANY:
			remove_matching(next, msg_owner(m, rr), rr->type);
			break;
		case CLASS_NONE:
			/* an RR too large to be held cannot be present */
			if (drr_from_msg(m, rr, 0, &d) && (idx = deleg_find(next, &d)) >= 0)
				deleg_remove(next, (size_t)idx);
			break;
		default:
			break; /* excluded by the prescan */
		}
	}

	/* glue that no NS target needs any more goes with the NS (glue added
	 * by this UPDATE is kept so that the check below can name it) */
	for (size_t i = next->n; i-- > 0;) {
		const struct drr *r = &next->rr[i];
		if (is_glue_type(r->type) && !is_ns_target(next, child, r->owner) &&
		    deleg_find(cur, r) >= 0)
			deleg_remove(next, i);
	}
	return DS_OK;
}

/* ------------------------------------------------------------------------
 * 5. Checks on the result
 */

static bool ns_changed(const uint8_t *child, const struct deleg *cur, const struct deleg *next)
{
	for (size_t i = 0; i < next->n; i++)
		if (next->rr[i].type == T_NS && deleg_find(cur, &next->rr[i]) < 0)
			return true;
	for (size_t i = 0; i < cur->n; i++)
		if (cur->rr[i].type == T_NS && dname_equal(cur->rr[i].owner, child) &&
		    deleg_find(next, &cur->rr[i]) < 0)
			return true;
	return false;
}

static int check_result(const struct zone_policy *pol, const uint8_t *child,
			const struct deleg *cur, const struct deleg *next,
			struct policy_result *res)
{
	char rs[RRSTR_MAX], cs[DNAME_STR_MAX], ts[DNAME_STR_MAX];
	size_t nns = rrset_count(next, child, T_NS);
	size_t nds = rrset_count(next, child, T_DS);
	size_t nglue = rrset_count(next, NULL, T_A) + rrset_count(next, NULL, T_AAAA);

	dname_str(child, cs, sizeof(cs));
	if (ns_changed(child, cur, next)) {
		if (nns < pol->min_ns)
			return refuse(res, RC_REFUSED, EDE_PROHIBITED,
				      "%s NS set would have %zu record(s); the minimum is %u", cs,
				      nns, pol->min_ns);
		if (nns > pol->max_ns)
			return refuse(res, RC_REFUSED, EDE_PROHIBITED,
				      "%s NS set would have %zu record(s); the maximum is %u", cs,
				      nns, pol->max_ns);
	}
	if (nns == 0) {
		for (size_t i = 0; i < next->n; i++)
			if (next->rr[i].type == T_DS || is_glue_type(next->rr[i].type))
				return refuse(res, RC_REFUSED, EDE_PROHIBITED,
					      "DS or glue without any NS record at %s: %s", cs,
					      drr_str(&next->rr[i], rs, sizeof(rs)));
	}
	if (nds > pol->max_ds)
		return refuse(res, RC_REFUSED, EDE_PROHIBITED,
			      "%s DS set would have %zu record(s); the maximum is %u", cs, nds,
			      pol->max_ds);
	for (size_t i = 0; i < next->n; i++) {
		const struct drr *r = &next->rr[i];
		if (is_glue_type(r->type) && !is_ns_target(next, child, r->owner))
			return refuse(res, RC_REFUSED, EDE_PROHIBITED,
				      "glue is allowed only at NS targets, %s is none: %s",
				      dname_str(r->owner, ts, sizeof(ts)),
				      drr_str(r, rs, sizeof(rs)));
	}
	for (size_t i = 0; i < next->n; i++) {
		const struct drr *r = &next->rr[i];
		if (r->type != T_NS || wire_name_len(r->rdata, r->rdlen) != r->rdlen)
			continue;
		if (dname_is_sub(r->rdata, child) && !has_addr(next, r->rdata))
			return refuse(res, RC_REFUSED, EDE_PROHIBITED,
				      "%s is inside %s and needs glue (A/AAAA): %s",
				      dname_str(r->rdata, ts, sizeof(ts)), cs,
				      drr_str(r, rs, sizeof(rs)));
	}
	if (nglue > pol->max_glue)
		return refuse(res, RC_REFUSED, EDE_PROHIBITED,
			      "%s would have %zu glue record(s); the maximum is %u", cs, nglue,
			      pol->max_glue);
	return DS_OK;
}

/* ------------------------------------------------------------------------
 * Change summary
 */

struct chg {
	char *buf;
	size_t cap, len;
	bool full;
};

static void chg_line(struct chg *c, char sign, const struct drr *r)
{
	char rs[RRSTR_MAX];
	size_t l;

	if (c->full)
		return;
	drr_str(r, rs, sizeof(rs));
	l = strlen(rs);
	/* keep room for the "...\n" marker */
	if (c->len + l + 3 + 5 > c->cap) {
		memcpy(c->buf + c->len, "...\n", 5);
		c->len += 4;
		c->full = true;
		return;
	}
	c->buf[c->len++] = sign;
	c->buf[c->len++] = ' ';
	memcpy(c->buf + c->len, rs, l);
	c->len += l;
	c->buf[c->len++] = '\n';
	c->buf[c->len] = '\0';
}

/* Fill res->changes and res->changed from the difference cur -> next. */
static void summarise(const struct deleg *cur, const struct deleg *next, struct policy_result *res)
{
	size_t add[DELEG_MAX], del[DELEG_MAX], nadd = 0, ndel = 0;
	struct chg c = {res->changes, sizeof(res->changes), 0, false};

	res->changes[0] = '\0';
	for (size_t i = 0; i < next->n; i++)
		if (deleg_find(cur, &next->rr[i]) < 0)
			add[nadd++] = i;
	for (size_t i = 0; i < cur->n && ndel < DELEG_MAX; i++)
		if (deleg_find(next, &cur->rr[i]) < 0)
			del[ndel++] = i;
	sort_idx(next, add, nadd);
	sort_idx(cur, del, ndel);
	for (size_t i = 0; i < nadd; i++)
		chg_line(&c, '+', &next->rr[add[i]]);
	for (size_t i = 0; i < ndel; i++)
		chg_line(&c, '-', &cur->rr[del[i]]);
	res->changed = nadd + ndel > 0;
}

/* ------------------------------------------------------------------------
 * The decision
 */

int policy_check(const struct zone_policy *pol, const uint8_t *zone, const uint8_t *child,
		 const struct msg *m, const struct deleg *cur, struct policy_result *res)
{
	char cs[DNAME_STR_MAX], zs[DNAME_STR_MAX];
	size_t total = (size_t)m->count[SEC_PREREQ] + m->count[SEC_UPDATE];
	int err;

	memset(res, 0, sizeof(*res));
	res->rcode = RC_NOERROR;

	if (!dname_is_strict_sub(child, zone))
		return refuse(res, RC_REFUSED, EDE_PROHIBITED, "%s is not a child of zone %s",
			      dname_str(child, cs, sizeof(cs)), dname_str(zone, zs, sizeof(zs)));
	if (total > pol->max_update_rrs)
		return refuse(res, RC_REFUSED, EDE_PROHIBITED,
			      "UPDATE has %zu prerequisite and update records; the maximum is %u",
			      total, pol->max_update_rrs);
	if ((err = check_prereqs(zone, child, m, cur, res)) != DS_OK)
		return err;
	return prescan(zone, m, res);
}

int policy_update(const struct zone_policy *pol, const uint8_t *zone, const uint8_t *child,
		  const struct msg *m, const struct deleg *cur, struct deleg *next,
		  struct policy_result *res)
{
	int err;

	if ((err = policy_check(pol, zone, child, m, cur, res)) != DS_OK)
		return err;
	if ((err = check_scope(pol, child, m, res)) != DS_OK)
		return err;
	if ((err = apply(pol, child, m, cur, next, res)) != DS_OK)
		return err;
	if ((err = check_result(pol, child, cur, next, res)) != DS_OK)
		return err;
	deleg_sort(next);
	summarise(cur, next, res);
	res->rcode = RC_NOERROR;
	res->ede = 0;
	res->text[0] = '\0';
	return DS_OK;
}

int policy_deleg_check(const struct zone_policy *pol, const uint8_t *child, const struct deleg *d,
		       struct policy_result *res)
{
	static const struct deleg none = {0};
	char rs[RRSTR_MAX], cs[DNAME_STR_MAX];
	uint16_t ede = 0;

	memset(res, 0, sizeof(*res));
	dname_str(child, cs, sizeof(cs));
	for (size_t i = 0; i < d->n; i++) {
		const struct drr *r = &d->rr[i];
		const char *why = NULL;
		if (!dname_is_sub(r->owner, child) ||
		    (dname_equal(r->owner, child) ? r->type != T_NS && r->type != T_DS
						  : !is_glue_type(r->type)))
			return refuse(res, RC_REFUSED, EDE_PROHIBITED,
				      "not delegation data of %s: %s", cs,
				      drr_str(r, rs, sizeof(rs)));
		if (r->type == T_DS && (why = policy_ds_check(pol, r->rdata, r->rdlen, &ede)))
			return refuse(res, RC_REFUSED, ede, "%s: %s", why,
				      drr_str(r, rs, sizeof(rs)));
	}
	return check_result(pol, child, &none, d, res);
}

/*
 * tools/agent/diff.c -- what the child's zone wants delegated, what the
 * parent delegates now, and the UPDATE between the two (agent.h).
 *
 * The child's side is read through the validating resolver (bogus data is
 * never used; insecure data is: an unsigned child, or a signed child whose
 * DS the parent does not have yet, is exactly who needs this).  The
 * parent's side is asked from the parent's own servers with RD=0, because
 * a resolver answers the child's NS from the child's zone, not the
 * referral the parent serves.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <openssl/evp.h>

#include "common/dname.h"
#include "common/dnsq.h"
#include "common/err.h"
#include "common/msg.h"
#include "common/wire.h"
#include "sig0/sig0.h"
#include "tools/agent/agent.h"

#define QUERY_TIMEOUT_MS 5000 /* one query to one parent server */
#define NS_NAMES_MAX 16	      /* parent NS names looked up */
#define SERVERS_MAX 16	      /* parent server addresses tried */
#define DS_SHA256 2
#define DNSKEY_ZONE 0x0100
#define DNSKEY_SEP 0x0001
#define DNSKEY_REVOKE 0x0080

/* ---- pure parts ------------------------------------------------------------- */

int agent_ds_from_dnskey(const uint8_t *owner, const uint8_t *dnskey, size_t len, uint32_t ttl,
			 struct drr *out)
{
	uint8_t canon[DNAME_MAX];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;

	if (len < 4)
		return DS_EMALF;
	size_t olen = dname_lower(canon, owner);
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	if (c == NULL)
		return DS_ECRYPTO;
	int ok = EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
		 EVP_DigestUpdate(c, canon, olen) == 1 && EVP_DigestUpdate(c, dnskey, len) == 1 &&
		 EVP_DigestFinal_ex(c, md, &mdlen) == 1 && mdlen == 32;
	EVP_MD_CTX_free(c);
	if (!ok)
		return DS_ECRYPTO;
	memset(out, 0, sizeof(*out));
	memcpy(out->owner, owner, dname_len(owner));
	out->type = T_DS;
	out->ttl = ttl;
	wr_u16(out->rdata, sig0_rdata_tag(dnskey, len));
	out->rdata[2] = dnskey[3]; /* algorithm */
	out->rdata[3] = DS_SHA256;
	memcpy(out->rdata + 4, md, mdlen);
	out->rdlen = (uint16_t)(4 + mdlen);
	return DS_OK;
}

void agent_diff(const struct deleg *has, const struct deleg *wants, struct deleg *add,
		struct deleg *del)
{
	add->n = 0;
	del->n = 0;
	/* add and del cannot overflow: each holds distinct records of one input */
	for (size_t i = 0; i < wants->n; i++)
		if (deleg_find(has, &wants->rr[i]) < 0 && deleg_find(add, &wants->rr[i]) < 0)
			deleg_add(add, &wants->rr[i]);
	for (size_t i = 0; i < has->n; i++)
		if (deleg_find(wants, &has->rr[i]) < 0 && deleg_find(del, &has->rr[i]) < 0)
			deleg_add(del, &has->rr[i]);
}

/* ---- helpers ------------------------------------------------------------------- */

/* Append one record unless it is there already; DS_OK, DS_ELIMIT, DS_EMALF (too long). */
static int put(struct deleg *d, const uint8_t *owner, uint16_t type, uint32_t ttl,
	       const uint8_t *rdata, size_t rdlen)
{
	struct drr rr;
	if (rdlen > sizeof(rr.rdata))
		return DS_EMALF;
	memset(&rr, 0, sizeof(rr));
	memcpy(rr.owner, owner, dname_len(owner));
	rr.type = type;
	rr.ttl = ttl;
	rr.rdlen = (uint16_t)rdlen;
	memcpy(rr.rdata, rdata, rdlen);
	if (deleg_find(d, &rr) >= 0)
		return DS_OK;
	return deleg_add(d, &rr);
}

/* Is rdata exactly one well-formed uncompressed name (NS RDATA)? */
static bool one_name(const uint8_t *rdata, size_t rdlen)
{
	struct wire w;
	uint8_t n[DNAME_MAX];
	wire_init(&w, rdata, rdlen);
	wire_name_nocomp(&w, n);
	return wire_err(&w) == DS_OK && wire_left(&w) == 0;
}

/*
 * Can an answer be used?  DS_OK with data, DS_ENOENT negative (NXDOMAIN,
 * NODATA), DS_EAGAIN: no answer, SERVFAIL or another RCODE, or bogus (its
 * data is never used).  why says which for the last two.
 */
static int usable(const struct bm_answer *a, const uint8_t *name, const char *type, char *why,
		  size_t whylen)
{
	char n[DNAME_STR_MAX];
	if (a->err != DS_OK) {
		ds_why(why, whylen, "%s %s: %s", dname_str(name, n, sizeof(n)), type, a->why);
		return DS_EAGAIN;
	}
	if (a->bogus) {
		ds_why(why, whylen, "%s %s is bogus (%s)", dname_str(name, n, sizeof(n)), type,
		       a->why);
		return DS_EAGAIN;
	}
	if (a->rcode != RC_NOERROR && a->rcode != RC_NXDOMAIN) {
		ds_why(why, whylen, "%s %s: the resolver answered RCODE %d",
		       dname_str(name, n, sizeof(n)), type, a->rcode);
		return DS_EAGAIN;
	}
	if (a->nxdomain || !a->havedata || a->n == 0)
		return DS_ENOENT;
	return DS_OK;
}

/* ---- what the child wants ------------------------------------------------------ */

/* A/AAAA of the NS names at or below child, added to out. */
static int child_glue(struct bm_resolver *r, const uint8_t *child, struct deleg *out, char *why,
		      size_t whylen)
{
	const uint8_t *ns[DELEG_MAX];
	size_t nns = 0;
	for (size_t i = 0; i < out->n; i++) {
		const struct drr *rr = &out->rr[i];
		if (rr->type != T_NS || !dname_is_sub(rr->rdata, child))
			continue;
		bool dup = false;
		for (size_t j = 0; j < nns && !dup; j++)
			dup = dname_equal(ns[j], rr->rdata);
		if (!dup)
			ns[nns++] = rr->rdata;
	}
	if (nns == 0)
		return DS_OK;
	struct bm_query *q = calloc(2 * nns, sizeof(*q));
	struct bm_answer *a = calloc(2 * nns, sizeof(*a));
	/* the names point into out, which grows below: keep copies */
	uint8_t(*names)[DNAME_MAX] = calloc(nns, sizeof(*names));
	int rc = DS_ENOMEM;
	if (q == NULL || a == NULL || names == NULL)
		goto done;
	for (size_t i = 0; i < nns; i++) {
		memcpy(names[i], ns[i], dname_len(ns[i]));
		q[2 * i] = (struct bm_query){.name = names[i], .type = T_A};
		q[2 * i + 1] = (struct bm_query){.name = names[i], .type = T_AAAA};
	}
	if ((rc = bm_lookups(r, q, 2 * nns, a)) != DS_OK)
		goto done;
	for (size_t i = 0; i < 2 * nns && rc == DS_OK; i++) {
		const char *t = q[i].type == T_A ? "A" : "AAAA";
		size_t want = q[i].type == T_A ? 4 : 16;
		int u = usable(&a[i], q[i].name, t, why, whylen);
		if (u == DS_EAGAIN)
			rc = DS_EAGAIN;
		for (size_t j = 0; u == DS_OK && j < a[i].n && rc == DS_OK; j++)
			if (a[i].rr[j].rdlen == want)
				rc = put(out, q[i].name, q[i].type, a[i].rr[j].ttl,
					 a[i].rr[j].rdata, want);
	}
	if (rc == DS_ELIMIT)
		ds_why(why, whylen, "more than %d delegation records", DELEG_MAX);
	for (size_t i = 0; i < 2 * nns; i++)
		bm_answer_free(&a[i]);
done:
	if (rc == DS_ENOMEM)
		ds_why(why, whylen, "out of memory");
	free(q);
	free(a);
	free(names);
	return rc;
}

/* The DS the CDS RRset asks for; *deleted when it holds the "0 0 0 00" form. */
static int ds_from_cds(const uint8_t *child, const struct bm_answer *cds, struct deleg *out,
		       bool *deleted, char *why, size_t whylen)
{
	static const uint8_t delete_form[5] = {0, 0, 0, 0, 0};
	char c[DNAME_STR_MAX];
	*deleted = false;
	for (size_t i = 0; i < cds->n; i++)
		if (cds->rr[i].rdlen == sizeof(delete_form) &&
		    memcmp(cds->rr[i].rdata, delete_form, sizeof(delete_form)) == 0)
			*deleted = true;
	if (*deleted)
		return DS_OK; /* RFC 8078 4: remove every DS */
	for (size_t i = 0; i < cds->n; i++) {
		const struct bm_rr *rr = &cds->rr[i];
		if (rr->rdlen < 5) {
			ds_why(why, whylen, "CDS record %zu of %s is malformed (%u octets)", i + 1,
			       dname_str(child, c, sizeof(c)), rr->rdlen);
			return DS_EMALF;
		}
		int rc = put(out, child, T_DS, rr->ttl, rr->rdata, rr->rdlen);
		if (rc != DS_OK) {
			ds_why(why, whylen, "CDS record %zu of %s: %s", i + 1,
			       dname_str(child, c, sizeof(c)),
			       rc == DS_ELIMIT ? "too many delegation records" : "too long");
			return rc;
		}
	}
	return DS_OK;
}

/* DS (SHA-256) of every zone key with the SEP flag, not revoked. */
static int ds_from_dnskeys(const uint8_t *child, const struct bm_answer *keys, struct deleg *out,
			   char *why, size_t whylen)
{
	for (size_t i = 0; i < keys->n; i++) {
		const struct bm_rr *k = &keys->rr[i];
		struct drr ds;
		if (k->rdlen < 4 || k->rdata[2] != 3)
			continue;
		uint16_t flags = rd_u16(k->rdata);
		if ((flags & (DNSKEY_ZONE | DNSKEY_SEP)) != (DNSKEY_ZONE | DNSKEY_SEP) ||
		    (flags & DNSKEY_REVOKE))
			continue;
		int rc = agent_ds_from_dnskey(child, k->rdata, k->rdlen, k->ttl, &ds);
		if (rc == DS_OK && deleg_find(out, &ds) < 0)
			rc = deleg_add(out, &ds);
		if (rc != DS_OK) {
			ds_why(why, whylen, "DS from DNSKEY %zu: %s", i + 1, ds_strerror(rc));
			return rc;
		}
	}
	return DS_OK;
}

enum { C_NS, C_DNSKEY, C_CDS, C_N };

int agent_child_wants(struct bm_resolver *r, const uint8_t *child, bool use_cds, struct deleg *out,
		      char *why, size_t whylen)
{
	char c[DNAME_STR_MAX];
	struct bm_query q[C_N] = {
	    {.name = child, .type = T_NS},
	    {.name = child, .type = T_DNSKEY},
	    {.name = child, .type = T_CDS},
	};
	struct bm_answer a[C_N];
	size_t nq = use_cds ? C_N : C_CDS;

	out->n = 0;
	ds_why(why, whylen, "%s", "");
	dname_str(child, c, sizeof(c));
	if (bm_lookups(r, q, nq, a) != DS_OK) {
		ds_why(why, whylen, "out of memory");
		return DS_ENOMEM;
	}
	int rc = usable(&a[C_NS], child, "NS", why, whylen);
	if (rc == DS_ENOENT)
		ds_why(why, whylen, "%s has no NS RRset (%s)", c,
		       a[C_NS].nxdomain ? "NXDOMAIN" : "NODATA");
	for (size_t i = 0; rc == DS_OK && i < a[C_NS].n; i++) {
		const struct bm_rr *ns = &a[C_NS].rr[i];
		if (!one_name(ns->rdata, ns->rdlen)) {
			ds_why(why, whylen, "NS record %zu of %s is malformed", i + 1, c);
			rc = DS_EAGAIN;
			break;
		}
		rc = put(out, child, T_NS, ns->ttl, ns->rdata, ns->rdlen);
		if (rc == DS_ELIMIT)
			ds_why(why, whylen, "more than %d delegation records", DELEG_MAX);
	}
	if (rc == DS_OK)
		rc = child_glue(r, child, out, why, whylen);

	/* DS: the CDS when asked for and present, else the DNSKEYs */
	bool from_cds = false, deleted = false;
	if (rc == DS_OK && use_cds) {
		int u = usable(&a[C_CDS], child, "CDS", why, whylen);
		if (u == DS_OK) {
			from_cds = true;
			rc = ds_from_cds(child, &a[C_CDS], out, &deleted, why, whylen);
		} else if (u == DS_EAGAIN) {
			rc = u;
		}
	}
	if (rc == DS_OK && !from_cds) {
		int u = usable(&a[C_DNSKEY], child, "DNSKEY", why, whylen);
		if (u == DS_OK)
			rc = ds_from_dnskeys(child, &a[C_DNSKEY], out, why, whylen);
		else if (u == DS_EAGAIN)
			rc = u;
	}
	if (rc == DS_OK && use_cds && !from_cds)
		ds_why(why, whylen, "%s has no CDS RRset: DS computed from its DNSKEYs", c);
	else if (rc == DS_OK && deleted)
		ds_why(why, whylen, "%s publishes the CDS delete form (0 0 0 00): no DS", c);
	else if (rc == DS_OK)
		ds_why(why, whylen, "%s", "");
	for (size_t i = 0; i < nq; i++)
		bm_answer_free(&a[i]);
	if (rc != DS_OK && rc != DS_ENOENT && rc != DS_ENOMEM && rc != DS_ELIMIT)
		rc = DS_EAGAIN;
	if (rc != DS_OK)
		out->n = 0;
	return rc;
}

/* ---- what the parent has ---------------------------------------------------------- */

struct server {
	struct sockaddr_storage sa;
	socklen_t salen;
};

/* The parent zone's server addresses, through r. */
static int parent_servers(struct bm_resolver *r, const uint8_t *parent, uint16_t port,
			  struct server *sv, size_t *nsv, char *why, size_t whylen)
{
	char p[DNAME_STR_MAX], note[512] = "";
	uint8_t names[NS_NAMES_MAX][DNAME_MAX];
	struct bm_query q[2 * NS_NAMES_MAX];
	struct bm_answer nsa, a[2 * NS_NAMES_MAX];
	size_t nn = 0;

	*nsv = 0;
	dname_str(parent, p, sizeof(p));
	if (bm_lookup(r, parent, T_NS, &nsa) == DS_ENOMEM) {
		ds_why(why, whylen, "out of memory");
		return DS_ENOMEM;
	}
	int rc = usable(&nsa, parent, "NS", why, whylen);
	if (rc == DS_ENOENT)
		ds_why(why, whylen, "the parent %s has no NS RRset", p);
	for (size_t i = 0; rc == DS_OK && i < nsa.n && nn < NS_NAMES_MAX; i++) {
		if (!one_name(nsa.rr[i].rdata, nsa.rr[i].rdlen))
			continue;
		memcpy(names[nn], nsa.rr[i].rdata, nsa.rr[i].rdlen);
		q[2 * nn] = (struct bm_query){.name = names[nn], .type = T_A};
		q[2 * nn + 1] = (struct bm_query){.name = names[nn], .type = T_AAAA};
		nn++;
	}
	bm_answer_free(&nsa);
	if (rc != DS_OK)
		return rc;
	if (bm_lookups(r, q, 2 * nn, a) != DS_OK) {
		ds_why(why, whylen, "out of memory");
		return DS_ENOMEM;
	}
	bool failed = false;
	for (size_t i = 0; i < 2 * nn; i++) {
		bool v4 = q[i].type == T_A;
		int u = usable(&a[i], q[i].name, v4 ? "A" : "AAAA", note, sizeof(note));
		failed = failed || u == DS_EAGAIN;
		for (size_t j = 0; u == DS_OK && j < a[i].n && *nsv < SERVERS_MAX; j++) {
			struct server *s = &sv[*nsv];
			memset(s, 0, sizeof(*s));
			if (v4 && a[i].rr[j].rdlen == 4) {
				struct sockaddr_in *s4 = (struct sockaddr_in *)&s->sa;
				s4->sin_family = AF_INET;
				s4->sin_port = htons(port);
				memcpy(&s4->sin_addr, a[i].rr[j].rdata, 4);
				s->salen = sizeof(*s4);
			} else if (!v4 && a[i].rr[j].rdlen == 16) {
				struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&s->sa;
				s6->sin6_family = AF_INET6;
				s6->sin6_port = htons(port);
				memcpy(&s6->sin6_addr, a[i].rr[j].rdata, 16);
				s->salen = sizeof(*s6);
			} else {
				continue;
			}
			(*nsv)++;
		}
		bm_answer_free(&a[i]);
	}
	if (*nsv > 0)
		return DS_OK;
	if (failed) {
		ds_why(why, whylen, "no address for the servers of %s: %s", p, note);
		return DS_EAGAIN;
	}
	ds_why(why, whylen, "the servers of %s have no address", p);
	return DS_ENOENT;
}

/* The DS RRset of child from the parent's authoritative answer m. */
static int take_ds(const struct msg *m, const uint8_t *child, bool aa, struct deleg *out,
		   const char *c, const char *srv, char *why, size_t whylen)
{
	size_t nan;
	const struct msg_rr *an = msg_section(m, 1, &nan);
	int rc = DS_OK;

	if (!aa) {
		ds_why(why, whylen, "%s DS at %s: the answer is not authoritative", c, srv);
		return DS_EAGAIN;
	}
	for (size_t i = 0; i < nan && rc == DS_OK; i++)
		if (an[i].type == T_DS && an[i].rclass == CLASS_IN &&
		    dname_equal(msg_owner(m, &an[i]), child))
			rc = put(out, child, T_DS, an[i].ttl, msg_rdata(m, &an[i]), an[i].crdlen);
	return rc;
}

/* The NS set at child and the glue below it from m: a referral (authority
 * section), or an authoritative answer when this server serves the child
 * zone too. */
static int take_ns(const struct msg *m, const uint8_t *child, bool aa, struct deleg *out,
		   const char *c, const char *srv, char *why, size_t whylen)
{
	size_t nan, nau, nad, found = 0;
	const struct msg_rr *an = msg_section(m, 1, &nan);
	const struct msg_rr *au = msg_section(m, 2, &nau);
	const struct msg_rr *ad = msg_section(m, 3, &nad);
	const struct msg_rr *sec = aa ? an : au;
	size_t nsec = aa ? nan : nau;
	int rc = DS_OK;

	for (int pass = 0; pass < 2 && found == 0; pass++) {
		for (size_t i = 0; i < nsec && rc == DS_OK; i++) {
			if (sec[i].type != T_NS || sec[i].rclass != CLASS_IN ||
			    !dname_equal(msg_owner(m, &sec[i]), child))
				continue;
			rc =
			    put(out, child, T_NS, sec[i].ttl, msg_rdata(m, &sec[i]), sec[i].crdlen);
			found++;
		}
		sec = au; /* an AA answer without NS in the answer: look at the authority */
		nsec = nau;
	}
	if (rc == DS_OK && found == 0) {
		if (aa) {
			ds_why(why, whylen, "%s is not delegated by the parent (no NS at %s)", c,
			       srv);
			return DS_ENOENT;
		}
		ds_why(why, whylen, "%s NS at %s: neither a referral nor an answer", c, srv);
		return DS_EAGAIN;
	}
	for (size_t i = 0; i < nad && rc == DS_OK; i++) {
		const uint8_t *o = msg_owner(m, &ad[i]);
		bool a4 = ad[i].type == T_A && ad[i].crdlen == 4;
		bool a6 = ad[i].type == T_AAAA && ad[i].crdlen == 16;
		if ((a4 || a6) && ad[i].rclass == CLASS_IN && dname_is_sub(o, child))
			rc = put(out, o, ad[i].type, ad[i].ttl, msg_rdata(m, &ad[i]), ad[i].crdlen);
	}
	return rc;
}

/*
 * Ask one parent server "child qtype" (RD=0, TCP) and take what it says
 * about the delegation into out.  DS_OK; DS_ENOENT: the parent answered
 * with authority that child is not delegated; DS_EAGAIN: this server gave
 * nothing usable (try another); why says what.
 */
static int ask(const struct server *s, const uint8_t *child, uint16_t qtype, struct msg *m,
	       struct deleg *out, char *why, size_t whylen)
{
	char srv[DNSQ_ADDRSTR_MAX], c[DNAME_STR_MAX], qwhy[256];
	const char *t = qtype == T_NS ? "NS" : "DS";
	uint8_t *ans = NULL;
	size_t anslen = 0;

	dnsq_addr_str((const struct sockaddr *)&s->sa, srv, sizeof(srv));
	dname_str(child, c, sizeof(c));
	int rc = dnsq_tcp(NULL, 0, (const struct sockaddr *)&s->sa, s->salen, child, qtype,
			  DNSQ_EDNS, QUERY_TIMEOUT_MS, &ans, &anslen, qwhy, sizeof(qwhy));
	if (rc == DS_ENOMEM)
		return rc;
	if (rc != DS_OK) {
		ds_why(why, whylen, "%s %s: %s", c, t, qwhy);
		return DS_EAGAIN;
	}
	rc = msg_parse(m, ans, anslen);
	unsigned rcode = (unsigned)(m->flags & 0xf) | (unsigned)m->edns_ext_rcode << 4;
	bool aa = (m->flags & MSG_AA) != 0;
	if (rc != DS_OK) {
		ds_why(why, whylen, "%s %s at %s: malformed answer (%s)", c, t, srv, m->why);
		rc = rc == DS_ENOMEM ? rc : DS_EAGAIN;
		goto done;
	}
	if (m->flags & MSG_TC) {
		ds_why(why, whylen, "%s %s at %s: truncated answer over TCP", c, t, srv);
		rc = DS_EAGAIN;
		goto done;
	}
	if (rcode == RC_NXDOMAIN && aa) {
		ds_why(why, whylen, "%s does not exist in the parent (NXDOMAIN from %s)", c, srv);
		rc = DS_ENOENT;
		goto done;
	}
	if (rcode != RC_NOERROR) {
		ds_why(why, whylen, "%s %s at %s: RCODE %u", c, t, srv, rcode);
		rc = DS_EAGAIN;
		goto done;
	}
	rc = qtype == T_DS ? take_ds(m, child, aa, out, c, srv, why, whylen)
			   : take_ns(m, child, aa, out, c, srv, why, whylen);
done:
	if (rc == DS_ELIMIT || rc == DS_EMALF) {
		ds_why(why, whylen, "%s %s at %s: %s", c, t, srv,
		       rc == DS_ELIMIT ? "too many delegation records" : "a record is too long");
		rc = DS_EAGAIN;
	}
	msg_clear(m);
	free(ans);
	return rc;
}

int agent_parent_has(struct bm_resolver *r, const uint8_t *child, const uint8_t *parent,
		     uint16_t port, struct deleg *out, char *why, size_t whylen)
{
	struct server sv[SERVERS_MAX];
	size_t nsv;
	out->n = 0;
	ds_why(why, whylen, "%s", "");
	int rc = parent_servers(r, parent, port, sv, &nsv, why, whylen);
	if (rc != DS_OK)
		return rc;
	struct msg *m = calloc(1, sizeof(*m));
	if (m == NULL) {
		ds_why(why, whylen, "out of memory");
		return DS_ENOMEM;
	}
	/* the first server that answers both questions is the parent's word */
	rc = DS_EAGAIN;
	for (size_t i = 0; i < nsv && rc == DS_EAGAIN; i++) {
		out->n = 0;
		rc = ask(&sv[i], child, T_NS, m, out, why, whylen);
		if (rc == DS_OK)
			rc = ask(&sv[i], child, T_DS, m, out, why, whylen);
	}
	free(m);
	if (rc != DS_OK)
		out->n = 0;
	else
		ds_why(why, whylen, "%s", "");
	return rc;
}

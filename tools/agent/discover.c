/*
 * tools/agent/discover.c -- find the parent's UPDATE Receiver (agent.h).
 *
 * Every lookup goes through the validating resolver of keystate/methods.h,
 * so each finding can say whether it is secure.  Bogus data is reported
 * and dropped; insecure data is kept and reported as such, and the caller
 * decides what it may be used for (the receiver's KEY only when secure,
 * unless the operator gives it).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "common/dname.h"
#include "common/err.h"
#include "common/wire.h"
#include "sig0/sig0.h"
#include "tools/agent/agent.h"

#define DSYNC_LABEL "\x06_dsync"

/* ---- pure parts ------------------------------------------------------------- */

bool agent_receiver_key_usable(const struct agent_discovery *d, bool addrs_used, char *why,
			       size_t whylen)
{
	const char *bad[3];
	size_t n = 0;
	if (!d->dsync_secure)
		bad[n++] = "the DSYNC RRset";
	if (!d->key_secure)
		bad[n++] = "the KEY RRset";
	if (addrs_used && !d->addr_secure)
		bad[n++] = "the A/AAAA RRsets";
	ds_why(why, whylen, "%s%s%s%s%s", n > 0 ? bad[0] : "", n > 1 ? ", " : "",
	       n > 1 ? bad[1] : "", n > 2 ? ", " : "", n > 2 ? bad[2] : "");
	return n == 0;
}

int agent_dsync_name(const uint8_t *child, const uint8_t *parent, uint8_t out[DNAME_MAX])
{
	if (parent == NULL)
		parent = dname_parent(child);
	if (!dname_is_strict_sub(child, parent))
		return DS_EINVAL;
	size_t clen = dname_len(child), plen = dname_len(parent);
	size_t below = clen - plen; /* the labels of child under parent */
	size_t lab = sizeof(DSYNC_LABEL) - 1;
	if (clen + lab > DNAME_MAX)
		return DS_ELIMIT;
	memcpy(out, child, below);
	memcpy(out + below, DSYNC_LABEL, lab);
	memcpy(out + below + lab, child + below, plen); /* the parent, case as in child */
	return DS_OK;
}

int agent_dsync_parse(const uint8_t *rdata, size_t rdlen, struct agent_dsync *out)
{
	struct wire w;
	memset(out, 0, sizeof(*out));
	wire_init(&w, rdata, rdlen);
	out->rrtype = wire_u16(&w);
	out->scheme = wire_u8(&w);
	out->port = wire_u16(&w);
	wire_name_nocomp(&w, out->target);
	if (wire_err(&w) != DS_OK || wire_left(&w) != 0)
		return DS_EMALF;
	return DS_OK;
}

int agent_svcb_param(const uint8_t *rdata, size_t rdlen, uint16_t key, const uint8_t **val,
		     size_t *vallen)
{
	struct wire w;
	uint8_t target[DNAME_MAX];
	long prev = -1;
	*val = NULL;
	*vallen = 0;
	wire_init(&w, rdata, rdlen);
	wire_u16(&w); /* SvcPriority */
	wire_name_nocomp(&w, target);
	if (wire_err(&w) != DS_OK)
		return DS_EMALF;
	int rc = DS_ENOENT;
	while (wire_left(&w) > 0) {
		uint16_t k = wire_u16(&w);
		uint16_t len = wire_u16(&w);
		const uint8_t *v = wire_bytes(&w, len);
		if (wire_err(&w) != DS_OK || (long)k <= prev)
			return DS_EMALF; /* cut short, or keys out of order (RFC 9460 2.2) */
		prev = k;
		if (k == key) {
			*val = v;
			*vallen = len;
			rc = DS_OK;
		}
	}
	if (rc != DS_OK) {
		*val = NULL;
		*vallen = 0;
	}
	return rc;
}

/* ---- the report --------------------------------------------------------------- */

static void say(struct agent_discovery *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void say(struct agent_discovery *d, const char *fmt, ...)
{
	size_t used = strlen(d->report);
	if (used + 1 >= sizeof(d->report))
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->report + used, sizeof(d->report) - used, fmt, ap);
	va_end(ap);
	used = strlen(d->report);
	if (used + 1 < sizeof(d->report)) {
		d->report[used] = '\n';
		d->report[used + 1] = 0;
	} else {
		d->report[sizeof(d->report) - 2] = '\n'; /* a cut line still ends */
	}
}

/* "secure", "INSECURE", "BOGUS (why)": how an answer validated. */
static const char *status(const struct bm_answer *a, char *out, size_t outlen)
{
	if (a->bogus)
		snprintf(out, outlen, "BOGUS (%s)", a->why);
	else if (a->secure)
		snprintf(out, outlen, "secure");
	else
		snprintf(out, outlen, "INSECURE (not validated)");
	return out;
}

/*
 * How a lookup ended when it gave no data to use: DS_EAGAIN (no answer,
 * SERVFAIL, other RCODEs), DS_ENOENT (NXDOMAIN/NODATA or bogus), with a
 * report line; DS_OK when it has data (no line written).
 */
static int outcome(struct agent_discovery *d, const struct bm_answer *a, const char *what)
{
	char st[300];
	if (a->err != DS_OK) {
		say(d, "%s: lookup failed: %s", what, a->why);
		return DS_EAGAIN;
	}
	if (a->bogus) {
		say(d, "%s: %s: not used", what, status(a, st, sizeof(st)));
		return DS_ENOENT;
	}
	if (a->rcode != RC_NOERROR && a->rcode != RC_NXDOMAIN) {
		say(d, "%s: the resolver answered RCODE %d", what, a->rcode);
		return DS_EAGAIN;
	}
	if (a->nxdomain || !a->havedata || a->n == 0) {
		say(d, "%s: %s (%s)", what, a->nxdomain ? "NXDOMAIN" : "no data",
		    status(a, st, sizeof(st)));
		return DS_ENOENT;
	}
	return DS_OK;
}

/* ---- the DSYNC lookup ---------------------------------------------------------- */

/*
 * Look up DSYNC at name.  DS_OK: out->owner/target/port/dsync_secure set.
 * DS_ENOENT with *negative true: a negative answer (zone, when it carried
 * an SOA, in soa/has_soa); DS_ENOENT with *negative false: an RRset without
 * a usable record, or bogus (discovery ends).  DS_EAGAIN, DS_ENOMEM.
 */
static int dsync_at(struct bm_resolver *r, const uint8_t *name, uint8_t scheme,
		    struct agent_discovery *out, bool *negative, bool *has_soa,
		    uint8_t soa[DNAME_MAX])
{
	char n[DNAME_STR_MAX], what[DNAME_STR_MAX + 16], st[300], t[DNAME_STR_MAX];
	struct bm_answer a;
	*negative = false;
	*has_soa = false;
	snprintf(what, sizeof(what), "DSYNC %s", dname_str(name, n, sizeof(n)));
	int rc = bm_lookup(r, name, T_DSYNC, &a);
	if (rc == DS_ENOMEM)
		return rc;
	rc = outcome(out, &a, what);
	if (rc == DS_ENOENT && !a.bogus) {
		*negative = true;
		*has_soa = a.has_soa;
		if (a.has_soa)
			memcpy(soa, a.soa, dname_len(a.soa));
	}
	if (rc != DS_OK) {
		bm_answer_free(&a);
		return rc;
	}
	rc = DS_ENOENT;
	for (size_t i = 0; i < a.n; i++) {
		struct agent_dsync ds;
		if (agent_dsync_parse(a.rr[i].rdata, a.rr[i].rdlen, &ds) != DS_OK) {
			say(out, "%s: record %zu is malformed: skipped", what, i + 1);
			continue;
		}
		if (ds.rrtype != T_ANY || ds.scheme != scheme || ds.port == 0)
			continue;
		if (rc == DS_OK) {
			say(out,
			    "%s: more than one record for RRtype ANY scheme %u: the first is used",
			    what, scheme);
			break;
		}
		memcpy(out->owner, name, dname_len(name));
		memcpy(out->target, ds.target, dname_len(ds.target));
		out->port = ds.port;
		out->dsync_secure = a.secure;
		rc = DS_OK;
	}
	if (rc == DS_OK)
		say(out, "%s: %s: ANY %u %u %s", what, status(&a, st, sizeof(st)), scheme,
		    out->port, dname_str(out->target, t, sizeof(t)));
	else
		say(out, "%s: %s: %zu record%s, none with RRtype ANY, scheme %u and a port", what,
		    status(&a, st, sizeof(st)), a.n, a.n == 1 ? "" : "s", scheme);
	bm_answer_free(&a);
	return rc;
}

/* The zone a negative answer came from, as the parent for _dsync: an SOA
 * owner that is itself a _dsync zone stands for the zone above it. */
static const uint8_t *parent_from_soa(const uint8_t *soa)
{
	if (soa[0] == sizeof(DSYNC_LABEL) - 2 &&
	    strncasecmp((const char *)soa + 1, DSYNC_LABEL + 1, (size_t)soa[0]) == 0)
		return dname_parent(soa);
	return soa;
}

/* The RFC 9859 steps (doc/protocol.md, Finding the receiver); fills parent, owner, target, port. */
static int find_dsync(struct bm_resolver *r, const uint8_t *child, uint8_t scheme,
		      struct agent_discovery *out)
{
	uint8_t name[DNAME_MAX], prev[DNAME_MAX], soa[DNAME_MAX];
	char c[DNAME_STR_MAX], p[DNAME_STR_MAX];
	bool negative, has_soa;
	const uint8_t *parent = dname_parent(child);

	if (dname_labels(child) == 0) {
		say(out, "the root zone has no parent");
		return DS_ENOENT;
	}
	/* 1: _dsync after the child's first label */
	if (agent_dsync_name(child, NULL, name) != DS_OK) {
		say(out, "the _dsync name for %s is too long", dname_str(child, c, sizeof(c)));
		return DS_ENOENT;
	}
	int rc = dsync_at(r, name, scheme, out, &negative, &has_soa, soa);
	if (rc == DS_OK) {
		memcpy(out->parent, parent, dname_len(parent));
		return DS_OK;
	}
	if (rc != DS_ENOENT || !negative)
		return rc;

	/* 2: the real parent, from the SOA of the negative answer */
	memcpy(prev, name, dname_len(name));
	if (has_soa && dname_is_strict_sub(child, parent_from_soa(soa)))
		parent = parent_from_soa(soa);
	else
		say(out, "the negative answer names no zone above %s: taking %s as the parent",
		    dname_str(child, c, sizeof(c)), dname_str(parent, p, sizeof(p)));
	uint8_t pz[DNAME_MAX];
	memcpy(pz, parent, dname_len(parent));
	rc = agent_dsync_name(child, pz, name);
	if (rc == DS_OK && !dname_equal(name, prev)) {
		rc = dsync_at(r, name, scheme, out, &negative, &has_soa, soa);
		if (rc == DS_OK) {
			memcpy(out->parent, pz, dname_len(pz));
			return DS_OK;
		}
		if (rc != DS_ENOENT || !negative)
			return rc;
	}

	/* 3: the bare _dsync.<parent> */
	size_t lab = sizeof(DSYNC_LABEL) - 1, plen = dname_len(pz);
	if (lab + plen > DNAME_MAX) {
		say(out, "_dsync.%s: too long", dname_str(pz, p, sizeof(p)));
		return DS_ENOENT;
	}
	memcpy(name, DSYNC_LABEL, lab);
	memcpy(name + lab, pz, plen);
	rc = dsync_at(r, name, scheme, out, &negative, &has_soa, soa);
	if (rc == DS_OK)
		memcpy(out->parent, pz, dname_len(pz));
	else if (rc == DS_ENOENT && negative)
		say(out, "no DSYNC record found for %s", dname_str(child, c, sizeof(c)));
	return rc;
}

/* ---- what the target publishes ------------------------------------------------------- */

static void take_addrs(struct agent_discovery *out, const struct bm_answer *a, uint16_t type)
{
	size_t want = type == T_A ? 4 : 16;
	for (size_t i = 0; i < a->n && out->naddr < AGENT_MAX_ADDRS; i++) {
		if (a->rr[i].rdlen != want)
			continue;
		struct sockaddr_storage *ss = &out->addr[out->naddr];
		memset(ss, 0, sizeof(*ss));
		if (type == T_A) {
			struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
			s4->sin_family = AF_INET;
			s4->sin_port = htons(out->port);
			memcpy(&s4->sin_addr, a->rr[i].rdata, 4);
			out->addrlen[out->naddr] = sizeof(*s4);
		} else {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons(out->port);
			memcpy(&s6->sin6_addr, a->rr[i].rdata, 16);
			out->addrlen[out->naddr] = sizeof(*s6);
		}
		out->naddr++;
	}
}

/* "127.0.0.20, ::1" for the report. */
static void addr_list(const struct bm_answer *a, uint16_t type, char *out, size_t outlen)
{
	size_t o = 0;
	out[0] = 0;
	for (size_t i = 0; i < a->n && o + 1 < outlen; i++) {
		char s[INET6_ADDRSTRLEN];
		if (a->rr[i].rdlen != (type == T_A ? 4 : 16))
			continue;
		inet_ntop(type == T_A ? AF_INET : AF_INET6, a->rr[i].rdata, s, sizeof(s));
		int k = snprintf(out + o, outlen - o, "%s%s", o ? ", " : "", s);
		if (k < 0 || (size_t)k >= outlen - o)
			break;
		o += (size_t)k;
	}
}

enum { Q_A, Q_AAAA, Q_KEY, Q_SVCB, NQ };

/* The target's KEY RRset (a secure or insecure answer) into out->key. */
static void take_keys(struct agent_discovery *out, const struct bm_answer *a, const char *what)
{
	char st[300], tags[128] = "";
	size_t o = 0;

	out->key_secure = a->secure;
	for (size_t i = 0; i < a->n; i++) {
		const struct bm_rr *k = &a->rr[i];
		if (out->nkey == AGENT_MAX_KEYS || k->rdlen < 4 ||
		    k->rdlen > sizeof(out->key[0].rdata)) {
			say(out, "%s: record %zu skipped (%s)", what, i + 1,
			    k->rdlen < 4 || k->rdlen > sizeof(out->key[0].rdata) ? "bad length"
										 : "too many keys");
			continue;
		}
		out->key[out->nkey].rdlen = k->rdlen;
		memcpy(out->key[out->nkey].rdata, k->rdata, k->rdlen);
		out->nkey++;
	}
	for (size_t i = 0; i < out->nkey && o + 1 < sizeof(tags); i++) {
		int n = snprintf(tags + o, sizeof(tags) - o, "%stag %u alg %u", i ? ", " : "",
				 sig0_rdata_tag(out->key[i].rdata, out->key[i].rdlen),
				 out->key[i].rdata[3]);
		if (n < 0 || (size_t)n >= sizeof(tags) - o)
			break;
		o += (size_t)n;
	}
	say(out, "%s: %s: %zu key%s (%s)", what, status(a, st, sizeof(st)), out->nkey,
	    out->nkey == 1 ? "" : "s", tags);
}

/* The bootstrap methods the target's SVCB RRset offers (key svcb_key). */
static void take_methods(struct agent_discovery *out, const struct bm_answer *a, uint16_t svcb_key,
			 const char *what)
{
	char st[300];
	bool found = false;

	for (size_t i = 0; i < a->n && !found; i++) {
		const uint8_t *v;
		size_t vl;
		int rc = agent_svcb_param(a->rr[i].rdata, a->rr[i].rdlen, svcb_key, &v, &vl);
		if (rc == DS_EMALF)
			say(out, "%s: record %zu is malformed: skipped", what, i + 1);
		if (rc != DS_OK)
			continue;
		found = true;
		bool printable = vl < sizeof(out->methods);
		for (size_t j = 0; j < vl && printable; j++)
			printable = v[j] > 0x20 && v[j] < 0x7f && v[j] != '"' && v[j] != '\\';
		if (!printable) {
			say(out, "%s: key%u is not a plain list of methods (%zu octets): not used",
			    what, svcb_key, vl);
			continue;
		}
		memcpy(out->methods, v, vl);
		out->methods[vl] = 0;
		out->svcb_secure = a->secure;
		say(out, "%s: %s: key%u=\"%s\"", what, status(a, st, sizeof(st)), svcb_key,
		    out->methods);
	}
	if (!found)
		say(out, "%s: %s: no record with key%u (bootstrap methods)", what,
		    status(a, st, sizeof(st)), svcb_key);
}

static int target_records(struct bm_resolver *r, uint16_t svcb_key, struct agent_discovery *out)
{
	static const uint16_t types[NQ] = {T_A, T_AAAA, T_KEY, T_SVCB};
	static const char *tnames[NQ] = {"A", "AAAA", "KEY", "SVCB"};
	char t[DNAME_STR_MAX], what[NQ][DNAME_STR_MAX + 16], st[300], list[256];
	struct bm_query q[NQ];
	struct bm_answer a[NQ];
	int res[NQ];

	dname_str(out->target, t, sizeof(t));
	for (int i = 0; i < NQ; i++) {
		q[i].name = out->target;
		q[i].type = types[i];
		snprintf(what[i], sizeof(what[i]), "target %s %s", t, tnames[i]);
	}
	if (bm_lookups(r, q, NQ, a) != DS_OK)
		return DS_ENOMEM;

	/* addresses: each family that answered securely (or had nothing) */
	out->addr_secure = true;
	for (int i = Q_A; i <= Q_AAAA; i++) {
		out->addr_secure = out->addr_secure && a[i].err == DS_OK && a[i].secure;
		if ((res[i] = outcome(out, &a[i], what[i])) != DS_OK)
			continue;
		take_addrs(out, &a[i], types[i]);
		addr_list(&a[i], types[i], list, sizeof(list));
		say(out, "%s: %s: %s", what[i], status(&a[i], st, sizeof(st)), list);
	}
	out->key_secure = false;
	if ((res[Q_KEY] = outcome(out, &a[Q_KEY], what[Q_KEY])) == DS_OK)
		take_keys(out, &a[Q_KEY], what[Q_KEY]);
	out->methods[0] = 0;
	out->svcb_secure = false;
	if ((res[Q_SVCB] = outcome(out, &a[Q_SVCB], what[Q_SVCB])) == DS_OK)
		take_methods(out, &a[Q_SVCB], svcb_key, what[Q_SVCB]);

	int rc = DS_OK;
	for (int i = 0; i < NQ; i++)
		if (res[i] == DS_EAGAIN)
			rc = DS_EAGAIN;
	if (rc == DS_OK && out->naddr == 0) {
		say(out, "target %s: no usable address", t);
		rc = DS_ENOENT;
	}
	for (int i = 0; i < NQ; i++)
		bm_answer_free(&a[i]);
	return rc;
}

int agent_discover(struct bm_resolver *r, const uint8_t *child, uint8_t scheme, uint16_t svcb_key,
		   struct agent_discovery *out)
{
	memset(out, 0, sizeof(*out));
	int rc = find_dsync(r, child, scheme, out);
	if (rc != DS_OK)
		return rc;
	return target_records(r, svcb_key, out);
}

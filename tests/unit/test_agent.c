/*
 * tests/unit/test_agent.c -- the pure parts of dsync-agent's discovery and
 * delegation diff (tools/agent/agent.h): the _dsync lookup names, DSYNC
 * and SVCB RDATA, DS computed from a DNSKEY (against dnssec-dsfromkey),
 * and the difference between two delegations.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/deleg.h"
#include "common/dname.h"
#include "common/dns.h"
#include "common/err.h"
#include "common/rrtext.h"
#include "tools/agent/agent.h"
#include "tests/unit/unit.h"

static uint8_t *N(const char *s)
{
	static uint8_t buf[8][DNAME_MAX];
	static int k;
	uint8_t *b = buf[k++ % 8];
	if (dname_from_str(s, b) < 0) {
		fprintf(stderr, "bad name %s\n", s);
		exit(2);
	}
	return b;
}

static bool name_is(const uint8_t *got, const char *want)
{
	char s[DNAME_STR_MAX];
	dname_to_str(got, s, sizeof(s));
	if (strcmp(s, want) != 0) {
		fprintf(stderr, "  name: got %s, want %s\n", s, want);
		return false;
	}
	return true;
}

/* ---- _dsync names ------------------------------------------------------------ */

static void test_dsync_name(void)
{
	uint8_t out[DNAME_MAX];
	CHECK_EQ(agent_dsync_name(N("child.parent.test."), NULL, out), DS_OK);
	CHECK(name_is(out, "child._dsync.parent.test."));
	CHECK_EQ(agent_dsync_name(N("a.b.parent.test."), N("parent.test."), out), DS_OK);
	CHECK(name_is(out, "a.b._dsync.parent.test."));
	/* the parent is matched case-insensitively; the child's case is kept */
	CHECK_EQ(agent_dsync_name(N("A.B.Parent.Test."), N("parent.TEST."), out), DS_OK);
	CHECK(name_is(out, "A.B._dsync.Parent.Test."));
	CHECK_EQ(agent_dsync_name(N("test."), NULL, out), DS_OK);
	CHECK(name_is(out, "test._dsync."));
	/* not below the parent, or the parent itself */
	CHECK_EQ(agent_dsync_name(N("child.other.test."), N("parent.test."), out), DS_EINVAL);
	CHECK_EQ(agent_dsync_name(N("parent.test."), N("parent.test."), out), DS_EINVAL);
	CHECK_EQ(agent_dsync_name(N("xparent.test."), N("parent.test."), out), DS_EINVAL);
	CHECK_EQ(agent_dsync_name(N("."), NULL, out), DS_EINVAL);
	/* "_dsync" adds 7 octets: a child of 249 octets does not fit, 188 does */
	char longname[300] = "";
	for (int i = 0; i < 4; i++) {
		memset(longname + 61 * i, 'a', 60);
		longname[61 * i + 60] = '.';
	}
	strcpy(longname + 244, "abcdefghi."); /* 4 * 61 + 10 + 1 = 255 octets */
	CHECK(dname_from_str(longname, out) == 255);
	CHECK_EQ(agent_dsync_name(N(longname + 6), NULL, out), DS_ELIMIT);
	CHECK_EQ(agent_dsync_name(N(longname + 61 + 6), NULL, out), DS_OK);
}

/* ---- DSYNC RDATA ------------------------------------------------------------- */

static void test_dsync_parse(void)
{
	struct agent_dsync d;
	/* ANY 2 5354 updater.parent.test. (what `dsyncd records` prints) */
	static const uint8_t ok[] = {0x00, 0xff, 0x02, 0x14, 0xea, 7,	'u', 'p', 'd',
				     'a',  't',	 'e',  'r',  6,	   'p', 'a', 'r', 'e',
				     'n',  't',	 4,    't',  'e',  's', 't', 0};
	CHECK_EQ(agent_dsync_parse(ok, sizeof(ok), &d), DS_OK);
	CHECK_EQ(d.rrtype, T_ANY);
	CHECK_EQ(d.scheme, 2);
	CHECK_EQ(d.port, 5354);
	CHECK(name_is(d.target, "updater.parent.test."));
	/* the root as target */
	static const uint8_t root[] = {0x00, 0x3b, 0x01, 0x00, 0x35, 0};
	CHECK_EQ(agent_dsync_parse(root, sizeof(root), &d), DS_OK);
	CHECK_EQ(d.rrtype, T_CDS);
	CHECK_EQ(d.scheme, 1);
	CHECK_EQ(d.port, 53);
	CHECK(name_is(d.target, "."));
	/* cut short: every prefix is malformed */
	for (size_t n = 0; n < sizeof(ok); n++)
		CHECK_EQ(agent_dsync_parse(ok, n, &d), DS_EMALF);
	/* trailing octets */
	uint8_t trail[sizeof(ok) + 1];
	memcpy(trail, ok, sizeof(ok));
	trail[sizeof(ok)] = 0;
	CHECK_EQ(agent_dsync_parse(trail, sizeof(trail), &d), DS_EMALF);
	/* a compressed target is not allowed */
	static const uint8_t comp[] = {0x00, 0xff, 0x02, 0x14, 0xea, 1, 'x', 0xc0, 0x00};
	CHECK_EQ(agent_dsync_parse(comp, sizeof(comp), &d), DS_EMALF);
	/* a label running past the end */
	static const uint8_t lab[] = {0x00, 0xff, 0x02, 0x14, 0xea, 9, 'x', 0};
	CHECK_EQ(agent_dsync_parse(lab, sizeof(lab), &d), DS_EMALF);
}

/* ---- SVCB parameters ---------------------------------------------------------- */

static void test_svcb(void)
{
	const uint8_t *v;
	size_t vl;
	/* SVCB 1 . alpn=h2 key65282="at-apex,at-ns" */
	static const uint8_t svc[] = {0x00, 0x01, 0x00,			      /* 1 . */
				      0x00, 0x01, 0x00, 0x03, 0x02, 'h', '2', /* alpn */
				      0xff, 0x02, 0x00, 0x0d, 'a',  't', '-', 'a', 'p',
				      'e',  'x',  ',',	'a',  't',  '-', 'n', 's'};
	CHECK_EQ(agent_svcb_param(svc, sizeof(svc), 65282, &v, &vl), DS_OK);
	CHECK_EQ(vl, 13);
	CHECK(v != NULL && memcmp(v, "at-apex,at-ns", 13) == 0);
	CHECK_EQ(agent_svcb_param(svc, sizeof(svc), 1, &v, &vl), DS_OK);
	CHECK_EQ(vl, 3);
	CHECK_EQ(agent_svcb_param(svc, sizeof(svc), 65283, &v, &vl), DS_ENOENT);
	CHECK(v == NULL && vl == 0);
	/* AliasMode "0 ." with the key is read too (D2) */
	static const uint8_t alias[] = {0x00, 0x00, 0x00, 0xff, 0x02, 0x00, 0x06,
					'm',  'a',  'n',  'u',	'a',  'l'};
	CHECK_EQ(agent_svcb_param(alias, sizeof(alias), 65282, &v, &vl), DS_OK);
	CHECK(vl == 6 && memcmp(v, "manual", 6) == 0);
	/* a target name and an empty value */
	static const uint8_t named[] = {0x00, 0x01, 3, 's', 'v', 'c', 0, 0xff, 0x02, 0x00, 0x00};
	CHECK_EQ(agent_svcb_param(named, sizeof(named), 65282, &v, &vl), DS_OK);
	CHECK_EQ(vl, 0);
	/* no parameters at all */
	CHECK_EQ(agent_svcb_param(named, 7, 65282, &v, &vl), DS_ENOENT);
	/* keys out of order, or repeated */
	static const uint8_t order[] = {0x00, 0x01, 0x00, 0xff, 0x02, 0x00,
					0x00, 0x00, 0x01, 0x00, 0x00};
	CHECK_EQ(agent_svcb_param(order, sizeof(order), 65282, &v, &vl), DS_EMALF);
	static const uint8_t twice[] = {0x00, 0x01, 0x00, 0xff, 0x02, 0x00,
					0x00, 0xff, 0x02, 0x00, 0x00};
	CHECK_EQ(agent_svcb_param(twice, sizeof(twice), 65282, &v, &vl), DS_EMALF);
	/* every cut of the good record that ends inside a parameter is malformed */
	size_t bad = 0;
	for (size_t n = 0; n < sizeof(svc); n++)
		if (agent_svcb_param(svc, n, 65282, &v, &vl) == DS_EMALF)
			bad++;
	/* cuts after "1 ." (3) and after the alpn parameter (10) are well-formed */
	CHECK_EQ(bad, sizeof(svc) - 2);
	/* a value longer than the record */
	static const uint8_t over[] = {0x00, 0x01, 0x00, 0xff, 0x02, 0x00, 0x09, 'x'};
	CHECK_EQ(agent_svcb_param(over, sizeof(over), 65282, &v, &vl), DS_EMALF);
}

/* ---- DS from DNSKEY ---------------------------------------------------------- */

static void test_ds(void)
{
	/*
	 * Made with `dnssec-keygen -a ECDSAP256SHA256 -f KSK Example.Test.`;
	 * `dnssec-dsfromkey -2` printed
	 *   Example.Test. IN DS 32758 13 2 7780F86E...353B5B
	 * (the owner is lower-cased for the digest, RFC 4034 6.2).
	 */
	static const uint8_t ksk[] = {
	    0x01, 0x01, 0x03, 0x0d, 0x33, 0xc0, 0xa5, 0xa8, 0x3d, 0x27, 0x9d, 0xe7, 0xce, 0x97,
	    0xc9, 0x71, 0x00, 0x12, 0x37, 0x1f, 0xa2, 0x7b, 0xbc, 0x3a, 0x76, 0xa6, 0xa2, 0x02,
	    0x80, 0x27, 0xc2, 0x09, 0xfd, 0xc0, 0xf4, 0xd2, 0xb5, 0x5f, 0xe9, 0x58, 0xf8, 0x86,
	    0xdf, 0xbb, 0x33, 0xc4, 0xcf, 0xcc, 0x16, 0x3a, 0xfe, 0x2f, 0xef, 0xcb, 0xb3, 0x22,
	    0x4b, 0x8e, 0xad, 0x68, 0x43, 0x23, 0xb6, 0x75, 0x29, 0x98, 0xfe, 0x03};
	const char *want = "32758 13 2 "
			   "7780F86ED5DD0FA3BF8C59B62D95ED915802BFF42D2BE4B7B564A4C6AE353B5B";
	struct drr ds, ds2;
	char text[256];
	CHECK_EQ(agent_ds_from_dnskey(N("Example.Test."), ksk, sizeof(ksk), 3600, &ds), DS_OK);
	CHECK_EQ(ds.type, T_DS);
	CHECK_EQ(ds.ttl, 3600);
	CHECK_EQ(ds.rdlen, 36);
	CHECK(name_is(ds.owner, "Example.Test."));
	CHECK_EQ(rr_rdata_to_str(T_DS, ds.rdata, ds.rdlen, text, sizeof(text)), DS_OK);
	CHECK(strcasecmp(text, want) == 0);
	if (strcasecmp(text, want) != 0)
		fprintf(stderr, "  DS: got %s\n", text);
	/* the owner's case does not change the digest */
	CHECK_EQ(agent_ds_from_dnskey(N("example.test."), ksk, sizeof(ksk), 60, &ds2), DS_OK);
	CHECK(ds2.rdlen == ds.rdlen && memcmp(ds2.rdata, ds.rdata, ds.rdlen) == 0);
	/* another owner, another digest; the key tag and algorithm stay */
	CHECK_EQ(agent_ds_from_dnskey(N("example2.test."), ksk, sizeof(ksk), 60, &ds2), DS_OK);
	CHECK(memcmp(ds2.rdata, ds.rdata, 4) == 0 && memcmp(ds2.rdata + 4, ds.rdata + 4, 32) != 0);
	/* too short to be a DNSKEY */
	CHECK_EQ(agent_ds_from_dnskey(N("example.test."), ksk, 3, 60, &ds2), DS_EMALF);
}

/* ---- the diff ------------------------------------------------------------------ */

static void rr(struct deleg *d, const char *owner, uint16_t type, uint32_t ttl, const char *rd)
{
	struct drr r;
	memset(&r, 0, sizeof(r));
	memcpy(r.owner, N(owner), dname_len(N(owner)));
	r.type = type;
	r.ttl = ttl;
	if (type == T_NS) {
		int n = dname_from_str(rd, r.rdata);
		r.rdlen = (uint16_t)(n > 0 ? n : 0);
	} else if (type == T_A) {
		unsigned a, b, c, e;
		sscanf(rd, "%u.%u.%u.%u", &a, &b, &c, &e);
		r.rdata[0] = (uint8_t)a, r.rdata[1] = (uint8_t)b, r.rdata[2] = (uint8_t)c;
		r.rdata[3] = (uint8_t)e;
		r.rdlen = 4;
	} else { /* DS: "tag" only, the rest fixed */
		unsigned tag = (unsigned)atoi(rd);
		r.rdata[0] = (uint8_t)(tag >> 8), r.rdata[1] = (uint8_t)tag;
		r.rdata[2] = 13, r.rdata[3] = 2;
		memset(r.rdata + 4, (int)tag & 0xff, 32);
		r.rdlen = 36;
	}
	CHECK_EQ(deleg_add(d, &r), DS_OK);
}

static bool holds(const struct deleg *d, const char *owner, uint16_t type, const char *rd)
{
	struct deleg one = {0};
	rr(&one, owner, type, 0, rd);
	return deleg_find(d, &one.rr[0]) >= 0;
}

/* Same sets in other spellings, then adds, deletes and both. */
static void test_diff_changes(void)
{
	static struct deleg has, wants, add, del;
	const char *c = "child.parent.test.";

	/* equal sets: nothing to do */
	memset(&has, 0, sizeof(has));
	memset(&wants, 0, sizeof(wants));
	rr(&has, c, T_NS, 300, "ns1.provider.test.");
	rr(&has, c, T_NS, 300, "ns2.provider.test.");
	rr(&has, c, T_DS, 300, "1");
	wants = has;
	agent_diff(&has, &wants, &add, &del);
	CHECK_EQ(add.n, 0);
	CHECK_EQ(del.n, 0);

	/* TTLs differ only: nothing to do */
	for (size_t i = 0; i < wants.n; i++)
		wants.rr[i].ttl = 60;
	agent_diff(&has, &wants, &add, &del);
	CHECK_EQ(add.n, 0);
	CHECK_EQ(del.n, 0);

	/* NS targets differ only in case: nothing to do */
	memset(&wants, 0, sizeof(wants));
	rr(&wants, "CHILD.Parent.TEST.", T_NS, 60, "NS1.Provider.Test.");
	rr(&wants, c, T_NS, 60, "ns2.PROVIDER.test.");
	rr(&wants, c, T_DS, 60, "1");
	agent_diff(&has, &wants, &add, &del);
	CHECK_EQ(add.n, 0);
	CHECK_EQ(del.n, 0);

	/* adds: a third NS with glue below the child, a second DS */
	rr(&wants, c, T_NS, 60, "ns3.child.parent.test.");
	rr(&wants, "ns3.child.parent.test.", T_A, 60, "192.0.2.3");
	rr(&wants, c, T_DS, 60, "2");
	agent_diff(&has, &wants, &add, &del);
	CHECK_EQ(add.n, 3);
	CHECK_EQ(del.n, 0);
	CHECK(holds(&add, c, T_NS, "ns3.child.parent.test."));
	CHECK(holds(&add, "ns3.child.parent.test.", T_A, "192.0.2.3"));
	CHECK(holds(&add, c, T_DS, "2"));
	CHECK_EQ(add.rr[0].ttl, 60); /* the wanted record as it is */

	/* deletes: the parent has records the child no longer wants */
	agent_diff(&wants, &has, &add, &del);
	CHECK_EQ(add.n, 0);
	CHECK_EQ(del.n, 3);
	CHECK(holds(&del, "ns3.child.parent.test.", T_A, "192.0.2.3"));

	/* both: a key roll of DS 1 -> 2 and a changed NS */
	memset(&wants, 0, sizeof(wants));
	rr(&wants, c, T_NS, 60, "ns1.provider.test.");
	rr(&wants, c, T_NS, 60, "ns4.provider.test.");
	rr(&wants, c, T_DS, 60, "2");
	agent_diff(&has, &wants, &add, &del);
	CHECK_EQ(add.n, 2);
	CHECK_EQ(del.n, 2);
	CHECK(holds(&add, c, T_NS, "ns4.provider.test."));
	CHECK(holds(&add, c, T_DS, "2"));
	CHECK(holds(&del, c, T_NS, "ns2.provider.test."));
	CHECK(holds(&del, c, T_DS, "1"));
}

/* Glue, duplicates, empty sets, types, full delegations. */
static void test_diff_edges(void)
{
	static struct deleg has, wants, add, del;
	const char *c = "child.parent.test.";

	/* a glue address change; the same address on another name is another record */
	memset(&has, 0, sizeof(has));
	memset(&wants, 0, sizeof(wants));
	rr(&has, "ns1.child.parent.test.", T_A, 60, "192.0.2.1");
	rr(&wants, "ns1.child.parent.test.", T_A, 60, "192.0.2.2");
	rr(&wants, "ns2.child.parent.test.", T_A, 60, "192.0.2.1");
	agent_diff(&has, &wants, &add, &del);
	CHECK_EQ(add.n, 2);
	CHECK_EQ(del.n, 1);
	CHECK(holds(&del, "ns1.child.parent.test.", T_A, "192.0.2.1"));

	/* duplicates in the input come out once; empty inputs */
	memset(&has, 0, sizeof(has));
	memset(&wants, 0, sizeof(wants));
	rr(&wants, c, T_NS, 60, "ns1.provider.test.");
	rr(&wants, c, T_NS, 300, "NS1.provider.test.");
	agent_diff(&has, &wants, &add, &del);
	CHECK_EQ(add.n, 1);
	CHECK_EQ(del.n, 0);
	agent_diff(&wants, &has, &add, &del);
	CHECK_EQ(add.n, 0);
	CHECK_EQ(del.n, 1);
	memset(&wants, 0, sizeof(wants));
	agent_diff(&has, &wants, &add, &del);
	CHECK_EQ(add.n + del.n, 0);

	/* a type differs: an A and a DS with the same bytes are not the same */
	memset(&has, 0, sizeof(has));
	memset(&wants, 0, sizeof(wants));
	rr(&has, c, T_NS, 60, "a.test.");
	rr(&wants, c, T_NS, 60, "a.test.");
	wants.rr[0].type = T_DS;
	agent_diff(&has, &wants, &add, &del);
	CHECK_EQ(add.n, 1);
	CHECK_EQ(del.n, 1);

	/* a full delegation on both sides: all of it changes */
	memset(&has, 0, sizeof(has));
	memset(&wants, 0, sizeof(wants));
	for (int i = 0; i < DELEG_MAX; i++) {
		char ns[64];
		snprintf(ns, sizeof(ns), "ns%d.a.test.", i);
		rr(&has, c, T_NS, 60, ns);
		snprintf(ns, sizeof(ns), "ns%d.b.test.", i);
		rr(&wants, c, T_NS, 60, ns);
	}
	agent_diff(&has, &wants, &add, &del);
	CHECK_EQ(add.n, DELEG_MAX);
	CHECK_EQ(del.n, DELEG_MAX);
}

static void test_diff(void)
{
	test_diff_changes();
	test_diff_edges();
}

/* The discovered receiver KEY counts only when DSYNC, KEY (and addresses used) are secure. */
static void test_receiver_key_usable(void)
{
	struct agent_discovery *d = calloc(1, sizeof(*d));
	char why[128];
	CHECK(d != NULL);
	if (d == NULL)
		return;
	d->dsync_secure = d->key_secure = d->addr_secure = true;
	CHECK(agent_receiver_key_usable(d, true, why, sizeof(why)));
	CHECK(strcmp(why, "") == 0);
	/* an insecure DSYNC pointing to a target in a signed zone: not usable */
	d->dsync_secure = false;
	CHECK(!agent_receiver_key_usable(d, false, why, sizeof(why)));
	CHECK(strcmp(why, "the DSYNC RRset") == 0);
	d->dsync_secure = true;
	d->key_secure = false;
	CHECK(!agent_receiver_key_usable(d, true, why, sizeof(why)));
	CHECK(strcmp(why, "the KEY RRset") == 0);
	/* insecure addresses matter only when the target was reached through them */
	d->key_secure = true;
	d->addr_secure = false;
	CHECK(agent_receiver_key_usable(d, false, why, sizeof(why)));
	CHECK(!agent_receiver_key_usable(d, true, why, sizeof(why)));
	CHECK(strcmp(why, "the A/AAAA RRsets") == 0);
	d->dsync_secure = d->key_secure = false;
	CHECK(!agent_receiver_key_usable(d, true, why, sizeof(why)));
	CHECK(strcmp(why, "the DSYNC RRset, the KEY RRset, the A/AAAA RRsets") == 0);
	free(d);
}

int main(void)
{
	test_dsync_name();
	test_dsync_parse();
	test_svcb();
	test_ds();
	test_diff();
	test_receiver_key_usable();
	UNIT_DONE("test_agent");
}

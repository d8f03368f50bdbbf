/*
 * tests/unit/test_policy.c -- the delegation policy, table-driven.
 *
 * Each row builds an UPDATE in wire format (header, zone SOA, prerequisite
 * and update records with uncompressed names unless asked otherwise), parses
 * it with msg_parse() and runs policy_update() against a given current
 * delegation.  A property test then throws random records at the policy and
 * checks R7 on everything it accepts.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/deleg.h"
#include "common/dname.h"
#include "common/dns.h"
#include "common/err.h"
#include "common/msg.h"
#include "common/rrtext.h"
#include "policy/policy.h"
#include "tests/unit/unit.h"

#define IN CLASS_IN
#define ANY CLASS_ANY
#define NONE CLASS_NONE

#define DS2                                                                                        \
	"12345 13 2 "                                                                              \
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define DS2B                                                                                       \
	"23456 13 2 "                                                                              \
	"fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define DIG20 "0123456789abcdef0123456789abcdef01234567"
#define DIG48 DIG20 DIG20 "0123456789abcdef"

/* One record of a test message.  rdata: presentation form for NS, A, AAAA
 * and DS; "#hex" for raw octets; "^label" (NS only) = that label followed
 * by a compression pointer to this record's owner; NULL or "" = empty. */
struct trr {
	const char *owner;
	uint16_t cls;
	uint16_t type;
	uint32_t ttl;
	const char *rdata;
};

/* ------------------------------------------------------------------------
 * Builders
 */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static size_t parse_hex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	while (s[0] && s[1] && n < cap) {
		int h = hexval(s[0]), l = hexval(s[1]);
		if (h < 0 || l < 0) {
			fprintf(stderr, "bad hex in test data: %s\n", s);
			exit(2);
		}
		out[n++] = (uint8_t)(h << 4 | l);
		s += 2;
	}
	return n;
}

static size_t name_wire(const char *s, uint8_t *out)
{
	int n = dname_from_str(s, out);
	if (n <= 0) {
		fprintf(stderr, "bad name in test data: %s\n", s);
		exit(2);
	}
	return (size_t)n;
}

/* RDATA from its test form (not the compression case). */
static size_t rdata_wire(uint16_t type, const char *s, uint8_t *out, size_t cap)
{
	unsigned tag, alg, dt;
	char hex[256];

	if (s == NULL || *s == '\0')
		return 0;
	if (*s == '#')
		return parse_hex(s + 1, out, cap);
	switch (type) {
	case T_NS:
		return name_wire(s, out);
	case T_A:
		if (inet_pton(AF_INET, s, out) != 1)
			exit(2);
		return 4;
	case T_AAAA:
		if (inet_pton(AF_INET6, s, out) != 1)
			exit(2);
		return 16;
	case T_DS:
		if (sscanf(s, "%u %u %u %255s", &tag, &alg, &dt, hex) != 4)
			exit(2);
		out[0] = (uint8_t)(tag >> 8);
		out[1] = (uint8_t)tag;
		out[2] = (uint8_t)alg;
		out[3] = (uint8_t)dt;
		return 4 + parse_hex(hex, out + 4, cap - 4);
	default:
		fprintf(stderr, "give RDATA of type %u as #hex\n", type);
		exit(2);
	}
}

struct wbuf {
	uint8_t b[65535];
	size_t n;
};

static void put8(struct wbuf *w, uint8_t v)
{
	w->b[w->n++] = v;
}
static void put16(struct wbuf *w, uint16_t v)
{
	put8(w, (uint8_t)(v >> 8));
	put8(w, (uint8_t)v);
}
static void put32(struct wbuf *w, uint32_t v)
{
	put16(w, (uint16_t)(v >> 16));
	put16(w, (uint16_t)v);
}
static void putn(struct wbuf *w, const uint8_t *p, size_t n)
{
	memcpy(w->b + w->n, p, n);
	w->n += n;
}

static void put_rr(struct wbuf *w, const struct trr *r)
{
	uint8_t name[DNAME_MAX], rd[1024];
	size_t owner_off = w->n, rl;

	putn(w, name, name_wire(r->owner, name));
	put16(w, r->type);
	put16(w, r->cls);
	put32(w, r->ttl);
	if (r->rdata && r->rdata[0] == '^') {
		/* label, then a pointer back to this record's owner */
		size_t l = strlen(r->rdata + 1);
		put16(w, (uint16_t)(1 + l + 2));
		put8(w, (uint8_t)l);
		putn(w, (const uint8_t *)r->rdata + 1, l);
		put16(w, (uint16_t)(0xc000 | owner_off));
		return;
	}
	rl = rdata_wire(r->type, r->rdata, rd, sizeof(rd));
	put16(w, (uint16_t)rl);
	putn(w, rd, rl);
}

static size_t count_trr(const struct trr *r)
{
	size_t n = 0;
	while (r && r[n].owner)
		n++;
	return n;
}

/* Assemble an UPDATE for zone with the given records (owner == NULL ends a list). */
static void build_update(struct wbuf *w, const char *zone, const struct trr *pre,
			 const struct trr *upd)
{
	uint8_t name[DNAME_MAX];
	size_t np = count_trr(pre), nu = count_trr(upd);

	w->n = 0;
	put16(w, 0x4242);
	put16(w, OP_UPDATE << 11);
	put16(w, 1);
	put16(w, (uint16_t)np);
	put16(w, (uint16_t)nu);
	put16(w, 0);
	putn(w, name, name_wire(zone, name));
	put16(w, T_SOA);
	put16(w, CLASS_IN);
	for (size_t i = 0; i < np; i++)
		put_rr(w, &pre[i]);
	for (size_t i = 0; i < nu; i++)
		put_rr(w, &upd[i]);
}

/* Current delegation from lines "owner TYPE rdata". */
static void build_deleg(struct deleg *d, const char *const *lines, uint32_t ttl)
{
	d->n = 0;
	for (size_t i = 0; lines && lines[i]; i++) {
		char owner[512], type[32];
		const char *rd;
		struct drr r;

		memset(&r, 0, sizeof(r));
		if (sscanf(lines[i], "%511s %31s", owner, type) != 2)
			exit(2);
		rd = strstr(lines[i], type) + strlen(type) + 1;
		name_wire(owner, r.owner);
		r.type = rr_type_from_str(type);
		r.ttl = ttl;
		r.rdlen = (uint16_t)rdata_wire(r.type, rd, r.rdata, sizeof(r.rdata));
		if (deleg_add(d, &r) != DS_OK)
			exit(2);
	}
}

/* ------------------------------------------------------------------------
 * Invariant R7 on an accepted result
 */

static bool r7_holds(const struct deleg *d, const uint8_t *child)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct drr *r = &d->rr[i];
		if (!dname_is_sub(r->owner, child))
			return false;
		if (r->type == T_NS || r->type == T_DS) {
			if (!dname_equal(r->owner, child))
				return false;
		} else if (r->type == T_A || r->type == T_AAAA) {
			if (!dname_is_strict_sub(r->owner, child))
				return false;
		} else {
			return false;
		}
	}
	return true;
}

/* Glue only at NS targets, every NS target inside the child has glue. */
static bool glue_consistent(const struct deleg *d, const uint8_t *child)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct drr *r = &d->rr[i];
		bool found = false;
		if (r->type == T_NS && dname_is_sub(r->rdata, child) &&
		    deleg_count(d, r->rdata, T_A) + deleg_count(d, r->rdata, T_AAAA) == 0)
			return false;
		if (r->type != T_A && r->type != T_AAAA)
			continue;
		for (size_t j = 0; j < d->n && !found; j++)
			found = d->rr[j].type == T_NS && dname_equal(d->rr[j].rdata, r->owner);
		if (!found)
			return false;
	}
	return true;
}

/* ------------------------------------------------------------------------
 * The table
 */

enum pol_id { P_DEF, P_MIN0, P_MAXNS3, P_SHA1, P_MAXDS1, P_MAXGLUE2, P_MAXUPD2, P_COUNT };

static const char *const cur_std[] = {
    "child.example. NS ns1.child.example.",
    "child.example. NS ns.other.net.",
    "ns1.child.example. A 192.0.2.1",
    "ns1.child.example. AAAA 2001:db8::1",
    "child.example. DS " DS2,
    NULL,
};
static const char *const cur_sha1[] = {
    "child.example. NS ns1.other.net.",
    "child.example. NS ns2.other.net.",
    "child.example. DS 12345 13 1 " DIG20,
    "child.example. DS " DS2,
    NULL,
};
static const char *const cur_ab[] = {
    "ab.example. NS ns1.other.net.",
    "ab.example. NS ns2.other.net.",
    NULL,
};
static const char *const cur_cab[] = {
    "cab.example. NS ns1.cab.example.",
    "cab.example. NS ns2.other.net.",
    "ns1.cab.example. A 192.0.2.7",
    NULL,
};
static const char *const cur_empty[] = {NULL};

#define ROWS_MAX 8
#define DC -1 /* don't care */
#define CNT(n, d, g) .cnt = true, .ns = (n), .ds = (d), .glue = (g)
#define T_TXT 16
#define T_DNAME 39

struct row {
	const char *name;
	const char *child;	/* NULL: child.example. */
	const char *const *cur; /* NULL: cur_std */
	enum pol_id pol;
	struct trr pre[ROWS_MAX];
	struct trr upd[ROWS_MAX];
	int rcode;
	int ede;	  /* DC or the code */
	const char *text; /* substring of res.text (refusals) */
	bool cnt;	  /* check the counts below */
	int ns, ds, glue; /* NS, DS and A+AAAA in next when accepted */
	int changed;	  /* DC, 0, 1 */
	int key_change;
	const char *chg; /* substring of res.changes */
	bool break_ns;	 /* corrupt the first update NS RDATA after parsing */
};

#define C "child.example."
static const struct row rows[] = {
    /* --- NS ------------------------------------------------------------ */
    {.name = "add NS outside",
     .upd = {{C, IN, T_NS, 300, "ns2.other.net."}},
     .rcode = RC_NOERROR,
     CNT(3, 1, 2),
     .changed = 1,
     .chg = "+ child.example. 3600 IN NS ns2.other.net.\n"},
    {.name = "add NS inside with glue",
     .upd = {{C, IN, T_NS, 300, "ns2.child.example."},
	     {"ns2.child.example.", IN, T_A, 300, "192.0.2.2"}},
     .rcode = RC_NOERROR,
     CNT(3, 1, 3),
     .changed = 1,
     .chg = "+ ns2.child.example. 3600 IN A 192.0.2.2"},
    {.name = "add NS inside without glue",
     .upd = {{C, IN, T_NS, 300, "ns2.child.example."}},
     .rcode = RC_REFUSED,
     .ede = EDE_PROHIBITED,
     .text = "ns2.child.example. is inside child.example. and needs glue"},
    {.name = "NS with compression pointer in RDATA",
     .upd = {{C, IN, T_NS, 300, "^ns2"}, {"ns2.child.example.", IN, T_AAAA, 300, "2001:db8::2"}},
     .rcode = RC_NOERROR,
     CNT(3, 1, 3),
     .changed = 1,
     .chg = "+ child.example. 3600 IN NS ns2.child.example."},
    {.name = "NS with compression pointer, no glue",
     .upd = {{C, IN, T_NS, 300, "^ns9"}},
     .rcode = RC_REFUSED,
     .ede = EDE_PROHIBITED,
     .text = "ns9.child.example. is inside"},
    {.name = "duplicate NS add (other case)",
     .upd = {{"CHILD.Example.", IN, T_NS, 60, "NS.Other.NET."}},
     .rcode = RC_NOERROR,
     CNT(2, 1, 2),
     .changed = 0},
    {.name = "TTL normalised",
     .upd = {{C, IN, T_NS, 5, "ns3.other.net."}},
     .rcode = RC_NOERROR,
     CNT(3, 1, 2),
     .changed = 1,
     .chg = "+ child.example. 3600 IN NS ns3.other.net."},
    {.name = "remove one NS below minimum",
     .upd = {{C, NONE, T_NS, 0, "ns.other.net."}},
     .rcode = RC_REFUSED,
     .ede = EDE_PROHIBITED,
     .text = "NS set would have 1 record(s); the minimum is 2"},
    {.name = "replace NS orphans glue",
     .upd = {{C, NONE, T_NS, 0, "ns1.child.example."}, {C, IN, T_NS, 3600, "ns3.other.net."}},
     .rcode = RC_NOERROR,
     CNT(2, 1, 0),
     .changed = 1,
     .chg = "- ns1.child.example. 3600 IN A 192.0.2.1\n"},
    {.name = "delete every NS",
     .upd = {{C, ANY, T_NS, 0, NULL}},
     .rcode = RC_REFUSED,
     .ede = EDE_PROHIBITED,
     .text = "NS set would have 0 record(s); the minimum is 2"},
    {.name = "delete every NS, min 0, DS left",
     .pol = P_MIN0,
     .upd = {{C, ANY, T_NS, 0, NULL}},
     .rcode = RC_REFUSED,
     .ede = EDE_PROHIBITED,
     .text = "DS or glue without any NS"},
    {.name = "delete whole delegation, min 0",
     .pol = P_MIN0,
     .upd = {{C, ANY, T_NS, 0, NULL}, {C, ANY, T_DS, 0, NULL}},
     .rcode = RC_NOERROR,
     CNT(0, 0, 0),
     .changed = 1,
     .chg = "- ns1.child.example. 3600 IN AAAA 2001:db8::1"},
    {.name = "max NS",
     .pol = P_MAXNS3,
     .upd = {{C, IN, T_NS, 0, "a.other.net."}, {C, IN, T_NS, 0, "b.other.net."}},
     .rcode = RC_REFUSED,
     .ede = EDE_PROHIBITED,
     .text = "the maximum is 3"},
    {.name = "max NS reached exactly",
     .pol = P_MAXNS3,
     .upd = {{C, IN, T_NS, 0, "a.other.net."}},
     .rcode = RC_NOERROR,
     CNT(3, 1, 2),
     .changed = 1},
    {.name = "NS below the child",
     .upd = {{"sub.child.example.", IN, T_NS, 0, "ns.other.net."}},
     .rcode = RC_REFUSED,
     .ede = EDE_PROHIBITED,
     .text = "NS records only at the child name"},
    {.name = "new delegation from nothing",
     .cur = cur_empty,
     .upd = {{C, IN, T_NS, 0, "a.other.net."}, {C, IN, T_NS, 0, "b.other.net."}},
     .rcode = RC_NOERROR,
     CNT(2, 0, 0),
     .changed = 1},
    {.name = "DS without NS",
     .cur = cur_empty,
     .upd = {{C, IN, T_DS, 0, DS2}},
     .rcode = RC_REFUSED,
     .ede = EDE_PROHIBITED,
     .text = "DS or glue without any NS"},
    {.name = "NS of a sibling child (two children)",
     .upd = {{"other.example.", IN, T_NS, 0, "ns.evil.net."}},
     .rcode = RC_REFUSED,
     .ede = EDE_PROHIBITED,
     .text = "outside the signer's delegation"},
    {.name = "NS outside the zone",
     .upd = {{"child.other.", IN, T_NS, 0, "ns.evil.net."}},
     .rcode = RC_NOTZONE,
     .ede = EDE_OTHER,
     .text = "outside zone example."},
    {.name = "NS RDATA not one name (defence)",
     .break_ns = true,
     .upd = {{C, IN, T_NS, 0, "ns5.other.net."}},
     .rcode = RC_FORMERR,
     .ede = EDE_OTHER,
     .text = "NS RDATA must be exactly one"},

    /* --- glue ---------------------------------------------------------- */
    {.name = "A at the child name",
     .upd = {{C, IN, T_A, 0, "192.0.2.9"}},
     .rcode = RC_REFUSED,
     .ede = EDE_PROHIBITED,
     .text = "glue only strictly below"},
    {.name = "glue not an NS target",
     .upd = {{"foo.child.example.", IN, T_A, 0, "192.0.2.9"}},
     .rcode = RC_REFUSED,
     .ede = EDE_PROHIBITED,
     .text = "foo.child.example. is none: foo.child.example. 3600 IN A 192.0.2.9"},
    {.name = "glue outside the child",
     .upd = {{"ns.other.example.", IN, T_A, 0, "192.0.2.9"}},
     .rcode = RC_REFUSED,
     .ede = EDE_PROHIBITED,
     .text = "ns.other.example."},
    {.name = "more glue for a target",
     .upd = {{"ns1.child.example.", IN, T_A, 0, "192.0.2.3"}},
     .rcode = RC_NOERROR,
     CNT(2, 1, 3),
     .changed = 1},
    {.name = "A RDATA 5 octets",
     .upd = {{"ns1.child.example.", IN, T_A, 0, "#0102030405"}},
     .rcode = RC_FORMERR,
     .ede = EDE_OTHER,
     .text = "A RDATA must be 4 octets"},
    {.name = "AAAA RDATA 4 octets",
     .upd = {{"ns1.child.example.", IN, T_AAAA, 0, "#01020304"}},
     .rcode = RC_FORMERR,
     .ede = EDE_OTHER,
     .text = "AAAA RDATA must be 16 octets"},
    {.name = "delete A of class NONE with bad length",
     .upd = {{"ns1.child.example.", NONE, T_A, 0, "#010203"}},
     .rcode = RC_FORMERR,
     .ede = EDE_OTHER,
     .text = "A RDATA must be 4 octets"},
    {.name = "delete one glue address, AAAA stays",
     .upd = {{"ns1.child.example.", NONE, T_A, 0, "192.0.2.1"}},
     .rcode = RC_NOERROR,
     CNT(2, 1, 1),
     .changed = 1,
     .chg = "- ns1.child.example. 3600 IN A 192.0.2.1"},
    {.name = "delete A RRset, AAAA stays",
     .upd = {{"ns1.child.example.", ANY, T_A, 0, NULL}},
     .rcode = RC_NOERROR,
     CNT(2, 1, 1),
     .changed = 1},
    {.name = "ANY ANY at glue name: NS then lacks glue",
     .upd = {{"ns1.child.example.", ANY, T_ANY, 0, NULL}},
     .rcode = RC_REFUSED,
     .ede = EDE_PROHIBITED,
     .text = "ns1.child.example. is inside child.example. and needs glue"},
    {.name = "ANY ANY at glue name with its NS",
     .upd = {{"ns1.child.example.", ANY, T_ANY, 0, NULL},
	     {C, NONE, T_NS, 0, "ns1.child.example."},
	     {C, IN, T_NS, 0, "ns4.other.net."}},
     .rcode = RC_NOERROR,
     CNT(2, 1, 0),
     .changed = 1},
    {.name = "ANY ANY at the child",
     .upd = {{C, ANY, T_ANY, 0, NULL}},
     .rcode = RC_REFUSED,
     .ede = EDE_PROHIBITED,
     .text = "would remove the delegation"},
    {.name = "max glue",
     .pol = P_MAXGLUE2,
     .upd = {{C, IN, T_NS, 0, "ns2.child.example."},
	     {"ns2.child.example.", IN, T_A, 0, "192.0.2.2"}},
     .rcode = RC_REFUSED,
     .ede = EDE_PROHIBITED,
     .text = "3 glue record(s); the maximum is 2"},

    /* --- DS ------------------------------------------------------------ */
    {.name = "add DS",
     .upd = {{C, IN, T_DS, 0, DS2B}},
     .rcode = RC_NOERROR,
     CNT(2, 2, 2),
     .changed = 1,
     .chg = "+ child.example. 3600 IN DS 23456 13 2 "},
    {.name = "add DS SHA-384",
     .upd = {{C, IN, T_DS, 0, "1 13 4 " DIG48}},
     .rcode = RC_NOERROR,
     CNT(2, 2, 2),
     .changed = 1},
    {.name = "DS digest type 1 not allowed",
     .upd = {{C, IN, T_DS, 0, "1 13 1 " DIG20}},
     .rcode = RC_REFUSED,
     .ede = EDE_UNSUPPORTED_DS_DIGEST,
     .text = "digest type not allowed"},
    {.name = "DS algorithm 5 not allowed",
     .upd = {{C, IN, T_DS, 0, "1 5 2 " DIG20 DIG20 "0123456789abcdef0123456789abcdef"}},
     .rcode = RC_REFUSED,
     .ede = EDE_UNSUPPORTED_KEY_ALG,
     .text = "algorithm not allowed"},
    {.name = "DS SHA-256 with 20-octet digest",
     .upd = {{C, IN, T_DS, 0, "1 13 2 " DIG20}},
     .rcode = RC_REFUSED,
     .ede = EDE_PROHIBITED,
     .text = "digest length"},
    {.name = "DS SHA-1 allowed, 20 octets",
     .pol = P_SHA1,
     .upd = {{C, IN, T_DS, 0, "1 13 1 " DIG20}},
     .rcode = RC_NOERROR,
     CNT(2, 2, 2),
     .changed = 1},
    {.name = "DS SHA-1 allowed, 32 octets",
     .pol = P_SHA1,
     .upd = {{C, IN, T_DS, 0, "1 13 1 " DIG20 "000000000000000000000000"}},
     .rcode = RC_REFUSED,
     .ede = EDE_PROHIBITED,
     .text = "digest length"},
    {.name = "DS RDATA 3 octets",
     .upd = {{C, IN, T_DS, 0, "#010203"}},
     .rcode = RC_FORMERR,
     .ede = EDE_OTHER,
     .text = "shorter than 4"},
    {.name = "max DS",
     .pol = P_MAXDS1,
     .upd = {{C, IN, T_DS, 0, DS2B}},
     .rcode = RC_REFUSED,
     .ede = EDE_PROHIBITED,
     .text = "DS set would have 2 record(s)"},
    {.name = "stale SHA-1 DS can be removed",
     .cur = cur_sha1,
     .upd = {{C, NONE, T_DS, 0, "12345 13 1 " DIG20}},
     .rcode = RC_NOERROR,
     CNT(2, 1, 0),
     .changed = 1,
     .chg = "- child.example. 3600 IN DS 12345 13 1 "},
    {.name = "DS below the child",
     .upd = {{"sub.child.example.", IN, T_DS, 0, DS2}},
     .rcode = RC_REFUSED,
     .ede = EDE_PROHIBITED,
     .text = "DS records only at the child"},
    {.name = "delete DS RRset",
     .upd = {{C, ANY, T_DS, 0, NULL}},
     .rcode = RC_NOERROR,
     CNT(2, 0, 2),
     .changed = 1},

    /* --- other types, R7 ---------------------------------------------- */
    {.name = "SOA at the apex",
     .upd = {{"example.", IN, T_SOA, 0, "#00000000000000000000000000000000000000000000"}},
     .rcode = RC_REFUSED,
     .ede = EDE_PROHIBITED,
     .text = "outside the signer's delegation"},
    {.name = "SOA at the child",
     .upd = {{C, IN, T_SOA, 0, "#00000000000000000000000000000000000000000000"}},
     .rcode = RC_REFUSED,
     .ede = EDE_PROHIBITED,
     .text = "type SOA is not delegation data"},
    {.name = "RRSIG",
     .upd = {{C, IN, T_RRSIG, 0, "#0001"}},
     .rcode = RC_REFUSED,
     .ede = EDE_PROHIBITED,
     .text = "type RRSIG"},
    {.name = "SIG",
     .upd = {{C, IN, T_SIG, 0, "#0001"}},
     .rcode = RC_REFUSED,
     .ede = EDE_PROHIBITED,
     .text = "type SIG"},
    {.name = "NSEC",
     .upd = {{C, IN, T_NSEC, 0, "#00"}},
     .rcode = RC_REFUSED,
     .ede = EDE_PROHIBITED,
     .text = "type NSEC"},
    {.name = "NSEC3 delete",
     .upd = {{C, ANY, T_NSEC3, 0, NULL}},
     .rcode = RC_REFUSED,
     .ede = EDE_PROHIBITED,
     .text = "type NSEC3"},
    {.name = "NXT",
     .upd = {{C, IN, T_NXT, 0, "#00"}},
     .rcode = RC_REFUSED,
     .ede = EDE_PROHIBITED,
     .text = "is not delegation data"},
    {.name = "TXT",
     .upd = {{C, IN, T_TXT, 0, "#026869"}},
     .rcode = RC_REFUSED,
     .ede = EDE_PROHIBITED,
     .text = "type TXT"},
    {.name = "CNAME below",
     .upd = {{"www.child.example.", IN, T_CNAME, 0, "#00"}},
     .rcode = RC_REFUSED,
     .ede = EDE_PROHIBITED,
     .text = "type CNAME"},
    {.name = "DNAME",
     .upd = {{C, IN, T_DNAME, 0, "#00"}},
     .rcode = RC_REFUSED,
     .ede = EDE_PROHIBITED,
     .text = "is not delegation data"},
    {.name = "empty update", .rcode = RC_NOERROR, CNT(2, 1, 2), .changed = 0},

    /* --- KEY ----------------------------------------------------------- */
    {.name = "KEY only (bootstrap shape)",
     .upd = {{C, ANY, T_KEY, 0, NULL}, {C, IN, T_KEY, 0, "#0200030f0102030405"}},
     .rcode = RC_REFUSED,
     .ede = EDE_PROHIBITED,
     .text = "KEY changes by UPDATE are not enabled",
     .key_change = 1},
    {.name = "KEY mixed with NS",
     .upd = {{C, IN, T_KEY, 0, "#0200030f0102030405"}, {C, IN, T_NS, 0, "ns9.other.net."}},
     .rcode = RC_REFUSED,
     .ede = EDE_PROHIBITED,
     .text = "KEY changes must not be mixed with delegation changes"},
    {.name = "KEY mixed with glue delete",
     .upd = {{"ns1.child.example.", ANY, T_ANY, 0, NULL}, {C, IN, T_KEY, 0, "#0200030f0102030405"}},
     .rcode = RC_REFUSED,
     .ede = EDE_PROHIBITED,
     .text = "must not be mixed"},
    {.name = "KEY below the child",
     .upd = {{"x.child.example.", IN, T_KEY, 0, "#0200030f01"}},
     .rcode = RC_REFUSED,
     .ede = EDE_PROHIBITED,
     .text = "type KEY"},

    /* --- prescan (RFC 2136 3.4.1) ------------------------------------- */
    {.name = "ANY delete with TTL",
     .upd = {{C, ANY, T_DS, 60, NULL}},
     .rcode = RC_FORMERR,
     .ede = EDE_OTHER,
     .text = "TTL 0"},
    {.name = "ANY delete with RDATA",
     .upd = {{C, ANY, T_A, 0, "192.0.2.1"}},
     .rcode = RC_FORMERR,
     .ede = EDE_OTHER,
     .text = "no RDATA"},
    {.name = "NONE delete with TTL",
     .upd = {{C, NONE, T_NS, 5, "ns.other.net."}},
     .rcode = RC_FORMERR,
     .ede = EDE_OTHER,
     .text = "TTL 0"},
    {.name = "NONE ANY",
     .upd = {{C, NONE, T_ANY, 0, NULL}},
     .rcode = RC_FORMERR,
     .ede = EDE_OTHER,
     .text = "real type"},
    {.name = "IN ANY add",
     .upd = {{C, IN, T_ANY, 0, NULL}},
     .rcode = RC_FORMERR,
     .ede = EDE_OTHER,
     .text = "meta type"},
    {.name = "IN AXFR add",
     .upd = {{C, IN, T_AXFR, 0, NULL}},
     .rcode = RC_FORMERR,
     .ede = EDE_OTHER,
     .text = "meta type"},
    {.name = "class CH",
     .upd = {{C, 3, T_NS, 0, "ns.other.net."}},
     .rcode = RC_FORMERR,
     .ede = EDE_OTHER,
     .text = "class must be IN, ANY or NONE"},
    {.name = "too many records",
     .pol = P_MAXUPD2,
     .pre = {{C, ANY, T_NS, 0, NULL}},
     .upd = {{C, IN, T_NS, 0, "a.other.net."}, {C, IN, T_NS, 0, "b.other.net."}},
     .rcode = RC_REFUSED,
     .ede = EDE_PROHIBITED,
     .text = "the maximum is 2"},
    {.name = "at the record limit",
     .pol = P_MAXUPD2,
     .pre = {{C, ANY, T_NS, 0, NULL}},
     .upd = {{C, IN, T_NS, 0, "a.other.net."}},
     .rcode = RC_NOERROR,
     CNT(3, 1, 2),
     .changed = 1},

    /* --- prerequisites (RFC 2136 3.2) --------------------------------- */
    {.name = "pre: name in use, yes",
     .pre = {{"ns1.child.example.", ANY, T_ANY, 0, NULL}},
     .upd = {{C, IN, T_NS, 0, "n.other.net."}},
     .rcode = RC_NOERROR,
     CNT(3, 1, 2),
     .changed = 1},
    {.name = "pre: name in use, no (NXDOMAIN)",
     .pre = {{"foo.child.example.", ANY, T_ANY, 0, NULL}},
     .upd = {{C, IN, T_NS, 0, "n.other.net."}},
     .rcode = RC_NXDOMAIN,
     .ede = EDE_OTHER,
     .text = "name is not in use: foo.child.example."},
    {.name = "pre: name not in use, yes",
     .pre = {{"foo.child.example.", NONE, T_ANY, 0, NULL}},
     .rcode = RC_NOERROR,
     .changed = 0},
    {.name = "pre: name not in use, no (YXDOMAIN)",
     .pre = {{C, NONE, T_ANY, 0, NULL}},
     .rcode = RC_YXDOMAIN,
     .ede = EDE_OTHER,
     .text = "name is in use"},
    {.name = "pre: RRset exists, yes",
     .pre = {{C, ANY, T_DS, 0, NULL}},
     .rcode = RC_NOERROR,
     CNT(2, 1, 2)},
    {.name = "pre: RRset exists, no (NXRRSET)",
     .pre = {{"ns1.child.example.", ANY, T_NS, 0, NULL}},
     .rcode = RC_NXRRSET,
     .ede = EDE_OTHER,
     .text = "RRset does not exist"},
    {.name = "pre: RRset exists, no (empty cur)",
     .cur = cur_empty,
     .pre = {{C, ANY, T_NS, 0, NULL}},
     .rcode = RC_NXRRSET,
     .ede = EDE_OTHER},
    {.name = "pre: RRset does not exist, yes",
     .pre = {{C, NONE, T_TXT, 0, NULL}},
     .rcode = RC_NOERROR},
    {.name = "pre: RRset does not exist, no (YXRRSET)",
     .pre = {{C, NONE, T_NS, 0, NULL}},
     .rcode = RC_YXRRSET,
     .ede = EDE_OTHER,
     .text = "RRset exists"},
    {.name = "pre: value match",
     .pre = {{C, IN, T_NS, 0, "NS.other.net."},
	     {"CHILD.example.", IN, T_NS, 0, "ns1.child.example."},
	     {"ns1.child.example.", IN, T_A, 0, "192.0.2.1"}},
     .upd = {{C, NONE, T_NS, 0, "ns.other.net."}, {C, IN, T_NS, 0, "ns.new.net."}},
     .rcode = RC_NOERROR,
     CNT(2, 1, 2),
     .changed = 1},
    {.name = "pre: value subset (NXRRSET)",
     .pre = {{C, IN, T_NS, 0, "ns.other.net."}},
     .upd = {{C, IN, T_NS, 0, "ns.new.net."}},
     .rcode = RC_NXRRSET,
     .ede = EDE_OTHER,
     .text = "exists but is not listed"},
    {.name = "pre: value superset (NXRRSET)",
     .pre = {{C, IN, T_NS, 0, "ns.other.net."},
	     {C, IN, T_NS, 0, "ns1.child.example."},
	     {C, IN, T_NS, 0, "ns9.other.net."}},
     .rcode = RC_NXRRSET,
     .ede = EDE_OTHER,
     .text = "ns9.other.net. is not present"},
    {.name = "pre: value mismatch A",
     .pre = {{"ns1.child.example.", IN, T_A, 0, "192.0.2.99"}},
     .rcode = RC_NXRRSET,
     .ede = EDE_OTHER,
     .text = "192.0.2.99"},
    {.name = "pre: TTL not 0",
     .pre = {{C, ANY, T_NS, 10, NULL}},
     .rcode = RC_FORMERR,
     .ede = EDE_OTHER,
     .text = "TTL must be 0"},
    {.name = "pre: value TTL not 0",
     .pre = {{C, IN, T_NS, 3600, "ns.other.net."}},
     .rcode = RC_FORMERR,
     .ede = EDE_OTHER,
     .text = "TTL must be 0"},
    {.name = "pre: RDATA on ANY",
     .pre = {{C, ANY, T_NS, 0, "ns.other.net."}},
     .rcode = RC_FORMERR,
     .ede = EDE_OTHER,
     .text = "class ANY must have no RDATA"},
    {.name = "pre: RDATA on NONE",
     .pre = {{"ns1.child.example.", NONE, T_A, 0, "192.0.2.1"}},
     .rcode = RC_FORMERR,
     .ede = EDE_OTHER,
     .text = "class NONE must have no RDATA"},
    {.name = "pre: IN ANY",
     .pre = {{C, IN, T_ANY, 0, NULL}},
     .rcode = RC_FORMERR,
     .ede = EDE_OTHER},
    {.name = "pre: class CH",
     .pre = {{C, 3, T_NS, 0, NULL}},
     .rcode = RC_FORMERR,
     .ede = EDE_OTHER,
     .text = "class must be"},
    {.name = "pre: outside zone (NOTZONE)",
     .pre = {{"child.other.", ANY, T_ANY, 0, NULL}},
     .rcode = RC_NOTZONE,
     .ede = EDE_OTHER,
     .text = "outside zone"},
    {.name = "pre: zone apex (REFUSED)",
     .pre = {{"example.", ANY, T_SOA, 0, NULL}},
     .rcode = RC_REFUSED,
     .ede = EDE_PROHIBITED,
     .text = "prerequisite on example.: dsyncd holds only the delegation of child.example."},
    {.name = "pre: sibling (REFUSED)",
     .pre = {{"xchild.example.", NONE, T_ANY, 0, NULL}},
     .rcode = RC_REFUSED,
     .ede = EDE_PROHIBITED,
     .text = "prerequisite on xchild.example.:"},
    {.name = "pre: failure wins over a bad update",
     .pre = {{C, ANY, T_A, 0, NULL}},
     .upd = {{C, IN, T_TXT, 0, "#00"}},
     .rcode = RC_NXRRSET,
     .ede = EDE_OTHER},
    {.name = "pre: before prescan FORMERR",
     .pre = {{C, NONE, T_NS, 0, NULL}},
     .upd = {{C, ANY, T_NS, 7, NULL}},
     .rcode = RC_YXRRSET},

    /* --- ab / cab siblings -------------------------------------------- */
    {.name = "ab: NS at cab",
     .child = "ab.example.",
     .cur = cur_ab,
     .upd = {{"cab.example.", IN, T_NS, 0, "ns.evil.net."}},
     .rcode = RC_REFUSED,
     .ede = EDE_PROHIBITED,
     .text = "outside the signer's delegation ab.example."},
    {.name = "ab: glue at ns.cab",
     .child = "ab.example.",
     .cur = cur_ab,
     .upd = {{"ns.cab.example.", IN, T_A, 0, "192.0.2.66"}},
     .rcode = RC_REFUSED,
     .ede = EDE_PROHIBITED,
     .text = "ns.cab.example."},
    {.name = "ab: NS target in cab needs no glue",
     .child = "ab.example.",
     .cur = cur_ab,
     .upd = {{"ab.example.", IN, T_NS, 0, "ns.cab.example."}},
     .rcode = RC_NOERROR,
     CNT(3, 0, 0),
     .changed = 1},
    {.name = "ab: own glue",
     .child = "ab.example.",
     .cur = cur_ab,
     .upd = {{"ab.example.", IN, T_NS, 0, "ns.ab.example."},
	     {"ns.ab.example.", IN, T_A, 0, "192.0.2.5"}},
     .rcode = RC_NOERROR,
     CNT(3, 0, 1),
     .changed = 1},
    {.name = "ab: prereq on cab",
     .child = "ab.example.",
     .cur = cur_ab,
     .pre = {{"cab.example.", ANY, T_NS, 0, NULL}},
     .rcode = RC_REFUSED,
     .ede = EDE_PROHIBITED,
     .text = "dsyncd holds only the delegation of ab.example."},
    {.name = "cab: NS at ab",
     .child = "cab.example.",
     .cur = cur_cab,
     .upd = {{"ab.example.", IN, T_NS, 0, "ns.evil.net."}},
     .rcode = RC_REFUSED,
     .ede = EDE_PROHIBITED,
     .text = "outside the signer's delegation cab.example."},
    {.name = "cab: glue at ns.ab",
     .child = "cab.example.",
     .cur = cur_cab,
     .upd = {{"ns.ab.example.", IN, T_A, 0, "192.0.2.66"}},
     .rcode = RC_REFUSED,
     .ede = EDE_PROHIBITED,
     .text = "outside"},
    {.name = "cab: NS target ns.ab needs no glue",
     .child = "cab.example.",
     .cur = cur_cab,
     .upd = {{"cab.example.", IN, T_NS, 0, "ns.ab.example."}},
     .rcode = RC_NOERROR,
     CNT(3, 0, 1),
     .changed = 1},
};
#undef C

static void setup_policies(struct zone_policy p[P_COUNT])
{
	for (int i = 0; i < P_COUNT; i++)
		policy_defaults(&p[i]);
	p[P_MIN0].min_ns = 0;
	p[P_MAXNS3].max_ns = 3;
	policy_bit_set(p[P_SHA1].ds_digest_ok, 1);
	p[P_MAXDS1].max_ds = 1;
	p[P_MAXGLUE2].max_glue = 2;
	p[P_MAXUPD2].max_update_rrs = 2;
}

static struct msg g_msg;
static struct wbuf g_wb;
static struct deleg g_cur, g_next, g_saved;

/* Escape sequences in t are whole (nothing cut in the middle). */
static bool escapes_whole(const char *t)
{
	for (size_t i = 0; t[i]; i++) {
		if (t[i] != '\\')
			continue;
		if (t[i + 1] >= '0' && t[i + 1] <= '9') {
			if (!(t[i + 2] >= '0' && t[i + 2] <= '9' && t[i + 3] >= '0' &&
			      t[i + 3] <= '9'))
				return false;
			i += 3;
		} else if (t[i + 1] == '\0') {
			return false;
		} else {
			i++;
		}
	}
	return true;
}

static void run_row(const struct zone_policy *pols, const struct row *r)
{
	uint8_t zone[DNAME_MAX], child[DNAME_MAX];
	struct policy_result res;
	int rc, ede = r->ede;
	bool ok = true;

	name_wire("example.", zone);
	name_wire(r->child ? r->child : "child.example.", child);
	build_deleg(&g_cur, r->cur ? r->cur : cur_std, 3600);
	build_update(&g_wb, "example.", r->pre, r->upd);
	rc = msg_parse(&g_msg, g_wb.b, g_wb.n);
	if (rc != DS_OK) {
		fprintf(stderr, "[%s] msg_parse: %s (%s)\n", r->name, ds_strerror(rc), g_msg.why);
		CHECK(rc == DS_OK);
		return;
	}
	if (r->break_ns) {
		size_t n;
		struct msg_rr *u = (struct msg_rr *)msg_section(&g_msg, SEC_UPDATE, &n);
		u[0].crdlen--; /* the name no longer ends within RDATA */
	}
	g_saved = g_cur;
	rc = policy_update(&pols[r->pol], zone, child, &g_msg, &g_cur, &g_next, &res);

#define EXPECT(cond)                                                                               \
	do {                                                                                       \
		CHECK(cond);                                                                       \
		if (!(cond))                                                                       \
			ok = false;                                                                \
	} while (0)
	EXPECT(memcmp(&g_saved, &g_cur, sizeof(g_cur)) == 0); /* cur is never touched */
	EXPECT(res.rcode == r->rcode);
	EXPECT((rc == DS_OK) == (r->rcode == RC_NOERROR));
	EXPECT(strlen(res.text) < sizeof(res.text));
	if (r->rcode != RC_NOERROR) {
		EXPECT(res.text[0] != '\0');
		EXPECT(res.changed == false);
		if (ede != DC)
			EXPECT(res.ede == ede);
		if (r->text)
			EXPECT(strstr(res.text, r->text) != NULL);
		EXPECT((int)res.key_change == r->key_change);
	} else {
		EXPECT(r7_holds(&g_next, child));
		EXPECT(glue_consistent(&g_next, child));
		EXPECT(res.key_change == false);
		if (r->cnt) {
			EXPECT((int)deleg_count(&g_next, child, T_NS) == r->ns);
			EXPECT((int)deleg_count(&g_next, child, T_DS) == r->ds);
			EXPECT((int)(deleg_count(&g_next, NULL, T_A) +
				     deleg_count(&g_next, NULL, T_AAAA)) == r->glue);
		}
		if (r->changed != DC)
			EXPECT((int)res.changed == r->changed);
		if (r->changed == 0)
			EXPECT(res.changes[0] == '\0');
		if (r->chg)
			EXPECT(strstr(res.changes, r->chg) != NULL);
	}
#undef EXPECT
	if (!ok)
		fprintf(stderr, "  row [%s]: rc=%d rcode=%d ede=%u text=\"%s\" changes=\"%s\"\n",
			r->name, rc, res.rcode, res.ede, res.text, res.changes);
}

/* ------------------------------------------------------------------------
 * Focused tests
 */

static void test_changes_order(const struct zone_policy *pol)
{
	uint8_t zone[DNAME_MAX], child[DNAME_MAX];
	struct policy_result res;
	const struct trr upd[] = {
	    {"child.example.", NONE, T_NS, 0, "ns1.child.example."},
	    {"child.example.", IN, T_NS, 0, "b.other.net."},
	    {"child.example.", IN, T_NS, 0, "a.other.net."},
	    {"child.example.", ANY, T_DS, 0, NULL},
	    {NULL, 0, 0, 0, NULL},
	};
	const char *want = "+ child.example. 3600 IN NS a.other.net.\n"
			   "+ child.example. 3600 IN NS b.other.net.\n"
			   "- child.example. 3600 IN NS ns1.child.example.\n";

	name_wire("example.", zone);
	name_wire("child.example.", child);
	build_deleg(&g_cur, cur_std, 3600);
	build_update(&g_wb, "example.", NULL, upd);
	CHECK_EQ(msg_parse(&g_msg, g_wb.b, g_wb.n), DS_OK);
	CHECK_EQ(policy_update(pol, zone, child, &g_msg, &g_cur, &g_next, &res), DS_OK);
	/* adds first (sorted), then removes (sorted): NS, DS, glue */
	CHECK(strncmp(res.changes, want, strlen(want)) == 0);
	CHECK(strstr(res.changes, "- child.example. 3600 IN DS 12345 13 2 ") != NULL);
	CHECK(strstr(res.changes, "- ns1.child.example. 3600 IN A 192.0.2.1\n") != NULL);
	CHECK(strstr(res.changes, "- ns1.child.example. 3600 IN AAAA 2001:db8::1\n") != NULL);
	CHECK(strstr(res.changes, "\n+ ") == NULL ||
	      strstr(res.changes, "\n+ ") < strstr(res.changes, "- "));
	CHECK_EQ(g_next.n, 3);
	CHECK(res.changed);
}

/* A refusal text with very long, escape-heavy names stays within 255 bytes. */
static void test_long_text(const struct zone_policy *pol)
{
	uint8_t zone[DNAME_MAX], child[DNAME_MAX];
	struct policy_result res;
	char owner[1024], lab[300];
	size_t o = 0;

	for (int i = 0; i < 40; i++)
		o += (size_t)snprintf(lab + o, sizeof(lab) - o, "\\040");
	snprintf(owner, sizeof(owner), "%s.%s.%s.child.example.", lab, lab, lab);
	const struct trr upd[] = {{owner, IN, T_TXT, 0, "#026869"}, {NULL, 0, 0, 0, NULL}};

	name_wire("example.", zone);
	name_wire("child.example.", child);
	build_deleg(&g_cur, cur_std, 3600);
	build_update(&g_wb, "example.", NULL, upd);
	CHECK_EQ(msg_parse(&g_msg, g_wb.b, g_wb.n), DS_OK);
	CHECK_EQ(policy_update(pol, zone, child, &g_msg, &g_cur, &g_next, &res), DS_EINVAL);
	CHECK_EQ(res.rcode, RC_REFUSED);
	CHECK(strlen(res.text) <= 255);
	CHECK(strlen(res.text) > 200);
	CHECK(strcmp(res.text + strlen(res.text) - 3, "...") == 0);
	CHECK(escapes_whole(res.text));
	CHECK(strstr(res.text, "type TXT") != NULL); /* the rule survives the cut */
}

/* More than DELEG_MAX records: DS_ELIMIT, REFUSED. */
static void test_deleg_max(void)
{
	struct zone_policy pol;
	uint8_t zone[DNAME_MAX], child[DNAME_MAX];
	struct policy_result res;
	struct trr upd[3] = {{"child.example.", IN, T_NS, 0, "x1.other.net."},
			     {"child.example.", IN, T_NS, 0, "x2.other.net."},
			     {NULL, 0, 0, 0, NULL}};
	char nsname[64];

	policy_defaults(&pol);
	pol.max_ns = 1000;
	name_wire("example.", zone);
	name_wire("child.example.", child);
	g_cur.n = 0;
	for (int i = 0; i < DELEG_MAX - 1; i++) {
		struct drr r;
		memset(&r, 0, sizeof(r));
		name_wire("child.example.", r.owner);
		r.type = T_NS;
		r.ttl = 3600;
		snprintf(nsname, sizeof(nsname), "ns%d.other.net.", i);
		r.rdlen = (uint16_t)name_wire(nsname, r.rdata);
		CHECK_EQ(deleg_add(&g_cur, &r), DS_OK);
	}
	build_update(&g_wb, "example.", NULL, upd);
	CHECK_EQ(msg_parse(&g_msg, g_wb.b, g_wb.n), DS_OK);
	CHECK_EQ(policy_update(&pol, zone, child, &g_msg, &g_cur, &g_next, &res), DS_ELIMIT);
	CHECK_EQ(res.rcode, RC_REFUSED);
	CHECK(strstr(res.text, "would exceed 128 records") != NULL);
	upd[1].owner = NULL; /* one more fits exactly */
	build_update(&g_wb, "example.", NULL, upd);
	CHECK_EQ(msg_parse(&g_msg, g_wb.b, g_wb.n), DS_OK);
	CHECK_EQ(policy_update(&pol, zone, child, &g_msg, &g_cur, &g_next, &res), DS_OK);
	CHECK_EQ(g_next.n, DELEG_MAX);
}

static void test_ds_check(const struct zone_policy *pol)
{
	uint8_t rd[80] = {0x30, 0x39, 13, 2};
	uint16_t ede = 999;

	CHECK(policy_ds_check(pol, rd, 4 + 32, &ede) == NULL);
	CHECK(policy_ds_check(pol, rd, 4 + 31, &ede) != NULL);
	CHECK_EQ(ede, EDE_PROHIBITED);
	CHECK(policy_ds_check(pol, rd, 3, &ede) != NULL);
	rd[3] = 4;
	CHECK(policy_ds_check(pol, rd, 4 + 48, &ede) == NULL);
	CHECK(policy_ds_check(pol, rd, 4 + 32, &ede) != NULL);
	rd[3] = 1;
	CHECK(policy_ds_check(pol, rd, 4 + 20, &ede) != NULL);
	CHECK_EQ(ede, EDE_UNSUPPORTED_DS_DIGEST);
	rd[3] = 2;
	rd[2] = 7;
	CHECK(policy_ds_check(pol, rd, 4 + 32, &ede) != NULL);
	CHECK_EQ(ede, EDE_UNSUPPORTED_KEY_ALG);
	for (unsigned a = 0; a < 256; a++) {
		bool want = a == 8 || a == 10 || a == 13 || a == 14 || a == 15 || a == 16;
		rd[2] = (uint8_t)a;
		CHECK(want == (policy_ds_check(pol, rd, 4 + 32, &ede) == NULL));
	}
}

/* ------------------------------------------------------------------------
 * Property test (R7)
 */

static uint32_t rng_state = 0x12345678u;
static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state % n;
}

static const char *const prop_owners[] = {
    "child.example.",	  "CHILD.EXAMPLE.", "ns1.child.example.", "ns2.child.example.",
    "a.b.child.example.", "example.",	    "xchild.example.",	  "child.example.example.",
    "other.example.",	  "child.other.",   "ns.other.net.",	  ".",
    "hild.example.",
};
static const uint16_t prop_types[] = {T_SOA, T_RRSIG, T_NSEC, T_TXT,	T_CNAME, T_KEY,	 T_NS,
				      T_DS,  T_A,     T_AAAA, T_NS,	T_A,	 T_AAAA, T_DS,
				      T_SIG, T_NSEC3, T_NXT,  T_DNSKEY, T_ANY};
static const char *const prop_ns_targets[] = {"ns1.child.example.", "ns2.child.example.",
					      "ns.other.net.", "ns3.other.net.",
					      "ns.xchild.example."};

/* One random update record into u (rdbuf: room for its text RDATA). */
static void random_update_rr(struct trr *u, char rdbuf[160])
{
	uint16_t t = prop_types[rnd(sizeof(prop_types) / sizeof(prop_types[0]))];
	uint32_t c = rnd(10);

	u->owner = prop_owners[rnd(sizeof(prop_owners) / sizeof(prop_owners[0]))];
	if (rnd(10) < 6) {
		/* plausible: the right owner for the type, so that
		 * some messages are accepted */
		static const uint16_t good[] = {T_NS, T_DS, T_A, T_AAAA};
		t = good[rnd(4)];
		u->owner = t == T_NS || t == T_DS ? "child.example."
			   : rnd(2)		  ? "ns1.child.example."
						  : "ns2.child.example.";
	}
	u->type = t;
	u->cls = c < 6 ? IN : c < 8 ? ANY : NONE;
	u->ttl = u->cls == IN ? 60 : 0;
	u->rdata = NULL;
	if (u->cls == ANY)
		return;
	if (t == T_ANY) {
		u->cls = ANY;
		return;
	}
	switch (t) {
	case T_NS:
		u->rdata =
		    prop_ns_targets[rnd(sizeof(prop_ns_targets) / sizeof(prop_ns_targets[0]))];
		break;
	case T_A:
		snprintf(rdbuf, 160, "192.0.2.%u", rnd(4));
		u->rdata = rdbuf;
		break;
	case T_AAAA:
		snprintf(rdbuf, 160, "2001:db8::%x", rnd(4));
		u->rdata = rdbuf;
		break;
	case T_DS:
		u->rdata = rnd(2) ? DS2 : DS2B;
		break;
	case T_SOA:
		u->rdata = "#00000000000000000000000000000000000000000000";
		break;
	case T_CNAME:
		u->rdata = "#00";
		break;
	default:
		u->rdata = "#0101030d0102";
		break;
	}
}

/* The update upd against the standard delegation: accepted and sound, or refused with a reason. */
static bool property_check(const struct zone_policy *pol, const uint8_t *zone, const uint8_t *child,
			   const struct trr *upd)
{
	struct policy_result res;

	build_deleg(&g_cur, cur_std, 3600);
	build_update(&g_wb, "example.", NULL, upd);
	if (msg_parse(&g_msg, g_wb.b, g_wb.n) != DS_OK) {
		fprintf(stderr, "property: msg_parse: %s\n", g_msg.why);
		CHECK(0);
		return false;
	}
	int rc = policy_update(pol, zone, child, &g_msg, &g_cur, &g_next, &res);
	CHECK(strlen(res.text) < sizeof(res.text));
	if (rc == DS_OK) {
		CHECK_EQ(res.rcode, RC_NOERROR);
		CHECK(r7_holds(&g_next, child));
		CHECK(glue_consistent(&g_next, child));
		CHECK(deleg_count(&g_next, child, T_NS) > 0 || g_next.n == 0);
	} else {
		CHECK(res.rcode != RC_NOERROR);
		CHECK(res.text[0] != '\0');
	}
	return rc == DS_OK;
}

static void test_property(const struct zone_policy *pols)
{
	char rdbuf[4][160];
	size_t total = 0, accepted = 0, msgs = 0;
	uint8_t zone[DNAME_MAX], child[DNAME_MAX];

	name_wire("example.", zone);
	name_wire("child.example.", child);
	while (total < 2000) {
		struct trr upd[5];
		size_t k = 1 + rnd(4);
		const struct zone_policy *pol = &pols[rnd(2) ? P_DEF : P_MIN0];

		for (size_t i = 0; i < k; i++)
			random_update_rr(&upd[i], rdbuf[i]);
		upd[k].owner = NULL;
		total += k;
		msgs++;
		if (property_check(pol, zone, child, upd))
			accepted++;
	}
	printf("property: %zu records in %zu messages, %zu accepted\n", total, msgs, accepted);
	CHECK(accepted >= 50); /* the property was exercised, not vacuous */
	CHECK(accepted < msgs);
}

int main(void)
{
	struct zone_policy pols[P_COUNT];

	setup_policies(pols);
	CHECK_EQ(pols[P_DEF].deleg_ttl, 3600);
	CHECK_EQ(pols[P_DEF].min_ns, 2);
	CHECK_EQ(pols[P_DEF].max_update_rrs, 64);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		run_row(pols, &rows[i]);
	test_changes_order(&pols[P_DEF]);
	test_long_text(&pols[P_DEF]);
	test_ds_check(&pols[P_DEF]);
	test_deleg_max();
	test_property(pols);
	msg_clear(&g_msg);
	UNIT_DONE("test_policy");
}

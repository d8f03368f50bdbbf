/*
 * tests/unit/test_sig0.c -- SIG(0) keys, signing and verification.
 *
 * Keys are made at test time with BIND's dnssec-keygen into a temporary
 * folder; interop is checked against SIG(0) records made by BIND's nsupdate
 * (captured on a loopback UDP socket of our own, nothing sent elsewhere).
 * Keys we generate ourselves are written as BIND files and must load in
 * nsupdate the same way.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/dname.h"
#include "common/err.h"
#include "common/msg.h"
#include "common/rrtext.h"
#include "common/wire.h"
#include "keys/keys.h"
#include "sig0/sig0.h"
#include "tests/unit/unit.h"
#include "tests/unit/upd_start.h"

static char tmpdir[] = "/tmp/test_sig0.XXXXXX";

/* ---- helpers ---------------------------------------------------------------- */

/* Run dnssec-keygen; base gets "<dir>/K<name>+<alg>+<tag>".  0 on success. */
static int keygen(const char *alg, int bits, const char *name, char *base, size_t baselen)
{
	char cmd[512], out[256] = "";
	char bitsopt[32] = "";
	if (bits > 0)
		snprintf(bitsopt, sizeof bitsopt, "-b %d", bits);
	snprintf(cmd, sizeof cmd, "dnssec-keygen -q -K %s -T KEY -a %s %s -n HOST %s 2>/dev/null",
		 tmpdir, alg, bitsopt, name);
	FILE *p = popen(cmd, "r");
	if (p == NULL)
		return -1;
	if (fgets(out, sizeof out, p) == NULL)
		out[0] = 0;
	int st = pclose(p);
	out[strcspn(out, "\r\n")] = 0;
	if (st != 0 || out[0] != 'K')
		return -1;
	snprintf(base, baselen, "%s/%s", tmpdir, out);
	return 0;
}

static void put_name(struct wbuf *b, const char *s)
{
	uint8_t n[DNAME_MAX];
	int len = dname_from_str(s, n);
	if (len > 0)
		wbuf_bytes(b, n, (size_t)len);
	else
		b->err = DS_EPARSE;
}

/*
 * A small UPDATE: zone example. SOA, one "child.example. 3600 IN NS
 * ns1.other." update, and an OPT record when edns.
 */
static size_t build_update(uint8_t *buf, size_t cap, uint16_t id, int edns)
{
	struct wbuf b;
	uint8_t zone[DNAME_MAX];
	dname_from_str("example.", zone);
	wbuf_init(&b, buf, cap);
	upd_start(&b, id, zone, 1, edns ? 1 : 0);
	put_name(&b, "child.example.");
	upd_ns_rest(&b, 3600, "ns1.other.");
	if (edns) {
		wbuf_u8(&b, 0);
		wbuf_u16(&b, T_OPT);
		wbuf_u16(&b, 1232);
		wbuf_u32(&b, 0);
		wbuf_u16(&b, 0);
	}
	return b.err ? 0 : b.len;
}

/* Grow an UPDATE from build_update() (no OPT) past the EdDSA stack buffer. */
static size_t add_many(uint8_t *buf, size_t len, size_t cap, unsigned n)
{
	struct wbuf b;
	wbuf_init(&b, buf, cap);
	b.len = len;
	for (unsigned i = 0; i < n; i++) {
		char name[64];
		snprintf(name, sizeof name, "host%u.child.example.", i);
		put_name(&b, name);
		wbuf_u16(&b, T_A);
		wbuf_u16(&b, CLASS_IN);
		wbuf_u32(&b, 3600);
		wbuf_u16(&b, 4);
		wbuf_u32(&b, 0xc0000200u + i);
	}
	if (b.err)
		return 0;
	wr_u16(buf + 8, (uint16_t)(rd_u16(buf + 8) + n));
	return b.len;
}

/* Parse buf and verify SIG(0) number which with key; DS_OK or an error. */
static int parse_verify(struct msg *m, const uint8_t *buf, size_t len, size_t which,
			const struct sig0_key *key)
{
	struct sig0_rr s;
	msg_clear(m);
	int rc = msg_parse(m, buf, len);
	if (rc != DS_OK)
		return rc;
	if (m->nsig <= which)
		return DS_ENOENT;
	rc = sig0_rr_parse(m, m->sig_idx[which], &s);
	if (rc != DS_OK)
		return rc;
	return sig0_verify(m, which, &s, key);
}

static struct sig0_key *pub_of(const struct sig0_key *k)
{
	struct sig0_limits lim;
	struct sig0_key *p = NULL;
	size_t rdlen;
	const uint8_t *rd = sig0_key_rdata(k, &rdlen);
	sig0_limits_default(&lim);
	if (sig0_key_new(sig0_key_owner(k), rd, rdlen, &lim, &p, NULL, 0) != DS_OK)
		return NULL;
	return p;
}

/* RSA KEY RDATA by hand: exponent e (elen bytes) + random modulus of nbytes. */
static size_t rsa_rdata(uint8_t *out, uint8_t alg, const uint8_t *e, size_t elen, size_t nbytes)
{
	size_t o = 0;
	out[o++] = 0x02;
	out[o++] = 0x00;
	out[o++] = 3;
	out[o++] = alg;
	if (elen < 256) {
		out[o++] = (uint8_t)elen;
	} else {
		out[o++] = 0;
		out[o++] = (uint8_t)(elen >> 8);
		out[o++] = (uint8_t)elen;
	}
	memcpy(out + o, e, elen);
	o += elen;
	RAND_bytes(out + o, (int)nbytes);
	out[o] |= 0x80;
	out[o + nbytes - 1] |= 1;
	return o + nbytes;
}

/* ---- tests ---------------------------------------------------------------------- */

static void test_names_limits(void)
{
	struct sig0_limits l;
	sig0_limits_default(&l);
	CHECK_EQ(l.rsa_min_bits, 2048);
	CHECK_EQ(l.rsa_max_bits, 4096);
	static const struct {
		uint8_t alg;
		int allowed, supported;
		const char *name;
	} t[] = {
	    {1, 0, 0, "RSAMD5"},
	    {3, 0, 0, "DSA"},
	    {5, 0, 1, "RSASHA1"},
	    {7, 0, 1, "RSASHA1-NSEC3-SHA1"},
	    {8, 1, 1, "RSASHA256"},
	    {10, 1, 1, "RSASHA512"},
	    {13, 1, 1, "ECDSAP256SHA256"},
	    {14, 1, 1, "ECDSAP384SHA384"},
	    {15, 1, 1, "ED25519"},
	    {16, 1, 1, "ED448"},
	    {12, 0, 0, "ECC-GOST"},
	    {200, 0, 0, "ALG200"},
	    {0, 0, 0, "ALG0"},
	    {255, 0, 0, "ALG255"},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		CHECK_EQ(sig0_alg_allowed(&l, t[i].alg), t[i].allowed);
		CHECK_EQ(sig0_alg_supported(t[i].alg), t[i].supported);
		CHECK(strcmp(sig0_alg_name(t[i].alg), t[i].name) == 0);
	}
}

static void test_key_tag_vectors(void)
{
	/* RFC 4034 section 5.4: key id 60485 (DNSKEY there; KEY RDATA is the same) */
	uint8_t owner[DNAME_MAX], rd[1024];
	size_t rdlen = 0;
	char why[256] = "";
	int rc = sig0_key_from_text(
	    "dskey.example.com. 86400 IN KEY 256 3 5 ( AQOeiiR0GOMYkDshWoSKz9Xz "
	    "fwJr1AYtsmx3TGkJaNXVbfi/ 2pHm822aJ5iI9BMzNXxeYCmZ DRD99WYwYqUSdjMmmAphXdvx "
	    "egXd/M5+X7OrzKBaMbCVdFLU Uh6DhweJBjEVv5f2wwjM9Xzc nOf+EPbtG9DMBmADjFDc2w/r "
	    "ljwvFw== )",
	    owner, rd, sizeof rd, &rdlen, why, sizeof why);
	CHECK_EQ(rc, DS_OK);
	if (rc != DS_OK)
		fprintf(stderr, "  why: %s\n", why);
	CHECK_EQ(sig0_rdata_tag(rd, rdlen), 60485);

	/* algorithm 1: bits 8..23 from the end of the modulus */
	static const uint8_t a1[] = {1, 0, 3, 1, 1, 3, 0xaa, 0xbb, 0x12, 0x34, 0x56};
	CHECK_EQ(sig0_rdata_tag(a1, sizeof a1), 0x1234);
	/* the checksum fold on a tiny input: 0x0102 + 0x0304 = 0x0406 */
	static const uint8_t t4[] = {1, 2, 3, 4};
	CHECK_EQ(sig0_rdata_tag(t4, sizeof t4), 0x0406);
	/* carry fold: 0xffff + 0xffff = 0x1fffe -> 0xfffe + 1 */
	static const uint8_t t5[] = {0xff, 0xff, 0xff, 0xff};
	CHECK_EQ(sig0_rdata_tag(t5, sizeof t5), 0xffff);

	/* not a KEY, unparsable */
	rc = sig0_key_from_text("x.example. IN A 192.0.2.1", owner, rd, sizeof rd, &rdlen, why,
				sizeof why);
	CHECK_EQ(rc, DS_EPARSE);
	rc = sig0_key_from_text("x.example. IN KEY nonsense", owner, rd, sizeof rd, &rdlen, why,
				sizeof why);
	CHECK_EQ(rc, DS_EPARSE);
	/* a line break and control characters (ldns 1.8.3 read past a buffer on
	 * this text, found by fuzz_config): refused before ldns sees it */
	rc = sig0_key_from_text("= ( {fi1\ntss@include)\x08?A\x03", owner, rd, sizeof rd, &rdlen,
				why, sizeof why);
	CHECK_EQ(rc, DS_EPARSE);
	CHECK(strstr(why, "control character 0x0A at offset 8") != NULL);
	/* ... but a line's end after the record is fine (a key file's text) */
	rc = sig0_key_from_text("x.example. 3600 IN KEY 512 3 15 "
				"l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4=\r\n",
				owner, rd, sizeof rd, &rdlen, why, sizeof why);
	CHECK_EQ(rc, DS_OK);
}

/* Protocol, A/C flags, unknown algorithm, wrong lengths, off-curve point. */
static void key_limits_flags(const uint8_t *owner, const struct sig0_limits *lp)
{
	struct sig0_limits l = *lp;
	struct sig0_key *k = NULL;
	char why[128];

	uint8_t ed[36] = {0x02, 0x00, 3, 15};
	RAND_bytes(ed + 4, 32);
	CHECK_EQ(sig0_key_new(owner, ed, 36, &l, &k, why, sizeof why), DS_OK);
	sig0_key_free(k);
	k = NULL;
	ed[2] = 2;
	CHECK_EQ(sig0_key_new(owner, ed, 36, &l, &k, why, sizeof why), DS_EKEY);
	CHECK(k == NULL);
	ed[2] = 3;
	ed[0] = 0xc2;
	CHECK_EQ(sig0_key_new(owner, ed, 36, &l, &k, why, sizeof why), DS_EKEY);
	ed[0] = 0x42; /* A/C = 1: "no authentication", still a key */
	CHECK_EQ(sig0_key_new(owner, ed, 36, &l, &k, why, sizeof why), DS_OK);
	sig0_key_free(k);
	k = NULL;
	ed[0] = 0x01;
	CHECK_EQ(sig0_key_new(owner, ed, 35, &l, &k, why, sizeof why), DS_EKEY);
	ed[3] = 99;
	CHECK_EQ(sig0_key_new(owner, ed, 36, &l, &k, why, sizeof why), DS_ENOTSUP);
	ed[3] = 16;
	CHECK_EQ(sig0_key_new(owner, ed, 36, &l, &k, why, sizeof why), DS_EKEY);
	CHECK_EQ(sig0_key_new(owner, ed, 3, &l, &k, why, sizeof why), DS_EKEY);

	uint8_t ec[4 + 96] = {0x02, 0x00, 3, 13};
	memset(ec + 4, 0x11, 64); /* not on P-256 */
	CHECK_EQ(sig0_key_new(owner, ec, 68, &l, &k, why, sizeof why), DS_EKEY);
	CHECK_EQ(sig0_key_new(owner, ec, 100, &l, &k, why, sizeof why), DS_EKEY);
	ec[3] = 14;
	CHECK_EQ(sig0_key_new(owner, ec, 68, &l, &k, why, sizeof why), DS_EKEY);
	CHECK(k == NULL);
}

static void test_key_limits(void)
{
	struct sig0_limits l;
	struct sig0_key *k = NULL;
	uint8_t rd[4096];
	uint8_t owner[DNAME_MAX];
	char why[128];
	static const uint8_t e65537[] = {1, 0, 1};
	static const uint8_t e5[] = {1, 0, 0, 0, 1};
	dname_from_str("k.example.", owner);
	sig0_limits_default(&l);

	struct {
		uint8_t alg;
		const uint8_t *e;
		size_t elen, nbytes;
		int want;
	} t[] = {
	    {8, e65537, 3, 256, DS_OK},	     /* 2048 */
	    {8, e65537, 3, 512, DS_OK},	     /* 4096 */
	    {10, e65537, 3, 384, DS_OK},     /* 3072 */
	    {8, e65537, 3, 128, DS_EKEY},    /* 1024: too small */
	    {8, e65537, 3, 2048, DS_EKEY},   /* 16384: too large */
	    {8, e65537, 3, 513, DS_EKEY},    /* 4104 */
	    {8, e5, 5, 256, DS_EKEY},	     /* 5-byte exponent */
	    {8, e65537, 3, 0, DS_EKEY},	     /* no modulus */
	    {5, e65537, 3, 256, DS_ENOTSUP}, /* RSASHA1 off by default */
	    {7, e65537, 3, 256, DS_ENOTSUP},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		size_t n = t[i].nbytes ? rsa_rdata(rd, t[i].alg, t[i].e, t[i].elen, t[i].nbytes)
				       : rsa_rdata(rd, t[i].alg, t[i].e, t[i].elen, 1) - 1;
		int rc = sig0_key_new(owner, rd, n, &l, &k, why, sizeof why);
		CHECK_EQ(rc, t[i].want);
		if (rc != t[i].want)
			fprintf(stderr, "  case %zu: %s\n", i, why);
		CHECK((rc == DS_OK) == (k != NULL));
		if (k != NULL) {
			CHECK_EQ(sig0_key_alg(k), t[i].alg);
			CHECK_EQ(sig0_key_tag(k), sig0_rdata_tag(rd, n));
			CHECK(dname_equal(sig0_key_owner(k), owner));
			size_t kl;
			const uint8_t *kr = sig0_key_rdata(k, &kl);
			CHECK(kl == n && memcmp(kr, rd, n) == 0);
		}
		sig0_key_free(k);
		k = NULL;
	}

	/* long exponent-length form (0 + two bytes) */
	size_t n = rsa_rdata(rd, 8, e65537, 3, 256);
	memmove(rd + 7, rd + 5, n - 5);
	rd[4] = 0;
	rd[5] = 0;
	rd[6] = 3;
	CHECK_EQ(sig0_key_new(owner, rd, n + 2, &l, &k, why, sizeof why), DS_OK);
	sig0_key_free(k);
	k = NULL;

	/* RSASHA1 when the limits allow it */
	struct sig0_limits l5 = l;
	l5.alg_allowed[0] |= 1 << 5;
	n = rsa_rdata(rd, 5, e65537, 3, 256);
	CHECK_EQ(sig0_key_new(owner, rd, n, &l5, &k, why, sizeof why), DS_OK);
	sig0_key_free(k);
	k = NULL;

	key_limits_flags(owner, &l);
}

/* One algorithm's keys under test: k and k2 with their public halves. */
struct alg_ctx {
	struct msg *m;
	struct sig0_key *k, *k2, *pub, *pub2;
	uint8_t alg;
	unsigned ftag; /* the tag BIND put in the file name */
	uint8_t owner[DNAME_MAX];
	uint32_t now;
};

/* The public half from the .key file, by path and by text. */
static void alg_check_public(const struct alg_ctx *c, const char *base)
{
	char path[600], why[256] = "";
	uint8_t owner[DNAME_MAX], rd[4096];
	size_t rdlen = 0, prdlen;
	const uint8_t *prd = sig0_key_rdata(c->k, &prdlen);
	snprintf(path, sizeof path, "%s.key", base);
	CHECK_EQ(sig0_key_from_text(path, owner, rd, sizeof rd, &rdlen, why, sizeof why), DS_OK);
	CHECK(rdlen == prdlen && memcmp(rd, prd, rdlen) == 0);
	CHECK(dname_equal(owner, c->owner));
	CHECK_EQ(rd_u16(rd), 0x0200); /* -n HOST */
	char line[4096];
	char rdtext[3900];
	CHECK_EQ(rr_rdata_to_str(T_KEY, prd, prdlen, rdtext, sizeof rdtext), DS_OK);
	snprintf(line, sizeof line, "child.example. 300 IN KEY %s", rdtext);
	rdlen = 0;
	CHECK_EQ(sig0_key_from_text(line, owner, rd, sizeof rd, &rdlen, why, sizeof why), DS_OK);
	CHECK(rdlen == prdlen && memcmp(rd, prd, rdlen) == 0);
}

/* The fields of the one SIG(0) in buf (parsed into c->m, s), and its checks. */
static void alg_check_fields(const struct alg_ctx *c, const uint8_t *buf, size_t len,
			     struct sig0_rr *s)
{
	struct msg *m = c->m;
	CHECK_EQ(msg_parse(m, buf, len), DS_OK);
	CHECK_EQ(m->nsig, 1);
	CHECK_EQ(sig0_rr_parse(m, m->sig_idx[0], s), DS_OK);
	CHECK_EQ(s->type_covered, 0);
	CHECK_EQ(s->alg, c->alg);
	CHECK_EQ(s->labels, 0);
	CHECK_EQ(s->orig_ttl, 0);
	CHECK_EQ(s->inception, c->now - 60);
	CHECK_EQ(s->expiration, c->now + 300);
	CHECK_EQ(s->key_tag, c->ftag);
	CHECK(dname_equal(s->signer, c->owner));
	const struct msg_rr *srr = &m->rr[m->sig_idx[0]];
	CHECK_EQ(srr->rclass, CLASS_ANY);
	CHECK_EQ(srr->ttl, 0);
	CHECK_EQ(srr->end, len);
	CHECK_EQ(sig0_verify(m, 0, s, c->pub), DS_OK);
	CHECK_EQ(sig0_verify(m, 0, s, c->pub2), DS_EBADSIG);
	CHECK_EQ(sig0_verify(m, 1, s, c->pub), DS_EINVAL);
}

/* Every byte of the signed part flipped: never verifies. */
static void alg_check_flips(const struct alg_ctx *c, uint8_t *buf, size_t len)
{
	const struct msg_rr *srr = &c->m->rr[c->m->sig_idx[0]];
	size_t rdoff = srr->rdoff, sigrr = srr->off;
	uint8_t save[4096];
	int bad = 0, ok = 0;
	memcpy(save, buf, len);
	for (size_t i = 0; i < len; i++) {
		if (i >= sigrr && i < rdoff)
			continue; /* SIG RR owner/type/class/TTL/RDLENGTH: not signed */
		buf[i] ^= 0xff;
		if (parse_verify(c->m, buf, len, 0, c->pub) == DS_OK) {
			ok++;
			fprintf(stderr, "  flip at %zu still verifies\n", i);
		} else {
			bad++;
		}
		buf[i] = save[i];
	}
	CHECK_EQ(ok, 0);
	CHECK(bad > 0);
	CHECK_EQ(parse_verify(c->m, buf, len, 0, c->pub), DS_OK);
}

/* The digest of the SIG(0) at byte i flipped: dg again or not (want_same). */
static void alg_check_digest(const struct alg_ctx *c, uint8_t *buf, size_t len, size_t i,
			     const uint8_t dg[32], bool want_same)
{
	struct sig0_rr s2;
	uint8_t dg2[32];
	buf[i] ^= 1;
	CHECK_EQ(msg_parse(c->m, buf, len), DS_OK);
	CHECK_EQ(sig0_rr_parse(c->m, c->m->sig_idx[0], &s2), DS_OK);
	CHECK_EQ(sig0_signed_digest(c->m, 0, &s2, dg2), DS_OK);
	CHECK((memcmp(dg, dg2, 32) == 0) == want_same);
	buf[i] ^= 1;
}

/* Sign a small UPDATE (with or without OPT) and take it apart. */
static void alg_check_signed(const struct alg_ctx *c, int edns)
{
	struct msg *m = c->m;
	uint8_t buf[4096], dg[32];
	struct sig0_rr s;
	size_t len = build_update(buf, sizeof buf, (uint16_t)(0x1234 + edns), edns);
	CHECK(len > 0);
	CHECK_EQ(sig0_sign(c->k, buf, &len, sizeof buf, c->now - 60, c->now + 300, NULL, 0), DS_OK);
	CHECK_EQ(rd_u16(buf + 10), edns + 1);
	alg_check_fields(c, buf, len, &s);
	CHECK_EQ(sig0_signed_digest(m, 0, &s, dg), DS_OK);
	alg_check_flips(c, buf, len);

	/* the digest covers the signed data only, not the signature */
	alg_check_digest(c, buf, len, len - 1, dg, true);
	alg_check_digest(c, buf, len, 0, dg, false);

	/* a second SIG(0) by the other key covers the first one */
	CHECK_EQ(sig0_sign(c->k2, buf, &len, sizeof buf, c->now - 60, c->now + 300, NULL, 0),
		 DS_OK);
	CHECK_EQ(msg_parse(m, buf, len), DS_OK);
	CHECK_EQ(m->nsig, 2);
	CHECK_EQ(parse_verify(m, buf, len, 0, c->pub), DS_OK);
	CHECK_EQ(parse_verify(m, buf, len, 1, c->pub2), DS_OK);
	CHECK_EQ(parse_verify(m, buf, len, 0, c->pub2), DS_EBADSIG);
	CHECK_EQ(parse_verify(m, buf, len, 1, c->pub), DS_EBADSIG);

	/* no room */
	size_t l2 = build_update(buf, sizeof buf, 1, edns);
	CHECK_EQ(sig0_sign(c->k, buf, &l2, l2 + 20, c->now, c->now, NULL, 0), DS_ELIMIT);
	CHECK_EQ(rd_u16(buf + 10), edns);
}

/* A message larger than the stack buffer used for EdDSA. */
static void alg_check_big(const struct alg_ctx *c)
{
	uint8_t big[8192];
	size_t blen = add_many(big, build_update(big, sizeof big, 77, 0), sizeof big, 150);
	size_t bl0 = blen;
	CHECK(blen > 4096);
	CHECK_EQ(sig0_sign(c->k, big, &blen, sizeof big, c->now - 60, c->now + 300, NULL, 0),
		 DS_OK);
	CHECK_EQ(parse_verify(c->m, big, blen, 0, c->pub), DS_OK);
	CHECK_EQ(parse_verify(c->m, big, blen, 0, c->pub2), DS_EBADSIG);
	big[bl0 - 1] ^= 0x01; /* last octet of the last A record */
	CHECK_EQ(parse_verify(c->m, big, blen, 0, c->pub), DS_EBADSIG);
	msg_clear(c->m);
}

/*
 * Ed25519's identity point as a public key, with R = identity and S = 0:
 * the verification equation holds for any message, and OpenSSL 3.0's check
 * alone passes it.  libsodium refuses small-order points.
 */
static void alg_check_small_order(const struct alg_ctx *c)
{
	uint8_t buf[4096], rd[36] = {0x02, 0x00, 3, ALG_ED25519, 0x01};
	struct sig0_limits lim;
	struct sig0_key *weak = NULL;
	size_t len = build_update(buf, sizeof buf, 99, 1);

	CHECK_EQ(sig0_sign(c->k, buf, &len, sizeof buf, c->now - 60, c->now + 300, NULL, 0), DS_OK);
	memset(buf + len - 64, 0, 64); /* the signature ends the message */
	buf[len - 64] = 0x01;
	sig0_limits_default(&lim);
	CHECK_EQ(sig0_key_new(c->owner, rd, sizeof rd, &lim, &weak, NULL, 0), DS_OK);
	if (weak != NULL)
		CHECK_EQ(parse_verify(c->m, buf, len, 0, weak), DS_EBADSIG);
	sig0_key_free(weak);
	msg_clear(c->m);
}

/* Read the pair of base (by every name it has) and the second key of base2. */
static int alg_read_keys(struct alg_ctx *c, const char *base, const char *base2)
{
	char path[600], why[256] = "";
	snprintf(path, sizeof path, "%s.private", base);
	CHECK_EQ(sig0_key_read(path, &c->k, why, sizeof why), DS_OK);
	sig0_key_free(c->k);
	c->k = NULL;
	snprintf(path, sizeof path, "%s.key", base2);
	CHECK_EQ(sig0_key_read(path, &c->k2, why, sizeof why), DS_OK);
	int rc = sig0_key_read(base, &c->k, why, sizeof why);
	CHECK_EQ(rc, DS_OK);
	if (rc != DS_OK || c->k2 == NULL) {
		fprintf(stderr, "  %s: %s\n", base, why);
		return -1;
	}
	return 0;
}

/* Everything for one algorithm with BIND-generated keys. */
static void test_alg(const char *algname, uint8_t alg, int bits, struct msg *m)
{
	char base[512], base2[512];
	struct alg_ctx c = {.m = m, .alg = alg};
	fprintf(stderr, "  %s\n", algname);

	if (keygen(algname, bits, "child.example.", base, sizeof base) != 0 ||
	    keygen(algname, bits, "child.example.", base2, sizeof base2) != 0) {
		CHECK(!"dnssec-keygen failed");
		return;
	}
	/* path with and without suffix */
	if (alg_read_keys(&c, base, base2) != 0)
		goto out;
	CHECK_EQ(sig0_key_alg(c.k), alg);
	const char *plus = strrchr(base, '+');
	if (plus != NULL)
		c.ftag = (unsigned)atoi(plus + 1);
	CHECK_EQ(sig0_key_tag(c.k), c.ftag);
	dname_from_str("child.example.", c.owner);
	CHECK(dname_equal(sig0_key_owner(c.k), c.owner));
	alg_check_public(&c, base);

	c.pub = pub_of(c.k);
	c.pub2 = pub_of(c.k2);
	CHECK(c.pub != NULL && c.pub2 != NULL);
	if (c.pub == NULL || c.pub2 == NULL)
		goto out;
	CHECK_EQ(sig0_key_tag(c.pub), c.ftag);
	c.now = (uint32_t)time(NULL);
	for (int edns = 0; edns <= 1; edns++)
		alg_check_signed(&c, edns);
	alg_check_big(&c);
	if (alg == ALG_ED25519)
		alg_check_small_order(&c);
out:
	sig0_key_free(c.pub);
	sig0_key_free(c.pub2);
	sig0_key_free(c.k);
	sig0_key_free(c.k2);
}

/* Response signing: the signed data is prefix | request | response (RFC 2931). */
static void test_response_sign(const char *base)
{
	struct sig0_key *k = NULL;
	char why[256];
	CHECK_EQ(sig0_key_read(base, &k, why, sizeof why), DS_OK);
	if (k == NULL)
		return;
	uint8_t req[1024], resp[1024], data[4096];
	size_t reqlen = build_update(req, sizeof req, 7, 1);
	CHECK_EQ(sig0_sign(k, req, &reqlen, sizeof req, 100, 400, NULL, 0), DS_OK);
	size_t resplen = build_update(resp, sizeof resp, 7, 1);
	resp[2] |= 0x80; /* QR */
	size_t before = resplen;
	CHECK_EQ(sig0_sign(k, resp, &resplen, sizeof resp, 100, 400, req, reqlen), DS_OK);

	/* rebuild the signed data independently and check with OpenSSL directly */
	size_t rdlen, olen = dname_len(sig0_key_owner(k));
	const uint8_t *rd = sig0_key_rdata(k, &rdlen);
	size_t plen = 18 + olen, sigoff = before + 11 + plen;
	size_t n = 0;
	memcpy(data + n, resp + before + 11, plen);
	n += plen;
	memcpy(data + n, req, reqlen);
	n += reqlen;
	memcpy(data + n, resp, before);
	wr_u16(data + n + 10, 1); /* index of the SIG: after the OPT */
	n += before;
	EVP_PKEY *pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, rd + 4, rdlen - 4);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	CHECK(pk != NULL && ctx != NULL);
	CHECK_EQ(EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pk), 1);
	CHECK_EQ(EVP_DigestVerify(ctx, resp + sigoff, resplen - sigoff, data, n), 1);
	EVP_MD_CTX_free(ctx);

	/* and the request's own SIG(0) the same way, against the library */
	n = 0;
	size_t rbefore = reqlen - 11 - plen - 64;
	memcpy(data, req + rbefore + 11, plen);
	n = plen;
	memcpy(data + n, req, rbefore);
	wr_u16(data + n + 10, 1);
	n += rbefore;
	ctx = EVP_MD_CTX_new();
	CHECK_EQ(EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pk), 1);
	CHECK_EQ(EVP_DigestVerify(ctx, req + reqlen - 64, 64, data, n), 1);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pk);

	/* the response verified as if it were a request does not verify */
	struct msg *m = calloc(1, sizeof *m);
	struct sig0_key *pub = pub_of(k);
	CHECK(m != NULL && pub != NULL);
	if (m != NULL && pub != NULL)
		CHECK_EQ(parse_verify(m, resp, resplen, 0, pub), DS_EBADSIG);
	if (m != NULL)
		msg_clear(m);
	free(m);
	sig0_key_free(pub);
	sig0_key_free(k);
}

/* Mixed pair (.key of one key, .private of another) and missing files. */
static void test_keyfile_errors(const char *base_a, const char *base_b)
{
	char path[700], cmd[1600], why[256];
	struct sig0_key *k = NULL;
	snprintf(cmd, sizeof cmd, "cp %s.key %s/Kmix.key && cp %s.private %s/Kmix.private", base_b,
		 tmpdir, base_a, tmpdir);
	CHECK_EQ(system(cmd), 0);
	snprintf(path, sizeof path, "%s/Kmix", tmpdir);
	CHECK_EQ(sig0_key_read(path, &k, why, sizeof why), DS_EKEY);
	CHECK(k == NULL);
	snprintf(path, sizeof path, "%s/Knothere", tmpdir);
	CHECK_EQ(sig0_key_read(path, &k, why, sizeof why), DS_ENOENT);
	CHECK(strstr(why, "Knothere.key") != NULL);
	/* .key present, .private missing */
	snprintf(cmd, sizeof cmd, "cp %s.key %s/Khalf.key", base_a, tmpdir);
	CHECK_EQ(system(cmd), 0);
	snprintf(path, sizeof path, "%s/Khalf.key", tmpdir);
	CHECK_EQ(sig0_key_read(path, &k, why, sizeof why), DS_ENOENT);
	CHECK(k == NULL);
	/* a file that is not a KEY record */
	snprintf(path, sizeof path, "%s/notakey", tmpdir);
	FILE *f = fopen(path, "w");
	if (f != NULL) {
		fputs("; comment\nx.example. IN A 192.0.2.1\n", f);
		fclose(f);
	}
	uint8_t owner[DNAME_MAX], rd[512];
	size_t rdlen;
	CHECK_EQ(sig0_key_from_text(path, owner, rd, sizeof rd, &rdlen, why, sizeof why),
		 DS_EPARSE);
}

/* A SIG whose signer name is compressed is refused by sig0_rr_parse. */
static void test_compressed_signer(struct msg *m)
{
	uint8_t buf[512];
	size_t len = build_update(buf, sizeof buf, 9, 0);
	struct wbuf b;
	wbuf_init(&b, buf + len, sizeof buf - len);
	wbuf_u8(&b, 0);
	wbuf_u16(&b, T_SIG);
	wbuf_u16(&b, CLASS_ANY);
	wbuf_u32(&b, 0);
	wbuf_u16(&b, 18 + 2 + 64);
	wbuf_u16(&b, 0);
	wbuf_u8(&b, 15);
	wbuf_u8(&b, 0);
	wbuf_u32(&b, 0);
	wbuf_u32(&b, 200);
	wbuf_u32(&b, 100);
	wbuf_u16(&b, 1);
	wbuf_u8(&b, 0xc0); /* pointer to "example." at offset 12 */
	wbuf_u8(&b, 12);
	uint8_t junk[64] = {0};
	wbuf_bytes(&b, junk, 64);
	len += b.len;
	wr_u16(buf + 10, 1);
	struct sig0_rr s;
	int rc = msg_parse(m, buf, len);
	if (rc == DS_OK) {
		CHECK_EQ(m->nsig, 1);
		CHECK(sig0_rr_parse(m, m->sig_idx[0], &s) != DS_OK);
	}
	/* not a SIG at all */
	if (rc == DS_OK)
		CHECK_EQ(sig0_rr_parse(m, 0, &s), DS_EINVAL);
	msg_clear(m);
}

/*
 * Interop: nsupdate signs an UPDATE with the key; we catch the datagram on a
 * loopback socket and verify it.
 */
/*
 * Run BIND's nsupdate with the key pair base against a loopback socket of
 * ours and capture the UPDATE it sends into buf: its length, -1 when none
 * came, -2 when the socket or the script could not be made (already checked).
 */
static ssize_t nsupdate_capture(const char *base, uint8_t *buf, size_t cap)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof sa;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) != 0) {
		CHECK(!"loopback socket");
		if (fd >= 0)
			close(fd);
		return -2;
	}
	char script[600];
	snprintf(script, sizeof script, "%s.nsupdate", base);
	FILE *f = fopen(script, "w");
	if (f == NULL) {
		CHECK(!"script");
		close(fd);
		return -2;
	}
	fprintf(f,
		"server 127.0.0.1 %u\nzone example.\n"
		"update add child.example. 3600 NS ns1.other.\nsend\n",
		ntohs(sa.sin_port));
	fclose(f);

	char keyarg[600];
	snprintf(keyarg, sizeof keyarg, "%s.private", base);
	pid_t pid = fork();
	if (pid == 0) {
		int dn = open("/dev/null", 0);
		if (dn >= 0) {
			dup2(dn, 1);
			dup2(dn, 2);
		}
		execlp("nsupdate", "nsupdate", "-t", "5", "-k", keyarg, script, (char *)NULL);
		_exit(127);
	}
	ssize_t n = -1;
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	if (pid > 0 && poll(&pfd, 1, 10000) == 1)
		n = recv(fd, buf, cap, 0);
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	close(fd);
	return n;
}

static void test_nsupdate(const char *base, struct msg *m)
{
	uint8_t buf[65536];
	ssize_t n = nsupdate_capture(base, buf, sizeof buf);
	if (n == -2)
		return;
	CHECK(n > 0);
	if (n <= 0)
		return;

	struct sig0_key *k = NULL;
	char why[256];
	CHECK_EQ(sig0_key_read(base, &k, why, sizeof why), DS_OK);
	struct sig0_key *pub = k ? pub_of(k) : NULL;
	CHECK(pub != NULL);
	CHECK_EQ(msg_parse(m, buf, (size_t)n), DS_OK);
	CHECK_EQ(m->opcode, OP_UPDATE);
	CHECK_EQ(m->nsig, 1);
	if (pub != NULL && m->nsig == 1) {
		struct sig0_rr s;
		CHECK_EQ(sig0_rr_parse(m, m->sig_idx[0], &s), DS_OK);
		CHECK_EQ(s.key_tag, sig0_key_tag(pub));
		CHECK_EQ(s.alg, sig0_key_alg(pub));
		int rc = sig0_verify(m, 0, &s, pub);
		CHECK_EQ(rc, DS_OK);
		if (rc != DS_OK)
			fprintf(stderr, "  nsupdate SIG(0) with %s: %s\n", base, ds_strerror(rc));
		uint32_t now = (uint32_t)time(NULL);
		CHECK(s.inception <= now && s.expiration > now);
		/* and our own second signature over BIND's message */
		size_t len = (size_t)n;
		CHECK_EQ(sig0_sign(k, buf, &len, sizeof buf, now, now + 60, NULL, 0), DS_OK);
		CHECK_EQ(parse_verify(m, buf, len, 0, pub), DS_OK);
		CHECK_EQ(parse_verify(m, buf, len, 1, pub), DS_OK);
	}
	msg_clear(m);
	sig0_key_free(pub);
	sig0_key_free(k);
}

/* ---- key generation, BIND key files, timing metadata ---------------------------- */

/* Whole small file into buf (NUL-ended); length or -1. */
static long slurp(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	size_t n = fread(buf, 1, cap - 1, f);
	fclose(f);
	buf[n] = 0;
	return (long)n;
}

static int spew(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return -1;
	fputs(text, f);
	return fclose(f);
}

static unsigned file_mode(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (unsigned)(st.st_mode & 07777) : 07777;
}

/* Entries in dir whose name contains ".tmp" (left-over temporary files). */
static int tmp_leftovers(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;
	if (d == NULL)
		return -1;
	for (struct dirent *e; (e = readdir(d)) != NULL;)
		if (strstr(e->d_name, ".tmp") != NULL)
			n++;
	closedir(d);
	return n;
}

/* The public key from the .key file of prefix, as a verifier would build it. */
static struct sig0_key *pub_from_keyfile(const char *prefix)
{
	char path[800], why[256] = "";
	uint8_t owner[DNAME_MAX], rd[1024];
	size_t rdlen = 0;
	struct sig0_limits lim;
	struct sig0_key *p = NULL;
	snprintf(path, sizeof path, "%s.key", prefix);
	sig0_limits_default(&lim);
	if (sig0_key_from_text(path, owner, rd, sizeof rd, &rdlen, why, sizeof why) != DS_OK ||
	    sig0_key_new(owner, rd, rdlen, &lim, &p, why, sizeof why) != DS_OK)
		fprintf(stderr, "  %s: %s\n", path, why);
	return p;
}

/* Sign an UPDATE with k and verify it with pub: DS_OK or an error. */
static int sign_verify(const struct sig0_key *k, const struct sig0_key *pub, struct msg *m)
{
	uint8_t buf[2048];
	uint32_t now = (uint32_t)time(NULL);
	size_t len = build_update(buf, sizeof buf, 0x4242, 1);
	int rc = sig0_sign(k, buf, &len, sizeof buf, now - 60, now + 300, NULL, 0);
	if (rc == DS_OK)
		rc = parse_verify(m, buf, len, 0, pub);
	msg_clear(m);
	return rc;
}

/* Response signing against sig0_verify_response(), with and without the request. */
static void test_verify_response(const struct sig0_key *k, const struct sig0_key *pub,
				 struct msg *m)
{
	uint8_t req[1024], resp[1024], resp2[1024];
	size_t reqlen = build_update(req, sizeof req, 11, 1);
	CHECK_EQ(sig0_sign(k, req, &reqlen, sizeof req, 100, 400, NULL, 0), DS_OK);
	size_t rlen = build_update(resp, sizeof resp, 11, 1);
	resp[2] |= 0x80;
	memcpy(resp2, resp, rlen);
	size_t rlen2 = rlen;
	CHECK_EQ(sig0_sign(k, resp, &rlen, sizeof resp, 100, 400, req, reqlen), DS_OK);
	CHECK_EQ(sig0_sign(k, resp2, &rlen2, sizeof resp2, 100, 400, NULL, 0), DS_OK);

	struct sig0_rr s;
	static const struct {
		int with_req_sig; /* resp (over the request) or resp2 (response only) */
		int pass_req;	  /* 0: NULL, 1: the request, 2: a changed request, 3: shortened */
		int want;
	} t[] = {
	    {1, 1, DS_OK},	{1, 0, DS_EBADSIG}, {1, 2, DS_EBADSIG},
	    {1, 3, DS_EBADSIG}, {0, 0, DS_OK},	    {0, 1, DS_EBADSIG},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		uint8_t rq[1024];
		size_t rql = reqlen;
		memcpy(rq, req, reqlen);
		if (t[i].pass_req == 2)
			rq[reqlen / 2] ^= 0x20;
		if (t[i].pass_req == 3)
			rql--;
		const uint8_t *wire = t[i].with_req_sig ? resp : resp2;
		size_t wl = t[i].with_req_sig ? rlen : rlen2;
		CHECK_EQ(msg_parse(m, wire, wl), DS_OK);
		CHECK_EQ(sig0_rr_parse(m, m->sig_idx[0], &s), DS_OK);
		int rc = sig0_verify_response(m, 0, &s, pub, t[i].pass_req ? rq : NULL,
					      t[i].pass_req ? rql : 0);
		CHECK_EQ(rc, t[i].want);
		if (rc != t[i].want)
			fprintf(stderr, "  verify_response case %zu\n", i);
		if (t[i].pass_req == 0)
			CHECK_EQ(sig0_verify(m, 0, &s, pub), t[i].want);
		CHECK_EQ(sig0_verify_response(m, 1, &s, pub, rq, rql), DS_EINVAL);
		msg_clear(m);
	}
}

/* A new key k: its KEY RDATA, tag and owner; a second key is another key. */
static void keygen_check_new(const struct sig0_key *k, uint8_t alg, const uint8_t *owner,
			     size_t publen)
{
	struct sig0_key *k2 = NULL;
	char why[256] = "";
	size_t rdlen;
	const uint8_t *rd = sig0_key_rdata(k, &rdlen);
	CHECK_EQ(rdlen, 4 + publen);
	CHECK_EQ(rd_u16(rd), 512);
	CHECK_EQ(rd[2], 3);
	CHECK_EQ(rd[3], alg);
	CHECK_EQ(sig0_key_alg(k), alg);
	CHECK_EQ(sig0_key_tag(k), sig0_rdata_tag(rd, rdlen));
	CHECK(dname_equal(sig0_key_owner(k), owner));
	/* two keys are two keys */
	CHECK_EQ(sig0_key_generate(alg, owner, &k2, why, sizeof why), DS_OK);
	if (k2 != NULL) {
		size_t rl2;
		const uint8_t *rd2 = sig0_key_rdata(k2, &rl2);
		CHECK(rl2 == rdlen && memcmp(rd, rd2, rdlen) != 0);
		sig0_key_free(k2);
	}
}

/* The .key at path: the comment line, then the record of rd. */
static void keygen_check_keyfile(const char *path, const uint8_t *rd, size_t rdlen)
{
	char text[4096], want[2048], rdtext[1024];
	CHECK(slurp(path, text, sizeof text) > 0);
	CHECK_EQ(rr_rdata_to_str(T_KEY, rd, rdlen, rdtext, sizeof rdtext), DS_OK);
	snprintf(want, sizeof want,
		 "; This is a SIG(0) key for gen.example., created by dsyncd\n"
		 "gen.example. IN KEY %s\n",
		 rdtext);
	CHECK(strcmp(text, want) == 0);
	CHECK(strncmp(rdtext, "512 3 ", 6) == 0);
}

/* The .private of prefix holds a raw private key of privlen bytes. */
static void keygen_check_private(const char *text, size_t privlen)
{
	const char *pk = strstr(text, "PrivateKey: ");
	if (pk != NULL) {
		char b64[200];
		uint8_t raw[200];
		size_t bl = strcspn(pk + 12, "\n");
		CHECK(bl < sizeof b64);
		if (bl < sizeof b64) {
			memcpy(b64, pk + 12, bl);
			b64[bl] = 0;
			CHECK_EQ(b64_decode(b64, raw, sizeof raw), (long long)privlen);
		}
	}
}

/* Read back from prefix: the same key as k, signing and verifying. */
static void keygen_check_read(const struct sig0_key *k, const char *prefix, struct msg *m)
{
	char why[256] = "";
	size_t rdlen;
	const uint8_t *rd = sig0_key_rdata(k, &rdlen);
	struct sig0_key *r = NULL;
	int rc = sig0_key_read(prefix, &r, why, sizeof why);
	CHECK_EQ(rc, DS_OK);
	if (rc != DS_OK)
		fprintf(stderr, "  read %s: %s\n", prefix, why);
	struct sig0_key *pub = pub_from_keyfile(prefix);
	CHECK(pub != NULL);
	if (r != NULL && pub != NULL) {
		size_t rl;
		const uint8_t *rrd = sig0_key_rdata(r, &rl);
		CHECK(rl == rdlen && memcmp(rrd, rd, rdlen) == 0);
		CHECK_EQ(sig0_key_tag(r), sig0_key_tag(k));
		CHECK_EQ(sig0_key_tag(pub), sig0_key_tag(k));
		CHECK_EQ(sign_verify(r, pub, m), DS_OK);
		CHECK_EQ(sign_verify(k, pub, m), DS_OK);
		test_verify_response(k, pub, m);
	}
	sig0_key_free(pub);
	sig0_key_free(r);
}

static void test_keygen_alg(uint8_t alg, const char *name, size_t publen, size_t privlen,
			    mode_t mask, struct msg *m)
{
	char dir[600], prefix[700], path[800], text[4096], why[256] = "", want[2048];
	struct sig0_key *k = NULL;
	uint8_t owner[DNAME_MAX];
	fprintf(stderr, "  generate %s\n", name);
	dname_from_str("gen.example.", owner);
	snprintf(dir, sizeof dir, "%s/gen%u", tmpdir, alg);
	CHECK_EQ(mkdir(dir, 0755), 0);

	int rc = sig0_key_generate(alg, owner, &k, why, sizeof why);
	CHECK_EQ(rc, DS_OK);
	if (rc != DS_OK) {
		fprintf(stderr, "  %s\n", why);
		return;
	}
	size_t rdlen;
	const uint8_t *rd = sig0_key_rdata(k, &rdlen);
	keygen_check_new(k, alg, owner, publen);

	/* written under the given umask: the modes are exact all the same */
	struct sig0_key_times t = {.created = 1704164645,
				   .publish = 1704164646,
				   .activate = 1704250000,
				   .inactive = 0,
				   .removal = 2000000000};
	mode_t old = umask(mask);
	rc = sig0_key_write(k, dir, &t, prefix, sizeof prefix, why, sizeof why);
	umask(old);
	CHECK_EQ(rc, DS_OK);
	if (rc != DS_OK) {
		fprintf(stderr, "  write: %s\n", why);
		sig0_key_free(k);
		return;
	}
	snprintf(want, sizeof want, "%s/Kgen.example.+%03u+%05u", dir, alg, sig0_key_tag(k));
	CHECK(strcmp(prefix, want) == 0);
	snprintf(path, sizeof path, "%s.private", prefix);
	CHECK_EQ(file_mode(path), 0600);
	snprintf(path, sizeof path, "%s.key", prefix);
	CHECK_EQ(file_mode(path), 0644);
	CHECK_EQ(tmp_leftovers(dir), 0);

	keygen_check_keyfile(path, rd, rdlen);

	/* the .private: BIND's layout, the raw private key, the times set */
	snprintf(path, sizeof path, "%s.private", prefix);
	CHECK(slurp(path, text, sizeof text) > 0);
	snprintf(want, sizeof want,
		 "Private-key-format: v1.3\nAlgorithm: %u (%s)\nPrivateKey: ", alg, name);
	CHECK(strncmp(text, want, strlen(want)) == 0);
	keygen_check_private(text, privlen);
	CHECK(strstr(text, "\nCreated: 20240102030405\nPublish: 20240102030406\n"
			   "Activate: 20240103024640\nDelete: 20330518033320\n") != NULL);
	CHECK(strstr(text, "Inactive") == NULL);

	/* read back: the same key */
	keygen_check_read(k, prefix, m);

	struct sig0_key_times got;
	CHECK_EQ(sig0_key_times_read(prefix, &got), DS_OK);
	CHECK(memcmp(&got, &t, sizeof t) == 0);

	/* never overwrites a key */
	CHECK_EQ(sig0_key_write(k, dir, NULL, want, sizeof want, why, sizeof why), DS_EEXIST);
	char again[4096];
	CHECK(slurp(path, again, sizeof again) > 0 && strcmp(again, text) == 0);
	CHECK_EQ(tmp_leftovers(dir), 0);

	/* BIND's nsupdate loads the pair and signs with it; we verify that */
	test_nsupdate(prefix, m);
	sig0_key_free(k);
}

/*
 * The times block of path (prefix.private, text its content with all five
 * times) rewritten: lines we do not know stay where they are, the block
 * replaces the old one.  False when text has no times block.
 */
static bool times_check_edit(const char *dir, const char *prefix, const char *path,
			     const char *text)
{
	char after[4096], edited[4096], why[256];
	struct sig0_key_times got, t0 = {0};
	const char *times = strstr(text, "Created:");
	CHECK(times != NULL);
	if (times == NULL)
		return false;
	snprintf(edited, sizeof edited, "%.*sSyncPublish: 20240101000000\n%s; trailing note\n",
		 (int)(times - text), text, times);
	/* and an extra, older Publish: line further down is dropped too */
	strcat(edited, "publish: 20200101000000\nRevoke: whatever\n");
	CHECK_EQ(spew(path, edited), 0);
	chmod(path, 0640);
	CHECK_EQ(sig0_key_times_read(prefix, &got), DS_OK);
	CHECK_EQ(got.publish, 1577836800); /* the last Publish: line wins on read */
	struct sig0_key_times t2 = {.created = 1, .activate = 1700000000};
	CHECK_EQ(sig0_key_times_write(path, &t2), DS_OK);
	CHECK_EQ(file_mode(path), 0600);
	CHECK_EQ(tmp_leftovers(dir), 0);
	CHECK(slurp(path, after, sizeof after) > 0);
	snprintf(edited, sizeof edited,
		 "%.*sSyncPublish: 20240101000000\nCreated: 19700101000001\n"
		 "Activate: 20231114221320\n; trailing note\nRevoke: whatever\n",
		 (int)(times - text), text);
	CHECK(strcmp(after, edited) == 0);
	if (strcmp(after, edited) != 0)
		fprintf(stderr, "  rewrite gave:\n%s  want:\n%s", after, edited);
	CHECK_EQ(sig0_key_times_read(prefix, &got), DS_OK);
	CHECK(memcmp(&got, &t2, sizeof got) == 0);
	/* the key still loads */
	struct sig0_key *r = NULL;
	CHECK_EQ(sig0_key_read(prefix, &r, why, sizeof why), DS_OK);
	sig0_key_free(r);

	/* no timing line at all: the block goes at the end */
	snprintf(edited, sizeof edited, "%.*s", (int)(times - text), text);
	CHECK_EQ(spew(path, edited), 0);
	CHECK_EQ(sig0_key_times_write(path, &t2), DS_OK);
	CHECK(slurp(path, after, sizeof after) > 0);
	strcat(edited, "Created: 19700101000001\nActivate: 20231114221320\n");
	CHECK(strcmp(after, edited) == 0);
	/* a last line without its newline gets one */
	edited[strlen(edited) - 1] = 0;
	CHECK_EQ(spew(path, edited), 0);
	CHECK_EQ(sig0_key_times_write(path, &t0), DS_OK);
	CHECK(slurp(path, after, sizeof after) > 0);
	CHECK(strncmp(after, text, (size_t)(times - text)) == 0);
	CHECK_EQ(strlen(after), (size_t)(times - text));
	return true;
}

/* One Activate: line as read after "Created: 20240101000000". */
static const struct {
	const char *line;
	int want;
	int64_t activate;
} times_lines[] = {
    {"Activate: 20240102030405\n", DS_OK, 1704164645},
    {"Activate:20240102030405\n", DS_OK, 1704164645},
    {"activate:\t20240102030405 \r\n", DS_OK, 1704164645},
    {"Activate: 20240102030405", DS_OK, 1704164645},
    {"Activation: 2024\n", DS_OK, 0}, /* not ours */
    {"Foo: 1\n", DS_OK, 0},
    {"Activate: 2024010203040\n", DS_EPARSE, 0},
    {"Activate: 202401020304050\n", DS_EPARSE, 0},
    {"Activate: 2024010203040x\n", DS_EPARSE, 0},
    {"Activate: 20240231000000\n", DS_EPARSE, 0},
    {"Activate: 20241301000000\n", DS_EPARSE, 0},
    {"Activate: 20240101240000\n", DS_EPARSE, 0},
    {"Activate: 20240101006000\n", DS_EPARSE, 0},
    {"Activate: 19691231235959\n", DS_EPARSE, 0},
    {"Activate: 1704164645\n", DS_EPARSE, 0},
    {"Activate:\n", DS_EPARSE, 0},
    {"Activate: -20240102030405\n", DS_EPARSE, 0},
};

/* Values: out of range on write, malformed on read. */
static void times_check_values(const struct sig0_key *k, const char *path)
{
	char prefix[700], edited[4096], why[256], kline[900];
	struct sig0_key_times got, bad = {.publish = -5};
	CHECK_EQ(sig0_key_times_write(path, &bad), DS_ERANGE);
	bad.publish = 253402300800; /* year 10000 */
	CHECK_EQ(sig0_key_times_write(path, &bad), DS_ERANGE);
	CHECK_EQ(sig0_key_write(k, tmpdir, &bad, prefix, sizeof prefix, why, sizeof why),
		 DS_ERANGE);
	snprintf(kline, sizeof kline, "%s/Kline.private", tmpdir);
	for (size_t i = 0; i < sizeof times_lines / sizeof times_lines[0]; i++) {
		snprintf(edited, sizeof edited,
			 "Private-key-format: v1.3\nAlgorithm: 15 (ED25519)\n"
			 "Created: 20240101000000\n%s",
			 times_lines[i].line);
		CHECK_EQ(spew(kline, edited), 0);
		memset(&got, 0x55, sizeof got);
		int rc = sig0_key_times_read(kline, &got);
		CHECK_EQ(rc, times_lines[i].want);
		if (rc != times_lines[i].want)
			fprintf(stderr, "  times line %zu: %s", i, times_lines[i].line);
		CHECK_EQ(got.activate, times_lines[i].activate);
		CHECK_EQ(got.created, rc == DS_OK ? 1704067200 : 0);
	}
}

/* Missing files, a file that is not a key. */
static void times_check_missing(const struct sig0_key_times *t1)
{
	char path[900], after[4096];
	struct sig0_key_times got;
	snprintf(path, sizeof path, "%s/Kmissing", tmpdir);
	CHECK_EQ(sig0_key_times_read(path, &got), DS_ENOENT);
	CHECK_EQ(sig0_key_times_write(path, t1), DS_ENOENT);
	snprintf(path, sizeof path, "%s/Knotkey.private", tmpdir);
	CHECK_EQ(spew(path, "hello\nCreated: 20240101000000\n"), 0);
	CHECK_EQ(sig0_key_times_write(path, t1), DS_EPARSE);
	CHECK(slurp(path, after, sizeof after) > 0 &&
	      strcmp(after, "hello\nCreated: 20240101000000\n") == 0);
}

/* BIND writes the times, we read them. */
static void times_check_bind(const char *dir, struct msg *m)
{
	char cmd[1024], out[256] = "", path[900];
	struct sig0_key_times got;
	snprintf(cmd, sizeof cmd,
		 "dnssec-keygen -q -K %s -T KEY -a ED25519 -n HOST -P 20300102030405 "
		 "-A 20310102030405 -I 20320102030405 -D 20330102030405 bind.example. "
		 "2>/dev/null",
		 dir);
	FILE *p = popen(cmd, "r");
	if (p != NULL && fgets(out, sizeof out, p) == NULL)
		out[0] = 0;
	int st = p != NULL ? pclose(p) : -1;
	out[strcspn(out, "\r\n")] = 0;
	CHECK(st == 0 && out[0] == 'K');
	if (st != 0 || out[0] != 'K')
		return;
	snprintf(path, sizeof path, "%s/%s", dir, out);
	CHECK_EQ(sig0_key_times_read(path, &got), DS_OK);
	CHECK(got.created > 1700000000);
	CHECK_EQ(got.publish, 1893553445);
	CHECK_EQ(got.activate, 1925089445);
	CHECK_EQ(got.inactive, 1956625445);
	CHECK_EQ(got.removal, 1988247845);
	/* our rewrite of BIND's file still loads in BIND's nsupdate */
	struct sig0_key_times tb = got;
	tb.activate = 1;
	tb.inactive = 0;
	CHECK_EQ(sig0_key_times_write(path, &tb), DS_OK);
	CHECK_EQ(sig0_key_times_read(path, &got), DS_OK);
	CHECK(memcmp(&got, &tb, sizeof got) == 0);
	test_nsupdate(path, m);
}

/* Time values: round trips, the rewrite, malformed lines, BIND's own files. */
static void test_key_times(struct msg *m)
{
	char dir[600], prefix[700], path[900], text[4096], why[256];
	struct sig0_key *k = NULL;
	uint8_t owner[DNAME_MAX];
	dname_from_str("times.example.", owner);
	snprintf(dir, sizeof dir, "%s/times", tmpdir);
	CHECK_EQ(mkdir(dir, 0700), 0);
	CHECK_EQ(sig0_key_generate(ALG_ED25519, owner, &k, why, sizeof why), DS_OK);
	if (k == NULL)
		return;

	/* no times at all */
	struct sig0_key_times t0 = {0}, got;
	CHECK_EQ(sig0_key_write(k, dir, NULL, prefix, sizeof prefix, why, sizeof why), DS_OK);
	snprintf(path, sizeof path, "%s.private", prefix);
	memset(&got, 0x55, sizeof got);
	CHECK_EQ(sig0_key_times_read(path, &got), DS_OK);
	CHECK(memcmp(&got, &t0, sizeof got) == 0);

	/* all five set, then rewritten: order and other lines kept */
	struct sig0_key_times t1 = {1, 86400, 951782400 /* 2000-02-29 */, 4102444800, 253402300799};
	CHECK_EQ(sig0_key_times_write(prefix, &t1), DS_OK);
	CHECK_EQ(sig0_key_times_read(prefix, &got), DS_OK);
	CHECK(memcmp(&got, &t1, sizeof got) == 0);
	CHECK(slurp(path, text, sizeof text) > 0);
	CHECK(strstr(text, "\nCreated: 19700101000001\nPublish: 19700102000000\n"
			   "Activate: 20000229000000\nInactive: 21000101000000\n"
			   "Delete: 99991231235959\n") != NULL);
	CHECK_EQ(file_mode(path), 0600);

	if (times_check_edit(dir, prefix, path, text)) {
		times_check_values(k, path);
		times_check_missing(&t1);
		times_check_bind(dir, m);
	}
	sig0_key_free(k);
}

static void test_keygen(struct msg *m)
{
	static const struct {
		uint8_t alg;
		const char *name;
		size_t publen, privlen;
		mode_t umask;
	} algs[] = {
	    {ALG_ED25519, "ED25519", 32, 32, 0},
	    {ALG_ED448, "ED448", 57, 57, 077},
	    {ALG_ECDSAP256SHA256, "ECDSAP256SHA256", 64, 32, 002},
	    {ALG_ECDSAP384SHA384, "ECDSAP384SHA384", 96, 48, 0},
	};
	for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++)
		test_keygen_alg(algs[i].alg, algs[i].name, algs[i].publen, algs[i].privlen,
				algs[i].umask, m);

	/* what we do not generate or write */
	struct sig0_key *k = NULL;
	uint8_t owner[DNAME_MAX];
	char why[256] = "", base[512], prefix[700];
	dname_from_str("gen.example.", owner);
	static const uint8_t nogen[] = {ALG_RSASHA256, ALG_RSASHA512, ALG_RSASHA1, ALG_DSA, 0, 99};
	for (size_t i = 0; i < sizeof nogen; i++) {
		CHECK_EQ(sig0_key_generate(nogen[i], owner, &k, why, sizeof why), DS_ENOTSUP);
		CHECK(k == NULL);
	}
	CHECK(strstr(why, "ALG99") != NULL);
	CHECK_EQ(sig0_key_generate(ALG_ED25519, NULL, &k, why, sizeof why), DS_EINVAL);
	if (keygen("RSASHA256", 2048, "rsa.example.", base, sizeof base) == 0 &&
	    sig0_key_read(base, &k, why, sizeof why) == DS_OK) {
		CHECK_EQ(sig0_key_write(k, tmpdir, NULL, prefix, sizeof prefix, why, sizeof why),
			 DS_ENOTSUP);
		sig0_key_free(k);
		k = NULL;
	} else {
		CHECK(!"RSA key for the write test");
	}

	/* a name that would leave the folder, a prefix buffer too small, no folder */
	dname_from_str("a\\/..\\/b.example.", owner);
	CHECK_EQ(sig0_key_generate(ALG_ED25519, owner, &k, why, sizeof why), DS_OK);
	if (k != NULL) {
		CHECK_EQ(sig0_key_write(k, tmpdir, NULL, prefix, sizeof prefix, why, sizeof why),
			 DS_EINVAL);
		sig0_key_free(k);
		k = NULL;
	}
	dname_from_str("small.example.", owner);
	CHECK_EQ(sig0_key_generate(ALG_ED25519, owner, &k, why, sizeof why), DS_OK);
	if (k != NULL) {
		CHECK_EQ(sig0_key_write(k, tmpdir, NULL, prefix, 20, why, sizeof why), DS_ELIMIT);
		char nodir[600];
		snprintf(nodir, sizeof nodir, "%s/no/such/dir", tmpdir);
		CHECK_EQ(sig0_key_write(k, nodir, NULL, prefix, sizeof prefix, why, sizeof why),
			 DS_ENOENT);
		CHECK(strstr(why, nodir) != NULL);
		/* a trailing slash on the folder is not doubled */
		char slash[600];
		snprintf(slash, sizeof slash, "%s/", tmpdir);
		CHECK_EQ(sig0_key_write(k, slash, NULL, prefix, sizeof prefix, why, sizeof why),
			 DS_OK);
		CHECK(strstr(prefix, "//") == NULL);
		sig0_key_free(k);
	}
	test_key_times(m);
}

/*
 * The key cache past its first buckets (4096, grown at two keys a bucket):
 * 20,000 keys of their own children, each found by (signer, algorithm,
 * tag) as itself and only itself, a second put of one adds nothing.
 */
static void test_keycache_many(void)
{
	enum { NKEYS = 20000 };
	struct keycache *kc = NULL;
	struct sig0_limits lim;
	static struct store_key k;
	const struct key_entry *got[2];
	char name[64];
	int bad = 0;

	sig0_limits_default(&lim);
	CHECK_EQ(keycache_new(&kc), DS_OK);
	if (kc == NULL)
		return;
	k.alg = 15;
	k.rdlen = 36;
	k.rdata[0] = 2; /* flags 512, protocol 3, algorithm 15, 32 key octets */
	k.rdata[2] = 3;
	k.rdata[3] = 15;
	k.state = KEY_TRUSTED;
	for (int i = 0; i < NKEYS && bad == 0; i++) {
		snprintf(name, sizeof(name), "k%d.example.", i);
		bad |= dname_from_str(name, k.owner) <= 0;
		memcpy(k.rdata + 4, &i, sizeof(i));
		k.id = i + 1;
		k.tag = (uint16_t)(i * 7);
		bad |= keycache_put(kc, &k, &lim) != DS_OK;
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(keycache_put(kc, &k, &lim), DS_OK); /* the last one again */
	CHECK_EQ(keycache_count(kc), (size_t)NKEYS);
	for (int i = 0; i < NKEYS; i++) {
		snprintf(name, sizeof(name), "K%d.EXAMPLE.", i);
		dname_from_str(name, k.owner);
		if (keycache_find(kc, k.owner, 15, (uint16_t)(i * 7), got, 2) != 1 ||
		    got[0]->key_id != i + 1)
			bad++;
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(keycache_find(kc, k.owner, 15, 1, got, 2), 0u);
	keycache_free(kc);
}

int main(void)
{
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	struct msg *m = calloc(1, sizeof *m);
	if (m == NULL)
		return 1;

	test_names_limits();
	test_key_tag_vectors();
	test_key_limits();
	test_keycache_many();

	static const struct {
		const char *name;
		uint8_t alg;
		int bits;
	} algs[] = {
	    {"RSASHA256", 8, 2048},	{"RSASHA512", 10, 2048}, {"ECDSAP256SHA256", 13, 0},
	    {"ECDSAP384SHA384", 14, 0}, {"ED25519", 15, 0},	 {"ED448", 16, 0},
	};
	for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++)
		test_alg(algs[i].name, algs[i].alg, algs[i].bits, m);

	test_compressed_signer(m);

	/* interop with BIND's nsupdate, and the remaining key-file cases */
	static const struct {
		const char *name;
		int bits;
	} interop[] = {{"ED25519", 0}, {"ECDSAP256SHA256", 0}, {"RSASHA256", 2048}};
	char base[512], other[512];
	for (size_t i = 0; i < sizeof interop / sizeof interop[0]; i++) {
		if (keygen(interop[i].name, interop[i].bits, "child.example.", base, sizeof base) !=
		    0) {
			CHECK(!"dnssec-keygen failed");
			continue;
		}
		fprintf(stderr, "  nsupdate %s\n", interop[i].name);
		test_nsupdate(base, m);
		if (i == 0) {
			test_response_sign(base);
			if (keygen("ED25519", 0, "child.example.", other, sizeof other) == 0)
				test_keyfile_errors(base, other);
			else
				CHECK(!"dnssec-keygen failed");
		}
	}

	test_keygen(m);

	free(m);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
	UNIT_DONE("test_sig0");
}

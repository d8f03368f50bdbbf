/*
 * tests/fuzz/gen_corpus.c -- writes the seed corpus of each fuzz target into
 * corpus/<target>/ (run from tests/fuzz; `make corpus`).  Seeds are small,
 * hand-built inputs: valid UPDATEs with compression, and the malformed
 * shapes the parser must refuse.  Inputs found by fuzzing are kept next to
 * them as crash-* files and are not touched here.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/dname.h"
#include "common/dns.h"
#include "common/msg.h"
#include "common/wire.h"
#include "tests/fuzz/pipeline_keys.h"

static int failures;

static void put(const char *dir, const char *name, const void *p, size_t n)
{
	char path[512];
	snprintf(path, sizeof(path), "corpus/%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (f == NULL || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
		perror(path);
		failures++;
	}
}

/* ---- msg ---- */

static void name(struct wbuf *b, const char *text)
{
	uint8_t w[DNAME_MAX];
	int n = dname_from_str(text, w);
	if (n <= 0)
		abort();
	wbuf_bytes(b, w, (size_t)n);
}

static void hdr(struct wbuf *b, uint16_t qd, uint16_t an, uint16_t ns, uint16_t ar)
{
	wbuf_u16(b, 0x4242);
	wbuf_u16(b, OP_UPDATE << 11);
	wbuf_u16(b, qd);
	wbuf_u16(b, an);
	wbuf_u16(b, ns);
	wbuf_u16(b, ar);
}

static void rrhead(struct wbuf *b, uint16_t type, uint16_t rclass, uint32_t ttl, uint16_t rdlen)
{
	wbuf_u16(b, type);
	wbuf_u16(b, rclass);
	wbuf_u32(b, ttl);
	wbuf_u16(b, rdlen);
}

#define SIG0_RD                                                                          \
	"\x00\x00\x0d\x00" "\x00\x00\x00\x00" "\x68\x00\x00\x00" "\x67\x00\x00\x00" "\x12\x34" \
	"\x05" "child" "\x07" "example" "\x00" "0123456789abcdef0123456789abcdef"
#define SIG0_LEN (sizeof(SIG0_RD) - 1)

static void opt(struct wbuf *b)
{
	wbuf_u8(b, 0);
	rrhead(b, T_OPT, 1232, 0x8000, 0);
}

static void sig0(struct wbuf *b)
{
	wbuf_u8(b, 0);
	rrhead(b, T_SIG, CLASS_ANY, 0, SIG0_LEN);
	wbuf_bytes(b, SIG0_RD, SIG0_LEN);
}

/* zone example., one NS update (compressed), then extra additional records. */
enum extra { X_NONE, X_OPT_SIG0, X_SIG0_OPT, X_3SIG0, X_2OPT, X_TSIG, X_SIG0_TSIG };

static size_t update(uint8_t *buf, size_t cap, enum extra x)
{
	/* the additional records of each: o OPT, s SIG(0), t TSIG */
	static const char *const extras[] = {"", "os", "so", "sss", "oo", "t", "st"};
	struct wbuf b;
	wbuf_init(&b, buf, cap);
	hdr(&b, 1, 0, 2, (uint16_t)strlen(extras[x]));
	name(&b, "example."); /* at 12 */
	wbuf_u16(&b, T_SOA);
	wbuf_u16(&b, CLASS_IN);
	wbuf_bytes(&b, "\x05" "child" "\xc0\x0c", 8); /* at 25 */
	rrhead(&b, T_NS, CLASS_IN, 3600, 6);
	wbuf_bytes(&b, "\x03" "ns1" "\xc0\x19", 6);
	wbuf_bytes(&b, "\x03" "ns1" "\xc0\x19", 6);
	rrhead(&b, T_A, CLASS_IN, 3600, 4);
	wbuf_bytes(&b, "\xc0\x00\x02\x01", 4);
	for (const char *r = extras[x]; *r; r++) {
		if (*r == 'o') {
			opt(&b);
		} else if (*r == 's') {
			sig0(&b);
		} else {
			name(&b, "key.");
			rrhead(&b, T_TSIG, CLASS_ANY, 0, 4);
			wbuf_bytes(&b, "\x00\x00\x00\x00", 4);
		}
	}
	if (b.err)
		abort();
	return b.len;
}

/* An UPDATE of zone example. with nupd update records, the first owner
 * written as a pointer to the zone name: the caller goes on with its type. */
static void zone_update(struct wbuf *b, uint8_t *buf, size_t cap, uint16_t nupd)
{
	wbuf_init(b, buf, cap);
	hdr(b, 1, 0, nupd, 0);
	name(b, "example."); /* root label at 20 */
	wbuf_u16(b, T_SOA);
	wbuf_u16(b, CLASS_IN);
	wbuf_bytes(b, "\xc0\x0c", 2);
}

/* MX with a one-byte RDATA as the last record */
static void gen_msg_mx_short(uint8_t *buf, size_t cap)
{
	struct wbuf b;
	zone_update(&b, buf, cap, 1);
	rrhead(&b, T_MX, CLASS_IN, 0, 1);
	wbuf_u8(&b, 0);
	put("msg", "bad-mx-short-rdata", buf, b.len);
}

/* SOA update with compressed MNAME/RNAME, and NS RDATA with two names */
static void gen_msg_soa_ns(uint8_t *buf, size_t cap)
{
	struct wbuf b;
	zone_update(&b, buf, cap, 2);
	rrhead(&b, T_SOA, CLASS_IN, 0, 6 + 2 + 20);
	wbuf_bytes(&b, "\x03" "ns1" "\xc0\x0c", 6);
	wbuf_bytes(&b, "\xc0\x0c", 2);
	wbuf_bytes(&b, "01234567890123456789", 20);
	wbuf_bytes(&b, "\xc0\x0c", 2);
	rrhead(&b, T_NS, CLASS_IN, 0, 4);
	wbuf_bytes(&b, "\xc0\x0c\xc0\x0c", 4);
	put("msg", "bad-ns-two-names", buf, b.len);
}

static void put_pointer(struct wbuf *b, size_t to)
{
	wbuf_u8(b, (uint8_t)(0xc0 | to >> 8));
	wbuf_u8(b, (uint8_t)to);
}

/* a long chain of pointers to pointers, then names that end in it */
static void gen_msg_pointer_chain(uint8_t *buf, size_t cap)
{
	struct wbuf b;
	zone_update(&b, buf, cap, 2);
	rrhead(&b, T_NULL, CLASS_IN, 0, 2000);
	size_t prev = 20;
	for (int i = 0; i < 1000; i++) {
		size_t here = b.len;
		put_pointer(&b, prev);
		prev = here;
	}
	put_pointer(&b, prev);
	rrhead(&b, T_NS, CLASS_IN, 0, 2);
	put_pointer(&b, prev);
	put("msg", "bad-pointer-chain", buf, b.len);
}

/* a query with EDNS(0) */
static void gen_msg_query(uint8_t *buf, size_t cap)
{
	struct wbuf b;
	wbuf_init(&b, buf, cap);
	wbuf_u16(&b, 1);
	wbuf_u16(&b, MSG_RD);
	wbuf_u16(&b, 1);
	wbuf_u16(&b, 0);
	wbuf_u16(&b, 0);
	wbuf_u16(&b, 1);
	name(&b, "_dsync.example.");
	wbuf_u16(&b, T_DSYNC);
	wbuf_u16(&b, CLASS_IN);
	wbuf_u8(&b, 0);
	rrhead(&b, T_OPT, 4096, 0x8000, 8);
	wbuf_bytes(&b,
		   "\xfd\xea\x00\x04"
		   "abcd",
		   8);
	put("msg", "query-dsync-edns", buf, b.len);
}

/* Hand-made shapes that update() does not make. */
static void gen_msg_shapes(uint8_t *buf, size_t cap)
{
	gen_msg_mx_short(buf, cap);
	gen_msg_soa_ns(buf, cap);
	/* 257 zone entries: over MSG_MAX_RRS */
	memset(buf, 0, 12 + 257 * 5);
	wr_u16(buf + 4, 257);
	put("msg", "bad-too-many-rrs", buf, 12 + 257 * 5);
	gen_msg_pointer_chain(buf, cap);
	gen_msg_query(buf, cap);
}

static void gen_msg(void)
{
	uint8_t buf[65536];
	size_t n;
	static const struct {
		const char *file;
		enum extra x;
	} ups[] = {
		{"update-plain", X_NONE},        {"update-opt-sig0", X_OPT_SIG0},
		{"bad-sig0-before-opt", X_SIG0_OPT}, {"bad-three-sig0", X_3SIG0},
		{"bad-two-opt", X_2OPT},         {"update-tsig", X_TSIG},
		{"bad-sig0-and-tsig", X_SIG0_TSIG},
	};
	for (size_t i = 0; i < sizeof(ups) / sizeof(ups[0]); i++)
		put("msg", ups[i].file, buf, update(buf, sizeof(buf), ups[i].x));

	n = update(buf, sizeof(buf), X_OPT_SIG0);
	put("msg", "bad-short-header", buf, 11);
	put("msg", "bad-cut-last-byte", buf, n - 1);
	buf[n] = 0;
	put("msg", "bad-trailing-byte", buf, n + 1);
	n = update(buf, sizeof(buf), X_NONE);
	buf[7] = 9; /* prerequisite count */
	put("msg", "bad-counts", buf, n);

	/* owner pointers: forward, self, a pair, label-pointer loop */
	n = update(buf, sizeof(buf), X_NONE);
	buf[48] = 0xff; /* NS RDATA "\x03ns1" + pointer: now forward */
	put("msg", "bad-forward-pointer", buf, n);
	n = update(buf, sizeof(buf), X_NONE);
	buf[32] = 0x19; /* owner "\x05child" + pointer back to itself (25) */
	put("msg", "bad-label-pointer-loop", buf, n);

	gen_msg_shapes(buf, sizeof(buf));
}

/* ---- dname: text names; the same bytes are also read as wire ---- */

static void gen_dname(void)
{
	static const char *texts[] = {
		"example.com.", "Example.COM", ".", "a\\.b\\032c.", "\\$\\@\\;\\(\\)\\\"\\\\.x",
		"\\300", "a..b", "\\000\\255.\\127", "*._dsync.child.example.", "",
	};
	char file[32];
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		snprintf(file, sizeof(file), "text-%02zu", i);
		put("dname", file, texts[i], strlen(texts[i]));
	}
	char s[400];
	memset(s, 'a', 63);
	strcpy(s + 63, ".b");
	put("dname", "label-63", s, strlen(s));
	memset(s, 'a', 64);
	strcpy(s + 64, ".b");
	put("dname", "label-64", s, strlen(s));
	s[0] = '\0';
	for (int i = 0; i < 127; i++)
		strcat(s, "x.");
	put("dname", "labels-127", s, strlen(s));
	strcat(s, "y");
	put("dname", "labels-128", s, strlen(s));
	/* wire shapes: offset byte, then a compressed name */
	static const uint8_t w1[] = {6, 3, 'f', 'o', 'o', 0, 1, 'x', 0xc0, 0x00};
	put("dname", "wire-pointer", w1, sizeof(w1));
	static const uint8_t w2[] = {0, 0xc0, 0x00};
	put("dname", "wire-self-pointer", w2, sizeof(w2));
	static const uint8_t w3[] = {2, 1, 'a', 0xc0, 0x00};
	put("dname", "wire-label-loop", w3, sizeof(w3));
}

/* ---- rrtext: type (2), small output size (1), RDATA ---- */

static void rt(const char *file, uint16_t type, uint8_t small, const void *rd, size_t n)
{
	uint8_t buf[600];
	wr_u16(buf, type);
	buf[2] = small;
	memcpy(buf + 3, rd, n);
	put("rrtext", file, buf, n + 3);
}

static void gen_rrtext(void)
{
	rt("a", T_A, 20, "\xc0\x00\x02\x01", 4);
	rt("a-short-out", T_A, 3, "\xc0\x00\x02\x01", 4);
	rt("a-bad-len", T_A, 20, "\xc0\x00\x02", 3);
	rt("aaaa", T_AAAA, 60, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	rt("ns", T_NS, 40, "\x03" "ns1" "\x05" "child" "\x07" "example" "\x00", 20);
	rt("ns-escapes", T_NS, 40, "\x05" "a.b$@" "\x02" "\x00\xff" "\x00", 10);
	rt("ns-no-root", T_NS, 40, "\x03" "ns1", 4);
	rt("ns-label-past-end", T_NS, 40, "\x09" "ns1", 4);
	rt("ns-trailing", T_NS, 40, "\x00" "junk", 5);
	rt("ds", T_DS, 30, "\x30\x39\x0d\x02" "0123456789abcdef0123456789abcdef", 36);
	rt("cds-short", T_CDS, 30, "\x30\x39\x0d\x02", 4);
	rt("key", T_KEY, 30, "\x02\x00\x03\x0d" "0123456789abcdef0123456789abcdef", 36);
	rt("dnskey-short-out", T_DNSKEY, 12, "\x01\x01\x03\x0f" "0123456789abcdef", 20);
	rt("unknown", 65280, 10, "\x01\x02\x03", 3);
	rt("unknown-empty", 0, 0, "", 0);
	rt("txt", 16, 255, "\x05" "hello", 6);
}

/* ---- pipeline: a mode byte, then the message (see fuzz_pipeline.c) ---- */

enum { PM_RAW = 0, PM_C1 = 1, PM_C2 = 2, PM_C3 = 3, PM_TCP = 4 };

struct pmsg {
	uint8_t buf[4096];
	struct wbuf b;
	uint16_t count[4];
	size_t counts_at;
};

static void pm_start(struct pmsg *p, unsigned mode, unsigned opcode, const char *zone,
		     uint16_t ztype)
{
	wbuf_init(&p->b, p->buf, sizeof(p->buf));
	wbuf_u8(&p->b, (uint8_t)mode);
	wbuf_u16(&p->b, 0x4242);
	wbuf_u16(&p->b, (uint16_t)(opcode << 11));
	p->counts_at = p->b.len;
	for (int s = 0; s < 4; s++)
		wbuf_u16(&p->b, 0);
	memset(p->count, 0, sizeof(p->count));
	name(&p->b, zone);
	wbuf_u16(&p->b, ztype);
	wbuf_u16(&p->b, CLASS_IN);
	p->count[0] = 1;
}

static void pm_rr(struct pmsg *p, int sec, const char *owner, uint16_t type, uint16_t rclass,
		  uint32_t ttl, const void *rd, uint16_t rdlen)
{
	name(&p->b, owner);
	rrhead(&p->b, type, rclass, ttl, rdlen);
	wbuf_bytes(&p->b, rd, rdlen);
	p->count[sec]++;
}

static void pm_opt(struct pmsg *p, const void *opts, uint16_t len)
{
	wbuf_u8(&p->b, 0);
	rrhead(&p->b, T_OPT, 1232, 0, len);
	wbuf_bytes(&p->b, opts, len);
	p->count[3]++;
}

static void pm_put(struct pmsg *p, const char *file)
{
	for (int s = 0; s < 4; s++) {
		p->buf[p->counts_at + 2 * s] = (uint8_t)(p->count[s] >> 8);
		p->buf[p->counts_at + 2 * s + 1] = (uint8_t)p->count[s];
	}
	if (p->b.err)
		abort();
	put("pipeline", file, p->buf, p->b.len);
}

#define NS1 "\x03" "ns1" "\x08" "provider" "\x03" "net" "\x00"
#define NS2 "\x03" "ns2" "\x08" "provider" "\x03" "org" "\x00"
#define NS_IN "\x03" "ns1" "\x02" "c1" "\x07" "example" "\x00"
#define DS_RD "\x30\x39\x0f\x02" "0123456789abcdef0123456789abcdef"

/* RFC 4034 appendix B key tag */
static uint16_t key_tag(const uint8_t *rd, size_t n)
{
	uint32_t ac = 0;
	for (size_t i = 0; i < n; i++)
		ac += (i & 1) ? rd[i] : (uint32_t)rd[i] << 8;
	ac += ac >> 16;
	return (uint16_t)ac;
}

/* A KeyState option (code 65002) asking about the key with tag `tag`. */
static void pm_ks_opt(struct pmsg *p, uint16_t tag)
{
	const uint8_t o[] = {0xfd, 0xea, 0, 4, (uint8_t)(tag >> 8), (uint8_t)tag, 2, 0};
	pm_opt(p, o, sizeof(o));
}

/* Key rollover, upload and KeyState inquiries. */
static void gen_pipeline_keys(uint8_t key[FP_NKEYS][FP_KEY_RDLEN], const uint16_t tag[FP_NKEYS])
{
	struct pmsg p;
	/* a rollover: c1 adds its second key (then signs with it: mode 3) */
	pm_start(&p, PM_C1, OP_UPDATE, "example.", T_SOA);
	pm_rr(&p, 2, "c1.example.", T_KEY, CLASS_IN, 3600, key[FP_C3], FP_KEY_RDLEN);
	pm_opt(&p, "", 0);
	pm_put(&p, "c1-rollover-add");
	pm_start(&p, PM_C3, OP_UPDATE, "example.", T_SOA);
	pm_rr(&p, 2, "c1.example.", T_KEY, CLASS_NONE, 0, key[FP_C1], FP_KEY_RDLEN);
	pm_put(&p, "c3-rollover-remove");
	/* a self-signed upload of c2's key, with a KeyState option */
	pm_start(&p, PM_C2, OP_UPDATE, "example.", T_SOA);
	pm_rr(&p, 2, "c2.example.", T_KEY, CLASS_ANY, 0, "", 0);
	pm_rr(&p, 2, "c2.example.", T_KEY, CLASS_IN, 3600, key[FP_C2], FP_KEY_RDLEN);
	pm_ks_opt(&p, tag[FP_C2]);
	pm_put(&p, "c2-upload-keystate");
	/* KeyState inquiries: signed by c1, and unsigned */
	pm_start(&p, PM_C1, OP_QUERY, "c1.example.", T_KEY);
	pm_ks_opt(&p, tag[FP_C1]);
	pm_put(&p, "c1-keystate-inquiry");
	pm_start(&p, PM_C2, OP_QUERY, "c2.example.", T_KEY);
	pm_ks_opt(&p, tag[FP_C2]);
	pm_put(&p, "c2-keystate-inquiry-unknown");
	pm_start(&p, PM_RAW, OP_QUERY, "c2.example.", T_KEY);
	pm_opt(&p, "\xfd\xea\x00\x04\x00\x00\x00\x00", 8);
	pm_put(&p, "keystate-unsigned-malformed");
}

/* No crypto, unsigned, not authoritative, malformed. */
static void gen_pipeline_others(void)
{
	struct pmsg p;
	/* other opcodes and queries: no crypto */
	pm_start(&p, PM_C1, 4 /* NOTIFY */, "example.", T_SOA);
	pm_put(&p, "notify-signed");
	pm_start(&p, PM_RAW, OP_QUERY, "example.", T_SOA);
	pm_opt(&p, "", 0);
	pm_put(&p, "query");
	/* unsigned UPDATE; a zone not served here */
	pm_start(&p, PM_RAW, OP_UPDATE, "example.", T_SOA);
	pm_rr(&p, 2, "c1.example.", T_NS, CLASS_IN, 3600, NS1, sizeof(NS1) - 1);
	pm_opt(&p, "", 0);
	pm_put(&p, "unsigned-update");
	pm_start(&p, PM_C1, OP_UPDATE, "other.", T_SOA);
	pm_rr(&p, 2, "c1.other.", T_NS, CLASS_IN, 3600, NS1, sizeof(NS1) - 1);
	pm_put(&p, "notauth");
	/* the audit-writer overread: an update record that declares 19 bytes
	 * of RDATA and carries 12, as NS and as an unknown type */
	static const uint8_t overread[] = {
	    0x27, 0x82, 0x28, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x07,
	    'e',  'x',	'a',  'm',  'p',  'l',	'e',  0x00, 0x00, 0x06, 0x00, 0x01, 0x02,
	    'c',  '1',	0xc0, 0x0c, 0x00, 0x02, 0x00, 0x01, 0x00, 0x00, 0x0e, 0x10, 0x00,
	    0x13, 0x03, 'n',  's',  '1',  0x09, 'e',  'l',	's',  'e',  'w',  'h',	'e'};
	uint8_t o[1 + sizeof(overread)];
	o[0] = PM_RAW;
	memcpy(o + 1, overread, sizeof(overread));
	put("pipeline", "formerr-overread-ns", o, sizeof(o));
	o[1 + 30] = 0xff;
	put("pipeline", "formerr-overread-unknown-type", o, sizeof(o));
	/* SIG(0) before OPT: FORMERR that still carries an EDE */
	uint8_t m[600];
	m[0] = PM_RAW;
	size_t n = update(m + 1, sizeof(m) - 1, X_SIG0_OPT);
	put("pipeline", "formerr-sig0-before-opt", m, n + 1);
}

static void gen_pipeline(void)
{
	struct pmsg p;
	uint8_t key[FP_NKEYS][FP_KEY_RDLEN];
	uint16_t tag[FP_NKEYS];
	for (int i = 0; i < FP_NKEYS; i++) {
		EVP_PKEY_free(fp_key(i, key[i]));
		tag[i] = key_tag(key[i], FP_KEY_RDLEN);
	}

	/* accepted changes by the trusted key, over UDP and TCP */
	for (unsigned tcp = 0; tcp <= PM_TCP; tcp += PM_TCP) {
		pm_start(&p, PM_C1 | tcp, OP_UPDATE, "example.", T_SOA);
		pm_rr(&p, 2, "c1.example.", T_NS, CLASS_IN, 3600, NS1, sizeof(NS1) - 1);
		pm_rr(&p, 2, "c1.example.", T_NS, CLASS_IN, 3600, NS2, sizeof(NS2) - 1);
		pm_opt(&p, "", 0);
		pm_put(&p, tcp ? "c1-add-ns-tcp" : "c1-add-ns");
	}
	/* in-bailiwick NS with glue, a DS, and prerequisites of every form */
	pm_start(&p, PM_C1, OP_UPDATE, "example.", T_SOA);
	pm_rr(&p, 1, "c1.example.", T_NS, CLASS_ANY, 0, "", 0);	  /* yxrrset */
	pm_rr(&p, 1, "x.c1.example.", T_ANY, CLASS_NONE, 0, "", 0); /* nxdomain */
	pm_rr(&p, 1, "c1.example.", T_DS, CLASS_NONE, 0, "", 0);	  /* nxrrset */
	pm_rr(&p, 1, "c1.example.", T_NS, CLASS_IN, 0, NS1, sizeof(NS1) - 1);
	pm_rr(&p, 2, "c1.example.", T_NS, CLASS_IN, 3600, NS_IN, sizeof(NS_IN) - 1);
	pm_rr(&p, 2, "ns1.c1.example.", T_A, CLASS_IN, 3600, "\xc0\x00\x02\x35", 4);
	pm_rr(&p, 2, "ns1.c1.example.", T_AAAA, CLASS_IN, 3600,
	      "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x35", 16);
	pm_rr(&p, 2, "c1.example.", T_DS, CLASS_IN, 3600, DS_RD, sizeof(DS_RD) - 1);
	pm_opt(&p, "", 0);
	pm_put(&p, "c1-glue-ds-prereq");
	/* the same changes without the prerequisites */
	pm_start(&p, PM_C1 | PM_TCP, OP_UPDATE, "example.", T_SOA);
	pm_rr(&p, 2, "c1.example.", T_NS, CLASS_IN, 3600, NS1, sizeof(NS1) - 1);
	pm_rr(&p, 2, "c1.example.", T_NS, CLASS_IN, 3600, NS_IN, sizeof(NS_IN) - 1);
	pm_rr(&p, 2, "ns1.c1.example.", T_A, CLASS_IN, 3600, "\xc0\x00\x02\x35", 4);
	pm_rr(&p, 2, "c1.example.", T_DS, CLASS_IN, 3600, DS_RD, sizeof(DS_RD) - 1);
	pm_opt(&p, "", 0);
	pm_put(&p, "c1-glue-ds");
	/* deletions: one record, an RRset, a whole name */
	pm_start(&p, PM_C1, OP_UPDATE, "example.", T_SOA);
	pm_rr(&p, 2, "c1.example.", T_NS, CLASS_NONE, 0, NS2, sizeof(NS2) - 1);
	pm_rr(&p, 2, "c1.example.", T_DS, CLASS_ANY, 0, "", 0);
	pm_rr(&p, 2, "ns1.c1.example.", T_ANY, CLASS_ANY, 0, "", 0);
	pm_put(&p, "c1-deletes");
	/* refused by policy: another child, SOA, a type never allowed */
	pm_start(&p, PM_C1, OP_UPDATE, "example.", T_SOA);
	pm_rr(&p, 2, "c2.example.", T_NS, CLASS_IN, 3600, NS1, sizeof(NS1) - 1);
	pm_rr(&p, 2, "example.", T_SOA, CLASS_ANY, 0, "", 0);
	pm_rr(&p, 2, "c1.example.", 16 /* TXT */, CLASS_IN, 3600, "\x02hi", 3);
	pm_opt(&p, "", 0);
	pm_put(&p, "c1-policy-refusals");
	gen_pipeline_keys(key, tag);
	gen_pipeline_others();
}

int main(void)
{
	mkdir("corpus", 0755);
	mkdir("corpus/msg", 0755);
	mkdir("corpus/dname", 0755);
	mkdir("corpus/rrtext", 0755);
	mkdir("corpus/pipeline", 0755);
	gen_msg();
	gen_dname();
	gen_rrtext();
	gen_pipeline();
	return failures ? 1 : 0;
}

/*
 * tests/unit/test_pipeline.c -- the receiver's decision path in process:
 * message bytes in; RCODE, EDE, answer bytes, audit row and store state out.
 * No sockets, no threads: each request runs through the steps the I/O
 * thread, a verification worker and the commit thread run
 * (pipeline_receive, pipeline_verify, pipeline_commit_batch, respond_build,
 * respond_sign) on a receiver with an in-memory SQLite store.
 *
 * The cases are tables, run in order against one receiver, so that a case
 * sees what the ones before it committed (a scenario).  New protocol cases
 * go here first; the integration tests then check the same against real
 * clients and a real daemon.
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/dname.h"
#include "common/err.h"
#include "common/log.h"
#include "common/rrtext.h"
#include "common/wire.h"
#include "common/zonefile.h"
#include "receiver/internal.h"
#include "receiver/receiver.h"
#include "tests/tools/inproc.h"
#include "tests/unit/unit.h"
#include "backends/backend.h"

static struct cfg *C;
static struct inproc P;
static struct receiver *R;
enum { K_C1, K_C2, K_C1B, K_NKEYS };
static struct sig0_key *K[K_NKEYS];
static char tmpdir[] = "/tmp/test_pipeline.XXXXXX";

/* ---- building requests ------------------------------------------------- */

struct req {
	uint8_t buf[8192];
	struct wbuf b;
	uint16_t count[4];
};

static void req_start(struct req *q, unsigned opcode, const char *zone, uint16_t ztype)
{
	uint8_t name[DNAME_MAX];
	wbuf_init(&q->b, q->buf, sizeof(q->buf));
	wbuf_u16(&q->b, (uint16_t)(rand() & 0xffff));
	wbuf_u16(&q->b, (uint16_t)(opcode << 11));
	for (int s = 0; s < 4; s++)
		wbuf_u16(&q->b, 0);
	memset(q->count, 0, sizeof(q->count));
	if (dname_from_str(zone, name) <= 0)
		abort();
	wbuf_bytes(&q->b, name, dname_len(name));
	wbuf_u16(&q->b, ztype);
	wbuf_u16(&q->b, CLASS_IN);
	q->count[0] = 1;
}

/*
 * One record of the prerequisite (sec 1) or update (sec 2) section, written
 * the way nsupdate writes them:
 *   "+RR"          add (class IN)            "-RR"  delete one (class NONE, TTL 0)
 *   "*NAME TYPE"   delete an RRset (ANY)     "!NAME" delete a name (ANY ANY)
 *   "=RR"          prerequisite: RRset holds this value (class IN, TTL 0)
 *   "eNAME TYPE"   RRset exists (ANY)        "nNAME TYPE" RRset does not exist (NONE)
 *   "yNAME"        name in use (ANY ANY)     "xNAME" name not in use (NONE ANY)
 */
static void req_rr(struct req *q, int sec, const char *spec)
{
	uint8_t owner[DNAME_MAX], rdata[4096];
	uint16_t type = T_ANY, rclass;
	uint32_t ttl = 0;
	size_t rdlen = 0;
	char why[256], name[1024], tname[32] = "ANY";
	char op = spec[0];
	if (op == '+' || op == '-' || op == '=') {
		if (zonefile_rr_from_str(spec + 1, owner, &type, &ttl, rdata, sizeof(rdata), &rdlen,
					 why, sizeof(why)) != DS_OK) {
			fprintf(stderr, "bad RR \"%s\": %s\n", spec + 1, why);
			abort();
		}
		rclass = op == '-' ? CLASS_NONE : CLASS_IN;
		if (op != '+')
			ttl = 0;
	} else {
		if (sscanf(spec + 1, "%1023s %31s", name, tname) < 1 ||
		    dname_from_str(name, owner) <= 0 || (type = rr_type_from_str(tname)) == 0)
			abort();
		rclass = op == 'n' || op == 'x' ? CLASS_NONE : CLASS_ANY;
	}
	wbuf_bytes(&q->b, owner, dname_len(owner));
	wbuf_u16(&q->b, type);
	wbuf_u16(&q->b, rclass);
	wbuf_u32(&q->b, ttl);
	wbuf_u16(&q->b, (uint16_t)rdlen);
	wbuf_bytes(&q->b, rdata, rdlen);
	q->count[sec]++;
}

static void req_opt(struct req *q, const uint8_t *opts, uint16_t len)
{
	wbuf_u8(&q->b, 0);
	wbuf_u16(&q->b, T_OPT);
	wbuf_u16(&q->b, 1232);
	wbuf_u32(&q->b, 0);
	wbuf_u16(&q->b, len);
	wbuf_bytes(&q->b, opts, len);
	q->count[3]++;
}

/* Counts into the header, then the SIG(0) of key (NULL: unsigned), with
 * the signature's times offset by shift seconds. */
static size_t req_finish(struct req *q, const struct sig0_key *key, long shift)
{
	if (q->b.err)
		abort();
	for (int s = 0; s < 4; s++) {
		q->buf[4 + 2 * s] = (uint8_t)(q->count[s] >> 8);
		q->buf[5 + 2 * s] = (uint8_t)q->count[s];
	}
	size_t len = q->b.len;
	uint32_t now = (uint32_t)time(NULL) + (uint32_t)shift;
	if (key != NULL &&
	    sig0_sign(key, q->buf, &len, sizeof(q->buf), now - 10, now + 290, NULL, 0) != DS_OK)
		abort();
	return len;
}

/* ---- running one request ------------------------------------------------ */

struct outcome {
	int rcode;
	int ede; /* -1: none */
	char text[256];
	char result[32];
	uint8_t answer[1024];
	size_t answerlen;
	bool answer_ok;	 /* the answer parses, has the request's ID and QR */
	bool answer_opt; /* it has an OPT record (and so the EDE) */
};

static unsigned run_net; /* requests come from 127.0.<run_net>.1 */

static void run(const uint8_t *msg, size_t len, bool tcp, struct outcome *o)
{
	struct job *j = inproc_run(R, msg, len, tcp, run_net);
	if (j == NULL)
		abort();

	o->rcode = j->rcode;
	o->ede = j->has_ede ? j->ede : -1;
	snprintf(o->text, sizeof(o->text), "%s", j->text);
	snprintf(o->result, sizeof(o->result), "%s", result_name(j->result));
	o->answerlen = j->resplen < sizeof(o->answer) ? j->resplen : sizeof(o->answer);
	memcpy(o->answer, j->resp, o->answerlen);
	static struct msg am;
	o->answer_ok = len >= 2 && msg_parse(&am, j->resp, j->resplen) == DS_OK &&
		       am.id == (uint16_t)(msg[0] << 8 | msg[1]) && (am.flags & MSG_QR);
	o->answer_opt = o->answer_ok && am.has_opt;
	msg_clear(&am);
	job_free(j);
}

/* The COOKIE option of an answer into out (COOKIE_MAX_LEN bytes); its
 * length, 0 when there is none. */
static size_t answer_cookie(const struct outcome *o, uint8_t *out)
{
	static struct msg am;
	size_t len = 0;
	if (msg_parse(&am, o->answer, o->answerlen) == DS_OK && am.has_opt) {
		const struct msg_rr *opt = &am.rr[am.opt_idx];
		const uint8_t *p = cookie_find(am.wire + opt->rdoff, opt->rdlen, &len);
		if (p != NULL && len <= COOKIE_MAX_LEN)
			memcpy(out, p, len);
		else
			len = 0;
	}
	msg_clear(&am);
	return len;
}

/* ---- the store ---------------------------------------------------------- */

struct dump {
	char text[4096];
	size_t len;
};

static int dump_rr(void *arg, const uint8_t *child, const struct drr *rr)
{
	struct dump *d = arg;
	char line[1024];
	(void)child;
	if (rr_to_str(rr->owner, 0, rr->type, rr->rdata, rr->rdlen, line, sizeof(line)) != DS_OK)
		return DS_ELIMIT;
	/* "owner 0 IN TYPE rdata" -> "owner TYPE rdata" */
	char *in = strstr(line, " 0 IN ");
	if (in != NULL)
		memmove(in, in + 5, strlen(in + 5) + 1);
	int n =
	    snprintf(d->text + d->len, sizeof(d->text) - d->len, "%s%s", d->len ? "|" : "", line);
	if (n > 0)
		d->len += (size_t)n;
	return DS_OK;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The zone's delegation records, sorted, '|'-separated. */
static void deleg_dump(char *out, size_t outlen)
{
	struct dump d = {.len = 0};
	uint8_t zone[DNAME_MAX];
	dname_from_str("example.", zone);
	d.text[0] = '\0';
	if (store_zone_deleg_foreach(R->store, zone, dump_rr, &d) != DS_OK)
		snprintf(d.text, sizeof(d.text), "(store error)");
	char *v[64], *save = NULL;
	size_t n = 0;
	for (char *t = strtok_r(d.text, "|", &save); t && n < 64; t = strtok_r(NULL, "|", &save))
		v[n++] = t;
	qsort(v, n, sizeof(v[0]), cmp_str);
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		o += (size_t)snprintf(out + o, outlen - o, "%s%s", i ? "|" : "", v[i]);
}

static int64_t audit_rows(void)
{
	int64_t n = -1;
	store_audit_count(R->store, &n);
	return n;
}

/* ---- the cases ----------------------------------------------------------- */

#define MAXRR 8
struct pcase {
	const char *what;
	int key;     /* K_*, or -1: unsigned */
	long shift;  /* signature times moved by this many seconds */
	bool no_opt; /* no OPT record (answers without EDE) */
	const char *prereq[MAXRR];
	const char *update[MAXRR];
	int rcode;
	int ede;	   /* -1: none expected */
	const char *text;  /* regular expression over the EDE text */
	const char *deleg; /* the delegation afterwards; NULL: unchanged */
};

#define NS1 "c1.example. 3600 NS ns1.provider.net."
#define NS2 "c1.example. 3600 NS ns2.provider.org."
#define NSIN "c1.example. 3600 NS ns1.c1.example."
#define GLUE "ns1.c1.example. 3600 A 192.0.2.1"
#define DS1                                                                                        \
	"c1.example. 3600 DS 12345 15 2 "                                                          \
	"0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"

// clang-format off
static const struct pcase cases[] = {
	/* authentication */
	{"unsigned UPDATE", -1, 0, false, {0}, {"+" NS1}, RC_REFUSED, 18, "not signed", NULL},
	{"unknown key (c2 has none)", K_C2, 0, false, {0}, {"+c2.example. 3600 NS ns1.provider.net."}, RC_BADKEY, 513, "not known here", NULL},
	{"unknown key without OPT: NOTAUTH (the EDE only in the log)", K_C2, 0, true, {0}, {"+c2.example. 3600 NS ns1.provider.net."}, RC_NOTAUTH, 513, "not known here", NULL},
	{"expired signature", K_C1, -1000, false, {0}, {"+" NS1}, RC_REFUSED, 7, "expired", NULL},
	{"signature from the future", K_C1, 600, false, {0}, {"+" NS1}, RC_REFUSED, 8, "future", NULL},
	/* scope and policy */
	{"c1's key on c2", K_C1, 0, false, {0}, {"+c2.example. 3600 NS ns1.provider.net."}, RC_REFUSED, 18, "outside the signer's delegation c1\\.example\\.", NULL},
	{"a name outside the zone", K_C1, 0, false, {0}, {"+c1.other. 3600 NS ns1.provider.net."}, RC_NOTZONE, 0, "outside zone example\\.", NULL},
	{"SOA is never changed", K_C1, 0, false, {0}, {"*example. SOA"}, RC_REFUSED, 18, "", NULL},
	{"TXT is not a delegation type", K_C1, 0, false, {0}, {"+c1.example. 3600 TXT \"x\""}, RC_REFUSED, 18, "", NULL},
	{"one NS is below min-ns 2", K_C1, 0, false, {0}, {"+" NS1}, RC_REFUSED, 18, "minimum is 2", NULL},
	{"glue for a name that is no NS target", K_C1, 0, false, {0}, {"+" NS1, "+" NS2, "+x.c1.example. 3600 A 192.0.2.7"}, RC_REFUSED, 18, "only at NS targets", NULL},
	/* accepted changes */
	{"two NS", K_C1, 0, false, {0}, {"+" NS1, "+" NS2}, RC_NOERROR, -1, "", "c1.example. NS ns1.provider.net.|c1.example. NS ns2.provider.org."},
	{"the same again: no change", K_C1, 0, false, {0}, {"+" NS1, "+" NS2}, RC_NOERROR, -1, "", "c1.example. NS ns1.provider.net.|c1.example. NS ns2.provider.org."},
	{"in-bailiwick NS with glue and a DS", K_C1, 0, false, {0}, {"-" NS2, "+" NSIN, "+" GLUE, "+" DS1}, RC_NOERROR, -1, "", "c1.example. DS 12345 15 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF|" "c1.example. NS ns1.c1.example.|c1.example. NS ns1.provider.net.|" "ns1.c1.example. A 192.0.2.1"},
	/* prerequisites */
	{"prerequisite: NS RRset exists", K_C1, 0, false, {"ec1.example. NS"}, {"*c1.example. DS"}, RC_NOERROR, -1, "", "c1.example. NS ns1.c1.example.|c1.example. NS ns1.provider.net.|" "ns1.c1.example. A 192.0.2.1"},
	{"prerequisite failed: DS RRset exists", K_C1, 0, false, {"ec1.example. DS"}, {"+" NS2}, RC_NXRRSET, 0, "prerequisite failed", NULL},
	{"prerequisite failed: name not in use", K_C1, 0, false, {"xc1.example."}, {"+" NS2}, RC_YXDOMAIN, 0, "", NULL},
	{"prerequisite: value", K_C1, 0, false, {"=" NS1, "=" NSIN}, {"+" NS2, "-" NSIN}, RC_NOERROR, -1, "", "c1.example. NS ns1.provider.net.|c1.example. NS ns2.provider.org."},
	{"a prerequisite outside the signer's names", K_C1, 0, false, {"ec2.example. NS"}, {"+" NS2}, RC_REFUSED, -2, "", NULL},
};
// clang-format on

static void run_cases(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct pcase *c = &cases[i];
		struct req q;
		struct outcome o;
		char before[4096], after[4096];
		deleg_dump(before, sizeof(before));
		int64_t a0 = audit_rows();
		req_start(&q, OP_UPDATE, "example.", T_SOA);
		for (size_t k = 0; k < MAXRR && c->prereq[k]; k++)
			req_rr(&q, 1, c->prereq[k]);
		for (size_t k = 0; k < MAXRR && c->update[k]; k++)
			req_rr(&q, 2, c->update[k]);
		if (!c->no_opt)
			req_opt(&q, NULL, 0);
		size_t len = req_finish(&q, c->key >= 0 ? K[c->key] : NULL, c->shift);
		run(q.buf, len, i % 2 == 1, &o);
		deleg_dump(after, sizeof(after));
		int bad = 0;
		if (o.rcode != c->rcode)
			bad++;
		if (c->ede != -2 && o.ede != c->ede)
			bad++;
		if (c->text && c->text[0]) {
			regex_t re;
			if (regcomp(&re, c->text, REG_EXTENDED | REG_NOSUB) != 0 ||
			    regexec(&re, o.text, 0, NULL, 0) != 0)
				bad++;
			regfree(&re);
		}
		if (strcmp(after, c->deleg ? c->deleg : before) != 0)
			bad++;
		if (!o.answer_ok || o.answer_opt == c->no_opt || audit_rows() != a0 + 1)
			bad++;
		CHECK(bad == 0);
		if (bad)
			fprintf(stderr,
				"case \"%s\": rcode %d ede %d (want %d %d) text \"%s\" result %s; "
				"answer %s; audit rows +%lld\n  delegation: %s\n",
				c->what, o.rcode, o.ede, c->rcode, c->ede, o.text, o.result,
				o.answer_ok ? "ok" : "BAD", (long long)(audit_rows() - a0), after);
	}
}

/* The same bytes twice: the second is a replay, answered as the first and
 * not applied again. */
static void test_replay(void)
{
	struct req q;
	struct outcome o1, o2;
	char d1[4096], d2[4096];
	req_start(&q, OP_UPDATE, "example.", T_SOA);
	req_rr(&q, 2, "-" NS2);
	req_rr(&q, 2, "+c1.example. 3600 NS ns3.provider.net.");
	req_opt(&q, NULL, 0);
	size_t len = req_finish(&q, K[K_C1], 0);
	run(q.buf, len, false, &o1);
	deleg_dump(d1, sizeof(d1));
	run(q.buf, len, true, &o2);
	deleg_dump(d2, sizeof(d2));
	CHECK_EQ(o1.rcode, RC_NOERROR);
	CHECK_EQ(o2.rcode, RC_NOERROR);
	CHECK(strstr(o2.text, "replayed") != NULL);
	CHECK(strcmp(d1, d2) == 0);
	CHECK(strstr(d1, "ns3.provider.net.") != NULL);
}

/* Malformed messages: FORMERR, the store unchanged, the audit row says only
 * what was checked. */
static void test_malformed(void)
{
	static const char *const hex[] = {
	    /* an update record whose RDATA runs past the end, as NS and as an
	     * unknown type */
	    "278228000001000000010001076578616d706c650000060001026331c00c0002000100000e10"
	    "0013036e733109656c7365776865",
	    "278228000001000000010001076578616d706c650000060001026331c00cff02000100000e10"
	    "0013036e733109656c7365776865",
	};
	for (size_t i = 0; i < sizeof(hex) / sizeof(hex[0]); i++) {
		uint8_t *msg = malloc(strlen(hex[i]) / 2);
		size_t n = 0;
		for (const char *p = hex[i]; p[0] && p[1]; p += 2) {
			unsigned v;
			sscanf(p, "%2x", &v);
			msg[n++] = (uint8_t)v;
		}
		char before[4096], after[4096];
		deleg_dump(before, sizeof(before));
		struct outcome o;
		run(msg, n, false, &o);
		deleg_dump(after, sizeof(after));
		CHECK_EQ(o.rcode, RC_FORMERR);
		CHECK(strstr(o.text, "runs past the end") != NULL);
		CHECK(o.answer_ok);
		CHECK(strcmp(before, after) == 0);
		free(msg);
	}
}

/* The KEY record of key at owner, as req_rr() takes it ("+owner 3600 KEY ..."). */
static void key_rr(const struct sig0_key *key, char op, const char *owner, char *out, size_t len)
{
	size_t rdlen;
	const uint8_t *rd = sig0_key_rdata(key, &rdlen);
	char b64[128];
	b64_encode(rd + 4, rdlen - 4, b64, sizeof(b64));
	snprintf(out, len, "%c%s 3600 KEY %u %u %u %s", op, owner, rd[0] << 8 | rd[1], rd[2], rd[3],
		 b64);
}

/* One UPDATE of the records in up (NULL-terminated), signed by key. */
static void send_update(const struct sig0_key *key, const char *const *pre, const char *const *up,
			struct outcome *o)
{
	struct req q;
	req_start(&q, OP_UPDATE, "example.", T_SOA);
	for (size_t i = 0; pre && pre[i]; i++)
		req_rr(&q, 1, pre[i]);
	for (size_t i = 0; up[i]; i++)
		req_rr(&q, 2, up[i]);
	req_opt(&q, NULL, 0);
	run(q.buf, req_finish(&q, key, 0), false, o);
}

/*
 * KEY changes take the rollover road: KEY records below the child are no
 * delegation data; a failed prerequisite stops a rollover; c1's trusted key
 * adds c1's second key, which is trusted at once and then signs; that key
 * uploading itself again changes nothing.
 */
static void test_rollover(void)
{
	struct outcome o;
	char add[256], below[256];
	char before[4096];
	key_rr(K[K_C1B], '+', "c1.example.", add, sizeof(add));
	key_rr(K[K_C1B], '+', "x.c1.example.", below, sizeof(below));
	deleg_dump(before, sizeof(before));

	send_update(K[K_C1], NULL, (const char *const[]){below, NULL}, &o);
	CHECK_EQ(o.rcode, RC_REFUSED);
	CHECK(strstr(o.text, "not delegation data") != NULL);
	send_update(K[K_C1B], NULL, (const char *const[]){"+" NS1, NULL}, &o);
	CHECK_EQ(o.rcode, RC_BADKEY);

	send_update(K[K_C1], (const char *const[]){"ec1.example. DS", NULL},
		    (const char *const[]){add, NULL}, &o);
	CHECK_EQ(o.rcode, RC_NXRRSET);
	send_update(K[K_C1], NULL, (const char *const[]){add, NULL}, &o);
	CHECK_EQ(o.rcode, RC_NOERROR);
	CHECK(strstr(o.text, "key rollover of c1.example.: +") != NULL);
	CHECK(strcmp(o.result, "accepted") == 0);

	send_update(K[K_C1B], NULL, (const char *const[]){"-" NS2, "+" NSIN, "+" GLUE, NULL}, &o);
	CHECK_EQ(o.rcode, RC_NOERROR);
	char after[4096];
	deleg_dump(after, sizeof(after));
	CHECK(strstr(after, "c1.example. NS ns1.c1.example.") != NULL);
	CHECK(strcmp(before, after) != 0);

	send_update(K[K_C1B], NULL, (const char *const[]){add, NULL}, &o);
	CHECK_EQ(o.rcode, RC_NOERROR);
	CHECK(strstr(o.text, "is already trusted") != NULL);
}

/* A self-signed upload of c2's key: stored as known (manual zone), then a
 * signed KeyState inquiry by that key learns 10 (waiting for the operator). */
static void test_upload_and_inquiry(void)
{
	struct req q;
	struct outcome o;
	char rr[256];
	key_rr(K[K_C2], '+', "c2.example.", rr, sizeof(rr));
	req_start(&q, OP_UPDATE, "example.", T_SOA);
	req_rr(&q, 2, rr);
	req_opt(&q, NULL, 0);
	run(q.buf, req_finish(&q, K[K_C2], 0), false, &o);
	CHECK_EQ(o.rcode, RC_NOERROR);
	CHECK(strstr(o.text, "uploaded, state known") != NULL);

	uint16_t tag = sig0_key_tag(K[K_C2]);
	const uint8_t opt[] = {0xfd, 0xea, 0, 4, (uint8_t)(tag >> 8), (uint8_t)tag, 2, 0};
	req_start(&q, OP_QUERY, "c2.example.", T_KEY);
	req_opt(&q, opt, sizeof(opt));
	run(q.buf, req_finish(&q, K[K_C2], 0), false, &o);
	CHECK_EQ(o.rcode, RC_NOERROR);
	CHECK(strstr(o.text, ": 10 ") != NULL);
	/* and c2's own key still cannot change the delegation */
	req_start(&q, OP_UPDATE, "example.", T_SOA);
	req_rr(&q, 2, "+c2.example. 3600 NS ns1.provider.net.");
	req_opt(&q, NULL, 0);
	run(q.buf, req_finish(&q, K[K_C2], 0), false, &o);
	CHECK_EQ(o.rcode, RC_REFUSED);
	CHECK_EQ(o.ede, 514);
}

/* A signed change of c1's delegation (no change: ns3 is there already)
 * carrying a COOKIE option of len bytes (cookie NULL: none). */
static void cookie_run(const uint8_t *cookie, size_t len, bool tcp, struct outcome *o)
{
	uint8_t opts[4 + 64];
	struct wbuf b;
	wbuf_init(&b, opts, sizeof opts);
	if (cookie != NULL)
		cookie_write(&b, cookie, len);
	struct req q;
	req_start(&q, OP_UPDATE, "example.", T_SOA);
	req_rr(&q, 2, "+c1.example. 3600 NS ns3.provider.net.");
	req_opt(&q, opts, (uint16_t)b.len);
	run(q.buf, req_finish(&q, K[K_C1], 0), tcp, o);
}

/* DNS Cookies: the server cookie in every answer to a client cookie, one
 * that is ours for this address, kept while fresh, a bad one replaced. */
static void test_cookies(void)
{
	struct outcome o;
	uint8_t cc[8] = {1, 2, 3, 4, 5, 6, 7, 8}, got[COOKIE_MAX_LEN], sent[COOKIE_MAX_LEN];
	struct sockaddr_storage peer;
	struct sockaddr_in *sin = (struct sockaddr_in *)&peer;
	memset(&peer, 0, sizeof peer);
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(0x7f000001u);

	cookie_run(cc, 8, false, &o);
	CHECK_EQ(o.rcode, RC_NOERROR);
	CHECK_EQ(answer_cookie(&o, got), COOKIE_LEN);
	CHECK(memcmp(got, cc, 8) == 0);
	CHECK_EQ(cookie_check(R->cookie_mac, got, COOKIE_LEN, &peer, (uint32_t)time(NULL), NULL),
		 COOKIE_VALID);
	/* sent back: valid, and the same one comes back */
	memcpy(sent, got, COOKIE_LEN);
	cookie_run(sent, COOKIE_LEN, false, &o);
	CHECK_EQ(o.rcode, RC_NOERROR);
	CHECK_EQ(answer_cookie(&o, got), COOKIE_LEN);
	CHECK(memcmp(got, sent, COOKIE_LEN) == 0);
	/* a bad server cookie is treated as none: answered, with a new one */
	sent[COOKIE_LEN - 1] ^= 0xff;
	cookie_run(sent, COOKIE_LEN, false, &o);
	CHECK_EQ(o.rcode, RC_NOERROR);
	CHECK_EQ(answer_cookie(&o, got), COOKIE_LEN);
	CHECK(memcmp(got + 8, sent + 8, 16) != 0);
	sent[COOKIE_LEN - 1] ^= 0xff;
	/* a length RFC 7873 does not allow */
	cookie_run(sent, 12, false, &o);
	CHECK_EQ(o.rcode, RC_FORMERR);
	CHECK(strstr(o.text, "COOKIE option of 12 bytes") != NULL);
	/* no client cookie, no cookie in the answer */
	cookie_run(NULL, 0, false, &o);
	CHECK_EQ(o.rcode, RC_NOERROR);
	CHECK_EQ(answer_cookie(&o, got), 0);
}

/* The budget short (below sig0.verify-budget-low): UDP without a valid
 * server cookie gets TC=1 and no verification; a valid cookie or TCP goes
 * on; one network gets its share only. */
static void test_budget_short(void)
{
	struct outcome o;
	uint8_t cc[8] = {8, 7, 6, 5, 4, 3, 2, 1}, valid[COOKIE_MAX_LEN], bad[COOKIE_MAX_LEN];
	cookie_run(cc, 8, false, &o);
	CHECK_EQ(answer_cookie(&o, valid), COOKIE_LEN);
	memcpy(bad, valid, COOKIE_LEN);
	bad[12] ^= 1;

	ratelimit_bucket_init(&R->verify_budget, 100, clock_mono_ns());
	CHECK(ratelimit_bucket_take(&R->verify_budget, 70, clock_mono_ns()));
	unsigned long before = atomic_load(&R->ctr.verifications);
	const uint8_t *what[] = {NULL, cc, bad};
	const size_t len[] = {0, 8, COOKIE_LEN};
	for (int i = 0; i < 3; i++) {
		uint8_t got[COOKIE_MAX_LEN];
		cookie_run(what[i], len[i], false, &o);
		/* never NOERROR: a client blind to TC must not take it for success */
		CHECK_EQ(o.rcode, RC_REFUSED);
		CHECK(strcmp(o.result, "refused") == 0);
		CHECK_EQ(o.ede, EDE_NOT_READY);
		CHECK(strstr(o.text, "retry over TCP or with the server cookie") != NULL);
		CHECK(o.answerlen > 3 && (o.answer[2] & (MSG_TC >> 8)));
		/* a fresh cookie to retry with when it sent a client cookie */
		CHECK_EQ(answer_cookie(&o, got), i == 0 ? 0 : COOKIE_LEN);
	}
	CHECK_EQ(atomic_load(&R->ctr.verifications), before); /* no crypto for those */
	cookie_run(valid, COOKIE_LEN, false, &o);
	CHECK_EQ(o.rcode, RC_NOERROR);
	CHECK(strcmp(o.result, "accepted") == 0);
	CHECK(o.answerlen > 3 && !(o.answer[2] & (MSG_TC >> 8)));
	cookie_run(NULL, 0, true, &o);
	CHECK(strcmp(o.result, "accepted") == 0);

	/* a share of 1% of 100 a second: one network gets one a second */
	unsigned budget = C->verify_budget;
	C->verify_budget = 100;
	C->verify_share = 1;
	run_net = 9;
	ratelimit_bucket_init(&R->verify_budget, 100, clock_mono_ns());
	CHECK(ratelimit_bucket_take(&R->verify_budget, 80, clock_mono_ns()));
	unsigned ok = 0, refused = 0;
	for (int i = 0; i < 3; i++) {
		cookie_run(NULL, 0, true, &o);
		ok += strcmp(o.result, "accepted") == 0;
		refused += strstr(o.text, "sig0.verify-share-per-network") != NULL;
	}
	CHECK(ok >= 1 && refused >= 1 && ok + refused == 3);
	run_net = 0;
	C->verify_share = 10;
	C->verify_budget = budget;
	ratelimit_bucket_init(&R->verify_budget, C->verify_budget, clock_mono_ns());
}

static void setup(void)
{
	backends_register();
	char path[512], b64[128];
	if (mkdtemp(tmpdir) == NULL)
		abort();
	for (int i = 0; i < K_NKEYS; i++) {
		uint8_t owner[DNAME_MAX];
		dname_from_str(i == K_C2 ? "c2.example." : "c1.example.", owner);
		if (sig0_key_generate(15, owner, &K[i], NULL, 0) != DS_OK)
			abort();
	}
	size_t rdlen;
	const uint8_t *rd = sig0_key_rdata(K[K_C1], &rdlen);
	b64_encode(rd + 4, rdlen - 4, b64, sizeof(b64));
	FILE *f = inproc_conf_open(tmpdir, path, sizeof(path));
	fprintf(f,
		"server = { listen = [ \"127.0.0.1\" ]; };\n"
		"store = { path = \"%s/unused.db\"; };\n"
		"receiver = { name = \"updater.example.\"; key-directory = \"%s/rkeys\"; };\n"
		"zones = ( { name = \"example.\";\n"
		"  children = ( { name = \"c1.example.\"; keys = ( \"c1.example. KEY 512 3 15 %s\" "
		"); },\n"
		"    { name = \"c2.example.\"; } );\n"
		"  backends = ( { type = \"null\"; } ); } );\n",
		tmpdir, tmpdir, b64);
	if (fclose(f) != 0 || cfg_load(path, stderr, &C) != DS_OK)
		abort();
	free(C->store_path);
	C->store_path = strdup(":memory:");
	log_init("test_pipeline", false, getenv("VERBOSE") ? LOG_DEBUG : LOG_CRIT);
	if (inproc_open(C, &P) != DS_OK)
		abort();
	R = P.r;
}

static void teardown(void)
{
	char cmd[600];
	inproc_close(&P);
	cfg_free(C);
	for (int i = 0; i < K_NKEYS; i++)
		sig0_key_free(K[i]);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "left %s\n", tmpdir);
}

int main(void)
{
	srand((unsigned)time(NULL));
	setup();
	run_cases();
	test_replay();
	test_malformed();
	test_upload_and_inquiry();
	test_rollover();
	test_cookies();
	test_budget_short();
	teardown();
	UNIT_DONE("test_pipeline");
}

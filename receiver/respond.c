/*
 * receiver/respond.c -- the answer to one request: ID and opcode copied,
 * QR set, the zone section echoed when it was read, and an OPT record with
 * our DNS Cookie and the Extended DNS Error when the request had OPT (RFC
 * 6891, RFC 7873, RFC 8914).
 * RCODEs above 15 need OPT's extended RCODE bits; without OPT they are
 * mapped as decision D3 says (BADKEY -> NOTAUTH).
 */
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "common/wire.h"
#include "keystate/keystate.h"
#include "receiver/internal.h"

#define OUR_UDP_SIZE 1232

/* The OPT record of the answer: our UDP size, the extended RCODE bits, the
 * COOKIE, the EDE (its text cut to what fits in cap) and KeyState options. */
static void write_opt(const struct job *j, struct wbuf *b, size_t cap, int rcode)
{
	size_t tlen = j->has_ede ? strlen(j->text) : 0;
	/* KeyState: header + id, state, data + its EXTRA-TEXT, which goes
	 * first when the answer would not fit */
	size_t kstlen = j->ks_answer ? strlen(j->ks_text) : 0;
	size_t kslen = j->ks_answer ? 4 + 4 + kstlen : 0;
	/* the COOKIE option: its header and the client and server cookies */
	size_t cklen = j->cookie_outlen ? 4 + (size_t)j->cookie_outlen : 0;
	if (cap < b->len + 11 + (j->has_ede ? 6 : 0) + cklen + kslen) {
		kslen -= kstlen;
		kstlen = 0;
	}
	/* room: OPT header 11 bytes, EDE option 6 bytes + text, COOKIE, KeyState */
	size_t fixed = 11 + (j->has_ede ? 6 : 0) + cklen + kslen;
	size_t room = cap > b->len + fixed ? cap - b->len - fixed : 0;
	if (tlen > room)
		tlen = room;
	wbuf_u8(b, 0);
	wbuf_u16(b, T_OPT);
	wbuf_u16(b, OUR_UDP_SIZE);
	wbuf_u8(b, (uint8_t)(rcode >> 4));
	wbuf_u8(b, 0);	/* version */
	wbuf_u16(b, 0); /* flags: DO clear, we return no DNSSEC data */
	wbuf_u16(b, (uint16_t)((j->has_ede ? 6 + tlen : 0) + cklen + kslen));
	if (cklen)
		cookie_write(b, j->cookie_out, j->cookie_outlen);
	if (j->has_ede) {
		wbuf_u16(b, EDNS_OPT_EDE);
		wbuf_u16(b, (uint16_t)(2 + tlen));
		wbuf_u16(b, j->ede);
		wbuf_bytes(b, j->text, tlen);
	}
	if (j->ks_answer) {
		struct ks_opt ko = {.key_id = j->ks_keyid, .state = j->ks_state};
		snprintf(ko.text, sizeof(ko.text), "%.*s", (int)kstlen, j->ks_text);
		ks_opt_write(b, j->ks_code, &ko);
	}
}

void respond_build(struct job *j)
{
	const struct msg *m = j->m;
	struct wbuf b;
	int rcode = j->rcode;
	bool opt = m->has_opt;
	/* an answer must fit a plain 512-byte UDP datagram when the client gave no size */
	size_t cap = sizeof(j->resp);
	if (!j->tcp && (!opt || m->edns_udp < cap))
		cap = opt ? m->edns_udp : 512;

	if (!opt && rcode > 15)
		rcode = rcode == RC_BADKEY || rcode == RC_BADTIME ? RC_NOTAUTH : RC_FORMERR;

	wbuf_init(&b, j->resp, cap);
	wbuf_u16(&b, m->id);
	uint16_t flags = MSG_QR | (uint16_t)(m->opcode << 11) | (uint16_t)(rcode & 0xf);
	if (m->opcode == OP_QUERY)
		flags |= m->flags & MSG_RD;
	if (j->tc)
		flags |= MSG_TC;
	wbuf_u16(&b, flags);
	/* echo the zone/question entry when it parsed (not on FORMERR) */
	bool echo = j->rcode != RC_FORMERR && m->nrr >= 1 && m->count[0] == 1;
	wbuf_u16(&b, echo ? 1 : 0);
	wbuf_u16(&b, 0);
	wbuf_u16(&b, 0);
	wbuf_u16(&b, opt ? 1 : 0);
	if (echo) {
		const struct msg_rr *z = &m->rr[0];
		const uint8_t *name = msg_owner(m, z);
		size_t n = 0;
		while (name[n])
			n += 1 + (size_t)name[n];
		wbuf_bytes(&b, name, n + 1);
		wbuf_u16(&b, z->type);
		wbuf_u16(&b, z->rclass);
	}
	if (opt)
		write_opt(j, &b, cap, rcode);
	if (b.err) {
		/* cannot happen with the caps above; answer a bare header rather than nothing */
		memset(j->resp + 4, 0, 8);
		j->resplen = 12;
		return;
	}
	j->resplen = b.len;
	j->respcap = cap;
}

/*
 * D5: sign with the receiver's active key, over the request as received and
 * the response (RFC 2931), or the response only (receiver.sign =
 * response-only).  Answers to requests that did not authenticate are signed
 * only within receiver.sign-budget per second (R17): beyond it they go out
 * unsigned rather than let anyone buy our signatures with junk.  A UDP answer
 * that the signature would push past the client's size goes out with TC set
 * and no sections, so the client retries over TCP (D13).
 */
/* A KeyState answer that cannot be signed goes out without the option (D5). */
static void unsigned_answer(struct job *j)
{
	if (!j->ks_answer)
		return;
	j->ks_answer = false;
	respond_build(j);
}

void respond_sign(struct receiver *r, struct job *j)
{
	const struct cfg *c = r->cfg;
	/* a TC answer is only a pointer to TCP or the cookie: never worth a signature */
	if (!c->receiver.enabled || j->resplen < DNS_HDR_LEN || j->tc) {
		unsigned_answer(j);
		return;
	}
	if (j->key == NULL && atomic_fetch_sub(&r->sign_tokens, 1) <= 0) {
		unsigned_answer(j);
		return;
	}
	struct rkeys *set = atomic_load(&r->rkeys);
	int64_t now = (int64_t)time(NULL);
	const struct sig0_key *k = set ? rkeys_active(set, now) : NULL;
	if (k == NULL) {
		unsigned_answer(j);
		return;
	}
	size_t len = j->resplen;
	int rc =
	    sig0_sign(k, j->resp, &len, j->respcap, (uint32_t)(now - 60), (uint32_t)(now + 300),
		      c->receiver.with_request ? j->req : NULL, j->reqlen);
	if (rc == DS_OK) {
		j->resplen = len;
	} else if (rc != DS_ELIMIT || j->tcp) {
		unsigned_answer(j);
	} else {
		/* too big once signed: truncated, unsigned header for a TCP retry */
		j->resp[2] |= MSG_TC >> 8;
		memset(j->resp + 4, 0, 8);
		j->resplen = DNS_HDR_LEN;
	}
}

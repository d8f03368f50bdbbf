/*
 * tools/agent/send.c -- the child's requests on the wire: UPDATEs and
 * KeyState inquiries built and SIG(0)-signed here, sent with the draft's
 * retry rules (common/dnsq.c does one exchange), and the answers read and
 * authenticated with the receiver's KEY.
 *
 * The signed bytes of a request are kept in the request: a signed answer
 * (RFC 2931) covers them, and a retry sends them again as they were.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <openssl/rand.h>

#include "common/cookie.h"
#include "common/dname.h"
#include "common/dnsq.h"
#include "common/err.h"
#include "common/msg.h"
#include "common/rrtext.h"
#include "common/wire.h"
#include "common/zonefile.h"
#include "sig0/sig0.h"
#include "tools/agent/agent.h"

#define SIG_BEFORE 60	 /* inception this far in the past (the receiver's clock may lag) */
#define SIG_LIFETIME 300 /* expiration this far ahead: the receivers' usual window */
#define ANSWER_SKEW 300	 /* clock skew allowed on an answer's SIG(0) times */
#define RESIGN_MARGIN 60 /* re-sign when the SIG(0) expires within this of a try's end */

/* ---- names for numbers -------------------------------------------------- */

const char *agent_ks_str(uint8_t code, char *buf, size_t buflen)
{
	switch (code) {
	case KS_MALFORMED:
		return "malformed";
	case KS_TEMPORARY_FAILURE:
		return "temporary-failure";
	case KS_INQUIRE_KEY:
		return "inquire-key";
	case KS_TRUSTED:
		return "trusted";
	case KS_UNKNOWN:
		return "unknown";
	case KS_INVALID:
		return "invalid";
	case KS_REFUSED:
		return "refused";
	case KS_VALIDATION_FAILED:
		return "validation-failed";
	case KS_BOOTSTRAP_AUTO:
		return "bootstrap-auto";
	case KS_BOOTSTRAP_MANUAL:
		return "bootstrap-manual";
	}
	snprintf(buf, buflen, "code-%u", code);
	return buf;
}

const char *agent_auth_str(enum agent_auth a)
{
	switch (a) {
	case AGENT_AUTH_RFC2931:
		return "rfc2931";
	case AGENT_AUTH_RESPONSE:
		return "response-only";
	case AGENT_AUTH_UNSIGNED:
		return "unsigned";
	case AGENT_AUTH_NOKEY:
		return "no-receiver-key";
	case AGENT_AUTH_BAD:
		return "bad-signature";
	}
	return "?";
}

/* ---- records from text ---------------------------------------------------- */

int agent_rr_from_text(const char *text, uint16_t rclass, struct agent_rr *out, char *why,
		       size_t whylen)
{
	memset(out, 0, sizeof(*out));
	out->rclass = rclass;
	if (rclass == CLASS_ANY) {
		char name[DNAME_STR_MAX], tname[32], rest[2];
		int n = sscanf(text, " %1020s %31s %1s", name, tname, rest);
		if (n != 2) {
			snprintf(why, whylen, "want \"NAME TYPE\", got \"%s\"", text);
			return DS_EPARSE;
		}
		out->type = rr_type_from_str(tname);
		if (out->type == 0 || out->type == T_ANY) {
			snprintf(why, whylen, "unknown or meta type \"%s\"", tname);
			return DS_EPARSE;
		}
		if (dname_from_str(name, out->owner) <= 0) {
			snprintf(why, whylen, "bad name \"%s\"", name);
			return DS_EPARSE;
		}
		return DS_OK;
	}
	size_t rdlen = 0;
	if (zonefile_rr_from_str(text, out->owner, &out->type, &out->ttl, out->rdata,
				 sizeof(out->rdata), &rdlen, why, whylen) != DS_OK)
		return DS_EPARSE;
	if (rclass == CLASS_NONE)
		out->ttl = 0; /* RFC 2136 2.5.4 */
	out->rdlen = (uint16_t)rdlen;
	return DS_OK;
}

void agent_rr_from_drr(const struct drr *d, uint16_t rclass, struct agent_rr *out)
{
	memset(out, 0, sizeof(*out));
	out->rclass = rclass;
	memcpy(out->owner, d->owner, dname_len(d->owner));
	out->type = d->type;
	out->ttl = rclass == CLASS_IN ? d->ttl : 0;
	out->rdlen = d->rdlen;
	memcpy(out->rdata, d->rdata, d->rdlen);
}

int agent_pubkey_from_text(const char *text, struct sig0_key **out, char *why, size_t whylen)
{
	uint8_t owner[DNAME_MAX], rdata[AGENT_RDATA_MAX];
	size_t rdlen = 0;
	struct sig0_limits lim;
	struct stat st;
	char *path = NULL;
	const char *src = text;

	*out = NULL;
	/* "Kname+alg+tag" without a suffix names the .key file beside it */
	if (stat(text, &st) != 0 && strchr(text, ' ') == NULL && strchr(text, '\t') == NULL) {
		size_t n = strlen(text);
		path = malloc(n + sizeof(".key"));
		if (path == NULL)
			return DS_ENOMEM;
		memcpy(path, text, n);
		memcpy(path + n, ".key", sizeof(".key"));
		if (stat(path, &st) == 0)
			src = path;
	}
	int rc = sig0_key_from_text(src, owner, rdata, sizeof(rdata), &rdlen, why, whylen);
	free(path);
	if (rc != DS_OK)
		return rc;
	sig0_limits_default(&lim);
	memset(lim.alg_allowed, 0xff, sizeof(lim.alg_allowed)); /* whatever the receiver uses */
	lim.rsa_min_bits = 1024;
	return sig0_key_new(owner, rdata, rdlen, &lim, out, why, whylen);
}

/* ---- building --------------------------------------------------------------- */

static void put_rr(struct wbuf *b, const struct agent_rr *rr)
{
	wbuf_bytes(b, rr->owner, dname_len(rr->owner));
	wbuf_u16(b, rr->type);
	wbuf_u16(b, rr->rclass);
	wbuf_u32(b, rr->rclass == CLASS_IN ? rr->ttl : 0);
	if (rr->rclass == CLASS_ANY) {
		wbuf_u16(b, 0);
		return;
	}
	wbuf_u16(b, rr->rdlen);
	wbuf_bytes(b, rr->rdata, rr->rdlen);
}

/*
 * The request's bytes: header with a random ID, the zone/question entry,
 * the update section, OPT (buffer 1232, the KeyState option when asked,
 * the COOKIE when given) and the SIG(0) made with req->key.
 */
static int build(struct agent_request *req, const uint8_t *cookie, size_t cookielen, char *why,
		 size_t whylen)
{
	struct wbuf b;
	uint16_t id;
	bool update = req->kind == AGENT_REQ_UPDATE;

	if (RAND_bytes((unsigned char *)&id, sizeof(id)) != 1) {
		snprintf(why, whylen, "no random message ID (RAND_bytes failed)");
		return DS_ECRYPTO;
	}
	wbuf_init(&b, req->wire, sizeof(req->wire));
	wbuf_u16(&b, id);
	wbuf_u16(&b, (uint16_t)((update ? OP_UPDATE : OP_QUERY) << 11)); /* RD clear */
	wbuf_u16(&b, 1);
	wbuf_u16(&b, 0);
	wbuf_u16(&b, update ? (uint16_t)req->nrr : 0);
	wbuf_u16(&b, 1); /* OPT; the SIG(0) is counted by sig0_sign() */
	wbuf_bytes(&b, req->name, dname_len(req->name));
	wbuf_u16(&b, update ? T_SOA : T_KEY);
	wbuf_u16(&b, CLASS_IN);
	for (size_t i = 0; update && i < req->nrr; i++)
		put_rr(&b, &req->rr[i]);
	wbuf_u8(&b, 0);
	wbuf_u16(&b, T_OPT);
	wbuf_u16(&b, DNSQ_EDNS_UDP);
	wbuf_u32(&b, 0); /* extended RCODE, version 0, no flags */
	size_t at = b.len;
	wbuf_u16(&b, 0);
	if (req->ks_code != 0 || !update) {
		struct ks_opt o = {.key_id = sig0_key_tag(req->key), .state = KS_INQUIRE_KEY};
		ks_opt_write(&b, req->ks_code, &o);
	}
	if (cookielen > 0)
		cookie_write(&b, cookie, cookielen);
	if (b.err) {
		snprintf(why, whylen, "the request does not fit in a DNS message");
		return DS_EINVAL;
	}
	wbuf_put_u16_at(&b, at, (uint16_t)(b.len - at - 2));

	size_t len = b.len;
	uint32_t now = (uint32_t)time(NULL);
	req->expiration = now + SIG_LIFETIME;
	int rc = sig0_sign(req->key, req->wire, &len, sizeof(req->wire), now - SIG_BEFORE,
			   req->expiration, NULL, 0);
	if (rc != DS_OK) {
		snprintf(why, whylen, "signing failed: %s", ds_strerror(rc));
		return rc;
	}
	req->len = len;
	return DS_OK;
}

/* ---- answers ------------------------------------------------------------------ */

/* Printable copy of text from the wire. */
static void clean_text(char *out, size_t outlen, const uint8_t *p, size_t n)
{
	size_t i;
	for (i = 0; i < n && i + 1 < outlen; i++)
		out[i] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
	out[i] = 0;
}

/* Signed within its window, allowing ANSWER_SKEW either side (serial arithmetic). */
static const char *sig_time_problem(const struct sig0_rr *s)
{
	uint32_t now = (uint32_t)time(NULL);
	if ((int32_t)(s->inception - now) > ANSWER_SKEW)
		return "its inception is in the future";
	if ((int32_t)(now - s->expiration) > ANSWER_SKEW)
		return "it has expired";
	return NULL;
}

/* The answer's SIG(0) against the receiver's keys. */
static void authenticate(const struct agent_target *t, const struct agent_request *req,
			 const struct msg *m, struct agent_answer *ans)
{
	struct sig0_rr s;
	char signer[DNAME_STR_MAX] = "?";
	if (m->nsig == 0) {
		ans->auth = AGENT_AUTH_UNSIGNED;
		snprintf(ans->auth_why, sizeof(ans->auth_why), "the answer is not signed");
		return;
	}
	size_t which = m->nsig - 1;
	ans->auth = AGENT_AUTH_BAD;
	if (m->sig_idx[which] != m->nrr - 1 || sig0_rr_parse(m, m->sig_idx[which], &s) != DS_OK) {
		snprintf(ans->auth_why, sizeof(ans->auth_why), "the answer's SIG(0) is malformed");
		return;
	}
	dname_to_str(s.signer, signer, sizeof(signer));
	if (t->nrkey == 0) {
		ans->auth = AGENT_AUTH_NOKEY;
		snprintf(ans->auth_why, sizeof(ans->auth_why),
			 "signed by %s tag %u, but no key of the receiver is known "
			 "(discovery without a secure KEY, or no --receiver-key)",
			 signer, s.key_tag);
		return;
	}
	const char *tp = sig_time_problem(&s);
	if (tp != NULL) {
		snprintf(ans->auth_why, sizeof(ans->auth_why), "signed by %s tag %u, but %s",
			 signer, s.key_tag, tp);
		return;
	}
	bool named = false;
	for (size_t i = 0; i < t->nrkey; i++) {
		const struct sig0_key *k = t->rkey[i];
		if (!dname_equal(sig0_key_owner(k), s.signer) || sig0_key_tag(k) != s.key_tag ||
		    sig0_key_alg(k) != s.alg)
			continue;
		named = true;
		if (sig0_verify_response(m, which, &s, k, req->wire, req->len) == DS_OK) {
			ans->auth = AGENT_AUTH_RFC2931;
			snprintf(ans->auth_why, sizeof(ans->auth_why),
				 "signed by %s tag %u over request and answer (RFC 2931)", signer,
				 s.key_tag);
			return;
		}
		if (sig0_verify(m, which, &s, k) == DS_OK) {
			ans->auth = AGENT_AUTH_RESPONSE;
			snprintf(ans->auth_why, sizeof(ans->auth_why),
				 "signed by %s tag %u over the answer alone", signer, s.key_tag);
			return;
		}
	}
	snprintf(ans->auth_why, sizeof(ans->auth_why),
		 named ? "signed by %s tag %u: the signature does not verify"
		       : "signed by %s tag %u: not a key of the receiver we know",
		 signer, s.key_tag);
}

/* The server cookie of an answer from address ai, kept when it goes with
 * our client cookie (RFC 7873 5.3). */
static void learn_cookie(const struct agent_target *t, size_t ai, const struct msg *m)
{
	struct agent_cookies *ck = t->cookies;
	size_t len;
	if (ck == NULL || !m->has_opt)
		return;
	const struct msg_rr *opt = &m->rr[m->opt_idx];
	const uint8_t *p = cookie_find(m->wire + opt->rdoff, opt->rdlen, &len);
	if (p == NULL || len < COOKIE_CLIENT_LEN + 8 || len > COOKIE_MAX_LEN ||
	    memcmp(p, ck->c[ai], COOKIE_CLIENT_LEN) != 0)
		return;
	memcpy(ck->c[ai], p, len);
	ck->len[ai] = (uint8_t)len;
}

/* RCODE, EDE, KeyState and authentication of one answer from address ai;
 * DS_EMALF if unreadable. */
static int read_answer(const struct agent_target *t, const struct agent_request *req, size_t ai,
		       const uint8_t *wire, size_t len, struct agent_answer *ans)
{
	struct msg *m = calloc(1, sizeof(*m));
	if (m == NULL)
		return DS_ENOMEM;
	int rc = msg_parse(m, wire, len);
	if (rc != DS_OK) {
		snprintf(ans->why, sizeof(ans->why), "%s: malformed answer: %s", ans->server,
			 m->why);
		msg_clear(m);
		free(m);
		return rc == DS_ENOMEM ? rc : DS_EMALF;
	}
	ans->rcode = m->flags & 0xf;
	ans->has_ede = false;
	ans->has_ks = false;
	if (m->has_opt) {
		const struct msg_rr *opt = &m->rr[m->opt_idx];
		const uint8_t *rd = m->wire + opt->rdoff;
		size_t n;
		ans->rcode |= (unsigned)m->edns_ext_rcode << 4;
		const uint8_t *p = edns_opt_find(rd, opt->rdlen, EDNS_OPT_EDE, &n);
		if (p != NULL && n >= 2) {
			ans->has_ede = true;
			ans->ede = rd_u16(p);
			clean_text(ans->ede_text, sizeof(ans->ede_text), p + 2, n - 2);
		}
		p = req->ks_code ? edns_opt_find(rd, opt->rdlen, req->ks_code, &n) : NULL;
		if (p != NULL && ks_opt_parse(p, n, &ans->ks) == DS_OK) {
			ans->has_ks = true;
			for (char *c = ans->ks.text; *c; c++)
				if (*c < 0x20 || *c >= 0x7f)
					*c = '?';
		}
	}
	learn_cookie(t, ai, m);
	authenticate(t, req, m, ans);
	ans->answered = true;
	msg_clear(m);
	free(m);
	return DS_OK;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* One try at one address: UDP then TCP on TC, or TCP.  DS_OK: ans filled.
 * A TC answer's server cookie is learned too, for the next request. */
static int one_try(const struct agent_target *t, const struct agent_request *req, size_t ai,
		   bool tcp, struct agent_answer *ans)
{
	const struct sockaddr *sa = (const struct sockaddr *)&t->addr[ai];
	uint8_t *wire = NULL;
	size_t len = 0;
	dnsq_addr_str(sa, ans->server, sizeof(ans->server));
	int rc = dnsq_exchange(sa, t->addrlen[ai], req->wire, req->len, tcp, t->try_ms, &wire, &len,
			       ans->why, sizeof(ans->why));
	if (rc == DS_OK && !tcp && (rd_u16(wire + 2) & MSG_TC)) {
		struct msg *m = calloc(1, sizeof(*m));
		if (m != NULL && msg_parse(m, wire, len) == DS_OK)
			learn_cookie(t, ai, m);
		if (m != NULL)
			msg_clear(m);
		free(m);
		free(wire);
		wire = NULL;
		tcp = true;
		rc = dnsq_exchange(sa, t->addrlen[ai], req->wire, req->len, true, t->try_ms, &wire,
				   &len, ans->why, sizeof(ans->why));
	}
	if (rc == DS_OK) {
		ans->tcp = tcp;
		rc = read_answer(t, req, ai, wire, len, ans);
	}
	free(wire);
	return rc;
}

/*
 * The request's bytes for a try at address ai: built (and signed) again
 * when its SIG(0) would expire during the try, or when the COOKIE that
 * address wants is not the one in them; else sent as they were.
 */
static int prepare_try(const struct agent_target *t, struct agent_request *req, size_t ai,
		       struct agent_answer *ans)
{
	const struct agent_cookies *ck = t->cookies;
	const uint8_t *cookie = ck != NULL ? ck->c[ai] : NULL;
	size_t cookielen = ck != NULL ? ck->len[ai] : 0;
	uint32_t end = (uint32_t)time(NULL) + t->try_ms / 1000 + RESIGN_MARGIN;
	ans->cookie = cookielen > COOKIE_CLIENT_LEN;
	if (req->len > 0 && (int32_t)(req->expiration - end) >= 0 && req->cookielen == cookielen &&
	    (cookielen == 0 || memcmp(req->cookie, cookie, cookielen) == 0))
		return DS_OK;
	if (cookielen > 0)
		memcpy(req->cookie, cookie, cookielen);
	req->cookielen = cookielen;
	return build(req, cookie, cookielen, ans->why, sizeof(ans->why));
}

int agent_send(const struct agent_target *t, struct agent_request *req, struct agent_answer *ans)
{
	bool tcp = req->kind == AGENT_REQ_UPDATE ? t->tcp_update : t->tcp_query;
	unsigned wait = t->backoff_ms;
	char rc_name[16];

	memset(ans, 0, sizeof(*ans));
	if (t->naddr == 0) {
		snprintf(ans->why, sizeof(ans->why), "no address of the UPDATE Receiver");
		return DS_EINVAL;
	}
	int rc = DS_OK;
	for (unsigned try = 0; try <= t->retries; try++) {
		if (try > 0) {
			sleep_ms(wait);
			wait = wait * 2 > wait ? wait * 2 : wait;
		}
		if ((rc = prepare_try(t, req, try % t->naddr, ans)) != DS_OK)
			return rc;
		ans->answered = false;
		ans->tries = try + 1;
		rc = one_try(t, req, try % t->naddr, tcp, ans);
		if (rc == DS_ENOMEM || rc == DS_ECRYPTO || rc == DS_EINVAL)
			return rc;
		if (rc == DS_OK && ans->rcode != RC_SERVFAIL)
			return DS_OK;
		if (!t->quiet) {
			if (rc == DS_OK)
				fprintf(
				    stderr, "dsync-agent: try %u/%u: %s over %s answered %s%s%s\n",
				    try + 1, t->retries + 1, ans->server, ans->tcp ? "TCP" : "UDP",
				    rr_rcode_str(ans->rcode, rc_name, sizeof(rc_name)),
				    ans->has_ede ? ": " : "", ans->has_ede ? ans->ede_text : "");
			else
				fprintf(stderr, "dsync-agent: try %u/%u over %s: %s\n", try + 1,
					t->retries + 1, tcp ? "TCP" : "UDP", ans->why);
		}
	}
	/* a SERVFAIL after the last retry is still an answer */
	return ans->answered ? DS_OK : DS_EAGAIN;
}

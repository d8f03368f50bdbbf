/*
 * backends/dnsupdate.c -- the "dnsupdate" backend: accepted changes go to
 * the parent zone's primary server (Knot DNS, BIND, PowerDNS...) as RFC
 * 2136 UPDATEs signed with TSIG (RFC 8945), over TCP.
 *
 * For each child of a batch the UPDATE replaces the child's delegation as
 * a whole, from the store's current data: the NS and DS RRsets at the child
 * and the A/AAAA RRsets of every glue name it has or had (named in the
 * batch's changes) are deleted, then the current records added.  A batch
 * delivered again therefore converges to the same zone, and so does a
 * batch that was overtaken by a later change of the same child.  A child's
 * records never span two messages; children are packed into messages up to
 * max-message-size.  The primaries are tried in order until one answers;
 * the answer must be NOERROR and carry a TSIG by the same key that
 * verifies, else the delivery fails (the outbox retries it with backoff).
 * The primary bumps the zone's SOA serial, as it does for every UPDATE.
 */
#include <openssl/rand.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "backends/deleg_names.h"
#include "common/axfr.h"
#include "common/dname.h"
#include "common/dnsq.h"
#include "common/err.h"
#include "common/rrtext.h"
#include "common/tsig.h"
#include "common/wire.h"

#define DU_PRIMARIES_MAX 8
#define DU_TSIG_ROOM 400 /* the TSIG record ldns adds: names, times, a 64-byte MAC */

/* The settings of a "dnsupdate" backend group (dsyncd.conf(5)). */
struct dnsupdate_settings {
	char **primaries;    /* "address" or "address@port", tried in order */
	char *tsig_key;	     /* "algorithm:name:secret" */
	char *tsig_key_file; /* a BIND key clause */
	unsigned timeout;    /* seconds for one primary: connect, send, answer */
	unsigned max_message;
};

struct du_state {
	uint8_t zone[DNAME_MAX];
	struct tsig_key key;
	struct sockaddr_storage prim[DU_PRIMARIES_MAX];
	socklen_t primlen[DU_PRIMARIES_MAX];
	const char *primstr[DU_PRIMARIES_MAX];
	char **primaries; /* the setting, for primstr */
	size_t nprim;
	unsigned timeout_ms;
	size_t max_message;
};

/* ---- settings ----------------------------------------------------------- */

static int du_key(const struct dnsupdate_settings *st, struct tsig_key *k, char *err, size_t errlen)
{
	char why[300] = "";
	int rc;
	if ((st->tsig_key == NULL) == (st->tsig_key_file == NULL)) {
		ds_why(err, errlen, "dnsupdate needs one of tsig-key and tsig-key-file");
		return DS_ECONFIG;
	}
	if (st->tsig_key != NULL)
		rc = tsig_key_from_str(st->tsig_key, k, why, sizeof(why));
	else
		rc = tsig_key_read(st->tsig_key_file, k, why, sizeof(why));
	if (rc != DS_OK) {
		ds_why(err, errlen, "dnsupdate: %s", why);
		return DS_ECONFIG;
	}
	return DS_OK;
}

static int du_init(const struct cfg_backend *bc, const struct cfg_zone *zc, void **state, char *err,
		   size_t errlen)
{
	const struct dnsupdate_settings *st = bc->settings;
	struct du_state *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return DS_ENOMEM;
	memcpy(s->zone, zc->name, dname_len(zc->name));
	s->timeout_ms = st->timeout * 1000;
	s->max_message = st->max_message;
	int rc = du_key(st, &s->key, err, errlen);
	for (size_t i = 0; rc == DS_OK && st->primaries && st->primaries[i]; i++) {
		if (i == DU_PRIMARIES_MAX || dnsq_addr_from_str(st->primaries[i], 53, &s->prim[i],
								&s->primlen[i]) != DS_OK) {
			ds_why(err, errlen, "dnsupdate: primary \"%s\" is not an address[@port]%s",
			       st->primaries[i], i == DU_PRIMARIES_MAX ? " (at most 8)" : "");
			rc = DS_ECONFIG;
			break;
		}
		s->primstr[i] = st->primaries[i];
		s->nprim = i + 1;
	}
	if (rc == DS_OK && s->nprim == 0) {
		ds_why(err, errlen, "dnsupdate needs primaries");
		rc = DS_ECONFIG;
	}
	if (rc != DS_OK) {
		free(s);
		return rc;
	}
	*state = s;
	return DS_OK;
}

static void du_free(void *state)
{
	free(state);
}

/* ---- messages ----------------------------------------------------------- */

/* An UPDATE being filled: header and zone section, then update records. */
struct du_msg {
	uint8_t buf[DNSQ_ANSWER_MAX];
	struct wbuf w;
	uint16_t nup;
};

static void msg_start(struct du_msg *m, const uint8_t *zone)
{
	uint16_t id = 0;
	if (RAND_bytes((unsigned char *)&id, sizeof(id)) != 1)
		id = (uint16_t)rand();
	wbuf_init(&m->w, m->buf, sizeof(m->buf));
	wbuf_u16(&m->w, id);
	wbuf_u16(&m->w, OP_UPDATE << 11);
	wbuf_u16(&m->w, 1); /* zone */
	wbuf_u16(&m->w, 0); /* prerequisites */
	wbuf_u16(&m->w, 0); /* updates: set when sent */
	wbuf_u16(&m->w, 0);
	wbuf_bytes(&m->w, zone, dname_len(zone));
	wbuf_u16(&m->w, T_SOA);
	wbuf_u16(&m->w, CLASS_IN);
	m->nup = 0;
}

static void msg_rr(struct wbuf *w, const uint8_t *owner, uint16_t type, uint16_t rclass,
		   uint32_t ttl, const uint8_t *rdata, uint16_t rdlen)
{
	wbuf_bytes(w, owner, dname_len(owner));
	wbuf_u16(w, type);
	wbuf_u16(w, rclass);
	wbuf_u32(w, ttl);
	wbuf_u16(w, rdlen);
	wbuf_bytes(w, rdata, rdlen);
}

/*
 * The update records that make child's delegation what d holds: its NS and
 * DS RRsets and the A/AAAA RRsets of every glue name deleted, then d's
 * records added.  Returns their number.
 */
static uint16_t child_records(struct wbuf *w, const uint8_t *child, const struct deleg *d,
			      const struct deleg_names *g)
{
	uint16_t n = 0;
	msg_rr(w, child, T_NS, CLASS_ANY, 0, NULL, 0);
	msg_rr(w, child, T_DS, CLASS_ANY, 0, NULL, 0);
	n += 2;
	for (size_t i = 0; i < g->n; i++, n += 2) {
		msg_rr(w, g->name[i], T_A, CLASS_ANY, 0, NULL, 0);
		msg_rr(w, g->name[i], T_AAAA, CLASS_ANY, 0, NULL, 0);
	}
	for (size_t i = 0; i < d->n; i++, n++)
		msg_rr(w, d->rr[i].owner, d->rr[i].type, CLASS_IN, d->rr[i].ttl, d->rr[i].rdata,
		       d->rr[i].rdlen);
	return n;
}

/* ---- sending ------------------------------------------------------------ */

/* The answer of one primary: NOERROR with a TSIG that verifies, or why not. */
static int check_answer(const struct du_state *s, const struct tsig_request *req, size_t i,
			const uint8_t *ans, size_t len, char *err, size_t errlen)
{
	char why[300] = "", rb[16];
	unsigned rcode = ans[3] & 0x0f;
	int trc = tsig_check_answer(&s->key, req, ans, len, why, sizeof(why));
	if (rcode != RC_NOERROR) {
		ds_why(err, errlen, "primary %s answered the UPDATE with %s%s%s", s->primstr[i],
		       rr_rcode_str(rcode, rb, sizeof(rb)), trc != DS_OK ? "; " : "",
		       trc != DS_OK ? why : "");
		return DS_EIO;
	}
	if (trc != DS_OK) {
		ds_why(err, errlen, "primary %s: %s", s->primstr[i], why);
		return DS_EBADSIG;
	}
	return DS_OK;
}

/* Sign m and send it to the primaries in order, until one answers. */
static int msg_send(const struct du_state *s, struct du_msg *m, char *err, size_t errlen)
{
	uint8_t *signed_msg = NULL, *ans = NULL;
	size_t slen = 0, alen = 0;
	struct tsig_request *req = NULL;
	wbuf_put_u16_at(&m->w, 8, m->nup);
	if (m->w.err != DS_OK)
		return m->w.err;
	int rc = tsig_sign(&s->key, m->buf, m->w.len, &signed_msg, &slen, &req);
	if (rc != DS_OK) {
		ds_why(err, errlen, "cannot sign the UPDATE with TSIG key %s: %s", s->key.name,
		       ds_strerror(rc));
		return rc;
	}
	/* an answer settles it; no answer (or none that fits): the next primary */
	rc = DS_EIO;
	for (size_t i = 0; i < s->nprim; i++) {
		char why[300] = "";
		rc = dnsq_exchange((const struct sockaddr *)&s->prim[i], s->primlen[i], signed_msg,
				   slen, true, s->timeout_ms, &ans, &alen, why, sizeof(why));
		if (rc == DS_OK) {
			rc = check_answer(s, req, i, ans, alen, err, errlen);
			free(ans);
			break;
		}
		ds_why(err, errlen, "%s", why);
		rc = DS_EIO;
	}
	free(signed_msg);
	tsig_request_free(req);
	return rc;
}

/* ---- delivery ----------------------------------------------------------- */

/* Child's records into part: what its changes named, and what it has now. */
static int child_part(const struct backend_batch *b, const uint8_t *child, struct wbuf *part,
		      uint16_t *n, char *err, size_t errlen)
{
	struct deleg_child *c = malloc(sizeof(*c));
	int rc = c ? deleg_child_load(b, child, c) : DS_ENOMEM;
	if (rc == DS_OK) {
		*n = child_records(part, child, &c->d, &c->glue);
		rc = part->err;
	}
	if (rc == DS_ELIMIT)
		ds_why(err, errlen,
		       "dnsupdate: the records of one child do not fit in "
		       "max-message-size");
	else if (rc != DS_OK)
		ds_why(err, errlen, "dnsupdate: cannot read the delegation: %s", ds_strerror(rc));
	free(c);
	return rc;
}

static int du_deliver(void *state, const struct backend_batch *b, char *err, size_t errlen)
{
	const struct du_state *s = state;
	struct du_msg *m = malloc(sizeof(*m));
	uint8_t *pbuf = malloc(DNSQ_ANSWER_MAX);
	int rc = m && pbuf ? DS_OK : DS_ENOMEM;
	size_t limit = s->max_message - DU_TSIG_ROOM;
	if (m)
		msg_start(m, s->zone);
	for (size_t i = 0; rc == DS_OK && i < b->nchanges; i++) {
		const uint8_t *child = b->changes[i].child;
		struct wbuf part;
		uint16_t n = 0;
		if (!deleg_first_change(b, i))
			continue; /* one replacement per child */
		wbuf_init(&part, pbuf, limit);
		rc = child_part(b, child, &part, &n, err, errlen);
		if (rc == DS_OK && m->nup > 0 && m->w.len + part.len > limit) {
			rc = msg_send(s, m, err, errlen);
			msg_start(m, s->zone);
		}
		if (rc == DS_OK) {
			wbuf_bytes(&m->w, part.buf, part.len);
			m->nup = (uint16_t)(m->nup + n);
		}
	}
	if (rc == DS_OK && m->nup > 0)
		rc = msg_send(s, m, err, errlen);
	free(m);
	free(pbuf);
	return rc;
}

/* What the primary serves: a zone transfer with the key, primaries in order. */
static int du_fetch(void *state, zf_rr_cb cb, void *arg, char *err, size_t errlen)
{
	const struct du_state *s = state;
	int rc = DS_EIO;
	for (size_t i = 0; i < s->nprim && rc == DS_EIO; i++) {
		char why[300] = "";
		rc = axfr_fetch(&s->prim[i], s->zone, &s->key, s->timeout_ms, cb, arg, why,
				sizeof(why));
		if (rc == DS_EIO)
			ds_why(err, errlen, "primary %s: %s", s->primstr[i], why);
	}
	return rc;
}

static const struct cfg_setting du_settings[] = {
    {"primaries", CFG_STRV, NULL, 1, DU_PRIMARIES_MAX,
     offsetof(struct dnsupdate_settings, primaries),
     "the primary's addresses (address or address@port, port 53 by default), tried in order"},
    {"tsig-key", CFG_STR, NULL, 0, 0, offsetof(struct dnsupdate_settings, tsig_key),
     "the TSIG key as algorithm:name:secret"},
    {"tsig-key-file", CFG_PATH, NULL, 0, 0, offsetof(struct dnsupdate_settings, tsig_key_file),
     "a file with the TSIG key as a BIND key clause"},
    {"timeout", CFG_UINT, "10", 1, 300, offsetof(struct dnsupdate_settings, timeout),
     "seconds one primary may take to answer"},
    {"max-message-size", CFG_UINT, "65535", 1024, 65535,
     offsetof(struct dnsupdate_settings, max_message),
     "the largest UPDATE sent; a batch is split into messages of at most this size"},
    {.name = NULL},
};

BACKEND_DEFINE_WITH(dnsupdate, du_settings, sizeof(struct dnsupdate_settings), .init = du_init,
		    .free = du_free, .deliver = du_deliver, .fetch = du_fetch);

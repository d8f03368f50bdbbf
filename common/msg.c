/*
 * common/msg.c -- one pass over a received message with the bounds-checked
 * cursor; see msg.h for the structural rules enforced here.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/msg.h"
#include "common/wire.h"
#include "common/vec.h"

static int fail(struct msg *m, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct msg *m, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m->why, sizeof(m->why), fmt, ap);
	va_end(ap);
	return err;
}

/* Copy n bytes into the arena; returns the offset or UINT32_MAX on ENOMEM. */
static uint32_t arena_put(struct msg *m, const uint8_t *p, size_t n)
{
	uint8_t *a = vec_grow(m->arena, &m->arena_cap, m->arena_len + n, 1, 1024);
	if (a == NULL)
		return UINT32_MAX;
	m->arena = a;
	uint32_t off = (uint32_t)m->arena_len;
	memcpy(m->arena + off, p, n);
	m->arena_len += n;
	return off;
}

/* Does this type carry names that senders may compress (RFC 3597 section 4)? */
static bool has_comp_names(uint16_t type)
{
	switch (type) {
	case T_NS:
	case T_MD:
	case T_MF:
	case T_CNAME:
	case T_MB:
	case T_MG:
	case T_MR:
	case T_PTR:
	case T_SOA:
	case T_MX:
	case 14 /* MINFO */:
		return true;
	default:
		return false;
	}
}

/* Decompress the names of rr's RDATA into the arena (rr->crd/crdlen). */
static int decompress_rdata(struct msg *m, struct msg_rr *rr)
{
	uint8_t out[2 * DNAME_MAX + 32], name[DNAME_MAX];
	size_t o = 0, n;
	struct wire w;
	wire_init(&w, m->wire, rr->rdoff + rr->rdlen); /* names may not run past RDATA */
	wire_seek(&w, rr->rdoff);
	int names = (rr->type == T_SOA || rr->type == 14) ? 2 : 1;
	if (rr->type == T_MX) {
		const uint8_t *pref = wire_bytes(&w, 2); /* rdlen may be < 2 */
		if (pref == NULL)
			return fail(m, DS_EMALF, "RDATA of a type %u record is too short",
				    rr->type);
		memcpy(out, pref, 2);
		o = 2;
	}
	for (int i = 0; i < names; i++) {
		n = wire_name(&w, name);
		if (n == 0)
			return fail(m, DS_EMALF, "bad name in RDATA of a type %u record", rr->type);
		memcpy(out + o, name, n);
		o += n;
	}
	if (rr->type == T_SOA) {
		const uint8_t *fixed = wire_bytes(&w, 20);
		if (fixed == NULL)
			return fail(m, DS_EMALF, "SOA RDATA too short");
		memcpy(out + o, fixed, 20);
		o += 20;
	}
	if (wire_err(&w) || w.pos != (size_t)rr->rdoff + rr->rdlen)
		return fail(m, DS_EMALF, "RDATA of a type %u record has the wrong length",
			    rr->type);
	rr->crd = arena_put(m, out, o);
	if (rr->crd == UINT32_MAX)
		return DS_ENOMEM;
	rr->crdlen = (uint16_t)o;
	return DS_OK;
}

static const char *sec_name[4] = {"zone", "prerequisite", "update", "additional"};

static int parse_rr(struct msg *m, struct wire *w, int sec, struct msg_rr *rr)
{
	uint8_t name[DNAME_MAX];
	rr->section = (uint8_t)sec;
	rr->off = (uint32_t)w->pos;
	size_t n = wire_name(w, name);
	if (n == 0)
		return fail(m, wire_err(w) == DS_ETRUNC ? DS_ETRUNC : DS_EMALF,
			    "bad owner name in the %s section", sec_name[sec]);
	rr->owner = arena_put(m, name, n);
	if (rr->owner == UINT32_MAX)
		return DS_ENOMEM;
	rr->type = wire_u16(w);
	rr->rclass = wire_u16(w);
	rr->crd = UINT32_MAX;
	if (sec == SEC_ZONE) {
		rr->ttl = 0;
		rr->rdoff = (uint32_t)w->pos;
		rr->rdlen = rr->crdlen = 0;
	} else {
		rr->ttl = wire_u32(w);
		rr->rdlen = wire_u16(w);
		rr->rdoff = (uint32_t)w->pos;
		rr->crdlen = rr->rdlen;
		wire_skip(w, rr->rdlen);
	}
	if (wire_err(w))
		return fail(m, DS_ETRUNC, "record in the %s section runs past the end",
			    sec_name[sec]);
	rr->end = (uint32_t)w->pos;
	if (rr->rdlen > 0 && has_comp_names(rr->type))
		return decompress_rdata(m, rr);
	return DS_OK;
}

/* A TSIG in the additional section: the last record, never with SIG(0). */
static int take_tsig(struct msg *m)
{
	if (m->nsig)
		return fail(m, DS_EMALF, "both SIG(0) and TSIG present");
	m->has_tsig = true;
	return DS_OK;
}

/* A SIG in the additional section: it must be a SIG(0) (sig0_form), at most MSG_MAX_SIG0. */
static int take_sig0(struct msg *m, size_t i, bool sig0_form)
{
	if (!sig0_form)
		return fail(m, DS_EMALF,
			    "SIG in the additional section is not a SIG(0) "
			    "(type covered and labels must be 0)");
	if (m->nsig == MSG_MAX_SIG0)
		return fail(m, DS_EMALF, "more than %d SIG(0) records", MSG_MAX_SIG0);
	m->sig_idx[m->nsig++] = i;
	return DS_OK;
}

/* The one OPT record, owned by the root: its EDNS fields. */
static int take_opt(struct msg *m, size_t i)
{
	const struct msg_rr *rr = &m->rr[i];

	if (m->has_opt)
		return fail(m, DS_EMALF, "more than one OPT record");
	if (m->arena[rr->owner] != 0)
		return fail(m, DS_EMALF, "OPT owner is not the root");
	m->has_opt = true;
	m->opt_idx = i;
	m->edns_udp = rr->rclass < 512 ? 512 : rr->rclass;
	m->edns_ext_rcode = (uint8_t)(rr->ttl >> 24);
	m->edns_version = (uint8_t)(rr->ttl >> 16);
	m->edns_do = (rr->ttl & 0x8000) != 0;
	return DS_OK;
}

/* RR placement rules for OPT, SIG(0) and TSIG. */
static int check_meta(struct msg *m, size_t i)
{
	struct msg_rr *rr = &m->rr[i];
	const uint8_t *rd = m->wire + rr->rdoff;
	bool is_sig0 = rr->type == T_SIG && rr->rdlen >= 18 && rd_u16(rd) == 0;

	if (rr->section != SEC_ADDITIONAL) {
		if (rr->type == T_OPT || rr->type == T_TSIG || is_sig0)
			return fail(m, DS_EMALF, "%s record outside the additional section",
				    rr->type == T_OPT	 ? "OPT"
				    : rr->type == T_TSIG ? "TSIG"
							 : "SIG(0)");
		return DS_OK;
	}
	if (m->has_tsig)
		return fail(m, DS_EMALF, "TSIG is not the last record");
	if (rr->type == T_TSIG)
		return take_tsig(m);
	if (rr->type == T_SIG) /* labels (rd[3]) must be 0 too */
		return take_sig0(m, i, is_sig0 && rd[3] == 0);
	if (m->nsig)
		return fail(m, DS_EMALF, "SIG(0) is not at the end of the additional section");
	return rr->type == T_OPT ? take_opt(m, i) : DS_OK;
}

/*
 * After a failed parse: look for the OPT record with a cursor of its own, so
 * that a FORMERR can still carry an EDE saying why (RFC 8914).  Every record
 * is only stepped over (owner, fixed fields, RDATA length); nothing of it is
 * kept but the OPT's EDNS fields.  Found only when every record before it
 * can be stepped over, it is the only OPT, it sits in the additional section
 * and its owner is the root; m->opt_idx is left at SIZE_MAX (the OPT is not
 * one of the m->nrr records that were checked).
 */
static void find_opt(struct msg *m)
{
	struct wire w;
	uint8_t name[DNAME_MAX];
	uint16_t rclass = 0;
	uint32_t ttl = 0;
	int found = 0;
	wire_init(&w, m->wire, m->len);
	wire_seek(&w, DNS_HDR_LEN);
	for (int s = 0; s < 4; s++) {
		for (unsigned k = 0; k < m->hdr_count[s]; k++) {
			size_t n = wire_name(&w, name);
			uint16_t type = wire_u16(&w), cl = wire_u16(&w);
			uint32_t t = 0;
			if (s != SEC_ZONE) {
				t = wire_u32(&w);
				wire_skip(&w, wire_u16(&w));
			}
			if (n == 0 || wire_err(&w))
				return; /* the message does not let us get further */
			if (type != T_OPT)
				continue;
			if (s != SEC_ADDITIONAL || name[0] != 0 || found++)
				return;
			rclass = cl;
			ttl = t;
		}
	}
	if (!found)
		return;
	m->has_opt = true;
	m->opt_idx = SIZE_MAX;
	m->edns_udp = rclass < 512 ? 512 : rclass;
	m->edns_ext_rcode = (uint8_t)(ttl >> 24);
	m->edns_version = (uint8_t)(ttl >> 16);
	m->edns_do = (ttl & 0x8000) != 0;
}

int msg_parse(struct msg *m, const uint8_t *wire, size_t len)
{
	uint8_t *arena = m->arena;
	size_t cap = m->arena_cap;
	memset(m, 0, offsetof(struct msg, rr_store));
	m->arena = arena;
	m->arena_cap = cap;
	m->arena_len = 0;
	m->wire = wire;
	m->len = len;
	m->rr = m->rr_store;

	if (len < DNS_HDR_LEN)
		return fail(m, DS_ETRUNC, "message shorter than the 12-byte header");
	struct wire w;
	wire_init(&w, wire, len);
	m->id = wire_u16(&w);
	m->flags = wire_u16(&w);
	m->opcode = (uint8_t)msg_hdr_opcode(m->flags);
	size_t total = 0, minbytes = 0;
	for (int s = 0; s < 4; s++) {
		m->hdr_count[s] = wire_u16(&w);
		total += m->hdr_count[s];
		minbytes += (size_t)m->hdr_count[s] * (s == SEC_ZONE ? 5 : 11);
	}
	if (minbytes > len - DNS_HDR_LEN)
		return fail(m, DS_EMALF, "section counts (%u/%u/%u/%u) larger than the data",
			    m->hdr_count[0], m->hdr_count[1], m->hdr_count[2], m->hdr_count[3]);
	if (total > MSG_MAX_RRS) {
		find_opt(m);
		return fail(m, DS_ELIMIT, "%zu records; at most %d are accepted", total,
			    MSG_MAX_RRS);
	}

	size_t i = 0;
	for (int s = 0; s < 4; s++) {
		m->sec_first[s] = i;
		for (unsigned k = 0; k < m->hdr_count[s]; k++, i++) {
			int rc = parse_rr(m, &w, s, &m->rr[i]);
			if (rc == DS_OK) {
				/* read whole and in bounds: it counts, even when a
				 * placement rule refuses it below */
				m->nrr = i + 1;
				m->count[s]++;
				rc = check_meta(m, i);
			}
			if (rc != DS_OK) {
				for (int t = s + 1; t < 4; t++)
					m->sec_first[t] = m->nrr;
				if (!m->has_opt)
					find_opt(m);
				return rc;
			}
		}
	}
	if (w.pos != len)
		return fail(m, DS_EMALF, "%zu bytes of trailing data", len - w.pos);
	m->parsed = true;
	return DS_OK;
}

void msg_clear(struct msg *m)
{
	free(m->arena);
	m->arena = NULL;
	m->arena_cap = m->arena_len = 0;
	m->nrr = 0;
}

const uint8_t *edns_opt_find(const uint8_t *rdata, size_t rdlen, uint16_t code, size_t *len)
{
	const uint8_t *found = NULL;
	size_t found_len = 0;
	struct wire w;

	*len = 0;
	if (!rdata) {
		if (rdlen)
			*len = SIZE_MAX;
		return NULL;
	}
	/* Walk the whole list even after a match: a list that ends in a
	 * truncated option is malformed as a whole, whatever comes first. */
	wire_init(&w, rdata, rdlen);
	while (wire_left(&w) > 0) {
		uint16_t oc = wire_u16(&w);
		uint16_t ol = wire_u16(&w);
		const uint8_t *v = wire_bytes(&w, ol);
		if (wire_err(&w)) {
			*len = SIZE_MAX;
			return NULL;
		}
		if (oc == code && !found) {
			found = v;
			found_len = ol;
		}
	}
	if (found)
		*len = found_len;
	return found;
}

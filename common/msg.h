/*
 * common/msg.h -- one parsed DNS message, viewed in place.
 *
 * msg_parse() walks the received bytes once with the bounds-checked cursor,
 * records every RR (section, offsets, decompressed owner and, for the types
 * whose RDATA may carry compressed names, decompressed RDATA), and finds the
 * OPT and SIG(0)/TSIG records.  The message keeps pointing at the caller's
 * buffer: the buffer must outlive the struct msg.  Decompressed names live
 * in a per-message arena freed by msg_clear().
 *
 * Structural rules enforced here (FORMERR with a reason on violation):
 * counts match the data, no trailing bytes, at most one OPT (additional
 * section only, owner root), SIG(0) only at the end of the additional section
 * after at most one OPT, type covered 0 and labels 0, at most MSG_MAX_SIG0
 * of them; TSIG only as the very last record.
 */
#ifndef DS_COMMON_MSG_H
#define DS_COMMON_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/dns.h"

#define MSG_MAX_RRS 256 /* hard bound on RRs in one message (R12) */
#define MSG_MAX_SIG0 2	/* R3/R4: at most two SIG(0) records looked at */

struct msg_rr {
	uint8_t section; /* enum dns_section */
	uint16_t type;
	uint16_t rclass;
	uint32_t ttl;
	uint32_t owner; /* offset of the decompressed owner in msg->arena */
	uint32_t off;	/* offset of the RR's first byte in the message */
	uint32_t end;	/* offset just after the RR */
	uint32_t rdoff; /* offset of RDATA in the message */
	uint16_t rdlen; /* RDATA length as received */
	/* RDATA with names decompressed: points into the message when the type
	 * carries no compressible names, else into the arena. */
	uint32_t crd; /* arena offset, or UINT32_MAX for "use rdoff" */
	uint16_t crdlen;
};

struct msg {
	const uint8_t *wire;
	size_t len;

	uint16_t id;
	uint16_t flags; /* header bytes 2-3 */
	uint8_t opcode;
	/* true once msg_parse() returned DS_OK: every record was read whole */
	bool parsed;
	uint16_t hdr_count[4]; /* the section counts of the header, as received */
	/* records of each section read whole and in bounds; equal to hdr_count
	 * after a successful parse, fewer when it failed */
	uint16_t count[4];

	struct msg_rr *rr; /* all RRs in wire order */
	size_t nrr;
	size_t sec_first[4]; /* index of the first RR of each section */

	/* EDNS(0) */
	bool has_opt;
	size_t opt_idx;
	uint16_t edns_udp;
	uint8_t edns_version;
	uint8_t edns_ext_rcode;
	bool edns_do;

	/* SIG(0) records (indices into rr[], in wire order) */
	size_t nsig;
	size_t sig_idx[MSG_MAX_SIG0];
	bool has_tsig;

	/* parse failure description (for FORMERR EDE text) */
	char why[128];

	uint8_t *arena;
	size_t arena_len, arena_cap;
	struct msg_rr rr_store[MSG_MAX_RRS];
};

/* Header flag helpers. */
#define MSG_QR 0x8000
#define MSG_AA 0x0400
#define MSG_TC 0x0200
#define MSG_RD 0x0100
#define MSG_RA 0x0080
#define MSG_CD 0x0010
static inline unsigned msg_hdr_opcode(uint16_t flags)
{
	return (flags >> 11) & 0xf;
}

/*
 * Parse len bytes at wire into m (which the caller allocated; it is large).
 * Returns DS_OK, DS_ETRUNC/DS_EMALF (m->why says what; answer FORMERR) or
 * DS_ELIMIT (more than MSG_MAX_RRS records; answer REFUSED) or DS_ENOMEM.
 * When the header could be read (len >= 12), m->id, flags and opcode are set
 * even on failure, so a FORMERR can still be addressed.
 *
 * After a failure only what was checked is there: m->nrr, m->count[] and
 * msg_section() cover only the records read whole (the record that ran past
 * the end is not among them); m->hdr_count[] keeps the header's counts.  The
 * EDNS fields (has_opt, edns_*) are set when the OPT record could still be
 * found (so that the FORMERR can carry an EDE); m->opt_idx is then SIZE_MAX
 * when that OPT is not one of the m->nrr records.
 */
int msg_parse(struct msg *m, const uint8_t *wire, size_t len);

/* Release the arena; m can be reused with msg_parse(). */
void msg_clear(struct msg *m);

/* Decompressed owner name of rr. */
static inline const uint8_t *msg_owner(const struct msg *m, const struct msg_rr *rr)
{
	return m->arena + rr->owner;
}

/* RDATA with decompressed names (see struct msg_rr.crd). */
static inline const uint8_t *msg_rdata(const struct msg *m, const struct msg_rr *rr)
{
	return rr->crd == UINT32_MAX ? m->wire + rr->rdoff : m->arena + rr->crd;
}

/* Number of RRs in a section and the first one. */
static inline const struct msg_rr *msg_section(const struct msg *m, int sec, size_t *n)
{
	*n = m->count[sec];
	return m->rr + m->sec_first[sec];
}

/*
 * Find option `code` in the RDATA of an OPT record (a list of code/length/
 * value options).  Returns a pointer into rdata to the first such option's
 * payload and sets *len (a zero-length option gives a non-NULL pointer and
 * *len = 0); NULL and *len = 0 when absent; NULL and *len = SIZE_MAX when
 * the option list is malformed anywhere (an option header or value runs past
 * rdlen), even if the option was found before the bad part.
 */
const uint8_t *edns_opt_find(const uint8_t *rdata, size_t rdlen, uint16_t code, size_t *len);

#endif

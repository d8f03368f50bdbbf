/*
 * tests/fuzz/fuzz_msg.c -- msg_parse() over arbitrary bytes.  Every RR the
 * parser hands out is read back in full (owner, RDATA) so ASan sees any
 * offset that points outside the message or the arena, owners are printed
 * with dname_to_str(), and RDATA with rr_rdata_to_str().
 */
#include <string.h>

#include "common/dname.h"
#include "common/err.h"
#include "common/msg.h"
#include "common/rrtext.h"
#include "tests/fuzz/fuzz.h"

static struct msg m; /* large; kept between inputs so arena reuse is fuzzed too */
static char text[2 * 65536 + DNAME_STR_MAX + 64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int rc = msg_parse(&m, data, size);
	FUZZ_ASSERT(rc == DS_OK || rc == DS_ETRUNC || rc == DS_EMALF || rc == DS_ELIMIT);
	FUZZ_ASSERT(rc == DS_OK || m.why[0] != '\0');
	FUZZ_ASSERT(memchr(m.why, '\0', sizeof(m.why)) != NULL);
	FUZZ_ASSERT(m.nrr <= MSG_MAX_RRS);

	unsigned sum = 0;
	for (size_t i = 0; i < m.nrr; i++) {
		const struct msg_rr *rr = &m.rr[i];
		FUZZ_ASSERT(rr->section <= SEC_ADDITIONAL);
		FUZZ_ASSERT(rr->off < rr->end && rr->end <= size);
		FUZZ_ASSERT(rr->rdoff + (size_t)rr->rdlen <= rr->end);

		const uint8_t *owner = msg_owner(&m, rr);
		size_t olen = dname_len(owner);
		FUZZ_ASSERT(olen >= 1 && olen <= DNAME_MAX);
		FUZZ_ASSERT(dname_labels(owner) <= DNAME_LABELS);
		FUZZ_ASSERT(dname_to_str(owner, text, DNAME_STR_MAX) == DS_OK);
		uint8_t back[DNAME_MAX];
		FUZZ_ASSERT(dname_from_str(text, back) == (int)olen);
		FUZZ_ASSERT(memcmp(back, owner, olen) == 0);

		const uint8_t *rd = msg_rdata(&m, rr);
		for (size_t k = 0; k < rr->crdlen; k++)
			sum += rd[k];
		if (rr->crd == UINT32_MAX)
			FUZZ_ASSERT(rr->crdlen == rr->rdlen);
		else
			FUZZ_ASSERT(rr->crd + (size_t)rr->crdlen <= m.arena_len);
		(void)rr_rdata_to_str(rr->type, rd, rr->crdlen, text, sizeof(text));
		if (rr->type == T_NS && rr->rdlen > 0) /* decompressed: one whole name */
			FUZZ_ASSERT(dname_len(rd) == rr->crdlen);
	}

	/* success or not, the sections hand out exactly the records read whole */
	size_t total = 0;
	for (int s = 0; s < 4; s++) {
		size_t n;
		const struct msg_rr *first = msg_section(&m, s, &n);
		FUZZ_ASSERT(first == m.rr + m.sec_first[s]);
		FUZZ_ASSERT(m.sec_first[s] + n <= m.nrr);
		FUZZ_ASSERT(n <= m.hdr_count[s]);
		for (size_t k = 0; k < n; k++)
			FUZZ_ASSERT(first[k].section == s);
		total += n;
	}
	FUZZ_ASSERT(total == m.nrr);
	FUZZ_ASSERT(m.parsed == (rc == DS_OK));
	FUZZ_ASSERT(!m.has_opt || m.edns_udp >= 512);
	FUZZ_ASSERT(!m.has_opt || m.opt_idx < m.nrr || (rc != DS_OK && m.opt_idx == SIZE_MAX));
	if (rc == DS_OK) {
		FUZZ_ASSERT(m.nrr == 0 ? size == DNS_HDR_LEN : m.rr[m.nrr - 1].end == size);
		FUZZ_ASSERT(m.nsig <= MSG_MAX_SIG0);
		FUZZ_ASSERT(!(m.nsig && m.has_tsig));
		for (size_t k = 0; k < m.nsig; k++) {
			const struct msg_rr *s = &m.rr[m.sig_idx[k]];
			FUZZ_ASSERT(s->type == T_SIG && s->section == SEC_ADDITIONAL && s->rdlen >= 18);
			FUZZ_ASSERT(m.sig_idx[k] + m.nsig - k == m.nrr); /* at the very end */
		}
		if (m.has_opt) {
			FUZZ_ASSERT(m.rr[m.opt_idx].type == T_OPT);
			FUZZ_ASSERT(msg_owner(&m, &m.rr[m.opt_idx])[0] == 0);
			FUZZ_ASSERT(m.edns_udp >= 512);
		}
		if (m.has_tsig)
			FUZZ_ASSERT(m.rr[m.nrr - 1].type == T_TSIG);
	}
	/* keep the reads */
	if (sum == 0xffffffffu)
		fprintf(stderr, "unlikely\n");
	if (size % 17 == 0)
		msg_clear(&m); /* exercise a fresh arena too */
	return 0;
}

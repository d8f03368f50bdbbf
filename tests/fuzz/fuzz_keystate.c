/*
 * tests/fuzz/fuzz_keystate.c -- the KeyState EDNS(0) option (keystate/
 * keystate.c) as the receiver reads and answers it: edns_opt_find on the OPT
 * record of a parsed query (as receiver/pipeline.c's classify does),
 * ks_opt_parse on what it finds (receive_inquiry), ks_opt_write, and the
 * answer builder respond_build (receiver/respond.c) with a KeyState option
 * and an Extended DNS Error of any size, over UDP or TCP.
 *
 * Input: one byte of answer settings (bit 0 TCP; bit 1 an EDE; bits 2-4 the
 * RCODE), one byte for the EDE text length, one for the KeyState text
 * length, one for the size of a buffer ks_opt_write writes into; then a
 * DNS message.
 *
 * Checked beyond what ASan and UBSan see: the option found lies inside the
 * OPT RDATA; a parse reads the key id, state and data bytes where they are;
 * ks_opt_write writes all or nothing, and what it wrote reads back the
 * same; the answer fits what the client takes (512 bytes without EDNS, its
 * EDNS size over UDP), parses as a DNS message with the request's ID, and
 * carries the KeyState option with the key id and state answered whenever
 * it fits.
 */
#include <string.h>

#include "common/dns.h"
#include "common/err.h"
#include "common/msg.h"
#include "common/wire.h"
#include "keystate/keystate.h"
#include "receiver/internal.h"
#include "tests/fuzz/fuzz.h"

#define KS_CODE 65002 /* keystate.option-code's default */

static const int rcodes[8] = {RC_NOERROR, RC_FORMERR, RC_SERVFAIL, RC_REFUSED,
			      RC_NOTAUTH, RC_BADKEY,  RC_BADTIME,  RC_NOTIMP};

/* The option at p (len bytes) read back as ks_opt_parse must see it. */
static void check_parse(const uint8_t *p, size_t len)
{
	struct ks_opt o;
	int rc = ks_opt_parse(p, len, &o);
	FUZZ_ASSERT((rc == DS_OK) == (len >= 3));
	if (rc != DS_OK)
		return;
	FUZZ_ASSERT(o.key_id == rd_u16(p) && o.state == p[2]);
	FUZZ_ASSERT(o.legacy == (len == 3));
	FUZZ_ASSERT(o.data == (len > 3 ? p[3] : 0));
	size_t tl = len > 4 ? len - 4 : 0;
	FUZZ_ASSERT(strlen(o.text) <= 255 && strlen(o.text) <= tl);
	FUZZ_ASSERT(memcmp(o.text, p + 4, strlen(o.text)) == 0);
}

/* ks_opt_write into cap bytes: all or nothing, and it reads back. */
static void check_write(const struct ks_opt *o, size_t cap)
{
	uint8_t *buf = malloc(cap ? cap : 1);
	FUZZ_ASSERT(buf != NULL);
	struct wbuf b;
	wbuf_init(&b, buf, cap);
	ks_opt_write(&b, KS_CODE, o);
	size_t tl = strlen(o->text);
	if (b.err) {
		FUZZ_ASSERT(b.len == 0 && cap < 8 + tl);
	} else {
		FUZZ_ASSERT(b.len == 8 + tl);
		size_t len;
		const uint8_t *p = edns_opt_find(buf, b.len, KS_CODE, &len);
		FUZZ_ASSERT(p != NULL && len == 4 + tl);
		struct ks_opt back;
		FUZZ_ASSERT(ks_opt_parse(p, len, &back) == DS_OK);
		FUZZ_ASSERT(back.key_id == o->key_id && back.state == o->state &&
			    back.data == o->data && strcmp(back.text, o->text) == 0);
	}
	free(buf);
}

/* What the KeyState option of the query says, as classify/receive_inquiry read it. */
static bool inquiry(const struct msg *m, struct job *j, size_t wcap)
{
	if (!m->has_opt || m->count[SEC_ZONE] != 1 || m->nrr < 1)
		return false;
	const struct msg_rr *opt = &m->rr[m->opt_idx];
	const uint8_t *rd = m->wire + opt->rdoff;
	size_t len;
	const uint8_t *p = edns_opt_find(rd, opt->rdlen, KS_CODE, &len);
	if (p == NULL) {
		FUZZ_ASSERT(len == 0 || len == SIZE_MAX);
		return false;
	}
	FUZZ_ASSERT(p >= rd + 4 && p + len <= rd + opt->rdlen);
	FUZZ_ASSERT(rd_u16(p - 4) == KS_CODE && rd_u16(p - 2) == len);
	check_parse(p, len);
	struct ks_opt o;
	if (ks_opt_parse(p, len, &o) == DS_OK) {
		check_write(&o, wcap);
		j->ks_keyid = o.key_id;
		j->ks_state = o.state == KS_INQUIRE_KEY ? KS_BOOTSTRAP_MANUAL : KS_MALFORMED;
	} else {
		j->ks_keyid = len >= 2 ? rd_u16(p) : 0;
		j->ks_state = KS_MALFORMED;
	}
	return true;
}

/* The answer's KeyState option, when it has one, says what was answered. */
static void check_answer(const struct job *j)
{
	static struct msg am;
	FUZZ_ASSERT(j->resplen >= DNS_HDR_LEN && j->resplen <= sizeof(j->resp));
	FUZZ_ASSERT(j->resplen == DNS_HDR_LEN || j->resplen <= j->respcap);
	if (!j->tcp)
		FUZZ_ASSERT(j->resplen <= (j->m->has_opt ? j->m->edns_udp : 512));
	FUZZ_ASSERT(j->resp[0] == j->req[0] && j->resp[1] == j->req[1] && (j->resp[2] & 0x80));
	int rc = msg_parse(&am, j->resp, j->resplen);
	if (rc != DS_OK)
		fprintf(stderr, "answer does not parse: %s\n", am.why);
	FUZZ_ASSERT(rc == DS_OK);
	if (j->ks_answer && am.has_opt) {
		const struct msg_rr *opt = &am.rr[am.opt_idx];
		size_t len;
		const uint8_t *p = edns_opt_find(am.wire + opt->rdoff, opt->rdlen, KS_CODE, &len);
		FUZZ_ASSERT(p != NULL && len >= 4);
		FUZZ_ASSERT(rd_u16(p) == j->ks_keyid && p[2] == j->ks_state);
	}
	msg_clear(&am);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 4 + DNS_HDR_LEN || size > 4 + 65535)
		return 0;
	size_t len = size - 4;
	struct job *j = job_new(len);
	FUZZ_ASSERT(j != NULL);
	memcpy(j->req, data + 4, len);
	j->tcp = data[0] & 1;
	int rc = msg_parse(j->m, j->req, len);
	j->rcode = rc == DS_OK ? rcodes[(data[0] >> 2) & 7] : RC_FORMERR;
	if (rc == DS_OK && inquiry(j->m, j, data[3])) {
		j->ks_answer = true;
		j->ks_code = KS_CODE;
		memset(j->ks_text, 'k', sizeof(j->ks_text) - 1);
		j->ks_text[data[2] % sizeof(j->ks_text)] = '\0';
	}
	if (data[0] & 2) {
		j->has_ede = true;
		j->ede = 516;
		memset(j->text, 'e', sizeof(j->text) - 1);
		j->text[data[1]] = '\0';
	}
	respond_build(j);
	check_answer(j);
	job_free(j);
	return 0;
}

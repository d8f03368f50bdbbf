/*
 * tests/fuzz/fuzz_rrtext.c -- rr_rdata_to_str() over any type and RDATA.
 * Input: type (2 bytes), a small output size (1 byte), then RDATA.  Each
 * output buffer is an exact-size heap block so ASan catches any overrun.
 */
#include <string.h>

#include "common/dname.h"
#include "common/err.h"
#include "common/rrtext.h"
#include "common/wire.h"
#include "tests/fuzz/fuzz.h"

static void render(uint16_t type, const uint8_t *rd, size_t rdlen, size_t outlen)
{
	char *out = malloc(outlen);
	if (out == NULL)
		return;
	int rc = rr_rdata_to_str(type, rd, rdlen, out, outlen);
	FUZZ_ASSERT(rc == DS_OK || rc == DS_ELIMIT || rc == DS_EMALF);
	if (rc == DS_OK)
		FUZZ_ASSERT(memchr(out, '\0', outlen) != NULL);
	free(out);

	static const uint8_t owner[] = "\x05" "child" "\x07" "example";
	outlen += 24;
	out = malloc(outlen);
	if (out == NULL)
		return;
	rc = rr_to_str(owner, 3600, type, rd, rdlen, out, outlen);
	FUZZ_ASSERT(rc == DS_OK || rc == DS_ELIMIT || rc == DS_EMALF);
	if (rc == DS_OK)
		FUZZ_ASSERT(memchr(out, '\0', outlen) != NULL);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	uint16_t type = rd_u16(data);
	size_t small = (size_t)data[2] + 1;
	/* an exact copy of the RDATA, so reading past rdlen is caught */
	size_t rdlen = size - 3;
	if (rdlen > 65535)
		rdlen = 65535;
	uint8_t *rd = malloc(rdlen ? rdlen : 1);
	if (rd == NULL)
		return 0;
	memcpy(rd, data + 3, rdlen);

	render(type, rd, rdlen, 2 * rdlen + DNAME_STR_MAX + 64); /* always enough */
	render(type, rd, rdlen, small);

	/* type mnemonics round-trip */
	char tbuf[16];
	const char *t = rr_type_str(type, tbuf, sizeof(tbuf));
	FUZZ_ASSERT(t != NULL && strlen(t) < sizeof(tbuf));
	FUZZ_ASSERT(rr_type_from_str(t) == type);

	free(rd);
	return 0;
}

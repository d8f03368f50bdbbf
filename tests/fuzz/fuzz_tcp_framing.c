/*
 * tests/fuzz/fuzz_tcp_framing.c -- DNS over TCP's two-byte length framing
 * as the receiver's I/O thread reads it (receiver/tcpframe.c, used by
 * tcp_read in receiver/server.c): a stream arrives in pieces into a buffer
 * of a connection's size, and the complete frames are taken from its front
 * after each piece.
 *
 * Input: two bytes, server.max-message-size; one byte that seeds the sizes
 * of the pieces (0: the whole stream at once); then the stream.
 *
 * Checked against a plain reading of the whole stream at once: the same
 * frames, byte for byte and in order; a refused length (below a DNS header,
 * above the maximum) reported with its value at the same frame, and
 * nothing taken after it; what is left unread is the incomplete rest; the
 * buffer never fills up (a read into no room would look like the end of
 * the connection).
 */
#include <stdbool.h>
#include <string.h>

#include "common/dns.h"
#include "receiver/tcpframe.h"
#include "tests/fuzz/fuzz.h"

#define CONN_IN (2 + 65535) /* struct conn's buffer in receiver/server.c */

struct ref {
	const uint8_t *s;
	size_t len, pos, max;
};

/* The next frame of the whole stream, read plainly. */
static enum tcpframe ref_next(struct ref *r, size_t *flen)
{
	*flen = 0;
	if (r->len - r->pos < 2)
		return TCPFRAME_MORE;
	size_t n = (size_t)r->s[r->pos] << 8 | r->s[r->pos + 1];
	*flen = n;
	if (n < DNS_HDR_LEN)
		return TCPFRAME_SHORT;
	if (n > r->max)
		return TCPFRAME_LONG;
	if (r->len - r->pos < 2 + n) {
		*flen = 0;
		return TCPFRAME_MORE;
	}
	return TCPFRAME_OK;
}

/* Take the frames at the front of in; false when the stream was refused. */
static bool take(uint8_t *in, size_t *inlen, struct ref *r)
{
	for (;;) {
		size_t flen, rlen;
		enum tcpframe fr = tcpframe_next(in, *inlen, r->max, &flen);
		if (fr == TCPFRAME_MORE) {
			FUZZ_ASSERT(flen == 0);
			return true;
		}
		enum tcpframe want = ref_next(r, &rlen);
		FUZZ_ASSERT(fr == want && flen == rlen);
		if (fr != TCPFRAME_OK)
			return false;
		FUZZ_ASSERT(flen >= DNS_HDR_LEN && flen <= r->max && 2 + flen <= *inlen);
		FUZZ_ASSERT(memcmp(in + 2, r->s + r->pos + 2, flen) == 0);
		size_t before = *inlen;
		tcpframe_drop(in, inlen, flen);
		FUZZ_ASSERT(*inlen == before - 2 - flen);
		r->pos += 2 + flen;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	struct ref r = {.s = data + 3, .len = size - 3, .max = (size_t)data[0] << 8 | data[1]};
	uint32_t seed = data[2];
	uint8_t *in = malloc(CONN_IN); /* exact size: ASan sees any overrun */
	FUZZ_ASSERT(in != NULL);
	size_t inlen = 0, fed = 0;
	bool ok = true;
	while (ok && fed < r.len) {
		size_t piece = r.len - fed;
		if (seed != 0) {
			seed = seed * 1103515245u + 12345u;
			size_t want = 1 + (seed >> 16) % 700;
			piece = want < piece ? want : piece;
		}
		FUZZ_ASSERT(inlen < CONN_IN); /* a read always has room */
		if (piece > CONN_IN - inlen)
			piece = CONN_IN - inlen;
		memcpy(in + inlen, r.s + fed, piece);
		inlen += piece;
		fed += piece;
		ok = take(in, &inlen, &r);
	}
	if (ok) {
		/* all of it read: what is left is the incomplete last frame */
		size_t flen;
		FUZZ_ASSERT(ref_next(&r, &flen) == TCPFRAME_MORE);
		FUZZ_ASSERT(inlen == r.len - r.pos);
		FUZZ_ASSERT(memcmp(in, r.s + r.pos, inlen) == 0);
	}
	free(in);
	return 0;
}

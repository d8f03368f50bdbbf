/*
 * receiver/tcpframe.c -- DNS over TCP's two-byte length framing (see
 * tcpframe.h).
 */
#include <string.h>

#include "common/dns.h"
#include "receiver/tcpframe.h"

enum tcpframe tcpframe_next(const uint8_t *buf, size_t len, size_t max, size_t *flen)
{
	*flen = 0;
	if (len < 2)
		return TCPFRAME_MORE;
	size_t n = (size_t)buf[0] << 8 | buf[1];
	if (n < DNS_HDR_LEN) {
		*flen = n;
		return TCPFRAME_SHORT;
	}
	if (n > max) {
		*flen = n;
		return TCPFRAME_LONG;
	}
	if (len < 2 + n)
		return TCPFRAME_MORE;
	*flen = n;
	return TCPFRAME_OK;
}

void tcpframe_drop(uint8_t *buf, size_t *len, size_t flen)
{
	memmove(buf, buf + 2 + flen, *len - 2 - flen);
	*len -= 2 + flen;
}

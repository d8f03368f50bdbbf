/*
 * receiver/tcpframe.h -- DNS over TCP's framing (RFC 1035 4.2.2, RFC 7766
 * 8): each message goes with its length as two bytes in network order.
 * The I/O thread keeps what a connection has read in a buffer and takes
 * the complete frames from its front; this is that step, without sockets,
 * so that it can be tested and fuzzed on its own.
 */
#ifndef DS_RECEIVER_TCPFRAME_H
#define DS_RECEIVER_TCPFRAME_H

#include <stddef.h>
#include <stdint.h>

enum tcpframe {
	TCPFRAME_MORE,	/* no complete frame yet: read on */
	TCPFRAME_OK,	/* a whole message at buf + 2, *flen bytes */
	TCPFRAME_SHORT, /* the length is below a DNS header: the stream is bad */
	TCPFRAME_LONG,	/* the length is above max: the stream is bad */
};

/*
 * The frame at the front of buf[0..len): TCPFRAME_OK when all of it is
 * there (its length in *flen, between DNS_HDR_LEN and max);
 * TCPFRAME_SHORT or TCPFRAME_LONG (length in *flen) as soon as its two
 * length bytes are, when the length is refused; TCPFRAME_MORE (*flen 0)
 * when fewer than two bytes, or not the whole message, have come.
 */
enum tcpframe tcpframe_next(const uint8_t *buf, size_t len, size_t max, size_t *flen);

/* Remove the front frame (2 + flen bytes, tcpframe_next said OK) from
 * buf[0..*len); what follows moves to the front. */
void tcpframe_drop(uint8_t *buf, size_t *len, size_t flen);

#endif

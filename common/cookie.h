/*
 * common/cookie.h -- DNS Cookies (RFC 7873) with the interoperable server
 * cookie of RFC 9018: version 1, three reserved bytes, a timestamp and an
 * 8-byte SipHash-2-4 over client cookie | version | reserved | timestamp |
 * client address, keyed with a 16-byte server secret.  The server side
 * (make and check a server cookie) and the client side (find the option
 * in an answer, write it in a request) share this file.
 */
#ifndef DS_COMMON_COOKIE_H
#define DS_COMMON_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/wire.h"

#define EDNS_OPT_COOKIE 10
#define COOKIE_CLIENT_LEN 8
#define COOKIE_SERVER_LEN 16 /* RFC 9018 version 1 */
#define COOKIE_LEN (COOKIE_CLIENT_LEN + COOKIE_SERVER_LEN)
#define COOKIE_MAX_LEN 40 /* client cookie and the longest server cookie */
#define COOKIE_SECRET_LEN 16
/* RFC 9018 4.3: a server cookie is good for an hour, five minutes ahead at
 * most; one older than half an hour is replaced by a fresh one */
#define COOKIE_MAX_AGE 3600
#define COOKIE_MAX_AHEAD 300
#define COOKIE_RENEW_AGE 1800

/* What a request's COOKIE option holds, for this server and this client. */
enum cookie_state {
	COOKIE_ABSENT,	    /* no option (or no OPT) */
	COOKIE_CLIENT_ONLY, /* a client cookie alone */
	COOKIE_BAD,	    /* a server cookie that is not ours for this address and time */
	COOKIE_VALID,	    /* our server cookie for this client address, in its window */
	COOKIE_MALFORMED,   /* a length RFC 7873 5.2.2 does not allow: FORMERR */
};

/* SipHash-2-4 keyed with a server secret (OpenSSL's EVP_MAC "SIPHASH").
 * One per thread: computing changes it. */
struct cookie_mac;

/* NULL secret: a random one.  DS_ENOTSUP when OpenSSL has no SipHash. */
int cookie_mac_new(const uint8_t *secret, struct cookie_mac **out);
void cookie_mac_free(struct cookie_mac *cm);

/*
 * The 16-byte server cookie for client cookie cc from the client's address
 * at time now (version 1, reserved 0).  DS_OK, else DS_EINVAL for an
 * address that is neither IPv4 nor IPv6.
 */
int cookie_make(struct cookie_mac *cm, const uint8_t cc[COOKIE_CLIENT_LEN],
		const struct sockaddr_storage *peer, uint32_t now, uint8_t out[COOKIE_SERVER_LEN]);

/*
 * The state of a COOKIE option's data (opt NULL: none) sent by peer at now.
 * A server cookie of another version or length, another address, a wrong
 * hash or a timestamp out of the window is COOKIE_BAD: the request is then
 * treated as if it carried the client cookie alone.  *renew (may be NULL)
 * is set when a valid cookie is old enough to be replaced.
 */
enum cookie_state cookie_check(struct cookie_mac *cm, const uint8_t *opt, size_t len,
			       const struct sockaddr_storage *peer, uint32_t now, bool *renew);

/*
 * The COOKIE option among EDNS option data (rdata of OPT, rdlen bytes):
 * its data and *len, NULL when there is none; *len = SIZE_MAX when the
 * options do not parse.
 */
const uint8_t *cookie_find(const uint8_t *rdata, size_t rdlen, size_t *len);

/* Write a COOKIE option (code, length, data) of len bytes (8..40). */
void cookie_write(struct wbuf *b, const uint8_t *cookie, size_t len);

/*
 * A shared server secret from a file: 32 hexadecimal digits (16 bytes),
 * surrounding white space allowed, the file readable by its owner only.
 * DS_OK, else an error with why set ("PATH: ...").
 */
int cookie_secret_read(const char *path, uint8_t secret[COOKIE_SECRET_LEN], char *why,
		       size_t whylen);

#endif

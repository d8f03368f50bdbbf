/*
 * common/axfr.h -- a zone transfer (AXFR over TCP, TSIG-signed when a key
 * is given) from one server, each record handed to a callback as
 * uncompressed wire data: what a primary serves, for the drift check.
 */
#ifndef DS_COMMON_AXFR_H
#define DS_COMMON_AXFR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/tsig.h"
#include "common/zonefile.h"

/*
 * Transfer zone from server (key may be NULL), within timeout_ms per
 * message, calling cb for every record (the SOA twice: first and last, as
 * it comes).  DS_OK, a non-zero value cb returned, DS_EIO (no connection,
 * refused, cut short: why says what the server answered), DS_ENOMEM.
 */
int axfr_fetch(const struct sockaddr_storage *server, const uint8_t *zone,
	       const struct tsig_key *key, unsigned timeout_ms, zf_rr_cb cb, void *arg, char *why,
	       size_t whylen);

#endif

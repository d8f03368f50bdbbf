/*
 * common/dnsq.h -- a small stub DNS client: one query over TCP (RFC 7766
 * framing: a two-octet length before each message) to one server, with a
 * total deadline.  Used by the unsigned bootstrap method (keystate/methods.c)
 * to ask each nameserver directly, and by the child-side tools.
 *
 * The call blocks for at most timeout_ms (connect, send and receive
 * together; non-blocking sockets and poll()).  It checks only that the bytes
 * are the answer to our question -- ID, QR, opcode, one question equal to
 * ours (names compared case-insensitively) -- and hands them back for
 * msg_parse() (common/msg.h); RCODE, AA and the records are the caller's.
 */
#ifndef DS_COMMON_DNSQ_H
#define DS_COMMON_DNSQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/dns.h"

#define DNSQ_ANSWER_MAX 65535 /* the largest message a TCP frame can hold */
#define DNSQ_EDNS_UDP 1232    /* EDNS(0) buffer size we announce */

/* Query flags. */
#define DNSQ_RD 0x1   /* set RD (recursion desired) */
#define DNSQ_EDNS 0x2 /* add an OPT record (version 0, buffer DNSQ_EDNS_UDP) */
#define DNSQ_DO 0x4   /* set the DO bit in the OPT record (implies DNSQ_EDNS) */

/*
 * Send the query "qname IN qtype" (qname: uncompressed wire form) with a
 * random 16-bit ID (OpenSSL RAND_bytes) to server (address and port) over
 * TCP and read the answer.
 *
 * src (may be NULL) is the local source address, bound (port 0 is the
 * kernel's choice of port) before connecting; NULL or ss_family AF_UNSPEC
 * lets the kernel choose the address.  Its family must match server's.
 *
 * On DS_OK *answer is a malloc'd copy of the answer (the caller frees it)
 * and *answerlen its length (12..DNSQ_ANSWER_MAX).  On failure *answer is
 * NULL and why (may be NULL) holds one line that starts with the server,
 * e.g. "127.0.0.83#53: no answer within 3000 ms".  Errors:
 *   DS_EINVAL   bad arguments (family mismatch, unknown family, qname not a
 *               well-formed name)
 *   DS_EAGAIN   the deadline passed (connecting, sending or reading)
 *   DS_EIO      the source address cannot be bound, no socket, connection
 *               refused, reset or closed before the whole answer
 *   DS_EMALF    the bytes are not the answer to our query (too short,
 *               wrong ID, not a response, other opcode, other question)
 *   DS_ECRYPTO  no random ID (RAND_bytes failed)
 *   DS_ENOMEM
 * Thread-safe: no shared state.
 */
int dnsq_tcp(const struct sockaddr *src, socklen_t srclen, const struct sockaddr *server,
	     socklen_t serverlen, const uint8_t *qname, uint16_t qtype, unsigned flags,
	     unsigned timeout_ms, uint8_t **answer, size_t *answerlen, char *why, size_t whylen);

/*
 * Send a message that the caller built (and signed) as it is -- an
 * UPDATE, a query with options -- to server over UDP or TCP (RFC 7766
 * framing, one message) and read the answer, within timeout_ms in all.
 * msg must hold a header and exactly one question (an UPDATE's zone
 * section) with an uncompressed name, at most DNSQ_ANSWER_MAX octets.
 *
 * The answer must carry our ID, QR set, our opcode and our question (name
 * compared case-insensitively, type and class); an UPDATE's answer may
 * also carry no question at all (RFC 2136 3.8 lets a server zero the
 * counts, e.g. on FORMERR).  Over UDP
 * the socket is connected to server, so only its datagrams are read, and a
 * datagram that is not the answer (spoofed, late) is dropped and the wait
 * goes on; a truncated answer (TC) is handed back as it is -- trying again
 * over TCP is the caller's.  Over TCP a wrong answer is DS_EMALF.
 *
 * On DS_OK *answer is a malloc'd copy (the caller frees it).  Errors as for
 * dnsq_tcp(), and DS_EIO for a UDP port unreachable ("port unreachable");
 * DS_EINVAL when msg is not a message with one question.  Thread-safe.
 */
int dnsq_exchange(const struct sockaddr *server, socklen_t serverlen, const uint8_t *msg,
		  size_t len, bool tcp, unsigned timeout_ms, uint8_t **answer, size_t *answerlen,
		  char *why, size_t whylen);

/*
 * "addr#port" for IPv4 and IPv6 ("127.0.0.83#53", "::1#53"); "?" for
 * another family.  out should hold DNSQ_ADDRSTR_MAX bytes (truncated
 * otherwise).  Returns out.
 */
#define DNSQ_ADDRSTR_MAX 56 /* INET6_ADDRSTRLEN + "#65535" */
const char *dnsq_addr_str(const struct sockaddr *sa, char *out, size_t outlen);

/*
 * Parse a numeric address "addr", "addr#port" (BIND's way) or "addr@port"
 * (unbound's way, as dsyncd.conf writes resolvers), IPv4 or IPv6, no names,
 * no brackets; without a port the port is defport.  Fills *out and
 * *outlen.  Returns DS_OK or DS_EPARSE.
 */
int dnsq_addr_from_str(const char *s, uint16_t defport, struct sockaddr_storage *out,
		       socklen_t *outlen);

#endif

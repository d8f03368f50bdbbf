/*
 * common/dnsq.c -- one DNS query over TCP with a total deadline.
 *
 * Every step (connect, send, receive) runs on a non-blocking socket and
 * waits in poll() for what is left of the one deadline, so a server that
 * accepts and never answers, or answers one byte a second, costs at most
 * timeout_ms.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <openssl/rand.h>

#include "common/clock.h"
#include "common/dname.h"
#include "common/dnsq.h"
#include "common/err.h"
#include "common/wire.h"

const char *dnsq_addr_str(const struct sockaddr *sa, char *out, size_t outlen)
{
	char a[INET6_ADDRSTRLEN];
	unsigned port;
	if (outlen == 0)
		return out;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		port = ntohs(s4->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		port = ntohs(s6->sin6_port);
	} else {
		snprintf(out, outlen, "?");
		return out;
	}
	snprintf(out, outlen, "%s#%u", a, port);
	return out;
}

int dnsq_addr_from_str(const char *s, uint16_t defport, struct sockaddr_storage *out,
		       socklen_t *outlen)
{
	char a[INET6_ADDRSTRLEN];
	unsigned long port = defport;
	const char *hash = strpbrk(s, "#@");
	size_t alen = hash ? (size_t)(hash - s) : strlen(s);
	if (alen == 0 || alen >= sizeof(a))
		return DS_EPARSE;
	memcpy(a, s, alen);
	a[alen] = 0;
	if (hash != NULL) {
		char *end;
		errno = 0;
		if (hash[1] < '0' || hash[1] > '9')
			return DS_EPARSE;
		port = strtoul(hash + 1, &end, 10);
		if (errno || *end || port > 65535)
			return DS_EPARSE;
	}
	memset(out, 0, sizeof(*out));
	struct sockaddr_in *s4 = (struct sockaddr_in *)out;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)out;
	if (inet_pton(AF_INET, a, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*outlen = sizeof(*s4);
	} else if (inet_pton(AF_INET6, a, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*outlen = sizeof(*s6);
	} else {
		return DS_EPARSE;
	}
	return DS_OK;
}

/* Length of a caller's wire name, or 0 when it is not well-formed. */
static size_t qname_len(const uint8_t *name)
{
	size_t pos = 0;
	while (pos < DNAME_MAX) {
		uint8_t c = name[pos];
		if (c == 0)
			return pos + 1;
		if (c > 63)
			return 0;
		pos += 1 + (size_t)c;
	}
	return 0;
}

/* Wait for ev on fd until the deadline: 1 ready, 0 deadline passed, -errno. */
static int wait_fd(int fd, short ev, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - clock_mono_ms();
		if (left <= 0)
			return 0;
		struct pollfd p = {.fd = fd, .events = ev};
		int n = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

/* The query: header, question, optional OPT; framed with its length. */
static size_t build_query(uint8_t *buf, size_t cap, uint16_t id, const uint8_t *qname, size_t qlen,
			  uint16_t qtype, unsigned flags)
{
	struct wbuf b;
	bool edns = flags & (DNSQ_EDNS | DNSQ_DO);
	wbuf_init(&b, buf, cap);
	wbuf_u16(&b, 0); /* TCP length, filled below */
	wbuf_u16(&b, id);
	wbuf_u16(&b, (flags & DNSQ_RD) ? 0x0100 : 0); /* QUERY, RD */
	wbuf_u16(&b, 1);			      /* QDCOUNT */
	wbuf_u16(&b, 0);
	wbuf_u16(&b, 0);
	wbuf_u16(&b, edns ? 1 : 0); /* ARCOUNT */
	wbuf_bytes(&b, qname, qlen);
	wbuf_u16(&b, qtype);
	wbuf_u16(&b, CLASS_IN);
	if (edns) {
		wbuf_u8(&b, 0); /* root owner */
		wbuf_u16(&b, T_OPT);
		wbuf_u16(&b, DNSQ_EDNS_UDP);
		wbuf_u8(&b, 0); /* extended RCODE */
		wbuf_u8(&b, 0); /* version */
		wbuf_u16(&b, (flags & DNSQ_DO) ? 0x8000 : 0);
		wbuf_u16(&b, 0); /* no options */
	}
	if (b.err)
		return 0;
	wbuf_put_u16_at(&b, 0, (uint16_t)(b.len - 2));
	return b.len;
}

/*
 * Is ans the answer to our request (ID, opcode, question qname/qtype/
 * qclass)?  NULL if so, else what is wrong.  noq_ok: an answer without a
 * question (QDCOUNT 0) is accepted too.
 */
static const char *check_reply(const uint8_t *ans, size_t len, uint16_t id, unsigned opcode,
			       const uint8_t *qname, uint16_t qtype, uint16_t qclass, bool noq_ok)
{
	struct wire w;
	uint8_t name[DNAME_MAX];
	if (len < DNS_HDR_LEN)
		return "answer shorter than a DNS header";
	wire_init(&w, ans, len);
	uint16_t aid = wire_u16(&w);
	uint16_t flags = wire_u16(&w);
	uint16_t qd = wire_u16(&w);
	wire_skip(&w, 6);
	if (aid != id)
		return "answer with another ID";
	if (!(flags & 0x8000))
		return "not a response (QR clear)";
	if (((flags >> 11) & 0xf) != opcode)
		return "answer with another opcode";
	if (qd == 0 && noq_ok)
		return NULL;
	if (qd != 1)
		return "answer without our question";
	size_t n = wire_name(&w, name);
	uint16_t t = wire_u16(&w);
	uint16_t c = wire_u16(&w);
	if (wire_err(&w) || n == 0)
		return "malformed question in the answer";
	if (!dname_equal(name, qname) || t != qtype || c != qclass)
		return "answer to another question";
	return NULL;
}

static const char *check_answer(const uint8_t *ans, size_t len, uint16_t id, const uint8_t *qname,
				uint16_t qtype)
{
	return check_reply(ans, len, id, OP_QUERY, qname, qtype, CLASS_IN, false);
}

/* Read exactly n bytes before the deadline: DS_OK, DS_EAGAIN or DS_EIO (why set). */
static int read_full(int fd, uint8_t *p, size_t n, int64_t deadline, const char *srv,
		     unsigned timeout_ms, char *why, size_t whylen)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = recv(fd, p + got, n - got, 0);
		if (r > 0) {
			got += (size_t)r;
			continue;
		}
		if (r == 0) {
			ds_why(why, whylen, "%s: connection closed before the whole answer", srv);
			return DS_EIO;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			ds_why(why, whylen, "%s: %s", srv, strerror(errno));
			return DS_EIO;
		}
		int w = wait_fd(fd, POLLIN, deadline);
		if (w == 0) {
			ds_why(why, whylen, "%s: no answer within %u ms", srv, timeout_ms);
			return DS_EAGAIN;
		}
		if (w < 0) {
			ds_why(why, whylen, "%s: poll: %s", srv, strerror(-w));
			return DS_EIO;
		}
	}
	return DS_OK;
}

static int write_full(int fd, const uint8_t *p, size_t n, int64_t deadline, const char *srv,
		      unsigned timeout_ms, char *why, size_t whylen)
{
	size_t sent = 0;
	while (sent < n) {
		ssize_t r = send(fd, p + sent, n - sent, MSG_NOSIGNAL);
		if (r > 0) {
			sent += (size_t)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			ds_why(why, whylen, "%s: %s", srv, strerror(errno));
			return DS_EIO;
		}
		int w = wait_fd(fd, POLLOUT, deadline);
		if (w == 0) {
			ds_why(why, whylen, "%s: query not sent within %u ms", srv, timeout_ms);
			return DS_EAGAIN;
		}
		if (w < 0) {
			ds_why(why, whylen, "%s: poll: %s", srv, strerror(-w));
			return DS_EIO;
		}
	}
	return DS_OK;
}

/* Connect fd to server before the deadline. */
static int connect_by(int fd, const struct sockaddr *server, socklen_t serverlen, int64_t deadline,
		      const char *srv, unsigned timeout_ms, char *why, size_t whylen)
{
	if (connect(fd, server, serverlen) == 0)
		return DS_OK;
	if (errno != EINPROGRESS && errno != EINTR) {
		ds_why(why, whylen, "%s: %s", srv,
		       errno == ECONNREFUSED ? "connection refused" : strerror(errno));
		return DS_EIO;
	}
	int w = wait_fd(fd, POLLOUT, deadline);
	if (w == 0) {
		ds_why(why, whylen, "%s: no connection within %u ms", srv, timeout_ms);
		return DS_EAGAIN;
	}
	if (w < 0) {
		ds_why(why, whylen, "%s: poll: %s", srv, strerror(-w));
		return DS_EIO;
	}
	int soerr = 0;
	socklen_t sl = sizeof(soerr);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
		soerr = errno;
	if (soerr != 0) {
		ds_why(why, whylen, "%s: %s", srv,
		       soerr == ECONNREFUSED ? "connection refused" : strerror(soerr));
		return DS_EIO;
	}
	return DS_OK;
}

int dnsq_tcp(const struct sockaddr *src, socklen_t srclen, const struct sockaddr *server,
	     socklen_t serverlen, const uint8_t *qname, uint16_t qtype, unsigned flags,
	     unsigned timeout_ms, uint8_t **answer, size_t *answerlen, char *why, size_t whylen)
{
	char srv[DNSQ_ADDRSTR_MAX];
	uint8_t q[2 + DNS_HDR_LEN + DNAME_MAX + 4 + 11];
	int64_t deadline = clock_mono_ms() + timeout_ms;
	int rc;

	*answer = NULL;
	*answerlen = 0;
	ds_why(why, whylen, "%s", "");
	dnsq_addr_str(server, srv, sizeof(srv));
	if (server->sa_family != AF_INET && server->sa_family != AF_INET6) {
		ds_why(why, whylen, "%s: not an IPv4 or IPv6 address", srv);
		return DS_EINVAL;
	}
	if (src != NULL && src->sa_family == AF_UNSPEC)
		src = NULL;
	if (src != NULL && src->sa_family != server->sa_family) {
		ds_why(why, whylen, "%s: the source address is of another family", srv);
		return DS_EINVAL;
	}
	size_t qlen = qname_len(qname);
	if (qlen == 0) {
		ds_why(why, whylen, "%s: malformed query name", srv);
		return DS_EINVAL;
	}
	uint16_t id;
	if (RAND_bytes((unsigned char *)&id, sizeof(id)) != 1) {
		ds_why(why, whylen, "%s: no random query ID", srv);
		return DS_ECRYPTO;
	}
	size_t len = build_query(q, sizeof(q), id, qname, qlen, qtype, flags);
	if (len == 0) { /* cannot happen: q holds the largest query */
		ds_why(why, whylen, "%s: query does not fit", srv);
		return DS_EINVAL;
	}

	int fd = socket(server->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ds_why(why, whylen, "%s: socket: %s", srv, strerror(errno));
		return errno == ENOMEM || errno == ENOBUFS ? DS_ENOMEM : DS_EIO;
	}
	if (src != NULL && bind(fd, src, srclen) != 0) {
		char sa[DNSQ_ADDRSTR_MAX];
		ds_why(why, whylen, "%s: cannot bind source %s: %s", srv,
		       dnsq_addr_str(src, sa, sizeof(sa)), strerror(errno));
		close(fd);
		return DS_EIO;
	}
	rc = connect_by(fd, server, serverlen, deadline, srv, timeout_ms, why, whylen);
	if (rc == DS_OK)
		rc = write_full(fd, q, len, deadline, srv, timeout_ms, why, whylen);
	uint8_t hdr[2];
	if (rc == DS_OK)
		rc = read_full(fd, hdr, 2, deadline, srv, timeout_ms, why, whylen);
	if (rc != DS_OK) {
		close(fd);
		return rc;
	}
	size_t alen = rd_u16(hdr); /* at most DNSQ_ANSWER_MAX by the framing */
	if (alen < DNS_HDR_LEN) {
		ds_why(why, whylen, "%s: answer of %zu octets is shorter than a DNS header", srv,
		       alen);
		close(fd);
		return DS_EMALF;
	}
	uint8_t *ans = malloc(alen);
	if (ans == NULL) {
		ds_why(why, whylen, "%s: out of memory", srv);
		close(fd);
		return DS_ENOMEM;
	}
	rc = read_full(fd, ans, alen, deadline, srv, timeout_ms, why, whylen);
	close(fd);
	if (rc != DS_OK) {
		free(ans);
		return rc;
	}
	const char *bad = check_answer(ans, alen, id, qname, qtype);
	if (bad != NULL) {
		ds_why(why, whylen, "%s: %s", srv, bad);
		free(ans);
		return DS_EMALF;
	}
	*answer = ans;
	*answerlen = alen;
	return DS_OK;
}

/* UDP: wait for the answer on a connected socket; other datagrams are dropped. */
static int udp_wait(int fd, uint8_t *ans, size_t cap, size_t *alen, int64_t deadline,
		    const char *srv, unsigned timeout_ms, uint16_t id, unsigned opcode,
		    const uint8_t *qname, uint16_t qtype, uint16_t qclass, char *why, size_t whylen)
{
	const char *last = NULL;
	for (;;) {
		ssize_t r = recv(fd, ans, cap, 0);
		if (r >= 0) {
			const char *bad = check_reply(ans, (size_t)r, id, opcode, qname, qtype,
						      qclass, opcode == OP_UPDATE);
			if (bad == NULL) {
				*alen = (size_t)r;
				return DS_OK;
			}
			last = bad; /* not ours (spoofed, late): keep waiting */
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			ds_why(why, whylen, "%s: %s", srv,
			       errno == ECONNREFUSED ? "port unreachable" : strerror(errno));
			return DS_EIO;
		}
		int w = wait_fd(fd, POLLIN, deadline);
		if (w == 0) {
			if (last != NULL)
				ds_why(why, whylen, "%s: no answer within %u ms (dropped: %s)", srv,
				       timeout_ms, last);
			else
				ds_why(why, whylen, "%s: no answer within %u ms", srv, timeout_ms);
			return DS_EAGAIN;
		}
		if (w < 0) {
			ds_why(why, whylen, "%s: poll: %s", srv, strerror(-w));
			return DS_EIO;
		}
	}
}

int dnsq_exchange(const struct sockaddr *server, socklen_t serverlen, const uint8_t *msg,
		  size_t len, bool tcp, unsigned timeout_ms, uint8_t **answer, size_t *answerlen,
		  char *why, size_t whylen)
{
	char srv[DNSQ_ADDRSTR_MAX];
	uint8_t qname[DNAME_MAX];
	uint16_t qtype = 0, qclass = 0;
	int64_t deadline = clock_mono_ms() + timeout_ms;
	int rc;

	*answer = NULL;
	*answerlen = 0;
	ds_why(why, whylen, "%s", "");
	dnsq_addr_str(server, srv, sizeof(srv));
	if (server->sa_family != AF_INET && server->sa_family != AF_INET6) {
		ds_why(why, whylen, "%s: not an IPv4 or IPv6 address", srv);
		return DS_EINVAL;
	}
	/* our own request: header and its one question, read like any message */
	struct wire w;
	wire_init(&w, msg, len);
	uint16_t id = wire_u16(&w);
	unsigned opcode = (wire_u16(&w) >> 11) & 0xf;
	uint16_t qd = wire_u16(&w);
	wire_skip(&w, 6);
	size_t qn = qd == 1 ? wire_name_nocomp(&w, qname) : 0;
	qtype = wire_u16(&w);
	qclass = wire_u16(&w);
	if (wire_err(&w) || qd != 1 || qn == 0 || len > DNSQ_ANSWER_MAX) {
		ds_why(why, whylen, "%s: the request is not a message with one question", srv);
		return DS_EINVAL;
	}

	int fd = socket(server->sa_family,
			(tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ds_why(why, whylen, "%s: socket: %s", srv, strerror(errno));
		return errno == ENOMEM || errno == ENOBUFS ? DS_ENOMEM : DS_EIO;
	}
	uint8_t *ans = malloc(DNSQ_ANSWER_MAX);
	if (ans == NULL) {
		ds_why(why, whylen, "%s: out of memory", srv);
		close(fd);
		return DS_ENOMEM;
	}
	size_t alen = 0;
	rc = connect_by(fd, server, serverlen, deadline, srv, timeout_ms, why, whylen);
	if (rc == DS_OK && tcp) {
		uint8_t hdr[2];
		wr_u16(hdr, (uint16_t)len);
		rc = write_full(fd, hdr, 2, deadline, srv, timeout_ms, why, whylen);
		if (rc == DS_OK)
			rc = write_full(fd, msg, len, deadline, srv, timeout_ms, why, whylen);
		if (rc == DS_OK)
			rc = read_full(fd, hdr, 2, deadline, srv, timeout_ms, why, whylen);
		alen = rd_u16(hdr);
		if (rc == DS_OK && alen < DNS_HDR_LEN) {
			ds_why(why, whylen, "%s: answer of %zu octets is shorter than a DNS header",
			       srv, alen);
			rc = DS_EMALF;
		}
		if (rc == DS_OK)
			rc = read_full(fd, ans, alen, deadline, srv, timeout_ms, why, whylen);
		const char *bad = rc == DS_OK ? check_reply(ans, alen, id, opcode, qname, qtype,
							    qclass, opcode == OP_UPDATE)
					      : NULL;
		if (bad != NULL) {
			ds_why(why, whylen, "%s: %s", srv, bad);
			rc = DS_EMALF;
		}
	} else if (rc == DS_OK) {
		ssize_t s;
		do
			s = send(fd, msg, len, 0);
		while (s < 0 && errno == EINTR);
		if (s != (ssize_t)len) {
			ds_why(why, whylen, "%s: send: %s", srv,
			       s < 0 ? strerror(errno) : "short datagram");
			rc = DS_EIO;
		} else {
			rc = udp_wait(fd, ans, DNSQ_ANSWER_MAX, &alen, deadline, srv, timeout_ms,
				      id, opcode, qname, qtype, qclass, why, whylen);
		}
	}
	close(fd);
	if (rc != DS_OK) {
		free(ans);
		return rc;
	}
	uint8_t *fit = realloc(ans, alen); /* alen >= DNS_HDR_LEN */
	*answer = fit ? fit : ans;
	*answerlen = alen;
	return DS_OK;
}

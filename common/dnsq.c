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

/*
 * One exchange with one server: its socket, the one deadline for every
 * step, and where a failure is told (why starts with the server's name).
 */
struct conn {
	int fd;
	int64_t deadline;
	unsigned timeout_ms;
	char srv[DNSQ_ADDRSTR_MAX];
	char *why;
	size_t whylen;
};

/* Start an exchange: clear the results, name the server, check its family. */
static int conn_init(struct conn *c, const struct sockaddr *server, unsigned timeout_ms,
		     uint8_t **answer, size_t *answerlen, char *why, size_t whylen)
{
	c->fd = -1;
	c->deadline = clock_mono_ms() + timeout_ms;
	c->timeout_ms = timeout_ms;
	c->why = why;
	c->whylen = whylen;
	*answer = NULL;
	*answerlen = 0;
	ds_why(why, whylen, "%s", "");
	dnsq_addr_str(server, c->srv, sizeof(c->srv));
	if (server->sa_family != AF_INET && server->sa_family != AF_INET6) {
		ds_why(why, whylen, "%s: not an IPv4 or IPv6 address", c->srv);
		return DS_EINVAL;
	}
	return DS_OK;
}

static int conn_socket(struct conn *c, int family, int type)
{
	c->fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		int e = errno;
		ds_why(c->why, c->whylen, "%s: socket: %s", c->srv, strerror(e));
		return e == ENOMEM || e == ENOBUFS ? DS_ENOMEM : DS_EIO;
	}
	return DS_OK;
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/*
 * Wait for ev until the deadline: DS_OK when ready, else DS_EAGAIN
 * ("<late> within N ms") or DS_EIO (poll failed), why set.
 */
static int conn_wait(struct conn *c, short ev, const char *late)
{
	int w = wait_fd(c->fd, ev, c->deadline);
	if (w == 0) {
		ds_why(c->why, c->whylen, "%s: %s within %u ms", c->srv, late, c->timeout_ms);
		return DS_EAGAIN;
	}
	if (w < 0) {
		ds_why(c->why, c->whylen, "%s: poll: %s", c->srv, strerror(-w));
		return DS_EIO;
	}
	return DS_OK;
}

/*
 * After a send or recv that failed: DS_OK to try again (interrupted, or the
 * socket is ready in time), else the error with why set.
 */
static int conn_retry(struct conn *c, short ev, const char *late)
{
	if (errno == EINTR)
		return DS_OK;
	if (errno != EAGAIN && errno != EWOULDBLOCK) {
		ds_why(c->why, c->whylen, "%s: %s", c->srv, strerror(errno));
		return DS_EIO;
	}
	return conn_wait(c, ev, late);
}

/* Read exactly n bytes before the deadline: DS_OK, DS_EAGAIN or DS_EIO (why set). */
static int read_full(struct conn *c, uint8_t *p, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = recv(c->fd, p + got, n - got, 0);
		if (r > 0) {
			got += (size_t)r;
			continue;
		}
		if (r == 0) {
			ds_why(c->why, c->whylen, "%s: connection closed before the whole answer",
			       c->srv);
			return DS_EIO;
		}
		int rc = conn_retry(c, POLLIN, "no answer");
		if (rc != DS_OK)
			return rc;
	}
	return DS_OK;
}

static int write_full(struct conn *c, const uint8_t *p, size_t n)
{
	size_t sent = 0;
	while (sent < n) {
		ssize_t r = send(c->fd, p + sent, n - sent, MSG_NOSIGNAL);
		if (r > 0) {
			sent += (size_t)r;
			continue;
		}
		int rc = r < 0 ? conn_retry(c, POLLOUT, "query not sent")
			       : conn_wait(c, POLLOUT, "query not sent");
		if (rc != DS_OK)
			return rc;
	}
	return DS_OK;
}

static int refused_or(struct conn *c, int err)
{
	ds_why(c->why, c->whylen, "%s: %s", c->srv,
	       err == ECONNREFUSED ? "connection refused" : strerror(err));
	return DS_EIO;
}

/* Connect to server before the deadline. */
static int connect_by(struct conn *c, const struct sockaddr *server, socklen_t serverlen)
{
	if (connect(c->fd, server, serverlen) == 0)
		return DS_OK;
	if (errno != EINPROGRESS && errno != EINTR)
		return refused_or(c, errno);
	int rc = conn_wait(c, POLLOUT, "no connection");
	if (rc != DS_OK)
		return rc;
	int soerr = 0;
	socklen_t sl = sizeof(soerr);
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
		soerr = errno;
	if (soerr != 0)
		return refused_or(c, soerr);
	return DS_OK;
}

/* One TCP-framed message: its length, then itself, in a buffer of its size. */
static int tcp_recv(struct conn *c, uint8_t **ans, size_t *alen)
{
	uint8_t hdr[2];
	int rc = read_full(c, hdr, 2);
	if (rc != DS_OK)
		return rc;
	size_t n = rd_u16(hdr); /* at most DNSQ_ANSWER_MAX by the framing */
	if (n < DNS_HDR_LEN) {
		ds_why(c->why, c->whylen, "%s: answer of %zu octets is shorter than a DNS header",
		       c->srv, n);
		return DS_EMALF;
	}
	uint8_t *p = malloc(n);
	if (p == NULL) {
		ds_why(c->why, c->whylen, "%s: out of memory", c->srv);
		return DS_ENOMEM;
	}
	rc = read_full(c, p, n);
	if (rc != DS_OK) {
		free(p);
		return rc;
	}
	*ans = p;
	*alen = n;
	return DS_OK;
}

/* bad: what check_reply() found wrong with the answer, or NULL. */
static int conn_verdict(struct conn *c, const char *bad)
{
	if (bad == NULL)
		return DS_OK;
	ds_why(c->why, c->whylen, "%s: %s", c->srv, bad);
	return DS_EMALF;
}

/* The source address must be of the server's family; AF_UNSPEC means none. */
static int check_source(struct conn *c, const struct sockaddr *server, const struct sockaddr **src)
{
	if (*src != NULL && (*src)->sa_family == AF_UNSPEC)
		*src = NULL;
	if (*src != NULL && (*src)->sa_family != server->sa_family) {
		ds_why(c->why, c->whylen, "%s: the source address is of another family", c->srv);
		return DS_EINVAL;
	}
	return DS_OK;
}

static int bind_source(struct conn *c, const struct sockaddr *src, socklen_t srclen)
{
	if (src == NULL || bind(c->fd, src, srclen) == 0)
		return DS_OK;
	char sa[DNSQ_ADDRSTR_MAX];
	int e = errno;
	ds_why(c->why, c->whylen, "%s: cannot bind source %s: %s", c->srv,
	       dnsq_addr_str(src, sa, sizeof(sa)), strerror(e));
	return DS_EIO;
}

/* Our query with a fresh random ID, framed for TCP, in q (of cap bytes). */
static int make_query(struct conn *c, uint8_t *q, size_t cap, size_t *len, uint16_t *id,
		      const uint8_t *qname, uint16_t qtype, unsigned flags)
{
	size_t qlen = qname_len(qname);
	if (qlen == 0) {
		ds_why(c->why, c->whylen, "%s: malformed query name", c->srv);
		return DS_EINVAL;
	}
	if (RAND_bytes((unsigned char *)id, sizeof(*id)) != 1) {
		ds_why(c->why, c->whylen, "%s: no random query ID", c->srv);
		return DS_ECRYPTO;
	}
	*len = build_query(q, cap, *id, qname, qlen, qtype, flags);
	if (*len == 0) { /* cannot happen: q holds the largest query */
		ds_why(c->why, c->whylen, "%s: query does not fit", c->srv);
		return DS_EINVAL;
	}
	return DS_OK;
}

int dnsq_tcp(const struct sockaddr *src, socklen_t srclen, const struct sockaddr *server,
	     socklen_t serverlen, const uint8_t *qname, uint16_t qtype, unsigned flags,
	     unsigned timeout_ms, uint8_t **answer, size_t *answerlen, char *why, size_t whylen)
{
	struct conn c;
	uint8_t q[2 + DNS_HDR_LEN + DNAME_MAX + 4 + 11];
	size_t len = 0;
	uint16_t id = 0;
	uint8_t *ans = NULL;
	size_t alen = 0;

	int rc = conn_init(&c, server, timeout_ms, answer, answerlen, why, whylen);
	if (rc == DS_OK)
		rc = check_source(&c, server, &src);
	if (rc == DS_OK)
		rc = make_query(&c, q, sizeof(q), &len, &id, qname, qtype, flags);
	if (rc == DS_OK)
		rc = conn_socket(&c, server->sa_family, SOCK_STREAM);
	if (rc == DS_OK)
		rc = bind_source(&c, src, srclen);
	if (rc == DS_OK)
		rc = connect_by(&c, server, serverlen);
	if (rc == DS_OK)
		rc = write_full(&c, q, len);
	if (rc == DS_OK)
		rc = tcp_recv(&c, &ans, &alen);
	conn_close(&c);
	if (rc == DS_OK)
		rc = conn_verdict(&c, check_answer(ans, alen, id, qname, qtype));
	if (rc != DS_OK) {
		free(ans);
		return rc;
	}
	*answer = ans;
	*answerlen = alen;
	return DS_OK;
}

/* The caller's own request, as far as its answer must match it. */
struct request {
	uint16_t id;
	unsigned opcode;
	uint8_t qname[DNAME_MAX];
	uint16_t qtype, qclass;
};

/* Read our request's header and its one question like any message. */
static int parse_request(struct conn *c, const uint8_t *msg, size_t len, struct request *r)
{
	struct wire w;
	wire_init(&w, msg, len);
	r->id = wire_u16(&w);
	r->opcode = (wire_u16(&w) >> 11) & 0xf;
	uint16_t qd = wire_u16(&w);
	wire_skip(&w, 6);
	size_t qn = qd == 1 ? wire_name_nocomp(&w, r->qname) : 0;
	r->qtype = wire_u16(&w);
	r->qclass = wire_u16(&w);
	if (wire_err(&w) || qd != 1 || qn == 0 || len > DNSQ_ANSWER_MAX) {
		ds_why(c->why, c->whylen, "%s: the request is not a message with one question",
		       c->srv);
		return DS_EINVAL;
	}
	return DS_OK;
}

/* NULL if ans answers r, else what is wrong; an UPDATE's answer may omit the zone. */
static const char *check_request(const struct request *r, const uint8_t *ans, size_t len)
{
	return check_reply(ans, len, r->id, r->opcode, r->qname, r->qtype, r->qclass,
			   r->opcode == OP_UPDATE);
}

static int exchange_tcp(struct conn *c, const uint8_t *msg, size_t len, const struct request *r,
			uint8_t **ans, size_t *alen)
{
	uint8_t hdr[2];
	wr_u16(hdr, (uint16_t)len);
	int rc = write_full(c, hdr, 2);
	if (rc == DS_OK)
		rc = write_full(c, msg, len);
	if (rc == DS_OK)
		rc = tcp_recv(c, ans, alen);
	if (rc == DS_OK)
		rc = conn_verdict(c, check_request(r, *ans, *alen));
	return rc;
}

/* UDP: wait for the answer on a connected socket; other datagrams are dropped. */
static int udp_wait(struct conn *c, uint8_t *ans, size_t cap, size_t *alen,
		    const struct request *req)
{
	const char *last = NULL;
	for (;;) {
		ssize_t r = recv(c->fd, ans, cap, 0);
		if (r >= 0) {
			const char *bad = check_request(req, ans, (size_t)r);
			if (bad == NULL) {
				*alen = (size_t)r;
				return DS_OK;
			}
			last = bad; /* not ours (spoofed, late): keep waiting */
			continue;
		}
		if (errno == ECONNREFUSED) {
			ds_why(c->why, c->whylen, "%s: port unreachable", c->srv);
			return DS_EIO;
		}
		int rc = conn_retry(c, POLLIN, "no answer");
		if (rc == DS_EAGAIN && last != NULL)
			ds_why(c->why, c->whylen, "%s: no answer within %u ms (dropped: %s)",
			       c->srv, c->timeout_ms, last);
		if (rc != DS_OK)
			return rc;
	}
}

static int exchange_udp(struct conn *c, const uint8_t *msg, size_t len, const struct request *r,
			uint8_t **ans, size_t *alen)
{
	ssize_t s;
	do
		s = send(c->fd, msg, len, 0);
	while (s < 0 && errno == EINTR);
	if (s != (ssize_t)len) {
		ds_why(c->why, c->whylen, "%s: send: %s", c->srv,
		       s < 0 ? strerror(errno) : "short datagram");
		return DS_EIO;
	}
	uint8_t *buf = malloc(DNSQ_ANSWER_MAX);
	if (buf == NULL) {
		ds_why(c->why, c->whylen, "%s: out of memory", c->srv);
		return DS_ENOMEM;
	}
	int rc = udp_wait(c, buf, DNSQ_ANSWER_MAX, alen, r);
	if (rc != DS_OK) {
		free(buf);
		return rc;
	}
	uint8_t *fit = realloc(buf, *alen); /* *alen >= DNS_HDR_LEN */
	*ans = fit ? fit : buf;
	return DS_OK;
}

int dnsq_exchange(const struct sockaddr *server, socklen_t serverlen, const uint8_t *msg,
		  size_t len, bool tcp, unsigned timeout_ms, uint8_t **answer, size_t *answerlen,
		  char *why, size_t whylen)
{
	struct conn c;
	struct request r;
	uint8_t *ans = NULL;
	size_t alen = 0;

	int rc = conn_init(&c, server, timeout_ms, answer, answerlen, why, whylen);
	if (rc == DS_OK)
		rc = parse_request(&c, msg, len, &r);
	if (rc == DS_OK)
		rc = conn_socket(&c, server->sa_family, tcp ? SOCK_STREAM : SOCK_DGRAM);
	if (rc == DS_OK)
		rc = connect_by(&c, server, serverlen);
	if (rc == DS_OK)
		rc = tcp ? exchange_tcp(&c, msg, len, &r, &ans, &alen)
			 : exchange_udp(&c, msg, len, &r, &ans, &alen);
	conn_close(&c);
	if (rc != DS_OK) {
		free(ans);
		return rc;
	}
	*answer = ans;
	*answerlen = alen;
	return DS_OK;
}

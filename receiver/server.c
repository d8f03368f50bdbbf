/*
 * receiver/server.c -- listeners, the I/O loop and the threads.
 *
 * UDP: one datagram, one request.  TCP: two-byte length framing, several
 * requests per connection (answers may come out of order, matched by ID);
 * a frame that is too short or longer than server.max-message-size closes
 * that connection only.  server.tcp-idle-timeout bounds both a connection
 * without progress (no message completed, no answer byte written) and each
 * message, measured from its first byte: a client that dribbles a byte at a
 * time cannot keep its slot.  Connections are capped in all and per client
 * network (/24, /56).  A client that half-closes (shutdown SHUT_WR) after
 * its requests still gets their answers; the connection closes after them.
 * A job keeps the connection's id, not a pointer: when the answer is ready
 * and the connection is gone (or the fd was reused), the answer is dropped
 * and nothing touches freed memory (R11).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "common/clock.h"
#include "common/cookie.h"
#include "common/err.h"
#include "common/log.h"
#include "common/vec.h"
#include "receiver/internal.h"
#include "receiver/tcpframe.h"
#include "receiver/receiver.h"

#define TCP_MAX_INFLIGHT 16 /* requests per connection being processed at once */
#define TCP_OUT_MAX (256 * 1024)

struct conn {
	int fd;
	uint64_t id;
	struct sockaddr_storage peer;
	socklen_t peerlen;
	char client[INET6_ADDRSTRLEN + 8];
	uint64_t net; /* the client's /24 or /56 (ratelimit_prefix_key) */
	size_t slot;  /* index in r->open */
	/* CLOCK_MONOTONIC milliseconds (whole seconds would cut a deadline
	 * short by up to a second) */
	int64_t last;	/* last progress: accepted, a message completed, answer bytes written */
	int64_t first;	/* when the first byte of the message being read arrived */
	bool rd_closed; /* the client half-closed: answer what is in flight, then close */
	uint8_t in[2 + 65535];
	size_t inlen;
	uint8_t *out;
	size_t outlen, outcap;
	unsigned inflight;
	bool reading; /* EPOLLIN armed */
};

/* ---- queues ---- */

void jobq_init(struct jobq *q, size_t max)
{
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	q->head = q->tail = NULL;
	q->n = 0;
	q->max = max;
	q->closed = false;
}

void jobq_destroy(struct jobq *q)
{
	struct job *j, *nx;
	for (j = q->head; j; j = nx) {
		nx = j->next;
		job_free(j);
	}
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->cv);
}

bool jobq_push(struct jobq *q, struct job *j)
{
	return jobq_push_below(q, j, q->max);
}

bool jobq_push_below(struct jobq *q, struct job *j, size_t limit)
{
	pthread_mutex_lock(&q->mu);
	if (q->closed || (limit && q->n >= limit)) {
		pthread_mutex_unlock(&q->mu);
		return false;
	}
	j->next = NULL;
	if (q->tail)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
	q->n++;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
	return true;
}

static struct job *take_locked(struct jobq *q, size_t max, size_t *n)
{
	struct job *first = q->head, *last = NULL;
	size_t k = 0;
	for (struct job *j = q->head; j && k < max; j = j->next, k++)
		last = j;
	if (last) {
		q->head = last->next;
		if (q->head == NULL)
			q->tail = NULL;
		last->next = NULL;
	}
	q->n -= k;
	*n = k;
	return k ? first : NULL;
}

struct job *jobq_pop(struct jobq *q)
{
	size_t n;
	pthread_mutex_lock(&q->mu);
	while (q->head == NULL && !q->closed)
		pthread_cond_wait(&q->cv, &q->mu);
	struct job *j = take_locked(q, 1, &n);
	pthread_mutex_unlock(&q->mu);
	return j;
}

struct job *jobq_take(struct jobq *q, size_t max, size_t *n)
{
	pthread_mutex_lock(&q->mu);
	struct job *j = take_locked(q, max, n);
	pthread_mutex_unlock(&q->mu);
	return j;
}

void jobq_close(struct jobq *q)
{
	pthread_mutex_lock(&q->mu);
	q->closed = true;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

/* Wake the I/O loop (async-signal-safe: one write to an eventfd). */
static void wake(struct receiver *r)
{
	uint64_t one = 1;
	ssize_t w = write(r->wakefd, &one, sizeof(one));
	(void)w;
}

/* Build and sign a finished job's answer and queue it for the I/O thread;
 * false when nothing was queued (only when shutting down). */
static bool hand_back(struct receiver *r, struct job *j)
{
	respond_build(j);
	respond_sign(r, j);
	if (!jobq_push(&r->doneq, j)) {
		job_free(j);
		return false;
	}
	return true;
}

/* Hand a finished job back to the I/O thread. */
static void finish(struct receiver *r, struct job *j)
{
	if (hand_back(r, j))
		wake(r);
}

/* ---- threads ---- */

static void *worker_main(void *arg)
{
	struct receiver *r = arg;
	struct job *j;
	while ((j = jobq_pop(&r->verifyq)) != NULL) {
		pipeline_verify(r, j);
		if (j->stage == JOB_COMMIT || j->audit) {
			/* a refusal's audit row never takes the room of a commit */
			if (j->stage == JOB_COMMIT
				? jobq_push(&r->commitq, j)
				: jobq_push_below(&r->commitq, j, r->commitq.max / 2))
				continue;
			if (j->stage == JOB_COMMIT)
				job_decide(j, RES_LIMITED,
					   "server busy: commit queue full; retry later");
		}
		finish(r, j);
	}
	return NULL;
}

/*
 * Group commit: whatever has queued up while the previous commit was
 * fsyncing goes into the next transaction, up to commit-batch-max.
 */
static void *committer_main(void *arg)
{
	struct receiver *r = arg;
	struct jobq *q = &r->commitq;
	for (;;) {
		size_t n;
		pthread_mutex_lock(&q->mu);
		while (q->head == NULL && !q->closed)
			pthread_cond_wait(&q->cv, &q->mu);
		struct job *batch = take_locked(q, r->cfg->commit_batch_max, &n);
		pthread_mutex_unlock(&q->mu);
		if (batch == NULL)
			break;
		pipeline_commit_batch(r, batch);
		atomic_fetch_add(&r->ctr.commit_jobs, n);
		struct job *j, *nx;
		bool any = false;
		for (j = batch; j; j = nx) {
			nx = j->next;
			any |= hand_back(r, j);
		}
		if (any) /* one wake-up for the whole batch */
			wake(r);
	}
	return NULL;
}

/* ---- sockets ---- */

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void peer_str(const struct sockaddr_storage *ss, char *out, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)ss;
		inet_ntop(AF_INET, &s->sin_addr, a, sizeof(a));
		port = ntohs(s->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)ss;
		inet_ntop(AF_INET6, &s->sin6_addr, a, sizeof(a));
		port = ntohs(s->sin6_port);
	}
	snprintf(out, len, "%s#%u", a, port);
}

static int open_listener(const char *addr, uint16_t port, bool tcp, unsigned rcvbuf)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	memset(&ss, 0, sizeof(ss));
	struct sockaddr_in *s4 = (void *)&ss;
	struct sockaddr_in6 *s6 = (void *)&ss;
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		sl = sizeof(*s4);
	} else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		sl = sizeof(*s6);
	} else {
		log_err("listen address %s is not an IP address", addr);
		return -1;
	}
	int fd = socket(ss.ss_family, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	/* room for a burst of requests while the workers are busy (the kernel
	 * caps it at net.core.rmem_max; the size granted is logged) */
	if (!tcp && rcvbuf > 0) {
		int want = (int)rcvbuf, got = 0;
		socklen_t gl = sizeof(got);
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof(want));
		if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &gl) == 0 && got / 2 < want)
			log_info("UDP receive buffer on %s: %d bytes granted of %d asked "
				 "(raise net.core.rmem_max for more)",
				 addr, got / 2, want);
	}
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || (tcp && listen(fd, 128) < 0) ||
	    set_nonblock(fd) < 0) {
		log_err("cannot listen on %s port %u/%s: %s", addr, port, tcp ? "tcp" : "udp",
			strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * The event data is the fd and, for a connection, the low 32 bits of its
 * id: an event left over for a connection closed earlier in the same batch
 * of events is not taken for a new connection that reuses the fd.
 */
static void ep_set(struct receiver *r, int fd, uint64_t id, uint32_t events, bool add)
{
	struct epoll_event ev = {.events = events, .data.u64 = (id << 32) | (uint64_t)(uint32_t)fd};
	epoll_ctl(r->epfd, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev);
}

static void conn_close(struct receiver *r, struct conn *c)
{
	epoll_ctl(r->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	r->conns[c->fd] = NULL;
	r->open[c->slot] = r->open[--r->nconns];
	r->open[c->slot]->slot = c->slot;
	free(c->out);
	free(c);
}

/* Set the events c waits for; a half-closed connection whose answers are
 * all written is closed here (c is then gone). */
static void conn_arm(struct receiver *r, struct conn *c)
{
	if (c->rd_closed && c->inflight == 0 && c->outlen == 0) {
		conn_close(r, c);
		return;
	}
	bool want_read = !c->rd_closed && c->inflight < TCP_MAX_INFLIGHT;
	uint32_t ev = (want_read ? EPOLLIN : 0) | (c->outlen ? EPOLLOUT : 0);
	/* while we did not read, the client's next message could not come in:
	 * its deadline starts again when we read again */
	if (want_read && !c->reading && c->inlen > 0)
		c->first = clock_mono_ms();
	c->reading = want_read;
	ep_set(r, c->fd, c->id, ev, false);
}

/* Queue bytes for a TCP connection and write what the kernel takes now. */
static bool conn_send(struct receiver *r, struct conn *c, const uint8_t *p, size_t n)
{
	if (c->outlen + n + 2 > TCP_OUT_MAX)
		return false;
	uint8_t *o = vec_grow(c->out, &c->outcap, c->outlen + n + 2, 1, 4096);
	if (o == NULL)
		return false;
	c->out = o;
	c->out[c->outlen] = (uint8_t)(n >> 8);
	c->out[c->outlen + 1] = (uint8_t)n;
	memcpy(c->out + c->outlen + 2, p, n);
	c->outlen += n + 2;
	ssize_t w = write(c->fd, c->out, c->outlen);
	if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
		return false;
	if (w > 0) {
		memmove(c->out, c->out + w, c->outlen - (size_t)w);
		c->outlen -= (size_t)w;
		c->last = clock_mono_ms();
	}
	(void)r;
	return true;
}

/* Start a job for one received message. */
static void dispatch(struct receiver *r, struct job *j)
{
	r->inflight++;
	pipeline_receive(r, j);
	if (j->stage == JOB_VERIFY) {
		if (jobq_push(&r->verifyq, j))
			return;
		atomic_fetch_add(&r->ctr.dropped, 1);
		job_decide(j, RES_LIMITED, "server busy: verification queue full; retry later");
	}
	/* decided before crypto: UPDATEs still get their audit row, but one
	 * network's flood of refusals gets at most AUDIT_PER_SOURCE rows a minute
	 * (the rest only the log line) and never more than half the commit
	 * queue, so that the commits of others keep their room (R9) */
	if (j->audit && !ratelimit_allow(r->audit_source, ratelimit_prefix_key(&j->peer),
					 (int64_t)j->t_recv.tv_sec, AUDIT_PER_SOURCE)) {
		j->audit = false;
		atomic_fetch_add(&r->ctr.audit_skipped, 1);
	}
	if (j->audit && jobq_push_below(&r->commitq, j, r->commitq.max / 2))
		return;
	finish(r, j);
}

static void udp_read(struct receiver *r, int fd)
{
	static uint8_t buf[65536];
	for (int k = 0; k < 64; k++) {
		struct sockaddr_storage peer;
		socklen_t pl = sizeof(peer);
		ssize_t n =
		    recvfrom(fd, buf, sizeof(buf), MSG_TRUNC, (struct sockaddr *)&peer, &pl);
		if (n < 0)
			return;
		if (n < DNS_HDR_LEN || (buf[2] & 0x80)) {
			/* no header to answer to, or a response: never answer those */
			char cl[INET6_ADDRSTRLEN + 8];
			peer_str(&peer, cl, sizeof(cl));
			log_info("dropped %s from %s (%zd bytes)",
				 n < DNS_HDR_LEN ? "short datagram" : "response", cl, n);
			atomic_fetch_add(&r->ctr.dropped, 1);
			continue;
		}
		size_t len = (size_t)n > sizeof(buf) ? sizeof(buf) : (size_t)n;
		struct job *j = job_new(len);
		if (j == NULL)
			return;
		memcpy(j->req, buf, len);
		j->tcp = false;
		j->fd = fd;
		j->peer = peer;
		j->peerlen = pl;
		peer_str(&peer, j->client, sizeof(j->client));
		clock_gettime(CLOCK_REALTIME, &j->t_recv); /* audit time and duration */
		dispatch(r, j);
	}
}

static void tcp_accept(struct receiver *r, int lfd)
{
	for (;;) {
		struct sockaddr_storage peer;
		socklen_t pl = sizeof(peer);
		int fd = accept4(lfd, (struct sockaddr *)&peer, &pl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		uint64_t net = ratelimit_prefix_key(&peer);
		size_t same = 0;
		for (size_t i = 0; i < r->nconns; i++)
			same += r->open[i]->net == net;
		if ((size_t)fd >= r->nconns_max || r->nconns >= r->cfg->tcp_max_connections ||
		    r->nconns >= r->open_cap || same >= r->cfg->tcp_per_network) {
			char cl[INET6_ADDRSTRLEN + 8];
			peer_str(&peer, cl, sizeof(cl));
			if (same >= r->cfg->tcp_per_network)
				log_info(
				    "refused TCP connection from %s: %zu connections open from "
				    "its network (server.tcp-connections-per-network %u)",
				    cl, same, r->cfg->tcp_per_network);
			else
				log_info("refused TCP connection from %s: %zu connections open "
					 "(limit %u)",
					 cl, r->nconns, r->cfg->tcp_max_connections);
			atomic_fetch_add(&r->ctr.tcp_refused_full, 1);
			close(fd);
			continue;
		}
		struct conn *c = calloc(1, sizeof(*c));
		if (c == NULL) {
			close(fd);
			return;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->fd = fd;
		c->id = ++r->next_conn_id;
		c->peer = peer;
		c->peerlen = pl;
		peer_str(&peer, c->client, sizeof(c->client));
		c->net = net;
		c->last = clock_mono_ms();
		r->conns[fd] = c;
		c->slot = r->nconns;
		r->open[r->nconns++] = c;
		atomic_fetch_add(&r->ctr.tcp_accepted, 1);
		ep_set(r, fd, c->id, EPOLLIN, true);
		c->reading = true;
	}
}

static void tcp_bad(struct receiver *r, struct conn *c, const char *why, size_t len)
{
	log_info("closed TCP connection from %s: %s (%zu)", c->client, why, len);
	atomic_fetch_add(&r->ctr.tcp_closed_bad, 1);
	conn_close(r, c);
}

static void tcp_read(struct receiver *r, struct conn *c)
{
	for (;;) {
		ssize_t n = read(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen);
		if (n == 0) {
			/* end of the client's side: answers still in flight go out
			 * before the close; a message cut short is dropped */
			c->rd_closed = true;
			c->inlen = 0;
			conn_arm(r, c);
			return;
		}
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				conn_close(r, c);
			return;
		}
		int64_t now = clock_mono_ms();
		if (c->inlen == 0)
			c->first = now; /* a new message starts: its deadline runs from here */
		c->inlen += (size_t)n;
		/* take every complete frame */
		for (;;) {
			size_t flen;
			enum tcpframe fr =
			    tcpframe_next(c->in, c->inlen, r->cfg->max_message_size, &flen);
			if (fr == TCPFRAME_SHORT) {
				tcp_bad(r, c, "frame shorter than a DNS header", flen);
				return;
			}
			if (fr == TCPFRAME_LONG) {
				tcp_bad(r, c, "frame longer than server.max-message-size", flen);
				return;
			}
			if (fr == TCPFRAME_MORE)
				break;
			struct job *j = job_new(flen);
			if (j == NULL) {
				conn_close(r, c);
				return;
			}
			memcpy(j->req, c->in + 2, flen);
			tcpframe_drop(c->in, &c->inlen, flen);
			c->last = c->first = now; /* progress; what is left started now */
			if (j->req[2] & 0x80) {	  /* a response: never answered */
				job_free(j);
				continue;
			}
			j->tcp = true;
			j->fd = c->fd;
			j->conn_id = c->id;
			j->peer = c->peer;
			j->peerlen = c->peerlen;
			memcpy(j->client, c->client, sizeof(j->client));
			clock_gettime(CLOCK_REALTIME, &j->t_recv);
			c->inflight++;
			dispatch(r, j);
		}
		if (c->inflight >= TCP_MAX_INFLIGHT) {
			conn_arm(r, c);
			return;
		}
	}
}

static void tcp_write(struct receiver *r, struct conn *c)
{
	ssize_t w = write(c->fd, c->out, c->outlen);
	if (w < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			conn_close(r, c);
		return;
	}
	memmove(c->out, c->out + w, c->outlen - (size_t)w);
	c->outlen -= (size_t)w;
	if (w > 0)
		c->last = clock_mono_ms(); /* progress: the client takes its answers */
	conn_arm(r, c);
}

/* Send the answers that the other threads finished. */
static void drain_done(struct receiver *r)
{
	size_t n;
	struct job *j, *nx;
	for (j = jobq_take(&r->doneq, SIZE_MAX, &n); j; j = nx) {
		nx = j->next;
		pipeline_log(r, j);
		switch (j->rcode) {
		case RC_NOERROR:
			atomic_fetch_add(&r->ctr.accepted, 1);
			break;
		case RC_FORMERR:
			atomic_fetch_add(&r->ctr.formerr, 1);
			break;
		case RC_NOTIMP:
			atomic_fetch_add(&r->ctr.notimp, 1);
			break;
		case RC_SERVFAIL:
			atomic_fetch_add(&r->ctr.servfail, 1);
			break;
		default:
			atomic_fetch_add(&r->ctr.refused, 1);
		}
		if (!j->tcp) {
			sendto(j->fd, j->resp, j->resplen, 0, (struct sockaddr *)&j->peer,
			       j->peerlen);
		} else if ((size_t)j->fd < r->nconns_max && r->conns[j->fd] &&
			   r->conns[j->fd]->id == j->conn_id) {
			struct conn *c = r->conns[j->fd];
			c->inflight--;
			if (!conn_send(r, c, j->resp, j->resplen))
				conn_close(r, c);
			else
				conn_arm(r, c);
		} /* else: the connection is gone; the answer is dropped */
		metrics_observe_request(&r->ctr, &j->t_recv);
		job_free(j);
		r->inflight--;
	}
}

/*
 * Once a second: close connections whose message has not arrived whole
 * within server.tcp-idle-timeout of its first byte (a dribbling client),
 * and those without a message on its way and without progress for as long
 * (idle, or not reading answers).  While we do not read (answers pending
 * at TCP_MAX_INFLIGHT) the client's message cannot come in: no deadline.
 */
static void sweep_idle(struct receiver *r)
{
	int64_t now = clock_mono_ms(), limit = (int64_t)r->cfg->tcp_idle_timeout * 1000;
	for (size_t i = 0; i < r->nconns;) {
		struct conn *c = r->open[i];
		if (c->reading && c->inlen > 0 && now - c->first >= limit) {
			log_info("closed TCP connection from %s: message not complete %.1f s "
				 "after its first byte (server.tcp-idle-timeout %u)",
				 c->client, (double)(now - c->first) / 1000,
				 r->cfg->tcp_idle_timeout);
			atomic_fetch_add(&r->ctr.tcp_closed_bad, 1);
			conn_close(r, c); /* the last one moved to slot i */
		} else if (c->inlen == 0 && c->inflight == 0 && now - c->last >= limit) {
			/* (a message on its way has its own deadline, above) */
			log_debug("closed idle TCP connection from %s", c->client);
			conn_close(r, c);
		} else {
			i++;
		}
	}
}

static void log_stats(struct receiver *r)
{
	struct counters *k = &r->ctr;
	struct boot_counters *b = r->boot_counters;
	log_notice("stats received=%lu updates=%lu accepted=%lu refused=%lu formerr=%lu "
		   "notimp=%lu servfail=%lu verifications=%lu verify_ok=%lu verify_fail=%lu "
		   "commits=%lu commit_jobs=%lu replays=%lu dropped=%lu tcp_accepted=%lu "
		   "tcp_closed_bad=%lu tcp_refused_full=%lu boot_attempts=%lu boot_trusted=%lu "
		   "boot_failed=%lu keys=%zu",
		   atomic_load(&k->received), atomic_load(&k->updates), atomic_load(&k->accepted),
		   atomic_load(&k->refused), atomic_load(&k->formerr), atomic_load(&k->notimp),
		   atomic_load(&k->servfail), atomic_load(&k->verifications),
		   atomic_load(&k->verify_ok), atomic_load(&k->verify_fail),
		   atomic_load(&k->commits), atomic_load(&k->commit_jobs), atomic_load(&k->replays),
		   atomic_load(&k->dropped), atomic_load(&k->tcp_accepted),
		   atomic_load(&k->tcp_closed_bad), atomic_load(&k->tcp_refused_full),
		   atomic_load(&b->attempts), atomic_load(&b->trusted), atomic_load(&b->failed),
		   keycache_count(r->keys));
}

/* A roll (or an operator's dnssec-settime) changed the key folder: load it anew. */
static void reload_rkeys(struct receiver *r)
{
	struct rkeys *cur = atomic_load(&r->rkeys), *set;
	if (cur == NULL || !rkeys_changed(r->cfg, cur))
		return;
	if (r->nrkeys_old == sizeof(r->rkeys_old) / sizeof(r->rkeys_old[0])) {
		log_warning("receiver key folder changed too often; restart to load it");
		return;
	}
	if (rkeys_load(r->cfg, false, &set) != DS_OK)
		return;
	r->rkeys_old[r->nrkeys_old++] = cur;
	atomic_store(&r->rkeys, set);
	log_notice("receiver keys reloaded from %s", r->cfg->receiver.key_dir);
}

/* ---- life cycle ---- */

/* The receiver's rate-limit tables, to make and free them all alike. */
#define NLIMITS 7
static void limit_tables(struct receiver *r, struct ratelimit **t[NLIMITS])
{
	struct ratelimit **all[NLIMITS] = {
	    &r->boot_child_verified, &r->boot_source,  &r->ks_source,	&r->upd_source,
	    &r->upd_signer,	     &r->audit_source, &r->verify_share};
	memcpy(t, all, sizeof(all));
}

/*
 * The server cookies' SipHash key: cookies.secret-file, read once at start
 * (so that several receivers behind one name share it), else a random one.
 * Without SipHash in OpenSSL, cookies are off: a warning, not a failure.
 */
static int cookies_new(const struct cfg *cfg, struct receiver *r)
{
	uint8_t secret[COOKIE_SECRET_LEN];
	char why[512];
	bool have = cfg->cookie_secret_file != NULL;
	if (have && cookie_secret_read(cfg->cookie_secret_file, secret, why, sizeof why) != DS_OK) {
		log_err("cookies.secret-file: %s", why);
		return DS_ECONFIG;
	}
	int rc = cookie_mac_new(have ? secret : NULL, &r->cookie_mac);
	OPENSSL_cleanse(secret, sizeof secret);
	if (rc == DS_ENOTSUP) {
		log_warning("OpenSSL has no SipHash: DNS Cookies are off");
		return DS_OK;
	}
	if (rc != DS_OK)
		log_err("cannot set up DNS Cookies: %s", ds_strerror(rc));
	return rc;
}

int receiver_core_new(const struct cfg *cfg, const struct receiver_env *env, struct receiver **out)
{
	struct receiver *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return DS_ENOMEM;
	r->cfg = cfg;
	r->started = (int64_t)time(NULL);
	r->store = env->store;
	r->keys = env->keys;
	r->outbox = env->outbox;
	r->boot = env->boot;
	r->boot_counters = env->boot_counters ? env->boot_counters : &r->own_boot;
	r->epfd = r->wakefd = -1;
	jobq_init(&r->verifyq, cfg->queue_max);
	jobq_init(&r->commitq, 2 * (size_t)cfg->queue_max);
	jobq_init(&r->doneq, 0);
	ratelimit_bucket_init(&r->verify_budget, cfg->verify_budget, clock_mono_ns());
	int rc = replay_new(&r->replay);
	struct ratelimit **limits[NLIMITS];
	limit_tables(r, limits);
	for (size_t i = 0; i < NLIMITS && rc == DS_OK; i++)
		rc = ratelimit_new(65536, limits[i]);
	if (rc == DS_OK && (rc = cookies_new(cfg, r)) != DS_OK)
		goto fail;
	if (rc == DS_OK) {
		int64_t now = (int64_t)time(NULL);
		rc = store_replay_purge(r->store, now);
		if (rc == DS_OK)
			rc = replay_load(r->replay, r->store, now);
	}
	if (rc != DS_OK) {
		log_err("cannot load the replay cache from the store: %s", ds_strerror(rc));
		goto fail;
	}

	if (cfg->receiver.enabled) {
		struct rkeys *set;
		rc = rkeys_load(cfg, true, &set);
		if (rc != DS_OK)
			goto fail;
		atomic_store(&r->rkeys, set);
		if (rkeys_active(set, (int64_t)time(NULL)) == NULL)
			log_warning("no receiver key is active now: responses go out unsigned");
		atomic_store(&r->sign_tokens, (long)cfg->receiver.sign_budget);
	} else {
		log_warning("receiver.name is not set: responses are not signed");
	}
	*out = r;
	return DS_OK;
fail:
	receiver_free(r);
	return rc;
}

int receiver_new(const struct cfg *cfg, const struct receiver_env *env, struct receiver **out)
{
	struct receiver *r;
	int rc = receiver_core_new(cfg, env, &r);
	if (rc != DS_OK)
		return rc;
	struct rlimit rl;
	r->nconns_max = 65536;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < r->nconns_max)
		r->nconns_max = (size_t)rl.rlim_cur;
	r->conns = calloc(r->nconns_max, sizeof(*r->conns));
	r->open_cap = cfg->tcp_max_connections;
	r->open = calloc(r->open_cap, sizeof(*r->open));
	r->epfd = epoll_create1(EPOLL_CLOEXEC);
	r->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	r->lfd = calloc(cfg->nlisten * 2, sizeof(*r->lfd));
	r->ltcp = calloc(cfg->nlisten * 2, sizeof(*r->ltcp));
	if (r->conns == NULL || r->open == NULL || r->epfd < 0 || r->wakefd < 0 || !r->lfd ||
	    !r->ltcp) {
		rc = DS_ENOMEM;
		goto fail;
	}
	ep_set(r, r->wakefd, 0, EPOLLIN, true);
	for (size_t i = 0; i < cfg->nlisten; i++) {
		for (int tcp = 0; tcp <= 1; tcp++) {
			int fd = open_listener(cfg->listen[i], cfg->port, tcp, cfg->udp_rcvbuf);
			if (fd < 0) {
				rc = DS_EIO;
				goto fail;
			}
			r->lfd[r->nlfd] = fd;
			r->ltcp[r->nlfd++] = tcp;
			ep_set(r, fd, 0, EPOLLIN, true);
		}
		log_notice("listening on %s port %u (udp, tcp)", cfg->listen[i], cfg->port);
	}
	*out = r;
	return DS_OK;
fail:
	receiver_free(r);
	return rc;
}

/* One epoll event: the wake-up pipe, a listener, or a TCP connection. */
static void on_event(struct receiver *r, const struct epoll_event *e)
{
	int fd = (int)(uint32_t)e->data.u64;
	uint32_t id = (uint32_t)(e->data.u64 >> 32);
	if (fd == r->wakefd) {
		uint64_t v;
		ssize_t rd = read(r->wakefd, &v, sizeof(v));
		(void)rd;
		drain_done(r);
		return;
	}
	for (size_t k = 0; k < r->nlfd; k++)
		if (r->lfd[k] == fd) {
			if (r->ltcp[k])
				tcp_accept(r, fd);
			else
				udp_read(r, fd);
			return;
		}
	if ((size_t)fd >= r->nconns_max || r->conns[fd] == NULL || (uint32_t)r->conns[fd]->id != id)
		return; /* (a stale event of a connection closed since) */
	struct conn *c = r->conns[fd];
	if (e->events & (EPOLLERR | EPOLLHUP)) {
		conn_close(r, c);
		return;
	}
	if (e->events & EPOLLOUT)
		tcp_write(r, c);
	if (r->conns[fd] == c && (e->events & EPOLLIN))
		tcp_read(r, c);
}

/* What signals asked for, and the timers: each second, each minute. */
static void housekeeping(struct receiver *r, time_t *last_sweep, time_t *last_purge)
{
	pipeline_log_flush(r); /* the refused lines held back in the last second */
	if (r->want_stats) {
		r->want_stats = 0;
		log_stats(r);
	}
	if (r->want_keys) {
		r->want_keys = 0;
		reload_rkeys(r);
	}
	if (r->want_reload) {
		r->want_reload = 0;
		if (r->reload_hook != NULL)
			r->reload_hook(r->reload_arg);
	}
	time_t now = time(NULL);
	if (now != *last_sweep) {
		*last_sweep = now;
		sweep_idle(r);
		atomic_store(&r->sign_tokens, (long)r->cfg->receiver.sign_budget);
	}
	if (now - *last_purge >= 60) {
		*last_purge = now;
		replay_purge(r->replay, (int64_t)now);
		reload_rkeys(r);
	}
}

int receiver_run(struct receiver *r)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	r->nworkers = r->cfg->workers ? r->cfg->workers : (size_t)(ncpu > 0 ? ncpu : 1);
	r->workers = calloc(r->nworkers, sizeof(*r->workers));
	if (r->workers == NULL)
		return DS_ENOMEM;
	for (size_t i = 0; i < r->nworkers; i++)
		pthread_create(&r->workers[i], NULL, worker_main, r);
	pthread_create(&r->committer, NULL, committer_main, r);
	log_notice("dsyncd serving %zu zone(s), %zu key(s), %zu verification worker(s)",
		   r->cfg->nzones, keycache_count(r->keys), r->nworkers);

	time_t last_sweep = time(NULL), last_purge = last_sweep;
	struct epoll_event ev[64];
	while (!r->stop) {
		int n = epoll_wait(r->epfd, ev, 64, 1000);
		for (int i = 0; i < n; i++)
			on_event(r, &ev[i]);
		housekeeping(r, &last_sweep, &last_purge);
	}

	/* drain: finish what was accepted, answer it, then stop the threads */
	log_notice("shutting down");
	jobq_close(&r->verifyq);
	for (size_t i = 0; i < r->nworkers; i++)
		pthread_join(r->workers[i], NULL);
	jobq_close(&r->commitq);
	pthread_join(r->committer, NULL);
	drain_done(r);
	log_stats(r);
	return DS_OK;
}

/* Raise a request flag and wake the I/O loop (async-signal-safe). */
static void ask(struct receiver *r, volatile sig_atomic_t *flag)
{
	*flag = 1;
	wake(r);
}

void receiver_stop(struct receiver *r)
{
	ask(r, &r->stop);
}

void receiver_request_stats(struct receiver *r)
{
	ask(r, &r->want_stats);
}

void receiver_request_keys(struct receiver *r)
{
	ask(r, &r->want_keys);
}

void receiver_request_reload(struct receiver *r)
{
	ask(r, &r->want_reload);
}

int receiver_metrics(void *r, const struct cfg *cfg, struct store *s, FILE *out)
{
	return metrics_render(r, cfg, s, out);
}

void receiver_set_reload_hook(struct receiver *r, void (*fn)(void *arg), void *arg)
{
	r->reload_hook = fn;
	r->reload_arg = arg;
}

void receiver_quiesce(struct receiver *r)
{
	while (r->inflight > 0) {
		struct pollfd p = {.fd = r->wakefd, .events = POLLIN};
		uint64_t v;
		if (poll(&p, 1, 1000) > 0 && read(r->wakefd, &v, sizeof(v)) < 0)
			continue;
		drain_done(r);
	}
}

static void jobq_set_max(struct jobq *q, size_t max)
{
	pthread_mutex_lock(&q->mu);
	q->max = max;
	pthread_mutex_unlock(&q->mu);
}

void receiver_apply(struct receiver *r, const struct cfg *cfg, const struct receiver_env *env)
{
	if (r->conns != NULL && cfg->tcp_max_connections > r->open_cap) {
		/* out of memory: the cap stays what it was (tcp_accept keeps to open_cap) */
		struct conn **o = realloc(r->open, cfg->tcp_max_connections * sizeof(*o));
		if (o != NULL) {
			r->open = o;
			r->open_cap = cfg->tcp_max_connections;
		} else {
			log_err("reload: out of memory: server.tcp-max-connections stays at %zu",
				r->open_cap);
		}
	}
	r->cfg = cfg;
	r->outbox = env->outbox;
	r->boot = env->boot;
	jobq_set_max(&r->verifyq, cfg->queue_max);
	jobq_set_max(&r->commitq, 2 * (size_t)cfg->queue_max);
	ratelimit_bucket_init(&r->verify_budget, cfg->verify_budget, clock_mono_ns());
	atomic_store(&r->sign_tokens, (long)cfg->receiver.sign_budget);
	reload_rkeys(r);
}

void receiver_free(struct receiver *r)
{
	if (r == NULL)
		return;
	while (r->nconns > 0)
		conn_close(r, r->open[0]);
	for (size_t i = 0; i < r->nlfd; i++)
		close(r->lfd[i]);
	if (r->epfd >= 0)
		close(r->epfd);
	if (r->wakefd >= 0)
		close(r->wakefd);
	jobq_destroy(&r->verifyq);
	jobq_destroy(&r->commitq);
	jobq_destroy(&r->doneq);
	replay_free(r->replay);
	rkeys_free(atomic_load(&r->rkeys));
	struct ratelimit **limits[NLIMITS];
	limit_tables(r, limits);
	for (size_t i = 0; i < NLIMITS; i++)
		ratelimit_free(*limits[i]);
	cookie_mac_free(r->cookie_mac);
	for (size_t i = 0; i < r->nrkeys_old; i++)
		rkeys_free(r->rkeys_old[i]);
	free(r->conns);
	free(r->open);
	free(r->lfd);
	free(r->ltcp);
	free(r->workers);
	free(r);
}

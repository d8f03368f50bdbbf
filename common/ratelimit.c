/*
 * common/ratelimit.c -- counts per key (a child name, a source prefix) in
 * one-minute windows, in a fixed-size table: memory stays bounded however
 * many keys an attacker invents.  Two keys that share a slot share a count,
 * which can only make the limit stricter.  Also the token bucket of the
 * verification budget (R8).  Used by the I/O thread only.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/ratelimit.h"

struct rl_slot {
	uint64_t key;
	int64_t window; /* minute number */
	unsigned count;
};

struct ratelimit {
	size_t n; /* a power of two */
	struct rl_slot slot[];
};

int ratelimit_new(size_t n, struct ratelimit **out)
{
	size_t p = 1;
	while (p < n)
		p <<= 1;
	struct ratelimit *rl = calloc(1, sizeof(*rl) + p * sizeof(rl->slot[0]));
	if (rl == NULL)
		return DS_ENOMEM;
	rl->n = p;
	*out = rl;
	return DS_OK;
}

void ratelimit_free(struct ratelimit *rl)
{
	free(rl);
}

bool ratelimit_allow_in(struct ratelimit *rl, uint64_t key, int64_t window, unsigned limit)
{
	struct rl_slot *s = &rl->slot[(key * 0x9e3779b97f4a7c15ull) >> 40 & (rl->n - 1)];
	if (s->window != window) {
		s->window = window;
		s->key = key;
		s->count = 0;
	}
	if (s->count >= limit)
		return false;
	s->count++;
	return true;
}

bool ratelimit_allow(struct ratelimit *rl, uint64_t key, int64_t now, unsigned per_minute)
{
	return ratelimit_allow_in(rl, key, now / 60, per_minute);
}

uint64_t ratelimit_prefix_key(const struct sockaddr_storage *ss)
{
	uint64_t h = 1469598103934665603ull;
	const uint8_t *p = NULL;
	size_t n = 0;
	if (ss->ss_family == AF_INET) {
		p = (const uint8_t *)&((const struct sockaddr_in *)ss)->sin_addr;
		n = 3; /* /24 */
	} else if (ss->ss_family == AF_INET6) {
		p = (const uint8_t *)&((const struct sockaddr_in6 *)ss)->sin6_addr;
		n = 7; /* /56 */
	}
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h ^ (uint64_t)ss->ss_family;
}

/*
 * Tokens are kept in billionths so that refilling needs no floating point:
 * elapsed nanoseconds times the rate is the refill, and the bucket holds at
 * most one second's worth (rate * 1e9 fits in 64 bits for any rate the
 * configuration allows).
 */
#define NS_PER_S 1000000000ull

void ratelimit_bucket_init(struct ratelimit_bucket *b, unsigned per_second, uint64_t now_ns)
{
	b->rate = per_second;
	b->tokens = (uint64_t)per_second * NS_PER_S;
	b->last_ns = now_ns;
}

static void bucket_refill(struct ratelimit_bucket *b, uint64_t now_ns)
{
	uint64_t cap = (uint64_t)b->rate * NS_PER_S;
	uint64_t dt = now_ns > b->last_ns ? now_ns - b->last_ns : 0;
	b->last_ns = now_ns > b->last_ns ? now_ns : b->last_ns;
	if (dt >= NS_PER_S || cap - b->tokens <= dt * b->rate)
		b->tokens = cap;
	else
		b->tokens += dt * b->rate;
}

unsigned ratelimit_bucket_percent(struct ratelimit_bucket *b, uint64_t now_ns)
{
	if (b->rate == 0)
		return 100;
	bucket_refill(b, now_ns);
	return (unsigned)(b->tokens / b->rate / (NS_PER_S / 100));
}

bool ratelimit_bucket_take(struct ratelimit_bucket *b, unsigned n, uint64_t now_ns)
{
	if (b->rate == 0)
		return true;
	bucket_refill(b, now_ns);
	/* a message needing more than a second's budget still gets through,
	 * once the bucket is full */
	uint64_t need = (uint64_t)(n < b->rate ? n : b->rate) * NS_PER_S;
	if (b->tokens < need)
		return false;
	b->tokens -= need;
	return true;
}

/*
 * common/ratelimit.h -- per-key event counts per minute (a fixed table of
 * slots, one owner thread each) and a token bucket.  Used for the limits
 * before crypto (per client network, per signer), key uploads, KeyState
 * inquiries, audit rows of refusals and the API's 401 audit rows.
 */
#ifndef DS_COMMON_RATELIMIT_H
#define DS_COMMON_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct ratelimit;
int ratelimit_new(size_t slots, struct ratelimit **out);
void ratelimit_free(struct ratelimit *rl);
/* Count one event for key in the current minute; false when over per_minute. */
bool ratelimit_allow(struct ratelimit *rl, uint64_t key, int64_t now, unsigned per_minute);
/* The same with the window given (its number: a second, a minute...) and
 * its limit. */
bool ratelimit_allow_in(struct ratelimit *rl, uint64_t key, int64_t window, unsigned limit);
/* The key of a client's /24 (IPv4) or /56 (IPv6). */
uint64_t ratelimit_prefix_key(const struct sockaddr_storage *ss);

/*
 * A token bucket (R8: the verification budget): rate tokens a second, at
 * most one second's worth saved up.  Plain data, embedded by its owner.
 */
struct ratelimit_bucket {
	uint64_t tokens;  /* in billionths of a token */
	uint64_t last_ns; /* CLOCK_MONOTONIC of the last refill */
	unsigned rate;	  /* tokens per second; 0 = unlimited */
};
/* Start full at now_ns (CLOCK_MONOTONIC nanoseconds). */
void ratelimit_bucket_init(struct ratelimit_bucket *b, unsigned per_second, uint64_t now_ns);
/* What is left at now_ns, in percent of a second's worth (100: unlimited). */
unsigned ratelimit_bucket_percent(struct ratelimit_bucket *b, uint64_t now_ns);
/* Take n tokens at now_ns; false (nothing taken) when there are fewer. */
bool ratelimit_bucket_take(struct ratelimit_bucket *b, unsigned n, uint64_t now_ns);

#endif

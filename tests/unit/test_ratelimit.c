/*
 * tests/unit/test_ratelimit.c -- common/ratelimit.c with a clock of our
 * own: the per-minute counts (R9, R17) and the token bucket of the
 * verification budget (R8): start full, refill by elapsed time, never more
 * than one second's worth, a request needing more than that, 0 = no limit.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>

#include "common/err.h"
#include "common/ratelimit.h"
#include "tests/unit/unit.h"

#define S 1000000000ull /* one second in nanoseconds */

static void test_prefix(void)
{
	struct sockaddr_storage a = unit_addr("127.0.1.1"), b = unit_addr("127.0.1.200"),
				c = unit_addr("127.0.2.1"), d = unit_addr("2001:db8:0:ff::1"),
				e = unit_addr("2001:db8:0:ff:1::2"),
				f = unit_addr("2001:db8:0:100::1");
	CHECK(ratelimit_prefix_key(&a) == ratelimit_prefix_key(&b)); /* same /24 */
	CHECK(ratelimit_prefix_key(&a) != ratelimit_prefix_key(&c));
	CHECK(ratelimit_prefix_key(&d) == ratelimit_prefix_key(&e)); /* same /56 */
	CHECK(ratelimit_prefix_key(&d) != ratelimit_prefix_key(&f));
}

static void test_per_minute(void)
{
	struct ratelimit *rl = NULL;
	CHECK_EQ(ratelimit_new(1000, &rl), DS_OK);
	if (rl == NULL)
		return;
	int64_t t = 6000000; /* the start of a minute */
	unsigned n = 0;
	for (int i = 0; i < 30; i++)
		n += ratelimit_allow(rl, 42, t + i, 20);
	CHECK_EQ(n, 20);
	CHECK(ratelimit_allow(rl, 43, t + 30, 20)); /* another key has its own count */
	CHECK(!ratelimit_allow(rl, 42, t + 59, 20));
	CHECK(ratelimit_allow(rl, 42, t + 60, 20)); /* a new minute */
	ratelimit_free(rl);
	ratelimit_free(NULL);
}

static void test_bucket(void)
{
	struct ratelimit_bucket b;
	uint64_t t = 1000 * S;
	ratelimit_bucket_init(&b, 5, t);
	unsigned n = 0;
	for (int i = 0; i < 50; i++)
		n += ratelimit_bucket_take(&b, 1, t);
	CHECK_EQ(n, 5); /* starts full: one second's worth */
	CHECK(!ratelimit_bucket_take(&b, 1, t + S / 5 - 1));
	CHECK(ratelimit_bucket_take(&b, 1, t + S / 5)); /* one token per 200 ms */
	CHECK(!ratelimit_bucket_take(&b, 1, t + S / 5));
	/* a long pause fills it to one second's worth, no more */
	t += 3600 * S;
	n = 0;
	for (int i = 0; i < 50; i++)
		n += ratelimit_bucket_take(&b, 1, t);
	CHECK_EQ(n, 5);
	/* two verifications at once need two tokens */
	CHECK(!ratelimit_bucket_take(&b, 2, t + S / 5));
	CHECK(ratelimit_bucket_take(&b, 2, t + 2 * S / 5));
	/* a clock that goes back refills nothing */
	CHECK(!ratelimit_bucket_take(&b, 1, t));
	/* more than a second's worth: only with a full bucket */
	ratelimit_bucket_init(&b, 1, t);
	CHECK(ratelimit_bucket_take(&b, 2, t));
	CHECK(!ratelimit_bucket_take(&b, 2, t + S / 2));
	CHECK(ratelimit_bucket_take(&b, 2, t + S));
	/* the largest rate the configuration allows: no overflow */
	ratelimit_bucket_init(&b, 1000000, t);
	n = 0;
	for (int i = 0; i < 10; i++)
		n += ratelimit_bucket_take(&b, 100000, t);
	CHECK_EQ(n, 10);
	CHECK(!ratelimit_bucket_take(&b, 1, t));
	CHECK(ratelimit_bucket_take(&b, 999999, t + 999999 * (S / 1000000)));
	/* 0: no limit */
	ratelimit_bucket_init(&b, 0, t);
	n = 0;
	for (int i = 0; i < 100000; i++)
		n += ratelimit_bucket_take(&b, 2, t);
	CHECK_EQ(n, 100000);
}

/* The bucket's level in percent (the "short" test of the budget), and
 * counts in windows of the caller's choosing (the per-network share). */
static void test_percent_window(void)
{
	struct ratelimit_bucket b;
	uint64_t t = 5 * S;
	ratelimit_bucket_init(&b, 100, t);
	CHECK_EQ(ratelimit_bucket_percent(&b, t), 100);
	CHECK(ratelimit_bucket_take(&b, 60, t));
	CHECK_EQ(ratelimit_bucket_percent(&b, t), 40);
	CHECK_EQ(ratelimit_bucket_percent(&b, t + S / 10), 50); /* 10 tokens back */
	CHECK_EQ(ratelimit_bucket_percent(&b, t + 2 * S), 100);
	ratelimit_bucket_init(&b, 0, t);
	CHECK_EQ(ratelimit_bucket_percent(&b, t), 100); /* unlimited */

	struct ratelimit *rl = NULL;
	CHECK_EQ(ratelimit_new(64, &rl), DS_OK);
	if (rl == NULL)
		return;
	unsigned n = 0;
	for (int i = 0; i < 10; i++)
		n += ratelimit_allow_in(rl, 7, 1000, 3);
	CHECK_EQ(n, 3);
	CHECK(ratelimit_allow_in(rl, 7, 1001, 3)); /* the next second */
	ratelimit_free(rl);
}

int main(void)
{
	test_percent_window();
	test_prefix();
	test_per_minute();
	test_bucket();
	UNIT_DONE("ratelimit");
}

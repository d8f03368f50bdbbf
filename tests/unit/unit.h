/*
 * tests/unit/unit.h -- the tiny harness shared by the unit test programs.
 * CHECK() records a failure with file:line and goes on; each program ends
 * with UNIT_DONE(), which prints "<name>: N passed, N failed" and exits
 * non-zero on any failure.
 */
#ifndef DS_TESTS_UNIT_H
#define DS_TESTS_UNIT_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static int unit_pass, unit_fail;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (cond) {                                                                        \
			unit_pass++;                                                               \
		} else {                                                                           \
			unit_fail++;                                                               \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
		}                                                                                  \
	} while (0)

#define CHECK_EQ(a, b)                                                                             \
	do {                                                                                       \
		long long unit_a_ = (long long)(a), unit_b_ = (long long)(b);                      \
		if (unit_a_ == unit_b_) {                                                          \
			unit_pass++;                                                               \
		} else {                                                                           \
			unit_fail++;                                                               \
			fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__,        \
				__LINE__, #a, #b, unit_a_, unit_b_);                               \
		}                                                                                  \
	} while (0)

#define UNIT_DONE(name)                                                                            \
	do {                                                                                       \
		printf("%s: %d passed, %d failed\n", name, unit_pass, unit_fail);                  \
		return unit_fail ? 1 : 0;                                                          \
	} while (0)

/* An IPv4 or IPv6 address as a socket address (family 0 when text is neither). */
static inline struct sockaddr_storage unit_addr(const char *text)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, text, &s4->sin_addr) == 1)
		s4->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, text, &s6->sin6_addr) == 1)
		s6->sin6_family = AF_INET6;
	return ss;
}

#endif

/*
 * common/clock.h -- the monotonic clock, for timeouts and rates (never for
 * what is stored or shown: that is CLOCK_REALTIME).
 */
#ifndef DS_COMMON_CLOCK_H
#define DS_COMMON_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t clock_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline int64_t clock_mono_ms(void)
{
	return (int64_t)(clock_mono_ns() / 1000000u);
}

#endif

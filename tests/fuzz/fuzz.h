/*
 * tests/fuzz/fuzz.h -- shared by the libFuzzer targets and the replay driver.
 * Each target defines LLVMFuzzerTestOneInput(); a failed FUZZ_ASSERT aborts,
 * which libFuzzer and the replay driver both report as a crash.
 */
#ifndef DS_TESTS_FUZZ_H
#define DS_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond)                                                              \
	do {                                                                            \
		if (!(cond)) {                                                          \
			fprintf(stderr, "%s:%d: fuzz check failed: %s\n", __FILE__, __LINE__, \
			        #cond);                                                 \
			abort();                                                        \
		}                                                                       \
	} while (0)

#endif

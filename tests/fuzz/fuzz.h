/*
 * tests/fuzz/fuzz.h -- shared by the libFuzzer targets and the replay driver.
 * Each target defines LLVMFuzzerTestOneInput(); a failed FUZZ_ASSERT aborts,
 * which libFuzzer and the replay driver both report as a crash.
 */
#ifndef DS_TESTS_FUZZ_H
#define DS_TESTS_FUZZ_H

#include <ftw.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond)                                                              \
	do {                                                                            \
		if (!(cond)) {                                                          \
			fprintf(stderr, "%s:%d: fuzz check failed: %s\n", __FILE__, __LINE__, \
			        #cond);                                                 \
			abort();                                                        \
		}                                                                       \
	} while (0)

static inline int fuzz_rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

/* Remove the folder dir and everything in it (a target's private temp folder). */
static inline void fuzz_rmtree(const char *dir)
{
	nftw(dir, fuzz_rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

/*
 * A private temporary folder named name.XXXXXX into dir (cap bytes): in
 * /dev/shm when it can be made there (memory: the targets that write each
 * input to a file then cost no disk writes), else in /tmp.  Aborts when
 * neither works.
 */
static inline void fuzz_mkdtemp(char *dir, size_t cap, const char *name)
{
	static const char *const base[] = {"/dev/shm", "/tmp"};
	for (size_t i = 0; i < sizeof(base) / sizeof(base[0]); i++) {
		snprintf(dir, cap, "%s/%s.XXXXXX", base[i], name);
		if (mkdtemp(dir) != NULL)
			return;
	}
	abort();
}

#endif

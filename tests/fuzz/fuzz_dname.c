/*
 * tests/fuzz/fuzz_dname.c -- dname_from_str() over arbitrary text: a name
 * that parses prints with dname_to_str() and parses back to the same bytes.
 * The same bytes are also read as a wire name (with compression) and must
 * round-trip through text the same way.
 */
#include <string.h>

#include "common/dname.h"
#include "common/err.h"
#include "common/wire.h"
#include "tests/fuzz/fuzz.h"

static void roundtrip(const uint8_t *name, size_t len)
{
	char s[DNAME_STR_MAX];
	uint8_t back[DNAME_MAX], low1[DNAME_MAX], low2[DNAME_MAX];
	FUZZ_ASSERT(len >= 1 && len <= DNAME_MAX && dname_len(name) == len);
	FUZZ_ASSERT(dname_to_str(name, s, sizeof(s)) == DS_OK);
	FUZZ_ASSERT(strlen(s) < DNAME_STR_MAX);
	FUZZ_ASSERT(dname_from_str(s, back) == (int)len);
	FUZZ_ASSERT(memcmp(back, name, len) == 0);
	FUZZ_ASSERT(dname_equal(back, name) && dname_compare(back, name) == 0);
	FUZZ_ASSERT(dname_hash(back) == dname_hash(name));
	/* lower case is idempotent and equal to the original */
	FUZZ_ASSERT(dname_lower(low1, name) == len);
	FUZZ_ASSERT(dname_lower(low2, low1) == len && memcmp(low1, low2, len) == 0);
	FUZZ_ASSERT(dname_equal(low1, name) && dname_hash(low1) == dname_hash(name));
	/* every ancestor contains it */
	unsigned labels = dname_labels(name);
	const uint8_t *p = name;
	for (unsigned i = 0; i <= labels; i++, p = dname_parent(p)) {
		FUZZ_ASSERT(dname_is_sub(name, p));
		FUZZ_ASSERT(dname_is_strict_sub(name, p) == (i > 0));
		FUZZ_ASSERT(i == 0 || dname_compare(p, name) < 0);
	}
	FUZZ_ASSERT(p[0] == 0);
	/* a short buffer is an error, never an overflow */
	char small[7];
	int rc = dname_to_str(name, small, sizeof(small));
	FUZZ_ASSERT(rc == DS_OK || rc == DS_ELIMIT);
	FUZZ_ASSERT(strlen(small) < sizeof(small));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* as text (up to the first NUL) */
	char *s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	uint8_t name[DNAME_MAX];
	int n = dname_from_str(s, name);
	FUZZ_ASSERT(n > 0 || n == DS_EPARSE || n == DS_ELIMIT);
	if (n > 0)
		roundtrip(name, (size_t)n);
	free(s);

	/* as wire: the first byte picks where the name starts */
	if (size > 1) {
		struct wire w;
		wire_init(&w, data + 1, size - 1);
		wire_seek(&w, data[0] % (size - 1));
		size_t start = w.pos;
		size_t len = wire_name(&w, name);
		FUZZ_ASSERT(len == 0 ? wire_err(&w) != 0 : wire_err(&w) == 0);
		if (len) {
			FUZZ_ASSERT(w.pos > start && w.pos <= size - 1);
			roundtrip(name, len);
		}
	}
	return 0;
}

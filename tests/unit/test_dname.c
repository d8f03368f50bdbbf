/*
 * tests/unit/test_dname.c -- name comparison, ordering, escaping (R15) and
 * parsing.
 */
#include <stdlib.h>
#include <string.h>

#include "common/dname.h"
#include "common/err.h"
#include "tests/unit/unit.h"

/* Wire form of a presentation name the test trusts (aborts on error). */
static const uint8_t *W(const char *s)
{
	static uint8_t ring[16][DNAME_MAX];
	static int next;
	uint8_t *out = ring[next++ % 16];
	int n = dname_from_str(s, out);
	if (n <= 0) {
		fprintf(stderr, "test_dname: cannot parse fixture '%s' (%d)\n", s, n);
		exit(2);
	}
	return out;
}

static void test_len_labels_parent(void)
{
	CHECK_EQ(dname_len(W(".")), 1);
	CHECK_EQ(dname_labels(W(".")), 0);
	CHECK_EQ(dname_len(W("a.bc.")), 6);
	CHECK_EQ(dname_labels(W("a.bc.")), 2);

	const uint8_t *n = W("a.b.example.");
	const uint8_t *p = dname_parent(n);
	CHECK(dname_equal(p, W("b.example")));
	p = dname_parent(p);
	CHECK(dname_equal(p, W("example")));
	p = dname_parent(p);
	CHECK(dname_equal(p, W(".")));
	CHECK(dname_parent(p) == p); /* root stays root */
	CHECK(p == n + dname_len(n) - 1);
}

static void test_equal(void)
{
	static const struct {
		const char *a, *b;
		bool eq;
	} t[] = {
		{"example.", "EXAMPLE.", true},
		{"Www.ExAmple.COM", "www.example.com.", true},
		{".", ".", true},
		{"example.", ".", false},
		{"example.", "example.com.", false},
		{"ab.example.", "cab.example.", false},
		{"a.bc.", "ab.c.", false},
		{"\\065.", "a.", true},   /* 'A' vs 'a' */
		{"\\091.", "\\123.", false}, /* '[' vs '{': only A-Z fold */
		{"\\192.", "\\224.", false}, /* no folding beyond ASCII */
		{"@.", "`.", false},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		CHECK_EQ(dname_equal(W(t[i].a), W(t[i].b)), t[i].eq);
		CHECK_EQ(dname_equal(W(t[i].b), W(t[i].a)), t[i].eq);
		if (t[i].eq)
			CHECK(dname_hash(W(t[i].a)) == dname_hash(W(t[i].b)));
	}
}

static void test_sub(void)
{
	static const struct {
		const char *name, *parent;
		bool sub, strict;
	} t[] = {
		{"ab.example.", "cab.example.", false, false},
		{"cab.example.", "ab.example.", false, false},
		{"ab.example.", "b.example.", false, false},
		{"cab.example.", "example.", true, true},
		{"x.cab.example.", "cab.example.", true, true},
		{"x.cab.example.", "ab.example.", false, false},
		{"example.", "example.", true, false},
		{"EXAMPLE.", "example.", true, false},
		{"A.B.Example.", "b.EXAMPLE.", true, true},
		{"xexample.", "example.", false, false},
		{"example.", "a.example.", false, false},
		{"example.", ".", true, true},
		{"a.b.c.d.", ".", true, true},
		{".", ".", true, false},
		{".", "example.", false, false},
		{"example.com.", "example.", false, false},
		{"a\\.example.", "example.", false, false}, /* one label "a.example" */
		{"b.a\\.example.", "a\\.example.", true, true},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		bool s = dname_is_sub(W(t[i].name), W(t[i].parent));
		bool ss = dname_is_strict_sub(W(t[i].name), W(t[i].parent));
		if (s != t[i].sub || ss != t[i].strict)
			fprintf(stderr, "sub case %s under %s: %d %d\n", t[i].name, t[i].parent, s,
			        ss);
		CHECK_EQ(s, t[i].sub);
		CHECK_EQ(ss, t[i].strict);
	}
}

static int sgn(int v)
{
	return (v > 0) - (v < 0);
}

static int cmp_wire(const void *a, const void *b)
{
	return dname_compare(*(const uint8_t *const *)a, *(const uint8_t *const *)b);
}

static void test_compare(void)
{
	/* RFC 4034 section 6.1, in canonical order */
	static const char *order[] = {
		"example.",        "a.example.",     "yljkjljk.a.example.",
		"Z.a.example.",    "zABC.a.EXAMPLE.", "z.example.",
		"\\001.z.example.", "*.z.example.",    "\\200.z.example.",
	};
	enum { N = sizeof(order) / sizeof(order[0]) };
	uint8_t names[N][DNAME_MAX];
	for (size_t i = 0; i < N; i++)
		CHECK(dname_from_str(order[i], names[i]) > 0);
	for (size_t i = 0; i < N; i++)
		for (size_t j = 0; j < N; j++) {
			int c = sgn(dname_compare(names[i], names[j]));
			int want = (i > j) - (i < j);
			if (c != want)
				fprintf(stderr, "compare %s vs %s: %d\n", order[i], order[j], c);
			CHECK_EQ(c, want);
		}

	/* sorting a reversed and a rotated list gives the RFC order */
	const uint8_t *v[N];
	for (size_t i = 0; i < N; i++)
		v[i] = names[N - 1 - i];
	qsort(v, N, sizeof(v[0]), cmp_wire);
	for (size_t i = 0; i < N; i++)
		CHECK(v[i] == names[i]);
	for (size_t i = 0; i < N; i++)
		v[i] = names[(i + 4) % N];
	qsort(v, N, sizeof(v[0]), cmp_wire);
	for (size_t i = 0; i < N; i++)
		CHECK(v[i] == names[i]);

	/* more pairs: a < b */
	static const struct {
		const char *a, *b;
	} lt[] = {
		{".", "example."},   {"a.", "b."},         {"a.", "aa."},
		{"b.a.", "a.b."},    {"zz.a.", "a.b."},    {"\\000a.", "a."},
		{"\\000.", "\\001."}, {"a.b.", "aa.b."},     {"a.\\000.", "\\255."},
		{"\\[.", "Z."}, /* 'z' folds to 0x7a, '[' is 0x5b */
	};
	for (size_t i = 0; i < sizeof(lt) / sizeof(lt[0]); i++) {
		CHECK(dname_compare(W(lt[i].a), W(lt[i].b)) < 0);
		CHECK(dname_compare(W(lt[i].b), W(lt[i].a)) > 0);
	}
	CHECK_EQ(dname_compare(W("WWW.Example."), W("www.EXAMPLE.")), 0);
}

static void test_lower(void)
{
	uint8_t out[DNAME_MAX];
	const uint8_t *in = W("WwW.Ex\\@Mp\\[E.\\200Z.");
	size_t n = dname_lower(out, in);
	CHECK_EQ(n, dname_len(in));
	const uint8_t *want = W("www.ex\\@mp\\[e.\\200z.");
	CHECK(memcmp(out, want, n) == 0);
	CHECK_EQ(dname_lower(out, W(".")), 1);
	CHECK_EQ(out[0], 0);
	/* labels of length 'A'..'Z' (65-90) cannot exist, but 63 = '?' is a
	 * length byte next to letters: only content bytes fold */
	uint8_t lab[DNAME_MAX];
	lab[0] = 63;
	memset(lab + 1, 'Q', 63);
	lab[64] = 0;
	CHECK_EQ(dname_lower(out, lab), 65);
	CHECK_EQ(out[0], 63);
	CHECK_EQ(out[1], 'q');
	CHECK_EQ(out[63], 'q');
}

static void test_to_str(void)
{
	static const struct {
		uint8_t wire[16];
		const char *text;
	} t[] = {
		{{0}, "."},
		{{3, 'a', 'b', 'c', 0}, "abc."},
		{{3, 'a', '.', 'b', 0}, "a\\.b."},
		{{1, ';', 0}, "\\;."},
		{{2, '(', ')', 0}, "\\(\\)."},
		{{1, '\\', 0}, "\\\\."},
		{{1, '"', 0}, "\\\"."},
		{{1, '$', 0}, "\\$."},
		{{1, '@', 0}, "\\@."},
		{{3, 'a', ' ', 'b', 0}, "a\\032b."},
		{{1, '\t', 0}, "\\009."},
		{{1, '\n', 0}, "\\010."},
		{{1, 0, 0}, "\\000."},
		{{1, 0x7f, 0}, "\\127."},
		{{1, 0x80, 0}, "\\128."},
		{{1, 0xff, 0}, "\\255."},
		{{1, '*', 1, '-', 0}, "*.-."},
		{{2, 'A', 'z', 1, '_', 0}, "Az._."},
		{{1, '~', 1, '!', 0}, "~.!."},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char s[DNAME_STR_MAX];
		CHECK_EQ(dname_to_str(t[i].wire, s, sizeof(s)), DS_OK);
		if (strcmp(s, t[i].text) != 0)
			fprintf(stderr, "to_str case %zu: got '%s' want '%s'\n", i, s, t[i].text);
		CHECK(strcmp(s, t[i].text) == 0);
		/* and back */
		uint8_t back[DNAME_MAX];
		int n = dname_from_str(s, back);
		CHECK_EQ(n, (int)dname_len(t[i].wire));
		CHECK(n > 0 && memcmp(back, t[i].wire, (size_t)n) == 0);
	}

	/* short buffers: DS_ELIMIT, truncated, NUL-terminated */
	char s[8];
	const uint8_t *n = W("abcdef.ghi.");
	memset(s, 'X', sizeof(s));
	CHECK_EQ(dname_to_str(n, s, sizeof(s)), DS_ELIMIT);
	CHECK(memchr(s, '\0', sizeof(s)) != NULL);
	CHECK(strncmp(s, "abcdef.", strlen(s)) == 0);
	CHECK_EQ(dname_to_str(n, s, 0), DS_ELIMIT);
	CHECK_EQ(dname_to_str(W("."), s, 1), DS_ELIMIT);
	CHECK_EQ(s[0], '\0');
	CHECK_EQ(dname_to_str(W("."), s, 2), DS_OK);
	CHECK(strcmp(s, ".") == 0);
	CHECK_EQ(dname_to_str(W("abcdef."), s, 8), DS_OK); /* exactly fits */
	CHECK_EQ(dname_to_str(W("abcdefg."), s, 8), DS_ELIMIT);
	/* an escape is never cut in half */
	CHECK_EQ(dname_to_str(W("ab\\000."), s, 5), DS_ELIMIT);
	CHECK(strcmp(s, "ab") == 0);

	/* the longest output fits DNAME_STR_MAX */
	uint8_t big[DNAME_MAX];
	size_t o = 0;
	for (int l = 0; l < 4; l++) {
		int len = l < 3 ? 63 : 61;
		big[o++] = (uint8_t)len;
		memset(big + o, 0xff, (size_t)len);
		o += (size_t)len;
	}
	big[o++] = 0;
	CHECK_EQ(o, DNAME_MAX);
	char bs[DNAME_STR_MAX];
	CHECK_EQ(dname_to_str(big, bs, sizeof(bs)), DS_OK);
	CHECK_EQ(strlen(bs), 250 * 4 + 4);
	uint8_t back[DNAME_MAX];
	CHECK_EQ(dname_from_str(bs, back), DNAME_MAX);
	CHECK(memcmp(back, big, DNAME_MAX) == 0);
}

static void test_from_str(void)
{
	static const struct {
		const char *s;
		int rc; /* >0: length */
	} t[] = {
		{".", 1},
		{"a", 3},
		{"a.", 3},
		{"example.com", 13},
		{"\\065", 3},
		{"a\\.b", 5},
		{"\\\\.", 3},
		{"a\\ b.", 5},
		{"", DS_EPARSE},
		{"..", DS_EPARSE},
		{".a", DS_EPARSE},
		{"a..b", DS_EPARSE},
		{"a..", DS_EPARSE},
		{"\\300", DS_EPARSE},
		{"\\256.", DS_EPARSE},
		{"a\\", DS_EPARSE},
		{"\\255", 3},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint8_t out[DNAME_MAX];
		int rc = dname_from_str(t[i].s, out);
		if (rc != t[i].rc)
			fprintf(stderr, "from_str '%s': %d want %d\n", t[i].s, rc, t[i].rc);
		CHECK_EQ(rc, t[i].rc);
	}

	uint8_t out[DNAME_MAX];
	char s[1200];
	/* label of 63 OK, 64 too long */
	memset(s, 'a', 63);
	strcpy(s + 63, ".x.");
	CHECK_EQ(dname_from_str(s, out), 67);
	CHECK_EQ(out[0], 63);
	memset(s, 'a', 64);
	strcpy(s + 64, ".x.");
	CHECK_EQ(dname_from_str(s, out), DS_ELIMIT);
	/* escapes count as one octet */
	s[0] = '\0';
	for (int i = 0; i < 63; i++)
		strcat(s, "\\255");
	CHECK_EQ(dname_from_str(s, out), 65);
	strcat(s, "\\255");
	CHECK_EQ(dname_from_str(s, out), DS_ELIMIT);

	/* 255 octets OK (with and without trailing dot), 256 fail */
	static const int lens[][4] = {{63, 63, 63, 61}, {63, 63, 63, 62}};
	for (int k = 0; k < 2; k++)
		for (int dot = 0; dot < 2; dot++) {
			size_t o = 0;
			for (int l = 0; l < 4; l++) {
				memset(s + o, 'b', (size_t)lens[k][l]);
				o += (size_t)lens[k][l];
				if (l < 3 || dot)
					s[o++] = '.';
			}
			s[o] = '\0';
			int rc = dname_from_str(s, out);
			CHECK_EQ(rc, k == 0 ? 255 : DS_ELIMIT);
		}
	/* 127 one-octet labels = 255 OK; 128 fail */
	s[0] = '\0';
	for (int i = 0; i < 127; i++)
		strcat(s, "c.");
	CHECK_EQ(dname_from_str(s, out), 255);
	CHECK_EQ(dname_labels(out), 127);
	strcat(s, "c");
	CHECK(dname_from_str(s, out) < 0);
	strcat(s, ".");
	CHECK(dname_from_str(s, out) < 0);
	/* way too long */
	memset(s, 'd', 1100);
	s[1100] = '\0';
	CHECK(dname_from_str(s, out) < 0);
}

/* 1000 random wire names -> to_str -> from_str -> same bytes. */
static void test_roundtrip_random(void)
{
	static const char special[] = ".;()\\\"$@ \t\x7f\x01"
	                              "aZ0-*";
	srand(4034);
	int bad = 0;
	for (int iter = 0; iter < 1000; iter++) {
		uint8_t n[DNAME_MAX];
		size_t o = 0;
		int want_labels = rand() % 20;
		for (int l = 0; l < want_labels; l++) {
			size_t len = 1 + (size_t)(rand() % (iter % 3 == 0 ? 63 : 8));
			if (o + 1 + len + 1 > DNAME_MAX)
				break;
			n[o++] = (uint8_t)len;
			for (size_t i = 0; i < len; i++) {
				int r = rand();
				/* half the names: any octet; the rest: mostly the
				 * special characters */
				if (iter % 2)
					n[o++] = (uint8_t)r;
				else
					n[o++] = (uint8_t)special[(size_t)r % (sizeof(special) - 1)];
			}
		}
		n[o++] = 0;
		char s[DNAME_STR_MAX];
		uint8_t back[DNAME_MAX];
		int rc = dname_to_str(n, s, sizeof(s));
		int len = dname_from_str(s, back);
		if (rc != DS_OK || len != (int)o || memcmp(back, n, o) != 0) {
			if (bad++ < 3)
				fprintf(stderr, "round trip %d failed: '%s' (%d, %d)\n", iter, s, rc,
				        len);
		}
		/* the text never holds a raw special or non-printable character */
		for (const char *p = s; *p; p++) {
			unsigned char c = (unsigned char)*p;
			if (c <= 0x20 || c >= 0x7f)
				bad++;
			if (strchr(";()\"$@", c) && (p == s || p[-1] != '\\'))
				bad++;
		}
		/* hash ignores case */
		uint8_t up[DNAME_MAX];
		memcpy(up, n, o);
		for (size_t p = 0; up[p]; p += 1 + up[p])
			for (size_t i = 1; i <= up[p]; i++)
				if (up[p + i] >= 'a' && up[p + i] <= 'z')
					up[p + i] = (uint8_t)(up[p + i] - 32);
		if (dname_hash(up) != dname_hash(n) || !dname_equal(up, n) ||
		    dname_compare(up, n) != 0)
			bad++;
	}
	CHECK_EQ(bad, 0);
}

static void test_hash(void)
{
	CHECK(dname_hash(W("Example.COM.")) == dname_hash(W("example.com")));
	CHECK(dname_hash(W("EXAMPLE.COM.")) == dname_hash(W("example.com")));
	CHECK(dname_hash(W("example.com.")) != dname_hash(W("example.org")));
	CHECK(dname_hash(W("ab.c.")) != dname_hash(W("a.bc.")));
	CHECK(dname_hash(W(".")) != dname_hash(W("a.")));
}

int main(void)
{
	test_len_labels_parent();
	test_equal();
	test_sub();
	test_compare();
	test_lower();
	test_to_str();
	test_from_str();
	test_roundtrip_random();
	test_hash();
	UNIT_DONE("test_dname");
}

/*
 * tests/unit/test_wire.c -- the bounds-checked cursor, name reading (R13) and
 * the writer.
 */
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "common/wire.h"
#include "tests/unit/unit.h"

static void test_cursor(void)
{
	static const uint8_t b[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07};
	struct wire w;

	wire_init(&w, b, sizeof(b));
	CHECK_EQ(wire_u8(&w), 0x01);
	CHECK_EQ(wire_u16(&w), 0x0203);
	CHECK_EQ(wire_u32(&w), 0x04050607);
	CHECK_EQ(wire_err(&w), 0);
	CHECK_EQ(wire_left(&w), 0);
	/* every read past the end: zero, sticky DS_ETRUNC */
	CHECK_EQ(wire_u8(&w), 0);
	CHECK_EQ(wire_err(&w), DS_ETRUNC);
	CHECK_EQ(wire_u16(&w), 0);
	CHECK_EQ(wire_u32(&w), 0);
	CHECK(wire_bytes(&w, 0) == NULL);
	CHECK_EQ(wire_err(&w), DS_ETRUNC);

	/* each width fails on a short buffer and the error stays */
	static const struct {
		size_t len;
		int what; /* 1=u8 2=u16 4=u32 */
	} shortreads[] = {{0, 1}, {1, 2}, {0, 2}, {3, 4}, {2, 4}, {0, 4}};
	for (size_t i = 0; i < sizeof(shortreads) / sizeof(shortreads[0]); i++) {
		wire_init(&w, b, shortreads[i].len);
		uint32_t v = shortreads[i].what == 1   ? wire_u8(&w)
		             : shortreads[i].what == 2 ? wire_u16(&w)
		                                       : wire_u32(&w);
		CHECK_EQ(v, 0);
		CHECK_EQ(wire_err(&w), DS_ETRUNC);
		CHECK_EQ(w.pos, 0); /* a failing read does not move */
		CHECK_EQ(wire_left(&w), 0);
	}

	/* sticky: a failure in the middle, then a read that would fit */
	wire_init(&w, b, 3);
	CHECK_EQ(wire_u16(&w), 0x0102);
	CHECK_EQ(wire_u16(&w), 0);
	CHECK_EQ(wire_err(&w), DS_ETRUNC);
	CHECK_EQ(wire_u8(&w), 0); /* one byte is left but the error sticks */

	/* bytes */
	wire_init(&w, b, sizeof(b));
	const uint8_t *p = wire_bytes(&w, 3);
	CHECK(p == b);
	CHECK(wire_bytes(&w, 5) == NULL);
	CHECK_EQ(wire_err(&w), DS_ETRUNC);
	wire_init(&w, b, sizeof(b));
	CHECK(wire_bytes(&w, 7) == b);
	CHECK(wire_bytes(&w, 0) == b + 7);
	CHECK_EQ(wire_err(&w), 0);
	wire_init(&w, b, sizeof(b));
	CHECK(wire_bytes(&w, SIZE_MAX) == NULL); /* no wrap-around */
	CHECK_EQ(wire_err(&w), DS_ETRUNC);

	/* skip and seek */
	wire_init(&w, b, sizeof(b));
	wire_skip(&w, 6);
	CHECK_EQ(wire_u8(&w), 0x07);
	wire_seek(&w, 1);
	CHECK_EQ(wire_u8(&w), 0x02);
	wire_seek(&w, 7);
	CHECK_EQ(wire_err(&w), 0);
	CHECK_EQ(wire_left(&w), 0);
	wire_seek(&w, 8);
	CHECK_EQ(wire_err(&w), DS_ETRUNC);
	wire_init(&w, b, sizeof(b));
	wire_skip(&w, 8);
	CHECK_EQ(wire_err(&w), DS_ETRUNC);
}

/* A name read from buf at offset at: expected length (0 = fail) and error. */
static size_t name_at(const uint8_t *buf, size_t len, size_t at, uint8_t out[DNAME_MAX],
                      int *err, size_t *pos, int comp)
{
	struct wire w;
	wire_init(&w, buf, len);
	wire_seek(&w, at);
	size_t n = comp ? wire_name(&w, out) : wire_name_nocomp(&w, out);
	*err = wire_err(&w);
	*pos = w.pos;
	return n;
}

static void test_names_table(void)
{
	static const struct {
		const char *what;
		uint8_t buf[40];
		size_t len, at;
		size_t want_len; /* 0: must fail */
		int want_err;
		size_t want_pos;
		uint8_t want[24];
	} t[] = {
		{"root", {0}, 1, 0, 1, 0, 1, {0}},
		{"plain", {1, 'a', 2, 'B', 'c', 0}, 6, 0, 6, 0, 6, {1, 'a', 2, 'B', 'c', 0}},
		{"backward pointer",
		 {3, 'f', 'o', 'o', 0, 1, 'x', 0xc0, 0x00},
		 9, 5, 7, DS_OK, 9,
		 {1, 'x', 3, 'f', 'o', 'o', 0}},
		{"pointer only",
		 {3, 'f', 'o', 'o', 0, 0xc0, 0x00},
		 7, 5, 5, DS_OK, 7,
		 {3, 'f', 'o', 'o', 0}},
		{"pointer to pointer",
		 {1, 'a', 0, 0xc0, 0x00, 0xc0, 0x03},
		 7, 5, 3, DS_OK, 7,
		 {1, 'a', 0}},
		{"pointer into the middle of a name",
		 {1, 'a', 1, 'b', 0, 0xc0, 0x02},
		 7, 5, 3, DS_OK, 7,
		 {1, 'b', 0}},
		{"forward pointer", {0xc0, 0x02, 0}, 3, 0, 0, DS_EMALF, 0, {0}},
		{"self pointer", {0xc0, 0x00}, 2, 0, 0, DS_EMALF, 0, {0}},
		{"self pointer later", {0, 0, 0xc0, 0x02}, 4, 2, 0, DS_EMALF, 2, {0}},
		/* two pointers aimed at each other: one of them points forward */
		{"pointer pair loop", {0xc0, 0x02, 0xc0, 0x00}, 4, 2, 0, DS_EMALF, 2, {0}},
		{"pointer pair loop from the first", {0xc0, 0x02, 0xc0, 0x00}, 4, 0, 0, DS_EMALF, 0, {0}},
		/* label, then a pointer back to it: backwards, but a loop; the
		 * length bound must stop it */
		{"label-pointer loop", {1, 'a', 0xc0, 0x00}, 4, 2, 0, DS_EMALF, 2, {0}},
		{"pointer cut short", {0, 0xc0}, 2, 1, 0, DS_ETRUNC, 1, {0}},
		{"label type 0x40", {0x41, 'a', 0}, 3, 0, 0, DS_EMALF, 0, {0}},
		{"label type 0x80", {0x81, 'a', 0}, 3, 0, 0, DS_EMALF, 0, {0}},
		{"label 0x40 via pointer", {0x40, 0, 0xc0, 0x00}, 4, 2, 0, DS_EMALF, 2, {0}},
		{"truncated label", {3, 'a', 'b'}, 3, 0, 0, DS_ETRUNC, 0, {0}},
		{"missing root", {1, 'a'}, 2, 0, 0, DS_ETRUNC, 0, {0}},
		{"empty buffer", {0}, 0, 0, 0, DS_ETRUNC, 0, {0}},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint8_t out[DNAME_MAX];
		int err;
		size_t pos;
		size_t n = name_at(t[i].buf, t[i].len, t[i].at, out, &err, &pos, 1);
		if (n != t[i].want_len || err != t[i].want_err)
			fprintf(stderr, "name case '%s': len %zu err %d\n", t[i].what, n, err);
		CHECK_EQ(n, t[i].want_len);
		CHECK_EQ(err, t[i].want_err);
		if (t[i].want_len) {
			CHECK_EQ(pos, t[i].want_pos);
			CHECK(memcmp(out, t[i].want, t[i].want_len) == 0);
		}
	}
}

/* Build a name of nlab labels of length lablen (last one may differ). */
static size_t mkname(uint8_t *buf, unsigned nlab, unsigned lablen, unsigned lastlen)
{
	size_t o = 0;
	for (unsigned i = 0; i < nlab; i++) {
		unsigned l = i + 1 == nlab ? lastlen : lablen;
		buf[o++] = (uint8_t)l;
		memset(buf + o, 'a' + (int)(i % 26), l);
		o += l;
	}
	buf[o++] = 0;
	return o;
}

static void test_name_limits(void)
{
	uint8_t buf[600], out[DNAME_MAX];
	int err;
	size_t pos, len, n;

	/* 127 labels of one octet: 255 octets, OK */
	len = mkname(buf, 127, 1, 1);
	CHECK_EQ(len, 255);
	n = name_at(buf, len, 0, out, &err, &pos, 1);
	CHECK_EQ(n, 255);
	CHECK_EQ(err, 0);
	CHECK(memcmp(out, buf, 255) == 0);

	/* 128 labels fail */
	len = mkname(buf, 128, 1, 1);
	n = name_at(buf, len, 0, out, &err, &pos, 1);
	CHECK_EQ(n, 0);
	CHECK_EQ(err, DS_EMALF);

	/* 63+63+63+61 = 255 octets OK; 63+63+63+62 = 256 octets fail */
	len = mkname(buf, 4, 63, 61);
	CHECK_EQ(len, 255);
	n = name_at(buf, len, 0, out, &err, &pos, 1);
	CHECK_EQ(n, 255);
	CHECK_EQ(err, 0);
	len = mkname(buf, 4, 63, 62);
	CHECK_EQ(len, 256);
	n = name_at(buf, len, 0, out, &err, &pos, 1);
	CHECK_EQ(n, 0);
	CHECK_EQ(err, DS_EMALF);

	/* the same 256 octets assembled through a pointer */
	len = mkname(buf, 2, 63, 63); /* 129 octets at 0 */
	size_t at = len;
	buf[at] = 63;
	memset(buf + at + 1, 'x', 63);
	buf[at + 64] = 62;
	memset(buf + at + 65, 'y', 62);
	buf[at + 127] = 0xc0;
	buf[at + 128] = 0x00;
	n = name_at(buf, at + 129, at, out, &err, &pos, 1);
	CHECK_EQ(n, 0);
	CHECK_EQ(err, DS_EMALF);
	buf[at + 64] = 61; /* 255: fine */
	buf[at + 126] = 0xc0;
	buf[at + 127] = 0x00;
	n = name_at(buf, at + 128, at, out, &err, &pos, 1);
	CHECK_EQ(n, 255);
	CHECK_EQ(err, 0);
	CHECK_EQ(pos, at + 128);

	/* 127 labels through a chain of pointers: each label then a pointer
	 * back to the previous one */
	{
		uint8_t c[1024];
		size_t o = 0, prev = 0;
		c[o++] = 0; /* root at 0 */
		for (int i = 0; i < 127; i++) {
			size_t here = o;
			c[o++] = 1;
			c[o++] = 'z';
			c[o++] = (uint8_t)(0xc0 | prev >> 8);
			c[o++] = (uint8_t)prev;
			prev = here;
		}
		n = name_at(c, o, prev, out, &err, &pos, 1);
		CHECK_EQ(n, 255);
		CHECK_EQ(err, 0);
		CHECK_EQ(pos, prev + 4);
		/* one more label: 128 */
		c[o++] = 1;
		c[o++] = 'q';
		c[o++] = (uint8_t)(0xc0 | prev >> 8);
		c[o++] = (uint8_t)prev;
		n = name_at(c, o, o - 4, out, &err, &pos, 1);
		CHECK_EQ(n, 0);
		CHECK_EQ(err, DS_EMALF);
	}
}

static void test_nocomp(void)
{
	static const uint8_t b[] = {3, 'f', 'o', 'o', 0, 1, 'x', 0xc0, 0x00};
	uint8_t out[DNAME_MAX];
	int err;
	size_t pos;
	CHECK_EQ(name_at(b, sizeof(b), 0, out, &err, &pos, 0), 5);
	CHECK_EQ(err, 0);
	CHECK_EQ(pos, 5);
	CHECK_EQ(name_at(b, sizeof(b), 5, out, &err, &pos, 0), 0);
	CHECK_EQ(err, DS_EMALF);
	CHECK_EQ(name_at(b, sizeof(b), 7, out, &err, &pos, 0), 0);
	CHECK_EQ(err, DS_EMALF);
	/* same with compression allowed works */
	CHECK_EQ(name_at(b, sizeof(b), 5, out, &err, &pos, 1), 7);
	CHECK_EQ(err, 0);
}

/* Name reads after an earlier error do nothing. */
static void test_name_sticky(void)
{
	static const uint8_t b[] = {0, 1, 'a', 0};
	uint8_t out[DNAME_MAX];
	struct wire w;
	wire_init(&w, b, sizeof(b));
	wire_skip(&w, 10);
	CHECK_EQ(wire_name(&w, out), 0);
	CHECK_EQ(wire_err(&w), DS_ETRUNC);

	/* two names in a row, the cursor moves past each */
	wire_init(&w, b, sizeof(b));
	CHECK_EQ(wire_name(&w, out), 1);
	CHECK_EQ(wire_name(&w, out), 3);
	CHECK_EQ(wire_left(&w), 0);
	CHECK_EQ(wire_name(&w, out), 0);
	CHECK_EQ(wire_err(&w), DS_ETRUNC);
}

/*
 * Pointers to pointers: at most DNAME_LABELS + 1 jumps per name (an encoder
 * needs one per label plus one), so a long chain costs nothing (R13).
 */
static void test_pointer_chain(void)
{
	static uint8_t b[16384 + 64];
	uint8_t out[DNAME_MAX];
	int err;
	size_t pos;
	size_t o = 0;
	memcpy(b, "\x01" "a" "\x00", 3);
	o = 3;
	size_t prev = 0;
	while (o + 2 <= 16384) { /* each pointer to the one before */
		b[o] = (uint8_t)(0xc0 | prev >> 8);
		b[o + 1] = (uint8_t)prev;
		prev = o;
		o += 2;
	}
	/* the k-th pointer (1-based) sits at 3 + 2(k-1) and needs k jumps */
	CHECK_EQ(name_at(b, o, 3 + 2 * (DNAME_LABELS + 1 - 1), out, &err, &pos, 1), 3);
	CHECK_EQ(err, 0);
	CHECK_EQ(pos, 3 + 2 * (DNAME_LABELS + 1 - 1) + 2);
	CHECK_EQ(name_at(b, o, 3 + 2 * (DNAME_LABELS + 2 - 1), out, &err, &pos, 1), 0);
	CHECK_EQ(err, DS_EMALF);

	size_t last = prev;
	clock_t t0 = clock();
	size_t ok = 0;
	for (int i = 0; i < 20000; i++) {
		struct wire w;
		wire_init(&w, b, o);
		wire_seek(&w, last);
		if (wire_name(&w, out) != 0)
			ok++;
	}
	double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	printf("test_wire: 20000 reads at the end of a %zu-pointer chain: %.3f s\n",
	       (o - 3) / 2, secs);
	CHECK_EQ(ok, 0);
	CHECK(secs < 0.5);
}

static void test_wbuf(void)
{
	uint8_t buf[8];
	struct wbuf b;
	wbuf_init(&b, buf, sizeof(buf));
	wbuf_u8(&b, 0x11);
	wbuf_u16(&b, 0x2233);
	wbuf_u32(&b, 0x44556677);
	CHECK_EQ(b.len, 7);
	CHECK_EQ(b.err, 0);
	static const uint8_t want[] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77};
	CHECK(memcmp(buf, want, 7) == 0);
	wbuf_u16(&b, 0x8899); /* 9 > 8 */
	CHECK_EQ(b.err, DS_ELIMIT);
	CHECK_EQ(b.len, 7); /* nothing half-written */
	wbuf_u8(&b, 0x01);    /* would fit, but the error is sticky */
	CHECK_EQ(b.len, 7);
	CHECK_EQ(b.err, DS_ELIMIT);

	/* put_u16_at */
	wbuf_init(&b, buf, sizeof(buf));
	wbuf_u16(&b, 0);
	wbuf_u16(&b, 0xabcd);
	wbuf_put_u16_at(&b, 0, 0x1234);
	CHECK_EQ(b.err, 0);
	CHECK_EQ(b.len, 4);
	CHECK_EQ(rd_u16(buf), 0x1234);
	CHECK_EQ(rd_u16(buf + 2), 0xabcd);
	wbuf_put_u16_at(&b, 2, 0x5678);
	CHECK_EQ(rd_u16(buf + 2), 0x5678);
	CHECK_EQ(b.err, 0);
	wbuf_put_u16_at(&b, 3, 0x1111); /* past what was written */
	CHECK_EQ(b.err, DS_ELIMIT);
	CHECK_EQ(rd_u16(buf + 2), 0x5678);
	wbuf_init(&b, buf, sizeof(buf));
	wbuf_put_u16_at(&b, SIZE_MAX, 1); /* no wrap-around */
	CHECK_EQ(b.err, DS_ELIMIT);
	wbuf_init(&b, buf, sizeof(buf));
	wbuf_u32(&b, 0);
	wbuf_put_u16_at(&b, SIZE_MAX - 1, 1); /* off + 2 wraps to 0 */
	CHECK_EQ(b.err, DS_ELIMIT);

	/* exact fit, zero-length writes, zero capacity */
	wbuf_init(&b, buf, sizeof(buf));
	wbuf_bytes(&b, "12345678", 8);
	CHECK_EQ(b.err, 0);
	CHECK_EQ(b.len, 8);
	wbuf_bytes(&b, "", 0);
	CHECK_EQ(b.err, 0);
	wbuf_u8(&b, 1);
	CHECK_EQ(b.err, DS_ELIMIT);
	wbuf_init(&b, NULL, 0);
	wbuf_bytes(&b, NULL, 0);
	CHECK_EQ(b.err, 0);
	wbuf_u32(&b, 1);
	CHECK_EQ(b.err, DS_ELIMIT);
}

int main(void)
{
	test_cursor();
	test_names_table();
	test_name_limits();
	test_nocomp();
	test_name_sticky();
	test_pointer_chain();
	test_wbuf();
	UNIT_DONE("test_wire");
}

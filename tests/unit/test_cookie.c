/*
 * tests/unit/test_cookie.c -- common/cookie.c: the server cookies of
 * RFC 9018 Appendix A (SipHash-2-4 through OpenSSL), the checks
 * of a returned cookie (address, window, hash, length), the option walk
 * and the shared secret file.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "common/cookie.h"
#include "common/err.h"
#include "tests/unit/unit.h"

static size_t unhex(const char *h, uint8_t *out)
{
	size_t n = 0;
	for (; h[0] && h[1]; h += 2) {
		unsigned v;
		sscanf(h, "%2x", &v);
		out[n++] = (uint8_t)v;
	}
	return n;
}

static struct cookie_mac *mac(const char *secret_hex)
{
	uint8_t k[COOKIE_SECRET_LEN];
	struct cookie_mac *cm = NULL;
	unhex(secret_hex, k);
	CHECK_EQ(cookie_mac_new(k, &cm), DS_OK);
	return cm;
}

/* The 16-byte server cookie for (secret, client cookie, address, time) is want. */
static void vector(const char *secret, const char *cc_hex, const char *ip, uint32_t at,
		   const char *want_hex)
{
	struct cookie_mac *cm = mac(secret);
	uint8_t cc[8], want[16], got[16];
	struct sockaddr_storage peer = unit_addr(ip);
	unhex(cc_hex, cc);
	unhex(want_hex, want);
	if (cm == NULL)
		return;
	CHECK_EQ(cookie_make(cm, cc, &peer, at, got), DS_OK);
	CHECK(memcmp(got, want, 16) == 0);
	/* and it is valid when it comes back, then and half an hour later */
	uint8_t full[24];
	memcpy(full, cc, 8);
	memcpy(full + 8, got, 16);
	bool renew = true;
	CHECK_EQ(cookie_check(cm, full, 24, &peer, at, &renew), COOKIE_VALID);
	CHECK(!renew);
	CHECK_EQ(cookie_check(cm, full, 24, &peer, at + 1801, &renew), COOKIE_VALID);
	CHECK(renew);
	cookie_mac_free(cm);
}

/* A random secret (no secret file): two servers make different cookies. */
static void test_random_secret(void)
{
	struct cookie_mac *a = NULL, *b = NULL;
	uint8_t cc[8] = {0}, x[16], y[16];
	struct sockaddr_storage p = unit_addr("192.0.2.1");
	CHECK_EQ(cookie_mac_new(NULL, &a), DS_OK);
	CHECK_EQ(cookie_mac_new(NULL, &b), DS_OK);
	if (a != NULL && b != NULL) {
		CHECK_EQ(cookie_make(a, cc, &p, 1000, x), DS_OK);
		CHECK_EQ(cookie_make(b, cc, &p, 1000, y), DS_OK);
		CHECK(memcmp(x, y, 16) != 0);
		CHECK(memcmp(x, y, 8) == 0); /* version, reserved, timestamp */
	}
	cookie_mac_free(a);
	cookie_mac_free(b);
	cookie_mac_free(NULL);
}

static void test_rfc9018(void)
{
	/* RFC 9018 Appendix A.1: learning a new server cookie */
	vector("e5e973e5a6b2a43f48e7dc849e37bfcf", "2464c4abcf10c957", "198.51.100.100", 1559731985,
	       "010000005cf79f111f8130c3eee29480");
	/* A.2: the same client 40 minutes later, a fresh one */
	vector("e5e973e5a6b2a43f48e7dc849e37bfcf", "2464c4abcf10c957", "198.51.100.100", 1559734385,
	       "010000005cf7a871d4a564a1442aca77");
	/* A.3: another client */
	vector("e5e973e5a6b2a43f48e7dc849e37bfcf", "fc93fc62807ddb86", "203.0.113.203", 1559734700,
	       "010000005cf7a9acf73a7810aca2381e");
	/* A.4: IPv6, after the secret rolled over */
	vector("445536bcd2513298075a5d379663c962", "22681ab97d52c298",
	       "2001:db8:220:1:59de:d0f4:8769:82b8", 1559741961,
	       "010000005cf7c609a6bb79d16625507a");
}

static void test_check(void)
{
	struct cookie_mac *cm = mac("e5e973e5a6b2a43f48e7dc849e37bfcf");
	if (cm == NULL)
		return;
	uint8_t c[48];
	struct sockaddr_storage p = unit_addr("203.0.113.203"), q = unit_addr("203.0.113.204");
	uint32_t now = 1559727985;
	/* A.3: the reserved bytes the client sent back are part of the hash */
	size_t n = unhex("fc93fc62807ddb8601abcdef5cf78f71a314227b6679ebf5", c);
	CHECK_EQ(cookie_check(cm, c, n, &p, now, NULL), COOKIE_VALID);
	CHECK_EQ(cookie_check(cm, c, n, &q, now, NULL), COOKIE_BAD); /* another address */
	CHECK_EQ(cookie_check(cm, c, n, &p, now + 3600, NULL), COOKIE_VALID);
	CHECK_EQ(cookie_check(cm, c, n, &p, now + 3601, NULL), COOKIE_BAD); /* expired */
	CHECK_EQ(cookie_check(cm, c, n, &p, now - 300, NULL), COOKIE_VALID);
	CHECK_EQ(cookie_check(cm, c, n, &p, now - 301, NULL), COOKIE_BAD); /* from the future */
	c[23] ^= 1;
	CHECK_EQ(cookie_check(cm, c, n, &p, now, NULL), COOKIE_BAD); /* the hash */
	c[23] ^= 1;
	c[8] = 2;
	CHECK_EQ(cookie_check(cm, c, n, &p, now, NULL), COOKIE_BAD); /* another version */
	/* lengths (RFC 7873 5.2.2): 8 client only; 16..40 a server cookie */
	CHECK_EQ(cookie_check(cm, NULL, 0, &p, now, NULL), COOKIE_ABSENT);
	CHECK_EQ(cookie_check(cm, c, 8, &p, now, NULL), COOKIE_CLIENT_ONLY);
	CHECK_EQ(cookie_check(cm, c, 0, &p, now, NULL), COOKIE_MALFORMED);
	CHECK_EQ(cookie_check(cm, c, 7, &p, now, NULL), COOKIE_MALFORMED);
	CHECK_EQ(cookie_check(cm, c, 9, &p, now, NULL), COOKIE_MALFORMED);
	CHECK_EQ(cookie_check(cm, c, 15, &p, now, NULL), COOKIE_MALFORMED);
	CHECK_EQ(cookie_check(cm, c, 16, &p, now, NULL), COOKIE_BAD);
	CHECK_EQ(cookie_check(cm, c, 40, &p, now, NULL), COOKIE_BAD);
	CHECK_EQ(cookie_check(cm, c, 41, &p, now, NULL), COOKIE_MALFORMED);
	/* the wrap of the timestamp: an hour old across 2^32 */
	uint8_t cc[8] = {1, 2, 3, 4, 5, 6, 7, 8}, sc[16], full[24];
	CHECK_EQ(cookie_make(cm, cc, &p, 4294964696u, sc), DS_OK);
	memcpy(full, cc, 8);
	memcpy(full + 8, sc, 16);
	CHECK_EQ(cookie_check(cm, full, 24, &p, 1000, NULL), COOKIE_VALID);
	CHECK_EQ(cookie_check(cm, full, 24, &p, 1001, NULL), COOKIE_BAD);
	cookie_mac_free(cm);
}

static void test_find(void)
{
	/* EDE (15) then COOKIE (10): the cookie is found */
	uint8_t o[64];
	size_t n = unhex("000f0002000e"
			 "000a00080102030405060708",
			 o),
	       len = 0;
	const uint8_t *p = cookie_find(o, n, &len);
	CHECK(p == o + 10);
	CHECK_EQ(len, 8);
	CHECK(cookie_find(o, 6, &len) == NULL); /* no cookie */
	CHECK_EQ(len, 0);
	CHECK(cookie_find(o, n - 1, &len) == NULL); /* cut short */
	CHECK(len == SIZE_MAX);
	/* written back, it reads the same */
	uint8_t buf[64];
	struct wbuf b;
	wbuf_init(&b, buf, sizeof buf);
	cookie_write(&b, o + 10, 8);
	CHECK_EQ(b.len, 12);
	CHECK(memcmp(buf, o + 6, 12) == 0);
}

static void secret_file(const char *text, mode_t mode, int want)
{
	char path[] = "/tmp/test_cookie.XXXXXX", why[256] = "";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	fchmod(fd, mode);
	close(fd);
	uint8_t k[COOKIE_SECRET_LEN];
	int rc = cookie_secret_read(path, k, why, sizeof why);
	CHECK_EQ(rc, want);
	if (rc == DS_OK)
		CHECK(k[0] == 0xe5 && k[15] == 0xcf);
	else
		CHECK(why[0] != 0);
	unlink(path);
}

static void test_secret(void)
{
	secret_file("e5e973e5a6b2a43f48e7dc849e37bfcf\n", 0600, DS_OK);
	secret_file("  E5E973E5A6B2A43F48E7DC849E37BFCF  ", 0600, DS_OK);
	secret_file("e5e973e5a6b2a43f48e7dc849e37bf\n", 0600, DS_EINVAL);     /* too short */
	secret_file("e5e973e5a6b2a43f48e7dc849e37bfcf00\n", 0600, DS_EINVAL); /* too long */
	secret_file("e5e973e5a6b2a43f48e7dc849e37bfcg\n", 0600, DS_EINVAL);   /* not hex */
	secret_file("e5e973e5a6b2a43f48e7dc849e37bfcf\n", 0644, DS_EINVAL);   /* readable by all */
}

int main(void)
{
	test_random_secret();
	test_rfc9018();
	test_check();
	test_find();
	test_secret();
	UNIT_DONE("test_cookie");
}

/*
 * common/cookie.c -- DNS Cookies (RFC 7873, server cookies of RFC 9018).
 * SipHash-2-4 comes from OpenSSL (EVP_MAC "SIPHASH", 8-byte output); the
 * MAC context is fetched and keyed once, and each cookie only re-runs it.
 */
#include <ctype.h>
#include <stdio.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/cookie.h"
#include "common/msg.h"
#include "common/err.h"
#include "common/file.h"

struct cookie_mac {
	EVP_MAC_CTX *ctx;
};

int cookie_mac_new(const uint8_t *secret, struct cookie_mac **out)
{
	uint8_t key[COOKIE_SECRET_LEN];
	size_t size = 8;
	OSSL_PARAM params[] = {OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size),
			       OSSL_PARAM_construct_end()};
	*out = NULL;
	if (secret != NULL)
		memcpy(key, secret, sizeof key);
	else if (RAND_bytes(key, sizeof key) != 1)
		return DS_ECRYPTO;
	struct cookie_mac *cm = calloc(1, sizeof *cm);
	if (cm == NULL)
		return DS_ENOMEM;
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "SIPHASH", NULL);
	cm->ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	EVP_MAC_free(mac);
	int rc = mac == NULL ? DS_ENOTSUP : DS_OK;
	if (rc == DS_OK && (cm->ctx == NULL || EVP_MAC_init(cm->ctx, key, sizeof key, params) != 1))
		rc = DS_ECRYPTO;
	OPENSSL_cleanse(key, sizeof key);
	if (rc != DS_OK) {
		ERR_clear_error();
		cookie_mac_free(cm);
		return rc;
	}
	*out = cm;
	return DS_OK;
}

void cookie_mac_free(struct cookie_mac *cm)
{
	if (cm == NULL)
		return;
	EVP_MAC_CTX_free(cm->ctx);
	free(cm);
}

/* The address bytes of peer (4 or 16), or 0. */
static size_t peer_addr(const struct sockaddr_storage *peer, const uint8_t **p)
{
	if (peer->ss_family == AF_INET) {
		*p = (const uint8_t *)&((const struct sockaddr_in *)peer)->sin_addr;
		return 4;
	}
	if (peer->ss_family == AF_INET6) {
		*p = (const uint8_t *)&((const struct sockaddr_in6 *)peer)->sin6_addr;
		return 16;
	}
	return 0;
}

/* SipHash-2-4 of cc | head (version, reserved, timestamp) | address into hash. */
static int cookie_hash(struct cookie_mac *cm, const uint8_t *cc, const uint8_t head[8],
		       const struct sockaddr_storage *peer, uint8_t hash[8])
{
	const uint8_t *a = NULL;
	size_t alen = peer_addr(peer, &a);
	uint8_t in[COOKIE_CLIENT_LEN + 8 + 16];
	size_t outlen = 0;
	if (alen == 0)
		return DS_EINVAL;
	memcpy(in, cc, COOKIE_CLIENT_LEN);
	memcpy(in + COOKIE_CLIENT_LEN, head, 8);
	memcpy(in + COOKIE_CLIENT_LEN + 8, a, alen);
	/* no key: the one given at cookie_mac_new() again */
	if (EVP_MAC_init(cm->ctx, NULL, 0, NULL) != 1 ||
	    EVP_MAC_update(cm->ctx, in, COOKIE_CLIENT_LEN + 8 + alen) != 1 ||
	    EVP_MAC_final(cm->ctx, hash, &outlen, 8) != 1 || outlen != 8) {
		ERR_clear_error();
		return DS_ECRYPTO;
	}
	return DS_OK;
}

int cookie_make(struct cookie_mac *cm, const uint8_t cc[COOKIE_CLIENT_LEN],
		const struct sockaddr_storage *peer, uint32_t now, uint8_t out[COOKIE_SERVER_LEN])
{
	uint8_t head[8] = {
	    1,		 0, 0, 0, (uint8_t)(now >> 24), (uint8_t)(now >> 16), (uint8_t)(now >> 8),
	    (uint8_t)now};
	memcpy(out, head, 8);
	return cookie_hash(cm, cc, head, peer, out + 8);
}

enum cookie_state cookie_check(struct cookie_mac *cm, const uint8_t *opt, size_t len,
			       const struct sockaddr_storage *peer, uint32_t now, bool *renew)
{
	if (renew != NULL)
		*renew = false;
	if (opt == NULL)
		return COOKIE_ABSENT;
	if (len == COOKIE_CLIENT_LEN)
		return COOKIE_CLIENT_ONLY;
	if (len < COOKIE_CLIENT_LEN + 8 || len > COOKIE_MAX_LEN)
		return COOKIE_MALFORMED;
	const uint8_t *sc = opt + COOKIE_CLIENT_LEN;
	if (len != COOKIE_LEN || sc[0] != 1)
		return COOKIE_BAD;
	/* serial arithmetic: the timestamp wraps (RFC 9018 4.3) */
	int32_t age = (int32_t)(now - rd_u32(sc + 4));
	if (age > COOKIE_MAX_AGE || age < -COOKIE_MAX_AHEAD)
		return COOKIE_BAD;
	uint8_t hash[8];
	if (cookie_hash(cm, opt, sc, peer, hash) != DS_OK || CRYPTO_memcmp(hash, sc + 8, 8) != 0)
		return COOKIE_BAD;
	if (renew != NULL)
		*renew = age > COOKIE_RENEW_AGE;
	return COOKIE_VALID;
}

const uint8_t *cookie_find(const uint8_t *rdata, size_t rdlen, size_t *len)
{
	return edns_opt_find(rdata, rdlen, EDNS_OPT_COOKIE, len);
}

void cookie_write(struct wbuf *b, const uint8_t *cookie, size_t len)
{
	wbuf_u16(b, EDNS_OPT_COOKIE);
	wbuf_u16(b, (uint16_t)len);
	wbuf_bytes(b, cookie, len);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int cookie_secret_read(const char *path, uint8_t secret[COOKIE_SECRET_LEN], char *why,
		       size_t whylen)
{
	size_t len = 0, n = 0;
	char *text = file_read_checked(path, "cookie secret file", true, 4096, &len, why, whylen);
	if (text == NULL)
		return DS_EINVAL;
	const char *p = text;
	while (isspace((unsigned char)*p))
		p++;
	for (; n < COOKIE_SECRET_LEN && hexval(p[0]) >= 0 && hexval(p[1]) >= 0; p += 2)
		secret[n++] = (uint8_t)(hexval(p[0]) << 4 | hexval(p[1]));
	while (isspace((unsigned char)*p))
		p++;
	int rc = DS_OK;
	if (n != COOKIE_SECRET_LEN || *p != 0 || (size_t)(p - text) != len) {
		snprintf(why, whylen,
			 "%s: the cookie secret file must hold 32 hexadecimal digits (16 bytes)",
			 path);
		rc = DS_EINVAL;
	}
	OPENSSL_cleanse(text, len);
	free(text);
	return rc;
}

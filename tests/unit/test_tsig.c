/*
 * tests/unit/test_tsig.c -- TSIG keys from text and BIND key files, and a
 * signed request whose answer is signed (or not, or wrongly) the way a
 * primary would: with ldns, over the request's MAC.
 */
#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/tsig.h"
#include "tests/unit/unit.h"

#define SECRET "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3I="

static const struct {
	const char *text;
	int rc;
	const char *name, *alg, *why;
} texts[] = {
    {"hmac-sha256:upd.example:" SECRET, DS_OK, "upd.example.", "hmac-sha256.", NULL},
    {"HMAC-SHA512:k.:" SECRET, DS_OK, "k.", "hmac-sha512.", NULL},
    {"hmac-sha384:k.:" SECRET, DS_OK, "k.", "hmac-sha384.", NULL},
    {"hmac-sha1:k.:" SECRET, DS_EPARSE, NULL, NULL, "not one of"},
    {"hmac-md5:k.:" SECRET, DS_EPARSE, NULL, NULL, "not one of"},
    {"hmac-sha256:k.", DS_EPARSE, NULL, NULL, "algorithm:name:secret"},
    {"hmac-sha256::" SECRET, DS_EPARSE, NULL, NULL, "not a domain name"},
    {"hmac-sha256:k.:", DS_EPARSE, NULL, NULL, "secret missing"},
    {"hmac-sha256:k.:not base64!", DS_EPARSE, NULL, NULL, "not base64"},
};

static void test_from_str(void)
{
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct tsig_key k;
		char why[300] = "";
		int rc = tsig_key_from_str(texts[i].text, &k, why, sizeof(why));
		CHECK_EQ(rc, texts[i].rc);
		if (rc == DS_OK) {
			CHECK(strcmp(k.name, texts[i].name) == 0);
			CHECK(strcmp(k.alg, texts[i].alg) == 0);
			CHECK(strcmp(k.secret, SECRET) == 0);
		} else {
			CHECK(strstr(why, texts[i].why) != NULL);
		}
	}
}

static const struct {
	const char *file;
	int rc;
	const char *why;
} files[] = {
    /* what tsig-keygen prints */
    {"key \"upd.example\" {\n\talgorithm hmac-sha256;\n\tsecret \"" SECRET "\";\n};\n", DS_OK,
     NULL},
    /* comments of all three kinds, other order, several clauses */
    {"# made by hand\n// for the primary\nkey upd.example. { /* first */ secret \"" SECRET
     "\"; algorithm hmac-sha256; };\nkey other. { algorithm hmac-sha512; secret \"" SECRET
     "\"; };\n",
     DS_OK, NULL},
    {"options { };\n", DS_EPARSE, "no key clause"},
    {"key \"k.\" { algorithm hmac-sha256; };\n", DS_EPARSE, "needs algorithm and secret"},
    {"key \"k.\" { algorithm hmac-sha256; secret \"" SECRET "\"; owner x; };\n", DS_EPARSE,
     "unexpected \"owner\""},
};

static void test_read(void)
{
	char path[] = "/tmp/test_tsig.XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		abort();
	close(fd);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		FILE *f = fopen(path, "w");
		if (f == NULL)
			abort();
		fputs(files[i].file, f);
		fclose(f);
		struct tsig_key k;
		char why[300] = "";
		int rc = tsig_key_read(path, &k, why, sizeof(why));
		CHECK_EQ(rc, files[i].rc);
		if (rc == DS_OK)
			CHECK(strcmp(k.name, "upd.example.") == 0 &&
			      strcmp(k.alg, "hmac-sha256.") == 0);
		else
			CHECK(strstr(why, files[i].why) != NULL);
	}
	unlink(path);
	struct tsig_key k;
	char why[300] = "";
	CHECK_EQ(tsig_key_read(path, &k, why, sizeof(why)), DS_ENOENT);
}

/* The primary's side: an answer to request (wire), signed with key over
 * the request's MAC when sign is set; with TSIG error err when non-zero. */
static uint8_t *answer(const uint8_t *request, size_t len, const char *secret, bool sign,
		       uint16_t err, size_t *alen)
{
	ldns_pkt *q = NULL, *a;
	uint8_t *out = NULL;
	if (ldns_wire2pkt(&q, request, len) != LDNS_STATUS_OK)
		abort();
	a = ldns_pkt_new();
	ldns_pkt_set_id(a, ldns_pkt_id(q));
	ldns_pkt_set_qr(a, true);
	ldns_pkt_set_opcode(a, LDNS_PACKET_UPDATE);
	ldns_rr_list *ql = ldns_rr_list_clone(ldns_pkt_question(q));
	ldns_pkt_push_rr_list(a, LDNS_SECTION_QUESTION, ql);
	ldns_rr_list_free(ql); /* the records are the packet's now, not the list */
	const ldns_rdf *mac = ldns_rr_rdf(ldns_pkt_tsig(q), 3);
	if (sign && ldns_pkt_tsig_sign(a, "upd.example.", secret, 300, "hmac-sha256.", mac) !=
			LDNS_STATUS_OK)
		abort();
	if (sign && err)
		ldns_rdf_deep_free(ldns_rr_set_rdf(
		    ldns_pkt_tsig(a), ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, err), 5));
	if (ldns_pkt2wire(&out, a, alen) != LDNS_STATUS_OK)
		abort();
	ldns_pkt_free(q);
	ldns_pkt_free(a);
	return out;
}

static void test_sign_and_check(void)
{
	static const uint8_t update[] = {
	    0x12, 0x34, 0x28, 0x00, 0,	 1,   0,   0,	0, 0, 0, 0, /* UPDATE, one zone entry */
	    7,	  'e',	'x',  'a',  'm', 'p', 'l', 'e', 0, 0, 6, 0, 1};
	struct tsig_key k;
	uint8_t *msg, *ans;
	size_t mlen, alen;
	struct tsig_request *req;
	char why[300] = "";
	CHECK_EQ(tsig_key_from_str("hmac-sha256:upd.example.:" SECRET, &k, why, sizeof(why)),
		 DS_OK);
	CHECK_EQ(tsig_sign(&k, update, sizeof(update), &msg, &mlen, &req), DS_OK);
	CHECK(mlen > sizeof(update));
	CHECK(memcmp(msg, update, 2) == 0);

	ans = answer(msg, mlen, SECRET, true, 0, &alen);
	CHECK_EQ(tsig_check_answer(&k, req, ans, alen, why, sizeof(why)), DS_OK);
	free(ans);
	ans = answer(msg, mlen, SECRET, false, 0, &alen);
	CHECK_EQ(tsig_check_answer(&k, req, ans, alen, why, sizeof(why)), DS_EBADSIG);
	CHECK(strstr(why, "not TSIG-signed") != NULL);
	free(ans);
	ans = answer(msg, mlen, "b3RoZXItb3RoZXItb3RoZXItb3RoZXItb3RoZXItb3Q=", true, 0, &alen);
	CHECK_EQ(tsig_check_answer(&k, req, ans, alen, why, sizeof(why)), DS_EBADSIG);
	CHECK(strstr(why, "does not verify") != NULL);
	free(ans);
	ans = answer(msg, mlen, SECRET, true, 17, &alen);
	CHECK_EQ(tsig_check_answer(&k, req, ans, alen, why, sizeof(why)), DS_EBADSIG);
	CHECK(strstr(why, "BADKEY") != NULL);
	free(ans);
	CHECK_EQ(tsig_check_answer(&k, req, update, 5, why, sizeof(why)), DS_EMALF);

	uint8_t *junk;
	size_t jlen;
	struct tsig_request *jreq;
	CHECK_EQ(tsig_sign(&k, update, 5, &junk, &jlen, &jreq), DS_EMALF);
	free(msg);
	tsig_request_free(req);
}

int main(void)
{
	test_from_str();
	test_read();
	test_sign_and_check();
	UNIT_DONE("test_tsig");
}

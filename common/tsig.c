/*
 * common/tsig.c -- TSIG keys from text and from BIND key files; signing and
 * checking with ldns (which knows the TSIG wire rules: the variables, the
 * request MAC prepended to the answer's digest).
 */
#include "common/tsig.h"

#include <ctype.h>
#include <errno.h>
#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dname.h"
#include "common/err.h"
#include "common/rrtext.h"

#define TSIG_FUDGE 300 /* seconds of clock difference allowed (RFC 8945 5.2.3) */
#define KEYFILE_MAX 8192

struct tsig_request {
	ldns_rdf *mac;
};

static const char *const algorithms[] = {"hmac-sha256", "hmac-sha384", "hmac-sha512"};

/* Fill k from its three parts, each checked; name gets a final dot. */
static int key_set(struct tsig_key *k, const char *alg, size_t alglen, const char *name,
		   size_t namelen, const char *secret, size_t seclen, char *why, size_t whylen)
{
	uint8_t wire[DNAME_MAX], raw[sizeof(k->secret)];
	char nbuf[DNAME_STR_MAX];
	size_t i;
	for (i = 0; i < sizeof(algorithms) / sizeof(algorithms[0]); i++)
		if (strlen(algorithms[i]) == alglen && strncasecmp(algorithms[i], alg, alglen) == 0)
			break;
	if (i == sizeof(algorithms) / sizeof(algorithms[0])) {
		ds_why(why, whylen,
		       "TSIG algorithm \"%.*s\" is not one of hmac-sha256, "
		       "hmac-sha384, hmac-sha512",
		       (int)alglen, alg);
		return DS_EPARSE;
	}
	snprintf(nbuf, sizeof(nbuf), "%.*s", (int)namelen, name);
	if (namelen == 0 || namelen >= sizeof(nbuf) || dname_from_str(nbuf, wire) <= 0) {
		ds_why(why, whylen, "TSIG key name \"%.*s\" is not a domain name", (int)namelen,
		       name);
		return DS_EPARSE;
	}
	if (seclen == 0 || seclen >= sizeof(k->secret)) {
		ds_why(why, whylen, "TSIG secret missing or too long");
		return DS_EPARSE;
	}
	char sec[sizeof(k->secret)];
	snprintf(sec, sizeof(sec), "%.*s", (int)seclen, secret);
	if (b64_decode(sec, raw, sizeof(raw)) <= 0) {
		ds_why(why, whylen, "TSIG secret is not base64");
		return DS_EPARSE;
	}
	snprintf(k->alg, sizeof(k->alg), "%s.", algorithms[i]);
	dname_to_str(wire, k->name, sizeof(k->name));
	memcpy(k->secret, sec, sizeof(sec));
	return DS_OK;
}

int tsig_key_from_str(const char *text, struct tsig_key *k, char *why, size_t whylen)
{
	const char *c1 = strchr(text, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	if (c2 == NULL) {
		ds_why(why, whylen, "TSIG key must be algorithm:name:secret");
		return DS_EPARSE;
	}
	return key_set(k, text, (size_t)(c1 - text), c1 + 1, (size_t)(c2 - c1 - 1), c2 + 1,
		       strlen(c2 + 1), why, whylen);
}

/* The next token of a key file: a word, a quoted string or one of {};
 * comments (#, //, C style) skipped.  Length 0 at the end. */
static const char *token(const char **p, size_t *len)
{
	const char *s = *p;
	for (;;) {
		while (isspace((unsigned char)*s))
			s++;
		if (*s == '#' || (s[0] == '/' && s[1] == '/'))
			s += strcspn(s, "\n");
		else if (s[0] == '/' && s[1] == '*')
			s = strstr(s + 2, "*/") ? strstr(s + 2, "*/") + 2 : s + strlen(s);
		else
			break;
	}
	const char *start = s;
	if (*s == '"') {
		start = ++s;
		s += strcspn(s, "\"");
		*len = (size_t)(s - start);
		*p = *s ? s + 1 : s;
		return start;
	}
	if (*s == '{' || *s == '}' || *s == ';')
		s++;
	else
		s += strcspn(s, " \t\r\n{};\"#");
	*len = (size_t)(s - start);
	*p = s;
	return start;
}

static bool tok_is(const char *t, size_t n, const char *word)
{
	return n == strlen(word) && strncmp(t, word, n) == 0;
}

/* key NAME { algorithm ALG ; secret "S" ; } ; */
static int parse_clause(const char *text, struct tsig_key *k, char *why, size_t whylen)
{
	const char *p = text, *t, *name = NULL, *alg = NULL, *sec = NULL;
	size_t n, nlen = 0, alen = 0, slen = 0;
	t = token(&p, &n);
	if (!tok_is(t, n, "key")) {
		ds_why(why, whylen, "no key clause (key \"name\" { algorithm ...; secret ...; };)");
		return DS_EPARSE;
	}
	name = token(&p, &nlen);
	t = token(&p, &n);
	while (tok_is(t, n, "{") || tok_is(t, n, ";")) {
		t = token(&p, &n);
		if (tok_is(t, n, "algorithm"))
			alg = token(&p, &alen);
		else if (tok_is(t, n, "secret"))
			sec = token(&p, &slen);
		else if (!tok_is(t, n, ";") && !tok_is(t, n, "}")) {
			ds_why(why, whylen, "unexpected \"%.*s\" in the key clause", (int)n, t);
			return DS_EPARSE;
		}
		if (tok_is(t, n, "}"))
			break;
		t = token(&p, &n);
	}
	if (alg == NULL || sec == NULL) {
		ds_why(why, whylen, "the key clause needs algorithm and secret");
		return DS_EPARSE;
	}
	return key_set(k, alg, alen, name, nlen, sec, slen, why, whylen);
}

int tsig_key_read(const char *path, struct tsig_key *k, char *why, size_t whylen)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		ds_why(why, whylen, "cannot read %s: %s", path, strerror(errno));
		return errno == ENOENT ? DS_ENOENT : DS_EIO;
	}
	char *buf = calloc(1, KEYFILE_MAX + 1);
	size_t n = buf ? fread(buf, 1, KEYFILE_MAX, f) : 0;
	bool err = ferror(f) != 0;
	fclose(f);
	if (buf == NULL)
		return DS_ENOMEM;
	if (buf != NULL) /* a longer file is read up to KEYFILE_MAX: the clause comes first */
		buf[n] = '\0';
	int rc = err ? DS_EIO : parse_clause(buf, k, why, whylen);
	if (err)
		ds_why(why, whylen, "cannot read %s", path);
	free(buf);
	return rc;
}

int tsig_sign(const struct tsig_key *k, const uint8_t *msg, size_t len, uint8_t **out,
	      size_t *outlen, struct tsig_request **req)
{
	ldns_pkt *pkt = NULL;
	*out = NULL;
	*req = NULL;
	if (ldns_wire2pkt(&pkt, msg, len) != LDNS_STATUS_OK)
		return DS_EMALF;
	int rc = DS_ECRYPTO;
	struct tsig_request *r = calloc(1, sizeof(*r));
	if (r == NULL)
		rc = DS_ENOMEM;
	else if (ldns_pkt_tsig_sign(pkt, k->name, k->secret, TSIG_FUDGE, k->alg, NULL) ==
		     LDNS_STATUS_OK &&
		 ldns_pkt2wire(out, pkt, outlen) == LDNS_STATUS_OK) {
		r->mac = ldns_rdf_clone(ldns_rr_rdf(ldns_pkt_tsig(pkt), 3));
		rc = r->mac ? DS_OK : DS_ENOMEM;
	}
	ldns_pkt_free(pkt);
	if (rc != DS_OK) {
		free(*out);
		*out = NULL;
		tsig_request_free(r);
		return rc;
	}
	*req = r;
	return DS_OK;
}

int tsig_check_answer(const struct tsig_key *k, const struct tsig_request *req, const uint8_t *ans,
		      size_t len, char *why, size_t whylen)
{
	ldns_pkt *pkt = NULL;
	if (ldns_wire2pkt(&pkt, ans, len) != LDNS_STATUS_OK) {
		ds_why(why, whylen, "the answer does not parse");
		return DS_EMALF;
	}
	const ldns_rr *t = ldns_pkt_tsig(pkt);
	int rc = DS_OK;
	if (t == NULL) {
		ds_why(why, whylen, "the answer is not TSIG-signed");
		rc = DS_EBADSIG;
	} else if (ldns_rr_rd_count(t) > 5 && ldns_rdf2native_int16(ldns_rr_rdf(t, 5)) != 0) {
		char rb[16];
		unsigned e = ldns_rdf2native_int16(ldns_rr_rdf(t, 5));
		ldns_lookup_table *lt = ldns_lookup_by_id(ldns_rcodes, (int)e);
		snprintf(rb, sizeof(rb), "%u", e);
		ds_why(why, whylen, "TSIG error %s in the answer (key %s)",
		       e == 16	 ? "BADSIG"
		       : e == 17 ? "BADKEY"
		       : e == 18 ? "BADTIME"
		       : lt	 ? lt->name
				 : rb,
		       k->name);
		rc = DS_EBADSIG;
	} else if (!ldns_pkt_tsig_verify(pkt, ans, len, k->name, k->secret, req->mac)) {
		ds_why(why, whylen, "the answer's TSIG does not verify with key %s", k->name);
		rc = DS_EBADSIG;
	}
	ldns_pkt_free(pkt);
	return rc;
}

void tsig_request_free(struct tsig_request *req)
{
	if (req == NULL)
		return;
	ldns_rdf_deep_free(req->mac);
	free(req);
}

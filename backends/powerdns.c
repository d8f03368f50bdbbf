/*
 * backends/powerdns.c -- the "powerdns" backend: accepted changes go to a
 * PowerDNS Authoritative server through its HTTP API.
 *
 * Each batch is one PATCH of the zone (/api/v1/servers/<id>/zones/<zone>)
 * whose RRsets replace each child's delegation as a whole, from the
 * store's current data: the NS and DS RRsets at the child and the A/AAAA
 * RRsets of every glue name it has or had (named in the batch's changes),
 * REPLACE with the current records or DELETE when there are none.  A batch
 * delivered again, or overtaken by a later change, converges to the same
 * zone.  PowerDNS applies a PATCH as one transaction and bumps the serial
 * as the zone's SOA-EDIT-API says.
 *
 * A DNSSEC-signed zone must be rectified after a change.  The zone is read
 * after each PATCH ("presigned", "api_rectify"), since it may be signed or
 * its metadata changed while dsyncd runs, and PUT .../rectify follows
 * unless it is presigned or PowerDNS rectifies API changes itself.  Any
 * non-2xx answer fails the delivery with the HTTP status and PowerDNS's
 * error text; the outbox retries it.
 *
 * The drift check (fetch) reads the zone with its RRsets through the API
 * and hands each enabled record, parsed from its presentation format, on.
 */
#include <curl/curl.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backends/backend.h"
#include "backends/deleg_names.h"
#include "backends/powerdns.h"
#include "common/dname.h"
#include "common/err.h"
#include "common/log.h"
#include "common/rrtext.h"
#include "common/zonefile.h"

#define PDNS_KEY_MAX 512	  /* bytes of the API key */
#define PDNS_ANSWER_MAX (1 << 20) /* bytes of an answer kept */
#define PDNS_ERROR_TEXT 300	  /* bytes of PowerDNS's error text in ours */

struct pdns_state {
	char *zone_url; /* <url>/api/v1/servers/<server-id>/zones/<zone id> */
	char *ca_file;
	struct curl_slist *headers; /* X-API-Key and the content type */
	long timeout_ms;
	CURL *curl; /* made on the first delivery, kept for its connection */
};

/* ------------------------------------------------------------------------ */
/* settings                                                                 */

/* Is url http(s)://host[:port] with an optional path and nothing else (no
 * user:password@, which error texts would show; the key is a header)? */
static bool pdns_url_ok(const char *url)
{
	size_t skip = strncmp(url, "http://", 7) == 0	 ? 7
		      : strncmp(url, "https://", 8) == 0 ? 8
							 : 0;
	if (skip == 0 || url[skip] == '\0' || url[skip] == '/')
		return false;
	for (const char *p = url; *p != '\0'; p++)
		if (*p <= ' ' || *p > '~' || *p == '?' || *p == '#' || *p == '@')
			return false;
	return true;
}

/* Is id a server id PowerDNS could have (and safe in a URL)? */
static bool pdns_id_ok(const char *id)
{
	for (const char *p = id; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
			return false;
	return id[0] != '\0';
}

/*
 * The API key from path into key (PDNS_KEY_MAX + 1 bytes): a regular file
 * only its owner may read, holding one word of printable ASCII (a newline
 * after it is allowed).  false with why set.
 */
static bool pdns_read_key(const char *path, char *key, char *why, size_t whylen)
{
	struct stat st;
	ssize_t n = -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		ds_why(why, whylen, "%s: cannot open the API key file: %s", path, strerror(errno));
	else if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		ds_why(why, whylen, "%s: the API key file is not a regular file", path);
	else if (st.st_mode & 077)
		ds_why(why, whylen,
		       "%s: the API key file has mode %04o, which gives group or others access; "
		       "it must be 0600 or 0400 (chmod 600 %s)",
		       path, (unsigned)(st.st_mode & 07777), path);
	else if ((n = read(fd, key, PDNS_KEY_MAX)) < 0)
		ds_why(why, whylen, "%s: cannot read the API key file: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	if (n < 0)
		return false;
	while (n > 0 && (key[n - 1] == '\n' || key[n - 1] == '\r'))
		n--;
	key[n] = '\0';
	bool ok = n > 0 && n < PDNS_KEY_MAX;
	for (ssize_t i = 0; i < n; i++)
		ok = ok && key[i] > ' ' && key[i] <= '~';
	if (!ok)
		ds_why(why, whylen, "%s: the API key file must hold one word of printable ASCII",
		       path);
	return ok;
}

/* The zone's id in PowerDNS URLs: its name, other bytes than [A-Za-z0-9.-] as =XX. */
static void pdns_zone_id(const uint8_t *zone, char *out, size_t outlen)
{
	char name[DNAME_STR_MAX];
	size_t o = 0;
	dname_to_str(zone, name, sizeof(name));
	for (const unsigned char *p = (const unsigned char *)name; *p && o + 4 < outlen; p++) {
		bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			     (*p >= '0' && *p <= '9') || *p == '.' || *p == '-';
		o += (size_t)snprintf(out + o, outlen - o, plain ? "%c" : "=%02X", *p);
	}
	if (strcmp(out, ".") == 0) /* the root: a lone dot does not work in a path */
		snprintf(out, outlen, "=2E");
}

/* The settings' problem (why set), or DS_OK. */
static int pdns_check(const struct powerdns_settings *set, char *key, char *why, size_t whylen)
{
	if (set->url == NULL || !pdns_url_ok(set->url))
		ds_why(why, whylen, "powerdns needs a url http://host[:port] or https://...");
	else if (set->server_id != NULL && !pdns_id_ok(set->server_id))
		ds_why(why, whylen, "server-id \"%s\" is not a PowerDNS server id", set->server_id);
	else if (set->api_key_file == NULL)
		ds_why(why, whylen, "powerdns needs an api-key-file");
	else if (set->ca_file != NULL && access(set->ca_file, R_OK) != 0)
		ds_why(why, whylen, "%s: cannot read the ca-file: %s", set->ca_file,
		       strerror(errno));
	else if (pdns_read_key(set->api_key_file, key, why, whylen))
		return DS_OK;
	return DS_ECONFIG;
}

/* Free what the state holds (the key in its header wiped first). */
static void pdns_state_free(struct pdns_state *s)
{
	if (s == NULL)
		return;
	for (struct curl_slist *h = s->headers; h != NULL; h = h->next)
		explicit_bzero(h->data, strlen(h->data));
	curl_slist_free_all(s->headers);
	if (s->curl != NULL)
		curl_easy_cleanup(s->curl);
	free(s->zone_url);
	free(s->ca_file);
	free(s);
}

static void pdns_free(void *state)
{
	if (state == NULL)
		return;
	pdns_state_free(state);
	curl_global_cleanup(); /* pairs with pdns_init's curl_global_init */
}

/* The state for zone z from checked settings; NULL when out of memory. */
static struct pdns_state *pdns_state_new(const struct powerdns_settings *set, const uint8_t *z,
					 const char *key)
{
	struct pdns_state *s = calloc(1, sizeof(*s));
	const char *server = set->server_id != NULL ? set->server_id : "localhost";
	char id[4 * DNAME_STR_MAX], hdr[PDNS_KEY_MAX + 16];
	size_t ulen = strlen(set->url);
	if (s == NULL)
		return NULL;
	while (ulen > 0 && set->url[ulen - 1] == '/')
		ulen--;
	pdns_zone_id(z, id, sizeof(id));
	size_t n = ulen + strlen(server) + strlen(id) + 32;
	if ((s->zone_url = malloc(n)) != NULL)
		snprintf(s->zone_url, n, "%.*s/api/v1/servers/%s/zones/%s", (int)ulen, set->url,
			 server, id);
	s->ca_file = set->ca_file != NULL ? strdup(set->ca_file) : NULL;
	s->timeout_ms = 1000L * (long)set->timeout;
	snprintf(hdr, sizeof(hdr), "X-API-Key: %s", key);
	/* Expect: no 100-continue round trip before a larger PATCH */
	static const char *const fixed[] = {"Accept: application/json",
					    "Content-Type: application/json", "Expect:"};
	struct curl_slist *h = s->headers = curl_slist_append(NULL, hdr);
	explicit_bzero(hdr, sizeof(hdr));
	for (size_t i = 0; h != NULL && i < sizeof(fixed) / sizeof(fixed[0]); i++)
		h = curl_slist_append(h, fixed[i]);
	if (s->zone_url == NULL || (set->ca_file != NULL && s->ca_file == NULL) || h == NULL) {
		pdns_state_free(s);
		return NULL;
	}
	return s;
}

static int pdns_init(const struct cfg_backend *bc, const struct cfg_zone *zc, void **state,
		     char *err, size_t errlen)
{
	const char *where = bc->where != NULL ? bc->where : "powerdns backend";
	char key[PDNS_KEY_MAX + 1], why[600] = "";
	*state = NULL;
	int rc = pdns_check(bc->settings, key, why, sizeof(why));
	if (rc == DS_OK && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(why, sizeof(why), "cannot initialise libcurl");
		rc = DS_ENOMEM;
	}
	if (rc != DS_OK) {
		explicit_bzero(key, sizeof(key));
		ds_why(err, errlen, "%s: %s", where, why);
		return rc;
	}
	*state = pdns_state_new(bc->settings, zc->name, key);
	explicit_bzero(key, sizeof(key));
	if (*state != NULL)
		return DS_OK;
	curl_global_cleanup();
	return DS_ENOMEM;
}

/* ------------------------------------------------------------------------ */
/* the document                                                             */

/* Is there an RRset of this name (case aside) and type in rrsets already? */
static bool pdns_has(const json_t *rrsets, const char *name, const char *type)
{
	size_t i;
	json_t *r;
	json_array_foreach(rrsets, i, r)
	{
		if (strcasecmp(json_string_value(json_object_get(r, "name")), name) == 0 &&
		    strcmp(json_string_value(json_object_get(r, "type")), type) == 0)
			return true;
	}
	return false;
}

/* d's records of owner and type as PowerDNS records; *ttl the lowest TTL. */
static int pdns_records(const struct deleg *d, const uint8_t *owner, uint16_t type, json_t *recs,
			uint32_t *ttl)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct drr *r = &d->rr[i];
		char content[1024];
		if (r->type != type || !dname_equal(r->owner, owner))
			continue;
		if (rr_rdata_to_str(type, r->rdata, r->rdlen, content, sizeof(content)) != DS_OK)
			return DS_EMALF;
		if (json_array_append_new(
			recs, json_pack("{s:s, s:b}", "content", content, "disabled", 0)) != 0)
			return DS_ENOMEM;
		*ttl = r->ttl < *ttl ? r->ttl : *ttl;
	}
	return DS_OK;
}

/* Append the RRset owner/type: REPLACE with d's records, or DELETE when it has none. */
static int pdns_rrset(json_t *rrsets, const struct deleg *d, const uint8_t *owner, uint16_t type)
{
	char name[DNAME_STR_MAX], tbuf[16];
	uint32_t ttl = UINT32_MAX;
	json_t *recs = json_array();
	if (dname_to_str(owner, name, sizeof(name)) != DS_OK) {
		json_decref(recs);
		return DS_ELIMIT;
	}
	const char *tname = rr_type_str(type, tbuf, sizeof(tbuf));
	int rc = recs != NULL ? pdns_records(d, owner, type, recs, &ttl) : DS_ENOMEM;
	if (rc != DS_OK || pdns_has(rrsets, name, tname)) {
		json_decref(recs);
		return rc;
	}
	json_t *r =
	    json_array_size(recs) == 0
		? json_pack("{s:s, s:s, s:s}", "name", name, "type", tname, "changetype", "DELETE")
		: json_pack("{s:s, s:s, s:I, s:s, s:O}", "name", name, "type", tname, "ttl",
			    (json_int_t)ttl, "changetype", "REPLACE", "records", recs);
	json_decref(recs);
	return json_array_append_new(rrsets, r) == 0 ? DS_OK : DS_ENOMEM;
}

/* The RRsets that make child's delegation what the store holds. */
static int pdns_child(json_t *rrsets, const struct backend_batch *b, const uint8_t *child,
		      char *err, size_t errlen)
{
	struct deleg_child *c = malloc(sizeof(*c));
	int rc = c != NULL ? deleg_child_load(b, child, c) : DS_ENOMEM;
	if (rc != DS_OK)
		ds_why(err, errlen, "powerdns: cannot read the delegation: %s", ds_strerror(rc));
	if (rc == DS_OK)
		rc = pdns_rrset(rrsets, &c->d, child, T_NS);
	if (rc == DS_OK)
		rc = pdns_rrset(rrsets, &c->d, child, T_DS);
	for (size_t i = 0; rc == DS_OK && i < c->glue.n; i++) {
		rc = pdns_rrset(rrsets, &c->d, c->glue.name[i], T_A);
		if (rc == DS_OK)
			rc = pdns_rrset(rrsets, &c->d, c->glue.name[i], T_AAAA);
	}
	if (rc != DS_OK && err[0] == '\0')
		ds_why(err, errlen, "powerdns: cannot write the RRsets of a child: %s",
		       ds_strerror(rc));
	free(c);
	return rc;
}

int powerdns_document(const struct backend_batch *b, char **text, size_t *nrrsets, char *err,
		      size_t errlen)
{
	json_t *rrsets = json_array();
	int rc = rrsets != NULL ? DS_OK : DS_ENOMEM;
	*text = NULL;
	*nrrsets = 0;
	if (errlen > 0)
		err[0] = '\0';
	for (size_t i = 0; rc == DS_OK && i < b->nchanges; i++)
		if (deleg_first_change(b, i))
			rc = pdns_child(rrsets, b, b->changes[i].child, err, errlen);
	json_t *doc = rc == DS_OK ? json_pack("{s:O}", "rrsets", rrsets) : NULL;
	if (doc != NULL)
		*text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (rc == DS_OK && *text == NULL)
		rc = DS_ENOMEM;
	if (rc == DS_OK)
		*nrrsets = json_array_size(rrsets);
	json_decref(doc);
	json_decref(rrsets);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* HTTP                                                                     */

/* An answer's body, kept up to PDNS_ANSWER_MAX bytes. */
struct pdns_answer {
	char *body;
	size_t len;
	bool too_big;
};

static size_t pdns_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct pdns_answer *a = arg;
	size_t n = size * nmemb;
	char *grown = a->len + n <= PDNS_ANSWER_MAX ? realloc(a->body, a->len + n + 1) : NULL;
	if (grown == NULL) {
		a->too_big = a->len + n > PDNS_ANSWER_MAX;
		return 0; /* ends the transfer */
	}
	memcpy(grown + a->len, p, n);
	a->len += n;
	grown[a->len] = '\0';
	a->body = grown;
	return n;
}

/* PowerDNS's error text of a refused request, one safe line in out. */
static void pdns_error_text(const struct pdns_answer *a, char *out, size_t outlen)
{
	json_t *j = a->len > 0 ? json_loadb(a->body, a->len, 0, NULL) : NULL;
	const char *e = json_string_value(json_object_get(j, "error"));
	snprintf(out, outlen, "%.*s", PDNS_ERROR_TEXT, e != NULL ? e : a->body ? a->body : "");
	for (char *p = out; *p != '\0'; p++)
		if (*p < ' ' || *p > '~')
			*p = '?';
	json_decref(j);
}

/* The options every request has: no signals, no redirects, no proxy, a timeout. */
static void pdns_options(const struct pdns_state *s, CURL *k)
{
	static const struct {
		CURLoption opt;
		long val;
	} longs[] = {
	    {CURLOPT_NOSIGNAL, 1L},
	    {CURLOPT_FOLLOWLOCATION, 0L}, /* a redirect would carry the key elsewhere */
	    {CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2},
	};
	for (size_t i = 0; i < sizeof(longs) / sizeof(longs[0]); i++)
		curl_easy_setopt(k, longs[i].opt, longs[i].val);
	curl_easy_setopt(k, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(k, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(k, CURLOPT_TIMEOUT_MS, s->timeout_ms);
	curl_easy_setopt(k, CURLOPT_CONNECTTIMEOUT_MS, s->timeout_ms);
	curl_easy_setopt(k, CURLOPT_USERAGENT, "dsyncd");
	curl_easy_setopt(k, CURLOPT_HTTPHEADER, s->headers);
	if (s->ca_file != NULL)
		curl_easy_setopt(k, CURLOPT_CAINFO, s->ca_file);
}

/*
 * METHOD <zone url><suffix> with body (PATCH, PUT) or without (GET).  A
 * 2xx answer gives DS_OK and, when out is not NULL, the answer's JSON in
 * *out; anything else DS_EIO with err "METHOD URL: HTTP 422: <error>".
 */
static int pdns_call(struct pdns_state *s, const char *method, const char *suffix, const char *body,
		     json_t **out, char *err, size_t errlen)
{
	char cerr[CURL_ERROR_SIZE] = "", text[PDNS_ERROR_TEXT + 1];
	struct pdns_answer a = {0};
	long status = 0;
	size_t ulen = strlen(s->zone_url) + strlen(suffix) + 1;
	char *url = malloc(ulen);
	if (s->curl == NULL)
		s->curl = curl_easy_init();
	if (url == NULL || s->curl == NULL) {
		free(url);
		return DS_ENOMEM;
	}
	CURL *k = s->curl;
	snprintf(url, ulen, "%s%s", s->zone_url, suffix);
	curl_easy_reset(k);
	pdns_options(s, k);
	curl_easy_setopt(k, CURLOPT_URL, url);
	curl_easy_setopt(k, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(k, CURLOPT_WRITEFUNCTION, pdns_body);
	curl_easy_setopt(k, CURLOPT_WRITEDATA, &a);
	if (strcmp(method, "GET") != 0) {
		curl_easy_setopt(k, CURLOPT_CUSTOMREQUEST, method);
		curl_easy_setopt(k, CURLOPT_POSTFIELDS, body != NULL ? body : "");
	}
	CURLcode cc = curl_easy_perform(k);
	curl_easy_getinfo(k, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_setopt(k, CURLOPT_ERRORBUFFER, NULL);
	int rc = cc == CURLE_OK && status >= 200 && status <= 299 ? DS_OK : DS_EIO;
	if (cc != CURLE_OK)
		ds_why(err, errlen, "%s %s: %s", method, url,
		       a.too_big ? "the answer is too large"
		       : cerr[0] ? cerr
				 : curl_easy_strerror(cc));
	else if (rc != DS_OK) {
		pdns_error_text(&a, text, sizeof(text));
		ds_why(err, errlen, "%s %s: HTTP %ld%s%s", method, url, status, text[0] ? ": " : "",
		       text);
	} else if (out != NULL &&
		   (*out = json_loadb(a.body ? a.body : "", a.len, 0, NULL)) == NULL) {
		ds_why(err, errlen, "%s %s: the answer is not JSON", method, url);
		rc = DS_EIO;
	}
	free(a.body);
	free(url);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* delivery                                                                 */

/*
 * Rectify the zone unless it is presigned or PowerDNS rectifies API changes
 * itself (API-RECTIFY); *done says whether it was.  Not only when the zone
 * says "dnssec": PowerDNS caches its keys (dnssec-key-cache-ttl), so a zone
 * just signed with pdnsutil may still look unsigned.  On a zone that looks
 * unsigned a refused rectify does not fail the delivery.
 */
static int pdns_rectify(struct pdns_state *s, bool *done, char *err, size_t errlen)
{
	json_t *z = NULL;
	int rc = pdns_call(s, "GET", "?rrsets=false", NULL, &z, err, errlen);
	bool dnssec = json_is_true(json_object_get(z, "dnssec"));
	*done = rc == DS_OK && !json_is_true(json_object_get(z, "presigned")) &&
		!json_is_true(json_object_get(z, "api_rectify"));
	if (*done)
		rc = pdns_call(s, "PUT", "/rectify", NULL, NULL, err, errlen);
	if (*done && rc != DS_OK && !dnssec) {
		log_debug("powerdns: the unsigned zone was not rectified: %s", err);
		err[0] = '\0';
		*done = false;
		rc = DS_OK;
	}
	json_decref(z);
	return rc;
}

static int pdns_deliver(void *state, const struct backend_batch *b, char *err, size_t errlen)
{
	struct pdns_state *s = state;
	char *doc = NULL;
	size_t n = 0;
	bool rectified = false;
	int rc = powerdns_document(b, &doc, &n, err, errlen);
	if (rc == DS_OK && n > 0)
		rc = pdns_call(s, "PATCH", "", doc, NULL, err, errlen);
	if (rc == DS_OK && n > 0)
		rc = pdns_rectify(s, &rectified, err, errlen);
	if (rc == DS_OK)
		log_debug("powerdns: %zu RRset(s) of %zu change(s) sent to %s%s", n, b->nchanges,
			  s->zone_url, rectified ? ", zone rectified" : "");
	free(doc);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* the drift check                                                          */

/* One record of PowerDNS's answer ("name ttl IN TYPE content") to cb. */
static int pdns_fetch_record(const char *name, json_int_t ttl, const char *type,
			     const char *content, zf_rr_cb cb, void *arg, char *err, size_t errlen)
{
	char *text = NULL, why[300] = "";
	uint8_t owner[DNAME_MAX], *rdata = malloc(65535);
	uint16_t rtype;
	uint32_t rttl;
	size_t rdlen;
	int rc = rdata != NULL && asprintf(&text, "%s %lld IN %s %s", name, (long long)ttl, type,
					   content) >= 0
		     ? DS_OK
		     : DS_ENOMEM;
	if (rc == DS_OK)
		rc = zonefile_rr_from_str(text, owner, &rtype, &rttl, rdata, 65535, &rdlen, why,
					  sizeof(why));
	if (rc != DS_OK && why[0] != '\0')
		ds_why(err, errlen, "%s", why);
	if (rc == DS_OK)
		rc = cb(arg, owner, rtype, CLASS_IN, rttl, rdata, rdlen);
	free(text);
	free(rdata);
	return rc;
}

/* Every enabled record of one RRset of PowerDNS's answer to cb. */
static int pdns_fetch_rrset(const json_t *set, zf_rr_cb cb, void *arg, char *err, size_t errlen)
{
	const char *name = json_string_value(json_object_get(set, "name"));
	const char *type = json_string_value(json_object_get(set, "type"));
	json_t *ttl = json_object_get(set, "ttl"), *recs = json_object_get(set, "records"), *r;
	size_t i;
	if (name == NULL || type == NULL || !json_is_integer(ttl) || !json_is_array(recs)) {
		ds_why(err, errlen, "an RRset of the zone is not what the API describes");
		return DS_EIO;
	}
	json_array_foreach(recs, i, r)
	{
		const char *content = json_string_value(json_object_get(r, "content"));
		int rc = DS_OK;
		if (content == NULL)
			rc = DS_EIO;
		else if (!json_is_true(json_object_get(r, "disabled")))
			rc = pdns_fetch_record(name, json_integer_value(ttl), type, content, cb,
					       arg, err, errlen);
		if (rc != DS_OK && err[0] == '\0')
			ds_why(err, errlen, "a record of %s %s cannot be read", name, type);
		if (rc != DS_OK)
			return rc;
	}
	return DS_OK;
}

/* What PowerDNS serves: the zone with its RRsets from the API. */
static int pdns_fetch(void *state, zf_rr_cb cb, void *arg, char *err, size_t errlen)
{
	json_t *z = NULL, *set;
	size_t i;
	if (errlen > 0)
		err[0] = '\0';
	int rc = pdns_call(state, "GET", "", NULL, &z, err, errlen);
	json_t *rrsets = json_object_get(z, "rrsets");
	if (rc == DS_OK && !json_is_array(rrsets)) {
		ds_why(err, errlen, "the zone's answer has no rrsets");
		rc = DS_EIO;
	}
	json_array_foreach(rrsets, i, set)
	{
		if (rc == DS_OK)
			rc = pdns_fetch_rrset(set, cb, arg, err, errlen);
	}
	json_decref(z);
	return rc;
}

/* A row of the settings table: its value goes to field of struct powerdns_settings. */
#define PDNS_SETTING(name, kind, def, min, max, field, doc)                                        \
	{                                                                                          \
		name, kind, def, min, max, offsetof(struct powerdns_settings, field), doc          \
	}

static const struct cfg_setting pdns_settings_rows[] = {
    PDNS_SETTING("url", CFG_STR, NULL, 0, 0, url,
		 "the API's base URL, http://host:port or https://host:port"),
    PDNS_SETTING("api-key-file", CFG_PATH, NULL, 0, 0, api_key_file,
		 "a file (mode 0600 or 0400) holding the X-API-Key"),
    PDNS_SETTING("server-id", CFG_STR, "localhost", 0, 0, server_id,
		 "the server id in the API's URLs"),
    PDNS_SETTING("ca-file", CFG_PATH, NULL, 0, 0, ca_file,
		 "CA certificates (PEM) to verify an https server with, instead of the system's"),
    PDNS_SETTING("timeout", CFG_UINT, "10", 1, 300, timeout,
		 "seconds one request to the API may take"),
    {.name = NULL},
};

BACKEND_DEFINE_WITH(powerdns, pdns_settings_rows, sizeof(struct powerdns_settings),
		    .init = pdns_init, .free = pdns_free, .deliver = pdns_deliver,
		    .fetch = pdns_fetch);

/*
 * common/axfr.c -- AXFR through ldns's resolver (it reads the transfer's
 * messages, with TSIG when the resolver has a key).
 */
#include "common/axfr.h"

#include <ldns/ldns.h>
#include <stdlib.h>
#include <string.h>

#include "common/dname.h"
#include "common/err.h"
#include "common/wire.h"

/* One ldns record to cb, as uncompressed wire data. */
static int hand_out(const ldns_rr *rr, zf_rr_cb cb, void *arg)
{
	uint8_t *w = NULL, owner[DNAME_MAX];
	size_t len = 0;
	if (ldns_rr2wire(&w, rr, LDNS_SECTION_ANSWER, &len) != LDNS_STATUS_OK)
		return DS_ENOMEM;
	struct wire r;
	wire_init(&r, w, len);
	int rc = DS_EMALF;
	if (wire_name_nocomp(&r, owner) > 0) {
		uint16_t type = wire_u16(&r), rclass = wire_u16(&r);
		uint32_t ttl = wire_u32(&r);
		uint16_t rdlen = wire_u16(&r);
		const uint8_t *rd = wire_bytes(&r, rdlen);
		if (wire_err(&r) == DS_OK)
			rc = cb(arg, owner, type, rclass, ttl, rd, rdlen);
	}
	free(w);
	return rc;
}

/* A resolver that asks only server, with key. */
static ldns_resolver *resolver_for(const struct sockaddr_storage *server,
				   const struct tsig_key *key, unsigned timeout_ms)
{
	uint16_t port = 53;
	ldns_resolver *res = ldns_resolver_new();
	ldns_rdf *ns = ldns_sockaddr_storage2rdf(server, &port);
	if (res == NULL || ns == NULL || ldns_resolver_push_nameserver(res, ns) != LDNS_STATUS_OK) {
		ldns_rdf_deep_free(ns);
		ldns_resolver_deep_free(res);
		return NULL;
	}
	ldns_rdf_deep_free(ns);
	ldns_resolver_set_port(res, port);
	ldns_resolver_set_timeout(res, (struct timeval){.tv_sec = timeout_ms / 1000,
							.tv_usec = (timeout_ms % 1000) * 1000});
	ldns_resolver_set_retry(res, 1);
	if (key != NULL) {
		ldns_resolver_set_tsig_keyname(res, key->name);
		ldns_resolver_set_tsig_keydata(res, key->secret);
		ldns_resolver_set_tsig_algorithm(res, key->alg);
	}
	return res;
}

int axfr_fetch(const struct sockaddr_storage *server, const uint8_t *zone,
	       const struct tsig_key *key, unsigned timeout_ms, zf_rr_cb cb, void *arg, char *why,
	       size_t whylen)
{
	char zs[DNAME_STR_MAX];
	dname_to_str(zone, zs, sizeof(zs));
	ldns_resolver *res = resolver_for(server, key, timeout_ms);
	ldns_rdf *zr = ldns_dname_new_frm_str(zs);
	int rc = res && zr ? DS_OK : DS_ENOMEM;
	ldns_status st = rc == DS_OK ? ldns_axfr_start(res, zr, LDNS_RR_CLASS_IN) : LDNS_STATUS_OK;
	if (st != LDNS_STATUS_OK) {
		ds_why(why, whylen, "AXFR of %s: %s", zs, ldns_get_errorstr_by_id(st));
		rc = DS_EIO;
	}
	ldns_rr *rr;
	while (rc == DS_OK && (rr = ldns_axfr_next(res)) != NULL) {
		rc = hand_out(rr, cb, arg);
		ldns_rr_free(rr);
	}
	if (rc == DS_OK && !ldns_axfr_complete(res)) {
		const ldns_pkt *last = ldns_axfr_last_pkt(res);
		ldns_lookup_table *lt =
		    last ? ldns_lookup_by_id(ldns_rcodes, (int)ldns_pkt_get_rcode(last)) : NULL;
		ds_why(why, whylen, "AXFR of %s did not complete%s%s", zs, lt ? ": " : "",
		       lt ? lt->name : "");
		rc = DS_EIO;
	}
	if (res && rc != DS_OK)
		ldns_axfr_abort(res);
	ldns_rdf_deep_free(zr);
	if (res)
		ldns_resolver_deep_free(res);
	return rc;
}

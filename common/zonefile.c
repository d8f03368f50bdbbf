/*
 * common/zonefile.c -- presentation-format input through ldns.
 */
#include <errno.h>
#include <ldns/ldns.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/dname.h"
#include "common/err.h"
#include "common/zonefile.h"

/* Flatten an ldns_rr into owner + uncompressed RDATA. */
static int rr_flatten(const ldns_rr *rr, uint8_t owner[DNAME_MAX], uint8_t *rdata, size_t rdcap,
		      size_t *rdlen)
{
	const ldns_rdf *o = ldns_rr_owner(rr);
	if (ldns_rdf_size(o) > DNAME_MAX)
		return DS_ELIMIT;
	memcpy(owner, ldns_rdf_data(o), ldns_rdf_size(o));
	size_t n = 0;
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		const ldns_rdf *f = ldns_rr_rdf(rr, i);
		if (n + ldns_rdf_size(f) > rdcap)
			return DS_ELIMIT;
		memcpy(rdata + n, ldns_rdf_data(f), ldns_rdf_size(f));
		n += ldns_rdf_size(f);
	}
	*rdlen = n;
	return DS_OK;
}

/* text for a message: bytes outside printable ASCII as \xNN (a newline
 * must not start a line of its own in a log or an error list), cut with
 * "..." to fit out, so that the reason after it is never lost. */
static void quote(const char *text, char *out, size_t outlen)
{
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		bool plain = *p >= 0x20 && *p < 0x7f;
		if (n + (plain ? 1 : 4) + 4 > outlen) {
			strcpy(out + n, "...");
			return;
		}
		n += plain ? (size_t)sprintf(out + n, "%c", *p)
			   : (size_t)sprintf(out + n, "\\x%02X", *p);
	}
	out[n] = '\0';
}

int zonefile_rr_from_str(const char *text, uint8_t owner[DNAME_MAX], uint16_t *type, uint32_t *ttl,
			 uint8_t *rdata, size_t rdcap, size_t *rdlen, char *why, size_t whylen)
{
	char q[160];
	ldns_rr *rr = NULL;
	/* leading blanks would mean "same owner as before" to ldns */
	while (*text == ' ' || *text == '\t')
		text++;
	/* One record on one line: presentation format spells other octets as
	 * \DDD.  (ldns 1.8.3 reads past a buffer on some text with a line
	 * break and control characters: found by fuzz_config.) */
	for (const char *c = text; *c != '\0'; c++) {
		if ((*c == '\n' || *c == '\r') && c[strspn(c, " \t\r\n")] == '\0')
			break; /* the line's end (a key file's text, say) */
		if (((unsigned char)*c < 0x20 && *c != '\t') || *c == 0x7f) {
			if (why != NULL && whylen > 0)
				snprintf(why, whylen,
					 "record text holds control character 0x%02X at offset %zu",
					 (unsigned char)*c, (size_t)(c - text));
			return DS_EPARSE;
		}
	}
	ldns_rdf *origin = ldns_dname_new_frm_str(".");
	ldns_status st = ldns_rr_new_frm_str(&rr, text, 3600, origin, NULL);
	ldns_rdf_deep_free(origin);
	if (st != LDNS_STATUS_OK) {
		quote(text, q, sizeof(q));
		snprintf(why, whylen, "cannot parse record \"%s\": %s", q,
			 ldns_get_errorstr_by_id(st));
		return DS_EPARSE;
	}
	*type = (uint16_t)ldns_rr_get_type(rr);
	*ttl = ldns_rr_ttl(rr);
	int rc = rr_flatten(rr, owner, rdata, rdcap, rdlen);
	if (rc != DS_OK) {
		quote(text, q, sizeof(q));
		snprintf(why, whylen, "record \"%s\" is too large", q);
	}
	ldns_rr_free(rr);
	return rc;
}

/* Is the rest of f from offset at on only blanks and comments? */
static bool rest_is_blank(FILE *f, long at)
{
	bool comment = false;
	int c;
	if (at < 0 || fseek(f, at, SEEK_SET) != 0)
		return false;
	while ((c = getc(f)) != EOF) {
		if (c == '\n')
			comment = false;
		else if (c == ';')
			comment = true;
		else if (!comment && c != ' ' && c != '\t' && c != '\r')
			return false;
	}
	return true;
}

int zonefile_read(const char *path, const uint8_t *origin, unsigned flags, zf_rr_cb cb, void *arg,
		  char *why, size_t whylen)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	ldns_rdf *orig = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, dname_len(origin), origin);
	ldns_rdf *prev = NULL;
	uint32_t default_ttl = 3600;
	int line = 1, rc = DS_OK;
	uint8_t owner[DNAME_MAX], rdata[65535];
	size_t rdlen;

	while (!feof(f)) {
		ldns_rr *rr = NULL;
		long at = ftell(f);
		ldns_status st = ldns_rr_new_frm_fp_l(&rr, f, &default_ttl, &orig, &prev, &line);
		if (st == LDNS_STATUS_SYNTAX_INCLUDE && (flags & ZF_NO_INCLUDE)) {
			snprintf(why, whylen,
				 "%s:%d: $INCLUDE is not followed; give the zone as one file "
				 "(named-compilezone -o - ZONE FILE writes one)",
				 path, line - 1);
			rc = DS_ENOTSUP;
			break;
		}
		if (st == LDNS_STATUS_SYNTAX_EMPTY || st == LDNS_STATUS_SYNTAX_TTL ||
		    st == LDNS_STATUS_SYNTAX_ORIGIN || st == LDNS_STATUS_SYNTAX_INCLUDE)
			continue;
		if (st != LDNS_STATUS_OK) {
			/* trailing comment or blank lines; not a record cut short */
			if (feof(f) && st == LDNS_STATUS_SYNTAX_ERR && rest_is_blank(f, at))
				break;
			snprintf(why, whylen, "%s:%d: %s", path, line, ldns_get_errorstr_by_id(st));
			rc = DS_EPARSE;
			break;
		}
		rc = rr_flatten(rr, owner, rdata, sizeof(rdata), &rdlen);
		if (rc == DS_OK)
			rc = cb(arg, owner, (uint16_t)ldns_rr_get_type(rr),
				(uint16_t)ldns_rr_get_class(rr), ldns_rr_ttl(rr), rdata, rdlen);
		else
			snprintf(why, whylen, "%s:%d: record too large", path, line);
		ldns_rr_free(rr);
		if (rc != DS_OK)
			break;
	}
	ldns_rdf_deep_free(orig);
	ldns_rdf_deep_free(prev);
	fclose(f);
	return rc;
}

/*
 * keys/name.c -- how operators name a child's key, one way for `dsyncd key`,
 * dsyncctl, the admin API and every listing: "CHILD/TAG"
 * (child.example./12345), "CHILD/TAG/ALG" when another key of the child has
 * the same tag, or the store's key id.  A name that fits several keys is
 * refused with the candidates, never guessed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dname.h"
#include "common/err.h"
#include "keys/keys.h"

void key_name_fmt(const uint8_t *child, uint16_t tag, uint8_t alg, bool with_alg, char *out,
		  size_t len)
{
	char c[DNAME_STR_MAX];
	dname_to_str(child, c, sizeof(c));
	if (with_alg)
		snprintf(out, len, "%s/%u/%u", c, tag, alg);
	else
		snprintf(out, len, "%s/%u", c, tag);
}

int key_name(struct store *s, const struct store_key *k, char *out, size_t len)
{
	bool shared = false;
	int rc = store_key_tag_shared(s, k, &shared);
	key_name_fmt(k->owner, k->tag, k->alg, shared, out, len);
	return rc;
}

/* s[0..n) as a decimal number of at most max; false when it is not one. */
static bool number(const char *s, size_t n, unsigned long long max, unsigned long long *out)
{
	unsigned long long v = 0;
	if (n == 0 || n > 19)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return v <= max;
}

/* The part of s after its last '/' before end, as a number of at most max;
 * *slash: where that '/' is (NULL when none or not a number). */
static bool last_number(const char *s, const char *end, unsigned long long max,
			unsigned long long *v, const char **slash)
{
	const char *p = end;
	while (p > s && p[-1] != '/')
		p--;
	*slash = p > s + 1 ? p - 1 : NULL;
	return *slash != NULL && number(p, (size_t)(end - p), max, v);
}

int key_ref_parse(const char *s, struct key_ref *r, char *why, size_t whylen)
{
	unsigned long long id, tag, prev;
	const char *end = s + strlen(s), *a, *t;
	char child[DNAME_STR_MAX];
	memset(r, 0, sizeof(*r));
	r->alg = -1;
	if (number(s, strlen(s), INT64_MAX, &id) && id > 0) {
		r->id = (int64_t)id;
		return DS_OK;
	}
	if (!last_number(s, end, 65535, &tag, &t)) {
		ds_why(why, whylen,
		       "bad key name \"%.300s\": want CHILD/TAG, CHILD/TAG/ALG or the key's id", s);
		return DS_EINVAL;
	}
	/* CHILD/TAG/ALG when what is before the last '/' ends in a tag too */
	if (tag <= 255 && last_number(s, t, 65535, &prev, &a)) {
		r->alg = (int)tag;
		tag = prev;
		t = a;
	}
	r->tag = (uint16_t)tag;
	snprintf(child, sizeof(child), "%.*s", (int)(t - s), s);
	if ((size_t)(t - s) >= sizeof(child) || dname_from_str(child, r->child) < 0 ||
	    dname_labels(r->child) == 0) {
		ds_why(why, whylen, "bad child name \"%.300s\" in key name \"%.300s\"", child, s);
		return DS_EINVAL;
	}
	return DS_OK;
}

/* The most specific configured zone above child, or NULL. */
static const struct cfg_zone *parent_zone(const struct cfg *cfg, const uint8_t *child)
{
	const struct cfg_zone *best = NULL;
	for (size_t i = 0; i < cfg->nzones; i++)
		if (dname_is_strict_sub(child, cfg->zones[i].name) &&
		    (best == NULL || dname_labels(cfg->zones[i].name) > dname_labels(best->name)))
			best = &cfg->zones[i];
	return best;
}

/* The keys of r's child that r names into *rows. */
static int child_matches(const struct cfg *cfg, struct store *s, const struct key_ref *r,
			 struct keyrows *rows, char *why, size_t whylen)
{
	char c[DNAME_STR_MAX], z[DNAME_STR_MAX];
	int64_t zid, cid;
	struct keyrows all = {0};
	const struct cfg_zone *zone = parent_zone(cfg, r->child);
	dname_to_str(r->child, c, sizeof(c));
	if (zone == NULL) {
		ds_why(why, whylen, "no configured zone is a parent of %s", c);
		return DS_ENOENT;
	}
	dname_to_str(zone->name, z, sizeof(z));
	int rc = store_zone_find(s, zone->name, &zid);
	if (rc == DS_OK)
		rc = store_child_find(s, zid, r->child, &cid);
	if (rc == DS_ENOENT)
		ds_why(why, whylen, "%s is not a delegation of zone %s", c, z);
	if (rc == DS_OK)
		rc = store_child_keys_foreach(s, cid, keyrows_add, &all);
	for (size_t i = 0; rc == DS_OK && i < all.n; i++)
		if (all.k[i].tag == r->tag && (r->alg < 0 || all.k[i].alg == r->alg))
			rc = keyrows_add(rows, &all.k[i]);
	free(all.k);
	if (rc == DS_OK && rows->n == 0) {
		char alg[32] = "";
		if (r->alg >= 0)
			snprintf(alg, sizeof(alg), " and algorithm %d", r->alg);
		ds_why(why, whylen, "%s has no key with tag %u%s", c, r->tag, alg);
		rc = DS_ENOENT;
	}
	return rc;
}

/* why: "NAME fits N keys: X/T/A (id I, state), ...; name one ..." */
static void ambiguous(const char *name, const struct keyrows *rows, char *why, size_t whylen)
{
	char one[DNAME_STR_MAX + 16];
	size_t n =
	    (size_t)snprintf(why, whylen, "key name \"%.300s\" fits %zu keys:", name, rows->n);
	for (size_t i = 0; i < rows->n && n < whylen; i++) {
		const struct store_key *k = &rows->k[i];
		key_name_fmt(k->owner, k->tag, k->alg, true, one, sizeof(one));
		n += (size_t)snprintf(why + n, whylen - n, "%s %s (id %lld, %s)", i ? "," : "", one,
				      (long long)k->id, store_key_state_str(k->state));
	}
	if (n < whylen)
		snprintf(why + n, whylen - n, "; name one as CHILD/TAG/ALG or by its id");
}

int key_lookup(const struct cfg *cfg, struct store *s, const char *name, struct store_key *out,
	       char *why, size_t whylen)
{
	struct key_ref r;
	struct keyrows rows = {0};
	int rc = key_ref_parse(name, &r, why, whylen);
	if (rc == DS_OK && r.id > 0) {
		rc = store_key_get(s, r.id, out);
		if (rc == DS_ENOENT)
			ds_why(why, whylen, "no key with id %lld", (long long)r.id);
		return rc;
	}
	if (rc == DS_OK)
		rc = child_matches(cfg, s, &r, &rows, why, whylen);
	if (rc == DS_OK && rows.n > 1) {
		ambiguous(name, &rows, why, whylen);
		rc = DS_EEXIST;
	}
	if (rc == DS_OK)
		*out = rows.k[0];
	else if (rc != DS_EINVAL && rc != DS_ENOENT && rc != DS_EEXIST)
		ds_why(why, whylen, "store error: %s", ds_strerror(rc));
	free(rows.k);
	return rc;
}

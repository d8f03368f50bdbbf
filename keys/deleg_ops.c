/*
 * keys/deleg_ops.c -- the operator's delegation changes: create a child
 * with its delegation, delete a child with its delegation and keys.
 *
 * Deleting a domain means its SIG(0) keys stop working too: the child's
 * key rows (and their pending validations) are deleted with it, and the
 * caller puts them into a running key cache as revoked (the API at once;
 * a running daemon after `dsyncd delegation delete` on SIGHUP, when
 * keycache_sync finds them gone).  Audit rows and the outbox history stay.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/dname.h"
#include "common/err.h"
#include "common/zonefile.h"
#include "keys/deleg_ops.h"
#include "policy/policy.h"

/* A host name: labels of letters, digits and hyphens, none starting or
 * ending with a hyphen. */
static bool host_name_ok(const uint8_t *name)
{
	for (const uint8_t *p = name; *p; p += *p + 1) {
		if (p[1] == '-' || p[*p] == '-')
			return false;
		for (unsigned i = 1; i <= *p; i++) {
			uint8_t c = p[i];
			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			      (c >= '0' && c <= '9') || c == '-'))
				return false;
		}
	}
	return true;
}

/* text as a host name into out; false with why. */
static bool host_name(const char *what, const char *text, uint8_t out[DNAME_MAX], char *why,
		      size_t len)
{
	if (dname_from_str(text, out) < 0 || out[0] == 0 || !host_name_ok(out)) {
		snprintf(why, len, "%s \"%.255s\" is not a host name (letters, digits, hyphens)",
			 what, text);
		return false;
	}
	return true;
}

int deleg_op_child(const struct cfg *cfg, const char *name, struct deleg_op *op)
{
	const struct cfg_zone *best = NULL;
	if (!host_name("child", name, op->child, op->why, sizeof(op->why)))
		return DS_EINVAL;
	dname_to_str(op->child, op->name, sizeof(op->name));
	for (size_t i = 0; i < cfg->nzones; i++)
		if (dname_is_strict_sub(op->child, cfg->zones[i].name) &&
		    (best == NULL || dname_labels(cfg->zones[i].name) > dname_labels(best->name)))
			best = &cfg->zones[i];
	if (best == NULL) {
		snprintf(op->why, sizeof(op->why), "no configured zone is a parent of %s",
			 op->name);
		return DS_ENOENT;
	}
	op->zone = best;
	return DS_OK;
}

/* Add r to d unless it is there already (said in why). */
static int add_rr(struct deleg *d, const struct drr *r, const char *text, char *why, size_t len)
{
	if (deleg_find(d, r) >= 0) {
		snprintf(why, len, "\"%.255s\" is given twice", text);
		return DS_EINVAL;
	}
	if (deleg_add(d, r) != DS_OK) {
		snprintf(why, len, "more than %d records", DELEG_MAX);
		return DS_EINVAL;
	}
	return DS_OK;
}

static int add_ns(struct deleg_op *op, const char *text, struct deleg *d, struct drr *r)
{
	r->type = T_NS;
	if (!host_name("NS target", text, r->rdata, op->why, sizeof(op->why)))
		return DS_EINVAL;
	r->rdlen = (uint16_t)dname_len(r->rdata);
	return add_rr(d, r, text, op->why, sizeof(op->why));
}

/* DS RDATA in text: letters, digits and blanks only (no comment, no line). */
static int add_ds(struct deleg_op *op, const char *text, struct deleg *d, struct drr *r)
{
	char rr[DNAME_STR_MAX + 500], why[300];
	uint8_t owner[DNAME_MAX];
	uint32_t ttl;
	size_t rdlen = 0, n = strlen(text);
	bool ok = n > 0 && n < 400 && strspn(text, " \t") < n;
	for (size_t i = 0; ok && i < n; i++)
		ok = (text[i] >= '0' && text[i] <= '9') || (text[i] >= 'a' && text[i] <= 'z') ||
		     (text[i] >= 'A' && text[i] <= 'Z') || text[i] == ' ' || text[i] == '\t';
	if (ok) {
		snprintf(rr, sizeof(rr), "%s 3600 IN DS %.400s", op->name, text);
		ok = zonefile_rr_from_str(rr, owner, &r->type, &ttl, r->rdata, sizeof(r->rdata),
					  &rdlen, why, sizeof(why)) == DS_OK &&
		     r->type == T_DS;
	}
	if (!ok) {
		snprintf(op->why, sizeof(op->why),
			 "DS \"%.255s\" is not DS data (KEYTAG ALGORITHM DIGESTTYPE DIGEST)", text);
		return DS_EINVAL;
	}
	r->rdlen = (uint16_t)rdlen;
	return add_rr(d, r, text, op->why, sizeof(op->why));
}

static int add_glue(struct deleg_op *op, const char *name, const char *addr, struct deleg *d,
		    struct drr *r)
{
	if (!host_name("glue name", name, r->owner, op->why, sizeof(op->why)))
		return DS_EINVAL;
	if (inet_pton(AF_INET, addr, r->rdata) == 1) {
		r->type = T_A;
		r->rdlen = 4;
	} else if (inet_pton(AF_INET6, addr, r->rdata) == 1) {
		r->type = T_AAAA;
		r->rdlen = 16;
	} else {
		snprintf(op->why, sizeof(op->why),
			 "glue address \"%.64s\" of %.255s is no IP address", addr, name);
		return DS_EINVAL;
	}
	return add_rr(d, r, addr, op->why, sizeof(op->why));
}

int deleg_op_records(const struct deleg_input *in, struct deleg_op *op, struct deleg *out)
{
	struct drr r;
	struct policy_result *res = NULL;
	int rc = DS_OK;
	out->n = 0;
	memset(&r, 0, sizeof(r));
	r.ttl = op->zone->pol.deleg_ttl;
	for (size_t i = 0; rc == DS_OK && i < in->nns; i++) {
		memcpy(r.owner, op->child, dname_len(op->child));
		rc = add_ns(op, in->ns[i], out, &r);
	}
	for (size_t i = 0; rc == DS_OK && i < in->nds; i++) {
		memcpy(r.owner, op->child, dname_len(op->child));
		rc = add_ds(op, in->ds[i], out, &r);
	}
	for (size_t i = 0; rc == DS_OK && i < in->nglue; i++)
		rc = add_glue(op, in->glue_name[i], in->glue_addr[i], out, &r);
	if (rc != DS_OK)
		return rc;
	deleg_sort(out);
	if ((res = malloc(sizeof(*res))) == NULL)
		return DS_ENOMEM;
	if (policy_deleg_check(&op->zone->pol, op->child, out, res) != DS_OK) {
		snprintf(op->why, sizeof(op->why), "%s", res->text);
		rc = DS_EINVAL;
	}
	free(res);
	return rc;
}

/* The zone's backends, at most 16 (as the receiver's commit takes them). */
static size_t backend_names(const struct cfg_zone *z, const char *names[16])
{
	size_t nb = z->nbackends < 16 ? z->nbackends : 16;
	for (size_t i = 0; i < nb; i++)
		names[i] = z->backends[i].name;
	return nb;
}

/* The audit row of op: result, and what changed after what. */
static int audit(struct store *s, const struct deleg_op *op, const char *result, const char *what)
{
	char zs[DNAME_STR_MAX], reason[DELEG_OP_CHANGES_MAX + 1024];
	dname_to_str(op->zone->name, zs, sizeof(zs));
	snprintf(reason, sizeof(reason), "%s%s%s%s%s", what, op->reason ? ": " : "",
		 op->reason ? op->reason : "", op->changes[0] ? "\n" : "", op->changes);
	struct audit_rec a = {.time = (int64_t)time(NULL),
			      .client = op->client,
			      .zone = zs,
			      .child = op->name,
			      .key_tag = -1,
			      .actor = op->actor,
			      .request = op->request,
			      .result = result,
			      .rcode = 0,
			      .reason = reason};
	return store_audit_add(s, &a);
}

/* End the transaction: commit when rc is DS_OK, else roll back. */
static int finish(struct store *s, int rc)
{
	if (rc == DS_OK)
		rc = store_commit(s);
	if (rc != DS_OK)
		store_rollback(s);
	return rc;
}

int deleg_op_add(struct store *s, const struct deleg *d, struct deleg_op *op)
{
	static const struct deleg none = {0};
	const char *names[16];
	size_t nb = backend_names(op->zone, names);
	int64_t zid, cid;
	char zs[DNAME_STR_MAX];
	op->change_id = 0;
	deleg_diff_text(&none, d, op->changes, sizeof(op->changes));
	int rc = store_begin(s);
	if (rc != DS_OK)
		return rc;
	rc = store_zone_ensure(s, op->zone->name, &zid);
	if (rc == DS_OK && store_child_find(s, zid, op->child, &cid) == DS_OK) {
		dname_to_str(op->zone->name, zs, sizeof(zs));
		snprintf(op->why, sizeof(op->why), "%s is a delegation of zone %s already",
			 op->name, zs);
		rc = DS_EEXIST;
	}
	if (rc == DS_OK)
		rc = store_child_ensure(s, zid, op->child, &cid);
	if (rc == DS_OK && d->n > 0)
		rc = store_deleg_change(s, op->zone->name, op->child, cid, d, op->changes, names,
					nb, (int64_t)time(NULL), &op->change_id);
	if (rc == DS_OK)
		rc = audit(s, op, "created", "delegation created");
	return finish(s, rc);
}

/* The child's delegation (into cur) and keys (into op->gone, as revoked). */
static int load_child(struct store *s, int64_t cid, struct deleg *cur, struct deleg_op *op)
{
	int rc = store_deleg_load(s, cid, cur);
	if (rc == DS_OK)
		rc = store_child_keys_foreach(s, cid, keyrows_add, &op->gone);
	for (size_t i = 0; i < op->gone.n; i++)
		op->gone.k[i].state = KEY_REVOKED;
	return rc;
}

int deleg_op_remove(struct store *s, int64_t zone_id, struct deleg_op *op)
{
	static const struct deleg none = {0};
	const char *names[16];
	size_t nb = backend_names(op->zone, names);
	int64_t cid;
	char zs[DNAME_STR_MAX], what[128];
	op->change_id = 0;
	op->changes[0] = '\0';
	struct deleg *cur = malloc(sizeof(*cur));
	int rc = cur ? store_child_find(s, zone_id, op->child, &cid) : DS_ENOMEM;
	if (rc == DS_ENOENT) {
		dname_to_str(op->zone->name, zs, sizeof(zs));
		snprintf(op->why, sizeof(op->why), "%s is not a delegation of zone %s", op->name,
			 zs);
	}
	if (rc == DS_OK)
		rc = load_child(s, cid, cur, op);
	if (rc == DS_OK) {
		deleg_diff_text(cur, &none, op->changes, sizeof(op->changes));
		rc = cur->n > 0
			 ? store_deleg_change(s, op->zone->name, op->child, cid, NULL, op->changes,
					      names, nb, (int64_t)time(NULL), &op->change_id)
			 : store_child_delete(s, cid);
	}
	snprintf(what, sizeof(what), "delegation deleted with its %zu key(s)", op->gone.n);
	if (rc == DS_OK)
		rc = audit(s, op, "deleted", what);
	free(cur);
	return rc;
}

bool deleg_op_in_config(const struct deleg_op *op)
{
	for (size_t i = 0; i < op->zone->nchildren; i++)
		if (dname_equal(op->zone->children[i].name, op->child))
			return true;
	return false;
}

int deleg_op_delete(struct store *s, struct deleg_op *op)
{
	int64_t zid;
	char zs[DNAME_STR_MAX];
	dname_to_str(op->zone->name, zs, sizeof(zs));
	if (deleg_op_in_config(op)) {
		snprintf(op->why, sizeof(op->why),
			 "%s is listed in the configuration (zone %s, children); remove it there",
			 op->name, zs);
		return DS_EINVAL;
	}
	int rc = store_begin(s);
	if (rc != DS_OK)
		return rc;
	rc = store_zone_find(s, op->zone->name, &zid);
	if (rc == DS_ENOENT)
		snprintf(op->why, sizeof(op->why), "%s is not a delegation of zone %s", op->name,
			 zs);
	if (rc == DS_OK)
		rc = deleg_op_remove(s, zid, op);
	return finish(s, rc);
}

void deleg_op_free(struct deleg_op *op)
{
	free(op->gone.k);
	op->gone.k = NULL;
	op->gone.n = op->gone.cap = 0;
}

/*
 * api/routes.c -- the route table and the handlers that only read
 * (doc/api.md has every route with its JSON).  The writers are in
 * writes.c, the configuration dump in cfgjson.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/internal.h"
#include "common/dname.h"
#include "common/err.h"
#include "common/rrtext.h"
#include "common/vec.h"
#include "outbox/outbox.h"

/* Same as dsyncd -V (daemon/main.c). */

#define PAGE_DEFAULT 100
#define PAGE_MAX 1000

/* ---- shared helpers ---- */

static json_t *time_or_null(int64_t t)
{
	return t > 0 ? json_integer((json_int_t)t) : json_null();
}

bool api_parse_id(struct api_req *q, const char *s, const char *what, int64_t *out)
{
	char *end = NULL;
	errno = 0;
	long long v = s && *s >= '0' && *s <= '9' ? strtoll(s, &end, 10) : 0;
	if (end == NULL || *end != '\0' || errno != 0 || v <= 0) {
		api_error(q, 400, "bad %s \"%.64s\": want a positive integer", what, s ? s : "");
		return false;
	}
	*out = v;
	return true;
}

/* An optional integer query parameter within [min, max]. */
static bool query_int(struct api_req *q, const char *name, int64_t min, int64_t max, int64_t def,
		      int64_t *out)
{
	const char *s = api_query(q, name);
	*out = def;
	if (s == NULL)
		return true;
	char *end = NULL;
	errno = 0;
	long long v = (*s >= '0' && *s <= '9') || *s == '-' ? strtoll(s, &end, 10) : 0;
	if (end == NULL || *end != '\0' || errno != 0 || v < min || v > max) {
		api_error(q, 400, "%s must be an integer from %lld to %lld", name, (long long)min,
			  (long long)max);
		return false;
	}
	*out = v;
	return true;
}

static bool query_limit(struct api_req *q, size_t *limit)
{
	int64_t v;
	if (!query_int(q, "limit", 1, PAGE_MAX, PAGE_DEFAULT, &v))
		return false;
	*limit = (size_t)v;
	return true;
}

static bool parse_name(struct api_req *q, const char *s, const char *what, uint8_t out[DNAME_MAX])
{
	if (s == NULL || *s == '\0' || dname_from_str(s, out) < 0) {
		api_error(q, 400, "bad %s name \"%.255s\"", what, s ? s : "");
		return false;
	}
	return true;
}

static void store_failed(struct api_req *q, int rc)
{
	api_error(q, rc == DS_EBUSY ? 503 : 500, "store error: %s", ds_strerror(rc));
}

/* A list page: {"items": items, "next": next}. */
static void page(struct api_req *q, json_t *items, json_t *next)
{
	api_json(q, 200, json_pack("{s:o,s:o}", "items", items, "next", next ? next : json_null()));
}

/* The page, or the store's error rc (items and next then dropped). */
static void page_done(struct api_req *q, json_t *items, json_t *next, int rc)
{
	if (rc != DS_OK || items == NULL) {
		json_decref(items);
		json_decref(next);
		store_failed(q, rc != DS_OK ? rc : DS_ENOMEM);
		return;
	}
	page(q, items, next);
}

bool api_find_child(struct api_req *q, const char *s, const struct cfg_zone **zone,
		    int64_t *child_id, uint8_t child[DNAME_MAX])
{
	const struct cfg *c = q->cfg;
	const struct cfg_zone *best = NULL;
	char name[DNAME_STR_MAX];
	if (!parse_name(q, s, "child", child))
		return false;
	dname_to_str(child, name, sizeof(name));
	for (size_t i = 0; i < c->nzones; i++)
		if (dname_is_strict_sub(child, c->zones[i].name) &&
		    (best == NULL || dname_labels(c->zones[i].name) > dname_labels(best->name)))
			best = &c->zones[i];
	if (best == NULL) {
		api_error(q, 404, "no configured zone is a parent of %s", name);
		return false;
	}
	int64_t zid;
	int rc = store_zone_find(q->a->store, best->name, &zid);
	if (rc == DS_OK)
		rc = store_child_find(q->a->store, zid, child, child_id);
	if (rc == DS_ENOENT) {
		char z[DNAME_STR_MAX];
		dname_to_str(best->name, z, sizeof(z));
		api_error(q, 404, "%s is not a delegation of zone %s", name, z);
		return false;
	}
	if (rc != DS_OK) {
		store_failed(q, rc);
		return false;
	}
	*zone = best;
	return true;
}

/* ---- keys ---- */

json_t *api_key_json(struct api_req *q, const struct store_key *k)
{
	char text[8192];
	struct store_validation v;
	json_t *val = json_null();
	if (rr_to_str(k->owner, 3600, T_KEY, k->rdata, k->rdlen, text, sizeof(text)) != DS_OK)
		snprintf(text, sizeof(text), "?");
	if (store_validation_get(q->a->store, k->id, &v) == DS_OK)
		val = json_pack("{s:b,s:i,s:i,s:o,s:s}", "pending", v.next_at >= 0, "attempts",
				(int)v.attempts, "rounds", (int)v.rounds, "next_time",
				v.next_at >= 0 ? json_integer((json_int_t)v.next_at) : json_null(),
				"last_result", v.last_result);
	char name[DNAME_STR_MAX + 16];
	key_name(q->a->store, k, name, sizeof(name));
	return json_pack("{s:I,s:s,s:i,s:i,s:i,s:s,s:s?,s:s,s:I,s:I,s:s,s:o?}", "id",
			 (json_int_t)k->id, "name", name, "tag", (int)k->tag, "algorithm",
			 (int)k->alg, "flags", (int)k->flags, "state",
			 store_key_state_str(k->state), "trust_method",
			 k->trust_method[0] ? k->trust_method : NULL, "source", k->source,
			 "created", (json_int_t)k->created, "updated", (json_int_t)k->updated,
			 "key", text, "validation", val);
}

static json_t *keys_json(struct api_req *q, int64_t child_id)
{
	struct keyrows rows = {0};
	int rc = store_child_keys_foreach(q->a->store, child_id, keyrows_add, &rows);
	json_t *arr = json_array();
	for (size_t i = 0; rc == DS_OK && arr && i < rows.n; i++)
		if (json_array_append_new(arr, api_key_json(q, &rows.k[i])) != 0)
			rc = DS_ENOMEM;
	free(rows.k);
	if (rc != DS_OK || arr == NULL) {
		json_decref(arr);
		store_failed(q, rc != DS_OK ? rc : DS_ENOMEM);
		return NULL;
	}
	return arr;
}

static void h_child_keys(struct api_req *q)
{
	const struct cfg_zone *z;
	int64_t cid;
	uint8_t child[DNAME_MAX];
	if (!api_find_child(q, q->param[0], &z, &cid, child))
		return;
	json_t *arr = keys_json(q, cid);
	if (arr != NULL)
		page(q, arr, NULL);
}

/* ---- zones and children ---- */

static void h_zones(struct api_req *q)
{
	const struct cfg *c = q->cfg;
	json_t *items = json_array();
	for (size_t i = 0; items && i < c->nzones; i++) {
		const struct cfg_zone *z = &c->zones[i];
		char name[DNAME_STR_MAX];
		int64_t n = 0;
		int rc = store_zone_children(q->a->store, z->name, &n);
		if (rc != DS_OK && rc != DS_ENOENT) {
			json_decref(items);
			store_failed(q, rc);
			return;
		}
		json_t *methods = json_array(), *backends = json_array();
		for (unsigned m = 0; methods && m < z->nboot_order; m++)
			json_array_append_new(methods,
					      json_string(cfg_boot_method_str(z->boot_order[m])));
		for (size_t b = 0; backends && b < z->nbackends; b++)
			json_array_append_new(backends, json_string(z->backends[b].name));
		dname_to_str(z->name, name, sizeof(name));
		json_array_append_new(items, json_pack("{s:s,s:I,s:o,s:o,s:b}", "name", name,
						       "children", (json_int_t)n,
						       "bootstrap_methods", methods, "backends",
						       backends, "key_rollover", z->key_rollover));
	}
	page(q, items, NULL);
}

/* Rows of one type (size bytes each) read from the store into an array. */
struct rows {
	void *v;
	size_t n, cap, size;
};

static int rows_add(struct rows *l, const void *row)
{
	char *p = vec_grow(l->v, &l->cap, l->n + 1, l->size, 16);
	if (p == NULL)
		return DS_ENOMEM;
	memcpy(p + l->n * l->size, row, l->size);
	l->v = p;
	l->n++;
	return 0;
}

static int child_add(void *arg, const struct store_child_row *c)
{
	return rows_add(arg, c);
}

struct key_counts {
	int64_t trusted, validating, waiting;
};

static int key_count(void *arg, const struct store_key *k)
{
	struct key_counts *n = arg;
	n->trusted += k->state == KEY_TRUSTED;
	n->validating += k->state == KEY_VALIDATING;
	/* waiting for the operator: as the pending queue (store_waiting_page) */
	n->waiting += k->state == KEY_KNOWN || k->state == KEY_VALIDATION_FAILED;
	return 0;
}

static json_t *child_summary(struct api_req *q, const struct store_child_row *c, struct deleg *d,
			     int *rc)
{
	char name[DNAME_STR_MAX], ns[DNAME_STR_MAX];
	struct key_counts kc = {0};
	*rc = store_deleg_load(q->a->store, c->id, d);
	if (*rc == DS_OK)
		*rc = store_child_keys_foreach(q->a->store, c->id, key_count, &kc);
	if (*rc != DS_OK)
		return NULL;
	json_t *nsl = json_array();
	size_t nds = 0, nglue = 0;
	for (size_t i = 0; nsl && i < d->n; i++) {
		const struct drr *rr = &d->rr[i];
		if (rr->type == T_NS && dname_to_str(rr->rdata, ns, sizeof(ns)) == DS_OK)
			json_array_append_new(nsl, json_string(ns));
		nds += rr->type == T_DS;
		nglue += rr->type == T_A || rr->type == T_AAAA;
	}
	dname_to_str(c->name, name, sizeof(name));
	return json_pack("{s:s,s:o,s:I,s:I,s:{s:I,s:I,s:I}}", "name", name, "ns", nsl, "ds",
			 (json_int_t)nds, "glue", (json_int_t)nglue, "keys", "trusted",
			 (json_int_t)kc.trusted, "validating", (json_int_t)kc.validating, "pending",
			 (json_int_t)kc.waiting);
}

static void h_children(struct api_req *q)
{
	uint8_t zone[DNAME_MAX], after[DNAME_MAX];
	const char *as = api_query(q, "after");
	size_t limit;
	if (!parse_name(q, q->param[0], "zone", zone) || !query_limit(q, &limit) ||
	    (as != NULL && !parse_name(q, as, "cursor (child)", after)))
		return;
	if (cfg_zone_find(q->cfg, zone) == NULL) {
		api_error(q, 404, "zone %.255s is not configured", q->param[0]);
		return;
	}
	struct rows rows = {.size = sizeof(struct store_child_row)};
	struct deleg *d = malloc(sizeof(*d));
	/* one row more than asked tells whether there is a next page */
	int rc = d ? store_children_page(q->a->store, zone, as ? after : NULL, limit + 1, child_add,
					 &rows)
		   : DS_ENOMEM;
	const struct store_child_row *cr = rows.v;
	json_t *items = json_array(), *next = NULL;
	for (size_t i = 0; rc == DS_OK && items && i < rows.n && i < limit; i++) {
		json_t *c = child_summary(q, &cr[i], d, &rc);
		if (c != NULL)
			json_array_append_new(items, c);
	}
	if (rc == DS_OK && rows.n > limit) {
		char name[DNAME_STR_MAX];
		dname_to_str(cr[limit - 1].name, name, sizeof(name));
		next = json_string(name);
	}
	free(rows.v);
	free(d);
	if (rc == DS_ENOENT) {
		json_decref(items);
		page(q, json_array(), NULL); /* configured, but no child stored yet */
		return;
	}
	page_done(q, items, next, rc);
}

static void h_child(struct api_req *q)
{
	api_child_answer(q, 200);
}

void api_child_answer(struct api_req *q, unsigned status)
{
	const struct cfg_zone *z;
	int64_t cid;
	uint8_t child[DNAME_MAX];
	char name[DNAME_STR_MAX], zname[DNAME_STR_MAX], line[1024];
	if (!api_find_child(q, q->param[0], &z, &cid, child))
		return;
	struct deleg *d = malloc(sizeof(*d));
	int rc = d ? store_deleg_load(q->a->store, cid, d) : DS_ENOMEM;
	if (rc != DS_OK) {
		free(d);
		store_failed(q, rc);
		return;
	}
	json_t *lines = json_array();
	for (size_t i = 0; lines && i < d->n; i++) {
		const struct drr *rr = &d->rr[i];
		if (rr_to_str(rr->owner, rr->ttl, rr->type, rr->rdata, rr->rdlen, line,
			      sizeof(line)) == DS_OK)
			json_array_append_new(lines, json_string(line));
	}
	free(d);
	json_t *keys = keys_json(q, cid);
	if (keys == NULL) {
		json_decref(lines);
		return;
	}
	dname_to_str(child, name, sizeof(name));
	dname_to_str(z->name, zname, sizeof(zname));
	api_json(q, status,
		 json_pack("{s:s,s:s,s:o,s:o}", "name", name, "zone", zname, "delegation", lines,
			   "keys", keys));
}

/* ---- keys waiting for the operator, validations ---- */

/* "at-apex,unsigned" as a JSON list, "manual" added when manual. */
static json_t *methods_json(const char *list, bool manual)
{
	json_t *a = json_array();
	for (const char *p = list; a && *p;) {
		size_t n = strcspn(p, ",");
		json_array_append_new(a, json_stringn(p, n));
		p += n + (p[n] == ',');
	}
	if (a && manual)
		json_array_append_new(a, json_string("manual"));
	return a ? a : json_null();
}

struct waiting_page {
	json_t *items;
	size_t n, limit;
	int64_t now, last_since, last_id;
};

static int waiting_add(void *arg, const struct store_waiting *w)
{
	struct waiting_page *p = arg;
	char name[DNAME_STR_MAX + 16], zone[DNAME_STR_MAX], child[DNAME_STR_MAX];
	if (++p->n > p->limit)
		return 0; /* the extra row: there is a next page */
	p->last_since = w->since;
	p->last_id = w->key_id;
	key_name_fmt(w->child, w->tag, w->alg, w->tag_shared, name, sizeof(name));
	dname_to_str(w->zone, zone, sizeof(zone));
	dname_to_str(w->child, child, sizeof(child));
	int64_t age = p->now - w->since;
	json_t *o = json_pack(
	    "{s:I,s:s,s:s,s:s,s:i,s:i,s:s,s:I,s:I,s:I,s:o,s:i,s:o}", "id", (json_int_t)w->key_id,
	    "key", name, "zone", zone, "child", child, "tag", (int)w->tag, "algorithm", (int)w->alg,
	    "state", store_key_state_str(w->state), "arrived", (json_int_t)w->created,
	    "waiting_since", (json_int_t)w->since, "age", (json_int_t)(age > 0 ? age : 0),
	    "methods", methods_json(w->methods, w->state == KEY_KNOWN), "attempts",
	    (int)w->attempts, "last_result",
	    api_json_text(w->validated && w->last_result[0] ? w->last_result : NULL));
	return o == NULL || json_array_append_new(p->items, o) != 0 ? DS_ENOMEM : DS_OK;
}

/* The keys waiting for the operator, longest waiting first; the cursor is
 * "<waiting_since>:<key id>" (their order). */
static void h_pending(struct api_req *q)
{
	size_t limit;
	long long since = 0, id = 0;
	const char *as = api_query(q, "after");
	int used = 0;
	if (!query_limit(q, &limit))
		return;
	if (as != NULL &&
	    (sscanf(as, "%lld:%lld%n", &since, &id, &used) != 2 || as[used] != '\0' || id <= 0)) {
		api_error(q, 400, "bad cursor \"%.64s\": want <waiting_since>:<key id>", as);
		return;
	}
	struct waiting_page p = {.items = json_array(), .limit = limit, .now = (int64_t)time(NULL)};
	int rc = p.items ? store_waiting_page(q->a->store, since, id, limit + 1, waiting_add, &p)
			 : DS_ENOMEM;
	json_t *next = NULL;
	if (rc == DS_OK && p.n > limit) {
		char cur[48];
		snprintf(cur, sizeof(cur), "%lld:%lld", (long long)p.last_since,
			 (long long)p.last_id);
		next = json_string(cur);
	}
	page_done(q, p.items, next, rc);
}

static int vrow_add(void *arg, const struct store_validation *v)
{
	return rows_add(arg, v);
}

/* The cursor of the validations is "<next_time>:<key id>" (their order). */
static void h_validations(struct api_req *q)
{
	size_t limit;
	long long at = 0, id = 0;
	const char *as = api_query(q, "after");
	int used = 0;
	if (!query_limit(q, &limit))
		return;
	if (as != NULL &&
	    (sscanf(as, "%lld:%lld%n", &at, &id, &used) != 2 || as[used] != '\0' || id <= 0)) {
		api_error(q, 400, "bad cursor \"%.64s\": want <next_time>:<key id>", as);
		return;
	}
	struct rows rows = {.size = sizeof(struct store_validation)};
	int rc = store_validations_page(q->a->store, at, id, limit + 1, vrow_add, &rows);
	const struct store_validation *vr = rows.v;
	json_t *items = json_array(), *next = NULL;
	struct store_key *k = malloc(sizeof(*k));
	char child[DNAME_STR_MAX], name[DNAME_STR_MAX + 16];
	if (k == NULL)
		rc = DS_ENOMEM;
	for (size_t i = 0; rc == DS_OK && items && i < rows.n && i < limit; i++) {
		const struct store_validation *v = &vr[i];
		rc = store_key_get(q->a->store, v->key_id, k);
		if (rc != DS_OK)
			break;
		dname_to_str(k->owner, child, sizeof(child));
		key_name(q->a->store, k, name, sizeof(name));
		json_array_append_new(
		    items, json_pack("{s:I,s:s,s:s,s:i,s:i,s:o,s:i,s:i,s:o,s:s}", "key_id",
				     (json_int_t)v->key_id, "key", name, "child", child, "tag",
				     (int)k->tag, "algorithm", (int)k->alg, "methods",
				     methods_json(v->methods, false), "attempts", (int)v->attempts,
				     "rounds", (int)v->rounds, "next_time",
				     time_or_null(v->next_at), "last_result", v->last_result));
	}
	if (rc == DS_OK && rows.n > limit) {
		char cur[48];
		snprintf(cur, sizeof(cur), "%lld:%lld", (long long)vr[limit - 1].next_at,
			 (long long)vr[limit - 1].key_id);
		next = json_string(cur);
	}
	free(k);
	free(rows.v);
	page_done(q, items, next, rc);
}

/* ---- audit ---- */

/* A page of rows by id (audit, outbox): limit + 1 are read, the extra one
 * only says that there is a next page, after the last id shown. */
struct id_page {
	json_t *items;
	int64_t last;
	size_t n, limit;
};

/* Count a row of id; false for the extra one (not shown). */
static bool page_take(struct id_page *p, int64_t id)
{
	if (++p->n > p->limit)
		return false;
	p->last = id;
	return true;
}

/* Append o (NULL: it could not be made) to the page. */
static int page_push(struct id_page *p, json_t *o)
{
	return o == NULL || json_array_append_new(p->items, o) != 0 ? DS_ENOMEM : 0;
}

/* Answer the page read with result rc. */
static void page_answer(struct api_req *q, struct id_page *p, int rc)
{
	bool more = rc == DS_OK && p->n > p->limit;
	page_done(q, p->items, more ? json_integer((json_int_t)p->last) : NULL, rc);
}

static int audit_add(void *arg, const struct audit_row *r)
{
	struct id_page *p = arg;
	if (!page_take(p, r->id))
		return 0;
	const struct audit_rec *a = &r->a;
	/* rows written before the request text was escaped may hold any byte */
	json_t *o = json_pack(
	    "{s:I,s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:i,s:o}", "id", (json_int_t)r->id, "time",
	    (json_int_t)a->time, "client", api_json_text(a->client), "zone", api_json_text(a->zone),
	    "child", api_json_text(a->child), "key_tag",
	    a->key_tag >= 0 ? json_integer(a->key_tag) : json_null(), "actor",
	    api_json_text(a->actor), "request", api_json_text(a->request), "result",
	    api_json_text(a->result), "rcode", a->rcode, "reason", api_json_text(a->reason));
	return page_push(p, o);
}

static void h_audit(struct api_req *q)
{
	struct audit_filter f = {0};
	size_t limit;
	int64_t after, since, until;
	uint8_t child[DNAME_MAX];
	char cname[DNAME_STR_MAX];
	const char *cs = api_query(q, "child");
	if (!query_limit(q, &limit) || !query_int(q, "after", 1, INT64_MAX, 0, &after) ||
	    !query_int(q, "since", 0, INT64_MAX, 0, &since) ||
	    !query_int(q, "until", 0, INT64_MAX, 0, &until) ||
	    (cs != NULL && !parse_name(q, cs, "child", child)))
		return;
	if (cs != NULL) {
		dname_to_str(child, cname, sizeof(cname));
		f.child = cname;
	}
	f.result = api_query(q, "result");
	if (f.result != NULL && (strlen(f.result) == 0 || strlen(f.result) > 32)) {
		api_error(q, 400, "result must have 1 to 32 characters");
		return;
	}
	f.since = since;
	f.until = until;
	struct id_page p = {.items = json_array(), .limit = limit};
	int rc = p.items ? store_audit_page(q->a->store, &f, after, limit + 1, audit_add, &p)
			 : DS_ENOMEM;
	page_answer(q, &p, rc);
}

/* ---- outbox ---- */

json_t *api_delivery_json(const struct delivery_row *d)
{
	return json_pack("{s:I,s:I,s:s?,s:s?,s:s?,s:s?,s:i,s:o,s:o,s:s?,s:I,s:o,s:s?}", "id",
			 (json_int_t)d->id, "change_id", (json_int_t)d->change_id, "zone", d->zone,
			 "child", d->child, "backend", d->backend, "state", d->state, "attempts",
			 d->attempts, "next_attempt",
			 d->delivered_at >= 0 ? json_null() : time_or_null(d->next_attempt),
			 "last_attempt", time_or_null(d->last_attempt), "last_error", d->last_error,
			 "created", (json_int_t)d->created, "delivered_time",
			 time_or_null(d->delivered_at), "changes", d->changes);
}

static int delivery_add(void *arg, const struct delivery_row *d)
{
	struct id_page *p = arg;
	return page_take(p, d->id) ? page_push(p, api_delivery_json(d)) : 0;
}

static void h_outbox(struct api_req *q)
{
	size_t limit;
	int64_t after;
	const char *state = api_query(q, "state");
	if (!query_limit(q, &limit) || !query_int(q, "after", 1, INT64_MAX, 0, &after))
		return;
	if (state != NULL && strcmp(state, "pending") != 0 && strcmp(state, "done") != 0 &&
	    strcmp(state, "all") != 0) {
		api_error(q, 400, "state must be pending, done or all");
		return;
	}
	if (state != NULL && strcmp(state, "all") == 0)
		state = NULL;
	struct id_page p = {.items = json_array(), .limit = limit};
	int rc = p.items
		     ? store_deliveries_page(q->a->store, state, after, limit + 1, delivery_add, &p)
		     : DS_ENOMEM;
	page_answer(q, &p, rc);
}

/* ---- delivery per backend ---- */

/* n as JSON when the pair has a pending change, else null. */
static json_t *if_pending(const struct delivery_status *st, int64_t n)
{
	return st->pending > 0 ? json_integer((json_int_t)n) : json_null();
}

static int backend_add(void *arg, const struct cfg_zone *zone, const struct cfg_backend *b,
		       const struct delivery_status *st)
{
	int64_t now = (int64_t)time(NULL), age = now - st->oldest_created;
	char name[DNAME_STR_MAX];
	dname_to_str(zone->name, name, sizeof(name));
	json_t *o = json_pack(
	    "{s:s,s:s,s:s,s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "zone", name, "backend", b->name,
	    "type", b->type, "pending", (json_int_t)st->pending, "oldest_age",
	    if_pending(st, age > 0 ? age : 0), "oldest_created", if_pending(st, st->oldest_created),
	    "oldest_attempts", if_pending(st, st->oldest_attempts), "next_attempt",
	    if_pending(st, st->oldest_next_attempt), "last_success_time",
	    time_or_null(st->last_success), "last_failure_time", time_or_null(st->last_failure),
	    "last_error", api_json_text(st->last_error[0] ? st->last_error : NULL));
	return o == NULL || json_array_append_new(arg, o) != 0 ? DS_ENOMEM : DS_OK;
}

static void h_backends(struct api_req *q)
{
	json_t *items = json_array();
	int rc = items ? outbox_status(q->cfg, q->a->store, backend_add, items) : DS_ENOMEM;
	page_done(q, items, NULL, rc);
}

/* ---- the receiver's key ---- */

/* The timing of a key from its .private file (named as BIND names it). */
static bool rkey_times(const struct cfg *c, const struct sig0_key *k, struct sig0_key_times *t)
{
	uint8_t lower[DNAME_MAX];
	char name[DNAME_STR_MAX], path[2048];
	dname_lower(lower, sig0_key_owner(k));
	dname_to_str(lower, name, sizeof(name));
	snprintf(path, sizeof(path), "%s/K%s+%03u+%05u", c->receiver.key_dir, name, sig0_key_alg(k),
		 sig0_key_tag(k));
	return sig0_key_times_read(path, t) == DS_OK;
}

json_t *api_rkeys_json(struct api_req *q)
{
	const struct cfg *c = q->cfg;
	if (!c->receiver.enabled) {
		api_error(q, 404, "no receiver key: receiver.name is not set (or sign is off)");
		return NULL;
	}
	struct rkeys *set;
	int rc = rkeys_load(c, false, &set);
	if (rc != DS_OK) {
		api_error(q, 500, "cannot read the receiver keys in %s", c->receiver.key_dir);
		return NULL;
	}
	int64_t now = (int64_t)time(NULL);
	const struct sig0_key *pub[16], *act = rkeys_active(set, now);
	size_t npub = rkeys_published(set, now, pub, 16), nshown = npub;
	/* the published keys, and the signing one should it not be published */
	bool seen = act == NULL;
	for (size_t i = 0; i < npub; i++)
		seen |= pub[i] == act;
	if (!seen && nshown < 16)
		pub[nshown++] = act;
	char name[DNAME_STR_MAX], text[8192];
	json_t *keys = json_array();
	for (size_t i = 0; keys && i < nshown; i++) {
		size_t rdlen;
		const uint8_t *rd = sig0_key_rdata(pub[i], &rdlen);
		struct sig0_key_times t = {0};
		if (!rkey_times(c, pub[i], &t))
			memset(&t, 0, sizeof(t)); /* shown as null */
		if (rr_to_str(c->receiver.name, c->receiver.publish_ttl, T_KEY, rd, rdlen, text,
			      sizeof(text)) != DS_OK)
			snprintf(text, sizeof(text), "?");
		json_array_append_new(keys, json_pack("{s:i,s:i,s:b,s:b,s:s,s:o,s:o,s:o,s:o}",
						      "tag", (int)sig0_key_tag(pub[i]), "algorithm",
						      (int)sig0_key_alg(pub[i]), "active",
						      pub[i] == act, "published", i < npub, "key",
						      text, "publish_time", time_or_null(t.publish),
						      "activate_time", time_or_null(t.activate),
						      "inactive_time", time_or_null(t.inactive),
						      "delete_time", time_or_null(t.removal)));
	}
	rkeys_free(set);
	dname_to_str(c->receiver.name, name, sizeof(name));
	return json_pack("{s:s,s:o}", "name", name, "keys", keys);
}

static void h_rkey(struct api_req *q)
{
	json_t *v = api_rkeys_json(q);
	if (v != NULL)
		api_json(q, 200, v);
}

/* ---- records, config, health, metrics ---- */

static int records_to(struct api_req *q, const char *zone, FILE *f)
{
	return keys_records(q->cfg, zone, f);
}

static void h_records(struct api_req *q)
{
	char *text;
	size_t len;
	int rc;
	if (!api_capture(q, records_to, api_query(q, "zone"), &text, &len, &rc))
		return;
	if (rc == DS_OK) {
		api_text(q, 200, "text/plain; charset=utf-8", text, len);
		return;
	}
	api_error(q, rc == DS_ENOENT || rc == DS_ECONFIG ? 404 : 500, "%s",
		  text && *text ? text : ds_strerror(rc));
	free(text);
}

/*
 * The drift check of a zone (outbox_check): its report, one line each, and
 * whether every checked backend's target holds what the store holds; with
 * repair (POST), re-syncs of the children that differ are queued.
 */
static void check_zone(struct api_req *q, bool repair)
{
	uint8_t zone[DNAME_MAX];
	char *text = NULL;
	size_t len = 0;
	if (!parse_name(q, q->param[0], "zone", zone))
		return;
	if (cfg_zone_find(q->cfg, zone) == NULL) {
		api_error(q, 404, "zone %.255s is not configured", q->param[0]);
		return;
	}
	FILE *f = open_memstream(&text, &len);
	int rc = f ? outbox_check(q->cfg, q->param[0], repair, f) : DS_ENOMEM;
	if (f)
		fclose(f);
	json_t *lines = json_array();
	for (char *l = text, *e; lines && l && *l; l = e + (*e != '\0')) {
		e = l + strcspn(l, "\n");
		json_array_append_new(lines, json_stringn(l, (size_t)(e - l)));
	}
	free(text);
	if (rc != DS_OK && rc != DS_EEXIST) {
		json_decref(lines);
		api_error(q, 502, "the check could not be completed: %s", ds_strerror(rc));
		return;
	}
	/* a repair changed the outbox: audited, as every write of the API */
	if (repair && rc == DS_EEXIST &&
	    api_audit(q, q->param[0], NULL, "re-synced", "drift check: re-syncs queued") != DS_OK) {
		json_decref(lines);
		store_failed(q, DS_ESTORE);
		return;
	}
	api_json(q, 200,
		 json_pack("{s:s,s:b,s:o}", "zone", q->param[0], "in_sync", rc == DS_OK, "report",
			   lines ? lines : json_array()));
}

static void h_check(struct api_req *q)
{
	check_zone(q, false);
}

void api_check_repair(struct api_req *q)
{
	check_zone(q, true);
}

static void h_config(struct api_req *q)
{
	api_json(q, 200, api_config_json(q->cfg));
}

static int metrics_to(struct api_req *q, const char *unused, FILE *f)
{
	(void)unused;
	int rc = q->a->env.metrics(q->a->env.arg, q->cfg, q->a->store, f);
	return rc == DS_OK ? api_ready_metric(q->a, q->cfg, f) : rc;
}

static void h_metrics(struct api_req *q)
{
	char *text;
	size_t len;
	int rc;
	if (!api_capture(q, metrics_to, NULL, &text, &len, &rc))
		return;
	if (rc != DS_OK) {
		free(text);
		store_failed(q, rc);
		return;
	}
	api_text(q, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
}

// clang-format off
const struct api_route api_routes[] = {
	/* method    path                                  role            query parameters       handler */
	{"GET",    "/healthz",                           API_ROLE_NONE,  "",                      api_healthz},
	{"GET",    "/readyz",                            API_ROLE_NONE,  "",                      api_readyz},
	{"GET",    "/metrics",                           API_ROLE_READ,  "",                      h_metrics},
	{"GET",    "/api/v1/zones",                      API_ROLE_READ,  "",                      h_zones},
	{"GET",    "/api/v1/zones/{zone}/children",      API_ROLE_READ,  "after limit",           h_children},
	{"GET",    "/api/v1/zones/{zone}/check",         API_ROLE_READ,  "",                      h_check},
	{"POST",   "/api/v1/zones/{zone}/check/repair",  API_ROLE_ADMIN, "",                      api_check_repair},
	{"GET",    "/api/v1/children/{child}",           API_ROLE_READ,  "",                      h_child},
	{"POST",   "/api/v1/children/{child}",           API_ROLE_ADMIN, "",                      api_child_add},
	{"DELETE", "/api/v1/children/{child}",           API_ROLE_ADMIN, "",                      api_child_delete},
	{"GET",    "/api/v1/children/{child}/keys",      API_ROLE_READ,  "",                      h_child_keys},
	{"POST",   "/api/v1/children/{child}/keys",      API_ROLE_ADMIN, "",                      api_key_add},
	{"POST",   "/api/v1/keys/{key}/trust",           API_ROLE_ADMIN, "",                      api_key_trust},
	{"POST",   "/api/v1/keys/{key}/revoke",          API_ROLE_ADMIN, "",                      api_key_revoke},
	{"DELETE", "/api/v1/keys/{key}",                 API_ROLE_ADMIN, "",                      api_key_delete},
	{"GET",    "/api/v1/pending",                    API_ROLE_READ,  "after limit",           h_pending},
	{"GET",    "/api/v1/validations",                API_ROLE_READ,  "after limit",           h_validations},
	{"GET",    "/api/v1/audit",                      API_ROLE_READ,  "child result since until after limit", h_audit},
	{"GET",    "/api/v1/outbox",                     API_ROLE_READ,  "state after limit",     h_outbox},
	{"POST",   "/api/v1/outbox/{delivery_id}/retry", API_ROLE_ADMIN, "",                      api_outbox_retry},
	{"GET",    "/api/v1/backends",                   API_ROLE_READ,  "",                      h_backends},
	{"GET",    "/api/v1/receiver-key",               API_ROLE_READ,  "",                      h_rkey},
	{"POST",   "/api/v1/receiver-key/roll",          API_ROLE_ADMIN, "",                      api_rkey_roll},
	{"GET",    "/api/v1/records",                    API_ROLE_READ,  "zone",                  h_records},
	{"GET",    "/api/v1/config",                     API_ROLE_READ,  "",                      h_config},
	{"POST",   "/api/v1/reload",                     API_ROLE_ADMIN, "",                      api_reload},
	{"GET",    "/api/v1/whoami",                     API_ROLE_READ,  "",                      api_whoami},
	{"GET",    "/api/v1/stats/updates",              API_ROLE_READ,  "minutes",               api_stats_updates},
	{NULL,     NULL,                                 API_ROLE_NONE,  NULL,                    NULL},
};
// clang-format on

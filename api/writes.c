/*
 * api/writes.c -- the handlers that change something: child keys (add,
 * trust, revoke, delete), a child's delegation (create, delete), a
 * delivery's retry, the receiver key's roll.
 *
 * Each change is one store transaction with its audit rows (actor
 * "api:<token name>"); a failure rolls everything back.  After the commit
 * the running receiver learns of it at once: changed keys go into the key
 * cache (a deleted key as revoked, so that it stops verifying), a retried
 * delivery kicks the outbox, a rolled receiver key makes the I/O loop read
 * the key folder again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/internal.h"
#include "common/dname.h"
#include "common/err.h"
#include "common/log.h"
#include "common/wire.h"
#include "common/zonefile.h"
#include "keys/deleg_ops.h"
#include "keystate/keystate.h"
#include "outbox/outbox.h"

#define REASON_MAX 200

static const char *const reason_only[] = {"reason:s", NULL};

/* One line of 1 to REASON_MAX bytes, no control characters. */
static bool reason_ok(const char *r)
{
	size_t n = strlen(r);
	bool ok = n > 0 && n <= REASON_MAX;
	for (size_t i = 0; ok && i < n; i++)
		ok = (unsigned char)r[i] >= ' ' && r[i] != 0x7f;
	return ok;
}

/*
 * The optional "reason" of the body, for the audit row: one line of at most
 * REASON_MAX characters.  False (answer set) when the body is wrong.
 */
bool api_body_reason(struct api_req *q, char *out, size_t len, const char *dflt)
{
	json_t *b = api_body(q, reason_only, false);
	if (b == NULL)
		return false;
	const char *r = json_string_value(json_object_get(b, "reason"));
	if (r != NULL && !reason_ok(r)) {
		api_error(q, 400, "field \"reason\" must be one line of 1 to %d characters",
			  REASON_MAX);
		json_decref(b);
		return false;
	}
	snprintf(out, len, "%s%s%s", dflt, r ? ": " : "", r ? r : "");
	json_decref(b);
	return true;
}

/* The changed keys into the running receiver's cache. */
static void cache_put(struct api_req *q, const struct keyrows *changed)
{

	for (size_t i = 0; i < changed->n; i++)
		keycache_put(q->a->env.keys, &changed->k[i], &q->cfg->limits);
}

/* Answer 200/201 with key id as it is now. */
static void answer_key(struct api_req *q, unsigned status, int64_t id)
{
	struct store_key *k = malloc(sizeof(*k));
	int rc = k ? store_key_get(q->a->store, id, k) : DS_ENOMEM;
	if (rc == DS_OK)
		api_json(q, status, api_key_json(q, k));
	else
		api_error(q, 500, "the change was made, but the key cannot be read: %s",
			  ds_strerror(rc));
	free(k);
}

/* End a transaction that failed; answer 500 unless an answer is set. */
static void abort_txn(struct api_req *q, int rc)
{
	store_rollback(q->a->store);
	if (q->status == 0)
		api_error(q, rc == DS_EBUSY ? 503 : 500, "store error, nothing changed: %s",
			  ds_strerror(rc));
}

/* "key ID (CHILD/TAG)" for log lines and errors. */
static void key_what(struct api_req *q, const struct store_key *k, char *out, size_t len)
{
	char n[DNAME_STR_MAX + 16];
	key_name(q->a->store, k, n, sizeof(n));
	snprintf(out, len, "key %lld (%s)", (long long)k->id, n);
}

/*
 * The id of the key that the path's {key} names: its id, CHILD/TAG or
 * CHILD/TAG/ALG (keys/name.c).  False, answered, when it names none (400
 * malformed, 404 no such key, 409 several keys: the candidates).
 */
static bool find_key(struct api_req *q, int64_t *id)
{
	char why[1024];
	struct store_key *k = malloc(sizeof(*k));
	int rc = k ? key_lookup(q->cfg, q->a->store, q->param[0], k, why, sizeof(why)) : DS_ENOMEM;
	if (rc == DS_OK)
		*id = k->id;
	else if (rc == DS_EINVAL || rc == DS_ENOENT || rc == DS_EEXIST)
		api_error(q, rc == DS_EINVAL ? 400 : rc == DS_ENOENT ? 404 : 409, "%s", why);
	else
		api_error(q, rc == DS_EBUSY ? 503 : 500, "store error: %s", ds_strerror(rc));
	free(k);
	return rc == DS_OK;
}

/* A key operation by this request's actor, for the audit row's reason. */
static struct key_op *op_new(struct api_req *q, const char *reason)
{
	struct key_op *op = calloc(1, sizeof(*op));
	if (op != NULL) {
		op->actor = q->actor;
		op->reason = reason;
	}
	return op;
}

static void op_free(struct key_op *op)
{
	if (op != NULL)
		key_op_free(op);
	free(op);
}

/* Answer a key operation that changed nothing (op NULL: out of memory):
 * what refused it, or the store's error.  Key id is the one asked for. */
static void op_failed(struct api_req *q, const struct key_op *op, int64_t id, int rc)
{
	char c[DNAME_STR_MAX];
	const struct cfg_key *ck = op != NULL ? op->in_config : NULL;
	if (op != NULL)
		dname_to_str(op->key.owner, c, sizeof(c));
	switch (op != NULL ? op->refusal : KEY_OP_ALLOWED) {
	case KEY_OP_NO_KEY:
		api_error(q, 404, "no key with id %lld", (long long)id);
		break;
	case KEY_OP_IN_CONFIG:
		/* it would come back trusted at the next start */
		api_error(q, 409,
			  "key %lld of %s is listed in the configuration (%s); remove it there",
			  (long long)op->key.id, c, ck->source[0] ? ck->source : "place unknown");
		break;
	case KEY_OP_DUPLICATE:
		api_error(q, 409, "%s has this key already: id %lld, state %s", c,
			  (long long)op->other_id, store_key_state_str(op->other_state));
		break;
	default:
		api_error(q, rc == DS_EBUSY ? 503 : 500, "store error, nothing changed: %s",
			  ds_strerror(rc));
	}
}

static void transition(struct api_req *q, enum ks_event ev)
{
	int64_t id;
	char reason[REASON_MAX + 64], what[DNAME_STR_MAX + 64];
	const char *verb = ev == KS_EV_OPERATOR_TRUST ? "trusted" : "revoked";
	if (!find_key(q, &id) ||
	    !api_body_reason(q, reason, sizeof(reason), "through the admin API"))
		return;
	struct key_op *op = op_new(q, reason);
	int rc = op ? key_op_transition(q->cfg, q->a->store, id, ev, op) : DS_ENOMEM;
	if (op != NULL)
		key_what(q, &op->key, what, sizeof(what));
	if (rc == DS_OK) {
		cache_put(q, &op->changed);
		log_notice("api: %s %s by %s (%zu key(s) changed)", what, verb, q->actor,
			   op->changed.n);
		answer_key(q, 200, id);
	} else if (op != NULL && op->refusal == KEY_OP_WRONG_STATE) {
		api_error(q, 409, "%s is %s; it cannot be %s", what,
			  store_key_state_str(op->key.state), verb);
	} else {
		op_failed(q, op, id, rc);
	}
	op_free(op);
}

void api_key_trust(struct api_req *q)
{
	transition(q, KS_EV_OPERATOR_TRUST);
}

void api_key_revoke(struct api_req *q)
{
	transition(q, KS_EV_OPERATOR_REVOKE);
}

void api_key_delete(struct api_req *q)
{
	int64_t id;
	char reason[REASON_MAX + 64], what[DNAME_STR_MAX + 64];
	if (!find_key(q, &id) ||
	    !api_body_reason(q, reason, sizeof(reason), "through the admin API"))
		return;
	struct key_op *op = op_new(q, reason);
	int rc = op ? key_op_delete(q->cfg, q->a->store, id, op) : DS_ENOMEM;
	if (op != NULL)
		key_what(q, &op->key, what, sizeof(what));
	if (rc == DS_OK) {
		/* entries never leave the cache while it lives: revoked stops it verifying */
		op->key.state = KEY_REVOKED;
		keycache_put(q->a->env.keys, &op->key, &q->cfg->limits);
		log_notice("api: %s deleted by %s", what, q->actor);
		char *none = malloc(1);
		api_text(q, 204, NULL, none, 0);
	} else if (op != NULL && op->refusal == KEY_OP_WRONG_STATE) {
		api_error(q, 409, "%s is trusted; revoke it first", what);
	} else {
		op_failed(q, op, id, rc);
	}
	op_free(op);
}

static const char *const key_fields[] = {"key:s", "reason:s", NULL};

/* The body of a key upload: its "key" text and the audit reason; NULL when answered. */
static json_t *key_add_body(struct api_req *q, const char **text, char *reason, size_t rlen)
{
	json_t *b = api_body(q, key_fields, true);
	if (b == NULL)
		return NULL;
	const char *note = json_string_value(json_object_get(b, "reason"));
	*text = json_string_value(json_object_get(b, "key"));
	if (*text == NULL) {
		api_error(q, 400, "field \"key\" is missing: want a KEY record in text");
	} else if (note != NULL && !reason_ok(note)) {
		api_error(q, 400, "field \"reason\" must be one line of 1 to %d characters",
			  REASON_MAX);
	} else {
		snprintf(reason, rlen, "key added through the admin API%s%s", note ? ": " : "",
			 note ? note : "");
		return b;
	}
	json_decref(b);
	return NULL;
}

/* The KEY record in text for child of zone z, checked, into k (rdata, rdlen, alg, tag,
 * flags); false when answered. */
static bool key_add_record(struct api_req *q, const struct cfg_zone *z, const uint8_t *child,
			   const char *text, struct store_key *k)
{
	uint8_t owner[DNAME_MAX];
	char why[256] = "", o[DNAME_STR_MAX], c[DNAME_STR_MAX];
	uint16_t type = 0;
	uint32_t ttl;
	size_t rdlen = 0;
	struct sig0_key *pk = NULL;
	if (zonefile_rr_from_str(text, owner, &type, &ttl, k->rdata, sizeof(k->rdata), &rdlen, why,
				 sizeof(why)) != DS_OK) {
		api_error(q, 400, "field \"key\" is not a record in presentation form: %s", why);
		return false;
	}
	if (type != T_KEY || rdlen < 4) {
		api_error(q, 400, "field \"key\" is not a KEY record (type %u)", type);
		return false;
	}
	if (!dname_equal(owner, child)) {
		dname_to_str(owner, o, sizeof(o));
		dname_to_str(child, c, sizeof(c));
		api_error(q, 400, "the KEY's owner %s is not the child %s", o, c);
		return false;
	}
	if (sig0_key_new(child, k->rdata, rdlen, &q->cfg->limits, &pk, why, sizeof(why)) != DS_OK) {
		api_error(q, 400, "the key is not acceptable: %s", why);
		return false;
	}
	sig0_key_free(pk);
	if (!policy_bit(z->key_alg_ok, k->rdata[3])) {
		dname_to_str(z->name, c, sizeof(c));
		api_error(q, 400,
			  "algorithm %u is not accepted for child keys of zone %s (key-algorithms)",
			  k->rdata[3], c);
		return false;
	}
	k->rdlen = (uint16_t)rdlen;
	k->alg = k->rdata[3];
	k->tag = sig0_rdata_tag(k->rdata, rdlen);
	k->flags = rd_u16(k->rdata);
	return true;
}

bool api_key_check(struct api_req *q, const struct cfg_zone *z, const uint8_t *child,
		   struct store_key *k, char *reason, size_t rlen)
{
	const char *text = NULL;
	json_t *b = key_add_body(q, &text, reason, rlen);
	bool ok = b != NULL && key_add_record(q, z, child, text, k);
	json_decref(b);
	return ok;
}

void api_key_add(struct api_req *q)
{
	const struct cfg_zone *z = NULL;
	int64_t cid = 0;
	uint8_t child[DNAME_MAX];
	char reason[REASON_MAX + 64] = "", cname[DNAME_STR_MAX];
	struct key_op *op = op_new(q, reason);
	if (op == NULL) {
		api_text(q, 500, NULL, NULL, 0);
		return;
	}
	struct store_key *k = &op->key;
	/* the child first: a key for a name that is no delegation is a 404 */
	if (!api_find_child(q, q->param[0], &z, &cid, child) ||
	    !api_key_check(q, z, child, k, reason, sizeof(reason)))
		goto out;
	k->child_id = cid;
	memcpy(k->zone, z->name, dname_len(z->name));
	memcpy(k->owner, child, dname_len(child));
	snprintf(k->source, sizeof(k->source), "added by %s from %s", q->actor, q->client);
	int rc = key_op_add(q->a->store, op);
	if (rc == DS_OK) {
		cache_put(q, &op->changed);
		dname_to_str(child, cname, sizeof(cname));
		log_notice("api: key %s tag %u added and trusted by %s", cname, k->tag, q->actor);
		answer_key(q, 201, k->id);
	} else {
		op_failed(q, op, 0, rc);
	}
out:
	op_free(op);
}

/* ---- delegations ---- */

static const char *const child_fields[] = {"ns:a", "ds:a", "glue:a", "reason:s", NULL};

/* The strings of array field a into out (at most DELEG_MAX); false when answered. */
static bool str_array(struct api_req *q, json_t *a, const char *field, const char **out, size_t *n)
{
	size_t i;
	json_t *v;
	*n = 0;
	if (json_array_size(a) > DELEG_MAX) {
		api_error(q, 400, "field \"%s\" has more than %d items", field, DELEG_MAX);
		return false;
	}
	json_array_foreach(a, i, v)
	{
		if ((out[i] = json_string_value(v)) == NULL) {
			api_error(q, 400, "field \"%s\" must hold strings", field);
			return false;
		}
	}
	*n = json_array_size(a);
	return true;
}

/* The glue objects {"name": ..., "address": ...} of a; false when answered. */
static bool glue_array(struct api_req *q, json_t *a, const char **name, const char **addr,
		       size_t *n)
{
	size_t i;
	json_t *v;
	*n = 0;
	if (json_array_size(a) > DELEG_MAX) {
		api_error(q, 400, "field \"glue\" has more than %d items", DELEG_MAX);
		return false;
	}
	json_array_foreach(a, i, v)
	{
		name[i] = json_string_value(json_object_get(v, "name"));
		addr[i] = json_string_value(json_object_get(v, "address"));
		if (!json_is_object(v) || json_object_size(v) != 2 || !name[i] || !addr[i]) {
			api_error(q, 400,
				  "field \"glue\" must hold objects {\"name\": \"...\", "
				  "\"address\": \"...\"}");
			return false;
		}
	}
	*n = json_array_size(a);
	return true;
}

/* The records of the body b into in (pointers into b); false when answered. */
static bool child_input(struct api_req *q, json_t *b, struct deleg_input *in, const char **buf)
{
	const char **ns = buf, **ds = buf + DELEG_MAX, **gn = buf + 2 * DELEG_MAX,
		   **ga = buf + 3 * DELEG_MAX;
	if (!str_array(q, json_object_get(b, "ns"), "ns", ns, &in->nns) ||
	    !str_array(q, json_object_get(b, "ds"), "ds", ds, &in->nds) ||
	    !glue_array(q, json_object_get(b, "glue"), gn, ga, &in->nglue))
		return false;
	in->ns = ns;
	in->ds = ds;
	in->glue_name = gn;
	in->glue_addr = ga;
	return true;
}

/* The operation on the route's child by this request; NULL when answered. */
struct deleg_op *api_child_op(struct api_req *q, json_t *b, char *reason, size_t len)
{
	const char *note = b ? json_string_value(json_object_get(b, "reason")) : NULL;
	if (note != NULL && !reason_ok(note)) {
		api_error(q, 400, "field \"reason\" must be one line of 1 to %d characters",
			  REASON_MAX);
		return NULL;
	}
	struct deleg_op *op = calloc(1, sizeof(*op));
	if (op == NULL) {
		api_error(q, 500, "out of memory");
		return NULL;
	}
	snprintf(reason, len, "%s", note ? note : "through the admin API");
	op->actor = q->actor;
	op->client = q->client;
	op->request = q->request;
	op->reason = reason;
	int rc = deleg_op_child(q->cfg, q->param[0], op);
	if (rc != DS_OK) {
		api_error(q, rc == DS_ENOENT ? 404 : 400, "%s", op->why);
		free(op);
		return NULL;
	}
	return op;
}

int api_child_records(struct api_req *q, json_t *b, struct deleg_op *op, struct deleg *d)
{
	struct deleg_input in = {0};
	const char **buf = calloc(4 * DELEG_MAX, sizeof(*buf));
	if (buf == NULL) {
		api_error(q, 500, "out of memory");
		return DS_ENOMEM;
	}
	int rc = child_input(q, b, &in, buf) ? deleg_op_records(&in, op, d) : DS_EINVAL;
	free(buf);
	return rc;
}

void api_child_add(struct api_req *q)
{
	char reason[REASON_MAX + 1];
	json_t *b = api_body(q, child_fields, false);
	struct deleg_op *op = b ? api_child_op(q, b, reason, sizeof(reason)) : NULL;
	struct deleg *d = op ? malloc(sizeof(*d)) : NULL;
	if (d == NULL)
		goto out;
	int rc = api_child_records(q, b, op, d);
	if (q->status != 0)
		goto out;
	if (rc == DS_OK)
		rc = deleg_op_add(q->a->store, d, op);
	if (rc == DS_OK) {
		if (op->change_id)
			outbox_kick(q->a->env.outbox);
		log_notice("api: delegation %s created by %s (%zu record(s))", op->name, q->actor,
			   d->n);
		api_child_answer(q, 201);
	} else if (rc == DS_EINVAL || rc == DS_EEXIST) {
		api_error(q, rc == DS_EEXIST ? 409 : 400, "%s", op->why);
	} else {
		abort_txn(q, rc);
	}
out:
	if (q->status == 0 && b != NULL)
		api_error(q, 500, "out of memory");
	free(d);
	free(op);
	json_decref(b);
}

void api_child_delete(struct api_req *q)
{
	char reason[REASON_MAX + 1];
	json_t *b = api_body(q, reason_only, false);
	struct deleg_op *op = b ? api_child_op(q, b, reason, sizeof(reason)) : NULL;
	int rc = op ? deleg_op_delete(q->a->store, op) : DS_OK;
	if (op == NULL) {
		/* answered */
	} else if (rc == DS_OK) {
		/* entries never leave the cache while it lives: revoked stops them verifying */
		cache_put(q, &op->gone);
		if (op->change_id)
			outbox_kick(q->a->env.outbox);
		log_notice("api: delegation %s deleted by %s with %zu key(s)", op->name, q->actor,
			   op->gone.n);
		api_text(q, 204, NULL, malloc(1), 0);
	} else if (rc == DS_ENOENT || rc == DS_EINVAL) {
		api_error(q, rc == DS_ENOENT ? 404 : 409, "%s", op->why);
	} else {
		abort_txn(q, rc);
	}
	if (op != NULL)
		deleg_op_free(op);
	free(op);
	json_decref(b);
}

/* ---- outbox ---- */

struct one_delivery {
	json_t *j;
	char zone[DNAME_STR_MAX], child[DNAME_STR_MAX], backend[64];
	bool done;
};

static int delivery_get(void *arg, const struct delivery_row *d)
{
	struct one_delivery *o = arg;
	snprintf(o->zone, sizeof(o->zone), "%s", d->zone ? d->zone : "");
	snprintf(o->child, sizeof(o->child), "%s", d->child ? d->child : "");
	snprintf(o->backend, sizeof(o->backend), "%s", d->backend ? d->backend : "");
	o->done = d->state && strcmp(d->state, "done") == 0;
	json_decref(o->j);
	o->j = api_delivery_json(d);
	return 0;
}

void api_outbox_retry(struct api_req *q)
{
	struct store *s = q->a->store;
	int64_t id;
	char reason[REASON_MAX + 64], why[REASON_MAX + 256];
	struct one_delivery d = {0};
	if (!api_parse_id(q, q->param[0], "delivery id", &id) ||
	    !api_body_reason(q, reason, sizeof(reason), "through the admin API"))
		return;
	int rc = store_begin(s);
	if (rc == DS_OK)
		rc = store_delivery_get(s, id, delivery_get, &d);
	if (rc == DS_ENOENT)
		api_error(q, 404, "no delivery with id %lld", (long long)id);
	if (rc == DS_OK && d.done) {
		api_error(q, 409, "delivery %lld was delivered already", (long long)id);
		rc = DS_EEXIST;
	}
	if (rc == DS_OK)
		rc = store_delivery_retry(s, id, (int64_t)time(NULL));
	if (rc == DS_EEXIST && q->status == 0)
		api_error(q, 409, "delivery %lld was delivered already", (long long)id);
	if (rc == DS_OK) {
		snprintf(why, sizeof(why), "delivery %lld to backend %s made due now %s",
			 (long long)id, d.backend, reason);
		rc = api_audit(q, d.zone[0] ? d.zone : NULL, d.child[0] ? d.child : NULL, "retried",
			       why);
	}
	if (rc == DS_OK)
		rc = store_commit(s);
	json_decref(d.j);
	d.j = NULL;
	if (rc != DS_OK) {
		abort_txn(q, rc);
		return;
	}
	outbox_kick(q->a->env.outbox);
	log_notice("api: delivery %lld retried by %s", (long long)id, q->actor);
	rc = store_delivery_get(s, id, delivery_get, &d);
	if (rc == DS_OK && d.j != NULL)
		api_json(q, 200, d.j);
	else
		api_error(q, 500, "the retry was made, but the delivery cannot be read: %s",
			  ds_strerror(rc != DS_OK ? rc : DS_ENOMEM));
}

/* ---- the receiver's key ---- */

static int rkeys_to(struct api_req *q, const char *what, FILE *f)
{
	return rkeys_command(q->cfg, what, f);
}

void api_rkey_roll(struct api_req *q)
{
	const struct cfg *c = q->cfg;
	char reason[REASON_MAX + 64], why[REASON_MAX + 1200];
	if (!api_body_reason(q, reason, sizeof(reason), "through the admin API"))
		return;
	if (!c->receiver.enabled) {
		api_error(q, 409,
			  "no receiver key to roll: receiver.name is not set (or sign is off)");
		return;
	}
	char *text;
	size_t len;
	int rc;
	if (!api_capture(q, rkeys_to, "roll", &text, &len, &rc))
		return;
	if (text != NULL)
		text[strcspn(text, "\n")] = '\0';
	if (rc != DS_OK) {
		api_error(q, 500, "%s", text && *text ? text : ds_strerror(rc));
		free(text);
		return;
	}
	snprintf(why, sizeof(why), "%s %s", text ? text : "receiver-key roll", reason);
	free(text);
	/* the files are written: the audit row cannot undo them, so a failure
	 * to write it is logged (by the store) and the roll stands */
	api_audit(q, NULL, NULL, "rolled", why);
	q->a->env.rkeys_changed(q->a->env.arg);
	log_notice("api: receiver key rolled by %s", q->actor);
	json_t *v = api_rkeys_json(q);
	if (v != NULL)
		api_json(q, 200, v);
}

/* ---- the configuration ---- */

/* The settings a reload left for the next restart, as a JSON array. */
static json_t *restart_list(const char *names)
{
	json_t *a = json_array();
	char buf[sizeof(((struct api_reload_result *)0)->restart)];
	snprintf(buf, sizeof(buf), "%s", names);
	for (char *save, *t = strtok_r(buf, ", ", &save); a && t; t = strtok_r(NULL, ", ", &save))
		json_array_append_new(a, json_string(t));
	return a;
}

void api_reload(struct api_req *q)
{
	struct api_reload_result res = {0};
	if (q->a->env.reload == NULL) {
		api_error(q, 503, "this process cannot reload its configuration");
		return;
	}
	int rc = q->a->env.reload(q->a->env.reload_arg, &res);
	if (rc != DS_OK) {
		api_audit(q, NULL, NULL, "refused", res.error);
		api_error(q, 422, "configuration not reloaded; the running one stays: %s",
			  res.error);
		return;
	}
	api_audit(q, NULL, NULL, "reloaded", res.summary);
	json_t *v = json_pack("{s:b, s:s, s:o}", "reloaded", 1, "summary", res.summary,
			      "restart_needed", restart_list(res.restart));
	if (v != NULL)
		api_json(q, 200, v);
	else
		api_text(q, 500, NULL, NULL, 0);
}

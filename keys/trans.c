/*
 * keys/trans.c -- one key transition in the store, with its audit
 * row, and D8's rule that a newly trusted key supersedes the child's other
 * keys.  Shared by the operator's changes (ops.c) and the bootstrap
 * scheduler (bootstrap.c); the caller holds the transaction.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/dname.h"
#include "common/err.h"
#include "keystate/keystate.h"
#include "keys/keys.h"

const struct cfg_key *key_config_entry(const struct cfg *cfg, const struct store_key *k)
{
	if (strcmp(k->trust_method, "config") != 0)
		return NULL;
	return cfg_key_find(cfg, k->owner, k->rdata, k->rdlen);
}

int key_audit(struct store *s, const struct store_key *k, const char *actor, const char *result,
	      const char *reason)
{
	char z[DNAME_STR_MAX], c[DNAME_STR_MAX];
	dname_to_str(k->zone, z, sizeof(z));
	dname_to_str(k->owner, c, sizeof(c));
	struct audit_rec a = {.time = (int64_t)time(NULL),
			      .client = "local",
			      .zone = z,
			      .child = c,
			      .key_tag = k->tag,
			      .actor = actor,
			      .request = "key",
			      .result = result,
			      .rcode = 0,
			      .reason = reason};
	return store_audit_add(s, &a);
}

/*
 * An event from outside the scheduler (operator, rollover, superseded) ends
 * the key's automatic validation, if it has one: the scheduler would drop it
 * anyway, and the row should say why it ended.
 */
static int validation_end(struct store *s, const struct store_key *k, enum ks_event ev,
			  enum key_state next)
{
	struct store_validation v;
	if (ev == KS_EV_VALIDATION_OK || ev == KS_EV_VALIDATION_FAIL ||
	    ev == KS_EV_AWAIT_OPERATOR || ev == KS_EV_VALIDATION_START || ev == KS_EV_UPLOAD)
		return DS_OK;
	int rc = store_validation_get(s, k->id, &v);
	if (rc == DS_ENOENT)
		return DS_OK;
	if (rc != DS_OK)
		return rc;
	v.next_at = -1;
	v.updated = (int64_t)time(NULL);
	snprintf(v.last_result, sizeof(v.last_result), "the key became %s (%s)",
		 store_key_state_str(next), ks_event_str(ev));
	return store_validation_update(s, &v);
}

static int changed_add(struct keyrows *out, const struct store_key *k, enum key_state st)
{
	if (out == NULL)
		return DS_OK;
	int rc = keyrows_add(out, k);
	if (rc == DS_OK)
		out->k[out->n - 1].state = st;
	return rc;
}

int key_transition(struct store *s, const struct store_key *k, enum ks_event ev, const char *method,
		   const char *actor, const char *reason, struct keyrows *changed)
{
	enum key_state next;
	char why[768];
	if (!ks_next(true, k->state, ev, &next))
		return DS_EINVAL;
	snprintf(why, sizeof(why), "%s -> %s (%s)%s%s", store_key_state_str(k->state),
		 store_key_state_str(next), ks_event_str(ev), reason && *reason ? ": " : "",
		 reason ? reason : "");
	int rc = store_key_set_state(s, k->id, next, next == KEY_TRUSTED ? method : NULL);
	if (rc == DS_OK)
		rc = key_audit(s, k, actor, store_key_state_str(next), why);
	if (rc == DS_OK)
		rc = validation_end(s, k, ev, next);
	if (rc == DS_OK)
		rc = changed_add(changed, k, next);
	if (rc != DS_OK || next != KEY_TRUSTED || k->state == KEY_TRUSTED)
		return rc;

	/* D8: the child's other keys go once this one is trusted; keys from
	 * the configuration stay under the configuration's control */
	struct keyrows others = {0};
	rc = store_child_keys_foreach(s, k->child_id, keyrows_add, &others);
	for (size_t i = 0; rc == DS_OK && i < others.n; i++) {
		struct store_key *o = &others.k[i];
		enum key_state on;
		if (o->id == k->id || strcmp(o->trust_method, "config") == 0 ||
		    !ks_next(true, o->state, KS_EV_SUPERSEDED, &on))
			continue;
		rc = store_key_set_state(s, o->id, on, NULL);
		if (rc == DS_OK)
			rc = key_audit(s, o, actor, store_key_state_str(on),
				       "superseded by a newly trusted key");
		if (rc == DS_OK)
			rc = validation_end(s, o, KS_EV_SUPERSEDED, on);
		if (rc == DS_OK)
			rc = changed_add(changed, o, on);
	}
	free(others.k);
	return rc;
}

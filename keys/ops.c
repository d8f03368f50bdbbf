/*
 * keys/ops.c -- the operator's changes to child keys (trust, revoke,
 * delete, add): one owner for `dsyncd key` and the admin API.  Each is one
 * store transaction of its own, committed whole or rolled back whole; a
 * refusal says why in the struct key_op and changes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "keystate/keystate.h"
#include "keys/keys.h"

/* End the transaction: commit when rc is DS_OK, else roll back. */
static int op_end(struct store *s, int rc)
{
	if (rc == DS_OK)
		rc = store_commit(s);
	if (rc != DS_OK)
		store_rollback(s);
	return rc;
}

static int op_refuse(struct key_op *op, enum key_op_refusal why, int rc)
{
	op->refusal = why;
	return rc;
}

/* Read key id into op->key, inside the transaction. */
static int op_load(struct store *s, int64_t id, struct key_op *op)
{
	int rc = store_key_get(s, id, &op->key);
	return rc == DS_ENOENT ? op_refuse(op, KEY_OP_NO_KEY, rc) : rc;
}

/* A key the configuration lists would come back trusted at the next start. */
static int op_not_in_config(const struct cfg *cfg, struct key_op *op)
{
	op->in_config = key_config_entry(cfg, &op->key);
	return op->in_config != NULL ? op_refuse(op, KEY_OP_IN_CONFIG, DS_EINVAL) : DS_OK;
}

int key_op_transition(const struct cfg *cfg, struct store *s, int64_t id, enum ks_event ev,
		      struct key_op *op)
{
	int rc = store_begin(s);
	if (rc == DS_OK)
		rc = op_load(s, id, op);
	if (rc == DS_OK && ev == KS_EV_OPERATOR_REVOKE)
		rc = op_not_in_config(cfg, op);
	if (rc == DS_OK && !ks_next(true, op->key.state, ev, &op->next))
		rc = op_refuse(op, KEY_OP_WRONG_STATE, DS_EINVAL);
	if (rc == DS_OK)
		rc = key_transition(s, &op->key, ev, "manual", op->actor, op->reason, &op->changed);
	return op_end(s, rc);
}

int key_op_delete(const struct cfg *cfg, struct store *s, int64_t id, struct key_op *op)
{
	char why[512];
	int rc = store_begin(s);
	if (rc == DS_OK)
		rc = op_load(s, id, op);
	if (rc == DS_OK)
		rc = op_not_in_config(cfg, op);
	if (rc == DS_OK && op->key.state == KEY_TRUSTED)
		rc = op_refuse(op, KEY_OP_WRONG_STATE, DS_EINVAL);
	if (rc == DS_OK) {
		snprintf(why, sizeof(why), "deleted (was %s) %s",
			 store_key_state_str(op->key.state), op->reason ? op->reason : "");
		rc = store_key_delete(s, id);
	}
	if (rc == DS_OK)
		rc = key_audit(s, &op->key, op->actor, "deleted", why);
	return op_end(s, rc);
}

int key_op_add(struct store *s, struct key_op *op)
{
	struct store_key *k = &op->key;
	struct keyrows rows = {0};
	int rc = store_begin(s);
	if (rc == DS_OK)
		rc = store_child_keys_foreach(s, k->child_id, keyrows_add, &rows);
	for (size_t i = 0; rc == DS_OK && i < rows.n; i++)
		if (rows.k[i].rdlen == k->rdlen &&
		    memcmp(rows.k[i].rdata, k->rdata, k->rdlen) == 0) {
			op->other_id = rows.k[i].id;
			op->other_state = rows.k[i].state;
			rc = op_refuse(op, KEY_OP_DUPLICATE, DS_EEXIST);
		}
	free(rows.k);
	/* stored as known, then trusted by the operator's transition: the
	 * audit row and D8's superseding are the same as for any trust */
	k->state = KEY_KNOWN;
	if (rc == DS_OK)
		rc = store_key_upsert(s, k);
	if (rc == DS_OK)
		rc = key_transition(s, k, KS_EV_OPERATOR_TRUST, "manual", op->actor, op->reason,
				    &op->changed);
	return op_end(s, rc);
}

void key_op_free(struct key_op *op)
{
	free(op->changed.k);
	op->changed = (struct keyrows){0};
}

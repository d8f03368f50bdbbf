/*
 * daemon/keycmd.c -- `dsyncd key list|trust|revoke`: the operator's side
 * of the manual bootstrap method (until the admin API exists).  Transitions
 * follow keystate/'s table; every change is audited with actor "operator".
 * When a key becomes trusted, the child's other uploaded keys are superseded
 * (revoked, D8); keys listed in the configuration stay under the
 * configuration's control.  The change itself is keys/ops.c's, shared with
 * the admin API.  A running dsyncd applies the change on SIGHUP.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/dname.h"
#include "common/err.h"
#include "keystate/keystate.h"
#include "daemon/commands.h"
#include "keys/keys.h"

static void list(struct store *s, const struct keyrows *l, FILE *out)
{
	char c[DNAME_STR_MAX];
	struct store_validation v;
	for (size_t i = 0; i < l->n; i++) {
		const struct store_key *k = &l->k[i];
		dname_to_str(k->owner, c, sizeof(c));
		fprintf(out, "%s tag %u alg %u: %s%s%s (%s)\n", c, k->tag, k->alg,
			store_key_state_str(k->state), k->trust_method[0] ? " by " : "",
			k->trust_method, k->source);
		if (store_validation_get(s, k->id, &v) != DS_OK)
			continue;
		if (v.next_at >= 0)
			fprintf(out, "    validation: attempt %u, round %u, next in %llds: %s\n",
				v.attempts + 1, v.rounds,
				(long long)(v.next_at > time(NULL) ? v.next_at - time(NULL) : 0),
				v.last_result[0] ? v.last_result : "not run yet");
		else
			fprintf(out, "    validation: ended: %s\n", v.last_result);
	}
}

/* The one key of child with tag in l, or NULL (said on out). */
static const struct store_key *find(const struct keyrows *l, const uint8_t *child, unsigned tag,
				    FILE *out, int *rc)
{
	char c[DNAME_STR_MAX];
	const struct store_key *k = NULL;
	dname_to_str(child, c, sizeof(c));
	for (size_t i = 0; i < l->n; i++)
		if (l->k[i].tag == tag && dname_equal(l->k[i].owner, child)) {
			if (k != NULL) {
				fprintf(out, "key: %s has several keys with tag %u; not changed\n",
					c, tag);
				*rc = DS_EEXIST;
				return NULL;
			}
			k = &l->k[i];
		}
	if (k == NULL) {
		fprintf(out, "key: no key of %s with tag %u\n", c, tag);
		*rc = DS_ENOENT;
	}
	return k;
}

/* Change the key (child, tag) with ev; on trust, supersede the child's other uploads. */
static int change(const struct cfg *cfg, struct store *s, struct keyrows *l, const uint8_t *child,
		  unsigned tag, enum ks_event ev, FILE *out)
{
	char c[DNAME_STR_MAX];
	int rc = DS_OK;
	const struct store_key *k = find(l, child, tag, out, &rc);
	if (k == NULL)
		return rc;
	dname_to_str(child, c, sizeof(c));
	struct key_op op = {.actor = "operator"};
	rc = key_op_transition(cfg, s, k->id, ev, &op);
	if (rc == DS_OK) {
		for (size_t i = 0; i < op.changed.n; i++)
			if (op.changed.k[i].id != k->id)
				fprintf(out, "key: %s tag %u superseded (revoked)\n", c,
					op.changed.k[i].tag);
		fprintf(out,
			"key: %s tag %u is now %s; send SIGHUP to a running dsyncd to apply it\n",
			c, tag, store_key_state_str(op.next));
	} else if (op.refusal == KEY_OP_IN_CONFIG) {
		/* the next start would trust it again */
		fprintf(out,
			"key: key %u of %s is listed in the configuration (%s); remove it there\n",
			tag, c, op.in_config->source[0] ? op.in_config->source : "place unknown");
	} else if (op.refusal == KEY_OP_WRONG_STATE) {
		fprintf(out, "key: %s tag %u is %s; it cannot be %s\n", c, tag,
			store_key_state_str(op.key.state),
			ev == KS_EV_OPERATOR_TRUST ? "trusted" : "revoked");
	} else if (op.refusal == KEY_OP_NO_KEY) {
		fprintf(out, "key: no key of %s with tag %u\n", c, tag);
	} else {
		fprintf(out, "key: store error, nothing changed: %s\n", ds_strerror(rc));
	}
	key_op_free(&op);
	/* a refusal: the command ran, and the answer is no (exit status 1) */
	if (op.refusal == KEY_OP_IN_CONFIG || op.refusal == KEY_OP_WRONG_STATE)
		rc = DS_EREFUSED;
	return rc;
}

int daemon_key_command(const struct cfg *cfg, int argc, char **argv, FILE *out)
{
	struct store *s;
	struct keyrows l = {0};
	uint8_t child[DNAME_MAX];
	bool is_list = argc >= 1 && strcmp(argv[0], "list") == 0;
	bool is_change =
	    argc == 3 && (strcmp(argv[0], "trust") == 0 || strcmp(argv[0], "revoke") == 0);
	if (!is_list && !is_change) {
		fprintf(out, "usage: dsyncd key list | key trust|revoke CHILD TAG\n");
		return DS_EINVAL;
	}
	char *end = NULL;
	unsigned long tag = is_change ? strtoul(argv[2], &end, 10) : 0;
	if (is_change && (dname_from_str(argv[1], child) < 0 || *end != '\0' || tag > 65535)) {
		fprintf(out, "key: bad child name or key tag\n");
		return DS_EINVAL;
	}
	int rc = store_open(cfg->store_path, &s);
	if (rc != DS_OK) {
		fprintf(out, "key: cannot open the store %s\n", cfg->store_path);
		return rc;
	}
	rc = store_keys_foreach(s, keyrows_add, &l);
	if (rc == DS_OK && is_list)
		list(s, &l, out);
	else if (rc == DS_OK)
		rc = change(cfg, s, &l, child, (unsigned)tag,
			    argv[0][0] == 't' ? KS_EV_OPERATOR_TRUST : KS_EV_OPERATOR_REVOKE, out);
	free(l.k);
	store_close(s);
	return rc;
}

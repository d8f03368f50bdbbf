/*
 * daemon/keycmd.c -- `dsyncd key list|trust|revoke`: the operator's side
 * of the manual bootstrap method (until the admin API exists).  Transitions
 * follow keystate/'s table; every change is audited with actor "operator".
 * When a key becomes trusted, the child's other uploaded keys are superseded
 * (revoked, D8); keys listed in the configuration stay under the
 * configuration's control.  A running dsyncd applies the change on SIGHUP.
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

/* The configuration's entry for stored key k, or NULL when the configuration does not list it. */

/* Change the key (child, tag) with ev; on trust, supersede the child's other uploads. */
static int change(const struct cfg *cfg, struct store *s, struct keyrows *l, const uint8_t *child,
		  unsigned tag, enum ks_event ev, FILE *out)
{
	char c[DNAME_STR_MAX];
	struct store_key *k = NULL;
	dname_to_str(child, c, sizeof(c));
	for (size_t i = 0; i < l->n; i++)
		if (l->k[i].tag == tag && dname_equal(l->k[i].owner, child)) {
			if (k != NULL) {
				fprintf(out, "key: %s has several keys with tag %u; not changed\n",
					c, tag);
				return DS_EEXIST;
			}
			k = &l->k[i];
		}
	if (k == NULL) {
		fprintf(out, "key: no key of %s with tag %u\n", c, tag);
		return DS_ENOENT;
	}
	const struct cfg_key *ck = key_config_entry(cfg, k);
	if (ev == KS_EV_OPERATOR_REVOKE && ck != NULL) {
		/* the next start would trust it again */
		fprintf(out,
			"key: key %u of %s is listed in the configuration (%s); remove it there\n",
			tag, c, ck->source[0] ? ck->source : "place unknown");
		return DS_EINVAL;
	}
	enum key_state next;
	if (!ks_next(true, k->state, ev, &next)) {
		fprintf(out, "key: %s tag %u is %s; it cannot be %s\n", c, tag,
			store_key_state_str(k->state),
			ev == KS_EV_OPERATOR_TRUST ? "trusted" : "revoked");
		return DS_EINVAL;
	}
	struct keyrows changed = {0};
	int rc = store_begin(s);
	if (rc == DS_OK)
		rc = key_transition(s, k, ev, "manual", "operator", NULL, &changed);
	for (size_t i = 0; rc == DS_OK && i < changed.n; i++)
		if (changed.k[i].id != k->id)
			fprintf(out, "key: %s tag %u superseded (revoked)\n", c, changed.k[i].tag);
	free(changed.k);
	if (rc == DS_OK)
		rc = store_commit(s);
	if (rc != DS_OK) {
		store_rollback(s);
		fprintf(out, "key: store error, nothing changed: %s\n", ds_strerror(rc));
		return rc;
	}
	fprintf(out, "key: %s tag %u is now %s; send SIGHUP to a running dsyncd to apply it\n", c,
		tag, store_key_state_str(next));
	return DS_OK;
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

/*
 * daemon/keycmd.c -- `dsyncd key list|trust|revoke`: the operator's side
 * of the manual bootstrap method (until the admin API exists).  Transitions
 * follow keystate/'s table; every change is audited with actor "operator".
 * When a key becomes trusted, the child's other uploaded keys are superseded
 * (revoked, D8); keys listed in the configuration stay under the
 * configuration's control.  The change itself is keys/ops.c's, shared with
 * the admin API.  A key is named CHILD/TAG, CHILD/TAG/ALG or by its id
 * (keys/name.c), or, as before, CHILD TAG.  `dsyncd key pending` lists the
 * keys waiting for the operator.  These commands share the store with a
 * running dsyncd (they do not take its lock); it applies the change on SIGHUP.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/dname.h"
#include "common/err.h"
#include "keystate/keystate.h"
#include "daemon/commands.h"
#include "keys/keys.h"
#include "store/store.h"

static void list(struct store *s, const struct keyrows *l, FILE *out)
{
	char c[DNAME_STR_MAX], n[DNAME_STR_MAX + 16];
	struct store_validation v;
	for (size_t i = 0; i < l->n; i++) {
		const struct store_key *k = &l->k[i];
		dname_to_str(k->owner, c, sizeof(c));
		key_name(s, k, n, sizeof(n));
		fprintf(out, "%s tag %u alg %u: %s%s%s (%s) key %s id %lld\n", c, k->tag, k->alg,
			store_key_state_str(k->state), k->trust_method[0] ? " by " : "",
			k->trust_method, k->source, n, (long long)k->id);
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

/*
 * The PID in the serving daemon's lock file (store_lock) into pid ("" when
 * none): these commands do not take the lock, they share the store with a
 * running dsyncd, which applies a change on SIGHUP.
 */
static void lock_pid(const struct cfg *cfg, char *pid, size_t len)
{
	char lp[4096];
	snprintf(lp, sizeof(lp), "%s.lock", cfg->store_path);
	pid[0] = '\0';
	if (store_spec_is_pg(cfg->store_spec))
		return; /* no lock file: each node applies changes by itself */
	FILE *f = fopen(lp, "r");
	if (f != NULL && fgets(pid, (int)len, f) != NULL)
		pid[strspn(pid, "0123456789")] = '\0';
	if (f != NULL)
		fclose(f);
}

/* Change the key named name with ev; on trust, supersede the child's other uploads. */
static int change(const struct cfg *cfg, struct store *s, const char *name, enum ks_event ev,
		  FILE *out)
{
	char n[DNAME_STR_MAX + 16], why[1024];
	struct store_key *k = malloc(sizeof(*k));
	int rc = k ? key_lookup(cfg, s, name, k, why, sizeof(why)) : DS_ENOMEM;
	if (rc != DS_OK) {
		fprintf(out, "key: %s; not changed\n", k ? why : ds_strerror(rc));
		free(k);
		return rc;
	}
	key_name(s, k, n, sizeof(n));
	struct key_op op = {.actor = "operator"};
	rc = key_op_transition(cfg, s, k->id, ev, &op);
	if (rc == DS_OK) {
		for (size_t i = 0; i < op.changed.n; i++)
			if (op.changed.k[i].id != k->id)
				fprintf(out, "key: %s superseded (revoked)\n",
					(key_name(s, &op.changed.k[i], why, sizeof(why)), why));
		char pid[32];
		lock_pid(cfg, pid, sizeof(pid));
		fprintf(out,
			"key: %s (id %lld) is now %s; send SIGHUP to a running dsyncd to apply "
			"it%s%s%s\n",
			n, (long long)k->id, store_key_state_str(op.next),
			pid[0] ? " (the last one to serve this store was pid " : "", pid,
			pid[0] ? ")" : "");
	} else if (op.refusal == KEY_OP_IN_CONFIG) {
		/* the next start would trust it again */
		fprintf(out, "key: %s is listed in the configuration (%s); remove it there\n", n,
			op.in_config->source[0] ? op.in_config->source : "place unknown");
	} else if (op.refusal == KEY_OP_WRONG_STATE) {
		fprintf(out, "key: %s is %s; it cannot be %s\n", n,
			store_key_state_str(op.key.state),
			ev == KS_EV_OPERATOR_TRUST ? "trusted" : "revoked");
	} else if (op.refusal == KEY_OP_NO_KEY) {
		fprintf(out, "key: %s is gone; not changed\n", n);
	} else {
		fprintf(out, "key: store error, nothing changed: %s\n", ds_strerror(rc));
	}
	key_op_free(&op);
	free(k);
	/* a refusal: the command ran, and the answer is no (exit status 1) */
	if (op.refusal == KEY_OP_IN_CONFIG || op.refusal == KEY_OP_WRONG_STATE)
		rc = DS_EREFUSED;
	return rc;
}

/* One line of `dsyncd key pending`. */
static int pending_line(void *arg, const struct store_waiting *w)
{
	FILE *out = arg;
	char name[DNAME_STR_MAX + 16];
	int64_t age = (int64_t)time(NULL) - w->since;
	key_name_fmt(w->child, w->tag, w->alg, w->tag_shared, name, sizeof(name));
	fprintf(out, "%s id %lld alg %u: %s for %llds; methods %s%s%s; last result: %s\n", name,
		(long long)w->key_id, w->alg, store_key_state_str(w->state),
		(long long)(age > 0 ? age : 0), w->methods[0] ? w->methods : "",
		w->methods[0] && w->state == KEY_KNOWN ? "," : "",
		w->state == KEY_KNOWN ? "manual"
		: w->methods[0]	      ? ""
				      : "-",
		w->validated && w->last_result[0] ? w->last_result : "-");
	return 0;
}

int daemon_key_command(const struct cfg *cfg, int argc, char **argv, FILE *out)
{
	struct store *s;
	struct keyrows l = {0};
	char name[DNAME_STR_MAX + 16];
	bool is_list = argc == 1 && strcmp(argv[0], "list") == 0;
	bool is_pending = argc == 1 && strcmp(argv[0], "pending") == 0;
	bool is_change = (argc == 2 || argc == 3) &&
			 (strcmp(argv[0], "trust") == 0 || strcmp(argv[0], "revoke") == 0);
	if (!is_list && !is_pending && !is_change) {
		fprintf(out, "usage: dsyncd key list | key pending | key trust|revoke KEY\n"
			     "  KEY: CHILD/TAG, CHILD/TAG/ALG or the key's id (also CHILD TAG)\n");
		return DS_EINVAL;
	}
	/* the accepted older form: CHILD TAG as two words */
	snprintf(name, sizeof(name), "%s%s%s", argv[is_change], argc == 3 ? "/" : "",
		 argc == 3 ? argv[2] : "");
	int rc = store_open(cfg->store_spec, &s);
	if (rc != DS_OK) {
		fprintf(out, "key: cannot open the store %s\n", cfg->store_label);
		return rc;
	}
	if (is_list)
		rc = store_keys_foreach(s, keyrows_add, &l);
	if (rc == DS_OK && is_list)
		list(s, &l, out);
	else if (is_pending)
		rc = store_waiting_page(s, 0, 0, SIZE_MAX, pending_line, out);
	else if (rc == DS_OK)
		rc = change(cfg, s, name,
			    argv[0][0] == 't' ? KS_EV_OPERATOR_TRUST : KS_EV_OPERATOR_REVOKE, out);
	free(l.k);
	store_close(s);
	return rc;
}

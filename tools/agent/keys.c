/*
 * tools/agent/keys.c -- the commands that make keys: keygen and roll.
 */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/dname.h"
#include "common/dnsq.h"
#include "common/err.h"
#include "common/rrtext.h"
#include "sig0/sig0.h"
#include "tools/agent/commands.h"

#define MAX_GEN_TRIES 8 /* a new key whose tag names an existing file: try again */

/* Generate and write a pair for owner in dir; prefix gets the file prefix. */
static int make_key(const uint8_t *owner, uint8_t alg, const char *dir, struct sig0_key **out,
		    char *prefix, size_t prefixlen)
{
	char why[512] = "";
	time_t now = time(NULL);
	struct sig0_key_times t = {.created = now, .publish = now, .activate = now};
	for (int i = 0; i < MAX_GEN_TRIES; i++) {
		int rc = sig0_key_generate(alg, owner, out, why, sizeof(why));
		bool made = rc == DS_OK;
		if (made)
			rc = sig0_key_write(*out, dir, &t, prefix, prefixlen, why, sizeof(why));
		if (rc == DS_OK)
			return 0;
		sig0_key_free(*out);
		*out = NULL;
		if (rc == DS_ENOMEM)
			return cli_fail(AGENT_SOFTWARE, "out of memory");
		if (rc != DS_EEXIST)
			return cli_fail(made ? AGENT_CANTCREAT : AGENT_SOFTWARE,
					"key generation: %s", why);
	}
	return cli_fail(AGENT_SOFTWARE,
			"key generation: every new key's tag named an existing file");
}

/* Print (and collect) the KEY records of k: apex and one per --ns. */
static int print_key_records(struct ctx *c, const struct sig0_key *k,
			     const uint8_t ns_owner[][DNAME_MAX], size_t nns)
{
	size_t rdlen;
	const uint8_t *rd = sig0_key_rdata(k, &rdlen);
	char text[4096];
	json_t *recs = json_array();
	for (size_t i = 0; i <= nns; i++) {
		const uint8_t *owner = i == 0 ? c->o->zone : ns_owner[i - 1];
		if (rr_to_str(owner, KEY_TTL, T_KEY, rd, rdlen, text, sizeof(text)) != DS_OK) {
			json_decref(recs);
			return cli_fail(AGENT_SOFTWARE, "cannot print the KEY record");
		}
		say(c, "%s", text);
		json_array_append_new(recs, json_string(text));
	}
	jset(c->out, "records", recs);
	return 0;
}

int cmd_keygen(struct ctx *c)
{
	const struct opts *o = c->o;
	uint8_t ns_owner[MAX_NS][DNAME_MAX];
	char zone[DNAME_STR_MAX], prefix[4096];
	struct sig0_key *k = NULL;
	dname_str(o->zone, zone, sizeof(zone));

	/* _sig0key.<zone>._signal.<ns>: checked before any key is made */
	for (size_t i = 0; i < o->nns; i++) {
		uint8_t ns[DNAME_MAX];
		char text[2 * DNAME_STR_MAX + 32], nstext[DNAME_STR_MAX];
		if (dname_from_str(o->ns[i], ns) <= 0 || ns[0] == 0)
			return cli_fail(AGENT_USAGE, "bad --ns name \"%s\"", o->ns[i]);
		snprintf(text, sizeof(text), "_sig0key.%s_signal.%s", zone,
			 dname_str(ns, nstext, sizeof(nstext)));
		if (dname_from_str(text, ns_owner[i]) <= 0)
			return cli_fail(AGENT_USAGE,
					"%s: longer than 255 octets; no signal name for %s", text,
					o->ns[i]);
	}
	int rc = make_key(o->zone, o->alg ? o->alg : ALG_ED25519, o->dir ? o->dir : ".", &k, prefix,
			  sizeof(prefix));
	if (rc != 0)
		return rc;
	say(c, "; key files %s.key and %s.private (for dsync-agent --key and nsupdate -k)", prefix,
	    prefix);
	say(c,
	    "; algorithm %u (%s), tag %u; publish at the child apex and, for at-ns, at each "
	    "signal name:",
	    sig0_key_alg(k), sig0_alg_name(sig0_key_alg(k)), sig0_key_tag(k));
	jset(c->out, "zone", json_string(zone));
	jset(c->out, "algorithm", json_integer(sig0_key_alg(k)));
	jset(c->out, "tag", json_integer(sig0_key_tag(k)));
	jset(c->out, "key", json_string(prefix));
	rc = print_key_records(c, k, (const uint8_t(*)[DNAME_MAX])ns_owner, o->nns);
	sig0_key_free(k);
	return rc;
}

int cmd_roll(struct ctx *c)
{
	const struct opts *o = c->o;
	struct sig0_key *nk = NULL;
	struct agent_rr *rr;
	struct agent_answer a;
	char prefix[4096], dirbuf[4096];
	json_t *j = NULL;
	int rc;
	if (o->key == NULL)
		return cli_fail(AGENT_USAGE, "roll needs --key OLD");
	if ((rr = calloc(1, sizeof(*rr))) == NULL)
		return cli_fail(AGENT_SOFTWARE, "out of memory");
	if ((rc = prepare(c)) != 0)
		goto out;
	uint8_t old_alg = sig0_key_alg(c->key);
	uint8_t alg = o->alg ? o->alg
		      : (old_alg == ALG_ED25519 || old_alg == ALG_ED448 ||
			 old_alg == ALG_ECDSAP256SHA256 || old_alg == ALG_ECDSAP384SHA384)
			  ? old_alg
			  : ALG_ED25519;
	snprintf(dirbuf, sizeof(dirbuf), "%s", o->key);
	const char *dir = o->dir ? o->dir : dirname(dirbuf);
	if ((rc = make_key(o->zone, alg, dir, &nk, prefix, sizeof(prefix))) != 0)
		goto out;
	say(c, "old key: %s (tag %u)", o->key, sig0_key_tag(c->key));
	say(c, "new key: %s (tag %u)", prefix, sig0_key_tag(nk));
	jset(c->out, "old_key", json_string(o->key));
	jset(c->out, "old_tag", json_integer(sig0_key_tag(c->key)));
	jset(c->out, "new_key", json_string(prefix));
	jset(c->out, "new_tag", json_integer(sig0_key_tag(nk)));

	/* 1: the old key adds the new one (trusted at once by the receiver's rollover) */
	say(c, "step 1: add the new key, signed by the old one");
	key_rr(nk, CLASS_IN, rr);
	if ((rc = send_update(c, rr, 1, c->key, "add")) != 0)
		goto kept;
	/* 2: the new key removes the old one (rollover: "zone NONE KEY <old>") */
	say(c, "step 2: delete the old key, signed by the new one");
	key_rr(c->key, CLASS_NONE, rr);
	if ((rc = send_update(c, rr, 1, nk, "delete")) != 0)
		goto kept;
	/* 3: the receiver says the new key is trusted */
	say(c, "step 3: inquire about the new key");
	rc = inquire(c, &c->target, nk, true, &j, &a);
	if (j != NULL)
		jset(c->out, "inquiry", j);
	if (rc == 0 && a.ks.state != KS_TRUSTED) {
		char ksb[16];
		rc = cli_fail(ks_exit(a.ks.state), "the new key is %s, not trusted",
			      agent_ks_str(a.ks.state, ksb, sizeof(ksb)));
	}
	if (rc == 0) {
		say(c, "rolled: use %s from now on; %s may be removed", prefix, o->key);
		goto out;
	}
kept:
	fprintf(stderr, "dsync-agent: roll incomplete; both key pairs are kept (old %s, new %s)\n",
		o->key, prefix);
out:
	sig0_key_free(nk);
	free(rr);
	return rc;
}

/*
 * tools/agent/commands.c -- discover, inquire, bootstrap and update.
 */
#include <unistd.h>
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

int cmd_discover(struct ctx *c)
{
	int rc = discover(c);
	if (rc != 0)
		return rc;
	const struct agent_discovery *d = c->disc;
	if (c->o->json) {
		json_t *j = discovery_json(d);
		json_object_update(c->out, j);
		json_decref(j);
		return 0;
	}
	show_discovery(c, d);
	return 0;
}

/* Exit status for a KeyState code. */
int ks_exit(uint8_t code)
{
	switch (code) {
	case KS_TRUSTED:
		return AGENT_OK;
	case KS_BOOTSTRAP_AUTO:
	case KS_BOOTSTRAP_MANUAL:
	case KS_TEMPORARY_FAILURE:
		return AGENT_PENDING;
	default:
		return AGENT_REFUSED;
	}
}

/*
 * One signed inquiry about key: *state gets the code.  Returns 0 when a
 * usable (authenticated or accepted) KeyState came back, else the exit
 * status.  The answer is shown unless quietly polling.
 */
int inquire(struct ctx *c, const struct agent_target *t, const struct sig0_key *key, bool show,
	    json_t **shown, struct agent_answer *a)
{
	struct agent_request *req = request_new();
	if (req == NULL)
		return AGENT_SOFTWARE;
	req->kind = AGENT_REQ_INQUIRY;
	req->name = c->o->zone;
	req->ks_code = c->o->ks_option;
	req->key = key;
	int rc = agent_send(t, req, a);
	free(req);
	if (rc != DS_OK)
		return send_failed(rc, a);
	if (show) {
		json_t *j = show_answer(c, a);
		if (shown != NULL)
			*shown = j;
		else
			json_decref(j);
	}
	if ((rc = auth_gate(c, a)) != 0)
		return rc;
	if (a->rcode != RC_NOERROR)
		return rcode_fail(a, "the inquiry was answered");
	if (!a->has_ks)
		return cli_fail(AGENT_REFUSED, "the answer carries no KeyState option");
	if (a->ks.key_id != sig0_key_tag(key))
		return cli_fail(AGENT_REFUSED, "the answer is about key %u, not %u", a->ks.key_id,
				sig0_key_tag(key));
	return 0;
}

int cmd_inquire(struct ctx *c)
{
	struct agent_answer a;
	json_t *j = NULL;
	int rc;
	if (c->o->key == NULL)
		return cli_fail(AGENT_USAGE, "inquire needs --key");
	if ((rc = prepare(c)) != 0)
		return rc;
	rc = inquire(c, &c->target, c->key, true, &j, &a);
	if (j != NULL)
		jset(c->out, "answer", j);
	if (rc != 0)
		return rc;
	return ks_exit(a.ks.state);
}

/*
 * Send an UPDATE of rr[0..n) signed by key (with the KeyState option
 * ks_code; 0: none) and show its answer as step: 0 when the answer came
 * authenticated (or is accepted unauthenticated), else the exit status.
 * The RCODE in *a is the caller's to judge.
 */
static int update_shown(struct ctx *c, const struct agent_rr *rr, size_t n,
			const struct sig0_key *key, uint16_t ks_code, const char *step,
			struct agent_answer *a)
{
	struct agent_request *req = request_new();
	if (req == NULL)
		return AGENT_SOFTWARE;
	req->kind = AGENT_REQ_UPDATE;
	req->name = c->parent;
	req->rr = rr;
	req->nrr = n;
	req->ks_code = ks_code;
	req->key = key;
	int rc = agent_send(&c->target, req, a);
	free(req);
	if (rc != DS_OK)
		return send_failed(rc, a);
	jset(c->out, step, show_answer(c, a));
	return auth_gate(c, a);
}

/* A KeyState about our key in answer a: noted when it changed from *last.
 * Returns the exit status once it is final, else -1 (still pending). */
static int note_state(struct ctx *c, json_t *states, const struct agent_answer *a, int *last)
{
	if (a->ks.state != *last)
		state_line(c, states, &a->ks);
	*last = a->ks.state;
	return ks_exit(a->ks.state) != AGENT_PENDING ? ks_exit(a->ks.state) : -1;
}

/* Poll for the key's state: 1 s, doubling up to --poll-max, until
 * --timeout in all.  Returns the exit status. */
static int poll_state(struct ctx *c, json_t *states, int last)
{
	const struct opts *o = c->o;
	struct agent_answer a;
	struct agent_target poll = c->target;
	time_t deadline = time(NULL) + (time_t)o->timeout_s;
	unsigned wait = 1;
	char ksb[16];
	int rc;

	poll.retries = 0; /* the polling is the retrying */
	for (time_t now = time(NULL); now < deadline; now = time(NULL)) {
		unsigned nap = (time_t)wait < deadline - now ? wait : (unsigned)(deadline - now);
		sleep(nap);
		wait = wait * 2 < o->poll_max_s ? wait * 2 : o->poll_max_s;
		rc = inquire(c, &poll, c->key, false, NULL, &a);
		if (rc == AGENT_INSECURE || rc == AGENT_SOFTWARE)
			return rc;
		if (rc != 0)
			continue; /* no answer, or no state this time: poll again */
		if ((rc = note_state(c, states, &a, &last)) >= 0)
			return rc;
	}
	return cli_fail(AGENT_PENDING, "not trusted after %ld s; last state: %s", o->timeout_s,
			last < 0 ? "none" : agent_ks_str((uint8_t)last, ksb, sizeof(ksb)));
}

int cmd_bootstrap(struct ctx *c)
{
	struct agent_answer a;
	struct agent_rr rr;
	json_t *states = json_array();
	int rc, last = -1;
	jset(c->out, "states", states);
	if (c->o->key == NULL)
		return cli_fail(AGENT_USAGE, "bootstrap needs --key");
	if ((rc = prepare(c)) != 0)
		return rc;
	key_rr(c->key, CLASS_IN, &rr);
	rc = update_shown(c, &rr, 1, c->key, c->o->ks_option, "upload", &a);
	if (rc != 0)
		return rc;
	if (a.rcode != RC_NOERROR)
		return rcode_fail(&a, "the upload was answered");
	if (a.has_ks && a.ks.key_id == sig0_key_tag(c->key) &&
	    (rc = note_state(c, states, &a, &last)) >= 0)
		return rc;
	return poll_state(c, states, last);
}

/* The computed difference: what the child's zone wants vs what the parent has. */
static int compute_diff(struct ctx *c, struct agent_rr *rr, size_t *nrr)
{
	char why[512] = "";
	struct deleg *has = calloc(1, sizeof(*has)), *wants = calloc(1, sizeof(*wants));
	struct deleg *add = calloc(1, sizeof(*add)), *del = calloc(1, sizeof(*del));
	int rc = 0;
	if (has == NULL || wants == NULL || add == NULL || del == NULL) {
		rc = cli_fail(AGENT_SOFTWARE, "out of memory");
		goto out;
	}
	if ((rc = open_resolver(c)) != 0)
		goto out;
	int e = agent_child_wants(c->res, c->o->zone, c->o->cds, wants, why, sizeof(why));
	if (e == DS_OK)
		e = agent_parent_has(c->res, c->o->zone, c->parent, c->o->ns_port, has, why,
				     sizeof(why));
	if (e != DS_OK) {
		rc = cli_fail(e == DS_ENOMEM   ? AGENT_SOFTWARE
			      : e == DS_ENOENT ? AGENT_REFUSED
					       : AGENT_UNREACHABLE,
			      "%s", why[0] ? why : ds_strerror(e));
		goto out;
	}
	agent_diff(has, wants, add, del);
	*nrr = 0;
	/* adds first: a server that looks at the state in between never sees an empty NS set */
	for (size_t i = 0; i < add->n && *nrr < AGENT_MAX_RRS; i++)
		agent_rr_from_drr(&add->rr[i], CLASS_IN, &rr[(*nrr)++]);
	for (size_t i = 0; i < del->n && *nrr < AGENT_MAX_RRS; i++)
		agent_rr_from_drr(&del->rr[i], CLASS_NONE, &rr[(*nrr)++]);
	if (add->n + del->n > AGENT_MAX_RRS)
		rc = cli_fail(AGENT_SOFTWARE, "more than %d changes", AGENT_MAX_RRS);
out:
	free(has);
	free(wants);
	free(add);
	free(del);
	return rc;
}

int send_update(struct ctx *c, const struct agent_rr *rr, size_t n, const struct sig0_key *key,
		const char *step)
{
	struct agent_answer a;
	char what[64];
	int rc = update_shown(c, rr, n, key, 0, step, &a);
	if (rc != 0 || a.rcode == RC_NOERROR)
		return rc;
	snprintf(what, sizeof(what), "%s: the parent answered", step);
	return rcode_fail(&a, what);
}

int cmd_update(struct ctx *c)
{
	const struct opts *o = c->o;
	struct agent_rr *rr;
	size_t n = 0;
	char why[512] = "";
	int rc;
	if (o->key == NULL)
		return cli_fail(AGENT_USAGE, "update needs --key");
	if ((rr = calloc(AGENT_MAX_RRS, sizeof(*rr))) == NULL)
		return cli_fail(AGENT_SOFTWARE, "out of memory");
	/* explicit records are read before anything goes on the wire */
	for (size_t i = 0; i < o->nitems; i++)
		if (agent_rr_from_text(o->items[i].text, o->items[i].rclass, &rr[n++], why,
				       sizeof(why)) != DS_OK) {
			rc = cli_fail(AGENT_USAGE, "\"%s\": %s", o->items[i].text, why);
			goto out;
		}
	if ((rc = prepare(c)) != 0)
		goto out;
	if (o->nitems == 0 && (rc = compute_diff(c, rr, &n)) != 0)
		goto out;
	show_changes(c, rr, n);
	if (n == 0) {
		say(c, "nothing to do: the parent already delegates what the child publishes");
		jset(c->out, "result", json_string("nothing-to-do"));
		rc = AGENT_OK;
		goto out;
	}
	rc = send_update(c, rr, n, c->key, "answer");
out:
	free(rr);
	return rc;
}

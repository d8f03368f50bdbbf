/*
 * tools/agent/output.c -- what dsync-agent says: lines of "field: value"
 * on stdout, or the same in the --json object.
 */
#include <stdarg.h>
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

void say(const struct ctx *c, const char *fmt, ...)
{
	va_list ap;
	if (c->o->json)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

void jset(json_t *o, const char *k, json_t *v)
{
	if (o != NULL)
		json_object_set_new(o, k, v);
}

/*
 * Print an answer (server, RCODE, EDE, KeyState, authentication) and put
 * it in a JSON object, which it returns (owned by the caller).
 */
json_t *show_answer(const struct ctx *c, const struct agent_answer *a)
{
	char rcb[16], ksb[16];
	const char *rc = rr_rcode_str(a->rcode, rcb, sizeof(rcb));
	json_t *j = json_object();
	say(c, "server: %s %s (try %u)%s", a->server, a->tcp ? "tcp" : "udp", a->tries,
	    a->cookie ? ", with its server cookie" : "");
	say(c, "rcode: %s", rc);
	jset(j, "server", json_string(a->server));
	jset(j, "transport", json_string(a->tcp ? "tcp" : "udp"));
	jset(j, "server-cookie", json_boolean(a->cookie));
	jset(j, "tries", json_integer(a->tries));
	jset(j, "rcode", json_string(rc));
	if (a->has_ede) {
		say(c, "ede: %u \"%s\"", a->ede, a->ede_text);
		jset(j, "ede", json_integer(a->ede));
		jset(j, "ede_text", json_string(a->ede_text));
	}
	if (a->has_ks) {
		const char *ks = agent_ks_str(a->ks.state, ksb, sizeof(ksb));
		say(c, "keystate: %u %s (key %u)%s%s%s", a->ks.state, ks, a->ks.key_id,
		    a->ks.text[0] ? " \"" : "", a->ks.text, a->ks.text[0] ? "\"" : "");
		json_t *k = json_object();
		jset(k, "code", json_integer(a->ks.state));
		jset(k, "name", json_string(ks));
		jset(k, "key_id", json_integer(a->ks.key_id));
		jset(k, "text", json_string(a->ks.text));
		jset(j, "keystate", k);
	}
	say(c, "authenticated: %s (%s: %s)", agent_auth_ok(a->auth) ? "yes" : "no",
	    agent_auth_str(a->auth), a->auth_why);
	jset(j, "authenticated", json_boolean(agent_auth_ok(a->auth)));
	jset(j, "auth", json_string(agent_auth_str(a->auth)));
	jset(j, "auth_detail", json_string(a->auth_why));
	return j;
}

/* Refuse to act on an unauthenticated answer: AGENT_INSECURE, or 0 to go on. */
int auth_gate(const struct ctx *c, const struct agent_answer *a)
{
	if (agent_auth_ok(a->auth))
		return 0;
	if (c->o->insecure_ok) {
		if (!c->o->quiet)
			cli_warn("answer not authenticated (%s); going on (--insecure-ok)",
				 a->auth_why);
		return 0;
	}
	return cli_fail(AGENT_INSECURE,
			"the answer is not authenticated (%s); not acting on it "
			"(--insecure-ok to accept)",
			a->auth_why);
}

json_t *discovery_json(const struct agent_discovery *d)
{
	char buf[DNAME_STR_MAX];
	json_t *j = json_object(), *addrs = json_array(), *keys = json_array();
	jset(j, "parent", json_string(dname_str(d->parent, buf, sizeof(buf))));
	jset(j, "owner", json_string(dname_str(d->owner, buf, sizeof(buf))));
	jset(j, "target", json_string(dname_str(d->target, buf, sizeof(buf))));
	jset(j, "port", json_integer(d->port));
	jset(j, "dsync_secure", json_boolean(d->dsync_secure));
	for (size_t i = 0; i < d->naddr; i++) {
		char a[DNSQ_ADDRSTR_MAX];
		json_array_append_new(
		    addrs,
		    json_string(dnsq_addr_str((const struct sockaddr *)&d->addr[i], a, sizeof(a))));
	}
	jset(j, "addresses", addrs);
	jset(j, "addresses_secure", json_boolean(d->addr_secure));
	for (size_t i = 0; i < d->nkey; i++) {
		char text[4096];
		if (rr_to_str(d->target, KEY_TTL, T_KEY, d->key[i].rdata, d->key[i].rdlen, text,
			      sizeof(text)) == DS_OK)
			json_array_append_new(keys, json_string(text));
	}
	jset(j, "keys", keys);
	jset(j, "keys_secure", json_boolean(d->key_secure));
	jset(j, "bootstrap_methods", json_string(d->methods));
	jset(j, "svcb_secure", json_boolean(d->svcb_secure));
	jset(j, "report", json_string(d->report));
	return j;
}

/* "add: RR" / "delete: RR" / "delete rrset: NAME TYPE" lines. */
void show_changes(struct ctx *c, const struct agent_rr *rr, size_t n)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		char text[8192], tb[16];
		const char *what = rr[i].rclass == CLASS_IN	? "add"
				   : rr[i].rclass == CLASS_NONE ? "delete"
								: "delete-rrset";
		if (rr[i].rclass == CLASS_ANY) {
			char nm[DNAME_STR_MAX];
			snprintf(text, sizeof(text), "%s %s",
				 dname_str(rr[i].owner, nm, sizeof(nm)),
				 rr_type_str(rr[i].type, tb, sizeof(tb)));
		} else if (rr_to_str(rr[i].owner, rr[i].ttl, rr[i].type, rr[i].rdata, rr[i].rdlen,
				     text, sizeof(text)) != DS_OK) {
			snprintf(text, sizeof(text), "(unprintable record)");
		}
		say(c, "%s: %s", what, text);
		json_t *j = json_object();
		jset(j, "op", json_string(what));
		jset(j, "rr", json_string(text));
		json_array_append_new(arr, j);
	}
	jset(c->out, "changes", arr);
}

/* A "TIME state CODE NAME (key TAG)" line of bootstrap's polling. */
void state_line(struct ctx *c, json_t *states, const struct ks_opt *ks)
{
	char when[32], ksb[16];
	const char *name = agent_ks_str(ks->state, ksb, sizeof(ksb));
	cli_utc(time(NULL), when, sizeof(when));
	say(c, "%s state %u %s (key %u)%s%s%s", when, ks->state, name, ks->key_id,
	    ks->text[0] ? " \"" : "", ks->text, ks->text[0] ? "\"" : "");
	json_t *s = json_object();
	jset(s, "time", json_string(when));
	jset(s, "code", json_integer(ks->state));
	jset(s, "name", json_string(name));
	jset(s, "text", json_string(ks->text));
	json_array_append_new(states, s);
}

/* What discovery found, as lines (cmd_discover without --json). */
void show_discovery(const struct ctx *c, const struct agent_discovery *d)
{
	char buf[DNAME_STR_MAX];
	fputs(d->report, stdout);
	say(c, "parent: %s", dname_str(d->parent, buf, sizeof(buf)));
	say(c, "receiver: %s port %u (DSYNC %s)", dname_str(d->target, buf, sizeof(buf)), d->port,
	    d->dsync_secure ? "secure" : "NOT secure");
	for (size_t i = 0; i < d->naddr; i++) {
		char a[DNSQ_ADDRSTR_MAX];
		say(c, "address: %s (%s)",
		    dnsq_addr_str((const struct sockaddr *)&d->addr[i], a, sizeof(a)),
		    d->addr_secure ? "secure" : "NOT secure");
	}
	char why[128];
	bool usable = agent_receiver_key_usable(d, true, why, sizeof(why));
	for (size_t i = 0; i < d->nkey; i++) {
		char text[4096];
		if (rr_to_str(d->target, KEY_TTL, T_KEY, d->key[i].rdata, d->key[i].rdlen, text,
			      sizeof(text)) == DS_OK)
			say(c, "receiver key: %s (%s%s)", text,
			    usable ? "secure: answers can be authenticated"
				   : "NOT used: not secure: ",
			    usable ? "" : why);
	}
	if (d->nkey == 0)
		say(c, "receiver key: none (answers cannot be authenticated without "
		       "--receiver-key)");
	say(c, "bootstrap methods: %s (%s)", d->methods[0] ? d->methods : "-",
	    d->svcb_secure ? "secure" : "NOT secure");
}

/* "WHAT RCODE[: EDE]" said; returns the exit status of that RCODE. */
int rcode_fail(const struct agent_answer *a, const char *what)
{
	char rcb[16];
	return cli_fail(a->rcode == RC_SERVFAIL ? AGENT_UNREACHABLE : AGENT_REFUSED, "%s %s%s%s",
			what, rr_rcode_str(a->rcode, rcb, sizeof(rcb)), a->has_ede ? ": " : "",
			a->has_ede ? a->ede_text : "");
}

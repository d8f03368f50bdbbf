/*
 * tools/agent/setup.c -- before a request goes out: the child's key, the
 * validating resolver, discovery, and where to send and how to check the
 * answers (prepare).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "common/dname.h"
#include "common/dnsq.h"
#include "common/err.h"
#include "common/rrtext.h"
#include "sig0/sig0.h"
#include "tools/agent/commands.h"

void ctx_free(struct ctx *c)
{
	sig0_key_free(c->key);
	bm_resolver_free(c->res);
	free(c->disc);
	for (size_t i = 0; i < c->nrkey; i++)
		sig0_key_free(c->rkey[i]);
	json_decref(c->out);
}

static int read_key(const struct ctx *c, const char *path, struct sig0_key **out)
{
	char why[512] = "", a[DNAME_STR_MAX], b[DNAME_STR_MAX];
	int rc = sig0_key_read(path, out, why, sizeof(why));
	if (rc == DS_ENOMEM)
		return cli_fail(AGENT_SOFTWARE, "out of memory");
	if (rc != DS_OK) /* a file that is not there, or not a usable key */
		return cli_fail(rc == DS_ENOENT || rc == DS_EIO ? AGENT_NOINPUT : AGENT_DATA,
				"--key %s: %s", path, why);
	if (!dname_equal(sig0_key_owner(*out), c->o->zone)) {
		cli_fail(AGENT_USAGE, "--key %s is a key of %s, not of %s", path,
			 dname_str(sig0_key_owner(*out), a, sizeof(a)),
			 dname_str(c->o->zone, b, sizeof(b)));
		sig0_key_free(*out);
		*out = NULL;
		return AGENT_USAGE;
	}
	return 0;
}

int open_resolver(struct ctx *c)
{
	const struct opts *o = c->o;
	char why[512] = "";
	if (c->res != NULL)
		return 0;
	struct bm_resolver_cfg cfg = {
	    .trust_anchor_file = o->trust_anchor      ? o->trust_anchor
				 : o->resolver_config ? NULL
						      : DEFAULT_TRUST_ANCHOR,
	    .config_file = o->resolver_config,
	};
	int rc = bm_resolver_new(&cfg, &c->res, why, sizeof(why));
	if (rc == DS_ENOMEM)
		return cli_fail(AGENT_SOFTWARE, "out of memory");
	if (rc != DS_OK)
		return cli_fail(AGENT_USAGE, "resolver: %s", why);
	return 0;
}

int discover(struct ctx *c)
{
	int rc = open_resolver(c);
	if (rc != 0)
		return rc;
	c->disc = calloc(1, sizeof(*c->disc));
	if (c->disc == NULL)
		return cli_fail(AGENT_SOFTWARE, "out of memory");
	rc = agent_discover(c->res, c->o->zone, c->o->scheme, c->o->svcb_key, c->disc);
	if (rc == DS_ENOMEM)
		return cli_fail(AGENT_SOFTWARE, "out of memory");
	if (rc != DS_OK) {
		fputs(c->disc->report, stderr);
		return cli_fail(AGENT_UNREACHABLE, "discovery of the UPDATE Receiver failed (%s)",
				rc == DS_ENOENT ? "no usable DSYNC record" : "lookups failed");
	}
	return 0;
}

/*
 * Where to send and how to check answers: discovery when no --server is
 * given, or when no --receiver-key is and a resolver was configured; then
 * the overrides.
 */
/* The addresses to send to: --server, or what discovery found (with
 * --port instead of the discovered one when given). */
static int target_addrs(struct ctx *c)
{
	const struct opts *o = c->o;
	struct agent_target *t = &c->target;
	char a[DNAME_STR_MAX];

	if (o->server != NULL) {
		if (dnsq_addr_from_str(o->server, (uint16_t)(o->port > 0 ? o->port : DEFAULT_PORT),
				       &t->addr[0], &t->addrlen[0]) != DS_OK)
			return cli_fail(AGENT_USAGE, "bad --server \"%s\" (a numeric address)",
					o->server);
		t->naddr = 1;
		return 0;
	}
	for (size_t i = 0; i < c->disc->naddr; i++) {
		t->addr[i] = c->disc->addr[i];
		t->addrlen[i] = c->disc->addrlen[i];
		if (o->port > 0 && t->addr[i].ss_family == AF_INET)
			((struct sockaddr_in *)&t->addr[i])->sin_port = htons((uint16_t)o->port);
		else if (o->port > 0)
			((struct sockaddr_in6 *)&t->addr[i])->sin6_port = htons((uint16_t)o->port);
	}
	t->naddr = c->disc->naddr;
	if (t->naddr == 0)
		return cli_fail(AGENT_UNREACHABLE, "the UPDATE Receiver %s has no address",
				dname_str(c->disc->target, a, sizeof(a)));
	return 0;
}

/* The receiver's keys discovery found, when they are secure enough. */
static void discovered_rkeys(struct ctx *c)
{
	const struct opts *o = c->o;
	struct sig0_limits lim;
	char why[512] = "";

	if (!agent_receiver_key_usable(c->disc, o->server == NULL, why, sizeof(why))) {
		if (!o->quiet)
			fprintf(
			    stderr,
			    "dsync-agent: receiver KEY from discovery not used: not secure: %s\n",
			    why);
		return;
	}
	sig0_limits_default(&lim);
	memset(lim.alg_allowed, 0xff, sizeof(lim.alg_allowed));
	lim.rsa_min_bits = 1024;
	for (size_t i = 0; i < c->disc->nkey && c->nrkey < AGENT_MAX_KEYS; i++)
		if (sig0_key_new(c->disc->target, c->disc->key[i].rdata, c->disc->key[i].rdlen,
				 &lim, &c->rkey[c->nrkey], why, sizeof(why)) == DS_OK)
			c->nrkey++;
		else if (!o->quiet)
			fprintf(stderr, "dsync-agent: receiver KEY %zu not usable: %s\n", i + 1,
				why);
}

/* The keys that authenticate answers: --receiver-key, or discovery's. */
static int target_rkeys(struct ctx *c)
{
	const struct opts *o = c->o;
	char why[512] = "";

	if (o->receiver_key != NULL) {
		int rc = agent_pubkey_from_text(o->receiver_key, &c->rkey[0], why, sizeof(why));
		if (rc == DS_ENOMEM)
			return cli_fail(AGENT_SOFTWARE, "out of memory");
		if (rc != DS_OK)
			return cli_fail(AGENT_DATA, "--receiver-key: %s", why);
		c->nrkey = 1;
	} else if (c->disc != NULL && c->disc->nkey > 0) {
		discovered_rkeys(c);
	}
	for (size_t i = 0; i < c->nrkey; i++)
		c->target.rkey[i] = c->rkey[i];
	c->target.nrkey = c->nrkey;
	return 0;
}

/* The parent zone: --parent, the one discovery found, or the zone minus a label. */
static int find_parent(struct ctx *c)
{
	const struct opts *o = c->o;
	char a[DNAME_STR_MAX];

	if (o->parent_text != NULL) {
		if (dname_from_str(o->parent_text, c->parent) <= 0)
			return cli_fail(AGENT_USAGE, "bad --parent \"%s\"", o->parent_text);
	} else if (c->disc != NULL) {
		memcpy(c->parent, c->disc->parent, dname_len(c->disc->parent));
	} else {
		const uint8_t *p = dname_parent(o->zone);
		memcpy(c->parent, p, dname_len(p));
	}
	if (!dname_is_strict_sub(o->zone, c->parent))
		return cli_fail(AGENT_USAGE, "%s is not below the parent %s", o->zone_text,
				dname_str(c->parent, a, sizeof(a)));
	return 0;
}

int prepare(struct ctx *c)
{
	struct opts *o = c->o;
	struct agent_target *t = &c->target;
	int rc;

	if (o->key != NULL && c->key == NULL && (rc = read_key(c, o->key, &c->key)) != 0)
		return rc;
	if (o->server == NULL ||
	    (o->receiver_key == NULL && (o->resolver_config || o->trust_anchor))) {
		if ((rc = discover(c)) != 0)
			return rc;
		if (!o->quiet && !o->json)
			fputs(c->disc->report, stderr);
	}
	memset(t, 0, sizeof(*t));
	t->try_ms = o->query_timeout_ms;
	t->retries = o->retries;
	t->backoff_ms = 1000;
	t->tcp_update = !o->udp;
	t->tcp_query = o->tcp;
	t->quiet = o->quiet;
	if ((rc = target_addrs(c)) != 0 || (rc = target_rkeys(c)) != 0)
		return rc;
	/* a random client cookie per address of the receiver (RFC 7873 4.1) */
	if (RAND_bytes(&c->cookies.c[0][0], sizeof(c->cookies.c)) != 1)
		return cli_fail(AGENT_SOFTWARE, "no random client cookie (RAND_bytes failed)");
	for (size_t i = 0; i < AGENT_MAX_ADDRS; i++)
		c->cookies.len[i] = COOKIE_CLIENT_LEN;
	t->cookies = &c->cookies;
	return find_parent(c);
}

struct agent_request *request_new(void)
{
	struct agent_request *r = calloc(1, sizeof(*r));
	if (r == NULL)
		cli_fail(AGENT_SOFTWARE, "out of memory");
	return r;
}

/* No answer at all (or a local failure) from agent_send(). */
int send_failed(int rc, const struct agent_answer *a)
{
	if (rc == DS_ENOMEM)
		return cli_fail(AGENT_SOFTWARE, "out of memory");
	if (rc == DS_EAGAIN)
		return cli_fail(AGENT_UNREACHABLE, "no answer after %u tr%s: %s", a->tries,
				a->tries == 1 ? "y" : "ies", a->why);
	return cli_fail(AGENT_SOFTWARE, "%s", a->why);
}

/* The KEY RR of key at its owner (an add). */
void key_rr(const struct sig0_key *k, uint16_t rclass, struct agent_rr *rr)
{
	size_t rdlen;
	const uint8_t *rd = sig0_key_rdata(k, &rdlen);
	memset(rr, 0, sizeof(*rr));
	rr->rclass = rclass;
	memcpy(rr->owner, sig0_key_owner(k), dname_len(sig0_key_owner(k)));
	rr->type = T_KEY;
	rr->ttl = rclass == CLASS_IN ? KEY_TTL : 0;
	rr->rdlen = (uint16_t)rdlen;
	memcpy(rr->rdata, rd, rdlen);
}

/*
 * tools/agent/main.c -- dsync-agent: options, the six commands, exit codes.
 *
 * Each command is a short sequence of steps: read the child's key, find the
 * UPDATE Receiver (discovery, or --server/--parent/--receiver-key), send
 * (send.c), and say what happened, as lines of "field: value" or, with
 * --json, one JSON object.  The exit status is what a script needs to know
 * (agent.h, doc/dsync-agent.1).  An answer that could not be authenticated
 * is never acted upon unless --insecure-ok says so.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <jansson.h>

#include "common/dname.h"
#include "common/dnsq.h"
#include "common/err.h"
#include "common/rrtext.h"
#include "common/version.h"
#include "sig0/sig0.h"
#include "tools/agent/agent.h"

#define DEFAULT_PORT 5354
#define DEFAULT_KS_OPTION 65002 /* D1 */
#define DEFAULT_SCHEME 2	/* D1 */
#define DEFAULT_SVCB_KEY 65282	/* D1 */
#define DEFAULT_TRUST_ANCHOR "/usr/share/dns/root.key"
#define DEFAULT_BOOT_TIMEOUT 600 /* s: bootstrap polls this long in all */
#define DEFAULT_POLL_MAX 60	 /* s: longest wait between two polls */
#define KEY_TTL 3600		 /* TTL of the KEY records we send and print */
#define MAX_NS 16
#define MAX_GEN_TRIES 8 /* a new key whose tag names an existing file: try again */

/* ---- options ---------------------------------------------------------------- */

/* Options that only some commands take (the others refuse them). */
enum {
	OB_KEY = 1u << 0,
	OB_ALG = 1u << 1,
	OB_DIR = 1u << 2,
	OB_NS = 1u << 3,
	OB_RECORDS = 1u << 4, /* --add, --del, --del-rrset, --cds, --ns-port */
	OB_POLL = 1u << 5,    /* --timeout, --poll-max */
	OB_NET = 1u << 6,     /* server, receiver, transport, resolver options */
};

struct item {
	uint16_t rclass;
	const char *text;
};

struct opts {
	const char *cmd;
	const char *zone_text;
	uint8_t zone[DNAME_MAX];
	const char *server;
	long port; /* -1: not given */
	const char *key;
	const char *receiver_key;
	const char *resolver_config;
	const char *trust_anchor;
	const char *parent_text;
	bool json, tcp, udp, insecure_ok, cds, quiet;
	unsigned query_timeout_ms;
	unsigned retries;
	unsigned timeout_s, poll_max_s;
	uint8_t alg; /* 0: the command's default */
	const char *dir;
	const char *ns[MAX_NS];
	size_t nns;
	struct item items[AGENT_MAX_RRS];
	size_t nitems;
	uint16_t ks_option;
	uint8_t scheme;
	uint16_t svcb_key;
	uint16_t ns_port;
	unsigned used; /* OB_* bits of the options given */
};

/* Everything a command works with; freed by ctx_free(). */
struct ctx {
	struct opts *o;
	struct sig0_key *key;
	struct bm_resolver *res;
	struct agent_discovery *disc; /* NULL when discovery did not run */
	struct agent_target target;
	struct sig0_key *rkey[AGENT_MAX_KEYS];
	size_t nrkey;
	uint8_t parent[DNAME_MAX];
	json_t *out; /* the --json object */
};

static void usage(FILE *f)
{
	fputs(
	    "usage: dsync-agent COMMAND ZONE [options]\n"
	    "The child side of delegation management by DNS UPDATE (dsync-agent(1)).\n"
	    "\n"
	    "Commands:\n"
	    "  keygen ZONE      make a SIG(0) key pair (BIND files) and print its KEY records\n"
	    "  discover ZONE    find the parent's UPDATE Receiver (DSYNC) and say what is secure\n"
	    "  inquire ZONE     ask the receiver for the KeyState of the child's key\n"
	    "  bootstrap ZONE   upload the key (self-signed UPDATE), poll until trusted\n"
	    "  update ZONE      send a delegation UPDATE (--add/--del or the computed difference)\n"
	    "  roll ZONE        replace the key: new key added by the old, old one removed\n"
	    "\n"
	    "Options:\n"
	    "  --key FILE               the child's key pair (K<zone>+<alg>+<tag>, suffix "
	    "optional)\n"
	    "  --server ADDR            the receiver's address (skips discovery of it)\n"
	    "  --port N                 the receiver's port (default: discovered, or 5354)\n"
	    "  --parent ZONE            the parent zone (default: discovered, or ZONE minus a "
	    "label)\n"
	    "  --receiver-key FILE|RR   the receiver's KEY, to authenticate its answers\n"
	    "  --resolver-config FILE   unbound.conf for the validating resolver\n"
	    "  --trust-anchor FILE      DNSSEC trust anchor (default " DEFAULT_TRUST_ANCHOR ")\n"
	    "  --insecure-ok            act on answers that are not authenticated\n"
	    "  --tcp | --udp            all requests over TCP | UPDATEs over UDP first too\n"
	    "  --query-timeout MS       wait for one answer (default 5000; less only for tests)\n"
	    "  --retries N              retries on no answer or SERVFAIL (0..5, default 5)\n"
	    "  --keystate-option N      KeyState EDNS option code (default 65002)\n"
	    "  --scheme N --svcb-key N  DSYNC scheme (2) and SVCB bootstrap key (65282)\n"
	    "  --json                   one JSON object on stdout\n"
	    "  --quiet                  no notes about failed tries on stderr\n"
	    "keygen:    --algorithm 15|13|14|16  --dir D  --ns NSNAME (repeatable)\n"
	    "bootstrap: --timeout S (default 600)  --poll-max S (default 60)\n"
	    "update:    --add 'RR'  --del 'RR'  --del-rrset 'NAME TYPE' (repeatable);\n"
	    "           without them: --cds, --ns-port N (parent's servers, default 53)\n"
	    "roll:      --key OLD  --algorithm A  --dir D\n"
	    "\n"
	    "Exit: 0 done, 1 refused, 2 pending (timeout), 3 no answer or discovery failed,\n"
	    "  4 not authenticated, 64 usage, 70 local failure.\n",
	    f);
}

static int fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(int code, const char *fmt, ...)
{
	va_list ap;
	fputs("dsync-agent: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

static bool num_arg(const char *s, long min, long max, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != 0 || v < min || v > max)
		return false;
	*out = v;
	return true;
}

enum {
	O_SERVER = 256,
	O_PORT,
	O_KEY,
	O_RKEY,
	O_RESCONF,
	O_TA,
	O_JSON,
	O_PARENT,
	O_TCP,
	O_UDP,
	O_INSECURE,
	O_QTIMEOUT,
	O_RETRIES,
	O_TIMEOUT,
	O_POLLMAX,
	O_ALG,
	O_DIR,
	O_NS,
	O_ADD,
	O_DEL,
	O_DELRRSET,
	O_CDS,
	O_NSPORT,
	O_KSOPT,
	O_SCHEME,
	O_SVCBKEY,
	O_QUIET,
	O_HELP,
	O_VERSION,
};

static const struct option long_opts[] = {
    {"server", required_argument, NULL, O_SERVER},
    {"port", required_argument, NULL, O_PORT},
    {"key", required_argument, NULL, O_KEY},
    {"receiver-key", required_argument, NULL, O_RKEY},
    {"resolver-config", required_argument, NULL, O_RESCONF},
    {"trust-anchor", required_argument, NULL, O_TA},
    {"json", no_argument, NULL, O_JSON},
    {"parent", required_argument, NULL, O_PARENT},
    {"tcp", no_argument, NULL, O_TCP},
    {"udp", no_argument, NULL, O_UDP},
    {"insecure-ok", no_argument, NULL, O_INSECURE},
    {"query-timeout", required_argument, NULL, O_QTIMEOUT},
    {"retries", required_argument, NULL, O_RETRIES},
    {"timeout", required_argument, NULL, O_TIMEOUT},
    {"poll-max", required_argument, NULL, O_POLLMAX},
    {"algorithm", required_argument, NULL, O_ALG},
    {"dir", required_argument, NULL, O_DIR},
    {"ns", required_argument, NULL, O_NS},
    {"add", required_argument, NULL, O_ADD},
    {"del", required_argument, NULL, O_DEL},
    {"del-rrset", required_argument, NULL, O_DELRRSET},
    {"cds", no_argument, NULL, O_CDS},
    {"ns-port", required_argument, NULL, O_NSPORT},
    {"keystate-option", required_argument, NULL, O_KSOPT},
    {"scheme", required_argument, NULL, O_SCHEME},
    {"svcb-key", required_argument, NULL, O_SVCBKEY},
    {"quiet", no_argument, NULL, O_QUIET},
    {"help", no_argument, NULL, O_HELP},
    {"version", no_argument, NULL, O_VERSION},
    {NULL, 0, NULL, 0},
};

/* The options each command takes besides the ones all take (--json, --quiet). */
static unsigned cmd_options(const char *cmd)
{
	if (strcmp(cmd, "keygen") == 0)
		return OB_ALG | OB_DIR | OB_NS;
	if (strcmp(cmd, "discover") == 0)
		return OB_NET;
	if (strcmp(cmd, "inquire") == 0)
		return OB_NET | OB_KEY;
	if (strcmp(cmd, "bootstrap") == 0)
		return OB_NET | OB_KEY | OB_POLL;
	if (strcmp(cmd, "update") == 0)
		return OB_NET | OB_KEY | OB_RECORDS;
	if (strcmp(cmd, "roll") == 0)
		return OB_NET | OB_KEY | OB_ALG | OB_DIR;
	return 0;
}

/* Parse argv; returns 0 or an exit status (usage printed). */
static int parse_opts(struct opts *o, int argc, char **argv)
{
	long v;
	int c;
	memset(o, 0, sizeof(*o));
	o->port = -1;
	o->query_timeout_ms = AGENT_TRY_MS;
	o->retries = AGENT_MAX_RETRIES;
	o->timeout_s = DEFAULT_BOOT_TIMEOUT;
	o->poll_max_s = DEFAULT_POLL_MAX;
	o->ks_option = DEFAULT_KS_OPTION;
	o->scheme = DEFAULT_SCHEME;
	o->svcb_key = DEFAULT_SVCB_KEY;
	o->ns_port = 53;

	while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		switch (c) {
		case O_SERVER:
			o->server = optarg;
			o->used |= OB_NET;
			break;
		case O_PORT:
			if (!num_arg(optarg, 1, 65535, &v))
				return fail(AGENT_USAGE, "bad --port \"%s\"", optarg);
			o->port = v;
			o->used |= OB_NET;
			break;
		case O_KEY:
			o->key = optarg;
			o->used |= OB_KEY;
			break;
		case O_RKEY:
			o->receiver_key = optarg;
			o->used |= OB_NET;
			break;
		case O_RESCONF:
			o->resolver_config = optarg;
			o->used |= OB_NET;
			break;
		case O_TA:
			o->trust_anchor = optarg;
			o->used |= OB_NET;
			break;
		case O_JSON:
			o->json = true;
			break;
		case O_QUIET:
			o->quiet = true;
			break;
		case O_PARENT:
			o->parent_text = optarg;
			o->used |= OB_NET;
			break;
		case O_TCP:
			o->tcp = true;
			o->used |= OB_NET;
			break;
		case O_UDP:
			o->udp = true;
			o->used |= OB_NET;
			break;
		case O_INSECURE:
			o->insecure_ok = true;
			o->used |= OB_NET;
			break;
		case O_QTIMEOUT:
			if (!num_arg(optarg, 100, 600000, &v))
				return fail(AGENT_USAGE,
					    "bad --query-timeout \"%s\" (100..600000 ms)", optarg);
			o->query_timeout_ms = (unsigned)v;
			o->used |= OB_NET;
			break;
		case O_RETRIES:
			if (!num_arg(optarg, 0, AGENT_MAX_RETRIES, &v))
				return fail(AGENT_USAGE, "bad --retries \"%s\" (0..%d)", optarg,
					    AGENT_MAX_RETRIES);
			o->retries = (unsigned)v;
			o->used |= OB_NET;
			break;
		case O_TIMEOUT:
			if (!num_arg(optarg, 1, 31 * 86400, &v))
				return fail(AGENT_USAGE, "bad --timeout \"%s\" (seconds)", optarg);
			o->timeout_s = (unsigned)v;
			o->used |= OB_POLL;
			break;
		case O_POLLMAX:
			if (!num_arg(optarg, 1, 86400, &v))
				return fail(AGENT_USAGE, "bad --poll-max \"%s\" (seconds)", optarg);
			o->poll_max_s = (unsigned)v;
			o->used |= OB_POLL;
			break;
		case O_ALG:
			if (!num_arg(optarg, 1, 255, &v) ||
			    (v != ALG_ED25519 && v != ALG_ECDSAP256SHA256 &&
			     v != ALG_ECDSAP384SHA384 && v != ALG_ED448))
				return fail(
				    AGENT_USAGE,
				    "bad --algorithm \"%s\" (15 ED25519, 13 ECDSAP256SHA256, "
				    "14 ECDSAP384SHA384, 16 ED448)",
				    optarg);
			o->alg = (uint8_t)v;
			o->used |= OB_ALG;
			break;
		case O_DIR:
			o->dir = optarg;
			o->used |= OB_DIR;
			break;
		case O_NS:
			if (o->nns == MAX_NS)
				return fail(AGENT_USAGE, "at most %d --ns", MAX_NS);
			o->ns[o->nns++] = optarg;
			o->used |= OB_NS;
			break;
		case O_ADD:
		case O_DEL:
		case O_DELRRSET:
			if (o->nitems == AGENT_MAX_RRS)
				return fail(AGENT_USAGE, "at most %d records", AGENT_MAX_RRS);
			o->items[o->nitems].rclass = c == O_ADD	  ? CLASS_IN
						     : c == O_DEL ? CLASS_NONE
								  : CLASS_ANY;
			o->items[o->nitems++].text = optarg;
			o->used |= OB_RECORDS;
			break;
		case O_CDS:
			o->cds = true;
			o->used |= OB_RECORDS;
			break;
		case O_NSPORT:
			if (!num_arg(optarg, 1, 65535, &v))
				return fail(AGENT_USAGE, "bad --ns-port \"%s\"", optarg);
			o->ns_port = (uint16_t)v;
			o->used |= OB_RECORDS;
			break;
		case O_KSOPT:
		case O_SVCBKEY:
			if (!num_arg(optarg, 1, 65535, &v))
				return fail(AGENT_USAGE, "bad option code \"%s\"", optarg);
			if (c == O_KSOPT)
				o->ks_option = (uint16_t)v;
			else
				o->svcb_key = (uint16_t)v;
			o->used |= OB_NET;
			break;
		case O_SCHEME:
			if (!num_arg(optarg, 1, 255, &v))
				return fail(AGENT_USAGE, "bad --scheme \"%s\"", optarg);
			o->scheme = (uint8_t)v;
			o->used |= OB_NET;
			break;
		case 'h':
		case O_HELP:
			usage(stdout);
			exit(AGENT_OK);
		case O_VERSION:
			printf("dsync-agent %s\n", DSYNC_VERSION);
			exit(AGENT_OK);
		default:
			usage(stderr);
			return AGENT_USAGE;
		}
	}
	if (argc - optind != 2) {
		usage(stderr);
		return AGENT_USAGE;
	}
	o->cmd = argv[optind];
	o->zone_text = argv[optind + 1];
	unsigned allowed = cmd_options(o->cmd);
	if (allowed == 0)
		return fail(AGENT_USAGE, "unknown command \"%s\" (--help lists them)", o->cmd);
	if (o->used & ~allowed)
		return fail(AGENT_USAGE, "an option given does not apply to %s (--help)", o->cmd);
	if (dname_from_str(o->zone_text, o->zone) <= 0 || o->zone[0] == 0)
		return fail(AGENT_USAGE, "bad zone name \"%s\"", o->zone_text);
	if (o->tcp && o->udp)
		return fail(AGENT_USAGE, "--tcp and --udp exclude each other");
	if (o->nitems > 0 && o->cds)
		return fail(AGENT_USAGE,
			    "--cds is for the computed difference, not with --add/--del");
	if (o->query_timeout_ms < AGENT_TRY_MS && !o->quiet)
		fprintf(stderr,
			"dsync-agent: note: --query-timeout %u ms is below the draft's 5 s minimum "
			"(for tests)\n",
			o->query_timeout_ms);
	return 0;
}

/* ---- output ------------------------------------------------------------------- */

static void say(const struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const struct ctx *c, const char *fmt, ...)
{
	va_list ap;
	if (c->o->json)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void iso_time(time_t t, char *out, size_t outlen)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void jset(json_t *o, const char *k, json_t *v)
{
	if (o != NULL)
		json_object_set_new(o, k, v);
}

/*
 * Print an answer (server, RCODE, EDE, KeyState, authentication) and put
 * it in a JSON object, which it returns (owned by the caller).
 */
static json_t *show_answer(const struct ctx *c, const struct agent_answer *a)
{
	char rcb[16], ksb[16];
	const char *rc = rr_rcode_str(a->rcode, rcb, sizeof(rcb));
	json_t *j = json_object();
	say(c, "server: %s %s (try %u)", a->server, a->tcp ? "tcp" : "udp", a->tries);
	say(c, "rcode: %s", rc);
	jset(j, "server", json_string(a->server));
	jset(j, "transport", json_string(a->tcp ? "tcp" : "udp"));
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
static int auth_gate(const struct ctx *c, const struct agent_answer *a)
{
	if (agent_auth_ok(a->auth))
		return 0;
	if (c->o->insecure_ok) {
		if (!c->o->quiet)
			fprintf(stderr,
				"dsync-agent: warning: answer not authenticated (%s); "
				"going on (--insecure-ok)\n",
				a->auth_why);
		return 0;
	}
	return fail(AGENT_INSECURE,
		    "the answer is not authenticated (%s); not acting on it "
		    "(--insecure-ok to accept)",
		    a->auth_why);
}

/* ---- setup ------------------------------------------------------------------------ */

static void ctx_free(struct ctx *c)
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
	if (sig0_key_read(path, out, why, sizeof(why)) != DS_OK)
		return fail(AGENT_USAGE, "--key %s: %s", path, why);
	if (!dname_equal(sig0_key_owner(*out), c->o->zone)) {
		fail(AGENT_USAGE, "--key %s is a key of %s, not of %s", path,
		     dname_str(sig0_key_owner(*out), a, sizeof(a)),
		     dname_str(c->o->zone, b, sizeof(b)));
		sig0_key_free(*out);
		*out = NULL;
		return AGENT_USAGE;
	}
	return 0;
}

static int open_resolver(struct ctx *c)
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
		return fail(AGENT_SOFTWARE, "out of memory");
	if (rc != DS_OK)
		return fail(AGENT_USAGE, "resolver: %s", why);
	return 0;
}

static json_t *discovery_json(const struct agent_discovery *d)
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

static int discover(struct ctx *c)
{
	int rc = open_resolver(c);
	if (rc != 0)
		return rc;
	c->disc = calloc(1, sizeof(*c->disc));
	if (c->disc == NULL)
		return fail(AGENT_SOFTWARE, "out of memory");
	rc = agent_discover(c->res, c->o->zone, c->o->scheme, c->o->svcb_key, c->disc);
	if (rc == DS_ENOMEM)
		return fail(AGENT_SOFTWARE, "out of memory");
	if (rc != DS_OK) {
		fputs(c->disc->report, stderr);
		return fail(AGENT_UNREACHABLE, "discovery of the UPDATE Receiver failed (%s)",
			    rc == DS_ENOENT ? "no usable DSYNC record" : "lookups failed");
	}
	return 0;
}

/*
 * Where to send and how to check answers: discovery when no --server is
 * given, or when no --receiver-key is and a resolver was configured; then
 * the overrides.
 */
static int prepare(struct ctx *c)
{
	struct opts *o = c->o;
	struct agent_target *t = &c->target;
	char why[512] = "", a[DNAME_STR_MAX];
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
	if (o->server != NULL) {
		if (dnsq_addr_from_str(o->server, (uint16_t)(o->port > 0 ? o->port : DEFAULT_PORT),
				       &t->addr[0], &t->addrlen[0]) != DS_OK)
			return fail(AGENT_USAGE, "bad --server \"%s\" (a numeric address)",
				    o->server);
		t->naddr = 1;
	} else {
		for (size_t i = 0; i < c->disc->naddr; i++) {
			t->addr[i] = c->disc->addr[i];
			t->addrlen[i] = c->disc->addrlen[i];
			if (o->port > 0 && t->addr[i].ss_family == AF_INET)
				((struct sockaddr_in *)&t->addr[i])->sin_port =
				    htons((uint16_t)o->port);
			else if (o->port > 0)
				((struct sockaddr_in6 *)&t->addr[i])->sin6_port =
				    htons((uint16_t)o->port);
		}
		t->naddr = c->disc->naddr;
		if (t->naddr == 0)
			return fail(AGENT_UNREACHABLE, "the UPDATE Receiver %s has no address",
				    dname_str(c->disc->target, a, sizeof(a)));
	}
	if (o->receiver_key != NULL) {
		rc = agent_pubkey_from_text(o->receiver_key, &c->rkey[0], why, sizeof(why));
		if (rc == DS_ENOMEM)
			return fail(AGENT_SOFTWARE, "out of memory");
		if (rc != DS_OK)
			return fail(AGENT_USAGE, "--receiver-key: %s", why);
		c->nrkey = 1;
	} else if (c->disc != NULL && c->disc->nkey > 0 &&
		   !agent_receiver_key_usable(c->disc, o->server == NULL, why, sizeof(why))) {
		if (!o->quiet)
			fprintf(
			    stderr,
			    "dsync-agent: receiver KEY from discovery not used: not secure: %s\n",
			    why);
	} else if (c->disc != NULL && c->disc->nkey > 0) {
		struct sig0_limits lim;
		sig0_limits_default(&lim);
		memset(lim.alg_allowed, 0xff, sizeof(lim.alg_allowed));
		lim.rsa_min_bits = 1024;
		for (size_t i = 0; i < c->disc->nkey && c->nrkey < AGENT_MAX_KEYS; i++)
			if (sig0_key_new(c->disc->target, c->disc->key[i].rdata,
					 c->disc->key[i].rdlen, &lim, &c->rkey[c->nrkey], why,
					 sizeof(why)) == DS_OK)
				c->nrkey++;
			else if (!o->quiet)
				fprintf(stderr, "dsync-agent: receiver KEY %zu not usable: %s\n",
					i + 1, why);
	}
	for (size_t i = 0; i < c->nrkey; i++)
		t->rkey[i] = c->rkey[i];
	t->nrkey = c->nrkey;

	if (o->parent_text != NULL) {
		if (dname_from_str(o->parent_text, c->parent) <= 0)
			return fail(AGENT_USAGE, "bad --parent \"%s\"", o->parent_text);
	} else if (c->disc != NULL) {
		memcpy(c->parent, c->disc->parent, dname_len(c->disc->parent));
	} else {
		const uint8_t *p = dname_parent(o->zone);
		memcpy(c->parent, p, dname_len(p));
	}
	if (!dname_is_strict_sub(o->zone, c->parent))
		return fail(AGENT_USAGE, "%s is not below the parent %s", o->zone_text,
			    dname_str(c->parent, a, sizeof(a)));
	return 0;
}

static struct agent_request *request_new(void)
{
	struct agent_request *r = calloc(1, sizeof(*r));
	if (r == NULL)
		fail(AGENT_SOFTWARE, "out of memory");
	return r;
}

/* No answer at all (or a local failure) from agent_send(). */
static int send_failed(int rc, const struct agent_answer *a)
{
	if (rc == DS_ENOMEM)
		return fail(AGENT_SOFTWARE, "out of memory");
	if (rc == DS_EAGAIN)
		return fail(AGENT_UNREACHABLE, "no answer after %u tr%s: %s", a->tries,
			    a->tries == 1 ? "y" : "ies", a->why);
	return fail(AGENT_SOFTWARE, "%s", a->why);
}

/* The KEY RR of key at its owner (an add). */
static void key_rr(const struct sig0_key *k, uint16_t rclass, struct agent_rr *rr)
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

/* ---- keygen ------------------------------------------------------------------------ */

/* Generate and write a pair for owner in dir; prefix gets the file prefix. */
static int make_key(const uint8_t *owner, uint8_t alg, const char *dir, struct sig0_key **out,
		    char *prefix, size_t prefixlen)
{
	char why[512] = "";
	time_t now = time(NULL);
	struct sig0_key_times t = {.created = now, .publish = now, .activate = now};
	for (int i = 0; i < MAX_GEN_TRIES; i++) {
		int rc = sig0_key_generate(alg, owner, out, why, sizeof(why));
		if (rc == DS_OK)
			rc = sig0_key_write(*out, dir, &t, prefix, prefixlen, why, sizeof(why));
		if (rc == DS_OK)
			return 0;
		sig0_key_free(*out);
		*out = NULL;
		if (rc == DS_ENOMEM)
			return fail(AGENT_SOFTWARE, "out of memory");
		if (rc != DS_EEXIST)
			return fail(AGENT_SOFTWARE, "key generation: %s", why);
	}
	return fail(AGENT_SOFTWARE, "key generation: every new key's tag named an existing file");
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
			return fail(AGENT_SOFTWARE, "cannot print the KEY record");
		}
		say(c, "%s", text);
		json_array_append_new(recs, json_string(text));
	}
	jset(c->out, "records", recs);
	return 0;
}

static int cmd_keygen(struct ctx *c)
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
			return fail(AGENT_USAGE, "bad --ns name \"%s\"", o->ns[i]);
		snprintf(text, sizeof(text), "_sig0key.%s_signal.%s", zone,
			 dname_str(ns, nstext, sizeof(nstext)));
		if (dname_from_str(text, ns_owner[i]) <= 0)
			return fail(AGENT_USAGE,
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

/* ---- discover ----------------------------------------------------------------------- */

static int cmd_discover(struct ctx *c)
{
	int rc = discover(c);
	if (rc != 0)
		return rc;
	const struct agent_discovery *d = c->disc;
	char buf[DNAME_STR_MAX];
	if (c->o->json) {
		json_t *j = discovery_json(d);
		json_object_update(c->out, j);
		json_decref(j);
		return 0;
	}
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
	return 0;
}

/* ---- inquire ------------------------------------------------------------------------ */

/* Exit status for a KeyState code. */
static int ks_exit(uint8_t code)
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
static int inquire(struct ctx *c, const struct agent_target *t, const struct sig0_key *key,
		   bool show, json_t **shown, struct agent_answer *a)
{
	struct agent_request *req = request_new();
	char rcb[16];
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
		return fail(a->rcode == RC_SERVFAIL ? AGENT_UNREACHABLE : AGENT_REFUSED,
			    "the inquiry was answered %s%s%s",
			    rr_rcode_str(a->rcode, rcb, sizeof(rcb)), a->has_ede ? ": " : "",
			    a->has_ede ? a->ede_text : "");
	if (!a->has_ks)
		return fail(AGENT_REFUSED, "the answer carries no KeyState option");
	if (a->ks.key_id != sig0_key_tag(key))
		return fail(AGENT_REFUSED, "the answer is about key %u, not %u", a->ks.key_id,
			    sig0_key_tag(key));
	return 0;
}

static int cmd_inquire(struct ctx *c)
{
	struct agent_answer a;
	json_t *j = NULL;
	int rc;
	if (c->o->key == NULL)
		return fail(AGENT_USAGE, "inquire needs --key");
	if ((rc = prepare(c)) != 0)
		return rc;
	rc = inquire(c, &c->target, c->key, true, &j, &a);
	if (j != NULL)
		jset(c->out, "answer", j);
	if (rc != 0)
		return rc;
	return ks_exit(a.ks.state);
}

/* ---- bootstrap ------------------------------------------------------------------------ */

static void state_line(struct ctx *c, json_t *states, const struct ks_opt *ks)
{
	char when[32], ksb[16];
	const char *name = agent_ks_str(ks->state, ksb, sizeof(ksb));
	iso_time(time(NULL), when, sizeof(when));
	say(c, "%s state %u %s (key %u)%s%s%s", when, ks->state, name, ks->key_id,
	    ks->text[0] ? " \"" : "", ks->text, ks->text[0] ? "\"" : "");
	json_t *s = json_object();
	jset(s, "time", json_string(when));
	jset(s, "code", json_integer(ks->state));
	jset(s, "name", json_string(name));
	jset(s, "text", json_string(ks->text));
	json_array_append_new(states, s);
}

static int cmd_bootstrap(struct ctx *c)
{
	const struct opts *o = c->o;
	struct agent_answer a;
	struct agent_rr *rr = calloc(1, sizeof(*rr));
	struct agent_request *req = request_new();
	char rcb[16];
	int rc;
	json_t *states = json_array();
	jset(c->out, "states", states);
	if (rr == NULL || req == NULL) {
		free(rr);
		free(req);
		return AGENT_SOFTWARE;
	}
	if (o->key == NULL) {
		rc = fail(AGENT_USAGE, "bootstrap needs --key");
		goto out;
	}
	if ((rc = prepare(c)) != 0)
		goto out;
	key_rr(c->key, CLASS_IN, rr);
	req->kind = AGENT_REQ_UPDATE;
	req->name = c->parent;
	req->rr = rr;
	req->nrr = 1;
	req->ks_code = o->ks_option;
	req->key = c->key;
	rc = agent_send(&c->target, req, &a);
	if (rc != DS_OK) {
		rc = send_failed(rc, &a);
		goto out;
	}
	jset(c->out, "upload", show_answer(c, &a));
	if ((rc = auth_gate(c, &a)) != 0)
		goto out;
	if (a.rcode != RC_NOERROR) {
		rc = fail(a.rcode == RC_SERVFAIL ? AGENT_UNREACHABLE : AGENT_REFUSED,
			  "the upload was answered %s%s%s", rr_rcode_str(a.rcode, rcb, sizeof(rcb)),
			  a.has_ede ? ": " : "", a.has_ede ? a.ede_text : "");
		goto out;
	}
	int last = -1;
	if (a.has_ks && a.ks.key_id == sig0_key_tag(c->key)) {
		state_line(c, states, &a.ks);
		last = a.ks.state;
		if (ks_exit(a.ks.state) != AGENT_PENDING) {
			rc = ks_exit(a.ks.state);
			goto out;
		}
	}

	/* poll: 1 s, doubling up to --poll-max, until --timeout in all */
	struct agent_target poll = c->target;
	poll.retries = 0; /* the polling is the retrying */
	time_t start = time(NULL), deadline = start + (time_t)o->timeout_s;
	unsigned wait = 1;
	for (;;) {
		time_t now = time(NULL);
		if (now >= deadline)
			break;
		unsigned nap = (time_t)wait < deadline - now ? wait : (unsigned)(deadline - now);
		sleep(nap);
		wait = wait * 2 < o->poll_max_s ? wait * 2 : o->poll_max_s;
		rc = inquire(c, &poll, c->key, false, NULL, &a);
		if (rc == AGENT_INSECURE || rc == AGENT_SOFTWARE)
			goto out;
		if (rc != 0)
			continue; /* no answer, or no state this time: poll again */
		if (a.ks.state != last)
			state_line(c, states, &a.ks);
		last = a.ks.state;
		if (ks_exit(a.ks.state) != AGENT_PENDING) {
			rc = ks_exit(a.ks.state);
			goto out;
		}
	}
	char ksb[16];
	rc = fail(AGENT_PENDING, "not trusted after %u s; last state: %s", o->timeout_s,
		  last < 0 ? "none" : agent_ks_str((uint8_t)last, ksb, sizeof(ksb)));
out:
	free(rr);
	free(req);
	return rc;
}

/* ---- update ------------------------------------------------------------------------------ */

/* The computed difference: what the child's zone wants vs what the parent has. */
static int compute_diff(struct ctx *c, struct agent_rr *rr, size_t *nrr)
{
	char why[512] = "";
	struct deleg *has = calloc(1, sizeof(*has)), *wants = calloc(1, sizeof(*wants));
	struct deleg *add = calloc(1, sizeof(*add)), *del = calloc(1, sizeof(*del));
	int rc = 0;
	if (has == NULL || wants == NULL || add == NULL || del == NULL) {
		rc = fail(AGENT_SOFTWARE, "out of memory");
		goto out;
	}
	if ((rc = open_resolver(c)) != 0)
		goto out;
	int e = agent_child_wants(c->res, c->o->zone, c->o->cds, wants, why, sizeof(why));
	if (e == DS_OK)
		e = agent_parent_has(c->res, c->o->zone, c->parent, c->o->ns_port, has, why,
				     sizeof(why));
	if (e != DS_OK) {
		rc = fail(e == DS_ENOMEM   ? AGENT_SOFTWARE
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
		rc = fail(AGENT_SOFTWARE, "more than %d changes", AGENT_MAX_RRS);
out:
	free(has);
	free(wants);
	free(add);
	free(del);
	return rc;
}

/* "add: RR" / "delete: RR" / "delete rrset: NAME TYPE" lines. */
static void show_changes(struct ctx *c, const struct agent_rr *rr, size_t n)
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

/* Send one UPDATE and judge its answer: 0 on an accepted NOERROR. */
static int send_update(struct ctx *c, const struct agent_rr *rr, size_t n,
		       const struct sig0_key *key, const char *step)
{
	struct agent_answer a;
	struct agent_request *req = request_new();
	char rcb[16];
	if (req == NULL)
		return AGENT_SOFTWARE;
	req->kind = AGENT_REQ_UPDATE;
	req->name = c->parent;
	req->rr = rr;
	req->nrr = n;
	req->key = key;
	int rc = agent_send(&c->target, req, &a);
	free(req);
	if (rc != DS_OK)
		return send_failed(rc, &a);
	jset(c->out, step, show_answer(c, &a));
	if ((rc = auth_gate(c, &a)) != 0)
		return rc;
	if (a.rcode == RC_NOERROR)
		return 0;
	return fail(a.rcode == RC_SERVFAIL ? AGENT_UNREACHABLE : AGENT_REFUSED,
		    "%s: the parent answered %s%s%s", step, rr_rcode_str(a.rcode, rcb, sizeof(rcb)),
		    a.has_ede ? ": " : "", a.has_ede ? a.ede_text : "");
}

static int cmd_update(struct ctx *c)
{
	const struct opts *o = c->o;
	struct agent_rr *rr = calloc(AGENT_MAX_RRS, sizeof(*rr));
	size_t n = 0;
	char why[512] = "";
	int rc;
	if (rr == NULL)
		return fail(AGENT_SOFTWARE, "out of memory");
	if (o->key == NULL) {
		rc = fail(AGENT_USAGE, "update needs --key");
		goto out;
	}
	/* explicit records are read before anything goes on the wire */
	for (size_t i = 0; i < o->nitems; i++)
		if (agent_rr_from_text(o->items[i].text, o->items[i].rclass, &rr[n++], why,
				       sizeof(why)) != DS_OK) {
			rc = fail(AGENT_USAGE, "\"%s\": %s", o->items[i].text, why);
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

/* ---- roll ------------------------------------------------------------------------------ */

static int cmd_roll(struct ctx *c)
{
	const struct opts *o = c->o;
	struct sig0_key *nk = NULL;
	struct agent_rr *rr = calloc(1, sizeof(*rr));
	struct agent_answer a;
	char prefix[4096], dirbuf[4096];
	json_t *j = NULL;
	int rc;
	if (rr == NULL)
		return fail(AGENT_SOFTWARE, "out of memory");
	if (o->key == NULL) {
		rc = fail(AGENT_USAGE, "roll needs --key OLD");
		goto out;
	}
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
		rc = fail(ks_exit(a.ks.state), "the new key is %s, not trusted",
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

/* ---- main ------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	struct opts o;
	struct ctx c;
	int rc = parse_opts(&o, argc, argv);
	if (rc != 0)
		return rc;
	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(&c, 0, sizeof(c));
	c.o = &o;
	c.out = json_object();
	if (c.out == NULL)
		return fail(AGENT_SOFTWARE, "out of memory");
	jset(c.out, "command", json_string(o.cmd));
	jset(c.out, "zone", json_string(o.zone_text));

	if (strcmp(o.cmd, "keygen") == 0)
		rc = cmd_keygen(&c);
	else if (strcmp(o.cmd, "discover") == 0)
		rc = cmd_discover(&c);
	else if (strcmp(o.cmd, "inquire") == 0)
		rc = cmd_inquire(&c);
	else if (strcmp(o.cmd, "bootstrap") == 0)
		rc = cmd_bootstrap(&c);
	else if (strcmp(o.cmd, "update") == 0)
		rc = cmd_update(&c);
	else
		rc = cmd_roll(&c);

	if (o.json) {
		jset(c.out, "exit", json_integer(rc));
		char *s = json_dumps(c.out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		if (s != NULL)
			puts(s);
		free(s);
	}
	ctx_free(&c);
	return rc;
}

/*
 * tools/agent/main.c -- dsync-agent: the options and main().
 *
 * Each command is a short sequence of steps: read the child's key, find the
 * UPDATE Receiver (discovery, or --server/--parent/--receiver-key), send
 * (send.c), and say what happened, as lines of "field: value" or, with
 * --json, one JSON object.  The exit status is what a script needs to know
 * (agent.h, doc/dsync-agent.1).  An answer that could not be authenticated
 * is never acted upon unless --insecure-ok says so.
 */
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/dname.h"
#include "common/version.h"
#include "sig0/sig0.h"
#include "tools/agent/commands.h"

#define STR_(x) #x
#define STR(x) STR_(x)

const char cli_prog[] = "dsync-agent";

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
	    "  -h, --help               this text;  -V, --version  the version\n"
	    "keygen:    --algorithm 15|13|14|16  --dir D  --ns NSNAME (repeatable)\n"
	    "bootstrap: --timeout S (default 600)  --poll-max S (default 60)\n"
	    "update:    --add 'RR'  --del 'RR'  --del-rrset 'NAME TYPE' (repeatable);\n"
	    "           without them: --cds, --ns-port N (parent's servers, default 53)\n"
	    "roll:      --key OLD  --algorithm A  --dir D\n"
	    "\n"
	    "Exit: 0 done, 1 refused, 64 usage, 65/66 bad/missing key file, 69 no answer or\n"
	    "  discovery failed, 70 internal, 73 key files not written, 75 pending (try\n"
	    "  again later), 76 not authenticated.\n",
	    f);
}

/* How an option's argument is kept in struct opts. */
enum opt_kind {
	K_TEXT,	   /* const char *: the argument */
	K_FLAG,	   /* bool: set */
	K_NUM,	   /* long: a number from min to max */
	K_ALG,	   /* --algorithm */
	K_NS,	   /* --ns, repeatable */
	K_ITEM,	   /* --add, --del, --del-rrset: min is the class */
	K_HELP,	   /* --help, -h */
	K_VERSION, /* --version, -V */
};

struct opt_def {
	const char *name;
	enum opt_kind kind;
	unsigned bit;	  /* the OB_* it belongs to; 0: every command takes it */
	size_t off;	  /* K_TEXT, K_FLAG, K_NUM: the field of struct opts */
	long min, max;	  /* K_NUM: the range; K_ITEM: min is the class */
	const char *what; /* K_NUM: named so in the message */
	const char *hint; /* K_NUM: after the message */
};

#define OFF(field) offsetof(struct opts, field)
#define TEXT(name, bit, field)                                                                     \
	{                                                                                          \
		name, K_TEXT, bit, OFF(field), 0, 0, NULL, NULL                                    \
	}
#define FLAG(name, bit, field)                                                                     \
	{                                                                                          \
		name, K_FLAG, bit, OFF(field), 0, 0, NULL, NULL                                    \
	}
#define NUM(name, bit, field, min, max, what, hint)                                                \
	{                                                                                          \
		name, K_NUM, bit, OFF(field), min, max, what, hint                                 \
	}
#define OTHER(name, kind, bit, rclass)                                                             \
	{                                                                                          \
		name, kind, bit, 0, rclass, 0, NULL, NULL                                          \
	}

/* every option, in the order --help lists them */
static const struct opt_def OPTS[] = {
    TEXT("server", OB_NET, server),
    NUM("port", OB_NET, port, 1, 65535, "--port", ""),
    TEXT("key", OB_KEY, key),
    TEXT("receiver-key", OB_NET, receiver_key),
    TEXT("resolver-config", OB_NET, resolver_config),
    TEXT("trust-anchor", OB_NET, trust_anchor),
    FLAG("json", 0, json),
    TEXT("parent", OB_NET, parent_text),
    FLAG("tcp", OB_NET, tcp),
    FLAG("udp", OB_NET, udp),
    FLAG("insecure-ok", OB_NET, insecure_ok),
    NUM("query-timeout", OB_NET, query_timeout_ms, 100, 600000, "--query-timeout",
	" (100..600000 ms)"),
    NUM("retries", OB_NET, retries, 0, AGENT_MAX_RETRIES, "--retries",
	" (0.." STR(AGENT_MAX_RETRIES) ")"),
    NUM("timeout", OB_POLL, timeout_s, 1, 31 * 86400, "--timeout", " (seconds)"),
    NUM("poll-max", OB_POLL, poll_max_s, 1, 86400, "--poll-max", " (seconds)"),
    OTHER("algorithm", K_ALG, OB_ALG, 0),
    TEXT("dir", OB_DIR, dir),
    OTHER("ns", K_NS, OB_NS, 0),
    OTHER("add", K_ITEM, OB_RECORDS, CLASS_IN),
    OTHER("del", K_ITEM, OB_RECORDS, CLASS_NONE),
    OTHER("del-rrset", K_ITEM, OB_RECORDS, CLASS_ANY),
    FLAG("cds", OB_RECORDS, cds),
    NUM("ns-port", OB_RECORDS, ns_port, 1, 65535, "--ns-port", ""),
    NUM("keystate-option", OB_NET, ks_option, 1, 65535, "option code", ""),
    NUM("scheme", OB_NET, scheme, 1, 255, "--scheme", ""),
    NUM("svcb-key", OB_NET, svcb_key, 1, 65535, "option code", ""),
    FLAG("quiet", 0, quiet),
    OTHER("help", K_HELP, 0, 0),
    OTHER("version", K_VERSION, 0, 0),
};

#define NOPTS (sizeof(OPTS) / sizeof(OPTS[0]))

/* --algorithm: the algorithms keygen can make */
static int take_alg(struct opts *o, const char *arg)
{
	long v;

	if (!cli_num(arg, 1, 255, &v) || (v != ALG_ED25519 && v != ALG_ECDSAP256SHA256 &&
					  v != ALG_ECDSAP384SHA384 && v != ALG_ED448))
		return cli_fail(AGENT_USAGE,
				"bad --algorithm \"%s\" (15 ED25519, 13 ECDSAP256SHA256, "
				"14 ECDSAP384SHA384, 16 ED448)",
				arg);
	o->alg = (uint8_t)v;
	return 0;
}

/* --ns, --add, --del, --del-rrset: one more of a bounded list */
static int take_listed(struct opts *o, const struct opt_def *d, const char *arg)
{
	if (d->kind == K_NS) {
		if (o->nns == MAX_NS)
			return cli_fail(AGENT_USAGE, "at most %d --ns", MAX_NS);
		o->ns[o->nns++] = arg;
		return 0;
	}
	if (o->nitems == AGENT_MAX_RRS)
		return cli_fail(AGENT_USAGE, "at most %d records", AGENT_MAX_RRS);
	o->items[o->nitems].rclass = (uint16_t)d->min;
	o->items[o->nitems++].text = arg;
	return 0;
}

/* Take one option d with its argument arg (NULL for flags) into o. */
static int take(struct opts *o, const struct opt_def *d, const char *arg)
{
	char *field = (char *)o + d->off;
	long v;

	o->used |= d->bit;
	switch (d->kind) {
	case K_TEXT:
		*(const char **)field = arg;
		return 0;
	case K_FLAG:
		*(bool *)field = true;
		return 0;
	case K_NUM:
		if (!cli_num(arg, d->min, d->max, &v))
			return cli_fail(AGENT_USAGE, "bad %s \"%s\"%s", d->what, arg, d->hint);
		*(long *)field = v;
		return 0;
	case K_ALG:
		return take_alg(o, arg);
	case K_NS:
	case K_ITEM:
		return take_listed(o, d, arg);
	case K_HELP:
		usage(stdout);
		exit(AGENT_OK);
	case K_VERSION:
		printf("dsync-agent %s\n", DSYNC_VERSION);
		exit(AGENT_OK);
	}
	return 0;
}

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

/* The defaults of the options. */
static void opts_init(struct opts *o)
{
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
}

/* The command and zone, and the options that go together. */
static int check_opts(struct opts *o)
{
	unsigned allowed = cmd_options(o->cmd);

	if (allowed == 0)
		return cli_fail(AGENT_USAGE, "unknown command \"%s\" (--help lists them)", o->cmd);
	if (o->used & ~allowed)
		return cli_fail(AGENT_USAGE, "an option given does not apply to %s (--help)",
				o->cmd);
	if (dname_from_str(o->zone_text, o->zone) <= 0 || o->zone[0] == 0)
		return cli_fail(AGENT_USAGE, "bad zone name \"%s\"", o->zone_text);
	if (o->tcp && o->udp)
		return cli_fail(AGENT_USAGE, "--tcp and --udp exclude each other");
	if (o->nitems > 0 && o->cds)
		return cli_fail(AGENT_USAGE,
				"--cds is for the computed difference, not with --add/--del");
	if (o->query_timeout_ms < AGENT_TRY_MS && !o->quiet)
		fprintf(
		    stderr,
		    "dsync-agent: note: --query-timeout %ld ms is below the draft's 5 s minimum "
		    "(for tests)\n",
		    o->query_timeout_ms);
	return 0;
}

/* Parse argv; returns 0 or an exit status (usage printed). */
static int parse_opts(struct opts *o, int argc, char **argv)
{
	struct option lo[NOPTS + 1];
	int c, rc;

	opts_init(o);
	memset(lo, 0, sizeof(lo));
	for (size_t i = 0; i < NOPTS; i++) {
		enum opt_kind k = OPTS[i].kind;

		lo[i].name = OPTS[i].name;
		lo[i].has_arg =
		    k == K_FLAG || k == K_HELP || k == K_VERSION ? no_argument : required_argument;
		lo[i].val = 256 + (int)i;
	}
	while ((c = getopt_long(argc, argv, "hV", lo, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			exit(AGENT_OK);
		}
		if (c == 'V') {
			printf("dsync-agent %s\n", DSYNC_VERSION);
			exit(AGENT_OK);
		}
		if (c < 256 || c >= 256 + (int)NOPTS) {
			usage(stderr);
			return AGENT_USAGE;
		}
		if ((rc = take(o, &OPTS[c - 256], optarg)) != 0)
			return rc;
	}
	if (argc - optind != 2) {
		usage(stderr);
		return AGENT_USAGE;
	}
	o->cmd = argv[optind];
	o->zone_text = argv[optind + 1];
	return check_opts(o);
}

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
		return cli_fail(AGENT_SOFTWARE, "out of memory");
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

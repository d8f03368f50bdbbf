/*
 * tests/tools/bm-probe.c -- run one automatic bootstrap method
 * (keystate/methods.h) against the live DNS and print what it found.
 *
 * For the integration tests and for operators who want to see why a
 * child's key does not validate: it calls the same functions dsyncd's
 * scheduler calls, with a delegation given on the command line.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <arpa/inet.h>

#include "common/deleg.h"
#include "common/dname.h"
#include "common/dnsq.h"
#include "common/err.h"
#include "keystate/methods.h"
#include "sig0/sig0.h"

enum { EXIT_BM_OK = 0, EXIT_BM_FAIL = 1, EXIT_BM_TEMP = 2, EXIT_BM_NA = 3, EXIT_USAGE = 64 };

#define MAX_VANTAGE 16
#define MAX_FORWARD 16
#define KEY_RDATA_MAX 2048

static void usage(FILE *f)
{
	fputs("usage: bm-probe [options] METHOD CHILD KEYFILE [NS[=ADDR]]...\n"
	      "Run one key bootstrap method of dsyncd and print its result.\n"
	      "\n"
	      "  METHOD             at-apex, at-ns or unsigned\n"
	      "  CHILD              the child zone\n"
	      "  KEYFILE            the child's public SIG(0) key: a BIND K*.key file\n"
	      "                     (suffix optional) or one KEY RR in presentation format\n"
	      "  NS[=ADDR]          an NS target of the parent-side delegation, with an\n"
	      "                     optional glue address (repeat NS=ADDR for more)\n"
	      "\n"
	      "Resolver (at-apex, at-ns, and unsigned for NS names without glue):\n"
	      "  --config FILE      an unbound.conf for libunbound\n"
	      "  --ta FILE          trust anchor file (DNSKEY or DS lines)\n"
	      "  --hints FILE       root hints file\n"
	      "  --forward ADDR     forward to this resolver (addr or addr@port; repeatable)\n"
	      "  --timeout MS       each lookup and each nameserver query (default 5000)\n"
	      "  --rounds N         run the method N times (default 1), emptying the\n"
	      "                     resolver's cache before each round after the first\n"
	      "\n"
	      "unsigned:\n"
	      "  --port N           the nameservers' port (default 53)\n"
	      "  --vantage ADDR     ask each nameserver from this source address, or\n"
	      "                     from the kernel's choice with \"any\" (repeatable;\n"
	      "                     default: \"any\" unless --via-resolver is given)\n"
	      "  --via-resolver ADDR[#PORT]\n"
	      "                     ask <child> KEY (RD=1) through this recursive\n"
	      "                     resolver (port 53 unless given; repeatable).  With\n"
	      "                     only --via-resolver (no --vantage), the nameservers\n"
	      "                     themselves are not asked\n"
	      "at-ns:\n"
	      "  --any              one nameserver is enough (default: all must count)\n"
	      "\n"
	      "Prints \"RESULT: reason\" per round, with RESULT ok, fail, temporary or\n"
	      "not-applicable.  Exit (last round): 0 ok, 1 fail, 2 temporary,\n"
	      "3 not-applicable, 64 usage or setup error.\n",
	      f);
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "bm-probe: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	return EXIT_USAGE;
}

static bool parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	if (s[0] < '0' || s[0] > '9')
		return false;
	unsigned long v = strtoul(s, &end, 10);
	if (*end || v > max)
		return false;
	*out = v;
	return true;
}

/* KEYFILE as given, or with ".key" appended when that names a file. */
static int read_key(const char *arg, uint8_t *rdata, size_t *rdlen, char *why, size_t whylen)
{
	uint8_t owner[DNAME_MAX];
	struct stat st;
	char path[4096];
	const char *text = arg;
	if (stat(arg, &st) != 0 &&
	    snprintf(path, sizeof(path), "%s.key", arg) < (int)sizeof(path) && stat(path, &st) == 0)
		text = path;
	return sig0_key_from_text(text, owner, rdata, KEY_RDATA_MAX, rdlen, why, whylen);
}

/* Add "NS[=ADDR]" to d: an NS record of child, and an A/AAAA record for ADDR. */
static int add_ns(struct deleg *d, const uint8_t *child, const char *arg)
{
	char name[1024];
	struct drr rr = {0};
	const char *eq = strchr(arg, '=');
	size_t nlen = eq ? (size_t)(eq - arg) : strlen(arg);
	if (nlen == 0 || nlen >= sizeof(name))
		return usage_error("bad nameserver \"%s\"", arg);
	memcpy(name, arg, nlen);
	name[nlen] = 0;
	memcpy(rr.owner, child, dname_len(child));
	rr.type = T_NS;
	rr.ttl = 3600;
	int n = dname_from_str(name, rr.rdata);
	if (n < 0)
		return usage_error("bad nameserver name \"%s\"", name);
	rr.rdlen = (uint16_t)n;
	if (deleg_find(d, &rr) < 0 && deleg_add(d, &rr) != DS_OK)
		return usage_error("too many records at \"%s\"", arg);
	if (eq == NULL)
		return 0;
	struct drr g = {0};
	memcpy(g.owner, rr.rdata, rr.rdlen);
	g.ttl = 3600;
	if (inet_pton(AF_INET, eq + 1, g.rdata) == 1) {
		g.type = T_A;
		g.rdlen = 4;
	} else if (inet_pton(AF_INET6, eq + 1, g.rdata) == 1) {
		g.type = T_AAAA;
		g.rdlen = 16;
	} else {
		return usage_error("bad glue address in \"%s\"", arg);
	}
	if (deleg_add(d, &g) != DS_OK)
		return usage_error("too many records at \"%s\"", arg);
	return 0;
}

/* The method and everything it is run with, from the command line. */
struct probe {
	struct bm_resolver_cfg cfg;
	char *forward[MAX_FORWARD];
	struct bm_vantage vantage[MAX_VANTAGE];
	size_t nvantage;
	unsigned long port, rounds;
	bool any;
	const char *method;
	bool at_apex, at_ns, unsig;
	uint8_t child[DNAME_MAX];
	uint8_t rdata[KEY_RDATA_MAX];
	size_t rdlen;
	struct deleg *d;
};

#define GO_ON (-1) /* parsing went well: no exit code yet */

/* --vantage (a source address, or "any") or --via-resolver (a resolver). */
static int add_vantage(struct probe *p, enum bm_vantage_kind kind, const char *arg)
{
	if (p->nvantage == MAX_VANTAGE)
		return usage_error("at most 16 vantage points%s", "");
	struct bm_vantage *v = &p->vantage[p->nvantage];
	memset(v, 0, sizeof(*v));
	v->kind = kind;
	v->src.ss_family = AF_UNSPEC;
	if (kind == BM_VANTAGE_RESOLVER) {
		if (dnsq_addr_from_str(arg, 53, &v->resolver, &v->resolverlen) != DS_OK)
			return usage_error("bad --via-resolver address \"%s\"", arg);
	} else if (strcmp(arg, "any") != 0 &&
		   dnsq_addr_from_str(arg, 0, &v->src, &v->srclen) != DS_OK) {
		return usage_error("bad --vantage address \"%s\"", arg);
	}
	p->nvantage++;
	return GO_ON;
}

/* A whole number in 1..max: GO_ON, or the usage error (fmt names the option). */
static int count_arg(const char *arg, unsigned long max, unsigned long *out, const char *fmt)
{
	if (!parse_uint(arg, max, out) || *out == 0)
		return usage_error(fmt, arg);
	return GO_ON;
}

/* One option: GO_ON, or the exit code. */
static int parse_opt(struct probe *p, int c, char *arg)
{
	unsigned long ul = 0;
	int rc;
	switch (c) {
	case 'c':
		p->cfg.config_file = arg;
		break;
	case 't':
		p->cfg.trust_anchor_file = arg;
		break;
	case 'H':
		p->cfg.root_hints = arg;
		break;
	case 'f':
		if (p->cfg.nforward == MAX_FORWARD)
			return usage_error("at most 16 forwarders%s", "");
		p->forward[p->cfg.nforward++] = arg;
		break;
	case 'T':
		rc = count_arg(arg, 3600000, &ul, "bad --timeout \"%s\"");
		p->cfg.timeout_ms = (unsigned)ul;
		return rc;
	case 'p':
		return count_arg(arg, 65535, &p->port, "bad --port \"%s\"");
	case 'v':
		return add_vantage(p, BM_VANTAGE_SOURCE, arg);
	case 'R':
		return add_vantage(p, BM_VANTAGE_RESOLVER, arg);
	case 'a':
		p->any = true;
		break;
	case 'r':
		return count_arg(arg, 100, &p->rounds, "bad --rounds \"%s\" (1..100)");
	case 'h':
		usage(stdout);
		return 0;
	default:
		usage(stderr);
		return EXIT_USAGE;
	}
	return GO_ON;
}

static int parse_opts(struct probe *p, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"ta", required_argument, NULL, 't'},
	    {"hints", required_argument, NULL, 'H'},
	    {"forward", required_argument, NULL, 'f'},
	    {"timeout", required_argument, NULL, 'T'},
	    {"port", required_argument, NULL, 'p'},
	    {"vantage", required_argument, NULL, 'v'},
	    {"via-resolver", required_argument, NULL, 'R'},
	    {"any", no_argument, NULL, 'a'},
	    {"rounds", required_argument, NULL, 'r'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		int rc = parse_opt(p, c, optarg);
		if (rc != GO_ON)
			return rc;
	}
	p->cfg.forward = p->forward;
	return GO_ON;
}

/* METHOD CHILD KEYFILE [NS[=ADDR]]...: GO_ON, or the exit code. */
static int parse_args(struct probe *p, int argc, char **argv)
{
	if (argc < 3) {
		usage(stderr);
		return EXIT_USAGE;
	}
	p->method = argv[0];
	p->at_apex = strcmp(p->method, "at-apex") == 0;
	p->at_ns = strcmp(p->method, "at-ns") == 0;
	p->unsig = strcmp(p->method, "unsigned") == 0;
	if (!p->at_apex && !p->at_ns && !p->unsig)
		return usage_error("unknown method \"%s\" (at-apex, at-ns, unsigned)", p->method);
	if (dname_from_str(argv[1], p->child) < 0)
		return usage_error("bad child name \"%s\"", argv[1]);
	char why[1024];
	if (read_key(argv[2], p->rdata, &p->rdlen, why, sizeof(why)) != DS_OK) {
		fprintf(stderr, "bm-probe: key %s: %s\n", argv[2], why);
		return EXIT_USAGE;
	}
	p->d = calloc(1, sizeof(*p->d));
	if (p->d == NULL) {
		fprintf(stderr, "bm-probe: out of memory\n");
		return EXIT_USAGE;
	}
	for (int i = 3; i < argc; i++) {
		int rc = add_ns(p->d, p->child, argv[i]);
		if (rc != 0)
			return rc;
	}
	if (p->at_ns && deleg_count(p->d, p->child, T_NS) == 0)
		return usage_error("%s needs the delegation's NS names", p->method);
	return GO_ON;
}

/* One round of the method; prints its line. */
static enum bm_result run_round(const struct probe *p, struct bm_resolver *r)
{
	char why[1024];
	enum bm_result res;
	if (p->at_apex)
		res = bm_at_apex(r, p->child, p->rdata, p->rdlen, why, sizeof(why));
	else if (p->at_ns)
		res = bm_at_ns(r, p->child, p->d, p->rdata, p->rdlen, !p->any, why, sizeof(why));
	else
		res = bm_unsigned_round(r, p->child, p->d, p->rdata, p->rdlen, p->vantage,
					p->nvantage, (uint16_t)p->port, p->cfg.timeout_ms, why,
					sizeof(why));
	printf("%s: %s\n", bm_result_str(res), why);
	fflush(stdout);
	return res;
}

/* Every round, the cache emptied between them; the exit code of the last. */
static int run_rounds(const struct probe *p, struct bm_resolver *r)
{
	char why[1024];
	enum bm_result res = BM_TEMP;
	for (unsigned long i = 0; i < p->rounds; i++) {
		if (i > 0 && r != NULL) {
			int rc = bm_resolver_flush(r, why, sizeof(why));
			if (rc != DS_OK) {
				fprintf(stderr, "bm-probe: flush: %s (%s)\n", why, ds_strerror(rc));
				return EXIT_USAGE;
			}
		}
		res = run_round(p, r);
	}
	switch (res) {
	case BM_OK:
		return EXIT_BM_OK;
	case BM_FAIL:
		return EXIT_BM_FAIL;
	case BM_TEMP:
		return EXIT_BM_TEMP;
	case BM_NA:
		return EXIT_BM_NA;
	}
	return EXIT_BM_TEMP;
}

int main(int argc, char **argv)
{
	struct probe p = {.cfg = {.timeout_ms = 5000}, .port = 53, .rounds = 1};
	int rc = parse_opts(&p, argc, argv);
	if (rc == GO_ON)
		rc = parse_args(&p, argc - optind, argv + optind);
	if (rc != GO_ON) {
		free(p.d);
		return rc;
	}

	/* unsigned with glue for every NS needs no resolver (and so no anchor) */
	struct bm_resolver *r = NULL;
	bool want_resolver = !p.unsig || p.cfg.config_file || p.cfg.trust_anchor_file;
	if (want_resolver) {
		char why[1024];
		rc = bm_resolver_new(&p.cfg, &r, why, sizeof(why));
		if (rc != DS_OK) {
			fprintf(stderr, "bm-probe: resolver: %s (%s)\n", why, ds_strerror(rc));
			free(p.d);
			return EXIT_USAGE;
		}
	}
	rc = run_rounds(&p, r);
	bm_resolver_free(r);
	free(p.d);
	return rc;
}

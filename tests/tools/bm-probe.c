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

int main(int argc, char **argv)
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
	struct bm_resolver_cfg cfg = {.timeout_ms = 5000};
	char *forward[MAX_FORWARD];
	struct bm_vantage vantage[MAX_VANTAGE];
	size_t nvantage = 0;
	unsigned long port = 53, rounds = 1, ul;
	bool any = false;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			cfg.config_file = optarg;
			break;
		case 't':
			cfg.trust_anchor_file = optarg;
			break;
		case 'H':
			cfg.root_hints = optarg;
			break;
		case 'f':
			if (cfg.nforward == MAX_FORWARD)
				return usage_error("at most 16 forwarders%s", "");
			forward[cfg.nforward++] = optarg;
			break;
		case 'T':
			if (!parse_uint(optarg, 3600000, &ul) || ul == 0)
				return usage_error("bad --timeout \"%s\"", optarg);
			cfg.timeout_ms = (unsigned)ul;
			break;
		case 'p':
			if (!parse_uint(optarg, 65535, &port) || port == 0)
				return usage_error("bad --port \"%s\"", optarg);
			break;
		case 'v':
			if (nvantage == MAX_VANTAGE)
				return usage_error("at most 16 vantage points%s", "");
			memset(&vantage[nvantage], 0, sizeof(vantage[nvantage]));
			vantage[nvantage].kind = BM_VANTAGE_SOURCE;
			vantage[nvantage].src.ss_family = AF_UNSPEC;
			if (strcmp(optarg, "any") != 0 &&
			    dnsq_addr_from_str(optarg, 0, &vantage[nvantage].src,
					       &vantage[nvantage].srclen) != DS_OK)
				return usage_error("bad --vantage address \"%s\"", optarg);
			nvantage++;
			break;
		case 'R':
			if (nvantage == MAX_VANTAGE)
				return usage_error("at most 16 vantage points%s", "");
			memset(&vantage[nvantage], 0, sizeof(vantage[nvantage]));
			vantage[nvantage].kind = BM_VANTAGE_RESOLVER;
			vantage[nvantage].src.ss_family = AF_UNSPEC;
			if (dnsq_addr_from_str(optarg, 53, &vantage[nvantage].resolver,
					       &vantage[nvantage].resolverlen) != DS_OK)
				return usage_error("bad --via-resolver address \"%s\"", optarg);
			nvantage++;
			break;
		case 'a':
			any = true;
			break;
		case 'r':
			if (!parse_uint(optarg, 100, &rounds) || rounds == 0)
				return usage_error("bad --rounds \"%s\" (1..100)", optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	cfg.forward = forward;
	if (argc - optind < 3) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *method = argv[optind];
	bool at_apex = strcmp(method, "at-apex") == 0;
	bool at_ns = strcmp(method, "at-ns") == 0;
	bool unsig = strcmp(method, "unsigned") == 0;
	if (!at_apex && !at_ns && !unsig)
		return usage_error("unknown method \"%s\" (at-apex, at-ns, unsigned)", method);

	uint8_t child[DNAME_MAX];
	if (dname_from_str(argv[optind + 1], child) < 0)
		return usage_error("bad child name \"%s\"", argv[optind + 1]);
	uint8_t rdata[KEY_RDATA_MAX];
	size_t rdlen;
	char why[1024];
	if (read_key(argv[optind + 2], rdata, &rdlen, why, sizeof(why)) != DS_OK) {
		fprintf(stderr, "bm-probe: key %s: %s\n", argv[optind + 2], why);
		return EXIT_USAGE;
	}
	struct deleg *d = calloc(1, sizeof(*d));
	if (d == NULL) {
		fprintf(stderr, "bm-probe: out of memory\n");
		return EXIT_USAGE;
	}
	for (int i = optind + 3; i < argc; i++) {
		int rc = add_ns(d, child, argv[i]);
		if (rc != 0) {
			free(d);
			return rc;
		}
	}
	if (at_ns && deleg_count(d, child, T_NS) == 0) {
		free(d);
		return usage_error("%s needs the delegation's NS names", method);
	}

	/* unsigned with glue for every NS needs no resolver (and so no anchor) */
	struct bm_resolver *r = NULL;
	bool want_resolver = !unsig || cfg.config_file || cfg.trust_anchor_file;
	if (want_resolver) {
		int rc = bm_resolver_new(&cfg, &r, why, sizeof(why));
		if (rc != DS_OK) {
			fprintf(stderr, "bm-probe: resolver: %s (%s)\n", why, ds_strerror(rc));
			free(d);
			return EXIT_USAGE;
		}
	}

	enum bm_result res = BM_TEMP;
	for (unsigned long i = 0; i < rounds; i++) {
		if (i > 0 && r != NULL) {
			int rc = bm_resolver_flush(r, why, sizeof(why));
			if (rc != DS_OK) {
				fprintf(stderr, "bm-probe: flush: %s (%s)\n", why, ds_strerror(rc));
				bm_resolver_free(r);
				free(d);
				return EXIT_USAGE;
			}
		}
		if (at_apex)
			res = bm_at_apex(r, child, rdata, rdlen, why, sizeof(why));
		else if (at_ns)
			res = bm_at_ns(r, child, d, rdata, rdlen, !any, why, sizeof(why));
		else
			res = bm_unsigned_round(r, child, d, rdata, rdlen, vantage, nvantage,
						(uint16_t)port, cfg.timeout_ms, why, sizeof(why));
		printf("%s: %s\n", bm_result_str(res), why);
		fflush(stdout);
	}
	bm_resolver_free(r);
	free(d);
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

/*
 * tests/tools/dsync-send.c -- build, sign and send DNS UPDATEs to dsyncd.
 *
 * A test and load tool, not an operator tool: it can make well-formed
 * SIG(0)- or TSIG-signed UPDATEs, and on purpose also broken ones (flipped
 * bytes, bad frame lengths, odd opcodes, raw bytes).  Each response is
 * printed as one parseable line; load mode prints one summary line.
 * See usage() for the options.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "common/cookie.h"
#include "common/dname.h"
#include "common/dns.h"
#include "common/err.h"
#include "common/version.h"
#include "common/msg.h"
#include "common/rrtext.h"
#include "common/wire.h"
#include "common/zonefile.h"
#include "sig0/sig0.h"

#define MAX_ITEMS 256 /* records per section given on the command line */
#define MAX_MSG 65535
#define MAX_FLIPS 32
#define SEQ_TOKEN "{i}" /* in a record's text: the request's number (load and sequence modes) */

/* a test tool's own statuses; a bad command line is EX_USAGE as for every tool */
enum { EXIT_OK = 0, EXIT_ERR = 1, EXIT_TIMEOUT = 3, EXIT_CLOSED = 4, EXIT_USAGE = EX_USAGE };

/* die()'s exit status: a usage error until the command line is read */
static int die_status = EXIT_USAGE;

static void usage_modes(FILE *f);

static void usage(FILE *f)
{
	fputs(
	    "usage: dsync-send [options]\n"
	    "Build a DNS UPDATE, sign it (SIG(0) and/or TSIG), send it, print the answer.\n"
	    "\n"
	    "Transport:\n"
	    "  -s, --server ADDR        server address (default 127.0.0.1)\n"
	    "  -p, --port N             port (default 5354)\n"
	    "  -t, --tcp                use TCP (default UDP)\n"
	    "  -b, --bind ADDR          send from this local address (e.g. 127.0.1.1: another\n"
	    "                           /24 on loopback than the default 127.0.0.1)\n"
	    "      --wait-ms N          wait this long for each answer (default 3000)\n"
	    "      --frame-len N        TCP: send N as the length prefix instead of the real one\n"
	    "\n"
	    "Message:\n"
	    "  -z, --zone NAME          zone section name (default: parent of the key owner)\n"
	    "      --qtype TYPE         zone section type (default SOA)\n"
	    "      --opcode N           header opcode (default 5, UPDATE)\n"
	    "      --id N               message ID (default random)\n"
	    "      --add \"RR\"           add an RR (presentation format, class IN)\n"
	    "      --del \"RR\"           delete one RR (class NONE)\n"
	    "      --del-rrset \"NAME TYPE\"  delete an RRset (class ANY)\n"
	    "      --del-name NAME      delete all RRsets at a name\n"
	    "      --prereq-exists \"NAME TYPE\"   RRset exists (value independent)\n"
	    "      --prereq-nxrrset \"NAME TYPE\"  RRset does not exist\n"
	    "      --prereq-yxdomain NAME         name is in use\n"
	    "      --prereq-nxdomain NAME         name is not in use\n"
	    "      --prereq-value \"RR\"            RRset exists (value dependent)\n"
	    "      --edns / --no-edns   add an OPT record (default on)\n"
	    "      --udp-size N         EDNS UDP size (default 1232)\n"
	    "      --ednsopt CODE:HEX   add an EDNS option (repeatable)\n"
	    "      --cookies            DNS Cookies: a random client cookie; first learn the\n"
	    "                           server cookie (one unsigned query from the same\n"
	    "                           address), then send both in every request\n"
	    "\n"
	    "Signing:\n"
	    "  -k, --key KFILE          SIG(0)-sign with a BIND key pair (K<name>+<alg>+<tag>)\n"
	    "      --sign-twice KFILE   append a second SIG(0) made with another key\n"
	    "      --verify-key KFILE   check the answer's SIG(0) with this public key (.key of a\n"
	    "                           BIND pair, suffix optional): over the request as sent\n"
	    "                           and the answer (RFC 2931), else over the answer alone\n"
	    "      --inception-offset S inception = now + S (default -60)\n"
	    "      --expiration-offset S expiration = now + S (default 300)\n"
	    "      --tsig NAME:SECRET   add a hmac-sha256 TSIG (secret in base64), last\n"
	    "\n"
	    "Tampering and raw bytes:\n"
	    "      --flip N             after signing, invert byte N (negative: from the end);\n"
	    "                           repeatable\n"
	    "      --raw-hex HEX        send these bytes as they are (no building)\n"
	    "      --raw-file FILE      send the bytes of FILE as they are\n"
	    "      --save FILE          write the request bytes to FILE\n"
	    "      --repeat N           send the same bytes N times, one after another\n"
	    "\n",
	    f);
	usage_modes(f);
}

/* The second half of usage(): load and sequence modes, output, exit. */
static void usage_modes(FILE *f)
{
	fputs("Load mode (B3 benchmark):\n"
	      "      --count N            send N UPDATEs, each with its own ID and signature;\n"
	      "                           \"{i}\" in a record's text becomes the request's\n"
	      "                           number (0 to N-1), so that each one changes\n"
	      "                           something, e.g. --del-rrset \"c.example. NS\"\n"
	      "                           --add \"c.example. 3600 NS ns1-{i}.example.net.\"\n"
	      "      --concurrency C      keep C outstanding (UDP) or C connections (TCP)\n"
	      "      --rate R             UDP: send at most R requests per second\n"
	      "\n"
	      "Sequence mode (crash-safety soak), UDP:\n"
	      "      --seq N              send N UPDATEs one after another; in every record given\n"
	      "                           with --add, --del, --del-rrset, --del-name and the\n"
	      "                           prerequisites, {i} stands for the request's sequence\n"
	      "                           number; each request waits for the answer to the one\n"
	      "                           before, and is sent again, the same bytes, after\n"
	      "                           --wait-ms without an answer (100 ms after the port was\n"
	      "                           unreachable) until it is answered, as a client does\n"
	      "      --seq-start S        the first sequence number (default 1)\n"
	      "      --give-up-ms N       stop resending one request after N ms (default 60000)\n"
	      "  SIGTERM or SIGINT: no new request; the one in flight is still sent until\n"
	      "  answered (or given up), then the summary line.\n"
	      "\n"
	      "Output, one line per answer (EDE text escaped, first EDE only):\n"
	      "  rcode=NAME ede=CODE|- text=\"EDE TEXT\" id=ID [sig0=N] [sig0ok=R] [tsig=1]\n"
	      "  [optCODE=HEX]...  With --verify-key: sig0=0 for an unsigned answer, else\n"
	      "  sig0ok=rfc2931 (signed over request and answer), sig0ok=response-only (over\n"
	      "  the answer alone) or sig0ok=0 (does not verify, or not the last record).\n"
	      "  an unparsable answer adds malformed=\"why\"; no answer prints rcode=- and one of\n"
	      "  timeout=1, closed=1 (TCP closed), refused=1 (UDP port unreachable).\n"
	      "Load mode prints one line: count= answered= timeouts= elapsed= rate= p50_ms=\n"
	      "  p99_ms= build_rate= rcodes=NAME:N,... edes=CODE:N,... signed=N  (requests\n"
	      "  are built and signed before the timed phase; rate counts answers per second;\n"
	      "  edes counts each answer's first EDE, \"-\" for none; signed counts answers\n"
	      "  that carry a SIG(0)).\n"
	      "Sequence mode prints one line per request, when it is answered or given up:\n"
	      "  seq=N rcode=NAME|- ede=CODE|- tries=T id=ID text=\"EDE TEXT\"\n"
	      "  and then count= answered= timeouts= resends= elapsed= rcodes= edes=\n"
	      "  -V, --version            print the version\n"
	      "  -h, --help               this text\n"
	      "Exit: 0 every request answered, 1 local error, 3 timeout, 4 connection\n"
	      "  closed or port unreachable without an answer, 64 bad command line.\n",
	      f);
}

/* ---- options ---------------------------------------------------------------- */

enum item_kind {
	IT_ADD,
	IT_DEL,
	IT_DEL_RRSET,
	IT_DEL_NAME,
	IT_PRE_EXISTS,
	IT_PRE_NXRRSET,
	IT_PRE_YXDOMAIN,
	IT_PRE_NXDOMAIN,
	IT_PRE_VALUE,
};

struct item {
	enum item_kind kind;
	const char *text;
};

struct ednsopt {
	uint16_t code;
	uint16_t len;
	uint8_t *data;
};

struct opts {
	const char *server;
	const char *port;
	const char *bind; /* local address, NULL: the kernel's choice */
	bool tcp;
	long wait_ms;
	long frame_len; /* -1: the real length */
	const char *zone;
	uint16_t qtype;
	long opcode;
	long id; /* -1: random */
	struct item items[MAX_ITEMS];
	size_t nitems;
	bool edns;
	long udp_size;
	struct ednsopt eopts[16];
	size_t neopts;
	const char *key, *key2;
	const char *verify_key;
	long inc_off, exp_off;
	const char *tsig;
	long flips[MAX_FLIPS];
	size_t nflips;
	const char *raw_hex, *raw_file, *save;
	long repeat;
	long count, concurrency;
	long rate; /* load mode, UDP: requests per second at most; 0 = no pacing */
	long seq, seq_start, give_up_ms; /* sequence mode: seq > 0 */
	bool cookies;			 /* learn a server cookie first, send it in every request */
};

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("dsync-send: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(die_status);
}

static long num_arg(const char *s, long min, long max, const char *what)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 0);
	if (errno != 0 || end == s || *end != 0 || v < min || v > max)
		die("bad %s \"%s\" (want %ld..%ld)", what, s, min, max);
	return v;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Hex (whitespace allowed) into a malloc'ed buffer. */
static uint8_t *hex_decode(const char *s, size_t *len)
{
	uint8_t *out = malloc(strlen(s) / 2 + 1);
	size_t n = 0;
	int hi = -1;
	if (out == NULL)
		die("out of memory");
	for (; *s; s++) {
		if (isspace((unsigned char)*s))
			continue;
		int v = hexval((unsigned char)*s);
		if (v < 0)
			die("bad hex digit '%c'", *s);
		if (hi < 0) {
			hi = v;
		} else {
			out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	if (hi >= 0)
		die("odd number of hex digits");
	*len = n;
	return out;
}

/* What an option does with its argument. */
enum opt_act {
	A_STR,	   /* keep the argument (checked as a number in min..max when what is set) */
	A_NUM,	   /* the argument as a number in min..max */
	A_BOOL,	   /* no argument: set the field to min */
	A_ITEM,	   /* add a record of item kind min */
	A_QTYPE,   /* the zone section type */
	A_EDNSOPT, /* CODE:HEX */
	A_FLIP,	   /* one more byte to invert */
	A_HELP,
	A_VERSION,
};

struct optdef {
	const char *name;
	char letter; /* the short option, 0 for none */
	enum opt_act act;
	size_t off; /* A_STR, A_NUM, A_BOOL: the field of struct opts */
	long min, max;
	const char *what; /* for the error about a bad number */
};

#define STR(f) A_STR, offsetof(struct opts, f), 0, 0, NULL
#define NUM(f, lo, hi, what) A_NUM, offsetof(struct opts, f), lo, hi, what
#define BOOL(f, v) A_BOOL, offsetof(struct opts, f), v, 0, NULL
#define ITEM(kind) A_ITEM, 0, kind, 0, NULL
#define ACT(a) a, 0, 0, 0, NULL
#define OFFSET_MAX 2147483647L

/* Every option: getopt_long's table is made from this one (long_opts_init). */
static const struct optdef optdefs[] = {
    {"server", 's', STR(server)},
    {"port", 'p', A_STR, offsetof(struct opts, port), 1, 65535, "port"},
    {"tcp", 't', BOOL(tcp, true)},
    {"bind", 'b', STR(bind)},
    {"key", 'k', STR(key)},
    {"zone", 'z', STR(zone)},
    {"wait-ms", 0, NUM(wait_ms, 1, 3600000, "wait")},
    {"frame-len", 0, NUM(frame_len, 0, 65535, "frame length")},
    {"qtype", 0, ACT(A_QTYPE)},
    {"opcode", 0, NUM(opcode, 0, 15, "opcode")},
    {"id", 0, NUM(id, 0, 65535, "id")},
    {"add", 0, ITEM(IT_ADD)},
    {"del", 0, ITEM(IT_DEL)},
    {"del-rrset", 0, ITEM(IT_DEL_RRSET)},
    {"del-name", 0, ITEM(IT_DEL_NAME)},
    {"prereq-exists", 0, ITEM(IT_PRE_EXISTS)},
    {"prereq-nxrrset", 0, ITEM(IT_PRE_NXRRSET)},
    {"prereq-yxdomain", 0, ITEM(IT_PRE_YXDOMAIN)},
    {"prereq-nxdomain", 0, ITEM(IT_PRE_NXDOMAIN)},
    {"prereq-value", 0, ITEM(IT_PRE_VALUE)},
    {"edns", 0, BOOL(edns, true)},
    {"no-edns", 0, BOOL(edns, false)},
    {"udp-size", 0, NUM(udp_size, 0, 65535, "UDP size")},
    {"ednsopt", 0, ACT(A_EDNSOPT)},
    {"cookies", 0, BOOL(cookies, true)},
    {"sign-twice", 0, STR(key2)},
    {"verify-key", 0, STR(verify_key)},
    {"inception-offset", 0, NUM(inc_off, -OFFSET_MAX, OFFSET_MAX, "offset")},
    {"expiration-offset", 0, NUM(exp_off, -OFFSET_MAX, OFFSET_MAX, "offset")},
    {"tsig", 0, STR(tsig)},
    {"flip", 0, ACT(A_FLIP)},
    {"raw-hex", 0, STR(raw_hex)},
    {"raw-file", 0, STR(raw_file)},
    {"save", 0, STR(save)},
    {"repeat", 0, NUM(repeat, 1, 100000000, "repeat count")},
    {"count", 0, NUM(count, 1, 100000000, "count")},
    {"concurrency", 0, NUM(concurrency, 1, 65535, "concurrency")},
    {"rate", 0, NUM(rate, 1, 10000000, "rate")},
    {"seq", 0, NUM(seq, 1, 100000000, "sequence count")},
    {"seq-start", 0, NUM(seq_start, 0, 1000000000, "first sequence number")},
    {"give-up-ms", 0, NUM(give_up_ms, 1, 3600000, "give-up time")},
    {"help", 'h', ACT(A_HELP)},
    {"version", 'V', ACT(A_VERSION)},
};

#define NOPTDEFS (sizeof optdefs / sizeof optdefs[0])

/* getopt_long's value for optdefs[i]: its letter, else a code above any char. */
static int optdef_val(size_t i)
{
	return optdefs[i].letter ? optdefs[i].letter : 256 + (int)i;
}

static void long_opts_init(struct option *lo)
{
	for (size_t i = 0; i < NOPTDEFS; i++) {
		enum opt_act a = optdefs[i].act;
		lo[i] = (struct option){
		    optdefs[i].name,
		    a == A_BOOL || a == A_HELP || a == A_VERSION ? no_argument : required_argument,
		    NULL, optdef_val(i)};
	}
	lo[NOPTDEFS] = (struct option){NULL, 0, NULL, 0};
}

static const struct optdef *optdef_find(int c)
{
	for (size_t i = 0; i < NOPTDEFS; i++)
		if (optdef_val(i) == c)
			return &optdefs[i];
	return NULL;
}

static void add_item(struct opts *o, enum item_kind kind, const char *text)
{
	if (o->nitems == MAX_ITEMS)
		die("too many records (max %d)", MAX_ITEMS);
	o->items[o->nitems].kind = kind;
	o->items[o->nitems++].text = text;
}

/* --ednsopt CODE:HEX (the colon is cut out of arg). */
static void add_ednsopt(struct opts *o, char *arg)
{
	if (o->neopts == sizeof o->eopts / sizeof o->eopts[0])
		die("too many EDNS options");
	char *colon = strchr(arg, ':');
	struct ednsopt *e = &o->eopts[o->neopts++];
	if (colon != NULL)
		*colon = 0;
	e->code = (uint16_t)num_arg(arg, 0, 65535, "EDNS option code");
	size_t n = 0;
	e->data = hex_decode(colon ? colon + 1 : "", &n);
	if (n > 65535)
		die("EDNS option too long");
	e->len = (uint16_t)n;
}

static void apply_opt(struct opts *o, const struct optdef *d, char *arg)
{
	if (d == NULL) {
		usage(stderr);
		exit(EXIT_USAGE);
	}
	char *field = (char *)o + d->off;
	switch (d->act) {
	case A_STR:
		*(const char **)field = arg;
		if (d->what != NULL)
			num_arg(arg, d->min, d->max, d->what);
		break;
	case A_NUM:
		*(long *)field = num_arg(arg, d->min, d->max, d->what);
		break;
	case A_BOOL:
		*(bool *)field = d->min != 0;
		break;
	case A_ITEM:
		add_item(o, (enum item_kind)d->min, arg);
		break;
	case A_QTYPE:
		o->qtype = rr_type_from_str(arg);
		if (o->qtype == 0)
			die("unknown type \"%s\"", arg);
		break;
	case A_EDNSOPT:
		add_ednsopt(o, arg);
		break;
	case A_FLIP:
		if (o->nflips == MAX_FLIPS)
			die("too many --flip");
		o->flips[o->nflips++] = num_arg(arg, -65535, 65534, "flip offset");
		break;
	case A_HELP:
		usage(stdout);
		exit(EXIT_OK);
	case A_VERSION:
		printf("dsync-send %s\n", DSYNC_VERSION);
		exit(EXIT_OK);
	}
}

static void opts_defaults(struct opts *o)
{
	memset(o, 0, sizeof *o);
	o->server = "127.0.0.1";
	o->port = "5354";
	o->wait_ms = 3000;
	o->frame_len = -1;
	o->qtype = T_SOA;
	o->opcode = OP_UPDATE;
	o->id = -1;
	o->edns = true;
	o->udp_size = 1232;
	o->inc_off = -60;
	o->exp_off = 300;
	o->repeat = 1;
	o->seq_start = 1;
	o->give_up_ms = 60000;
}

/* Whether a record given on the command line holds {i} (sequence mode). */
static bool seq_has_template(const struct opts *o)
{
	for (size_t i = 0; i < o->nitems; i++)
		if (strstr(o->items[i].text, SEQ_TOKEN) != NULL)
			return true;
	return false;
}

/* Options that do not go together. */
static void opts_check(struct opts *o)
{
	if (o->raw_hex && o->raw_file)
		die("--raw-hex and --raw-file exclude each other");
	if (o->count > 0 && (o->raw_hex || o->raw_file || o->repeat > 1))
		die("--count builds its own messages");
	if (o->key2 && !o->key)
		die("--sign-twice needs -k");
	if (o->verify_key && o->count > 0)
		die("--verify-key is for single requests, not --count");
	if (o->rate > 0 && (o->count == 0 || o->tcp))
		die("--rate is for --count over UDP");
	if (o->seq > 0 && (o->count > 0 || o->raw_hex || o->raw_file || o->repeat > 1 ||
			   o->verify_key || o->save || o->tcp))
		die("--seq builds and sends its own requests, one at a time over UDP: not with "
		    "--count, --raw-hex, --raw-file, --repeat, --verify-key, --save or --tcp");
	if (o->seq > 0 && !seq_has_template(o))
		die("--seq needs " SEQ_TOKEN " (the sequence number) in at least one record");
	if (o->cookies && (!o->edns || o->raw_hex || o->raw_file))
		die("--cookies needs EDNS and a built request");
	if (o->concurrency == 0)
		o->concurrency = 1;
}

static void parse_opts(struct opts *o, int argc, char **argv)
{
	struct option lo[NOPTDEFS + 1];
	int c;
	opts_defaults(o);
	long_opts_init(lo);
	while ((c = getopt_long(argc, argv, "s:p:tb:k:z:hV", lo, NULL)) != -1)
		apply_opt(o, optdef_find(c), optarg);
	if (optind != argc) {
		usage(stderr);
		exit(EXIT_USAGE);
	}
	opts_check(o);
	die_status = EXIT_ERR;
}

/* ---- building ---------------------------------------------------------------- */

struct builder {
	const struct opts *o;
	uint8_t zone[DNAME_MAX];
	struct sig0_key *k1, *k2;
	uint8_t tsig_name[DNAME_MAX];
	uint8_t tsig_key[256];
	size_t tsig_keylen;
	uint8_t cookie[COOKIE_MAX_LEN]; /* --cookies: client (and server) cookie */
	size_t cookielen;
	uint32_t now; /* load mode: one clock for every message, so that the
		       * per-65536 time shift keeps them all distinct; 0 = read the clock */
};

static void put_rr_text(struct wbuf *b, const char *text, uint16_t rclass, bool ttl0)
{
	uint8_t owner[DNAME_MAX], rdata[MAX_MSG];
	uint16_t type;
	uint32_t ttl;
	size_t rdlen;
	char why[512] = "";
	if (zonefile_rr_from_str(text, owner, &type, &ttl, rdata, sizeof rdata, &rdlen, why,
				 sizeof why) != DS_OK)
		die("%s", why);
	wbuf_bytes(b, owner, dname_len(owner));
	wbuf_u16(b, type);
	wbuf_u16(b, rclass);
	wbuf_u32(b, ttl0 ? 0 : ttl);
	wbuf_u16(b, (uint16_t)rdlen);
	wbuf_bytes(b, rdata, rdlen);
}

static void put_name(struct wbuf *b, const char *text)
{
	uint8_t name[DNAME_MAX];
	int n = dname_from_str(text, name);
	if (n <= 0)
		die("bad name \"%s\"", text);
	wbuf_bytes(b, name, (size_t)n);
}

/* "NAME TYPE" as an empty RR of class rclass. */
static void put_name_type(struct wbuf *b, const char *text, uint16_t rclass)
{
	char name[1024], tname[64];
	if (sscanf(text, " %1023s %63s", name, tname) != 2)
		die("want \"NAME TYPE\", got \"%s\"", text);
	uint16_t type = rr_type_from_str(tname);
	if (type == 0)
		die("unknown type \"%s\"", tname);
	put_name(b, name);
	wbuf_u16(b, type);
	wbuf_u16(b, rclass);
	wbuf_u32(b, 0);
	wbuf_u16(b, 0);
}

static void put_name_any(struct wbuf *b, const char *text, uint16_t rclass)
{
	put_name(b, text);
	wbuf_u16(b, T_ANY);
	wbuf_u16(b, rclass);
	wbuf_u32(b, 0);
	wbuf_u16(b, 0);
}

static bool is_prereq(enum item_kind k)
{
	return k >= IT_PRE_EXISTS;
}

/* How each kind of item goes on the wire: which form, which class. */
enum item_form { F_RR, F_NAME_TYPE, F_NAME_ANY };

static const struct {
	enum item_form form;
	uint16_t rclass;
	bool ttl0; /* F_RR: TTL 0 instead of the one given */
} item_wire[] = {
    [IT_ADD] = {F_RR, CLASS_IN, false},
    [IT_DEL] = {F_RR, CLASS_NONE, true},
    [IT_DEL_RRSET] = {F_NAME_TYPE, CLASS_ANY, false},
    [IT_DEL_NAME] = {F_NAME_ANY, CLASS_ANY, false},
    [IT_PRE_EXISTS] = {F_NAME_TYPE, CLASS_ANY, false},
    [IT_PRE_NXRRSET] = {F_NAME_TYPE, CLASS_NONE, false},
    [IT_PRE_YXDOMAIN] = {F_NAME_ANY, CLASS_ANY, false},
    [IT_PRE_NXDOMAIN] = {F_NAME_ANY, CLASS_NONE, false},
    [IT_PRE_VALUE] = {F_RR, CLASS_IN, true},
};

/*
 * A record's text with every "{i}" replaced by seq, the request's number
 * in load mode (out, of size cap); seq < 0 (a single request): "{i}" is
 * an error.
 */
static const char *item_text(const char *text, long seq, char *out, size_t cap)
{
	if (strstr(text, SEQ_TOKEN) == NULL)
		return text;
	if (seq < 0)
		die("\"%s\": %s is for load mode (--count) and sequence mode (--seq)", text,
		    SEQ_TOKEN);
	size_t n = 0;
	for (const char *p = text; *p;) {
		int w;
		if (strncmp(p, SEQ_TOKEN, strlen(SEQ_TOKEN)) == 0) {
			w = snprintf(out + n, cap - n, "%ld", seq);
			p += strlen(SEQ_TOKEN);
		} else {
			w = snprintf(out + n, cap - n, "%c", *p++);
		}
		if (w < 0 || (size_t)w >= cap - n)
			die("\"%s\": too long with %s replaced", text, SEQ_TOKEN);
		n += (size_t)w;
	}
	return out;
}

static void put_item(struct wbuf *b, const struct item *it, long seq)
{
	uint16_t rclass = item_wire[it->kind].rclass;
	char buf[2048];
	const char *text = item_text(it->text, seq, buf, sizeof buf);
	switch (item_wire[it->kind].form) {
	case F_RR:
		put_rr_text(b, text, rclass, item_wire[it->kind].ttl0);
		break;
	case F_NAME_TYPE:
		put_name_type(b, text, rclass);
		break;
	case F_NAME_ANY:
		put_name_any(b, text, rclass);
		break;
	}
}

/*
 * TSIG (RFC 8945) with hmac-sha256: the MAC covers the message as it is
 * (TSIG not counted) and the TSIG variables in canonical form.
 */
static void add_tsig(const struct builder *bd, uint8_t *buf, size_t *len, size_t cap)
{
	static const char alg_text[] = "hmac-sha256.";
	uint8_t alg[DNAME_MAX], lname[DNAME_MAX];
	int alglen = dname_from_str(alg_text, alg);
	size_t nlen = dname_lower(lname, bd->tsig_name);
	uint64_t now = (uint64_t)time(NULL);
	uint8_t vars[DNAME_MAX * 2 + 32];
	struct wbuf v;
	wbuf_init(&v, vars, sizeof vars);
	wbuf_bytes(&v, lname, nlen);
	wbuf_u16(&v, CLASS_ANY);
	wbuf_u32(&v, 0);
	wbuf_bytes(&v, alg, (size_t)alglen);
	wbuf_u16(&v, (uint16_t)(now >> 32));
	wbuf_u32(&v, (uint32_t)now);
	wbuf_u16(&v, 300); /* fudge */
	wbuf_u16(&v, 0);   /* error */
	wbuf_u16(&v, 0);   /* other len */

	uint8_t *data = malloc(*len + v.len);
	if (data == NULL)
		die("out of memory");
	memcpy(data, buf, *len);
	memcpy(data + *len, vars, v.len);
	uint8_t mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	if (HMAC(EVP_sha256(), bd->tsig_key, (int)bd->tsig_keylen, data, *len + v.len, mac,
		 &maclen) == NULL)
		die("HMAC failed");
	free(data);

	struct wbuf b;
	wbuf_init(&b, buf, cap);
	b.len = *len;
	wbuf_bytes(&b, bd->tsig_name, dname_len(bd->tsig_name));
	wbuf_u16(&b, T_TSIG);
	wbuf_u16(&b, CLASS_ANY);
	wbuf_u32(&b, 0);
	size_t rdlen_at = b.len;
	wbuf_u16(&b, 0);
	wbuf_bytes(&b, alg, (size_t)alglen);
	wbuf_u16(&b, (uint16_t)(now >> 32));
	wbuf_u32(&b, (uint32_t)now);
	wbuf_u16(&b, 300);
	wbuf_u16(&b, (uint16_t)maclen);
	wbuf_bytes(&b, mac, maclen);
	wbuf_bytes(&b, buf, 2); /* original ID */
	wbuf_u16(&b, 0);
	wbuf_u16(&b, 0);
	if (b.err)
		die("message too large for TSIG");
	wbuf_put_u16_at(&b, rdlen_at, (uint16_t)(b.len - rdlen_at - 2));
	wr_u16(buf + 10, (uint16_t)(rd_u16(buf + 10) + 1));
	*len = b.len;
}

/*
 * Build one request into buf.  shift moves inception and expiration back
 * (load mode: keeps signed data unique when IDs wrap); seq is the request's
 * number in load mode ("{i}" in the records' text), -1 for a single one.
 */
static size_t build(const struct builder *bd, uint8_t *buf, size_t cap, uint16_t id, long shift,
		    long seq)
{
	const struct opts *o = bd->o;
	struct wbuf b;
	uint16_t nprereq = 0, nupdate = 0;

	wbuf_init(&b, buf, cap);
	wbuf_u16(&b, id);
	wbuf_u16(&b, (uint16_t)(o->opcode << 11));
	wbuf_u16(&b, 1);
	wbuf_u16(&b, 0);
	wbuf_u16(&b, 0);
	wbuf_u16(&b, 0);
	wbuf_bytes(&b, bd->zone, dname_len(bd->zone));
	wbuf_u16(&b, o->qtype);
	wbuf_u16(&b, CLASS_IN);
	for (size_t i = 0; i < o->nitems; i++)
		if (is_prereq(o->items[i].kind)) {
			put_item(&b, &o->items[i], seq);
			nprereq++;
		}
	for (size_t i = 0; i < o->nitems; i++)
		if (!is_prereq(o->items[i].kind)) {
			put_item(&b, &o->items[i], seq);
			nupdate++;
		}
	uint16_t nadd = 0;
	if (o->edns) {
		wbuf_u8(&b, 0);
		wbuf_u16(&b, T_OPT);
		wbuf_u16(&b, (uint16_t)o->udp_size);
		wbuf_u32(&b, 0);
		size_t at = b.len;
		wbuf_u16(&b, 0);
		for (size_t i = 0; i < o->neopts; i++) {
			wbuf_u16(&b, o->eopts[i].code);
			wbuf_u16(&b, o->eopts[i].len);
			wbuf_bytes(&b, o->eopts[i].data, o->eopts[i].len);
		}
		if (bd->cookielen > 0)
			cookie_write(&b, bd->cookie, bd->cookielen);
		if (!b.err)
			wbuf_put_u16_at(&b, at, (uint16_t)(b.len - at - 2));
		nadd = 1;
	}
	if (b.err)
		die("message too large");
	wr_u16(buf + 6, nprereq);
	wr_u16(buf + 8, nupdate);
	wr_u16(buf + 10, nadd);

	size_t len = b.len;
	uint32_t now = bd->now ? bd->now : (uint32_t)time(NULL);
	uint32_t inc = (uint32_t)((long)now + o->inc_off - shift);
	uint32_t exp = (uint32_t)((long)now + o->exp_off - shift);
	if (bd->k1 != NULL && sig0_sign(bd->k1, buf, &len, cap, inc, exp, NULL, 0) != DS_OK)
		die("signing failed");
	if (bd->k2 != NULL && sig0_sign(bd->k2, buf, &len, cap, inc, exp, NULL, 0) != DS_OK)
		die("signing with the second key failed");
	if (o->tsig != NULL)
		add_tsig(bd, buf, &len, cap);
	return len;
}

static void flip(const struct opts *o, uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < o->nflips; i++) {
		long at = o->flips[i] < 0 ? (long)len + o->flips[i] : o->flips[i];
		if (at < 0 || (size_t)at >= len)
			die("--flip %ld outside the %zu-byte message", o->flips[i], len);
		buf[at] ^= 0xff;
	}
}

static void builder_init(struct builder *bd, const struct opts *o)
{
	char why[512] = "";
	memset(bd, 0, sizeof *bd);
	bd->o = o;
	if (o->key != NULL && sig0_key_read(o->key, &bd->k1, why, sizeof why) != DS_OK)
		die("%s: %s", o->key, why);
	if (o->key2 != NULL && sig0_key_read(o->key2, &bd->k2, why, sizeof why) != DS_OK)
		die("%s: %s", o->key2, why);
	if (o->zone != NULL) {
		if (dname_from_str(o->zone, bd->zone) <= 0)
			die("bad zone name \"%s\"", o->zone);
	} else if (bd->k1 != NULL) {
		const uint8_t *p = dname_parent(sig0_key_owner(bd->k1));
		memcpy(bd->zone, p, dname_len(p));
	} else {
		die("need -z ZONE (or -k to take the zone from the key)");
	}
	if (o->tsig != NULL) {
		char name[1024];
		const char *colon = strrchr(o->tsig, ':');
		size_t nl = colon ? (size_t)(colon - o->tsig) : 0;
		if (colon == NULL || nl == 0 || nl >= sizeof name)
			die("--tsig wants NAME:SECRET");
		memcpy(name, o->tsig, nl);
		name[nl] = 0;
		if (dname_from_str(name, bd->tsig_name) <= 0)
			die("bad TSIG key name \"%s\"", name);
		int n = b64_decode(colon + 1, bd->tsig_key, sizeof bd->tsig_key);
		if (n <= 0)
			die("bad TSIG secret (base64)");
		bd->tsig_keylen = (size_t)n;
	}
}

static void builder_free(struct builder *bd)
{
	sig0_key_free(bd->k1);
	sig0_key_free(bd->k2);
}

/* ---- answers ------------------------------------------------------------------- */

/* Full RCODE: header bits plus the OPT extended bits when present. */
static unsigned full_rcode(const struct msg *m)
{
	unsigned rc = m->flags & 0xf;
	if (m->has_opt)
		rc |= (unsigned)m->edns_ext_rcode << 4;
	return rc;
}

/* Set w to the options of m's OPT record; false when m has none. */
static bool opt_begin(const struct msg *m, struct wire *w)
{
	if (!m->has_opt)
		return false;
	const struct msg_rr *opt = &m->rr[m->opt_idx];
	wire_init(w, m->wire, (size_t)opt->rdoff + opt->rdlen);
	wire_seek(w, opt->rdoff);
	return true;
}

/* The next EDNS option of w: its data, or NULL when none is left whole. */
static const uint8_t *opt_next(struct wire *w, uint16_t *code, uint16_t *len)
{
	if (wire_left(w) < 4)
		return NULL;
	*code = wire_u16(w);
	*len = wire_u16(w);
	return wire_bytes(w, *len);
}

static void print_text(FILE *f, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '"' || p[i] == '\\')
			fprintf(f, "\\%c", p[i]);
		else if (p[i] < 0x20 || p[i] >= 0x7f)
			fprintf(f, "\\%03u", p[i]);
		else
			fputc(p[i], f);
	}
}

/* The public key of --verify-key: a K-file prefix, .key or .private path. */
static struct sig0_key *verify_key_load(const char *path)
{
	size_t n = strlen(path);
	char *name = malloc(n + sizeof ".key");
	if (name == NULL)
		die("out of memory");
	memcpy(name, path, n + 1);
	if (n > 8 && strcmp(name + n - 8, ".private") == 0)
		strcpy(name + n - 8, ".key");
	else if (!(n > 4 && strcmp(name + n - 4, ".key") == 0))
		strcpy(name + n, ".key");

	uint8_t owner[DNAME_MAX], rdata[4096];
	size_t rdlen = 0;
	char why[256] = "";
	struct sig0_limits lim;
	struct sig0_key *k = NULL;
	sig0_limits_default(&lim);
	memset(lim.alg_allowed, 0xff, sizeof lim.alg_allowed); /* whatever the server uses */
	if (sig0_key_from_text(name, owner, rdata, sizeof rdata, &rdlen, why, sizeof why) !=
		DS_OK ||
	    sig0_key_new(owner, rdata, rdlen, &lim, &k, why, sizeof why) != DS_OK)
		die("--verify-key %s: %s", name, why);
	free(name);
	return k;
}

/*
 * The answer's SIG(0), which must be its last record: "rfc2931" when it
 * verifies over the request as sent and the answer, "response-only" when
 * over the answer alone (the compat mode of D5), else "0".
 */
static const char *verify_answer(const struct msg *m, const struct sig0_key *key,
				 const uint8_t *req, size_t reqlen)
{
	size_t which = m->nsig - 1;
	struct sig0_rr s;
	if (m->sig_idx[which] != m->nrr - 1 || sig0_rr_parse(m, m->sig_idx[which], &s) != DS_OK)
		return "0";
	if (sig0_verify_response(m, which, &s, key, req, reqlen) == DS_OK)
		return "rfc2931";
	if (sig0_verify(m, which, &s, key) == DS_OK)
		return "response-only";
	return "0";
}

/*
 * One line for one answer.  vkey (may be NULL): check the answer's SIG(0)
 * against the request req as it was sent.
 */
static void print_answer(const uint8_t *buf, size_t len, const uint8_t *req, size_t reqlen,
			 const struct sig0_key *vkey)
{
	struct msg *m = calloc(1, sizeof *m);
	char tmp[32];
	if (m == NULL)
		die("out of memory");
	int rc = msg_parse(m, buf, len);
	if (len < DNS_HDR_LEN) {
		printf("rcode=- ede=- text=\"\" id=- malformed=\"short answer\"\n");
		free(m);
		return;
	}
	if (rc != DS_OK) {
		printf("rcode=%s ede=- text=\"\" id=%u malformed=\"",
		       rr_rcode_str(buf[3] & 0xf, tmp, sizeof tmp), rd_u16(buf));
		print_text(stdout, (const uint8_t *)m->why, strlen(m->why));
		printf("\"\n");
		msg_clear(m);
		free(m);
		return;
	}
	const uint8_t *ede = NULL;
	size_t edelen = 0;
	char extra[4096] = "";
	size_t xl = 0;
	struct wire w;
	if (opt_begin(m, &w)) {
		uint16_t code, olen;
		const uint8_t *p;
		while ((p = opt_next(&w, &code, &olen)) != NULL) {
			if (code == EDNS_OPT_EDE && ede == NULL && olen >= 2) {
				ede = p;
				edelen = olen;
				continue;
			}
			if (xl + 16 >= sizeof extra)
				continue;
			xl += (size_t)snprintf(extra + xl, sizeof extra - xl, " opt%u=", code);
			for (uint16_t i = 0; i < olen && xl + 3 < sizeof extra; i++)
				xl += (size_t)snprintf(extra + xl, sizeof extra - xl, "%02x", p[i]);
		}
	}
	printf("rcode=%s ", rr_rcode_str(full_rcode(m), tmp, sizeof tmp));
	if (ede != NULL) {
		printf("ede=%u text=\"", rd_u16(ede));
		print_text(stdout, ede + 2, edelen - 2);
		printf("\"");
	} else {
		printf("ede=- text=\"\"");
	}
	printf(" id=%u", m->id);
	if (m->flags & MSG_TC)
		printf(" tc=1");
	if (m->nsig > 0)
		printf(" sig0=%zu", m->nsig);
	else if (vkey != NULL)
		printf(" sig0=0");
	if (m->nsig > 0 && vkey != NULL)
		printf(" sig0ok=%s", verify_answer(m, vkey, req, reqlen));
	if (m->has_tsig)
		printf(" tsig=1");
	printf("%s\n", extra);
	fflush(stdout);
	msg_clear(m);
	free(m);
}

/* ---- transport ------------------------------------------------------------------ */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int open_socket(const struct opts *o, bool tcp)
{
	struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
				 .ai_socktype = tcp ? SOCK_STREAM : SOCK_DGRAM};
	struct addrinfo *ai;
	int e = getaddrinfo(o->server, o->port, &hints, &ai);
	if (e != 0)
		die("%s: %s", o->server, gai_strerror(e));
	int fd = socket(ai->ai_family, ai->ai_socktype, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	if (o->bind != NULL) {
		struct addrinfo *la;
		hints.ai_family = ai->ai_family;
		e = getaddrinfo(o->bind, "0", &hints, &la);
		if (e != 0)
			die("--bind %s: %s", o->bind, gai_strerror(e));
		if (bind(fd, la->ai_addr, la->ai_addrlen) != 0)
			die("bind %s: %s", o->bind, strerror(errno));
		freeaddrinfo(la);
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0)
		die("connect %s port %s: %s", o->server, o->port, strerror(errno));
	freeaddrinfo(ai);
	if (tcp) {
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	}
	return fd;
}

static bool write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* Read exactly n bytes before the deadline: 1 done, 0 timeout, -1 closed/error. */
static int read_full(int fd, uint8_t *p, size_t n, double deadline)
{
	while (n > 0) {
		int ms = (int)((deadline - now_s()) * 1000);
		if (ms <= 0)
			return 0;
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int pr = poll(&pfd, 1, ms);
		if (pr == 0)
			return 0;
		if (pr < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		ssize_t r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 1;
}

/*
 * Send one request and wait for its answer (matched by ID over UDP).
 * Returns EXIT_OK, EXIT_TIMEOUT or EXIT_CLOSED.
 */
static int exchange(const struct opts *o, int fd, const uint8_t *req, size_t len,
		    const struct sig0_key *vkey)
{
	static uint8_t ans[MAX_MSG + 2];
	double deadline = now_s() + o->wait_ms / 1000.0;
	bool have_id = len >= 2;
	uint16_t id = have_id ? rd_u16(req) : 0;

	if (o->tcp) {
		uint8_t pfx[2];
		wr_u16(pfx, (uint16_t)(o->frame_len >= 0 ? o->frame_len : (long)len));
		if (!write_all(fd, pfx, 2) || !write_all(fd, req, len)) {
			printf("rcode=- ede=- text=\"\" id=%u closed=1\n", id);
			return EXIT_CLOSED;
		}
		int r = read_full(fd, pfx, 2, deadline);
		if (r == 1)
			r = read_full(fd, ans, rd_u16(pfx), deadline);
		if (r == 1) {
			print_answer(ans, rd_u16(pfx), req, len, vkey);
			return EXIT_OK;
		}
		if (r < 0) {
			printf("rcode=- ede=- text=\"\" id=%u closed=1\n", id);
			return EXIT_CLOSED;
		}
		printf("rcode=- ede=- text=\"\" id=%u timeout=1\n", id);
		return EXIT_TIMEOUT;
	}

	if (send(fd, req, len, 0) < 0)
		die("send: %s", strerror(errno));
	for (;;) {
		int ms = (int)((deadline - now_s()) * 1000);
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		if (ms <= 0 || poll(&pfd, 1, ms) == 0)
			break;
		ssize_t r = recv(fd, ans, sizeof ans, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ECONNREFUSED) {
				printf("rcode=- ede=- text=\"\" id=%u refused=1\n", id);
				return EXIT_CLOSED;
			}
			die("recv: %s", strerror(errno));
		}
		if (have_id && (r < 2 || rd_u16(ans) != id))
			continue; /* someone else's answer */
		print_answer(ans, (size_t)r, req, len, vkey);
		return EXIT_OK;
	}
	printf("rcode=- ede=- text=\"\" id=%u timeout=1\n", id);
	return EXIT_TIMEOUT;
}

/* ---- DNS Cookies ----------------------------------------------------------------- */

/*
 * --cookies: a random client cookie, then the server cookie from the answer
 * to one unsigned query (the zone's SOA) sent over UDP from the address the
 * requests use (a server cookie is bound to it).  Without one in time, the
 * requests carry the client cookie alone (said on stderr).
 */
static void learn_cookie(const struct opts *o, struct builder *bd)
{
	uint8_t q[512], ans[MAX_MSG];
	struct wbuf b;
	RAND_bytes(bd->cookie, COOKIE_CLIENT_LEN);
	bd->cookielen = COOKIE_CLIENT_LEN;
	uint16_t id;
	RAND_bytes((uint8_t *)&id, sizeof id);
	wbuf_init(&b, q, sizeof q);
	wbuf_u16(&b, id);
	wbuf_u16(&b, 0);
	wbuf_u16(&b, 1);
	wbuf_u16(&b, 0);
	wbuf_u16(&b, 0);
	wbuf_u16(&b, 1);
	wbuf_bytes(&b, bd->zone, dname_len(bd->zone));
	wbuf_u16(&b, T_SOA);
	wbuf_u16(&b, CLASS_IN);
	wbuf_u8(&b, 0);
	wbuf_u16(&b, T_OPT);
	wbuf_u16(&b, (uint16_t)o->udp_size);
	wbuf_u32(&b, 0);
	wbuf_u16(&b, 4 + COOKIE_CLIENT_LEN);
	cookie_write(&b, bd->cookie, COOKIE_CLIENT_LEN);
	int fd = open_socket(o, false);
	double deadline = now_s() + o->wait_ms / 1000.0;
	if (b.err || send(fd, q, b.len, 0) < 0)
		die("cannot send the cookie query");
	for (;;) {
		int ms = (int)((deadline - now_s()) * 1000);
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		if (ms <= 0 || poll(&pfd, 1, ms) <= 0)
			break;
		ssize_t r = recv(fd, ans, sizeof ans, 0);
		if (r < 2 || rd_u16(ans) != id)
			continue;
		struct msg *m = calloc(1, sizeof *m);
		size_t len = 0;
		const uint8_t *c = NULL;
		if (m != NULL && msg_parse(m, ans, (size_t)r) == DS_OK && m->has_opt)
			c = cookie_find(m->wire + m->rr[m->opt_idx].rdoff, m->rr[m->opt_idx].rdlen,
					&len);
		if (c != NULL && len > COOKIE_CLIENT_LEN && len <= COOKIE_MAX_LEN &&
		    memcmp(c, bd->cookie, COOKIE_CLIENT_LEN) == 0) {
			memcpy(bd->cookie, c, len);
			bd->cookielen = len;
		}
		if (m != NULL)
			msg_clear(m);
		free(m);
		break;
	}
	close(fd);
	if (bd->cookielen == COOKIE_CLIENT_LEN)
		fprintf(stderr,
			"dsync-send: no server cookie learned; sending the client cookie alone\n");
}

/* ---- load mode ------------------------------------------------------------------ */

struct load {
	const struct opts *o;
	uint8_t *msgs; /* all requests, back to back */
	size_t *off, *len;
	double *lat;
	size_t nlat;
	unsigned long rcodes[4096];
	unsigned long *edes; /* per EDE info code; [65536]: no EDE */
	long answered, timeouts;
	long nsigned; /* answers that carry a SIG(0) */
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The first EDE of m: its code (65536 for none), its text in *text, *tlen. */
static unsigned ede_of(const struct msg *m, const uint8_t **text, size_t *tlen)
{
	struct wire w;
	uint16_t code, olen;
	const uint8_t *p;
	*text = NULL;
	*tlen = 0;
	if (!opt_begin(m, &w))
		return 65536;
	while ((p = opt_next(&w, &code, &olen)) != NULL)
		if (code == EDNS_OPT_EDE && olen >= 2) {
			*text = p + 2;
			*tlen = olen - 2u;
			return rd_u16(p);
		}
	return 65536;
}

static void load_answer(struct load *L, const uint8_t *p, size_t n, double t0, struct msg *m)
{
	L->lat[L->nlat++] = now_s() - t0;
	L->answered++;
	unsigned rc = n >= 4 ? (unsigned)(p[3] & 0xf) : 4095, ede = 65536;
	if (n >= DNS_HDR_LEN && msg_parse(m, p, n) == DS_OK) {
		rc = m->flags & MSG_TC ? 4094 : full_rcode(m);
		const uint8_t *text;
		size_t tlen;
		ede = ede_of(m, &text, &tlen);
		if (m->nsig > 0)
			L->nsigned++;
	}
	msg_clear(m);
	L->rcodes[rc < 4095 ? rc : 4095]++;
	L->edes[ede]++;
}

/* UDP: one socket, up to C outstanding, IDs are the message numbers mod 65536. */
static void load_udp(struct load *L)
{
	const struct opts *o = L->o;
	int fd = open_socket(o, false);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	double *sent_at = calloc(65536, sizeof *sent_at); /* 0: not outstanding */
	uint16_t *ring = calloc(65536, sizeof *ring);
	struct msg *m = calloc(1, sizeof *m);
	uint8_t ans[MAX_MSG];
	if (sent_at == NULL || ring == NULL || m == NULL)
		die("out of memory");
	long next = 0, outstanding = 0;
	size_t head = 0, tail = 0; /* ring of IDs in send order */
	double wait = o->wait_ms / 1000.0, start = now_s();

	while (next < o->count || outstanding > 0) {
		/* expire from the oldest; answered ones are skipped on the way */
		double t = now_s();
		for (;;) {
			uint16_t id = ring[head];
			if (head == tail)
				break;
			if (sent_at[id] != 0 && t - sent_at[id] < wait)
				break;
			if (sent_at[id] != 0) {
				L->timeouts++;
				sent_at[id] = 0;
				outstanding--;
			}
			head = (head + 1) % 65536;
		}
		while (next < o->count && outstanding < o->concurrency) {
			/* --rate: request N goes out no earlier than N / rate s in */
			if (o->rate > 0 && t - start < (double)next / (double)o->rate)
				break;
			const uint8_t *req = L->msgs + L->off[next];
			uint16_t id = rd_u16(req);
			if (send(fd, req, L->len[next], 0) < 0) {
				if (errno == EAGAIN || errno == ENOBUFS)
					break;
				if (errno != ECONNREFUSED)
					die("send: %s", strerror(errno));
			}
			sent_at[id] = now_s();
			ring[tail] = id;
			tail = (tail + 1) % 65536;
			outstanding++;
			next++;
		}
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		if (poll(&pfd, 1, o->rate > 0 ? 1 : 5) <= 0)
			continue;
		for (;;) {
			ssize_t r = recv(fd, ans, sizeof ans, 0);
			if (r < 0)
				break;
			if (r < 2)
				continue;
			uint16_t id = rd_u16(ans);
			if (sent_at[id] == 0)
				continue; /* late or unknown */
			load_answer(L, ans, (size_t)r, sent_at[id], m);
			sent_at[id] = 0;
			outstanding--;
		}
	}
	free(m);
	free(ring);
	free(sent_at);
	close(fd);
}

/* TCP: C connections, one request in flight on each. */
struct conn {
	int fd;
	long idx; /* message in flight, -1 none */
	double t0;
	uint8_t rbuf[MAX_MSG + 2];
	size_t rlen;
};

static bool conn_send(const struct load *L, struct conn *c, long idx)
{
	uint8_t pfx[2];
	wr_u16(pfx, (uint16_t)L->len[idx]);
	c->idx = idx;
	c->t0 = now_s();
	c->rlen = 0;
	return write_all(c->fd, pfx, 2) && write_all(c->fd, L->msgs + L->off[idx], L->len[idx]);
}

static void load_tcp(struct load *L)
{
	const struct opts *o = L->o;
	size_t nc = (size_t)o->concurrency;
	struct conn *cs = calloc(nc, sizeof *cs);
	struct pollfd *pf = calloc(nc, sizeof *pf);
	struct msg *m = calloc(1, sizeof *m);
	if (cs == NULL || pf == NULL || m == NULL)
		die("out of memory");
	long next = 0, active = 0;
	double wait = o->wait_ms / 1000.0;
	for (size_t i = 0; i < nc; i++) {
		cs[i].fd = open_socket(o, true);
		cs[i].idx = -1;
		if (next < o->count) {
			if (!conn_send(L, &cs[i], next++))
				die("TCP write failed");
			active++;
		}
	}
	while (active > 0) {
		for (size_t i = 0; i < nc; i++) {
			pf[i].fd = cs[i].idx >= 0 ? cs[i].fd : -1;
			pf[i].events = POLLIN;
			pf[i].revents = 0;
		}
		poll(pf, (nfds_t)nc, 5);
		double t = now_s();
		for (size_t i = 0; i < nc; i++) {
			struct conn *c = &cs[i];
			if (c->idx < 0)
				continue;
			bool done = false, dead = false;
			if (pf[i].revents) {
				ssize_t r =
				    read(c->fd, c->rbuf + c->rlen, sizeof c->rbuf - c->rlen);
				if (r <= 0) {
					dead = true;
				} else {
					c->rlen += (size_t)r;
					if (c->rlen >= 2 &&
					    c->rlen >= 2 + (size_t)rd_u16(c->rbuf)) {
						load_answer(L, c->rbuf + 2, rd_u16(c->rbuf), c->t0,
							    m);
						done = true;
					}
				}
			} else if (t - c->t0 >= wait) {
				L->timeouts++;
				dead = true;
			}
			if (dead) {
				if (pf[i].revents)
					L->timeouts++; /* closed without an answer */
				close(c->fd);
				c->fd = -1;
				c->idx = -1;
				active--;
			} else if (done) {
				if (next < o->count && conn_send(L, c, next)) {
					next++;
				} else {
					c->idx = -1;
					active--;
				}
			}
		}
	}
	for (size_t i = 0; i < nc; i++)
		if (cs[i].fd >= 0)
			close(cs[i].fd);
	/* messages never sent because connections died count as timeouts */
	L->timeouts += o->count - next;
	free(m);
	free(pf);
	free(cs);
}

/* The RCODE and EDE counts of a summary line: "NAME:N,... edes=CODE:N,...". */
static void print_tally(const struct load *L)
{
	const char *sep = "";
	char tmpn[32];
	for (unsigned i = 0; i < 4096; i++)
		if (L->rcodes[i]) {
			printf("%s%s:%lu", sep,
			       i == 4095   ? "SHORT"
			       : i == 4094 ? "TC"
					   : rr_rcode_str(i, tmpn, sizeof tmpn),
			       L->rcodes[i]);
			sep = ",";
		}
	printf("%s edes=", *sep ? "" : "-");
	sep = "";
	for (unsigned i = 0; i <= 65536; i++)
		if (L->edes[i]) {
			if (i == 65536)
				printf("%s-:%lu", sep, L->edes[i]);
			else
				printf("%s%u:%lu", sep, i, L->edes[i]);
			sep = ",";
		}
	printf("%s", *sep ? "" : "-");
}

static int load_mode(const struct opts *o, struct builder *bd)
{
	struct load L = {.o = o};
	size_t n = (size_t)o->count;
	L.off = calloc(n, sizeof *L.off);
	L.len = calloc(n, sizeof *L.len);
	L.lat = calloc(n, sizeof *L.lat);
	L.edes = calloc(65537, sizeof *L.edes);
	uint8_t *tmp = malloc(MAX_MSG);
	size_t cap = 0, used = 0;
	if (L.off == NULL || L.len == NULL || L.lat == NULL || L.edes == NULL || tmp == NULL)
		die("out of memory");
	uint16_t base = 0;
	RAND_bytes((uint8_t *)&base, sizeof base);

	/* sign everything first: the measured phase is only the exchange */
	bd->now = (uint32_t)time(NULL);
	double t0 = now_s();
	for (size_t i = 0; i < n; i++) {
		size_t len =
		    build(bd, tmp, MAX_MSG, (uint16_t)(base + i), (long)(i >> 16), (long)i);
		if (used + len > cap) {
			cap = cap ? cap * 2 : 1 << 20;
			while (used + len > cap)
				cap *= 2;
			L.msgs = realloc(L.msgs, cap);
			if (L.msgs == NULL)
				die("out of memory");
		}
		flip(o, tmp, len);
		memcpy(L.msgs + used, tmp, len);
		L.off[i] = used;
		L.len[i] = len;
		used += len;
	}
	double sign_time = now_s() - t0;

	t0 = now_s();
	if (o->tcp)
		load_tcp(&L);
	else
		load_udp(&L);
	double el = now_s() - t0;

	qsort(L.lat, L.nlat, sizeof *L.lat, cmp_double);
	double p50 = L.nlat ? L.lat[(L.nlat - 1) / 2] * 1000 : 0;
	double p99 = L.nlat ? L.lat[(size_t)((double)(L.nlat - 1) * 0.99)] * 1000 : 0;
	printf("count=%ld answered=%ld timeouts=%ld elapsed=%.3f rate=%.1f p50_ms=%.3f "
	       "p99_ms=%.3f build_rate=%.1f rcodes=",
	       o->count, L.answered, L.timeouts, el, el > 0 ? (double)L.answered / el : 0, p50, p99,
	       sign_time > 0 ? (double)n / sign_time : 0);
	print_tally(&L);
	printf(" signed=%ld\n", L.nsigned);
	free(L.edes);
	free(tmp);
	free(L.msgs);
	free(L.off);
	free(L.len);
	free(L.lat);
	return L.timeouts ? EXIT_TIMEOUT : EXIT_OK;
}

/* ---- sequence mode --------------------------------------------------------------- */

static volatile sig_atomic_t seq_stop; /* SIGTERM or SIGINT: start no new request */

static void on_stop(int sig)
{
	(void)sig;
	seq_stop = 1;
}

struct seq_run {
	const struct opts *o;
	struct builder *bd;
	int fd;
	uint16_t id; /* the last request's ID; the next one gets id + 1 */
	struct load L;
	long resends;
	struct msg m;
};

/* The line of one answered request, counted in the tally. */
static void seq_answered(struct seq_run *S, long seq, int tries, const uint8_t *ans, size_t n)
{
	char tmp[32];
	unsigned rc = n >= 4 ? (unsigned)(ans[3] & 0xf) : 4095, ede = 65536;
	const uint8_t *text = NULL;
	size_t tlen = 0;
	if (n >= DNS_HDR_LEN && msg_parse(&S->m, ans, n) == DS_OK) {
		rc = full_rcode(&S->m);
		ede = ede_of(&S->m, &text, &tlen);
	}
	S->L.answered++;
	S->L.rcodes[rc < 4095 ? rc : 4095]++;
	S->L.edes[ede]++;
	printf("seq=%ld rcode=%s ", seq, rc == 4095 ? "SHORT" : rr_rcode_str(rc, tmp, sizeof tmp));
	if (ede < 65536)
		printf("ede=%u", ede);
	else
		printf("ede=-");
	printf(" tries=%d id=%u text=\"", tries, S->id);
	if (text != NULL)
		print_text(stdout, text, tlen);
	printf("\"\n");
	msg_clear(&S->m);
}

/* Wait for the answer to ID until *next (a resend time); 1 when it came */
static int seq_wait(struct seq_run *S, double *next, uint8_t *ans, size_t *n)
{
	struct pollfd pfd = {.fd = S->fd, .events = POLLIN};
	int ms = (int)((*next - now_s()) * 1000) + 1;
	if (poll(&pfd, 1, ms > 0 ? ms : 0) <= 0)
		return 0;
	ssize_t r = recv(S->fd, ans, MAX_MSG, 0);
	if (r < 0) {
		if (errno == ECONNREFUSED) { /* nobody listens (yet): try again soon */
			if (*next > now_s() + 0.1)
				*next = now_s() + 0.1;
			return 0;
		}
		if (errno == EINTR || errno == EAGAIN)
			return 0;
		die("recv: %s", strerror(errno));
	}
	if (r < 2 || rd_u16(ans) != S->id)
		return 0; /* an earlier request's late answer */
	*n = (size_t)r;
	return 1;
}

/* One request of the sequence: built once, sent until answered or given up. */
static void seq_one(struct seq_run *S, long seq)
{
	static uint8_t req[MAX_MSG], ans[MAX_MSG];
	S->id++;
	const struct opts *o = S->o;
	size_t len = build(S->bd, req, sizeof req, S->id, 0, seq), n = 0;
	flip(o, req, len);
	double first = now_s(), next = first;
	int tries = 0;
	for (;;) {
		double t = now_s();
		if (t >= next) {
			if (t - first >= o->give_up_ms / 1000.0)
				break;
			S->resends += tries > 0;
			tries++;
			next = t + o->wait_ms / 1000.0;
			if (send(S->fd, req, len, 0) < 0) {
				if (errno == ECONNREFUSED)
					next = t + 0.1;
				else if (errno != EAGAIN && errno != ENOBUFS && errno != EINTR)
					die("send: %s", strerror(errno));
			}
		}
		if (seq_wait(S, &next, ans, &n)) {
			seq_answered(S, seq, tries, ans, n);
			return;
		}
	}
	S->L.timeouts++;
	printf("seq=%ld rcode=- ede=- tries=%d id=%u text=\"\" timeout=1\n", seq, tries, S->id);
}

static int seq_mode(const struct opts *o, struct builder *bd)
{
	struct seq_run *S = calloc(1, sizeof *S);
	if (S == NULL || (S->L.edes = calloc(65537, sizeof *S->L.edes)) == NULL)
		die("out of memory");
	S->o = o;
	S->bd = bd;
	S->fd = open_socket(o, false);
	RAND_bytes((uint8_t *)&S->id, sizeof S->id);
	struct sigaction sa = {.sa_handler = on_stop};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	double t0 = now_s();
	long k = 0;
	for (; k < o->seq && !seq_stop; k++)
		seq_one(S, o->seq_start + k);
	printf("count=%ld answered=%ld timeouts=%ld resends=%ld elapsed=%.3f rcodes=", k,
	       S->L.answered, S->L.timeouts, S->resends, now_s() - t0);
	print_tally(&S->L);
	printf("\n");
	int rc = S->L.timeouts ? EXIT_TIMEOUT : EXIT_OK;
	close(S->fd);
	free(S->L.edes);
	free(S);
	return rc;
}

/* ---- main ------------------------------------------------------------------------ */

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		die("%s: %s", path, strerror(errno));
	uint8_t *buf = malloc(MAX_MSG + 1);
	if (buf == NULL)
		die("out of memory");
	size_t n = fread(buf, 1, MAX_MSG + 1, f);
	fclose(f);
	if (n > MAX_MSG)
		die("%s: larger than a DNS message", path);
	*len = n;
	return buf;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct builder bd;
	parse_opts(&o, argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* a server that stops (SIGTERM drain) resets our connections: a write
	 * then fails with EPIPE, and the summary line is still printed */
	signal(SIGPIPE, SIG_IGN);

	uint8_t *req;
	size_t len;
	bool raw = o.raw_hex != NULL || o.raw_file != NULL;
	if (!raw)
		builder_init(&bd, &o);
	if (o.cookies)
		learn_cookie(&o, &bd);
	if (o.count > 0 || o.seq > 0) {
		int rc = o.seq > 0 ? seq_mode(&o, &bd) : load_mode(&o, &bd);
		builder_free(&bd);
		for (size_t i = 0; i < o.neopts; i++)
			free(o.eopts[i].data);
		return rc;
	}
	if (o.raw_hex != NULL) {
		req = hex_decode(o.raw_hex, &len);
		if (len > MAX_MSG)
			die("raw message too large");
	} else if (o.raw_file != NULL) {
		req = read_file(o.raw_file, &len);
	} else {
		req = malloc(MAX_MSG);
		if (req == NULL)
			die("out of memory");
		uint16_t id;
		if (o.id >= 0)
			id = (uint16_t)o.id;
		else
			RAND_bytes((uint8_t *)&id, sizeof id);
		len = build(&bd, req, MAX_MSG, id, 0, -1);
		builder_free(&bd);
	}
	flip(&o, req, len);
	if (o.save != NULL) {
		FILE *f = fopen(o.save, "wb");
		if (f == NULL || fwrite(req, 1, len, f) != len || fclose(f) != 0)
			die("%s: cannot write", o.save);
	}

	struct sig0_key *vkey = o.verify_key ? verify_key_load(o.verify_key) : NULL;
	int rc = EXIT_OK;
	int fd = open_socket(&o, o.tcp);
	for (long i = 0; i < o.repeat; i++) {
		int r = exchange(&o, fd, req, len, vkey);
		if (r != EXIT_OK) {
			rc = r;
			if (r == EXIT_CLOSED && o.tcp)
				break;
		}
	}
	close(fd);
	sig0_key_free(vkey);
	free(req);
	for (size_t i = 0; i < o.neopts; i++)
		free(o.eopts[i].data);
	return rc;
}

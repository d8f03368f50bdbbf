/*
 * tools/agent/agent.h -- what the files of dsync-agent share.
 *
 * dsync-agent is the child side of draft-ietf-dnsop-delegation-mgmt-via-ddns:
 * it makes the child's SIG(0) key, finds the parent's UPDATE Receiver
 * (RFC 9859 DSYNC), bootstraps the key, asks where it stands (KeyState) and
 * sends delegation UPDATEs.  It reuses common/ (wire, names, messages, the
 * TCP client), sig0/ (keys, signing, verifying answers) and keystate/
 * (KeyState option, the validating resolver of methods.h).
 *
 *   main.c      options, main() (the commands: commands.h)
 *   send.c      build, sign, send (retries), read and verify answers
 *   discover.c  the DSYNC lookup and what the target publishes
 *   diff.c      what the child's zone wants delegated vs what the parent has
 */
#ifndef DS_TOOLS_AGENT_AGENT_H
#define DS_TOOLS_AGENT_AGENT_H

#include <sysexits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/cookie.h"
#include "common/deleg.h"
#include "common/dns.h"
#include "keystate/keystate.h"
#include "keystate/methods.h"

/* Exit statuses (sysexits.h; dsync-agent(1), doc/exit-status.md). */
enum {
	AGENT_OK = 0,			    /* done: NOERROR, key trusted, ... */
	AGENT_REFUSED = 1,		    /* the parent answered and said no (RCODE/KeyState) */
	AGENT_USAGE = EX_USAGE,		    /* command line */
	AGENT_DATA = EX_DATAERR,	    /* a key file that holds no usable key */
	AGENT_NOINPUT = EX_NOINPUT,	    /* a key file that cannot be read */
	AGENT_UNREACHABLE = EX_UNAVAILABLE, /* no answer, discovery failed, transport error */
	AGENT_SOFTWARE = EX_SOFTWARE,	    /* our own failure (memory, key generation) */
	AGENT_CANTCREAT = EX_CANTCREAT,	    /* the new key's files cannot be written */
	AGENT_PENDING = EX_TEMPFAIL,  /* not finished yet: key still validating, timeout polling */
	AGENT_INSECURE = EX_PROTOCOL, /* an answer that had to be authenticated was not */
};

/* ---- discover.c ---------------------------------------------------- */

#define AGENT_MAX_ADDRS 8
#define AGENT_MAX_KEYS 4

struct agent_key {
	uint16_t rdlen;
	uint8_t rdata[2048];
};

struct agent_discovery {
	uint8_t parent[DNAME_MAX]; /* the zone whose _dsync name answered */
	uint8_t owner[DNAME_MAX];  /* the DSYNC owner name that matched */
	uint8_t target[DNAME_MAX]; /* the UPDATE Receiver's name */
	uint16_t port;
	bool dsync_secure; /* the DSYNC RRset validated as secure */
	struct sockaddr_storage addr[AGENT_MAX_ADDRS];
	socklen_t addrlen[AGENT_MAX_ADDRS];
	size_t naddr;
	bool addr_secure;		      /* every A/AAAA RRset of the target was secure */
	struct agent_key key[AGENT_MAX_KEYS]; /* the target's KEY RRset */
	size_t nkey;
	bool key_secure;
	char methods[128]; /* SVCB bootstrap value, "" when there is none */
	bool svcb_secure;
	char report[4096]; /* one line per finding, saying what is and is not secure */
};

/*
 * Find the UPDATE Receiver of child the RFC 9859 way (doc/protocol.md,
 * Finding the receiver): <child's first label>._dsync.<rest> DSYNC, then
 * on a negative answer the parent found from the SOA of that answer
 * (re-insert _dsync at the real parent cut), then the bare
 * _dsync.<parent>; take the record with RRtype
 * ANY (255) and the given scheme (D1: 2), port not 0.  Then the target's
 * A/AAAA, KEY and SVCB (bootstrap key svcb_key, D1: 65282) through r with
 * DNSSEC validation.  Returns DS_OK (out filled, report written), DS_ENOENT
 * when no usable DSYNC exists (report says what was asked) or the target
 * has no usable address, DS_EAGAIN when lookups failed (SERVFAIL,
 * timeouts; out holds what was found), DS_ENOMEM.  Bogus data is never
 * used: a bogus DSYNC RRset ends the search (DS_ENOENT), a bogus A/AAAA,
 * KEY or SVCB RRset is left out (and said so in the report).  Insecure
 * data is kept with its *_secure flag false; addr_secure needs both the A
 * and the AAAA answer secure (positive or negative).  When several
 * records match, the first is used (the report says so).
 */
int agent_discover(struct bm_resolver *r, const uint8_t *child, uint8_t scheme, uint16_t svcb_key,
		   struct agent_discovery *out);

/* The pure parts of discovery (no I/O; tested by tests/unit/test_agent.c). */

/*
 * Whether the receiver's KEY found by discovery d may authenticate answers:
 * only when the DSYNC RRset that named the target and the target's KEY
 * RRset were both secure, and, when addrs_used (the target was reached at
 * the addresses discovery found), its A/AAAA RRsets too.  An insecure DSYNC
 * could point to a target in a signed zone of the attacker's.  false: why
 * lists what was not secure ("the DSYNC RRset, the A/AAAA RRsets").
 */
bool agent_receiver_key_usable(const struct agent_discovery *d, bool addrs_used, char *why,
			       size_t whylen);

/*
 * The DSYNC lookup name for child under parent: child's labels below
 * parent, then "_dsync", then parent ("a.b.example." under "example." ->
 * "a.b._dsync.example.").  parent NULL: child's own parent (insert after
 * the first label).  DS_OK, DS_EINVAL (child not strictly below parent),
 * DS_ELIMIT (longer than 255 octets).
 */
int agent_dsync_name(const uint8_t *child, const uint8_t *parent, uint8_t out[DNAME_MAX]);

/* One DSYNC RDATA: RRtype u16 | scheme u8 | port u16 | target (uncompressed name). */
struct agent_dsync {
	uint16_t rrtype;
	uint8_t scheme;
	uint16_t port;
	uint8_t target[DNAME_MAX];
};

/* Parse DSYNC RDATA; DS_OK or DS_EMALF (short, bad name, trailing octets). */
int agent_dsync_parse(const uint8_t *rdata, size_t rdlen, struct agent_dsync *out);

/*
 * Find SvcParamKey key in SVCB RDATA (priority u16, target name, then key
 * u16 | length u16 | value, keys strictly increasing, RFC 9460 2.2).
 * AliasMode (priority 0) records are read the same way (D2).  DS_OK with
 * *val and *vallen pointing into rdata, DS_ENOENT (no such key), DS_EMALF.
 */
int agent_svcb_param(const uint8_t *rdata, size_t rdlen, uint16_t key, const uint8_t **val,
		     size_t *vallen);

/* ---- diff.c -------------------------------------------------------- */

/*
 * What the child wants delegated, read from the child's own zone through
 * r: its apex NS RRset, A/AAAA of NS names at or below the child (glue),
 * and DS: from the CDS RRset when use_cds (RFC 8078; "0 0 0 00" means no
 * DS), else computed (SHA-256, digest type 2) from the DNSKEYs with the SEP
 * flag (257: zone key and SEP, not revoked).  When use_cds and the child
 * has no CDS RRset, the DS come from the DNSKEYs.  Insecure answers are
 * used (an unsigned child, or one whose DS the parent lacks); bogus ones
 * never.  TTLs as found.  Returns DS_OK, DS_EAGAIN (lookups failed, an
 * RRset is bogus or malformed), DS_ENOENT (the child has no NS RRset),
 * DS_ELIMIT (more than DELEG_MAX records), DS_ENOMEM; why (may be NULL)
 * says what failed, and on DS_OK holds a note worth printing or "" (e.g.
 * "x. has no CDS RRset: DS computed from its DNSKEYs").  out is empty
 * unless DS_OK.
 */
int agent_child_wants(struct bm_resolver *r, const uint8_t *child, bool use_cds, struct deleg *out,
		      char *why, size_t whylen);

/*
 * What the parent delegates now: the NS set at child, glue below child and
 * the DS RRset, asked (RD=0, over TCP, common/dnsq.h) from the parent's
 * authoritative servers (the parent zone's NS addresses through r); the NS
 * and glue come from the referral, the DS from the parent's answer.
 * port: the servers' port (53; tests may change it).  The servers are
 * tried in turn (5 s each query) until one answers both questions; an
 * answer that is not authoritative (DS) or neither a referral nor an
 * answer (NS) moves on to the next.  Returns DS_OK; DS_ENOENT: the parent
 * says child does not exist or is not delegated, or the parent zone has no
 * servers; DS_EAGAIN: no server answered usably (why says the last
 * reason); DS_ENOMEM.  out is empty unless DS_OK.
 */
int agent_parent_has(struct bm_resolver *r, const uint8_t *child, const uint8_t *parent,
		     uint16_t port, struct deleg *out, char *why, size_t whylen);

/*
 * The DS (digest type 2, SHA-256, RFC 4509) of the DNSKEY RDATA dnskey at
 * owner: key tag | algorithm | 2 | SHA-256(canonical owner | RDATA), as
 * an RR (owner, type DS, ttl) in out.  DS_OK, DS_EMALF (RDATA shorter than
 * 4 octets), DS_ECRYPTO.
 */
int agent_ds_from_dnskey(const uint8_t *owner, const uint8_t *dnskey, size_t len, uint32_t ttl,
			 struct drr *out);

/* The UPDATE that turns has into wants: records of wants missing from has
 * go to add, records of has missing from wants go to del (RFC 2136 1.1
 * identity, drr_same); TTLs are ignored in the comparison. */
void agent_diff(const struct deleg *has, const struct deleg *wants, struct deleg *add,
		struct deleg *del);

/* ---- send.c -------------------------------------------------------- */

struct sig0_key;
struct sig0_key;

#define AGENT_RDATA_MAX 2048 /* one RR given to an UPDATE (KEY of RSA 4096 fits) */
#define AGENT_MAX_RRS 256    /* RRs in one UPDATE */
#define AGENT_TRY_MS 5000    /* one try: the draft's "at least 5 s" */
#define AGENT_MAX_RETRIES 5  /* the draft's "at most 5 retries" */

/* One RR of an UPDATE's update section (RFC 2136 2.5). */
struct agent_rr {
	uint16_t rclass; /* CLASS_IN: add; CLASS_NONE: delete this RR; CLASS_ANY: delete
			  * the RRset (no RDATA) */
	uint8_t owner[DNAME_MAX];
	uint16_t type;
	uint32_t ttl; /* written as 0 for deletes */
	uint16_t rdlen;
	uint8_t rdata[AGENT_RDATA_MAX];
};

/*
 * Parse --add/--del text ("owner [ttl] [IN] type rdata", through ldns) into
 * *out with class rclass (CLASS_IN or CLASS_NONE), or --del-rrset text
 * ("NAME TYPE") when rclass is CLASS_ANY.  Returns DS_OK or DS_EPARSE with
 * why filled.
 */
int agent_rr_from_text(const char *text, uint16_t rclass, struct agent_rr *out, char *why,
		       size_t whylen);

/* A struct drr (what agent_diff gives) as an add (CLASS_IN) or delete (CLASS_NONE). */
void agent_rr_from_drr(const struct drr *d, uint16_t rclass, struct agent_rr *out);

/* What to send.  The message is built (random ID, fresh SIG(0)) by agent_send(). */
enum agent_req_kind {
	AGENT_REQ_UPDATE,  /* zone section name (the parent), update section rr */
	AGENT_REQ_INQUIRY, /* QUERY name KEY with the KeyState option, state 2 */
};

struct agent_request {
	enum agent_req_kind kind;
	const uint8_t *name; /* UPDATE: the zone (parent); inquiry: the child */
	const struct agent_rr *rr;
	size_t nrr;
	uint16_t ks_code;	    /* KeyState option code; 0 = no option (UPDATE only) */
	const struct sig0_key *key; /* signs; its tag is the KeyState KEY-ID */
	/* the message as last sent (built by agent_send) */
	uint8_t wire[65535];
	size_t len;
	uint32_t expiration;		/* of its SIG(0) */
	uint8_t cookie[COOKIE_MAX_LEN]; /* the COOKIE option in it */
	size_t cookielen;		/* 0: none */
};

/* DNS Cookies (RFC 7873) per address of the receiver: our client cookie
 * and the server cookie its answers gave (len 8: none learned yet). */
struct agent_cookies {
	uint8_t c[AGENT_MAX_ADDRS][COOKIE_MAX_LEN];
	uint8_t len[AGENT_MAX_ADDRS];
};

/* Where requests go and how answers are checked. */
struct agent_target {
	struct sockaddr_storage addr[AGENT_MAX_ADDRS]; /* with the port */
	socklen_t addrlen[AGENT_MAX_ADDRS];
	size_t naddr;
	bool tcp_update;     /* UPDATEs over TCP (default: the draft's SHOULD) */
	bool tcp_query;	     /* inquiries over TCP from the start (else UDP, TCP on TC) */
	unsigned try_ms;     /* wait for one answer (AGENT_TRY_MS) */
	unsigned retries;    /* tries after the first, 0..AGENT_MAX_RETRIES */
	unsigned backoff_ms; /* wait before the first retry, doubled for each next one */
	/* the receiver's public keys (not owned); none: answers cannot be authenticated */
	const struct sig0_key *rkey[AGENT_MAX_KEYS];
	size_t nrkey;
	bool quiet; /* no per-try notes on stderr */
	/* (not owned) learned from answers, sent in every request; copies of
	 * the target share it; NULL: no COOKIE option */
	struct agent_cookies *cookies;
};

/* How an answer's SIG(0) checked out. */
enum agent_auth {
	AGENT_AUTH_RFC2931,  /* verified over our request and the answer (RFC 2931) */
	AGENT_AUTH_RESPONSE, /* verified over the answer alone (D5 compat mode) */
	AGENT_AUTH_UNSIGNED, /* the answer carries no SIG(0) */
	AGENT_AUTH_NOKEY,    /* signed, but we have no key of the receiver */
	AGENT_AUTH_BAD,	     /* signed, does not verify (why says how) */
};

static inline bool agent_auth_ok(enum agent_auth a)
{
	return a == AGENT_AUTH_RFC2931 || a == AGENT_AUTH_RESPONSE;
}

/* "rfc2931", "response-only", "unsigned", "no-receiver-key", "bad-signature". */
const char *agent_auth_str(enum agent_auth a);

struct agent_answer {
	bool answered;	/* false: no (usable) answer from any try; why says the last */
	unsigned rcode; /* full RCODE (header + OPT extended bits) */
	bool has_ede;
	uint16_t ede;
	char ede_text[512]; /* control characters replaced by '?' */
	bool has_ks;	    /* the answer carried the KeyState option */
	struct ks_opt ks;
	enum agent_auth auth;
	char auth_why[1300]; /* signer (up to 1021 characters), tag, and what failed */
	char server[56];     /* the address that answered (or was tried last) */
	bool tcp;	     /* the answer came over TCP */
	bool cookie;	     /* the request carried the server cookie of an earlier answer */
	unsigned tries;	     /* tries made */
	char why[256];	     /* no answer: the last transport error */
};

/*
 * Build, sign and send req to t and read the answer into *ans: UPDATEs
 * over TCP unless t->tcp_update is false, inquiries over UDP with EDNS
 * (buffer 1232) and TCP when the answer is truncated or t->tcp_query.
 * Every answer is checked (ID, QR, opcode, question: common/dnsq.h), parsed
 * (common/msg.h) and its SIG(0) verified with t's receiver keys (signer
 * name, key tag and algorithm must match a key; validity window with 5
 * minutes of skew; over request + answer, else over the answer alone).
 *
 * Tries (draft -02 retry guidance): a try waits t->try_ms; a try that gets
 * no answer, a malformed one or SERVFAIL is repeated, at most t->retries
 * times, after t->backoff_ms, doubled before each next retry; the address
 * moves round-robin over t->addr.  Any other RCODE ends the tries.  The
 * same signed bytes are sent again (a receiver that did act answers from
 * its replay cache) unless the SIG(0) would expire within a minute of the
 * try's end, then a fresh one is made.  Each failed try is noted on stderr
 * unless t->quiet.
 *
 * Returns DS_OK when an answer was read (ans->answered; its RCODE may be
 * anything, SERVFAIL after the last retry included), DS_EAGAIN when no try
 * got an answer (ans->why), DS_EINVAL (no address, a message that does not
 * fit: why), DS_ECRYPTO or DS_ENOMEM.
 */
int agent_send(const struct agent_target *t, struct agent_request *req, struct agent_answer *ans);

/* "trusted", "unknown", "bootstrap-manual", ...; "code-<n>" for others. */
const char *agent_ks_str(uint8_t code, char *buf, size_t buflen);

/*
 * Read a receiver's public key: a BIND K*.key file (with or without the
 * .key suffix) or one KEY RR in presentation format.  Any algorithm this
 * code can verify.  Returns DS_OK or DS_EPARSE/DS_EKEY/DS_ENOTSUP (why).
 */
int agent_pubkey_from_text(const char *text, struct sig0_key **out, char *why, size_t whylen);

#endif

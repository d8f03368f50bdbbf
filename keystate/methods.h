/*
 * keystate/methods.h -- the automatic bootstrap methods that prove a child's
 * new SIG(0) key (doc/protocol.md, Key bootstrap and D6, D7; doc/bootstrap.md):
 * at-apex, at-ns and one round of unsigned.  Each call looks the key up in
 * the DNS and says what it found; the scheduler (keys/bootstrap.c)
 * decides what to do with that: retries, backoff, rounds over time, state
 * changes and audit rows.
 *
 * These calls block (bounded by the configured timeouts) and must never run
 * on the request path.  A struct bm_resolver is one libunbound context with
 * DNSSEC validation; use it from one thread at a time.
 *
 * Every result comes with a one-line reason (for the audit row, the log and
 * the KeyState EXTRA-TEXT) that names the name looked up, the server asked
 * and what was wrong, e.g.
 *   "at-apex: KEY RRset of child.parent. is bogus (signature expired)".
 */
#ifndef DS_KEYSTATE_METHODS_H
#define DS_KEYSTATE_METHODS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/deleg.h"
#include "common/dns.h"

enum bm_result {
	BM_OK,	 /* the method proves the key */
	BM_NA,	 /* the method does not apply to this child (e.g. at-apex: the
		  * child zone is provably unsigned; at-ns: no nameserver
		  * outside the child's bailiwick) */
	BM_FAIL, /* evidence against the key: bogus data, the KEY is missing
		  * or different, a nameserver's _signal zone is not secure,
		  * nameservers disagree */
	BM_TEMP, /* nothing learnt: timeout, SERVFAIL, unreachable server;
		  * try again later */
};

const char *bm_result_str(enum bm_result r); /* "ok", "not-applicable", "fail", "temporary" */

/* How libunbound finds and validates answers.  NULL/empty fields are unset. */
struct bm_resolver_cfg {
	const char *trust_anchor_file; /* DNSKEY/DS lines (ub_ctx_add_ta_autr or _file) */
	const char *root_hints;	       /* root hints file */
	const char *config_file;       /* an unbound.conf read with ub_ctx_config() */
	char *const *forward;	       /* upstream resolvers ("addr" or "addr@port") */
	size_t nforward;
	unsigned timeout_ms; /* one lookup (with its validation chain); 0: 10000 */
};

struct bm_resolver;

/*
 * A new validating context.  At least one trust anchor must come from
 * trust_anchor_file or config_file, else DS_ECONFIG with why set: a
 * validator without an anchor would call everything insecure.  Returns
 * DS_OK, DS_ECONFIG (bad file, bad option: why says which) or DS_ENOMEM.
 */
int bm_resolver_new(const struct bm_resolver_cfg *cfg, struct bm_resolver **out, char *why,
		    size_t whylen);
void bm_resolver_free(struct bm_resolver *r);

/*
 * Drop everything the context has cached (a new libunbound context with
 * the same settings), so that a retry sees what the servers publish now
 * and not a cached negative answer.  DS_OK, or DS_ENOMEM / DS_ECONFIG (the
 * files no longer load; why says which) with r unchanged.
 */
int bm_resolver_flush(struct bm_resolver *r, char *why, size_t whylen);

/*
 * A general validated lookup (used by dsync-agent; the methods above use
 * the same machinery).  bm_lookups() sends every query of q together and
 * waits at most the resolver's timeout for all of them; bm_lookup() is the
 * one-query form.
 */
struct bm_query {
	const uint8_t *name; /* uncompressed wire form */
	uint16_t type;
};

/* One RR of an answer: RDATA with names uncompressed, as libunbound gives it. */
struct bm_rr {
	uint32_t ttl; /* the RRset's TTL */
	uint16_t rdlen;
	const uint8_t *rdata; /* points into the answer's own allocation */
};

struct bm_answer {
	int err;     /* DS_OK: the resolver answered (the fields below hold);
		      * DS_EAGAIN: no answer within the timeout, or a resolver
		      * error (why says which); DS_EINVAL: the name cannot be
		      * written as text */
	int rcode;   /* RCODE of the answer (SERVFAIL when validation failed) */
	bool secure; /* the answer (positive or negative) validated as secure */
	bool bogus;  /* validation failed: never use the data; why holds unbound's reason */
	bool havedata;
	bool nxdomain;
	bool has_soa;		/* a negative answer came with an SOA in its authority section */
	uint8_t soa[DNAME_MAX]; /* that SOA's owner name: the zone that answered */
	char why[256];		/* one line, printable ASCII; "" when there is nothing to say */
	size_t n;
	struct bm_rr *rr; /* n records (data follow in the same allocation), or NULL */
};

/*
 * Look up each q[i] (class IN) with DNSSEC validation and fill out[i]
 * (which need not be initialized; free each with bm_answer_free()).  The
 * data of a bogus answer is not copied (n is 0).  Returns DS_OK (each
 * out[i].err says how its lookup went) or DS_ENOMEM (nothing to free).
 */
int bm_lookups(struct bm_resolver *r, const struct bm_query *q, size_t n, struct bm_answer *out);

/* One lookup: bm_lookups() for one query; returns out->err, or DS_ENOMEM. */
int bm_lookup(struct bm_resolver *r, const uint8_t *name, uint16_t type, struct bm_answer *out);

/* Free what an answer holds and zero it; NULL is a no-op. */
void bm_answer_free(struct bm_answer *a);

/*
 * at-apex: look up <child> KEY with validation.
 *   secure and the RRset holds rdata        -> BM_OK
 *   insecure (provably unsigned child)      -> BM_NA
 *   bogus                                   -> BM_FAIL (with unbound's why_bogus)
 *   secure NXDOMAIN/NODATA, or rdata absent -> BM_FAIL
 *   SERVFAIL without bogus, timeout         -> BM_TEMP
 * rdata is the KEY RDATA as uploaded; compared octet for octet.
 */
enum bm_result bm_at_apex(struct bm_resolver *r, const uint8_t *child, const uint8_t *rdata,
			  size_t rdlen, char *why, size_t whylen);

/*
 * at-ns (D6, D7): d is the parent-side delegation of child (its NS records
 * are used; glue is not needed).  For each NS target outside the child's
 * bailiwick (not child itself nor below it), look up
 * _sig0key.<child>._signal.<ns> KEY with validation; it counts when it is
 * secure and holds rdata.  A name over 255 octets counts as a failure for
 * that NS.  require_all: every such NS must count (RFC 9615 strength);
 * otherwise one is enough (and a failing one is still named in why).
 *   no NS outside the bailiwick                    -> BM_NA
 *   enough NS count                                -> BM_OK
 *   any insecure/bogus/missing/different (when it
 *     decides the outcome)                         -> BM_FAIL
 *   otherwise a lookup timed out or SERVFAILed     -> BM_TEMP
 */
enum bm_result bm_at_ns(struct bm_resolver *r, const uint8_t *child, const struct deleg *d,
			const uint8_t *rdata, size_t rdlen, bool require_all, char *why,
			size_t whylen);

/*
 * A vantage point of the unsigned method: where its queries go out from
 * and whom they ask.  Two kinds:
 *
 *   BM_VANTAGE_SOURCE   ask each nameserver of the delegation directly
 *                       (RD=0), from the local source address src (port 0).
 *   BM_VANTAGE_RESOLVER ask once, through the recursive resolver at resolver
 *                       (address and port; port 0 means 53): one query
 *                       <child> KEY with RD=1 over TCP.  src, when set, is
 *                       the local source address towards the resolver.
 *
 * A zeroed struct is a BM_VANTAGE_SOURCE with the kernel's source address,
 * so code that fills only src and srclen keeps its meaning.  Fill a
 * resolver vantage point like this:
 *   struct bm_vantage v = {.kind = BM_VANTAGE_RESOLVER};
 *   dnsq_addr_from_str("127.0.0.88#53", 53, &v.resolver, &v.resolverlen);
 */
enum bm_vantage_kind {
	BM_VANTAGE_SOURCE = 0,
	BM_VANTAGE_RESOLVER = 1,
};

struct bm_vantage {
	enum bm_vantage_kind kind;
	struct sockaddr_storage src; /* ss_family AF_UNSPEC: the kernel's choice */
	socklen_t srclen;
	struct sockaddr_storage resolver; /* BM_VANTAGE_RESOLVER only: IPv4 or IPv6 */
	socklen_t resolverlen;
};

/*
 * One round of the unsigned method (RFC 8078-style "accept after checks").
 *
 * Source vantage points: the NS targets of d are resolved to addresses
 * (glue from d for names at or below child, else A and AAAA through r,
 * DNSSEC status not required); then, from every source vantage point,
 * <child> KEY is asked over TCP (RD=0, port port) of every address of the
 * same family.  Each answer must be authoritative (AA) NOERROR with the
 * KEY RRset (owner child, class IN) in the answer section.
 *
 * Resolver vantage points: each resolver is asked <child> KEY (RD=1) over
 * TCP once.  Its answer must be NOERROR from a server that offers
 * recursion (RA set); AA is not expected.  The resolver does not tell
 * which nameserver it asked, so its answer is one more view of the same
 * RRset, compared with all the others.
 *
 * All answers, direct and through resolvers, must hold the same set of
 * KEY RDATA, which must contain rdata.
 *   all agree and hold rdata                                -> BM_OK
 *   an answer differs, lacks the key, is NXDOMAIN/NODATA,
 *     or (direct only) is not authoritative                 -> BM_FAIL
 *   no address at all for an NS, a nameserver or resolver
 *     does not answer in timeout_ms, answers SERVFAIL,
 *     REFUSED or any other RCODE, a truncated answer over
 *     TCP, a resolver with RA clear                         -> BM_TEMP
 *
 * nvantage 0 means one source vantage point with the kernel's source
 * address.  When v holds only resolver vantage points, the nameservers
 * themselves are NOT asked and their addresses are not looked up (r is
 * not used, glue is not needed): the round then checks only that the
 * resolvers agree with each other and hold the key, which is as strong as
 * the resolvers' own view of the delegation.
 *
 * port is the nameservers' port (53; tests may use others); a resolver's
 * port is in its vantage point.  r may be NULL when every NS is at or below
 * child (glue only) or no source vantage point is given; a name that would
 * need the resolver is then BM_TEMP.  A fail decides the round even when
 * another server was unreachable, and ends it.  The queries go one after
 * another, the nameservers first, then the resolvers: a round takes at most
 * one resolver timeout (the A/AAAA lookups, sent together) plus
 * (addresses x source vantage points + resolver vantage points) x
 * timeout_ms.  A hostile child must not stall the scheduler with many
 * addresses: at most 4 addresses of each NS name (glue in the order of d,
 * a resolver's answer in its order) and 16 in all are asked, the others are
 * ignored and the reason ends in "(N more addresses not asked)"; and a
 * round stops asking before queries x timeout_ms would exceed 60 s, with
 * BM_TEMP ("round stopped after N queries: one more at T ms each would
 * exceed the round's budget of 60 s").  Reasons name the server ("at ns1.child. 192.0.2.1#53",
 * with " from SRC" for an explicit source) or the resolver ("via resolver
 * 127.0.0.88#53").
 */
enum bm_result bm_unsigned_round(struct bm_resolver *r, const uint8_t *child, const struct deleg *d,
				 const uint8_t *rdata, size_t rdlen, const struct bm_vantage *v,
				 size_t nvantage, uint16_t port, unsigned timeout_ms, char *why,
				 size_t whylen);

#endif

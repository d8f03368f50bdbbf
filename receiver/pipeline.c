/*
 * receiver/pipeline.c -- what happens to one message.  It is parsed and
 * classified (enum msg_kind) on the I/O thread, then each kind takes its
 * own road:
 *
 *   I/O thread    parse -> DNS Cookie -> classify ->
 *                   inquiry: limit per source (R17) -> zone above the name
 *                     -> option -> SIG(0) checks, key lookup
 *                   UPDATE:  zone section -> size -> signature shape ->
 *                     UPDATEs per source prefix (R9) -> per SIG(0):
 *                     algorithm, signer scope, time window, key lookup
 *                     (R5: every cheap check before any crypto) -> upload
 *                     or rollover known -> UPDATEs per signer (R9)
 *                 -> verification budget (R8; while it is short, UDP
 *                    without a valid server cookie gets TC, and each
 *                    network only its share)
 *   worker        verify at most JOB_MAX_CAND signatures (R3); an inquiry
 *                 is answered here
 *   commit thread replay cache (R10) -> by kind: upload (decide_upload),
 *                 rollover (policy_check, decide_rollover), delegation
 *                 change (policy_update, store, outbox) -> audit -> one
 *                 commit for the batch -> responses
 *
 * A step either passes the job on or decides it (job_decide, with a row of
 * results[]), after which it only gets an audit row (UPDATEs), a log line
 * and an answer.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/dname.h"
#include "common/err.h"
#include "common/log.h"
#include "common/rrtext.h"
#include "keystate/keystate.h"
#include "policy/policy.h"
#include "receiver/internal.h"

struct job *job_new(size_t reqlen)
{
	struct job *j = calloc(1, sizeof(*j));
	if (j == NULL)
		return NULL;
	j->req = malloc(reqlen ? reqlen : 1);
	j->m = calloc(1, sizeof(*j->m));
	if (j->req == NULL || j->m == NULL) {
		job_free(j);
		return NULL;
	}
	j->reqlen = reqlen;
	/* until a step decides otherwise, the answer is a failure, never NOERROR */
	j->stage = JOB_NEW;
	j->rcode = RC_SERVFAIL;
	j->result = RES_SERVFAIL;
	j->key_tag = -1;
	j->fd = -1;
	return j;
}

void job_free(struct job *j)
{
	if (j == NULL)
		return;
	if (j->m)
		msg_clear(j->m);
	free(j->m);
	free(j->req);
	free(j->changes);
	sig0_key_free(j->boot_pk);
	free(j->newkey);
	free(j);
}

/* EDE codes taken from the configuration (ede.*) when a job is decided */
enum { EDE_NONE = -1, EDE_CFG_UNKNOWN = -2, EDE_CFG_UNTRUSTED = -3, EDE_CFG_FAILED = -4 };

// clang-format off
static const struct result_info {
	const char *name;
	int rcode;
	int ede;
	bool sig; /* a signature problem: NOTAUTH without OPT (D3) */
	enum result_label label;
} results[RES_N] = {
	[RES_ACCEPTED]      = {"accepted",      RC_NOERROR,  EDE_NONE,                false, LBL_ACCEPTED},
	[RES_KEYSTATE]      = {"keystate",      RC_NOERROR,  EDE_NONE,                false, LBL_KEYSTATE},
	[RES_FORMERR]       = {"formerr",       RC_FORMERR,  EDE_OTHER,               false, LBL_FORMERR},
	[RES_NOTIMP]        = {"notimp",        RC_NOTIMP,   EDE_NOT_SUPPORTED,       false, LBL_NOTIMP},
	[RES_SERVFAIL]      = {"servfail",      RC_SERVFAIL, EDE_OTHER,               false, LBL_SERVFAIL},
	[RES_BADVERS]       = {"badvers",       RC_BADVERS,  EDE_NONE,                false, LBL_BADVERS},
	[RES_NOTAUTH]       = {"notauth",       RC_NOTAUTH,  EDE_NOT_AUTHORITATIVE,   false, LBL_NOTAUTH},
	[RES_NOT_SERVED]    = {"not-served",    RC_REFUSED,  EDE_NOT_AUTHORITATIVE,   false, LBL_REFUSED},
	[RES_LIMITED]       = {"limited",       RC_REFUSED,  EDE_BLOCKED,             false, LBL_REFUSED},
	[RES_PROHIBITED]    = {"prohibited",    RC_REFUSED,  EDE_PROHIBITED,          false, LBL_REFUSED},
	[RES_KEY_ALG]       = {"key-algorithm", RC_REFUSED,  EDE_UNSUPPORTED_KEY_ALG, false, LBL_REFUSED},
	[RES_NOT_READY]     = {"not-ready",     RC_REFUSED,  EDE_NOT_READY,           false, LBL_REFUSED},
	[RES_KEY_UNKNOWN]   = {"key-unknown",   RC_REFUSED,  EDE_CFG_UNKNOWN,         false, LBL_REFUSED},
	[RES_KEY_UNTRUSTED] = {"key-untrusted", RC_REFUSED,  EDE_CFG_UNTRUSTED,       false, LBL_REFUSED},
	[RES_KEY_FAILED]    = {"key-failed",    RC_REFUSED,  EDE_CFG_FAILED,          false, LBL_REFUSED},
	[RES_POLICY]        = {"policy",        RC_REFUSED,  EDE_PROHIBITED,          false, LBL_REFUSED},
	[RES_PREREQ]        = {"prerequisite",  RC_NXRRSET,  EDE_NONE,                false, LBL_REJECTED},
	[RES_BADKEY]        = {"badkey",        RC_BADKEY,   EDE_CFG_UNKNOWN,         true,  LBL_BADKEY},
	[RES_SIG_FUTURE]    = {"sig-future",    RC_REFUSED,  EDE_SIG_NOT_YET_VALID,   true,  LBL_BADTIME},
	[RES_SIG_EXPIRED]   = {"sig-expired",   RC_REFUSED,  EDE_SIG_EXPIRED,         true,  LBL_BADTIME},
	[RES_SIG_WINDOW]    = {"sig-window",    RC_REFUSED,  EDE_OTHER,               true,  LBL_BADTIME},
	[RES_BADSIG]        = {"badsig",        RC_REFUSED,  EDE_DNSSEC_BOGUS,        true,  LBL_BADSIG},
	[RES_REPLAY]        = {"replay",        RC_REFUSED,  EDE_OTHER,               false, LBL_REPLAY},
	[RES_TRUNCATED]     = {"truncated",     RC_REFUSED,  EDE_NOT_READY,           false, LBL_REFUSED},
};
// clang-format on

static const char *const labels[LBL_N + 1] = {
    "accepted", "refused", "rejected", "formerr", "notimp",   "servfail", "badkey",
    "badsig",	"badtime", "badvers",  "notauth", "keystate", "replay",	  "other",
};

enum result_label result_label(enum result r)
{
	return (unsigned)r < RES_N ? results[r].label : LBL_N;
}

const char *result_label_str(enum result_label l)
{
	return labels[(unsigned)l < LBL_N ? l : LBL_N];
}

const char *result_name(enum result r)
{
	return result_label_str(result_label(r));
}

const char *result_detail(enum result r)
{
	return (unsigned)r < RES_N ? results[r].name : "other";
}

static void job_vdecide(struct job *j, enum result result, int rcode, int ede, const char *fmt,
			va_list ap)
{
	j->stage = JOB_DECIDED;
	j->rcode = rcode;
	j->has_ede = ede >= 0;
	j->ede = ede >= 0 ? (uint16_t)ede : 0;
	j->result = result;
	vsnprintf(j->text, sizeof(j->text), fmt, ap);
}

void job_decide(struct job *j, enum result result, const char *fmt, ...)
{
	const struct result_info *ri = &results[(unsigned)result < RES_N ? result : RES_SERVFAIL];
	const struct cfg_ede *e = j->cfg ? &j->cfg->ede : NULL;
	int ede = ri->ede;
	if (ede == EDE_CFG_UNKNOWN)
		ede = e ? e->key_unknown : EDE_OTHER;
	else if (ede == EDE_CFG_UNTRUSTED)
		ede = e ? e->key_not_trusted : EDE_OTHER;
	else if (ede == EDE_CFG_FAILED)
		ede = e ? e->key_validation_failed : EDE_OTHER;
	va_list ap;
	va_start(ap, fmt);
	job_vdecide(j, result, ri->sig && !j->m->has_opt ? RC_NOTAUTH : ri->rcode, ede, fmt, ap);
	va_end(ap);
}

void job_decide_as(struct job *j, enum result result, int rcode, int ede, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	job_vdecide(j, result, rcode, ede, fmt, ap);
	va_end(ap);
}

static int64_t now_sec(void)
{
	return (int64_t)time(NULL);
}

/* Serial-number arithmetic on 32-bit times (RFC 4034 3.1.5). */
static int32_t tdiff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

static void check_time(const struct receiver *r, struct job *j, const struct sig0_rr *s, bool *ok)
{
	const struct cfg *c = r->cfg;
	uint32_t now = (uint32_t)now_sec();
	int32_t span = tdiff(s->expiration, s->inception);
	*ok = false;
	if (span <= 0 || (uint32_t)span > c->sig_max_validity) {
		job_decide(j, RES_SIG_WINDOW,
			   "SIG(0) validity of %d s is outside 1..%u s (sig0.max-validity)", span,
			   c->sig_max_validity);
	} else if (tdiff(s->inception, now) > (int32_t)c->sig_clock_skew) {
		job_decide(j, RES_SIG_FUTURE,
			   "SIG(0) inception is %d s in the future (clock skew allowed: %u s)",
			   tdiff(s->inception, now), c->sig_clock_skew);
	} else if (tdiff(now, s->expiration) > (int32_t)c->sig_clock_skew) {
		job_decide(j, RES_SIG_EXPIRED, "SIG(0) expired %d s ago",
			   tdiff(now, s->expiration));
	} else if (tdiff(now, s->inception) > (int32_t)(c->sig_max_age + c->sig_clock_skew)) {
		job_decide(j, RES_SIG_EXPIRED,
			   "SIG(0) inception is %d s old; at most %u s (+%u s skew) accepted",
			   tdiff(now, s->inception), c->sig_max_age, c->sig_clock_skew);
	} else if (tdiff(s->expiration, now) > (int32_t)(c->sig_max_age + c->sig_clock_skew)) {
		job_decide(j, RES_SIG_WINDOW,
			   "SIG(0) expiration is %d s ahead; at most %u s (+%u s skew) accepted",
			   tdiff(s->expiration, now), c->sig_max_age, c->sig_clock_skew);
	} else {
		*ok = true;
	}
}

/*
 * A self-signed key upload (doc/protocol.md, Message flows, flow 1): no
 * prerequisites; the update section holds, at the signer's own name, one KEY
 * add whose algorithm and tag are the SIG(0)'s, optionally after a
 * "child ANY KEY" delete (accepted, never acted upon: the old key stays until
 * the new one is trusted).  Returns the KEY add, or NULL.
 */
static const struct msg_rr *bootstrap_key(const struct msg *m, const struct sig0_rr *s)
{
	size_t n;
	const struct msg_rr *rr = msg_section(m, SEC_UPDATE, &n), *add = NULL;
	if (m->count[SEC_PREREQ] != 0 || n == 0 || n > 2)
		return NULL;
	for (size_t i = 0; i < n; i++, rr++) {
		if (rr->type != T_KEY || !dname_equal(msg_owner(m, rr), s->signer))
			return NULL;
		if (rr->rclass == CLASS_ANY && rr->rdlen == 0 && rr->ttl == 0)
			continue;
		if (rr->rclass != CLASS_IN || add != NULL)
			return NULL;
		add = rr;
	}
	if (add == NULL || add->rdlen < 5)
		return NULL;
	const uint8_t *rd = msg_rdata(m, add);
	if (rd[3] != s->alg || sig0_rdata_tag(rd, add->rdlen) != s->key_tag)
		return NULL;
	return add;
}

/* True when the update section holds KEY records only, all at name (NULL:
 * at the first record's name). */
static bool keys_only(const struct msg *m, const uint8_t *name)
{
	size_t n;
	const struct msg_rr *up = msg_section(m, SEC_UPDATE, &n);
	for (size_t i = 0; i < n; i++)
		if (up[i].type != T_KEY ||
		    !dname_equal(msg_owner(m, &up[i]), name ? name : msg_owner(m, up)))
			return false;
	return n > 0;
}

/* The KeyState option of a query: p its data (NULL: none), len its length
 * (SIZE_MAX: the EDNS options do not parse). */
struct ks_found {
	const uint8_t *p;
	size_t len;
};

/*
 * The kind of a parsed message (enum msg_kind), from its opcode and
 * sections alone; for a query, what it holds of the KeyState option (*ks).
 */
static enum msg_kind classify(const struct receiver *r, const struct msg *m, struct ks_found *ks)
{
	ks->p = NULL;
	ks->len = 0;
	if (m->opcode == OP_UPDATE)
		return keys_only(m, NULL) ? MSG_KEYS : MSG_DELEG;
	if (m->opcode != OP_QUERY)
		return MSG_OTHER;
	if (!m->has_opt || m->count[SEC_ZONE] != 1 || m->nrr < 1)
		return MSG_QUERY;
	const struct msg_rr *opt = &m->rr[m->opt_idx];
	ks->p = edns_opt_find(m->wire + opt->rdoff, opt->rdlen, r->cfg->ks_option, &ks->len);
	return ks->p != NULL ? MSG_INQUIRY : MSG_QUERY;
}

/* An upload by a key we do not trust yet: limits first, then the key itself (R9). */
static void start_bootstrap(struct receiver *r, struct job *j, const struct msg_rr *kr)
{
	const struct cfg *c = r->cfg;
	char signer[DNAME_STR_MAX], zone[DNAME_STR_MAX], why[256];
	int64_t now = now_sec();
	dname_str(j->signer, signer, sizeof(signer));
	dname_str(j->zone->name, zone, sizeof(zone));
	if (j->zone->boot_methods == 0) {
		job_decide(j, RES_PROHIBITED,
			   "zone %s offers no key bootstrap; keys are set by the operator", zone);
		return;
	}
	/* the per-child limit is counted in decide_upload, for verified
	 * uploads only: forged ones must not use up the child's slots */
	if (!ratelimit_allow(r->boot_source, ratelimit_prefix_key(&j->peer), now,
			     c->boot_per_source)) {
		job_decide(j, RES_LIMITED,
			   "too many key uploads from this network: at most %u a minute",
			   c->boot_per_source);
		return;
	}
	int rc = sig0_key_new(j->signer, msg_rdata(j->m, kr), kr->rdlen, &c->limits, &j->boot_pk,
			      why, sizeof(why));
	if (rc != DS_OK) {
		job_decide(j, rc == DS_ENOTSUP ? RES_KEY_ALG : RES_PROHIBITED,
			   "KEY of %s is not acceptable: %s", signer, why);
		return;
	}
	j->kind = MSG_UPLOAD;
	j->boot_rr = kr;
}

/*
 * The checks of one SIG(0) that need no crypto: its record, algorithm,
 * signer scope and time window (R5).  False with the job decided.
 */
static bool precheck_sig(struct receiver *r, struct job *j, size_t i)
{
	const struct cfg *c = r->cfg;
	struct sig0_rr *s = &j->sig[i];
	char signer[DNAME_STR_MAX], zone[DNAME_STR_MAX];
	bool ok = false;
	if (sig0_rr_parse(j->m, j->m->sig_idx[i], s) != DS_OK) {
		job_decide(j, RES_FORMERR, "SIG(0) record is malformed");
		return false;
	}
	if (i == 0) {
		j->key_tag = s->key_tag;
		memcpy(j->signer, s->signer, dname_len(s->signer));
		j->have_signer = true;
	}
	dname_str(s->signer, signer, sizeof(signer));
	dname_str(j->zone->name, zone, sizeof(zone));
	if (!sig0_alg_allowed(&c->limits, s->alg))
		job_decide(j, RES_KEY_ALG, "SIG(0) algorithm %u (%s) is not accepted", s->alg,
			   sig0_alg_name(s->alg));
	else if (!dname_is_strict_sub(s->signer, j->zone->name))
		job_decide(j, RES_PROHIBITED, "signer %s is not a child of zone %s", signer, zone);
	else
		check_time(r, j, s, &ok);
	return ok;
}

/* The keys of SIG(0) i: trusted ones become candidates to verify. */
static void find_keys(struct receiver *r, struct job *j, size_t i, bool *any_known,
		      const struct key_entry **untrusted)
{
	const struct sig0_rr *s = &j->sig[i];
	const struct key_entry *found[JOB_MAX_CAND];
	size_t n = keycache_find(r->keys, s->signer, s->alg, s->key_tag, found, JOB_MAX_CAND);
	for (size_t k = 0; k < n; k++) {
		*any_known = true;
		if (key_entry_state(found[k]) != KEY_TRUSTED) {
			*untrusted = found[k];
			continue;
		}
		if (j->ncand < JOB_MAX_CAND) {
			j->cand[j->ncand] = found[k];
			j->cand_sig[j->ncand] = i;
			j->ncand++;
		}
	}
}

/* No trusted key signed: why (the key is unknown, failed, not trusted yet). */
static void refuse_keys(struct job *j, const struct key_entry *untrusted)
{
	char signer[DNAME_STR_MAX];
	dname_str(j->signer, signer, sizeof(signer));
	if (untrusted == NULL)
		job_decide(j, RES_BADKEY,
			   "key %s alg %u tag %u is not known here; bootstrap a key first", signer,
			   j->sig[0].alg, j->sig[0].key_tag);
	else if (key_entry_state(untrusted) == KEY_VALIDATION_FAILED)
		job_decide(j, RES_KEY_FAILED, "key %s tag %u failed validation", signer,
			   untrusted->tag);
	else
		job_decide(j, RES_KEY_UNTRUSTED,
			   "key %s tag %u is known but not trusted (state %s)", signer,
			   untrusted->tag, store_key_state_str(key_entry_state(untrusted)));
}

/*
 * The signature checks that need no crypto, for each SIG(0) separately (a
 * rollover may carry two; one good one is enough).  On success j->cand[]
 * holds at most JOB_MAX_CAND (signature, trusted key) pairs to verify, and
 * an MSG_KEYS message knows whether it is an upload or a rollover;
 * otherwise the job is decided with the first SIG(0)'s problem.
 */
static void precheck_sigs(struct receiver *r, struct job *j)
{
	const struct key_entry *untrusted = NULL;
	bool any_known = false;
	struct job first; /* the first failure, kept while the other SIG(0) is tried */
	bool failed = false;

	for (size_t i = 0; i < j->m->nsig; i++) {
		if (precheck_sig(r, j, i)) {
			find_keys(r, j, i, &any_known, &untrusted);
			continue;
		}
		if (j->result == RES_FORMERR)
			return;
		if (!failed) {
			first = *j;
			failed = true;
		}
		j->stage = JOB_NEW;
	}
	const struct sig0_rr *s = &j->sig[j->ncand > 0 ? j->cand_sig[0] : 0];
	const struct msg_rr *kr = j->kind == MSG_KEYS ? bootstrap_key(j->m, s) : NULL;
	if (j->ncand > 0) {
		/* a trusted key uploading itself again is an upload (no change);
		 * KEY records at the signer's name, a rollover */
		if (kr != NULL)
			j->kind = MSG_UPLOAD;
		else if (j->kind == MSG_KEYS)
			j->kind = keys_only(j->m, s->signer) ? MSG_ROLLOVER : MSG_DELEG;
		j->boot_rr = kr;
	} else if (failed) {
		job_decide_as(j, first.result, first.rcode, first.has_ede ? first.ede : -1, "%s",
			      first.text);
	} else if (kr != NULL) {
		start_bootstrap(r, j, kr);
	} else {
		refuse_keys(j, any_known ? untrusted : NULL);
	}
}

/* The deepest served zone strictly above name, or NULL. */
static const struct cfg_zone *zone_above(const struct cfg *c, const uint8_t *name)
{
	const struct cfg_zone *best = NULL;
	for (size_t i = 0; i < c->nzones; i++)
		if (dname_is_strict_sub(name, c->zones[i].name) &&
		    (best == NULL || dname_labels(c->zones[i].name) > dname_labels(best->name)))
			best = &c->zones[i];
	return best;
}

/* Answer an inquiry with the state of key (qname, key id), from the key cache. */
static void ks_answer(struct receiver *r, struct job *j)
{
	const struct cfg *c = r->cfg;
	const uint8_t *child = msg_owner(j->m, &j->m->rr[0]);
	const struct key_entry *e = NULL;
	for (unsigned alg = 1; alg < 256 && e == NULL; alg++)
		if (sig0_alg_allowed(&c->limits, (uint8_t)alg))
			keycache_find(r->keys, child, (uint8_t)alg, j->ks_keyid, &e, 1);
	enum key_state st = e ? key_entry_state(e) : KEY_KNOWN;
	j->ks_state =
	    (uint8_t)ks_code_for(e != NULL, st, (j->zone->boot_methods & BOOT_MANUAL) != 0);
	j->ks_answer = true;
	/* EXTRA-TEXT: where a validation stands or why it failed (8, 9, 10) */
	if (e != NULL && (j->ks_state == KS_VALIDATION_FAILED || j->ks_state == KS_BOOTSTRAP_AUTO ||
			  j->ks_state == KS_BOOTSTRAP_MANUAL))
		keycache_note(r->keys, e, j->ks_text, sizeof(j->ks_text));
	char name[DNAME_STR_MAX];
	dname_str(child, name, sizeof(name));
	job_decide(j, RES_KEYSTATE, "KeyState of %s tag %u: %u (%s)", name, j->ks_keyid,
		   j->ks_state, e ? store_key_state_str(st) : "unknown");
}

/*
 * A signed inquiry: the child asks about itself, with an acceptable
 * signature; its keys in any state but revoked are candidates (R1 allows
 * this crypto).  An inquiry signed by a key we do not know about that same
 * key learns it is unknown.
 */
static void inquiry_sig(struct receiver *r, struct job *j, const uint8_t *qname)
{
	struct sig0_rr *s = &j->sig[0];
	char name[DNAME_STR_MAX], signer[DNAME_STR_MAX];
	bool ok = false;
	if (sig0_rr_parse(j->m, j->m->sig_idx[0], s) != DS_OK) {
		job_decide(j, RES_FORMERR, "SIG(0) record is malformed");
		return;
	}
	j->key_tag = s->key_tag;
	memcpy(j->signer, s->signer, dname_len(s->signer));
	j->have_signer = true;
	dname_str(qname, name, sizeof(name));
	dname_str(s->signer, signer, sizeof(signer));
	if (!dname_equal(s->signer, qname)) {
		job_decide(j, RES_PROHIBITED,
			   "inquiry signed by %s about %s: a child asks only about itself", signer,
			   name);
		return;
	}
	if (!sig0_alg_allowed(&r->cfg->limits, s->alg)) {
		job_decide(j, RES_KEY_ALG, "SIG(0) algorithm %u (%s) is not accepted", s->alg,
			   sig0_alg_name(s->alg));
		return;
	}
	check_time(r, j, s, &ok);
	if (!ok)
		return;
	j->ncand = keycache_find(r->keys, s->signer, s->alg, s->key_tag, j->cand, JOB_MAX_CAND);
	if (j->ncand > 0)
		j->stage = JOB_VERIFY; /* cand_sig[] are 0: the first SIG(0) */
	else if (s->key_tag == j->ks_keyid)
		ks_answer(r, j); /* its own key, unknown here: say so (code 5) */
	else
		job_decide(j, RES_KEY_UNKNOWN,
			   "inquiry signed by key %s tag %u, which is not known here", signer,
			   s->key_tag);
}

/*
 * A KeyState inquiry (doc/protocol.md, KeyState option): QUERY child KEY
 * (ANY for -02) with the option, state 2 and a key id.  Signed inquiries
 * go on to inquiry_sig(); unsigned ones are answered only with
 * keystate.unsigned-inquiries.
 */
static void receive_inquiry(struct receiver *r, struct job *j, const struct ks_found *ks)
{
	const struct cfg *c = r->cfg;
	struct msg *m = j->m;
	const uint8_t *p = ks->p;
	size_t len = ks->len;
	j->ks_code = c->ks_option;
	/* R17: bounded before any lookup or crypto */
	if (!ratelimit_allow(r->ks_source, ratelimit_prefix_key(&j->peer), now_sec(),
			     c->ks_per_source)) {
		job_decide(j, RES_LIMITED,
			   "too many KeyState inquiries from this network: at most %u a minute",
			   c->ks_per_source);
		return;
	}
	const uint8_t *qname = msg_owner(m, &m->rr[0]);
	char name[DNAME_STR_MAX];
	dname_str(qname, name, sizeof(name));
	j->zone = zone_above(c, qname);
	if (j->zone == NULL || (m->rr[0].type != T_KEY && m->rr[0].type != T_ANY)) {
		job_decide(j, RES_NOT_SERVED,
			   "KeyState inquiries ask for the KEY of a child of a zone served here");
		return;
	}
	struct ks_opt o;
	if (ks_opt_parse(p, len, &o) != DS_OK || o.state != KS_INQUIRE_KEY) {
		j->ks_keyid = len >= 2 ? rd_u16(p) : 0;
		j->ks_state = KS_MALFORMED;
		j->ks_answer = true;
		job_decide(j, RES_KEYSTATE, "KeyState inquiry about %s is malformed", name);
		return;
	}
	j->ks_keyid = o.key_id;
	if (m->nsig > 0)
		inquiry_sig(r, j, qname);
	else if (c->ks_unsigned)
		ks_answer(r, j);
	else
		job_decide(j, RES_PROHIBITED,
			   "KeyState inquiries must be SIG(0)-signed by the child's key");
}

/*
 * While less than sig0.verify-budget-low percent of the budget is left, it
 * goes to clients that proved their address first: a UDP request without
 * our valid server cookie is answered at once, TC=1 and no verification
 * (with our server cookie when it sent a client cookie), so that a real
 * client retries over TCP or with the cookie while a flood from forged or
 * many addresses costs no crypto; and one network (/24, /56) gets at most
 * sig0.verify-share-per-network percent of the budget a second.  true when
 * the job was decided here.
 */
static bool budget_short(struct receiver *r, struct job *j, uint64_t now_ns)
{
	const struct cfg *c = r->cfg;
	if (c->verify_budget == 0 ||
	    ratelimit_bucket_percent(&r->verify_budget, now_ns) >= c->verify_low)
		return false;
	if (c->cookies && r->cookie_mac != NULL && !j->tcp && j->cookie != COOKIE_VALID) {
		job_decide(j, RES_TRUNCATED,
			   "verification budget short: retry over TCP or with the server cookie");
		j->tc = true;
		j->audit = false;
		return true;
	}
	unsigned share = (unsigned)((uint64_t)c->verify_budget * c->verify_share / 100);
	if (c->verify_share >= 100 ||
	    ratelimit_allow_in(r->verify_share, ratelimit_prefix_key(&j->peer),
			       (int64_t)(now_ns / 1000000000u), share > 0 ? share : 1))
		return false;
	job_decide(j, RES_NOT_READY,
		   "this network's share of the verification budget is spent "
		   "(sig0.verify-share-per-network); retry later");
	j->audit = false;
	atomic_fetch_add_explicit(&r->ctr.verify_budget_exhausted, 1, memory_order_relaxed);
	return true;
}

/*
 * R8: every verification takes a token of sig0.verify-budget, before the
 * job is queued; without one it is refused at once.  No audit row either:
 * under a flood that row would move the cost from the verifiers to the
 * commit thread and crowd legitimate commits out of the commit queue (the
 * log line and the counters still record it).
 */
static void verify_budget(struct receiver *r, struct job *j)
{
	if (j->stage != JOB_VERIFY)
		return;
	unsigned need = (unsigned)j->ncand + (j->boot_pk != NULL);
	uint64_t now = clock_mono_ns();
	if (budget_short(r, j, now) || ratelimit_bucket_take(&r->verify_budget, need, now))
		return;
	job_decide(j, RES_NOT_READY, "verification budget exhausted; retry later");
	j->audit = false;
	atomic_fetch_add_explicit(&r->ctr.verify_budget_exhausted, 1, memory_order_relaxed);
}

/*
 * DNS Cookies (RFC 7873): the request's COOKIE option checked against the
 * client's address (j->cookie), and the option of the answer made: its
 * client cookie with our server cookie -- the one it sent back while that
 * is less than half an hour old, else a fresh one (RFC 9018).  A COOKIE
 * option of a length RFC 7873 does not allow is FORMERR (false).
 */
static bool receive_cookie(struct receiver *r, struct job *j)
{
	const struct msg *m = j->m;
	j->cookie = COOKIE_ABSENT;
	if (!r->cfg->cookies || r->cookie_mac == NULL || !m->has_opt)
		return true;
	const struct msg_rr *opt = &m->rr[m->opt_idx];
	size_t len;
	const uint8_t *p = cookie_find(m->wire + opt->rdoff, opt->rdlen, &len);
	if (p == NULL)
		return true;
	uint32_t now = (uint32_t)time(NULL);
	bool renew;
	enum cookie_state st = cookie_check(r->cookie_mac, p, len, &j->peer, now, &renew);
	j->cookie = (uint8_t)st;
	if (st == COOKIE_MALFORMED) {
		job_decide(j, RES_FORMERR,
			   "COOKIE option of %zu bytes: 8 (client cookie) or 16 to 40 are allowed",
			   len);
		j->audit = m->opcode == OP_UPDATE;
		return false;
	}
	memcpy(j->cookie_out, p, COOKIE_CLIENT_LEN);
	if (st == COOKIE_VALID && !renew)
		memcpy(j->cookie_out + COOKIE_CLIENT_LEN, p + COOKIE_CLIENT_LEN, COOKIE_SERVER_LEN);
	else if (cookie_make(r->cookie_mac, p, &j->peer, now, j->cookie_out + COOKIE_CLIENT_LEN) !=
		 DS_OK)
		return true;
	j->cookie_outlen = COOKIE_LEN;
	return true;
}

/* An UPDATE's zone section: one SOA entry of a zone served here (RFC 2136 3.1.1). */
static bool update_zone(struct receiver *r, struct job *j)
{
	struct msg *m = j->m;
	if (m->count[SEC_ZONE] != 1 || m->rr[0].type != T_SOA) {
		job_decide(j, RES_FORMERR, "zone section must hold exactly one SOA entry (has %u)",
			   m->count[SEC_ZONE]);
		return false;
	}
	const uint8_t *zname = msg_owner(m, &m->rr[0]);
	char zone[DNAME_STR_MAX];
	dname_str(zname, zone, sizeof(zone));
	j->zone = cfg_zone_find(r->cfg, zname);
	if (j->zone != NULL && m->rr[0].rclass == CLASS_IN)
		return true;
	j->zone = NULL;
	job_decide(j, RES_NOTAUTH, "zone %s%s is not served here", zone,
		   m->rr[0].rclass != CLASS_IN ? " (class not IN)" : "");
	return false;
}

/*
 * Every check of an UPDATE that needs no crypto, cheapest first (R5):
 * zone, size, signature shape, limits per source and per signer (R9), then
 * the SIG(0)s and the keys; the job is decided or ready to verify.
 */
static void receive_update(struct receiver *r, struct job *j)
{
	const struct cfg *c = r->cfg;
	atomic_fetch_add(&r->ctr.updates, 1);
	j->audit = true;
	if (!update_zone(r, j))
		return;
	if (j->reqlen > c->max_message_size) {
		job_decide(j, RES_LIMITED,
			   "message of %zu bytes exceeds server.max-message-size %u", j->reqlen,
			   c->max_message_size);
		return;
	}
	if (j->m->has_tsig) {
		job_decide(j, RES_PROHIBITED,
			   "TSIG-signed UPDATEs are not accepted; sign with SIG(0)");
		return;
	}
	if (j->m->nsig == 0) {
		job_decide(j, RES_PROHIBITED,
			   "UPDATE is not signed; a SIG(0) by the child's key is required");
		return;
	}
	/* R9: counted for every signed UPDATE of a zone served here */
	if (!ratelimit_allow(r->upd_source, ratelimit_prefix_key(&j->peer), now_sec(),
			     c->upd_per_source)) {
		job_decide(j, RES_LIMITED,
			   "too many UPDATEs from this network: at most %u a minute "
			   "(server.updates-per-source)",
			   c->upd_per_source);
		return;
	}
	precheck_sigs(r, j);
	if (j->stage != JOB_NEW)
		return;
	/* R9: counted only for UPDATEs that would be verified, so names that
	 * have no key here never take a slot of the table */
	const uint8_t *signer = j->ncand ? j->sig[j->cand_sig[0]].signer : j->signer;
	if (!ratelimit_allow(r->upd_signer, dname_hash(signer), now_sec(), c->upd_per_signer)) {
		char name[DNAME_STR_MAX];
		dname_str(signer, name, sizeof(name));
		job_decide(j, RES_LIMITED,
			   "too many UPDATEs signed by %s: at most %u a minute "
			   "(server.updates-per-signer)",
			   name, c->upd_per_signer);
		return;
	}
	j->stage = JOB_VERIFY;
}

/*
 * Parse, classify, then the kind's own road up to verification: every
 * check that needs no crypto, on the I/O thread.
 */
void pipeline_receive(struct receiver *r, struct job *j)
{
	struct msg *m = j->m;
	struct ks_found ks;
	atomic_fetch_add(&r->ctr.received, 1);
	j->cfg = r->cfg;

	int rc = msg_parse(m, j->req, j->reqlen);
	if (rc != DS_OK) {
		job_decide(j,
			   rc == DS_ELIMIT   ? RES_LIMITED
			   : rc == DS_ENOMEM ? RES_SERVFAIL
					     : RES_FORMERR,
			   "%s", rc == DS_ENOMEM ? "out of memory" : m->why);
		j->audit = m->opcode == OP_UPDATE;
		return;
	}
	if (m->has_opt && m->edns_version != 0) {
		job_decide(j, RES_BADVERS, "EDNS version %u not supported", m->edns_version);
		j->audit = m->opcode == OP_UPDATE;
		return;
	}
	if (!receive_cookie(r, j))
		return;
	j->kind = classify(r, m, &ks);
	switch (j->kind) {
	case MSG_OTHER:
		job_decide(j, RES_NOTIMP, "opcode %u not implemented", m->opcode);
		return;
	case MSG_QUERY:
		/* no crypto for other queries (R1) */
		if (ks.len == SIZE_MAX)
			job_decide(j, RES_FORMERR, "malformed EDNS options");
		else
			job_decide(j, RES_NOT_SERVED,
				   "this is a DNS UPDATE receiver; it answers no queries");
		return;
	case MSG_INQUIRY:
		receive_inquiry(r, j, &ks);
		break;
	default:
		receive_update(r, j);
		break;
	}
	verify_budget(r, j);
}

void pipeline_verify(struct receiver *r, struct job *j)
{
	if (j->boot_pk != NULL) {
		atomic_fetch_add(&r->ctr.verifications, 1);
		int rc = sig0_verify(j->m, 0, &j->sig[0], j->boot_pk);
		if (rc == DS_OK && sig0_signed_digest(j->m, 0, &j->sig[0], j->digest) == DS_OK) {
			atomic_fetch_add(&r->ctr.verify_ok, 1);
			j->verified = true;
			j->sig_expiration = j->sig[0].expiration;
			j->stage = JOB_COMMIT;
			return;
		}
		if (rc != DS_OK && rc != DS_EBADSIG) {
			job_decide(j, RES_SERVFAIL, "internal error");
			return;
		}
	}
	size_t usable = 0;
	for (size_t i = 0; i < j->ncand; i++) {
		size_t which = j->cand_sig[i];
		/* built at its first use; NULL: OpenSSL refused it (logged once) */
		const struct sig0_key *pk = keycache_key(j->cand[i]);
		if (pk == NULL)
			continue;
		usable++;
		atomic_fetch_add(&r->ctr.verifications, 1);
		int rc = sig0_verify(j->m, which, &j->sig[which], pk);
		if (rc == DS_OK) {
			atomic_fetch_add(&r->ctr.verify_ok, 1);
			if (sig0_signed_digest(j->m, which, &j->sig[which], j->digest) != DS_OK) {
				job_decide(j, RES_SERVFAIL, "internal error");
				return;
			}
			j->key = j->cand[i];
			j->verified = true;
			j->key_tag = j->key->tag;
			j->sig_expiration = j->sig[which].expiration;
			j->stage = JOB_COMMIT;
			if (j->kind == MSG_INQUIRY)
				ks_answer(r, j); /* nothing to commit: answered here */
			return;
		}
		if (rc != DS_EBADSIG) {
			log_err("SIG(0) verification error: %s", ds_strerror(rc));
			job_decide(j, RES_SERVFAIL, "internal error");
			return;
		}
	}
	char signer[DNAME_STR_MAX];
	dname_str(j->signer, signer, sizeof(signer));
	if (usable == 0 && j->ncand > 0) {
		job_decide(j, RES_BADKEY, "key %s alg %u tag %u is not usable (see the log)",
			   signer, j->sig[0].alg, j->sig[0].key_tag);
		return;
	}
	atomic_fetch_add(&r->ctr.verify_fail, 1);
	job_decide(j, RES_BADSIG, "SIG(0) by %s tag %u does not verify", signer, j->sig[0].key_tag);
}

/*
 * A short text of the update section for the audit log (cut with "...").
 * A message that did not parse is described by its size and header counts
 * only: none of its records is shown, since the one that failed may point
 * past the received bytes.
 */
static void request_summary(const struct msg *m, char *out, size_t len)
{
	size_t n, o;
	if (!m->parsed) {
		snprintf(out, len,
			 "malformed message of %zu bytes (header counts %u/%u/%u/%u, "
			 "%zu record(s) read whole)",
			 m->len, m->hdr_count[0], m->hdr_count[1], m->hdr_count[2], m->hdr_count[3],
			 m->nrr);
		return;
	}
	const struct msg_rr *rr = msg_section(m, SEC_UPDATE, &n);
	char rd[1024], tb[16], owner[DNAME_STR_MAX];
	int k = snprintf(out, len, "%u prerequisite(s), %zu update(s)", m->count[SEC_PREREQ], n);
	o = k < 0 ? 0 : (size_t)k;
	for (size_t i = 0; i < n && o < len; i++, rr++) {
		dname_str(msg_owner(m, rr), owner, sizeof(owner));
		const char *op = rr->rclass == CLASS_ANY
				     ? (rr->type == T_ANY ? "del-name" : "del-rrset")
				 : rr->rclass == CLASS_NONE ? "del"
							    : "add";
		rd[0] = '\0';
		if (rr->crdlen && rr_rdata_to_str(rr->type, msg_rdata(m, rr), rr->crdlen, rd,
						  sizeof(rd)) != DS_OK)
			snprintf(rd, sizeof(rd), "(%u bytes)", rr->crdlen);
		k = snprintf(out + o, len - o, "; %s %s %s%s", op, owner,
			     rr_type_str(rr->type, tb, sizeof(tb)), rd[0] ? " " : "");
		o += k < 0 ? 0 : (size_t)k;
		if (o < len) {
			k = snprintf(out + o, len - o, "%s", rd);
			o += k < 0 ? 0 : (size_t)k;
		}
	}
	if (o >= len && len > 4)
		strcpy(out + len - 4, "...");
}

/*
 * D8: when the upload carried a KeyState option, the answer says where the
 * key stands (only in a signed answer, like every KeyState answer).
 */
static void upload_keystate(struct receiver *r, struct job *j, enum key_state st, uint16_t tag)
{
	const struct msg_rr *opt = j->m->has_opt ? &j->m->rr[j->m->opt_idx] : NULL;
	size_t len;
	if (opt == NULL ||
	    edns_opt_find(j->m->wire + opt->rdoff, opt->rdlen, r->cfg->ks_option, &len) == NULL)
		return;
	j->ks_code = r->cfg->ks_option;
	j->ks_keyid = tag;
	j->ks_state = (uint8_t)ks_code_for(true, st, (j->zone->boot_methods & BOOT_MANUAL) != 0);
	j->ks_answer = true;
}

/* What the store holds for the child's keys, seen by decide_upload. */
struct upload_scan {
	const uint8_t *rdata;
	size_t rdlen;
	bool exists;
	struct store_key *row; /* the row of this key, when it exists */
	unsigned pending;      /* the child's other keys waiting for a decision */
	/* the validating ones among them (candidates to give way), at most
	 * SCAN_MAX_VALIDATING: more than that many never wait for one child */
	struct scan_key_age {
		int64_t id, created;
	} val[16];
	size_t nval;
};
#define SCAN_MAX_VALIDATING 16

static int scan_key(void *arg, const struct store_key *k)
{
	struct upload_scan *u = arg;
	if (k->rdlen == u->rdlen && memcmp(k->rdata, u->rdata, k->rdlen) == 0) {
		u->exists = true;
		*u->row = *k;
	} else if (k->state == KEY_KNOWN || k->state == KEY_VALIDATING) {
		u->pending++;
		if (k->state == KEY_VALIDATING && u->nval < SCAN_MAX_VALIDATING) {
			u->val[u->nval].id = k->id;
			u->val[u->nval++].created = k->created;
		}
	}
	return 0;
}

static int by_age(const void *a, const void *b)
{
	const struct scan_key_age *x = a, *y = b;
	if (x->created != y->created)
		return x->created < y->created ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/*
 * zones.[].bootstrap-max-pending: at most that many keys of a child wait
 * for a decision (known: waiting for the operator; validating).  When a new
 * key would exceed it, the oldest keys whose validation has already failed
 * an attempt (waiting for a retry) give way: they become validation-failed,
 * which the operator can still trust and which a re-upload validates anew.
 * A key in its first validation attempt or waiting for the operator never
 * gives way; when not enough keys can, DS_ELIMIT and nothing is written
 * (the new upload is refused).  Changed rows are appended to changed for
 * the key cache.
 */
static int make_room(struct receiver *r, struct job *j, struct upload_scan *u, const char *child,
		     struct keyrows *changed)
{
	if (u->pending < j->zone->boot_max_pending)
		return DS_OK;
	size_t need = u->pending - j->zone->boot_max_pending + 1, nvic = 0;
	int64_t victim[SCAN_MAX_VALIDATING];
	qsort(u->val, u->nval, sizeof(u->val[0]), by_age);
	for (size_t i = 0; i < u->nval && nvic < need; i++) {
		struct store_validation v;
		int rc = store_validation_get(r->store, u->val[i].id, &v);
		if (rc != DS_OK && rc != DS_ENOENT)
			return rc;
		if (rc == DS_OK && v.attempts >= 1)
			victim[nvic++] = u->val[i].id;
	}
	if (nvic < need)
		return DS_ELIMIT;
	char why[DNAME_STR_MAX + 300];
	snprintf(why, sizeof(why),
		 "displaced: at most %u keys of %s wait for a decision; this one, whose "
		 "validation had failed, gave way to a newer upload (trust it, or upload it "
		 "again to validate it anew)",
		 j->zone->boot_max_pending, child);
	for (size_t i = 0; i < nvic; i++) {
		struct store_key *old = malloc(sizeof(*old));
		int rc = old ? store_key_get(r->store, victim[i], old) : DS_ENOMEM;
		if (rc == DS_OK)
			rc = key_transition(r->store, old, KS_EV_VALIDATION_FAIL, NULL, "update",
					    why, changed);
		free(old);
		if (rc != DS_OK)
			return rc;
	}
	return DS_OK;
}

/*
 * decide_upload, the key is new or changes state: the row as uploaded (u->row
 * holds the stored one when it exists), room made under bootstrap-max-pending,
 * its validation queued when it is to be validated; the answer says where
 * the key stands.
 */
static void store_upload(struct receiver *r, struct job *j, struct upload_scan *u, int64_t cid,
			 enum key_state next, bool alg_refused, const char *child, const char *zone)
{
	const uint8_t *rd = msg_rdata(j->m, j->boot_rr);
	struct keyrows gone = {0}; /* keys that gave way, then the new one: for the cache */
	struct store_key *k = u->row;
	/* a key that starts waiting for a decision takes a slot: a new one, or
	 * one uploaded again after it was decided (validation-failed, revoked) */
	bool held = u->exists && (k->state == KEY_KNOWN || k->state == KEY_VALIDATING);
	bool takes_slot = !held && (next == KEY_KNOWN || next == KEY_VALIDATING);
	uint16_t tag = sig0_rdata_tag(rd, u->rdlen);
	k->child_id = cid;
	memcpy(k->zone, j->zone->name, dname_len(j->zone->name));
	memcpy(k->owner, j->signer, dname_len(j->signer));
	k->alg = rd[3];
	k->tag = tag;
	k->flags = rd_u16(rd);
	k->rdlen = (uint16_t)u->rdlen;
	memcpy(k->rdata, rd, u->rdlen);
	k->state = next;
	k->trust_method[0] = '\0';
	snprintf(k->source, sizeof(k->source), "upload from %s", j->client);
	k->created = k->updated = 0;
	int rc = takes_slot ? make_room(r, j, u, child, &gone) : DS_OK;
	if (rc == DS_ELIMIT) {
		job_decide(
		    j, RES_LIMITED,
		    "%u keys of %s wait for a decision (bootstrap-max-pending) and none can "
		    "give way (being validated or waiting for the operator); try again later",
		    u->pending, child);
		free(gone.k);
		return;
	}
	if (rc == DS_OK)
		rc = store_key_upsert(r->store, k);
	if (rc == DS_OK && next == KEY_VALIDATING)
		rc = store_validation_queue(r->store, k->id, now_sec());
	if (rc == DS_OK)
		rc = keyrows_add(&gone, k);
	if (rc != DS_OK) {
		job_decide(j, RES_SERVFAIL, STORE_DOWN);
		free(gone.k);
		return;
	}
	j->newkey = gone.k;
	j->nnewkey = gone.n;
	j->boot_queued = next == KEY_VALIDATING;
	upload_keystate(r, j, next, tag);
	if (alg_refused)
		job_decide(j, RES_KEY_ALG,
			   "key %s tag %u: algorithm %u is not accepted for child keys of zone %s "
			   "(key-algorithms); kept as refused",
			   child, tag, k->alg, zone);
	else if (j->boot_queued)
		job_decide(j, RES_ACCEPTED, "key %s tag %u uploaded, state %s; validation queued",
			   child, tag, store_key_state_str(next));
	else
		job_decide(j, RES_ACCEPTED,
			   "key %s tag %u uploaded, state %s; awaiting trust "
			   "(operator: dsyncd key trust %s/%u)",
			   child, tag, store_key_state_str(next), child, tag);
}

/*
 * A verified self-signed upload (D8): the key is stored as validating, its
 * validation queued in the same commit, when the zone offers an automatic
 * method, else as known for the operator (`dsyncd key trust`); the answer
 * is NOERROR once that is durable.  The child's other keys are left
 * alone (a trusted key stays trusted until the new one is trusted), except
 * that keys whose validation already failed an attempt may give way to it
 * (make_room).  The per-child upload limit counts here,
 * after verification, so that forged uploads do not take the child's slots.
 */
static void decide_upload(struct receiver *r, struct job *j, const char *child, const char *zone)
{
	const uint8_t *rd = msg_rdata(j->m, j->boot_rr);
	int64_t zid, cid;
	/* R9 per child, for uploads by a key not trusted yet (the table is the
	 * commit thread's own) */
	if (j->key == NULL && !ratelimit_allow(r->boot_child_verified, dname_hash(j->signer),
					       now_sec(), r->cfg->boot_per_child)) {
		job_decide(j, RES_LIMITED, "too many key uploads for %s: at most %u a minute",
			   child, r->cfg->boot_per_child);
		return;
	}
	struct store_key *row = calloc(1, sizeof(*row));
	struct upload_scan u = {.rdata = rd, .rdlen = j->boot_rr->rdlen, .row = row};
	enum key_state next;
	int rc = row ? store_zone_find(r->store, j->zone->name, &zid) : DS_ENOMEM;
	if (rc == DS_OK)
		rc = store_child_find(r->store, zid, j->signer, &cid);
	if (rc == DS_ENOENT) {
		job_decide(j, RES_PROHIBITED,
			   "%s is not a delegation of zone %s; only its children upload keys",
			   child, zone);
		free(row);
		return;
	}
	if (rc == DS_OK)
		rc = store_child_keys_foreach(r->store, cid, scan_key, &u);
	if (rc != DS_OK) {
		job_decide(j, RES_SERVFAIL, STORE_DOWN);
		free(row);
		return;
	}
	uint16_t tag = sig0_rdata_tag(rd, u.rdlen);
	int64_t queued = 0;
	bool allowed = ks_next(u.exists, row->state, KS_EV_UPLOAD, &next);
	/* the zone's policy on child key algorithms: the key is kept as refused
	 * (proof of possession was given) so that KeyState can say 7 */
	bool alg_refused = allowed && !policy_bit(j->zone->key_alg_ok, rd[3]) &&
			   ks_next(true, next, KS_EV_POLICY_REFUSE, &next);
	/* with automatic methods a known key is queued for validation at once
	 * (also when a key waiting for the operator is uploaded again) */
	if (allowed && next == KEY_KNOWN && (j->zone->boot_methods & BOOT_AUTOMATIC))
		ks_next(true, KEY_KNOWN, KS_EV_VALIDATION_START, &next);
	if (!allowed) {
		job_decide(j, RES_PROHIBITED, "key %s tag %u is %s and cannot be uploaded again",
			   child, tag, store_key_state_str(row->state));
	} else if (alg_refused && u.exists && row->state == KEY_REFUSED) {
		job_decide(j, RES_KEY_ALG,
			   "key %s tag %u: algorithm %u is not accepted for child keys of zone %s "
			   "(key-algorithms)",
			   child, tag, rd[3], zone);
		upload_keystate(r, j, next, tag);
	} else if (u.exists && next == row->state) {
		job_decide(j, RES_ACCEPTED, "key %s tag %u is already %s", child, tag,
			   store_key_state_str(row->state));
		upload_keystate(r, j, next, tag);
	} else if (next == KEY_VALIDATING &&
		   (store_validation_pending(r->store, &queued) != DS_OK ||
		    queued >= r->cfg->boot.max_pending_total)) {
		/* R9: the scheduler's queue is bounded for all zones together */
		job_decide(j, RES_NOT_READY,
			   "%lld key validations are pending at this receiver "
			   "(bootstrap.max-pending-total); try again later",
			   (long long)queued);
	} else {
		store_upload(r, j, &u, cid, next, alg_refused, child, zone);
	}
	free(row);
}

/* Rows of a rollover: the child's keys, and the rows written (for the cache). */
struct rollover {
	struct keyrows rows;   /* the child's keys as stored */
	bool *gone;	       /* per row: deleted by the UPDATE */
	bool del_all;	       /* "child ANY KEY" */
	struct store_key *out; /* rows written: added, then superseded */
	size_t nout, nadd;
	char text[256]; /* "+tag trusted, -tag revoked" */
};

static void rollover_note(struct rollover *ro, char sign, unsigned tag, const char *what)
{
	size_t tl = strlen(ro->text);
	snprintf(ro->text + tl, sizeof(ro->text) - tl, "%s%c%u %s", tl ? ", " : "", sign, tag,
		 what);
}

/* The index of the stored row with this RDATA, or -1. */
static ssize_t rollover_row(const struct rollover *ro, const uint8_t *rd, size_t rdlen)
{
	ssize_t at = -1;
	for (size_t x = 0; x < ro->rows.n; x++)
		if (ro->rows.k[x].rdlen == rdlen && memcmp(ro->rows.k[x].rdata, rd, rdlen) == 0)
			at = (ssize_t)x;
	return at;
}

/* A KEY add of a rollover: usable, allowed, then trusted.  False when decided. */
static bool rollover_add(struct receiver *r, struct job *j, struct rollover *ro,
			 const struct msg_rr *rr, const char *child)
{
	const struct key_entry *signer = j->key;
	const uint8_t *rd = msg_rdata(j->m, rr);
	ssize_t at = rollover_row(ro, rd, rr->rdlen);
	struct sig0_key *pk = NULL;
	char why[256];
	if (rr->rdlen < 5 || sig0_key_new(signer->child, rd, rr->rdlen, &r->cfg->limits, &pk, why,
					  sizeof(why)) != DS_OK) {
		job_decide(j, RES_PROHIBITED, "KEY of %s is not acceptable: %s", child,
			   rr->rdlen < 5 ? "too short" : why);
		return false;
	}
	sig0_key_free(pk);
	enum key_state next, cur = at >= 0 ? ro->rows.k[at].state : KEY_KNOWN;
	uint16_t tag = sig0_rdata_tag(rd, rr->rdlen);
	if (!policy_bit(j->zone->key_alg_ok, rd[3])) {
		job_decide(j, RES_KEY_ALG,
			   "key %s tag %u: algorithm %u is not accepted for child keys "
			   "(key-algorithms)",
			   child, tag, rd[3]);
		return false;
	}
	if (!ks_next(at >= 0, cur, KS_EV_ROLLOVER_ADD, &next)) {
		job_decide(j, RES_PROHIBITED,
			   "key %s tag %u is %s and cannot be trusted by rollover", child, tag,
			   store_key_state_str(cur));
		return false;
	}
	struct store_key *k = &ro->out[ro->nout++];
	if (at >= 0)
		*k = ro->rows.k[at];
	k->child_id = signer->child_id;
	memcpy(k->zone, j->zone->name, dname_len(j->zone->name));
	memcpy(k->owner, signer->child, dname_len(signer->child));
	k->alg = rd[3];
	k->tag = tag;
	k->flags = rd_u16(rd);
	k->rdlen = rr->rdlen;
	memcpy(k->rdata, rd, rr->rdlen);
	k->state = next;
	snprintf(k->trust_method, sizeof(k->trust_method), "rollover");
	snprintf(k->source, sizeof(k->source), "rollover by key %u from %s", signer->tag,
		 j->client);
	if (at >= 0)
		ro->gone[at] = false; /* an add wins over a delete of the same key */
	ro->nadd++;
	if (store_key_upsert(r->store, k) != DS_OK) {
		job_decide(j, RES_SERVFAIL, STORE_DOWN);
		return false;
	}
	rollover_note(ro, '+', tag, "trusted");
	return true;
}

/*
 * The keys the rollover deletes are superseded, except keys it also adds,
 * keys of the configuration and the signing key unless a successor came.
 */
static bool rollover_supersede(struct receiver *r, struct job *j, struct rollover *ro)
{
	for (size_t x = 0; x < ro->rows.n; x++) {
		struct store_key *o = &ro->rows.k[x];
		bool added = false;
		for (size_t a = 0; a < ro->nout; a++)
			added |= ro->out[a].id == o->id;
		enum key_state next;
		if (added || !(ro->del_all || ro->gone[x]) ||
		    strcmp(o->trust_method, "config") == 0 ||
		    (o->id == j->key->key_id && ro->nadd == 0) ||
		    !ks_next(true, o->state, KS_EV_SUPERSEDED, &next))
			continue;
		if (store_key_set_state(r->store, o->id, next, NULL) != DS_OK) {
			job_decide(j, RES_SERVFAIL, STORE_DOWN);
			return false;
		}
		o->state = next;
		ro->out[ro->nout++] = *o;
		rollover_note(ro, '-', o->tag, "revoked");
	}
	return true;
}

/*
 * Key rollover by UPDATE (zones.[].key-rollover): the child's trusted key
 * adds keys (trusted at once, method "rollover") and may remove the child's
 * other keys ("child ANY KEY", or "child NONE KEY <rdata>").  The signing key
 * itself goes only when the same UPDATE adds its successor; keys listed in
 * the configuration stay under the configuration's control.
 */
static void decide_rollover(struct receiver *r, struct job *j, const char *child)
{
	struct rollover ro = {.rows = {0}};
	size_t n;
	const struct msg_rr *up = msg_section(j->m, SEC_UPDATE, &n);
	int rc = store_child_keys_foreach(r->store, j->key->child_id, keyrows_add, &ro.rows);
	/* room for every row plus every added key, for the cache afterwards */
	ro.out = rc == DS_OK ? calloc(ro.rows.n + n + 1, sizeof(*ro.out)) : NULL;
	ro.gone = rc == DS_OK ? calloc(ro.rows.n + 1, sizeof(*ro.gone)) : NULL;
	bool ok = ro.out != NULL && ro.gone != NULL;
	if (!ok)
		job_decide(j, RES_SERVFAIL, STORE_DOWN);
	for (size_t i = 0; ok && i < n; i++) {
		ssize_t at = rollover_row(&ro, msg_rdata(j->m, &up[i]), up[i].rdlen);
		if (up[i].rclass == CLASS_ANY)
			ro.del_all = true;
		else if (up[i].rclass == CLASS_NONE && at >= 0)
			ro.gone[at] = true;
		else if (up[i].rclass != CLASS_NONE)
			ok = rollover_add(r, j, &ro, &up[i], child);
	}
	if (ok && rollover_supersede(r, j, &ro)) {
		j->newkey = ro.out;
		j->nnewkey = ro.nout;
		ro.out = NULL;
		job_decide(j, RES_ACCEPTED, "key rollover of %s: %s", child,
			   ro.text[0] ? ro.text : "no change");
	}
	free(ro.out);
	free(ro.gone);
	free(ro.rows.k);
}

/* A delegation change: the policy decides, then the store and the outbox. */
static void decide_deleg(struct receiver *r, struct job *j, const struct deleg *cur,
			 struct deleg *next, struct policy_result *res)
{
	const struct key_entry *k = j->key;
	if (policy_update(&j->zone->pol, j->zone->name, k->child, j->m, cur, next, res) != DS_OK) {
		job_decide_as(j, res->rcode == RC_REFUSED ? RES_POLICY : RES_PREREQ, res->rcode,
			      res->ede, "%s", res->text);
		return;
	}
	if (!res->changed) {
		job_decide(j, RES_ACCEPTED, "no change");
		return;
	}
	const char *names[16];
	size_t nb = j->zone->nbackends < 16 ? j->zone->nbackends : 16;
	for (size_t i = 0; i < nb; i++)
		names[i] = j->zone->backends[i].name;
	int64_t cid;
	if (store_deleg_change(r->store, j->zone->name, k->child, k->child_id, next, res->changes,
			       names, nb, now_sec(), &cid) != DS_OK) {
		job_decide(j, RES_SERVFAIL, STORE_DOWN);
		return;
	}
	j->changed = true;
	j->changes = strdup(res->changes);
	job_decide(j, RES_ACCEPTED, "changed");
}

/*
 * Decide one verified UPDATE inside the open transaction, by its kind; a
 * replay gets the first answer.  With key-rollover off, KEY changes go the
 * delegation road, where the policy refuses them.
 */
static void decide(struct receiver *r, struct job *j, struct deleg *cur, struct deleg *next,
		   struct policy_result *res)
{
	const struct key_entry *k = j->key;
	char child[DNAME_STR_MAX], zone[DNAME_STR_MAX], kz[DNAME_STR_MAX];
	dname_str(k ? k->child : j->signer, child, sizeof(child));
	dname_str(j->zone->name, zone, sizeof(zone));

	if (replay_seen(r, j))
		return;
	/* the signer is the child: the key is registered for that name in this zone */
	if (j->kind == MSG_UPLOAD) {
		decide_upload(r, j, child, zone);
	} else if (!dname_equal(k->zone, j->zone->name)) {
		job_decide(j, RES_PROHIBITED, "key of %s belongs to zone %s, not %s", child,
			   dname_str(k->zone, kz, sizeof(kz)), zone);
	} else if (store_deleg_load(r->store, k->child_id, cur) != DS_OK) {
		job_decide(j, RES_SERVFAIL, STORE_DOWN);
	} else if (j->kind == MSG_ROLLOVER && j->zone->key_rollover) {
		if (policy_check(&j->zone->pol, j->zone->name, k->child, j->m, cur, res) != DS_OK)
			job_decide_as(j, res->rcode == RC_REFUSED ? RES_POLICY : RES_PREREQ,
				      res->rcode, res->ede, "%s", res->text);
		else
			decide_rollover(r, j, child);
	} else {
		decide_deleg(r, j, cur, next, res);
	}
	replay_store(r, j);
}

/* The job's zone and child as text, where known (else left as they are). */
static void job_names(const struct job *j, char zone[DNAME_STR_MAX], char child[DNAME_STR_MAX])
{
	if (j->zone)
		dname_str(j->zone->name, zone, DNAME_STR_MAX);
	if (j->key)
		dname_str(j->key->child, child, DNAME_STR_MAX);
	else if (j->have_signer)
		dname_str(j->signer, child, DNAME_STR_MAX);
}

static int write_audit(struct receiver *r, struct job *j)
{
	char zone[DNAME_STR_MAX] = "", child[DNAME_STR_MAX] = "", summary[2048] = "";
	size_t rlen = strlen(j->text) + (j->changes ? strlen(j->changes) + 1 : 0) + 1;
	char *reason = malloc(rlen);
	if (reason == NULL)
		return DS_ENOMEM;
	job_names(j, zone, child);
	if (j->m->len >= DNS_HDR_LEN && j->m->opcode == OP_UPDATE)
		request_summary(j->m, summary, sizeof(summary));
	snprintf(reason, rlen, "%s%s%s", j->text, j->changes ? "\n" : "",
		 j->changes ? j->changes : "");
	struct audit_rec a = {
	    .time = j->t_recv.tv_sec,
	    .client = j->client,
	    .zone = zone[0] ? zone : NULL,
	    .child = child[0] ? child : NULL,
	    .key_tag = j->key_tag,
	    .actor = "update",
	    .request = summary,
	    .result = result_name(j->result),
	    .rcode = j->rcode,
	    .reason = reason,
	};
	int rc = store_audit_add(r->store, &a);
	free(reason);
	return rc;
}

/*
 * One job inside the batch's transaction, in a savepoint of its own: its
 * decision (verified UPDATEs) and its audit row.  A failed decision leaves
 * nothing but the audit row.
 */
static void commit_one(struct receiver *r, struct job *j, struct deleg *cur, struct deleg *next,
		       struct policy_result *res)
{
	if (store_savepoint(r->store) != DS_OK) {
		job_decide(j, RES_SERVFAIL, STORE_DOWN);
		return;
	}
	if (j->stage == JOB_COMMIT)
		decide(r, j, cur, next, res);
	else if (j->stage != JOB_DECIDED)
		job_decide(j, RES_SERVFAIL, "internal error");
	if (j->rcode == RC_SERVFAIL) {
		/* nothing of a failed decision stays, not even half of it;
		 * a fresh savepoint holds its audit row */
		store_rollback_to(r->store);
		j->changed = false;
		if (store_savepoint(r->store) != DS_OK)
			return;
	}
	if (write_audit(r, j) != DS_OK) {
		store_rollback_to(r->store);
		job_decide(j, RES_SERVFAIL, STORE_DOWN);
		j->changed = false;
	} else {
		store_release(r->store);
	}
	replay_note(r, j);
}

/* The batch's commit failed: nothing of it is acknowledged (never NOERROR). */
static void batch_failed(struct receiver *r, struct job *batch)
{
	store_rollback(r->store);
	replay_forget(r, batch);
	for (struct job *j = batch; j; j = j->next) {
		if (j->audit || j->stage != JOB_DECIDED)
			job_decide(j, RES_SERVFAIL, "store commit failed; try again later");
		j->changed = false;
	}
}

/* After a durable commit: key rows to the cache, the outbox and the scheduler woken. */
static void batch_done(struct receiver *r, struct job *batch)
{
	bool any_change = false, queued = false;
	for (struct job *j = batch; j; j = j->next) {
		for (size_t i = 0; j->rcode != RC_SERVFAIL && i < j->nnewkey; i++)
			keycache_put(r->keys, &j->newkey[i], &r->cfg->limits);
		any_change |= j->changed;
		queued |= j->boot_queued && j->rcode == RC_NOERROR;
	}
	if (any_change)
		outbox_kick(r->outbox);
	if (queued)
		bootstrap_kick(r->boot);
}

void pipeline_commit_batch(struct receiver *r, struct job *batch)
{
	struct deleg *cur = malloc(sizeof(*cur)), *next = malloc(sizeof(*next));
	struct policy_result *res = malloc(sizeof(*res));
	bool ok = cur && next && res && store_begin(r->store) == DS_OK;

	if (ok)
		replay_purge_store(r);
	for (struct job *j = batch; j; j = j->next) {
		if (!ok)
			job_decide(j, RES_SERVFAIL, STORE_DOWN);
		else if (j->audit || j->stage != JOB_DECIDED)
			commit_one(r, j, cur, next, res);
	}
	/* nothing is acknowledged that did not reach the disk */
	if (ok && store_commit(r->store) != DS_OK)
		batch_failed(r, batch);
	else if (ok)
		batch_done(r, batch);
	atomic_fetch_add(&r->ctr.commits, 1);
	free(cur);
	free(next);
	free(res);
}

/* The log line's word for what a request's COOKIE option held ("": none). */
static const char *cookie_word(uint8_t state)
{
	switch (state) {
	case COOKIE_CLIENT_ONLY:
		return " cookie=client";
	case COOKIE_BAD:
		return " cookie=bad";
	case COOKIE_VALID:
		return " cookie=valid";
	}
	return "";
}

/*
 * log.refused-per-second: at most that many lines of refused requests a
 * second (a forged flood would otherwise write one line per packet, and the
 * writing would cost more than the refusing); the rest are counted, and
 * the count is logged once the second is over (pipeline_log_flush).  The
 * counters and the audit log keep every one.
 */
void pipeline_log_flush(struct receiver *r)
{
	struct refused_lines *l = &r->refused_lines;
	int64_t now = (int64_t)time(NULL); /* the seconds of the log's time stamps */

	if (now == l->second)
		return;
	if (l->held > 0)
		log_info("%" PRIu64 " line(s) of refused requests not logged in the last second "
			 "(log.refused-per-second %u)",
			 l->held, r->cfg->log_refused_per_second);
	l->second = now;
	l->written = l->held = 0;
}

static bool refused_line(struct receiver *r)
{
	struct refused_lines *l = &r->refused_lines;
	unsigned max = r->cfg->log_refused_per_second;

	pipeline_log_flush(r);
	if (max == 0 || l->written < max) {
		l->written++;
		return true;
	}
	l->held++;
	return false;
}

void pipeline_log(struct receiver *r, const struct job *j)
{
	metrics_count_decision(&r->ctr, j->result, j->rcode);
	if (j->kind == MSG_INQUIRY)
		atomic_fetch_add_explicit(&r->ctr.inquiries, 1, memory_order_relaxed);
	char zone[DNAME_STR_MAX] = "-", child[DNAME_STR_MAX] = "-", tag[16] = "-", rb[16];
	const struct msg *m = j->m;
	job_names(j, zone, child);
	if (j->key_tag >= 0)
		snprintf(tag, sizeof(tag), "%d", j->key_tag);
	const char *what = m->opcode == OP_UPDATE  ? "update"
			   : m->opcode == OP_QUERY ? "query"
						   : "message";
	/* accepted at notice (a trail of every change that log.level notice keeps),
	 * refused at info: dsyncd.conf(5), log.level */
	/* TC answers of a flood at debug: one line each would be a log flood */
	int level = j->result == RES_TRUNCATED ? LOG_DEBUG
		    : j->rcode == RC_NOERROR   ? LOG_NOTICE
					       : LOG_INFO;
	if (level == LOG_INFO && !refused_line(r))
		return;
	log_msg(level,
		"%s zone=%s child=%s client=%s key=%s result=%s rcode=%s%s reason=\"%s\"%s%s", what,
		zone, child, j->client, tag, result_name(j->result),
		rr_rcode_str((unsigned)j->rcode, rb, sizeof(rb)), cookie_word(j->cookie), j->text,
		j->changes ? " changes=" : "", j->changes ? j->changes : "");
}

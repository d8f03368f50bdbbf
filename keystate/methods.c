/*
 * keystate/methods.c -- the automatic bootstrap methods (see methods.h).
 *
 * at-apex and at-ns ask a validating libunbound context; unsigned asks
 * every nameserver directly over TCP (common/dnsq.h), and each configured
 * recursive resolver once.  The lookups of one call are sent together
 * (ub_resolve_async) and collected in one poll() loop, so one call costs at
 * most one resolver timeout however many nameservers there are.  The
 * unsigned queries go one after another, each bounded by its own timeout:
 * a round costs at most (addresses x source vantage points + resolver
 * vantage points) x timeout_ms, and stops at the first answer that decides
 * "fail".
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <unbound.h>

#include "common/clock.h"
#include "common/dname.h"
#include "common/dnsq.h"
#include "common/err.h"
#include "common/msg.h"
#include "common/rrtext.h"
#include "common/wire.h"
#include "keystate/methods.h"

#define DEFAULT_TIMEOUT_MS 10000
#define NS_MAX DELEG_MAX       /* distinct NS targets looked at */
#define ADDR_MAX DELEG_MAX     /* nameserver addresses looked at in one unsigned round */
#define ADDR_PER_NS 4	       /* addresses asked per NS name in one unsigned round */
#define ADDR_ASKED 16	       /* addresses asked in one unsigned round in total */
#define ROUND_BUDGET_MS 60000u /* queries x timeout of one unsigned round */
#define DETAIL_MAX 512	       /* one NS's part of a reason */
#define SIGNAL_SIG0KEY "\x08_sig0key"
#define SIGNAL_SIGNAL "\x07_signal"

const char *bm_result_str(enum bm_result r)
{
	switch (r) {
	case BM_OK:
		return "ok";
	case BM_NA:
		return "not-applicable";
	case BM_FAIL:
		return "fail";
	case BM_TEMP:
		return "temporary";
	}
	return "?";
}

/* A name for a reason text (escaped, R15). */
/* Text from unbound (why_bogus) made safe for one log line. */
static void clean_copy(char *out, size_t outlen, const char *s)
{
	size_t o = 0;
	if (outlen == 0)
		return;
	for (; s != NULL && *s && o + 1 < outlen; s++)
		out[o++] = (*s < 0x20 || *s > 0x7e) ? '?' : *s;
	out[o] = 0;
}

/* ---- the resolver ------------------------------------------------------------ */

struct bm_resolver {
	struct ub_ctx *ctx; /* NULL after a failed rebuild: lookups are temporary failures */
	char *ta, *hints, *conf;
	char **fwd;
	size_t nfwd;
	unsigned timeout_ms;
};

static bool readable(const char *path, const char *what, char *why, size_t whylen)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		ds_why(why, whylen, "%s %s: %s", what, path, strerror(errno));
		return false;
	}
	fclose(f);
	return true;
}

/* Does the context hold a trust anchor from any of unbound's anchor options? */
static bool has_anchor(struct ub_ctx *ctx)
{
	static const char *opts[] = {"trust-anchor-file", "auto-trust-anchor-file", "trust-anchor",
				     "trusted-keys-file"};
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		char *v = NULL;
		if (ub_ctx_get_option(ctx, opts[i], &v) == 0 && v != NULL &&
		    v[strspn(v, " \t\r\n")] != 0) {
			free(v);
			return true;
		}
		free(v);
	}
	return false;
}

/* A libunbound context from r's settings. */
static int ctx_build(const struct bm_resolver *r, struct ub_ctx **out, char *why, size_t whylen)
{
	int rc;
	*out = NULL;
	if (r->ta != NULL && !readable(r->ta, "trust anchor file", why, whylen))
		return DS_ECONFIG;
	if (r->hints != NULL && !readable(r->hints, "root hints file", why, whylen))
		return DS_ECONFIG;
	if (r->conf != NULL && !readable(r->conf, "unbound config", why, whylen))
		return DS_ECONFIG;
	struct ub_ctx *ctx = ub_ctx_create();
	if (ctx == NULL) {
		ds_why(why, whylen, "cannot create a libunbound context");
		return DS_ENOMEM;
	}
	if (r->conf != NULL && (rc = ub_ctx_config(ctx, r->conf)) != 0) {
		ds_why(why, whylen, "unbound config %s: %s%s%s", r->conf, ub_strerror(rc),
		       rc == UB_READFILE ? ": " : "", rc == UB_READFILE ? strerror(errno) : "");
		goto bad;
	}
	if (r->ta != NULL && (rc = ub_ctx_add_ta_file(ctx, r->ta)) != 0) {
		ds_why(why, whylen, "trust anchor file %s: %s", r->ta, ub_strerror(rc));
		goto bad;
	}
	if (r->hints != NULL && (rc = ub_ctx_set_option(ctx, "root-hints:", r->hints)) != 0) {
		ds_why(why, whylen, "root hints %s: %s", r->hints, ub_strerror(rc));
		goto bad;
	}
	for (size_t i = 0; i < r->nfwd; i++) {
		if ((rc = ub_ctx_set_fwd(ctx, r->fwd[i])) != 0) {
			ds_why(why, whylen, "forwarder \"%s\": %s", r->fwd[i], ub_strerror(rc));
			goto bad;
		}
	}
	/* a thread, not a forked process: dsyncd is multi-threaded */
	if ((rc = ub_ctx_async(ctx, 1)) != 0) {
		ds_why(why, whylen, "libunbound async mode: %s", ub_strerror(rc));
		goto bad;
	}
	if (!has_anchor(ctx)) {
		ds_why(why, whylen,
		       "no DNSSEC trust anchor: give a trust anchor file or an "
		       "unbound config with trust-anchor-file");
		goto bad;
	}
	/*
	 * libunbound reads the anchors and hints only when the context is
	 * finalized, normally at the first lookup; a bad file would then make
	 * every lookup fail for good.  Removing local data (none exists under
	 * this name) finalizes the context now, so a bad file is a config error.
	 */
	if ((rc = ub_ctx_data_remove(ctx, "dsyncd-finalize.invalid.")) != 0) {
		ds_why(why, whylen,
		       "libunbound cannot load its settings (%s): check the trust "
		       "anchor, root hints and config files (unbound logs which)",
		       ub_strerror(rc));
		goto bad;
	}
	*out = ctx;
	return DS_OK;
bad:
	ub_ctx_delete(ctx);
	return rc == UB_NOMEM ? DS_ENOMEM : DS_ECONFIG;
}

void bm_resolver_free(struct bm_resolver *r)
{
	if (r == NULL)
		return;
	if (r->ctx != NULL)
		ub_ctx_delete(r->ctx);
	free(r->ta);
	free(r->hints);
	free(r->conf);
	for (size_t i = 0; i < r->nfwd; i++)
		free(r->fwd[i]);
	free(r->fwd);
	free(r);
}

/* strdup of a set, non-empty setting; *ok false on ENOMEM. */
static char *dup_opt(const char *s, bool *ok)
{
	if (s == NULL || *s == 0)
		return NULL;
	char *d = strdup(s);
	if (d == NULL)
		*ok = false;
	return d;
}

int bm_resolver_new(const struct bm_resolver_cfg *cfg, struct bm_resolver **out, char *why,
		    size_t whylen)
{
	bool ok = true;
	*out = NULL;
	ds_why(why, whylen, "%s", "");
	struct bm_resolver *r = calloc(1, sizeof(*r));
	if (r == NULL) {
		ds_why(why, whylen, "out of memory");
		return DS_ENOMEM;
	}
	r->ta = dup_opt(cfg->trust_anchor_file, &ok);
	r->hints = dup_opt(cfg->root_hints, &ok);
	r->conf = dup_opt(cfg->config_file, &ok);
	r->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : DEFAULT_TIMEOUT_MS;
	if (cfg->nforward > 0) {
		r->fwd = calloc(cfg->nforward, sizeof(*r->fwd));
		ok = ok && r->fwd != NULL;
		for (size_t i = 0; ok && i < cfg->nforward; i++) {
			if (cfg->forward[i] == NULL || *cfg->forward[i] == 0)
				continue;
			r->fwd[r->nfwd] = strdup(cfg->forward[i]);
			ok = r->fwd[r->nfwd++] != NULL;
		}
	}
	if (!ok) {
		bm_resolver_free(r);
		ds_why(why, whylen, "out of memory");
		return DS_ENOMEM;
	}
	int rc = ctx_build(r, &r->ctx, why, whylen);
	if (rc != DS_OK) {
		bm_resolver_free(r);
		return rc;
	}
	*out = r;
	return DS_OK;
}

int bm_resolver_flush(struct bm_resolver *r, char *why, size_t whylen)
{
	struct ub_ctx *ctx;
	ds_why(why, whylen, "%s", "");
	int rc = ctx_build(r, &ctx, why, whylen);
	if (rc != DS_OK)
		return rc;
	if (r->ctx != NULL)
		ub_ctx_delete(r->ctx);
	r->ctx = ctx;
	return DS_OK;
}

/* ---- lookups, several at once ----------------------------------------------- */

struct lookup {
	char name[DNAME_STR_MAX];
	int type;
	int id;	   /* libunbound's async id */
	bool sent; /* ub_resolve_async accepted it */
	bool done; /* the callback ran */
	int err;   /* libunbound error (submitting, or in the callback) */
	struct ub_result *res;
};

static void lookup_cb(void *arg, int err, struct ub_result *res)
{
	struct lookup *l = arg;
	l->done = true;
	l->err = err;
	l->res = res;
}

/*
 * Why lookup l has no result to look at ("no answer from the resolver
 * within N ms", "resolver error: ..."), written to out; NULL when it has one.
 */
static const char *lookup_trouble(const struct bm_resolver *r, const struct lookup *l, char *out,
				  size_t outlen)
{
	if (l->done && l->err == 0 && l->res != NULL)
		return NULL;
	if (l->sent && !l->done)
		ds_why(out, outlen, "no answer from the resolver within %u ms", r->timeout_ms);
	else
		ds_why(out, outlen, "resolver error: %s",
		       r->ctx == NULL ? "no libunbound context" : ub_strerror(l->err));
	return out;
}

/* unbound's reason for a bogus answer, made safe for one log line. */
static const char *bogus_reason(const struct ub_result *res, char *out, size_t outlen)
{
	clean_copy(out, outlen, res->why_bogus ? res->why_bogus : "no reason given");
	return out;
}

static void lookups_free(struct lookup *l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (l[i].res != NULL)
			ub_resolve_free(l[i].res);
}

/*
 * Send every lookup of l and collect the answers until all are in or
 * r->timeout_ms has passed; the ones still out are cancelled (done false).
 */
static void lookups_run(struct bm_resolver *r, struct lookup *l, size_t n)
{
	size_t pending = 0;
	int64_t deadline = clock_mono_ms() + r->timeout_ms;
	for (size_t i = 0; i < n; i++) {
		if (r->ctx == NULL) {
			l[i].err = UB_INITFAIL;
			continue;
		}
		l[i].err = ub_resolve_async(r->ctx, l[i].name, l[i].type, 1 /* IN */, &l[i],
					    lookup_cb, &l[i].id);
		l[i].sent = l[i].err == 0;
		pending += l[i].sent;
	}
	while (pending > 0) {
		int64_t left = deadline - clock_mono_ms();
		if (left <= 0)
			break;
		struct pollfd p = {.fd = ub_fd(r->ctx), .events = POLLIN};
		int k = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (k < 0 && errno != EINTR)
			break;
		if (k > 0 && ub_process(r->ctx) != 0)
			break;
		pending = 0;
		for (size_t i = 0; i < n; i++)
			pending += l[i].sent && !l[i].done;
	}
	bool stuck = false;
	for (size_t i = 0; i < n; i++)
		if (l[i].sent && !l[i].done && ub_cancel(r->ctx, l[i].id) != 0)
			stuck = true;
	if (stuck) {
		/*
		 * A query that can be neither answered nor cancelled would
		 * later call back into memory that is gone: drop the context
		 * (its queries go without callbacks) and start a new one.
		 */
		ub_ctx_delete(r->ctx);
		r->ctx = NULL;
		if (ctx_build(r, &r->ctx, NULL, 0) != DS_OK)
			r->ctx = NULL;
	}
}

/* ---- general lookups (bm_lookups) -------------------------------------------- */

/* The owner of the first SOA in the authority section of a reply packet. */
static bool soa_owner(const void *pkt, int len, uint8_t out[DNAME_MAX])
{
	bool found = false;
	if (pkt == NULL || len < DNS_HDR_LEN)
		return false;
	struct msg *m = calloc(1, sizeof(*m));
	if (m == NULL)
		return false;
	if (msg_parse(m, pkt, (size_t)len) == DS_OK) {
		size_t nau;
		const struct msg_rr *au = msg_section(m, 2 /* authority */, &nau);
		for (size_t i = 0; i < nau && !found; i++) {
			if (au[i].type != T_SOA || au[i].rclass != CLASS_IN)
				continue;
			memcpy(out, msg_owner(m, &au[i]), dname_len(msg_owner(m, &au[i])));
			found = true;
		}
	}
	msg_clear(m);
	free(m);
	return found;
}

/* Fill a from one finished (or unfinished) lookup; DS_OK or DS_ENOMEM. */
static int answer_fill(const struct bm_resolver *r, const struct lookup *l, struct bm_answer *a)
{
	const struct ub_result *res = l->res;
	if (lookup_trouble(r, l, a->why, sizeof(a->why)) != NULL) {
		a->err = DS_EAGAIN;
		return DS_OK;
	}
	a->err = DS_OK;
	a->rcode = res->rcode;
	a->secure = res->secure != 0;
	a->bogus = res->bogus != 0;
	a->havedata = res->havedata != 0;
	a->nxdomain = res->nxdomain != 0;
	if (a->bogus) {
		bogus_reason(res, a->why, sizeof(a->why));
		return DS_OK; /* bogus data is never handed out */
	}
	if (!a->havedata)
		a->has_soa = soa_owner(res->answer_packet, res->answer_len, a->soa);
	size_t n = 0, total = 0;
	for (; res->havedata && res->data != NULL && res->data[n] != NULL; n++)
		total += (size_t)res->len[n];
	if (n == 0)
		return DS_OK;
	uint8_t *buf = malloc(n * sizeof(*a->rr) + total);
	if (buf == NULL)
		return DS_ENOMEM;
	a->rr = (struct bm_rr *)buf;
	uint8_t *p = buf + n * sizeof(*a->rr);
	for (size_t i = 0; i < n; i++) {
		size_t len = (size_t)res->len[i] > UINT16_MAX ? UINT16_MAX : (size_t)res->len[i];
		memcpy(p, res->data[i], len);
		a->rr[i].ttl = res->ttl < 0 ? 0 : (uint32_t)res->ttl;
		a->rr[i].rdlen = (uint16_t)len;
		a->rr[i].rdata = p;
		p += len;
	}
	a->n = n;
	return DS_OK;
}

void bm_answer_free(struct bm_answer *a)
{
	if (a == NULL)
		return;
	free(a->rr);
	memset(a, 0, sizeof(*a));
}

int bm_lookups(struct bm_resolver *r, const struct bm_query *q, size_t n, struct bm_answer *out)
{
	if (n == 0)
		return DS_OK;
	memset(out, 0, n * sizeof(*out));
	struct lookup *l = calloc(n, sizeof(*l));
	if (l == NULL)
		return DS_ENOMEM;
	/* names that cannot be written as text are not sent: compact the rest */
	size_t *slot = calloc(n, sizeof(*slot)), nsend = 0;
	if (slot == NULL) {
		free(l);
		return DS_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		if (dname_to_str(q[i].name, l[nsend].name, sizeof(l[nsend].name)) != DS_OK) {
			out[i].err = DS_EINVAL;
			ds_why(out[i].why, sizeof(out[i].why), "the name is not well-formed");
			slot[i] = SIZE_MAX;
			continue;
		}
		l[nsend].type = q[i].type;
		slot[i] = nsend++;
	}
	lookups_run(r, l, nsend);
	int rc = DS_OK;
	for (size_t i = 0; i < n && rc == DS_OK; i++)
		if (slot[i] != SIZE_MAX)
			rc = answer_fill(r, &l[slot[i]], &out[i]);
	if (rc != DS_OK)
		for (size_t i = 0; i < n; i++)
			bm_answer_free(&out[i]);
	lookups_free(l, nsend);
	free(l);
	free(slot);
	return rc;
}

int bm_lookup(struct bm_resolver *r, const uint8_t *name, uint16_t type, struct bm_answer *out)
{
	struct bm_query q = {.name = name, .type = type};
	int rc = bm_lookups(r, &q, 1, out);
	return rc != DS_OK ? rc : out->err;
}

/* What a validated KEY lookup says about the key. */
enum key_status {
	KS_HOLDS,    /* secure, the RRset holds the key */
	KS_INSECURE, /* answer (any) is insecure */
	KS_BOGUS,
	KS_NXDOMAIN, /* secure NXDOMAIN */
	KS_NODATA,   /* secure, no KEY RRset */
	KS_MISSING,  /* secure, the RRset lacks the key */
	KS_TEMP,     /* timeout, SERVFAIL, resolver error */
};

static bool rdata_in_result(const struct ub_result *res, const uint8_t *rdata, size_t rdlen,
			    size_t *nkeys)
{
	bool found = false;
	*nkeys = 0;
	for (size_t i = 0; res->data != NULL && res->data[i] != NULL; i++) {
		(*nkeys)++;
		if ((size_t)res->len[i] == rdlen && memcmp(res->data[i], rdata, rdlen) == 0)
			found = true;
	}
	return found;
}

/* Classify a KEY lookup and describe it in text ("KEY RRset of X is ..."). */
static enum key_status key_status(const struct bm_resolver *r, const struct lookup *l,
				  const uint8_t *rdata, size_t rdlen, char *text, size_t textlen)
{
	char rc[16], bogus[256], trouble[128];
	size_t nkeys;
	const struct ub_result *res = l->res;
	if (lookup_trouble(r, l, trouble, sizeof(trouble)) != NULL) {
		ds_why(text, textlen, "%s KEY: %s", l->name, trouble);
		return KS_TEMP;
	}
	if (res->bogus) {
		ds_why(text, textlen, "KEY RRset of %s is bogus (%s)", l->name,
		       bogus_reason(res, bogus, sizeof(bogus)));
		return KS_BOGUS;
	}
	if (res->rcode != 0 && res->rcode != 3) {
		ds_why(text, textlen, "%s KEY: the resolver answered %s", l->name,
		       rr_rcode_str((unsigned)res->rcode, rc, sizeof(rc)));
		return KS_TEMP;
	}
	if (!res->secure) {
		if (res->nxdomain)
			ds_why(text, textlen, "%s does not exist (insecure NXDOMAIN)", l->name);
		else if (!res->havedata)
			ds_why(text, textlen, "%s has no KEY RRset (insecure NODATA)", l->name);
		else
			ds_why(text, textlen, "KEY RRset of %s is insecure", l->name);
		return KS_INSECURE;
	}
	if (res->nxdomain) {
		ds_why(text, textlen, "%s does not exist (secure NXDOMAIN)", l->name);
		return KS_NXDOMAIN;
	}
	if (!res->havedata) {
		ds_why(text, textlen, "%s has no KEY RRset (secure NODATA)", l->name);
		return KS_NODATA;
	}
	if (!rdata_in_result(res, rdata, rdlen, &nkeys)) {
		ds_why(text, textlen, "KEY RRset of %s (secure, %zu key%s) does not hold the key",
		       l->name, nkeys, nkeys == 1 ? "" : "s");
		return KS_MISSING;
	}
	ds_why(text, textlen, "KEY RRset of %s is secure and holds the key", l->name);
	return KS_HOLDS;
}

/* ---- at-apex ------------------------------------------------------------------ */

enum bm_result bm_at_apex(struct bm_resolver *r, const uint8_t *child, const uint8_t *rdata,
			  size_t rdlen, char *why, size_t whylen)
{
	char text[DETAIL_MAX];
	struct lookup *l = calloc(1, sizeof(*l));
	if (l == NULL) {
		ds_why(why, whylen, "at-apex: out of memory");
		return BM_TEMP;
	}
	dname_str(child, l->name, sizeof(l->name));
	l->type = T_KEY;
	lookups_run(r, l, 1);
	enum key_status st = key_status(r, l, rdata, rdlen, text, sizeof(text));
	enum bm_result res;
	switch (st) {
	case KS_HOLDS:
		res = BM_OK;
		break;
	case KS_INSECURE:
		res = BM_NA;
		ds_why(why, whylen, "at-apex: %s is not signed: %s", l->name, text);
		break;
	case KS_TEMP:
		res = BM_TEMP;
		break;
	default:
		res = BM_FAIL;
		break;
	}
	if (st != KS_INSECURE)
		ds_why(why, whylen, "at-apex: %s", text);
	lookups_free(l, 1);
	free(l);
	return res;
}

/* ---- the delegation's nameservers ------------------------------------------------- */

/* The distinct NS targets of child in d (pointers into d), at most NS_MAX. */
static size_t ns_targets(const uint8_t *child, const struct deleg *d, const uint8_t **ns)
{
	size_t n = 0;
	for (size_t i = 0; i < d->n && n < NS_MAX; i++) {
		const struct drr *rr = &d->rr[i];
		if (rr->type != T_NS || !dname_equal(rr->owner, child))
			continue;
		bool dup = false;
		for (size_t j = 0; j < n && !dup; j++)
			dup = dname_equal(ns[j], rr->rdata);
		if (!dup)
			ns[n++] = rr->rdata;
	}
	return n;
}

/* _sig0key.<child>._signal.<ns> on the wire; false when over DNAME_MAX. */
static bool signal_name(const uint8_t *child, const uint8_t *ns, uint8_t out[DNAME_MAX])
{
	size_t clen = dname_len(child) - 1; /* without the root label */
	size_t nlen = dname_len(ns);
	size_t a = sizeof(SIGNAL_SIG0KEY) - 1, b = sizeof(SIGNAL_SIGNAL) - 1;
	if (a + clen + b + nlen > DNAME_MAX)
		return false;
	memcpy(out, SIGNAL_SIG0KEY, a);
	memcpy(out + a, child, clen);
	memcpy(out + a + clen, SIGNAL_SIGNAL, b);
	memcpy(out + a + clen + b, ns, nlen);
	return true;
}

/* ---- at-ns ---------------------------------------------------------------------- */

/* The NS targets of child outside its own bailiwick (at most NS_MAX); *nall: all of them. */
static size_t outside_targets(const uint8_t *child, const struct deleg *d, const uint8_t **ns,
			      size_t *nall)
{
	const uint8_t *all[NS_MAX];
	size_t n = 0;
	*nall = ns_targets(child, d, all);
	for (size_t i = 0; i < *nall; i++)
		if (!dname_is_sub(all[i], child))
			ns[n++] = all[i];
	return n;
}

/*
 * The _signal KEY lookups of ns[0..n) in send, returned: their number.  A
 * name over 255 octets is a failure for its NS and is not sent
 * (slot[i] == SIZE_MAX); else send[slot[i]] is the lookup of ns[i].
 */
static size_t signal_lookups(const uint8_t *child, const uint8_t **ns, size_t n,
			     struct lookup *send, size_t *slot)
{
	uint8_t qname[DNAME_MAX];
	size_t nsend = 0;
	for (size_t i = 0; i < n; i++) {
		if (!signal_name(child, ns[i], qname)) {
			slot[i] = SIZE_MAX;
			continue;
		}
		dname_str(qname, send[nsend].name, sizeof(send[nsend].name));
		send[nsend].type = T_KEY;
		slot[i] = nsend++;
	}
	return nsend;
}

/* What the nameservers of an at-ns check said: how many of each, and the first text. */
struct ns_tally {
	size_t nok, nfail, ntemp;
	char ok_text[DETAIL_MAX], fail_text[DETAIL_MAX], temp_text[DETAIL_MAX];
};

static void tally_add(struct ns_tally *t, enum key_status st, const char *text)
{
	size_t *count = &t->nfail;
	char *first = t->fail_text;
	if (st == KS_HOLDS) {
		count = &t->nok;
		first = t->ok_text;
	} else if (st == KS_TEMP) {
		count = &t->ntemp;
		first = t->temp_text;
	}
	if ((*count)++ == 0)
		snprintf(first, DETAIL_MAX, "%s", text);
}

/*
 * The verdict over n nameservers: with require_all every one must hold
 * the key, else one that holds it is enough and one that fails does not
 * matter.
 */
static enum bm_result at_ns_verdict(const struct ns_tally *t, size_t n, const char *cname,
				    bool require_all, char *why, size_t whylen)
{
	if (t->nok == n) {
		ds_why(why, whylen,
		       "at-ns: all %zu nameservers of %s outside its bailiwick publish the key "
		       "securely under _signal",
		       n, cname);
		return BM_OK;
	}
	if (require_all && t->nfail > 0) {
		ds_why(why, whylen, "at-ns: %s (%zu of %zu nameservers fail)", t->fail_text,
		       t->nfail, n);
		return BM_FAIL;
	}
	if (!require_all && t->nok > 0) {
		ds_why(why, whylen, "at-ns: %s (%zu of %zu nameservers; failing: %s)", t->ok_text,
		       t->nok, n, t->nfail > 0 ? t->fail_text : t->temp_text);
		return BM_OK;
	}
	if (t->ntemp > 0) {
		/* another try may still find one that counts */
		ds_why(why, whylen, "at-ns: %s (%zu of %zu nameservers not checked)", t->temp_text,
		       t->ntemp, n);
		return BM_TEMP;
	}
	ds_why(why, whylen, "at-ns: %s (none of %zu nameservers counts)", t->fail_text, n);
	return BM_FAIL;
}

enum bm_result bm_at_ns(struct bm_resolver *r, const uint8_t *child, const struct deleg *d,
			const uint8_t *rdata, size_t rdlen, bool require_all, char *why,
			size_t whylen)
{
	const uint8_t *ns[NS_MAX];
	char cname[DNAME_STR_MAX], nsname[DNAME_STR_MAX], text[DETAIL_MAX];
	struct ns_tally t = {0};
	size_t nall;

	dname_str(child, cname, sizeof(cname));
	size_t n = outside_targets(child, d, ns, &nall);
	if (n == 0) {
		ds_why(why, whylen,
		       "at-ns: %s has no nameserver outside its own bailiwick (%zu NS)", cname,
		       nall);
		return BM_NA;
	}
	struct lookup *send = calloc(n, sizeof(*send));
	size_t *slot = calloc(n, sizeof(*slot));
	if (send == NULL || slot == NULL) {
		free(send);
		free(slot);
		ds_why(why, whylen, "at-ns: out of memory");
		return BM_TEMP;
	}
	size_t nsend = signal_lookups(child, ns, n, send, slot);
	lookups_run(r, send, nsend);
	for (size_t i = 0; i < n; i++) {
		enum key_status st = KS_MISSING;
		if (slot[i] == SIZE_MAX)
			ds_why(text, sizeof(text),
			       "_sig0key.%s_signal.%s is longer than 255 octets", cname,
			       dname_str(ns[i], nsname, sizeof(nsname)));
		else
			st = key_status(r, &send[slot[i]], rdata, rdlen, text, sizeof(text));
		tally_add(&t, st, text);
	}
	lookups_free(send, nsend);
	free(send);
	free(slot);
	return at_ns_verdict(&t, n, cname, require_all, why, whylen);
}

/* ---- unsigned ------------------------------------------------------------------- */

struct ns_addr {
	struct sockaddr_storage sa;
	socklen_t salen;
	const uint8_t *ns; /* the NS target it belongs to */
};

/* The nameserver addresses one unsigned round asks. */
struct addrs {
	struct ns_addr *a; /* ADDR_MAX of them */
	size_t n;
	size_t skipped; /* over ADDR_PER_NS or ADDR_ASKED: not kept */
	uint16_t port;
};

static bool addr_add(struct addrs *x, const uint8_t *ns, const uint8_t *rd, size_t rdlen)
{
	if (x->n == ADDR_MAX)
		return false;
	size_t same = 0;
	for (size_t i = 0; i < x->n; i++)
		same += x->a[i].ns == ns;
	if (same >= ADDR_PER_NS || x->n >= ADDR_ASKED) {
		x->skipped++; /* a hostile child must not make the round long */
		return true;
	}
	struct ns_addr *a = &x->a[x->n];
	memset(a, 0, sizeof(*a));
	a->ns = ns;
	if (rdlen == 4) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&a->sa;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(x->port);
		memcpy(&s4->sin_addr, rd, 4);
		a->salen = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a->sa;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(x->port);
		memcpy(&s6->sin6_addr, rd, 16);
		a->salen = sizeof(*s6);
	}
	x->n++;
	return true;
}

/* addr_add(), or BM_TEMP with why set when the list is full. */
static enum bm_result addr_take(struct addrs *x, const uint8_t *ns, const uint8_t *rd, size_t rdlen,
				char *why, size_t whylen)
{
	if (addr_add(x, ns, rd, rdlen))
		return BM_OK;
	ds_why(why, whylen, "unsigned: more than %d nameserver addresses", ADDR_MAX);
	return BM_TEMP;
}

/* The glue addresses (A and AAAA) of ns in the delegation d. */
static enum bm_result glue_addresses(const struct deleg *d, const uint8_t *ns, struct addrs *x,
				     char *why, size_t whylen)
{
	enum bm_result res = BM_OK;
	for (size_t j = 0; j < d->n && res == BM_OK; j++) {
		const struct drr *g = &d->rr[j];
		bool is_a = g->type == T_A && g->rdlen == 4;
		bool is_aaaa = g->type == T_AAAA && g->rdlen == 16;
		if ((is_a || is_aaaa) && dname_equal(g->owner, ns))
			res = addr_take(x, ns, g->rdata, g->rdlen, why, whylen);
	}
	return res;
}

/* The addresses the resolver gave for ns (nsname: its text) in the A or AAAA lookup l. */
static enum bm_result resolved_addresses(const struct bm_resolver *r, const struct lookup *l,
					 const uint8_t *ns, const char *nsname, struct addrs *x,
					 char *why, size_t whylen)
{
	char bogus[256], rc[16], trouble[128];
	const struct ub_result *ur = l->res;
	const char *t = l->type == T_A ? "A" : "AAAA";
	if (lookup_trouble(r, l, trouble, sizeof(trouble)) != NULL) {
		ds_why(why, whylen, "unsigned: %s %s: %s", nsname, t, trouble);
		return BM_TEMP;
	}
	if (ur->bogus) {
		ds_why(why, whylen, "unsigned: %s %s is bogus (%s)", nsname, t,
		       bogus_reason(ur, bogus, sizeof(bogus)));
		return BM_TEMP;
	}
	if (ur->rcode != 0 && ur->rcode != 3) {
		ds_why(why, whylen, "unsigned: %s %s: the resolver answered %s", nsname, t,
		       rr_rcode_str((unsigned)ur->rcode, rc, sizeof(rc)));
		return BM_TEMP;
	}
	enum bm_result res = BM_OK;
	size_t want = l->type == T_A ? 4 : 16;
	for (size_t j = 0; ur->havedata && ur->data[j] != NULL && res == BM_OK; j++)
		if ((size_t)ur->len[j] == want)
			res = addr_take(x, ns, (const uint8_t *)ur->data[j], want, why, whylen);
	return res;
}

/*
 * Send the A and AAAA lookups of the NS targets outside child's bailiwick
 * (two for each, in the order of ns); *l stays NULL when there are none.
 * BM_OK, or BM_TEMP with why set.
 */
static enum bm_result address_lookups(struct bm_resolver *r, const uint8_t *child,
				      const uint8_t **ns, size_t nns, struct lookup **lp,
				      size_t *nl, char *why, size_t whylen)
{
	char nsname[DNAME_STR_MAX];
	size_t nres = 0;
	*lp = NULL;
	*nl = 0;
	for (size_t i = 0; i < nns; i++)
		nres += !dname_is_sub(ns[i], child);
	if (nres == 0)
		return BM_OK;
	if (r == NULL) {
		size_t i = 0;
		while (dname_is_sub(ns[i], child))
			i++;
		ds_why(why, whylen, "unsigned: %s has no glue and no resolver is set",
		       dname_str(ns[i], nsname, sizeof(nsname)));
		return BM_TEMP;
	}
	struct lookup *l = calloc(2 * nres, sizeof(*l));
	if (l == NULL) {
		ds_why(why, whylen, "unsigned: out of memory");
		return BM_TEMP;
	}
	size_t k = 0;
	for (size_t i = 0; i < nns; i++) {
		if (dname_is_sub(ns[i], child))
			continue;
		dname_str(ns[i], l[k].name, sizeof(l[k].name));
		l[k++].type = T_A;
		dname_str(ns[i], l[k].name, sizeof(l[k].name));
		l[k++].type = T_AAAA;
	}
	lookups_run(r, l, k);
	*lp = l;
	*nl = k;
	return BM_OK;
}

/*
 * Addresses of the NS targets: glue from d in the child's bailiwick, A and
 * AAAA through the resolver otherwise, in that order (glue in the order of
 * d, the resolver's in the order it answers).  At most ADDR_PER_NS per NS
 * name and ADDR_ASKED in all are kept; x->skipped counts the others.  BM_OK,
 * or BM_TEMP with why set.
 */
static enum bm_result ns_addresses(struct bm_resolver *r, const uint8_t *child,
				   const struct deleg *d, const uint8_t **ns, size_t nns,
				   struct addrs *x, char *why, size_t whylen)
{
	char nsname[DNAME_STR_MAX];
	struct lookup *l;
	size_t nl, k = 0;
	x->n = 0;
	x->skipped = 0;
	enum bm_result res = address_lookups(r, child, ns, nns, &l, &nl, why, whylen);
	for (size_t i = 0; i < nns && res == BM_OK; i++) {
		size_t before = x->n + x->skipped;
		bool glue = dname_is_sub(ns[i], child);
		dname_str(ns[i], nsname, sizeof(nsname));
		if (glue)
			res = glue_addresses(d, ns[i], x, why, whylen);
		for (int f = 0; !glue && f < 2 && res == BM_OK; f++, k++)
			res = resolved_addresses(r, &l[k], ns[i], nsname, x, why, whylen);
		if (res != BM_OK || x->n + x->skipped != before)
			continue;
		if (glue)
			ds_why(why, whylen, "unsigned: no glue address for %s in the delegation",
			       nsname);
		else
			ds_why(why, whylen, "unsigned: %s has no address (A or AAAA)", nsname);
		res = BM_TEMP;
	}
	if (l != NULL) {
		lookups_free(l, nl);
		free(l);
	}
	return res;
}

/* A KEY RDATA set in canonical form: sorted, distinct, each as u16 length + octets. */
struct keyset {
	uint8_t *buf;
	size_t len;
	size_t n;
};

struct rdref {
	const uint8_t *p;
	uint16_t len;
};

static int rdref_cmp(const void *pa, const void *pb)
{
	const struct rdref *a = pa, *b = pb;
	size_t n = a->len < b->len ? a->len : b->len;
	int c = memcmp(a->p, b->p, n);
	if (c)
		return c;
	return a->len == b->len ? 0 : (a->len < b->len ? -1 : 1);
}

/* The answer section's KEY RRs of child, class IN; DS_OK or DS_ENOMEM. */
static int keyset_from_msg(const struct msg *m, const uint8_t *child, struct keyset *ks)
{
	size_t nan, k = 0;
	const struct msg_rr *an = msg_section(m, 1 /* answer */, &nan);
	struct rdref *refs = calloc(nan ? nan : 1, sizeof(*refs));
	memset(ks, 0, sizeof(*ks));
	if (refs == NULL)
		return DS_ENOMEM;
	size_t total = 0;
	for (size_t i = 0; i < nan; i++) {
		if (an[i].type != T_KEY || an[i].rclass != CLASS_IN ||
		    !dname_equal(msg_owner(m, &an[i]), child))
			continue;
		refs[k].p = msg_rdata(m, &an[i]);
		refs[k].len = an[i].crdlen;
		total += 2 + (size_t)refs[k].len;
		k++;
	}
	qsort(refs, k, sizeof(*refs), rdref_cmp);
	ks->buf = malloc(total ? total : 1);
	if (ks->buf == NULL) {
		free(refs);
		return DS_ENOMEM;
	}
	for (size_t i = 0; i < k; i++) {
		if (i > 0 && rdref_cmp(&refs[i - 1], &refs[i]) == 0)
			continue; /* a set: the same RR twice counts once */
		wr_u16(ks->buf + ks->len, refs[i].len);
		memcpy(ks->buf + ks->len + 2, refs[i].p, refs[i].len);
		ks->len += 2 + (size_t)refs[i].len;
		ks->n++;
	}
	free(refs);
	return DS_OK;
}

static bool keyset_holds(const struct keyset *ks, const uint8_t *rdata, size_t rdlen)
{
	for (size_t o = 0; o + 2 <= ks->len;) {
		size_t l = rd_u16(ks->buf + o);
		if (l == rdlen && memcmp(ks->buf + o + 2, rdata, rdlen) == 0)
			return true;
		o += 2 + l;
	}
	return false;
}

static bool keyset_equal(const struct keyset *a, const struct keyset *b)
{
	return a->len == b->len && memcmp(a->buf, b->buf, a->len) == 0;
}

/* " from 127.0.0.2" for an explicit source address, else "". */
static const char *from_str(const struct bm_vantage *v, char *out, size_t outlen)
{
	char src[INET6_ADDRSTRLEN] = "?";
	if (v->src.ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)&v->src)->sin_addr, src,
			  sizeof(src));
	else if (v->src.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&v->src)->sin6_addr, src,
			  sizeof(src));
	if (v->src.ss_family == AF_UNSPEC)
		ds_why(out, outlen, "%s", "");
	else
		ds_why(out, outlen, " from %s", src);
	return out;
}

/* "at ns2.example. 192.0.2.1#53", plus " from 127.0.0.2" for an explicit source. */
static void where_ns(const struct ns_addr *a, const struct bm_vantage *v, char *out, size_t outlen)
{
	char nsname[DNAME_STR_MAX], srv[DNSQ_ADDRSTR_MAX], from[INET6_ADDRSTRLEN + 8];
	ds_why(out, outlen, "at %s %s%s", dname_str(a->ns, nsname, sizeof(nsname)),
	       dnsq_addr_str((const struct sockaddr *)&a->sa, srv, sizeof(srv)),
	       from_str(v, from, sizeof(from)));
}

/* "via resolver 127.0.0.88#53", plus " from 127.0.0.2" for an explicit source. */
static void where_resolver(const struct sockaddr *sa, const struct bm_vantage *v, char *out,
			   size_t outlen)
{
	char srv[DNSQ_ADDRSTR_MAX], from[INET6_ADDRSTRLEN + 8];
	ds_why(out, outlen, "via resolver %s%s", dnsq_addr_str(sa, srv, sizeof(srv)),
	       from_str(v, from, sizeof(from)));
}

/* A resolver vantage point's address, port 0 made 53. */
static void resolver_addr(const struct bm_vantage *v, struct sockaddr_storage *out,
			  socklen_t *outlen)
{
	*out = v->resolver;
	*outlen = v->resolverlen;
	if (out->ss_family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)out;
		if (s4->sin_port == 0)
			s4->sin_port = htons(53);
	} else if (out->ss_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)out;
		if (s6->sin6_port == 0)
			s6->sin6_port = htons(53);
	}
}

/*
 * Ask server <child> KEY over TCP from v's source address: a nameserver
 * directly (RD=0, the answer must be authoritative) or, when via_resolver,
 * a recursive resolver (RD=1, RA must be set, AA is not looked at).  BM_OK
 * with *ks filled (the caller frees ks->buf), or BM_FAIL / BM_TEMP with
 * text set (without the method prefix).  where names the server
 * (where_ns, where_resolver).
 */
static enum bm_result ask_one(const uint8_t *child, const struct sockaddr *server,
			      socklen_t serverlen, const struct bm_vantage *v, bool via_resolver,
			      unsigned timeout_ms, struct msg *m, const uint8_t *rdata,
			      size_t rdlen, struct keyset *ks, const char *where, char *text,
			      size_t textlen)
{
	char cname[DNAME_STR_MAX], rc[16], qwhy[256];
	uint8_t *ans = NULL;
	size_t anslen = 0;
	enum bm_result res = BM_TEMP;
	unsigned flags = DNSQ_EDNS | (via_resolver ? DNSQ_RD : 0);

	memset(ks, 0, sizeof(*ks));
	dname_str(child, cname, sizeof(cname));
	int err = dnsq_tcp((const struct sockaddr *)&v->src, v->srclen, server, serverlen, child,
			   T_KEY, flags, timeout_ms, &ans, &anslen, qwhy, sizeof(qwhy));
	if (err != DS_OK) {
		/* qwhy starts with the server address, which where holds too */
		const char *p = strstr(qwhy, ": ");
		ds_why(text, textlen, "%s KEY %s: %s", cname, where, p ? p + 2 : qwhy);
		return BM_TEMP;
	}
	err = msg_parse(m, ans, anslen);
	unsigned rcode = (unsigned)(m->flags & 0xf) | (unsigned)m->edns_ext_rcode << 4;
	if (err != DS_OK) {
		ds_why(text, textlen, "%s KEY %s: malformed answer (%s)", cname, where, m->why);
	} else if (m->flags & MSG_TC) {
		ds_why(text, textlen, "%s KEY %s: truncated answer over TCP", cname, where);
	} else if (rcode != RC_NOERROR && rcode != RC_NXDOMAIN) {
		ds_why(text, textlen, "%s KEY %s: answered %s", cname, where,
		       rr_rcode_str((unsigned)(int)rcode, rc, sizeof(rc)));
	} else if (via_resolver && !(m->flags & MSG_RA)) {
		/* not a resolver for us: its answer (a referral, say) says
		 * nothing about the key; the setting is wrong, not the key */
		ds_why(text, textlen, "%s KEY %s: the server does not offer recursion (RA clear)",
		       cname, where);
	} else if (rcode == RC_NXDOMAIN) {
		ds_why(text, textlen, "%s KEY %s: NXDOMAIN", cname, where);
		res = BM_FAIL;
	} else if (!via_resolver && !(m->flags & MSG_AA)) {
		ds_why(text, textlen, "%s KEY %s: answer is not authoritative (AA clear)", cname,
		       where);
		res = BM_FAIL;
	} else if (keyset_from_msg(m, child, ks) != DS_OK) {
		ds_why(text, textlen, "%s KEY %s: out of memory", cname, where);
	} else if (ks->n == 0) {
		ds_why(text, textlen, "%s KEY %s: no KEY RRset (NODATA)", cname, where);
		res = BM_FAIL;
	} else if (!keyset_holds(ks, rdata, rdlen)) {
		ds_why(text, textlen, "%s KEY %s: the KEY RRset (%zu key%s) lacks the key", cname,
		       where, ks->n, ks->n == 1 ? "" : "s");
		res = BM_FAIL;
	} else {
		ds_why(text, textlen, "%s KEY %s: %zu key%s", cname, where, ks->n,
		       ks->n == 1 ? "" : "s");
		res = BM_OK;
	}
	if (res != BM_OK) {
		free(ks->buf);
		memset(ks, 0, sizeof(*ks));
	}
	msg_clear(m);
	free(ans);
	return res;
}

/* What one round asks, and what it has seen so far. */
struct round {
	const char *cname;
	struct keyset ref; /* the first set answered; all others must equal it */
	char ref_where[DETAIL_MAX];
	bool temp;
	char temp_text[DETAIL_MAX]; /* the first temporary failure */
	const uint8_t *child, *rdata;
	size_t rdlen;
	unsigned timeout_ms;
	struct msg *m; /* room to parse one answer in */
	size_t nq;     /* queries so far */
};

/*
 * Take one answer into the round (ks is consumed).  BM_FAIL with why set
 * when it decides the round, else BM_OK.
 */
static enum bm_result round_take(struct round *st, enum bm_result one, struct keyset *ks,
				 const char *where, const char *text, char *why, size_t whylen)
{
	if (one == BM_FAIL) {
		ds_why(why, whylen, "unsigned: %s", text);
		return BM_FAIL;
	}
	if (one == BM_TEMP) {
		if (!st->temp)
			snprintf(st->temp_text, sizeof(st->temp_text), "%s", text);
		st->temp = true;
		return BM_OK;
	}
	if (st->ref.buf == NULL) {
		st->ref = *ks;
		snprintf(st->ref_where, sizeof(st->ref_where), "%s", where);
		return BM_OK;
	}
	enum bm_result res = BM_OK;
	if (!keyset_equal(&st->ref, ks)) {
		ds_why(why, whylen,
		       "unsigned: %s KEY RRset %s (%zu key%s) differs from the one %s (%zu key%s)",
		       st->cname, where, ks->n, ks->n == 1 ? "" : "s", st->ref_where, st->ref.n,
		       st->ref.n == 1 ? "" : "s");
		res = BM_FAIL;
	}
	free(ks->buf);
	return res;
}

/*
 * Counts one more query of an unsigned round; false while the round's
 * queries x timeout_ms stay within ROUND_BUDGET_MS, else true with why set.
 */
static bool over_budget(size_t *nq, unsigned timeout_ms, char *why, size_t whylen)
{
	if ((uint64_t)(*nq + 1) * timeout_ms > ROUND_BUDGET_MS) {
		ds_why(why, whylen,
		       "unsigned: round stopped after %zu quer%s: one more at %u ms each would "
		       "exceed the round's budget of %u s",
		       *nq, *nq == 1 ? "y" : "ies", timeout_ms, ROUND_BUDGET_MS / 1000);
		return true;
	}
	(*nq)++;
	return false;
}

/* Ask one server within the round's budget, and take its answer into the round. */
static enum bm_result round_ask(struct round *st, const struct sockaddr *server,
				socklen_t serverlen, const struct bm_vantage *v, bool via_resolver,
				const char *where, char *why, size_t whylen)
{
	char text[DETAIL_MAX];
	struct keyset ks;
	if (over_budget(&st->nq, st->timeout_ms, why, whylen))
		return BM_TEMP;
	enum bm_result one = ask_one(st->child, server, serverlen, v, via_resolver, st->timeout_ms,
				     st->m, st->rdata, st->rdlen, &ks, where, text, sizeof(text));
	return round_take(st, one, &ks, where, text, why, whylen);
}

/* Ask one nameserver address from every source vantage point of its family. */
static enum bm_result ask_address(struct round *st, const struct ns_addr *a,
				  const struct bm_vantage *v, size_t nvantage, char *why,
				  size_t whylen)
{
	char where[DETAIL_MAX], nsname[DNAME_STR_MAX], srv[DNSQ_ADDRSTR_MAX];
	size_t asked = 0;
	enum bm_result res = BM_OK;
	for (size_t j = 0; j < nvantage && res == BM_OK; j++) {
		sa_family_t vf = v[j].src.ss_family;
		if (v[j].kind == BM_VANTAGE_RESOLVER)
			continue;
		if (vf != AF_UNSPEC && vf != a->sa.ss_family)
			continue; /* an IPv4 source cannot reach an IPv6 server */
		asked++;
		where_ns(a, &v[j], where, sizeof(where));
		res = round_ask(st, (const struct sockaddr *)&a->sa, a->salen, &v[j], false, where,
				why, whylen);
	}
	if (asked == 0) {
		if (!st->temp)
			ds_why(st->temp_text, sizeof(st->temp_text),
			       "no vantage point of the address family of %s %s",
			       dname_str(a->ns, nsname, sizeof(nsname)),
			       dnsq_addr_str((const struct sockaddr *)&a->sa, srv, sizeof(srv)));
		st->temp = true;
	}
	return res;
}

/* Ask each resolver vantage point once, compared with everything seen so far. */
static enum bm_result ask_resolvers(struct round *st, const struct bm_vantage *v, size_t nvantage,
				    char *why, size_t whylen)
{
	char where[DETAIL_MAX];
	enum bm_result res = BM_OK;
	for (size_t j = 0; j < nvantage && res == BM_OK; j++) {
		struct sockaddr_storage rs;
		socklen_t rslen;
		if (v[j].kind != BM_VANTAGE_RESOLVER)
			continue;
		resolver_addr(&v[j], &rs, &rslen);
		where_resolver((const struct sockaddr *)&rs, &v[j], where, sizeof(where));
		res = round_ask(st, (const struct sockaddr *)&rs, rslen, &v[j], true, where, why,
				whylen);
	}
	return res;
}

static const char *plural(size_t n, const char *many)
{
	return n == 1 ? "" : many;
}

/* The reason of a round in which every answer held the key. */
static void round_ok_text(const struct round *st, size_t na, size_t nns, size_t nsrc, size_t nvia,
			  char *why, size_t whylen)
{
	char via[64] = "";
	size_t nk = st->ref.n;
	if (nsrc == 0 && nvia == 1) {
		ds_why(why, whylen,
		       "unsigned: %s KEY RRset %s (%zu key%s) holds the key (the nameservers "
		       "themselves were not asked)",
		       st->cname, st->ref_where, nk, plural(nk, "s"));
		return;
	}
	if (nsrc == 0) {
		ds_why(why, whylen,
		       "unsigned: %zu resolvers answer the same KEY RRset of %s (%zu key%s) "
		       "holding the key (the nameservers themselves were not asked)",
		       nvia, st->cname, nk, plural(nk, "s"));
		return;
	}
	if (nvia > 0)
		ds_why(via, sizeof(via), " and through %zu resolver%s", nvia, plural(nvia, "s"));
	ds_why(why, whylen,
	       "unsigned: %zu address%s of %zu nameserver%s of %s answer the same KEY "
	       "RRset (%zu key%s) holding the key, from %zu vantage point%s%s",
	       na, plural(na, "es"), nns, plural(nns, "s"), st->cname, nk, plural(nk, "s"), nsrc,
	       plural(nsrc, "s"), via);
}

enum bm_result bm_unsigned_round(struct bm_resolver *r, const uint8_t *child, const struct deleg *d,
				 const uint8_t *rdata, size_t rdlen, const struct bm_vantage *v,
				 size_t nvantage, uint16_t port, unsigned timeout_ms, char *why,
				 size_t whylen)
{
	const uint8_t *ns[NS_MAX];
	char cname[DNAME_STR_MAX];
	struct round st = {.cname = cname,
			   .child = child,
			   .rdata = rdata,
			   .rdlen = rdlen,
			   .timeout_ms = timeout_ms};
	struct bm_vantage kernel = {.kind = BM_VANTAGE_SOURCE, .src.ss_family = AF_UNSPEC};
	struct addrs x = {.port = port};
	size_t nvia = 0;

	ds_why(why, whylen, "%s", "");
	dname_str(child, cname, sizeof(cname));
	if (nvantage == 0) {
		v = &kernel;
		nvantage = 1;
	}
	for (size_t j = 0; j < nvantage; j++)
		nvia += v[j].kind == BM_VANTAGE_RESOLVER;
	size_t nsrc = nvantage - nvia;
	size_t nns = ns_targets(child, d, ns);
	if (nns == 0) {
		ds_why(why, whylen, "unsigned: the delegation of %s has no NS records", cname);
		return BM_TEMP;
	}
	x.a = calloc(ADDR_MAX, sizeof(*x.a));
	st.m = calloc(1, sizeof(*st.m));
	if (x.a == NULL || st.m == NULL) {
		free(x.a);
		free(st.m);
		ds_why(why, whylen, "unsigned: out of memory");
		return BM_TEMP;
	}
	enum bm_result res = BM_OK;
	/* only resolvers: the nameservers are not asked, so not looked up either */
	if (nsrc > 0)
		res = ns_addresses(r, child, d, ns, nns, &x, why, whylen);
	/* every address from every source vantage point; the first "fail" decides */
	for (size_t i = 0; i < x.n && res == BM_OK; i++)
		res = ask_address(&st, &x.a[i], v, nvantage, why, whylen);
	if (res == BM_OK)
		res = ask_resolvers(&st, v, nvantage, why, whylen);
	if (res == BM_OK && st.temp) {
		ds_why(why, whylen, "unsigned: %s", st.temp_text);
		res = BM_TEMP;
	} else if (res == BM_OK) {
		round_ok_text(&st, x.n, nns, nsrc, nvia, why, whylen);
	}
	if (x.skipped > 0) {
		size_t wl = strnlen(why, whylen);
		if (wl < whylen)
			ds_why(why + wl, whylen - wl, " (%zu more address%s not asked)", x.skipped,
			       plural(x.skipped, "es"));
	}
	free(st.ref.buf);
	free(x.a);
	free(st.m);
	return res;
}

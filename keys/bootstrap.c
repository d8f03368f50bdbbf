/*
 * keys/bootstrap.c -- the scheduler of automatic key validations.
 *
 * A self-signed upload in a zone with automatic methods leaves the key
 * validating and a row in the store's validation table, due at once (both
 * in the upload's commit).  This thread takes due rows one by one, runs the
 * zone's methods in the configured order (keystate/methods.h) off the
 * request path, and writes the outcome in one transaction:
 *   - a method proves the key: trusted (superseding the child's other
 *     keys, D8);
 *   - unsigned found a consistent round but needs more: the next round is
 *     due after bootstrap.unsigned-interval;
 *   - no automatic method applies to the child: the key waits for the
 *     operator (known) when the zone offers manual, else validation-failed;
 *   - otherwise the attempt failed: retried with exponential backoff from
 *     bootstrap.retry-interval to bootstrap.retry-max-interval, and after
 *     bootstrap.attempts attempts the key is validation-failed.
 * Everything it needs to resume is in the store, so a restart loses no
 * validation: due rows simply run when the daemon is back.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/dname.h"
#include "common/err.h"
#include "common/log.h"
#include "common/dnsq.h"
#include "keystate/methods.h"
#include "keys/bootstrap.h"

#define BOOT_BATCH 8	   /* due rows taken per store read */
#define BOOT_POLL 60	   /* seconds between looks at the store when idle */
#define BOOT_LEASE_RETRY 5 /* seconds between looks at another node's lease */
#define BOOT_REASON 480	   /* room for the reasons of one attempt */

/*
 * The next whole second of the real-time clock.  Validations are scheduled
 * in whole seconds (next_at is stored, and must mean the same after a
 * restart); counting an interval from the next whole second after an
 * attempt ends means it is never shorter than configured, and at most a
 * second longer.
 */
static int64_t ceil_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec + (ts.tv_nsec > 0);
}

struct bootstrap {
	struct keycache *keys;	   /* keys that change go in at once */
	struct boot_counters *ctr; /* for /metrics */
	const struct cfg *cfg;
	struct store *s;
	struct bm_resolver *res;
	struct bm_vantage vantage[17]; /* 16 configured + the implicit source */
	size_t nvantage;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool kicked, stop, started;
};

/* What one attempt found. */
enum outcome {
	OUT_TRUSTED,  /* a method proved the key */
	OUT_PROGRESS, /* unsigned: a consistent round, more to come */
	OUT_MANUAL,   /* no automatic method applies */
	OUT_FAILED,   /* evidence against, or nothing learnt */
};

/* why without its "method: " prefix (the methods start their reasons so) */
static const char *bare(const char *method, const char *why)
{
	size_t m = strlen(method);
	if (strncmp(why, method, m) == 0 && why[m] == ':' && why[m + 1] == ' ')
		return why + m + 2;
	return why;
}

/* Add "method: why" to the reasons of an attempt, "; "-separated. */
static void append(char *buf, size_t len, const char *method, const char *why)
{
	size_t n = strlen(buf);
	if (n + 3 < len)
		ds_why(buf + n, len - n, "%s%s: %s", n ? "; " : "", method, bare(method, why));
}

/* Note that the attempt ran method (v->methods: "at-apex,unsigned"). */
static void method_note(struct store_validation *v, const char *method)
{
	size_t n = strlen(v->methods);
	if (n + strlen(method) + 2 <= sizeof(v->methods))
		snprintf(v->methods + n, sizeof(v->methods) - n, "%s%s", n ? "," : "", method);
}

/*
 * Run the zone's automatic methods on key k.  The at-apex lookup also tells
 * whether the child zone is unsigned (insecure), which is where the unsigned
 * method applies: a signed or bogus child must prove its key with DNSSEC.
 */
static enum outcome attempt(struct bootstrap *b, const struct cfg_zone *z,
			    const struct store_key *k, const struct deleg *d,
			    struct store_validation *v, const char **method, char *why,
			    size_t whylen)
{
	const struct cfg *c = b->cfg;
	char one[BOOT_REASON];
	enum bm_result apex = BM_TEMP;
	bool apex_done = false, any_fail = false, progress = false;
	why[0] = '\0';
	v->methods[0] = '\0';
	if (bm_resolver_flush(b->res, one, sizeof(one)) != DS_OK) {
		append(why, whylen, "resolver", one);
		return OUT_FAILED;
	}
	for (unsigned i = 0; i < z->nboot_order; i++) {
		unsigned m = z->boot_order[i];
		enum bm_result res;
		one[0] = '\0';
		if (m == BOOT_MANUAL)
			continue;
		if ((m == BOOT_AT_APEX || m == BOOT_UNSIGNED) && !apex_done) {
			apex = bm_at_apex(b->res, k->owner, k->rdata, k->rdlen, one, sizeof(one));
			apex_done = true;
		}
		if (m == BOOT_AT_APEX) {
			res = apex;
		} else if (m == BOOT_AT_NS) {
			res = bm_at_ns(b->res, k->owner, d, k->rdata, k->rdlen, c->boot.at_ns_all,
				       one, sizeof(one));
		} else if (apex == BM_NA) {
			res = bm_unsigned_round(b->res, k->owner, d, k->rdata, k->rdlen, b->vantage,
						b->nvantage, c->boot.ns_port,
						c->boot.query_timeout * 1000, one, sizeof(one));
		} else if (apex == BM_TEMP) {
			res = BM_TEMP; /* cannot tell yet whether the child is unsigned */
			ds_why(one, sizeof(one), "%s",
			       "the child's DNSSEC status is not known yet");
		} else {
			res = BM_NA;
			ds_why(one, sizeof(one), "%s",
			       "the child zone is signed: its key must validate (at-apex)");
		}
		bootstrap_count_run(b->ctr, m, res);
		const char *name = cfg_boot_method_str(m);
		method_note(v, name);
		if (res == BM_OK && m == BOOT_UNSIGNED) {
			v->rounds++;
			if (v->rounds < c->boot.rounds) {
				char p[BOOT_REASON];
				ds_why(p, sizeof(p), "round %u of %u consistent (%s)", v->rounds,
				       c->boot.rounds, bare(name, one));
				append(why, whylen, name, p);
				progress = true;
				continue;
			}
			ds_why(one, sizeof(one), "%u consistent rounds", v->rounds);
		}
		if (res == BM_OK) {
			*method = name;
			why[0] = '\0';
			append(why, whylen, name, one);
			return OUT_TRUSTED;
		}
		if (res == BM_FAIL && m == BOOT_UNSIGNED)
			v->rounds = 0; /* consistency over time starts again */
		any_fail |= res != BM_NA;
		append(why, whylen, name, one);
	}
	if (progress)
		return OUT_PROGRESS;
	return any_fail ? OUT_FAILED : OUT_MANUAL;
}

static int64_t backoff(const struct cfg *c, unsigned attempts)
{
	int64_t d = c->boot.retry_interval;
	for (unsigned i = 1; i < attempts && d < c->boot.retry_max_interval; i++)
		d *= 2;
	return d < c->boot.retry_max_interval ? d : c->boot.retry_max_interval;
}

/* No key transition: record() only writes the validation row. */
#define NO_EVENT ((enum ks_event) - 1)

/* Write what an attempt decided, in one transaction: the validation row and,
 * unless ev is NO_EVENT, the key's transition; keys changed go to the key
 * cache after the commit. */
static int record(struct bootstrap *b, struct store_validation *v, int64_t key_id, enum ks_event ev,
		  const char *method, const char *why)
{
	struct keyrows changed = {0};
	struct store_key *k = malloc(sizeof(*k));
	int rc = k ? store_begin(b->s) : DS_ENOMEM;
	if (rc == DS_OK)
		rc = store_key_get(b->s, key_id, k);
	/* the key may have moved on meanwhile (operator, rollover, upload) */
	if (rc == DS_OK && k->state != KEY_VALIDATING) {
		v->next_at = -1;
		ev = NO_EVENT;
	}
	if (rc == DS_OK && ev != NO_EVENT)
		rc = key_transition(b->s, k, ev, method, "bootstrap", why, &changed);
	if (rc == DS_OK)
		rc = store_validation_update(b->s, v);
	if (rc == DS_OK)
		rc = store_commit(b->s);
	if (rc != DS_OK) {
		store_rollback(b->s);
		log_err("bootstrap: key %lld: store error, the attempt will run again: %s",
			(long long)key_id, ds_strerror(rc));
	} else {
		/* the cache keeps the last result too: KeyState answers carry it */
		for (size_t i = 0; i < changed.n; i++) {
			if (changed.k[i].id == key_id)
				ds_why(changed.k[i].validation, sizeof(k->validation), "%s",
				       v->last_result);
			keycache_put(b->keys, &changed.k[i], &b->cfg->limits);
		}
		if (changed.n == 0) {
			ds_why(k->validation, sizeof(k->validation), "%s", v->last_result);
			keycache_put(b->keys, k, &b->cfg->limits);
		}
	}
	free(changed.k);
	free(k);
	return rc;
}

/*
 * A key that is no longer validating, or a zone that no longer offers an
 * automatic method (the configuration changed since the upload), ends its
 * validation here: false, with that recorded.
 */
static bool still_due(struct bootstrap *b, struct store_validation *v, const struct store_key *k,
		      const struct cfg_zone *z)
{
	if (k->state != KEY_VALIDATING) {
		v->next_at = -1;
		ds_why(v->last_result, sizeof(v->last_result), "stopped: the key is %s",
		       store_key_state_str(k->state));
		record(b, v, k->id, NO_EVENT, NULL, v->last_result);
		return false;
	}
	if (z != NULL && (z->boot_methods & BOOT_AUTOMATIC) != 0)
		return true;
	v->next_at = -1;
	ds_why(v->last_result, sizeof(v->last_result), "%s",
	       "the zone no longer offers an automatic bootstrap method");
	record(b, v, k->id,
	       z && (z->boot_methods & BOOT_MANUAL) ? KS_EV_AWAIT_OPERATOR : KS_EV_VALIDATION_FAIL,
	       NULL, v->last_result);
	return false;
}

/* No method applies: the operator decides (manual offered) or it failed. */
static void settle_manual(struct bootstrap *b, struct store_validation *v,
			  const struct store_key *k, const struct cfg_zone *z, const char *child,
			  const char *why)
{
	bool manual = (z->boot_methods & BOOT_MANUAL) != 0;
	v->next_at = -1;
	if (manual)
		ds_why(v->last_result, sizeof(v->last_result),
		       "no automatic method applies (%s); waiting for the operator", why);
	else
		ds_why(v->last_result, sizeof(v->last_result), "no bootstrap method applies: %s",
		       why);
	if (record(b, v, k->id, manual ? KS_EV_AWAIT_OPERATOR : KS_EV_VALIDATION_FAIL, NULL,
		   v->last_result) != DS_OK)
		return;
	if (!manual)
		atomic_fetch_add(&b->ctr->failed, 1);
	log_notice("bootstrap: %s key %u: %s", child, k->tag, v->last_result);
}

/* A failed attempt: retried with backoff until bootstrap.attempts. */
static void settle_failed(struct bootstrap *b, struct store_validation *v,
			  const struct store_key *k, const char *child, const char *why)
{
	const struct cfg *c = b->cfg;
	v->attempts++;
	if (v->attempts < c->boot.attempts) {
		int64_t wait = backoff(c, v->attempts);
		v->next_at = ceil_now() + wait;
		if (record(b, v, k->id, NO_EVENT, NULL, why) == DS_OK)
			log_info("bootstrap: %s key %u attempt %u of %u: %s; retry in %lld s",
				 child, k->tag, v->attempts, c->boot.attempts, why,
				 (long long)wait);
		return;
	}
	v->next_at = -1;
	ds_why(v->last_result, sizeof(v->last_result), "failed after %u attempt(s): %s",
	       v->attempts, why);
	if (record(b, v, k->id, KS_EV_VALIDATION_FAIL, NULL, v->last_result) == DS_OK) {
		atomic_fetch_add(&b->ctr->failed, 1);
		log_notice("bootstrap: %s key %u validation failed: %s", child, k->tag,
			   v->last_result);
	}
}

/* One attempt at validating k, and what it settles. */
static void validate(struct bootstrap *b, struct store_validation *v, const struct store_key *k,
		     const struct cfg_zone *z, const struct deleg *d)
{
	const struct cfg *c = b->cfg;
	char why[BOOT_REASON], child[DNAME_STR_MAX];
	const char *method = NULL;
	dname_to_str(k->owner, child, sizeof(child));
	atomic_fetch_add(&b->ctr->attempts, 1);
	enum outcome o = attempt(b, z, k, d, v, &method, why, sizeof(why));
	ds_why(v->last_result, sizeof(v->last_result), "%s", why);
	switch (o) {
	case OUT_TRUSTED:
		v->next_at = -1;
		if (record(b, v, k->id, KS_EV_VALIDATION_OK, method, why) == DS_OK) {
			atomic_fetch_add(&b->ctr->trusted, 1);
			log_notice("bootstrap: %s key %u trusted (%s)", child, k->tag, why);
		}
		break;
	case OUT_PROGRESS:
		v->next_at = ceil_now() + c->boot.round_interval;
		if (record(b, v, k->id, NO_EVENT, NULL, why) == DS_OK)
			log_info("bootstrap: %s key %u: %s; next round in %u s", child, k->tag, why,
				 c->boot.round_interval);
		break;
	case OUT_MANUAL:
		settle_manual(b, v, k, z, child, why);
		break;
	case OUT_FAILED:
		settle_failed(b, v, k, child, why);
		break;
	}
}

static void run_one(struct bootstrap *b, struct store_validation *v)
{
	struct store_key *k = malloc(sizeof(*k));
	struct deleg *d = malloc(sizeof(*d));
	int rc = k && d ? store_key_get(b->s, v->key_id, k) : DS_ENOMEM;
	bool gone = rc == DS_ENOENT; /* the row went with its key */
	if (rc == DS_OK)
		rc = store_deleg_load(b->s, k->child_id, d);
	if (rc == DS_OK) {
		v->updated = (int64_t)time(NULL);
		const struct cfg_zone *z = cfg_zone_find(b->cfg, k->zone);
		if (still_due(b, v, k, z))
			validate(b, v, k, z, d);
	} else if (!gone) {
		log_err("bootstrap: key %lld: store error: %s", (long long)v->key_id,
			ds_strerror(rc));
		v->next_at = ceil_now() + b->cfg->boot.retry_interval;
		store_validation_update(b->s, v);
	}
	free(k);
	free(d);
}

/*
 * On a shared store one node runs the validations at a time: the one
 * holding the "bootstrap" lease, renewed before each validation.  A node
 * that dies holding it loses it after store.lease-time; another node's
 * scheduler, which looks every BOOT_LEASE_RETRY seconds, then carries on.
 * The holder looks at least three times per lease time, renewing it.
 */
static bool boot_lease(struct bootstrap *b)
{
	int64_t now = (int64_t)time(NULL);

	return !store_shared(b->s) || store_lease_take(b->s, "bootstrap", store_node_name(), now,
						       now + (int64_t)b->cfg->lease_time) == DS_OK;
}

static void *bootstrap_main(void *arg)
{
	struct bootstrap *b = arg;
	struct store_validation *due = calloc(BOOT_BATCH, sizeof(*due));
	pthread_mutex_lock(&b->mu);
	while (due != NULL && !b->stop) {
		b->kicked = false;
		pthread_mutex_unlock(&b->mu);
		size_t n = 0;
		int64_t now = (int64_t)time(NULL);
		bool held = boot_lease(b);
		if (!held || store_validation_due(b->s, now, BOOT_BATCH, due, &n) != DS_OK)
			n = 0;
		for (size_t i = 0; i < n; i++) {
			pthread_mutex_lock(&b->mu);
			bool stop = b->stop;
			pthread_mutex_unlock(&b->mu);
			if (stop || (i > 0 && !boot_lease(b)))
				break;
			run_one(b, &due[i]);
		}
		int64_t when, wait = BOOT_POLL;
		now = (int64_t)time(NULL);
		if (!held) /* another node validates: look again for its lease */
			wait = BOOT_LEASE_RETRY;
		else if (n == BOOT_BATCH)
			wait = 0;
		else if (store_validation_next_time(b->s, &when) == DS_OK && when - now < wait)
			wait = when - now;
		/* the holder renews in time, and sees what other nodes queued */
		if (held && store_shared(b->s) && wait > (int64_t)b->cfg->lease_time / 3)
			wait = (int64_t)b->cfg->lease_time / 3;
		pthread_mutex_lock(&b->mu);
		if (wait > 0 && !b->kicked && !b->stop) {
			/* until the due second itself, not wait seconds from now */
			struct timespec ts = {.tv_sec = (time_t)(now + wait), .tv_nsec = 0};
			pthread_cond_timedwait(&b->cv, &b->mu, &ts);
		}
	}
	pthread_mutex_unlock(&b->mu);
	free(due);
	return NULL;
}

struct resumed {
	struct store *s;
	size_t n;
};

static int audit_one_resumed(void *arg, const struct store_validation *v)
{
	struct resumed *c = arg;
	struct store_key k;
	char why[600];
	if (store_key_get(c->s, v->key_id, &k) != DS_OK || k.state != KEY_VALIDATING)
		return DS_OK; /* the scheduler ends such a row itself */
	ds_why(why, sizeof(why),
	       "restart: validation resumes (%u failed attempt(s), %u round(s) done)%s%s",
	       v->attempts, v->rounds, v->last_result[0] ? "; last: " : "", v->last_result);
	int rc = key_audit(c->s, &k, "bootstrap", "validating", why);
	if (rc == DS_OK)
		c->n++;
	return rc;
}

/* KS_EV_RESTART for every key whose validation was interrupted: one audit
 * row each, so the trail shows where the daemon picked it up again. */
static int audit_resumed(struct bootstrap *b, size_t *n)
{
	struct resumed c = {.s = b->s};
	int rc = store_begin(b->s);
	if (rc == DS_OK)
		rc = store_validations_page(b->s, 0, 0, SIZE_MAX, audit_one_resumed, &c);
	if (rc == DS_OK)
		rc = store_commit(b->s);
	else
		store_rollback(b->s);
	*n = c.n;
	return rc;
}

/* bootstrap.unsigned-vantage (source addresses) and -resolvers, as the
 * methods take them; both checked by the configuration already. */
static int vantage_parse(struct bootstrap *b)
{
	const struct cfg *c = b->cfg;
	/* with resolvers only, the nameservers are still asked directly, from
	 * the kernel's source address (a zeroed vantage point) */
	if (c->boot.nvantage == 0 && c->boot.nresolvers > 0)
		memset(&b->vantage[b->nvantage++], 0, sizeof(b->vantage[0]));
	for (size_t i = 0; i < c->boot.nvantage + c->boot.nresolvers && i < 16; i++) {
		struct bm_vantage *v = &b->vantage[b->nvantage];
		memset(v, 0, sizeof(*v));
		if (i < c->boot.nvantage) {
			if (dnsq_addr_from_str(c->boot.vantage[i], 0, &v->src, &v->srclen) != DS_OK)
				return DS_ECONFIG;
		} else {
			v->kind = BM_VANTAGE_RESOLVER;
			if (dnsq_addr_from_str(c->boot.resolvers[i - c->boot.nvantage], 53,
					       &v->resolver, &v->resolverlen) != DS_OK)
				return DS_ECONFIG;
		}
		b->nvantage++;
	}
	return DS_OK;
}

void bootstrap_count_run(struct boot_counters *c, unsigned method, int result)
{
	for (unsigned i = 0; i < BOOT_NMETHODS; i++)
		if (method == 1u << i && result >= 0 && result < BOOT_NRESULTS)
			atomic_fetch_add_explicit(&c->runs[i][result], 1, memory_order_relaxed);
}

int bootstrap_new(const struct cfg *c, struct keycache *keys, struct boot_counters *ctr,
		  struct bootstrap **out)
{
	bool automatic = false;
	*out = NULL;
	for (size_t i = 0; i < c->nzones; i++)
		automatic |= (c->zones[i].boot_methods & BOOT_AUTOMATIC) != 0;
	if (!automatic)
		return DS_OK;

	struct bootstrap *b = calloc(1, sizeof(*b));
	if (b == NULL)
		return DS_ENOMEM;
	b->keys = keys;
	b->ctr = ctr;
	b->cfg = c;
	pthread_mutex_init(&b->mu, NULL);
	pthread_cond_init(&b->cv, NULL);
	char why[512] = "";
	struct bm_resolver_cfg rc_ = {
	    .trust_anchor_file = c->resolver.ta_file,
	    .root_hints = c->resolver.root_hints,
	    .config_file = c->resolver.config_file,
	    .forward = c->resolver.forward,
	    .nforward = c->resolver.nforward,
	    .timeout_ms = c->resolver.timeout * 1000,
	};
	int rc = vantage_parse(b);
	if (rc == DS_OK)
		rc = store_open(c->store_spec, &b->s);
	if (rc == DS_OK) {
		rc = bm_resolver_new(&rc_, &b->res, why, sizeof(why));
		if (rc != DS_OK)
			log_err("bootstrap: resolver: %s", why);
	}
	if (rc != DS_OK) {
		bootstrap_stop(b);
		return rc;
	}
	*out = b;
	return DS_OK;
}

int bootstrap_run(struct bootstrap *b, bool resumed)
{
	size_t n = 0;
	if (b == NULL)
		return DS_OK;
	int rc = resumed ? audit_resumed(b, &n) : DS_OK;
	if (rc == DS_OK && pthread_create(&b->thread, NULL, bootstrap_main, b) != 0)
		rc = DS_ENOMEM;
	if (rc != DS_OK)
		return rc;
	b->started = true;
	if (n)
		log_notice("bootstrap: resuming %zu pending validation(s)", n);
	return DS_OK;
}

int bootstrap_start(const struct cfg *c, struct keycache *keys, struct boot_counters *ctr,
		    struct bootstrap **out)
{
	int rc = bootstrap_new(c, keys, ctr, out);
	if (rc == DS_OK)
		rc = bootstrap_run(*out, true);
	if (rc != DS_OK) {
		bootstrap_stop(*out);
		*out = NULL;
	}
	return rc;
}

/* Set one of b's flags and wake its thread. */
static void signal_flag(struct bootstrap *b, bool *flag)
{
	pthread_mutex_lock(&b->mu);
	*flag = true;
	pthread_cond_signal(&b->cv);
	pthread_mutex_unlock(&b->mu);
}

void bootstrap_kick(struct bootstrap *b)
{
	if (b != NULL)
		signal_flag(b, &b->kicked);
}

void bootstrap_ask_stop(struct bootstrap *b)
{
	if (b != NULL && b->started)
		signal_flag(b, &b->stop);
}

void bootstrap_stop(struct bootstrap *b)
{
	if (b == NULL)
		return;
	if (b->started) {
		bootstrap_ask_stop(b);
		pthread_join(b->thread, NULL);
	}
	bm_resolver_free(b->res);
	store_close(b->s);
	pthread_mutex_destroy(&b->mu);
	pthread_cond_destroy(&b->cv);
	free(b);
}

/*
 * receiver/metrics.c -- the counters behind GET /metrics and their
 * rendering in the Prometheus text format 0.0.4 (doc/api.md).
 *
 * The request path only adds to atomics in struct counters (relaxed: each
 * counter is read on its own, nothing is ordered by them).  Labelled
 * counters are fixed arrays indexed through the tables below, so counting
 * never allocates or locks.  Rendering reads the atomics one by one; a
 * scrape may see one counter already bumped and a related one not yet,
 * which Prometheus tolerates, but no counter ever goes down.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/dname.h"
#include "common/err.h"
#include "common/vec.h"
#include "common/version.h"
#include "keystate/methods.h"
#include "receiver/internal.h"

/* ---- label tables ---- */

/* RCODE names by index; rcode_index() maps the numbers */
static const char *const rcodes[MX_RCODES] = {
    "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET",
    "NXRRSET", "NOTAUTH", "NOTZONE",  "BADVERS",  "BADKEY", "BADTIME", "other",
};

/* enum bm_result, in the order they are written */
static const int outcomes[BOOT_NRESULTS] = {BM_OK, BM_FAIL, BM_TEMP, BM_NA};

/* histogram upper bounds: nanoseconds for counting, text for the "le" label */
static const struct {
	uint64_t ns;
	const char *le;
} buckets[MX_BUCKETS - 1] = {
    {500000, "0.0005"},	 {1000000, "0.001"},  {2500000, "0.0025"}, {5000000, "0.005"},
    {10000000, "0.01"},	 {25000000, "0.025"}, {50000000, "0.05"},  {100000000, "0.1"},
    {250000000, "0.25"}, {500000000, "0.5"},  {1000000000, "1"},   {2500000000, "2.5"},
    {5000000000, "5"},
};

static size_t rcode_index(int rcode)
{
	if (rcode >= RC_NOERROR && rcode <= RC_NOTZONE)
		return (size_t)rcode;
	switch (rcode) {
	case RC_BADVERS:
		return 11;
	case RC_BADKEY:
		return 12;
	case RC_BADTIME:
		return 13;
	default:
		return MX_RCODES - 1;
	}
}

static void bump(atomic_ulong *a)
{
	atomic_fetch_add_explicit(a, 1, memory_order_relaxed);
}

static unsigned long get(atomic_ulong *a)
{
	return atomic_load_explicit(a, memory_order_relaxed);
}

void metrics_count_decision(struct counters *c, enum result result, int rcode)
{
	bump(&c->requests[result_label(result)][rcode_index(rcode)]);
	if ((unsigned)result < RES_N)
		bump(&c->results[result]);
}

void metrics_observe_ns(struct counters *c, uint64_t ns)
{
	size_t b = 0;
	while (b < MX_BUCKETS - 1 && ns > buckets[b].ns)
		b++;
	bump(&c->duration[b]);
	atomic_fetch_add_explicit(&c->duration_ns, ns, memory_order_relaxed);
}

void metrics_observe_request(struct counters *c, const struct timespec *t_recv)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	int64_t ns = ((int64_t)now.tv_sec - (int64_t)t_recv->tv_sec) * 1000000000 +
		     ((int64_t)now.tv_nsec - (int64_t)t_recv->tv_nsec);
	/* the wall clock may have been set back meanwhile */
	metrics_observe_ns(c, ns > 0 ? (uint64_t)ns : 0);
}

/* ---- rendering ---- */

/* A label value: backslash, double quote and newline escaped (text format 0.0.4). */
static void put_label(FILE *out, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(out, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", out);
		else
			fputc(*v, out);
	}
}

static void family(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void simple(FILE *out, const char *name, const char *type, const char *help,
		   unsigned long long v)
{
	family(out, name, type, help);
	fprintf(out, "%s %llu\n", name, v);
}

struct deliveries {
	FILE *out;
	char zone[DNAME_STR_MAX];
};

static void put_delivery(void *arg, const struct cfg_zone *zone, const char *backend,
			 unsigned long ok, unsigned long fail)
{
	struct deliveries *d = arg;
	if (dname_to_str(zone->name, d->zone, sizeof(d->zone)) != DS_OK)
		d->zone[0] = '\0';
	for (int i = 0; i < 2; i++) {
		fputs("dsyncd_backend_deliveries_total{zone=\"", d->out);
		put_label(d->out, d->zone);
		fputs("\",backend=\"", d->out);
		put_label(d->out, backend);
		fprintf(d->out, "\",outcome=\"%s\"} %lu\n", i == 0 ? "ok" : "fail",
			i == 0 ? ok : fail);
	}
}

/* The delivery status of every configured (zone, backend), read first. */
struct lanes {
	struct lane_row {
		const struct cfg_zone *zone;
		const char *backend;
		struct delivery_status st;
	} * v;
	size_t n, cap;
};

static int lane_add(void *arg, const struct cfg_zone *zone, const struct cfg_backend *b,
		    const struct delivery_status *st)
{
	struct lanes *l = arg;
	struct lane_row *nv = vec_grow(l->v, &l->cap, l->n + 1, sizeof(*nv), 8);
	if (nv == NULL)
		return DS_ENOMEM;
	l->v = nv;
	l->v[l->n++] = (struct lane_row){.zone = zone, .backend = b->name, .st = *st};
	return DS_OK;
}

/* One series of each (zone, backend): value(row) as a whole number. */
static void put_lanes(FILE *out, const char *name, const struct lanes *l, int64_t now,
		      int64_t (*value)(const struct delivery_status *st, int64_t now))
{
	char zone[DNAME_STR_MAX];
	for (size_t i = 0; i < l->n; i++) {
		if (dname_to_str(l->v[i].zone->name, zone, sizeof(zone)) != DS_OK)
			zone[0] = '\0';
		fprintf(out, "%s{zone=\"", name);
		put_label(out, zone);
		fputs("\",backend=\"", out);
		put_label(out, l->v[i].backend);
		fprintf(out, "\"} %" PRId64 "\n", value(&l->v[i].st, now));
	}
}

static int64_t lane_pending(const struct delivery_status *st, int64_t now)
{
	(void)now;
	return st->pending;
}

static int64_t lane_lag(const struct delivery_status *st, int64_t now)
{
	return st->pending > 0 && now > st->oldest_created ? now - st->oldest_created : 0;
}

static int64_t lane_success(const struct delivery_status *st, int64_t now)
{
	(void)now;
	return st->last_success > 0 ? st->last_success : 0;
}

/* Where each (zone, backend) stands: pending, lag, last success. */
static void render_lanes(FILE *out, const struct lanes *l)
{
	int64_t now = (int64_t)time(NULL);
	family(out, "dsyncd_delivery_pending", "gauge",
	       "Deliveries not done yet, by zone and backend.");
	put_lanes(out, "dsyncd_delivery_pending", l, now, lane_pending);
	family(out, "dsyncd_delivery_lag_seconds", "gauge",
	       "Age of the oldest change not yet delivered, by zone and backend (0: none).");
	put_lanes(out, "dsyncd_delivery_lag_seconds", l, now, lane_lag);
	family(out, "dsyncd_delivery_last_success_timestamp_seconds", "gauge",
	       "When the last delivery succeeded, by zone and backend (0: never).");
	put_lanes(out, "dsyncd_delivery_last_success_timestamp_seconds", l, now, lane_success);
}

static size_t queue_depth(struct jobq *q)
{
	pthread_mutex_lock(&q->mu);
	size_t n = q->n;
	pthread_mutex_unlock(&q->mu);
	return n;
}

/* Decisions, signature verifications, inquiries. */
static void render_requests(FILE *out, struct counters *c)
{
	family(out, "dsyncd_requests_total", "counter",
	       "Requests answered, by decision result and RCODE.");
	for (size_t i = 0; i < MX_RESULTS; i++)
		for (size_t k = 0; k < MX_RCODES; k++) {
			unsigned long v = get(&c->requests[i][k]);
			if (v != 0)
				fprintf(out,
					"dsyncd_requests_total{result=\"%s\",rcode=\"%s\"} %lu\n",
					result_label_str((enum result_label)i), rcodes[k], v);
		}
	family(out, "dsyncd_sig0_verifications_total", "counter",
	       "SIG(0) signature verifications (crypto operations), by outcome.");
	/* a message verifies with at most one signature: the rest failed */
	unsigned long ver = get(&c->verifications), ok = get(&c->verify_ok);
	fprintf(out, "dsyncd_sig0_verifications_total{outcome=\"ok\"} %lu\n", ok);
	fprintf(out, "dsyncd_sig0_verifications_total{outcome=\"fail\"} %lu\n",
		ver > ok ? ver - ok : 0);
	simple(out, "dsyncd_keystate_inquiries_total", "counter",
	       "KeyState inquiries answered (any result).", get(&c->inquiries));
	/* every result, 0 included, so that rate() sees a series from the start */
	family(out, "dsyncd_decisions_total", "counter",
	       "Requests answered, by the detailed result of the decision.");
	for (int i = 0; i < RES_N; i++)
		fprintf(out, "dsyncd_decisions_total{result=\"%s\"} %lu\n",
			result_detail((enum result)i), get(&c->results[i]));
	simple(out, "dsyncd_verify_budget_exhausted_total", "counter",
	       "Requests refused because sig0.verify-budget was spent for this second.",
	       get(&c->verify_budget_exhausted));
}

/* What runs: version and start time. */
static void render_process(FILE *out, const struct receiver *r)
{
	family(out, "dsyncd_build_info", "gauge", "Always 1; the version is its label.");
	fputs("dsyncd_build_info{version=\"", out);
	put_label(out, DSYNC_VERSION);
	fputs("\"} 1\n", out);
	simple(out, "dsyncd_start_time_seconds", "gauge", "When dsyncd started (Unix time).",
	       (unsigned long long)(r->started > 0 ? r->started : 0));
}

/* The bootstrap scheduler's work. */
static void render_bootstrap(FILE *out, struct boot_counters *c)
{
	family(out, "dsyncd_validations_total", "counter",
	       "Runs of automatic key bootstrap methods, by method and outcome.");
	for (unsigned m = 0; m < BOOT_NMETHODS; m++)
		for (size_t o = 0; o < BOOT_NRESULTS; o++)
			fprintf(out, "dsyncd_validations_total{method=\"%s\",outcome=\"%s\"} %lu\n",
				cfg_boot_method_str(1u << m), bm_result_str(outcomes[o]),
				get(&c->runs[m][outcomes[o]]));
	simple(out, "dsyncd_validation_attempts_total", "counter",
	       "Attempts of the bootstrap scheduler (each runs the zone's methods).",
	       get(&c->attempts));
	simple(out, "dsyncd_keys_trusted_by_bootstrap_total", "counter",
	       "Child keys made trusted by an automatic bootstrap method.", get(&c->trusted));
	simple(out, "dsyncd_keys_failed_validation_total", "counter",
	       "Child keys that ended in validation-failed.", get(&c->failed));
}

/* What the store holds that waits: read before anything is written. */
struct waiting {
	int64_t outbox, validations, keys[KEY_REVOKED + 1];
};

static int read_waiting(struct store *s, struct waiting *w)
{
	int rc = store_outbox_pending(s, &w->outbox);
	if (rc == DS_OK)
		rc = store_validation_pending(s, &w->validations);
	if (rc == DS_OK)
		rc = store_key_counts(s, w->keys);
	return rc;
}

/* What waits: queues, deliveries, validations; keys by state. */
static void render_gauges(FILE *out, struct receiver *r, const struct cfg *cfg,
			  const struct waiting *w)
{
	family(out, "dsyncd_queue_depth", "gauge", "Requests waiting in a queue.");
	fprintf(out, "dsyncd_queue_depth{queue=\"verify\"} %zu\n", queue_depth(&r->verifyq));
	fprintf(out, "dsyncd_queue_depth{queue=\"commit\"} %zu\n", queue_depth(&r->commitq));
	simple(out, "dsyncd_outbox_pending", "gauge", "Backend deliveries not done yet.",
	       (unsigned long long)w->outbox);
	simple(out, "dsyncd_validations_pending", "gauge", "Key validations pending.",
	       (unsigned long long)w->validations);
	simple(out, "dsyncd_validations_pending_limit", "gauge",
	       "At most this many validations are queued (bootstrap.max-pending-total).",
	       cfg->boot.max_pending_total);
	simple(out, "dsyncd_keys_awaiting_operator", "gauge",
	       "Child keys in state known: they wait for an operator to trust them (manual).",
	       (unsigned long long)w->keys[KEY_KNOWN]);
	family(out, "dsyncd_keys", "gauge", "Child keys in the store, by state.");
	for (int st = KEY_KNOWN; st <= KEY_REVOKED; st++)
		fprintf(out, "dsyncd_keys{state=\"%s\"} %" PRId64 "\n",
			store_key_state_str((enum key_state)st), w->keys[st]);
}

static void render_duration(FILE *out, struct counters *c)
{
	family(out, "dsyncd_request_duration_seconds", "histogram",
	       "Time from receipt of a request to its answer.");
	unsigned long long cum = 0;
	for (size_t b = 0; b < MX_BUCKETS; b++) {
		cum += get(&c->duration[b]);
		fprintf(out, "dsyncd_request_duration_seconds_bucket{le=\"%s\"} %llu\n",
			b < MX_BUCKETS - 1 ? buckets[b].le : "+Inf", cum);
	}
	unsigned long long ns = atomic_load_explicit(&c->duration_ns, memory_order_relaxed);
	fprintf(out, "dsyncd_request_duration_seconds_sum %llu.%09llu\n", ns / 1000000000,
		ns % 1000000000);
	fprintf(out, "dsyncd_request_duration_seconds_count %llu\n", cum);
}

int metrics_render(struct receiver *r, const struct cfg *cfg, struct store *s, FILE *out)
{
	struct counters *c = &r->ctr;
	struct waiting w = {0};
	struct lanes lanes = {0};
	int rc = read_waiting(s, &w);
	if (rc == DS_OK)
		rc = outbox_status(cfg, s, lane_add, &lanes);
	if (rc != DS_OK) {
		free(lanes.v);
		return rc;
	}
	render_process(out, r);
	render_requests(out, c);
	render_bootstrap(out, r->boot_counters);
	family(out, "dsyncd_backend_deliveries_total", "counter",
	       "Changes handed to an output backend, by zone, backend and outcome.");
	struct deliveries d = {.out = out};
	outbox_stats(r->outbox, put_delivery, &d);
	render_gauges(out, r, cfg, &w);
	render_lanes(out, &lanes);
	free(lanes.v);
	render_duration(out, c);
	simple(out, "dsyncd_replays_total", "counter",
	       "Replayed UPDATEs (answered with the first RCODE, not applied again).",
	       get(&c->replays));
	simple(out, "dsyncd_dropped_total", "counter",
	       "Datagrams dropped unanswered and requests refused on a full verify queue.",
	       get(&c->dropped));
	simple(out, "dsyncd_tcp_connections_total", "counter", "TCP connections accepted.",
	       get(&c->tcp_accepted));
	simple(out, "dsyncd_tcp_connections_refused_total", "counter",
	       "TCP connections closed at once: server.tcp-max-connections reached.",
	       get(&c->tcp_refused_full));
	simple(out, "dsyncd_audit_skipped_total", "counter",
	       "Requests refused before crypto that were logged but not audited (one network "
	       "over its audit rows a minute).",
	       get(&c->audit_skipped));
	simple(out, "dsyncd_commits_total", "counter",
	       "Store transactions of the commit thread (each a group commit).", get(&c->commits));
	return ferror(out) ? DS_EIO : DS_OK;
}

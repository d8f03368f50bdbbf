/*
 * outbox/outbox.c -- delivers committed changes to the output backends.
 *
 * Every configured (zone, backend) is a lane: its own thread, its own store
 * connection and its own backend instance, so a backend that hangs until
 * its timeout holds up no other lane.  A lane hands its pending deliveries
 * over in change order, up to OUTBOX_BATCH at a time as one batch, never
 * two batches at once and never a newer change before an older one;
 * success marks them done, failure schedules the lane's next attempt with
 * exponential backoff (outbox.retry-min doubling up to outbox.retry-max).
 * The delivery state lives in the store, so a restart resumes exactly
 * where delivery stopped; backends are idempotent, so a batch cut short by
 * a crash is simply sent again.  One more thread, with its own connection,
 * removes old history (store.retention-days).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backends/backend.h"
#include "common/dname.h"
#include "common/err.h"
#include "common/log.h"
#include "outbox/outbox.h"
#include "store/store.h"

#define OUTBOX_BATCH 256
#define OUTBOX_SNAPSHOT_BATCH 1000000 /* changes one snapshot delivery covers at most */
#define OUTBOX_POLL 5		      /* seconds: also picks up changes made by `dsyncd import` */
#define OUTBOX_STORE_WAIT 1	      /* seconds before trying again after a store failure */
#define PURGE_EVERY 60		      /* seconds between retention runs */
#define RECORD_SLICE 1000	      /* deliveries recorded per transaction (lane_record) */
#define OUTBOX_GAP_MS 100	      /* a lane's pause after a delivery (see lane_main) */
#define OUTBOX_GAP_MAX_MS 2000	      /* ... at most */

struct outbox_runner;

/* One (zone, backend) and the thread that delivers to it. */
struct lane {
	struct outbox_runner *o;
	const struct cfg_zone *zc;
	struct backend *b;
	struct store *store; /* this lane's connection */
	char zname[DNAME_STR_MAX];
	pthread_t thread;
	bool started;
	uint64_t seen;	       /* the last kick this lane has acted on */
	long gap_ms;	       /* the pause after the last delivery (lane_main) */
	bool backlog;	       /* the last delivery was a full batch: more is waiting */
	atomic_ulong ok, fail; /* deliveries handed over since start, for /metrics */
	/* the first lane: the configuration its thread checks the pending
	 * changes against first (warn_unconfigured), off the start's path */
	const struct cfg *check_cfg;
};

struct outbox_runner {
	const struct cfg *cfg;
	struct lane *lanes; /* in configuration order */
	size_t nlanes;
	struct store *store; /* the retention thread's connection */
	pthread_t thread;
	bool started;
	pthread_rwlock_t lanes_lock; /* lanes and nlanes: replaced by outbox_switch */
	pthread_mutex_t mu;
	pthread_cond_t cv; /* kicks and stop, broadcast to every thread */
	uint64_t kicks;
	bool stop;
};

/*
 * Sleep up to wait seconds, or until a kick newer than *seen or stop.
 * Kicks that came while the caller worked end the wait at once.  False
 * when the runner stops.
 */
static bool runner_wait(struct outbox_runner *o, uint64_t *seen, int64_t wait)
{
	pthread_mutex_lock(&o->mu);
	if (wait > 0 && *seen == o->kicks && !o->stop) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += wait;
		pthread_cond_timedwait(&o->cv, &o->mu, &ts);
	}
	*seen = o->kicks;
	bool go = !o->stop;
	pthread_mutex_unlock(&o->mu);
	return go;
}

struct foreach_ctx {
	struct store *store;
	const uint8_t *zone;
};

static int foreach_rr(void *ctx, backend_rr_cb cb, void *arg)
{
	struct foreach_ctx *f = ctx;
	return store_zone_deleg_foreach(f->store, f->zone, (store_rr_cb)cb, arg);
}

static int child_deleg(void *ctx, const uint8_t *child, struct deleg *out)
{
	struct foreach_ctx *f = ctx;
	int64_t zid, cid;
	int rc = store_zone_find(f->store, f->zone, &zid);
	if (rc == DS_OK)
		rc = store_child_find(f->store, zid, child, &cid);
	if (rc == DS_ENOENT) {
		out->n = 0;
		return DS_OK;
	}
	return rc == DS_OK ? store_deleg_load(f->store, cid, out) : rc;
}

static int64_t backoff(const struct cfg *c, int attempts)
{
	int64_t d = c->retry_min;
	for (int i = 1; i < attempts && d < (int64_t)c->retry_max; i++)
		d *= 2;
	return d > (int64_t)c->retry_max ? (int64_t)c->retry_max : d;
}

/* Hand items[0..n) to the lane's backend as one batch: its result. */
static int lane_hand_over(struct lane *l, const struct outbox_item *it, size_t n, char *err,
			  size_t errlen)
{
	struct backend_change *ch = calloc(n, sizeof(*ch));
	if (ch == NULL) {
		snprintf(err, errlen, "out of memory");
		return DS_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		ch[i].child = it[i].child;
		ch[i].changes = it[i].changes;
	}
	struct foreach_ctx fc = {.store = l->store, .zone = l->zc->name};
	struct backend_batch batch = {.zone = l->zc->name,
				      .zcfg = l->zc,
				      .changes = ch,
				      .nchanges = n,
				      .foreach_rr = foreach_rr,
				      .child_deleg = child_deleg,
				      .ctx = &fc};
	int rc = backend_deliver(l->b, &batch, err, errlen);
	free(ch);
	atomic_fetch_add(rc == DS_OK ? &l->ok : &l->fail, n);
	return rc;
}

/*
 * Record the result rc of delivering items[0..n) at now: done, or due again
 * after the backoff of the oldest one's attempts (the lane's), with err.
 * In transactions of RECORD_SLICE rows, so that the receiver's commits wait
 * for one slice at most, never for a snapshot's million rows; a crash
 * between two leaves the rest pending, delivered again, as a crash between
 * delivering and recording does.  False when the store could not record it.
 */
static bool lane_record(struct lane *l, const struct outbox_item *it, size_t n, int rc,
			const char *err, int64_t now)
{
	int64_t next = now + backoff(l->o->cfg, it[0].attempts + 1);
	int ret = DS_OK;
	for (size_t from = 0; ret == DS_OK && from < n; from += RECORD_SLICE) {
		size_t to = n - from > RECORD_SLICE ? from + RECORD_SLICE : n;
		ret = store_begin(l->store);
		for (size_t i = from; ret == DS_OK && i < to; i++) {
			ret = rc == DS_OK ? store_delivery_done(l->store, it[i].delivery_id, now)
					  : store_delivery_failed(l->store, it[i].delivery_id, now,
								  next, err);
			if (ret == DS_ENOENT) /* purged or delivered meanwhile (another process) */
				ret = DS_OK;
		}
		if (ret == DS_OK && to == n)
			ret = store_backend_result(l->store, l->zc->name, backend_name(l->b), now,
						   rc == DS_OK ? NULL : err);
		if (ret == DS_OK)
			ret = store_commit(l->store);
		if (ret != DS_OK)
			store_rollback(l->store);
	}
	if (rc == DS_OK)
		log_info("outbox: delivered %zu change(s) of zone %s to backend %s", n, l->zname,
			 backend_name(l->b));
	else
		log_warning("outbox: delivery of %zu change(s) of zone %s to backend %s failed "
			    "(attempt %d, next in %lld s): %s",
			    n, l->zname, backend_name(l->b), it[0].attempts + 1,
			    (long long)(next - now), err);
	return ret == DS_OK;
}

/*
 * On a shared store, the nodes' lanes of one (zone, backend) take turns: a
 * lane delivers only while it holds the pair's lease, renewed before each
 * batch and given up once nothing is left, so that the node with the next
 * change takes it at once.  A node that dies holding it loses it after
 * store.lease-time.  False: another node delivers now.
 */
static bool lane_lease(struct lane *l, bool take, int64_t now)
{
	char name[DNAME_STR_MAX + 80];

	if (!store_shared(l->store))
		return true;
	snprintf(name, sizeof(name), "outbox %s %s", l->zname, backend_name(l->b));
	if (!take) {
		store_lease_drop(l->store, name, store_node_name());
		return true;
	}
	return store_lease_take(l->store, name, store_node_name(), now,
				now + (int64_t)l->o->cfg->lease_time) == DS_OK;
}

/* One step of a lane: deliver what is due; the seconds to wait before the next. */
/* The pair's pending deliveries (max at most) into *it, *n: DS_OK or not. */
static int lane_items(struct lane *l, size_t max, struct outbox_item **it, size_t *n)
{
	return store_outbox_pair(l->store, l->zc->name, backend_name(l->b), max, it, n);
}

/* Hand the items over, record the result; the seconds to wait before the next step. */
static int64_t lane_deliver(struct lane *l, struct outbox_item *it, size_t n, size_t max,
			    int64_t now)
{
	char err[1400] = "";
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int rc = lane_hand_over(l, it, n, err, sizeof(err));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	l->gap_ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	if (l->gap_ms / 1000 >= (long)l->o->cfg->lease_time && store_shared(l->store))
		log_warning("outbox: a delivery to backend %s of zone %s took %ld s, longer than "
			    "store.lease-time: another node may have delivered meanwhile",
			    backend_name(l->b), l->zname, l->gap_ms / 1000);
	int64_t wait = lane_record(l, it, n, rc, err, (int64_t)time(NULL)) ? 0 : OUTBOX_STORE_WAIT;
	l->backlog = rc == DS_OK && n == max;
	if (rc == DS_OK && n < max) /* all delivered: the next change's node goes on */
		lane_lease(l, false, now);
	return wait;
}

static int64_t lane_step(struct lane *l)
{
	struct outbox_item *it = NULL;
	size_t n = 0;
	/* a snapshot backend writes the whole zone once for everything pending */
	size_t max = backend_is_snapshot(l->b) ? OUTBOX_SNAPSHOT_BATCH : OUTBOX_BATCH;
	if (lane_items(l, max, &it, &n) != DS_OK)
		return OUTBOX_STORE_WAIT;
	int64_t now = (int64_t)time(NULL), wait = OUTBOX_POLL;
	if (n > 0 && it[0].next_attempt > now) {
		if (it[0].next_attempt - now < wait)
			wait = it[0].next_attempt - now;
	} else if (n > 0 && lane_lease(l, true, now)) {
		/* another node may have delivered them before the lease was ours:
		 * what is pending now, read under the lease */
		if (store_shared(l->store)) {
			store_outbox_items_free(it, n);
			it = NULL;
			n = 0;
			if (lane_items(l, max, &it, &n) != DS_OK)
				return OUTBOX_STORE_WAIT;
		}
		wait = n > 0 && it[0].next_attempt <= now ? lane_deliver(l, it, n, max, now) : 0;
	}
	store_outbox_items_free(it, n);
	return wait;
}

/* Sleep ms milliseconds, kicks or not; false when the runner stops. */
static bool runner_pause(struct outbox_runner *o, long ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&o->mu);
	while (!o->stop && pthread_cond_timedwait(&o->cv, &o->mu, &ts) == 0)
		;
	bool go = !o->stop;
	pthread_mutex_unlock(&o->mu);
	return go;
}

/*
 * After a delivery, a lane pauses OUTBOX_GAP_MS before it looks again, so
 * that under a stream of UPDATEs it hands over what gathered meanwhile in
 * one batch and records it in one transaction, instead of one delivery
 * (and one fsync, taken from the receiver's commits) per commit.  A
 * delivery that took longer (a snapshot backend writing a zone of a million
 * children) is followed by a pause as long, up to OUTBOX_GAP_MAX_MS: under a
 * steady stream such a lane then takes about half of a CPU from the
 * receiver, and a change waits at most about two deliveries' time.  After a
 * full batch (OUTBOX_BATCH changes: a backlog) there is no pause: the next
 * batch is full already, and pausing would cap a lane at OUTBOX_BATCH
 * changes per OUTBOX_GAP_MS, below what the receiver accepts.
 */
static int warn_unconfigured(void *arg, const uint8_t *zone, const char *backend, int64_t n);

static void *lane_main(void *arg)
{
	struct lane *l = arg;
	if (l->check_cfg != NULL)
		store_outbox_pending_pairs(l->store, warn_unconfigured, (void *)l->check_cfg);
	for (;;) {
		l->backlog = false;
		int64_t wait = lane_step(l);
		long gap = l->gap_ms < OUTBOX_GAP_MS ? OUTBOX_GAP_MS : l->gap_ms;
		/* a full batch leaves more waiting: the next one is full already */
		if (wait == 0 && !l->backlog &&
		    !runner_pause(l->o, gap < OUTBOX_GAP_MAX_MS ? gap : OUTBOX_GAP_MAX_MS))
			break;
		if (!runner_wait(l->o, &l->seen, wait))
			break;
	}
	return NULL;
}

/*
 * store.retention-days: old audit rows and delivered changes leave the store
 * in slices of PURGE_SLICE rows, each its own short transaction, so UPDATE
 * commits never wait long for the writer lock.
 */
#define PURGE_SLICE 5000
static void purge_history(struct outbox_runner *o)
{
	int64_t before = (int64_t)time(NULL) - (int64_t)o->cfg->retention_days * 86400;
	int64_t na = 0, nc = 0, ta = 0, tc = 0;
	for (int i = 0; i < 200; i++) {
		if (store_begin(o->store) != DS_OK)
			break;
		if (store_history_purge(o->store, before, PURGE_SLICE, &na, &nc) != DS_OK ||
		    store_commit(o->store) != DS_OK) {
			store_rollback(o->store);
			break;
		}
		ta += na;
		tc += nc;
		if (na < PURGE_SLICE && nc < PURGE_SLICE)
			break;
	}
	if (ta || tc)
		log_info("retention: %lld audit row(s) and %lld delivered change(s) older than %u "
			 "day(s) removed",
			 (long long)ta, (long long)tc, o->cfg->retention_days);
}

static void *purge_main(void *arg)
{
	struct outbox_runner *o = arg;
	uint64_t seen = 0;
	int64_t last = 0, wait = 0;
	while (runner_wait(o, &seen, wait)) {
		int64_t now = (int64_t)time(NULL);
		if (now - last >= PURGE_EVERY || now < last) {
			last = now;
			purge_history(o);
		}
		wait = last + PURGE_EVERY - (int64_t)time(NULL);
	}
	return NULL;
}

/* Make the lane of zc's backend i: the backend and a store connection. */
static int lane_init(struct outbox_runner *o, const struct cfg *cfg, struct lane *l,
		     const struct cfg_zone *zc, size_t i)
{
	char err[512];
	l->o = o;
	l->zc = zc;
	atomic_init(&l->ok, 0);
	atomic_init(&l->fail, 0);
	if (dname_to_str(zc->name, l->zname, sizeof(l->zname)) != DS_OK)
		snprintf(l->zname, sizeof(l->zname), "?");
	int rc = backend_new(&zc->backends[i], zc, &l->b, err, sizeof(err));
	if (rc != DS_OK) {
		log_err("%s: backend %s: %s", zc->backends[i].where, zc->backends[i].name, err);
		return rc;
	}
	return store_open(cfg->store_spec, &l->store);
}

/* fn(arg, zone, i) for backend i of every zone, in configuration order,
 * until one returns non-zero (which is returned). */
typedef int (*pair_fn)(void *arg, const struct cfg_zone *zc, size_t i);
static int each_pair(const struct cfg *cfg, pair_fn fn, void *arg)
{
	int rc = DS_OK;
	for (size_t z = 0; rc == DS_OK && z < cfg->nzones; z++)
		for (size_t i = 0; rc == DS_OK && i < cfg->zones[z].nbackends; i++)
			rc = fn(arg, &cfg->zones[z], i);
	return rc;
}

static int count_pair(void *arg, const struct cfg_zone *zc, size_t i)
{
	(void)zc, (void)i;
	(*(size_t *)arg)++;
	return DS_OK;
}

/* The lanes of one configuration, before their threads run. */
struct outbox_next {
	struct outbox_runner *o;
	const struct cfg *cfg;
	struct lane *lanes; /* in configuration order */
	size_t nlanes;
};

static int add_lane(void *arg, const struct cfg_zone *zc, size_t i)
{
	struct outbox_next *nx = arg;
	return lane_init(nx->o, nx->cfg, &nx->lanes[nx->nlanes++], zc, i);
}

static void lanes_free(struct lane *lanes, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		backend_free(lanes[i].b);
		store_close(lanes[i].store);
	}
	free(lanes);
}

void outbox_next_free(struct outbox_next *nx)
{
	if (nx == NULL)
		return;
	lanes_free(nx->lanes, nx->nlanes);
	free(nx);
}

int outbox_prepare(struct outbox_runner *o, const struct cfg *cfg, struct outbox_next **out)
{
	struct outbox_next *nx = calloc(1, sizeof(*nx));
	size_t n = 0;
	if (nx == NULL)
		return DS_ENOMEM;
	nx->o = o;
	nx->cfg = cfg;
	each_pair(cfg, count_pair, &n);
	nx->lanes = calloc(n ? n : 1, sizeof(*nx->lanes));
	int rc = nx->lanes != NULL ? each_pair(cfg, add_lane, nx) : DS_ENOMEM;
	if (rc != DS_OK) {
		outbox_next_free(nx);
		return rc;
	}
	*out = nx;
	return DS_OK;
}

/* Start a thread per lane, and the retention thread when there is a retention. */
static int threads_start(struct outbox_runner *o)
{
	for (size_t i = 0; i < o->nlanes; i++) {
		if (pthread_create(&o->lanes[i].thread, NULL, lane_main, &o->lanes[i]) != 0)
			return DS_ENOMEM;
		o->lanes[i].started = true;
	}
	if (o->cfg->retention_days == 0)
		return DS_OK;
	int rc = o->store ? DS_OK : store_open(o->cfg->store_spec, &o->store);
	if (rc != DS_OK)
		return rc;
	if (pthread_create(&o->thread, NULL, purge_main, o) != 0)
		return DS_ENOMEM;
	o->started = true;
	return DS_OK;
}

void outbox_ask_stop(struct outbox_runner *o)
{
	pthread_mutex_lock(&o->mu);
	o->stop = true;
	pthread_cond_broadcast(&o->cv);
	pthread_mutex_unlock(&o->mu);
}

/* Stop and join every thread (a delivery in progress ends first). */
static void threads_stop(struct outbox_runner *o)
{
	outbox_ask_stop(o);
	/* a lane in the middle of a delivery ends it by its backend's timeout */
	for (size_t i = 0; i < o->nlanes; i++)
		if (o->lanes[i].started)
			pthread_join(o->lanes[i].thread, NULL);
	if (o->started)
		pthread_join(o->thread, NULL);
	o->started = false;
	pthread_mutex_lock(&o->mu);
	o->stop = false;
	pthread_mutex_unlock(&o->mu);
}

/* Say so when changes wait for a backend that is no longer configured:
 * no lane delivers them, but they stay until it is configured again. */
static int warn_unconfigured(void *arg, const uint8_t *zone, const char *backend, int64_t n)
{
	const struct cfg *cfg = arg;
	char zname[DNAME_STR_MAX];
	for (size_t z = 0; z < cfg->nzones; z++)
		for (size_t i = 0;
		     dname_equal(cfg->zones[z].name, zone) && i < cfg->zones[z].nbackends; i++)
			if (strcmp(cfg->zones[z].backends[i].name, backend) == 0)
				return DS_OK;
	if (dname_to_str(zone, zname, sizeof(zname)) != DS_OK)
		snprintf(zname, sizeof(zname), "?");
	log_warning("outbox: %lld change(s) of zone %s wait for backend %s, which is not "
		    "configured; they are delivered once it is configured again",
		    (long long)n, zname, backend);
	return DS_OK;
}

/* Put nx's lanes in place of the runner's and start them. */
static int lanes_switch(struct outbox_runner *o, struct outbox_next *nx)
{
	threads_stop(o);
	/* a lane that goes on counts on: /metrics sees no counter reset */
	for (size_t i = 0; i < nx->nlanes; i++)
		for (size_t j = 0; j < o->nlanes; j++)
			if (strcmp(nx->lanes[i].zname, o->lanes[j].zname) == 0 &&
			    strcmp(backend_name(nx->lanes[i].b), backend_name(o->lanes[j].b)) ==
				0) {
				atomic_store(&nx->lanes[i].ok, atomic_load(&o->lanes[j].ok));
				atomic_store(&nx->lanes[i].fail, atomic_load(&o->lanes[j].fail));
			}
	pthread_rwlock_wrlock(&o->lanes_lock);
	struct lane *old = o->lanes;
	size_t nold = o->nlanes;
	o->cfg = nx->cfg;
	o->lanes = nx->lanes;
	o->nlanes = nx->nlanes;
	pthread_rwlock_unlock(&o->lanes_lock);
	free(nx);
	lanes_free(old, nold);
	if (o->nlanes > 0)
		o->lanes[0].check_cfg = o->cfg;
	return threads_start(o);
}

int outbox_switch(struct outbox_runner *o, struct outbox_next *nx)
{
	int rc = lanes_switch(o, nx);
	if (rc != DS_OK)
		log_err("outbox: cannot start the delivery threads: %s", ds_strerror(rc));
	return rc;
}

int outbox_start(const struct cfg *cfg, struct outbox_runner **out)
{
	struct outbox_runner *o = calloc(1, sizeof(*o));
	if (o == NULL)
		return DS_ENOMEM;
	o->cfg = cfg;
	pthread_mutex_init(&o->mu, NULL);
	pthread_cond_init(&o->cv, NULL);
	pthread_rwlock_init(&o->lanes_lock, NULL);
	struct outbox_next *nx;
	int rc = outbox_prepare(o, cfg, &nx);
	if (rc == DS_OK)
		rc = lanes_switch(o, nx);
	if (rc == DS_OK)
		*out = o;
	else
		outbox_stop(o);
	return rc;
}

/* Called by the commit thread after each commit: one lock, one broadcast. */
void outbox_kick(struct outbox_runner *o)
{
	if (o == NULL)
		return;
	pthread_mutex_lock(&o->mu);
	o->kicks++;
	pthread_cond_broadcast(&o->cv);
	pthread_mutex_unlock(&o->mu);
}

void outbox_stats(struct outbox_runner *o, outbox_stat_cb cb, void *arg)
{
	if (o == NULL)
		return;
	pthread_rwlock_rdlock(&o->lanes_lock);
	for (size_t i = 0; i < o->nlanes; i++)
		if (o->lanes[i].b != NULL)
			cb(arg, o->lanes[i].zc, backend_name(o->lanes[i].b),
			   atomic_load(&o->lanes[i].ok), atomic_load(&o->lanes[i].fail));
	pthread_rwlock_unlock(&o->lanes_lock);
}

struct status_walk {
	struct store *s;
	outbox_status_cb cb;
	void *arg;
};

static int status_one(void *arg, const struct cfg_zone *zc, size_t i)
{
	struct status_walk *w = arg;
	struct delivery_status st;
	int rc = store_delivery_status(w->s, zc->name, zc->backends[i].name, &st);
	return rc == DS_OK ? w->cb(w->arg, zc, &zc->backends[i], &st) : rc;
}

int outbox_status(const struct cfg *cfg, struct store *s, outbox_status_cb cb, void *arg)
{
	struct status_walk w = {.s = s, .cb = cb, .arg = arg};
	return each_pair(cfg, status_one, &w);
}

void outbox_stop(struct outbox_runner *o)
{
	if (o == NULL)
		return;
	threads_stop(o);
	lanes_free(o->lanes, o->nlanes);
	store_close(o->store);
	pthread_rwlock_destroy(&o->lanes_lock);
	pthread_mutex_destroy(&o->mu);
	pthread_cond_destroy(&o->cv);
	free(o);
}

/*
 * outbox/outbox.c -- delivers committed changes to the output backends.
 *
 * Runs in its own thread with its own store connection.  Due deliveries are
 * grouped per (zone, backend) and handed over as one batch; success marks
 * them done, failure schedules the next attempt with exponential backoff
 * (outbox.retry-min doubling up to outbox.retry-max).  The delivery state
 * lives in the store, so a restart resumes exactly where delivery stopped;
 * backends are idempotent, so a batch cut short by a crash is simply sent
 * again.
 */
#include <pthread.h>
#include <stdatomic.h>
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
#define OUTBOX_POLL 5 /* seconds: also picks up changes made by `dsyncd import` */

/* deliveries handed to one backend since start, for /metrics */
struct delivery_count {
	atomic_ulong ok, fail;
};

struct zone_backends {
	const struct cfg_zone *zc;
	struct backend **b;
	struct delivery_count *count; /* one per backend */
	size_t n;
};

struct outbox_runner {
	const struct cfg *cfg;
	struct store *store;
	struct zone_backends *zones;
	size_t nzones;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool kicked, stop, started;
	time_t purged; /* last retention run */
};

static struct backend *find_backend(struct outbox_runner *o, const uint8_t *zone, const char *name,
				    const struct cfg_zone **zc, struct delivery_count **count)
{
	for (size_t z = 0; z < o->nzones; z++) {
		if (!dname_equal(o->zones[z].zc->name, zone))
			continue;
		*zc = o->zones[z].zc;
		for (size_t i = 0; i < o->zones[z].n; i++)
			if (strcmp(backend_name(o->zones[z].b[i]), name) == 0) {
				*count = &o->zones[z].count[i];
				return o->zones[z].b[i];
			}
	}
	return NULL;
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

/* Deliver items[first..last) which share zone and backend. */
static void deliver_group(struct outbox_runner *o, struct outbox_item *it, size_t n)
{
	char err[1400] = "", zname[DNAME_STR_MAX];
	int64_t now = (int64_t)time(NULL);
	const struct cfg_zone *zc = NULL;
	struct delivery_count *count = NULL;
	struct backend *b = find_backend(o, it[0].zone, it[0].backend, &zc, &count);
	int rc;

	dname_to_str(it[0].zone, zname, sizeof(zname));
	if (b == NULL) {
		/* configured away since the change was queued: keep it, say so */
		snprintf(err, sizeof(err), "backend %s of zone %s is not configured", it[0].backend,
			 zname);
		rc = DS_ENOENT;
	} else {
		struct backend_change *ch = calloc(n, sizeof(*ch));
		if (ch == NULL)
			return;
		for (size_t i = 0; i < n; i++) {
			ch[i].child = it[i].child;
			ch[i].changes = it[i].changes;
		}
		struct foreach_ctx fc = {.store = o->store, .zone = it[0].zone};
		struct backend_batch batch = {.zone = it[0].zone,
					      .zcfg = zc,
					      .changes = ch,
					      .nchanges = n,
					      .foreach_rr = foreach_rr,
					      .child_deleg = child_deleg,
					      .ctx = &fc};
		rc = backend_deliver(b, &batch, err, sizeof(err));
		free(ch);
		atomic_fetch_add(rc == DS_OK ? &count->ok : &count->fail, n);
	}
	if (store_begin(o->store) != DS_OK)
		return;
	for (size_t i = 0; i < n; i++) {
		if (rc == DS_OK)
			store_delivery_done(o->store, it[i].delivery_id, now);
		else
			store_delivery_failed(o->store, it[i].delivery_id, now,
					      now + backoff(o->cfg, it[i].attempts + 1), err);
	}
	if (store_commit(o->store) != DS_OK)
		store_rollback(o->store);
	if (rc == DS_OK)
		log_info("outbox: delivered %zu change(s) of zone %s to backend %s", n, zname,
			 it[0].backend);
	else
		log_warning("outbox: delivery of %zu change(s) of zone %s to backend %s failed "
			    "(attempt %d, next in %lld s): %s",
			    n, zname, it[0].backend, it[0].attempts + 1,
			    (long long)backoff(o->cfg, it[0].attempts + 1), err);
}

static int cmp_item(const void *pa, const void *pb)
{
	const struct outbox_item *a = pa, *b = pb;
	int c = dname_compare(a->zone, b->zone);
	if (c)
		return c;
	c = strcmp(a->backend, b->backend);
	if (c)
		return c;
	return a->change_id < b->change_id ? -1 : a->change_id > b->change_id;
}

static void run_once(struct outbox_runner *o)
{
	struct outbox_item *items = NULL;
	size_t n = 0;
	if (store_outbox_due(o->store, (int64_t)time(NULL), OUTBOX_BATCH, &items, &n) != DS_OK ||
	    n == 0)
		return;
	qsort(items, n, sizeof(*items), cmp_item);
	for (size_t i = 0; i < n;) {
		size_t k = i + 1;
		while (k < n && dname_equal(items[k].zone, items[i].zone) &&
		       strcmp(items[k].backend, items[i].backend) == 0)
			k++;
		deliver_group(o, items + i, k - i);
		i = k;
	}
	store_outbox_items_free(items, n);
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

static void *outbox_main(void *arg)
{
	struct outbox_runner *o = arg;
	pthread_mutex_lock(&o->mu);
	while (!o->stop) {
		o->kicked = false;
		pthread_mutex_unlock(&o->mu);
		run_once(o);
		if (o->cfg->retention_days && time(NULL) - o->purged >= 60) {
			o->purged = time(NULL);
			purge_history(o);
		}
		int64_t when, now = (int64_t)time(NULL);
		int64_t wait = OUTBOX_POLL;
		if (store_outbox_next_time(o->store, &when) == DS_OK && when - now < wait)
			wait = when - now;
		pthread_mutex_lock(&o->mu);
		if (wait > 0 && !o->kicked && !o->stop) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += wait;
			pthread_cond_timedwait(&o->cv, &o->mu, &ts);
		}
	}
	pthread_mutex_unlock(&o->mu);
	return NULL;
}

int outbox_start(const struct cfg *cfg, struct outbox_runner **out)
{
	struct outbox_runner *o = calloc(1, sizeof(*o));
	if (o == NULL)
		return DS_ENOMEM;
	o->cfg = cfg;
	pthread_mutex_init(&o->mu, NULL);
	pthread_cond_init(&o->cv, NULL);
	int rc = store_open(cfg->store_path, &o->store);
	o->zones = calloc(cfg->nzones, sizeof(*o->zones));
	if (rc == DS_OK && o->zones == NULL)
		rc = DS_ENOMEM;
	for (size_t z = 0; rc == DS_OK && z < cfg->nzones; z++) {
		const struct cfg_zone *zc = &cfg->zones[z];
		o->zones[z].zc = zc;
		o->nzones++;
		o->zones[z].b = calloc(zc->nbackends ? zc->nbackends : 1, sizeof(struct backend *));
		o->zones[z].count =
		    calloc(zc->nbackends ? zc->nbackends : 1, sizeof(struct delivery_count));
		if (o->zones[z].b == NULL || o->zones[z].count == NULL) {
			rc = DS_ENOMEM;
			break;
		}
		for (size_t i = 0; i < zc->nbackends; i++) {
			char err[512];
			rc = backend_new(&zc->backends[i], zc, &o->zones[z].b[i], err, sizeof(err));
			if (rc != DS_OK) {
				log_err("%s: backend %s: %s", zc->backends[i].where,
					zc->backends[i].name, err);
				break;
			}
			o->zones[z].n++;
		}
	}
	if (rc == DS_OK && pthread_create(&o->thread, NULL, outbox_main, o) != 0)
		rc = DS_ENOMEM;
	if (rc != DS_OK) {
		outbox_stop(o);
		return rc;
	}
	o->started = true;
	*out = o;
	return DS_OK;
}

void outbox_kick(struct outbox_runner *o)
{
	if (o == NULL)
		return;
	pthread_mutex_lock(&o->mu);
	o->kicked = true;
	pthread_cond_signal(&o->cv);
	pthread_mutex_unlock(&o->mu);
}

void outbox_stats(struct outbox_runner *o, outbox_stat_cb cb, void *arg)
{
	for (size_t z = 0; o != NULL && z < o->nzones; z++)
		for (size_t i = 0; i < o->zones[z].n; i++)
			cb(arg, o->zones[z].zc, backend_name(o->zones[z].b[i]),
			   atomic_load(&o->zones[z].count[i].ok),
			   atomic_load(&o->zones[z].count[i].fail));
}

void outbox_stop(struct outbox_runner *o)
{
	if (o == NULL)
		return;
	if (o->started) {
		pthread_mutex_lock(&o->mu);
		o->stop = true;
		pthread_cond_signal(&o->cv);
		pthread_mutex_unlock(&o->mu);
		pthread_join(o->thread, NULL);
	}
	for (size_t z = 0; z < o->nzones; z++) {
		for (size_t i = 0; i < o->zones[z].n; i++)
			backend_free(o->zones[z].b[i]);
		free(o->zones[z].b);
		free(o->zones[z].count);
	}
	free(o->zones);
	store_close(o->store);
	pthread_mutex_destroy(&o->mu);
	pthread_cond_destroy(&o->cv);
	free(o);
}

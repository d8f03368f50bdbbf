/*
 * outbox/outbox.h -- the outbox runner: hands committed delegation changes
 * to each zone's backends, every (zone, backend) on its own thread, in
 * change order, with retries and backoff.  The changes themselves are the
 * store's (outbox_change/delivery rows), written in the same transaction as
 * the UPDATE that made them.
 */
#ifndef DS_OUTBOX_OUTBOX_H
#define DS_OUTBOX_OUTBOX_H

#include "config/config.h"
#include "store/store.h"

struct outbox_runner;

int outbox_start(const struct cfg *cfg, struct outbox_runner **out);
/*
 * A reload, in two steps: outbox_prepare makes the lanes of cfg (each
 * backend made and checked, a store connection each) without touching the
 * running ones, and fails with nothing changed; outbox_switch stops the
 * running lanes (a delivery in progress ends first), puts the prepared
 * ones in their place and starts them.  Deliveries pending in the store
 * are picked up by the new lanes: nothing is lost or sent out of order.
 * cfg must outlive the lanes.  outbox_next_free frees an unused one.
 */
struct outbox_next;
int outbox_prepare(struct outbox_runner *o, const struct cfg *cfg, struct outbox_next **out);
int outbox_switch(struct outbox_runner *o, struct outbox_next *nx);
/* Tell the running lanes to stop after what they are doing, without
 * waiting (outbox_switch waits); a reload calls it before outbox_switch. */
void outbox_ask_stop(struct outbox_runner *o);
void outbox_next_free(struct outbox_next *nx);

/* Wake the runner: new changes were committed.  Cheap: one lock and one
 * broadcast, whatever the number of backends. */
void outbox_kick(struct outbox_runner *o);
/* Stop and join every thread; a delivery in progress ends first (by its
 * backend's own timeout at the latest).  NULL is a no-op. */
void outbox_stop(struct outbox_runner *o);
/* Deliveries since start for one configured (zone, backend): each delivery
 * (one change to one backend) handed to the backend, by its result. */
typedef void (*outbox_stat_cb)(void *arg, const struct cfg_zone *zone, const char *backend,
			       unsigned long ok, unsigned long fail);
/* cb once per configured (zone, backend), in configuration order; o may be NULL. */
void outbox_stats(struct outbox_runner *o, outbox_stat_cb cb, void *arg);

/*
 * The delivery status of every configured (zone, backend), in configuration
 * order, read from the store s (any connection): cb once per pair; a
 * non-zero return stops the walk and is returned, as is a store error.
 */
typedef int (*outbox_status_cb)(void *arg, const struct cfg_zone *zone,
				const struct cfg_backend *backend,
				const struct delivery_status *st);
int outbox_status(const struct cfg *cfg, struct store *s, outbox_status_cb cb, void *arg);

/*
 * The drift check (`dsyncd check ZONE [--repair]`, /api/v1/zones/{zone}/check):
 * each backend's target (when the backend can tell what it holds) against
 * the store's delegations of zone, one line per difference and one summary
 * line per backend on out; with fix (--repair) a change per differing
 * child is queued for that backend.  DS_OK when all checked targets equal
 * the store, DS_EEXIST when some differ, another error when one could not
 * be checked (DS_ENOENT: zone not configured).
 */
int outbox_check(const struct cfg *cfg, const char *zone, bool fix, FILE *out);

#endif

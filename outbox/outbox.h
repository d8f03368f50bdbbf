/*
 * outbox/outbox.h -- the outbox runner: one thread that hands committed
 * delegation changes to each zone's backends, with retries and backoff.
 * The changes themselves are the store's (outbox_change/delivery rows),
 * written in the same transaction as the UPDATE that made them.
 */
#ifndef DS_OUTBOX_OUTBOX_H
#define DS_OUTBOX_OUTBOX_H

#include "config/config.h"

struct outbox_runner;

int outbox_start(const struct cfg *cfg, struct outbox_runner **out);
/* Wake the runner: new changes were committed. */
void outbox_kick(struct outbox_runner *o);
void outbox_stop(struct outbox_runner *o);
/* Deliveries since start for one configured (zone, backend): each delivery
 * (one change to one backend) handed to the backend, by its result. */
typedef void (*outbox_stat_cb)(void *arg, const struct cfg_zone *zone, const char *backend,
			       unsigned long ok, unsigned long fail);
/* cb once per configured (zone, backend), in configuration order; o may be NULL. */
void outbox_stats(struct outbox_runner *o, outbox_stat_cb cb, void *arg);

#endif

/*
 * receiver/receiver.h -- the UPDATE Receiver: listeners, the per-message
 * pipeline and the outbox runner, tied to one configuration.
 *
 * Threads: the caller's thread runs the I/O loop (UDP/TCP, parsing, cheap
 * checks, sending); `workers` threads verify signatures; one commit thread
 * decides and group-commits UPDATEs (NOERROR is sent only after the commit
 * is durable); one outbox thread delivers committed changes to backends.
 */
#ifndef DS_RECEIVER_RECEIVER_H
#define DS_RECEIVER_RECEIVER_H

#include <stdio.h>

#include "config/config.h"

struct receiver;

/*
 * Open the store, bring config-listed keys into it, load the key and replay
 * caches, build the backends and bind every listener.  Errors are logged;
 * returns DS_OK or an error (nothing is served then).
 */
int receiver_new(const struct cfg *cfg, struct receiver **out);

/* Serve until receiver_stop(); then drain in-flight work and return. */
int receiver_run(struct receiver *r);

/* Ask receiver_run() to return.  Async-signal-safe. */
void receiver_stop(struct receiver *r);

/* Log the counters (one line).  Async-signal-safe request; logged by the I/O loop. */
void receiver_request_stats(struct receiver *r);

/* Reload the receiver's own keys from their folder (SIGHUP).  Async-signal-safe request. */
void receiver_request_keys(struct receiver *r);

void receiver_free(struct receiver *r);

/*
 * Import the delegations (NS, DS and glue below the apex) of zone from the
 * zone file at path into the store: each child's data is replaced by the
 * file's, changes are queued in the outbox and audited.  A summary goes to
 * out.  Safe while the daemon runs (the store serialises writers).
 */
int receiver_import(const struct cfg *cfg, const char *zone, const char *path, FILE *out);

/*
 * `dsyncd receiver-key show|roll`: list the receiver's keys with their
 * timing, or roll: a new key published now and signing after
 * receiver.roll-publish seconds, the current one retired then and removed
 * receiver.roll-retire seconds later.
 */
int rkeys_command(const struct cfg *cfg, const char *what, FILE *out);

/*
 * `dsyncd key list` and `dsyncd key trust|revoke CHILD TAG`: the manual
 * bootstrap method.  A running dsyncd applies the change on SIGHUP.
 */
int keycmd(const struct cfg *cfg, int argc, char **argv, FILE *out);

/*
 * `dsyncd records [ZONE]`: the DSYNC, A/AAAA, KEY and SVCB records the parent
 * publishes so that children find and trust this receiver, as zone-file text.
 */
int records_command(const struct cfg *cfg, const char *zone, FILE *out);

#endif

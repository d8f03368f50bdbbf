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
#include "store/store.h"

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

/* Stop and free; whoever uses the key cache or the outbox (the API) must be
 * stopped first. */
void receiver_free(struct receiver *r);

/* What the rest of the process may act on (daemon/ hands them to the API):
 * the key cache and the outbox runner of r, valid until receiver_free(). */
struct keycache *receiver_keycache(struct receiver *r);
struct outbox_runner *receiver_outbox(struct receiver *r);
/* Write r's metrics (Prometheus text) to out; the gauges from the store are
 * read with s, the caller's own connection.  r is a struct receiver *. */
int receiver_metrics(void *r, struct store *s, FILE *out);
/* fn(arg) runs on the I/O loop at each SIGHUP, after the keys are reloaded. */
void receiver_set_reload_hook(struct receiver *r, void (*fn)(void *arg), void *arg);

#endif

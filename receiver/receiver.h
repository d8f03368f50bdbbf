/*
 * receiver/receiver.h -- the UPDATE Receiver: listeners and the
 * per-message pipeline, tied to one configuration.
 *
 * Threads: the caller's thread runs the I/O loop (UDP/TCP, parsing, cheap
 * checks, sending); `workers` threads verify signatures; one commit thread
 * decides and group-commits UPDATEs (NOERROR is sent only after the commit
 * is durable).  What it works with but does not own -- the store
 * connection, the key cache, the outbox runner, the bootstrap scheduler --
 * daemon/ builds and hands over in struct receiver_env.
 */
#ifndef DS_RECEIVER_RECEIVER_H
#define DS_RECEIVER_RECEIVER_H

#include <stdio.h>

#include "config/config.h"
#include "store/store.h"

struct receiver;
struct keycache;
struct outbox_runner;
struct bootstrap;
struct boot_counters;

/* What the receiver uses and daemon/ owns; each must outlive the receiver. */
struct receiver_env {
	struct store *store;	      /* the commit thread's own connection */
	struct keycache *keys;	      /* child keys: verified against, updated after commits */
	struct outbox_runner *outbox; /* woken after a change (NULL: none) */
	struct bootstrap *boot;	      /* woken after an upload (NULL: none) */
	struct boot_counters *boot_counters; /* shown in /metrics (NULL: zeros) */
};

/*
 * Load the replay cache and the receiver's own keys, and bind every
 * listener.  Errors are logged; returns DS_OK or an error (nothing is
 * served then).
 */
int receiver_new(const struct cfg *cfg, const struct receiver_env *env, struct receiver **out);

/* Serve until receiver_stop(); then drain in-flight work and return. */
int receiver_run(struct receiver *r);

/* Ask receiver_run() to return.  Async-signal-safe. */
void receiver_stop(struct receiver *r);

/* Log the counters (one line).  Async-signal-safe request; logged by the I/O loop. */
void receiver_request_stats(struct receiver *r);

/* Reload the receiver's own keys from their folder (SIGHUP).  Async-signal-safe request. */
void receiver_request_keys(struct receiver *r);

/* Free (after receiver_run() returned, or instead of it); env is left alone. */
void receiver_free(struct receiver *r);

/* Write r's metrics (Prometheus text) to out; the gauges from the store are
 * read with s, the caller's own connection.  r is a struct receiver *. */
int receiver_metrics(void *r, struct store *s, FILE *out);
/* fn(arg) runs on the I/O loop at each SIGHUP, after the keys are reloaded. */
void receiver_set_reload_hook(struct receiver *r, void (*fn)(void *arg), void *arg);

#endif

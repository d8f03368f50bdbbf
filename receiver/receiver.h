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

/* Read the receiver's own key folder again (after a roll).  Async-signal-safe request. */
void receiver_request_keys(struct receiver *r);

/* Reload the configuration (SIGHUP, an API request): the I/O loop runs the
 * reload hook.  Async-signal-safe request. */
void receiver_request_reload(struct receiver *r);
/* fn(arg) runs on the I/O loop for each reload request. */
void receiver_set_reload_hook(struct receiver *r, void (*fn)(void *arg), void *arg);

/*
 * For the reload hook only, on the I/O loop: receiver_quiesce answers every
 * request in flight (they finish under the configuration they started
 * with) and returns when none is left; until the hook returns, no new one
 * is read.  receiver_apply then puts cfg and env in place: zones, policies,
 * limits and queue sizes apply from the next request on.  The settings
 * cfg_keep_restart keeps (listeners, workers) stay as they are.
 */
void receiver_quiesce(struct receiver *r);
void receiver_apply(struct receiver *r, const struct cfg *cfg, const struct receiver_env *env);

/* Free (after receiver_run() returned, or instead of it); env is left alone. */
void receiver_free(struct receiver *r);

/* Write r's metrics (Prometheus text) to out, for the configuration cfg
 * (the caller's, held while it writes); the gauges from the store are read
 * with s, the caller's own connection.  r is a struct receiver *. */
int receiver_metrics(void *r, const struct cfg *cfg, struct store *s, FILE *out);

#endif

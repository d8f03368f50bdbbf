/*
 * daemon/process.h -- the serving process: its parts built in order
 * (store and keys, outbox, bootstrap scheduler, receiver, API), stopped in
 * reverse, and its configuration reloaded as a whole.
 */
#ifndef DS_DAEMON_PROCESS_H
#define DS_DAEMON_PROCESS_H

#include <pthread.h>
#include <stdbool.h>

#include "api/api.h"
#include "config/config.h"
#include "keys/bootstrap.h"

struct process {
	const struct cfg *cfg; /* the running configuration (held) */
	int lockfd;	       /* the store's lock (store_lock), -1 when not held */
	struct store *store;   /* the receiver's commit connection */
	struct keycache *keys;
	struct keywatch *keywatch; /* keys changed by other nodes (shared store) */
	struct outbox_runner *outbox;
	struct boot_counters boot_counters;
	struct bootstrap *boot;
	struct receiver *receiver;
	struct api *api;
	pthread_t switcher; /* a reload's old parts ending, new ones starting */
	bool switching;
	/* reloads asked for through the API, and the outcome of the last one */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned long asked, done;
	bool stopping;
	int last_rc;
	struct api_reload_result last;
};

/* Build every part for cfg (held); on failure what was built is left for
 * process_stop.  p must be zeroed but for lockfd = -1. */
int process_start(const struct cfg *cfg, struct process *p);
/* The reverse: whoever uses a part is stopped before it (NULLs are fine). */
void process_stop(struct process *p);

/*
 * Reload the configuration file the process runs from, on the receiver's
 * I/O loop (the receiver's reload hook does this on SIGHUP and API
 * requests).  The new configuration is loaded and checked completely, its
 * backends and bootstrap scheduler made, before anything changes; a bad
 * one is refused (res->error, logged) and the running one stays.  Then
 * the requests in flight are answered under the old one and every part
 * switches at once.  Settings read only at start keep their running value
 * (res->restart names those that changed).
 */
int process_reload(struct process *p, struct api_reload_result *res);

#endif

/*
 * keys/bootstrap.h -- the scheduler of automatic key validations (at-apex,
 * at-ns, unsigned): on its own thread, with its own store connection; it
 * moves keys through their transitions (keys.h) and puts the keys that
 * change into the key cache.  daemon/ starts and stops it; the receiver
 * wakes it when an upload queued a validation.
 */
#ifndef DS_KEYS_BOOTSTRAP_H
#define DS_KEYS_BOOTSTRAP_H

#include <stdatomic.h>

#include "config/config.h"
#include "keys/keys.h"

/*
 * What the scheduler did, for /metrics: attempts and how keys ended, and
 * the runs of each automatic method (index: bit number of BOOT_AT_APEX,
 * BOOT_AT_NS, BOOT_UNSIGNED) by result (enum bm_result).  Only added to.
 */
#define BOOT_NMETHODS 3
#define BOOT_NRESULTS 4
struct boot_counters {
	atomic_ulong attempts, trusted, failed;
	atomic_ulong runs[BOOT_NMETHODS][BOOT_NRESULTS];
};

/* Count one run of method (a BOOT_* bit) with result (enum bm_result);
 * anything else is not counted. */
void bootstrap_count_run(struct boot_counters *c, unsigned method, int result);

struct bootstrap;

/*
 * Start the scheduler for cfg: key changes go to keys, counts to ctr.
 * *out is NULL (and DS_OK) when no zone offers an automatic method.
 */
int bootstrap_start(const struct cfg *cfg, struct keycache *keys, struct boot_counters *ctr,
		    struct bootstrap **out);
/*
 * The same in two steps, for a reload: bootstrap_new prepares (resolver,
 * store connection) without starting anything; bootstrap_run starts the
 * thread (resumed: audit the validations it picks up again, as at
 * start).  NULL is a no-op for bootstrap_run.
 */
int bootstrap_new(const struct cfg *cfg, struct keycache *keys, struct boot_counters *ctr,
		  struct bootstrap **out);
int bootstrap_run(struct bootstrap *b, bool resumed);
/* Wake it: a validation was queued.  NULL is a no-op. */
void bootstrap_kick(struct bootstrap *b);
/* Tell it to stop after the attempt in progress, without waiting; NULL
 * is a no-op. */
void bootstrap_ask_stop(struct bootstrap *b);
/* Stop and free (waits for the attempt in progress); NULL is a no-op. */
void bootstrap_stop(struct bootstrap *b);

#endif

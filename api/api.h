/*
 * api/api.h -- the admin HTTP API inside dsyncd (doc/api.md is the
 * contract: routes, JSON shapes, status codes, roles).
 *
 * libmicrohttpd with one internal polling thread; the handlers run on that
 * thread with their own store connection, so they never block the DNS
 * path.  Writes go through the same store functions and key transitions as
 * the daemon's commands (keys/trans.c), are audited with actor
 * "api:<token name>", and reach the running receiver at once (key cache,
 * outbox and bootstrap kicks).
 */
#ifndef DS_API_API_H
#define DS_API_API_H

#include <stdio.h>

#include "config/config.h"
#include "keys/keys.h"
#include "outbox/outbox.h"
#include "store/store.h"

struct api;

/*
 * The effective configuration as JSON (what GET /api/v1/config answers),
 * indented, to out: `dsyncd config`.  DS_OK or DS_EIO.
 */
int api_config_print(const struct cfg *c, FILE *out);

/*
 * What the API acts on in the running process, given by daemon/ (the API
 * reaches nothing else).  Every pointer stays valid until api_stop().
 */
struct api_env {
	const struct cfg *cfg;
	struct keycache *keys;	      /* keys changed by a write go here at once */
	struct outbox_runner *outbox; /* woken after a delivery retry */
	/* the receiver key folder changed (a roll): the DNS side reads it again */
	void (*rkeys_changed)(void *arg);
	/* the process's metrics in Prometheus text; gauges read through s */
	int (*metrics)(void *arg, struct store *s, FILE *out);
	void *arg; /* for both callbacks */
};

/*
 * Start the API when the configuration enables it (env->cfg->api.enabled);
 * *out is NULL and DS_OK when it does not.  env is copied.  Fails with DS_ECONFIG when the
 * tokens file is missing, malformed or readable by others, or the TLS files
 * cannot be read (logged with the file and line), DS_EIO when the address
 * cannot be bound.
 */
int api_start(const struct api_env *env, struct api **out);

/* Read the tokens file again (SIGHUP); on any error the old tokens stay
 * and the error is logged.  NULL is a no-op. */
int api_reload_tokens(struct api *a);

/* Stop serving (requests in progress finish) and free.  NULL is a no-op. */
void api_stop(struct api *a);

#endif

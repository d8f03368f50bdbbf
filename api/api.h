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
/* What a configuration reload did: on failure, error says why (the lines
 * of the loader, "file:line: message"); on success, restart names the
 * changed settings that wait for a restart ("" none) and summary says
 * what now runs. */
struct api_reload_result {
	char error[4096];
	char restart[1024];
	char summary[256];
};

struct api_env {
	const struct cfg *cfg;
	struct keycache *keys;	      /* keys changed by a write go here at once */
	struct outbox_runner *outbox; /* woken after a delivery retry */
	/* the receiver key folder changed (a roll): the DNS side reads it again */
	void (*rkeys_changed)(void *arg);
	/* the process's metrics in Prometheus text for cfg; gauges read through s */
	int (*metrics)(void *arg, const struct cfg *cfg, struct store *s, FILE *out);
	void *arg; /* for both callbacks */
	/* POST /api/v1/reload: reload the configuration, wait for the outcome
	 * (NULL: the route answers 503) */
	int (*reload)(void *reload_arg, struct api_reload_result *res);
	void *reload_arg;
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

/* The configuration requests use from now on (a reload); requests in
 * progress finish with the one they started with.  NULL is a no-op. */
void api_set_cfg(struct api *a, const struct cfg *cfg);

/* Stop serving (requests in progress finish) and free.  NULL is a no-op. */
void api_stop(struct api *a);

#endif

/*
 * api/api.h -- the admin HTTP API inside dsyncd (doc/api.md is the
 * contract: routes, JSON shapes, status codes, roles).
 *
 * libmicrohttpd with one internal polling thread; the handlers run on that
 * thread with their own store connection, so they never block the DNS
 * path.  Writes go through the same store functions and key transitions as
 * the daemon's commands (receiver/keytrans.c), are audited with actor
 * "api:<token name>", and reach the running receiver at once (key cache,
 * outbox and bootstrap kicks).
 */
#ifndef DS_API_API_H
#define DS_API_API_H

struct api;
struct receiver;

/*
 * Start the API when the configuration enables it (cfg->api.enabled); *out
 * is NULL and DS_OK when it does not.  Fails with DS_ECONFIG when the
 * tokens file is missing, malformed or readable by others, or the TLS files
 * cannot be read (logged with the file and line), DS_EIO when the address
 * cannot be bound.
 */
int api_start(struct receiver *r, struct api **out);

/* Read the tokens file again (SIGHUP); on any error the old tokens stay
 * and the error is logged.  NULL is a no-op. */
int api_reload_tokens(struct api *a);

/* Stop serving (requests in progress finish) and free.  NULL is a no-op. */
void api_stop(struct api *a);

#endif

/*
 * backends/backend.h -- output backends: how accepted changes reach the
 * parent's real infrastructure.
 *
 * Each backend is a static const ops table in its own file, found by name
 * in a NULL-terminated registry (backend_registry[] in backend.c).  The
 * outbox runner calls deliver() with a batch of changes for one zone; the
 * backend either applies them all and returns DS_OK, or fails and the
 * runner retries the same changes later with backoff.  Delivery must be
 * idempotent: after a crash, a batch may be delivered again.
 *
 * A batch carries both the changes ("+ rr" / "- rr" lines, for backends
 * that push differences, like DNS UPDATE or a REST API) and an iterator
 * over the zone's complete current delegation data (for backends that
 * write snapshots, like zonefile).
 */
#ifndef DS_BACKENDS_BACKEND_H
#define DS_BACKENDS_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/deleg.h"
#include "common/zonefile.h"
#include "config/config.h"

struct backend_change {
	const uint8_t *child;
	const char *changes; /* "+ rr\n- rr\n..." */
};

/* cb(arg, child, rr) for each record; non-zero from cb stops and is returned. */
typedef int (*backend_rr_cb)(void *arg, const uint8_t *child, const struct drr *rr);

struct backend_batch {
	const uint8_t *zone;
	const struct cfg_zone *zcfg;
	const struct backend_change *changes;
	size_t nchanges;
	/* Walk the zone's full current delegation data in canonical order. */
	int (*foreach_rr)(void *ctx, backend_rr_cb cb, void *arg);
	/* One child's current delegation data (its NS and DS, glue below it;
	 * empty when the child has none or is gone) into out. */
	int (*child_deleg)(void *ctx, const uint8_t *child, struct deleg *out);
	void *ctx;
};

struct backend_ops {
	/* the name, settings and check that config reads the backend's group
	 * with (cfg_backend_type; its check is backend_check) */
	const struct cfg_backend_type *type;
	/* Check the settings (bc->settings, the type's struct) and build the
	 * state.  err gets a reason. */
	int (*init)(const struct cfg_backend *bc, const struct cfg_zone *zc, void **state,
		    char *err, size_t errlen);
	void (*free)(void *state);
	int (*deliver)(void *state, const struct backend_batch *b, char *err, size_t errlen);
	/* What the backend's target holds now, every record of the zone to cb
	 * (the drift check, `dsyncd check`); NULL when the backend cannot tell. */
	int (*fetch)(void *state, zf_rr_cb cb, void *arg, char *err, size_t errlen);
	/* deliver() writes the zone's whole current data, whatever the batch's
	 * changes: one delivery covers everything pending (the outbox hands it
	 * all at once). */
	bool snapshot;
	/* What the backend needs on this machine, checked without changing
	 * anything (cfg_backend_type.preflight, run by cfg_preflight: dsyncd -n
	 * and start-up): each problem one line on err; their number.  NULL:
	 * init's checks are all. */
	unsigned (*preflight)(const struct cfg_backend *bc, FILE *err);
};

/*
 * The two tables a backend file gives: backend_<id>_type (config's view:
 * the name "<id>", the settings table and the size of the settings struct
 * it fills; the check is backend_check) and backend_<id>_ops.  Each is
 * listed in the registry of backend.c.
 */
#define BACKEND_DEFINE(id, settings_, size_, init_, free_, deliver_)                               \
	BACKEND_DEFINE_WITH(id, settings_, size_, .init = (init_), .free = (free_),                \
			    .deliver = (deliver_))
/* The same with the ops given as designated initializers (fetch, snapshot). */
#define BACKEND_DEFINE_WITH(id, settings_, size_, ...)                                             \
	const struct cfg_backend_type backend_##id##_type = {.name = #id,                          \
							     .settings = (settings_),              \
							     .size = (size_),                      \
							     .check = backend_check,               \
							     .preflight = backend_preflight};      \
	const struct backend_ops backend_##id##_ops = {.type = &backend_##id##_type, __VA_ARGS__}

/* The ops with this name, or NULL. */
const struct backend_ops *backend_find(const char *name);

/* Hand every backend type to config (cfg_set_backend_types), once, before a
 * configuration is loaded. */
void backends_register(void);

/* cfg_backend_type.check of every backend: its init, then its free. */
int backend_check(const struct cfg_backend *b, const struct cfg_zone *z, char *err, size_t errlen);
/* cfg_backend_type.preflight of every backend: its ops' preflight, if any. */
unsigned backend_preflight(const struct cfg_backend *b, FILE *err);
/* For a backend's preflight: is argv0 (a program the backend runs) there and
 * executable?  One line on err ("WHERE: backend 'NAME': SETTING: ...") when
 * not; the number of problems (0 or 1). */
unsigned backend_preflight_program(const struct cfg_backend *b, const char *setting,
				   const char *argv0, FILE *err);

/*
 * A configured instance (opaque: ops + state + name).
 *
 * backend_new() looks bc->type up in the registry and runs its init; it
 * returns DS_OK and *out (owned by the caller, freed with backend_free), or
 * DS_ECONFIG (unknown type, bad settings; err says why) / DS_ENOMEM.  bc and
 * zc are only read during the call.  The name is bc->name, or the type when
 * bc->name is NULL or empty.
 *
 * backend_deliver() hands one batch to the backend (see the top of this
 * file); err gets a reason on failure.  One instance is not thread-safe:
 * the runner delivers to it from one thread at a time.
 */
struct backend;
int backend_new(const struct cfg_backend *bc, const struct cfg_zone *zc, struct backend **out,
		char *err, size_t errlen);
void backend_free(struct backend *b);
const char *backend_name(const struct backend *b);
int backend_deliver(struct backend *b, const struct backend_batch *batch, char *err, size_t errlen);

/* Is b a snapshot backend (struct backend_ops.snapshot)? */
bool backend_is_snapshot(const struct backend *b);

/* The backend's fetch (see struct backend_ops): DS_ENOTSUP when it has none. */
int backend_fetch(struct backend *b, zf_rr_cb cb, void *arg, char *err, size_t errlen);

/* Successful deliveries since backend_new (status display, tests). */
unsigned long backend_delivered(const struct backend *b);

/*
 * Run argv (argv[0] an absolute path or found in PATH) with execve, no shell,
 * wait at most timeout seconds (then SIGKILL to its process group; 0 means
 * the default, 30).  stdin is /dev/null, stdout and stderr are captured and
 * the first 200 bytes (control bytes replaced) end err on failure; other
 * file descriptors are closed in the child.  Returns DS_OK when it exited 0,
 * else DS_ECHILD with err = "command <path> exited with status N: <output>"
 * (or "killed by signal N", "timed out after N s and was killed", "not
 * found"); DS_EINVAL for an empty argv.  Shared by the backends that run
 * programs (zonefile reload, exec); run_program (common/run.h) does the
 * work.  The caller must not ignore SIGCHLD.
 */
int backend_run(char *const argv[], unsigned timeout, char *err, size_t errlen);

#endif

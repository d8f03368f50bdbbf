/*
 * backends/backend.c -- the backend registry, configured instances, and the
 * backends' way of running external commands (common/run.c).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "common/err.h"
#include "common/run.h"

/* Every backend type, by the id its file gives BACKEND_DEFINE. */
#define BACKEND_IDS(X) X(exec) X(null) X(zonefile) X(dnsupdate) X(powerdns)

/* One ops table per backend file, and config's view of the same (what each
 * type's group may hold), found by name in the registries below. */
#define BACKEND_EXTERN(id)                                                                         \
	extern const struct backend_ops backend_##id##_ops;                                        \
	extern const struct cfg_backend_type backend_##id##_type;
BACKEND_IDS(BACKEND_EXTERN)

#define BACKEND_OPS(id) &backend_##id##_ops,
static const struct backend_ops *const backend_registry[] = {BACKEND_IDS(BACKEND_OPS) NULL};

#define BACKEND_TYPE(id) &backend_##id##_type,
static const struct cfg_backend_type *const backend_types[] = {BACKEND_IDS(BACKEND_TYPE) NULL};

void backends_register(void)
{
	cfg_set_backend_types(backend_types);
}

int backend_check(const struct cfg_backend *b, const struct cfg_zone *z, char *err, size_t errlen)
{
	const struct backend_ops *ops = backend_find(b->type);
	void *state = NULL;
	if (ops == NULL)
		return DS_ECONFIG;
	int rc = ops->init(b, z, &state, err, errlen);
	if (rc == DS_OK && ops->free)
		ops->free(state);
	return rc;
}

unsigned backend_preflight(const struct cfg_backend *b, FILE *err)
{
	const struct backend_ops *ops = backend_find(b->type);
	return ops != NULL && ops->preflight != NULL ? ops->preflight(b, err) : 0;
}

unsigned backend_preflight_program(const struct cfg_backend *b, const char *setting,
				   const char *argv0, FILE *err)
{
	char file[PATH_MAX];
	int rc = run_find(argv0, file, sizeof(file));
	if (rc == DS_OK)
		return 0;
	if (rc == DS_ENOENT)
		cfg_preflight_say(err, b->where, "backend '%s': %s: the program %s %s", b->name,
				  setting, argv0,
				  strchr(argv0, '/') ? "does not exist" : "is not found in PATH");
	else
		cfg_preflight_say(
		    err, b->where, "backend '%s': %s: the program %s cannot be run: %s", b->name,
		    setting, argv0, rc == DS_ELIMIT ? "its name is too long" : strerror(-rc));
	return 1;
}

struct backend {
	const struct backend_ops *ops;
	void *state;
	char *name;
	unsigned long delivered;
};

const struct backend_ops *backend_find(const char *name)
{
	if (name == NULL)
		return NULL;
	for (size_t i = 0; backend_registry[i] != NULL; i++)
		if (strcmp(backend_registry[i]->type->name, name) == 0)
			return backend_registry[i];
	return NULL;
}

int backend_new(const struct cfg_backend *bc, const struct cfg_zone *zc, struct backend **out,
		char *err, size_t errlen)
{
	const struct backend_ops *ops;
	struct backend *b;
	int rc;

	*out = NULL;
	if (errlen > 0)
		err[0] = '\0';
	if (bc == NULL || bc->type == NULL) {
		snprintf(err, errlen, "backend without a type");
		return DS_ECONFIG;
	}
	ops = backend_find(bc->type);
	if (ops == NULL) {
		snprintf(err, errlen, "unknown backend type \"%s\"", bc->type);
		return DS_ECONFIG;
	}
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return DS_ENOMEM;
	b->ops = ops;
	b->name = strdup(bc->name != NULL && bc->name[0] != '\0' ? bc->name : ops->type->name);
	if (b->name == NULL) {
		free(b);
		return DS_ENOMEM;
	}
	rc = ops->init(bc, zc, &b->state, err, errlen);
	if (rc == DS_OK) {
		*out = b;
		return DS_OK;
	}
	free(b->name);
	free(b);
	return rc;
}

void backend_free(struct backend *b)
{
	if (b == NULL)
		return;
	b->ops->free(b->state);
	free(b->name);
	free(b);
}

const char *backend_name(const struct backend *b)
{
	return b->name;
}

unsigned long backend_delivered(const struct backend *b)
{
	return b->delivered;
}

bool backend_is_snapshot(const struct backend *b)
{
	return b->ops->snapshot;
}

int backend_fetch(struct backend *b, zf_rr_cb cb, void *arg, char *err, size_t errlen)
{
	if (b->ops->fetch == NULL) {
		snprintf(err, errlen, "backend %s cannot tell what its target holds", b->name);
		return DS_ENOTSUP;
	}
	return b->ops->fetch(b->state, cb, arg, err, errlen);
}

int backend_deliver(struct backend *b, const struct backend_batch *batch, char *err, size_t errlen)
{
	int rc;

	if (errlen > 0)
		err[0] = '\0';
	rc = b->ops->deliver(b->state, batch, err, errlen);
	if (rc == DS_OK)
		b->delivered++;
	else if (errlen > 0 && err[0] == '\0')
		snprintf(err, errlen, "%s", ds_strerror(rc));
	return rc;
}

/* ------------------------------------------------------------------------ */
/* backend_run                                                              */

#define RUN_DEFAULT_TIMEOUT 30
#define RUN_OUTPUT_KEEP 200 /* bytes of output kept for the error text */

int backend_run(char *const argv[], unsigned timeout, char *err, size_t errlen)
{
	struct run_result res;
	struct run_spec spec = {
	    .argv = argv,
	    .timeout_ms = 1000u * (timeout == 0		       ? RUN_DEFAULT_TIMEOUT
				   : timeout > UINT_MAX / 1000 ? UINT_MAX / 1000
							       : timeout),
	    .capture_max = RUN_OUTPUT_KEEP,
	    .merge_stderr = true,
	};
	int rc = run_program(&spec, &res);
	if (errlen > 0)
		snprintf(err, errlen, "%s", res.error);
	run_result_free(&res);
	return rc;
}

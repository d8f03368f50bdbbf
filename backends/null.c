/*
 * backends/null.c -- the "null" backend: accepts every batch and does
 * nothing with it.  For tests and dry runs (a zone whose accepted changes
 * should only land in the store).  It counts what it was given and logs
 * that at debug level.
 */
#include <stdio.h>
#include <stdlib.h>

#include "backends/backend.h"
#include "common/err.h"
#include "common/log.h"

struct null_state {
	unsigned long batches;
	unsigned long changes;
};

static int null_init(const struct cfg_backend *bc, const struct cfg_zone *zc, void **state,
		     char *err, size_t errlen)
{
	struct null_state *st;

	(void)bc;
	(void)zc;
	(void)err;
	(void)errlen;
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return DS_ENOMEM;
	*state = st;
	return DS_OK;
}

static void null_free(void *state)
{
	free(state);
}

static int null_deliver(void *state, const struct backend_batch *b, char *err, size_t errlen)
{
	struct null_state *st = state;

	(void)err;
	(void)errlen;
	st->batches++;
	st->changes += b->nchanges;
	log_debug("null backend: batch %lu with %zu change(s) accepted (%lu change(s) in total)",
		  st->batches, b->nchanges, st->changes);
	return DS_OK;
}

/* no settings of its own: any other setting is unknown to config */
static const struct cfg_setting null_settings[] = {{.name = NULL}};

/* size 1: an empty settings struct */
BACKEND_DEFINE(null, null_settings, 1, null_init, null_free, null_deliver);

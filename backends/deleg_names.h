/*
 * backends/deleg_names.h -- one child's delegation as the backends that
 * replace it whole (dnsupdate, powerdns) need it: the store's current
 * records and every glue name the child has now or had.
 */
#ifndef DS_BACKENDS_DELEG_NAMES_H
#define DS_BACKENDS_DELEG_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backends/backend.h"
#include "common/deleg.h"

#define DELEG_NAMES_MAX (2 * DELEG_MAX)

/* The names of glue records (A/AAAA strictly below the child), each once. */
struct deleg_names {
	uint8_t name[DELEG_NAMES_MAX][DNAME_MAX];
	size_t n;
};

/* A child of a batch: its current delegation and its glue names. */
struct deleg_child {
	struct deleg d;
	struct deleg_names glue;
};

/* Is b->changes[i] the first change of its child (one replacement per child)? */
bool deleg_first_change(const struct backend_batch *b, size_t i);

/*
 * Child's current delegation (b->child_deleg) into c->d, and into c->glue
 * the glue names the batch's "+ rr" / "- rr" lines of child name (records
 * it had), then those of c->d (records it has), in that order.  Returns
 * DS_OK or child_deleg's error.
 */
int deleg_child_load(const struct backend_batch *b, const uint8_t *child, struct deleg_child *c);

#endif

/*
 * keys/deleg_ops.h -- the operator's delegation changes, shared by
 * `dsyncd delegation add|delete` and the admin API: a child created with
 * its delegation, a child deleted with its delegation and its keys.  Each
 * is one store transaction with its audit row, and the change goes to the
 * backends through the outbox as an accepted UPDATE's does
 * (store_deleg_change).
 */
#ifndef DS_KEYS_DELEG_OPS_H
#define DS_KEYS_DELEG_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "keys/keys.h"
#include "store/store.h"

#define DELEG_OP_CHANGES_MAX 8192

struct deleg_op {
	/* in: who asks, for the audit row */
	const char *actor;   /* "api:<token name>", "dsyncd-cli" */
	const char *client;  /* "local", or the API client's address */
	const char *request; /* "POST /api/v1/children/...", "delegation add" */
	const char *reason;  /* the operator's note, or NULL */
	/* out */
	const struct cfg_zone *zone; /* the child's parent zone */
	uint8_t child[DNAME_MAX];
	char name[DNAME_STR_MAX]; /* the child in presentation form */
	int64_t change_id;	  /* the outbox change, 0 when nothing went out */
	char changes[DELEG_OP_CHANGES_MAX];
	struct keyrows gone;	     /* delete: the child's keys, state revoked, for keycache_put */
	char why[3 * DNAME_STR_MAX]; /* what refused the change */
};

/* The records of a new delegation as the operator gives them, in text. */
struct deleg_input {
	const char *const *ns; /* NS target names */
	size_t nns;
	const char *const *ds; /* DS RDATA: "KEYTAG ALG DIGESTTYPE DIGEST" */
	size_t nds;
	const char *const *glue_name; /* glue: owner name and IPv4/IPv6 address */
	const char *const *glue_addr;
	size_t nglue;
};

/*
 * The child named name (presentation form; letters, digits, hyphens) and
 * its parent: the most specific configured zone strictly above it, into
 * op->child, op->name and op->zone.  DS_EINVAL (bad name) or DS_ENOENT (no
 * configured zone above it), with op->why.
 */
int deleg_op_child(const struct cfg *cfg, const char *name, struct deleg_op *op);

/*
 * The delegation in in for op's child (deleg_op_child first) into out,
 * sorted, with the zone's delegation TTL, checked against the zone's
 * policy (policy_deleg_check).  DS_EINVAL with op->why when a record is
 * malformed, given twice or against the policy.
 */
int deleg_op_records(const struct deleg_input *in, struct deleg_op *op, struct deleg *out);

/*
 * Create op's child with delegation d (may be empty).  DS_EEXIST when the
 * child exists already; else the store's error.  Nothing is changed unless
 * DS_OK.
 */
int deleg_op_add(struct store *s, const struct deleg *d, struct deleg_op *op);

/*
 * Delete op's child: its NS, DS and glue (the backends remove them), its
 * keys and their validations.  DS_ENOENT when it is no delegation of its
 * zone, DS_EINVAL when the configuration lists it (the next start would
 * make it again); else the store's error.  Nothing is changed unless DS_OK.
 * Free op->gone with deleg_op_free().
 */
int deleg_op_delete(struct store *s, struct deleg_op *op);
/* The same inside the caller's transaction, for a child of the stored zone
 * zone_id, whether or not the configuration lists it (an import's --prune). */
int deleg_op_remove(struct store *s, int64_t zone_id, struct deleg_op *op);
/* Does the configuration list op's child (deleg_op_child first)? */
bool deleg_op_in_config(const struct deleg_op *op);
void deleg_op_free(struct deleg_op *op);

#endif

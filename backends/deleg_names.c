/*
 * backends/deleg_names.c -- one child's delegation and glue names, for the
 * backends that replace a child's delegation as a whole.
 */
#include <stdio.h>
#include <string.h>

#include "backends/deleg_names.h"
#include "common/dname.h"
#include "common/err.h"
#include "common/zonefile.h"

bool deleg_first_change(const struct backend_batch *b, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (dname_equal(b->changes[j].child, b->changes[i].child))
			return false;
	return true;
}

static void glue_add(struct deleg_names *g, const uint8_t *child, const uint8_t *owner,
		     uint16_t type)
{
	if ((type != T_A && type != T_AAAA) || !dname_is_strict_sub(owner, child))
		return;
	for (size_t i = 0; i < g->n; i++)
		if (dname_equal(g->name[i], owner))
			return;
	if (g->n < DELEG_NAMES_MAX)
		memcpy(g->name[g->n++], owner, dname_len(owner));
}

/* Glue names the changes' "+ rr" / "- rr" lines name (records the child had). */
static void glue_from_changes(struct deleg_names *g, const uint8_t *child, const char *changes)
{
	for (const char *p = changes; p && *p;) {
		size_t n = strcspn(p, "\n");
		char line[1024];
		uint8_t owner[DNAME_MAX], rd[DRR_RDATA_MAX];
		uint16_t type;
		uint32_t ttl;
		size_t rdlen;
		snprintf(line, sizeof(line), "%.*s", (int)n, p);
		if ((line[0] == '+' || line[0] == '-') &&
		    zonefile_rr_from_str(line + 1, owner, &type, &ttl, rd, sizeof(rd), &rdlen, NULL,
					 0) == DS_OK)
			glue_add(g, child, owner, type);
		p += n + (p[n] == '\n');
	}
}

int deleg_child_load(const struct backend_batch *b, const uint8_t *child, struct deleg_child *c)
{
	c->glue.n = 0;
	int rc = b->child_deleg(b->ctx, child, &c->d);
	if (rc != DS_OK)
		return rc;
	for (size_t i = 0; i < b->nchanges; i++)
		if (dname_equal(b->changes[i].child, child))
			glue_from_changes(&c->glue, child, b->changes[i].changes);
	for (size_t i = 0; i < c->d.n; i++)
		glue_add(&c->glue, child, c->d.rr[i].owner, c->d.rr[i].type);
	return DS_OK;
}

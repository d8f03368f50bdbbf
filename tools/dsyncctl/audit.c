/*
 * tools/dsyncctl/audit.c -- what the receiver did and what waits: the keys
 * waiting for the operator, the automatic validations, the audit log.
 */
#include <stdio.h>
#include <stdlib.h>

#include "tools/dsyncctl/dsyncctl.h"

int cmd_pending(struct ctl *c, char **arg)
{
	(void)arg;
	return list_cmd(c, "/api/v1/pending", true, PENDING_COLS);
}

int cmd_validations(struct ctl *c, char **arg)
{
	(void)arg;
	return list_cmd(c, "/api/v1/validations", true, VALIDATION_COLS);
}

int cmd_audit(struct ctl *c, char **arg)
{
	char *p = xstrdup("/api/v1/audit"), num[32];
	int rc;

	(void)arg;
	p = add_query(c, p, "child", c->child);
	p = add_query(c, p, "result", c->result);
	if (c->has_since) {
		snprintf(num, sizeof(num), "%lld", c->since);
		p = add_query(c, p, "since", num);
	}
	if (c->has_until) {
		snprintf(num, sizeof(num), "%lld", c->until);
		p = add_query(c, p, "until", num);
	}
	rc = list_cmd(c, p, true, AUDIT_COLS);
	free(p);
	return rc;
}

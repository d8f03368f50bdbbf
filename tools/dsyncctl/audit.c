/*
 * tools/dsyncctl/audit.c -- what the receiver did: validations and the audit log.
 */
#include <stdio.h>
#include <stdlib.h>

#include "tools/dsyncctl/dsyncctl.h"

static const struct col VALIDATION_COLS[] = {
    {"KEY", "key_id", F_TEXT},
    {"CHILD", "child", F_TEXT},
    {"TAG", "tag", F_TEXT},
    {"ATTEMPTS", "attempts", F_TEXT},
    {"ROUNDS", "rounds", F_TEXT},
    {"NEXT", "next_time", F_TIME},
    {"LAST-RESULT", "last_result", F_TEXT},
};

static const struct col AUDIT_COLS[] = {
    {"ID", "id", F_TEXT},	  {"TIME", "time", F_TIME},    {"CLIENT", "client", F_TEXT},
    {"CHILD", "child", F_TEXT},	  {"TAG", "key_tag", F_TEXT},  {"ACTOR", "actor", F_TEXT},
    {"RESULT", "result", F_TEXT}, {"RCODE", "rcode", F_RCODE}, {"REASON", "reason", F_TEXT},
};

int cmd_validations(struct ctl *c, char **arg)
{
	(void)arg;
	return list_cmd(c, "/api/v1/validations", true, VALIDATION_COLS, NCOL(VALIDATION_COLS));
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
	rc = list_cmd(c, p, true, AUDIT_COLS, NCOL(AUDIT_COLS));
	free(p);
	return rc;
}

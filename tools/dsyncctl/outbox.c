/*
 * tools/dsyncctl/outbox.c -- the changes on their way to the backends: outbox, retry.
 */
#include <stdio.h>
#include <stdlib.h>

#include "tools/dsyncctl/dsyncctl.h"

static const struct col OUTBOX_COLS[] = {
    {"ID", "id", F_TEXT},
    {"CHANGE", "change_id", F_TEXT},
    {"CHILD", "child", F_TEXT},
    {"BACKEND", "backend", F_TEXT},
    {"STATE", "state", F_TEXT},
    {"ATTEMPTS", "attempts", F_TEXT},
    {"CREATED", "created", F_TIME},
    {"NEXT-ATTEMPT", "next_attempt", F_TIME},
    {"DELIVERED", "delivered_time", F_TIME},
    {"LAST-ERROR", "last_error", F_TEXT},
};

int cmd_outbox(struct ctl *c, char **arg)
{
	char *p = add_query(c, xstrdup("/api/v1/outbox"), "state", c->state);
	int rc = list_cmd(c, p, true, OUTBOX_COLS, NCOL(OUTBOX_COLS));

	(void)arg;
	free(p);
	return rc;
}

int cmd_retry(struct ctl *c, char **arg)
{
	json_t *o = NULL;
	char *p;
	int rc = id_arg(arg[0], "delivery ID");

	if (rc != 0)
		return rc;
	p = xasprintf("/api/v1/outbox/%s/retry", arg[0]);
	rc = api(c, "POST", p, NULL, &o);
	if (rc == 0)
		rc = need_object(o, p);
	if (rc == 0)
		rc = show_one(c, o, OUTBOX_COLS, NCOL(OUTBOX_COLS));
	free(p);
	json_decref(o);
	return rc;
}

/*
 * tools/dsyncctl/outbox.c -- the changes on their way to the backends: outbox, retry,
 * and where each backend stands: backends.
 */
#include <stdio.h>
#include <stdlib.h>

#include "tools/dsyncctl/dsyncctl.h"

int cmd_outbox(struct ctl *c, char **arg)
{
	char *p = add_query(c, xstrdup("/api/v1/outbox"), "state", c->state);
	int rc = list_cmd(c, p, true, OUTBOX_COLS);

	(void)arg;
	free(p);
	return rc;
}

int cmd_retry(struct ctl *c, char **arg)
{
	return action_cmd(c, arg[0], "delivery ID", "/api/v1/outbox/", "/retry", OUTBOX_COLS);
}

int cmd_backends(struct ctl *c, char **arg)
{
	(void)arg;
	return list_cmd(c, "/api/v1/backends", false, BACKEND_COLS);
}

/*
 * tools/dsyncctl/children.c -- the zones and their children: zones, children ZONE, child show NAME,
 * delegation add|delete NAME.
 */
#include <stdio.h>
#include <stdlib.h>

#include "tools/dsyncctl/dsyncctl.h"

int cmd_zones(struct ctl *c, char **arg)
{
	(void)arg;
	return list_cmd(c, "/api/v1/zones", false, ZONE_COLS);
}

int cmd_children(struct ctl *c, char **arg)
{
	char *p = path1(c, "/api/v1/zones/", arg[0], "/children");
	int rc = list_cmd(c, p, true, CHILD_COLS);

	free(p);
	return rc;
}

/* A child as GET /api/v1/children/NAME gives it: a table, or the JSON. */
static int show_child(struct ctl *c, json_t *o)
{
	json_t *deleg, *keys, *m;
	struct table t;
	size_t i;

	if (c->json)
		return print_json(o);
	deleg = json_object_get(o, "delegation");
	keys = json_object_get(o, "keys");
	tab_init(&t, 2);
	tab_field(&t, "child", text(json_object_get(o, "name")));
	tab_field(&t, "zone", text(json_object_get(o, "zone")));
	if (json_array_size(deleg) == 0)
		tab_field(&t, "delegation", xstrdup("-"));
	json_array_foreach(deleg, i, m)
	{
		tab_field(&t, i == 0 ? "delegation" : "", text(m));
	}
	if (json_array_size(keys) == 0)
		tab_field(&t, "keys", xstrdup("-"));
	tab_print(&t);
	if (json_array_size(keys) > 0) {
		putchar('\n');
		tab_items(keys, KEY_COLS);
	}
	return 0;
}

int cmd_child_show(struct ctl *c, char **arg)
{
	char *p = path1(c, "/api/v1/children/", arg[0], "");
	json_t *o = NULL;
	int rc = call_object(c, "GET", p, NULL, &o);

	free(p);
	if (rc == 0)
		rc = show_child(c, o);
	json_decref(o);
	return rc;
}

/* {"reason": ...} when --reason was given, else an empty object */
static json_t *reason_body(struct ctl *c)
{
	json_t *b = jnn(json_object());

	if (c->reason != NULL && json_object_set_new(b, "reason", json_string(c->reason)) != 0)
		oom(); /* json_string is NULL for text that is not UTF-8: refused before */
	return b;
}

int cmd_deleg_add(struct ctl *c, char **arg)
{
	json_t *body = reason_body(c), *o = NULL;
	char *p = path1(c, "/api/v1/children/", arg[0], "");
	int rc;

	if (c->ns != NULL)
		json_object_set(body, "ns", c->ns);
	if (c->ds != NULL)
		json_object_set(body, "ds", c->ds);
	if (c->glue != NULL)
		json_object_set(body, "glue", c->glue);
	rc = call_object(c, "POST", p, body, &o);
	if (rc == 0)
		rc = show_child(c, o);
	free(p);
	json_decref(body);
	json_decref(o);
	return rc;
}

int cmd_deleg_delete(struct ctl *c, char **arg)
{
	json_t *body = reason_body(c), *o = NULL;
	char *p = path1(c, "/api/v1/children/", arg[0], "");
	int rc = api(c, "DELETE", p, body, &o);

	if (rc == 0 && c->json && o != NULL)
		rc = print_json(o);
	else if (rc == 0 && !c->json)
		printf("delegation %s deleted\n", arg[0]);
	free(p);
	json_decref(body);
	json_decref(o);
	return rc;
}

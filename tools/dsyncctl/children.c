/*
 * tools/dsyncctl/children.c -- the zones and their children: zones, children ZONE, child show NAME.
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

int cmd_child_show(struct ctl *c, char **arg)
{
	char *p = path1(c, "/api/v1/children/", arg[0], "");
	json_t *o = NULL, *deleg, *keys, *m;
	struct table t;
	size_t i;
	int rc = call_object(c, "GET", p, NULL, &o);

	free(p);
	if (rc != 0 || c->json) {
		rc = rc != 0 ? rc : print_json(o);
		json_decref(o);
		return rc;
	}
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
	json_decref(o);
	return 0;
}

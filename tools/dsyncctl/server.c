/*
 * tools/dsyncctl/server.c -- the daemon itself: records, receiver-key, config, health.
 */
#include <stdio.h>
#include <stdlib.h>

#include "tools/dsyncctl/dsyncctl.h"

/* zone-file text, not JSON: written to stdout as it arrives (it may be as
 * large as the zone), --json or not */
int cmd_records(struct ctl *c, char **arg)
{
	struct answer a = {0};
	char *p = arg[0] != NULL ? path1(c, "/api/v1/records?zone=", arg[0], "")
				 : xstrdup("/api/v1/records");
	int rc;

	a.stream = true;
	rc = transfer(c, "GET", p, NULL, "text/plain, application/json", &a);
	if (rc == 0 && (a.status < 200 || a.status > 299))
		rc = answer_fail(c, &a);
	free(a.body);
	free(p);
	return rc;
}

static int show_rkey(struct ctl *c, json_t *o)
{
	struct table t;

	if (c->json)
		return print_json(o);
	tab_init(&t, 2);
	tab_field(&t, "name", text(json_object_get(o, "name")));
	tab_print(&t);
	putchar('\n');
	tab_items(json_object_get(o, "keys"), RKEY_COLS);
	return 0;
}

int cmd_rkey_show(struct ctl *c, char **arg)
{
	(void)arg;
	return object_cmd(c, "GET", "/api/v1/receiver-key", show_rkey);
}

int cmd_rkey_roll(struct ctl *c, char **arg)
{
	(void)arg;
	return object_cmd(c, "POST", "/api/v1/receiver-key/roll", show_rkey);
}

int cmd_config(struct ctl *c, char **arg)
{
	(void)arg;
	return object_cmd(c, "GET", "/api/v1/config", show_flat);
}

/* POST /api/v1/reload: what runs now, and what waits for a restart */
static int show_reload(struct ctl *c, json_t *o)
{
	json_t *r = json_object_get(o, "restart_needed");
	char *sum = text(json_object_get(o, "summary"));
	size_t i;
	json_t *v;

	if (c->json) {
		free(sum);
		return print_json(o);
	}
	printf("configuration reloaded: %s\n", sum);
	free(sum);
	json_array_foreach(r, i, v)
	    printf("takes effect at the next restart: %s\n", json_string_value(v));
	return 0;
}

int cmd_reload(struct ctl *c, char **arg)
{
	(void)arg;
	return object_cmd(c, "POST", "/api/v1/reload", show_reload);
}

/* The first reason of a /readyz report ("-" when none); the caller frees. */
static char *first_reason(json_t *o)
{
	json_t *r = json_array_get(json_object_get(o, "reasons"), 0);
	return text(json_is_string(r) ? r : NULL);
}

/* /readyz: a 503 still carries the report; it is shown, the status is 1
 * (the question was answered: not ready) */
int cmd_health(struct ctl *c, char **arg)
{
	struct answer a = {0};
	json_t *o = NULL;
	int rc;

	(void)arg;
	rc = transfer(c, "GET", "/readyz", NULL, "application/json", &a);
	if (rc == 0 && a.status == 503 && a.len > 0 &&
	    (o = json_loadb(a.body, a.len, 0, NULL)) != NULL && json_is_object(o)) {
		char *why = first_reason(o);

		show_flat(c, o);
		rc = cli_fail(RC_REFUSED, "dsyncd is not ready: %s", why);
		free(why);
	} else if (rc == 0 && (a.status < 200 || a.status > 299)) {
		rc = answer_fail(c, &a);
	} else if (rc == 0) {
		rc = parse_json(&a, "GET", "/readyz", &o);
		if (rc == 0)
			rc = need_object(o, "/readyz");
		if (rc == 0)
			rc = show_flat(c, o);
	}
	json_decref(o);
	free(a.body);
	return rc;
}

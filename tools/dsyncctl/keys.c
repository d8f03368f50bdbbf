/*
 * tools/dsyncctl/keys.c -- a child's keys: keys NAME, key add, key trust|revoke|delete ID.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/dsyncctl/dsyncctl.h"

int cmd_keys(struct ctl *c, char **arg)
{
	char *p = path1(c, "/api/v1/children/", arg[0], "/keys");
	int rc = list_cmd(c, p, false, KEY_COLS);

	free(p);
	return rc;
}

/* The KEY record text: the argument itself, or, when it has no white
 * space, the one record in that file (a BIND K*.key file). */
static int key_text(const char *arg, char **out)
{
	struct stat st;
	char *buf, *line, *save = NULL, *found = NULL;
	size_t n = strlen(arg);
	int rc;

	*out = NULL;
	if (strpbrk(arg, " \t") != NULL) {
		*out = xstrdup(arg);
		return 0;
	}
	if (n >= 8 && strcmp(arg + n - 8, ".private") == 0)
		return cli_fail(RC_USAGE, "%s is a private key: give the .key file", arg);
	if ((rc = read_small(arg, "key file", &buf, &st)) != 0)
		return rc;
	for (line = strtok_r(buf, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		line = trim(line);
		if (*line == '\0' || *line == ';')
			continue;
		if (found != NULL) {
			rc = cli_fail(RC_DATA, "key file %s holds more than one record", arg);
			break;
		}
		found = line;
	}
	if (rc == 0 && found == NULL)
		rc = cli_fail(RC_DATA, "key file %s holds no record", arg);
	if (rc == 0)
		*out = xstrdup(found);
	free(buf);
	return rc;
}

int cmd_key_add(struct ctl *c, char **arg)
{
	json_t *body, *s, *o = NULL;
	char *txt, *p;
	int rc = key_text(arg[1], &txt);

	if (rc != 0)
		return rc;
	if ((s = json_string(txt)) == NULL) {
		free(txt);
		return cli_fail(RC_DATA, "the key text is not valid UTF-8");
	}
	free(txt);
	body = jnn(json_pack("{s:o}", "key", s));
	p = path1(c, "/api/v1/children/", arg[0], "/keys");
	rc = call_object(c, "POST", p, body, &o);
	if (rc == 0)
		rc = show_one(c, o, KEY_COLS);
	free(p);
	json_decref(body);
	json_decref(o);
	return rc;
}

int cmd_key_trust(struct ctl *c, char **arg)
{
	return action_cmd(c, arg[0], "key ID", "/api/v1/keys/", "/trust", KEY_COLS);
}

int cmd_key_revoke(struct ctl *c, char **arg)
{
	return action_cmd(c, arg[0], "key ID", "/api/v1/keys/", "/revoke", KEY_COLS);
}

int cmd_key_delete(struct ctl *c, char **arg)
{
	json_t *o = NULL;
	char *p;
	int rc = id_path(arg[0], "key ID", "/api/v1/keys/", "", &p);

	if (rc != 0)
		return rc;
	rc = api(c, "DELETE", p, NULL, &o);
	free(p);
	if (rc == 0 && c->json && o != NULL)
		rc = print_json(o);
	else if (rc == 0 && !c->json)
		printf("key %s deleted\n", arg[0]);
	json_decref(o);
	return rc;
}

/*
 * tools/dsyncctl/keys.c -- a child's keys: keys NAME, key add, key trust|revoke|delete KEY.
 * KEY is what the API takes (doc/api.md): CHILD/TAG, CHILD/TAG/ALG or the
 * key's id; CHILD TAG (two words) is taken as CHILD/TAG.
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

/* KEY from the words after the command (one, or CHILD TAG); the caller frees */
static char *key_arg(char **arg)
{
	return arg[1] != NULL ? xasprintf("%s/%s", arg[0], arg[1]) : xstrdup(arg[0]);
}

/* the shape of KEY: an id (1 or more), or something/DIGITS (the API
 * checks the rest: the child, the tag, the algorithm) */
static bool key_ok(const char *k)
{
	const char *slash = strrchr(k, '/'), *tail = slash ? slash + 1 : k;
	size_t n = strlen(tail);

	if (n == 0 || n > 19 || strspn(tail, "0123456789") != n || strpbrk(k, "\r\n") != NULL)
		return false;
	return slash != NULL ? slash != k : strspn(k, "0") != n;
}

/* METHOD /api/v1/keys/KEY SUFFIX; the key as it is now into *o (NULL for 204) */
static int key_call(struct ctl *c, char **arg, const char *method, const char *suffix, json_t **o)
{
	char *k = key_arg(arg), *p;
	int rc;

	*o = NULL;
	if (!key_ok(k)) {
		char *d = clean(k);
		rc = cli_fail(RC_USAGE,
			      "KEY must be CHILD/TAG, CHILD/TAG/ALG or the key's id, not '%s'", d);
		free(d);
		return rc;
	}
	p = path1(c, "/api/v1/keys/", k, suffix);
	rc = api(c, method, p, NULL, o);
	free(p);
	free(k);
	return rc;
}

static int key_change(struct ctl *c, char **arg, const char *suffix)
{
	json_t *o = NULL;
	int rc = key_call(c, arg, "POST", suffix, &o);

	if (rc == 0)
		rc = need_object(o, suffix + 1);
	if (rc == 0)
		rc = show_one(c, o, KEY_COLS);
	json_decref(o);
	return rc;
}

int cmd_key_trust(struct ctl *c, char **arg)
{
	return key_change(c, arg, "/trust");
}

int cmd_key_revoke(struct ctl *c, char **arg)
{
	return key_change(c, arg, "/revoke");
}

int cmd_key_delete(struct ctl *c, char **arg)
{
	json_t *o = NULL;
	char *k = key_arg(arg);
	int rc = key_call(c, arg, "DELETE", "", &o);

	if (rc == 0 && c->json && o != NULL)
		rc = print_json(o);
	else if (rc == 0 && !c->json)
		printf("key %s deleted\n", k);
	free(k);
	json_decref(o);
	return rc;
}

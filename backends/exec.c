/*
 * backends/exec.c -- the "exec" backend: runs a program of the operator's
 * (an EPP client, a registry's API client) with each batch as a versioned
 * JSON document on its standard input.  Exit status 0 means delivered;
 * anything else fails the delivery, and the outbox retries it later with
 * the same document.  The document's shape is described in
 * doc/backends.md ("exec"); EXEC_VERSION changes when it does.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "backends/exec.h"
#include "common/dname.h"
#include "common/err.h"
#include "common/log.h"
#include "common/rrtext.h"
#include "common/run.h"

#define EXEC_VERSION 1
#define EXEC_PATH "PATH=/usr/bin:/bin"
#define EXEC_ENV_BASE 3 /* PATH, DSYNCD_ZONE, DSYNCD_BACKEND */

struct exec_state {
	char **argv;
	char **env; /* the configured entries, NULL-terminated (maybe empty) */
	char *name; /* the backend's name, for the document and DSYNCD_BACKEND */
	unsigned timeout;
	size_t max_output;
};

/* ------------------------------------------------------------------------ */
/* settings                                                                 */

static void strv_free(char **v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* A copy of a NULL-terminated list (NULL gives an empty list); NULL when out of memory. */
static char **strv_copy(char *const *v)
{
	size_t n = 0;
	while (v != NULL && v[n] != NULL)
		n++;
	char **c = calloc(n + 1, sizeof(*c));
	for (size_t i = 0; c != NULL && i < n; i++)
		if ((c[i] = strdup(v[i])) == NULL) {
			strv_free(c);
			return NULL;
		}
	return c;
}

/* Is entry "NAME=value" with a NAME a shell would accept, and not one dsyncd sets? */
static bool exec_env_ok(const char *entry)
{
	size_t n = strcspn(entry, "=");
	if (n == 0 || entry[n] != '=' || (entry[0] >= '0' && entry[0] <= '9'))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = entry[i];
		if (!(c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9')))
			return false;
	}
	return strncmp(entry, "DSYNCD_", 7) != 0;
}

/* The settings' problem, or NULL. */
static const char *exec_check(const struct exec_settings *set)
{
	if (set == NULL || set->command == NULL || set->command[0] == NULL)
		return "exec backend needs a command";
	/* a relative path would depend on the daemon's working directory */
	if (set->command[0][0] != '/' && strchr(set->command[0], '/') != NULL)
		return "the command must be an absolute path or a name found in PATH";
	for (size_t i = 0; set->environment != NULL && set->environment[i] != NULL; i++)
		if (!exec_env_ok(set->environment[i]))
			return "environment entries must be NAME=value, NAME not starting "
			       "with DSYNCD_";
	return NULL;
}

static void exec_free(void *state)
{
	struct exec_state *st = state;
	if (st == NULL)
		return;
	strv_free(st->argv);
	strv_free(st->env);
	free(st->name);
	free(st);
}

static int exec_init(const struct cfg_backend *bc, const struct cfg_zone *zc, void **state,
		     char *err, size_t errlen)
{
	const char *where = bc->where != NULL ? bc->where : "exec backend";
	const struct exec_settings *set = bc->settings;
	const char *bad = exec_check(set);

	(void)zc;
	*state = NULL;
	if (bad != NULL) {
		snprintf(err, errlen, "%s: %s", where, bad);
		return DS_ECONFIG;
	}
	struct exec_state *st = calloc(1, sizeof(*st));
	if (st == NULL)
		return DS_ENOMEM;
	st->timeout = set->timeout;
	st->max_output = set->max_output;
	st->argv = strv_copy(set->command);
	st->env = strv_copy(set->environment);
	st->name = strdup(bc->name != NULL && bc->name[0] != '\0' ? bc->name : "exec");
	if (st->argv == NULL || st->env == NULL || st->name == NULL) {
		exec_free(st);
		return DS_ENOMEM;
	}
	*state = st;
	return DS_OK;
}

/* ------------------------------------------------------------------------ */
/* the document                                                             */

/* One entry of "changes": the child's object and its three record sets. */
struct exec_child {
	const uint8_t *child;
	json_t *ns, *ds, *glue;
};

struct exec_doc {
	struct exec_child *c;
	size_t n;
	char *err;
	size_t errlen;
};

/* Append s to array a; false when out of memory. */
static bool exec_push(json_t *a, const char *s, size_t len)
{
	return json_array_append_new(a, json_stringn(s, len)) == 0;
}

/*
 * A change's "add" and "remove" lists from its "+ rr" / "- rr" lines.  The
 * store cuts an oversized summary with a "..." line: "truncated" says so.
 */
static int exec_lines(json_t *obj, const char *changes)
{
	json_t *add = json_array(), *rem = json_array();
	bool truncated = false, ok = true;

	for (const char *p = changes; p != NULL && *p != '\0';) {
		size_t n = strcspn(p, "\n");
		if (n > 2 && (p[0] == '+' || p[0] == '-') && p[1] == ' ')
			ok = ok && exec_push(p[0] == '+' ? add : rem, p + 2, n - 2);
		else if (n == 3 && memcmp(p, "...", 3) == 0)
			truncated = true;
		p += n + (p[n] == '\n');
	}
	if (json_object_set_new(obj, "add", add) != 0 ||
	    json_object_set_new(obj, "remove", rem) != 0 || !ok)
		return DS_ENOMEM;
	if (truncated && json_object_set_new(obj, "truncated", json_true()) != 0)
		return DS_ENOMEM;
	return DS_OK;
}

/* The object of one change, its ns/ds/glue arrays left empty for the walk. */
static json_t *exec_change(const struct backend_change *ch, struct exec_child *c)
{
	char name[DNAME_STR_MAX];
	json_t *obj = json_object();

	c->child = ch->child;
	c->ns = json_array();
	c->ds = json_array();
	c->glue = json_array();
	if (obj == NULL || dname_to_str(ch->child, name, sizeof(name)) != DS_OK ||
	    json_object_set_new(obj, "child", json_string(name)) != 0 ||
	    exec_lines(obj, ch->changes) != DS_OK || json_object_set(obj, "ns", c->ns) != 0 ||
	    json_object_set(obj, "ds", c->ds) != 0 || json_object_set(obj, "glue", c->glue) != 0) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

/* foreach_rr callback: a record of the zone into the sets of its child's changes. */
static int exec_rr(void *arg, const uint8_t *child, const struct drr *rr)
{
	struct exec_doc *d = arg;
	char line[4096];
	bool text = false;

	for (size_t i = 0; i < d->n; i++) {
		struct exec_child *c = &d->c[i];
		json_t *set = rr->type == T_NS ? c->ns : rr->type == T_DS ? c->ds : c->glue;
		if (!dname_equal(c->child, child) ||
		    (rr->type != T_NS && rr->type != T_DS && rr->type != T_A && rr->type != T_AAAA))
			continue;
		if (!text && rr_to_str(rr->owner, rr->ttl, rr->type, rr->rdata, rr->rdlen, line,
				       sizeof(line)) != DS_OK) {
			dname_to_str(child, line, sizeof(line));
			snprintf(d->err, d->errlen, "cannot write a record of child %s (type %u)",
				 line, rr->type);
			return DS_EMALF;
		}
		text = true;
		if (!exec_push(set, line, strlen(line)))
			return DS_ENOMEM;
	}
	return DS_OK;
}

/* The "changes" array, filled from the batch's lines and the zone's data. */
static int exec_changes(const struct backend_batch *b, json_t *arr, char *err, size_t errlen)
{
	struct exec_doc d = {
	    .c = calloc(b->nchanges + 1, sizeof(*d.c)), .err = err, .errlen = errlen};
	int rc = d.c != NULL ? DS_OK : DS_ENOMEM;

	for (size_t i = 0; rc == DS_OK && i < b->nchanges; i++) {
		json_t *obj = exec_change(&b->changes[i], &d.c[d.n]);
		d.n++;
		if (obj == NULL || json_array_append_new(arr, obj) != 0)
			rc = DS_ENOMEM;
	}
	if (rc == DS_OK) {
		rc = b->foreach_rr(b->ctx, exec_rr, &d);
		if (rc != DS_OK && err[0] == '\0')
			snprintf(err, errlen, "reading the delegation data: %s", ds_strerror(rc));
	}
	for (size_t i = 0; i < d.n; i++) {
		json_decref(d.c[i].ns);
		json_decref(d.c[i].ds);
		json_decref(d.c[i].glue);
	}
	free(d.c);
	return rc;
}

/* The whole document as text (malloc'd), or NULL with err set. */
static char *exec_document(const struct exec_state *st, const struct backend_batch *b, char *err,
			   size_t errlen)
{
	char zone[DNAME_STR_MAX];
	json_t *doc = json_object(), *arr = json_array();
	char *text = NULL;
	int rc = doc != NULL && arr != NULL ? DS_OK : DS_ENOMEM;

	if (rc == DS_OK && dname_to_str(b->zone, zone, sizeof(zone)) != DS_OK)
		rc = DS_ELIMIT;
	if (rc == DS_OK && (json_object_set_new(doc, "version", json_integer(EXEC_VERSION)) != 0 ||
			    json_object_set_new(doc, "zone", json_string(zone)) != 0 ||
			    json_object_set_new(doc, "backend", json_string(st->name)) != 0 ||
			    json_object_set(doc, "changes", arr) != 0))
		rc = DS_ENOMEM;
	if (rc == DS_OK)
		rc = exec_changes(b, arr, err, errlen);
	if (rc == DS_OK)
		text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (text == NULL && err[0] == '\0')
		snprintf(err, errlen, "building the document: %s",
			 ds_strerror(rc != DS_OK ? rc : DS_ENOMEM));
	json_decref(arr);
	json_decref(doc);
	return text;
}

/* ------------------------------------------------------------------------ */
/* delivery                                                                 */

/* "NAME=value" (malloc'd), or NULL when out of memory. */
static char *exec_var(const char *name, const char *value)
{
	size_t n = strlen(name) + strlen(value) + 2;
	char *v = malloc(n);
	if (v != NULL)
		snprintf(v, n, "%s=%s", name, value);
	return v;
}

/* Does list set the variable name? */
static bool exec_env_sets(char *const *list, const char *name)
{
	size_t n = strlen(name);
	for (; *list != NULL; list++)
		if (strncmp(*list, name, n) == 0 && (*list)[n] == '=')
			return true;
	return false;
}

/*
 * The program's whole environment: PATH (unless configured), DSYNCD_ZONE
 * and DSYNCD_BACKEND, then the configured entries; nothing of the daemon's.
 */
static char **exec_env(const struct exec_state *st, const char *zone)
{
	size_t k = 0, o = 0;
	while (st->env[k] != NULL)
		k++;
	char **e = calloc(EXEC_ENV_BASE + k + 1, sizeof(*e));
	bool ok = e != NULL;

	if (ok && !exec_env_sets(st->env, "PATH"))
		ok = (e[o++] = strdup(EXEC_PATH)) != NULL;
	ok = ok && (e[o++] = exec_var("DSYNCD_ZONE", zone)) != NULL;
	ok = ok && (e[o++] = exec_var("DSYNCD_BACKEND", st->name)) != NULL;
	for (size_t i = 0; ok && i < k; i++)
		ok = (e[o++] = strdup(st->env[i])) != NULL;
	if (!ok) {
		strv_free(e);
		return NULL;
	}
	return e;
}

static int exec_deliver(void *state, const struct backend_batch *b, char *err, size_t errlen)
{
	struct exec_state *st = state;
	char zone[DNAME_STR_MAX];
	struct run_result res;

	if (errlen > 0)
		err[0] = '\0';
	if (b == NULL || b->zone == NULL || b->foreach_rr == NULL ||
	    dname_to_str(b->zone, zone, sizeof(zone)) != DS_OK) {
		snprintf(err, errlen, "incomplete batch");
		return DS_EINVAL;
	}
	char *doc = exec_document(st, b, err, errlen);
	char **env = doc != NULL ? exec_env(st, zone) : NULL;
	if (env == NULL) {
		free(doc);
		if (err[0] == '\0')
			snprintf(err, errlen, "%s", ds_strerror(DS_ENOMEM));
		return DS_ENOMEM;
	}
	struct run_spec spec = {.argv = st->argv,
				.env = env,
				.env_only = true,
				.input = doc,
				.input_len = strlen(doc),
				.timeout_ms = 1000u * st->timeout,
				.capture_max = st->max_output,
				.merge_stderr = true};
	int rc = run_program(&spec, &res);
	if (rc != DS_OK)
		snprintf(err, errlen, "%s", res.error);
	else
		log_debug("exec backend %s: %zu change(s) of zone %s delivered", st->name,
			  b->nchanges, zone);
	run_result_free(&res);
	strv_free(env);
	free(doc);
	return rc == DS_OK ? DS_OK : DS_ECHILD;
}

static const struct cfg_setting exec_settings_rows[] = {
    {"command", CFG_STRV, NULL, 1, 64, offsetof(struct exec_settings, command),
     "the program and its arguments (execve, no shell); the batch is its stdin"},
    {"timeout", CFG_UINT, "30", 1, 3600, offsetof(struct exec_settings, timeout),
     "seconds the program may run before it is killed"},
    {"environment", CFG_STRV, NULL, 1, 64, offsetof(struct exec_settings, environment),
     "NAME=value entries added to the program's minimal environment"},
    {"max-output", CFG_UINT, "4096", 0, 1048576, offsetof(struct exec_settings, max_output),
     "bytes of the program's output kept for the error text"},
    {.name = NULL},
};

/* The program must be there to run (exec_init checks only its form). */
static unsigned exec_preflight(const struct cfg_backend *bc, FILE *err)
{
	const struct exec_settings *set = bc->settings;
	if (set == NULL || set->command == NULL || set->command[0] == NULL)
		return 0; /* cfg_load reported it */
	return backend_preflight_program(bc, "command", set->command[0], err);
}

BACKEND_DEFINE_WITH(exec, exec_settings_rows, sizeof(struct exec_settings), .init = exec_init,
		    .free = exec_free, .deliver = exec_deliver, .preflight = exec_preflight);

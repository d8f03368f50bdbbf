/*
 * tools/dsyncctl/output.c -- answers as aligned tables (terminal-safe cells) or as the API's
 * own JSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/rrtext.h"
#include "tools/dsyncctl/dsyncctl.h"

/* the columns of each answer's table */
const struct col ZONE_COLS[] = {
    {"NAME", "name", F_TEXT},
    {"CHILDREN", "children", F_TEXT},
    {"BOOTSTRAP", "bootstrap_methods", F_TEXT},
    {"BACKENDS", "backends", F_TEXT},
    {"KEY-ROLLOVER", "key_rollover", F_TEXT},
    COLS_END,
};

const struct col CHILD_COLS[] = {
    {"NAME", "name", F_TEXT},
    {"NS", "ns", F_TEXT},
    {"DS", "ds", F_TEXT},
    {"GLUE", "glue", F_TEXT},
    {"TRUSTED", "keys.trusted", F_TEXT},
    {"VALIDATING", "keys.validating", F_TEXT},
    {"PENDING", "keys.pending", F_TEXT},
    COLS_END,
};

const struct col KEY_COLS[] = {
    {"ID", "id", F_TEXT},
    {"KEY", "name", F_TEXT},
    {"TAG", "tag", F_TEXT},
    {"ALG", "algorithm", F_ALG},
    {"STATE", "state", F_TEXT},
    {"METHOD", "trust_method", F_TEXT},
    {"UPDATED", "updated", F_TIME},
    {"SOURCE", "source", F_TEXT},
    {"VALIDATION", "validation", F_VALIDATION},
    COLS_END,
};

const struct col VALIDATION_COLS[] = {
    {"KEY", "key", F_TEXT},
    {"ID", "key_id", F_TEXT},
    {"ALG", "algorithm", F_ALG},
    {"METHODS", "methods", F_TEXT},
    {"ATTEMPTS", "attempts", F_TEXT},
    {"ROUNDS", "rounds", F_TEXT},
    {"NEXT", "next_time", F_TIME},
    {"LAST-RESULT", "last_result", F_TEXT},
    COLS_END,
};

const struct col PENDING_COLS[] = {
    {"KEY", "key", F_TEXT},
    {"ID", "id", F_TEXT},
    {"ALG", "algorithm", F_ALG},
    {"STATE", "state", F_TEXT},
    {"AGE", "age", F_AGE},
    {"WAITING-SINCE", "waiting_since", F_TIME},
    {"METHODS", "methods", F_TEXT},
    {"LAST-RESULT", "last_result", F_TEXT},
    COLS_END,
};

const struct col AUDIT_COLS[] = {
    {"ID", "id", F_TEXT},	  {"TIME", "time", F_TIME},
    {"CLIENT", "client", F_TEXT}, {"CHILD", "child", F_TEXT},
    {"TAG", "key_tag", F_TEXT},	  {"ACTOR", "actor", F_TEXT},
    {"RESULT", "result", F_TEXT}, {"RCODE", "rcode", F_RCODE},
    {"REASON", "reason", F_TEXT}, COLS_END,
};

const struct col OUTBOX_COLS[] = {
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
    COLS_END,
};

const struct col BACKEND_COLS[] = {
    {"ZONE", "zone", F_TEXT},
    {"BACKEND", "backend", F_TEXT},
    {"TYPE", "type", F_TEXT},
    {"PENDING", "pending", F_TEXT},
    {"OLDEST-AGE", "oldest_age", F_TEXT},
    {"ATTEMPTS", "oldest_attempts", F_TEXT},
    {"NEXT-ATTEMPT", "next_attempt", F_TIME},
    {"LAST-SUCCESS", "last_success_time", F_TIME},
    {"LAST-FAILURE", "last_failure_time", F_TIME},
    {"LAST-ERROR", "last_error", F_TEXT},
    COLS_END,
};

const struct col RKEY_COLS[] = {
    {"TAG", "tag", F_TEXT},
    {"ALG", "algorithm", F_ALG},
    {"ACTIVE", "active", F_TEXT},
    {"PUBLISHED", "published", F_TEXT},
    {"PUBLISH", "publish_time", F_TIME},
    {"ACTIVATE", "activate_time", F_TIME},
    {"INACTIVE", "inactive_time", F_TIME},
    {"DELETE", "delete_time", F_TIME},
    COLS_END,
};

int print_json(json_t *j)
{
	if (json_dumpf(j, stdout, JSON_INDENT(2)) != 0)
		return cli_fail(RC_IOERR, "cannot write output");
	putchar('\n');
	return 0;
}

static const char *alg_name(json_int_t a)
{
	switch (a) {
	case 5:
		return "RSASHA1";
	case 7:
		return "NSEC3RSASHA1";
	case 8:
		return "RSASHA256";
	case 10:
		return "RSASHA512";
	case 13:
		return "ECDSAP256SHA256";
	case 14:
		return "ECDSAP384SHA384";
	case 15:
		return "ED25519";
	case 16:
		return "ED448";
	default:
		return NULL;
	}
}

/* OBJ's member at "a" or "a.b"; NULL when there is none */
static json_t *jget(json_t *o, const char *path)
{
	const char *dot;

	while (o != NULL && (dot = strchr(path, '.')) != NULL) {
		char key[64];

		snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
		o = json_object_get(o, key);
		path = dot + 1;
	}
	return json_object_get(o, path);
}

/* any JSON value as cell text ("-" for none); the caller frees */
char *text(json_t *v)
{
	size_t i, n;
	char *s, *e, *t;

	if (v == NULL)
		return xstrdup("-");
	switch (json_typeof(v)) {
	case JSON_STRING:
		return clean(xstrdup(json_string_value(v)));
	case JSON_INTEGER:
		return xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
	case JSON_REAL:
		return xasprintf("%g", json_real_value(v));
	case JSON_TRUE:
		return xstrdup("yes");
	case JSON_FALSE:
		return xstrdup("no");
	case JSON_ARRAY:
		if ((n = json_array_size(v)) == 0)
			return xstrdup("-");
		s = xstrdup("");
		for (i = 0; i < n; i++) {
			e = text(json_array_get(v, i));
			t = xasprintf("%s%s%s", s, i ? "," : "", e);
			free(e);
			free(s);
			s = t;
		}
		return s;
	case JSON_OBJECT:
		return clean(jnn_str(json_dumps(v, JSON_COMPACT)));
	case JSON_NULL:
	default:
		return xstrdup("-");
	}
}

static char *fmt_time(json_int_t v)
{
	char buf[64];

	if (!cli_utc((time_t)v, buf, sizeof(buf)))
		return xasprintf("%" JSON_INTEGER_FORMAT, v);
	return xstrdup(buf);
}

/* a key's validation state: "-", its last result, or "pending (attempt N,
 * next T): last result" */
static char *fmt_validation(json_t *v)
{
	char *last, *next, *s;

	if (!json_is_object(v))
		return xstrdup("-");
	last = text(json_object_get(v, "last_result"));
	if (!json_is_true(json_object_get(v, "pending")))
		return last;
	next = json_is_integer(json_object_get(v, "next_time"))
		   ? fmt_time(json_integer_value(json_object_get(v, "next_time")))
		   : xstrdup("-");
	s = xasprintf("pending (attempts %" JSON_INTEGER_FORMAT ", next %s): %s",
		      json_integer_value(json_object_get(v, "attempts")), next, last);
	free(next);
	free(last);
	return s;
}

/* seconds as "45s", "12m03s", "3h12m", "2d04h" */
static char *fmt_age(json_int_t v)
{
	if (v < 60)
		return xasprintf("%" JSON_INTEGER_FORMAT "s", v < 0 ? 0 : v);
	if (v < 3600)
		return xasprintf("%dm%02ds", (int)(v / 60), (int)(v % 60));
	if (v < 86400)
		return xasprintf("%dh%02dm", (int)(v / 3600), (int)(v % 3600 / 60));
	return xasprintf("%" JSON_INTEGER_FORMAT "d%02dh", v / 86400, (int)(v % 86400 / 3600));
}

static char *cell(json_t *o, const struct col *col)
{
	json_t *v = jget(o, col->path);
	const char *name = NULL;
	char rb[16];

	if (col->fmt == F_VALIDATION)
		return fmt_validation(v);
	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);

		if (col->fmt == F_TIME)
			return fmt_time(i);
		if (col->fmt == F_AGE)
			return fmt_age(i);
		if (col->fmt == F_ALG)
			name = alg_name(i);
		else if (col->fmt == F_RCODE)
			name =
			    i >= 0 && i < 65536 ? rr_rcode_str((unsigned)i, rb, sizeof(rb)) : NULL;
		if (name != NULL)
			return xstrdup(name);
	}
	return text(v);
}

void tab_init(struct table *t, size_t ncol)
{
	memset(t, 0, sizeof(*t));
	t->ncol = ncol;
}

/* append one cell (owned; made terminal-safe here) */
void tab_push(struct table *t, char *s)
{
	size_t len = strlen(clean(s));

	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->cell = xrealloc(t->cell, t->cap * sizeof(*t->cell));
	}
	while (len > 0 && s[len - 1] == ' ')
		s[--len] = '\0';
	t->cell[t->n++] = s;
}

void tab_head(struct table *t, const struct col *cols)
{
	for (; cols->head != NULL; cols++)
		tab_push(t, xstrdup(cols->head));
}

void tab_obj(struct table *t, const struct col *cols, json_t *o)
{
	for (; cols->head != NULL; cols++)
		tab_push(t, cell(o, cols));
}

/* append a "field  value" row; value is owned */
void tab_field(struct table *t, const char *field, char *value)
{
	tab_push(t, xstrdup(field));
	tab_push(t, value);
}

/* display width: UTF-8 code points */
static size_t width(const char *s)
{
	size_t w = 0;

	for (; *s != '\0'; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

/* print and free the table */
void tab_print(struct table *t)
{
	size_t *w = xrealloc(NULL, t->ncol * sizeof(*w)), i;

	memset(w, 0, t->ncol * sizeof(*w));
	for (i = 0; i < t->n; i++)
		if (width(t->cell[i]) > w[i % t->ncol])
			w[i % t->ncol] = width(t->cell[i]);
	for (i = 0; i < t->n; i++) {
		size_t c = i % t->ncol;

		fputs(t->cell[i], stdout);
		if (c + 1 == t->ncol || i + 1 == t->n)
			putchar('\n');
		else
			printf("%*s", (int)(w[c] - width(t->cell[i]) + 2), "");
		free(t->cell[i]);
	}
	free(t->cell);
	free(w);
}

/* an object's scalars as "path  value" rows, nested objects by dotted
 * paths, lists of objects by [index] */
static void flatten(struct table *t, const char *prefix, json_t *v)
{
	if (json_is_object(v) && json_object_size(v) > 0) {
		const char *k;
		json_t *m;

		json_object_foreach(v, k, m)
		{
			char *p = *prefix ? xasprintf("%s.%s", prefix, k) : xstrdup(k);

			flatten(t, p, m);
			free(p);
		}
		return;
	}
	if (json_is_array(v)) {
		size_t i;
		json_t *m;
		bool nested = false;

		json_array_foreach(v, i, m) nested |= json_is_object(m) || json_is_array(m);
		if (nested) {
			json_array_foreach(v, i, m)
			{
				char *p = xasprintf("%s[%zu]", prefix, i);

				flatten(t, p, m);
				free(p);
			}
			return;
		}
	}
	tab_push(t, xstrdup(prefix));
	tab_push(t, text(v));
}

/* the number of columns of COLS */
static size_t ncols(const struct col *cols)
{
	size_t n = 0;

	while (cols[n].head != NULL)
		n++;
	return n;
}

/* print ITEMS, a list of objects, as a table of COLS */
void tab_items(json_t *items, const struct col *cols)
{
	struct table t;
	json_t *it;
	size_t i;

	tab_init(&t, ncols(cols));
	tab_head(&t, cols);
	json_array_foreach(items, i, it) tab_obj(&t, cols, it);
	tab_print(&t);
}

/* a list answer (from api_list) as JSON or as a table of COLS */
int show_list(struct ctl *c, json_t *list, const struct col *cols)
{
	if (c->json)
		return print_json(list);
	tab_items(json_object_get(list, "items"), cols);
	return 0;
}

/* GET a list and show it */
int list_cmd(struct ctl *c, const char *path, bool paged, const struct col *cols)
{
	json_t *list;
	int rc = api_list(c, path, paged, &list);

	if (rc == 0)
		rc = show_list(c, list, cols);
	json_decref(list);
	return rc;
}

/* one object as JSON or as a one-row table */
int show_one(struct ctl *c, json_t *o, const struct col *cols)
{
	struct table t;

	if (c->json)
		return print_json(o);
	tab_init(&t, ncols(cols));
	tab_head(&t, cols);
	tab_obj(&t, cols, o);
	tab_print(&t);
	return 0;
}

/* an object as JSON or as "path  value" lines */
int show_flat(struct ctl *c, json_t *o)
{
	struct table t;

	if (c->json)
		return print_json(o);
	tab_init(&t, 2);
	flatten(&t, "", o);
	tab_print(&t);
	return 0;
}

/* METHOD PATH expecting an object, shown by SHOW */
int object_cmd(struct ctl *c, const char *method, const char *path,
	       int (*show)(struct ctl *c, json_t *o))
{
	json_t *o = NULL;
	int rc = call_object(c, method, path, NULL, &o);

	if (rc == 0)
		rc = show(c, o);
	json_decref(o);
	return rc;
}

/* POST PREFIX+ID+SUFFIX (ID a number, WHAT for the message) and show the
 * object it answers as a one-row table of COLS */
int action_cmd(struct ctl *c, const char *id, const char *what, const char *prefix,
	       const char *suffix, const struct col *cols)
{
	json_t *o = NULL;
	char *p;
	int rc = id_path(id, what, prefix, suffix, &p);

	if (rc != 0)
		return rc;
	rc = call_object(c, "POST", p, NULL, &o);
	if (rc == 0)
		rc = show_one(c, o, cols);
	free(p);
	json_decref(o);
	return rc;
}

/*
 * api/cfgjson.c -- the effective configuration (every setting after
 * defaults) as JSON, grouped and named as in dsyncd.conf(5): the schema's
 * walk (cfg_visit) turned into objects and arrays.  Nothing secret is in
 * struct cfg except what files hold: the tokens file and the TLS key are
 * shown by path only, never read here.
 */
#include "api/internal.h"
#include "common/dname.h"
#include "common/err.h"

#define DEPTH_MAX 8

/* The JSON being built: the open objects and arrays, innermost last. */
struct builder {
	json_t *open[DEPTH_MAX];
	int depth;
	bool failed;
};

static void attach(struct builder *b, const char *name, json_t *j)
{
	json_t *parent = b->open[b->depth - 1];
	int rc = json_is_array(parent) ? json_array_append_new(parent, j)
				       : json_object_set_new(parent, name, j);
	if (j == NULL || rc != 0)
		b->failed = true;
}

static void on_begin(void *arg, const char *name, bool list)
{
	struct builder *b = arg;
	json_t *j = list ? json_array() : json_object();
	if (b->depth == DEPTH_MAX) {
		json_decref(j);
		b->failed = true;
		return;
	}
	json_incref(j);
	attach(b, name, j);
	b->open[b->depth++] = j;
}

static void on_end(void *arg)
{
	struct builder *b = arg;
	json_decref(b->open[--b->depth]);
}

static json_t *value_json(const struct cfg_value *v)
{
	char s[DNAME_STR_MAX];
	json_t *a;
	switch (v->type) {
	case CV_UINT:
		return json_integer((json_int_t)v->u);
	case CV_BOOL:
		return json_boolean(v->u);
	case CV_STR:
		return v->s ? json_string(v->s) : json_null();
	case CV_NAME:
		return v->p && dname_to_str(v->p, s, sizeof(s)) == DS_OK ? json_string(s)
									 : json_null();
	case CV_STRV:
		if (v->v == NULL)
			return json_null();
		a = json_array();
		for (size_t i = 0; a && i < v->n; i++)
			json_array_append_new(a, json_string(v->v[i]));
		return a;
	case CV_BITS:
		a = json_array();
		for (unsigned i = 0; a && i < 256; i++)
			if ((v->p[i >> 3] >> (i & 7)) & 1)
				json_array_append_new(a, json_integer(i));
		return a;
	}
	return NULL;
}

static void on_value(void *arg, const char *name, const struct cfg_value *v)
{
	attach(arg, name, value_json(v));
}

json_t *api_config_json(const struct cfg *c)
{
	struct builder b = {.open = {json_object()}, .depth = 1};
	if (b.open[0] == NULL)
		return NULL;
	struct cfg_visitor v = {on_begin, on_end, on_value, &b};
	cfg_visit(c, &v);
	/* not a setting, but what the settings amount to */
	json_t *api = json_object_get(b.open[0], "api");
	if (b.failed || b.depth != 1 || api == NULL ||
	    json_object_set_new(api, "enabled", json_boolean(c->api.enabled)) != 0) {
		json_decref(b.open[0]);
		return NULL;
	}
	return b.open[0];
}

int api_config_print(const struct cfg *c, FILE *out)
{
	json_t *j = api_config_json(c);
	int rc = j != NULL && json_dumpf(j, out, JSON_INDENT(2)) == 0 && fputc('\n', out) != EOF
		     ? DS_OK
		     : DS_EIO;
	json_decref(j);
	return rc;
}

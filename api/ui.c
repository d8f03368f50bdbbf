/*
 * api/ui.c -- the web console: its static files under /ui/, and the two
 * routes that only the console needs (who the token is, UPDATEs per
 * minute).
 *
 * The files are a fixed list (ui_files[]), read from api.ui-directory into
 * memory at start and on every reload; a request names one of them or gets
 * 404, so no path is ever built from the URL.  They need no token (they hold
 * no data: every figure the console shows comes from the API with the token
 * the operator typed in).  Each answer carries a Content-Security-Policy
 * that allows only these files' own script and style, no frame, no form.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "api/internal.h"
#include "common/err.h"
#include "common/log.h"

#define UI_FILE_MAX (1024 * 1024) /* bytes, per file */
#define UI_MINUTES_MAX 1440	  /* GET /api/v1/stats/updates?minutes= */

static const struct {
	const char *name;
	const char *ctype;
} ui_files[API_UI_FILES] = {
    {"index.html", "text/html; charset=utf-8"},
    {"app.js", "text/javascript; charset=utf-8"},
    {"app.css", "text/css; charset=utf-8"},
};

struct api_ui {
	char *text[API_UI_FILES];
	size_t len[API_UI_FILES];
};

void api_ui_free(struct api_ui *ui)
{
	if (ui == NULL)
		return;
	for (size_t i = 0; i < API_UI_FILES; i++)
		free(ui->text[i]);
	free(ui);
}

struct api_ui *api_ui_load(const char *dir)
{
	struct stat st;
	if (dir == NULL)
		return NULL;
	if (stat(dir, &st) != 0) {
		log_notice("api: no web console: api.ui-directory %s: %s", dir, strerror(errno));
		return NULL;
	}
	if (!S_ISDIR(st.st_mode)) {
		log_err("api: no web console: api.ui-directory %s is not a folder", dir);
		return NULL;
	}
	struct api_ui *ui = calloc(1, sizeof(*ui));
	if (ui == NULL)
		return NULL;
	for (size_t i = 0; i < API_UI_FILES; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, ui_files[i].name);
		ui->text[i] =
		    api_read_file(path, "web console file", false, UI_FILE_MAX, &ui->len[i]);
		if (ui->text[i] == NULL) {
			log_err("api: no web console: %s lacks a file it needs", dir);
			api_ui_free(ui);
			return NULL;
		}
	}
	log_info("api: web console files read from %s", dir);
	return ui;
}

bool api_ui_path(const char *url)
{
	return strcmp(url, "/ui") == 0 || strncmp(url, "/ui/", 4) == 0;
}

/* The file a path names: "/ui/" is index.html; -1 when none. */
static int ui_index(const char *url)
{
	const char *name = url + 4;
	if (*name == '\0')
		return 0;
	for (int i = 0; i < API_UI_FILES; i++)
		if (strcmp(name, ui_files[i].name) == 0)
			return i;
	return -1;
}

void api_ui_serve(struct api_req *q, const char *url)
{
	q->ui = true;
	if (strcmp(q->method, "GET") != 0 && strcmp(q->method, "HEAD") != 0) {
		snprintf(q->allow, sizeof(q->allow), "GET, HEAD");
		api_error(q, 405, "method %s is not allowed here (allowed: GET, HEAD)", q->method);
		return;
	}
	if (strcmp(url, "/ui") == 0) {
		q->location = "/ui/";
		api_text(q, 301, "text/plain; charset=utf-8", strdup("/ui/\n"), 5);
		return;
	}
	int i = ui_index(url);
	if (i < 0) {
		api_error(q, 404, "no such file");
		return;
	}
	pthread_mutex_lock(&q->a->mu);
	const struct api_ui *ui = q->a->ui;
	char *copy = ui ? malloc(ui->len[i] + 1) : NULL;
	size_t len = ui ? ui->len[i] : 0;
	if (copy != NULL)
		memcpy(copy, ui->text[i], len + 1);
	pthread_mutex_unlock(&q->a->mu);
	if (ui == NULL) {
		api_error(q, 404, "the web console is not installed in api.ui-directory %s",
			  q->cfg->api.ui_dir);
		return;
	}
	api_text(q, 200, ui_files[i].ctype, copy, len);
}

/* ---- GET /api/v1/whoami ---- */

void api_whoami(struct api_req *q)
{
	api_json(q, 200, json_pack("{s:s,s:s}", "token", q->token, "role", api_role_str(q->role)));
}

/* ---- GET /api/v1/stats/updates ---- */

struct minutes {
	json_t *items;
	int64_t next; /* the next minute to show */
};

/* Minutes up to (not including) until with no UPDATE, as zeros. */
static int minutes_fill(struct minutes *m, int64_t until)
{
	for (; m->next < until; m->next += 60) {
		json_t *o = json_pack("{s:I,s:I,s:I}", "time", (json_int_t)m->next, "accepted",
				      (json_int_t)0, "refused", (json_int_t)0);
		if (o == NULL || json_array_append_new(m->items, o) != 0)
			return DS_ENOMEM;
	}
	return DS_OK;
}

static int minute_add(void *arg, const struct store_minute *sm)
{
	struct minutes *m = arg;
	int rc = minutes_fill(m, sm->minute);
	json_t *o = rc == DS_OK
			? json_pack("{s:I,s:I,s:I}", "time", (json_int_t)sm->minute, "accepted",
				    (json_int_t)sm->accepted, "refused", (json_int_t)sm->refused)
			: NULL;
	if (o == NULL || json_array_append_new(m->items, o) != 0)
		return DS_ENOMEM;
	m->next = sm->minute + 60;
	return DS_OK;
}

void api_stats_updates(struct api_req *q)
{
	const char *s = api_query(q, "minutes");
	long n = 60;
	if (s != NULL) {
		char *end = NULL;
		errno = 0;
		n = *s >= '0' && *s <= '9' ? strtol(s, &end, 10) : 0;
		if (end == NULL || *end != '\0' || errno != 0 || n < 1 || n > UI_MINUTES_MAX) {
			api_error(q, 400, "minutes must be an integer from 1 to %d",
				  UI_MINUTES_MAX);
			return;
		}
	}
	/* the last n minutes, the current one included */
	int64_t until = ((int64_t)time(NULL) / 60 + 1) * 60, since = until - 60 * (int64_t)n;
	struct minutes m = {.items = json_array(), .next = since};
	int rc = m.items ? store_updates_per_minute(q->a->store, since, until, minute_add, &m)
			 : DS_ENOMEM;
	if (rc == DS_OK)
		rc = minutes_fill(&m, until);
	if (rc != DS_OK) {
		json_decref(m.items);
		api_error(q, rc == DS_EBUSY ? 503 : 500, "store error: %s", ds_strerror(rc));
		return;
	}
	api_json(q, 200,
		 json_pack("{s:I,s:I,s:o}", "since", (json_int_t)since, "until", (json_int_t)until,
			   "items", m.items));
}

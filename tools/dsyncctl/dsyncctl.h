/*
 * tools/dsyncctl/dsyncctl.h -- what the files of dsyncctl share.
 *
 * dsyncctl is the operator CLI over dsyncd's admin HTTP API: a thin
 * client of doc/api.md, each command one request (lists: one per page,
 * followed to the end or to --limit), the answer printed as an aligned
 * table, or as the API's own JSON with --json.
 *
 *   main.c      the command table, options, main()
 *   settings.c  URL, token, CA and timeout from options, environment, config file
 *   http.c      one request and its answer, JSON requests, paged lists
 *   output.c    tables, JSON, how a cell shows a value
 *   util.c      memory, terminal-safe text, small local files
 *   children.c  zones, children, child show, delegation add|delete
 *   keys.c      keys, key add|trust|revoke|delete
 *   audit.c     pending, validations, audit
 *   outbox.c    outbox, retry, backends
 *   server.c    records, receiver-key, config, health
 */
#ifndef DS_TOOLS_DSYNCCTL_H
#define DS_TOOLS_DSYNCCTL_H

#include <sysexits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>

#include <curl/curl.h>
#include <jansson.h>

#include "tools/cli.h"

#define DEFAULT_URL "http://127.0.0.1:8053"
#define DEFAULT_TIMEOUT_MS 10000L
#define MAX_TIMEOUT_S 3600.0
#define MAX_ANSWER (64u << 20) /* bytes of one buffered answer */
#define PAGE_MAX 1000	       /* the API's largest page */
#define MAX_PAGES 100000       /* bounds one list at 10^8 items */
#define MAX_TOKEN 1024
#define MAX_SMALL_FILE 65536 /* token, K*.key and config files */
#define MAX_ERROR_TEXT 300   /* of a non-JSON error body */

/* exit statuses (sysexits.h), doc/dsyncctl.1 and doc/exit-status.md */
enum {
	RC_OK = 0,
	RC_REFUSED = 1,			 /* the API refused the request: 4xx other than 401/403 */
	RC_USAGE = EX_USAGE,		 /* command line */
	RC_DATA = EX_DATAERR,		 /* a key file that holds no usable record */
	RC_NOINPUT = EX_NOINPUT,	 /* a file named cannot be read */
	RC_UNAVAILABLE = EX_UNAVAILABLE, /* no connection, timeout, TLS, 5xx but 503 */
	RC_SOFTWARE = EX_SOFTWARE,	 /* out of memory, libcurl does not start */
	RC_IOERR = EX_IOERR,		 /* standard output not writable */
	RC_TEMPFAIL = EX_TEMPFAIL,	 /* 503: try again later */
	RC_PROTOCOL = EX_PROTOCOL,	 /* an answer that is not what the API sends */
	RC_AUTH = EX_NOPERM,		 /* 401, 403 */
	RC_CONFIG = EX_CONFIG,		 /* the config file or the token file */
};

/* the options a command may take besides the global ones */
enum {
	OPT_LIMIT = 1u << 0,
	OPT_AUDIT = 1u << 1,
	OPT_STATE = 1u << 2,
	OPT_DELEG = 1u << 3,  /* --ns, --ds, --glue */
	OPT_REASON = 1u << 4, /* --reason */
};

struct ctl {
	char *url;   /* base URL, no trailing '/' */
	char *token; /* NULL: no Authorization header */
	char *cacert;
	long timeout_ms;
	bool json;
	long limit; /* 0: the whole list */
	const char *child, *result, *state;
	long long since, until;
	bool has_since, has_until;
	json_t *ns, *ds, *glue; /* delegation add: arrays, NULL when not given */
	const char *reason;
	CURL *curl;
	char errbuf[CURL_ERROR_SIZE];
};

/* the options given on the command line */
struct opts {
	const char *url, *token_file, *cacert;
	long timeout_ms; /* 0: not given */
	unsigned used;	 /* OPT_* seen */
};

/* ---- util.c ---- */

/* A CLI may stop on out-of-memory; the daemon answers SERVFAIL instead. */
void oom(void) __attribute__((noreturn));
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
json_t *jnn(json_t *v);
char *jnn_str(char *s);
void free_secret(char *s);
char *clean(char *s);
int read_small(const char *path, const char *what, char **out, struct stat *st);
char *trim(char *s);
void free_small(char *buf);

/* ---- settings.c ---- */

bool parse_timeout(const char *s, long *ms);
int settings(struct ctl *c, const struct opts *o);

/* ---- http.c ---- */

struct answer {
	long status;
	char *body; /* NUL-terminated */
	size_t len, cap;
	bool stream;	   /* a 2xx body goes to stdout as it arrives (records) */
	bool too_big;	   /* the buffered body passed MAX_ANSWER */
	bool write_failed; /* writing to stdout failed */
	CURL *curl;
};

int transfer(struct ctl *c, const char *method, const char *path, const char *body,
	     const char *accept, struct answer *a);
int answer_fail(struct ctl *c, const struct answer *a);
int parse_json(const struct answer *a, const char *method, const char *path, json_t **out);
int api(struct ctl *c, const char *method, const char *path, const json_t *body, json_t **out);
int need_object(json_t *j, const char *what);
int api_list(struct ctl *c, const char *path, bool paged, json_t **out);
char *path1(struct ctl *c, const char *prefix, const char *name, const char *suffix);
char *add_query(struct ctl *c, char *path, const char *key, const char *val);
int call_object(struct ctl *c, const char *method, const char *path, const json_t *body,
		json_t **o);

/* ---- output.c ---- */

/* how a table cell shows a JSON value */
enum fmt {
	F_TEXT,	      /* strings as they are, numbers, yes/no, lists joined by ',' */
	F_TIME,	      /* epoch seconds as UTC 2026-11-23T10:00:00Z */
	F_ALG,	      /* DNSSEC algorithm number as its mnemonic */
	F_RCODE,      /* RCODE number as its name */
	F_VALIDATION, /* a key's "validation" object in a few words */
	F_AGE	      /* seconds as 45s, 12m03s, 3h12m, 2d04h */
};

/* a column of a table; a table of them ends with COLS_END */
struct col {
	const char *head, *path; /* path: "key" or "key.subkey" */
	enum fmt fmt;
};

#define COLS_END                                                                                   \
	{                                                                                          \
		NULL, NULL, F_TEXT                                                                 \
	}

extern const struct col ZONE_COLS[], CHILD_COLS[], KEY_COLS[], VALIDATION_COLS[], AUDIT_COLS[],
    OUTBOX_COLS[], BACKEND_COLS[], RKEY_COLS[], PENDING_COLS[];

/* An aligned table: rows of ncol owned cells, printed with two spaces
 * between columns and no padding after the last one. */
struct table {
	size_t ncol, n, cap; /* n cells so far */
	char **cell;
};

int print_json(json_t *j);
char *text(json_t *v);
void tab_init(struct table *t, size_t ncol);
void tab_push(struct table *t, char *s);
void tab_head(struct table *t, const struct col *cols);
void tab_obj(struct table *t, const struct col *cols, json_t *o);
void tab_field(struct table *t, const char *field, char *value);
void tab_print(struct table *t);
void tab_items(json_t *items, const struct col *cols);
int show_list(struct ctl *c, json_t *list, const struct col *cols);
int list_cmd(struct ctl *c, const char *path, bool paged, const struct col *cols);
int show_one(struct ctl *c, json_t *o, const struct col *cols);
int show_flat(struct ctl *c, json_t *o);
int object_cmd(struct ctl *c, const char *method, const char *path,
	       int (*show)(struct ctl *c, json_t *o));
int action_cmd(struct ctl *c, const char *id, const char *what, const char *prefix,
	       const char *suffix, const struct col *cols);

/* ---- the commands (main.c's table); arg: the words after the command's ---- */

int id_arg(const char *s, const char *what);
int id_path(const char *id, const char *what, const char *prefix, const char *suffix, char **path);

typedef int cmd_fn(struct ctl *c, char **arg);

cmd_fn cmd_zones, cmd_children, cmd_child_show, cmd_deleg_add, cmd_deleg_delete; /* children.c */
cmd_fn cmd_keys, cmd_key_add, cmd_key_trust, cmd_key_revoke, cmd_key_delete;	 /* keys.c */
cmd_fn cmd_validations, cmd_audit, cmd_pending;					 /* audit.c */
cmd_fn cmd_outbox, cmd_retry, cmd_backends;					 /* outbox.c */
cmd_fn cmd_records, cmd_rkey_show, cmd_rkey_roll, cmd_config, cmd_health, cmd_reload; /* server.c */

#endif

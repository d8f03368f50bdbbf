/*
 * api/internal.h -- what the API's files share: the server object, one
 * request on its way through the dispatcher, the route table and the
 * tokens file.  Not a public API (api/api.h is).
 *
 * Threads: every handler runs on libmicrohttpd's one internal thread, with
 * the API's own store connection; the tokens are the only state another
 * thread touches (api_reload_tokens on SIGHUP), under a mutex.
 */
#ifndef DS_API_INTERNAL_H
#define DS_API_INTERNAL_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "api/api.h"
#include "common/ratelimit.h"
#include "config/config.h"
#include "keys/keys.h"
#include "store/store.h"

struct receiver;
struct MHD_Connection;
struct MHD_Daemon;

/* ---- tokens (tokens.c) ---- */

enum api_role { API_ROLE_NONE = 0, API_ROLE_READ = 1, API_ROLE_ADMIN = 2 };

#define API_TOKEN_NAME_MAX 64
#define API_TOKEN_MIN 16  /* characters */
#define API_TOKEN_MAX 256 /* characters */

struct api_token {
	char name[API_TOKEN_NAME_MAX + 1];
	enum api_role role;
	uint8_t digest[32]; /* SHA-256 of the token; the token itself is not kept */
};

struct api_tokens {
	struct api_token *t;
	size_t n;
};

/*
 * Read a tokens file: "name role token" lines, '#' starts a comment.  The
 * file must be a regular file that neither group nor others may access.
 * Every problem is logged as "file:line: message"; DS_ECONFIG when there was
 * any (out untouched), DS_ENOMEM.  On success *out owns its array (free with
 * api_tokens_clear).
 */
int api_tokens_load(const char *path, struct api_tokens *out);
void api_tokens_clear(struct api_tokens *t);
/*
 * The entry whose token is token[0..len), or NULL.  Compares the SHA-256
 * of token with every entry's digest in constant time, always walking the
 * whole list.
 */
const struct api_token *api_tokens_find(const struct api_tokens *t, const char *token, size_t len);
/* "read", "admin" */
const char *api_role_str(enum api_role r);

/* ---- the server ---- */

#define API_UNAUTH_AUDITS 30 /* audit rows for 401s per source network a minute */

/*
 * The whole file at path, NUL-terminated, at most max bytes (*len set).
 * what names it in the log lines ("API tokens file"); secret: refused
 * when group or others may access it.  NULL (logged) on any failure.
 */
char *api_read_file(const char *path, const char *what, bool secret, size_t max, size_t *len);

/* ---- the web console (ui.c) ---- */

#define API_UI_FILES 3 /* index.html, app.js, app.css */
struct api_ui;
/* The console's files read from dir; NULL (logged) when they cannot all be read. */
struct api_ui *api_ui_load(const char *dir);
void api_ui_free(struct api_ui *ui);
/* Is url the console's: "/ui" or below "/ui/"? */
bool api_ui_path(const char *url);
struct api_req;
/* Answer a request for a console path (no token needed): a file, 301, 404 or 405. */
void api_ui_serve(struct api_req *q, const char *url);

struct api {
	struct api_env env;
	const struct cfg *cfg; /* held; guarded by mu: api_set_cfg swaps it */
	struct store *store;   /* used by the MHD thread only */
	struct MHD_Daemon *mhd;
	struct ratelimit *unauth; /* audit rows of 401s per source (MHD thread only) */
	pthread_mutex_t mu;	  /* guards tokens, cfg and ui */
	struct api_tokens tokens;
	struct api_ui *ui;	  /* the console's files; NULL: none (api_set_cfg reloads them) */
	char *tls_cert, *tls_key; /* PEM text, kept while the daemon runs */
	size_t tls_key_len;
};

/* ---- one request ---- */

#define API_MAX_PARAMS 2

struct api_route;

struct api_req {
	struct api *a;
	const struct cfg *cfg; /* the configuration it runs under (held) */
	struct MHD_Connection *conn;
	const char *method;
	char request[300]; /* "METHOD /path" for logs and audit rows */
	char client[INET6_ADDRSTRLEN + 8];
	char token[API_TOKEN_NAME_MAX + 1]; /* the token's name */
	char actor[API_TOKEN_NAME_MAX + 8]; /* "api:<token name>" */
	enum api_role role;
	const struct api_route *route;
	char pathbuf[1024];		   /* the path, cut into segments */
	const char *param[API_MAX_PARAMS]; /* the {params} of the route, in order */
	char *body;
	size_t len, cap;
	bool queued; /* a response went to MHD */
	/* the answer */
	unsigned status; /* 0: not decided yet */
	char *out;	 /* malloc'd; MHD frees it */
	size_t outlen;
	const char *ctype;
	char allow[64];	      /* for 405 */
	bool ui;	      /* a console file: its security headers */
	const char *location; /* for 301 */
};

typedef void (*api_handler)(struct api_req *q);

struct api_route {
	const char *method;  /* "GET", "POST", "DELETE" */
	const char *pattern; /* "/api/v1/keys/{id}/trust": a {name} matches one segment */
	enum api_role role;  /* the least role that may call it; NONE: no token needed */
	const char *query;   /* query parameters it takes, space-separated ("" none) */
	api_handler fn;
};

/* The route table (routes.c), ended by a row with fn NULL. */
extern const struct api_route api_routes[];

/* ---- answers (api.c) ---- */

/*
 * in with every byte outside printable ASCII (0x20-0x7e) written as \xNN,
 * into out (always terminated; an escape is never cut).  For request texts
 * in logs and audit rows and for every text put into JSON.
 */
void api_escape(char *out, size_t outlen, const char *in);
/* s as a JSON string (escaped as api_escape() when not valid UTF-8), NULL -> null. */
json_t *api_json_text(const char *s);

/* Answer with v as JSON (v is consumed; NULL means out of memory: 500). */
void api_json(struct api_req *q, unsigned status, json_t *v);
/* Answer {"error": "..."} with status. */
void api_error(struct api_req *q, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A command that writes text (records, the receiver-key roll, metrics). */
typedef int (*api_writer)(struct api_req *q, const char *arg, FILE *out);
/*
 * Run fn(q, arg, f) with f a memory stream: *text (malloc'd; the caller
 * frees it) and *len get what it wrote, *rc its result; on failure *text is
 * cut to its first line.  False, with 500 answered, when no stream can be
 * made.
 */
bool api_capture(struct api_req *q, api_writer fn, const char *arg, char **text, size_t *len,
		 int *rc);
/* POST /api/v1/zones/{zone}/check/repair (routes.c) */
void api_check_repair(struct api_req *q);
/* Answer text of content type ctype; text is malloc'd and consumed. */
void api_text(struct api_req *q, unsigned status, const char *ctype, char *text, size_t len);
/* A query parameter, or NULL when absent. */
const char *api_query(struct api_req *q, const char *name);
/*
 * The body as a JSON object: NULL with a 400/415 answer set when it is not
 * one (malformed, duplicate keys, a field not in fields, a field of the
 * wrong type); an empty body gives an empty object unless required.
 * fields: "name:type" strings (type s = string, a = array), NULL-terminated.
 */
json_t *api_body(struct api_req *q, const char *const *fields, bool required);
/* The same after the Content-Type check: q->body[0..q->len) as above. */
json_t *api_body_json(struct api_req *q, const char *const *fields, bool required);

/* ---- handlers (routes.c, writes.c, cfgjson.c) ---- */

void api_key_add(struct api_req *q);
void api_key_trust(struct api_req *q);
void api_key_revoke(struct api_req *q);
void api_key_delete(struct api_req *q);
void api_outbox_retry(struct api_req *q);
void api_rkey_roll(struct api_req *q);
void api_reload(struct api_req *q);
void api_child_add(struct api_req *q);
void api_child_delete(struct api_req *q);
/*
 * The handlers' checks of what a body asks for, without the store (each
 * answers 400, 404 or 500 and returns false / NULL / an error when it
 * refuses):
 *   api_body_reason: the optional "reason" of a body that holds only it,
 *     as "dflt: reason" into out;
 *   api_key_check: the body of a key upload for child of zone z ("key",
 *     "reason"), the KEY checked into k (rdata, rdlen, alg, tag, flags) and
 *     the audit reason into reason;
 *   api_child_op: the operation on the route's child (q->param[0]) with the
 *     body's "reason" (free() it);
 *   api_child_records: the body's "ns", "ds" and "glue" arrays as op's
 *     delegation into d: DS_OK; DS_EINVAL with op->why when a record is
 *     refused (not answered yet); answered when an array is malformed.
 */
bool api_body_reason(struct api_req *q, char *out, size_t len, const char *dflt);
bool api_key_check(struct api_req *q, const struct cfg_zone *z, const uint8_t *child,
		   struct store_key *k, char *reason, size_t rlen);
struct deleg_op;
struct deleg;
struct deleg_op *api_child_op(struct api_req *q, json_t *b, char *reason, size_t len);
int api_child_records(struct api_req *q, json_t *b, struct deleg_op *op, struct deleg *d);
/* Answer status with the child named by the route's {child}, as GET shows it. */
void api_child_answer(struct api_req *q, unsigned status);

/* Shared by the readers and the writers (routes.c). */
json_t *api_key_json(struct api_req *q, const struct store_key *k);
/* A delivery as JSON (NULL when out of memory). */
struct delivery_row;
json_t *api_delivery_json(const struct delivery_row *d);
/* The receiver's keys as {"name": ..., "keys": [...]}; NULL with the answer set on error. */
json_t *api_rkeys_json(struct api_req *q);
/*
 * The child named s (presentation form): its zone (the most specific
 * configured zone above it) and its store id.  Answers 400/404 and returns
 * false when there is none.
 */
bool api_find_child(struct api_req *q, const char *s, const struct cfg_zone **zone,
		    int64_t *child_id, uint8_t child[DNAME_MAX]);
/* Parse a decimal id > 0; false (and a 400 answer) otherwise. */
bool api_parse_id(struct api_req *q, const char *s, const char *what, int64_t *out);
/* One audit row by the request's token about something other than a key. */
int api_audit(struct api_req *q, const char *zone, const char *child, const char *result,
	      const char *reason);

/* GET /healthz and GET /readyz, the probes (health.c). */
void api_healthz(struct api_req *q);
void api_readyz(struct api_req *q);
/* The verdict of /readyz as the gauge dsyncd_ready (Prometheus text) on out. */
int api_ready_metric(struct api *a, const struct cfg *cfg, FILE *out);

/* GET /api/v1/whoami and GET /api/v1/stats/updates, for the console (ui.c). */
void api_whoami(struct api_req *q);
void api_stats_updates(struct api_req *q);

/* The effective configuration as JSON, without secrets (cfgjson.c). */
json_t *api_config_json(const struct cfg *c);

#endif

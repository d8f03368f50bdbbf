/*
 * api/api.c -- the admin HTTP API's server: libmicrohttpd set-up, the one
 * dispatcher over the route table, authentication,
 * request bodies and answers.
 *
 * A request is judged as soon as its headers are in: token (401; the
 * probes /healthz and /readyz need none), route
 * (404, 405), role (403), unknown query parameters (400) and the body's
 * declared size (411 without one, 413 above api.max-body) are answered
 * before any body is read.  The body is then accumulated (libmicrohttpd
 * delivers no more than Content-Length) and the handler runs once it is
 * all in.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/crypto.h>

#include "api/api.h"
#include "api/internal.h"
#include "common/err.h"
#include "common/log.h"

#define API_CONN_LIMIT 64   /* connections at once */
#define API_CONN_PER_IP 16  /* from one address */
#define API_CONN_TIMEOUT 30 /* seconds of silence before a connection is closed */
#define API_TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
/* the console's files: their own script and style only, no frame, no form */
#define API_UI_CSP                                                                                 \
	"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "          \
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

/* ---- answers ---- */

static void set_answer(struct api_req *q, unsigned status, const char *ctype, char *text,
		       size_t len)
{
	free(q->out);
	q->status = status;
	q->ctype = ctype;
	q->out = text;
	q->outlen = len;
}

void api_text(struct api_req *q, unsigned status, const char *ctype, char *text, size_t len)
{
	if (text == NULL) {
		static const char oom[] = "{\"error\":\"out of memory\"}\n";
		char *t = strdup(oom);
		set_answer(q, t ? 500 : 0, "application/json", t, t ? sizeof(oom) - 1 : 0);
		return;
	}
	set_answer(q, status, ctype, text, len);
}

bool api_capture(struct api_req *q, api_writer fn, const char *arg, char **text, size_t *len,
		 int *rc)
{
	*text = NULL;
	*len = 0;
	FILE *f = open_memstream(text, len);
	if (f == NULL) {
		api_text(q, 500, NULL, NULL, 0);
		return false;
	}
	*rc = fn(q, arg, f);
	fclose(f);
	/* the command's one line says why */
	if (*rc != DS_OK && *text != NULL)
		(*text)[strcspn(*text, "\n")] = '\0';
	return true;
}

void api_json(struct api_req *q, unsigned status, json_t *v)
{
	char *s = v ? json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
	json_decref(v);
	char *t = s ? realloc(s, strlen(s) + 2) : NULL;
	if (t == NULL) {
		free(s);
		api_text(q, 500, NULL, NULL, 0);
		return;
	}
	size_t n = strlen(t);
	t[n++] = '\n';
	t[n] = '\0';
	api_text(q, status, "application/json", t, n);
}

void api_escape(char *out, size_t outlen, const char *in)
{
	size_t n = 0;
	if (outlen == 0)
		return;
	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		bool plain = *p >= 0x20 && *p < 0x7f;
		size_t need = plain ? 1 : 4;
		if (n + need >= outlen)
			break;
		if (plain)
			out[n++] = (char)*p;
		else
			n += (size_t)snprintf(out + n, outlen - n, "\\x%02X", *p);
	}
	out[n] = '\0';
}

json_t *api_json_text(const char *s)
{
	if (s == NULL)
		return json_null();
	json_t *v = json_string(s);
	if (v != NULL)
		return v;
	size_t len = 4 * strlen(s) + 1;
	char *e = malloc(len);
	if (e == NULL)
		return NULL;
	api_escape(e, len, s);
	v = json_string(e);
	free(e);
	return v;
}

void api_error(struct api_req *q, unsigned status, const char *fmt, ...)
{
	char msg[512], text[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* decoded path parameters may hold any byte: keep the JSON valid */
	api_escape(text, sizeof(text), msg);
	api_json(q, status, json_pack("{s:s}", "error", text));
}

const char *api_query(struct api_req *q, const char *name)
{
	return MHD_lookup_connection_value(q->conn, MHD_GET_ARGUMENT_KIND, name);
}

static const char *json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "null";
	}
}

json_t *api_body(struct api_req *q, const char *const *fields, bool required)
{
	if (q->len == 0)
		return api_body_json(q, fields, required);
	const char *ct = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, "Content-Type");
	size_t ctl = ct ? strcspn(ct, "; \t") : 0;
	if (ct == NULL || ctl != 16 || strncasecmp(ct, "application/json", 16) != 0) {
		api_error(q, 415, "the body must be application/json");
		return NULL;
	}
	return api_body_json(q, fields, required);
}

json_t *api_body_json(struct api_req *q, const char *const *fields, bool required)
{
	if (q->len == 0) {
		if (required) {
			api_error(q, 400, "this request needs a JSON object as its body");
			return NULL;
		}
		return json_object();
	}
	json_error_t err;
	json_t *v = json_loadb(q->body, q->len, JSON_REJECT_DUPLICATES, &err);
	if (v == NULL) {
		api_error(q, 400, "malformed JSON at line %d column %d: %s", err.line, err.column,
			  err.text);
		return NULL;
	}
	if (!json_is_object(v)) {
		api_error(q, 400, "the body must be a JSON object, not %s", json_type_name(v));
		json_decref(v);
		return NULL;
	}
	const char *key;
	json_t *val;
	json_object_foreach(v, key, val)
	{
		const char *type = NULL;
		for (size_t i = 0; fields[i] != NULL; i++) {
			size_t kl = strcspn(fields[i], ":");
			if (strlen(key) == kl && strncmp(fields[i], key, kl) == 0)
				type = fields[i] + kl + 1;
		}
		if (type == NULL) {
			api_error(q, 400, "unknown field \"%.64s\"", key);
			json_decref(v);
			return NULL;
		}
		if (strcmp(type, "s") == 0 && !json_is_string(val)) {
			api_error(q, 400, "field \"%s\" must be a string, not %s", key,
				  json_type_name(val));
			json_decref(v);
			return NULL;
		}
		if (strcmp(type, "a") == 0 && !json_is_array(val)) {
			api_error(q, 400, "field \"%s\" must be an array, not %s", key,
				  json_type_name(val));
			json_decref(v);
			return NULL;
		}
	}
	return v;
}

int api_audit(struct api_req *q, const char *zone, const char *child, const char *result,
	      const char *reason)
{
	struct audit_rec a = {.time = (int64_t)time(NULL),
			      .client = q->client,
			      .zone = zone,
			      .child = child,
			      .key_tag = -1,
			      .actor = q->actor[0] ? q->actor : "api",
			      .request = q->request,
			      .result = result,
			      .rcode = 0,
			      .reason = reason};
	return store_audit_add(q->a->store, &a);
}

/* ---- the dispatcher ---- */

/* Does path match pattern?  Fills q->param from the {..} segments. */
static bool path_match(const char *pattern, const char *path, const char **param)
{
	size_t np = 0;
	const char *p = pattern, *s = path;
	while (*p && *s) {
		if (*p != '/' || *s != '/')
			return false;
		p++;
		s++;
		size_t pl = strcspn(p, "/"), sl = strcspn(s, "/");
		if (pl > 2 && p[0] == '{' && p[pl - 1] == '}') {
			if (sl == 0 || np == API_MAX_PARAMS)
				return false;
			param[np++] = s;
		} else if (pl != sl || strncmp(p, s, pl) != 0) {
			return false;
		}
		p += pl;
		s += sl;
	}
	return *p == '\0' && *s == '\0';
}

/* A parameter's "%2F" is its '/' (kept encoded by unescape() below). */
static void slash_decode(char *p)
{
	char *w = p;
	for (const char *r = p; *r;) {
		if (r[0] == '%' && r[1] == '2' && (r[2] == 'F' || r[2] == 'f')) {
			*w++ = '/';
			r += 3;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
}

/*
 * Find the route of (method, url): sets q->route and q->param; otherwise
 * answers 404 (no route has this path) or 405 with Allow (no route with
 * this method).
 */
static void route(struct api_req *q, const char *url)
{
	char allow[64] = "";
	size_t ul = strlen(url);
	if (ul >= sizeof(q->pathbuf)) {
		api_error(q, 404, "no such resource");
		return;
	}
	for (const struct api_route *rt = api_routes; rt->fn != NULL; rt++) {
		const char *param[API_MAX_PARAMS] = {0};
		if (!path_match(rt->pattern, url, param))
			continue;
		if (strcmp(rt->method, q->method) != 0) {
			size_t n = strlen(allow);
			snprintf(allow + n, sizeof(allow) - n, "%s%s", n ? ", " : "", rt->method);
			continue;
		}
		/* copy the path and cut the parameters out of the copy */
		memcpy(q->pathbuf, url, ul + 1);
		for (size_t i = 0; i < API_MAX_PARAMS && param[i]; i++) {
			char *p = q->pathbuf + (param[i] - url);
			q->param[i] = p;
			p[strcspn(p, "/")] = '\0';
			slash_decode(p);
		}
		q->route = rt;
		return;
	}
	if (allow[0] != '\0') {
		snprintf(q->allow, sizeof(q->allow), "%s", allow);
		api_error(q, 405, "method %s is not allowed here (allowed: %s)", q->method, allow);
	} else {
		api_error(q, 404, "no such resource: %.200s", url);
	}
}

/* Every query parameter must be one the route takes. */
/*
 * libmicrohttpd's URL decoder: %XX decoded, except %00, which stays as
 * those three characters.  Decoded, a NUL would cut the path short (a
 * request for "c1.example%00/../../etc/passwd" would be served as one for
 * "c1.example"); kept, the request is refused below (400), and what is
 * logged is the whole path.  %2F stays too: it is a '/' inside one path
 * segment (a key named child.example./12345, a child name holding a '/'),
 * decoded once the route is found (slash_decode).
 */
static int hexval(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	char *w = s;
	for (const char *r = s; *r;) {
		int hi = r[0] == '%' ? hexval(r[1]) : -1, lo = hi >= 0 ? hexval(r[2]) : -1;
		if (lo < 0 || (hi == 0 && lo == 0) || (hi == 2 && lo == 15)) {
			*w++ = *r++;
			continue;
		}
		*w++ = (char)(hi << 4 | lo);
		r += 3;
	}
	*w = '\0';
	return (size_t)(w - s);
}

static bool has_nul(const char *s)
{
	return strstr(s, "%00") != NULL;
}

static enum MHD_Result query_check(void *cls, enum MHD_ValueKind kind, const char *key,
				   const char *value)
{
	struct api_req *q = cls;
	(void)kind;
	if (has_nul(key) || (value != NULL && has_nul(value))) {
		api_error(q, 400, "a query argument holds a NUL byte (%%00)");
		return MHD_NO;
	}
	/* unescape() kept a %2F, which only matters in the path: the value is
	 * MHD's own copy, decoded in place (it only gets shorter) */
	if (value != NULL)
		slash_decode((char *)value);
	const char *list = q->route->query;
	size_t kl = strlen(key);
	for (const char *p = list; *p;) {
		size_t n = strcspn(p, " ");
		if (n == kl && strncmp(p, key, kl) == 0)
			return MHD_YES;
		p += n;
		p += strspn(p, " ");
	}
	api_error(q, 400, "unknown query parameter \"%.64s\"%s%s", key,
		  list[0] ? "; this resource takes: " : "; this resource takes none", list);
	return MHD_NO;
}

/* Who is asking: sets q->token, q->actor and q->role, or answers 401. */
static void authenticate(struct api_req *q)
{
	struct api *a = q->a;
	const char *h = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, "Authorization");
	const char *why = NULL;
	if (h == NULL) {
		why = "no Authorization header";
	} else if (strncasecmp(h, "Bearer ", 7) != 0) {
		why = "the Authorization header is not a Bearer token";
	} else {
		const char *tok = h + 7;
		tok += strspn(tok, " ");
		size_t tl = strcspn(tok, " \t");
		if (tok[tl + strspn(tok + tl, " \t")] != '\0') {
			why = "the Authorization header has more than a Bearer token";
		} else if (tl == 0 || tl > API_TOKEN_MAX) {
			why = "unknown token";
		} else {
			pthread_mutex_lock(&a->mu);
			const struct api_token *t = api_tokens_find(&a->tokens, tok, tl);
			if (t != NULL) {
				snprintf(q->token, sizeof(q->token), "%s", t->name);
				q->role = t->role;
			}
			pthread_mutex_unlock(&a->mu);
			if (t == NULL)
				why = "unknown token";
		}
	}
	if (why == NULL) {
		snprintf(q->actor, sizeof(q->actor), "api:%s", q->token);
		return;
	}
	api_error(q, 401, "%s", why);
	/* the audit row says who tried (a failure to write it is logged by the
	 * store); a source that keeps trying is logged, not audited, beyond
	 * API_UNAUTH_AUDITS a minute, so it cannot grow the audit table */
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(q->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	struct sockaddr_storage ss = {0};
	if (ci != NULL && ci->client_addr != NULL)
		memcpy(&ss, ci->client_addr,
		       ci->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
							      : sizeof(struct sockaddr_in));
	if (ratelimit_allow(q->a->unauth, ratelimit_prefix_key(&ss), (int64_t)time(NULL),
			    API_UNAUTH_AUDITS))
		api_audit(q, NULL, NULL, "unauthorized", why);
	else
		log_info("api: %s from %s: %s (not audited: over %u a minute)", q->request,
			 q->client, why, API_UNAUTH_AUDITS);
}

/*
 * Is (method, url) a route that needs no token (the probes)?  Only an exact
 * match: any other request, to a path that does not exist included, is
 * authenticated first, so that the routes are not revealed to a stranger.
 */
static bool public_route(const char *method, const char *url)
{
	for (const struct api_route *rt = api_routes; rt->fn != NULL; rt++) {
		const char *param[API_MAX_PARAMS] = {0};
		if (rt->role == API_ROLE_NONE && strcmp(rt->method, method) == 0 &&
		    path_match(rt->pattern, url, param))
			return true;
	}
	return false;
}

/* What can be decided from the headers alone. */
static void judge_headers(struct api_req *q, const char *url)
{
	/* a probe's token, if it sends one, is not looked at */
	if (!public_route(q->method, url))
		authenticate(q);
	if (q->status != 0)
		return;
	if (has_nul(url)) {
		api_error(q, 400, "the path holds a NUL byte (%%00)");
		return;
	}
	route(q, url);
	if (q->status != 0)
		return;
	if (q->role < q->route->role) {
		api_error(q, 403, "token %s may only read (role %s)", q->token,
			  api_role_str(q->role));
		api_audit(q, NULL, NULL, "forbidden", "a read-only token asked for a change");
		return;
	}
	if (MHD_get_connection_values(q->conn, MHD_GET_ARGUMENT_KIND, query_check, q) < 0 ||
	    q->status != 0)
		return;
	/* a body must say its size up front, so that a body too large is
	 * refused before any of it is read (this libmicrohttpd cannot answer
	 * in the middle of a body) */
	const char *te = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, "Transfer-Encoding");
	if (te != NULL) {
		api_error(q, 411, "send the body with a Content-Length (no Transfer-Encoding)");
		return;
	}
	const char *cl = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, "Content-Length");
	if (cl != NULL) {
		char *end = NULL;
		errno = 0;
		unsigned long long n = strtoull(cl, &end, 10);
		if (errno == 0 && end != cl && n > q->cfg->api.max_body)
			api_error(q, 413, "the body is larger than api.max-body (%u bytes)",
				  q->cfg->api.max_body);
	}
}

static enum MHD_Result queue(struct api_req *q)
{
	if (q->queued)
		return MHD_YES;
	q->queued = true;
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(q->outlen, q->out, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL)
		return MHD_NO;
	q->out = NULL; /* MHD frees it with the response */
	if (q->ctype != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, q->ctype);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
				q->ui ? "no-cache" : "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (q->ui) {
		MHD_add_response_header(resp, "Content-Security-Policy", API_UI_CSP);
		MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
		MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	}
	if (q->location != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, q->location);
	if (q->status == 401)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					"Bearer realm=\"dsyncd\"");
	if (q->status == 405)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, q->allow);
	enum MHD_Result rc = MHD_queue_response(q->conn, q->status, resp);
	MHD_destroy_response(resp);
	/* scrapes and probes come every few seconds: a line each only at debug */
	bool routine = q->status == 200 && (q->ui || strcmp(q->request, "GET /metrics") == 0 ||
					    strcmp(q->request, "GET /healthz") == 0 ||
					    strcmp(q->request, "GET /readyz") == 0);
	log_msg(routine ? LOG_DEBUG : LOG_INFO, "api: %s %s %s -> %u", q->client,
		q->token[0] ? q->token : "-", q->request, q->status);
	return rc;
}

static void client_str(struct MHD_Connection *c, char *out, size_t len)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	char a[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;
	if (sa != NULL && sa->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)sa;
		inet_ntop(AF_INET, &s->sin_addr, a, sizeof(a));
		port = ntohs(s->sin_port);
	} else if (sa != NULL && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)sa;
		inet_ntop(AF_INET6, &s->sin6_addr, a, sizeof(a));
		port = ntohs(s->sin6_port);
	}
	snprintf(out, len, "%s#%u", a, port);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct api *a = cls;
	struct api_req *q = *con_cls;
	(void)version;
	if (q == NULL) {
		/* first call: the headers are in, the body is not */
		q = calloc(1, sizeof(*q));
		if (q == NULL)
			return MHD_NO;
		*con_cls = q;
		q->a = a;
		pthread_mutex_lock(&a->mu);
		q->cfg = cfg_hold(a->cfg); /* a reload may swap a->cfg meanwhile */
		pthread_mutex_unlock(&a->mu);
		q->conn = c;
		q->method = method;
		/*
		 * the path is decoded: only printable ASCII goes to logs and audit
		 * rows (and so into JSON), every other byte as \xNN
		 */
		char path[sizeof(q->request) - 20];
		api_escape(path, sizeof(path), url);
		snprintf(q->request, sizeof(q->request), "%.16s %s", method, path);
		client_str(c, q->client, sizeof(q->client));
		if (api_ui_path(url)) {
			api_ui_serve(q, url);
			return queue(q);
		}
		judge_headers(q, url);
		return q->status != 0 ? queue(q) : MHD_YES;
	}
	if (*upload_size != 0) {
		size_t n = *upload_size, max = q->cfg->api.max_body;
		*upload_size = 0;
		if (q->status != 0)
			return MHD_YES; /* answered already; the rest is dropped */
		if (n > max - q->len) {
			/* cannot happen after the Content-Length check; never buffer it */
			free(q->body);
			q->body = NULL;
			q->len = q->cap = 0;
			api_error(q, 413, "the body is larger than api.max-body (%u bytes)",
				  q->cfg->api.max_body);
			return MHD_YES;
		}
		if (q->len + n > q->cap) {
			size_t cap = q->cap ? q->cap : 1024;
			while (cap < q->len + n)
				cap *= 2;
			if (cap > max)
				cap = max;
			char *b = realloc(q->body, cap);
			if (b == NULL) {
				api_text(q, 500, NULL, NULL, 0);
				return MHD_YES;
			}
			q->body = b;
			q->cap = cap;
		}
		memcpy(q->body + q->len, upload, n);
		q->len += n;
		return MHD_YES;
	}
	/* the whole request is in */
	if (q->status == 0)
		q->route->fn(q);
	if (q->status == 0)
		api_error(q, 500, "the handler gave no answer");
	return queue(q);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct api_req *q = *con_cls;
	(void)cls;
	(void)c;
	(void)toe;
	if (q == NULL)
		return;
	cfg_free(q->cfg);
	free(q->body);
	free(q->out);
	free(q);
	*con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_warning("api: %s", msg);
}

/* ---- life cycle ---- */

/* A PEM file; secret (the private key): refused when group or others may access it. */
static char *read_pem(const char *path, bool secret, size_t *len)
{
	char *buf = api_read_file(path, secret ? "API TLS key file" : "API TLS certificate file",
				  secret, CFG_TLS_FILE_MAX, len);
	if (buf != NULL && *len == 0) {
		log_err("%s: the file is empty", path);
		free(buf);
		buf = NULL;
	}
	return buf;
}

static void api_free(struct api *a)
{
	if (a == NULL)
		return;
	store_close(a->store);
	api_ui_free(a->ui);
	ratelimit_free(a->unauth);
	api_tokens_clear(&a->tokens);
	if (a->tls_key != NULL)
		OPENSSL_cleanse(a->tls_key, a->tls_key_len);
	free(a->tls_key);
	free(a->tls_cert);
	pthread_mutex_destroy(&a->mu);
	cfg_free(a->cfg);
	free(a);
}

/* The state of a starting API: tokens, TLS files, rate limit, store (failures logged). */
static int api_open(const struct api_env *env, bool tls, struct api **out)
{
	const struct cfg *cfg = env->cfg;
	struct api *a = calloc(1, sizeof(*a));
	if (a == NULL)
		return DS_ENOMEM;
	a->env = *env;
	a->cfg = cfg_hold(cfg);
	pthread_mutex_init(&a->mu, NULL);
	int rc = api_tokens_load(cfg->api.tokens_file, &a->tokens);
	if (rc != DS_OK) {
		log_err("the admin API does not start: fix the tokens file %s",
			cfg->api.tokens_file);
		api_free(a);
		return rc;
	}
	size_t certlen = 0;
	if (tls && ((a->tls_cert = read_pem(cfg->api.tls_cert, false, &certlen)) == NULL ||
		    (a->tls_key = read_pem(cfg->api.tls_key, true, &a->tls_key_len)) == NULL)) {
		api_free(a);
		return DS_ECONFIG;
	}
	a->ui = api_ui_load(cfg->api.ui_dir); /* without it, the API serves all the same */
	rc = ratelimit_new(1024, &a->unauth);
	if (rc == DS_OK)
		rc = store_open(cfg->store_spec, &a->store);
	if (rc != DS_OK) {
		log_err("api: cannot open store %s: %s", cfg->store_label, ds_strerror(rc));
		api_free(a);
		return rc;
	}
	*out = a;
	return DS_OK;
}

/* api.listen and api.port as a socket address; *flags gets the IPv6 mode.
 * False (logged) when api.listen is no IP address. */
static bool api_addr(const struct cfg *cfg, struct sockaddr_storage *ss, unsigned *flags)
{
	struct sockaddr_in *s4 = (void *)ss;
	struct sockaddr_in6 *s6 = (void *)ss;
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, cfg->api.listen, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(cfg->api.port);
	} else if (inet_pton(AF_INET6, cfg->api.listen, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(cfg->api.port);
		/* "::" takes IPv4 as well; a specific address is itself only */
		*flags |=
		    IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr) ? MHD_USE_DUAL_STACK : MHD_USE_IPv6;
	} else {
		log_err("api.listen %s is not an IP address", cfg->api.listen);
		return false;
	}
	return true;
}

int api_start(const struct api_env *env, struct api **out)
{
	const struct cfg *cfg = env->cfg;
	struct api *a;
	*out = NULL;
	if (!cfg->api.enabled)
		return DS_OK;
	bool tls = cfg->api.tls_cert != NULL && cfg->api.tls_key != NULL;
	int rc = api_open(env, tls, &a);
	if (rc != DS_OK)
		return rc;
	struct sockaddr_storage ss;
	/* one internal thread; AUTO picks epoll on Linux, so descriptors above
	 * FD_SETSIZE (a busy DNS side) do not break it as select() would */
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
	if (!api_addr(cfg, &ss, &flags)) {
		api_free(a);
		return DS_ECONFIG;
	}
	if (tls)
		flags |= MHD_USE_TLS;
	struct MHD_OptionItem opts[] = {
	    {MHD_OPTION_SOCK_ADDR, 0, &ss},
	    {MHD_OPTION_CONNECTION_LIMIT, API_CONN_LIMIT, NULL},
	    {MHD_OPTION_PER_IP_CONNECTION_LIMIT, API_CONN_PER_IP, NULL},
	    {MHD_OPTION_CONNECTION_TIMEOUT, API_CONN_TIMEOUT, NULL},
	    {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, NULL},
	    {MHD_OPTION_UNESCAPE_CALLBACK, (intptr_t)unescape, NULL},
	    {tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, a->tls_cert},
	    {tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, a->tls_key},
	    /* TLS 1.2 and 1.3 only */
	    {tls ? MHD_OPTION_HTTPS_PRIORITIES : MHD_OPTION_END, 0, (void *)API_TLS_PRIORITIES},
	    {MHD_OPTION_END, 0, NULL},
	};
	a->mhd = MHD_start_daemon(flags, cfg->api.port, NULL, NULL, on_request, a,
				  MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL, MHD_OPTION_ARRAY,
				  opts, MHD_OPTION_END);
	if (a->mhd == NULL) {
		log_err("api: cannot serve on %s port %u%s (address in use, or bad TLS files?)",
			cfg->api.listen, cfg->api.port, tls ? " with TLS" : "");
		api_free(a);
		return DS_EIO;
	}
	bool v6 = ss.ss_family == AF_INET6;
	log_notice("admin API on %s://%s%s%s:%u/ (%zu token(s))", tls ? "https" : "http",
		   v6 ? "[" : "", cfg->api.listen, v6 ? "]" : "", cfg->api.port, a->tokens.n);
	*out = a;
	return DS_OK;
}

int api_reload_tokens(struct api *a)
{
	if (a == NULL)
		return DS_OK;
	struct api_tokens set = {0}, old;
	int rc = api_tokens_load(a->cfg->api.tokens_file, &set);
	if (rc != DS_OK) {
		log_err("api: tokens file %s not reloaded; the old tokens stay",
			a->cfg->api.tokens_file);
		return rc;
	}
	pthread_mutex_lock(&a->mu);
	old = a->tokens;
	a->tokens = set;
	pthread_mutex_unlock(&a->mu);
	api_tokens_clear(&old);
	log_notice("api: %zu token(s) loaded from %s", set.n, a->cfg->api.tokens_file);
	return DS_OK;
}

void api_set_cfg(struct api *a, const struct cfg *cfg)
{
	if (a == NULL)
		return;
	/* the console's files again: an upgrade's files are served after a reload */
	struct api_ui *ui = api_ui_load(cfg->api.ui_dir);
	pthread_mutex_lock(&a->mu);
	const struct cfg *old = a->cfg;
	struct api_ui *old_ui = a->ui;
	a->cfg = cfg_hold(cfg);
	a->ui = ui;
	pthread_mutex_unlock(&a->mu);
	cfg_free(old);
	api_ui_free(old_ui);
}

void api_stop(struct api *a)
{
	if (a == NULL)
		return;
	if (a->mhd != NULL)
		MHD_stop_daemon(a->mhd);
	api_free(a);
}

/*
 * config/config.c -- load dsyncd.conf with libconfig, check it against the
 * schema table, apply defaults, check cross-references, fill struct cfg.
 *
 * Three passes over one parsed tree, all errors counted and printed as
 * "file:line: message":
 *   1. walk: every setting must match a schema row (unknown names, wrong
 *      types, out-of-range numbers, per-value checks, missing required ones);
 *   2. fill: values (or the row's default) copied into struct cfg; values
 *      that already failed in pass 1 fall back to the default so that pass 3
 *      does not pile follow-up errors on them;
 *   3. cross checks done while filling: zone/child names, keys, backends,
 *      min <= max pairs.
 * Any error means the whole struct is freed and DS_ECONFIG returned: the
 * daemon never serves a half-checked config.
 */
#include "config/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/backend.h"
#include "common/deleg.h"
#include "common/dname.h"
#include "common/dnsq.h"
#include "common/err.h"
#include "common/log.h"

struct loader {
	const char *file; /* the config path as given */
	char *dir;	  /* its directory; NULL when it has none (cwd) */
	FILE *errf;
	unsigned nerr;
	bool oom;
	struct cfg *c;
};

/* ---------------------------------------------------------------- errors */

static void say(struct loader *L, const config_setting_t *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* One error line, "file:line: message"; settings without a line (the root)
 * get "file: message". */
static void say(struct loader *L, const config_setting_t *s, const char *fmt, ...)
{
	L->nerr++;
	if (!L->errf)
		return;
	const char *f =
	    (s && config_setting_source_file(s)) ? config_setting_source_file(s) : L->file;
	unsigned line = s ? config_setting_source_line(s) : 0;
	if (line)
		fprintf(L->errf, "%s:%u: ", f, line);
	else
		fprintf(L->errf, "%s: ", f);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(L->errf, fmt, ap);
	va_end(ap);
	fputc('\n', L->errf);
}

static char *dup_str(struct loader *L, const char *s)
{
	char *d = strdup(s);
	if (!d)
		L->oom = true;
	return d;
}

static void *zalloc(struct loader *L, size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);
	if (!p)
		L->oom = true;
	return p;
}

/* "file:line" of a setting, for messages printed later (backends, keys). */
static void where_of(struct loader *L, const config_setting_t *s, char *out, size_t len)
{
	const char *f = config_setting_source_file(s) ? config_setting_source_file(s) : L->file;
	int n = snprintf(out, len, "%s:%u", f, config_setting_source_line(s));
	if (n < 0 || (size_t)n >= len)
		out[len - 1] = '\0';
}

/* A relative path from the config is relative to the config file's folder. */
static char *resolve(struct loader *L, const char *p)
{
	if (p[0] == '/' || !L->dir)
		return dup_str(L, p);
	size_t n = strlen(L->dir) + 1 + strlen(p) + 1;
	char *r = malloc(n);
	if (!r) {
		L->oom = true;
		return NULL;
	}
	snprintf(r, n, "%s/%s", L->dir, p);
	return r;
}

/* ------------------------------------------------------ value checks */

typedef bool (*check_fn)(struct loader *L, const config_setting_t *s, const char *where);

static bool check_nonempty(struct loader *L, const config_setting_t *s, const char *where)
{
	if (config_setting_get_string(s)[0] != '\0')
		return true;
	say(L, s, "'%s' must not be empty", where);
	return false;
}

static bool check_addr(struct loader *L, const config_setting_t *s, const char *where)
{
	const char *v = config_setting_get_string(s);
	struct in6_addr a6;
	struct in_addr a4;
	if (inet_pton(AF_INET, v, &a4) == 1 || inet_pton(AF_INET6, v, &a6) == 1)
		return true;
	say(L, s, "'%s': \"%s\" is not an IPv4 or IPv6 address", where, v);
	return false;
}

static bool check_dname(struct loader *L, const config_setting_t *s, const char *where)
{
	const char *v = config_setting_get_string(s);
	uint8_t buf[DNAME_MAX];
	if (v[0] != '\0' && dname_from_str(v, buf) > 0)
		return true;
	say(L, s, "'%s': \"%s\" is not a valid domain name", where, v);
	return false;
}

static bool check_sign_mode(struct loader *L, const config_setting_t *s, const char *where)
{
	const char *v = config_setting_get_string(s);
	if (strcmp(v, "rfc2931") == 0 || strcmp(v, "response-only") == 0 || strcmp(v, "off") == 0)
		return true;
	say(L, s, "'%s': \"%s\" is not \"rfc2931\", \"response-only\" or \"off\"", where, v);
	return false;
}

/* The algorithms dsyncd can generate its own key with. */
static bool check_receiver_alg(struct loader *L, const config_setting_t *s, const char *where)
{
	int v = config_setting_get_int(s);
	if (v == 13 || v == 14 || v == 15 || v == 16)
		return true;
	say(L, s, "'%s': algorithm %d cannot be generated; use 13, 14, 15 or 16", where, v);
	return false;
}

static bool check_boot_method(struct loader *L, const config_setting_t *s, const char *where)
{
	const char *v = config_setting_get_string(s);
	if (cfg_boot_method(v) != 0)
		return true;
	say(L, s, "'%s': unknown bootstrap method \"%s\" (at-apex, at-ns, unsigned, manual)", where,
	    v);
	return false;
}

static bool check_at_ns_require(struct loader *L, const config_setting_t *s, const char *where)
{
	const char *v = config_setting_get_string(s);
	if (strcmp(v, "all") == 0 || strcmp(v, "any") == 0)
		return true;
	say(L, s, "'%s': \"%s\" is neither \"all\" nor \"any\"", where, v);
	return false;
}

/* An upstream resolver: an address, optionally "@port" (not 0). */
static bool check_forward(struct loader *L, const config_setting_t *s, const char *where)
{
	const char *v = config_setting_get_string(s);
	struct sockaddr_storage ss;
	socklen_t len;
	if (strchr(v, '#') == NULL && dnsq_addr_from_str(v, 53, &ss, &len) == DS_OK) {
		in_port_t port = ss.ss_family == AF_INET
				     ? ((const struct sockaddr_in *)&ss)->sin_port
				     : ((const struct sockaddr_in6 *)&ss)->sin6_port;
		if (port != 0)
			return true;
	}
	say(L, s, "'%s': \"%s\" is not an address or address@port", where, v);
	return false;
}

static bool check_log_target(struct loader *L, const config_setting_t *s, const char *where)
{
	const char *v = config_setting_get_string(s);
	if (strcmp(v, "stderr") == 0 || strcmp(v, "syslog") == 0)
		return true;
	say(L, s, "'%s': \"%s\" is neither \"stderr\" nor \"syslog\"", where, v);
	return false;
}

static bool check_log_level(struct loader *L, const config_setting_t *s, const char *where)
{
	const char *v = config_setting_get_string(s);
	if (log_level_from_str(v) >= 0)
		return true;
	say(L, s, "'%s': unknown level \"%s\" (err, warning, notice, info, debug)", where, v);
	return false;
}

static bool check_log_facility(struct loader *L, const config_setting_t *s, const char *where)
{
	const char *v = config_setting_get_string(s);
	if (log_facility_from_str(v) >= 0)
		return true;
	say(L, s, "'%s': unknown syslog facility \"%s\"", where, v);
	return false;
}

/* RFC 8624: MUST NOT for signing and validation. */
static const char *alg_forbidden(long long a)
{
	switch (a) {
	case 1:
		return "RSAMD5";
	case 3:
		return "DSA";
	case 6:
		return "DSA-NSEC3-SHA1";
	case 12:
		return "ECC-GOST";
	default:
		return NULL;
	}
}

static bool check_sig0_alg(struct loader *L, const config_setting_t *s, const char *where)
{
	long long a = config_setting_get_int64(s);
	const char *bad = alg_forbidden(a);
	if (bad) {
		say(L, s, "'%s': algorithm %lld (%s) must not be used (RFC 8624)", where, a, bad);
		return false;
	}
	if (!sig0_alg_supported((uint8_t)a)) {
		say(L, s, "'%s': algorithm %lld is not supported for SIG(0)", where, a);
		return false;
	}
	return true;
}

static bool check_ds_alg(struct loader *L, const config_setting_t *s, const char *where)
{
	long long a = config_setting_get_int64(s);
	const char *bad = alg_forbidden(a);
	if (!bad)
		return true;
	say(L, s, "'%s': algorithm %lld (%s) must not be used (RFC 8624)", where, a, bad);
	return false;
}

static bool check_ds_digest(struct loader *L, const config_setting_t *s, const char *where)
{
	long long d = config_setting_get_int64(s);
	if (d == 1 || d == 2 || d == 4)
		return true;
	say(L, s, "'%s': DS digest type %lld is not allowed (1, 2 or 4)", where, d);
	return false;
}

static bool check_backend_type(struct loader *L, const config_setting_t *s, const char *where)
{
	const char *v = config_setting_get_string(s);
	if (backend_find(v))
		return true;
	say(L, s, "'%s': unknown backend type \"%s\"", where, v);
	return false;
}

/* ------------------------------------------------------------- schema */

enum ctype {
	CT_GROUP, /* { ... } */
	CT_LIST,  /* ( { ... }, ... ) -- elements described by "path.[]" */
	CT_ARRAY, /* [ ... ] or ( ... ) of scalars -- elements by "path.[]" */
	CT_INT,
	CT_STR,
	CT_BOOL,
};

#define REQ 1u /* must be present */

/*
 * One row per setting.  def is the default as text (numbers in decimal,
 * arrays as space-separated elements), NULL when there is none.  min/max
 * bound an integer's value, or a list's/array's number of elements.
 * doc/dsyncd.conf.5 documents exactly these rows; keep them in step.
 */
struct row {
	const char *path;
	enum ctype type;
	const char *def;
	long long min, max;
	check_fn check;
	unsigned flags;
};

// clang-format off
static const struct row schema[] = {
	/* path                                type      default              min    max       check                flags */
	{"server",                               CT_GROUP,  NULL,                0,     0,        NULL,                0},
	{"server.listen",                        CT_ARRAY,  "127.0.0.1 ::1",     1,     32,       NULL,                0},
	{"server.listen.[]",                     CT_STR,    NULL,                0,     0,        check_addr,          0},
	{"server.port",                          CT_INT,    "5354",              1,     65535,    NULL,                0},
	{"server.workers",                       CT_INT,    "0",                 0,     256,      NULL,                0},
	{"server.tcp-idle-timeout",              CT_INT,    "10",                1,     3600,     NULL,                0},
	{"server.tcp-max-connections",           CT_INT,    "256",               1,     65535,    NULL,                0},
	{"server.tcp-connections-per-network",   CT_INT,    "32",                1,     65535,    NULL,                0},
	{"server.max-message-size",              CT_INT,    "16384",             512,   65535,    NULL,                0},
	{"server.queue-max",                     CT_INT,    "1024",              1,     1000000,  NULL,                0},
	{"server.commit-batch-max",              CT_INT,    "64",                1,     10000,    NULL,                0},
	{"server.udp-receive-buffer",             CT_INT,    "4194304",           0,     268435456, NULL,               0},
	{"server.updates-per-source",            CT_INT,    "600",               1,     100000000, NULL,               0},
	{"server.updates-per-signer",            CT_INT,    "120",               1,     100000000, NULL,               0},

	{"store",                                CT_GROUP,  NULL,                0,     0,        NULL,                0},
	{"store.path",                           CT_STR,    "var/dsyncd.db",     0,     0,        check_nonempty,      0},
	{"store.retention-days",                 CT_INT,    "0",                 0,     36500,    NULL,                0},

	{"log",                                  CT_GROUP,  NULL,                0,     0,        NULL,                0},
	{"log.target",                           CT_STR,    "stderr",            0,     0,        check_log_target,    0},
	{"log.level",                            CT_STR,    "info",              0,     0,        check_log_level,     0},
	{"log.facility",                         CT_STR,    "daemon",            0,     0,        check_log_facility,  0},

	{"sig0",                                 CT_GROUP,  NULL,                0,     0,        NULL,                0},
	{"sig0.algorithms",                      CT_ARRAY,  "8 10 13 14 15 16",  1,     32,       NULL,                0},
	{"sig0.algorithms.[]",                   CT_INT,    NULL,                1,     255,      check_sig0_alg,      0},
	{"sig0.rsa-min-bits",                    CT_INT,    "2048",              1024,  16384,    NULL,                0},
	{"sig0.rsa-max-bits",                    CT_INT,    "4096",              1024,  16384,    NULL,                0},
	{"sig0.max-age",                         CT_INT,    "300",               1,     86400,    NULL,                0},
	{"sig0.clock-skew",                      CT_INT,    "120",               0,     3600,     NULL,                0},
	{"sig0.max-validity",                    CT_INT,    "900",               1,     86400,    NULL,                0},
	{"sig0.verify-budget",                   CT_INT,    "5000",              0,     1000000,  NULL,                0},

	{"outbox",                               CT_GROUP,  NULL,                0,     0,        NULL,                0},
	{"outbox.retry-min",                     CT_INT,    "1",                 1,     86400,    NULL,                0},
	{"outbox.retry-max",                     CT_INT,    "3600",              1,     604800,   NULL,                0},

	{"ede",                                  CT_GROUP,  NULL,                0,     0,        NULL,                0},
	{"ede.key-unknown",                      CT_INT,    "513",               0,     65535,    NULL,                0},
	{"ede.key-not-trusted",                  CT_INT,    "514",               0,     65535,    NULL,                0},
	{"ede.key-validation-failed",            CT_INT,    "515",               0,     65535,    NULL,                0},
	{"ede.manual-bootstrap-required",        CT_INT,    "516",               0,     65535,    NULL,                0},

	{"keystate",                             CT_GROUP,  NULL,                0,     0,        NULL,                0},
	{"keystate.option-code",                 CT_INT,    "65002",             1,     65535,    NULL,                0},
	{"keystate.unsigned-inquiries",          CT_BOOL,   "false",             0,     0,        NULL,                0},
	{"keystate.inquiries-per-source",       CT_INT,    "120",               1,     1000000,  NULL,                0},

	{"bootstrap",                            CT_GROUP,  NULL,                0,     0,        NULL,                0},
	{"bootstrap.uploads-per-child",          CT_INT,    "6",                 1,     100000,   NULL,                0},
	{"bootstrap.uploads-per-source",         CT_INT,    "30",                1,     1000000,  NULL,                0},
	{"bootstrap.max-pending-total",          CT_INT,    "10000",             1,     10000000, NULL,                0},
	{"bootstrap.retry-interval",             CT_INT,    "60",                1,     86400,    NULL,                0},
	{"bootstrap.retry-max-interval",         CT_INT,    "3600",              1,     604800,   NULL,                0},
	{"bootstrap.attempts",                   CT_INT,    "8",                 1,     1000,     NULL,                0},
	{"bootstrap.at-ns-require",              CT_STR,    "all",               0,     0,        check_at_ns_require, 0},
	{"bootstrap.unsigned-rounds",            CT_INT,    "3",                 1,     100,      NULL,                0},
	{"bootstrap.unsigned-interval",          CT_INT,    "129600",            1,     2592000,  NULL,                0},
	{"bootstrap.unsigned-vantage",           CT_ARRAY,  NULL,                1,     16,       NULL,                0},
	{"bootstrap.unsigned-vantage.[]",        CT_STR,    NULL,                0,     0,        check_addr,          0},
	{"bootstrap.unsigned-resolvers",         CT_ARRAY,  NULL,                1,     16,       NULL,                0},
	{"bootstrap.unsigned-resolvers.[]",      CT_STR,    NULL,                0,     0,        check_forward,       0},
	{"bootstrap.nameserver-port",            CT_INT,    "53",                1,     65535,    NULL,                0},
	{"bootstrap.query-timeout",              CT_INT,    "5",                 1,     120,      NULL,                0},

	{"api",                                  CT_GROUP,  NULL,                0,     0,        NULL,                0},
	{"api.listen",                           CT_STR,    "127.0.0.1",         0,     0,        check_addr,          0},
	{"api.port",                             CT_INT,    "8053",              1,     65535,    NULL,                0},
	{"api.tokens-file",                      CT_STR,    NULL,                0,     0,        check_nonempty,      0},
	{"api.tls-certificate",                  CT_STR,    NULL,                0,     0,        check_nonempty,      0},
	{"api.tls-key",                          CT_STR,    NULL,                0,     0,        check_nonempty,      0},
	{"api.max-body",                         CT_INT,    "65536",             64,    16777216, NULL,                0},

	{"resolver",                             CT_GROUP,  NULL,                0,     0,        NULL,                0},
	{"resolver.trust-anchor-file",           CT_STR,    "/usr/share/dns/root.key", 0, 0,     check_nonempty,      0},
	{"resolver.root-hints",                  CT_STR,    NULL,                0,     0,        check_nonempty,      0},
	{"resolver.config-file",                 CT_STR,    NULL,                0,     0,        check_nonempty,      0},
	{"resolver.forward",                     CT_ARRAY,  NULL,                1,     16,       NULL,                0},
	{"resolver.forward.[]",                  CT_STR,    NULL,                0,     0,        check_forward,       0},
	{"resolver.timeout",                     CT_INT,    "10",                1,     300,      NULL,                0},

	{"receiver",                             CT_GROUP,  NULL,                0,     0,        NULL,                0},
	{"receiver.name",                        CT_STR,    NULL,                0,     0,        check_dname,         0},
	{"receiver.key-directory",               CT_STR,    "keys",              0,     0,        check_nonempty,      0},
	{"receiver.algorithm",                   CT_INT,    "15",                1,     255,      check_receiver_alg,  0},
	{"receiver.sign",                        CT_STR,    "rfc2931",           0,     0,        check_sign_mode,     0},
	{"receiver.sign-budget",                 CT_INT,    "1000",              0,     1000000,  NULL,                0},
	{"receiver.roll-publish",                CT_INT,    "172800",            0,     31536000, NULL,                0},
	{"receiver.roll-retire",                 CT_INT,    "172800",            0,     31536000, NULL,                0},
	{"receiver.addresses",                   CT_ARRAY,  NULL,                1,     32,       NULL,                0},
	{"receiver.addresses.[]",                CT_STR,    NULL,                0,     0,        check_addr,          0},
	{"receiver.publish-ttl",                 CT_INT,    "3600",              0,     604800,   NULL,                0},
	{"receiver.dsync-scheme",                CT_INT,    "2",                 1,     255,      NULL,                0},
	{"receiver.svcb-bootstrap-key",          CT_INT,    "65282",             1,     65535,    NULL,                0},

	{"zones",                                CT_LIST,   NULL,                1,     1000,     NULL,                REQ},
	{"zones.[]",                             CT_GROUP,  NULL,                0,     0,        NULL,                0},
	{"zones.[].name",                        CT_STR,    NULL,                0,     0,        check_dname,         REQ},
	{"zones.[].delegation-ttl",              CT_INT,    "3600",              1,     604800,   NULL,                0},
	{"zones.[].min-ns",                      CT_INT,    "2",                 1,     13,       NULL,                0},
	{"zones.[].max-ns",                      CT_INT,    "13",                1,     13,       NULL,                0},
	{"zones.[].max-ds",                      CT_INT,    "8",                 0,     64,       NULL,                0},
	{"zones.[].max-glue",                    CT_INT,    "26",                0,     100,      NULL,                0},
	{"zones.[].max-update-records",          CT_INT,    "64",                1,     1000,     NULL,                0},
	{"zones.[].ds-digest-types",             CT_ARRAY,  "2 4",               1,     8,        NULL,                0},
	{"zones.[].ds-digest-types.[]",          CT_INT,    NULL,                1,     255,      check_ds_digest,     0},
	{"zones.[].ds-algorithms",               CT_ARRAY,  "8 10 13 14 15 16",  1,     32,       NULL,                0},
	{"zones.[].ds-algorithms.[]",            CT_INT,    NULL,                1,     255,      check_ds_alg,        0},
	{"zones.[].key-algorithms",              CT_ARRAY,  NULL,                1,     32,       NULL,                0},
	{"zones.[].key-algorithms.[]",           CT_INT,    NULL,                1,     255,      check_ds_alg,        0},
	{"zones.[].bootstrap-methods",          CT_ARRAY,  "manual",            0,     4,        NULL,                0},
	{"zones.[].bootstrap-methods.[]",       CT_STR,    NULL,                0,     0,        check_boot_method,   0},
	{"zones.[].bootstrap-max-pending",      CT_INT,    "3",                 1,     16,       NULL,                0},
	{"zones.[].key-rollover",               CT_BOOL,   "true",              0,     0,        NULL,                0},
	{"zones.[].children",                    CT_LIST,   NULL,                0,     1000000,  NULL,                0},
	{"zones.[].children.[]",                 CT_GROUP,  NULL,                0,     0,        NULL,                0},
	{"zones.[].children.[].name",            CT_STR,    NULL,                0,     0,        check_dname,         REQ},
	{"zones.[].children.[].keys",            CT_ARRAY,  NULL,                0,     16,       NULL,                0},
	{"zones.[].children.[].keys.[]",         CT_STR,    NULL,                0,     0,        check_nonempty,      0},
	{"zones.[].backends",                    CT_LIST,   NULL,                0,     16,       NULL,                0},
	{"zones.[].backends.[]",                 CT_GROUP,  NULL,                0,     0,        NULL,                0},
	{"zones.[].backends.[].type",            CT_STR,    NULL,                0,     0,        check_backend_type,  REQ},
	{"zones.[].backends.[].name",            CT_STR,    NULL,                0,     0,        check_nonempty,      0},
	{"zones.[].backends.[].path",            CT_STR,    NULL,                0,     0,        check_nonempty,      0},
	{"zones.[].backends.[].template",        CT_STR,    NULL,                0,     0,        check_nonempty,      0},
	{"zones.[].backends.[].reload",          CT_ARRAY,  NULL,                1,     64,       NULL,                0},
	{"zones.[].backends.[].reload.[]",       CT_STR,    NULL,                0,     0,        check_nonempty,      0},
	{"zones.[].backends.[].reload-timeout",  CT_INT,    "30",                1,     3600,     NULL,                0},
};
// clang-format on

#define NROWS (sizeof schema / sizeof schema[0])

static const struct row *row_find(const char *pattern)
{
	for (size_t i = 0; i < NROWS; i++)
		if (strcmp(schema[i].path, pattern) == 0)
			return &schema[i];
	return NULL;
}

/* The last component of a pattern ("zones.[].name" -> "name"). */
static const char *leaf(const char *pattern)
{
	const char *d = strrchr(pattern, '.');
	return d ? d + 1 : pattern;
}

/* True when pattern is a direct member of the group pattern parent. */
static bool is_member_of(const char *pattern, const char *parent)
{
	size_t n = strlen(parent);
	if (n == 0)
		return strchr(pattern, '.') == NULL;
	return strncmp(pattern, parent, n) == 0 && pattern[n] == '.' &&
	       strchr(pattern + n + 1, '.') == NULL;
}

static bool type_ok(const struct row *r, const config_setting_t *s)
{
	int t = config_setting_type(s);
	switch (r->type) {
	case CT_GROUP:
		return t == CONFIG_TYPE_GROUP;
	case CT_LIST:
	case CT_ARRAY:
		/* "[]" and "()" both parse; an empty one is whichever was written */
		return t == CONFIG_TYPE_LIST || t == CONFIG_TYPE_ARRAY;
	case CT_INT:
		return t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64;
	case CT_STR:
		return t == CONFIG_TYPE_STRING;
	case CT_BOOL:
		return t == CONFIG_TYPE_BOOL;
	}
	return false;
}

static const char *type_word(enum ctype t)
{
	switch (t) {
	case CT_GROUP:
		return "a group { ... }";
	case CT_LIST:
		return "a list ( { ... }, ... )";
	case CT_ARRAY:
		return "an array [ ... ]";
	case CT_INT:
		return "an integer";
	case CT_STR:
		return "a string";
	case CT_BOOL:
		return "true or false";
	}
	return "?";
}

/*
 * Pass 1.  s is a group, list or array whose schema pattern is pat ("" for
 * the root) and whose concrete path is where ("zones.[0]").  Depth is
 * bounded by the schema: nothing below an unknown setting is visited.
 */
static void walk(struct loader *L, const config_setting_t *s, const char *pat, const char *where)
{
	bool group = config_setting_is_group(s);
	int n = config_setting_length(s);
	for (int i = 0; i < n; i++) {
		const config_setting_t *c = config_setting_get_elem(s, (unsigned)i);
		char cpat[256], cwhere[512];
		const char *sep = pat[0] ? "." : "";
		if (group) {
			snprintf(cpat, sizeof cpat, "%s%s%s", pat, sep, config_setting_name(c));
			snprintf(cwhere, sizeof cwhere, "%s%s%s", where, sep,
				 config_setting_name(c));
		} else {
			snprintf(cpat, sizeof cpat, "%s%s[]", pat, sep);
			snprintf(cwhere, sizeof cwhere, "%s%s[%d]", where, sep, i);
		}
		const struct row *r = row_find(cpat);
		if (!r) {
			say(L, c, "unknown setting '%s'", cwhere);
			continue;
		}
		if (!type_ok(r, c)) {
			say(L, c, "'%s' must be %s", cwhere, type_word(r->type));
			continue;
		}
		bool ok = true;
		if (r->type == CT_INT) {
			long long v = config_setting_get_int64(c);
			if (v < r->min || v > r->max) {
				say(L, c, "'%s' = %lld is out of range %lld..%lld", cwhere, v,
				    r->min, r->max);
				ok = false;
			}
		} else if (r->type == CT_LIST || r->type == CT_ARRAY) {
			long long len = config_setting_length(c);
			if (len < r->min) {
				say(L, c, "'%s' needs at least %lld element%s", cwhere, r->min,
				    r->min == 1 ? "" : "s");
				ok = false;
			} else if (len > r->max) {
				say(L, c, "'%s' has %lld elements, at most %lld allowed", cwhere,
				    len, r->max);
				ok = false;
			}
		}
		if (ok && r->check)
			r->check(L, c, cwhere);
		if (config_setting_is_aggregate(c))
			walk(L, c, cpat, cwhere);
	}
	if (!group)
		return;
	for (size_t i = 0; i < NROWS; i++) {
		if (!(schema[i].flags & REQ) || !is_member_of(schema[i].path, pat))
			continue;
		if (config_setting_get_member(s, leaf(schema[i].path)))
			continue;
		say(L, s, "missing setting '%s%s%s'", where, where[0] ? "." : "",
		    leaf(schema[i].path));
	}
}

/* ------------------------------------------------ pass 2: value access */

/*
 * The member of grp named by the last component of pattern, if it is there
 * and passed pass 1's type check; NULL otherwise (grp may be NULL).
 */
static const config_setting_t *member(const config_setting_t *grp, const char *pattern,
				      const struct row **rowp)
{
	const struct row *r = row_find(pattern);
	*rowp = r;
	if (!grp || !r || !config_setting_is_group(grp))
		return NULL;
	const config_setting_t *s = config_setting_get_member(grp, leaf(pattern));
	return (s && type_ok(r, s)) ? s : NULL;
}

static bool in_range(const struct row *r, long long v)
{
	return v >= r->min && v <= r->max;
}

static long long get_int(const config_setting_t *grp, const char *pattern)
{
	const struct row *r;
	const config_setting_t *s = member(grp, pattern, &r);
	if (s && in_range(r, config_setting_get_int64(s)))
		return config_setting_get_int64(s);
	return (r && r->def) ? strtoll(r->def, NULL, 10) : 0;
}

static const char *get_str(const config_setting_t *grp, const char *pattern)
{
	const struct row *r;
	const config_setting_t *s = member(grp, pattern, &r);
	if (s)
		return config_setting_get_string(s);
	return r ? r->def : NULL;
}

/* The member named by pattern (type-checked), or NULL. */
static const config_setting_t *find(const config_setting_t *grp, const char *pattern)
{
	const struct row *r;
	return member(grp, pattern, &r);
}

/* Integer array (or its default) into a bit set over 0..255. */
static void get_bits(const config_setting_t *grp, const char *pattern, uint8_t set[32])
{
	char epat[128];
	snprintf(epat, sizeof epat, "%s.[]", pattern);
	const struct row *er = row_find(epat), *r;
	const config_setting_t *s = member(grp, pattern, &r);
	memset(set, 0, 32);
	if (s) {
		for (int i = 0; i < config_setting_length(s); i++) {
			const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
			if (!type_ok(er, e))
				continue;
			long long v = config_setting_get_int64(e);
			if (in_range(er, v) && v >= 0 && v <= 255)
				policy_bit_set(set, (uint8_t)v);
		}
		return;
	}
	for (const char *p = r->def; p && *p;) {
		char *end;
		long v = strtol(p, &end, 10);
		if (end == p)
			break;
		policy_bit_set(set, (uint8_t)v);
		p = end;
	}
}

/*
 * String array (or its default) as a NULL-terminated strdup'ed vector; *n
 * gets the count.  Returns NULL with *n = 0 when absent without a default.
 */
static char **get_strv(struct loader *L, const config_setting_t *grp, const char *pattern,
		       size_t *n)
{
	const struct row *r;
	const config_setting_t *s = member(grp, pattern, &r);
	char **v;
	size_t k = 0;
	*n = 0;
	if (s) {
		int len = config_setting_length(s);
		if (!(v = zalloc(L, (size_t)len + 1, sizeof *v)))
			return NULL;
		for (int i = 0; i < len; i++) {
			const char *e = config_setting_get_string_elem(s, i);
			if (e && (v[k] = dup_str(L, e)))
				k++;
		}
	} else if (r && r->def) {
		char *tmp = dup_str(L, r->def), *save = NULL;
		if (!tmp || !(v = zalloc(L, strlen(r->def) / 2 + 2, sizeof *v))) {
			free(tmp);
			return NULL;
		}
		for (char *t = strtok_r(tmp, " ", &save); t; t = strtok_r(NULL, " ", &save))
			if ((v[k] = dup_str(L, t)))
				k++;
		free(tmp);
	} else {
		return NULL;
	}
	*n = k;
	return v;
}

static void strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

/* ------------------------------------------------- pass 2+3: sections */

static void fill_globals(struct loader *L, const config_setting_t *root)
{
	struct cfg *c = L->c;
	const config_setting_t *srv = find(root, "server");
	c->listen = get_strv(L, srv, "server.listen", &c->nlisten);
	c->port = (uint16_t)get_int(srv, "server.port");
	c->workers = (unsigned)get_int(srv, "server.workers");
	c->tcp_idle_timeout = (unsigned)get_int(srv, "server.tcp-idle-timeout");
	c->tcp_max_connections = (unsigned)get_int(srv, "server.tcp-max-connections");
	c->tcp_per_network = (unsigned)get_int(srv, "server.tcp-connections-per-network");
	c->max_message_size = (unsigned)get_int(srv, "server.max-message-size");
	c->queue_max = (unsigned)get_int(srv, "server.queue-max");
	c->commit_batch_max = (unsigned)get_int(srv, "server.commit-batch-max");
	c->udp_rcvbuf = (unsigned)get_int(srv, "server.udp-receive-buffer");
	c->upd_per_source = (unsigned)get_int(srv, "server.updates-per-source");
	c->upd_per_signer = (unsigned)get_int(srv, "server.updates-per-signer");

	/* the default store path stays relative to the cwd (config.h); a
	 * configured one is relative to the config file */
	const config_setting_t *st = find(root, "store");
	const struct row *r;
	if (member(st, "store.path", &r))
		c->store_path = resolve(L, get_str(st, "store.path"));
	else
		c->store_path = dup_str(L, r->def);

	c->retention_days = (unsigned)get_int(st, "store.retention-days");

	const config_setting_t *lg = find(root, "log");
	c->log_syslog = strcmp(get_str(lg, "log.target"), "syslog") == 0;
	c->log_level = log_level_from_str(get_str(lg, "log.level"));
	c->log_facility = log_facility_from_str(get_str(lg, "log.facility"));
	if (c->log_level < 0)
		c->log_level = LOG_INFO;
	if (c->log_facility < 0)
		c->log_facility = LOG_DAEMON;

	const config_setting_t *sg = find(root, "sig0");
	get_bits(sg, "sig0.algorithms", c->limits.alg_allowed);
	c->limits.rsa_min_bits = (unsigned)get_int(sg, "sig0.rsa-min-bits");
	c->limits.rsa_max_bits = (unsigned)get_int(sg, "sig0.rsa-max-bits");
	if (c->limits.rsa_min_bits > c->limits.rsa_max_bits) {
		const config_setting_t *mx = find(sg, "sig0.rsa-max-bits");
		say(L, mx ? mx : sg, "'sig0.rsa-min-bits' (%u) is above 'sig0.rsa-max-bits' (%u)",
		    c->limits.rsa_min_bits, c->limits.rsa_max_bits);
	}
	c->sig_max_age = (unsigned)get_int(sg, "sig0.max-age");
	c->sig_clock_skew = (unsigned)get_int(sg, "sig0.clock-skew");
	c->sig_max_validity = (unsigned)get_int(sg, "sig0.max-validity");
	c->verify_budget = (unsigned)get_int(sg, "sig0.verify-budget");

	const config_setting_t *ob = find(root, "outbox");
	c->retry_min = (unsigned)get_int(ob, "outbox.retry-min");
	c->retry_max = (unsigned)get_int(ob, "outbox.retry-max");
	if (c->retry_min > c->retry_max)
		say(L, ob, "'outbox.retry-min' (%u) is above 'outbox.retry-max' (%u)", c->retry_min,
		    c->retry_max);

	const config_setting_t *ede = find(root, "ede");
	c->ede.key_unknown = (uint16_t)get_int(ede, "ede.key-unknown");
	c->ede.key_not_trusted = (uint16_t)get_int(ede, "ede.key-not-trusted");
	c->ede.key_validation_failed = (uint16_t)get_int(ede, "ede.key-validation-failed");
	c->ede.manual_bootstrap = (uint16_t)get_int(ede, "ede.manual-bootstrap-required");

	const config_setting_t *ks = find(root, "keystate");
	c->ks_option = (uint16_t)get_int(ks, "keystate.option-code");
	const struct row *kr;
	const config_setting_t *ku = member(ks, "keystate.unsigned-inquiries", &kr);
	c->ks_unsigned = ku != NULL && config_setting_get_bool(ku);
	c->ks_per_source = (unsigned)get_int(ks, "keystate.inquiries-per-source");

	const config_setting_t *bs = find(root, "bootstrap");
	c->boot_per_child = (unsigned)get_int(bs, "bootstrap.uploads-per-child");
	c->boot_per_source = (unsigned)get_int(bs, "bootstrap.uploads-per-source");
	c->boot.max_pending_total = (unsigned)get_int(bs, "bootstrap.max-pending-total");
	c->boot.retry_interval = (unsigned)get_int(bs, "bootstrap.retry-interval");
	c->boot.retry_max_interval = (unsigned)get_int(bs, "bootstrap.retry-max-interval");
	c->boot.attempts = (unsigned)get_int(bs, "bootstrap.attempts");
	c->boot.at_ns_all = strcmp(get_str(bs, "bootstrap.at-ns-require"), "all") == 0;
	c->boot.rounds = (unsigned)get_int(bs, "bootstrap.unsigned-rounds");
	c->boot.round_interval = (unsigned)get_int(bs, "bootstrap.unsigned-interval");
	c->boot.vantage = get_strv(L, bs, "bootstrap.unsigned-vantage", &c->boot.nvantage);
	c->boot.resolvers = get_strv(L, bs, "bootstrap.unsigned-resolvers", &c->boot.nresolvers);
	if (c->boot.nvantage + c->boot.nresolvers > 16)
		say(L, bs,
		    "'bootstrap.unsigned-vantage' and 'bootstrap.unsigned-resolvers' "
		    "have more than 16 vantage points together");
	c->boot.ns_port = (uint16_t)get_int(bs, "bootstrap.nameserver-port");
	c->boot.query_timeout = (unsigned)get_int(bs, "bootstrap.query-timeout");
	if (c->boot.retry_interval > c->boot.retry_max_interval)
		say(L, bs,
		    "'bootstrap.retry-interval' (%u) is above 'bootstrap.retry-max-interval' (%u)",
		    c->boot.retry_interval, c->boot.retry_max_interval);

	const config_setting_t *as = find(root, "api");
	const char *v;
	c->api.listen = dup_str(L, get_str(as, "api.listen"));
	c->api.port = (uint16_t)get_int(as, "api.port");
	c->api.max_body = (unsigned)get_int(as, "api.max-body");
	if ((v = get_str(as, "api.tokens-file")) != NULL)
		c->api.tokens_file = resolve(L, v);
	if ((v = get_str(as, "api.tls-certificate")) != NULL)
		c->api.tls_cert = resolve(L, v);
	if ((v = get_str(as, "api.tls-key")) != NULL)
		c->api.tls_key = resolve(L, v);
	c->api.enabled = c->api.tokens_file != NULL;
	if ((c->api.tls_cert == NULL) != (c->api.tls_key == NULL))
		say(L, as, "'api.tls-certificate' and 'api.tls-key' go together");
	if (as != NULL && !c->api.enabled)
		say(L, as, "'api' needs 'api.tokens-file' (every request needs a token)");

	const config_setting_t *rs = find(root, "resolver");
	if ((v = get_str(rs, "resolver.trust-anchor-file")) != NULL)
		c->resolver.ta_file = resolve(L, v);
	if ((v = get_str(rs, "resolver.root-hints")) != NULL)
		c->resolver.root_hints = resolve(L, v);
	if ((v = get_str(rs, "resolver.config-file")) != NULL)
		c->resolver.config_file = resolve(L, v);
	/* a config file brings its own anchors: the default anchor file is
	 * then left out; one given explicitly is loaded as well */
	if (c->resolver.config_file != NULL &&
	    (rs == NULL || find(rs, "resolver.trust-anchor-file") == NULL)) {
		free(c->resolver.ta_file);
		c->resolver.ta_file = NULL;
	}
	c->resolver.forward = get_strv(L, rs, "resolver.forward", &c->resolver.nforward);
	c->resolver.timeout = (unsigned)get_int(rs, "resolver.timeout");

	const config_setting_t *rc = find(root, "receiver");
	const struct row *rrow;
	const config_setting_t *rn = member(rc, "receiver.name", &rrow);
	c->receiver.enabled = rn != NULL && strcmp(get_str(rc, "receiver.sign"), "off") != 0;
	if (rn && dname_from_str(config_setting_get_string(rn), c->receiver.name) < 0)
		c->receiver.enabled = false; /* reported by check_dname */
	c->receiver.key_dir = resolve(L, get_str(rc, "receiver.key-directory"));
	c->receiver.alg = (uint8_t)get_int(rc, "receiver.algorithm");
	c->receiver.with_request = strcmp(get_str(rc, "receiver.sign"), "rfc2931") == 0;
	c->receiver.sign_budget = (unsigned)get_int(rc, "receiver.sign-budget");
	c->receiver.roll_publish = (unsigned)get_int(rc, "receiver.roll-publish");
	c->receiver.roll_retire = (unsigned)get_int(rc, "receiver.roll-retire");
	c->receiver.addresses = get_strv(L, rc, "receiver.addresses", &c->receiver.naddresses);
	c->receiver.publish_ttl = (uint32_t)get_int(rc, "receiver.publish-ttl");
	c->receiver.dsync_scheme = (uint8_t)get_int(rc, "receiver.dsync-scheme");
	c->receiver.svcb_key = (uint16_t)get_int(rc, "receiver.svcb-bootstrap-key");
}

/* A key string with no white space is a file name, else a KEY RR in text. */
static bool is_path(const char *s)
{
	return strpbrk(s, " \t\r\n") == NULL;
}

static void fill_key(struct loader *L, const config_setting_t *ks, struct cfg_child *ch,
		     const char *childname)
{
	const char *text = config_setting_get_string(ks);
	struct cfg_key *k = &ch->keys[ch->nkeys];
	char *path = NULL, why[256] = "", at[200];
	const char *arg = text;
	where_of(L, ks, at, sizeof at);

	if (is_path(text)) {
		if (!(path = resolve(L, text)))
			return;
		if (access(path, R_OK) != 0) {
			say(L, ks, "key for %s: cannot read key file '%s': %s", childname, path,
			    strerror(errno));
			free(path);
			return;
		}
		arg = path;
		int n = snprintf(k->source, sizeof k->source, "%s (%s)", at, path);
		if (n < 0 || (size_t)n >= sizeof k->source)
			k->source[sizeof k->source - 1] = '\0';
	} else {
		snprintf(k->source, sizeof k->source, "%s", at);
	}

	size_t rdlen = 0;
	int rc =
	    sig0_key_from_text(arg, k->owner, k->rdata, sizeof k->rdata, &rdlen, why, sizeof why);
	free(path);
	if (rc != DS_OK) {
		say(L, ks, "key for %s: %s", childname, why[0] ? why : ds_strerror(rc));
		return;
	}
	if (!dname_equal(k->owner, ch->name)) {
		char ob[DNAME_STR_MAX];
		say(L, ks, "key for %s: owner %s does not match the child name", childname,
		    dname_str(k->owner, ob, DNAME_STR_MAX));
		return;
	}
	struct sig0_pubkey *pk = NULL;
	why[0] = '\0';
	rc = sig0_pubkey_new(k->owner, k->rdata, rdlen, &L->c->limits, &pk, why, sizeof why);
	if (rc != DS_OK) {
		if (rc == DS_ENOMEM)
			L->oom = true;
		say(L, ks, "key for %s: %s", childname, why[0] ? why : ds_strerror(rc));
		return;
	}
	k->rdlen = (uint16_t)rdlen;
	k->tag = sig0_pubkey_tag(pk);
	k->alg = sig0_pubkey_alg(pk);
	sig0_pubkey_free(pk);
	for (size_t i = 0; i < ch->nkeys; i++) {
		const struct cfg_key *o = &ch->keys[i];
		if (o->rdlen == k->rdlen && memcmp(o->rdata, k->rdata, k->rdlen) == 0) {
			say(L, ks, "key for %s: duplicate of the key at %s", childname, o->source);
			return;
		}
	}
	ch->nkeys++;
}

static void fill_child(struct loader *L, const config_setting_t *cs, struct cfg_child *ch,
		       const uint8_t *zone)
{
	const char *name = get_str(cs, "zones.[].children.[].name");
	char zb[DNAME_STR_MAX], cb[DNAME_STR_MAX];
	/* an unset or bad name stays root: no valid child is the root */
	if (!name || !name[0] || dname_from_str(name, ch->name) <= 0) {
		memset(ch->name, 0, sizeof ch->name);
		return;
	}
	dname_str(ch->name, cb, DNAME_STR_MAX);
	if (zone && !dname_is_strict_sub(ch->name, zone)) {
		say(L, find(cs, "zones.[].children.[].name"), "child %s is not below zone %s", cb,
		    dname_str(zone, zb, DNAME_STR_MAX));
		memset(ch->name, 0, sizeof ch->name);
		return;
	}
	const struct row *r;
	const config_setting_t *keys = member(cs, "zones.[].children.[].keys", &r);
	if (!keys)
		return;
	int n = config_setting_length(keys);
	if (n > r->max)
		return;
	if (!(ch->keys = zalloc(L, (size_t)n, sizeof *ch->keys)))
		return;
	for (int i = 0; i < n; i++) {
		const config_setting_t *ks = config_setting_get_elem(keys, (unsigned)i);
		if (config_setting_type(ks) == CONFIG_TYPE_STRING &&
		    config_setting_get_string(ks)[0])
			fill_key(L, ks, ch, cb);
	}
}

struct child_ref {
	const uint8_t *name;
	const config_setting_t *s;
	size_t idx;
};

static int child_ref_cmp(const void *a, const void *b)
{
	const struct child_ref *x = a, *y = b;
	int c = dname_compare(x->name, y->name);
	if (c)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/*
 * No child at or below another child of the same zone.  In canonical order
 * a name's subtree follows it directly, so one pass against the last
 * top-level name finds every duplicate and every nested child.
 */
static void check_children(struct loader *L, const config_setting_t *list, struct cfg_zone *z)
{
	struct child_ref *v = zalloc(L, z->nchildren, sizeof *v);
	size_t n = 0;
	if (!v)
		return;
	for (size_t i = 0; i < z->nchildren; i++)
		if (z->children[i].name[0] != 0)
			v[n++] = (struct child_ref){z->children[i].name,
						    config_setting_get_elem(list, (unsigned)i), i};
	qsort(v, n, sizeof *v, child_ref_cmp);
	const struct child_ref *top = NULL;
	for (size_t i = 0; i < n; i++) {
		if (top && dname_is_sub(v[i].name, top->name)) {
			char a[DNAME_STR_MAX], b[DNAME_STR_MAX], at[200];
			where_of(L, top->s, at, sizeof at);
			if (dname_equal(v[i].name, top->name))
				say(L, v[i].s, "duplicate child %s (first at %s)",
				    dname_str(v[i].name, a, DNAME_STR_MAX), at);
			else
				say(L, v[i].s, "child %s is below child %s (at %s)",
				    dname_str(v[i].name, a, DNAME_STR_MAX),
				    dname_str(top->name, b, DNAME_STR_MAX), at);
			continue;
		}
		top = &v[i];
	}
	free(v);
}

static void fill_backend(struct loader *L, const config_setting_t *bs, struct cfg_backend *b)
{
	const char *type = get_str(bs, "zones.[].backends.[].type");
	const char *name = get_str(bs, "zones.[].backends.[].name");
	const char *path = get_str(bs, "zones.[].backends.[].path");
	const char *tmpl = get_str(bs, "zones.[].backends.[].template");
	char at[200];
	size_t n;

	where_of(L, bs, at, sizeof at);
	b->where = dup_str(L, at);
	b->type = dup_str(L, type ? type : "");
	b->name = dup_str(L, name ? name : type ? type : "");
	b->path = path ? resolve(L, path) : NULL;
	b->template_path = tmpl ? resolve(L, tmpl) : NULL;
	b->reload = get_strv(L, bs, "zones.[].backends.[].reload", &n);
	b->reload_timeout = (unsigned)get_int(bs, "zones.[].backends.[].reload-timeout");
}

/* Backend names unique per zone; then each backend checks its own settings. */
static void check_backends(struct loader *L, const config_setting_t *list, struct cfg_zone *z)
{
	for (size_t i = 0; i < z->nbackends; i++) {
		struct cfg_backend *b = &z->backends[i];
		const config_setting_t *bs = config_setting_get_elem(list, (unsigned)i);
		bool dup = false;
		if (!b->name || !b->type)
			continue;
		for (size_t j = 0; j < i && !dup; j++) {
			if (z->backends[j].name && strcmp(z->backends[j].name, b->name) == 0) {
				say(L, bs, "duplicate backend name '%s' (first at %s)", b->name,
				    z->backends[j].where);
				dup = true;
			}
		}
		const struct backend_ops *ops = backend_find(b->type);
		if (dup || !ops || !ops->init)
			continue;
		void *state = NULL;
		char err[256] = "";
		int rc = ops->init(b, z, &state, err, sizeof err);
		if (rc != DS_OK) {
			/* backends prefix their text with b->where, which say() prints */
			const char *msg = err[0] ? err : ds_strerror(rc);
			size_t wl = b->where ? strlen(b->where) : 0;
			if (wl && strncmp(msg, b->where, wl) == 0 && msg[wl] == ':')
				msg += wl + 1 + (msg[wl + 1] == ' ');
			if (rc == DS_ENOMEM)
				L->oom = true;
			say(L, bs, "backend '%s': %s", b->name, msg);
		} else if (ops->free)
			ops->free(state);
	}
}

static void fill_zone(struct loader *L, const config_setting_t *zs, struct cfg_zone *z)
{
	const char *name = get_str(zs, "zones.[].name");
	bool name_ok = name && name[0] && dname_from_str(name, z->name) > 0;
	if (!name_ok)
		memset(z->name, 0, sizeof z->name);

	struct zone_policy *p = &z->pol;
	p->deleg_ttl = (uint32_t)get_int(zs, "zones.[].delegation-ttl");
	p->min_ns = (unsigned)get_int(zs, "zones.[].min-ns");
	p->max_ns = (unsigned)get_int(zs, "zones.[].max-ns");
	p->max_ds = (unsigned)get_int(zs, "zones.[].max-ds");
	p->max_glue = (unsigned)get_int(zs, "zones.[].max-glue");
	p->max_update_rrs = (unsigned)get_int(zs, "zones.[].max-update-records");
	get_bits(zs, "zones.[].ds-digest-types", p->ds_digest_ok);
	get_bits(zs, "zones.[].ds-algorithms", p->ds_alg_ok);
	/* child SIG(0) keys: by default every algorithm the receiver verifies */
	if (find(zs, "zones.[].key-algorithms") != NULL)
		get_bits(zs, "zones.[].key-algorithms", z->key_alg_ok);
	else
		for (unsigned a = 1; a < 256; a++)
			if (sig0_alg_allowed(&L->c->limits, (uint8_t)a))
				policy_bit_set(z->key_alg_ok, (uint8_t)a);
	size_t nm = 0;
	char **methods = get_strv(L, zs, "zones.[].bootstrap-methods", &nm);
	for (size_t i = 0; i < nm; i++) {
		unsigned m = cfg_boot_method(methods[i]);
		if (m == 0)
			continue; /* reported by check_boot_method */
		if (z->boot_methods & m) {
			say(L, find(zs, "zones.[].bootstrap-methods"),
			    "'bootstrap-methods': \"%s\" is listed twice", methods[i]);
			continue;
		}
		z->boot_methods |= m;
		z->boot_order[z->nboot_order++] = m;
	}
	strv_free(methods);
	z->boot_max_pending = (unsigned)get_int(zs, "zones.[].bootstrap-max-pending");
	const struct row *kr;
	const config_setting_t *ko = member(zs, "zones.[].key-rollover", &kr);
	z->key_rollover = ko == NULL || config_setting_get_bool(ko);
	if (p->min_ns > p->max_ns)
		say(L, zs, "'min-ns' (%u) is above 'max-ns' (%u)", p->min_ns, p->max_ns);
	if (p->max_ns + p->max_ds + p->max_glue > DELEG_MAX)
		say(L, zs, "max-ns + max-ds + max-glue (%u) is above %d records per child",
		    p->max_ns + p->max_ds + p->max_glue, DELEG_MAX);

	const struct row *r;
	const config_setting_t *cl = member(zs, "zones.[].children", &r);
	if (cl && config_setting_length(cl) <= r->max) {
		size_t n = (size_t)config_setting_length(cl);
		if (!(z->children = zalloc(L, n, sizeof *z->children)))
			return;
		z->nchildren = n;
		for (size_t i = 0; i < n; i++) {
			const config_setting_t *cs = config_setting_get_elem(cl, (unsigned)i);
			if (config_setting_is_group(cs))
				fill_child(L, cs, &z->children[i], name_ok ? z->name : NULL);
		}
		check_children(L, cl, z);
	}

	const config_setting_t *bl = member(zs, "zones.[].backends", &r);
	if (bl && config_setting_length(bl) <= r->max) {
		size_t n = (size_t)config_setting_length(bl);
		if (!(z->backends = zalloc(L, n, sizeof *z->backends)))
			return;
		z->nbackends = n;
		for (size_t i = 0; i < n; i++) {
			const config_setting_t *bs = config_setting_get_elem(bl, (unsigned)i);
			if (config_setting_is_group(bs))
				fill_backend(L, bs, &z->backends[i]);
		}
		check_backends(L, bl, z);
	}
}

static void fill_zones(struct loader *L, const config_setting_t *root)
{
	const struct row *r;
	const config_setting_t *zl = member(root, "zones", &r);
	if (!zl || config_setting_length(zl) > r->max)
		return;
	size_t n = (size_t)config_setting_length(zl);
	struct cfg *c = L->c;
	if (!(c->zones = zalloc(L, n, sizeof *c->zones)))
		return;
	c->nzones = n;
	bool *ok = zalloc(L, n, sizeof *ok);
	if (!ok)
		return;
	for (size_t i = 0; i < n && !L->oom; i++) {
		const config_setting_t *zs = config_setting_get_elem(zl, (unsigned)i);
		if (!config_setting_is_group(zs))
			continue;
		fill_zone(L, zs, &c->zones[i]);
		const char *name = get_str(zs, "zones.[].name");
		uint8_t tmp[DNAME_MAX];
		ok[i] = name && name[0] && dname_from_str(name, tmp) > 0;
		for (size_t j = 0; j < i && ok[i]; j++) {
			if (ok[j] && dname_equal(c->zones[j].name, c->zones[i].name)) {
				char nb[DNAME_STR_MAX], at[200];
				where_of(L, config_setting_get_elem(zl, (unsigned)j), at,
					 sizeof at);
				say(L, zs, "duplicate zone %s (first at %s)",
				    dname_str(c->zones[i].name, nb, DNAME_STR_MAX), at);
				break;
			}
		}
	}
	free(ok);
}

/*
 * The automatic bootstrap methods need a validating resolver with a trust
 * anchor: its files must be readable now, not at the first upload.
 */
static void check_resolver(struct loader *L, const config_setting_t *root)
{
	const struct cfg *c = L->c;
	bool automatic = false;
	for (size_t i = 0; i < c->nzones; i++)
		automatic |= (c->zones[i].boot_methods & BOOT_AUTOMATIC) != 0;
	if (!automatic)
		return;
	const config_setting_t *rs = find(root, "resolver");
	const char *files[] = {c->resolver.config_file, c->resolver.root_hints,
			       c->resolver.ta_file};
	const char *what[] = {"resolver.config-file", "resolver.root-hints",
			      "resolver.trust-anchor-file"};
	for (size_t i = 0; i < 3; i++) {
		if (files[i] == NULL)
			continue;
		const config_setting_t *at = rs ? find(rs, what[i]) : NULL;
		if (access(files[i], R_OK) != 0)
			say(L,
			    at	 ? at
			    : rs ? rs
				 : root,
			    "'%s': cannot read \"%s\" (%s); at-apex, at-ns and unsigned need "
			    "a validating resolver with a trust anchor",
			    what[i], files[i], strerror(errno));
	}
}

/* -------------------------------------------------------------- public */

unsigned cfg_boot_method(const char *name)
{
	static const char *const names[] = {"at-apex", "at-ns", "unsigned", "manual"};
	for (unsigned i = 0; i < 4; i++)
		if (strcmp(name, names[i]) == 0)
			return 1u << i;
	return 0;
}

const char *cfg_boot_method_str(unsigned m)
{
	switch (m) {
	case BOOT_AT_APEX:
		return "at-apex";
	case BOOT_AT_NS:
		return "at-ns";
	case BOOT_UNSIGNED:
		return "unsigned";
	case BOOT_MANUAL:
		return "manual";
	}
	return "?";
}

int cfg_load(const char *path, FILE *errf, struct cfg **out)
{
	struct loader L = {.file = path, .errf = errf};
	config_t cf;
	int rc = DS_OK;

	*out = NULL;
	FILE *f = fopen(path, "r");
	if (!f) {
		if (errf)
			fprintf(errf, "%s: %s\n", path, strerror(errno));
		return DS_ECONFIG;
	}
	fclose(f);

	const char *slash = strrchr(path, '/');
	if (slash) {
		size_t n = slash == path ? 1 : (size_t)(slash - path);
		if (!(L.dir = strndup(path, n)))
			return DS_ENOMEM;
	}

	config_init(&cf);
	if (L.dir)
		config_set_include_dir(&cf, L.dir);
	if (config_read_file(&cf, path) != CONFIG_TRUE) {
		if (errf) {
			const char *ef = config_error_file(&cf) ? config_error_file(&cf) : path;
			if (config_error_type(&cf) == CONFIG_ERR_FILE_IO)
				fprintf(errf, "%s: %s\n", ef, config_error_text(&cf));
			else
				fprintf(errf, "%s:%d: %s\n", ef, config_error_line(&cf),
					config_error_text(&cf));
		}
		config_destroy(&cf);
		free(L.dir);
		return DS_ECONFIG;
	}

	if (!(L.c = calloc(1, sizeof *L.c))) {
		config_destroy(&cf);
		free(L.dir);
		return DS_ENOMEM;
	}
	L.c->file = dup_str(&L, path);

	const config_setting_t *root = config_root_setting(&cf);
	walk(&L, root, "", "");
	fill_globals(&L, root);
	if (!L.oom)
		fill_zones(&L, root);
	if (!L.oom)
		check_resolver(&L, root);

	if (L.oom)
		rc = DS_ENOMEM;
	else if (L.nerr)
		rc = DS_ECONFIG;
	if (rc != DS_OK)
		cfg_free(L.c);
	else
		*out = L.c;
	config_destroy(&cf);
	free(L.dir);
	return rc;
}

static void backend_clear(struct cfg_backend *b)
{
	free(b->name);
	free(b->type);
	free(b->path);
	free(b->template_path);
	strv_free(b->reload);
	free(b->where);
}

void cfg_free(struct cfg *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nzones; i++) {
		struct cfg_zone *z = &c->zones[i];
		for (size_t j = 0; j < z->nchildren; j++)
			free(z->children[j].keys);
		free(z->children);
		for (size_t j = 0; j < z->nbackends; j++)
			backend_clear(&z->backends[j]);
		free(z->backends);
	}
	free(c->zones);
	strv_free(c->listen);
	free(c->store_path);
	free(c->receiver.key_dir);
	strv_free(c->receiver.addresses);
	strv_free(c->boot.vantage);
	strv_free(c->boot.resolvers);
	free(c->api.listen);
	free(c->api.tokens_file);
	free(c->api.tls_cert);
	free(c->api.tls_key);
	free(c->resolver.ta_file);
	free(c->resolver.root_hints);
	free(c->resolver.config_file);
	strv_free(c->resolver.forward);
	free(c->file);
	free(c);
}

const struct cfg_zone *cfg_zone_find(const struct cfg *c, const uint8_t *zone)
{
	for (size_t i = 0; i < c->nzones; i++)
		if (dname_equal(c->zones[i].name, zone))
			return &c->zones[i];
	return NULL;
}

const struct cfg_key *cfg_key_find(const struct cfg *c, const uint8_t *child, const uint8_t *rdata,
				   size_t rdlen)
{
	for (size_t z = 0; z < c->nzones; z++)
		for (size_t i = 0; i < c->zones[z].nchildren; i++) {
			const struct cfg_child *ch = &c->zones[z].children[i];
			if (!dname_equal(ch->name, child))
				continue;
			for (size_t k = 0; k < ch->nkeys; k++)
				if (ch->keys[k].rdlen == rdlen &&
				    memcmp(ch->keys[k].rdata, rdata, rdlen) == 0)
					return &ch->keys[k];
		}
	return NULL;
}

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
#include <stddef.h>
#include <errno.h>
#include <grp.h>
#include <libconfig.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/deleg.h"
#include "common/dname.h"
#include "common/dnsq.h"
#include "common/err.h"
#include "common/file.h"
#include "common/log.h"
#include "common/rrtext.h"
#include "store/store.h"

struct loader {
	const char *file; /* the config path as given */
	char *dir;	  /* its directory; NULL when it has none (cwd) */
	FILE *errf;
	unsigned nerr;
	bool oom;
	struct cfg *c;
	unsigned includes; /* @include lines seen (includes_ok) */
};

/* ---------------------------------------------------------------- errors */

static void say(struct loader *L, const config_setting_t *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* s with control characters as \xNN: one problem, one line. */
static void put_line(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\x%02X", *p);
		else
			fputc(*p, f);
	}
}

/* One error line, "file:line: message"; settings without a line (the root)
 * get "file: message".  Control characters of the message (a string value
 * may hold a newline) are written as \xNN: one problem, one line. */
static void say(struct loader *L, const config_setting_t *s, const char *fmt, ...)
{
	char msg[2048];
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
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	put_line(L->errf, msg);
	fputc('\n', L->errf);
}

#define INCLUDE_DEPTH 10 /* libconfig's own limit */
#define INCLUDE_MAX 64	 /* @include lines in all the files together */
#define INCLUDE_READ_MAX (1 << 20)

/* An @include's file that is no regular file (a folder, a device): say so. */
static bool include_ok(struct loader *L, const char *file, int line, const char *name, int depth);

/*
 * libconfig 1.5 ends the process (its scanner's fatal error, "input in
 * flex scanner failed") when an @include names a folder, and reads a
 * device such as /dev/zero without end.  So before libconfig reads the
 * file, each @include in it (a line that starts with blanks and
 * "@include", the name up to the next '"', as libconfig's scanner takes
 * it: the folder of the file, '/' and the name), and in the files those
 * include, must be a regular file or not exist (libconfig then says it
 * cannot open it), and there may be at most INCLUDE_MAX of them in all (a
 * file that includes itself twice would be read 2^10 times).  False, with
 * the problem said, when not.
 */
/*
 * An @include's file name between b and e as libconfig would take it
 * literally: not empty, no backslash (libconfig would unescape it, and an
 * escaped NUL makes it another name than the one checked here: the
 * configuration's own folder, which libconfig's scanner cannot read and
 * exits on), no control character.
 */
static bool plain_name(const char *b, const char *e)
{
	if (b == e)
		return false;
	for (; b < e; b++)
		if ((unsigned char)*b < 0x20 || *b == '\\' || *b == 0x7f)
			return false;
	return true;
}

static bool includes_ok(struct loader *L, const char *file, int depth)
{
	FILE *f = fopen(file, "r");
	struct stat st;
	size_t cap = INCLUDE_READ_MAX; /* a regular file: its size, if smaller */
	if (f && fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size < (off_t)cap)
		cap = (size_t)st.st_size;
	char *t = f ? malloc(cap + 1) : NULL;
	size_t n = t ? fread(t, 1, cap, f) : 0;
	bool ok = true;
	int line = 1;
	if (f)
		fclose(f);
	if (t == NULL)
		return true; /* libconfig says what is wrong with the file */
	t[n] = '\0';
	for (size_t i = 0; i < n && ok; i++) {
		if (i == 0 || t[i - 1] == '\n') {
			size_t k = i + strspn(t + i, " \t");
			if (strncmp(t + k, "@include", 8) == 0 && strchr(" \t", t[k + 8]) &&
			    t[k + 8] != '\0') {
				k += 8 + strspn(t + k + 8, " \t");
				char *end = t[k] == '"' ? memchr(t + k + 1, '"', n - k - 1) : NULL;
				if (end != NULL && !plain_name(t + k + 1, end)) {
					ok = false;
					L->nerr++;
					if (L->errf)
						fprintf(
						    L->errf,
						    "%s:%d: @include: the file name must be plain "
						    "text (no escapes, no control characters)\n",
						    file, line);
				} else if (end != NULL) {
					*end = '\0';
					ok = include_ok(L, file, line, t + k + 1, depth);
					*end = '"';
				}
			}
		}
		line += t[i] == '\n';
	}
	free(t);
	return ok;
}

static bool include_ok(struct loader *L, const char *file, int line, const char *name, int depth)
{
	char full[PATH_MAX];
	struct stat sb;
	if (L->dir)
		snprintf(full, sizeof(full), "%s/%s", L->dir, name);
	else
		snprintf(full, sizeof(full), "%s", name);
	bool many = ++L->includes > INCLUDE_MAX;
	if (!many && stat(full, &sb) != 0)
		return true;
	if (!many && S_ISREG(sb.st_mode))
		return depth >= INCLUDE_DEPTH || includes_ok(L, full, depth + 1);
	L->nerr++;
	if (L->errf) {
		fprintf(L->errf, "%s:%d: @include \"", file, line);
		put_line(L->errf, name);
		if (many)
			fprintf(L->errf, "\": more than %d @include in all\n", INCLUDE_MAX);
		else
			fprintf(L->errf, "\": %s is not a regular file\n", full);
	}
	return false;
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

/*
 * Settings whose value is one of a few words: one table checks the word
 * (pass 1) and converts it (pass 2).
 */
struct cenum {
	const char *name;
	int value;
};
enum { SIGN_OFF, SIGN_RESPONSE_ONLY, SIGN_RFC2931 };
static const struct cenum E_LOG_TARGET[] = {{"stderr", 0}, {"syslog", 1}, {NULL, 0}};
static const struct cenum E_SIGN[] = {
    {"rfc2931", SIGN_RFC2931}, {"response-only", SIGN_RESPONSE_ONLY}, {"off", SIGN_OFF}, {NULL, 0}};
static const struct cenum E_AT_NS[] = {{"all", 1}, {"any", 0}, {NULL, 0}};
/* "error" is another word for "err"; words are shown as the first of a value */
static const struct cenum E_LOG_LEVEL[] = {{"err", LOG_ERR},
					   {"error", LOG_ERR},
					   {"warning", LOG_WARNING},
					   {"notice", LOG_NOTICE},
					   {"info", LOG_INFO},
					   {"debug", LOG_DEBUG},
					   {NULL, 0}};
static const struct cenum E_LOG_FACILITY[] = {{"daemon", LOG_DAEMON},
					      {"user", LOG_USER},
					      {"local0", LOG_LOCAL0},
					      {"local1", LOG_LOCAL1},
					      {"local2", LOG_LOCAL2},
					      {"local3", LOG_LOCAL3},
					      {"local4", LOG_LOCAL4},
					      {"local5", LOG_LOCAL5},
					      {"local6", LOG_LOCAL6},
					      {"local7", LOG_LOCAL7},
					      {NULL, 0}};

/* The first word of e for value, or NULL. */
static const char *cfg_word(const struct cenum *e, int value)
{
	for (; e->name != NULL; e++)
		if (e->value == value)
			return e->name;
	return NULL;
}

/* The value of word in e, or -1. */
static int cfg_enum(const struct cenum *e, const char *word)
{
	for (; word != NULL && e->name != NULL; e++)
		if (strcmp(e->name, word) == 0)
			return e->value;
	return -1;
}

static bool check_enum(struct loader *L, const config_setting_t *s, const char *where,
		       const struct cenum *e)
{
	const char *v = config_setting_get_string(s);
	if (cfg_enum(e, v) >= 0)
		return true;
	char words[128] = "";
	size_t o = 0;
	for (const struct cenum *w = e; w->name != NULL && o < sizeof(words); w++)
		o += (size_t)snprintf(words + o, sizeof(words) - o, "%s\"%s\"", o ? ", " : "",
				      w->name);
	say(L, s, "'%s': \"%s\" is not one of %s", where, v, words);
	return false;
}

static bool check_nonempty(struct loader *L, const config_setting_t *s, const char *where)
{
	if (config_setting_get_string(s)[0] != '\0')
		return true;
	say(L, s, "'%s' must not be empty", where);
	return false;
}

/* server.user and server.group: a name the system knows (checked at -n) */
static bool check_account(struct loader *L, const config_setting_t *s, const char *where,
			  bool group)
{
	const char *v = config_setting_get_string(s);
	errno = 0;
	if (v[0] != '\0' && (group ? getgrnam(v) != NULL : getpwnam(v) != NULL))
		return true;
	say(L, s, "'%s': unknown %s \"%s\"%s%s", where, group ? "group" : "user", v,
	    errno ? ": " : "", errno ? strerror(errno) : "");
	return false;
}

static bool check_user(struct loader *L, const config_setting_t *s, const char *where)
{
	return check_account(L, s, where, false);
}

static bool check_group(struct loader *L, const config_setting_t *s, const char *where)
{
	return check_account(L, s, where, true);
}

/* store.postgresql: a libpq connection string (its syntax; not connected) */
static bool check_conninfo(struct loader *L, const config_setting_t *s, const char *where)
{
	char why[256];

	if (store_pg_check(config_setting_get_string(s), why, sizeof(why)) == DS_OK)
		return true;
	say(L, s, "'%s': %s", where, why);
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

/* A word of words, with the message the log settings have always had. */
static bool check_word(struct loader *L, const config_setting_t *s, const char *where,
		       const struct cenum *words, const char *what, const char *hint)
{
	const char *v = config_setting_get_string(s);
	if (cfg_enum(words, v) >= 0)
		return true;
	say(L, s, "'%s': unknown %s \"%s\"%s", where, what, v, hint);
	return false;
}

static bool check_log_level(struct loader *L, const config_setting_t *s, const char *where)
{
	return check_word(L, s, where, E_LOG_LEVEL, "level",
			  " (err, warning, notice, info, debug)");
}

static bool check_log_facility(struct loader *L, const config_setting_t *s, const char *where)
{
	return check_word(L, s, where, E_LOG_FACILITY, "syslog facility", "");
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

/* ---------------------------------------------------- backend types */

static const struct cfg_backend_type *const *backend_types;

void cfg_set_backend_types(const struct cfg_backend_type *const *types)
{
	backend_types = types;
}

const struct cfg_backend_type *cfg_backend_type_find(const char *name)
{
	for (size_t i = 0; name != NULL && backend_types && backend_types[i]; i++)
		if (strcmp(backend_types[i]->name, name) == 0)
			return backend_types[i];
	return NULL;
}

static bool check_backend_type(struct loader *L, const config_setting_t *s, const char *where)
{
	const char *v = config_setting_get_string(s);
	if (cfg_backend_type_find(v))
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

#define REQ 1u	   /* must be present */
#define HAND 2u	   /* kind/off say where the value is, but it is filled by hand */
#define RESTART 4u /* read once at start: a reload keeps the running value (cfg_keep_restart) */

/*
 * Where a row's value goes, in the struct of its group: struct cfg for the
 * top-level groups, struct cfg_zone for "zones.[]", struct cfg_backend for
 * "zones.[].backends.[]".  K_NONE: filled by hand (names, keys, values
 * that depend on others).
 */
enum ckind {
	K_NONE,
	K_UINT,	 /* unsigned */
	K_U8,	 /* uint8_t */
	K_U16,	 /* uint16_t */
	K_U32,	 /* uint32_t */
	K_BOOL,	 /* bool */
	K_STR,	 /* char *, copied */
	K_PATH,	 /* char *, a configured value relative to the config's folder,
		  * the default as written (relative to the working directory) */
	K_PATHR, /* char *, configured value and default relative to the config's folder */
	K_STRV,	 /* char ** (NULL-terminated), its count at off_n unless NOCOUNT */
	K_BITS,	 /* uint8_t[32], a set of integers 0..255 */
	K_ENUM,	 /* int, the value of one of the row's words */
	K_NAME,	 /* uint8_t[DNAME_MAX], a domain name (filled by hand: HAND) */
};
#define NOCOUNT ((size_t)-1)

typedef void (*show_fn)(const void *obj, const struct cfg_visitor *v);

/*
 * One row per setting.  def is the default as text (numbers in decimal,
 * arrays as space-separated elements), NULL when there is none.  min/max
 * bound an integer's value, or a list's/array's number of elements.
 * kind/off/off_n say where the value goes (fill_rows) and where cfg_visit
 * finds it; words are a K_ENUM's values (checked by check_enum unless the
 * row has a check of its own); show prints a K_NONE row that has more to
 * it than one value.  doc/dsyncd.conf.5 documents exactly these rows
 * (tests/docs/check.py compares them).
 */
struct row {
	const char *path;
	enum ctype type;
	const char *def;
	long long min, max;
	check_fn check;
	unsigned flags;
	enum ckind kind;
	size_t off, off_n;
	const struct cenum *words;
	show_fn show;
};

static void show_zones(const void *obj, const struct cfg_visitor *v);
static void show_boot_methods(const void *obj, const struct cfg_visitor *v);
static void show_children(const void *obj, const struct cfg_visitor *v);
static void show_keys(const void *obj, const struct cfg_visitor *v);
static void show_conninfo(const void *obj, const struct cfg_visitor *v);
static void show_backends(const void *obj, const struct cfg_visitor *v);

// clang-format off
static const struct row schema[] = {
	/* path                                type      default              min    max       check                flags, kind, off, off_n, words, show */
	{"server",                               CT_GROUP,  NULL,                0,     0,        NULL,                0, K_NONE, 0, 0, NULL, NULL},
	{"server.listen",                        CT_ARRAY,  "127.0.0.1 ::1",     1,     32,       NULL,                RESTART, K_STRV, offsetof(struct cfg, listen), offsetof(struct cfg, nlisten), NULL, NULL},
	{"server.listen.[]",                     CT_STR,    NULL,                0,     0,        check_addr,          0, K_NONE, 0, 0, NULL, NULL},
	{"server.port",                          CT_INT,    "5354",              1,     65535,    NULL,                RESTART, K_U16, offsetof(struct cfg, port), NOCOUNT, NULL, NULL},
	{"server.workers",                       CT_INT,    "0",                 0,     256,      NULL,                RESTART, K_UINT, offsetof(struct cfg, workers), NOCOUNT, NULL, NULL},
	{"server.tcp-idle-timeout",              CT_INT,    "10",                1,     3600,     NULL,                0, K_UINT, offsetof(struct cfg, tcp_idle_timeout), NOCOUNT, NULL, NULL},
	{"server.tcp-max-connections",           CT_INT,    "256",               1,     65535,    NULL,                0, K_UINT, offsetof(struct cfg, tcp_max_connections), NOCOUNT, NULL, NULL},
	{"server.tcp-connections-per-network",   CT_INT,    "32",                1,     65535,    NULL,                0, K_UINT, offsetof(struct cfg, tcp_per_network), NOCOUNT, NULL, NULL},
	{"server.max-message-size",              CT_INT,    "16384",             512,   65535,    NULL,                0, K_UINT, offsetof(struct cfg, max_message_size), NOCOUNT, NULL, NULL},
	{"server.queue-max",                     CT_INT,    "1024",              1,     1000000,  NULL,                0, K_UINT, offsetof(struct cfg, queue_max), NOCOUNT, NULL, NULL},
	{"server.commit-batch-max",              CT_INT,    "256",               1,     10000,    NULL,                0, K_UINT, offsetof(struct cfg, commit_batch_max), NOCOUNT, NULL, NULL},
	{"server.udp-receive-buffer",             CT_INT,    "4194304",           0,     268435456, NULL,               RESTART, K_UINT, offsetof(struct cfg, udp_rcvbuf), NOCOUNT, NULL, NULL},
	{"server.updates-per-source",            CT_INT,    "600",               1,     100000000, NULL,               0, K_UINT, offsetof(struct cfg, upd_per_source), NOCOUNT, NULL, NULL},
	{"server.updates-per-signer",            CT_INT,    "120",               1,     100000000, NULL,               0, K_UINT, offsetof(struct cfg, upd_per_signer), NOCOUNT, NULL, NULL},
	{"server.user",                          CT_STR,    NULL,                0,     0,        check_user,          RESTART, K_STR, offsetof(struct cfg, user), NOCOUNT, NULL, NULL},
	{"server.group",                         CT_STR,    NULL,                0,     0,        check_group,         RESTART, K_STR, offsetof(struct cfg, group), NOCOUNT, NULL, NULL},

	{"store",                                CT_GROUP,  NULL,                0,     0,        NULL,                0, K_NONE, 0, 0, NULL, NULL},
	{"store.path",                           CT_STR,    CFG_STORE_PATH,      0,     0,        check_nonempty,      RESTART, K_PATH, offsetof(struct cfg, store_path), NOCOUNT, NULL, NULL},
	{"store.postgresql",                     CT_STR,    NULL,                0,     0,        check_conninfo,      RESTART, K_STR, offsetof(struct cfg, store_pg), NOCOUNT, NULL, show_conninfo},
	{"store.postgresql-file",                CT_STR,    NULL,                0,     0,        check_nonempty,      RESTART, K_PATH, offsetof(struct cfg, store_pg_file), NOCOUNT, NULL, NULL},
	{"store.lease-time",                     CT_INT,    "60",                5,     3600,     NULL,                0, K_UINT, offsetof(struct cfg, lease_time), NOCOUNT, NULL, NULL},
	{"store.retention-days",                 CT_INT,    "0",                 0,     36500,    NULL,                0, K_UINT, offsetof(struct cfg, retention_days), NOCOUNT, NULL, NULL},

	{"log",                                  CT_GROUP,  NULL,                0,     0,        NULL,                0, K_NONE, 0, 0, NULL, NULL},
	{"log.target",                           CT_STR,    "stderr",            0,     0,        NULL,                0, K_ENUM, offsetof(struct cfg, log_syslog), NOCOUNT, E_LOG_TARGET, NULL},
	{"log.level",                            CT_STR,    "info",              0,     0,        check_log_level,     0, K_ENUM, offsetof(struct cfg, log_level), NOCOUNT, E_LOG_LEVEL, NULL},
	{"log.facility",                         CT_STR,    "daemon",            0,     0,        check_log_facility,  0, K_ENUM, offsetof(struct cfg, log_facility), NOCOUNT, E_LOG_FACILITY, NULL},
	{"log.refused-per-second",               CT_INT,    "100",               0,     1000000,  NULL,                0, K_UINT, offsetof(struct cfg, log_refused_per_second), NOCOUNT, NULL, NULL},

	{"sig0",                                 CT_GROUP,  NULL,                0,     0,        NULL,                0, K_NONE, 0, 0, NULL, NULL},
	{"sig0.algorithms",                      CT_ARRAY,  "8 10 13 14 15 16",  1,     32,       NULL,                0, K_BITS, offsetof(struct cfg, limits.alg_allowed), NOCOUNT, NULL, NULL},
	{"sig0.algorithms.[]",                   CT_INT,    NULL,                1,     255,      check_sig0_alg,      0, K_NONE, 0, 0, NULL, NULL},
	{"sig0.rsa-min-bits",                    CT_INT,    "2048",              1024,  16384,    NULL,                RESTART, K_UINT, offsetof(struct cfg, limits.rsa_min_bits), NOCOUNT, NULL, NULL},
	{"sig0.rsa-max-bits",                    CT_INT,    "4096",              1024,  16384,    NULL,                RESTART, K_UINT, offsetof(struct cfg, limits.rsa_max_bits), NOCOUNT, NULL, NULL},
	{"sig0.max-age",                         CT_INT,    "300",               1,     86400,    NULL,                0, K_UINT, offsetof(struct cfg, sig_max_age), NOCOUNT, NULL, NULL},
	{"sig0.clock-skew",                      CT_INT,    "120",               0,     3600,     NULL,                0, K_UINT, offsetof(struct cfg, sig_clock_skew), NOCOUNT, NULL, NULL},
	{"sig0.max-validity",                    CT_INT,    "900",               1,     86400,    NULL,                0, K_UINT, offsetof(struct cfg, sig_max_validity), NOCOUNT, NULL, NULL},
	{"sig0.verify-budget",                   CT_INT,    "5000",              0,     1000000,  NULL,                0, K_UINT, offsetof(struct cfg, verify_budget), NOCOUNT, NULL, NULL},
	{"sig0.verify-budget-low",               CT_INT,    "50",                0,     100,      NULL,                0, K_UINT, offsetof(struct cfg, verify_low), NOCOUNT, NULL, NULL},
	{"sig0.verify-share-per-network",        CT_INT,    "10",                1,     100,      NULL,                0, K_UINT, offsetof(struct cfg, verify_share), NOCOUNT, NULL, NULL},

	{"cookies",                              CT_GROUP,  NULL,                0,     0,        NULL,                0, K_NONE, 0, 0, NULL, NULL},
	{"cookies.enabled",                      CT_BOOL,   "true",              0,     0,        NULL,                0, K_BOOL, offsetof(struct cfg, cookies), NOCOUNT, NULL, NULL},
	{"cookies.secret-file",                  CT_STR,    NULL,                0,     0,        check_nonempty,      RESTART, K_PATH, offsetof(struct cfg, cookie_secret_file), NOCOUNT, NULL, NULL},

	{"outbox",                               CT_GROUP,  NULL,                0,     0,        NULL,                0, K_NONE, 0, 0, NULL, NULL},
	{"outbox.retry-min",                     CT_INT,    "1",                 1,     86400,    NULL,                0, K_UINT, offsetof(struct cfg, retry_min), NOCOUNT, NULL, NULL},
	{"outbox.retry-max",                     CT_INT,    "3600",              1,     604800,   NULL,                0, K_UINT, offsetof(struct cfg, retry_max), NOCOUNT, NULL, NULL},

	{"ede",                                  CT_GROUP,  NULL,                0,     0,        NULL,                0, K_NONE, 0, 0, NULL, NULL},
	{"ede.key-unknown",                      CT_INT,    "513",               0,     65535,    NULL,                0, K_U16, offsetof(struct cfg, ede.key_unknown), NOCOUNT, NULL, NULL},
	{"ede.key-not-trusted",                  CT_INT,    "514",               0,     65535,    NULL,                0, K_U16, offsetof(struct cfg, ede.key_not_trusted), NOCOUNT, NULL, NULL},
	{"ede.key-validation-failed",            CT_INT,    "515",               0,     65535,    NULL,                0, K_U16, offsetof(struct cfg, ede.key_validation_failed), NOCOUNT, NULL, NULL},
	{"ede.manual-bootstrap-required",        CT_INT,    "516",               0,     65535,    NULL,                0, K_U16, offsetof(struct cfg, ede.manual_bootstrap), NOCOUNT, NULL, NULL},

	{"keystate",                             CT_GROUP,  NULL,                0,     0,        NULL,                0, K_NONE, 0, 0, NULL, NULL},
	{"keystate.option-code",                 CT_INT,    "65002",             1,     65535,    NULL,                0, K_U16, offsetof(struct cfg, ks_option), NOCOUNT, NULL, NULL},
	{"keystate.unsigned-inquiries",          CT_BOOL,   "false",             0,     0,        NULL,                0, K_BOOL, offsetof(struct cfg, ks_unsigned), NOCOUNT, NULL, NULL},
	{"keystate.inquiries-per-source",       CT_INT,    "120",               1,     1000000,  NULL,                0, K_UINT, offsetof(struct cfg, ks_per_source), NOCOUNT, NULL, NULL},

	{"bootstrap",                            CT_GROUP,  NULL,                0,     0,        NULL,                0, K_NONE, 0, 0, NULL, NULL},
	{"bootstrap.uploads-per-child",          CT_INT,    "6",                 1,     100000,   NULL,                0, K_UINT, offsetof(struct cfg, boot_per_child), NOCOUNT, NULL, NULL},
	{"bootstrap.uploads-per-source",         CT_INT,    "30",                1,     1000000,  NULL,                0, K_UINT, offsetof(struct cfg, boot_per_source), NOCOUNT, NULL, NULL},
	{"bootstrap.max-pending-total",          CT_INT,    "10000",             1,     10000000, NULL,                0, K_UINT, offsetof(struct cfg, boot.max_pending_total), NOCOUNT, NULL, NULL},
	{"bootstrap.retry-interval",             CT_INT,    "60",                1,     86400,    NULL,                0, K_UINT, offsetof(struct cfg, boot.retry_interval), NOCOUNT, NULL, NULL},
	{"bootstrap.retry-max-interval",         CT_INT,    "3600",              1,     604800,   NULL,                0, K_UINT, offsetof(struct cfg, boot.retry_max_interval), NOCOUNT, NULL, NULL},
	{"bootstrap.attempts",                   CT_INT,    "8",                 1,     1000,     NULL,                0, K_UINT, offsetof(struct cfg, boot.attempts), NOCOUNT, NULL, NULL},
	{"bootstrap.at-ns-require",              CT_STR,    "all",               0,     0,        NULL,                0, K_ENUM, offsetof(struct cfg, boot.at_ns_all), NOCOUNT, E_AT_NS, NULL},
	{"bootstrap.unsigned-rounds",            CT_INT,    "3",                 1,     100,      NULL,                0, K_UINT, offsetof(struct cfg, boot.rounds), NOCOUNT, NULL, NULL},
	{"bootstrap.unsigned-interval",          CT_INT,    "129600",            1,     2592000,  NULL,                0, K_UINT, offsetof(struct cfg, boot.round_interval), NOCOUNT, NULL, NULL},
	{"bootstrap.unsigned-vantage",           CT_ARRAY,  NULL,                1,     16,       NULL,                0, K_STRV, offsetof(struct cfg, boot.vantage), offsetof(struct cfg, boot.nvantage), NULL, NULL},
	{"bootstrap.unsigned-vantage.[]",        CT_STR,    NULL,                0,     0,        check_addr,          0, K_NONE, 0, 0, NULL, NULL},
	{"bootstrap.unsigned-resolvers",         CT_ARRAY,  NULL,                1,     16,       NULL,                0, K_STRV, offsetof(struct cfg, boot.resolvers), offsetof(struct cfg, boot.nresolvers), NULL, NULL},
	{"bootstrap.unsigned-resolvers.[]",      CT_STR,    NULL,                0,     0,        check_forward,       0, K_NONE, 0, 0, NULL, NULL},
	{"bootstrap.nameserver-port",            CT_INT,    "53",                1,     65535,    NULL,                0, K_U16, offsetof(struct cfg, boot.ns_port), NOCOUNT, NULL, NULL},
	{"bootstrap.query-timeout",              CT_INT,    "5",                 1,     120,      NULL,                0, K_UINT, offsetof(struct cfg, boot.query_timeout), NOCOUNT, NULL, NULL},

	{"api",                                  CT_GROUP,  NULL,                0,     0,        NULL,                0, K_NONE, 0, 0, NULL, NULL},
	{"api.listen",                           CT_STR,    "127.0.0.1",         0,     0,        check_addr,          RESTART, K_STR, offsetof(struct cfg, api.listen), NOCOUNT, NULL, NULL},
	{"api.port",                             CT_INT,    "8053",              1,     65535,    NULL,                RESTART, K_U16, offsetof(struct cfg, api.port), NOCOUNT, NULL, NULL},
	{"api.tokens-file",                      CT_STR,    NULL,                0,     0,        check_nonempty,      RESTART, K_PATH, offsetof(struct cfg, api.tokens_file), NOCOUNT, NULL, NULL},
	{"api.tls-certificate",                  CT_STR,    NULL,                0,     0,        check_nonempty,      RESTART, K_PATH, offsetof(struct cfg, api.tls_cert), NOCOUNT, NULL, NULL},
	{"api.tls-key",                          CT_STR,    NULL,                0,     0,        check_nonempty,      RESTART, K_PATH, offsetof(struct cfg, api.tls_key), NOCOUNT, NULL, NULL},
	{"api.max-body",                         CT_INT,    "65536",             64,    16777216, NULL,                0, K_UINT, offsetof(struct cfg, api.max_body), NOCOUNT, NULL, NULL},
	{"api.ready-max-lag",                    CT_INT,    "300",               1,     31536000, NULL,                0, K_UINT, offsetof(struct cfg, api.ready_max_lag), NOCOUNT, NULL, NULL},
	{"api.ui-directory",                     CT_STR,    CFG_UI_DIR,          0,     0,        check_nonempty,      0, K_PATH, offsetof(struct cfg, api.ui_dir), NOCOUNT, NULL, NULL},

	{"resolver",                             CT_GROUP,  NULL,                0,     0,        NULL,                0, K_NONE, 0, 0, NULL, NULL},
	{"resolver.trust-anchor-file",           CT_STR,    "/usr/share/dns/root.key", 0, 0,     check_nonempty,      0, K_PATH, offsetof(struct cfg, resolver.ta_file), NOCOUNT, NULL, NULL},
	{"resolver.root-hints",                  CT_STR,    NULL,                0,     0,        check_nonempty,      0, K_PATH, offsetof(struct cfg, resolver.root_hints), NOCOUNT, NULL, NULL},
	{"resolver.config-file",                 CT_STR,    NULL,                0,     0,        check_nonempty,      0, K_PATH, offsetof(struct cfg, resolver.config_file), NOCOUNT, NULL, NULL},
	{"resolver.forward",                     CT_ARRAY,  NULL,                1,     16,       NULL,                0, K_STRV, offsetof(struct cfg, resolver.forward), offsetof(struct cfg, resolver.nforward), NULL, NULL},
	{"resolver.forward.[]",                  CT_STR,    NULL,                0,     0,        check_forward,       0, K_NONE, 0, 0, NULL, NULL},
	{"resolver.timeout",                     CT_INT,    "10",                1,     300,      NULL,                0, K_UINT, offsetof(struct cfg, resolver.timeout), NOCOUNT, NULL, NULL},

	{"receiver",                             CT_GROUP,  NULL,                0,     0,        NULL,                0, K_NONE, 0, 0, NULL, NULL},
	{"receiver.name",                        CT_STR,    NULL,                0,     0,        check_dname,         HAND|RESTART, K_NAME, offsetof(struct cfg, receiver.name), NOCOUNT, NULL, NULL},
	{"receiver.key-directory",               CT_STR,    "keys",              0,     0,        check_nonempty,      RESTART, K_PATHR, offsetof(struct cfg, receiver.key_dir), NOCOUNT, NULL, NULL},
	{"receiver.algorithm",                   CT_INT,    "15",                1,     255,      check_receiver_alg,  0, K_U8, offsetof(struct cfg, receiver.alg), NOCOUNT, NULL, NULL},
	{"receiver.sign",                        CT_STR,    "rfc2931",           0,     0,        NULL,                RESTART, K_ENUM, offsetof(struct cfg, receiver.sign), NOCOUNT, E_SIGN, NULL},
	{"receiver.sign-budget",                 CT_INT,    "1000",              0,     1000000,  NULL,                0, K_UINT, offsetof(struct cfg, receiver.sign_budget), NOCOUNT, NULL, NULL},
	{"receiver.roll-publish",                CT_INT,    "172800",            0,     31536000, NULL,                0, K_UINT, offsetof(struct cfg, receiver.roll_publish), NOCOUNT, NULL, NULL},
	{"receiver.roll-retire",                 CT_INT,    "172800",            0,     31536000, NULL,                0, K_UINT, offsetof(struct cfg, receiver.roll_retire), NOCOUNT, NULL, NULL},
	{"receiver.addresses",                   CT_ARRAY,  NULL,                1,     32,       NULL,                0, K_STRV, offsetof(struct cfg, receiver.addresses), offsetof(struct cfg, receiver.naddresses), NULL, NULL},
	{"receiver.addresses.[]",                CT_STR,    NULL,                0,     0,        check_addr,          0, K_NONE, 0, 0, NULL, NULL},
	{"receiver.publish-ttl",                 CT_INT,    "3600",              0,     604800,   NULL,                0, K_U32, offsetof(struct cfg, receiver.publish_ttl), NOCOUNT, NULL, NULL},
	{"receiver.dsync-scheme",                CT_INT,    "2",                 1,     255,      NULL,                0, K_U8, offsetof(struct cfg, receiver.dsync_scheme), NOCOUNT, NULL, NULL},
	{"receiver.svcb-bootstrap-key",          CT_INT,    "65282",             1,     65535,    NULL,                0, K_U16, offsetof(struct cfg, receiver.svcb_key), NOCOUNT, NULL, NULL},

	{"zones",                                CT_LIST,   NULL,                1,     1000,     NULL,                REQ, K_NONE, 0, 0, NULL, show_zones},
	{"zones.[]",                             CT_GROUP,  NULL,                0,     0,        NULL,                0, K_NONE, 0, 0, NULL, NULL},
	{"zones.[].name",                        CT_STR,    NULL,                0,     0,        check_dname,         REQ|HAND, K_NAME, offsetof(struct cfg_zone, name), NOCOUNT, NULL, NULL},
	{"zones.[].delegation-ttl",              CT_INT,    "3600",              1,     604800,   NULL,                0, K_U32, offsetof(struct cfg_zone, pol.deleg_ttl), NOCOUNT, NULL, NULL},
	{"zones.[].min-ns",                      CT_INT,    "2",                 1,     13,       NULL,                0, K_UINT, offsetof(struct cfg_zone, pol.min_ns), NOCOUNT, NULL, NULL},
	{"zones.[].max-ns",                      CT_INT,    "13",                1,     13,       NULL,                0, K_UINT, offsetof(struct cfg_zone, pol.max_ns), NOCOUNT, NULL, NULL},
	{"zones.[].max-ds",                      CT_INT,    "8",                 0,     64,       NULL,                0, K_UINT, offsetof(struct cfg_zone, pol.max_ds), NOCOUNT, NULL, NULL},
	{"zones.[].max-glue",                    CT_INT,    "26",                0,     100,      NULL,                0, K_UINT, offsetof(struct cfg_zone, pol.max_glue), NOCOUNT, NULL, NULL},
	{"zones.[].max-update-records",          CT_INT,    "64",                1,     1000,     NULL,                0, K_UINT, offsetof(struct cfg_zone, pol.max_update_rrs), NOCOUNT, NULL, NULL},
	{"zones.[].ds-digest-types",             CT_ARRAY,  "2 4",               1,     8,        NULL,                0, K_BITS, offsetof(struct cfg_zone, pol.ds_digest_ok), NOCOUNT, NULL, NULL},
	{"zones.[].ds-digest-types.[]",          CT_INT,    NULL,                1,     255,      check_ds_digest,     0, K_NONE, 0, 0, NULL, NULL},
	{"zones.[].ds-algorithms",               CT_ARRAY,  "8 10 13 14 15 16",  1,     32,       NULL,                0, K_BITS, offsetof(struct cfg_zone, pol.ds_alg_ok), NOCOUNT, NULL, NULL},
	{"zones.[].ds-algorithms.[]",            CT_INT,    NULL,                1,     255,      check_ds_alg,        0, K_NONE, 0, 0, NULL, NULL},
	{"zones.[].key-algorithms",              CT_ARRAY,  NULL,                1,     32,       NULL,                HAND, K_BITS, offsetof(struct cfg_zone, key_alg_ok), NOCOUNT, NULL, NULL},
	{"zones.[].key-algorithms.[]",           CT_INT,    NULL,                1,     255,      check_ds_alg,        0, K_NONE, 0, 0, NULL, NULL},
	{"zones.[].bootstrap-methods",          CT_ARRAY,  "manual",            0,     4,        NULL,                0, K_NONE, 0, 0, NULL, show_boot_methods},
	{"zones.[].bootstrap-methods.[]",       CT_STR,    NULL,                0,     0,        check_boot_method,   0, K_NONE, 0, 0, NULL, NULL},
	{"zones.[].bootstrap-max-pending",      CT_INT,    "3",                 1,     16,       NULL,                0, K_UINT, offsetof(struct cfg_zone, boot_max_pending), NOCOUNT, NULL, NULL},
	{"zones.[].key-rollover",               CT_BOOL,   "true",              0,     0,        NULL,                0, K_BOOL, offsetof(struct cfg_zone, key_rollover), NOCOUNT, NULL, NULL},
	{"zones.[].children",                    CT_LIST,   NULL,                0,     1000000,  NULL,                0, K_NONE, 0, 0, NULL, show_children},
	{"zones.[].children.[]",                 CT_GROUP,  NULL,                0,     0,        NULL,                0, K_NONE, 0, 0, NULL, NULL},
	{"zones.[].children.[].name",            CT_STR,    NULL,                0,     0,        check_dname,         REQ|HAND, K_NAME, offsetof(struct cfg_child, name), NOCOUNT, NULL, NULL},
	{"zones.[].children.[].keys",            CT_ARRAY,  NULL,                0,     16,       NULL,                0, K_NONE, 0, 0, NULL, show_keys},
	{"zones.[].children.[].keys.[]",         CT_STR,    NULL,                0,     0,        check_nonempty,      0, K_NONE, 0, 0, NULL, NULL},
	{"zones.[].backends",                    CT_LIST,   NULL,                0,     16,       NULL,                0, K_NONE, 0, 0, NULL, show_backends},
	{"zones.[].backends.[]",                 CT_GROUP,  NULL,                0,     0,        NULL,                0, K_NONE, 0, 0, NULL, NULL},
	{"zones.[].backends.[].type",            CT_STR,    NULL,                0,     0,        check_backend_type,  REQ|HAND, K_STR, offsetof(struct cfg_backend, type), NOCOUNT, NULL, NULL},
	{"zones.[].backends.[].name",            CT_STR,    NULL,                0,     0,        check_nonempty,      HAND, K_STR, offsetof(struct cfg_backend, name), NOCOUNT, NULL, NULL},
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

static bool backend_row(const config_setting_t *grp, const char *pattern, struct row *out,
			char *pathbuf, size_t buflen);

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
		struct row br;
		char bpath[256];
		/* a backend's own settings: its group is s, or s's parent for
		 * the elements of one of its arrays */
		if (!r && backend_row(group ? s : config_setting_parent(s), cpat, &br, bpath,
				      sizeof(bpath)))
			r = &br;
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
		else if (ok && r->words)
			check_enum(L, c, cwhere, r->words);
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
static const config_setting_t *member_r(const config_setting_t *grp, const struct row *r)
{
	if (!grp || !r || !config_setting_is_group(grp))
		return NULL;
	const config_setting_t *s = config_setting_get_member(grp, leaf(r->path));
	return (s && type_ok(r, s)) ? s : NULL;
}

static const config_setting_t *member(const config_setting_t *grp, const char *pattern,
				      const struct row **rowp)
{
	*rowp = row_find(pattern);
	return member_r(grp, *rowp);
}

static bool in_range(const struct row *r, long long v)
{
	return v >= r->min && v <= r->max;
}

static long long get_int_r(const config_setting_t *grp, const struct row *r)
{
	const config_setting_t *s = member_r(grp, r);
	if (s && in_range(r, config_setting_get_int64(s)))
		return config_setting_get_int64(s);
	return (r && r->def) ? strtoll(r->def, NULL, 10) : 0;
}

static const char *get_str_r(const config_setting_t *grp, const struct row *r)
{
	const config_setting_t *s = member_r(grp, r);
	if (s)
		return config_setting_get_string(s);
	return r ? r->def : NULL;
}

static const char *get_str(const config_setting_t *grp, const char *pattern)
{
	return get_str_r(grp, row_find(pattern));
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
static char **get_strv_r(struct loader *L, const config_setting_t *grp, const struct row *r,
			 size_t *n)
{
	const config_setting_t *s = member_r(grp, r);
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

static char **get_strv(struct loader *L, const config_setting_t *grp, const char *pattern,
		       size_t *n)
{
	return get_strv_r(L, grp, row_find(pattern), n);
}

static void strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

/* The value of row r from grp (or the row's default) into obj. */
static void fill_one(struct loader *L, const config_setting_t *grp, const struct row *r, void *obj)
{
	char *at = (char *)obj + r->off;
	const config_setting_t *s;
	const char *v;
	switch (r->kind) {
	case K_NONE:
		break;
	case K_UINT:
		*(unsigned *)(void *)at = (unsigned)get_int_r(grp, r);
		break;
	case K_U8:
		*(uint8_t *)at = (uint8_t)get_int_r(grp, r);
		break;
	case K_U16:
		*(uint16_t *)(void *)at = (uint16_t)get_int_r(grp, r);
		break;
	case K_U32:
		*(uint32_t *)(void *)at = (uint32_t)get_int_r(grp, r);
		break;
	case K_BOOL:
		s = member_r(grp, r);
		*(bool *)at = s ? config_setting_get_bool(s) != 0
				: r->def != NULL && strcmp(r->def, "true") == 0;
		break;
	case K_STR:
		v = get_str_r(grp, r);
		*(char **)(void *)at = v ? dup_str(L, v) : NULL;
		break;
	case K_PATH:
	case K_PATHR:
		v = get_str_r(grp, r);
		if (v == NULL)
			*(char **)(void *)at = NULL;
		else if (r->kind == K_PATH && member_r(grp, r) == NULL)
			*(char **)(void *)at = dup_str(L, v);
		else
			*(char **)(void *)at = resolve(L, v);
		break;
	case K_STRV: {
		size_t n;
		*(char ***)(void *)at = get_strv_r(L, grp, r, &n);
		if (r->off_n != NOCOUNT)
			*(size_t *)(void *)((char *)obj + r->off_n) = n;
		break;
	}
	case K_BITS:
		get_bits(grp, r->path, (uint8_t *)at);
		break;
	case K_ENUM: {
		int e = cfg_enum(r->words, get_str_r(grp, r));
		*(int *)(void *)at = e >= 0 ? e : cfg_enum(r->words, r->def);
		break;
	}
	case K_NAME:
		break;
	}
}

/*
 * Every row that is a direct member of the group pattern pat and says where
 * its value goes: the value from grp (or the row's default) into obj.
 */
static void fill_rows(struct loader *L, const config_setting_t *grp, const char *pat, void *obj)
{
	for (size_t i = 0; i < NROWS; i++)
		if (schema[i].kind != K_NONE && !(schema[i].flags & HAND) &&
		    is_member_of(schema[i].path, pat))
			fill_one(L, grp, &schema[i], obj);
}

/* ------------------------------------------------- backends' own settings */

#define BACKEND_PAT "zones.[].backends.[]"

/* Where a backend setting's value goes, as a schema kind. */
static enum ckind setting_kind(enum cfg_setting_kind k)
{
	switch (k) {
	case CFG_UINT:
		return K_UINT;
	case CFG_STR:
		return K_STR;
	case CFG_PATH:
		return K_PATH;
	case CFG_STRV:
		return K_STRV;
	}
	return K_NONE;
}

/*
 * The row of a setting that a backend type declares (struct cfg_setting),
 * for the backend group grp: pattern is BACKEND_PAT ".name" or
 * BACKEND_PAT ".name.[]" (an array's elements); the row's path points into
 * pathbuf.  False when grp's type is unknown or does not have that setting.
 */
static bool backend_row(const config_setting_t *grp, const char *pattern, struct row *out,
			char *pathbuf, size_t buflen)
{
	size_t pl = strlen(BACKEND_PAT);
	if (grp == NULL || strncmp(pattern, BACKEND_PAT ".", pl + 1) != 0)
		return false;
	const config_setting_t *t = config_setting_get_member(grp, "type");
	const struct cfg_backend_type *bt =
	    t && config_setting_type(t) == CONFIG_TYPE_STRING
		? cfg_backend_type_find(config_setting_get_string(t))
		: NULL;
	if (bt == NULL)
		return false;
	char name[128];
	snprintf(name, sizeof(name), "%s", pattern + pl + 1);
	char *dot = strchr(name, '.');
	bool elem = dot != NULL && strcmp(dot, ".[]") == 0;
	if (dot != NULL && !elem)
		return false;
	if (elem)
		*dot = '\0';
	for (const struct cfg_setting *st = bt->settings; st && st->name; st++) {
		if (strcmp(st->name, name) != 0 || (elem && st->kind != CFG_STRV))
			continue;
		snprintf(pathbuf, buflen, "%s", pattern);
		memset(out, 0, sizeof(*out));
		out->path = pathbuf;
		out->def = elem ? NULL : st->def;
		out->min = elem ? 0 : st->min;
		out->max = elem ? 0 : st->max;
		out->off = st->off;
		out->off_n = NOCOUNT;
		if (elem) {
			out->type = CT_STR;
			out->check = check_nonempty;
			return true;
		}
		out->kind = setting_kind(st->kind);
		out->type = out->kind == K_UINT ? CT_INT : out->kind == K_STRV ? CT_ARRAY : CT_STR;
		if (out->type == CT_STR)
			out->check = check_nonempty;
		return true;
	}
	return false;
}

/* A backend's own settings, into a settings struct of its type. */
static void fill_backend_settings(struct loader *L, const config_setting_t *bs,
				  struct cfg_backend *b)
{
	if (b->bt == NULL || !(b->settings = zalloc(L, 1, b->bt->size)))
		return;
	for (const struct cfg_setting *st = b->bt->settings; st && st->name; st++) {
		char pat[192], buf[192];
		struct row r;
		snprintf(pat, sizeof(pat), BACKEND_PAT ".%s", st->name);
		if (backend_row(bs, pat, &r, buf, sizeof(buf)))
			fill_one(L, bs, &r, b->settings);
	}
}

static void free_backend_settings(struct cfg_backend *b)
{
	for (const struct cfg_setting *st = b->bt && b->settings ? b->bt->settings : NULL;
	     st && st->name; st++) {
		void *at = (char *)b->settings + st->off;
		if (st->kind == CFG_STR || st->kind == CFG_PATH)
			free(*(char **)at);
		else if (st->kind == CFG_STRV)
			strv_free(*(char ***)at);
	}
	free(b->settings);
}

/* ------------------------------------------------- pass 2+3: sections */

char *cfg_conninfo_file(const char *path, char *why, size_t whylen)
{
	size_t len;
	char *buf =
	    file_read_checked(path, "PostgreSQL connection file", true, 8192, &len, why, whylen);
	char *line = buf, *out = NULL;

	while (line != NULL && out == NULL) {
		char *next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		line += strspn(line, " \t");
		line[strcspn(line, "\r")] = '\0';
		if (line[0] != '\0' && line[0] != '#')
			out = strdup(line);
		line = next;
	}
	if (buf != NULL && out == NULL)
		snprintf(why, whylen, "%s holds no connection string", path);
	free(buf);
	if (out != NULL && store_pg_check(out, why, whylen) != DS_OK) {
		free(out);
		out = NULL;
	}
	return out;
}

/* The connection string in store.postgresql-file (NULL after saying why). */
static char *read_conninfo(struct loader *L, const config_setting_t *at, const char *path)
{
	char why[PATH_MAX + 256];
	char *out = cfg_conninfo_file(path, why, sizeof(why));

	if (out == NULL)
		say(L, at, "'store.postgresql-file': %s", why);
	return out;
}

/* The store dsyncd opens: store.path, or a PostgreSQL database. */
static void fill_store(struct loader *L, const config_setting_t *root)
{
	struct cfg *c = L->c;
	const config_setting_t *sg = find(root, "store");
	const config_setting_t *pf = find(sg, "store.postgresql-file");
	char *conninfo = c->store_pg;

	if (c->store_pg != NULL && pf != NULL)
		say(L, pf, "'store.postgresql' and 'store.postgresql-file' both give the database");
	if (c->store_pg == NULL && pf != NULL)
		conninfo = read_conninfo(L, pf, c->store_pg_file);
	if (conninfo != NULL && find(sg, "store.path") != NULL)
		say(L, find(sg, "store.path"),
		    "'store.path' and a PostgreSQL database name two stores: keep one");
	if (conninfo == NULL) {
		c->store_spec = dup_str(L, c->store_path);
		c->store_label = dup_str(L, c->store_path);
		return;
	}
	char *masked = store_pg_masked(conninfo);
	size_t n = strlen(STORE_PG_PREFIX) + strlen(conninfo) + 1;
	c->store_spec = malloc(n);
	if (c->store_spec != NULL)
		snprintf(c->store_spec, n, "%s%s", STORE_PG_PREFIX, conninfo);
	n = strlen("postgresql (") + (masked ? strlen(masked) : 0) + 2;
	c->store_label = malloc(n);
	if (c->store_label != NULL)
		snprintf(c->store_label, n, "postgresql (%s)", masked ? masked : "");
	free(masked);
	if (conninfo != c->store_pg)
		free(conninfo);
	if (c->store_spec == NULL || c->store_label == NULL)
		L->oom = true;
}

static void fill_globals(struct loader *L, const config_setting_t *root)
{
	struct cfg *c = L->c;
	static const char *const groups[] = {"server", "store",	   "log",      "sig0",
					     "outbox", "ede",	   "keystate", "bootstrap",
					     "api",    "resolver", "receiver", "cookies"};
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		fill_rows(L, find(root, groups[i]), groups[i], c);
	fill_store(L, root);

	const config_setting_t *sg = find(root, "sig0");
	if (c->limits.rsa_min_bits > c->limits.rsa_max_bits) {
		const config_setting_t *mx = find(sg, "sig0.rsa-max-bits");
		say(L, mx ? mx : sg, "'sig0.rsa-min-bits' (%u) is above 'sig0.rsa-max-bits' (%u)",
		    c->limits.rsa_min_bits, c->limits.rsa_max_bits);
	}
	const config_setting_t *ob = find(root, "outbox");
	if (c->retry_min > c->retry_max)
		say(L, ob, "'outbox.retry-min' (%u) is above 'outbox.retry-max' (%u)", c->retry_min,
		    c->retry_max);

	const config_setting_t *bs = find(root, "bootstrap");
	if (c->boot.nvantage + c->boot.nresolvers > 16)
		say(L, bs,
		    "'bootstrap.unsigned-vantage' and 'bootstrap.unsigned-resolvers' "
		    "have more than 16 vantage points together");
	if (c->boot.retry_interval > c->boot.retry_max_interval)
		say(L, bs,
		    "'bootstrap.retry-interval' (%u) is above 'bootstrap.retry-max-interval' (%u)",
		    c->boot.retry_interval, c->boot.retry_max_interval);

	const config_setting_t *as = find(root, "api");
	c->api.enabled = c->api.tokens_file != NULL;
	if ((c->api.tls_cert == NULL) != (c->api.tls_key == NULL))
		say(L, as, "'api.tls-certificate' and 'api.tls-key' go together");
	if (as != NULL && !c->api.enabled)
		say(L, as, "'api' needs 'api.tokens-file' (every request needs a token)");

	const config_setting_t *rs = find(root, "resolver");
	/* a config file brings its own anchors: the default anchor file is
	 * then left out; one given explicitly is loaded as well */
	if (c->resolver.config_file != NULL &&
	    (rs == NULL || find(rs, "resolver.trust-anchor-file") == NULL)) {
		free(c->resolver.ta_file);
		c->resolver.ta_file = NULL;
	}

	const config_setting_t *rc = find(root, "receiver");
	const struct row *rrow;
	const config_setting_t *rn = member(rc, "receiver.name", &rrow);
	c->receiver.enabled = rn != NULL && c->receiver.sign != SIGN_OFF;
	if (rn && dname_from_str(config_setting_get_string(rn), c->receiver.name) < 0)
		c->receiver.enabled = false; /* reported by the row's check */
	c->receiver.with_request = c->receiver.sign == SIGN_RFC2931;
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
	struct sig0_key *pk = NULL;
	why[0] = '\0';
	rc = sig0_key_new(k->owner, k->rdata, rdlen, &L->c->limits, &pk, why, sizeof why);
	if (rc != DS_OK) {
		if (rc == DS_ENOMEM)
			L->oom = true;
		say(L, ks, "key for %s: %s", childname, why[0] ? why : ds_strerror(rc));
		return;
	}
	k->rdlen = (uint16_t)rdlen;
	k->tag = sig0_key_tag(pk);
	k->alg = sig0_key_alg(pk);
	sig0_key_free(pk);
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
	char at[200];

	where_of(L, bs, at, sizeof at);
	b->where = dup_str(L, at);
	b->type = dup_str(L, type ? type : "");
	b->name = dup_str(L, name ? name : type ? type : "");
	b->bt = cfg_backend_type_find(type);
	fill_backend_settings(L, bs, b);
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
		if (dup || b->bt == NULL || b->bt->check == NULL || b->settings == NULL)
			continue;
		char err[256] = "";
		int rc = b->bt->check(b, z, err, sizeof err);
		if (rc != DS_OK) {
			/* backends prefix their text with b->where, which say() prints */
			const char *msg = err[0] ? err : ds_strerror(rc);
			size_t wl = b->where ? strlen(b->where) : 0;
			if (wl && strncmp(msg, b->where, wl) == 0 && msg[wl] == ':')
				msg += wl + 1 + (msg[wl + 1] == ' ');
			if (rc == DS_ENOMEM)
				L->oom = true;
			say(L, bs, "backend '%s': %s", b->name, msg);
		}
	}
}

static void fill_zone(struct loader *L, const config_setting_t *zs, struct cfg_zone *z)
{
	const char *name = get_str(zs, "zones.[].name");
	bool name_ok = name && name[0] && dname_from_str(name, z->name) > 0;
	if (!name_ok)
		memset(z->name, 0, sizeof z->name);

	struct zone_policy *p = &z->pol;
	fill_rows(L, zs, "zones.[]", z);
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

/* "file:line" of one setting into *out (left NULL when it is absent). */
static void where_setting(struct loader *L, const config_setting_t *root, const char *pattern,
			  char **out)
{
	char group[32], at[PATH_MAX + 32];
	snprintf(group, sizeof group, "%.*s", (int)strcspn(pattern, "."), pattern);
	const config_setting_t *s = find(find(root, group), pattern);
	if (s == NULL)
		return;
	where_of(L, s, at, sizeof at);
	*out = dup_str(L, at);
}

/* Where the settings that name files are, for cfg_preflight's messages. */
static void fill_where(struct loader *L, const config_setting_t *root)
{
	struct cfg *c = L->c;
	where_setting(L, root, "store.path", &c->where.store_path);
	where_setting(L, root, "api.tokens-file", &c->where.tokens_file);
	where_setting(L, root, "api.tls-certificate", &c->where.tls_cert);
	where_setting(L, root, "api.tls-key", &c->where.tls_key);
	where_setting(L, root, "receiver.key-directory", &c->where.key_dir);
	where_setting(L, root, "cookies.secret-file", &c->where.cookie_secret);
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

	if (!includes_ok(&L, path, 0)) {
		free(L.dir);
		return DS_ECONFIG;
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
	atomic_init(&L.c->refs, 1);
	L.c->file = dup_str(&L, path);

	const config_setting_t *root = config_root_setting(&cf);
	walk(&L, root, "", "");
	fill_globals(&L, root);
	if (!L.oom)
		fill_zones(&L, root);
	if (!L.oom)
		check_resolver(&L, root);
	if (!L.oom)
		fill_where(&L, root);

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
	free_backend_settings(b);
	free(b->where);
}

struct cfg *cfg_hold(const struct cfg *c)
{
	struct cfg *m = (struct cfg *)c; /* the count is the only thing that changes */
	atomic_fetch_add(&m->refs, 1);
	return m;
}

void cfg_free(const struct cfg *cc)
{
	struct cfg *c = (struct cfg *)cc;
	if (!c || atomic_fetch_sub(&c->refs, 1) > 1)
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
	/* the strings and lists the top-level rows filled */
	for (size_t i = 0; i < NROWS; i++) {
		const struct row *r = &schema[i];
		char *at = (char *)c + r->off;
		if (strncmp(r->path, "zones", 5) == 0)
			continue;
		if (r->kind == K_STR || r->kind == K_PATH || r->kind == K_PATHR)
			free(*(char **)at);
		else if (r->kind == K_STRV)
			strv_free(*(char ***)at);
	}
	free(c->store_spec);
	free(c->store_label);
	free(c->where.store_path);
	free(c->where.tokens_file);
	free(c->where.tls_cert);
	free(c->where.tls_key);
	free(c->where.key_dir);
	free(c->where.cookie_secret);
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

/* ------------------------------------------- the effective configuration */

static void show_group(const char *pat, const void *obj, const struct cfg_visitor *v);

/* One row's value, read from obj as its kind says. */
static void show_row(const struct row *r, const void *obj, const struct cfg_visitor *v)
{
	const char *at = (const char *)obj + r->off;
	struct cfg_value val = {.type = CV_UINT};
	switch (r->kind) {
	case K_NONE:
		return;
	case K_UINT:
		val.u = *(const unsigned *)(const void *)at;
		break;
	case K_U8:
		val.u = *(const uint8_t *)at;
		break;
	case K_U16:
		val.u = *(const uint16_t *)(const void *)at;
		break;
	case K_U32:
		val.u = *(const uint32_t *)(const void *)at;
		break;
	case K_BOOL:
		val.type = CV_BOOL;
		val.u = *(const bool *)at;
		break;
	case K_STR:
	case K_PATH:
	case K_PATHR:
		val.type = CV_STR;
		val.s = *(char *const *)(const void *)at;
		break;
	case K_ENUM:
		val.type = CV_STR;
		val.s = cfg_word(r->words, *(const int *)(const void *)at);
		break;
	case K_STRV:
		val.type = CV_STRV;
		val.v = *(char **const *)(const void *)at;
		if (r->off_n != NOCOUNT) {
			/* a counted array that is not set is empty */
			static char *const none[] = {NULL};
			val.n = *(const size_t *)(const void *)((const char *)obj + r->off_n);
			val.v = val.v ? val.v : none;
		} else {
			for (val.n = 0; val.v && val.v[val.n]; val.n++)
				;
		}
		break;
	case K_BITS:
		val.type = CV_BITS;
		val.p = (const uint8_t *)at;
		break;
	case K_NAME:
		val.type = CV_NAME;
		val.p = at[0] != 0 ? (const uint8_t *)at : NULL;
		break;
	}
	v->value(v->arg, leaf(r->path), &val);
}

/* Every member row of the group pattern pat, with its values in obj. */
static void show_group(const char *pat, const void *obj, const struct cfg_visitor *v)
{
	for (size_t i = 0; i < NROWS; i++) {
		const struct row *r = &schema[i];
		if (!is_member_of(r->path, pat) || strcmp(leaf(r->path), "[]") == 0)
			continue;
		if (r->show) {
			r->show(obj, v);
		} else if (r->type == CT_GROUP) {
			v->begin(v->arg, leaf(r->path), false);
			show_group(r->path, obj, v);
			v->end(v->arg);
		} else {
			show_row(r, obj, v);
		}
	}
}

/* A list of n groups of size bytes at base, each shown by the rows of pat. */
static void show_list(const struct cfg_visitor *v, const char *name, const char *pat,
		      const void *base, size_t n, size_t size)
{
	v->begin(v->arg, name, true);
	for (size_t i = 0; i < n; i++) {
		v->begin(v->arg, NULL, false);
		show_group(pat, (const char *)base + i * size, v);
		v->end(v->arg);
	}
	v->end(v->arg);
}

static void show_zones(const void *obj, const struct cfg_visitor *v)
{
	const struct cfg *c = obj;
	show_list(v, "zones", "zones.[]", c->zones, c->nzones, sizeof(c->zones[0]));
}

static void show_boot_methods(const void *obj, const struct cfg_visitor *v)
{
	const struct cfg_zone *z = obj;
	const char *names[4];
	for (unsigned i = 0; i < z->nboot_order; i++)
		names[i] = cfg_boot_method_str(z->boot_order[i]);
	struct cfg_value val = {.type = CV_STRV, .v = (char *const *)names, .n = z->nboot_order};
	v->value(v->arg, "bootstrap-methods", &val);
}

static void show_children(const void *obj, const struct cfg_visitor *v)
{
	const struct cfg_zone *z = obj;
	show_list(v, "children", "zones.[].children.[]", z->children, z->nchildren,
		  sizeof(z->children[0]));
}

/* A child's keys: the KEY record as text, and what was learnt from it. */
/* store.postgresql without its password */
static void show_conninfo(const void *obj, const struct cfg_visitor *v)
{
	const struct cfg *c = obj;
	char *m = c->store_pg ? store_pg_masked(c->store_pg) : NULL;
	struct cfg_value val = {.type = CV_STR, .s = m};

	v->value(v->arg, "postgresql", &val);
	free(m);
}

static void show_keys(const void *obj, const struct cfg_visitor *v)
{
	const struct cfg_child *ch = obj;
	char text[8192];
	v->begin(v->arg, "keys", true);
	for (size_t i = 0; i < ch->nkeys; i++) {
		const struct cfg_key *k = &ch->keys[i];
		if (rr_to_str(k->owner, 3600, T_KEY, k->rdata, k->rdlen, text, sizeof(text)) !=
		    DS_OK)
			snprintf(text, sizeof(text), "?");
		v->begin(v->arg, NULL, false);
		v->value(v->arg, "key", &(struct cfg_value){.type = CV_STR, .s = text});
		v->value(v->arg, "tag", &(struct cfg_value){.type = CV_UINT, .u = k->tag});
		v->value(v->arg, "algorithm", &(struct cfg_value){.type = CV_UINT, .u = k->alg});
		v->value(v->arg, "source", &(struct cfg_value){.type = CV_STR, .s = k->source});
		v->end(v->arg);
	}
	v->end(v->arg);
}

/* A backend: its name and type, then the settings its type declares. */
static void show_backends(const void *obj, const struct cfg_visitor *v)
{
	const struct cfg_zone *z = obj;
	v->begin(v->arg, "backends", true);
	for (size_t i = 0; i < z->nbackends; i++) {
		const struct cfg_backend *b = &z->backends[i];
		v->begin(v->arg, NULL, false);
		show_group(BACKEND_PAT, b, v);
		for (const struct cfg_setting *st = b->bt && b->settings ? b->bt->settings : NULL;
		     st && st->name; st++) {
			struct row r = {.path = st->name,
					.kind = setting_kind(st->kind),
					.off = st->off,
					.off_n = NOCOUNT};
			show_row(&r, b->settings, v);
		}
		v->end(v->arg);
	}
	v->end(v->arg);
}

void cfg_visit(const struct cfg *c, const struct cfg_visitor *v)
{
	v->value(v->arg, "file", &(struct cfg_value){.type = CV_STR, .s = c->file});
	show_group("", c, v);
}

/* ------------------------------------------------ settings read at start */

/* Whether row r (a top-level one) has the same value in a and b. */
static bool row_same(const struct row *r, const struct cfg *a, const struct cfg *b)
{
	const char *pa = (const char *)a + r->off, *pb = (const char *)b + r->off;
	switch (r->kind) {
	case K_STR:
	case K_PATH:
	case K_PATHR: {
		const char *x = *(char *const *)pa, *y = *(char *const *)pb;
		return x == y || (x && y && strcmp(x, y) == 0);
	}
	case K_STRV: {
		char *const *x = *(char **const *)pa, *const *y = *(char **const *)pb;
		for (; x && y && *x && *y; x++, y++)
			if (strcmp(*x, *y) != 0)
				return false;
		return (!x || !*x) && (!y || !*y);
	}
	case K_NAME:
		return dname_equal((const uint8_t *)pa, (const uint8_t *)pb);
	case K_U8:
		return *(const uint8_t *)pa == *(const uint8_t *)pb;
	case K_U16:
		return *(const uint16_t *)pa == *(const uint16_t *)pb;
	default: /* K_UINT */
		return *(const unsigned *)pa == *(const unsigned *)pb;
	}
}

static char **strv_dup(char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	char **d = calloc(n + 1, sizeof(*d));
	for (size_t i = 0; d && i < n; i++)
		if ((d[i] = strdup(v[i])) == NULL) {
			strv_free(d);
			return NULL;
		}
	return v ? d : (free(d), NULL);
}

/* Row r's value of from into to (whose own value is freed). */
static int row_copy(const struct row *r, struct cfg *to, const struct cfg *from)
{
	char *pt = (char *)to + r->off;
	const char *pf = (const char *)from + r->off;
	switch (r->kind) {
	case K_STR:
	case K_PATH:
	case K_PATHR: {
		const char *v = *(char *const *)pf;
		char *d = v ? strdup(v) : NULL;
		if (v && !d)
			return DS_ENOMEM;
		free(*(char **)pt);
		*(char **)pt = d;
		return DS_OK;
	}
	case K_STRV: {
		char **d = strv_dup(*(char **const *)pf);
		if (*(char **const *)pf && !d)
			return DS_ENOMEM;
		strv_free(*(char ***)pt);
		*(char ***)pt = d;
		if (r->off_n != NOCOUNT)
			memcpy((char *)to + r->off_n, (const char *)from + r->off_n,
			       sizeof(size_t));
		return DS_OK;
	}
	case K_NAME:
		memcpy(pt, pf, DNAME_MAX);
		return DS_OK;
	case K_U8:
		memcpy(pt, pf, sizeof(uint8_t));
		return DS_OK;
	case K_U16:
		memcpy(pt, pf, sizeof(uint16_t));
		return DS_OK;
	default:
		memcpy(pt, pf, sizeof(unsigned));
		return DS_OK;
	}
}

int cfg_keep_restart(struct cfg *nc, const struct cfg *old, char *changed, size_t len)
{
	size_t at = 0;
	if (len)
		changed[0] = '\0';
	for (size_t i = 0; i < NROWS; i++) {
		const struct row *r = &schema[i];
		if (!(r->flags & RESTART) || row_same(r, nc, old))
			continue;
		int rc = row_copy(r, nc, old);
		if (rc != DS_OK)
			return rc;
		int n = snprintf(changed + at, at < len ? len - at : 0, "%s%s", at ? ", " : "",
				 r->path);
		at += n > 0 ? (size_t)n : 0;
	}
	/* what follows from those settings follows them back */
	free(nc->store_spec);
	free(nc->store_label);
	nc->store_spec = strdup(old->store_spec);
	nc->store_label = strdup(old->store_label);
	if (nc->store_spec == NULL || nc->store_label == NULL)
		return DS_ENOMEM;
	nc->api.enabled = old->api.enabled;
	nc->receiver.enabled = old->receiver.enabled;
	return DS_OK;
}

bool cfg_setting_restart_only(const char *path)
{
	const struct row *r = row_find(path);
	return r != NULL && (r->flags & RESTART);
}

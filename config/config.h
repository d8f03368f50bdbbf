/*
 * config/config.h -- dsyncd configuration, loaded with libconfig and checked
 * against a schema table ({path, type, default, min, max, check}).
 *
 * cfg_load() reports every problem as "file:line: message" on the error
 * stream and fails (DS_ECONFIG) if there was any; nothing is served from a
 * config that did not load cleanly.  Defaults are applied for every setting
 * that is absent.  The result is immutable and owned by the caller.
 */
#ifndef DS_CONFIG_CONFIG_H
#define DS_CONFIG_CONFIG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/dns.h"
#include "policy/policy.h"
#include "sig0/sig0.h"

/* Where the build puts state: make LOCALSTATEDIR=... (default /var). */
#ifndef DSYNC_LOCALSTATEDIR
#define DSYNC_LOCALSTATEDIR "/var"
#endif
/* store.path when the configuration does not set it */
#define CFG_STORE_PATH DSYNC_LOCALSTATEDIR "/lib/dsyncd/dsyncd.db"
/* Where make install puts shared files: make DATADIR=... (default /usr/local/share). */
#ifndef DSYNC_DATADIR
#define DSYNC_DATADIR "/usr/local/share"
#endif
/* api.ui-directory when the configuration does not set it: the web console's files */
#define CFG_UI_DIR DSYNC_DATADIR "/dsyncd/ui"

/* KEY RDATA room: 4 + 1 + 4 + 2048 octets, i.e. RSA up to 16384 bits. */
#define CFG_KEY_RDATA_MAX 2064

struct cfg_key {
	uint8_t owner[DNAME_MAX];
	uint16_t rdlen;
	uint8_t rdata[CFG_KEY_RDATA_MAX];
	uint16_t tag;
	uint8_t alg;
	char source[256]; /* "file:line" of the setting (and the key file path) */
};

struct cfg_child {
	uint8_t name[DNAME_MAX];
	struct cfg_key *keys;
	size_t nkeys;
};

/*
 * A backend type's own settings, declared by the backend (backends/): the
 * settings of a "zones.[].backends.[]" group besides type and name, each
 * read into the backend's settings struct at off, and a check that cfg_load
 * runs on each configured backend of the type.  Config knows no backend:
 * the types are handed to it (cfg_set_backend_types) before loading.
 */
enum cfg_setting_kind {
	CFG_UINT, /* unsigned, min..max */
	CFG_STR,  /* char *, not empty */
	CFG_PATH, /* char *, not empty, relative to the config file's folder */
	CFG_STRV, /* char ** (NULL-terminated) of min..max strings, none empty */
};
struct cfg_setting {
	const char *name; /* "path"; NULL ends a table */
	enum cfg_setting_kind kind;
	const char *def; /* default as text (NULL: none) */
	long long min, max;
	size_t off;	 /* in the backend's settings struct */
	const char *doc; /* one line for dsyncd.conf(5) and the docs check */
};
struct cfg_backend;
struct cfg_zone;
struct cfg_backend_type {
	const char *name;		    /* the "type" setting */
	const struct cfg_setting *settings; /* NULL-name terminated */
	size_t size;			    /* of the settings struct */
	/* b as the backend would take it (settings filled); err says why not */
	int (*check)(const struct cfg_backend *b, const struct cfg_zone *z, char *err,
		     size_t errlen);
	/* What b needs on this machine (a folder to write in, a program to
	 * run...), checked without changing anything: each problem one line on
	 * err (cfg_preflight_say with b->where); the number of problems.  Run
	 * by cfg_preflight; NULL: nothing to check. */
	unsigned (*preflight)(const struct cfg_backend *b, FILE *err);
};
/* The backend types cfg_load() knows, NULL-terminated; set once, before
 * loading (backends_register() does). */
void cfg_set_backend_types(const struct cfg_backend_type *const *types);
const struct cfg_backend_type *cfg_backend_type_find(const char *name);

/* One output backend of a zone. */
struct cfg_backend {
	char *name;  /* unique per zone; default = type */
	char *type;  /* "zonefile", "null", ... */
	char *where; /* "file:line" for messages */
	const struct cfg_backend_type *bt;
	void *settings; /* bt->size bytes, filled from bt->settings; NULL when bt is */
};

/* Bootstrap methods (doc/protocol.md, Key bootstrap), as bits of a set. */
enum { BOOT_AT_APEX = 1, BOOT_AT_NS = 2, BOOT_UNSIGNED = 4, BOOT_MANUAL = 8 };
#define BOOT_AUTOMATIC (BOOT_AT_APEX | BOOT_AT_NS | BOOT_UNSIGNED)

/* "at-apex" -> BOOT_AT_APEX, ...; 0 for anything else. */
unsigned cfg_boot_method(const char *name);
/* BOOT_AT_APEX -> "at-apex", ...; "?" for anything else. */
const char *cfg_boot_method_str(unsigned m);

struct cfg_zone {
	uint8_t name[DNAME_MAX];
	struct zone_policy pol;
	struct cfg_child *children;
	size_t nchildren;
	struct cfg_backend *backends;
	size_t nbackends;
	uint8_t key_alg_ok[32]; /* algorithms of child keys (bit set); default: sig0.algorithms */
	unsigned boot_methods;	/* BOOT_* bits; 0 = no bootstrap offered */
	unsigned boot_order[4]; /* the methods in the configured order */
	unsigned nboot_order;
	unsigned boot_max_pending; /* keys of one child waiting for trust, 3 */
	bool key_rollover;	   /* a trusted key may add/remove the child's keys (true) */
};

/* EDE info codes for key-state refusals (D4); defaults in the comments. */
struct cfg_ede {
	uint16_t key_unknown;		/* 513 */
	uint16_t key_not_trusted;	/* 514 */
	uint16_t key_validation_failed; /* 515 */
	uint16_t manual_bootstrap;	/* 516 */
};

struct cfg {
	atomic_int refs; /* cfg_hold / cfg_free */
	char *file;

	/* server */
	char **listen; /* addresses; default "127.0.0.1", "::1" */
	size_t nlisten;
	uint16_t port;		      /* 5354 */
	unsigned workers;	      /* verification threads; 0 = number of CPUs */
	unsigned tcp_idle_timeout;    /* seconds, 10 */
	unsigned tcp_max_connections; /* 256 */
	unsigned tcp_per_network;     /* per client /24 or /56, 32 */
	unsigned max_message_size;    /* bytes, 16384 (<= 65535) */
	unsigned queue_max;	      /* requests waiting for verification, 1024 */
	unsigned commit_batch_max;    /* UPDATEs per group commit, 64 */
	unsigned udp_rcvbuf;	      /* UDP socket receive buffer, 4 MiB; 0 = kernel default */
	/* signed UPDATEs per minute (R9: before any crypto) */
	unsigned upd_per_source; /* per source /24 (IPv4) or /56 (IPv6), 600 */
	unsigned upd_per_signer; /* per SIG(0) signer name, 120 */
	char *user;		 /* server.user: switch to it once serving (NULL: stay) */
	char *group;		 /* server.group: its group (NULL: the user's) */

	/* store */
	char *store_path;    /* CFG_STORE_PATH: the SQLite file */
	char *store_pg;	     /* store.postgresql: a libpq connection string */
	char *store_pg_file; /* store.postgresql-file: a file holding one */
	/* what store_open() takes: the file, or STORE_PG_PREFIX and the
	 * connection string; and what logs say of it (no password) */
	char *store_spec, *store_label;
	unsigned retention_days; /* audit rows and delivered changes kept; 0 = forever */
	unsigned lease_time;	 /* seconds a node's lease lasts without renewal (shared store) */

	/* log */
	int log_syslog;			 /* 0: stderr, 1: syslog */
	int log_level;			 /* LOG_INFO */
	int log_facility;		 /* LOG_DAEMON */
	unsigned log_refused_per_second; /* lines of refused requests a second, 100; 0 = all */

	/* sig0 */
	struct sig0_limits limits;
	unsigned sig_max_age;	   /* inception no older than this, 300 */
	unsigned sig_clock_skew;   /* 120 */
	unsigned sig_max_validity; /* expiration - inception at most, 900 */
	unsigned verify_budget; /* R8: verifications per second, all requests, 5000; 0 = no limit */
	unsigned verify_low;	/* percent of the budget left below which it is short, 50 */
	unsigned verify_share;	/* percent of it a /24 (/56) may use a second when short, 10 */

	/* DNS Cookies (RFC 7873, RFC 9018) */
	bool cookies;		  /* cookies.enabled, true */
	char *cookie_secret_file; /* cookies.secret-file (NULL: a random secret at start) */

	/* outbox delivery */
	unsigned retry_min; /* seconds, 1 */
	unsigned retry_max; /* seconds, 3600 */

	struct cfg_ede ede;

	/* KeyState inquiries (D1: option code 65002 by default) */
	uint16_t ks_option;
	bool ks_unsigned;	/* answer inquiries that are not SIG(0)-signed */
	unsigned ks_per_source; /* inquiries per minute per source /24 or /56, 120 (R17) */

	/* self-signed key uploads per minute (R9: before any crypto) */
	unsigned boot_per_child;  /* per child name, 6 */
	unsigned boot_per_source; /* per source /24 (IPv4) or /56 (IPv6), 30 */

	/* the bootstrap scheduler (keys/bootstrap.c) */
	struct {
		unsigned max_pending_total;  /* validations queued at once, all zones, 10000 */
		unsigned retry_interval;     /* seconds before the first retry, 60 */
		unsigned retry_max_interval; /* backoff cap, 3600 */
		unsigned attempts;	     /* failed attempts before validation-failed, 8 */
		int at_ns_all;		     /* D6: at-ns-require "all" (1) or "any" (0) */
		unsigned rounds;	     /* unsigned: consistent rounds needed, 3 */
		unsigned round_interval;     /* unsigned: seconds between rounds, 129600 */
		char **vantage;		     /* unsigned: local source addresses (NULL: any) */
		size_t nvantage;
		char **resolvers; /* unsigned: resolvers asked too ("addr" or "addr@port") */
		size_t nresolvers;
		uint16_t ns_port;	/* nameservers' port, 53 */
		unsigned query_timeout; /* seconds per direct query, 5 */
	} boot;

	/* the admin HTTP API (api/, doc/api.md); on when tokens_file is set */
	struct {
		bool enabled;
		char *listen;	   /* "127.0.0.1" */
		uint16_t port;	   /* 8053 */
		char *tokens_file; /* "name role token" lines */
		char *tls_cert;	   /* PEM; HTTPS when both are set */
		char *tls_key;
		unsigned max_body;	/* bytes, 65536 */
		unsigned ready_max_lag; /* seconds a backend may lag before /readyz fails, 300 */
		char *ui_dir;		/* the web console's files (api/ui.c), CFG_UI_DIR */
	} api;

	/* libunbound for the validated lookups of at-apex and at-ns */
	struct {
		char *ta_file;	   /* trust anchor file, /usr/share/dns/root.key */
		char *root_hints;  /* NULL: unbound's built-in hints */
		char *config_file; /* an unbound.conf read as it is (NULL: none) */
		char **forward;	   /* upstream resolvers (NULL: full recursion) */
		size_t nforward;
		unsigned timeout; /* seconds per lookup, 10 */
	} resolver;

	/* the receiver's own SIG(0) key (D5); enabled when receiver.name is set */
	struct {
		bool enabled;		 /* sign responses */
		uint8_t name[DNAME_MAX]; /* signer name = the DSYNC target */
		char *key_dir;		 /* where its K*.key/.private files live */
		uint8_t alg;		 /* for generated keys: 13, 14, 15 (default), 16 */
		bool with_request;	 /* rfc2931 (true) or response-only (compat) */
		int sign;		 /* receiver.sign: 0 off, 1 response-only, 2 rfc2931 */
		unsigned sign_budget;	 /* signatures/s for unauthenticated requests */
		unsigned roll_publish;	 /* seconds a new key is published before it signs */
		unsigned roll_retire;	 /* seconds an old key stays published after */
		char **addresses;	 /* published A/AAAA of the target (default: listen) */
		size_t naddresses;
		uint32_t publish_ttl; /* TTL of the records to publish, 3600 */
		uint8_t dsync_scheme; /* D1: DSYNC scheme UPDATE, 2 */
		uint16_t svcb_key;    /* D1: SVCB bootstrap SvcParamKey, 65282 */
	} receiver;

	struct cfg_zone *zones;
	size_t nzones;

	/* "file:line" of the settings that name files and folders, for
	 * cfg_preflight's messages; NULL when the setting is not in the file */
	struct {
		char *store_path, *tokens_file, *tls_cert, *tls_key, *key_dir;
		char *cookie_secret;
	} where;
};

/* The largest API TLS PEM file (certificate chain or key) read. */
#define CFG_TLS_FILE_MAX 65536

/*
 * Load and check path.  Errors go to errf as "file:line: message", one per
 * line (errf NULL: not printed); all are reported before failing.  Relative
 * paths in the file (store.path, backend path/template, key files) are
 * resolved against the directory of path; the default store.path is not.
 * Key files are read and every key checked with sig0_key_new() against
 * the configured limits; each backend's init() is run once (and its state
 * freed) to check its settings.  Returns DS_OK (and *out, freed with
 * cfg_free) or DS_ECONFIG / DS_ENOMEM (*out NULL).
 */
int cfg_load(const char *path, FILE *errf, struct cfg **out);
/*
 * A configuration is shared by reference: cfg_load hands out the first,
 * cfg_hold takes one more (a reload swaps configurations while an API
 * request may still use the old one), cfg_free drops one and frees the
 * configuration with the last.  NULL is a no-op for cfg_free.
 */
struct cfg *cfg_hold(const struct cfg *c);
void cfg_free(const struct cfg *c);

/*
 * Settings read once at start (listen addresses, ports, store path, API
 * tokens file and TLS files, receiver key, worker count, UDP buffer): a
 * reload cannot apply them.  cfg_keep_restart copies the running values
 * of those from old into the freshly loaded nc and names, in changed
 * ("server.listen, api.port"; "" for none), those that differed: they
 * take effect at the next restart.  DS_OK or DS_ENOMEM.
 */
int cfg_keep_restart(struct cfg *nc, const struct cfg *old, char *changed, size_t len);
/* Whether the setting at path ("server.port") is read only at start. */
bool cfg_setting_restart_only(const char *path);

/*
 * Everything start-up needs besides the configuration's own text, checked
 * without changing anything (config/preflight.c): the API tokens file
 * (a regular file only dsyncd's user may read), the API TLS certificate
 * and key (PEM, the key that of the certificate), the store's folder and
 * the receiver key folder (there and writable, or possible to make), and
 * what each backend needs (its preflight).  Every problem goes to err as
 * "file:line: message" (the setting's line; "file: message" for a default),
 * all of them before returning.  DS_OK, DS_ECONFIG when there was any,
 * DS_ENOMEM.  Free of global state: safe for a reload to call.
 */
int cfg_preflight(const struct cfg *c, FILE *err);
/* The part of cfg_preflight a reload needs: what it reads again (the API
 * tokens file) and what it makes anew (the backends); the settings read
 * only at start keep their running, checked values. */
int cfg_preflight_reload(const struct cfg *c, FILE *err);
/* One preflight problem: "where: message" on err (where NULL: c's file). */
void cfg_preflight_say(FILE *err, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The key of child with exactly this KEY RDATA listed in the configuration,
 * or NULL. */
const struct cfg_key *cfg_key_find(const struct cfg *c, const uint8_t *child, const uint8_t *rdata,
				   size_t rdlen);

/* The zone whose name equals zone (case-insensitive), or NULL. */
const struct cfg_zone *cfg_zone_find(const struct cfg *c, const uint8_t *zone);

/*
 * The effective configuration, setting by setting, as the schema describes
 * it (GET /api/v1/config prints it as JSON): groups and lists are opened
 * with begin() and closed with end(), every setting is one value().
 * Element groups of a list are opened with name NULL.
 */
enum cfg_vtype {
	CV_UINT, /* u */
	CV_BOOL, /* u is 0 or 1 */
	CV_STR,	 /* s; NULL when not set */
	CV_STRV, /* v with n elements; v NULL when not set */
	CV_BITS, /* p: a set over 0..255 (uint8_t[32]) */
	CV_NAME, /* p: a domain name in wire form; NULL when not set */
};
struct cfg_value {
	enum cfg_vtype type;
	unsigned long long u;
	const char *s;
	char *const *v;
	size_t n;
	const uint8_t *p;
};
struct cfg_visitor {
	void (*begin)(void *arg, const char *name, bool list);
	void (*end)(void *arg);
	void (*value)(void *arg, const char *name, const struct cfg_value *v);
	void *arg;
};
void cfg_visit(const struct cfg *c, const struct cfg_visitor *v);

/*
 * The libpq connection string in a store.postgresql-file: its first line
 * that is neither empty nor a comment, the file readable by its owner only.
 * malloc'd; NULL with why set.
 */
char *cfg_conninfo_file(const char *path, char *why, size_t whylen);

#endif

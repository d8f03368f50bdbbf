/*
 * tests/unit/test_config.c -- config loading: the shipped example, defaults,
 * and a table of broken configs, each with the "file:line: text" error it
 * must produce.  Run from the top of the source tree (examples/dsyncd.conf).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/dname.h"
#include "common/err.h"
#include "common/log.h"
#include "config/config.h"
#include "store/store.h"
#include "unit.h"
#include "backends/backend.h"
#include "backends/zonefile.h"

#define ED25519_KEY "child.example. IN KEY 512 3 15 bW7TkfdIUmMC93jrOI0wqaQQWbw7OeSj+dNVat+zRUE="
#define ECDSA_KEY                                                                                  \
	"child.example. IN KEY 512 3 13 ptwpJk8ZyGYpnmv8dXhhDI+4PTq64xAKBCDVotBn90vWKg6pT1AmYtVi"  \
	" tRG69YKoNIw/DgJ5TniEyg9MoJCB4w=="
#define RSA1024_KEY                                                                                \
	"child.example. IN KEY 512 3 8 AwEAAeCGMgatIhNQBNq7dtLhfhi/4gj+Zs7oQsd/GAiiCzl0FtJIzjDj"   \
	" /uWp5H4oeJ9fKHYyMo3QItU7NBjqI/6r0xQMElwNrnk+0lO2khVvau7c"                                \
	" vdp5yYdcEul6m2VzK5kQGwqhDU2C+gwiMQTYTL54CcCdaogFsjFESFhL 06qbgBzr"
#define RSA3072_KEY                                                                                \
	"child.example. IN KEY 512 3 8 AwEAAa92+4yR29qnv7bTlmPrKtjw2R2p/CFz7ABTV+R3+Nw/VV3+kpvZ"   \
	" bh/at9lasfbz+9vRj/30tec9+W20U8zxc1sB5WZo2wUKCSNN+44ifePD"                                \
	" xxf1ZH7HCfbgLokva0RzJpaprNbq/YMJHRrznpdu/6MvUntNdun1V2D3"                                \
	" xAssh2JUFY+zn4YE9G9OIA/Z0nIZdqzCVHtDpsLAbyJkV9VMLAVcKRUc"                                \
	" XozP5nJ0Zh73wikb7D+E9RSNKQVEp1TMjRinMMGMjx5QzlqjqniApREp"                                \
	" fUm3nT+l3j++8od4cp6xiy9ffD9HO0b1S8XBGtzOfSF2qyujfW3dZL4z"                                \
	" 2eVk6SZe0eMOLxCD78mqiS4U5b/zfmVkGFmher9+aNUgbjFrPdw7iU/4"                                \
	" vbrih6nUWoj6yRqdLN+MIFLM1hwR/N5+O1dH+bPq7bc2G3tJcAGLVCZV"                                \
	" YOvwK6/CVJokFn8f1cdXCLllJoOj0nQg7b4IVCG6JIvlOJ75hRgS6eyW SISTQbpH0KWr9Q=="

#define ZONE_OK "zones = ( { name = \"example.\"; } );\n"

static char tmpdir[] = "/tmp/test_config.XXXXXX";

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(2);
	}
	fputs(text, f);
	fclose(f);
}

/* Load text as tmpdir/name; the error output goes to *errs (caller frees). */
static int load_text(const char *name, const char *text, struct cfg **out, char **errs, char *path,
		     size_t pathlen)
{
	snprintf(path, pathlen, "%s/%s", tmpdir, name);
	write_file(path, text);
	size_t len;
	FILE *ef = open_memstream(errs, &len);
	int rc = cfg_load(path, ef, out);
	fclose(ef);
	return rc;
}

/* True when some line of errs starts with "path:line: " and holds want. */
/* Load text as tmpdir/name (path gets its name): it must load; errors shown. */
static struct cfg *load_ok(const char *name, const char *text, char *path, size_t pathlen)
{
	struct cfg *c = NULL;
	char *errs = NULL;
	int rc = load_text(name, text, &c, &errs, path, pathlen);
	CHECK_EQ(rc, DS_OK);
	if (rc != DS_OK)
		fprintf(stderr, "%s", errs);
	free(errs);
	return c;
}

static bool has_error(const char *errs, const char *path, int line, const char *want)
{
	char prefix[512];
	if (line > 0)
		snprintf(prefix, sizeof prefix, "%s:%d: ", path, line);
	else
		snprintf(prefix, sizeof prefix, "%s: ", path);
	for (const char *l = errs; l && *l;) {
		const char *nl = strchr(l, '\n');
		size_t n = nl ? (size_t)(nl - l) : strlen(l);
		char buf[2048];
		snprintf(buf, sizeof buf, "%.*s", (int)n, l);
		if (strncmp(buf, prefix, strlen(prefix)) == 0 && strstr(buf, want))
			return true;
		l = nl ? nl + 1 : NULL;
	}
	return false;
}

static size_t count_lines(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_example(void)
{
	struct cfg *c = NULL;
	char *errs = NULL;
	size_t len;
	/* the example's zonefile backend writes to var/ of the tree */
	mkdir("var", 0755);
	FILE *ef = open_memstream(&errs, &len);
	int rc = cfg_load("examples/dsyncd.conf", ef, &c);
	fclose(ef);
	CHECK_EQ(rc, DS_OK);
	if (rc != DS_OK)
		fprintf(stderr, "example config errors:\n%s", errs);
	CHECK(errs && errs[0] == '\0');
	free(errs);
	if (!c)
		return;
	uint8_t example[DNAME_MAX], child[DNAME_MAX];
	dname_from_str("example.", example);
	dname_from_str("child.example.", child);
	CHECK_EQ(c->port, 5354);
	CHECK_EQ(c->nlisten, 2);
	CHECK(c->nlisten == 2 && strcmp(c->listen[0], "127.0.0.1") == 0 &&
	      strcmp(c->listen[1], "::1") == 0 && c->listen[2] == NULL);
	CHECK(strcmp(c->store_path, "examples/../var/dsyncd.db") == 0);
	CHECK(!c->log_syslog);
	CHECK_EQ(c->nzones, 1);
	const struct cfg_zone *z = cfg_zone_find(c, example);
	CHECK(z != NULL);
	if (!z) {
		cfg_free(c);
		return;
	}
	CHECK_EQ(z->nchildren, 1);
	CHECK(z->nchildren == 1 && dname_equal(z->children[0].name, child));
	CHECK(z->nchildren == 1 && z->children[0].nkeys == 1);
	if (z->nchildren == 1 && z->children[0].nkeys == 1) {
		const struct cfg_key *k = &z->children[0].keys[0];
		CHECK_EQ(k->alg, 15);
		CHECK_EQ(k->tag, 1714);
		CHECK(dname_equal(k->owner, child));
		CHECK(strstr(k->source, "examples/dsyncd.conf:") == k->source);
		CHECK(strstr(k->source, "keys/Kchild.example.+015+01714.key") != NULL);
	}
	CHECK_EQ(z->nbackends, 1);
	if (z->nbackends == 1) {
		const struct cfg_backend *b = &z->backends[0];
		CHECK(strcmp(b->type, "zonefile") == 0 && strcmp(b->name, "zonefile") == 0);
		const struct zonefile_settings *zs = b->settings;
		CHECK(zs != NULL && strcmp(zs->path, "examples/../var/example.delegations") == 0);
		CHECK(zs != NULL && zs->template_path == NULL && zs->reload == NULL);
		CHECK_EQ(zs ? zs->reload_timeout : 0, 30);
	}
	cfg_free(c);
}

/* The algorithms on by default (for SIG(0), DS and child keys alike). */
static const struct {
	uint8_t alg;
	bool on;
} algs[] = {{1, false}, {5, false}, {7, false}, {8, true},  {10, true},
	    {13, true}, {14, true}, {15, true}, {16, true}, {17, false}};

/* A zone with nothing set: the policy's defaults. */
static void defaults_check_zone(const struct cfg *c)
{
	CHECK_EQ(c->nzones, 1);
	if (c->nzones == 1) {
		const struct zone_policy *p = &c->zones[0].pol;
		CHECK_EQ(p->deleg_ttl, 3600);
		CHECK_EQ(p->min_ns, 2);
		CHECK_EQ(p->max_ns, 13);
		CHECK_EQ(p->max_ds, 8);
		CHECK_EQ(p->max_glue, 26);
		CHECK_EQ(p->max_update_rrs, 64);
		for (unsigned d = 0; d < 8; d++)
			CHECK_EQ(policy_bit(p->ds_digest_ok, (uint8_t)d), d == 2 || d == 4);
		for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++)
			CHECK_EQ(policy_bit(p->ds_alg_ok, algs[i].alg), algs[i].on);
		CHECK_EQ(c->zones[0].nchildren, 0);
		CHECK_EQ(c->zones[0].nbackends, 0);
		CHECK_EQ(c->zones[0].boot_methods, BOOT_MANUAL);
		/* child key algorithms default to what the receiver verifies */
		for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++)
			CHECK_EQ(policy_bit(c->zones[0].key_alg_ok, algs[i].alg), algs[i].on);
		CHECK_EQ(c->zones[0].nboot_order, 1);
	}
}

static void test_defaults(void)
{
	struct cfg *c = NULL;
	char *errs = NULL, path[512];
	int rc =
	    load_text("min.conf", "# nothing but a zone\n" ZONE_OK, &c, &errs, path, sizeof path);
	CHECK_EQ(rc, DS_OK);
	CHECK(errs && errs[0] == '\0');
	free(errs);
	if (!c)
		return;
	CHECK(strcmp(c->file, path) == 0);
	CHECK(c->nlisten == 2 && strcmp(c->listen[0], "127.0.0.1") == 0 &&
	      strcmp(c->listen[1], "::1") == 0);
	CHECK_EQ(c->port, 5354);
	CHECK_EQ(c->workers, 0);
	CHECK_EQ(c->tcp_idle_timeout, 10);
	CHECK_EQ(c->tcp_max_connections, 256);
	CHECK_EQ(c->max_message_size, 16384);
	CHECK_EQ(c->queue_max, 1024);
	CHECK_EQ(c->commit_batch_max, 256);
	CHECK_EQ(c->upd_per_source, 600);
	CHECK_EQ(c->upd_per_signer, 120);
	CHECK(strcmp(c->store_path, CFG_STORE_PATH) == 0); /* default: the build's LOCALSTATEDIR */
	CHECK(c->user == NULL && c->group == NULL);	   /* default: no switch */
	CHECK(!c->log_syslog);
	CHECK_EQ(c->log_level, LOG_INFO);
	CHECK_EQ(c->log_facility, LOG_DAEMON);
	CHECK_EQ(c->limits.rsa_min_bits, 2048);
	CHECK_EQ(c->limits.rsa_max_bits, 4096);
	for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++)
		CHECK_EQ(sig0_alg_allowed(&c->limits, algs[i].alg), algs[i].on);
	CHECK_EQ(c->sig_max_age, 300);
	CHECK_EQ(c->sig_clock_skew, 120);
	CHECK_EQ(c->sig_max_validity, 900);
	CHECK_EQ(c->verify_budget, 5000);
	CHECK_EQ(c->retry_min, 1);
	CHECK_EQ(c->retry_max, 3600);
	CHECK_EQ(c->ede.key_unknown, 513);
	CHECK_EQ(c->ede.key_not_trusted, 514);
	CHECK_EQ(c->ede.key_validation_failed, 515);
	CHECK_EQ(c->ede.manual_bootstrap, 516);
	CHECK_EQ(c->boot.max_pending_total, 10000);
	CHECK_EQ(c->boot.retry_interval, 60);
	CHECK_EQ(c->boot.retry_max_interval, 3600);
	CHECK_EQ(c->boot.attempts, 8);
	CHECK(c->boot.at_ns_all);
	CHECK_EQ(c->boot.rounds, 3);
	CHECK_EQ(c->boot.round_interval, 129600);
	CHECK_EQ(c->boot.nvantage, 0);
	CHECK_EQ(c->boot.nresolvers, 0);
	CHECK_EQ(c->boot.ns_port, 53);
	CHECK_EQ(c->boot.query_timeout, 5);
	CHECK(c->resolver.ta_file && strcmp(c->resolver.ta_file, "/usr/share/dns/root.key") == 0);
	CHECK(c->resolver.root_hints == NULL && c->resolver.config_file == NULL);
	CHECK_EQ(c->resolver.nforward, 0);
	CHECK_EQ(c->resolver.timeout, 10);
	CHECK(!c->api.enabled);
	CHECK(c->api.listen && strcmp(c->api.listen, "127.0.0.1") == 0);
	CHECK_EQ(c->api.port, 8053);
	CHECK_EQ(c->api.max_body, 65536);
	CHECK(c->api.tokens_file == NULL && c->api.tls_cert == NULL && c->api.tls_key == NULL);
	defaults_check_zone(c);
	cfg_free(c);
}

/* A config file brings its own anchors: the default anchor file (ta) is
 * left out, one given explicitly is kept. */
static void test_bootstrap_anchors(const char *ta)
{
	struct cfg *c;
	char ub[512], path[512];
	snprintf(ub, sizeof ub, "%s/unbound.conf", tmpdir);
	write_file(ub, "server:\n\tlocal-zone: \"test.\" transparent\n");
	c = load_ok("ub1.conf",
		    "resolver = { config-file = \"unbound.conf\"; };\n"
		    "zones = ( { name = \"example.\"; bootstrap-methods = [ \"at-apex\" ]; } );\n",
		    path, sizeof path);
	CHECK(c && c->resolver.ta_file == NULL && c->resolver.config_file != NULL);
	cfg_free(c);
	c = load_ok(
	    "ub2.conf",
	    "resolver = { config-file = \"unbound.conf\"; trust-anchor-file = \"root.key\";\n"
	    "  root-hints = \"root.key\"; };\n"
	    "zones = ( { name = \"example.\"; bootstrap-methods = [ \"at-apex\" ]; } );\n",
	    path, sizeof path);
	CHECK(c && c->resolver.ta_file && strcmp(c->resolver.ta_file, ta) == 0);
	CHECK(c && c->resolver.config_file && c->resolver.root_hints);
	cfg_free(c);
}

/* Bootstrap methods in order, the scheduler's and the resolver's settings. */
static void test_bootstrap_settings(void)
{
	struct cfg *c;
	char path[512], ta[512];
	snprintf(ta, sizeof ta, "%s/root.key", tmpdir);
	write_file(ta, ". 3600 IN DS 20326 8 2 "
		       "E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n");
	c = load_ok(
	    "boot.conf",
	    "bootstrap = { retry-interval = 2; retry-max-interval = 30; attempts = 4;\n"
	    "  at-ns-require = \"any\"; unsigned-rounds = 5; unsigned-interval = 7;\n"
	    "  unsigned-vantage = [ \"127.0.0.1\", \"::1\" ]; nameserver-port = 5300;\n"
	    "  query-timeout = 3; unsigned-resolvers = [ \"127.0.0.53\", \"::1@5353\" ]; };\n"
	    "api = { listen = \"::1\"; port = 9999; tokens-file = \"tok\"; max-body = 1024;\n"
	    "  tls-certificate = \"c.pem\"; tls-key = \"/k.pem\"; };\n"
	    "resolver = { trust-anchor-file = \"root.key\"; timeout = 4;\n"
	    "  forward = [ \"127.0.0.53\", \"::1@5353\" ]; };\n"
	    "zones = ( { name = \"example.\";\n"
	    "  bootstrap-methods = [ \"unsigned\", \"at-ns\", \"manual\", \"at-apex\" ];\n"
	    "  key-algorithms = [ 13, 14 ]; } );\n",
	    path, sizeof path);
	if (!c)
		return;
	CHECK_EQ(c->boot.retry_interval, 2);
	CHECK_EQ(c->boot.retry_max_interval, 30);
	CHECK_EQ(c->boot.attempts, 4);
	CHECK(!c->boot.at_ns_all);
	CHECK_EQ(c->boot.rounds, 5);
	CHECK_EQ(c->boot.round_interval, 7);
	CHECK(c->boot.nvantage == 2 && strcmp(c->boot.vantage[1], "::1") == 0);
	CHECK_EQ(c->boot.ns_port, 5300);
	CHECK(c->boot.nresolvers == 2 && strcmp(c->boot.resolvers[1], "::1@5353") == 0);
	CHECK_EQ(c->boot.query_timeout, 3);
	CHECK(c->resolver.ta_file && strcmp(c->resolver.ta_file, ta) == 0);
	CHECK(c->resolver.nforward == 2 && strcmp(c->resolver.forward[1], "::1@5353") == 0);
	CHECK_EQ(c->resolver.timeout, 4);
	char want[600];
	snprintf(want, sizeof want, "%s/tok", tmpdir);
	CHECK(c->api.enabled && c->api.tokens_file && strcmp(c->api.tokens_file, want) == 0);
	CHECK(strcmp(c->api.listen, "::1") == 0);
	CHECK_EQ(c->api.port, 9999);
	CHECK_EQ(c->api.max_body, 1024);
	CHECK(c->api.tls_key && strcmp(c->api.tls_key, "/k.pem") == 0);
	const struct cfg_zone *z = &c->zones[0];
	CHECK_EQ(z->boot_methods, BOOT_AT_APEX | BOOT_AT_NS | BOOT_UNSIGNED | BOOT_MANUAL);
	CHECK_EQ(z->nboot_order, 4);
	CHECK_EQ(z->boot_order[0], BOOT_UNSIGNED);
	CHECK_EQ(z->boot_order[1], BOOT_AT_NS);
	CHECK_EQ(z->boot_order[2], BOOT_MANUAL);
	CHECK_EQ(z->boot_order[3], BOOT_AT_APEX);
	CHECK(policy_bit(z->key_alg_ok, 13) && policy_bit(z->key_alg_ok, 14));
	CHECK(!policy_bit(z->key_alg_ok, 15) && !policy_bit(z->key_alg_ok, 8));
	cfg_free(c);
	test_bootstrap_anchors(ta);

	CHECK_EQ(cfg_boot_method("at-ns"), BOOT_AT_NS);
	CHECK_EQ(cfg_boot_method("AT-NS"), 0);
	CHECK_EQ(cfg_boot_method(""), 0);
	CHECK(strcmp(cfg_boot_method_str(BOOT_UNSIGNED), "unsigned") == 0);
	CHECK(strcmp(cfg_boot_method_str(3), "?") == 0);
}

/* Settings given explicitly land in the struct; keys as text and as files. */
static void test_values(void)
{
	struct cfg *c;
	char path[512], kpath[512];
	snprintf(kpath, sizeof kpath, "%s/Kchild.key", tmpdir);
	write_file(kpath, "; a comment, as BIND writes them\n" ED25519_KEY "\n");
	c = load_ok("values.conf",
		    "server = { listen = [ \"10.1.2.3\", \"2001:db8::1\", \"::\" ];\n"
		    "  port = 53; workers = 4;\n"
		    "  updates-per-source = 5; updates-per-signer = 3;\n"
		    "  user = \"root\"; group = \"root\"; };\n"
		    "store = { path = \"db/x.db\"; };\n"
		    "log = { target = \"syslog\"; level = \"debug\"; facility = \"local3\"; };\n"
		    "sig0 = { algorithms = [ 5, 13, 15 ]; rsa-min-bits = 1024;\n"
		    "  verify-budget = 0; };\n"
		    "ede = { key-unknown = 65535; };\n"
		    "zones = ( { name = \"Example\"; min-ns = 1; max-ns = 4;\n"
		    "  ds-digest-types = [ 1 ]; ds-algorithms = [ 5, 7 ];\n"
		    "  children = ( { name = \"child.EXAMPLE\";\n"
		    "    keys = ( \"" ECDSA_KEY "\", \"Kchild.key\" ); },\n"
		    "    { name = \"b.child2.example.\"; } );\n"
		    "  backends = ( { type = \"null\"; },\n"
		    "    { type = \"null\"; name = \"second\"; } ); },\n"
		    "  { name = \"example.net.\"; } );\n",
		    path, sizeof path);
	if (!c)
		return;
	CHECK(c->nlisten == 3 && strcmp(c->listen[2], "::") == 0);
	CHECK_EQ(c->port, 53);
	CHECK_EQ(c->workers, 4);
	CHECK_EQ(c->upd_per_source, 5);
	CHECK_EQ(c->upd_per_signer, 3);
	CHECK(c->user && strcmp(c->user, "root") == 0 && c->group && strcmp(c->group, "root") == 0);
	CHECK_EQ(c->verify_budget, 0); /* 0: no limit */
	char want[600];
	snprintf(want, sizeof want, "%s/db/x.db", tmpdir);
	CHECK(strcmp(c->store_path, want) == 0);
	CHECK(c->log_syslog);
	CHECK_EQ(c->log_level, LOG_DEBUG);
	CHECK_EQ(c->log_facility, LOG_LOCAL3);
	CHECK(sig0_alg_allowed(&c->limits, 5) && sig0_alg_allowed(&c->limits, 13));
	CHECK(!sig0_alg_allowed(&c->limits, 8) && !sig0_alg_allowed(&c->limits, 16));
	CHECK_EQ(c->limits.rsa_min_bits, 1024);
	CHECK_EQ(c->ede.key_unknown, 65535);
	CHECK_EQ(c->nzones, 2);
	uint8_t n[DNAME_MAX];
	dname_from_str("example.net", n);
	CHECK(cfg_zone_find(c, n) == &c->zones[1]);
	dname_from_str("EXAMPLE.", n);
	CHECK(cfg_zone_find(c, n) == &c->zones[0]);
	dname_from_str("example.org", n);
	CHECK(cfg_zone_find(c, n) == NULL);
	const struct cfg_zone *z = &c->zones[0];
	CHECK_EQ(z->pol.min_ns, 1);
	CHECK_EQ(z->pol.max_ns, 4);
	CHECK(policy_bit(z->pol.ds_digest_ok, 1) && !policy_bit(z->pol.ds_digest_ok, 2));
	CHECK(policy_bit(z->pol.ds_alg_ok, 7) && !policy_bit(z->pol.ds_alg_ok, 8));
	CHECK_EQ(z->nchildren, 2);
	if (z->nchildren == 2) {
		CHECK_EQ(z->children[0].nkeys, 2);
		if (z->children[0].nkeys == 2) {
			CHECK_EQ(z->children[0].keys[0].alg, 13);
			CHECK_EQ(z->children[0].keys[1].alg, 15);
			CHECK_EQ(z->children[0].keys[1].tag, 1714);
			CHECK(strstr(z->children[0].keys[1].source, kpath) != NULL);
		}
		CHECK_EQ(z->children[1].nkeys, 0);
	}
	CHECK_EQ(z->nbackends, 2);
	if (z->nbackends == 2) {
		CHECK(strcmp(z->backends[0].name, "null") == 0);
		CHECK(strcmp(z->backends[1].name, "second") == 0);
		CHECK(strncmp(z->backends[1].where, path, strlen(path)) == 0);
	}
	cfg_free(c);
}

struct bad_case {
	const char *what;
	const char *text;
	int line; /* 0: "file: message" */
	const char *want;
};

static const struct bad_case bad[] = {
    {"unknown setting", "server = {\n  prot = 5354;\n};\n" ZONE_OK, 2,
     "unknown setting 'server.prot'"},
    {"unknown top-level", "sever = { };\n" ZONE_OK, 1, "unknown setting 'sever'"},
    {"unknown in zone", "zones = ( { name = \"example.\";\n  min_ns = 2; } );\n", 2,
     "unknown setting 'zones.[0].min_ns'"},
    {"wrong type", "server = {\n  port = \"5354\";\n};\n" ZONE_OK, 2,
     "'server.port' must be an integer"},
    {"float for int", "server = { workers = 1.5; };\n" ZONE_OK, 1,
     "'server.workers' must be an integer"},
    {"group for list", "zones = { name = \"example.\"; };\n", 1, "'zones' must be a list"},
    {"out of range", "server = {\n  max-message-size = 100;\n};\n" ZONE_OK, 2,
     "'server.max-message-size' = 100 is out of range 512..65535"},
    {"port zero", "server = { port = 0; };\n" ZONE_OK, 1, "'server.port' = 0 is out of range"},
    {"signer limit zero", "server = { updates-per-signer = 0; };\n" ZONE_OK, 1,
     "'server.updates-per-signer' = 0 is out of range 1..100000000"},
    {"verify budget range", "sig0 = { verify-budget = -1; };\n" ZONE_OK, 1,
     "'sig0.verify-budget' = -1 is out of range 0..1000000"},
    {"min-ns range", "zones = ( { name = \"example.\";\n min-ns = 14; } );\n", 2,
     "'zones.[0].min-ns' = 14 is out of range 1..13"},
    {"ede range", "ede = { key-unknown = 70000; };\n" ZONE_OK, 1, "out of range 0..65535"},
    {"bad address", "server = {\n  listen = [ \"127.0.0.1\",\n    \"::1::2\" ];\n};\n" ZONE_OK, 3,
     "'server.listen.[1]': \"::1::2\" is not an IPv4 or IPv6 address"},
    {"host name as address", "server = { listen = [ \"localhost\" ]; };\n" ZONE_OK, 1,
     "is not an IPv4 or IPv6 address"},
    {"empty listen", "server = { listen = [ ]; };\n" ZONE_OK, 1,
     "'server.listen' needs at least 1 element"},
    {"bad log level", "log = { level = \"chatty\"; };\n" ZONE_OK, 1, "unknown level \"chatty\""},
    {"bad log target", "log = { target = \"file\"; };\n" ZONE_OK, 1,
     "\"file\" is not one of \"stderr\", \"syslog\""},
    {"bad facility", "log = { facility = \"local9\"; };\n" ZONE_OK, 1,
     "unknown syslog facility \"local9\""},
    {"forbidden alg", "sig0 = { algorithms = [ 8,\n 1 ]; };\n" ZONE_OK, 2,
     "algorithm 1 (RSAMD5) must not be used"},
    {"unsupported alg", "sig0 = { algorithms = [ 8, 9 ]; };\n" ZONE_OK, 1,
     "algorithm 9 is not supported"},
    {"rsa min above max", "sig0 = {\n rsa-min-bits = 4096;\n rsa-max-bits = 2048; };\n" ZONE_OK, 3,
     "'sig0.rsa-min-bits' (4096) is above 'sig0.rsa-max-bits' (2048)"},
    {"retry min above max", "outbox = { retry-min = 60; retry-max = 10; };\n" ZONE_OK, 1,
     "'outbox.retry-min' (60) is above 'outbox.retry-max' (10)"},
    {"ds digest", "zones = ( { name = \"example.\";\n ds-digest-types = [ 2, 3 ]; } );\n", 2,
     "DS digest type 3 is not allowed"},
    {"ds alg forbidden", "zones = ( { name = \"example.\";\n ds-algorithms = [ 12 ]; } );\n", 2,
     "algorithm 12 (ECC-GOST) must not be used"},
    {"min-ns above max-ns", "zones = ( { name = \"example.\";\n min-ns = 5; max-ns = 3; } );\n", 1,
     "'min-ns' (5) is above 'max-ns' (3)"},
    {"too many records", "zones = ( { name = \"example.\"; max-ds = 64; max-glue = 100; } );\n", 1,
     "is above 128 records per child"},
    {"missing zones", "server = { port = 5354; };\n", 0, "missing setting 'zones'"},
    {"no zones", "zones = ( );\n", 1, "'zones' needs at least 1 element"},
    {"missing zone name", "zones = ( { min-ns = 2; },\n { name = \"example.\"; } );\n", 1,
     "missing setting 'zones.[0].name'"},
    {"bad zone name", "zones = ( { name = \"a..b\"; } );\n", 1, "is not a valid domain name"},
    {"duplicate zone", "zones = (\n { name = \"example.\"; },\n { name = \"EXAMPLE\"; } );\n", 3,
     "duplicate zone EXAMPLE. (first at "},
    {"child outside zone",
     "zones = ( { name = \"example.\";\n children = (\n { name = \"child.other.\"; } ); } );\n", 3,
     "child child.other. is not below zone example."},
    {"child is the zone",
     "zones = ( { name = \"example.\";\n children = (\n { name = \"Example.\"; } ); } );\n", 3,
     "child Example. is not below zone example."},
    {"label-wise below",
     "zones = ( { name = \"ample.\";\n children = ( { name = \"ex.example.\"; } ); } );\n", 2,
     "is not below zone ample."},
    {"nested child",
     "zones = ( { name = \"example.\"; children = (\n { name = \"b.a.example.\"; },\n"
     " { name = \"a.example.\"; } ); } );\n",
     2, "child b.a.example. is below child a.example."},
    {"duplicate child",
     "zones = ( { name = \"example.\"; children = (\n { name = \"a.example.\"; },\n"
     " { name = \"A.example\"; } ); } );\n",
     3, "duplicate child A.example. (first at "},
    {"missing child name",
     "zones = ( { name = \"example.\"; children = (\n { keys = ( ); } ); } );\n", 2,
     "missing setting 'zones.[0].children.[0].name'"},
    {"key owner mismatch",
     "zones = ( { name = \"example.\"; children = ( { name = \"other.example.\";\n"
     " keys = ( \"" ED25519_KEY "\" ); } ); } );\n",
     2, "key for other.example.: owner child.example. does not match the child name"},
    {"key not parsable",
     "zones = ( { name = \"example.\"; children = ( { name = \"child.example.\";\n"
     " keys = ( \"child.example. IN KEY 512 3 15 !!!notbase64\" ); } ); } );\n",
     2, "key for child.example.: "},
    {"key file missing",
     "zones = ( { name = \"example.\"; children = ( { name = \"child.example.\";\n"
     " keys = ( \"Knothere.key\" ); } ); } );\n",
     2, "key for child.example.: cannot read key file"},
    {"key alg not allowed",
     "sig0 = { algorithms = [ 8, 13 ]; };\n"
     "zones = ( { name = \"example.\"; children = ( { name = \"child.example.\";\n"
     " keys = ( \"" ED25519_KEY "\" ); } ); } );\n",
     3, "key for child.example.: "},
    {"RSA too big",
     "sig0 = { rsa-max-bits = 2048; };\n"
     "zones = ( { name = \"example.\"; children = ( { name = \"child.example.\";\n"
     " keys = ( \"" RSA3072_KEY "\" ); } ); } );\n",
     3, "key for child.example.: RSA modulus of 3072 bits"},
    {"RSA too small",
     "zones = ( { name = \"example.\"; children = ( { name = \"child.example.\";\n"
     " keys = ( \"" RSA1024_KEY "\" ); } ); } );\n",
     2, "key for child.example.: RSA modulus of 1024 bits"},
    {"duplicate key",
     "zones = ( { name = \"example.\"; children = ( { name = \"child.example.\";\n"
     " keys = ( \"" ED25519_KEY "\",\n\"" ED25519_KEY "\" ); } ); } );\n",
     3, "duplicate of the key at "},
    {"unknown backend type",
     "zones = ( { name = \"example.\"; backends = (\n { type = \"bogus\"; } ); } );\n", 2,
     "'zones.[0].backends.[0].type': unknown backend type \"bogus\""},
    {"missing backend type",
     "zones = ( { name = \"example.\"; backends = (\n { name = \"x\"; } ); } );\n", 2,
     "missing setting 'zones.[0].backends.[0].type'"},
    {"duplicate backend name",
     "zones = ( { name = \"example.\"; backends = (\n { type = \"null\"; },\n"
     " { type = \"null\"; } ); } );\n",
     3, "duplicate backend name 'null'"},
    {"a setting another backend type has",
     "zones = ( { name = \"example.\"; backends = (\n { type = \"null\"; path = \"x\"; } ); } "
     ");\n",
     2, "unknown setting 'zones.[0].backends.[0].path'"},
    {"backend's own check",
     "zones = ( { name = \"example.\"; backends = (\n { type = \"zonefile\"; path = "
     "\"/nonexistent/dir/out\"; } ); } );\n",
     2, "backend 'zonefile': directory /nonexistent/dir of path does not exist"},
    {"a zonefile setting of the wrong type",
     "zones = ( { name = \"example.\"; backends = (\n { type = \"zonefile\"; path = \"x\";"
     " reload-timeout = \"soon\"; } ); } );\n",
     2, "'zones.[0].backends.[0].reload-timeout' must be an integer"},
    {"empty reload",
     "zones = ( { name = \"example.\"; backends = (\n { type = \"zonefile\";"
     " path = \"out\"; reload = [ ]; } ); } );\n",
     2, "'zones.[0].backends.[0].reload' needs at least 1 element"},
    {"syntax error", "server = {\n  port = ;\n};\n", 2, "syntax error"},
    {"unknown method",
     "zones = ( { name = \"example.\";\n bootstrap-methods = [ \"dnssec\" ]; } );\n", 2,
     "unknown bootstrap method \"dnssec\" (at-apex, at-ns, unsigned, manual)"},
    {"method twice",
     "zones = ( { name = \"example.\";\n bootstrap-methods = [ \"manual\", \"manual\" ]; } );\n", 2,
     "\"manual\" is listed twice"},
    {"at-ns-require", "bootstrap = {\n at-ns-require = \"most\"; };\n" ZONE_OK, 2,
     "\"most\" is not one of \"all\", \"any\""},
    {"retry order", "bootstrap = {\n retry-interval = 90; retry-max-interval = 60; };\n" ZONE_OK, 1,
     "'bootstrap.retry-interval' (90) is above 'bootstrap.retry-max-interval' (60)"},
    {"bad vantage", "bootstrap = { unsigned-vantage = [\n \"ns1\" ]; };\n" ZONE_OK, 2,
     "\"ns1\" is not an IPv4 or IPv6 address"},
    {"bad resolver vantage", "bootstrap = { unsigned-resolvers = [\n \"resolver1\" ]; };\n" ZONE_OK,
     2, "\"resolver1\" is not an address or address@port"},
    {"bad forward", "resolver = { forward = [\n \"127.0.0.1@0\" ]; };\n" ZONE_OK, 2,
     "\"127.0.0.1@0\" is not an address or address@port"},
    {"api without tokens", "api = {\n port = 8080; };\n" ZONE_OK, 1,
     "'api' needs 'api.tokens-file' (every request needs a token)"},
    {"api tls half", "api = { tokens-file = \"t\";\n tls-key = \"k.pem\"; };\n" ZONE_OK, 1,
     "'api.tls-certificate' and 'api.tls-key' go together"},
    {"no trust anchor",
     "resolver = {\n trust-anchor-file = \"/nonexistent/root.key\"; };\n"
     "zones = ( { name = \"example.\"; bootstrap-methods = [ \"at-apex\" ]; } );\n",
     2, "'resolver.trust-anchor-file': cannot read \"/nonexistent/root.key\""},
    {"unknown user", "server = {\n user = \"no-such-user-dsyncd\"; };\n" ZONE_OK, 2,
     "'server.user': unknown user \"no-such-user-dsyncd\""},
    {"unknown group",
     "server = { user = \"root\";\n group = \"no-such-group-dsyncd\"; };\n" ZONE_OK, 2,
     "'server.group': unknown group \"no-such-group-dsyncd\""},
    {"include name with an escape", "@include \"a\\\\b.conf\"\n" ZONE_OK, 1,
     "@include: the file name must be plain text"},
    {"empty include name", "@include \"\"\n" ZONE_OK, 1,
     "@include: the file name must be plain text"},
    {"bad connection string", "store = {\n postgresql = \"host=db1 dbname\"; };\n" ZONE_OK, 2,
     "'store.postgresql': missing \"=\" after \"dbname\""},
    {"two databases",
     "store = {\n postgresql = \"host=db1\";\n postgresql-file = \"x\"; };\n" ZONE_OK, 3,
     "'store.postgresql' and 'store.postgresql-file' both give the database"},
    {"file and database", "store = {\n path = \"a.db\";\n postgresql = \"host=db1\"; };\n" ZONE_OK,
     2, "'store.path' and a PostgreSQL database name two stores"},
    {"no connection file", "store = {\n postgresql-file = \"/nonexistent/pg\"; };\n" ZONE_OK, 2,
     "'store.postgresql-file': /nonexistent/pg"},
};

/* store.postgresql and store.postgresql-file: what store_open() gets, what
 * logs and the API show (never the password), the file's checks. */
static void test_postgresql(void)
{
	char path[512], file[600], text[1024], *errs = NULL;
	struct cfg *c = load_ok("pg1.conf",
				"store = { postgresql = \"host=db1 dbname=d user=u "
				"password='s3cret'\"; };\n" ZONE_OK,
				path, sizeof path);
	if (c != NULL) {
		CHECK(strcmp(c->store_spec,
			     "postgresql:host=db1 dbname=d user=u password='s3cret'") == 0);
		CHECK(strstr(c->store_label, "host='db1'") != NULL);
		CHECK(strstr(c->store_label, "s3cret") == NULL);
		CHECK(strstr(c->store_label, "password='********'") != NULL);
		CHECK(store_spec_is_pg(c->store_spec));
	}
	cfg_free(c);
	snprintf(file, sizeof file, "%s/pg.conninfo", tmpdir);
	write_file(file, "# the database\n\n  host=db2 dbname=d password=p2\nignored\n");
	chmod(file, 0600);
	snprintf(text, sizeof text, "store = { postgresql-file = \"pg.conninfo\"; };\n" ZONE_OK);
	c = load_ok("pg2.conf", text, path, sizeof path);
	if (c != NULL)
		CHECK(strcmp(c->store_spec, "postgresql:host=db2 dbname=d password=p2") == 0);
	cfg_free(c);
	/* others may read it: refused, as a private key would be */
	chmod(file, 0644);
	c = NULL;
	CHECK_EQ(load_text("pg3.conf", text, &c, &errs, path, sizeof path), DS_ECONFIG);
	CHECK(has_error(errs, path, 1, "'store.postgresql-file'"));
	free(errs);
	/* without a PostgreSQL database, the file */
	c = load_ok("pg4.conf", "store = { path = \"s.db\"; };\n" ZONE_OK, path, sizeof path);
	if (c != NULL) {
		CHECK(!store_spec_is_pg(c->store_spec));
		CHECK(strcmp(c->store_spec, c->store_path) == 0);
	}
	cfg_free(c);
}

static void test_bad(void)
{
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct cfg *c = (struct cfg *)&c; /* must be reset to NULL */
		char *errs = NULL, path[512];
		int rc = load_text("bad.conf", bad[i].text, &c, &errs, path, sizeof path);
		CHECK_EQ(rc, DS_ECONFIG);
		CHECK(c == NULL);
		bool ok = has_error(errs, path, bad[i].line, bad[i].want);
		CHECK(ok);
		if (!ok)
			fprintf(stderr, "case '%s': want %s:%d: ...%s..., got:\n%s", bad[i].what,
				path, bad[i].line, bad[i].want, errs);
		free(errs);
	}
}

/* Every error is reported, not just the first; then the load fails. */
static void test_all_errors(void)
{
	struct cfg *c = NULL;
	char *errs = NULL, path[512];
	int rc = load_text("multi.conf",
			   "server = {\n"			     /* 1 */
			   "  prot = 1;\n"			     /* 2 */
			   "  port = 70000;\n"			     /* 3 */
			   "  listen = [ \"1.2.3.999\" ];\n"	     /* 4 */
			   "};\n"				     /* 5 */
			   "zones = (\n"			     /* 6 */
			   "  { name = \"example.\"; children = (\n" /* 7 */
			   "    { name = \"x.test.\"; },\n"	     /* 8 */
			   "    { name = \"ok.example.\"; } ); },\n" /* 9 */
			   "  { name = \"example.\"; backends = (\n" /* 10 */
			   "    { type = \"nope\"; } ); }\n"	     /* 11 */
			   ");\n",				     /* 12 */
			   &c, &errs, path, sizeof path);
	CHECK_EQ(rc, DS_ECONFIG);
	CHECK(c == NULL);
	CHECK(has_error(errs, path, 2, "unknown setting 'server.prot'"));
	CHECK(has_error(errs, path, 3, "'server.port' = 70000 is out of range"));
	CHECK(has_error(errs, path, 4, "\"1.2.3.999\" is not an IPv4 or IPv6 address"));
	CHECK(has_error(errs, path, 8, "child x.test. is not below zone example."));
	CHECK(has_error(errs, path, 10, "duplicate zone example."));
	CHECK(has_error(errs, path, 11, "unknown backend type \"nope\""));
	CHECK_EQ(count_lines(errs), 6);
	if (count_lines(errs) != 6)
		fprintf(stderr, "%s", errs);
	free(errs);
}

/* ---- cfg_preflight: what start-up needs besides the text ---------------------- */

/* A self-signed P-256 certificate and its key as PEM files (key mode 0600). */
static void make_cert(const char *certpath, const char *keypath)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();
	CHECK(k != NULL && x != NULL);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, k);
	X509_NAME *n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"t", -1, -1, 0);
	X509_set_issuer_name(x, n);
	CHECK(X509_sign(x, k, EVP_sha256()) > 0);
	FILE *f = fopen(certpath, "w");
	CHECK(f != NULL && PEM_write_X509(f, x) == 1);
	fclose(f);
	f = fopen(keypath, "w");
	CHECK(f != NULL && PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) == 1);
	fclose(f);
	chmod(keypath, 0600);
	X509_free(x);
	EVP_PKEY_free(k);
}

/* cfg_preflight of a loaded config; its output to *errs (caller frees). */
static int preflight(const struct cfg *c, char **errs)
{
	size_t len;
	FILE *ef = open_memstream(errs, &len);
	int rc = cfg_preflight(c, ef);
	fclose(ef);
	return rc;
}

static bool exists(const char *dir, const char *name)
{
	char p[600];
	struct stat st;
	snprintf(p, sizeof p, "%s/%s", dir, name);
	return stat(p, &st) == 0;
}

/* Everything in place (folders to make, a secret tokens file, a matching TLS
 * pair, programs that run): no problem, and nothing was made. */
static void test_preflight_ok(void)
{
	char path[512], text[2048], *errs = NULL;
	snprintf(path, sizeof path, "%s/pf-ok", tmpdir);
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/pf-ok/out", tmpdir);
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/pf-ok/tokens", tmpdir);
	write_file(path, "ops admin 0123456789abcdef0123\n");
	chmod(path, 0600);
	char cert[512], key[512];
	snprintf(cert, sizeof cert, "%s/pf-ok/api.crt", tmpdir);
	snprintf(key, sizeof key, "%s/pf-ok/api.key", tmpdir);
	make_cert(cert, key);
	snprintf(text, sizeof text,
		 "store = { path = \"db/d.db\"; };\n"
		 "api = { tokens-file = \"tokens\"; tls-certificate = \"api.crt\"; "
		 "tls-key = \"api.key\"; };\n"
		 "receiver = { name = \"ns.example.\"; key-directory = \"rkeys\"; };\n"
		 "zones = ( { name = \"example.\";\n"
		 "  backends = ( { type = \"zonefile\"; path = \"out/x.zone\"; reload = [ \"true\" "
		 "]; },\n"
		 "               { type = \"exec\"; command = [ \"/bin/true\" ]; } ); } );\n");
	struct cfg *c = load_ok("pf-ok/d.conf", text, path, sizeof path);
	if (c == NULL)
		return;
	CHECK_EQ(preflight(c, &errs), DS_OK);
	CHECK_EQ(count_lines(errs), 0);
	if (errs[0])
		fprintf(stderr, "%s", errs);
	snprintf(path, sizeof path, "%s/pf-ok", tmpdir);
	CHECK(!exists(path, "db") && !exists(path, "rkeys"));
	free(errs);
	cfg_free(c);
}

/* Every problem, each on the line of its setting, all of them. */
static void test_preflight_bad(void)
{
	char dir[128], path[512], prog[512], text[2048], *errs = NULL;
	snprintf(dir, sizeof dir, "%s/pf-bad", tmpdir);
	mkdir(dir, 0700);
	snprintf(path, sizeof path, "%s/out", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/tokens", dir);
	write_file(path, "ops admin 0123456789abcdef0123\n");
	chmod(path, 0644);
	snprintf(path, sizeof path, "%s/junk.crt", dir);
	write_file(path,
		   "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n");
	snprintf(path, sizeof path, "%s/junk.key", dir);
	write_file(path, "not a key\n");
	chmod(path, 0600);
	snprintf(prog, sizeof prog, "%s/reload.sh", dir);
	write_file(prog, "#!/bin/sh\nexit 0\n");
	chmod(prog, 0644);
	snprintf(
	    text, sizeof text,
	    "store = { path = \"nodir/sub/d.db\"; };\n"
	    "api = { tokens-file = \"tokens\";\n"
	    "  tls-certificate = \"junk.crt\";\n"
	    "  tls-key = \"junk.key\"; };\n"
	    "receiver = { name = \"ns.example.\"; key-directory = \"no/keys\"; };\n"
	    "zones = ( { name = \"example.\";\n"
	    "  backends = ( { type = \"zonefile\"; path = \"out/x.zone\"; reload = [ \"%s\" ]; },\n"
	    "               { type = \"exec\"; command = [ \"no-such-program-dsync\" ]; } ); } "
	    ");\n",
	    prog);
	struct cfg *c = load_ok("pf-bad/d.conf", text, path, sizeof path);
	if (c == NULL)
		return;
	CHECK_EQ(preflight(c, &errs), DS_ECONFIG);
	CHECK(has_error(errs, path, 1, "pf-bad/nodir/sub does not exist and cannot be made"));
	CHECK(has_error(errs, path, 2,
			"the API tokens file has mode 0644, which gives group or others"));
	CHECK(has_error(errs, path, 3, "junk.crt holds no PEM certificate"));
	CHECK(has_error(errs, path, 4, "junk.key holds no PEM private key"));
	CHECK(has_error(errs, path, 5, "receiver.key-directory: folder"));
	CHECK(has_error(errs, path, 7, "backend 'zonefile': reload: the program"));
	CHECK(has_error(errs, path, 7, "cannot be run: Permission denied"));
	CHECK(has_error(errs, path, 8,
			"backend 'exec': command: the program no-such-program-dsync "
			"is not found in PATH"));
	CHECK_EQ(count_lines(errs), 7);
	free(errs);

	/* the reload program now missing, the output folder not writable */
	unlink(prog);
	snprintf(path, sizeof path, "%s/out", dir);
	chmod(path, 0500);
	errs = NULL;
	CHECK_EQ(preflight(c, &errs), DS_ECONFIG);
	snprintf(path, sizeof path, "%s/d.conf", dir);
	CHECK(has_error(errs, path, 7, "reload: the program"));
	CHECK(has_error(errs, path, 7, "reload.sh does not exist"));
	if (geteuid() != 0) /* root may write anywhere */
		CHECK(has_error(errs, path, 7,
				"backend 'zonefile': path: cannot write in the folder"));
	snprintf(path, sizeof path, "%s/out", dir);
	chmod(path, 0700);
	free(errs);
	cfg_free(c);
}

/* TLS: a pair that does not match, a key others may read, a missing tokens file. */
static void test_preflight_tls(void)
{
	char dir[128], path[512], a[512], b[512], *errs = NULL;
	snprintf(dir, sizeof dir, "%s/pf-tls", tmpdir);
	mkdir(dir, 0700);
	snprintf(a, sizeof a, "%s/a.crt", dir);
	snprintf(b, sizeof b, "%s/a.key", dir);
	make_cert(a, b);
	snprintf(a, sizeof a, "%s/b.crt", dir);
	snprintf(b, sizeof b, "%s/b.key", dir);
	make_cert(a, b);
	struct cfg *c = load_ok("pf-tls/d.conf",
				"store = { path = \"d.db\"; };\n"
				"api = { tokens-file = \"missing-tokens\";\n"
				"  tls-certificate = \"a.crt\";\n"
				"  tls-key = \"b.key\"; };\n" ZONE_OK,
				path, sizeof path);
	if (c == NULL)
		return;
	CHECK_EQ(preflight(c, &errs), DS_ECONFIG);
	CHECK(has_error(errs, path, 2, "missing-tokens: cannot open the API tokens file"));
	CHECK(has_error(errs, path, 4, "b.key is not the key of the certificate"));
	CHECK_EQ(count_lines(errs), 2);
	free(errs);
	chmod(b, 0640);
	errs = NULL;
	CHECK_EQ(preflight(c, &errs), DS_ECONFIG);
	CHECK(has_error(errs, path, 4, "the API TLS key file has mode 0640"));
	free(errs);
	/* a tokens file whose lines the API would refuse: each one, by its line */
	char tok[512];
	snprintf(tok, sizeof tok, "%s/missing-tokens", dir);
	write_file(tok,
		   "ops admin 0123456789abcdef0123\nshort read abc\nx boss 0123456789abcdef0123\n");
	chmod(tok, 0600);
	errs = NULL;
	CHECK_EQ(preflight(c, &errs), DS_ECONFIG);
	CHECK(
	    has_error(errs, path, 2, "missing-tokens:2: the token must have 16 to 256 characters"));
	CHECK(has_error(errs, path, 2, "missing-tokens:3: role must be read or admin"));
	free(errs);
	cfg_free(c);
}

/* @include of a folder (libconfig 1.5 would end the process), of too many
 * files, and a value holding a newline: refused, one line per problem. */
static void test_includes(void)
{
	char path[512], folder[512];
	struct cfg *c = NULL;
	char *errs = NULL;
	snprintf(folder, sizeof folder, "%s/inc.d", tmpdir);
	CHECK(mkdir(folder, 0700) == 0);
	CHECK_EQ(
	    load_text("inc1.conf", "@include \"inc.d\"\n" ZONE_OK, &c, &errs, path, sizeof path),
	    DS_ECONFIG);
	CHECK(has_error(errs, path, 1, "@include \"inc.d\": ") &&
	      strstr(errs, "inc.d is not a regular file") != NULL);
	free(errs);
	CHECK_EQ(load_text("inc2.conf", "@include \"inc2.conf\"\n@include \"inc2.conf\"\n", &c,
			   &errs, path, sizeof path),
		 DS_ECONFIG);
	CHECK(has_error(errs, path, 2, "more than 64 @include in all"));
	free(errs);
	CHECK_EQ(
	    load_text("nl.conf",
		      "zones = ( { name = \"example.\"; bootstrap-methods = [ \"a\\nb\" ]; } );\n",
		      &c, &errs, path, sizeof path),
	    DS_ECONFIG);
	CHECK(has_error(errs, path, 1, "unknown bootstrap method \"a\\x0Ab\""));
	CHECK(strchr(errs, '\n') == errs + strlen(errs) - 1);
	free(errs);
	rmdir(folder);
}

static void test_missing_file(void)
{
	struct cfg *c = NULL;
	char *errs = NULL, path[512];
	size_t len;
	snprintf(path, sizeof path, "%s/does-not-exist.conf", tmpdir);
	FILE *ef = open_memstream(&errs, &len);
	CHECK_EQ(cfg_load(path, ef, &c), DS_ECONFIG);
	fclose(ef);
	CHECK(c == NULL);
	CHECK(strstr(errs, path) == errs);
	free(errs);
	cfg_free(NULL);
}

/* A reload keeps the settings read only at start and names those that changed. */
static void test_keep_restart(void)
{
	char p1[512], p2[512], changed[512];
	struct cfg *old = load_ok(
	    "old.conf",
	    "server = { listen = [ \"127.0.0.1\" ]; port = 5354; tcp-idle-timeout = 10; };\n"
	    "log = { level = \"info\"; };\n"
	    "zones = ( { name = \"example.\"; } );\n",
	    p1, sizeof(p1));
	struct cfg *nc = load_ok("new.conf",
				 "server = { listen = [ \"127.0.0.2\", \"::1\" ]; port = 5399;\n"
				 "  tcp-idle-timeout = 20; };\n"
				 "log = { level = \"debug\"; };\n"
				 "api = { tokens-file = \"tokens\"; };\n"
				 "zones = ( { name = \"example.\"; }, { name = \"other.\"; } );\n",
				 p2, sizeof(p2));
	if (old == NULL || nc == NULL)
		goto out;
	CHECK(cfg_setting_restart_only("server.port"));
	CHECK(!cfg_setting_restart_only("server.tcp-idle-timeout"));
	CHECK_EQ(cfg_keep_restart(nc, old, changed, sizeof(changed)), DS_OK);
	CHECK(strcmp(changed, "server.listen, server.port, api.tokens-file") == 0);
	/* read only at start: the running values */
	CHECK_EQ(nc->nlisten, 1);
	CHECK(nc->listen[0] && strcmp(nc->listen[0], "127.0.0.1") == 0 && nc->listen[1] == NULL);
	CHECK_EQ(nc->port, 5354);
	CHECK(nc->api.tokens_file == NULL && !nc->api.enabled);
	/* the rest: the new file's */
	CHECK_EQ(nc->tcp_idle_timeout, 20);
	CHECK_EQ(nc->log_level, LOG_DEBUG);
	CHECK_EQ(nc->nzones, 2);
	/* nothing changed: nothing named */
	CHECK_EQ(cfg_keep_restart(nc, old, changed, sizeof(changed)), DS_OK);
	CHECK(changed[0] == '\0');
	/* the reference count: the last cfg_free frees (ASan sees a leak or a double free) */
	CHECK(cfg_hold(nc) == nc);
	cfg_free(nc);
out:
	cfg_free(nc);
	cfg_free(old);
}

int main(void)
{
	backends_register();
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 2;
	}
	test_example();
	test_defaults();
	test_values();
	test_bootstrap_settings();
	test_bad();
	test_postgresql();
	test_all_errors();
	test_includes();
	test_missing_file();
	test_preflight_ok();
	test_preflight_bad();
	test_preflight_tls();
	test_keep_restart();

	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	UNIT_DONE("config");
}

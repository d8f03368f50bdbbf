/*
 * tests/unit/test_api.c -- the admin API's tokens file: what is accepted
 * (comments, blank lines, CRLF), every refusal (fields, role, length,
 * characters, duplicates, mode, no token at all), and the lookup by token;
 * which routes need no token; the probes' answers (/healthz, /readyz) from
 * a real store.  The operations behind POST and DELETE
 * /api/v1/children/{child} (keys/deleg_ops.c): names, records against the
 * zone's policy, create, delete with the keys, refusals that change
 * nothing, the audit rows and the outbox changes.  The key names every
 * key route, `dsyncd key` and dsyncctl take (keys/name.c): the forms, the
 * refusals, an ambiguous tag.  The web console's files: which paths are its,
 * the fixed list of files served, 301, 404 and 405.  The HTTP side is tested
 * against the running daemon (tests/integration/15-api.sh, 35-delegations.sh,
 * 32-health.sh).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/internal.h"
#include "backends/backend.h"
#include "common/dname.h"
#include "common/err.h"
#include "common/log.h"
#include "keys/deleg_ops.h"
#include "tests/unit/unit.h"

static char dir[] = "/tmp/dsyncd-test-api.XXXXXX";
static char path[256];

/* Write text to the tokens file with mode, then load it into out. */
static int load(const char *text, mode_t mode, struct api_tokens *out)
{
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return -1;
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
	return api_tokens_load(path, out);
}

static const char *A = "0123456789abcdef";	/* exactly 16 characters */
static const char *B = "fedcba9876543210-read"; /* another valid token */

static void test_good(void)
{
	struct api_tokens t = {0};
	char text[512];
	snprintf(text, sizeof(text),
		 "# comment line\n\n   \nalice admin %s   # trailing comment\r\n"
		 "\tgrafana\tread\t%s\n",
		 A, B);
	CHECK_EQ(load(text, 0600, &t), DS_OK);
	CHECK_EQ(t.n, 2);
	const struct api_token *a = api_tokens_find(&t, A, strlen(A));
	CHECK(a != NULL && strcmp(a->name, "alice") == 0 && a->role == API_ROLE_ADMIN);
	const struct api_token *b = api_tokens_find(&t, B, strlen(B));
	CHECK(b != NULL && strcmp(b->name, "grafana") == 0 && b->role == API_ROLE_READ);
	/* a prefix, a longer string, a different case: no match */
	CHECK(api_tokens_find(&t, A, strlen(A) - 1) == NULL);
	CHECK(api_tokens_find(&t, "0123456789abcdefX", 17) == NULL);
	CHECK(api_tokens_find(&t, "0123456789ABCDEF", 16) == NULL);
	CHECK(api_tokens_find(&t, "", 0) == NULL);
	api_tokens_clear(&t);
	CHECK_EQ(t.n, 0);
	CHECK(t.t == NULL);
	/* mode 0400 is fine too */
	snprintf(text, sizeof(text), "alice admin %s\n", A);
	CHECK_EQ(load(text, 0400, &t), DS_OK);
	CHECK_EQ(t.n, 1);
	api_tokens_clear(&t);
	chmod(path, 0600);
	CHECK(strcmp(api_role_str(API_ROLE_ADMIN), "admin") == 0);
	CHECK(strcmp(api_role_str(API_ROLE_READ), "read") == 0);
}

static void test_bad(void)
{
	struct api_tokens t = {0};
	char text[512];
	static const char *const lines[] = {
	    "alice admin",			  /* two fields */
	    "alice admin 0123456789abcdef extra", /* four fields */
	    "alice writer 0123456789abcdef",	  /* unknown role */
	    "alice admin 0123456789abcde",	  /* 15 characters */
	    "al/ice admin 0123456789abcdef",	  /* bad name */
	    "alice admin 0123456789abcdef\x7f",	  /* not printable */
	    "alice Admin 0123456789abcdef",	  /* roles are lower case */
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		snprintf(text, sizeof(text), "ok read %s\n%s\n", B, lines[i]);
		t = (struct api_tokens){.t = NULL, .n = 99};
		CHECK_EQ(load(text, 0600, &t), DS_ECONFIG);
		CHECK_EQ(t.n, 99); /* out untouched */
	}
	/* a token of 257 characters */
	char longtok[300];
	memset(longtok, 'x', 257);
	longtok[257] = '\0';
	snprintf(text, sizeof(text), "alice admin %s\n", longtok);
	CHECK_EQ(load(text, 0600, &t), DS_ECONFIG);
	/* duplicates: the same name, or the same token under two names */
	snprintf(text, sizeof(text), "alice admin %s\nalice read %s\n", A, B);
	CHECK_EQ(load(text, 0600, &t), DS_ECONFIG);
	snprintf(text, sizeof(text), "alice admin %s\nbob read %s\n", A, A);
	CHECK_EQ(load(text, 0600, &t), DS_ECONFIG);
	/* nothing but comments: no token is an error too */
	CHECK_EQ(load("# nobody\n\n", 0600, &t), DS_ECONFIG);
	/* group or others may read it */
	snprintf(text, sizeof(text), "alice admin %s\n", A);
	CHECK_EQ(load(text, 0640, &t), DS_ECONFIG);
	CHECK_EQ(load(text, 0604, &t), DS_ECONFIG);
	CHECK_EQ(load(text, 0660, &t), DS_ECONFIG);
	chmod(path, 0600);
	/* missing file, a folder */
	CHECK_EQ(api_tokens_load("/nonexistent/tokens", &t), DS_ECONFIG);
	CHECK_EQ(api_tokens_load(dir, &t), DS_ECONFIG);
}

/* Only the two probes are answered without a token. */
static void test_public_routes(void)
{
	int n = 0, probes = 0;
	for (const struct api_route *rt = api_routes; rt->fn != NULL; rt++) {
		if (rt->role != API_ROLE_NONE)
			continue;
		n++;
		probes += strcmp(rt->method, "GET") == 0 && (strcmp(rt->pattern, "/healthz") == 0 ||
							     strcmp(rt->pattern, "/readyz") == 0);
	}
	CHECK_EQ(n, 2);
	CHECK_EQ(probes, 2);
}

/* One probe answered: its status; *out the parsed JSON body (NULL when not JSON). */
static unsigned probe(struct api *a, api_handler fn, json_t **out)
{
	struct api_req q = {.a = a, .cfg = a->cfg};
	fn(&q);
	*out = q.out ? json_loadb(q.out, q.outlen, 0, NULL) : NULL;
	if (fn == api_healthz)
		CHECK(q.out != NULL && q.outlen == 3 && memcmp(q.out, "ok\n", 3) == 0);
	free(q.out);
	return q.status;
}

/* The line dsyncd_ready of /metrics ("" when it cannot be made). */
static const char *ready_metric(struct api *a, char *buf, size_t len)
{
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);
	buf[0] = '\0';
	if (f == NULL)
		return buf;
	CHECK_EQ(api_ready_metric(a, a->cfg, f), DS_OK);
	fclose(f);
	const char *l = text ? strstr(text, "\ndsyncd_ready ") : NULL;
	if (l != NULL)
		snprintf(buf, len, "%.*s", (int)strcspn(l + 1, "\n"), l + 1);
	free(text);
	return buf;
}

/* The reasons of a 503 joined by "|" into buf ("" when none). */
static const char *reasons(json_t *o, char *buf, size_t len)
{
	size_t i;
	json_t *v;
	buf[0] = '\0';
	json_array_foreach(json_object_get(o, "reasons"), i, v)
	{
		size_t n = strlen(buf);
		snprintf(buf + n, len - n, "%s%s", n ? "|" : "", json_string_value(v));
	}
	return buf;
}

static const char ready_conf[] = "store = { path = \"ready.db\"; };\n"
				 "log = { level = \"err\"; };\n"
				 "zones = ( { name = \"example.\";\n"
				 "  backends = ( { type = \"null\"; name = \"nb\"; } ); } );\n";

/* A backend whose oldest undelivered change is too old, then delivered. */
static void readyz_backend(struct api *a, struct cfg *c, struct store *s)
{
	json_t *o;
	char why[2048];
	int64_t chg;
	uint8_t child[DNAME_MAX];
	const char *nb = "nb";
	int64_t now = (int64_t)time(NULL);

	/* a change 400 s old for backend nb, which failed on it: over the 300 s */
	CHECK(dname_from_str("c.example.", child) > 0);
	CHECK_EQ(store_outbox_add(s, c->zones[0].name, child, "+ c.example. 60 IN NS ns.\n", &nb, 1,
				  now - 400, &chg),
		 DS_OK);
	CHECK_EQ(store_backend_result(s, c->zones[0].name, "nb", now - 10, "reload exited 1"),
		 DS_OK);
	CHECK_EQ(probe(a, api_readyz, &o), 503);
	CHECK(json_is_false(json_object_get(o, "ready")));
	reasons(o, why, sizeof(why));
	CHECK(strncmp(why, "backend example./nb: oldest undelivered change 4", 48) == 0);
	CHECK(strstr(why, "s old (limit 300 s), 1 pending") != NULL);
	CHECK(strstr(why, ": last error: reload exited 1") != NULL);
	CHECK(strchr(why, '|') == NULL); /* that one reason only */
	json_decref(o);
	CHECK(strcmp(ready_metric(a, why, sizeof(why)), "dsyncd_ready 0") == 0);
	/* a larger limit: ready again */
	c->api.ready_max_lag = 3600;
	CHECK_EQ(probe(a, api_readyz, &o), 200);
	json_decref(o);
	c->api.ready_max_lag = 300;
	/* delivered: ready */
	struct outbox_item *it = NULL;
	size_t n = 0;
	CHECK_EQ(store_outbox_due(s, now + 10, 10, &it, &n), DS_OK);
	CHECK_EQ(n, 1);
	if (n == 1)
		CHECK_EQ(store_delivery_done(s, it[0].delivery_id, now), DS_OK);
	store_outbox_items_free(it, n);
	CHECK_EQ(probe(a, api_readyz, &o), 200);
	json_decref(o);
	CHECK(strcmp(ready_metric(a, why, sizeof(why)), "dsyncd_ready 1") == 0);
}

/* The bootstrap queue at its cap. */
static void readyz_bootstrap(struct api *a, struct cfg *c, struct store *s)
{
	json_t *o;
	char why[2048];
	int64_t zid, cid;
	uint8_t child[DNAME_MAX];
	struct store_key k = {0};
	CHECK(dname_from_str("c.example.", child) > 0);
	CHECK_EQ(store_zone_ensure(s, c->zones[0].name, &zid), DS_OK);
	CHECK_EQ(store_child_ensure(s, zid, child, &cid), DS_OK);
	k.child_id = cid;
	k.alg = 15;
	k.rdlen = 36;
	k.rdata[2] = 3;
	k.rdata[3] = 15;
	k.state = KEY_VALIDATING;
	CHECK_EQ(store_key_upsert(s, &k), DS_OK);
	CHECK_EQ(store_validation_queue(s, k.id, (int64_t)time(NULL) + 3600), DS_OK);
	c->boot.max_pending_total = 1;
	CHECK_EQ(probe(a, api_readyz, &o), 503);
	CHECK(strcmp(reasons(o, why, sizeof(why)),
		     "bootstrap queue: 1 validations pending, at its cap "
		     "(bootstrap.max-pending-total 1): key uploads are refused") == 0);
	json_decref(o);
	c->boot.max_pending_total = 2;
	CHECK_EQ(probe(a, api_readyz, &o), 200);
	json_decref(o);
}

/* Another connection holds the write lock past the busy timeout (5 s). */
static void readyz_store(struct api *a)
{
	json_t *o;
	char why[2048];
	sqlite3 *db = NULL;
	char dbpath[400];
	snprintf(dbpath, sizeof(dbpath), "%s/ready.db", dir);
	CHECK_EQ(sqlite3_open(dbpath, &db), SQLITE_OK);
	CHECK_EQ(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	fprintf(stderr, "(a store busy error is expected next, after 5 s)\n");
	CHECK_EQ(probe(a, api_readyz, &o), 503);
	CHECK(strcmp(reasons(o, why, sizeof(why)),
		     "store: not writable: another writer held the lock past the busy "
		     "timeout") == 0);
	json_decref(o);
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db);
	CHECK_EQ(probe(a, api_readyz, &o), 200);
	json_decref(o);
}

/* What /readyz checks, each made to fail and then fixed. */
static void test_readyz(struct cfg *c, struct store *s)
{
	struct api a = {.cfg = c, .store = s};
	json_t *o;
	CHECK_EQ(probe(&a, api_healthz, &o), 200);
	CHECK(o == NULL); /* plain text */
	CHECK_EQ(probe(&a, api_readyz, &o), 200);
	CHECK(json_is_true(json_object_get(o, "ready")));
	CHECK_EQ(json_array_size(json_object_get(o, "checks")), 3); /* store, nb, bootstrap */
	CHECK(json_object_get(o, "reasons") == NULL);
	json_decref(o);
	readyz_backend(&a, c, s);
	readyz_bootstrap(&a, c, s);
	readyz_store(&a);
}

static void test_probes(void)
{
	char conf[400];
	struct cfg *c = NULL;
	struct store *s = NULL;
	snprintf(conf, sizeof(conf), "%s/dsyncd.conf", dir);
	FILE *f = fopen(conf, "w");
	if (f == NULL)
		return;
	fputs(ready_conf, f);
	fclose(f);
	backends_register();
	CHECK_EQ(cfg_load(conf, stderr, &c), DS_OK);
	if (c == NULL)
		return;
	CHECK_EQ(c->api.ready_max_lag, 300);
	CHECK_EQ(store_open(c->store_path, &s), DS_OK);
	if (s != NULL)
		test_readyz(c, s);
	store_close(s);
	cfg_free(c);
	char cmd[1000];
	snprintf(cmd, sizeof(cmd), "rm -f '%s'/ready.db* '%s'", dir, conf);
	if (system(cmd) != 0)
		fprintf(stderr, "could not clean %s\n", dir);
}

/* A name in wire form (one static buffer per call site is enough here). */
static const uint8_t *N(const char *text)
{
	static uint8_t buf[4][DNAME_MAX];
	static unsigned i;
	uint8_t *b = buf[i++ % 4];
	if (dname_from_str(text, b) < 0)
		abort();
	return b;
}

/* The configuration: zone example. (child cfg.example. listed) with two backends. */
static struct cfg *deleg_cfg(void)
{
	char cpath[300];
	struct cfg *c = NULL;
	snprintf(cpath, sizeof(cpath), "%s/dsyncd.conf", dir);
	FILE *f = fopen(cpath, "w");
	if (f == NULL)
		return NULL;
	fprintf(
	    f,
	    "server = { listen = [ \"127.0.0.1\" ]; };\n"
	    "store = { path = \":memory:\"; };\n"
	    "zones = ( { name = \"example.\"; children = ( { name = \"cfg.example.\"; } );\n"
	    "  backends = ( { type = \"null\"; }, { name = \"b2\"; type = \"null\"; } ); } );\n");
	fclose(f);
	backends_register();
	if (cfg_load(cpath, stderr, &c) != DS_OK)
		return NULL;
	unlink(cpath);
	return c;
}

static int64_t count(struct store *s, int (*fn)(struct store *, int64_t *))
{
	int64_t n = -1;
	return fn(s, &n) == DS_OK ? n : -1;
}

/* records of in for child name of cfg c: the result of deleg_op_records */
static int records(const struct cfg *c, const char *name, const struct deleg_input *in,
		   struct deleg_op *op, struct deleg *d)
{
	memset(op, 0, sizeof(*op));
	op->actor = "api:test";
	op->client = "local";
	op->request = "test";
	int rc = deleg_op_child(c, name, op);
	return rc == DS_OK ? deleg_op_records(in, op, d) : rc;
}

static void test_deleg_records(const struct cfg *c, struct deleg_op *op, struct deleg *d)
{
	const char *ns[] = {"ns1.new.example.", "ns2.provider.net", "ns2.provider.net."};
	const char *ds[] = {"12345 13 2 "
			    "ABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABAB",
			    "1 2 3", "12345 13 2 AB; comment"};
	const char *gn[] = {"ns1.new.example.", "ns1.new.example.", "x.other.net."};
	const char *ga[] = {"192.0.2.1", "2001:db8::1", "192.0.2.2"};
	struct deleg_input in = {
	    .ns = ns, .nns = 2, .ds = ds, .nds = 1, .glue_name = gn, .glue_addr = ga, .nglue = 2};
	CHECK_EQ(records(c, "new.example", &in, op, d), DS_OK);
	CHECK_EQ(d->n, 5);
	CHECK(d->n > 0 && d->rr[0].ttl == 3600 && dname_equal(op->zone->name, N("example.")));
	CHECK_EQ(records(c, "a.b.new.example.", &in, op, d), DS_EINVAL); /* glue not below it */
	CHECK(strstr(op->why, "not delegation data of a.b.new.example.") != NULL);
	in.nns = 3; /* the same NS twice */
	CHECK_EQ(records(c, "new.example.", &in, op, d), DS_EINVAL);
	CHECK(strstr(op->why, "given twice") != NULL);
	in.nns = 1; /* under min-ns */
	CHECK_EQ(records(c, "new.example.", &in, op, d), DS_EINVAL);
	CHECK(strstr(op->why, "the minimum is 2") != NULL);
	in.nns = 2;
	in.ds = ds + 1; /* malformed, a comment */
	CHECK_EQ(records(c, "new.example.", &in, op, d), DS_EINVAL);
	in.ds = ds + 2;
	CHECK_EQ(records(c, "new.example.", &in, op, d), DS_EINVAL);
	in.nds = 0;
	in.glue_name = gn + 2;
	in.glue_addr = ga + 2;
	in.nglue = 1; /* glue for no NS target */
	CHECK_EQ(records(c, "new.example.", &in, op, d), DS_EINVAL);
	in.nglue = 0; /* an NS target inside without glue */
	CHECK_EQ(records(c, "new.example.", &in, op, d), DS_EINVAL);
	CHECK(strstr(op->why, "needs glue") != NULL);
	const char *bad_addr[] = {"192.0.2.300"};
	in.glue_name = gn;
	in.glue_addr = bad_addr;
	in.nglue = 1;
	CHECK_EQ(records(c, "new.example.", &in, op, d), DS_EINVAL);
	CHECK(strstr(op->why, "is no IP address") != NULL);
	/* names */
	CHECK_EQ(records(c, "bad name.example.", &in, op, d), DS_EINVAL);
	CHECK_EQ(records(c, "-x.example.", &in, op, d), DS_EINVAL);
	CHECK_EQ(records(c, "example.", &in, op, d), DS_ENOENT); /* the apex is no child */
	CHECK_EQ(records(c, "x.example.net.", &in, op, d), DS_ENOENT);
	CHECK(strstr(op->why, "no configured zone") != NULL);
	/* no record at all: a child with no delegation yet */
	struct deleg_input none = {0};
	CHECK_EQ(records(c, "empty.example.", &none, op, d), DS_OK);
	CHECK_EQ(d->n, 0);
}

/* Create, refuse, delete with keys; each refusal leaves the counts as they were. */
static void test_deleg_ops(void)
{
	struct cfg *c = deleg_cfg();
	struct store *s = NULL;
	struct deleg_op *op = calloc(1, sizeof(*op));
	struct deleg *d = malloc(sizeof(*d)), *got = malloc(sizeof(*got));
	const char *ns[] = {"ns1.provider.net.", "ns2.provider.net."};
	struct deleg_input in = {.ns = ns, .nns = 2};
	int64_t zid, cid, kid;
	CHECK(c != NULL && op && d && got);
	if (c == NULL || !op || !d || !got || store_open(":memory:", &s) != DS_OK)
		goto out;
	test_deleg_records(c, op, d);

	CHECK_EQ(records(c, "new.example.", &in, op, d), DS_OK);
	CHECK_EQ(deleg_op_add(s, d, op), DS_OK);
	CHECK(op->change_id > 0 && strstr(op->changes, "+ new.example. 3600 IN NS") != NULL);
	CHECK_EQ(count(s, store_outbox_pending), 2); /* one delivery per backend */
	CHECK_EQ(count(s, store_audit_count), 1);
	CHECK_EQ(store_zone_find(s, N("example."), &zid), DS_OK);
	CHECK_EQ(store_child_find(s, zid, N("new.example."), &cid), DS_OK);
	CHECK_EQ(store_deleg_load(s, cid, got), DS_OK);
	CHECK_EQ(got->n, 2);
	/* again: 409, nothing changed */
	CHECK_EQ(records(c, "NEW.example.", &in, op, d), DS_OK);
	CHECK_EQ(deleg_op_add(s, d, op), DS_EEXIST);
	CHECK(strstr(op->why, "already") != NULL);
	CHECK_EQ(count(s, store_outbox_pending), 2);
	CHECK_EQ(count(s, store_audit_count), 1);

	/* a key of the child goes with it */
	struct store_key k = {.child_id = cid,
			      .alg = 15,
			      .tag = 1,
			      .rdlen = 8,
			      .state = KEY_TRUSTED,
			      .rdata = {2, 0, 3, 15, 1, 2, 3, 4}};
	CHECK_EQ(store_key_upsert(s, &k), DS_OK);
	kid = k.id;
	CHECK_EQ(store_validation_queue(s, kid, 10), DS_OK);
	CHECK_EQ(records(c, "new.example.", &in, op, d), DS_OK);
	CHECK_EQ(deleg_op_delete(s, op), DS_OK);
	CHECK_EQ(op->gone.n, 1);
	CHECK(op->gone.n == 1 && op->gone.k[0].id == kid && op->gone.k[0].state == KEY_REVOKED);
	CHECK(strstr(op->changes, "- new.example. 3600 IN NS ns1.provider.net.") != NULL);
	deleg_op_free(op);
	CHECK_EQ(store_key_get(s, kid, &k), DS_ENOENT);
	CHECK_EQ(count(s, store_validation_pending), 0);
	CHECK_EQ(store_child_find(s, zid, N("new.example."), &cid), DS_ENOENT);
	CHECK_EQ(count(s, store_outbox_pending), 4);
	CHECK_EQ(count(s, store_audit_count), 2);
	/* unknown now, listed in the configuration: refused, nothing changed */
	CHECK_EQ(records(c, "new.example.", &in, op, d), DS_OK);
	CHECK_EQ(deleg_op_delete(s, op), DS_ENOENT);
	CHECK_EQ(records(c, "cfg.example.", &in, op, d), DS_OK);
	CHECK_EQ(deleg_op_delete(s, op), DS_EINVAL);
	CHECK(strstr(op->why, "listed in the configuration") != NULL);
	CHECK_EQ(count(s, store_outbox_pending), 4);
	CHECK_EQ(count(s, store_audit_count), 2);
	/* an empty child: created and deleted without an outbox change */
	struct deleg_input none = {0};
	CHECK_EQ(records(c, "empty.example.", &none, op, d), DS_OK);
	CHECK_EQ(deleg_op_add(s, d, op), DS_OK);
	CHECK_EQ(op->change_id, 0);
	CHECK_EQ(deleg_op_delete(s, op), DS_OK);
	CHECK_EQ(op->change_id, 0);
	deleg_op_free(op);
	CHECK_EQ(count(s, store_outbox_pending), 4);
	CHECK_EQ(count(s, store_audit_count), 4);
out:
	store_close(s);
	cfg_free(c);
	free(op);
	free(d);
	free(got);
}

/* key_ref_parse: every accepted form, and what is not a key name. */
static void test_key_ref(void)
{
	struct key_ref r;
	char why[512];
	uint8_t n[DNAME_MAX];

	CHECK_EQ(key_ref_parse("17", &r, why, sizeof(why)), DS_OK);
	CHECK_EQ(r.id, 17);
	CHECK_EQ(key_ref_parse("child.example./12345", &r, why, sizeof(why)), DS_OK);
	CHECK_EQ(r.id, 0);
	CHECK_EQ(r.tag, 12345);
	CHECK_EQ(r.alg, -1);
	dname_from_str("child.example.", n);
	CHECK(dname_equal(r.child, n));
	/* no final dot, upper case: the same child */
	CHECK_EQ(key_ref_parse("CHILD.Example/7/15", &r, why, sizeof(why)), DS_OK);
	CHECK(dname_equal(r.child, n));
	CHECK_EQ(r.tag, 7);
	CHECK_EQ(r.alg, 15);
	/* a child whose name holds a '/' (RFC 2317) */
	CHECK_EQ(key_ref_parse("0/25.2.0.192.in-addr.arpa./300", &r, why, sizeof(why)), DS_OK);
	CHECK_EQ(r.tag, 300);
	CHECK_EQ(r.alg, -1);
	dname_from_str("0/25.2.0.192.in-addr.arpa.", n);
	CHECK(dname_equal(r.child, n));
	/* a last number above 255 is a tag, never an algorithm */
	CHECK_EQ(key_ref_parse("a.example./1/300", &r, why, sizeof(why)), DS_OK);
	CHECK_EQ(r.tag, 300);
	CHECK_EQ(r.alg, -1);
	static const char *const bad[] = {
	    "",	      "0",	  "abc",    "child.example.", "child.example./",
	    "/12345", "a./65536", "a./x12", "..bad/5",	      "-5",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		CHECK_EQ(key_ref_parse(bad[i], &r, why, sizeof(why)), DS_EINVAL);
		CHECK(why[0] != '\0');
	}
}

static const char key_conf[] =
    "store = { path = \":memory:\"; };\n"
    "log = { level = \"err\"; };\n"
    "zones = ( { name = \"example.\"; backends = ( { type = \"null\"; } ); },\n"
    "  { name = \"sub.example.\"; backends = ( { type = \"null\"; } ); } );\n";

/* A key of child cid: tag, algorithm, state as given, its bytes from fill. */
static int64_t put_key(struct store *s, int64_t cid, uint16_t tag, uint8_t alg, uint8_t fill,
		       enum key_state st)
{
	struct store_key k;
	memset(&k, 0, sizeof(k));
	k.child_id = cid;
	k.alg = alg;
	k.tag = tag;
	k.flags = 0x0200;
	k.rdata[0] = 0x02;
	k.rdata[2] = 3;
	k.rdata[3] = alg;
	memset(k.rdata + 4, fill, 32);
	k.rdlen = 36;
	k.state = st;
	return store_key_upsert(s, &k) == DS_OK ? k.id : -1;
}

/* key_lookup and key_name against a store: one answer, none, several. */
static void test_key_lookup(void)
{
	struct cfg *c = NULL;
	struct store *s = NULL;
	static struct store_key k;
	char why[1024], cp[300], name[300];
	int64_t zid, cid, a, b, d, x;
	uint8_t n[DNAME_MAX];

	snprintf(cp, sizeof(cp), "%s/keys.conf", dir);
	FILE *f = fopen(cp, "w");
	if (f == NULL)
		return;
	fputs(key_conf, f);
	fclose(f);
	CHECK_EQ(cfg_load(cp, stderr, &c), DS_OK);
	CHECK_EQ(store_open(":memory:", &s), DS_OK);
	if (c == NULL || s == NULL)
		goto out;
	dname_from_str("example.", n);
	CHECK_EQ(store_zone_ensure(s, n, &zid), DS_OK);
	dname_from_str("c.example.", n);
	CHECK_EQ(store_child_ensure(s, zid, n, &cid), DS_OK);
	a = put_key(s, cid, 100, 13, 1, KEY_KNOWN);
	b = put_key(s, cid, 200, 13, 2, KEY_TRUSTED);
	d = put_key(s, cid, 200, 15, 3, KEY_VALIDATION_FAILED);
	x = put_key(s, cid, 300, 15, 4, KEY_KNOWN);
	put_key(s, cid, 300, 15, 5, KEY_KNOWN); /* same tag and algorithm as x */

	CHECK_EQ(key_lookup(c, s, "c.example./100", &k, why, sizeof(why)), DS_OK);
	CHECK_EQ(k.id, a);
	CHECK_EQ(key_name(s, &k, name, sizeof(name)), DS_OK);
	CHECK(strcmp(name, "c.example./100") == 0);
	snprintf(cp, sizeof(cp), "%lld", (long long)b);
	CHECK_EQ(key_lookup(c, s, cp, &k, why, sizeof(why)), DS_OK);
	CHECK_EQ(k.id, b);
	CHECK_EQ(key_name(s, &k, name, sizeof(name)), DS_OK);
	CHECK(strcmp(name, "c.example./200/13") == 0); /* its tag is shared */
	CHECK_EQ(key_lookup(c, s, "C.EXAMPLE/200/15", &k, why, sizeof(why)), DS_OK);
	CHECK_EQ(k.id, d);
	/* ambiguous: the candidates, each with its algorithm, id and state */
	CHECK_EQ(key_lookup(c, s, "c.example./200", &k, why, sizeof(why)), DS_EEXIST);
	snprintf(cp, sizeof(cp),
		 "key name \"c.example./200\" fits 2 keys: c.example./200/13 (id %lld, trusted), "
		 "c.example./200/15 (id %lld, validation-failed); name one as CHILD/TAG/ALG or by "
		 "its id",
		 (long long)b, (long long)d);
	CHECK(strcmp(why, cp) == 0);
	/* same tag and algorithm: only the id tells them apart */
	CHECK_EQ(key_lookup(c, s, "c.example./300/15", &k, why, sizeof(why)), DS_EEXIST);
	CHECK(strstr(why, "fits 2 keys") != NULL);
	snprintf(cp, sizeof(cp), "%lld", (long long)x);
	CHECK_EQ(key_lookup(c, s, cp, &k, why, sizeof(why)), DS_OK);
	/* none: each name with its reason (the most specific configured zone is
	 * the child's parent: c.sub.example. belongs to sub.example.) */
	static const struct {
		const char *name, *why;
	} none[] = {
	    {"c.example./999", "c.example. has no key with tag 999"},
	    {"c.example./200/8", "c.example. has no key with tag 200 and algorithm 8"},
	    {"other.example./100", "other.example. is not a delegation of zone example."},
	    {"c.sub.example./100", "c.sub.example. is not a delegation of zone sub.example."},
	    {"c.example.net./100", "no configured zone is a parent of c.example.net."},
	    {"424242", "no key with id 424242"},
	};
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		CHECK_EQ(key_lookup(c, s, none[i].name, &k, why, sizeof(why)), DS_ENOENT);
		CHECK(strcmp(why, none[i].why) == 0);
	}
	CHECK_EQ(key_lookup(c, s, "nonsense", &k, why, sizeof(why)), DS_EINVAL);
out:
	store_close(s);
	cfg_free(c);
	unlink(cp);
}

/* ---- the web console's files (api/ui.c) ---- */

/* One console request: its status; *ctype its content type. */
static unsigned ui_get(struct api *a, const char *method, const char *url, const char **ctype,
		       size_t *len)
{
	struct api_req q = {.a = a, .cfg = a->cfg, .method = method};
	api_ui_serve(&q, url);
	CHECK(q.ui);
	*ctype = q.ctype;
	*len = q.outlen;
	if (q.status == 301)
		CHECK(q.location != NULL && strcmp(q.location, "/ui/") == 0);
	free(q.out);
	return q.status;
}

static void ui_write(const char *name, const char *text)
{
	char p[300];
	snprintf(p, sizeof(p), "%s/ui/%s", dir, name);
	FILE *f = fopen(p, "w");
	if (f != NULL) {
		fputs(text, f);
		fclose(f);
	}
}

static void test_ui(void)
{
	char uidir[64], p[128];
	const char *ct;
	size_t len;
	struct cfg c = {0};
	struct api a = {.cfg = &c};
	CHECK(api_ui_path("/ui") && api_ui_path("/ui/") && api_ui_path("/ui/app.js"));
	CHECK(!api_ui_path("/uix") && !api_ui_path("/api/v1/ui") && !api_ui_path("/"));
	snprintf(uidir, sizeof(uidir), "%s/ui", dir);
	c.api.ui_dir = uidir;
	/* no folder, then a folder without app.css: no console */
	CHECK(api_ui_load(uidir) == NULL);
	CHECK_EQ(mkdir(uidir, 0755), 0);
	ui_write("index.html", "<!DOCTYPE html>\n");
	ui_write("app.js", "start();\n");
	CHECK(api_ui_load(uidir) == NULL);
	pthread_mutex_init(&a.mu, NULL);
	CHECK_EQ(ui_get(&a, "GET", "/ui/", &ct, &len), 404);
	ui_write("app.css", "body {}\n");
	a.ui = api_ui_load(uidir);
	CHECK(a.ui != NULL);
	CHECK_EQ(ui_get(&a, "GET", "/ui/", &ct, &len), 200);
	CHECK(len == 16 && strcmp(ct, "text/html; charset=utf-8") == 0);
	CHECK_EQ(ui_get(&a, "GET", "/ui/index.html", &ct, &len), 200);
	CHECK_EQ(ui_get(&a, "HEAD", "/ui/app.js", &ct, &len), 200);
	CHECK(len == 9 && strcmp(ct, "text/javascript; charset=utf-8") == 0);
	CHECK_EQ(ui_get(&a, "GET", "/ui/app.css", &ct, &len), 200);
	CHECK(strcmp(ct, "text/css; charset=utf-8") == 0);
	CHECK_EQ(ui_get(&a, "GET", "/ui", &ct, &len), 301);
	/* only the known files: no path is made from the URL */
	static const char *const bad[] = {"/ui/x.js",	 "/ui/app.js/", "/ui/../ui/app.js",
					  "/ui//app.js", "/ui/APP.JS",	"/ui/app.js%00"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_EQ(ui_get(&a, "GET", bad[i], &ct, &len), 404);
	CHECK_EQ(ui_get(&a, "POST", "/ui/", &ct, &len), 405);
	CHECK_EQ(ui_get(&a, "DELETE", "/ui/app.js", &ct, &len), 405);
	api_ui_free(a.ui);
	pthread_mutex_destroy(&a.mu);
	static const char *const files[] = {"index.html", "app.js", "app.css"};
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/%s", uidir, files[i]);
		unlink(p);
	}
	rmdir(uidir);
}

int main(void)
{
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/tokens", dir);
	backends_register();
	log_init("test_api", false, LOG_WARNING);
	test_good();
	test_bad();
	test_public_routes();
	test_probes();
	test_deleg_ops();
	test_key_ref();
	test_key_lookup();
	test_ui();
	unlink(path);
	rmdir(dir);
	UNIT_DONE("test_api");
}

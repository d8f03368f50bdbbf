/*
 * tests/unit/test_api.c -- the admin API's tokens file: what is accepted
 * (comments, blank lines, CRLF), every refusal (fields, role, length,
 * characters, duplicates, mode, no token at all), and the lookup by token;
 * which routes need no token; the probes' answers (/healthz, /readyz) from
 * a real store.  The HTTP side is tested against the running daemon
 * (tests/integration/15-api.sh, 32-health.sh).
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

int main(void)
{
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/tokens", dir);
	test_good();
	test_bad();
	test_public_routes();
	test_probes();
	unlink(path);
	rmdir(dir);
	UNIT_DONE("test_api");
}
